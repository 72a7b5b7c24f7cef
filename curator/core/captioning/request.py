"""What the Caption tab runs: which clips and images a run covers, and the job itself.

Choosing reads every clip row, so it happens on the job's worker thread, not in the form.
"""

from __future__ import annotations

import importlib.util
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import Any

from curator.core.captioning import CaptionReport, CaptionResult, run_caption_job
from curator.core.catalog import Catalog
from curator.core.jobs import NEVER_CANCELLED, CancelToken, Progress, ProgressFn, ignore_progress


def package_installed(module: str) -> bool:
    """Whether an optional package (bitsandbytes, flash_attn) can be imported here."""
    return importlib.util.find_spec(module) is not None


def select_items(catalog: Catalog, *, status: str = "active", items: str = "both",
                 clip_ids: Sequence[int] | None = None) -> tuple[list[int], list[int]]:
    """The clip and image ids a run covers, in catalog order.

    Args:
        catalog: the project's catalog.
        status: 'active' (accepted and pending), 'accepted', 'pending' or 'all'.
        items: 'both', 'clips', 'images' or 'selected' (only `clip_ids`).
        clip_ids: the clips chosen in the browser, for 'selected'.

    Returns:
        (clip ids, image ids).
    """
    def keep(row: Any) -> bool:
        if status == "all":
            return True
        if status == "active":
            return row.decision != "rejected"
        return row.decision == status

    if items == "selected":
        return [row.id for row in catalog.list_clips(ids=list(clip_ids or ())) if keep(row)], []
    clips = [row.id for row in catalog.list_clips() if keep(row)] if items != "images" else []
    images = [row.id for row in catalog.list_images() if keep(row)] if items != "clips" else []
    return clips, images


def caption_job(catalog: Catalog, *, backend: str, backend_settings: dict[str, Any],
                status: str = "active", items: str = "both",
                clip_ids: Sequence[int] | None = None, prompts: dict[str, str] | None = None,
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
    clips, images = select_items(catalog, status=status, items=items, clip_ids=clip_ids)
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


