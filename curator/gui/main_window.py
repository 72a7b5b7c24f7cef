"""The main window (a plain one until the curator panels land)."""

from __future__ import annotations

from PySide6.QtWidgets import QLabel, QMainWindow

from curator.core.project import Project


class MainWindow(QMainWindow):
    def __init__(self, project: Project) -> None:
        super().__init__()
        self.project = project
        self.setWindowTitle(f"Curator — {project.root.name}")
        counts = project.catalog.counts()
        self.setCentralWidget(QLabel(
            f"{counts['total']} clips: {counts['pending']} pending, {counts['accepted']} accepted, "
            f"{counts['rejected']} rejected, {counts['captioned']} captioned"))
        self.resize(1280, 800)
