"""The labelled shot-boundary bench set: real single shots joined by generated transitions.

Real footage from ../shared/media (free licences, see its README) is cut at its known shot
changes into single shots (Megamind.avi: shots [0, 99), [99, 155), [155, 201), [201, 270),
a margin of 3 frames kept from each cut and the flash at frame 1 left out; the others are one
shot each). Each bench clip takes a window of a shot (a crop, maybe mirrored, maybe played
backwards), so two pieces of one source still look like a wide and a close shot of one scene.

Clips (256×192, 24 fps, H.264), all from one seed:
- with one transition: hard cuts, dissolves of 8–48 frames, fades through black and through
  white, wipes;
- single shots: plain pieces, and hard ones: handheld shake, fast pans made by moving a crop
  window, flashes, flicker and exposure ramps, a dark object crossing close to the lens.

Truth per clip: `kind` ("single" or the transition's kind) and the transition's frames
[start, end) (a cut: start == end == the first frame of the new shot).
"""

from __future__ import annotations

import json
import tempfile
from dataclasses import asdict, dataclass
from pathlib import Path

import av
import cv2
import numpy as np

MEDIA = Path(__file__).resolve().parents[2] / "shared" / "media"
CACHE = Path(tempfile.gettempdir()) / "curator-bench" / "shots"
OUT_W, OUT_H = 256, 192
CANVAS_H = 288
VERSION = 3

# (file, [first, end) of one real shot)
SHOTS = {
    "mm0": ("Megamind.avi", 3, 96),
    "mm1": ("Megamind.avi", 102, 152),
    "mm2": ("Megamind.avi", 158, 198),
    "mm3": ("Megamind.avi", 204, 270),
    "vtest": ("vtest.avi", 0, 400),
    "motion": ("motion.mov", 0, 242),
    "hug": ("hug_movie.mp4", 0, 166),
    "birds": ("birds.mp4", 0, 31),
    "tree": ("tree.avi", 0, 68),
}


@dataclass(frozen=True)
class Truth:
    name: str
    kind: str            # "single", "cut", "dissolve", "fade_black", "fade_white", "wipe"
    frames: int
    start: int = -1      # the transition's first frame (a cut: the first frame of shot B)
    end: int = -1        # the frame after its last (a cut: == start)
    hard: str = ""       # for single shots: what makes it hard


_CANVAS: dict[str, np.ndarray] = {}


def _canvas(shot: str) -> np.ndarray:
    """The shot's frames, RGB, scaled to CANVAS_H rows."""
    if shot not in _CANVAS:
        name, a, b = SHOTS[shot]
        frames = []
        with av.open(str(MEDIA / name)) as c:
            for i, f in enumerate(c.decode(video=0)):
                if i >= b:
                    break
                if i >= a:
                    w = int(round(f.width * CANVAS_H / f.height / 2)) * 2
                    frames.append(f.to_ndarray(format="rgb24", width=w, height=CANVAS_H))
        _CANVAS[shot] = np.stack(frames)
    return _CANVAS[shot]


def _piece(rng: np.random.Generator, shot: str, length: int, scale: float | None = None,
           path: np.ndarray | None = None) -> np.ndarray:
    """`length` frames of a shot through a crop window (maybe moving along `path`)."""
    src = _canvas(shot)
    n, ch, cw = src.shape[:3]
    if rng.random() < 0.3:
        src = src[::-1]  # played backwards: still one shot
    if length > n:  # a short shot plays forth and back
        idx = np.concatenate([np.arange(n), np.arange(n - 2, 0, -1)])
        idx = np.resize(idx, length)
    else:
        first = int(rng.integers(0, n - length + 1))
        idx = np.arange(first, first + length)
    scale = scale if scale is not None else float(rng.uniform(0.7, 1.0))
    h = int(ch * scale)
    w = min(cw, int(h * OUT_W / OUT_H))
    h = int(w * OUT_H / OUT_W)
    flip = rng.random() < 0.5
    if path is None:
        y0 = int(rng.integers(0, ch - h + 1))
        x0 = int(rng.integers(0, cw - w + 1))
        path = np.tile([[y0, x0]], (length, 1)).astype(np.float64)
    out = np.empty((length, OUT_H, OUT_W, 3), np.uint8)
    for k, i in enumerate(idx):
        y0 = int(np.clip(path[k][0], 0, ch - h))
        x0 = int(np.clip(path[k][1], 0, cw - w))
        crop = src[i, y0:y0 + h, x0:x0 + w]
        out[k] = cv2.resize(crop, (OUT_W, OUT_H), interpolation=cv2.INTER_AREA)
        if flip:
            out[k] = out[k][:, ::-1]
    return out


