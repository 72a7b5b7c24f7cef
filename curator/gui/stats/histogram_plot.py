"""One histogram drawn with pyqtgraph, with its thresholds as lines; a rule's line can be dragged.

The bars and lines come from a core `Histogram`; the widget computes nothing. Dragging a
rule's line emits `threshold_moved` (throttled while dragging, and once more on release) so
the view can ask the core, off the GUI thread, how many pending clips the line would reject.
"""

from __future__ import annotations

import pyqtgraph as pg
from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QColor
from PySide6.QtWidgets import QLabel, QVBoxLayout, QWidget

from curator.core.stats import Histogram, Threshold
from curator.gui.latest import single_shot

BAR_COLOR = QColor("#2f81f7")
TAIL_COLOR = QColor("#1f6feb")
RULE_COLOR = QColor("#f85149")
TARGET_COLOR = QColor("#d29922")
TEXT_COLOR = "#8b949e"
BACKGROUND = "#0f1419"

#: While a line is dragged, at most one count is asked for per this many ms.
DRAG_THROTTLE_MS = 120
#: The x axis spans at least this many bar widths: one bucket (no clip holds overlay text,
#: every clip one picture size) is drawn as a bar, not as a block filling the plot.
MIN_SPAN_BARS = 10


def bar_geometry(hist: Histogram) -> tuple[list[float], list[float], list[int]]:
    """Left edges, widths and heights of the bars (pure: tested without a widget)."""
    lefts = list(hist.edges[:-1])
    widths = [b - a for a, b in zip(hist.edges, hist.edges[1:])]
    return lefts, widths, list(hist.counts)


def x_range(hist: Histogram) -> tuple[float, float]:
    """The x axis: the bins, widened to `MIN_SPAN_BARS` bars when there are fewer."""
    low, high = hist.edges[0], hist.edges[-1]
    return low, max(high, low + MIN_SPAN_BARS * (hist.edges[1] - hist.edges[0]))


def threshold_value(line_value: float, hist: Histogram) -> float:
    """A dragged line's value, snapped to whole frames on a frames histogram."""
    if hist.unit in ("frames", "words"):
        return float(max(1, round(line_value)))
    return round(line_value, 2)


class HistogramPlot(QWidget):
    """A titled histogram; `threshold_moved(key, value)` when a rule's line is dragged."""

    threshold_moved = Signal(str, float)  # histogram key, new value (dragging)
    threshold_released = Signal(str, float)  # histogram key, final value

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.histogram: Histogram | None = None
        self.title = QLabel()
        self.title.setObjectName("histogramTitle")
        self.title.setStyleSheet("font-weight: 600;")
        self.note = QLabel()
        self.note.setObjectName("histogramNote")
        self.note.setStyleSheet(f"color: {TEXT_COLOR};")
        self.plot = pg.PlotWidget(background=BACKGROUND)
        self.plot.setMenuEnabled(False)
        self.plot.setMouseEnabled(x=False, y=False)
        self.plot.hideButtons()
        self.plot.setMinimumHeight(150)
        for axis in ("left", "bottom"):
            self.plot.getAxis(axis).setTextPen(TEXT_COLOR)
            self.plot.getAxis(axis).setPen(TEXT_COLOR)
        self.bars: pg.BarGraphItem | None = None
        self.lines: dict[str, pg.InfiniteLine] = {}
        self.rule_key: str | None = None
        self._pending_value: float | None = None
        self._throttle = single_shot(DRAG_THROTTLE_MS, self._emit_drag, self)
        box = QVBoxLayout(self)
        box.setContentsMargins(4, 2, 4, 2)
        box.setSpacing(1)
        box.addWidget(self.title)
        box.addWidget(self.plot, 1)
        box.addWidget(self.note)

    def set_histogram(self, hist: Histogram) -> None:
        """Draw `hist`: bars, the tail bar in another shade, one line per threshold."""
        self.histogram = hist
        self.plot.clear()
        self.lines.clear()
        self.rule_key = None
        unit = f"  ·  {hist.unit}" if hist.unit and hist.unit not in hist.label else ""
        self.title.setText(f"{hist.label}{unit}")
        missing = f"  ·  {hist.missing:,} without a value" if hist.missing else ""
        tail = f"  ·  last bar: ≥ {hist.edges[-2]:g}" if hist.open_end and hist.edges else ""
        self.note.setText(f"{hist.total:,} clips{missing}{tail}")
        if not hist.counts:
            self.note.setText("no values yet" + missing)
            return
        lefts, widths, heights = bar_geometry(hist)
        brushes = [pg.mkBrush(BAR_COLOR)] * len(heights)
        if hist.open_end:
            brushes[-1] = pg.mkBrush(TAIL_COLOR)
        self.bars = pg.BarGraphItem(x0=lefts, width=[w * 0.92 for w in widths], height=heights,
                                    brushes=brushes, pen=pg.mkPen(None))
        self.plot.addItem(self.bars)
        for threshold in hist.thresholds:
            self._add_line(threshold)
        self.plot.setXRange(*x_range(hist), padding=0.02)
        self.plot.setYRange(0, max(heights) * 1.08 or 1, padding=0)

    def _add_line(self, threshold: Threshold) -> None:
        movable = bool(threshold.rejects)
        color = RULE_COLOR if movable else TARGET_COLOR
        line = pg.InfiniteLine(
            pos=threshold.value, angle=90, movable=movable,
            pen=pg.mkPen(color, width=2, style=Qt.PenStyle.SolidLine if movable
                         else Qt.PenStyle.DashLine),
            hoverPen=pg.mkPen(color.lighter(140), width=3),
            # Targets label lower than the rule, so 21, 45 and a dragged rule never overlap.
            label=f"{threshold.value:g}", labelOpts={"position": 0.95 if movable else 0.8,
                                                     "color": color, "movable": False})
        line.setZValue(10)  # over the bars
        line.setToolTip(threshold.label + ("  (drag to try another value)" if movable else ""))
        self.plot.addItem(line)
        self.lines[threshold.key] = line
        if movable:
            self.rule_key = threshold.key
            line.sigPositionChanged.connect(self._on_drag)
            line.sigPositionChangeFinished.connect(self._on_release)

    def rule_line(self) -> pg.InfiniteLine | None:
        return self.lines.get(self.rule_key) if self.rule_key else None

    def move_rule(self, value: float) -> None:
        """Put the rule's line at `value` as a drag would (tests and keyboard use)."""
        line = self.rule_line()
        if line is not None:
            line.setValue(value)
            self._on_release(line)

    def _on_drag(self, line: pg.InfiniteLine) -> None:
        if self.histogram is None:
            return
        value = threshold_value(line.value(), self.histogram)
        line.label.setText(f"{value:g}")
        self._pending_value = value
        if not self._throttle.isActive():
            self._throttle.start()

    def _emit_drag(self) -> None:
        if self._pending_value is not None and self.histogram is not None:
            self.threshold_moved.emit(self.histogram.key, self._pending_value)

    def _on_release(self, line: pg.InfiniteLine) -> None:
        if self.histogram is None:
            return
        self._throttle.stop()
        value = threshold_value(line.value(), self.histogram)
        self._pending_value = None
        line.label.setText(f"{value:g}")
        self.threshold_released.emit(self.histogram.key, value)
