"""The preview: frame-exact stepping, the training fps, looping play, and the trainer view.

Pictures on screen are compared with `read_frame` at the same size: the preview must show
exactly the frame its counter names. The trainer view's helpers are checked without widgets.
"""

from __future__ import annotations

from fractions import Fraction
from pathlib import Path

import numpy as np
import pytest
from PySide6.QtCore import Qt
from PySide6.QtGui import QImage
from pytestqt.qtbot import QtBot

from curator.core.catalog import ClipRow
from curator.core.export.extraction import loaded_frame_count
from curator.core.export.plan import DEFAULT_PRESET, load_preset, load_plan
from curator.core.media.frames import read_frame, resample_indices
from curator.core.project import Project
from curator.gui.panels.preview_panel import PreviewPanel, decode_width
from curator.gui.trainer_view import (
    bucket_geometry,
    musubi_kept_indices,
    playback_frames,
    position_of,
    trainer_frames,
    video_sections,
)
from tests.gui_fixtures import (  # noqa: F401 - fixtures
    filled_catalog_file,
    filled_project,
    no_dangling_qthreads,
    synthetic_films,
)


def as_array(image: QImage) -> np.ndarray:
    image = image.convertToFormat(QImage.Format.Format_RGB888)
    h, w, stride = image.height(), image.width(), image.bytesPerLine()
    data = np.frombuffer(image.constBits(), np.uint8, count=h * stride).reshape(h, stride)
    return data[:, :w * 3].reshape(h, w, 3).copy()


def clip_of(project: Project, name: str, start: int) -> ClipRow:
    return next(c for c in project.catalog.list_clips()
                if c.source_path.name == name and c.start_frame == start)


@pytest.fixture
def preview(qtbot: QtBot, filled_project: Project):  # noqa: ANN201 - yields the widget
    panel = PreviewPanel(filled_project.catalog, filled_project)
    qtbot.addWidget(panel)  # closed at the end: closeEvent stops the decoder thread
    panel.resize(480, 360)
    panel.show()
    qtbot.waitExposed(panel)
    yield panel
    panel.shutdown()
    assert not panel.decoder.is_running()


def wait_shown(qtbot: QtBot, panel: PreviewPanel, frame: int) -> np.ndarray:
    qtbot.waitUntil(lambda: panel.displayed_frame() == frame, timeout=5000)
    return as_array(panel.displayed_image())


def expected(panel: PreviewPanel, frame: int) -> np.ndarray:
    spec = panel.decoder.spec
    array = read_frame(panel.clip().source_path, frame, width=spec.width, height=spec.height)
    if spec.crop:
        x, y, w, h = spec.crop
        array = array[y:y + h, x:x + w]
    return array


def test_steps_one_frame_at_a_time_exactly(qtbot: QtBot, preview: PreviewPanel,
                                           filled_project: Project) -> None:
    clip = clip_of(filled_project, "night.mp4", 60)  # [60, 86): past the seek threshold
    changed: list[int] = []
    preview.frame_changed.connect(changed.append)
    preview.show_clip(clip)
    first = wait_shown(qtbot, preview, 60)
    assert np.array_equal(first, expected(preview, 60))
    assert preview.counter_text().startswith("1 / 26 · src 60")
    preview.setFocus()
    for n, key in enumerate((Qt.Key.Key_Right, Qt.Key.Key_Period, Qt.Key.Key_Right), start=1):
        qtbot.keyClick(preview, key)
        shown = wait_shown(qtbot, preview, 60 + n)
        assert np.array_equal(shown, expected(preview, 60 + n))
        assert preview.current_frame() == 60 + n
        assert preview.counter_text().startswith(f"{n + 1} / 26 · src {60 + n}")
    qtbot.keyClick(preview, Qt.Key.Key_Left)
    assert np.array_equal(wait_shown(qtbot, preview, 62), expected(preview, 62))
    # neighbouring frames differ (the scene moves), so equality above is not a coincidence
    assert not np.array_equal(expected(preview, 62), expected(preview, 63))
    qtbot.keyClick(preview, Qt.Key.Key_End)
    assert np.array_equal(wait_shown(qtbot, preview, 85), expected(preview, 85))
    preview.step(1)  # no wrap when stepping
    assert preview.current_frame() == 85
    qtbot.keyClick(preview, Qt.Key.Key_Home)
    wait_shown(qtbot, preview, 60)
    assert changed == [60, 61, 62, 63, 62, 85, 60]  # showing the clip puts the playhead on 60


