"""Seconds to export N generated 1080p clips of 3 s each, against one ffmpeg process per clip.

The clips are 3-second scenes of generated 1080p "films" at 24 fps (10 scenes per film, one after
another, x264 with its default 10 s keyframe interval), registered in a fresh catalog the way
ingest does, accepted and captioned. Curator's export (preset wan21-14b-style-24gb: clips to
16 fps, sized 768x432 for its 768x416 section, H.264 crf 18 preset medium) is timed against the
plain way: one `ffmpeg` process per clip, run one after another, seeking to the clip's start
(`-ss` before `-i`, the fast way) with the same fps, size, scaler and x264 settings. ffmpeg is
imageio-ffmpeg's static binary (`pip install imageio-ffmpeg`).

    python bench/export.py            # the full figure: 100 clips
    python bench/export.py --clips 20 # a quick run

Prints both times and the ratio (target: >= 1.7x on 2 cores).
"""

from __future__ import annotations

import argparse
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from curator.core.export import export_dataset, load_preset
from curator.core.media import content_hash, probe
from curator.core.project import Project


def ffmpeg_exe() -> str:
    try:
        import imageio_ffmpeg
    except ImportError:
        sys.exit("bench/export.py needs imageio-ffmpeg for the reference: "
                 "pip install imageio-ffmpeg")
    return imageio_ffmpeg.get_ffmpeg_exe()


def make_films(folder: Path, films: int, seconds: int, fps: int, size: str) -> list[Path]:
    """Generated 1080p sources (testsrc2), cached between runs."""
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for i in range(films):
        path = folder / f"film{i:02d}_{size}_{fps}fps_{seconds}s.mp4"
        if not path.exists():
            tmp = path.with_suffix(".part.mp4")
            # a different pattern per film: testsrc2's moving parts start from another offset
            subprocess.run(
                [ffmpeg_exe(), "-loglevel", "error", "-y", "-f", "lavfi", "-i",
                 f"testsrc2=size={size}:rate={fps}", "-ss", str(i * 7), "-t", str(seconds),
                 "-c:v", "libx264", "-preset", "veryfast", "-crf", "20", "-pix_fmt", "yuv420p",
                 str(tmp)], check=True)
            tmp.rename(path)
        paths.append(path)
    return paths


def build_project(root: Path, films: list[Path], clips: int, clip_frames: int) -> Project:
    project = Project(root)
    root.mkdir(parents=True, exist_ok=True)
    catalog = project.catalog
    catalog.update_settings(trigger="sks style")
    made = 0
    for film in films:
        # the header's count is exact for these generated files; decoding 10 films to count
        # their frames would only make the bench slower
        info = probe(film, decode_count=False)
        ranges = []
        start = 0
        while start + clip_frames <= info.frame_count and made < clips:
            ranges.append((start, start + clip_frames))
            start += clip_frames
            made += 1
        stat = film.stat()
        _sid, ids = catalog.upsert_source(
            path=film, size=stat.st_size, mtime=stat.st_mtime, content_hash=content_hash(film),
            container=info.container, codec=info.codec, fps=info.fps,
            frame_count=info.frame_count, header_frame_count=info.header_frame_count,
            width=info.width, height=info.height, duration=info.duration, clip_ranges=ranges)
        catalog.set_decision(ids, "accepted")
        for clip_id in ids:
            catalog.save_caption("sks style, a test pattern scene", clip_id=clip_id)
    return project


def reference(report, out: Path, crf: int, preset: str) -> tuple[float, float]:
    """One ffmpeg per clip, one after another, with the same fps, size and x264 settings.

    Returns:
        (wall seconds, CPU seconds of the ffmpeg processes).
    """
    out.mkdir(parents=True, exist_ok=True)
    exe = ffmpeg_exe()
    cpu_before = _children_cpu()
    started = time.perf_counter()
    for clip in report.layout.clips:
        fps = float(clip.source_fps)
        subprocess.run(
            [exe, "-loglevel", "error", "-y", "-ss", f"{clip.start / fps:.6f}",
             "-t", f"{(clip.end - clip.start) / fps:.6f}", "-i", str(clip.source_path),
             "-vf", f"fps={float(clip.out_fps):g},scale={clip.width}:{clip.height}:flags=area",
             "-c:v", "libx264", "-preset", preset, "-crf", str(crf), "-pix_fmt", "yuv420p",
             "-an", str(out / clip.filename)], check=True)
    return time.perf_counter() - started, _children_cpu() - cpu_before


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def _load() -> str:
    try:
        return f"load {os.getloadavg()[0]:.1f}"
    except OSError:
        return "load ?"


