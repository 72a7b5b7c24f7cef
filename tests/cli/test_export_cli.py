"""`curator export`, `curator plan` and `curator buckets` in-process."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import stat
import subprocess
import sys
import tomllib
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


# ---- issue 10: nothing lost, nothing unsafe ------------------------------------------------

REPO = Path(__file__).resolve().parents[2]
ONE_SECTION = ('name = "kill"\n[[sections]]\nname = "v"\nkind = "videos"\n'
               'resolution = [64, 36]\ntarget_frames = [1]\n')


def _sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _whole_dataset(out: Path, generations: dict[str, tuple[set[str], str]]) -> str:
    """Which complete dataset the folder holds, as the trainer reads it (through its TOML);
    fails on any mix: a file or caption that is not the manifest's, or a file too many."""
    manifest = json.loads((out / "manifest.json").read_text())
    files = manifest["files"]
    config = tomllib.loads((out / "musubi_dataset.toml").read_text())
    videos = Path(config["datasets"][0]["video_directory"])
    assert videos == out.resolve() / "videos"
    expected = sorted([Path(r).name for r in files]
                      + [Path(e["caption_file"]).name for e in files.values()])
    assert sorted(p.name for p in videos.iterdir()) == expected
    for rel, entry in files.items():
        assert _sha(out / rel) == entry["sha256"], rel
        assert _sha(out / entry["caption_file"]) == entry["caption_sha256"], rel
    names = {Path(r).name for r in files}
    caption = (videos / "clip30_0-30.txt").read_text()
    found = [label for label, (want, text) in generations.items()
             if names == want and caption == text]
    assert len(found) == 1, (names, caption)
    return found[0]


@pytest.mark.slow
@pytest.mark.skipif(shutil.which("strace") is None,
                    reason="strace is not installed: it injects the kill at each rename")
def test_a_reexport_killed_at_any_rename_leaves_one_whole_dataset(tmp_path, clips):
    """Issue 10 item 4: re-export after a caption edit and a trim, killed (SIGKILL from
    `strace --inject`) at the 1st, 2nd, ... rename, until it completes. After every kill the
    folder the trainer reads is the old complete dataset or the new one, never a mix."""
    root = tmp_path / "project"
    catalog = Catalog.for_project(root)
    catalog.update_settings(trigger="sks style")
    (short,) = add_source(catalog, clips[30])
    (long,) = add_source(catalog, clips[45])
    catalog.close()
    plan = tmp_path / "plan.toml"
    plan.write_text(ONE_SECTION, encoding="utf-8")
    out = tmp_path / "out"
    export = [sys.executable, "-m", "curator.cli", "--project", str(root), "-q", "export",
              str(out), "--plan", str(plan), "--workers", "1"]
    env = {**os.environ, "PYTHONPATH": str(REPO), "PYTHONDONTWRITEBYTECODE": "1"}
    subprocess.run(export, check=True, env=env, cwd=str(REPO), capture_output=True,
                   timeout=120)
    old_caption = (out / "videos" / "clip30_0-30.txt").read_text()
    catalog = Catalog.for_project(root)
    catalog.save_caption("sks style, the edited caption", clip_id=short)
    catalog.trim_clip(long, 0, 40)
    catalog.close()
    datasets = {"old": ({"clip30_0-30.mp4", "clip45_0-45.mp4"}, old_caption),
                "new": ({"clip30_0-30.mp4", "clip45_0-40.mp4"},
                        "sks style, the edited caption\n")}
    assert _whole_dataset(out, datasets) == "old"
    pristine = tmp_path / "pristine"
    shutil.copytree(out, pristine, symlinks=True)

    seen = []
    for n in range(1, 80):
        shutil.rmtree(out)
        shutil.copytree(pristine, out, symlinks=True)
        result = subprocess.run(
            ["strace", "-f", "-qq", "-o", os.devnull, "-e", "trace=rename,renameat,renameat2",
             "-e", f"inject=rename,renameat,renameat2:signal=KILL:when={n}", *export],
            env=env, cwd=str(REPO), capture_output=True, text=True, timeout=120, check=False)
        seen.append(_whole_dataset(out, datasets))
        if result.returncode == 0:
            break
        assert result.returncode != 1 and "Traceback" not in result.stderr, result.stderr
    assert result.returncode == 0, "the export never finished"
    assert seen[-1] == "new" and "old" in seen
    def killed_at(syscall: str, when: int) -> None:
        shutil.rmtree(out)
        shutil.copytree(pristine, out, symlinks=True)
        subprocess.run(["strace", "-f", "-qq", "-o", os.devnull, "-e", f"trace={syscall}",
                        "-e", f"inject={syscall}:signal=KILL:when={when}", *export],
                       env=env, cwd=str(REPO), capture_output=True, timeout=120, check=False)

    # Killed while deleting the old generation, right after the switch: the new one is whole.
    shutil.rmtree(out)
    shutil.copytree(pristine, out, symlinks=True)
    trace = tmp_path / "trace.txt"
    subprocess.run(["strace", "-f", "-qq", "-o", str(trace), "-e", "trace=rename,unlinkat",
                    *export], env=env, cwd=str(REPO), capture_output=True, timeout=120,
                   check=True)
    lines = trace.read_text().splitlines()
    switch = next(i for i, line in enumerate(lines) if 'current") = 0' in line)
    pid = lines[switch].split()[0]
    first_delete = 1 + sum(1 for line in lines[:switch]
                           if line.startswith(f"{pid} unlinkat("))
    killed_at("unlinkat", first_delete)
    assert _whole_dataset(out, datasets) == "new"
    # Killed at the switch itself, the complete new generation is left beside the current
    # one; the next export publishes again and removes what was left.
    killed_at("rename", len(seen) - 1)
    assert _whole_dataset(out, datasets) == "old"
    gens = [p for p in (out / ".curator-dataset").iterdir() if p.name.startswith("g")]
    assert len(gens) == 2
    subprocess.run(export, check=True, env=env, cwd=str(REPO), capture_output=True,
                   timeout=120)
    assert _whole_dataset(out, datasets) == "new"
    assert len(list((out / ".curator-dataset").iterdir())) == 2  # `current` and its folder
    assert not (out / ".staging").exists()


