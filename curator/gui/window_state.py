"""The window's layout, per user, in QSettings: where the window is, the Jobs dock, the
splitters of each workspace, the workspace shown, the table's columns and the tile size.

Saved when the window closes and restored when it opens; View → Reset layout forgets it and
lays the window out as on a first start: filling the screen, panes at their default shares.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import QByteArray, QSettings, Qt, QTimer
from PySide6.QtGui import QGuiApplication

from curator.gui.workspaces import KEYS

if TYPE_CHECKING:
    from curator.gui.main_window import MainWindow

SETTINGS_GROUP = "mainWindow"
#: What Reset layout forgets (the grid/table choice and recent projects are preferences).
LAYOUT_KEYS = ("geometry", "state", "tableHeader", "splitter", "thumbWidth")
#: A settings file of its own (an INI path): screenshots and trials leave a person's alone.
SETTINGS_ENV = "CURATOR_SETTINGS"


def user_settings() -> QSettings:
    """The per-user settings: `$CURATOR_SETTINGS` (an INI file) when set, else Qt's place."""
    path = os.environ.get(SETTINGS_ENV)
    if path:
        return QSettings(str(Path(path).expanduser()), QSettings.Format.IniFormat)
    return QSettings()


class WindowLayout:
    """Saves, restores and resets one main window's layout."""

    def __init__(self, window: MainWindow) -> None:
        self.window = window
        self.settings = window.settings
        # What the window looks like before any saved state: what Reset layout goes back to.
        self._default_state = window.saveState()
        self._default_header = window.browser.table.horizontalHeader().saveState()
        self.first_start = True

    def restore(self) -> None:
        w, s = self.window, self.settings
        s.beginGroup(SETTINGS_GROUP)
        geometry, state = s.value("geometry"), s.value("state")
        header = s.value("tableHeader")
        view = s.value("browserView", "grid")
        workspace = s.value("workspace", "curate")
        thumb = s.value("thumbWidth")
        splitters = w.workspaces.restore_state(s)
        s.endGroup()
        self.first_start = not isinstance(geometry, QByteArray)
        if not self.first_start:
            w.restoreGeometry(geometry)
        else:
            self.fill_screen()
        if isinstance(state, QByteArray):
            w.restoreState(state)
        if isinstance(header, QByteArray):
            w.browser.table.horizontalHeader().restoreState(header)
        if isinstance(thumb, (int, str)) and str(thumb).isdigit():  # a hand-edited file may hold anything
            w.browser.zoom.set_width(int(thumb))
        w.browser.show_view(view if view in ("grid", "table") else "grid")
        w.show_workspace(workspace if workspace in KEYS else "curate")
        if not splitters:  # first start: share the screen once the real size is known
            QTimer.singleShot(0, self.fit)

    def save(self) -> None:
        w, s = self.window, self.settings
        s.beginGroup(SETTINGS_GROUP)
        s.setValue("geometry", w.saveGeometry())
        s.setValue("state", w.saveState())
        s.setValue("tableHeader", w.browser.table.horizontalHeader().saveState())
        s.setValue("browserView", w.browser.current_view_name())
        s.setValue("workspace", w.workspaces.current())
        s.setValue("thumbWidth", w.browser.zoom.width_px())
        w.workspaces.save_state(s)
        s.endGroup()
        s.sync()

    def reset(self) -> None:
        """Forget the saved layout; lay the window out as on a first start."""
        w, s = self.window, self.settings
        s.beginGroup(SETTINGS_GROUP)
        for key in LAYOUT_KEYS:
            s.remove(key)
        s.endGroup()
        s.sync()
        w.restoreState(self._default_state)
        w.docks["jobs"].show()
        w.browser.table.horizontalHeader().restoreState(self._default_header)
        w.browser.zoom.reset()
        self.fill_screen()
        QTimer.singleShot(0, self.fit)
        w.statusBar().showMessage("Layout reset", 4000)

    def fill_screen(self) -> None:
        """The window over the screen's free area (a window manager then maximises it)."""
        w = self.window
        screen = w.screen() or QGuiApplication.primaryScreen()
        if screen is not None:
            w.setGeometry(screen.availableGeometry())

    def fit(self) -> None:
        """Panes as shares of the window: on 1280×720 fixed pixel sizes left the preview
        ~80 px tall under a 190-px Jobs strip; on 1920×1080 small beside a grid."""
        w = self.window
        w.workspaces.fit()
        jobs = w.docks["jobs"]
        w.resizeDocks([jobs], [max(96, int(w.height() * 0.14))], Qt.Orientation.Vertical)

    def show(self) -> None:
        """Show the window: maximised on a first start, else as it was left."""
        if self.first_start:
            self.window.showMaximized()
        else:
            self.window.show()
