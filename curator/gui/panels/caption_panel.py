"""Details and caption of the current clip or image: edited in place, saved at once.

A caption is saved as a new manual version on Enter, when the editor loses focus, and after a
short pause in typing (`SAVE_DELAY_MS`); moving to another item saves first, so an edit is
never lost. The project's trigger phrase is shown above the editor, with a warning and a
one-click fix when the caption does not start with it. Every version is listed in the history
and any of them can be made current again (as a new version: history is never rewritten).

Catalog writes here are one small row each and run on the GUI thread; anything larger (find
and replace across captions) runs as a job.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from PySide6.QtCore import QMimeData, Qt, Signal, Slot
from PySide6.QtGui import QFocusEvent, QKeyEvent
from PySide6.QtWidgets import (
    QFrame,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QPlainTextEdit,
    QSizePolicy,
    QSplitter,
    QToolButton,
    QTreeWidget,
    QTreeWidgetItem,
    QVBoxLayout,
    QWidget,
)

from curator.core.catalog import CaptionRow, Catalog, CatalogError, ClipRow, ImageRow
from curator.core.trigger import starts_with_trigger, with_trigger
from curator.gui.latest import single_shot
from curator.gui.panels.trigger_fix import TriggerFixBar
from curator.gui.widgets.layout import flush_column, note_label, push_button

SAVE_DELAY_MS = 800
KINDS = ("clip", "image")


# --- pure helpers -------------------------------------------------------------------------

def one_line(text: str) -> str:
    """A caption as one paragraph: line breaks become spaces (trainers read one line)."""
    return " ".join(part.strip() for part in text.splitlines() if part.strip()) \
        if "\n" in text or "\r" in text else text


def local_time(moment: datetime | None) -> str:
    """A stored (UTC) time as local `YYYY-MM-DD HH:MM:SS`."""
    if moment is None:
        return ""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone().strftime("%Y-%m-%d %H:%M:%S")


def origin_text(row: ClipRow | ImageRow) -> str:
    """Who wrote an item's current caption, in words."""
    if not row.caption:
        return "No caption yet"
    origin = row.caption_origin
    if origin in (None, "manual") or row.caption_is_manual:
        return "Written by hand"
    return f"Written by {origin}"


def item_details(kind: str, row: Any) -> str:
    """A short rich-text line about a clip or an image, for the panel's header."""
    if kind == "clip":
        clip: ClipRow = row
        fps = float(clip.fps) if clip.fps else 0.0
        parts = [f"<b>{Path(clip.source_path).name}</b> [{clip.start_frame}, {clip.end_frame})",
                 f"{clip.frames} frames · {clip.duration:.2f} s @ {fps:.3g} fps",
                 f"{clip.width}×{clip.height}", clip.decision]
        if clip.decision == "rejected" and clip.reason:
            parts[-1] += f" ({clip.reason})"
        if clip.motion is not None:
            parts.append(f"motion {clip.motion:.1f}")
        if clip.cuts:
            parts.append(f"{clip.cuts} hidden cut{'s' if clip.cuts > 1 else ''}")
        return " · ".join(parts)
    image: ImageRow = row
    parts = [f"<b>{Path(image.path).name}</b>", f"{image.width}×{image.height}", image.decision]
    if image.crop:
        x, y, w, h = image.crop
        parts.append(f"crop {w}×{h} at ({x}, {y})")
    return " · ".join(parts)


# --- widgets ------------------------------------------------------------------------------

class CaptionEdit(QPlainTextEdit):
    """A caption editor: Enter commits (no line breaks), leaving the editor commits too."""

    commit_requested = Signal()

    def keyPressEvent(self, event: QKeyEvent) -> None:
        if event.key() in (Qt.Key.Key_Return, Qt.Key.Key_Enter):
            event.accept()
            self.commit_requested.emit()
            return
        super().keyPressEvent(event)

    def focusOutEvent(self, event: QFocusEvent) -> None:
        super().focusOutEvent(event)
        self.commit_requested.emit()

    def insertFromMimeData(self, source: QMimeData) -> None:  # noqa: N802 - Qt API
        if source.hasText():
            self.insertPlainText(one_line(source.text()))
        else:
            super().insertFromMimeData(source)


