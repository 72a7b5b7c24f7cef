"""Hard-cut detection: exact frames on generated footage, ±1 on real footage, no false cuts."""

from __future__ import annotations

from fractions import Fraction
from pathlib import Path

import numpy as np
import pytest

from curator.core.media.scenes import (
    CutDetector,
    SceneSettings,
    SmallFrame,
    detect_cuts,
    iter_scenes,
    work_height,
)
from tests.media_factory import Segment, make_video

SIZE = (160, 90)


@pytest.fixture(scope="session")
def scene_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("scenes")


@pytest.mark.parametrize(("name", "segments", "fps"), [
    ("colours", [Segment("color", 20, seed=1), Segment("color", 15, seed=2),
                 Segment("color", 25, seed=3)], 24),
    ("textures", [Segment("texture", 30, seed=4), Segment("texture", 22, seed=5),
                  Segment("bars", 18, seed=6), Segment("noise", 20, seed=7)], 24),
    ("into and out of motion", [Segment("color", 16, seed=8), Segment("fast", 24, seed=9),
                                Segment("fast", 20, seed=10), Segment("texture", 16, seed=11)], 30),
    ("ntsc", [Segment("bars", 25, seed=12), Segment("texture", 25, seed=13)],
     Fraction(24000, 1001)),
])
def test_generated_cuts_are_found_at_the_exact_frame(scene_dir, name, segments, fps) -> None:
    video = make_video(scene_dir / f"{name.replace(' ', '_')}.mp4", segments, fps=fps, size=SIZE)
    assert detect_cuts(video.path) == list(video.cuts)


def test_cuts_in_avi_mpeg4(scene_dir) -> None:
    video = make_video(scene_dir / "cuts.avi", [Segment("texture", 20, seed=21),
                                               Segment("bars", 20, seed=22),
                                               Segment("color", 20, seed=23)], size=SIZE)
    assert detect_cuts(video.path) == list(video.cuts)


def test_flashes_are_not_cuts(scene_dir) -> None:
    video = make_video(scene_dir / "flashes.mp4", [
        Segment("texture", 40, seed=31, flashes=(10,), flash_len=1),
        Segment("bars", 40, seed=32, flashes=(12, 25), flash_len=3),
        Segment("fast", 30, seed=33, flashes=(14,), flash_len=2),
    ], size=SIZE)
    assert detect_cuts(video.path) == [40, 80]


def test_fast_motion_and_whip_pans_are_not_cuts(scene_dir) -> None:
    video = make_video(scene_dir / "motion.mp4", [
        Segment("fast", 40, seed=41),
        Segment("whip", 40, seed=42),
        Segment("fast", 40, seed=43, speed=SIZE[0] / 4),
    ], size=SIZE)
    assert detect_cuts(video.path) == [40, 80]


def test_min_scene_length_drops_cuts_too_close(scene_dir) -> None:
    segments = [Segment("texture", 20, seed=51), Segment("color", 5, seed=52),
                Segment("bars", 20, seed=53)]
    video = make_video(scene_dir / "short.mp4", segments, size=SIZE)
    assert detect_cuts(video.path, settings=SceneSettings(min_scene_frames=4)) == [20, 25]
    # the 5-frame shot is shorter than 8: its end is not a cut (as PySceneDetect's min_scene_len)
    assert detect_cuts(video.path, settings=SceneSettings(min_scene_frames=8)) == [20]
    # nor a cut closer than the minimum to frame 0 (20 < 21) or to the end (45 - 25 < 21)
    assert detect_cuts(video.path, settings=SceneSettings(min_scene_frames=21)) == []
    assert detect_cuts(video.path, settings=SceneSettings(min_scene_frames=20)) == [20]


def test_detect_cuts_on_a_range_reports_source_frames(scene_dir) -> None:
    video = make_video(scene_dir / "range.mp4", [Segment("texture", 30, seed=61),
                                                Segment("bars", 30, seed=62),
                                                Segment("color", 30, seed=63)], size=SIZE, gop=10)
    assert detect_cuts(video.path, start=10, end=70) == [30, 60]
    assert detect_cuts(video.path, start=35, end=59) == []


