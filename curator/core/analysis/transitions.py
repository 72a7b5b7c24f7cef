"""Hard cuts, dissolves, fades and flashes inside a clip, from per-frame measures.

- Hard cut at frame t: the thumbnail of t differs from t-1 far more than neighbouring frames
  differ from each other (so a fast pan, which changes every frame, is no cut), the picture's
  structure changed (normalised correlation, blind to brightness, so a light switched on is
  no cut), and the picture from before the jump does not come back within three frames (that
  is a flash, whose start and end are both jumps).
- Dissolve: a stretch where each frame is a mix of the frames `k` before and `k` after it
  (frame ≈ mean of the two, while those two are different pictures); its first and last mixed
  frames come from fitting the mix weight of each frame, which grows linearly in a crossfade.
- Fade: frames going to or coming from a flat (black or white) frame, brightness rising or
  falling frame by frame. Black at a clip's edges is reported as a fade in or out and a trim
  suggestion, not as a cut; a flat stretch inside a clip is a transition.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:
    from curator.core.analysis.frame_analyzer import _Small

CUT_MIN_MAD = 12.0       # gray levels (0–255) of mean change at 64 px wide, at least
CUT_RATIO = 3.0          # times the typical change of the frames around it
CUT_MAX_NCC = 0.6        # correlation of the two pictures across a cut, at most
CUT_MIN_HIST = 0.15      # or: luma histograms this far apart (half L1, 0..1), at least
CUT_HIST_FLOOR = 0.02
CUT_BASELINE_FRAMES = 10
FLASH_LOOKAHEAD = 3      # frames after a jump in which a return to the old picture makes a flash
FLASH_RETURN = 0.4       # "returns": differs from the old picture by at most this share of the jump
DISSOLVE_MIN_MAD = 10.0  # the two ends of a dissolve differ at least this much
DISSOLVE_MAX_NCC = 0.5   # the ends are different pictures
DISSOLVE_MARGIN = 3      # pure frames of each picture the window must show beside the ramp
DISSOLVE_MIN_DIP = 0.05  # contrast sags at least this much (share) somewhere in a dissolve
DISSOLVE_MIN_FRAMES = 3  # mixed frames, at least (fewer is a cut)
DISSOLVE_MAX_FIT_ERROR = 0.05  # RMS distance of the mix weights from the 0 / ramp / 1 shape
DISSOLVE_MAX_MARGIN_DRIFT = 0.1  # mean weight off 0 (before) or 1 (after the ramp), at most
DISSOLVE_MAX_STEP = 0.5  # no single frame step carries more than this share of the change
FLAT_NORM = 4.0          # thumbnails varying less than this (gray levels, RMS) are flat
FADE_STEP = 0.03         # brightness change per frame (share of the brighter frame) in a fade
SAME_PICTURE_BITS = 10   # hashes this close: the same picture (a dip to black within a shot)


@dataclass(frozen=True)
class DissolveCandidate:
    """A window of frames whose mix weights go flat at 0, ramp, then flat at 1 (a crossfade)."""

    center: int
    k: int
    ends_mad: float
    ends_ncc: float
    start: int      # first mixed frame, from the fitted mix weights
    end: int        # frame after the last mixed frame
    fit_error: float  # RMS of the weights around the fitted 0 / ramp / 1 shape

    @property
    def first(self) -> int:
        return self.center - self.k

    @property
    def last(self) -> int:
        return self.center + self.k


def dissolve_candidate(first: _Small, last: _Small, k: int,
                       ring: Sequence[_Small]) -> DissolveCandidate | None:
    """Test whether the window from `first` to `last` (2k+1 frames) holds a whole dissolve.

    Each frame's mix weight is its projection on the line from the first picture to the
    last one. A crossfade inside the window gives weights near 0, then a straight ramp, then
    near 1; a pan gives a ramp across the whole window (small shifts of a smooth picture look
    like mixes), so the flat stretches at both ends are what tell a dissolve from motion.

    Args:
        first, last: thumbnails of frames c-k and c+k.
        k: the half-window.
        ring: the thumbnails held, ending with `last`.

    Returns:
        A candidate, or None when the window does not look like a whole dissolve.
    """
    flat = 1e-3 + FLAT_NORM * np.sqrt(first.pixels.size)
    if first.norm < flat or last.norm < flat:
        return None  # fades to flat frames are found as fades
    ends = float(np.mean(np.abs(first.pixels - last.pixels)))
    if ends < DISSOLVE_MIN_MAD:
        return None
    ncc = float(np.dot(first.centred, last.centred) / (first.norm * last.norm))
    if ncc > DISSOLVE_MAX_NCC:
        return None
    frames = list(ring)[-(2 * k + 1):]
    # Cheap test first: a mix is flatter than the pictures mixed, so somewhere between the ends
    # the contrast must sag below the straight line from one end's contrast to the other's.
    sd = np.array([f.norm for f in frames])
    straight = np.linspace(sd[0], sd[-1], len(sd))
    if np.min(sd - straight) > -DISSOLVE_MIN_DIP * 0.5 * (sd[0] + sd[-1]):
        return None
    window = np.stack([f.coarse for f in frames])
    span = last.coarse - first.coarse
    weights = (window - first.coarse) @ span / max(1e-6, float(np.dot(span, span)))
    first_index = last.index - 2 * k
    extent = _mix_extent(weights)
    if extent is None:
        return None
    s, e = extent
    # Whole dissolve in view: a few pure frames of each picture on both sides of the ramp.
    if s < DISSOLVE_MARGIN or len(weights) - e < DISSOLVE_MARGIN or e - s < DISSOLVE_MIN_FRAMES:
        return None
    t = np.arange(len(weights), dtype=np.float64)
    shape = np.clip((t - s + 1) / (e - s + 1), 0.0, 1.0)
    fit_error = float(np.sqrt(np.mean((weights - shape) ** 2)))
    if fit_error > DISSOLVE_MAX_FIT_ERROR:
        return None
    # Before the ramp the frames are the first picture, after it the last one.
    if np.mean(np.abs(weights[:s])) > DISSOLVE_MAX_MARGIN_DRIFT or \
            np.mean(np.abs(1.0 - weights[e:])) > DISSOLVE_MAX_MARGIN_DRIFT:
        return None
    if not _contrast_dips(frames, shape, ncc):
        return None
    return DissolveCandidate(first_index + k, k, ends, ncc, first_index + s, first_index + e,
                             fit_error)


def _contrast_dips(frames: Sequence[_Small], shape: np.ndarray, ends_ncc: float) -> bool:
    """Whether contrast sags in the middle of the ramp as it does when two pictures are mixed.

    A mix of two unlike pictures is flatter than either: its spread is
    sqrt((1-a)² sA² + a² sB² + 2a(1-a) r sA sB). A pan that slides one picture out and
    another in keeps its contrast. The middle frames' spread must lie nearer the mix's
    than the straight line from sA to sB.
    """
    n = frames[0].pixels.size
    sd = np.array([f.norm for f in frames]) / np.sqrt(n)
    s_a, s_b = sd[0], sd[-1]
    middle = (shape > 0.3) & (shape < 0.7)
    if not middle.any():
        return False
    a = shape[middle]
    mixed = np.sqrt((1 - a) ** 2 * s_a ** 2 + a ** 2 * s_b ** 2
                    + 2 * a * (1 - a) * ends_ncc * s_a * s_b)
    straight = (1 - a) * s_a + a * s_b
    seen = sd[middle]
    return float(np.mean(np.abs(seen - mixed))) < float(np.mean(np.abs(seen - straight)))


@functools.cache
def _ramp_shapes(n: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Every 0 / ramp / 1 shape over n frames, with its first mixed frame s and end e."""
    t = np.arange(n, dtype=np.float64)
    s, e = np.triu_indices(n + 1, k=1)
    keep = (s >= 1) & (e <= n)
    s, e = s[keep], e[keep]
    shapes = np.clip((t[None, :] - s[:, None] + 1) / (e - s + 1)[:, None], 0.0, 1.0)
    return s, e, shapes


