"""What an export will contain, decided before any file is written.

For each accepted clip: its readable, unique stem, the size it is transcoded to (the largest
size any section that uses it needs, never upscaled), its frame count at the export fps (the
exact number the transcoder writes), and the sections and folders it goes to. For each image
likewise. This is pure: catalog rows in, a layout out, so that a dry run and the export agree.
"""

from __future__ import annotations

import hashlib
import json
import math
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from fractions import Fraction
from pathlib import Path
from typing import Protocol

from curator.core.export.buckets import (
    BucketSelector,
    cover_scale,
    dp_bucket_size,
    dp_nearest_ar,
    musubi_cache_bucket,
)
from curator.core.export.counting import (
    DIFFUSION_PIPE,
    MUSUBI,
    CountWarning,
    ImageMedia,
    Media,
    VideoMedia,
    dp_plan_ars,
)
from curator.core.export.crop import clip_crop
from curator.core.export.plan import DatasetPlan, Section
from curator.core.media.resample import resampled_frame_count

# Bump when the transcoder's output for the same inputs changes, so old exports re-encode.
ENCODER_VERSION = 1
VIDEOS_DIR = "videos"
IMAGES_DIR = "images"
SECTIONS_DIR = "sections"
CACHE_DIR = "cache"
# musubi-tuner's image extensions (§1.4); a file in another format is re-encoded as PNG.
COPYABLE_IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".webp", ".bmp")
_UNSAFE = re.compile(r"[^\w-]+")


class ClipLike(Protocol):
    """What the layout reads from a clip (`ClipRow` has it all)."""

    id: int
    source_id: int
    source_path: Path
    source_hash: str
    start_frame: int
    end_frame: int
    fps: Fraction
    width: int
    height: int
    caption: str | None
    caption_origin: str | None
    tags: tuple[str, ...]


class ImageLike(Protocol):
    """What the layout reads from an image (`ImageRow` has it all)."""

    id: int
    path: Path
    content_hash: str
    width: int
    height: int
    caption: str | None
    caption_origin: str | None
    crop: tuple[int, int, int, int] | None
    tags: tuple[str, ...]


def safe_stem(text: str, fallback: str = "item") -> str:
    """A file stem that every trainer and shell accepts: letters, digits, `-` and `_`."""
    stem = _UNSAFE.sub("_", text).strip("_")
    return stem or fallback


def _ceil_even(x: float) -> int:
    # a hair below the integer: 1920 * 0.4 must give 768, not 770
    return int(math.ceil(x / 2 - 1e-6)) * 2


@dataclass(frozen=True)
class ClipExport:
    """One clip file of the export.

    Attributes:
        frames: frames the transcoder writes: `len(resample_indices(...))` of the source range.
        width, height: the size written (even, for H.264 4:2:0).
        out_fps: the rate written.
        stem: file name without extension, unique among the export's clips.
        sections: the sections whose folders hold it.
    """

    key: str
    clip_id: int
    source_path: Path
    source_hash: str
    start: int
    end: int
    source_fps: Fraction
    out_fps: Fraction
    frames: int
    width: int
    height: int
    stem: str
    label: str
    caption: str | None
    caption_origin: str | None
    sections: tuple[str, ...]
    crop: tuple[int, int, int, int] | None = None  # source px cut out before scaling

    @property
    def filename(self) -> str:
        return f"{self.stem}.mp4"

    def fingerprint(self, crf: int, preset: str) -> str:
        """Changes exactly when the encoded file would differ."""
        data = {"v": ENCODER_VERSION, "source": self.source_hash, "start": self.start,
                "end": self.end, "fps": f"{self.out_fps.numerator}/{self.out_fps.denominator}",
                "size": [self.width, self.height], "crf": crf, "preset": preset}
        if self.crop is not None:  # uncropped clips keep their fingerprint (no re-encode)
            data["crop"] = list(self.crop)
        return hashlib.sha256(json.dumps(data, sort_keys=True).encode()).hexdigest()[:32]

    def media(self, frames: int | None = None) -> VideoMedia:
        return VideoMedia(self.key, self.stem, self.label,
                          self.frames if frames is None else frames, self.out_fps, self.width,
                          self.height, self.caption, self.end - self.start, self.source_fps)


