"""Pickers the tabs share: the trainer list and the preset/profile list with its origin."""

from __future__ import annotations

from PySide6.QtWidgets import QComboBox

from curator.core.export.plan import TRAINERS

TRAINER_LABELS = {"musubi": "musubi-tuner", "diffusion-pipe": "diffusion-pipe"}


def trainer_combo() -> QComboBox:
    """The trainers an export is written for, labelled as their projects name themselves."""
    combo = QComboBox()
    combo.setObjectName("trainerCombo")
    for trainer in TRAINERS:
        combo.addItem(TRAINER_LABELS.get(trainer, trainer), trainer)
    return combo
