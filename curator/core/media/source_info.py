"""`SourceInfo`, the facts probing finds, in a module of its own: the catalog's rows build on it
and must not load PyAV (`curator stats` never decodes)."""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path


@dataclass(frozen=True)
class SourceInfo:
    """What probing a video found; `frame_count` is decoded and exact unless probed without decoding."""

    path: Path
    container: str
    codec: str
    fps: Fraction
    frame_count: int
    header_frame_count: int | None
    width: int
    height: int
    duration: float
    warnings: tuple[str, ...]
