"""Checks made before any trainer process starts, each with a message saying how to fix it.

The rules are the trainer's own (TRAINERS.md §2.4 "Checks the trainer makes", §0, §1.3), found
here in a second instead of after minutes of model loading on a GPU machine.
"""

from __future__ import annotations

import functools
import json
import os
import re
import shutil
import tomllib
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from curator.core.export.writer import MANIFEST_NAME, read_manifest
from curator.core.trainers import Trainer

from .profile import (
    ATTENTION_BACKENDS,
    LOG_WITH,
    MIXED_PRECISIONS,
    NETWORK_MODULES,
    SAVE_PRECISIONS,
    TIMESTEP_SAMPLINGS,
    TRAINERS,
    WAN_TASKS,
    TrainingProfile,
    is_wan22,
    max_blocks_to_swap,
    needs_clip,
    text_problems,
)

# TRAINERS.md §1.4: musubi globs these suffixes (and their all-uppercase forms), case-sensitively.
IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".webp", ".bmp", ".avif")
VIDEO_SUFFIXES = (".mp4", ".webm", ".avi", ".mkv", ".mov", ".flv", ".wmv", ".m4v", ".mpg", ".mpeg")
# §1.2: keys only a video dataset table may hold; in [general] they are a schema error (§0.4).
VIDEO_ONLY_KEYS = ("target_frames", "frame_extraction", "frame_stride", "frame_sample",
                   "max_frames", "source_fps")


@dataclass(frozen=True)
class Problem:
    """One thing wrong with a run's settings; `message` says what and how to fix it."""

    field: str
    message: str
    severity: str = "error"  # error: the run would fail | warning: it runs, maybe not as meant
    #: What is wrong, stable across rewordings (`not_set`, `missing`, `too_many`…); with
    #: `field` it names the rule, so tests and scripts need not match the English.
    code: str = ""

    def __str__(self) -> str:
        return f"{self.severity}: {self.message}"

    def to_json(self) -> dict[str, str]:
        return {"field": self.field, "code": self.code, "message": self.message,
                "severity": self.severity}


def errors(problems: Iterable[Problem]) -> list[Problem]:
    return [p for p in problems if p.severity == "error"]


class ValidationError(Exception):
    """Raised by callers that refuse to run with errors; carries every problem found."""

    def __init__(self, problems: Sequence[Problem]) -> None:
        self.problems = list(problems)
        super().__init__("; ".join(p.message for p in errors(self.problems)) or "invalid profile")


# ---- dataset config ----------------------------------------------------------------------------

@dataclass(frozen=True)
class DatasetSection:
    """One `[[datasets]]` table of a musubi dataset config, as found on disk."""

    index: int
    kind: str  # video | image
    source: str  # the directory or JSONL file
    cache_directory: str
    media_files: int
    captioned: int
    num_repeats: int

    def to_json(self) -> dict[str, Any]:
        return dict(self.__dict__)


@dataclass(frozen=True)
class DatasetSummary:
    """What a dataset config holds; `items` is the trainer's "num train items" when counted."""

    path: str
    sections: tuple[DatasetSection, ...] = ()
    items: int | None = None
    problems: tuple[Problem, ...] = field(default=())
    steps_per_epoch: int | None = None

    @property
    def media_files(self) -> int:
        return sum(s.media_files for s in self.sections)

    def to_json(self) -> dict[str, Any]:
        return {"path": self.path, "items": self.items, "steps_per_epoch": self.steps_per_epoch,
                "media_files": self.media_files,
                "sections": [s.to_json() for s in self.sections],
                "problems": [p.to_json() for p in self.problems]}


def _glob_media(folder: Path, suffixes: Sequence[str]) -> list[Path]:
    allowed = set(suffixes) | {s.upper() for s in suffixes}
    try:
        return sorted(p for p in folder.iterdir() if p.is_file() and p.suffix in allowed)
    except OSError:
        return []


def _folder_media(folder: Path, suffixes: Sequence[str], caption_ext: str
                  ) -> tuple[tuple[Path, ...], tuple[Path, ...]]:
    """The media files of a dataset folder and those without a caption file, memoised.

    The Train tab re-checks after every edit; an export folder can hold tens of thousands of
    files, so the listing is reused while the folder's mtime (which any added or removed file,
    caption files included, changes) stays the same.
    """
    try:
        stamp = folder.stat().st_mtime_ns
    except OSError:
        return (), ()
    return _folder_media_cached(str(folder), stamp, tuple(suffixes), caption_ext)


@functools.lru_cache(maxsize=64)
def _folder_media_cached(folder: str, _stamp: int, suffixes: tuple[str, ...], caption_ext: str
                         ) -> tuple[tuple[Path, ...], tuple[Path, ...]]:
    files = tuple(_glob_media(Path(folder), suffixes))
    if not caption_ext:
        return files, ()
    present = {p.name for p in Path(folder).iterdir()} if files else set()
    return files, tuple(f for f in files if f.with_suffix(caption_ext).name not in present)


def _resolve(path_text: str, cwd: Path) -> Path:
    p = Path(path_text).expanduser()
    return p if p.is_absolute() else cwd / p


