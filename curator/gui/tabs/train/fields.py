"""The Train tab's form fields: one spec per profile setting and the editor that shows it,
with the problems found with it underneath."""

from __future__ import annotations

import shlex
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QFileDialog,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QSizePolicy,
    QSpinBox,
    QToolButton,
    QWidget,
)

from curator.core.training.profile import (
    WAN_TASKS,
    TrainingProfile,
    is_wan22,
    needs_clip,
)
from curator.core.training.validate import Problem
from curator.gui.theme import (
    ERROR_COLOR,
    MUTED_COLOR,
    WARNING_COLOR,
)
from curator.gui.widgets.layout import flush_column


@dataclass(frozen=True)
class FieldSpec:
    """One profile setting the tab edits; `name` is the `TrainingProfile` field."""

    name: str
    label: str
    kind: str  # dir | file | command | text | int | optint | float | bool | choice | args | resume
    section: str
    tip: str = ""
    placeholder: str = ""
    choices: tuple[str, ...] = ()
    minimum: int = 0
    maximum: int = 100_000
    shown: Callable[[TrainingProfile], bool] | None = None


def _musubi(p: TrainingProfile) -> bool:
    return p.trainer != "diffusion-pipe"


FIELDS: tuple[FieldSpec, ...] = (
    FieldSpec("trainer_dir", "Trainer folder", "dir", "Trainer",
              "The musubi-tuner (or diffusion-pipe) checkout",
              "the folder holding src/musubi_tuner"),
    FieldSpec("python", "Python", "command", "Trainer",
              "The Python of the trainer's venv; empty: <trainer>/.venv/bin/python if present"),
    FieldSpec("task", "Task", "choice", "Model", "--task of wan_train_network.py",
              choices=WAN_TASKS),
    FieldSpec("dit", "DiT", "file", "Model", "The DiT weights (the low-noise one for Wan2.2)",
              "e.g. wan2.1_t2v_14B_bf16.safetensors"),
    FieldSpec("dit_high_noise", "High-noise DiT", "file", "Model", "Wan2.2: the high-noise expert",
              shown=lambda p: is_wan22(p.task)),
    FieldSpec("vae", "VAE", "file", "Model", "", "e.g. wan_2.1_vae.safetensors", shown=_musubi),
    FieldSpec("t5", "T5", "file", "Model", "The UMT5 text encoder",
              "e.g. models_t5_umt5-xxl-enc-bf16.pth"),
    FieldSpec("clip", "CLIP", "file", "Model", "Wan2.1 I2V needs the CLIP model",
              shown=lambda p: _musubi(p) and needs_clip(p.task)),
    FieldSpec("dp_ckpt_path", "Wan checkpoint", "dir", "Model",
              "diffusion-pipe: the official Wan folder with config.json",
              shown=lambda p: not _musubi(p)),
    FieldSpec("dataset_config", "Dataset config", "file", "Dataset",
              "The dataset TOML `curator export` wrote; empty: the last export's"),
    FieldSpec("output_dir", "Output folder", "dir", "Output",
              "LoRA files, samples (sample/) and TensorBoard logs (logs/) go here"),
    FieldSpec("output_name", "Output name", "text", "Output",
              "The LoRA file name: <name>-000001.safetensors per epoch"),
    FieldSpec("max_train_epochs", "Epochs", "optint", "Training", maximum=10_000),
    FieldSpec("learning_rate", "Learning rate", "float", "Training", "5e-5 to 2e-4 is usual"),
    FieldSpec("network_dim", "Network dim", "int", "Training", "LoRA rank", minimum=1,
              maximum=1024),
    FieldSpec("network_alpha", "Network alpha", "float", "Training", "often equal to dim"),
    FieldSpec("blocks_to_swap", "Blocks to swap", "int", "Training",
              "Blocks kept in CPU memory to fit the GPU (at most 39 for 14B, 29 for 1.3B)",
              maximum=60),
    FieldSpec("save_state", "Save state with each checkpoint", "bool", "Continue",
              "--save_state: keeps the optimizer state beside each LoRA, so a stopped run can "
              "resume from it"),
    FieldSpec("resume", "Resume from", "resume", "Continue",
              "A *-state folder saved by --save_state; empty: start fresh"),
    FieldSpec("extra_train_args", "Extra train args", "args", "Continue",
              "Appended to the training command as written, e.g. --max_grad_norm 1.0"),
)
FIELD_NAMES = frozenset(spec.name for spec in FIELDS)


