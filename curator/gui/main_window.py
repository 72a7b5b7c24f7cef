"""The main window: composes the panels and wires them; the panels do the work.

Layout: the clip browser in the centre; preview and details/caption editor docked on the
right; jobs (and the Caption, Export and Train panels, as they land) docked below. Dock
positions, sizes and the browser's view are remembered in QSettings when the window closes.
"""

from __future__ import annotations

import importlib
import importlib.util
import inspect
import logging
from collections.abc import Callable
from pathlib import Path
from typing import Any

from PySide6.QtCore import QByteArray, QSettings, QSize, Qt, QTimer, Signal
from PySide6.QtGui import (
    QAction,
    QCloseEvent,
    QDragEnterEvent,
    QDropEvent,
    QKeySequence,
    QUndoStack,
)
from PySide6.QtWidgets import (
    QDockWidget,
    QFileDialog,
    QLabel,
    QMainWindow,
    QMessageBox,
    QScrollArea,
    QTabWidget,
    QWidget,
)

from curator.core.catalog import CatalogError, ClipRow
from curator.core.catalog.queries import ClipListItem
from curator.core.project import Project
from curator.gui.dialogs.project_dialog import (
    choose_project_folder,
    recent_projects,
    remember_project,
)
from curator.gui.dialogs.reject_reason_dialog import RejectReasonDialog
from curator.gui.models.clip_table_model import ClipTableModel
from curator.gui.models.thumbnail_cache import ThumbnailCache
from curator.gui.panels.browser_panel import BrowserPanel
from curator.gui.panels.jobs_panel import JobsPanel
from curator.gui.undo import DecisionCommand, TrimCommand
from curator.gui.workers import JobHandle, JobRunner, close_question

log = logging.getLogger(__name__)

#: Panels other issues add, docked beside the jobs panel: (module in curator.gui.panels,
#: class, dock title). Each is a QWidget built as `Class(project, job_runner)`; adding one is
#: one line here, and a module not written yet is simply left out.
JOB_PANELS = (
    ("caption_job_panel", "CaptionJobPanel", "Caption"),
    ("export_panel", "ExportPanel", "Export"),
    ("train_panel", "TrainPanel", "Train"),
)

SETTINGS_GROUP = "mainWindow"
DEFAULT_SIZE = QSize(1600, 980)


def _panel_class(module: str, name: str) -> type[QWidget] | None:
    """A panel class from `curator.gui.panels.<module>`, or None while it is not written yet.

    When the module has no class of that name, its one QWidget subclass named `*Panel` (defined
    there, not imported) is taken, so a panel named a little differently still shows up.
    """
    try:
        loaded = importlib.import_module(f"curator.gui.panels.{module}")
    except ModuleNotFoundError as exc:
        if exc.name == f"curator.gui.panels.{module}":
            return None
        raise
    cls = getattr(loaded, name, None)
    if cls is None:
        found = [c for c in vars(loaded).values()
                 if isinstance(c, type) and issubclass(c, QWidget) and c.__name__.endswith("Panel")
                 and c.__module__ == loaded.__name__]
        cls = found[0] if len(found) == 1 else None
        if cls is None:
            log.warning("curator.gui.panels.%s has no %s", module, name)
    return cls


def _build(cls: type[QWidget], available: dict[str, Any]) -> QWidget:
    """Build a panel from what its constructor asks for by name (project, catalog, job_runner…).

    Panels written by different people take different subsets of the same few objects; their
    parameter names say which.
    """
    aliases = {"runner": "job_runner", "jobs": "job_runner"}
    kwargs: dict[str, Any] = {}
    positional: list[Any] = []
    for name, param in inspect.signature(cls).parameters.items():
        key = aliases.get(name, name)
        if key not in available:
            continue
        if param.kind is inspect.Parameter.POSITIONAL_ONLY:
            positional.append(available[key])
        elif param.kind in (inspect.Parameter.POSITIONAL_OR_KEYWORD,
                            inspect.Parameter.KEYWORD_ONLY):
            kwargs[name] = available[key]
    return cls(*positional, **kwargs)


