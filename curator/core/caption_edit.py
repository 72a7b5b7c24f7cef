"""Find and replace across captions: a preview of every change, then new manual versions.

The GUI's find-and-replace dialog and any script use the same two steps: `find_replacements`
lists what would change (before and after, per clip or image) without writing anything, and
`apply_replacements` saves each change as a new manual caption version, so every edit can be
seen and undone in the caption history. A caption edited between the preview and the apply
is left alone and reported, never overwritten with text computed from its old version.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

import regex as _regex
from sqlalchemy import func

from curator.core import jobs
from curator.core.captioned import Captioned, iter_captioned
from curator.core.catalog import Catalog, CatalogError
from curator.core.trigger import normalize_trigger, starts_with_trigger, with_trigger

SCOPES = ("clips", "images", "all")

#: Seconds one search or replacement may take on one caption. A caption is a paragraph: a sane
#: expression takes microseconds, while nested repeats such as `(a|aa)+$` backtrack for hours
#: (and Python's `re` holds Ctrl+C until it returns), so the `regex` engine is given a deadline.
MATCH_TIMEOUT = 2.0


class CaptionEditError(ValueError):
    """A search that cannot run (a bad regular expression or replacement), said in words."""


@dataclass(frozen=True)
class CaptionChange:
    """One caption as it is and as it would be after the replacement.

    Attributes:
        kind: "clip" or "image".
        item_id: the clip's or image's id.
        label: how people know the item (`film.mkv [120, 165)` or the image's file name).
        before: the current caption.
        after: the caption with every match replaced.
        matches: how many matches were replaced.
        trigger_kept: the replacement removed the trigger phrase from the start, and it was
            put back (the trigger is changed in the project settings, not by a replace).
    """

    kind: str
    item_id: int
    label: str
    before: str
    after: str
    matches: int
    trigger_kept: bool = False


@dataclass
class ReplaceReport(jobs.Report):
    """What `apply_replacements` did: `done` captions saved, `skipped` unchanged ones."""

    skipped: int = 0
    saved_ids: list[tuple[str, int]] = field(default_factory=list)


def compile_search(find: str, *, regex: bool = False,
                   case_sensitive: bool = False) -> _regex.Pattern:
    """The pattern for a search: the text as typed, or a regular expression.

    Args:
        find: what to look for; must not be empty.
        regex: treat `find` as a Python regular expression.
        case_sensitive: match upper and lower case exactly.

    Returns:
        A compiled pattern.

    Raises:
        CaptionEditError: empty search, or a regular expression that does not compile.
    """
    if not find:
        raise CaptionEditError("type something to search for")
    flags = 0 if case_sensitive else _regex.IGNORECASE
    try:
        return _regex.compile(find if regex else _regex.escape(find), flags)
    except _regex.error as exc:
        raise CaptionEditError(f"not a valid regular expression: {exc}") from exc


def replace_in(text: str, pattern: _regex.Pattern, replacement: str, *,
               regex: bool = False) -> tuple[str, int]:
    """Replace every match of `pattern` in `text`.

    Args:
        text: a caption.
        pattern: from `compile_search`.
        replacement: the new text; with `regex`, `\\1` and `\\g<name>` insert groups.
        regex: whether `replacement` is a regex template (else it is inserted as typed).

    Returns:
        (new text, number of replacements).

    Raises:
        CaptionEditError: the replacement names a group the expression does not have, or the
            expression takes over MATCH_TIMEOUT seconds on the caption.
    """
    try:
        if regex:
            return pattern.subn(replacement, text, timeout=MATCH_TIMEOUT)
        # A literal replacement: backslashes typed by the person are text, not group refs.
        return pattern.subn(lambda _m: replacement, text, timeout=MATCH_TIMEOUT)
    except TimeoutError:
        raise CaptionEditError(
            f"the regular expression took over {MATCH_TIMEOUT:g} s on one caption ({text[:40]!r}"
            f"…): nested repeats such as (a|aa)+ backtrack without end; simplify it") from None
    except (_regex.error, IndexError) as exc:
        raise CaptionEditError(f"the replacement cannot be used: {exc}") from exc


def tidy_spaces(text: str) -> str:
    """Collapse the double spaces a deletion leaves and trim the ends."""
    return re.sub(r"[ \t]{2,}", " ", text).strip()


def _rows(catalog: Catalog, kind: str, prefilter: str | None,
          ids: Sequence[int] | None) -> Iterator[Captioned]:
    """Captioned clips or images (of `ids`, when given) that may contain `prefilter`."""
    wanted = set(ids) if ids is not None else None

    def where(model: Any) -> list[Any]:
        if prefilter is None:
            return []
        # LIKE is case-blind for ASCII in SQLite: a superset of the exact matches, cheap.
        return [func.lower(model.caption).contains(prefilter.lower(), autoescape=True)]

    return (row for row in iter_captioned(catalog, kind, where)
            if wanted is None or row.id in wanted)


def find_replacements(catalog: Catalog, find: str, replace: str, *, regex: bool = False,
                      case_sensitive: bool = False, scope: str = "clips",
                      clip_ids: Sequence[int] | None = None,
                      image_ids: Sequence[int] | None = None, tidy: bool = True,
                      limit: int | None = None, trigger: str | None = None,
                      cancel: jobs.CancelToken = jobs.NEVER_CANCELLED) -> list[CaptionChange]:
    """Every caption that the replacement would change, with its text before and after.

    Nothing is written. Captions that match but come out the same are left out.

    Args:
        catalog: the project's catalog.
        find: the text (or regular expression) to look for.
        replace: what to put instead ("" deletes the matches).
        regex: `find` is a regular expression and `replace` a template (`\\1`).
        case_sensitive: match case exactly.
        scope: "clips", "images" or "all".
        clip_ids, image_ids: only these items (e.g. the selection); None for all.
        tidy: collapse double spaces and trim the ends of changed captions.
        limit: stop after this many changes (a preview); None for all.
        trigger: the phrase each caption starts with; None for the project's. A replacement
            never takes it away: a caption that started with it still does
            (`CaptionChange.trigger_kept`).
        cancel: checked between pages.

    Returns:
        The changes, clips first, each in id order.

    Raises:
        CaptionEditError: a bad search or replacement, or an unknown scope.
    """
    if scope not in SCOPES:
        raise CaptionEditError(f"scope must be one of {', '.join(SCOPES)}, not {scope!r}")
    pattern = compile_search(find, regex=regex, case_sensitive=case_sensitive)
    # A plain search can be narrowed in SQL; a regex has to see every caption.
    # (SQLite's LIKE folds ASCII case only, so a non-ASCII search sees every caption too.)
    prefilter = None if regex or not find.isascii() else find
    kinds = {"clips": ("clip",), "images": ("image",), "all": ("clip", "image")}[scope]
    trigger = normalize_trigger(catalog.settings().trigger if trigger is None else trigger)
    changes: list[CaptionChange] = []
    for kind in kinds:
        ids = clip_ids if kind == "clip" else image_ids
        for row in _rows(catalog, kind, prefilter, ids):
            item_id, caption, label = row.id, row.caption, row.label
            if cancel.cancelled:
                return changes
            after, count = replace_in(caption, pattern, replace, regex=regex)
            kept = bool(count) and starts_with_trigger(caption, trigger) \
                and not starts_with_trigger(after, trigger)
            if kept:  # the replacement may change the rest, never take the trigger away
                rest, count = replace_in(caption.lstrip()[len(trigger):], pattern, replace,
                                         regex=regex)
                after = with_trigger(rest, trigger) if rest.strip() else trigger
            if count and tidy:
                after = tidy_spaces(after)
            if count and after != caption:
                changes.append(CaptionChange(kind, item_id, label, caption, after, count, kept))
                if limit is not None and len(changes) >= limit:
                    return changes
    return changes


def apply_replacements(catalog: Catalog, changes: Sequence[CaptionChange], *,
                       progress: jobs.ProgressFn = jobs.ignore_progress,
                       cancel: jobs.CancelToken = jobs.NEVER_CANCELLED,
                       on_saved: Callable[[str, int], None] | None = None) -> ReplaceReport:
    """Save each change as a new manual caption version (one small commit per caption).

    A caption that no longer reads as `before` (edited since the preview) is not touched
    and is reported as a failure with the reason.

    Args:
        catalog: the project's catalog.
        changes: from `find_replacements`.
        progress: called after each caption.
        cancel: checked between captions; what was saved stays saved.
        on_saved: called with (kind, id) after each save.

    Returns:
        A report: `done` saved, `skipped` already as wanted, `failed` with reasons.
    """
    report = ReplaceReport()
    total = len(changes)
    for done, change in enumerate(changes, start=1):
        if cancel.cancelled:
            report.cancelled = True
            break
        try:
            if change.kind == "clip":
                current = catalog.get_clip(change.item_id).caption
            else:
                current = catalog.get_image(change.item_id).caption
            if current == change.after:
                report.skipped += 1
            elif current != change.before:
                report.failed.append(jobs.ItemFailure(
                    change.label, "its caption was edited after the preview; left as it is"))
            else:
                key = "clip_id" if change.kind == "clip" else "image_id"
                catalog.save_caption(change.after, origin="manual", **{key: change.item_id})
                report.done += 1
                report.saved_ids.append((change.kind, change.item_id))
                if on_saved is not None:
                    on_saved(change.kind, change.item_id)
        except CatalogError as exc:
            report.failed.append(jobs.ItemFailure(change.label, str(exc)))
        progress(jobs.Progress(done=done, total=total, item=change.label))
    return report
