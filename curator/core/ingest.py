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

import itertools
import logging
import os
import pickle
from collections import deque
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import CancelledError, Future
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Literal

import numpy as np
from PIL import Image as PILImage
from sqlalchemy import select

from curator.core import jobs
from curator.core.analysis.batch import save_clip_analysis
from curator.core.analysis.text import TextModelsUnavailable, image_text
from curator.core.catalog import Catalog, CatalogError
from curator.core.catalog.models import Source
from curator.core.jsonable import fields_json
from curator.core.media import MediaError, SourceInfo, content_hash
from curator.core.media.scan import AnalyzerFactory, scan_video
from curator.core.media.scenes import SceneSettings
from curator.core.media.shots import Transition, shot_ranges
from curator.core.media.thumbnails import ensure_clip_thumbnails
from curator.core.pool import (
    WorkerPool,
    decoder_threads,
    default_workers,
    worker_cancel,
    worker_progress,
)

log = logging.getLogger(__name__)

ScenesMode = Literal["auto", "always", "never"]
SCENES_MODES: tuple[str, ...] = ("auto", "always", "never")

VIDEO_EXTENSIONS = frozenset({
    ".mp4", ".m4v", ".mov", ".mkv", ".webm", ".avi", ".wmv", ".flv", ".mpg", ".mpeg", ".m2v",
    ".ts", ".m2ts", ".mts", ".3gp", ".ogv", ".vob", ".mxf", ".y4m", ".divx", ".asf", ".qt",
})
IMAGE_EXTENSIONS = frozenset({".png", ".jpg", ".jpeg", ".webp", ".bmp", ".tif", ".tiff"})


@dataclass
class IngestReport(jobs.Report):
    """What an ingest did. Counts are of what this run added or changed.

    Attributes:
        sources: videos added or probed again (changed on disk).
        clips: clips created.
        images: images added.
        moved: known sources found at a new path (matched by content hash).
        unchanged: files already in the catalog as they are.
        failed: files that could not be ingested, with the reason.
        warnings: files ingested with something to know (damage, wrong header, duplicates).
        skipped: files in the folders searched that are not video or image (an .m4a, a .txt),
            so a file left out is never a mystery.
    """

    sources: int = 0
    clips: int = 0
    images: int = 0
    moved: int = 0
    unchanged: int = 0
    source_ids: list[int] = field(default_factory=list)
    clip_ids: list[int] = field(default_factory=list)
    image_ids: list[int] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)

    def summary(self) -> str:
        """'3 new clips from 1 video, 2 images; 4 files unchanged, 1 moved, 1 failed': what
        this run did, with what it found as it was (a re-ingest is not silent about them)."""
        videos = f"{self.sources} video{'s' * (self.sources != 1)}"
        text = f"{self.clips} new clip{'s' * (self.clips != 1)} from {videos}"
        if self.images:
            text += f", {self.images} image{'s' * (self.images != 1)}"
        rest = [f"{self.unchanged} file{'s' * (self.unchanged != 1)} unchanged"]
        if self.moved:
            rest.append(f"{self.moved} moved")
        if self.failed:
            rest.append(f"{len(self.failed)} failed")
        return f"{text}; {', '.join(rest)}"

    def to_json(self) -> dict[str, Any]:
        return {
            **fields_json(self, "sources", "clips", "images"),
            **self.failures_json(),
            **fields_json(self, "moved", "unchanged", "cancelled"),
            "skipped_count": len(self.skipped),
            "skipped": self.skipped,
        }


# --- finding files ---------------------------------------------------------------------------

def discover(paths: Iterable[Path], *, exclude: Sequence[Path] = (),
             skipped: list[Path] | None = None) -> tuple[list[Path], list[jobs.ItemFailure]]:
    """The media files named by `paths`: files as given, folders searched recursively.

    Inside folders only known video and image extensions are taken (captions, sidecars and
    hidden files are left alone); a file named explicitly is tried whatever its extension.

    Args:
        paths: files and folders.
        exclude: folders never entered (the project's own thumbnails).
        skipped: if given, gets the files inside folders that are not media (hidden ones aside).

    Returns:
        The files in a stable order without duplicates, and the paths that could not be read.
    """
    found: dict[Path, None] = {}
    failures: list[jobs.ItemFailure] = []
    excluded = [_absolute(p) for p in exclude]

    def is_excluded(p: Path) -> bool:
        return any(p == e or e in p.parents for e in excluded)

    for raw in paths:
        path = _absolute(Path(raw))
        try:
            if path.is_dir():
                _walk(path, found, failures, is_excluded, skipped)
            elif path.exists():
                if not is_excluded(path):
                    found[path] = None
            else:
                failures.append(jobs.ItemFailure(str(path), f"{path.name}: file not found"))
        except PermissionError:
            failures.append(jobs.ItemFailure(str(path), f"{path.name}: permission denied"))
        except OSError as exc:
            failures.append(jobs.ItemFailure(str(path), f"{path.name}: {exc.strerror or exc}"))
    return list(found), failures


