"""A dataset plan: the sections of an export, saved as TOML in the project or shipped as a preset.

A plan says what the trainer will see: image and video sections, each with its resolution, its
frame extraction, repeats, batch size and the clips that feed it. It is the same object the GUI
Export tab edits, the CLI loads with `--plan`/`--preset`, and the counter and the writer read.

File format (all keys optional except `sections`)::

    name = "my-plan"
    fps = 16.0                 # export fps (default: the project's target fps); "source"
                               # keeps each clip's own rate and writes musubi's source_fps
    enable_bucket = true
    bucket_no_upscale = false
    crf = 18                   # H.264 quality of the exported clips
    x264_preset = "medium"
    epochs = 16

    [[sections]]
    name = "clips_768"
    kind = "videos"            # or "images"
    resolution = [768, 416]
    frame_extraction = "head"
    target_frames = [1, 21]
    num_repeats = 1
    batch_size = 1
    tags = []                  # only accepted clips carrying one of these tags (empty: all)
    sources = []               # only clips of these sources (file name, stem or glob)
"""

from __future__ import annotations

import dataclasses
import fnmatch
import os
import re
import tempfile
import tomllib
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import tomli_w

from curator.core.export.extraction import ARCHITECTURE_FPS, MODES, FrameExtraction
from curator.core.trainers import PLAN_TRAINERS
from curator.resources import resource_path

KINDS = ("images", "videos")
TRAINERS = PLAN_TRAINERS
PLAN_FILE = Path("plans") / "dataset.toml"  # inside the project folder
DEFAULT_PRESET = "wan21-14b-style-24gb"
# used with fullmatch: "$" would let a final newline through (a folder named "clips\n")
_NAME_RE = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]*")
# C0 and C1 controls and DEL: TOML refuses most of them even in a comment, and none belongs
# in a name that is written into the trainer's config.
_CONTROL_RE = re.compile("[\x00-\x1f\x7f-\x9f]")


class PlanError(ValueError):
    """A plan that cannot be used; the message says which key is wrong and why."""


@dataclass(frozen=True)
class Selection:
    """Which accepted clips (or images) feed a section: all of them, or by tag or source."""

    tags: tuple[str, ...] = ()
    sources: tuple[str, ...] = ()

    @property
    def everything(self) -> bool:
        return not self.tags and not self.sources

    def matches(self, tags: Iterable[str], source: Path | None) -> bool:
        """True when an item with these tags (from this source file) belongs to the section."""
        if self.tags and not set(self.tags) & set(tags):
            return False
        if self.sources:
            if source is None:
                return False
            names = (str(source), source.name, source.stem)
            if not any(fnmatch.fnmatchcase(name, pattern) for pattern in self.sources
                       for name in names):
                return False
        return True


@dataclass(frozen=True)
class Section:
    """One `[[datasets]]` (musubi) or `[[directory]]` (diffusion-pipe) of the export.

    Attributes:
        name: unique within the plan; names the cache directory and, when needed, the folder.
        kind: "images" or "videos".
        resolution: `(width, height)`, the pixel budget of its buckets.
        extraction: how windows are cut from each clip (videos only).
        num_repeats: how often each cache file is listed per epoch.
        batch_size: per-dataset batch (musubi).
        select: which accepted clips or images feed it.
    """

    name: str
    kind: str
    resolution: tuple[int, int]
    extraction: FrameExtraction | None = None
    num_repeats: int = 1
    batch_size: int = 1
    select: Selection = Selection()

    @property
    def is_video(self) -> bool:
        return self.kind == "videos"

    def describe(self) -> str:
        """A short line for people: `videos 768×416 head [1, 21]`."""
        text = f"{self.kind} {self.resolution[0]}×{self.resolution[1]}"
        if self.extraction is not None:
            ext = self.extraction
            text += f" {ext.mode} {list(ext.target_frames)}"
            if ext.mode == "uniform":
                text += f" ×{ext.frame_sample}"
            elif ext.mode == "slide":
                text += f" stride {ext.frame_stride}"
            elif ext.mode == "full":
                text = (f"{self.kind} {self.resolution[0]}×{self.resolution[1]} full "
                        f"≤{ext.max_frames}")
        if self.num_repeats != 1:
            text += f" ×{self.num_repeats} repeats"
        return text