def export_counts(path: Path) -> dict[str, Any] | None:
    """The trainer-exact counts `curator export` stored beside this dataset config, if any.

    The export writes `manifest.json` next to the TOML with the counts of TRAINERS.md §1.10
    (`total_items`, `total_batches`, `steps_per_epoch`, per section). Returns None for a config
    Curator did not write, or one edited by hand after the export (its counts may be stale).
    """
    path = Path(path)
    manifest = read_manifest(path.parent)
    counts = manifest.get("counts")
    if manifest.get("config") != path.name or not isinstance(counts, dict):
        return None
    try:
        if path.stat().st_mtime > (path.parent / MANIFEST_NAME).stat().st_mtime + 2:
            return None
    except OSError:
        return None
    return counts


def inspect_dataset_config(path: Path, *, cwd: Path | None = None,
                           check_files: bool = True) -> DatasetSummary:
    """Read a musubi dataset config (TRAINERS.md §1) and check what caching would trip on.

    Args:
        path: the `.toml` (or `.json`) file.
        cwd: the trainer's working folder, which relative paths in the file resolve against.
        check_files: False when the folders are on another machine (remote script export).

    Returns:
        The sections with their media and caption counts, and the problems found.
    """
    path = Path(path)
    cwd = cwd or Path.cwd()
    problems: list[Problem] = []

    def bad(message: str, severity: str = "error") -> None:
        problems.append(Problem("dataset_config", message, severity))

    data = _read_dataset_config(path, bad)
    if data is None:
        return DatasetSummary(str(path), problems=tuple(problems))
    extra_top = sorted(set(data) - {"general", "datasets"})
    if extra_top:
        bad(f"{path.name}: only [general] and [[datasets]] may be at the top level, not "
            f"{', '.join(extra_top)} (§1.1)")
    general = data.get("general", {}) or {}
    for key in VIDEO_ONLY_KEYS:
        if key in general:
            bad(f"{path.name}: '{key}' is in [general], where the trainer rejects it; move it "
                f"into each video [[datasets]] table (§0.4)")
    datasets = data.get("datasets") or []
    if not datasets:
        bad(f"{path.name} has no [[datasets]] table; export at least one section")
    sections: list[DatasetSection] = []
    cache_dirs: dict[str, int] = {}
    for index, table in enumerate(datasets):
        section = _inspect_section(index, table, general, path, cwd, check_files, cache_dirs,
                                   bad)
        if section is not None:
            sections.append(section)
    counts = export_counts(path)
    if counts is None:
        bad(f"{path.name} has no counts from `curator export` (written by hand, or edited "
            f"after the export): the items per epoch are not known until the trainer caches; "
            f"re-export to see them", "warning")
        return DatasetSummary(str(path), tuple(sections), None, tuple(problems))
    return DatasetSummary(str(path), tuple(sections), counts.get("total_items"),
                          tuple(problems), counts.get("steps_per_epoch"))


def _read_dataset_config(path: Path, bad: Callable[..., None]) -> dict[str, Any] | None:
    """The config's tables, or None (with the reason) when the trainer could not read it."""
    if not path.is_file():
        bad(f"the dataset config {path} does not exist; export the dataset first (curator "
            f"export) or pass --dataset-config")
        return None
    if path.suffix.lower() not in (".toml", ".json"):
        bad(f"{path.name}: the trainer reads only .toml or .json dataset configs (§1.1)")
        return None
    try:
        text = path.read_text(encoding="utf-8")
        data = json.loads(text) if path.suffix.lower() == ".json" else tomllib.loads(text)
    except (OSError, UnicodeDecodeError, ValueError) as exc:
        bad(f"{path.name} cannot be read: {exc}")
        return None
    if path.suffix.lower() == ".toml":
        try:
            import toml

            toml.loads(text)
        except ImportError:
            pass
        except Exception as exc:  # noqa: BLE001 - any parse failure of the trainer's reader
            bad(f"{path.name} parses with Python's TOML reader but not with the 'toml' package "
                f"musubi-tuner uses: {exc}")
    return data


