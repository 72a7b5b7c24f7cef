"""The Export tab's run result: progress, the outcome banner and the dataset config's path."""

from __future__ import annotations

from PySide6.QtWidgets import (
    QFrame,
    QLabel,
    QLineEdit,
    QProgressBar,
    QPushButton,
    QStyle,
    QVBoxLayout,
    QWidget,
)

from curator.gui.widgets.job_bar import muted
from curator.gui.widgets.layout import caption_row, note_label


class ResultBox(QFrame):
    """Hidden until the first export; `copy_button` and `open_button` act on its config."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("resultBox")
        layout = QVBoxLayout(self)
        layout.setContentsMargins(10, 8, 10, 8)
        layout.setSpacing(6)
        self.progress_bar = QProgressBar()
        self.progress_bar.setObjectName("exportProgress")
        self.progress_bar.setRange(0, 1)
        layout.addWidget(self.progress_bar)
        self.banner = note_label("exportBanner")
        layout.addWidget(self.banner)
        row = caption_row("Dataset config")
        self.config_edit = QLineEdit()
        self.config_edit.setObjectName("configPath")
        self.config_edit.setReadOnly(True)
        row.addWidget(self.config_edit, 1)
        self.copy_button = QPushButton("Copy path")
        self.copy_button.setObjectName("copyConfig")
        row.addWidget(self.copy_button)
        self.open_button = QPushButton(
            self.style().standardIcon(QStyle.StandardPixmap.SP_DirOpenIcon), "Open folder")
        self.open_button.setObjectName("openExport")
        row.addWidget(self.open_button)
        self.result_row = QWidget()
        self.result_row.setLayout(row)
        row.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.result_row)
        self.train_hint = muted(QLabel(
            "Use in the Train tab: it takes this export's dataset config when its "
            "<i>Dataset config</i> field is empty."))
        self.train_hint.setObjectName("trainHint")
        self.train_hint.setWordWrap(True)
        layout.addWidget(self.train_hint)
        self.hide()

    def start(self) -> None:
        """Show the box for a run starting: a busy bar, no outcome yet."""
        self.show()
        self.result_row.hide()
        self.train_hint.hide()
        self.banner.hide()
        self.progress_bar.setRange(0, 0)
        self.progress_bar.setFormat("Counting and preparing…")
