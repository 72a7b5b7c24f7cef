"""A person's decision is never lost to a rule running at the same time (issue 10, item 3).

A real `curator auto-decide` subprocess works on a real SQLite catalog of 3,000 pending,
too-static clips while this process accepts clips through the catalog every few ms.
"""

from __future__ import annotations

import os
import random
import subprocess
import sys
import time
from fractions import Fraction
from pathlib import Path

import pytest
import sqlalchemy as sa

from curator.core.catalog import Catalog
from tests.conftest import REPO_ROOT

CLIPS = 3_000


def static_clips(catalog: Catalog, n: int) -> list[int]:
    """n pending clips of one source, every one 'too static' (mean motion 0.1)."""
    _, ids = catalog.upsert_source(
        path=Path("/films/still.mkv"), size=1, mtime=1.0, content_hash="still", container="mkv",
        codec="h264", fps=Fraction(24), frame_count=n * 10, header_frame_count=None, width=64,
        height=64, duration=n * 10 / 24, clip_ranges=[(i * 10, i * 10 + 10) for i in range(n)])
    with catalog.session() as s:
        s.execute(sa.text("UPDATE clips SET motion = 0.1, analysis = '{}'"))
    return ids


@pytest.mark.slow
def test_auto_decide_never_overwrites_a_person_deciding_meanwhile(project):
    catalog = project.catalog
    ids = static_clips(catalog, CLIPS)
    env = {**os.environ, "PYTHONPATH": str(REPO_ROOT)}
    rule = subprocess.Popen([sys.executable, "-m", "curator.cli", "--project", str(project.root),
                             "-q", "auto-decide", "--no-duplicates"], env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    accepted: list[int] = []
    order = list(ids)
    random.Random(1).shuffle(order)  # any clip, also one the rule has just read
    for clip_id in order:
        if rule.poll() is not None:
            break
        if catalog.set_decision([clip_id], "accepted", by="person"):
            accepted.append(clip_id)
        time.sleep(0.0005)
    _out, err = rule.communicate(timeout=120)
    assert rule.returncode == 0, err
    assert accepted, "the rule finished before the person could decide anything"
    lost = [c.id for c in catalog.list_clips(ids=accepted) if c.decided_by != "person"]
    assert lost == [], f"{len(lost)} of {len(accepted)} accepted clips overwritten by the rule"
    decided = catalog.list_clips(ids=ids)
    assert all(c.decision != "pending" for c in decided)
    assert {c.decided_by for c in decided} <= {"person", "rule"}
