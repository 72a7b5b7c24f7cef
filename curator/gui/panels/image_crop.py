"""Cropping a still to a square the trainer takes: the crop math, the view that drags it and
the tool that saves it to the catalog; pictures are read off the GUI thread by `PictureLoader`."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from PySide6.QtCore import (
    QModelIndex,
    QObject,
    QPersistentModelIndex,
    QPointF,
    QRectF,
    QRunnable,
    QSize,
    Qt,
    QThreadPool,
    Signal,
    Slot,
)
from PySide6.QtGui import (
    QColor,
    QImage,
    QImageReader,
    QKeyEvent,
    QMouseEvent,
    QPainter,
    QPainterPath,
    QPaintEvent,
    QPen,
    QPixmap,
)
from PySide6.QtWidgets import (
    QCheckBox,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QSizePolicy,
    QSpinBox,
    QWidget,
)

from curator.core.catalog import Catalog, CatalogError, ImageRow
from curator.gui.latest import single_shot
from curator.gui.widgets.layout import flush_column

DEFAULT_CROP = 768
THUMB_SIZE = QSize(128, 96)
VIEW_MAX_SIDE = 2048  # the crop view never holds a bigger picture than this
Index = QModelIndex | QPersistentModelIndex


def crop_side(width: int, height: int, wanted: int = DEFAULT_CROP) -> int:
    """The side of a square crop: `wanted`, or the image's short side when it is smaller."""
    return max(1, min(int(wanted), int(width), int(height)))


def clamp_crop(x: float, y: float, side: int, width: int, height: int) -> tuple[int, int]:
    """The top-left corner of a `side` square moved as near (x, y) as the image allows."""
    side = min(side, width, height)
    return (int(round(min(max(0.0, x), width - side))),
            int(round(min(max(0.0, y), height - side))))


