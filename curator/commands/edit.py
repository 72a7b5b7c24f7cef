"""Hand edits from a terminal, the same the window does: captions, history, trim, split, merge,
crop.

`curator caption-set`, `caption-history`, `caption-restore`, `replace`, `trim`, `split`,
`merge`, `crop`.
"""

from __future__ import annotations

import argparse

from curator.commands import add_command
from curator.core.caption_edit import apply_replacements, find_replacements
from curator.core.export.crop import clip_crop
from curator.core.media.thumbnails import ensure_clip_thumbnails
from curator.core.merge import merge_clips
from curator.core.trigger import with_trigger


def register(subparsers: argparse._SubParsersAction) -> None:
    p = add_command(subparsers, "caption-set", run_caption_set,
                    "write a clip's or an image's caption by hand")
    _caption_owner(p)
    p.add_argument("text", help="the caption (the trigger phrase is added if missing)")
    p.add_argument("--no-trigger", action="store_true",
                   help="save the text as given, even without the trigger phrase")
    p.add_argument("--json", action="store_true")

    p = add_command(subparsers, "caption-history", run_caption_history,
                    "list a clip's or an image's caption versions")
    _caption_owner(p)
    p.add_argument("--json", action="store_true")

    p = add_command(subparsers, "caption-restore", run_caption_restore,
                    "make an old caption version current again")
    p.add_argument("version", type=int, help="the version id from caption-history")

    p = add_command(subparsers, "replace", run_replace, "find and replace across captions")
    p.add_argument("find")
    p.add_argument("replacement")
    p.add_argument("--regex", action="store_true", help="FIND is a regular expression")
    p.add_argument("--case-sensitive", action="store_true")
    p.add_argument("--scope", choices=("clips", "images", "all"), default="all")
    p.add_argument("--dry-run", action="store_true", help="show the changes, save nothing")
    p.add_argument("--json", action="store_true")

    p = add_command(subparsers, "trim", run_trim,
                    "set a clip's in and out frames within its source")
    p.add_argument("clip", type=int)
    p.add_argument("start", type=int, help="first source frame kept")
    p.add_argument("end", type=int, help="first source frame after the clip (exclusive)")

    p = add_command(subparsers, "split", run_split,
                    "split a clip at a source frame, or clips at the shot boundaries in them",
                    usage="curator split CLIP FRAME | curator split --at-transitions [CLIP ...]")
    p.add_argument("numbers", type=int, nargs="*", metavar="CLIP FRAME",
                   help="a clip and the first source frame of its second part; with "
                        "--at-transitions, the clips to split (none: every clip)")
    p.add_argument("--at-transitions", action="store_true",
                   help="split at every cut, dissolve, fade or wipe found inside, leaving the "
                        "transition frames out; decisions and captions are kept on each part")
    p.add_argument("--json", action="store_true")

    p = add_command(subparsers, "merge", run_merge, "merge two adjacent clips of one source")
    p.add_argument("a", type=int, metavar="A")
    p.add_argument("b", type=int, metavar="B")

    p = add_command(subparsers, "crop", run_crop,
                    "set an image's or a clip's crop, e.g. a 768x768 square")
    p.add_argument("image", type=int, nargs="?")
    p.add_argument("box", nargs="*", type=int, metavar="X Y W H",
                   help="the crop in pixels; nothing clears an image's crop")
    p.add_argument("--clip", type=int, metavar="ID", help="crop this clip, not an image")
    clip_mode = p.add_mutually_exclusive_group()
    clip_mode.add_argument("--none", action="store_true",
                           help="with --clip: no crop at all (keep the bars)")
    clip_mode.add_argument("--auto", action="store_true",
                           help="with --clip: the measured letterbox crop (clears a set crop)")
    p.add_argument("--json", action="store_true")


def _caption_owner(p: argparse.ArgumentParser) -> None:
    """`--clip ID` or `--image ID`: whose caption (exactly one)."""
    owner = p.add_mutually_exclusive_group(required=True)
    owner.add_argument("--clip", type=int, metavar="ID")
    owner.add_argument("--image", type=int, metavar="ID")


def run_caption_set(args: argparse.Namespace, ctx) -> int:
    catalog = ctx.catalog
    text = " ".join(args.text.split())
    if not args.no_trigger:
        text = with_trigger(text, catalog.settings().trigger)
    row = catalog.save_caption(text, clip_id=args.clip, image_id=args.image, origin="manual")
    if args.json:
        ctx.emit_json({"version": row.id, "text": row.text})
    else:
        ctx.say(f"saved version {row.id}: {row.text}")
    return 0


def run_caption_history(args: argparse.Namespace, ctx) -> int:
    ctx.emit_rows(ctx.catalog.caption_history(clip_id=args.clip, image_id=args.image), args.json,
                  lambda h: {"version": h.id, "text": h.text, "origin": h.origin,
                             "manual": h.is_manual, "prompt_hash": h.prompt_hash,
                             "created_at": h.created_at.isoformat()},
                  lambda h: f"{h.id:6d}  {h.created_at:%Y-%m-%d %H:%M}  {h.origin[:24]:24s}  "
                            f"{h.text}")
    return 0


def run_caption_restore(args: argparse.Namespace, ctx) -> int:
    row = ctx.catalog.restore_caption(args.version)
    ctx.say(f"restored as version {row.id}: {row.text}")
    return 0


