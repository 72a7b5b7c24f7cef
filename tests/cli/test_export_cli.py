"""`curator export`, `curator plan` and `curator buckets` in-process."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import toml

from curator.cli import main
from curator.core.catalog import Catalog
from tests.export_fixtures import add_image, add_source, decoded_frames, write_clip


@pytest.fixture(scope="module")
def clips(tmp_path_factory) -> dict[int, Path]:
    folder = tmp_path_factory.mktemp("cli-export-media")
    return {n: write_clip(folder / f"clip{n}.mp4", n, size=(64, 36), seed=n) for n in (30, 45, 88)}


@pytest.fixture
def project(tmp_path, clips) -> Path:
    root = tmp_path / "project"
    catalog = Catalog.for_project(root)
    catalog.update_settings(trigger="sks style")
    for n in (30, 45, 88):
        add_source(catalog, clips[n])
    add_image(catalog, tmp_path / "still.png")
    catalog.close()
    return root


def _run(project: Path, *args: str) -> int:
    return main(["--project", str(project), "-q", *args])


def test_export_json_has_the_documented_shape(project, tmp_path, capsys):
    out = tmp_path / "dataset"
    assert _run(project, "export", str(out), "--json") == 0
    data = json.loads(capsys.readouterr().out)
    assert data["trainer"] == "musubi"
    assert data["config"] == str(out.resolve() / "musubi_dataset.toml")  # the stable name
    assert [d["name"] for d in data["datasets"]] == ["images", "clips_768x416", "clips_384x208"]
    for dataset in data["datasets"]:
        assert {"name", "items", "batches", "warnings"} <= set(dataset)
    # images 1; head [1,21] 2 × 3; uniform [45]×2 on 30/45/88: 0 + 1 + 2
    assert [d["items"] for d in data["datasets"]] == [1, 6, 3]
    assert data["total_items"] == 10 and data["total_batches"] == 10
    warnings = data["datasets"][2]["warnings"]
    assert any("clip30.mp4" in w and "15 short" in w for w in warnings)
    assert any("clip45.mp4" in w and "collapse" in w for w in warnings)
    assert toml.load(data["config"])["general"]["caption_extension"] == ".txt"
    assert decoded_frames(out / "videos" / "clip88_0-88.mp4")[0] == 88


def test_dry_run_writes_nothing(project, tmp_path, capsys):
    out = tmp_path / "dataset"
    assert _run(project, "export", str(out), "--dry-run", "--json") == 0
    data = json.loads(capsys.readouterr().out)
    assert data["dry_run"] is True and data["total_items"] == 10
    assert data["config"].endswith("musubi_dataset.toml")
    assert not out.exists()


def test_human_output_and_preset_and_trainer(project, tmp_path, capsys):
    out = tmp_path / "dp"
    assert _run(project, "export", str(out), "--preset", "wan21-480p-motion",
                "--trainer", "diffusion-pipe", "--epochs", "3") == 0
    text = capsys.readouterr().out
    assert "plan wan21-480p-motion for diffusion-pipe" in text
    assert "steps for 3 epochs" in text
    assert (out / "diffusion_pipe_dataset.toml").is_file()
    data = toml.load(out / "diffusion_pipe_dataset.toml")
    assert [Path(d["path"]).name for d in data["directory"]] == ["images", "clips_832x480"]


def test_plan_file_root_and_errors(project, tmp_path, capsys):
    plan = tmp_path / "plan.toml"
    plan.write_text('name = "mine"\n[[sections]]\nname = "v"\nkind = "videos"\n'
                    'resolution = [384, 208]\nframe_extraction = "chunk"\n'
                    'target_frames = [21]\n', encoding="utf-8")
    out = tmp_path / "d"
    assert _run(project, "export", str(out), "--plan", str(plan), "--root", "/train/ds",
                "--json") == 0
    data = json.loads(capsys.readouterr().out)
    assert [d["items"] for d in data["datasets"]] == [1 + 2 + 4]  # floor(N/21): 1, 2, 4
    config = toml.load(out / "musubi_dataset.toml")
    assert config["datasets"][0]["video_directory"] == "/train/ds/videos"
    plan.write_text('[[sections]]\nname = "v"\nkind = "videos"\nresolution = [384, 208]\n'
                    'frame_extraction = "sideways"\n', encoding="utf-8")
    assert _run(project, "export", str(out), "--plan", str(plan)) == 2
    assert "frame_extraction must be one of" in capsys.readouterr().err


def test_missing_caption_makes_the_exit_code_1(project, tmp_path, clips, capsys):
    catalog = Catalog.for_project(project)
    other = tmp_path / "uncaptioned.mp4"
    other.write_bytes(clips[30].read_bytes())
    add_source(catalog, other, caption=None)
    catalog.close()
    assert _run(project, "export", str(tmp_path / "d"), "--json") == 1
    data = json.loads(capsys.readouterr().out)
    assert any("uncaptioned.mp4" in e for e in data["errors"])


def test_plan_presets_show_and_save(project, capsys):
    assert _run(project, "plan", "presets", "--json") == 0
    names = [p["name"] for p in json.loads(capsys.readouterr().out)]
    assert "wan21-14b-style-24gb" in names
    assert _run(project, "plan", "save", "--preset", "wan21-480p-motion") == 0
    assert (project / "plans" / "dataset.toml").is_file()
    capsys.readouterr()
    assert _run(project, "plan", "save", "--preset", "wan21-14b-style-24gb") == 2
    assert _run(project, "plan", "show", "--json") == 0
    assert json.loads(capsys.readouterr().out)["name"] == "wan21-480p-motion"
    assert _run(project, "export", "/nonexistent/never", "--dry-run", "--json") == 0
    data = json.loads(capsys.readouterr().out)
    assert [d["name"] for d in data["datasets"]] == ["images", "clips_832x480"]


def test_buckets_helper(project, capsys):
    assert _run(project, "buckets", "--aspect", "1920x1040", "--pixels", str(768 * 416),
                "--size", "1920x1040", "--json") == 0
    options = json.loads(capsys.readouterr().out)
    assert options[0]["resolution"] == [768, 416]
    assert options[0]["buckets"] == [{"source": [1920, 1040], "bucket": [768, 416]}]
    assert _run(project, "buckets", "--resolution", "768x768", "--size", "800x600",
                "--json") == 0
    data = json.loads(capsys.readouterr().out)
    # §1.5: 800x600 at [768,768]: videos cached at 896x656; no-upscale images 800x592
    assert data["sources"] == [{"source": [800, 600], "video_cache": [896, 656],
                                "image_bucket_no_upscale": [800, 592]}]
    # without --size or --aspect: the accepted clips' size (64x36)
    # 16:9 at 16-pixel steps keeps the ratio exactly first at 256x144 (36864 px)
    assert _run(project, "buckets", "--pixels", "40000") == 0
    assert "[256, 144]" in capsys.readouterr().out
