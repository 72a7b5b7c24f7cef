"""Checkpoint picker: the trainer's sample videos and images, one row per prompt, one column
per checkpoint, playing in sync.

People pick the LoRA of a long run by comparing the same prompt across epochs; this puts
those samples side by side. Files are read by `curator.core.training.samples` (names as
musubi-tuner writes them), decoded on a worker thread with `curator.core.media.frames`
(QImages and frame arrays cross back by signal), and painted by one widget, so playback is
one timer tick and one repaint for the whole grid. It works on a finished run's folder and,
while a run is live, picks up each new sample as the trainer writes it.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PySide6.QtCore import (
    QFileSystemWatcher,
    QObject,
    QRectF,
    QSize,
    Qt,
    QThread,
    QTimer,
    QUrl,
    Signal,
    Slot,
)
from PySide6.QtGui import (
    QColor,
    QDesktopServices,
    QFont,
    QFontMetrics,
    QGuiApplication,
    QImage,
    QMouseEvent,
    QPainter,
    QPainterPath,
    QPaintEvent,
    QPalette,
    QPen,
)
from PySide6.QtWidgets import (
    QFileDialog,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QScrollArea,
    QSizePolicy,
    QSlider,
    QStyle,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from curator.core.jobs import Cancelled, CancelToken
from curator.core.media import MediaError, iter_frames, probe
from curator.core.training.samples import (
    Checkpoint,
    SampleFile,
    SampleGallery,
    build_gallery,
    checkpoint_file,
    scan_samples,
)

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

ACCENT = QColor("#2f81f7")
MUTED = QColor("#8b949e")
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


# --- the grid --------------------------------------------------------------------------------

class GalleryGrid(QWidget):
    """Paints prompts (rows) by checkpoints (columns); a click picks a column."""

    column_clicked = Signal(int)
    sample_activated = Signal(object)  # SampleFile (double-click)

    HEADER_H = 40
    ROW_HEADER_W = 190
    GAP = 8
    PAD = 10

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("galleryGrid")
        self.setMouseTracking(True)
        self.gallery = SampleGallery()
        self.cell_width = DEFAULT_CELL_WIDTH
        self.images: dict[FileKey, QImage] = {}
        self.frames: dict[FileKey, np.ndarray] = {}
        self.failed: dict[FileKey, str] = {}
        self.keys: dict[Path, FileKey] = {}
        self.tick = 0
        self.playing = False
        self.chosen: int | None = None
        self.has_lora: set[int] = set()
        self._hover: int | None = None

    # --- geometry ------------------------------------------------------------------------

    def row_aspect(self, prompt: int) -> float:
        """Height / width of the row's first decoded sample (a prompt has one size)."""
        for sample in self.gallery.row(prompt):
            if sample is None:
                continue
            image = self.images.get(self.keys.get(sample.path))
            if image is not None and image.width():
                return image.height() / image.width()
        return 9 / 16

    def row_heights(self) -> list[int]:
        return [max(48, round(self.cell_width * self.row_aspect(p))) for p in self.gallery.prompts]

    def column_x(self, column: int) -> int:
        return self.PAD + self.ROW_HEADER_W + column * (self.cell_width + self.GAP)

    def column_at(self, x: float) -> int | None:
        left = self.PAD + self.ROW_HEADER_W
        if x < left - self.GAP / 2:
            return None
        column = int((x - left + self.GAP / 2) // (self.cell_width + self.GAP))
        return column if 0 <= column < len(self.gallery.checkpoints) else None

    def row_at(self, y: float) -> int | None:
        top = self.PAD + self.HEADER_H
        for row, height in enumerate(self.row_heights()):
            if top <= y < top + height + self.GAP:
                return row
            top += height + self.GAP
        return None

    def sizeHint(self) -> QSize:  # noqa: N802 - Qt API
        columns = len(self.gallery.checkpoints)
        width = self.PAD * 2 + self.ROW_HEADER_W + columns * (self.cell_width + self.GAP)
        height = self.PAD * 2 + self.HEADER_H + sum(h + self.GAP for h in self.row_heights())
        return QSize(width, height)

    def relayout(self) -> None:
        self.setFixedSize(self.sizeHint())
        self.update()

    # --- what a cell shows ---------------------------------------------------------------

    def cell_image(self, sample: SampleFile) -> QImage | None:
        key = self.keys.get(sample.path)
        if key is None:
            return None
        if self.playing and key in self.frames:
            frames = self.frames[key]
            frame = frames[self.tick % len(frames)]  # a C-contiguous view into `frames`
            height, width = frame.shape[:2]
            # Wraps the pixels without a copy: `self.frames` keeps them alive past the paint.
            return QImage(frame.data, width, height, frame.strides[0],
                          QImage.Format.Format_RGB888)
        return self.images.get(key)

    # --- events --------------------------------------------------------------------------

    def mousePressEvent(self, event: QMouseEvent) -> None:  # noqa: N802 - Qt API
        column = self.column_at(event.position().x())
        if event.button() == Qt.MouseButton.LeftButton and column is not None:
            self.column_clicked.emit(column)
        super().mousePressEvent(event)

    def mouseDoubleClickEvent(self, event: QMouseEvent) -> None:  # noqa: N802 - Qt API
        column, row = self.column_at(event.position().x()), self.row_at(event.position().y())
        if column is not None and row is not None and row < len(self.gallery.prompts):
            sample = self.gallery.cells.get((self.gallery.prompts[row],
                                             self.gallery.checkpoints[column]))
            if sample is not None:
                self.sample_activated.emit(sample)

    def mouseMoveEvent(self, event: QMouseEvent) -> None:  # noqa: N802 - Qt API
        column = self.column_at(event.position().x())
        if column != self._hover:
            self._hover = column
            self.setCursor(Qt.CursorShape.PointingHandCursor if column is not None
                           else Qt.CursorShape.ArrowCursor)
            self.update()

    def leaveEvent(self, event) -> None:  # noqa: ANN001, N802 - Qt API
        self._hover = None
        self.update()
        super().leaveEvent(event)

    # --- painting ------------------------------------------------------------------------

    def paintEvent(self, event: QPaintEvent) -> None:  # noqa: N802 - Qt API
        painter = QPainter(self)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        painter.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform)
        palette = self.palette()
        painter.fillRect(self.rect(), palette.color(QPalette.ColorRole.Base))
        g = self.gallery
        if not g.checkpoints:
            painter.end()
            return
        font = QFont(self.font())
        small = QFont(font)
        small.setPointSizeF(max(7.5, font.pointSizeF() - 1.5))
        bold = QFont(font)
        bold.setWeight(QFont.Weight.DemiBold)
        heights = self.row_heights()
        grid_bottom = self.PAD + self.HEADER_H + sum(h + self.GAP for h in heights) - self.GAP

        # Column backgrounds: the chosen checkpoint and the one under the mouse.
        for column in range(len(g.checkpoints)):
            if column not in (self.chosen, self._hover):
                continue
            x = self.column_x(column)
            rect = QRectF(x - 5, self.PAD - 2, self.cell_width + 10,
                          grid_bottom - self.PAD + 8)
            chosen = column == self.chosen
            painter.setPen(QPen(ACCENT, 2) if chosen else Qt.PenStyle.NoPen)
            painter.setBrush(QColor(47, 129, 247, 40 if chosen else 18))
            painter.drawRoundedRect(rect, 8, 8)

        # Column headers.
        for column, checkpoint in enumerate(g.checkpoints):
            x = self.column_x(column)
            rect = QRectF(x, self.PAD, self.cell_width, self.HEADER_H - 8)
            painter.setFont(bold)
            painter.setPen(palette.color(QPalette.ColorRole.Text) if column != self.chosen
                           else QColor("#ffffff"))
            painter.drawText(rect.adjusted(0, 0, 0, -14), Qt.AlignmentFlag.AlignCenter,
                             checkpoint_label(checkpoint))
            painter.setFont(small)
            painter.setPen(ACCENT.lighter(130) if column == self.chosen else MUTED)
            note = ("chosen" if column == self.chosen else
                    "LoRA saved" if column in self.has_lora else "no LoRA file")
            painter.drawText(rect.adjusted(0, 16, 0, 0), Qt.AlignmentFlag.AlignCenter, note)

        # Rows: prompt label, then one cell per checkpoint.
        top = self.PAD + self.HEADER_H
        for row, prompt in enumerate(g.prompts):
            height = heights[row]
            self._paint_row_header(painter, QRectF(self.PAD, top, self.ROW_HEADER_W - 12, height),
                                   prompt, bold, small)
            for column, checkpoint in enumerate(g.checkpoints):
                cell = QRectF(self.column_x(column), top, self.cell_width, height)
                self._paint_cell(painter, cell, g.cells.get((prompt, checkpoint)), small)
            top += height + self.GAP
        painter.end()

    def _paint_row_header(self, painter: QPainter, rect: QRectF, prompt: int, bold: QFont,
                          small: QFont) -> None:
        palette = self.palette()
        painter.setFont(bold)
        painter.setPen(palette.color(QPalette.ColorRole.Text))
        painter.drawText(rect.adjusted(0, 0, 0, -(rect.height() - 20)),
                         Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter,
                         f"Prompt {prompt + 1}")
        text = self.gallery.prompt_texts.get(prompt, "")
        if text:
            painter.setFont(small)
            painter.setPen(MUTED)
            body = rect.adjusted(0, 22, 0, 0)
            metrics = QFontMetrics(small)
            lines = max(1, int(body.height() // metrics.lineSpacing()))
            painter.drawText(body, Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignTop
                             | Qt.TextFlag.TextWordWrap,
                             _elide_lines(text, metrics, int(body.width()), lines))

    def _paint_cell(self, painter: QPainter, cell: QRectF, sample: SampleFile | None,
                    small: QFont) -> None:
        path = QPainterPath()
        path.addRoundedRect(cell, 5, 5)
        painter.fillPath(path, CELL_BG)
        painter.setFont(small)
        if sample is None:
            painter.setPen(QPen(QColor(255, 255, 255, 30), 1, Qt.PenStyle.DashLine))
            painter.setBrush(Qt.BrushStyle.NoBrush)
            painter.drawRoundedRect(cell.adjusted(0.5, 0.5, -0.5, -0.5), 5, 5)
            painter.setPen(MUTED)
            painter.drawText(cell, Qt.AlignmentFlag.AlignCenter, "no sample")
            return
        key = self.keys.get(sample.path)
        image = self.cell_image(sample)
        if image is not None and not image.isNull():
            target = _fit_rect(image.width(), image.height(), cell)
            painter.save()
            painter.setClipPath(path)
            painter.drawImage(target, image)
            painter.restore()
        else:
            painter.setPen(MUTED)
            reason = self.failed.get(key) if key is not None else None
            painter.drawText(cell.adjusted(8, 8, -8, -8),
                             Qt.AlignmentFlag.AlignCenter | Qt.TextFlag.TextWordWrap,
                             "not readable yet" if reason else "loading…")
        if sample.is_video and not self.playing:
            self._paint_badge(painter, cell, "▶ video")
        elif sample.is_video and key not in self.frames and key not in self.failed:
            self._paint_badge(painter, cell, "decoding…")

    def _paint_badge(self, painter: QPainter, cell: QRectF, text: str) -> None:
        metrics = painter.fontMetrics()
        width = metrics.horizontalAdvance(text) + 12
        badge = QRectF(cell.left() + 6, cell.bottom() - metrics.height() - 10, width,
                       metrics.height() + 4)
        painter.setPen(Qt.PenStyle.NoPen)
        painter.setBrush(QColor(0, 0, 0, 160))
        painter.drawRoundedRect(badge, 4, 4)
        painter.setPen(QColor("#e6edf3"))
        painter.drawText(badge, Qt.AlignmentFlag.AlignCenter, text)


def _fit_rect(width: int, height: int, cell: QRectF) -> QRectF:
    scale = min(cell.width() / max(1, width), cell.height() / max(1, height))
    w, h = width * scale, height * scale
    return QRectF(cell.center().x() - w / 2, cell.center().y() - h / 2, w, h)


def _elide_lines(text: str, metrics: QFontMetrics, width: int, lines: int) -> str:
    """Word-wrapped text cut to `lines` lines, the last one ending in an ellipsis if cut."""
    words, out, current = text.split(), [], ""
    for word in words:
        trial = f"{current} {word}".strip()
        if metrics.horizontalAdvance(trial) <= width or not current:
            current = trial
        else:
            out.append(current)
            current = word
        if len(out) == lines:
            break
    if len(out) < lines and current:
        out.append(current)
    if len(out) >= lines and " ".join(out) != " ".join(words):
        out = out[:lines]
        out[-1] = metrics.elidedText(out[-1] + " …", Qt.TextElideMode.ElideRight, width)
    return "\n".join(out)


# --- the panel -------------------------------------------------------------------------------

class CheckpointGallery(QWidget):
    """Samples of one run as a prompt-by-checkpoint grid; choosing a column picks the LoRA."""

    checkpoint_chosen = Signal(object, object)  # Checkpoint, Path | None (the LoRA file)
    refreshed = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("checkpointGallery")
        self.output_dir: Path | None = None
        self.output_name: str | None = None
        self.prompt_texts: list[str] = []
        self.live = False
        self.chosen: Checkpoint | None = None
        self.chosen_lora: Path | None = None
        self.fps = DEFAULT_FPS
        self.stride = 1
        self._signature: tuple = ()
        self._loader: tuple[QThread, SampleLoader, CancelToken] | None = None
        self._batches = 0
        self._wanted: dict[tuple[FileKey, str], LoadTask] = {}

        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(6)
        bar = QHBoxLayout()
        bar.setSpacing(6)
        self.open_button = QPushButton("Open run folder…")
        self.open_button.setObjectName("openRunFolder")
        self.open_button.setToolTip("Show the samples of a finished run: pick its output folder "
                                    "(or its sample folder)")
        self.open_button.clicked.connect(self._ask_folder)
        self.refresh_button = QToolButton()
        self.refresh_button.setIcon(self.style().standardIcon(
            QStyle.StandardPixmap.SP_BrowserReload))
        self.refresh_button.setToolTip("Look for new samples")
        self.refresh_button.clicked.connect(lambda: self.refresh(force=True))
        self.play_button = QToolButton()
        self.play_button.setObjectName("playSamples")
        self.play_button.setCheckable(True)
        self.play_button.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextBesideIcon)
        self.play_button.toggled.connect(self.set_playing)
        self._show_play_state(False)
        self.size_slider = QSlider(Qt.Orientation.Horizontal)
        self.size_slider.setRange(MIN_CELL_WIDTH, MAX_CELL_WIDTH)
        self.size_slider.setValue(DEFAULT_CELL_WIDTH)
        self.size_slider.setFixedWidth(120)
        self.size_slider.setToolTip("Sample size")
        self.size_slider.valueChanged.connect(self._set_cell_width)
        self.folder_label = QLabel()
        self.folder_label.setObjectName("galleryFolder")
        self.folder_label.setStyleSheet("color: #8b949e;")
        self.folder_label.setSizePolicy(QSizePolicy.Policy.Ignored,
                                        QSizePolicy.Policy.Preferred)
        bar.addWidget(self.open_button)
        bar.addWidget(self.refresh_button)
        bar.addWidget(self.play_button)
        bar.addWidget(self.folder_label, 1)
        size_icon = QLabel("Size")
        size_icon.setStyleSheet("color: #8b949e;")
        bar.addWidget(size_icon)
        bar.addWidget(self.size_slider)
        layout.addLayout(bar)

        self.grid = GalleryGrid()
        self.grid.column_clicked.connect(self.choose_column)
        self.grid.sample_activated.connect(
            lambda sample: QDesktopServices.openUrl(QUrl.fromLocalFile(str(sample.path))))
        self.scroll = QScrollArea()
        self.scroll.setObjectName("galleryScroll")
        self.scroll.setWidget(self.grid)
        self.scroll.setWidgetResizable(False)
        self.scroll.setAlignment(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignTop)
        self.empty_label = QLabel()
        self.empty_label.setObjectName("galleryEmpty")
        self.empty_label.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.empty_label.setWordWrap(True)
        self.empty_label.setStyleSheet("color: #8b949e; padding: 24px;")
        layout.addWidget(self.scroll, 1)
        layout.addWidget(self.empty_label, 1)

        chosen_bar = QHBoxLayout()
        self.chosen_label = QLabel()
        self.chosen_label.setObjectName("chosenCheckpoint")
        self.chosen_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.chosen_label.setSizePolicy(QSizePolicy.Policy.Ignored,
                                        QSizePolicy.Policy.Preferred)
        self.copy_button = QPushButton("Copy LoRA path")
        self.copy_button.clicked.connect(self._copy_lora_path)
        self.reveal_button = QPushButton("Show in folder")
        self.reveal_button.clicked.connect(self._reveal_lora)
        chosen_bar.addWidget(self.chosen_label, 1)
        chosen_bar.addWidget(self.copy_button)
        chosen_bar.addWidget(self.reveal_button)
        layout.addLayout(chosen_bar)

        self._watcher = QFileSystemWatcher(self)
        self._watcher.directoryChanged.connect(lambda _p: self._changed.start())
        self._changed = QTimer(self)
        self._changed.setSingleShot(True)
        self._changed.setInterval(CHANGE_DEBOUNCE_MS)
        self._changed.timeout.connect(self.refresh)
        self._poll = QTimer(self)
        self._poll.setInterval(LIVE_POLL_MS)  # a growing file changes no directory entry
        self._poll.timeout.connect(self.refresh)
        self._play_timer = QTimer(self)
        self._play_timer.timeout.connect(self._advance)
        self._update_chosen_bar()
        self._update_empty()

    # --- what to show --------------------------------------------------------------------

    @property
    def gallery(self) -> SampleGallery:
        return self.grid.gallery

    @property
    def sample_dir(self) -> Path | None:
        return self.output_dir / "sample" if self.output_dir is not None else None

    def set_run(self, output_dir: Path | None, *, output_name: str | None = None,
                prompt_texts: Sequence[str] | None = None, live: bool = False) -> None:
        """Show the samples of the run writing to `output_dir` (None: nothing)."""
        folder = Path(output_dir) if output_dir is not None else None
        if folder != self.output_dir or output_name != self.output_name:
            self._reset()
        self.output_dir, self.output_name = folder, output_name
        self.prompt_texts = list(prompt_texts or [])
        self.set_live(live)
        self.refresh(force=True)

    def open_folder(self, path: Path) -> None:
        """Show a finished run's samples: `path` is its output folder or its sample folder."""
        folder = run_folder(Path(path))
        samples = scan_samples(folder)
        self.set_run(folder, output_name=common_output_name(samples), live=False)

    def set_prompt_texts(self, texts: Sequence[str]) -> None:
        self.prompt_texts = list(texts)
        self.gallery.prompt_texts = dict(enumerate(self.prompt_texts))
        self.grid.update()

    def set_live(self, live: bool) -> None:
        """While live, new and growing sample files are picked up as the trainer writes them."""
        self.live = live
        if live:
            self._poll.start()
        else:
            self._poll.stop()
        self._watch()

    def _reset(self) -> None:
        self._stop_loader()
        self._wanted.clear()
        grid = self.grid
        grid.images.clear()
        grid.frames.clear()
        grid.failed.clear()
        grid.keys.clear()
        grid.gallery = SampleGallery()
        grid.chosen = None
        self.chosen = self.chosen_lora = None
        self._signature = ()
        self._update_chosen_bar()

    def _watch(self) -> None:
        watched = set(self._watcher.directories())
        wanted = {str(p) for p in (self.output_dir, self.sample_dir)
                  if p is not None and p.is_dir()}
        if watched - wanted:
            self._watcher.removePaths(sorted(watched - wanted))
        if wanted - watched:
            self._watcher.addPaths(sorted(wanted - watched))

    def refresh(self, force: bool = False) -> None:
        """Read the sample folder again; only new or changed files are decoded.

        A file the trainer is still writing fails to decode; once it has grown its size and
        time change, so the next look (the live poll) decodes it again.
        """
        self._watch()
        samples = scan_samples(self.output_dir, output_name=self.output_name) \
            if self.output_dir is not None else []
        keys = {s.path: file_key(s.path) for s in samples}
        signature = tuple(sorted((str(p), k) for p, k in keys.items() if k is not None))
        if signature == self._signature and not force:
            return
        self._signature = signature
        if force:
            self.grid.failed.clear()  # asked by hand: try the unreadable files again
        gallery = build_gallery(samples, self.prompt_texts)
        grid = self.grid
        grid.gallery = gallery
        grid.keys = {p: k for p, k in keys.items() if k is not None}
        live_keys = set(grid.keys.values())
        for cache in (grid.images, grid.frames, grid.failed):
            for stale in [k for k in cache if k not in live_keys]:
                del cache[stale]
        self._update_lora_marks()
        if self.chosen is not None and self.chosen in gallery.checkpoints:
            grid.chosen = gallery.checkpoints.index(self.chosen)
            self._update_chosen_lora()
        else:
            grid.chosen = None
        grid.relayout()
        self._update_folder_label()
        self._update_empty()
        self._queue_loads()
        self.refreshed.emit()

    def _update_lora_marks(self) -> None:
        name = self.output_name
        marks = set()
        if self.output_dir is not None and name:
            last = self._last_epoch()
            for column, checkpoint in enumerate(self.gallery.checkpoints):
                if checkpoint_file(self.output_dir, name, checkpoint, last_epoch=last):
                    marks.add(column)
        self.grid.has_lora = marks

    def _last_epoch(self) -> int | None:
        epochs = [c.number for c in self.gallery.checkpoints if c.kind == "epoch"]
        # While a run is live its newest epoch has its own file; the final name only exists
        # once the run has ended.
        return max(epochs) if epochs and not self.live else None

    def _update_folder_label(self) -> None:
        g = self.gallery
        if self.output_dir is None:
            self.folder_label.setText("")
            return
        counts = (f"{len(g.prompts)} prompt{'s' * (len(g.prompts) != 1)} × "
                  f"{len(g.checkpoints)} checkpoint{'s' * (len(g.checkpoints) != 1)}"
                  if len(g) else "no samples yet")
        live = " · live" if self.live else ""
        self.folder_label.setText(f"{counts}{live} · {self.sample_dir}")
        self.folder_label.setToolTip(str(self.sample_dir))

    def _update_empty(self) -> None:
        empty = len(self.gallery) == 0
        self.scroll.setVisible(not empty)
        self.empty_label.setVisible(empty)
        if self.output_dir is None:
            self.empty_label.setText("No run yet. Start one from the Train tab, or open a "
                                     "finished run's folder to compare its checkpoints.")
        elif self.live:
            self.empty_label.setText(f"Waiting for samples in {self.sample_dir}.\nThe trainer "
                                     "writes one per prompt at each sampling checkpoint.")
        else:
            self.empty_label.setText(f"No samples in {self.sample_dir}.\nAdd sample prompts "
                                     "(Prompts tab) so the trainer renders them at each epoch, "
                                     "or open another run folder.")

    # --- decoding ------------------------------------------------------------------------

    def _queue_loads(self) -> None:
        grid = self.grid
        for sample in self.gallery.cells.values():
            key = grid.keys.get(sample.path)
            if key is None or key in grid.failed:
                continue
            if key not in grid.images:
                self._wanted.setdefault((key, "first"),
                                        LoadTask(key, sample.path, sample.is_video, "first"))
            if grid.playing and sample.is_video and key not in grid.frames:
                self._wanted.setdefault((key, "frames"),
                                        LoadTask(key, sample.path, True, "frames"))
        self._start_loader()

    def is_loading(self) -> bool:
        return self._loader is not None or bool(self._wanted)

    def _start_loader(self) -> None:
        if self._loader is not None or not self._wanted:
            return
        tasks = list(self._wanted.values())
        self._wanted.clear()
        token = CancelToken()
        self._batches += 1
        loader = SampleLoader(tasks, play_width=self.grid.cell_width, cancel=token,
                              batch=self._batches)
        thread = QThread(self)
        thread.setObjectName("sample-gallery-loader")
        loader.moveToThread(thread)
        thread.started.connect(loader.run)
        # Quit on the loader's own thread, so waiting for the thread never needs this loop.
        loader.finished.connect(thread.quit, Qt.ConnectionType.DirectConnection)
        loader.image_loaded.connect(self._on_image)
        loader.frames_loaded.connect(self._on_frames)
        loader.failed.connect(self._on_failed)
        loader.finished.connect(self._on_loader_finished)
        self._loader = (thread, loader, token)
        thread.start()

    def _stop_loader(self) -> None:
        if self._loader is None:
            return
        thread, loader, token = self._loader
        token.cancel()
        thread.wait(5000)
        loader.deleteLater()
        thread.deleteLater()
        self._loader = None

    def _shown(self, key: FileKey) -> bool:
        return key in self.grid.keys.values()  # a result for a file no longer shown is dropped

    @Slot(object, object)
    def _on_image(self, key: FileKey, image: QImage) -> None:
        if self._shown(key):
            self.grid.images[key] = image
            self.grid.relayout()  # the first image of a row sets its height

    @Slot(object, object, float, int)
    def _on_frames(self, key: FileKey, frames: np.ndarray, fps: float, stride: int) -> None:
        if not self._shown(key):
            return
        self.grid.frames[key] = frames
        self.fps, self.stride = fps or DEFAULT_FPS, stride
        if self.grid.playing:
            self._play_timer.setInterval(max(15, round(1000 * stride / self.fps)))
        self.grid.update()

    @Slot(object, str)
    def _on_failed(self, key: FileKey, reason: str) -> None:
        if self._shown(key):
            self.grid.failed[key] = reason
            self.grid.update()

    @Slot(int)
    def _on_loader_finished(self, batch: int) -> None:
        if self._loader is None or self._loader[1].batch != batch:
            return  # a batch stopped (and cleaned up) by _stop_loader
        thread, loader, _token = self._loader
        thread.wait(5000)
        loader.deleteLater()
        thread.deleteLater()
        self._loader = None
        self._start_loader()

    # --- playback ------------------------------------------------------------------------

    def _show_play_state(self, playing: bool) -> None:
        icon = QStyle.StandardPixmap.SP_MediaPause if playing else \
            QStyle.StandardPixmap.SP_MediaPlay
        self.play_button.setIcon(self.style().standardIcon(icon))
        self.play_button.setText("Pause" if playing else "Play all")
        self.play_button.setToolTip("Play every video sample together, frame by frame in step")

    @Slot(bool)
    def set_playing(self, playing: bool) -> None:
        """Play every video sample in sync (decoding their frames first), or stop on frame 0."""
        if self.play_button.isChecked() != playing:
            self.play_button.setChecked(playing)  # re-enters through toggled
            return
        self._show_play_state(playing)
        self.grid.playing = playing
        self.grid.tick = 0
        if playing:
            self._play_timer.setInterval(max(15, round(1000 * self.stride / self.fps)))
            self._play_timer.start()
            self._queue_loads()
        else:
            self._play_timer.stop()
        self.grid.update()

    def _advance(self) -> None:
        self.grid.tick += 1
        self.grid.update()

    def _set_cell_width(self, width: int) -> None:
        self.grid.cell_width = width
        self.grid.relayout()

    # --- choosing ------------------------------------------------------------------------

    @Slot(int)
    def choose_column(self, column: int) -> None:
        if 0 <= column < len(self.gallery.checkpoints):
            self.choose(self.gallery.checkpoints[column])

    def choose(self, checkpoint: Checkpoint) -> None:
        """Mark the checkpoint a person picked and find its LoRA file."""
        if checkpoint not in self.gallery.checkpoints:
            return
        self.chosen = checkpoint
        self.grid.chosen = self.gallery.checkpoints.index(checkpoint)
        self._update_chosen_lora()
        self.grid.update()
        self.checkpoint_chosen.emit(checkpoint, self.chosen_lora)

    def _update_chosen_lora(self) -> None:
        self.chosen_lora = None
        if self.chosen is not None and self.output_dir is not None and self.output_name:
            self.chosen_lora = checkpoint_file(self.output_dir, self.output_name, self.chosen,
                                               last_epoch=self._last_epoch())
        self._update_chosen_bar()

    def expected_lora_name(self, checkpoint: Checkpoint) -> str:
        name = self.output_name or "<name>"
        if checkpoint.kind == "epoch":
            return f"{name}-{checkpoint.number:06d}.safetensors"
        return f"{name}-step{checkpoint.number:08d}.safetensors"

    def _update_chosen_bar(self) -> None:
        has_file = self.chosen_lora is not None
        self.copy_button.setEnabled(has_file)
        self.reveal_button.setEnabled(has_file)
        if self.chosen is None:
            self.chosen_label.setText("Click a checkpoint column to choose its LoRA.")
            self.chosen_label.setStyleSheet("color: #8b949e;")
        elif has_file:
            self.chosen_label.setText(f"Chosen: {checkpoint_label(self.chosen)}  →  "
                                      f"{self.chosen_lora}")
            self.chosen_label.setStyleSheet("color: #e6edf3; font-weight: 600;")
        else:
            self.chosen_label.setText(
                f"Chosen: {checkpoint_label(self.chosen)}, but no LoRA file for it in "
                f"{self.output_dir} (expected {self.expected_lora_name(self.chosen)})")
            self.chosen_label.setStyleSheet("color: #d29922;")
        self.chosen_label.setToolTip(str(self.chosen_lora or ""))

    def _copy_lora_path(self) -> None:
        if self.chosen_lora is not None:
            QGuiApplication.clipboard().setText(str(self.chosen_lora))

    def _reveal_lora(self) -> None:
        if self.chosen_lora is not None:
            QDesktopServices.openUrl(QUrl.fromLocalFile(str(self.chosen_lora.parent)))

    def _ask_folder(self) -> None:
        start = str(self.output_dir) if self.output_dir else str(Path.home())
        folder = QFileDialog.getExistingDirectory(self, "Open a training run's output folder",
                                                  start)
        if folder:
            self.open_folder(Path(folder))

    # --- lifetime ------------------------------------------------------------------------

    def shutdown(self) -> None:
        """Stop decoding and timers (the window is closing)."""
        self._play_timer.stop()
        self._poll.stop()
        self._changed.stop()
        self._wanted.clear()
        self._stop_loader()


__all__ = ["CheckpointGallery", "GalleryGrid", "SampleLoader", "checkpoint_label",
           "common_output_name", "playback_stride", "run_folder"]
