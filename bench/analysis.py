"""Speed of clip analysis on 1080p H.264, and the figures behind the default thresholds.

Run: python bench/analysis.py [--seconds 20] [--footage ../shared/media]. The clip is
generated once (PyAV, libx264, a textured pan with moving shapes and film grain, about
7 Mbit/s with a keyframe every 2 s, like a web or Blu-ray rip) and cached under
/tmp/curator-bench/. Target on a 2-core machine: 100 frames/s or more. CPU time per frame is
printed beside each rate, since the wall clock also counts whatever else the machine runs. With
the footage folder present, the motion, flicker and cut figures of each file (one clip per
file) are printed too: the README's calibration table.
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

import av
import cv2
import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from curator.core.analysis import ANALYSIS_WIDTH, analyze_clips, make_frame_analyzer
from curator.core.catalog import Catalog
from curator.core.media import content_hash, iter_frames, probe

CACHE = Path(os.environ.get("CURATOR_BENCH_CACHE", "/tmp/curator-bench"))


def make_clip(path: Path, seconds: float, fps: int = 24) -> Path:
    """A 1080p H.264 clip: a pan over a textured world, a moving box, per-frame grain."""
    if path.exists():
        return path
    path.parent.mkdir(parents=True, exist_ok=True)
    w, h = 1920, 1080
    rng = np.random.default_rng(1)
    world = np.zeros((h, w * 2, 3), np.float32)
    for scale, amp in ((256, 90), (64, 50), (16, 30), (4, 15)):
        small = rng.random((h // scale + 2, 2 * w // scale + 2, 3)).astype(np.float32)
        world += cv2.resize(small, (2 * w, h), interpolation=cv2.INTER_CUBIC)[:h, :2 * w] * amp
    world = np.clip(world, 0, 255).astype(np.uint8)
    for _ in range(60):
        color = tuple(int(c) for c in rng.integers(0, 255, 3))
        cv2.circle(world, (int(rng.integers(0, 2 * w)), int(rng.integers(0, h))),
                   int(rng.integers(20, 120)), color, -1)
    n = int(seconds * fps)
    tmp = path.with_suffix(".part.mp4")
    with av.open(str(tmp), "w") as container:
        stream = container.add_stream("libx264", rate=fps)
        stream.width, stream.height, stream.pix_fmt = w, h, "yuv420p"
        # A keyframe every 2 s, as streaming and most rips have: seeks land close by.
        stream.options = {"crf": "20", "preset": "veryfast", "g": str(2 * fps)}
        for i in range(n):
            x = (i * 4) % w
            frame = world[:, x:x + w].copy()
            cv2.rectangle(frame, (200 + 6 * i % 1500, 400), (400 + 6 * i % 1500, 700),
                          (250, 250, 250), -1)
            frame = cv2.add(frame, rng.integers(0, 14, frame.shape, dtype=np.uint8))
            for packet in stream.encode(av.VideoFrame.from_ndarray(frame, format="rgb24")):
                container.mux(packet)
        for packet in stream.encode(None):
            container.mux(packet)
    tmp.rename(path)
    return path


def timed(work) -> tuple[float, float, int]:
    """Run `work`; (frames/s by the wall clock, CPU ms per frame over all threads, frames)."""
    wall, cpu = time.perf_counter(), time.process_time()
    frames = work()
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    return frames / wall, cpu / frames * 1e3, frames


def bench_decode(path: Path) -> int:
    return sum(1 for _ in iter_frames(path, width=ANALYSIS_WIDTH, fmt="gray"))


def bench_standalone(path: Path) -> int:
    """Decode + analysis in the calling thread, as ingest's pass does it."""
    info = probe(path, decode_count=False)  # the header's facts: no decode before the timed one
    analyzer = make_frame_analyzer(info)
    n = 0
    for index, gray in iter_frames(path, width=ANALYSIS_WIDTH, fmt="gray"):
        analyzer.feed(index, gray)
        n += 1
    analyzer.finish_clip(0, n)
    return n


