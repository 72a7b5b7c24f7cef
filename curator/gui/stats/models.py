"""Qt models over the core's statistics: the caption vocabulary and a list of clip ids."""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import Qt

from curator.core.stats import PhraseCount
from curator.gui.models.rows import RowListModel, RowTableModel

KIND_LABELS = {"opening": "opens with", "word": "in nearly all", "2-gram": "2 words",
               "3-gram": "3 words", "4-gram": "4 words"}

SORT_ROLE = Qt.ItemDataRole.UserRole


class PhraseTableModel(RowTableModel[PhraseCount]):
    """Phrases with the number and share of captions holding them."""

    HEADERS = ("Kind", "Phrase", "Captions", "Share")

    def __init__(self, parent: Any = None) -> None:
        super().__init__(self.HEADERS, parent)

    def cell_data(self, p: PhraseCount, column: int, role: int) -> Any:
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


class ClipIdListModel(RowListModel[int]):
    """Clip ids to open, one per row ("clip 123"), with a title saying why they are listed."""

    @property
    def ids(self) -> list[int]:
        return self.rows

    def row_data(self, clip_id: int, role: int) -> Any:
        if role == Qt.ItemDataRole.DisplayRole:
            return f"clip {clip_id}"
        if role == Qt.ItemDataRole.UserRole:
            return clip_id
        return None
