"""The Export tab's live count: a dry run of a plan against the accepted clips and images,
plus what the tab's editors offer (source sizes, tags, source names). Runs on any thread."""

from __future__ import annotations

import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from curator.core.catalog import Catalog
from curator.core.export.crop import export_size
from curator.core.export.plan import DatasetPlan
from curator.core.export.report import ExportReport, plan_report


@dataclass(frozen=True)
class CountRequest:
    """What one count is for: a snapshot taken on the GUI thread."""

    plan: DatasetPlan
    trainer: str
    out_dir: Path | None = None
    root: str | None = None


@dataclass
class CountResult:
    """A dry run's report plus what the editors offer (accepted clip sizes, tags, sources)."""

    request: CountRequest
    report: ExportReport | None = None
    error: str | None = None
    sizes: list[tuple[tuple[int, int], int]] = field(default_factory=list)
    tags: list[str] = field(default_factory=list)
    sources: list[str] = field(default_factory=list)
    clips: int = 0
    images: int = 0
    seconds: float = 0.0


def count_export(catalog: Catalog, request: CountRequest) -> CountResult:
    """Count a plan against the catalog's accepted clips and images (any thread).

    Returns:
        The result; `error` holds the reason when the count could not be made.
    """
    started = time.perf_counter()
    result = CountResult(request)
    try:
        settings = catalog.settings()
        clips = catalog.list_clips(status="accepted")
        images = catalog.list_images(status="accepted")
        result.report = plan_report(
            request.plan, clips, images, request.trainer, trigger=settings.trigger,
            default_fps=float(settings.target_fps or 16.0), out_dir=request.out_dir,
            root=request.root)
    except Exception as exc:  # noqa: BLE001 - the tab shows why instead of dying
        result.error = f"{type(exc).__name__}: {exc}"
        return result
    sizes = Counter(export_size(c) for c in clips)  # cropped sizes (bars, a person's crop)
    result.sizes = sorted(sizes.items(), key=lambda kv: (-kv[1], kv[0]))
    result.tags = sorted({t for c in clips for t in c.tags} | {t for i in images for t in i.tags})
    result.sources = sorted({Path(c.source_path).name for c in clips})
    result.clips, result.images = len(clips), len(images)
    result.seconds = time.perf_counter() - started
    return result

