"""Clip thumbnails: the first, middle and last frame of each clip, as small JPEGs.

A thumbnail's file name is derived from the source's content hash and the frame number
(`<thumbs>/<hash[:16]>/<frame:07d>.jpg`), so the GUI finds a clip's pictures without asking
the catalog, a moved source keeps them, and two clips sharing a frame share its file.

Ingest grabs them inside its single decode pass (`ThumbnailCollector`), where a clip's end,
and so its middle, is only known once the next cut has been confirmed; clips made later by
trimming or splitting get theirs from `ensure_clip_thumbnails`. Thumbnails are scaled with
libswscale's area filter (no aliasing), from the decoded frame.
"""

from __future__ import annotations

import os
import tempfile
from collections import deque
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Protocol

import av
import numpy as np
from av.video.reformatter import VideoReformatter
from PIL import Image

from curator.core.jobs import NEVER_CANCELLED, CancelToken
from curator.core.media.frames import fit_size, read_frames

THUMB_WIDTH = 256
JPEG_QUALITY = 85
HASH_PREFIX = 16  # hex digits of the content hash naming a source's folder: 64 bits


class ClipLike(Protocol):
    """What thumbnails read of a clip (a `ClipRow`), as export's `layout.ClipLike` spells it."""

    source_hash: str
    source_path: Path
    start_frame: int
    end_frame: int


def clip_thumbnail_frames(start: int, end: int) -> tuple[int, int, int]:
    """First, middle and last frame of the clip `[start, end)` (they repeat on very short clips)."""
    if end <= start:
        raise ValueError(f"empty clip range [{start}, {end})")
    return start, start + (end - 1 - start) // 2, end - 1


def thumbnail_path(thumbs_dir: Path, source_hash: str, frame: int) -> Path:
    """Where the thumbnail of one frame of a source lives."""
    return Path(thumbs_dir) / source_hash[:HASH_PREFIX] / f"{frame:07d}.jpg"


def clip_thumbnail_paths(thumbs_dir: Path, clip_row: ClipLike) -> list[Path]:
    """The first, middle and last thumbnail paths of a clip (whether or not they exist yet).

    Args:
        thumbs_dir: the project's thumbnails folder.
        clip_row: a `ClipRow` (anything with `source_hash`, `start_frame`, `end_frame`).

    Returns:
        Three paths, in order first, middle, last.
    """
    return [thumbnail_path(thumbs_dir, clip_row.source_hash, f)
            for f in clip_thumbnail_frames(clip_row.start_frame, clip_row.end_frame)]


