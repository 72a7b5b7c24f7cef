"""The reject-reason picker: R, then a digit (or Enter on the highlighted reason)."""

from __future__ import annotations

from PySide6.QtCore import QEvent, QObject, Qt, Signal
from PySide6.QtGui import QKeyEvent
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QVBoxLayout,
    QWidget,
)

from curator.gui.models.clip_table_model import REJECT_REASONS

OTHER = "other"


class RejectReasonDialog(QDialog):
    """Non-blocking (`open()`): emits `reason_chosen` with a stable id or the typed text."""

    reason_chosen = Signal(str)

    def __init__(self, count: int, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Reject")
        self.setObjectName("rejectReasonDialog")
        layout = QVBoxLayout(self)
        what = "this clip" if count == 1 else f"these {count} clips"
        layout.addWidget(QLabel(f"Why reject {what}? Press a number, or Enter."))
        self.reasons = QListWidget()
        for number, (key, label) in enumerate(REJECT_REASONS.items(), start=1):
            entry = QListWidgetItem(f"{number}   {label}")
            entry.setData(Qt.ItemDataRole.UserRole, key)
            self.reasons.addItem(entry)
        other = QListWidgetItem(f"{len(REJECT_REASONS) + 1}   Other…")
        other.setData(Qt.ItemDataRole.UserRole, OTHER)
        self.reasons.addItem(other)
        self.reasons.setCurrentRow(0)
        # The list has the focus and would take a digit as keyboard search (moving the
        # highlight only); the digit must pick the reason and close, as the label promises.
        self.reasons.installEventFilter(self)
        self.reasons.itemActivated.connect(lambda _item: self.accept())
        self.reasons.currentRowChanged.connect(self._on_row)
        self.reasons.setMinimumHeight(self.reasons.sizeHintForRow(0) * (len(REJECT_REASONS) + 1)
                                      + 8)
        layout.addWidget(self.reasons)
        self.other_text = QLineEdit()
        self.other_text.setPlaceholderText("Your reason")
        self.other_text.setEnabled(False)
        self.other_text.returnPressed.connect(self.accept)
        layout.addWidget(self.other_text)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok
                                   | QDialogButtonBox.StandardButton.Cancel)
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        layout.addWidget(buttons)
        self.reasons.setFocus()

    def chosen(self) -> str | None:
        item = self.reasons.currentItem()
        if item is None:
            return None
        key = item.data(Qt.ItemDataRole.UserRole)
        if key == OTHER:
            return self.other_text.text().strip() or None
        return key

    def accept(self) -> None:
        reason = self.chosen()
        if reason is None:  # "Other" with nothing typed: wait for the words
            self.other_text.setFocus()
            return
        super().accept()
        self.reason_chosen.emit(reason)

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if (watched is self.reasons and event.type() == QEvent.Type.KeyPress
                and self._pick_by_digit(event)):
            return True
        return super().eventFilter(watched, event)

    def keyPressEvent(self, event: QKeyEvent) -> None:
        if not self.other_text.hasFocus() and self._pick_by_digit(event):
            return
        super().keyPressEvent(event)

    def _pick_by_digit(self, event: QKeyEvent) -> bool:
        """A digit picks its reason and closes (Other… asks for the words); True if taken."""
        text = event.text()
        if not text.isdigit() or event.modifiers() & ~Qt.KeyboardModifier.KeypadModifier:
            return False
        row = int(text) - 1
        if not 0 <= row < self.reasons.count():
            return True  # a digit with no reason: swallowed, not a keyboard search
        self.reasons.setCurrentRow(row)
        if self.reasons.currentItem().data(Qt.ItemDataRole.UserRole) == OTHER:
            self.other_text.setFocus()
        else:
            self.accept()
        return True

    def _on_row(self, row: int) -> None:
        is_other = self.reasons.item(row) is not None and \
            self.reasons.item(row).data(Qt.ItemDataRole.UserRole) == OTHER
        self.other_text.setEnabled(is_other)
