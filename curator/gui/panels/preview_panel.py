"""The preview: a clip's frame range, looping, frame-exact, at the source or the training fps.

Frames come from `FrameDecoder` (PyAV on its own thread, a cache of frames scaled to the view),
so the GUI thread never decodes. The playhead is a position in a list of source frames: every
frame of the range at the source fps, the frames a 16 fps export keeps at the training fps, or,
in the trainer view, the frames musubi-tuner loads from the exported clip, each resized and
centre-cropped to the bucket the chosen section of the dataset plan gives, with the windows
its frame extraction cuts drawn on the timeline.

Keys: , and . (or Left and Right with the preview focused) step one frame; Home and End jump
to the ends; Space (the window's action) plays and pauses.
"""

from __future__ import annotations

import logging

from PySide6.QtCore import QElapsedTimer, QRectF, QSettings, Qt, QTimer, Signal, Slot
from PySide6.QtGui import (
    QHideEvent,
    QImage,
    QKeyEvent,
    QKeySequence,
    QPainter,
    QResizeEvent,
    QShortcut,
)
from PySide6.QtWidgets import (
    QVBoxLayout,
    QWidget,
)

from curator.core.catalog import Catalog, ClipRow
from curator.core.export.plan import (
    DatasetPlan,
)
from curator.core.export.trainer_frames import (
    TrainerFrames,
    plan_for_preview,
    playback_frames,
    position_of,
    trainer_frames,
    transition_positions,
    video_sections,
)
from curator.core.media.frames import fit_size
from curator.core.project import Project
from curator.gui.decoder import FrameDecoder, FrameSpec
from curator.gui.panels.clip_overlay import CropBar, Shape, overlay_shapes, paint_overlay
from curator.gui.panels.frame_view import FrameView, decode_width, format_time
from curator.gui.panels.preview_controls import build_trainer_row, build_transport_bar
from curator.gui.theme import transport_icon
from curator.gui.trainer_view import FrameTimeline

log = logging.getLogger(__name__)

# Frames asked for ahead of the playhead while playing, and around it while paused.
PLAY_AHEAD = 36
STEP_AHEAD = 16
STEP_BEHIND = 32
SETTINGS_GROUP = "preview"