@dataclass(frozen=True)
class DiffusionPipeOptions:
    """What diffusion-pipe needs beyond the sections (§4.1, §4.3).

    The batch settings live in its main config, not in the dataset TOML; they are here because
    the epoch length depends on them (buckets are truncated to a multiple of the global batch).

    Attributes:
        micro_batch_size_per_gpu: video batch per GPU.
        image_micro_batch_size_per_gpu: image batch per GPU; None: the video one.
        gradient_accumulation_steps: part of the global batch.
        world_size: data-parallel GPUs.
        enable_ar_bucket: False crops everything square.
        ar_buckets: width/height ratios; empty: the ratios of the sections' resolutions.
        framerate: the model's fps (16 for Wan).
    """

    micro_batch_size_per_gpu: int = 1
    image_micro_batch_size_per_gpu: int | None = None
    gradient_accumulation_steps: int = 1
    world_size: int = 1
    enable_ar_bucket: bool = True
    ar_buckets: tuple[float, ...] = ()
    framerate: float = 16.0

    def global_batch(self, images: bool) -> int:
        micro = self.micro_batch_size_per_gpu
        if images and self.image_micro_batch_size_per_gpu is not None:
            micro = self.image_micro_batch_size_per_gpu
        return micro * self.gradient_accumulation_steps * self.world_size


@dataclass(frozen=True)
class DatasetPlan:
    """The whole export: sections plus the settings shared by all of them.

    Attributes:
        name: the plan's name (a preset's name, or the person's).
        sections: in the order they are written to the trainer's TOML.
        fps: the fps clips are transcoded to; None: the project's target fps (16 for Wan).
        keep_source_fps: transcode at each clip's own rate and let musubi drop frames with
            `source_fps` (only possible when every clip of a section shares one rate).
        architecture: musubi's architecture key (`wan`); sets the training fps.
        enable_bucket, bucket_no_upscale: musubi `[general]` keys (§1.2, §1.5).
        crf, x264_preset: H.264 quality of the exported clips.
        epochs, gradient_accumulation_steps, num_processes: for the steps figure (§1.10.7).
        trainer: the default trainer for this plan.
        diffusion_pipe: settings used when exporting for diffusion-pipe.
    """

    name: str
    sections: tuple[Section, ...]
    description: str = ""
    fps: float | None = None
    keep_source_fps: bool = False
    architecture: str = "wan"
    enable_bucket: bool = True
    bucket_no_upscale: bool = False
    crf: int = 18
    x264_preset: str = "medium"
    epochs: int = 16
    gradient_accumulation_steps: int = 1
    num_processes: int = 1
    trainer: str = "musubi"
    diffusion_pipe: DiffusionPipeOptions = field(default_factory=DiffusionPipeOptions)

    @property
    def training_fps(self) -> float:
        return ARCHITECTURE_FPS[self.architecture]

    def section(self, name: str) -> Section:
        for section in self.sections:
            if section.name == name:
                return section
        raise KeyError(name)

    def replace(self, **changes: Any) -> DatasetPlan:
        return dataclasses.replace(self, **changes)

    def to_toml_dict(self) -> dict[str, Any]:
        """The plan as the TOML file stores it (the inverse of `plan_from_dict`)."""
        data: dict[str, Any] = {"name": self.name}
        if self.description:
            data["description"] = self.description
        if self.keep_source_fps:
            data["fps"] = "source"
        elif self.fps is not None:
            data["fps"] = float(self.fps)
        data.update(architecture=self.architecture, trainer=self.trainer,
                    enable_bucket=self.enable_bucket, bucket_no_upscale=self.bucket_no_upscale,
                    crf=self.crf, x264_preset=self.x264_preset, epochs=self.epochs,
                    gradient_accumulation_steps=self.gradient_accumulation_steps,
                    num_processes=self.num_processes)
        sections = []
        for s in self.sections:
            entry: dict[str, Any] = {"name": s.name, "kind": s.kind,
                                     "resolution": list(s.resolution)}
            if s.extraction is not None:
                entry.update(s.extraction.dataset_keys())
            entry["num_repeats"] = s.num_repeats
            entry["batch_size"] = s.batch_size
            if s.select.tags:
                entry["tags"] = list(s.select.tags)
            if s.select.sources:
                entry["sources"] = list(s.select.sources)
            sections.append(entry)
        data["sections"] = sections
        dp = self.diffusion_pipe
        dp_data: dict[str, Any] = {
            "micro_batch_size_per_gpu": dp.micro_batch_size_per_gpu,
            "gradient_accumulation_steps": dp.gradient_accumulation_steps,
            "world_size": dp.world_size,
            "enable_ar_bucket": dp.enable_ar_bucket,
            "framerate": float(dp.framerate),
        }
        if dp.image_micro_batch_size_per_gpu is not None:
            dp_data["image_micro_batch_size_per_gpu"] = dp.image_micro_batch_size_per_gpu
        if dp.ar_buckets:
            dp_data["ar_buckets"] = [float(a) for a in dp.ar_buckets]
        data["diffusion_pipe"] = dp_data
        return data

    def to_json(self) -> dict[str, Any]:
        return self.to_toml_dict()