def test_megamind_cuts_within_one_frame(shared_media: Path) -> None:
    # ../shared/media/README.md: hard cuts at about 99, 155, 201 (±1); a flash near frame 1
    cuts = detect_cuts(shared_media / "Megamind.avi")
    assert len(cuts) == 3
    for found, expected in zip(cuts, (99, 155, 201)):
        assert abs(found - expected) <= 1


@pytest.mark.parametrize("name", ["vtest.avi", "tree.avi", "motion.mov", "hug_movie.mp4",
                                  "birds.mp4"])
def test_one_shot_real_footage_has_no_cut(shared_media: Path, name: str) -> None:
    assert detect_cuts(shared_media / name) == []


def test_detector_is_fed_in_order() -> None:
    work = np.full((work_height(160, 90) * 3 // 2, 256), 128, np.uint8)
    detector = CutDetector()
    detector.feed(0, SmallFrame.from_work(work, work_height(160, 90)))
    with pytest.raises(ValueError, match="in order"):
        detector.feed(2, SmallFrame.from_work(work, work_height(160, 90)))


def test_iter_scenes_covers_the_source() -> None:
    assert list(iter_scenes([10, 25], 40)) == [(0, 10), (10, 25), (25, 40)]
    assert list(iter_scenes([], 7)) == [(0, 7)]
    assert list(iter_scenes([0, 7], 7)) == [(0, 7)]


def test_flash_right_before_a_cut_puts_the_cut_after_the_flash(scene_dir) -> None:
    video = make_video(scene_dir / "flash_then_cut.mp4", [
        Segment("bars", 20, seed=71, flashes=(17,), flash_len=3),
        Segment("texture", 20, seed=72),
    ], size=SIZE)
    assert detect_cuts(video.path) == [20]


def test_short_flat_shot_between_two_shots_is_kept(scene_dir) -> None:
    video = make_video(scene_dir / "flat_insert.mp4", [
        Segment("texture", 20, seed=81), Segment("color", 6, seed=82), Segment("bars", 20, seed=83),
    ], size=SIZE)
    assert detect_cuts(video.path, settings=SceneSettings(min_scene_frames=4)) == [20, 26]


def test_a_busy_pass_keeps_only_recent_reasons_but_every_flash(scene_dir) -> None:
    # fast motion makes nearly every frame a candidate that is turned down; a long film of it
    # must not grow the detector (the shot engine copies a live detector once per clip)
    from curator.core.media.frames import iter_raw_frames

    video = make_video(scene_dir / "busy_flashes.mp4", [
        Segment("fast", 90, seed=41, flashes=(20, 60), flash_len=1)], size=SIZE)
    detector = CutDetector(SceneSettings())
    h = work_height(*SIZE)
    turned_down = set()
    for index, frame in iter_raw_frames(video.path, 0, None):
        work = frame.reformat(width=256, height=h, format="yuv420p").to_ndarray()
        detector.feed(index, SmallFrame.from_work(work, h))
        turned_down.update(detector.rejected)
        assert len(detector.rejected) <= detector._frames.maxlen + 1
    assert detector.finish() == []
    assert len(turned_down) > 40  # the motion was looked at, frame after frame
    assert [f for f in detector.flashes if abs(f - 20) <= 1 or abs(f - 60) <= 1]


def test_the_motion_residuals_quantile_is_numpys_to_the_bit() -> None:
    from curator.core.media.scenes import _quantile_40

    # numpy's float32 arithmetic here changed between releases (1.26 answered in float64):
    # the bit-for-bit comparison holds against the numpy the engine was tuned with
    numpy_as_tuned = tuple(int(p) for p in np.__version__.split(".")[:2]) >= (2, 4)
    rng = np.random.default_rng(7)
    for _ in range(3000):
        values = (rng.random(int(rng.integers(1, 500))) * rng.choice([1.0, 60.0, 255.0]))
        values = values.astype(np.float32)
        if rng.random() < 0.3:
            values = np.round(values)  # ties, as block means of flat pictures give
        got = _quantile_40(values)
        ranked = np.sort(values)
        low = int((len(values) - 1) * 0.4)
        assert ranked[low] <= got <= ranked[min(low + 1, len(values) - 1)]
        if numpy_as_tuned:
            assert got == float(np.quantile(values, 0.4))
    assert _quantile_40(np.array([5.0, 1.0, 3.0, 2.0, 4.0, 0.0], np.float32)) == 2.0  # rank 2
