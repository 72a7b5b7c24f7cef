"""The jobs panel: every long job with its progress, time left, a cancel button and its log."""

from __future__ import annotations

from PySide6.QtCore import QModelIndex, QRect, Qt, QTimer
from PySide6.QtWidgets import (
    QAbstractItemView,
    QApplication,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QPlainTextEdit,
    QPushButton,
    QStyle,
    QStyledItemDelegate,
    QStyleOptionProgressBar,
    QStyleOptionViewItem,
    QTableView,
    QWidget,
)

from curator.gui.models.job_list_model import FRACTION_ROLE, JobListModel
from curator.gui.widgets.layout import flush_column, side_by_side
from curator.gui.workers import JobHandle, JobRunner


class ProgressDelegate(QStyledItemDelegate):
    """Draws the progress column as a bar (busy when the total is not known yet)."""

    def paint(self, painter, option: QStyleOptionViewItem, index: QModelIndex) -> None:
        fraction = index.data(FRACTION_ROLE)
        bar = QStyleOptionProgressBar()
        bar.rect = QRect(option.rect.adjusted(4, 6, -4, -6))
        bar.minimum, bar.maximum = 0, 1000
        bar.progress = int(1000 * fraction) if fraction is not None else 0
        bar.text = index.data() or ""
        bar.textVisible = True
        bar.textAlignment = Qt.AlignmentFlag.AlignCenter
        bar.state = option.state | QStyle.StateFlag.State_Horizontal
        bar.palette = option.palette
        style = option.widget.style() if option.widget else QApplication.style()
        style.drawControl(QStyle.ControlElement.CE_ProgressBar, bar, painter, option.widget)


ROW_HEIGHT = 28  # a job row: its progress bar needs the room


class JobsPanel(QWidget):
    """A table of jobs (newest first) and the log of the selected one."""

    def __init__(self, runner: JobRunner, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("jobsPanel")
        self.runner = runner
        self.model = JobListModel(runner, self)
        self.log = QPlainTextEdit()
        self.log.setObjectName("jobLog")
        self.log.setReadOnly(True)
        self.log.setMaximumBlockCount(5000)
        self.log.setPlaceholderText("The selected job's log")
        self.log.setLineWrapMode(QPlainTextEdit.LineWrapMode.NoWrap)
        side_by_side(self, (self._build_table(), 3), (self.log, 2), margins=(6, 4, 6, 6))
        self._shown_lines = 0
        self._shown_job: JobHandle | None = None

        self.table.selectionModel().currentRowChanged.connect(lambda *_: self._show_selected())
        runner.job_started.connect(self._on_started)
        runner.job_updated.connect(self._on_changed)
        runner.job_finished.connect(self._on_changed)
        # ETAs tick between progress reports.
        self._tick = QTimer(self)
        self._tick.setInterval(1000)
        self._tick.timeout.connect(self._refresh_running)
        self._tick.start()

    def _build_table(self) -> QWidget:
        """The jobs, newest first, over the button that cancels the selected one."""
        left = QWidget()
        left_layout = flush_column(left, None)
        self.table = QTableView()
        self.table.setObjectName("jobsTable")
        self.table.setModel(self.model)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.verticalHeader().setVisible(False)
        self.table.verticalHeader().setDefaultSectionSize(ROW_HEIGHT)
        self.table.setShowGrid(False)
        self.table.setItemDelegateForColumn(JobListModel.PROGRESS_COLUMN, ProgressDelegate(self))
        header = self.table.horizontalHeader()
        header.setStretchLastSection(True)
        header.setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
        # the time column holds "stopped after 1:05" as well as "0:42 left"
        for column, width in ((0, 220), (1, 90), (2, 180), (3, 124)):
            self.table.setColumnWidth(column, width)
        # a strip under every workspace, short by default, but never shorter than one whole
        # job row under the header (at 720 pixels it showed half a row)
        self.table.setMinimumHeight(header.sizeHint().height() + ROW_HEIGHT
                                    + 2 * self.table.frameWidth())
        left_layout.addWidget(self.table)
        buttons = QHBoxLayout()
        self.empty_label = QLabel("No jobs yet. Drop files or folders on the window to ingest.")
        self.empty_label.setObjectName("jobsEmpty")
        buttons.addWidget(self.empty_label)
        buttons.addStretch(1)
        self.cancel_button = QPushButton("Cancel job")
        self.cancel_button.setObjectName("cancelJob")
        self.cancel_button.setEnabled(False)
        self.cancel_button.clicked.connect(self.cancel_selected)
        buttons.addWidget(self.cancel_button)
        left_layout.addLayout(buttons)
        return left

    def selected_job(self) -> JobHandle | None:
        index = self.table.selectionModel().currentIndex()
        return self.model.row_at(index.row()) if index.isValid() else None

    def cancel_selected(self) -> None:
        job = self.selected_job()
        if job is not None:
            self.runner.cancel(job)

    def _on_started(self, handle: JobHandle) -> None:
        self.empty_label.hide()
        self.table.selectRow(0)  # the new job is the first row: follow it
        self._show_selected()

    def _on_changed(self, handle: JobHandle) -> None:
        if handle is self._shown_job:
            self._show_selected()

    def _refresh_running(self) -> None:
        for job in self.runner.running():
            row = self.model.row_of(job)
            if row is not None:
                self.model.dataChanged.emit(self.model.index(row, 3), self.model.index(row, 3))

    def _show_selected(self) -> None:
        job = self.selected_job()
        self.cancel_button.setEnabled(job is not None and job.status == "running")
        if job is not self._shown_job:
            self._shown_job, self._shown_lines = job, 0
            self.log.clear()
        if job is None:
            return
        unseen = min(job.log_count - self._shown_lines, len(job.log))
        if unseen > 0:
            self.log.appendPlainText("\n".join(job.log[-unseen:]))
            self._shown_lines = job.log_count
