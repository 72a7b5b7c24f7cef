"""How musubi-tuner cuts training windows out of one clip (TRAINERS.md §1.6-1.8).

Everything here is pure arithmetic on frame counts, written to follow musubi-tuner's own loops
(`VideoDataset.retrieve_latent_cache_batches` and `media_utils.load_video`) step by step, so that
the windows listed are the windows the trainer caches: same order, same duplicates.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import numpy as np

MODES = ("head", "chunk", "slide", "uniform", "full")

# musubi's VAE frame stride: target_frames are rounded down to 4n+1 (§1.6).
VAE_FRAME_STRIDE = 4

# Training fps per architecture, used by musubi only when `source_fps` is set (§1.8).
ARCHITECTURE_FPS = {"wan": 16.0, "hv": 24.0, "hv15": 24.0, "k5": 24.0, "fp": 30.0}


def round_frames(frames: int) -> int:
    """Round a frame count down to 4n+1: `(f-1)//4*4+1` (20→17, 24→21, 48→45, 2→1)."""
    return (frames - 1) // VAE_FRAME_STRIDE * VAE_FRAME_STRIDE + 1


def round_target_frames(targets: Iterable[int]) -> tuple[int, ...]:
    """musubi's target_frames adjustment: dedupe, sort, round each to 4n+1, dedupe, sort."""
    return tuple(sorted({round_frames(f) for f in set(targets)}))


@dataclass(frozen=True)
class FrameExtraction:
    """A section's `frame_extraction` and the keys that go with it (§1.2, §1.7).

    Attributes:
        mode: head, chunk, slide, uniform or full.
        target_frames: window lengths as the person wrote them (rounded by `targets`).
        frame_stride: slide only: the step between window starts.
        frame_sample: uniform only: how many windows per target.
        max_frames: full only: the longest window.
    """

    mode: str = "head"
    target_frames: tuple[int, ...] = (1,)
    frame_stride: int = 1
    frame_sample: int = 1
    max_frames: int = 129

    @property
    def targets(self) -> tuple[int, ...]:
        """The target frame counts musubi uses after rounding to 4n+1."""
        return round_target_frames(self.target_frames)

    def dataset_keys(self, *, rounded: bool = False) -> dict[str, Any]:
        """The musubi dataset keys of this extraction, only those its mode reads (§1.2).

        Args:
            rounded: write `targets` (4n+1, what musubi uses anyway, without its log warning)
                instead of the targets as the person wrote them.
        """
        keys: dict[str, Any] = {"frame_extraction": self.mode}
        if self.mode != "full":
            keys["target_frames"] = list(self.targets if rounded else self.target_frames)
        if self.mode == "slide":
            keys["frame_stride"] = self.frame_stride
        if self.mode == "uniform":
            keys["frame_sample"] = self.frame_sample
        if self.mode == "full":
            keys["max_frames"] = self.max_frames
        return keys

    @property
    def effective_mode(self) -> str:
        """`uniform` with `frame_sample == 1` is switched to `head` by musubi (§1.2)."""
        if self.mode == "uniform" and self.frame_sample == 1:
            return "head"
        return self.mode

    @property
    def head_limit(self) -> int | None:
        """In head mode only the first `max(targets)` frames are decoded (§1.7)."""
        return max(self.targets) if self.effective_mode == "head" and self.targets else None

    def problems(self) -> list[str]:
        """What musubi would reject or crash on, in words; empty when the settings are usable."""
        found = []
        if self.mode not in MODES:
            found.append(f"frame_extraction '{self.mode}' is not one of {', '.join(MODES)}")
        if self.mode != "full":
            if not self.target_frames:
                found.append("target_frames is empty")
            elif min(self.target_frames) < 1:
                found.append("target_frames must all be at least 1 (a 0 becomes -3 and "
                             "breaks training)")
        if self.mode == "slide" and self.frame_stride < 1:
            found.append("frame_stride must be at least 1 (musubi crashes on 0)")
        if self.mode == "uniform" and self.frame_sample < 1:
            found.append("frame_sample must be at least 1")
        if self.mode == "full" and self.max_frames < 1:
            found.append("max_frames must be at least 1")
        return found

    def windows(self, frame_count: int) -> list[tuple[int, int]]:
        """The `(start, length)` crops musubi takes from a clip of `frame_count` decoded frames.

        `frame_count` is what musubi's loader returns: already limited to `head_limit` in head
        mode and already thinned by `source_fps` (see `loaded_frame_count`). Duplicates are
        kept, in musubi's order: identical windows become one cache file (§1.9).

        Raises:
            ValueError: for a mode musubi does not support.
        """
        n = frame_count
        mode = self.effective_mode
        out: list[tuple[int, int]] = []
        if mode == "head":
            out = [(0, t) for t in self.targets if n >= t]
        elif mode == "chunk":
            for t in self.targets:
                out.extend((i, t) for i in range(0, n, t) if i + t <= n)
        elif mode == "slide":
            for t in self.targets:
                if n >= t:
                    out.extend((i, t) for i in range(0, n - t + 1, self.frame_stride))
        elif mode == "uniform":
            for t in self.targets:
                if n >= t:
                    # The same call as musubi's: float positions truncated to int, so starts
                    # repeat when n - t < frame_sample - 1 (every start is 0 when n == t).
                    starts = np.linspace(0, n - t, self.frame_sample, dtype=int)
                    out.extend((int(i), t) for i in starts)
        elif mode == "full":
            if n >= 1:
                out = [(0, round_frames(min(n, self.max_frames)))]
        else:
            raise ValueError(f"frame_extraction {self.mode} is not supported")
        return out

    def distinct_windows(self, frame_count: int) -> list[tuple[int, int]]:
        """`windows` without duplicates, first occurrence first: one cache file each."""
        return list(dict.fromkeys(self.windows(frame_count)))

    def to_json(self) -> dict[str, object]:
        return {"mode": self.mode, "target_frames": list(self.target_frames),
                "frame_stride": self.frame_stride, "frame_sample": self.frame_sample,
                "max_frames": self.max_frames}


