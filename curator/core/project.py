"""A project is a folder: the catalog, thumbnails, plans and profiles live inside it."""

from __future__ import annotations

from functools import cached_property
from pathlib import Path

from .catalog import Catalog


class Project:
    """The folder of one dataset effort; the catalog opens on first use."""

    def __init__(self, root: Path | str) -> None:
        self.root = Path(root).expanduser().resolve()
        self.notices: list[str] = []  # said once when the catalog is opened

    @cached_property
    def catalog(self) -> Catalog:
        catalog = Catalog.for_project(self.root)
        # Runs killed since the project was last open still say 'running': say what they are.
        self.notices: list[str] = catalog.recover_jobs()
        return catalog

    @property
    def thumbs_dir(self) -> Path:
        return self.root / "thumbs"

    @property
    def stills_dir(self) -> Path:
        """Frames saved from clips as stills for the image section."""
        return self.root / "stills"

    def path(self, *parts: str) -> Path:
        """A path inside the project folder (created parents for files written there)."""
        return self.root.joinpath(*parts)

    def close(self) -> None:
        if "catalog" in self.__dict__:
            self.catalog.close()
