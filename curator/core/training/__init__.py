"""Train launcher: profiles, trainer command lines, validation, a subprocess runner, output parsing.

The GUI's Train tab and `curator train` call the same plain functions:

- `profile`: `TrainingProfile` (TOML in `<project>/training/<name>.toml`) and the shipped presets;
- `launch`: `TrainRequest(...).validate()` (`plan_run`): resolved paths, steps, problems, dataset
  counts;
- `commands`: the argument lists for each step (musubi-tuner caching and training, diffusion-pipe);
- `validate`: problems with a fix-it message each, found before anything runs;
- `runner`: one trainer process in its own process group, lines streamed per stream, cancel;
- `progress`: step/epoch/loss/rate/ETA parsed from the trainer's output lines;
- `samples`: the sample videos and images a run wrote, grouped by prompt across checkpoints;
- `prompts`: the sample-prompt file in the trainer's own syntax.
"""

from .commands import STEP_NAMES, TrainStep, build_steps, export_script
from .launch import RunPlan, TrainRequest, plan_run
from .profile import ProfileError, TrainingProfile, list_profiles, load_profile, save_profile
from .progress import ProgressParser, TrainProgress
from .runner import RunRecord, run_command, run_steps
from .validate import Problem, validate_profile

__all__ = [
    "STEP_NAMES", "Problem", "ProfileError", "ProgressParser", "RunPlan", "RunRecord",
    "TrainProgress", "TrainRequest", "TrainStep", "TrainingProfile", "build_steps", "export_script",
    "list_profiles", "load_profile", "plan_run", "run_command", "run_steps", "save_profile",
    "validate_profile",
]