def _inspect_section(index: int, d: dict[str, Any], general: dict[str, Any], path: Path,
                     cwd: Path, check_files: bool, cache_dirs: dict[str, int],
                     bad: Callable[..., None]) -> DatasetSection | None:
    """One [[datasets]] table: its keys, its cache folder, and its media and captions."""
    where = f"[[datasets]] #{index + 1}"
    merged = {**general, **d}
    is_video = "video_directory" in d or "video_jsonl_file" in d
    kind = "video" if is_video else "image"
    directory = d.get(f"{kind}_directory")
    jsonl = d.get(f"{kind}_jsonl_file")
    if not directory and not jsonl:
        bad(f"{where} has neither image_directory nor video_directory (nor a JSONL file)")
        return None
    if isinstance(d.get("source_fps"), int) and not isinstance(d.get("source_fps"), bool):
        bad(f"{where}: source_fps = {d['source_fps']} must be written as a float "
            f"({d['source_fps']}.0), or the trainer's schema rejects it (§0.4)")
    source_text = str(directory or jsonl)
    source = _resolve(source_text, cwd)
    cache_text = d.get("cache_directory")
    if jsonl and not cache_text:
        bad(f"{where}: a JSONL dataset needs cache_directory (§1.3)")
    cache = str(_resolve(str(cache_text or source_text), cwd))
    if cache in cache_dirs:
        bad(f"{where} and [[datasets]] #{cache_dirs[cache] + 1} share the cache directory "
            f"{cache}; give each its own cache_directory (§0.5)")
    cache_dirs.setdefault(cache, index)
    repeats = merged.get("num_repeats", 1)
    media = captioned = 0
    if directory and not source.is_dir():
        if not check_files:
            bad(f"{where}: {source} is not on this machine; make sure it exists where the "
                f"commands run", "warning")
        else:
            hint = ""
            if not Path(source_text).is_absolute() and (path.parent / source_text).is_dir():
                hint = (f"; relative paths resolve against the trainer's folder {cwd}, not "
                        f"the config's folder: export with absolute paths")
            bad(f"{where}: {kind}_directory {source} does not exist{hint}")
    elif directory:
        media, captioned = _count_captioned(where, source, kind, merged.get("caption_extension"),
                                            bad)
    elif jsonl and not source.is_file():
        bad(f"{where}: {kind}_jsonl_file {source} does not exist",
            "error" if check_files else "warning")
    return DatasetSection(index, kind, str(source), cache, media, captioned,
                          int(repeats) if isinstance(repeats, int) else 1)


def _count_captioned(where: str, source: Path, kind: str, ext: str | None,
                     bad: Callable[..., None]) -> tuple[int, int]:
    """(media files, captioned ones) in a section's folder, with what caching would trip on."""
    is_video = kind == "video"
    files, uncaptioned = _folder_media(source, VIDEO_SUFFIXES if is_video else IMAGE_SUFFIXES,
                                       ext or "")
    media = captioned = len(files)
    if not ext:
        captioned = 0
        bad(f"{where}: no caption_extension (e.g. \".txt\"), so caching stops at the "
            f"first file (§1.3)")
    else:
        captioned = media - len(uncaptioned)
    if media == 0:
        bad(f"{where}: {source} holds no {kind} files the trainer reads "
            f"({', '.join(VIDEO_SUFFIXES if is_video else IMAGE_SUFFIXES)})")
    elif ext and captioned < media:
        missing = [f.name for f in uncaptioned][:3]
        if is_video:
            bad(f"{where}: {media - captioned} of {media} clips have no {ext} "
                f"caption (e.g. {', '.join(missing)}); caching crashes on the first "
                f"one (§0.6): caption them or remove them")
        else:
            bad(f"{where}: {media - captioned} of {media} images have no {ext} "
                f"caption and will be skipped silently (§0.6)", "warning")
    return media, captioned


def inspect_diffusion_pipe_dataset(path: Path, *, check_files: bool = True) -> DatasetSummary:
    """Read a diffusion-pipe dataset TOML (TRAINERS.md §4.1) and check its folders."""
    path = Path(path)
    problems: list[Problem] = []

    def bad(message: str, severity: str = "error") -> None:
        problems.append(Problem("dataset_config", message, severity))

    if not path.is_file():
        bad(f"the diffusion-pipe dataset config {path} does not exist; pass --dataset-config")
        return DatasetSummary(str(path), problems=tuple(problems))
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        bad(f"{path.name} cannot be read: {exc}")
        return DatasetSummary(str(path), problems=tuple(problems))
    if "datasets" in data and "directory" not in data:
        bad(f"{path.name} looks like a musubi-tuner config ([[datasets]]); diffusion-pipe needs "
            f"[[directory]] tables (§4.1)")
    if "resolutions" not in data and "size_buckets" not in data:
        bad(f"{path.name}: set 'resolutions' (e.g. [512]) or 'size_buckets' (§4.1)")
    frame_buckets = data.get("frame_buckets", [1])
    sections = []
    for index, d in enumerate(data.get("directory") or []):
        folder = Path(str(d.get("path", ""))).expanduser()
        media = captioned = 0
        if not d.get("path"):
            bad(f"[[directory]] #{index + 1} has no path")
            continue
        if check_files:
            if not folder.is_dir():
                bad(f"[[directory]] #{index + 1}: {folder} does not exist")
            else:
                files = [p for p in folder.iterdir() if p.is_file() and p.suffix.lower() not in
                         (".txt", ".npz", ".json", ".parquet", ".bak", ".db")]
                media = len(files)
                captioned = sum(1 for f in files if f.with_suffix(".txt").is_file())
                videos = sum(1 for f in files if f.suffix.lower() in VIDEO_SUFFIXES)
                if media == 0:
                    bad(f"[[directory]] #{index + 1}: {folder} is empty")
                if videos and max(d.get("frame_buckets", frame_buckets)) <= 1:
                    bad(f"[[directory]] #{index + 1}: frame_buckets has no bucket above 1, so "
                        f"all {videos} videos are dropped (§4.1); add e.g. [1, 33]")
        repeats = d.get("num_repeats", data.get("num_repeats", 1))
        sections.append(DatasetSection(index, "directory", str(folder), str(folder / "cache"),
                                       media, captioned, int(repeats)))
    if not sections:
        bad(f"{path.name} has no [[directory]] table")
    counts = export_counts(path) or {}
    return DatasetSummary(str(path), tuple(sections), counts.get("total_items"),
                          tuple(problems), counts.get("steps_per_epoch"))