def _absolute(path: Path) -> Path:
    # absolute without resolving symlinks: the catalog keeps the path the user gave
    return Path(os.path.abspath(path.expanduser()))


def _walk(root: Path, found: dict[Path, None], failures: list[jobs.ItemFailure],
          is_excluded: Callable[[Path], bool], skipped: list[Path] | None = None) -> None:
    def on_error(exc: OSError) -> None:
        where = Path(exc.filename) if exc.filename else root
        why = "permission denied" if isinstance(exc, PermissionError) else (exc.strerror or str(exc))
        failures.append(jobs.ItemFailure(str(where), f"cannot read the folder {where.name}: {why}"))

    for folder, dirs, files in os.walk(root, onerror=on_error):
        here = Path(folder)
        dirs[:] = sorted(d for d in dirs if not d.startswith(".") and not is_excluded(here / d))
        for name in sorted(files):
            if name.startswith("."):
                continue
            suffix = Path(name).suffix.lower()
            if suffix in VIDEO_EXTENSIONS or suffix in IMAGE_EXTENSIONS:
                found[here / name] = None
            elif skipped is not None:
                skipped.append(here / name)


# --- the batch -------------------------------------------------------------------------------

def ingest_paths(catalog: Catalog, paths: Iterable[Path | str], *, thumbs_dir: Path,
                 scenes: ScenesMode = "auto", min_scene_frames: int | None = None,
                 progress: jobs.ProgressFn = jobs.ignore_progress,
                 cancel: jobs.CancelToken = jobs.NEVER_CANCELLED,
                 analyzer_factory: AnalyzerFactory | None = None,
                 workers: int | None = None) -> IngestReport:
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
        progress: told as each file starts and every few hundred frames of a long one.
        cancel: checked between files and between packets; what is done stays done.
        analyzer_factory: if given, each video's frames are also fed to the analyzer it
            makes, and each new clip's analysis is saved. With workers it must pickle (a
            module-level function such as `make_frame_analyzer`).
        workers: videos decoded at once, each in its own process (None: one per core). A
            batch of fewer than `MIN_POOL_VIDEOS` videos is decoded here, one after another,
            with FFmpeg's threads: starting the processes would cost more than it saves.

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
    skipped: list[Path] = []
    files, failures = discover([Path(p) for p in paths], exclude=[thumbs_dir], skipped=skipped)
    files = [f for f in files if f not in db_files]
    report.failed.extend(failures)
    report.skipped = [str(p) for p in skipped if p not in db_files]
    job_id = catalog.start_job("ingest", {"paths": [str(p) for p in paths], "scenes": scenes,
                                          "min_scene_frames": settings.min_scene_frames},
                               total=len(files))
    batch = _Batch(catalog, report, job_id, files, progress, cancel, thumbs_dir, scenes,
                   settings, analyzer_factory)
    workers = max(1, workers if workers is not None else default_workers())
    videos = sum(1 for f in files if f.suffix.lower() not in IMAGE_EXTENSIONS)
    status = "done"
    try:
        if workers > 1 and videos >= MIN_POOL_VIDEOS and _pickles(analyzer_factory):
            batch.run_pool(min(workers, videos))
        else:
            batch.run_here()
        progress(jobs.Progress(done=report.done, total=len(files), message="ingest finished"))
        if report.cancelled:
            status = "cancelled"
    except BaseException:
        status = "failed"
        raise
    finally:
        catalog.finish_job(job_id, status, result=report.to_json())
    return report


# Below this many videos a batch is decoded in the calling process: spawning workers (each
# imports FFmpeg, OpenCV and the analysis) costs about a second of a core apiece.
MIN_POOL_VIDEOS = 4
# Videos handed to the pool ahead of the ones being decoded, per worker: enough that no worker
# waits while the parent hashes and writes, few enough that a cancel wastes little.
_AHEAD = 2


