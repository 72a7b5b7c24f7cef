"""Shipped resources (default prompts, dataset plans, training presets), installed or not.

They are package data of `curator.resources`, found through `importlib.resources`, so a wheel
installed anywhere carries them as a source checkout or an editable install does.
"""

from __future__ import annotations

from importlib.resources import files
from pathlib import Path


class ResourceError(Exception):
    """The installed package cannot hand out its resources as files."""


def resource_root() -> Path:
    """The folder holding the resources (this package's folder)."""
    root = files(__name__)
    # pip unpacks wheels, so the package is a folder; only a zipped import (zipapp, an egg)
    # gives a Traversable that is not a Path, and callers list folders with glob().
    if not isinstance(root, Path):
        raise ResourceError(f"Curator's resources are inside an archive ({root}); "
                            "install Curator with pip so they are files")
    return root


def resource_path(*parts: str) -> Path:
    """The path of a resource file or folder, e.g. `resource_path('prompts', 'video.txt')`."""
    return resource_root().joinpath(*parts)