def default_dataset_config(export_root: Path, trainer: str) -> Path | None:
    """The dataset config `curator export` wrote into `export_root` for this trainer, if any."""
    try:
        from curator.core.export.trainer_config import (
            DP_CONFIG_NAME,
            MUSUBI_CONFIG_NAME,
        )
    except ImportError:
        return None
    name = DP_CONFIG_NAME if trainer == "diffusion-pipe" else MUSUBI_CONFIG_NAME
    candidate = Path(export_root) / name
    return candidate if candidate.is_file() else None


def dataset_summary(profile: TrainingProfile, *, check_files: bool = True
                    ) -> DatasetSummary | None:
    """What the profile's dataset config holds (files, captions, the export's counts)."""
    if not profile.dataset_config or not Path(profile.dataset_config).is_file():
        return None
    if profile.trainer == "diffusion-pipe":
        return inspect_diffusion_pipe_dataset(Path(profile.dataset_config),
                                              check_files=check_files)
    return inspect_dataset_config(Path(profile.dataset_config),
                                  cwd=Path(profile.trainer_dir or "."), check_files=check_files)


# ---- profile -----------------------------------------------------------------------------------

def _is_pathlike(command: str) -> bool:
    return "/" in command or "\\" in command


def _extra_option_values(args: Sequence[str], option: str) -> list[str]:
    values = []
    for i, word in enumerate(args):
        if word == option and i + 1 < len(args):
            values.append(args[i + 1])
        elif word.startswith(option + "="):
            values.append(word.split("=", 1)[1])
    return values


def _check_boundary(value: Any, problems: list[Problem], where: str) -> None:
    """§0.10: `--timestep_boundary` is type=int in wan_train_network.py; 0.875 is rejected."""
    if isinstance(value, bool):
        problems.append(Problem("timestep_boundary", f"{where}: write a whole number like 875",
                                code="not_integer"))
        return
    if isinstance(value, str):
        try:
            value = int(value)
        except ValueError:
            try:
                number = float(value)
            except ValueError:
                problems.append(Problem("timestep_boundary", f"{where}: {value!r} is not a "
                                        f"number; write a whole number like 875",
                                        code="not_integer"))
                return
            value = number
    if isinstance(value, float):
        if value.is_integer():
            value = int(value)
        else:
            suggestion = round(value * 1000) if 0 < value < 1 else round(value)
            problems.append(Problem(
                "timestep_boundary",
                f"{where}: the trainer's --timestep_boundary takes an integer, so {value} is "
                f"rejected; write {suggestion} (the 0-1 form only works in wan_generate_video.py)",
                code="not_integer"))
            return
    if not 0 <= value <= 1000:
        problems.append(Problem("timestep_boundary", f"{where}: {value} is outside 0-1000; the "
                                f"Wan2.2 T2V default is 875, I2V 900", code="out_of_range"))


#: Fields holding model weights: beside existing, each must be a real file (`model_files`).
MODEL_FIELDS = ("vae", "t5", "clip", "dit", "dit_high_noise", "network_weights")

#: How a window user fixes a field (the CLI's hints name its options, e.g. "pass --vae").
WINDOW_HINTS = {
    "vae": "choose the VAE file in the form",
    "t5": "choose the T5 text encoder file in the form",
    "clip": "choose the CLIP model file in the form",
    "dit": "choose the DiT model file in the form",
    "dit_high_noise": "choose the high-noise DiT file in the form, or clear it",
    "network_weights": "choose the LoRA to continue from, or clear the field",
    "dataset_config": "export the dataset (Export tab) or choose its TOML in the form",
    "trainer_dir": "choose the folder you cloned the trainer into",
    "python": "choose the trainer's venv Python in the form",
    "output_dir": "choose an output folder in the form",
    "sample_prompts": "write the sample prompts in the form",
}


class _Checks:
    """Collects problems for one profile; `need_file` knows whether files are local."""

    def __init__(self, check_files: bool, audience: str = "cli") -> None:
        self.problems: list[Problem] = []
        self.check_files = check_files
        self.audience = audience

    def how(self, field_name: str, cli_hint: str) -> str:
        """The fix in the words of whoever reads it: the CLI's option, or the window's form."""
        if self.audience == "window":
            return WINDOW_HINTS.get(field_name, cli_hint)
        return cli_hint

    def error(self, field_name: str, message: str, code: str) -> None:
        self.problems.append(Problem(field_name, message, "error", code))

    def warn(self, field_name: str, message: str, code: str) -> None:
        self.problems.append(Problem(field_name, message, "warning", code))

    def known(self, field_name: str, value: str, choices: Sequence[str], label: str,
              code: str) -> bool:
        """An error naming the choices unless `value` is one of them; whether it is."""
        if value in choices:
            return True
        self.error(field_name, f"{label} {value!r} is unknown; use one of {', '.join(choices)}",
                   code)
        return False

    def positive(self, field_name: str, value: float, message: str) -> None:
        """An error (`not_positive`) unless `value` is above 0."""
        if value <= 0:
            self.error(field_name, message, "not_positive")

    def need_file(self, field_name: str, value: str, label: str, how: str, *,
                  folder: bool = False) -> None:
        how = self.how(field_name, how)
        if not value:
            self.error(field_name, f"{label} is not set; {how}", "not_set")
            return
        target = Path(value)
        if target.is_dir() if folder else target.is_file():
            if field_name in MODEL_FIELDS and self.check_files:
                from .model_files import model_file_problem

                if (why := model_file_problem(target)) is not None:
                    self.error(field_name, f"{label} {value} {why}; {how}", "not_a_model")
            return
        if not self.check_files:
            self.warn(field_name, f"{label} {value} is not on this machine; make sure it exists "
                                  f"where the commands run", "not_here")
        elif target.exists():
            self.error(field_name, f"{label} {value} is a {'file' if folder else 'folder'}, "
                                   f"not a {'folder' if folder else 'file'}; {how}", "wrong_kind")
        else:
            self.error(field_name, f"{label} {value} does not exist; {how}", "missing")

    def sorted(self) -> list[Problem]:
        return sorted(self.problems, key=lambda x: x.severity != "error")


