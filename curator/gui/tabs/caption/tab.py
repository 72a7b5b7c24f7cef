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

from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QEvent, QObject, Signal
from PySide6.QtGui import QShowEvent
from PySide6.QtWidgets import (
    QComboBox,
    QDoubleSpinBox,
    QHBoxLayout,
    QLineEdit,
    QMessageBox,
    QPlainTextEdit,
    QSpinBox,
    QWidget,
)

from curator.core.catalog import Catalog
from curator.gui.latest import single_shot
from curator.gui.tabs.caption.form import (
    CaptionForm,
)
from curator.gui.tabs.caption.preflight import CaptionPreflight
from curator.gui.tabs.caption.run import CaptionRun, _CaptionRelay
from curator.gui.tabs.caption.settings import SettingsPage
from curator.gui.tabs.caption.text import (
    SAVE_DELAY_MS,
)
from curator.gui.theme import CAPTION_STYLE
from curator.gui.widgets.job_bar import JobTab
from curator.gui.workers import JobRunner


class CaptionJobPanel(CaptionRun, SettingsPage, CaptionForm, JobTab):
    """Caption clips and images with a VLM; settings per project, captions appearing live."""

    caption_saved = Signal(object)  # SavedCaption (has clip_id / image_id)
    run_started = Signal(object)  # JobHandle
    run_finished = Signal(object)  # JobHandle (its .report is the CaptionReport)

    def __init__(self, project: Any = None, catalog: Catalog | None = None,
                 job_runner: JobRunner | None = None, parent: QWidget | None = None) -> None:
        super().__init__("captionJobPanel", CAPTION_STYLE, project=project, catalog=catalog,
                         job_runner=job_runner, parent=parent)
        #: Returns the clip ids selected in the browser; by default the window's browser.
        self.selection_provider: Callable[[], list[int]] | None = None
        self._loading = False
        self._dirty = False
        self._confirm_box: QMessageBox | None = None
        self._relay = _CaptionRelay(self)
        self._relay.made.connect(self._on_caption_made)
        self._save_timer = single_shot(SAVE_DELAY_MS, self.save_settings, self)

        self._build()
        self.preflight = CaptionPreflight(self)  # test connection; what a run will caption
        self.run_finished.connect(lambda _h: self.preflight.recount())
        self.load_settings()
        self.runner.job_updated.connect(self._on_job_updated)
        self._update_buttons()

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

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if watched is self.live.viewport() and event.type() == QEvent.Type.Resize:
            self.live_placeholder.setGeometry(self.live.viewport().rect())
        return super().eventFilter(watched, event)

    def showEvent(self, event: QShowEvent) -> None:
        super().showEvent(event)
        self.preflight.recount()  # decisions made meanwhile change what a run covers

    def shutdown(self) -> None:
        """Save pending edits; a runner this panel made is cancelled and waited for."""
        self.preflight.shutdown()
        self.save_settings()
        self.shutdown_runner()