class FieldEditor(QWidget):
    """One setting: its input, and under it the problems found with it (errors in red)."""

    changed = Signal()

    def __init__(self, spec: FieldSpec, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.spec = spec
        self.setObjectName(f"field_{spec.name}")
        layout = flush_column(self, 1)
        row = QHBoxLayout()
        row.setSpacing(4)
        layout.addLayout(row)
        self.line: QLineEdit | None = None
        self.spin: QSpinBox | None = None
        self.check: QCheckBox | None = None
        self.combo: QComboBox | None = None
        kind = spec.kind
        if kind in ("int", "optint"):
            self.spin = QSpinBox()
            self.spin.setRange(0 if kind == "optint" else spec.minimum, spec.maximum)
            if kind == "optint":
                self.spin.setSpecialValueText("not set")
            self.spin.setMaximumWidth(120)
            self.spin.valueChanged.connect(lambda _v: self.changed.emit())
            row.addWidget(self.spin)
            row.addStretch(1)
        elif kind == "bool":
            self.check = QCheckBox(spec.label)
            self.check.toggled.connect(lambda _v: self.changed.emit())
            row.addWidget(self.check)
        elif kind == "choice":
            self.combo = QComboBox()
            self.combo.addItems(list(spec.choices))
            self.combo.currentTextChanged.connect(lambda _t: self.changed.emit())
            row.addWidget(self.combo)
            row.addStretch(1)
        elif kind == "resume":
            self.combo = QComboBox()
            self.combo.setEditable(True)
            self.combo.setInsertPolicy(QComboBox.InsertPolicy.NoInsert)
            self.line = self.combo.lineEdit()
            self.line.setPlaceholderText("start fresh")
            self.line.textChanged.connect(lambda _t: self.changed.emit())
            row.addWidget(self.combo, 1)
        else:
            self.line = QLineEdit()
            self.line.setClearButtonEnabled(kind not in ("float",))
            if spec.placeholder:
                self.line.setPlaceholderText(spec.placeholder)
            if kind == "float":
                self.line.setMaximumWidth(120)
            self.line.textChanged.connect(lambda _t: self.changed.emit())
            row.addWidget(self.line, 1 if kind != "float" else 0)
            if kind == "float":
                row.addStretch(1)
        if kind in ("dir", "file", "command", "resume"):
            browse = QToolButton()
            browse.setText("…")
            browse.setToolTip("Choose a folder" if kind in ("dir", "resume") else "Choose a file")
            browse.clicked.connect(self._browse)
            row.addWidget(browse)
        if spec.tip:
            for widget in (self.line, self.spin, self.check, self.combo):
                if widget is not None:
                    widget.setToolTip(spec.tip)
        self.message = QLabel()
        self.message.setProperty("role", "fieldMessage")
        self.message.setWordWrap(True)
        self.message.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.message.setMinimumWidth(80)  # wraps instead of widening the form
        policy = QSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Minimum)
        policy.setHeightForWidth(True)
        self.message.setSizePolicy(policy)
        self.message.hide()
        layout.addWidget(self.message)
        self.parse_error: str | None = None

    # --- value -----------------------------------------------------------------------------

    def value(self) -> Any:
        """The setting as the profile holds it.

        Raises:
            ValueError: the text cannot be read (not a number, unbalanced quotes).
        """
        kind = self.spec.kind
        if self.spin is not None:
            number = self.spin.value()
            return None if kind == "optint" and number == 0 else number
        if self.check is not None:
            return self.check.isChecked()
        if kind == "choice":
            return self.combo.currentText()  # type: ignore[union-attr]
        text = self.line.text().strip()  # type: ignore[union-attr]
        if kind == "float":
            try:
                return float(text)
            except ValueError:
                raise ValueError(f"{text or 'an empty value'!r} is not a number; write e.g. "
                                 f"5e-5 or 0.0001") from None
        if kind == "args":
            try:
                return shlex.split(text)
            except ValueError as exc:
                raise ValueError(f"cannot split these arguments: {exc}; close the quote") \
                    from None
        return text

    def set_value(self, value: Any) -> None:
        kind = self.spec.kind
        blockers = [w for w in (self.line, self.spin, self.check, self.combo) if w is not None]
        for widget in blockers:
            widget.blockSignals(True)
        try:
            if self.spin is not None:
                self.spin.setValue(int(value or 0))
            elif self.check is not None:
                self.check.setChecked(bool(value))
            elif kind == "choice":
                if self.combo.findText(str(value)) < 0:  # type: ignore[union-attr]
                    self.combo.addItem(str(value))  # type: ignore[union-attr]
                self.combo.setCurrentText(str(value))  # type: ignore[union-attr]
            elif kind == "float":
                self.line.setText(f"{float(value):g}")  # type: ignore[union-attr]
            elif kind == "args":
                self.line.setText(shlex.join(value or []))  # type: ignore[union-attr]
            else:
                self.line.setText(str(value or ""))  # type: ignore[union-attr]
            if self.line is not None:
                self.line.setCursorPosition(0)  # a long path shows its start, not its end
        finally:
            for widget in blockers:
                widget.blockSignals(False)

    def set_placeholder(self, text: str) -> None:
        if self.line is not None:
            self.line.setPlaceholderText(text)

    def set_choices(self, items: Sequence[str]) -> None:
        """The resume field's list: the state folders found in the output folder."""
        if self.spec.kind != "resume" or self.combo is None:
            return
        current = self.line.text() if self.line is not None else ""
        self.combo.blockSignals(True)
        self.line.blockSignals(True)  # type: ignore[union-attr]
        self.combo.clear()
        self.combo.addItems(list(items))
        self.combo.setCurrentIndex(-1)
        self.line.setText(current)  # type: ignore[union-attr]
        self.combo.blockSignals(False)
        self.line.blockSignals(False)  # type: ignore[union-attr]

    # --- messages --------------------------------------------------------------------------

    def show_problems(self, problems: Sequence[Problem], info: str = "") -> None:
        """Problems in words under the input (an unreadable value first), then `info`, muted."""
        lines: list[tuple[str, str]] = []
        if self.parse_error:
            lines.append((ERROR_COLOR, self.parse_error))
        for problem in problems:
            color = ERROR_COLOR if problem.severity == "error" else WARNING_COLOR
            lines.append((color, problem.message))
        if info:
            lines.append((MUTED_COLOR, info))
        has_error = any(color == ERROR_COLOR for color, _ in lines)
        target = self.line or self.spin or self.combo
        if target is not None:
            target.setStyleSheet(f"border-color: {ERROR_COLOR};" if has_error else "")
        if not lines:
            self.message.hide()
            self.message.setText("")
            return
        self.message.setText("<br>".join(
            f"<span style='color:{color}'>{'● ' if color != MUTED_COLOR else ''}"
            f"{html(text)}</span>" for color, text in lines))
        self.message.show()

    def _browse(self) -> None:
        kind = self.spec.kind
        start = self.line.text() if self.line is not None and self.line.text() else str(Path.home())
        if kind in ("dir", "resume"):
            chosen = QFileDialog.getExistingDirectory(self, self.spec.label, start)
        else:
            chosen, _ = QFileDialog.getOpenFileName(self, self.spec.label, start)
        if chosen and self.line is not None:
            self.line.setText(chosen)


def html(text: str) -> str:
    return (text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;"))


