"""One call from a profile to what a run needs: commands, problems, dataset counts.

The CLI and the GUI's Train tab both start here, then either show the plan (dry run, script
export) or pass `plan.steps` to `runner.run_steps` on a worker thread.
"""

from __future__ import annotations

import stat
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .commands import TrainStep, build_steps, export_script, logging_dir
from .profile import TrainingProfile
from .validate import (
    DatasetSummary,
    Problem,
    dataset_summary,
    default_dataset_config,
    errors,
    validate_profile,
)


@dataclass(frozen=True)
class RunPlan:
    """A resolved profile, its commands, what is wrong with them, and the dataset's counts."""

    profile: TrainingProfile
    steps: tuple[TrainStep, ...]
    problems: tuple[Problem, ...]
    dataset: DatasetSummary | None

    @property
    def ready(self) -> bool:
        """No errors: the steps may run."""
        return not errors(self.problems)

    @property
    def output_dir(self) -> Path:
        return Path(self.profile.output_dir)

    @property
    def sample_dir(self) -> Path:
        """Where the trainer writes sample videos and images (`<output_dir>/sample`)."""
        return self.output_dir / "sample"

    @property
    def tensorboard_dir(self) -> Path | None:
        return Path(logging_dir(self.profile)) if self.profile.log_with else None

    def script(self) -> str:
        """The steps as one bash script (the one writer: what the Train tab shows, what
        `--export-script` writes), every word quoted."""
        return export_script(self.steps, title=f"profile {self.profile.name}")

    def write_script(self, path: Path) -> Path:
        """Write `script()` to `path` (its folder made), executable.

        Raises:
            OSError: the file cannot be written.
        """
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(self.script(), encoding="utf-8")
        path.chmod(path.stat().st_mode | stat.S_IXUSR | stat.S_IXGRP | stat.S_IXOTH)
        return path

    def to_json(self) -> dict[str, Any]:
        return {"profile": self.profile.name, "steps": [s.to_json() for s in self.steps],
                "problems": [p.to_json() for p in self.problems],
                "dataset": self.dataset.to_json() if self.dataset else None}


def plan_run(profile: TrainingProfile, project_root: Path, steps: str | Iterable[str] = "all",
             *, remote: bool = False, export_root: str | Path | None = None,
             audience: str = "cli") -> RunPlan:
    """Resolve paths, fill in the last export's dataset config, build and check the commands.

    Args:
        profile: as loaded (paths may be relative to the project).
        project_root: the project folder relative paths resolve against.
        steps: `all` or step names (see `commands.STEP_NAMES`).
        remote: the commands will run on another machine: missing files are warnings.
        export_root: the project's export folder (`ProjectSettings.export_root`), whose
            dataset config is used when the profile names none.
        audience: "cli" or "window", the words of each fix (see `validate_profile`).

    Returns:
        The plan; `plan.ready` says whether it may run.

    Raises:
        ValueError: an unknown step or trainer.
    """
    root = Path(project_root)
    if not profile.dataset_config and export_root:
        folder = Path(export_root).expanduser()
        found = default_dataset_config(folder if folder.is_absolute() else root / folder,
                                       profile.trainer)
        if found is not None:
            profile = profile.replace(dataset_config=str(found))
    resolved = profile.resolved(root)
    built = build_steps(resolved, steps)
    problems = validate_profile(resolved, steps, check_files=not remote, audience=audience)
    return RunPlan(resolved, tuple(built), tuple(problems),
                   dataset_summary(resolved, check_files=not remote))


@dataclass(frozen=True)
class TrainRequest:
    """One training run as asked for. `curator train` builds it from its options, the Train tab
    from its form; both `validate` it into the `RunPlan` they show, write or run.

    Attributes:
        profile: the profile with the asker's overrides (paths may be relative to the project).
        project_root: the project folder.
        steps: `all` or step names (see `commands.STEP_NAMES`).
        remote: the commands will run on another machine (a script): missing files only warn.
        export_root: the project's export folder, whose dataset config is the default.
        audience: "cli" or "window", the words of each fix.
    """

    profile: TrainingProfile
    project_root: Path
    steps: str | Iterable[str] = "all"
    remote: bool = False
    export_root: str | None = None
    audience: str = "cli"

    def validate(self) -> RunPlan:
        """The plan: resolved paths, commands, problems, dataset counts (`plan.ready`).

        Raises:
            ValueError: an unknown step or trainer.
        """
        return plan_run(self.profile, self.project_root, self.steps, remote=self.remote,
                        export_root=self.export_root, audience=self.audience)
