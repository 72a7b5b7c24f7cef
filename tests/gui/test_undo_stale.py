"""Undo from a stale state (issue 10, item 3): the window's Ctrl+Z never overwrites a decision
another writer (here a real `curator decide` process) made after the window's own."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from PySide6.QtCore import Qt

from curator.core.catalog import DecisionChange
from tests.conftest import REPO_ROOT


def cli(project_root: Path, *argv: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "curator.cli", "--project", str(project_root),
                           *argv], env={**os.environ, "PYTHONPATH": str(REPO_ROOT)},
                          capture_output=True, text=True, timeout=60, check=False)


@pytest.mark.slow
def test_ctrl_z_after_the_cli_rejected_keeps_the_cli_decision_and_says_so(
        qtbot, make_window, filled_project):
    window = make_window(filled_project)
    catalog = filled_project.catalog
    ids = catalog.clip_ids()
    window.decide(ids[:3], "accepted")  # the person, in the window
    assert [catalog.get_clip(i).decision for i in ids[:3]] == ["accepted"] * 3

    done = cli(filled_project.root, "decide", str(ids[0]), str(ids[1]), "--reject",
               "--reason", "logo in the corner")
    assert done.returncode == 0, done.stderr

    qtbot.keyClick(window.browser.active_view(), Qt.Key.Key_Z,
                   Qt.KeyboardModifier.ControlModifier)
    for clip_id in ids[:2]:  # the CLI's decision and reason stand
        clip = catalog.get_clip(clip_id)
        assert (clip.decision, clip.reason) == ("rejected", "logo in the corner")
    assert catalog.get_clip(ids[2]).decision == "pending"  # nobody else touched this one
    assert "2 clips were decided elsewhere" in window.statusBar().currentMessage()

    # Redo gives back only what undo took: the CLI's rejections still stand.
    qtbot.keyClick(window.browser.active_view(), Qt.Key.Key_Z,
                   Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.ShiftModifier)
    assert catalog.get_clip(ids[2]).decision == "accepted"
    assert catalog.get_clip(ids[0]).reason == "logo in the corner"


def test_swap_decisions_is_a_compare_and_set(catalog):
    from tests.core.test_catalog import add_film

    _, (a, b) = add_film(catalog)
    before = catalog.set_decision([a, b], "accepted")
    after = [DecisionChange("clip", c.id, "accepted", None, "person") for c in before]
    catalog.set_decision([b], "rejected", "blurry", by="person")  # another writer
    swap = catalog.swap_decisions(after, before)
    assert [c.id for c in swap.applied] == [a]
    assert [(c.id, c.decision, c.reason) for c in swap.conflicts] == [(b, "rejected", "blurry")]
    assert catalog.get_clip(a).decision == "pending"
    assert catalog.get_clip(b).reason == "blurry"
