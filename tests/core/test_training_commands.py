"""Command lines built from every preset, checked against the trainer's options (TRAINERS.md §2).

The tables below are transcribed from TRAINERS.md §2.2 (wan_cache_latents), §2.3
(wan_cache_text_encoder_outputs), §2.4 (wan_train_network) and §2.6 (command lines the trainer's
own argparse accepts and rejects). Each table becomes a real `argparse.ArgumentParser` with the
same types and choices, so an unknown option, a value of the wrong type (`--timestep_boundary
0.875`) or an invalid choice fails here the way the trainer's parser fails.
"""

from __future__ import annotations

import argparse
import json
import shlex
import subprocess
import sys
from pathlib import Path

import pytest
import tomli_w

from curator.core.training.commands import (
    build_steps,
    diffusion_pipe_config,
    export_script,
    train_argv,
)
from curator.core.training.profile import TrainingProfile, list_presets, load_profile

FLAG, PATH, STR, INT, FLOAT = "flag", "path", "str", "int", "float"


def _int_or_float(text: str) -> float:  # §2.4 lr_warmup_steps: "an int, or a float < 1"
    return float(text)


# §2.2: common options (cache_latents.setup_parser_common) and the Wan options.
CACHE_LATENTS = {
    "--dataset_config": PATH, "--vae": PATH, "--vae_dtype": STR, "--device": STR,
    "--batch_size": INT, "--num_workers": INT, "--skip_existing": FLAG, "--keep_cache": FLAG,
    "--debug_mode": ("image", "console", "video"), "--console_width": INT,
    "--console_back": STR, "--console_num_images": INT, "--disable_cudnn_backend": FLAG,
    "--vae_cache_cpu": FLAG, "--i2v": FLAG, "--clip": PATH, "--one_frame": FLAG,
}
CACHE_LATENTS_REQUIRED = ("--dataset_config",)

# §2.3
CACHE_TEXT = {
    "--dataset_config": PATH, "--t5": PATH, "--fp8_t5": FLAG, "--batch_size": INT,
    "--device": STR, "--num_workers": INT, "--skip_existing": FLAG, "--keep_cache": FLAG,
}
CACHE_TEXT_REQUIRED = ("--dataset_config", "--t5")  # §2.6: "required: --t5"

# §2.4: Wan-specific options, then the common options used for Wan.
TASKS = ("t2v-14B", "t2v-1.3B", "i2v-14B", "t2i-14B", "flf2v-14B", "t2v-1.3B-FC", "t2v-14B-FC",
         "i2v-14B-FC", "t2v-A14B", "i2v-A14B")
