"""The Train tab's checks: the plan the core makes of the form, problems beside their fields
and in the Commands page, and the summary line."""

from __future__ import annotations

from collections.abc import Sequence

from PySide6.QtCore import QTimer
from PySide6.QtGui import (
    QColor,
    QGuiApplication,
)
from PySide6.QtWidgets import (
    QHBoxLayout,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QPushButton,
    QStyle,
    QWidget,
)

from curator.core.training.commands import resolve_python
from curator.core.training.diagnosis import prompt_texts, state_folders
from curator.core.training.launch import RunPlan, TrainRequest
from curator.core.training.model_files import (
    cached_python_problem,
    python_modules_problem,
    trainer_src,
)
from curator.core.training.validate import Problem, errors
from curator.gui.latest import LatestRun
from curator.gui.tabs.train.fields import FIELDS
from curator.gui.tabs.train.highlight import CommandHighlighter
from curator.gui.theme import (
    ERROR_COLOR,
    MUTED_COLOR,
    OK_COLOR,
    WARNING_COLOR,
)
from curator.gui.widgets.layout import flush_column, text_view

PROBLEM_LIST_MAX_H = 170


class ChecksPage:
    """Mixed into `TrainPanel` (which builds the widgets and owns the state it reads)."""

    def _build_commands_tab(self) -> QWidget:
        page = QWidget()
        layout = flush_column(page, None, top=6)
        self.problem_list = QListWidget()
        self.problem_list.setObjectName("problemList")
        self.problem_list.setWordWrap(True)
        self.problem_list.setSelectionMode(QListWidget.SelectionMode.NoSelection)
        self.problem_list.setVerticalScrollMode(QListWidget.ScrollMode.ScrollPerPixel)
        layout.addWidget(self.problem_list)
        self.commands_view = text_view("commandsView", wrap=True)
        self._command_highlighter = CommandHighlighter(self.commands_view.document())
        layout.addWidget(self.commands_view, 1)
        row = QHBoxLayout()
        note = QLabel("Shown for reading; runs use these exact argument lists, no shell.")
        note.setStyleSheet(f"color: {MUTED_COLOR};")
        row.addWidget(note, 1)
        copy = QPushButton("Copy commands")
        copy.clicked.connect(lambda: QGuiApplication.clipboard().setText(
            self.commands_view.toPlainText()))
        row.addWidget(copy)
        layout.addLayout(row)
        return page

    def _on_steps_changed(self, _index: int) -> None:
        if self.settings is not None:
            self.settings.setValue("train/steps", self.steps_choice())
        self._schedule_replan()

    def _on_field_changed(self) -> None:
        if not self._loading:
            self._schedule_replan()

    def _schedule_replan(self) -> None:
        self._replan_timer.start()

    def train_request(self, *, remote: bool = False) -> TrainRequest:
        """The form as a `TrainRequest`: this profile and steps, the export's dataset config as
        the default, fixes worded for the window."""
        return TrainRequest(self.current_profile(), self.root, self.steps_choice(),
                            remote=remote, export_root=self._export_root(), audience="window")

    def _export_root(self) -> str | None:
        try:
            return self.catalog.settings().export_root or None
        except Exception:  # noqa: BLE001 - a catalog that cannot be read only loses the default
            return None

    def replan(self) -> RunPlan | None:
        """Check the settings now: commands, problems beside their fields, the summary."""
        self._replan_timer.stop()
        self._write_prompts()  # the checks read the prompt file from disk, as the trainer will
        try:
            plan = self.train_request().validate()
        except (ValueError, OSError) as exc:
            self.plan = None
            self._show_summary([Problem("trainer", str(exc))], None)
            self.run_button.setEnabled(False)
            return None
        self.plan = plan
        self._ask_python(resolve_python(plan.profile), trainer_src(plan.profile.trainer_dir))
        self._show_problems(plan)
        self.commands_view.setPlainText(plan.script())
        self._show_summary(list(plan.problems), plan)
        self._update_buttons()
        self._update_links()
        self._update_origin()
        if self.handle is None and not self._gallery_pinned:
            self.gallery.set_run(plan.output_dir, output_name=plan.profile.effective_output_name,
                                 prompt_texts=prompt_texts(self.prompt_edit.toPlainText()))
        self.plan_changed.emit(plan)
        return plan

    def _ask_python(self, python: str, src: str | None) -> None:
        """Can `python` import torch and accelerate? Asked once per interpreter, off thread."""
        if not python or cached_python_problem(python, src)[0]:
            return
        runner = getattr(self, "_python_check", None)
        if runner is None:
            runner = self._python_check = LatestRun("train-python-check", self)
            runner.finished.connect(lambda _answer: self._schedule_replan())
        if not runner.busy:
            runner.submit(lambda: python_modules_problem(python, src))

    def _show_problems(self, plan: RunPlan) -> None:
        by_field: dict[str, list[Problem]] = {}
        for problem in plan.problems:
            by_field.setdefault(problem.field, []).append(problem)
        resolved = plan.profile
        shown_now = {spec.name: (spec.shown is None or spec.shown(resolved)) for spec in FIELDS}
        for spec in FIELDS:
            editor = self.editors[spec.name]
            self.form.setRowVisible(editor, shown_now[spec.name])
            info = ""
            if spec.name == "dataset_config":
                info = self._dataset_info(plan)
            editor.show_problems(by_field.get(spec.name, []), info)
        default_dataset = resolved.dataset_config if not self.editors[
            "dataset_config"].line.text().strip() else ""  # type: ignore[union-attr]
        self.editors["dataset_config"].set_placeholder(
            f"from the last export: {default_dataset}" if default_dataset else
            "export the dataset first, or choose its TOML")
        self.editors["python"].set_placeholder(f"auto: {resolve_python(resolved)}")
        self.editors["output_name"].set_placeholder(resolved.name)
        self.editors["resume"].set_choices(state_folders(plan.output_dir))

        self.problem_list.clear()
        style = self.style()
        for problem in plan.problems:
            icon = style.standardIcon(QStyle.StandardPixmap.SP_MessageBoxCritical
                                      if problem.severity == "error"
                                      else QStyle.StandardPixmap.SP_MessageBoxWarning)
            label = next((s.label for s in FIELDS if s.name == problem.field), problem.field)
            item = QListWidgetItem(icon, f"{label}: {problem.message}")
            item.setForeground(QColor(ERROR_COLOR if problem.severity == "error"
                                      else WARNING_COLOR))
            self.problem_list.addItem(item)
        if not plan.problems:
            item = QListWidgetItem(style.standardIcon(QStyle.StandardPixmap.SP_DialogApplyButton),
                                   "No problems found: the commands below are ready to run.")
            item.setForeground(QColor(OK_COLOR))
            self.problem_list.addItem(item)
        self._fit_problem_list()

    def _fit_problem_list(self) -> None:
        """As tall as its rows (up to a limit), so one warning leaves room for the commands."""
        view = self.problem_list
        view.doItemsLayout()
        rows = sum(view.visualItemRect(view.item(i)).height() for i in range(view.count()))
        view.setFixedHeight(min(PROBLEM_LIST_MAX_H, rows + 2 * view.frameWidth() + 6))

    def resizeEvent(self, event) -> None:
        super().resizeEvent(event)
        QTimer.singleShot(0, self._fit_problem_list)  # rows re-wrap at the new width

    def _dataset_info(self, plan: RunPlan) -> str:
        summary = plan.dataset
        if summary is None:
            return ""
        parts = [", ".join(f"{s.media_files} {s.kind} file{'s' * (s.media_files != 1)}"
                           for s in summary.sections) or "no sections"]
        if summary.items is not None:
            parts.append(f"{summary.items} items per epoch")
        if summary.steps_per_epoch is not None:
            parts.append(f"{summary.steps_per_epoch} steps per epoch")
        return " · ".join(parts)

    def _show_summary(self, problems: Sequence[Problem], plan: RunPlan | None) -> None:
        errs = errors(problems)
        warnings = [p for p in problems if p.severity != "error"]
        parse = [e for e in self.editors.values() if e.parse_error]
        if parse or errs:
            count = len(errs) + len(parse)
            text = (f"<span style='color:{ERROR_COLOR}'>● {count} problem"
                    f"{'s' * (count != 1)} to fix before running</span> "
                    f"<span style='color:{MUTED_COLOR}'>(marked beside the fields; all of them "
                    f"are listed in the Commands tab)</span>")
        elif plan is not None:
            steps = len(plan.steps)
            text = (f"<span style='color:{OK_COLOR}'>● Ready:</span> {steps} step"
                    f"{'s' * (steps != 1)} ({', '.join(s.name for s in plan.steps)})")
            if plan.dataset is not None and plan.dataset.items is not None:
                text += f" · {plan.dataset.items} items per epoch"
            if warnings:
                text += (f" · <span style='color:{WARNING_COLOR}'>{len(warnings)} warning"
                         f"{'s' * (len(warnings) != 1)}</span>")
        else:
            text = ""
        self.summary_label.setText(text)

