"""The Export tab's plan handling: which plan is shown (the project's or a preset), drafts of
unsaved edits, saving, and adding, removing and moving sections. The edits themselves are the
core's (`curator.core.export.plan_edit`)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QHBoxLayout, QLabel, QSpinBox, QStyle

from curator.core.export import (
    DEFAULT_PRESET,
    DatasetPlan,
    PlanError,
    list_presets,
    load_plan,
    load_preset,
    project_plan_path,
    save_plan,
)
from curator.core.export.plan_edit import (
    ALL_ACCEPTED,
    plan_with_sections,
    section_entry,
    unique_name,
)
from curator.gui.theme import ERROR_COLOR, OK_COLOR, WARNING_COLOR
from curator.gui.widgets.layout import push_button
from curator.gui.widgets.picker import preset_picker, trainer_combo


class PlanEditing:
    """Mixed into `ExportPanel`: the plan bar and list, drafts, and section edits."""

    plan: DatasetPlan
    plan_key: str
    modified: bool
    _drafts: dict[str, DatasetPlan]
    root: Path
    _tags: list[str]
    _sources: list[str]

    def _build_plan_bar(self) -> QHBoxLayout:
        bar, self.plan_combo, self.origin_label, self.save_button = preset_picker(
            "Plan", "plan", "Keep this plan as the project's (plans/dataset.toml); "
            "`curator export` uses it too", self.choose_plan, self.save_plan, min_width=250)
        bar.addSpacing(14)
        bar.addWidget(QLabel("Trainer"))
        self.trainer_combo = trainer_combo()
        self.trainer_combo.activated.connect(lambda _i: self._on_trainer_changed())
        bar.addWidget(self.trainer_combo)
        bar.addSpacing(8)
        bar.addWidget(QLabel("Epochs"))
        self.epochs_spin = QSpinBox()
        self.epochs_spin.setObjectName("epochsSpin")
        self.epochs_spin.setRange(1, 100_000)
        self.epochs_spin.setToolTip("max_train_epochs, for the steps figure")
        self.epochs_spin.setMaximumWidth(80)
        self.epochs_spin.valueChanged.connect(self._on_epochs_changed)
        bar.addWidget(self.epochs_spin)
        bar.addStretch(1)
        self.export_button = push_button(
            "Export", "exportButton", "Transcode the accepted clips, write captions, the "
            "trainer's dataset TOML and a manifest", lambda: self.export(),
            icon=QStyle.StandardPixmap.SP_DialogSaveButton)
        bar.addWidget(self.export_button)
        self.cancel_button = push_button("Cancel", "cancelExport", "", lambda: self.cancel_export(),
                                         icon=QStyle.StandardPixmap.SP_MediaStop)
        bar.addWidget(self.cancel_button)
        return bar

    def _project_plan_path(self) -> Path:
        return project_plan_path(self.root)

    def _fill_plan_choices(self) -> None:
        current = self.plan_combo.currentData()
        self.plan_combo.blockSignals(True)
        self.plan_combo.clear()
        if self._project_plan_path().is_file():
            self.plan_combo.addItem("Project plan", "project")
            self.plan_combo.setItemData(0, str(self._project_plan_path()),
                                        Qt.ItemDataRole.ToolTipRole)
        for name in list_presets():
            self.plan_combo.addItem(f"Preset: {name}", f"preset:{name}")
            try:
                tip = load_preset(name).description
            except PlanError as exc:
                tip = str(exc)
            self.plan_combo.setItemData(self.plan_combo.count() - 1, tip,
                                        Qt.ItemDataRole.ToolTipRole)
        index = self.plan_combo.findData(current if current else self.plan_key)
        self.plan_combo.setCurrentIndex(max(0, index))
        self.plan_combo.blockSignals(False)

    def _load_initial_plan(self) -> None:
        key = "project" if self._project_plan_path().is_file() else f"preset:{DEFAULT_PRESET}"
        if not self.choose_plan(key) and key == "project":
            self.choose_plan(f"preset:{DEFAULT_PRESET}", keep_notice=True)

    def plan_choices(self) -> list[str]:
        """The keys the plan list offers: `project` and `preset:<name>`."""
        return [self.plan_combo.itemData(i) for i in range(self.plan_combo.count())]

    def choose_plan(self, key: str, *, keep_notice: bool = False) -> bool:
        """Show the project's plan (`project`) or a preset (`preset:<name>` or just its name).

        Unsaved edits of the plan left behind are kept as a draft and come back with it.
        """
        if key and key != "project" and not key.startswith("preset:"):
            key = f"preset:{key}"
        if self.modified:
            self._drafts[self.plan_key] = self.plan
        draft = self._drafts.get(key)
        try:
            if draft is not None:
                plan = draft
            elif key == "project":
                plan = load_plan(self._project_plan_path())
            else:
                plan = load_preset(key.removeprefix("preset:"))
        except PlanError as exc:
            self._notice(f"Cannot use that plan: {exc}", ERROR_COLOR)
            index = self.plan_combo.findData(self.plan_key)
            self.plan_combo.setCurrentIndex(max(0, index))
            return False
        self.plan_key = key
        self.modified = draft is not None
        self._set_plan(plan)
        index = self.plan_combo.findData(key)
        if index >= 0:
            self.plan_combo.setCurrentIndex(index)
        if not keep_notice:
            self._notice("")
        return True

    def _set_plan(self, plan: DatasetPlan, *, select: int | None = None) -> None:
        row = self.table.current_row() if select is None else select
        self.plan = plan
        self.epochs_spin.blockSignals(True)
        self.epochs_spin.setValue(plan.epochs)
        self.epochs_spin.blockSignals(False)
        self.trainer_combo.setCurrentIndex(max(0, self.trainer_combo.findData(plan.trainer)))
        self.description_label.setText(plan.description)
        self.description_label.setToolTip(plan.description)
        self._fill_table(max(0, min(row, len(plan.sections) - 1)))
        self._update_origin()
        self._update_buttons()
        self.update_helper()
        self.schedule_recount()

    def _update_origin(self) -> None:
        text = "plans/dataset.toml" if self.plan_key == "project" else "built-in preset"
        if self.modified:
            text += f" · <span style='color:{WARNING_COLOR}'>modified, not saved</span>"
        self.origin_label.setText(text)

    def _change_plan(self, plan: DatasetPlan, *, select: int | None = None) -> None:
        self.modified = True
        self._set_plan(plan, select=select)

    def save_plan(self) -> Path | None:
        """Write the plan as the project's plan (`plans/dataset.toml`)."""
        path = self._project_plan_path()
        try:
            save_plan(self.plan, path)
        except OSError as exc:
            self._notice(f"Could not save the plan to {path}: {exc}", ERROR_COLOR)
            return None
        self._drafts.pop(self.plan_key, None)
        self._drafts.pop("project", None)
        self.plan_key = "project"
        self.modified = False
        self._fill_plan_choices()
        self.plan_combo.setCurrentIndex(max(0, self.plan_combo.findData("project")))
        self._update_origin()
        self._notice(f"Saved the plan to {path}", OK_COLOR)
        self.plan_saved.emit(path)
        return path

    def _on_trainer_changed(self) -> None:
        trainer = self.trainer_combo.currentData()
        if trainer != self.plan.trainer:
            self._change_plan(self.plan.replace(trainer=trainer))

    def _on_epochs_changed(self, value: int) -> None:
        if value != self.plan.epochs:
            self.modified = True
            self.plan = self.plan.replace(epochs=value)
            self._update_origin()
            self.schedule_recount()

    @property
    def trainer(self) -> str:
        return str(self.trainer_combo.currentData() or self.plan.trainer)

    def set_trainer(self, trainer: str) -> None:
        self.trainer_combo.setCurrentIndex(self.trainer_combo.findData(trainer))
        self._on_trainer_changed()

    # --- sections ----------------------------------------------------------------------------

    def set_cell(self, row: int, key: str, text: str) -> None:
        """Type `text` into a section's cell, as the editor does (tests and scripts)."""
        self.table.set_cell(row, key, text)

    def cell(self, row: int, key: str) -> str:
        return self.table.cell(row, key)

    def current_section_index(self) -> int | None:
        row = self.table.current_row()
        return row if 0 <= row < len(self.plan.sections) else None

    def add_section(self, kind: str) -> None:
        """Add a section after the selected one (videos: head [1]; sized like its neighbour)."""
        index = self.current_section_index()
        near = self.plan.sections[index] if index is not None else None
        same = [s for s in self.plan.sections if s.kind == kind]
        resolution = (same[-1].resolution if same else
                      near.resolution if near is not None else (832, 480))
        base = f"{'clips' if kind == 'videos' else 'images'}_{resolution[0]}x{resolution[1]}"
        entry: dict[str, Any] = {"name": unique_name(base, [s.name for s in self.plan.sections]),
                                 "kind": kind, "resolution": list(resolution),
                                 "num_repeats": 1, "batch_size": 1}
        if kind == "videos":
            entry.update(frame_extraction="head", target_frames=[1])
        entries = [section_entry(s) for s in self.plan.sections]
        at = len(entries) if index is None else index + 1
        entries.insert(at, entry)
        try:
            plan = plan_with_sections(self.plan, entries)
        except PlanError as exc:
            self._notice(str(exc), ERROR_COLOR)
            return
        self._change_plan(plan, select=at)

    def remove_section(self, index: int | None = None) -> None:
        index = self.current_section_index() if index is None else index
        if index is None or len(self.plan.sections) <= 1:
            return
        entries = [section_entry(s) for i, s in enumerate(self.plan.sections) if i != index]
        self._change_plan(plan_with_sections(self.plan, entries),
                          select=min(index, len(entries) - 1))

    def move_section(self, step: int) -> None:
        index = self.current_section_index()
        if index is None or not 0 <= index + step < len(self.plan.sections):
            return
        entries = [section_entry(s) for s in self.plan.sections]
        entries[index], entries[index + step] = entries[index + step], entries[index]
        self._change_plan(plan_with_sections(self.plan, entries), select=index + step)

    def selection_choices(self) -> list[str]:
        """What the 'Clips from' editor suggests: all, each tag, each source file."""
        return ([ALL_ACCEPTED] + [f"tag: {t}" for t in self._tags]
                + [f"source: {s}" for s in self._sources])

    # Provided by the tab that mixes this in.
    plan_combo: Any
    table: Any
    epochs_spin: Any
    trainer_combo: Any
    description_label: Any
    origin_label: Any
    plan_saved: Any

