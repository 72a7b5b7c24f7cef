"""The dataset at a glance: distributions of the clips' figures and the captions' vocabulary.

One query layer for `curator stats` and the window's Stats view: `dataset_stats` gathers every
figure with SQL aggregates (grouped walks of indexes, no table scan on SQLite, no rows loaded
but a sample of captions), `pending_beyond` says which pending clips a threshold would reject.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from typing import Any

from sqlalchemy.orm import Session

from curator.core.analysis.rules import RuleSettings
from curator.core.catalog import DECISIONS, Catalog
from curator.core.catalog.models import Clip
from curator.core.trigger import starts_with_trigger

from .captions import (
    CaptionStats,
    DuplicateGroup,
    PhraseCount,
    caption_lengths,
    caption_vocabulary,
)
from .clips import (
    MOTION_PER_UNIT,
    TEXT_PER_UNIT,
    DecisionCount,
    Measure,
    SizeCount,
    frames_and_duration,
    measure_histograms,
    pending_beyond,
    rule_thresholds,
    sizes_and_decisions,
)
from .histogram import Histogram, Threshold

__all__ = [
    "CaptionStats", "DatasetStats", "DecisionCount", "DuplicateGroup", "Histogram",
    "PhraseCount", "SizeCount", "Threshold", "dataset_stats", "pending_beyond",
    "pending_clips", "plan_targets",
]


@dataclass(frozen=True)
class DatasetStats:
    """Every figure of `curator stats`, frozen so it crosses threads.

    Attributes:
        clips: clips in the catalog.
        target_fps: the training fps frame counts are given at.
        histograms: by key: frames, duration, motion, motion_p95, text_share, aspect.
        sizes: clips per picture size, most first.
        decisions: clips per decision and reason.
        captions: the caption figures.
    """

    clips: int
    target_fps: float
    histograms: dict[str, Histogram]
    sizes: tuple[SizeCount, ...]
    decisions: tuple[DecisionCount, ...]
    captions: CaptionStats
    trigger: str = ""
    rules: dict[str, Any] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        return {"clips": self.clips, "target_fps": self.target_fps, "trigger": self.trigger,
                "histograms": {k: h.to_json() for k, h in self.histograms.items()},
                "sizes": [s.to_json() for s in self.sizes],
                "decisions": [d.to_json() for d in self.decisions],
                "captions": self.captions.to_json()}


def plan_targets(plan: Any) -> tuple[int, ...]:
    """The frame targets of a dataset plan's video sections (e.g. (21, 45)), longer than 1."""
    out = set()
    for section in getattr(plan, "sections", ()):
        ext = getattr(section, "extraction", None)
        if ext is not None:
            out.update(t for t in ext.target_frames if t > 1)
    return tuple(sorted(out))


def has_trigger(caption: str, trigger: str) -> bool:
    """Whether a caption starts with the trigger phrase: the core's one rule (core/trigger.py),
    the same the editor, the clean-up and export's refusal apply."""
    return starts_with_trigger(caption, trigger)


def dataset_stats(catalog: Catalog, *, rules: RuleSettings | None = None,
                  targets: Sequence[int] = (), workers: int | None = None) -> DatasetStats:
    """Every figure of the dataset, counted in SQL.

    The queries are independent, so they run on a few threads, each with its own session
    (SQLite in WAL mode and PostgreSQL both serve concurrent readers, and the sqlite3 driver
    lets go of the GIL while a statement runs): the answer comes in about the time of the
    slowest query rather than of all of them.

    Args:
        catalog: the project's catalog.
        rules: the auto-decide thresholds drawn on the histograms (defaults; the project's
            training fps).
        targets: the export plan's frame targets, drawn on the frames histogram.
        workers: threads (default: one per group of queries, no more than the CPUs).

    Returns:
        The figures.
    """
    settings = catalog.settings()
    fps = float(settings.target_fps or 16.0)
    rules = rules or RuleSettings(target_fps=fps)
    lines = rule_thresholds(rules, targets)
    trigger = settings.trigger
    counts = catalog.counts()
    captioned = counts["captioned"]
    totals = {decision: counts[decision] for decision in DECISIONS}
    measures = [
        Measure(Clip.motion, MOTION_PER_UNIT, "motion", "motion (mean)", "px per 1/16 s",
                lines["motion"]),
        Measure(Clip.motion_p95, MOTION_PER_UNIT, "motion_p95", "motion (95th percentile)",
                "px per 1/16 s", lines["motion_p95"]),
        Measure(Clip.text_share, TEXT_PER_UNIT, "text_share",
                "text share (frames holding overlay text)", "", lines["text_share"],
                {"tail_share": 0.0, "widths": (1, 2, 5, 10)}, most=TEXT_PER_UNIT),
    ]

    def in_session(call: Callable[[Session], Any]) -> Callable[[], Any]:
        def run() -> Any:
            with catalog.session() as s:
                return call(s)
        return run

    calls = {
        # mostly Python (the sample's phrases and MinHash) while the others wait on SQLite
        "vocabulary": in_session(lambda s: caption_vocabulary(s, trigger, has_trigger,
                                                              captioned)),
        "measures": in_session(lambda s: (measure_histograms(s, measures),
                                          caption_lengths(s))),
        "indexed": in_session(lambda s: (frames_and_duration(s, rules.target_fps,
                                                             lines["frames"]),
                                         sizes_and_decisions(s, totals))),
    }
    threads = workers or max(1, min(len(calls), os.cpu_count() or 1))
    with ThreadPoolExecutor(max_workers=threads, thread_name_prefix="curator-stats") as pool:
        futures = {name: pool.submit(call) for name, call in calls.items()}
        # result() re-raises a worker's exception here, on the caller's thread
        done = {name: future.result() for name, future in futures.items()}
    (motion, p95, text), lengths = done["measures"]
    (frames, duration), (sizes, decisions, aspect) = done["indexed"]
    captions = replace(done["vocabulary"], words=lengths)
    histograms = {"frames": frames, "duration": duration, "motion": motion,
                  "motion_p95": p95, "text_share": text, "aspect": aspect}
    return DatasetStats(clips=sum(d.count for d in decisions), target_fps=rules.target_fps,
                        histograms=histograms, sizes=tuple(sizes), decisions=tuple(decisions),
                        captions=captions, trigger=trigger)


def pending_clips(catalog: Catalog, measure: str, value: float, side: str,
                  target_fps: float, *, limit: int = 500) -> tuple[int, list[int]]:
    """`pending_beyond` in its own session: (how many, the first `limit` ids)."""
    with catalog.session() as s:
        return pending_beyond(s, measure, value, side, target_fps, limit=limit)
