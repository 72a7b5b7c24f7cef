"""`JobListModel`: the jobs of a `JobRunner`, newest first, for the jobs panel."""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import QModelIndex, Qt
from PySide6.QtGui import QColor

from curator.gui.models.rows import RowTableModel
from curator.gui.workers import JobHandle, JobRunner, time_text

JOB_ROLE = Qt.ItemDataRole.UserRole + 1
FRACTION_ROLE = Qt.ItemDataRole.UserRole + 2  # float 0..1, or None while unknown

STATUS_LABELS = {
    "running": "Running", "cancelling": "Cancelling…", "done": "Done", "failed": "Failed",
    "cancelled": "Cancelled", "interrupted": "Interrupted",
}
STATUS_COLORS = {
    "running": QColor("#58a6ff"), "cancelling": QColor("#d29922"), "done": QColor("#3fb950"),
    "failed": QColor("#f85149"), "cancelled": QColor("#8b949e"),
    "interrupted": QColor("#d29922"),
}
HEADERS = ["Job", "Status", "Progress", "Time", "Current item"]


class JobListModel(RowTableModel[JobHandle]):
    """Rows follow the runner's signals; the newest job is the first row."""

    PROGRESS_COLUMN = 2

    def __init__(self, runner: JobRunner, parent: Any = None) -> None:
        super().__init__(HEADERS, parent)
        self.runner = runner
        self.rows = list(reversed(runner.jobs))
        runner.job_started.connect(self._on_started)
        runner.job_updated.connect(self._on_changed)
        runner.job_finished.connect(self._on_changed)

    def row_of(self, handle: JobHandle) -> int | None:
        for row, job in enumerate(self.rows):
            if job is handle:
                return row
        return None

    def cell_data(self, job: JobHandle, column: int, role: int) -> Any:
        if role == Qt.ItemDataRole.DisplayRole:
            if column == 0:
                return job.title
            if column == 1:
                return STATUS_LABELS.get(job.status, job.status)
            if column == 2:
                progress = job.progress
                if progress is None:
                    return ""
                return f"{progress.done}/{progress.total}" if progress.total else str(progress.done)
            if column == 3:
                return time_text(job.status, job.elapsed, job.eta)
            if column == 4:
                return job.progress.item if job.progress and job.running else ""
        if role == Qt.ItemDataRole.ForegroundRole and column == 1:
            return STATUS_COLORS.get(job.status)
        if role == Qt.ItemDataRole.ToolTipRole and column == 3:
            return "Time left at the rate so far" if job.running else "How long it took"
        if role == FRACTION_ROLE:
            return job.fraction
        if role == JOB_ROLE:
            return job
        return None

    def _on_started(self, handle: JobHandle) -> None:
        self.beginInsertRows(QModelIndex(), 0, 0)
        self.rows.insert(0, handle)
        self.endInsertRows()

    def _on_changed(self, handle: JobHandle) -> None:
        row = self.row_of(handle)
        if row is not None:
            self.dataChanged.emit(self.index(row, 0), self.index(row, len(HEADERS) - 1))
