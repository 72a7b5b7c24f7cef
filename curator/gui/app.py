"""Start the Qt application: theme, which project to open, and the main window."""

from __future__ import annotations

import os
import sys
from pathlib import Path

from PySide6.QtCore import QSettings, Qt
from PySide6.QtGui import QColor, QFont, QPalette
from PySide6.QtWidgets import QApplication, QDialog, QStyleFactory

from curator.core.project import Project

# Dark, neutral, high-contrast enough for long sessions; status colours stay the only colour.
_PALETTE = {
    QPalette.ColorRole.Window: "#161b22",
    QPalette.ColorRole.WindowText: "#e6edf3",
    QPalette.ColorRole.Base: "#0f1419",
    QPalette.ColorRole.AlternateBase: "#151b23",
    QPalette.ColorRole.ToolTipBase: "#21262d",
    QPalette.ColorRole.ToolTipText: "#e6edf3",
    QPalette.ColorRole.PlaceholderText: "#8b949e",
    QPalette.ColorRole.Text: "#e6edf3",
    QPalette.ColorRole.Button: "#21262d",
    QPalette.ColorRole.ButtonText: "#e6edf3",
    QPalette.ColorRole.BrightText: "#ffffff",
    QPalette.ColorRole.Highlight: "#2f81f7",
    QPalette.ColorRole.HighlightedText: "#ffffff",
    QPalette.ColorRole.Link: "#58a6ff",
    QPalette.ColorRole.Mid: "#30363d",
    QPalette.ColorRole.Dark: "#0d1117",
    QPalette.ColorRole.Light: "#30363d",
    QPalette.ColorRole.Midlight: "#262c34",
    QPalette.ColorRole.Shadow: "#010409",
}

STYLESHEET = """
QMainWindow::separator { background: #0d1117; width: 4px; height: 4px; }
QDockWidget { titlebar-close-icon: none; font-weight: 600; }
QDockWidget::title { background: #1c2128; padding: 5px 8px; border-bottom: 1px solid #30363d; }
QTabBar::tab { background: #1c2128; color: #8b949e; padding: 5px 14px; border: none; }
QTabBar::tab:selected { color: #e6edf3; border-bottom: 2px solid #2f81f7; }
#filterBar, #browserActions { background: #1c2128; }
#filterBar QToolButton[statusTab] {
    padding: 4px 10px; border-radius: 12px; border: 1px solid #30363d; background: #21262d;
}
#filterBar QToolButton[statusTab]:checked { background: #2f81f7; border-color: #2f81f7;
    color: white; }
#filterBar QToolButton[statusTab="pending"] { color: #c9d1d9; }
#filterBar QToolButton[statusTab="accepted"] { color: #3fb950; }
#filterBar QToolButton[statusTab="rejected"] { color: #f85149; }
#filterBar QToolButton[statusTab]:checked { color: white; }
#captionedCounter, #browserSummary { color: #8b949e; }
QLineEdit, QComboBox, QPlainTextEdit, QTextEdit {
    border: 1px solid #30363d; border-radius: 4px; padding: 3px 6px; background: #0d1117;
}
QAbstractSpinBox { border: 1px solid #30363d; border-radius: 4px; padding: 2px 4px;
    background: #0d1117; }
QAbstractSpinBox::up-button, QAbstractSpinBox::down-button { width: 0px; border: none; }
QLineEdit:focus, QPlainTextEdit:focus, QTextEdit:focus { border-color: #2f81f7; }
QPushButton { border: 1px solid #30363d; border-radius: 5px; padding: 5px 12px;
    background: #21262d; }
QPushButton:hover { background: #30363d; }
QPushButton#decide_accepted { border-color: #238636; color: #3fb950; }
QPushButton#decide_rejected { border-color: #da3633; color: #f85149; }
QHeaderView::section { background: #1c2128; color: #8b949e; border: none;
    border-right: 1px solid #30363d; padding: 4px 6px; }
QTableView { gridline-color: #21262d; selection-background-color: #1f3b63; }
QListView#clipGrid { background: #0f1419; border: none; }
QStatusBar { background: #1c2128; color: #8b949e; }
QStatusBar QLabel { color: #8b949e; padding-right: 8px; }
"""


def apply_theme(app: QApplication) -> None:
    """Fusion with a dark palette, readable default font, and the small stylesheet above."""
    app.setStyle(QStyleFactory.create("Fusion"))
    palette = QPalette()
    for role, color in _PALETTE.items():
        palette.setColor(role, QColor(color))
    for role in (QPalette.ColorRole.Text, QPalette.ColorRole.ButtonText,
                 QPalette.ColorRole.WindowText):
        palette.setColor(QPalette.ColorGroup.Disabled, role, QColor("#6e7681"))
    app.setPalette(palette)
    font = app.font()
    if font.pointSizeF() < 10:
        font.setPointSizeF(10)
    font.setStyleHint(QFont.StyleHint.SansSerif)
    app.setFont(font)
    app.setStyleSheet(STYLESHEET)


def make_app() -> QApplication:
    app = QApplication.instance() or QApplication(sys.argv[:1])
    app.setApplicationName("Curator")
    app.setOrganizationName("Curator")
    apply_theme(app)
    return app


_windows: list = []  # open windows, kept alive while shown


def open_window(root: Path, settings: QSettings | None = None):  # noqa: ANN201 - MainWindow
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
    window.show()
    return window


def run_gui(project_dir: str | None = None) -> int:
    """Open the window on `project_dir`, else the most recent project, else ask for one."""
    app = make_app()
    settings = QSettings()
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
