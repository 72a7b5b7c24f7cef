"""`curator prompts expand`: a short idea becomes a sample prompt, trigger phrase first."""

from __future__ import annotations

import argparse
from typing import Any

from curator.commands import add_command
from curator.core.captioning import BACKENDS
from curator.core.captioning.expand import PROJECT_TEMPLATE, ExpandError, run_expand
from curator.core.captioning.options import CaptionSettings, backend_settings
from curator.core.training.profile import ProfileError, load_profile
from curator.core.training.prompts import PromptSyntaxError, add_sample_prompt


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser("prompts", help="sample prompts for training runs",
                              description="Sample prompts for training runs.")
    sub = p.add_subparsers(dest="prompts_command", metavar="ACTION", required=True)
    # The description names the project's template path, so it is written here.
    e = add_command(
        sub, "expand", run, "expand a short idea into one sample prompt with a language model",
        description="Expand a short idea into one paragraph of 80-100 words that starts with "
                    "the trigger phrase (the style's look, motion and camera), with the "
                    "captioning backends, settings and clean-up. The meta-prompt is "
                    f"curator/resources/prompts/expand.txt, or the project's own "
                    f"<project>/{PROJECT_TEMPLATE.as_posix()}. Prints the prompt alone.")
    e.add_argument("idea", help="what the sample should show, in a few words")
    e.add_argument("--backend", choices=sorted(BACKENDS),
                   help="transformers or openai (default: the project's caption backend)")
    e.add_argument("--model", help="transformers: a model folder or hub id; openai: the model "
                                   "name the server serves (default: the project's)")
    e.add_argument("--url", help="openai: the server's base URL, e.g. http://gpu-box:8000/v1")
    e.add_argument("--api-key-env", metavar="VAR",
                   help="openai: environment variable with the API key")
    e.add_argument("--timeout", type=float, help="openai: seconds to wait for the answer")
    e.add_argument("--device", help="transformers: cuda, cpu, ... (default: best)")
    e.add_argument("--dtype", choices=("auto", "bfloat16", "float16", "float32"))
    e.add_argument("--quantize", choices=("4bit", "8bit"))
    e.add_argument("--attention", choices=("auto", "sdpa", "eager", "flash_attention_2"))
    e.add_argument("--trust-remote-code", action="store_true", default=None,
                   help="transformers: run code shipped with the model (only if you trust it)")
    e.add_argument("--max-new-tokens", type=int, help="longest answer in tokens")
    e.add_argument("--seed", type=int, help="seed for sampled retries")
    e.add_argument("--threads", type=int, help="transformers on CPU: PyTorch threads")
    e.add_argument("--trigger", help="trigger phrase (default: the project's)")
    e.add_argument("--retries", type=int, default=2,
                   help="further tries for an empty or looping answer (default 2)")
    e.add_argument("--add", metavar="PROFILE",
                   help="append the prompt, with sample options, to this training profile's "
                        "sample-prompt file")
    for flag, what in (("--w", "width"), ("--h", "height"), ("--f", "frames"), ("--d", "seed"),
                       ("--s", "steps")):
        e.add_argument(flag, dest=f"sample_{what}", type=int, metavar="N",
                       help=f"with --add: the sample's {what} (default: the file's first "
                            f"prompt's, else --w 384 --h 384 --f 45 --d 7 --s 20)")
    e.add_argument("--json", action="store_true", help='print {"prompt": ...} as JSON')


def run(args: argparse.Namespace, ctx: Any) -> int:  # ctx: curator.cli.CliContext
    catalog = ctx.catalog
    settings = catalog.settings()
    profile = None
    if args.add:
        try:
            profile = load_profile(args.add, ctx.project.root)
        except ProfileError as exc:
            return ctx.fail(str(exc))
    name, options = backend_settings(vars(args), CaptionSettings.from_json(settings.caption))
    trigger = args.trigger if args.trigger is not None else settings.trigger
    if options.get("model"):
        ctx.say(f"loading {name} model {options['model']} ...")
    try:
        expanded = run_expand(backend=name, backend_settings=options, idea=args.idea,
                              trigger=trigger, project_root=ctx.project.root,
                              retries=args.retries)
    except ExpandError as exc:
        return ctx.fail(str(exc))
    report = expanded.to_json()
    if profile is not None:
        given = {key: getattr(args, f"sample_{key}") for key in
                 ("width", "height", "frames", "seed", "steps")}
        try:
            path, line = add_sample_prompt(ctx.project.root, profile, expanded.prompt, **given)
        except (OSError, PromptSyntaxError) as exc:
            return ctx.fail(str(exc))
        report["added"] = {"profile": profile.name, "file": str(path), "line": line.to_line()}
        ctx.say(f"added to {path}")
        if not profile.sample_prompts:
            ctx.say(f"note: profile {profile.name!r} renders no samples until it names this "
                    f"file: --set sampling.prompts={path} (the Train tab does this on save)")
    if args.json:
        ctx.emit_json(report)
    else:
        print(expanded.prompt, file=ctx.stdout)
    return 0
