"""What every job tab shows around a run: a progress bar coloured by state, a tinted banner,
stat cards, and the base class that owns the catalog and job runner."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from PySide6.QtCore import QSettings, QSize, Qt
from PySide6.QtGui import QColor, QFont, QFontDatabase, QIcon, QPainter, QPixmap
from PySide6.QtWidgets import QFrame, QLabel, QProgressBar, QScrollArea, QVBoxLayout, QWidget

from curator.core.catalog import Catalog
from curator.gui.theme import MUTED_COLOR
from curator.gui.workers import JobHandle, JobRunner


def set_bar_state(bar: QProgressBar, state: str) -> None:
    """Colour a progress bar by its run's state (`done`, `failed`, `cancelled` or '')."""
    bar.setProperty("state", state)
    bar.style().unpolish(bar)
    bar.style().polish(bar)


def show_banner(banner: QLabel, text: str, color: str) -> None:
    """Show `text` in a banner tinted with `color` (the run's outcome)."""
    tint = QColor(color)
    banner.setStyleSheet(
        f"color: {color}; background: rgba({tint.red()},{tint.green()},{tint.blue()},28);"
        f"border: 1px solid rgba({tint.red()},{tint.green()},{tint.blue()},90);")
    banner.setText(text)
    banner.show()


def show_notice(label: QLabel, text: str, color: str = MUTED_COLOR) -> None:
    """A one-line notice in `color`; hidden while empty."""
    label.setStyleSheet(f"color: {color};")
    label.setText(text)
    label.setVisible(bool(text))


def muted(widget: QWidget) -> QWidget:
    widget.setStyleSheet(f"color: {MUTED_COLOR};")
    return widget


def mono_font() -> QFont:
    """The system's fixed-width font, a little smaller: logs, commands, TOML."""
    font = QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont)
    font.setPointSizeF(max(8.5, font.pointSizeF() - 0.5))
    return font


def dot_icon(color: str, size: int = 12) -> QIcon:
    pixmap = QPixmap(size, size)
    pixmap.fill(Qt.GlobalColor.transparent)
    painter = QPainter(pixmap)
    painter.setRenderHint(QPainter.RenderHint.Antialiasing)
    painter.setPen(Qt.PenStyle.NoPen)
    painter.setBrush(QColor(color))
    painter.drawEllipse(2, 2, size - 4, size - 4)
    painter.end()
    return QIcon(pixmap)


def stat_card(key: str, caption: str) -> tuple[QFrame, QLabel, QLabel]:
    """A small card with a caption over a big value (`role` properties the theme styles).

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
    """What the Caption, Export and Train tabs share: a project, its catalog, a job runner, the
    window's settings, and a progress bar that shows the run's state.

    A tab built alone (tests, a script) makes its own runner and, on `shutdown_runner`,
    cancels and waits for it; inside the window it uses the window's runner.
    """

    # Each tab builds its own bar and enables its own controls for its state.
    progress_bar: QProgressBar
    _update_buttons: Callable[[], None]

    def __init__(self, object_name: str, style: str, *, project: Any = None,
                 catalog: Catalog | None = None, job_runner: JobRunner | None,
                 settings: QSettings | None = None, parent: QWidget | None = None) -> None:
        if catalog is None:
            if project is None:
                raise ValueError(f"{type(self).__name__} needs a project or a catalog")
            catalog = project.catalog
        super().__init__(parent)
        self.setObjectName(object_name)
        self.setStyleSheet(style)
        self.project = project
        self.root = Path(project.root) if project is not None else None
        self.settings = settings  # None: nothing is remembered between sessions
        self.catalog = catalog
        self._owns_runner = job_runner is None
        self.runner = job_runner if job_runner is not None else JobRunner(catalog, self)
        self.handle: JobHandle | None = None  # the tab's own job while it runs

    @property
    def running(self) -> bool:
        return self.handle is not None

    def shutdown_runner(self) -> None:
        if self._owns_runner:
            self.runner.shutdown()

    def scrolled_page(self, body_name: str, minimum: QSize, area_name: str = "") -> QVBoxLayout:
        """The tab as one scrolled page, so a short dock scrolls instead of crushing it.

        Returns:
            The page's layout (margins and spacing the tabs share); the area is `page_area`.
        """
        frame = QVBoxLayout(self)
        frame.setContentsMargins(0, 0, 0, 0)
        self.page_area = QScrollArea()
        if area_name:
            self.page_area.setObjectName(area_name)
        self.page_area.setWidgetResizable(True)
        self.page_area.setFrameShape(QFrame.Shape.NoFrame)
        frame.addWidget(self.page_area)
        page = QWidget()
        page.setObjectName(body_name)
        page.setMinimumSize(minimum)
        self.page_area.setWidget(page)
        outer = QVBoxLayout(page)
        outer.setContentsMargins(8, 6, 8, 6)
        outer.setSpacing(6)
        return outer

    def cancel_handle(self, handle: JobHandle | None) -> bool:
        """Ask the runner to cancel `handle`; False when there is nothing running."""
        if handle is None:
            return False
        self.runner.cancel(handle)
        return True

    def cancel_run(self, say: Callable[[], object]) -> None:
        """Cancel the tab's own job: `say` tells what stopping means for this kind of run,
        the bar turns to 'cancelled' and the buttons follow. Nothing when none runs."""
        if not self.cancel_handle(self.handle):
            return
        say()
        set_bar_state(self.progress_bar, "cancelled")
        self._update_buttons()
