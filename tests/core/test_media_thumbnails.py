"""Clip thumbnails: names found without the catalog, grabbed in the pass, made later on demand."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import av
import numpy as np
import pytest
from PIL import Image

from curator.core.media import read_frame
from curator.core.media.scan import scan_video
from curator.core.media.thumbnails import (
    THUMB_WIDTH,
    ThumbnailCollector,
    clip_thumbnail_frames,
    clip_thumbnail_paths,
    ensure_clip_thumbnails,
    thumbnail_path,
)
from tests.media_factory import Segment, make_video

HASH = "ab" * 32


@dataclass(frozen=True)
class Clip:
    source_path: Path
    source_hash: str
    start_frame: int
    end_frame: int


@pytest.fixture(scope="session")
def three_shots(tmp_path_factory: pytest.TempPathFactory):
    d = tmp_path_factory.mktemp("thumbs_media")
    return make_video(d / "shots.mp4", [Segment("color", 20, seed=1, color=(200, 30, 30)),
                                       Segment("color", 15, seed=2, color=(30, 200, 30)),
                                       Segment("color", 25, seed=3, color=(30, 30, 200))],
                      size=(160, 90))


def test_names_come_from_hash_and_frame(tmp_path: Path) -> None:
    assert clip_thumbnail_frames(10, 20) == (10, 14, 19)
    assert clip_thumbnail_frames(5, 6) == (5, 5, 5)
    clip = Clip(Path("x.mp4"), HASH, 10, 20)
    paths = clip_thumbnail_paths(tmp_path, clip)
    assert paths == [tmp_path / HASH[:16] / "0000010.jpg", tmp_path / HASH[:16] / "0000014.jpg",
                     tmp_path / HASH[:16] / "0000019.jpg"]


def _colour(path: Path) -> np.ndarray:
    return np.asarray(Image.open(path).convert("RGB"), np.float32).mean(axis=(0, 1))


def test_pass_writes_each_scene_thumbnails_with_true_colours(tmp_path: Path, three_shots) -> None:
    result = scan_video(three_shots.path, thumbs_dir=tmp_path, source_hash=HASH)
    assert result.cuts == [20, 35]
    colours = {(0, 20): (200, 30, 30), (20, 35): (30, 200, 30), (35, 60): (30, 30, 200)}
    for (start, end), rgb in colours.items():
        paths = clip_thumbnail_paths(tmp_path, Clip(three_shots.path, HASH, start, end))
        for path in paths:
            assert path in result.thumbnails
            img = Image.open(path)
            assert img.width == THUMB_WIDTH
            assert np.abs(_colour(path) - rgb).max() < 12, path


def test_fixed_ranges_only_those_thumbnails(tmp_path: Path, three_shots) -> None:
    result = scan_video(three_shots.path, detect=False, thumbs_dir=tmp_path, source_hash=HASH,
                        thumbnail_ranges=[(5, 30)])
    assert sorted(p.name for p in result.thumbnails) == ["0000005.jpg", "0000017.jpg",
                                                        "0000029.jpg"]
    assert result.cuts == []


def test_long_scene_thins_kept_frames_but_names_the_middle(tmp_path: Path) -> None:
    collector = ThumbnailCollector(tmp_path, HASH, lookahead=2, stride=2, max_kept=8)
    for i in range(200):
        gray = np.full((48, 64), i, np.uint8)  # the picture says which frame it is
        collector.feed(i, av.VideoFrame.from_ndarray(gray, format="gray"))
        assert len(collector._kept) <= 8 + 1
    collector.finish(200)
    first, middle, last = clip_thumbnail_paths(tmp_path, Clip(Path("x"), HASH, 0, 200))
    assert [p.name for p in (first, middle, last)] == ["0000000.jpg", "0000099.jpg",
                                                       "0000199.jpg"]
    assert _colour(first)[0] == pytest.approx(0, abs=2)
    assert _colour(last)[0] == pytest.approx(199, abs=2)
    # the middle picture is a kept frame near 99, filed under 99
    assert _colour(middle)[0] == pytest.approx(99, abs=20)


def test_ensure_makes_missing_thumbnails_for_trimmed_clip(tmp_path: Path, three_shots) -> None:
    clip = Clip(three_shots.path, HASH, 22, 41)
    paths = ensure_clip_thumbnails(tmp_path, clip)
    assert all(p.exists() for p in paths)
    expected = read_frame(three_shots.path, 31, width=THUMB_WIDTH)
    assert np.abs(_colour(paths[1]) - expected.reshape(-1, 3).mean(axis=0)).max() < 6
    before = paths[0].stat().st_mtime_ns
    ensure_clip_thumbnails(tmp_path, clip)  # nothing to do the second time
    assert paths[0].stat().st_mtime_ns == before
    assert thumbnail_path(tmp_path, HASH, 22) == paths[0]


def test_clips_a_dissolve_shapes_get_their_thumbnails_in_the_pass(tmp_path: Path) -> None:
    from curator.core.media.shots import shot_ranges
    from tests import analysis_fixtures as af

    clip = af.crossfade(tmp_path, frames=96)
    result = scan_video(clip.path, thumbs_dir=tmp_path / "thumbs", source_hash=HASH)
    ranges = shot_ranges(result.boundaries, result.info.frame_count, 8)
    assert len(ranges) == 2  # A before the dissolve, B after it: no hard cut closed them
    for start, end in ranges:
        paths = clip_thumbnail_paths(tmp_path / "thumbs", Clip(clip.path, HASH, start, end))
        # written by the single pass, not left for a second decode
        assert all(p in result.thumbnails for p in paths), (start, end)
        for path, frame in zip(paths, (start, start + (end - 1 - start) // 2, end - 1)):
            exact = read_frame(clip.path, frame, width=THUMB_WIDTH).astype(np.float32)
            shown = np.asarray(Image.open(path).convert("RGB"), np.float32)
            # an inner end shows a kept copy at most stride - 1 frames inside the clip
            assert np.abs(shown - exact).mean() < 12, path


def test_a_closed_scene_waits_until_its_boundaries_settle(tmp_path: Path) -> None:
    asked: list[tuple[int, int]] = []

    def shots_in(start: int, end: int) -> list[tuple[int, int]]:
        asked.append((start, end))
        return [(start, 30), (40, end)] if start == 0 else [(start, end)]

    collector = ThumbnailCollector(tmp_path, HASH, lookahead=2, stride=2, shots_in=shots_in)
    for i in range(80):
        collector.feed(i, av.VideoFrame.from_ndarray(np.full((48, 64), i, np.uint8),
                                                     format="gray"))
        if i == 62:
            collector.close_scene(60)  # a hard cut at 60, confirmed two frames late
    # the scene's own ends are written at once; its inside waits for `settle`
    names = sorted(p.name for p in collector.written)
    assert names == ["0000000.jpg", "0000059.jpg", "0000060.jpg"] and asked == []
    collector.settle(50)  # not past the scene's end yet
    assert asked == []
    collector.settle(61)
    assert asked == [(0, 60)]
    for frame, near in ((29, 2), (40, 1), (14, 2), (49, 2)):
        path = thumbnail_path(tmp_path, HASH, frame)
        assert path in collector.written
        assert _colour(path)[0] == pytest.approx(frame, abs=near + 2)
    assert min(collector._kept) >= 60  # the settled scene's copies are let go
    collector.finish(80)
    assert asked[-1] == (60, 80)
    assert thumbnail_path(tmp_path, HASH, 79) in collector.written
