"""The browser's filter bar: status tabs with live counters, search, ranges, source, order.

It turns what the person sets into a `ClipQuery` and a `ClipSort` (plain values) and emits
them; the model runs them in SQL. Typing in the search box is debounced, so a query runs once
the person pauses, not on every key.
"""

from __future__ import annotations

from collections.abc import Sequence

from PySide6.QtCore import QSignalBlocker, Qt, QTimer, Signal
from PySide6.QtWidgets import (
    QButtonGroup,
    QComboBox,
    QDoubleSpinBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QSpinBox,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from curator.core.catalog.queries import ClipQuery, ClipSort
from curator.gui.widgets.layout import tool_button

SEARCH_DEBOUNCE_MS = 250

STATUS_TABS = (  # (stored status or None, label)
    (None, "All"), ("pending", "Pending"), ("accepted", "Accepted"), ("rejected", "Rejected"),
)
SORTS = (  # (key, label)
    ("source", "Source order"), ("id", "Added"), ("frames", "Length"), ("motion", "Motion"),
)


def _spin_value(spin: QSpinBox | QDoubleSpinBox) -> float | None:
    # The minimum shows as "any": no bound.
    return None if spin.value() == spin.minimum() else spin.value()


class FilterBar(QWidget):
    """Emits `query_changed` / `sort_changed` whenever a control changes."""

    query_changed = Signal(object)  # ClipQuery
    sort_changed = Signal(object)  # ClipSort

    def __init__(self, target_fps: float = 16.0, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("filterBar")
        self.target_fps = target_fps
        outer = QVBoxLayout(self)
        outer.setContentsMargins(8, 8, 8, 4)
        outer.setSpacing(6)

        outer.addLayout(self._build_status_row())

        outer.addLayout(self._build_filter_row())
        # The motion and length ranges move to a row of their own when the bar is too narrow
        # for one row (a 1280-px screen): squeezed, the labels were drawn over each other.
        self.range_row = QHBoxLayout()
        self.range_row.setSpacing(6)
        outer.addLayout(self.range_row)
        self.set_counts({"pending": 0, "accepted": 0, "rejected": 0, "captioned": 0, "total": 0})

    def _build_status_row(self) -> QHBoxLayout:
        # Row 1: status tabs with their counters, and the search box.
        row1 = QHBoxLayout()
        row1.setSpacing(4)
        self.status_group = QButtonGroup(self)
        self.status_buttons: dict[str | None, QToolButton] = {}
        for index, (status, label) in enumerate(STATUS_TABS):
            button = QToolButton()
            button.setObjectName(f"status_{status or 'all'}")
            button.setProperty("statusTab", status or "all")
            button.setCheckable(True)
            button.setText(label)
            button.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextOnly)
            self.status_group.addButton(button, index)
            self.status_buttons[status] = button
            row1.addWidget(button)
        self.status_buttons[None].setChecked(True)
        self.status_group.idClicked.connect(lambda _id: self._emit_query())
        self.captioned_label = QLabel()
        self.captioned_label.setObjectName("captionedCounter")
        row1.addSpacing(10)
        row1.addWidget(self.captioned_label)
        row1.addStretch(1)
        self.search = QLineEdit()
        self.search.setObjectName("searchBox")
        self.search.setPlaceholderText("Search captions…  (Ctrl+F)")
        self.search.setClearButtonEnabled(True)
        self.search.setMinimumWidth(110)  # fits 1280 px beside the preview; grows to 360
        self.search.setMaximumWidth(360)
        self._debounce = QTimer(self)
        self._debounce.setSingleShot(True)
        self._debounce.setInterval(SEARCH_DEBOUNCE_MS)
        self._debounce.timeout.connect(self._emit_query)
        self.search.textChanged.connect(lambda _t: self._debounce.start())
        self.search.returnPressed.connect(self._emit_now)
        row1.addWidget(self.search)
        return row1

    def _build_filter_row(self) -> QHBoxLayout:
        # Row 2: caption, source, motion and length ranges, order.
        row2 = QHBoxLayout()
        row2.setSpacing(6)
        self.caption_filter = QComboBox()
        self.caption_filter.addItem("Any caption", None)
        self.caption_filter.addItem("Captioned", True)
        self.caption_filter.addItem("No caption", False)
        self.caption_filter.currentIndexChanged.connect(lambda _i: self._emit_query())
        row2.addWidget(self.caption_filter)
        self.text_filter = self._text_filter()
        row2.addWidget(self.text_filter)
        self.source_filter = QComboBox()
        self.source_filter.setMinimumWidth(100)
        self.source_filter.setMaximumWidth(240)
        self.source_filter.addItem("All sources", None)
        self.source_filter.currentIndexChanged.connect(lambda _i: self._emit_query())
        row2.addWidget(self.source_filter)
        self.ranges = QWidget()
        self.ranges.setObjectName("rangeFilters")
        # An explicit minimum: the bar may get narrower than one row needs (then the ranges
        # move below, `_place_ranges`) instead of holding the whole window wide.
        self.ranges.setMinimumWidth(1)
        ranges = QHBoxLayout(self.ranges)
        ranges.setContentsMargins(8, 0, 0, 0)
        ranges.setSpacing(6)
        ranges.addWidget(QLabel("Motion"))
        self.min_motion, self.max_motion = self._range(QDoubleSpinBox, 0.0, 1000.0)
        ranges.addWidget(self.min_motion)
        ranges.addWidget(QLabel("–"))
        ranges.addWidget(self.max_motion)
        ranges.addSpacing(8)
        self.frames_label = QLabel(f"Frames @{self.target_fps:g} fps")
        ranges.addWidget(self.frames_label)
        self.min_frames, self.max_frames = self._range(QSpinBox, 0, 100_000)
        ranges.addWidget(self.min_frames)
        ranges.addWidget(QLabel("–"))
        ranges.addWidget(self.max_frames)
        row2.addWidget(self.ranges)
        self.filter_row = row2
        row2.addStretch(1)
        row2.addWidget(QLabel("Order"))
        self.sort_key = QComboBox()
        for key, label in SORTS:
            self.sort_key.addItem(label, key)
        self.sort_key.currentIndexChanged.connect(lambda _i: self._emit_sort())
        row2.addWidget(self.sort_key)
        self.sort_descending = tool_button("↑", "sortDirection", "Ascending / descending",
                                           checkable=True)
        self.sort_descending.toggled.connect(self._on_direction)
        row2.addWidget(self.sort_descending)
        self.clear_button = tool_button("Clear", "", "Show every clip", lambda: self.clear())
        row2.addWidget(self.clear_button)
        return row2

    def _text_filter(self) -> QComboBox:
        """Burned-in text (subtitles, credits, watermarks) found by analysis, or not."""
        box = QComboBox()
        box.setObjectName("textFilter")
        box.addItem("Any text", None)
        box.addItem("Holds text", True)
        box.addItem("No text", False)
        box.setToolTip("Subtitles, credits or a watermark burned into the picture "
                       "(found by analysis)")
        box.currentIndexChanged.connect(lambda _i: self._emit_query())
        return box

    def _range(self, kind: type, low: float, high: float
               ) -> tuple[QSpinBox | QDoubleSpinBox, QSpinBox | QDoubleSpinBox]:
        spins = []
        for placeholder in ("min", "max"):
            spin = kind()
            spin.setRange(low - 1 if kind is QSpinBox else low - 0.1, high)
            if kind is QDoubleSpinBox:
                spin.setDecimals(1)
                spin.setSingleStep(0.5)
            spin.setSpecialValueText(placeholder)  # shown at the minimum: no bound
            spin.setValue(spin.minimum())
            spin.setKeyboardTracking(False)  # emit on Enter / focus-out, not per digit
            spin.setFixedWidth(58)
            spin.setAlignment(Qt.AlignmentFlag.AlignRight)
            spin.valueChanged.connect(lambda _v: self._emit_query())
            spins.append(spin)
        return spins[0], spins[1]

    def resizeEvent(self, event) -> None:
        super().resizeEvent(event)
        self._place_ranges()

    def _place_ranges(self) -> None:
        """The ranges on the filter row when everything fits there, else on a row below."""
        row2 = self.filter_row
        one_row = sum(row2.itemAt(i).sizeHint().width() for i in range(row2.count())
                      if row2.itemAt(i).widget() is not self.ranges)
        one_row += self.ranges.sizeHint().width() + row2.spacing() * row2.count() + 16
        below = self.range_row.indexOf(self.ranges) >= 0
        if one_row > self.width() and not below:
            row2.removeWidget(self.ranges)
            self.range_row.addWidget(self.ranges)
            self.range_row.addStretch(1)
        elif one_row <= self.width() and below:
            while self.range_row.count():
                self.range_row.takeAt(0)
            row2.insertWidget(row2.indexOf(self.source_filter) + 1, self.ranges)

    # --- reading and setting -------------------------------------------------------------

    def query(self) -> ClipQuery:
        status = STATUS_TABS[max(0, self.status_group.checkedId())][0]
        min_frames, max_frames = _spin_value(self.min_frames), _spin_value(self.max_frames)
        return ClipQuery(
            status=status,
            min_motion=_spin_value(self.min_motion), max_motion=_spin_value(self.max_motion),
            min_frames=int(min_frames) if min_frames is not None else None,
            max_frames=int(max_frames) if max_frames is not None else None,
            has_caption=self.caption_filter.currentData(),
            source_id=self.source_filter.currentData(),
            text=self.search.text().strip(),
            target_fps=self.target_fps,
            has_text=self.text_filter.currentData())

    def sort(self) -> ClipSort:
        return ClipSort(self.sort_key.currentData(), self.sort_descending.isChecked())

    def set_sort(self, sort: ClipSort) -> None:
        """Show an order chosen elsewhere (a table header click) without emitting it again."""
        with QSignalBlocker(self.sort_key), QSignalBlocker(self.sort_descending):
            self.sort_key.setCurrentIndex(max(0, self.sort_key.findData(sort.key)))
            self.sort_descending.setChecked(sort.descending)
            self.sort_descending.setText("↓" if sort.descending else "↑")

    def set_status(self, status: str | None) -> None:
        self.status_buttons[status].setChecked(True)
        self._emit_query()

    def set_sources(self, sources: Sequence[tuple[int, str]]) -> None:
        """Fill the source menu (keeps the current choice when it is still there)."""
        current = self.source_filter.currentData()
        with QSignalBlocker(self.source_filter):
            self.source_filter.clear()
            self.source_filter.addItem("All sources", None)
            for source_id, name in sources:
                self.source_filter.addItem(name, source_id)
            self.source_filter.setCurrentIndex(max(0, self.source_filter.findData(current)))

    def set_source(self, source_id: int | None, name: str = "") -> None:
        """Filter to one source (e.g. 'more from this film'), adding it to the menu if needed."""
        if source_id is not None and self.source_filter.findData(source_id) < 0:
            self.source_filter.addItem(name or f"source {source_id}", source_id)
        self.source_filter.setCurrentIndex(max(0, self.source_filter.findData(source_id)))

    def set_counts(self, counts: dict[str, int]) -> None:
        """Counters on the status tabs (from the catalog's trigger-kept counters)."""
        for status, label in STATUS_TABS:
            value = counts.get(status or "total", 0)
            self.status_buttons[status].setText(f"{label}  {value:,}")
        self.captioned_label.setText(f"Captioned {counts.get('captioned', 0):,}")

    def clear(self) -> None:
        blockers = [QSignalBlocker(w) for w in (
            self.search, self.caption_filter, self.text_filter, self.source_filter,
            self.min_motion,
            self.max_motion, self.min_frames, self.max_frames)]
        self.search.clear()
        self.caption_filter.setCurrentIndex(0)
        self.text_filter.setCurrentIndex(0)
        self.source_filter.setCurrentIndex(0)
        for spin in (self.min_motion, self.max_motion, self.min_frames, self.max_frames):
            spin.setValue(spin.minimum())
        self.status_buttons[None].setChecked(True)
        del blockers
        self._debounce.stop()
        self._emit_query()

    def set_search(self, text: str) -> None:
        """Search the captions for `text` (a phrase picked elsewhere) at once."""
        self.search.setText(text)
        self._emit_now()

    def focus_search(self) -> None:
        self.search.setFocus(Qt.FocusReason.ShortcutFocusReason)
        self.search.selectAll()

    # --- emitting ------------------------------------------------------------------------

    def _emit_now(self) -> None:
        self._debounce.stop()
        self._emit_query()

    def _emit_query(self) -> None:
        self.query_changed.emit(self.query())

    def _emit_sort(self) -> None:
        self.sort_changed.emit(self.sort())

    def _on_direction(self, descending: bool) -> None:
        self.sort_descending.setText("↓" if descending else "↑")
        self._emit_sort()
