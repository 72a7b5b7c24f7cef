"""Pickers the tabs share: the trainer list and the preset/profile list with its origin."""

from __future__ import annotations

from PySide6.QtWidgets import QComboBox

from curator.core.trainers import Trainer

TRAINER_LABELS = {t.plan_id: t.label for t in Trainer}


def trainer_combo() -> QComboBox:
    """The trainers an export is written for, labelled as their projects name themselves."""
    combo = QComboBox()
    combo.setObjectName("trainerCombo")
    for trainer in Trainer:
        combo.addItem(trainer.label, trainer.plan_id)
    return combo
