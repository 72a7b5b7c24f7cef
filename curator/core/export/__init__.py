"""Export: dataset plans, trainer-exact counting, and the ready-to-train dataset folder.

The GUI's Export tab and the train launcher use this API:

- `plan_report(plan, clips, images, trainer)`: a dry run, counts and warnings per section.
- `export_dataset(catalog, plan, out_dir, trainer=..., root=..., progress=..., cancel=...)`.
- `count_plan(plan, members, trainer)` on plain `VideoMedia`/`ImageMedia` values.
- Plans: `load_plan`, `save_plan`, `load_preset`, `list_presets`, `load_project_plan`.
- Buckets: `BucketSelector`, `resolution_options`, `musubi_cache_bucket`.

The names load with their module on first use (core/lazy.py): reading the project's plan
(`curator stats` draws its targets) must not load the writer's media stack.
"""

from curator.core.lazy import lazy_names

_MODULES = {
    "buckets": ("BucketSelector", "ResolutionOption", "musubi_buckets", "musubi_cache_bucket",
                "resolution_options"),
    "counting": ("DIFFUSION_PIPE", "MUSUBI", "CountWarning", "ImageMedia", "PlanCount",
                 "SectionCount", "VideoMedia", "count_diffusion_pipe", "count_musubi",
                 "count_plan"),
    "extraction": ("FrameExtraction", "loaded_frame_count", "round_frames"),
    "plan": ("DEFAULT_PRESET", "DatasetPlan", "DiffusionPipeOptions", "PlanError", "Section",
             "Selection", "list_presets", "load_plan", "load_preset", "load_project_plan",
             "project_plan_path", "save_plan"),
    "report": ("ExportReport", "plan_report"),
    "writer": ("ExportError", "export_dataset", "read_manifest"),
}
__getattr__ = lazy_names(__name__, _MODULES)
__all__ = sorted(name for names in _MODULES.values() for name in names)
