"""Media layer: probe, frame access, scene cuts and thumbnails, all on PyAV (FFmpeg bundled).

The names load with their module on first use (core/lazy.py), so importing one small
module of the package does not load every other.
"""

from curator.core.lazy import lazy_names

_MODULES = {
    "errors": ("MediaError",),
    "frames": ("fit_size", "iter_frames", "read_frame", "read_frames", "sample_frames"),
    "hashing": ("content_hash",),
    "probing": ("probe",),
    "resample": ("resample_indices",),
    "source_info": ("SourceInfo",),
    "scenes": ("SceneSettings", "detect_cuts"),
    "thumbnails": ("clip_thumbnail_paths", "ensure_clip_thumbnails", "thumbnail_path"),
}
__getattr__ = lazy_names(__name__, _MODULES)
__all__ = sorted(name for names in _MODULES.values() for name in names)