class CaptionPanel(QWidget):
    """Shows an item's details and edits its caption; saves each change as a manual version.

    Signals:
        caption_saved(object): a `CaptionRow` just saved (typed, restored or trigger added).
    """

    caption_saved = Signal(object)

    def __init__(self, catalog: Catalog, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("captionPanel")
        self.catalog = catalog
        self._kind: str | None = None
        self._row: Any = None
        self._saved_text = ""
        self._loading = False
        self._trigger = ""
        self._save_timer = single_shot(SAVE_DELAY_MS, self.save_now, self)
        self._build()
        self.show_item("clip", None)

    # --- layout ----------------------------------------------------------------------------

    def _build(self) -> None:
        layout = QVBoxLayout(self)
        layout.setContentsMargins(8, 6, 8, 6)
        layout.setSpacing(6)
        self.details = note_label("captionDetails")
        layout.addWidget(self.details)

        self.trigger_label = QLabel()
        self.trigger_label.setObjectName("triggerLabel")
        self.trigger_label.setTextFormat(Qt.TextFormat.RichText)
        layout.addWidget(self.trigger_label)

        self.warning = QFrame()
        self.warning.setObjectName("triggerWarning")
        self.warning.setStyleSheet(
            "#triggerWarning { background: #3d2e00; border: 1px solid #9e6a03; "
            "border-radius: 4px; } #triggerWarning QLabel { color: #f2cc60; }")
        row = QHBoxLayout(self.warning)
        row.setContentsMargins(8, 3, 4, 3)
        self.warning_text = QLabel()
        self.warning_text.setWordWrap(True)
        row.addWidget(self.warning_text, 1)
        self.add_trigger_button = push_button("Add trigger", "addTrigger",
                                              "Put the trigger phrase at the start and save",
                                              self.add_trigger)
        row.addWidget(self.add_trigger_button)
        self.warning.setVisible(False)
        layout.addWidget(self.warning)
        self.trigger_fix = TriggerFixBar(self.catalog)  # every caption, not just this one
        self.caption_saved.connect(self.trigger_fix.recount_soon)
        layout.addWidget(self.trigger_fix)

        self.splitter = QSplitter(Qt.Orientation.Vertical)
        self.splitter.setChildrenCollapsible(False)
        self.editor = CaptionEdit()
        self.editor.setObjectName("captionEditor")
        self.editor.setTabChangesFocus(True)
        self.editor.setLineWrapMode(QPlainTextEdit.LineWrapMode.WidgetWidth)
        self.editor.setMinimumHeight(60)
        self.editor.textChanged.connect(self._on_text_changed)
        self.editor.commit_requested.connect(self.save_now)
        self.splitter.addWidget(self.editor)

        self.splitter.addWidget(self._build_history())
        self.splitter.setStretchFactor(0, 3)
        self.splitter.setStretchFactor(1, 2)
        layout.addWidget(self.splitter, 1)

    def _build_history(self) -> QWidget:
        """The caption's versions, newest first, with a way back to any of them."""
        history_box = QWidget()
        history_layout = flush_column(history_box, 2)
        bar = QHBoxLayout()
        self.status = QLabel()
        self.status.setObjectName("captionStatus")
        self.status.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
        bar.addWidget(self.status, 1)
        self.history_button = QToolButton()
        self.history_button.setObjectName("historyToggle")
        self.history_button.setCheckable(True)
        self.history_button.setChecked(True)
        self.history_button.setAutoRaise(True)
        self.history_button.toggled.connect(self._toggle_history)
        bar.addWidget(self.history_button)
        self.restore_button = push_button("Restore", "restoreCaption",
                                          "Make the selected version the current caption again",
                                          self.restore_selected)
        bar.addWidget(self.restore_button)
        history_layout.addLayout(bar)
        self.history = QTreeWidget()
        self.history.setObjectName("captionHistory")
        self.history.setRootIsDecorated(False)
        self.history.setUniformRowHeights(True)
        self.history.setAlternatingRowColors(True)
        self.history.setHeaderLabels(["When", "By", "Caption"])
        header = self.history.header()
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(1, QHeaderView.ResizeMode.ResizeToContents)
        header.setStretchLastSection(True)
        self.history.itemSelectionChanged.connect(self._update_restore)
        self.history.itemDoubleClicked.connect(lambda _i, _c: self.restore_selected())
        history_layout.addWidget(self.history, 1)
        return history_box

    # --- public API ------------------------------------------------------------------------

    @Slot(str, object)
    def show_item(self, kind: str, row: Any) -> None:
        """Show a clip (`ClipRow`) or an image (`ImageRow`); None shows nothing.

        A pending edit of the item shown before is saved first.
        """
        if kind not in KINDS:
            raise ValueError(f"kind must be 'clip' or 'image', not {kind!r}")
        previous_kind, previous = self._kind, self._row
        saved = self.save_now()
        if (saved is not None and row is not None and previous is not None
                and previous_kind == kind and previous.id == row.id):
            # The caller read `row` before the pending edit was saved: show what was typed.
            row = _with_caption(row, saved.text)
        self._kind, self._row = kind, row
        self._trigger = (self.catalog.settings().trigger or "").strip()
        self.trigger_fix.recount_soon()  # captions may have changed elsewhere (table, CLI)
        self._loading = True
        text = (row.caption or "") if row is not None else ""
        self.editor.setPlainText(text)
        self._loading = False
        self._saved_text = text.strip()
        self.editor.setEnabled(row is not None)
        self.editor.setPlaceholderText(
            "" if row is None else
            (f"Describe the {kind}, starting with “{self._trigger}” …" if self._trigger
             else f"Describe the {kind} …"))
        self.details.setText(item_details(kind, row) if row is not None
                             else "No clip or image selected")
        if self._trigger:
            self.trigger_label.setText(f"Trigger phrase: <b>{_html(self._trigger)}</b>")
        else:
            self.trigger_label.setText("<i>No trigger phrase set for this project</i>")
        self._set_status("" if row is None else origin_text(row))
        self._refresh_history()
        self._update_warning()

    def item(self) -> tuple[str | None, Any]:
        return self._kind, self._row

    def text(self) -> str:
        return self.editor.toPlainText()

    def is_dirty(self) -> bool:
        return self._row is not None and self.editor.toPlainText().strip() != self._saved_text

    @Slot()
    def save_now(self) -> CaptionRow | None:
        """Save the editor's text as a manual version if it changed; returns what was saved."""
        self._save_timer.stop()
        if not self.is_dirty():
            return None
        text = self.editor.toPlainText().strip()
        key = "clip_id" if self._kind == "clip" else "image_id"
        try:
            saved = self.catalog.save_caption(text, origin="manual", **{key: self._row.id})
        except CatalogError as exc:
            self._set_status(f"Not saved: {exc}", error=True)
            return None
        self._saved_text = text
        self._row = _with_caption(self._row, text)
        if saved is not None:
            self._set_status(f"Saved {local_time(saved.created_at)[11:]} · manual")
            self._refresh_history()
            self.caption_saved.emit(saved)
        return saved

    @Slot()
    def add_trigger(self) -> None:
        """Put the trigger phrase first and save at once."""
        if self._row is None or not self._trigger:
            return
        fixed = with_trigger(self.editor.toPlainText(), self._trigger)
        self._replace_text(fixed)
        self.save_now()
        self.editor.setFocus()

    @Slot()
    def restore_selected(self) -> None:
        """Make the selected history version the current caption (a new version)."""
        items = self.history.selectedItems()
        if not items or self._row is None:
            return
        caption_id = items[0].data(0, Qt.ItemDataRole.UserRole)
        self.save_now()
        try:
            restored = self.catalog.restore_caption(int(caption_id))
        except CatalogError as exc:
            self._set_status(f"Not restored: {exc}", error=True)
            return
        self._loading = True
        self.editor.setPlainText(restored.text)
        self._loading = False
        self._saved_text = restored.text.strip()
        self._row = _with_caption(self._row, restored.text, restored.origin)
        self._set_status("Restored an earlier version")
        self._refresh_history()
        self._update_warning()
        self.caption_saved.emit(restored)

    def history_rows(self) -> list[CaptionRow]:
        """The versions listed, newest first."""
        return [self.history.topLevelItem(i).data(1, Qt.ItemDataRole.UserRole)
                for i in range(self.history.topLevelItemCount())]

    def select_version(self, caption_id: int) -> None:
        for i in range(self.history.topLevelItemCount()):
            item = self.history.topLevelItem(i)
            if item.data(0, Qt.ItemDataRole.UserRole) == caption_id:
                self.history.setCurrentItem(item)
                return

    def shutdown(self) -> None:
        """Save a pending edit (the window is closing)."""
        self.save_now()

    # --- internals -------------------------------------------------------------------------

    def _replace_text(self, text: str) -> None:
        """Replace the editor's text as one undoable edit, cursor at the end."""
        cursor = self.editor.textCursor()
        cursor.beginEditBlock()
        cursor.select(cursor.SelectionType.Document)
        cursor.insertText(text)
        cursor.endEditBlock()
        self.editor.setTextCursor(cursor)

    def _on_text_changed(self) -> None:
        if self._loading or self._row is None:
            return
        self._update_warning()
        if self.is_dirty():
            self._set_status("Editing…")
            self._save_timer.start()
        else:
            self._save_timer.stop()

    def _update_warning(self) -> None:
        text = self.editor.toPlainText()
        show = self._row is not None and bool(text.strip()) and not starts_with_trigger(
            text, self._trigger)
        if show:
            self.warning_text.setText(f"The caption does not start with the trigger phrase "
                                      f"“{self._trigger}”.")
        self.warning.setVisible(show)

    def _set_status(self, text: str, *, error: bool = False) -> None:
        words = len(self.editor.toPlainText().split())
        suffix = f"  ·  {words} words" if self._row is not None and words else ""
        self.status.setText(text + suffix)
        self.status.setStyleSheet("color: #f85149;" if error else "")

    def _toggle_history(self, on: bool) -> None:
        self.history.setVisible(on)
        self.restore_button.setVisible(on)
        self._update_history_button()

    def _update_history_button(self) -> None:
        n = self.history.topLevelItemCount()
        arrow = "▾" if self.history_button.isChecked() else "▸"
        self.history_button.setText(f"History ({n}) {arrow}")

    def _refresh_history(self) -> None:
        self.history.clear()
        rows: list[CaptionRow] = []
        if self._row is not None:
            key = "clip_id" if self._kind == "clip" else "image_id"
            try:
                rows = self.catalog.caption_history(**{key: self._row.id})
            except CatalogError:
                rows = []
        for i, row in enumerate(rows):
            item = QTreeWidgetItem([local_time(row.created_at),
                                    "you" if row.is_manual else row.origin,
                                    row.text.replace("\n", " ")])
            item.setData(0, Qt.ItemDataRole.UserRole, row.id)
            item.setData(1, Qt.ItemDataRole.UserRole, row)
            item.setToolTip(2, row.text)
            item.setToolTip(1, row.origin)
            if i == 0:
                font = item.font(2)
                font.setBold(True)
                for column in range(3):
                    item.setFont(column, font)
                item.setToolTip(0, "Current version")
            self.history.addTopLevelItem(item)
        self._update_history_button()
        self._update_restore()

    def _update_restore(self) -> None:
        items = self.history.selectedItems()
        current = self.history.topLevelItem(0)
        self.restore_button.setEnabled(bool(items) and items[0] is not current)


def _with_caption(row: Any, text: str, origin: str = "manual") -> Any:
    """The frozen row with its caption replaced (what the catalog now holds)."""
    return replace(row, caption=text, caption_origin=origin, caption_is_manual=origin == "manual")


def _html(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
