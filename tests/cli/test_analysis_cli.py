"""`curator analyze`, `auto-decide` and `decide`, run in-process on a real project."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from curator.cli import main
from curator.core.catalog import Catalog
from tests import analysis_fixtures as af


@pytest.fixture(scope="session")
def footage(tmp_path_factory: pytest.TempPathFactory) -> dict[str, af.Footage]:
    folder = tmp_path_factory.getbasetemp() / "analysis-footage"
    folder.mkdir(exist_ok=True)
    return {"slow": af.pan(folder, "slow", 1.0), "frozen": af.frozen(folder),
            "cut": af.hard_cut(folder)}


@pytest.fixture
def cli_project(tmp_path: Path, footage) -> tuple[Path, dict[str, int]]:
    catalog = Catalog.for_project(tmp_path)
    ids = {name: af.add_source(catalog, f.path)[1][0] for name, f in footage.items()}
    catalog.close()
    return tmp_path, ids


def run(project_dir: Path, *argv: str) -> int:
    return main(["--project", str(project_dir), "-q", *argv])


def test_analyze_fills_motion_and_cuts_and_a_second_run_does_nothing(cli_project, capsys):
    folder, ids = cli_project
    assert run(folder, "analyze", "--json") == 0
    report = json.loads(capsys.readouterr().out)
    assert report["analyzed"] == 3 and report["failed"] == []
    assert run(folder, "analyze", "--json") == 0
    again = json.loads(capsys.readouterr().out)
    assert again["analyzed"] == 0 and again["up_to_date"] == 3

    assert run(folder, "clips", "--json") == 0
    clips = {c["id"]: c for c in json.loads(capsys.readouterr().out)}
    assert clips[ids["cut"]]["cuts"] == 1 and clips[ids["slow"]]["cuts"] == 0
    assert clips[ids["frozen"]]["motion"] < clips[ids["slow"]]["motion"]


def test_analyze_reports_a_missing_file_and_exits_1(cli_project, capsys, tmp_path):
    folder, _ = cli_project
    catalog = Catalog.for_project(folder)
    af.add_source(catalog, tmp_path / "gone.mp4")
    catalog.close()
    assert run(folder, "analyze") == 1
    err = capsys.readouterr().err
    assert "analysed 3 clips" in err and "gone.mp4" in err and "file not found" in err


def test_auto_decide_dry_run_then_for_real(cli_project, capsys):
    folder, ids = cli_project
    run(folder, "analyze")
    capsys.readouterr()
    assert run(folder, "auto-decide", "--dry-run", "--json") == 0
    planned = json.loads(capsys.readouterr().out)
    assert planned["dry_run"] is True
    assert {(r["id"], r["reason"]) for r in planned["rejected"]} == {
        (ids["frozen"], "too static"), (ids["cut"], "holds a cut")}
    assert run(folder, "clips", "--status", "rejected", "--json") == 0
    assert json.loads(capsys.readouterr().out) == []

    assert run(folder, "auto-decide", "--static-below", "off", "--json") == 0
    done = json.loads(capsys.readouterr().out)
    assert [(r["id"], r["reason"]) for r in done["rejected"]] == [(ids["cut"], "holds a cut")]
    assert run(folder, "clips", "--status", "rejected", "--json") == 0
    [rejected] = json.loads(capsys.readouterr().out)
    assert (rejected["id"], rejected["reason"], rejected["decided_by"]) == \
        (ids["cut"], "holds a cut", "rule")


def test_auto_decide_says_when_clips_lack_analysis(cli_project, capsys):
    folder, _ = cli_project
    assert run(folder, "auto-decide", "--min-frames", "45") == 0
    captured = capsys.readouterr()
    assert "too short for 45 frames at 16 fps" in captured.out
    assert "3 pending clips have no analysis yet" in captured.err


def test_decide_accepts_and_rejects_and_a_rule_then_leaves_them(cli_project, capsys):
    folder, ids = cli_project
    assert run(folder, "decide", str(ids["cut"]), "--accept") == 0
    assert run(folder, "decide", str(ids["slow"]), str(ids["frozen"]), "--reject",
               "--reason", "wrong style", "--json") == 0
    out = capsys.readouterr().out
    assert json.loads(out)["ids"] == [ids["slow"], ids["frozen"]]
    run(folder, "analyze")
    assert run(folder, "auto-decide", "--json") == 0
    capsys.readouterr()
    assert run(folder, "clips", "--json") == 0
    clips = {c["id"]: c for c in json.loads(capsys.readouterr().out)}
    assert (clips[ids["cut"]]["status"], clips[ids["cut"]]["decided_by"]) == ("accepted", "person")
    assert clips[ids["slow"]]["reason"] == clips[ids["frozen"]]["reason"] == "wrong style"


def test_decide_an_unknown_id_changes_nothing(cli_project, capsys):
    folder, ids = cli_project
    assert run(folder, "decide", str(ids["slow"]), "999", "--accept") == 2
    assert "no clip with id 999" in capsys.readouterr().err
    assert run(folder, "clips", "--status", "accepted", "--json") == 0
    assert json.loads(capsys.readouterr().out) == []


def test_megamind_ingested_whole_with_analysis_holds_three_cuts(tmp_path, shared_media, capsys):
    # One decode pass: ingest feeds the analyzer; `analyze` then finds nothing left to do.
    megamind = shared_media / "Megamind.avi"
    assert run(tmp_path, "ingest", str(megamind), "--scenes", "never", "--analyze") == 0
    assert run(tmp_path, "clips", "--json") == 0
    [clip] = json.loads(capsys.readouterr().out)
    assert clip["cuts"] == 3 and (clip["start_frame"], clip["end_frame"]) == (0, 270)
    assert clip["motion"] > 0
    assert run(tmp_path, "analyze", "--json") == 0
    assert json.loads(capsys.readouterr().out)["analyzed"] == 0


def test_ingest_analyze_finds_burned_in_subtitles_and_auto_decide_rejects_them(
        tmp_path, capsys, shared_media):
    """`ingest --analyze` runs the text check; `auto-decide` rejects on it unless switched off,
    and never changes a person's decision."""
    from tests.core.test_analysis_text import _subtitled_clip
    from tests.text_overlays import have_fonts

    if not have_fonts():
        pytest.skip("fonts-dejavu is needed to burn in subtitles")
    media = tmp_path / "media"
    media.mkdir()
    _subtitled_clip(media, shared_media, show=(0, 24))
    _subtitled_clip(media, shared_media, show=(0, 0))
    from PIL import Image

    from curator.core.media import iter_frames
    from tests.text_overlays import Overlay, composite, overlay_layer

    still = next(f for _, f in iter_frames(shared_media / "Megamind.avi", 30, 31))
    layer, _ = overlay_layer(Overlay("subtitles", ("Wait for me at the station.",)),
                             still.shape[1], still.shape[0])
    Image.fromarray(composite(still, layer)).save(media / "still.png")
    project = tmp_path / "project"
    Catalog.for_project(project).close()
    assert run(project, "ingest", str(media), "--analyze", "--scenes", "never") == 0
    capsys.readouterr()
    assert run(project, "clips", "--json") == 0
    clips = {Path(c["source"]).name: c for c in json.loads(capsys.readouterr().out)}
    texted, plain = clips["subtitled_0_24.mp4"], clips["subtitled_0_0.mp4"]
    assert texted["text_share"] == 1.0 and texted["analysis"]["text"]["kind"] == "subtitles"
    assert plain["text_share"] == 0.0 and texted["crop"] is None
    assert run(project, "images", "--json") == 0  # a still gets the same check
    [image] = json.loads(capsys.readouterr().out)
    assert image["text_share"] == 1.0 and image["analysis"]["text"]["kind"] == "subtitles"

    off = ("--static-below", "off", "--dynamic-above", "off", "--flicker-above", "off",
           "--no-reject-cuts", "--no-duplicates")
    assert run(project, "auto-decide", *off, "--text-above", "off", "--json") == 0
    assert json.loads(capsys.readouterr().out)["rejected"] == []
    assert run(project, "auto-decide", *off, "--dry-run", "--json") == 0
    assert json.loads(capsys.readouterr().out)["rejected"] == [
        {"id": texted["id"], "reason": "holds text (subtitles)"}]
    assert run(project, "decide", str(texted["id"]), "--accept") == 0
    assert run(project, "auto-decide", *off, "--json") == 0
    assert json.loads(capsys.readouterr().out)["rejected"] == []
    catalog = Catalog.for_project(project)
    assert catalog.get_clip(texted["id"]).decision == "accepted"
    catalog.close()
