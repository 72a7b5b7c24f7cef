"""Which backend, with which settings: values given for one run over the project's stored ones.

The project's `caption` settings (`ProjectSettings.caption`, JSON written by the Caption tab) are
read and written as a typed `CaptionSettings`, under the command-line option names; a backend
takes its own keywords. One mapping, used by `curator caption`, `curator prompts expand`, the
Caption tab and the prompt-expansion dialog alike.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, fields, replace
from typing import Any

from curator.core.captioning.jobs import Sampling

# option name (as stored and on the command line) -> backend keyword
TRANSFORMERS_OPTIONS = {"device": "device", "dtype": "dtype", "quantize": "quantization",
                        "attention": "attn_implementation",
                        "trust_remote_code": "trust_remote_code",
                        "max_new_tokens": "max_new_tokens", "batch_size": "batch_size",
                        "seed": "seed", "threads": "cpu_threads"}
OPENAI_OPTIONS = {"url": "url", "api_key_env": "api_key_env", "concurrency": "concurrency",
                  "timeout": "timeout", "max_new_tokens": "max_tokens",
                  "batch_size": "batch_size", "video_mode": "video_mode"}




@dataclass(frozen=True)
class CaptionSettings:
    """The project's stored caption settings, typed. None = not set (the default applies).

    `panel` is the Caption tab's own state (its model per backend, batch, item filters), opaque
    to the core; `extra` keeps keys this version does not know, so an older or newer Curator's
    settings survive a save. `trust_remote_code` is never a setting: it is asked for per run.
    """

    backend: str | None = None
    model: str | None = None
    device: str | None = None
    dtype: str | None = None
    quantize: str | None = None
    attention: str | None = None
    threads: int | None = None
    url: str | None = None
    api_key_env: str | None = None
    concurrency: int | None = None
    timeout: float | None = None
    video_mode: str | None = None
    max_new_tokens: int | None = None
    batch_size: int | None = None
    seed: int | None = None
    fps: float | None = None
    max_frames: int | None = None
    max_pixels: int | None = None
    image_max_pixels: int | None = None
    panel: dict[str, Any] = field(default_factory=dict)
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def backend_name(self) -> str:
        return self.backend or "transformers"

    @classmethod
    def from_json(cls, data: Mapping[str, Any] | None) -> CaptionSettings:
        """Read the stored JSON; a key stored under a backend's keyword (`quantization`)
        counts for its option (`quantize`), unknown keys go to `extra`."""
        data = dict(data or {})
        known = {f.name for f in fields(cls)} - {"panel", "extra"}
        for options in (TRANSFORMERS_OPTIONS, OPENAI_OPTIONS):
            for option, keyword in options.items():
                if keyword != option and keyword in data and data.get(option) is None:
                    data[option] = data.pop(keyword)
        values = {k: data.pop(k) for k in list(data) if k in known}
        panel = data.pop("panel", None)
        return cls(**values, panel=dict(panel) if isinstance(panel, Mapping) else {},
                   extra=data)

    def to_json(self) -> dict[str, Any]:
        """The stored JSON: unknown keys as they were, then the set values and the tab's state."""
        data = dict(self.extra)
        for f in fields(self):
            value = getattr(self, f.name)
            if f.name not in ("panel", "extra") and value is not None:
                data[f.name] = value
        if self.panel:
            data["panel"] = dict(self.panel)
        return data

    def updated(self, **values: Any) -> CaptionSettings:
        """A copy with these fields set (a form's values over what else was stored)."""
        return replace(self, **values)

    def sampling(self, given: Mapping[str, Any] | None = None) -> Sampling:
        """Frames per clip and pixel budgets: values `given` for one run over the stored ones,
        over the defaults. Raises ValueError for impossible values."""
        given = given or {}
        defaults = Sampling()

        def pick(option: str, default: Any) -> Any:
            for value in (given.get(option), getattr(self, option)):
                if value is not None:
                    return value
            return default

        fps = pick("fps", defaults.fps)
        return Sampling(fps=fps if fps else None,
                        max_frames=int(pick("max_frames", defaults.max_frames)),
                        max_pixels=pick("max_pixels", defaults.max_pixels),
                        image_max_pixels=pick("image_max_pixels", defaults.image_max_pixels))


def backend_settings(given: Mapping[str, Any], stored: CaptionSettings | Mapping[str, Any]
                     ) -> tuple[str, dict[str, Any]]:
    """The backend name and its keyword settings.

    Args:
        given: values for this run by option name (`backend`, `model`, `url`, ...); None or
            absent means "not given".
        stored: the project's `caption` settings (or their JSON), the defaults.

    Returns:
        (backend name, keyword settings for `make_backend`).
    """
    if not isinstance(stored, CaptionSettings):
        stored = CaptionSettings.from_json(stored)
    name = given.get("backend") or stored.backend_name
    options = TRANSFORMERS_OPTIONS if name == "transformers" else OPENAI_OPTIONS
    settings: dict[str, Any] = {"model": given.get("model") or stored.model}
    for option, keyword in options.items():
        value = given.get(option)
        if value is None and option != "trust_remote_code":
            # running a model's own code is decided per run, never inherited from settings
            value = getattr(stored, option)
        if value is not None:
            settings[keyword] = value
    return name, settings
