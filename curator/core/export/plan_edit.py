"""Editing a dataset plan the way the Export tab's section table does, Qt-free.

A cell's text becomes section keys (`cell_change`), those keys become a new plan through the
core's own `plan_from_dict` (`edit_section`, `plan_with_sections`), so the tab accepts exactly
what the CLI and the plan TOML accept, with the same messages.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from curator.core.export.counting import CountWarning
from curator.core.export.extraction import MODES
from curator.core.export.plan import DatasetPlan, Section, Selection, plan_from_dict

MODE_TIPS = {
    "head": "the first frames of each clip, one window per target",
    "chunk": "back-to-back windows of each target length",
    "slide": "a window every `Stride` frames",
    "uniform": "`Sample` windows per target, spread evenly over the clip",
    "full": "the whole clip (rounded to 4n+1) up to `Max frames`",
}
ALL_ACCEPTED = "all accepted"
#: The warning list's filter: (key, label); the codes each key shows are in `warning_group`.
WARNING_FILTERS = (("all", "All"), ("error", "Stops training or left out"),
                   ("length", "Too short, collapsing"), ("caption", "Captions"),
                   ("other", "Sizes, names, targets"))
_LENGTH_CODES = {"short", "collapse", "too_short", "one_window", "bucket_dropped",
                 "bucket_truncated", "empty_section"}
_CAPTION_CODES = {"no_caption", "no_trigger"}

_SIZE_RE = re.compile(r"^\s*(\d+)\s*(?:[x×X:*,]\s*(\d+))?\s*$")


def format_size(size: Sequence[int]) -> str:
    """`768×416`."""
    return f"{size[0]}×{size[1]}"


def parse_size(text: str) -> tuple[int, int]:
    """`768x416`, `768×416`, `768, 416` or `768` (square) as `(width, height)`.

    Raises:
        ValueError: not a size.
    """
    match = _SIZE_RE.match(text)
    if not match:
        raise ValueError(f"'{text}' is not a size like 768×416")
    width = int(match.group(1))
    height = int(match.group(2)) if match.group(2) else width
    if width <= 0 or height <= 0:
        raise ValueError("a resolution needs a width and a height above 0")
    return width, height


def parse_targets(text: str) -> list[int]:
    """`1, 21` or `[17 33]` as a list of whole numbers.

    Raises:
        ValueError: anything but whole numbers, or none.
    """
    parts = [p for p in re.split(r"[\s,;\[\]]+", text) if p]
    if not parts:
        raise ValueError("target frames need at least one number, e.g. 1, 21")
    try:
        return [int(p) for p in parts]
    except ValueError:
        raise ValueError(f"target frames must be whole numbers, not '{text}'") from None


def format_targets(targets: Sequence[int]) -> str:
    return ", ".join(str(t) for t in targets)


def selection_text(select: Selection) -> str:
    """How a section's clip selection reads in the table: `tag: a, b; source: film.mkv`."""
    parts = []
    if select.tags:
        parts.append("tag: " + ", ".join(select.tags))
    if select.sources:
        parts.append("source: " + ", ".join(select.sources))
    return "; ".join(parts) or ALL_ACCEPTED


def parse_selection(text: str) -> tuple[list[str], list[str]]:
    """`tag: a, b; source: *.mkv` as `(tags, sources)`; empty or `all accepted` is both empty.

    Raises:
        ValueError: a part that is neither `tag: …` nor `source: …`.
    """
    tags: list[str] = []
    sources: list[str] = []
    for part in (p.strip() for p in text.split(";")):
        if not part or part.casefold() in (ALL_ACCEPTED, "all", "accepted", "*"):
            continue
        key, sep, value = part.partition(":")
        key = key.strip().casefold()
        names = [v.strip() for v in value.split(",") if v.strip()] if sep else []
        if key in ("tag", "tags") and names:
            tags.extend(names)
        elif key in ("source", "sources") and names:
            sources.extend(names)
        else:
            raise ValueError(f"'{part}': write 'tag: NAME', 'source: FILE' (globs allowed) or "
                             f"'{ALL_ACCEPTED}'")
    return list(dict.fromkeys(tags)), list(dict.fromkeys(sources))