class PreviewPanel(QWidget):
    """Plays the current clip's range of its source; steps frame by frame; shows the trainer view.

    Signals:
        frame_changed(int): the source frame under the playhead changed.
    """

    frame_changed = Signal(int)

    def __init__(self, catalog: Catalog, project: Project | None = None,
                 settings: QSettings | None = None, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("previewPanel")
        self.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        self.catalog = catalog
        self.project = project
        self.settings = settings
        self.target_fps = float(catalog.settings().target_fps or 16.0)
        self._clip: ClipRow | None = None
        self._frames: list[int] = []
        self._pos = 0
        self._shown: int | None = None  # the source frame on screen
        self._playing = False
        self._trainer: TrainerFrames | None = None
        self._plan: DatasetPlan | None = None
        self._error: str | None = None
        self._announced: tuple[int | None, int] | None = None  # (clip id, frame) last told
        self._shapes: list[Shape] = []  # text boxes and the export crop, drawn over the picture

        self.decoder = FrameDecoder(self)
        self.decoder.frame_ready.connect(self._on_frame_ready)
        self.decoder.failed.connect(self._on_failed)
        self._play_timer = QTimer(self)
        self._play_timer.setSingleShot(True)
        self._play_timer.setTimerType(Qt.TimerType.PreciseTimer)
        self._play_timer.timeout.connect(self._tick)
        self._clock = QElapsedTimer()
        self._next_due = 0.0
        self._resize_timer = QTimer(self)
        self._resize_timer.setSingleShot(True)
        self._resize_timer.setInterval(150)
        self._resize_timer.timeout.connect(self._apply_view_size)

        self._build()
        self._restore_settings()
        self._update_controls()

    # --- layout ----------------------------------------------------------------------------

    def _build(self) -> None:
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(2)
        self.view = FrameView()
        layout.addWidget(self.view, 1)
        self.timeline = FrameTimeline()
        self.timeline.seek_requested.connect(self.seek_position)
        layout.addWidget(self.timeline)
        self.crop_bar = CropBar(self.catalog)  # text boxes and the export crop (clip_overlay)
        self.crop_bar.clip_updated.connect(self.show_clip)
        layout.addWidget(self.crop_bar)
        self.view.overlay = self._paint_overlay
        layout.addLayout(build_transport_bar(self))
        layout.addWidget(build_trainer_row(self))
        for keys, slot in (((",",), lambda: self.step(-1)), ((".",), lambda: self.step(1)),
                           (("]",), self.next_transition)):
            for key in keys:
                shortcut = QShortcut(QKeySequence(key), self)
                shortcut.setContext(Qt.ShortcutContext.WindowShortcut)
                shortcut.activated.connect(slot)

    # --- public API ------------------------------------------------------------------------

    @Slot(object)
    def show_clip(self, clip: ClipRow | None) -> None:
        """Show a clip (its first frame, or the same frame when the clip is shown again)."""
        previous = self._clip
        self._clip = clip
        self._error = None
        self.crop_bar.show_clip(clip)
        self._shapes = overlay_shapes(clip)
        if clip is None:
            self.pause()
            self.decoder.close()
            self._frames, self._pos, self._shown, self._trainer = [], 0, None, None
            self._announced = None
            self.timeline.set_length(0)
            self.timeline.set_windows(())
            self.timeline.set_transitions(())
            self.view.set_message("No clip selected")
            self._update_counter()
            self._update_controls()
            return
        keep = previous is not None and previous.id == clip.id \
            and previous.source_path == clip.source_path
        frame = self.current_frame() if keep else clip.start_frame
        if not keep:
            self.view.set_message("Decoding…", keep_image=False)
        if self.trainer_button.isChecked():
            self._load_plan()  # the plan may have been edited in the Export tab
        self._rebuild_sequence(keep_frame=min(max(frame, clip.start_frame), clip.end_frame - 1))
        self._update_controls()

    def clip(self) -> ClipRow | None:
        return self._clip

    def _paint_overlay(self, painter: QPainter, target: QRectF) -> None:
        # Source pixels map onto the picture only in the plain view (the trainer view is cut).
        if self._clip is not None and self._trainer is None:
            paint_overlay(painter, target, (self._clip.width, self._clip.height), self._shapes)

    def current_frame(self) -> int:
        """The source frame under the playhead (absolute, in the source's numbering)."""
        if not self._frames:
            return self._clip.start_frame if self._clip is not None else 0
        return self._frames[self._pos]

    def position(self) -> int:
        """The playhead as a position in the sequence being played."""
        return self._pos

    def sequence(self) -> list[int]:
        """The source frames the preview plays, in order (one per displayed frame)."""
        return list(self._frames)

    def displayed_frame(self) -> int | None:
        """The source frame whose picture is on screen (None while it is being decoded)."""
        return self._shown

    def displayed_image(self) -> QImage | None:
        return self.view.image() if self._shown is not None else None

    def trainer_frames(self) -> TrainerFrames | None:
        return self._trainer

    def is_playing(self) -> bool:
        return self._playing

    def fps_mode(self) -> str:
        return "trainer" if self._trainer is not None else str(self.fps_box.currentData())

    def set_fps_mode(self, mode: str) -> None:
        """'source' or 'training' (the trainer view always plays at the training fps)."""
        index = self.fps_box.findData(mode)
        if index >= 0:
            self.fps_box.setCurrentIndex(index)

    def playback_fps(self) -> float:
        if self._trainer is not None:
            return self._trainer.fps
        if self._clip is None:
            return self.target_fps
        if self.fps_box.currentData() == "training":
            return self.target_fps
        return float(self._clip.fps) or self.target_fps

    @Slot()
    def toggle_play(self) -> None:
        if self._playing:
            self.pause()
        else:
            self.play()

    def play(self) -> None:
        if self._clip is None or not self._frames or self._playing or self._error:
            return
        self._playing = True
        self._clock.start()
        self._next_due = 1000.0 / self.playback_fps()
        self._play_timer.start(int(self._next_due))
        self._request()
        self._update_controls()

    def hideEvent(self, event: QHideEvent) -> None:
        # A page or tab that hides the preview stops it: a hidden clip playing on keeps
        # decoding, and no key reaches its pause.
        self.pause()
        super().hideEvent(event)

    def pause(self) -> None:
        if not self._playing:
            return
        self._playing = False
        self._play_timer.stop()
        self._request()
        self._update_controls()

    def step(self, delta: int) -> None:
        """Move the playhead by `delta` displayed frames (stops playback; no wrapping)."""
        if not self._frames:
            return
        self.pause()
        self.seek_position(min(max(0, self._pos + delta), len(self._frames) - 1))

    def seek_position(self, position: int) -> None:
        """Put the playhead at a position of the sequence."""
        if not self._frames:
            return
        position = min(max(0, position), len(self._frames) - 1)
        changed = position != self._pos
        self._pos = position
        self.timeline.set_position(position)
        self._update_counter()
        self._request()
        if changed:
            self._announce()

    def next_transition(self) -> None:
        """Jump to the next shot boundary after the playhead (from the first, past the last)."""
        spans = self.timeline.transitions()
        if not spans:
            return
        later = [first for first, _end in spans if first > self._pos]
        self.seek_position(later[0] if later else spans[0][0])

    def seek_frame(self, source_frame: int) -> None:
        """Put the playhead on the position showing a source frame."""
        self.seek_position(position_of(self._frames, source_frame))

    def set_trainer_view(self, on: bool) -> None:
        if self.trainer_button.isChecked() != on:
            self.trainer_button.setChecked(on)  # comes back here through `toggled`
            return
        if on:
            self._load_plan()
        self.trainer_row.setVisible(on)
        self._rebuild_sequence()

    def trainer_view(self) -> bool:
        return self.trainer_button.isChecked()

    def select_section(self, name: str) -> None:
        index = self.section_box.findData(name)
        if index >= 0:
            self.section_box.setCurrentIndex(index)

    def shutdown(self) -> None:
        """Stop playback and the decoding thread; the panel shows nothing afterwards."""
        self._save_settings()
        self._play_timer.stop()
        self._playing = False
        self.decoder.shutdown()

    def closeEvent(self, event) -> None:
        self.shutdown()
        super().closeEvent(event)

    # --- sequence and decoding -------------------------------------------------------------

    def _load_plan(self) -> None:
        plan = plan_for_preview(self.project.root if self.project is not None else None)
        self._plan = plan
        current = self.section_box.currentData()
        self.section_box.blockSignals(True)
        self.section_box.clear()
        for section in video_sections(plan):
            label = section.describe().removeprefix("videos ")
            self.section_box.addItem(label, section.name)
            self.section_box.setItemData(self.section_box.count() - 1,
                                         f"{section.name}: {section.describe()}",
                                         Qt.ItemDataRole.ToolTipRole)
        index = self.section_box.findData(current)
        self.section_box.setCurrentIndex(index if index >= 0 else 0)
        self.section_box.blockSignals(False)

    def _section(self):
        if self._plan is None:
            return None
        name = self.section_box.currentData()
        sections = video_sections(self._plan)
        return next((s for s in sections if s.name == name), sections[0] if sections else None)

    def _rebuild_sequence(self, keep_frame: int | None = None) -> None:
        """Recompute what is played (after a clip, mode or section change) and redisplay."""
        clip = self._clip
        if clip is None:
            return
        frame = self.current_frame() if keep_frame is None else keep_frame
        self._trainer = None
        section = self._section() if self.trainer_button.isChecked() else None
        if section is not None and self._plan is not None:
            self._trainer = trainer_frames(clip, self._plan, section,
                                           default_fps=self.target_fps)
            frames = list(self._trainer.source_frames)
        elif self.fps_box.currentData() == "training":
            frames = playback_frames(clip.start_frame, clip.end_frame, clip.fps, self.target_fps)
        else:
            frames = playback_frames(clip.start_frame, clip.end_frame, clip.fps)
        self._frames = frames or [clip.start_frame]
        self._pos = position_of(self._frames, frame)
        self.timeline.set_length(len(self._frames))
        self.timeline.set_position(self._pos)
        self.timeline.set_transitions(transition_positions(clip, self._frames))
        if self._trainer is not None:
            t = self._trainer
            self.timeline.set_windows(t.windows, t.loaded, f"{t.fps:g} fps frames")
            self.trainer_info.setText(t.summary())
            self.trainer_info.setToolTip(f"{t.description}; the exported clip is "
                                         f"{t.geometry.size[0]}×{t.geometry.size[1]}, "
                                         f"{t.file_frames} frames" + (
                                             "; cropped to x {} y {} w {} h {} first".format(
                                                 *t.crop) if t.crop else ""))
        else:
            self.timeline.set_windows(())
        self.fps_box.setEnabled(self._trainer is None)
        self._open_decoder()
        self._update_counter()
        if self._playing:
            self._next_due = self._clock.elapsed() + 1000.0 / self.playback_fps()
        self._request()
        self._announce()

    def _announce(self) -> None:
        """Emit `frame_changed` when the playhead's source frame (or the clip) changed."""
        key = (self._clip.id if self._clip is not None else None, self.current_frame())
        if key != self._announced:
            self._announced = key
            self.frame_changed.emit(key[1])

    def _spec(self) -> FrameSpec | None:
        clip = self._clip
        if clip is None:
            return None
        if self._trainer is not None:
            # decode straight to the cover size the trainer resizes to (of the export crop,
            # letterbox bars gone), then cut the bucket
            w, h, box = self._trainer.decode_box((clip.width, clip.height))
            return FrameSpec(w, h, box)
        ratio = self.view.devicePixelRatioF()
        width = decode_width(int(self.view.width() * ratio), int(self.view.height() * ratio),
                             (clip.width, clip.height))
        w, h = fit_size(clip.width, clip.height, width, None) if width else (clip.width,
                                                                              clip.height)
        return FrameSpec(w, h)

    def _open_decoder(self) -> None:
        clip, spec = self._clip, self._spec()
        if clip is None or spec is None:
            return
        if self.decoder.spec != spec or self.decoder.path != clip.source_path:
            self._shown = None
        self.decoder.open(clip.source_path, clip.start_frame, clip.end_frame, spec)

    def _wanted(self) -> list[int]:
        frames, p, n = self._frames, self._pos, len(self._frames)
        if self._playing:
            ahead = [frames[(p + k) % n] for k in range(min(n, PLAY_AHEAD))]
            return list(dict.fromkeys(ahead))
        around = [frames[p]]
        around += [frames[p + k] for k in range(1, STEP_AHEAD + 1) if p + k < n]
        around += [frames[p - k] for k in range(1, STEP_BEHIND + 1) if p - k >= 0]
        return list(dict.fromkeys(around))

    def _request(self) -> None:
        if self._clip is None or not self._frames or self._error:
            return
        image = self.decoder.request(self._wanted())
        if image is not None:
            self._display(self._frames[self._pos], image)

    def _display(self, frame: int, image: QImage) -> None:
        self._shown = frame
        badge = ""
        if self._trainer is not None:
            w, h = self._trainer.bucket
            badge = f"{w}×{h}"
        self.view.set_image(image, badge)
        self._update_counter()

    @Slot(int, QImage)
    def _on_frame_ready(self, frame: int, image: QImage) -> None:
        if self._frames and frame == self._frames[self._pos] and self._shown != frame:
            self._display(frame, image)

    @Slot(str)
    def _on_failed(self, reason: str) -> None:
        self._error = reason
        self.pause()
        self.view.set_message(f"Cannot show this clip:\n{reason}")

    @Slot()
    def _tick(self) -> None:
        if not self._playing or not self._frames:
            return
        n = len(self._frames)
        nxt = (self._pos + 1) % n
        image = self.decoder.cached(self._frames[nxt])
        period = 1000.0 / self.playback_fps()
        now = self._clock.elapsed()
        if image is None:
            # Not decoded yet: hold this frame (never skip one) and look again shortly.
            self._request()
            self._next_due = now + period
            self._play_timer.start(max(1, int(period / 4)))
            return
        self._pos = nxt
        self.timeline.set_position(nxt)
        self._display(self._frames[nxt], image)
        self._announce()
        self._request()
        self._next_due = max(self._next_due + period, now)
        self._play_timer.start(max(1, int(self._next_due - self._clock.elapsed())))

    # --- view -------------------------------------------------------------------------------

    def _update_counter(self) -> None:
        clip = self._clip
        if clip is None or not self._frames:
            self.counter.setText("—")
            return
        frame = self.current_frame()
        n = len(self._frames)
        seconds = (frame - clip.start_frame) / float(clip.fps) if clip.fps else 0.0
        if self._trainer is not None or self.fps_box.currentData() == "training":
            text = (f"<b>{self._pos + 1}</b> / {n} @{self.playback_fps():g}"
                    f" · src {frame} · {format_time(seconds)}")
        else:
            text = (f"<b>{self._pos + 1}</b> / {n} · src {frame} · {format_time(seconds)}")
        self.counter.setText(text)
        self.counter.setToolTip(f"Position {self._pos + 1} of {n}; source frame {frame} of "
                                f"{clip.source_path.name}")

    def counter_text(self) -> str:
        """The frame counter as plain text (what a person reads under the picture)."""
        doc = self.counter.text()
        return doc.replace("<b>", "").replace("</b>", "")

    def _update_controls(self) -> None:
        has = self._clip is not None
        for w in (self.back_button, self.play_button, self.forward_button):
            w.setEnabled(has)
        self.play_button.setIcon(transport_icon("pause" if self._playing else "play"))
        self.trainer_row.setVisible(self.trainer_button.isChecked())

    def resizeEvent(self, event: QResizeEvent) -> None:
        super().resizeEvent(event)
        self._resize_timer.start()

    def _apply_view_size(self) -> None:
        if self._clip is None or self._trainer is not None:
            return
        spec = self._spec()
        if spec is not None and spec != self.decoder.spec:
            self._open_decoder()
            self._request()

    def keyPressEvent(self, event: QKeyEvent) -> None:
        key = event.key()
        if key in (Qt.Key.Key_Left, Qt.Key.Key_Comma):
            self.step(-1)
        elif key in (Qt.Key.Key_Right, Qt.Key.Key_Period):
            self.step(1)
        elif key == Qt.Key.Key_Home:
            self.pause()
            self.seek_position(0)
        elif key == Qt.Key.Key_End:
            self.pause()
            self.seek_position(len(self._frames) - 1)
        else:
            super().keyPressEvent(event)

    def mousePressEvent(self, event) -> None:
        self.setFocus(Qt.FocusReason.MouseFocusReason)
        super().mousePressEvent(event)

    # --- remembered choices -----------------------------------------------------------------

    def _restore_settings(self) -> None:
        if self.settings is None:
            return
        self.settings.beginGroup(SETTINGS_GROUP)
        mode = self.settings.value("fps", "source")
        section = self.settings.value("section", "")
        self.settings.endGroup()
        self.set_fps_mode(str(mode))
        if section:
            self.section_box.addItem(str(section), str(section))  # replaced on first use

    def _save_settings(self) -> None:
        if self.settings is None:
            return
        self.settings.beginGroup(SETTINGS_GROUP)
        self.settings.setValue("fps", str(self.fps_box.currentData()))
        if self.section_box.currentData():
            self.settings.setValue("section", str(self.section_box.currentData()))
        self.settings.endGroup()
