"""`curator gui`: open the desktop window on a project."""

from __future__ import annotations

import argparse

from curator.commands import add_command


def register(subparsers: argparse._SubParsersAction) -> None:
    add_command(subparsers, "gui", run, "open the desktop window on the project")


def run(args: argparse.Namespace, ctx) -> int:
    from curator.gui.app import run_gui  # Qt loads only when the window is wanted

    return run_gui(str(ctx.project.root))