# --- reading -------------------------------------------------------------------------------

_PLAN_KEYS = {"name", "description", "fps", "architecture", "trainer", "enable_bucket",
              "bucket_no_upscale", "crf", "x264_preset", "epochs",
              "gradient_accumulation_steps", "num_processes", "sections", "diffusion_pipe"}
_SECTION_KEYS = {"name", "kind", "resolution", "frame_extraction", "target_frames",
                 "frame_stride", "frame_sample", "max_frames", "num_repeats", "batch_size",
                 "tags", "sources"}
_VIDEO_ONLY = {"frame_extraction", "target_frames", "frame_stride", "frame_sample", "max_frames"}
_DP_KEYS = {"micro_batch_size_per_gpu", "image_micro_batch_size_per_gpu",
            "gradient_accumulation_steps", "world_size", "enable_ar_bucket", "ar_buckets",
            "framerate"}
_X264_PRESETS = ("ultrafast", "superfast", "veryfast", "faster", "fast", "medium", "slow",
                 "slower", "veryslow", "placebo")


def _int(value: Any, where: str, *, minimum: int = 1) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise PlanError(f"{where} must be a whole number, not {value!r}")
    if value < minimum:
        raise PlanError(f"{where} must be at least {minimum}, not {value}")
    return value


def _bool(value: Any, where: str) -> bool:
    if not isinstance(value, bool):
        raise PlanError(f"{where} must be true or false, not {value!r}")
    return value


def _strings(value: Any, where: str) -> tuple[str, ...]:
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise PlanError(f"{where} must be a list of strings")
    return tuple(value)


def _resolution(value: Any, where: str) -> tuple[int, int]:
    if isinstance(value, int) and not isinstance(value, bool):
        value = [value, value]
    if (not isinstance(value, list) or len(value) != 2
            or not all(isinstance(v, int) and not isinstance(v, bool) and v > 0 for v in value)):
        raise PlanError(f"{where} must be [width, height] in pixels, not {value!r}")
    return int(value[0]), int(value[1])


def _unknown(data: dict[str, Any], allowed: set[str], where: str) -> None:
    extra = sorted(set(data) - allowed)
    if extra:
        raise PlanError(f"{where}: unknown key{'s' if len(extra) > 1 else ''} "
                        f"{', '.join(extra)}")


def _section_from_dict(data: Any, index: int) -> Section:
    where = f"section {index + 1}"
    if not isinstance(data, dict):
        raise PlanError(f"{where} must be a table")
    _unknown(data, _SECTION_KEYS, where)
    name = data.get("name")
    if not isinstance(name, str) or not _NAME_RE.fullmatch(name):
        raise PlanError(f"{where}: name must be letters, digits, '.', '_' or '-' "
                        f"(it names a folder), not {name!r}")
    where = f"section '{name}'"
    kind = data.get("kind")
    if kind not in KINDS:
        raise PlanError(f"{where}: kind must be 'images' or 'videos', not {kind!r}")
    resolution = _resolution(data.get("resolution"), f"{where}: resolution")
    extraction = None
    if kind == "videos":
        mode = data.get("frame_extraction", "head")
        if mode not in MODES:
            raise PlanError(f"{where}: frame_extraction must be one of {', '.join(MODES)}, "
                            f"not {mode!r}")
        targets = data.get("target_frames", [1])
        if (not isinstance(targets, list) or not targets
                or not all(isinstance(t, int) and not isinstance(t, bool) for t in targets)):
            raise PlanError(f"{where}: target_frames must be a list of whole numbers")
        extraction = FrameExtraction(
            mode=mode,
            target_frames=tuple(targets),
            frame_stride=_int(data.get("frame_stride", 1), f"{where}: frame_stride"),
            frame_sample=_int(data.get("frame_sample", 1), f"{where}: frame_sample"),
            max_frames=_int(data.get("max_frames", 129), f"{where}: max_frames"),
        )
        problems = extraction.problems()
        if problems:
            raise PlanError(f"{where}: {problems[0]}")
    else:
        misplaced = sorted(set(data) & _VIDEO_ONLY)
        if misplaced:
            raise PlanError(f"{where}: {', '.join(misplaced)} only apply to video sections")
    return Section(
        name=name,
        kind=kind,
        resolution=resolution,
        extraction=extraction,
        num_repeats=_int(data.get("num_repeats", 1), f"{where}: num_repeats"),
        batch_size=_int(data.get("batch_size", 1), f"{where}: batch_size"),
        select=Selection(tags=_strings(data.get("tags", []), f"{where}: tags"),
                         sources=_strings(data.get("sources", []), f"{where}: sources")),
    )


