"""The command line: parse into a context, then call the core (which knows no argparse).

Every module in `curator.commands` contributes subcommands through `register(subparsers)`.
"""

from __future__ import annotations

import argparse
import importlib
import json
import os
import pkgutil
import sys
import time
import traceback
from collections.abc import Callable, Iterable, Sequence
from functools import cached_property
from typing import Any, TextIO, TypeVar

from curator import __version__
from curator.core.catalog import DB_FILENAME, Catalog
from curator.core.jobs import Progress
from curator.core.project import Project

T = TypeVar("T")

#: Commands that may start a project in an empty folder; the others need an existing catalog.
CREATES_PROJECT = frozenset({"ingest", "settings", "gui", "plan", "train"})


class TerminalProgress:
    """A one-line progress bar on stderr; silent when stderr is not a terminal unless asked."""

    def __init__(self, stream: TextIO = sys.stderr, *, enabled: bool | None = None) -> None:
        self.stream = stream
        self.enabled = stream.isatty() if enabled is None else enabled
        self._started = time.monotonic()
        self._last_draw = 0.0
        self._bar_shown = False

    def __call__(self, progress: Progress) -> None:
        if not self.enabled:
            return
        now = time.monotonic()
        finished = progress.total is not None and progress.done >= progress.total
        if now - self._last_draw < 0.1 and not finished:  # throttle: terminals are slow
            return
        self._last_draw = now
        elapsed = now - self._started
        if progress.total:
            fraction = min(1.0, progress.done / progress.total)
            bar = "#" * int(fraction * 30)
            eta = (elapsed / fraction - elapsed) if fraction > 0 else 0.0
            head = f"[{bar:<30}] {progress.done}/{progress.total} eta {eta:4.0f}s"
        else:
            head = f"{progress.done} done"
        line = f"\r{head} {progress.item[-40:]} {progress.message}"[:120]
        self.stream.write(line.ljust(120))
        self._bar_shown = not finished
        if finished:
            self.stream.write("\n")
        self.stream.flush()

    def clear(self) -> None:
        """Wipe a bar drawn part-way, so a line said now starts at the left edge."""
        if self._bar_shown:
            self.stream.write("\r" + " " * 120 + "\r")
            self.stream.flush()
            self._bar_shown = False


class CliContext:
    """What every command gets: the project, its catalog, progress and JSON output."""

    def __init__(self, args: argparse.Namespace, stdout: TextIO | None = None) -> None:
        self.args = args
        self.stdout = stdout or sys.stdout
        self.project = Project(args.project)
        self.progress = TerminalProgress(enabled=None if not args.quiet else False)

    @cached_property
    def catalog(self) -> Catalog:
        if (getattr(self.args, "command", None) not in CREATES_PROJECT
                and not os.environ.get("CURATOR_DB_URL")
                and not (self.project.root / DB_FILENAME).exists()):
            # A mistyped --project must not quietly become a new, empty project.
            raise RuntimeError(f"no Curator project at {self.project.root} (no {DB_FILENAME}); "
                               f"check --project, or start one with `curator --project DIR "
                               f"ingest …`")
        catalog = self.project.catalog
        for notice in self.project.notices:
            self.say(f"note: {notice}")
        return catalog

    def emit_json(self, obj: Any) -> None:
        json.dump(obj, self.stdout, indent=2, ensure_ascii=False, default=str)
        self.stdout.write("\n")
        self.stdout.flush()

    def say(self, message: str) -> None:
        """A line for a person (stderr, so `--json` output stays parseable)."""
        self.progress.clear()
        print(message, file=sys.stderr)

    def emit_report(self, report: Any, as_json: bool, lines: Iterable[str]) -> None:
        """A command's outcome: the report's JSON on stdout with `--json`, else `lines` said."""
        if as_json:
            self.emit_json(report.to_json())
        else:
            for line in lines:
                self.say(line)

    def emit_rows(self, rows: Iterable[T], as_json: bool, row_json: Callable[[T], Any],
                  line: Callable[[T], str]) -> None:
        """A listing on stdout: a JSON list with `--json`, else one line per row."""
        if as_json:
            self.emit_json([row_json(row) for row in rows])
        else:
            for row in rows:
                self.stdout.write(line(row) + "\n")

    def fail(self, message: str) -> int:
        """Say 'error: <message>' and return the command's exit status for it, 2."""
        self.say(f"error: {message}")
        return 2


def build_parser(command: str | None = None) -> argparse.ArgumentParser:
    """The parser with every subcommand, or with only `command`'s module when it is known.

    Each command module imports the core it needs when it is imported, so registering all of
    them costs every command the start-up of the heaviest (OpenCV, PyAV, the trainers).
    """
    parser = argparse.ArgumentParser(
        prog="curator",
        description="Turn film or anime footage into a ready-to-train video-LoRA dataset.",
    )
    parser.add_argument("--version", action="version", version=f"curator {__version__}")
    _add_global_options(parser)
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND")
    import curator.commands as commands

    names = [info.name for info in pkgutil.iter_modules(commands.__path__)
             if not info.name.startswith("_")]
    if command in commands.MODULE_OF:
        names = [commands.MODULE_OF[command]]
    for name in sorted(names):
        module = importlib.import_module(f"curator.commands.{name}")
        register = getattr(module, "register", None)
        if register is not None:
            register(subparsers)
    return parser


def _add_global_options(parser: argparse.ArgumentParser) -> None:
    """The options written before the command word (`_command_word` skips the same ones)."""
    parser.add_argument("--project", default=os.environ.get("CURATOR_PROJECT", "."),
                        help="project folder (holds the catalog, thumbnails, settings); "
                             "default: the current folder")
    parser.add_argument("-q", "--quiet", action="store_true", help="no progress bar")


def _command_word(argv: Sequence[str]) -> str | None:
    """The subcommand named in `argv` (None when there is none, e.g. `--help`)."""
    globals_only = argparse.ArgumentParser(add_help=False, exit_on_error=False)
    _add_global_options(globals_only)
    try:
        _, rest = globals_only.parse_known_args(argv)
    except argparse.ArgumentError:  # e.g. `--project` without a value: the full parser says so
        return None
    return rest[0] if rest and not rest[0].startswith("-") else None


def main(argv: Sequence[str] | None = None) -> int:
    """Run one command; returns its exit code (0 ok, 1 some items failed, 2 error)."""
    argv = list(sys.argv[1:] if argv is None else argv)
    parser = build_parser(_command_word(argv))
    args = parser.parse_args(argv)
    if not getattr(args, "func", None):
        parser.print_help()
        return 2
    ctx = None
    try:
        ctx = CliContext(args)
        return int(args.func(args, ctx) or 0)
    except KeyboardInterrupt:
        print("cancelled", file=sys.stderr)
        return 130
    except BrokenPipeError:
        # the reader stopped reading (`curator clips --json | head`): nothing went wrong here;
        # stdout is pointed at /dev/null so that Python's own flush at exit stays quiet too
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 1
    except Exception as exc:  # noqa: BLE001 - a person gets a sentence; CURATOR_DEBUG the traceback
        if os.environ.get("CURATOR_DEBUG"):
            traceback.print_exc()
        print(f"error: {exc}", file=sys.stderr)
        return 2
    finally:
        if ctx is not None:
            ctx.project.close()


if __name__ == "__main__":
    sys.exit(main())
