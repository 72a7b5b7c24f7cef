"""FrameAnalyzer on footage of known truth: motion ranking, cuts, dissolves, fades, borders."""

from __future__ import annotations

from pathlib import Path

import imagehash
import numpy as np
import pytest
from PIL import Image

from curator.core.analysis import (
    DEFAULT_DYNAMIC_ABOVE,
    DEFAULT_FLICKER_ABOVE,
    DEFAULT_STATIC_BELOW,
    FrameAnalyzer,
    frame_hash,
    make_frame_analyzer,
)
from curator.core.media import iter_frames, probe
from tests import analysis_fixtures as af
from tests.media_factory import Segment, make_video


def analyse(path: Path, start: int = 0, end: int | None = None, *, feed_from: int | None = None,
            feed_to: int | None = None) -> dict:
    """Feed frames [feed_from, feed_to) of a file to a fresh analyzer; analyse [start, end)."""
    info = probe(path)
    end = info.frame_count if end is None else end
    analyzer = make_frame_analyzer(info)
    lo = start if feed_from is None else feed_from
    hi = end if feed_to is None else feed_to
    for index, gray in iter_frames(path, lo, hi, width=256, fmt="gray"):
        analyzer.feed(index, gray)
    return analyzer.finish_clip(start, end)


@pytest.fixture(scope="session")
def footage(tmp_path_factory: pytest.TempPathFactory) -> dict[str, af.Footage]:
    folder = tmp_path_factory.getbasetemp() / "analysis-footage"
    folder.mkdir(exist_ok=True)
    return {
        "frozen": af.frozen(folder),
        "slow": af.pan(folder, "slow", 1.0),
        "medium": af.pan(folder, "medium", 4.0),
        "fast": af.pan(folder, "fast", 14.0),
        "strobe": af.strobe(folder),
        "cut": af.hard_cut(folder),
        "dissolve": af.crossfade(folder),
        "fade": af.fade_through_black(folder),
        "letterbox": af.letterboxed(folder),
        "boxed": af.letterboxed(folder, bar=22, pillar=30),
        # 2.39:1 in 1080p: the bar edge falls inside a pixel row of the 256-px copy (138 / 7.5).
        "scope": af.letterboxed(folder, bar=138, frames=8, size=(1920, 1080)),
        "flashes": af.flashes(folder),
    }


@pytest.fixture(scope="session")
def analysed(footage: dict[str, af.Footage]) -> dict[str, dict]:
    return {name: analyse(f.path) for name, f in footage.items()}


def expected_units(px_per_frame_at_320: float) -> float:
    """Motion units for a pan: px per 1/16 s at 256 px wide, from px per frame at 320, 24 fps."""
    return px_per_frame_at_320 * 256 / 320 * af.FPS / 16


def test_motion_ranks_frozen_below_pans_and_fast_pan_and_strobe_as_dynamic(analysed):
    frozen, slow, medium, fast = (analysed[n] for n in ("frozen", "slow", "medium", "fast"))
    assert frozen["motion"] < slow["motion"] < medium["motion"] < fast["motion"]
    assert frozen["motion"] < DEFAULT_STATIC_BELOW and frozen["still_share"] == 1.0
    for moderate in (slow, medium):
        assert DEFAULT_STATIC_BELOW < moderate["motion"]
        assert moderate["motion_p95"] < DEFAULT_DYNAMIC_ABOVE
        assert moderate["still_share"] == 0.0
    assert fast["motion_p95"] > DEFAULT_DYNAMIC_ABOVE
    # A strobe moves nothing; its light does: it is dynamic through its brightness jumps.
    strobe = analysed["strobe"]
    assert strobe["flicker"]["share"] > DEFAULT_FLICKER_ABOVE
    assert strobe["motion"] is None  # optical flow means nothing while the light flips
    assert all(a["flicker"]["share"] == 0.0 for a in (frozen, slow, medium, fast))


