"""The trainers' dataset TOML: built as dicts, checked against the schema, written by tomli-w.

musubi-tuner validates its dataset config with voluptuous and rejects any key it does not know,
and any video key placed in `[general]` (TRAINERS.md §0.4, §1.2, §1.3). The key sets below are
its schema; `musubi_config_problems` applies it, and the exporter refuses to write a config with
problems. Paths are written by the TOML library, never by hand, so quotes and backslashes stay
valid (musubi reads the file with `toml` 0.10.2).
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from pathlib import Path, PurePosixPath, PureWindowsPath
from typing import Any

import tomli_w

from curator.core.export.counting import DIFFUSION_PIPE, dp_frame_buckets, dp_plan_ars
from curator.core.export.layout import CACHE_DIR
from curator.core.export.plan import DatasetPlan, Section

MUSUBI_CONFIG_NAME = "musubi_dataset.toml"
DP_CONFIG_NAME = "diffusion_pipe_dataset.toml"
CAPTION_EXTENSION = ".txt"

# musubi-tuner's schema (dataset/config_utils.py), §1.2.
MUSUBI_ASCENDABLE_KEYS = frozenset({"resolution", "caption_extension", "batch_size",
                                    "num_repeats", "enable_bucket", "bucket_no_upscale"})
MUSUBI_IMAGE_KEYS = MUSUBI_ASCENDABLE_KEYS | {
    "image_directory", "image_jsonl_file", "cache_directory", "control_directory",
    "multiple_target", "fp_latent_window_size", "fp_1f_clean_indices", "fp_1f_target_index",
    "fp_1f_no_post", "no_resize_control", "control_resolution"}
MUSUBI_VIDEO_KEYS = MUSUBI_ASCENDABLE_KEYS | {
    "video_directory", "video_jsonl_file", "cache_directory", "control_directory",
    "target_frames", "frame_extraction", "frame_stride", "frame_sample", "max_frames",
    "source_fps", "fp_latent_window_size"}
_INT_KEYS = ("batch_size", "num_repeats", "frame_stride", "frame_sample", "max_frames",
             "fp_latent_window_size")
_BOOL_KEYS = ("enable_bucket", "bucket_no_upscale")
_STR_KEYS = ("caption_extension", "image_directory", "image_jsonl_file", "video_directory",
             "video_jsonl_file", "cache_directory", "control_directory", "frame_extraction")

DP_TOP_KEYS = frozenset({
    "resolutions", "enable_ar_bucket", "min_ar", "max_ar", "num_ar_buckets", "ar_buckets",
    "frame_buckets", "size_buckets", "num_repeats", "skip_empty_caption", "cache_shuffle_num",
    "cache_shuffle_delimiter", "shuffle_tags", "caption_prefix", "shuffle_metadata",
    "online_captions", "subsample_ratio", "directory"})
DP_DIRECTORY_KEYS = (DP_TOP_KEYS - {"directory", "subsample_ratio"}) | {
    "path", "mask_path", "default_mask_file", "control_path"}

_CONTROL_RE = re.compile("[\x00-\x08\x0a-\x1f\x7f-\x9f]")
_WINDOWS_ROOT = re.compile(r"^(?:[A-Za-z]:[\\/]|\\\\)")


def config_name(trainer: str) -> str:
    return DP_CONFIG_NAME if trainer == DIFFUSION_PIPE else MUSUBI_CONFIG_NAME


def trainer_path(out_dir: Path, relative: str, root: str | None = None) -> str:
    """How a path inside the export is written in the trainer's config.

    Args:
        out_dir: the export folder on this machine.
        relative: a path inside it, with `/` separators.
        root: where the export folder will be on the training machine (None: this machine's
            absolute path). A root like `D:\\data` or `\\\\server\\share` is joined with `\\`.

    Returns:
        The path string (escaped later by the TOML writer).
    """
    parts = [p for p in relative.split("/") if p]
    if root is None:
        return str(Path(out_dir).resolve().joinpath(*parts))
    if _WINDOWS_ROOT.match(root) or ("\\" in root and "/" not in root):
        return str(PureWindowsPath(root).joinpath(*parts))
    return str(PurePosixPath(root).joinpath(*parts))


def cache_folder(section: Section) -> str:
    return f"{CACHE_DIR}/{section.name}"


def musubi_config(plan: DatasetPlan, folders: Mapping[str, str], out_dir: Path, *,
                  root: str | None = None, source_fps: Mapping[str, float | None] | None = None,
                  sections: Sequence[str] | None = None) -> dict[str, Any]:
    """musubi-tuner's dataset config for a plan (one `[[datasets]]` per section).

    Args:
        plan: the sections.
        folders: section name → its media folder, relative to the export.
        out_dir: the export folder.
        root: the export folder's path on the training machine (None: absolute here).
        source_fps: section name → `source_fps` to write (only where needed).
        sections: the sections to write (default all), e.g. leaving out empty ones.
    """
    source_fps = source_fps or {}
    wanted = set(sections) if sections is not None else None
    general = {"caption_extension": CAPTION_EXTENSION, "enable_bucket": plan.enable_bucket,
               "bucket_no_upscale": plan.bucket_no_upscale}
    datasets = []
    for s in plan.sections:
        if wanted is not None and s.name not in wanted:
            continue
        folder = trainer_path(out_dir, folders[s.name], root)
        entry: dict[str, Any] = {
            ("video_directory" if s.is_video else "image_directory"): folder,
            "cache_directory": trainer_path(out_dir, cache_folder(s), root),
            "resolution": [int(s.resolution[0]), int(s.resolution[1])],
            "batch_size": s.batch_size,
            "num_repeats": s.num_repeats,
        }
        if s.is_video and s.extraction is not None:
            entry.update(s.extraction.dataset_keys(rounded=True))
            fps = source_fps.get(s.name)
            if fps is not None:
                entry["source_fps"] = float(fps)  # an int here fails musubi's schema
        datasets.append(entry)
    return {"general": general, "datasets": datasets}


def diffusion_pipe_config(plan: DatasetPlan, folders: Mapping[str, str], out_dir: Path, *,
                          root: str | None = None, sections: Sequence[str] | None = None
                          ) -> dict[str, Any]:
    """diffusion-pipe's dataset config (one `[[directory]]` per section, §4.1)."""
    wanted = set(sections) if sections is not None else None
    chosen = [s for s in plan.sections if wanted is None or s.name in wanted]
    dp = plan.diffusion_pipe
    first = chosen[0].resolution if chosen else plan.sections[0].resolution
    # `resolutions` is read at the top level even when every directory sets its own
    config: dict[str, Any] = {"resolutions": [[int(first[0]), int(first[1])]],
                              "enable_ar_bucket": dp.enable_ar_bucket}
    if dp.enable_ar_bucket:
        config["ar_buckets"] = [float(a) for a in dp_plan_ars(plan)]
    config["frame_buckets"] = [1]
    directories = []
    for s in chosen:
        directories.append({
            "path": trainer_path(out_dir, folders[s.name], root),
            "num_repeats": s.num_repeats,
            "resolutions": [[int(s.resolution[0]), int(s.resolution[1])]],
            "frame_buckets": dp_frame_buckets(s),
        })
    config["directory"] = directories
    return config


