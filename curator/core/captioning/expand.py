"""Prompt expansion: a short idea becomes one sample prompt, trigger phrase first.

The model is asked with a meta-prompt (`curator/resources/prompts/expand.txt`, or the project's
own `<project>/prompts/expand.txt`): the trigger phrase first, the style's look, motion and
camera, one paragraph of 80-100 words, no quotes. The request goes through the captioning
backends (a text-only `CaptionRequest`), with the same settings, and the answer through the same
clean-up as a caption (`clean_caption`: trigger once at the start, chatter and line breaks
gone; an empty or looping answer is asked again, sampling more freely).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from curator.core.captioning.backend import (
    CaptionBackend,
    CaptionBackendError,
    CaptionRequest,
    caption_many,
    make_backend,
)
from curator.core.captioning.cleanup import CleanCaption, clean_caption
from curator.core.captioning.prompts import PromptError, read_prompt_file, render_prompt
from curator.core.jobs import (
    NEVER_CANCELLED,
    CancelToken,
    Progress,
    ProgressFn,
    ignore_progress,
)
from curator.core.jsonable import fields_json
from curator.resources import resource_path

IDEA_FIELD = "{idea}"
# A project's own meta-prompt, beside its catalog; it replaces the shipped one.
PROJECT_TEMPLATE = Path("prompts") / "expand.txt"

# Double quotes of every kind (apostrophes stay: "the fox's tail"); a sample-prompt line is also
# split by the trainer at " --", so a dash run becomes one dash.
_QUOTES = re.compile("[\"“”„«»]")
_DASHES = re.compile(r"\s*-{2,}\s*")


class ExpandError(Exception):
    """An idea that cannot be expanded, said in words a person understands."""


@dataclass(frozen=True)
class ExpandedPrompt:
    """One expanded prompt and how it was made.

    Attributes:
        prompt: the clean prompt, trigger phrase first, one line.
        idea: what the person typed.
        words: the prompt's word count (the meta-prompt asks for 80-100).
        attempts: model calls made (more than 1 when an answer was empty or looped).
        model_id: the backend's model id.
        template: the meta-prompt file used.
    """

    prompt: str
    idea: str
    words: int
    attempts: int
    model_id: str
    template: str

    def to_json(self) -> dict[str, Any]:
        return {**fields_json(self, "prompt", "idea", "words", "attempts"), "model": self.model_id,
                "template": self.template}


def expand_template_path(project_root: Path | None = None) -> Path:
    """The meta-prompt file: the project's `prompts/expand.txt` when it has one, else shipped."""
    if project_root is not None:
        own = Path(project_root) / PROJECT_TEMPLATE
        if own.is_file():
            return own
    return resource_path("prompts", "expand.txt")


def read_expand_template(project_root: Path | None = None) -> tuple[str, Path]:
    """The meta-prompt text and its file.

    Raises:
        ExpandError: the file cannot be read or is empty (the message names it).
    """
    path = expand_template_path(project_root)
    try:
        return read_prompt_file(path), path
    except PromptError as exc:
        raise ExpandError(str(exc)) from exc


def render_expand_prompt(template: str, idea: str, trigger: str) -> str:
    """What the model is asked: `{trigger}` and `{idea}` filled in (plain replacement).

    A template without `{idea}` gets the idea after it, so an edited file cannot lose it.
    """
    text = render_prompt(template, trigger)
    if IDEA_FIELD not in text:
        return f"{text}\n\nIdea: {idea.strip()}"
    return text.replace(IDEA_FIELD, idea.strip())


def clean_expansion(raw: str, trigger: str) -> CleanCaption:
    """A model's answer as a sample prompt: `clean_caption`, then no double quotes and no
    ` --` (the trainer would read the rest of the line as an option)."""
    cleaned = clean_caption(raw, trigger)
    text = _DASHES.sub(" - ", _QUOTES.sub("", cleaned.text))
    text = re.sub(r"(?<!\.)\.\.(?!\.)", ".", re.sub(r"\s+", " ", text)).strip()
    return CleanCaption(text, cleaned.problem)