def _mix_extent(weights: np.ndarray) -> tuple[int, int] | None:
    """First mixed frame and the frame after the last (window positions), from mix weights.

    A crossfade over frames [s, e) has weights (t - s + 1) / (e - s + 1) clipped to [0, 1]:
    0 up to s - 1, a straight ramp, 1 from e on. The (s, e) whose shape lies nearest the
    weights (least squares, over all pairs) is the answer; motion inside the two shots makes
    single weights jitter but hardly moves the best pair.
    """
    s, e, shapes = _ramp_shapes(len(weights))
    errors = np.mean((shapes - weights[None, :]) ** 2, axis=1)
    best = int(np.argmin(errors))
    if e[best] - s[best] < 1:
        return None
    return int(s[best]), int(e[best])


@dataclass
class Found:
    """What `find_transitions` found in one clip; frame numbers are source frame numbers."""

    cut_frames: list[int] = field(default_factory=list)
    transitions: list[dict[str, Any]] = field(default_factory=list)
    flashes: int = 0
    trim: list[int] | None = None

    @property
    def count(self) -> int:
        """Shot changes inside the clip: hard cuts, dissolves and fades between its edges."""
        return len(self.cut_frames) + sum(
            1 for t in self.transitions if t["kind"] in ("dissolve", "fade"))

    @property
    def boundary_frames(self) -> list[int]:
        """Frames whose measures straddle a shot change (kept out of motion and hashes)."""
        frames = list(self.cut_frames)
        for t in self.transitions:
            frames.extend(range(t["start"], t["end"] + 1))
        return frames


