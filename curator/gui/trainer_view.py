"""What a trainer makes of one clip: its frames at the training fps, its bucket, its windows.

The pure helpers here answer the preview's "trainer view": which source frames a 16 fps
export shows (FFmpeg's fps filter, `resample_indices`), which frames musubi-tuner then loads,
the bucket it resizes them to (cover, then centre crop; TRAINERS.md §1.5), and the windows
head/chunk/slide/uniform/full extraction cuts (§1.7), all in the frame units of the exported
file. They reuse the export core (`build_layout`, `musubi_cache_bucket`, `FrameExtraction`), so
the preview and the export cannot disagree. `FrameTimeline` draws the result under the picture.
"""

from __future__ import annotations

import bisect
from collections.abc import Sequence
from dataclasses import dataclass
from fractions import Fraction
from typing import TYPE_CHECKING, Protocol

from PySide6.QtCore import QPointF, QRectF, QSize, Qt, Signal
from PySide6.QtGui import QColor, QFont, QMouseEvent, QPainter, QPaintEvent, QPen
from PySide6.QtWidgets import QSizePolicy, QWidget

from curator.core.export.buckets import cover_size, musubi_cache_bucket
from curator.core.export.counting import MUSUBI
from curator.core.export.extraction import (
    ARCHITECTURE_FPS,
    FrameExtraction,
    musubi_kept_indices,
)
from curator.core.export.layout import build_layout
from curator.core.export.plan import DatasetPlan, Section
from curator.core.shot_split import stored_boundaries

if TYPE_CHECKING:
    from curator.core.catalog import ClipRow
from curator.core.media.frames import resample_indices


class ClipLike(Protocol):
    """What the helpers read of a clip (a `ClipRow` has it all)."""

    id: int
    start_frame: int
    end_frame: int
    fps: Fraction
    width: int
    height: int


# --- playback sequences -------------------------------------------------------------------

def playback_frames(start: int, end: int, source_fps: Fraction | float,
                    target_fps: float | None = None) -> list[int]:
    """The source frames a player shows for `[start, end)`, in order.

    Args:
        start, end: the clip's range in its source (end exclusive).
        source_fps: the source's rate.
        target_fps: None plays every source frame; otherwise the frames a stream converted
            to this rate shows (FFmpeg's fps filter: frames dropped or repeated).

    Returns:
        Absolute source frame indices, one per displayed frame.
    """
    if end <= start:
        return []
    if target_fps is None or not source_fps:
        return list(range(start, end))
    return [start + i for i in resample_indices(end - start, source_fps, target_fps)]


def position_of(frames: Sequence[int], source_frame: int) -> int:
    """The position in a non-decreasing `frames` list that shows `source_frame`.

    That is the last entry at or before it (the frame on screen at that moment), or 0.
    """
    if not frames:
        return 0
    return max(0, bisect.bisect_right(frames, source_frame) - 1)


# --- buckets and windows ------------------------------------------------------------------

@dataclass(frozen=True)
class BucketGeometry:
    """How a frame of `size` becomes a bucket: resize to `cover`, crop `bucket` at `offset`."""

    size: tuple[int, int]
    bucket: tuple[int, int]
    cover: tuple[int, int]
    offset: tuple[int, int]

    def crop_in_source(self, source: tuple[int, int]) -> tuple[float, float, float, float]:
        """The part of a source frame (of any size with the same picture) the bucket keeps."""
        sx, sy = source[0] / self.cover[0], source[1] / self.cover[1]
        return (self.offset[0] * sx, self.offset[1] * sy, self.bucket[0] * sx,
                self.bucket[1] * sy)


