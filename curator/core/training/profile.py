"""Training profiles: every setting of one training run, kept as TOML in the project.

A profile lives in `<project>/training/<name>.toml`; shipped presets live in the package
(`curator/resources/presets/training/<name>.toml`) and are found by the same name. A project
profile may start with `extends = "<preset>"` and list only what differs (usually the model paths).

The TOML is grouped in sections (`[trainer]`, `[models]`, `[memory]`, ...); each dataclass field
says where it lives through its `metadata["toml"]`. Optional settings are simply left out of the
file; an unknown key is an error, so a misspelt setting never silently does nothing.
"""

from __future__ import annotations

import dataclasses
import os
import re
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import tomli_w

from curator.core.trainers import PROFILE_TRAINERS
from curator.resources import resource_path

PROFILE_DIR = "training"
PRESET_DIR = ("presets", "training")
DEFAULT_PRESET = "wan21-14b-style-24gb"

TRAINERS = PROFILE_TRAINERS

# TRAINERS.md §2.4: the `--task` choices of wan_train_network.py (there is no ti2v-5B).
WAN21_TASKS = ("t2v-14B", "t2v-1.3B", "i2v-14B", "t2i-14B", "flf2v-14B")
FUN_CONTROL_TASKS = ("t2v-1.3B-FC", "t2v-14B-FC", "i2v-14B-FC")
WAN22_TASKS = ("t2v-A14B", "i2v-A14B")
WAN_TASKS = WAN21_TASKS + FUN_CONTROL_TASKS + WAN22_TASKS

# §2.4: `--sage_attn` exists in the parser but training refuses it, so it is not offered.
ATTENTION_BACKENDS = ("sdpa", "xformers", "flash_attn", "flash3")
MIXED_PRECISIONS = ("no", "fp16", "bf16")
SAVE_PRECISIONS = ("float", "fp32", "fp16", "bf16")
NETWORK_MODULES = ("networks.lora_wan", "networks.loha", "networks.lokr")
TIMESTEP_SAMPLINGS = ("sigma", "uniform", "sigmoid", "shift", "flux_shift", "flux2_shift",
                      "qwen_shift", "ideogram4_shift", "krea2_shift", "logsnr", "qinglong_flux",
                      "qinglong_qwen")
LOG_WITH = ("tensorboard", "wandb", "all")

_NAME_RE = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]*")  # fullmatch: "$" lets a "\n" end it


class ProfileError(ValueError):
    """A profile file that cannot be read, or a setting that does not exist."""


def is_small_model(task: str) -> bool:
    """Wan2.1 1.3B tasks (30 transformer blocks instead of 40)."""
    return "1.3B" in task


def max_blocks_to_swap(task: str) -> int:
    """§2.4: 14B has 40 blocks, so at most 39 may be swapped; 1.3B at most 29."""
    return 29 if is_small_model(task) else 39


def is_wan22(task: str) -> bool:
    return task in WAN22_TASKS


def is_i2v(task: str) -> bool:
    """Tasks that condition on a first frame: caching needs `--i2v`, samples need `--i`."""
    return task.startswith(("i2v", "flf2v"))


def needs_clip(task: str) -> bool:
    """§2.2: Wan2.1 I2V (and FLF2V) needs the CLIP model; Wan2.2 needs none."""
    return is_i2v(task) and not is_wan22(task)


def default_cfg_scale(task: str) -> float:
    """§2.5: the trainer's own `--l` default: 3.0 for T2V-A14B, 3.5 for I2V-A14B, else 5.0."""
    return {"t2v-A14B": 3.0, "i2v-A14B": 3.5}.get(task, 5.0)


def _f(default: Any, section: str | None, key: str, kind: str, *, path: bool = False,
       factory: Any = None) -> Any:
    meta = {"toml": (section, key), "kind": kind, "path": path}
    if factory is not None:
        return field(default_factory=factory, metadata=meta)
    return field(default=default, metadata=meta)


