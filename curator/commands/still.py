"""`curator still CLIP FRAME`: save a source frame as a lossless still in the image section."""

from __future__ import annotations

import argparse

from curator.commands import add_command
from curator.core.stills import save_still


def register(subparsers: argparse._SubParsersAction) -> None:
    p = add_command(subparsers, "still", run_still,
                    "save a clip's source frame as a still image (PNG, full resolution)")
    p.add_argument("clip", type=int, metavar="CLIP_ID")
    p.add_argument("frame", type=int, metavar="FRAME", help="a source frame inside the clip")
    p.add_argument("--json", action="store_true")


def run_still(args: argparse.Namespace, ctx) -> int:
    """Save source frame FRAME of clip CLIP at full resolution, losslessly, and add it to the
    project's images, ready for the square crop and captioning.
    """
    still = save_still(ctx.catalog, args.clip, args.frame, stills_dir=ctx.project.stills_dir)
    if args.json:
        ctx.emit_json({"image": still.image_id, "path": str(still.path), "width": still.width,
                       "height": still.height})
    else:
        verb = "saved" if still.created else "already saved"
        ctx.say(f"image {still.image_id} {verb}: {still.path} ({still.width}×{still.height})")
    return 0
