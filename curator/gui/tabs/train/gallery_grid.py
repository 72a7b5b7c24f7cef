"""The checkpoint picker's grid: one row per prompt, one column per checkpoint, painted by one
widget so playback is one timer tick and one repaint."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PySide6.QtCore import (
    QRectF,
    QSize,
    Qt,
    Signal,
)
from PySide6.QtGui import (
    QColor,
    QFont,
    QFontMetrics,
    QImage,
    QMouseEvent,
    QPainter,
    QPainterPath,
    QPaintEvent,
    QPalette,
    QPen,
)
from PySide6.QtWidgets import (
    QWidget,
)

from curator.core.training.samples import (
    SampleFile,
    SampleGallery,
)
from curator.gui.tabs.train.gallery_loader import (
    ACCENT,
    CELL_BG,
    DEFAULT_CELL_WIDTH,
    MUTED,
    FileKey,
    checkpoint_label,
)

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

    def sizeHint(self) -> QSize:
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

    def mousePressEvent(self, event: QMouseEvent) -> None:
        column = self.column_at(event.position().x())
        if event.button() == Qt.MouseButton.LeftButton and column is not None:
            self.column_clicked.emit(column)
        super().mousePressEvent(event)

    def mouseDoubleClickEvent(self, event: QMouseEvent) -> None:
        column, row = self.column_at(event.position().x()), self.row_at(event.position().y())
        if column is not None and row is not None and row < len(self.gallery.prompts):
            sample = self.gallery.cells.get((self.gallery.prompts[row],
                                             self.gallery.checkpoints[column]))
            if sample is not None:
                self.sample_activated.emit(sample)

    def mouseMoveEvent(self, event: QMouseEvent) -> None:
        column = self.column_at(event.position().x())
        if column != self._hover:
            self._hover = column
            self.setCursor(Qt.CursorShape.PointingHandCursor if column is not None
                           else Qt.CursorShape.ArrowCursor)
            self.update()

    def leaveEvent(self, event) -> None:
        self._hover = None
        self.update()
        super().leaveEvent(event)

    # --- painting ------------------------------------------------------------------------

    def paintEvent(self, event: QPaintEvent) -> None:
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