@dataclass
class TrainingProfile:
    """All settings of a training run; paths may be relative to the project folder."""

    name: str = _f("custom", None, "name", "str")
    title: str = _f("", None, "title", "str")
    description: str = _f("", None, "description", "str")

    # [trainer]: which trainer, where it is installed, and what runs it
    trainer: str = _f("musubi-tuner", "trainer", "kind", "str")
    trainer_dir: str = _f("", "trainer", "dir", "str", path=True)
    python: str = _f("", "trainer", "python", "str")
    accelerate: str = _f("", "trainer", "accelerate", "str")
    num_cpu_threads_per_process: int = _f(1, "trainer", "num_cpu_threads_per_process", "int")

    # [models]
    task: str = _f("t2v-14B", "models", "task", "str")
    dit: str = _f("", "models", "dit", "str", path=True)
    dit_high_noise: str = _f("", "models", "dit_high_noise", "str", path=True)
    vae: str = _f("", "models", "vae", "str", path=True)
    t5: str = _f("", "models", "t5", "str", path=True)
    clip: str = _f("", "models", "clip", "str", path=True)

    # [dataset]
    dataset_config: str = _f("", "dataset", "config", "str", path=True)

    # [memory]
    mixed_precision: str = _f("bf16", "memory", "mixed_precision", "str")
    fp8_base: bool = _f(False, "memory", "fp8_base", "bool")
    fp8_scaled: bool = _f(False, "memory", "fp8_scaled", "bool")
    fp8_t5: bool = _f(False, "memory", "fp8_t5", "bool")
    blocks_to_swap: int = _f(0, "memory", "blocks_to_swap", "int")
    gradient_checkpointing: bool = _f(True, "memory", "gradient_checkpointing", "bool")
    offload_inactive_dit: bool = _f(False, "memory", "offload_inactive_dit", "bool")
    vae_cache_cpu: bool = _f(False, "memory", "vae_cache_cpu", "bool")
    attention: str = _f("sdpa", "memory", "attention", "str")
    split_attn: bool = _f(False, "memory", "split_attn", "bool")

    # [network]
    network_module: str = _f("networks.lora_wan", "network", "module", "str")
    network_dim: int = _f(32, "network", "dim", "int")
    network_alpha: float = _f(32.0, "network", "alpha", "float")
    network_args: list[str] = _f(None, "network", "args", "list", factory=list)
    network_weights: str = _f("", "network", "weights", "str", path=True)

    # [optimizer]
    optimizer_type: str = _f("adamw8bit", "optimizer", "type", "str")
    learning_rate: float = _f(2e-4, "optimizer", "learning_rate", "float")
    optimizer_args: list[str] = _f(None, "optimizer", "args", "list", factory=list)
    lr_scheduler: str = _f("constant", "optimizer", "lr_scheduler", "str")
    lr_warmup_steps: int | float = _f(0, "optimizer", "lr_warmup_steps", "number")
    max_grad_norm: float | None = _f(None, "optimizer", "max_grad_norm", "float?")

    # [timesteps]
    timestep_sampling: str = _f("shift", "timesteps", "sampling", "str")
    discrete_flow_shift: float = _f(3.0, "timesteps", "discrete_flow_shift", "float")
    min_timestep: int | None = _f(None, "timesteps", "min_timestep", "int?")
    max_timestep: int | None = _f(None, "timesteps", "max_timestep", "int?")
    preserve_distribution_shape: bool = _f(False, "timesteps", "preserve_distribution_shape",
                                           "bool")
    # Kept as read (int or float) so validation can say "write 875, not 0.875" (§0.10).
    timestep_boundary: int | float | None = _f(None, "timesteps", "boundary", "number?")

    # [loop]
    max_train_epochs: int | None = _f(None, "loop", "max_train_epochs", "int?")
    max_train_steps: int | None = _f(None, "loop", "max_train_steps", "int?")
    gradient_accumulation_steps: int = _f(1, "loop", "gradient_accumulation_steps", "int")
    seed: int | None = _f(None, "loop", "seed", "int?")
    max_data_loader_n_workers: int = _f(2, "loop", "max_data_loader_n_workers", "int")
    persistent_data_loader_workers: bool = _f(True, "loop", "persistent_data_loader_workers",
                                              "bool")

    # [saving]
    output_dir: str = _f("training/output", "saving", "output_dir", "str", path=True)
    output_name: str = _f("", "saving", "output_name", "str")
    save_every_n_epochs: int | None = _f(None, "saving", "save_every_n_epochs", "int?")
    save_every_n_steps: int | None = _f(None, "saving", "save_every_n_steps", "int?")
    save_last_n_epochs: int | None = _f(None, "saving", "save_last_n_epochs", "int?")
    save_precision: str = _f("bf16", "saving", "save_precision", "str")
    save_state: bool = _f(False, "saving", "save_state", "bool")
    resume: str = _f("", "saving", "resume", "str", path=True)

    # [sampling]
    sample_prompts: str = _f("", "sampling", "prompts", "str", path=True)
    sample_every_n_epochs: int | None = _f(None, "sampling", "every_n_epochs", "int?")
    sample_every_n_steps: int | None = _f(None, "sampling", "every_n_steps", "int?")
    sample_at_first: bool = _f(False, "sampling", "at_first", "bool")

    # [logging]
    log_with: str = _f("tensorboard", "logging", "log_with", "str")
    logging_dir: str = _f("", "logging", "logging_dir", "str", path=True)
    log_prefix: str = _f("", "logging", "log_prefix", "str")

    # [caching]
    cache_latents_batch_size: int | None = _f(None, "caching", "latents_batch_size", "int?")
    cache_text_batch_size: int | None = _f(16, "caching", "text_batch_size", "int?")
    cache_num_workers: int | None = _f(None, "caching", "num_workers", "int?")
    skip_existing: bool = _f(True, "caching", "skip_existing", "bool")

    # [extra]: free arguments appended to each command as given
    extra_cache_latents_args: list[str] = _f(None, "extra", "cache_latents", "list", factory=list)
    extra_cache_text_args: list[str] = _f(None, "extra", "cache_text", "list", factory=list)
    extra_train_args: list[str] = _f(None, "extra", "train", "list", factory=list)

    # [diffusion_pipe]: settings only diffusion-pipe reads (TRAINERS.md §4.4)
    dp_ckpt_path: str = _f("", "diffusion_pipe", "ckpt_path", "str", path=True)
    dp_deepspeed: str = _f("", "diffusion_pipe", "deepspeed", "str")
    dp_optimizer: str = _f("adamw_optimi", "diffusion_pipe", "optimizer", "str")
    dp_betas: list[float] = _f(None, "diffusion_pipe", "betas", "floats",
                               factory=lambda: [0.9, 0.99])
    dp_weight_decay: float = _f(0.01, "diffusion_pipe", "weight_decay", "float")
    dp_eps: float = _f(1e-8, "diffusion_pipe", "eps", "float")
    dp_micro_batch_size: int = _f(1, "diffusion_pipe", "micro_batch_size_per_gpu", "int")
    dp_activation_checkpointing: str = _f("true", "diffusion_pipe", "activation_checkpointing",
                                          "str")
    dp_video_clip_mode: str = _f("single_beginning", "diffusion_pipe", "video_clip_mode", "str")
    dp_timestep_sample_method: str = _f("logit_normal", "diffusion_pipe",
                                        "timestep_sample_method", "str")
    dp_nccl_p2p_disable: bool = _f(False, "diffusion_pipe", "nccl_p2p_disable", "bool")

    # ---- derived values -------------------------------------------------------------------
    @property
    def effective_output_name(self) -> str:
        return self.output_name or self.name

    def replace(self, **changes: Any) -> TrainingProfile:
        """A copy with some fields changed (lists are copied, never shared)."""
        copy = dataclasses.replace(self, **changes)
        for f in dataclasses.fields(copy):
            value = getattr(copy, f.name)
            if isinstance(value, list):
                setattr(copy, f.name, list(value))
        return copy

    def resolved(self, base_dir: Path) -> TrainingProfile:
        """A copy whose relative paths are made absolute against `base_dir` (the project)."""
        changes: dict[str, Any] = {}
        for f in dataclasses.fields(self):
            value = getattr(self, f.name)
            if f.metadata.get("path") and value:
                if f.name == "resume" and value == "latest":
                    continue  # diffusion-pipe's "resume the newest run", not a path
                changes[f.name] = absolute_command(value, base_dir)
        # `python` and `accelerate` may be bare command names; only a path-like value is made
        # absolute. Never through links (see `absolute_command`).
        for name in ("python", "accelerate", "dp_deepspeed"):
            value = getattr(self, name)
            if value and ("/" in value or "\\" in value):
                changes[name] = absolute_command(value, base_dir)
        return self.replace(**changes)

    # ---- TOML ------------------------------------------------------------------------------
    def to_toml_dict(self) -> dict[str, Any]:
        """The profile as nested TOML tables; None and empty optional values are left out."""
        top: dict[str, Any] = {}
        sections: dict[str, dict[str, Any]] = {}
        for f in dataclasses.fields(self):
            section, key = f.metadata["toml"]
            value = getattr(self, f.name)
            if value is None:
                continue
            if isinstance(value, list):
                value = list(value)
            if section is None:
                top[key] = value
            else:
                sections.setdefault(section, {})[key] = value
        top.update(sections)
        return top

    def to_toml(self) -> str:
        return tomli_w.dumps(self.to_toml_dict())

    @classmethod
    def from_toml_dict(cls, data: dict[str, Any], *, source: str = "profile",
                       base: TrainingProfile | None = None) -> TrainingProfile:
        """Read nested TOML tables into a profile, on top of `base` (default: the dataclass).

        Raises:
            ProfileError: an unknown section or key, or a value of the wrong type.
        """
        by_place = _fields_by_place()
        profile = (base or cls()).replace()
        for key, value in data.items():
            if key == "extends":
                continue
            if isinstance(value, dict):
                for sub_key, sub_value in value.items():
                    _set_field(profile, by_place, (key, sub_key), sub_value, source)
            else:
                _set_field(profile, by_place, (None, key), value, source)
        return profile

    def with_setting(self, assignment: str) -> TrainingProfile:
        """Apply one `section.key=value` (or `field=value`) assignment, as `curator train --set`.

        The value is read as a TOML value when it parses as one (`20`, `true`, `["a=1"]`),
        otherwise as a plain string.

        Raises:
            ProfileError: no `=`, or no such setting, or a value of the wrong type.
        """
        if "=" not in assignment:
            raise ProfileError(f"--set {assignment!r}: write SECTION.KEY=VALUE, e.g. "
                               f"memory.blocks_to_swap=20")
        name, raw = (part.strip() for part in assignment.split("=", 1))
        try:
            value = tomllib.loads(f"v = {raw}")["v"]
        except tomllib.TOMLDecodeError:
            value = raw
        by_place = _fields_by_place()
        if "." in name:
            place = tuple(name.split(".", 1))
        else:
            matches = [p for p, f in by_place.items() if f.name == name or p[1] == name]
            if len(matches) != 1:
                raise ProfileError(f"--set {name}: no such setting; use SECTION.KEY, one of "
                                   f"{', '.join(sorted(_place_names(by_place)))}")
            place = matches[0]
        copy = self.replace()
        _set_field(copy, by_place, place, value, "--set")  # type: ignore[arg-type]
        return copy


