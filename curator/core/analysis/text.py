"""Burned-in text: subtitles, credits and title cards, corner watermarks.

A style LoRA learns whatever is in its clips, overlay text included. This finds it with the
PP-OCRv6 detector and recogniser that ship inside the `rapidocr` wheel, run on onnxruntime's
CPU provider (one thread: analysis already runs a worker per core). Nothing is downloaded: the
model files are read from the installed package, or the check reports itself unavailable.

The detector alone fires on textures (foliage, wallpaper, fabric), so a region counts as
overlay text only when
- the detector is confident about a line-shaped region (wider than tall, a text-like height),
- the recogniser reads at least two characters from it with high confidence, and
- it sits where overlays sit: the bottom band, centred (subtitles); the middle, centred, large
  (credits, title cards); a corner, small (watermarks). Text elsewhere is taken as part of the
  scene (a sign, a book) and left alone.
Regions at the same place in several sampled frames are one track and are recognised once, on
their sharpest instance: a persistent weak corner mark is read where it is clearest.

Cost: frames are sampled on a fixed time grid (every `SAMPLE_EVERY` s, the same grid for
ingest and `analyze`, so a subtitle shown for a second is seen), decoded `TEXT_WIDTH` px wide
and gray. The detector sees the top three quarters of the frame scaled to `DET_SIDE` px, the
subtitle band (bottom, centre) at 1.5 times that scale, and on every other sampled frame the
four corners at twice it (watermarks are small and stay put): ~30 ms a 640x480 frame. The
recogniser reads only candidate lines, one per track, at most `MAX_READS` a clip.
`bench/text.py`: ~0.14 s CPU per clip of 1-4 s.
"""

from __future__ import annotations

import importlib.util
import math
import threading
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import cv2
import numpy as np

TEXT_WIDTH = 640            # sampled frames are decoded this wide (gray) for the text check
SAMPLE_EVERY = 0.9          # s between sampled frames: a subtitle shown 0.9 s is on at least one
DET_SIDE = 320              # the detector sees the whole frame with this long side
CORNER_W, CORNER_H = 0.34, 0.16  # share of the frame each corner crop covers
BAND_W, BAND_H = 0.7, 0.38  # the subtitle band: the central 70 % of the bottom 38 %
UPPER_H = 0.76              # the whole-frame pass covers the top 76 % (overlapping the band)
DET_THRESH = 0.3            # DB probability threshold (the model's own default)
MIN_BOX_SCORE = 0.6         # mean probability inside a candidate region
MIN_ASPECT = 1.8            # a text line is wider than tall (two CJK glyphs ~ 2)
MIN_TEXT_H = 0.018          # a candidate's height, share of the frame height ...
MAX_TEXT_H = 0.16           # ... credits and title cards are large, not huge
MIN_CHARS = 2               # characters (letters, digits, kana, kanji) read in a region
MIN_READ_CONF = 0.8         # the recogniser's mean confidence over what it read
MAX_READS = 6               # recogniser calls per clip (tracks, strongest first)
REC_H, REC_MAX_W = 48, 256  # recogniser input: 48 px high, at most ~5 line heights read
MODEL_FILES = ("PP-OCRv6_det_small.onnx", "PP-OCRv6_rec_small.onnx")
KINDS = ("subtitles", "credits", "watermark")


class TextModelsUnavailable(RuntimeError):
    """The OCR model files or onnxruntime are not installed; the text check cannot run."""


@dataclass
class _Models:
    det: Any
    rec: Any
    charset: list[str]


_models: _Models | None = None
_models_lock = threading.Lock()


def model_dir() -> Path:
    """Where the installed rapidocr wheel keeps its ONNX models."""
    spec = importlib.util.find_spec("rapidocr")
    if spec is None or not spec.submodule_search_locations:
        raise TextModelsUnavailable("the rapidocr package is not installed")
    return Path(next(iter(spec.submodule_search_locations))) / "models"


def _load() -> _Models:
    """The detector and recogniser sessions, loaded once per process (threads share them)."""
    global _models
    with _models_lock:
        if _models is not None:
            return _models
        try:
            import onnxruntime as ort
        except ImportError as exc:
            raise TextModelsUnavailable("onnxruntime is not installed") from exc
        folder = model_dir()
        missing = [name for name in MODEL_FILES if not (folder / name).is_file()]
        if missing:
            raise TextModelsUnavailable(f"OCR model files missing in {folder}: {missing}")
        options = ort.SessionOptions()
        options.intra_op_num_threads = 1
        options.inter_op_num_threads = 1
        options.log_severity_level = 3
        det = ort.InferenceSession(str(folder / MODEL_FILES[0]), options,
                                   providers=["CPUExecutionProvider"])
        rec = ort.InferenceSession(str(folder / MODEL_FILES[1]), options,
                                   providers=["CPUExecutionProvider"])
        keys = rec.get_modelmeta().custom_metadata_map.get("character")
        if not keys:
            raise TextModelsUnavailable(f"{MODEL_FILES[1]} carries no character list")
        # CTC: index 0 is the blank; the model's last class is a space.
        _models = _Models(det, rec, ["", *keys.splitlines(), " "])
        return _models