def find_transitions(*, start: int, end: int, fed: np.ndarray, flat: np.ndarray,
                     mean: np.ndarray, mad1: np.ndarray, ncc1: np.ndarray, hd1: np.ndarray,
                     mad_back: dict[int, np.ndarray],
                     dissolves: Sequence[DissolveCandidate],
                     hashes: np.ndarray | None = None) -> Found:
    """Find cuts, dissolves, fades and flashes in the clip [start, end).

    Args:
        start, end: the clip's range; every array is indexed from `start`.
        fed, flat, mean: per frame: decoded, flat (uniform) picture, mean luma.
        mad1, ncc1, hd1: per frame t: change from t-1 (gray levels), correlation with t-1,
            and histogram distance from t-1 (0..1).
        mad_back: {2: change from t-2, 3: from t-3, 4: from t-4}.
        dissolves: candidates whose windows lie inside the range.
        hashes: per-frame pHashes (0 for none), to tell a dip to black within a shot.

    Returns:
        A `Found`.
    """
    n = end - start
    found = Found()
    flat = flat & fed
    for i in range(1, n):
        m = mad1[i]
        if not (fed[i] and fed[i - 1]) or np.isnan(m) or flat[i] or flat[i - 1]:
            continue
        if m < CUT_MIN_MAD:
            continue
        # A flash: a frame after the jump shows the picture from before it again (frame i-1
        # against i+1..i+3), or this jump leaves a flash (frame i against i-2..i-4).
        ahead = [mad_back[j + 1][i + j] for j in range(1, FLASH_LOOKAHEAD + 1)
                 if i + j < n and not np.isnan(mad_back[j + 1][i + j])]
        if any(r <= FLASH_RETURN * m for r in ahead):
            found.flashes += 1
            continue
        behind = [mad_back[j + 1][i] for j in range(1, FLASH_LOOKAHEAD + 1)
                  if i - j - 1 >= 0 and not np.isnan(mad_back[j + 1][i])]
        if any(r <= FLASH_RETURN * m for r in behind):
            continue  # the end of a flash counted at its start
        if ncc1[i] > CUT_MAX_NCC:
            continue  # the same picture, brighter or darker: light, not a cut
        lo, hi = max(1, i - CUT_BASELINE_FRAMES), min(n, i + CUT_BASELINE_FRAMES + 1)
        sides = (slice(lo, max(lo, i - 1)), slice(min(hi, i + 2), hi))
        stands_out = m >= CUT_RATIO * _baseline(mad1, sides, 1.0, np.median)
        # Into or out of very fast motion the picture changes every frame, hiding a cut from
        # the test above; the histogram ignores motion: it jumps only when the picture does.
        h = hd1[i]
        if not stands_out and not np.isnan(h) and h >= CUT_MIN_HIST:
            stands_out = h >= CUT_RATIO * _baseline(hd1, sides, CUT_HIST_FLOOR, np.median)
        if not stands_out:
            continue
        found.cut_frames.append(start + i)
    _find_fades(found, start, n, fed, flat, mean, hashes)
    _pick_dissolves(found, start, n, flat, mad1, dissolves)
    found.transitions.sort(key=lambda t: t["start"])
    return found


