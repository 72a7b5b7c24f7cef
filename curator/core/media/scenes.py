"""Hard-cut detection that runs inside the single decode pass of ingest.

The detector is a consumer: it is fed one small frame at a time (`CutDetector.feed`) and
decides about a frame a few frames later, once it has seen what follows. It never decodes
anything itself, so the same pass also feeds thumbnails and the analysis engine.

A cut at frame `c` means frame `c` is the first frame of a new shot. Frame `c` is a cut when
all of these hold:

1. **A real change.** The difference between frames `c-1` and `c` (mean absolute difference
   of Y, U and V on a 64-pixel-wide copy) is at least `min_change`; "around it" below means
   the busier side of three frames before and after (median), so motion that starts abruptly
   is measured against the motion that follows.
2. **Not motion.** Either the colour histogram jumps at `c` far more than around it (motion,
   even a whip pan, hardly moves a histogram), or the luma change left after motion
   compensation (displacements from phase correlation, refined to a fraction of a pixel, the
   best one per 4×4 block) still stands out from the frames around it, and frames `c-1` and
   `c+1` differ as much: a pan is explained by a shift, a new shot is not.
3. **Not a flash.** Within `flash_frames` after the spike the picture does not come back to
   what it was before (by colour histogram, or by compensated structure for a flash during a
   pan); the frame is not the return from such a transient; and it is not a burst of light
   that ends in a new shot (the cut is then where the burst ends).
4. **Minimum scene length.** It lies at least `min_scene_frames` after the previous cut (and
   after frame 0, and before the end); closer cuts are dropped, as PySceneDetect's
   `min_scene_len` does.
"""

from __future__ import annotations

import statistics
from collections import deque
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

from curator.core.jobs import NEVER_CANCELLED, CancelToken
from curator.core.media.errors import MediaError

# Width of the luma copy the analysis engine and the detector work from; libswscale makes it
# straight from the decoded frame, which is far cheaper than converting the full frame.
WORK_WIDTH = 256
# The detector's own copy: a 4×4 block mean of the work copy.
SMALL_FACTOR = 4

DEFAULT_MIN_SCENE_FRAMES = 8


def work_height(width: int, height: int) -> int:
    """Height of the 256-wide yuv420p work copy: aspect kept to within 2 rows, a multiple of 4.

    A multiple of 4 keeps the chroma planes whole rows in PyAV's (h * 3/2, w) array layout.
    """
    return max(2 * SMALL_FACTOR, int(round(WORK_WIDTH * height / width / 4)) * 4)


@dataclass(frozen=True)
class SceneSettings:
    """Thresholds of the cut detector; the defaults are tuned on generated and real footage.

    Attributes:
        min_scene_frames: no cut closer than this to the previous one or to frame 0.
        min_change: smallest spike (mean absolute Y/U/V difference, 0-255 scale) that can be
            a cut; below it, two shots are too alike to call.
        spike_ratio: how many times the surrounding differences the spike must be.
        motion_ratio: how many times the neighbours' motion-compensated difference it must be.
        min_compensated: smallest motion-compensated difference that can be a cut.
        min_colour_jump: a histogram distance (0..1) at least this large, and
        colour_ratio: times the distances at the neighbouring frames, also tells a new shot
            from motion (either this or the motion-compensated test suffices).
        flash_frames: how far after a spike the picture may come back for it to be a flash.
        flash_return: a frame within `flash_frames` whose histogram distance to the frame
            before the spike is under this share of the spike's own distance means a flash.
    """

    min_scene_frames: int = DEFAULT_MIN_SCENE_FRAMES
    min_change: float = 6.0
    spike_ratio: float = 2.5
    motion_ratio: float = 3.0
    min_compensated: float = 6.0
    min_colour_jump: float = 0.1
    colour_ratio: float = 4.0
    flash_frames: int = 8
    flash_return: float = 0.4