def musubi_config_problems(config: Mapping[str, Any]) -> list[str]:
    """What musubi-tuner's schema and dataset construction would reject (§1.3).

    Returns:
        Problems in words; empty when the trainer accepts the config.
    """
    problems: list[str] = []
    extra = set(config) - {"general", "datasets"}
    if extra:
        problems.append(f"top-level keys not allowed: {', '.join(sorted(extra))}")
    general = config.get("general", {})
    if not isinstance(general, Mapping):
        problems.append("[general] must be a table")
        general = {}
    for key in sorted(set(general) - MUSUBI_ASCENDABLE_KEYS):
        problems.append(f"extra keys not allowed @ data['general']['{key}']")
    problems.extend(_type_problems(general, "general"))
    datasets = config.get("datasets", [])
    if not isinstance(datasets, list):
        return [*problems, "datasets must be an array of tables"]
    caches: dict[str, int] = {}
    for i, d in enumerate(datasets):
        where = f"datasets[{i}]"
        is_video = "video_directory" in d or "video_jsonl_file" in d
        allowed = MUSUBI_VIDEO_KEYS if is_video else MUSUBI_IMAGE_KEYS
        for key in sorted(set(d) - allowed):
            problems.append(f"extra keys not allowed @ data['datasets'][{i}]['{key}']")
        if not any(k in d for k in ("video_directory", "video_jsonl_file", "image_directory",
                                    "image_jsonl_file")):
            problems.append(f"{where} has no image_* or video_* source")
        problems.extend(_type_problems(d, where))
        cache = d.get("cache_directory") or d.get("video_directory") or d.get("image_directory")
        if cache is not None:
            if cache in caches:
                problems.append(f"{where}: cache directory should be unique (same as "
                                f"datasets[{caches[cache]}]: {cache})")
            caches[cache] = i
    return problems


