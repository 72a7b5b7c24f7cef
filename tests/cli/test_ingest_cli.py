"""`curator ingest` in-process: JSON report, exit codes, options, and no traceback on bad input."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from curator.cli import main
from curator.core.catalog import Catalog
from tests.media_factory import Segment, make_audio_only, make_image, make_text_as_video, make_video


@pytest.fixture(scope="session")
def clips_folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    d = tmp_path_factory.mktemp("cli_media")
    make_video(d / "film.mp4", [Segment("texture", 24, seed=1), Segment("bars", 24, seed=2),
                                Segment("color", 40, seed=3)], size=(128, 72))
    make_video(d / "l'été \"ghibli\" ümlaut.mkv", [Segment("texture", 20, seed=4)], size=(128, 72))
    make_image(d / "still.png")
    return d


def run(project: Path, *argv: str) -> int:
    return main(["--project", str(project), "-q", *argv])


def test_ingest_json_counts_and_exit_code(tmp_path: Path, clips_folder: Path, capsys) -> None:
    assert run(tmp_path / "proj", "ingest", str(clips_folder), "--json") == 0
    out = json.loads(capsys.readouterr().out)
    assert {k: out[k] for k in ("sources", "clips", "images", "failed")} == {
        "sources": 2, "clips": 4, "images": 1, "failed": []}
    # again: nothing new
    assert run(tmp_path / "proj", "ingest", str(clips_folder), "--json") == 0
    again = json.loads(capsys.readouterr().out)
    assert (again["sources"], again["clips"], again["images"]) == (0, 0, 0)
    catalog = Catalog.for_project(tmp_path / "proj")
    names = sorted(s.path.name for s in catalog.list_sources())
    catalog.close()
    assert names == ["film.mp4", "l'été \"ghibli\" ümlaut.mkv"]


def test_scenes_never_and_min_scene_frames(tmp_path: Path, clips_folder: Path, capsys) -> None:
    film = str(clips_folder / "film.mp4")
    assert run(tmp_path / "a", "ingest", film, "--scenes", "never", "--json") == 0
    assert json.loads(capsys.readouterr().out)["clips"] == 1
    assert run(tmp_path / "b", "ingest", film, "--min-scene-frames", "30", "--json") == 0
    assert json.loads(capsys.readouterr().out)["clips"] == 2  # the cut at 24 is too early


def test_failures_give_exit_code_1_with_plain_reasons(tmp_path: Path, clips_folder: Path,
                                                      capsys) -> None:
    bad = tmp_path / "bad"
    bad.mkdir()
    make_text_as_video(bad / "notes.mp4")
    make_audio_only(bad / "song.mp4")
    shutil.copy(clips_folder / "film.mp4", bad / "good.mp4")
    code = run(tmp_path / "proj", "ingest", str(bad), str(tmp_path / "missing.mov"), "--json")
    captured = capsys.readouterr()
    assert code == 1
    out = json.loads(captured.out)
    assert out["sources"] == 1 and out["clips"] == 3
    reasons = {Path(f["path"]).name: f["reason"] for f in out["failed"]}
    assert set(reasons) == {"notes.mp4", "song.mp4", "missing.mov"}
    assert "text file" in reasons["notes.mp4"] and "only audio" in reasons["song.mp4"]
    assert "Traceback" not in captured.err


def test_plain_output_names_failures(tmp_path: Path, capsys) -> None:
    make_text_as_video(tmp_path / "notes.mp4")
    assert run(tmp_path / "proj", "ingest", str(tmp_path / "notes.mp4")) == 1
    err = capsys.readouterr().err
    assert "failed: notes.mp4: a text file" in err


def test_analyze_option_fills_analysis(tmp_path: Path, clips_folder: Path, capsys) -> None:
    pytest.importorskip("curator.core.analysis")
    assert run(tmp_path / "proj", "ingest", str(clips_folder / "film.mp4"), "--analyze",
               "--json") == 0
    capsys.readouterr()
    catalog = Catalog.for_project(tmp_path / "proj")
    clips = catalog.list_clips()
    catalog.close()
    assert len(clips) == 3 and all(c.analysis is not None for c in clips)


def test_bad_min_scene_frames_is_refused(tmp_path: Path, clips_folder: Path, capsys) -> None:
    assert run(tmp_path / "proj", "ingest", str(clips_folder), "--min-scene-frames", "0") == 2
    assert "at least 1" in capsys.readouterr().err


def test_workers_option(tmp_path: Path, clips_folder: Path, capsys) -> None:
    with pytest.raises(SystemExit) as refused:
        run(tmp_path / "proj", "ingest", str(clips_folder), "--workers", "0")
    assert refused.value.code == 2 and "--workers: must be at least 1" in capsys.readouterr().err
    assert run(tmp_path / "proj", "ingest", str(clips_folder), "--workers", "1", "--json") == 0
    assert json.loads(capsys.readouterr().out)["sources"] == 2
