"""Expand a short idea into a sample prompt (the Train tab's sample prompts editor).

The model runs as a job of the window's `JobRunner` (`curator.core.captioning.expand.expand_job`,
the same core call as `curator prompts expand`), so loading a model or waiting for a server never
blocks the window and the run shows in the jobs panel. The backend, model and server default to
the project's caption settings. "Add to sample prompts" hands back the prompt with its sample
options (`sample_prompt_like`: the file's own, else 384×384, 45 frames, seed 7, 20 steps).
"""

from __future__ import annotations

import html
from pathlib import Path

from PySide6.QtCore import Signal
from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QLabel,
    QPlainTextEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from curator.core.captioning import BACKENDS
from curator.core.captioning.expand import ExpandReport, expand_job
from curator.core.captioning.options import CaptionSettings, backend_settings
from curator.core.catalog import Catalog
from curator.core.training.prompts import (
    PromptSyntaxError,
    SamplePrompt,
    append_prompt_line,
    parse_prompts,
    sample_prompt_like,
)
from curator.gui.widgets.layout import line_edit
from curator.gui.workers import JobHandle, JobRunner


def _existing_prompts(text: str) -> list[SamplePrompt]:
    try:
        return parse_prompts(text)
    except PromptSyntaxError:  # the editor shows that problem; the defaults serve here
        return []


class ExpandPromptDialog(QDialog):
    """Idea in, one prompt out; `prompt_added` carries it with its sample options."""

    prompt_added = Signal(object)  # SamplePrompt

    def __init__(self, *, catalog: Catalog, project_root: Path, runner: JobRunner,
                 existing_text: str = "", task: str = "t2v-14B",
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("expandPromptDialog")
        self.setWindowTitle("Expand an idea into a sample prompt")
        self.catalog, self.project_root, self.runner = catalog, Path(project_root), runner
        self.existing_text, self.task = existing_text, task
        settings = catalog.settings()
        self.trigger = settings.trigger
        self.stored = CaptionSettings.from_json(settings.caption)
        self.handle: JobHandle | None = None
        self._closed = False
        self._build()
        self._update_buttons()

    def _build(self) -> None:
        layout = QVBoxLayout(self)
        form = QFormLayout()
        self.idea_edit = line_edit("", "a fox runs through deep snow at dusk")
        self.idea_edit.textChanged.connect(self._update_buttons)
        self.idea_edit.returnPressed.connect(self.expand)
        form.addRow("Idea", self.idea_edit)
        self.backend_combo = QComboBox()
        for name in sorted(BACKENDS):
            self.backend_combo.addItem(name, name)
        self.backend_combo.setCurrentIndex(max(0, self.backend_combo.findData(
            self.stored.backend_name)))
        self.backend_combo.currentIndexChanged.connect(self._update_buttons)
        form.addRow("Backend", self.backend_combo)
        self.model_edit = line_edit("", "the Caption tab's model", text=self.stored.model or "")
        self.model_edit.textChanged.connect(self._update_buttons)
        form.addRow("Model", self.model_edit)
        self.url_edit = line_edit("", "http://gpu-box:8000/v1", text=self.stored.url or "")
        form.addRow("Server", self.url_edit)
        trigger = html.escape(self.trigger) if self.trigger else \
            "<i>none: set the trigger phrase in the Caption tab</i>"
        form.addRow("Starts with", QLabel(trigger))
        layout.addLayout(form)
        self.result_edit = QPlainTextEdit()
        self.result_edit.setObjectName("expandedPrompt")
        self.result_edit.setPlaceholderText("The expanded prompt appears here; edit it freely.")
        self.result_edit.textChanged.connect(self._update_buttons)
        layout.addWidget(self.result_edit, 1)
        self.status_label = QLabel()
        self.status_label.setObjectName("expandStatus")
        self.status_label.setWordWrap(True)
        layout.addWidget(self.status_label)
        buttons = QDialogButtonBox()
        self.expand_button = QPushButton("Expand")
        self.expand_button.setObjectName("expandButton")
        self.expand_button.clicked.connect(self.expand)
        self.add_button = QPushButton("Add to sample prompts")
        self.add_button.setObjectName("addExpanded")
        self.add_button.clicked.connect(self.add)
        buttons.addButton(self.expand_button, QDialogButtonBox.ButtonRole.ActionRole)
        buttons.addButton(self.add_button, QDialogButtonBox.ButtonRole.AcceptRole)
        buttons.addButton(QDialogButtonBox.StandardButton.Close)
        buttons.rejected.connect(self.reject)
        layout.addWidget(buttons)
        self.resize(640, 360)

    @property
    def running(self) -> bool:
        return self.handle is not None and self.handle.running

    def _update_buttons(self, *_args: object) -> None:
        self.expand_button.setEnabled(not self.running and bool(self.idea_edit.text().strip()))
        self.add_button.setEnabled(not self.running
                                   and bool(self.result_edit.toPlainText().strip()))
        self.url_edit.setEnabled(self.backend_combo.currentData() == "openai")

    def expand(self) -> None:
        """Start the expansion as a job; the answer lands in the text box when it is ready."""
        if self.running or not self.idea_edit.text().strip():
            return
        given = {"backend": self.backend_combo.currentData(),
                 "model": self.model_edit.text().strip() or None,
                 "url": self.url_edit.text().strip() or None}
        name, options = backend_settings(given, self.stored)
        idea = self.idea_edit.text().strip()
        self.status_label.setText(f"Asking {options.get('model') or 'the model'} …")
        self.handle = self.runner.start(
            "caption", f"Expand prompt: {idea[:40]}", expand_job, on_finished=self._on_finished,
            record_in_catalog=False, backend=name, backend_settings=options, idea=idea,
            trigger=self.trigger, project_root=self.project_root)
        self._update_buttons()

    def _on_finished(self, handle: JobHandle) -> None:
        if self._closed:  # closed while the model was busy: nobody waits for the answer
            return
        report = handle.report
        if isinstance(report, ExpandReport) and report.expanded is not None:
            self.result_edit.setPlainText(report.expanded.prompt)
            self.status_label.setText(f"{report.expanded.words} words")
        elif isinstance(report, ExpandReport):
            self.status_label.setText(html.escape(report.error or "stopped"))
        else:
            self.status_label.setText("The expansion failed; the Jobs tab has its log.")
        self._update_buttons()

    def sample_prompt(self) -> SamplePrompt:
        """The text as edited, one line, with the sample options of the prompt file."""
        text = " ".join(self.result_edit.toPlainText().split())
        return sample_prompt_like(text, _existing_prompts(self.existing_text), task=self.task)

    def add(self) -> None:
        if not self.result_edit.toPlainText().strip():
            return
        prompt = self.sample_prompt()
        try:
            append_prompt_line("", prompt)  # the trainer would split at " --"
        except PromptSyntaxError as exc:
            self.status_label.setText(html.escape(str(exc)))
            return
        self.prompt_added.emit(prompt)
        self.accept()

    def reject(self) -> None:
        if self.running and self.handle is not None:
            self.runner.cancel(self.handle)  # the answer in flight is dropped
        self._closed = True
        super().reject()