def _pickles(obj: object) -> bool:
    try:
        pickle.dumps(obj)
    except (pickle.PicklingError, TypeError, AttributeError):
        return False
    return True


def _failure(path: Path, exc: BaseException) -> str:
    """What a person reads about a file that could not be ingested."""
    if isinstance(exc, MediaError):
        return str(exc)
    if isinstance(exc, CatalogError):
        return f"{path.name}: {exc}"
    if isinstance(exc, PermissionError):
        return f"{path.name}: permission denied"
    if isinstance(exc, OSError):
        return f"{path.name}: {exc.strerror or exc}"
    log.debug("ingest of %s failed", path, exc_info=exc)
    return f"{path.name}: unexpected error ({type(exc).__name__}: {exc})"


class _Batch:
    """One ingest run: the files in order, planned and stored here, decoded here or in a pool."""

    def __init__(self, catalog: Catalog, report: IngestReport, job_id: int, files: list[Path],
                 progress: jobs.ProgressFn, cancel: jobs.CancelToken, thumbs_dir: Path, mode: str,
                 settings: SceneSettings, analyzer_factory: AnalyzerFactory | None) -> None:
        self.catalog, self.report, self.job_id, self.files = catalog, report, job_id, files
        self.progress, self.cancel, self.thumbs_dir = progress, cancel, thumbs_dir
        self.mode, self.settings, self.analyzer_factory = mode, settings, analyzer_factory

    def tell(self, path: Path, message: str = "") -> None:
        self.progress(jobs.Progress(done=self.report.done, total=len(self.files), item=path.name,
                                    message=message))

    def finished(self) -> None:
        self.report.done += 1
        self.catalog.update_job(self.job_id, done=self.report.done)
        # told at once: the window refreshes its grid as each source is stored
        self.progress(jobs.Progress(done=self.report.done, total=len(self.files)))

    def plan(self, path: Path, threads: bool | int) -> _ScanTask | None:
        """Everything before the decode; None when the file is done (image, unchanged, failed)."""
        try:
            if path.suffix.lower() in IMAGE_EXTENSIONS:
                _ingest_image(self.catalog, path, self.report,
                              check_text=self.analyzer_factory is not None)
                return None
            return _plan_video(self.catalog, path, self.report, thumbs_dir=self.thumbs_dir,
                               mode=self.mode, settings=self.settings,
                               analyzer_factory=self.analyzer_factory, threads=threads)
        except Exception as exc:  # noqa: BLE001 - one bad file never stops the batch
            self.report.failed.append(jobs.ItemFailure(str(path), _failure(path, exc)))
            return None

    def store(self, task: _ScanTask, scanned: _Scanned) -> None:
        try:
            _store_video(self.catalog, task, scanned, self.report, mode=self.mode,
                         cancel=self.cancel)
        except jobs.Cancelled:
            self.report.cancelled = True
        except Exception as exc:  # noqa: BLE001 - one bad file never stops the batch
            self.report.failed.append(jobs.ItemFailure(str(task.path), _failure(task.path, exc)))

    def scan_here(self, task: _ScanTask) -> None:
        """Decode one video in this process and store it; Cancelled when the cancel fires."""
        try:
            scanned = _scan(task, lambda n, total, _p=task.path: self.tell(
                _p, _frames_message(n, total)), self.cancel)
        except jobs.Cancelled:
            raise
        except Exception as exc:  # noqa: BLE001 - one bad file never stops the batch
            self.report.failed.append(jobs.ItemFailure(str(task.path), _failure(task.path, exc)))
        else:
            self.store(task, scanned)

    def run_here(self) -> None:
        """One file after another in this process, each decode with FFmpeg's threads."""
        for path in self.files:
            if self.cancel.cancelled:
                self.report.cancelled = True
                return
            self.tell(path)
            task = self.plan(path, threads=True)
            if task is not None:
                try:
                    self.scan_here(task)
                except jobs.Cancelled:
                    self.report.cancelled = True
                if self.report.cancelled:
                    return
            self.finished()

    def run_pool(self, workers: int) -> None:
        """Decode in worker processes; plan and store here, in file order.

        A worker that dies (FFmpeg crashing on a file) breaks its pool: a new one is started,
        and the files that were in flight are decoded again one at a time, so the file that
        crashes it is found and failed alone while the others are stored.
        """
        self._threads = decoder_threads(workers)
        self._pending: deque[Path] = deque(self.files)
        self._suspects: deque[_ScanTask] = deque()
        self._digests: set[str] = set()
        self._later: list[Path] = []  # a copy of a file being decoded: stored after its twin
        self._keys = itertools.count()
        while True:
            with WorkerPool(workers, self.cancel) as pool:
                if not self._drive(pool, workers):
                    break
        for path in self._later:
            if self.cancel.cancelled or self.report.cancelled:
                self.report.cancelled = True
                return
            self.tell(path)
            task = self.plan(path, threads=True)  # now finds its twin in the catalog
            if task is not None:  # the twin failed: this copy gets its own decode
                try:
                    self.scan_here(task)
                except jobs.Cancelled:
                    self.report.cancelled = True
                    return
            self.finished()

    def _next_task(self) -> _ScanTask | None:
        """The next video to hand to the pool (settling files that need no decode on the way)."""
        if self._suspects:
            return self._suspects.popleft()
        while self._pending:
            path = self._pending.popleft()
            self.tell(path)
            task = self.plan(path, threads=self._threads)
            if task is None:
                self.finished()
            elif task.digest in self._digests:
                self._later.append(path)
            else:
                self._digests.add(task.digest)
                return task
        return None

    def _drive(self, pool: WorkerPool, workers: int) -> bool:
        """Run the batch on `pool` until it is done (False) or the pool broke (True)."""
        in_flight: deque[tuple[int, _ScanTask, Future]] = deque()
        while True:
            if pool.relay_cancel():
                self.report.cancelled = True
            # while suspects of a crash are retried, one at a time
            window = 1 if self._suspects or any(t.suspect for _, t, _ in in_flight) \
                else _AHEAD * workers
            while len(in_flight) < window and not self.report.cancelled:
                task = self._next_task()
                if task is None:
                    break
                key = next(self._keys)
                try:
                    in_flight.append((key, task, pool.submit(_scan_in_worker, task, key)))
                except BrokenProcessPool:
                    self._suspects.appendleft(task)
                    return self._crashed(in_flight)
            if not in_flight:
                return False
            for key, (frames, total) in pool.messages(timeout=0.1):
                path = next((t.path for k, t, _ in in_flight if k == key), None)
                if path is not None:
                    self.tell(path, _frames_message(frames, total))
            if self._store_done(in_flight):
                return self._crashed(in_flight)

    def _crashed(self, in_flight: deque[tuple[int, _ScanTask, Future]]) -> bool:
        tasks = [task for _, task, _ in in_flight]
        in_flight.clear()
        if len(tasks) == 1 and tasks[0].suspect:
            task = tasks[0]
            self.report.failed.append(jobs.ItemFailure(str(task.path), (
                f"{task.path.name}: the decoder crashed on this file (its worker process "
                f"died); the other files go on")))
            self.finished()
        else:
            self._suspects.extendleft(replace(t, suspect=True) for t in reversed(tasks))
        return True

    def _store_done(self, in_flight: deque[tuple[int, _ScanTask, Future]]) -> bool:
        """Store the finished decodes at the head, in file order; True if the pool broke."""
        # In file order, so catalog ids come out as a one-by-one ingest gives them.
        while in_flight and in_flight[0][2].done():
            if self.cancel.cancelled:  # a cancel told between two stores: the rest is dropped
                self.report.cancelled = True
                for _, _, future in in_flight:
                    future.cancel()
                in_flight.clear()
                return False
            _, task, future = in_flight[0]
            try:
                result = future.result()
            except BrokenProcessPool:
                return True  # the head is one of the files in flight when a worker died
            except CancelledError:
                result = None
            except Exception as exc:  # noqa: BLE001 - the batch goes on
                result = (f"{task.path.name}: the decoding process failed "
                          f"({type(exc).__name__}: {exc})")
            in_flight.popleft()
            if result is None:  # cancelled mid-decode: nothing of it is stored
                self.report.cancelled = True
                continue
            if isinstance(result, str):
                self.report.failed.append(jobs.ItemFailure(str(task.path), result))
            else:
                self.store(task, result)
            self.finished()
        return False


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