@dataclass(frozen=True)
class ImageExport:
    """One image file of the export (cropped and scaled down when needed, else copied)."""

    key: str
    image_id: int
    source_path: Path
    source_hash: str
    crop: tuple[int, int, int, int] | None
    width: int
    height: int
    suffix: str
    copy: bool
    stem: str
    label: str
    caption: str | None
    caption_origin: str | None
    sections: tuple[str, ...]

    @property
    def filename(self) -> str:
        return f"{self.stem}{self.suffix}"

    def fingerprint(self) -> str:
        data = {"v": ENCODER_VERSION, "source": self.source_hash,
                "crop": list(self.crop) if self.crop else None,
                "size": [self.width, self.height], "suffix": self.suffix, "copy": self.copy}
        return hashlib.sha256(json.dumps(data, sort_keys=True).encode()).hexdigest()[:32]

    def media(self) -> ImageMedia:
        return ImageMedia(self.key, self.stem, self.label, self.width, self.height, self.caption)


@dataclass
class ExportLayout:
    """Everything an export writes, and which section sees which file."""

    plan: DatasetPlan
    trainer: str
    fps: float | None
    clips: list[ClipExport] = field(default_factory=list)
    images: list[ImageExport] = field(default_factory=list)
    members: dict[str, list[str]] = field(default_factory=dict)
    folders: dict[str, str] = field(default_factory=dict)
    source_fps: dict[str, float | None] = field(default_factory=dict)
    warnings: list[CountWarning] = field(default_factory=list)

    def by_key(self) -> dict[str, ClipExport | ImageExport]:
        return {item.key: item for item in [*self.clips, *self.images]}

    def media_by_section(self, frames: dict[str, int] | None = None) -> dict[str, list[Media]]:
        """Section → the files of its folder, as the counter reads them.

        Args:
            frames: key → frames actually written, to count the files as they came out.
        """
        frames = frames or {}
        items = self.by_key()
        out: dict[str, list[Media]] = {}
        for section, keys in self.members.items():
            media: list[Media] = []
            for key in keys:
                item = items[key]
                media.append(item.media(frames.get(key)) if isinstance(item, ClipExport)
                             else item.media())
            out[section] = media
        return out

    def folder_of(self, section: str) -> str:
        return self.folders[section]


def _section_bucket(section: Section, plan: DatasetPlan, trainer: str, size: tuple[int, int],
                    ars: Sequence[float]) -> tuple[int, int]:
    """The size a section's trainer resizes a source of `size` to cover, then crops."""
    if trainer == DIFFUSION_PIPE:
        return dp_bucket_size(dp_nearest_ar(size, ars), section.resolution)
    if section.is_video:
        return musubi_cache_bucket(size, section.resolution)
    return BucketSelector(section.resolution, plan.enable_bucket,
                          plan.bucket_no_upscale).get_bucket_resolution(size)


def _scale_for(size: tuple[int, int], sections: Sequence[Section], plan: DatasetPlan,
               trainer: str, ars: Sequence[float]) -> float:
    """The largest scale any section needs, capped at 1: files are never upscaled."""
    scale = 0.0
    for section in sections:
        bucket = _section_bucket(section, plan, trainer, size, ars)
        scale = max(scale, cover_scale(size, bucket))
    return min(1.0, scale) if scale > 0 else 1.0


