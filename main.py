"""Entry point: `python main.py [--project DIR]` opens the window; `python main.py CMD …` runs the CLI."""

from __future__ import annotations

import sys


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    # Only global options (or nothing) given: the person wants the window, like `curator gui`.
    rest = list(argv)
    project = None
    if len(rest) >= 2 and rest[0] == "--project":
        project, rest = rest[1], rest[2:]
    elif rest and rest[0].startswith("--project="):
        project, rest = rest[0].split("=", 1)[1], rest[1:]
    if not rest:
        from curator.gui.app import run_gui

        return run_gui(project)
    from curator.cli import main as cli_main

    return cli_main(argv)


if __name__ == "__main__":
    sys.exit(main())