@dataclass(frozen=True)
class _ScanTask:
    """A video to decode, with what its storing needs; pickles, to go to a worker process."""

    path: Path
    size: int
    mtime: float
    digest: str
    known: _Known | None
    detect: bool
    settings: SceneSettings
    thumbs_dir: Path
    analyzer_factory: AnalyzerFactory | None
    # the known source's clip ranges: analysed too, as they may be kept
    known_ranges: tuple[tuple[int, int], ...] = ()
    threads: bool | int = True
    suspect: bool = False  # in flight when a worker died: decoded again alone


@dataclass
class _Scanned:
    """What a decode found, small enough to send back from a worker process."""

    info: SourceInfo
    cuts: list[int]
    damaged: bool
    boundaries: list[Transition] = field(default_factory=list)  # cuts, dissolves, fades, wipes
    analyses: dict[tuple[int, int], dict[str, Any]] = field(default_factory=dict)
    analysis_errors: dict[tuple[int, int], str] = field(default_factory=dict)


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


def _plan_video(catalog: Catalog, path: Path, report: IngestReport, *, thumbs_dir: Path,
                mode: str, settings: SceneSettings,
                analyzer_factory: AnalyzerFactory | None,
                threads: bool | int) -> _ScanTask | None:
    """Settle a video without decoding it if possible (unchanged, moved, a copy); else its task."""
    stat = path.stat()
    if stat.st_size == 0:
        raise MediaError(path, "the file is empty (0 bytes)")
    known = next(iter(_known_source(catalog, path=path)), None)
    if known is not None and known.size == stat.st_size and known.mtime == stat.st_mtime \
            and mode != "always":
        report.unchanged += 1
        return None
    digest = content_hash(path)
    if known is None:
        for twin in _known_source(catalog, content_hash_=digest):
            if twin.size != stat.st_size:
                continue
            if not twin.path.exists():
                catalog.move_source(twin.id, path, stat.st_mtime)
                report.moved += 1
                report.warnings.append(jobs.ItemFailure(str(path), (
                    f"{path.name}: the same video as {twin.path}, which is gone: "
                    f"taken as moved (its clips, decisions and captions are kept)")))
                return None
            report.warnings.append(jobs.ItemFailure(str(path), (
                f"{path.name}: the same video as {twin.path}, already in the catalog; "
                f"not added again")))
            report.unchanged += 1
            return None
    elif known.content_hash == digest and known.size == stat.st_size and mode != "always":
        # touched, not changed: only the time is new
        catalog.move_source(known.id, path, stat.st_mtime)
        report.unchanged += 1
        return None
    known_ranges: tuple[tuple[int, int], ...] = ()
    if known is not None and analyzer_factory is not None:
        known_ranges = tuple(sorted({(c.start_frame, c.end_frame)
                                     for c in catalog.list_clips(source_id=known.id)}))
    return _ScanTask(path=path, size=stat.st_size, mtime=stat.st_mtime, digest=digest,
                     known=known, detect=mode != "never", settings=settings,
                     thumbs_dir=thumbs_dir, analyzer_factory=analyzer_factory,
                     known_ranges=known_ranges, threads=threads)


