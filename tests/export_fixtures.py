"""Helpers for the export tests: small generated clips put into a real catalog.

Clips are generated with PyAV (tests/media_factory.py) at 64×36 or similar, so a whole export
with transcoding takes a second or two; sources are registered the way ingest registers them
(probe for the exact decoded facts, then `upsert_source` with clip ranges).
"""

from __future__ import annotations

import os
from fractions import Fraction
from pathlib import Path

import av

from curator.core.media import content_hash, probe
from tests.media_factory import Segment, make_image, make_video


def write_clip(path: Path, frames: int, *, fps: int | Fraction = 16,
               size: tuple[int, int] = (64, 36), seed: int = 0) -> Path:
    """A clip of exactly `frames` frames (a slowly panning texture)."""
    video = make_video(path, [Segment("texture", frames, seed=seed)], fps=fps, size=size,
                       gop=12)
    return video.path


def add_source(catalog, path: Path, ranges: list[tuple[int, int]] | None = None,
               *, accept: bool = True, caption: str | None = "sks style, a scene",
               tags: tuple[str, ...] = ()) -> list[int]:
    """Register a video like ingest does; returns its clip ids (the whole file by default)."""
    info = probe(path)
    ranges = ranges or [(0, info.frame_count)]
    stat = os.stat(path)
    _source_id, clip_ids = catalog.upsert_source(
        path=Path(path), size=stat.st_size, mtime=stat.st_mtime, content_hash=content_hash(path),
        container=info.container, codec=info.codec, fps=info.fps, frame_count=info.frame_count,
        header_frame_count=info.header_frame_count, width=info.width, height=info.height,
        duration=info.duration, clip_ranges=ranges)
    if accept:
        catalog.set_decision(clip_ids, "accepted")
    if caption is not None:
        for clip_id in clip_ids:
            catalog.save_caption(caption, clip_id=clip_id)
    for clip_id in clip_ids:
        if tags:
            catalog.set_tags(clip_id, tags)
    return clip_ids


def add_image(catalog, path: Path, *, size: tuple[int, int] = (96, 64),
              caption: str | None = "sks style, a still", accept: bool = True) -> int:
    make_image(path, size=size)
    stat = os.stat(path)
    image_id, _ = catalog.upsert_image(path=Path(path), size=stat.st_size, mtime=stat.st_mtime,
                                       content_hash=content_hash(path), width=size[0],
                                       height=size[1])
    if accept:
        catalog.set_decision([image_id], "accepted", kind="image")
    if caption is not None:
        catalog.save_caption(caption, image_id=image_id)
    return image_id


def decoded_frames(path: Path) -> tuple[int, Fraction, tuple[int, int]]:
    """Frames PyAV decodes from stream 0 (what musubi-tuner counts), its rate and size."""
    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        count = sum(1 for _ in container.decode(video=0))
        return count, Fraction(stream.average_rate), (stream.width, stream.height)
