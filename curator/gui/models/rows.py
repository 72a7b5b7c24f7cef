"""Flat Qt models over a Python list: what every list and table model of the window asks of
Qt (counting rows and columns, titling columns, resetting, bounds) written once.

A subclass keeps its rows in `rows` and answers `row_data` (lists) or `cell_data` (tables)
for one row it is handed; an index outside the rows never reaches it.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any, Generic, TypeVar

from PySide6.QtCore import (
    QAbstractListModel,
    QAbstractTableModel,
    QModelIndex,
    QPersistentModelIndex,
    Qt,
)

Index = QModelIndex | QPersistentModelIndex
ROOT = QModelIndex()  # the invalid index: the parent of every row
Row = TypeVar("Row")


class _Rows(Generic[Row]):
    """The list both kinds of model keep (mixed in before the Qt model class)."""

    rows: list[Row]

    def set_rows(self, rows: Iterable[Row]) -> None:
        """Show these rows instead (views forget their selection)."""
        self.beginResetModel()
        self.rows = list(rows)
        self.endResetModel()

    def row_at(self, row: int) -> Row | None:
        return self.rows[row] if 0 <= row < len(self.rows) else None

    def rowCount(self, parent: Index = ROOT) -> int:
        return 0 if parent.isValid() else len(self.rows)


class RowListModel(_Rows[Row], QAbstractListModel):
    """One row per item of `rows`."""

    def __init__(self, parent: Any = None) -> None:
        super().__init__(parent)
        self.rows = []

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        row = self.row_at(index.row()) if index.isValid() else None
        return None if row is None else self.row_data(row, role)

    def row_data(self, row: Row, role: int) -> Any:
        """What `role` of this row shows (None: nothing)."""
        return None


class RowTableModel(_Rows[Row], QAbstractTableModel):
    """One row per item of `rows`, one column per title of `headers`."""

    def __init__(self, headers: Sequence[str], parent: Any = None) -> None:
        super().__init__(parent)
        self.headers = tuple(headers)
        self.rows = []

    def rows_changed(self, first_column: int = 0) -> None:
        """Every row's cells from `first_column` on show something new."""
        if self.rows:
            self.dataChanged.emit(self.index(0, first_column),
                                  self.index(len(self.rows) - 1, len(self.headers) - 1))

    def columnCount(self, parent: Index = ROOT) -> int:
        return 0 if parent.isValid() else len(self.headers)

    def headerData(self, section: int, orientation: Qt.Orientation,
                   role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if orientation != Qt.Orientation.Horizontal or not 0 <= section < len(self.headers):
            return None
        return self.header_data(section, role)

    def header_data(self, column: int, role: int) -> Any:
        """A column's title; a subclass adds tooltips or alignment."""
        return self.headers[column] if role == Qt.ItemDataRole.DisplayRole else None

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        row = self.row_at(index.row()) if index.isValid() else None
        return None if row is None else self.cell_data(row, index.column(), role)

    def cell_data(self, row: Row, column: int, role: int) -> Any:
        """What `role` of this row's cell in `column` shows (None: nothing)."""
        return None
