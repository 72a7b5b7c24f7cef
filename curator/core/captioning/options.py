"""Which backend, with which settings: values given for one run over the project's stored ones.

The project's `caption` settings (`ProjectSettings.caption`, written by `curator caption` and the
Caption tab) use the command-line option names; a backend takes its own keywords. One mapping,
used by `curator caption`, `curator prompts expand` and the prompt-expansion dialog alike.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

# option name (as stored and on the command line) -> backend keyword
TRANSFORMERS_OPTIONS = {"device": "device", "dtype": "dtype", "quantize": "quantization",
                        "attention": "attn_implementation",
                        "trust_remote_code": "trust_remote_code",
                        "max_new_tokens": "max_new_tokens", "batch_size": "batch_size",
                        "seed": "seed", "threads": "cpu_threads"}
OPENAI_OPTIONS = {"url": "url", "api_key_env": "api_key_env", "concurrency": "concurrency",
                  "timeout": "timeout", "max_new_tokens": "max_tokens",
                  "batch_size": "batch_size", "video_mode": "video_mode"}


def backend_settings(given: Mapping[str, Any], stored: Mapping[str, Any]
                     ) -> tuple[str, dict[str, Any]]:
    """The backend name and its keyword settings.

    Args:
        given: values for this run by option name (`backend`, `model`, `url`, ...); None or
            absent means "not given".
        stored: the project's `caption` settings, the defaults.

    Returns:
        (backend name, keyword settings for `make_backend`).
    """
    name = given.get("backend") or stored.get("backend") or "transformers"
    options = TRANSFORMERS_OPTIONS if name == "transformers" else OPENAI_OPTIONS
    settings: dict[str, Any] = {"model": given.get("model") or stored.get("model")}
    for option, keyword in options.items():
        value = given.get(option)
        if value is None and option != "trust_remote_code":
            # running a model's own code is decided per run, never inherited from settings
            value = stored.get(option, stored.get(keyword))
        if value is not None:
            settings[keyword] = value
    return name, settings