def test_steps_backwards_from_the_start_of_a_file(qtbot: QtBot, preview: PreviewPanel,
                                                  filled_project: Project) -> None:
    clip = clip_of(filled_project, "rain.mp4", 30)  # [30, 54): decoded from the file's start
    preview.show_clip(clip)
    wait_shown(qtbot, preview, 30)
    preview.seek_frame(45)
    assert np.array_equal(wait_shown(qtbot, preview, 45), expected(preview, 45))
    for frame in range(44, 38, -1):
        preview.step(-1)
        assert np.array_equal(wait_shown(qtbot, preview, frame), expected(preview, frame))
    # the frames around the playhead were decoded ahead, so stepping back is served from cache
    assert {36, 37, 38} <= set(preview.decoder.cached_frames())


def test_training_fps_plays_the_frames_a_16fps_export_keeps(qtbot: QtBot, preview: PreviewPanel,
                                                            filled_project: Project) -> None:
    clip = clip_of(filled_project, "night.mp4", 20)  # [20, 60) at 24 fps
    preview.show_clip(clip)
    wait_shown(qtbot, preview, 20)
    preview.set_fps_mode("training")
    wanted = [20 + i for i in resample_indices(40, Fraction(24), 16.0)]
    assert preview.sequence() == wanted and len(wanted) == 27
    assert preview.playback_fps() == 16.0
    for position in (1, 2, 3):
        preview.step(1)
        frame = wanted[position]
        assert np.array_equal(wait_shown(qtbot, preview, frame), expected(preview, frame))
    assert "@16" in preview.counter_text()
    preview.set_fps_mode("source")  # the playhead stays on the frame it showed
    assert preview.current_frame() == wanted[3]
    assert preview.playback_fps() == 24.0


def test_play_loops_through_the_range_without_skipping(qtbot: QtBot, preview: PreviewPanel,
                                                       filled_project: Project) -> None:
    clip = clip_of(filled_project, "rain.mp4", 54)  # [54, 72): 18 frames, 0.75 s
    preview.show_clip(clip)
    wait_shown(qtbot, preview, 54)
    played: list[int] = []
    preview.frame_changed.connect(played.append)
    preview.toggle_play()
    assert preview.is_playing()
    qtbot.waitUntil(lambda: played.count(54) >= 1 and len(played) >= 22, timeout=8000)
    preview.toggle_play()
    assert not preview.is_playing()
    # every frame in order, then back to the start: a loop, no frame skipped
    expected_order = [54 + (i + 1) % 18 for i in range(len(played))]
    assert played == expected_order


