"""Start the Qt application: theme, which project to open, and the main window."""

from __future__ import annotations

import os
import sys
from pathlib import Path

from PySide6.QtCore import QSettings, Qt
from PySide6.QtWidgets import QApplication, QDialog

from curator.core.project import Project
from curator.gui.collector import collect_on_gui_thread
from curator.gui.theme import apply_theme
from curator.gui.window_state import user_settings


def make_app() -> QApplication:
    app = QApplication.instance() or QApplication(sys.argv[:1])
    app.setApplicationName("Curator")
    app.setOrganizationName("Curator")
    apply_theme(app)
    collect_on_gui_thread(app)
    return app


_windows: list = []  # open windows, kept alive while shown


def open_window(root: Path, settings: QSettings | None = None):
    """Open a project's window (closing another project's window once the new one is up)."""
    from curator.gui.main_window import MainWindow

    project = Project(root)
    window = MainWindow(project, settings)

    def switch(path: Path) -> None:
        new = open_window(path, settings)
        if new is not None:
            window.close()

    def closed(*_args: object) -> None:
        project.close()
        if window in _windows:
            _windows.remove(window)

    window.project_open_requested.connect(switch)
    window.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
    window.destroyed.connect(closed)
    _windows.append(window)
    window.show_sized()  # maximised on a first start, else as it was left
    return window


def run_gui(project_dir: str | None = None) -> int:
    """Open the window on `project_dir`, else the most recent project, else ask for one."""
    app = make_app()
    settings = user_settings()
    root: Path | None = None
    if project_dir or os.environ.get("CURATOR_PROJECT"):
        root = Path(project_dir or os.environ["CURATOR_PROJECT"])
    else:
        from curator.gui.dialogs.project_dialog import ProjectDialog, recent_projects

        recent = recent_projects(settings)
        if recent:
            root = recent[0]
        else:
            dialog = ProjectDialog(settings)
            if dialog.exec() != QDialog.DialogCode.Accepted or dialog.chosen is None:
                return 0
            root = dialog.chosen
    open_window(root, settings)
    return app.exec()
