"""Caption prompts: the shipped defaults, a project's own, the trigger filled in, and their hash."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from curator.resources import resource_path

PROMPT_KINDS = ("image", "video")
TRIGGER_FIELD = "{trigger}"


class PromptError(Exception):
    """A prompt file that cannot be read or a prompt that cannot be used."""


def default_prompt(kind: str) -> str:
    """The shipped default prompt template for 'image' or 'video' (`curator/resources/prompts/`).

    Raises:
        PromptError: unknown kind, or the resource file is missing (a broken install).
    """
    if kind not in PROMPT_KINDS:
        raise PromptError(f"unknown prompt kind {kind!r}; use one of {', '.join(PROMPT_KINDS)}")
    path = resource_path("prompts", f"{kind}.txt")
    try:
        return path.read_text(encoding="utf-8").strip()
    except OSError as exc:
        raise PromptError(f"default {kind} prompt not found at {path}: {exc.strerror}") from exc


def read_prompt_file(path: Path | str) -> str:
    """A prompt template from a text file (UTF-8), stripped.

    Raises:
        PromptError: the file cannot be read or is empty.
    """
    path = Path(path).expanduser()
    try:
        text = path.read_text(encoding="utf-8").strip()
    except OSError as exc:
        raise PromptError(f"cannot read prompt file {path}: {exc.strerror or exc}") from exc
    except UnicodeDecodeError as exc:
        raise PromptError(f"prompt file {path} is not UTF-8 text") from exc
    if not text:
        raise PromptError(f"prompt file {path} is empty")
    return text


def render_prompt(template: str, trigger: str) -> str:
    """The prompt a model sees: `{trigger}` replaced, every other brace left as written.

    The default prompts hold `{main action/description}` as literal template text for the
    model, so this is a plain replacement, never `str.format`.
    """
    return template.replace(TRIGGER_FIELD, trigger.strip())


def prompt_hash(prompt: str) -> str:
    """A short, stable id of a rendered prompt, recorded with each caption it produced."""
    return hashlib.sha256(prompt.encode("utf-8")).hexdigest()[:16]


@dataclass(frozen=True)
class Prompts:
    """The image and video prompt templates of one captioning run (trigger not filled in)."""

    image: str
    video: str

    def template(self, kind: str) -> str:
        return self.image if kind == "image" else self.video

    @classmethod
    def defaults(cls) -> Prompts:
        return cls(image=default_prompt("image"), video=default_prompt("video"))

    @classmethod
    def from_settings(cls, settings: Any) -> Prompts:
        """A project's prompts (its `image_prompt` and `video_prompt`), else the defaults."""
        image = getattr(settings, "image_prompt", None) or default_prompt("image")
        video = getattr(settings, "video_prompt", None) or default_prompt("video")
        return cls(image=image, video=video)