def test_trainer_view_shows_the_bucket_and_the_windows(qtbot: QtBot, preview: PreviewPanel,
                                                       filled_project: Project) -> None:
    clip = clip_of(filled_project, "night.mp4", 20)  # 40 frames at 24 fps: 27 at 16 fps
    preview.show_clip(clip)
    wait_shown(qtbot, preview, 20)
    preview.set_trainer_view(True)
    preview.select_section("clips_768x416")
    t = preview.trainer_frames()
    plan = load_preset(DEFAULT_PRESET)
    section = next(s for s in video_sections(plan) if s.name == "clips_768x416")
    assert t == trainer_frames(clip, plan, section)
    assert t.windows == ((0, 1), (0, 21))
    assert preview.timeline.windows() == t.windows
    assert preview.sequence() == list(t.source_frames)
    image = wait_shown(qtbot, preview, 20)
    assert image.shape[:2] == (t.bucket[1], t.bucket[0])
    assert np.array_equal(image, expected(preview, 20))
    preview.step(1)
    assert np.array_equal(wait_shown(qtbot, preview, t.source_frames[1]),
                          expected(preview, t.source_frames[1]))
    assert t.summary() in preview.trainer_info.text()

    preview.select_section("clips_384x208")  # uniform [45] × 2: the clip is too short
    t = preview.trainer_frames()
    assert t.windows == () and "gives nothing" in t.summary()
    preview.set_trainer_view(False)
    assert preview.trainer_frames() is None and preview.timeline.windows() == ()


def test_switching_clips_quickly_shows_the_last_one(qtbot: QtBot, preview: PreviewPanel,
                                                   filled_project: Project) -> None:
    clips = filled_project.catalog.list_clips()
    for clip in clips:  # as fast as holding J down: each one interrupts the one before
        preview.show_clip(clip)
    last = clips[-1]
    assert np.array_equal(wait_shown(qtbot, preview, last.start_frame),
                          expected(preview, last.start_frame))
    assert preview.clip() == last
    preview.show_clip(None)
    assert preview.displayed_frame() is None and preview.counter_text() == "—"


def test_a_missing_file_is_said_not_crashed(qtbot: QtBot, preview: PreviewPanel,
                                            filled_project: Project, tmp_path: Path) -> None:
    from dataclasses import replace

    clip = replace(filled_project.catalog.list_clips()[0], id=999,
                   source_path=tmp_path / "gone.mp4")
    preview.show_clip(clip)
    qtbot.waitUntil(lambda: "file not found" in preview.view.message(), timeout=5000)
    assert preview.displayed_frame() is None
    preview.toggle_play()  # nothing to play: stays paused, no error
    assert not preview.is_playing()


# --- pure helpers, no widgets -------------------------------------------------------------

def _clip(width: int, height: int, frames: int, fps: Fraction = Fraction(24),
          start: int = 100) -> ClipRow:
    return ClipRow(id=1, source_id=1, source_path=Path("/footage/film.mkv"), source_hash="h",
                   start_frame=start, end_frame=start + frames, fps=fps, width=width,
                   height=height, decision="accepted", reason=None, decided_by=None,
                   caption="c", caption_origin="manual", caption_is_manual=True, motion=None,
                   cuts=None, analysis=None, parent_id=None, tags=())


def test_trainer_frames_for_a_1920x1040_clip() -> None:
    plan = load_preset(DEFAULT_PRESET)
    sections = {s.name: s for s in video_sections(plan)}
    clip = _clip(1920, 1040, 120)  # 5 s at 24 fps: 80 frames at 16 fps
    small = trainer_frames(clip, plan, sections["clips_384x208"])
    assert small.bucket == (384, 208)
    assert small.geometry.size == (768, 416)  # the export is scaled for the larger section
    assert small.geometry.cover == (384, 208) and small.geometry.offset == (0, 0)
    assert small.source_frames == tuple(100 + i for i in resample_indices(120, 24, 16.0))
    n = len(small.source_frames)
    assert n == 80
    starts = np.linspace(0, n - 45, 2, dtype=int)
    assert small.windows == tuple((int(s), 45) for s in starts) == ((0, 45), (35, 45))
    head = trainer_frames(clip, plan, sections["clips_768x416"])
    assert head.bucket == (768, 416)
    assert head.windows == ((0, 1), (0, 21)) and head.loaded == 21
    # a clip of exactly 45 frames at 16 fps: both uniform windows start at 0, one cache file
    exact = trainer_frames(_clip(1920, 1040, 68), plan, sections["clips_384x208"])
    assert len(exact.source_frames) == 45 and exact.windows == ((0, 45),)
    assert exact.duplicates == 1


