"""What the Caption, Export and Train tabs share: status colours, stat cards, a base class."""

from __future__ import annotations

from PySide6.QtWidgets import QFrame, QLabel, QVBoxLayout, QWidget

from curator.core.catalog import Catalog
from curator.gui.workers import JobRunner

ERROR_COLOR = "#f85149"
WARNING_COLOR = "#d29922"
OK_COLOR = "#3fb950"
MUTED_COLOR = "#8b949e"


def stat_card(key: str, caption: str) -> tuple[QFrame, QLabel, QLabel]:
    """A small card with a caption over a big value (`role` properties the panels style).

    Returns:
        (the card, its caption label, its value label named `stat_<key>`).
    """
    card = QFrame()
    card.setProperty("role", "stat")
    box = QVBoxLayout(card)
    box.setContentsMargins(10, 5, 10, 6)
    box.setSpacing(0)
    title = QLabel(caption)
    title.setProperty("role", "statCaption")
    value = QLabel("–")
    value.setProperty("role", "statValue")
    value.setObjectName(f"stat_{key}")
    box.addWidget(title)
    box.addWidget(value)
    return card, title, value


class JobTab(QWidget):
    """What the Caption, Export and Train tabs share: a project's catalog and a job runner.

    A tab built alone (tests, a script) makes its own runner and, on `shutdown_runner`,
    cancels and waits for it; inside the window it uses the window's runner.
    """

    def __init__(self, object_name: str, style: str, *, catalog: Catalog,
                 job_runner: JobRunner | None, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName(object_name)
        self.setStyleSheet(style)
        self.catalog = catalog
        self._owns_runner = job_runner is None
        self.runner = job_runner if job_runner is not None else JobRunner(catalog, self)

    def shutdown_runner(self) -> None:
        if self._owns_runner:
            self.runner.shutdown()
