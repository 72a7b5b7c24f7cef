"""The Train tab: a profile, the settings that change per run, the exact commands, a live run.

Everything a run needs comes from `curator.core.training`: `plan_run` turns the profile as
edited here into steps, problems (each with its fix, shown beside the field it is about) and the
dataset's counts; `run_steps` runs the steps on a JobRunner thread (so the run is a job in the
jobs panel, cancelled through the token the runner hands it). Output lines cross to this thread
through a `LineChannel` signal in batches; here they are parsed with the core's `ProgressParser`
into the progress bar, the stats and the loss plot, and shown in a capped log. The Samples tab
is the checkpoint picker (`sample_gallery.CheckpointGallery`).
"""

from __future__ import annotations

import shlex
import stat
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from PySide6.QtCore import QObject, QSettings, Qt, QTimer, QUrl, Signal, Slot
from PySide6.QtGui import (
    QColor,
    QDesktopServices,
    QFont,
    QFontDatabase,
    QGuiApplication,
    QSyntaxHighlighter,
    QTextCharFormat,
    QTextCursor,
    QTextDocument,
)
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QFileDialog,
    QFormLayout,
    QFrame,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QPlainTextEdit,
    QProgressBar,
    QPushButton,
    QScrollArea,
    QSizePolicy,
    QSpinBox,
    QSplitter,
    QStyle,
    QTabWidget,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from curator.core.jobs import CancelToken, ProgressFn
from curator.core.project import Project
from curator.core.training.commands import STEP_CHOICES, TrainStep, resolve_python
from curator.core.training.launch import RunPlan, plan_run
from curator.core.training.profile import (
    DEFAULT_PRESET,
    WAN_TASKS,
    ProfileError,
    TrainingProfile,
    is_wan22,
    list_profiles,
    load_profile,
    max_blocks_to_swap,
    needs_clip,
    save_profile,
)
from curator.core.training.progress import (
    ProgressParser,
    TrainProgress,
    format_duration,
    parse_tqdm,
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
from curator.core.training.runner import DEFAULT_GRACE_S, TrainReport, run_steps
from curator.core.training.validate import Problem, errors
from curator.gui.dialogs.expand_prompt import ExpandPromptDialog
from curator.gui.panels.loss_plot import LossPlot, format_loss
from curator.gui.panels.sample_gallery import CheckpointGallery
from curator.gui.panels.style import (
    ERROR_COLOR,
    MUTED_COLOR,
    OK_COLOR,
    WARNING_COLOR,
    JobTab,
    stat_card,
)
from curator.gui.workers import JobHandle, JobRunner, report_summary

#: Lines the log view keeps (a trainer prints for days); older ones scroll away.
LOG_BLOCKS = 5000
#: Lines reach the view at most this often; a burst is appended in one go.
DRAIN_MS = 100
#: Settings are checked this long after the last keystroke.
REPLAN_MS = 250
#: Lines waiting for the GUI thread beyond this are dropped (oldest first), never the steps.
MAX_PENDING = 20_000
PROBLEM_LIST_MAX_H = 170

STEP_LABELS = {
    "all": "All steps",
    "cache-latents": "Cache latents only",
    "cache-text": "Cache text encoder only",
    "train": "Train only",
}
PHASE_LABELS = {
    "starting": "Starting", "caching": "Caching", "training": "Training",
    "sampling": "Rendering samples", "saving": "Saving a checkpoint", "finished": "Finished",
}

PANEL_STYLE = """
#trainPanel QLabel[role="section"] { color: #8b949e; font-weight: 700; padding-top: 10px; }
#trainPanel QLabel[role="fieldMessage"] { padding: 1px 2px 3px 2px; }
#trainPanel QLabel[role="statCaption"] { color: #8b949e; }
#trainPanel QLabel[role="statValue"] { font-size: 15px; font-weight: 600; }
#trainPanel QFrame[role="stat"] { background: #1c2128; border-radius: 6px; }
#trainPanel QLabel#runTitle { font-size: 14px; font-weight: 600; }
#trainPanel QLabel#runBanner { border-radius: 5px; padding: 6px 10px; }
#trainPanel QProgressBar { border: 1px solid #30363d; border-radius: 5px; background: #0d1117;
    min-height: 20px; text-align: center; }
#trainPanel QProgressBar::chunk { background: #1f6feb; border-radius: 4px; }
#trainPanel QProgressBar[state="done"]::chunk { background: #238636; }
#trainPanel QProgressBar[state="failed"]::chunk { background: #da3633; }
#trainPanel QProgressBar[state="cancelled"]::chunk { background: #9e6a03; }
#trainPanel QPushButton#runButton { background: #238636; border-color: #2ea043; color: white;
    font-weight: 600; padding: 5px 16px; }
#trainPanel QPushButton#runButton:disabled { background: #21262d; border-color: #30363d;
    color: #6e7681; }
#trainPanel QPushButton#cancelButton:enabled { border-color: #da3633; color: #f85149; }
#trainPanel QCheckBox::indicator { width: 14px; height: 14px; border: 1px solid #6e7681;
    border-radius: 3px; background: #0d1117; }
#trainPanel QCheckBox::indicator:checked { background: #2f81f7; border-color: #2f81f7;
    image: none; }
#trainPanel QListWidget#problemList { background: #0d1117; border: 1px solid #30363d;
    border-radius: 4px; }
"""


# --- fields ----------------------------------------------------------------------------------

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
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(1)
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
            f"{_html(text)}</span>" for color, text in lines))
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


