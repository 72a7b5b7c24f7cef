"""`curator caption`: caption clips and images with a local model or an OpenAI-compatible server."""

from __future__ import annotations

import argparse
import signal
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from curator.commands import add_command
from curator.core.captioning import (
    BACKENDS,
    CaptionBackendError,
    PromptError,
    Prompts,
    Sampling,
    caption_items,
    make_backend,
    read_prompt_file,
)
from curator.core.captioning.options import CaptionSettings
from curator.core.captioning.options import backend_settings as stored_backend_settings
from curator.core.captioning.request import CaptionSelection, plan_caption
from curator.core.catalog import DECISIONS
from curator.core.jobs import CancelToken


def register(subparsers: argparse._SubParsersAction) -> None:
    p = add_command(subparsers, "caption", run,
                    "caption clips and images with a vision-language model")
    p.add_argument("--backend", choices=sorted(BACKENDS),
                   help="transformers (a local model) or openai (any OpenAI-compatible server); "
                        "default: the project's, else transformers")
    p.add_argument("--model", help="transformers: a model folder (models/...) or hub id; "
                                   "openai: the model name the server serves")
    p.add_argument("--url", help="openai: the server's base URL, e.g. http://gpu-box:8000/v1")
    p.add_argument("--api-key-env", metavar="VAR",
                   help="openai: environment variable with the API key "
                        "(default CURATOR_OPENAI_API_KEY, then OPENAI_API_KEY)")
    p.add_argument("--video-url", dest="video_mode", action="store_const", const="video_url",
                   help="openai: send each clip as one MP4 (vLLM) instead of JPEG frames")
    p.add_argument("--concurrency", type=int, help="openai: requests in flight (default 4)")
    p.add_argument("--timeout", type=float,
                   help="openai: seconds one whole answer may take (a deadline, not per read)")
    p.add_argument("--prompt-file", help="prompt template for clips and images "
                                         "('{trigger}' is replaced by the trigger phrase)")
    p.add_argument("--video-prompt-file", help="prompt template for clips only")
    p.add_argument("--image-prompt-file", help="prompt template for images only")
    p.add_argument("--trigger", help="trigger phrase (default: the project's)")
    which = p.add_mutually_exclusive_group()
    which.add_argument("--only-missing", dest="only_missing", action="store_true", default=True,
                       help="caption only what has no caption yet (default; resumes a run)")
    which.add_argument("--all", dest="only_missing", action="store_false",
                       help="caption again what already has a model caption")
    p.add_argument("--overwrite-manual", action="store_true",
                   help="with --all: also replace captions a person wrote (they stay in the "
                        "caption history)")
    p.add_argument("--status", choices=DECISIONS,
                   help="only clips and images with this decision (default: all but rejected)")
    p.add_argument("--only", choices=("clips", "images"), help="caption only clips or images")
    p.add_argument("--ids", type=int, nargs="+", metavar="ID", help="only these clip ids")
    p.add_argument("--limit", type=int,
                   help="caption at most this many items still to do (a rerun does the next ones)")
    p.add_argument("--fps", type=float, help="frames per second sampled from a clip "
                                             "(default 2; 0 spreads --max-frames evenly)")
    p.add_argument("--max-frames", type=int, help="most frames per clip (default 16)")
    p.add_argument("--max-pixels", type=int, help="pixel budget per frame (default 230400)")
    p.add_argument("--image-max-pixels", type=int, help="pixel budget per image")
    p.add_argument("--batch-size", type=int, help="requests per model call (transformers "
                                                  "default 1; openai: concurrency)")
    p.add_argument("--max-new-tokens", type=int, help="longest caption in tokens (default 320)")
    p.add_argument("--retries", type=int, default=2,
                   help="further tries for an empty or looping answer (default 2)")
    p.add_argument("--device", help="transformers: cuda, cuda:1, mps, cpu (default: best)")
    p.add_argument("--dtype", choices=("auto", "bfloat16", "float16", "float32"))
    p.add_argument("--quantize", choices=("4bit", "8bit"),
                   help="transformers: load in 4 or 8 bits (needs bitsandbytes and CUDA)")
    p.add_argument("--attention", choices=("auto", "sdpa", "eager", "flash_attention_2"))
    p.add_argument("--trust-remote-code", action="store_true", default=None,
                   help="transformers: run code shipped with the model (only if you trust it)")
    p.add_argument("--seed", type=int, help="seed for sampled retries")
    p.add_argument("--threads", type=int,
                   help="transformers on CPU: PyTorch threads (default: PyTorch's choice)")
    p.add_argument("--dry-run", action="store_true",
                   help="print what a run would caption (clips and images; with --json their "
                        "ids and files) and stop: no model is loaded")
    p.add_argument("--json", action="store_true", help="print the report as JSON")


def _stored(ctx: Any) -> CaptionSettings:
    return CaptionSettings.from_json(ctx.catalog.settings().caption)


def backend_settings(args: argparse.Namespace, stored: CaptionSettings | dict[str, Any]
                     ) -> tuple[str, dict]:
    """The backend name and its settings: command-line options over the project's stored ones."""
    return stored_backend_settings(vars(args), stored)


