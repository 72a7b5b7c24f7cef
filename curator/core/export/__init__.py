"""Export: dataset plans, trainer-exact counting, and the ready-to-train dataset folder.

The GUI's Export tab and the train launcher use this API:

- `plan_report(plan, clips, images, trainer)`: a dry run, counts and warnings per section.
- `export_dataset(catalog, plan, out_dir, trainer=..., root=..., progress=..., cancel=...)`.
- `count_plan(plan, members, trainer)` on plain `VideoMedia`/`ImageMedia` values.
- Plans: `load_plan`, `save_plan`, `load_preset`, `list_presets`, `load_project_plan`.
- Buckets: `BucketSelector`, `resolution_options`, `musubi_cache_bucket`.
"""

from curator.core.export.buckets import (
    BucketSelector,
    ResolutionOption,
    musubi_buckets,
    musubi_cache_bucket,
    resolution_options,
)
from curator.core.export.counting import (
    DIFFUSION_PIPE,
    MUSUBI,
    CountWarning,
    ImageMedia,
    PlanCount,
    SectionCount,
    VideoMedia,
    count_diffusion_pipe,
    count_musubi,
    count_plan,
)
from curator.core.export.extraction import FrameExtraction, loaded_frame_count, round_frames
from curator.core.export.plan import (
    DEFAULT_PRESET,
    DatasetPlan,
    DiffusionPipeOptions,
    PlanError,
    Section,
    Selection,
    list_presets,
    load_plan,
    load_preset,
    load_project_plan,
    project_plan_path,
    save_plan,
)
from curator.core.export.report import ExportReport, plan_report
from curator.core.export.writer import ExportError, export_dataset, read_manifest

__all__ = [
    "DEFAULT_PRESET", "DIFFUSION_PIPE", "MUSUBI", "BucketSelector", "CountWarning", "DatasetPlan",
    "DiffusionPipeOptions", "ExportError", "ExportReport", "FrameExtraction", "ImageMedia",
    "PlanCount", "PlanError", "ResolutionOption", "Section", "SectionCount", "Selection",
    "VideoMedia", "count_diffusion_pipe", "count_musubi", "count_plan", "export_dataset",
    "list_presets", "load_plan", "load_preset", "load_project_plan", "loaded_frame_count",
    "musubi_buckets", "musubi_cache_bucket", "plan_report", "project_plan_path",
    "read_manifest", "resolution_options", "round_frames", "save_plan",
]
