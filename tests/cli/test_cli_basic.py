"""The CLI in-process: global options, listing, settings, and errors without tracebacks."""

from __future__ import annotations

import json
from fractions import Fraction
from pathlib import Path

import pytest

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


def test_the_command_table_names_the_module_of_every_command():
    """`MODULE_OF` lets a command import only its own module; it must match what each module
    registers (a command missing from it would still run, after importing them all)."""
    import argparse
    import importlib
    import pkgutil

    import curator.commands as commands

    registered = {}
    for info in pkgutil.iter_modules(commands.__path__):
        if info.name.startswith("_"):
            continue
        parser = argparse.ArgumentParser()
        sub = parser.add_subparsers()
        importlib.import_module(f"curator.commands.{info.name}").register(sub)
        registered.update({name: info.name for name in sub.choices})
    assert commands.MODULE_OF == registered


def test_one_command_parses_as_with_every_module_loaded(tmp_path, capsys):
    from curator.cli import build_parser

    argv = ["--project", str(tmp_path), "-q", "stats", "--json"]
    one, every = build_parser("stats").parse_args(argv), build_parser().parse_args(argv)
    assert vars(one) == vars(every)
    with pytest.raises(SystemExit):
        main(["--project", str(tmp_path), "bogus"])
    err = capsys.readouterr().err
    assert "invalid choice: 'bogus'" in err and "'analyze'" in err  # with every command listed


def test_a_reader_that_stops_early_is_no_error(tmp_path):
    # `curator clips --json | head`: the pipe closes before the list is written
    import subprocess
    import sys

    catalog = Catalog.for_project(tmp_path)
    catalog.upsert_source(path=Path("/f/a.mp4"), size=1, mtime=0.0, content_hash="h",
                          container="mp4", codec="h264", fps=Fraction(30), frame_count=6000,
                          header_frame_count=6000, width=640, height=360, duration=200.0,
                          clip_ranges=[(i, i + 1) for i in range(3000)])
    catalog.close()
    repo = Path(__file__).resolve().parents[2]
    run = subprocess.Popen([sys.executable, str(repo / "main.py"), "--project", str(tmp_path),
                            "-q", "clips", "--json"], stdout=subprocess.PIPE,
                           stderr=subprocess.PIPE, cwd=repo)
    assert run.stdout.read(10).startswith(b"[")
    run.stdout.close()  # as `head` does once it has its lines
    err = run.stderr.read().decode()
    assert run.wait(60) == 1
    assert "error" not in err and "Broken pipe" not in err and "Traceback" not in err, err
