"""The Caption tab's run: the snapshot, the job, captions arriving live, and how it ended."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from PySide6.QtCore import QObject, Qt, Signal, Slot
from PySide6.QtGui import QColor
from PySide6.QtWidgets import (
    QAbstractItemView,
    QCheckBox,
    QComboBox,
    QDockWidget,
    QFrame,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QProgressBar,
    QPushButton,
    QSizePolicy,
    QTreeWidget,
    QTreeWidgetItem,
)

from curator.core.captioning import CaptionReport, CaptionResult
from curator.core.captioning.openai_backend import DEFAULT_URL
from curator.core.captioning.request import CaptionSelection, caption_job
from curator.gui.tabs.caption.form import (
    _card,
    _combo,
    _combo_value,
    _form,
    _section,
)
from curator.gui.tabs.caption.text import (
    ITEM_CHOICES,
    ORIGIN_WIDTH,
    STATUS_CHOICES,
    SavedCaption,
    short_origin,
    summary_text,
)
from curator.gui.theme import ERROR_COLOR, MUTED_COLOR
from curator.gui.widgets.job_bar import set_bar_state
from curator.gui.widgets.layout import note_label
from curator.gui.workers import JobHandle, crash_reason, format_eta


class _CaptionRelay(QObject):
    """Lives on the GUI thread; the worker emits `made` and the slot runs here (queued)."""

    made = Signal(object)  # CaptionResult




class CaptionRun:
    """Mixed into `CaptionJobPanel`: the run card and the job it starts."""

    _ran_locally = False  # the last run used the local transformers backend

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
        self.status_label = note_label("runStatus", "Ready")
        layout.addWidget(self.status_label)
        self.error_banner = note_label("errorBanner")
        self.error_banner.hide()
        layout.addWidget(self.error_banner)

        layout.addWidget(self._build_live_list(), 1)
        return card

    def _build_live_list(self) -> QTreeWidget:
        """The captions of the run, one row each as it is saved."""
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
        return self.live

    def _selected_clip_ids(self) -> list[int]:
        provider = self.selection_provider  # the window hands in its browser's selection
        return list(provider()) if provider is not None else []

    def _raise_own_dock(self) -> None:
        """Keep this tab in front: the window raises the Jobs tab whenever a job starts."""
        widget = self.parentWidget()
        while widget is not None and not isinstance(widget, QDockWidget):
            widget = widget.parentWidget()
        if widget is not None and self.isVisible():
            widget.raise_()

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
        status = _combo_value(self.status_combo)
        selection = CaptionSelection(status, items)
        if items == "selected":  # the browser's clips: the same rule as `caption --ids`
            clip_ids = self._selected_clip_ids()
            if not clip_ids:
                return {}, "No clips are selected in the browser"
            selection = CaptionSelection(status, "clips", tuple(clip_ids))
        only_missing = self.only_missing()
        fps = self.fps_spin.value()
        values = {
            "backend": backend, "backend_settings": settings,
            "selection": selection,
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
        set_bar_state(self.progress_bar, "running")
        self.progress_bar.setTextVisible(False)
        self.progress_bar.setRange(0, 0)  # busy until the model is loaded and items counted
        name = Path(values["backend_settings"]["model"]).name or values["backend_settings"]["model"]
        self.status_label.setText(f"Loading {name}…" if values["backend"] == "transformers"
                                  else f"Connecting to {values['backend_settings']['url']}…")
        selection: CaptionSelection = values["selection"]
        what = dict(ITEM_CHOICES)[selection.items].lower()
        if selection.clip_ids is not None:
            what = f"{len(selection.clip_ids)} selected clip(s)"
        self._ran_locally = values["backend"] == "transformers"
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
        self.cancel_run(lambda: self.status_label.setText("Cancelling after the item in flight…"))

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
            if progress.message:  # a retry notice ends with its own "…"
                self.status_label.setText(progress.message[:1].upper() + progress.message[1:]
                                          + ("" if progress.message.endswith("…") else "…"))
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
        if self._ran_locally:
            # models the worker let go of are collected here, on the GUI thread (see there)
            from curator.core.captioning.transformers_backend import free_released_memory

            free_released_memory()
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
            self._show_error(f"The caption job crashed: {handle.error or crash_reason(handle.log)} "
                             "(the Jobs tab has the full log)")
        elif warnings:
            self._show_error("; ".join(warnings), level="warning")
        set_bar_state(self.progress_bar,
                      status if status in ("done", "failed", "cancelled") else "running")
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

    def _update_buttons(self) -> None:
        running = self.handle is not None
        cancelling = running and self.handle.status == "cancelling"
        self.start_button.setEnabled(not running)
        self.cancel_button.setEnabled(running and not cancelling)
        self.release_button.setEnabled(not running)
        self.overwrite_check.setEnabled(not self.only_missing())
        if self.only_missing() and self.overwrite_check.isChecked():
            self.overwrite_check.setChecked(False)

