"""Frozen rows that cross threads; ORM instances never leave a session."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from fractions import Fraction
from pathlib import Path
from typing import Any

DECISIONS = ("pending", "accepted", "rejected")


@dataclass(frozen=True)
class SourceRow:
    id: int
    path: Path
    size: int
    content_hash: str
    container: str
    codec: str
    fps: Fraction
    frame_count: int
    header_frame_count: int | None
    width: int
    height: int
    duration: float
    status: str
    warnings: tuple[str, ...]


@dataclass(frozen=True)
class ClipRow:
    id: int
    source_id: int
    source_path: Path
    source_hash: str
    start_frame: int
    end_frame: int  # exclusive
    fps: Fraction
    width: int
    height: int
    decision: str
    reason: str | None
    decided_by: str | None
    caption: str | None
    caption_origin: str | None
    caption_is_manual: bool
    motion: float | None
    cuts: int | None
    analysis: dict[str, Any] | None
    parent_id: int | None
    tags: tuple[str, ...]
    motion_p95: float | None = None

    @property
    def frames(self) -> int:
        return self.end_frame - self.start_frame

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
            "source_id": self.source_id,
            "start_frame": self.start_frame,
            "end_frame": self.end_frame,
            "frames": self.frames,
            "fps": float(self.fps),
            "fps_fraction": f"{self.fps.numerator}/{self.fps.denominator}",
            "width": self.width,
            "height": self.height,
            "status": self.decision,
            "reason": self.reason,
            "decided_by": self.decided_by,
            "caption": self.caption,
            "caption_origin": self.caption_origin,
            "motion": self.motion,
            "motion_p95": self.motion_p95,
            "cuts": self.cuts,
            "analysis": self.analysis,
            "parent_id": self.parent_id,
            "tags": list(self.tags),
        }


@dataclass(frozen=True)
class ImageRow:
    id: int
    path: Path
    content_hash: str
    width: int
    height: int
    decision: str
    reason: str | None
    decided_by: str | None
    caption: str | None
    caption_origin: str | None
    caption_is_manual: bool
    crop: tuple[int, int, int, int] | None
    tags: tuple[str, ...]

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "path": str(self.path),
            "width": self.width,
            "height": self.height,
            "status": self.decision,
            "reason": self.reason,
            "caption": self.caption,
            "caption_origin": self.caption_origin,
            "crop": list(self.crop) if self.crop else None,
            "tags": list(self.tags),
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
