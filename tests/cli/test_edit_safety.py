"""Caption edits under hostile input (issue 10, degraded items): a catastrophic regular
expression is bounded and Ctrl+C stops it; NUL bytes never reach the catalog."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from curator.core.catalog import Catalog
from tests.conftest import REPO_ROOT
from tests.export_fixtures import add_source, write_clip

# (a|aa)+$ against a run of a's ending in b tries every way to split the run: 2^n paths.
CATASTROPHIC = r"(a|aa)+$"
HOSTILE = "OHWX style " + "a" * 64 + "b"


@pytest.fixture
def root(tmp_path) -> Path:
    root = tmp_path / "project"
    catalog = Catalog.for_project(root)
    catalog.update_settings(trigger="OHWX style")
    clip = write_clip(tmp_path / "film.mp4", 20, size=(64, 36))
    add_source(catalog, clip, ranges=[(0, 10), (10, 20)], caption=HOSTILE)
    catalog.close()
    return root


def replace(root: Path) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "curator.cli", "--project", str(root), "-q", "replace",
         "--regex", CATASTROPHIC, "x"], env={**os.environ, "PYTHONPATH": str(REPO_ROOT)},
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


@pytest.mark.slow
def test_a_catastrophic_regex_is_stopped_with_a_sentence(root):
    started = time.monotonic()
    proc = replace(root)
    _out, err = proc.communicate(timeout=60)
    assert proc.returncode == 2
    assert "regular expression took over" in err and "simplify it" in err
    assert time.monotonic() - started < 30
    catalog = Catalog.for_project(root)
    try:
        assert all(c.caption == HOSTILE for c in catalog.list_clips())  # nothing half-done
    finally:
        catalog.close()


def has_open(pid: int, name: str) -> bool:
    fds = Path(f"/proc/{pid}/fd")
    try:
        return any(os.readlink(fd).endswith(name) for fd in fds.iterdir())
    except OSError:  # the process or one of its descriptors went away meanwhile
        return False


@pytest.mark.skipif(not Path("/proc/self/fd").is_dir(), reason="needs Linux /proc")
def test_ctrl_c_stops_a_regex_search(root):
    proc = replace(root)
    deadline = time.monotonic() + 30
    while not has_open(proc.pid, "curator.db") and time.monotonic() < deadline:
        time.sleep(0.05)  # Python starting, imports: a Ctrl+C there proves nothing
    time.sleep(0.3)  # the catalog is open: the search over the captions is under way
    assert proc.poll() is None
    proc.send_signal(signal.SIGINT)
    stopped = time.monotonic()
    _out, err = proc.communicate(timeout=30)
    assert time.monotonic() - stopped < 5
    assert proc.returncode in (130, 2), err


def test_nul_bytes_are_stripped_when_a_caption_is_saved(catalog, tmp_path):
    (clip_id,) = add_source(catalog, write_clip(tmp_path / "c.mp4", 10, size=(64, 36)),
                            caption=None)
    row = catalog.save_caption("OHWX style a\x00 cat\x00", clip_id=clip_id)
    assert row.text == "OHWX style a cat"
    assert catalog.get_clip(clip_id).caption == "OHWX style a cat"
    assert "\x00" not in catalog.caption_history(clip_id=clip_id)[0].text
