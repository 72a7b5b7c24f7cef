"""Item delegates for the clip table: the caption column is edited in place.

`CaptionDelegate` gives the caption cell a one-line editor. The edit is committed on Enter, on
Tab and when the editor loses focus (QStyledItemDelegate's own event filter), Escape drops it;
committing calls the model's `setData`, which saves through the core at once
(jhc13/taggui:taggui/utils/text_edit_item_delegate.py). Captions that do not start with the
project's trigger phrase get an amber mark, so they stand out while scrolling the table.
"""

from __future__ import annotations

from PySide6.QtCore import (
    QAbstractItemModel,
    QEvent,
    QModelIndex,
    QPersistentModelIndex,
    QPointF,
    Qt,
)
from PySide6.QtGui import QColor, QHelpEvent, QPainter, QPolygonF
from PySide6.QtWidgets import (
    QAbstractItemView,
    QLineEdit,
    QStyledItemDelegate,
    QStyleOptionViewItem,
    QToolTip,
    QWidget,
)

from curator.core.catalog import Catalog
from curator.gui.panels.caption_panel import one_line, starts_with_trigger

Index = QModelIndex | QPersistentModelIndex
WARNING_COLOR = QColor("#d29922")
MARK = 7  # side of the corner mark, in pixels


class CaptionDelegate(QStyledItemDelegate):
    """Edits a caption cell with a one-line editor; marks captions missing the trigger.

    Args:
        catalog: read for the trigger phrase (`refresh_trigger` reads it again).
        trigger: the trigger phrase, when no catalog is given.
    """

    def __init__(self, catalog: Catalog | None = None, trigger: str = "",
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.catalog = catalog
        self.trigger = trigger.strip()
        if catalog is not None:
            self.refresh_trigger()

    def refresh_trigger(self) -> None:
        """Read the project's trigger phrase again (after the settings changed)."""
        if self.catalog is not None:
            self.trigger = (self.catalog.settings().trigger or "").strip()

    def missing_trigger(self, index: Index) -> bool:
        text = index.data(Qt.ItemDataRole.EditRole)
        return bool(self.trigger) and bool(text) and not starts_with_trigger(str(text),
                                                                             self.trigger)

    # --- editing ---------------------------------------------------------------------------

    def createEditor(self, parent: QWidget, option: QStyleOptionViewItem,
                     index: Index) -> QWidget:
        editor = QLineEdit(parent)
        editor.setObjectName("captionCellEditor")
        editor.setFrame(False)
        if self.trigger:
            editor.setPlaceholderText(f"{self.trigger} …")
        editor.setToolTip("Enter saves, Escape cancels")
        return editor

    def setEditorData(self, editor: QWidget, index: Index) -> None:
        if isinstance(editor, QLineEdit):
            editor.setText(str(index.data(Qt.ItemDataRole.EditRole) or ""))
            editor.end(False)
        else:
            super().setEditorData(editor, index)

    def setModelData(self, editor: QWidget, model: QAbstractItemModel,
                     index: Index) -> None:
        if isinstance(editor, QLineEdit):
            text = one_line(editor.text()).strip()
            if text != str(index.data(Qt.ItemDataRole.EditRole) or ""):
                model.setData(index, text, Qt.ItemDataRole.EditRole)  # saves through the core
        else:
            super().setModelData(editor, model, index)

    def updateEditorGeometry(self, editor: QWidget, option: QStyleOptionViewItem,
                             index: Index) -> None:
        editor.setGeometry(option.rect)

    # --- painting --------------------------------------------------------------------------

    def paint(self, painter: QPainter, option: QStyleOptionViewItem, index: Index) -> None:
        super().paint(painter, option, index)
        if self.missing_trigger(index):
            r = option.rect
            painter.save()
            painter.setRenderHint(QPainter.RenderHint.Antialiasing, True)
            painter.setPen(Qt.PenStyle.NoPen)
            painter.setBrush(WARNING_COLOR)
            painter.drawPolygon(QPolygonF([QPointF(r.left(), r.top()),
                                           QPointF(r.left() + MARK, r.top()),
                                           QPointF(r.left(), r.top() + MARK)]))
            painter.restore()

    def helpEvent(self, event: QHelpEvent, view: QAbstractItemView,
                  option: QStyleOptionViewItem, index: Index) -> bool:
        if event.type() == QEvent.Type.ToolTip and self.missing_trigger(index):
            text = str(index.data(Qt.ItemDataRole.EditRole))
            QToolTip.showText(event.globalPos(),
                              f"Does not start with the trigger phrase “{self.trigger}”.\n\n"
                              f"{text}", view)
            return True
        return super().helpEvent(event, view, option, index)