def folder_for(section: Section, trainer: str) -> str:
    """The folder (relative to the export) a section's trainer dataset points at.

    musubi-tuner datasets over all accepted clips share `videos/` (or `images/`), each with
    its own cache directory; a section that selects by tag or source, and every
    diffusion-pipe directory (it keeps its metadata cache inside the folder), gets
    `sections/<name>/` with links to the shared files.
    """
    if trainer == MUSUBI and section.select.everything:
        return VIDEOS_DIR if section.is_video else IMAGES_DIR
    return f"{SECTIONS_DIR}/{section.name}"


def build_layout(plan: DatasetPlan, clips: Sequence[ClipLike], images: Sequence[ImageLike],
                 trainer: str, *, default_fps: float = 16.0) -> ExportLayout:
    """Decide stems, sizes, frame counts and folders for an export.

    Args:
        plan: the sections.
        clips: accepted clips (ClipRow or alike).
        images: accepted images.
        trainer: `musubi` or `diffusion-pipe`.
        default_fps: the export fps when the plan names none (the project's target fps).

    Returns:
        The layout, with warnings about renamed stems and mixed frame rates.

    Raises:
        ValueError: an unknown trainer.
    """
    if trainer not in (MUSUBI, DIFFUSION_PIPE):
        raise ValueError(f"unknown trainer {trainer!r} (musubi or diffusion-pipe)")
    fps = None if plan.keep_source_fps else float(plan.fps or default_fps)
    layout = ExportLayout(plan, trainer, fps)
    ars = dp_plan_ars(plan) if trainer == DIFFUSION_PIPE else []
    video_sections = [s for s in plan.sections if s.is_video]
    image_sections = [s for s in plan.sections if not s.is_video]
    for section in plan.sections:
        layout.members[section.name] = []
        layout.folders[section.name] = folder_for(section, trainer)

    _lay_out_clips(layout, clips, video_sections, fps, ars)
    _lay_out_images(layout, images, image_sections, ars)

    _decide_source_fps(layout, video_sections)
    return layout


def _lay_out_clips(layout: ExportLayout, clips: Sequence[ClipLike],
                   video_sections: list[Section], fps: float | None,
                   ars: Sequence[float]) -> None:
    """Each clip a video section selects: its stem, frame rate, frame count and size."""
    plan, trainer = layout.plan, layout.trainer
    used: dict[str, str] = {}  # stem → label of the item that has it
    for clip in sorted(clips, key=lambda c: (str(c.source_path), c.start_frame, c.id)):
        sections = [s for s in video_sections if s.select.matches(clip.tags, clip.source_path)]
        if not sections:
            continue
        n = clip.end_frame - clip.start_frame
        src_fps = Fraction(clip.fps) if clip.fps else Fraction(int(fps or 16))
        out_fps = src_fps if fps is None else Fraction(fps).limit_denominator(1001)
        frames = n if out_fps == src_fps else resampled_frame_count(n, src_fps, out_fps)
        cut = clip_crop(clip)  # letterbox bars, a person's crop, a corner watermark
        if cut.warning:
            layout.warnings.append(CountWarning("watermark", cut.warning, item=f"clip:{clip.id}"))
        size = cut.size or (clip.width, clip.height)
        scale = _scale_for(size, sections, plan, trainer, ars)
        width = min(_ceil_even(size[0] * scale), size[0] - size[0] % 2)
        height = min(_ceil_even(size[1] * scale), size[1] - size[1] % 2)
        label = f"{clip.source_path.name} [{clip.start_frame}, {clip.end_frame})"
        stem = _unique_stem(safe_stem(f"{clip.source_path.stem}_{clip.start_frame}-"
                                      f"{clip.end_frame}", "clip"), f"s{clip.source_id}",
                            label, used, layout.warnings, "clip")
        item = ClipExport(
            key=f"clip:{clip.id}", clip_id=clip.id, source_path=Path(clip.source_path),
            source_hash=clip.source_hash, start=clip.start_frame, end=clip.end_frame,
            source_fps=src_fps, out_fps=out_fps, frames=frames, width=width, height=height,
            stem=stem, label=label, caption=clip.caption, caption_origin=clip.caption_origin,
            sections=tuple(s.name for s in sections), crop=cut.crop)
        layout.clips.append(item)
        for s in sections:
            layout.members[s.name].append(item.key)


