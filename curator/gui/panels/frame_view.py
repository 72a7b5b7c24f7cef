"""The preview's picture: a frame scaled into the view, a badge, a message; and the width a
frame is decoded at so the picture stays sharp without decoding more than it shows."""

from __future__ import annotations

from PySide6.QtCore import QRectF, QSize, Qt
from PySide6.QtGui import (
    QColor,
    QImage,
    QPainter,
    QPaintEvent,
    QPen,
)
from PySide6.QtWidgets import (
    QSizePolicy,
    QWidget,
)

WIDTH_STEP = 64  # decoded widths snap to this step: a small resize does not decode again


def decode_width(view_width: int, view_height: int, size: tuple[int, int]) -> int | None:
    """The width to decode a source of `size` at for a view box; None for the native size.

    The picture is fitted into the box, then its width rounded up to `WIDTH_STEP`.
    """
    width, height = size
    if width <= 0 or height <= 0:
        return None
    fit = min(view_width / width, view_height / height)
    wanted = int(width * fit + WIDTH_STEP - 1) // WIDTH_STEP * WIDTH_STEP
    if wanted >= width:
        return None
    return max(WIDTH_STEP, wanted)


def format_time(seconds: float) -> str:
    minutes, rest = divmod(max(0.0, seconds), 60)
    return f"{int(minutes)}:{rest:05.2f}"


class FrameView(QWidget):
    """Paints one picture, fitted and centred on a dark ground, or a line of text."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("previewFrame")
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)
        self.setMinimumSize(160, 90)
        self._image: QImage | None = None
        self._message = "No clip selected"
        self._badge = ""
        self.overlay = None  # (painter, picture rect) -> None: drawn over the picture

    def sizeHint(self) -> QSize:
        return QSize(560, 315)

    def set_image(self, image: QImage | None, badge: str = "") -> None:
        self._image = image
        self._badge = badge
        if image is not None:
            self._message = ""
        self.update()

    def set_message(self, text: str, keep_image: bool = False) -> None:
        self._message = text
        if not keep_image:
            self._image = None
        self.update()

    def image(self) -> QImage | None:
        return self._image

    def message(self) -> str:
        return self._message

    def picture_rect(self) -> QRectF:
        """Where the picture is drawn, in widget pixels."""
        if self._image is None or self._image.isNull():
            return QRectF()
        w, h = self._image.width(), self._image.height()
        scale = min(self.width() / w, self.height() / h)
        dw, dh = w * scale, h * scale
        return QRectF((self.width() - dw) / 2, (self.height() - dh) / 2, dw, dh)

    def paintEvent(self, _event: QPaintEvent) -> None:
        painter = QPainter(self)
        painter.fillRect(self.rect(), QColor("#0d1117"))
        if self._image is not None and not self._image.isNull():
            painter.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform, True)
            target = self.picture_rect()
            painter.drawImage(target, self._image)
            if self.overlay is not None:
                self.overlay(painter, target)
            if self._badge:
                painter.setPen(QPen(QColor(88, 166, 255, 200), 1, Qt.PenStyle.DashLine))
                painter.drawRect(target.adjusted(0, 0, -1, -1))
                metrics = painter.fontMetrics()
                box = QRectF(target.left() + 6, target.top() + 6,
                             metrics.horizontalAdvance(self._badge) + 12, metrics.height() + 4)
                painter.fillRect(box, QColor(13, 17, 23, 190))
                painter.setPen(QColor("#e6edf3"))
                painter.drawText(box, Qt.AlignmentFlag.AlignCenter, self._badge)
        if self._message:
            painter.setPen(QColor("#8b949e"))
            painter.drawText(self.rect().adjusted(12, 12, -12, -12),
                             Qt.AlignmentFlag.AlignCenter | Qt.TextFlag.TextWordWrap,
                             self._message)
        painter.end()
