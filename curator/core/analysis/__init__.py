"""Clip analysis: motion, hidden cuts and transitions, near-duplicates, borders and exposure.

`make_frame_analyzer` gives the object a decode loop feeds (ingest feeds it while it looks for
scenes); `analyze_clips` decodes and analyses clips on its own; `auto_decide` turns the
analysis into decisions with reasons.
"""

from curator.core.analysis.batch import (
    AnalysisReport,
    analyze_clips,
    is_current,
    save_clip_analysis,
)
from curator.core.analysis.frame_analyzer import (
    ANALYSIS_VERSION,
    ANALYSIS_WIDTH,
    MOTION_FPS,
    FrameAnalyzer,
    make_frame_analyzer,
)
from curator.core.analysis.phash import DEFAULT_MAX_DISTANCE, frame_hash, group_duplicates
from curator.core.analysis.rules import (
    DEFAULT_DYNAMIC_ABOVE,
    DEFAULT_FLICKER_ABOVE,
    DEFAULT_STATIC_BELOW,
    DEFAULT_TEXT_ABOVE,
    RuleSettings,
    auto_decide,
    clip_reason,
)

__all__ = [
    "ANALYSIS_VERSION", "ANALYSIS_WIDTH", "DEFAULT_DYNAMIC_ABOVE", "DEFAULT_FLICKER_ABOVE",
    "DEFAULT_MAX_DISTANCE", "DEFAULT_STATIC_BELOW", "DEFAULT_TEXT_ABOVE", "MOTION_FPS", "AnalysisReport",
    "FrameAnalyzer", "RuleSettings", "analyze_clips", "auto_decide", "clip_reason", "frame_hash",
    "group_duplicates", "is_current", "make_frame_analyzer", "save_clip_analysis",
]
