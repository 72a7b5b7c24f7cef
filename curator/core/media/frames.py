"""Frame-exact access to video frames as numpy arrays, scaled by libswscale on the way out.

A frame's index is the number of frames decoded before it in the stream, from 0: the same
numbering as the probe's decoded count, a clip's `[start, end)` range, and musubi-tuner's
`container.decode(video=0)`. Seeking is only used where timestamps prove where the decoder
landed; otherwise frames are decoded from the start, which is slower but never off by one.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Iterator, Sequence
from fractions import Fraction
from pathlib import Path

import av
import numpy as np

from curator.core.jobs import NEVER_CANCELLED, CancelToken
from curator.core.media.errors import MediaError
from curator.core.media.reader import VideoReader, stream_fps
from curator.core.media.resample import resample_indices

# Containers whose timestamps are real presentation times, so that a frame's index can be
# computed from its pts after a seek. AVI is not one: its "pts" are packet numbers that come
# out reordered around B-frames (Megamind.avi decodes pts 1, 2, 3, 5, 4, ...).
_SEEKABLE_FORMATS = frozenset({"mov", "mp4", "m4a", "m4v", "3gp", "3g2", "mj2", "matroska", "webm"})

# Below this many frames, decoding from the start costs about what a seek plus the decode from
# the keyframe does, and is certain.
MIN_SEEK_GAIN = 48

# How far (in frames) a pts may sit from the frame grid and still count as on it: MP4 time
# bases such as 1/90000 at 30000/1001 fps round every timestamp.
_GRID_TOLERANCE = 0.02


def fit_size(src_width: int, src_height: int, width: int | None = None,
             height: int | None = None, max_pixels: int | None = None) -> tuple[int, int]:
    """The output size for a scaled frame: aspect kept where a side is left out, sides even.

    Args:
        src_width, src_height: the frame's size.
        width, height: the wanted size; give one to keep the aspect ratio, both to force it.
        max_pixels: shrink (never enlarge) so that width × height stays at or under this.

    Returns:
        (width, height); the source size when nothing is asked.
    """
    w, h = src_width, src_height
    if width is not None and height is not None:
        w, h = width, height
    elif width is not None:
        w, h = width, src_height * width / src_width
    elif height is not None:
        w, h = src_width * height / src_height, height
    if width is not None or height is not None:
        w, h = _even(w), _even(h)
    if max_pixels is not None and w * h > max_pixels:
        scale = math.sqrt(max_pixels / (w * h))
        w, h = max(2, int(w * scale) // 2 * 2), max(2, int(h * scale) // 2 * 2)
        while w * h > max_pixels and w > 2 and h > 2:
            if w >= h:
                w -= 2
            else:
                h -= 2
    return int(w), int(h)


def _even(x: float) -> int:
    return max(2, int(round(x / 2)) * 2)


def frame_to_array(frame: av.VideoFrame, width: int | None = None, height: int | None = None,
                   fmt: str = "rgb24") -> np.ndarray:
    """Convert (and scale, with libswscale) one decoded frame to a numpy array.

    Raises:
        MediaError: when `fmt` is not a pixel format libswscale knows.
    """
    w, h = fit_size(frame.width, frame.height, width, height)
    if (w, h) == (frame.width, frame.height):
        if frame.format.name == fmt:
            return frame.to_ndarray()
        return frame.to_ndarray(format=fmt)
    # AREA averages the pixels a shrunken pixel covers: no aliasing shimmer in thumbnails and
    # in the frames a VLM sees, for about the cost of bilinear.
    return frame.to_ndarray(width=w, height=h, format=fmt, interpolation="AREA")


def _grid_index(pts: int | None, origin: int, tb: Fraction, fps: Fraction) -> int | None:
    """The frame index a pts stands for on a constant-rate grid, or None when it is off the grid."""
    if pts is None:
        return None
    exact = (pts - origin) * tb * fps
    nearest = round(exact)
    if abs(exact - nearest) > _GRID_TOLERANCE or nearest < 0:
        return None
    return int(nearest)


def _seek_to(reader: VideoReader, start: int,
             cancel: CancelToken) -> Iterator[av.VideoFrame] | None:
    """Seek near frame `start` and decode up to it; None when the landing spot cannot be proven.

    Returns:
        The decoded frames from frame `start` on, or None to ask for a decode from the beginning.
    """
    stream = reader.stream
    if reader.format_name not in _SEEKABLE_FORMATS and not any(
            n in _SEEKABLE_FORMATS for n in reader.container.format.name.split(",")):
        return None
    fps = stream_fps(stream)
    tb = stream.time_base
    if not fps or not tb:
        return None
    origin = stream.start_time if stream.start_time is not None else 0
    target = origin + int(Fraction(start) / fps / tb)
    try:
        reader.seek_keyframe(target)
    except (av.error.FFmpegError, OSError):
        return None
    expected: int | None = None
    frames = reader.raw_frames(cancel)
    for frame in frames:
        index = _grid_index(frame.pts, origin, tb, fps)
        if index is None or (expected is not None and index != expected):
            return None  # variable rate, or timestamps that skip: cannot trust them
        if expected is None and index > start:
            return None  # the seek overshot (no keyframe before `start` in its index)
        if index == start:
            return itertools.chain([frame], frames)
        expected = index + 1
    return None


def iter_frames(path: Path, start: int = 0, end: int | None = None, *, width: int | None = None,
                height: int | None = None, fmt: str = "rgb24",
                cancel: CancelToken = NEVER_CANCELLED) -> Iterator[tuple[int, np.ndarray]]:
    """Yield `(index, array)` for the frames `start <= index < end` of a video, in order.

    Args:
        path: the video file.
        start: first frame index (frames decoded before it in the stream, from 0).
        end: stop before this index; None for the end of the stream.
        width, height: scale with libswscale; give one to keep the aspect ratio (sides even).
        fmt: a PyAV/libswscale pixel format: 'rgb24' (h, w, 3), 'bgr24', 'gray' (h, w), ...
        cancel: checked between packets.

    Yields:
        (index, uint8 array) pairs; fewer than asked when the stream ends first.

    Raises:
        MediaError: the file cannot be opened or holds no decodable video.
        Cancelled: when `cancel` fires.
    """
    # Only a width alone bounds the output: a height alone (or both) may stretch it wider.
    max_width = width if width is not None and height is None else None
    for index, frame in iter_raw_frames(Path(path), start, end, cancel, max_width=max_width):
        yield index, frame_to_array(frame, width, height, fmt)


def read_frame(path: Path, index: int, *, width: int | None = None, height: int | None = None,
               fmt: str = "rgb24") -> np.ndarray:
    """One frame of a video as an array.

    Raises:
        MediaError: the file cannot be read, or it has no frame `index`.
    """
    for _, array in iter_frames(path, index, index + 1, width=width, height=height, fmt=fmt):
        return array
    raise MediaError(path, f"has no frame {index} (it ends before)")


def _spread(start: int, end: int, count: int) -> list[int]:
    """`count` indices spread evenly over [start, end), first and last frame included."""
    n = end - start
    if count <= 0 or n <= 0:
        return []
    if count == 1:
        return [start + (n - 1) // 2]
    # halves round up (not to even), so the picks are symmetric and predictable
    picks = {start + (2 * k * (n - 1) + count - 1) // (2 * (count - 1)) for k in range(count)}
    return sorted(picks)


def sample_frames(path: Path, start: int, end: int, *, count: int | None = None,
                  fps: float | None = None, source_fps: Fraction | float | None = None,
                  max_pixels: int | None = None, fmt: str = "rgb24",
                  cancel: CancelToken = NEVER_CANCELLED) -> list[tuple[int, np.ndarray]]:
    """Frames spread evenly over `[start, end)`, scaled down for a captioning model.

    Args:
        path: the video file.
        start, end: the clip's frame range.
        count: how many frames (first and last included); or
        fps: take frames as a stream resampled to this rate would show them (duplicates
            collapsed); needs the source rate, read from the file when `source_fps` is None.
        max_pixels: shrink each frame (aspect kept, sides even) to at most this many pixels.
        fmt: pixel format, as in `iter_frames`.
        cancel: checked between packets.

    Returns:
        (index, array) pairs in order; fewer when the video ends before `end`.

    Raises:
        MediaError: the file cannot be read.
        ValueError: neither or both of `count` and `fps` given.
    """
    if (count is None) == (fps is None):
        raise ValueError("give exactly one of count and fps")
    if count is not None:
        wanted = _spread(start, end, count)
    else:
        if source_fps is None:
            with VideoReader(Path(path), threads=False) as reader:
                source_fps = stream_fps(reader.stream) or Fraction(25)
        wanted = sorted({start + i for i in resample_indices(end - start, source_fps, fps)})
    if not wanted:
        return []
    wanted_set = set(wanted)
    out: list[tuple[int, np.ndarray]] = []
    for index, frame in iter_raw_frames(Path(path), wanted[0], wanted[-1] + 1, cancel):
        if index in wanted_set:
            w, h = fit_size(frame.width, frame.height, max_pixels=max_pixels)
            if (w, h) == (frame.width, frame.height):
                out.append((index, frame_to_array(frame, None, None, fmt)))
            else:
                out.append((index, frame_to_array(frame, w, h, fmt)))
    return out


def iter_raw_frames(path: Path, start: int, end: int | None,
                    cancel: CancelToken = NEVER_CANCELLED, *, max_width: int | None = None
                    ) -> Iterator[tuple[int, av.VideoFrame]]:
    """Decoded `av.VideoFrame`s with their indices, so callers convert only the ones they keep.

    `max_width`: the widest the caller scales any frame to, so the decoder may skip work that
    cannot show at that size (`VideoReader`); None when frames may be used at full size.
    """
    if start < 0 or (end is not None and end < start):
        raise ValueError(f"bad frame range [{start}, {end})")
    if end is not None and end == start:
        return
    reader = VideoReader(path, max_width=max_width)
    try:
        index = 0
        frames = None
        if start >= MIN_SEEK_GAIN:
            frames = _seek_to(reader, start, cancel)
            if frames is None:
                reader.close()
                reader = VideoReader(path, max_width=max_width)  # a clean decoder, from the start
            else:
                index = start
        if frames is None:
            frames = reader.raw_frames(cancel)
        for frame in frames:
            if index >= start:
                yield index, frame
            index += 1
            if end is not None and index >= end:
                return
    finally:
        reader.close()


def read_frames(path: Path, indices: Sequence[int], *, width: int | None = None,
                height: int | None = None, fmt: str = "rgb24",
                cancel: CancelToken = NEVER_CANCELLED) -> dict[int, np.ndarray]:
    """Several frames of one video in one decode; missing indices (past the end) are left out.

    Raises:
        MediaError: the file cannot be read.
    """
    wanted = sorted(set(indices))
    if not wanted:
        return {}
    wanted_set = set(wanted)
    out: dict[int, np.ndarray] = {}
    max_width = width if width is not None and height is None else None
    for index, frame in iter_raw_frames(Path(path), wanted[0], wanted[-1] + 1, cancel,
                                        max_width=max_width):
        if index in wanted_set:
            out[index] = frame_to_array(frame, width, height, fmt)
    return out
