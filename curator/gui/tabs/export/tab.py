"""The Export tab: the dataset plan, counted as the trainer will count it, and the export run.

Everything here drives `curator.core.export`: the plan is a `DatasetPlan` edited cell by cell
through `curator.core.export.plan_edit` (so the tab accepts exactly what the CLI and the TOML
file accept, with the same messages); `count_export` recounts it off the GUI thread a moment
after the last edit; `export_dataset` runs as an 'export' job on the window's JobRunner, with
progress and cancel. The parts are widgets of their own: the section table (`sections`, a
view of `section_model`), the warnings (`warnings`, a view of `warning_model` through its
filter), the resolution helper (`helper`) and the run's result (`result`).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from PySide6.QtCore import QSettings, QSize, QUrl, Signal
from PySide6.QtGui import QDesktopServices, QGuiApplication
from PySide6.QtWidgets import (
    QFileDialog,
    QHBoxLayout,
    QLabel,
    QSizePolicy,
    QTabWidget,
    QWidget,
)

from curator.core.export import (
    DEFAULT_PRESET,
    DatasetPlan,
    ExportReport,
    PlanError,
    export_dataset,
    load_preset,
)
from curator.core.export.live_count import CountResult, ExportRequest, count_export
from curator.core.export.plan_edit import edit_section
from curator.core.project import Project
from curator.gui.latest import LatestRun, single_shot
from curator.gui.tabs.export.helper import ResolutionHelper
from curator.gui.tabs.export.plans import PlanEditing
from curator.gui.tabs.export.result import ResultBox
from curator.gui.tabs.export.sections import SectionTable
from curator.gui.tabs.export.warnings import WarningsView
from curator.gui.theme import (
    ERROR_COLOR,
    EXPORT_STYLE,
    MUTED_COLOR,
    OK_COLOR,
    WARNING_COLOR,
)
from curator.gui.widgets.job_bar import (
    JobTab,
    muted,
    set_bar_state,
    show_banner,
    show_notice,
    stat_card,
)
from curator.gui.widgets.layout import (
    caption_row,
    flush_column,
    line_edit,
    text_view,
    tool_button,
)
from curator.gui.widgets.picker import TRAINER_LABELS
from curator.gui.workers import JobHandle, JobRunner

#: Counts are recomputed this long after the last edit.
RECOUNT_MS = 350


class ExportPanel(PlanEditing, JobTab):
    """Plan, live count, warnings, resolution helper and the export run."""

    clip_activated = Signal(int)  # a warning naming this clip was double-clicked
    counted = Signal(object)  # ExportReport: the counts now shown
    plan_saved = Signal(object)  # Path of the project's plan file
    export_started = Signal(object)  # JobHandle
    export_finished = Signal(str)  # done | failed | cancelled

    def __init__(self, project: Project, catalog: Any = None,
                 job_runner: JobRunner | None = None, settings: QSettings | None = None,
                 parent: QWidget | None = None) -> None:
        super().__init__("exportPanel", EXPORT_STYLE, project=project, catalog=catalog,
                         job_runner=job_runner, settings=settings, parent=parent)
        self.workers: int | None = None  # parallel transcodes for an export (None: all cores)

        self.plan: DatasetPlan = load_preset(DEFAULT_PRESET)
        self.plan_key = f"preset:{DEFAULT_PRESET}"
        self.modified = False
        self._drafts: dict[str, DatasetPlan] = {}
        self.report: ExportReport | None = None  # the counts shown
        self.result: CountResult | None = None
        self.last_export: ExportReport | None = None
        self._counts = LatestRun("export-count", self)
        self._counts.finished.connect(self._on_counted)
        self._closing = False
        self._tags: list[str] = []
        self._sources: list[str] = []

        self._recount_timer = single_shot(RECOUNT_MS, self.recount, self)

        self._build()
        self.runner.job_updated.connect(self._on_job_updated)
        self._fill_plan_choices()
        self._load_initial_plan()
        self.out_edit.setText(self._default_out_dir())
        if self.settings is not None:
            self.root_edit.setText(str(self.settings.value("export/root", "") or ""))
        self._update_buttons()
        self.schedule_recount()

    # --- building ----------------------------------------------------------------------------

    def _build(self) -> None:
        outer = self.scrolled_page("exportPageBody", QSize(960, 480))
        outer.addLayout(self._build_plan_bar())
        outer.addLayout(self._build_output_bar())
        self.result_box = ResultBox()
        box = self.result_box
        self.progress_bar, self.banner, self.train_hint = box.progress_bar, box.banner, box.train_hint
        self.config_edit, self.result_row = box.config_edit, box.result_row
        self.copy_button, self.open_button = box.copy_button, box.open_button
        self.copy_button.clicked.connect(self.copy_config_path)
        self.open_button.clicked.connect(self.open_export_folder)
        outer.addWidget(self.result_box)
        self.notice = QLabel()
        self.notice.setObjectName("exportNotice")
        self.notice.setWordWrap(True)
        self.notice.hide()
        outer.addWidget(self.notice)
        outer.addWidget(self._build_sections())
        outer.addWidget(self._build_tabs(), 1)

    def _build_output_bar(self) -> QHBoxLayout:
        bar = caption_row("Output folder")
        self.out_edit = line_edit("outDir", "the dataset folder")
        self.out_edit.textEdited.connect(lambda _t: self.schedule_recount())
        bar.addWidget(self.out_edit, 3)
        bar.addWidget(tool_button("…", "", "Choose the dataset folder",
                                  lambda: self._browse_out_dir()))
        bar.addSpacing(8)
        bar.addWidget(QLabel("Path on the training machine"))
        self.root_edit = line_edit("rootDir", "same as the output folder",
                                   "Where the output folder will be on the machine that trains; "
                                   "paths in the TOML start with it")
        self.root_edit.textEdited.connect(self._on_root_edited)
        bar.addWidget(self.root_edit, 2)
        return bar

    def _build_sections(self) -> QWidget:
        page = QWidget()
        layout = flush_column(page, 6)
        head = QHBoxLayout()
        title = QLabel("SECTIONS")
        title.setProperty("role", "section")
        head.addWidget(title)
        self.description_label = QLabel()
        self.description_label.setObjectName("planDescription")
        self.description_label.setSizePolicy(QSizePolicy.Policy.Ignored,
                                             QSizePolicy.Policy.Preferred)
        head.addWidget(self.description_label, 1)
        self.add_video_button = tool_button("+ Videos", "addVideos", "Add a video section",
                                            lambda: self.add_section("videos"))
        self.add_image_button = tool_button("+ Images", "addImages", "Add an image section",
                                            lambda: self.add_section("images"))
        self.up_button = tool_button("↑", "", "Move the section up (the TOML lists them in this "
                                     "order)", lambda: self.move_section(-1))
        self.down_button = tool_button("↓", "", "Move the section down",
                                       lambda: self.move_section(1))
        self.remove_button = tool_button("Remove", "removeSection", "",
                                         lambda: self.remove_section())
        for button in (self.add_video_button, self.add_image_button, self.up_button,
                       self.down_button, self.remove_button):
            head.addWidget(button)
        layout.addLayout(head)
        self.table = SectionTable(self.selection_choices)
        self.table.sections.edited.connect(self._on_cell_edited)
        self.table.sections.refused.connect(lambda why: self._notice(why, ERROR_COLOR))
        self.table.selectionModel().selectionChanged.connect(
            lambda _new, _old: self._on_selection_changed())
        layout.addWidget(self.table)
        layout.addLayout(self._build_cards())
        state_row = QHBoxLayout()
        self.count_state = QLabel()
        self.count_state.setObjectName("countState")
        self.count_state.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
        state_row.addWidget(self.count_state, 1)
        self.recount_button = tool_button(
            "Recount", "recountButton", "Count again from the catalog (decisions and captions "
            "changed elsewhere are counted when this tab is shown)", lambda: self.recount())
        state_row.addWidget(self.recount_button)
        layout.addLayout(state_row)
        return page

    def _build_cards(self) -> QHBoxLayout:
        cards = QHBoxLayout()
        cards.setSpacing(8)
        self.stat_labels: dict[str, QLabel] = {}
        self.stat_captions: dict[str, QLabel] = {}
        for key, caption in (("items", "Items per epoch"), ("batches", "Batches per epoch"),
                             ("steps", "Steps per epoch"), ("total_steps", "Steps in total"),
                             ("media", "Clips · images")):
            card, title_label, value = stat_card(key, caption)
            cards.addWidget(card, 1)
            self.stat_labels[key] = value
            self.stat_captions[key] = title_label
        return cards

    def _build_tabs(self) -> QWidget:
        self.tabs = QTabWidget()
        self.tabs.setObjectName("exportTabs")
        self.tabs.setDocumentMode(True)
        self.warnings = WarningsView()
        self.warnings.clip_activated.connect(self.clip_activated)
        self.warning_list, self.warning_filter = self.warnings.list, self.warnings.filter
        self.tabs.addTab(self.warnings, "Warnings")
        self.helper = ResolutionHelper()
        self.helper_table, self.helper_now = self.helper.table, self.helper.now
        self.budget_spin, self.aspect_combo = self.helper.budget_spin, self.helper.aspect_combo
        self.use_size_button = self.helper.use_size_button
        self.aspect_combo.currentTextChanged.connect(lambda _t: self.update_helper())
        self.budget_spin.valueChanged.connect(lambda _v: self.update_helper())
        self.use_size_button.clicked.connect(lambda: self.use_helper_size())
        self.helper_table.itemSelectionChanged.connect(self._update_buttons)
        self.helper_table.itemDoubleClicked.connect(lambda _i: self.use_helper_size())
        self.tabs.addTab(self.helper, "Resolution helper")
        self.tabs.addTab(self._build_config_tab(), "Dataset TOML")
        return self.tabs

    def _build_config_tab(self) -> QWidget:
        page = QWidget()
        layout = flush_column(page, None, top=6)
        self.config_label = muted(QLabel())
        self.config_label.setObjectName("configLabel")
        layout.addWidget(self.config_label)
        self.config_view = text_view("configView", "The dataset TOML appears here once counted.")
        layout.addWidget(self.config_view, 1)
        return page

    # --- the section table -------------------------------------------------------------------

    def _fill_table(self, select: int = 0) -> None:
        self.table.show_plan(self.plan, select, self.report)

    def _on_cell_edited(self, plan: DatasetPlan, row: int) -> None:
        # A refused edit never comes here: the model says why and keeps showing the plan.
        self._notice("")
        if plan != self.plan:
            self._change_plan(plan, select=row)

    def _on_selection_changed(self) -> None:
        self._update_buttons()
        self.update_helper()

    # --- counting ----------------------------------------------------------------------------

    def _default_out_dir(self) -> str:
        try:
            saved = self.catalog.settings().export_root
        except Exception:  # noqa: BLE001 - an unreadable catalog only loses the default
            saved = ""
        return saved or str(self.root / "export")

    def out_dir(self) -> Path | None:
        text = self.out_edit.text().strip()
        return Path(text).expanduser() if text else None

    def training_root(self) -> str | None:
        return self.root_edit.text().strip() or None

    def _on_root_edited(self, text: str) -> None:
        if self.settings is not None:
            self.settings.setValue("export/root", text.strip())
        self.schedule_recount()

    def _browse_out_dir(self) -> None:
        start = self.out_edit.text().strip() or str(self.root)
        folder = QFileDialog.getExistingDirectory(self, "Dataset folder", start)
        if folder:
            self.out_edit.setText(folder)
            self.schedule_recount()

    def request(self) -> ExportRequest:
        return ExportRequest(self.plan, self.trainer, self.out_dir(), self.training_root())

    def schedule_recount(self) -> None:
        """Count again a moment after the last change (edits come in bursts)."""
        if self._closing:
            return
        self._recount_timer.start()
        self._show_count_state()

    @property
    def counting(self) -> bool:
        return self._counts.busy or self._recount_timer.isActive()

    def recount(self) -> None:
        """Count now, on a worker thread; a count already running is followed by another."""
        self._recount_timer.stop()
        if self._closing:
            return
        catalog, request = self.catalog, self.request()
        self._counts.submit(lambda: count_export(catalog, request))
        self._show_count_state()

    def _on_counted(self, result: CountResult) -> None:
        if self._closing:
            return
        self._tags, self._sources = result.tags, result.sources
        self.helper.sizes = result.sizes
        if result.request == self.request():
            self._apply_count(result)
        stale = result.request != self.request()
        if stale and not self._recount_timer.isActive() and not self._counts.busy:
            self.recount()
        self._show_count_state()

    def _apply_count(self, result: CountResult) -> None:
        self.result = result
        if result.report is None:
            self.report = None
            self._notice(f"Could not count the plan: {result.error}", ERROR_COLOR)
        else:
            self._show_report(result.report)
        self.helper.set_sizes(result.sizes)
        self.update_helper()
        if result.report is not None:
            self.counted.emit(result.report)

    def _show_report(self, report: ExportReport) -> None:
        self.report = report
        self.table.sections.set_report(report)
        counts = report.counts
        if counts is not None:
            self.stat_labels["items"].setText(f"{counts.total_items:,}")
            self.stat_labels["batches"].setText(f"{counts.total_batches:,}")
            self.stat_labels["steps"].setText(f"{counts.steps_per_epoch:,}")
            self.stat_labels["total_steps"].setText(f"{counts.total_steps:,}")
            self.stat_captions["total_steps"].setText(
                f"Steps for {counts.epochs} epoch{'s' if counts.epochs != 1 else ''}")
        layout = report.layout
        clips = len(layout.clips) if layout else 0
        images = len(layout.images) if layout else 0
        self.stat_labels["media"].setText(f"{clips:,} · {images:,}")
        title, icon = self.warnings.show_report(report)
        self.tabs.setTabText(0, title)
        self.tabs.setTabIcon(0, icon)
        self.config_view.setPlainText(report.config_text)
        if report.config_path is not None:
            verb = "Would write" if report.dry_run else "Wrote"
            self.config_label.setText(f"{verb} {report.config_path}")
        else:
            self.config_label.setText("Name an output folder to see the TOML's paths.")

    def warning_texts(self, shown_only: bool = False) -> list[str]:
        """The warnings listed (only those the filter shows, when asked)."""
        return self.warnings.texts(shown_only)

    def _show_count_state(self) -> None:
        if self.counting:
            self.count_state.setText("Counting…")
            return
        result = self.result
        if result is None or result.report is None:
            self.count_state.setText("")
            return
        trainer = TRAINER_LABELS.get(result.request.trainer, result.request.trainer)
        self.count_state.setText(
            f"Counted as {trainer} counts them, from {result.clips:,} accepted clip"
            f"{'s' if result.clips != 1 else ''} and {result.images:,} image"
            f"{'s' if result.images != 1 else ''} ({result.seconds:.1f} s). Items per epoch are "
            f"files × repeats; steps = batches × epochs.")

    def showEvent(self, event: Any) -> None:
        # Decisions and captions change in the other tabs; count again when shown.
        super().showEvent(event)
        if self.result is not None:
            self.schedule_recount()

    # --- resolution helper -------------------------------------------------------------------

    def aspect(self) -> float | tuple[int, int] | None:
        """The aspect ratio the helper keeps: a chosen source size, or a typed ratio."""
        return self.helper.aspect()

    def update_helper(self) -> None:
        index = self.current_section_index()
        self.helper.update_for(self.plan.sections[index] if index is not None else None)
        self._update_buttons()

    def helper_options(self) -> list[tuple[int, int]]:
        return self.helper.options()

    def use_helper_size(self, size: tuple[int, int] | None = None) -> None:
        """Set the selected section's resolution to the chosen helper size."""
        index = self.current_section_index()
        size = size if size is not None else self.helper.selected_size()
        if index is None or size is None:
            return
        try:
            plan = edit_section(self.plan, index, resolution=list(size))
        except PlanError as exc:
            self._notice(str(exc), ERROR_COLOR)
            return
        if plan != self.plan:
            self._change_plan(plan, select=index)

    # --- export ------------------------------------------------------------------------------

    def export(self) -> JobHandle | None:
        """Run `export_dataset` as an 'export' job; None when there is nothing to run."""
        if self.handle is not None:
            return None
        out_dir = self.out_dir()
        if out_dir is None:
            self._notice("Name an output folder first.", ERROR_COLOR)
            self.out_edit.setFocus()
            return None
        plan, trainer, root = self.plan, self.trainer, self.training_root()
        self._notice("")
        self.result_box.start()
        set_bar_state(self.progress_bar, "")
        self.handle = self.runner.start(
            "export", f"Export {plan.name} → {out_dir.name or out_dir}", export_dataset,
            on_finished=self._on_export_finished, catalog=self.catalog, plan=plan,
            out_dir=out_dir, trainer=trainer, root=root, workers=self.workers,
            allow_missing_trigger=True)  # listed as warnings above, with "Add the trigger"
        self._update_buttons()
        self.export_started.emit(self.handle)
        return self.handle

    def cancel_export(self) -> None:
        """Stop the export; what was already transcoded is kept for the next run."""
        self.cancel_run(lambda: self.progress_bar.setFormat("Cancelling…"))

    def _on_job_updated(self, handle: JobHandle) -> None:
        if handle is not self.handle or handle.progress is None:
            return
        progress = handle.progress
        if progress.total:
            self.progress_bar.setRange(0, progress.total)
            self.progress_bar.setValue(min(progress.done, progress.total))
            item = Path(progress.item).name if progress.item else ""
            self.progress_bar.setFormat(f"{progress.done} / {progress.total} files"
                                        + (f" — {item}" if item else ""))

    def _on_export_finished(self, handle: JobHandle) -> None:
        if handle is not self.handle:
            return
        self.handle = None
        report = handle.report if isinstance(handle.report, ExportReport) else None
        status = handle.status
        self.progress_bar.setRange(0, 1)
        self.progress_bar.setValue(1 if status == "done" else 0)
        set_bar_state(self.progress_bar, status)
        if status == "done" and report is not None:
            self._show_exported(report)
        elif status == "cancelled":
            self.progress_bar.setFormat("Cancelled")
            show_banner(self.banner, "Cancelled: the previous export in this folder is "
                        "unchanged; clips finished so far are kept for the next run.",
                        WARNING_COLOR)
        else:
            self.progress_bar.setFormat("Failed")
            show_banner(self.banner, f"The export failed: {handle.error or 'see the Jobs tab'}",
                        ERROR_COLOR)
        self._update_buttons()
        self.export_finished.emit(status)

    def _show_exported(self, report: ExportReport) -> None:
        self.last_export = report
        self._show_report(report)
        self.progress_bar.setFormat("Done")
        failed = len(report.failed)
        text = (f"Exported '{report.plan.name if report.plan else ''}' for "
                f"{TRAINER_LABELS.get(report.trainer, report.trainer)}: "
                f"{report.encoded} file{'s' if report.encoded != 1 else ''} written, "
                f"{report.reused} kept, {report.removed} removed; "
                f"{report.total_items:,} items and {report.total_batches:,} batches per epoch.")
        if failed:
            text += f" {failed} item{'s' if failed != 1 else ''} failed: see Warnings."
        show_banner(self.banner, text, WARNING_COLOR if failed else OK_COLOR)
        self.config_edit.setText(str(report.config_path or ""))
        self.result_row.show()
        self.train_hint.show()
        self.out_edit.setText(str(report.out_dir or self.out_edit.text()))

    def config_path(self) -> Path | None:
        """The dataset TOML of the last export from this tab."""
        return self.last_export.config_path if self.last_export is not None else None

    def copy_config_path(self) -> None:
        path = self.config_path()
        if path is not None:
            QGuiApplication.clipboard().setText(str(path))
            self._notice(f"Copied {path}", OK_COLOR)

    def open_export_folder(self) -> bool:
        if self.last_export is None or self.last_export.out_dir is None:
            return False
        return QDesktopServices.openUrl(QUrl.fromLocalFile(str(self.last_export.out_dir)))

    # --- state -------------------------------------------------------------------------------

    def _update_buttons(self) -> None:
        running = self.handle is not None
        cancelling = running and self.handle.status == "cancelling"
        self.export_button.setEnabled(not running)
        self.cancel_button.setEnabled(running and not cancelling)
        index = self.current_section_index()
        count = len(self.plan.sections)
        self.remove_button.setEnabled(index is not None and count > 1)
        self.up_button.setEnabled(index is not None and index > 0)
        self.down_button.setEnabled(index is not None and index < count - 1)
        self.use_size_button.setEnabled(index is not None and self.helper.has_selection())

    def _notice(self, text: str, color: str = MUTED_COLOR) -> None:
        show_notice(self.notice, text, color)

    def shutdown(self) -> None:
        """Stop counting; a runner this panel made is cancelled and waited for."""
        self._closing = True
        self._recount_timer.stop()
        self._counts.shutdown()
        self.shutdown_runner()
