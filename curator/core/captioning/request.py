"""What the Caption tab runs: which clips and images a run covers, and the job itself.

Choosing reads every clip row, so it happens on the job's worker thread, not in the form.
"""

from __future__ import annotations

import importlib.util
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from curator.core.captioning import CaptionReport, CaptionResult, run_caption_job
from curator.core.captioning.jobs import select_items
from curator.core.catalog import Catalog, ClipRow
from curator.core.jobs import NEVER_CANCELLED, CancelToken, Progress, ProgressFn, ignore_progress


def package_installed(module: str) -> bool:
    """Whether an optional package (bitsandbytes, flash_attn) can be imported here."""
    return importlib.util.find_spec(module) is not None


@dataclass(frozen=True)
class CaptionSelection:
    """What a caption run covers: the one rule `curator caption` and the Caption tab share.

    Attributes:
        status: `active` (all but rejected), `all`, or one decision (`accepted`, `pending`,
            `rejected`).
        items: `both`, `clips` or `images`.
        clip_ids: only these clips (and no images): `--ids`, or the browser's selection.

    `--limit` is not part of it: the core applies a limit after skipping what is already
    captioned (`caption_items`), so a rerun resumes instead of choosing the same items.
    """

    status: str = "active"
    items: str = "both"
    clip_ids: tuple[int, ...] | None = None

    def keeps(self, decision: str) -> bool:
        if self.status == "all":
            return True
        if self.status == "active":
            return decision != "rejected"
        return decision == self.status

    def select(self, catalog: Catalog) -> tuple[list[int], list[int]]:
        """(clip ids, image ids), in catalog order."""
        if self.clip_ids is not None:
            if self.items == "images":
                return [], []
            rows = catalog.list_clips(ids=list(self.clip_ids))
            return [row.id for row in rows if self.keeps(row.decision)], []
        clips = ([row.id for row in catalog.list_clips() if self.keeps(row.decision)]
                 if self.items != "images" else [])
        images = ([row.id for row in catalog.list_images() if self.keeps(row.decision)]
                  if self.items != "clips" else [])
        return clips, images


@dataclass(frozen=True)
class CaptionCount:
    """What a run would do, counted before it starts (`curator caption --dry-run` style)."""

    clips: int = 0
    images: int = 0
    skipped: int = 0  # captioned already ("only those without a caption")
    skipped_manual: int = 0  # written by hand, kept

    @property
    def total(self) -> int:
        return self.clips + self.images


@dataclass(frozen=True)
class PlannedItem:
    """One clip or image a run would caption."""

    kind: str  # clip | image
    id: int
    path: str
    frames: tuple[int, int] | None = None  # a clip's [start, end) in its source

    def to_json(self) -> dict[str, Any]:
        data: dict[str, Any] = {"kind": self.kind, "id": self.id, "path": self.path}
        if self.frames is not None:
            data["frames"] = list(self.frames)
        return data


@dataclass(frozen=True)
class CaptionPlan:
    """What a run would caption, in order, and what it would skip (`curator caption
    --dry-run`, and the Caption tab's "Will caption N clips and M images")."""

    items: tuple[PlannedItem, ...]
    skipped: int = 0
    skipped_manual: int = 0

    def count(self) -> CaptionCount:
        return CaptionCount(clips=sum(1 for item in self.items if item.kind == "clip"),
                            images=sum(1 for item in self.items if item.kind == "image"),
                            skipped=self.skipped, skipped_manual=self.skipped_manual)

    def to_json(self) -> dict[str, Any]:
        count = self.count()
        return {"clips": count.clips, "images": count.images, "skipped": self.skipped,
                "skipped_manual": self.skipped_manual,
                "items": [item.to_json() for item in self.items]}


def plan_caption(catalog: Catalog, selection: CaptionSelection, *, only_missing: bool = True,
                 overwrite_manual: bool = False, limit: int | None = None) -> CaptionPlan:
    """The items a run with these choices captions, and how many it skips; no model loaded.

    The same selection `caption_job` and `curator caption` make (`CaptionSelection`, then the
    run's own skip rule and `limit`), so what is shown before starting is what the run does.
    """
    clips, images = selection.select(catalog)
    report = CaptionReport()
    chosen = select_items(catalog, clips, images, only_missing, overwrite_manual, report, limit)
    items = tuple(PlannedItem(item.kind, item.id, str(item.path),
                              (item.row.start_frame, item.row.end_frame)
                              if isinstance(item.row, ClipRow) else None) for item in chosen)
    return CaptionPlan(items, skipped=report.skipped, skipped_manual=report.skipped_manual)


def count_to_caption(catalog: Catalog, *, status: str = "active", items: str = "both",
                     clip_ids: Sequence[int] | None = None, only_missing: bool = True,
                     overwrite_manual: bool = False) -> CaptionCount:
    """How many clips and images a run with these choices captions, and how many it skips
    (`plan_caption`, counted). `items='selected'` means the clips in `clip_ids` only, as the
    Caption tab offers it."""
    selection = (CaptionSelection(status, "clips", tuple(clip_ids or ()))
                 if items == "selected" else CaptionSelection(status, items))
    return plan_caption(catalog, selection, only_missing=only_missing,
                        overwrite_manual=overwrite_manual).count()


def server_models(url: str, *, api_key_env: str | None = None, timeout: float = 10.0
                  ) -> list[str]:
    """The models an OpenAI-compatible server lists (GET /v1/models), asked once, no retries.

    Raises:
        CaptionBackendError: unreachable, refused, or not an OpenAI-compatible answer (why).
    """
    from curator.core.captioning.openai_backend import OpenAIBackend

    backend = OpenAIBackend("connection test", url=url, api_key_env=api_key_env, retries=0,
                            timeout=timeout)
    try:
        return backend.list_models(timeout)
    finally:
        backend.close()


def caption_job(catalog: Catalog, *, backend: str, backend_settings: dict[str, Any],
                selection: CaptionSelection = CaptionSelection(),
                prompts: dict[str, str] | None = None,
                trigger: str | None = None, sampling: dict[str, Any] | None = None,
                only_missing: bool = True, overwrite_manual: bool = False,
                batch_size: int | None = None,
                on_caption: Callable[[CaptionResult], None] | None = None,
                progress: ProgressFn = ignore_progress,
                cancel: CancelToken = NEVER_CANCELLED) -> CaptionReport:
    """The Caption tab's job: choose the items, then `run_caption_job` (model loaded here).

    Choosing reads every clip row, so it happens on the worker thread, not in the form.

    Returns:
        The `CaptionReport` (empty when nothing matched).
    """
    progress(Progress(done=0, total=None, message="choosing what to caption"))
    clips, images = selection.select(catalog)
    if not clips and not images:
        return CaptionReport()
    # The JobRunner records this run in the catalog already: one job row per run.
    return run_caption_job(catalog, backend=backend, backend_settings=backend_settings,
                           record_job=False,
                           clip_ids=clips, image_ids=images, prompts=prompts, trigger=trigger,
                           sampling=sampling, only_missing=only_missing,
                           overwrite_manual=overwrite_manual, batch_size=batch_size,
                           on_caption=on_caption, progress=progress, cancel=cancel)


def model_folders(roots: Iterable[Path]) -> list[str]:
    """Model folders (holding a config.json) directly inside `roots`, for the model list."""
    found: list[str] = []
    for root in roots:
        try:
            children = sorted(root.iterdir())
        except OSError:
            continue
        found += [str(child) for child in children if (child / "config.json").is_file()]
    return found