def run_replace(args: argparse.Namespace, ctx) -> int:
    changes = find_replacements(ctx.catalog, args.find, args.replacement, regex=args.regex,
                                case_sensitive=args.case_sensitive, scope=args.scope)
    saved = 0
    failed = []
    if not args.dry_run and changes:
        report = apply_replacements(ctx.catalog, changes, progress=ctx.progress)
        saved, failed = report.done, report.failed
    if args.json:
        ctx.emit_json({"changes": [{"kind": c.kind, "id": c.item_id, "label": c.label,
                                    "before": c.before, "after": c.after, "matches": c.matches,
                                    "trigger_kept": c.trigger_kept}
                                   for c in changes],
                       "saved": saved, "failed": [f.to_json() for f in failed]})
    else:
        for c in changes:
            ctx.stdout.write(f"{c.label}\n  - {c.before}\n  + {c.after}\n")
        ctx.say(f"{len(changes)} caption(s) {'would change' if args.dry_run else 'changed'}"
                + (f", {len(failed)} left alone (edited meanwhile)" if failed else ""))
    kept = sum(1 for c in changes if c.trigger_kept)
    if kept:
        ctx.say(f"the trigger phrase stays first in {kept} caption(s) the replacement took it "
                f"from (change the trigger itself in the project settings)")
    return 1 if failed else 0


def run_trim(args: argparse.Namespace, ctx) -> int:
    clip = ctx.catalog.trim_clip(args.clip, args.start, args.end)
    ensure_clip_thumbnails(ctx.project.thumbs_dir, clip)
    ctx.say(f"clip {clip.id}: [{clip.start_frame}, {clip.end_frame}) {clip.frames} frames")
    return 0


def run_split(args: argparse.Namespace, ctx) -> int:
    if args.at_transitions:
        return _split_at_transitions(args, ctx)
    if len(args.numbers) != 2:
        ctx.say("error: give a clip and a frame (or --at-transitions [CLIP ...])")
        return 2
    clip, frame = args.numbers
    first, second = ctx.catalog.split_clip(clip, frame)
    for clip_id in (first, second):
        ensure_clip_thumbnails(ctx.project.thumbs_dir, ctx.catalog.get_clip(clip_id))
    ctx.say(f"clip {first} keeps the start; clip {second} starts at frame {frame}")
    return 0


def run_merge(args: argparse.Namespace, ctx) -> int:
    """The earlier clip is extended over the later one; the later clip's caption versions are kept
    on it as older versions.
    """
    record = merge_clips(ctx.catalog, args.a, args.b)
    clip = ctx.catalog.get_clip(record.kept_id)
    ensure_clip_thumbnails(ctx.project.thumbs_dir, clip)
    moved = len(record.moved_caption_ids)
    ctx.say(f"clip {clip.id}: [{clip.start_frame}, {clip.end_frame}) {clip.frames} frames; "
            f"clip {record.removed_id} merged into it"
            + (f" ({moved} caption version(s) kept as older versions)" if moved else ""))
    return 0


def _split_at_transitions(args: argparse.Namespace, ctx) -> int:
    from curator.core.shot_split import split_at_transitions

    report = split_at_transitions(ctx.catalog, args.numbers or None,
                                  thumbs_dir=ctx.project.thumbs_dir)
    if args.json:
        ctx.emit_json(report.to_json())
    else:
        for s in report.split:
            parts = ", ".join(f"{i} [{a}, {b})" for i, (a, b) in zip(s.parts, s.ranges, strict=True))
            ctx.stdout.write(f"clip {s.clip_id} [{s.old_range[0]}, {s.old_range[1]}) -> {parts}\n")
        for f in report.failed:
            ctx.stdout.write(f"failed: {f.reason}\n")
        ctx.say(f"{len(report.split)} clip(s) split, {report.unchanged} hold one shot"
                + (f", {len(report.failed)} failed" if report.failed else ""))
    return 1 if report.failed else 0


def run_crop(args: argparse.Namespace, ctx) -> int:
    """`crop IMAGE X Y W H` crops an image (no box clears it). `crop --clip ID X Y W H` sets the
    crop a clip is exported with, in source pixels; `--none` exports it whole even where black bars
    were measured; `--auto` goes back to the measured letterbox crop (the default).
    """
    if args.clip is not None:
        return _run_clip_crop(args, ctx)
    if args.none or args.auto:
        ctx.say("error: --none and --auto are for a clip (--clip ID)")
        return 2
    if args.image is None:
        ctx.say("error: give an image id, or --clip ID")
        return 2
    if args.box and len(args.box) != 4:
        ctx.say("error: a crop is four numbers: X Y W H")
        return 2
    ctx.catalog.set_image_crop(args.image, tuple(args.box) if args.box else None)
    return 0


def _run_clip_crop(args: argparse.Namespace, ctx) -> int:
    box = ([args.image] if args.image is not None else []) + list(args.box)
    if (args.none or args.auto) == bool(box) or (box and len(box) != 4):
        ctx.say("error: give a clip's crop as X Y W H, or --none, or --auto")
        return 2
    crop = () if args.none else None if args.auto else tuple(box)
    clip = ctx.catalog.set_clip_crop(args.clip, crop)
    shown = clip_crop(clip)
    if args.json:
        ctx.emit_json({"id": clip.id, "crop": clip.to_json()["crop"],
                       "export_crop": list(shown.crop) if shown.crop else None,
                       "origin": shown.origin})
    else:
        what = "whole frame" if shown.crop is None else "x {} y {} w {} h {}".format(*shown.crop)
        ctx.say(f"clip {clip.id} is exported: {what}"
                + (f" ({shown.origin})" if shown.origin else ""))
    return 0
