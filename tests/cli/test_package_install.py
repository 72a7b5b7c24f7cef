"""A built wheel, installed in a fresh venv, carries its plans, profiles and prompts.

`pip install .` used to give a `curator` that found its resources only beside a source
checkout. This builds the wheel from the package files alone, installs it (and nothing else)
into a new venv and runs the CLI from a folder outside the checkout.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import sysconfig
import zipfile
from pathlib import Path

import pytest

from tests.training_fixtures import make_dataset, make_fake_musubi, make_models

REPO_ROOT = Path(__file__).resolve().parents[2]
RESOURCES = REPO_ROOT / "curator" / "resources"


def _run(argv: list[str], cwd: Path, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    done = subprocess.run(argv, cwd=cwd, env=env, capture_output=True, text=True, timeout=240,
                          check=False)
    assert done.returncode == 0, f"{argv} failed ({done.returncode}):\n{done.stdout}{done.stderr}"
    return done


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, dict[str, str]]:
    """(venv, a folder outside the checkout, env) with Curator installed from its wheel only."""
    root = tmp_path_factory.mktemp("wheel")
    # Build from a copy: the build writes build/ and *.egg-info, never into the checkout.
    src = root / "src"
    src.mkdir()
    for name in ("pyproject.toml", "README.md"):
        shutil.copy2(REPO_ROOT / name, src / name)
    shutil.copytree(REPO_ROOT / "curator", src / "curator",
                    ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
    env = {k: v for k, v in os.environ.items()
           if k not in ("PYTHONPATH", "CURATOR_DB_URL", "CURATOR_PROJECT", "PYTHONHOME")}
    _run([sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", "--no-build-isolation",
          "--no-index", "-w", str(root / "dist"), str(src)], cwd=root, env=env)
    wheel, = (root / "dist").glob("curator-*.whl")

    venv = root / "venv"
    _run([sys.executable, "-m", "venv", "--without-pip", str(venv)], cwd=root, env=env)
    python = venv / "bin" / "python"
    site = _run([str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                cwd=root, env=env).stdout.strip()
    # The dependencies (PySide6, SQLAlchemy, ...) come from this interpreter's site-packages,
    # appended after the new venv's own: a .pth line is a plain path, so the editable
    # install's finder there is never run and `curator` can only come from the wheel.
    shared = dict.fromkeys([sysconfig.get_paths()["purelib"], sysconfig.get_paths()["platlib"]])
    Path(site, "zz_shared_dependencies.pth").write_text("\n".join(shared) + "\n")
    _run([sys.executable, "-m", "pip", "--python", str(python), "install", "--quiet",
          "--no-deps", "--no-index", str(wheel)], cwd=root, env=env)
    outside = root / "elsewhere"
    outside.mkdir()
    return venv, outside, env


@pytest.mark.slow
def test_the_wheel_holds_every_resource(installed):
    _, outside, _ = installed
    wheel, = (outside.parent / "dist").glob("curator-*.whl")
    names = set(zipfile.ZipFile(wheel).namelist())
    shipped = {p.relative_to(REPO_ROOT).as_posix() for p in RESOURCES.rglob("*")
               if p.is_file() and p.suffix in (".txt", ".toml")}
    assert shipped and shipped <= names, sorted(shipped - names)


@pytest.mark.slow
def test_curator_from_the_wheel_finds_its_presets_outside_the_checkout(installed):
    venv, outside, env = installed
    where = _run([str(venv / "bin" / "python"), "-c", "import curator; print(curator.__file__)"],
                 cwd=outside, env=env).stdout.strip()
    assert Path(where).is_relative_to(venv), f"curator imported from {where}, not the wheel"

    curator = str(venv / "bin" / "curator")
    listed = _run([curator, "--project", str(outside / "project"), "plan", "presets"],
                  cwd=outside, env=env).stdout
    plans = sorted(p.stem for p in (RESOURCES / "presets" / "datasets").glob("*.toml"))
    assert plans
    for name in plans:
        assert f"{name}:" in listed, listed

    models = make_models(outside / "models")
    trainer = make_fake_musubi(outside / "musubi-tuner")
    dry = _run([curator, "--project", str(outside / "project"), "train", "--profile",
                "wan21-14b-style-24gb", "--trainer-dir", str(trainer), "--python", sys.executable,
                "--dit", str(models["dit"]), "--vae", str(models["vae"]), "--t5",
                str(models["t5"]), "--dataset-config", str(make_dataset(outside / "export")),
                "--output-dir", str(outside / "out"), "--dry-run", "--json"],
               cwd=outside, env=env).stdout
    report = json.loads(dry)
    assert report["profile"] == "wan21-14b-style-24gb"
    assert [step["name"] for step in report["steps"]] == ["cache-latents", "cache-text", "train"]
    assert not [p for p in report["problems"] if p["severity"] == "error"]


@pytest.mark.slow
def test_the_default_caption_prompts_come_from_the_wheel(installed):
    venv, outside, env = installed
    code = ("from curator.core.captioning.prompts import default_prompt; "
            "print(default_prompt('video'))")
    text = _run([str(venv / "bin" / "python"), "-c", code], cwd=outside, env=env).stdout.strip()
    assert text == (RESOURCES / "prompts" / "video.txt").read_text(encoding="utf-8").strip()
