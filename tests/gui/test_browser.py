"""The clip browser: the Qt model alone first, then the filter bar, the views and thumbnails."""

from __future__ import annotations

from fractions import Fraction
from pathlib import Path

import pytest
from PySide6.QtCore import QModelIndex, QSize, Qt
from PySide6.QtGui import QPixmap

from curator.core.catalog import Catalog
from curator.core.catalog.queries import ClipQuery, ClipSort, plan_clips
from curator.core.media import resample_indices
from curator.core.media.thumbnails import clip_thumbnail_paths
from curator.gui.models.clip_table_model import (
    CLIP_ID_ROLE,
    DECISION_COLORS,
    ClipTableModel,
    Column,
)
from curator.gui.models.thumbnail_cache import ThumbnailCache, thumbnail_request
from curator.gui.panels.browser_panel import BrowserPanel
from curator.gui.panels.filter_bar import FilterBar
from tests.gui.conftest import TRIGGER


def add_many(catalog: Catalog, n: int) -> None:
    """`n` clips of one (fictional) 24 fps film, for paging; no file is decoded."""
    bounds = list(range(0, 20 * n + 1, 20))
    catalog.upsert_source(
        path=Path("/films/long.mkv"), size=1, mtime=1.0, content_hash="long", container="mkv",
        codec="h264", fps=Fraction(24), frame_count=bounds[-1], header_frame_count=None,
        width=1920, height=1040, duration=bounds[-1] / 24,
        clip_ranges=list(zip(bounds, bounds[1:])))


def ids_in(model: ClipTableModel) -> list[int]:
    return [model.index(r, 0).data(CLIP_ID_ROLE) for r in range(model.rowCount())]


# --- the model, without a view --------------------------------------------------------------

def test_model_fetches_pages_lazily_until_the_last(catalog):
    add_many(catalog, 23)
    model = ClipTableModel(catalog, page_size=10)
    model.set_query(ClipQuery(), ClipSort("id"))
    assert (model.rowCount(), model.total, model.canFetchMore(QModelIndex())) == (10, 23, True)
    model.fetchMore(QModelIndex())
    model.fetchMore(QModelIndex())
    assert model.rowCount() == 23 and not model.canFetchMore(QModelIndex())
    assert ids_in(model) == catalog.clip_ids()


def test_a_large_result_is_counted_off_the_gui_thread(qtbot, catalog, monkeypatch):
    from curator.gui.models import clip_table_model

    add_many(catalog, 23)
    # 23 clips count as "many" here
    monkeypatch.setattr(clip_table_model, "plan_clips",
                        lambda *args, **kwargs: plan_clips(*args, **kwargs, few=5))
    model = ClipTableModel(catalog, page_size=10)
    totals = []
    model.total_changed.connect(totals.append)
    model.set_query(ClipQuery(max_frames=1000), ClipSort("frames"))
    assert not model.total_exact and totals == [6]  # "more than 5" for now
    qtbot.waitUntil(lambda: model.total_exact, timeout=5000)
    assert totals == [6, 23] and model.total == 23 and model.rowCount() == 10
    model.set_query(ClipQuery(status="pending"))  # the counters answer at once
    assert model.total_exact and model.total == 23
    model.shutdown()


def test_model_shows_clip_facts_and_sorts_in_sql(catalog):
    add_many(catalog, 5)
    catalog.trim_clip(catalog.clip_ids()[2], 30, 95)  # 65 frames at 24 fps
    model = ClipTableModel(catalog)
    model.set_query(ClipQuery(), ClipSort("id"))
    row = 2
    assert model.index(row, Column.FRAMES).data() == "65"
    assert model.index(row, Column.FRAMES_TARGET).data() == str(len(resample_indices(65, 24, 16)))
    assert model.index(row, Column.SIZE).data() == "1920×1040"
    assert model.index(row, Column.MOTION).data() == "–"
    model.sort(Column.FRAMES, Qt.SortOrder.DescendingOrder)
    assert model.sort_order == ClipSort("frames", descending=True)
    assert model.index(0, Column.FRAMES).data() == "65"
    model.sort(Column.STATUS)  # not sortable in SQL: the order stays
    assert model.sort_order == ClipSort("frames", descending=True)


