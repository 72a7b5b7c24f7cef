"""The trigger phrase: one rule, used by the caption editor, `caption-set`, the model clean-up,
find/replace and the export check.

The rule: a caption starts with the project's trigger phrase, exactly as the project spells it.
A caption that starts with it in another case or spacing ("ohwx  Style a cat" for "OHWX style")
has it fixed in place, never doubled; any other caption gets it put first.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import func

from curator.core.captioned import iter_captioned
from curator.core.catalog import Catalog, ClipRow, ImageRow


def normalize_trigger(trigger: str | None) -> str:
    """The phrase as the rule uses it: spaces collapsed, ends trimmed ('' for none)."""
    return " ".join((trigger or "").split())


@functools.lru_cache(maxsize=16)
def _leading(trigger: str) -> re.Pattern[str]:
    """The trigger at the start of a text, in any case and spacing, as whole words.

    Cached: the stats and the export check apply it to thousands of captions in a row.
    """
    core = r"\s+".join(re.escape(word) for word in trigger.split(" "))
    right = r"(?!\w)" if re.search(r"\w$", trigger) else ""
    return re.compile(rf"^\s*{core}{right}", re.IGNORECASE)


def starts_with_trigger(text: str, trigger: str | None) -> bool:
    """Whether a caption begins with the trigger phrase exactly (always true without one)."""
    trigger = normalize_trigger(trigger)
    if not trigger:
        return True
    match = _leading(trigger).match(text or "")
    return match is not None and match.group(0).lstrip() == trigger


def with_trigger(text: str, trigger: str | None) -> str:
    """The caption with the trigger phrase first: a wrongly cased one is fixed, else it is added.

    `with_trigger("ohwx style a cat", "OHWX style")` is `"OHWX style a cat"`.
    """
    trigger = normalize_trigger(trigger)
    body = (text or "").strip()
    if not trigger:
        return body
    match = _leading(trigger).match(body)
    if match is not None:
        return trigger + body[match.end():]
    return f"{trigger} {body}".strip()


@dataclass(frozen=True)
class MissingTrigger:
    """A caption that does not start with the trigger phrase.

    Attributes:
        kind: "clip" or "image".
        item_id: its id.
        path: the source video or image file.
        label: how people know it (`film.mkv [120, 165)`, or the image's file name).
        caption: the caption as it is.
    """

    kind: str
    item_id: int
    path: Path
    label: str
    caption: str

    def describe(self) -> str:
        return f"{self.kind} {self.item_id} ({self.path}{self.label[len(self.path.name):]})"


def rows_missing_trigger(clips: Sequence[ClipRow], images: Sequence[ImageRow],
                         trigger: str | None) -> list[str]:
    """'clip 12 (/films/a.mkv [0, 50))' for each captioned row not starting with the trigger."""
    out = [f"clip {c.id} ({c.source_path} [{c.start_frame}, {c.end_frame}))" for c in clips
           if (c.caption or "").strip() and not starts_with_trigger(c.caption, trigger)]
    return out + [f"image {i.id} ({i.path})" for i in images
                  if (i.caption or "").strip() and not starts_with_trigger(i.caption, trigger)]


def missing_trigger(catalog: Catalog, trigger: str | None = None, *,
                    status: str | None = None) -> list[MissingTrigger]:
    """Captioned clips and images whose caption does not start with the trigger phrase.

    Args:
        catalog: the project's catalog.
        trigger: the phrase; None for the project's.
        status: only items with this decision ('accepted' for an export); None for all.
    """
    trigger = normalize_trigger(catalog.settings().trigger if trigger is None else trigger)
    if not trigger:
        return []
    out: list[MissingTrigger] = []

    def where(model: Any) -> list[Any]:
        # substr compares case-sensitively: a cheap superset of what breaks the rule
        wrong = [func.substr(model.caption, 1, len(trigger)) != trigger]
        return wrong if status is None else [*wrong, model.decision == status]

    for kind in ("clip", "image"):
        out += [MissingTrigger(kind, row.id, row.path, row.label, row.caption)
                for row in iter_captioned(catalog, kind, where)
                if row.caption.strip() and not starts_with_trigger(row.caption, trigger)]
    return out


def add_trigger(catalog: Catalog, items: Sequence[MissingTrigger], trigger: str | None = None,
                *, on_saved: Callable[[str, int], None] | None = None) -> int:
    """Put the trigger phrase first in each caption (a new manual version each).

    A caption edited since it was listed is fixed as it is now; one that meanwhile starts
    with the trigger is left alone.

    Returns:
        How many captions were saved.
    """
    trigger = normalize_trigger(catalog.settings().trigger if trigger is None else trigger)
    saved = 0
    for item in items:
        row = catalog.get_clip(item.item_id) if item.kind == "clip" \
            else catalog.get_image(item.item_id)
        if not row.caption or starts_with_trigger(row.caption, trigger):
            continue
        key = "clip_id" if item.kind == "clip" else "image_id"
        catalog.save_caption(with_trigger(row.caption, trigger), origin="manual",
                             **{key: item.item_id})
        saved += 1
        if on_saved is not None:
            on_saved(item.kind, item.item_id)
    return saved
