"""The project's caption settings, typed (`CaptionSettings`): read from and written to the
stored JSON that `curator caption`, `curator prompts expand` and the Caption tab share."""

from __future__ import annotations

import pytest

from curator.core.captioning import Sampling
from curator.core.captioning.options import CaptionSettings, backend_settings


def test_stored_json_round_trips_and_keeps_what_it_does_not_know():
    stored = {"backend": "openai", "model": "tiny-vl", "url": "http://gpu:8000/v1",
              "concurrency": 8, "fps": 1.5, "panel": {"items": "clips"},
              "future_option": {"x": 1}, "quantization": "4bit"}
    settings = CaptionSettings.from_json(stored)
    assert (settings.backend, settings.model, settings.concurrency) == ("openai", "tiny-vl", 8)
    assert settings.quantize == "4bit"  # stored under the backend's keyword, read as the option
    assert settings.panel == {"items": "clips"} and settings.extra == {"future_option": {"x": 1}}
    assert CaptionSettings.from_json(settings.to_json()) == settings
    saved = settings.updated(backend="transformers", url=None).to_json()
    assert saved["future_option"] == {"x": 1} and "url" not in saved
    assert saved["backend"] == "transformers" and saved["concurrency"] == 8
    assert CaptionSettings.from_json(None) == CaptionSettings()
    assert CaptionSettings().backend_name == "transformers"


def test_sampling_takes_the_run_over_the_stored_over_the_defaults():
    stored = CaptionSettings(fps=1.0, max_frames=24)
    assert stored.sampling() == Sampling(fps=1.0, max_frames=24)
    assert stored.sampling({"max_frames": 8, "fps": None}) == Sampling(fps=1.0, max_frames=8)
    assert CaptionSettings(fps=0.0).sampling().fps is None  # 0: always max_frames, evenly
    with pytest.raises(ValueError):
        CaptionSettings(max_frames=0).sampling()


def test_backend_keywords_from_typed_or_stored_settings_alike():
    stored = {"backend": "transformers", "model": "models/vl", "attention": "sdpa",
              "threads": 2, "trust_remote_code": True}
    typed = CaptionSettings.from_json(stored)
    given = {"model": None, "device": "cpu"}
    name, options = backend_settings(given, typed)
    assert (name, options) == backend_settings(given, stored)
    assert options == {"model": "models/vl", "device": "cpu", "attn_implementation": "sdpa",
                       "cpu_threads": 2}  # running a model's own code is asked for per run
