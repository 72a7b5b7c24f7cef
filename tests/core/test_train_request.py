"""`TrainRequest`: what `curator train` and the Train tab both build and validate (TRAINERS.md
§0: nothing runs before its files and settings are checked)."""

from __future__ import annotations

import sys

from curator.core.export.trainer_config import MUSUBI_CONFIG_NAME
from curator.core.training import TrainRequest
from curator.core.training.profile import load_profile
from curator.core.training.validate import errors
from tests.training_fixtures import make_dataset, make_fake_musubi, make_models


def test_a_request_checks_here_or_for_another_machine_and_finds_the_export(tmp_path):
    models = make_models(tmp_path / "models")
    trainer = make_fake_musubi(tmp_path / "musubi-tuner")
    dataset = make_dataset(tmp_path / "export")
    dataset = dataset.rename(dataset.with_name(MUSUBI_CONFIG_NAME))  # as `curator export` names it
    profile = load_profile("wan21-14b-style-24gb").replace(
        trainer_dir=str(trainer), python=sys.executable, dit=str(models["dit"]),
        vae=str(models["vae"]), t5=str(models["t5"]), output_dir=str(tmp_path / "out"))

    # No dataset config in the profile: the project's export folder gives it.
    plan = TrainRequest(profile, tmp_path, export_root=str(dataset.parent)).validate()
    assert plan.ready and plan.profile.dataset_config == str(dataset)
    assert [s.name for s in plan.steps] == ["cache-latents", "cache-text", "train"]

    elsewhere = profile.replace(dit="/other/machine/dit.safetensors",
                                dataset_config=str(dataset))
    here = TrainRequest(elsewhere, tmp_path).validate()
    assert ("dit", "missing") in [(p.field, p.code) for p in errors(here.problems)]
    script = TrainRequest(elsewhere, tmp_path, remote=True).validate()
    assert script.ready and ("dit", "not_here") in [(p.field, p.code) for p in script.problems]

    # Only the steps asked for are built and checked.
    latents = TrainRequest(profile.replace(dit="", dataset_config=str(dataset)), tmp_path,
                           "cache-latents").validate()
    assert latents.ready and [s.name for s in latents.steps] == ["cache-latents"]
