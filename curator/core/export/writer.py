"""Writing the dataset folder: clips, images, captions, the trainer's TOML and a manifest.

The folder::

    OUT/
      videos/<source>_<start>-<end>.mp4 + .txt    every accepted, captioned clip, once
      images/<stem>.png + .txt                    every accepted, captioned image, once
      sections/<name>/                            links, for sections that need their own folder
      cache/<name>/                               musubi-tuner's cache directory per section
      musubi_dataset.toml | diffusion_pipe_dataset.toml
      manifest.json                               what is here, where it came from, the counts

The trainer's names (`videos`, `images`, `sections`, the TOML, the manifest) are links into
the current *generation* under `OUT/.curator-dataset/` (see `generations`), and the TOML's paths
go through them. Exports are incremental and switch in one step: new or changed files are
transcoded into `OUT/.staging/` first; when every file is ready a new generation is assembled
(hard links to the unchanged and staged files, fresh captions, TOML and manifest) and made
current by renaming one link; the old generation is then deleted. A cancelled, failed or killed
export leaves the previous dataset whole, and what it had already transcoded is reused by the
next run. Files are written with the umask's mode (0644 under the usual 022), as videos are.
"""

from __future__ import annotations

import datetime
import hashlib
import json
import os
import shutil
from collections.abc import Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from curator.core.export import generations
from curator.core.export.counting import DIFFUSION_PIPE, CountWarning, PlanCount, count_plan
from curator.core.export.layout import (
    IMAGES_DIR,
    SECTIONS_DIR,
    VIDEOS_DIR,
    ClipExport,
    ExportLayout,
    ImageExport,
)
from curator.core.export.plan import DatasetPlan, write_text_atomic
from curator.core.export.report import (
    ExportReport,
    build_config,
    exported_members,
    plan_report,
)
from curator.core.export.trainer_config import (
    CAPTION_EXTENSION,
    cache_folder,
    diffusion_pipe_config_problems,
    musubi_config_problems,
)
from curator.core.export.transcode import (
    ClipJob,
    EncodedClip,
    EncodeSettings,
    default_workers,
    export_image,
    transcode_clips,
)
from curator.core.jobs import (
    NEVER_CANCELLED,
    CancelToken,
    ItemFailure,
    Progress,
    ProgressFn,
    ignore_progress,
)
from curator.core.media.errors import MediaError
from curator.core.trigger import rows_missing_trigger

MANIFEST_NAME = "manifest.json"
MANIFEST_VERSION = 1
STAGING_DIR = ".staging"
LOCK_NAME = ".curator-export.lock"
# The folders a trainer reads, each a stable link into the current generation.
_TRAINER_FOLDERS = (VIDEOS_DIR, IMAGES_DIR, SECTIONS_DIR)


class ExportError(Exception):
    """The export cannot be written at all (another export is running, a bad config...)."""


class CatalogLike(Protocol):
    """The catalog calls the exporter makes (`curator.core.catalog.Catalog`)."""

    def settings(self) -> Any: ...
    def list_clips(self, *, status: str | None = None) -> list[Any]: ...
    def list_images(self, *, status: str | None = None) -> list[Any]: ...
    def newest_caption_ids(self, *, clip_ids: Iterable[int] = (),
                           image_ids: Iterable[int] = ()) -> dict[tuple[str, int], int]: ...
    def update_settings(self, **changes: Any) -> Any: ...


@dataclass(frozen=True)
class _FileState:
    """A file of the export folder as the manifest records it."""

    fingerprint: str
    frames: int
    sha256: str
    size: int


def read_manifest(out_dir: Path) -> dict[str, Any]:
    """The manifest of an export folder; an empty one when there is none or it is unreadable."""
    try:
        data = json.loads((Path(out_dir) / MANIFEST_NAME).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) and data.get("curator_export") else {}


