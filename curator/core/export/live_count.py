"""An export request and its dry run: `curator export --dry-run` prints it, the Export tab shows
it live with what its editors offer (source sizes, tags, source names). Runs on any thread."""

from __future__ import annotations

import json
import time
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import Text, cast, func, select

from curator.core.catalog import Catalog, ClipRow, ImageRow
from curator.core.catalog.models import Clip, Image, Source
from curator.core.export.crop import export_size
from curator.core.export.plan import DatasetPlan
from curator.core.export.report import ExportReport, plan_report


@dataclass(frozen=True)
class ExportRequest:
    """One export as asked for: the plan, the trainer, where it goes and where that folder will
    be on the training machine. `curator export` builds it from its options, the Export tab
    from its form (a snapshot taken on the GUI thread); both count it with `dry_run`."""

    plan: DatasetPlan
    trainer: str
    out_dir: Path | None = None
    root: str | None = None

    def dry_run(self, catalog: Catalog, clips: Sequence[ClipRow] | None = None,
                images: Sequence[ImageRow] | None = None) -> ExportReport:
        """The counts and warnings an export would give, writing nothing.

        Args:
            catalog: the project's catalog (its trigger phrase and training fps count too).
            clips, images: the accepted ones, when the caller has read them already.
        """
        settings = catalog.settings()
        clips = catalog.list_clips(status="accepted") if clips is None else clips
        images = catalog.list_images(status="accepted") if images is None else images
        return plan_report(self.plan, clips, images, self.trainer, trigger=settings.trigger,
                           default_fps=float(settings.target_fps or 16.0),
                           out_dir=self.out_dir, root=self.root)


@dataclass
class CountResult:
    """A dry run's report plus what the editors offer (accepted clip sizes, tags, sources)."""

    request: ExportRequest
    report: ExportReport | None = None
    error: str | None = None
    sizes: list[tuple[tuple[int, int], int]] = field(default_factory=list)
    tags: list[str] = field(default_factory=list)
    sources: list[str] = field(default_factory=list)
    clips: int = 0
    images: int = 0
    seconds: float = 0.0


def count_export(catalog: Catalog, request: ExportRequest) -> CountResult:
    """Count a plan against the catalog's accepted clips and images (any thread).

    The dry run reads the accepted rows (sections pick clips one by one); what the editors
    offer (sizes, tags, sources, totals) is aggregated in SQL.

    Returns:
        The result; `error` holds the reason when the count could not be made.
    """
    started = time.perf_counter()
    result = CountResult(request)
    try:
        result.report = request.dry_run(catalog)
        sizes = accepted_sizes(catalog)
        result.tags, result.sources, result.clips, result.images = _accepted_facts(catalog)
    except Exception as exc:  # noqa: BLE001 - the tab shows why instead of dying
        result.error = f"{type(exc).__name__}: {exc}"
        return result
    result.sizes = sorted(sizes.items(), key=lambda kv: (-kv[1], kv[0]))
    result.seconds = time.perf_counter() - started
    return result


@dataclass(frozen=True)
class _SizeGroup:
    """Accepted clips alike in all that decides their export crop (see `clip_crop`)."""

    id: int  # any one of them (the crop rule names it only in a warning)
    width: int
    height: int
    crop: tuple[int, ...] | None
    analysis: dict[str, Any]

    export_crop = ClipRow.export_crop  # the same rule as a clip's, on the same fields


def _loads(text: str | None) -> Any:
    return None if text is None else json.loads(text)


def accepted_sizes(catalog: Catalog) -> Counter[tuple[int, int]]:
    """Accepted clips counted by the picture size export writes them at (cropped: a person's
    crop, the measured bars, a corner watermark). Grouped in SQL by frame size, crop, bars and
    watermark, so the crop rule runs once per group, not once per clip."""
    keys = (Clip.width, Clip.height, cast(Clip.crop, Text),
            cast(Clip.analysis[("borders", "crop")], Text),
            cast(Clip.analysis[("text", "kind")], Text),
            cast(Clip.analysis[("text", "kinds")], Text),
            cast(Clip.analysis[("text", "boxes")], Text))
    query = (select(*keys, func.min(Clip.id), func.count()).where(Clip.decision == "accepted")
             .group_by(*keys))
    sizes: Counter[tuple[int, int]] = Counter()
    with catalog.session() as s:
        rows = s.execute(query).all()
    for width, height, crop, bars, kind, kinds, boxes, first, count in rows:
        person = _loads(crop)
        text = {k: v for k, v in (("kind", _loads(kind)), ("kinds", _loads(kinds)),
                                  ("boxes", _loads(boxes))) if v is not None}
        group = _SizeGroup(first, width, height, None if person is None else tuple(person),
                           {"borders": {"crop": _loads(bars)}, "text": text})
        sizes[export_size(group)] += count
    return sizes


def _accepted_facts(catalog: Catalog) -> tuple[list[str], list[str], int, int]:
    """Tags (of accepted clips and images), source names, and how many clips and images."""
    accepted_clips = Clip.decision == "accepted"
    accepted_images = Image.decision == "accepted"
    with catalog.session() as s:
        tag_lists = [*s.scalars(select(cast(Clip.tags, Text)).where(accepted_clips).distinct()),
                     *s.scalars(select(cast(Image.tags, Text)).where(accepted_images).distinct())]
        paths = s.scalars(select(Source.path).join(Clip, Clip.source_id == Source.id)
                          .where(accepted_clips).distinct()).all()
        clips = s.scalar(select(func.count()).select_from(Clip).where(accepted_clips)) or 0
        images = s.scalar(select(func.count()).select_from(Image).where(accepted_images)) or 0
    tags = {t for text in tag_lists for t in (_loads(text) or ())}
    return sorted(tags), sorted({Path(p).name for p in paths}), clips, images
