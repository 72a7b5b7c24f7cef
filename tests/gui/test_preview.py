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
from PySide6.QtGui import QColor, QImage
from pytestqt.qtbot import QtBot

from curator.core.catalog import ClipRow
from curator.core.export.plan import DEFAULT_PRESET, load_preset
from curator.core.export.trainer_frames import (
    trainer_frames,
    video_sections,
)
from curator.core.media.frames import read_frame, resample_indices
from curator.core.project import Project
from curator.gui.panels.frame_view import decode_width
from curator.gui.panels.preview_panel import PreviewPanel


def as_array(image: QImage) -> np.ndarray:
    image = image.convertToFormat(QImage.Format.Format_RGB888)
    h, w, stride = image.height(), image.width(), image.bytesPerLine()
    data = np.frombuffer(image.constBits(), np.uint8, count=h * stride).reshape(h, stride)
    return data[:, :w * 3].reshape(h, w, 3).copy()


def clip_of(project: Project, name: str, start: int) -> ClipRow:
    return next(c for c in project.catalog.list_clips()
                if c.source_path.name == name and c.start_frame == start)


@pytest.fixture
def preview(qtbot: QtBot, filled_project: Project):
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


def test_decode_width() -> None:
    assert decode_width(480, 300, (1920, 1080)) == 512  # fits 480 wide, rounded up to 64s
    assert decode_width(4000, 3000, (1920, 1080)) is None  # the view is bigger: native size


def test_text_boxes_and_the_export_crop_are_drawn_and_the_crop_is_changed_in_the_window(
        qtbot: QtBot, preview: PreviewPanel, filled_project: Project) -> None:
    from curator.gui.panels.clip_overlay import overlay_shapes

    catalog = filled_project.catalog
    clip = catalog.list_clips()[0]
    w, h = clip.width, clip.height
    bar = h // 8 - (h // 8) % 2  # even, as the bar measure gives
    bars = [0, bar, w, h - 2 * bar]
    catalog.save_analysis(clip.id, {"borders": {"crop": bars}, "text": {
        "kind": "subtitles", "boxes": [[w // 4, h * 3 // 4, w // 2, h // 10]],
        "strings": ["hello"]}, "text_share": 1.0}, motion=1.0, cuts=0)
    clip = catalog.get_clip(clip.id)
    preview.show_clip(clip)
    assert [s.kind for s in overlay_shapes(clip)] == ["text", "crop"]
    assert "letterbox" in preview.crop_bar.label.text() and "subtitles" in \
        preview.crop_bar.label.text()
    qtbot.waitUntil(lambda: preview.displayed_frame() is not None, timeout=5000)
    picture = preview.view.grab().toImage()
    target = preview.view.picture_rect()
    ratio = picture.width() / preview.view.width()
    top = QColor(picture.pixel(int(target.center().x() * ratio), int((target.top() + 2) * ratio)))
    shown = preview.displayed_image()
    raw = QColor(shown.pixel(shown.width() // 2, 1))
    assert top.value() < raw.value() or raw.value() < 20  # the bars are shaded as cut away

    preview.crop_bar.none_button.click()  # "Whole": export the whole frame
    assert catalog.get_clip(clip.id).crop == ()
    assert "whole frame" in preview.crop_bar.label.text()
    assert [s.kind for s in overlay_shapes(preview.clip())] == ["text"]
    for spin, value in zip(preview.crop_bar.spins, (2, 4, w // 2, h // 2), strict=True):
        spin.setValue(value)
    preview.crop_bar.set_button.click()
    assert catalog.get_clip(clip.id).crop == (2, 4, w // 2, h // 2)
    assert "set by hand" in preview.crop_bar.label.text()
    preview.crop_bar.auto_button.click()
    assert catalog.get_clip(clip.id).crop is None
    assert preview.clip().export_crop == tuple(bars)


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
    x = int(timeline._x(17))
    r, g, b = as_array(image)[8, x]
    assert r > 200 and g < 120 and b < 120
