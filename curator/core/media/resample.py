"""Which frames a clip has at another frame rate: arithmetic on counts, no decoding.

Apart from frames.py (which decodes, with PyAV and numpy) so that the rules, the counts and
the stats import it without the media stack.
"""

from __future__ import annotations

import math
from fractions import Fraction


def _round_half_away(x: Fraction) -> int:
    """Round to nearest, halves away from zero (FFmpeg's AV_ROUND_NEAR_INF)."""
    return int(math.floor(x + Fraction(1, 2))) if x >= 0 else -int(math.floor(-x + Fraction(1, 2)))


def resample_indices(n_frames: int, source_fps: Fraction | float, target_fps: float) -> list[int]:
    """Which source frames a stream converted to `target_fps` shows, as FFmpeg's fps filter does.

    Each source frame `i` is put on the output grid at `round(i * target / source)` (halves away
    from zero, FFmpeg's default `round=near`); output frame `k` shows the last source frame
    placed at or before `k`, so of two frames equally near a slot the later one wins. The
    output has `round(n * target / source)` frames (the end of the last source frame, rounded
    the same way): frames are dropped when slowing down and repeated when speeding up, and
    nothing past the last source frame is ever shown. A test checks this against FFmpeg's own
    fps filter.

    Args:
        n_frames: frames in the source range.
        source_fps: its frame rate.
        target_fps: the wanted rate (16 for Wan).

    Returns:
        Source indices (0-based within the range), one per output frame, non-decreasing.
    """
    if n_frames <= 0:
        return []
    ratio = _rate_ratio(source_fps, target_fps)
    total = max(1, _round_half_away(n_frames * ratio))
    out: list[int] = []
    i = 0
    for k in range(total):
        # advance to the last source frame whose rounded slot is <= k
        while i + 1 < n_frames and _round_half_away((i + 1) * ratio) <= k:
            i += 1
        out.append(i)
    return out


def resampled_frame_count(n_frames: int, source_fps: Fraction | float,
                          target_fps: float) -> int:
    """`len(resample_indices(...))` without building the list: counting 30,000 clips is instant.

    Returns:
        Frames a stream of `n_frames` at `source_fps` has once converted to `target_fps`.
    """
    if n_frames <= 0:
        return 0
    return max(1, _round_half_away(n_frames * _rate_ratio(source_fps, target_fps)))


def _rate_ratio(source_fps: Fraction | float, target_fps: Fraction | float) -> Fraction:
    src = Fraction(source_fps).limit_denominator(1_000_000) if isinstance(source_fps, float) \
        else Fraction(source_fps)
    dst = Fraction(target_fps).limit_denominator(1_000_000) if isinstance(target_fps, float) \
        else Fraction(target_fps)
    if src <= 0 or dst <= 0:
        raise ValueError("frame rates must be positive")
    return dst / src
