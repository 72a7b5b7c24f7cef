"""Histograms as plain data, and the binning of exact SQL group counts into display bins.

SQL does the counting: each figure is grouped by a fine bucket (an exact integer value, or the
value cut to a fixed step such as 0.05), so a million clips come back as a few hundred
(bucket, count) rows. Here those rows are gathered into at most `MAX_BINS` regular display
bins whose edges fall on the fine grid, so no clip is ever placed in a bin by a rounded value.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from typing import Any

#: Most bars a histogram is drawn with.
MAX_BINS = 48

#: Bin widths, in fine steps, tried in order (1, 2, 2.5, 5 × 10^k of the unit).
_NICE = (1, 2, 4, 5, 10, 20, 25, 40, 50, 100, 200, 250, 400, 500, 1000, 2000, 2500, 5000, 10000)


@dataclass(frozen=True)
class Threshold:
    """A line drawn on a histogram: a rule's threshold or an export target.

    Attributes:
        key: a stable id (`static_below`, `dynamic_above`, `min_frames`, `target_45`).
        label: what the line is, for people.
        value: where it is, in the histogram's unit.
        rejects: 'below' or 'above' when pending clips on that side are rejected by the rule
            (dragging it then counts them); '' for a target that only marks a place.
    """

    key: str
    label: str
    value: float
    rejects: str = ""

    def to_json(self) -> dict[str, Any]:
        return {"key": self.key, "label": self.label, "value": self.value,
                "rejects": self.rejects}


@dataclass(frozen=True)
class Histogram:
    """Counts of clips in regular bins `[edges[i], edges[i+1])`.

    Attributes:
        key: the figure (`frames`, `duration`, `motion`, `motion_p95`, `aspect`, `caption_words`,
            `text_share`).
        label, unit: for people.
        edges: bin edges, one more than `counts`; the last bin also holds everything above it
            when `open_end` (a long tail shown as one bar instead of a hundred empty ones).
        counts: clips per bin.
        missing: clips without a value (not analysed yet, no caption).
        thresholds: the lines drawn on it.
        open_end: whether the last bin holds the tail above its upper edge.
    """

    key: str
    label: str
    unit: str
    edges: tuple[float, ...]
    counts: tuple[int, ...]
    missing: int = 0
    thresholds: tuple[Threshold, ...] = field(default_factory=tuple)
    open_end: bool = False

    @property
    def total(self) -> int:
        """Clips that have a value (in some bin)."""
        return sum(self.counts)

    def to_json(self) -> dict[str, Any]:
        return {"key": self.key, "label": self.label, "unit": self.unit,
                "edges": [_tidy(e) for e in self.edges], "counts": list(self.counts),
                "missing": self.missing, "open_end": self.open_end,
                "thresholds": [t.to_json() for t in self.thresholds]}


def bin_counts(buckets: Iterable[tuple[int, int]], per_unit: int, *, key: str, label: str,
               unit: str, missing: int = 0, thresholds: tuple[Threshold, ...] = (),
               start: int | None = None, tail_share: float = 0.005,
               max_bins: int = MAX_BINS, widths: tuple[int, ...] = _NICE) -> Histogram:
    """Gather fine (bucket, count) rows into regular display bins.

    Args:
        buckets: (b, n): n values lie in `[b / per_unit, (b + 1) / per_unit)`; b an integer.
        per_unit: fine buckets per unit (20: buckets 0.05 wide).
        key, label, unit, missing, thresholds: copied to the histogram.
        start: the first edge in fine buckets (default: the lowest bucket, rounded down to the
            bin width); e.g. 1 for frame counts so that edges fall on 4n + 1.
        tail_share: at most this share of the values may be folded into an open last bin, so
            a few outliers do not squeeze the rest into one bar.
        max_bins: most bins.
        widths: the bin widths tried, in fine buckets, narrowest first.

    Returns:
        The histogram (no bins when there are no values).
    """
    rows = sorted((int(b), int(n)) for b, n in buckets if n)
    if not rows:
        return Histogram(key, label, unit, (), (), missing, thresholds)
    total = sum(n for _, n in rows)
    low = rows[0][0]
    # The highest bucket once the top `tail_share` of values is set aside.
    allowed_tail, seen, high = int(total * tail_share), 0, rows[-1][0]
    for b, n in reversed(rows):
        if seen + n > allowed_tail:
            high = b
            break
        seen += n
    width = next((w for w in widths if math.ceil(
        (high + 1 - _floor_to(low, w, start)) / w) <= max_bins), widths[-1])
    first = _floor_to(low, width, start)
    n_bins = max(1, math.ceil((high + 1 - first) / width))
    counts = [0] * n_bins
    for b, n in rows:
        counts[min(n_bins - 1, (b - first) // width)] += n
    # Divided, not multiplied by a step: edge 3 of tenths is 0.3, not 0.30000000000000004.
    edges = tuple((first + i * width) / per_unit for i in range(n_bins + 1))
    return Histogram(key, label, unit, edges, tuple(counts), missing, thresholds,
                     open_end=rows[-1][0] >= first + n_bins * width)


def coarser(hist: Histogram, max_bins: int) -> Histogram:
    """The same histogram with adjacent bins merged until at most `max_bins` remain.

    Edges stay edges of the original (every k-th), so no clip changes sides of one.
    """
    n = len(hist.counts)
    if n <= max_bins:
        return hist
    k = -(-n // max_bins)
    counts = tuple(sum(hist.counts[i:i + k]) for i in range(0, n, k))
    edges = tuple(hist.edges[i] for i in range(0, n, k)) + (
        hist.edges[0] + (hist.edges[1] - hist.edges[0]) * k * len(counts),)
    return replace(hist, edges=edges, counts=counts)


def _floor_to(value: int, width: int, start: int | None) -> int:
    """The largest `start + k × width` at or below `value` (k may be negative)."""
    origin = 0 if start is None else start
    return origin + (value - origin) // width * width


def _tidy(x: float) -> float | int:
    """An edge as JSON: integers stay integers, steps such as 0.05 lose their float noise."""
    rounded = round(x, 6)
    return int(rounded) if rounded == int(rounded) else rounded
