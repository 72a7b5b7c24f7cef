"""The crop a clip is exported with: a person's, else the measured bars, plus a corner watermark.

A letterboxed clip exported with its bars teaches the model black bands; a corner watermark
teaches it a logo. Export therefore cuts the frame to
1. the crop a person set (`curator crop`, the window), where there is one: it wins outright
   (an empty one means "keep the whole frame");
2. else the letterbox/pillarbox crop analysis measured (`analysis.borders.crop`);
3. and, where text analysis found a watermark confined to one corner, the strip of rows or
   columns holding it, when that loses at most `MAX_WATERMARK_LOSS` of the picture and leaves
   the aspect ratio within `MAX_ASPECT_CHANGE` (so the clip stays in its bucket). A watermark
   that cannot be cut away is reported (a warning naming the clip), not silently kept.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

MAX_WATERMARK_LOSS = 0.12   # share of the picture a watermark cut may remove
MAX_ASPECT_CHANGE = 0.10    # relative change of width/height the cut may cause
WATERMARK_MARGIN = 0.01     # extra strip past the watermark box, share of the side


@dataclass(frozen=True)
class ClipCrop:
    """What export cuts a clip to; `crop` None = the whole frame."""

    crop: tuple[int, int, int, int] | None
    origin: str | None  # "person", "bars", "bars+watermark", "watermark" or None
    warning: str | None = None

    @property
    def size(self) -> tuple[int, int] | None:
        return (self.crop[2], self.crop[3]) if self.crop else None


def _even(v: float) -> int:
    return int(v) - int(v) % 2


def _even_up(v: float) -> int:
    n = math.ceil(v)
    return n + n % 2


def _watermark_cut(box: list[int], rect: tuple[int, int, int, int]
                   ) -> tuple[int, int, int, int] | None:
    """The rectangle `rect` less the strip (rows or columns) holding `box`, if cheap enough."""
    x, y, w, h = rect
    bx, by, bw, bh = box
    options = []
    mx, my = WATERMARK_MARGIN * w, WATERMARK_MARGIN * h
    if by + bh / 2 < y + h / 2:   # top: drop the rows down to the box's bottom
        top = _even_up(by + bh + my)
        options.append((x, top, w, _even(y + h - top)))
    else:                          # bottom: keep the rows above the box
        options.append((x, y, w, _even(by - my - y)))
    if bx + bw / 2 < x + w / 2:   # left: drop the columns up to the box's right edge
        left = _even_up(bx + bw + mx)
        options.append((left, y, _even(x + w - left), h))
    else:                          # right: keep the columns left of the box
        options.append((x, y, _even(bx - mx - x), h))
    area = w * h
    ratio = w / h
    good = [o for o in options if o[2] > 0 and o[3] > 0
            and 1 - o[2] * o[3] / area <= MAX_WATERMARK_LOSS
            and abs(o[2] / o[3] / ratio - 1) <= MAX_ASPECT_CHANGE]
    return max(good, key=lambda o: o[2] * o[3]) if good else None


def clip_crop(clip: Any) -> ClipCrop:
    """The crop export applies to `clip` (a `ClipRow` or alike), and why.

    Args:
        clip: has `width`, `height`, `analysis`, `crop` (None, () or (x, y, w, h)) and
            `export_crop`; objects without them export whole.
    """
    width, height = int(clip.width), int(clip.height)
    person = getattr(clip, "crop", None)
    if person is not None:
        return ClipCrop(tuple(person) if len(person) == 4 else None,  # type: ignore[arg-type]
                        "person" if len(person) == 4 else None)
    bars = getattr(clip, "export_crop", None)
    rect = tuple(bars) if bars else (0, 0, width, height)
    origin = "bars" if bars else None
    text = ((getattr(clip, "analysis", None) or {}).get("text") or {})
    if text.get("kind") == "watermark" and set(text.get("kinds") or ["watermark"]) \
            == {"watermark"} and text.get("boxes"):
        cut: tuple[int, int, int, int] | None = rect  # type: ignore[assignment]
        for box in text["boxes"]:
            cut = _watermark_cut(box, cut) if cut is not None else None
        if cut is None:
            return ClipCrop(tuple(bars) if bars else None, origin,  # type: ignore[arg-type]
                            warning=f"clip {clip.id}: a watermark that cannot be cropped away "
                                    f"(it would cost more than {MAX_WATERMARK_LOSS:.0%} of the "
                                    f"picture or change its shape)")
        return ClipCrop(cut, "bars+watermark" if bars else "watermark")
    return ClipCrop(tuple(bars) if bars else None, origin)  # type: ignore[arg-type]


def export_size(clip: Any) -> tuple[int, int]:
    """The picture size export writes a clip from: its crop's, else its frame's."""
    crop = clip_crop(clip).crop
    return (crop[2], crop[3]) if crop else (int(clip.width), int(clip.height))
