"""Media layer: probe, frame access, scene cuts and thumbnails, all on PyAV (FFmpeg bundled)."""

from curator.core.media.errors import MediaError
from curator.core.media.frames import (
    fit_size,
    iter_frames,
    read_frame,
    read_frames,
    resample_indices,
    sample_frames,
)
from curator.core.media.hashing import content_hash
from curator.core.media.probe import SourceInfo, probe
from curator.core.media.scenes import SceneSettings, detect_cuts
from curator.core.media.thumbnails import (
    clip_thumbnail_paths,
    ensure_clip_thumbnails,
    thumbnail_path,
)

__all__ = [
    "MediaError",
    "SceneSettings",
    "SourceInfo",
    "clip_thumbnail_paths",
    "content_hash",
    "detect_cuts",
    "ensure_clip_thumbnails",
    "fit_size",
    "iter_frames",
    "probe",
    "read_frame",
    "read_frames",
    "resample_indices",
    "sample_frames",
    "thumbnail_path",
]
