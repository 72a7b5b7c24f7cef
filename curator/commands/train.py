"""`curator train`: build the trainer's commands from a profile, check them, run or export them."""

from __future__ import annotations

import argparse
import os
import sys
import threading
import time
from pathlib import Path

from curator.commands import add_command
from curator.core.catalog import DB_FILENAME
from curator.core.jobs import CancelToken
from curator.core.training.commands import STEP_CHOICES
from curator.core.training.launch import TrainRequest
from curator.core.training.profile import (
    DEFAULT_PRESET,
    ProfileError,
    TrainingProfile,
    absolute_command,
    list_profiles,
    load_profile,
    save_profile,
)
from curator.core.training.progress import parse_tqdm
from curator.core.training.runner import DEFAULT_GRACE_S, TrainReport, run_steps
from curator.core.training.validate import DatasetSummary, Problem, errors

# Options that override one profile field each: (option dest, profile field).
_OVERRIDES = (("trainer_dir", "trainer_dir"), ("python", "python"), ("dit", "dit"),
              ("vae", "vae"), ("t5", "t5"), ("dataset_config", "dataset_config"),
              ("output_dir", "output_dir"))


def register(subparsers: argparse._SubParsersAction) -> None:
    p = add_command(subparsers, "train", run,
                    "run musubi-tuner (or diffusion-pipe) on the exported dataset")
    p.add_argument("--profile", default=None,
                   help=f"profile name or .toml file (default {DEFAULT_PRESET}); the project's "
                        f"own profiles live in <project>/training/<name>.toml")
    p.add_argument("--trainer-dir", dest="trainer_dir", metavar="DIR",
                   help="the musubi-tuner (or diffusion-pipe) checkout")
    p.add_argument("--python", metavar="PY", help="the Python of the trainer's venv")
    p.add_argument("--dit", metavar="F", help="the DiT model file (low-noise one for Wan2.2)")
    p.add_argument("--vae", metavar="F", help="the VAE file")
    p.add_argument("--t5", metavar="F", help="the UMT5 text encoder file")
    p.add_argument("--dataset-config", dest="dataset_config", metavar="F",
                   help="the dataset TOML written by `curator export`")
    p.add_argument("--output-dir", dest="output_dir", metavar="D",
                   help="where LoRA files, samples and logs go")
    p.add_argument("--set", dest="settings", action="append", default=[],
                   metavar="SECTION.KEY=VALUE",
                   help="change any profile setting, e.g. --set memory.blocks_to_swap=20 "
                        "(repeatable)")
    p.add_argument("--step", choices=STEP_CHOICES, default="all",
                   help="run one step only (default: all, in order)")
    p.add_argument("--dry-run", action="store_true",
                   help="print the commands instead of running them")
    p.add_argument("--json", action="store_true",
                   help="with --dry-run: print {\"steps\": [{name, argv, cwd, env}, ...]}")
    p.add_argument("--export-script", metavar="FILE",
                   help="write the commands as a bash script for another machine (not run)")
    p.add_argument("--save-profile", metavar="NAME",
                   help="save the profile with these overrides as <project>/training/NAME.toml")
    p.add_argument("--list-profiles", action="store_true", help="list profiles and presets")
    p.add_argument("--grace", type=float, default=DEFAULT_GRACE_S, metavar="S",
                   help="on Ctrl-C: seconds between SIGINT and SIGTERM to the trainer "
                        f"(default {DEFAULT_GRACE_S:g})")


def effective_profile(args: argparse.Namespace, project_root: Path) -> TrainingProfile:
    """The profile named by `--profile`, with the command-line overrides applied.

    Raises:
        ProfileError: unknown profile or setting.
    """
    profile = load_profile(args.profile or DEFAULT_PRESET, project_root)
    changes = {field: getattr(args, dest) for dest, field in _OVERRIDES
               if getattr(args, dest, None)}
    # Paths typed on the command line are relative to where the command runs, not the project.
    # Made absolute without following links: a venv's bin/python is a symlink to the base
    # interpreter (only the link's own path starts Python inside the venv), and an export's
    # musubi_dataset.toml is a stable link into its current generation.
    for key, value in list(changes.items()):
        if key != "python" or "/" in value or "\\" in value:
            changes[key] = absolute_command(value, Path.cwd())
    profile = profile.replace(**changes)
    for assignment in args.settings:
        profile = profile.with_setting(assignment)
    return profile


def _describe_dataset(summary: DatasetSummary) -> str:
    files = ", ".join(f"{s.media_files} {s.kind} files" for s in summary.sections)
    counted = (f"{summary.items} items, {summary.steps_per_epoch} steps per epoch"
               if summary.items is not None else "items per epoch not counted")
    return f"dataset {summary.path}: {files}; {counted}"


