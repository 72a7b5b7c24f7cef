"""What a trainer makes of one clip: its frames at the training fps, its bucket, its windows.

The pure helpers here answer the preview's "trainer view": which source frames a 16 fps
export shows (FFmpeg's fps filter, `resample_indices`), which frames musubi-tuner then loads,
the bucket it resizes them to (cover, then centre crop; TRAINERS.md §1.5), and the windows
head/chunk/slide/uniform/full extraction cuts (§1.7), all in the frame units of the exported
file. They reuse the export core (`build_layout`, `musubi_cache_bucket`, `FrameExtraction`), so
the preview and the export cannot disagree. The GUI's `FrameTimeline`
(curator.gui.trainer_view) draws the result under the preview's picture.
"""

from __future__ import annotations

import bisect
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from typing import Any, Protocol

from curator.core.export.buckets import cover_size, musubi_cache_bucket
from curator.core.export.counting import MUSUBI
from curator.core.export.extraction import (
    ARCHITECTURE_FPS,
    FrameExtraction,
    musubi_kept_indices,
)
from curator.core.export.layout import build_layout
from curator.core.export.plan import (
    DEFAULT_PRESET,
    DatasetPlan,
    PlanError,
    Section,
    load_preset,
    load_project_plan,
)
from curator.core.media.resample import resample_indices
from curator.core.shot_split import stored_boundaries

log = logging.getLogger(__name__)


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


def transition_positions(clip: Any, frames: Sequence[int]) -> list[tuple[int, int]]:
    """A clip's analysed shot boundaries as (first, end) positions in the played `frames`."""
    return [(position_of(frames, t.start), position_of(frames, t.end))
            for t in stored_boundaries(clip) or []]


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
    crop: tuple[int, int, int, int] | None = None  # what export cuts first (bars, a person's)

    @property
    def bucket(self) -> tuple[int, int]:
        return self.geometry.bucket

    def decode_box(self, source: tuple[int, int]) -> tuple[int, int, tuple[int, int, int, int]]:
        """Decode the source at (w, h), then cut this box: the bucket the trainer sees, taken
        from the export crop's part of the frame when the clip is cropped."""
        g = self.geometry
        cx, cy, cw, ch = self.crop or (0, 0, source[0], source[1])
        sx, sy = g.cover[0] / cw, g.cover[1] / ch
        w, h = round(source[0] * sx), round(source[1] * sy)
        w, h = w + w % 2, h + h % 2  # libswscale sizes are even
        x, y = round(cx * sx) + g.offset[0], round(cy * sy) + g.offset[1]
        bw, bh = g.bucket
        return w, h, (max(0, min(x, w - bw)), max(0, min(y, h - bh)), bw, bh)

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
        windows=tuple(distinct), duplicates=len(windows) - len(distinct),
        crop=export.crop if export is not None else None)


def plan_for_preview(root: Path | None) -> DatasetPlan:
    """The project's plan when it has video sections to show, else the default preset.

    An unreadable project plan is logged and the preset shown: the preview stays usable.
    """
    plan: DatasetPlan | None = None
    if root is not None:
        try:
            plan = load_project_plan(root)
        except (PlanError, OSError) as exc:
            log.warning("dataset plan unreadable, using the default preset: %s", exc)
    if plan is None or not video_sections(plan):
        plan = load_preset(DEFAULT_PRESET)
    return plan
