"""Validation before anything runs: the rules of TRAINERS.md §0, §1.3, §2.4, with fix-its."""

from __future__ import annotations

import json
import os
import sys

import pytest

from curator.core.training.profile import load_profile
from curator.core.training.validate import (
    errors,
    inspect_dataset_config,
    inspect_diffusion_pipe_dataset,
    validate_profile,
)
from tests.training_fixtures import make_dataset, make_fake_musubi, make_models


@pytest.fixture
def ready(tmp_path):
    """The 24 GB preset with every file it needs present: no errors."""
    models = make_models(tmp_path / "models")
    trainer = make_fake_musubi(tmp_path / "musubi-tuner")
    dataset = make_dataset(tmp_path / "export")
    return load_profile("wan21-14b-style-24gb").replace(
        trainer_dir=str(trainer), python=sys.executable, dit=str(models["dit"]),
        vae=str(models["vae"]), t5=str(models["t5"]), dataset_config=str(dataset),
        output_dir=str(tmp_path / "out")), models


def messages(profile, **kwargs):
    return [p.message for p in errors(validate_profile(profile, **kwargs))]


def codes(profile, **kwargs):
    """(field, code) of each error: what the rules found, whatever the wording."""
    return [(p.field, p.code) for p in errors(validate_profile(profile, **kwargs))]


def test_a_complete_profile_has_no_errors(ready):
    profile, _ = ready
    assert messages(profile) == []


def test_missing_files_say_which_option_fixes_them(ready, tmp_path):
    profile, _ = ready
    broken = profile.replace(dit=str(tmp_path / "nope.safetensors"), t5="")
    assert set(codes(broken)) == {("dit", "missing"), ("t5", "not_set")}
    found = messages(broken)
    assert any("DiT model" in m and "--dit" in m for m in found)
    assert any("T5" in m and "--t5" in m for m in found)
    # Only files the chosen steps read are required (§2.2: caching latents needs no DiT).
    assert messages(profile.replace(dit=""), steps="cache-latents") == []
    # For a script run elsewhere, missing files are warnings.
    remote = validate_profile(profile.replace(dit="/other/machine/dit.safetensors"),
                              check_files=False)
    assert not errors(remote) and ("dit", "not_here") in [(p.field, p.code) for p in remote]


def test_fp8_scaled_needs_fp8_base(ready):
    profile, _ = ready
    assert codes(profile.replace(fp8_base=False)) == [("fp8_scaled", "needs_fp8_base")]
    (message,) = messages(profile.replace(fp8_base=False))
    assert "fp8_base" in message


def test_sage_attention_is_refused_with_an_alternative(ready):
    profile, _ = ready
    assert codes(profile.replace(attention="sage_attn")) == [("attention", "sage_attention")]
    (message,) = messages(profile.replace(attention="sage_attn"))
    assert "sdpa" in message  # the alternative is named
    assert codes(profile.replace(extra_train_args=["--sage_attn"])) == [
        ("extra_train_args", "sage_attention")]


@pytest.mark.parametrize("value, hint", [(0.875, "write 875"), (1200, "outside 0-1000"),
                                         ("0.9", "write 900")])
def test_timestep_boundary_must_be_an_integer(ready, models_a14b, value, hint):
    profile = models_a14b.replace(timestep_boundary=value)
    assert codes(profile) == [("timestep_boundary",
                               "out_of_range" if value == 1200 else "not_integer")]
    (message,) = messages(profile)
    assert hint in message


def test_timestep_boundary_in_extra_arguments_is_checked_too(ready, models_a14b):
    (message,) = messages(models_a14b.replace(extra_train_args=["--timestep_boundary", "0.875"]))
    assert "write 875" in message


@pytest.fixture
def models_a14b(ready):
    profile, models = ready
    return profile.replace(task="t2v-A14B", dit=str(models["dit_low"]),
                           dit_high_noise=str(models["dit_high"]), timestep_boundary=875,
                           mixed_precision="fp16", blocks_to_swap=25)


def test_the_wan22_pair_with_boundary_875_is_valid(models_a14b):
    assert messages(models_a14b) == []


@pytest.mark.parametrize("task, swap, ok", [("t2v-14B", 39, True), ("t2v-14B", 40, False),
                                            ("t2v-1.3B", 29, True), ("t2v-1.3B", 30, False)])
def test_blocks_to_swap_limits(ready, task, swap, ok):
    profile, _ = ready
    assert (codes(profile.replace(task=task, blocks_to_swap=swap)) == []) is ok
    found = messages(profile.replace(task=task, blocks_to_swap=swap))
    if not ok:
        assert codes(profile.replace(task=task, blocks_to_swap=swap)) == [
            ("blocks_to_swap", "too_many")]
    if not ok:
        assert f"at most {39 if task == 't2v-14B' else 29}" in found[0]


def test_offload_inactive_dit_is_not_allowed_with_block_swap(models_a14b):
    assert codes(models_a14b.replace(offload_inactive_dit=True)) == [
        ("offload_inactive_dit", "with_block_swap")]
    assert messages(models_a14b.replace(offload_inactive_dit=True, blocks_to_swap=0)) == []


def test_task_must_be_one_of_the_choices(ready):
    profile, _ = ready
    assert codes(profile.replace(task="ti2v-5B")) == [("task", "unknown_task")]
    (message,) = messages(profile.replace(task="ti2v-5B"))
    assert "t2v-14B" in message  # the choices are listed


def test_dit_high_noise_is_only_for_wan22(ready):
    profile, models = ready
    assert codes(profile.replace(dit_high_noise=str(models["dit_high"]))) == [
        ("dit_high_noise", "not_wan22")]


