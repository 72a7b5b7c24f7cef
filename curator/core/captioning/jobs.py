"""`caption_items`: the captioning job. Frames are decoded ahead while the model generates, each
caption is saved the moment it is made, and a rerun picks up where the last one stopped."""

from __future__ import annotations

import logging
import math
import os
import queue
import socket
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from curator.core import jobs
from curator.core.ahead import RunAhead
from curator.core.captioning.backend import (
    CaptionBackend,
    CaptionBackendError,
    CaptionRequest,
    InputTooLargeError,
    ReportsRetries,
    RetryNotice,
    caption_many,
)
from curator.core.captioning.cleanup import clean_caption
from curator.core.captioning.prompts import Prompts, prompt_hash, render_prompt
from curator.core.catalog import Catalog, CatalogError, ClipRow, ImageRow
from curator.core.media import MediaError, resample_indices, sample_frames

log = logging.getLogger(__name__)



@dataclass(frozen=True)
class Sampling:
    """How a clip becomes frames for the model, and how large images and frames may be.

    Attributes:
        fps: frames per second taken from a clip (as a stream resampled to this rate shows
            them); None to always take `max_frames` spread evenly.
        max_frames: the most frames per clip; a long clip at `fps` gets this many, spread evenly.
        max_pixels: each frame is scaled down (aspect kept) to at most this many pixels.
        image_max_pixels: the same for stills.
        min_frames: the fewest frames a retry after running out of memory goes down to.
    """

    fps: float | None = 2.0
    max_frames: int = 16
    max_pixels: int | None = 360 * 640
    image_max_pixels: int | None = 1024 * 1024
    min_frames: int = 2

    def __post_init__(self) -> None:
        if self.fps is not None and self.fps <= 0:
            raise ValueError("sampling fps must be positive")
        if self.max_frames < 1 or self.min_frames < 1:
            raise ValueError("max_frames and min_frames must be at least 1")

    def to_json(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_json(cls, data: dict[str, Any] | None) -> Sampling:
        names = set(cls.__dataclass_fields__)
        return cls(**{k: v for k, v in (data or {}).items() if k in names})


@dataclass(frozen=True)
class CaptionResult:
    """One saved caption, as the GUI shows it appearing."""

    kind: str  # clip | image
    id: int
    name: str
    text: str
    origin: str
    caption_id: int


@dataclass
class CaptionReport(jobs.Report):
    """What a captioning run did.

    Attributes:
        captions: the captions saved, in the order they were made.
        skipped: items left alone because they already had a caption (only_missing).
        skipped_manual: items left alone because a person wrote their caption.
        retried: answers that were empty or looped and were asked again.
        fewer_frames: clips that only fit after a retry with fewer frames.
        stopped: why the run stopped early (a refused key, a server gone), or None.
        decode_seconds / model_seconds / wall_seconds: time decoding and preparing frames
            (on the prefetch thread, overlapping the model), in the model, and in all.
    """

    captions: list[CaptionResult] = field(default_factory=list)
    skipped: int = 0
    skipped_manual: int = 0
    retried: int = 0
    fewer_frames: int = 0
    stopped: str | None = None
    job_id: int | None = None
    decode_seconds: float = 0.0
    model_seconds: float = 0.0
    wall_seconds: float = 0.0

    @property
    def ok(self) -> bool:
        """False when the run stopped early (the GUI's job list then shows it as failed)."""
        return self.stopped is None

    def to_json(self, *, with_captions: bool = True) -> dict[str, Any]:
        data: dict[str, Any] = {
            "done": self.done, "skipped": self.skipped, "skipped_manual": self.skipped_manual,
            "retried": self.retried, "fewer_frames": self.fewer_frames,
            "cancelled": self.cancelled, "stopped": self.stopped, "job_id": self.job_id,
            **self.failures_json(),
            "seconds": {"decode": round(self.decode_seconds, 3),
                        "model": round(self.model_seconds, 3),
                        "wall": round(self.wall_seconds, 3)},
        }
        if with_captions:
            data["captions"] = [asdict(c) for c in self.captions]
        return data


@dataclass(frozen=True)
class CaptionItem:
    """One clip or image a run captions."""

    kind: str  # clip | image
    row: ClipRow | ImageRow

    @property
    def id(self) -> int:
        return self.row.id

    @property
    def path(self) -> Path:
        return self.row.source_path if isinstance(self.row, ClipRow) else self.row.path

    @property
    def name(self) -> str:
        if isinstance(self.row, ClipRow):
            return f"{self.row.source_path.name} [{self.row.start_frame}, {self.row.end_frame})"
        return self.row.path.name


@dataclass(frozen=True)
class _Frames:
    frames: list[np.ndarray]
    indices: list[int]
    fps: float


@dataclass
class _Open:
    """An item on its way through the model: its pixels, prompt and tries so far."""

    item: CaptionItem
    payload: _Frames | np.ndarray
    prompt: str
    attempt: int = 0
    last_problem: str = ""

    def request(self) -> CaptionRequest:
        if isinstance(self.payload, _Frames):
            return CaptionRequest(prompt=self.prompt, frames=self.payload.frames,
                                  fps=self.payload.fps, attempt=self.attempt, name=self.item.name)
        return CaptionRequest(prompt=self.prompt, image=self.payload, attempt=self.attempt,
                              name=self.item.name)


class _RetryRelay:
    """Passes a run's progress on, keeping the last; a backend's retry notice goes out as
    progress too (the total unknown while it waits, so a bar turns busy) and to `on_retry`.

    Notices come from the backend's request threads, so the progress sink is called under a
    lock: sinks (the window's worker, the terminal's bar) expect one caller at a time.
    """

    def __init__(self, progress: jobs.ProgressFn,
                 on_retry: Callable[[RetryNotice], None] | None) -> None:
        self._progress, self._on_retry = progress, on_retry
        self._last = jobs.Progress(done=0)
        self._lock = threading.Lock()

    def __call__(self, progress: jobs.Progress) -> None:
        with self._lock:
            self._last = progress
            self._progress(progress)

    def retrying(self, notice: RetryNotice) -> None:
        with self._lock:  # the terminal's line and bar, too, take one caller at a time
            self._progress(jobs.Progress(done=self._last.done, total=None,
                                         item=notice.item or self._last.item,
                                         message=notice.text))
            if self._on_retry is not None:
                self._on_retry(notice)


@contextmanager
def _retries_reported(backend: CaptionBackend, relay: _RetryRelay) -> Iterator[None]:
    """While a run lasts, a backend that retries by itself says so through the run."""
    if not isinstance(backend, ReportsRetries):
        yield
        return
    before = backend.retry_listener
    backend.retry_listener = relay.retrying
    try:
        yield
    finally:
        backend.retry_listener = before


_NO_TRIGGER = jobs.ItemFailure(path="settings",
                          reason="no trigger phrase is set: captions will not start with one")


def caption_items(catalog: Catalog, *, backend: CaptionBackend, clip_ids: Iterable[int] = (),
                  image_ids: Iterable[int] = (), prompts: Prompts | None = None,
                  trigger: str | None = None, sampling: Sampling = Sampling(),
                  only_missing: bool = True, overwrite_manual: bool = False,
                  batch_size: int | None = None, retries: int = 2, prefetch: int | None = None,
                  limit: int | None = None, record_job: bool = True,
                  on_caption: Callable[[CaptionResult], None] | None = None,
                  progress: jobs.ProgressFn = jobs.ignore_progress,
                  cancel: jobs.CancelToken = jobs.NEVER_CANCELLED,
                  on_retry: Callable[[RetryNotice], None] | None = None) -> CaptionReport:
    """Caption clips and images, saving each caption (a new version) as soon as it is made.

    Frames of the next clips are decoded on a prefetch thread while the model works on the
    current ones. An answer that is empty or loops is asked again (the backend samples more
    freely); a clip that runs out of memory is tried again with half the frames, down to
    `sampling.min_frames`. A clip whose source vanished, or any other per-item failure, is
    reported and the batch goes on; a fatal backend error (refused key, server gone) stops it.

    Args:
        catalog: the project's catalog.
        backend: the model (see `make_backend`).
        clip_ids, image_ids: what to caption, in this order (clips first).
        prompts: the templates; None for the project's own (or the shipped defaults).
        trigger: the phrase every caption starts with; None for the project's.
        sampling: frames per clip, pixel budgets.
        only_missing: skip items that already have a caption (so a rerun resumes).
        overwrite_manual: let a model caption replace one a person wrote.
        batch_size: requests given to the backend at once; None for the backend's own.
        retries: further tries for an empty or looping answer.
        prefetch: items decoded ahead; None for twice the batch size.
        limit: caption at most this many items, counted after skipping what needs nothing
            (so three runs with limit 2 caption six items).
        record_job: record the run as a 'caption' job in the catalog.
        on_caption: called (on this thread) with each saved caption.
        progress: called after each item, and while a server is retried ('Server not
            answering, retry 2 of 4 in 4 s…', with the total unknown while it waits).
        cancel: checked before each batch and while decoding; what is saved stays saved.
        on_retry: called with each `RetryNotice` as well (the CLI prints them as lines).

    Returns:
        A `CaptionReport`: captions saved, skips, failures, timings, and whether it was
        cancelled or stopped.
    """
    started = time.monotonic()
    report = CaptionReport()
    settings = catalog.settings()
    trigger = settings.trigger if trigger is None else trigger
    prompts = prompts or Prompts.from_settings(settings)
    if not trigger.strip():
        report.warnings.append(_NO_TRIGGER)
    items = select_items(catalog, list(clip_ids), list(image_ids), only_missing, overwrite_manual,
                         report, limit)
    batch = max(1, int(batch_size or getattr(backend, "batch_size", 1) or 1))
    rendered = {kind: render_prompt(prompts.template(kind), trigger) for kind in ("image", "video")}
    job_id = None
    if record_job:
        job_id = report.job_id = _start_caption_job(catalog, backend, items, only_missing,
                                                     overwrite_manual, trigger, sampling,
                                                     rendered)
    if _yields_to_other_run(catalog, job_id, report, started):
        return report
    total = len(items)
    progress = relay = _RetryRelay(progress, on_retry)
    progress(jobs.Progress(done=0, total=total, message="starting"))
    prefetcher = _Prefetcher(items, sampling, cancel, depth=prefetch or max(2, 2 * batch))
    prefetcher.start()
    finished = 0
    try:
        with _job_closed_on_crash(catalog, job_id, report), _retries_reported(backend, relay):
            finished = _caption_batches(catalog, backend, prefetcher, batch, rendered, trigger,
                                        sampling, retries, overwrite_manual, report, on_caption,
                                        progress, cancel, job_id)
        report.cancelled = cancel.cancelled and finished < total
    finally:
        prefetcher.stop()
    _finish_caption_job(catalog, job_id, report, started)
    return report


def _yields_to_other_run(catalog: Catalog, job_id: int | None, report: CaptionReport,
                         started: float) -> bool:
    """Whether another caption run is going: two would caption every clip twice, so the
    later one stops (its job row closed as cancelled, the reason in `report.stopped`)."""
    other = _other_caption_run(catalog, job_id)
    if other is None:
        return False
    report.stopped = other
    if job_id is not None:
        catalog.finish_job(job_id, "cancelled", log=other)
    report.wall_seconds = time.monotonic() - started
    return True


@contextmanager
def _job_closed_on_crash(catalog: Catalog, job_id: int | None,
                         report: CaptionReport) -> Iterator[None]:
    """A crash (or Ctrl-C) must not leave the job 'running' forever; what is saved stays."""
    try:
        yield
    except BaseException as exc:
        if job_id is not None:
            cancelled = isinstance(exc, (KeyboardInterrupt, jobs.Cancelled))
            status = "cancelled" if cancelled else "failed"
            catalog.finish_job(job_id, status, result={"done": len(report.captions)},
                               log=f"{type(exc).__name__}: {exc}")
        raise


def _finish_caption_job(catalog: Catalog, job_id: int | None, report: CaptionReport,
                        started: float) -> None:
    report.done = len(report.captions)
    report.wall_seconds = time.monotonic() - started
    if job_id is not None:
        status = "failed" if report.stopped else "cancelled" if report.cancelled else "done"
        catalog.finish_job(job_id, status, result=report.to_json(with_captions=False),
                           log=report.stopped)


def _start_caption_job(catalog: Catalog, backend: CaptionBackend, items: list[Any],
                       only_missing: bool, overwrite_manual: bool, trigger: str,
                       sampling: Sampling, rendered: dict[str, str]) -> int:
    """The run's 'caption' job row, with what it covers and how it was asked."""
    return catalog.start_job("caption", params={
        "backend": backend.model_id, "settings": dict(getattr(backend, "settings", {})),
        "clips": sum(1 for i in items if i.kind == "clip"),
        "images": sum(1 for i in items if i.kind == "image"),
        "only_missing": only_missing, "overwrite_manual": overwrite_manual,
        "trigger": trigger, "sampling": sampling.to_json(),
        "prompt_hashes": {k: prompt_hash(v) for k, v in rendered.items()},
    }, total=len(items))


def _caption_batches(catalog: Catalog, backend: CaptionBackend, prefetcher: _Prefetcher,
                     batch: int, rendered: dict[str, str], trigger: str, sampling: Sampling,
                     retries: int, overwrite_manual: bool, report: CaptionReport,
                     on_caption: Callable[[CaptionResult], None] | None,
                     progress: jobs.ProgressFn, cancel: jobs.CancelToken,
                     job_id: int | None) -> int:
    """Caption batch after batch as the prefetcher decodes them; returns the items finished."""
    total = len(prefetcher.items)
    finished = 0
    while not cancel.cancelled and report.stopped is None:
        loaded = prefetcher.take(batch)
        if not loaded or cancel.cancelled:
            break
        open_items: list[_Open] = []
        for item, payload, seconds in loaded:
            report.decode_seconds += seconds
            if isinstance(payload, Exception):
                report.failed.append(_failure(item, payload))
                finished += 1
                progress(jobs.Progress(done=finished, total=total, item=item.name,
                                       message=f"failed: {payload}"))
                continue
            kind = "video" if item.kind == "clip" else "image"
            open_items.append(_Open(item, payload, rendered[kind]))
        for item, outcome in _run_batch(open_items, backend, trigger, sampling, retries,
                                        report, cancel):
            if outcome is None:  # the batch stopped before this item was answered
                continue
            finished += 1
            message = _save(catalog, backend, item, outcome, sampling, overwrite_manual,
                            report, on_caption)
            progress(jobs.Progress(done=finished, total=total, item=item.item.name,
                                   message=message))
        if job_id is not None:
            catalog.update_job(job_id, done=finished)
    return finished


def run_caption_job(catalog: Catalog, *, backend: str, backend_settings: dict[str, Any],
                    clip_ids: Iterable[int] = (), image_ids: Iterable[int] = (),
                    prompts: Prompts | dict[str, str] | None = None, trigger: str | None = None,
                    sampling: Sampling | dict[str, Any] | None = None,
                    only_missing: bool = True, overwrite_manual: bool = False,
                    batch_size: int | None = None, retries: int = 2,
                    limit: int | None = None, record_job: bool = True,
                    on_caption: Callable[[CaptionResult], None] | None = None,
                    progress: jobs.ProgressFn = jobs.ignore_progress,
                    cancel: jobs.CancelToken = jobs.NEVER_CANCELLED,
                    on_retry: Callable[[RetryNotice], None] | None = None) -> CaptionReport:
    """`caption_items` from plain values only, for a GUI worker: the backend is made here.

    Loading a model takes seconds to minutes, so it belongs on the worker thread too. A model
    that does not load ends the job with `report.stopped` saying which and why.

    Args:
        backend: a `BACKENDS` name ('transformers' or 'openai').
        backend_settings: its keyword arguments (model, device, url, ...).
        prompts: a `Prompts`, or {'image': ..., 'video': ...}; None for the project's.
        sampling: a `Sampling` or its `to_json()` dict; None for the defaults.
        The rest: as `caption_items`.

    Returns:
        The `CaptionReport`.
    """
    from curator.core.captioning.backend import make_backend

    if isinstance(prompts, dict):
        defaults = Prompts.from_settings(catalog.settings())
        prompts = Prompts(image=prompts.get("image") or defaults.image,
                          video=prompts.get("video") or defaults.video)
    if not isinstance(sampling, Sampling):
        sampling = Sampling.from_json(sampling)
    progress(jobs.Progress(done=0, total=None, message=f"loading {backend} model"))
    try:
        model = make_backend(backend, **backend_settings)
    except CaptionBackendError as exc:
        return CaptionReport(stopped=str(exc))
    try:
        return caption_items(catalog, backend=model, clip_ids=clip_ids, image_ids=image_ids,
                             prompts=prompts, trigger=trigger, sampling=sampling,
                             only_missing=only_missing, overwrite_manual=overwrite_manual,
                             batch_size=batch_size, retries=retries, limit=limit,
                             record_job=record_job, on_caption=on_caption,
                             progress=progress, cancel=cancel, on_retry=on_retry)
    finally:
        model.close()


def _other_caption_run(catalog: Catalog, job_id: int | None) -> str | None:
    """A sentence naming another live caption run on this catalog, or None.

    Of two runs started at once, the one with the lower job id goes on. Without a job row of
    our own (the window records its run itself), runs of other processes count.
    """
    me = os.getpid()
    for job in catalog.active_jobs("caption"):
        process = (job.params or {}).get("process") or {}
        if job_id is not None:
            if job.id >= job_id:
                continue
        elif process.get("pid") == me and process.get("host") == socket.gethostname():
            continue
        return (f"another caption run is active on this project (job {job.id}, pid "
                f"{process.get('pid')} on {process.get('host')}, started "
                f"{job.started_at:%Y-%m-%d %H:%M:%S}): wait for it to finish or stop it, "
                f"then run again to caption what is left")
    return None


def select_items(catalog: Catalog, clip_ids: list[int], image_ids: list[int], only_missing: bool,
                 overwrite_manual: bool, report: CaptionReport,
                 limit: int | None = None) -> list[CaptionItem]:
    """The clips and images a run captions, in catalog order; what it skips is counted in `report`.

    The one skip rule: a caption a person wrote stays unless `overwrite_manual`, and with
    `only_missing` anything captioned stays; then at most `limit` items (counted after the
    skips, so three runs with limit 2 caption six). `caption_items` runs on these, and
    `plan_caption` shows them before a run starts.
    """
    rows: list[CaptionItem] = []
    if clip_ids:
        rows += [CaptionItem("clip", row) for row in catalog.list_clips(ids=clip_ids)]
    if image_ids:
        rows += [CaptionItem("image", row) for row in catalog.list_images(ids=image_ids)]
    items = []
    for item in rows:
        row = item.row
        if row.caption and row.caption_is_manual and not overwrite_manual:
            report.skipped_manual += 1
        elif row.caption and only_missing:
            report.skipped += 1
        else:
            items.append(item)
    return items if limit is None else items[:max(0, limit)]


def _failure(item: CaptionItem, reason: str | BaseException) -> jobs.ItemFailure:
    """A failure naming the file and, for a clip, which range of it (a film holds many)."""
    if isinstance(reason, MediaError):
        reason = reason.reason
    elif isinstance(reason, BaseException):
        reason = str(reason) or reason.__class__.__name__
    if isinstance(item.row, ClipRow):
        reason = f"clip {item.row.id} [{item.row.start_frame}, {item.row.end_frame}): {reason}"
    return jobs.ItemFailure(path=str(item.path), reason=reason)


# --- decoding ahead ---------------------------------------------------------------------------

class _Prefetcher:
    """Decodes items on a helper thread (`RunAhead`) into a small queue; its crash re-raised."""

    def __init__(self, items: Sequence[CaptionItem], sampling: Sampling, cancel: jobs.CancelToken,
                 depth: int) -> None:
        self.items, self.sampling, self.cancel, self.depth = items, sampling, cancel, depth
        self.ahead: RunAhead[tuple[CaptionItem, Any, float]] | None = None

    def start(self) -> None:
        self.ahead = RunAhead(self._decoded(), self.depth, "caption-prefetch")

    def _decoded(self) -> Iterator[tuple[CaptionItem, Any, float]]:
        for item in self.items:
            if self.cancel.cancelled:
                return
            t0 = time.perf_counter()
            try:
                payload: Any = load_payload(item, self.sampling, cancel=self.cancel)
            except jobs.Cancelled:
                return
            except Exception as exc:  # noqa: BLE001 - one bad file never stops the batch
                payload = exc
            yield item, payload, time.perf_counter() - t0

    def take(self, count: int) -> list[tuple[CaptionItem, Any, float]]:
        """Up to `count` decoded items, waiting for each; fewer at the end or on cancel."""
        assert self.ahead is not None, "start() first"
        out: list[tuple[CaptionItem, Any, float]] = []
        while len(out) < count and not self.ahead.ended:
            try:
                out.append(self.ahead.get(timeout=0.1))
            except queue.Empty:
                if self.cancel.cancelled:
                    break
            except StopIteration:
                break
        return out

    def stop(self) -> None:
        crash = self.ahead.stop() if self.ahead is not None else None
        if crash is not None and not isinstance(crash, jobs.Cancelled):
            raise crash


def load_payload(item: CaptionItem, sampling: Sampling, *, count: int | None = None,
                 cancel: jobs.CancelToken = jobs.NEVER_CANCELLED) -> _Frames | np.ndarray:
    """The pixels for one item: a clip's sampled frames, or an image (cropped, scaled down).

    Raises:
        MediaError: the file is missing or cannot be decoded.
    """
    if item.kind == "clip":
        assert isinstance(item.row, ClipRow)
        return load_clip_frames(item.row, sampling, count=count, cancel=cancel)
    assert isinstance(item.row, ImageRow)
    return load_image(item.row, sampling.image_max_pixels)


def clip_frame_count(clip: ClipRow, sampling: Sampling) -> int:
    """How many frames `sampling` takes from a clip (before any out-of-memory retry)."""
    n = clip.frames
    if sampling.fps is None:
        wanted = sampling.max_frames
    else:
        wanted = len(set(resample_indices(n, clip.fps, sampling.fps)))
    wanted = max(min(wanted, sampling.max_frames), min(2, sampling.max_frames))
    return max(1, min(wanted, n))


def load_clip_frames(clip: ClipRow, sampling: Sampling, *, count: int | None = None,
                     cancel: jobs.CancelToken = jobs.NEVER_CANCELLED) -> _Frames:
    """Frames spread over the clip's `[start, end)`, scaled to the pixel budget.

    Args:
        clip: the clip.
        sampling: fps, max_frames, max_pixels.
        count: take exactly this many (an out-of-memory retry); None to follow `sampling`.

    Returns:
        The frames and their spacing in time as an fps (what the model is told).

    Raises:
        MediaError: the source is missing or cannot be decoded.
    """
    path = clip.source_path
    if not path.exists():
        raise MediaError(path, "the source file is missing (moved, renamed or deleted?)")
    if count is None:
        count = clip_frame_count(clip, sampling)
        use_fps = (sampling.fps is not None
                   and count == len(set(resample_indices(clip.frames, clip.fps, sampling.fps))))
    else:
        use_fps = False
    if use_fps:
        picked = sample_frames(path, clip.start_frame, clip.end_frame, fps=sampling.fps,
                               source_fps=clip.fps, max_pixels=sampling.max_pixels, cancel=cancel)
    else:
        picked = sample_frames(path, clip.start_frame, clip.end_frame, count=count,
                               max_pixels=sampling.max_pixels, cancel=cancel)
    if not picked:
        raise MediaError(path, f"has no decodable frames in [{clip.start_frame}, "
                               f"{clip.end_frame})")
    indices = [index for index, _ in picked]
    span = indices[-1] - indices[0]
    source_fps = float(clip.fps) if clip.fps else 25.0
    fps = source_fps * (len(indices) - 1) / span if len(indices) > 1 and span > 0 else source_fps
    return _Frames(frames=[array for _, array in picked], indices=indices, fps=fps)


def load_image(image: ImageRow, max_pixels: int | None) -> np.ndarray:
    """An image as RGB pixels: EXIF rotation applied, cropped as the catalog says, scaled down.

    Raises:
        MediaError: the file is missing or is not an image PIL can read.
    """
    from PIL import Image, ImageOps, UnidentifiedImageError

    path = image.path
    if not path.exists():
        raise MediaError(path, "the image file is missing (moved, renamed or deleted?)")
    try:
        with Image.open(path) as opened:
            pil = ImageOps.exif_transpose(opened).convert("RGB")
    except (UnidentifiedImageError, OSError) as exc:
        raise MediaError(path, f"cannot be read as an image ({exc})") from exc
    if image.crop:
        x, y, w, h = image.crop
        pil = pil.crop((x, y, x + w, y + h))
    if max_pixels and pil.width * pil.height > max_pixels:
        scale = math.sqrt(max_pixels / (pil.width * pil.height))
        size = (max(1, int(pil.width * scale)), max(1, int(pil.height * scale)))
        pil = pil.resize(size, Image.Resampling.LANCZOS, reducing_gap=3.0)
    return np.asarray(pil)


# --- the model --------------------------------------------------------------------------------

def _run_batch(open_items: list[_Open], backend: CaptionBackend, trigger: str,
               sampling: Sampling, retries: int, report: CaptionReport, cancel: jobs.CancelToken
               ) -> list[tuple[_Open, str | jobs.ItemFailure | None]]:
    """Ask the model about each item until it answers usably, fails, or the run must stop.

    Returns:
        For each item: the cleaned caption, the failure, or None when a fatal backend error
        (or a cancel) stopped the run first; such an item stays uncaptioned for the next run.
    """
    outcome: dict[int, str | jobs.ItemFailure | None] = {id(o): None for o in open_items}
    todo = list(open_items)
    while todo and report.stopped is None:
        t0 = time.perf_counter()
        answers = caption_many(backend, [o.request() for o in todo])
        report.model_seconds += time.perf_counter() - t0
        again: list[_Open] = []
        for item, answer in zip(todo, answers):
            if isinstance(answer, CaptionBackendError) and answer.fatal:
                report.stopped = str(answer)
                break
            if isinstance(answer, InputTooLargeError) and isinstance(item.payload, _Frames):
                fewer = _fewer_frames(item, sampling, cancel)
                if fewer is not None:
                    log.info("%s: %s; trying %d frames", item.item.name, answer,
                             len(fewer.frames))
                    item.payload = fewer
                    report.fewer_frames += 1
                    again.append(item)
                else:
                    outcome[id(item)] = _failure(
                        item.item, f"{answer}, even with {len(item.payload.frames)} frames")
                continue
            if isinstance(answer, Exception):
                outcome[id(item)] = _failure(item.item, answer)
                continue
            clean = clean_caption(answer, trigger)
            if clean.ok:
                outcome[id(item)] = clean.text
            elif item.attempt < retries:
                # never saved: asked again, and the backend samples more freely on a retry
                item.attempt += 1
                report.retried += 1
                again.append(item)
            else:
                shown = " ".join(answer.split())[:80]
                outcome[id(item)] = _failure(
                    item.item, f"the model's answer was unusable after {item.attempt + 1} "
                               f"tries ({clean.problem}): {shown!r}")
        todo = again
        if cancel.cancelled:
            break
    return [(o, outcome[id(o)]) for o in open_items]


def _fewer_frames(item: _Open, sampling: Sampling, cancel: jobs.CancelToken) -> _Frames | None:
    assert isinstance(item.payload, _Frames)
    have = len(item.payload.frames)
    if have <= sampling.min_frames:
        return None
    count = max(sampling.min_frames, have // 2)
    try:
        return load_clip_frames(item.item.row, sampling, count=count, cancel=cancel)
    except (MediaError, jobs.Cancelled):
        return None


def _save(catalog: Catalog, backend: CaptionBackend, item: _Open,
          outcome: str | jobs.ItemFailure, sampling: Sampling, overwrite_manual: bool,
          report: CaptionReport, on_caption: Callable[[CaptionResult], None] | None) -> str:
    """Save one cleaned caption as a new version; returns what the progress line shows."""
    if isinstance(outcome, jobs.ItemFailure):
        report.failed.append(outcome)
        return f"failed: {outcome.reason}"
    text = outcome
    settings: dict[str, Any] = dict(getattr(backend, "settings", {}))
    settings["attempt"] = item.attempt
    if isinstance(item.payload, _Frames):
        settings["sampling"] = sampling.to_json()
        settings["frames"] = item.payload.indices
        settings["frames_fps"] = round(item.payload.fps, 4)
    else:
        settings["image_max_pixels"] = sampling.image_max_pixels
    ids = {"clip_id": item.item.id} if item.item.kind == "clip" else {"image_id": item.item.id}
    try:
        row = catalog.save_caption(text, origin=backend.model_id,
                                   prompt_hash=prompt_hash(item.prompt), settings=settings,
                                   overwrite_manual=overwrite_manual, **ids)
    except CatalogError as exc:  # deleted from the catalog while being captioned
        report.failed.append(_failure(item.item, exc))
        return f"failed: {exc}"
    if row is None:  # a person wrote a caption meanwhile
        report.skipped_manual += 1
        return "kept the manual caption"
    result = CaptionResult(kind=item.item.kind, id=item.item.id, name=item.item.name,
                           text=text, origin=backend.model_id, caption_id=row.id)
    report.captions.append(result)
    if on_caption is not None:
        on_caption(result)
    return text