class SmallFrame:
    """The detector's view of one frame: a 64-wide Y/U/V copy and a colour histogram.

    The histogram is counted on the work copy's planes when first asked for: only frames at
    and around a candidate cut need one (a few in a hundred on real films), and counting is
    most of a frame's cost on small footage. Until then the planes are held (the work copy
    must not change afterwards). Nothing changes once made, so a copy shares it.
    """

    __slots__ = ("_hist", "_planes", "_spectrum", "contrast", "luma", "yuv")

    def __init__(self, yuv: np.ndarray, planes: tuple[np.ndarray, np.ndarray, np.ndarray]
                 ) -> None:
        self.yuv = yuv    # float32 (3, h, w)
        mean, sd = cv2.meanStdDev(yuv[0])  # one pass, a tenth of numpy's mean + std
        self.luma = float(mean[0, 0])
        self.contrast = float(sd[0, 0])
        self._planes: tuple[np.ndarray, np.ndarray, np.ndarray] | None = planes
        self._hist: np.ndarray | None = None
        self._spectrum: np.ndarray | None = None

    def __deepcopy__(self, memo: dict[int, object]) -> SmallFrame:
        return self  # immutable but for its caches (the shot engine copies a live detector)

    @classmethod
    def from_work(cls, work: np.ndarray, height: int) -> SmallFrame:
        """Build from the 256-wide yuv420p work copy, as `to_ndarray()` lays it out.

        Args:
            work: uint8 array (height * 3 // 2, 256): the Y plane, then U and V.
            height: the Y plane's height, a multiple of 4 (see `work_height`).
        """
        w = work.shape[1]
        quarter = height // 4
        u = work[height:height + quarter].reshape(height // 2, w // 2)
        v = work[height + quarter:height + 2 * quarter].reshape(height // 2, w // 2)
        return cls.from_planes(work[:height], u, v)

    @classmethod
    def from_planes(cls, y: np.ndarray, u: np.ndarray, v: np.ndarray) -> SmallFrame:
        """Build from the work copy's planes: Y (height, 256), U and V (height/2, 128)."""
        height, w = y.shape
        f = SMALL_FACTOR
        hs, ws = height // f, w // f  # a few bottom rows may be left out of the small copy
        c = f // 2
        small = np.empty((3, hs, ws), np.float32)
        # OpenCV's area resize is the block mean, several times faster than numpy's
        small[0] = cv2.resize(y[:hs * f, :ws * f], (ws, hs), interpolation=cv2.INTER_AREA)
        small[1] = cv2.resize(u[:hs * c, :ws * c], (ws, hs), interpolation=cv2.INTER_AREA)
        small[2] = cv2.resize(v[:hs * c, :ws * c], (ws, hs), interpolation=cv2.INTER_AREA)
        return cls(small, (y, u, v))

    @property
    def hist(self) -> np.ndarray:
        """float32, sums to 3: the Y (16 bins), U and V (8 bins) histograms, each summing to 1."""
        if self._hist is None:
            assert self._planes is not None
            y, u, v = self._planes
            # On the work copy (not the 64-wide one): more pixels, steadier shares.
            # (OpenCV's counts equal numpy's bincount of the top bits, at a third of its cost)
            hist = np.empty(32, np.float32)
            hist[:16] = _counts(y, 16) * (1.0 / y.size)
            hist[16:24] = _counts(u, 8) * (1.0 / u.size)
            hist[24:] = _counts(v, 8) * (1.0 / v.size)
            self._hist, self._planes = hist, None
        return self._hist

    def spectrum(self) -> np.ndarray:
        """The windowed luma spectrum, for phase correlation (computed once per frame)."""
        if self._spectrum is None:
            y = self.yuv[0]
            self._spectrum = np.fft.rfft2((y - y.mean()) * _window(y.shape))
        return self._spectrum


def _counts(plane: np.ndarray, bins: int) -> np.ndarray:
    """Pixels per equal share of 0..255 (`bins` a power of two), as float32."""
    return cv2.calcHist([plane], [0], None, [bins], [0, 256]).ravel()


_WINDOWS: dict[tuple[int, int], np.ndarray] = {}


def _window(shape: tuple[int, int]) -> np.ndarray:
    if shape not in _WINDOWS:
        _WINDOWS[shape] = np.outer(np.hanning(shape[0]), np.hanning(shape[1])).astype(np.float32)
    return _WINDOWS[shape]


def _change(a: SmallFrame, b: SmallFrame) -> float:
    d = np.abs(a.yuv - b.yuv).mean(axis=(1, 2))
    return float(d[0] + 0.5 * (d[1] + d[2]))


def _hist_distance(a: SmallFrame, b: SmallFrame) -> float:
    """Share of the colour distribution that moved, 0..1 (1 - histogram intersection)."""
    return float(1.0 - np.minimum(a.hist, b.hist).sum() / 3.0)


def _motion_candidates(cur: SmallFrame, prev: SmallFrame,
                       peaks: int = 3) -> list[tuple[float, float]]:
    """Likely displacements (dy, dx) from `prev` to `cur`, by phase correlation, plus none.

    Each peak is refined to a fraction of a pixel (a parabola through it and its neighbours):
    on a 64-pixel-wide copy, half a pixel of misalignment on a textured shot leaves as much
    residual as a new shot would.
    """
    cross = cur.spectrum() * np.conj(prev.spectrum())
    cross /= np.abs(cross) + 1e-6
    h, w = cur.yuv.shape[1:]
    corr = np.fft.irfft2(cross, s=(h, w))
    best = np.argpartition(corr.ravel(), -peaks)[-peaks:]
    shifts: list[tuple[float, float]] = [(0.0, 0.0)]
    for flat in best:
        py, px = divmod(int(flat), w)
        fy = _parabola(corr[(py - 1) % h, px], corr[py, px], corr[(py + 1) % h, px])
        fx = _parabola(corr[py, (px - 1) % w], corr[py, px], corr[py, (px + 1) % w])
        iy = py - h if py > h // 2 else py
        ix = px - w if px > w // 2 else px
        # the whole-pixel peak too: where the parabola misleads, it still explains the blocks
        for cand in ((float(iy), float(ix)), (iy + fy, ix + fx)):
            if cand not in shifts:
                shifts.append(cand)
    return shifts


def _parabola(left: float, centre: float, right: float) -> float:
    """Offset (-0.5..0.5) of the top of the parabola through three samples around a peak."""
    denom = left - 2 * centre + right
    if denom >= 0:
        return 0.0
    return float(np.clip(0.5 * (left - right) / denom, -0.5, 0.5))


def _shifted(img: np.ndarray, dy: float, dx: float) -> np.ndarray:
    """`img` displaced by (dy, dx) pixels, bilinear; NaN where it has no source pixel."""
    h, w = img.shape
    out = np.full((h, w), np.nan, np.float32)
    rows, cols = _valid(h, dy), _valid(w, dx)
    if rows[0] < rows[1] and cols[0] < cols[1]:
        out[rows[0]:rows[1], cols[0]:cols[1]] = _shifted_region(img, dy, dx, *rows, *cols)
    return out


def _valid(n: int, d: float) -> tuple[int, int]:
    """Output positions [a, b) along one axis that a displacement by `d` can fill (bilinear)."""
    i = int(np.floor(d))
    return max(0, i + (1 if d > i else 0)), min(n, n + i)


def _shifted_region(img: np.ndarray, dy: float, dx: float, r0: int, r1: int, c0: int,
                    c1: int) -> np.ndarray:
    """Rows [r0, r1) × columns [c0, c1) of `img` displaced by (dy, dx); all must be valid.

    out(y, x) = img(y - dy, x - dx): rows y - iy - 1 (weight fy) and y - iy (weight 1 - fy).
    """
    iy, ix = int(np.floor(dy)), int(np.floor(dx))
    fy, fx = dy - iy, dx - ix

    def src(oy: int, ox: int) -> np.ndarray:
        return img[r0 - oy:r1 - oy, c0 - ox:c1 - ox]

    acc = (1 - fy) * (1 - fx) * src(iy, ix)
    if fx > 0:
        acc = acc + (1 - fy) * fx * src(iy, ix + 1)
    if fy > 0:
        acc = acc + fy * (1 - fx) * src(iy + 1, ix)
        if fx > 0:
            acc = acc + fy * fx * src(iy + 1, ix + 1)
    return acc


def _compensated(cur: SmallFrame, prev: SmallFrame, block: int = 4,
                 reach: float = 0.5) -> float:
    """Luma change left after motion compensation: a low quantile over 4×4 blocks of the best residual.

    The displacements tried are the strongest peaks of the phase correlation of the two
    frames (a pan, a whip pan, a moving object over a still background) and no displacement;
    each block takes the one that explains it best. Blocks a displacement moves out of the
    picture do not count for it, and the 40th percentile ignores the blocks nothing explains
    (the edge a fast pan uncovers, up to half the picture), so a moving shot scores near its
    noise level and a new shot, where nearly every block is unexplained, does not.
    `reach` bounds the displacement tried, as a share of the picture's height and width.
    """
    y1, y0 = cur.yuv[0], prev.yuv[0]
    h, w = y1.shape
    if h < block or w < block:
        return float(np.abs(y1 - y0).mean())
    hb, wb = h // block, w // block
    best = np.full((hb, wb), np.inf, np.float32)
    for dy, dx in _motion_candidates(cur, prev):
        if abs(dy) > reach * h or abs(dx) > reach * w:
            continue
        rows, cols = _valid(h, dy), _valid(w, dx)
        # whole blocks inside the part the displacement fills
        by0, by1 = -(-rows[0] // block), min(hb, rows[1] // block)
        bx0, bx1 = -(-cols[0] // block), min(wb, cols[1] // block)
        if by0 >= by1 or bx0 >= bx1:
            continue
        r0, r1, c0, c1 = by0 * block, by1 * block, bx0 * block, bx1 * block
        diff = np.abs(y1[r0:r1, c0:c1] - _shifted_region(y0, dy, dx, r0, r1, c0, c1))
        means = cv2.resize(diff, (bx1 - bx0, by1 - by0), interpolation=cv2.INTER_AREA)
        np.minimum(best[by0:by1, bx0:bx1], means, out=best[by0:by1, bx0:bx1])
    finite = best[np.isfinite(best)]
    return _quantile_40(finite) if finite.size else float(np.abs(y1 - y0).mean())


def _quantile_40(values: np.ndarray) -> float:
    """The 40th percentile of a float32 array by numpy's "linear" rule, as numpy 2.4's
    `np.quantile(values, 0.4)` gives it to the bit.

    numpy's own walks through a dozen helpers and imports `numpy.ma` (13 ms) on first use, and
    its float32 arithmetic has changed between releases (1.26 answered in float64); here the
    rule is fixed: partition around the two nearest ranks, interpolate in float32 with a
    Python-float weight.
    """
    n = values.size
    virtual = (n - 1) * 0.4
    lo = int(virtual)
    hi = min(lo + 1, n - 1)
    part = np.partition(values, (lo, hi))
    a, b = part[lo], part[hi]
    t = virtual - lo
    diff = b - a
    return float(b - diff * np.float32(1 - t) if t >= 0.5 else a + diff * np.float32(t))


class CutDetector:
    """Finds hard cuts in a stream of `SmallFrame`s fed in order.

    Memory and latency are bounded: it keeps the last few frames and decides about a frame
    `latency` frames after seeing it.
    """

    def __init__(self, settings: SceneSettings = SceneSettings()) -> None:
        self.settings = settings
        self._window = 3  # frames on each side that set the "usual" level
        self._lookahead = max(settings.flash_frames, self._window) + 1
        keep = settings.flash_frames + self._lookahead + self._window + 3
        self._frames: deque[tuple[int, SmallFrame]] = deque(maxlen=keep)
        self._changes: dict[int, float] = {}
        self._hists: dict[int, float] = {}
        self._compensated: dict[int, float] = {}
        self._next_decision = 1
        self._last_index = -1
        self.cuts: list[int] = []
        # cuts whose evidence clears its thresholds twice over: no second opinion needed
        self.sure: set[int] = set()
        # recent candidates that are not cuts, and why (the "usual" level skips flashes); the
        # horizon prunes it like the series: a busy film has a candidate nearly every frame
        self.rejected: dict[int, str] = {}
        self.flashes: list[int] = []  # every frame judged a flash, for the whole pass

    @property
    def latency(self) -> int:
        """Frames fed after frame `c` before a cut at `c` is decided."""
        return self._lookahead

    def feed(self, index: int, frame: SmallFrame) -> None:
        """Take the next frame (indices must follow each other from 0)."""
        if index != self._last_index + 1:
            raise ValueError(f"frames must be fed in order: got {index} after {self._last_index}")
        if self._frames:
            prev = self._frames[-1][1]
            change = _change(frame, prev)
            self._changes[index] = change
            # the histogram distance and the motion search wait until a decision needs them
            # (see `_hist` and `_comp`)
        self._frames.append((index, frame))
        self._last_index = index
        while self._next_decision <= index - self._lookahead:
            self._decide(self._next_decision)
            self._next_decision += 1
        horizon = index - self._frames.maxlen
        for series in (self._changes, self._hists, self._compensated, self.rejected):
            for old in [k for k in series if k < horizon]:
                del series[old]

    def finish(self) -> list[int]:
        """Decide the last frames and return every cut found, ascending."""
        while self._next_decision <= self._last_index:
            self._decide(self._next_decision)
            self._next_decision += 1
        # a last scene shorter than the minimum joins the one before, as the first does
        if self.cuts and self._last_index + 1 - self.cuts[-1] < self.settings.min_scene_frames:
            dropped = self.cuts.pop()
            self.sure.discard(dropped)
            self.rejected[dropped] = "too close to the end"
        return list(self.cuts)

    # -- internals ---------------------------------------------------------------------------

    def _frame(self, index: int) -> SmallFrame | None:
        first = self._frames[0][0] if self._frames else 0
        pos = index - first
        if 0 <= pos < len(self._frames):
            return self._frames[pos][1]
        return None

    def _hist(self, k: int) -> float | None:
        """The histogram distance from frame k-1 to k (None: not fed), counted on first use."""
        value = self._hists.get(k)
        if value is None:
            cur, prev = self._frame(k), self._frame(k - 1)
            if cur is None or prev is None:
                return None
            value = self._hists[k] = _hist_distance(cur, prev)
        return value

    def _comp(self, k: int) -> float | None:
        """The change from frame k-1 to k left after motion compensation (None: not fed).

        Computed on first use, while both frames are still kept: only the frames around a
        spike that may be a cut need the motion search, and a film is mostly calm.
        """
        value = self._compensated.get(k)
        if value is None:
            change = self._changes.get(k)
            cur, prev = self._frame(k), self._frame(k - 1)
            if change is None or cur is None or prev is None:
                return None
            # a still shot needs no motion search: its compensated change is its raw change
            value = (_compensated(cur, prev) if change >= self.settings.min_change / 4
                     else change)
            self._compensated[k] = value
        return value

    def _usual(self, series: Callable[[int], float | None], i: int, floor: float) -> float:
        """The level of `series` around `i`: the busier of the two sides (never below `floor`).

        The busier side, so that motion starting abruptly (a whip pan out of a still shot) is
        measured against the motion that follows, not against the stillness before it.
        """
        w = self._window
        # a flash next door says nothing about the usual level (its frames were decided already)
        left = [v for k in range(i - w, i) if (v := series(k)) is not None
                and not self.rejected.get(k, "").startswith("flash")]
        right = [v for k in range(i + 1, i + 1 + w) if (v := series(k)) is not None]
        # the median of each side: one flash or cut next door does not lift it
        # (statistics: numpy's median on three numbers costs more, and imports numpy.ma)
        sides = [statistics.median(x) for x in (left, right) if x]
        return max(max(sides) if sides else 0.0, floor)

    def _decide(self, i: int) -> None:
        s = self.settings
        d = self._changes.get(i)
        if d is None or d < s.min_change:
            return
        colour = self._colours_jump(i)
        structure = self._structure_jumps(i)
        if not (colour or structure):
            self.rejected[i] = "motion" if d >= s.spike_ratio * self._usual(
                self._changes.get, i, 1.0) else "no spike"
            return
        # of two neighbouring spikes (a one-frame flash), the later must not dominate this one
        nxt = i + 1
        after, here = self._comp(nxt), self._comp(i)
        if (after is not None and here is not None and after > here
                and (self._hist(nxt) or 0.0) > (self._hist(i) or 0.0)):
            self.rejected[i] = "next frame changes more"
            return
        if self._is_flash(i):
            self.rejected[i] = "flash"
            self.flashes.append(i)
            return
        if self._washed_out_before_cut(i):
            self.rejected[i] = "flash before a cut"
            return
        last = self.cuts[-1] if self.cuts else 0
        if i - last < s.min_scene_frames:
            self.rejected[i] = "too close"
            return
        self.cuts.append(i)
        if self._colours_jump(i, margin=2.0) or self._structure_jumps(i, margin=2.0):
            self.sure.add(i)

    def _colours_jump(self, i: int, margin: float = 1.0) -> bool:
        """The colour histogram changes at `i` far more than just before and after it.

        Motion, even a whip pan, barely moves a shot's histogram; a new shot usually does.
        `margin` multiplies the thresholds (2: beyond doubt).
        """
        s = self.settings
        jump = self._hist(i)
        if jump is None or jump < margin * s.min_colour_jump:
            return False
        return jump >= margin * s.colour_ratio * self._usual(self._hist, i, 0.01)

    def _structure_jumps(self, i: int, margin: float = 1.0) -> bool:
        """After motion compensation the change at `i` still stands out from its neighbours.

        This catches cuts between shots of like colours, where the histogram says little.
        `margin` multiplies the ratio to the neighbours (2: beyond doubt).
        """
        s = self.settings
        comp = self._comp(i)
        if comp is None or comp < s.min_compensated:
            return False
        if comp < margin * s.motion_ratio * self._usual(self._comp, i, 1.0):
            return False
        # Across a cut, the frames on either side of it differ as much as the pair at the cut;
        # where motion compensation only slipped on one pair, they match.
        before, after = self._frame(i - 1), self._frame(i + 1)
        if before is None or after is None:
            return True
        across = _compensated(after, before, reach=0.75)
        return across >= max(s.min_compensated, 0.5 * comp)

    def _washed_out_before_cut(self, i: int) -> bool:
        """Frame `i` is a flash (much brighter or darker, contrast gone) that ends in a new shot.

        The cut is then where the flash ends, which is decided on its own frame.
        """
        s = self.settings
        before, at = self._frame(i - 1), self._frame(i)
        if before is None or at is None or at.contrast >= 0.5 * before.contrast:
            return False
        if abs(at.luma - before.luma) < 25:
            return False  # not a burst of light (or a dip to black): a short flat shot is a shot
        for q in range(i + 1, i + 1 + s.flash_frames):
            later = self._frame(q)
            if later is not None and later.contrast >= 2.0 * at.contrast:
                return True
        return False

    def _is_flash(self, i: int) -> bool:
        """The spike at `i` starts or ends a transient after which the shot goes on.

        "Goes on" means the frame after the transient matches the one before it, by colour
        histogram or by motion-compensated structure (a flash during a fast pan comes back
        to a moved picture, whose colours may have drifted).
        """
        s = self.settings
        before, at = self._frame(i - 1), self._frame(i)
        if before is None or at is None:
            return False
        jump = _hist_distance(at, before)
        # what two frames of one shot differ by here, after motion compensation
        calm = [v for k in range(i - self._window, i) if (v := self._comp(k)) is not None
                and not self.rejected.get(k, "").startswith("flash")]
        same_shot = max(s.min_compensated, 3.0 * (statistics.median(calm) if calm else 0.0))

        def alike(a: SmallFrame, b: SmallFrame) -> bool:
            colours = _hist_distance(a, b)
            if colours < s.flash_return * jump:
                return True
            # same structure and colours that drifted only part of the way: a moved picture
            return colours < 0.7 * jump and _compensated(a, b, reach=0.75) < same_shot

        # the picture comes back after the spike: the spike was the start of a flash
        for q in range(i + 1, i + 1 + s.flash_frames):
            later = self._frame(q)
            if later is not None and alike(later, before):
                return True
        # the picture is what it was before a recent transient: the spike ends a flash
        for p in range(i - 2, i - 1 - s.flash_frames, -1):
            earlier = self._frame(p)
            if earlier is not None and alike(at, earlier):
                return True
        return False


def detect_cuts(path: Path, *, settings: SceneSettings = SceneSettings(),
                start: int = 0, end: int | None = None,
                cancel: CancelToken = NEVER_CANCELLED) -> list[int]:
    """Hard cuts of a video (or of the range `[start, end)` of it) in its own decode pass.

    Ingest does not call this (it feeds a `CutDetector` from its one pass); it is for a
    range decided later, such as counting the cuts inside a clip someone trimmed.

    Args:
        path: the video.
        settings: detector thresholds.
        start, end: the frame range; cuts are reported as source frame indices, and a cut at
            `start` itself is never reported.
        cancel: checked between packets.

    Returns:
        Ascending frame indices where a new shot begins.

    Raises:
        MediaError: when the file cannot be decoded.
    """
    from curator.core.media.frames import iter_raw_frames

    detector = CutDetector(settings)
    height = None
    fed = 0
    for index, frame in iter_raw_frames(Path(path), start, end, cancel):
        if height is None:
            height = work_height(frame.width, frame.height)
        work = frame.reformat(width=WORK_WIDTH, height=height, format="yuv420p",
                              interpolation="FAST_BILINEAR", threads=1).to_ndarray()
        detector.feed(index - start, SmallFrame.from_work(work, height))
        fed += 1
    if fed == 0:
        raise MediaError(path, f"no frame decodes in [{start}, {end})")
    return [start + c for c in detector.finish()]


def iter_scenes(cuts: list[int], frame_count: int) -> Iterator[tuple[int, int]]:
    """The `[start, end)` ranges between cuts, covering `[0, frame_count)`."""
    bounds = [0] + [c for c in cuts if 0 < c < frame_count] + [frame_count]
    for a, b in zip(bounds, bounds[1:]):
        if b > a:
            yield a, b
