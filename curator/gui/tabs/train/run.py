"""The Train tab's Run page: the job, its output lines parsed into progress, stats, loss and a
capped log, and the links to what the run wrote."""

from __future__ import annotations

import shlex
from pathlib import Path

from PySide6.QtCore import Qt, QUrl, Slot
from PySide6.QtGui import (
    QDesktopServices,
    QTextCursor,
)
from PySide6.QtWidgets import (
    QHBoxLayout,
    QLabel,
    QPlainTextEdit,
    QProgressBar,
    QPushButton,
    QSplitter,
    QStyle,
    QWidget,
)

from curator.core.training.commands import TrainStep
from curator.core.training.diagnosis import failure_hint, prompt_texts
from curator.core.training.launch import RunPlan
from curator.core.training.progress import (
    ProgressParser,
    TrainProgress,
    format_duration,
    parse_tqdm,
)
from curator.core.training.runner import TrainReport
from curator.gui.panels.loss_plot import LossPlot, format_loss
from curator.gui.tabs.train.channel import LineChannel, run_training
from curator.gui.tabs.train.highlight import LogHighlighter
from curator.gui.theme import (
    ERROR_COLOR,
    OK_COLOR,
    WARNING_COLOR,
)
from curator.gui.widgets.job_bar import mono_font, set_bar_state, show_banner, stat_card
from curator.gui.widgets.layout import flush_column, note_label
from curator.gui.workers import JobHandle

LOG_BLOCKS = 5000

PHASE_LABELS = {
    "starting": "Starting", "caching": "Caching", "training": "Training",
    "sampling": "Rendering samples", "saving": "Saving a checkpoint", "finished": "Finished",
}