@pytest.mark.parametrize(("name", "speed"), [("slow", 1.0), ("medium", 4.0), ("fast", 14.0)])
def test_motion_is_in_pixels_per_sixteenth_of_a_second_at_256_wide(analysed, name, speed):
    assert analysed[name]["motion_p50"] == pytest.approx(expected_units(speed), rel=0.15)


def test_a_pan_is_camera_motion_and_a_frozen_frame_a_still_camera(analysed):
    medium = analysed["medium"]
    assert medium["camera"] == pytest.approx(medium["motion"], rel=0.15)
    assert medium["in_picture"] < 0.1 * medium["camera"]
    assert medium["camera_still"] is False
    assert analysed["frozen"]["camera_still"] is True


def test_a_hard_cut_is_found_at_its_frame_and_fast_motion_is_no_cut(analysed, footage):
    cut = analysed["cut"]
    assert cut["cut_frames"] == list(footage["cut"].cuts) == [30]
    assert cut["cuts"] == 1 and cut["transitions"] == []
    for name in ("frozen", "slow", "medium", "fast", "strobe", "letterbox"):
        assert analysed[name]["cuts"] == 0, name


def test_a_crossfade_is_found_as_a_dissolve_over_its_frames(analysed, footage):
    a = analysed["dissolve"]
    start, end = footage["dissolve"].dissolve
    assert a["cut_frames"] == []
    [dissolve] = a["transitions"]
    assert dissolve["kind"] == "dissolve"
    assert abs(dissolve["start"] - start) <= 1 and abs(dissolve["end"] - end) <= 1
    assert a["cuts"] == 1


def test_a_fade_through_black_is_one_transition_and_not_flicker(analysed, footage):
    a = analysed["fade"]
    start, end = footage["fade"].fade
    [fade] = a["transitions"]
    assert fade["kind"] == "fade"
    assert abs(fade["start"] - start) <= 1 and abs(fade["end"] - end) <= 1
    assert a["cut_frames"] == [] and a["cuts"] == 1
    assert a["flicker"]["jumps"] == 0
    # The 4 black frames, and the darkest frames of the fades, which hold almost no picture.
    assert 4 <= a["exposure"]["black_frames"] <= 8


def test_flashes_are_not_cuts_and_not_motion(analysed):
    a = analysed["flashes"]
    assert a["cuts"] == 0 and a["cut_frames"] == [] and a["transitions"] == []
    assert a["flashes"] == 4
    # Flow across a flash is left out: the pan (1.5 px/frame) measures as a pan.
    assert a["motion_p50"] == pytest.approx(expected_units(1.5), rel=0.15)
    assert a["motion_p95"] < 1.5 * expected_units(1.5)


@pytest.mark.parametrize("name", ["letterbox", "boxed", "scope"])
def test_the_letterbox_crop_is_exact(analysed, footage, name):
    borders = analysed[name]["borders"]
    assert tuple(borders["crop"]) == footage[name].crop
    assert analysed["slow"]["borders"]["crop"] is None


def test_hard_cuts_between_busy_shots_are_found_and_flashes_are_not(tmp_path):
    # The media engineer's shots: slow and very fast pans, bars with a flash, heavy grain,
    # single-frame flashes. Cuts into and out of fast motion are found by the histogram.
    segments = [Segment("texture", 30, seed=1), Segment("fast", 30, seed=2),
                Segment("bars", 30, seed=3, flashes=(10,)), Segment("noise", 30, seed=4),
                Segment("texture", 30, seed=7, flashes=(5, 20), flash_len=1),
                Segment("fast", 24, seed=8, speed=30)]
    video = make_video(tmp_path / "busy_cuts.mp4", segments)
    a = analyse(video.path)
    assert a["cut_frames"] == list(video.cuts)
    assert a["transitions"] == [] and a["flashes"] == 3


