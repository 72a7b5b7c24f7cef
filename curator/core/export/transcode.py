"""Clips transcoded once to the export fps and size, in parallel, with PyAV's libx264.

Speed comes from doing each step once: a source is decoded in one pass over neighbouring clips
(one seek per run of clips, not one per clip), each kept frame is scaled once per output size,
frames dropped by the fps conversion are never scaled, and clips run on all cores with one
single-threaded x264 per worker (PyAV releases the GIL while decoding, scaling and encoding).

The frames written for a clip are exactly `resample_indices(end - start, source_fps, out_fps)`
of its range (FFmpeg's fps-filter semantics), so the count the exporter promises before
transcoding is the count the trainer decodes afterwards.
"""

from __future__ import annotations

import hashlib
import os
import queue
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from typing import Any

import av
import av.error
import numpy as np

from curator.core.jobs import (
    NEVER_CANCELLED,
    Cancelled,
    CancelToken,
    ItemFailure,
    Progress,
    ProgressFn,
    ignore_progress,
)
from curator.core.media.errors import MediaError

# The media layer's raw-frame iterator: frame-exact ranges, safe seeking, damage skipped.
from curator.core.media.frames import iter_raw_frames as _raw_frames
from curator.core.media.resample import resample_indices

# Decode through a gap of fewer frames than this between two clips of one source rather than
# seek: a seek costs a decode from the keyframe before the next clip anyway.
MAX_GAP_FRAMES = 96
_NONE_PICTURE = av.video.frame.PictureType.NONE


@dataclass(frozen=True)
class EncodeSettings:
    """H.264 settings of exported clips.

    Attributes:
        crf: libx264 constant-rate factor (0 lossless, 18 visually lossless, 23 default).
        preset: libx264 speed preset.
        threads: x264 threads per clip; 1 when several clips run at once (the fastest way to
            fill all cores), 0 to let x264 choose.
    """

    crf: int = 18
    preset: str = "medium"
    threads: int = 1


@dataclass(frozen=True)
class ClipJob:
    """One clip to transcode: a frame range of a source, to a rate and a size, into `dest`."""

    key: str
    source: Path
    start: int
    end: int
    source_fps: Fraction
    out_fps: Fraction
    width: int
    height: int
    dest: Path
    label: str = ""
    crop: tuple[int, int, int, int] | None = None  # x, y, w, h in source px, cut before scaling

    def source_indices(self) -> list[int]:
        """The source frames (within the range, from 0) written, one per output frame."""
        n = self.end - self.start
        if self.out_fps == self.source_fps:
            return list(range(n))
        return resample_indices(n, self.source_fps, self.out_fps)


@dataclass(frozen=True)
class EncodedClip:
    """A clip written: where, how many frames, and the file's SHA-256."""

    key: str
    path: Path
    frames: int
    sha256: str
    size: int


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


class _AnyCancelled(CancelToken):
    """Cancelled when the caller's token or the transcoder's own stop token fires."""

    def __init__(self, *tokens: CancelToken) -> None:
        super().__init__()
        self._tokens = tokens

    @property
    def cancelled(self) -> bool:  # type: ignore[override]
        return self._event.is_set() or any(t.cancelled for t in self._tokens)