def section_entry(section: Section) -> dict[str, Any]:
    """A section as a plan TOML table with every key it has, even those its mode ignores.

    The plan file leaves out keys a mode does not read (`frame_stride` for head); the editor
    keeps them, so that switching a section to slide and back does not lose its stride.
    """
    entry: dict[str, Any] = {"name": section.name, "kind": section.kind,
                             "resolution": list(section.resolution),
                             "num_repeats": section.num_repeats, "batch_size": section.batch_size,
                             "tags": list(section.select.tags),
                             "sources": list(section.select.sources)}
    ext = section.extraction
    if ext is not None:
        entry.update(frame_extraction=ext.mode, target_frames=list(ext.target_frames),
                     frame_stride=ext.frame_stride, frame_sample=ext.frame_sample,
                     max_frames=ext.max_frames)
    return entry


def plan_with_sections(plan: DatasetPlan, entries: Sequence[dict[str, Any]]) -> DatasetPlan:
    """The plan with these section tables, validated by the core as a plan file would be.

    Raises:
        PlanError: the sections are not usable (the message names the key).
    """
    data = plan.to_toml_dict()
    data["sections"] = [dict(e) for e in entries]
    return plan_from_dict(data, default_name=plan.name)


def edit_section(plan: DatasetPlan, index: int, **changes: Any) -> DatasetPlan:
    """The plan with one section's keys changed (`target_frames=[1, 25]`, `kind="images"`…).

    Raises:
        PlanError: the result is not a usable plan.
    """
    entries = [section_entry(s) for s in plan.sections]
    entry = entries[index]
    entry.update(changes)
    if entry["kind"] == "images":
        for key in ("frame_extraction", "target_frames", "frame_stride", "frame_sample",
                    "max_frames"):
            entry.pop(key, None)
    elif "frame_extraction" not in entry:
        entry.update(frame_extraction="head", target_frames=[1])
    return plan_with_sections(plan, entries)


def unique_name(base: str, taken: Sequence[str]) -> str:
    """`base`, or `base_2`, `base_3`… when taken."""
    if base not in taken:
        return base
    n = 2
    while f"{base}_{n}" in taken:
        n += 1
    return f"{base}_{n}"


def warning_clip_id(warning: CountWarning) -> int | None:
    """The catalog id of the clip a warning names (its item key is `clip:<id>`), or None."""
    item = warning.item or ""
    if item.startswith("clip:"):
        try:
            return int(item[5:])
        except ValueError:
            return None
    return None


def warning_group(code: str) -> str:
    """Which filter of the warning list a warning code belongs to (besides 'all', 'error')."""
    if code in _LENGTH_CODES:
        return "length"
    if code in _CAPTION_CODES:
        return "caption"
    return "other"


def buckets_text(picks: Sequence[tuple[tuple[int, int], tuple[int, int]]],
                 counts: dict[tuple[int, int], int] | None = None) -> str:
    """`1920×1040 → 768×416 · 1280×720 → 784×448` (with clip counts when given)."""
    out = []
    for source, bucket in picks:
        many = f" ({counts[tuple(source)]})" if counts and tuple(source) in counts else ""
        out.append(f"{format_size(source)}{many} → {format_size(bucket)}")
    return "  ·  ".join(out)


@dataclass(frozen=True)
class Column:
    key: str
    title: str
    tip: str
    video_only: bool = False
    computed: bool = False