# --- detection -------------------------------------------------------------------------------

@dataclass
class Candidate:
    """A line-shaped region the detector is confident about, in `TEXT_WIDTH` frame pixels."""

    x: float
    y: float
    w: float
    h: float
    score: float
    crop: np.ndarray = field(repr=False)
    key: tuple[int, int] = (0, 0)  # (frame index, position): what it was read as is cached

    @property
    def cx(self) -> float:
        return self.x + self.w / 2

    @property
    def cy(self) -> float:
        return self.y + self.h / 2


def _prob_map(gray: np.ndarray, scale: float) -> np.ndarray:
    """The detector's text probability for `gray` scaled by `scale` (sides multiples of 32)."""
    h, w = gray.shape
    nh = max(32, round(h * scale / 32) * 32)
    nw = max(32, round(w * scale / 32) * 32)
    x = cv2.resize(gray, (nw, nh), interpolation=cv2.INTER_AREA).astype(np.float32)
    x = x / 127.5 - 1.0
    batch = np.ascontiguousarray(np.broadcast_to(x, (1, 3, nh, nw)))
    return _load().det.run(None, {"x": batch})[0][0, 0]


def _regions(prob: np.ndarray, sx: float, sy: float, ox: float, oy: float
             ) -> list[tuple[float, float, float, float, float]]:
    """Connected regions of a probability map as boxes in frame px, with their mean score."""
    mask = (prob > DET_THRESH).astype(np.uint8)
    n, labels, stats, _ = cv2.connectedComponentsWithStats(mask, connectivity=8)
    out = []
    for k in range(1, n):
        x, y, w, h, area = (int(v) for v in stats[k])
        if area < 4 or h < 2:
            continue
        score = float(prob[y:y + h, x:x + w][labels[y:y + h, x:x + w] == k].mean())
        if score < MIN_BOX_SCORE:
            continue
        # DB shrinks text regions when it learns them: grow back as its "unclip" does.
        grow = area * 1.6 / max(1.0, 2.0 * (w + h))
        out.append(((x - grow) * sx + ox, (y - grow) * sy + oy, (w + 2 * grow) * sx,
                    (h + 2 * grow) * sy, score))
    return out


def detect_candidates(gray: np.ndarray, corners: bool = True) -> list[Candidate]:
    """Line-shaped, confident text regions of one gray frame (any size, ideally TEXT_WIDTH).

    corners: also look at the four corners at twice the scale (small watermarks).
    """
    h, w = gray.shape[:2]
    if h < 16 or w < 16 or float(gray.std()) < 2.0:
        return []  # tiny or flat (all black): nothing to read
    scale = min(1.0, DET_SIDE / max(h, w))
    # The subtitle band first: seen sharper, its boxes win over the whole-frame pass's. The
    # whole-frame pass stops where the band is well under way (a line straddling the band's
    # top is whole in one of them); the corners pass sees the bottom corners.
    boxes = _band_regions(gray, scale)
    upper = gray[:max(16, int(h * UPPER_H))]
    prob = _prob_map(upper, scale)
    boxes += _join_lines(_regions(prob, w / prob.shape[1], upper.shape[0] / prob.shape[0],
                                  0.0, 0.0))
    if corners:
        boxes += _corner_regions(gray, scale)
    found: list[Candidate] = []
    for x, y, bw, bh, score in boxes:
        if bw < MIN_ASPECT * bh or not MIN_TEXT_H * h <= bh <= MAX_TEXT_H * h:
            continue
        x0, y0 = max(0, int(x)), max(0, int(y))
        x1, y1 = min(w, math.ceil(x + bw)), min(h, math.ceil(y + bh))
        if x1 - x0 < 4 or y1 - y0 < 4:
            continue
        if any(_covered((x0, y0, x1 - x0, y1 - y0), (c.x, c.y, c.w, c.h)) for c in found):
            continue  # seen twice: by the whole-frame pass and a band or corner pass
        found.append(Candidate(x0, y0, x1 - x0, y1 - y0, score, gray[y0:y1, x0:x1].copy()))
    return found