class _ClipEncoder:
    """One output file being written: frames go in as they are decoded."""

    def __init__(self, job: ClipJob, settings: EncodeSettings) -> None:
        self.job = job
        self.settings = settings
        indices = job.source_indices()
        # source frame (within the range) → how many output frames show it (>1 when the
        # source is slower than the export fps: the fps filter repeats frames)
        self.repeats: dict[int, int] = {}
        for i in indices:
            self.repeats[i] = self.repeats.get(i, 0) + 1
        self.last_local = indices[-1] if indices else -1
        self.tmp = job.dest.with_name(f".{job.dest.name}.part")
        self.container: av.container.OutputContainer | None = None
        self.stream: av.video.stream.VideoStream | None = None
        self.written = 0

    def _open(self) -> None:
        self.tmp.parent.mkdir(parents=True, exist_ok=True)
        self.container = av.open(str(self.tmp), "w", format="mp4")
        stream = self.container.add_stream("libx264", rate=self.job.out_fps)
        stream.width, stream.height, stream.pix_fmt = self.job.width, self.job.height, "yuv420p"
        stream.codec_context.time_base = 1 / self.job.out_fps
        stream.options = {"crf": str(self.settings.crf), "preset": self.settings.preset,
                          "threads": str(self.settings.threads)}
        self.stream = stream

    def feed(self, local: int, frame: av.VideoFrame) -> None:
        count = self.repeats.get(local, 0)
        if not count:
            return
        if self.container is None:
            self._open()
        assert self.container is not None and self.stream is not None
        for _ in range(count):
            frame.pts = self.written
            frame.time_base = self.stream.codec_context.time_base
            for packet in self.stream.encode(frame):
                self.container.mux(packet)
            self.written += 1

    def finish(self) -> EncodedClip:
        """Flush, close and move the file into place.

        Raises:
            MediaError: no frame of the range could be decoded.
        """
        if self.container is None or self.stream is None or not self.written:
            self.abort()
            raise MediaError(self.job.source, f"no frame of [{self.job.start}, {self.job.end}) "
                                              f"could be decoded")
        for packet in self.stream.encode(None):
            self.container.mux(packet)
        self.container.close()
        self.container = None
        os.replace(self.tmp, self.job.dest)
        return EncodedClip(self.job.key, self.job.dest, self.written, file_sha256(self.job.dest),
                           self.job.dest.stat().st_size)

    def abort(self) -> None:
        if self.container is not None:
            try:
                self.container.close()
            except (av.error.FFmpegError, OSError, ValueError):
                pass
            self.container = None
        self.tmp.unlink(missing_ok=True)


def plan_runs(jobs: Sequence[ClipJob], workers: int, *, max_gap: int = MAX_GAP_FRAMES
              ) -> list[list[ClipJob]]:
    """Group clips into runs decoded in one pass each: neighbours of one source, in order.

    A run is cut where the next clip starts more than `max_gap` frames after the run's end (a
    seek is cheaper than decoding the gap). Runs are then split in halves, the longest first,
    only until every worker has two: each extra split costs a seek and a decode from the
    keyframe before it (up to 10 s of video with x264's default keyframe interval), so a
    film's scenes stay in one pass when there are enough films to keep the cores busy.

    Returns:
        Runs, the longest first (so the last run to finish is a short one).
    """
    def frames(run: list[ClipJob]) -> int:
        return sum(j.end - j.start for j in run)

    by_source: dict[Path, list[ClipJob]] = {}
    for job in jobs:
        by_source.setdefault(job.source, []).append(job)
    runs: list[list[ClipJob]] = []
    for source_jobs in by_source.values():
        source_jobs.sort(key=lambda j: (j.start, j.end))
        run: list[ClipJob] = []
        run_end = 0
        for job in source_jobs:
            if run and job.start - run_end > max_gap:
                runs.append(run)
                run, run_end = [], 0
            run.append(job)
            run_end = max(run_end, job.end)
        if run:
            runs.append(run)
    while len(runs) < 2 * workers:
        runs.sort(key=frames, reverse=True)
        longest = runs[0]
        if len(longest) < 2:
            break
        half, acc, cut = frames(longest) / 2, 0, 1
        for k, job in enumerate(longest[:-1], start=1):
            acc += job.end - job.start
            cut = k
            if acc >= half:
                break
        runs[0:1] = [longest[:cut], longest[cut:]]
    runs.sort(key=frames, reverse=True)
    return runs