class MainWindow(QMainWindow):
    """One project's window."""

    project_open_requested = Signal(object)  # Path: the app opens it in a new window
    clip_decided = Signal(list)  # clip ids whose decision changed (including undo/redo)

    def __init__(self, project: Project, settings: QSettings | None = None) -> None:
        super().__init__()
        self.setObjectName("curatorMainWindow")
        self.project = project
        self.catalog = project.catalog
        self.settings = settings if settings is not None else QSettings()
        remember_project(self.settings, project.root)
        self.setWindowTitle(f"{project.root.name} — Curator")
        self.setAcceptDrops(True)
        self.setDockNestingEnabled(True)
        self.resize(DEFAULT_SIZE)
        self.target_fps = float(self.catalog.settings().target_fps or 16.0)

        self.jobs = JobRunner(self.catalog, self)
        self.undo_stack = QUndoStack(self)
        self.thumbnails = ThumbnailCache(project.thumbs_dir, parent=self)
        self.model = ClipTableModel(self.catalog, self.thumbnails, parent=self)
        self.browser = BrowserPanel(self.model, self.target_fps)
        available = {"project": project, "catalog": self.catalog, "job_runner": self.jobs,
                     "settings": self.settings}
        # Clips and images (screenshots) are browsed side by side, as tabs of the centre.
        self.tabs = QTabWidget()
        self.tabs.setObjectName("centralTabs")
        self.tabs.setDocumentMode(True)
        self.tabs.addTab(self.browser, "Clips")
        image_cls = _panel_class("image_panel", "ImagePanel")
        self.image_panel: QWidget | None = _build(image_cls, available) if image_cls else None
        if self.image_panel is not None:
            self.tabs.addTab(self.image_panel, "Images")
        self.tabs.tabBar().setVisible(self.image_panel is not None)
        self.setCentralWidget(self.tabs)

        self.preview = self._optional_panel("preview_panel", "PreviewPanel", available)
        self.caption_panel = self._optional_panel("caption_panel", "CaptionPanel", available)
        self.jobs_panel = JobsPanel(self.jobs)
        self.job_panels: dict[str, QWidget] = {}  # built the first time their tab is shown

        self.docks: dict[str, QDockWidget] = {}
        self._add_dock("preview", "Preview", self.preview, Qt.DockWidgetArea.RightDockWidgetArea)
        self._add_dock("details", "Details and caption", self.caption_panel,
                       Qt.DockWidgetArea.RightDockWidgetArea)
        self._add_dock("jobs", "Jobs", self.jobs_panel, Qt.DockWidgetArea.BottomDockWidgetArea)
        for module, name, title in JOB_PANELS:
            if importlib.util.find_spec(f"curator.gui.panels.{module}") is None:
                continue  # not written yet
            # Scrolled, so a tall panel never pushes the browser off the screen.
            scroller = QScrollArea()
            scroller.setWidgetResizable(True)
            scroller.setFrameShape(QScrollArea.Shape.NoFrame)
            dock = self._add_dock(title.lower(), title, scroller,
                                  Qt.DockWidgetArea.BottomDockWidgetArea)
            self.tabifyDockWidget(self.docks["jobs"], dock)
            dock.visibilityChanged.connect(
                lambda visible, m=module, n=name, t=title, a=available:
                visible and self.job_panel(t, m, n, a))
            # These panels are forms and logs: give them room when raised, not the Jobs strip.
            dock.visibilityChanged.connect(
                lambda visible, d=dock: visible and self.resizeDocks(
                    [d], [max(d.height(), 520)], Qt.Orientation.Vertical))
        self.docks["jobs"].raise_()
        self.resizeDocks([self.docks["preview"]], [620], Qt.Orientation.Horizontal)
        self.resizeDocks([self.docks["preview"], self.docks["details"]], [430, 420],
                         Qt.Orientation.Vertical)
        self.resizeDocks([self.docks["jobs"]], [190], Qt.Orientation.Vertical)

        self._reason_dialog: RejectReasonDialog | None = None
        self._close_box: QMessageBox | None = None
        self._close_confirmed = False
        self._shown_clip: ClipRow | None = None
        self._build_actions()
        self._wire()
        self.status_label = QLabel()
        self.statusBar().addPermanentWidget(self.status_label)
        self._restore_ui_state()
        self.browser.filters.set_sources(self.model.source_choices())
        self.browser.start()
        self.browser.active_view().setFocus()

    # --- composition ---------------------------------------------------------------------

    def job_panel(self, title: str, module: str | None = None, name: str | None = None,
                  available: dict[str, Any] | None = None) -> QWidget | None:
        """The Caption / Export / Train panel, built (and its module loaded) on first use.

        Building them lazily keeps opening a project fast: they sit behind the Jobs tab.
        """
        panel = self.job_panels.get(title)
        if panel is not None or module is None:
            return panel
        cls = _panel_class(module, name or "")
        if cls is None:
            return None
        panel = _build(cls, available or {"project": self.project, "catalog": self.catalog,
                                          "job_runner": self.jobs, "settings": self.settings})
        self.job_panels[title] = panel
        if hasattr(panel, "caption_saved"):  # the Caption tab: captions appear as they are made
            panel.caption_saved.connect(self._on_caption_job_saved)
        if hasattr(panel, "clip_activated"):  # the Export tab: a warning names a clip
            panel.clip_activated.connect(self.reveal_clip)
        scroller = self.docks[title.lower()].widget()
        if isinstance(scroller, QScrollArea):
            scroller.setWidget(panel)
        return panel

    def _optional_panel(self, module: str, name: str, available: dict[str, Any]) -> QWidget:
        cls = _panel_class(module, name)
        if cls is None:
            placeholder = QLabel(f"{name} is not installed yet.")
            placeholder.setAlignment(Qt.AlignmentFlag.AlignCenter)
            placeholder.setObjectName(f"missing_{module}")
            return placeholder
        return _build(cls, available)

    def _add_dock(self, key: str, title: str, widget: QWidget,
                  area: Qt.DockWidgetArea) -> QDockWidget:
        dock = QDockWidget(title, self)
        dock.setObjectName(f"dock_{key}")  # saveState/restoreState find docks by name
        dock.setWidget(widget)
        dock.setFeatures(QDockWidget.DockWidgetFeature.DockWidgetMovable
                         | QDockWidget.DockWidgetFeature.DockWidgetFloatable
                         | QDockWidget.DockWidgetFeature.DockWidgetClosable)
        self.addDockWidget(area, dock)
        self.docks[key] = dock
        return dock

    def _action(self, text: str, slot: Callable[[], Any], shortcut: Any = None, *,
                menu: Any = None, tip: str = "") -> QAction:
        action = QAction(text, self)
        if shortcut is not None:
            shortcuts = shortcut if isinstance(shortcut, list) else [shortcut]
            action.setShortcuts([QKeySequence(s) for s in shortcuts])
        if tip:
            action.setStatusTip(tip)
        action.triggered.connect(lambda _checked=False: slot())
        self.addAction(action)  # shortcuts work even with the menu bar hidden
        if menu is not None:
            menu.addAction(action)
        return action

    def _build_actions(self) -> None:
        bar = self.menuBar()
        file_menu = bar.addMenu("&File")
        self._action("&Open project…", self.open_project_dialog, QKeySequence.StandardKey.Open,
                     menu=file_menu)
        self._action("&New project…", lambda: self.open_project_dialog(create=True),
                     QKeySequence.StandardKey.New, menu=file_menu)
        self.recent_menu = file_menu.addMenu("Open &recent")
        self.recent_menu.aboutToShow.connect(self._fill_recent_menu)
        file_menu.addSeparator()
        self.ingest_action = self._action("&Ingest files…", self.ingest_dialog, "Ctrl+I",
                                          menu=file_menu,
                                          tip="Add videos or folders (or drop them on the window)")
        file_menu.addSeparator()
        self._action("&Quit", self.close, QKeySequence.StandardKey.Quit, menu=file_menu)

        edit = bar.addMenu("&Edit")
        self.undo_action = self.undo_stack.createUndoAction(self, "&Undo")
        self.undo_action.setShortcut(QKeySequence.StandardKey.Undo)
        self.redo_action = self.undo_stack.createRedoAction(self, "&Redo")
        self.redo_action.setShortcuts([QKeySequence("Ctrl+Shift+Z"), QKeySequence("Ctrl+Y")])
        for action in (self.undo_action, self.redo_action):
            edit.addAction(action)
            self.addAction(action)
        edit.addSeparator()
        self._action("Select &all loaded", self.browser.select_all,
                     QKeySequence.StandardKey.SelectAll, menu=edit)
        self._action("&Find in captions", self.browser.filters.focus_search,
                     QKeySequence.StandardKey.Find, menu=edit)
        self._action("&Clear filters", self.browser.filters.clear, "Ctrl+Shift+F", menu=edit)
        self._action("Find and &replace in captions…", self.find_replace_dialog, "Ctrl+H",
                     menu=edit)

        clip = bar.addMenu("&Clip")
        self.accept_action = self._action("&Accept", lambda: self.decide_selected("accepted"),
                                          "A", menu=clip)
        self.reject_action = self._action("&Reject…", self.reject_selected, "R", menu=clip)
        self.pending_action = self._action("Back to &pending",
                                           lambda: self.decide_selected("pending"),
                                           ["U", "P"], menu=clip)
        clip.addSeparator()
        self._action("&Next clip", lambda: self._move(1), "J", menu=clip)
        self._action("P&revious clip", lambda: self._move(-1), "K", menu=clip)
        self.play_action = self._action("Play / pause", self.toggle_playback, "Space", menu=clip)
        clip.addSeparator()
        self.set_in_action = self._action("Set &in at playhead", self.set_in_point, "I",
                                          menu=clip)
        self.set_out_action = self._action("Set &out at playhead", self.set_out_point, "O",
                                           menu=clip)
        self.split_action = self._action("&Split at playhead", self.split_at_playhead, "S",
                                         menu=clip)
        self._action("Split at &transitions", self.split_at_transitions, "Ctrl+Shift+T",
                     menu=clip, tip="Split the selected clips at every cut, dissolve or fade")
        clip.addSeparator()
        self._action("Only this &source", self.filter_to_current_source, "Ctrl+Shift+S",
                     menu=clip)

        jobs = bar.addMenu("&Jobs")
        self.analyze_action = self._action("&Analyze clips not analysed yet",
                                           lambda: self.analyze(None), "Ctrl+Shift+A",
                                           menu=jobs, tip="Motion, hidden cuts, duplicates")
        self._action("Analyze &selected clips again",
                     lambda: self.analyze(self.browser.selected_ids(), force=True), menu=jobs)
        jobs.addSeparator()
        self._action("Cancel &all jobs", self.jobs.cancel_all, menu=jobs)

        view = bar.addMenu("&View")
        self._action("&Grid", lambda: self.browser.show_view("grid"), "Ctrl+1", menu=view)
        self._action("&Table", lambda: self.browser.show_view("table"), "Ctrl+2", menu=view)
        if self.image_panel is not None:
            self._action("&Clips", lambda: self.tabs.setCurrentWidget(self.browser), "Ctrl+3",
                         menu=view)
            self._action("&Images", lambda: self.tabs.setCurrentWidget(self.image_panel),
                         "Ctrl+4", menu=view)
        view.addSeparator()
        for dock in self.docks.values():
            view.addAction(dock.toggleViewAction())

    def _wire(self) -> None:
        self.browser.current_clip_changed.connect(self._show_clip)
        self.browser.decide_requested.connect(self.decide)
        self.browser.reject_requested.connect(self.ask_reject_reason)
        self.model.counts_changed.connect(self._show_counts)
        self.model.caption_saved.connect(self._on_table_caption_saved)
        self.model.error_occurred.connect(lambda text: self.statusBar().showMessage(text, 8000))
        self.undo_stack.indexChanged.connect(lambda _i: self._update_actions())
        if hasattr(self.caption_panel, "caption_saved"):
            self.caption_panel.caption_saved.connect(self._on_panel_caption_saved)
        # Show the Jobs tab for a new job, unless the job came from a tab the person is using.
        self.jobs.job_started.connect(self._raise_jobs_unless_busy_tab)
        if self.image_panel is not None and hasattr(self.image_panel, "image_decided"):
            self.image_panel.image_decided.connect(lambda _ids: self._update_tab_titles())
        self.model.counts_changed.connect(lambda _c: self._update_tab_titles())

    # --- showing a clip ------------------------------------------------------------------

    def _show_clip(self, item: ClipListItem | None) -> None:
        self.show_clip_id(item.id if item is not None else None)

    def reveal_clip(self, clip_id: int) -> None:
        """Select a clip named elsewhere (an export warning); shown even if filtered out."""
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
        if hasattr(self.preview, "show_clip"):
            self.preview.show_clip(row)
        if hasattr(self.caption_panel, "show_item"):
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
        if self.image_panel is None:
            return
        self.tabs.setTabText(0, f"Clips  {self.model.total:,}" if self.model.total_exact
                             else "Clips")
        images = getattr(self.image_panel, "model", None)
        if images is not None:
            self.tabs.setTabText(1, f"Images  {images.rowCount():,}")

    def _update_actions(self) -> None:
        has_clip = self._shown_clip is not None
        has_playhead = hasattr(self.preview, "current_frame")
        for action in (self.set_in_action, self.set_out_action, self.split_action):
            action.setEnabled(has_clip and has_playhead)
        self.play_action.setEnabled(has_clip and self._preview_toggle() is not None)

    # --- decisions -----------------------------------------------------------------------

    def images_shown(self) -> bool:
        return self.image_panel is not None and self.tabs.currentWidget() is self.image_panel

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
        self.undo_stack.push(DecisionCommand(self.catalog, ids, decision, reason,
                                             self._on_decisions_changed))
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

    def _on_table_caption_saved(self, caption: Any) -> None:
        clip_id = getattr(caption, "clip_id", None)
        if clip_id is not None:
            self._reshow_if_current([clip_id])

    def _on_panel_caption_saved(self, caption: Any) -> None:
        clip_id = getattr(caption, "clip_id", None)
        if clip_id is not None:
            self.model.refresh_clips([clip_id])

    def _raise_jobs_unless_busy_tab(self, _handle: object) -> None:
        for title in self.job_panels:
            dock = self.docks.get(title.lower())
            if dock is not None and dock.isVisible() and not dock.visibleRegion().isEmpty():
                return
        self.docks["jobs"].raise_()

    def _on_caption_job_saved(self, caption: Any) -> None:
        self._on_panel_caption_saved(caption)
        clip_id = getattr(caption, "clip_id", None)
        if clip_id is not None:
            self._reshow_if_current([clip_id])
        elif getattr(caption, "image_id", None) is not None and hasattr(self.image_panel, "model"):
            self.image_panel.model.refresh(caption.image_id)  # one row, not the whole list

    # --- playhead: play, trim, split -----------------------------------------------------

    def _preview_toggle(self) -> Callable[[], Any] | None:
        for name in ("toggle_playback", "toggle_play", "play_pause"):
            method = getattr(self.preview, name, None)
            if callable(method):
                return method
        return None

    def toggle_playback(self) -> None:
        toggle = self._preview_toggle()
        if toggle is not None:
            toggle()

    def playhead(self) -> int | None:
        """The source frame the preview shows, or None without a preview or a clip."""
        current = getattr(self.preview, "current_frame", None)
        if not callable(current) or self._shown_clip is None:
            return None
        return int(current())

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
        """Split a clip at a source frame; the new clip (with the caption) is shown below it."""
        try:
            _kept, child = self.catalog.split_clip(clip_id, at_frame)
        except CatalogError as exc:
            self.statusBar().showMessage(str(exc), 8000)
            return None
        # Splits are not on the undo stack: the new clip may be decided or captioned next.
        self.model.refresh_clips([clip_id])
        self.model.insert_clips_after(clip_id, [child])
        self._reshow_if_current([clip_id])
        self.statusBar().showMessage(f"Split at frame {at_frame}: new clip {child}", 4000)
        return child

    def split_at_transitions(self) -> None:
        from curator.gui import split_transitions

        split_transitions.start(self, self.browser.selected_ids())

    def find_replace_dialog(self) -> None:
        """Find and replace across captions (the selection, or every clip and image)."""
        from curator.gui.dialogs.find_replace import FindReplaceDialog

        dialog = FindReplaceDialog(self.catalog, self.jobs, self,
                                   clip_ids=self.browser.selected_ids())
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.applied.connect(self._on_captions_replaced)
        dialog.open()

    def _on_captions_replaced(self, _report: object) -> None:
        self.browser.reload()
        self._show_clip(self.browser.current_item())  # the caption panel shows the new text

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

    def ingest(self, paths: list[Path]) -> JobHandle | None:
        """Ingest files or folders as a job; the browser shows the new clips when it ends."""
        try:
            from curator.core.ingest import ingest_paths
        except ImportError:
            self.statusBar().showMessage("Ingest is not available in this build", 8000)
            return None
        try:
            from curator.core.analysis import make_frame_analyzer
        except ImportError:
            make_frame_analyzer = None  # ingest without analysis; Jobs > Analyze does it later
        available = {"catalog": self.catalog, "project": self.project, "paths": list(paths),
                     "thumbs_dir": self.project.thumbs_dir,
                     "analyzer_factory": make_frame_analyzer}
        kwargs = {name: available[name] for name in inspect.signature(ingest_paths).parameters
                  if name in available}
        names = ", ".join(p.name for p in paths[:3]) + (" …" if len(paths) > 3 else "")
        # ingest_paths records its own job row in the catalog
        return self.run_job("ingest", f"Ingest {names}", ingest_paths,
                            on_finished=self._on_ingested, record_in_catalog=False, **kwargs)

    def analyze(self, clip_ids: list[int] | None, *, force: bool = False) -> JobHandle | None:
        """Measure motion and hidden cuts as a job; the browser shows the scores when done."""
        try:
            from curator.core.analysis import analyze_clips
        except ImportError:
            self.statusBar().showMessage("Analysis is not available in this build", 8000)
            return None
        what = "all clips" if clip_ids is None else f"{len(clip_ids)} clip(s)"
        return self.run_job("analyze", f"Analyze {what}", analyze_clips,
                            on_finished=lambda _h: self.browser.reload(), catalog=self.catalog,
                            clip_ids=clip_ids, force=force,
                            record_in_catalog=False)  # analyze_clips records its own job row

    def _on_ingested(self, handle: JobHandle) -> None:
        self.browser.filters.set_sources(self.model.source_choices())
        self.browser.reload()
        if self.image_panel is not None and hasattr(self.image_panel, "reload"):
            self.image_panel.reload()
            self._update_tab_titles()
        report = handle.report
        created = getattr(report, "clips", None)
        self.statusBar().showMessage(
            f"Ingest {handle.status}" + (f": {created} new clips" if created is not None else ""),
            8000)

    def ingest_dialog(self) -> None:
        files, _ = QFileDialog.getOpenFileNames(
            self, "Ingest videos", str(Path.home()),
            "Videos and images (*.mp4 *.mkv *.mov *.avi *.webm *.m4v *.png *.jpg *.jpeg "
            "*.webp);;All files (*)")
        if files:
            self.ingest([Path(f) for f in files])

    def dragEnterEvent(self, event: QDragEnterEvent) -> None:  # noqa: N802 - Qt API
        if event.mimeData().hasUrls() and any(u.isLocalFile() for u in event.mimeData().urls()):
            event.acceptProposedAction()
        else:
            event.ignore()

    def dropEvent(self, event: QDropEvent) -> None:  # noqa: N802 - Qt API
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

    def _restore_ui_state(self) -> None:
        s = self.settings
        s.beginGroup(SETTINGS_GROUP)
        geometry, state = s.value("geometry"), s.value("state")
        header = s.value("tableHeader")
        view = s.value("browserView", "grid")
        s.endGroup()
        if isinstance(geometry, QByteArray):
            self.restoreGeometry(geometry)
        if isinstance(state, QByteArray):
            self.restoreState(state)
        if isinstance(header, QByteArray):
            self.browser.table.horizontalHeader().restoreState(header)
        self.browser.show_view(view if view in ("grid", "table") else "grid")

    def save_ui_state(self) -> None:
        s = self.settings
        s.beginGroup(SETTINGS_GROUP)
        s.setValue("geometry", self.saveGeometry())
        s.setValue("state", self.saveState())
        s.setValue("tableHeader", self.browser.table.horizontalHeader().saveState())
        s.setValue("browserView", self.browser.current_view_name())
        s.endGroup()
        s.sync()

    def closeEvent(self, event: QCloseEvent) -> None:  # noqa: N802 - Qt API
        question = close_question(self.jobs.running())
        if question is not None and not self._close_confirmed:
            event.ignore()
            self._ask_before_closing(question)
            return
        self.save_ui_state()
        self.jobs.shutdown()
        for panel in (self.preview, self.caption_panel, self.image_panel,
                      *self.job_panels.values()):
            shutdown = getattr(panel, "shutdown", None)
            if callable(shutdown):
                shutdown()
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
