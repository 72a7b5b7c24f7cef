"""The Export tab's section table: one row per plan section, edited cell by cell.

The cells' meaning (what a cell shows, what typed text changes) is the core's
`curator.core.export.plan_edit`; this module only draws it and offers editors.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QModelIndex, Qt
from PySide6.QtGui import QBrush, QColor
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QHeaderView,
    QLineEdit,
    QSpinBox,
    QStyledItemDelegate,
    QStyleOptionViewItem,
    QTableWidget,
    QTableWidgetItem,
    QWidget,
)

from curator.core.export import ExportReport, Section
from curator.core.export.extraction import MODES, round_frames
from curator.core.export.plan_edit import (
    COL,
    COLUMNS,
    INT_COLUMNS,
    MODE_TIPS,
    Column,
    applies,
    cell_text,
)
from curator.gui.theme import DIM_COLOR, ERROR_COLOR, MUTED_COLOR, WARNING_COLOR

WIDTHS = {"name": 140, "kind": 70, "resolution": 90, "mode": 84, "targets": 104,
          "stride": 62, "sample": 66, "max_frames": 96, "repeats": 74, "batch": 60,
          "files": 64, "items": 64, "batches": 72}
RIGHT = Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter


class SectionDelegate(QStyledItemDelegate):
    """Editors for the section table: lists for kind and extraction, spin boxes for numbers,
    an editable list of tags and sources for 'Clips from'."""

    def __init__(self, choices: Callable[[], list[str]], parent: QWidget) -> None:
        super().__init__(parent)
        self._choices = choices

    def createEditor(self, parent: QWidget, option: QStyleOptionViewItem,
                     index: QModelIndex) -> QWidget:
        key = COLUMNS[index.column()].key
        if key in ("kind", "mode"):
            combo = QComboBox(parent)
            combo.addItems(["images", "videos"] if key == "kind" else list(MODES))
            if key == "mode":
                for i, mode in enumerate(MODES):
                    combo.setItemData(i, MODE_TIPS[mode], Qt.ItemDataRole.ToolTipRole)
            # A choice is a whole edit: commit it at once instead of on focus-out.
            combo.activated.connect(lambda _i, c=combo: self._commit(c))
            return combo
        if key in INT_COLUMNS:
            spin = QSpinBox(parent)
            spin.setRange(1, 100_000)
            spin.setAlignment(Qt.AlignmentFlag.AlignRight)
            return spin
        if key == "select":
            combo = QComboBox(parent)
            combo.setEditable(True)
            combo.setInsertPolicy(QComboBox.InsertPolicy.NoInsert)
            combo.addItems(self._choices())
            return combo
        editor = QLineEdit(parent)
        editor.setPlaceholderText({"resolution": "768×416", "targets": "1, 21"}.get(key, ""))
        return editor

    def _commit(self, editor: QWidget) -> None:
        self.commitData.emit(editor)
        self.closeEditor.emit(editor, QStyledItemDelegate.EndEditHint.NoHint)

    def setEditorData(self, editor: QWidget, index: QModelIndex) -> None:
        text = str(index.data(Qt.ItemDataRole.EditRole) or "")
        if isinstance(editor, QSpinBox):
            editor.setValue(int(text) if text.isdigit() else 1)
        elif isinstance(editor, QComboBox):
            if editor.isEditable():
                editor.setEditText(text)
            else:
                editor.setCurrentIndex(max(0, editor.findText(text)))
        elif isinstance(editor, QLineEdit):
            editor.setText(text)

    def setModelData(self, editor: QWidget, model: Any, index: QModelIndex) -> None:
        if isinstance(editor, QSpinBox):
            text = str(editor.value())
        elif isinstance(editor, QComboBox):
            text = editor.currentText()
        elif isinstance(editor, QLineEdit):
            text = editor.text()
        else:
            return
        if text != str(index.data(Qt.ItemDataRole.EditRole) or ""):
            model.setData(index, text, Qt.ItemDataRole.EditRole)


def cell_tip(section: Section, column: Column) -> str:
    if column.key == "mode" and section.extraction is not None:
        return f"{section.extraction.mode}: {MODE_TIPS[section.extraction.mode]}"
    return column.tip


def _section_item(section: Section, column: Column) -> QTableWidgetItem:
    item = QTableWidgetItem()
    flags = Qt.ItemFlag.ItemIsSelectable | Qt.ItemFlag.ItemIsEnabled
    if column.computed:
        item.setTextAlignment(RIGHT)
        font = item.font()
        font.setBold(True)
        item.setFont(font)
        item.setFlags(flags)
        return item
    text = cell_text(section, column.key)
    item.setText(text)
    if applies(section, column.key):
        flags |= Qt.ItemFlag.ItemIsEditable
        item.setToolTip(cell_tip(section, column))
    else:
        item.setForeground(QBrush(QColor(DIM_COLOR)))
        item.setTextAlignment(Qt.AlignmentFlag.AlignCenter)
    if column.key in INT_COLUMNS and text != "–":
        item.setTextAlignment(RIGHT)
    if column.key == "name":
        font = item.font()
        font.setBold(True)
        item.setFont(font)
    if column.key == "select" and section.select.everything:
        item.setForeground(QBrush(QColor(MUTED_COLOR)))
    if column.key == "targets" and section.extraction is not None:
        rounded = [t for t in section.extraction.target_frames if round_frames(t) != t]
        if rounded:
            item.setForeground(QBrush(QColor(WARNING_COLOR)))
            item.setToolTip("Not 4n+1: " + ", ".join(
                f"{t} → {round_frames(t)}" for t in rounded))
    item.setFlags(flags)
    return item


class SectionTable(QTableWidget):
    """The plan's sections as rows; `filling` is true while rows are rewritten (no edits)."""

    def __init__(self, choices: Callable[[], list[str]], parent: QWidget | None = None) -> None:
        super().__init__(0, len(COLUMNS), parent)
        self.filling = False
        self.setObjectName("sectionTable")
        self.setAlternatingRowColors(True)
        self.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.setEditTriggers(QAbstractItemView.EditTrigger.DoubleClicked
                             | QAbstractItemView.EditTrigger.EditKeyPressed
                             | QAbstractItemView.EditTrigger.AnyKeyPressed)
        self.verticalHeader().hide()
        self.verticalHeader().setDefaultSectionSize(28)
        self.setShowGrid(False)
        self.setWordWrap(False)
        self.setItemDelegate(SectionDelegate(choices, self))
        for i, column in enumerate(COLUMNS):
            item = QTableWidgetItem(column.title)
            item.setToolTip(column.tip)
            if column.computed or column.key in INT_COLUMNS:
                item.setTextAlignment(RIGHT)
            self.setHorizontalHeaderItem(i, item)
        header = self.horizontalHeader()
        header.setHighlightSections(False)
        header.setDefaultAlignment(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter)
        header.setMinimumSectionSize(54)
        for key, width in WIDTHS.items():
            header.resizeSection(COL[key], width)
        header.setSectionResizeMode(COL["select"], QHeaderView.ResizeMode.Stretch)
        self.setVerticalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAsNeeded)

    def fill(self, sections: tuple[Section, ...] | list[Section], select: int) -> None:
        """Rewrite every row from the sections and select one."""
        self.filling = True
        self.blockSignals(True)
        self.setRowCount(len(sections))
        for row, section in enumerate(sections):
            for col, column in enumerate(COLUMNS):
                self.setItem(row, col, _section_item(section, column))
        self.blockSignals(False)
        self.filling = False
        self._fit(len(sections))
        if sections:
            self.selectRow(select)

    def _fit(self, count: int) -> None:
        # As tall as its rows (at least three, at most eight): the rest goes to the warnings.
        rows = min(max(count, 3), 8)
        height = (self.horizontalHeader().sizeHint().height()
                  + rows * self.verticalHeader().defaultSectionSize()
                  + 2 * self.frameWidth() + 2)
        self.setFixedHeight(height)

    def show_counts(self, sections: tuple[Section, ...] | list[Section],
                    report: ExportReport | None) -> None:
        """Fill the computed columns (files, items, batches) from a count, '…' while none."""
        counts = report.counts if report is not None else None
        self.blockSignals(True)
        for row, section in enumerate(sections):
            try:
                count = counts.section(section.name) if counts is not None else None
            except KeyError:
                count = None
            values = {"files": count.files, "items": count.items,
                      "batches": count.batches} if count is not None else {}
            tip = ""
            if count is not None and count.buckets:
                tip = "\n".join(f"{b.key}: {b.files} files, {b.items} items, {b.batches} "
                                f"batches" for b in count.buckets)
            for key in ("files", "items", "batches"):
                item = self.item(row, COL[key])
                if item is None:
                    continue
                item.setText(f"{values[key]:,}" if key in values else "…")
                item.setToolTip(tip or "Counting…")
                if count is not None and not count.items:
                    item.setForeground(QBrush(QColor(ERROR_COLOR)))
                else:
                    item.setData(Qt.ItemDataRole.ForegroundRole, None)
        self.blockSignals(False)
