"""`ClipTableModel`: the clips the browser shows, one page at a time, for the grid and the table.

It adapts the named queries of `curator.core.catalog.queries` and owns no logic: the filter and
the order are SQL, rows arrive in keyset pages as the views scroll (`canFetchMore` /
`fetchMore`), only the pages shown so far are held, and a thumbnail is asked for only when a
view paints its row.
"""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import (
    QModelIndex,
    QObject,
    QRunnable,
    Qt,
    QThreadPool,
    Signal,
)
from PySide6.QtGui import QColor

from curator.core.catalog import Catalog, CatalogError
from curator.core.catalog.queries import (
    DEFAULT_PAGE,
    ClipListItem,
    ClipPlan,
    ClipQuery,
    ClipSort,
    clips_by_ids,
    clips_page,
    count_clips,
    plan_clips,
    source_names,
)
from curator.gui.models.rows import Index, RowTableModel
from curator.gui.models.thumbnail_cache import ThumbnailCache

ITEM_ROLE = Qt.ItemDataRole.UserRole + 1  # the row's ClipListItem
CLIP_ID_ROLE = Qt.ItemDataRole.UserRole + 2
DECISION_ROLE = Qt.ItemDataRole.UserRole + 3

# Status colours, shared by the table, the grid and the counters.
DECISION_COLORS = {
    "pending": QColor("#8b949e"),
    "accepted": QColor("#3fb950"),
    "rejected": QColor("#f85149"),
}

#: Reject reasons a person picks: the stored values match those the analysis rules write
#: ("too static", "too dynamic", "holds a cut"), so both filter alike; labels are shown here.
REJECT_REASONS = {
    "too static": "Too static",
    "too dynamic": "Too dynamic",
    "holds a cut": "Holds a cut",
    "bad quality": "Bad quality",
    "duplicate": "Duplicate",
}


def reason_label(reason: str | None) -> str:
    """The words shown for a stored reject reason (free text is shown as typed)."""
    if not reason:
        return ""
    return REJECT_REASONS.get(reason, reason[:1].upper() + reason[1:])


class Column:
    CLIP, STATUS, FRAMES, FRAMES_TARGET, LENGTH, SIZE, MOTION, CUTS, CAPTION = range(9)


HEADERS = ["Clip", "Status", "Frames", "@16 fps", "Length", "Size", "Motion", "Cuts", "Caption"]

# Header columns that SQL can sort, and by which key (other columns keep the current order).
SORT_BY_COLUMN = {
    Column.CLIP: "source",
    Column.FRAMES: "frames",
    Column.FRAMES_TARGET: "frames",
    Column.LENGTH: "frames",
    Column.MOTION: "motion",
}


class _CountRelay(QObject):
    """Lives on the GUI thread: a count finished on the pool arrives here as a queued call."""

    counted = Signal(int, int)  # generation, clips matching (-1: the count failed)


class _CountTask(QRunnable):
    """The exact count of a large result, off the GUI thread (300 ms at 1M clips, worst case)."""

    def __init__(self, catalog: Catalog, query: ClipQuery, generation: int,
                 relay: _CountRelay) -> None:
        super().__init__()
        self.catalog, self.query, self.generation, self.relay = catalog, query, generation, relay

    def run(self) -> None:
        try:
            count = count_clips(self.catalog, self.query)
        except Exception:  # noqa: BLE001 - a closed catalog or a busy file: show no number
            count = -1
        self.relay.counted.emit(self.generation, count)


