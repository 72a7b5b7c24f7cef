"""A folder scan says which files it left out (issue 10, degraded items): an .m4a next to the
clips is reported, not silently ignored."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import REPO_ROOT
from tests.export_fixtures import write_clip


@pytest.mark.slow
def test_a_folder_scan_reports_the_non_media_files_it_skipped(tmp_path):
    folder = tmp_path / "footage"
    (folder / "extras").mkdir(parents=True)
    write_clip(folder / "shot.mp4", 10, size=(64, 36))
    (folder / "soundtrack.m4a").write_bytes(b"\0" * 64)
    (folder / "extras" / "notes.txt").write_text("cut at 0:12\n")
    (folder / ".DS_Store").write_bytes(b"\0")  # hidden: not worth a word
    env = {**os.environ, "PYTHONPATH": str(REPO_ROOT)}
    base = [sys.executable, "-m", "curator.cli", "--project", str(tmp_path / "project"), "-q",
            "ingest", str(folder)]
    done = subprocess.run([*base, "--json"], env=env, capture_output=True, text=True,
                          timeout=120, check=False)
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout)
    assert report["sources"] == 1 and report["skipped_count"] == 2
    assert sorted(Path(p).name for p in report["skipped"]) == ["notes.txt", "soundtrack.m4a"]
    again = subprocess.run(base, env=env, capture_output=True, text=True, timeout=120,
                           check=False)
    assert "skipped 2 files that are not video or image: soundtrack.m4a, notes.txt" in \
        again.stderr
