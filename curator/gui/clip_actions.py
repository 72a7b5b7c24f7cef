"""Safe keys and clip edits for the main window: decisions, split and merge, all undoable.

A single-letter key (A, R, U/P) acts on the current clip only, so a stray keystroke after
Ctrl+A never decides a whole selection. The selection is decided with Shift and the letter
(or the browser's buttons); when it holds more than one clip the window asks once, naming
the count (rejecting asks through the reason picker, which names it too).
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import QObject, Qt
from PySide6.QtWidgets import QMessageBox

from curator.core.catalog import CatalogError, DecisionChange
from curator.core.merge import merge_clips
from curator.gui.dialogs.ingest_dialog import IngestDialog
from curator.gui.dialogs.rules_dialog import RulesDialog
from curator.gui.edit_commands import AppliedDecisionsCommand, MergeCommand, SplitCommand
from curator.gui.panels.still_saver import StillSaver

if TYPE_CHECKING:
    from curator.gui.main_window import MainWindow
    from curator.gui.workers import JobHandle

VERBS = {"accepted": "Accept", "rejected": "Reject", "pending": "Move back to pending"}


class ClipActions(QObject):
    """What the Clip menu's actions do; the window keeps the panels, this the rules of use."""

    def __init__(self, window: MainWindow) -> None:
        super().__init__(window)
        self.window = window
        self.confirm_box: QMessageBox | None = None
        self.rules_dialog: RulesDialog | None = None
        self.ingest_box: IngestDialog | None = None
        self.stills = StillSaver(window.catalog, window.project.stills_dir, window)
        self.stills.saved.connect(self._on_still_saved)
        self.stills.failed.connect(lambda text: self._say(text, 8000))
        self.stills.button.clicked.connect(self.save_still)
        self._place_still_button()

    def _say(self, text: str, ms: int = 6000) -> None:
        self.window.statusBar().showMessage(text, ms)

    # --- decisions -----------------------------------------------------------------------

    def decide_current(self, decision: str) -> None:
        """A / R / U: the current clip (or image) only."""
        w = self.window
        if w.images_shown():
            w.image_panel.decide_selected(decision)
            return
        item = w.browser.current_item()
        if item is None:
            return
        if decision == "rejected":
            w.ask_reject_reason([item.id])
        else:
            w.decide([item.id], decision)

    def decide_selection(self, decision: str) -> None:
        """Shift+A / Shift+R / Shift+U: the whole selection, after one question."""
        w = self.window
        if w.images_shown():
            w.image_panel.decide_selected(decision)
            return
        self.decide_ids(w.browser.selected_ids(), decision)

    def decide_ids(self, ids: list[int], decision: str) -> None:
        """Decide `ids`; more than one asks first (the reject picker names the count)."""
        if decision == "rejected":
            self.window.ask_reject_reason(ids)
        elif len(ids) > 1:
            self._confirm(ids, decision)
        elif ids:
            self.window.decide(ids, decision)

    def _confirm(self, ids: list[int], decision: str) -> None:
        text = f"{VERBS.get(decision, decision)} {len(ids)} selected clips?"
        box = QMessageBox(QMessageBox.Icon.Question, "Decide the selection", text,
                          QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.Cancel,
                          self.window)
        box.setObjectName("confirmSelection")
        box.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        box.button(QMessageBox.StandardButton.Yes).setText(f"{VERBS[decision]} {len(ids)}")
        box.setDefaultButton(QMessageBox.StandardButton.Cancel)  # Enter by mistake: nothing
        yes = box.button(QMessageBox.StandardButton.Yes)

        def answered(_result: int) -> None:
            self.confirm_box = None
            if box.clickedButton() is yes:
                self.window.decide(ids, decision)
            self.window.browser.active_view().setFocus()

        box.finished.connect(answered)
        self.confirm_box = box
        box.open()

    # --- split and merge -----------------------------------------------------------------

    def split(self, clip_id: int, at_frame: int) -> int | None:
        """Split a clip (undoable); the new clip is shown right below it."""
        try:
            _kept, child = self.window.catalog.split_clip(clip_id, at_frame)
        except CatalogError as exc:
            self._say(str(exc), 8000)
            return None
        self.window.undo_stack.push(SplitCommand(
            self.window.catalog, clip_id, child, at_frame, self._parts_changed, self._say))
        self._say(f"Split at frame {at_frame}: new clip {child} (Ctrl+Z merges it back)", 5000)
        return child

    def merge(self, a: int, b: int) -> bool:
        """Merge two adjacent clips of one source (undoable); says why when it cannot."""
        try:
            record = merge_clips(self.window.catalog, a, b)
        except CatalogError as exc:
            self._say(str(exc), 8000)
            return False
        self.window.undo_stack.push(MergeCommand(self.window.catalog, record,
                                                 self._parts_changed, self._say))
        self._parts_changed(record.kept_id, record.removed_id, False)
        self._say(f"Merged clip {record.removed_id} into clip {record.kept_id}", 5000)
        return True

    def merge_selection(self) -> None:
        """The two selected clips, or the current clip and the next one."""
        browser = self.window.browser
        ids = browser.selected_ids()
        if len(ids) == 1:
            row = self.window.model.row_of(ids[0])
            following = self.window.model.item(row + 1) if row is not None else None
            ids = ids + ([following.id] if following is not None else [])
        if len(ids) != 2:
            self._say("Select two adjacent clips of one source to merge them", 6000)
            return
        self.merge(*ids)

    def _parts_changed(self, kept: int, other: int, exists: bool) -> None:
        model = self.window.model
        model.refresh_clips([kept])
        if exists:
            model.insert_clips_after(kept, [other])
        else:
            model.remove_clips([other])
        self.window._reshow_if_current([kept])

    # --- rules ---------------------------------------------------------------------------

    def open_rules(self) -> RulesDialog:
        """The auto-decide rules dialog (one at a time); its apply is one undo step."""
        if self.rules_dialog is not None:
            self.rules_dialog.raise_()
            return self.rules_dialog
        dialog = RulesDialog(self.window.catalog, self.window)
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.applied.connect(self._rules_applied)
        dialog.clip_activated.connect(self.window.reveal_clip)
        dialog.destroyed.connect(lambda _o=None: setattr(self, "rules_dialog", None))
        self.rules_dialog = dialog
        dialog.show()
        return dialog

    def _rules_applied(self, before: list[DecisionChange], after: list[DecisionChange],
                       text: str) -> None:
        self.window.undo_stack.push(AppliedDecisionsCommand(
            self.window.catalog, text, before, after, self.window._on_decisions_changed,
            self._say))
        self.window._on_decisions_changed([c.id for c in after])
        self._say(f"{text} (Ctrl+Z undoes it)", 6000)

    # --- ingest --------------------------------------------------------------------------

    def ingest_dialog(self) -> IngestDialog:
        """Files or folders, scene mode, analyse now; the ingest starts when accepted."""
        start = self.window.project.root.parent if self.window.project.root else Path.home()
        dialog = IngestDialog(start, self.window)
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)

        def accepted() -> None:
            request = dialog.request()
            self.window.ingest(request.paths, scenes=request.scenes, analyse=request.analyse)

        dialog.accepted.connect(accepted)
        self.ingest_box = dialog
        dialog.open()
        return dialog

    def show_sources_as_ingested(self, handle: JobHandle | None) -> None:
        """Reload the browser each time the ingest job reports another file done."""
        if handle is None:
            return
        runner, seen = self.window.jobs, [0]

        def updated(changed: object) -> None:
            if changed is not handle:
                return
            if not handle.running:
                runner.job_updated.disconnect(updated)
                return
            done = handle.progress.done if handle.progress is not None else 0
            if done > seen[0]:
                seen[0] = done
                self.window.browser.filters.set_sources(self.window.model.source_choices())
                self.window.browser.reload()

        runner.job_updated.connect(updated)

    # --- stills --------------------------------------------------------------------------

    def _place_still_button(self) -> None:
        # Beside the preview's Trainer view toggle, in its transport bar.
        preview = self.window.preview
        for i in range(preview.layout().count()):
            bar = preview.layout().itemAt(i).layout()
            if bar is not None and bar.indexOf(preview.trainer_button) >= 0:
                bar.insertWidget(bar.indexOf(preview.trainer_button), self.stills.button)
                return

    def save_still(self) -> None:
        """The preview's frame, full resolution, into Images (off the GUI thread)."""
        clip, frame = self.window._shown_clip, self.window.playhead()
        if clip is None or frame is None:
            self._say("Show a clip in the preview first", 4000)
            return
        self._say(f"Saving frame {frame} as a still…", 3000)
        self.stills.save(clip.id, frame)

    def _on_still_saved(self, still: object) -> None:
        w = self.window
        w.image_panel.reload()
        w._update_tab_titles()
        verb = "Saved" if getattr(still, "created", True) else "Already saved"
        self._say(f"{verb} still: image {still.image_id} ({still.width}×{still.height}) "
                  "in the Images tab", 6000)
