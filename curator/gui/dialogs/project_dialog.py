"""Open or create a project, with the recent ones one click away (kept in QSettings)."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from PySide6.QtCore import QSettings, Qt
from PySide6.QtWidgets import (
    QDialog,
    QFileDialog,
    QHBoxLayout,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

RECENT_KEY = "projects/recent"
RECENT_LIMIT = 10


def updated_recent(recent: Sequence[str], opened: str, limit: int = RECENT_LIMIT) -> list[str]:
    """The recent list after opening `opened`: it goes first, once, and the list is capped."""
    return [opened, *[p for p in recent if p != opened]][:limit]


def recent_projects(settings: QSettings) -> list[Path]:
    """Recent project folders that still exist, newest first."""
    value = settings.value(RECENT_KEY, [])
    if isinstance(value, str):  # QSettings gives a lone string for a one-item list
        value = [value]
    return [Path(p) for p in (value or []) if Path(p).is_dir()]


def remember_project(settings: QSettings, root: Path) -> None:
    current = [str(p) for p in recent_projects(settings)]
    settings.setValue(RECENT_KEY, updated_recent(current, str(root)))



class ProjectDialog(QDialog):
    """Shown when Curator starts with no project: recent ones, open a folder, or a new one."""

    def __init__(self, settings: QSettings, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Curator — open a project")
        self.setMinimumWidth(520)
        self.chosen: Path | None = None
        layout = QVBoxLayout(self)
        title = QLabel("Curator")
        title.setStyleSheet("font-size: 20pt; font-weight: 600;")
        layout.addWidget(title)
        layout.addWidget(QLabel("A project is a folder: its catalog, thumbnails and exports "
                                "live inside it."))
        layout.addWidget(QLabel("Recent projects"))
        self.recent = QListWidget()
        for path in recent_projects(settings):
            item = QListWidgetItem(f"{path.name}\n{path}")
            item.setData(Qt.ItemDataRole.UserRole, str(path))
            self.recent.addItem(item)
        self.recent.itemActivated.connect(self._open_recent)
        layout.addWidget(self.recent)
        row = QHBoxLayout()
        new = QPushButton("New project…")
        new.clicked.connect(self._new)
        open_ = QPushButton("Open folder…")
        open_.clicked.connect(self._open_folder)
        self.open_recent = QPushButton("Open")
        self.open_recent.setDefault(True)
        self.open_recent.setEnabled(self.recent.count() > 0)
        self.open_recent.clicked.connect(lambda: self._open_recent(self.recent.currentItem()))
        cancel = QPushButton("Quit")
        cancel.clicked.connect(self.reject)
        for button in (new, open_):
            row.addWidget(button)
        row.addStretch(1)
        row.addWidget(cancel)
        row.addWidget(self.open_recent)
        layout.addLayout(row)
        if self.recent.count():
            self.recent.setCurrentRow(0)

    def _choose(self, folder: Path) -> None:
        self.chosen = folder
        self.accept()

    def _open_recent(self, item: QListWidgetItem | None) -> None:
        if item is not None:
            self._choose(Path(item.data(Qt.ItemDataRole.UserRole)))

    def _open_folder(self) -> None:
        folder = choose_project_folder(self, create=False)
        if folder is not None:
            self._choose(folder)

    def _new(self) -> None:
        folder = choose_project_folder(self, create=True)
        if folder is not None:
            self._choose(folder)


def choose_project_folder(parent: QWidget | None, *, create: bool) -> Path | None:
    """Ask for a folder: an existing project, or (create) an empty folder for a new one."""
    caption = "New project: choose or create an empty folder" if create else "Open a project folder"
    # From the home folder: with no directory Qt starts in the program's own working folder.
    folder = QFileDialog.getExistingDirectory(parent, caption, str(Path.home()))
    return Path(folder) if folder else None