def save_jpeg(rgb: np.ndarray, path: Path) -> None:
    """Write an RGB array as a JPEG atomically (a crash never leaves half a picture)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".tmp-", suffix=".jpg")
    os.close(fd)
    try:
        # saved by its name, Pillow loads its JPEG plugin alone (a format named loads five)
        Image.fromarray(rgb).save(tmp, quality=JPEG_QUALITY)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def ensure_clip_thumbnails(thumbs_dir: Path, clip_row: ClipLike, *,
                           cancel: CancelToken = NEVER_CANCELLED) -> list[Path]:
    """Make the clip's missing thumbnails (e.g. after a trim or split) and return all three.

    Args:
        thumbs_dir: the project's thumbnails folder.
        clip_row: a `ClipRow` or alike.
        cancel: checked between packets while decoding.

    Returns:
        The first, middle and last thumbnail paths; those whose frame does not decode are
        missing from disk.

    Raises:
        MediaError: the source cannot be read.
    """
    paths = clip_thumbnail_paths(thumbs_dir, clip_row)
    frames = clip_thumbnail_frames(clip_row.start_frame, clip_row.end_frame)
    missing = {f: p for f, p in zip(frames, paths) if not p.exists()}
    if missing:
        got = read_frames(clip_row.source_path, list(missing), width=THUMB_WIDTH, fmt="rgb24",
                          cancel=cancel)
        for frame, rgb in got.items():
            save_jpeg(rgb, missing[frame])
    return paths


def _thumb_rgb(frame: av.VideoFrame, scaler: VideoReformatter | None = None) -> np.ndarray:
    """A decoded frame as a THUMB_WIDTH-wide RGB array (area-averaged: no aliasing).

    A `scaler` kept across frames saves building one per frame (`frame.reformat` does).
    """
    w, h = fit_size(frame.width, frame.height, width=THUMB_WIDTH)
    if scaler is None:
        scaler = VideoReformatter()
    return scaler.reformat(frame, width=w, height=h, format="rgb24", interpolation="AREA",
                           threads=1).to_ndarray()


# What the middle candidates of a pass may hold at once (see `ThumbnailCollector`): 48 MB is
# ~880 copies of a 16:9 thumbnail, two windows of the shot engine at one copy every 4 frames.
KEPT_BYTES = 48 << 20

# The clip ranges inside a stretch between two hard cuts, once the shot engine has settled
# the transitions in it (`ShotEngine.shots_in`).
ShotsIn = Callable[[int, int], list[tuple[int, int]]]


class ThumbnailCollector:
    """Keeps just enough of a decode pass to write each clip's first, middle and last thumbnail.

    Fed every decoded frame in order. The last `lookahead + 2` decoded frames are held as they
    are (a cut is confirmed that late), so a scene's first and last frames are converted only
    once known. A clip's middle is known only when the clip ends, so a small copy of every
    `stride`-th frame is kept; the middle thumbnail shows the kept frame nearest the middle
    (or a recent frame when it is exact) and is filed under the middle's number, so
    `clip_thumbnail_paths` finds it. Past `max_kept` copies (a very long shot) every other
    older one is dropped.

    With `shots_in`, a scene closed by a hard cut may still be split by a dissolve or a fade
    that the shot engine settles later (it judges a window of frames at a time): the scene
    waits, its copies kept, until `settle` says its boundaries are final; then each clip in it
    gets its thumbnails from the copies. A clip end inside a scene shows the kept copy at
    most `stride - 1` frames inside the clip (the picture a frame or two on, filed under the
    end's number); when none is that close, the thumbnail is left for
    `ensure_clip_thumbnails`. That spares a second decode of the clips a transition shaped.

    Args:
        thumbs_dir: the project's thumbnails folder.
        source_hash: the source's content hash.
        lookahead: frames a scene end may be confirmed late by (the cut detector's latency).
        fixed_ranges: when the clip ranges are known in advance (clips already in the
            catalog), exactly their first/middle/last frames are converted, nothing else.
        stride: keep a middle candidate every this many frames.
        max_kept: bound on copies held; None: as many as `KEPT_BYTES` holds at the first
            frame's thumbnail size.
        shots_in: the clips inside a stretch between two cuts (None: each scene is a clip).
    """

    def __init__(self, thumbs_dir: Path, source_hash: str, *, lookahead: int = 16,
                 fixed_ranges: Sequence[tuple[int, int]] | None = None, stride: int = 4,
                 max_kept: int | None = None, shots_in: ShotsIn | None = None) -> None:
        self.thumbs_dir = Path(thumbs_dir)
        self.source_hash = source_hash
        self.lookahead = lookahead
        self.stride = max(1, stride)
        self.max_kept = max_kept
        self.written: list[Path] = []
        self._scaler = VideoReformatter()
        self._recent: deque[tuple[int, av.VideoFrame]] = deque(maxlen=lookahead + 2)
        # index -> copy at thumbnail size, ascending; yuv420p, turned to RGB only when saved
        # (scaling into yuv420p costs a third of scaling into RGB, and holds half the bytes)
        self._kept: dict[int, av.VideoFrame] = {}
        self._to_kept = VideoReformatter()
        self._kept_to_rgb = VideoReformatter()
        self._scene_start = 0
        self._shots_in = shots_in
        self._pending: deque[tuple[int, int]] = deque()  # closed scenes, boundaries unsettled
        self._wanted: dict[int, list[Path]] | None = None
        if fixed_ranges is not None:
            self._wanted = {}
            for a, b in fixed_ranges:
                if b > a:
                    for f in clip_thumbnail_frames(int(a), int(b)):
                        self._wanted.setdefault(f, []).append(
                            thumbnail_path(self.thumbs_dir, source_hash, f))

    def feed(self, index: int, frame: av.VideoFrame) -> None:
        """Offer decoded frame `index`; call for every frame, in order."""
        if self._wanted is not None:
            for path in self._wanted.get(index, ()):
                if not path.exists():
                    self._save(_thumb_rgb(frame, self._scaler), path)
            return
        self._recent.append((index, frame))
        if index == 0:
            self._write(0, frame)  # the first frame of the first scene
        if index % self.stride == 0:
            w, h = fit_size(frame.width, frame.height, width=THUMB_WIDTH)
            self._kept[index] = self._to_kept.reformat(frame, width=w, height=h,
                                                       format="yuv420p", interpolation="AREA",
                                                       threads=1)
            if self.max_kept is None:
                self.max_kept = max(8, KEPT_BYTES // max(1, w * h * 3 // 2))
        low = self._keep_from(index)
        while self._kept:
            oldest = next(iter(self._kept))
            if oldest >= low:
                break
            del self._kept[oldest]
        if self.max_kept is not None and len(self._kept) > self.max_kept:
            # drop every other older copy: the spacing doubles evenly over the scene
            recent = index - self.lookahead - 1
            for k in [k for k in self._kept if k < recent][1::2]:
                del self._kept[k]

    def _keep_from(self, index: int) -> int:
        """The oldest frame a copy may still be needed for."""
        if self._shots_in is not None:
            # any frame of an unsettled scene may become a clip's end or middle
            return self._pending[0][0] if self._pending else self._scene_start
        # the open scene [s, e) with e > index - lookahead has its middle at or after this
        s = self._scene_start
        return (s + max(s, index - self.lookahead)) // 2 - self.stride

    def close_scene(self, end: int) -> None:
        """The open scene ends before frame `end` (a confirmed cut): write its thumbnails, or
        (with `shots_in`) its first and last ones, the rest once it is settled."""
        if self._wanted is not None:
            return
        start = self._scene_start
        recent = dict(self._recent)
        if end > start:
            if self._shots_in is None:
                self._write_clip(start, end, recent)
            else:
                if end - 1 in recent:  # the last frame of whatever clip ends the scene
                    self._write(end - 1, recent[end - 1])
                self._pending.append((start, end))
        self._scene_start = end
        if end in recent:
            self._write(end, recent[end])  # the first frame of the next scene

    def settle(self, before: int) -> None:
        """Every boundary before frame `before` is final: write the waiting scenes' clips."""
        if self._shots_in is None or not self._pending or self._pending[0][1] > before:
            return  # nothing settled (the usual answer: it is asked after every frame)
        recent = dict(self._recent)
        while self._pending and self._pending[0][1] <= before:
            start, end = self._pending.popleft()
            for a, b in self._shots_in(start, end):
                self._write_clip(a, b, recent)
        low = self._pending[0][0] if self._pending else self._scene_start
        for k in [k for k in self._kept if k < low]:
            del self._kept[k]

    def finish(self, frame_count: int) -> None:
        """The stream ended after `frame_count` frames: write what is still pending (with
        `shots_in`, the boundaries must be final by now)."""
        if self._wanted is None and frame_count > self._scene_start:
            self.close_scene(frame_count)
        self.settle(frame_count)
        self._kept.clear()
        self._recent.clear()

    def _write_clip(self, start: int, end: int, recent: dict[int, av.VideoFrame]) -> None:
        first, middle, last = clip_thumbnail_frames(start, end)
        self._write_near(last, start, end, recent, self.stride - 1)
        self._write_near(middle, start, end, recent, end - start)
        self._write_near(first, start, end, recent, self.stride - 1)

    def _write_near(self, index: int, start: int, end: int, recent: dict[int, av.VideoFrame],
                    reach: int) -> None:
        """Frame `index` of the clip [start, end): exact when recent, else the kept copy
        nearest it inside the clip, at most `reach` frames away."""
        path = thumbnail_path(self.thumbs_dir, self.source_hash, index)
        if path.exists():
            return
        if index in recent:
            self._save(_thumb_rgb(recent[index], self._scaler), path)
            return
        near = [k for k in self._kept if start <= k < end and abs(k - index) <= reach]
        if near:
            kept = self._kept[min(near, key=lambda k: (abs(k - index), k))]
            self._save(self._kept_to_rgb.reformat(kept, format="rgb24", threads=1).to_ndarray(),
                       path)

    def _write(self, index: int, frame: av.VideoFrame) -> None:
        path = thumbnail_path(self.thumbs_dir, self.source_hash, index)
        if not path.exists():
            self._save(_thumb_rgb(frame, self._scaler), path)

    def _save(self, rgb: np.ndarray, path: Path) -> None:
        save_jpeg(rgb, path)
        self.written.append(path)
