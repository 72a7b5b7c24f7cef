"""The clip browser: a thumbnail grid and a table over one `ClipTableModel`, plus its filters.

The two views share the model and the selection, so switching between them keeps the place.
Neither view asks for a row it does not paint: the grid's delegate has a fixed size hint and
the table fixed row heights, so only visible rows reach `data()` (and the thumbnail loader).
"""

from __future__ import annotations

from PySide6.QtCore import (
    QEvent,
    QItemSelection,
    QItemSelectionModel,
    QModelIndex,
    QObject,
    QRect,
    QSize,
    Qt,
    Signal,
)
from PySide6.QtGui import QColor, QFont, QFontMetrics, QIcon, QPainter, QPalette, QPen
from PySide6.QtWidgets import (
    QAbstractItemView,
    QApplication,
    QHBoxLayout,
    QHeaderView,
    QListView,
    QPushButton,
    QSizePolicy,
    QStackedWidget,
    QStyle,
    QStyledItemDelegate,
    QStyleOptionViewItem,
    QTableView,
    QToolButton,
    QWidget,
)

from curator.core.catalog.queries import ClipListItem, ClipQuery, ClipSort
from curator.gui.delegates import CaptionDelegate
from curator.gui.models.clip_table_model import (
    DECISION_COLORS,
    ITEM_ROLE,
    SORT_BY_COLUMN,
    ClipTableModel,
    Column,
    reason_label,
)
from curator.gui.models.thumbnail_cache import THUMB_SIZE
from curator.gui.panels.filter_bar import FilterBar
from curator.gui.widgets.elided_label import ElidedLabel
from curator.gui.widgets.layout import flush_column
from curator.gui.widgets.thumb_zoom import ThumbZoom


def card_size(thumb: QSize) -> QSize:
    """A grid card around a thumbnail box: margins, then name, range and status lines."""
    return QSize(thumb.width() + 16, thumb.height() + 72)


CARD_SIZE = card_size(THUMB_SIZE)


def frames_badge(item: ClipListItem, target_fps: float) -> str:
    """'48 f @16fps': the frames a training export keeps, at the rate that counts them."""
    return f"{item.frames_at(target_fps)} f @{target_fps:g}fps"


def range_text(item: ClipListItem) -> str:
    """'frames 120–239': where in its source a clip lies (every tile of a film has one name)."""
    return f"frames {item.start_frame}–{item.end_frame - 1}"
TABLE_ROW_HEIGHT = 46
TABLE_ICON = QSize(64, 36)


