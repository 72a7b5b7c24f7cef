"""Burned-in text check: clip-level precision/recall and CPU cost, against rapidocr's defaults.

Builds ~70 clips from the real footage in /work/shared/media (shots cut at their true cuts,
some mirrored or zoomed): 30 as they are (no text) and 40 with text drawn by Pillow over every
frame (subtitles of one and two lines in Latin and Japanese, shown for the whole clip or only
~1 s of it; credits and title lines; small semi-transparent corner watermarks). Each clip is
written as H.264 and goes through the real path: decode, the time grid, `TextSampler`.

Printed: per-set confusion, F1, false alarms in the clips without text, CPU seconds per clip
of the text check (decode excluded: analysis decodes anyway), and the anchor measured in the
same run: rapidocr's plain defaults (`RapidOCR()` detector, one middle frame per clip, a clip
flagged when it finds any box).

    PYTHONPATH=. python bench/text.py [--seed 1] [--media /work/shared/media] [--keep DIR]
"""

from __future__ import annotations

import argparse
import random
import shutil
import sys
import tempfile
import time
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

import av
import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))

from text_overlays import (  # noqa: E402
    CREDIT_LINES,
    JAPANESE_LINES,
    LATIN_LINES,
    WATERMARKS,
    Overlay,
    composite,
    overlay_layer,
)

from curator.core.analysis import text as textcheck  # noqa: E402
from curator.core.media import iter_frames, probe  # noqa: E402
from curator.core.media.frames import frame_to_array, iter_raw_frames  # noqa: E402

# Shots of the sample footage, cut at their true cuts (README of the media folder).
SHOTS = {
    "Megamind.avi": [(0, 99), (99, 155), (155, 201), (201, 270)],
    "vtest.avi": [(0, 40), (100, 140), (200, 240), (300, 340), (400, 440), (500, 540),
                  (600, 640), (700, 740)],
    "tree.avi": [(0, 34), (34, 68)],
    "motion.mov": [(0, 60), (60, 120), (120, 180), (180, 242)],
    "hug_movie.mp4": [(0, 55), (55, 110), (110, 166)],
    "birds.mp4": [(0, 31)],
}


@dataclass
class Case:
    name: str
    path: Path
    has_text: bool
    kind: str | None


def _transform(frame: np.ndarray, how: str, rng: random.Random) -> np.ndarray:
    if how == "flip":
        return np.ascontiguousarray(frame[:, ::-1])
    if how.startswith("zoom"):
        h, w = frame.shape[:2]
        z = 0.7
        x0, y0 = int(w * (1 - z) * rng.random()), int(h * (1 - z) * rng.random())
        part = frame[y0:y0 + int(h * z), x0:x0 + int(w * z)]
        import cv2

        return cv2.resize(part, (w - w % 2, h - h % 2), interpolation=cv2.INTER_CUBIC)
    return frame


def _overlays(rng: random.Random, i: int) -> tuple[str, list[tuple[Overlay, float, float]]]:
    """The i-th text case: its kind and overlays with the share of the clip they show in."""
    latin, jp = rng.choice(LATIN_LINES), rng.choice(JAPANESE_LINES)
    latin2, jp2 = rng.choice(LATIN_LINES), rng.choice(JAPANESE_LINES)
    colour = rng.choice([(255, 255, 255), (255, 255, 255), (250, 235, 90)])
    font = rng.randrange(3)
    size = rng.uniform(0.045, 0.065)
    boxed = rng.random() < 0.2
    k = i % 10
    if k == 0:
        return "subtitles", [(Overlay("subtitles", (latin,), size=size, colour=colour, font=font,
                                      boxed=boxed), 0, 1)]
    if k == 1:
        return "subtitles", [(Overlay("subtitles", (latin, latin2), size=size, font=font), 0, 1)]
    if k == 2:
        return "subtitles", [(Overlay("subtitles", (jp,), "cjk", size=size, colour=colour,
                                      font=font, boxed=boxed), 0, 1)]
    if k == 3:
        return "subtitles", [(Overlay("subtitles", (jp, jp2), "cjk", size=size, font=font), 0, 1)]
    if k in (4, 5):  # shown for about one second only, somewhere in the clip
        ov = Overlay("subtitles", (latin,) if k == 4 else (jp,), "latin" if k == 4 else "cjk",
                     size=size, font=font)
        return "subtitles", [(ov, -1.0, 1.0)]  # placed by seconds in _render
    if k in (6, 7):
        lines = rng.choice(CREDIT_LINES)
        script = "cjk" if any(ord(ch) > 0x2e80 for ch in "".join(lines)) else "latin"
        return "credits", [(Overlay("credits", lines, script, size=rng.uniform(0.055, 0.08),
                                    font=font), 0, 1)]
    return "watermark", [(Overlay("watermark", (rng.choice(WATERMARKS),), size=rng.uniform(
        0.03, 0.045), alpha=rng.uniform(0.45, 0.75), corner=rng.choice(["tl", "tr", "bl", "br"]),
        font=font), 0, 1)]


