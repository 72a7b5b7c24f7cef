"""Qt models over the core's statistics: the caption vocabulary and a list of clip ids."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from PySide6.QtCore import (
    QAbstractListModel,
    QAbstractTableModel,
    QModelIndex,
    QPersistentModelIndex,
    Qt,
)

from curator.core.stats import PhraseCount

KIND_LABELS = {"opening": "opens with", "word": "in nearly all", "2-gram": "2 words",
               "3-gram": "3 words", "4-gram": "4 words"}

_Index = QModelIndex | QPersistentModelIndex
SORT_ROLE = Qt.ItemDataRole.UserRole
_ROOT = QModelIndex()  # the invalid index: the parent of every row


class PhraseTableModel(QAbstractTableModel):
    """Phrases with the number and share of captions holding them."""

    HEADERS = ("Kind", "Phrase", "Captions", "Share")

    def __init__(self, parent: Any = None) -> None:
        super().__init__(parent)
        self._rows: list[PhraseCount] = []

    def set_phrases(self, phrases: Sequence[PhraseCount]) -> None:
        self.beginResetModel()
        self._rows = list(phrases)
        self.endResetModel()

    def phrase(self, row: int) -> PhraseCount | None:
        return self._rows[row] if 0 <= row < len(self._rows) else None

    def rowCount(self, parent: _Index = _ROOT) -> int:
        return 0 if parent.isValid() else len(self._rows)

    def columnCount(self, parent: _Index = _ROOT) -> int:
        return 0 if parent.isValid() else len(self.HEADERS)

    def headerData(self, section: int, orientation: Qt.Orientation,
                   role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if role == Qt.ItemDataRole.DisplayRole and orientation == Qt.Orientation.Horizontal:
            return self.HEADERS[section]
        return None

    def data(self, index: _Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid():
            return None
        p = self._rows[index.row()]
        column = index.column()
        if role == Qt.ItemDataRole.DisplayRole:
            share = f"{p.share:.0%}" if p.share >= 0.1 else f"{p.share:.1%}"
            return (KIND_LABELS.get(p.kind, p.kind), p.phrase, f"{p.captions:,}", share)[column]
        if role == SORT_ROLE:  # numbers sort as numbers
            return (p.kind, p.phrase, p.captions, p.share)[column]
        if role == Qt.ItemDataRole.TextAlignmentRole and column >= 2:
            return int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        if role == Qt.ItemDataRole.ToolTipRole:
            return f"Show the {p.captions:,} captions holding “{p.phrase}” in the browser"
        return None


class ClipIdListModel(QAbstractListModel):
    """Clip ids to open, one per row ("clip 123"), with a title saying why they are listed."""

    def __init__(self, parent: Any = None) -> None:
        super().__init__(parent)
        self.ids: list[int] = []

    def set_ids(self, ids: Sequence[int]) -> None:
        self.beginResetModel()
        self.ids = list(ids)
        self.endResetModel()

    def rowCount(self, parent: _Index = _ROOT) -> int:
        return 0 if parent.isValid() else len(self.ids)

    def data(self, index: _Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid():
            return None
        if role == Qt.ItemDataRole.DisplayRole:
            return f"clip {self.ids[index.row()]}"
        if role == Qt.ItemDataRole.UserRole:
            return self.ids[index.row()]
        return None
