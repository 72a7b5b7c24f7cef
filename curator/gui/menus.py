"""The main window's menus: File, Edit, Clip, Jobs and View, with their shortcuts.

Ctrl+1 … Ctrl+5 switch workspaces; Clips and Images are Ctrl+Alt+1 and 2, grid and table
Ctrl+G and Ctrl+T, the tile size Ctrl+= and Ctrl+-.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import QMainWindow, QMenu, QWidget

from curator.gui.workspaces import WORKSPACES

if TYPE_CHECKING:
    from curator.gui.main_window import MainWindow


def add_action(window: QMainWindow, text: str, slot: Callable[[], Any], shortcut: Any = None,
               *, menu: QMenu | None = None, tip: str = "") -> QAction:
    """An action on the window (its shortcut works with the menu bar hidden), in `menu`."""
    action = QAction(text, window)
    if shortcut is not None:
        shortcuts = shortcut if isinstance(shortcut, list) else [shortcut]
        action.setShortcuts([QKeySequence(s) for s in shortcuts])
    if tip:
        action.setStatusTip(tip)
    action.triggered.connect(lambda _checked=False: slot())
    window.addAction(action)  # shortcuts work even with the menu bar hidden
    if menu is not None:
        menu.addAction(action)
    return action


def build_menus(window: MainWindow) -> None:
    """The menu bar; every action is also on the window, so shortcuts work without it."""
    bar = window.menuBar()
    _file_menu(window, bar.addMenu("&File"))
    _edit_menu(window, bar.addMenu("&Edit"))
    clip = bar.addMenu("&Clip")
    _clip_menu(window, clip)
    # The actions, not the menu: they live as long as the window (the menu bar goes first).
    window.clip_keys = [action for action in clip.actions() if not action.isSeparator()]
    _jobs_menu(window, bar.addMenu("&Jobs"))
    _view_menu(window, bar.addMenu("&View"))


def _file_menu(window: MainWindow, menu: QMenu) -> None:
    add_action(window, "&Open project…", window.open_project_dialog,
               QKeySequence.StandardKey.Open, menu=menu)
    add_action(window, "&New project…", lambda: window.open_project_dialog(create=True),
               QKeySequence.StandardKey.New, menu=menu)
    window.recent_menu = menu.addMenu("Open &recent")
    window.recent_menu.aboutToShow.connect(window._fill_recent_menu)
    menu.addSeparator()
    window.ingest_action = add_action(window, "&Ingest files…", window.ingest_dialog, "Ctrl+I",
                                      menu=menu,
                                      tip="Add videos or folders (or drop them on the window)")
    menu.addSeparator()
    add_action(window, "&Quit", window.close, QKeySequence.StandardKey.Quit, menu=menu)


def _edit_menu(window: MainWindow, edit: QMenu) -> None:
    window.undo_action = window.undo_stack.createUndoAction(window, "&Undo")
    window.undo_action.setShortcut(QKeySequence.StandardKey.Undo)
    window.redo_action = window.undo_stack.createRedoAction(window, "&Redo")
    window.redo_action.setShortcuts([QKeySequence("Ctrl+Shift+Z"), QKeySequence("Ctrl+Y")])
    for action in (window.undo_action, window.redo_action):
        edit.addAction(action)
        window.addAction(action)
    edit.addSeparator()
    # Select all and Clear filters act on the clip list: off where it is not shown (Ctrl+A in
    # the Export table must select its rows, not hidden clips). Find goes to the list.
    window.list_keys = [
        add_action(window, "Select &all loaded", window.browser.select_all,
                   QKeySequence.StandardKey.SelectAll, menu=edit),
        add_action(window, "&Clear filters", window.browser.filters.clear, "Ctrl+Shift+F",
                   menu=edit),
    ]
    add_action(window, "&Find in captions", window.find_in_captions,
               QKeySequence.StandardKey.Find, menu=edit)
    add_action(window, "Find and &replace in captions…", window.find_replace_dialog, "Ctrl+H",
               menu=edit)


def _clip_menu(window: MainWindow, clip: QMenu) -> None:
    # A single letter acts on the current clip; Shift and the letter on the selection (asked).
    acts = window.clip_actions
    window.accept_action = add_action(window, "&Accept", lambda: acts.decide_current("accepted"),
                                      "A", menu=clip)
    window.reject_action = add_action(window, "&Reject…", lambda: acts.decide_current("rejected"),
                                      "R", menu=clip)
    window.pending_action = add_action(window, "Back to &pending",
                                       lambda: acts.decide_current("pending"), ["U", "P"],
                                       menu=clip)
    add_action(window, "Accept the selection…", lambda: acts.decide_selection("accepted"),
               "Shift+A", menu=clip)
    add_action(window, "Reject the selection…", lambda: acts.decide_selection("rejected"),
               "Shift+R", menu=clip)
    add_action(window, "Selection back to pending…", lambda: acts.decide_selection("pending"),
               "Shift+U", menu=clip)
    clip.addSeparator()
    add_action(window, "&Next clip", lambda: window._move(1), "J", menu=clip)
    add_action(window, "P&revious clip", lambda: window._move(-1), "K", menu=clip)
    window.play_action = add_action(window, "Play / pause", window.toggle_playback, "Space",
                                    menu=clip)
    clip.addSeparator()
    window.set_in_action = add_action(window, "Set &in at playhead", window.set_in_point, "I",
                                      menu=clip)
    window.set_out_action = add_action(window, "Set &out at playhead", window.set_out_point, "O",
                                       menu=clip)
    window.split_action = add_action(window, "&Split at playhead", window.split_at_playhead, "S",
                                     menu=clip)
    add_action(window, "Split at &transitions", window.split_at_transitions, "Ctrl+Shift+T",
               menu=clip, tip="Split the selected clips at every cut, dissolve or fade")
    window.still_action = add_action(
        window, "Save frame as s&till", acts.save_still, "Ctrl+Alt+S", menu=clip,
        tip="The frame shown, full resolution and lossless, into the Images tab")
    window.merge_action = add_action(window, "&Merge with the next clip", acts.merge_selection,
                                     "M", menu=clip, tip="Or the two selected clips")
    clip.addSeparator()
    add_action(window, "Only this &source", window.filter_to_current_source, "Ctrl+Shift+S",
               menu=clip)


def _jobs_menu(window: MainWindow, jobs: QMenu) -> None:
    window.analyze_action = add_action(window, "&Analyze clips not analysed yet",
                                       lambda: window.analyze(None), "Ctrl+Shift+A",
                                       menu=jobs, tip="Motion, hidden cuts, duplicates")
    add_action(window, "Analyze &selected clips again",
               lambda: window.analyze(window.browser.selected_ids(), force=True), menu=jobs)
    add_action(window, "&Rules: pre-decide pending clips…", window.clip_actions.open_rules,
               menu=jobs, tip="The auto-decide rules, with what each would reject now")
    jobs.addSeparator()
    add_action(window, "Cancel &all jobs", window.jobs.cancel_all, menu=jobs)


def _view_menu(window: MainWindow, view: QMenu) -> None:
    for number, space in enumerate(WORKSPACES, start=1):
        add_action(window, space.title, lambda k=space.key: window.show_workspace(k),
                   f"Ctrl+{number}", menu=view, tip=space.tip)
    view.addSeparator()
    add_action(window, "&Clips", lambda: _show_tab(window, window.browser), "Ctrl+Alt+1",
               menu=view)
    add_action(window, "&Images", lambda: _show_tab(window, window.image_panel), "Ctrl+Alt+2",
               menu=view)
    add_action(window, "&Grid", lambda: window.browser.show_view("grid"), "Ctrl+G", menu=view)
    add_action(window, "&Table", lambda: window.browser.show_view("table"), "Ctrl+T", menu=view)
    add_action(window, "&Larger tiles", lambda: window.browser.zoom.step(1),
               ["Ctrl+=", "Ctrl++"], menu=view)
    add_action(window, "S&maller tiles", lambda: window.browser.zoom.step(-1), "Ctrl+-",
               menu=view)
    view.addSeparator()
    for dock in window.docks.values():
        view.addAction(dock.toggleViewAction())
    add_action(window, "&Reset layout", window.reset_layout, menu=view,
               tip="Forget the saved window layout: fill the screen, panes at their defaults")


def _show_tab(window: MainWindow, widget: QWidget) -> None:
    """Clips or Images, on the Curate workspace unless the one shown holds the list."""
    if not window.workspaces.page_has(window.workspaces.current(), "list"):
        window.show_workspace("curate")
    window.tabs.setCurrentWidget(widget)
