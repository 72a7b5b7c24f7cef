"""The Train tab's loss view, drawn with pyqtgraph: the step curve and each epoch's distribution.

Left, the loss of every step (faint) and its smoothed curve (TensorBoard's debiased EMA; the
slider sets its weight), with epoch boundaries; the mouse wheel zooms, a drag pans, "Fit"
shows everything again. Right, one box per epoch (quartiles, median, whiskers to the extremes)
over the epoch's values, and between consecutive epochs their Kolmogorov–Smirnov distance:
values falling toward 0 mean the epochs' losses look alike, the sign a person watches for.

The numbers (smoothing, epochs, distances, reading a log file) come from
`curator.core.training.loss`; this module only draws them. Points arrive from the GUI thread
as the trainer's output is read; redraws are coalesced to a few per second.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from pathlib import Path

import pyqtgraph as pg
from PySide6.QtCore import QSize, Qt, QTimer
from PySide6.QtGui import QColor, QPalette
from PySide6.QtWidgets import (
    QFileDialog,
    QHBoxLayout,
    QLabel,
    QSizePolicy,
    QSlider,
    QSplitter,
    QToolButton,
    QWidget,
)

from curator.core.training.loss import (
    DEFAULT_SMOOTHING,
    EpochLosses,
    LossLog,
    epoch_distances,
    format_loss,
    read_loss_log,
    smooth,
    split_epochs,
)
from curator.gui.widgets.layout import flush_column

__all__ = ["DEFAULT_SMOOTHING", "LossPlot", "format_loss", "smooth"]

RAW_COLOR = QColor(88, 166, 255, 70)
SMOOTH_COLOR = QColor("#58a6ff")
EPOCH_COLOR = QColor(255, 255, 255, 45)
BOX_COLOR = QColor(88, 166, 255, 70)
MEDIAN_COLOR = QColor("#f0f6fc")
DOT_COLOR = QColor(88, 166, 255, 110)
LABEL_COLOR = QColor("#8b949e")
REDRAW_MS = 200
MAX_DOTS_PER_EPOCH = 300  # a strip of each epoch's values; more would only be a smear
MAX_EPOCH_LABELS = 12


class LossPlot(QWidget):
    """Loss per training step (raw and smoothed, zoomable) and per-epoch distributions.

    Public API (the Train tab's): `set_points`, `add_point`, `clear`, `points`,
    `steps_per_epoch`, `total_steps`; and `load_log` for a finished run's log file.
    """

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("lossPlot")
        self.setMinimumSize(320, 160)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)
        self._steps: list[int] = []
        self._losses: list[float] = []
        self._smoothed: list[float] | None = None
        self.total_steps: int | None = None
        self.steps_per_epoch: float | None = None
        self.epoch_starts: dict[int, int] = {}
        self.smoothing = DEFAULT_SMOOTHING
        self.epochs: list[EpochLosses] = []
        self.distances: list[float | None] = []
        self._redraw_timer = QTimer(self, singleShot=True, interval=REDRAW_MS)
        self._redraw_timer.timeout.connect(self.redraw)
        self._build()

    # --- layout ------------------------------------------------------------------------

    def _build(self) -> None:
        box = flush_column(self, 4)
        bar = QHBoxLayout()
        self.title = QLabel("Loss")
        self.title.setObjectName("lossTitle")
        bar.addWidget(self.title)
        bar.addStretch(1)
        bar.addWidget(QLabel("Smoothing"))
        self.smoothing_slider = QSlider(Qt.Orientation.Horizontal)
        self.smoothing_slider.setObjectName("lossSmoothing")
        self.smoothing_slider.setRange(0, 99)
        self.smoothing_slider.setValue(round(self.smoothing * 100))
        self.smoothing_slider.setFixedWidth(140)
        self.smoothing_slider.setToolTip("Weight of the exponential moving average "
                                         "(0: the raw values)")
        self.smoothing_slider.valueChanged.connect(lambda v: self.set_smoothing(v / 100))
        bar.addWidget(self.smoothing_slider)
        self.smoothing_label = QLabel(f"{self.smoothing:.2f}")
        self.smoothing_label.setMinimumWidth(32)
        bar.addWidget(self.smoothing_label)
        self.fit_button = QToolButton(text="Fit", toolTip="Show every step again after a zoom")
        self.fit_button.clicked.connect(self.fit)
        bar.addWidget(self.fit_button)
        self.open_button = QToolButton(text="Open log…",
                                       toolTip="Show the loss of a finished run's log file")
        self.open_button.clicked.connect(self._ask_log)
        bar.addWidget(self.open_button)
        box.addLayout(bar)
        background = self.palette().color(QPalette.ColorRole.Base)
        split = QSplitter(Qt.Orientation.Horizontal)
        split.setChildrenCollapsible(False)
        split.addWidget(self._build_curve(background))
        split.addWidget(self._build_epochs(background))
        split.setStretchFactor(0, 3)
        split.setStretchFactor(1, 2)
        box.addWidget(split, 1)
        self.note = QLabel("Per epoch: box = quartiles, white line = median, whiskers = "
                           "extremes. KS: distance to the epoch before (0 = alike, a sign of "
                           "overfitting).")
        self.note.setObjectName("lossNote")
        self.note.setStyleSheet(f"color: {LABEL_COLOR.name()};")
        box.addWidget(self.note)

    def _build_curve(self, background: QColor) -> QWidget:
        self.curve_view = pg.PlotWidget(background=background)
        self.curve_view.setObjectName("lossCurve")
        self.curve_view.setMouseEnabled(x=True, y=True)
        self.curve_view.showGrid(x=True, y=True, alpha=0.12)
        self.curve_view.setLabel("bottom", "step")
        self.curve_view.getPlotItem().hideButtons()
        self.raw_curve = self.curve_view.plot(pen=pg.mkPen(RAW_COLOR, width=1))
        self.smooth_curve = self.curve_view.plot(pen=pg.mkPen(SMOOTH_COLOR, width=2))
        self.empty_text = pg.TextItem("The loss curve appears once training steps are "
                                      "reported.", color=LABEL_COLOR, anchor=(0.5, 0.5))
        self.curve_view.addItem(self.empty_text)
        self._epoch_lines: list[pg.InfiniteLine] = []
        return self.curve_view

    def _build_epochs(self, background: QColor) -> QWidget:
        self.epoch_view = pg.PlotWidget(background=background)
        self.epoch_view.setObjectName("lossEpochs")
        self.epoch_view.showGrid(y=True, alpha=0.12)
        self.epoch_view.getPlotItem().hideButtons()
        self.epoch_view.setMouseEnabled(x=True, y=True)
        self.boxes = pg.BarGraphItem(x=[], height=[], width=0.6, y0=[],
                                     brush=BOX_COLOR, pen=pg.mkPen(SMOOTH_COLOR, width=1))
        self.whiskers = pg.PlotCurveItem(pen=pg.mkPen(SMOOTH_COLOR, width=1), connect="pairs")
        self.medians = pg.PlotCurveItem(pen=pg.mkPen(MEDIAN_COLOR, width=2), connect="pairs")
        self.dots = pg.ScatterPlotItem(size=3, pen=None, brush=pg.mkBrush(DOT_COLOR))
        for item in (self.boxes, self.dots, self.whiskers, self.medians):
            self.epoch_view.addItem(item)
        # Below the boxes, on the same epoch axis: each epoch's distance to the one before.
        self.distance_view = pg.PlotWidget(background=background)
        self.distance_view.setObjectName("lossDistances")
        self.distance_view.getPlotItem().hideButtons()
        self.distance_view.setMaximumHeight(90)
        self.distance_view.setLabel("left", "KS")
        self.distance_view.setLabel("bottom", "epoch")
        self.distance_view.setYRange(0, 1, padding=0.05)
        self.distance_view.setMouseEnabled(x=True, y=False)
        self.distance_view.getAxis("left").setTicks([[(0, "0"), (0.5, "0.5"), (1, "1")]])
        self.distance_view.getAxis("left").setWidth(self.epoch_view.getAxis("left").width())
        self.distance_view.setXLink(self.epoch_view)
        self.distance_bars = pg.BarGraphItem(x=[], height=[], width=0.6, brush=BOX_COLOR,
                                             pen=pg.mkPen(SMOOTH_COLOR, width=1))
        self.distance_view.addItem(self.distance_bars)
        self.distance_view.setToolTip("Kolmogorov–Smirnov distance between an epoch's losses "
                                      "and the epoch before: 0 = the same distribution")
        right = QWidget()
        column = flush_column(right, 0)
        column.addWidget(self.epoch_view, 1)
        column.addWidget(self.distance_view)
        return right

    def sizeHint(self) -> QSize:
        return QSize(720, 260)

    # --- data --------------------------------------------------------------------------

    @property
    def points(self) -> list[tuple[int, float]]:
        return list(zip(self._steps, self._losses, strict=True))

    @property
    def smoothed(self) -> list[float]:
        """The smoothed curve at the current weight."""
        if self._smoothed is None:
            self._smoothed = smooth(self._losses, self.smoothing)
        return self._smoothed

    def clear(self) -> None:
        self._steps, self._losses, self._smoothed = [], [], None
        self.total_steps = self.steps_per_epoch = None
        self.epoch_starts = {}
        self._schedule()

    def set_points(self, points: Sequence[tuple[int, float]], *,
                   total_steps: int | None = None, steps_per_epoch: float | None = None,
                   epoch_starts: dict[int, int] | None = None) -> None:
        """Replace the curve (points in step order, one per step)."""
        self._steps = [int(s) for s, _ in points]
        self._losses = [float(v) for _, v in points]
        self._smoothed = None
        self.total_steps = total_steps
        self.steps_per_epoch = steps_per_epoch
        self.epoch_starts = dict(epoch_starts or {})
        self._schedule()

    def add_point(self, step: int, loss: float) -> None:
        """Append one step (a repeated step replaces its value: tqdm redraws a step twice)."""
        if self._steps and self._steps[-1] == step:
            self._losses[-1] = float(loss)
        else:
            self._steps.append(int(step))
            self._losses.append(float(loss))
        # Smoothing all again is O(steps), but only at redraws, a few times a second at most.
        self._smoothed = None
        self._schedule()

    def set_smoothing(self, weight: float) -> None:
        self.smoothing = min(0.99, max(0.0, float(weight)))
        self.smoothing_label.setText(f"{self.smoothing:.2f}")
        if self.smoothing_slider.value() != round(self.smoothing * 100):
            self.smoothing_slider.setValue(round(self.smoothing * 100))
        self._smoothed = None
        self._schedule()

    def load_log(self, path: Path) -> LossLog:
        """Show the loss of a finished run from its log file.

        Raises:
            OSError: the file cannot be read.
        """
        log = read_loss_log(path)
        self.set_points(log.points, total_steps=log.total_steps,
                        steps_per_epoch=log.steps_per_epoch, epoch_starts=log.epoch_starts)
        self.title.setText(f"Loss · {Path(path).name}")
        self.redraw()
        self.fit()
        return log

    def _ask_log(self) -> None:
        name, _ = QFileDialog.getOpenFileName(self, "Open a training log", "",
                                              "Logs (*.log *.txt);;All files (*)")
        if name:
            try:
                self.load_log(Path(name))
            except OSError as exc:
                self.title.setText(f"Loss · cannot read {Path(name).name}: "
                                   f"{exc.strerror or exc}")

    # --- drawing -----------------------------------------------------------------------

    def _schedule(self) -> None:
        if not self._redraw_timer.isActive():
            self._redraw_timer.start()

    def fit(self) -> None:
        """Show all steps and all epochs (after a zoom)."""
        for view in (self.curve_view, self.epoch_view):
            view.getViewBox().autoRange()
            view.enableAutoRange()  # and keep following new steps until the next zoom

    def redraw(self) -> None:
        """Draw the current points now (normally done by the coalescing timer)."""
        self._redraw_timer.stop()
        self.empty_text.setVisible(not self._steps)
        self.raw_curve.setData(self._steps, self._losses)
        self.smooth_curve.setData(self._steps, self.smoothed)
        self.epochs = split_epochs(self.points, self.steps_per_epoch, self.epoch_starts)
        self.distances = epoch_distances(self.epochs)
        self._draw_epoch_lines()
        self._draw_boxes()

    def _epoch_boundaries(self) -> list[float]:
        if self.epoch_starts:
            return [step - 0.5 for epoch, step in sorted(self.epoch_starts.items()) if epoch > 1]
        if not self.steps_per_epoch or not self._steps:
            return []
        last = max(self._steps[-1], self.total_steps or 0)
        count = int(last / self.steps_per_epoch + 1e-9)
        return [k * self.steps_per_epoch + 0.5 for k in range(1, count + 1)
                if k * self.steps_per_epoch < last]

    def _draw_epoch_lines(self) -> None:
        for line in self._epoch_lines:
            self.curve_view.removeItem(line)
        pen = pg.mkPen(EPOCH_COLOR, width=1, style=Qt.PenStyle.DashLine)
        self._epoch_lines = [pg.InfiniteLine(pos=x, angle=90, pen=pen)
                             for x in self._epoch_boundaries()]
        for line in self._epoch_lines:
            self.curve_view.addItem(line)

    def _draw_boxes(self) -> None:
        epochs = self.epochs
        summaries = [e.summary() for e in epochs]
        xs = [float(e.epoch) for e in epochs]
        self.boxes.setOpts(x=xs, y0=[s[1] for s in summaries],
                           height=[max(s[3] - s[1], 1e-12) for s in summaries], width=0.6)
        whisker_x, whisker_y, median_x, median_y = [], [], [], []
        for x, (low, _, median, _, high) in zip(xs, summaries, strict=True):
            whisker_x += [x, x]
            whisker_y += [low, high]
            median_x += [x - 0.3, x + 0.3]
            median_y += [median, median]
        self.whiskers.setData(whisker_x, whisker_y)
        self.medians.setData(median_x, median_y)
        dots_x, dots_y = [], []
        for epoch in epochs:
            stride = max(1, math.ceil(epoch.count / MAX_DOTS_PER_EPOCH))
            for i, value in enumerate(epoch.losses[::stride]):
                # a fixed golden-ratio jitter: the strip looks the same on every redraw
                dots_x.append(epoch.epoch + ((i * 0.618034) % 1.0 - 0.5) * 0.5)
                dots_y.append(value)
        self.dots.setData(dots_x, dots_y)
        measured = [(float(e.epoch), d) for e, d in zip(epochs, self.distances, strict=True)
                    if d is not None]
        self.distance_bars.setOpts(x=[x for x, _ in measured], height=[d for _, d in measured],
                                   width=0.6)
        every = max(1, math.ceil(len(epochs) / MAX_EPOCH_LABELS))
        ticks = [(e.epoch, str(e.epoch)) for k, e in enumerate(epochs) if k % every == 0]
        for view in (self.epoch_view, self.distance_view):
            view.getAxis("bottom").setTicks([ticks])

