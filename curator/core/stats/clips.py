"""The clips' figures as histograms, counted by SQL aggregates (one grouped index walk each).

Each query groups by a value that an index holds in order (catalog revisions 0002–0005), so
no query sorts or visits the million rows themselves; the values are gathered into fine
buckets here and `histogram.bin_counts` then draws the display bins on that grid. Frame
counts at the training fps are grouped by (source, frames) and converted with the exporter's
own `resampled_frame_count`, so the histogram, the browser's filter and the export never
disagree.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from fractions import Fraction
from typing import Any

from sqlalchemy import BigInteger, and_, case, cast, func, literal, select
from sqlalchemy.orm import Session

from curator.core.analysis.rules import (
    DEFAULT_DYNAMIC_ABOVE,
    DEFAULT_STATIC_BELOW,
    DEFAULT_TEXT_ABOVE,
    RuleSettings,
    too_short_reason,
)
from curator.core.catalog.models import Clip, Source
from curator.core.media.resample import resampled_frame_count

from .histogram import Histogram, Threshold, bin_counts

#: Fine buckets per unit SQL groups by: motion in 1/20 of a unit, aspect ratio in 1/100,
#: seconds in 1/10. Values are multiplied (not divided) by these, so that a value typed as
#: 0.45 lands in the bucket starting at 0.45 (0.45 / 0.05 is 8.999… in floating point).
MOTION_PER_UNIT = 20
ASPECT_PER_UNIT = 100
TEXT_PER_UNIT = 100
DURATION_PER_UNIT = 10
#: Frame bins are multiples of 4 wide from 1, so their edges are Wan's 4n + 1 lengths.
FRAME_WIDTHS = (4, 8, 12, 16, 20, 24, 32, 40, 48, 64, 80, 96, 128, 160, 240, 320, 480, 640)

#: Reasons that name a clip ("duplicate of clip 12") are counted under one label.
DUPLICATE_PREFIX = "duplicate of clip "


@dataclass(frozen=True)
class SizeCount:
    """Clips of one picture size."""

    width: int
    height: int
    count: int

    def to_json(self) -> dict[str, Any]:
        return {"width": self.width, "height": self.height, "count": self.count,
                "aspect": round(self.width / self.height, 3) if self.height else None}


@dataclass(frozen=True)
class DecisionCount:
    """Clips with one decision and reason (reason None for pending and most accepted)."""

    decision: str
    reason: str | None
    count: int

    def to_json(self) -> dict[str, Any]:
        return {"decision": self.decision, "reason": self.reason, "count": self.count}


def rule_thresholds(rules: RuleSettings, targets: Sequence[int] = ()) -> dict[str, tuple[Threshold, ...]]:
    """The lines each histogram carries: the auto-decide rules' thresholds and export targets.

    Args:
        rules: the rules' settings (their defaults when the person set none).
        targets: frame targets of the export plan (e.g. 21 and 45), drawn on the frames one.
    """
    fps = rules.target_fps
    frames = [Threshold(f"target_{t}", f"{t} frames at {fps:g} fps (export target)", t)
              for t in sorted(set(targets)) if t > 1]
    if rules.min_frames:
        frames.append(Threshold("min_frames", too_short_reason(rules.min_frames, fps),
                                rules.min_frames, "below"))
    elif frames:
        # No length rule yet: the longest target is the one a drag would turn into it.
        longest = max(frames, key=lambda t: t.value)
        frames[frames.index(longest)] = Threshold(
            "min_frames", too_short_reason(int(longest.value), fps), longest.value, "below")
    static = DEFAULT_STATIC_BELOW if rules.static_below is None else rules.static_below
    dynamic = DEFAULT_DYNAMIC_ABOVE if rules.dynamic_above is None else rules.dynamic_above
    text = DEFAULT_TEXT_ABOVE if rules.text_above is None else rules.text_above
    return {
        "text_share": (Threshold("text_above", "holds text above", text, "above"),),
        "frames": tuple(frames),
        "motion": (Threshold("static_below", "too static below", static, "below"),),
        "motion_p95": (Threshold("dynamic_above", "too dynamic above", dynamic, "above"),),
    }


def frames_and_duration(s: Session, target_fps: float,
                        thresholds: tuple[Threshold, ...] = ()) -> tuple[Histogram, Histogram]:
    """Histograms of frames at `target_fps` and of seconds, from one grouping by duration.

    The grouping walks the duration index in order (no sort, a few hundred rows at 1M clips).
    A clip's frames at the target rate are `round(frames × target / fps)`, that is
    `round(duration × target)` for its exact duration; the stored duration is that value to
    float precision, which decides the rounding except within a hair of a half. Those few
    durations are counted again from their exact (source rate, frames) pairs, so every clip
    is counted with the exporter's own `resampled_frame_count`.

    Frame bins start at 1 so that, 4 wide, their edges are the 4n + 1 lengths Wan takes.
    """
    rate = Fraction(target_fps).limit_denominator(1_000_000)
    at_fps: dict[int, int] = {}
    tenths: dict[int, int] = {}
    doubtful: list[float] = []
    for duration, n in s.execute(select(Clip.duration, func.count()).group_by(Clip.duration)):
        if duration is None or duration <= 0:
            continue
        exact = Fraction(duration)
        tenths[int(exact * DURATION_PER_UNIT)] = tenths.get(int(exact * DURATION_PER_UNIT), 0) + n
        scaled = exact * rate
        if abs(scaled - math.floor(scaled) - Fraction(1, 2)) < Fraction(1, 10**6):
            doubtful.append(duration)
            continue
        k = resampled_frame_count(1, Fraction(1) / exact, rate)  # round(duration × target)
        at_fps[k] = at_fps.get(k, 0) + n
    if doubtful:
        fps = {sid: Fraction(num, den) for sid, num, den in
               s.execute(select(Source.id, Source.fps_num, Source.fps_den))}
        for source_id, frames, n in s.execute(
                select(Clip.source_id, Clip.frames, func.count())
                .where(Clip.duration.in_(doubtful)).group_by(Clip.source_id, Clip.frames)):
            k = resampled_frame_count(frames, fps[source_id], rate)
            at_fps[k] = at_fps.get(k, 0) + n
    frames_hist = bin_counts(at_fps.items(), 1, key="frames",
                             label=f"frames at {target_fps:g} fps", unit="frames", start=1,
                             widths=FRAME_WIDTHS, max_bins=64, thresholds=thresholds)
    seconds = bin_counts(tenths.items(), DURATION_PER_UNIT, key="duration", label="duration",
                         unit="s")
    return frames_hist, seconds


@dataclass(frozen=True)
class Measure:
    """A figure counted in fine buckets, and how its histogram is drawn.

    Attributes:
        column: a nullable, non-negative float column, bucketed as value × `per_unit`; it
            should have an index (the grouping then walks it).
        most: the largest bucket kept apart; higher ones are counted with it (it is then the
            tail); None for no such cap.
    """

    column: Any
    per_unit: int
    key: str
    label: str
    unit: str
    thresholds: tuple[Threshold, ...] = ()
    binning: dict[str, Any] = field(default_factory=dict)
    most: int | None = None


def measure_histograms(s: Session, measures: Sequence[Measure]) -> list[Histogram]:
    """Histograms of float columns in fine buckets, each grouped by its stored value.

    Grouped by the column itself, an indexed column is counted by a walk of its index in
    order: SQLite sorts nothing and never reads the table, and what comes back is one row
    per distinct value (thousands: the analyser rounds to 3 decimals). At 1M clips that is
    0.05 s a figure, against 0.3 s for grouping by the bucket (a sort of every row). The
    bucket is then taken here with the arithmetic SQL used for it, on the same doubles:
    value × `per_unit` truncated by SQLite's CAST, floored on PostgreSQL (which rounds a
    cast); the two agree for the non-negative values these figures hold.
    """
    to_bucket = int if s.get_bind().dialect.name == "sqlite" else math.floor
    out = []
    for m in measures:
        counts: dict[int, int] = {}
        missing = 0
        for value, n in s.execute(select(m.column, func.count()).group_by(m.column)):
            if value is None:
                missing += n
                continue
            b = to_bucket(value * m.per_unit)
            if m.most is not None and b > m.most:
                b = m.most
            counts[b] = counts.get(b, 0) + n
        out.append(bin_counts(counts.items(), m.per_unit, key=m.key, label=m.label,
                              unit=m.unit, missing=missing, thresholds=m.thresholds,
                              **{"start": 0, **m.binning}))
    return out


def sizes_and_decisions(s: Session, totals: dict[str, int] | None = None
                        ) -> tuple[list[SizeCount], list[DecisionCount], Histogram]:
    """Picture sizes, decisions with reasons, and the aspect-ratio histogram.

    `totals` are the clips per decision when the caller has them (`Catalog.counts()`, kept by
    triggers on SQLite): otherwise they are counted here, a walk of a decision index.

    A clip has its source's picture size (the catalog copies it), so sizes are counted per
    source on the (source, start) index; reasons are read for rejected clips only, from the
    (decision, reason) index. No query sorts the million rows or reads the table.
    """
    per_source = dict(s.execute(select(Clip.source_id, func.count())
                                .group_by(Clip.source_id)).all())
    sizes: dict[tuple[int, int], int] = {}
    for source_id, width, height in s.execute(select(Source.id, Source.width, Source.height)):
        if per_source.get(source_id):
            sizes[(width, height)] = sizes.get((width, height), 0) + per_source[source_id]
    reason = case((Clip.reason.like(DUPLICATE_PREFIX + "%"), literal(DUPLICATE_PREFIX + "…")),
                  else_=Clip.reason)
    decisions: dict[tuple[str, str | None], int] = {}
    if totals is None:
        totals = dict(s.execute(select(Clip.decision, func.count())
                                .group_by(Clip.decision)).all())
    for decision, total in totals.items():
        if not total:
            continue
        if decision != "rejected":  # a reason explains a rejection; others are just counted
            decisions[(decision, None)] = total
            continue
        # Grouped by the reason itself, in the index's order (grouped by the folded label it
        # would be sorted); the duplicates' labels are summed here.
        for why, n in s.execute(select(reason, func.count())
                                .where(Clip.decision == decision).group_by(Clip.reason)):
            decisions[(decision, why)] = decisions.get((decision, why), 0) + n
    aspect: dict[int, int] = {}
    for (width, height), n in sizes.items():
        if height:
            b = int(Fraction(width * ASPECT_PER_UNIT, height))  # exact: no float rounding
            aspect[b] = aspect.get(b, 0) + n
    size_rows = sorted((SizeCount(w, h, n) for (w, h), n in sizes.items()),
                       key=lambda r: (-r.count, -r.width, -r.height))
    decision_rows = sorted((DecisionCount(d, r, n) for (d, r), n in decisions.items()),
                           key=lambda r: (r.decision, -r.count, r.reason or ""))
    return size_rows, decision_rows, bin_counts(
        aspect.items(), ASPECT_PER_UNIT, key="aspect", label="aspect ratio (width / height)",
        unit="", tail_share=0.0, max_bins=30)


def frames_at_sql(target_fps: float) -> Any:
    """The exporter's `resampled_frame_count` as a SQL expression over clips joined to sources.

    `round(frames × target / fps)` with halves away from zero, at least 1, in integers only:
    with fps = num / den and target = p / q that is ⌊(2·frames·p·den + q·num) / (2·q·num)⌋,
    which SQLite and PostgreSQL both compute exactly with integer division.
    """
    rate = Fraction(target_fps).limit_denominator(1_000_000)
    p, q = rate.numerator, rate.denominator
    # 64-bit: a two-hour film as one clip at 30000/1001 fps passes 2^31 here.
    numerator = 2 * cast(Clip.frames, BigInteger) * p * Source.fps_den + q * Source.fps_num
    value = numerator // (2 * q * Source.fps_num)  # SQLAlchemy's // is integer division
    return case((value < 1, 1), else_=value)


def pending_condition(measure: str, value: float, side: str, target_fps: float) -> Any:
    """The WHERE term for pending clips a rule at `value` would reject on `side`.

    The same comparisons as `clip_reason`: fewer frames than N, motion below X, 95th
    percentile above Y (strictly), text share above Z.
    """
    columns = {"motion": Clip.motion, "motion_p95": Clip.motion_p95,
               "duration": Clip.duration, "text_share": Clip.text_share}
    if measure == "frames":
        column = frames_at_sql(target_fps)
    elif measure in columns:
        column = columns[measure]
    else:
        raise ValueError(f"no rule acts on {measure!r}")
    if side not in ("below", "above"):
        raise ValueError(f"side must be 'below' or 'above', not {side!r}")
    term = column < value if side == "below" else column > value
    return and_(Clip.decision == "pending", column.is_not(None) if measure != "frames"
                else literal(True), term)


def pending_beyond(s: Session, measure: str, value: float, side: str, target_fps: float, *,
                   limit: int = 0) -> tuple[int, list[int]]:
    """How many pending clips a threshold at `value` rejects, and the first `limit` ids.

    Args:
        s: an open session.
        measure: `frames`, `duration`, `motion`, `motion_p95` or `text_share`.
        value: the threshold, in the histogram's unit.
        side: 'below' or 'above'.
        target_fps: the training fps (for `frames`).
        limit: how many ids to return (0: only the count).

    Raises:
        ValueError: a measure no rule acts on, or a side other than below/above.
    """
    where = pending_condition(measure, value, side, target_fps)
    base = select(Clip.id).select_from(Clip)
    if measure == "frames":
        base = base.join(Source, Source.id == Clip.source_id)
    count = s.scalar(select(func.count()).select_from(base.where(where).subquery())) or 0
    ids = list(s.scalars(base.where(where).order_by(Clip.id).limit(limit))) if limit else []
    return int(count), ids
