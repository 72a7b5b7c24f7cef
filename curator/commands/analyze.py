"""`curator analyze`: measure motion, hidden cuts, duplicates and borders of every clip."""

from __future__ import annotations

import argparse

from curator.commands import add_command, add_workers_option
from curator.core.analysis import analyze_clips
from curator.core.pool import default_workers


def register(subparsers: argparse._SubParsersAction) -> None:
    p = add_command(subparsers, "analyze", run,
                    "measure motion, hidden cuts, duplicates and borders of clips")
    p.add_argument("ids", nargs="*", type=int, metavar="ID", help="only these clips")
    p.add_argument("--force", action="store_true", help="analyse again clips already analysed")
    add_workers_option(p, "runs of clips decoded and analysed")
    p.add_argument("--json", action="store_true", help="print the report as JSON")


def run(args: argparse.Namespace, ctx) -> int:
    """Analyse every clip that has no current analysis (resumable: a second run does nothing new).
    Motion is in pixels per 1/16 s at 256 px wide.
    """
    report = analyze_clips(ctx.catalog, args.ids or None, force=args.force,
                           progress=ctx.progress, workers=args.workers or default_workers())
    ctx.emit_report(report, args.json, [
        f"analysed {len(report.analyzed)} clips ({report.frames} frames, "
        f"{report.frames_per_second:.0f} frames/s); {report.up_to_date} already up to "
        f"date; {len(report.failed)} failed",
        *(f"  {item.path}: {item.reason}" for item in [*report.failed, *report.warnings])])
    return 1 if report.failed else 0
