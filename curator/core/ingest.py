"""Ingest: put video and image files into the catalog, each video split into its scenes.

One decode pass per video gives its exact facts, its hard cuts and its clip thumbnails (and,
when asked, feeds the analysis engine). Each source is written with its clips in one
transaction, so a crash or a cancel in the middle of a batch loses nothing already done, and
running the same ingest again adds nothing:

- a file already in the catalog with the same size and modification time is skipped;
- a file at a new path whose content hash matches a source whose old path is gone is that
  source, moved: only its path is updated (its clips, decisions and captions stay);
- a file whose size, time or hash changed is probed again; its clips are made again only if
  its frame count changed, and clips whose range survives keep their decision and caption.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from PIL import Image as PILImage
from sqlalchemy import select

from curator.core.analysis.batch import save_clip_analysis
from curator.core.catalog import Catalog, CatalogError
from curator.core.catalog.models import Source
from curator.core.jobs import (
    NEVER_CANCELLED,
    CancelToken,
    Cancelled,
    ItemFailure,
    Progress,
    ProgressFn,
    Report,
    ignore_progress,
)
from curator.core.media import MediaError, SourceInfo, content_hash
from curator.core.media.scan import AnalyzerFactory, FrameAnalyzer, scan_video
from curator.core.media.scenes import SceneSettings
from curator.core.media.shots import shot_ranges
from curator.core.media.thumbnails import ensure_clip_thumbnails

log = logging.getLogger(__name__)

ScenesMode = Literal["auto", "always", "never"]
SCENES_MODES: tuple[str, ...] = ("auto", "always", "never")

VIDEO_EXTENSIONS = frozenset({
    ".mp4", ".m4v", ".mov", ".mkv", ".webm", ".avi", ".wmv", ".flv", ".mpg", ".mpeg", ".m2v",
    ".ts", ".m2ts", ".mts", ".3gp", ".ogv", ".vob", ".mxf", ".y4m", ".divx", ".asf", ".qt",
})
IMAGE_EXTENSIONS = frozenset({".png", ".jpg", ".jpeg", ".webp", ".bmp", ".tif", ".tiff"})


@dataclass
class IngestReport(Report):
    """What an ingest did. Counts are of what this run added or changed.

    Attributes:
        sources: videos added or probed again (changed on disk).
        clips: clips created.
        images: images added.
        moved: known sources found at a new path (matched by content hash).
        unchanged: files already in the catalog as they are.
        failed: files that could not be ingested, with the reason.
        warnings: files ingested with something to know (damage, wrong header, duplicates).
    """

    sources: int = 0
    clips: int = 0
    images: int = 0
    moved: int = 0
    unchanged: int = 0
    source_ids: list[int] = field(default_factory=list)
    clip_ids: list[int] = field(default_factory=list)
    image_ids: list[int] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        return {
            "sources": self.sources,
            "clips": self.clips,
            "images": self.images,
            "failed": [f.to_json() for f in self.failed],
            "warnings": [w.to_json() for w in self.warnings],
            "moved": self.moved,
            "unchanged": self.unchanged,
            "cancelled": self.cancelled,
        }


# --- finding files ---------------------------------------------------------------------------

def discover(paths: Iterable[Path], *, exclude: Sequence[Path] = ()
             ) -> tuple[list[Path], list[ItemFailure]]:
    """The media files named by `paths`: files as given, folders searched recursively.

    Inside folders only known video and image extensions are taken (captions, sidecars and
    hidden files are left alone); a file named explicitly is tried whatever its extension.

    Args:
        paths: files and folders.
        exclude: folders never entered (the project's own thumbnails).

    Returns:
        The files in a stable order without duplicates, and the paths that could not be read.
    """
    found: dict[Path, None] = {}
    failures: list[ItemFailure] = []
    excluded = [_absolute(p) for p in exclude]

    def is_excluded(p: Path) -> bool:
        return any(p == e or e in p.parents for e in excluded)

    for raw in paths:
        path = _absolute(Path(raw))
        try:
            if path.is_dir():
                _walk(path, found, failures, is_excluded)
            elif path.exists():
                if not is_excluded(path):
                    found[path] = None
            else:
                failures.append(ItemFailure(str(path), f"{path.name}: file not found"))
        except PermissionError:
            failures.append(ItemFailure(str(path), f"{path.name}: permission denied"))
        except OSError as exc:
            failures.append(ItemFailure(str(path), f"{path.name}: {exc.strerror or exc}"))
    return list(found), failures


def _absolute(path: Path) -> Path:
    # absolute without resolving symlinks: the catalog keeps the path the user gave
    return Path(os.path.abspath(path.expanduser()))


def _walk(root: Path, found: dict[Path, None], failures: list[ItemFailure],
          is_excluded: Callable[[Path], bool]) -> None:
    def on_error(exc: OSError) -> None:
        where = Path(exc.filename) if exc.filename else root
        why = "permission denied" if isinstance(exc, PermissionError) else (exc.strerror or str(exc))
        failures.append(ItemFailure(str(where), f"cannot read the folder {where.name}: {why}"))

    for folder, dirs, files in os.walk(root, onerror=on_error):
        here = Path(folder)
        dirs[:] = sorted(d for d in dirs if not d.startswith(".") and not is_excluded(here / d))
        for name in sorted(files):
            if name.startswith("."):
                continue
            suffix = Path(name).suffix.lower()
            if suffix in VIDEO_EXTENSIONS or suffix in IMAGE_EXTENSIONS:
                found[here / name] = None


# --- the batch -------------------------------------------------------------------------------

def ingest_paths(catalog: Catalog, paths: Iterable[Path | str], *, thumbs_dir: Path,
                 scenes: ScenesMode = "auto", min_scene_frames: int | None = None,
                 progress: ProgressFn = ignore_progress,
                 cancel: CancelToken = NEVER_CANCELLED,
                 analyzer_factory: AnalyzerFactory | None = None) -> IngestReport:
    """Ingest files and folders (recursively) of videos and images into the catalog.

    Args:
        catalog: where sources, clips and images are written.
        paths: files and folders.
        thumbs_dir: the project's thumbnails folder (never searched for media).
        scenes: "auto" splits a video at the hard cuts found in it (none found: one clip);
            "never" makes one clip per file (folders of clips cut already); "always" splits
            like "auto" and also re-splits videos already in the catalog, keeping every clip
            someone has decided, captioned, trimmed or split.
        min_scene_frames: shortest scene; None takes the project setting.
        progress: told before each file and every few hundred frames of a long one.
        cancel: checked between files and between packets; what is done stays done.
        analyzer_factory: if given, each video's frames are also fed to the analyzer it
            makes, and each new clip's analysis is saved.

    Returns:
        The report: counts, failures (file and reason) and warnings.
    """
    if scenes not in SCENES_MODES:
        raise ValueError(f"scenes must be one of {', '.join(SCENES_MODES)}, not {scenes!r}")
    if min_scene_frames is None:
        min_scene_frames = catalog.settings().min_scene_frames
    settings = SceneSettings(min_scene_frames=max(1, int(min_scene_frames)))
    thumbs_dir = Path(thumbs_dir)
    report = IngestReport()
    db_files = _catalog_files(catalog)
    files, failures = discover([Path(p) for p in paths], exclude=[thumbs_dir])
    files = [f for f in files if f not in db_files]
    report.failed.extend(failures)
    job_id = catalog.start_job("ingest", {"paths": [str(p) for p in paths], "scenes": scenes,
                                          "min_scene_frames": settings.min_scene_frames},
                               total=len(files))
    status = "done"
    try:
        for done, path in enumerate(files):
            if cancel.cancelled:
                report.cancelled = True
                break
            progress(Progress(done=done, total=len(files), item=path.name))
            try:
                if path.suffix.lower() in IMAGE_EXTENSIONS:
                    _ingest_image(catalog, path, report)
                else:
                    _ingest_video(catalog, path, report, thumbs_dir=thumbs_dir, mode=scenes,
                                  settings=settings, analyzer_factory=analyzer_factory,
                                  progress=lambda frames, total, _d=done, _p=path: progress(
                                      Progress(done=_d, total=len(files), item=_p.name,
                                               message=_frames_message(frames, total))),
                                  cancel=cancel)
            except Cancelled:
                report.cancelled = True
                break
            except MediaError as exc:
                report.failed.append(ItemFailure(str(path), str(exc)))
            except CatalogError as exc:
                report.failed.append(ItemFailure(str(path), f"{path.name}: {exc}"))
            except PermissionError:
                report.failed.append(ItemFailure(str(path), f"{path.name}: permission denied"))
            except OSError as exc:
                report.failed.append(ItemFailure(str(path),
                                                 f"{path.name}: {exc.strerror or exc}"))
            except Exception as exc:  # one bad file never stops the batch, whatever went wrong
                log.debug("ingest of %s failed", path, exc_info=True)
                report.failed.append(ItemFailure(
                    str(path), f"{path.name}: unexpected error ({type(exc).__name__}: {exc})"))
            report.done = done + 1
            catalog.update_job(job_id, done=report.done)
        progress(Progress(done=report.done, total=len(files), message="ingest finished"))
        if report.cancelled:
            status = "cancelled"
    except BaseException:
        status = "failed"
        raise
    finally:
        catalog.finish_job(job_id, status, result=report.to_json())
    return report


def _frames_message(frames: int, total: int | None) -> str:
    return f"frame {frames} of {total}" if total else f"frame {frames}"


def _catalog_files(catalog: Catalog) -> set[Path]:
    """The catalog's own SQLite files, never to be taken for media."""
    database = catalog.engine.url.database
    if not catalog.is_sqlite or not database:
        return set()
    db = _absolute(Path(database))
    return {db, Path(f"{db}-wal"), Path(f"{db}-shm"), Path(f"{db}-journal")}


# --- one video -------------------------------------------------------------------------------

@dataclass(frozen=True)
class _Known:
    id: int
    path: Path
    size: int
    mtime: float
    content_hash: str
    frame_count: int


def _known_source(catalog: Catalog, *, path: Path | None = None,
                  content_hash_: str | None = None) -> list[_Known]:
    # SourceRow leaves out the mtime this needs, hence the ORM query here
    with catalog.session() as s:
        query = select(Source.id, Source.path, Source.size, Source.mtime, Source.content_hash,
                       Source.frame_count).order_by(Source.id)
        if path is not None:
            query = query.where(Source.path == str(path))
        if content_hash_ is not None:
            query = query.where(Source.content_hash == content_hash_)
        return [_Known(r.id, Path(r.path), r.size, r.mtime, r.content_hash, r.frame_count)
                for r in s.execute(query)]


def _ingest_video(catalog: Catalog, path: Path, report: IngestReport, *, thumbs_dir: Path,
                  mode: str, settings: SceneSettings,
                  analyzer_factory: AnalyzerFactory | None,
                  progress: Callable[[int, int | None], None], cancel: CancelToken) -> None:
    stat = path.stat()
    if stat.st_size == 0:
        raise MediaError(path, "the file is empty (0 bytes)")
    known = next(iter(_known_source(catalog, path=path)), None)
    if known is not None and known.size == stat.st_size and known.mtime == stat.st_mtime \
            and mode != "always":
        report.unchanged += 1
        return
    digest = content_hash(path)
    if known is None:
        for twin in _known_source(catalog, content_hash_=digest):
            if twin.size != stat.st_size:
                continue
            if not twin.path.exists():
                catalog.move_source(twin.id, path, stat.st_mtime)
                report.moved += 1
                report.warnings.append(ItemFailure(str(path), (
                    f"{path.name}: the same video as {twin.path}, which is gone: "
                    f"taken as moved (its clips, decisions and captions are kept)")))
                return
            report.warnings.append(ItemFailure(str(path), (
                f"{path.name}: the same video as {twin.path}, already in the catalog; "
                f"not added again")))
            report.unchanged += 1
            return
    elif known.content_hash == digest and known.size == stat.st_size and mode != "always":
        # touched, not changed: only the time is new
        catalog.move_source(known.id, path, stat.st_mtime)
        report.unchanged += 1
        return

    detect = mode != "never"
    scan = scan_video(path, detect=detect, settings=settings, thumbs_dir=thumbs_dir,
                      source_hash=digest, analyzer_factory=analyzer_factory,
                      on_frames=progress, cancel=cancel)
    info = scan.info
    # every boundary splits, its transition frames left out of both shots
    ranges = (shot_ranges(scan.boundaries, info.frame_count, settings.min_scene_frames)
              if detect else [(0, info.frame_count)])
    keep_clips = known is not None and known.frame_count == info.frame_count and mode != "always"
    if known is not None and not keep_clips:
        # New ranges never take away a clip someone decided, captioned, trimmed or split.
        lost = _user_clips_past_end(catalog, known.id, info.frame_count)
        ranges = _with_user_work(catalog, known.id, ranges, info.frame_count)
        for clip in lost:
            report.warnings.append(ItemFailure(str(path), (
                f"{path.name}: now has {info.frame_count} frames, so clip {clip.id} "
                f"[{clip.start_frame}, {clip.end_frame}) no longer fits and is removed "
                f"(its caption was: {clip.caption or 'none'})")))
    status = "partial" if scan.damaged else "ok"
    source_id, created = catalog.upsert_source(
        path=path, size=stat.st_size, mtime=stat.st_mtime, content_hash=digest,
        container=info.container, codec=info.codec, fps=info.fps, frame_count=info.frame_count,
        header_frame_count=info.header_frame_count, width=info.width, height=info.height,
        duration=info.duration, status=status, warnings=info.warnings,
        source_id=known.id if known is not None else None,
        clip_ranges=None if keep_clips else ranges)
    report.sources += 1
    report.source_ids.append(source_id)
    report.clips += len(created)
    report.clip_ids.extend(created)
    for warning in info.warnings:
        report.warnings.append(ItemFailure(str(path), f"{path.name}: {warning}"))
    clips = catalog.list_clips(source_id=source_id)
    if keep_clips or scan.boundaries:
        # same frames, new content: the old thumbnails are filed under the old hash; or
        # clips shaped by a boundary the pass could not close a scene at (a dissolve)
        for clip in clips:
            ensure_clip_thumbnails(thumbs_dir, clip, cancel=cancel)
    if scan.analyzer is not None:
        _save_analysis(catalog, scan.analyzer, clips, path, report)


def _user_clips_past_end(catalog: Catalog, source_id: int, frame_count: int) -> list[Any]:
    return [clip for clip in catalog.list_clips(source_id=source_id)
            if clip.end_frame > frame_count and (
                clip.decision != "pending" or clip.caption or clip.parent_id is not None
                or clip.tags)]


def _with_user_work(catalog: Catalog, source_id: int, ranges: list[tuple[int, int]],
                    frame_count: int) -> list[tuple[int, int]]:
    """Add to `ranges` those of the source's clips that hold someone's work, so they stay."""
    kept = list(ranges)
    for clip in catalog.list_clips(source_id=source_id):
        touched = (clip.decision != "pending" or clip.caption or clip.parent_id is not None
                   or clip.tags)
        key = (clip.start_frame, clip.end_frame)
        if touched and key not in kept and clip.end_frame <= frame_count:
            kept.append(key)
    return sorted(kept)


def _save_analysis(catalog: Catalog, analyzer: FrameAnalyzer, clips: Sequence[Any], path: Path,
                   report: IngestReport) -> None:
    for clip in sorted(clips, key=lambda c: c.start_frame):
        try:
            analysis = analyzer.finish_clip(clip.start_frame, clip.end_frame)
            # Recording the source hash makes `curator analyze` redo it if the file is replaced.
            save_clip_analysis(catalog, clip.id, analysis, clip.source_hash)
        except (ValueError, KeyError, TypeError, CatalogError) as exc:
            report.warnings.append(ItemFailure(str(path), (
                f"{path.name}: clip [{clip.start_frame}, {clip.end_frame}) could not be "
                f"analysed ({exc})")))


# --- one image -------------------------------------------------------------------------------

def _ingest_image(catalog: Catalog, path: Path, report: IngestReport) -> None:
    stat = path.stat()
    if stat.st_size == 0:
        raise MediaError(path, "the file is empty (0 bytes)")
    digest = content_hash(path)
    existing = catalog.find_image(path=path)
    if existing is not None and existing.content_hash == digest:
        report.unchanged += 1
        return
    if existing is None:
        twin = catalog.find_image(content_hash=digest)
        if twin is not None:
            if not twin.path.exists():
                catalog.upsert_image(path=path, size=stat.st_size, mtime=stat.st_mtime,
                                     content_hash=digest, width=twin.width, height=twin.height,
                                     image_id=twin.id)
                report.moved += 1
                return
            report.warnings.append(ItemFailure(str(path), (
                f"{path.name}: the same picture as {twin.path}, already in the catalog; "
                f"not added again")))
            report.unchanged += 1
            return
    width, height = image_size(path)
    image_id, created = catalog.upsert_image(
        path=path, size=stat.st_size, mtime=stat.st_mtime, content_hash=digest, width=width,
        height=height, image_id=existing.id if existing is not None else None)
    if created:
        report.images += 1
        report.image_ids.append(image_id)


def image_size(path: Path) -> tuple[int, int]:
    """Width and height of a still image, checking that it really is one.

    Raises:
        MediaError: the file is not a picture Pillow can read.
    """
    try:
        with PILImage.open(path) as img:
            img.verify()  # reads the whole structure: a truncated PNG fails here, not at export
        with PILImage.open(path) as img:
            return img.size
    except (OSError, SyntaxError, ValueError, PILImage.DecompressionBombError) as exc:
        raise MediaError(path, f"not a picture that can be read ({exc})") from exc


__all__ = ["IMAGE_EXTENSIONS", "SCENES_MODES", "VIDEO_EXTENSIONS", "IngestReport",
           "SourceInfo", "discover", "image_size", "ingest_paths"]