def test_sampling_needs_vae_t5_and_a_valid_prompt_file(ready, tmp_path):
    profile, _ = ready
    prompts = tmp_path / "prompts.txt"
    prompts.write_text("Studio Ghibli style. a fox --w 384 --h 200 --f 44 --d 1 --s 20\n")
    found = messages(profile.replace(sample_prompts=str(prompts)))
    assert any("--h 200 is not a multiple of 16" in m for m in found)
    assert any("--f 44 is not 4n+1" in m for m in found)
    assert any("--fs is missing" in m for m in found) and any("--l is missing" in m
                                                              for m in found)
    prompts.write_text("Studio Ghibli style. a fox --w 384 --h 208 --f 45 --d 1 --s 20 "
                       "--l 5.0 --fs 3.0\n")
    assert messages(profile.replace(sample_prompts=str(prompts))) == []
    found = messages(profile.replace(sample_prompts=str(prompts), vae=""), steps="train")
    assert any("VAE, which sampling needs" in m for m in found)


def test_the_dataset_config_must_exist_and_its_folders_hold_captioned_clips(ready, tmp_path):
    profile, _ = ready
    (message,) = messages(profile.replace(dataset_config=str(tmp_path / "none.toml")))
    assert "does not exist" in message and "curator export" in message
    uncaptioned = make_dataset(tmp_path / "half", clips=4, captions=2)
    (message,) = messages(profile.replace(dataset_config=str(uncaptioned)))
    assert "2 of 4 clips have no .txt caption" in message and "crashes" in message


def test_dataset_summary_counts_files_and_captions(tmp_path):
    path = make_dataset(tmp_path / "export", clips=3, images=2)
    summary = inspect_dataset_config(path, cwd=tmp_path)
    assert [(s.kind, s.media_files, s.captioned) for s in summary.sections] == [
        ("video", 3, 3), ("image", 2, 2)]
    assert summary.media_files == 5
    # A config written by hand has no export counts: a warning, not an error.
    (problem,) = summary.problems
    assert problem.severity == "warning" and "re-export" in problem.message
    assert summary.items is None


def test_dataset_counts_come_from_the_export_manifest(tmp_path):
    path = make_dataset(tmp_path / "export", clips=3)
    manifest = {"curator_export": 1, "config": path.name, "trainer": "musubi",
                "counts": {"total_items": 1078, "total_batches": 1078, "steps_per_epoch": 1078,
                           "sections": []}}
    (path.parent / "manifest.json").write_text(json.dumps(manifest))
    summary = inspect_dataset_config(path, cwd=tmp_path)
    assert summary.problems == ()
    assert (summary.items, summary.steps_per_epoch) == (1078, 1078)
    # Edited after the export: the counts may be stale, so they are not used.
    later = path.stat().st_mtime + 60
    os.utime(path, (later, later))
    assert inspect_dataset_config(path, cwd=tmp_path).items is None


def test_dataset_rules_of_section_1(tmp_path):
    clips = tmp_path / "clips"
    clips.mkdir()
    (clips / "a.mp4").write_bytes(b"\x00")
    (clips / "a.txt").write_text("x")
    path = tmp_path / "d.toml"
    path.write_text(f'[general]\ncaption_extension = ".txt"\ntarget_frames = [45]\n'
                    f'[[datasets]]\nvideo_directory = "{clips}"\nsource_fps = 30\n'
                    f'[[datasets]]\nvideo_directory = "{clips}"\n')
    found = [p.message for p in errors(inspect_dataset_config(path, cwd=tmp_path).problems)]
    assert any("'target_frames' is in [general]" in m for m in found)  # §0.4
    assert any("source_fps = 30 must be written as a float (30.0)" in m for m in found)
    assert any("share the cache directory" in m for m in found)  # §0.5
    relative = tmp_path / "r.toml"
    relative.write_text('[general]\ncaption_extension = ".txt"\n'
                        '[[datasets]]\nvideo_directory = "clips"\ncache_directory = "c"\n')
    (message,) = [p.message for p in errors(inspect_dataset_config(relative,
                                                                   cwd=tmp_path / "x").problems)]
    assert "relative paths resolve against the trainer's folder" in message


def test_diffusion_pipe_profile_checks(tmp_path):
    models = make_models(tmp_path / "models")
    checkout = tmp_path / "diffusion-pipe"
    checkout.mkdir()
    (checkout / "train.py").write_text("")
    ckpt = tmp_path / "Wan2.1-T2V-14B"
    ckpt.mkdir()
    (ckpt / "config.json").write_text("{}")
    clips = tmp_path / "clips"
    clips.mkdir()
    (clips / "a.mp4").write_bytes(b"\x00")
    dataset = tmp_path / "dp.toml"
    dataset.write_text(f'resolutions = [512]\n[[directory]]\npath = "{clips}"\n')
    deepspeed = tmp_path / "deepspeed"
    deepspeed.write_text("#!/bin/sh\n")
    deepspeed.chmod(0o755)
    profile = load_profile("dp-wan21-14b-24gb").replace(
        trainer_dir=str(checkout), python=sys.executable,
        dp_deepspeed=str(deepspeed), dp_ckpt_path=str(ckpt), dit=str(models["dit"]),
        dataset_config=str(dataset), output_dir=str(tmp_path / "out"))
    (message,) = messages(profile)
    assert "all 1 videos are dropped" in message  # §4.1: default frame_buckets = [1]
    dataset.write_text(f'resolutions = [512]\nframe_buckets = [1, 33]\n[[directory]]\n'
                       f'path = "{clips}"\n')
    assert messages(profile) == []
    assert inspect_diffusion_pipe_dataset(dataset).sections[0].media_files == 1
    (message,) = messages(profile.replace(dit_high_noise=str(models["dit_high"])))
    assert "one Wan2.2 expert per run" in message