def _two_shots(rng: np.random.Generator) -> tuple[str, str]:
    names = list(SHOTS)
    a = str(rng.choice(names))
    b = a
    while b == a or (SHOTS[a][0] == SHOTS[b][0] and not a.startswith("mm")):
        b = str(rng.choice(names))
    return a, b


def _join(rng: np.random.Generator, kind: str, length: int) -> tuple[np.ndarray, int, int]:
    """Shot A, a transition of `length` frames, shot B: frames, transition start and end."""
    a, b = _two_shots(rng)
    la, lb = int(rng.integers(36, 80)), int(rng.integers(36, 80))
    if kind == "cut":
        fa, fb = _piece(rng, a, la), _piece(rng, b, lb)
        return np.concatenate([fa, fb]), la, la
    # A and B both run on through the transition (as an editor overlaps them)
    fa, fb = _piece(rng, a, la + length), _piece(rng, b, lb + length)
    mid_a, mid_b = fa[la:].astype(np.float32), fb[:length].astype(np.float32)
    t = ((np.arange(length) + 1) / (length + 1))[:, None, None, None]
    if kind == "dissolve":
        mix = (1 - t) * mid_a + t * mid_b
    elif kind in ("fade_black", "fade_white"):
        flat = 0.0 if kind == "fade_black" else 255.0
        half = length // 2
        hold = int(rng.integers(0, 3))
        w = np.empty(length, np.float32)  # share of flat
        w[:half] = (np.arange(half) + 1) / (half + 1)
        rise = (np.arange(length - half) - hold + 1).clip(0)
        w[half:] = 1.0 - rise / max(1, length - half - hold + 1)
        w = w[:, None, None, None]
        src = np.concatenate([mid_a[:half], mid_b[half:]])
        mix = (1 - w) * src + w * flat
    elif kind == "wipe":
        mix = np.empty_like(mid_a)
        vertical = rng.random() < 0.5
        for k in range(length):
            edge = int((k + 1) / (length + 1) * (OUT_H if vertical else OUT_W))
            mix[k] = mid_a[k]
            if vertical:
                mix[k, :edge] = mid_b[k, :edge]
            else:
                mix[k, :, :edge] = mid_b[k, :, :edge]
    else:
        raise ValueError(kind)
    frames = np.concatenate([fa[:la], mix.clip(0, 255).astype(np.uint8), fb[length:]])
    return frames, la, la + length


def _single(rng: np.random.Generator, hard: str) -> np.ndarray:
    names = [s for s in SHOTS if s != "birds"]
    shot = str(rng.choice(names))
    length = int(rng.integers(60, 140))
    if hard == "pan":
        src = _canvas(shot)
        ch, cw = src.shape[1:3]
        w = int(cw * 0.45)
        h = int(w * OUT_H / OUT_W)
        speed = rng.uniform(6, 14) * rng.choice([-1, 1])
        x = np.cumsum(np.full(length, speed)) % (2 * (cw - w))
        x = np.where(x > cw - w, 2 * (cw - w) - x, x)  # back and forth across the canvas
        y = np.full(length, (ch - h) / 2)
        return _piece(rng, shot, length, scale=h / ch, path=np.stack([y, x], 1))
    if hard == "shake":
        src = _canvas(shot)
        ch = src.shape[1]
        amp = rng.uniform(4, 12)
        steps = rng.normal(0, amp, (length, 2))
        walk = np.cumsum(steps, 0) * 0.5
        walk -= walk.mean(0)
        base = np.array([ch * 0.1, ch * 0.1])
        return _piece(rng, shot, length, scale=0.8, path=base + walk.clip(-ch * 0.1, ch * 0.1))
    frames = _piece(rng, shot, length).astype(np.float32)
    if hard == "flash":
        for _ in range(int(rng.integers(1, 3))):
            at, n = int(rng.integers(10, length - 10)), int(rng.integers(1, 4))
            frames[at:at + n] = frames[at:at + n] * 0.3 + 235
    elif hard == "flicker":
        gain = 1 + rng.uniform(-0.18, 0.18, length)
        frames *= gain[:, None, None, None]
    elif hard == "exposure":
        t = np.arange(length)
        mid, width = length / 2, rng.uniform(8, 24)
        gain = 1 - rng.uniform(0.4, 0.7) * np.exp(-((t - mid) / width) ** 2)
        frames *= gain[:, None, None, None]
    elif hard == "occluder":
        # a dark blurry blob sweeping across close to the lens, covering most of the picture
        r = rng.uniform(0.5, 0.9) * OUT_H
        dur = int(rng.integers(8, 20))
        at = int(rng.integers(10, length - dur - 5))
        yy, xx = np.mgrid[0:OUT_H, 0:OUT_W]
        colour = rng.uniform(10, 90, 3)
        cy = rng.uniform(0.3, 0.7) * OUT_H
        for k in range(dur):
            cx = -r + (OUT_W + 2 * r) * k / (dur - 1)
            m = np.clip(1.2 - np.hypot(yy - cy, xx - cx) / r, 0, 1)[..., None]
            frames[at + k] = frames[at + k] * (1 - m) + colour * m
    return frames.clip(0, 255).astype(np.uint8)