def _fields_by_place() -> dict[tuple[str | None, str], dataclasses.Field]:
    return {f.metadata["toml"]: f for f in dataclasses.fields(TrainingProfile)}


def _place_names(by_place: dict[tuple[str | None, str], dataclasses.Field]) -> list[str]:
    return [key if section is None else f"{section}.{key}" for section, key in by_place]


def _set_field(profile: TrainingProfile, by_place: dict, place: tuple[str | None, str],
               value: Any, source: str) -> None:
    f = by_place.get(place)
    shown = place[1] if place[0] is None else f"{place[0]}.{place[1]}"
    if f is None:
        section = place[0]
        known = sorted(k for s, k in by_place if s == section)
        hint = (f"known keys in [{section}]: {', '.join(known)}" if known else
                f"known sections: {', '.join(sorted({s for s, _ in by_place if s}))}")
        raise ProfileError(f"{source}: unknown setting {shown!r}; {hint}")
    setattr(profile, f.name, _coerce(value, f.metadata["kind"], shown, source))


# C0 and C1 controls, DEL, and the Unicode line breaks: none belongs in a name, path or option,
# and a newline in one would end a comment or command line of an exported script.
_CONTROL_RE = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029]")
# Free text that may span lines (it never reaches a command or script).
_MULTILINE_FIELDS = frozenset({"description"})