def _covered(a: tuple[float, ...], b: tuple[float, ...]) -> bool:
    """Whether two boxes are mostly one: their overlap is most of the smaller one."""
    ix = max(0.0, min(a[0] + a[2], b[0] + b[2]) - max(a[0], b[0]))
    iy = max(0.0, min(a[1] + a[3], b[1] + b[3]) - max(a[1], b[1]))
    return ix * iy > 0.5 * min(a[2] * a[3], b[2] * b[3])


def _band_regions(gray: np.ndarray, scale: float
                  ) -> list[tuple[float, float, float, float, float]]:
    """Regions of the subtitle band (the bottom, central part) seen at 1.5 times the scale:
    subtitles are often small (4-5 % of the height), under what the whole-frame pass sees."""
    h, w = gray.shape
    top, left = int(h * (1 - BAND_H)), int(w * (1 - BAND_W) / 2)
    band = gray[top:, left:w - left]
    if band.shape[0] < 16 or band.shape[1] < 16:
        return []
    prob = _prob_map(band, min(1.0, 1.5 * scale))
    return _join_lines(_regions(prob, band.shape[1] / prob.shape[1],
                                band.shape[0] / prob.shape[0], float(left), float(top)))


def _join_lines(boxes: list[tuple[float, float, float, float, float]]
                ) -> list[tuple[float, float, float, float, float]]:
    """Join pieces of one text line (the detector splits a line at wide gaps) into one box."""
    boxes = sorted(boxes, key=lambda b: b[0])
    out: list[tuple[float, float, float, float, float]] = []
    for box in boxes:
        x, y, w, h, score = box
        for i, (ox, oy, ow, oh, oscore) in enumerate(out):
            overlap = min(y + h, oy + oh) - max(y, oy)
            gap = x - (ox + ow)
            if overlap >= 0.6 * min(h, oh) and gap <= 1.5 * max(h, oh) and 0.6 < h / oh < 1.6:
                nx, ny = min(x, ox), min(y, oy)
                out[i] = (nx, ny, max(x + w, ox + ow) - nx, max(y + h, oy + oh) - ny,
                          (score * w + oscore * ow) / (w + ow))
                break
        else:
            out.append(box)
    return out


