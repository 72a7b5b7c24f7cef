"""`curator export`: the dataset folder and trainer TOML; `curator plan`; `curator buckets`."""

from __future__ import annotations

import argparse
import re
from pathlib import Path

from curator.commands import add_command
from curator.core.export import (
    DEFAULT_PRESET,
    DatasetPlan,
    ExportReport,
    PlanError,
    export_dataset,
    list_presets,
    load_plan,
    load_preset,
    load_project_plan,
    project_plan_path,
    resolution_options,
    save_plan,
)
from curator.core.export.buckets import BucketSelector, musubi_cache_bucket
from curator.core.export.crop import export_size
from curator.core.export.live_count import ExportRequest
from curator.core.trainers import PLAN_TRAINERS

TRAINER_CHOICES = PLAN_TRAINERS


def register(subparsers: argparse._SubParsersAction) -> None:
    # The description names the default preset, so it is written here, not as run's docstring.
    p = add_command(
        subparsers, "export", run_export, "write the dataset folder and the trainer's dataset TOML",
        description="Transcode accepted clips to the export fps, write captions, the trainer's "
                    "dataset TOML and a manifest, and count the epoch exactly as the trainer "
                    "will. Without --plan/--preset the project's plan is used "
                    f"(or the preset {DEFAULT_PRESET}).")
    p.add_argument("out_dir", metavar="OUT_DIR", help="the dataset folder")
    _plan_arguments(p)
    p.add_argument("--trainer", choices=TRAINER_CHOICES,
                   help="which trainer's TOML to write (default: the plan's, musubi)")
    p.add_argument("--root", metavar="DIR",
                   help="where OUT_DIR will be on the training machine; paths in the TOML "
                        "start with it (default: OUT_DIR's absolute path)")
    p.add_argument("--dry-run", action="store_true",
                   help="count and warn only; write nothing")
    p.add_argument("--epochs", type=int, help="epochs for the steps figure (default: the plan's)")
    p.add_argument("--workers", type=int, help="parallel transcodes (default: all cores)")
    p.add_argument("--allow-missing-trigger", action="store_true",
                   help="export captions that do not start with the trigger phrase")
    p.add_argument("--json", action="store_true", help="print the result as JSON")

    p = subparsers.add_parser("plan", help="show, list or save dataset plans")
    sub = p.add_subparsers(dest="plan_command", metavar="ACTION")
    show = add_command(sub, "show", run_plan_show, "print a plan (default: the project's)")
    _plan_arguments(show)
    show.add_argument("--json", action="store_true")
    presets = add_command(sub, "presets", run_plan_presets, "list the built-in plans")
    presets.add_argument("--json", action="store_true")
    save = add_command(sub, "save", run_plan_save,
                       "save a preset or a plan file as the project's plan")
    _plan_arguments(save)
    save.add_argument("--force", action="store_true", help="replace the project's plan")
    p.set_defaults(func=run_plan_show, plan=None, preset=None, json=False)

    p = add_command(subparsers, "buckets", run_buckets,
                    "choose a resolution: sizes that keep an aspect ratio, and the buckets "
                        "musubi-tuner picks")
    p.add_argument("--aspect", help="ratio as W:H, WxH or a number (default: the accepted "
                                    "clips' most common size)")
    p.add_argument("--pixels", type=int, default=832 * 480,
                   help="pixel budget (default 832*480 = 399360)")
    p.add_argument("--size", action="append", default=[], metavar="WxH",
                   help="a source size to show buckets for (repeatable; default: the "
                        "accepted clips' sizes)")
    p.add_argument("--resolution", metavar="WxH",
                   help="show the bucket list and choices for this resolution instead")
    p.add_argument("--tolerance", type=float, default=0.01,
                   help="largest relative aspect error listed (default 0.01)")
    p.add_argument("--json", action="store_true")


def _plan_arguments(p: argparse.ArgumentParser) -> None:
    group = p.add_mutually_exclusive_group()
    group.add_argument("--plan", metavar="FILE", help="a plan TOML file")
    group.add_argument("--preset", metavar="NAME",
                       help=f"a built-in plan ({', '.join(list_presets()) or 'none'})")


def _load(args: argparse.Namespace, ctx) -> DatasetPlan:
    if getattr(args, "plan", None):
        return load_plan(Path(args.plan))
    if getattr(args, "preset", None):
        return load_preset(args.preset)
    return load_project_plan(ctx.project.root)