def _html(text: str) -> str:
    return (text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;"))


# --- the run on its worker thread ------------------------------------------------------------

class LineChannel(QObject):
    """A run's output lines and step starts, from the worker thread to the GUI thread.

    The worker appends under a lock and emits `ready` once for each batch; the GUI thread
    takes the whole batch when it is ready to paint. However fast the trainer prints, at most
    one signal is in flight, and the worker never waits for the GUI.
    """

    ready = Signal()

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._lock = threading.Lock()
        self._items: list[tuple] = []
        self._notified = False
        self.dropped = 0

    def line(self, stream: str, line: str) -> None:
        self._put(("line", stream, line))

    def step(self, step: TrainStep, index: int, count: int) -> None:
        self._put(("step", step, index, count))

    def _put(self, item: tuple) -> None:
        with self._lock:
            self._items.append(item)
            if len(self._items) > MAX_PENDING:
                # The GUI is stalled: drop the oldest half of the lines, keep every step start.
                cut = len(self._items) // 2
                kept = [i for i in self._items[:cut] if i[0] == "step"]
                self.dropped += cut - len(kept)
                self._items = kept + self._items[cut:]
            notify, self._notified = not self._notified, True
        if notify:
            self.ready.emit()

    def take(self) -> list[tuple]:
        """Everything since the last take, in order (a note first where lines were dropped)."""
        with self._lock:
            items, self._items = self._items, []
            self._notified = False
            dropped, self.dropped = self.dropped, 0
        if dropped:
            items.insert(0, ("line", "stderr", f"[{dropped} lines skipped: they came faster "
                                               f"than the window could show them]"))
        return items


def run_training(*, plan: RunPlan, channel: LineChannel, catalog: Any = None, profile: str = "",
                 steps: str = "all", output_dir: str = "", grace_s: float = DEFAULT_GRACE_S,
                 progress: ProgressFn, cancel: CancelToken) -> TrainReport:
    """The job the Train tab hands the JobRunner: run the plan's steps, lines to `channel`.

    `profile`, `steps` and `output_dir` are plain values, so the JobRunner records them with
    the run's job row (and `profile`, `steps` go on each step's row); `cancel` is the
    JobRunner's token, so cancelling the job in any panel reaches the trainer's process group.
    """
    del output_dir  # recorded by the JobRunner; the steps already carry it
    return run_steps(plan.steps, on_line=channel.line, on_step=channel.step,
                     progress=progress, cancel=cancel, catalog=catalog,
                     job_params={"profile": profile, "trainer": plan.profile.trainer,
                                 "steps": steps}, grace_s=grace_s)


def commands_text(steps: Sequence[TrainStep]) -> str:
    """The steps as a person reads them: folder, variables and argv (shlex.join, display only)."""
    blocks = []
    for index, step in enumerate(steps, start=1):
        lines = [f"# {index}/{len(steps)} {step.name}"
                 + (f" — {step.description}" if step.description else ""),
                 f"cd {shlex.quote(step.cwd)}"]
        for path in step.files:
            lines.append(f"# writes {path}")
        env = " ".join(f"{k}={shlex.quote(v)}" for k, v in step.env.items())
        lines.append((env + " " if env else "") + shlex.join(step.argv))
        blocks.append("\n".join(lines))
    return "\n\n".join(blocks)


def failure_hint(reason: str, profile: TrainingProfile | None) -> str:
    """What usually fixes a trainer failure, for the errors people meet most."""
    text = reason.lower()
    if "outofmemory" in text or "out of memory" in text:
        if profile is None:
            return "Out of GPU memory: swap more blocks, or train on fewer frames or pixels."
        limit = max_blocks_to_swap(profile.task)
        steps = [f"raise Blocks to swap (now {profile.blocks_to_swap}, at most {limit})"
                 if profile.blocks_to_swap < limit else ""]
        if not profile.fp8_base:
            steps.append("turn on fp8_base and fp8_scaled")
        steps.append("or export smaller buckets (fewer frames or pixels)")
        return "Out of GPU memory: " + ", ".join(s for s in steps if s) + "."
    if "no module named" in text:
        return ("The Python that ran the trainer lacks a package: set Python to the trainer's "
                "venv (the one musubi-tuner was installed into).")
    if "could not start" in text:
        return "Check the Trainer folder and Python fields."
    return ""


def state_folders(output_dir: Path) -> list[str]:
    """The `*-state` folders `--save_state` left in the output folder, newest first."""
    try:
        found = [p for p in Path(output_dir).iterdir() if p.is_dir() and p.name.endswith("-state")]
    except OSError:
        return []
    found.sort(key=lambda p: p.stat().st_mtime, reverse=True)
    return [str(p) for p in found]


def prompt_texts(text: str) -> list[str]:
    """The prompt of each line the trainer samples (comments and blank lines skipped)."""
    out = []
    for line in text.splitlines():
        stripped = line.strip()
        if not stripped or stripped.startswith("#"):
            continue
        out.append(stripped.split(" --", 1)[0].strip())
    return out


# --- highlighting ----------------------------------------------------------------------------

class CommandHighlighter(QSyntaxHighlighter):
    """Comments dim, options blue, so a long argv can be scanned."""

    def __init__(self, document: QTextDocument) -> None:
        super().__init__(document)
        self.comment = QTextCharFormat()
        self.comment.setForeground(QColor(MUTED_COLOR))
        self.option = QTextCharFormat()
        self.option.setForeground(QColor("#79c0ff"))
        self.env = QTextCharFormat()
        self.env.setForeground(QColor("#d2a8ff"))

    def highlightBlock(self, text: str) -> None:  # noqa: N802 - Qt API
        if text.startswith("#"):
            self.setFormat(0, len(text), self.comment)
            return
        position = 0
        for word in text.split(" "):
            if word.startswith("--"):
                self.setFormat(position, len(word), self.option)
            elif "=" in word and position == 0 or (word.isupper() and "=" in word):
                self.setFormat(position, len(word), self.env)
            position += len(word) + 1


class LogHighlighter(QSyntaxHighlighter):
    """Errors red, warnings amber, epochs and checkpoints green, logging prefixes dim."""

    def __init__(self, document: QTextDocument) -> None:
        super().__init__(document)

        def fmt(color: str, bold: bool = False) -> QTextCharFormat:
            f = QTextCharFormat()
            f.setForeground(QColor(color))
            if bold:
                f.setFontWeight(QFont.Weight.Bold)
            return f

        self.error, self.warning = fmt(ERROR_COLOR), fmt(WARNING_COLOR)
        self.good, self.dim, self.step = fmt(OK_COLOR), fmt("#6e7681"), fmt("#79c0ff", True)

    def highlightBlock(self, text: str) -> None:  # noqa: N802 - Qt API
        stripped = text.lstrip()
        if stripped.startswith("== "):
            self.setFormat(0, len(text), self.step)
        elif ("Error" in text or "Traceback" in text or stripped.startswith(("ERROR", "File "))
              or "Exception" in text):
            self.setFormat(0, len(text), self.error)
        elif stripped.startswith("WARNING") or "warning" in stripped[:40].lower():
            self.setFormat(0, len(text), self.warning)
        elif stripped.startswith(("epoch ", "saving checkpoint", "model saved")) or \
                text.endswith("model saved."):
            self.setFormat(0, len(text), self.good)
        elif stripped.startswith("INFO:"):
            cut = stripped.find(":", 5)
            start = len(text) - len(stripped)
            if cut > 0:
                self.setFormat(start, cut + 1, self.dim)


# --- the panel -------------------------------------------------------------------------------

class TrainPanel(JobTab):
    """Profile, settings, commands, run, samples: everything between an export and a LoRA."""

    run_started = Signal(object)  # JobHandle
    run_finished = Signal(str)  # done | failed | cancelled
    plan_changed = Signal(object)  # RunPlan

    def __init__(self, project: Project, catalog: Any = None,
                 job_runner: JobRunner | None = None, settings: QSettings | None = None,
                 parent: QWidget | None = None) -> None:
        super().__init__("trainPanel", PANEL_STYLE,
                         catalog=catalog if catalog is not None else project.catalog,
                         job_runner=job_runner, parent=parent)
        self.project = project
        self.root = Path(project.root)
        self.settings = settings
        self.plan: RunPlan | None = None
        self.base: TrainingProfile = TrainingProfile()
        self.profile_origin = "preset"
        self.handle: JobHandle | None = None
        self.run_plan: RunPlan | None = None
        self.grace_s = DEFAULT_GRACE_S
        self.parser: ProgressParser | None = None
        self.current_step: tuple[TrainStep, int, int] | None = None
        self.loss_points: list[tuple[int, float]] = []
        self._channel: LineChannel | None = None
        self._log_last_bar: str | None = None  # desc of the bar the log's last line shows
        self._gallery_pinned = False  # a folder the person opened: replans leave it alone
        self._prompt_path: Path | None = None
        self._prompt_disk_text = ""
        self._loading = False
        self._loaded_name: str | None = None
        self._drafts: dict[str, TrainingProfile] = {}

        self._replan_timer = QTimer(self)
        self._replan_timer.setSingleShot(True)
        self._replan_timer.setInterval(REPLAN_MS)
        self._replan_timer.timeout.connect(self.replan)
        self._drain_timer = QTimer(self)
        self._drain_timer.setSingleShot(True)
        self._drain_timer.setInterval(DRAIN_MS)
        self._drain_timer.timeout.connect(self._drain)
        self._clock = QTimer(self)  # elapsed time ticks between the trainer's own reports
        self._clock.setInterval(1000)
        self._clock.timeout.connect(self._show_elapsed)

        self._build()
        self._fill_profiles()
        remembered = self.settings.value("train/steps") if self.settings is not None else None
        if remembered and self.steps_combo.findData(remembered) >= 0:
            self.steps_combo.blockSignals(True)
            self.steps_combo.setCurrentIndex(self.steps_combo.findData(remembered))
            self.steps_combo.blockSignals(False)
        self.load(self._initial_profile())

    # --- building --------------------------------------------------------------------------

    def _build(self) -> None:
        # In a short dock the whole tab scrolls instead of crushing the plot and the log.
        frame = QVBoxLayout(self)
        frame.setContentsMargins(0, 0, 0, 0)
        self.page_area = QScrollArea()
        self.page_area.setObjectName("trainPage")
        self.page_area.setWidgetResizable(True)
        self.page_area.setFrameShape(QFrame.Shape.NoFrame)
        frame.addWidget(self.page_area)
        page = QWidget()
        page.setObjectName("trainPageBody")
        page.setMinimumSize(940, 470)
        self.page_area.setWidget(page)
        outer = QVBoxLayout(page)
        outer.setContentsMargins(8, 6, 8, 6)
        outer.setSpacing(6)

        bar = QHBoxLayout()
        bar.setSpacing(6)
        bar.addWidget(QLabel("Profile"))
        self.profile_combo = QComboBox()
        self.profile_combo.setObjectName("profileCombo")
        self.profile_combo.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToContents)
        self.profile_combo.setMinimumWidth(220)
        self.profile_combo.activated.connect(lambda _i: self.load(self.profile_combo.currentData()))
        bar.addWidget(self.profile_combo)
        self.origin_label = QLabel()
        self.origin_label.setObjectName("profileOrigin")
        self.origin_label.setStyleSheet(f"color: {MUTED_COLOR};")
        bar.addWidget(self.origin_label)
        self.save_button = QPushButton("Save profile")
        self.save_button.setObjectName("saveProfile")
        self.save_button.setToolTip("Keep these settings as this project's profile "
                                    "(training/<name>.toml)")
        self.save_button.clicked.connect(lambda: self.save_profile())
        bar.addWidget(self.save_button)
        bar.addStretch(1)
        bar.addWidget(QLabel("Steps"))
        self.steps_combo = QComboBox()
        self.steps_combo.setObjectName("stepsCombo")
        for step in ("all", *[s for s in STEP_CHOICES if s != "all"]):
            self.steps_combo.addItem(STEP_LABELS.get(step, step), step)
        self.steps_combo.currentIndexChanged.connect(self._on_steps_changed)
        bar.addWidget(self.steps_combo)
        self.export_button = QPushButton("Export script…")
        self.export_button.setObjectName("exportScript")
        self.export_button.setToolTip("Write these commands as a bash script for the machine "
                                      "that trains")
        self.export_button.clicked.connect(lambda: self.export_script())
        bar.addWidget(self.export_button)
        self.run_button = QPushButton("Run")
        self.run_button.setObjectName("runButton")
        self.run_button.setIcon(self.style().standardIcon(QStyle.StandardPixmap.SP_MediaPlay))
        self.run_button.clicked.connect(lambda: self.run())
        bar.addWidget(self.run_button)
        self.cancel_button = QPushButton("Cancel")
        self.cancel_button.setObjectName("cancelButton")
        self.cancel_button.setIcon(self.style().standardIcon(QStyle.StandardPixmap.SP_MediaStop))
        self.cancel_button.setEnabled(False)
        self.cancel_button.clicked.connect(self.cancel)
        bar.addWidget(self.cancel_button)
        outer.addLayout(bar)

        self.summary_label = QLabel()
        self.summary_label.setObjectName("planSummary")
        self.summary_label.setWordWrap(True)
        outer.addWidget(self.summary_label)

        splitter = QSplitter(Qt.Orientation.Horizontal)
        splitter.setChildrenCollapsible(False)
        splitter.addWidget(self._build_form())
        self.tabs = QTabWidget()
        self.tabs.setObjectName("trainTabs")
        self.tabs.setDocumentMode(True)
        self.tabs.addTab(self._build_commands_tab(), "Commands")
        self.tabs.addTab(self._build_run_tab(), "Run")
        self.gallery = CheckpointGallery()
        self.gallery.open_button.clicked.disconnect()
        self.gallery.open_button.clicked.connect(self._open_run_folder)
        self.tabs.addTab(self.gallery, "Samples")
        self.tabs.addTab(self._build_prompts_tab(), "Prompts")
        splitter.addWidget(self.tabs)
        splitter.setStretchFactor(0, 0)
        splitter.setStretchFactor(1, 1)
        splitter.setSizes([450, 900])
        outer.addWidget(splitter, 1)

    def _build_form(self) -> QWidget:
        scroll = QScrollArea()
        scroll.setObjectName("trainForm")
        scroll.setWidgetResizable(True)
        scroll.setFrameShape(QFrame.Shape.NoFrame)
        scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        scroll.setMinimumWidth(380)
        body = QWidget()
        column = QVBoxLayout(body)
        column.setContentsMargins(2, 0, 12, 8)
        # One form for every section, so the labels of all sections share one column.
        self.form = form = QFormLayout()
        form.setLabelAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignTop)
        form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)
        form.setRowWrapPolicy(QFormLayout.RowWrapPolicy.DontWrapRows)
        form.setHorizontalSpacing(10)
        form.setVerticalSpacing(6)
        column.addLayout(form)
        column.addStretch(1)
        self.editors: dict[str, FieldEditor] = {}
        section = None
        for spec in FIELDS:
            if spec.section != section:
                section = spec.section
                title = QLabel(section.upper())
                title.setProperty("role", "section")
                form.addRow(title)
            editor = FieldEditor(spec)
            editor.changed.connect(self._on_field_changed)
            self.editors[spec.name] = editor
            if spec.kind == "bool":
                form.addRow("", editor)
            else:
                label = QLabel(spec.label)
                label.setToolTip(spec.tip)
                label.setContentsMargins(0, 5, 0, 0)
                form.addRow(label, editor)
        scroll.setWidget(body)
        self.form_area = scroll
        return scroll

    def _build_commands_tab(self) -> QWidget:
        page = QWidget()
        layout = QVBoxLayout(page)
        layout.setContentsMargins(0, 6, 0, 0)
        self.problem_list = QListWidget()
        self.problem_list.setObjectName("problemList")
        self.problem_list.setWordWrap(True)
        self.problem_list.setSelectionMode(QListWidget.SelectionMode.NoSelection)
        self.problem_list.setVerticalScrollMode(QListWidget.ScrollMode.ScrollPerPixel)
        layout.addWidget(self.problem_list)
        self.commands_view = QPlainTextEdit()
        self.commands_view.setObjectName("commandsView")
        self.commands_view.setReadOnly(True)
        self.commands_view.setFont(_mono_font())
        self.commands_view.setLineWrapMode(QPlainTextEdit.LineWrapMode.WidgetWidth)
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

    def _build_run_tab(self) -> QWidget:
        page = QWidget()
        layout = QVBoxLayout(page)
        layout.setContentsMargins(0, 8, 0, 0)
        layout.setSpacing(8)
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

        self.banner = QLabel()
        self.banner.setObjectName("runBanner")
        self.banner.setWordWrap(True)
        self.banner.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
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
        self.log_view.setFont(_mono_font())
        self.log_view.setPlaceholderText("The trainer's output appears here while it runs.")
        self._log_highlighter = LogHighlighter(self.log_view.document())
        split.addWidget(self.log_view)
        split.setSizes([230, 260])
        layout.addWidget(split, 1)
        return page

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
        self.prompt_edit.setFont(_mono_font())
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

    # --- profiles --------------------------------------------------------------------------

    def _initial_profile(self) -> str:
        names = [self.profile_combo.itemData(i) for i in range(self.profile_combo.count())]
        remembered = self.settings.value("train/profile") if self.settings is not None else None
        if remembered in names:
            return remembered
        project_own = [n for n, origin in list_profiles(self.root) if origin == "project"]
        if project_own:
            return project_own[0]
        return DEFAULT_PRESET if DEFAULT_PRESET in names else (names[0] if names else "")

    def _fill_profiles(self) -> None:
        current = self.profile_combo.currentData()
        self.profile_combo.blockSignals(True)
        self.profile_combo.clear()
        for name, origin in list_profiles(self.root):
            try:
                profile = load_profile(name, self.root)
                title = profile.title or name
                tip = f"{name} ({origin})" + (f"\n{profile.description}"
                                               if profile.description else "")
            except ProfileError as exc:
                title, tip = name, str(exc)
            self.profile_combo.addItem(title, name)
            self.profile_combo.setItemData(self.profile_combo.count() - 1, tip,
                                           Qt.ItemDataRole.ToolTipRole)
            self.profile_combo.setItemData(self.profile_combo.count() - 1, origin,
                                           Qt.ItemDataRole.UserRole + 1)
        if current is not None:
            index = self.profile_combo.findData(current)
            if index >= 0:
                self.profile_combo.setCurrentIndex(index)
        self.profile_combo.blockSignals(False)

    def load(self, name: str | None) -> None:
        """Show profile `name` (the project's own first, then the preset) in the form."""
        if not name:
            return
        try:
            profile = load_profile(name, self.root)
        except ProfileError as exc:
            self.summary_label.setText(f"<span style='color:{ERROR_COLOR}'>{_html(str(exc))}"
                                       f"</span>")
            return
        index = self.profile_combo.findData(name)
        if index >= 0:
            self.profile_combo.setCurrentIndex(index)
            self.profile_origin = self.profile_combo.itemData(index, Qt.ItemDataRole.UserRole + 1)
        # Unsaved edits of the profile being left are kept for this session, not thrown away.
        if self._loaded_name and self._loaded_name != name and self.modified():
            self._drafts[self._loaded_name] = self.current_profile()
        shown = self._drafts.pop(name, None) or profile
        self.base, self._loaded_name = profile, name
        self._loading = True
        try:
            for spec in FIELDS:
                self.editors[spec.name].parse_error = None
                self.editors[spec.name].set_value(getattr(shown, spec.name))
            self._load_prompts(shown)
        finally:
            self._loading = False
        if self.settings is not None:
            self.settings.setValue("train/profile", name)
        self.replan()

    def current_profile(self) -> TrainingProfile:
        """The loaded profile with the form's values (an unreadable value keeps the old one)."""
        changes: dict[str, Any] = {}
        for name, editor in self.editors.items():
            try:
                changes[name] = editor.value()
                editor.parse_error = None
            except ValueError as exc:
                editor.parse_error = str(exc)
        changes["sample_prompts"] = self._prompts_setting()
        return self.base.replace(**changes)

    def steps_choice(self) -> str:
        return self.steps_combo.currentData() or "all"

    def set_steps(self, steps: str) -> None:
        index = self.steps_combo.findData(steps)
        if index >= 0:
            self.steps_combo.setCurrentIndex(index)
        self.replan()

    def modified(self) -> bool:
        return self.current_profile().to_toml_dict() != self.base.to_toml_dict()

    def save_profile(self, name: str | None = None) -> Path | None:
        """Save the form as the project's profile `name` (default: the profile's own name)."""
        profile = self.current_profile()
        if any(editor.parse_error for editor in self.editors.values()):
            self._notice("Fix the values marked in red before saving.", ERROR_COLOR)
            return None
        try:
            path = save_profile(self.root, profile, name or profile.name)
        except (ProfileError, OSError) as exc:
            self._notice(f"Could not save the profile: {exc}", ERROR_COLOR)
            return None
        self._fill_profiles()
        self.load(name or profile.name)
        shown = path.relative_to(self.root) if path.is_relative_to(self.root) else path
        self._notice(f"Saved {shown}", OK_COLOR)
        return path

    # --- checking ----------------------------------------------------------------------------

    def _on_steps_changed(self, _index: int) -> None:
        if self.settings is not None:
            self.settings.setValue("train/steps", self.steps_choice())
        self._schedule_replan()

    def _on_field_changed(self) -> None:
        if not self._loading:
            self._schedule_replan()

    def _schedule_replan(self) -> None:
        self._replan_timer.start()

    def _export_root(self) -> str | None:
        try:
            return self.catalog.settings().export_root or None
        except Exception:  # noqa: BLE001 - a catalog that cannot be read only loses the default
            return None

    def replan(self) -> RunPlan | None:
        """Check the settings now: commands, problems beside their fields, the summary."""
        self._replan_timer.stop()
        self._write_prompts()  # the checks read the prompt file from disk, as the trainer will
        profile = self.current_profile()
        try:
            plan = plan_run(profile, self.root, self.steps_choice(),
                            export_root=self._export_root())
        except (ValueError, OSError) as exc:
            self.plan = None
            self._show_summary([Problem("trainer", str(exc))], None)
            self.run_button.setEnabled(False)
            return None
        self.plan = plan
        self._show_problems(plan)
        self.commands_view.setPlainText(commands_text(plan.steps))
        self._show_summary(list(plan.problems), plan)
        self._update_buttons()
        self._update_links()
        self._update_origin()
        if self.handle is None and not self._gallery_pinned:
            self.gallery.set_run(plan.output_dir, output_name=plan.profile.effective_output_name,
                                 prompt_texts=prompt_texts(self.prompt_edit.toPlainText()))
        self.plan_changed.emit(plan)
        return plan

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

    def resizeEvent(self, event) -> None:  # noqa: ANN001, N802 - Qt API
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

    def _update_origin(self) -> None:
        where = ("project profile" if self.profile_origin == "project" else "preset")
        modified = self.modified()
        self.origin_label.setText(f"{where} · {self.base.trainer}"
                                  + (" · <b>modified</b>" if modified else ""))
        self.save_button.setEnabled(modified or self.profile_origin != "project")

    def _update_buttons(self) -> None:
        running = self.handle is not None
        parse_errors = any(e.parse_error for e in self.editors.values())
        ready = self.plan is not None and self.plan.ready and not parse_errors
        self.run_button.setEnabled(ready and not running)
        self.run_button.setToolTip("" if ready else "Fix the problems marked in red first")
        self.cancel_button.setEnabled(running and self.handle.status == "running")
        self.export_button.setEnabled(self.plan is not None and not parse_errors)
        self.profile_combo.setEnabled(not running)
        self.steps_combo.setEnabled(not running)
        # The settings shown are the ones running: they stay as they are until it ends.
        self.form_area.widget().setEnabled(not running)
        self.prompt_edit.setReadOnly(running)

    def _notice(self, text: str, color: str = MUTED_COLOR) -> None:
        self.summary_label.setText(f"<span style='color:{color}'>{_html(text)}</span>")

    # --- sample prompts ----------------------------------------------------------------------

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
                                         f"{_html(str(path))}: {_html(str(exc))}</span>")

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
                f"● {_html(p.message)}</span>" for p in problems))
        return problems

    def add_prompt(self) -> None:
        trigger = (self._trigger() or "").strip()
        prompt = make_prompt(f"{trigger} describe the scene" if trigger else "describe the scene",
                             task=self.editors["task"].value())
        text = self.prompt_edit.toPlainText()
        self.prompt_edit.setPlainText((text.rstrip("\n") + "\n" if text.strip() else "")
                                      + prompt.to_line() + "\n")

    def expand_idea(self) -> ExpandPromptDialog:
        dialog = ExpandPromptDialog(catalog=self.catalog, project_root=self.root,
                                    runner=self.runner, task=self.editors["task"].value(),
                                    existing_text=self.prompt_edit.toPlainText(), parent=self)
        dialog.prompt_added.connect(lambda prompt: self.prompt_edit.setPlainText(
            append_prompt_line(self.prompt_edit.toPlainText(), prompt)))
        dialog.open()
        return dialog

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

    # --- running ---------------------------------------------------------------------------

    @property
    def running(self) -> bool:
        return self.handle is not None

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
        if self.handle is None:
            return
        self.runner.cancel(self.handle)
        self.run_title.setText(f"Cancelling: SIGINT sent to the trainer; SIGTERM in "
                               f"{self.grace_s:g} s if it has not stopped")
        self._set_bar_state("cancelled")
        self._update_buttons()

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
        self._set_bar_state("running")
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

    def _set_bar_state(self, state: str) -> None:
        self.progress_bar.setProperty("state", state)
        self.progress_bar.style().unpolish(self.progress_bar)
        self.progress_bar.style().polish(self.progress_bar)

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
            self._show_banner(f"Done. The LoRA files are in {self.run_plan.output_dir}"
                              if self.run_plan else "Done.", OK_COLOR)
        elif status == "cancelled":
            record = report.records[-1] if report and report.records else None
            sent = ", ".join(record.signals_sent) if record and record.signals_sent else ""
            self.run_title.setText("Cancelled")
            self._show_banner(f"Cancelled{' during ' + record.name if record else ''}"
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
            self._show_banner((f"Failed: {reason}" if reason else "Failed.")
                              + (f"\n{hint}" if hint else ""), ERROR_COLOR)
            bar.setFormat(bar.format().split(" · ")[0] + " · failed")
        self._set_bar_state(status)
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
        handle.status = status
        handle.add_log([f"{status}: " + "; ".join(f.reason for f in report.failed)])
        if self.catalog is not None and handle.catalog_job_id is not None:
            try:
                self.catalog.finish_job(handle.catalog_job_id, status,
                                        result=report_summary(report),
                                        log="\n".join(handle.log[-200:]))
            except Exception:  # noqa: BLE001 - the run's own step rows are already recorded
                pass
        self.runner.job_updated.emit(handle)
        return status

    def _show_banner(self, text: str, color: str) -> None:
        tint = QColor(color)
        self.banner.setStyleSheet(
            f"color: {color}; background: rgba({tint.red()},{tint.green()},{tint.blue()},28);"
            f"border: 1px solid rgba({tint.red()},{tint.green()},{tint.blue()},90);")
        self.banner.setText(text)
        self.banner.show()

    # --- links -------------------------------------------------------------------------------

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

    # --- script, folders, lifetime -----------------------------------------------------------

    def export_script(self, path: Path | None = None) -> Path | None:
        """Write the commands as a bash script for another machine (missing files only warn)."""
        self._write_prompts()
        profile = self.current_profile()
        try:
            plan = plan_run(profile, self.root, self.steps_choice(), remote=True,
                            export_root=self._export_root())
        except (ValueError, OSError) as exc:
            self._notice(f"Cannot build the commands: {exc}", ERROR_COLOR)
            return None
        if errors(plan.problems):
            self._notice(f"The script was not written: {errors(plan.problems)[0].message}",
                         ERROR_COLOR)
            return None
        if path is None:
            chosen, _ = QFileDialog.getSaveFileName(
                self, "Export training script",
                str(self.root / "training" / f"{profile.name}.sh"), "Shell scripts (*.sh)")
            if not chosen:
                return None
            path = Path(chosen)
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(plan.script(), encoding="utf-8")
            path.chmod(path.stat().st_mode | stat.S_IXUSR | stat.S_IXGRP | stat.S_IXOTH)
        except OSError as exc:
            self._notice(f"Could not write {path}: {exc}", ERROR_COLOR)
            return None
        self._notice(f"Wrote {len(plan.steps)} step{'s' * (len(plan.steps) != 1)} to {path}",
                     OK_COLOR)
        return path

    def _open_run_folder(self) -> None:
        start = str(self.plan.output_dir) if self.plan is not None else str(self.root)
        folder = QFileDialog.getExistingDirectory(self, "Open a training run's output folder",
                                                  start)
        if folder:
            self.open_run_folder(Path(folder))

    def open_run_folder(self, folder: Path) -> None:
        """Show a finished run's samples in the gallery (kept until the next run starts)."""
        self._gallery_pinned = True
        self.gallery.open_folder(folder)
        self.tabs.setCurrentWidget(self.gallery)

    def shutdown(self) -> None:
        """Stop timers and decoding; a runner this panel made is cancelled and waited for."""
        for timer in (self._replan_timer, self._drain_timer, self._clock):
            timer.stop()
        self.gallery.shutdown()
        self.shutdown_runner()


def _mono_font() -> QFont:
    font = QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont)
    font.setPointSizeF(max(8.5, font.pointSizeF() - 0.5))
    return font


__all__ = ["FIELDS", "FieldEditor", "LineChannel", "TrainPanel", "commands_text",
           "failure_hint", "prompt_texts", "run_training", "state_folders"]