def _corner_regions(gray: np.ndarray, scale: float
                    ) -> list[tuple[float, float, float, float, float]]:
    """Regions in the four corners, seen at twice the whole-frame scale, in one detector run."""
    h, w = gray.shape
    cw, ch = int(w * CORNER_W), int(h * CORNER_H)
    if cw < 16 or ch < 16:
        return []
    corners = [(0, 0), (w - cw, 0), (0, h - ch), (w - cw, h - ch)]
    tiles = [gray[y:y + ch, x:x + cw] for x, y in corners]
    mosaic = np.vstack([np.hstack(tiles[:2]), np.hstack(tiles[2:])])
    s = min(1.0, 2 * scale)
    prob = _prob_map(mosaic, s)
    sx, sy = mosaic.shape[1] / prob.shape[1], mosaic.shape[0] / prob.shape[0]
    out = []
    for x, y, bw, bh, score in _regions(prob, sx, sy, 0.0, 0.0):
        col, row = int((x + bw / 2) // cw), int((y + bh / 2) // ch)
        if not (0 <= col < 2 and 0 <= row < 2):
            continue
        # Text running past the corner crop's inner edges (a subtitle line, a sign) is not a
        # corner mark; the whole-frame pass sees it whole.
        inner_x = (col + 1) * cw if col == 0 else col * cw
        inner_y = (row + 1) * ch if row == 0 else row * ch
        if abs(x - inner_x) < 3 or abs(x + bw - inner_x) < 3 or abs(y - inner_y) < 3 \
                or abs(y + bh - inner_y) < 3 or not (col * cw - 3 <= x and x + bw <= (col + 1) * cw + 3):
            continue
        ox, oy = corners[row * 2 + col]
        out.append((x - col * cw + ox, y - row * ch + oy, bw, bh, score))
    return out


# --- recognition -----------------------------------------------------------------------------

def recognise(crops: list[np.ndarray]) -> list[tuple[str, float]]:
    """Read each gray line crop: (text, mean confidence of the characters read)."""
    if not crops:
        return []
    models = _load()
    lines = []
    for crop in crops:
        ch = max(1, crop.shape[0])
        # Past REC_MAX_W the line is cut, not squeezed: a few glyphs read well say enough.
        keep = crop[:, :max(1, int(REC_MAX_W * ch / REC_H))]
        w = max(8, min(REC_MAX_W, round(keep.shape[1] * REC_H / ch)))
        lines.append(cv2.resize(keep, (w, REC_H), interpolation=cv2.INTER_AREA))
    batch = np.zeros((len(lines), 3, REC_H, max(line.shape[1] for line in lines)), np.float32)
    for i, line in enumerate(lines):
        batch[i, :, :, :line.shape[1]] = line.astype(np.float32) / 127.5 - 1.0
    probs = models.rec.run(None, {"x": batch})[0]
    out = []
    for p in probs:
        idx = p.argmax(axis=1)
        conf = p.max(axis=1)
        chars, confs, last = [], [], 0
        for i, c in zip(idx, conf, strict=True):
            if i != 0 and i != last and i < len(models.charset):
                chars.append(models.charset[i])
                confs.append(float(c))
            last = i
        out.append(("".join(chars).strip(), float(np.mean(confs)) if confs else 0.0))
    return out


def _counted_chars(text: str) -> int:
    return sum(1 for ch in text if ch.isalnum())


# --- where overlays sit ----------------------------------------------------------------------

def overlay_kind(x: float, y: float, w: float, h: float, width: int, height: int) -> str | None:
    """Which overlay a text box at this place is, or None for text that is part of the scene."""
    cx, cy = (x + w / 2) / width, (y + h / 2) / height
    centred = abs(cx - 0.5) < 0.12 or (x / width < 0.5 < (x + w) / width
                                       and abs(cx - 0.5) < 0.2)
    if cy > 0.68 and abs(cx - 0.5) < 0.2:  # a piece of a subtitle line may be off-centre
        return "subtitles"
    # Watermarks: small, in the top or bottom band, away from the middle (a long URL may
    # reach past it, or be cut by a pole in front: only part of it is found).
    if (cy < 0.22 or cy > 0.78) and h < 0.08 * height and abs(cx - 0.5) > 0.1:
        return "watermark"
    if 0.2 < cy < 0.8 and centred and h >= 0.03 * height:
        return "credits"
    return None


# --- per clip --------------------------------------------------------------------------------

@dataclass
class _Sample:
    index: int
    width: int
    height: int
    candidates: list[Candidate]


def _sample(index: int, gray: np.ndarray, found: list[Candidate]) -> _Sample:
    for position, cand in enumerate(found):
        cand.key = (index, position)
    return _Sample(index, gray.shape[1], gray.shape[0], found)


@dataclass
class _Track:
    box: tuple[float, float, float, float]
    members: list[tuple[int, Candidate]] = field(default_factory=list)

    @property
    def best(self) -> Candidate:
        """The member to read: the most confident of those shaped like the track's usual box
        (a frame where the line merged with something else reads badly)."""
        heights = sorted(c.h for _, c in self.members)
        usual = heights[len(heights) // 2]
        typical = [c for _, c in self.members if 0.8 <= c.h / usual <= 1.25]
        return max(typical or [c for _, c in self.members], key=lambda c: c.score)


def _iou(a: tuple[float, ...], b: tuple[float, ...]) -> float:
    ax, ay, aw, ah = a[:4]
    bx, by, bw, bh = b[:4]
    ix = max(0.0, min(ax + aw, bx + bw) - max(ax, bx))
    iy = max(0.0, min(ay + ah, by + bh) - max(ay, by))
    inter = ix * iy
    union = aw * ah + bw * bh - inter
    return inter / union if union > 0 else 0.0


def sample_step(fps: float) -> int:
    """Frames between sampled frames: the grid every `SAMPLE_EVERY` s."""
    return max(1, round((fps or 25.0) * SAMPLE_EVERY))


class TextSampler:
    """Collects text candidates of frames on a fixed time grid, then sums up each clip.

    Feed it (in any clip order, frames in increasing order) the frames `wants` asks for,
    decoded `TEXT_WIDTH` px wide and gray; `finish_clip` recognises the clip's candidate lines
    and tells its text share. Only candidates (small crops) are kept, not frames.

    Args:
        fps: the source frame rate.
        source_width, source_height: the source picture size (boxes are given in it).
    """

    def __init__(self, fps: float, source_width: int, source_height: int) -> None:
        self.step = sample_step(float(fps or 25.0))
        self.source_width = int(source_width)
        self.source_height = int(source_height)
        self._samples: dict[int, _Sample] = {}
        # (frame index, position) -> what was read: clips sharing frames read them once
        self._reads: dict[tuple[int, int], tuple[str, float]] = {}
        self._error: str | None = None

    def wants(self, index: int, ranges: Sequence[tuple[int, int]] = ()) -> bool:
        """Whether frame `index` is sampled: on the grid, or the middle frame of a clip in
        `ranges` too short to hold a grid frame."""
        if index % self.step == self.step // 2:
            return True
        return any(end - start <= self.step and index == (start + end - 1) // 2
                   for start, end in ranges)

    def feed(self, index: int, gray: np.ndarray) -> None:
        """Detect candidates in one sampled frame (`TEXT_WIDTH` wide, 2-D uint8)."""
        if self._error is not None or index in self._samples:
            return
        if gray.ndim != 2:
            raise ValueError(f"frame {index}: expected a 2-D gray array, got {gray.shape}")
        try:
            # Watermarks stay put: every other sampled frame is enough to find them.
            found = detect_candidates(gray, corners=(index // self.step) % 2 == 0
                                      or not self._samples)
        except TextModelsUnavailable as exc:
            self._error = str(exc)
            return
        self._samples[index] = _sample(index, gray, found)

    def forget_before(self, index: int) -> None:
        """Drop samples before `index` (no clip still open needs them)."""
        for k in [k for k in self._samples if k < index]:
            del self._samples[k]
        self._reads = {k: v for k, v in self._reads.items() if k[0] >= index}

    def finish_clip(self, start: int, end: int) -> dict[str, Any] | None:
        """The text analysis of frames [start, end): kind, boxes, strings, share; None if the
        check could not run (models missing) or no frame of the clip was sampled."""
        if self._error is not None:
            return {"error": self._error, "share": None, "kind": None, "boxes": [],
                    "strings": []}
        samples = [s for i, s in sorted(self._samples.items()) if start <= i < end]
        if not samples:
            return None
        return summarise(samples, self._reads, self.source_width, self.source_height)


def summarise(samples: list[_Sample], reads: dict[tuple[int, int], tuple[str, float]] | None,
              source_width: int, source_height: int) -> dict[str, Any]:
    """Group candidates into tracks, read the strongest, and tell which frames hold overlays."""
    reads = {} if reads is None else reads
    tracks: list[_Track] = []
    for sample in samples:
        for cand in sample.candidates:
            box = (cand.x, cand.y, cand.w, cand.h)
            track = next((t for t in tracks if _iou(t.box, box) > 0.4), None)
            if track is None:
                track = _Track(box)
                tracks.append(track)
            track.members.append((sample.index, cand))
    width, height = samples[0].width, samples[0].height
    kinds = {id(t): overlay_kind(*t.box, width, height) for t in tracks}
    ranked = sorted((t for t in tracks if kinds[id(t)]),
                    key=lambda t: -(len(t.members) * t.best.score * t.best.w))[:MAX_READS]
    todo = [t.best for t in ranked if t.best.key not in reads]
    for cand, read in zip(todo, recognise([c.crop for c in todo]), strict=True):
        reads[cand.key] = read
    sx, sy = source_width / width, source_height / height
    frames_with: set[int] = set()
    found_kinds: dict[str, int] = {}
    boxes, strings = [], []
    for track in ranked:
        text, conf = reads[track.best.key]
        if _counted_chars(text) < MIN_CHARS or conf < MIN_READ_CONF:
            continue
        kind = kinds[id(track)]
        found_kinds[kind] = found_kinds.get(kind, 0) + len(track.members)
        frames_with.update(i for i, _ in track.members)
        x, y, w, h = track.box
        boxes.append([round(x * sx), round(y * sy), round(w * sx), round(h * sy)])
        strings.append(text)
    share = len(frames_with) / len(samples)
    kind = max(found_kinds, key=lambda k: (found_kinds[k], -KINDS.index(k))) \
        if found_kinds else None
    return {"kind": kind, "kinds": sorted(found_kinds), "boxes": boxes, "strings": strings,
            "share": round(share, 3), "frames": len(samples), "frames_with_text": len(frames_with)}


def image_text(gray: np.ndarray, source_width: int, source_height: int) -> dict[str, Any]:
    """The text check of a still: the same as a clip of one sampled frame (share 1.0 or 0.0)."""
    if gray.ndim != 2:
        raise ValueError(f"expected a 2-D gray array, got shape {gray.shape}")
    if gray.shape[1] > TEXT_WIDTH:
        h = max(1, round(gray.shape[0] * TEXT_WIDTH / gray.shape[1]))
        gray = cv2.resize(gray, (TEXT_WIDTH, h), interpolation=cv2.INTER_AREA)
    sample = _sample(0, gray, detect_candidates(gray))
    return summarise([sample], None, source_width, source_height)