TRAIN = {
    "--task": TASKS, "--fp8_scaled": FLAG, "--t5": PATH, "--fp8_t5": FLAG, "--clip": PATH,
    "--vae_cache_cpu": FLAG, "--one_frame": FLAG, "--force_v2_1_time_embedding": FLAG,
    "--dit_high_noise": PATH, "--timestep_boundary": INT, "--offload_inactive_dit": FLAG,
    # Models, data
    "--dit": PATH, "--vae": PATH, "--vae_dtype": STR, "--dataset_config": PATH,
    "--config_file": PATH,
    # Attention (--sage_attn exists in the parser but training refuses it: not listed here)
    "--sdpa": FLAG, "--xformers": FLAG, "--flash_attn": FLAG, "--flash3": FLAG,
    "--split_attn": FLAG,
    # Memory
    "--fp8_base": FLAG, "--blocks_to_swap": INT, "--use_pinned_memory_for_block_swap": FLAG,
    "--block_swap_h2d_only": FLAG, "--block_swap_ring_size": INT,
    "--gradient_checkpointing": FLAG, "--gradient_checkpointing_cpu_offload": FLAG,
    "--img_in_txt_in_offloading": FLAG, "--disable_numpy_memmap": FLAG,
    # Precision
    "--mixed_precision": ("no", "fp16", "bf16"), "--save_precision": ("float", "fp32", "fp16",
                                                                      "bf16"),
    # Network
    "--network_module": STR, "--network_dim": INT, "--network_alpha": FLOAT,
    "--network_dropout": FLOAT, "--network_weights": PATH, "--dim_from_weights": PATH,
    "--scale_weight_norms": FLOAT, "--training_comment": STR, "--no_metadata": FLAG,
    "--network_args": "kv*",
    # Optimizer
    "--optimizer_type": STR, "--optimizer_args": "kv*", "--learning_rate": FLOAT,
    "--max_grad_norm": FLOAT,
    "--lr_scheduler": ("constant", "linear", "cosine", "cosine_with_restarts", "polynomial",
                       "constant_with_warmup", "adafactor", "rex"),
    "--lr_warmup_steps": _int_or_float, "--lr_decay_steps": _int_or_float,
    "--lr_scheduler_num_cycles": INT, "--lr_scheduler_power": FLOAT,
    "--lr_scheduler_min_lr_ratio": FLOAT,
    # Timesteps
    "--timestep_sampling": ("sigma", "uniform", "sigmoid", "shift", "flux_shift", "flux2_shift",
                            "qwen_shift", "ideogram4_shift", "krea2_shift", "logsnr",
                            "qinglong_flux", "qinglong_qwen"),
    "--discrete_flow_shift": FLOAT, "--sigmoid_scale": FLOAT,
    "--weighting_scheme": ("none", "logit_normal", "mode", "cosmap", "sigma_sqrt"),
    "--min_timestep": INT, "--max_timestep": INT, "--preserve_distribution_shape": FLAG,
    "--num_timestep_buckets": INT,
    # Loop
    "--max_train_steps": INT, "--max_train_epochs": INT, "--gradient_accumulation_steps": INT,
    "--seed": INT, "--max_data_loader_n_workers": INT, "--persistent_data_loader_workers": FLAG,
    # Saving
    "--output_dir": PATH, "--output_name": STR, "--save_every_n_epochs": INT,
    "--save_every_n_steps": INT, "--save_last_n_epochs": INT, "--save_last_n_steps": INT,
    "--save_state": FLAG, "--save_state_on_train_end": FLAG, "--resume": PATH,
    # Logging
    "--logging_dir": PATH, "--log_with": ("tensorboard", "wandb", "all"), "--log_prefix": STR,
    "--log_tracker_name": STR, "--log_config": FLAG,
    # Sampling
    "--sample_prompts": PATH, "--sample_every_n_epochs": INT, "--sample_every_n_steps": INT,
    "--sample_at_first": FLAG,
}
TRAIN_REQUIRED_AT_RUN_TIME = ("--dit", "--dataset_config")  # §2.4 prechecks

# §2.1: `accelerate launch --num_cpu_threads_per_process 1 --mixed_precision bf16 <script>`
ACCELERATE = {"--num_cpu_threads_per_process": INT, "--mixed_precision": ("no", "fp16", "bf16")}


def trainer_parser(table: dict, required: tuple[str, ...] = ()) -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(exit_on_error=False, allow_abbrev=False, add_help=False)
    for option, kind in table.items():
        kwargs: dict = {"required": option in required}
        if kind == FLAG:
            kwargs["action"] = "store_true"
        elif kind == "kv*":
            kwargs["nargs"] = "*"
        elif isinstance(kind, tuple):
            kwargs["choices"] = kind
        else:
            kwargs["type"] = {PATH: str, STR: str, INT: int, FLOAT: float}.get(kind, kind)
        parser.add_argument(option, **kwargs)
    return parser


class Rejected(Exception):
    pass


def parse_like_trainer(table: dict, argv: list[str], required: tuple[str, ...] = ()
                       ) -> argparse.Namespace:
    parser = trainer_parser(table, required)
    parser.error = lambda message: (_ for _ in ()).throw(Rejected(message))  # type: ignore
    try:
        return parser.parse_args(argv)
    except argparse.ArgumentError as exc:
        raise Rejected(str(exc)) from exc


def filled(profile: TrainingProfile, tmp_path: Path) -> TrainingProfile:
    """A preset with its model paths filled in, as a person would."""
    models = tmp_path / "models"
    return profile.replace(
        trainer_dir=str(tmp_path / "musubi-tuner"), python="/venv/bin/python",
        dit=str(models / "dit.safetensors"),
        dit_high_noise=str(models / "high.safetensors") if profile.task.endswith("A14B") else "",
        vae=str(models / "wan_2.1_vae.safetensors"), t5=str(models / "t5.pth"),
        clip=str(models / "clip.pth"), dataset_config=str(tmp_path / "dataset.toml"),
        sample_prompts=str(tmp_path / "prompts.txt"), dp_ckpt_path=str(models / "Wan2.1-T2V-14B"),
    ).resolved(tmp_path)


MUSUBI_PRESETS = [n for n in list_presets() if load_profile(n).trainer == "musubi-tuner"]