class ClipCardDelegate(QStyledItemDelegate):
    """Paints a grid card: thumbnail, status stripe, name, length at the training rate."""

    def __init__(self, target_fps: float = 16.0, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.target_fps = target_fps
        self.thumb = QSize(THUMB_SIZE)  # the tile size the person chose (ThumbZoom)
        self.cell_size = QSize(CARD_SIZE)  # widened by the panel to fill the row

    def sizeHint(self, option: QStyleOptionViewItem, index: QModelIndex) -> QSize:
        return self.cell_size  # fixed: layout never reads a row's data (or its thumbnail)

    def paint(self, painter: QPainter, option: QStyleOptionViewItem, index: QModelIndex) -> None:
        item: ClipListItem | None = index.data(ITEM_ROLE)
        if item is None:
            return
        painter.save()
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        palette = option.palette
        card = option.rect.adjusted(4, 4, -4, -4)
        selected = bool(option.state & QStyle.StateFlag.State_Selected)
        current = bool(option.state & QStyle.StateFlag.State_HasFocus)
        background = palette.color(QPalette.ColorRole.Highlight).darker(160) if selected \
            else palette.color(QPalette.ColorRole.Base).lighter(125)
        painter.setPen(Qt.PenStyle.NoPen)
        painter.setBrush(background)
        painter.drawRoundedRect(card, 6, 6)

        thumb_box = self._paint_thumbnail(painter, option, index, item, card)
        self._paint_lines(painter, option, item, card, thumb_box, selected)
        if current or selected:
            pen = QPen(palette.color(QPalette.ColorRole.Highlight), 2)
            painter.setPen(pen)
            painter.setBrush(Qt.BrushStyle.NoBrush)
            painter.drawRoundedRect(card.adjusted(1, 1, -1, -1), 6, 6)
        painter.restore()

    def _paint_thumbnail(self, painter: QPainter, option: QStyleOptionViewItem,
                         index: QModelIndex, item: ClipListItem, card: QRect) -> QRect:
        """The thumbnail with its status stripe and badges; returns the box it fills."""
        palette = option.palette
        thumb_box = QRect(card.left() + 4, card.top() + 4, card.width() - 8,
                          self.thumb.height())
        painter.setBrush(QColor("#0d1117"))
        painter.drawRoundedRect(thumb_box, 4, 4)
        pixmap = index.data(Qt.ItemDataRole.DecorationRole)
        if pixmap is not None and not pixmap.isNull():
            size = pixmap.size().scaled(thumb_box.size(), Qt.AspectRatioMode.KeepAspectRatio)
            target = QRect(0, 0, size.width(), size.height())
            target.moveCenter(thumb_box.center())
            # a tile smaller or larger than the pixmap: filtered, or line art turns jagged
            painter.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform,
                                  size != pixmap.size())
            painter.drawPixmap(target, pixmap)
        else:
            painter.setPen(palette.color(QPalette.ColorRole.PlaceholderText))
            painter.drawText(thumb_box, Qt.AlignmentFlag.AlignCenter, "…")

        # Status: a stripe under the thumbnail and a dot, in the status colour.
        color = DECISION_COLORS.get(item.decision, QColor("#8b949e"))
        stripe = QRect(thumb_box.left(), thumb_box.bottom() - 3, thumb_box.width(), 4)
        if item.decision != "pending":
            painter.fillRect(stripe, color)
        badge_font = QFont(option.font)
        badge_font.setPointSizeF(max(7.0, option.font.pointSizeF() - 1.5))
        badge_font.setBold(True)
        painter.setFont(badge_font)
        self._badge(painter, thumb_box, frames_badge(item, self.target_fps), right=True)
        if item.caption:
            self._badge(painter, thumb_box, "T", right=False)
        self._text_badge(painter, thumb_box, item)
        paint_transition_badge(painter, thumb_box, item.cuts)

        return thumb_box

    def _paint_lines(self, painter: QPainter, option: QStyleOptionViewItem, item: ClipListItem,
                     card: QRect, thumb_box: QRect, selected: bool) -> None:
        """Name and duration, the clip's range, then its status dot, reason and motion."""
        palette = option.palette
        color = DECISION_COLORS.get(item.decision, QColor("#8b949e"))
        text_rect = QRect(card.left() + 8, thumb_box.bottom() + 5, card.width() - 16, 18)
        painter.setFont(option.font)
        painter.setPen(palette.color(QPalette.ColorRole.HighlightedText if selected
                                     else QPalette.ColorRole.Text))
        metrics = QFontMetrics(option.font)
        name = metrics.elidedText(item.source_name, Qt.TextElideMode.ElideMiddle,
                                  text_rect.width() - 60)
        painter.drawText(text_rect, Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter,
                         name)
        painter.setPen(palette.color(QPalette.ColorRole.PlaceholderText) if not selected
                       else palette.color(QPalette.ColorRole.HighlightedText))
        painter.drawText(text_rect, Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter,
                         f"{item.duration:.1f} s")
        range_rect = text_rect.translated(0, 18)
        painter.drawText(range_rect, Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter,
                         range_text(item))
        info_rect = range_rect.translated(0, 18)
        painter.setPen(color)
        painter.setBrush(color)
        dot = QRect(info_rect.left(), info_rect.center().y() - 3, 7, 7)
        painter.drawEllipse(dot)
        # The dot's colour says the decision; the words add the reason when there is one.
        status = reason_label(item.reason) if item.reason else item.decision.capitalize()
        motion = "" if item.motion is None else f"motion {item.motion:.1f}"
        motion_width = metrics.horizontalAdvance(motion) + 8 if motion else 0
        painter.drawText(info_rect.adjusted(12, 0, -motion_width, 0),
                         Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter,
                         metrics.elidedText(status, Qt.TextElideMode.ElideRight,
                                            info_rect.width() - 12 - motion_width))
        painter.setPen(palette.color(QPalette.ColorRole.PlaceholderText))
        painter.drawText(info_rect, Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter,
                         motion)

    def _text_badge(self, painter: QPainter, box: QRect, item: ClipListItem) -> None:
        """'字' low on the thumbnail when analysis found burned-in text in the clip."""
        if not item.text_share:
            return
        self._badge(painter, box.adjusted(0, box.height() - painter.fontMetrics().height() - 14,
                                          0, 0), "字", right=True)

    @staticmethod
    def _badge(painter: QPainter, box: QRect, text: str, *, right: bool) -> None:
        metrics = painter.fontMetrics()
        width = metrics.horizontalAdvance(text) + 10
        rect = QRect(0, 0, width, metrics.height() + 2)
        if right:
            rect.moveTopRight(box.topRight() + QRect(0, 0, 0, 0).topLeft())
            rect.translate(-4, 4)
        else:
            rect.moveTopLeft(box.topLeft())
            rect.translate(4, 4)
        painter.setPen(Qt.PenStyle.NoPen)
        painter.setBrush(QColor(0, 0, 0, 170))
        painter.drawRoundedRect(rect, 3, 3)
        painter.setPen(QColor("#e6edf3"))
        painter.drawText(rect, Qt.AlignmentFlag.AlignCenter, text)