def bucket_geometry(size: tuple[int, int], resolution: tuple[int, int]) -> BucketGeometry:
    """musubi's video bucket for a file of `size` under `resolution` (§1.5): cover, centre crop.

    Videos are cached with buckets on and no-upscale off whatever the config says, so the
    bucket depends only on the aspect ratio and the resolution's area.
    """
    bucket = musubi_cache_bucket(tuple(size), tuple(resolution))
    cover = cover_size(tuple(size), bucket)
    # musubi: crop_left = (image_width - bucket_width) // 2, likewise for the top
    offset = ((cover[0] - bucket[0]) // 2, (cover[1] - bucket[1]) // 2)
    return BucketGeometry(tuple(size), bucket, cover, offset)


@dataclass(frozen=True)
class TrainerFrames:
    """One clip as a section of the export plan gives it to musubi-tuner.

    Attributes:
        section: the section's name; `description` its short line.
        geometry: the bucket, for the exported file's size (`geometry.size`).
        fps: the rate of the exported file.
        source_frames: for each frame the trainer's loader yields (after its own fps dropping
            when `source_fps` is set), the source frame it shows (absolute).
        loaded: how many of them musubi loads: all, or the first `max(target_frames)` in
            head mode.
        file_frames: frames in the exported file.
        windows: distinct (start, length) windows, in musubi's order, as positions in
            `source_frames`.
        duplicates: windows musubi lists twice (they share one cache file).
    """

    section: str
    description: str
    geometry: BucketGeometry
    fps: float
    source_frames: tuple[int, ...]
    loaded: int
    file_frames: int
    windows: tuple[tuple[int, int], ...]
    duplicates: int

    @property
    def bucket(self) -> tuple[int, int]:
        return self.geometry.bucket

    def summary(self) -> str:
        """One line for people: `384×208 · 37 frames at 16 fps · 2 windows of 45`."""
        w, h = self.bucket
        text = f"{w}×{h} · {len(self.source_frames)} frames at {self.fps:g} fps"
        if self.loaded < len(self.source_frames):
            text += f" (first {self.loaded} read)"
        if not self.windows:
            return text + " · no window fits: the clip gives nothing"
        lengths: dict[int, int] = {}
        for _start, length in self.windows:
            lengths[length] = lengths.get(length, 0) + 1
        parts = [f"{n}×{length}" for length, n in sorted(lengths.items())]
        text += " · windows " + ", ".join(parts)
        if self.duplicates:
            text += f" ({self.duplicates} duplicate{'s' if self.duplicates > 1 else ''})"
        return text


def video_sections(plan: DatasetPlan) -> list[Section]:
    """The plan's video sections, the ones the trainer view can show."""
    return [s for s in plan.sections if s.is_video]


def trainer_frames(clip: ClipLike, plan: DatasetPlan, section: Section, *,
                   default_fps: float = 16.0) -> TrainerFrames:
    """What musubi-tuner trains on from `clip` in `section` of `plan`.

    The export's own layout decides the file (its size, frame count and fps), so the bucket is
    computed from the exported size exactly as musubi will, and the frames from the same
    resampling the transcoder does.

    Args:
        clip: a ClipRow (or alike with source_path, tags, caption… for the layout).
        plan: the project's dataset plan.
        section: one of its video sections.
        default_fps: the project's training fps, used when the plan names none.

    Returns:
        The frames, bucket and windows.
    """
    layout = build_layout(plan, [clip], [], MUSUBI, default_fps=default_fps)
    export = next((c for c in layout.clips if section.name in c.sections), None)
    if export is None:  # the section selects by tag or source and this clip is not in it
        export_size = (clip.width, clip.height)
        out_fps = float(layout.fps or default_fps)
        file_src = playback_frames(clip.start_frame, clip.end_frame, clip.fps, out_fps)
        source_fps = None
    else:
        export_size = (export.width, export.height)
        out_fps = float(export.out_fps)
        if layout.fps is None:  # exported at the clip's own rate
            file_src = list(range(clip.start_frame, clip.end_frame))
        else:
            file_src = playback_frames(clip.start_frame, clip.end_frame, clip.fps, out_fps)
        source_fps = layout.source_fps.get(section.name)
    extraction = section.extraction or FrameExtraction()
    head = extraction.head_limit
    if source_fps:
        # musubi drops frames itself (§1.8); with a head limit it stops loading early
        training_fps = ARCHITECTURE_FPS.get(plan.architecture, default_fps)
        kept = musubi_kept_indices(len(file_src), float(source_fps), training_fps)
        frames = [file_src[i] for i in kept]
        loaded = len(musubi_kept_indices(len(file_src), float(source_fps), training_fps, head))
        fps = training_fps
    else:
        frames = list(file_src)
        loaded = min(len(frames), head) if head is not None else len(frames)
        fps = out_fps
    windows = extraction.windows(loaded)
    distinct = list(dict.fromkeys(windows))
    return TrainerFrames(
        section=section.name, description=section.describe(),
        geometry=bucket_geometry(export_size, section.resolution), fps=fps,
        source_frames=tuple(frames), loaded=loaded, file_frames=len(file_src),
        windows=tuple(distinct), duplicates=len(windows) - len(distinct))


def transition_positions(clip: ClipRow, frames: Sequence[int]) -> list[tuple[int, int]]:
    """The clip's analysed shot boundaries as (first, end) positions in the played `frames`."""
    return [(position_of(frames, t.start), position_of(frames, t.end))
            for t in stored_boundaries(clip) or []]


# --- the timeline -------------------------------------------------------------------------

WINDOW_COLORS = ("#3fb950", "#58a6ff", "#d29922", "#bc8cff", "#f778ba", "#39c5cf")


class FrameTimeline(QWidget):
    """A frame ruler under the picture: the playhead, and the trainer's windows when given.

    Positions are indices into the sequence the preview plays (source frames, or frames at
    the training fps). Click or drag to seek.
    """

    seek_requested = Signal(int)

    LANE = 7
    RULER = 16

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("frameTimeline")
        self._length = 0
        self._position = 0
        self._windows: tuple[tuple[int, int], ...] = ()
        self._loaded: int | None = None
        self._label = ""
        self._transitions: tuple[tuple[int, int], ...] = ()
        self.setMouseTracking(False)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)
        self.setMinimumHeight(self.RULER + 6)
        self.setCursor(Qt.CursorShape.PointingHandCursor)

    # what the view shows ---------------------------------------------------------------

    def set_length(self, length: int) -> None:
        self._length = max(0, length)
        self._position = min(self._position, max(0, self._length - 1))
        self.update()

    def set_position(self, position: int) -> None:
        if position != self._position:
            self._position = position
            self.update()

    def set_windows(self, windows: Sequence[tuple[int, int]], loaded: int | None = None,
                    label: str = "") -> None:
        """Show extraction windows (start, length) and where loading stops; () for none."""
        self._windows = tuple(windows)
        self._loaded = loaded
        self._label = label
        lanes = len(self._lanes())
        self.setFixedHeight(self.RULER + 6 + lanes * (self.LANE + 2) + (14 if lanes else 0))
        self.update()

    def windows(self) -> tuple[tuple[int, int], ...]:
        return self._windows

    def set_transitions(self, spans: Sequence[tuple[int, int]]) -> None:
        """Mark shot boundaries: (first, end) positions; a cut has first == end."""
        self._transitions = tuple(spans)
        self.update()

    def transitions(self) -> tuple[tuple[int, int], ...]:
        return self._transitions

    def _paint_transitions(self, painter: QPainter, ruler: QRectF) -> None:
        """A red band over a transition's frames, a red line at a cut."""
        for first, end in self._transitions:
            x0, x1 = self._x(first), self._x(max(end, first))
            painter.fillRect(QRectF(x0 - 1, ruler.top() - 2, max(2.0, x1 - x0 + 2),
                                    ruler.height() + 4), QColor(248, 81, 73, 200))

    def sizeHint(self) -> QSize:  # noqa: N802 - Qt API
        return QSize(400, self.minimumHeight())

    # geometry --------------------------------------------------------------------------

    def _lanes(self) -> list[list[tuple[int, int]]]:
        """Windows packed into lanes: one length per group, overlapping ones on new lanes."""
        lanes: list[list[tuple[int, int]]] = []
        for length in sorted({w[1] for w in self._windows}):
            group = sorted(w for w in self._windows if w[1] == length)
            group_lanes: list[list[tuple[int, int]]] = []
            for window in group:
                for lane in group_lanes:
                    if lane[-1][0] + lane[-1][1] <= window[0]:
                        lane.append(window)
                        break
                else:
                    if len(group_lanes) < 3:
                        group_lanes.append([window])
                    else:  # many overlapping windows (slide): draw them over each other
                        group_lanes[len(group) % 3].append(window)
            lanes.extend(group_lanes)
        return lanes

    def _x(self, frame: float) -> float:
        width = max(1, self.width() - 12)
        return 6 + width * (frame / max(1, self._length))

    def _frame_at(self, x: float) -> int:
        width = max(1, self.width() - 12)
        frame = int((x - 6) / width * self._length)
        return min(max(0, frame), max(0, self._length - 1))

    # painting and input ----------------------------------------------------------------

    def paintEvent(self, _event: QPaintEvent) -> None:  # noqa: N802 - Qt API
        painter = QPainter(self)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing, False)
        palette = self.palette()
        painter.fillRect(self.rect(), palette.window())
        n = self._length
        ruler = QRectF(6, 3, self.width() - 12, self.RULER - 4)
        painter.fillRect(ruler, QColor("#30363d"))
        if n > 0 and self._loaded is not None and self._loaded < n:
            # frames the trainer never loads (head mode reads only the first max(T))
            gone = QRectF(QPointF(self._x(self._loaded), ruler.top()), ruler.bottomRight())
            painter.fillRect(gone, QColor(0, 0, 0, 110))
        if n > 0:
            played = QRectF(ruler.left(), ruler.top(), self._x(self._position + 1) - ruler.left(),
                            ruler.height())
            painter.fillRect(played, QColor("#1f6feb"))
            # ticks every second-ish: 10, 16, 24, 50… whichever gives room
            step = next((s for s in (1, 2, 4, 5, 8, 10, 16, 20, 24, 25, 50, 100, 200, 500, 1000)
                         if ruler.width() / max(1, n) * s >= 5), 1000)
            painter.setPen(QColor(230, 237, 243, 70))
            for f in range(0, n + 1, step):
                x = self._x(f)
                painter.drawLine(QPointF(x, ruler.bottom() - 3), QPointF(x, ruler.bottom()))
            self._paint_transitions(painter, ruler)
        y = self.RULER + 4
        lanes = self._lanes()
        lengths = sorted({w[1] for w in self._windows})
        for lane in lanes:
            for start, length in lane:
                color = QColor(WINDOW_COLORS[lengths.index(length) % len(WINDOW_COLORS)])
                inside = start <= self._position < start + length
                color.setAlpha(255 if inside else 170)
                rect = QRectF(self._x(start), y, max(2.0, self._x(start + length) - self._x(start)),
                              self.LANE)
                painter.fillRect(rect, color)
                painter.setPen(QPen(QColor(13, 17, 23), 1))
                painter.drawRect(rect)
            y += self.LANE + 2
        if lanes:
            font = QFont(self.font())
            font.setPointSizeF(max(7.0, font.pointSizeF() - 1.5))
            painter.setFont(font)
            x = 6.0
            for i, length in enumerate(lengths):
                color = QColor(WINDOW_COLORS[i % len(WINDOW_COLORS)])
                painter.fillRect(QRectF(x, y + 3, 8, 8), color)
                text = f"{length} frame{'s' if length != 1 else ''}"
                painter.setPen(palette.text().color())
                painter.drawText(QPointF(x + 11, y + 11), text)
                x += 11 + painter.fontMetrics().horizontalAdvance(text) + 12
            if self._label:
                painter.setPen(palette.placeholderText().color())
                painter.drawText(QRectF(x, y, self.width() - x - 6, 14),
                                 Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter,
                                 self._label)
        if n > 0:
            x = self._x(self._position + 0.5)
            painter.setPen(QPen(QColor("#f0f6fc"), 2))
            painter.drawLine(QPointF(x, 1), QPointF(x, self.height() - (16 if lanes else 1)))
        painter.end()

    def mousePressEvent(self, event: QMouseEvent) -> None:  # noqa: N802 - Qt API
        if event.button() == Qt.MouseButton.LeftButton and self._length:
            self.seek_requested.emit(self._frame_at(event.position().x()))

    def mouseMoveEvent(self, event: QMouseEvent) -> None:  # noqa: N802 - Qt API
        if event.buttons() & Qt.MouseButton.LeftButton and self._length:
            self.seek_requested.emit(self._frame_at(event.position().x()))