def validate_profile(profile: TrainingProfile, steps: Iterable[str] | str = "all", *,
                     check_files: bool = True, check_dataset: bool = True,
                     audience: str = "cli") -> list[Problem]:
    """Everything that would make the run fail (errors) or not do what was meant (warnings).

    Args:
        profile: settings with absolute paths (`TrainingProfile.resolved`).
        steps: the steps about to run (`all`, or names from `commands.STEP_NAMES`); files only
            those steps read are required.
        check_files: False when the commands are exported for another machine: missing files
            become warnings there.
        check_dataset: read the dataset config and count its files.
        audience: "cli" or "window": how each message says to fix it (an option to pass, or
            a field of the Train tab's form).

    Returns:
        Problems, errors first; an empty list means ready to run.
    """
    from .commands import expand_steps

    p = profile
    names = expand_steps(steps)
    c = _Checks(check_files, audience)
    for field_name, message in text_problems(p):
        c.error(field_name, message, "control_character")
    if not c.known("trainer", p.trainer, TRAINERS, "trainer", "unknown_trainer"):
        return c.problems
    _check_trainer_dir(c, p, names)
    if check_files:
        _check_launchers(c, p, names)
    if p.trainer == "diffusion-pipe":
        _validate_diffusion_pipe(p, c, check_files, check_dataset)
        return c.sorted()
    _check_model_files(c, p, names)
    _check_memory(c, p)
    _check_timesteps(c, p)
    _check_network_and_loop(c, p)
    _check_output(c, p)
    # ---- dataset (exists, its folders hold captioned media, counts known)
    if check_dataset and (summary := dataset_summary(p, check_files=check_files)) is not None:
        c.problems.extend(summary.problems)
    return c.sorted()


def _check_trainer_dir(c: _Checks, p: TrainingProfile, names: Sequence[str]) -> None:
    """Where the trainer is: set, present, and the checkout it claims to be."""
    from .commands import musubi_script

    if not p.trainer_dir:
        c.error("trainer_dir", f"the {p.trainer} folder is not set; " + c.how(
            "trainer_dir", "pass --trainer-dir or set [trainer] dir in the profile"), "not_set")
    elif c.check_files and not Path(p.trainer_dir).is_dir():
        c.error("trainer_dir", f"the {p.trainer} folder {p.trainer_dir} does not exist; " + c.how(
            "trainer_dir", "pass --trainer-dir with the folder you cloned"), "missing")
    elif c.check_files and p.trainer == Trainer.MUSUBI:
        for step in names:
            script = Path(musubi_script(p, step))
            if not script.is_file():
                c.error("trainer_dir", f"{p.trainer_dir} has no src/musubi_tuner/"
                                       f"{script.name}; is it a musubi-tuner checkout?",
                        "not_a_checkout")
                break
    elif c.check_files and p.trainer == "diffusion-pipe":
        if not (Path(p.trainer_dir) / "train.py").is_file():
            c.error("trainer_dir", f"{p.trainer_dir} has no train.py; is it a diffusion-pipe "
                                   f"checkout?", "not_a_checkout")


def _check_launchers(c: _Checks, p: TrainingProfile, names: Sequence[str]) -> None:
    """What runs the trainer: its Python, accelerate or deepspeed, found on this machine."""
    from .commands import resolve_deepspeed, resolve_python
    from .model_files import cached_python_problem, trainer_src

    python = resolve_python(p)
    fix = c.how("python", "pass --python with the trainer's venv python")
    runs = True
    if _is_pathlike(python):
        if not os.access(python, os.X_OK):
            runs = False
            c.error("python", f"the Python {python} does not exist or cannot run; {fix}",
                    "not_runnable")
    elif not shutil.which(python):
        runs = False
        c.error("python", f"no '{python}' on PATH; {fix}", "not_on_path")
    # Starting the interpreter takes seconds: only an answer found already is used here
    # (`model_files.python_modules_problem` asks it, off the window's GUI thread).
    src = trainer_src(p.trainer_dir)
    checked, problem = cached_python_problem(python, src) if runs else (False, None)
    if checked and problem is not None and p.trainer == Trainer.MUSUBI:
        c.error("python", f"the Python '{python}' {problem}; install the trainer's requirements "
                          f"into it, or {fix}", "missing_modules")
    if p.trainer == Trainer.MUSUBI and "train" in names and p.accelerate:
        if not (shutil.which(p.accelerate) or os.access(p.accelerate, os.X_OK)):
            c.error("accelerate", f"the accelerate command {p.accelerate} is not found; leave "
                                  f"it empty to run `python -m accelerate.commands.launch`",
                    "not_on_path")
    if p.trainer == "diffusion-pipe":
        deepspeed = resolve_deepspeed(p)
        if not (shutil.which(deepspeed) or os.access(deepspeed, os.X_OK)):
            c.error("dp_deepspeed", f"the deepspeed launcher '{deepspeed}' is not found; "
                                    f"install deepspeed in the trainer's venv or set "
                                    f"[diffusion_pipe] deepspeed", "not_on_path")


