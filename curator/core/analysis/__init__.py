"""Clip analysis: motion, hidden cuts and transitions, near-duplicates, borders and exposure.

`make_frame_analyzer` gives the object a decode loop feeds (ingest feeds it while it looks for
scenes); `analyze_clips` decodes and analyses clips on its own; `auto_decide` turns the
analysis into decisions with reasons.

The names load with their module on first use (core/lazy.py): the rules alone must not
import OpenCV.
"""

from curator.core.lazy import lazy_names

_MODULES = {
    "batch": ("AnalysisReport", "analyze_clips", "is_current", "save_clip_analysis"),
    "frame_analyzer": ("ANALYSIS_VERSION", "ANALYSIS_WIDTH", "MOTION_FPS", "FrameAnalyzer",
                       "make_frame_analyzer"),
    "phash": ("DEFAULT_MAX_DISTANCE", "frame_hash", "group_duplicates"),
    "rules": ("DEFAULT_DYNAMIC_ABOVE", "DEFAULT_FLICKER_ABOVE", "DEFAULT_STATIC_BELOW",
              "DEFAULT_TEXT_ABOVE", "RuleSettings", "auto_decide", "clip_reason"),
}
__getattr__ = lazy_names(__name__, _MODULES)
__all__ = sorted(name for names in _MODULES.values() for name in names)