def loaded_frame_count(frames: int, *, source_fps: float | None = None,
                       target_fps: float = 16.0, end_frame: int | None = None) -> int:
    """How many frames musubi's `load_video` returns for a file of `frames` decoded frames.

    Without `source_fps` every decoded frame is kept, up to `end_frame`. With it, musubi drops
    frames with a float accumulator (§1.8): each frame gets the index `int(acc)` from before
    `acc += target/source`; a frame whose index equals the last kept one is dropped, and loading
    stops at the first kept frame whose index reaches `end_frame`. The accumulation is repeated
    here in the same float arithmetic, so the result matches musubi bit for bit (computing
    `i * delta` directly can differ in the last place).

    Args:
        frames: frames PyAV decodes from the file.
        source_fps: the dataset's `source_fps`, or None.
        target_fps: the architecture's training fps (16.0 for Wan).
        end_frame: musubi's end frame (`max(target_frames)` in head mode), or None.

    Returns:
        The clip length musubi cuts windows from.
    """
    if source_fps is None:
        return frames if end_frame is None else min(frames, end_frame)
    return len(musubi_kept_indices(frames, source_fps, target_fps, end_frame))


def musubi_kept_indices(frames: int, source_fps: float, target_fps: float = 16.0,
                        end_frame: int | None = None) -> list[int]:
    """The decoded frames musubi keeps when `source_fps` is set (TRAINERS.md §1.8).

    Returns:
        0-based indices into the file's decoded frames, in order.
    """
    delta = target_fps / source_fps
    accumulator = 0.0
    previous = -1
    kept: list[int] = []
    for i in range(frames):
        index = int(accumulator)
        accumulator += delta
        if index == previous:
            continue
        previous = index
        if end_frame is not None and index >= end_frame:
            break
        kept.append(i)
    return kept


def uniform_collapses(frame_count: int, target: int, frame_sample: int) -> int:
    """How many of uniform's `frame_sample` windows of `target` frames are duplicates."""
    if frame_count < target or frame_sample < 2:
        return 0
    starts = np.linspace(0, frame_count - target, frame_sample, dtype=int)
    return frame_sample - len(set(int(s) for s in starts))


