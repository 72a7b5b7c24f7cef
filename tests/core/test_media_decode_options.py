"""Decoding less for frames read small: the loop filter is skipped, never a frame."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from curator.core.media.frames import iter_frames
from curator.core.media.reader import VideoReader, skip_loop_filter
from curator.core.media.scan import scan_video
from tests.media_factory import Segment, make_video


@pytest.fixture(scope="module")
def wide_h264(tmp_path_factory: pytest.TempPathFactory) -> Path:
    # veryfast keeps x264's deblocking (ultrafast turns it off) and uses B-frames
    path = tmp_path_factory.mktemp("wide") / "wide.mp4"
    make_video(path, [Segment("texture", 12, seed=41), Segment("noise", 11, seed=42)],
               size=(1024, 576), preset="veryfast", bframes=2)
    return path


def _gray_frames(path: Path, max_width: int | None) -> tuple[list[np.ndarray], bool]:
    with VideoReader(path, max_width=max_width) as reader:
        frames = [f.to_ndarray(format="gray") for f in reader.raw_frames()]
        return frames, reader.skips_loop_filter


def test_the_rule_needs_four_source_pixels_per_output_pixel() -> None:
    assert skip_loop_filter(1920, 256) and skip_loop_filter(1024, 256)
    assert not skip_loop_filter(1000, 256)
    assert not skip_loop_filter(1920, None)  # full size wanted


def test_skipping_the_loop_filter_keeps_every_frame(wide_h264: Path) -> None:
    full, skipped_full = _gray_frames(wide_h264, None)
    small, skipped_small = _gray_frames(wide_h264, 256)
    assert (skipped_full, skipped_small) == (False, True)
    assert len(full) == len(small) == 23
    # the option reached the decoder (pixels at block edges changed) ...
    assert any(not np.array_equal(a, b) for a, b in zip(full, small, strict=True))
    # ... and at 256 px the pictures are the same to within a fraction of a gray level
    shrink = [(f[::4, ::4].astype(np.float32)) for f in full]
    shrunk = [(f[::4, ::4].astype(np.float32)) for f in small]
    assert max(float(np.abs(a - b).mean()) for a, b in zip(shrink, shrunk, strict=True)) < 1.5


def test_ingest_and_analysis_reads_count_exactly(wide_h264: Path, tmp_path: Path) -> None:
    scan = scan_video(wide_h264, thumbs_dir=tmp_path, source_hash="x" * 64, threads=1)
    assert scan.info.frame_count == 23
    assert scan.cuts == [12]
    assert sum(1 for _ in iter_frames(wide_h264, width=256, fmt="gray")) == 23


def test_an_odd_codec_ignores_it_and_counts_the_same(shared_media: Path) -> None:
    # Cinepak has no loop filter; its header claims 444 frames, 68 decode
    frames, skipped = _gray_frames(shared_media / "tree.avi", 64)
    assert skipped and len(frames) == 68
    scan = scan_video(shared_media / "tree.avi", detect=False, threads=1)
    assert scan.info.frame_count == 68


def test_the_widest_use_is_said_before_the_first_frame(wide_h264: Path) -> None:
    with VideoReader(wide_h264, max_width=256) as reader:
        assert reader.skips_loop_filter
        reader.limit_width(640)  # a text check reads 640 px: 1024 is too few pixels to skip
        assert not reader.skips_loop_filter
        next(reader.raw_frames())
        with pytest.raises(RuntimeError, match="before the first frame"):
            reader.limit_width(256)


def test_a_pass_with_analysis_gives_its_text_check_whole_frames(wide_h264: Path) -> None:
    from curator.core.analysis.frame_analyzer import FrameAnalyzer
    from curator.core.media.frames import frame_to_array

    seen: dict[int, np.ndarray] = {}

    class Recording(FrameAnalyzer):
        def feed_text(self, index: int, gray: np.ndarray) -> None:
            seen[index] = gray
            super().feed_text(index, gray)

    scan_video(wide_h264, threads=1,
               analyzer_factory=lambda info: Recording(info.fps, info.width, info.height))
    assert seen
    with VideoReader(wide_h264) as reader:  # full size wanted: the loop filter runs
        full = {i: frame_to_array(f, 640, None, "gray")
                for i, f in enumerate(reader.raw_frames()) if i in seen}
    # the same pictures as the analysis job decodes (it keeps the filter at this size too)
    assert all(np.array_equal(seen[i], full[i]) for i in seen)