def _lay_out_images(layout: ExportLayout, images: Sequence[ImageLike],
                    image_sections: list[Section], ars: Sequence[float]) -> None:
    """Each image an image section selects: its stem, crop, size and whether it is copied."""
    plan, trainer = layout.plan, layout.trainer
    used_images: dict[str, str] = {}
    for image in sorted(images, key=lambda i: (str(i.path), i.id)):
        sections = [s for s in image_sections if s.select.matches(image.tags, Path(image.path))]
        if not sections:
            continue
        crop = tuple(image.crop) if image.crop else None
        size = (crop[2], crop[3]) if crop else (image.width, image.height)
        scale = _scale_for(size, sections, plan, trainer, ars)
        width = min(size[0], max(1, math.ceil(size[0] * scale - 1e-6)))
        height = min(size[1], max(1, math.ceil(size[1] * scale - 1e-6)))
        suffix = Path(image.path).suffix.lower()
        copy = crop is None and (width, height) == size and suffix in COPYABLE_IMAGE_SUFFIXES
        label = Path(image.path).name
        stem = _unique_stem(safe_stem(Path(image.path).stem, "image"), f"i{image.id}", label,
                            used_images, layout.warnings, "image")
        item = ImageExport(
            key=f"image:{image.id}", image_id=image.id, source_path=Path(image.path),
            source_hash=image.content_hash, crop=crop, width=width, height=height,
            suffix=suffix if copy else ".png", copy=copy, stem=stem, label=label,
            caption=image.caption, caption_origin=image.caption_origin,
            sections=tuple(s.name for s in sections))
        layout.images.append(item)
        for s in sections:
            layout.members[s.name].append(item.key)


def _unique_stem(stem: str, tag: str, label: str, used: dict[str, str],
                 warnings: list[CountWarning], kind: str) -> str:
    """`stem`, or `stem_<tag>` (then `_2`, `_3`...) when another file already has it.

    Two files with one stem would share one caption and one text-encoder cache file, and the
    trainer would keep only one of them (§1.9): they are renamed, and the person is told.
    """
    if stem not in used:
        used[stem] = label
        return stem
    candidate = f"{stem}_{tag}"
    n = 2
    while candidate in used:
        candidate = f"{stem}_{tag}_{n}"
        n += 1
    warnings.append(CountWarning(
        "same_stem",
        f"{kind}s {used[stem]} and {label} would both be named '{stem}' (the trainer would keep "
        f"only one); the second is exported as '{candidate}'."))
    used[candidate] = label
    return candidate


def _decide_source_fps(layout: ExportLayout, video_sections: Sequence[Section]) -> None:
    """With `fps = "source"`, write musubi's `source_fps` where a section's clips need it."""
    training = layout.plan.training_fps
    clips = {c.key: c for c in layout.clips}
    for section in video_sections:
        layout.source_fps[section.name] = None
        if layout.fps is not None or layout.trainer != MUSUBI:
            continue
        rates = sorted({clips[k].out_fps for k in layout.members[section.name]})
        if len(rates) == 1 and float(rates[0]) != training:
            layout.source_fps[section.name] = float(rates[0])
        elif len(rates) > 1:
            shown = ", ".join(f"{float(r):g}" for r in rates)
            layout.warnings.append(CountWarning(
                "mixed_fps",
                f"section '{section.name}' mixes clips at {shown} fps, but musubi-tuner's "
                f"source_fps is one number per dataset: its clips are used frame by frame as "
                f"if they were {training:g} fps. Export at {training:g} fps (fps = "
                f"{training:g}) to convert them.", severity="error", section=section.name))


