"""Clip thumbnails: asked for by what a view paints, made on a loader thread, kept in an LRU.

A view only asks its model for the decoration of the rows it paints, so a thumbnail is
requested only for a visible clip. The loader thread reads the clip's middle-frame JPEG that
ingest wrote into the project's thumbnail folder (`curator.core.media.thumbnails` naming) or,
for a clip made later by a trim or a split, decodes it (several frames of one file in one
pass) and writes it there; it hands back a `QImage` and the GUI thread makes the `QPixmap`.
Newest requests are served first and old ones dropped, so a fast scroll does not queue the
thumbnails of rows already gone by.
"""

from __future__ import annotations

import logging
import threading
from collections import OrderedDict, deque
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PySide6.QtCore import QObject, QSize, Qt, QThread, Signal, Slot
from PySide6.QtGui import QImage, QPixmap

from curator.core.catalog.queries import ClipListItem
from curator.core.media import MediaError, fit_size, read_frames
from curator.core.media.thumbnails import (
    THUMB_WIDTH,
    clip_thumbnail_frames,
    save_jpeg,
    thumbnail_path,
)

log = logging.getLogger(__name__)

#: Thumbnail box in the grid (16:9); frames are fitted inside it, aspect kept.
THUMB_SIZE = QSize(192, 108)

#: Pixmaps kept in memory (about 80 kB each at 192×108).
MEMORY_ITEMS = 1200

#: Requests waiting for the loader beyond this many are dropped, oldest first.
MAX_PENDING = 96


@dataclass(frozen=True)
class ThumbnailRequest:
    """One thumbnail to make: a frame of a file, fitted to `size`."""

    key: tuple[str, int, int, int]  # (source hash or path, frame, width, height)
    path: str
    frame: int
    width: int
    height: int
    file: Path  # where the JPEG is (or will be) kept


def thumbnail_request(item: ClipListItem, thumbs_dir: Path, box: QSize = THUMB_SIZE
                      ) -> ThumbnailRequest:
    """The request for a clip's thumbnail: its middle frame, fitted into `box`.

    Args:
        item: the clip.
        thumbs_dir: the project's thumbnail folder (where ingest writes them).
        box: the largest size shown.
    """
    _, frame, _ = clip_thumbnail_frames(item.start_frame, max(item.end_frame,
                                                              item.start_frame + 1))
    src_w, src_h = item.width or box.width(), item.height or box.height()
    if src_w <= box.width() and src_h <= box.height():
        width, height = fit_size(src_w, src_h, width=src_w)  # small already: never enlarged
    else:
        width, height = fit_size(src_w, src_h, width=box.width())
        if height > box.height():
            width, height = fit_size(src_w, src_h, height=box.height())
    ident = item.source_hash or item.source_path
    return ThumbnailRequest(key=(ident, frame, width, height), path=item.source_path, frame=frame,
                            width=width, height=height,
                            file=thumbnail_path(thumbs_dir, ident, frame))


def _fitted(image: QImage, request: ThumbnailRequest) -> QImage:
    if image.isNull() or (image.width(), image.height()) == (request.width, request.height):
        return image
    return image.scaled(request.width, request.height, Qt.AspectRatioMode.KeepAspectRatio,
                        Qt.TransformationMode.SmoothTransformation)


def load_thumbnails(batch: list[ThumbnailRequest]) -> dict[tuple, QImage]:
    """Make the images of requests for one file: from the JPEGs, or decoded in one pass.

    Runs on the loader thread (QImage, not QPixmap, is safe there). A file that cannot be read
    gives null images, so the view shows its placeholder instead of asking again and again.
    """
    out: dict[tuple, QImage] = {}
    to_decode: list[ThumbnailRequest] = []
    for request in batch:
        image = QImage(str(request.file)) if request.file.exists() else QImage()
        if image.isNull():
            to_decode.append(request)
        else:
            out[request.key] = _fitted(image, request)
    if not to_decode:
        return out
    try:
        frames = read_frames(Path(to_decode[0].path), sorted({r.frame for r in to_decode}),
                             width=THUMB_WIDTH)
    except (MediaError, OSError, ValueError):
        frames = {}
    for request in to_decode:
        array = frames.get(request.frame)
        if array is None:
            out[request.key] = QImage()
            continue
        array = np.ascontiguousarray(array)
        save_jpeg(array, request.file)  # the same file ingest would have written
        h, w = array.shape[:2]
        image = QImage(array.data, w, h, array.strides[0], QImage.Format.Format_RGB888).copy()
        out[request.key] = _fitted(image, request)
    return out


