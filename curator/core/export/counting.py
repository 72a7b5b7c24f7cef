"""Items, batches and steps per epoch, counted the way the trainers count them.

musubi-tuner (TRAINERS.md §1.10): a sample is a cache file, one per distinct
`(stem, start, length, cached W×H)`; items = files × num_repeats; batches are taken per bucket
and per dataset, rounding up. diffusion-pipe (§4.3): one window per video per size bucket;
buckets of equal size are joined across directories and truncated down to a multiple of the
global batch.

Everything here is pure: plain dataclasses in, counts and warnings out. The GUI's Export tab, the
train launcher and `curator export --dry-run` call the same functions, and the warnings name
the clips, so that "1078 instead of 1080" is explained before anything is trained.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from fractions import Fraction
from typing import Any

from curator.core.export.buckets import (
    BucketSelector,
    dp_ar_buckets,
    dp_bucket_size,
    dp_dedup_and_sort,
    dp_nearest_ar,
    dp_resolution_side,
    musubi_cache_bucket,
)
from curator.core.export.extraction import (
    FrameExtraction,
    loaded_frame_count,
    round_frames,
    uniform_collapses,
)
from curator.core.export.plan import DatasetPlan, DiffusionPipeOptions, Section
from curator.core.jsonable import fields_json
from curator.core.trainers import Trainer
from curator.core.trigger import starts_with_trigger

MUSUBI = Trainer.MUSUBI.plan_id
DIFFUSION_PIPE = Trainer.DIFFUSION_PIPE.plan_id
_MAX_NAMED = 8  # clips named in one aggregated warning before "and N more"


@dataclass(frozen=True)
class VideoMedia:
    """One exported clip file as the trainer will find it.

    Attributes:
        key: a stable id (`clip:12`).
        stem: the file name without extension (one `.txt` caption per stem).
        label: how people know it: `film.mkv [120, 165)`.
        frames: frames PyAV decodes from the exported file.
        fps: frame rate of the exported file.
        width, height: frame size of the exported file.
        caption: the text of its `.txt`, or None when it has none.
        source_frames: the clip's length in its source (before fps conversion), for messages.
        source_fps: the source's rate, for messages.
    """

    key: str
    stem: str
    label: str
    frames: int
    fps: Fraction
    width: int
    height: int
    caption: str | None
    source_frames: int | None = None
    source_fps: Fraction | None = None


@dataclass(frozen=True)
class ImageMedia:
    """One exported image file (size as written) and its caption."""

    key: str
    stem: str
    label: str
    width: int
    height: int
    caption: str | None


Media = VideoMedia | ImageMedia


@dataclass(frozen=True)
class CountWarning:
    """Something a person should know before training; names the clip and the section.

    Attributes:
        code: a stable id: short, collapse, no_caption, no_trigger, same_stem, target_rounded,
            uniform_as_head, upscale, too_short, bucket_dropped, bucket_truncated, one_window,
            mixed_fps, empty_section, frames_changed, watermark.
        message: one sentence for people.
        severity: "warning", or "error" for what stops the trainer (or was left out for it).
        section: the section it concerns, if any.
        item: the media key it concerns, if any.
    """

    code: str
    message: str
    severity: str = "warning"
    section: str | None = None
    item: str | None = None

    def __str__(self) -> str:
        return self.message

    def to_json(self) -> dict[str, Any]:
        return fields_json(self, "code", "severity", "message", "section", "item")


@dataclass(frozen=True)
class MediaCount:
    """What one file gives one section.

    Attributes:
        frames: the length the trainer cuts windows from (musubi: after `source_fps` dropping
            and the head limit; diffusion-pipe: its frame count at the model's fps); 1 for images.
        windows: distinct `(start, length)` pairs, one cache file each; `((0, 1),)` for an image.
        cached_size: the `(width, height)` the trainer caches it at.
        buckets: the training bucket label of each window.
    """

    key: str
    stem: str
    label: str
    frames: int
    windows: tuple[tuple[int, int], ...]
    cached_size: tuple[int, int]
    buckets: tuple[str, ...] = ()

    @property
    def files(self) -> int:
        return len(self.windows)

    def to_json(self) -> dict[str, Any]:
        return {"key": self.key, "stem": self.stem, "label": self.label, "frames": self.frames,
                "windows": [list(w) for w in self.windows], "items": self.files,
                "cached_size": list(self.cached_size)}


@dataclass(frozen=True)
class BucketCount:
    """One training bucket: `768x416x21` for musubi, `1.846x768x416x21` for diffusion-pipe."""

    key: str
    files: int
    items: int
    batches: int

    def to_json(self) -> dict[str, Any]:
        return {"bucket": self.key, "files": self.files, "items": self.items,
                "batches": self.batches}


@dataclass
class SectionCount:
    """The count for one section: per clip, per bucket and in total."""

    name: str
    kind: str
    description: str
    num_repeats: int
    batch_size: int
    media: list[MediaCount] = field(default_factory=list)
    buckets: list[BucketCount] = field(default_factory=list)
    warnings: list[CountWarning] = field(default_factory=list)
    source_fps: float | None = None

    @property
    def files(self) -> int:
        """Distinct cache files (before repeats)."""
        return sum(m.files for m in self.media)

    @property
    def items(self) -> int:
        return sum(b.items for b in self.buckets)

    @property
    def batches(self) -> int:
        return sum(b.batches for b in self.buckets)

    def to_json(self) -> dict[str, Any]:
        return {
            **fields_json(self, "name", "kind", "description", "files", "num_repeats",
                          "batch_size", "items", "batches", "source_fps"),
            "buckets": [b.to_json() for b in self.buckets],
            "media": [m.to_json() for m in self.media],
            "warnings": [w.message for w in self.warnings],
        }


@dataclass
class PlanCount:
    """Counts for a whole plan and one trainer."""

    trainer: str
    sections: list[SectionCount]
    warnings: list[CountWarning] = field(default_factory=list)
    total_items: int = 0
    total_batches: int = 0
    steps_per_epoch: int = 0
    epochs: int = 1

    @property
    def total_steps(self) -> int:
        return self.steps_per_epoch * self.epochs

    def all_warnings(self) -> list[CountWarning]:
        """Plan-level warnings first, then each section's, in section order."""
        out = list(self.warnings)
        for section in self.sections:
            out.extend(section.warnings)
        return out

    @property
    def errors(self) -> list[CountWarning]:
        return [w for w in self.all_warnings() if w.severity == "error"]

    def section(self, name: str) -> SectionCount:
        for s in self.sections:
            if s.name == name:
                return s
        raise KeyError(name)

    def to_json(self) -> dict[str, Any]:
        return {
            **fields_json(self, "trainer", "total_items", "total_batches", "steps_per_epoch",
                          "epochs", "total_steps"),
            "sections": [s.to_json() for s in self.sections],
            "warnings": [w.to_json() for w in self.warnings],
        }


def _fps_text(fps: Fraction | float) -> str:
    value = float(fps)
    return f"{value:g}" if value == int(value) else f"{value:.3f}"


def _names(labels: Sequence[str]) -> str:
    shown = ", ".join(labels[:_MAX_NAMED])
    more = len(labels) - _MAX_NAMED
    return shown + (f" and {more} more" if more > 0 else "")


def target_warnings(section: Section) -> list[CountWarning]:
    """Targets that are not 4n+1 (and what they become), and uniform ×1 turned into head."""
    ext = section.extraction
    if ext is None:
        return []
    out = []
    if ext.mode != "full":
        for t in sorted(set(ext.target_frames)):
            r = round_frames(t)
            if r != t:
                out.append(CountWarning(
                    "target_rounded",
                    f"section '{section.name}': target_frames {t} is not 4n+1; the trainer "
                    f"rounds it down to {r}.", section=section.name))
    if ext.mode == "uniform" and ext.frame_sample == 1:
        out.append(CountWarning(
            "uniform_as_head",
            f"section '{section.name}': uniform with frame_sample 1 is run as head by "
            f"musubi-tuner.", section=section.name))
    return out


def caption_warnings(media: Sequence[Media], trigger: str, *, fatal_keys: set[str] = frozenset()
                     ) -> list[CountWarning]:
    """Missing captions and captions without the trigger phrase, once per file.

    Args:
        media: every file of the export.
        trigger: the project's trigger phrase ("" to skip that check).
        fatal_keys: files whose missing caption stops the trainer (musubi videos).
    """
    out = []
    seen: set[str] = set()
    for m in media:
        if m.key in seen:
            continue
        seen.add(m.key)
        kind = "clip" if isinstance(m, VideoMedia) else "image"
        if not (m.caption or "").strip():
            if m.key in fatal_keys:
                out.append(CountWarning(
                    "no_caption",
                    f"{kind} {m.label} has no caption: musubi-tuner's caching stops with "
                    f"FileNotFoundError on a video without one, so it is left out.",
                    severity="error", item=m.key))
            else:
                out.append(CountWarning(
                    "no_caption",
                    f"{kind} {m.label} has no caption: the trainer skips it, so it is left out.",
                    item=m.key))
        elif not starts_with_trigger(m.caption, trigger):
            out.append(CountWarning(
                "no_trigger",
                f"{kind} {m.label}: the caption does not start with the trigger phrase "
                f"'{trigger}'.", item=m.key))
    return out


def _taken(section: Section, media: Sequence[Media]) -> list[Media]:
    """The files a section trains on: the captioned ones of its kind (images or clips)."""
    return [m for m in media
            if (m.caption or "").strip() and isinstance(m, ImageMedia) != section.is_video]


def _bucket_label(size: tuple[int, int], frames: int | None = None) -> str:
    return f"{size[0]}x{size[1]}" + (f"x{frames}" if frames is not None else "")


# --- musubi-tuner ------------------------------------------------------------------------

def count_musubi_section(section: Section, media: Sequence[Media], *,
                         enable_bucket: bool = True, bucket_no_upscale: bool = False,
                         source_fps: float | None = None, target_fps: float = 16.0,
                         reso_steps: int = 16) -> SectionCount:
    """Count one `[[datasets]]` entry as musubi-tuner does (§1.10).

    Files without a caption are not counted (the exporter leaves them out).

    Args:
        section: the section (its resolution, extraction, repeats and batch size).
        media: the files of its folder.
        enable_bucket, bucket_no_upscale: the `[general]` keys.
        source_fps: the dataset's `source_fps`, when one is written.
        target_fps: the architecture's training fps.
        reso_steps: bucket divisibility.

    Returns:
        Per-file windows, per-bucket batches, and warnings naming the short clips.
    """
    result = SectionCount(section.name, section.kind, section.describe(), section.num_repeats,
                          section.batch_size, source_fps=source_fps)
    result.warnings.extend(target_warnings(section))
    train_selector = BucketSelector(section.resolution, enable_bucket, bucket_no_upscale,
                                    reso_steps)
    files_per_bucket: dict[tuple[Any, ...], int] = {}
    upscaled: list[str] = []
    for m in _taken(section, media):
        if isinstance(m, ImageMedia):
            bucket = train_selector.get_bucket_resolution((m.width, m.height))
            key = (*bucket,)
            files_per_bucket[key] = files_per_bucket.get(key, 0) + 1
            result.media.append(MediaCount(m.key, m.stem, m.label, 1, ((0, 1),), bucket,
                                           (_bucket_label(bucket),)))
            if bucket[0] * bucket[1] > m.width * m.height:
                upscaled.append(m.label)
            continue
        ext = section.extraction or FrameExtraction()
        n = loaded_frame_count(m.frames, source_fps=source_fps, target_fps=target_fps,
                               end_frame=ext.head_limit)
        windows = tuple(ext.distinct_windows(n))
        cached = musubi_cache_bucket((m.width, m.height), section.resolution, reso_steps)
        train_bucket = train_selector.get_bucket_resolution(cached)
        labels = []
        for _start, length in windows:
            key = (*train_bucket, length)
            files_per_bucket[key] = files_per_bucket.get(key, 0) + 1
            labels.append(_bucket_label(train_bucket, length))
        result.media.append(MediaCount(m.key, m.stem, m.label, n, windows, cached,
                                       tuple(labels)))
        if cached[0] * cached[1] > m.width * m.height:
            upscaled.append(m.label)
        result.warnings.extend(_short_warnings(section, ext, m, n, source_fps))
    for key in sorted(files_per_bucket):
        files = files_per_bucket[key]
        items = files * section.num_repeats
        label = _bucket_label((key[0], key[1]), key[2] if len(key) > 2 else None)
        result.buckets.append(BucketCount(label, files, items,
                                          math.ceil(items / section.batch_size)))
    if upscaled:
        result.warnings.append(CountWarning(
            "upscale",
            f"section '{section.name}': {len(upscaled)} file(s) are smaller than their "
            f"{section.resolution[0]}×{section.resolution[1]} bucket and will be upscaled by "
            f"the trainer: {_names(upscaled)}.", section=section.name))
    if not result.buckets:
        result.warnings.append(CountWarning(
            "empty_section", f"section '{section.name}' gives no items.", section=section.name))
    return result


def _short_warnings(section: Section, ext: FrameExtraction, m: VideoMedia, n: int,
                    source_fps: float | None) -> list[CountWarning]:
    """A clip shorter than a target (by how much), and uniform windows that collapse."""
    out = []
    if ext.mode == "full":
        return out
    rate = f"after source_fps {source_fps:g}" if source_fps else f"at {_fps_text(m.fps)} fps"
    mode = ext.effective_mode
    for t in ext.targets:
        if n < t:
            lost = ext.frame_sample if mode == "uniform" else 1
            what = f"{t}-frame window" if lost == 1 else f"{lost} windows of {t} frames"
            out.append(CountWarning(
                "short",
                f"clip {m.label} has {n} frames {rate}: {t - n} short of the {t}-frame "
                f"target of section '{section.name}', so it loses its {what}.",
                section=section.name, item=m.key))
        elif mode == "uniform":
            lost = uniform_collapses(n, t, ext.frame_sample)
            if lost:
                out.append(CountWarning(
                    "collapse",
                    f"clip {m.label} has {n} frames {rate}: its {ext.frame_sample} windows of "
                    f"{t} frames in section '{section.name}' start at the same frame and "
                    f"collapse into {ext.frame_sample - lost} cache file"
                    f"{'s' if ext.frame_sample - lost != 1 else ''} ({lost} item"
                    f"{'s' if lost != 1 else ''} fewer).",
                    section=section.name, item=m.key))
    return out


def musubi_steps(total_batches: int, epochs: int, num_processes: int = 1,
                 gradient_accumulation_steps: int = 1) -> int:
    """`max_train_steps` for `--max_train_epochs E` (§1.10.7)."""
    return epochs * math.ceil(total_batches / num_processes / gradient_accumulation_steps)


def count_musubi(plan: DatasetPlan, members: Mapping[str, Sequence[Media]], *,
                 source_fps: Mapping[str, float | None] | None = None, trigger: str = "",
                 extra_warnings: Sequence[CountWarning] = ()) -> PlanCount:
    """Count a whole plan for musubi-tuner.

    Args:
        plan: the sections and `[general]` settings.
        members: section name → the files of its folder.
        source_fps: section name → the `source_fps` written for it (None or absent: unset).
        trigger: the trigger phrase every caption should contain ("" to skip the check).
        extra_warnings: plan-level warnings found elsewhere (e.g. renamed stems).

    Returns:
        Items, batches and steps; `total_items` is what the trainer prints as
        "num train items", `total_batches` its "num batches per epoch".
    """
    source_fps = source_fps or {}
    sections = [
        count_musubi_section(
            s, members.get(s.name, ()), enable_bucket=plan.enable_bucket,
            bucket_no_upscale=plan.bucket_no_upscale, source_fps=source_fps.get(s.name),
            target_fps=plan.training_fps)
        for s in plan.sections
    ]
    fatal = {m.key for s in plan.sections if s.is_video
             for m in members.get(s.name, ()) if isinstance(m, VideoMedia)}
    every = [m for s in plan.sections for m in members.get(s.name, ())]
    result = PlanCount(MUSUBI, sections, epochs=plan.epochs)
    result.warnings.extend(extra_warnings)
    result.warnings.extend(caption_warnings(every, trigger, fatal_keys=fatal))
    result.total_items = sum(s.items for s in sections)
    result.total_batches = sum(s.batches for s in sections)
    result.steps_per_epoch = musubi_steps(result.total_batches, 1, plan.num_processes,
                                          plan.gradient_accumulation_steps)
    return result


# --- diffusion-pipe ----------------------------------------------------------------------

def dp_frame_buckets(section: Section) -> list[int]:
    """The `frame_buckets` written for a section (1 is always there, as diffusion-pipe adds it)."""
    if not section.is_video or section.extraction is None:
        return [1]
    ext = section.extraction
    if ext.mode == "full":
        buckets = {round_frames(ext.max_frames)}
    else:
        buckets = set(ext.targets)
    return sorted(buckets | {1})


def dp_plan_ars(plan: DatasetPlan) -> list[float]:
    """The AR buckets used for diffusion-pipe: the plan's, or its sections' ratios both ways."""
    dp = plan.diffusion_pipe
    if not dp.enable_ar_bucket:
        return [1.0]
    if dp.ar_buckets:
        return dp_ar_buckets(ar_buckets=list(dp.ar_buckets))
    ratios: set[float] = set()
    for s in plan.sections:
        w, h = s.resolution
        ratios.update({w / h, h / w})
    return dp_dedup_and_sort(ratios)


def dp_video_frames(m: VideoMedia, framerate: float) -> int:
    """diffusion-pipe's frame count of a video at the model's fps: `int(n * 16 / fps)` (§4.2)."""
    return int(m.frames * framerate / float(m.fps))


def count_diffusion_pipe(plan: DatasetPlan, members: Mapping[str, Sequence[Media]], *,
                         trigger: str = "", extra_warnings: Sequence[CountWarning] = ()
                         ) -> PlanCount:
    """Count a plan for diffusion-pipe: one `[[directory]]` per section (§4.3).

    Per-section `items` are before the global-batch truncation (a bucket may be shared by
    several directories); `total_items` and `steps_per_epoch` are after it, as trained.

    Args:
        plan: the sections and `[diffusion_pipe]` options.
        members: section name → the files of its folder.
        trigger: the trigger phrase ("" to skip the check).
        extra_warnings: plan-level warnings found elsewhere.
    """
    dp = plan.diffusion_pipe
    ars = dp_plan_ars(plan)
    merged: dict[tuple[Any, ...], int] = {}
    sections: list[SectionCount] = []
    for s in plan.sections:
        sections.append(_dp_section(s, members.get(s.name, ()), dp, ars, merged))
    count = PlanCount(DIFFUSION_PIPE, sections, epochs=plan.epochs)
    count.warnings.extend(extra_warnings)
    every = [m for s in plan.sections for m in members.get(s.name, ())]
    count.warnings.extend(caption_warnings(every, trigger))
    _dp_truncate(count, merged, dp)
    count.total_batches = count.steps_per_epoch
    return count


def _dp_section(s: Section, section_members: Sequence[Media], dp: DiffusionPipeOptions,
                ars: Sequence[float], merged: dict[tuple[Any, ...], int]) -> SectionCount:
    """One section for diffusion-pipe: its windows, buckets and items (added to `merged`)."""
    result = SectionCount(s.name, s.kind, s.describe(), s.num_repeats, s.batch_size)
    result.warnings.extend(w for w in target_warnings(s) if w.code == "target_rounded")
    frame_buckets = dp_frame_buckets(s)
    video_buckets = [b for b in frame_buckets if b > 1]
    if s.is_video and s.extraction is not None and (
            len(video_buckets) > 1 or s.extraction.effective_mode not in ("head", "full")):
        result.warnings.append(CountWarning(
            "one_window",
            f"section '{s.name}': diffusion-pipe cuts one window per video (from the "
            f"start, at the longest frame bucket that fits), not musubi-tuner's "
            f"{s.extraction.mode} windows.", section=s.name))
    side = round(dp_resolution_side(s.resolution), 3)
    own: dict[tuple[Any, ...], int] = {}
    short: list[str] = []
    for m in _taken(s, section_members):
        frames = 1 if isinstance(m, ImageMedia) else dp_video_frames(m, dp.framerate)
        size = (m.width, m.height)
        fitting = [b for b in frame_buckets if b <= frames]
        bucket_frames = fitting[-1] if fitting else None
        if isinstance(m, VideoMedia) and (bucket_frames is None or bucket_frames == 1):
            smallest = video_buckets[0] if video_buckets else 1
            short.append(m.label)
            result.warnings.append(CountWarning(
                "too_short",
                f"clip {m.label} has {frames} frames at {dp.framerate:g} fps: "
                f"{smallest - frames} short of the smallest video bucket ({smallest}) of "
                f"section '{s.name}', so diffusion-pipe skips it.",
                section=s.name, item=m.key))
            continue
        ar = dp_nearest_ar(size, ars)
        w, h = dp_bucket_size(ar, s.resolution)
        key = (round(ar, 3), w, h, int(bucket_frames))
        own[key] = own.get(key, 0) + 1
        cached_frames = round_frames(int(bucket_frames))
        result.media.append(MediaCount(
            m.key, m.stem, m.label, frames, ((0, cached_frames),), (w, h),
            (f"{ar:.3f}x{w}x{h}x{bucket_frames}",)))
    for key in sorted(own):
        items = own[key] * s.num_repeats
        global_batch = dp.global_batch(images=key[3] == 1)
        result.buckets.append(BucketCount(f"{key[0]:.3f}x{key[1]}x{key[2]}x{key[3]}",
                                          own[key], items, items // global_batch))
        merged[key] = merged.get(key, 0) + items
    if not result.buckets:
        result.warnings.append(CountWarning(
            "empty_section", f"section '{s.name}' gives no items (side {side:g}).",
            section=s.name))
    return result


def _dp_truncate(count: PlanCount, merged: dict[tuple[Any, ...], int],
                 dp: DiffusionPipeOptions) -> None:
    """Each bucket keeps a multiple of the global batch (shared by all its directories)."""
    for key in sorted(merged):
        items = merged[key]
        global_batch = dp.global_batch(images=key[3] == 1)
        kept = items // global_batch * global_batch
        label = f"{key[0]:.3f}x{key[1]}x{key[2]}x{key[3]}"
        if kept == 0:
            count.warnings.append(CountWarning(
                "bucket_dropped",
                f"bucket {label} has {items} item(s), fewer than the global batch of "
                f"{global_batch}: diffusion-pipe drops it entirely."))
        elif kept < items:
            count.warnings.append(CountWarning(
                "bucket_truncated",
                f"bucket {label} has {items} items; diffusion-pipe keeps {kept} (a multiple of "
                f"the global batch of {global_batch}) and drops {items - kept} each epoch."))
        count.total_items += kept
        count.steps_per_epoch += kept // global_batch


def count_plan(plan: DatasetPlan, members: Mapping[str, Sequence[Media]], trainer: str, *,
               source_fps: Mapping[str, float | None] | None = None, trigger: str = "",
               extra_warnings: Sequence[CountWarning] = ()) -> PlanCount:
    """Count for either trainer (`musubi` or `diffusion-pipe`).

    Raises:
        ValueError: an unknown trainer.
    """
    if trainer == MUSUBI:
        return count_musubi(plan, members, source_fps=source_fps, trigger=trigger,
                            extra_warnings=extra_warnings)
    if trainer == DIFFUSION_PIPE:
        return count_diffusion_pipe(plan, members, trigger=trigger, extra_warnings=extra_warnings)
    raise ValueError(f"unknown trainer {trainer!r} (musubi or diffusion-pipe)")
