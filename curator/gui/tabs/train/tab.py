"""The Train tab: a profile, the settings that change per run, the exact commands, a live run.

Everything a run needs comes from `curator.core.training`: a `TrainRequest` of the profile as
edited here validates into steps, problems (each with its fix, shown beside the field it is
about) and the dataset's counts; `run_steps` runs the steps on a JobRunner thread (so the run is a job in the
jobs panel, cancelled through the token the runner hands it). Output lines cross to this thread
through a `LineChannel` signal in batches; here they are parsed with the core's `ProgressParser`
into the progress bar, the stats and the loss plot, and shown in a capped log. The Samples tab
is the checkpoint picker (`gallery.CheckpointGallery`). The pages are
mixins of their own: checks, run, prompts.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from PySide6.QtCore import QSettings, QSize, Qt, QTimer, Signal
from PySide6.QtWidgets import (
    QComboBox,
    QFileDialog,
    QFormLayout,
    QFrame,
    QHBoxLayout,
    QLabel,
    QScrollArea,
    QSplitter,
    QStyle,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from curator.core.project import Project
from curator.core.training.commands import STEP_CHOICES, TrainStep
from curator.core.training.launch import RunPlan
from curator.core.training.profile import (
    DEFAULT_PRESET,
    ProfileError,
    TrainingProfile,
    list_profiles,
    load_profile,
    save_profile,
)
from curator.core.training.progress import ProgressParser
from curator.core.training.runner import DEFAULT_GRACE_S
from curator.core.training.validate import errors
from curator.gui.latest import single_shot
from curator.gui.tabs.train.channel import LineChannel
from curator.gui.tabs.train.checks import ChecksPage
from curator.gui.tabs.train.fields import FIELDS, FieldEditor, html
from curator.gui.tabs.train.gallery import CheckpointGallery
from curator.gui.tabs.train.prompts import PromptsPage
from curator.gui.tabs.train.run import RunPage
from curator.gui.theme import (
    ERROR_COLOR,
    MUTED_COLOR,
    OK_COLOR,
    TRAIN_STYLE,
)
from curator.gui.widgets.job_bar import JobTab
from curator.gui.widgets.layout import push_button
from curator.gui.widgets.picker import preset_picker
from curator.gui.workers import JobRunner

#: Lines reach the view at most this often; a burst is appended in one go.
DRAIN_MS = 100
#: Settings are checked this long after the last keystroke.
REPLAN_MS = 250
STEP_LABELS = {
    "all": "All steps",
    "cache-latents": "Cache latents only",
    "cache-text": "Cache text encoder only",
    "train": "Train only",
}


class TrainPanel(RunPage, ChecksPage, PromptsPage, JobTab):
    """Profile, settings, commands, run, samples: everything between an export and a LoRA."""

    run_started = Signal(object)  # JobHandle
    run_finished = Signal(str)  # done | failed | cancelled
    plan_changed = Signal(object)  # RunPlan

    def __init__(self, project: Project, catalog: Any = None,
                 job_runner: JobRunner | None = None, settings: QSettings | None = None,
                 parent: QWidget | None = None) -> None:
        super().__init__("trainPanel", TRAIN_STYLE, project=project, catalog=catalog,
                         job_runner=job_runner, settings=settings, parent=parent)
        self.plan: RunPlan | None = None
        self.base: TrainingProfile = TrainingProfile()
        self.profile_origin = "preset"
        self.run_plan: RunPlan | None = None
        self.grace_s = DEFAULT_GRACE_S
        self.parser: ProgressParser | None = None
        self.current_step: tuple[TrainStep, int, int] | None = None
        self.loss_points: list[tuple[int, float]] = []
        self._channel: LineChannel | None = None
        self._log_last_bar: str | None = None  # desc of the bar the log's last line shows
        self._gallery_pinned = False  # a folder the person opened: replans leave it alone
        self._prompt_path: Path | None = None
        self._prompt_disk_text = ""
        self._loading = False
        self._loaded_name: str | None = None
        self._drafts: dict[str, TrainingProfile] = {}

        self._replan_timer = single_shot(REPLAN_MS, self.replan, self)
        self._drain_timer = single_shot(DRAIN_MS, self._drain, self)
        self._clock = QTimer(self)  # elapsed time ticks between the trainer's own reports
        self._clock.setInterval(1000)
        self._clock.timeout.connect(self._show_elapsed)

        self._build()
        self._fill_profiles()
        remembered = self.settings.value("train/steps") if self.settings is not None else None
        if remembered and self.steps_combo.findData(remembered) >= 0:
            self.steps_combo.blockSignals(True)
            self.steps_combo.setCurrentIndex(self.steps_combo.findData(remembered))
            self.steps_combo.blockSignals(False)
        self.load(self._initial_profile())

    def _build(self) -> None:
        # In a short dock the whole tab scrolls instead of crushing the plot and the log.
        outer = self.scrolled_page("trainPageBody", QSize(940, 470), "trainPage")

        outer.addLayout(self._build_profile_bar())

        self.summary_label = QLabel()
        self.summary_label.setObjectName("planSummary")
        self.summary_label.setWordWrap(True)
        outer.addWidget(self.summary_label)

        splitter = QSplitter(Qt.Orientation.Horizontal)
        splitter.setChildrenCollapsible(False)
        splitter.addWidget(self._build_form())
        self.tabs = QTabWidget()
        self.tabs.setObjectName("trainTabs")
        self.tabs.setDocumentMode(True)
        self.tabs.addTab(self._build_commands_tab(), "Commands")
        self.tabs.addTab(self._build_run_tab(), "Run")
        self.gallery = CheckpointGallery()
        self.gallery.open_button.clicked.disconnect()
        self.gallery.open_button.clicked.connect(self._open_run_folder)
        self.tabs.addTab(self.gallery, "Samples")
        self.tabs.addTab(self._build_prompts_tab(), "Prompts")
        splitter.addWidget(self.tabs)
        # The form grows too (a third of any extra width): at 1920 px its problem lines would
        # otherwise wrap into five-line paragraphs beside a half-empty script.
        splitter.setStretchFactor(0, 1)
        splitter.setStretchFactor(1, 2)
        splitter.setSizes([450, 900])
        outer.addWidget(splitter, 1)

    def _build_profile_bar(self) -> QHBoxLayout:
        bar, self.profile_combo, self.origin_label, self.save_button = preset_picker(
            "Profile", "profile", "Keep these settings as this project's profile "
            "(training/<name>.toml)", self.load, self.save_profile, min_width=220)
        bar.addStretch(1)
        bar.addWidget(QLabel("Steps"))
        self.steps_combo = QComboBox()
        self.steps_combo.setObjectName("stepsCombo")
        for step in ("all", *[s for s in STEP_CHOICES if s != "all"]):
            self.steps_combo.addItem(STEP_LABELS.get(step, step), step)
        self.steps_combo.currentIndexChanged.connect(self._on_steps_changed)
        bar.addWidget(self.steps_combo)
        self.export_button = push_button("Export script…", "exportScript",
                                         "Write these commands as a bash script for the machine "
                                         "that trains",
                                         lambda: self.export_script())
        bar.addWidget(self.export_button)
        self.run_button = push_button("Run", "runButton", "", lambda: self.run(),
                                      icon=QStyle.StandardPixmap.SP_MediaPlay)
        bar.addWidget(self.run_button)
        self.cancel_button = push_button("Cancel", "cancelButton", "", lambda: self.cancel(),
                                         icon=QStyle.StandardPixmap.SP_MediaStop)
        self.cancel_button.setEnabled(False)
        bar.addWidget(self.cancel_button)
        return bar

    def _build_form(self) -> QWidget:
        scroll = QScrollArea()
        scroll.setObjectName("trainForm")
        scroll.setWidgetResizable(True)
        scroll.setFrameShape(QFrame.Shape.NoFrame)
        scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        scroll.setMinimumWidth(380)
        body = QWidget()
        column = QVBoxLayout(body)
        column.setContentsMargins(2, 0, 12, 8)
        # One form for every section, so the labels of all sections share one column.
        self.form = form = QFormLayout()
        form.setLabelAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignTop)
        form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)
        form.setRowWrapPolicy(QFormLayout.RowWrapPolicy.DontWrapRows)
        form.setHorizontalSpacing(10)
        form.setVerticalSpacing(6)
        column.addLayout(form)
        column.addStretch(1)
        self.editors: dict[str, FieldEditor] = {}
        section = None
        for spec in FIELDS:
            if spec.section != section:
                section = spec.section
                title = QLabel(section.upper())
                title.setProperty("role", "section")
                form.addRow(title)
            editor = FieldEditor(spec)
            editor.changed.connect(self._on_field_changed)
            self.editors[spec.name] = editor
            if spec.kind == "bool":
                form.addRow("", editor)
            else:
                label = QLabel(spec.label)
                label.setToolTip(spec.tip)
                label.setContentsMargins(0, 5, 0, 0)
                form.addRow(label, editor)
        scroll.setWidget(body)
        self.form_area = scroll
        return scroll

    def _initial_profile(self) -> str:
        names = [self.profile_combo.itemData(i) for i in range(self.profile_combo.count())]
        remembered = self.settings.value("train/profile") if self.settings is not None else None
        if remembered in names:
            return remembered
        project_own = [n for n, origin in list_profiles(self.root) if origin == "project"]
        if project_own:
            return project_own[0]
        return DEFAULT_PRESET if DEFAULT_PRESET in names else (names[0] if names else "")

    def _fill_profiles(self) -> None:
        current = self.profile_combo.currentData()
        self.profile_combo.blockSignals(True)
        self.profile_combo.clear()
        for name, origin in list_profiles(self.root):
            try:
                profile = load_profile(name, self.root)
                title = profile.title or name
                tip = f"{name} ({origin})" + (f"\n{profile.description}"
                                               if profile.description else "")
            except ProfileError as exc:
                title, tip = name, str(exc)
            self.profile_combo.addItem(title, name)
            self.profile_combo.setItemData(self.profile_combo.count() - 1, tip,
                                           Qt.ItemDataRole.ToolTipRole)
            self.profile_combo.setItemData(self.profile_combo.count() - 1, origin,
                                           Qt.ItemDataRole.UserRole + 1)
        if current is not None:
            index = self.profile_combo.findData(current)
            if index >= 0:
                self.profile_combo.setCurrentIndex(index)
        self.profile_combo.blockSignals(False)

    def load(self, name: str | None) -> None:
        """Show profile `name` (the project's own first, then the preset) in the form."""
        if not name:
            return
        try:
            profile = load_profile(name, self.root)
        except ProfileError as exc:
            self.summary_label.setText(f"<span style='color:{ERROR_COLOR}'>{html(str(exc))}"
                                       f"</span>")
            return
        index = self.profile_combo.findData(name)
        if index >= 0:
            self.profile_combo.setCurrentIndex(index)
            self.profile_origin = self.profile_combo.itemData(index, Qt.ItemDataRole.UserRole + 1)
        # Unsaved edits of the profile being left are kept for this session, not thrown away.
        if self._loaded_name and self._loaded_name != name and self.modified():
            self._drafts[self._loaded_name] = self.current_profile()
        shown = self._drafts.pop(name, None) or profile
        self.base, self._loaded_name = profile, name
        self._loading = True
        try:
            for spec in FIELDS:
                self.editors[spec.name].parse_error = None
                self.editors[spec.name].set_value(getattr(shown, spec.name))
            self._load_prompts(shown)
        finally:
            self._loading = False
        if self.settings is not None:
            self.settings.setValue("train/profile", name)
        self.replan()

    def current_profile(self) -> TrainingProfile:
        """The loaded profile with the form's values (an unreadable value keeps the old one)."""
        changes: dict[str, Any] = {}
        for name, editor in self.editors.items():
            try:
                changes[name] = editor.value()
                editor.parse_error = None
            except ValueError as exc:
                editor.parse_error = str(exc)
        changes["sample_prompts"] = self._prompts_setting()
        return self.base.replace(**changes)

    def steps_choice(self) -> str:
        return self.steps_combo.currentData() or "all"

    def set_steps(self, steps: str) -> None:
        index = self.steps_combo.findData(steps)
        if index >= 0:
            self.steps_combo.setCurrentIndex(index)
        self.replan()

    def modified(self) -> bool:
        return self.current_profile().to_toml_dict() != self.base.to_toml_dict()

    def save_profile(self, name: str | None = None) -> Path | None:
        """Save the form as the project's profile `name` (default: the profile's own name)."""
        profile = self.current_profile()
        if any(editor.parse_error for editor in self.editors.values()):
            self._notice("Fix the values marked in red before saving.", ERROR_COLOR)
            return None
        try:
            path = save_profile(self.root, profile, name or profile.name)
        except (ProfileError, OSError) as exc:
            self._notice(f"Could not save the profile: {exc}", ERROR_COLOR)
            return None
        self._fill_profiles()
        self.load(name or profile.name)
        shown = path.relative_to(self.root) if path.is_relative_to(self.root) else path
        self._notice(f"Saved {shown}", OK_COLOR)
        return path

    def _update_origin(self) -> None:
        where = ("project profile" if self.profile_origin == "project" else "preset")
        modified = self.modified()
        self.origin_label.setText(f"{where} · {self.base.trainer}"
                                  + (" · <b>modified</b>" if modified else ""))
        self.save_button.setEnabled(modified or self.profile_origin != "project")

    def _update_buttons(self) -> None:
        running = self.handle is not None
        parse_errors = any(e.parse_error for e in self.editors.values())
        ready = self.plan is not None and self.plan.ready and not parse_errors
        self.run_button.setEnabled(ready and not running)
        self.run_button.setToolTip("" if ready else "Fix the problems marked in red first")
        self.cancel_button.setEnabled(running and self.handle.status == "running")
        self.export_button.setEnabled(self.plan is not None and not parse_errors)
        self.profile_combo.setEnabled(not running)
        self.steps_combo.setEnabled(not running)
        # The settings shown are the ones running: they stay as they are until it ends.
        self.form_area.widget().setEnabled(not running)
        self.prompt_edit.setReadOnly(running)

    def _notice(self, text: str, color: str = MUTED_COLOR) -> None:
        self.summary_label.setText(f"<span style='color:{color}'>{html(text)}</span>")

    def export_script(self, path: Path | None = None) -> Path | None:
        """Write the commands as a bash script for another machine (missing files only warn)."""
        self._write_prompts()
        request = self.train_request(remote=True)
        profile = request.profile
        try:
            plan = request.validate()
        except (ValueError, OSError) as exc:
            self._notice(f"Cannot build the commands: {exc}", ERROR_COLOR)
            return None
        if errors(plan.problems):
            self._notice(f"The script was not written: {errors(plan.problems)[0].message}",
                         ERROR_COLOR)
            return None
        if path is None:
            chosen, _ = QFileDialog.getSaveFileName(
                self, "Export training script",
                str(self.root / "training" / f"{profile.name}.sh"), "Shell scripts (*.sh)")
            if not chosen:
                return None
            path = Path(chosen)
        try:
            plan.write_script(path)
        except OSError as exc:
            self._notice(f"Could not write {path}: {exc}", ERROR_COLOR)
            return None
        self._notice(f"Wrote {len(plan.steps)} step{'s' * (len(plan.steps) != 1)} to {path}",
                     OK_COLOR)
        return path

    def _open_run_folder(self) -> None:
        start = str(self.plan.output_dir) if self.plan is not None else str(self.root)
        folder = QFileDialog.getExistingDirectory(self, "Open a training run's output folder",
                                                  start)
        if folder:
            self.open_run_folder(Path(folder))

    def open_run_folder(self, folder: Path) -> None:
        """Show a finished run's samples in the gallery (kept until the next run starts)."""
        self._gallery_pinned = True
        self.gallery.open_folder(folder)
        self.tabs.setCurrentWidget(self.gallery)

    def shutdown(self) -> None:
        """Stop timers and decoding; a runner this panel made is cancelled and waited for."""
        for timer in (self._replan_timer, self._drain_timer, self._clock):
            timer.stop()
        self.gallery.shutdown()
        if (python_check := getattr(self, "_python_check", None)) is not None:
            python_check.shutdown()
        self.shutdown_runner()

