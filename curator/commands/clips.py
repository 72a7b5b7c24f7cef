"""`curator clips`: list clips; `curator images`: list images; `curator settings`."""

from __future__ import annotations

import argparse

from curator.commands import add_command
from curator.core.catalog import DECISIONS, ClipRow, ImageRow


def register(subparsers: argparse._SubParsersAction) -> None:
    p = add_command(subparsers, "clips", run_clips, "list the clips in the catalog")
    p.add_argument("--status", choices=DECISIONS)
    p.add_argument("--json", action="store_true", help="print a JSON list")

    p = add_command(subparsers, "images", run_images, "list the images in the catalog")
    p.add_argument("--status", choices=DECISIONS)
    p.add_argument("--json", action="store_true")

    p = add_command(subparsers, "settings", run_settings, "show or change the project's settings")
    p.add_argument("--trigger", help="trigger phrase every caption starts with")
    p.add_argument("--target-fps", type=float, help="training fps (16 for Wan)")
    p.add_argument("--export-root", help="default export folder")
    p.add_argument("--json", action="store_true")


def run_clips(args: argparse.Namespace, ctx) -> int:
    ctx.emit_rows(ctx.catalog.list_clips(status=args.status), args.json, ClipRow.to_json,
                  _clip_line)
    if args.json:
        return 0
    counts = ctx.catalog.counts()
    ctx.say(f"{counts['total']} clips: {counts['pending']} pending, {counts['accepted']} accepted,"
            f" {counts['rejected']} rejected, {counts['captioned']} captioned")
    return 0


def run_images(args: argparse.Namespace, ctx) -> int:
    ctx.emit_rows(ctx.catalog.list_images(status=args.status), args.json, ImageRow.to_json,
                  lambda image: f"{image.id:6d}  {image.decision:8s}  {image.path.name}  "
                                f"{image.width}x{image.height}  {(image.caption or '')[:50]}")
    return 0


def _clip_line(clip: ClipRow) -> str:
    motion = "-" if clip.motion is None else f"{clip.motion:.1f}"
    return (f"{clip.id:6d}  {clip.decision:8s}  {clip.source_path.name}  "
            f"[{clip.start_frame}, {clip.end_frame})  {clip.frames}f "
            f"@{float(clip.fps):.3f}  motion {motion}  {(clip.caption or '')[:50]}")


def run_settings(args: argparse.Namespace, ctx) -> int:
    changes = {}
    if args.trigger is not None:
        changes["trigger"] = args.trigger
    if args.target_fps is not None:
        changes["target_fps"] = args.target_fps
    if args.export_root is not None:
        changes["export_root"] = args.export_root
    settings = ctx.catalog.update_settings(**changes) if changes else ctx.catalog.settings()
    if args.json:
        ctx.emit_json(settings.to_json())
    else:
        for key, value in settings.to_json().items():
            ctx.stdout.write(f"{key}: {value}\n")
    return 0