def test_the_presets_the_issue_asks_for_exist():
    presets = list_presets()
    assert "wan21-14b-style-24gb" in presets
    tasks = {load_profile(n).task for n in presets}
    assert {"t2v-14B", "t2v-1.3B", "t2v-A14B"} <= tasks
    titles = " ".join(load_profile(n).title for n in presets)
    assert "24 GB" in titles and "48 GB" in titles and "80 GB" in titles
    assert any(load_profile(n).trainer == "diffusion-pipe" for n in presets)


@pytest.mark.parametrize("name", MUSUBI_PRESETS)
def test_every_preset_builds_commands_the_trainer_parser_accepts(name, tmp_path):
    profile = filled(load_profile(name), tmp_path)
    steps = {s.name: s for s in build_steps(profile)}
    assert list(steps) == ["cache-latents", "cache-text", "train"]  # §2.1 order

    latents = list(steps["cache-latents"].argv)
    assert latents[1].endswith("src/musubi_tuner/wan_cache_latents.py")
    parse_like_trainer(CACHE_LATENTS, latents[2:], CACHE_LATENTS_REQUIRED)

    text = list(steps["cache-text"].argv)
    assert text[1].endswith("src/musubi_tuner/wan_cache_text_encoder_outputs.py")
    parse_like_trainer(CACHE_TEXT, text[2:], CACHE_TEXT_REQUIRED)

    train = list(steps["train"].argv)
    assert train[:3] == ["/venv/bin/python", "-m", "accelerate.commands.launch"]
    script_at = next(i for i, w in enumerate(train) if w.endswith("wan_train_network.py"))
    launch = parse_like_trainer(ACCELERATE, train[3:script_at])
    args = parse_like_trainer(TRAIN, train[script_at + 1:], TRAIN_REQUIRED_AT_RUN_TIME)
    assert launch.mixed_precision == args.mixed_precision
    assert "--sage_attn" not in train  # §2.4: training raises ValueError with it
    assert sum(w in train for w in ("--sdpa", "--xformers", "--flash_attn", "--flash3")) == 1
    assert not args.fp8_scaled or args.fp8_base  # §2.4 prechecks
    assert args.blocks_to_swap is None or args.blocks_to_swap <= (
        29 if "1.3B" in args.task else 39)
    assert not (args.offload_inactive_dit and args.blocks_to_swap)
    for step in steps.values():
        assert step.cwd == profile.trainer_dir
        assert step.env["PYTHONPATH"] == str(Path(profile.trainer_dir) / "src")


def test_the_24gb_preset_is_the_layout_the_issue_describes(tmp_path):
    profile = filled(load_profile("wan21-14b-style-24gb"), tmp_path)
    assert profile.title == "Wan2.1 T2V 14B style LoRA on 24 GB"
    train = list(train_argv(profile))
    script_at = next(i for i, w in enumerate(train) if w.endswith("wan_train_network.py"))
    args = parse_like_trainer(TRAIN, train[script_at + 1:], TRAIN_REQUIRED_AT_RUN_TIME)
    assert (args.task, args.fp8_base, args.fp8_scaled, args.blocks_to_swap) == (
        "t2v-14B", True, True, 10)
    assert args.optimizer_type.lower() == "adamw8bit" and args.learning_rate == 5e-5
    assert (args.network_module, args.network_dim, args.network_alpha) == (
        "networks.lora_wan", 32, 32.0)
    assert (args.timestep_sampling, args.discrete_flow_shift) == ("shift", 3.0)
    assert args.sdpa and args.gradient_checkpointing
    assert (args.save_every_n_epochs, args.seed) == (1, 2025)
    assert args.sample_prompts and args.sample_every_n_epochs == 1


@pytest.mark.parametrize("name", [n for n in MUSUBI_PRESETS if "wan22" in n])
def test_wan22_presets_pass_an_integer_boundary_and_both_experts(name, tmp_path):
    profile = filled(load_profile(name), tmp_path)
    train = list(train_argv(profile))
    value = train[train.index("--timestep_boundary") + 1]
    assert value == "875" and int(value) == 875  # §0.10: type=int
    assert "--dit_high_noise" in train