class ThumbnailLoader(QObject):
    """Serves requests on its own thread until stopped; newest first."""

    loaded = Signal(object)  # dict[key, QImage]

    def __init__(self, load: Callable[[list[ThumbnailRequest]], dict[tuple, QImage]]
                 = load_thumbnails) -> None:
        super().__init__()
        self._load = load
        self._pending: OrderedDict[tuple, ThumbnailRequest] = OrderedDict()
        self._lock = threading.Condition()
        self._stopped = False

    def submit(self, request: ThumbnailRequest) -> list[tuple]:
        """Queue a request (any thread); returns the keys of the oldest, dropped past MAX_PENDING."""
        dropped = []
        with self._lock:
            self._pending[request.key] = request
            self._pending.move_to_end(request.key)
            while len(self._pending) > MAX_PENDING:
                dropped.append(self._pending.popitem(last=False)[0])
            self._lock.notify()
        return dropped

    def drop_pending(self) -> list[tuple]:
        """Forget queued requests (the view was reset); returns their keys."""
        with self._lock:
            keys = list(self._pending)
            self._pending.clear()
            return keys

    def stop(self) -> None:
        with self._lock:
            self._stopped = True
            self._pending.clear()
            self._lock.notify()

    def _next_batch(self) -> list[ThumbnailRequest] | None:
        with self._lock:
            while not self._pending and not self._stopped:
                self._lock.wait()
            if self._stopped:
                return None
            _, newest = self._pending.popitem(last=True)
            # Frames of the same file come from one decode pass: take them along.
            same = [k for k, r in self._pending.items() if r.path == newest.path][-15:]
            return [newest, *(self._pending.pop(k) for k in same)]

    @Slot()
    def run(self) -> None:
        while (batch := self._next_batch()) is not None:
            try:
                images = self._load(batch)
            except Exception:
                log.exception("thumbnails of %s failed", batch[0].path)
                images = {request.key: QImage() for request in batch}
            self.loaded.emit(images)


class ThumbnailCache(QObject):
    """The GUI-thread side: an LRU of pixmaps and the bookkeeping of what was asked for."""

    thumbnails_ready = Signal(object)  # set of clip ids whose thumbnail can now be shown

    def __init__(self, thumbs_dir: Path, *, box: QSize = THUMB_SIZE, capacity: int = MEMORY_ITEMS,
                 parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.thumbs_dir, self.box, self.capacity = thumbs_dir, box, capacity
        self._pixmaps: OrderedDict[tuple, QPixmap] = OrderedDict()
        self._waiting: dict[tuple, set[int]] = {}  # key -> clip ids that asked
        self.requested: deque[int] = deque(maxlen=20_000)  # clip ids, in request order
        self.request_count = 0
        self._loader = ThumbnailLoader()
        self._thread = QThread(self)
        self._thread.setObjectName("thumbnails")
        self._loader.moveToThread(self._thread)
        self._thread.started.connect(self._loader.run)
        self._loader.loaded.connect(self._on_loaded)
        self._thread.start()

    def pixmap(self, item: ClipListItem) -> QPixmap | None:
        """The clip's thumbnail if it is ready; otherwise ask for it and return None."""
        request = thumbnail_request(item, self.thumbs_dir, self.box)
        pixmap = self._pixmaps.get(request.key)
        if pixmap is not None:
            self._pixmaps.move_to_end(request.key)
            return pixmap
        waiting = self._waiting.get(request.key)
        if waiting is None:
            self._waiting[request.key] = {item.id}
            self.request_count += 1
            self.requested.append(item.id)
            for key in self._loader.submit(request):
                self._waiting.pop(key, None)  # scrolled past: asked again if shown again
        else:
            waiting.add(item.id)
        return None

    def set_box(self, box: QSize) -> None:
        """Load thumbnails for this box from now on; requests for the old one are dropped
        (the tiles shown ask again at the new size)."""
        if box != self.box:
            self.box = QSize(box)
            self.forget_pending()

    def forget_pending(self) -> None:
        """Drop requests not served yet (the model was reset: those rows are gone)."""
        for key in self._loader.drop_pending():
            self._waiting.pop(key, None)

    def clear(self) -> None:
        self.forget_pending()
        self._pixmaps.clear()

    def shutdown(self) -> None:
        """Stop the loader thread and wait for it (the window is closing)."""
        self._loader.stop()
        self._thread.quit()
        self._thread.wait()

    @Slot(object)
    def _on_loaded(self, images: dict[tuple, QImage]) -> None:
        ready: set[int] = set()
        for key, image in images.items():
            # A null image (unreadable file) is kept as an empty pixmap: not asked for again.
            self._pixmaps[key] = QPixmap.fromImage(image) if not image.isNull() else QPixmap()
            self._pixmaps.move_to_end(key)
            ready |= self._waiting.pop(key, set())
        while len(self._pixmaps) > self.capacity:
            self._pixmaps.popitem(last=False)
        if ready:
            self.thumbnails_ready.emit(ready)