def wait_for_quiet(max_load: float, max_wait: float) -> None:
    """On a shared machine, wait (up to `max_wait` s) until others' load falls below `max_load`.

    Both sides wait the same way, so neither is timed while other programs hold the cores.
    """
    deadline = time.monotonic() + max_wait
    while os.getloadavg()[0] > max_load and time.monotonic() < deadline:
        time.sleep(5)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--clips", type=int, default=100)
    parser.add_argument("--clip-seconds", type=int, default=3)
    parser.add_argument("--per-film", type=int, default=10, help="scenes per generated film")
    parser.add_argument("--fps", type=int, default=24)
    parser.add_argument("--size", default="1920x1080")
    parser.add_argument("--workers", type=int, default=None, help="default: all cores")
    parser.add_argument("--repeat", type=int, default=2,
                        help="runs of each, interleaved; the best of each is compared (other "
                             "programs on a shared machine only ever make a run slower)")
    parser.add_argument("--max-load", type=float, default=1.5,
                        help="before each timed run, wait until the 1-minute load average is "
                             "below this (a shared machine); 0 to never wait")
    parser.add_argument("--max-wait", type=float, default=240,
                        help="longest wait for a quiet machine, seconds")
    parser.add_argument("--cache", type=Path,
                        default=Path(tempfile.gettempdir()) / "curator-bench-export")
    args = parser.parse_args()

    clip_frames = args.clip_seconds * args.fps
    films_needed = -(-args.clips // args.per_film)
    t0 = time.perf_counter()
    films = make_films(args.cache / "films", films_needed, args.per_film * args.clip_seconds,
                       args.fps, args.size)
    print(f"sources: {len(films)} generated {args.size} films ({time.perf_counter() - t0:.1f} s "
          f"to make or find)", flush=True)
    work = Path(tempfile.mkdtemp(prefix="curator-bench-export-"))
    try:
        project = build_project(work / "project", films, args.clips, clip_frames)
        plan = load_preset("wan21-14b-style-24gb")
        ours_runs, theirs_runs = [], []
        for run in range(max(1, args.repeat)):
            if args.max_load > 0:
                wait_for_quiet(args.max_load, args.max_wait)
            load = _load()
            cpu_before = time.process_time()
            started = time.perf_counter()
            report = export_dataset(project.catalog, plan, work / f"dataset{run}",
                                    workers=args.workers)
            ours = time.perf_counter() - started
            ours_cpu = time.process_time() - cpu_before
            if report.failed:
                print(f"failed: {report.failed}")
                return 1
            sizes = sorted({(c.width, c.height) for c in report.layout.clips})
            print(f"curator export: {len(report.layout.clips)} clips of {args.clip_seconds} s "
                  f"-> 16 fps {sizes}: {ours:.2f} s, {ours_cpu:.1f} CPU s ({load}, "
                  f"{os.cpu_count()} cores, {report.encoded} encoded, {report.total_items} "
                  f"items for musubi)", flush=True)
            shutil.rmtree(work / f"dataset{run}", ignore_errors=True)
            if args.max_load > 0:
                wait_for_quiet(args.max_load, args.max_wait)
            load = _load()
            theirs, theirs_cpu = reference(report, work / "ffmpeg", plan.crf, plan.x264_preset)
            print(f"ffmpeg, one process per clip: {theirs:.2f} s, {theirs_cpu:.1f} CPU s "
                  f"({load})", flush=True)
            ours_runs.append(ours)
            theirs_runs.append(theirs)
        best_ours, best_theirs = min(ours_runs), min(theirs_runs)
        print(f"best of {len(ours_runs)}: curator {best_ours:.2f} s, ffmpeg {best_theirs:.2f} s")
        print(f"ratio: {best_theirs / best_ours:.2f}x (target >= 1.7x)")
        project.close()
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
