"""`curator ingest PATH...`: add videos and images to the project, videos split at their cuts."""

from __future__ import annotations

import argparse
from collections.abc import Iterator
from pathlib import Path

from curator.commands import add_command, add_workers_option
from curator.core.analysis import make_frame_analyzer
from curator.core.ingest import SCENES_MODES, IngestReport, ingest_paths


def register(subparsers: argparse._SubParsersAction) -> None:
    p = add_command(subparsers, "ingest", run,
                    "add video and image files or folders to the project")
    p.add_argument("paths", nargs="+", type=Path, metavar="PATH", help="files or folders")
    p.add_argument("--scenes", choices=SCENES_MODES, default="auto",
                   help="auto: split videos at the hard cuts found (default); never: one clip "
                        "per file, for folders of clips cut already; always: like auto, and "
                        "also re-split videos already in the catalog (clips someone decided, "
                        "captioned or edited are kept)")
    p.add_argument("--min-scene-frames", type=int, default=None, metavar="N",
                   help="shortest scene in frames; no cut closer than this to the previous one "
                        "(default: the project setting, 8)")
    p.add_argument("--analyze", action="store_true",
                   help="also measure motion, cuts and duplicates of each new clip in the same "
                        "decode pass")
    add_workers_option(p, "videos decoded, each in its own process,")
    p.add_argument("--json", action="store_true",
                   help='print {"sources": N, "clips": N, "images": N, "failed": [...]} on stdout')


def run(args: argparse.Namespace, ctx) -> int:
    """Add files, or folders searched recursively, to the project's catalog. Each video is decoded
    once: exact frame count, hard cuts, thumbnails. Nothing is re-encoded; running it again adds
    nothing new. Exit code 1 if any file failed.
    """
    if args.min_scene_frames is not None and args.min_scene_frames < 1:
        return ctx.fail("--min-scene-frames must be at least 1")
    factory = make_frame_analyzer if args.analyze else None
    report = ingest_paths(ctx.catalog, args.paths, thumbs_dir=ctx.project.thumbs_dir,
                          scenes=args.scenes, min_scene_frames=args.min_scene_frames,
                          progress=ctx.progress, analyzer_factory=factory,
                          workers=args.workers)
    ctx.emit_report(report, args.json, _summary(report))
    if report.cancelled:
        return 130
    return 1 if report.failed else 0


def _summary(report: IngestReport) -> Iterator[str]:
    yield report.summary()  # the sentence the window's status line says
    if report.skipped:
        names = ", ".join(Path(p).name for p in report.skipped[:5])
        more = f" and {len(report.skipped) - 5} more" if len(report.skipped) > 5 else ""
        yield (f"  skipped {len(report.skipped)} files that are not video or image: "
               f"{names}{more} (--json lists them all)")
    for item in report.warnings:
        yield f"  warning: {item.reason}"
    for item in report.failed:
        yield f"  failed: {item.reason}"
