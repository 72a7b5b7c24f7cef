"""The loss view (pyqtgraph): a finished run's log, a live feed, smoothing and zoom."""

from __future__ import annotations

from pathlib import Path

import pytest

from curator.core.training.loss import read_loss_log, smooth
from curator.gui.panels.loss_plot import LossPlot

DATA = Path(__file__).resolve().parents[1] / "data" / "training"
MUSUBI = DATA / "musubi_train_wan21_t2v_14b.log"


@pytest.fixture
def plot(qtbot) -> LossPlot:
    widget = LossPlot()
    qtbot.addWidget(widget)
    widget.resize(900, 300)
    return widget


def test_a_finished_runs_log_shows_its_curve_and_epoch_boxes(plot: LossPlot) -> None:
    log = plot.load_log(MUSUBI)
    assert plot.points == log.points and len(plot.points) == 12
    steps, values = plot.smooth_curve.getData()
    assert list(steps) == list(range(1, 13))
    assert list(values) == pytest.approx(smooth([v for _, v in log.points], plot.smoothing))
    assert [line.value() for line in plot._epoch_lines] == [6.5]  # epoch 2 starts at step 7
    # one box per epoch, from the first to the third quartile
    assert list(plot.boxes.opts["x"]) == [1.0, 2.0]
    first = log.epochs()[0].summary()
    assert plot.boxes.opts["y0"][0] == pytest.approx(first[1])
    assert plot.boxes.opts["height"][0] == pytest.approx(first[3] - first[1])
    assert list(plot.distance_bars.opts["x"]) == [2.0]
    assert list(plot.distance_bars.opts["height"]) == [1.0]
    assert len(plot.dots.data) == 12
    assert "musubi_train_wan21_t2v_14b.log" in plot.title.text()
    assert not plot.grab().isNull()


def test_the_live_feed_draws_as_steps_arrive(plot: LossPlot, qtbot) -> None:
    points = read_loss_log(MUSUBI).points
    for n in range(1, len(points) + 1):  # what the Train tab does after each output batch
        plot.set_points(points[:n], total_steps=12, steps_per_epoch=6.0)
    assert plot.points == points
    qtbot.waitUntil(lambda: len(plot.epochs) == 2, timeout=2000)  # redraws are coalesced
    assert plot.distances == [None, 1.0]
    plot.add_point(13, 0.09)  # past the announced total: a third epoch begins
    plot.redraw()
    assert [e.epoch for e in plot.epochs] == [1, 2, 3]
    plot.clear()
    plot.redraw()
    assert plot.points == [] and plot.epochs == [] and plot.empty_text.isVisible()


def test_the_slider_sets_the_smoothing(plot: LossPlot) -> None:
    plot.load_log(MUSUBI)
    raw = [v for _, v in plot.points]
    plot.smoothing_slider.setValue(0)
    plot.redraw()
    assert list(plot.smooth_curve.getData()[1]) == pytest.approx(raw)
    plot.smoothing_slider.setValue(90)
    plot.redraw()
    assert plot.smoothing == 0.9 and plot.smoothing_label.text() == "0.90"
    assert list(plot.smooth_curve.getData()[1]) == pytest.approx(smooth(raw, 0.9))


def test_zoom_and_fit(plot: LossPlot, qtbot) -> None:
    plot.load_log(MUSUBI)
    view = plot.curve_view.getViewBox()
    view.setXRange(3, 5, padding=0)
    assert view.viewRange()[0] == pytest.approx([3, 5])
    plot.fit()
    qtbot.waitUntil(lambda: view.viewRange()[0][0] <= 1 and view.viewRange()[0][1] >= 12,
                    timeout=2000)
