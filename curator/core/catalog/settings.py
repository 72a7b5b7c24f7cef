"""Project settings: one typed, versioned object stored in the catalog."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any

SETTINGS_SCHEMA_VERSION = 1


@dataclass(frozen=True)
class ProjectSettings:
    """What a project remembers: trigger phrase, training fps, where exports go, prompts.

    Unknown keys in a stored object are ignored and missing ones take their defaults, so an
    older or newer Curator can open the same catalog.
    """

    trigger: str = ""
    target_fps: float = 16.0
    export_root: str = ""
    image_prompt: str | None = None  # None: the default prompt from curator/resources/prompts
    video_prompt: str | None = None
    caption: dict[str, Any] = field(default_factory=dict)  # backend, model, url, sampling…
    min_scene_frames: int = 8

    def to_json(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    @classmethod
    def from_json(cls, data: dict[str, Any] | None) -> ProjectSettings:
        names = {f.name for f in dataclasses.fields(cls)}
        return cls(**{k: v for k, v in (data or {}).items() if k in names})
