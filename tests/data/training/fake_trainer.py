"""A stand-in trainer for the runner tests: replays a recorded musubi-tuner log, then exits.

    fake_trainer.py --replay LOG [--delay S] [--exit-code N] [--marker FILE] [--ignore-sigint]
                    [--ignore-sigterm] [--hang] [--spawn-child] [--argv-out FILE]
                    [-- trainer arguments...]

The log is replayed byte for byte, segment by segment (tqdm's `\\r` redraws included), each
segment to the stream musubi-tuner writes it to: progress bars, `logging` lines and tracebacks to
stderr, `accelerator.print` lines to stdout. `--spawn-child` runs a copy of itself as a child and
waits for it, as `accelerate launch` runs the training script, so a signal must reach the whole
process group to stop both. `--marker` records every SIGINT/SIGTERM the process receives.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import signal
import subprocess
import sys
import time

_STDERR_LINE = re.compile(
    r"^(INFO|WARNING|ERROR|DEBUG|CRITICAL)[: ]|^Traceback|^  File |^    |"
    r"^[\w.]*(Error|Exception)\b|%\||\d+it \[|^\[\d{4}-")


def _record(marker: str | None, what: str) -> None:
    if marker:
        with open(marker, "a", encoding="utf-8") as f:
            f.write(f"{what} pid={os.getpid()}\n")


def main() -> int:
    argv = sys.argv[1:]
    trainer_args: list[str] = []
    if "--" in argv:
        cut = argv.index("--")
        argv, trainer_args = argv[:cut], argv[cut + 1:]
    parser = argparse.ArgumentParser()
    parser.add_argument("--replay", required=True)
    parser.add_argument("--delay", type=float, default=0.002)
    parser.add_argument("--exit-code", type=int, default=0)
    parser.add_argument("--marker")
    parser.add_argument("--ignore-sigint", action="store_true")
    parser.add_argument("--ignore-sigterm", action="store_true")
    parser.add_argument("--hang", action="store_true")
    parser.add_argument("--spawn-child", action="store_true")
    parser.add_argument("--argv-out")
    args = parser.parse_args(argv)

    if args.argv_out:
        with open(args.argv_out, "w", encoding="utf-8") as f:
            json.dump({"argv": trainer_args, "cwd": os.getcwd(), "pid": os.getpid(),
                       "pythonpath": os.environ.get("PYTHONPATH", ""),
                       "unbuffered": os.environ.get("PYTHONUNBUFFERED", "")}, f)

    def on_sigint(signum, frame):
        _record(args.marker, "SIGINT")
        if not args.ignore_sigint:
            raise KeyboardInterrupt

    def on_sigterm(signum, frame):
        _record(args.marker, "SIGTERM")
        if not args.ignore_sigterm:
            sys.exit(143)

    signal.signal(signal.SIGINT, on_sigint)
    signal.signal(signal.SIGTERM, on_sigterm)

    if args.spawn_child:
        child_argv = [a for a in sys.argv[1:] if a != "--spawn-child"]
        child = subprocess.Popen([sys.executable, os.path.abspath(__file__), *child_argv])
        while True:
            try:
                return child.wait()
            except KeyboardInterrupt:
                continue  # like accelerate's launcher: the child got the same SIGINT

    with open(args.replay, "rb") as f:
        data = f.read()
    for segment, sep in zip(*[iter(re.split(rb"(\r\n|\r|\n)", data) + [b""])] * 2):
        text = segment.decode("utf-8", errors="replace")
        stream = sys.stderr if _STDERR_LINE.search(text) or sep == b"\r" else sys.stdout
        stream.write(text + sep.decode())
        stream.flush()
        if args.delay:
            time.sleep(args.delay)
    while args.hang:
        time.sleep(0.05)
    return args.exit_code


if __name__ == "__main__":
    sys.exit(main())
