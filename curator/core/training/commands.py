"""Build the trainer's command lines as argument lists (never shell strings).

musubi-tuner (TRAINERS.md §2): three steps over one dataset TOML, in this order (§2.1):
`wan_cache_latents.py`, `wan_cache_text_encoder_outputs.py`, then
`accelerate launch --num_cpu_threads_per_process 1 --mixed_precision bf16 wan_train_network.py`.

diffusion-pipe (§4.4): Curator writes the main config TOML and runs
`deepspeed --num_gpus=1 train.py --deepspeed --config <it>`; it caches by itself (`--cache_only`
stops after caching).

Each step is a `TrainStep`: argv, working folder, the environment variables to set on top of the
inherited ones, and any file that must be written before it runs. `export_script` turns steps into
a bash script with every word `shlex.quote`d, for a remote machine.
"""

from __future__ import annotations

import re
import shlex
import shutil
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import tomli_w

from curator.core.trainers import Trainer

from .profile import TrainingProfile, escape_controls, is_i2v, needs_clip

STEP_NAMES = ("cache-latents", "cache-text", "train")
STEP_CHOICES = (*STEP_NAMES, "all")

MUSUBI_SCRIPTS = {
    "cache-latents": "wan_cache_latents.py",
    "cache-text": "wan_cache_text_encoder_outputs.py",
    "train": "wan_train_network.py",
}
# Environment variables that hold search paths: a step's value goes first, the inherited one after.
PATH_LIKE_ENV = frozenset({"PYTHONPATH"})
DP_CONFIG_NAME = "curator-diffusion-pipe.toml"
_ENV_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


@dataclass(frozen=True)
class TrainStep:
    """One command of a training run.

    `env` holds only what Curator sets; the process inherits everything else. `files` are
    written (path -> text) and `mkdirs` created before the command starts.
    """

    name: str
    argv: tuple[str, ...]
    cwd: str
    env: dict[str, str] = field(default_factory=dict)
    files: dict[str, str] = field(default_factory=dict)
    mkdirs: tuple[str, ...] = ()
    description: str = ""

    def to_json(self) -> dict[str, Any]:
        data: dict[str, Any] = {"name": self.name, "argv": list(self.argv), "cwd": self.cwd,
                                "env": dict(self.env)}
        if self.files:
            data["files"] = dict(self.files)
        if self.mkdirs:
            data["mkdirs"] = list(self.mkdirs)
        if self.description:
            data["description"] = self.description
        return data


def expand_steps(requested: str | Iterable[str]) -> tuple[str, ...]:
    """`all` or one step name or several, as step names in the trainer's order.

    Raises:
        ValueError: an unknown step name.
    """
    names = [requested] if isinstance(requested, str) else list(requested)
    if "all" in names:
        return STEP_NAMES
    unknown = [n for n in names if n not in STEP_NAMES]
    if unknown:
        raise ValueError(f"unknown step {unknown[0]!r}; choose from {', '.join(STEP_CHOICES)}")
    return tuple(n for n in STEP_NAMES if n in names)


def resolve_python(profile: TrainingProfile) -> str:
    """The Python that runs the trainer: the profile's, else the trainer's own venv, else PATH's.

    musubi-tuner's README installs into a venv inside its checkout, so that one is preferred.
    """
    if profile.python:
        return profile.python
    if profile.trainer_dir:
        root = Path(profile.trainer_dir)
        for candidate in (root / ".venv" / "bin" / "python", root / "venv" / "bin" / "python",
                          root / ".venv" / "Scripts" / "python.exe",
                          root / "venv" / "Scripts" / "python.exe"):
            if candidate.is_file():
                return str(candidate)
    return "python" if shutil.which("python") or not shutil.which("python3") else "python3"


def musubi_script(profile: TrainingProfile, step: str) -> str:
    """The script path for a step: `src/musubi_tuner/<script>` (the documented form, §2.1),
    or the repo-root wrapper of the same name when only that exists."""
    name = MUSUBI_SCRIPTS[step]
    root = Path(profile.trainer_dir) if profile.trainer_dir else Path(".")
    documented = root / "src" / "musubi_tuner" / name
    wrapper = root / name
    if not documented.exists() and wrapper.exists():
        return str(wrapper)
    return str(documented)


def _num(value: float | int) -> str:
    """Numbers as argparse reads them back: ints plain, floats with a point or exponent."""
    if isinstance(value, bool):
        raise TypeError("a flag is not a number")
    if isinstance(value, int):
        return str(value)
    return repr(float(value))