def test_exported_files_get_the_umask_mode_like_the_videos(project, tmp_path):
    """Issue 10 item 6: captions, TOML and manifest were 0600 (mkstemp); a trainer running as
    another user could not read them. Under a 022 umask every file is 0644."""
    out = tmp_path / "d"
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    result = subprocess.run(
        ["sh", "-c", 'umask 022 && exec "$@"', "sh", sys.executable, "-m", "curator.cli",
         "--project", str(project), "-q", "export", str(out)],
        env=env, cwd=str(REPO), capture_output=True, text=True, timeout=120, check=False)
    assert result.returncode == 0, result.stderr
    files = [out / "manifest.json", out / "musubi_dataset.toml",
             *(out / "videos").iterdir(), *(out / "images").iterdir()]
    assert any(p.suffix == ".txt" for p in files) and any(p.suffix == ".mp4" for p in files)
    modes = {p.name: stat.S_IMODE(os.stat(p).st_mode) for p in files}
    assert modes == dict.fromkeys(modes, 0o644)


@pytest.mark.parametrize("bad", ["clips\n", "cl\u001bips"])
def test_a_section_name_with_a_control_character_is_refused(project, tmp_path, capsys, bad):
    """Issue 10 item 7: "clips\\n" passed the name check ("$" accepts a final newline) and
    made the folder cache/clips\\n."""
    plan = tmp_path / "plan.toml"
    plan.write_text(f'name = "p"\n[[sections]]\nname = {json.dumps(bad)}\nkind = "videos"\n'
                    f'resolution = [64, 36]\n', encoding="utf-8")
    out = tmp_path / "d"
    assert _run(project, "export", str(out), "--plan", str(plan)) == 2
    err = capsys.readouterr().err
    assert str(plan) in err and "name must be letters" in err
    assert not out.exists()


def test_a_plan_name_with_a_control_character_is_refused(project, tmp_path, capsys):
    """Issue 10 item 7: a plan named with U+001B exported (exit 0) a TOML that tomllib
    rejects. It is refused, naming the plan file; a printable name exports a valid TOML."""
    plan = tmp_path / "plan.toml"
    body = '[[sections]]\nname = "v"\nkind = "videos"\nresolution = [64, 36]\n'
    plan.write_text('name = "evil\\u001b[2J"\n' + body, encoding="utf-8")
    out = tmp_path / "d"
    assert _run(project, "export", str(out), "--plan", str(plan)) == 2
    err = capsys.readouterr().err
    assert str(plan) in err and "U+001B" in err
    assert not out.exists()
    plan.write_text('name = "un plan — été\\u2028deux"\n' + body, encoding="utf-8")
    assert _run(project, "export", str(out), "--plan", str(plan)) == 0
    for config in out.glob("*.toml"):
        assert tomllib.loads(config.read_text(encoding="utf-8"))["datasets"]


@pytest.mark.parametrize("name", ["videos", "cache"])
def test_an_output_folder_whose_trainer_folder_links_elsewhere_is_refused(project, tmp_path,
                                                                         capsys, name):
    """Issue 10, degraded: `videos/` (or a cache folder) linked to another folder was written
    through. The export is refused, naming the link, and the other folder is untouched."""
    out = tmp_path / "d"
    out.mkdir()
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    (elsewhere / "precious.txt").write_text("keep me\n")
    (out / name).symlink_to(elsewhere, target_is_directory=True)
    assert _run(project, "export", str(out)) == 2
    err = capsys.readouterr().err
    assert str(out / name) in err and "link" in err
    assert sorted(p.name for p in elsewhere.iterdir()) == ["precious.txt"]
    assert (elsewhere / "precious.txt").read_text() == "keep me\n"
