"""Frame-exact access: iter_frames/read_frame agree with a plain decode, seeking included."""

from __future__ import annotations

from fractions import Fraction
from pathlib import Path

import av
import numpy as np
import pytest

from curator.core.jobs import Cancelled, CancelToken
from curator.core.media import (
    MediaError,
    fit_size,
    iter_frames,
    read_frame,
    read_frames,
    resample_indices,
    sample_frames,
)
from tests.media_factory import Segment, make_video

SEGMENTS = [Segment("texture", 60, seed=1), Segment("bars", 50, seed=2),
            Segment("noise", 50, seed=3)]


@pytest.fixture(scope="session")
def videos(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    d = tmp_path_factory.mktemp("frames_media")
    return {
        # small gop and B-frames: seeks land on many keyframes, display order != decode order
        "mp4": make_video(d / "v.mp4", SEGMENTS, gop=10, bframes=2).path,
        "mkv": make_video(d / "v.mkv", SEGMENTS, gop=16, fps=Fraction(30000, 1001)).path,
        "avi": make_video(d / "v.avi", SEGMENTS, gop=12).path,
    }


def _reference(path: Path) -> list[np.ndarray]:
    """Every frame by the plainest possible decode, as musubi-tuner reads clips."""
    with av.open(str(path)) as container:
        return [f.to_ndarray(format="rgb24") for f in container.decode(video=0)]


@pytest.fixture(scope="session")
def references(videos: dict[str, Path]) -> dict[str, list[np.ndarray]]:
    return {k: _reference(p) for k, p in videos.items()}


@pytest.mark.parametrize("kind", ["mp4", "mkv", "avi"])
def test_iter_all_frames_matches_plain_decode(videos, references, kind) -> None:
    frames = list(iter_frames(videos[kind]))
    assert [i for i, _ in frames] == list(range(160))
    for (_, arr), ref in zip(frames, references[kind]):
        np.testing.assert_array_equal(arr, ref)


@pytest.mark.parametrize("kind", ["mp4", "mkv", "avi"])
@pytest.mark.parametrize(("start", "end"), [(0, 5), (49, 52), (59, 61), (97, 110), (150, 160),
                                            (155, None)])
def test_ranges_are_frame_exact(videos, references, kind, start, end) -> None:
    got = list(iter_frames(videos[kind], start, end))
    want_end = 160 if end is None else end
    assert [i for i, _ in got] == list(range(start, want_end))
    for i, arr in got:
        np.testing.assert_array_equal(arr, references[kind][i])


def test_range_past_the_end_stops_at_the_end(videos) -> None:
    assert [i for i, _ in iter_frames(videos["mp4"], 158, 400)] == [158, 159]
    with pytest.raises(MediaError, match="has no frame 160"):
        read_frame(videos["mp4"], 160)


def test_read_frame_scaled_and_gray(videos, references) -> None:
    rgb = read_frame(videos["mp4"], 123)
    np.testing.assert_array_equal(rgb, references["mp4"][123])
    gray = read_frame(videos["mp4"], 123, width=64, fmt="gray")
    assert gray.shape == (36, 64) and gray.dtype == np.uint8
    bgr = read_frame(videos["mkv"], 70, height=90, fmt="bgr24")
    assert bgr.shape == (90, 160, 3)


def test_read_frames_many_in_one_pass(videos, references) -> None:
    got = read_frames(videos["avi"], [150, 3, 77, 77, 500])
    assert sorted(got) == [3, 77, 150]
    for i, arr in got.items():
        np.testing.assert_array_equal(arr, references["avi"][i])


def test_fit_size() -> None:
    assert fit_size(1920, 1080, width=256) == (256, 144)
    assert fit_size(720, 528, width=256) == (256, 188)
    assert fit_size(1920, 1080, height=100) == (178, 100)
    assert fit_size(100, 50) == (100, 50)
    w, h = fit_size(1920, 1080, max_pixels=200_000)
    assert w * h <= 200_000 and w % 2 == 0 and h % 2 == 0
    assert abs(w / h - 16 / 9) < 0.02
    assert fit_size(320, 180, max_pixels=10**9) == (320, 180)  # never enlarged


def test_resample_24_to_16_drops_every_third() -> None:
    idx = resample_indices(65, Fraction(24), 16)
    # FFmpeg's fps filter: round(65 * 16/24) = 43 frames, none past the last source frame
    assert len(idx) == 43
    assert idx[:6] == [0, 2, 3, 5, 6, 8]
    assert idx == sorted(idx) and idx[-1] <= 64


def test_resample_identity_and_upsampling() -> None:
    assert resample_indices(30, 16, 16) == list(range(30))
    up = resample_indices(10, 8, 16)
    assert len(up) == 20 and up[:4] == [0, 0, 1, 1] and up[-1] == 9
    ntsc = resample_indices(1001, Fraction(30000, 1001), 16)
    assert len(ntsc) == round(1001 * 16 * 1001 / 30000)
    assert resample_indices(0, 24, 16) == []


def _ffmpeg_fps_filter(n: int, source_fps: Fraction, target_fps: float) -> list[int]:
    """Push n numbered frames through FFmpeg's own fps filter and read back which came out."""
    graph = av.filter.Graph()
    buffer = graph.add_buffer(width=16, height=16, format="gray", time_base=1 / source_fps)
    fps = graph.add("fps", f"fps={target_fps}")
    sink = graph.add("buffersink")
    buffer.link_to(fps)
    fps.link_to(sink)
    graph.configure()
    out: list[int] = []

    def drain() -> None:
        while True:
            try:
                frame = graph.pull()
            except (av.error.BlockingIOError, av.error.EOFError):
                return
            out.append(int(frame.to_ndarray()[0, 0]) + 256 * int(frame.to_ndarray()[0, 1]))

    for i in range(n):
        arr = np.zeros((16, 16), np.uint8)
        arr[0, 0], arr[0, 1] = i % 256, i // 256
        frame = av.VideoFrame.from_ndarray(arr, format="gray")
        frame.pts, frame.time_base, frame.duration = i, 1 / source_fps, 1  # as decoded frames
        graph.push(frame)
        drain()
    graph.push(None)
    drain()
    return out


@pytest.mark.parametrize(("n", "src", "dst"), [
    (65, Fraction(24), 16), (48, Fraction(24), 8), (10, Fraction(8), 16), (31, Fraction(30), 16),
    (7, Fraction(24), 16), (300, Fraction(30000, 1001), 16), (81, Fraction(25), 16),
    (1, Fraction(24), 16), (97, Fraction(2997, 125), 16),
])
def test_resample_matches_ffmpeg_fps_filter(n, src, dst) -> None:
    assert resample_indices(n, src, dst) == _ffmpeg_fps_filter(n, src, dst)


def test_sample_frames_by_count_and_fps(videos, references) -> None:
    by_count = sample_frames(videos["mp4"], 60, 110, count=5)
    assert [i for i, _ in by_count] == [60, 72, 85, 97, 109]
    np.testing.assert_array_equal(by_count[2][1], references["mp4"][85])
    small = sample_frames(videos["mp4"], 0, 48, fps=8, max_pixels=64 * 36)
    # FFmpeg's fps filter shows the later of two equally near frames: 1, 4, 7, ...
    assert [i for i, _ in small] == list(range(1, 48, 3))
    assert all(a.shape == (36, 64, 3) for _, a in small)


def test_cancel_stops_iteration(videos) -> None:
    token = CancelToken()
    it = iter_frames(videos["mp4"], cancel=token)
    next(it)
    token.cancel()
    with pytest.raises(Cancelled):
        list(it)


def test_real_footage_seek_matches_linear(shared_media: Path) -> None:
    # motion.mov: H.264 in MOV whose header claims one frame more than decodes.
    path = shared_media / "motion.mov"
    ref = _reference(path)
    for start in (60, 120, 200, 241):
        i, arr = next(iter_frames(path, start, start + 1))
        assert i == start
        np.testing.assert_array_equal(arr, ref[start])


def test_megamind_avi_linear_indices(shared_media: Path) -> None:
    # AVI timestamps come out reordered around B-frames; indices must still be decode counts.
    path = shared_media / "Megamind.avi"
    ref = _reference(path)
    got = read_frames(path, [0, 99, 155, 201, 269])
    for i, arr in got.items():
        np.testing.assert_array_equal(arr, ref[i])


@pytest.mark.parametrize("fps", [Fraction(24000, 1001), Fraction(30), Fraction(10), 23.976, 60.0,
                                 Fraction(2997, 125), Fraction(16)])
def test_resampled_frame_count_is_the_length_of_resample_indices(fps):
    from curator.core.media.resample import resample_indices, resampled_frame_count

    for n in (0, 1, 2, 44, 45, 65, 88, 301, 1000):
        assert resampled_frame_count(n, fps, 16.0) == len(resample_indices(n, fps, 16.0))
