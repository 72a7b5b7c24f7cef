"""The burned-in text check on real footage frames with real rendered text (DejaVu, Noto CJK).

Frames come from ../shared/media (Megamind.avi, a 3D animation; vtest.avi, a street whose
real sign must not count as overlay text); text is drawn over them with Pillow the way
subtitles, credits and watermarks are burned in. A handful of frames keeps this fast.
"""

from __future__ import annotations

import json
from fractions import Fraction

import numpy as np
import pytest

from curator.core.analysis import analyze_clips, auto_decide
from curator.core.analysis import text as tc
from curator.core.media import iter_frames
from tests import analysis_fixtures as af
from tests.text_overlays import Overlay, composite, have_fonts, overlay_layer

pytestmark = pytest.mark.skipif(not have_fonts(cjk=True),
                                reason="fonts-dejavu and fonts-noto-cjk are needed")


@pytest.fixture(scope="module")
def frames(shared_media) -> dict[str, np.ndarray]:
    """One RGB frame of each of two real shots."""
    out = {}
    for name, index in (("Megamind.avi", 40), ("vtest.avi", 20)):
        out[name] = next(f for _, f in iter_frames(shared_media / name, index, index + 1))
    return out


def _gray(rgb: np.ndarray) -> np.ndarray:
    import cv2

    gray = cv2.cvtColor(rgb, cv2.COLOR_RGB2GRAY)
    h = round(gray.shape[0] * tc.TEXT_WIDTH / gray.shape[1])
    return cv2.resize(gray, (tc.TEXT_WIDTH, h), interpolation=cv2.INTER_AREA)


def _check(rgb: np.ndarray, overlay: Overlay | None) -> tuple[dict, list[list[int]]]:
    h, w = rgb.shape[:2]
    truth: list[list[int]] = []
    if overlay is not None:
        layer, truth = overlay_layer(overlay, w, h)
        rgb = composite(rgb, layer)
    return tc.image_text(_gray(rgb), w, h), truth


def _overlaps(box: list[int], truth: list[list[int]]) -> bool:
    return any(tc._iou(tuple(box), tuple(t)) > 0.3 for t in truth)


def test_real_shots_without_overlays_hold_no_text(frames):
    for name, rgb in frames.items():
        result, _ = _check(rgb, None)
        assert (result["kind"], result["share"], result["boxes"]) == (None, 0.0, []), name


@pytest.mark.parametrize("overlay, source, kind, reads", [
    (Overlay("subtitles", ("Where are you going?",)), "Megamind.avi", "subtitles", "Where"),
    (Overlay("subtitles", ("早く行かないと間に合わないよ", "どこへ行くの？"), "cjk", size=0.05),
     "vtest.avi", "subtitles", "行"),
    (Overlay("credits", ("Directed by", "HANNA MORITZ"), size=0.07), "vtest.avi", "credits",
     "HANNA"),
    (Overlay("watermark", ("SAMPLE TV",), size=0.04, alpha=0.6, corner="tr"), "Megamind.avi",
     "watermark", "TV"),
])
def test_burned_in_text_is_found_where_it_was_drawn(frames, overlay, source, kind, reads):
    result, truth = _check(frames[source], overlay)
    assert result["kind"] == kind and result["share"] == 1.0
    assert result["boxes"] and all(_overlaps(b, truth) for b in result["boxes"]), \
        (result["boxes"], truth)
    assert any(reads in s for s in result["strings"]), result["strings"]


def test_bad_frames_do_not_crash():
    assert tc.image_text(np.zeros((6, 9), np.uint8), 9, 6)["share"] == 0.0  # tiny
    assert tc.image_text(np.zeros((360, 640), np.uint8), 640, 360)["kind"] is None  # black
    sampler = tc.TextSampler(24.0, 640, 360)
    assert sampler.finish_clip(0, 10) is None  # nothing sampled yet
    assert sampler.wants(0, [(0, 1)])  # a one-frame clip is still looked at
    sampler.feed(0, np.zeros((360, 640), np.uint8))
    result = sampler.finish_clip(0, 1)
    assert (result["share"], result["frames"]) == (0.0, 1)
    with pytest.raises(ValueError, match="2-D"):
        sampler.feed(1, np.zeros((4, 4, 3), np.uint8))


