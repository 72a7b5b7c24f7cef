"""The Export tab's warnings: what the count found, worst first, filtered by kind."""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QIcon
from PySide6.QtWidgets import (
    QComboBox,
    QHBoxLayout,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QWidget,
)

from curator.core.export import ExportReport
from curator.core.export.plan_edit import WARNING_FILTERS, warning_clip_id, warning_group
from curator.gui.theme import ERROR_COLOR, WARNING_COLOR
from curator.gui.widgets.job_bar import dot_icon, muted
from curator.gui.widgets.layout import flush_column

GROUPS = Qt.ItemDataRole.UserRole + 1


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
        self.list = QListWidget()
        self.list.setObjectName("warningList")
        self.list.setWordWrap(True)
        self.list.setVerticalScrollMode(QListWidget.ScrollMode.ScrollPerPixel)
        self.list.setUniformItemSizes(False)
        self.list.itemDoubleClicked.connect(self._on_activated)
        self.list.itemActivated.connect(self._on_activated)
        layout.addWidget(self.list, 1)
        self.icons = {"error": dot_icon(ERROR_COLOR), "warning": dot_icon(WARNING_COLOR)}

    def show_report(self, report: ExportReport) -> tuple[str, QIcon]:
        """List the report's warnings and failures; returns the tab's title and icon."""
        self.list.clear()
        warnings = report.counts.all_warnings() if report.counts else []
        # What stops the trainer (or leaves clips out) first; otherwise the core's order.
        warnings.sort(key=lambda w: w.severity != "error")
        errors = sum(1 for w in warnings if w.severity == "error")
        for warning in warnings:
            item = QListWidgetItem(self.icons["error" if warning.severity == "error"
                                              else "warning"], warning.message)
            clip_id = warning_clip_id(warning)
            item.setData(Qt.ItemDataRole.UserRole, clip_id)
            item.setData(GROUPS, {"error", warning_group(warning.code)}
                         if warning.severity == "error" else {warning_group(warning.code)})
            if clip_id is not None:
                item.setToolTip(f"{warning.message}\n\nDouble-click to show clip {clip_id}.")
            else:
                item.setToolTip(warning.message)
            self.list.addItem(item)
        for failure in report.failed:
            item = QListWidgetItem(self.icons["error"], f"{failure.path}: {failure.reason}")
            item.setData(GROUPS, {"error", "other"})
            self.list.addItem(item)
        self.apply_filter()
        total = len(warnings) + len(report.failed)
        self.summary.setText(self._summary(total, errors, len(warnings) - errors,
                                           len(report.failed)))
        icon = (self.icons["error"] if errors or report.failed else
                self.icons["warning"] if warnings else QIcon())
        return (f"Warnings ({total})" if total else "Warnings"), icon

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
        wanted = self.filter.currentData() or "all"
        for i in range(self.list.count()):
            item = self.list.item(i)
            groups = item.data(GROUPS) or set()
            item.setHidden(wanted != "all" and wanted not in groups)

    def texts(self, shown_only: bool = False) -> list[str]:
        """The warnings listed (only those the filter shows, when asked)."""
        items = [self.list.item(i) for i in range(self.list.count())]
        return [item.text() for item in items if not (shown_only and item.isHidden())]

    def _on_activated(self, item: QListWidgetItem) -> None:
        clip_id = item.data(Qt.ItemDataRole.UserRole)
        if clip_id is not None:
            self.clip_activated.emit(int(clip_id))
