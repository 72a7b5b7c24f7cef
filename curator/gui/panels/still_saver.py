"""“Save frame as still”: the preview's current source frame into the image section.

The core's `save_still` decodes the frame at full resolution and writes a PNG, which takes a
moment on a long-GOP film, so it runs off the GUI thread; `saved` or `failed` comes back.
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QObject, Qt, Signal
from PySide6.QtWidgets import QStyle, QToolButton, QWidget

from curator.core.catalog import Catalog
from curator.core.stills import Still, save_still
from curator.gui.latest import LatestRun

SHORTCUT = "Ctrl+Alt+S"


class StillSaver(QObject):
    """Saves frames as stills, one at a time (a second ask waits for the first)."""

    saved = Signal(object)  # Still
    failed = Signal(str)

    def __init__(self, catalog: Catalog, stills_dir: Path, parent: QWidget) -> None:
        super().__init__(parent)
        self.catalog, self.stills_dir = catalog, stills_dir
        self.button = QToolButton()
        self.button.setObjectName("saveStill")
        self.button.setText("Save still")
        self.button.setIcon(parent.style().standardIcon(QStyle.StandardPixmap.SP_DialogSaveButton))
        self.button.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextBesideIcon)
        self.button.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self.button.setToolTip(f"Save the frame shown as a still image, full resolution, "
                               f"lossless, in the Images tab  ({SHORTCUT})")
        self._runner = LatestRun("save-still", self)
        self._runner.finished.connect(self._on_done)
        self._queue: list[tuple[int, int]] = []

    def save(self, clip_id: int, frame: int) -> None:
        """Save source frame `frame` of the clip (off the GUI thread)."""
        catalog, stills_dir = self.catalog, self.stills_dir

        def run() -> Still | str:
            try:
                return save_still(catalog, clip_id, frame, stills_dir=stills_dir)
            except Exception as exc:  # noqa: BLE001 - CatalogError, MediaError, OSError: said
                return f"frame {frame} of clip {clip_id} was not saved: {exc}"

        if self._runner.busy:
            self._queue.append((clip_id, frame))  # LatestRun keeps only the newest: queue here
            return
        self._runner.submit(run)

    def _on_done(self, result: object) -> None:
        if isinstance(result, Still):
            self.saved.emit(result)
        else:
            self.failed.emit(str(result))
        if self._queue:
            self.save(*self._queue.pop(0))

    def shutdown(self) -> None:
        self._queue.clear()
        self._runner.shutdown()
