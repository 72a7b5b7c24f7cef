"""The Caption tab: a vision-language model captions clips and images, live, as a job.

The form holds the backend (a local transformers model or an OpenAI-compatible server) with its
settings, the trigger phrase and the image and video prompts (defaults from the core, edited
here and saved in the project's settings), the sampling of frames and which items to caption.
Start takes a snapshot of the form on this thread as plain values and runs `caption_job` on a
`JobRunner` thread (kind 'caption', so it shows in the jobs panel too); the model is loaded
there. Each caption crosses back through a queued signal the moment it is saved and appears in
the list; `caption_saved` tells the window which clip or image to refresh. What stopped a run
(a model that does not load, a refused key, a server that is gone) is shown in a banner, and
items that failed are listed in red.

What a run may not carry over: `trust_remote_code` is asked for per run and never saved.
"""

from __future__ import annotations

import importlib.util
import os
import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from PySide6.QtCore import QEvent, QObject, Qt, QTimer, Signal, Slot
from PySide6.QtGui import QColor
from PySide6.QtWidgets import (
    QAbstractItemView,
    QCheckBox,
    QComboBox,
    QDockWidget,
    QDoubleSpinBox,
    QFileDialog,
    QFormLayout,
    QFrame,
    QGridLayout,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QMessageBox,
    QPlainTextEdit,
    QProgressBar,
    QPushButton,
    QSizePolicy,
    QSpinBox,
    QStackedWidget,
    QTabWidget,
    QToolButton,
    QTreeWidget,
    QTreeWidgetItem,
    QVBoxLayout,
    QWidget,
)

from curator.core.captioning import CaptionReport, CaptionResult, Sampling, run_caption_job
from curator.core.captioning.openai_backend import API_KEY_ENVS, DEFAULT_URL
from curator.core.captioning.prompts import TRIGGER_FIELD, default_prompt
from curator.core.catalog import Catalog
from curator.core.jobs import NEVER_CANCELLED, CancelToken, Progress, ProgressFn, ignore_progress
from curator.gui.theme import ERROR_COLOR, MUTED_COLOR, OK_COLOR, WARNING_COLOR
from curator.gui.widgets.job_bar import JobTab
from curator.gui.workers import JobHandle, JobRunner, format_eta

#: Form edits are saved to the project this long after the last change.
SAVE_DELAY_MS = 700
#: The origin column's width in the live list; long model ids are elided (full in the tooltip).
ORIGIN_WIDTH = 170

BACKENDS = (("transformers", "Local model (transformers)"),
            ("openai", "OpenAI-compatible server"))
#: Which decisions are captioned: stable id -> label. `active` = everything but rejected.
STATUS_CHOICES = (("active", "Accepted and pending"), ("accepted", "Accepted only"),
                  ("pending", "Pending only"), ("all", "All, rejected too"))
ITEM_CHOICES = (("both", "Clips and images"), ("clips", "Clips only"),
                ("images", "Images only"), ("selected", "Clips selected in the browser"))
DEVICES = ("auto", "cuda", "cpu", "mps")
DTYPES = ("auto", "bfloat16", "float16", "float32")
QUANTIZE = (("", "none"), ("4bit", "4-bit (bitsandbytes)"), ("8bit", "8-bit (bitsandbytes)"))
ATTENTION = ("auto", "sdpa", "eager", "flash_attention_2")
VIDEO_MODES = (("images", "Frames as JPEG images"), ("video_url", "One MP4 (video_url, vLLM)"))
REPO_MODELS_DIR = Path(__file__).resolve().parents[3] / "models"

_EXCEPTION_LINE = re.compile(r"^[A-Za-z_][\w.]*(?:Error|Exception|Interrupt|Exit)\b")


PANEL_STYLE = """
#captionJobPanel QLabel[role="section"] { color: #8b949e; font-weight: 700; padding-top: 4px; }
#captionJobPanel QLabel[role="hint"] { color: #8b949e; }
#captionJobPanel QFrame[role="card"] { background: #1c2128; border: 1px solid #262c34;
    border-radius: 6px; }
#captionJobPanel QFrame[role="card"] QLabel { background: transparent; }
#captionJobPanel QLabel#runStatus { font-weight: 600; }
#captionJobPanel QLabel#errorBanner { background: #3d1d20; border: 1px solid #da3633;
    color: #ffdcd7; border-radius: 5px; padding: 6px 10px; }
#captionJobPanel QLabel#errorBanner[level="warning"] { background: #332a12;
    border-color: #9e6a03; color: #f0d28a; }
#captionJobPanel QProgressBar { border: 1px solid #30363d; border-radius: 5px;
    background: #0d1117; min-height: 18px; max-height: 18px; text-align: center; }
#captionJobPanel QProgressBar::chunk { background: #1f6feb; border-radius: 4px; }
#captionJobPanel QProgressBar[state="done"]::chunk { background: #238636; }
#captionJobPanel QProgressBar[state="failed"]::chunk { background: #da3633; }
#captionJobPanel QProgressBar[state="cancelled"]::chunk { background: #9e6a03; }
#captionJobPanel QPushButton#startButton { background: #238636; border-color: #2ea043;
    color: white; font-weight: 600; padding: 5px 18px; }
#captionJobPanel QPushButton#startButton:hover { background: #2ea043; }
#captionJobPanel QPushButton#startButton:disabled { background: #21262d; border-color: #30363d;
    color: #6e7681; }
#captionJobPanel QPushButton#cancelButton:enabled { border-color: #da3633; color: #f85149; }
#captionJobPanel QCheckBox::indicator { width: 14px; height: 14px; border: 1px solid #6e7681;
    border-radius: 3px; background: #0d1117; }
#captionJobPanel QCheckBox::indicator:checked { background: #2f81f7; border-color: #2f81f7;
    image: none; }
#captionJobPanel QCheckBox::indicator:disabled { border-color: #30363d; background: #161b22; }
#captionJobPanel QTreeWidget#liveCaptions { background: #0d1117; border: 1px solid #30363d;
    border-radius: 4px; }
#captionJobPanel QTreeWidget#liveCaptions::item { padding: 2px 0px; }
#captionJobPanel QTabWidget::pane { border: 1px solid #30363d; border-top: none; }
#captionJobPanel QPlainTextEdit { border-top-left-radius: 0px; border-top-right-radius: 0px; }
"""


# --- plain values and the job (no Qt below this line until the widgets) ----------------------