def control_character(text: str) -> str | None:
    """The first control character of `text` in words (`a newline`, `U+001B`), or None."""
    m = _CONTROL_RE.search(text)
    if m is None:
        return None
    char = m.group()
    named = {"\n": "a newline", "\r": "a carriage return", "\t": "a tab"}
    return named.get(char, f"the control character U+{ord(char):04X}")


def escape_controls(text: str) -> str:
    """`text` with every control character written as `\\xNN`/`\\uNNNN` (for one-line
    comments and messages)."""
    return _CONTROL_RE.sub(lambda m: ascii(m.group())[1:-1], text)


def text_problems(profile: TrainingProfile) -> list[tuple[str, str]]:
    """(field, message) for each one-line setting that holds a control character.

    Profile files are checked as they are read; this catches values set on the command line
    or in the window before any command or script is built from them.
    """
    out = []
    for f in dataclasses.fields(profile):
        if f.name in _MULTILINE_FIELDS:
            continue
        value = getattr(profile, f.name)
        values = value if isinstance(value, list) else [value]
        for item in values:
            found = control_character(item) if isinstance(item, str) else None
            if found:
                section, key = f.metadata["toml"]
                shown = key if section is None else f"{section}.{key}"
                out.append((f.name, f"{shown} {item!r} holds {found}; "
                                    f"names, paths and options must be one line of text"))
                break
    return out