def _opt(flag: str, value: float | int | None) -> list[str]:
    """`[flag, value]` for a numeric option that is set; nothing, so the trainer's default
    applies, when it is None."""
    return [] if value is None else [flag, _num(value)]


def _musubi_env(profile: TrainingProfile) -> dict[str, str]:
    env = {"PYTHONUNBUFFERED": "1"}  # the trainer's prints reach us as they happen, not per 8 KiB
    if profile.trainer_dir:
        # The scripts import `musubi_tuner.*` absolutely (§2.1): src on the path makes an
        # uninstalled checkout work too, and changes nothing when it is installed.
        env["PYTHONPATH"] = str(Path(profile.trainer_dir) / "src")
    return env


def cache_latents_argv(profile: TrainingProfile, python: str | None = None) -> list[str]:
    """`wan_cache_latents.py` (TRAINERS.md §2.2)."""
    p = profile
    argv = [python or resolve_python(p), musubi_script(p, "cache-latents"),
            "--dataset_config", p.dataset_config, "--vae", p.vae]
    if p.vae_cache_cpu:
        argv.append("--vae_cache_cpu")
    if is_i2v(p.task):
        argv.append("--i2v")  # encodes the first frame as conditioning (I2V and FLF2V caches)
    if needs_clip(p.task) and p.clip:
        argv += ["--clip", p.clip]
    if p.cache_latents_batch_size:
        argv += ["--batch_size", _num(p.cache_latents_batch_size)]
    argv += _opt("--num_workers", p.cache_num_workers)
    if p.skip_existing:
        argv.append("--skip_existing")
    return argv + list(p.extra_cache_latents_args)


def cache_text_argv(profile: TrainingProfile, python: str | None = None) -> list[str]:
    """`wan_cache_text_encoder_outputs.py` (TRAINERS.md §2.3; `--t5` is required)."""
    p = profile
    argv = [python or resolve_python(p), musubi_script(p, "cache-text"),
            "--dataset_config", p.dataset_config, "--t5", p.t5]
    if p.cache_text_batch_size:
        argv += ["--batch_size", _num(p.cache_text_batch_size)]
    if p.fp8_t5:
        argv.append("--fp8_t5")
    argv += _opt("--num_workers", p.cache_num_workers)
    if p.skip_existing:
        argv.append("--skip_existing")
    return argv + list(p.extra_cache_text_args)


def logging_dir(profile: TrainingProfile) -> str:
    """Where TensorBoard logs go: the profile's folder, else `<output_dir>/logs`."""
    if profile.logging_dir:
        return profile.logging_dir
    return str(Path(profile.output_dir) / "logs")


def train_args(profile: TrainingProfile) -> list[str]:
    """The options of `wan_train_network.py` (TRAINERS.md §2.4, shaped like the §2.6 example)."""
    p = profile
    return [*_model_args(p), *_network_args(p), *_optimizer_args(p), *_timestep_args(p),
            *_loop_args(p), *_output_args(p), *_sampling_args(p), *_logging_args(p),
            *p.extra_train_args]


def _model_args(p: TrainingProfile) -> list[str]:
    """The model files, attention, precision and memory."""
    a: list[str] = ["--task", p.task, "--dit", p.dit]
    if p.dit_high_noise:
        a += ["--dit_high_noise", p.dit_high_noise]
    if p.vae:
        a += ["--vae", p.vae]
    if p.t5:
        a += ["--t5", p.t5]
    if needs_clip(p.task) and p.clip:
        a += ["--clip", p.clip]
    a += ["--dataset_config", p.dataset_config]
    a.append(f"--{p.attention}")
    if p.split_attn:
        a.append("--split_attn")
    a += ["--mixed_precision", p.mixed_precision]
    for flag, on in (("--fp8_base", p.fp8_base), ("--fp8_scaled", p.fp8_scaled),
                     ("--fp8_t5", p.fp8_t5)):
        if on:
            a.append(flag)
    if p.blocks_to_swap:
        a += ["--blocks_to_swap", _num(p.blocks_to_swap)]
    if p.offload_inactive_dit:
        a.append("--offload_inactive_dit")
    if p.gradient_checkpointing:
        a.append("--gradient_checkpointing")
    if p.vae_cache_cpu:
        a.append("--vae_cache_cpu")
    return a


def _network_args(p: TrainingProfile) -> list[str]:
    """The LoRA network."""
    a: list[str] = ["--network_module", p.network_module, "--network_dim", _num(p.network_dim),
                   "--network_alpha", _num(p.network_alpha)]
    if p.network_args:
        a += ["--network_args", *p.network_args]
    if p.network_weights:
        a += ["--network_weights", p.network_weights]
    return a


