"""A catalog that cannot be written (issue 10, degraded items) is one sentence naming the file,
not SQLAlchemy's text with the SQL and a URL. Real subprocesses on a real SQLite file."""

from __future__ import annotations

import os
import resource
import shutil
import signal
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from curator.core.catalog import Catalog
from tests.conftest import REPO_ROOT
from tests.export_fixtures import add_source, write_clip

ENV = {**os.environ, "PYTHONPATH": str(REPO_ROOT)}


@pytest.fixture
def root(tmp_path) -> Path:
    root = tmp_path / "project"
    catalog = Catalog.for_project(root)
    add_source(catalog, write_clip(tmp_path / "film.mp4", 10, size=(64, 36)), accept=False,
               caption=None)
    catalog.close()  # the last connection folds the WAL back into curator.db
    return root


def cli(root: Path, *argv: str, preexec: Callable[[], None] | None = None
        ) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "curator.cli", "--project", str(root), "-q",
                           *argv], env=ENV, capture_output=True, text=True, timeout=120,
                          preexec_fn=preexec, check=False)


def assert_one_sentence(err: str, db: Path, words: str) -> None:
    lines = [line for line in err.splitlines() if line.strip()]
    assert len(lines) == 1, err
    assert lines[0].startswith("error: ") and str(db) in lines[0] and words in lines[0], err
    assert "sqlalche.me" not in err and "[SQL" not in err and "sqlite:///" not in err


def test_a_read_only_catalog_is_one_sentence_naming_the_file(root):
    db = root / "curator.db"
    if os.geteuid() == 0:  # root writes through permissions: make the file immutable instead
        if shutil.which("chattr") is None or subprocess.run(
                ["chattr", "+i", str(db)], capture_output=True, check=False).returncode:
            pytest.skip("running as root without chattr +i")
        undo = ["chattr", "-i", str(db)]
    else:
        db.chmod(0o444)
        undo = ["chmod", "644", str(db)]
    try:
        done = cli(root, "decide", "1", "--accept")
    finally:
        subprocess.run(undo, check=True)
    assert done.returncode == 2
    assert_one_sentence(done.stderr, db, "is read-only")
    catalog = Catalog.for_project(root)
    try:
        assert catalog.get_clip(1).decision == "pending"
    finally:
        catalog.close()


def test_a_full_disk_is_one_sentence_naming_the_file(root):
    db = root / "curator.db"

    def small_disk() -> None:  # every file this process writes stops at 64 KiB, as a full disk
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
        resource.setrlimit(resource.RLIMIT_FSIZE, (64 * 1024, 64 * 1024))

    caption = "a cat " * 20_000  # 120 KB: more than the 'disk' holds
    done = cli(root, "caption-set", "--clip", "1", "--no-trigger", caption, preexec=small_disk)
    assert done.returncode == 2
    assert "this change was not saved" in done.stderr
    assert_one_sentence(done.stderr, db, "catalog")
    catalog = Catalog.for_project(root)
    try:
        assert catalog.get_clip(1).caption is None  # intact, nothing half-written
    finally:
        catalog.close()