def _baseline(values: np.ndarray, sides: tuple[slice, slice], floor: float, stat) -> float:
    """The typical value around a frame (both sides pooled), at least `floor`."""
    around = np.concatenate([values[sides[0]], values[sides[1]]])
    around = around[~np.isnan(around)]
    return max(floor, float(stat(around))) if around.size else floor


def _flat_runs(flat: np.ndarray) -> list[tuple[int, int]]:
    runs, i, n = [], 0, len(flat)
    while i < n:
        if flat[i]:
            j = i
            while j < n and flat[j]:
                j += 1
            runs.append((i, j))
            i = j
        else:
            i += 1
    return runs


def _fading(brighter: float, darker: float) -> bool:
    return brighter - darker > max(1.0, FADE_STEP * brighter)


def _find_fades(found: Found, start: int, n: int, fed: np.ndarray, flat: np.ndarray,
                mean: np.ndarray, hashes: np.ndarray | None) -> None:
    lead_end, tail_start = 0, n
    for a, b in _flat_runs(flat):
        # Walk out of the flat run while brightness keeps changing the way a fade does.
        p = a
        while p - 2 >= 0 and not flat[p - 1] and fed[p - 2] and _fading(mean[p - 2], mean[p - 1]):
            p -= 1
        q = b
        while q + 1 < n and not flat[q] and fed[q + 1] and _fading(mean[q + 1], mean[q]):
            q += 1
        if a == 0 and b == n:
            found.transitions.append({"kind": "flat", "start": start, "end": start + n})
            lead_end, tail_start = n, n
        elif a == 0:
            found.transitions.append({"kind": "fade_in", "start": start, "end": start + q})
            lead_end = q
        elif b == n:
            found.transitions.append({"kind": "fade_out", "start": start + p, "end": start + n})
            tail_start = p
        else:
            same = (hashes is not None and hashes[p - 1] and hashes[q]
                    and (int(hashes[p - 1]) ^ int(hashes[q])).bit_count() <= SAME_PICTURE_BITS)
            if same and b - a <= 2 and p == a and q == b:
                found.flashes += 1  # one or two flat frames inside a shot: a flash
                continue
            found.transitions.append({"kind": "fade", "start": start + p, "end": start + q})
    if lead_end or tail_start < n:
        found.trim = [start + lead_end, start + tail_start] if lead_end < tail_start else None


def _pick_dissolves(found: Found, start: int, n: int, flat: np.ndarray, mad1: np.ndarray,
                    candidates: Sequence[DissolveCandidate]) -> None:
    cuts = set(found.cut_frames)
    busy = [(t["start"], t["end"]) for t in found.transitions]
    good: list[DissolveCandidate] = []
    for c in candidates:
        lo, hi = c.first - start, c.last - start
        if any(c.first < f <= c.last for f in cuts) or flat[lo:hi + 1].any():
            continue
        steps = mad1[lo + 1:hi + 1]
        steps = steps[~np.isnan(steps)]
        if steps.size and steps.max() > DISSOLVE_MAX_STEP * c.ends_mad:
            continue
        if any(s < c.end and c.start < e for s, e in busy):
            continue
        good.append(c)
    # Overlapping candidates are one dissolve; the window fitting the shape best tells its frames.
    good.sort(key=lambda c: c.start)
    groups: list[list[DissolveCandidate]] = []
    for c in good:
        if groups and c.start < max(g.end for g in groups[-1]):
            groups[-1].append(c)
        else:
            groups.append([c])
    for group in groups:
        best = min(group, key=lambda c: (c.fit_error, -c.k))
        found.transitions.append({"kind": "dissolve", "start": best.start, "end": best.end,
                                  "center": best.center})
