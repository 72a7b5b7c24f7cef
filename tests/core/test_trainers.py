"""One Trainer enum for both files that name a trainer (TRAINERS.md §1, §2: musubi-tuner; §4:
diffusion-pipe): a plan says `musubi`, a profile `musubi-tuner`, and both mean the same one."""

from __future__ import annotations

import pytest

from curator.core.export.plan import TRAINERS as PLAN_IDS
from curator.core.trainers import Trainer
from curator.core.training.profile import TRAINERS as PROFILE_IDS


def test_both_spellings_name_the_same_trainer() -> None:
    assert Trainer.parse("musubi") is Trainer.parse("musubi-tuner") is Trainer.MUSUBI
    assert Trainer.parse("diffusion-pipe") is Trainer.DIFFUSION_PIPE
    assert PLAN_IDS == ("musubi", "diffusion-pipe")
    assert PROFILE_IDS == ("musubi-tuner", "diffusion-pipe")
    assert Trainer.MUSUBI == "musubi-tuner"  # a profile's string compares equal
    with pytest.raises(ValueError, match="unknown trainer 'kohya'"):
        Trainer.parse("kohya")