def _print_problems(ctx, problems: list[Problem]) -> None:
    for problem in problems:
        ctx.say(f"{problem.severity}: {problem.message}")


def run(args: argparse.Namespace, ctx) -> int:
    """Build the caching and training commands from a profile, check them, then run them in order
    (stopping at the first failure), print them, or write them as a script for another machine.
    Options override the profile.
    """
    root = ctx.project.root
    if args.list_profiles:
        ctx.emit_rows(list_profiles(root), args.json,
                      lambda row: {"name": row[0], "origin": row[1]},
                      lambda row: f"{row[0]}  ({row[1]})")
        return 0
    try:
        profile = effective_profile(args, root)
    except ProfileError as exc:
        return ctx.fail(str(exc))
    if args.save_profile:
        path = save_profile(root, profile, args.save_profile)
        ctx.say(f"saved profile {args.save_profile} to {path}")

    # The last export's dataset config is the default; only an existing catalog is asked.
    export_root = None
    if not profile.dataset_config and ((root / DB_FILENAME).exists()
                                       or os.environ.get("CURATOR_DB_URL")):
        export_root = ctx.catalog.settings().export_root or None
    # A dry run previews a run here, so it checks what a run checks (a missing or non-musubi
    # trainer folder is an error, exit 1); only a script for another machine lets files be
    # missing here.
    request = TrainRequest(profile, root, args.step, remote=bool(args.export_script),
                           export_root=export_root)
    plan = request.validate()
    steps, problems, summary = list(plan.steps), list(plan.problems), plan.dataset

    if args.export_script:
        _print_problems(ctx, problems)
        if errors(problems):
            return ctx.fail("the script was not written; fix the errors above")
        target = plan.write_script(Path(args.export_script).expanduser())
        ctx.say(f"wrote {len(steps)} step(s) to {target}")
        if not args.dry_run:
            return 0

    if args.dry_run:
        if args.json:
            ctx.emit_json(plan.to_json())
        else:
            _print_problems(ctx, problems)
            ctx.stdout.write(plan.script())
        return 1 if errors(problems) else 0

    _print_problems(ctx, problems)
    if errors(problems):
        return ctx.fail("nothing was run; fix the errors above (or see them all with --dry-run)")
    if summary is not None:
        ctx.say(_describe_dataset(summary))
    report = _run_in_thread(ctx, steps, profile, grace=args.grace)
    if args.json:
        ctx.emit_json(report.to_json())
    for record in report.records:
        duration = f"{record.duration_s:.0f}s" if record.duration_s is not None else "-"
        ctx.say(f"{record.name}: {record.status} (exit code {record.return_code}, {duration})")
    if report.cancelled:
        return 130
    if report.failed:
        for failure in report.failed:
            ctx.say(f"error: {failure.reason}")
        return 1
    return 0


def _run_in_thread(ctx, steps: list, profile: TrainingProfile, *,
                   grace: float) -> TrainReport:
    """Run the steps on a worker thread so Ctrl-C here becomes a clean cancel of the trainer.

    The trainer runs in its own process group, so the terminal's Ctrl-C does not reach it;
    this thread forwards it as the runner's cancel (SIGINT, then SIGTERM after `grace`).
    """
    cancel = CancelToken()
    result: dict[str, object] = {}
    def on_line(stream: str, line: str) -> None:
        if parse_tqdm(line) is not None:
            return  # bars feed the progress line instead of flooding the log
        print(line, file=sys.stderr, flush=True)

    def on_step(step, index: int, count: int) -> None:
        ctx.say(f"== step {index + 1}/{count}: {step.name} ({step.description})")

    finished = threading.Event()

    def work() -> None:
        try:
            result["report"] = run_steps(
                steps, on_line=on_line, on_step=on_step, progress=ctx.progress, cancel=cancel,
                catalog=ctx.catalog, job_params={"profile": profile.name, "trainer":
                                                 profile.trainer}, grace_s=grace)
        except BaseException as exc:  # noqa: BLE001 - re-raised on the calling thread
            result["error"] = exc
        finally:
            finished.set()

    worker = threading.Thread(target=work, name="curator-train", daemon=True)
    worker.start()
    # Not `worker.join()`: on Python 3.11 a KeyboardInterrupt inside join() can leave the
    # thread looking finished while it still runs. A sleep is interrupted cleanly.
    while not finished.is_set():
        try:
            time.sleep(0.1)
        except KeyboardInterrupt:
            if not cancel.cancelled:
                cancel.cancel()
                ctx.say(f"cancelling: SIGINT sent to the trainer; SIGTERM in {grace:g}s if it "
                        f"has not stopped")
    worker.join()
    if "error" in result:
        raise result["error"]  # type: ignore[misc]
    return result["report"]  # type: ignore[return-value]