def _coerce(value: Any, kind: str, shown: str, source: str) -> Any:
    def bad(expected: str) -> ProfileError:
        return ProfileError(f"{source}: {shown} must be {expected}, not {value!r}")

    optional = kind.endswith("?")
    kind = kind.rstrip("?")
    if value is None and optional:
        return None
    texts = [value] if isinstance(value, str) else value if isinstance(value, list) else []
    if shown not in _MULTILINE_FIELDS:
        for text in texts:
            found = control_character(text) if isinstance(text, str) else None
            if found:
                raise ProfileError(f"{source}: {shown} {text!r} holds {found}; names, paths "
                                   f"and options must be one line of text")
    if kind == "str":
        if not isinstance(value, str):
            raise bad("a string")
        return value
    if kind == "bool":
        if not isinstance(value, bool):
            raise bad("true or false")
        return value
    if kind == "int":
        if isinstance(value, bool) or not isinstance(value, int):
            raise bad("a whole number")
        return value
    if kind == "float":
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise bad("a number")
        return float(value)
    if kind == "number":
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise bad("a number")
        return value
    if kind == "list":
        if isinstance(value, str):
            return [value]
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise bad("a list of strings")
        return list(value)
    if kind == "floats":
        if not isinstance(value, list) or not all(
                isinstance(v, (int, float)) and not isinstance(v, bool) for v in value):
            raise bad("a list of numbers")
        return [float(v) for v in value]
    raise AssertionError(f"unknown kind {kind}")


def absolute_command(value: str, base_dir: Path) -> str:
    """A path made absolute against `base_dir` without following symbolic links.

    A venv's `bin/python` is a link to the base interpreter; Python finds its venv from the
    path it was started by (`pyvenv.cfg` beside it), so resolving the link would run the base
    interpreter without the venv's packages (torch not found). An export's dataset TOML is a
    stable link into the export's current generation, which the next export replaces.
    """
    p = Path(value).expanduser()
    return os.path.abspath(p if p.is_absolute() else Path(base_dir) / p)


# ---- files -------------------------------------------------------------------------------------

def check_profile_name(name: str) -> str:
    """Raises ProfileError unless `name` can be a file name on every system."""
    if not _NAME_RE.fullmatch(name or ""):
        raise ProfileError(f"profile name {name!r}: use letters, digits, '.', '-' and '_' "
                           f"(it becomes a file name)")
    return name


def project_profile_path(project_root: Path, name: str) -> Path:
    return Path(project_root) / PROFILE_DIR / f"{check_profile_name(name)}.toml"


def preset_path(name: str) -> Path:
    return resource_path(*PRESET_DIR, f"{name}.toml")


