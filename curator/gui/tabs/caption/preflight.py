"""Before a caption run: "Test connection" (the server's models) and what the run will cover.

Both ask the core off the GUI thread (`server_models`, `count_to_caption`), so an unreachable
server or a large catalog never freezes the form; only the newest answer is shown.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QObject, Qt, QTimer
from PySide6.QtWidgets import QHBoxLayout, QLabel, QPushButton, QWidget

from curator.core.captioning import CaptionBackendError
from curator.core.captioning.request import CaptionCount, count_to_caption, server_models
from curator.gui.latest import LatestRun
from curator.gui.tabs.caption.form import _combo_value

if TYPE_CHECKING:
    from curator.gui.tabs.caption.tab import CaptionJobPanel

COUNT_DELAY_MS = 200
MODELS_SHOWN = 8


def count_text(count: CaptionCount) -> str:
    """'Will caption 12 clips and 3 images · 5 captioned already, skipped · 1 by hand, kept'."""
    parts = []
    if count.clips:
        parts.append(f"{count.clips:,} clip{'s' * (count.clips != 1)}")
    if count.images:
        parts.append(f"{count.images:,} image{'s' * (count.images != 1)}")
    text = "Will caption " + " and ".join(parts) if parts else "Nothing to caption"
    if count.skipped:
        text += f" · {count.skipped:,} captioned already, skipped"
    if count.skipped_manual:
        text += f" · {count.skipped_manual:,} written by hand, kept"
    return text


class CaptionPreflight(QObject):
    """Adds the connection test to the server page and the count under the Start button."""

    def __init__(self, panel: CaptionJobPanel) -> None:
        super().__init__(panel)
        self.panel = panel
        self.test_button = QPushButton("Test connection")
        self.test_button.setObjectName("testConnection")
        self.test_button.setToolTip("Ask the server which models it serves (GET /v1/models)")
        self.test_button.clicked.connect(self.test_connection)
        self.test_result = QLabel()
        self.test_result.setObjectName("connectionResult")
        self.test_result.setWordWrap(True)
        self.test_result.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        row = QWidget()
        box = QHBoxLayout(row)
        box.setContentsMargins(0, 0, 0, 0)
        box.addWidget(self.test_button)
        box.addWidget(self.test_result, 1)
        panel.server_model_edit.parentWidget().layout().addRow("", row)
        self.count_label = QLabel()
        self.count_label.setObjectName("captionCount")
        self.count_label.setWordWrap(True)
        status = panel.status_label
        status.parentWidget().layout().insertWidget(
            status.parentWidget().layout().indexOf(status), self.count_label)
        self._models = LatestRun("caption-test-connection", self)
        self._models.finished.connect(self._on_models)
        self._counts = LatestRun("caption-count", self)
        self._counts.finished.connect(self._on_count)
        self._timer = QTimer(self, singleShot=True, interval=COUNT_DELAY_MS)
        self._timer.timeout.connect(self.recount)
        for combo in (panel.items_combo, panel.status_combo, panel.only_missing_combo):
            combo.currentIndexChanged.connect(lambda _i: self._timer.start())
        panel.overwrite_check.toggled.connect(lambda _c: self._timer.start())
        self._asked: dict[str, Any] | None = None

    def choices(self) -> dict[str, Any]:
        p = self.panel
        items = _combo_value(p.items_combo)
        only_missing = p.only_missing()
        return {"status": _combo_value(p.status_combo), "items": items,
                "clip_ids": p._selected_clip_ids() if items == "selected" else None,
                "only_missing": only_missing,
                "overwrite_manual": p.overwrite_check.isChecked() and not only_missing}

    def recount(self) -> None:
        """Count what a run started now would caption (off the GUI thread)."""
        catalog, choices = self.panel.catalog, self.choices()
        self._asked = choices
        self.count_label.setText("Counting…")

        def run() -> tuple[dict[str, Any], CaptionCount | str]:
            try:
                return choices, count_to_caption(catalog, **choices)
            except Exception as exc:  # noqa: BLE001 - shown in the label
                return choices, f"Could not count: {exc}"

        self._counts.submit(run)

    def _on_count(self, answer: object) -> None:
        choices, result = answer  # type: ignore[misc]
        if choices != self._asked:
            return  # an older ask
        self.count = result
        self.count_label.setText(count_text(result) if isinstance(result, CaptionCount)
                                 else str(result))

    def test_connection(self) -> None:
        p = self.panel
        url = p.url_edit.text().strip() or p.url_edit.placeholderText()
        key_env = p.key_env_edit.text().strip() or None
        self.test_button.setEnabled(False)
        self.test_result.setText(f"Asking {url} …")

        def run() -> list[str] | str:
            try:
                return server_models(url, api_key_env=key_env)
            except CaptionBackendError as exc:
                return str(exc)

        self._models.submit(run)

    def _on_models(self, result: object) -> None:
        self.test_button.setEnabled(True)
        if isinstance(result, str):
            self.test_result.setProperty("level", "error")
            self.test_result.setText(f"✗ {result}")
            return
        models = list(result)  # type: ignore[arg-type]
        self.test_result.setProperty("level", "ok")
        wanted = self.panel.server_model_edit.text().strip()
        shown = ", ".join(models[:MODELS_SHOWN]) + (" …" if len(models) > MODELS_SHOWN else "")
        text = f"✓ Connected: {len(models)} model{'s' * (len(models) != 1)} ({shown})"
        if wanted and wanted not in models:
            text += f" — “{wanted}” is not among them"
        elif not wanted and models:
            self.panel.server_model_edit.setText(models[0])
        self.test_result.setText(text)

    def shutdown(self) -> None:
        self._timer.stop()
        self._models.shutdown()
        self._counts.shutdown()