def test_bucket_geometry_crops_the_centre() -> None:
    g = bucket_geometry((1920, 1080), (384, 208))  # 16:9 into a 384×208 bucket
    assert g.bucket == (384, 208)
    assert g.cover == (384, 216) and g.offset == (0, 4)
    x, y, w, h = g.crop_in_source((1920, 1080))
    assert (x, y, w, h) == (0.0, 20.0, 1920.0, 1040.0)


def test_source_fps_plan_uses_musubis_own_frame_dropping(tmp_path: Path) -> None:
    for frames in (1, 2, 30, 45, 88, 241):
        for src in (30.0, 24.0, 25.0, 8.0):
            for end in (None, 21, 45):
                kept = musubi_kept_indices(frames, src, 16.0, end)
                assert len(kept) == loaded_frame_count(frames, source_fps=src, target_fps=16.0,
                                                       end_frame=end)
                assert kept == sorted(set(kept))
    plan_file = tmp_path / "plan.toml"
    plan_file.write_text('name = "src"\nfps = "source"\n[[sections]]\nname = "v"\n'
                         'kind = "videos"\nresolution = [384, 208]\nframe_extraction = "head"\n'
                         'target_frames = [1, 21]\n')
    plan = load_plan(plan_file)
    clip = _clip(1920, 1040, 60, fps=Fraction(30))
    t = trainer_frames(clip, plan, plan.sections[0])
    assert t.fps == 16.0
    assert list(t.source_frames) == [100 + i for i in musubi_kept_indices(60, 30.0, 16.0)]
    assert t.loaded == 21 and t.windows == ((0, 1), (0, 21))


def test_playback_helpers() -> None:
    assert playback_frames(10, 14, Fraction(24)) == [10, 11, 12, 13]
    assert playback_frames(0, 48, Fraction(24), 16.0) == resample_indices(48, 24, 16.0)
    seq = [0, 1, 3, 4, 6]
    assert [position_of(seq, f) for f in (0, 2, 3, 5, 9)] == [0, 1, 2, 3, 4]
    assert decode_width(480, 300, (1920, 1080)) == 512  # fits 480 wide, rounded up to 64s
    assert decode_width(4000, 3000, (1920, 1080)) is None  # the view is bigger: native size


def test_transitions_are_drawn_on_the_timeline_and_a_key_jumps_to_the_next(
        qtbot: QtBot, preview: PreviewPanel, filled_project: Project) -> None:
    clip = clip_of(filled_project, "night.mp4", 60)  # [60, 86)
    analysis = {"range": [60, 86], "cut_frames": [70],
                "transitions": [{"kind": "dissolve", "start": 74, "end": 80},
                                {"kind": "fade_out", "start": 84, "end": 86}]}
    filled_project.catalog.save_analysis(clip.id, analysis, motion=1.0, cuts=2)
    clip = filled_project.catalog.get_clip(clip.id)
    preview.show_clip(clip)
    wait_shown(qtbot, preview, 60)
    # the edge fade is a trim suggestion, not a boundary
    assert preview.timeline.transitions() == ((10, 10), (14, 20))
    preview.setFocus()
    qtbot.keyClick(preview, Qt.Key.Key_BracketRight)
    assert preview.current_frame() == 70
    qtbot.keyClick(preview, Qt.Key.Key_BracketRight)
    assert preview.current_frame() == 74
    qtbot.keyClick(preview, Qt.Key.Key_BracketRight)  # past the last: back to the first
    assert preview.current_frame() == 70
    # the timeline paints a red band where the dissolve is
    timeline = preview.timeline
    image = QImage(timeline.size(), QImage.Format.Format_RGB888)
    timeline.render(image)
    x = int(timeline._x(17))  # noqa: SLF001 - the position the band is drawn at
    r, g, b = as_array(image)[8, x]
    assert r > 200 and g < 120 and b < 120
