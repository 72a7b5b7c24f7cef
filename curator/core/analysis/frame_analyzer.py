"""Per-frame measurements taken while a video is decoded, summed up per clip on demand.

`FrameAnalyzer.feed` is called once per decoded frame (gray, 256 px wide), by ingest's
decode loop or by `analyze_clips`; it keeps a few numbers per frame (a hundred bytes, so a
two-hour film costs about 20 MB) and a short ring of 64-px thumbnails for the measures that
compare frames up to 48 apart. `finish_clip(start, end)` turns the numbers of one frame range
into the clip's analysis dict, using only measures whose frames all lie inside the range, so
a clip analysed during ingest (the whole film fed once) gets the same result as the clip
analysed alone.

Units, chosen so a person can read them:
- motion: how far the picture moves between two frames of the 16 fps training stream, in
  pixels of a 256-px-wide picture (1.0 = it would cross the picture in 16 s; 16 = in 1 s).
  Flow is measured between source frames about 1/16 s apart, so the figure does not depend on
  the source frame rate and compression noise does not grow with it.
- luma: 0–255 gray levels.
- borders and crops: pixels of the source.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Sequence
from fractions import Fraction
from typing import Any, Protocol

import cv2
import numpy as np

from curator.core.analysis.phash import frame_hash, hash_to_hex
from curator.core.analysis.text import TEXT_WIDTH, TextSampler
from curator.core.media.scenes import SceneSettings
from curator.core.media.shots import Judgement, ShotEngine

ANALYSIS_VERSION = 1
ANALYSIS_WIDTH = 256          # frames are fed at this width (aspect kept, even height)
MOTION_FPS = 16.0             # motion is expressed per frame of a stream at this rate (Wan's)
SMALL_WIDTH = 64              # thumbnails for the flat-frame measure

STILL_MOTION = 0.5            # below this a frame counts as nearly still (motion units)
CAMERA_STILL_MEAN = 0.3       # camera motion (mean, p95) below these: a locked-off camera
CAMERA_STILL_P95 = 1.0
BAR_LEVEL = 24.0              # a border row or column is this dark on average (cropdetect's limit)
BAR_PEAK = 40.0               # ... and nowhere brighter than this (a dark scene has highlights)
BAR_SD = 4.0                 # ... and flat: a bar's row varies less than this (a dark scene has
                             # texture, grain and vignetting even where it is as dark as a bar)
BAR_PAIR_SLACK = 0.25        # opposite bars differ by at most this share of the thicker (+ 4 px)
FLAT_SD = 4.0                 # a frame whose thumbnail varies less than this is flat (black, white)
BLACK_LEVEL = 32.0            # a flat frame this dark is black
DARK_MEAN, DARK_P95 = 40.0, 110.0     # a very dark frame: dim on average and in its highlights
WASHED_P05, WASHED_SPREAD = 64.0, 128.0  # washed out: no blacks, and a narrow tonal range
FLICKER_JUMP = 12.0           # a change of mean luma this large between two frames is a jump
HASHES_PER_CLIP = 5
MIN_BAR_PX = 2                # borders thinner than this (source px) are left alone
BORDER_PERCENTILE = 10        # a side's bar: the 10th percentile of the per-frame bars
BORDER_EVERY = 4              # borders are measured on every 4th frame

# Per-frame columns: name -> dtype. NaN (or 0 for ints) where a measure was not taken.
_COLUMNS: dict[str, Any] = {
    "fed": np.bool_,
    "mean": np.float32, "p05": np.float32, "p95": np.float32,
    "flat": np.bool_,
    "motion": np.float32, "camera": np.float32, "inpic": np.float32,  # flow from t-step to t
    "hash": np.uint64,
    "bar_top": np.float32, "bar_bottom": np.float32, "bar_left": np.float32,
    "bar_right": np.float32,
}


class SourceLike(Protocol):
    """What the analyzer needs to know about a source (a `SourceInfo`, a `ClipRow`)."""

    fps: Fraction
    width: int
    height: int


class _Columns:
    """Growable per-frame arrays indexed by absolute frame number."""

    def __init__(self) -> None:
        self.base: int | None = None
        self.size = 0
        self.data = {name: self._blank(name, 1024) for name in _COLUMNS}

    @staticmethod
    def _blank(name: str, n: int) -> np.ndarray:
        dtype = _COLUMNS[name]
        if dtype in (np.bool_, np.uint64):
            return np.zeros(n, dtype=dtype)
        return np.full(n, np.nan, dtype=dtype)

    def slot(self, index: int) -> int:
        if self.base is None:
            self.base = index
        pos = index - self.base
        if pos < 0:
            raise ValueError(f"frame {index} fed after frame {self.base + self.size - 1}; "
                             f"frames must come in order")
        capacity = len(self.data["fed"])
        if pos >= capacity:
            new = max(pos + 1, capacity * 2)
            for name, arr in self.data.items():
                grown = self._blank(name, new)
                grown[:capacity] = arr
                self.data[name] = grown
        self.size = max(self.size, pos + 1)
        return pos

    def view(self, name: str, start: int, end: int) -> np.ndarray:
        """Values for frames [start, end); frames never fed read as NaN / 0 / False."""
        out = self._blank(name, max(0, end - start))
        if self.base is None:
            return out
        lo, hi = max(start, self.base), min(end, self.base + self.size)
        if hi > lo:
            out[lo - start:hi - start] = self.data[name][lo - self.base:hi - self.base]
        return out


class FrameAnalyzer:
    """Measures motion, cuts, borders, exposure and hashes of frames fed in decode order.

    One analyzer per source and per thread. Frames must come in increasing index order; a gap
    (frames not fed) only means no measure spans it.

    Args:
        fps: the source frame rate.
        source_width, source_height: the source picture size (crops are given in it).
    """

    def __init__(self, fps: Fraction | float, source_width: int, source_height: int, *,
                 text: bool = True, shots: ShotEngine | bool = True) -> None:
        self.fps = float(fps) if fps else 25.0
        # Burned-in text is looked for on its own sparse grid of larger frames (text.py).
        self.text = TextSampler(self.fps, source_width, source_height) if text else None
        self.text_width = TEXT_WIDTH
        self.source_width = int(source_width)
        self.source_height = int(source_height)
        # Flow between frames about 1/16 s apart: source frames `step` apart.
        self.step = max(1, int(self.fps / MOTION_FPS + 0.5))
        # Multiply a displacement over `step` frames (at 256 px) by this to get motion units.
        self._motion_scale = self.fps / (self.step * MOTION_FPS)
        self._cols = _Columns()
        # The shot engine judges cuts and transitions; ingest hands over the one its split
        # uses (fed by the pass itself), otherwise the analyzer feeds its own.
        if isinstance(shots, ShotEngine):
            self.shots: ShotEngine | None = shots
            self._own_shots = False
        else:
            self.shots = ShotEngine(SceneSettings(min_scene_frames=1)) if shots else None
            self._own_shots = bool(shots)
        self._grays: deque[tuple[int, np.ndarray]] = deque(maxlen=self.step + 1)
        self._flow = cv2.DISOpticalFlow.create(cv2.DISOPTICAL_FLOW_PRESET_FAST)
        self._last_index: int | None = None
        self._grid_cache: dict[tuple[int, int], np.ndarray] = {}

    def share_shots(self, engine: ShotEngine) -> None:
        """Judge clips with `engine`, which the caller feeds (ingest's split uses it too)."""
        self.shots = engine
        self._own_shots = False

    # --- feeding -----------------------------------------------------------------------

    def feed(self, index: int, gray: np.ndarray, frame: Any = None) -> None:
        """Take one decoded frame.

        Args:
            index: the frame's number in the source (frames decoded before it, from 0).
            gray: the frame as a 2-D uint8 array, 256 px wide (any width works; measures are
                scaled to 256 px).
            frame: the decoded `av.VideoFrame` it came from, for the shot engine's colour
                copies; without it the engine sees the gray frame only.

        Raises:
            ValueError: when frames come out of order or the array is not 2-D.
        """
        if gray.ndim != 2:
            raise ValueError(f"frame {index}: expected a 2-D gray array, got shape {gray.shape}")
        if self._last_index is not None and index <= self._last_index:
            raise ValueError(f"frame {index} fed after frame {self._last_index}; "
                             f"frames must come in order")
        if self._last_index is not None and index != self._last_index + 1:
            self._grays.clear()  # a gap: nothing may compare frames across it
        self._last_index = index
        cols = self._cols
        pos = cols.slot(index)
        d = cols.data
        d["fed"][pos] = True
        gray = np.ascontiguousarray(gray)
        self._exposure(pos, gray)
        if index % BORDER_EVERY == 0:  # bars hold still: a sample of the frames finds them
            self._borders(pos, gray)
        d["flat"][pos] = self._is_flat(gray)
        if not d["flat"][pos]:
            d["hash"][pos] = np.uint64(frame_hash(self._hash_region(gray)))
        if self._own_shots and self.shots is not None:
            if frame is not None:
                self.shots.feed(index, frame)
            else:
                self.shots.feed_gray(index, gray)
        self._motion(pos, index, gray)

    def wants_text(self, index: int, ranges: Sequence[tuple[int, int]] = ()) -> bool:
        """Whether the text check wants frame `index` (then `feed_text` it, TEXT_WIDTH wide)."""
        return self.text is not None and self.text.wants(index, ranges)

    def feed_text(self, index: int, gray: np.ndarray) -> None:
        """Take a frame the text check asked for: gray, `TEXT_WIDTH` px wide (or the source's)."""
        if self.text is not None:
            self.text.feed(index, gray)

    def _exposure(self, pos: int, gray: np.ndarray) -> None:
        h, w = gray.shape
        # The middle 60 % of the height: letterbox bars (up to 2.39:1 in 16:9) stay outside.
        centre = gray[int(h * 0.2):max(int(h * 0.8), int(h * 0.2) + 1), int(w * 0.05):int(w * 0.95)]
        hist = cv2.calcHist([centre], [0], None, [256], [0, 256]).ravel()
        cdf = np.cumsum(hist) / max(1.0, hist.sum())
        d = self._cols.data
        d["mean"][pos] = float(cv2.mean(centre)[0])
        d["p05"][pos] = float(np.searchsorted(cdf, 0.05))
        d["p95"][pos] = float(np.searchsorted(cdf, 0.95))

    def _borders(self, pos: int, gray: np.ndarray) -> None:
        h, w = gray.shape
        rows = cv2.reduce(gray, 1, cv2.REDUCE_AVG, dtype=cv2.CV_32F).ravel()
        cols = cv2.reduce(gray, 0, cv2.REDUCE_AVG, dtype=cv2.CV_32F).ravel()
        row_peak = cv2.reduce(gray, 1, cv2.REDUCE_MAX).ravel()
        col_peak = cv2.reduce(gray, 0, cv2.REDUCE_MAX).ravel()
        square = cv2.multiply(gray, gray, dtype=cv2.CV_32F)
        row_sd = _spread(cv2.reduce(square, 1, cv2.REDUCE_AVG).ravel(), rows)
        col_sd = _spread(cv2.reduce(square, 0, cv2.REDUCE_AVG).ravel(), cols)
        sy, sx = self.source_height / h, self.source_width / w
        d = self._cols.data
        d["bar_top"][pos] = _bar(rows, row_peak, row_sd) * sy
        d["bar_bottom"][pos] = _bar(rows[::-1], row_peak[::-1], row_sd[::-1]) * sy
        d["bar_left"][pos] = _bar(cols, col_peak, col_sd) * sx
        d["bar_right"][pos] = _bar(cols[::-1], col_peak[::-1], col_sd[::-1]) * sx

    @staticmethod
    def _hash_region(gray: np.ndarray) -> np.ndarray:
        # The middle of the picture: the same shot letterboxed in one source and not in
        # another, or with a logo in a corner, still hashes alike.
        h, w = gray.shape
        return gray[int(h * 0.125):int(h * 0.875), int(w * 0.05):int(w * 0.95)]

    @staticmethod
    def _is_flat(gray: np.ndarray) -> bool:
        h, w = gray.shape
        sh = max(2, int(round(h * SMALL_WIDTH / w / 2)) * 2)
        pixels = cv2.resize(gray, (SMALL_WIDTH, sh), interpolation=cv2.INTER_AREA)
        return float(pixels.std()) < FLAT_SD

    def _motion(self, pos: int, index: int, gray: np.ndarray) -> None:
        grays = self._grays
        grays.append((index, gray))
        if index % self.step or len(grays) <= self.step:
            return
        prev_index, prev = grays[-1 - self.step]
        if prev_index != index - self.step:
            return
        flow = self._flow.calc(prev, gray, None)
        # Block means over 4×4 pixels: a person 6 px wide still registers, while the flow
        # noise of compression (incoherent from pixel to pixel) averages out.
        h, w = gray.shape
        scale = self._motion_scale * ANALYSIS_WIDTH / w
        blocks = cv2.resize(flow, (max(1, w // 4), max(1, h // 4)),
                            interpolation=cv2.INTER_AREA) * scale
        motion, camera, inpic = _flow_stats(blocks, self._grid(blocks.shape[0], blocks.shape[1]))
        d = self._cols.data
        d["motion"][pos], d["camera"][pos], d["inpic"][pos] = motion, camera, inpic

    def _grid(self, bh: int, bw: int) -> np.ndarray:
        key = (bh, bw)
        if key not in self._grid_cache:
            ys, xs = np.mgrid[0:bh, 0:bw].astype(np.float32)
            xs = (xs - (bw - 1) / 2) / max(1, bw)
            ys = (ys - (bh - 1) / 2) / max(1, bw)
            self._grid_cache[key] = np.stack([xs.ravel(), ys.ravel(), np.ones(bh * bw, np.float32)],
                                             axis=1)
        return self._grid_cache[key]

    # --- summing up --------------------------------------------------------------------

    def finish_clip(self, start: int, end: int) -> dict[str, Any]:
        """The analysis of frames [start, end), from the frames fed so far.

        Args:
            start: first frame of the clip (source frame number).
            end: frame after its last (exclusive).

        Returns:
            The analysis dict (JSON-safe): version, range, motion figures, `cuts` (hard cuts,
            dissolves and fades inside the clip: a count), `cut_frames` and `transitions`
            (source frame numbers), flashes, a trim suggestion, flicker, borders and crop,
            exposure, frame hashes. `frames_seen` is less than the range when the decode ended
            early.
        """
        if end <= start:
            raise ValueError(f"empty clip range [{start}, {end})")
        c = self._cols
        fed = c.view("fed", start, end)
        flat = c.view("flat", start, end)
        mean = c.view("mean", start, end)
        found = self.shots.judge(start, end) if self.shots is not None else Judgement()
        analysis: dict[str, Any] = {
            "version": ANALYSIS_VERSION,
            "range": [start, end],
            "frames_seen": int(fed.sum()),
            "fps": self.fps,
            "motion_step": self.step,
        }
        analysis.update(self._motion_summary(start, end, found))
        analysis["cuts"] = found.count  # what the catalog's `cuts` column holds
        analysis["cut_frames"] = found.cut_frames
        # gradual boundaries, then the edge fades (trim suggestions, not boundaries)
        analysis["transitions"] = sorted(
            [t.to_json() for t in found.boundaries if t.kind != "cut"] + found.edge_fades,
            key=lambda t: t["start"])
        analysis["flashes"] = found.flashes
        analysis["trim"] = found.trim
        analysis["flicker"] = _flicker(mean, flat, found.boundary_frames, start)
        analysis["borders"] = self._border_summary(start, end, flat, fed)
        analysis["exposure"] = _exposure_summary(c, start, end, fed, flat)
        analysis["hashes"] = self._pick_hashes(start, end, found)
        text = self.text.finish_clip(start, end) if self.text is not None else None
        analysis["text"] = text
        analysis["text_share"] = text.get("share") if text else None
        return analysis

    def _motion_summary(self, start: int, end: int, found: Judgement) -> dict[str, Any]:
        c = self._cols
        motion = c.view("motion", start, end)
        camera = c.view("camera", start, end)
        inpic = c.view("inpic", start, end)
        flat = c.view("flat", start, end)
        valid = ~np.isnan(motion)
        # Only flow whose both frames lie in the clip, and none across a cut or a flat frame.
        valid[:min(self.step, len(valid))] = False
        for frame in found.boundary_frames:
            lo = frame - start
            valid[max(0, lo):min(len(valid), lo + self.step)] = False
        flat_idx = np.nonzero(flat)[0]
        for lo in flat_idx:
            valid[lo:min(len(valid), lo + self.step + 1)] = False
        # Optical flow assumes constant brightness: across a flash or a strobe it reports
        # motion that is not there, so pairs whose brightness jumps are left out too.
        mean = c.view("mean", start, end)
        if len(mean) > self.step:
            jumps = np.abs(mean[self.step:] - mean[:-self.step]) > FLICKER_JUMP
            valid[self.step:] &= ~jumps
        m, cam, ip = motion[valid], camera[valid], inpic[valid]
        if m.size == 0:
            return {"motion": None, "motion_p50": None, "motion_p95": None, "motion_max": None,
                    "still_share": None, "camera": None, "camera_p95": None, "in_picture": None,
                    "in_picture_p95": None, "camera_still": None, "motion_samples": 0}
        cam_mean, cam_p95 = float(cam.mean()), float(np.percentile(cam, 95))
        return {
            "motion": round(float(m.mean()), 3),
            "motion_p50": round(float(np.median(m)), 3),
            "motion_p95": round(float(np.percentile(m, 95)), 3),
            "motion_max": round(float(m.max()), 3),
            "still_share": round(float(np.mean(m < STILL_MOTION)), 3),
            "camera": round(cam_mean, 3),
            "camera_p95": round(cam_p95, 3),
            "in_picture": round(float(ip.mean()), 3),
            "in_picture_p95": round(float(np.percentile(ip, 95)), 3),
            "camera_still": bool(cam_mean < CAMERA_STILL_MEAN and cam_p95 < CAMERA_STILL_P95),
            "motion_samples": int(m.size),
        }

    def _border_summary(self, start: int, end: int, flat: np.ndarray,
                        fed: np.ndarray) -> dict[str, Any]:
        c = self._cols
        usable = fed & ~flat
        W, H = self.source_width, self.source_height  # noqa: N806 - the formulas' names
        bars: dict[str, int] = {}
        for side, size in (("top", H), ("bottom", H), ("left", W), ("right", W)):
            values = c.view(f"bar_{side}", start, end)[usable]
            values = values[~np.isnan(values)]
            if values.size == 0:
                bars[side] = 0
                continue
            bar = float(np.percentile(values, BORDER_PERCENTILE))
            px = int(round(bar))
            if px < MIN_BAR_PX or px >= size // 2:
                px = 0
            bars[side] = px + (px % 2)  # crops cut at even pixels (4:2:0 video)
        for a, b in (("top", "bottom"), ("left", "right")):
            bars[a] = bars[b] = _paired(bars[a], bars[b])
        if not any(bars.values()):
            return {"top": 0, "bottom": 0, "left": 0, "right": 0, "crop": None}
        crop = [bars["left"], bars["top"], W - bars["left"] - bars["right"],
                H - bars["top"] - bars["bottom"]]
        return {**bars, "crop": crop}

    def _pick_hashes(self, start: int, end: int, found: Judgement) -> list[str]:
        c = self._cols
        hashes = c.view("hash", start, end)
        ok = hashes != 0
        for frame in found.boundary_frames:  # the frames next to a cut may be blended
            lo = frame - start
            ok[max(0, lo - 2):min(len(ok), lo + 2)] = False
        candidates = np.nonzero(ok)[0]
        if candidates.size == 0:
            return []
        n = len(hashes)
        picked: list[int] = []
        for k in range(HASHES_PER_CLIP):
            target = (k + 0.5) * n / HASHES_PER_CLIP
            j = int(candidates[np.argmin(np.abs(candidates - target))])
            if j not in picked:
                picked.append(j)
        return [hash_to_hex(int(hashes[j])) for j in picked]


def make_frame_analyzer(source_info: SourceLike) -> FrameAnalyzer:
    """A FrameAnalyzer for one source.

    Args:
        source_info: the source's `SourceInfo` (or anything with `fps`, `width`, `height`).

    Returns:
        A fresh analyzer; feed it the source's frames in order, 256 px wide, gray.
    """
    return FrameAnalyzer(source_info.fps, source_info.width, source_info.height)


# --- measures on arrays --------------------------------------------------------------------

def _spread(mean_square: np.ndarray, mean: np.ndarray) -> np.ndarray:
    """Standard deviation of each row (or column) from its mean square and its mean."""
    return np.sqrt(np.maximum(0.0, mean_square - mean.astype(np.float32) ** 2))


def _paired(a: int, b: int) -> int:
    """One thickness for two opposite bars, or 0 when they are no pair.

    Letterbox and pillarbox bars come in pairs of (nearly) equal thickness; a dark stretch on
    one side only is a dark scene, and cropping it would cut picture away. Of a pair, the
    thinner bar is kept for both sides, so a dark scene touching one bar is not cut either.
    """
    if not a or not b or abs(a - b) > 4 + BAR_PAIR_SLACK * max(a, b):
        return 0
    return min(a, b)


def _bar(profile: np.ndarray, peak: np.ndarray, spread: np.ndarray) -> float:
    """Thickness (in rows, to a fraction of a row) of the dark bar at the start of a profile.

    Args:
        profile: mean luma of each row (or column), from the edge inwards.
        peak: brightest pixel of each row.
        spread: standard deviation of each row (a bar is flat).

    The first row past the bar is often part dark, part picture after scaling down; its mean
    between the bar's and the next row's says which fraction of it is picture.
    """
    dark = (profile <= BAR_LEVEL) & (peak <= BAR_PEAK) & (spread <= BAR_SD)
    if not dark[0]:
        return 0.0
    j = int(np.argmin(dark)) if not dark.all() else len(profile)
    if j >= len(profile) - 1:
        return float(len(profile))
    black = float(profile[:j].mean())
    edge, inside = float(profile[j]), float(profile[j + 1])
    if inside - black < 8.0:
        return float(j)
    share = min(1.0, max(0.0, (edge - black) / (inside - black)))
    return j + 1.0 - share


def _flow_stats(blocks: np.ndarray, grid: np.ndarray) -> tuple[float, float, float]:
    """Motion, camera and in-picture motion of one block-averaged flow field.

    The camera is an affine motion (pan, tilt, zoom, roll) fitted by least squares, refitted on
    the blocks that follow it best, so that people walking do not drag it along; motion inside
    the picture is what the camera model leaves.

    Returns:
        (98th percentile of the flow's length, mean length of the camera's motion field,
        98th percentile of the length of the rest).
    """
    vec = blocks.reshape(-1, 2)
    length = np.sqrt(np.einsum("ij,ij->i", vec, vec))
    motion = _percentile(length, 98)
    coef = _affine_fit(grid, vec)
    resid = vec - grid @ coef
    resid_len = np.einsum("ij,ij->i", resid, resid)
    keep = resid_len <= _percentile(resid_len, 60)
    if keep.sum() >= 6:
        coef = _affine_fit(grid[keep], vec[keep])
    model = grid @ coef
    camera = float(np.mean(np.sqrt(np.einsum("ij,ij->i", model, model))))
    rest = vec - model
    return motion, camera, _percentile(np.sqrt(np.einsum("ij,ij->i", rest, rest)), 98)


def _affine_fit(grid: np.ndarray, vec: np.ndarray) -> np.ndarray:
    """Least-squares affine motion (3×2) by the normal equations: a 3×3 solve."""
    gram = grid.T @ grid
    try:
        return np.linalg.solve(gram, grid.T @ vec)
    except np.linalg.LinAlgError:
        return np.zeros((3, 2), np.float32)


def _percentile(values: np.ndarray, q: float) -> float:
    """The q-th percentile (nearest rank), via a partial sort: several times faster."""
    k = min(len(values) - 1, max(0, int(round(q / 100 * (len(values) - 1)))))
    return float(np.partition(values, k)[k])


def _flicker(mean: np.ndarray, flat: np.ndarray, boundary_frames: list[int],
             start: int) -> dict[str, Any]:
    """Jumps of the picture's mean brightness from one frame to the next (strobes, flashes).

    Steps across a cut, a dissolve or a fade are not flicker and are left out.
    """
    jumps = np.abs(np.diff(mean))
    ok = ~np.isnan(jumps) & ~flat[1:] & ~flat[:-1]
    for frame in boundary_frames:
        if 0 < frame - start <= len(ok):
            ok[frame - start - 1] = False
    pairs = int(ok.sum())
    big = int(np.sum(jumps[ok] > FLICKER_JUMP))
    return {"jumps": big, "share": round(big / pairs, 3) if pairs else 0.0,
            "mean_change": round(float(jumps[ok].mean()), 2) if pairs else 0.0}


def _exposure_summary(c: _Columns, start: int, end: int, fed: np.ndarray,
                      flat: np.ndarray) -> dict[str, Any]:
    mean, p05, p95 = (c.view(n, start, end) for n in ("mean", "p05", "p95"))
    seen = fed & ~np.isnan(mean)
    n = int(seen.sum())
    if n == 0:
        return {"mean_luma": None, "dark_share": None, "washed_out_share": None,
                "flat_frames": 0, "black_frames": 0}
    dark = (mean < DARK_MEAN) & (p95 < DARK_P95)
    washed = (p05 > WASHED_P05) & ((p95 - p05) < WASHED_SPREAD)
    black = flat & (mean < BLACK_LEVEL)
    return {
        "mean_luma": round(float(mean[seen].mean()), 1),
        "dark_share": round(float(np.mean(dark[seen])), 3),
        "washed_out_share": round(float(np.mean(washed[seen])), 3),
        "flat_frames": int(np.sum(flat & seen)),
        "black_frames": int(np.sum(black & seen)),
    }