def test_a_sub_range_of_a_longer_feed_gives_the_clips_own_analysis(footage):
    # Ingest feeds a whole film and then asks for each scene: nothing outside a clip counts.
    cut = footage["cut"]
    alone = analyse(cut.path, 30, 60)
    within = analyse(cut.path, 30, 60, feed_from=0, feed_to=60)
    for key in ("motion", "motion_p95", "cut_frames", "transitions", "hashes", "borders",
                "flicker"):
        assert within[key] == alone[key], key
    assert within["cut_frames"] == [] and within["range"] == [30, 60]


def test_frames_must_come_in_order():
    analyzer = FrameAnalyzer(24, 320, 180)
    frame = np.zeros((144, 256), np.uint8)
    analyzer.feed(5, frame)
    with pytest.raises(ValueError, match="in order"):
        analyzer.feed(5, frame)
    with pytest.raises(ValueError, match="2-D"):
        analyzer.feed(6, np.zeros((144, 256, 3), np.uint8))


def test_a_clip_of_one_flat_frame_has_no_motion_and_no_hash():
    analyzer = FrameAnalyzer(24, 320, 180)
    analyzer.feed(0, np.zeros((144, 256), np.uint8))
    a = analyzer.finish_clip(0, 1)
    assert a["motion"] is None and a["hashes"] == [] and a["cuts"] == 0
    assert a["exposure"]["black_frames"] == 1


def test_frame_hash_is_a_phash_within_a_few_bits_of_imagehash(footage):
    # Same method; the 32×32 shrink (OpenCV's area average vs PIL's Lanczos) flips a few bits.
    distances = [
        (frame_hash(gray) ^ int(str(imagehash.phash(Image.fromarray(gray))), 16)).bit_count()
        for _, gray in iter_frames(footage["cut"].path, 0, 60, width=256, fmt="gray")]
    assert max(distances) <= 6 and np.median(distances) <= 2


# --- real footage (../shared/media) -------------------------------------------------------

@pytest.fixture(scope="session")
def vtest(shared_media: Path) -> dict:
    return analyse(shared_media / "vtest.avi")


@pytest.fixture(scope="session")
def megamind(shared_media: Path) -> dict:
    return analyse(shared_media / "Megamind.avi")


def test_vtest_is_moderate_with_a_still_camera(vtest):
    assert DEFAULT_STATIC_BELOW < vtest["motion"] < DEFAULT_DYNAMIC_ABOVE
    assert vtest["motion_p95"] < DEFAULT_DYNAMIC_ABOVE
    assert vtest["camera_still"] is True
    assert vtest["in_picture"] > 5 * vtest["camera"]  # the people move, the camera does not
    assert vtest["cuts"] == 0 and vtest["borders"]["crop"] is None


def test_megamind_holds_three_cuts_at_their_frames(megamind):
    assert megamind["cuts"] == 3
    for found, known in zip(megamind["cut_frames"], (99, 155, 201), strict=True):
        assert abs(found - known) <= 1
    # Its first frame is black: a lead-in to trim, not a cut.
    assert megamind["trim"] == [1, 270]
    assert [t["kind"] for t in megamind["transitions"]] == ["fade_in"]


@pytest.mark.parametrize("shot", [(0, 98), (99, 154), (155, 200), (201, 270)])
def test_dark_scenes_of_real_footage_are_no_letterbox(shared_media, shot):
    """Megamind's shots are dark along one edge (a curtain, a night window): as dark as a bar
    but textured and on one side only. Cropping them at export would cut picture away."""
    borders = analyse(shared_media / "Megamind.avi", *shot)["borders"]
    assert borders["crop"] is None, borders


def test_real_footage_in_letterbox_bars_gets_the_exact_crop(shared_media, tmp_path):
    frames = [rgb for _, rgb in iter_frames(shared_media / "Megamind.avi", 100, 140)]
    h, w = frames[0].shape[:2]
    boxed = np.zeros((len(frames), h + 2 * 56, w, 3), np.uint8)
    boxed[:, 56:56 + h] = np.stack(frames)
    path = af.write_frames(tmp_path / "megamind_letterboxed.mp4", boxed)
    assert tuple(analyse(path)["borders"]["crop"]) == (0, 56, w, h)
