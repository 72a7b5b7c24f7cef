"""Rules that pre-decide pending clips from their analysis; a person's decision always stands.

Default thresholds were measured on ../shared/media and on generated pans (README,
"Analysis"): the motion unit is pixels per 1/16 s at 256 px wide (see `frame_analyzer`).
- static: mean motion below 0.5. birds.mp4 (a near-still picture) measures 0.32 and a
  frozen frame 0.01; vtest.avi (locked-off camera, people walking) 0.78 and hug_movie.mp4
  (a still toy with a spinning propeller) 1.08 stay in.
- dynamic: 95th percentile of motion above 12 (three quarters of the picture width per
  second), or brightness jumps in more than 10 % of frame pairs. A pan across the picture in
  about a second measures 21, motion.mov (a pen swung over a table) 24, tree.avi (a hand
  sweeping past the lens) 29; Megamind.avi's shots reach 5.9 and a slow pan 1.5. A strobe
  (light flipping every two frames) jumps in 49 % of frame pairs; the other footage in none.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from curator.core.analysis.phash import DEFAULT_MAX_DISTANCE, group_duplicates, hex_to_hash
from curator.core.catalog import Catalog, ClipRow, DecisionChange
from curator.core.media.resample import resample_indices

DEFAULT_STATIC_BELOW = 0.5
DEFAULT_DYNAMIC_ABOVE = 12.0
DEFAULT_FLICKER_ABOVE = 0.10
# Share of a clip's sampled frames (one every 0.9 s) holding overlay text: any. bench/text.py
# found no text-free clip with a share above 0 (0 of 120, four seeds) and subtitles shown ~1 s
# of a 4 s clip at 0.2, so any confirmed overlay rejects.
DEFAULT_TEXT_ABOVE = 0.0

TOO_STATIC = "too static"
TOO_DYNAMIC = "too dynamic"
HOLDS_A_CUT = "holds a cut"


def too_short_reason(min_frames: int, target_fps: float) -> str:
    return f"too short for {min_frames} frames at {target_fps:g} fps"


def duplicate_reason(keeper_id: int) -> str:
    return f"duplicate of clip {keeper_id}"


def text_reason(clip: ClipRow, text_above: float | None) -> str | None:
    """'holds text (subtitles|credits|watermark)' when the clip's text share is above the limit."""
    if text_above is None or clip.text_share is None or clip.text_share <= text_above:
        return None
    kind = ((clip.analysis or {}).get("text") or {}).get("kind") or "text"
    return f"holds text ({kind})"


@dataclass(frozen=True)
class RuleSettings:
    """Thresholds of `auto_decide`; None (or False) switches a rule off."""

    static_below: float | None = DEFAULT_STATIC_BELOW
    dynamic_above: float | None = DEFAULT_DYNAMIC_ABOVE
    flicker_above: float | None = DEFAULT_FLICKER_ABOVE
    reject_cuts: bool = True
    min_frames: int | None = None
    target_fps: float = 16.0
    reject_duplicates: bool = True
    max_hash_distance: int = DEFAULT_MAX_DISTANCE
    text_above: float | None = DEFAULT_TEXT_ABOVE


def clip_reason(clip: ClipRow, rules: RuleSettings) -> str | None:
    """The first rule a clip breaks, in the order cut, short, dynamic, static, text; else None.

    Rules that need an analysis are skipped for clips that have none.
    """
    a = clip.analysis or {}
    if rules.reject_cuts and clip.analysis is not None and (clip.cuts or 0) > 0:
        return HOLDS_A_CUT
    if rules.min_frames:
        n = len(resample_indices(clip.frames, clip.fps, rules.target_fps))
        if n < rules.min_frames:
            return too_short_reason(rules.min_frames, rules.target_fps)
    p95 = a.get("motion_p95")
    flicker = (a.get("flicker") or {}).get("share")
    if rules.dynamic_above is not None and p95 is not None and p95 > rules.dynamic_above:
        return TOO_DYNAMIC
    if rules.flicker_above is not None and flicker is not None and flicker > rules.flicker_above:
        return TOO_DYNAMIC
    if rules.static_below is not None and clip.motion is not None \
            and clip.motion < rules.static_below:
        return TOO_STATIC
    return text_reason(clip, rules.text_above)