def test_model_refreshes_decided_rows_and_counts(qtbot, catalog):
    add_many(catalog, 4)
    model = ClipTableModel(catalog)
    model.set_query()
    first = catalog.clip_ids()[0]
    catalog.set_decision([first], "rejected", "holds a cut")
    with qtbot.waitSignal(model.counts_changed) as counts, \
            qtbot.waitSignal(model.dataChanged):
        model.refresh_clips([first])
    assert counts.args[0]["rejected"] == 1
    assert model.index(0, Column.STATUS).data() == "Rejected · Holds a cut"
    assert model.index(0, Column.STATUS).data(Qt.ItemDataRole.ForegroundRole) == \
        DECISION_COLORS["rejected"]


def test_editing_a_caption_in_the_table_saves_it_as_manual(qtbot, catalog):
    add_many(catalog, 2)
    model = ClipTableModel(catalog)
    model.set_query()
    index = model.index(1, Column.CAPTION)
    assert model.flags(index) & Qt.ItemFlag.ItemIsEditable
    with qtbot.waitSignal(model.caption_saved) as saved:
        assert model.setData(index, f"  {TRIGGER} Waves.  ")
    clip = catalog.get_clip(model.index(1, 0).data(CLIP_ID_ROLE))
    assert clip.caption == f"{TRIGGER} Waves." and clip.caption_is_manual
    assert saved.args[0].text == clip.caption
    assert model.index(1, Column.CAPTION).data() == clip.caption
    assert not model.setData(model.index(1, Column.FRAMES), "99")


def test_a_split_clip_appears_below_its_parent(catalog):
    add_many(catalog, 3)
    model = ClipTableModel(catalog)
    model.set_query()
    parent = catalog.clip_ids()[0]
    _, child = catalog.split_clip(parent, 10)
    model.refresh_clips([parent])
    model.insert_clips_after(parent, [child])
    assert ids_in(model)[:2] == [parent, child] and model.total == 4


# --- the filter bar -------------------------------------------------------------------------

def test_filter_bar_builds_the_query_and_debounces_typing(qtbot):
    bar = FilterBar(target_fps=16)
    qtbot.addWidget(bar)
    emitted = []
    bar.query_changed.connect(emitted.append)
    bar.status_buttons["rejected"].click()
    bar.min_frames.setValue(45)
    bar.max_motion.setValue(8.5)
    bar.caption_filter.setCurrentIndex(2)
    assert emitted[-1] == ClipQuery(status="rejected", min_frames=45, max_motion=8.5,
                                    has_caption=False, target_fps=16)
    count = len(emitted)
    qtbot.keyClicks(bar.search, "rain street")
    assert len(emitted) == count  # nothing yet: the person is still typing
    qtbot.waitUntil(lambda: len(emitted) == count + 1, timeout=2000)
    assert emitted[-1].text == "rain street"
    bar.clear()
    assert emitted[-1] == ClipQuery(target_fps=16)
    bar.set_counts({"pending": 5, "accepted": 1200, "rejected": 3, "captioned": 7, "total": 1208})
    assert bar.status_buttons["accepted"].text().endswith("1,200")
    assert bar.captioned_label.text() == "Captioned 7"


# --- views and thumbnails -------------------------------------------------------------------

@pytest.fixture
def browser(qtbot, filled_project):
    thumbnails = ThumbnailCache(filled_project.thumbs_dir)
    model = ClipTableModel(filled_project.catalog, thumbnails)
    panel = BrowserPanel(model)
    qtbot.addWidget(panel)
    panel.resize(1000, 700)
    panel.show()
    qtbot.waitExposed(panel)
    panel.start()
    yield panel
    thumbnails.shutdown()


