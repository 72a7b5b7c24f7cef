"""Footage of known truth for the analysis tests: pans, a strobe, cuts, a crossfade, fades, bars.

Shots come from `tests/media_factory.render_frames` (the media engineer's generator); the
transitions the factory does not make (crossfades, fades, letterbox bars, a strobe) are
mixed here frame by frame, so their frame numbers are exact.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

import av
import numpy as np

from tests.media_factory import Segment, render_frames

SIZE = (320, 180)
FPS = 24


@dataclass(frozen=True)
class Footage:
    """A written clip and what is true about it."""

    path: Path
    frames: int
    fps: Fraction
    size: tuple[int, int]
    cuts: tuple[int, ...] = ()                  # first frame of each new shot
    dissolve: tuple[int, int] | None = None     # first mixed frame, frame after the last
    fade: tuple[int, int] | None = None         # first darkened frame, first full frame after
    crop: tuple[int, int, int, int] | None = None  # x, y, w, h that removes the borders


def write_frames(path: Path, frames: np.ndarray | Sequence[np.ndarray], *, fps: int = FPS) -> Path:
    """Encode RGB uint8 frames (n, h, w, 3) as H.264 (near-lossless, so the truth survives).

    A file already there is kept: footage is deterministic, and test modules share a folder.
    """
    if path.exists():
        return path
    frames = np.asarray(frames)
    _, h, w, _ = frames.shape
    with av.open(str(path), "w") as container:
        stream = container.add_stream("libx264", rate=fps)
        stream.width, stream.height, stream.pix_fmt = w, h, "yuv420p"
        stream.options = {"preset": "ultrafast", "crf": "16"}
        for rgb in frames:
            for packet in stream.encode(av.VideoFrame.from_ndarray(rgb, format="rgb24")):
                container.mux(packet)
        for packet in stream.encode(None):
            container.mux(packet)
    return path


def add_source(catalog, path: Path, ranges: Sequence[tuple[int, int]] | None = None
               ) -> tuple[int, list[int]]:
    """Put a video and its clips in a catalog as ingest would (probe facts, clip ranges).

    A path that does not exist is recorded with made-up facts, as a source whose file went away.

    Returns:
        The source id and the new clip ids, in range order.
    """
    from curator.core.media import content_hash, probe

    if path.exists():
        info = probe(path)
        facts = dict(container=info.container, codec=info.codec, fps=info.fps,
                     frame_count=info.frame_count, header_frame_count=info.header_frame_count,
                     width=info.width, height=info.height, duration=info.duration)
        size, mtime, digest = path.stat().st_size, path.stat().st_mtime, content_hash(path)
    else:
        facts = dict(container="mp4", codec="h264", fps=Fraction(FPS), frame_count=48,
                     header_frame_count=48, width=SIZE[0], height=SIZE[1], duration=2.0)
        size, mtime, digest = 1, 0.0, "gone"
    ranges = list(ranges) if ranges else [(0, facts["frame_count"])]
    return catalog.upsert_source(path=path, size=size, mtime=mtime, content_hash=digest,
                                 clip_ranges=ranges, **facts)


def shot(frames: int, seed: int, speed: float = 1.5, kind: str = "texture",
         size: tuple[int, int] = SIZE) -> np.ndarray:
    return render_frames(Segment(kind, frames, seed=seed, speed=speed), size)


def frozen(folder: Path) -> Footage:
    """One picture held still: nothing moves."""
    frames = np.repeat(shot(1, seed=1, speed=0), 48, axis=0)
    return Footage(write_frames(folder / "frozen.mp4", frames), 48, Fraction(FPS), SIZE)


def pan(folder: Path, name: str, speed: float, frames: int = 48) -> Footage:
    """A texture panning `speed` px per frame (at 320 px wide)."""
    return Footage(write_frames(folder / f"{name}.mp4", shot(frames, seed=2, speed=speed)),
                   frames, Fraction(FPS), SIZE)


def strobe(folder: Path) -> Footage:
    """A still picture whose light flips between bright and dark every two frames."""
    base = shot(1, seed=3, speed=0)[0].astype(np.float32)
    frames = [np.clip(base * (1.5 if (i // 2) % 2 else 0.4), 0, 255).astype(np.uint8)
              for i in range(48)]
    return Footage(write_frames(folder / "strobe.mp4", frames), 48, Fraction(FPS), SIZE)


def hard_cut(folder: Path, at: int = 30, frames: int = 60) -> Footage:
    first, second = shot(at, seed=4), shot(frames - at, seed=5)
    return Footage(write_frames(folder / "cut.mp4", np.concatenate([first, second])), frames,
                   Fraction(FPS), SIZE, cuts=(at,))


def crossfade(folder: Path, start: int = 24, length: int = 16, frames: int = 72) -> Footage:
    """Shot A, then frames [start, start+length) mixing A into B linearly, then shot B."""
    a, b = shot(frames, seed=6, speed=1.0), shot(frames, seed=7, speed=1.0)
    out = []
    for i in range(frames):
        alpha = min(1.0, max(0.0, (i - start + 1) / (length + 1)))
        out.append(((1 - alpha) * a[i] + alpha * b[i]).round().astype(np.uint8))
    return Footage(write_frames(folder / "dissolve.mp4", out), frames, Fraction(FPS), SIZE,
                   dissolve=(start, start + length))


def fade_through_black(folder: Path, out_start: int = 20, length: int = 8, black: int = 4,
                       frames: int = 64) -> Footage:
    """Shot A fades to black over `length` frames, holds black, shot B fades in."""
    a, b = shot(frames, seed=8), shot(frames, seed=9)
    black_start = out_start + length
    in_start = black_start + black
    out = []
    for i in range(frames):
        if i < out_start:
            f = a[i].astype(np.float32)
        elif i < black_start:
            f = a[i] * (1 - (i - out_start + 1) / (length + 1))
        elif i < in_start:
            f = np.zeros_like(a[i], dtype=np.float32)
        elif i < in_start + length:
            f = b[i] * ((i - in_start + 1) / (length + 1))
        else:
            f = b[i].astype(np.float32)
        out.append(np.clip(f, 0, 255).round().astype(np.uint8))
    return Footage(write_frames(folder / "fade.mp4", out), frames, Fraction(FPS), SIZE,
                   fade=(out_start, in_start + length))


def reencoded(folder: Path, source: Footage, size: tuple[int, int] = (160, 90)) -> Footage:
    """The same footage at another size and codec (MPEG-4 Part 2): a copy from another source."""
    frames = []
    with av.open(str(source.path)) as container:
        for frame in container.decode(video=0):
            frames.append(frame.to_ndarray(width=size[0], height=size[1], format="rgb24"))
    path = folder / f"{source.path.stem}_copy.mkv"
    if not path.exists():
        with av.open(str(path), "w") as out:
            stream = out.add_stream("mpeg4", rate=FPS)
            stream.width, stream.height, stream.pix_fmt = size[0], size[1], "yuv420p"
            stream.bit_rate = 400_000
            for rgb in frames:
                for packet in stream.encode(av.VideoFrame.from_ndarray(rgb, format="rgb24")):
                    out.mux(packet)
            for packet in stream.encode(None):
                out.mux(packet)
    return Footage(path, len(frames), Fraction(FPS), size)


def letterboxed(folder: Path, bar: int = 20, pillar: int = 0, frames: int = 36,
                size: tuple[int, int] = SIZE) -> Footage:
    """A moving picture with black bars `bar` px high (top, bottom) and `pillar` px wide."""
    w, h = size
    inner = shot(frames, seed=10, size=(w - 2 * pillar, h - 2 * bar))
    out = np.zeros((frames, h, w, 3), np.uint8)
    out[:, bar:h - bar, pillar:w - pillar] = inner
    name = f"letterbox_{w}x{h}_{bar}_{pillar}.mp4"
    return Footage(write_frames(folder / name, out), frames, Fraction(FPS), size,
                   crop=(pillar, bar, w - 2 * pillar, h - 2 * bar))


def flashes(folder: Path) -> Footage:
    """A slow pan with flashes, none of them a cut: two near-white frames (washed flat), a
    two-frame burst of light over most of the picture (frames 20-21), and one black frame."""
    frames = shot(48, seed=11)
    frames[12] = (0.15 * frames[12] + 0.85 * 250).astype(np.uint8)
    frames[30] = (0.15 * frames[30] + 0.85 * 250).astype(np.uint8)
    h, w = frames.shape[1:3]
    yy, xx = np.mgrid[0:h, 0:w]
    burst = ((yy - h * 0.4) / (h * 0.5)) ** 2 + ((xx - w * 0.6) / (w * 0.45)) ** 2 < 1
    frames[20:22][:, burst] = 250
    frames[40] = 0
    return Footage(write_frames(folder / "flashes2.mp4", frames), 48, Fraction(FPS), SIZE)