def run_export(args: argparse.Namespace, ctx) -> int:
    try:
        plan = _load(args, ctx)
    except PlanError as exc:
        return ctx.fail(str(exc))
    if args.epochs is not None:
        plan = plan.replace(epochs=max(1, args.epochs))
    trainer = args.trainer or plan.trainer
    out_dir = Path(args.out_dir).expanduser()
    if args.dry_run:
        report = ExportRequest(plan, trainer, out_dir, args.root).dry_run(ctx.catalog)
    else:
        report = export_dataset(ctx.catalog, plan, out_dir, trainer=trainer, root=args.root,
                                workers=args.workers, progress=ctx.progress,
                                allow_missing_trigger=args.allow_missing_trigger)
    if args.json:
        ctx.emit_json(report.to_json())
    else:
        _print_report(report, ctx)
    if report.cancelled:
        return 130
    return 1 if report.failed or report.errors else 0


def _print_report(report: ExportReport, ctx) -> None:
    out = ctx.stdout
    counts = report.counts
    assert counts is not None and report.plan is not None
    out.write(f"plan {report.plan.name} for {report.trainer}"
              f"{' (dry run: nothing written)' if report.dry_run else ''}\n")
    width = max([len(s.name) for s in counts.sections] + [7])
    out.write(f"  {'section':<{width}}  {'files':>6} {'items':>6} {'batches':>7}  what\n")
    for s in counts.sections:
        out.write(f"  {s.name:<{width}}  {s.files:>6} {s.items:>6} {s.batches:>7}  "
                  f"{s.description}\n")
    out.write(f"  {'total':<{width}}  {'':>6} {counts.total_items:>6} {counts.total_batches:>7}"
              f"  {counts.steps_per_epoch} steps per epoch, {counts.total_steps} steps for "
              f"{counts.epochs} epochs\n")
    warnings = counts.all_warnings()
    if warnings:
        out.write(f"{len(warnings)} warning(s):\n")
        for w in warnings:
            out.write(f"  {'ERROR' if w.severity == 'error' else '-'} {w.message}\n")
    for failure in report.failed:
        out.write(f"  FAILED {failure.path}: {failure.reason}\n")
    if report.config_path is not None:
        verb = "would write" if report.dry_run else "wrote"
        out.write(f"{verb} {report.config_path}\n")
    if not report.dry_run:
        out.write(f"{report.encoded} file(s) written, {report.reused} kept, "
                  f"{report.removed} removed\n")
    if report.cancelled:
        out.write("cancelled: the previous export is unchanged\n")


def run_plan_show(args: argparse.Namespace, ctx) -> int:
    try:
        plan = _load(args, ctx)
    except PlanError as exc:
        return ctx.fail(str(exc))
    if args.json:
        ctx.emit_json(plan.to_json())
        return 0
    source = (args.plan or (f"preset {args.preset}" if args.preset else None)
              or (str(project_plan_path(ctx.project.root))
                  if project_plan_path(ctx.project.root).is_file()
                  else f"preset {DEFAULT_PRESET} (the project has no plan yet)"))
    ctx.stdout.write(f"{plan.name}: {source}\n")
    if plan.description:
        ctx.stdout.write(f"  {plan.description}\n")
    fps = "source rate" if plan.keep_source_fps else f"{plan.fps or 'project'} fps"
    ctx.stdout.write(f"  {plan.trainer}, {plan.architecture}, {fps}, enable_bucket="
                     f"{str(plan.enable_bucket).lower()}, bucket_no_upscale="
                     f"{str(plan.bucket_no_upscale).lower()}, crf {plan.crf} "
                     f"{plan.x264_preset}, {plan.epochs} epochs\n")
    for s in plan.sections:
        select = ""
        if s.select.tags:
            select += f" tags {', '.join(s.select.tags)}"
        if s.select.sources:
            select += f" sources {', '.join(s.select.sources)}"
        ctx.stdout.write(f"  - {s.name}: {s.describe()}, batch {s.batch_size}{select}\n")
    return 0


def run_plan_presets(args: argparse.Namespace, ctx) -> int:
    ctx.emit_rows(list_presets(), args.json,
                  lambda name: {"name": name, "description": load_preset(name).description},
                  lambda name: f"{name}: {load_preset(name).description}")
    return 0


