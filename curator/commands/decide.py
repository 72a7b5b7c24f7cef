"""`curator decide` (a person's decision, for scripts) and `curator auto-decide` (the rules)."""

from __future__ import annotations

import argparse
from collections import Counter

from curator.commands import add_command
from curator.core.analysis import (
    DEFAULT_DYNAMIC_ABOVE,
    DEFAULT_FLICKER_ABOVE,
    DEFAULT_MAX_DISTANCE,
    DEFAULT_STATIC_BELOW,
    DEFAULT_TEXT_ABOVE,
    auto_decide,
)


def _threshold(text: str) -> float | None:
    """A number, or 'off' to switch the rule off."""
    if text.strip().lower() in ("off", "none"):
        return None
    try:
        return float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number (or 'off')") from None


def register(subparsers: argparse._SubParsersAction) -> None:
    p = add_command(subparsers, "decide", run_decide, "accept or reject clips (or images) by id")
    p.add_argument("ids", nargs="+", type=int, metavar="ID")
    p.add_argument("--images", action="store_true",
                   help="the ids are images (stills), not clips")
    choice = p.add_mutually_exclusive_group(required=True)
    choice.add_argument("--accept", dest="decision", action="store_const", const="accepted")
    choice.add_argument("--reject", dest="decision", action="store_const", const="rejected")
    choice.add_argument("--pending", dest="decision", action="store_const", const="pending",
                        help="undecide")
    p.add_argument("--reason", help="why (kept with a rejection)")
    p.add_argument("--json", action="store_true")

    p = add_command(subparsers, "auto-decide", run_auto_decide,
                    "reject pending clips that break the rules (never a person's choice)")
    p.add_argument("--static-below", type=_threshold, default=DEFAULT_STATIC_BELOW,
                   metavar="X", help=f"mean motion below X is too static "
                                     f"(default {DEFAULT_STATIC_BELOW:g})")
    p.add_argument("--dynamic-above", type=_threshold, default=DEFAULT_DYNAMIC_ABOVE,
                   metavar="Y", help=f"95th-percentile motion above Y is too dynamic "
                                     f"(default {DEFAULT_DYNAMIC_ABOVE:g})")
    p.add_argument("--flicker-above", type=_threshold, default=DEFAULT_FLICKER_ABOVE,
                   metavar="S", help=f"a share of frames jumping in brightness above S is too "
                                     f"dynamic (default {DEFAULT_FLICKER_ABOVE:g})")
    p.add_argument("--text-above", type=_threshold, default=DEFAULT_TEXT_ABOVE, metavar="T",
                   help=f"a share of sampled frames holding burned-in text (subtitles, credits, "
                        f"a watermark) above T rejects the clip (default {DEFAULT_TEXT_ABOVE:g})")
    p.add_argument("--reject-cuts", action=argparse.BooleanOptionalAction, default=True,
                   help="reject clips holding a hard cut, dissolve or fade (default: yes)")
    p.add_argument("--min-frames", type=int, metavar="N",
                   help="reject clips giving fewer than N frames at the training fps")
    p.add_argument("--target-fps", type=float,
                   help="training fps for --min-frames (default: the project's)")
    p.add_argument("--duplicates", action=argparse.BooleanOptionalAction, default=True,
                   help="keep one clip of each group of near-duplicates (default: yes)")
    p.add_argument("--hash-distance", type=int, default=DEFAULT_MAX_DISTANCE, metavar="BITS",
                   help=f"frames whose hashes differ by at most BITS of 64 are the same "
                        f"picture (default {DEFAULT_MAX_DISTANCE})")
    p.add_argument("--dry-run", action="store_true", help="show what would be rejected")
    p.add_argument("--json", action="store_true")


def run_decide(args: argparse.Namespace, ctx) -> int:
    ids = list(dict.fromkeys(args.ids))
    kind = "image" if args.images else "clip"
    listed = ctx.catalog.list_images(ids=ids) if args.images else ctx.catalog.list_clips(ids=ids)
    known = {item.id for item in listed}
    missing = [i for i in ids if i not in known]
    if missing:
        return ctx.fail(f"no {kind} with id {', '.join(map(str, missing))}; nothing was changed")
    changes = ctx.catalog.set_decision(ids, args.decision, args.reason, by="person", kind=kind)
    if args.json:
        ctx.emit_json({"decision": args.decision, "reason": args.reason, "kind": kind, "ids": ids,
                       "previous": [{"id": c.id, "decision": c.decision, "reason": c.reason,
                                     "decided_by": c.decided_by} for c in changes]})
    else:
        ctx.say(f"{len(changes)} {kind}s {args.decision}")
    return 0


def run_auto_decide(args: argparse.Namespace, ctx) -> int:
    """Reject pending clips that are too static, too dynamic, hold a cut, are too short or duplicate
    another. Motion is in pixels per 1/16 s at 256 px wide; give 'off' to switch a threshold off.
    Run `curator analyze` first.
    """
    catalog = ctx.catalog
    pending = catalog.list_clips(status="pending")
    not_analyzed = sum(1 for c in pending if c.analysis is None)
    decided = auto_decide(catalog, static_below=args.static_below,
                          dynamic_above=args.dynamic_above, flicker_above=args.flicker_above,
                          reject_cuts=args.reject_cuts, min_frames=args.min_frames,
                          target_fps=args.target_fps, reject_duplicates=args.duplicates,
                          max_hash_distance=args.hash_distance, dry_run=args.dry_run,
                          text_above=args.text_above)
    counts = Counter(_reason_kind(reason) for _, reason in decided)
    if args.json:
        ctx.emit_json({
            "dry_run": args.dry_run,
            "rejected": [{"id": cid, "reason": reason} for cid, reason in decided],
            "counts": dict(counts),
            "pending_before": len(pending),
            "not_analyzed": not_analyzed,
            "thresholds": {"static_below": args.static_below,
                           "dynamic_above": args.dynamic_above,
                           "flicker_above": args.flicker_above,
                           "text_above": args.text_above,
                           "reject_cuts": args.reject_cuts, "min_frames": args.min_frames,
                           "duplicates": args.duplicates, "hash_distance": args.hash_distance},
        })
    else:
        for cid, reason in decided:
            ctx.stdout.write(f"{cid:6d}  {reason}\n")
        verb = "would be rejected" if args.dry_run else "rejected"
        summary = ", ".join(f"{n} {kind}" for kind, n in counts.most_common()) or "none"
        ctx.say(f"{len(decided)} of {len(pending)} pending clips {verb}: {summary}")
    if not_analyzed:
        ctx.say(f"{not_analyzed} pending clips have no analysis yet (run `curator analyze`); "
                f"only the length rule applied to them")
    return 0


def _reason_kind(reason: str) -> str:
    for prefix in ("duplicate of clip", "too short for"):
        if reason.startswith(prefix):
            return prefix.replace(" of clip", "").replace(" for", "")
    return reason
