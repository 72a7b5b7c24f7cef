"""The main window: composes the panels and wires them; the panels do the work.

Layout: workspaces (Curate · Caption · Export · Train · Stats, Ctrl+1 … Ctrl+5) fill the
window under a row of buttons; Curate has the clip browser (and Images) beside the preview and
the caption editor, Caption and Export keep the list or the preview beside their form. The Jobs
panel is docked below all of them. The layout is remembered per user (`window_state`).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from pathlib import Path
from typing import Any

from PySide6.QtCore import QSettings, Qt, QTimer, Signal
from PySide6.QtGui import (
    QAction,
    QCloseEvent,
    QDragEnterEvent,
    QDropEvent,
    QUndoStack,
)
from PySide6.QtWidgets import (
    QDockWidget,
    QLabel,
    QMainWindow,
    QMessageBox,
    QTabWidget,
    QWidget,
)

from curator.core.analysis import analyze_clips, make_frame_analyzer
from curator.core.catalog import CaptionRow, CatalogError, ClipRow
from curator.core.catalog.queries import ClipListItem
from curator.core.ingest import IngestReport, ingest_paths
from curator.core.project import Project
from curator.gui.clip_actions import ClipActions
from curator.gui.dialogs.project_dialog import (
    choose_project_folder,
    recent_projects,
    remember_project,
)
from curator.gui.dialogs.reject_reason_dialog import RejectReasonDialog
from curator.gui.menus import add_action, build_menus
from curator.gui.models.clip_table_model import ClipTableModel
from curator.gui.models.thumbnail_cache import ThumbnailCache
from curator.gui.panels.browser_panel import BrowserPanel
from curator.gui.panels.caption_panel import CaptionPanel
from curator.gui.panels.image_panel import ImagePanel
from curator.gui.panels.jobs_panel import JobsPanel
from curator.gui.panels.preview_panel import PreviewPanel
from curator.gui.stats import StatsView
from curator.gui.tabs.caption import CaptionJobPanel
from curator.gui.tabs.caption.text import SavedCaption
from curator.gui.tabs.export import ExportPanel
from curator.gui.tabs.train import TrainPanel
from curator.gui.undo import DecisionCommand, TrimCommand
from curator.gui.window_state import WindowLayout, user_settings
from curator.gui.workers import JobHandle, JobRunner, close_question
from curator.gui.workspaces import PANEL_TITLES, WorkspaceStack

log = logging.getLogger(__name__)

#: The job panels, each a workspace of its own, built the first time it is shown.
JOB_TABS = ("Caption", "Export", "Train")


class MainWindow(QMainWindow):
    """One project's window."""

    project_open_requested = Signal(object)  # Path: the app opens it in a new window
    clip_decided = Signal(list)  # clip ids whose decision changed (including undo/redo)

    def __init__(self, project: Project, settings: QSettings | None = None) -> None:
        super().__init__()
        self.setObjectName("curatorMainWindow")
        self.project = project
        self.catalog = project.catalog
        self.settings = settings if settings is not None else user_settings()
        remember_project(self.settings, project.root)
        self.setWindowTitle(f"{project.root.name} — Curator")
        self.setAcceptDrops(True)
        self.target_fps = float(self.catalog.settings().target_fps or 16.0)

        self.jobs = JobRunner(self.catalog, self)
        self.undo_stack = QUndoStack(self)
        self.thumbnails = ThumbnailCache(project.thumbs_dir, parent=self)
        self.model = ClipTableModel(self.catalog, self.thumbnails, parent=self)
        self.browser = BrowserPanel(self.model, self.target_fps)
        # Clips and images (screenshots) are browsed side by side, as tabs of the centre.
        self.tabs = QTabWidget()
        self.tabs.setObjectName("centralTabs")
        self.tabs.setDocumentMode(True)
        self.tabs.addTab(self.browser, "Clips")
        self.image_panel = ImagePanel(self.catalog)
        # Its splitter's three minimums (list, crop, caption) held every tab 790 px wide, the
        # window wider than a 1280-px screen; narrower, the splitter folds a side away instead.
        self.image_panel.setMinimumWidth(1)
        self.tabs.addTab(self.image_panel, "Images")
        self.stats_view = StatsView(self.catalog, project.root)  # counts when first shown
        self.preview = PreviewPanel(self.catalog, project, self.settings)
        self.caption_panel = CaptionPanel(self.catalog)
        self.workspaces = WorkspaceStack(
            {"list": self.tabs, "preview": self.preview, "details": self.caption_panel},
            {"stats": self.stats_view})
        self.workspaces.show_workspace("curate")
        self.setCentralWidget(self.workspaces)

        self.jobs_panel = JobsPanel(self.jobs)
        self.job_panels: dict[str, QWidget] = {}  # built the first time their page is shown
        self.docks: dict[str, QDockWidget] = {}
        self._add_dock("jobs", "Jobs", self.jobs_panel, Qt.DockWidgetArea.BottomDockWidgetArea)

        self._reason_dialog: RejectReasonDialog | None = None
        self._close_box: QMessageBox | None = None
        self._close_confirmed = False
        self._shown_clip: ClipRow | None = None
        self.clip_actions = ClipActions(self)  # safe keys, split and merge (undoable)
        self._build_actions()
        self._wire()
        self.status_label = QLabel()
        self.statusBar().addPermanentWidget(self.status_label)
        self.layout_state = WindowLayout(self)
        self.layout_state.restore()
        self.browser.filters.set_sources(self.model.source_choices())
        self.browser.start()
        self.browser.active_view().setFocus()
        if project.notices:  # runs killed since the project was last open, trainers left behind
            self.statusBar().showMessage(" · ".join(project.notices), 60_000)

    # --- composition ---------------------------------------------------------------------

    def job_panel(self, title: str, *, build: bool = False) -> QWidget | None:
        """The Caption / Export / Train panel; built on first use when `build` is set.

        Building them lazily keeps opening a project fast: each waits for its workspace.
        """
        panel = self.job_panels.get(title)
        if panel is not None or not build:
            return panel
        panel = self._make_job_panel(title)
        self.job_panels[title] = panel
        self.workspaces.set_panel(title.lower(), panel)
        return panel

    def show_workspace(self, key: str) -> None:
        """Curate, Caption, Export, Train or Stats (Ctrl+1 … Ctrl+5)."""
        self.workspaces.show_workspace(key)

    def _on_workspace(self, key: str) -> None:
        if key in PANEL_TITLES:
            self.job_panel(PANEL_TITLES[key], build=True)
        self._fit_side_to_tab()
        self._update_actions()
        if self.workspaces.page_has(key, "list"):
            view = self.browser.active_view() if self.tabs.currentWidget() is self.browser \
                else self.image_panel.list
            view.setFocus()  # single-letter keys act where the person looks

    def _fit_side_to_tab(self) -> None:
        """With Images shown, the clip preview and editor beside it step aside: the image
        panel has its own editor, and two caption editors side by side read as one broken."""
        self.workspaces.show_clip_panels(self.tabs.currentWidget() is not self.image_panel)

    def _make_job_panel(self, title: str) -> QWidget:
        if title == "Caption":
            caption = CaptionJobPanel(self.project, self.catalog, self.jobs)
            caption.caption_saved.connect(self._on_caption_job_saved)  # captions appear as made
            caption.selection_provider = self.browser.selected_ids  # "Selected clips"
            return caption
        if title == "Export":
            export = ExportPanel(self.project, self.catalog, self.jobs, self.settings)
            export.clip_activated.connect(self.reveal_clip)  # a warning names a clip
            return export
        return TrainPanel(self.project, self.catalog, self.jobs, self.settings)

    def _add_dock(self, key: str, title: str, widget: QWidget,
                  area: Qt.DockWidgetArea) -> QDockWidget:
        dock = QDockWidget(title, self)
        dock.setObjectName(f"dock_{key}")  # saveState/restoreState find docks by name
        dock.setWidget(widget)
        # Not floatable: a slightly-off drag of the title bar tore it out of the window.
        dock.setFeatures(QDockWidget.DockWidgetFeature.DockWidgetMovable
                         | QDockWidget.DockWidgetFeature.DockWidgetClosable)
        self.addDockWidget(area, dock)
        self.docks[key] = dock
        return dock

    def _action(self, text: str, slot: Callable[[], Any], shortcut: Any = None, *,
                menu: Any = None, tip: str = "") -> QAction:
        return add_action(self, text, slot, shortcut, menu=menu, tip=tip)

    def _build_actions(self) -> None:
        build_menus(self)

    def _wire(self) -> None:
        self.browser.current_clip_changed.connect(self._show_clip)
        self.browser.decide_requested.connect(self.clip_actions.decide_ids)
        self.browser.reject_requested.connect(self.ask_reject_reason)
        self.model.counts_changed.connect(self._show_counts)
        self.model.caption_saved.connect(self._on_table_caption_saved)
        self.model.error_occurred.connect(lambda text: self.statusBar().showMessage(text, 8000))
        self.undo_stack.indexChanged.connect(lambda _i: self._update_actions())
        self.caption_panel.caption_saved.connect(self._on_panel_caption_saved)
        self.workspaces.changed.connect(self._on_workspace)
        self.tabs.currentChanged.connect(lambda _i: self._on_list_tab())
        self.image_panel.image_decided.connect(lambda _ids: self._update_tab_titles())
        self.stats_view.phrase_chosen.connect(self.show_captions_with)
        self.stats_view.clip_activated.connect(self.reveal_clip)
        self.model.counts_changed.connect(lambda _c: self._update_tab_titles())

    # --- showing a clip ------------------------------------------------------------------

    def _show_clip(self, item: ClipListItem | None) -> None:
        self.show_clip_id(item.id if item is not None else None)

    def reveal_clip(self, clip_id: int) -> None:
        """Select a clip named elsewhere (an export warning); shown even if filtered out.

        From a page without the preview (Export, Stats) the clip opens in Curate."""
        if not self.workspaces.page_has(self.workspaces.current(), "preview"):
            self.show_workspace("curate")
        row = self.model.row_of(clip_id)
        if row is not None:
            self.browser.select_row(row)
        else:
            self.show_clip_id(clip_id)

    def show_clip_id(self, clip_id: int | None) -> None:
        """Show one clip in the preview and the caption panel."""
        row: ClipRow | None = None
        if clip_id is not None:
            try:
                row = self.catalog.get_clip(clip_id)
            except CatalogError:
                row = None
        self._shown_clip = row
        self.preview.show_clip(row)
        self.caption_panel.show_item("clip", row)
        self._update_actions()

    def _reshow_if_current(self, ids: list[int]) -> None:
        current = self.browser.current_item()
        if current is not None and current.id in ids:
            self._show_clip(current)

    def _show_counts(self, counts: dict[str, int]) -> None:
        self.status_label.setText(
            f"{counts.get('total', 0):,} clips  ·  {counts.get('pending', 0):,} pending  ·  "
            f"{counts.get('accepted', 0):,} accepted  ·  {counts.get('rejected', 0):,} rejected"
            f"  ·  {counts.get('captioned', 0):,} captioned")

    def _update_tab_titles(self) -> None:
        self.tabs.setTabText(0, f"Clips  {self.model.total:,}" if self.model.total_exact
                             else "Clips")
        self.tabs.setTabText(1, f"Images  {self.image_panel.model.rowCount():,}")

    def _update_actions(self) -> None:
        # A page without the clip list (Export, Train, Stats) takes no clip keys: a letter
        # typed there must not decide a clip the person cannot see; one without the preview
        # (Caption) no playhead keys, which would cut at a frame nobody is looking at.
        current = self.workspaces.current()
        has_list = self.workspaces.page_has(current, "list")
        for action in (*self.clip_keys, *self.list_keys):
            action.setEnabled(has_list)
        # the Images tab hides the clip preview on Curate: no playhead keys then either
        playhead = (self._shown_clip is not None and not self.images_shown()
                    and self.workspaces.page_has(current, "preview"))
        for action in (self.set_in_action, self.set_out_action, self.split_action,
                       self.play_action, self.still_action):
            action.setEnabled(playhead)

    # --- decisions -----------------------------------------------------------------------

    def images_shown(self) -> bool:
        return self.tabs.currentWidget() is self.image_panel

    def decide_selected(self, decision: str) -> None:
        if self.images_shown():
            self.image_panel.decide_selected(decision)
            return
        self.decide(self.browser.selected_ids(), decision)

    def reject_selected(self) -> None:
        if self.images_shown():
            self.image_panel.decide_selected("rejected")
            return
        self.ask_reject_reason(self.browser.selected_ids())

    def decide(self, ids: list[int], decision: str, reason: str | None = None) -> None:
        """Decide clips now (saved at once) as one undoable step; a single one moves on."""
        if not ids:
            return
        self.undo_stack.push(DecisionCommand(
            self.catalog, ids, decision, reason, self._on_decisions_changed,
            lambda text: self.statusBar().showMessage(text, 8000)))
        what = "1 clip" if len(ids) == 1 else f"{len(ids)} clips"
        self.statusBar().showMessage(f"{decision.capitalize()}: {what}", 3000)
        if len(ids) == 1:
            self.browser.move(1)

    def _move(self, step: int) -> None:
        if self.images_shown():
            view = self.image_panel.list
            row = max(0, min(view.model().rowCount() - 1, view.currentIndex().row() + step))
            view.setCurrentIndex(view.model().index(row, 0))
            return
        self.browser.move(step)

    def ask_reject_reason(self, ids: list[int]) -> None:
        if not ids:
            return
        dialog = RejectReasonDialog(len(ids), self)
        dialog.reason_chosen.connect(lambda reason: self.decide(ids, "rejected", reason))
        dialog.finished.connect(lambda _r: self.browser.active_view().setFocus())
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        self._reason_dialog = dialog
        dialog.open()

    def _on_decisions_changed(self, ids: list[int]) -> None:
        self.model.refresh_clips(ids)
        self._reshow_if_current(ids)
        self.clip_decided.emit(ids)

    # --- captions ------------------------------------------------------------------------

    def _on_table_caption_saved(self, caption: CaptionRow) -> None:
        if caption.clip_id is not None:
            self._reshow_if_current([caption.clip_id])

    def _on_panel_caption_saved(self, caption: CaptionRow) -> None:
        if caption.clip_id is not None:
            self.model.refresh_clips([caption.clip_id])

    def _on_caption_job_saved(self, caption: SavedCaption) -> None:
        if caption.clip_id is not None:
            self.model.refresh_clips([caption.clip_id])
            self._reshow_if_current([caption.clip_id])
        elif caption.image_id is not None:
            self.image_panel.model.refresh(caption.image_id)  # one row, not the whole list

    # --- playhead: play, trim, split -----------------------------------------------------

    def toggle_playback(self) -> None:
        self.preview.toggle_play()

    def playhead(self) -> int | None:
        """The source frame the preview shows, or None without a preview or a clip."""
        if self._shown_clip is None:
            return None
        return int(self.preview.current_frame())

    def set_in_point(self) -> None:
        clip, frame = self._shown_clip, self.playhead()
        if clip is None or frame is None:
            return
        if not frame < clip.end_frame:
            self.statusBar().showMessage("The in point must be before the clip's end", 5000)
            return
        self.trim(clip.id, frame, clip.end_frame)

    def set_out_point(self) -> None:
        clip, frame = self._shown_clip, self.playhead()
        if clip is None or frame is None:
            return
        if not frame >= clip.start_frame:
            self.statusBar().showMessage("The out point must be after the clip's start", 5000)
            return
        self.trim(clip.id, clip.start_frame, frame + 1)  # the frame shown is the last kept

    def trim(self, clip_id: int, start: int, end: int) -> None:
        """Set a clip's range (undoable)."""
        clip = self.catalog.get_clip(clip_id)
        if (clip.start_frame, clip.end_frame) == (start, end):
            return
        try:
            self.undo_stack.push(TrimCommand(
                self.catalog, clip_id, (clip.start_frame, clip.end_frame), (start, end),
                self._on_trimmed, lambda text: self.statusBar().showMessage(text, 6000)))
        except CatalogError as exc:
            self.statusBar().showMessage(str(exc), 8000)
            return
        self.statusBar().showMessage(f"Trimmed to frames {start}–{end}", 4000)

    def _on_trimmed(self, ids: list[int]) -> None:
        self.model.refresh_clips(ids)
        self._reshow_if_current(ids)

    def split_at_playhead(self) -> None:
        clip, frame = self._shown_clip, self.playhead()
        if clip is None or frame is None:
            return
        self.split(clip.id, frame)

    def split(self, clip_id: int, at_frame: int) -> int | None:
        """Split a clip at a source frame (undoable); the new clip is shown below it."""
        return self.clip_actions.split(clip_id, at_frame)

    def split_at_transitions(self) -> None:
        from curator.gui import split_transitions

        split_transitions.start(self, self.browser.selected_ids())

    def find_replace_dialog(self) -> None:
        """Find and replace across captions (the selection, or every clip and image)."""
        from curator.gui.dialogs.find_replace import FindReplaceDialog

        dialog = FindReplaceDialog(self.catalog, self.jobs, self,
                                   clip_ids=self.browser.selected_ids())
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.find_edit.setText(self.browser.filters.search.text())  # e.g. a Stats phrase
        dialog.applied.connect(self._on_captions_replaced)
        dialog.open()

    def _on_captions_replaced(self, _report: object) -> None:
        self.browser.reload()
        self._show_clip(self.browser.current_item())  # the caption panel shows the new text

    def _on_list_tab(self) -> None:
        self._fit_side_to_tab()
        self._update_actions()

    def find_in_captions(self) -> None:
        """Ctrl+F: the caption search of the clip list, on a page that shows it."""
        if not self.workspaces.page_has(self.workspaces.current(), "list"):
            self.show_workspace("curate")
        self.browser.filters.focus_search()

    def show_captions_with(self, phrase: str) -> None:
        """The browser filtered to captions holding `phrase` (a Stats vocabulary click)."""
        self.browser.filters.set_search(phrase)
        self.show_workspace("curate")
        self.tabs.setCurrentWidget(self.browser)
        self.statusBar().showMessage(f"Captions with “{phrase}”: Ctrl+H to find and replace", 8000)

    def filter_to_current_source(self) -> None:
        item = self.browser.current_item()
        if item is not None:
            self.browser.filters.set_source(item.source_id, item.source_name)

    # --- jobs ----------------------------------------------------------------------------

    def run_job(self, kind: str, title: str, job: Callable[..., object], /,
                on_finished: Callable[[JobHandle], None] | None = None,
                **kwargs: object) -> JobHandle:
        """Start a core job on a worker thread (see `JobRunner.start`)."""
        return self.jobs.start(kind, title, job, on_finished=on_finished, **kwargs)

    def ingest(self, paths: list[Path], *, scenes: str = "auto",
               analyse: bool = True) -> JobHandle | None:
        """Ingest files or folders as a job; each source's clips show as soon as it is done."""
        names = ", ".join(p.name for p in paths[:3]) + (" …" if len(paths) > 3 else "")
        # ingest_paths records its own job row in the catalog
        handle = self.run_job("ingest", f"Ingest {names}", ingest_paths,
                              on_finished=self._on_ingested, record_in_catalog=False,
                              catalog=self.catalog, paths=list(paths),
                              thumbs_dir=self.project.thumbs_dir, scenes=scenes,
                              analyzer_factory=make_frame_analyzer if analyse else None)
        self.clip_actions.show_sources_as_ingested(handle)
        return handle

    def analyze(self, clip_ids: list[int] | None, *, force: bool = False) -> JobHandle | None:
        """Measure motion and hidden cuts as a job; the browser shows the scores when done."""
        what = "all clips" if clip_ids is None else f"{len(clip_ids)} clip(s)"
        return self.run_job("analyze", f"Analyze {what}", analyze_clips,
                            on_finished=lambda _h: self.browser.reload(), catalog=self.catalog,
                            clip_ids=clip_ids, force=force,
                            record_in_catalog=False)  # analyze_clips records its own job row

    def _on_ingested(self, handle: JobHandle) -> None:
        self.browser.filters.set_sources(self.model.source_choices())
        self.browser.reload()
        self.image_panel.reload()
        self._update_tab_titles()
        report = handle.report
        summary = report.summary() if isinstance(report, IngestReport) else ""
        self.statusBar().showMessage(f"Ingest {handle.status}" + (f": {summary}" if summary
                                                                 else ""), 12_000)

    def ingest_dialog(self) -> None:
        self.clip_actions.ingest_dialog()

    def dragEnterEvent(self, event: QDragEnterEvent) -> None:
        if event.mimeData().hasUrls() and any(u.isLocalFile() for u in event.mimeData().urls()):
            event.acceptProposedAction()
        else:
            event.ignore()

    def dropEvent(self, event: QDropEvent) -> None:
        paths = [Path(u.toLocalFile()) for u in event.mimeData().urls() if u.isLocalFile()]
        if paths:
            event.acceptProposedAction()
            self.ingest(paths)

    # --- projects ------------------------------------------------------------------------

    def open_project_dialog(self, create: bool = False) -> None:
        folder = choose_project_folder(self, create=create)
        if folder is not None:
            self.project_open_requested.emit(folder)

    def _fill_recent_menu(self) -> None:
        self.recent_menu.clear()
        for path in recent_projects(self.settings):
            if path == self.project.root:
                continue
            action = self.recent_menu.addAction(f"{path.name}   ({path.parent})")
            action.triggered.connect(lambda _c=False, p=path: self.project_open_requested.emit(p))
        if self.recent_menu.isEmpty():
            self.recent_menu.addAction("No other recent projects").setEnabled(False)

    # --- window state --------------------------------------------------------------------

    def fit_layout(self) -> None:
        """Panes at their default shares of the window (first start, Reset layout)."""
        self.layout_state.fit()

    def reset_layout(self) -> None:
        """View → Reset layout: forget the saved layout and fill the screen again."""
        self.layout_state.reset()

    def show_sized(self) -> None:
        """Show the window: maximised on a first start, else where it was left."""
        self.layout_state.show()

    def save_ui_state(self) -> None:
        self.layout_state.save()

    def closeEvent(self, event: QCloseEvent) -> None:
        question = close_question(self.jobs.running())
        if question is not None and not self._close_confirmed:
            event.ignore()
            self._ask_before_closing(question)
            return
        self.save_ui_state()
        self.clip_actions.stills.shutdown()
        self.jobs.shutdown()
        self.preview.shutdown()
        self.caption_panel.shutdown()
        self.image_panel.shutdown()
        for panel in self.job_panels.values():
            panel.shutdown()
        self.stats_view.shutdown()
        self.thumbnails.shutdown()
        self.model.shutdown()
        super().closeEvent(event)

    def _ask_before_closing(self, question: str) -> None:
        if self._close_box is not None:  # already asking
            self._close_box.raise_()
            return
        box = QMessageBox(QMessageBox.Icon.Question, "Jobs are running", question,
                          QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.No, self)
        box.setObjectName("closeQuestion")
        box.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        box.button(QMessageBox.StandardButton.Yes).setText("Cancel jobs and close")
        box.button(QMessageBox.StandardButton.No).setText("Keep working")
        box.setDefaultButton(QMessageBox.StandardButton.No)
        yes = box.button(QMessageBox.StandardButton.Yes)
        box.finished.connect(lambda _result: self._on_close_answer(box.clickedButton() is yes))
        self._close_box = box
        box.open()

    def _on_close_answer(self, close: bool) -> None:
        self._close_box = None
        if close:
            self._close_confirmed = True
            QTimer.singleShot(0, self.close)