@dataclass(frozen=True)
class SavedCaption:
    """A caption the run saved, as `caption_saved` carries it (what the window refreshes)."""

    clip_id: int | None
    image_id: int | None
    name: str
    text: str
    origin: str
    caption_id: int

    @classmethod
    def from_result(cls, result: CaptionResult) -> SavedCaption:
        clip = result.kind == "clip"
        return cls(clip_id=result.id if clip else None, image_id=None if clip else result.id,
                   name=result.name, text=result.text, origin=result.origin,
                   caption_id=result.caption_id)

    @property
    def label(self) -> str:
        return f"Clip {self.clip_id}" if self.clip_id is not None else f"Image {self.image_id}"


def select_items(catalog: Catalog, *, status: str = "active", items: str = "both",
                 clip_ids: Sequence[int] | None = None) -> tuple[list[int], list[int]]:
    """The clip and image ids a run covers, in catalog order.

    Args:
        catalog: the project's catalog.
        status: 'active' (accepted and pending), 'accepted', 'pending' or 'all'.
        items: 'both', 'clips', 'images' or 'selected' (only `clip_ids`).
        clip_ids: the clips chosen in the browser, for 'selected'.

    Returns:
        (clip ids, image ids).
    """
    def keep(row: Any) -> bool:
        if status == "all":
            return True
        if status == "active":
            return row.decision != "rejected"
        return row.decision == status

    if items == "selected":
        return [row.id for row in catalog.list_clips(ids=list(clip_ids or ())) if keep(row)], []
    clips = [row.id for row in catalog.list_clips() if keep(row)] if items != "images" else []
    images = [row.id for row in catalog.list_images() if keep(row)] if items != "clips" else []
    return clips, images


def caption_job(catalog: Catalog, *, backend: str, backend_settings: dict[str, Any],
                status: str = "active", items: str = "both",
                clip_ids: Sequence[int] | None = None, prompts: dict[str, str] | None = None,
                trigger: str | None = None, sampling: dict[str, Any] | None = None,
                only_missing: bool = True, overwrite_manual: bool = False,
                batch_size: int | None = None,
                on_caption: Callable[[CaptionResult], None] | None = None,
                progress: ProgressFn = ignore_progress,
                cancel: CancelToken = NEVER_CANCELLED) -> CaptionReport:
    """The Caption tab's job: choose the items, then `run_caption_job` (model loaded here).

    Choosing reads every clip row, so it happens on the worker thread, not in the form.

    Returns:
        The `CaptionReport` (empty when nothing matched).
    """
    progress(Progress(done=0, total=None, message="choosing what to caption"))
    clips, images = select_items(catalog, status=status, items=items, clip_ids=clip_ids)
    if not clips and not images:
        return CaptionReport()
    # The JobRunner records this run in the catalog already: one job row per run.
    return run_caption_job(catalog, backend=backend, backend_settings=backend_settings,
                           record_job=False,
                           clip_ids=clips, image_ids=images, prompts=prompts, trigger=trigger,
                           sampling=sampling, only_missing=only_missing,
                           overwrite_manual=overwrite_manual, batch_size=batch_size,
                           on_caption=on_caption, progress=progress, cancel=cancel)


def model_folders(roots: Iterable[Path]) -> list[str]:
    """Model folders (holding a config.json) directly inside `roots`, for the model list."""
    found: list[str] = []
    for root in roots:
        try:
            children = sorted(root.iterdir())
        except OSError:
            continue
        found += [str(child) for child in children if (child / "config.json").is_file()]
    return found


def summary_text(report: CaptionReport | None, status: str) -> str:
    """One line saying how a run ended, for the status label."""
    if report is None:
        return "Stopped by an error" if status == "failed" else status.capitalize()
    parts = [f"{report.done} captioned"]
    if report.skipped:
        parts.append(f"{report.skipped} already had one")
    if report.skipped_manual:
        parts.append(f"{report.skipped_manual} kept as written by hand")
    if report.failed:
        parts.append(f"{len(report.failed)} failed")
    if report.retried:
        parts.append(f"{report.retried} asked again")
    head = {"done": "Finished", "cancelled": "Cancelled", "failed": "Stopped"}.get(status, status)
    untouched = report.done == 0 and not report.failed and not report.skipped \
        and not report.skipped_manual
    if untouched and status == "done":
        return "Nothing to caption: no clips or images match"
    if untouched and status == "failed":
        return "Stopped before captioning anything"
    timing = ""
    if report.wall_seconds:
        seconds = report.wall_seconds
        timing = f" in {seconds:.1f} s" if seconds < 60 else f" in {format_eta(seconds)}"
    return f"{head}{timing}: " + ", ".join(parts)


def crash_reason(log: Sequence[str]) -> str:
    """The line of a job's log that says why it crashed: the traceback's exception line."""
    for line in reversed(log):
        if _EXCEPTION_LINE.match(line.strip()):
            return line.strip()
    return "an unexpected error"


def short_origin(origin: str) -> str:
    """A caption origin as the list shows it: 'openai:Qwen/Qwen2.5-VL-7B' -> 'Qwen2.5-VL-7B'."""
    name = origin.split(":", 1)[-1]
    return name.rstrip("/").rsplit("/", 1)[-1] or origin


def _optional(module: str) -> bool:
    return importlib.util.find_spec(module) is not None


def _html(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


# --- widgets ---------------------------------------------------------------------------------

class _CaptionRelay(QObject):
    """Lives on the GUI thread; the worker emits `made` and the slot runs here (queued)."""

    made = Signal(object)  # CaptionResult


def _section(text: str) -> QLabel:
    label = QLabel(text.upper())
    label.setProperty("role", "section")
    return label


def _hint(text: str = "") -> QLabel:
    label = QLabel(text)
    label.setProperty("role", "hint")
    label.setWordWrap(True)
    return label


def _combo(choices: Sequence[tuple[str, str]] | Sequence[str], name: str) -> QComboBox:
    combo = QComboBox()
    combo.setObjectName(name)
    for choice in choices:
        value, label = choice if isinstance(choice, tuple) else (choice, choice)
        combo.addItem(label, value)
    return combo


def _set_combo(combo: QComboBox, value: Any) -> None:
    index = combo.findData(value)
    if index < 0 and combo.isEditable() and value not in (None, ""):
        combo.setEditText(str(value))
    elif index >= 0:
        combo.setCurrentIndex(index)


def _combo_value(combo: QComboBox) -> str:
    if combo.isEditable():
        text = combo.currentText().strip()
        index = combo.findText(text)
        return str(combo.itemData(index)) if index >= 0 and combo.itemData(index) else text
    return str(combo.currentData() or "")


def _spin(minimum: int, maximum: int, name: str, step: int = 1, suffix: str = "") -> QSpinBox:
    spin = QSpinBox()
    spin.setObjectName(name)
    spin.setRange(minimum, maximum)
    spin.setSingleStep(step)
    spin.setGroupSeparatorShown(True)
    spin.setSuffix(suffix)
    spin.setMinimumWidth(96)
    return spin


def _form() -> QFormLayout:
    form = QFormLayout()
    form.setContentsMargins(0, 0, 0, 0)
    form.setHorizontalSpacing(10)
    form.setVerticalSpacing(6)
    form.setLabelAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
    form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)
    return form


