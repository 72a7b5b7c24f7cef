"""The trainer view's timeline: the frames a trainer loads from a clip, with the windows its
frame extraction cuts (the math is the core's, `curator.core.export.trainer_frames`)."""

from __future__ import annotations

from collections.abc import Sequence

from PySide6.QtCore import QPointF, QRectF, QSize, Qt, Signal
from PySide6.QtGui import QColor, QFont, QMouseEvent, QPainter, QPaintEvent, QPen
from PySide6.QtWidgets import QSizePolicy, QWidget

# --- the timeline -------------------------------------------------------------------------

WINDOW_COLORS = ("#3fb950", "#58a6ff", "#d29922", "#bc8cff", "#f778ba", "#39c5cf")


class FrameTimeline(QWidget):
    """A frame ruler under the picture: the playhead, and the trainer's windows when given.

    Positions are indices into the sequence the preview plays (source frames, or frames at
    the training fps). Click or drag to seek.
    """

    seek_requested = Signal(int)

    LANE = 7
    RULER = 16

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("frameTimeline")
        self._length = 0
        self._position = 0
        self._windows: tuple[tuple[int, int], ...] = ()
        self._loaded: int | None = None
        self._label = ""
        self._transitions: tuple[tuple[int, int], ...] = ()
        self.setMouseTracking(False)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)
        self.setMinimumHeight(self.RULER + 6)
        self.setCursor(Qt.CursorShape.PointingHandCursor)

    # what the view shows ---------------------------------------------------------------

    def set_length(self, length: int) -> None:
        self._length = max(0, length)
        self._position = min(self._position, max(0, self._length - 1))
        self.update()

    def set_position(self, position: int) -> None:
        if position != self._position:
            self._position = position
            self.update()

    def set_windows(self, windows: Sequence[tuple[int, int]], loaded: int | None = None,
                    label: str = "") -> None:
        """Show extraction windows (start, length) and where loading stops; () for none."""
        self._windows = tuple(windows)
        self._loaded = loaded
        self._label = label
        lanes = len(self._lanes())
        self.setFixedHeight(self.RULER + 6 + lanes * (self.LANE + 2) + (14 if lanes else 0))
        self.update()

    def windows(self) -> tuple[tuple[int, int], ...]:
        return self._windows

    def set_transitions(self, spans: Sequence[tuple[int, int]]) -> None:
        """Mark shot boundaries: (first, end) positions; a cut has first == end."""
        self._transitions = tuple(spans)
        self.update()

    def transitions(self) -> tuple[tuple[int, int], ...]:
        return self._transitions

    def _paint_transitions(self, painter: QPainter, ruler: QRectF) -> None:
        """A red band over a transition's frames, a red line at a cut."""
        for first, end in self._transitions:
            x0, x1 = self._x(first), self._x(max(end, first))
            painter.fillRect(QRectF(x0 - 1, ruler.top() - 2, max(2.0, x1 - x0 + 2),
                                    ruler.height() + 4), QColor(248, 81, 73, 200))

    def sizeHint(self) -> QSize:
        return QSize(400, self.minimumHeight())

    # geometry --------------------------------------------------------------------------

    def _lanes(self) -> list[list[tuple[int, int]]]:
        """Windows packed into lanes: one length per group, overlapping ones on new lanes."""
        lanes: list[list[tuple[int, int]]] = []
        for length in sorted({w[1] for w in self._windows}):
            group = sorted(w for w in self._windows if w[1] == length)
            group_lanes: list[list[tuple[int, int]]] = []
            for window in group:
                for lane in group_lanes:
                    if lane[-1][0] + lane[-1][1] <= window[0]:
                        lane.append(window)
                        break
                else:
                    if len(group_lanes) < 3:
                        group_lanes.append([window])
                    else:  # many overlapping windows (slide): draw them over each other
                        group_lanes[len(group) % 3].append(window)
            lanes.extend(group_lanes)
        return lanes

    def _x(self, frame: float) -> float:
        width = max(1, self.width() - 12)
        return 6 + width * (frame / max(1, self._length))

    def _frame_at(self, x: float) -> int:
        width = max(1, self.width() - 12)
        frame = int((x - 6) / width * self._length)
        return min(max(0, frame), max(0, self._length - 1))

    # painting and input ----------------------------------------------------------------

    def paintEvent(self, _event: QPaintEvent) -> None:
        painter = QPainter(self)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing, False)
        palette = self.palette()
        painter.fillRect(self.rect(), palette.window())
        n = self._length
        ruler = QRectF(6, 3, self.width() - 12, self.RULER - 4)
        painter.fillRect(ruler, QColor("#30363d"))
        if n > 0 and self._loaded is not None and self._loaded < n:
            # frames the trainer never loads (head mode reads only the first max(T))
            gone = QRectF(QPointF(self._x(self._loaded), ruler.top()), ruler.bottomRight())
            painter.fillRect(gone, QColor(0, 0, 0, 110))
        if n > 0:
            played = QRectF(ruler.left(), ruler.top(), self._x(self._position + 1) - ruler.left(),
                            ruler.height())
            painter.fillRect(played, QColor("#1f6feb"))
            # ticks every second-ish: 10, 16, 24, 50… whichever gives room
            step = next((s for s in (1, 2, 4, 5, 8, 10, 16, 20, 24, 25, 50, 100, 200, 500, 1000)
                         if ruler.width() / max(1, n) * s >= 5), 1000)
            painter.setPen(QColor(230, 237, 243, 70))
            for f in range(0, n + 1, step):
                x = self._x(f)
                painter.drawLine(QPointF(x, ruler.bottom() - 3), QPointF(x, ruler.bottom()))
            self._paint_transitions(painter, ruler)
        y = self.RULER + 4
        lanes = self._lanes()
        lengths = sorted({w[1] for w in self._windows})
        for lane in lanes:
            for start, length in lane:
                color = QColor(WINDOW_COLORS[lengths.index(length) % len(WINDOW_COLORS)])
                inside = start <= self._position < start + length
                color.setAlpha(255 if inside else 170)
                rect = QRectF(self._x(start), y, max(2.0, self._x(start + length) - self._x(start)),
                              self.LANE)
                painter.fillRect(rect, color)
                painter.setPen(QPen(QColor(13, 17, 23), 1))
                painter.drawRect(rect)
            y += self.LANE + 2
        if lanes:
            font = QFont(self.font())
            font.setPointSizeF(max(7.0, font.pointSizeF() - 1.5))
            painter.setFont(font)
            x = 6.0
            for i, length in enumerate(lengths):
                color = QColor(WINDOW_COLORS[i % len(WINDOW_COLORS)])
                painter.fillRect(QRectF(x, y + 3, 8, 8), color)
                text = f"{length} frame{'s' if length != 1 else ''}"
                painter.setPen(palette.text().color())
                painter.drawText(QPointF(x + 11, y + 11), text)
                x += 11 + painter.fontMetrics().horizontalAdvance(text) + 12
            if self._label:
                painter.setPen(palette.placeholderText().color())
                painter.drawText(QRectF(x, y, self.width() - x - 6, 14),
                                 Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter,
                                 self._label)
        if n > 0:
            x = self._x(self._position + 0.5)
            painter.setPen(QPen(QColor("#f0f6fc"), 2))
            painter.drawLine(QPointF(x, 1), QPointF(x, self.height() - (16 if lanes else 1)))
        painter.end()

    def mousePressEvent(self, event: QMouseEvent) -> None:
        if event.button() == Qt.MouseButton.LeftButton and self._length:
            self.seek_requested.emit(self._frame_at(event.position().x()))

    def mouseMoveEvent(self, event: QMouseEvent) -> None:
        if event.buttons() & Qt.MouseButton.LeftButton and self._length:
            self.seek_requested.emit(self._frame_at(event.position().x()))
