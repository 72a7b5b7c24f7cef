"""Start the Qt application and the main window."""

from __future__ import annotations

import os
import sys
from pathlib import Path

from PySide6.QtWidgets import QApplication

from curator.core.project import Project


def run_gui(project_dir: str | None = None) -> int:
    app = QApplication.instance() or QApplication(sys.argv[:1])
    app.setApplicationName("Curator")
    app.setOrganizationName("Curator")
    from curator.gui.main_window import MainWindow

    root = Path(project_dir or os.environ.get("CURATOR_PROJECT") or Path.cwd())
    window = MainWindow(Project(root))
    window.show()
    return app.exec()
