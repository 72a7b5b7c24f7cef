"""The `CaptionBackend` protocol, its requests and errors, and the registry of backends by name.

A backend turns pixels and a prompt into raw model text; everything around it (which items,
sampling frames, clean-up, saving, retries with fewer frames) lives in `jobs.caption_items`, so
a new backend is one small class.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Protocol, runtime_checkable

import numpy as np


class CaptionBackendError(Exception):
    """A backend failure, said in words a person understands.

    Attributes:
        fatal: True when every following item would fail the same way (a refused API key, a
            model that does not load, a server that is gone), so a batch stops instead of
            failing each item in turn.
    """

    def __init__(self, message: str, *, fatal: bool = False) -> None:
        super().__init__(message)
        self.fatal = fatal


class ModelLoadError(CaptionBackendError):
    """A model folder or hub id that does not load; the message names it and says why."""

    def __init__(self, message: str) -> None:
        super().__init__(message, fatal=True)


class InputTooLargeError(CaptionBackendError):
    """Out of (GPU) memory or over the model's context for this input: fewer frames may fit."""


@dataclass(frozen=True)
class CaptionRequest:
    """One thing to caption: an image, or a clip's frames at their real spacing in time; or,
    with neither, a text-only request (prompt expansion) through the same model and settings.

    Attributes:
        prompt: the full prompt text, trigger already filled in.
        image: an RGB image (H×W×3 uint8 array or PIL image), for stills.
        frames: RGB frames (each H×W×3 uint8, all one size), for clips.
        fps: frames per second of `frames` as sampled (their spacing in time, not the source's).
        attempt: 0 for the first try; retries of an empty or looping answer count up, and a
            backend samples more freely on them.
        name: what a person calls the item, for messages.
    """

    prompt: str
    image: Any = None
    frames: Sequence[np.ndarray] | None = None
    fps: float | None = None
    attempt: int = 0
    name: str = ""

    @property
    def kind(self) -> str:
        if self.frames is not None:
            return "video"
        return "image" if self.image is not None else "text"

    def __post_init__(self) -> None:
        if self.image is not None and self.frames is not None:
            raise ValueError("a CaptionRequest takes an image or frames, not both")
        if self.frames is not None and len(self.frames) == 0:
            raise ValueError("a CaptionRequest for a clip needs at least one frame")


@dataclass(frozen=True)
class RetryNotice:
    """A request that failed in a way worth another try, said while the backend waits.

    Attributes:
        reason: what went wrong, for a person ('Server not answering', 'Server error 500').
        retry: which retry comes next, from 1.
        retries: how many retries there are in all.
        wait: seconds before it.
        item: what was being captioned (a clip's file and range), or ''.
    """

    reason: str
    retry: int
    retries: int
    wait: float
    item: str = ""

    @property
    def text(self) -> str:
        """'Server not answering, retry 2 of 4 in 4 s…' (the status line, the log, the CLI)."""
        wait = f"{self.wait:.0f}" if self.wait >= 1 else f"{self.wait:.1f}"
        return f"{self.reason}, retry {self.retry} of {self.retries} in {wait} s…"


@runtime_checkable
class ReportsRetries(Protocol):
    """A backend that retries failed requests itself (a server's 5xx, a refused connection)
    and tells `retry_listener` before each wait, so a run's progress can say so."""

    retry_listener: Callable[[RetryNotice], None] | None


@runtime_checkable
class CaptionBackend(Protocol):
    """What `caption_items` needs from a model.

    Attributes:
        model_id: the origin recorded with each caption, e.g. 'transformers:Qwen2-VL-7B-Instruct'.
        settings: plain JSON values that, with the prompt, decide the output (recorded too).
        batch_size: how many requests `caption_many` takes at once to good effect.
    """

    model_id: str
    settings: dict[str, Any]
    batch_size: int

    def caption_image(self, image: Any, prompt: str) -> str:
        """Raw model text for one image."""
        ...

    def caption_video(self, frames: Sequence[np.ndarray], fps: float, prompt: str) -> str:
        """Raw model text for a clip's frames, spaced `1/fps` seconds apart."""
        ...

    def caption_many(self, requests: Sequence[CaptionRequest]) -> list[str | Exception]:
        """Raw text (or the error) for each request, in order; one failure never hides others."""
        ...

    def close(self) -> None:
        """Let go of what this backend holds (connections; a model if asked not to keep it)."""
        ...


def caption_one_by_one(backend: Any, requests: Sequence[CaptionRequest]) -> list[str | Exception]:
    """`caption_many` for a backend that only has the single-item calls.

    Args:
        backend: anything with `caption_image` and `caption_video`.
        requests: what to caption.

    Returns:
        The raw text or the exception of each request, in order.
    """
    out: list[str | Exception] = []
    for request in requests:
        try:
            if request.frames is not None:
                out.append(backend.caption_video(list(request.frames), request.fps or 1.0,
                                                 request.prompt))
            else:
                out.append(backend.caption_image(request.image, request.prompt))
        except Exception as exc:  # noqa: BLE001 - handed back per item, as the protocol says
            out.append(exc)
    return out


def caption_many(backend: Any, requests: Sequence[CaptionRequest]) -> list[str | Exception]:
    """Call the backend's batched entry point when it has one, else one request at a time."""
    batched = getattr(backend, "caption_many", None)
    if batched is not None:
        return list(batched(requests))
    return caption_one_by_one(backend, requests)


def _make_transformers(**settings: Any) -> CaptionBackend:
    from curator.core.captioning.transformers_backend import TransformersBackend

    return TransformersBackend(**settings)


def _make_openai(**settings: Any) -> CaptionBackend:
    from curator.core.captioning.openai_backend import OpenAIBackend

    return OpenAIBackend(**settings)


# Factories import their module on first use: the openai backend must work on a machine
# without torch, and importing transformers costs seconds.
BACKENDS: dict[str, Callable[..., CaptionBackend]] = {
    "transformers": _make_transformers,
    "openai": _make_openai,
}


def make_backend(name: str, **settings: Any) -> CaptionBackend:
    """Create a caption backend by its registry name.

    Args:
        name: 'transformers' or 'openai' (a key of `BACKENDS`).
        **settings: the backend's own keyword arguments (model, device, url, ...); None values
            are dropped so a caller can pass unset options straight through.

    Returns:
        A ready backend (a transformers model is loaded, or taken from the cache).

    Raises:
        CaptionBackendError: unknown name, or settings the backend rejects.
        ModelLoadError: the model does not load; the message names it and says why.
    """
    factory = BACKENDS.get(name)
    if factory is None:
        raise CaptionBackendError(
            f"unknown caption backend {name!r}; use one of {', '.join(sorted(BACKENDS))}",
            fatal=True)
    clean = {k: v for k, v in settings.items() if v is not None}
    try:
        return factory(**clean)
    except TypeError as exc:  # a misspelt option from a settings file or the GUI
        raise CaptionBackendError(f"{name} backend: {exc}", fatal=True) from exc
