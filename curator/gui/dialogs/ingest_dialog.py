"""Ingest from the window: files or folders, how videos are split into scenes, analyse now.

The dialog only gathers the request; the window runs the core's `ingest_paths` as a job and
shows each source's clips as soon as that source is done.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QListWidget,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

MEDIA_FILTER = ("Videos and images (*.mp4 *.mkv *.mov *.avi *.webm *.m4v *.png *.jpg *.jpeg "
                "*.webp);;All files (*)")

#: The core's scene modes (`curator.core.ingest.SCENES_MODES`) in a window user's words.
SCENE_MODES = {
    "auto": "Split each new video at its cuts",
    "always": "Split again, also videos already ingested (keeps decided and edited clips)",
    "never": "One clip per file (the files are clips already)",
}


@dataclass(frozen=True)
class IngestRequest:
    paths: list[Path]
    scenes: str
    analyse: bool


class IngestDialog(QDialog):
    """Choose what to ingest and how; `request()` says what was chosen."""

    def __init__(self, start_dir: Path, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("ingestDialog")
        self.setWindowTitle("Ingest videos and images")
        self.start_dir = start_dir
        layout = QVBoxLayout(self)
        layout.addWidget(QLabel("Files and folders (folders are searched inside):"))
        self.paths = QListWidget()
        self.paths.setSelectionMode(QListWidget.SelectionMode.ExtendedSelection)
        layout.addWidget(self.paths, 1)
        row = QHBoxLayout()
        for text, slot in (("Add files…", self.add_files), ("Add folder…", self.add_folder),
                           ("Remove", self.remove_selected)):
            button = QPushButton(text)
            button.clicked.connect(slot)
            row.addWidget(button)
        row.addStretch(1)
        layout.addLayout(row)
        form = QFormLayout()
        self.scenes = QComboBox()
        for mode, words in SCENE_MODES.items():
            self.scenes.addItem(words, mode)
        form.addRow("Scenes", self.scenes)
        self.analyse = QCheckBox("Analyse while ingesting (motion, cuts, duplicates, text)")
        self.analyse.setChecked(True)
        form.addRow("", self.analyse)
        layout.addLayout(form)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Cancel)
        self.ok_button = buttons.addButton("Ingest", QDialogButtonBox.ButtonRole.AcceptRole)
        self.ok_button.setEnabled(False)
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        layout.addWidget(buttons)
        self.resize(620, 420)

    def add_paths(self, paths: list[Path]) -> None:
        known = {self.paths.item(i).data(Qt.ItemDataRole.UserRole)
                 for i in range(self.paths.count())}
        for path in paths:
            if str(path) not in known:
                self.paths.addItem(f"{'📁 ' if path.is_dir() else ''}{path}")
                self.paths.item(self.paths.count() - 1).setData(Qt.ItemDataRole.UserRole,
                                                                str(path))
        self.ok_button.setEnabled(self.paths.count() > 0)

    def add_files(self) -> None:
        files, _ = QFileDialog.getOpenFileNames(self, "Add videos or images", str(self.start_dir),
                                                MEDIA_FILTER)
        self.add_paths([Path(f) for f in files])

    def add_folder(self) -> None:
        folder = QFileDialog.getExistingDirectory(self, "Add a folder", str(self.start_dir))
        if folder:
            self.add_paths([Path(folder)])

    def remove_selected(self) -> None:
        for item in self.paths.selectedItems():
            self.paths.takeItem(self.paths.row(item))
        self.ok_button.setEnabled(self.paths.count() > 0)

    def request(self) -> IngestRequest:
        return IngestRequest(
            paths=[Path(self.paths.item(i).data(Qt.ItemDataRole.UserRole))
                   for i in range(self.paths.count())],
            scenes=str(self.scenes.currentData()), analyse=self.analyse.isChecked())
