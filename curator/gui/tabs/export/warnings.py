"""The Export tab's warnings: what the count found, worst first, filtered by kind (the rows,
their order and the filter are `warning_model`'s)."""

from __future__ import annotations

from PySide6.QtCore import QModelIndex, Signal
from PySide6.QtGui import QIcon
from PySide6.QtWidgets import (
    QComboBox,
    QHBoxLayout,
    QLabel,
    QListView,
    QWidget,
)

from curator.core.export import ExportReport
from curator.core.export.plan_edit import WARNING_FILTERS
from curator.gui.tabs.export.warning_model import (
    CLIP_ROLE,
    WarningFilter,
    WarningModel,
    warning_rows,
)
from curator.gui.theme import ERROR_COLOR, WARNING_COLOR
from curator.gui.widgets.job_bar import dot_icon, muted
from curator.gui.widgets.layout import flush_column


class WarningsView(QWidget):
    """A summary line, a filter and the list; double-clicking a warning names its clip."""

    clip_activated = Signal(int)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        layout = flush_column(self, 4, top=6)
        row = QHBoxLayout()
        row.setSpacing(6)
        self.summary = muted(QLabel())
        self.summary.setObjectName("warningSummary")
        row.addWidget(self.summary, 1)
        row.addWidget(QLabel("Show"))
        self.filter = QComboBox()
        self.filter.setObjectName("warningFilter")
        for key, label in WARNING_FILTERS:
            self.filter.addItem(label, key)
        self.filter.currentIndexChanged.connect(lambda _i: self.apply_filter())
        row.addWidget(self.filter)
        layout.addLayout(row)
        self.icons = {"error": dot_icon(ERROR_COLOR), "warning": dot_icon(WARNING_COLOR)}
        self.model = WarningModel(self.icons, self)
        self.proxy = WarningFilter(self.model, self)
        self.list = QListView()
        self.list.setObjectName("warningList")
        self.list.setModel(self.proxy)
        self.list.setWordWrap(True)
        self.list.setVerticalScrollMode(QListView.ScrollMode.ScrollPerPixel)
        self.list.setUniformItemSizes(False)
        self.list.setEditTriggers(QListView.EditTrigger.NoEditTriggers)
        # Double-click or Enter: Qt's activation, once per gesture.
        self.list.activated.connect(self._on_activated)
        layout.addWidget(self.list, 1)

    def show_report(self, report: ExportReport) -> tuple[str, QIcon]:
        """List the report's warnings and failures; returns the tab's title and icon."""
        rows = warning_rows(report)
        self.model.set_rows(rows)
        failed = len(report.failed)
        warnings = len(rows) - failed
        errors = sum(1 for row in rows if row.rank == 0)
        self.summary.setText(self._summary(len(rows), errors, warnings - errors, failed))
        icon = (self.icons["error"] if errors or failed else
                self.icons["warning"] if warnings else QIcon())
        return (f"Warnings ({len(rows)})" if rows else "Warnings"), icon

    @staticmethod
    def _summary(total: int, errors: int, others: int, failed: int) -> str:
        if not total:
            return "No warnings: every clip gives what the plan asks."
        parts = []
        if errors:
            parts.append(f"<span style='color:{ERROR_COLOR}'>{errors} stop"
                         f"{'s' if errors == 1 else ''} the trainer or "
                         f"{'is' if errors == 1 else 'are'} left out</span>")
        if others:
            parts.append(f"{others} warning{'s' if others != 1 else ''}")
        if failed:
            parts.append(f"<span style='color:{ERROR_COLOR}'>{failed} failed</span>")
        return ", ".join(parts) + ". Double-click one that names a clip to show it."

    def apply_filter(self) -> None:
        self.proxy.set_group(self.filter.currentData() or "all")

    def texts(self, shown_only: bool = False) -> list[str]:
        """The warnings listed, worst first (only those the filter shows, when asked)."""
        if shown_only:
            return [str(self.proxy.index(i, 0).data()) for i in range(self.proxy.rowCount())]
        return [row.text for row in self.model.ordered()]

    def _on_activated(self, index: QModelIndex) -> None:
        clip_id = index.data(CLIP_ROLE)
        if clip_id is not None:
            self.clip_activated.emit(int(clip_id))