class _ExportLock:
    """One export at a time per folder: a lock file holding the writer's pid."""

    def __init__(self, out_dir: Path) -> None:
        self.path = out_dir / LOCK_NAME

    def __enter__(self) -> _ExportLock:
        for _ in range(2):
            try:
                fd = os.open(self.path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o644)
            except FileExistsError:
                try:
                    pid = int(self.path.read_text().strip() or 0)
                except (OSError, ValueError):
                    pid = 0
                # the same pid too: another thread of this process is exporting here
                if pid and _alive(pid):
                    raise ExportError(f"another export (process {pid}) is writing to "
                                      f"{self.path.parent}") from None
                self.path.unlink(missing_ok=True)  # left by a crashed export
                continue
            with os.fdopen(fd, "w") as fh:
                fh.write(str(os.getpid()))
            return self
        raise ExportError(f"cannot lock {self.path.parent} for export")

    def __exit__(self, *exc: object) -> None:
        self.path.unlink(missing_ok=True)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _text_sha(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def _caption_text(caption: str | None) -> str:
    return (caption or "").strip() + "\n"


def _staged_state(staging: Path, name: str) -> _FileState | None:
    """A file finished by an earlier, interrupted export, with what it recorded about it."""
    try:
        data = json.loads((staging / f"{name}.json").read_text(encoding="utf-8"))
        state = _FileState(**data)
    except (OSError, ValueError, TypeError):
        return None
    path = staging / name
    try:
        if path.stat().st_size != state.size:
            return None
    except OSError:
        return None
    return state


def _record_staged(staging: Path, name: str, state: _FileState) -> None:
    write_text_atomic(staging / f"{name}.json", json.dumps(state.__dict__))


def export_dataset(catalog: CatalogLike, plan: DatasetPlan, out_dir: Path, *,
                   trainer: str | None = None, root: str | None = None,
                   workers: int | None = None, progress: ProgressFn = ignore_progress,
                   cancel: CancelToken = NEVER_CANCELLED,
                   allow_missing_trigger: bool = False) -> ExportReport:
    """Write (or update) a ready-to-train dataset folder for the catalog's accepted items.

    Args:
        catalog: the project's catalog: accepted clips and images, captions, settings.
        plan: the sections to export.
        out_dir: the dataset folder (created if needed; files Curator did not write are never
            touched).
        trainer: `musubi` or `diffusion-pipe` (default: the plan's).
        root: the folder's path on the training machine, written in the TOML (default: its
            absolute path here).
        workers: parallel transcodes (default: all cores).
        progress: called per file.
        cancel: checked between frames; a cancelled export leaves the previous one intact.
        allow_missing_trigger: export captions that do not start with the project's trigger
            phrase (otherwise the export refuses, naming each, and writes nothing).

    Returns:
        The report: counts recomputed from the files written, warnings, failures.

    Raises:
        ExportError: another export is writing to the folder, or the config would be invalid.
    """
    trainer = trainer or plan.trainer
    settings = catalog.settings()
    clips = catalog.list_clips(status="accepted")
    images = catalog.list_images(status="accepted")
    missing = [] if allow_missing_trigger else rows_missing_trigger(clips, images,
                                                                     settings.trigger)
    if missing:
        raise ExportError(
            f"{len(missing)} caption(s) do not start with the trigger phrase "
            f"'{settings.trigger}' (add it, e.g. the window's \"Add the trigger\", or pass "
            f"--allow-missing-trigger): {'; '.join(missing)}")
    out_dir = Path(out_dir).expanduser().resolve()
    report = plan_report(plan, clips, images, trainer, trigger=settings.trigger,
                         default_fps=float(settings.target_fps or 16.0), out_dir=out_dir,
                         root=root)
    report.dry_run = False
    layout = report.layout
    assert layout is not None
    out_dir.mkdir(parents=True, exist_ok=True)
    with _ExportLock(out_dir):
        _export_locked(catalog, plan, layout, report, out_dir, root, trainer,
                       workers or default_workers(), progress, cancel, settings.trigger)
    if not report.cancelled and settings.export_root != str(out_dir):
        # The train launcher (CLI and tab) takes its dataset config from the last export.
        catalog.update_settings(export_root=str(out_dir))
    return report


def _export_locked(catalog: CatalogLike, plan: DatasetPlan, layout: ExportLayout,
                   report: ExportReport, out_dir: Path, root: str | None, trainer: str,
                   workers: int, progress: ProgressFn, cancel: CancelToken,
                   trigger: str) -> None:
    try:  # never write through a link a person (or anyone) put where the trainer reads
        generations.check_folder(out_dir, _TRAINER_FOLDERS,
                                 [STAGING_DIR, *(cache_folder(s) for s in plan.sections)])
    except generations.FolderError as exc:
        raise ExportError(str(exc)) from None
    old = read_manifest(out_dir)
    staging = out_dir / STAGING_DIR
    staging.mkdir(exist_ok=True)
    wanted = exported_members(layout)
    keys_wanted = {k for keys in wanted.values() for k in keys}
    work = _Work(out_dir, staging, old.get("files", {}) if old else {},
                 [c for c in layout.clips if c.key in keys_wanted],
                 [i for i in layout.images if i.key in keys_wanted])
    _find_reusable(work, plan, report)
    _transcode_changed(work, plan, layout, report, workers, progress, cancel)
    if report.cancelled:
        return
    _commit(catalog, plan, layout, report, work, old, root, trainer, trigger)
    shutil.rmtree(staging, ignore_errors=True)


@dataclass
class _Work:
    """One export's files: what is kept or staged already, and what is still to make."""

    out_dir: Path
    staging: Path
    old_files: dict[str, dict[str, Any]]
    clips: list[ClipExport]
    images: list[ImageExport]
    states: dict[str, _FileState] = field(default_factory=dict)
    sources: dict[str, Path] = field(default_factory=dict)  # key → where the finished file is
    jobs: list[ClipJob] = field(default_factory=list)
    image_jobs: list[ImageExport] = field(default_factory=list)
    failed_keys: set[str] = field(default_factory=set)


def _find_reusable(work: _Work, plan: DatasetPlan, report: ExportReport) -> None:
    """Phase 1: what can be kept, and the transcodes and image writes left to do."""
    out_dir, staging, states, sources = work.out_dir, work.staging, work.states, work.sources
    # What can be kept: the same fingerprint in the old manifest (file still there), or a
    #    file an interrupted export already finished in the staging folder.
    for item in [*work.clips, *work.images]:
        rel = _media_rel(item)
        fp = item.fingerprint(plan.crf, plan.x264_preset) if isinstance(item, ClipExport) \
            else item.fingerprint()
        kept = _kept_state(out_dir, rel, work.old_files.get(rel), fp)
        staged_name = _staged_name(item, fp, Path(rel).suffix)
        if kept is not None:
            states[item.key], sources[item.key] = kept, out_dir / rel
            report.reused += 1
            continue
        staged = _staged_state(staging, staged_name)
        if staged is not None:
            states[item.key], sources[item.key] = staged, staging / staged_name
            continue
        if isinstance(item, ClipExport):
            work.jobs.append(ClipJob(item.key, item.source_path, item.start, item.end,
                                item.source_fps, item.out_fps, item.width, item.height,
                                staging / staged_name, item.label, item.crop))
        else:
            work.image_jobs.append(item)


def _transcode_changed(work: _Work, plan: DatasetPlan, layout: ExportLayout,
                       report: ExportReport, workers: int, progress: ProgressFn,
                       cancel: CancelToken) -> None:
    """Phase 2: transcode what changed (in parallel), then write the images."""
    staging, states, sources, jobs, image_jobs = (work.staging, work.states, work.sources,
                                                  work.jobs, work.image_jobs)
    failed_keys = work.failed_keys
    encode = EncodeSettings(plan.crf, plan.x264_preset, 1 if workers > 1 else 0)
    total = len(jobs) + len(image_jobs)
    by_key = layout.by_key()

    def clip_done(encoded: EncodedClip) -> None:
        item = by_key[encoded.key]
        assert isinstance(item, ClipExport)
        state = _FileState(item.fingerprint(plan.crf, plan.x264_preset), encoded.frames,
                           encoded.sha256, encoded.size)
        _record_staged(staging, encoded.path.name, state)
        states[encoded.key], sources[encoded.key] = state, encoded.path

    def clip_progress(p: Progress) -> None:
        progress(Progress(done=p.done, total=total, item=p.item, message=p.message))

    if jobs:
        _done, failures, cancelled = transcode_clips(
            jobs, encode, workers=workers, progress=clip_progress, cancel=cancel,
            on_done=clip_done)
        report.failed.extend(failures)
        failed_keys.update(j.key for j in jobs if j.key not in states)
        if cancelled:
            report.cancelled = True
            return
    if image_jobs and not cancel.cancelled:
        n = len(jobs)
        for item, result in _write_images(image_jobs, staging, workers, cancel):
            n += 1
            if isinstance(result, MediaError):
                report.failed.append(ItemFailure(item.label, str(result)))
                failed_keys.add(item.key)
            else:
                staged_path, state = result
                _record_staged(staging, staged_path.name, state)
                states[item.key], sources[item.key] = state, staged_path
            progress(Progress(done=n, total=total, item=item.label))
    if cancel.cancelled:
        report.cancelled = True
        return
    report.encoded = len(jobs) + len(image_jobs) - len(failed_keys)


def _commit(catalog: CatalogLike, plan: DatasetPlan, layout: ExportLayout,
            report: ExportReport, work: _Work, old: dict[str, Any] | None, root: str | None,
            trainer: str, trigger: str) -> None:
    """Phase 3: assemble a complete new generation and switch to it in one rename."""
    out_dir, clips, images, old_files = work.out_dir, work.clips, work.images, work.old_files
    states, sources, failed_keys = work.states, work.sources, work.failed_keys
    # Assemble a complete new generation (hard links to the files kept and staged,
    # fresh captions, section links, TOML, manifest), then switch to it in one rename. The
    # old generation and the staging folder stay intact until then, so a process killed at
    # any moment leaves the previous dataset whole, and what was transcoded is reused.
    members = exported_members(layout, failed_keys)
    # Checked before anything moves: a config the trainer would reject leaves the old export.
    config, config_text, sections = build_config(layout, out_dir, root, members)
    problems = (diffusion_pipe_config_problems(config) if trainer == DIFFUSION_PIPE
                else musubi_config_problems(config))
    if problems:
        raise ExportError("the trainer config would be rejected: " + "; ".join(problems))
    live = {k for keys in members.values() for k in keys}
    versions = catalog.newest_caption_ids(  # one grouped query, not one per exported item
        clip_ids=[i.clip_id for i in clips if i.key in live],
        image_ids=[i.image_id for i in images if i.key in live])
    gen = generations.begin(out_dir)
    new_files, links = _assemble(gen, layout, [*clips, *images], live, members, sources,
                                 states, versions)
    kept_paths = set(new_files) | {e["caption_file"] for e in new_files.values()} | set(links)
    for rel in old_files:
        if rel not in kept_paths and _inside(out_dir, rel) and (out_dir / rel).is_file():
            report.removed += 1
    old_ours = (set(old_files) | {e.get("caption_file") for e in old_files.values()}
                | set(old.get("links", []) if old else []))
    generations.carry_over(out_dir, gen, _TRAINER_FOLDERS, {p for p in old_ours if p})
    if trainer != DIFFUSION_PIPE:
        for section in plan.sections:
            if section.name in sections:
                (out_dir / cache_folder(section)).mkdir(parents=True, exist_ok=True)
    for section in plan.sections:  # a section folder exists even when it is empty
        (gen / layout.folder_of(section.name)).mkdir(parents=True, exist_ok=True)
    counts = _recount(plan, layout, report, members, states, clips, live, trigger, trainer)
    counts.warnings.extend(_foreign_files(gen, layout, kept_paths))
    report.counts = counts
    report.warnings = [ItemFailure(w.item or w.section or "", w.message)
                       for w in counts.all_warnings()]
    report.config, report.config_text, report.sections_in_config = (config, config_text,
                                                                    sections)
    assert report.config_path is not None
    write_text_atomic(gen / report.config_path.name, config_text)
    report.manifest_path = out_dir / MANIFEST_NAME
    _write_manifest(gen, report, plan, layout, trainer, root, new_files, links, counts)
    published = [name for name in (*_TRAINER_FOLDERS, report.config_path.name, MANIFEST_NAME)
                 if (gen / name).exists()]
    old_config = old.get("config") if old else None
    stale = [*_TRAINER_FOLDERS, *([old_config] if old_config and _inside(out_dir, old_config)
                                  and "/" not in old_config else [])]
    try:
        generations.switch(out_dir, gen, published, stale)  # the one step the trainer sees
    except generations.FolderError as exc:
        raise ExportError(str(exc)) from None
    report.done = len(new_files)


def _recount(plan: DatasetPlan, layout: ExportLayout, report: ExportReport,
             members: dict[str, Any], states: dict[str, _FileState], clips: list[ClipExport],
             live: set[str], trigger: str, trainer: str) -> PlanCount:
    """Phase 4: count again from the files as written (a damaged source may give fewer)."""
    frames = {key: state.frames for key, state in states.items()}
    for item in clips:
        written = frames.get(item.key)
        if item.key in live and written is not None and written != item.frames:
            layout.warnings.append(CountWarning(
                "frames_changed",
                f"clip {item.label}: {written} frames were written at "
                f"{float(item.out_fps):g} fps instead of the {item.frames} expected (the source "
                f"ends early or has damaged frames).", item=item.key))
    restricted = _restrict(layout, members)
    counts = count_plan(plan, restricted.media_by_section(frames), trainer,
                        source_fps=layout.source_fps, trigger=trigger,
                        extra_warnings=layout.warnings)
    # the files left out (no caption) are named by the warnings of the dry run
    counts.warnings.extend(w for w in report.counts.warnings
                           if w.code == "no_caption" and w not in counts.warnings)
    return counts


def _write_manifest(gen: Path, report: ExportReport, plan: DatasetPlan, layout: ExportLayout,
                    trainer: str, root: str | None, new_files: dict[str, Any],
                    links: list[str], counts: PlanCount) -> None:
    assert report.config_path is not None
    manifest = {
        "curator_export": MANIFEST_VERSION,
        "written": datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds"),
        "trainer": trainer,
        "config": report.config_path.name,
        "root": root,
        "fps": layout.fps,
        "encode": {"codec": "libx264", "crf": plan.crf, "preset": plan.x264_preset,
                   "pix_fmt": "yuv420p"},
        "plan": plan.to_json(),
        "folders": layout.folders,
        "source_fps": layout.source_fps,
        "files": new_files,
        "links": sorted(set(links)),
        "counts": counts.to_json(),
    }
    write_text_atomic(gen / MANIFEST_NAME, json.dumps(manifest, indent=1, ensure_ascii=False,
                                                      default=str))


def _assemble(gen: Path, layout: ExportLayout, items: list[ClipExport | ImageExport],
              live: set[str], members: dict[str, list[str]], sources: dict[str, Path],
              states: dict[str, _FileState], versions: dict[tuple[str, int], int]
              ) -> tuple[dict[str, dict[str, Any]], list[str]]:
    """Write the media, captions and section links of a new generation.

    Media are hard links to the finished files (in the current generation or the staging
    folder), which stay where they are until the switch.

    Returns:
        The manifest's `files` and `links`.
    """
    new_files: dict[str, dict[str, Any]] = {}
    links: list[str] = []
    for item in items:
        if item.key not in live:
            continue
        rel = _media_rel(item)
        generations.place(sources[item.key], gen / rel)
        caption_rel = str(Path(rel).with_suffix(CAPTION_EXTENSION).as_posix())
        text = _caption_text(item.caption)
        write_text_atomic(gen / caption_rel, text)
        entry = _manifest_entry(item, states[item.key], caption_rel, text, versions)
        for section in item.sections:
            if item.key not in members.get(section, ()):
                continue
            folder = layout.folder_of(section)
            if folder in (VIDEOS_DIR, IMAGES_DIR):
                continue
            for name in (Path(rel).name, Path(caption_rel).name):
                link_rel = f"{folder}/{name}"
                if not (gen / link_rel).exists():
                    generations.place(gen / Path(rel).parent / name, gen / link_rel)
                links.append(link_rel)
        new_files[rel] = entry
    return new_files, links


# What the trainers pick up from a folder (musubi §1.4; diffusion-pipe reads every file but
# captions and a few others, §4.1).
_MEDIA_SUFFIXES = frozenset({
    ".mp4", ".webm", ".avi", ".mkv", ".mov", ".flv", ".wmv", ".m4v", ".mpg", ".mpeg",
    ".png", ".jpg", ".jpeg", ".webp", ".bmp", ".avif", ".jxl"})


def _foreign_files(out_dir: Path, layout: ExportLayout, ours: set[str]) -> list[CountWarning]:
    """Media files in the trainer's folders that Curator did not write: they would be trained."""
    out = []
    for folder in sorted(set(layout.folders.values())):
        path = out_dir / folder
        if not path.is_dir():
            continue
        strays = sorted(p.name for p in path.iterdir()
                        if p.is_file() and p.suffix.lower() in _MEDIA_SUFFIXES
                        and f"{folder}/{p.name}" not in ours)
        if strays:
            shown = ", ".join(strays[:8]) + (f" and {len(strays) - 8} more" if len(strays) > 8
                                             else "")
            out.append(CountWarning(
                "foreign_file",
                f"{folder}/ holds {len(strays)} file(s) Curator did not write, which the trainer "
                f"will also read (they are not in these counts): {shown}."))
    return out


def _inside(out_dir: Path, rel: str) -> bool:
    """A manifest path that stays inside the export folder (a hand-edited manifest could hold
    anything; only files under the folder are ever deleted)."""
    try:
        return (out_dir / rel).resolve().is_relative_to(out_dir)
    except (OSError, ValueError):
        return False


def _staged_name(item: ClipExport | ImageExport, fingerprint: str, suffix: str) -> str:
    # the key too: two identical sources give one fingerprint but two files
    return f"{item.key.replace(':', '-')}-{fingerprint}{suffix}"


def _media_rel(item: ClipExport | ImageExport) -> str:
    folder = VIDEOS_DIR if isinstance(item, ClipExport) else IMAGES_DIR
    return f"{folder}/{item.filename}"


def _kept_state(out_dir: Path, rel: str, entry: dict[str, Any] | None, fingerprint: str
                ) -> _FileState | None:
    """The old manifest's record of a file, when it is the same file and still in place."""
    if not entry or entry.get("fingerprint") != fingerprint:
        return None
    try:
        if (out_dir / rel).stat().st_size != entry.get("bytes"):
            return None
    except OSError:
        return None
    return _FileState(fingerprint, int(entry.get("frames", 1)), str(entry.get("sha256", "")),
                      int(entry["bytes"]))


def _write_image(item: ImageExport, staging: Path) -> tuple[Path, _FileState]:
    fp = item.fingerprint()
    dest = staging / _staged_name(item, fp, item.suffix)
    sha = export_image(item.source_path, dest, crop=item.crop, size=(item.width, item.height),
                       copy=item.copy)
    return dest, _FileState(fp, 1, sha, dest.stat().st_size)


def _write_images(items: list[ImageExport], staging: Path, workers: int, cancel: CancelToken
                  ) -> Iterator[tuple[ImageExport, tuple[Path, _FileState] | MediaError]]:
    """Write images on a few threads (PIL releases the GIL while resizing and encoding);
    results come back on the calling thread, in completion order; stops when cancelled."""
    with ThreadPoolExecutor(max_workers=max(1, workers)) as pool:
        futures = {pool.submit(_write_image, item, staging): item for item in items}
        try:
            for future in as_completed(futures):
                try:
                    yield futures[future], future.result()
                except MediaError as exc:  # one bad image never stops the batch
                    yield futures[future], exc
                if cancel.cancelled:
                    break
        finally:
            for future in futures:
                future.cancel()


def _manifest_entry(item: ClipExport | ImageExport, state: _FileState, caption_rel: str,
                    caption_text: str, versions: dict[tuple[str, int], int]) -> dict[str, Any]:
    entry: dict[str, Any] = {
        "key": item.key,
        "label": item.label,
        "source": str(item.source_path),
        "source_hash": item.source_hash,
        "fingerprint": state.fingerprint,
        "sha256": state.sha256,
        "bytes": state.size,
        "size": [item.width, item.height],
        "frames": state.frames,
        "sections": list(item.sections),
        "caption_file": caption_rel,
        "caption_sha256": _text_sha(caption_text),
        "caption_origin": item.caption_origin,
        "caption_version": (versions.get(("clip", item.clip_id)) if isinstance(item, ClipExport)
                            else versions.get(("image", item.image_id))),
    }
    if isinstance(item, ClipExport):
        entry.update(kind="clip", clip_id=item.clip_id, range=[item.start, item.end],
                     source_fps=f"{item.source_fps.numerator}/{item.source_fps.denominator}",
                     fps=f"{item.out_fps.numerator}/{item.out_fps.denominator}")
    else:
        entry.update(kind="image", image_id=item.image_id,
                     crop=list(item.crop) if item.crop else None, copied=item.copy)
    return entry


def _restrict(layout: ExportLayout, members: dict[str, list[str]]) -> ExportLayout:
    """A copy of the layout whose sections hold only the files actually written."""
    return ExportLayout(layout.plan, layout.trainer, layout.fps, layout.clips, layout.images,
                        {k: list(v) for k, v in members.items()}, layout.folders,
                        layout.source_fps, layout.warnings)