def _optimizer_args(p: TrainingProfile) -> list[str]:
    """The optimizer and learning rate."""
    a: list[str] = ["--optimizer_type", p.optimizer_type]
    if p.optimizer_args:
        a += ["--optimizer_args", *p.optimizer_args]
    a += ["--learning_rate", _num(p.learning_rate), "--lr_scheduler", p.lr_scheduler]
    if p.lr_warmup_steps:
        a += ["--lr_warmup_steps", _num(p.lr_warmup_steps)]
    a += _opt("--max_grad_norm", p.max_grad_norm)
    return a


def _timestep_args(p: TrainingProfile) -> list[str]:
    """Timestep sampling (§0.10)."""
    a: list[str] = ["--timestep_sampling", p.timestep_sampling,
                   "--discrete_flow_shift", _num(p.discrete_flow_shift)]
    a += _opt("--min_timestep", p.min_timestep)
    a += _opt("--max_timestep", p.max_timestep)
    if p.preserve_distribution_shape:
        a.append("--preserve_distribution_shape")
    if p.timestep_boundary is not None:
        # §0.10: the option is type=int; validation refuses a fraction before we get here, and
        # an integral float read from TOML (875.0) is written as the int argparse accepts.
        boundary = p.timestep_boundary
        a += ["--timestep_boundary",
              str(int(boundary)) if float(boundary).is_integer() else str(boundary)]
    return a


def _loop_args(p: TrainingProfile) -> list[str]:
    """How long it trains, and the data loader."""
    a: list[str] = []
    a += _opt("--max_train_epochs", p.max_train_epochs)
    a += _opt("--max_train_steps", p.max_train_steps)
    if p.gradient_accumulation_steps != 1:
        a += ["--gradient_accumulation_steps", _num(p.gradient_accumulation_steps)]
    a += _opt("--seed", p.seed)
    a += ["--max_data_loader_n_workers", _num(p.max_data_loader_n_workers)]
    if p.persistent_data_loader_workers:
        a.append("--persistent_data_loader_workers")
    return a


def _output_args(p: TrainingProfile) -> list[str]:
    """Where and how often the LoRA is saved."""
    a: list[str] = ["--output_dir", p.output_dir, "--output_name", p.effective_output_name]
    a += _opt("--save_every_n_epochs", p.save_every_n_epochs)
    a += _opt("--save_every_n_steps", p.save_every_n_steps)
    a += _opt("--save_last_n_epochs", p.save_last_n_epochs)
    a += ["--save_precision", p.save_precision]
    if p.save_state:
        a.append("--save_state")
    if p.resume:
        a += ["--resume", p.resume]
    return a


def _sampling_args(p: TrainingProfile) -> list[str]:
    """Sample prompts and their cadence."""
    a: list[str] = []
    if p.sample_prompts:
        a += ["--sample_prompts", p.sample_prompts]
        a += _opt("--sample_every_n_epochs", p.sample_every_n_epochs)
        a += _opt("--sample_every_n_steps", p.sample_every_n_steps)
        if p.sample_at_first:
            a.append("--sample_at_first")
    return a


def _logging_args(p: TrainingProfile) -> list[str]:
    """TensorBoard (or another logger)."""
    a: list[str] = []
    if p.log_with:
        a += ["--log_with", p.log_with, "--logging_dir", logging_dir(p)]
        if p.log_prefix:
            a += ["--log_prefix", p.log_prefix]
    return a


def accelerate_prefix(profile: TrainingProfile, python: str | None = None) -> list[str]:
    """`accelerate launch` and its own options (§2.1).

    Without an explicit `accelerate` command, `python -m accelerate.commands.launch` runs the
    launcher from the very interpreter (and venv) that runs the trainer.
    """
    p = profile
    head = ([p.accelerate, "launch"] if p.accelerate else
            [python or resolve_python(p), "-m", "accelerate.commands.launch"])
    return head + ["--num_cpu_threads_per_process", _num(p.num_cpu_threads_per_process),
                   "--mixed_precision", p.mixed_precision]


def train_argv(profile: TrainingProfile, python: str | None = None) -> list[str]:
    return (accelerate_prefix(profile, python) + [musubi_script(profile, "train")]
            + train_args(profile))


# ---- diffusion-pipe ----------------------------------------------------------------------------