def list_presets() -> list[str]:
    folder = resource_path(*PRESET_DIR)
    return sorted(p.stem for p in folder.glob("*.toml")) if folder.is_dir() else []


def list_profiles(project_root: Path | None = None) -> list[tuple[str, str]]:
    """Every profile a run can use, as (name, origin) with origin 'project' or 'preset'.

    A project profile hides a preset of the same name.
    """
    found: dict[str, str] = {name: "preset" for name in list_presets()}
    if project_root is not None:
        folder = Path(project_root) / PROFILE_DIR
        if folder.is_dir():
            for p in folder.glob("*.toml"):
                if _NAME_RE.fullmatch(p.stem) and _looks_like_profile(p):
                    found[p.stem] = "project"
    return sorted(found.items())


def _looks_like_profile(path: Path) -> bool:
    # The training folder also holds diffusion-pipe configs Curator writes; they have no [trainer].
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError, UnicodeDecodeError):
        return False
    return "trainer" in data or "extends" in data or "models" in data


def read_profile_file(path: Path, *, _seen: tuple[str, ...] = ()) -> TrainingProfile:
    """Read one profile file, following `extends = "<name>"` to a preset or project profile.

    Raises:
        ProfileError: unreadable file, bad TOML, unknown setting, or an `extends` loop.
    """
    try:
        data = tomllib.loads(Path(path).read_text(encoding="utf-8"))
    except OSError as exc:
        raise ProfileError(f"cannot read profile {path}: {exc.strerror or exc}") from exc
    except tomllib.TOMLDecodeError as exc:
        raise ProfileError(f"profile {path} is not valid TOML: {exc}") from exc
    base = None
    parent = data.get("extends")
    if parent:
        if not isinstance(parent, str):
            raise ProfileError(f"{path}: extends must be a profile name")
        if parent in _seen:
            raise ProfileError(f"{path}: 'extends' goes round in a loop: "
                               f"{' -> '.join((*_seen, parent))}")
        project_root = Path(path).parent.parent
        base = _find_and_read(parent, project_root, _seen=(*_seen, parent),
                              skip=Path(path).resolve())
    profile = TrainingProfile.from_toml_dict(data, source=str(path), base=base)
    if "name" not in data:
        profile.name = Path(path).stem
    return profile


def _find_and_read(name: str, project_root: Path | None, *, _seen: tuple[str, ...],
                   skip: Path | None = None) -> TrainingProfile:
    if project_root is not None:
        candidate = project_profile_path(project_root, name)
        if candidate.is_file() and candidate.resolve() != skip:
            return read_profile_file(candidate, _seen=_seen)
    preset = preset_path(check_profile_name(name))
    if preset.is_file():
        return read_profile_file(preset, _seen=_seen)
    known = ", ".join(n for n, _ in list_profiles(project_root)) or "none"
    raise ProfileError(f"no training profile named {name!r}; known profiles: {known}")


def load_profile(name: str, project_root: Path | None = None) -> TrainingProfile:
    """The profile called `name`: the project's own first, then the shipped preset.

    Args:
        name: a profile name (`wan21-14b-style-24gb`) or a path to a `.toml` file.
        project_root: the project folder whose `training/` may hold its own profiles.

    Returns:
        The profile as written (relative paths not yet resolved; see `TrainingProfile.resolved`).

    Raises:
        ProfileError: no such profile, unreadable file, or an unknown/mistyped setting.
    """
    if name.endswith(".toml") or "/" in name or "\\" in name:
        return read_profile_file(Path(name).expanduser())
    return _find_and_read(check_profile_name(name), project_root, _seen=(name,))


def save_profile(project_root: Path, profile: TrainingProfile, name: str | None = None) -> Path:
    """Write the whole profile to `<project>/training/<name>.toml` and return the path.

    Raises:
        ProfileError: the name cannot be a file name.
    """
    name = check_profile_name(name or profile.name)
    path = project_profile_path(project_root, name)
    path.parent.mkdir(parents=True, exist_ok=True)
    data = profile.replace(name=name).to_toml()
    tmp = path.with_suffix(".toml.tmp")
    tmp.write_text(data, encoding="utf-8")
    tmp.replace(path)  # a crash mid-write never leaves half a profile
    return path
