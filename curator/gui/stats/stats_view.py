"""The Stats view: the dataset's distributions with the rules' thresholds on them, and the
captions' vocabulary.

Everything shown is a core `DatasetStats`, computed on a worker thread when the view is shown.
Dragging a rule's red line asks the core (again off the GUI thread) how many pending clips that
threshold would reject and lists them; a double click opens one. Clicking a phrase of the
vocabulary asks the window to filter the browser to the captions holding it.
"""

from __future__ import annotations

from functools import partial
from pathlib import Path

from PySide6.QtCore import QModelIndex, QSortFilterProxyModel, Qt, Signal
from PySide6.QtGui import QResizeEvent, QShowEvent
from PySide6.QtWidgets import (
    QAbstractItemView,
    QGridLayout,
    QGroupBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QListView,
    QPushButton,
    QScrollArea,
    QSplitter,
    QStackedWidget,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from curator.core.catalog import Catalog
from curator.core.stats import DatasetStats, dataset_stats, pending_clips, plan_targets
from curator.gui.latest import LatestCall
from curator.gui.stats.histogram_plot import TEXT_COLOR, HistogramPlot
from curator.gui.stats.models import SORT_ROLE, ClipIdListModel, PhraseTableModel

#: The histograms, in reading order (two columns).
PLOTS = ("frames", "duration", "motion", "motion_p95", "text_share", "aspect", "caption_words")
#: Which side of each rule's line is rejected, and the measure the core counts it on.
RULE_SIDES = {"frames": "below", "motion": "below", "motion_p95": "above",
              "text_share": "above"}
#: Most clip ids listed for a threshold (the count is exact however many there are).
LIST_LIMIT = 500
#: Narrowest a histogram is drawn two abreast; below twice this they stack in one column.
PLOT_MIN_WIDTH = 330


def load_stats(catalog: Catalog, project_root: Path | None) -> DatasetStats:
    """The figures, with the export plan's frame targets (the worker's call)."""
    from curator.core.export.plan import PlanError, load_project_plan

    targets: tuple[int, ...] = ()
    if project_root is not None:
        try:
            targets = plan_targets(load_project_plan(project_root))
        except PlanError:
            targets = ()  # a broken plan is the Export tab's to report; the stats still show
    return dataset_stats(catalog, targets=targets)


def decision_summary(stats: DatasetStats) -> str:
    """'17,855 pending · 7,557 accepted · 4,588 rejected (too static 911, …)'."""
    totals: dict[str, int] = {}
    reasons: list[str] = []
    for d in stats.decisions:
        totals[d.decision] = totals.get(d.decision, 0) + d.count
        if d.decision == "rejected" and d.reason:
            reasons.append(f"{d.reason} {d.count:,}")
    parts = [f"{totals.get(k, 0):,} {k}" for k in ("pending", "accepted", "rejected")]
    text = " · ".join(parts)
    return text + (f"  ({', '.join(reasons[:6])})" if reasons else "")


def sizes_table(stats: DatasetStats, rows: int = 8) -> str:
    """The most common picture sizes as a small HTML table (clips have their source's size)."""
    cells = "".join(
        f"<tr><td>{s.width}×{s.height}</td><td align='right'>&nbsp;{s.count:,}</td>"
        f"<td align='right'>&nbsp;&nbsp;{s.width / s.height:.2f}</td></tr>"
        for s in stats.sizes[:rows] if s.height)
    more = len(stats.sizes) - rows
    tail = f"<p>… and {more:,} more sizes</p>" if more > 0 else ""
    return (f"<b>Picture sizes</b><table><tr><th align='left'>size</th><th>&nbsp;clips</th>"
            f"<th>&nbsp;&nbsp;aspect</th></tr>{cells}</table>{tail}")


class PlotGrid(QWidget):
    """The histograms two abreast, or one under another when the view is narrow.

    At 1600 px the Stats tab shares the window with the preview: two columns of 300 px left
    the plots unreadable behind a horizontal scroll bar. The grid asks for no width of its
    own, so the scroll area gives it the width there is and it picks its columns from that.
    """

    def __init__(self, cells: list[QWidget], parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.cells = cells
        self.columns = 0
        self.setMinimumWidth(1)  # an explicit minimum: the scroll area then never scrolls sideways
        self._grid = QGridLayout(self)
        self._grid.setContentsMargins(0, 0, 0, 0)
        self._grid.setSpacing(6)
        self._place(2)

    def resizeEvent(self, event: QResizeEvent) -> None:
        super().resizeEvent(event)
        columns = 2 if event.size().width() >= 2 * PLOT_MIN_WIDTH else 1
        if columns != self.columns:
            self._place(columns)

    def _place(self, columns: int) -> None:
        for cell in self.cells:
            self._grid.removeWidget(cell)
        for i, cell in enumerate(self.cells):
            self._grid.addWidget(cell, i // columns, i % columns)
        for column in range(2):  # a column left empty takes no room
            self._grid.setColumnStretch(column, 1 if column < columns else 0)
        self.columns = columns


class StatsView(QWidget):
    """Histograms, threshold what-ifs and the caption vocabulary of one project."""

    phrase_chosen = Signal(str)  # a phrase to find in the browser's caption search
    clip_activated = Signal(int)  # a clip to open
    stats_shown = Signal(object)  # DatasetStats, once drawn

    def __init__(self, catalog: Catalog, project_root: Path | None = None,
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("statsView")
        self.catalog = catalog
        self.project_root = project_root
        self.stats: DatasetStats | None = None
        self._loader = LatestCall(self)
        self._loader.finished.connect(self._on_stats)
        self._loader.failed.connect(self._on_failed)
        self._counter = LatestCall(self)
        self._counter.finished.connect(self._on_pending)
        self._counter.failed.connect(self._on_failed)
        self.plots: dict[str, HistogramPlot] = {}

        self.summary = QLabel("Counting…")
        self.summary.setObjectName("statsSummary")
        self.summary.setStyleSheet("font-size: 15px; font-weight: 600;")
        self.decisions = QLabel()
        self.decisions.setObjectName("statsDecisions")
        self.decisions.setStyleSheet(f"color: {TEXT_COLOR};")
        self.decisions.setWordWrap(True)
        self.refresh_button = QPushButton("Refresh")
        self.refresh_button.setToolTip("Count again (decisions and captions change as you work)")
        self.refresh_button.clicked.connect(self.refresh)
        header = QHBoxLayout()
        header.addWidget(self.summary)
        header.addWidget(self.decisions, 1)
        header.addWidget(self.refresh_button)

        splitter = QSplitter(Qt.Orientation.Horizontal)
        # The plots are painted once, with their figures: "Counting…" stands in until then.
        self.plot_stack = QStackedWidget()
        waiting = QLabel("Counting…")
        waiting.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.plot_stack.addWidget(waiting)
        # Scrolled: the histograms' own minimum heights held the window ~1020 px tall.
        plots = QScrollArea()
        plots.setWidgetResizable(True)
        plots.setFrameShape(QScrollArea.Shape.NoFrame)
        plots.setWidget(self._build_plots())
        self.plot_stack.addWidget(plots)
        splitter.addWidget(self.plot_stack)
        splitter.addWidget(self._build_side())
        splitter.setStretchFactor(0, 3)
        splitter.setStretchFactor(1, 2)
        splitter.setSizes([1100, 700])
        box = QVBoxLayout(self)
        box.setContentsMargins(8, 6, 8, 6)
        box.addLayout(header)
        box.addWidget(splitter, 1)

    # --- building ------------------------------------------------------------------------

    def _build_plots(self) -> QWidget:
        for key in PLOTS:
            plot = HistogramPlot()
            plot.setObjectName(f"histogram_{key}")
            plot.threshold_moved.connect(self.count_pending)
            plot.threshold_released.connect(partial(self.count_pending, listing=True))
            self.plots[key] = plot
        self.sizes = QLabel()
        self.sizes.setObjectName("pictureSizes")
        self.sizes.setAlignment(Qt.AlignmentFlag.AlignTop | Qt.AlignmentFlag.AlignLeft)
        self.sizes.setTextFormat(Qt.TextFormat.RichText)
        self.plot_grid = PlotGrid([*self.plots.values(), self.sizes])
        return self.plot_grid

    def _build_side(self) -> QWidget:
        side = QWidget()
        box = QVBoxLayout(side)
        box.setContentsMargins(0, 0, 0, 0)

        what_if = QGroupBox("Thresholds: drag a red line")
        inner = QVBoxLayout(what_if)
        self.what_if = QLabel("The red lines are the auto-decide rules; the dashed ones the "
                              "export plan's frame targets. Drag a red line to see which "
                              "pending clips it would reject.")
        self.what_if.setObjectName("whatIf")
        self.what_if.setWordWrap(True)
        self.clip_model = ClipIdListModel(self)
        self.clip_list = QListView()
        self.clip_list.setObjectName("statsClipList")
        self.clip_list.setModel(self.clip_model)
        self.clip_list.setFlow(QListView.Flow.LeftToRight)
        self.clip_list.setWrapping(True)
        self.clip_list.setUniformItemSizes(True)
        self.clip_list.setMaximumHeight(130)
        self.clip_list.setToolTip("Double-click a clip to open it")
        self.clip_list.activated.connect(self._on_clip_activated)
        self.clip_list.doubleClicked.connect(self._on_clip_activated)
        inner.addWidget(self.what_if)
        inner.addWidget(self.clip_list)
        box.addWidget(what_if)

        vocab = QGroupBox("Caption vocabulary: click a phrase to find its captions")
        inner = QVBoxLayout(vocab)
        self.caption_summary = QLabel()
        self.caption_summary.setObjectName("captionSummary")
        self.caption_summary.setWordWrap(True)
        buttons = QHBoxLayout()
        # Short labels: the side panel's narrowest width is this row's (it shares 1600 px).
        self.missing_button = QPushButton("Without the trigger")
        self.missing_button.setToolTip("List the captions that do not start with the trigger "
                                       "phrase")
        self.missing_button.clicked.connect(self.list_missing_trigger)
        self.duplicates_button = QPushButton("Near-duplicates")
        self.duplicates_button.setToolTip("List the captions that share most of their text")
        self.duplicates_button.clicked.connect(self.list_near_duplicates)
        buttons.addWidget(self.missing_button)
        buttons.addWidget(self.duplicates_button)
        buttons.addStretch(1)
        self.phrase_model = PhraseTableModel(self)
        self.phrase_sorter = QSortFilterProxyModel(self)
        self.phrase_sorter.setSourceModel(self.phrase_model)
        self.phrase_sorter.setSortRole(SORT_ROLE)
        self.phrase_table = QTableView()
        self.phrase_table.setObjectName("phraseTable")
        self.phrase_table.setModel(self.phrase_sorter)
        self.phrase_table.setSortingEnabled(True)
        self.phrase_table.sortByColumn(2, Qt.SortOrder.DescendingOrder)  # most captions first
        self.phrase_table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.phrase_table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.phrase_table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.phrase_table.verticalHeader().setVisible(False)
        self.phrase_table.verticalHeader().setDefaultSectionSize(22)
        header = self.phrase_table.horizontalHeader()
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(1, QHeaderView.ResizeMode.Stretch)
        for column in (2, 3):
            header.setSectionResizeMode(column, QHeaderView.ResizeMode.ResizeToContents)
        self.phrase_table.clicked.connect(self._on_phrase_clicked)
        self.phrase_table.activated.connect(self._on_phrase_clicked)
        inner.addWidget(self.caption_summary)
        inner.addLayout(buttons)
        inner.addWidget(self.phrase_table, 1)
        box.addWidget(vocab, 1)
        return side

    # --- loading -------------------------------------------------------------------------

    def showEvent(self, event: QShowEvent) -> None:
        super().showEvent(event)
        # Decisions and captions change while the person works elsewhere: count again each
        # time the view comes back (the figures shown stay until the new ones arrive).
        if not self._loader.busy:
            self.refresh()

    def refresh(self) -> None:
        """Count everything again on the worker thread."""
        self.summary.setText("Counting…" if self.stats is None else self.summary.text())
        self.refresh_button.setEnabled(False)
        self._loader.start(partial(load_stats, self.catalog, self.project_root))

    def shutdown(self, msecs: int = 30_000) -> None:
        """Wait for the worker threads (the window is closing)."""
        self._loader.wait(msecs)
        self._counter.wait(msecs)

    def _on_stats(self, stats: DatasetStats) -> None:
        self.stats = stats
        self.refresh_button.setEnabled(True)
        for key, plot in self.plots.items():
            hist = stats.captions.words if key == "caption_words" else stats.histograms.get(key)
            if hist is not None:
                plot.set_histogram(hist)
        self.sizes.setText(sizes_table(stats))
        self.plot_stack.setCurrentIndex(1)
        self.summary.setText(f"{stats.clips:,} clips")
        self.decisions.setText(decision_summary(stats))
        self._show_captions(stats)
        self.stats_shown.emit(stats)

    def _show_captions(self, stats: DatasetStats) -> None:
        c = stats.captions
        read = "" if c.read == c.captioned else f" (vocabulary from {c.read:,} of them)"
        if c.missing_trigger is None:
            trigger = "no trigger phrase set"
        else:
            trigger = f"{c.missing_trigger:,} without the trigger “{stats.trigger}”"
        dup = sum(len(g.clip_ids) for g in c.near_duplicates)
        self.caption_summary.setText(
            f"{c.captioned:,} captioned{read} · {trigger} · {dup:,} near-duplicates in "
            f"{len(c.near_duplicates):,} groups")
        self.missing_button.setEnabled(bool(c.missing_trigger))
        self.duplicates_button.setEnabled(bool(c.near_duplicates))
        self.phrase_model.set_rows(c.phrases())

    def _on_failed(self, error: str) -> None:
        self.refresh_button.setEnabled(True)
        self.summary.setText("Counting failed")
        self.what_if.setText(error.splitlines()[0] if error else "failed")

    # --- thresholds ----------------------------------------------------------------------

    def count_pending(self, key: str, value: float, *, listing: bool = False) -> None:
        """Ask the core how many pending clips a rule at `value` on `key` would reject."""
        side = RULE_SIDES.get(key)
        if side is None or self.stats is None:
            return
        fps = self.stats.target_fps
        limit = LIST_LIMIT if listing else 0
        self._counter.start(lambda: (key, value, side, *pending_clips(
            self.catalog, key, value, side, fps, limit=limit), listing))

    def _on_pending(self, result: tuple) -> None:
        key, value, side, count, ids, listing = result
        plot = self.plots[key]
        label = plot.histogram.label if plot.histogram else key
        unit = plot.histogram.unit if plot.histogram else ""
        self.what_if.setText(f"{label} {side} {value:g} {unit}: {count:,} pending clips "
                             f"would be rejected" + (f" (first {len(ids):,} listed)"
                                                     if listing and count > len(ids) else ""))
        if listing:
            self.clip_model.set_rows(ids)

    def list_missing_trigger(self) -> None:
        if self.stats is not None:
            c = self.stats.captions
            self.what_if.setText(f"{c.missing_trigger or 0:,} captions without the trigger "
                                 f"phrase (first {len(c.missing_trigger_ids):,} listed)")
            self.clip_model.set_rows(c.missing_trigger_ids)

    def list_near_duplicates(self) -> None:
        if self.stats is not None:
            groups = self.stats.captions.near_duplicates
            ids = [i for g in groups for i in g.clip_ids][:LIST_LIMIT]
            example = f": “{groups[0].example[:80]}”" if groups else ""
            self.what_if.setText(f"{len(groups):,} groups of captions sharing most of their "
                                 f"text; the largest{example}")
            self.clip_model.set_rows(ids)

    # --- clicks --------------------------------------------------------------------------

    def _on_clip_activated(self, index: QModelIndex) -> None:
        clip_id = index.data(Qt.ItemDataRole.UserRole)
        if clip_id is not None:
            self.clip_activated.emit(int(clip_id))

    def _on_phrase_clicked(self, index: QModelIndex) -> None:
        phrase = self.phrase_model.row_at(self.phrase_sorter.mapToSource(index).row())
        if phrase is not None:
            self.phrase_chosen.emit(phrase.phrase)