def paint_transition_badge(painter: QPainter, box: QRect, count: int | None) -> None:
    """Bottom left of a tile: how many shot boundaries the clip holds (none: no badge)."""
    if not count:
        return
    text = f"✂ {count}"
    metrics = painter.fontMetrics()
    rect = QRect(0, 0, metrics.horizontalAdvance(text) + 10, metrics.height() + 2)
    rect.moveBottomLeft(box.bottomLeft())
    rect.translate(4, -7)
    painter.setPen(Qt.PenStyle.NoPen)
    painter.setBrush(QColor(180, 40, 40, 210))
    painter.drawRoundedRect(rect, 3, 3)
    painter.setPen(QColor("#ffffff"))
    painter.drawText(rect, Qt.AlignmentFlag.AlignCenter, text)
    painter.setBrush(Qt.BrushStyle.NoBrush)


class ClipNameDelegate(QStyledItemDelegate):
    """The table's first column: a small thumbnail, then the clip's name and range."""

    def paint(self, painter: QPainter, option: QStyleOptionViewItem, index: QModelIndex) -> None:
        opt = QStyleOptionViewItem(option)
        self.initStyleOption(opt, index)
        text = opt.text
        # The style paints the background and selection only; thumbnail and text follow.
        opt.text = ""
        opt.icon = QIcon()
        opt.features &= ~QStyleOptionViewItem.ViewItemFeature.HasDecoration
        style = opt.widget.style() if opt.widget else QApplication.style()
        style.drawControl(QStyle.ControlElement.CE_ItemViewItem, opt, painter, opt.widget)
        rect = option.rect
        icon_box = QRect(rect.left() + 4, rect.top() + (rect.height() - TABLE_ICON.height()) // 2,
                         TABLE_ICON.width(), TABLE_ICON.height())
        painter.save()
        painter.fillRect(icon_box, QColor("#0d1117"))
        pixmap = index.data(Qt.ItemDataRole.DecorationRole)
        if pixmap is not None and not pixmap.isNull():
            size = pixmap.size().scaled(icon_box.size(), Qt.AspectRatioMode.KeepAspectRatio)
            target = QRect(0, 0, size.width(), size.height())
            target.moveCenter(icon_box.center())
            painter.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform)
            painter.drawPixmap(target, pixmap)
        selected = bool(option.state & QStyle.StateFlag.State_Selected)
        painter.setPen(option.palette.color(QPalette.ColorRole.HighlightedText if selected
                                            else QPalette.ColorRole.Text))
        text_rect = rect.adjusted(TABLE_ICON.width() + 12, 0, -4, 0)
        painter.drawText(text_rect, Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter,
                         option.fontMetrics.elidedText(text, Qt.TextElideMode.ElideMiddle,
                                                       text_rect.width()))
        painter.restore()