def _type_problems(table: Mapping[str, Any], where: str) -> list[str]:
    out = []
    for key in _INT_KEYS:
        if key in table and (isinstance(table[key], bool) or not isinstance(table[key], int)):
            out.append(f"{where}.{key} must be an int")
    for key in _BOOL_KEYS:
        if key in table and not isinstance(table[key], bool):
            out.append(f"{where}.{key} must be a bool")
    for key in _STR_KEYS:
        if key in table and not isinstance(table[key], str):
            out.append(f"{where}.{key} must be a string")
    if "source_fps" in table and not isinstance(table["source_fps"], float):
        out.append(f"{where}.source_fps must be a float (write 30.0, not 30)")
    if "resolution" in table:
        r = table["resolution"]
        ok = (isinstance(r, int) and not isinstance(r, bool)) or (
            isinstance(r, list) and len(r) == 2
            and all(isinstance(v, int) and not isinstance(v, bool) for v in r))
        if not ok:
            out.append(f"{where}.resolution must be an int or [width, height]")
    if "target_frames" in table:
        t = table["target_frames"]
        if not isinstance(t, list) or not all(isinstance(v, int) and v >= 1 for v in t):
            out.append(f"{where}.target_frames must be a list of ints ≥ 1")
    return out


def diffusion_pipe_config_problems(config: Mapping[str, Any]) -> list[str]:
    """Keys diffusion-pipe does not read, and the settings that make it quit or drop videos."""
    problems = [f"unknown top-level key {k}" for k in sorted(set(config) - DP_TOP_KEYS)]
    if "resolutions" not in config and "size_buckets" not in config:
        problems.append("resolutions is required")
    if len(config.get("resolutions", [])) > 3:
        problems.append("more than 3 resolutions makes diffusion-pipe quit")
    for i, d in enumerate(config.get("directory", [])):
        problems.extend(f"directory[{i}]: unknown key {k}"
                        for k in sorted(set(d) - DP_DIRECTORY_KEYS))
        if "path" not in d:
            problems.append(f"directory[{i}] has no path")
        if d.get("num_repeats", 1) <= 0:
            problems.append(f"directory[{i}].num_repeats must be > 0")
    return problems


def render_toml(config: Mapping[str, Any], header: Sequence[str] = ()) -> str:
    """TOML text from tomli-w, with `#` comment lines on top (comments are safe in TOML)."""
    # TOML refuses control characters even in comments: any that reach a header are escaped.
    lines = [f"# {_CONTROL_RE.sub(lambda m: ascii(m.group())[1:-1], line)}".rstrip()
             for text in header for line in text.splitlines()]
    body = tomli_w.dumps(dict(config))
    return ("\n".join(lines) + "\n\n" if lines else "") + body