def run_plan_save(args: argparse.Namespace, ctx) -> int:
    if not args.plan and not args.preset:
        return ctx.fail("give --preset NAME or --plan FILE to save as the project's plan")
    try:
        plan = _load(args, ctx)
    except PlanError as exc:
        return ctx.fail(str(exc))
    path = project_plan_path(ctx.project.root)
    if path.exists() and not args.force:
        return ctx.fail(f"{path} exists; add --force to replace it")
    save_plan(plan, path)
    ctx.stdout.write(f"saved {plan.name} to {path}\n")
    return 0


_SIZE_RE = re.compile(r"^\s*(\d+)\s*[x×:*,]\s*(\d+)\s*$")


def _size(text: str) -> tuple[int, int]:
    match = _SIZE_RE.match(text)
    if not match:
        raise ValueError(f"{text!r} is not a size like 1920x1040")
    return int(match.group(1)), int(match.group(2))


def run_buckets(args: argparse.Namespace, ctx) -> int:
    """List resolutions divisible by 16 that keep the clips' aspect ratio within a pixel budget,
    with the bucket musubi-tuner caches each source size at.
    """
    try:
        sizes = [_size(s) for s in args.size]
        if not sizes:
            counts: dict[tuple[int, int], int] = {}
            for clip in ctx.catalog.list_clips(status="accepted"):
                size = export_size(clip)  # the cropped picture (bars, a person's crop)
                counts[size] = counts.get(size, 0) + 1
            sizes = sorted(counts, key=lambda s: -counts[s])
        if args.resolution:
            resolution = _size(args.resolution)
            return _print_bucket_list(resolution, sizes, args, ctx)
        if args.aspect:
            aspect: float | tuple[int, int] = (_size(args.aspect) if _SIZE_RE.match(args.aspect)
                                               else float(args.aspect))
        elif sizes:
            aspect = sizes[0]
        else:
            return ctx.fail("give --aspect (no accepted clips to take it from)")
        options = resolution_options(aspect, args.pixels, sources=sizes,
                                     tolerance=args.tolerance)
    except ValueError as exc:
        return ctx.fail(str(exc))
    if args.json:
        ctx.emit_json([o.to_json() for o in options])
        return 0
    ratio = aspect[0] / aspect[1] if isinstance(aspect, tuple) else aspect
    ctx.stdout.write(f"resolutions divisible by 16 near {ratio:.4f} within {args.pixels} pixels:\n")
    for o in options:
        picks = ", ".join(f"{s[0]}x{s[1]}→{b[0]}x{b[1]}" for s, b in o.buckets)
        ctx.stdout.write(f"  [{o.width}, {o.height}]  {o.pixels:>7} px  aspect "
                         f"{o.width / o.height:.4f} ({o.aspect_error * 100:.2f}% off)"
                         f"{'  ' + picks if picks else ''}\n")
    if not options:
        ctx.stdout.write("  none: raise --pixels or --tolerance\n")
    return 0


def _print_bucket_list(resolution: tuple[int, int], sizes: list[tuple[int, int]],
                       args: argparse.Namespace, ctx) -> int:
    selector = BucketSelector(resolution)
    no_upscale = BucketSelector(resolution, True, True)
    rows = [{"source": list(s), "video_cache": list(musubi_cache_bucket(s, resolution)),
             "image_bucket_no_upscale": list(no_upscale.get_bucket_resolution(s))}
            for s in sizes]
    if args.json:
        ctx.emit_json({"resolution": list(resolution),
                       "buckets": [list(b) for b in selector.bucket_resolutions],
                       "sources": rows})
        return 0
    ctx.stdout.write(f"musubi-tuner buckets for resolution {resolution[0]}x{resolution[1]} "
                     f"({len(selector.bucket_resolutions)}):\n  ")
    ctx.stdout.write(", ".join(f"{w}x{h}" for w, h in selector.bucket_resolutions) + "\n")
    for row in rows:
        s, v, i = row["source"], row["video_cache"], row["image_bucket_no_upscale"]
        ctx.stdout.write(f"  {s[0]}x{s[1]}: videos cached at {v[0]}x{v[1]}; images with "
                         f"bucket_no_upscale {i[0]}x{i[1]}\n")
    return 0
