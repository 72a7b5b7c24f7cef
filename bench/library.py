"""Ingest of a library of pre-cut 1080p scene clips, against `ffprobe -count_frames`.

Run from the repository root:  python bench/library.py [--clips 45] [--repeat 3] [--workers N]
                                [--scenes auto --scenes never]

The clips (1920×1040, 96 frames, 24 fps, high-bitrate H.264 with B-frames and film grain, like
a folder of scene clips cut from a Blu-ray) are made once from the real footage in
../shared/media (upscaled, cut into 96-frame windows, some mirrored) with the ffmpeg binary,
and cached under /tmp/curator-bench/library/ (or $CURATOR_BENCH_CACHE/library).

Each round times, over the same files and in the same run:
  - `ffprobe -count_frames` on each file, one after another (what the seed's author used just
    to count frames: a full decode of every frame);
  - `curator ingest --analyze` into a fresh project, as a subprocess (process start and
    imports included), once per `--workers` value and `--scenes` mode asked (`--scenes
    never`, the mode for folders of clips cut already, splits nothing; analysis still judges
    each clip with the shot engine).
Rounds interleave them so a neighbour's load hits all alike; printed are each one's median,
the ratio ffprobe / ingest per round and its median, the load average before and after, and
the frame total (ingest's exact count must equal ffprobe's).
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
MEDIA = REPO.parent / "shared" / "media"
if not MEDIA.is_dir():
    MEDIA = Path("/work/shared/media")
CACHE = Path(os.environ.get("CURATOR_BENCH_CACHE", "/tmp/curator-bench")) / "library"

WIDTH, HEIGHT, FRAMES, FPS = 1920, 1040, 96, 24
# (file, frames it decodes to): the footage long enough for a 96-frame window
SOURCES = (("vtest.avi", 795), ("motion.mov", 242), ("Megamind.avi", 270),
           ("hug_movie.mp4", 166))


def ffmpeg_binary(name: str) -> str:
    """Debian's ffmpeg/ffprobe when installed; imageio-ffmpeg's ffmpeg otherwise."""
    found = shutil.which(name)
    if found:
        return found
    if name == "ffmpeg":
        import imageio_ffmpeg
        return imageio_ffmpeg.get_ffmpeg_exe()
    raise SystemExit(f"{name} is not installed (Debian: apt-get install ffmpeg)")


def clip_plan(count: int) -> list[tuple[str, int, bool]]:
    """(source file, first frame, mirrored) of each clip, deterministic."""
    plan = []
    for k in range(count):
        name, frames = SOURCES[k % len(SOURCES)]
        slots = frames - FRAMES
        start = (k // len(SOURCES)) * 53 % (slots + 1)
        plan.append((name, start, bool((k // len(SOURCES)) % 2)))
    return plan


def make_library(count: int) -> list[Path]:
    """The cached clips, made on first use (a few minutes on 2 cores)."""
    CACHE.mkdir(parents=True, exist_ok=True)
    ffmpeg = ffmpeg_binary("ffmpeg")
    out = []
    for k, (name, start, mirror) in enumerate(clip_plan(count)):
        path = CACHE / f"clip_{k:03d}_{Path(name).stem}_{start}{'_m' if mirror else ''}.mp4"
        out.append(path)
        if path.exists():
            continue
        filters = [f"select=between(n\\,{start}\\,{start + FRAMES - 1})",
                   f"setpts=N/({FPS}*TB)", f"scale={WIDTH}:{HEIGHT}:flags=bicubic"]
        if mirror:
            filters.append("hflip")
        # temporal grain: what keeps a real 1080p encode's bitrate high (~25 Mbit/s here)
        filters.append("noise=alls=4:allf=t")
        part = path.with_suffix(".part.mp4")
        subprocess.run([ffmpeg, "-hide_banner", "-loglevel", "error", "-y",
                        "-i", str(MEDIA / name), "-vf", ",".join(filters),
                        "-frames:v", str(FRAMES), "-fps_mode", "passthrough",
                        "-c:v", "libx264", "-preset", "veryfast", "-crf", "16", "-bf", "3",
                        "-g", "48", "-pix_fmt", "yuv420p", "-an", str(part)], check=True)
        part.replace(path)
    return out


def children_cpu() -> float:
    """CPU seconds (user + system) of the finished child processes so far."""
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def time_ffprobe(files: list[Path]) -> tuple[float, float, int]:
    """Seconds, CPU seconds and frames of `ffprobe -count_frames` on each file, in turn."""
    ffprobe = ffmpeg_binary("ffprobe")
    frames = 0
    cpu0 = children_cpu()
    t0 = time.perf_counter()
    for path in files:
        out = subprocess.run([ffprobe, "-v", "error", "-count_frames", "-select_streams", "v:0",
                              "-show_entries", "stream=nb_read_frames", "-of", "csv=p=0",
                              str(path)], check=True, capture_output=True, text=True).stdout
        frames += int(out.strip().split(",")[0])
    return time.perf_counter() - t0, children_cpu() - cpu0, frames


def time_ingest(files: list[Path], workers: int | None,
                scenes: str) -> tuple[float, float, int, bool]:
    """Seconds, CPU seconds (worker processes included), frames in the catalog, and whether
    every clip was analysed, of `curator ingest --analyze`."""
    work = Path(tempfile.mkdtemp(prefix="curator-bench-library-"))
    try:
        env = dict(os.environ, PYTHONPATH=str(REPO))
        argv = [sys.executable, "-m", "curator.cli", "--project", str(work / "p"), "-q", "ingest",
                "--analyze", "--scenes", scenes, "--json", *map(str, files)]
        if workers is not None:
            argv[argv.index("--json")] = f"--workers={workers}"
            argv.append("--json")
        cpu0 = children_cpu()
        t0 = time.perf_counter()
        done = subprocess.run(argv, capture_output=True, text=True, env=env, check=False)
        seconds = time.perf_counter() - t0
        cpu = children_cpu() - cpu0
        if done.returncode != 0:
            raise SystemExit(f"ingest failed ({done.returncode}): {done.stderr[-2000:]}")
        report = json.loads(done.stdout)
        if report["failed"]:
            raise SystemExit(f"ingest failed on: {report['failed']}")
        db = sqlite3.connect(work / "p" / "curator.db")
        frames = db.execute("select sum(frame_count) from sources").fetchone()[0]
        missing = db.execute("select count(*) from clips where analysis is null").fetchone()[0]
        db.close()
        return seconds, cpu, int(frames), missing == 0
    finally:
        shutil.rmtree(work, ignore_errors=True)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clips", type=int, default=45)
    parser.add_argument("--repeat", type=int, default=3, help="interleaved rounds")
    parser.add_argument("--workers", type=int, action="append", default=None,
                        help="ingest --workers value to time (repeatable); default: the "
                             "ingest default only")
    parser.add_argument("--scenes", choices=("auto", "never"), action="append", default=None,
                        help="ingest's --scenes (repeatable: each mode is timed in every "
                             "round; default auto, as a plain `ingest --analyze`)")
    parser.add_argument("--make-only", action="store_true", help="only build the clip cache")
    args = parser.parse_args(argv)

    t0 = time.perf_counter()
    files = make_library(args.clips)
    size = sum(f.stat().st_size for f in files)
    seconds = args.clips * FRAMES / FPS
    print(f"{len(files)} clips {WIDTH}x{HEIGHT}x{FRAMES} H.264 in {CACHE}: "
          f"{size / 1e6:.0f} MB, {size * 8 / seconds / 1e6:.1f} Mbit/s "
          f"(ready in {time.perf_counter() - t0:.1f}s)")
    if args.make_only:
        return 0
    variants: list[int | None] = list(args.workers) if args.workers else [None]
    modes: list[str] = list(dict.fromkeys(args.scenes or ["auto"]))
    probe_label = "ffprobe -count_frames"
    times: dict[str, list[float]] = {probe_label: []}
    cpus: dict[str, list[float]] = {probe_label: []}
    ratios: dict[str, list[float]] = {}
    load_before = os.getloadavg()
    for _ in range(max(1, args.repeat)):
        probe_s, probe_cpu, probe_frames = time_ffprobe(files)
        times[probe_label].append(probe_s)
        cpus[probe_label].append(probe_cpu)
        for workers, scenes in [(w, m) for m in modes for w in variants]:
            label = f"ingest --analyze --scenes {scenes}" + (
                f" --workers {workers}" if workers else "")
            sec, cpu, frames, all_analysed = time_ingest(files, workers, scenes)
            if frames != probe_frames or not all_analysed:
                raise SystemExit(f"{label}: {frames} frames (ffprobe counted {probe_frames}), "
                                 f"every clip analysed: {all_analysed}")
            times.setdefault(label, []).append(sec)
            cpus.setdefault(label, []).append(cpu)
            ratios.setdefault(label, []).append(probe_s / sec)
    load_after = os.getloadavg()
    print(f"cores {os.cpu_count()}, load average before {load_before[0]:.2f} "
          f"{load_before[1]:.2f} {load_before[2]:.2f}, after {load_after[0]:.2f} "
          f"{load_after[1]:.2f} {load_after[2]:.2f}; frames {probe_frames} (exact in both)")
    print(f"{'':44s} {'median s':>9s} {'frames/s':>9s} {'CPU s':>7s}  rounds (s)")
    total = len(files) * FRAMES
    for label, values in times.items():
        med = statistics.median(values)
        print(f"{label:44s} {med:9.2f} {total / med:9.1f} {statistics.median(cpus[label]):7.1f}"
              f"  " + " ".join(f"{v:.2f}" for v in values))
    for label, values in ratios.items():
        print(f"{label}: {statistics.median(values):.2f}x faster than ffprobe (median of "
              f"per-round ratios " + " ".join(f"{v:.2f}" for v in values) + ")")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