def encode_run(run: Sequence[ClipJob], settings: EncodeSettings,
               cancel: CancelToken = NEVER_CANCELLED
               ) -> Iterator[EncodedClip | ItemFailure]:
    """Transcode clips of one source in one decoding pass; yields each as it is finished.

    Raises:
        Cancelled: when `cancel` fires; unfinished files are removed.
    """
    source = run[0].source
    start = min(j.start for j in run)
    end = max(j.end for j in run)
    pending = sorted((_ClipEncoder(j, settings) for j in run), key=lambda e: e.job.start)
    active: list[_ClipEncoder] = []
    try:
        for index, frame in _raw_frames(source, start, end, cancel):
            while pending and pending[0].job.start <= index:
                active.append(pending.pop(0))
            scaled: dict[tuple[Any, ...], av.VideoFrame] = {}
            finished = []
            for enc in active:
                local = index - enc.job.start
                if local in enc.repeats:
                    size = (enc.job.width, enc.job.height, enc.job.crop)
                    out = scaled.get(size)
                    if out is None:
                        out = _crop_and_scale(frame, enc.job.crop, enc.job.width,
                                              enc.job.height)
                        # a decoded frame keeps its I/P/B type, which libx264 would obey (every
                        # frame forced to its source type: files ~10x larger); let x264 decide
                        out.pict_type = _NONE_PICTURE
                        scaled[size] = out
                    enc.feed(local, out)
                if local >= enc.last_local or index >= enc.job.end - 1:
                    finished.append(enc)
            for enc in finished:
                active.remove(enc)
                yield _finish(enc)
        # the source ended before some ranges did: keep what was decoded
        for enc in [*active, *pending]:
            yield _finish(enc)
    except Cancelled:
        for enc in [*active, *pending]:
            enc.abort()
        raise
    except MediaError as exc:
        for enc in [*active, *pending]:
            enc.abort()
            yield ItemFailure(enc.job.label or str(source), str(exc))
    except (av.error.FFmpegError, OSError, ValueError) as exc:
        for enc in [*active, *pending]:
            enc.abort()
            yield ItemFailure(enc.job.label or str(source),
                              f"{source}: transcoding failed ({exc})")
    except BaseException:  # the consumer stopped early (GeneratorExit) or anything else
        for enc in [*active, *pending]:
            enc.abort()  # no open container, no `.part` file left behind
        raise


def _crop_and_scale(frame: av.VideoFrame, crop: tuple[int, int, int, int] | None, width: int,
                    height: int) -> av.VideoFrame:
    """The frame cut to `crop` (letterbox bars, a watermark strip...) and scaled for x264."""
    if crop is not None:
        x, y, w, h = crop
        x, y = min(max(0, x), frame.width - 2), min(max(0, y), frame.height - 2)
        w, h = min(w, frame.width - x), min(h, frame.height - y)
        if (x, y, w, h) != (0, 0, frame.width, frame.height):
            rgb = frame.to_ndarray(format="rgb24")[y:y + h, x:x + w]
            frame = av.VideoFrame.from_ndarray(np.ascontiguousarray(rgb), format="rgb24")
    return frame.reformat(width=width, height=height, format="yuv420p", interpolation="AREA")


def _finish(enc: _ClipEncoder) -> EncodedClip | ItemFailure:
    try:
        return enc.finish()
    except MediaError as exc:
        return ItemFailure(enc.job.label or str(enc.job.source), str(exc))
    except (av.error.FFmpegError, OSError) as exc:
        enc.abort()
        return ItemFailure(enc.job.label or str(enc.job.source),
                           f"{enc.job.source}: writing {enc.job.dest.name} failed ({exc})")


def default_workers() -> int:
    return max(1, os.cpu_count() or 1)