def _scan(task: _ScanTask, on_frames: Callable[[int, int | None], None] | None,
          cancel: jobs.CancelToken) -> _Scanned:
    """The decode pass of one video, and the analysis of every clip range it may get.

    Raises:
        MediaError: the file cannot be read.
        Cancelled: when `cancel` fires.
    """
    scan = scan_video(task.path, detect=task.detect, settings=task.settings,
                      thumbs_dir=task.thumbs_dir, source_hash=task.digest,
                      analyzer_factory=task.analyzer_factory, on_frames=on_frames,
                      cancel=cancel, threads=task.threads)
    frames = scan.info.frame_count
    scanned = _Scanned(info=scan.info, cuts=list(scan.cuts), damaged=scan.damaged,
                       boundaries=list(scan.boundaries))
    if scan.analyzer is not None:
        ranges = set(_shot_ranges(task, scanned))
        ranges.update(r for r in task.known_ranges if r[1] <= frames)
        for start, end in sorted(ranges):
            try:
                scanned.analyses[(start, end)] = scan.analyzer.finish_clip(start, end)
            except (ValueError, KeyError, TypeError) as exc:
                scanned.analysis_errors[(start, end)] = str(exc)
    return scanned


def _shot_ranges(task: _ScanTask, scanned: _Scanned) -> list[tuple[int, int]]:
    """The clips a decoded video gets: every boundary splits, its transition frames left out
    of both shots (one clip when scenes are not looked for)."""
    frames = scanned.info.frame_count
    if not task.detect:
        return [(0, frames)]
    return shot_ranges(scanned.boundaries, frames, task.settings.min_scene_frames)


