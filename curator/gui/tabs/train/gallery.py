"""Checkpoint picker: the trainer's sample videos and images, one row per prompt, one column
per checkpoint, playing in sync.

People pick the LoRA of a long run by comparing the same prompt across epochs; this puts
those samples side by side. Files are read by `curator.core.training.samples` (names as
musubi-tuner writes them), decoded on a worker thread with `curator.core.media.frames`
(QImages and frame arrays cross back by signal), and painted by one widget, so playback is
one timer tick and one repaint for the whole grid. It works on a finished run's folder and,
while a run is live, picks up each new sample as the trainer writes it.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np
from PySide6.QtCore import (
    QFileSystemWatcher,
    Qt,
    QThread,
    QTimer,
    QUrl,
    Signal,
    Slot,
)
from PySide6.QtGui import (
    QDesktopServices,
    QGuiApplication,
    QImage,
)
from PySide6.QtWidgets import (
    QFileDialog,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QScrollArea,
    QSizePolicy,
    QSlider,
    QStyle,
    QToolButton,
    QWidget,
)

from curator.core.jobs import CancelToken
from curator.core.training.samples import (
    Checkpoint,
    SampleGallery,
    build_gallery,
    checkpoint_file,
    scan_samples,
)
from curator.gui.latest import single_shot
from curator.gui.tabs.train.gallery_grid import GalleryGrid
from curator.gui.tabs.train.gallery_loader import (
    CHANGE_DEBOUNCE_MS,
    DEFAULT_CELL_WIDTH,
    DEFAULT_FPS,
    LIVE_POLL_MS,
    MAX_CELL_WIDTH,
    MIN_CELL_WIDTH,
    FileKey,
    LoadTask,
    SampleLoader,
    checkpoint_label,
    common_output_name,
    file_key,
    run_folder,
)
from curator.gui.theme import MUTED_COLOR
from curator.gui.widgets.layout import flush_column, push_button

# --- the panel -------------------------------------------------------------------------------

class CheckpointGallery(QWidget):
    """Samples of one run as a prompt-by-checkpoint grid; choosing a column picks the LoRA."""

    checkpoint_chosen = Signal(object, object)  # Checkpoint, Path | None (the LoRA file)
    refreshed = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("checkpointGallery")
        self.output_dir: Path | None = None
        self.output_name: str | None = None
        self.prompt_texts: list[str] = []
        self.live = False
        self.chosen: Checkpoint | None = None
        self.chosen_lora: Path | None = None
        self.fps = DEFAULT_FPS
        self.stride = 1
        self._signature: tuple = ()
        self._loader: tuple[QThread, SampleLoader, CancelToken] | None = None
        self._batches = 0
        self._wanted: dict[tuple[FileKey, str], LoadTask] = {}

        layout = flush_column(self, 6)
        layout.addLayout(self._build_bar())

        self.grid = GalleryGrid()
        self.grid.column_clicked.connect(self.choose_column)
        self.grid.sample_activated.connect(
            lambda sample: QDesktopServices.openUrl(QUrl.fromLocalFile(str(sample.path))))
        self.scroll = QScrollArea()
        self.scroll.setObjectName("galleryScroll")
        self.scroll.setWidget(self.grid)
        self.scroll.setWidgetResizable(False)
        self.scroll.setAlignment(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignTop)
        self.empty_label = QLabel()
        self.empty_label.setObjectName("galleryEmpty")
        self.empty_label.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.empty_label.setWordWrap(True)
        self.empty_label.setStyleSheet(f"color: {MUTED_COLOR}; padding: 24px;")
        layout.addWidget(self.scroll, 1)
        layout.addWidget(self.empty_label, 1)

        layout.addLayout(self._build_chosen_bar())

        self._watcher = QFileSystemWatcher(self)
        self._watcher.directoryChanged.connect(lambda _p: self._changed.start())
        self._changed = single_shot(CHANGE_DEBOUNCE_MS, self.refresh, self)
        self._poll = QTimer(self)
        self._poll.setInterval(LIVE_POLL_MS)  # a growing file changes no directory entry
        self._poll.timeout.connect(self.refresh)
        self._play_timer = QTimer(self)
        self._play_timer.timeout.connect(self._advance)
        self._update_chosen_bar()
        self._update_empty()

    def _build_bar(self) -> QHBoxLayout:
        bar = QHBoxLayout()
        bar.setSpacing(6)
        self.open_button = push_button("Open run folder…", "openRunFolder",
                                       "Show the samples of a finished run: pick its output folder "
                                       "(or its sample folder)",
                                       self._ask_folder)
        self.refresh_button = QToolButton()
        self.refresh_button.setIcon(self.style().standardIcon(
            QStyle.StandardPixmap.SP_BrowserReload))
        self.refresh_button.setToolTip("Look for new samples")
        self.refresh_button.clicked.connect(lambda: self.refresh(force=True))
        self.play_button = QToolButton()
        self.play_button.setObjectName("playSamples")
        self.play_button.setCheckable(True)
        self.play_button.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextBesideIcon)
        self.play_button.toggled.connect(self.set_playing)
        self._show_play_state(False)
        self.size_slider = QSlider(Qt.Orientation.Horizontal)
        self.size_slider.setRange(MIN_CELL_WIDTH, MAX_CELL_WIDTH)
        self.size_slider.setValue(DEFAULT_CELL_WIDTH)
        self.size_slider.setFixedWidth(120)
        self.size_slider.setToolTip("Sample size")
        self.size_slider.valueChanged.connect(self._set_cell_width)
        self.folder_label = QLabel()
        self.folder_label.setObjectName("galleryFolder")
        self.folder_label.setStyleSheet(f"color: {MUTED_COLOR};")
        self.folder_label.setSizePolicy(QSizePolicy.Policy.Ignored,
                                        QSizePolicy.Policy.Preferred)
        bar.addWidget(self.open_button)
        bar.addWidget(self.refresh_button)
        bar.addWidget(self.play_button)
        bar.addWidget(self.folder_label, 1)
        size_icon = QLabel("Size")
        size_icon.setStyleSheet(f"color: {MUTED_COLOR};")
        bar.addWidget(size_icon)
        bar.addWidget(self.size_slider)
        return bar

    def _build_chosen_bar(self) -> QHBoxLayout:
        chosen_bar = QHBoxLayout()
        self.chosen_label = QLabel()
        self.chosen_label.setObjectName("chosenCheckpoint")
        self.chosen_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.chosen_label.setSizePolicy(QSizePolicy.Policy.Ignored,
                                        QSizePolicy.Policy.Preferred)
        self.copy_button = QPushButton("Copy LoRA path")
        self.copy_button.clicked.connect(self._copy_lora_path)
        self.reveal_button = QPushButton("Show in folder")
        self.reveal_button.clicked.connect(self._reveal_lora)
        chosen_bar.addWidget(self.chosen_label, 1)
        chosen_bar.addWidget(self.copy_button)
        chosen_bar.addWidget(self.reveal_button)
        return chosen_bar

    # --- what to show --------------------------------------------------------------------

    @property
    def gallery(self) -> SampleGallery:
        return self.grid.gallery

    @property
    def sample_dir(self) -> Path | None:
        return self.output_dir / "sample" if self.output_dir is not None else None

    def set_run(self, output_dir: Path | None, *, output_name: str | None = None,
                prompt_texts: Sequence[str] | None = None, live: bool = False) -> None:
        """Show the samples of the run writing to `output_dir` (None: nothing)."""
        folder = Path(output_dir) if output_dir is not None else None
        if folder != self.output_dir or output_name != self.output_name:
            self._reset()
        self.output_dir, self.output_name = folder, output_name
        self.prompt_texts = list(prompt_texts or [])
        self.set_live(live)
        self.refresh(force=True)

    def open_folder(self, path: Path) -> None:
        """Show a finished run's samples: `path` is its output folder or its sample folder."""
        folder = run_folder(Path(path))
        samples = scan_samples(folder)
        self.set_run(folder, output_name=common_output_name(samples), live=False)

    def set_prompt_texts(self, texts: Sequence[str]) -> None:
        self.prompt_texts = list(texts)
        self.gallery.prompt_texts = dict(enumerate(self.prompt_texts))
        self.grid.update()

    def set_live(self, live: bool) -> None:
        """While live, new and growing sample files are picked up as the trainer writes them."""
        self.live = live
        if live:
            self._poll.start()
        else:
            self._poll.stop()
        self._watch()

    def _reset(self) -> None:
        self._stop_loader()
        self._wanted.clear()
        grid = self.grid
        grid.images.clear()
        grid.frames.clear()
        grid.failed.clear()
        grid.keys.clear()
        grid.gallery = SampleGallery()
        grid.chosen = None
        self.chosen = self.chosen_lora = None
        self._signature = ()
        self._update_chosen_bar()

    def _watch(self) -> None:
        watched = set(self._watcher.directories())
        wanted = {str(p) for p in (self.output_dir, self.sample_dir)
                  if p is not None and p.is_dir()}
        if watched - wanted:
            self._watcher.removePaths(sorted(watched - wanted))
        if wanted - watched:
            self._watcher.addPaths(sorted(wanted - watched))

    def refresh(self, force: bool = False) -> None:
        """Read the sample folder again; only new or changed files are decoded.

        A file the trainer is still writing fails to decode; once it has grown its size and
        time change, so the next look (the live poll) decodes it again.
        """
        self._watch()
        samples = scan_samples(self.output_dir, output_name=self.output_name) \
            if self.output_dir is not None else []
        keys = {s.path: file_key(s.path) for s in samples}
        signature = tuple(sorted((str(p), k) for p, k in keys.items() if k is not None))
        if signature == self._signature and not force:
            return
        self._signature = signature
        if force:
            self.grid.failed.clear()  # asked by hand: try the unreadable files again
        gallery = build_gallery(samples, self.prompt_texts)
        grid = self.grid
        grid.gallery = gallery
        grid.keys = {p: k for p, k in keys.items() if k is not None}
        live_keys = set(grid.keys.values())
        for cache in (grid.images, grid.frames, grid.failed):
            for stale in [k for k in cache if k not in live_keys]:
                del cache[stale]
        self._update_lora_marks()
        if self.chosen is not None and self.chosen in gallery.checkpoints:
            grid.chosen = gallery.checkpoints.index(self.chosen)
            self._update_chosen_lora()
        else:
            grid.chosen = None
        grid.relayout()
        self._update_folder_label()
        self._update_empty()
        self._queue_loads()
        self.refreshed.emit()

    def _update_lora_marks(self) -> None:
        name = self.output_name
        marks = set()
        if self.output_dir is not None and name:
            last = self._last_epoch()
            for column, checkpoint in enumerate(self.gallery.checkpoints):
                if checkpoint_file(self.output_dir, name, checkpoint, last_epoch=last):
                    marks.add(column)
        self.grid.has_lora = marks

    def _last_epoch(self) -> int | None:
        epochs = [c.number for c in self.gallery.checkpoints if c.kind == "epoch"]
        # While a run is live its newest epoch has its own file; the final name only exists
        # once the run has ended.
        return max(epochs) if epochs and not self.live else None

    def _update_folder_label(self) -> None:
        g = self.gallery
        if self.output_dir is None:
            self.folder_label.setText("")
            return
        counts = (f"{len(g.prompts)} prompt{'s' * (len(g.prompts) != 1)} × "
                  f"{len(g.checkpoints)} checkpoint{'s' * (len(g.checkpoints) != 1)}"
                  if len(g) else "no samples yet")
        live = " · live" if self.live else ""
        self.folder_label.setText(f"{counts}{live} · {self.sample_dir}")
        self.folder_label.setToolTip(str(self.sample_dir))

    def _update_empty(self) -> None:
        empty = len(self.gallery) == 0
        self.scroll.setVisible(not empty)
        self.empty_label.setVisible(empty)
        if self.output_dir is None:
            self.empty_label.setText("No run yet. Start one from the Train tab, or open a "
                                     "finished run's folder to compare its checkpoints.")
        elif self.live:
            self.empty_label.setText(f"Waiting for samples in {self.sample_dir}.\nThe trainer "
                                     "writes one per prompt at each sampling checkpoint.")
        else:
            self.empty_label.setText(f"No samples in {self.sample_dir}.\nAdd sample prompts "
                                     "(Prompts tab) so the trainer renders them at each epoch, "
                                     "or open another run folder.")

    # --- decoding ------------------------------------------------------------------------

    def _queue_loads(self) -> None:
        grid = self.grid
        for sample in self.gallery.cells.values():
            key = grid.keys.get(sample.path)
            if key is None or key in grid.failed:
                continue
            if key not in grid.images:
                self._wanted.setdefault((key, "first"),
                                        LoadTask(key, sample.path, sample.is_video, "first"))
            if grid.playing and sample.is_video and key not in grid.frames:
                self._wanted.setdefault((key, "frames"),
                                        LoadTask(key, sample.path, True, "frames"))
        self._start_loader()

    def is_loading(self) -> bool:
        return self._loader is not None or bool(self._wanted)

    def _start_loader(self) -> None:
        if self._loader is not None or not self._wanted:
            return
        tasks = list(self._wanted.values())
        self._wanted.clear()
        token = CancelToken()
        self._batches += 1
        loader = SampleLoader(tasks, play_width=self.grid.cell_width, cancel=token,
                              batch=self._batches)
        thread = QThread(self)
        thread.setObjectName("sample-gallery-loader")
        loader.moveToThread(thread)
        thread.started.connect(loader.run)
        # Quit on the loader's own thread, so waiting for the thread never needs this loop.
        loader.finished.connect(thread.quit, Qt.ConnectionType.DirectConnection)
        loader.image_loaded.connect(self._on_image)
        loader.frames_loaded.connect(self._on_frames)
        loader.failed.connect(self._on_failed)
        loader.finished.connect(self._on_loader_finished)
        self._loader = (thread, loader, token)
        thread.start()

    def _stop_loader(self) -> None:
        if self._loader is None:
            return
        thread, loader, token = self._loader
        token.cancel()
        thread.wait(5000)
        loader.deleteLater()
        thread.deleteLater()
        self._loader = None

    def _shown(self, key: FileKey) -> bool:
        return key in self.grid.keys.values()  # a result for a file no longer shown is dropped

    @Slot(object, object)
    def _on_image(self, key: FileKey, image: QImage) -> None:
        if self._shown(key):
            self.grid.images[key] = image
            self.grid.relayout()  # the first image of a row sets its height

    @Slot(object, object, float, int)
    def _on_frames(self, key: FileKey, frames: np.ndarray, fps: float, stride: int) -> None:
        if not self._shown(key):
            return
        self.grid.frames[key] = frames
        self.fps, self.stride = fps or DEFAULT_FPS, stride
        if self.grid.playing:
            self._play_timer.setInterval(max(15, round(1000 * stride / self.fps)))
        self.grid.update()

    @Slot(object, str)
    def _on_failed(self, key: FileKey, reason: str) -> None:
        if self._shown(key):
            self.grid.failed[key] = reason
            self.grid.update()

    @Slot(int)
    def _on_loader_finished(self, batch: int) -> None:
        if self._loader is None or self._loader[1].batch != batch:
            return  # a batch stopped (and cleaned up) by _stop_loader
        thread, loader, _token = self._loader
        thread.wait(5000)
        loader.deleteLater()
        thread.deleteLater()
        self._loader = None
        self._start_loader()

    # --- playback ------------------------------------------------------------------------

    def _show_play_state(self, playing: bool) -> None:
        icon = QStyle.StandardPixmap.SP_MediaPause if playing else \
            QStyle.StandardPixmap.SP_MediaPlay
        self.play_button.setIcon(self.style().standardIcon(icon))
        self.play_button.setText("Pause" if playing else "Play all")
        self.play_button.setToolTip("Play every video sample together, frame by frame in step")

    @Slot(bool)
    def set_playing(self, playing: bool) -> None:
        """Play every video sample in sync (decoding their frames first), or stop on frame 0."""
        if self.play_button.isChecked() != playing:
            self.play_button.setChecked(playing)  # re-enters through toggled
            return
        self._show_play_state(playing)
        self.grid.playing = playing
        self.grid.tick = 0
        if playing:
            self._play_timer.setInterval(max(15, round(1000 * self.stride / self.fps)))
            self._play_timer.start()
            self._queue_loads()
        else:
            self._play_timer.stop()
        self.grid.update()

    def _advance(self) -> None:
        self.grid.tick += 1
        self.grid.update()

    def _set_cell_width(self, width: int) -> None:
        self.grid.cell_width = width
        self.grid.relayout()

    # --- choosing ------------------------------------------------------------------------

    @Slot(int)
    def choose_column(self, column: int) -> None:
        if 0 <= column < len(self.gallery.checkpoints):
            self.choose(self.gallery.checkpoints[column])

    def choose(self, checkpoint: Checkpoint) -> None:
        """Mark the checkpoint a person picked and find its LoRA file."""
        if checkpoint not in self.gallery.checkpoints:
            return
        self.chosen = checkpoint
        self.grid.chosen = self.gallery.checkpoints.index(checkpoint)
        self._update_chosen_lora()
        self.grid.update()
        self.checkpoint_chosen.emit(checkpoint, self.chosen_lora)

    def _update_chosen_lora(self) -> None:
        self.chosen_lora = None
        if self.chosen is not None and self.output_dir is not None and self.output_name:
            self.chosen_lora = checkpoint_file(self.output_dir, self.output_name, self.chosen,
                                               last_epoch=self._last_epoch())
        self._update_chosen_bar()

    def expected_lora_name(self, checkpoint: Checkpoint) -> str:
        name = self.output_name or "<name>"
        if checkpoint.kind == "epoch":
            return f"{name}-{checkpoint.number:06d}.safetensors"
        return f"{name}-step{checkpoint.number:08d}.safetensors"

    def _update_chosen_bar(self) -> None:
        has_file = self.chosen_lora is not None
        self.copy_button.setEnabled(has_file)
        self.reveal_button.setEnabled(has_file)
        if self.chosen is None:
            self.chosen_label.setText("Click a checkpoint column to choose its LoRA.")
            self.chosen_label.setStyleSheet(f"color: {MUTED_COLOR};")
        elif has_file:
            self.chosen_label.setText(f"Chosen: {checkpoint_label(self.chosen)}  →  "
                                      f"{self.chosen_lora}")
            self.chosen_label.setStyleSheet("color: #e6edf3; font-weight: 600;")
        else:
            self.chosen_label.setText(
                f"Chosen: {checkpoint_label(self.chosen)}, but no LoRA file for it in "
                f"{self.output_dir} (expected {self.expected_lora_name(self.chosen)})")
            self.chosen_label.setStyleSheet("color: #d29922;")
        self.chosen_label.setToolTip(str(self.chosen_lora or ""))

    def _copy_lora_path(self) -> None:
        if self.chosen_lora is not None:
            QGuiApplication.clipboard().setText(str(self.chosen_lora))

    def _reveal_lora(self) -> None:
        if self.chosen_lora is not None:
            QDesktopServices.openUrl(QUrl.fromLocalFile(str(self.chosen_lora.parent)))

    def _ask_folder(self) -> None:
        start = str(self.output_dir) if self.output_dir else str(Path.home())
        folder = QFileDialog.getExistingDirectory(self, "Open a training run's output folder",
                                                  start)
        if folder:
            self.open_folder(Path(folder))

    # --- lifetime ------------------------------------------------------------------------

    def shutdown(self) -> None:
        """Stop decoding and timers (the window is closing)."""
        self._play_timer.stop()
        self._poll.stop()
        self._changed.stop()
        self._wanted.clear()
        self._stop_loader()


