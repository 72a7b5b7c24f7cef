"""The Export tab's sections as a table model: a row per plan section, a column per
`plan_edit.COLUMNS` entry.

What a cell shows and what typed text changes are the core's (`curator.core.export.plan_edit`):
`setData` turns the text into section keys with `cell_change` and a new plan with
`edit_section`, then hands that plan to the tab (`edited`) or says why not (`refused`). The
model never changes its own plan: the tab decides and calls `set_plan`, so a refused edit
leaves the cell showing what the plan holds.
"""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QBrush, QColor, QFont

from curator.core.export import DatasetPlan, ExportReport, PlanError, Section
from curator.core.export.counting import SectionCount
from curator.core.export.extraction import round_frames
from curator.core.export.plan_edit import (
    COLUMNS,
    INT_COLUMNS,
    MODE_TIPS,
    Column,
    applies,
    cell_change,
    cell_text,
    edit_section,
)
from curator.gui.models.rows import Index, RowTableModel
from curator.gui.theme import DIM_COLOR, ERROR_COLOR, MUTED_COLOR, WARNING_COLOR

RIGHT = Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter
COUNTED = ("files", "items", "batches")
_BOLD = QFont()
_BOLD.setBold(True)


def cell_tip(section: Section, column: Column) -> str:
    """An editable cell's tooltip: the column's, or what the section's extraction mode does."""
    if column.key == "mode" and section.extraction is not None:
        return f"{section.extraction.mode}: {MODE_TIPS[section.extraction.mode]}"
    return column.tip


def rounded_targets(section: Section) -> list[int]:
    """The section's target frames that are not 4n+1 (the trainer rounds them down)."""
    if section.extraction is None:
        return []
    return [t for t in section.extraction.target_frames if round_frames(t) != t]


class SectionModel(RowTableModel[Section]):
    """The plan's sections and, in the computed columns, the last count of each (by name)."""

    edited = Signal(object, int)  # DatasetPlan with one cell changed, the row edited
    refused = Signal(str)  # why a typed cell was not taken

    def __init__(self, parent: Any = None) -> None:
        super().__init__([column.title for column in COLUMNS], parent)
        self.plan: DatasetPlan | None = None
        self.report: ExportReport | None = None

    def set_plan(self, plan: DatasetPlan) -> None:
        """Show this plan; the rows are kept (with the view's selection) when only cells change."""
        self.plan = plan
        if len(plan.sections) == len(self.rows):
            self.rows = list(plan.sections)
            self.rows_changed()
        else:
            self.set_rows(plan.sections)

    def set_report(self, report: ExportReport | None) -> None:
        """Fill the computed columns from a count ('…' while there is none)."""
        self.report = report
        self.rows_changed(first_column=min(i for i, c in enumerate(COLUMNS) if c.computed))

    def count(self, section: Section) -> SectionCount | None:
        """The last count of a section, or None while it is not counted."""
        counts = self.report.counts if self.report is not None else None
        try:
            return counts.section(section.name) if counts is not None else None
        except KeyError:
            return None

    # --- Qt's model interface ----------------------------------------------------------------

    def header_data(self, index: int, role: int) -> Any:
        column = COLUMNS[index]
        if role == Qt.ItemDataRole.ToolTipRole:
            return column.tip
        if role == Qt.ItemDataRole.TextAlignmentRole and (column.computed
                                                          or column.key in INT_COLUMNS):
            return RIGHT
        return super().header_data(index, role)

    def flags(self, index: Index) -> Qt.ItemFlag:
        flags = Qt.ItemFlag.ItemIsSelectable | Qt.ItemFlag.ItemIsEnabled
        if not index.isValid():
            return Qt.ItemFlag.NoItemFlags
        column = COLUMNS[index.column()]
        if not column.computed and applies(self.rows[index.row()], column.key):
            flags |= Qt.ItemFlag.ItemIsEditable
        return flags

    def cell_data(self, section: Section, index: int, role: int) -> Any:
        column = COLUMNS[index]
        if column.computed:
            return self._count_data(section, column.key, role)
        if role in (Qt.ItemDataRole.DisplayRole, Qt.ItemDataRole.EditRole):
            return cell_text(section, column.key)
        if role == Qt.ItemDataRole.FontRole:
            return _BOLD if column.key == "name" else None
        if not applies(section, column.key):
            return {Qt.ItemDataRole.ForegroundRole: QBrush(QColor(DIM_COLOR)),
                    Qt.ItemDataRole.TextAlignmentRole: Qt.AlignmentFlag.AlignCenter}.get(role)
        rounded = rounded_targets(section) if column.key == "targets" else []
        if role == Qt.ItemDataRole.ToolTipRole:
            if rounded:
                return "Not 4n+1: " + ", ".join(f"{t} → {round_frames(t)}" for t in rounded)
            return cell_tip(section, column)
        if role == Qt.ItemDataRole.TextAlignmentRole:
            return RIGHT if column.key in INT_COLUMNS else None
        if role == Qt.ItemDataRole.ForegroundRole:
            if rounded:
                return QBrush(QColor(WARNING_COLOR))
            if column.key == "select" and section.select.everything:
                return QBrush(QColor(MUTED_COLOR))
        return None

    def _count_data(self, section: Section, key: str, role: int) -> Any:
        count = self.count(section)
        if role == Qt.ItemDataRole.DisplayRole:
            return f"{getattr(count, key):,}" if count is not None else "…"
        if role == Qt.ItemDataRole.ToolTipRole:
            if count is None or not count.buckets:
                return "Counting…"
            return "\n".join(f"{b.key}: {b.files} files, {b.items} items, {b.batches} batches"
                             for b in count.buckets)
        if role == Qt.ItemDataRole.TextAlignmentRole:
            return RIGHT
        if role == Qt.ItemDataRole.FontRole:
            return _BOLD
        if role == Qt.ItemDataRole.ForegroundRole and count is not None and not count.items:
            return QBrush(QColor(ERROR_COLOR))
        return None

    def setData(self, index: Index, value: Any, role: int = Qt.ItemDataRole.EditRole) -> bool:
        """Typed text for a cell: a new plan through the core's plan editing, or a refusal."""
        if (role != Qt.ItemDataRole.EditRole or self.plan is None or not index.isValid()
                or COLUMNS[index.column()].computed):
            return False
        row = index.row()
        try:
            changes = cell_change(self.rows[row], COLUMNS[index.column()].key, str(value))
            plan = edit_section(self.plan, row, **changes)
        except (ValueError, PlanError) as exc:
            self.refused.emit(str(exc))
            return False
        self.edited.emit(plan, row)
        return True

