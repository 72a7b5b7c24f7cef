"""Training profiles: presets, TOML in the project, `extends`, overrides, path resolution."""

from __future__ import annotations

import tomllib
from pathlib import Path

import pytest

from curator.core.training.profile import (
    ProfileError,
    TrainingProfile,
    list_presets,
    list_profiles,
    load_profile,
    project_profile_path,
    save_profile,
)


@pytest.mark.parametrize("name", list_presets())
def test_every_preset_loads_and_round_trips(name, tmp_path):
    profile = load_profile(name)
    assert profile.name == name and profile.title
    path = save_profile(tmp_path, profile)
    assert path == tmp_path / "training" / f"{name}.toml"
    assert load_profile(name, tmp_path) == profile


def test_a_project_profile_extends_a_preset_and_hides_nothing_else(tmp_path):
    path = project_profile_path(tmp_path, "mine")
    path.parent.mkdir(parents=True)
    path.write_text('extends = "wan21-14b-style-24gb"\n'
                    '[models]\ndit = "models/dit.safetensors"\n'
                    '[memory]\nblocks_to_swap = 20\n')
    profile = load_profile("mine", tmp_path)
    preset = load_profile("wan21-14b-style-24gb")
    assert profile.name == "mine"
    assert (profile.dit, profile.blocks_to_swap) == ("models/dit.safetensors", 20)
    assert (profile.learning_rate, profile.seed, profile.fp8_scaled) == (
        preset.learning_rate, preset.seed, preset.fp8_scaled)
    assert ("mine", "project") in list_profiles(tmp_path)


def test_unknown_or_mistyped_settings_are_errors_that_name_the_key(tmp_path):
    path = tmp_path / "bad.toml"
    path.write_text('[memory]\nblocks_to_swapp = 10\n')
    with pytest.raises(ProfileError, match="blocks_to_swapp.*blocks_to_swap"):
        load_profile(str(path))
    path.write_text('[memory]\nfp8_base = "yes"\n')
    with pytest.raises(ProfileError, match="true or false"):
        load_profile(str(path))
    with pytest.raises(ProfileError, match="no training profile named 'nope'"):
        load_profile("nope", tmp_path)


def test_an_extends_loop_is_reported(tmp_path):
    for a, b in (("a", "b"), ("b", "a")):
        path = project_profile_path(tmp_path, a)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(f'extends = "{b}"\n')
    with pytest.raises(ProfileError, match="loop"):
        load_profile("a", tmp_path)


def test_set_assignments_are_typed():
    profile = load_profile("wan21-14b-style-24gb")
    changed = (profile.with_setting("memory.blocks_to_swap=20")
               .with_setting("network_args=[\"loraplus_lr_ratio=4\"]")
               .with_setting("saving.save_state=true")
               .with_setting("saving.output_name=my style"))
    assert changed.blocks_to_swap == 20 and changed.save_state is True
    assert changed.network_args == ["loraplus_lr_ratio=4"]
    assert changed.output_name == "my style"
    assert profile.blocks_to_swap == 10  # the original is untouched
    with pytest.raises(ProfileError, match="whole number"):
        profile.with_setting("memory.blocks_to_swap=ten")
    with pytest.raises(ProfileError, match="no such setting"):
        profile.with_setting("swap=3")


def test_a_fractional_boundary_is_kept_for_validation_to_explain():
    profile = load_profile("wan22-t2v-a14b-24gb").with_setting("timesteps.boundary=0.875")
    assert profile.timestep_boundary == 0.875


def test_relative_paths_resolve_against_the_project_and_commands_stay_bare(tmp_path):
    profile = TrainingProfile(dit="models/dit.safetensors", output_dir="training/out",
                              python="python3", trainer_dir="/opt/musubi")
    resolved = profile.resolved(tmp_path)
    assert resolved.dit == str(tmp_path / "models" / "dit.safetensors")
    assert resolved.output_dir == str(tmp_path / "training" / "out")
    assert resolved.trainer_dir == "/opt/musubi" and resolved.python == "python3"
    assert TrainingProfile(python="venv/bin/python").resolved(tmp_path).python == str(
        tmp_path / "venv" / "bin" / "python")


def test_saved_toml_is_sectioned_and_leaves_out_unset_values(tmp_path):
    profile = load_profile("wan21-14b-style-24gb").replace(dit="/m/dit.safetensors")
    data = tomllib.loads(Path(save_profile(tmp_path, profile, "saved")).read_text())
    assert data["name"] == "saved"
    assert data["models"]["dit"] == "/m/dit.safetensors"
    assert data["memory"]["blocks_to_swap"] == 10
    assert "boundary" not in data["timesteps"]  # None is left out, not written as a value
    with pytest.raises(ProfileError, match="file name"):
        save_profile(tmp_path, profile, "../escape")