def test_thumbnails_are_decoded_off_thread_and_cached_on_disk(qtbot, browser, filled_project):
    model, cache = browser.model, browser.model.thumbnails
    qtbot.waitUntil(lambda: all(model.index(r, 0).data(Qt.ItemDataRole.DecorationRole)
                                is not None for r in range(model.rowCount())), timeout=20_000)
    pixmap: QPixmap = model.index(0, 0).data(Qt.ItemDataRole.DecorationRole)
    assert pixmap.size() == QSize(160, 90)  # the 160×90 film fitted into the 192×108 box
    files = sorted(filled_project.thumbs_dir.glob("*/*.jpg"))
    assert len(files) == model.rowCount()  # written where ingest keeps them, one per clip
    # A middle frame of the clip, not a black or blank one.
    image = pixmap.toImage()
    assert len({image.pixel(x, y) for x in range(0, 160, 16) for y in range(0, 90, 15)}) > 4
    first = model.item(0)
    assert thumbnail_request(first, cache.thumbs_dir).file == \
        clip_thumbnail_paths(filled_project.thumbs_dir, filled_project.catalog.get_clip(first.id))[1]


def test_only_visible_rows_ask_for_thumbnails(qtbot, catalog):
    add_many(catalog, 600)  # a fictional file: thumbnails fail fast, requests still count
    thumbnails = ThumbnailCache(catalog_dir := Path(str(catalog.engine.url.database)).parent)
    model = ClipTableModel(catalog, thumbnails)
    panel = BrowserPanel(model)
    qtbot.addWidget(panel)
    panel.resize(900, 600)
    panel.show()
    qtbot.waitExposed(panel)
    panel.start()
    def visible_ids() -> set[int]:
        view = panel.active_view()
        return {model.index(r, 0).data(CLIP_ID_ROLE) for r in range(model.rowCount())
                if view.visualRect(model.index(r, 0)).intersects(view.viewport().rect())}

    seen: set[int] = set()
    try:
        for view_name in ("grid", "table"):
            panel.show_view(view_name)
            view = panel.active_view()
            view.scrollToTop()
            qtbot.wait(30)
            seen |= visible_ids()
            for _ in range(6):  # scroll down a few screens, fetching pages as a person would
                view.verticalScrollBar().setValue(view.verticalScrollBar().maximum())
                qtbot.wait(30)
                seen |= visible_ids()
            assert model.rowCount() >= 400, "scrolling should have fetched more pages"
            # Asked for: only clips that were on screen, a small part of the rows loaded.
            assert set(thumbnails.requested) <= seen and thumbnails.requested, view_name
            assert thumbnails.request_count < model.rowCount() / 2, view_name
    finally:
        thumbnails.shutdown()
    assert catalog_dir.exists()


def test_grid_and_table_share_the_selection(qtbot, browser):
    browser.show_view("grid")
    browser.select_row(2)
    third = browser.model.item(2).id
    browser.show_view("table")
    assert browser.current_clip_id() == third and browser.selected_ids() == [third]
    browser.move(1)
    assert browser.current_clip_id() == browser.model.item(3).id


