"""The Export tab's warnings as a list model, and the proxy that orders and filters them.

A row is a count warning (in the core's order) or an item the export failed on. The proxy
shows what stops the trainer first and one filter group at a time (`plan_edit.WARNING_FILTERS`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from PySide6.QtCore import QSortFilterProxyModel, Qt
from PySide6.QtGui import QIcon

from curator.core.export import ExportReport
from curator.core.export.plan_edit import warning_clip_id, warning_group
from curator.gui.models.rows import Index, RowListModel

CLIP_ROLE = Qt.ItemDataRole.UserRole  # the catalog id of the clip a warning names, or None


@dataclass(frozen=True)
class WarningRow:
    """One line of the list; `rank` orders it: 0 stops the trainer, 1 a warning, 2 a failure."""

    text: str
    rank: int
    groups: frozenset[str]
    clip_id: int | None = None
    tip: str | None = None

    @property
    def error(self) -> bool:
        return self.rank != 1


def warning_rows(report: ExportReport) -> list[WarningRow]:
    """The report's count warnings, then the items its export failed on."""
    rows = []
    for warning in report.counts.all_warnings() if report.counts else []:
        error = warning.severity == "error"
        group = warning_group(warning.code)
        clip_id = warning_clip_id(warning)
        tip = warning.message if clip_id is None else (
            f"{warning.message}\n\nDouble-click to show clip {clip_id}.")
        rows.append(WarningRow(warning.message, 0 if error else 1,
                               frozenset({"error", group} if error else {group}), clip_id, tip))
    rows.extend(WarningRow(f"{failure.path}: {failure.reason}", 2,
                           frozenset({"error", "other"})) for failure in report.failed)
    return rows


class WarningModel(RowListModel[WarningRow]):
    """The rows of the last report, each with its severity's dot."""

    def __init__(self, icons: dict[str, QIcon], parent: Any = None) -> None:
        super().__init__(parent)
        self.icons = icons  # "error" and "warning"

    def row_data(self, row: WarningRow, role: int) -> Any:
        if role == Qt.ItemDataRole.DisplayRole:
            return row.text
        if role == Qt.ItemDataRole.DecorationRole:
            return self.icons["error" if row.error else "warning"]
        if role == Qt.ItemDataRole.ToolTipRole:
            return row.tip
        if role == CLIP_ROLE:
            return row.clip_id
        return None

    def ordered(self) -> list[WarningRow]:
        """Every row in the order the list shows them (what the filter hides included)."""
        return sorted(self.rows, key=lambda r: r.rank)


class WarningFilter(QSortFilterProxyModel):
    """Worst first (else the core's order), failures last; only the chosen group's rows."""

    def __init__(self, source: WarningModel, parent: Any = None) -> None:
        super().__init__(parent)
        self.group = "all"
        self.setSourceModel(source)
        self.sort(0)

    def set_group(self, group: str) -> None:
        self.beginFilterChange()
        self.group = group
        self.endFilterChange(QSortFilterProxyModel.Direction.Rows)

    def _row(self, source_row: int) -> WarningRow:
        model = self.sourceModel()
        assert isinstance(model, WarningModel)
        return model.rows[source_row]

    def filterAcceptsRow(self, source_row: int, source_parent: Index) -> bool:
        return self.group == "all" or self.group in self._row(source_row).groups

    def lessThan(self, left: Index, right: Index) -> bool:
        return ((self._row(left.row()).rank, left.row())
                < (self._row(right.row()).rank, right.row()))