def bench_analysis_only(path: Path) -> float:
    """The analysis alone, on frames decoded beforehand: ms per frame."""
    info = probe(path, decode_count=False)
    frames = list(iter_frames(path, 0, 120, width=ANALYSIS_WIDTH, fmt="gray"))
    analyzer = make_frame_analyzer(info)
    cpu = time.process_time()
    for index, gray in frames:
        analyzer.feed(index, gray)
    return (time.process_time() - cpu) / len(frames) * 1e3


def batch_catalog(folder: Path, paths: list[Path]) -> Catalog:
    """A fresh catalog holding one clip per file, as ingest would leave it."""
    catalog = Catalog(f"sqlite:///{folder}/bench.db")
    for path in paths:
        info = probe(path)
        st = path.stat()
        catalog.upsert_source(path=path, size=st.st_size, mtime=st.st_mtime,
                              content_hash=content_hash(path), container=info.container,
                              codec=info.codec, fps=info.fps, frame_count=info.frame_count,
                              header_frame_count=info.header_frame_count, width=info.width,
                              height=info.height, duration=info.duration,
                              clip_ranges=[(0, info.frame_count)])
    return catalog


def calibration_table(folder: Path) -> None:
    """Per file: mean / p95 motion, still share, camera, flicker share, cuts found."""
    print(f"\n{'file':16s} {'fps':>6s} {'motion':>7s} {'p95':>6s} {'still':>6s} "
          f"{'camera':>7s} {'cam.still':>9s} {'flicker':>8s} {'cuts':>5s}")
    for path in sorted(folder.iterdir()):
        if path.suffix.lower() not in (".avi", ".mp4", ".mov", ".mkv"):
            continue
        info = probe(path)
        analyzer = make_frame_analyzer(info)
        for index, gray in iter_frames(path, width=ANALYSIS_WIDTH, fmt="gray"):
            analyzer.feed(index, gray)
        a = analyzer.finish_clip(0, info.frame_count)
        print(f"{path.name:16s} {float(info.fps):6.2f} {a['motion']:7.2f} {a['motion_p95']:6.2f} "
              f"{a['still_share']:6.2f} {a['camera']:7.2f} {a['camera_still']!s:>9s} "
              f"{a['flicker']['share']:8.2f} {a['cuts']:5d}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=20.0, help="length of the test clip")
    parser.add_argument("--footage", type=Path,
                        default=Path(__file__).resolve().parents[2] / "shared" / "media",
                        help="folder of real footage for the calibration table")
    args = parser.parse_args()
    path = make_clip(CACHE / f"analysis_1080p_{args.seconds:g}s_gop2s.mp4", args.seconds)
    info = probe(path)
    mbit = path.stat().st_size * 8 / info.duration / 1e6
    print(f"clip: {path} ({info.width}x{info.height} {info.codec}, {info.frame_count} frames, "
          f"{mbit:.1f} Mbit/s); {os.cpu_count()} cores")
    cores = os.cpu_count() or 1

    def line(label: str, result: tuple[float, float, int]) -> None:
        fps, cpu_ms, _ = result
        print(f"{label:44s} {fps:6.1f} frames/s  {cpu_ms:5.2f} CPU ms/frame "
              f"(all {cores} cores idle: at most {1000 * cores / cpu_ms:5.0f} frames/s)")

    line("decode to 256-px gray (iter_frames)", timed(lambda: bench_decode(path)))
    line("decode + analysis, one thread", timed(lambda: bench_standalone(path)))
    print(f"{'analysis alone':44s} {bench_analysis_only(path):5.2f} CPU ms/frame")
    # Two sources (a second copy of the clip), so two workers each have a whole file to decode.
    twin = path.with_name(path.stem + "_twin.mp4")
    if not twin.exists():
        shutil.copyfile(path, twin)
    for workers in (1, 2):
        with tempfile.TemporaryDirectory() as tmp:
            catalog = batch_catalog(Path(tmp), [path, twin])
            line(f"analyze_clips, 2 files, {workers} worker{'s' if workers > 1 else ''}",
                 timed(lambda c=catalog, w=workers: analyze_clips(c, workers=w).frames))
            catalog.close()
    print(f"load average while measuring: {os.getloadavg()[0]:.1f} (other work on the machine "
          f"slows every figure)")
    if args.footage.is_dir():
        calibration_table(args.footage)


if __name__ == "__main__":
    main()