def plan_from_dict(data: dict[str, Any], *, default_name: str = "plan") -> DatasetPlan:
    """Build and validate a plan from its TOML table.

    Raises:
        PlanError: a key is unknown, misspelt, of the wrong type or out of range.
    """
    if not isinstance(data, dict):
        raise PlanError("a plan must be a TOML table")
    _unknown(data, _PLAN_KEYS, "plan")
    raw_sections = data.get("sections")
    if not isinstance(raw_sections, list) or not raw_sections:
        raise PlanError("a plan needs at least one [[sections]] table")
    sections = tuple(_section_from_dict(s, i) for i, s in enumerate(raw_sections))
    names = [s.name for s in sections]
    duplicated = sorted({n for n in names if names.count(n) > 1})
    if duplicated:
        raise PlanError(f"section names must be unique; repeated: {', '.join(duplicated)}")
    fps, keep_source_fps = _plan_fps(data.get("fps"))
    architecture = data.get("architecture", "wan")
    if architecture not in ARCHITECTURE_FPS:
        raise PlanError(f"architecture must be one of {', '.join(ARCHITECTURE_FPS)}, "
                        f"not {architecture!r}")
    trainer = data.get("trainer", "musubi")
    if trainer not in TRAINERS:
        raise PlanError(f"trainer must be one of {', '.join(TRAINERS)}, not {trainer!r}")
    preset = data.get("x264_preset", "medium")
    if preset not in _X264_PRESETS:
        raise PlanError(f"x264_preset must be one of {', '.join(_X264_PRESETS)}")
    crf = data.get("crf", 18)
    if isinstance(crf, bool) or not isinstance(crf, int) or not 0 <= crf <= 51:
        raise PlanError(f"crf must be a whole number from 0 (lossless) to 51, not {crf!r}")
    dp = _diffusion_pipe_from_dict(data.get("diffusion_pipe", {}), architecture)
    name = _plan_name(data.get("name", default_name))
    description = data.get("description", "")
    if not isinstance(description, str):
        raise PlanError("description must be a string")
    return DatasetPlan(
        name=name,
        description=description,
        sections=sections,
        fps=fps,
        keep_source_fps=keep_source_fps,
        architecture=architecture,
        enable_bucket=_bool(data.get("enable_bucket", True), "enable_bucket"),
        bucket_no_upscale=_bool(data.get("bucket_no_upscale", False), "bucket_no_upscale"),
        crf=crf,
        x264_preset=preset,
        epochs=_int(data.get("epochs", 16), "epochs"),
        gradient_accumulation_steps=_int(data.get("gradient_accumulation_steps", 1),
                                         "gradient_accumulation_steps"),
        num_processes=_int(data.get("num_processes", 1), "num_processes"),
        trainer=trainer,
        diffusion_pipe=dp,
    )


def _plan_fps(fps_value: Any) -> tuple[float | None, bool]:
    """`fps`: a positive number, "source" (keep each clip's own), or absent."""
    keep_source_fps = fps_value == "source"
    if fps_value is None or keep_source_fps:
        fps: float | None = None
    elif isinstance(fps_value, (int, float)) and not isinstance(fps_value, bool) and fps_value > 0:
        fps = float(fps_value)
    else:
        raise PlanError(f"fps must be a positive number or \"source\", not {fps_value!r}")
    return fps, keep_source_fps


