"""The trigger phrase is one rule (issue 10, item 8), the same in every tool that writes or
checks captions: it starts the caption, exactly as the project spells it, once."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from curator.cli import main
from curator.core.caption_edit import find_replacements
from curator.core.captioning import clean_caption
from curator.core.catalog import Catalog
from curator.core.trigger import starts_with_trigger, with_trigger
from tests.conftest import REPO_ROOT
from tests.export_fixtures import add_image, add_source, write_clip

TRIGGER = "OHWX style"


def test_the_rule_fixes_a_wrongly_cased_trigger_and_never_doubles_it():
    assert with_trigger("ohwx style a cat", TRIGGER) == "OHWX style a cat"
    assert with_trigger("ohwx   STYLE, a cat", TRIGGER) == "OHWX style, a cat"
    assert with_trigger("OHWX style a cat", TRIGGER) == "OHWX style a cat"
    assert with_trigger("a cat", TRIGGER) == "OHWX style a cat"
    assert not starts_with_trigger("ohwx style a cat", TRIGGER)
    assert not starts_with_trigger("a cat, OHWX style", TRIGGER)
    # the model clean-up follows the same rule
    assert clean_caption("ohwx style a cat sits.", TRIGGER).text == "OHWX style a cat sits."


@pytest.fixture(scope="module")
def clip_file(tmp_path_factory) -> Path:
    return write_clip(tmp_path_factory.mktemp("trigger-media") / "film.mp4", 30, size=(64, 36))


@pytest.fixture
def root(tmp_path, clip_file) -> Path:
    root = tmp_path / "project"
    catalog = Catalog.for_project(root)
    catalog.update_settings(trigger=TRIGGER)
    add_source(catalog, clip_file, caption="OHWX style a cat")
    catalog.close()
    return root


def cli(root: Path, *argv: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "curator.cli", "--project", str(root), *argv],
                          env={**os.environ, "PYTHONPATH": str(REPO_ROOT)},
                          capture_output=True, text=True, timeout=120, check=False)


def test_caption_set_fixes_the_case_instead_of_adding_a_second_trigger(root):
    done = cli(root, "caption-set", "--clip", "1", "ohwx style a cat", "--json")
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["text"] == "OHWX style a cat"


def test_find_replace_cannot_silently_delete_the_trigger(root, capsys):
    assert main(["--project", str(root), "replace", "OHWX style", "", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    # "OHWX style a cat" → "a cat" would lose it: the change is dropped, the caption kept
    assert out["changes"] == []
    assert main(["--project", str(root), "replace", "OHWX style a", "OHWX style one",
                 "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["changes"][0]["after"] == "OHWX style one cat"
    catalog = Catalog.for_project(root)
    try:
        catalog.save_caption("OHWX style a cat in style", clip_id=1)
    finally:
        catalog.close()
    assert main(["--project", str(root), "replace", "style", "look", "--json"]) == 0
    captured = capsys.readouterr()
    change, = json.loads(captured.out)["changes"]
    assert change["after"] == "OHWX style a cat in look" and change["trigger_kept"]
    assert "the trigger phrase stays first in 1 caption" in captured.err
    catalog = Catalog.for_project(root)
    try:
        assert catalog.get_clip(1).caption == "OHWX style a cat in look"
        assert find_replacements(catalog, "OHWX style", "") == []
    finally:
        catalog.close()


@pytest.mark.slow
def test_export_refuses_captions_without_the_trigger_naming_each(root, tmp_path, clip_file):
    catalog = Catalog.for_project(root)
    bad = add_source(catalog, write_clip(tmp_path / "second.mp4", 30, size=(64, 36), seed=3),
                     caption="ohwx style a dog")[0]
    image = add_image(catalog, tmp_path / "still.png", caption="a still, OHWX style")
    catalog.close()
    out = tmp_path / "dataset"
    refused = cli(root, "export", str(out))
    assert refused.returncode != 0
    assert f"clip {bad} (" in refused.stderr and "second.mp4" in refused.stderr
    assert f"image {image} (" in refused.stderr and "still.png" in refused.stderr
    assert "clip 1 (" not in refused.stderr  # the good one is not named
    assert not (out / "musubi_dataset.toml").exists()
    allowed = cli(root, "export", str(out), "--allow-missing-trigger")
    assert allowed.returncode == 0, allowed.stderr
    assert (out / "musubi_dataset.toml").is_file()