def _check_model_files(c: _Checks, p: TrainingProfile, names: Sequence[str]) -> None:
    """The task and the files each step reads (§2.2-2.4)."""
    if p.task not in WAN_TASKS:
        hint = " (Wan2.2 5B is not supported by musubi-tuner)" if "5B" in p.task else ""
        c.error("task", f"task {p.task!r} is not one the trainer accepts{hint}; choose one of "
                        f"{', '.join(WAN_TASKS)}", "unknown_task")
    if "cache-latents" in names or "cache-text" in names or "train" in names:
        c.need_file("dataset_config", p.dataset_config, "the dataset config",
                    "export the dataset (curator export) or pass --dataset-config")
    if "cache-latents" in names:
        c.need_file("vae", p.vae, "the VAE (wan_2.1_vae.safetensors)", "pass --vae")
        if needs_clip(p.task):
            c.need_file("clip", p.clip, "the CLIP model (models_clip_open-clip-xlm-roberta-"
                        "large-vit-huge-14.pth) that Wan2.1 I2V caching needs",
                        "set [models] clip")
    if "cache-text" in names:
        c.need_file("t5", p.t5, "the T5 text encoder (models_t5_umt5-xxl-enc-bf16.pth)",
                    "pass --t5")
    if "train" in names:
        _check_train_files(c, p)


def _check_train_files(c: _Checks, p: TrainingProfile) -> None:
    c.need_file("dit", p.dit, "the DiT model", "pass --dit")
    if p.dit_high_noise:
        if not is_wan22(p.task):
            c.error("dit_high_noise", f"--dit_high_noise is for Wan2.2 (t2v-A14B, i2v-A14B), "
                                      f"not {p.task}; clear [models] dit_high_noise",
                    "not_wan22")
        c.need_file("dit_high_noise", p.dit_high_noise, "the high-noise DiT",
                    "set [models] dit_high_noise")
    if p.network_weights:
        c.need_file("network_weights", p.network_weights, "the LoRA to continue from",
                    "fix [network] weights")
    if p.resume:
        c.need_file("resume", p.resume, "the saved state to resume", "pick a *-state folder "
                    "in the output folder", folder=True)
    if p.sample_prompts:
        c.need_file("vae", p.vae, "the VAE, which sampling needs", "pass --vae")
        c.need_file("t5", p.t5, "the T5 text encoder, which sampling needs", "pass --t5")
        if needs_clip(p.task):
            c.need_file("clip", p.clip, "the CLIP model, which Wan2.1 I2V sampling needs",
                        "set [models] clip")
        c.need_file("sample_prompts", p.sample_prompts, "the sample-prompt file",
                    "write one in the Train tab or fix [sampling] prompts")
        _validate_prompt_file(p, c.problems)


def _check_memory(c: _Checks, p: TrainingProfile) -> None:
    """fp8, attention, block swap and precision (§2.4)."""
    if p.fp8_scaled and not p.fp8_base:
        c.error("fp8_scaled", "--fp8_scaled needs --fp8_base: turn on [memory] fp8_base, or "
                              "turn off fp8_scaled", "needs_fp8_base")
    dit_names = " ".join(Path(x).name.lower() for x in (p.dit, p.dit_high_noise) if x)
    if p.fp8_scaled and ("fp8" in dit_names or "e4m3" in dit_names):
        c.warn("fp8_scaled", "the DiT file name says fp8: --fp8_scaled refuses fp8 weights "
                             "(§3); use the bf16/fp16 file, or keep fp8_base and turn off "
                             "fp8_scaled", "fp8_weights")
    if p.attention not in ATTENTION_BACKENDS:
        if "sage" in p.attention:
            c.error("attention", "--sage_attn is refused by the trainer for training (it "
                                 "raises ValueError); use sdpa (or xformers, flash_attn, "
                                 "flash3)", "sage_attention")
        else:
            c.error("attention", f"attention {p.attention!r} is unknown; use one of "
                                 f"{', '.join(ATTENTION_BACKENDS)}", "unknown_attention")
    for extra_name in ("extra_train_args", "extra_cache_latents_args", "extra_cache_text_args"):
        if "--sage_attn" in getattr(p, extra_name):
            c.error(extra_name, "--sage_attn is refused by the trainer for training; remove it "
                                "from the extra arguments and use [memory] attention = "
                                "\"sdpa\"", "sage_attention")
    _check_block_swap(c, p)
    if p.mixed_precision not in MIXED_PRECISIONS:
        c.error("mixed_precision", f"mixed_precision must be one of "
                                   f"{', '.join(MIXED_PRECISIONS)}", "unknown_precision")
    elif "bf16" in dit_names and p.mixed_precision == "fp16" or (
            "fp16" in dit_names and p.mixed_precision == "bf16"):
        weights = "bf16" if "bf16" in dit_names else "fp16"
        c.warn("mixed_precision", f"the DiT file name suggests {weights} weights but "
                                  f"mixed_precision is {p.mixed_precision}; the trainer "
                                  f"requires them to match (§2.4)", "precision_mismatch")
    if p.save_precision not in SAVE_PRECISIONS:
        c.error("save_precision", f"save_precision must be one of "
                                  f"{', '.join(SAVE_PRECISIONS)}", "unknown_precision")