def _diffusion_pipe_from_dict(dp_data: Any, architecture: str) -> DiffusionPipeOptions:
    """The [diffusion_pipe] table."""
    if not isinstance(dp_data, dict):
        raise PlanError("[diffusion_pipe] must be a table")
    _unknown(dp_data, _DP_KEYS, "[diffusion_pipe]")
    image_micro = dp_data.get("image_micro_batch_size_per_gpu")
    ar_buckets = dp_data.get("ar_buckets", [])
    if not isinstance(ar_buckets, list):
        raise PlanError("[diffusion_pipe] ar_buckets must be a list")
    ratios = []
    for a in ar_buckets:
        if isinstance(a, list) and len(a) == 2 and all(isinstance(v, int) and v > 0 for v in a):
            ratios.append(a[0] / a[1])
        elif isinstance(a, (int, float)) and not isinstance(a, bool) and a > 0:
            ratios.append(float(a))
        else:
            raise PlanError(f"[diffusion_pipe] ar_buckets: {a!r} is neither a ratio nor [W, H]")
    framerate = dp_data.get("framerate", ARCHITECTURE_FPS[architecture])
    if isinstance(framerate, bool) or not isinstance(framerate, (int, float)) or framerate <= 0:
        raise PlanError("[diffusion_pipe] framerate must be a positive number")
    return DiffusionPipeOptions(
        micro_batch_size_per_gpu=_int(dp_data.get("micro_batch_size_per_gpu", 1),
                                      "[diffusion_pipe] micro_batch_size_per_gpu"),
        image_micro_batch_size_per_gpu=None if image_micro is None else _int(
            image_micro, "[diffusion_pipe] image_micro_batch_size_per_gpu"),
        gradient_accumulation_steps=_int(dp_data.get("gradient_accumulation_steps", 1),
                                         "[diffusion_pipe] gradient_accumulation_steps"),
        world_size=_int(dp_data.get("world_size", 1), "[diffusion_pipe] world_size"),
        enable_ar_bucket=_bool(dp_data.get("enable_ar_bucket", True),
                               "[diffusion_pipe] enable_ar_bucket"),
        ar_buckets=tuple(ratios),
        framerate=float(framerate),
    )


def _plan_name(name: Any) -> str:
    """One line of printable text."""
    if not isinstance(name, str) or not name.strip():
        raise PlanError("name must be a non-empty string")
    bad = _CONTROL_RE.search(name)
    if bad:
        raise PlanError(f"name {name!r} holds the control character U+{ord(bad.group()):04X}; "
                        f"a plan's name is one line of printable text")
    return name


def load_plan(path: Path) -> DatasetPlan:
    """Read a plan from a TOML file.

    Raises:
        PlanError: the file is missing, is not valid TOML, or holds an unusable plan.
    """
    path = Path(path)
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise PlanError(f"plan file not found: {path}") from exc
    except (OSError, UnicodeDecodeError) as exc:
        raise PlanError(f"cannot read the plan {path}: {exc}") from exc
    except tomllib.TOMLDecodeError as exc:
        raise PlanError(f"the plan {path} is not valid TOML: {exc}") from exc
    try:
        return plan_from_dict(data, default_name=path.stem)
    except PlanError as exc:
        raise PlanError(f"{path}: {exc}") from exc


def write_text_atomic(path: Path, text: str) -> None:
    """Write a text file under a temporary name in the same folder, then rename it into place."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        # mkstemp makes the file 0600; a dataset file must be readable as any other file the
        # person writes (a trainer running as another user reads captions and TOML), so it
        # gets the mode the umask gives a new file (0644 under the usual 022).
        os.fchmod(fd, 0o666 & ~_umask())
        with os.fdopen(fd, "w", encoding="utf-8", newline="\n") as fh:
            fh.write(text)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _umask() -> int:
    """The process's umask: from /proc where there is one (reading it by setting it would
    change it for a moment under the transcoding threads), else by setting and restoring it."""
    try:
        with open("/proc/self/status", encoding="ascii") as fh:
            for line in fh:
                if line.startswith("Umask:"):
                    return int(line.split()[1], 8)
    except (OSError, ValueError, IndexError):
        pass
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def save_plan(plan: DatasetPlan, path: Path) -> Path:
    """Write a plan as TOML (atomically); returns the path."""
    write_text_atomic(Path(path), tomli_w.dumps(plan.to_toml_dict()))
    return Path(path)


def project_plan_path(project_root: Path) -> Path:
    """Where a project keeps its plan: `<project>/plans/dataset.toml`."""
    return Path(project_root) / PLAN_FILE


def presets_dir() -> Path:
    return resource_path("presets", "datasets")


def list_presets() -> list[str]:
    """The names of the built-in plans."""
    folder = presets_dir()
    return sorted(p.stem for p in folder.glob("*.toml")) if folder.is_dir() else []


def load_preset(name: str) -> DatasetPlan:
    """A built-in plan by name.

    Raises:
        PlanError: no preset has that name.
    """
    path = presets_dir() / f"{name}.toml"
    if not path.is_file():
        known = ", ".join(list_presets()) or "none"
        raise PlanError(f"no dataset preset named {name!r} (known: {known})")
    return load_plan(path)


def load_project_plan(project_root: Path, default_preset: str = DEFAULT_PRESET) -> DatasetPlan:
    """The project's saved plan, or the default preset when it has none yet."""
    path = project_plan_path(project_root)
    return load_plan(path) if path.is_file() else load_preset(default_preset)