class BrowserPanel(QWidget):
    """Grid and table of clips, the filter bar, counters and the decision buttons."""

    current_clip_changed = Signal(object)  # ClipListItem | None
    selection_changed = Signal(list)  # clip ids
    decide_requested = Signal(list, str)  # clip ids, decision (rejects go through the picker)
    reject_requested = Signal(list)  # clip ids: the window asks for a reason

    def __init__(self, model: ClipTableModel, target_fps: float = 16.0,
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("browserPanel")
        self.model = model
        layout = flush_column(self, 0)
        self.filters = FilterBar(target_fps)
        layout.addWidget(self.filters)

        self.grid = QListView()
        self.grid.setObjectName("clipGrid")
        self.grid.setViewMode(QListView.ViewMode.IconMode)
        self.grid.setMovement(QListView.Movement.Static)
        self.grid.setResizeMode(QListView.ResizeMode.Adjust)
        self.grid.setUniformItemSizes(True)
        self.grid.setGridSize(CARD_SIZE)
        self.grid.setSpacing(0)
        self.grid.setWordWrap(False)
        self.grid.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)
        self.card_delegate = ClipCardDelegate(target_fps, self.grid)
        self.grid.setItemDelegate(self.card_delegate)
        self.grid.setModel(model)
        self.grid.setModelColumn(Column.CLIP)
        self.grid.setVerticalScrollMode(QAbstractItemView.ScrollMode.ScrollPerPixel)
        self.grid.verticalScrollBar().setSingleStep(24)
        self.grid.viewport().installEventFilter(self)

        self.table = self._build_table(model)

        self.views = QStackedWidget()
        self.views.addWidget(self.grid)
        self.views.addWidget(self.table)
        layout.addWidget(self.views, 1)

        layout.addWidget(self._build_actions())

        self.filters.query_changed.connect(self._on_query)
        self.filters.sort_changed.connect(self._on_sort)
        model.total_changed.connect(lambda _n: self._update_summary())
        model.counts_changed.connect(self.filters.set_counts)
        model.modelReset.connect(self._on_reset)
        selection = self.grid.selectionModel()
        selection.currentRowChanged.connect(self._on_current)
        selection.selectionChanged.connect(self._on_selection)

    def _build_table(self, model: ClipTableModel) -> QTableView:
        """The table view of the same model, sharing the grid's selection."""
        table = QTableView()
        table.setObjectName("clipTable")
        table.setModel(model)
        table.setSelectionModel(self.grid.selectionModel())
        table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        table.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)
        table.setIconSize(TABLE_ICON)
        table.setItemDelegateForColumn(Column.CLIP, ClipNameDelegate(table))
        # The caption cell editor marks the trigger phrase.
        table.setItemDelegateForColumn(
            Column.CAPTION, CaptionDelegate(model.catalog, parent=table))
        table.setWordWrap(False)
        table.setAlternatingRowColors(True)
        table.setShowGrid(False)
        table.setEditTriggers(QAbstractItemView.EditTrigger.DoubleClicked
                                   | QAbstractItemView.EditTrigger.EditKeyPressed)
        vertical = table.verticalHeader()
        vertical.setVisible(False)
        vertical.setSectionResizeMode(QHeaderView.ResizeMode.Fixed)
        vertical.setDefaultSectionSize(TABLE_ROW_HEIGHT)
        header = table.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
        header.setStretchLastSection(True)
        header.setHighlightSections(False)
        for column, width in ((Column.CLIP, 260), (Column.STATUS, 170), (Column.FRAMES, 64),
                              (Column.FRAMES_TARGET, 70), (Column.LENGTH, 70),
                              (Column.SIZE, 86), (Column.MOTION, 64), (Column.CUTS, 48)):
            table.setColumnWidth(column, width)
        header.setSortIndicatorShown(True)
        header.sortIndicatorChanged.connect(self._on_header_sort)
        return table

    def _build_actions(self) -> QWidget:
        # The bottom bar: what is shown and selected, the view switch, and the decision buttons.
        bar = QWidget()
        bar.setObjectName("browserActions")
        row = QHBoxLayout(bar)
        row.setContentsMargins(8, 4, 8, 6)
        self.summary = ElidedLabel()
        self.summary.setObjectName("browserSummary")
        # Cut short with '…' rather than widening the pane (the whole sentence is its tooltip)
        self.summary.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
        row.addWidget(self.summary, 1)
        self.zoom = ThumbZoom()
        self.zoom.size_changed.connect(self.set_thumb_size)
        row.addWidget(self.zoom)
        row.addSpacing(12)
        self.grid_button = QToolButton()
        self.grid_button.setText("Grid")
        self.grid_button.setCheckable(True)
        self.grid_button.setChecked(True)
        self.table_button = QToolButton()
        self.table_button.setText("Table")
        self.table_button.setCheckable(True)
        self.grid_button.clicked.connect(lambda: self.show_view("grid"))
        self.table_button.clicked.connect(lambda: self.show_view("table"))
        row.addWidget(self.grid_button)
        row.addWidget(self.table_button)
        row.addSpacing(12)
        self.accept_button = self._decision_button("Accept", "A", "accepted")
        self.reject_button = self._decision_button("Reject", "R", "rejected")
        self.pending_button = self._decision_button("Pending", "U", "pending")
        for button in (self.accept_button, self.reject_button, self.pending_button):
            row.addWidget(button)
        return bar

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if watched is self.grid.viewport() and event.type() == QEvent.Type.Resize:
            self._fit_grid()
        if (watched is self.grid.viewport() and event.type() == QEvent.Type.Wheel
                and event.modifiers() & Qt.KeyboardModifier.ControlModifier):
            self.zoom.wheel(event.angleDelta().y())  # Ctrl+wheel: tile size
            return True
        return False

    def set_thumb_size(self, thumb: QSize) -> None:
        """Tiles around thumbnails of this box; larger than the cache's box, it loads larger."""
        self.card_delegate.thumb = QSize(thumb)
        cache = self.model.thumbnails
        if cache is not None:  # sharp up to the 256-px files, and no reload below 192
            cache.set_box(QSize(THUMB_SIZE) if thumb.width() <= THUMB_SIZE.width()
                          else QSize(256, 144))
        self._fit_grid()

    def _fit_grid(self) -> None:
        # Spread the spare width over the columns, so the cards fill the row edge to edge.
        # The list view keeps room for a vertical scroll bar when it wraps a row.
        spare = self.grid.style().pixelMetric(QStyle.PixelMetric.PM_ScrollBarExtent) + 6
        width = self.grid.viewport().width() - spare
        card = card_size(self.card_delegate.thumb)
        columns = max(1, width // card.width())
        cell = QSize(max(card.width(), width // columns), card.height())
        if cell != self.grid.gridSize():
            self.card_delegate.cell_size = cell
            self.grid.setGridSize(cell)

    def _decision_button(self, text: str, key: str, decision: str) -> QPushButton:
        button = QPushButton(f"{text}  ({key})")
        button.setObjectName(f"decide_{decision}")
        button.setProperty("decision", decision)
        button.setFocusPolicy(Qt.FocusPolicy.NoFocus)  # keys stay with the views
        button.setToolTip(f"{text} the selected clips ({key})")
        if decision == "rejected":
            button.clicked.connect(lambda: self.reject_requested.emit(self.selected_ids()))
        else:
            button.clicked.connect(
                lambda: self.decide_requested.emit(self.selected_ids(), decision))
        return button

    # --- queries -------------------------------------------------------------------------

    def start(self) -> None:
        """First page: the filter bar's query and order."""
        self.model.set_query(self.filters.query(), self.filters.sort())
        self._sync_header()
        self._restore_current(None)  # the first clip is shown at once

    def _on_query(self, query: ClipQuery) -> None:
        keep = self.current_clip_id()
        self.model.set_query(query=query)
        self._restore_current(keep)

    def _on_sort(self, sort: ClipSort) -> None:
        keep = self.current_clip_id()
        self.model.set_query(sort=sort)
        self._sync_header()
        self._restore_current(keep)

    def _on_header_sort(self, column: int, order: Qt.SortOrder) -> None:
        key = SORT_BY_COLUMN.get(column)
        if key is None:
            self._sync_header()  # a column SQL cannot sort: show the real order again
            return
        sort = ClipSort(key, order == Qt.SortOrder.DescendingOrder)
        if sort != self.model.sort_order:
            self.filters.set_sort(sort)
            self._on_sort(sort)

    def _sync_header(self) -> None:
        header = self.table.horizontalHeader()
        sort = self.model.sort_order
        column = {"source": Column.CLIP, "frames": Column.FRAMES_TARGET,
                  "motion": Column.MOTION}.get(sort.key, -1)
        header.blockSignals(True)
        header.setSortIndicator(column, Qt.SortOrder.DescendingOrder if sort.descending
                                else Qt.SortOrder.AscendingOrder)
        header.blockSignals(False)

    def reload(self) -> None:
        keep = self.current_clip_id()
        self.model.reload()
        self._restore_current(keep)

    # --- views and selection -------------------------------------------------------------

    def show_view(self, which: str) -> None:
        view = self.grid if which == "grid" else self.table
        self.views.setCurrentWidget(view)
        self.grid_button.setChecked(which == "grid")
        self.table_button.setChecked(which == "table")
        current = self.grid.selectionModel().currentIndex()
        if current.isValid():
            view.scrollTo(self.model.index(current.row(), 0))
        view.setFocus()

    def current_view_name(self) -> str:
        return "grid" if self.views.currentWidget() is self.grid else "table"

    def active_view(self) -> QAbstractItemView:
        return self.views.currentWidget()

    def current_item(self) -> ClipListItem | None:
        index = self.grid.selectionModel().currentIndex()
        return self.model.item(index.row()) if index.isValid() else None

    def current_clip_id(self) -> int | None:
        item = self.current_item()
        return item.id if item else None

    def selected_ids(self) -> list[int]:
        """The selected clips, or the current one when nothing is selected."""
        rows = sorted({index.row() for index in self.grid.selectionModel().selectedIndexes()})
        ids = [self.model.item(r).id for r in rows if self.model.item(r) is not None]
        if not ids and (current := self.current_clip_id()) is not None:
            ids = [current]
        return ids

    def select_row(self, row: int) -> None:
        """Make `row` current and the only selection, fetching pages up to it if needed."""
        self.model.fetch_until(row)
        if not 0 <= row < self.model.rowCount():
            return
        index = self.model.index(row, 0)
        flags = (QItemSelectionModel.SelectionFlag.ClearAndSelect
                 | QItemSelectionModel.SelectionFlag.Rows)
        self.grid.selectionModel().setCurrentIndex(index, flags)
        self.active_view().scrollTo(index)

    def move(self, step: int) -> None:
        """J / K: the next or previous clip."""
        index = self.grid.selectionModel().currentIndex()
        row = index.row() + step if index.isValid() else 0
        self.select_row(max(0, row))

    def select_all(self) -> None:
        """Select every clip loaded so far."""
        if self.model.rowCount():
            self.active_view().selectAll()

    def _restore_current(self, clip_id: int | None) -> None:
        row = self.model.row_of(clip_id) if clip_id is not None else None
        if row is None and self.model.rowCount():
            row = 0
        if row is not None:
            self.select_row(row)
        else:
            self.current_clip_changed.emit(None)
        self._update_summary()

    def _on_reset(self) -> None:
        self._update_summary()

    def _on_current(self, current: QModelIndex, _previous: QModelIndex) -> None:
        item = self.model.item(current.row()) if current.isValid() else None
        self.current_clip_changed.emit(item)

    def _on_selection(self, _selected: QItemSelection, _deselected: QItemSelection) -> None:
        self.selection_changed.emit(self.selected_ids())
        self._update_summary()

    def _update_summary(self) -> None:
        selected = len({i.row() for i in self.grid.selectionModel().selectedIndexes()})
        total = self.model.total
        if self.model.total_exact:
            shown = f"{total:,} clip{'s' if total != 1 else ''} shown"
        else:
            shown = f"{total - 1:,}+ clips shown · counting…"
        # Beside the decision buttons a selection says how many they act on (the shown count
        # is on the Clips tab too). The label's width never follows the selection: a longer
        # sentence held the window wider than a 1280-pixel screen.
        longest = max(shown, f"{max(total, 2):,} selected", key=len)
        self.summary.setText(longest)
        self.summary.setMinimumWidth(self.summary.sizeHint().width())
        self.summary.setText(f"{selected:,} selected" if selected > 1 else shown)
        self.summary.setToolTip(shown + (f"  ·  {selected:,} selected" if selected > 1 else ""))