class ClipTableModel(RowTableModel[ClipListItem]):
    """Clips matching a `ClipQuery`, in a `ClipSort` order, fetched a page at a time."""

    total_changed = Signal(int)  # clips matching the current query
    counts_changed = Signal(object)  # dict: pending/accepted/rejected/captioned/total
    caption_saved = Signal(object)  # CaptionRow, after an edit in the table
    error_occurred = Signal(str)

    def __init__(self, catalog: Catalog, thumbnails: ThumbnailCache | None = None, *,
                 page_size: int = DEFAULT_PAGE, parent: Any = None) -> None:
        super().__init__(HEADERS, parent)
        self.catalog = catalog
        self.thumbnails = thumbnails
        self.page_size = page_size
        self.query = ClipQuery()
        self.sort_order = ClipSort()
        self.total = 0
        self.total_exact = True  # False while a large result is still being counted
        self._plan = ClipPlan(ids=(), matching=0, exact=True)
        self._generation = 0
        self._count_pool = QThreadPool(self)
        self._count_pool.setMaxThreadCount(1)
        self._count_relay = _CountRelay(self)
        self._count_relay.counted.connect(self._on_counted)
        self._row_of_id: dict[int, int] = {}  # clip id -> row
        self._after: tuple | None = None
        self._has_more = False
        if thumbnails is not None:
            thumbnails.thumbnails_ready.connect(self._on_thumbnails)

    # --- the query -----------------------------------------------------------------------

    def set_query(self, query: ClipQuery | None = None, sort: ClipSort | None = None) -> None:
        """Show the clips of `query` in `sort` order (either left out: unchanged)."""
        self.query = query if query is not None else self.query
        self.sort_order = sort if sort is not None else self.sort_order
        self.reload()

    def reload(self) -> None:
        """Start again from the first page (after an ingest, a split, a filter change)."""
        self.beginResetModel()
        if self.thumbnails is not None:
            self.thumbnails.forget_pending()
        self.rows, self._row_of_id = [], {}
        self._generation += 1
        try:
            # The plan tells few from many in one bounded look; the exact number of a large
            # result is counted on a pool thread and shown when it is ready.
            self._plan = plan_clips(self.catalog, self.query, self.sort_order)
            self.total, self.total_exact = self._plan.matching, self._plan.exact
            page = clips_page(self.catalog, self.query, self.sort_order, limit=self.page_size,
                              plan=self._plan)
        except CatalogError as exc:
            self.total, self._after, self._has_more = 0, None, False
            self.endResetModel()
            self.error_occurred.emit(str(exc))
            return
        self._append(page.items)
        self._after, self._has_more = page.after, page.has_more
        self.endResetModel()
        if not self.total_exact:
            self._count_pool.start(_CountTask(self.catalog, self.query, self._generation,
                                              self._count_relay))
        self.total_changed.emit(self.total)
        self.counts_changed.emit(self.counts())

    def _on_counted(self, generation: int, count: int) -> None:
        if generation != self._generation or count < 0:
            return  # the query changed since: that count is of no use
        self.total, self.total_exact = count, True
        self.total_changed.emit(count)

    def shutdown(self) -> None:
        """Wait for a count still running (the window is closing)."""
        self._generation += 1
        self._count_pool.waitForDone()

    def counts(self) -> dict[str, int]:
        return self.catalog.counts()

    def source_choices(self) -> list[tuple[int, str]]:
        """(id, file name) of the sources, for the source filter."""
        return source_names(self.catalog)

    def canFetchMore(self, parent: Index = QModelIndex()) -> bool:
        return not parent.isValid() and self._has_more

    def fetchMore(self, parent: Index = QModelIndex()) -> None:
        if parent.isValid() or not self._has_more:
            return
        page = clips_page(self.catalog, self.query, self.sort_order, after=self._after,
                          limit=self.page_size, plan=self._plan)
        # A row decided since (or split off) may already be shown: never show it twice.
        fresh = [item for item in page.items if item.id not in self._row_of_id]
        self._after, self._has_more = page.after, page.has_more
        if fresh:
            first = len(self.rows)
            self.beginInsertRows(QModelIndex(), first, first + len(fresh) - 1)  # last inclusive
            self._append(fresh)
            self.endInsertRows()

    def fetch_until(self, row: int) -> None:
        """Fetch pages until `row` exists or nothing is left."""
        while row >= len(self.rows) and self._has_more:
            self.fetchMore()

    def refresh_clips(self, ids: list[int]) -> None:
        """Re-read some shown clips (decided, edited, trimmed) and repaint their rows."""
        shown = [i for i in ids if i in self._row_of_id]
        if shown:
            for item in clips_by_ids(self.catalog, shown):
                row = self._row_of_id[item.id]
                self.rows[row] = item
                self.dataChanged.emit(self.index(row, 0), self.index(row, len(HEADERS) - 1))
        self.counts_changed.emit(self.counts())

    def remove_clips(self, ids: list[int]) -> None:
        """Drop rows of clips that no longer exist (merged into a neighbour)."""
        for row in sorted((self._row_of_id[i] for i in ids if i in self._row_of_id), reverse=True):
            self.beginRemoveRows(QModelIndex(), row, row)
            del self.rows[row]
            self.total -= 1
            self.endRemoveRows()
        self._row_of_id = {item.id: r for r, item in enumerate(self.rows)}
        self.total_changed.emit(self.total)
        self.counts_changed.emit(self.counts())

    def insert_clips_after(self, clip_id: int, new_ids: list[int]) -> None:
        """Show clips just made from `clip_id` (a split) right below it, keeping the scroll."""
        row = self._row_of_id.get(clip_id)
        items = [i for i in clips_by_ids(self.catalog, new_ids) if i.id not in self._row_of_id]
        if row is None or not items:
            self.counts_changed.emit(self.counts())
            return
        at = row + 1
        self.beginInsertRows(QModelIndex(), at, at + len(items) - 1)
        self.rows[at:at] = items
        self._row_of_id = {item.id: r for r, item in enumerate(self.rows)}
        self.total += len(items)
        self.endInsertRows()
        self.total_changed.emit(self.total)
        self.counts_changed.emit(self.counts())

    # --- access --------------------------------------------------------------------------

    def item(self, row: int) -> ClipListItem | None:
        return self.row_at(row)

    def row_of(self, clip_id: int) -> int | None:
        return self._row_of_id.get(clip_id)

    @property
    def has_more(self) -> bool:
        return self._has_more

    def _append(self, items: list[ClipListItem]) -> None:
        start = len(self.rows)
        self.rows.extend(items)
        for offset, item in enumerate(items):
            self._row_of_id[item.id] = start + offset

    # --- Qt model ------------------------------------------------------------------------

    def header_data(self, column: int, role: int) -> Any:
        if role == Qt.ItemDataRole.DisplayRole and column == Column.FRAMES_TARGET:
            return f"@{self.query.target_fps:g} fps"
        if role == Qt.ItemDataRole.ToolTipRole:
            if column == Column.FRAMES_TARGET:
                return "Frames the trainer sees after resampling to the training frame rate"
            if column in SORT_BY_COLUMN:
                return "Click to sort"
        return super().header_data(column, role)

    def flags(self, index: Index) -> Qt.ItemFlag:
        base = super().flags(index)
        if index.isValid() and index.column() == Column.CAPTION:
            return base | Qt.ItemFlag.ItemIsEditable
        return base

    def cell_data(self, item: ClipListItem, column: int, role: int) -> Any:
        if role == Qt.ItemDataRole.DisplayRole:
            return self._display(item, column)
        if role == Qt.ItemDataRole.EditRole and column == Column.CAPTION:
            return item.caption or ""
        if role == Qt.ItemDataRole.DecorationRole and column == Column.CLIP:
            if self.thumbnails is None:
                return None
            pixmap = self.thumbnails.pixmap(item)
            return pixmap if pixmap is not None and not pixmap.isNull() else None
        if role == Qt.ItemDataRole.ForegroundRole and column == Column.STATUS:
            return DECISION_COLORS.get(item.decision)
        if role == Qt.ItemDataRole.ToolTipRole:
            return self._tooltip(item, column)
        if role == Qt.ItemDataRole.TextAlignmentRole and column in (
                Column.FRAMES, Column.FRAMES_TARGET, Column.LENGTH, Column.MOTION, Column.CUTS):
            return int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        if role == ITEM_ROLE:
            return item
        if role == CLIP_ID_ROLE:
            return item.id
        if role == DECISION_ROLE:
            return item.decision
        return None

    def setData(self, index: Index, value: Any,
                role: int = Qt.ItemDataRole.EditRole) -> bool:
        if (not index.isValid() or index.column() != Column.CAPTION
                or role != Qt.ItemDataRole.EditRole):
            return False
        item = self.rows[index.row()]
        text = str(value).strip()
        if text == (item.caption or ""):
            return False
        try:
            row = self.catalog.save_caption(text, clip_id=item.id, origin="manual")
        except CatalogError as exc:
            self.error_occurred.emit(str(exc))
            return False
        self.refresh_clips([item.id])
        if row is not None:
            self.caption_saved.emit(row)
        return True

    def sort(self, column: int, order: Qt.SortOrder = Qt.SortOrder.AscendingOrder) -> None:
        key = SORT_BY_COLUMN.get(column)
        if key is None:
            return
        self.set_query(sort=ClipSort(key, order == Qt.SortOrder.DescendingOrder))

    def _display(self, item: ClipListItem, column: int) -> str | None:
        if column == Column.CLIP:
            return f"{item.source_name}  {item.start_frame}–{item.end_frame}"
        if column == Column.STATUS:
            label = item.decision.capitalize()
            return f"{label} · {reason_label(item.reason)}" if item.reason else label
        if column == Column.FRAMES:
            return str(item.frames)
        if column == Column.FRAMES_TARGET:
            return str(item.frames_at(self.query.target_fps))
        if column == Column.LENGTH:
            return f"{item.duration:.2f} s"
        if column == Column.SIZE:
            return f"{item.width}×{item.height}"
        if column == Column.MOTION:
            return "–" if item.motion is None else f"{item.motion:.1f}"
        if column == Column.CUTS:
            return "–" if item.cuts is None else str(item.cuts)
        if column == Column.CAPTION:
            return item.caption or ""
        return None

    def _tooltip(self, item: ClipListItem, column: int) -> str | None:
        if column == Column.CAPTION:
            return item.caption or "No caption yet: double-click to write one"
        if column == Column.CLIP:
            return (f"{item.source_name}\nframes {item.start_frame}–{item.end_frame} "
                    f"({item.frames} at {float(item.fps):.3f} fps, "
                    f"{item.frames_at(self.query.target_fps)} at "
                    f"{self.query.target_fps:g} fps)")
        if column == Column.STATUS and item.decided_by:
            return f"decided by {'a rule' if item.decided_by == 'rule' else 'you'}"
        return None

    def _on_thumbnails(self, clip_ids: set[int]) -> None:
        rows = [self._row_of_id[i] for i in clip_ids if i in self._row_of_id]
        if not rows:
            return
        top, bottom = min(rows), max(rows)
        self.dataChanged.emit(self.index(top, Column.CLIP), self.index(bottom, Column.CLIP),
                              [Qt.ItemDataRole.DecorationRole])
