"""The trainers Curator prepares data and runs for, in one place.

An export plan names musubi-tuner `musubi` (the plan TOML and `curator export --trainer`), a
training profile `musubi-tuner` (`[trainer] kind`); both spellings have always been accepted in
their files, so each member keeps both: `value` (the profile's id), `plan_id` (the plan's) and
`label` (how the trainer names itself).
"""

from __future__ import annotations

from enum import StrEnum


class Trainer(StrEnum):
    MUSUBI = "musubi-tuner"
    DIFFUSION_PIPE = "diffusion-pipe"

    @property
    def plan_id(self) -> str:
        """The id a dataset plan and `curator export --trainer` use."""
        return "musubi" if self is Trainer.MUSUBI else self.value

    @property
    def label(self) -> str:
        return self.value

    @classmethod
    def parse(cls, text: str) -> Trainer:
        """A trainer from either spelling (`musubi`, `musubi-tuner`, `diffusion-pipe`).

        Raises:
            ValueError: not a trainer Curator knows.
        """
        for trainer in cls:
            if text in (trainer.value, trainer.plan_id):
                return trainer
        raise ValueError(f"unknown trainer {text!r}; use one of "
                         f"{', '.join(t.plan_id for t in cls)}")


#: The ids a plan accepts (`musubi`, `diffusion-pipe`) and those a profile accepts.
PLAN_TRAINERS = tuple(t.plan_id for t in Trainer)
PROFILE_TRAINERS = tuple(t.value for t in Trainer)
