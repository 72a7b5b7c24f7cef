"""The Train tab's Prompts page: the sample-prompt file, checked by the core as it is typed."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QHBoxLayout,
    QLabel,
    QPlainTextEdit,
    QPushButton,
    QSizePolicy,
    QVBoxLayout,
    QWidget,
)

from curator.core.training.diagnosis import prompt_texts
from curator.core.training.profile import (
    TrainingProfile,
)
from curator.core.training.prompts import (
    PromptSyntaxError,
    append_prompt_line,
    default_prompt_path,
    fix_prompt,
    make_prompt,
    parse_prompt_line,
    parse_prompts,
    validate_prompts,
)
from curator.core.training.validate import Problem
from curator.gui.dialogs.expand_prompt import ExpandPromptDialog
from curator.gui.tabs.train.fields import html
from curator.gui.tabs.train.highlight import CommandHighlighter
from curator.gui.theme import (
    ERROR_COLOR,
    MUTED_COLOR,
    OK_COLOR,
    WARNING_COLOR,
)
from curator.gui.widgets.job_bar import mono_font


class PromptsPage:
    """Mixed into `TrainPanel` (which builds the widgets and owns the state it reads)."""

    def _build_prompts_tab(self) -> QWidget:
        page = QWidget()
        layout = QVBoxLayout(page)
        layout.setContentsMargins(0, 8, 0, 0)
        intro = QLabel("One sample prompt per line, in the trainer's syntax: <i>text --w 832 --h "
                       "480 --f 33 --d 42 --s 20 --l 5.0 --fs 3.0</i>. Sizes are multiples of "
                       "16, frames 4n+1, and --fs and --l are written out (the trainer would "
                       "guess them). The trainer renders each prompt at every sampling epoch; "
                       "the Samples tab compares them.")
        intro.setWordWrap(True)
        intro.setStyleSheet(f"color: {MUTED_COLOR};")
        layout.addWidget(intro)
        self.prompt_edit = QPlainTextEdit()
        self.prompt_edit.setObjectName("promptEdit")
        self.prompt_edit.setFont(mono_font())
        self.prompt_edit.setPlaceholderText("No sample prompts: the run renders no samples.")
        self.prompt_edit.textChanged.connect(self._on_prompts_edited)
        self._prompt_highlighter = CommandHighlighter(self.prompt_edit.document())
        layout.addWidget(self.prompt_edit, 1)
        self.prompt_problems = QLabel()
        self.prompt_problems.setObjectName("promptProblems")
        self.prompt_problems.setWordWrap(True)
        self.prompt_problems.setTextInteractionFlags(
            Qt.TextInteractionFlag.TextSelectableByMouse)
        layout.addWidget(self.prompt_problems)
        row = QHBoxLayout()
        self.prompt_path_label = QLabel()
        self.prompt_path_label.setStyleSheet(f"color: {MUTED_COLOR};")
        self.prompt_path_label.setSizePolicy(QSizePolicy.Policy.Ignored,
                                             QSizePolicy.Policy.Preferred)
        row.addWidget(self.prompt_path_label, 1)
        add = QPushButton("Add prompt")
        add.setToolTip("A prompt with the trigger phrase and every setting written out")
        add.clicked.connect(self.add_prompt)
        fix = QPushButton("Fix sizes and frames")
        fix.setObjectName("fixPrompts")
        fix.setToolTip("Round sizes to multiples of 16 and frames to 4n+1; write --fs and --l")
        fix.clicked.connect(self.fix_prompts)
        expand = QPushButton("Expand idea…")
        expand.setObjectName("expandIdea")
        expand.setToolTip("Write a prompt from a short idea with the captioning model")
        expand.clicked.connect(self.expand_idea)
        row.addWidget(add)
        row.addWidget(expand)
        row.addWidget(fix)
        layout.addLayout(row)
        return page

    def expand_idea(self) -> ExpandPromptDialog:
        dialog = ExpandPromptDialog(catalog=self.catalog, project_root=self.root,
                                    runner=self.runner, task=self.editors["task"].value(),
                                    existing_text=self.prompt_edit.toPlainText(), parent=self)
        dialog.prompt_added.connect(lambda prompt: self.prompt_edit.setPlainText(
            append_prompt_line(self.prompt_edit.toPlainText(), prompt)))
        dialog.open()
        return dialog

    def _load_prompts(self, profile: TrainingProfile) -> None:
        if profile.sample_prompts:
            path = Path(profile.sample_prompts).expanduser()
            path = path if path.is_absolute() else self.root / path
        else:
            path = default_prompt_path(self.root, profile.name)
        try:
            text = path.read_text(encoding="utf-8") if path.is_file() else ""
        except (OSError, UnicodeDecodeError):
            text = ""
        self._prompt_path, self._prompt_disk_text = path, text
        self.prompt_edit.blockSignals(True)
        self.prompt_edit.setPlainText(text)
        self.prompt_edit.blockSignals(False)
        self.prompt_path_label.setText(str(path))
        self._check_prompts()

    def _prompts_setting(self) -> str:
        """`sample_prompts` for the profile: the file when it holds prompts, else none."""
        if self._prompt_path is None or not prompt_texts(self.prompt_edit.toPlainText()):
            return ""
        return str(self._prompt_path)

    def _on_prompts_edited(self) -> None:
        self._check_prompts()  # the file itself is written when the settings are checked
        self.gallery.set_prompt_texts(prompt_texts(self.prompt_edit.toPlainText()))
        self._schedule_replan()

    def _write_prompts(self) -> None:
        """Keep the file as edited (the trainer and the checks read it from disk)."""
        text = self.prompt_edit.toPlainText()
        path = self._prompt_path
        if path is None or text == self._prompt_disk_text:
            return
        if not text.strip() and not path.exists():
            return
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text if text.endswith("\n") or not text else text + "\n",
                            encoding="utf-8")
            self._prompt_disk_text = text
        except OSError as exc:
            self.prompt_problems.setText(f"<span style='color:{ERROR_COLOR}'>cannot write "
                                         f"{html(str(path))}: {html(str(exc))}</span>")

    def _trigger(self) -> str | None:
        try:
            return self.catalog.settings().trigger or None
        except Exception:  # noqa: BLE001 - no trigger check without a readable catalog
            return None

    def _check_prompts(self) -> list[Problem]:
        text = self.prompt_edit.toPlainText()
        if not text.strip():
            self.prompt_problems.setText(f"<span style='color:{MUTED_COLOR}'>No prompts: "
                                         f"sampling is off.</span>")
            return []
        try:
            prompts = parse_prompts(text)
            problems = validate_prompts(prompts, task=self.editors["task"].value(),
                                        trigger=self._trigger())
        except PromptSyntaxError as exc:
            problems = [Problem("sample_prompts", str(exc))]
        if not problems:
            count = len(prompt_texts(text))
            self.prompt_problems.setText(f"<span style='color:{OK_COLOR}'>● {count} prompt"
                                         f"{'s' * (count != 1)}, ready.</span>")
        else:
            self.prompt_problems.setText("<br>".join(
                f"<span style='color:{ERROR_COLOR if p.severity == 'error' else WARNING_COLOR}'>"
                f"● {html(p.message)}</span>" for p in problems))
        return problems

    def add_prompt(self) -> None:
        trigger = (self._trigger() or "").strip()
        prompt = make_prompt(f"{trigger} describe the scene" if trigger else "describe the scene",
                             task=self.editors["task"].value())
        text = self.prompt_edit.toPlainText()
        self.prompt_edit.setPlainText((text.rstrip("\n") + "\n" if text.strip() else "")
                                      + prompt.to_line() + "\n")

    def fix_prompts(self) -> None:
        """Rewrite each prompt line with valid sizes, frames, --fs and --l (comments kept)."""
        task = self.editors["task"].value()
        out = []
        for number, line in enumerate(self.prompt_edit.toPlainText().splitlines(), start=1):
            stripped = line.strip()
            if not stripped or stripped.startswith("#"):
                out.append(line)
                continue
            try:
                out.append(fix_prompt(parse_prompt_line(stripped, number), task=task).to_line())
            except PromptSyntaxError:
                out.append(line)  # left for the person: the message says what is wrong
        self.prompt_edit.setPlainText("\n".join(out) + "\n")