def test_clips_with_burned_in_text_are_filtered_and_badged(qtbot, catalog):
    """The filter bar's text menu becomes `ClipQuery.has_text`, SQL honours it, and a tile of a
    clip holding text carries the 字 badge (painted, read back from the pixels)."""
    from PySide6.QtGui import QColor, QImage, QPainter
    from PySide6.QtWidgets import QStyleOptionViewItem

    from curator.gui.models.clip_table_model import ITEM_ROLE
    from curator.gui.panels.browser_panel import ClipCardDelegate

    add_many(catalog, 3)
    first, second, third = catalog.clip_ids()
    catalog.save_analysis(first, {"text": {"kind": "subtitles"}, "text_share": 0.5},
                          motion=1.0, cuts=0)
    catalog.save_analysis(second, {"text": {"kind": None}, "text_share": 0.0}, motion=1.0,
                          cuts=0)
    bar = FilterBar(target_fps=16)
    qtbot.addWidget(bar)
    emitted = []
    bar.query_changed.connect(emitted.append)
    bar.text_filter.setCurrentIndex(1)
    assert emitted[-1] == ClipQuery(has_text=True, target_fps=16)
    model = ClipTableModel(catalog)
    model.set_query(emitted[-1], ClipSort("id"))
    assert ids_in(model) == [first]
    model.set_query(ClipQuery(has_text=False), ClipSort("id"))
    assert ids_in(model) == [second]  # the third was never checked: neither
    bar.clear()
    assert emitted[-1] == ClipQuery(target_fps=16)

    model.set_query(ClipQuery(), ClipSort("id"))
    delegate = ClipCardDelegate()

    def tile(row: int) -> QImage:
        image = QImage(delegate.cell_size, QImage.Format.Format_RGB32)
        image.fill(QColor("#202020"))
        painter = QPainter(image)
        option = QStyleOptionViewItem()
        option.rect = image.rect()
        delegate.paint(painter, option, model.index(row, 0))
        painter.end()
        return image

    assert model.index(0, 0).data(ITEM_ROLE).text_share == 0.5
    with_text, without = tile(0), tile(1)
    differs = [(x, y) for x in range(with_text.width()) for y in range(with_text.height())
               if with_text.pixel(x, y) != without.pixel(x, y)]
    assert differs and min(y for _, y in differs) > with_text.height() // 4  # low on the tile


def test_a_tile_holding_transitions_shows_a_badge_with_their_count(qtbot, browser,
                                                                   filled_project):
    from PySide6.QtGui import QImage, QPainter

    from curator.gui.panels.browser_panel import paint_transition_badge

    def badge_pixels(count):
        image = QImage(160, 90, QImage.Format.Format_RGB32)
        image.fill(0)
        painter = QPainter(image)
        paint_transition_badge(painter, image.rect(), count)
        painter.end()
        return image.pixelColor(8, 78)

    red = badge_pixels(2)
    assert red.red() > 120 and red.red() > 3 * red.green()
    assert badge_pixels(0).red() == 0 and badge_pixels(None).red() == 0
    # the browser row carries the count the tile shows
    clip = filled_project.catalog.list_clips()[2]
    filled_project.catalog.save_analysis(clip.id, {}, motion=1.0, cuts=3)
    browser.reload()
    qtbot.waitUntil(lambda: browser.model.rowCount() > 2)
    items = [browser.model.item(r) for r in range(browser.model.rowCount())]
    assert next(i for i in items if i.id == clip.id).cuts == 3


def test_split_at_transitions_is_one_undo_step(qtbot, filled_project):
    from PySide6.QtGui import QUndoStack

    from curator.core.shot_split import ClipSplit, split_clip_at
    from curator.gui.split_transitions import SplitTransitionsCommand

    catalog = filled_project.catalog
    clip = catalog.list_clips()[0]
    old = (clip.start_frame, clip.end_frame)
    ranges = [(old[0], old[0] + 8), (old[0] + 12, old[1])]
    parts = split_clip_at(catalog, clip, ranges)  # what the job does
    changed: list[int] = []
    stack = QUndoStack()
    stack.push(SplitTransitionsCommand(catalog, [ClipSplit(clip.id, old, parts, ranges)],
                                       lambda: changed.append(1)))
    assert len(catalog.list_clips()) == 10 and changed == []  # pushing did not split again
    stack.undo()
    assert (catalog.get_clip(clip.id).start_frame, catalog.get_clip(clip.id).end_frame) == old
    assert len(catalog.list_clips()) == 9
    stack.redo()
    got = sorted((c.start_frame, c.end_frame) for c in catalog.list_clips()
                 if c.source_path == clip.source_path and c.start_frame < old[1]
                 and c.end_frame > old[0])
    assert got == ranges and changed == [1, 1]
