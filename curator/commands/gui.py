"""`curator gui`: open the desktop window on a project."""

from __future__ import annotations

import argparse


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser("gui", help="open the desktop window on the project")
    p.set_defaults(func=run)


def run(args: argparse.Namespace, ctx) -> int:
    from curator.gui.app import run_gui  # Qt loads only when the window is wanted

    return run_gui(str(ctx.project.root))
