"""The export report, and the dry run that computes it without writing a file.

`plan_report` is what the GUI's Export tab and `curator export --dry-run` show: per section the
items and batches the trainer will count, with warnings that name the clips. `export_dataset`
(writer.py) returns the same report, recounted from the files it actually wrote.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from curator.core.export.counting import DIFFUSION_PIPE, PlanCount, count_plan
from curator.core.export.layout import ClipLike, ExportLayout, ImageLike, build_layout
from curator.core.export.plan import DatasetPlan
from curator.core.export.trainer_config import (
    config_name,
    diffusion_pipe_config,
    musubi_config,
    render_toml,
)
from curator.core.jobs import ItemFailure, Report


@dataclass
class ExportReport(Report):
    """What an export holds (or would hold), counted as the trainer counts it.

    Attributes:
        trainer: `musubi` or `diffusion-pipe`.
        plan: the plan exported.
        out_dir: the export folder (None for a dry run without one).
        config_path: the trainer's dataset TOML (written, or where it would be written).
        config: that TOML as a dict.
        config_text: that TOML as text.
        counts: items, batches and steps, per section and in total.
        layout: every file, its size, frames and sections.
        dry_run: True when nothing was written.
        encoded, reused, removed: clip and image files transcoded/written, kept from the
            previous export, and deleted because no longer wanted.
        manifest_path: the export's manifest.json.
    """

    trainer: str = "musubi"
    plan: DatasetPlan | None = None
    out_dir: Path | None = None
    config_path: Path | None = None
    config: dict[str, Any] | None = None
    config_text: str = ""
    counts: PlanCount | None = None
    layout: ExportLayout | None = None
    dry_run: bool = True
    encoded: int = 0
    reused: int = 0
    removed: int = 0
    manifest_path: Path | None = None
    sections_in_config: list[str] = field(default_factory=list)

    @property
    def total_items(self) -> int:
        return self.counts.total_items if self.counts else 0

    @property
    def total_batches(self) -> int:
        return self.counts.total_batches if self.counts else 0

    @property
    def errors(self) -> list[str]:
        return [w.message for w in self.counts.errors] if self.counts else []


    def to_json(self) -> dict[str, Any]:
        """The shape `curator export --json` prints."""
        counts = self.counts
        datasets = []
        if counts is not None:
            for s in counts.sections:
                datasets.append({"name": s.name, "kind": s.kind, "items": s.items,
                                 "batches": s.batches, "files": s.files,
                                 "in_config": s.name in self.sections_in_config,
                                 "warnings": [w.message for w in s.warnings]})
        return {
            "trainer": self.trainer,
            "config": str(self.config_path) if self.config_path else None,
            "datasets": datasets,
            "total_items": self.total_items,
            "total_batches": self.total_batches,
            "steps_per_epoch": counts.steps_per_epoch if counts else 0,
            "epochs": counts.epochs if counts else 0,
            "total_steps": counts.total_steps if counts else 0,
            "warnings": [w.message for w in counts.warnings] if counts else [],
            "errors": self.errors,
            "dry_run": self.dry_run,
            "output": str(self.out_dir) if self.out_dir else None,
            "clips": len(self.layout.clips) if self.layout else 0,
            "images": len(self.layout.images) if self.layout else 0,
            "encoded": self.encoded,
            "reused": self.reused,
            "removed": self.removed,
            "failed": [f.to_json() for f in self.failed],
            "cancelled": self.cancelled,
        }


def exported_members(layout: ExportLayout, failed_keys: set[str] = frozenset()
                     ) -> dict[str, list[str]]:
    """Section → keys of the files actually written: captioned, and not failed."""
    items = layout.by_key()
    return {
        section: [k for k in keys if k not in failed_keys and (items[k].caption or "").strip()]
        for section, keys in layout.members.items()
    }


def build_config(layout: ExportLayout, out_dir: Path, root: str | None,
                 members: dict[str, list[str]]) -> tuple[dict[str, Any], str, list[str]]:
    """The trainer's dataset config for a layout: dict, text, and the sections it includes.

    Sections without a single file are left out: diffusion-pipe stops on an empty directory.
    """
    plan = layout.plan
    sections = [s.name for s in plan.sections if members.get(s.name)]
    if layout.trainer == DIFFUSION_PIPE:
        config = diffusion_pipe_config(plan, layout.folders, out_dir, root=root,
                                       sections=sections)
    else:
        config = musubi_config(plan, layout.folders, out_dir, root=root,
                               source_fps=layout.source_fps, sections=sections)
    header = [f"Written by Curator from the plan '{plan.name}' for {layout.trainer}.",
              "Sections, in order: " + (", ".join(sections) or "none") + "."]
    return config, render_toml(config, header), sections


def plan_report(plan: DatasetPlan, clips: Sequence[ClipLike], images: Sequence[ImageLike],
                trainer: str = "musubi", *, trigger: str = "", default_fps: float = 16.0,
                out_dir: Path | None = None, root: str | None = None) -> ExportReport:
    """Count what an export would give, without decoding or writing anything.

    Frame counts come from the catalog's decoded counts, converted to the export fps exactly
    as the transcoder will convert them.

    Args:
        plan: the sections.
        clips: accepted clips (ClipRow), with their captions.
        images: accepted images (ImageRow).
        trainer: `musubi` or `diffusion-pipe`.
        trigger: the project's trigger phrase, checked in every caption.
        default_fps: the export fps when the plan names none.
        out_dir: where the export would go (for the config's paths); None to skip the config.
        root: the export folder's path on the training machine.

    Returns:
        The report (dry_run True).

    Raises:
        ValueError: an unknown trainer.
    """
    layout = build_layout(plan, clips, images, trainer, default_fps=default_fps)
    media = layout.media_by_section()
    counts = count_plan(plan, media, trainer, source_fps=layout.source_fps, trigger=trigger,
                        extra_warnings=layout.warnings)
    report = ExportReport(trainer=trainer, plan=plan, counts=counts, layout=layout,
                          dry_run=True, done=0)
    for w in counts.all_warnings():
        report.warnings.append(ItemFailure(w.item or w.section or "", w.message))
    if out_dir is not None:
        out_dir = Path(out_dir).expanduser().resolve()
        report.out_dir = out_dir
        report.config_path = out_dir / config_name(trainer)
        config, text, sections = build_config(layout, out_dir, root, exported_members(layout))
        report.config, report.config_text, report.sections_in_config = config, text, sections
    return report