class RunPage:
    """Mixed into `TrainPanel` (which builds the widgets and owns the state it reads)."""

    def _build_run_tab(self) -> QWidget:
        page = QWidget()
        layout = flush_column(page, 8, top=8)
        head = QHBoxLayout()
        self.run_title = QLabel("Not started")
        self.run_title.setObjectName("runTitle")
        head.addWidget(self.run_title, 1)
        self.link_buttons: dict[str, QPushButton] = {}
        icon = self.style().standardIcon(QStyle.StandardPixmap.SP_DirOpenIcon)
        for key, text in (("output", "Output folder"), ("samples", "Samples"),
                          ("tensorboard", "TensorBoard logs")):
            button = QPushButton(icon, text)
            button.setObjectName(f"open_{key}")
            button.clicked.connect(lambda _c=False, k=key: self.open_link(k))
            head.addWidget(button)
            self.link_buttons[key] = button
        layout.addLayout(head)
        self.progress_bar = QProgressBar()
        self.progress_bar.setObjectName("trainProgress")
        self.progress_bar.setRange(0, 1)
        self.progress_bar.setValue(0)
        self.progress_bar.setFormat("Not started")
        layout.addWidget(self.progress_bar)

        stats = QHBoxLayout()
        stats.setSpacing(8)
        self.stat_labels: dict[str, QLabel] = {}
        for key, caption in (("epoch", "Epoch"), ("step", "Step"), ("loss", "Loss"),
                             ("speed", "Speed"), ("elapsed", "Elapsed"), ("eta", "Time left")):
            card, _title, value = stat_card(key, caption)
            stats.addWidget(card, 1)
            self.stat_labels[key] = value
        layout.addLayout(stats)

        self.banner = note_label("runBanner")
        self.banner.hide()
        layout.addWidget(self.banner)

        split = QSplitter(Qt.Orientation.Vertical)
        split.setChildrenCollapsible(False)
        self.loss_plot = LossPlot()
        split.addWidget(self.loss_plot)
        self.log_view = QPlainTextEdit()
        self.log_view.setObjectName("trainLog")
        self.log_view.setReadOnly(True)
        self.log_view.setMaximumBlockCount(LOG_BLOCKS)
        self.log_view.setLineWrapMode(QPlainTextEdit.LineWrapMode.NoWrap)
        self.log_view.setFont(mono_font())
        self.log_view.setPlaceholderText("The trainer's output appears here while it runs.")
        self._log_highlighter = LogHighlighter(self.log_view.document())
        split.addWidget(self.log_view)
        split.setSizes([230, 260])
        layout.addWidget(split, 1)
        return page

    def run(self) -> JobHandle | None:
        """Run the plan's steps as a 'train' job; None when something must be fixed first."""
        if self.handle is not None:
            return None
        plan = self.replan()
        if plan is None or not plan.ready or any(e.parse_error for e in self.editors.values()):
            self.tabs.setCurrentIndex(0)
            return None
        channel = LineChannel(self)
        channel.ready.connect(self._on_lines_ready)
        self._channel = channel
        self.run_plan = plan
        self._reset_run_view(plan)
        steps = self.steps_choice()
        title = f"Train {plan.profile.name}" + ("" if steps == "all" else f" ({steps})")
        self.handle = self.runner.start(
            "train", title, run_training, on_finished=self._on_run_finished,
            plan=plan, channel=channel, catalog=self.catalog, profile=plan.profile.name,
            steps=steps, grace_s=self.grace_s, output_dir=str(plan.output_dir))
        self._clock.start()
        self._gallery_pinned = False
        self.gallery.set_run(plan.output_dir, output_name=plan.profile.effective_output_name,
                             prompt_texts=prompt_texts(self.prompt_edit.toPlainText()), live=True)
        self._update_buttons()
        self.tabs.setCurrentIndex(1)
        self.run_started.emit(self.handle)
        return self.handle

    def cancel(self) -> None:
        """Stop the run: SIGINT to the trainer's process group, SIGTERM if it lingers."""
        self.cancel_run(lambda: self.run_title.setText(
            f"Cancelling: SIGINT sent to the trainer; SIGTERM in {self.grace_s:g} s if it has "
            f"not stopped"))

    def _reset_run_view(self, plan: RunPlan) -> None:
        self.log_view.clear()
        self._log_last_bar = None
        self.parser = None
        self.current_step = None
        self.loss_points = []
        self.loss_plot.clear()
        self.banner.hide()
        for label in self.stat_labels.values():
            label.setText("–")
        self.progress_bar.setRange(0, 0)
        self.progress_bar.setFormat("Starting…")
        set_bar_state(self.progress_bar, "running")
        self.run_title.setText(f"Starting {len(plan.steps)} step"
                               f"{'s' * (len(plan.steps) != 1)}…")

    @Slot()
    def _on_lines_ready(self) -> None:
        if not self._drain_timer.isActive():
            self._drain_timer.start()

    def _drain(self) -> None:
        channel = self._channel
        if channel is None:
            return
        items = channel.take()
        if not items:
            return
        lines: list[tuple[str, str | None]] = []
        changed = False
        for item in items:
            if item[0] == "step":
                self._append_log(lines)
                lines = []
                _, step, index, count = item
                self._begin_step(step, index, count)
                changed = True
                continue
            _, _stream, line = item
            bar = parse_tqdm(line)
            lines.append((line, bar.desc if bar is not None else None))
            if self.parser is not None and self.parser.feed(line) is not None:
                changed = True
        self._append_log(lines)
        if changed:
            self._show_progress()

    def _begin_step(self, step: TrainStep, index: int, count: int) -> None:
        self.current_step = (step, index, count)
        for key, label in self.stat_labels.items():
            if key != "elapsed":  # a caching step's speed says nothing about training
                label.setText("–")
        self.parser = ProgressParser(caching=step.name.startswith("cache"))
        self.log_view.appendPlainText(f"== step {index + 1}/{count}: {step.name}"
                                      + (f" ({step.description})" if step.description else ""))
        self._log_last_bar = None

    def _append_log(self, lines: list[tuple[str, str | None]]) -> None:
        """Append lines; a progress bar redrawn in place replaces its previous line."""
        if not lines:
            return
        collapsed: list[tuple[str, str | None]] = []
        for text, bar in lines:
            if bar is not None and collapsed and collapsed[-1][1] == bar:
                collapsed[-1] = (text, bar)
            else:
                collapsed.append((text, bar))
        scroll = self.log_view.verticalScrollBar()
        at_end = scroll.value() >= scroll.maximum() - 4
        if collapsed[0][1] is not None and collapsed[0][1] == self._log_last_bar:
            cursor = QTextCursor(self.log_view.document())
            cursor.movePosition(QTextCursor.MoveOperation.End)
            cursor.movePosition(QTextCursor.MoveOperation.StartOfBlock,
                                QTextCursor.MoveMode.KeepAnchor)
            cursor.insertText(collapsed[0][0])
            collapsed = collapsed[1:]
        if collapsed:
            self.log_view.appendPlainText("\n".join(text for text, _ in collapsed))
            self._log_last_bar = collapsed[-1][1]
        if at_end:
            scroll.setValue(scroll.maximum())

    def log_text(self) -> str:
        return self.log_view.toPlainText()

    def _show_progress(self) -> None:
        if self.parser is None or self.current_step is None:
            return
        state = self.parser.state
        step, index, count = self.current_step
        phase = PHASE_LABELS.get(state.phase, state.phase.capitalize())
        self.run_title.setText(f"{phase} · step {index + 1} of {count}: {step.name}"
                               + (f" — {step.description}" if step.description else ""))
        bar = self.progress_bar
        if state.step is not None and state.total_steps:
            bar.setRange(0, state.total_steps)
            bar.setValue(min(state.step, state.total_steps))
            pct = 100 * state.step / state.total_steps
            bar.setFormat(f"Step {state.step:,} of {state.total_steps:,} · {pct:.0f}%")
        elif state.task_total:
            bar.setRange(0, state.task_total)
            bar.setValue(min(state.task_done or 0, state.task_total))
            what = "items" if state.phase == "caching" else "denoising steps"
            bar.setFormat(f"{phase}: {state.task_done or 0} of {state.task_total} {what}")
        elif state.task_done is not None:
            bar.setRange(0, 0)
            bar.setFormat(f"{phase}: {state.task_done} items")
        else:
            bar.setRange(0, 0)
            bar.setFormat(f"{phase}…")
        self._show_stats(state)
        if not step.name.startswith("cache"):
            steps_per_epoch = None
            if state.total_steps and state.total_epochs:
                steps_per_epoch = state.total_steps / state.total_epochs
            self.loss_points = list(self.parser.losses)
            self.loss_plot.set_points(self.loss_points, total_steps=state.total_steps,
                                      steps_per_epoch=steps_per_epoch)
        if state.phase in ("saving", "finished") or state.last_checkpoint:
            self._update_links()

    def _show_stats(self, state: TrainProgress) -> None:
        labels = self.stat_labels
        if state.epoch is not None:
            labels["epoch"].setText(f"{state.epoch} / {state.total_epochs or '?'}")
        if state.step is not None:
            labels["step"].setText(f"{state.step:,} / {state.total_steps or '?':,}"
                                   if state.total_steps else f"{state.step:,}")
        elif state.task_done is not None and state.phase == "caching":
            labels["step"].setText(f"{state.task_done} items")
        if state.loss is not None:
            labels["loss"].setText(format_loss(state.loss))
        if state.rate:
            labels["speed"].setText(f"{state.rate:.2f} it/s" if state.rate >= 1
                                    else f"{1 / state.rate:.2f} s/it")
        labels["eta"].setText(format_duration(state.eta_s) if state.eta_s is not None else "–")

    def _show_elapsed(self) -> None:
        if self.handle is not None:
            self.stat_labels["elapsed"].setText(format_duration(self.handle.elapsed))

    def _on_run_finished(self, handle: JobHandle) -> None:
        self._drain_timer.stop()
        self._drain()
        self._clock.stop()
        self.stat_labels["elapsed"].setText(format_duration(handle.elapsed))
        report: TrainReport | None = handle.report if isinstance(handle.report,
                                                                  TrainReport) else None
        status = self._settle_status(handle, report)
        bar = self.progress_bar
        if bar.maximum() == 0:
            bar.setRange(0, 1)
            bar.setValue(1 if status == "done" else 0)
        if status == "done":
            bar.setValue(bar.maximum())
            steps = len(report.records) if report else 0
            self.run_title.setText(f"Finished: {steps} step{'s' * (steps != 1)} done in "
                                   f"{format_duration(handle.elapsed)}")
            bar.setFormat(bar.format().split(" · ")[0] + " · done" if bar.format() else "Done")
            show_banner(self.banner, f"Done. The LoRA files are in {self.run_plan.output_dir}"
                              if self.run_plan else "Done.", OK_COLOR)
        elif status == "cancelled":
            record = report.records[-1] if report and report.records else None
            sent = ", ".join(record.signals_sent) if record and record.signals_sent else ""
            self.run_title.setText("Cancelled")
            show_banner(self.banner, f"Cancelled{' during ' + record.name if record else ''}"
                              + (f" ({sent} sent to the trainer)" if sent else "")
                              + ". With --save_state on, resume from the newest *-state folder.",
                              WARNING_COLOR)
            bar.setFormat("Cancelled")
        else:
            reason = ""
            if report and report.failed:
                reason = report.failed[0].reason
            elif handle.log:
                reason = handle.log[-2] if len(handle.log) > 1 else handle.log[-1]
            self.run_title.setText("Failed")
            hint = failure_hint(reason, self.run_plan.profile if self.run_plan else None)
            show_banner(self.banner, (f"Failed: {reason}" if reason else "Failed.")
                              + (f"\n{hint}" if hint else ""), ERROR_COLOR)
            bar.setFormat(bar.format().split(" · ")[0] + " · failed")
        set_bar_state(self.progress_bar, status)
        if self._channel is not None:
            self._channel.ready.disconnect(self._on_lines_ready)
            self._channel.deleteLater()
            self._channel = None
        self.handle = None
        self.gallery.set_live(False)
        self.gallery.refresh(force=True)
        self._update_buttons()
        self._update_links()
        self.replan()  # new state folders, a finished output folder
        self.run_finished.emit(status)

    def _settle_status(self, handle: JobHandle, report: TrainReport | None) -> str:
        """The run's status; a step that failed fails the run (and its job row says so).

        The JobRunner calls a job with per-item failures "done", which fits a batch of clips
        but not a trainer that crashed, so a failed step's run is re-recorded as failed.
        """
        if report is None or handle.status != "done" or report.ok:
            return handle.status
        status = "cancelled" if report.cancelled else "failed"
        self.runner.settle(handle, status, "; ".join(f.reason for f in report.failed))
        return status

    def link_urls(self) -> dict[str, QUrl | None]:
        """Where the output, sample and TensorBoard links point for the current plan."""
        plan = self.run_plan if self.handle is not None else self.plan
        if plan is None:
            return {"output": None, "samples": None, "tensorboard": None}
        tensorboard = plan.tensorboard_dir
        return {"output": QUrl.fromLocalFile(str(plan.output_dir)),
                "samples": QUrl.fromLocalFile(str(plan.sample_dir)),
                "tensorboard": QUrl.fromLocalFile(str(tensorboard)) if tensorboard else None}

    def _update_links(self) -> None:
        for key, url in self.link_urls().items():
            button = self.link_buttons[key]
            exists = url is not None and Path(url.toLocalFile()).is_dir()
            button.setEnabled(exists)
            if url is None:
                button.setToolTip("Logging is off in this profile")
            else:
                path = url.toLocalFile()
                extra = (f"\nView with: tensorboard --logdir {shlex.quote(path)}"
                         if key == "tensorboard" else "")
                button.setToolTip(path + extra if exists else f"{path}\n(not created yet)")

    def open_link(self, key: str) -> bool:
        url = self.link_urls().get(key)
        return QDesktopServices.openUrl(url) if url is not None else False