def test_the_table_rejects_what_the_trainer_rejects():
    # §2.6: rejected by argparse.
    base = ["--dit", "d", "--dataset_config", "x.toml"]
    with pytest.raises(Rejected):
        parse_like_trainer(TRAIN, [*base, "--timestep_boundary", "0.875"])
    with pytest.raises(Rejected):
        parse_like_trainer(TRAIN, [*base, "--task", "t2v-15B"])
    with pytest.raises(Rejected):
        parse_like_trainer(TRAIN, [*base, "--not_an_option"])
    with pytest.raises(Rejected):
        parse_like_trainer(CACHE_TEXT, ["--dataset_config", "d.toml"], CACHE_TEXT_REQUIRED)
    # §2.6: accepted command lines.
    parse_like_trainer(CACHE_LATENTS, ["--dataset_config", "d.toml", "--vae", "v", "--batch_size",
                                       "4", "--skip_existing"], CACHE_LATENTS_REQUIRED)
    parse_like_trainer(TRAIN, [*base, "--task", "t2v-A14B", "--dit_high_noise", "high",
                               "--timestep_boundary", "875", "--offload_inactive_dit"])


def test_a_fractional_boundary_read_as_integral_float_is_written_as_int(tmp_path):
    profile = filled(load_profile("wan22-t2v-a14b-24gb"), tmp_path).replace(
        timestep_boundary=875.0)
    train = list(train_argv(profile))
    assert train[train.index("--timestep_boundary") + 1] == "875"


def test_i2v_tasks_cache_with_i2v_and_wan21_adds_clip(tmp_path):
    profile = filled(load_profile("wan21-14b-style-24gb"), tmp_path).replace(task="i2v-14B")
    latents = list(build_steps(profile, "cache-latents")[0].argv)
    assert "--i2v" in latents and latents[latents.index("--clip") + 1] == profile.clip
    wan22 = profile.replace(task="i2v-A14B")
    latents = list(build_steps(wan22, "cache-latents")[0].argv)
    assert "--i2v" in latents and "--clip" not in latents  # §2.2: Wan2.2 needs no CLIP
    parse_like_trainer(CACHE_LATENTS, latents[2:], CACHE_LATENTS_REQUIRED)


def test_save_state_resume_and_extra_arguments_pass_through(tmp_path):
    profile = filled(load_profile("wan21-14b-style-24gb"), tmp_path).replace(
        save_state=True, resume=str(tmp_path / "out" / "x-000004-state"),
        network_args=["loraplus_lr_ratio=4", "exclude_patterns=[r'.*(img_emb).*']"],
        extra_train_args=["--max_grad_norm", "0.5"])
    train = list(train_argv(profile))
    script_at = next(i for i, w in enumerate(train) if w.endswith("wan_train_network.py"))
    args = parse_like_trainer(TRAIN, train[script_at + 1:])
    assert args.save_state and args.resume.endswith("x-000004-state")
    assert args.network_args == ["loraplus_lr_ratio=4", "exclude_patterns=[r'.*(img_emb).*']"]
    assert args.max_grad_norm == 0.5


def test_one_step_only(tmp_path):
    profile = filled(load_profile("wan21-14b-style-24gb"), tmp_path)
    assert [s.name for s in build_steps(profile, "cache-text")] == ["cache-text"]
    with pytest.raises(ValueError, match="unknown step"):
        build_steps(profile, "cook")


def test_the_root_wrapper_is_used_when_only_it_exists(tmp_path):
    checkout = tmp_path / "musubi-tuner"
    checkout.mkdir()
    (checkout / "wan_train_network.py").write_text("")
    profile = filled(load_profile("wan21-14b-style-24gb"), tmp_path)
    train = list(train_argv(profile))
    assert str(checkout / "wan_train_network.py") in train


def test_the_trainer_venv_python_is_found(tmp_path):
    checkout = tmp_path / "musubi-tuner"
    (checkout / ".venv" / "bin").mkdir(parents=True)
    (checkout / ".venv" / "bin" / "python").write_text("")
    profile = filled(load_profile("wan21-14b-style-24gb"), tmp_path).replace(python="")
    assert build_steps(profile)[0].argv[0] == str(checkout / ".venv" / "bin" / "python")