def _subtitled_clip(folder, shared_media, *, show: tuple[int, int]) -> af.Footage:
    """24 frames of Megamind (320 px wide) with a subtitle on frames [show)."""
    import cv2

    path = folder / f"subtitled_{show[0]}_{show[1]}.mp4"
    raw = [f for _, f in iter_frames(shared_media / "Megamind.avi", 0, 24, width=320)]
    h, w = raw[0].shape[:2]
    layer, _ = overlay_layer(Overlay("subtitles", ("Let's get out of here!",)), w, h - h % 2)
    frames = [cv2.resize(f, (w, h - h % 2)) for f in raw]
    frames = [composite(f, layer) if show[0] <= i < show[1] else f for i, f in enumerate(frames)]
    return af.Footage(af.write_frames(path, np.stack(frames)), 24, Fraction(af.FPS), (w, h))


def test_analysis_stores_text_share_and_auto_decide_rejects_text(catalog, tmp_path,
                                                                 shared_media):
    subtitled = _subtitled_clip(tmp_path, shared_media, show=(0, 24))
    plain = _subtitled_clip(tmp_path, shared_media, show=(0, 0))
    [with_text] = af.add_source(catalog, subtitled.path)[1]
    [without] = af.add_source(catalog, plain.path)[1]
    report = analyze_clips(catalog, workers=1)
    assert sorted(report.analyzed) == sorted([with_text, without])
    clip = catalog.get_clip(with_text)
    assert clip.text_share == 1.0 and clip.analysis["text"]["kind"] == "subtitles"
    assert json.loads(json.dumps(clip.to_json()))["text_share"] == 1.0
    assert catalog.get_clip(without).text_share == 0.0
    # a person's decision is never changed, and the rule can be switched off
    assert auto_decide(catalog, static_below=None, dynamic_above=None, flicker_above=None,
                       reject_cuts=False, reject_duplicates=False, text_above=None) == []
    rejected = auto_decide(catalog, static_below=None, dynamic_above=None, flicker_above=None,
                           reject_cuts=False, reject_duplicates=False)
    assert rejected == [(with_text, "holds text (subtitles)")]
    assert catalog.get_clip(without).decision == "pending"


def test_the_models_come_from_the_installed_wheel_and_load_once():
    """No download path: the ONNX files are the wheel's; one pair of sessions per process."""
    folder = tc.model_dir()
    assert all((folder / name).is_file() for name in tc.MODEL_FILES)
    assert tc._load() is tc._load()
    assert tc._load().charset[0] == "" and len(tc._load().charset) > 10_000  # CJK included


def test_a_one_frame_clip_a_tiny_clip_and_a_black_clip_are_analysed_without_text(catalog,
                                                                                 tmp_path):
    one = af.write_frames(tmp_path / "one.mp4", np.full((1, 64, 96, 3), 120, np.uint8))
    tiny = af.write_frames(tmp_path / "tiny.mp4",
                           np.random.default_rng(1).integers(0, 255, (20, 16, 16, 3), np.uint8))
    black = af.write_frames(tmp_path / "black.mp4", np.zeros((30, 180, 320, 3), np.uint8))
    ids = [af.add_source(catalog, path)[1][0] for path in (one, tiny, black)]
    report = analyze_clips(catalog, workers=1)
    assert sorted(report.analyzed) == sorted(ids) and report.failed == []
    for clip_id in ids:
        clip = catalog.get_clip(clip_id)
        assert clip.text_share == 0.0 and clip.analysis["text"]["kind"] is None, clip_id
