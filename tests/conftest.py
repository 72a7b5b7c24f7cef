"""Fixtures every test may use: a fresh project and catalog, the shared footage, offscreen Qt."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

# Before any Qt import: tests never need a display.
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")

REPO_ROOT = Path(__file__).resolve().parents[1]
SHARED_MEDIA = REPO_ROOT.parent / "shared" / "media"


@pytest.fixture(autouse=True)
def _isolated_env(monkeypatch: pytest.MonkeyPatch) -> None:
    # A developer's CURATOR_DB_URL must never point a test at a real catalog.
    monkeypatch.delenv("CURATOR_DB_URL", raising=False)
    monkeypatch.delenv("CURATOR_PROJECT", raising=False)


@pytest.fixture
def project(tmp_path: Path):
    """A fresh project folder with its SQLite catalog, closed afterwards."""
    from curator.core.project import Project

    proj = Project(tmp_path / "project")
    proj.root.mkdir(parents=True)
    yield proj
    proj.close()


@pytest.fixture
def catalog(project):
    return project.catalog


@pytest.fixture(scope="session")
def shared_media() -> Path:
    """../shared/media beside the repository: real footage with known facts."""
    if not SHARED_MEDIA.is_dir():
        pytest.skip(f"shared footage not found at {SHARED_MEDIA}")
    return SHARED_MEDIA