def expand_prompt(backend: CaptionBackend, idea: str, *, trigger: str, template: str,
                  template_path: str = "", retries: int = 2,
                  cancel: CancelToken = NEVER_CANCELLED) -> ExpandedPrompt:
    """Expand one idea with a ready backend.

    Args:
        backend: a caption backend (`make_backend`).
        idea: the short idea, e.g. "a fox runs through snow".
        trigger: the project's trigger phrase; the prompt starts with it.
        template: the meta-prompt (`read_expand_template`).
        template_path: where the template came from, for the record.
        retries: further tries after an empty or looping answer.
        cancel: checked before each try.

    Returns:
        The expanded prompt.

    Raises:
        ExpandError: no idea, no trigger phrase, cancelled, the backend failed, or every answer
            was empty or looped.
    """
    if not idea.strip():
        raise ExpandError("the idea is empty: say in a few words what the sample should show")
    if not trigger.strip():
        raise ExpandError("the project has no trigger phrase: set one with `curator settings "
                          "--trigger ...` (or the Caption tab), or pass --trigger")
    asked = render_expand_prompt(template, idea, trigger)
    problem = "no answer"
    for attempt in range(max(0, retries) + 1):
        if cancel.cancelled:
            raise ExpandError("cancelled")
        result = caption_many(backend, [CaptionRequest(prompt=asked, attempt=attempt,
                                                       name="idea")])[0]
        if isinstance(result, CaptionBackendError):
            raise ExpandError(str(result)) from result
        if isinstance(result, Exception):
            raise ExpandError(f"the model failed: {result}") from result
        cleaned = clean_expansion(result, trigger)
        if cleaned.ok:
            return ExpandedPrompt(prompt=cleaned.text, idea=idea.strip(),
                                  words=len(cleaned.text.split()), attempts=attempt + 1,
                                  model_id=backend.model_id, template=template_path)
        problem = cleaned.problem or problem
    raise ExpandError(f"the model's answer was unusable ({problem}) in "
                      f"{max(0, retries) + 1} tries; try again or another model")


def run_expand(*, backend: str, backend_settings: dict[str, Any], idea: str, trigger: str,
               project_root: Path | None = None, retries: int = 2,
               progress: ProgressFn = ignore_progress,
               cancel: CancelToken = NEVER_CANCELLED) -> ExpandedPrompt:
    """`expand_prompt` from plain values (CLI, GUI worker): the model is loaded here.

    Args:
        backend: a `BACKENDS` name ('transformers' or 'openai').
        backend_settings: its keyword arguments (`options.backend_settings`).
        idea, trigger, retries, cancel: as `expand_prompt`.
        project_root: where a project's own meta-prompt is looked for.
        progress: told when the model loads and when it answers.

    Raises:
        ExpandError: as `expand_prompt`, or the model does not load / the settings are wrong.
    """
    template, path = read_expand_template(project_root)
    if not backend_settings.get("model"):
        raise ExpandError("no model: pass --model (a folder under models/ or a hub id for "
                          "transformers; the served model name for openai), or set one in "
                          "the Caption tab")
    progress(Progress(done=0, total=1, message=f"loading {backend} model"))
    try:
        model = make_backend(backend, **backend_settings)
    except CaptionBackendError as exc:
        raise ExpandError(str(exc)) from exc
    try:
        progress(Progress(done=0, total=1, message="expanding"))
        expanded = expand_prompt(model, idea, trigger=trigger, template=template,
                                 template_path=str(path), retries=retries, cancel=cancel)
    finally:
        model.close()
    progress(Progress(done=1, total=1, message="expanded"))
    return expanded


@dataclass(frozen=True)
class ExpandReport:
    """How an expansion run as a job ended: the prompt, or the sentence that says why not."""

    expanded: ExpandedPrompt | None = None
    error: str | None = None
    cancelled: bool = False

    @property
    def ok(self) -> bool:
        return self.expanded is not None


def expand_job(*, progress: ProgressFn = ignore_progress,
               cancel: CancelToken = NEVER_CANCELLED, **values: Any) -> ExpandReport:
    """`run_expand` as a job for a GUI worker: its errors come back in the report, not raised.

    Args:
        **values: `run_expand`'s keyword arguments, as plain values.
    """
    try:
        return ExpandReport(expanded=run_expand(progress=progress, cancel=cancel, **values))
    except ExpandError as exc:
        return ExpandReport(error=str(exc), cancelled=cancel.cancelled)
