"""Merging two adjacent clips of one source, and taking a merge apart again (undo).

A merge keeps the earlier clip (its id, decision and current caption) and extends it over
the later one; the later clip's row goes. Nothing in the catalog is lost:

- the later clip's caption versions move to the merged clip as *older* versions (its history
  lists them under the merged clip's own, each marked ``merged_from_clip``); if only the later
  clip had a caption, that caption becomes the merged clip's current one;
- a version that is only the copy a split made of the earlier clip's caption
  (``copied_from_clip`` = the earlier clip, same text) is dropped as a duplicate but kept in
  the `MergeRecord`, so `unmerge` puts it back;
- the later clip's decision, reason, tags and crop are kept in the `MergeRecord`.

`unmerge` is the inverse (the window's undo of a merge, and its redo of a split): it splits
the merged clip at the old boundary, gives the later part its old id when free, and restores
its decision, caption versions, tags and crop. It is a compare-and-set: if another writer
changed the merged clip's range since, nothing is done and `MergeConflict` says why.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import func, select

from curator.core.catalog import Catalog, CatalogError
from curator.core.catalog.models import Caption, Clip, Source


class MergeConflict(CatalogError):
    """The clips changed since the edit being undone; the catalog is left as it is."""


@dataclass
class MergeRecord:
    """Everything `unmerge` needs to put the later clip back exactly."""

    kept_id: int
    removed_id: int
    boundary: int  # the first source frame of the later clip
    end_frame: int  # the later clip's end (the merged clip's end)
    start_frame: int  # the earlier clip's start
    removed_state: dict[str, Any] = field(default_factory=dict)  # decision, caption, tags…
    moved_caption_ids: list[int] = field(default_factory=list)
    dropped_copies: list[dict[str, Any]] = field(default_factory=list)
    restamp_id: int | None = None  # a copy of the kept caption made newest again
    took_caption: bool = False  # the merged clip took the later clip's caption


_STATE = ("decision", "reason", "decided_by", "decided_at", "caption", "caption_origin",
          "caption_is_manual", "tags", "crop", "parent_id", "created_at")


def _now() -> datetime:
    return datetime.now(UTC)


def _fill(clip: Clip, source: Source) -> None:
    clip.frames = clip.end_frame - clip.start_frame
    clip.fps = source.fps_num / source.fps_den
    clip.duration = clip.frames * source.fps_den / source.fps_num
    clip.width, clip.height = source.width, source.height


def _drop_analysis(clip: Clip) -> None:
    # The range changed: motion and cut scores describe frames the clip no longer is.
    clip.analysis = clip.motion = clip.motion_p95 = clip.cuts = clip.analyzed_at = None
    clip.text_share = None


def merge_clips(catalog: Catalog, a: int, b: int) -> MergeRecord:
    """Merge two adjacent clips of one source into the earlier one (see the module docstring).

    Raises:
        CatalogError: a clip is missing, they are of different sources, or not adjacent.
    """
    with catalog.session() as s:
        first, second = s.get(Clip, a, with_for_update=True), s.get(Clip, b, with_for_update=True)
        for clip_id, clip in ((a, first), (b, second)):
            if clip is None:
                raise CatalogError(f"no clip with id {clip_id}")
        assert first is not None and second is not None
        if first.source_id != second.source_id:
            raise CatalogError(f"clips {a} and {b} are of different sources: not merged")
        if second.start_frame < first.start_frame:
            first, second = second, first
        if first.end_frame != second.start_frame:
            raise CatalogError(
                f"clips {first.id} [{first.start_frame}, {first.end_frame}) and {second.id} "
                f"[{second.start_frame}, {second.end_frame}) are not adjacent: not merged")
        record = MergeRecord(kept_id=first.id, removed_id=second.id, boundary=second.start_frame,
                             end_frame=second.end_frame, start_frame=first.start_frame,
                             removed_state={k: getattr(second, k) for k in _STATE})
        first_texts = set(s.scalars(select(Caption.text).where(Caption.clip_id == first.id)))
        kept_newest = s.scalar(select(func.max(Caption.id)).where(Caption.clip_id == first.id))
        for version in s.scalars(select(Caption).where(Caption.clip_id == second.id)
                                 .order_by(Caption.id)):
            settings = dict(version.settings or {})
            if settings.get("copied_from_clip") == first.id and version.text in first_texts:
                record.dropped_copies.append(_version_state(version))
                s.delete(version)
                continue
            record.moved_caption_ids.append(version.id)
            settings["merged_from_clip"] = second.id
            version.settings, version.clip_id = settings, first.id
        if not first.caption and second.caption:
            record.took_caption = True
            first.caption, first.caption_origin = second.caption, second.caption_origin
            first.caption_is_manual = second.caption_is_manual
        elif first.caption and kept_newest is not None and any(
                i > kept_newest for i in record.moved_caption_ids):
            # Versions are ordered by id: re-add the kept caption so it stays the newest.
            old = s.get(Caption, kept_newest)
            assert old is not None
            copy = Caption(clip_id=first.id, text=old.text, origin=old.origin,
                           is_manual=old.is_manual, prompt_hash=old.prompt_hash,
                           settings={**(old.settings or {}), "kept_on_merge_of": second.id},
                           created_at=_now())
            s.add(copy)
            s.flush()
            record.restamp_id = copy.id
        s.flush()
        s.delete(second)
        s.flush()
        first.end_frame = record.end_frame
        _fill(first, s.get(Source, first.source_id))
        _drop_analysis(first)
        return record


def _version_state(version: Caption) -> dict[str, Any]:
    return {"text": version.text, "origin": version.origin, "is_manual": version.is_manual,
            "prompt_hash": version.prompt_hash, "settings": version.settings,
            "created_at": version.created_at}


def unmerge(catalog: Catalog, record: MergeRecord) -> int:
    """Take a merge apart again; returns the later clip's id (its old one when free).

    Raises:
        MergeConflict: the merged clip is gone or its range changed since the merge.
    """
    with catalog.session() as s:
        kept = s.get(Clip, record.kept_id, with_for_update=True)
        if kept is None or (kept.start_frame, kept.end_frame) != (record.start_frame,
                                                                   record.end_frame):
            raise MergeConflict(f"clip {record.kept_id} changed since (trimmed, split or "
                                "removed elsewhere): kept as it is now")
        source = s.get(Source, kept.source_id)
        state = dict(record.removed_state)
        reuse = s.get(Clip, record.removed_id) is None
        child = Clip(source_id=kept.source_id, start_frame=record.boundary,
                     end_frame=record.end_frame, **state)
        if reuse:
            child.id = record.removed_id
        _fill(child, source)
        s.add(child)
        s.flush()
        kept.end_frame = record.boundary
        _fill(kept, source)
        _drop_analysis(kept)
        if record.restamp_id is not None:
            restamp = s.get(Caption, record.restamp_id)
            if restamp is not None:
                s.delete(restamp)
        for version in s.scalars(select(Caption).where(Caption.id.in_(record.moved_caption_ids))):
            settings = dict(version.settings or {})
            settings.pop("merged_from_clip", None)
            version.settings, version.clip_id = settings or None, child.id
        for copy in record.dropped_copies:
            s.add(Caption(clip_id=child.id, **copy))
        if record.took_caption:
            kept.caption = kept.caption_origin = None
            kept.caption_is_manual = False
        return child.id


def split_record(catalog: Catalog, kept_id: int, child_id: int) -> MergeRecord:
    """Merge a split's two parts back (the window's undo of a split).

    Raises:
        MergeConflict: either part changed its range since the split, or is gone.
    """
    try:
        kept, child = catalog.get_clip(kept_id), catalog.get_clip(child_id)
    except CatalogError as exc:
        raise MergeConflict(f"a part of the split is gone: {exc}") from exc
    if kept.end_frame != child.start_frame or kept.source_id != child.source_id:
        raise MergeConflict(f"clips {kept_id} and {child_id} changed since the split: "
                            "kept as they are now")
    return merge_clips(catalog, kept_id, child_id)