def diffusion_pipe_config(profile: TrainingProfile) -> dict[str, Any]:
    """The main config of diffusion-pipe's `train.py` for Wan (TRAINERS.md §4.4)."""
    p = profile
    cfg: dict[str, Any] = {
        "output_dir": p.output_dir,
        "dataset": p.dataset_config,
        "epochs": p.max_train_epochs or 16,
        "micro_batch_size_per_gpu": p.dp_micro_batch_size,
        "pipeline_stages": 1,  # block swapping needs pipeline_stages = 1 (§4.4)
        "gradient_accumulation_steps": p.gradient_accumulation_steps,
        "gradient_clipping": p.max_grad_norm if p.max_grad_norm is not None else 1.0,
        "warmup_steps": int(p.lr_warmup_steps) if p.lr_warmup_steps >= 1 else 0,
        "save_dtype": "bfloat16",
        "caching_batch_size": 1,
        "steps_per_print": 1,
        "video_clip_mode": p.dp_video_clip_mode,
    }
    if p.max_train_steps is not None:
        cfg["max_steps"] = p.max_train_steps
    if p.lr_scheduler in ("constant", "linear"):
        cfg["lr_scheduler"] = p.lr_scheduler
    if p.save_every_n_epochs is not None:
        cfg["save_every_n_epochs"] = p.save_every_n_epochs
    if p.save_every_n_steps is not None:
        cfg["save_every_n_steps"] = p.save_every_n_steps
    if p.save_state:
        # diffusion-pipe's resumable state is its "checkpoint"; the LoRA files are its "save".
        cfg["checkpoint_every_n_epochs"] = p.save_every_n_epochs or 1
    if p.gradient_checkpointing:
        mode = p.dp_activation_checkpointing
        cfg["activation_checkpointing"] = True if mode == "true" else mode
    if p.blocks_to_swap:
        cfg["blocks_to_swap"] = p.blocks_to_swap

    model: dict[str, Any] = {"type": "wan", "ckpt_path": p.dp_ckpt_path, "dtype": "bfloat16"}
    if p.dit:
        model["transformer_path"] = p.dit
    if p.t5:
        model["llm_path"] = p.t5
    if p.fp8_base:
        model["transformer_dtype"] = "float8"
    model["timestep_sample_method"] = p.dp_timestep_sample_method
    if p.min_timestep is not None:
        model["min_t"] = p.min_timestep / 1000
    if p.max_timestep is not None:
        model["max_t"] = p.max_timestep / 1000
    cfg["model"] = model

    # `alpha` is forced to equal `rank` and setting it is an error (§4.4), so it is not written.
    adapter: dict[str, Any] = {"type": "lora", "rank": p.network_dim, "dtype": "bfloat16"}
    if p.network_weights:
        adapter["init_from_existing"] = p.network_weights
    cfg["adapter"] = adapter
    cfg["optimizer"] = {"type": p.dp_optimizer, "lr": p.learning_rate,
                        "betas": list(p.dp_betas), "weight_decay": p.dp_weight_decay,
                        "eps": p.dp_eps}
    return cfg


def resolve_deepspeed(profile: TrainingProfile) -> str:
    """The `deepspeed` launcher: the profile's, else the one beside the trainer's Python."""
    if profile.dp_deepspeed:
        return profile.dp_deepspeed
    python = resolve_python(profile)
    if "/" in python or "\\" in python:
        sibling = Path(python).with_name("deepspeed")
        if sibling.exists():
            return str(sibling)
    return "deepspeed"


def _diffusion_pipe_steps(profile: TrainingProfile, names: Sequence[str]) -> list[TrainStep]:
    p = profile
    config_path = str(Path(p.output_dir) / DP_CONFIG_NAME)
    config_text = tomli_w.dumps(diffusion_pipe_config(p))
    env = {"PYTHONUNBUFFERED": "1"}
    if p.dp_nccl_p2p_disable:
        env.update(NCCL_P2P_DISABLE="1", NCCL_IB_DISABLE="1")  # README: RTX 4000 cards (§4.4)
    base = [resolve_deepspeed(p), "--num_gpus=1", "train.py", "--deepspeed",
            "--config", config_path]
    resume: list[str] = []
    if p.resume:
        # `--resume_from_checkpoint` alone resumes the newest run; a value names one run folder.
        resume = (["--resume_from_checkpoint"] if p.resume == "latest"
                  else ["--resume_from_checkpoint", p.resume])
    common = dict(cwd=p.trainer_dir or ".", env=env, files={config_path: config_text},
                  mkdirs=(p.output_dir,))
    if "train" in names:
        # diffusion-pipe caches latents and text embeddings itself before the first step.
        return [TrainStep("train", tuple(base + resume + list(p.extra_train_args)),
                          description="diffusion-pipe: cache, then train", **common)]
    return [TrainStep("cache", tuple(base + ["--cache_only"] + list(p.extra_train_args)),
                      description="diffusion-pipe: cache latents and text embeddings only",
                      **common)]


