"""The Export tab's section table: a view of `SectionModel`, edited cell by cell.

The cells' meaning (what a cell shows, what typed text changes) is the core's
`curator.core.export.plan_edit`, read by the model; this module draws it and offers editors.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QModelIndex, Qt
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QHeaderView,
    QLineEdit,
    QSpinBox,
    QStyledItemDelegate,
    QStyleOptionViewItem,
    QTableView,
    QWidget,
)

from curator.core.export import DatasetPlan, ExportReport
from curator.core.export.extraction import MODES
from curator.core.export.plan_edit import COL, COLUMNS, INT_COLUMNS, MODE_TIPS
from curator.gui.tabs.export.section_model import SectionModel

WIDTHS = {"name": 140, "kind": 70, "resolution": 90, "mode": 84, "targets": 104,
          "stride": 62, "sample": 66, "max_frames": 96, "repeats": 74, "batch": 60,
          "files": 64, "items": 64, "batches": 72}


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


class SectionTable(QTableView):
    """The plan's sections as rows of a `SectionModel`, edited through `SectionDelegate`."""

    def __init__(self, choices: Callable[[], list[str]], parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.sections = SectionModel(self)
        self.setModel(self.sections)
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
        header = self.horizontalHeader()
        header.setHighlightSections(False)
        header.setDefaultAlignment(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter)
        header.setMinimumSectionSize(54)
        for key, width in WIDTHS.items():
            header.resizeSection(COL[key], width)
        header.setSectionResizeMode(COL["select"], QHeaderView.ResizeMode.Stretch)
        self.setVerticalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAsNeeded)

    def show_plan(self, plan: DatasetPlan, select: int, report: ExportReport | None) -> None:
        """Show the plan's sections with the counts of `report` (by name), and select a row."""
        self.sections.set_plan(plan)
        self.sections.set_report(report)
        self._fit(len(plan.sections))
        if plan.sections:
            self.selectRow(select)

    def current_row(self) -> int:
        """The row of the current cell, -1 when there is none."""
        return self.currentIndex().row()

    def cell(self, row: int, key: str) -> str:
        """What a cell shows."""
        return str(self.sections.index(row, COL[key]).data() or "")

    def set_cell(self, row: int, key: str, text: str) -> None:
        """Type `text` into a cell, as its editor does."""
        self.sections.setData(self.sections.index(row, COL[key]), text)

    def _fit(self, count: int) -> None:
        # As tall as its rows (at least three, at most eight): the rest goes to the warnings.
        rows = min(max(count, 3), 8)
        height = (self.horizontalHeader().sizeHint().height()
                  + rows * self.verticalHeader().defaultSectionSize()
                  + 2 * self.frameWidth() + 2)
        self.setFixedHeight(height)