COLUMNS: tuple[Column, ...] = (
    Column("name", "Section", "Names the section's cache directory (letters, digits, . _ -)"),
    Column("kind", "Kind", "images or videos"),
    Column("resolution", "Resolution", "W×H: the pixel budget of musubi-tuner's buckets "
           "(each clip goes to the bucket nearest its aspect ratio)"),
    Column("mode", "Extraction", "frame_extraction: head, chunk, slide, uniform or full",
           video_only=True),
    Column("targets", "Target frames", "Window lengths; musubi-tuner rounds each down to 4n+1",
           video_only=True),
    Column("stride", "Stride", "frame_stride (slide only): frames between window starts",
           video_only=True),
    Column("sample", "Sample", "frame_sample (uniform only): windows per target",
           video_only=True),
    Column("max_frames", "Max frames", "max_frames (full only): the longest window",
           video_only=True),
    Column("repeats", "Repeats", "num_repeats: how often each file is listed per epoch"),
    Column("batch", "Batch", "batch_size of this section"),
    Column("select", "Clips from", "Which accepted clips (or images) feed it: all accepted, "
           "'tag: NAME' or 'source: FILE' (globs allowed); join both with ';'"),
    Column("files", "Files", "Distinct cache files the trainer makes (before repeats)",
           computed=True),
    Column("items", "Items", "Samples per epoch: files × repeats", computed=True),
    Column("batches", "Batches", "Batches per epoch, taken per bucket", computed=True),
)
COL = {c.key: i for i, c in enumerate(COLUMNS)}
INT_COLUMNS = {"stride": "frame_stride", "sample": "frame_sample", "max_frames": "max_frames",
               "repeats": "num_repeats", "batch": "batch_size"}


def applies(section: Section, key: str) -> bool:
    """Whether a column means anything for this section (others show a dash)."""
    column = COLUMNS[COL[key]]
    if column.video_only and not section.is_video:
        return False
    ext = section.extraction
    if ext is None:
        return not column.video_only
    return {"targets": ext.mode != "full", "stride": ext.mode == "slide",
            "sample": ext.mode == "uniform", "max_frames": ext.mode == "full"}.get(key, True)


def cell_text(section: Section, key: str) -> str:
    """What a section's cell shows (a dash where the column does not apply)."""
    if not applies(section, key):
        return "–"
    ext = section.extraction
    if key == "name":
        return section.name
    if key == "kind":
        return section.kind
    if key == "resolution":
        return format_size(section.resolution)
    if key == "mode":
        return ext.mode if ext else "–"
    if key == "targets":
        return format_targets(ext.target_frames) if ext else "–"
    if key == "stride":
        return str(ext.frame_stride) if ext else "–"
    if key == "sample":
        return str(ext.frame_sample) if ext else "–"
    if key == "max_frames":
        return str(ext.max_frames) if ext else "–"
    if key == "repeats":
        return str(section.num_repeats)
    if key == "batch":
        return str(section.batch_size)
    if key == "select":
        return selection_text(section.select)
    return ""


def cell_change(section: Section, key: str, text: str) -> dict[str, Any]:
    """The section keys a typed cell sets.

    Raises:
        ValueError: the text cannot be read (the message says what is expected).
    """
    text = text.strip()
    if key == "name":
        return {"name": text}
    if key == "kind":
        if text not in ("images", "videos"):
            raise ValueError("kind is 'images' or 'videos'")
        return {"kind": text}
    if key == "resolution":
        return {"resolution": list(parse_size(text))}
    if key == "mode":
        if text not in MODES:
            raise ValueError(f"extraction is one of {', '.join(MODES)}")
        return {"frame_extraction": text}
    if key == "targets":
        return {"target_frames": parse_targets(text)}
    if key in INT_COLUMNS:
        try:
            value = int(text)
        except ValueError:
            raise ValueError(f"{COLUMNS[COL[key]].title} must be a whole number") from None
        return {INT_COLUMNS[key]: value}
    if key == "select":
        tags, sources = parse_selection(text)
        return {"tags": tags, "sources": sources}
    raise ValueError(f"{key} cannot be edited")

