"""Reading the sample files of a training run off the GUI thread: first frames as thumbnails,
then every frame for playback, within a memory budget."""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PySide6.QtCore import (
    QObject,
    Qt,
    Signal,
    Slot,
)
from PySide6.QtGui import (
    QColor,
    QImage,
)

from curator.core.jobs import Cancelled, CancelToken
from curator.core.media import MediaError, iter_frames, probe
from curator.core.training.samples import (
    Checkpoint,
    SampleFile,
)
from curator.gui.theme import ACCENT_COLOR, MUTED_COLOR

#: First frames and stills are kept at most this wide, so the size slider can grow them.
THUMB_MAX = 360
DEFAULT_CELL_WIDTH = 208
MIN_CELL_WIDTH, MAX_CELL_WIDTH = 112, THUMB_MAX
#: Decoded playback frames of the whole grid stay under this; beyond it every n-th frame is
#: kept (the same n for every video, so they still play in sync).
FRAME_BUDGET_BYTES = 384 * 2**20
DEFAULT_FPS = 16.0  # musubi-tuner saves Wan samples at 16 fps
LIVE_POLL_MS = 3000
CHANGE_DEBOUNCE_MS = 600

ACCENT = QColor(ACCENT_COLOR)
MUTED = QColor(MUTED_COLOR)
CELL_BG = QColor("#0b0f14")

FileKey = tuple[str, int, int]  # path, size, mtime_ns: one version of a sample file




def file_key(path: Path) -> FileKey | None:
    """Identity of one version of a file; a sample rewritten (or still growing) gets a new key."""
    try:
        stat = Path(path).stat()
    except OSError:
        return None
    return str(path), stat.st_size, stat.st_mtime_ns


def run_folder(path: Path) -> Path:
    """The run's output folder for a folder a person picked (the output folder or its `sample`)."""
    path = Path(path)
    if (path / "sample").is_dir():
        return path
    if path.name == "sample":
        return path.parent
    return path


def common_output_name(samples: Sequence[SampleFile]) -> str | None:
    """The LoRA name most samples carry (a folder may hold a few runs' samples)."""
    names = Counter(s.output_name for s in samples if s.output_name)
    return names.most_common(1)[0][0] if names else None


def checkpoint_label(checkpoint: Checkpoint) -> str:
    return f"Epoch {checkpoint.number}" if checkpoint.kind == "epoch" else \
        f"Step {checkpoint.number:,}"


def playback_stride(frame_bytes: Sequence[int], budget: int = FRAME_BUDGET_BYTES) -> int:
    """Keep every n-th frame so all videos' frames fit the budget together (n >= 1)."""
    total = sum(frame_bytes)
    return max(1, math.ceil(total / budget)) if budget > 0 else 1


def array_to_qimage(array: np.ndarray) -> QImage:
    """An (h, w, 3) uint8 RGB array as a QImage that owns its pixels."""
    array = np.ascontiguousarray(array)
    height, width = array.shape[:2]
    return QImage(array.data, width, height, array.strides[0],
                  QImage.Format.Format_RGB888).copy()


# --- decoding off the GUI thread -------------------------------------------------------------

@dataclass(frozen=True)
class LoadTask:
    """Decode one sample: its first frame ("first") or every frame for playback ("frames")."""

    key: FileKey
    path: Path
    is_video: bool
    kind: str  # first | frames


class SampleLoader(QObject):
    """Decodes a batch of sample files on its own thread; results leave only by signal."""

    image_loaded = Signal(object, object)  # FileKey, QImage (first frame or still)
    frames_loaded = Signal(object, object, float, int)  # FileKey, ndarray (n,h,w,3), fps, stride
    failed = Signal(object, str)  # FileKey, reason
    finished = Signal(int)  # the batch number given at construction

    def __init__(self, tasks: Sequence[LoadTask], *, play_width: int, cancel: CancelToken,
                 budget_bytes: int = FRAME_BUDGET_BYTES, batch: int = 0) -> None:
        super().__init__()
        self.batch = batch
        self.tasks = list(tasks)
        self.play_width = max(16, play_width // 2 * 2)
        self.cancel = cancel
        self.budget_bytes = budget_bytes

    @Slot()
    def run(self) -> None:
        try:
            firsts = [t for t in self.tasks if t.kind == "first"]
            plays = [t for t in self.tasks if t.kind == "frames"]
            for task in firsts:
                if self.cancel.cancelled:
                    return
                self._first(task)
            if plays and not self.cancel.cancelled:
                self._frames(plays)
        finally:
            self.finished.emit(self.batch)

    def _first(self, task: LoadTask) -> None:
        try:
            if task.is_video:
                image = None
                for _, array in iter_frames(task.path, 0, 1, cancel=self.cancel):
                    image = array_to_qimage(array)
                if image is None:
                    raise MediaError(task.path, "has no frame to show")
            else:
                image = QImage(str(task.path))
                if image.isNull():
                    raise MediaError(task.path, "is not an image Qt can read (yet)")
                image = image.convertToFormat(QImage.Format.Format_RGB888)
            if image.width() > THUMB_MAX:
                image = image.scaledToWidth(THUMB_MAX, Qt.TransformationMode.SmoothTransformation)
            self.image_loaded.emit(task.key, image)
        except Cancelled:
            return
        except (MediaError, OSError) as exc:
            self.failed.emit(task.key, _reason(exc))

    def _frames(self, tasks: Sequence[LoadTask]) -> None:
        facts = {}
        for task in tasks:
            try:
                facts[task.key] = probe(task.path, decode_count=False)
            except (MediaError, OSError) as exc:
                self.failed.emit(task.key, _reason(exc))
        sizes = {}
        for key, info in facts.items():
            width = min(self.play_width, info.width)
            height = max(2, round(info.height * width / max(1, info.width)) // 2 * 2)
            sizes[key] = (width, height)
        stride = playback_stride([max(1, info.frame_count) * sizes[k][0] * sizes[k][1] * 3
                                  for k, info in facts.items()], self.budget_bytes)
        for task in tasks:
            if task.key not in facts or self.cancel.cancelled:
                continue
            width, height = sizes[task.key]
            try:
                kept = [array for index, array in iter_frames(task.path, width=width,
                                                              height=height,
                                                              cancel=self.cancel)
                        if index % stride == 0]
            except Cancelled:
                return
            except (MediaError, OSError) as exc:
                self.failed.emit(task.key, _reason(exc))
                continue
            if kept:
                self.frames_loaded.emit(task.key, np.stack(kept),
                                        float(facts[task.key].fps or DEFAULT_FPS), stride)


def _reason(exc: BaseException) -> str:
    text = str(exc).strip() or exc.__class__.__name__
    return text.splitlines()[0]


