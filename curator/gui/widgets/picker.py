"""Pickers the tabs share: the trainer list and the preset/profile list with its origin."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, NamedTuple

from PySide6.QtWidgets import QComboBox, QHBoxLayout, QLabel, QPushButton

from curator.core.trainers import Trainer
from curator.gui.widgets.job_bar import muted
from curator.gui.widgets.layout import caption_row, push_button

TRAINER_LABELS = {t.plan_id: t.label for t in Trainer}


def trainer_combo() -> QComboBox:
    """The trainers an export is written for, labelled as their projects name themselves."""
    combo = QComboBox()
    combo.setObjectName("trainerCombo")
    for trainer in Trainer:
        combo.addItem(trainer.label, trainer.plan_id)
    return combo


class PresetPicker(NamedTuple):
    """The row that picks a preset or the project's own plan or profile."""

    bar: QHBoxLayout
    combo: QComboBox  # item data: the key the tab loads
    origin: QLabel  # where the shown one comes from, and whether it is modified
    save_button: QPushButton


def preset_picker(caption: str, name: str, save_tip: str, on_pick: Callable[[Any], object],
                  on_save: Callable[[], object], min_width: int) -> PresetPicker:
    """`Caption [list] origin [Save name]`: picking an entry calls `on_pick(its data)`; the
    widgets are named `<name>Combo`, `<name>Origin` and `save<Name>` (tests and styles)."""
    bar = caption_row(caption)
    combo = QComboBox()
    combo.setObjectName(f"{name}Combo")
    combo.setMinimumWidth(min_width)
    combo.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToContents)
    combo.activated.connect(lambda _i: on_pick(combo.currentData()))
    bar.addWidget(combo)
    origin = muted(QLabel())
    origin.setObjectName(f"{name}Origin")
    bar.addWidget(origin)
    save = push_button(f"Save {name}", f"save{name.capitalize()}", save_tip, lambda: on_save())
    bar.addWidget(save)
    return PresetPicker(bar, combo, origin, save)
