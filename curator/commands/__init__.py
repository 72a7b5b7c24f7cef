"""CLI commands: each module registers its subcommands with `register(subparsers)`, each one made
by `add_command` (its run function's docstring is the `--help` description)."""

import argparse
import inspect
from collections.abc import Callable
from typing import Any

from curator.core.pool import default_workers

#: The module that registers each subcommand, so that `curator stats` imports stats.py and
#: not the modules that load OpenCV, PyAV or the trainers (a second of start-up in all).
#: A command missing here still works (every module is imported for it);
#: tests/cli/test_cli_basic.py checks this table against what the modules register.
MODULE_OF = {
    "analyze": "analyze", "caption": "caption", "clips": "clips", "images": "clips",
    "settings": "clips", "decide": "decide", "auto-decide": "decide",
    "caption-set": "edit", "caption-history": "edit", "caption-restore": "edit",
    "replace": "edit", "trim": "edit", "split": "edit", "merge": "edit", "crop": "edit",
    "export": "export", "plan": "export", "buckets": "export", "gui": "gui",
    "ingest": "ingest", "prompts": "prompts", "stats": "stats",
    "still": "still", "train": "train",
}


def _positive(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, not {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError("must be at least 1")
    return value


def add_workers_option(parser: argparse.ArgumentParser, what: str) -> None:
    """`--workers N`, the same for every command that decodes files in parallel."""
    parser.add_argument("--workers", type=_positive, default=None, metavar="N",
                        help=f"{what} at once (default: one per core, here "
                             f"{default_workers()})")


def add_command(subparsers: argparse._SubParsersAction, name: str, run: Callable[..., int],
                summary: str | None = None, **options: Any) -> argparse.ArgumentParser:
    """Subcommand `name`, run by `run`: `summary` in the list of commands, and `run`'s docstring
    as the description `--help` shows (argparse refills it, so its line breaks do not show)."""
    options.setdefault("description", inspect.getdoc(run))
    parser = subparsers.add_parser(name, help=summary, **options)
    parser.set_defaults(func=run)
    return parser
