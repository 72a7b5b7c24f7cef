"""CLI commands: each module registers its subcommands with `register(subparsers)`."""

import argparse

from curator.core.pool import default_workers


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