def _card(name: str) -> tuple[QFrame, QVBoxLayout]:
    frame = QFrame()
    frame.setObjectName(name)
    frame.setProperty("role", "card")
    layout = QVBoxLayout(frame)
    layout.setContentsMargins(12, 8, 12, 10)
    layout.setSpacing(6)
    return frame, layout


class CaptionJobPanel(JobTab):
    """Caption clips and images with a VLM; settings per project, captions appearing live."""

    caption_saved = Signal(object)  # SavedCaption (has clip_id / image_id)
    run_started = Signal(object)  # JobHandle
    run_finished = Signal(object)  # JobHandle (its .report is the CaptionReport)

    def __init__(self, project: Any = None, catalog: Catalog | None = None,
                 job_runner: JobRunner | None = None, parent: QWidget | None = None) -> None:
        if catalog is None:
            if project is None:
                raise ValueError("CaptionJobPanel needs a project or a catalog")
            catalog = project.catalog
        super().__init__("captionJobPanel", PANEL_STYLE, catalog=catalog,
                         job_runner=job_runner, parent=parent)
        self.project = project
        self.handle: JobHandle | None = None
        #: Returns the clip ids selected in the browser; by default the window's browser.
        self.selection_provider: Callable[[], list[int]] | None = None
        self._loading = False
        self._dirty = False
        self._confirm_box: QMessageBox | None = None
        self._relay = _CaptionRelay(self)
        self._relay.made.connect(self._on_caption_made)
        self._save_timer = QTimer(self)
        self._save_timer.setSingleShot(True)
        self._save_timer.setInterval(SAVE_DELAY_MS)
        self._save_timer.timeout.connect(self.save_settings)

        self._build()
        self.load_settings()
        self.runner.job_updated.connect(self._on_job_updated)
        self._update_buttons()

    # --- building --------------------------------------------------------------------------

    def _build(self) -> None:
        outer = QHBoxLayout(self)
        outer.setContentsMargins(8, 8, 8, 8)
        outer.setSpacing(8)
        model_card = self._build_model_card()
        prompt_card = self._build_prompt_card()
        run_card = self._build_run_card()
        outer.addWidget(model_card, 0)
        outer.addWidget(prompt_card, 4)
        outer.addWidget(run_card, 5)
        for widget in self.findChildren(QLineEdit):
            widget.textChanged.connect(self._changed)
        for widget in self.findChildren(QPlainTextEdit):
            widget.textChanged.connect(self._changed)
        for widget in self.findChildren(QComboBox):
            widget.currentIndexChanged.connect(self._changed)
        for widget in (*self.findChildren(QSpinBox), *self.findChildren(QDoubleSpinBox)):
            widget.valueChanged.connect(self._changed)

    def _build_model_card(self) -> QFrame:
        card, layout = _card("modelCard")
        card.setMinimumWidth(360)
        card.setMaximumWidth(460)
        layout.addWidget(_section("Model"))
        top = _form()
        self.backend_combo = _combo(BACKENDS, "backendCombo")
        self.backend_combo.currentIndexChanged.connect(self._on_backend_changed)
        top.addRow("Backend", self.backend_combo)
        layout.addLayout(top)

        self.backend_pages = QStackedWidget()
        self.backend_pages.setObjectName("backendPages")
        self.backend_pages.addWidget(self._build_transformers_page())
        self.backend_pages.addWidget(self._build_openai_page())
        layout.addWidget(self.backend_pages)

        layout.addWidget(_section("Sampling"))
        grid = QGridLayout()
        grid.setHorizontalSpacing(10)
        grid.setVerticalSpacing(6)
        self.fps_spin = QDoubleSpinBox()
        self.fps_spin.setObjectName("fpsSpin")
        self.fps_spin.setRange(0.0, 60.0)
        self.fps_spin.setDecimals(2)
        self.fps_spin.setSingleStep(0.5)
        self.fps_spin.setSpecialValueText("evenly")
        self.fps_spin.setSuffix(" fps")
        self.fps_spin.setToolTip("Frames per second taken from a clip; 0 spreads the maximum "
                                 "number of frames evenly over it")
        self.max_frames_spin = _spin(1, 256, "maxFramesSpin")
        self.max_frames_spin.setToolTip("The most frames a clip is shown as")
        self.max_pixels_spin = _spin(64 * 64, 4096 * 4096, "maxPixelsSpin", step=16384)
        self.max_pixels_spin.setToolTip("Each frame is scaled down (aspect kept) to at most this "
                                        "many pixels: 230,400 is 640×360")
        self.image_pixels_spin = _spin(64 * 64, 8192 * 8192, "imagePixelsSpin", step=65536)
        self.image_pixels_spin.setToolTip("The pixel budget of a still image")
        self.max_tokens_spin = _spin(8, 8192, "maxTokensSpin", step=16)
        self.max_tokens_spin.setToolTip("The longest caption, in tokens")
        self.batch_spin = _spin(1, 64, "batchSpin")
        self.batch_spin.setToolTip("Clips given to a local model at once (left-padded batch); "
                                   "1 is fastest on a CPU")
        cells = (("Clip frames", self.fps_spin), ("Max frames", self.max_frames_spin),
                 ("Frame pixels", self.max_pixels_spin), ("Image pixels", self.image_pixels_spin),
                 ("New tokens", self.max_tokens_spin), ("Batch", self.batch_spin))
        for index, (label, widget) in enumerate(cells):
            row, col = divmod(index, 2)
            text = QLabel(label)
            text.setAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
            grid.addWidget(text, row, col * 2)
            grid.addWidget(widget, row, col * 2 + 1)
        grid.setColumnStretch(1, 1)
        grid.setColumnStretch(3, 1)
        layout.addLayout(grid)
        layout.addStretch(1)
        return card

    def _build_transformers_page(self) -> QWidget:
        page = QWidget()
        form = _form()
        page.setLayout(form)
        self.model_combo = QComboBox()
        self.model_combo.setObjectName("modelCombo")
        self.model_combo.setEditable(True)
        self.model_combo.setInsertPolicy(QComboBox.InsertPolicy.NoInsert)
        self.model_combo.lineEdit().setPlaceholderText("models/Qwen2-VL-7B-Instruct or a hub id")
        self.model_combo.setToolTip("A model folder (save_pretrained or a hub snapshot) or a "
                                    "Hugging Face hub id when this machine has network")
        self.model_combo.setSizeAdjustPolicy(
            QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
        self.model_combo.setMinimumContentsLength(12)
        self.model_combo.currentTextChanged.connect(self._on_model_text_changed)
        browse = QToolButton()
        browse.setObjectName("browseModel")
        browse.setText("…")
        browse.setToolTip("Choose a model folder")
        browse.clicked.connect(self._browse_model)
        row = QHBoxLayout()
        row.setSpacing(4)
        row.addWidget(self.model_combo, 1)
        row.addWidget(browse)
        form.addRow("Model", row)

        self.device_combo = _combo(DEVICES, "deviceCombo")
        self.device_combo.setEditable(True)  # cuda:1 and the like
        self.device_combo.setToolTip("auto: CUDA when present, else Apple MPS, else the CPU")
        self.dtype_combo = _combo(DTYPES, "dtypeCombo")
        self.dtype_combo.setToolTip("auto: bfloat16 on a GPU that has it, float32 on the CPU")
        device_row = QHBoxLayout()
        device_row.setSpacing(6)
        device_row.addWidget(self.device_combo, 1)
        device_row.addWidget(QLabel("dtype"))
        device_row.addWidget(self.dtype_combo, 1)
        form.addRow("Device", device_row)

        self.quantize_combo = _combo(QUANTIZE, "quantizeCombo")
        self.attention_combo = _combo(ATTENTION, "attentionCombo")
        # Options that need a package not installed here are shown, but cannot be picked.
        if not _optional("bitsandbytes"):
            for index in (1, 2):
                self._disable_item(self.quantize_combo, index, "bitsandbytes is not installed")
        if not _optional("flash_attn"):
            self._disable_item(self.attention_combo, ATTENTION.index("flash_attention_2"),
                               "flash-attn is not installed")
        self.attention_combo.setToolTip("auto: flash-attention 2 when installed on a GPU, "
                                        "else PyTorch SDPA")
        quant_row = QHBoxLayout()
        quant_row.setSpacing(6)
        quant_row.addWidget(self.quantize_combo, 1)
        quant_row.addWidget(QLabel("attention"))
        quant_row.addWidget(self.attention_combo, 1)
        form.addRow("Quantize", quant_row)

        self.threads_spin = _spin(0, 256, "threadsSpin")
        self.threads_spin.setSpecialValueText("PyTorch's choice")
        self.threads_spin.setToolTip("PyTorch threads when the model runs on the CPU")
        form.addRow("CPU threads", self.threads_spin)

        self.trust_check = QCheckBox("Trust remote code (this run)")
        self.trust_check.setObjectName("trustRemoteCode")
        self.trust_check.setToolTip("Runs Python code shipped with the model. Only for a model "
                                    "from a source you trust; asked again for every run, "
                                    "never saved.")
        self.release_button = QPushButton("Unload model")
        self.release_button.setObjectName("releaseModels")
        self.release_button.setToolTip("Free the memory of the models kept loaded between runs")
        self.release_button.clicked.connect(self.release_models)
        extra = QHBoxLayout()
        extra.setSpacing(6)
        extra.addWidget(self.trust_check, 1)
        extra.addWidget(self.release_button)
        form.addRow("", extra)
        return page

    def _build_openai_page(self) -> QWidget:
        page = QWidget()
        form = _form()
        page.setLayout(form)
        self.url_edit = QLineEdit()
        self.url_edit.setObjectName("urlEdit")
        self.url_edit.setPlaceholderText(DEFAULT_URL)
        self.url_edit.setClearButtonEnabled(True)
        self.url_edit.setToolTip("The server's OpenAI base URL: vLLM, llama.cpp server, Ollama "
                                 "(http://host:11434/v1), LM Studio")
        form.addRow("Base URL", self.url_edit)
        self.server_model_edit = QLineEdit()
        self.server_model_edit.setObjectName("serverModelEdit")
        self.server_model_edit.setPlaceholderText("the model name the server serves")
        self.server_model_edit.setClearButtonEnabled(True)
        form.addRow("Model", self.server_model_edit)
        self.key_env_edit = QLineEdit()
        self.key_env_edit.setObjectName("keyEnvEdit")
        self.key_env_edit.setPlaceholderText(" or ".join(API_KEY_ENVS))
        self.key_env_edit.setToolTip("The environment variable holding the API key; the key "
                                     "itself is never stored")
        self.key_env_edit.textChanged.connect(self._show_key_state)
        self.key_state = _hint()
        self.key_state.setObjectName("keyState")
        key_box = QVBoxLayout()
        key_box.setSpacing(2)
        key_box.addWidget(self.key_env_edit)
        key_box.addWidget(self.key_state)
        form.addRow("API key from", key_box)
        self.concurrency_spin = _spin(1, 256, "concurrencySpin")
        self.concurrency_spin.setToolTip("Requests the server works on at once")
        self.timeout_spin = _spin(5, 3600, "timeoutSpin", step=10, suffix=" s")
        self.timeout_spin.setToolTip("How long to wait for one answer before trying again")
        flight = QHBoxLayout()
        flight.setSpacing(6)
        flight.addWidget(self.concurrency_spin, 1)
        flight.addWidget(QLabel("timeout"))
        flight.addWidget(self.timeout_spin, 1)
        form.addRow("In flight", flight)
        self.video_mode_combo = _combo(VIDEO_MODES, "videoModeCombo")
        self.video_mode_combo.setToolTip("llama.cpp and Ollama need images; vLLM serving a "
                                         "Qwen VL model takes a whole MP4")
        form.addRow("Clips as", self.video_mode_combo)
        return page

    def _build_prompt_card(self) -> QFrame:
        card, layout = _card("promptCard")
        layout.addWidget(_section("Prompt"))
        trigger_row = QHBoxLayout()
        trigger_row.setSpacing(8)
        trigger_row.addWidget(QLabel("Trigger phrase"))
        self.trigger_edit = QLineEdit()
        self.trigger_edit.setObjectName("triggerEdit")
        self.trigger_edit.setPlaceholderText("e.g. Ghibli style.")
        self.trigger_edit.setToolTip("Every caption starts with this phrase, exactly once; "
                                     "it replaces {trigger} in the prompts")
        self.trigger_edit.textChanged.connect(self._check_prompts)
        trigger_row.addWidget(self.trigger_edit, 1)
        layout.addLayout(trigger_row)

        self.prompt_tabs = QTabWidget()
        self.prompt_tabs.setObjectName("promptTabs")
        self.prompt_tabs.setDocumentMode(False)
        self.prompt_edits: dict[str, QPlainTextEdit] = {}
        for kind, title in (("video", "Clips"), ("image", "Images")):
            edit = QPlainTextEdit()
            edit.setObjectName(f"{kind}Prompt")
            edit.setPlaceholderText(f"The {kind} prompt; {TRIGGER_FIELD} is replaced by the "
                                    "trigger phrase")
            edit.textChanged.connect(self._check_prompts)
            self.prompt_edits[kind] = edit
            self.prompt_tabs.addTab(edit, title)
        layout.addWidget(self.prompt_tabs, 1)

        under = QHBoxLayout()
        under.setSpacing(8)
        self.prompt_note = _hint()
        self.prompt_note.setObjectName("promptNote")
        self.prompt_note.setTextFormat(Qt.TextFormat.RichText)
        under.addWidget(self.prompt_note, 1)
        self.reset_prompt_button = QPushButton("Reset to default")
        self.reset_prompt_button.setObjectName("resetPrompt")
        self.reset_prompt_button.setToolTip("Put back the shipped prompt of this tab")
        self.reset_prompt_button.clicked.connect(self.reset_prompt)
        under.addWidget(self.reset_prompt_button, 0, Qt.AlignmentFlag.AlignTop)
        layout.addLayout(under)
        self.prompt_tabs.currentChanged.connect(lambda _i: self._check_prompts())
        return card

    def _build_run_card(self) -> QFrame:
        card, layout = _card("runCard")
        layout.addWidget(_section("Run"))
        form = _form()
        self.items_combo = _combo(ITEM_CHOICES, "itemsCombo")
        self.status_combo = _combo(STATUS_CHOICES, "statusCombo")
        which = QHBoxLayout()
        which.setSpacing(6)
        which.addWidget(self.items_combo, 1)
        which.addWidget(self.status_combo, 1)
        form.addRow("Caption", which)
        self.only_missing_combo = QComboBox()
        self.only_missing_combo.setObjectName("onlyMissingCombo")
        self.only_missing_combo.addItem("Only those without a caption (resumes a run)", True)
        self.only_missing_combo.addItem("All of them again (new versions)", False)
        self.only_missing_combo.currentIndexChanged.connect(lambda _i: self._update_buttons())
        form.addRow("Which", self.only_missing_combo)
        self.overwrite_check = QCheckBox("Also replace captions written by hand")
        self.overwrite_check.setObjectName("overwriteManual")
        self.overwrite_check.setToolTip("Captions people wrote are kept unless this is on; "
                                        "replaced ones stay in the caption history")
        self.overwrite_check.clicked.connect(self._on_overwrite_clicked)
        form.addRow("", self.overwrite_check)
        layout.addLayout(form)

        bar = QHBoxLayout()
        bar.setSpacing(6)
        self.start_button = QPushButton("Start captioning")
        self.start_button.setObjectName("startButton")
        self.start_button.clicked.connect(lambda: self.start())
        self.cancel_button = QPushButton("Cancel")
        self.cancel_button.setObjectName("cancelButton")
        self.cancel_button.setToolTip("Stop after the item in flight; what is saved stays saved, "
                                      "and a new run resumes")
        self.cancel_button.clicked.connect(self.cancel)
        self.progress_bar = QProgressBar()
        self.progress_bar.setObjectName("captionProgress")
        self.progress_bar.setFormat("%v / %m")
        self._idle_bar()
        bar.addWidget(self.start_button)
        bar.addWidget(self.cancel_button)
        bar.addWidget(self.progress_bar, 1)
        layout.addLayout(bar)
        self.status_label = QLabel("Ready")
        self.status_label.setObjectName("runStatus")
        self.status_label.setWordWrap(True)
        self.status_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        layout.addWidget(self.status_label)
        self.error_banner = QLabel()
        self.error_banner.setObjectName("errorBanner")
        self.error_banner.setWordWrap(True)
        self.error_banner.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.error_banner.hide()
        layout.addWidget(self.error_banner)

        self.live = QTreeWidget()
        self.live.setObjectName("liveCaptions")
        self.live.setColumnCount(3)
        self.live.setHeaderLabels(["Item", "Caption", "Origin"])
        self.live.setRootIsDecorated(False)
        self.live.setUniformRowHeights(True)
        self.live.setAlternatingRowColors(True)
        self.live.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.live.setTextElideMode(Qt.TextElideMode.ElideRight)
        header = self.live.header()
        header.setStretchLastSection(False)
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(1, QHeaderView.ResizeMode.Stretch)
        header.setSectionResizeMode(2, QHeaderView.ResizeMode.Interactive)
        header.resizeSection(2, ORIGIN_WIDTH)
        self.live.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)
        self.live.setMinimumHeight(120)
        # Said in the empty list itself, so the space never looks broken before a run.
        self.live_placeholder = QLabel("Captions appear here as they are made",
                                       self.live.viewport())
        self.live_placeholder.setObjectName("livePlaceholder")
        self.live_placeholder.setProperty("role", "hint")
        self.live_placeholder.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.live.viewport().installEventFilter(self)
        self.live.model().rowsInserted.connect(self._update_placeholder)
        self.live.model().modelReset.connect(self._update_placeholder)
        self.live.model().rowsRemoved.connect(self._update_placeholder)
        layout.addWidget(self.live, 1)
        return card

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:  # noqa: N802 - Qt API
        if watched is self.live.viewport() and event.type() == QEvent.Type.Resize:
            self.live_placeholder.setGeometry(self.live.viewport().rect())
        return super().eventFilter(watched, event)

    def _update_placeholder(self, *_args: object) -> None:
        self.live_placeholder.setVisible(self.live.topLevelItemCount() == 0)

    @staticmethod
    def _disable_item(combo: QComboBox, index: int, why: str) -> None:
        item = combo.model().item(index)  # a QStandardItemModel for a plain combo
        if item is not None:
            item.setEnabled(False)
            item.setToolTip(why)
            item.setText(f"{item.text()} — not installed")

    # --- settings --------------------------------------------------------------------------

    def load_settings(self) -> None:
        """Fill the form from the project's settings (defaults where none are stored)."""
        settings = self.catalog.settings()
        stored: dict[str, Any] = dict(settings.caption or {})
        panel: dict[str, Any] = dict(stored.get("panel") or {})
        models: dict[str, str] = dict(panel.get("models") or {})
        sampling = Sampling()
        backend = stored.get("backend") or "transformers"
        if stored.get("model") and backend not in models:
            models[backend] = stored["model"]
        self._loading = True
        try:
            _set_combo(self.backend_combo, backend)
            self._fill_model_list()
            self.model_combo.setEditText(models.get("transformers", ""))
            self.server_model_edit.setText(models.get("openai", ""))
            _set_combo(self.device_combo, stored.get("device") or "auto")
            _set_combo(self.dtype_combo, stored.get("dtype") or "auto")
            _set_combo(self.quantize_combo, stored.get("quantize") or "")
            _set_combo(self.attention_combo, stored.get("attention") or "auto")
            self.threads_spin.setValue(int(stored.get("threads") or 0))
            self.url_edit.setText(stored.get("url") or "")
            self.key_env_edit.setText(stored.get("api_key_env") or "")
            self.concurrency_spin.setValue(int(stored.get("concurrency") or 4))
            self.timeout_spin.setValue(int(stored.get("timeout") or 120))
            _set_combo(self.video_mode_combo, stored.get("video_mode") or "images")
            fps = stored.get("fps", sampling.fps)
            self.fps_spin.setValue(float(fps or 0.0))
            self.max_frames_spin.setValue(int(stored.get("max_frames") or sampling.max_frames))
            self.max_pixels_spin.setValue(int(stored.get("max_pixels") or sampling.max_pixels))
            self.image_pixels_spin.setValue(
                int(stored.get("image_max_pixels") or sampling.image_max_pixels))
            self.max_tokens_spin.setValue(int(stored.get("max_new_tokens") or 320))
            self.batch_spin.setValue(int(panel.get("batch_size") or stored.get("batch_size") or 1))
            _set_combo(self.items_combo, panel.get("items") or "both")
            _set_combo(self.status_combo, panel.get("status") or "active")
            _set_combo(self.only_missing_combo, bool(panel.get("only_missing", True)))
            self.overwrite_check.setChecked(False)  # asked each time, as trust_remote_code
            self.trust_check.setChecked(False)
            self.trigger_edit.setText(settings.trigger or "")
            self.prompt_edits["image"].setPlainText(settings.image_prompt
                                                    or default_prompt("image"))
            self.prompt_edits["video"].setPlainText(settings.video_prompt
                                                    or default_prompt("video"))
        finally:
            self._loading = False
        self._dirty = False
        self._on_backend_changed()
        self._show_key_state()
        self._check_prompts()

    def stored_values(self) -> dict[str, Any]:
        """The form as the project's `caption` settings (the keys `curator caption` reads)."""
        backend = self.backend()
        values: dict[str, Any] = {
            "backend": backend,
            "model": self._model_text(backend),
            "device": _combo_value(self.device_combo) or "auto",
            "dtype": _combo_value(self.dtype_combo) or "auto",
            "quantize": _combo_value(self.quantize_combo) or None,
            "attention": _combo_value(self.attention_combo) or "auto",
            "threads": self.threads_spin.value() or None,
            "url": self.url_edit.text().strip() or None,
            "api_key_env": self.key_env_edit.text().strip() or None,
            "concurrency": self.concurrency_spin.value(),
            "timeout": self.timeout_spin.value(),
            "video_mode": _combo_value(self.video_mode_combo),
            "fps": self.fps_spin.value(),
            "max_frames": self.max_frames_spin.value(),
            "max_pixels": self.max_pixels_spin.value(),
            "image_max_pixels": self.image_pixels_spin.value(),
            "max_new_tokens": self.max_tokens_spin.value(),
            # The CLI gives a stored batch size to either backend; a server's batch is its
            # number of requests in flight, so only a local model's is stored where it reads.
            "batch_size": self.batch_spin.value() if backend == "transformers" else None,
            "panel": {
                "models": {"transformers": self._model_text("transformers"),
                           "openai": self._model_text("openai")},
                "batch_size": self.batch_spin.value(),
                "items": _combo_value(self.items_combo),
                "status": _combo_value(self.status_combo),
                "only_missing": self.only_missing(),
            },
        }
        return values

    def prompt_texts(self) -> dict[str, str]:
        return {kind: edit.toPlainText().strip() for kind, edit in self.prompt_edits.items()}

    @Slot()
    def save_settings(self) -> None:
        """Write the form to the project's settings now (it is also saved after each edit)."""
        self._save_timer.stop()
        if not self._dirty:
            return
        stored = dict(self.catalog.settings().caption or {})
        stored.update(self.stored_values())  # keys the CLI stored (seed…) are kept
        prompts = self.prompt_texts()
        # The shipped default is stored as None, so a better default later reaches the project.
        changes = {f"{kind}_prompt": (None if not text or text == default_prompt(kind) else text)
                   for kind, text in prompts.items()}
        try:
            self.catalog.update_settings(caption=stored,
                                         trigger=self.trigger_edit.text().strip(), **changes)
        except Exception as exc:  # noqa: BLE001 - a locked or closed catalog: say so, keep the form
            self._show_error(f"Could not save the caption settings: {exc}", level="warning")
            return
        self._dirty = False

    def _changed(self, *_args: object) -> None:
        if self._loading:
            return
        self._dirty = True
        self._save_timer.start()
        self._update_buttons()

    # --- form helpers ----------------------------------------------------------------------

    def backend(self) -> str:
        return str(self.backend_combo.currentData())

    def only_missing(self) -> bool:
        return bool(self.only_missing_combo.currentData())

    def _model_text(self, backend: str) -> str:
        if backend == "transformers":
            return self.model_combo.currentText().strip()
        return self.server_model_edit.text().strip()

    def _fill_model_list(self) -> None:
        roots = [REPO_MODELS_DIR]
        if self.project is not None and getattr(self.project, "root", None) is not None:
            roots.insert(0, Path(self.project.root) / "models")
        text = self.model_combo.currentText()
        self.model_combo.blockSignals(True)
        self.model_combo.clear()
        for folder in model_folders(roots):
            self.model_combo.addItem(Path(folder).name, folder)
            self.model_combo.setItemData(self.model_combo.count() - 1, folder,
                                         Qt.ItemDataRole.ToolTipRole)
        self.model_combo.setCurrentIndex(-1)
        self.model_combo.setEditText(text)
        self.model_combo.blockSignals(False)

    def _browse_model(self) -> None:
        start = self.model_combo.currentText().strip()
        if not start or not Path(start).expanduser().is_dir():
            start = str(REPO_MODELS_DIR if REPO_MODELS_DIR.is_dir() else Path.home())
        chosen = QFileDialog.getExistingDirectory(self, "Model folder", start)
        if chosen:
            self.model_combo.setEditText(chosen)

    def _on_model_text_changed(self, _text: str) -> None:
        # Trusting a model's code is a choice about that model: another model asks again.
        self.trust_check.setChecked(False)
        if not self._loading:
            self._changed()

    def _on_backend_changed(self, *_args: object) -> None:
        local = self.backend() == "transformers"
        self.backend_pages.setCurrentIndex(0 if local else 1)
        self.backend_pages.setMaximumHeight(self.backend_pages.currentWidget().sizeHint().height())
        # A server's batch is its requests in flight; the field is for a local model only.
        self.batch_spin.setEnabled(local)
        self.batch_spin.setToolTip("Clips given to a local model at once; 1 is fastest on a CPU"
                                   if local else "A server's batch is its requests in flight")
        self._update_buttons()

    def _show_key_state(self, *_args: object) -> None:
        names = [self.key_env_edit.text().strip()] if self.key_env_edit.text().strip() \
            else list(API_KEY_ENVS)
        found = next((name for name in names if os.environ.get(name, "").strip()), None)
        if found:
            self.key_state.setText(f"<span style='color:{OK_COLOR}'>●</span> {found} is set")
        elif self.key_env_edit.text().strip():
            self.key_state.setText(f"<span style='color:{WARNING_COLOR}'>●</span> "
                                   f"{_html(names[0])} is not set: no key is sent")
        else:
            self.key_state.setText("No key set: none is sent (local servers need none)")

    def _check_prompts(self, *_args: object) -> None:
        """A note under the prompts: the prompt the model gets, or what is wrong with it."""
        trigger = self.trigger_edit.text().strip()
        kind = "video" if self.prompt_tabs.currentIndex() == 0 else "image"
        text = self.prompt_edits[kind].toPlainText().strip()
        self.reset_prompt_button.setEnabled(text != default_prompt(kind))
        if not text:
            note = (f"<span style='color:{WARNING_COLOR}'>● Empty: the default {kind} prompt "
                    "is used.</span>")
        elif not trigger:
            note = (f"<span style='color:{WARNING_COLOR}'>● No trigger phrase: captions will "
                    "not start with one.</span>")
        elif TRIGGER_FIELD not in text:
            note = (f"<span style='color:{WARNING_COLOR}'>● The prompt does not say "
                    f"{TRIGGER_FIELD}; the phrase is still put first in each caption.</span>")
        else:
            note = f"{TRIGGER_FIELD} → <b>{_html(trigger)}</b>"
        self.prompt_note.setText(note)

    def reset_prompt(self) -> None:
        """Put the shipped prompt back in the tab shown."""
        kind = "video" if self.prompt_tabs.currentIndex() == 0 else "image"
        self.prompt_edits[kind].setPlainText(default_prompt(kind))

    def _on_overwrite_clicked(self, checked: bool) -> None:
        if not checked:
            return
        # Ask before it counts: the box stays unchecked until the person says yes.
        self.overwrite_check.setChecked(False)
        if self._confirm_box is not None:
            self._confirm_box.raise_()
            return
        box = QMessageBox(QMessageBox.Icon.Warning, "Replace captions written by hand?",
                          "Captions people wrote will be replaced by the model's in this run."
                          "\n\nThe written ones stay in each item's caption history and can be "
                          "restored from there.",
                          QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.No, self)
        box.setObjectName("overwriteConfirm")
        box.button(QMessageBox.StandardButton.Yes).setText("Replace them")
        box.button(QMessageBox.StandardButton.No).setText("Keep them")
        box.setDefaultButton(QMessageBox.StandardButton.No)
        yes = box.button(QMessageBox.StandardButton.Yes)
        box.finished.connect(lambda _r: self._on_overwrite_answer(box.clickedButton() is yes))
        box.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        self._confirm_box = box
        box.open()

    def _on_overwrite_answer(self, replace: bool) -> None:
        self._confirm_box = None
        self.overwrite_check.setChecked(replace)

    def _selected_clip_ids(self) -> list[int]:
        provider = self.selection_provider
        widget = self.parentWidget()
        # The window's browser, found up the parents (window() would stop at a floating dock).
        while provider is None and widget is not None:
            provider = getattr(getattr(widget, "browser", None), "selected_ids", None)
            widget = widget.parentWidget()
        return list(provider()) if callable(provider) else []

    def _raise_own_dock(self) -> None:
        """Keep this tab in front: the window raises the Jobs tab whenever a job starts."""
        widget = self.parentWidget()
        while widget is not None and not isinstance(widget, QDockWidget):
            widget = widget.parentWidget()
        if widget is not None and self.isVisible():
            widget.raise_()

    # --- running ---------------------------------------------------------------------------

    @property
    def running(self) -> bool:
        return self.handle is not None

    def snapshot(self) -> tuple[dict[str, Any], str | None]:
        """The run as plain values for `caption_job`, or a reason it cannot start."""
        backend = self.backend()
        model = self._model_text(backend)
        if not model:
            return {}, ("Choose a model folder or enter a hub id" if backend == "transformers"
                        else "Enter the model name the server serves")
        tokens_key = "max_new_tokens" if backend == "transformers" else "max_tokens"
        settings: dict[str, Any] = {"model": model, tokens_key: self.max_tokens_spin.value()}
        if backend == "transformers":
            quantize = _combo_value(self.quantize_combo)
            settings.update(device=_combo_value(self.device_combo) or "auto",
                            dtype=_combo_value(self.dtype_combo) or "auto",
                            quantization=quantize or None,
                            attn_implementation=_combo_value(self.attention_combo) or "auto",
                            batch_size=self.batch_spin.value(),
                            cpu_threads=self.threads_spin.value() or None,
                            trust_remote_code=self.trust_check.isChecked())
            batch_size: int | None = self.batch_spin.value()
        else:
            settings.update(url=self.url_edit.text().strip() or DEFAULT_URL,
                            api_key_env=self.key_env_edit.text().strip() or None,
                            concurrency=self.concurrency_spin.value(),
                            timeout=float(self.timeout_spin.value()),
                            video_mode=_combo_value(self.video_mode_combo))
            batch_size = None  # the server's: its requests in flight
        items = _combo_value(self.items_combo)
        clip_ids = None
        if items == "selected":
            clip_ids = self._selected_clip_ids()
            if not clip_ids:
                return {}, "No clips are selected in the browser"
        only_missing = self.only_missing()
        fps = self.fps_spin.value()
        values = {
            "backend": backend, "backend_settings": settings,
            "status": _combo_value(self.status_combo), "items": items, "clip_ids": clip_ids,
            "prompts": {k: v for k, v in self.prompt_texts().items() if v},
            "trigger": self.trigger_edit.text().strip(),
            "sampling": {"fps": fps if fps > 0 else None,
                         "max_frames": self.max_frames_spin.value(),
                         "max_pixels": self.max_pixels_spin.value(),
                         "image_max_pixels": self.image_pixels_spin.value()},
            "only_missing": only_missing,
            "overwrite_manual": self.overwrite_check.isChecked() and not only_missing,
            "batch_size": batch_size,
        }
        return values, None

    def start(self) -> JobHandle | None:
        """Start captioning with the form as it is now; None when something must be fixed."""
        if self.handle is not None:
            return None
        values, problem = self.snapshot()
        if problem is not None:
            self._show_error(problem, level="warning")
            return None
        self._dirty = True  # what ran is what the project remembers
        self.save_settings()
        self.live.clear()
        self._hide_error()
        self._set_bar_state("running")
        self.progress_bar.setTextVisible(False)
        self.progress_bar.setRange(0, 0)  # busy until the model is loaded and items counted
        name = Path(values["backend_settings"]["model"]).name or values["backend_settings"]["model"]
        self.status_label.setText(f"Loading {name}…" if values["backend"] == "transformers"
                                  else f"Connecting to {values['backend_settings']['url']}…")
        what = dict(ITEM_CHOICES)[values["items"]].lower()
        if values["items"] == "selected":
            what = f"{len(values['clip_ids'])} selected clip(s)"
        self.handle = self.runner.start(
            "caption", f"Caption {what} with {name}", caption_job,
            on_finished=self._on_finished, catalog=self.catalog,
            on_caption=self._relay.made.emit, **values)
        self.trust_check.setChecked(False)  # per run: the next run asks again
        self._raise_own_dock()  # the captions appearing are the point of watching
        self._update_buttons()
        self.run_started.emit(self.handle)
        return self.handle

    def cancel(self) -> None:
        """Stop after the item in flight; everything captioned so far is saved."""
        if self.handle is None:
            return
        self.runner.cancel(self.handle)
        self.status_label.setText("Cancelling after the item in flight…")
        self._set_bar_state("cancelled")
        self._update_buttons()

    def release_models(self) -> int:
        """Unload the local models kept between runs; returns how many were unloaded."""
        if self.handle is not None:
            return 0
        from curator.core.captioning.transformers_backend import release_models

        count = release_models()
        self.status_label.setText("No model was loaded" if not count
                                  else f"Unloaded {count} model(s)")
        return count

    @Slot(object)
    def _on_caption_made(self, result: CaptionResult) -> None:
        saved = SavedCaption.from_result(result)
        row = QTreeWidgetItem([saved.label, " ".join(saved.text.split()),
                               short_origin(saved.origin)])
        row.setData(0, Qt.ItemDataRole.UserRole, saved)
        row.setToolTip(0, saved.name)
        row.setToolTip(1, saved.text)
        row.setToolTip(2, saved.origin)
        row.setForeground(2, QColor(MUTED_COLOR))
        at_bottom = self.live.verticalScrollBar().value() >= self.live.verticalScrollBar().maximum()
        self.live.addTopLevelItem(row)
        if at_bottom:
            self.live.scrollToItem(row)
        self.caption_saved.emit(saved)

    def _on_job_updated(self, handle: JobHandle) -> None:
        if handle is not self.handle or handle.status == "cancelling":
            return
        progress = handle.progress
        if progress is None:
            return
        if progress.total is None:
            self.progress_bar.setRange(0, 0)
            if progress.message:
                self.status_label.setText(progress.message[:1].upper() + progress.message[1:]
                                          + "…")
            return
        self.progress_bar.setTextVisible(True)
        self.progress_bar.setRange(0, max(1, progress.total))
        self.progress_bar.setValue(progress.done)
        left = format_eta(handle.eta)
        text = f"Captioning: {progress.done} of {progress.total} done"
        if left and progress.done:
            text += f" · {left} left"
        if progress.item:
            text += f" · last: {progress.item}"
        self.status_label.setText(text)

    def _on_finished(self, handle: JobHandle) -> None:
        self.handle = None
        report = handle.report if isinstance(handle.report, CaptionReport) else None
        status = handle.status
        if report is not None and report.stopped:
            status = "failed"
        self.status_label.setText(summary_text(report, status))
        handled = report.done + len(report.failed) if report is not None else 0
        if report is None or (self.progress_bar.maximum() == 0 and not handled):
            self._idle_bar()  # it never got to an item: no count to show
        elif self.progress_bar.maximum() == 0:  # ended before the first count came
            self.progress_bar.setRange(0, handled)
            self.progress_bar.setValue(handled)
        elif status == "done":
            self.progress_bar.setValue(self.progress_bar.maximum())
        if report is not None:
            for failure in report.failed:
                row = QTreeWidgetItem([Path(failure.path).name, failure.reason, "failed"])
                row.setToolTip(0, failure.path)
                row.setToolTip(1, failure.reason)
                for column in range(3):
                    row.setForeground(column, QColor(ERROR_COLOR))
                self.live.addTopLevelItem(row)
            warnings = [w.reason for w in report.warnings]
        else:
            warnings = []
        if report is not None and report.stopped:
            self._show_error(f"Stopped: {report.stopped}")
        elif report is None and handle.status == "failed":
            self._show_error(f"The caption job crashed: {crash_reason(handle.log)} (the Jobs "
                             "tab has the full log)")
        elif warnings:
            self._show_error("; ".join(warnings), level="warning")
        self._set_bar_state(status if status in ("done", "failed", "cancelled") else "running")
        self._update_buttons()
        self.run_finished.emit(handle)

    def _show_error(self, text: str, level: str = "error") -> None:
        self.error_banner.setProperty("level", level)
        self.error_banner.style().unpolish(self.error_banner)
        self.error_banner.style().polish(self.error_banner)
        self.error_banner.setText(text)
        self.error_banner.show()

    def _hide_error(self) -> None:
        self.error_banner.hide()
        self.error_banner.setText("")

    def _idle_bar(self) -> None:
        self.progress_bar.setRange(0, 1)
        self.progress_bar.setValue(0)
        self.progress_bar.setTextVisible(False)

    def _set_bar_state(self, state: str) -> None:
        self.progress_bar.setProperty("state", state)
        self.progress_bar.style().unpolish(self.progress_bar)
        self.progress_bar.style().polish(self.progress_bar)

    def _update_buttons(self) -> None:
        running = self.handle is not None
        cancelling = running and self.handle.status == "cancelling"
        self.start_button.setEnabled(not running)
        self.cancel_button.setEnabled(running and not cancelling)
        self.release_button.setEnabled(not running)
        self.overwrite_check.setEnabled(not self.only_missing())
        if self.only_missing() and self.overwrite_check.isChecked():
            self.overwrite_check.setChecked(False)

    def shutdown(self) -> None:
        """Save pending edits; a runner this panel made is cancelled and waited for."""
        self.save_settings()
        self.shutdown_runner()


__all__ = ["CaptionJobPanel", "SavedCaption", "caption_job", "crash_reason", "model_folders",
           "select_items", "short_origin", "summary_text"]
