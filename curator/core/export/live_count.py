"""An export request and its dry run: `curator export --dry-run` prints it, the Export tab shows
it live with what its editors offer (source sizes, tags, source names). Runs on any thread."""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from curator.core.catalog import Catalog, ClipRow, ImageRow
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

    Returns:
        The result; `error` holds the reason when the count could not be made.
    """
    started = time.perf_counter()
    result = CountResult(request)
    try:
        clips = catalog.list_clips(status="accepted")
        images = catalog.list_images(status="accepted")
        result.report = request.dry_run(catalog, clips, images)
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

