"""Frozen rows that cross threads; ORM instances never leave a session."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from fractions import Fraction
from pathlib import Path
from typing import Any

from curator.core.jsonable import fields_json
from curator.core.media.resample import resampled_frame_count
from curator.core.media.source_info import SourceInfo

DECISIONS = ("pending", "accepted", "rejected")

__all__ = ["DECISIONS", "CaptionRow", "ClipRange", "ClipRow", "DecisionChange", "DecisionSwap",
           "ImageRow", "ItemRow", "JobRow", "SourceRow"]


@dataclass(frozen=True)
class SourceRow(SourceInfo):
    """A stored source: the facts its probe found, and what the catalog knows it by."""

    id: int
    size: int
    content_hash: str
    status: str  # ok | partial | missing


@dataclass(frozen=True, slots=True)
class ItemRow:
    """What every clip and image row has: an id, a size, a decision and the current caption."""

    id: int
    width: int
    height: int
    decision: str
    reason: str | None
    decided_by: str | None
    caption: str | None
    caption_is_manual: bool


@dataclass(frozen=True, slots=True)
class ClipRange(ItemRow):
    """A clip: the frame range [start_frame, end_frame) of one source, at the source's rate."""

    source_id: int
    source_hash: str
    start_frame: int
    end_frame: int  # exclusive
    fps: Fraction

    @property
    def frames(self) -> int:
        return self.end_frame - self.start_frame

    def frames_at(self, target_fps: float) -> int:
        """Frames the clip gives at `target_fps` (16 for Wan), as `resample_indices` counts."""
        return resampled_frame_count(self.frames, self.fps, target_fps)


@dataclass(frozen=True)
class ClipRow(ClipRange):
    """A clip with everything the catalog holds on it (`ClipListItem` is the light one)."""

    source_path: Path
    caption_origin: str | None
    motion: float | None
    cuts: int | None
    analysis: dict[str, Any] | None
    parent_id: int | None
    tags: tuple[str, ...]
    motion_p95: float | None = None
    text_share: float | None = None
    # The crop a person set, in source pixels: None = not set (export uses the measured
    # letterbox crop), () = "no crop" (keep the whole frame), (x, y, w, h) otherwise.
    crop: tuple[int, ...] | None = None

    @property
    def export_crop(self) -> tuple[int, int, int, int] | None:
        """The crop export applies: the one a person set, else the measured bars, else None."""
        if self.crop is not None:
            return tuple(self.crop) if len(self.crop) == 4 else None  # type: ignore[return-value]
        measured = ((self.analysis or {}).get("borders") or {}).get("crop")
        if measured and len(measured) == 4:
            x, y, w, h = (int(v) for v in measured)
            if (w, h) != (self.width, self.height) and w > 0 and h > 0:
                return x, y, w, h
        return None

    @property
    def duration(self) -> float:
        return float(self.frames / self.fps) if self.fps else 0.0

    @property
    def stem(self) -> str:
        """A readable, unique file stem for exports: `<source>_<start>-<end>`."""
        return f"{self.source_path.stem}_{self.start_frame}-{self.end_frame}"

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "source": str(self.source_path),
            **fields_json(self, "source_id", "start_frame", "end_frame", "frames"),
            "fps": float(self.fps),
            "fps_fraction": f"{self.fps.numerator}/{self.fps.denominator}",
            **fields_json(self, "width", "height"),
            "status": self.decision,
            **fields_json(self, "reason", "decided_by", "caption", "caption_origin", "motion",
                          "motion_p95", "text_share"),
            "crop": list(self.crop) if self.crop is not None else None,
            "export_crop": list(self.export_crop) if self.export_crop else None,
            **fields_json(self, "cuts", "analysis", "parent_id"),
            "tags": list(self.tags),
        }


@dataclass(frozen=True)
class ImageRow(ItemRow):
    path: Path
    content_hash: str
    caption_origin: str | None
    crop: tuple[int, int, int, int] | None
    tags: tuple[str, ...]
    text_share: float | None = None
    analysis: dict[str, Any] | None = None

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "path": str(self.path),
            **fields_json(self, "width", "height"),
            "status": self.decision,
            **fields_json(self, "reason", "caption", "caption_origin"),
            "crop": list(self.crop) if self.crop else None,
            "tags": list(self.tags),
            **fields_json(self, "text_share", "analysis"),
        }


@dataclass(frozen=True)
class CaptionRow:
    id: int
    clip_id: int | None
    image_id: int | None
    text: str
    origin: str
    is_manual: bool
    prompt_hash: str | None
    settings: dict[str, Any] | None
    created_at: datetime


@dataclass(frozen=True)
class JobRow:
    id: int
    kind: str
    params: dict[str, Any] | None
    status: str
    done: int
    total: int | None
    started_at: datetime
    ended_at: datetime | None
    return_code: int | None
    result: dict[str, Any] | None
    log: str | None


@dataclass(frozen=True)
class DecisionChange:
    """What a decision replaced, so the GUI can undo it."""

    kind: str  # clip | image
    id: int
    decision: str
    reason: str | None
    decided_by: str | None


@dataclass
class DecisionSwap:
    """What a compare-and-set of decisions did (`Catalog.swap_decisions`).

    Attributes:
        applied: the states given, item by item.
        conflicts: the items another writer changed meanwhile, with the state they hold now.
    """

    applied: list[DecisionChange] = field(default_factory=list)
    conflicts: list[DecisionChange] = field(default_factory=list)
