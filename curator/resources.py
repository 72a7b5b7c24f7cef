"""One way to find shipped resources (icons, default prompts, presets), installed or not."""

from __future__ import annotations

from pathlib import Path

_CANDIDATES = (
    Path(__file__).resolve().parent / "_resources",  # a wheel install may ship them here
    Path(__file__).resolve().parent.parent / "resources",  # a source checkout / editable install
)


def resource_path(*parts: str) -> Path:
    """The path of a resource file, e.g. `resource_path('prompts', 'video.txt')`."""
    for base in _CANDIDATES:
        candidate = base.joinpath(*parts)
        if candidate.exists():
            return candidate
    return _CANDIDATES[-1].joinpath(*parts)