def _render(src: Path, rng_range: tuple[int, int], how: str, overlays, out: Path,
            rng: random.Random) -> None:
    # Draw every random number first, so a clip kept from an earlier run leaves the stream
    # of the next clips as it was (the same seed gives the same set).
    zoom_seed, show_s, place = rng.random(), rng.uniform(0.9, 1.2), rng.random()
    if out.exists() and out.stat().st_size > 0:
        return
    info = probe(src)
    start, end = rng_range
    fps = Fraction(info.fps).limit_denominator(1001)
    frames = [f for _, f in iter_frames(src, start, end, fmt="rgb24")]
    frames = [_transform(f, how, random.Random(zoom_seed)) for f in frames]
    h, w = frames[0].shape[:2]
    w, h = w - w % 2, h - h % 2
    frames = [f[:h, :w] for f in frames]
    n = len(frames)
    layers = []
    for ov, a, b in overlays:
        if a < 0:  # about one second, at a random place in the clip
            show = max(1, round(float(fps) * show_s))
            first = int(place * max(1, n - show))
            a_i, b_i = first, first + show
        else:
            a_i, b_i = int(a * n), int(b * n)
        layers.append((overlay_layer(ov, w, h)[0], a_i, b_i))
    with av.open(str(out), "w") as container:
        stream = container.add_stream("libx264", rate=fps)
        stream.width, stream.height, stream.pix_fmt = w, h, "yuv420p"
        stream.options = {"crf": "20", "preset": "veryfast"}
        for i, frame in enumerate(frames):
            for layer, a_i, b_i in layers:
                if a_i <= i < b_i:
                    frame = composite(frame, layer)
            for packet in stream.encode(av.VideoFrame.from_ndarray(frame, format="rgb24")):
                container.mux(packet)
        for packet in stream.encode():
            container.mux(packet)


def build(media: Path, out: Path, seed: int) -> list[Case]:
    rng = random.Random(seed)
    shots = [(media / name, r) for name, ranges in SHOTS.items() for r in ranges
             if (media / name).exists()]
    cases: list[Case] = []
    plain = [(s, r, how) for how in ("none", "flip", "zoom") for s, r in shots]
    rng.shuffle(plain)
    for j, (src, r, how) in enumerate(plain[:30]):
        path = out / f"plain_{j:02d}_{src.stem}_{r[0]}_{how}.mp4"
        _render(src, r, how, [], path, rng)
        cases.append(Case(path.stem, path, False, None))
    texted = [(s, r, how) for how in ("none", "flip", "zoom") for s, r in shots]
    rng.shuffle(texted)
    for i, (src, r, how) in enumerate(texted[:40]):
        kind, overlays = _overlays(rng, i)
        path = out / f"text_{i:02d}_{kind}_{src.stem}_{r[0]}_{how}.mp4"
        _render(src, r, how, overlays, path, rng)
        cases.append(Case(path.stem, path, True, kind))
    return cases


def check(case: Case) -> tuple[dict, float]:
    """Our check on one clip: its text analysis and the CPU seconds it took (decode excluded)."""
    info = probe(case.path)
    sampler = textcheck.TextSampler(float(info.fps), info.width, info.height)
    cpu = 0.0
    n = info.frame_count
    for index, frame in iter_raw_frames(case.path, 0, n):
        if sampler.wants(index, [(0, n)]):
            t = time.thread_time()
            gray = frame_to_array(frame, min(textcheck.TEXT_WIDTH, frame.width), None, "gray")
            sampler.feed(index, gray)
            cpu += time.thread_time() - t
    t = time.thread_time()
    result = sampler.finish_clip(0, n) or {}
    cpu += time.thread_time() - t
    return result, cpu