def _scan_in_worker(task: _ScanTask, key: int) -> _Scanned | str | None:
    """`_scan` in a worker process: the result, the reason it failed, or None if cancelled."""
    try:
        return _scan(task, worker_progress(key), worker_cancel())
    except jobs.Cancelled:
        return None
    except Exception as exc:  # noqa: BLE001 - the reason goes back; the batch goes on
        return _failure(task.path, exc)


def _store_video(catalog: Catalog, task: _ScanTask, scanned: _Scanned, report: IngestReport,
                 *, mode: str, cancel: jobs.CancelToken) -> None:
    """Write a decoded video, its clips and their analysis to the catalog."""
    path, known, info = task.path, task.known, scanned.info
    ranges = _shot_ranges(task, scanned)
    keep_clips = known is not None and known.frame_count == info.frame_count and mode != "always"
    if known is not None and not keep_clips:
        # New ranges never take away a clip someone decided, captioned, trimmed or split.
        lost = _user_clips_past_end(catalog, known.id, info.frame_count)
        ranges = _with_user_work(catalog, known.id, ranges, info.frame_count)
        for clip in lost:
            report.warnings.append(jobs.ItemFailure(str(path), (
                f"{path.name}: now has {info.frame_count} frames, so clip {clip.id} "
                f"[{clip.start_frame}, {clip.end_frame}) no longer fits and is removed "
                f"(its caption was: {clip.caption or 'none'})")))
    status = "partial" if scanned.damaged else "ok"
    source_id, created = catalog.upsert_source(
        path=path, size=task.size, mtime=task.mtime, content_hash=task.digest,
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
        report.warnings.append(jobs.ItemFailure(str(path), f"{path.name}: {warning}"))
    clips = catalog.list_clips(source_id=source_id)
    if keep_clips or scanned.boundaries:
        # same frames, new content: the old thumbnails are filed under the old hash; or
        # clips shaped by a boundary the pass could not close a scene at (a dissolve)
        for clip in clips:
            ensure_clip_thumbnails(task.thumbs_dir, clip, cancel=cancel)
    if task.analyzer_factory is not None:
        _save_analysis(catalog, scanned, clips, path, report)


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


def _save_analysis(catalog: Catalog, scanned: _Scanned, clips: Sequence[Any], path: Path,
                   report: IngestReport) -> None:
    for clip in sorted(clips, key=lambda c: c.start_frame):
        key = (clip.start_frame, clip.end_frame)
        analysis = scanned.analyses.get(key)
        if analysis is None:
            why = scanned.analysis_errors.get(key, "no analysis was made for this range")
            report.warnings.append(jobs.ItemFailure(str(path), (
                f"{path.name}: clip [{clip.start_frame}, {clip.end_frame}) could not be "
                f"analysed ({why})")))
            continue
        try:
            # Recording the source hash makes `curator analyze` redo it if the file is replaced.
            save_clip_analysis(catalog, clip.id, dict(analysis), clip.source_hash)
        except CatalogError as exc:
            report.warnings.append(jobs.ItemFailure(str(path), (
                f"{path.name}: clip [{clip.start_frame}, {clip.end_frame}) could not be "
                f"analysed ({exc})")))


# --- one image -------------------------------------------------------------------------------

def _ingest_image(catalog: Catalog, path: Path, report: IngestReport, *,
                  check_text: bool = False) -> None:
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
            report.warnings.append(jobs.ItemFailure(str(path), (
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
    if check_text:
        _check_image_text(catalog, image_id, path, report)


def _check_image_text(catalog: Catalog, image_id: int, path: Path, report: IngestReport) -> None:
    """The text check clips get (subtitles, credits, watermarks), on a still."""
    try:
        with PILImage.open(path) as img:
            gray = np.asarray(img.convert("L"))
        text = image_text(gray, gray.shape[1], gray.shape[0])
    except (OSError, ValueError, TextModelsUnavailable) as exc:
        report.warnings.append(jobs.ItemFailure(str(path),
                                                f"{path.name}: text check skipped ({exc})"))
        return
    catalog.save_image_text(image_id, text, text["share"])


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
