"""The CLI in-process: global options, listing, settings, and errors without tracebacks."""

from __future__ import annotations

import json
from fractions import Fraction
from pathlib import Path

from curator.cli import main
from curator.core.catalog import Catalog


def test_clips_json_lists_every_required_field(tmp_path, capsys):
    catalog = Catalog.for_project(tmp_path)
    catalog.upsert_source(path=Path("/f/a.mp4"), size=1, mtime=0.0, content_hash="h",
                          container="mp4", codec="h264", fps=Fraction(30), frame_count=60,
                          header_frame_count=60, width=640, height=360, duration=2.0,
                          clip_ranges=[(0, 60)])
    catalog.close()
    assert main(["--project", str(tmp_path), "clips", "--json"]) == 0
    (clip,) = json.loads(capsys.readouterr().out)
    for key in ("id", "source", "start_frame", "end_frame", "frames", "fps", "width", "height",
                "status", "caption", "motion", "cuts"):
        assert key in clip
    assert (clip["frames"], clip["fps"], clip["status"]) == (60, 30.0, "pending")


def test_settings_round_trip(tmp_path, capsys):
    assert main(["--project", str(tmp_path), "settings", "--trigger", "Studio Ghibli style.",
                 "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["trigger"] == "Studio Ghibli style."
    assert main(["--project", str(tmp_path), "settings", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["trigger"] == "Studio Ghibli style."


def test_an_error_is_a_sentence_not_a_traceback(tmp_path, capsys):
    blocker = tmp_path / "file"
    blocker.write_text("x")
    code = main(["--project", str(blocker / "sub"), "clips"])
    err = capsys.readouterr().err
    assert code == 2
    assert err.startswith("error:") and "Traceback" not in err


def test_a_mistyped_project_is_not_created(tmp_path, capsys):
    missing = tmp_path / "gibli"
    assert main(["--project", str(missing), "clips", "--json"]) == 2
    assert "no Curator project at" in capsys.readouterr().err
    assert not missing.exists()