# ---- all steps ---------------------------------------------------------------------------------

def build_steps(profile: TrainingProfile, steps: str | Iterable[str] = "all") -> list[TrainStep]:
    """The commands of a run, in order, from a profile whose paths are already resolved.

    Args:
        profile: the settings (see `TrainingProfile.resolved` for relative paths).
        steps: `all`, one of `cache-latents`, `cache-text`, `train`, or several.

    Returns:
        One `TrainStep` per command; diffusion-pipe has a single `train` (or `cache`) step.

    Raises:
        ValueError: an unknown step or trainer.
    """
    names = expand_steps(steps)
    if profile.trainer == "diffusion-pipe":
        return _diffusion_pipe_steps(profile, names)
    if profile.trainer != Trainer.MUSUBI:
        raise ValueError(f"unknown trainer {profile.trainer!r}; use musubi-tuner or "
                         f"diffusion-pipe")
    python = resolve_python(profile)
    env = _musubi_env(profile)
    cwd = profile.trainer_dir or "."
    out: list[TrainStep] = []
    if "cache-latents" in names:
        out.append(TrainStep("cache-latents", tuple(cache_latents_argv(profile, python)), cwd,
                             dict(env), description="encode every clip and image with the VAE"))
    if "cache-text" in names:
        out.append(TrainStep("cache-text", tuple(cache_text_argv(profile, python)), cwd,
                             dict(env), description="encode every caption with UMT5"))
    if "train" in names:
        mkdirs = [profile.output_dir]
        if profile.log_with:
            mkdirs.append(logging_dir(profile))
        out.append(TrainStep("train", tuple(train_argv(profile, python)), cwd, dict(env),
                             mkdirs=tuple(mkdirs), description="train the LoRA"))
    return out


# ---- shell script ------------------------------------------------------------------------------

def format_command(argv: Sequence[str]) -> str:
    """argv as quoted words, one option (with its values) per continued line."""
    groups: list[list[str]] = [[]]
    for word in argv:
        if groups[-1] and (word.startswith("--") or word.endswith(".py")):
            groups.append([])
        groups[-1].append(shlex.quote(word))
    return " \\\n    ".join(" ".join(g) for g in groups)


def export_script(steps: Sequence[TrainStep], *, title: str = "",
                  stop_on_failure: bool = True) -> str:
    """A bash script that runs `steps` on another machine, every word `shlex.quote`d.

    Args:
        steps: the commands (their paths must be valid on the machine that runs the script).
        title: a comment line, e.g. the profile name.
        stop_on_failure: `set -e`, so a failed step stops the chain as `curator train` does.

    Returns:
        The script text (the caller writes it and makes it executable).
    """
    q = shlex.quote
    # Comments too: a newline in a profile's name would end the comment and start a command.
    c = escape_controls
    lines = ["#!/usr/bin/env bash",
             f"# Written by Curator on {datetime.now():%Y-%m-%d %H:%M}"
             + (f" for {c(title)}" if title else "") + ".",
             "# Every path below must exist on the machine that runs this script."]
    lines.append("set -euo pipefail" if stop_on_failure else "set -uo pipefail")
    for index, step in enumerate(steps, start=1):
        lines += ["", f"# step {index}/{len(steps)}: {c(step.name)}"
                  + (f" ({c(step.description)})" if step.description else "")]
        for folder in step.mkdirs:
            lines.append(f"mkdir -p {q(folder)}")
        for path, text in step.files.items():
            marker = "CURATOR_EOF"
            while marker in text:
                marker += "_"
            lines += [f"mkdir -p {q(str(Path(path).parent))}",
                      f"cat > {q(path)} <<'{marker}'", text.rstrip("\n"), marker]
        # A subshell keeps each step's folder and variables to itself.
        lines.append("(")
        lines.append(f"  cd {q(step.cwd)}")
        for key, value in step.env.items():
            if not _ENV_NAME.fullmatch(key):  # a name is not quoted, so it must be a plain word
                raise ValueError(f"environment variable name {key!r} is not a shell name")
            if key in PATH_LIKE_ENV:
                lines.append(f'  export {key}={q(value)}"${{{key}:+:${key}}}"')
            else:
                lines.append(f"  export {key}={q(value)}")
        lines.append("  " + format_command(step.argv))
        lines.append(")")
    lines.append("")
    return "\n".join(lines)