def centered_crop(width: int, height: int, wanted: int = DEFAULT_CROP
                  ) -> tuple[int, int, int, int]:
    """A square crop of `crop_side` in the middle of the image, as (x, y, w, h)."""
    side = crop_side(width, height, wanted)
    return ((width - side) // 2, (height - side) // 2, side, side)


def moved_crop(crop: tuple[int, int, int, int], dx: float, dy: float, width: int,
               height: int) -> tuple[int, int, int, int]:
    """A crop moved by (dx, dy) image pixels, kept inside the image."""
    x, y, side, _ = crop
    nx, ny = clamp_crop(x + dx, y + dy, side, width, height)
    return (nx, ny, side, side)


def resized_crop(crop: tuple[int, int, int, int] | None, wanted: int, width: int,
                 height: int) -> tuple[int, int, int, int]:
    """A crop of a new size around the old one's centre (or the image's), inside the image."""
    side = crop_side(width, height, wanted)
    if crop is None:
        return centered_crop(width, height, wanted)
    cx, cy = crop[0] + crop[2] / 2, crop[1] + crop[3] / 2
    x, y = clamp_crop(cx - side / 2, cy - side / 2, side, width, height)
    return (x, y, side, side)


# --- reading pictures off the GUI thread --------------------------------------------------

class _Relay(QObject):
    loaded = Signal(object, QImage)  # key, picture (null when unreadable)


class _ReadTask(QRunnable):
    def __init__(self, relay: _Relay, key: object, path: Path, max_size: QSize) -> None:
        super().__init__()
        self._relay, self._key, self._path, self._max = relay, key, path, max_size

    def run(self) -> None:
        reader = QImageReader(str(self._path))
        reader.setAutoTransform(True)
        size = reader.size()
        if size.isValid() and (size.width() > self._max.width()
                               or size.height() > self._max.height()):
            # scaled while reading: a JPEG decodes at a fraction of the cost
            reader.setScaledSize(size.scaled(self._max, Qt.AspectRatioMode.KeepAspectRatio))
        image = reader.read()
        self._relay.loaded.emit(self._key, image)


class PictureLoader(QObject):
    """Reads image files on a small thread pool; `loaded(key, QImage)` on the GUI thread."""

    loaded = Signal(object, QImage)

    def __init__(self, parent: QObject | None = None, threads: int = 2) -> None:
        super().__init__(parent)
        self._pool = QThreadPool(self)
        self._pool.setMaxThreadCount(threads)
        self._relay = _Relay()
        self._relay.loaded.connect(self.loaded)

    def load(self, key: object, path: Path, max_size: QSize) -> None:
        self._pool.start(_ReadTask(self._relay, key, Path(path), max_size))

    def shutdown(self) -> None:
        self._pool.clear()
        self._pool.waitForDone()


# --- the list of images -------------------------------------------------------------------

class CropView(QWidget):
    """An image with a draggable fixed-size square crop, in image pixels.

    Signals:
        crop_moved(object): (x, y, w, h) while dragging or nudging.
        crop_committed(object): (x, y, w, h) when the square is let go (save it now).
    """

    crop_moved = Signal(object)
    crop_committed = Signal(object)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("cropView")
        self.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)
        self.setMinimumSize(200, 150)
        self._picture: QPixmap | None = None
        self._size = (0, 0)  # the image's real size: crops are in these pixels
        self._crop: tuple[int, int, int, int] | None = None
        self._drag_from: QPointF | None = None
        self._drag_crop: tuple[int, int, int, int] | None = None
        self._message = "No image selected"
        self._nudge_timer = single_shot(400, self._commit, self)

    def sizeHint(self) -> QSize:
        return QSize(520, 360)

    def set_image(self, picture: QImage | None, size: tuple[int, int]) -> None:
        """Show a picture (possibly scaled down) of an image of `size` real pixels."""
        self._picture = QPixmap.fromImage(picture) if picture is not None \
            and not picture.isNull() else None
        self._size = (int(size[0]), int(size[1]))
        self._message = "" if self._picture is not None else "Loading…"
        self.update()

    def set_message(self, text: str) -> None:
        self._picture = None
        self._message = text
        self.update()

    def set_crop(self, crop: tuple[int, int, int, int] | None) -> None:
        self._crop = tuple(crop) if crop else None
        self.update()

    def crop(self) -> tuple[int, int, int, int] | None:
        return self._crop

    def has_picture(self) -> bool:
        return self._picture is not None

    def image_rect(self) -> QRectF:
        """Where the whole image is drawn, in widget pixels."""
        w, h = self._size
        if w <= 0 or h <= 0:
            return QRectF()
        scale = min((self.width() - 8) / w, (self.height() - 8) / h)
        return QRectF((self.width() - w * scale) / 2, (self.height() - h * scale) / 2,
                      w * scale, h * scale)

    def scale(self) -> float:
        rect = self.image_rect()
        return rect.width() / self._size[0] if self._size[0] else 1.0

    def crop_rect(self) -> QRectF:
        """Where the crop square is drawn, in widget pixels."""
        if self._crop is None:
            return QRectF()
        rect, s = self.image_rect(), self.scale()
        x, y, w, h = self._crop
        return QRectF(rect.left() + x * s, rect.top() + y * s, w * s, h * s)

    def paintEvent(self, _event: QPaintEvent) -> None:
        painter = QPainter(self)
        painter.fillRect(self.rect(), QColor("#0d1117"))
        if self._picture is not None:
            painter.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform, True)
            rect = self.image_rect()
            painter.drawPixmap(rect, self._picture, QRectF(self._picture.rect()))
            if self._crop is not None:
                square = self.crop_rect()
                shade = QPainterPath()
                shade.addRect(rect)
                hole = QPainterPath()
                hole.addRect(square)
                painter.fillPath(shade.subtracted(hole), QColor(0, 0, 0, 150))
                painter.setPen(QPen(QColor("#f0f6fc"), 2))
                painter.drawRect(square.adjusted(1, 1, -1, -1))
                painter.setPen(QPen(QColor(240, 246, 252, 90), 1, Qt.PenStyle.DashLine))
                for i in (1, 2):  # thirds, for framing
                    x = square.left() + square.width() * i / 3
                    y = square.top() + square.height() * i / 3
                    painter.drawLine(QPointF(x, square.top()), QPointF(x, square.bottom()))
                    painter.drawLine(QPointF(square.left(), y), QPointF(square.right(), y))
                label = f"{self._crop[2]}×{self._crop[3]}"
                metrics = painter.fontMetrics()
                box = QRectF(square.left() + 4, square.top() + 4,
                             metrics.horizontalAdvance(label) + 10, metrics.height() + 2)
                painter.fillRect(box, QColor(13, 17, 23, 200))
                painter.setPen(QColor("#e6edf3"))
                painter.drawText(box, Qt.AlignmentFlag.AlignCenter, label)
        if self._message:
            painter.setPen(QColor("#8b949e"))
            painter.drawText(self.rect(), Qt.AlignmentFlag.AlignCenter, self._message)
        painter.end()

    def mousePressEvent(self, event: QMouseEvent) -> None:
        self.setFocus(Qt.FocusReason.MouseFocusReason)
        if event.button() != Qt.MouseButton.LeftButton or self._crop is None:
            return
        point = event.position()
        if not self.crop_rect().contains(point):
            # a click outside the square centres it there
            s = self.scale()
            rect = self.image_rect()
            side = self._crop[2]
            x, y = clamp_crop((point.x() - rect.left()) / s - side / 2,
                              (point.y() - rect.top()) / s - side / 2, side, *self._size)
            self._crop = (x, y, side, side)
            self.crop_moved.emit(self._crop)
            self.update()
        self._drag_from, self._drag_crop = point, self._crop

    def mouseMoveEvent(self, event: QMouseEvent) -> None:
        if self._drag_from is None or self._drag_crop is None:
            return
        s = self.scale() or 1.0
        delta = event.position() - self._drag_from
        self._crop = moved_crop(self._drag_crop, delta.x() / s, delta.y() / s, *self._size)
        self.crop_moved.emit(self._crop)
        self.update()

    def mouseReleaseEvent(self, event: QMouseEvent) -> None:
        if self._drag_from is not None:
            self._drag_from = self._drag_crop = None
            self._commit()

    def keyPressEvent(self, event: QKeyEvent) -> None:
        steps = {Qt.Key.Key_Left: (-1, 0), Qt.Key.Key_Right: (1, 0), Qt.Key.Key_Up: (0, -1),
                 Qt.Key.Key_Down: (0, 1)}
        if self._crop is None or event.key() not in steps:
            super().keyPressEvent(event)
            return
        dx, dy = steps[Qt.Key(event.key())]
        factor = 10 if event.modifiers() & Qt.KeyboardModifier.ShiftModifier else 1
        self._crop = moved_crop(self._crop, dx * factor, dy * factor, *self._size)
        self.crop_moved.emit(self._crop)
        self.update()
        self._nudge_timer.start()  # saved once the nudging stops

    def _commit(self) -> None:
        self._nudge_timer.stop()
        if self._crop is not None:
            self.crop_committed.emit(self._crop)

    def flush(self) -> None:
        """Commit a nudge still waiting for its pause."""
        if self._nudge_timer.isActive():
            self._commit()


