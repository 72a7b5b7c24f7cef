"""The Stats view on a catalog with known distributions: bars, lines, drags and phrase clicks."""

from __future__ import annotations

import shutil

import pytest
from PySide6.QtCore import Qt

from curator.core.catalog import Catalog
from curator.core.project import Project
from curator.core.stats import Histogram
from curator.gui.dialogs.find_replace import FindReplaceDialog
from curator.gui.stats import StatsView
from curator.gui.stats.histogram_plot import bar_geometry, threshold_value
from curator.gui.stats.models import SORT_ROLE
from tests.stats_fixtures import build_known


@pytest.fixture(scope="module")
def known_file(tmp_path_factory):
    root = tmp_path_factory.mktemp("known")
    catalog = Catalog.for_project(root)
    build_known(catalog)
    with catalog.engine.connect() as connection:
        connection.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
    catalog.close()
    return root / "curator.db"


@pytest.fixture
def known_project(project: Project, known_file):
    shutil.copy(known_file, project.root / "curator.db")
    return project


@pytest.fixture
def view(qtbot, known_project):
    widget = StatsView(known_project.catalog, known_project.root)
    qtbot.addWidget(widget)
    widget.resize(1600, 900)
    with qtbot.waitSignal(widget.stats_shown, timeout=10_000):
        widget.show()
    yield widget
    widget.shutdown()


def test_pure_helpers():
    hist = Histogram("frames", "frames", "frames", (5, 9, 13), (2, 3))
    assert bar_geometry(hist) == ([5, 9], [4, 4], [2, 3])
    assert threshold_value(44.6, hist) == 45.0 and threshold_value(0.2, hist) == 1.0
    motion = Histogram("motion", "m", "px per 1/16 s", (0, 1), (1,))
    assert threshold_value(0.4567, motion) == 0.46


def test_view_draws_every_histogram_with_its_lines(view):
    frames = view.plots["frames"]
    assert frames.histogram.counts == view.stats.histograms["frames"].counts
    heights = frames.bars.opts["height"]
    assert list(heights) == list(view.stats.histograms["frames"].counts)
    # the plan's targets dashed, the rule's line red and draggable
    assert frames.rule_key == "min_frames" and frames.rule_line().movable
    assert view.plots["motion"].rule_line().value() == 0.5
    assert view.plots["motion_p95"].rule_line().value() == 12.0
    assert view.plots["caption_words"].histogram.total == 5
    assert view.summary.text() == "10 clips"
    assert "1920×1040</td><td align='right'>&nbsp;7" in view.sizes.text()
    assert view.plots["text_share"].rule_line().value() == 0.0
    assert "6 pending · 1 accepted · 3 rejected" in view.decisions.text()
    assert "1 without the trigger" in view.caption_summary.text()
    assert view.phrase_model.rowCount() == len(view.stats.captions.phrases())
    counts = [view.phrase_sorter.index(r, 2).data(SORT_ROLE)
              for r in range(view.phrase_sorter.rowCount())]
    assert counts == sorted(counts, reverse=True)  # most captions first


def test_dragging_a_rule_counts_and_lists_pending_clips(qtbot, view):
    plot = view.plots["motion"]
    with qtbot.waitSignal(view._counter.finished, timeout=5000):
        plot.move_rule(1.0)
    # pending clips with motion below 1.0: clips 1 (0.2), 2 (0.45), 3 (0.5)
    assert "3 pending clips would be rejected" in view.what_if.text()
    assert view.clip_model.ids == [1, 2, 3]
    with qtbot.waitSignal(view.clip_activated, timeout=2000) as opened:
        view.clip_list.doubleClicked.emit(view.clip_model.index(1))
    assert opened.args == [2]

    with qtbot.waitSignal(view._counter.finished, timeout=5000):
        view.plots["frames"].move_rule(45)
    # pending clips under 45 frames at 16 fps: 1, 2, 3, 4 (20, 21, 21, 44)
    assert view.clip_model.ids == [1, 2, 3, 4]
    with qtbot.waitSignal(view._counter.finished, timeout=5000):
        view.plots["text_share"].move_rule(0.3)
    assert view.clip_model.ids == [4, 6]  # text in half and in all of their frames


def test_phrase_click_and_lists(qtbot, view):
    model = view.phrase_model
    row = next(r for r in range(model.rowCount()) if model.row_at(r).phrase == "the video shows")
    shown = view.phrase_sorter.mapFromSource(model.index(row, 1))  # the table shows it sorted
    with qtbot.waitSignal(view.phrase_chosen, timeout=2000) as chosen:
        view.phrase_table.clicked.emit(shown)
    assert chosen.args == ["the video shows"]
    view.list_missing_trigger()
    assert view.clip_model.ids == [4]
    view.list_near_duplicates()
    assert view.clip_model.ids == [1, 2]


def test_window_stats_tab_filters_the_browser_for_find_and_replace(qtbot, make_window,
                                                                   known_project):
    window = make_window(known_project)
    with qtbot.waitSignal(window.stats_view.stats_shown, timeout=10_000):
        qtbot.keyClick(window, Qt.Key.Key_5, Qt.KeyboardModifier.ControlModifier)
    assert window.workspaces.current() == "stats"
    window.stats_view.phrase_chosen.emit("quiet street")
    assert window.workspaces.current() == "curate"
    assert window.tabs.currentWidget() is window.browser
    qtbot.waitUntil(lambda: window.model.rowCount() == 1, timeout=5000)
    assert window.browser.filters.search.text() == "quiet street"
    window.find_replace_dialog()  # Ctrl+H: the phrase is already in the find field
    found = window.findChild(FindReplaceDialog)
    assert found is not None and found.find_edit.text() == "quiet street"
    found.close()


def test_one_bucket_is_a_bar_not_a_block(qtbot):
    """Every clip without overlay text is one 0.01-wide bucket: the axis spans ten bars, not
    the bucket's width (which drew one bar across the whole plot)."""
    from curator.gui.stats.histogram_plot import MIN_SPAN_BARS, HistogramPlot, x_range

    clean = Histogram("text_share", "text share", "", (0.0, 0.01), (2000,))
    assert x_range(clean) == (0.0, MIN_SPAN_BARS * 0.01)
    wide = Histogram("frames", "frames", "frames", tuple(range(1, 200, 4)), (1,) * 49)
    assert x_range(wide) == (1, 197)  # enough bars: the bins themselves
    plot = HistogramPlot()
    qtbot.addWidget(plot)
    plot.set_histogram(clean)
    (left, right), _ = plot.plot.getViewBox().viewRange()
    assert right - left >= MIN_SPAN_BARS * 0.01


def test_narrow_stats_tab_stacks_the_histograms_in_one_column(qtbot, view):
    """Beside the preview at 1600 px the tab is ~790 px wide: one column of readable plots
    and no sideways scrolling, instead of two columns of 300 px."""
    from curator.gui.stats.stats_view import PLOT_MIN_WIDTH

    assert view.plot_grid.columns == 2  # 1600 px of its own
    view.resize(790, 900)
    qtbot.waitUntil(lambda: view.plot_grid.columns == 1, timeout=2000)
    qtbot.waitUntil(lambda: all(p.width() >= PLOT_MIN_WIDTH for p in view.plots.values()),
                    timeout=2000)  # once the new column is laid out
    scroll = view.plot_grid.parentWidget().parentWidget()  # viewport, then the scroll area
    assert not scroll.horizontalScrollBar().isVisible()
    view.resize(1600, 900)
    qtbot.waitUntil(lambda: view.plot_grid.columns == 2, timeout=2000)