def transcode_clips(jobs: Sequence[ClipJob], settings: EncodeSettings, *,
                    workers: int | None = None, progress: ProgressFn = ignore_progress,
                    cancel: CancelToken = NEVER_CANCELLED,
                    on_done: Callable[[EncodedClip], None] | None = None,
                    ) -> tuple[list[EncodedClip], list[ItemFailure], bool]:
    """Transcode clips on `workers` threads (default: all cores), reporting each one.

    Progress is reported from the calling thread. A failing clip is reported and the others go
    on; on cancel, unfinished files are removed and finished ones kept.

    Args:
        jobs: the clips.
        settings: H.264 settings (threads per clip is forced to 1 when workers > 1).
        workers: parallel runs; default the number of CPU cores.
        progress: called after each clip with `done`/`total`.
        cancel: checked between packets.
        on_done: called (on the calling thread) with each finished clip.

    Returns:
        (finished clips, failures, cancelled).
    """
    workers = max(1, workers or default_workers())
    if workers > 1 and settings.threads != 1:
        settings = EncodeSettings(settings.crf, settings.preset, 1)
    runs = plan_runs(jobs, workers)
    total = len(jobs)
    labels = {j.key: j.label for j in jobs}
    results: queue.Queue[EncodedClip | ItemFailure | BaseException | None] = queue.Queue()
    stop = CancelToken()
    token = _AnyCancelled(cancel, stop)
    done: list[EncodedClip] = []
    failed: list[ItemFailure] = []

    def work(run: list[ClipJob]) -> None:
        try:
            if token.cancelled:
                return
            for result in encode_run(run, settings, token):
                results.put(result)
        except Cancelled:
            pass
        except BaseException as exc:  # noqa: BLE001 - re-raised on the calling thread
            results.put(exc)
        finally:
            results.put(None)

    progress(Progress(done=0, total=total, message="transcoding clips"))
    with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="export") as pool:
        for run in runs:
            pool.submit(work, run)
        try:
            count, error = _collect(results, len(runs), stop, labels, total, done, failed,
                                    on_done, progress)
        except BaseException:
            stop.cancel()  # KeyboardInterrupt in the CLI: let the workers clean up, then re-raise
            raise
    if error is not None:
        raise error
    return done, failed, cancel.cancelled and count < total


def _collect(results: queue.Queue, open_runs: int, stop: CancelToken, labels: dict[str, str],
             total: int, done: list[EncodedClip], failed: list[ItemFailure],
             on_done: Callable[[EncodedClip], None] | None,
             progress: ProgressFn) -> tuple[int, BaseException | None]:
    """Take the workers' results on the calling thread until every run has ended.

    Returns:
        (clips finished or failed, the first error a worker raised, if any).
    """
    count = 0
    error: BaseException | None = None
    while open_runs:
        try:
            item = results.get(timeout=0.2)
        except queue.Empty:
            continue
        if item is None:
            open_runs -= 1
        elif isinstance(item, BaseException):
            error = error or item
            stop.cancel()
        elif isinstance(item, ItemFailure):
            failed.append(item)
            count += 1
            progress(Progress(done=count, total=total, item=item.path, message="failed"))
        else:
            done.append(item)
            count += 1
            if on_done is not None:
                on_done(item)
            progress(Progress(done=count, total=total,
                              item=labels.get(item.key) or item.path.name))
    return count, error


# --- images --------------------------------------------------------------------------------

def export_image(source: Path, dest: Path, *, crop: tuple[int, int, int, int] | None,
                 size: tuple[int, int], copy: bool) -> str:
    """Copy an image, or crop and scale it down and save it as PNG; atomic. Returns its SHA-256.

    Raises:
        MediaError: the image cannot be read or written.
    """
    from PIL import Image, UnidentifiedImageError

    dest.parent.mkdir(parents=True, exist_ok=True)
    tmp = dest.with_name(f".{dest.name}.part")
    try:
        if copy:
            with open(source, "rb") as src, open(tmp, "wb") as out:
                for block in iter(lambda: src.read(1 << 20), b""):
                    out.write(block)
        else:
            with Image.open(source) as img:
                img.load()
                if crop is not None:
                    x, y, w, h = crop
                    img = img.crop((x, y, x + w, y + h))
                if img.mode not in ("RGB", "RGBA"):
                    img = img.convert("RGB")
                if img.size != tuple(size):
                    img = img.resize(tuple(size), Image.LANCZOS, reducing_gap=3.0)
                img.save(tmp, format="PNG")
        os.replace(tmp, dest)
    except FileNotFoundError as exc:
        tmp.unlink(missing_ok=True)
        raise MediaError(source, "file not found") from exc
    except (UnidentifiedImageError, OSError, ValueError) as exc:
        tmp.unlink(missing_ok=True)
        raise MediaError(source, f"cannot be exported as an image ({exc})") from exc
    return file_sha256(dest)