def anchor(case: Case, engine) -> bool:
    """rapidocr's defaults: the detector on the middle frame; flagged when it finds any box."""
    info = probe(case.path)
    mid = info.frame_count // 2
    frame = next(f for _, f in iter_frames(case.path, mid, mid + 1, fmt="bgr24"))
    result = engine(frame, use_cls=False, use_rec=False)
    return result.boxes is not None and len(result.boxes) > 0


def _scores(truth: list[bool], said: list[bool]) -> tuple[int, int, int, int, float]:
    tp = sum(t and s for t, s in zip(truth, said, strict=True))
    fp = sum(s and not t for t, s in zip(truth, said, strict=True))
    fn = sum(t and not s for t, s in zip(truth, said, strict=True))
    tn = len(truth) - tp - fp - fn
    f1 = 2 * tp / max(1, 2 * tp + fp + fn)
    return tp, fp, fn, tn, f1


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--media", type=Path, default=Path("/work/shared/media"))
    parser.add_argument("--keep", type=Path, help="build the clips here and keep them")
    parser.add_argument("--threshold", type=float, default=None,
                        help="text_share above which a clip counts as holding text")
    parser.add_argument("--no-anchor", action="store_true")
    parser.add_argument("-v", "--verbose", action="store_true")
    args = parser.parse_args()
    from curator.core.analysis.rules import DEFAULT_TEXT_ABOVE

    threshold = DEFAULT_TEXT_ABOVE if args.threshold is None else args.threshold
    workdir = args.keep or Path(tempfile.mkdtemp(prefix="curator-textbench-"))
    workdir.mkdir(parents=True, exist_ok=True)
    try:
        t0 = time.monotonic()
        cases = build(args.media, workdir, args.seed)
        print(f"built {len(cases)} clips ({sum(c.has_text for c in cases)} with text) "
              f"in {time.monotonic() - t0:.0f} s, seed {args.seed}")
        textcheck._load()  # loading the models is once per process, not per clip
        said, cpus, by_kind = [], [], {}
        for case in cases:
            result, cpu = check(case)
            share = result.get("share") or 0.0
            flagged = share > threshold
            said.append(flagged)
            cpus.append(cpu)
            ok = flagged == case.has_text
            by_kind.setdefault(case.kind or "none", []).append(ok)
            if args.verbose or not ok:
                print(f"  {'ok ' if ok else 'BAD'} {case.name}: share {share} "
                      f"kind {result.get('kind')} {result.get('strings')} cpu {cpu * 1000:.0f} ms")
        truth = [c.has_text for c in cases]
        tp, fp, fn, tn, f1 = _scores(truth, said)
        print(f"ours (text_share > {threshold}): TP {tp} FP {fp} FN {fn} TN {tn}  F1 {f1:.3f}  "
              f"false alarms {fp}/{sum(not t for t in truth)}")
        print("  correct by kind: " + ", ".join(
            f"{k} {sum(v)}/{len(v)}" for k, v in sorted(by_kind.items())))
        print(f"  CPU per clip: mean {np.mean(cpus):.3f} s, p95 {np.percentile(cpus, 95):.3f} s,"
              f" max {max(cpus):.3f} s")
        if not args.no_anchor:
            from rapidocr import RapidOCR

            engine = RapidOCR(params={"Global.log_level": "error"})
            t = time.process_time()
            flags = [anchor(c, engine) for c in cases]
            cost = (time.process_time() - t) / len(cases)
            tp, fp, fn, tn, f1 = _scores(truth, flags)
            print(f"anchor rapidocr defaults (detector, middle frame): TP {tp} FP {fp} FN {fn} "
                  f"TN {tn}  F1 {f1:.3f}  false alarms {fp}/{sum(not t for t in truth)}  "
                  f"CPU per clip {cost:.3f} s (process, all threads)")
    finally:
        if args.keep is None:
            shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    main()