def plan() -> list[tuple[str, str, int]]:
    """(name, kind, transition length) for every clip, in a fixed order."""
    rng = np.random.default_rng(16)
    out: list[tuple[str, str, int]] = []
    for i, n in enumerate(np.linspace(8, 48, 40).round().astype(int)):
        out.append((f"dissolve{i:02d}", "dissolve", int(n)))
    for i in range(12):
        out.append((f"cut{i:02d}", "cut", 0))
    for i in range(6):
        out.append((f"fadeb{i:02d}", "fade_black", int(rng.integers(12, 40))))
        out.append((f"fadew{i:02d}", "fade_white", int(rng.integers(12, 40))))
    for i in range(4):
        out.append((f"wipe{i:02d}", "wipe", int(rng.integers(8, 24))))
    hard = ["plain"] * 12 + ["pan"] * 5 + ["shake"] * 5 + ["flash"] * 4 + ["flicker"] * 2 \
        + ["exposure"] * 3 + ["occluder"] * 5
    for i, h in enumerate(hard):
        out.append((f"single{i:02d}_{h}", "single:" + h, 0))
    return out


def write(path: Path, frames: np.ndarray | list[np.ndarray], fps: int = 24) -> None:
    """Encode RGB frames (all one size) as H.264, the bench clips' settings."""
    with av.open(str(path), "w") as c:
        s = c.add_stream("libx264", rate=fps)
        s.height, s.width = frames[0].shape[:2]
        s.pix_fmt = "yuv420p"
        s.options = {"preset": "veryfast", "crf": "20"}
        for i, rgb in enumerate(frames):
            f = av.VideoFrame.from_ndarray(np.ascontiguousarray(rgb), format="rgb24")
            f.pts = i
            for p in s.encode(f):
                c.mux(p)
        for p in s.encode(None):
            c.mux(p)


def build() -> list[tuple[Path, Truth]]:
    """Write (once) and return every bench clip with its truth."""
    folder = CACHE / f"v{VERSION}"
    meta = folder / "truth.json"
    if meta.exists():
        rows = json.loads(meta.read_text())
        return [(folder / f"{r['name']}.mp4", Truth(**r)) for r in rows]
    folder.mkdir(parents=True, exist_ok=True)
    rows = []
    for k, (name, kind, length) in enumerate(plan()):
        rng = np.random.default_rng(1000 + k)
        if kind.startswith("single:"):
            frames = _single(rng, kind.split(":")[1])
            truth = Truth(name, "single", len(frames), hard=kind.split(":")[1])
        else:
            frames, s, e = _join(rng, kind, length)
            truth = Truth(name, kind, len(frames), s, e)
        write(folder / f"{name}.mp4", frames)
        rows.append(asdict(truth))
    meta.write_text(json.dumps(rows, indent=1))
    return [(folder / f"{r['name']}.mp4", Truth(**r)) for r in rows]


if __name__ == "__main__":
    import time
    t = time.time()
    clips = build()
    print(len(clips), "clips in", round(time.time() - t, 1), "s:", CACHE)