class CropTool(QWidget):
    """The crop view with its controls: square on/off, size, centre; saves to the catalog.

    Signals:
        crop_saved(int, object): image id and its new crop (None when removed).
    """

    crop_saved = Signal(int, object)

    def __init__(self, catalog: Catalog, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("cropTool")
        self.catalog = catalog
        self._image: ImageRow | None = None
        self.loader = PictureLoader(self, threads=1)
        self.loader.loaded.connect(self._on_loaded)
        layout = flush_column(self, 4)
        self.view = CropView()
        self.view.crop_committed.connect(self.save_crop)
        self.view.crop_moved.connect(lambda _c: self._update_label())
        layout.addWidget(self.view, 1)
        bar = QHBoxLayout()
        bar.setContentsMargins(6, 0, 6, 4)
        self.enabled_box = QCheckBox("Square crop")
        self.enabled_box.setObjectName("cropEnabled")
        self.enabled_box.setToolTip("Export only a square of the image")
        self.enabled_box.toggled.connect(self._on_enabled)
        bar.addWidget(self.enabled_box)
        self.size_box = QSpinBox()
        self.size_box.setObjectName("cropSize")
        self.size_box.setRange(64, 8192)
        self.size_box.setSingleStep(16)
        self.size_box.setValue(DEFAULT_CROP)
        self.size_box.setSuffix(" px")
        self.size_box.setToolTip("Side of the square, in image pixels")
        self.size_box.editingFinished.connect(self._on_size)
        bar.addWidget(self.size_box)
        self.center_button = QPushButton("Centre")
        self.center_button.setToolTip("Put the square in the middle of the image")
        self.center_button.clicked.connect(self.center)
        bar.addWidget(self.center_button)
        self.crop_label = QLabel()
        self.crop_label.setObjectName("cropLabel")
        bar.addWidget(self.crop_label, 1)
        layout.addLayout(bar)
        self.show_image(None)

    def image(self) -> ImageRow | None:
        """The image shown, with its crop as saved."""
        return self._image

    def show_image(self, image: ImageRow | None) -> None:
        self.view.flush()
        self._image = image
        self.enabled_box.blockSignals(True)
        self.enabled_box.setChecked(bool(image is not None and image.crop))
        self.enabled_box.blockSignals(False)
        for w in (self.enabled_box, self.size_box, self.center_button):
            w.setEnabled(image is not None)
        if image is None:
            self.view.set_crop(None)
            self.view.set_message("No image selected")
        else:
            if image.crop:
                self.size_box.setValue(image.crop[2])
            self.view.set_image(None, (image.width, image.height))
            self.view.set_crop(image.crop)
            self.loader.load(image.id, Path(image.path),
                             QSize(VIEW_MAX_SIDE, VIEW_MAX_SIDE))
        self._update_label()

    @Slot(object, QImage)
    def _on_loaded(self, image_id: object, picture: QImage) -> None:
        if self._image is None or image_id != self._image.id:
            return
        if picture.isNull():
            self.view.set_message(f"Cannot read {Path(self._image.path).name}")
        else:
            self.view.set_image(picture, (self._image.width, self._image.height))

    def _on_enabled(self, on: bool) -> None:
        if self._image is None:
            return
        if on:
            crop = resized_crop(None, self.size_box.value(), self._image.width,
                                self._image.height)
            self.view.set_crop(crop)
            self.save_crop(crop)
        else:
            self.view.set_crop(None)
            self.save_crop(None)

    def _on_size(self) -> None:
        if self._image is None or self.view.crop() is None:
            return
        crop = resized_crop(self.view.crop(), self.size_box.value(), self._image.width,
                            self._image.height)
        if crop != self.view.crop():
            self.view.set_crop(crop)
            self.save_crop(crop)

    def center(self) -> None:
        if self._image is None:
            return
        crop = centered_crop(self._image.width, self._image.height, self.size_box.value())
        self.enabled_box.blockSignals(True)
        self.enabled_box.setChecked(True)
        self.enabled_box.blockSignals(False)
        self.view.set_crop(crop)
        self.save_crop(crop)

    @Slot(object)
    def save_crop(self, crop: tuple[int, int, int, int] | None) -> None:
        """Save the crop (or its removal) for the shown image: one small write."""
        if self._image is None:
            return
        crop = tuple(int(v) for v in crop) if crop else None
        if crop == (tuple(self._image.crop) if self._image.crop else None):
            self._update_label()
            return
        try:
            self.catalog.set_image_crop(self._image.id, crop)
        except CatalogError as exc:
            self.crop_label.setText(f"Not saved: {exc}")
            return
        self._image = replace(self._image, crop=crop)
        self._update_label(saved=True)
        self.crop_saved.emit(self._image.id, crop)

    def _update_label(self, saved: bool = False) -> None:
        crop = self.view.crop()
        if self._image is None:
            self.crop_label.setText("")
        elif crop is None:
            self.crop_label.setText(f"Whole image, {self._image.width}×{self._image.height}")
        else:
            x, y, w, h = crop
            note = ""
            if w < self.size_box.value():
                note = f" (the image is only {min(self._image.width, self._image.height)} px)"
            self.crop_label.setText(f"{w}×{h} at ({x}, {y}){note}"
                                    + ("  ·  saved" if saved else ""))

    def shutdown(self) -> None:
        self.view.flush()
        self.loader.shutdown()