def _check_block_swap(c: _Checks, p: TrainingProfile) -> None:
    limit = max_blocks_to_swap(p.task)
    if isinstance(p.blocks_to_swap, bool) or not isinstance(p.blocks_to_swap, int):
        c.error("blocks_to_swap", "blocks_to_swap must be a whole number", "not_integer")
    elif p.blocks_to_swap < 0:
        c.error("blocks_to_swap", "blocks_to_swap cannot be negative; use 0 for no swapping",
                "negative")
    elif p.blocks_to_swap > limit:
        blocks = 30 if limit == 29 else 40
        c.error("blocks_to_swap", f"blocks_to_swap {p.blocks_to_swap} is too many: {p.task} "
                                  f"has {blocks} blocks, so at most {limit} can be swapped",
                "too_many")
    if p.offload_inactive_dit and p.blocks_to_swap:
        c.error("offload_inactive_dit", "--offload_inactive_dit cannot be used with "
                                        "--blocks_to_swap; set blocks_to_swap = 0 or turn off "
                                        "offload_inactive_dit", "with_block_swap")
    if p.offload_inactive_dit and not p.dit_high_noise:
        c.warn("offload_inactive_dit", "offload_inactive_dit does nothing without a high-noise "
                                       "DiT (--dit_high_noise)", "no_high_noise_dit")


def _check_timesteps(c: _Checks, p: TrainingProfile) -> None:
    """§0.10, §2.4."""
    if p.timestep_boundary is not None:
        _check_boundary(p.timestep_boundary, c.problems, "[timesteps] boundary")
        if not is_wan22(p.task):
            c.warn("timestep_boundary", f"a timestep boundary only matters for Wan2.2 A14B, not "
                                        f"{p.task}", "not_wan22")
    for value in _extra_option_values(p.extra_train_args, "--timestep_boundary"):
        _check_boundary(value, c.problems, "--timestep_boundary in the extra arguments")
    c.known("timestep_sampling", p.timestep_sampling, TIMESTEP_SAMPLINGS, "timestep sampling",
            "unknown_sampling")
    c.positive("discrete_flow_shift", p.discrete_flow_shift,
               "discrete_flow_shift must be above 0 (3.0 is usual)")
    for name in ("min_timestep", "max_timestep"):
        value = getattr(p, name)
        if value is not None and not 0 <= value <= 1000:
            c.error(name, f"{name} {value} is outside 0-1000", "out_of_range")
    if (p.min_timestep is not None and p.max_timestep is not None
            and p.min_timestep >= p.max_timestep):
        c.error("min_timestep", "min_timestep must be below max_timestep", "order")


def _check_network_and_loop(c: _Checks, p: TrainingProfile) -> None:
    """Network, optimizer and the training loop's length."""
    if p.network_module not in NETWORK_MODULES:
        c.warn("network_module", f"network module {p.network_module!r} is not one of "
                                 f"{', '.join(NETWORK_MODULES)}; make sure the trainer has it",
               "unknown_module")
    c.positive("network_dim", p.network_dim,
               "network dim must be a positive whole number (32 is usual)")
    c.positive("network_alpha", p.network_alpha,
               "network alpha must be above 0 (often equal to dim)")
    for arg in [*p.network_args, *p.optimizer_args]:
        if "=" not in arg:
            c.error("network_args", f"{arg!r} is not key=value; the trainer splits on '='",
                    "not_key_value")
    c.positive("learning_rate", p.learning_rate,
               "the learning rate must be above 0 (5e-5 to 2e-4 is usual)")
    if p.gradient_accumulation_steps < 1:
        c.error("gradient_accumulation_steps", "gradient_accumulation_steps must be at least 1",
                "below_one")
    if p.max_data_loader_n_workers < 0:
        c.error("max_data_loader_n_workers", "max_data_loader_n_workers cannot be negative",
                "negative")
    if p.max_train_epochs is None and p.max_train_steps is None:
        c.warn("max_train_epochs", "neither max_train_epochs nor max_train_steps is set, so the "
                                   "trainer stops after its default 1600 steps", "no_length")
    elif p.max_train_epochs is not None and p.max_train_steps is not None:
        c.warn("max_train_steps", "max_train_epochs overrides max_train_steps in the trainer",
               "overridden")
    for name in ("max_train_epochs", "max_train_steps", "save_every_n_epochs",
                 "save_every_n_steps", "save_last_n_epochs", "sample_every_n_epochs",
                 "sample_every_n_steps"):
        value = getattr(p, name)
        if value is not None and value < 1:
            c.error(name, f"{name} must be at least 1, or left out", "below_one")


