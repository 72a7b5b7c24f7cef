"""A small loss-curve widget painted with QPainter: raw loss, a smoothed line, epoch marks.

The trainer's `avr_loss` is already a running mean, but over thousands of steps it still
wanders; the smoothed line is TensorBoard's debiased exponential moving average, so the two
views of a run agree. Points arrive from the GUI thread (the Train panel feeds what the
progress parser read); painting never allocates more than one polyline per curve.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

from PySide6.QtCore import QPointF, QRectF, QSize, Qt
from PySide6.QtGui import (
    QColor,
    QFont,
    QFontMetrics,
    QPainter,
    QPaintEvent,
    QPalette,
    QPen,
    QPolygonF,
)
from PySide6.QtWidgets import QSizePolicy, QWidget

RAW_COLOR = QColor(88, 166, 255, 90)
SMOOTH_COLOR = QColor("#58a6ff")
GRID_COLOR = QColor(255, 255, 255, 22)
EPOCH_COLOR = QColor(255, 255, 255, 40)
LABEL_COLOR = QColor("#8b949e")
DEFAULT_SMOOTHING = 0.6

#: Above this many points the curves are drawn from one min/max pair per pixel column.
_DECIMATE_ABOVE = 4000


def smooth(values: Sequence[float], weight: float = DEFAULT_SMOOTHING) -> list[float]:
    """TensorBoard's debiased exponential moving average (weight 0 = no smoothing).

    The debiasing divides by `1 - weight**n`, so the first points are not pulled toward 0.
    """
    if not 0.0 <= weight < 1.0:
        raise ValueError("weight must be in [0, 1)")
    out: list[float] = []
    last = 0.0
    for n, value in enumerate(values, start=1):
        if not math.isfinite(value):
            out.append(out[-1] if out else value)  # a nan step must not poison the curve
            continue
        last = last * weight + (1.0 - weight) * value
        out.append(last / (1.0 - weight ** n) if weight else last)
    return out


def nice_ticks(low: float, high: float, count: int = 5) -> list[float]:
    """About `count` round tick values (1, 2 or 5 times a power of ten) within [low, high]."""
    if not (math.isfinite(low) and math.isfinite(high)):
        return []
    if high < low:
        low, high = high, low
    if high == low:
        return [low]
    raw = (high - low) / max(1, count)
    power = 10 ** math.floor(math.log10(raw))

    def ticks_with(step: float) -> int:
        return math.floor(high / step + 1e-9) - math.ceil(low / step - 1e-9) + 1

    # The round step whose tick count is nearest the wish (the larger step on a tie).
    step = min((m * power for m in (1, 2, 5, 10)),
               key=lambda s: (abs(ticks_with(s) - count), -s))
    first = math.ceil(low / step - 1e-9) * step
    ticks = []
    value = first
    while value <= high + step * 1e-9:
        ticks.append(round(value, 12))
        value += step
    return ticks


def format_loss(value: float) -> str:
    """Enough digits to tell neighbouring ticks apart without noise ('0.085', '1.2e-05')."""
    if value == 0:
        return "0"
    magnitude = abs(value)
    if magnitude >= 100 or magnitude < 1e-3:
        return f"{value:.2g}" if magnitude >= 100 else f"{value:.1e}"
    return f"{value:.4f}".rstrip("0").rstrip(".") if magnitude < 1 else f"{value:.2f}"


def format_step(value: float) -> str:
    value = int(round(value))
    return f"{value / 1000:g}k" if value >= 10_000 and value % 1000 == 0 else f"{value}"


def loss_range(losses: Sequence[float]) -> tuple[float, float]:
    """The y range shown: all finite values, padded by 8 % so the curve never touches a border."""
    finite = [v for v in losses if math.isfinite(v)]
    if not finite:
        return 0.0, 1.0
    low, high = min(finite), max(finite)
    if high == low:
        pad = abs(high) * 0.1 or 0.1
    else:
        pad = (high - low) * 0.08
    return max(0.0, low - pad) if low >= 0 else low - pad, high + pad


class LossPlot(QWidget):
    """Loss per training step, with the smoothed curve, epoch boundaries and the last value."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("lossPlot")
        self.setMinimumSize(260, 140)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)
        self._steps: list[int] = []
        self._losses: list[float] = []
        self._smoothed: list[float] = []
        self.total_steps: int | None = None
        self.steps_per_epoch: int | None = None
        self.smoothing = DEFAULT_SMOOTHING
        self.empty_text = "The loss curve appears once training steps are reported."

    # --- data --------------------------------------------------------------------------

    @property
    def points(self) -> list[tuple[int, float]]:
        return list(zip(self._steps, self._losses))

    def clear(self) -> None:
        self._steps, self._losses, self._smoothed = [], [], []
        self.total_steps = self.steps_per_epoch = None
        self.update()

    def set_points(self, points: Sequence[tuple[int, float]], *,
                   total_steps: int | None = None, steps_per_epoch: int | None = None) -> None:
        """Replace the curve (points in step order, one per step)."""
        self._steps = [int(s) for s, _ in points]
        self._losses = [float(v) for _, v in points]
        self._smoothed = smooth(self._losses, self.smoothing)
        self.total_steps = total_steps
        self.steps_per_epoch = steps_per_epoch
        self.update()

    def add_point(self, step: int, loss: float) -> None:
        """Append one step (a repeated step replaces its value: tqdm redraws a step twice)."""
        if self._steps and self._steps[-1] == step:
            self._losses[-1] = float(loss)
            self._smoothed = smooth(self._losses, self.smoothing)
        else:
            self._steps.append(int(step))
            self._losses.append(float(loss))
            prev = self._smoothed[-1] if self._smoothed else None
            n = len(self._losses)
            w = self.smoothing
            if prev is None or not w:
                self._smoothed = smooth(self._losses, w)
            else:
                # Undo the previous debiasing, step the EMA once, debias again: O(1) per point.
                biased = prev * (1.0 - w ** (n - 1))
                value = float(loss) if math.isfinite(loss) else prev
                self._smoothed.append((biased * w + (1.0 - w) * value) / (1.0 - w ** n))
        self.update()

    def sizeHint(self) -> QSize:
        return QSize(520, 220)

    # --- painting ----------------------------------------------------------------------

    def _x_range(self) -> tuple[float, float]:
        last = self._steps[-1] if self._steps else 1
        high = max(self.total_steps or 0, last, 1)
        low = min(self._steps[0], 0) if self._steps else 0
        return float(low), float(high)

    def paintEvent(self, event: QPaintEvent) -> None:
        painter = QPainter(self)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        palette = self.palette()
        painter.fillRect(self.rect(), palette.color(QPalette.ColorRole.Base))
        font = QFont(self.font())
        font.setPointSizeF(max(7.5, font.pointSizeF() - 1.5))
        painter.setFont(font)
        metrics = QFontMetrics(font)
        if not self._steps:
            painter.setPen(LABEL_COLOR)
            painter.drawText(self.rect().adjusted(12, 12, -12, -12),
                             Qt.AlignmentFlag.AlignCenter | Qt.TextFlag.TextWordWrap,
                             self.empty_text)
            painter.end()
            return

        y_low, y_high = loss_range(self._losses)
        y_ticks = nice_ticks(y_low, y_high, max(2, self.height() // 45))
        label_width = max((metrics.horizontalAdvance(format_loss(t)) for t in y_ticks),
                          default=30)
        header = metrics.height() + 8
        plot = QRectF(label_width + 14, header, self.width() - label_width - 26,
                      self.height() - header - metrics.height() - 12)
        if plot.width() < 20 or plot.height() < 20:
            painter.end()
            return
        x_low, x_high = self._x_range()

        def px(step: float) -> float:
            return plot.left() + (step - x_low) / max(1e-9, x_high - x_low) * plot.width()

        def py(loss: float) -> float:
            loss = min(max(loss, y_low), y_high)
            return plot.bottom() - (loss - y_low) / max(1e-12, y_high - y_low) * plot.height()

        # Grid and axis labels.
        painter.setPen(QPen(GRID_COLOR, 1))
        for tick in y_ticks:
            y = py(tick)
            painter.drawLine(QPointF(plot.left(), y), QPointF(plot.right(), y))
        painter.setPen(LABEL_COLOR)
        for tick in y_ticks:
            y = py(tick)
            painter.drawText(QRectF(0, y - metrics.height() / 2, label_width + 8,
                                    metrics.height()),
                             Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter,
                             format_loss(tick))
        x_ticks = [t for t in nice_ticks(x_low, x_high, max(2, int(plot.width()) // 90))
                   if float(t).is_integer()]
        for tick in x_ticks:
            x = px(tick)
            painter.drawText(QRectF(x - 40, plot.bottom() + 4, 80, metrics.height()),
                             Qt.AlignmentFlag.AlignHCenter | Qt.AlignmentFlag.AlignTop,
                             format_step(tick))

        # Epoch boundaries, labelled at the top while there is room for the labels.
        if self.steps_per_epoch and self.steps_per_epoch > 0:
            epochs = int(x_high // self.steps_per_epoch)
            spacing = self.steps_per_epoch / max(1e-9, x_high - x_low) * plot.width()
            label_every = max(1, math.ceil(metrics.horizontalAdvance("e00") * 1.6 / spacing))
            pen = QPen(EPOCH_COLOR, 1, Qt.PenStyle.DashLine)
            for epoch in range(1, epochs + 1):
                x = px(epoch * self.steps_per_epoch)
                if x > plot.right() + 0.5:
                    break
                painter.setPen(pen)
                painter.drawLine(QPointF(x, plot.top()), QPointF(x, plot.bottom()))
                if epoch % label_every == 0:
                    painter.setPen(LABEL_COLOR)
                    painter.drawText(QRectF(x - 31, plot.top() + 1, 28, metrics.height()),
                                     Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignTop,
                                     f"e{epoch}")

        painter.setClipRect(plot.adjusted(-2, -2, 2, 2))
        painter.setPen(QPen(RAW_COLOR, 1.2))
        painter.drawPolyline(self._polyline(self._losses, px, py, plot))
        painter.setPen(QPen(SMOOTH_COLOR, 2.0))
        painter.drawPolyline(self._polyline(self._smoothed, px, py, plot))
        last = QPointF(px(self._steps[-1]), py(self._smoothed[-1]))
        painter.setBrush(SMOOTH_COLOR)
        painter.setPen(Qt.PenStyle.NoPen)
        painter.drawEllipse(last, 3.5, 3.5)
        painter.setClipping(False)

        # The numbers a person looks for: the latest loss and where the smoothed curve is.
        painter.setPen(palette.color(QPalette.ColorRole.Text))
        summary = (f"loss {format_loss(self._losses[-1])}   smoothed "
                   f"{format_loss(self._smoothed[-1])}   step {self._steps[-1]}"
                   + (f"/{self.total_steps}" if self.total_steps else ""))
        painter.drawText(QRectF(plot.left(), 2, plot.width(), metrics.height() + 2),
                         Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter, summary)
        painter.end()

    def _polyline(self, values: Sequence[float], px, py, plot: QRectF) -> QPolygonF:
        steps = self._steps
        if len(values) <= _DECIMATE_ABOVE:
            return QPolygonF([QPointF(px(s), py(v)) for s, v in zip(steps, values)
                              if math.isfinite(v)])
        # One min/max pair per pixel column keeps spikes visible at any length.
        columns: dict[int, tuple[float, float, float]] = {}
        for s, v in zip(steps, values):
            if not math.isfinite(v):
                continue
            column = int(px(s))
            low, high, _ = columns.get(column, (v, v, v))
            columns[column] = (min(low, v), max(high, v), v)
        points = []
        for column in sorted(columns):
            low, high, _ = columns[column]
            points += [QPointF(column, py(high)), QPointF(column, py(low))]
        return QPolygonF(points)
