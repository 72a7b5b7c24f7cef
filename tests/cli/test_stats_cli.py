"""`curator stats`: the same figures as the core, as JSON and as text; SQLite and PostgreSQL."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from curator.cli import main
from curator.core.catalog import Catalog
from curator.core.stats import dataset_stats, pending_clips
from tests.core.test_catalog import postgres_url  # noqa: F401 - the fixture, started once
from tests.stats_fixtures import TRIGGER, build_known


def test_stats_json_gives_bins_counts_and_phrases(tmp_path, capsys):
    catalog = Catalog.for_project(tmp_path)
    build_known(catalog)
    catalog.close()
    assert main(["--project", str(tmp_path), "stats", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    frames = out["histograms"]["frames"]
    assert frames["edges"] == list(range(5, 70, 4))
    assert sum(frames["counts"]) == 10 and frames["counts"][(45 - 5) // 4] == 3
    assert {t["key"] for t in frames["thresholds"]} >= {"min_frames"}
    assert out["histograms"]["motion"]["missing"] == 1
    assert out["sizes"][0] == {"width": 1920, "height": 1040, "count": 7, "aspect": 1.846}
    assert {"decision": "rejected", "reason": "duplicate of clip …", "count": 2} \
        in out["decisions"]
    captions = out["captions"]
    assert captions["openings"][0] == {"kind": "opening", "phrase": "the video shows",
                                       "captions": 4, "share": 0.8}
    assert captions["near_duplicates"][0]["clip_ids"] == [1, 2]
    assert captions["missing_trigger"] == 1 and out["trigger"] == TRIGGER


def test_stats_text_draws_bars_and_thresholds(tmp_path, capsys):
    catalog = Catalog.for_project(tmp_path)
    build_known(catalog)
    catalog.close()
    assert main(["--project", str(tmp_path), "stats"]) == 0
    text = capsys.readouterr().out
    assert "frames at 16 fps" in text and "█" in text
    assert "─ 0.5: too static below" in text and "─ 12: too dynamic above" in text
    assert "the video shows" in text and "without the trigger phrase 'Ghibli style.': 1" in text


def test_stats_of_an_empty_project(tmp_path, capsys):
    Catalog.for_project(tmp_path).close()
    assert main(["--project", str(tmp_path), "stats", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["clips"] == 0 and out["histograms"]["frames"]["counts"] == []
    assert out["captions"]["captioned"] == 0


@pytest.mark.postgres
@pytest.mark.slow
def test_postgresql_gives_the_same_figures(postgres_url, tmp_path, monkeypatch):  # noqa: F811
    local = Catalog.for_project(tmp_path / "local")
    build_known(local)
    expected = dataset_stats(local).to_json()
    local.close()
    monkeypatch.setenv("CURATOR_DB_URL", postgres_url)
    shared = Catalog.for_project(tmp_path / "team")
    try:
        assert shared.engine.dialect.name == "postgresql"
        build_known(shared)
        assert dataset_stats(shared).to_json() == expected
        # the frames-at-16-fps expression in integer SQL, and strict comparisons, agree too
        assert pending_clips(shared, "frames", 45, "below", 16.0) == (4, [1, 2, 3, 4])
        assert pending_clips(shared, "motion_p95", 12.0, "above", 16.0) == (1, [6])
        assert pending_clips(shared, "text_share", 0.3, "above", 16.0) == (2, [4, 6])
    finally:
        shared.close()


def test_stats_starts_without_the_media_stack_or_alembic(tmp_path):
    """`curator stats` on an up-to-date catalog loads neither OpenCV, PyAV nor alembic: a
    second of start-up that the figures never use (a fresh interpreter, as a person runs it)."""
    catalog = Catalog.for_project(tmp_path)
    build_known(catalog)
    catalog.close()
    probe = ("import sys; from curator.cli import main; "
             f"code = main(['--project', {str(tmp_path)!r}, '-q', 'stats', '--json']); "
             "print(code, sorted(m for m in ('cv2', 'av', 'alembic', 'PySide6') "
             "if m in sys.modules), file=sys.stderr)")
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True,
                          timeout=120, check=False,
                          env={**os.environ, "PYTHONPATH": str(Path(__file__).parents[2])})
    assert done.stderr.strip().splitlines()[-1] == "0 []", done.stderr
    assert json.loads(done.stdout)["clips"] == 10
