"""The Caption tab's form: small widget helpers and the model and prompt cards."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDoubleSpinBox,
    QFormLayout,
    QFrame,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QPlainTextEdit,
    QSpinBox,
    QStackedWidget,
    QTabWidget,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from curator.core.captioning.openai_backend import API_KEY_ENVS, DEFAULT_URL
from curator.core.captioning.prompts import TRIGGER_FIELD
from curator.core.captioning.request import package_installed
from curator.gui.tabs.caption.text import (
    ATTENTION,
    BACKENDS,
    DEVICES,
    DTYPES,
    QUANTIZE,
    VIDEO_MODES,
)
from curator.gui.widgets.layout import caption_row, line_edit, push_button


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


def _form_page() -> tuple[QWidget, QFormLayout]:
    """A backend's page of the stacked settings: a widget holding a form."""
    page = QWidget()
    form = _form()
    page.setLayout(form)
    return page, form


def _pair(left: QWidget, caption: str, right: QWidget) -> QHBoxLayout:
    """Two fields on one form row, the second led by its own small label (device | dtype)."""
    row = QHBoxLayout()
    row.setSpacing(6)
    row.addWidget(left, 1)
    row.addWidget(QLabel(caption))
    row.addWidget(right, 1)
    return row


def _card(name: str) -> tuple[QFrame, QVBoxLayout]:
    frame = QFrame()
    frame.setObjectName(name)
    frame.setProperty("role", "card")
    layout = QVBoxLayout(frame)
    layout.setContentsMargins(12, 8, 12, 10)
    layout.setSpacing(6)
    return frame, layout




class CaptionForm:
    """Mixed into `CaptionJobPanel`: builds the model and prompt cards."""

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
        page, form = _form_page()
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
        form.addRow("Device", _pair(self.device_combo, "dtype", self.dtype_combo))

        self.quantize_combo = _combo(QUANTIZE, "quantizeCombo")
        self.attention_combo = _combo(ATTENTION, "attentionCombo")
        # Options that need a package not installed here are shown, but cannot be picked.
        if not package_installed("bitsandbytes"):
            for index in (1, 2):
                self._disable_item(self.quantize_combo, index, "bitsandbytes is not installed")
        if not package_installed("flash_attn"):
            self._disable_item(self.attention_combo, ATTENTION.index("flash_attention_2"),
                               "flash-attn is not installed")
        self.attention_combo.setToolTip("auto: flash-attention 2 when installed on a GPU, "
                                        "else PyTorch SDPA")
        form.addRow("Quantize", _pair(self.quantize_combo, "attention", self.attention_combo))

        self.threads_spin = _spin(0, 256, "threadsSpin")
        self.threads_spin.setSpecialValueText("PyTorch's choice")
        self.threads_spin.setToolTip("PyTorch threads when the model runs on the CPU")
        form.addRow("CPU threads", self.threads_spin)

        self.trust_check = QCheckBox("Trust remote code (this run)")
        self.trust_check.setObjectName("trustRemoteCode")
        self.trust_check.setToolTip("Runs Python code shipped with the model. Only for a model "
                                    "from a source you trust; asked again for every run, "
                                    "never saved.")
        self.release_button = push_button("Unload model", "releaseModels",
                                          "Free the memory of the models kept loaded between runs",
                                          self.release_models)
        extra = QHBoxLayout()
        extra.setSpacing(6)
        extra.addWidget(self.trust_check, 1)
        extra.addWidget(self.release_button)
        form.addRow("", extra)
        return page

    def _build_openai_page(self) -> QWidget:
        page, form = _form_page()
        self.url_edit = line_edit("urlEdit", DEFAULT_URL, "The server's OpenAI base URL: vLLM, "
                                  "llama.cpp server, Ollama (http://host:11434/v1), LM Studio",
                                  clear_button=True)
        form.addRow("Base URL", self.url_edit)
        self.server_model_edit = line_edit("serverModelEdit", "the model name the server serves",
                                           clear_button=True)
        form.addRow("Model", self.server_model_edit)
        self.key_env_edit = line_edit("keyEnvEdit", " or ".join(API_KEY_ENVS),
                                      "The environment variable holding the API key; the key "
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
        form.addRow("In flight", _pair(self.concurrency_spin, "timeout", self.timeout_spin))
        self.video_mode_combo = _combo(VIDEO_MODES, "videoModeCombo")
        self.video_mode_combo.setToolTip("llama.cpp and Ollama need images; vLLM serving a "
                                         "Qwen VL model takes a whole MP4")
        form.addRow("Clips as", self.video_mode_combo)
        return page

    def _build_prompt_card(self) -> QFrame:
        card, layout = _card("promptCard")
        layout.addWidget(_section("Prompt"))
        trigger_row = caption_row("Trigger phrase", 8)
        self.trigger_edit = line_edit("triggerEdit", "e.g. Ghibli style.",
                                      "Every caption starts with this phrase, exactly once; "
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
        self.reset_prompt_button = push_button("Reset to default", "resetPrompt",
                                               "Put back the shipped prompt of this tab",
                                               self.reset_prompt)
        under.addWidget(self.reset_prompt_button, 0, Qt.AlignmentFlag.AlignTop)
        layout.addLayout(under)
        self.prompt_tabs.currentChanged.connect(lambda _i: self._check_prompts())
        return card

    @staticmethod
    def _disable_item(combo: QComboBox, index: int, why: str) -> None:
        item = combo.model().item(index)  # a QStandardItemModel for a plain combo
        if item is not None:
            item.setEnabled(False)
            item.setToolTip(why)
            item.setText(f"{item.text()} — not installed")

    def _update_placeholder(self, *_args: object) -> None:
        self.live_placeholder.setVisible(self.live.topLevelItemCount() == 0)