def _check_output(c: _Checks, p: TrainingProfile) -> None:
    """Saving, naming, logging and sampling cadence."""
    if p.save_every_n_epochs is None and p.save_every_n_steps is None:
        c.warn("save_every_n_epochs", "no save cadence: only the final LoRA is written, so "
                                      "there is nothing to compare; set save_every_n_epochs = 1",
               "no_cadence")
    if not p.effective_output_name or re.search(r"[/\\\n]", p.effective_output_name):
        c.error("output_name", "the output name must be a plain file name, without '/'",
                "not_a_file_name")
    if not p.output_dir:
        c.error("output_dir", "the output folder is not set; "
                + c.how("output_dir", "pass --output-dir"), "not_set")
    if p.log_with and p.log_with not in LOG_WITH:
        c.error("log_with", f"log_with must be one of {', '.join(LOG_WITH)} (or empty)",
                "unknown_logger")
    if p.sample_prompts and p.sample_every_n_epochs is None and p.sample_every_n_steps is None \
            and not p.sample_at_first:
        c.warn("sample_every_n_epochs", "sample prompts are set but no sampling cadence; set "
                                        "[sampling] every_n_epochs = 1", "no_cadence")


def _validate_prompt_file(p: TrainingProfile, problems: list[Problem]) -> None:
    from .prompts import PromptSyntaxError, read_prompt_file, validate_prompts

    path = Path(p.sample_prompts)
    if not path.is_file():
        return
    if path.suffix.lower() != ".txt":
        return  # .toml/.json prompt files use another syntax; the trainer checks those
    try:
        prompts = read_prompt_file(path)
    except (OSError, UnicodeDecodeError) as exc:
        problems.append(Problem("sample_prompts", f"cannot read {path}: {exc}"))
        return
    except PromptSyntaxError as exc:
        problems.append(Problem("sample_prompts", f"{path.name} {exc}"))
        return
    problems.extend(validate_prompts(prompts, task=p.task, base_dir=Path(p.trainer_dir or ".")))


def _validate_diffusion_pipe(p: TrainingProfile, c: _Checks, check_files: bool,
                             check_dataset: bool) -> None:
    error, warn, need_file = c.error, c.warn, c.need_file
    need_file("dp_ckpt_path", p.dp_ckpt_path, "the official Wan checkpoint folder (ckpt_path, "
              "with config.json, the VAE and T5)", "set [diffusion_pipe] ckpt_path", folder=True)
    if check_files and p.dp_ckpt_path and Path(p.dp_ckpt_path).is_dir() and not (
            Path(p.dp_ckpt_path) / "config.json").is_file():
        error("dp_ckpt_path", f"{p.dp_ckpt_path} has no config.json; point ckpt_path at the "
                              f"official Wan2.1 folder", "no_config")
    need_file("dataset_config", p.dataset_config, "the diffusion-pipe dataset config",
              "pass --dataset-config with a diffusion-pipe dataset TOML")
    if p.dit:
        need_file("dit", p.dit, "the transformer file", "fix [models] dit or leave it empty")
    if p.t5:
        need_file("t5", p.t5, "the UMT5 file", "fix [models] t5 or leave it empty")
    if p.dit_high_noise:
        error("dit_high_noise", "diffusion-pipe trains one Wan2.2 expert per run: point [models] "
                                "dit at the low- or high-noise folder and clear dit_high_noise",
              "one_expert")
    if p.network_alpha != p.network_dim:
        warn("network_alpha", f"diffusion-pipe forces alpha = rank, so alpha {p.network_alpha:g} "
                              f"is ignored (rank {p.network_dim})", "alpha_is_rank")
    if p.timestep_boundary is not None:
        warn("timestep_boundary", "diffusion-pipe has no timestep boundary; use min_timestep/"
                                  "max_timestep for an expert's range", "no_boundary")
    if p.blocks_to_swap > max_blocks_to_swap(p.task):
        error("blocks_to_swap", f"blocks_to_swap {p.blocks_to_swap} is more than the model's "
                                f"{max_blocks_to_swap(p.task)} swappable blocks", "too_many")
    if p.dp_activation_checkpointing not in ("true", "unsloth"):
        error("dp_activation_checkpointing", "activation_checkpointing must be \"true\" or "
                                             "\"unsloth\"", "unknown_mode")
    if p.dp_video_clip_mode not in ("single_beginning", "single_middle"):
        error("dp_video_clip_mode", "video_clip_mode must be single_beginning or single_middle "
                                    "(multiple_overlapping raises NotImplementedError, §4.2)",
              "unknown_mode")
    if p.learning_rate <= 0:
        error("learning_rate", "the learning rate must be above 0", "not_positive")
    if check_dataset and (summary := dataset_summary(p, check_files=check_files)) is not None:
        c.problems.extend(summary.problems)