def test_diffusion_pipe_config_and_launch_follow_section_4_4(tmp_path):
    tomllib = pytest.importorskip("tomllib")
    profile = filled(load_profile("dp-wan21-14b-24gb"), tmp_path)
    (step,) = build_steps(profile)
    assert step.name == "train"
    config_path = str(Path(profile.output_dir) / "curator-diffusion-pipe.toml")
    assert list(step.argv[1:]) == ["--num_gpus=1", "train.py", "--deepspeed", "--config",
                                   config_path]
    assert step.cwd == profile.trainer_dir
    config = tomllib.loads(step.files[config_path])
    assert config == tomllib.loads(tomli_w.dumps(diffusion_pipe_config(profile)))
    assert config["dataset"] == profile.dataset_config and config["pipeline_stages"] == 1
    assert config["model"]["type"] == "wan" and config["model"]["transformer_dtype"] == "float8"
    assert config["model"]["ckpt_path"] == profile.dp_ckpt_path
    assert config["adapter"] == {"type": "lora", "rank": 32, "dtype": "bfloat16"}  # no alpha
    assert config["optimizer"]["type"] == "adamw_optimi" and config["optimizer"]["lr"] == 5e-5
    assert config["blocks_to_swap"] == 10 and config["activation_checkpointing"] is True
    (cache,) = build_steps(profile, "cache-latents")
    assert cache.name == "cache" and cache.argv[-1] == "--cache_only"
    resumed = build_steps(profile.replace(resume="latest"))[0]
    assert resumed.argv[-1] == "--resume_from_checkpoint"


def test_exported_script_reproduces_every_argv_exactly(tmp_path):
    """The script is run by bash with a Python that records its argv: awkward paths survive."""
    odd = tmp_path / "it's a \"dir\" with $HOME and spaces"
    recorder = tmp_path / "bin" / "python"
    recorder.parent.mkdir()
    log = tmp_path / "calls.jsonl"
    recorder.write_text(f"#!{sys.executable}\nimport json, os, sys\n"
                        f"open({str(log)!r}, 'a').write(json.dumps({{'argv': sys.argv[1:], "
                        f"'cwd': os.getcwd(), 'pp': os.environ.get('PYTHONPATH')}}) + '\\n')\n")
    recorder.chmod(0o755)
    odd.mkdir()
    profile = filled(load_profile("wan21-14b-style-24gb"), odd).replace(
        python=str(recorder), trainer_dir=str(odd), output_dir=str(odd / "out put"),
        network_args=["exclude_patterns=[r'.*(norm).*']"])
    steps = build_steps(profile)
    script = tmp_path / "train.sh"
    script.write_text(export_script(steps, title="test"))
    subprocess.run(["bash", "-n", str(script)], check=True)
    subprocess.run(["bash", str(script)], check=True, env={"PATH": "/usr/bin:/bin",
                                                          "PYTHONPATH": "/elsewhere"})
    calls = [json.loads(line) for line in log.read_text().splitlines()]
    assert [c["argv"] for c in calls] == [list(s.argv[1:]) for s in steps]
    assert all(c["cwd"] == str(odd) for c in calls)
    assert all(c["pp"] == f"{odd}/src:/elsewhere" for c in calls)  # prepended, not replaced
    assert (odd / "out put" / "logs").is_dir()  # mkdir -p of the train step's folders
    for step in steps:  # and each line is what shlex reads back
        assert shlex.split(" ".join(shlex.quote(w) for w in step.argv)) == list(step.argv)


def test_dry_run_json_is_plain_lists(tmp_path):
    profile = filled(load_profile("wan21-14b-style-24gb"), tmp_path)
    for step in build_steps(profile):
        data = json.loads(json.dumps(step.to_json()))
        assert set(data) >= {"name", "argv", "cwd", "env"}
        assert all(isinstance(w, str) for w in data["argv"])


def test_plan_run_resolves_checks_and_finds_the_last_export(tmp_path):
    from curator.core.training.launch import plan_run

    export = tmp_path / "export"
    export.mkdir()
    (export / "musubi_dataset.toml").write_text("[general]\n")
    profile = load_profile("wan21-14b-style-24gb").replace(trainer_dir="musubi-tuner")
    plan = plan_run(profile, tmp_path, remote=True, export_root="export")
    assert plan.profile.dataset_config == str(export / "musubi_dataset.toml")
    assert plan.profile.trainer_dir == str(tmp_path / "musubi-tuner")
    assert [s.name for s in plan.steps] == ["cache-latents", "cache-text", "train"]
    assert plan.sample_dir == tmp_path / "training/output/wan21-14b-style-24gb/sample"
    assert plan.tensorboard_dir == plan.output_dir / "logs"
    # The model paths are unset and this dataset config has no [[datasets]] table.
    assert not plan.ready and {p.field for p in plan.problems if p.severity == "error"} == {
        "vae", "t5", "dit", "dataset_config"}
    local = plan_run(profile, tmp_path, export_root="export")
    assert any(p.field == "trainer_dir" and p.severity == "error" for p in local.problems)
