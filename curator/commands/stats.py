"""`curator stats`: the dataset at a glance (histograms with thresholds, caption vocabulary)."""

from __future__ import annotations

import argparse

from curator.commands import add_command
from curator.core.stats import DatasetStats, Histogram, dataset_stats, plan_targets
from curator.core.stats.histogram import coarser

_BAR = 40
#: Rows per histogram in a terminal (the JSON keeps every bin).
_ROWS = 24


def register(subparsers: argparse._SubParsersAction) -> None:
    p = add_command(subparsers, "stats", run_stats,
                    "distributions of frames, duration, motion, sizes, decisions, captions")
    p.add_argument("--json", action="store_true",
                   help="print bins and counts, phrases with counts, as JSON")


def run_stats(args: argparse.Namespace, ctx) -> int:
    from curator.core.export.plan import PlanError, load_project_plan

    try:
        targets = plan_targets(load_project_plan(ctx.project.root))
    except PlanError as exc:
        ctx.say(f"warning: the export plan cannot be read ({exc}); no frame targets drawn")
        targets = ()
    stats = dataset_stats(ctx.catalog, targets=targets)
    if args.json:
        ctx.emit_json(stats.to_json())
        return 0
    ctx.stdout.write(render_text(stats))
    return 0


def render_text(stats: DatasetStats) -> str:
    """The figures for a terminal: one bar chart per histogram, then the tables."""
    lines = [f"{stats.clips:,} clips; frame counts at {stats.target_fps:g} fps", ""]
    for hist in stats.histograms.values():
        lines += _histogram_lines(hist) + [""]
    lines.append("decisions")
    for d in stats.decisions:
        lines.append(f"  {d.decision:9s} {d.count:>9,}  {d.reason or ''}")
    lines += ["", "picture sizes"]
    for size in stats.sizes[:12]:
        lines.append(f"  {size.width}×{size.height:<6} {size.count:>9,}")
    c = stats.captions
    lines += ["", f"captions: {c.captioned:,} captioned; vocabulary read from {c.read:,}"]
    lines += _histogram_lines(c.words)
    for title, phrases in (("opening phrases", c.openings), ("phrases", c.ngrams),
                           ("words in nearly every caption", c.common_words)):
        lines.append(f"  {title}:")
        lines += [f"    {p.captions:>7,}  {p.share:6.1%}  {p.kind:8s} {p.phrase}"
                  for p in phrases] or \
            ["    none"]
    dup = sum(len(g.clip_ids) for g in c.near_duplicates)
    lines.append(f"  near-duplicate captions: {dup:,} in {len(c.near_duplicates):,} groups")
    for group in c.near_duplicates[:5]:
        ids = ", ".join(map(str, group.clip_ids[:8])) + (" …" if len(group.clip_ids) > 8 else "")
        lines.append(f"    clips {ids}: {group.example[:70]}")
    if c.missing_trigger is None:
        lines.append("  trigger phrase: not set")
    else:
        lines.append(f"  without the trigger phrase '{stats.trigger}': {c.missing_trigger:,}")
    return "\n".join(lines) + "\n"


def _histogram_lines(hist: Histogram) -> list[str]:
    hist = coarser(hist, _ROWS)
    unit = f" ({hist.unit})" if hist.unit and hist.unit not in hist.label else ""
    out = [f"{hist.label}{unit}: {hist.total:,} clips"
           + (f", {hist.missing:,} without a value" if hist.missing else "")]
    if not hist.counts:
        return out
    top = max(hist.counts) or 1
    last = len(hist.counts) - 1
    for i, n in enumerate(hist.counts):
        low, high = hist.edges[i], hist.edges[i + 1]
        span = f"≥ {low:g}" if i == last and hist.open_end else f"{low:g} – {high:g}"
        out.append(f"  {span:>15} {n:>9,} {'█' * round(_BAR * n / top)}")
    for t in hist.thresholds:
        out.append(f"  ─ {t.value:g}: {t.label}")
    return out