def auto_decide(catalog: Catalog, *, static_below: float | None = DEFAULT_STATIC_BELOW,
                dynamic_above: float | None = DEFAULT_DYNAMIC_ABOVE,
                flicker_above: float | None = DEFAULT_FLICKER_ABOVE, reject_cuts: bool = True,
                min_frames: int | None = None, target_fps: float | None = None,
                reject_duplicates: bool = True,
                max_hash_distance: int = DEFAULT_MAX_DISTANCE,
                dry_run: bool = False,
                text_above: float | None = DEFAULT_TEXT_ABOVE) -> list[tuple[int, str]]:
    """Reject pending clips that break a rule, with the reason, decided by 'rule'.

    Only pending clips are looked at, and the catalog is told to keep any decision a person
    made meanwhile, so a person's accept or reject is never overridden.

    Args:
        catalog: the project's catalog.
        static_below: reject when the mean motion is below this (None: off).
        dynamic_above: reject when the 95th percentile of motion is above this (None: off).
        flicker_above: reject as too dynamic when more than this share of frame pairs jump in
            brightness (None: off).
        reject_cuts: reject clips holding a hard cut, dissolve or fade.
        min_frames: reject clips giving fewer frames than this at `target_fps` (None: off).
        target_fps: the training frame rate; None for the project's setting.
        reject_duplicates: among clips showing the same picture, keep one (one a person
            accepted, else the longest, else the first) and reject the pending others.
        max_hash_distance: bits two frame hashes may differ by and count as the same picture.
        dry_run: say what would be rejected, change nothing.
        text_above: reject when more than this share of sampled frames hold overlay text
            (subtitles, credits, a watermark) (None: off).

    Returns:
        (clip id, reason) for every clip rejected (or that would be, with `dry_run`).
    """
    fps = float(target_fps) if target_fps is not None else float(catalog.settings().target_fps)
    rules = RuleSettings(static_below, dynamic_above, flicker_above, reject_cuts, min_frames,
                         fps, reject_duplicates, max_hash_distance, text_above)
    clips = catalog.list_clips()
    decided: dict[int, str] = {}
    for clip in clips:
        if clip.decision != "pending":
            continue
        reason = clip_reason(clip, rules)
        if reason:
            decided[clip.id] = reason
    if rules.reject_duplicates:
        for clip_id, keeper in duplicate_rejections(clips, decided, rules.max_hash_distance):
            decided.setdefault(clip_id, duplicate_reason(keeper))
    result = sorted(decided.items())
    if not dry_run:
        applied = {change.id for change in apply_rejections(catalog, result)}
        result = [(cid, r) for cid, r in result if cid in applied]
    return result


def apply_rejections(catalog: Catalog, rejections: Sequence[tuple[int, str]]
                     ) -> list[DecisionChange]:
    """Reject these clips by rule, each with its reason; returns what each had before (for undo).

    A clip a person decided meanwhile keeps that decision (`keep_person_decisions`) and is not
    among the changes.
    """
    by_reason: dict[str, list[int]] = {}
    for clip_id, reason in rejections:
        by_reason.setdefault(reason, []).append(clip_id)
    changes: list[DecisionChange] = []
    for reason, ids in by_reason.items():
        changes += catalog.set_decision(ids, "rejected", reason, by="rule",
                                        keep_person_decisions=True)
    return changes


def duplicate_rejections(clips: Sequence[ClipRow], rejected: dict[int, str],
                         max_distance: int = DEFAULT_MAX_DISTANCE) -> list[tuple[int, int]]:
    """Pending clips to reject as duplicates, each with the clip kept in its place.

    In each group of near-duplicates the kept clip is one a person (or a rule) accepted, else
    one not rejected, else the longest, else the lowest id; the other pending clips of the
    group are duplicates of it.

    Args:
        clips: every clip of the catalog (hashes come from their analysis).
        rejected: pending clips another rule rejects now (they are not kept if avoidable).
        max_distance: see `group_duplicates`.

    Returns:
        (duplicate clip id, kept clip id) pairs.
    """
    by_id = {c.id: c for c in clips}
    hashes = {c.id: [hex_to_hash(h) for h in (c.analysis or {}).get("hashes") or ()]
              for c in clips}
    out: list[tuple[int, int]] = []
    for group in group_duplicates(hashes, max_distance=max_distance):
        members = [by_id[i] for i in group]

        def rank(c: ClipRow) -> tuple[int, int, int, int]:
            out_now = c.decision == "rejected" or c.id in rejected
            return (0 if c.decision == "accepted" else 1, 1 if out_now else 0, -c.frames, c.id)

        keeper = min(members, key=rank)
        out += [(c.id, keeper.id) for c in members
                if c.id != keeper.id and c.decision == "pending"]
    return out
