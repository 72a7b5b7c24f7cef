"""The Caption tab's settings: saved per project, the model list, key and prompt checks."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from PySide6.QtCore import Qt, Slot
from PySide6.QtWidgets import (
    QFileDialog,
    QMessageBox,
)

from curator.core.captioning import Sampling
from curator.core.captioning.openai_backend import API_KEY_ENVS
from curator.core.captioning.options import CaptionSettings
from curator.core.captioning.prompts import TRIGGER_FIELD, default_prompt
from curator.core.captioning.request import model_folders
from curator.gui.tabs.caption.form import (
    _combo_value,
    _set_combo,
)
from curator.gui.tabs.caption.text import (
    REPO_MODELS_DIR,
    html,
)
from curator.gui.theme import OK_COLOR, WARNING_COLOR


class SettingsPage:
    """Mixed into `CaptionJobPanel`: the form's values, stored and restored."""

    def load_settings(self) -> None:
        """Fill the form from the project's settings (defaults where none are stored)."""
        settings = self.catalog.settings()
        stored = CaptionSettings.from_json(settings.caption)
        panel: dict[str, Any] = dict(stored.panel)
        models: dict[str, str] = dict(panel.get("models") or {})
        sampling = Sampling()
        backend = stored.backend_name
        if stored.model and backend not in models:
            models[backend] = stored.model
        self._loading = True
        try:
            _set_combo(self.backend_combo, backend)
            self._fill_model_list()
            self.model_combo.setEditText(models.get("transformers", ""))
            self.server_model_edit.setText(models.get("openai", ""))
            _set_combo(self.device_combo, stored.device or "auto")
            _set_combo(self.dtype_combo, stored.dtype or "auto")
            _set_combo(self.quantize_combo, stored.quantize or "")
            _set_combo(self.attention_combo, stored.attention or "auto")
            self.threads_spin.setValue(int(stored.threads or 0))
            self.url_edit.setText(stored.url or "")
            self.key_env_edit.setText(stored.api_key_env or "")
            self.concurrency_spin.setValue(int(stored.concurrency or 4))
            self.timeout_spin.setValue(int(stored.timeout or 120))
            _set_combo(self.video_mode_combo, stored.video_mode or "images")
            fps = sampling.fps if stored.fps is None else stored.fps
            self.fps_spin.setValue(float(fps or 0.0))
            self.max_frames_spin.setValue(int(stored.max_frames or sampling.max_frames))
            self.max_pixels_spin.setValue(int(stored.max_pixels or sampling.max_pixels))
            self.image_pixels_spin.setValue(
                int(stored.image_max_pixels or sampling.image_max_pixels))
            self.max_tokens_spin.setValue(int(stored.max_new_tokens or 320))
            self.batch_spin.setValue(int(panel.get("batch_size") or stored.batch_size or 1))
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
        """The form's fields of the project's `CaptionSettings` (what `curator caption` reads),
        with the tab's own state under `panel`."""
        backend = self.backend()
        return {
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

    def prompt_texts(self) -> dict[str, str]:
        return {kind: edit.toPlainText().strip() for kind, edit in self.prompt_edits.items()}

    @Slot()
    def save_settings(self) -> None:
        """Write the form to the project's settings now (it is also saved after each edit)."""
        self._save_timer.stop()
        if not self._dirty:
            return
        stored = CaptionSettings.from_json(self.catalog.settings().caption)
        stored = stored.updated(**self.stored_values())  # what else was stored (seed…) is kept
        prompts = self.prompt_texts()
        # The shipped default is stored as None, so a better default later reaches the project.
        changes = {f"{kind}_prompt": (None if not text or text == default_prompt(kind) else text)
                   for kind, text in prompts.items()}
        try:
            self.catalog.update_settings(caption=stored.to_json(),
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
        if self.project is not None:
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
                                   f"{html(names[0])} is not set: no key is sent")
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
            note = f"{TRIGGER_FIELD} → <b>{html(trigger)}</b>"
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

