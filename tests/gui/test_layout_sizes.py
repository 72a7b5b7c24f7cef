"""The window fits a 1280×720 screen: no panel holds it wider or taller than that, and the
filter bar moves its ranges to a row of their own rather than drawing labels over each other."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from PySide6.QtWidgets import QApplication, QStyleFactory

from curator.gui.theme import apply_theme


@pytest.fixture
def themed() -> Iterator[None]:
    """The app's own theme (its fonts and paddings decide the sizes), put back afterwards."""
    app = QApplication.instance()
    style, palette, font, sheet = app.style().name(), app.palette(), app.font(), app.styleSheet()
    apply_theme(app)
    yield
    app.setStyleSheet(sheet)
    app.setFont(font)
    app.setPalette(palette)
    app.setStyle(QStyleFactory.create(style))


def test_the_window_fits_1280x720_and_the_filter_bar_wraps(qtbot, make_window, filled_project,
                                                           themed):
    window = make_window(filled_project)
    window.browser.select_row(0)  # a clip shown: the preview's crop bar is visible
    qtbot.wait(50)
    minimum = window.minimumSizeHint()
    assert minimum.width() <= 1280 and minimum.height() <= 720, minimum
    bar = window.browser.filters
    window.resize(1280, 720)
    window.fit_layout()
    qtbot.waitUntil(lambda: bar.range_row.indexOf(bar.ranges) >= 0, timeout=3000)
    assert bar.filter_row.indexOf(bar.ranges) < 0  # below, not squeezed into the row
    bar.resize(1400, bar.height())  # wide enough for one row: the ranges go back up
    assert bar.filter_row.indexOf(bar.ranges) >= 0 and bar.range_row.indexOf(bar.ranges) < 0
    assert window.docks["jobs"].height() < 200


def test_the_jobs_strip_shows_a_whole_job_row(qtbot, make_window, filled_project, themed):
    table = make_window(filled_project).jobs_panel.table
    header = table.horizontalHeader().sizeHint().height()
    assert table.minimumHeight() >= header + table.verticalHeader().defaultSectionSize()