def sampling_from(args: argparse.Namespace, stored: CaptionSettings) -> Sampling:
    """Frames per clip and pixel budgets: the options over the project's stored ones."""
    return stored.sampling(vars(args))


def prompts_from(args: argparse.Namespace, settings: Any) -> Prompts:
    prompts = Prompts.from_settings(settings)
    both = read_prompt_file(args.prompt_file) if args.prompt_file else None
    video = read_prompt_file(args.video_prompt_file) if args.video_prompt_file else both
    image = read_prompt_file(args.image_prompt_file) if args.image_prompt_file else both
    return Prompts(image=image or prompts.image, video=video or prompts.video)


def _selection(args: argparse.Namespace) -> CaptionSelection:
    # --limit is applied by the core after skipping what is already captioned.
    return CaptionSelection(status=args.status or "active", items=args.only or "both",
                            clip_ids=tuple(args.ids) if args.ids else None)


def _select(args: argparse.Namespace, catalog: Any) -> tuple[list[int], list[int]]:
    return _selection(args).select(catalog)


def dry_run(args: argparse.Namespace, ctx: Any) -> int:
    """What a run with these options would caption, from the selection the run (and the
    window's "Will caption N clips and M images") uses; nothing is loaded or saved."""
    plan = plan_caption(ctx.catalog, _selection(args), only_missing=args.only_missing,
                        overwrite_manual=args.overwrite_manual, limit=args.limit)
    if args.json:
        ctx.emit_json(plan.to_json())
        return 0
    count = plan.count()
    kept = []
    if count.skipped:
        kept.append(f"{count.skipped} captioned already, skipped")
    if count.skipped_manual:
        kept.append(f"{count.skipped_manual} written by hand, kept")
    ctx.say(f"would caption {count.clips} clip{'s' * (count.clips != 1)} and {count.images} "
            f"image{'s' * (count.images != 1)}" + (f" ({'; '.join(kept)})" if kept else "")
            + "; nothing was loaded or saved (--dry-run)")
    return 0


@contextmanager
def _ctrl_c_cancels(cancel: CancelToken, say: Any) -> Iterator[None]:
    """First Ctrl-C: finish the clip in flight and stop (all saved). Second: stop at once."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def handler(signum: int, frame: Any) -> None:
        if cancel.cancelled:
            raise KeyboardInterrupt
        say("stopping after the clip in flight (Ctrl-C again to stop at once)")
        cancel.cancel()

    previous = signal.signal(signal.SIGINT, handler)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)


def run(args: argparse.Namespace, ctx: Any) -> int:  # ctx: curator.cli.CliContext
    """Caption clips (as sampled frames) and images. Each caption is saved as soon as it is made; a
    rerun resumes with what is still uncaptioned. Ctrl-C stops after the clip in flight.
    """
    catalog = ctx.catalog
    settings = catalog.settings()
    stored = _stored(ctx)
    try:
        prompts = prompts_from(args, settings)
    except PromptError as exc:
        return ctx.fail(str(exc))
    if args.limit is not None and args.limit < 0:
        return ctx.fail("--limit must be 0 or more")
    if args.dry_run:
        return dry_run(args, ctx)
    try:
        sampling = sampling_from(args, stored)
    except ValueError as exc:
        return ctx.fail(str(exc))
    name, options = backend_settings(args, stored)
    if not options.get("model"):
        ctx.say("error: no model: pass --model (a folder under models/ or a hub id for "
                "transformers; the served model name for openai)")
        return 2
    clip_ids, image_ids = _select(args, catalog) if args.limit != 0 else ([], [])
    if not clip_ids and not image_ids:
        ctx.say("nothing to caption (no clips or images match)")
        if args.json:
            ctx.emit_json({"done": 0, "skipped": 0, "failed": [], "captions": []})
        return 0
    ctx.say(f"loading {name} model {options['model']} ...")
    try:
        backend = make_backend(name, **options)
    except CaptionBackendError as exc:
        return ctx.fail(str(exc))
    cancel = CancelToken()
    try:
        with _ctrl_c_cancels(cancel, ctx.say):
            report = caption_items(
                catalog, backend=backend, clip_ids=clip_ids, image_ids=image_ids,
                prompts=prompts, trigger=args.trigger, sampling=sampling,
                only_missing=args.only_missing, overwrite_manual=args.overwrite_manual,
                batch_size=args.batch_size, retries=args.retries, limit=args.limit,
                progress=ctx.progress, cancel=cancel,
                on_retry=lambda notice: ctx.say(notice.text))
    finally:
        backend.close()
    ctx.emit_report(report, args.json, [
        *(f"failed: {failure.path}: {failure.reason}" for failure in report.failed),
        *(f"warning: {warning.reason}" for warning in report.warnings),
        f"captioned {report.done}, skipped {report.skipped} already captioned and "
        f"{report.skipped_manual} written by a person, {len(report.failed)} failed, "
        f"{report.retried} retried; {report.wall_seconds:.1f} s "
        f"(model {report.model_seconds:.1f} s, decoding {report.decode_seconds:.1f} s "
        f"alongside)"])
    if report.stopped:
        return ctx.fail(f"stopped: {report.stopped}")
    if report.cancelled:
        ctx.say("cancelled: what was captioned is saved; run again to resume")
        return 130
    return 1 if report.failed else 0
