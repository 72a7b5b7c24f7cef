"""The preview's decoder: PyAV on its own thread, a small cache of scaled frames on the GUI side.

`FrameDecoder` (GUI thread) is what the preview talks to. It answers a request for a frame at
once from its cache of `QImage`s, already scaled to the view (and cropped to a bucket in the
trainer view); otherwise it hands a list of wanted frames, most urgent first, to its
`_DecodeThread`, which decodes them with `curator.core.media.frames.iter_frames` (frame-exact:
the same decoder and numbering as everywhere else in Curator) and sends each back as a QImage.

Why not QtMultimedia: it needs libpulse0 on Linux and cannot step to an exact frame index.
Why a thread with its own loop rather than a queued-signal worker: a request must be able to
interrupt a decode that is under way (the person steps again, or picks another clip), and a
worker busy in a loop never sees queued signals; a condition variable and a cancel token do
(qtproject/pyside-pyside-setup:examples/corelib/threads/mandelbrot.py `RenderThread`).

The decoder keeps its place in the stream between requests: playing or stepping forward only
decodes the next frames, never seeks again.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PySide6.QtCore import QObject, QThread, Signal, Slot
from PySide6.QtGui import QImage

from curator.core.jobs import Cancelled, CancelToken
from curator.core.media.errors import MediaError
from curator.core.media.frames import iter_frames

# A run of decoding stops this many frames past its first wanted frame; the rest of the list
# is a new run (a seek if the gap is large).
MAX_RUN = 120
# Decoding on from where the stream stands beats a seek when the wanted frame is this close.
REUSE_GAP = 48
DEFAULT_CACHE_BYTES = 256 * 1024 * 1024


@dataclass(frozen=True)
class FrameSpec:
    """How decoded frames become pictures.

    Attributes:
        width, height: the size libswscale scales each frame to (even sides).
        crop: (x, y, w, h) cut out of the scaled frame afterwards (a trainer bucket), or None.
    """

    width: int
    height: int
    crop: tuple[int, int, int, int] | None = None

    @property
    def out_size(self) -> tuple[int, int]:
        return (self.crop[2], self.crop[3]) if self.crop else (self.width, self.height)

    @property
    def frame_bytes(self) -> int:
        w, h = self.out_size
        return w * h * 3


@dataclass(frozen=True)
class _Source:
    path: Path
    start: int
    end: int  # exclusive
    spec: FrameSpec


@dataclass(frozen=True)
class _Job:
    generation: int
    source: _Source
    wanted: tuple[int, ...]  # missing frames, most urgent first
    urgent: int | None  # the frame under the playhead, when it is missing


def to_qimage(array: np.ndarray) -> QImage:
    """An (h, w, 3) uint8 RGB array as a QImage that owns its pixels."""
    array = np.ascontiguousarray(array)
    h, w = array.shape[:2]
    image = QImage(array.data, w, h, array.strides[0], QImage.Format.Format_RGB888)
    return image.copy()  # detach from the numpy buffer, which dies with this frame


def apply_spec(array: np.ndarray, spec: FrameSpec) -> np.ndarray:
    """Crop a scaled frame as `spec` says (the crop is clamped to the frame)."""
    if spec.crop is None:
        return array
    x, y, w, h = spec.crop
    height, width = array.shape[:2]
    x = min(max(0, x), max(0, width - w))
    y = min(max(0, y), max(0, height - h))
    return array[y:y + h, x:x + w]


class _DecodeThread(QThread):
    """Decodes wanted frames in priority order; a newer request interrupts the current one."""

    decoded = Signal(int, int, QImage)  # generation, source frame, picture
    failed = Signal(int, str)  # generation, reason

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("preview-decoder")
        self._lock = threading.Condition()
        self._job: _Job | None = None
        self._quit = False
        # the open stream: what it decodes, where it stands, and how to stop it mid-seek
        self._stream: Iterator[tuple[int, np.ndarray]] | None = None
        self._stream_source: _Source | None = None
        self._stream_next = 0
        self._stream_cancel = CancelToken()

    def post(self, job: _Job) -> None:
        """Replace whatever is waiting with `job`; stop a decode that no longer helps.

        A decode under way is cut short (even inside a seek, or inside a decode from the start
        of a file that cannot seek) only when the frame under the playhead is missing and
        the stream cannot reach it soon, or when the stream serves none of the frames wanted.
        Otherwise it goes on: stepping quickly must not restart the same work again and again.
        """
        with self._lock:
            self._job = job
            if self._stream_source is not None and not self._stream_helps(job):
                self._stream_cancel.cancel()
            self._lock.notify()

    def _stream_helps(self, job: _Job) -> bool:
        if self._stream_source != job.source:
            return False
        at = self._stream_next
        if job.urgent is not None:
            return at <= job.urgent <= at + REUSE_GAP
        return any(f >= at for f in job.wanted)

    def stop(self) -> None:
        with self._lock:
            self._quit = True
            self._job = None
            self._stream_cancel.cancel()
            self._lock.notify()
        self.wait()

    def _has_news(self) -> bool:
        return self._job is not None or self._quit

    def run(self) -> None:
        try:
            while True:
                with self._lock:
                    while self._job is None and not self._quit:
                        self._lock.wait()
                    if self._quit:
                        return
                    job, self._job = self._job, None
                self._work(job)
        finally:
            self._close_stream()

    def _work(self, job: _Job) -> None:
        pending = list(dict.fromkeys(f for f in job.wanted
                                     if job.source.start <= f < job.source.end))
        left = set(pending)
        while pending and not self._has_news():
            first = self._next_run_start(job, pending)
            run_end = max(f for f in pending if first <= f < first + MAX_RUN) + 1
            try:
                stream = self._stream_at(job.source, first)
                while self._stream_next < run_end:
                    if self._has_news():
                        return  # keep the stream: the next job may go on from here
                    try:
                        index, array = next(stream)
                    except StopIteration:
                        self._close_stream()
                        left.clear()  # the file ends before the clip does
                        break
                    self._stream_next = index + 1
                    if index in left:
                        left.discard(index)
                        picture = to_qimage(apply_spec(array, job.source.spec))
                        self.decoded.emit(job.generation, index, picture)
            except Cancelled:
                self._close_stream()
                return
            except MediaError as exc:
                self._close_stream()
                self.failed.emit(job.generation, str(exc))
                return
            except Exception as exc:  # noqa: BLE001 - a broken file must not kill the preview
                self._close_stream()
                self.failed.emit(job.generation, f"{job.source.path.name}: cannot be decoded "
                                                 f"({type(exc).__name__}: {exc})")
                return
            pending = [f for f in pending if f in left]

    def _next_run_start(self, job: _Job, pending: list[int]) -> int:
        """Where the next run starts: the urgent frame first, else where the stream stands.

        Prefetching goes on from the open stream before it seeks (or, in a file that cannot
        seek, decodes again from the start) for frames behind it.
        """
        if job.urgent is not None and job.urgent in pending:
            return job.urgent
        if self._stream is not None and self._stream_source == job.source:
            ahead = [f for f in pending if f >= self._stream_next]
            if ahead:
                return min(ahead)
        # A new stream is needed: start it at the earliest frame near the next wanted one,
        # so that frames wanted behind the playhead (listed nearest first) come in one run.
        first = pending[0]
        return min(f for f in pending if first - MAX_RUN < f <= first)

    def _stream_at(self, source: _Source, frame: int) -> Iterator[tuple[int, np.ndarray]]:
        """The open stream if it can reach `frame` by decoding on, else a new one from it."""
        with self._lock:
            reusable = (self._stream is not None and self._stream_source == source
                        and self._stream_next <= frame <= self._stream_next + REUSE_GAP
                        and not self._stream_cancel.cancelled)
        if reusable:
            assert self._stream is not None
            return self._stream
        self._close_stream()
        cancel = CancelToken()
        stream = iter_frames(source.path, frame, source.end, width=source.spec.width,
                             height=source.spec.height, cancel=cancel)
        with self._lock:
            self._stream, self._stream_source = stream, source
            self._stream_next, self._stream_cancel = frame, cancel
        return stream

    def _close_stream(self) -> None:
        with self._lock:
            stream, self._stream, self._stream_source = self._stream, None, None
        if stream is not None:
            try:
                stream.close()  # runs the generator's cleanup: the file is closed now
            except (Cancelled, MediaError):
                pass


class FrameDecoder(QObject):
    """Frames of one clip as QImages: from the cache at once, or decoded off the GUI thread.

    Signals:
        frame_ready(int, QImage): a frame asked for (or prefetched) is now in the cache.
        failed(str): the file cannot be decoded; the reason, in words.
    """

    frame_ready = Signal(int, QImage)
    failed = Signal(str)

    def __init__(self, parent: QObject | None = None, *,
                 cache_bytes: int = DEFAULT_CACHE_BYTES) -> None:
        super().__init__(parent)
        self.cache_bytes = cache_bytes
        self._cache: OrderedDict[int, QImage] = OrderedDict()
        self._source: _Source | None = None
        self._generation = 0
        self._focus = 0
        self._thread = _DecodeThread()
        self._thread.decoded.connect(self._on_decoded)
        self._thread.failed.connect(self._on_failed)
        self._started = False

    # --- what to decode -------------------------------------------------------------------

    @property
    def spec(self) -> FrameSpec | None:
        return self._source.spec if self._source else None

    @property
    def path(self) -> Path | None:
        return self._source.path if self._source else None

    def open(self, path: Path, start: int, end: int, spec: FrameSpec) -> None:
        """Decode frames `[start, end)` of `path` as `spec` says from now on.

        Frames already cached for the same file and spec are kept (a trimmed clip, or the
        same clip shown again); anything else is dropped.
        """
        source = _Source(Path(path), int(start), int(end), spec)
        if source == self._source:
            return
        old = self._source
        if old is None or old.path != source.path or old.spec != source.spec:
            self._cache.clear()
        else:
            for frame in [f for f in self._cache if not start <= f < end]:
                del self._cache[frame]
        self._source = source
        self._generation += 1

    def close(self) -> None:
        """Forget the clip (nothing shown)."""
        self._source = None
        self._cache.clear()
        self._generation += 1

    def cached(self, frame: int) -> QImage | None:
        return self._cache.get(frame)

    def cached_frames(self) -> list[int]:
        return sorted(self._cache)

    def request(self, wanted: Sequence[int]) -> QImage | None:
        """Ask for frames, most urgent first; returns the first one if it is cached.

        Whatever is not cached is decoded on the decoder's thread and announced with
        `frame_ready`; an older request still decoding is dropped in favour of this one.
        """
        if self._source is None or not wanted:
            return None
        self._focus = wanted[0]
        missing = tuple(f for f in dict.fromkeys(wanted) if f not in self._cache
                        and self._source.start <= f < self._source.end)
        # keep within budget: at most the frames that fit, nearest first
        limit = max(2, self.cache_bytes // max(1, self._source.spec.frame_bytes))
        missing = missing[:limit]
        if missing:
            self._ensure_started()
            urgent = wanted[0] if wanted[0] in missing else None
            self._thread.post(_Job(self._generation, self._source, missing, urgent))
        return self._cache.get(wanted[0])

    # --- thread ----------------------------------------------------------------------------

    def _ensure_started(self) -> None:
        if not self._started:
            self._started = True
            self._thread.start()

    def shutdown(self) -> None:
        """Stop the decoding thread and wait for it (call before the widget goes away)."""
        if self._started:
            self._thread.stop()
            self._started = False
        self._cache.clear()

    def is_running(self) -> bool:
        return self._thread.isRunning()

    @Slot(int, int, QImage)
    def _on_decoded(self, generation: int, frame: int, image: QImage) -> None:
        if generation != self._generation:
            return  # for a clip or size no longer shown
        self._cache[frame] = image
        self._evict()
        self.frame_ready.emit(frame, image)

    @Slot(int, str)
    def _on_failed(self, generation: int, reason: str) -> None:
        if generation == self._generation:
            self.failed.emit(reason)

    def _evict(self) -> None:
        if self._source is None:
            return
        limit = max(2, self.cache_bytes // max(1, self._source.spec.frame_bytes))
        if len(self._cache) <= limit:
            return
        # drop the frames farthest from the playhead; frames ahead count as nearer
        focus = self._focus
        by_distance = sorted(self._cache, key=lambda f: (f - focus) if f >= focus
                             else 2 * (focus - f), reverse=True)
        for frame in by_distance[:len(self._cache) - limit]:
            del self._cache[frame]
