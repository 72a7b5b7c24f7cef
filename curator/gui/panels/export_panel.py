"""The Export tab: the dataset plan, counted as the trainer will count it, and the export run.

Everything here drives `curator.core.export`: the plan is a `DatasetPlan` edited cell by cell
(each edit goes back through the core's `plan_from_dict`, so the tab accepts exactly what the
CLI and the TOML file accept, with the same messages); `plan_report` recounts it off the GUI
thread a moment after the last edit (it reads every accepted clip, which takes a while at
30,000 clips); `export_dataset` runs as an 'export' job on the window's JobRunner, with progress
and cancel. The resolution helper lists sizes that keep the clips' aspect ratio
(`resolution_options`) and the bucket musubi-tuner caches each source size at.
"""

from __future__ import annotations

import re
import time
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from PySide6.QtCore import QModelIndex, QObject, QSettings, Qt, QThread, QTimer, QUrl, Signal, Slot
from PySide6.QtGui import (
    QBrush,
    QColor,
    QDesktopServices,
    QFont,
    QFontDatabase,
    QGuiApplication,
    QIcon,
    QPainter,
    QPixmap,
)
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QFileDialog,
    QFrame,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QPlainTextEdit,
    QProgressBar,
    QPushButton,
    QScrollArea,
    QSizePolicy,
    QSpinBox,
    QStyle,
    QStyledItemDelegate,
    QStyleOptionViewItem,
    QTableWidget,
    QTableWidgetItem,
    QTabWidget,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from curator.core.export import (
    DEFAULT_PRESET,
    CountWarning,
    DatasetPlan,
    ExportReport,
    PlanError,
    Section,
    Selection,
    export_dataset,
    list_presets,
    load_plan,
    load_preset,
    plan_report,
    project_plan_path,
    resolution_options,
    save_plan,
)
from curator.core.export.buckets import musubi_cache_bucket
from curator.core.export.crop import export_size
from curator.core.export.extraction import MODES, round_frames
from curator.core.export.plan import TRAINERS, plan_from_dict
from curator.core.project import Project
from curator.gui.panels.style import (
    ERROR_COLOR,
    MUTED_COLOR,
    OK_COLOR,
    WARNING_COLOR,
    JobTab,
    stat_card,
)
from curator.gui.workers import JobHandle, JobRunner

#: Counts are recomputed this long after the last edit.
RECOUNT_MS = 350
#: Source sizes shown in the resolution helper (the most common first).
HELPER_SOURCES = 6
DEFAULT_BUDGET = 832 * 480

ACCENT_COLOR = "#2f81f7"

TRAINER_LABELS = {"musubi": "musubi-tuner", "diffusion-pipe": "diffusion-pipe"}
MODE_TIPS = {
    "head": "the first frames of each clip, one window per target",
    "chunk": "back-to-back windows of each target length",
    "slide": "a window every `Stride` frames",
    "uniform": "`Sample` windows per target, spread evenly over the clip",
    "full": "the whole clip (rounded to 4n+1) up to `Max frames`",
}
ALL_ACCEPTED = "all accepted"
#: The warning list's filter: (key, label); the codes each key shows are in `warning_group`.
WARNING_FILTERS = (("all", "All"), ("error", "Stops training or left out"),
                   ("length", "Too short, collapsing"), ("caption", "Captions"),
                   ("other", "Sizes, names, targets"))
_LENGTH_CODES = {"short", "collapse", "too_short", "one_window", "bucket_dropped",
                 "bucket_truncated", "empty_section"}
_CAPTION_CODES = {"no_caption", "no_trigger"}

PANEL_STYLE = """
#exportPanel QLabel[role="section"] { color: #8b949e; font-weight: 700; }
#exportPanel QLabel[role="statCaption"] { color: #8b949e; }
#exportPanel QLabel[role="statValue"] { font-size: 15px; font-weight: 600; }
#exportPanel QFrame[role="stat"] { background: #1c2128; border-radius: 6px; }
#exportPanel QLabel#planDescription, #exportPanel QLabel#countState { color: #8b949e; }
#exportPanel QLabel#exportBanner { border-radius: 5px; padding: 6px 10px; }
#exportPanel QProgressBar { border: 1px solid #30363d; border-radius: 5px; background: #0d1117;
    min-height: 20px; text-align: center; }
#exportPanel QProgressBar::chunk { background: #1f6feb; border-radius: 4px; }
#exportPanel QProgressBar[state="done"]::chunk { background: #238636; }
#exportPanel QProgressBar[state="failed"]::chunk { background: #da3633; }
#exportPanel QProgressBar[state="cancelled"]::chunk { background: #9e6a03; }
#exportPanel QPushButton#exportButton { background: #238636; border-color: #2ea043;
    color: white; font-weight: 600; padding: 5px 16px; }
#exportPanel QPushButton#exportButton:disabled { background: #21262d; border-color: #30363d;
    color: #6e7681; }
#exportPanel QPushButton#cancelExport:enabled { border-color: #da3633; color: #f85149; }
#exportPanel QTableWidget#sectionTable { background: #0d1117; border: 1px solid #30363d;
    border-radius: 4px; alternate-background-color: #11161d; }
#exportPanel QTableWidget#sectionTable::item { padding: 0px 4px; }
#exportPanel QTableWidget#helperTable { background: #0d1117; border: 1px solid #30363d;
    border-radius: 4px; }
#exportPanel QListWidget#warningList { background: #0d1117; border: 1px solid #30363d;
    border-radius: 4px; }
#exportPanel QListWidget#warningList::item { padding: 3px 2px; border-bottom: 1px solid #161b22; }
#exportPanel QListWidget#warningList::item:selected { background: #1f3b63; }
#exportPanel QToolButton { border: 1px solid #30363d; border-radius: 5px; background: #21262d;
    padding: 3px 8px; }
#exportPanel QToolButton:hover { background: #30363d; }
#exportPanel QToolButton:disabled { color: #6e7681; }
#exportPanel QFrame#resultBox { background: #161b22; border: 1px solid #30363d;
    border-radius: 6px; }
"""


# --- pure helpers (tested without widgets) -----------------------------------------------------

_SIZE_RE = re.compile(r"^\s*(\d+)\s*(?:[x×X:*,]\s*(\d+))?\s*$")


def format_size(size: Sequence[int]) -> str:
    """`768×416`."""
    return f"{size[0]}×{size[1]}"


def parse_size(text: str) -> tuple[int, int]:
    """`768x416`, `768×416`, `768, 416` or `768` (square) as `(width, height)`.

    Raises:
        ValueError: not a size.
    """
    match = _SIZE_RE.match(text)
    if not match:
        raise ValueError(f"'{text}' is not a size like 768×416")
    width = int(match.group(1))
    height = int(match.group(2)) if match.group(2) else width
    if width <= 0 or height <= 0:
        raise ValueError("a resolution needs a width and a height above 0")
    return width, height


def parse_targets(text: str) -> list[int]:
    """`1, 21` or `[17 33]` as a list of whole numbers.

    Raises:
        ValueError: anything but whole numbers, or none.
    """
    parts = [p for p in re.split(r"[\s,;\[\]]+", text) if p]
    if not parts:
        raise ValueError("target frames need at least one number, e.g. 1, 21")
    try:
        return [int(p) for p in parts]
    except ValueError:
        raise ValueError(f"target frames must be whole numbers, not '{text}'") from None


def format_targets(targets: Sequence[int]) -> str:
    return ", ".join(str(t) for t in targets)


def selection_text(select: Selection) -> str:
    """How a section's clip selection reads in the table: `tag: a, b; source: film.mkv`."""
    parts = []
    if select.tags:
        parts.append("tag: " + ", ".join(select.tags))
    if select.sources:
        parts.append("source: " + ", ".join(select.sources))
    return "; ".join(parts) or ALL_ACCEPTED


def parse_selection(text: str) -> tuple[list[str], list[str]]:
    """`tag: a, b; source: *.mkv` as `(tags, sources)`; empty or `all accepted` is both empty.

    Raises:
        ValueError: a part that is neither `tag: …` nor `source: …`.
    """
    tags: list[str] = []
    sources: list[str] = []
    for part in (p.strip() for p in text.split(";")):
        if not part or part.casefold() in (ALL_ACCEPTED, "all", "accepted", "*"):
            continue
        key, sep, value = part.partition(":")
        key = key.strip().casefold()
        names = [v.strip() for v in value.split(",") if v.strip()] if sep else []
        if key in ("tag", "tags") and names:
            tags.extend(names)
        elif key in ("source", "sources") and names:
            sources.extend(names)
        else:
            raise ValueError(f"'{part}': write 'tag: NAME', 'source: FILE' (globs allowed) or "
                             f"'{ALL_ACCEPTED}'")
    return list(dict.fromkeys(tags)), list(dict.fromkeys(sources))


def section_entry(section: Section) -> dict[str, Any]:
    """A section as a plan TOML table with every key it has, even those its mode ignores.

    The plan file leaves out keys a mode does not read (`frame_stride` for head); the editor
    keeps them, so that switching a section to slide and back does not lose its stride.
    """
    entry: dict[str, Any] = {"name": section.name, "kind": section.kind,
                             "resolution": list(section.resolution),
                             "num_repeats": section.num_repeats, "batch_size": section.batch_size,
                             "tags": list(section.select.tags),
                             "sources": list(section.select.sources)}
    ext = section.extraction
    if ext is not None:
        entry.update(frame_extraction=ext.mode, target_frames=list(ext.target_frames),
                     frame_stride=ext.frame_stride, frame_sample=ext.frame_sample,
                     max_frames=ext.max_frames)
    return entry


def plan_with_sections(plan: DatasetPlan, entries: Sequence[dict[str, Any]]) -> DatasetPlan:
    """The plan with these section tables, validated by the core as a plan file would be.

    Raises:
        PlanError: the sections are not usable (the message names the key).
    """
    data = plan.to_toml_dict()
    data["sections"] = [dict(e) for e in entries]
    return plan_from_dict(data, default_name=plan.name)


def edit_section(plan: DatasetPlan, index: int, **changes: Any) -> DatasetPlan:
    """The plan with one section's keys changed (`target_frames=[1, 25]`, `kind="images"`…).

    Raises:
        PlanError: the result is not a usable plan.
    """
    entries = [section_entry(s) for s in plan.sections]
    entry = entries[index]
    entry.update(changes)
    if entry["kind"] == "images":
        for key in ("frame_extraction", "target_frames", "frame_stride", "frame_sample",
                    "max_frames"):
            entry.pop(key, None)
    elif "frame_extraction" not in entry:
        entry.update(frame_extraction="head", target_frames=[1])
    return plan_with_sections(plan, entries)


def unique_name(base: str, taken: Sequence[str]) -> str:
    """`base`, or `base_2`, `base_3`… when taken."""
    if base not in taken:
        return base
    n = 2
    while f"{base}_{n}" in taken:
        n += 1
    return f"{base}_{n}"


def warning_clip_id(warning: CountWarning) -> int | None:
    """The catalog id of the clip a warning names (its item key is `clip:<id>`), or None."""
    item = warning.item or ""
    if item.startswith("clip:"):
        try:
            return int(item[5:])
        except ValueError:
            return None
    return None


def warning_group(code: str) -> str:
    """Which filter of the warning list a warning code belongs to (besides 'all', 'error')."""
    if code in _LENGTH_CODES:
        return "length"
    if code in _CAPTION_CODES:
        return "caption"
    return "other"


def buckets_text(picks: Sequence[tuple[tuple[int, int], tuple[int, int]]],
                 counts: dict[tuple[int, int], int] | None = None) -> str:
    """`1920×1040 → 768×416 · 1280×720 → 784×448` (with clip counts when given)."""
    out = []
    for source, bucket in picks:
        many = f" ({counts[tuple(source)]})" if counts and tuple(source) in counts else ""
        out.append(f"{format_size(source)}{many} → {format_size(bucket)}")
    return "  ·  ".join(out)


@dataclass(frozen=True)
class CountRequest:
    """What one count is for: a snapshot taken on the GUI thread."""

    plan: DatasetPlan
    trainer: str
    out_dir: Path | None = None
    root: str | None = None


@dataclass
class CountResult:
    """A dry run's report plus what the editors offer (accepted clip sizes, tags, sources)."""

    request: CountRequest
    report: ExportReport | None = None
    error: str | None = None
    sizes: list[tuple[tuple[int, int], int]] = field(default_factory=list)
    tags: list[str] = field(default_factory=list)
    sources: list[str] = field(default_factory=list)
    clips: int = 0
    images: int = 0
    seconds: float = 0.0


def count_export(catalog: Any, request: CountRequest) -> CountResult:
    """Count a plan against the catalog's accepted clips and images (any thread).

    Returns:
        The result; `error` holds the reason when the count could not be made.
    """
    started = time.perf_counter()
    result = CountResult(request)
    try:
        settings = catalog.settings()
        clips = catalog.list_clips(status="accepted")
        images = catalog.list_images(status="accepted")
        result.report = plan_report(
            request.plan, clips, images, request.trainer, trigger=settings.trigger,
            default_fps=float(settings.target_fps or 16.0), out_dir=request.out_dir,
            root=request.root)
    except Exception as exc:  # noqa: BLE001 - the tab shows why instead of dying
        result.error = f"{type(exc).__name__}: {exc}"
        return result
    sizes = Counter(export_size(c) for c in clips)  # cropped sizes (bars, a person's crop)
    result.sizes = sorted(sizes.items(), key=lambda kv: (-kv[1], kv[0]))
    result.tags = sorted({t for c in clips for t in c.tags} | {t for i in images for t in i.tags})
    result.sources = sorted({Path(c.source_path).name for c in clips})
    result.clips, result.images = len(clips), len(images)
    result.seconds = time.perf_counter() - started
    return result


class CountWorker(QObject):
    """Runs `count_export` on its own thread; talks only through `finished`."""

    finished = Signal(object)  # CountResult

    def __init__(self, catalog: Any, request: CountRequest) -> None:
        super().__init__()
        self._catalog, self._request = catalog, request

    @Slot()
    def run(self) -> None:
        self.finished.emit(count_export(self._catalog, self._request))


# --- the table -----------------------------------------------------------------------------

@dataclass(frozen=True)
class Column:
    key: str
    title: str
    tip: str
    video_only: bool = False
    computed: bool = False


COLUMNS: tuple[Column, ...] = (
    Column("name", "Section", "Names the section's cache directory (letters, digits, . _ -)"),
    Column("kind", "Kind", "images or videos"),
    Column("resolution", "Resolution", "W×H: the pixel budget of musubi-tuner's buckets "
           "(each clip goes to the bucket nearest its aspect ratio)"),
    Column("mode", "Extraction", "frame_extraction: head, chunk, slide, uniform or full",
           video_only=True),
    Column("targets", "Target frames", "Window lengths; musubi-tuner rounds each down to 4n+1",
           video_only=True),
    Column("stride", "Stride", "frame_stride (slide only): frames between window starts",
           video_only=True),
    Column("sample", "Sample", "frame_sample (uniform only): windows per target",
           video_only=True),
    Column("max_frames", "Max frames", "max_frames (full only): the longest window",
           video_only=True),
    Column("repeats", "Repeats", "num_repeats: how often each file is listed per epoch"),
    Column("batch", "Batch", "batch_size of this section"),
    Column("select", "Clips from", "Which accepted clips (or images) feed it: all accepted, "
           "'tag: NAME' or 'source: FILE' (globs allowed); join both with ';'"),
    Column("files", "Files", "Distinct cache files the trainer makes (before repeats)",
           computed=True),
    Column("items", "Items", "Samples per epoch: files × repeats", computed=True),
    Column("batches", "Batches", "Batches per epoch, taken per bucket", computed=True),
)
COL = {c.key: i for i, c in enumerate(COLUMNS)}
INT_COLUMNS = {"stride": "frame_stride", "sample": "frame_sample", "max_frames": "max_frames",
               "repeats": "num_repeats", "batch": "batch_size"}


def _applies(section: Section, key: str) -> bool:
    """Whether a column means anything for this section (others show a dash)."""
    column = COLUMNS[COL[key]]
    if column.video_only and not section.is_video:
        return False
    ext = section.extraction
    if ext is None:
        return not column.video_only
    return {"targets": ext.mode != "full", "stride": ext.mode == "slide",
            "sample": ext.mode == "uniform", "max_frames": ext.mode == "full"}.get(key, True)


def cell_text(section: Section, key: str) -> str:
    """What a section's cell shows (a dash where the column does not apply)."""
    if not _applies(section, key):
        return "–"
    ext = section.extraction
    if key == "name":
        return section.name
    if key == "kind":
        return section.kind
    if key == "resolution":
        return format_size(section.resolution)
    if key == "mode":
        return ext.mode if ext else "–"
    if key == "targets":
        return format_targets(ext.target_frames) if ext else "–"
    if key == "stride":
        return str(ext.frame_stride) if ext else "–"
    if key == "sample":
        return str(ext.frame_sample) if ext else "–"
    if key == "max_frames":
        return str(ext.max_frames) if ext else "–"
    if key == "repeats":
        return str(section.num_repeats)
    if key == "batch":
        return str(section.batch_size)
    if key == "select":
        return selection_text(section.select)
    return ""


def cell_change(section: Section, key: str, text: str) -> dict[str, Any]:
    """The section keys a typed cell sets.

    Raises:
        ValueError: the text cannot be read (the message says what is expected).
    """
    text = text.strip()
    if key == "name":
        return {"name": text}
    if key == "kind":
        if text not in ("images", "videos"):
            raise ValueError("kind is 'images' or 'videos'")
        return {"kind": text}
    if key == "resolution":
        return {"resolution": list(parse_size(text))}
    if key == "mode":
        if text not in MODES:
            raise ValueError(f"extraction is one of {', '.join(MODES)}")
        return {"frame_extraction": text}
    if key == "targets":
        return {"target_frames": parse_targets(text)}
    if key in INT_COLUMNS:
        try:
            value = int(text)
        except ValueError:
            raise ValueError(f"{COLUMNS[COL[key]].title} must be a whole number") from None
        return {INT_COLUMNS[key]: value}
    if key == "select":
        tags, sources = parse_selection(text)
        return {"tags": tags, "sources": sources}
    raise ValueError(f"{key} cannot be edited")


class SectionDelegate(QStyledItemDelegate):
    """Editors for the section table: lists for kind and extraction, spin boxes for numbers,
    an editable list of tags and sources for 'Clips from'."""

    def __init__(self, panel: ExportPanel) -> None:
        super().__init__(panel)
        self._panel = panel

    def createEditor(self, parent: QWidget, option: QStyleOptionViewItem,  # noqa: N802
                     index: QModelIndex) -> QWidget:
        key = COLUMNS[index.column()].key
        if key in ("kind", "mode"):
            combo = QComboBox(parent)
            combo.addItems(["images", "videos"] if key == "kind" else list(MODES))
            if key == "mode":
                for i, mode in enumerate(MODES):
                    combo.setItemData(i, MODE_TIPS[mode], Qt.ItemDataRole.ToolTipRole)
            # A choice is a whole edit: commit it at once instead of on focus-out.
            combo.activated.connect(lambda _i, c=combo: self._commit(c))
            return combo
        if key in INT_COLUMNS:
            spin = QSpinBox(parent)
            spin.setRange(1, 100_000)
            spin.setAlignment(Qt.AlignmentFlag.AlignRight)
            return spin
        if key == "select":
            combo = QComboBox(parent)
            combo.setEditable(True)
            combo.setInsertPolicy(QComboBox.InsertPolicy.NoInsert)
            combo.addItems(self._panel.selection_choices())
            return combo
        editor = QLineEdit(parent)
        editor.setPlaceholderText({"resolution": "768×416", "targets": "1, 21"}.get(key, ""))
        return editor

    def _commit(self, editor: QWidget) -> None:
        self.commitData.emit(editor)
        self.closeEditor.emit(editor, QStyledItemDelegate.EndEditHint.NoHint)

    def setEditorData(self, editor: QWidget, index: QModelIndex) -> None:  # noqa: N802
        text = str(index.data(Qt.ItemDataRole.EditRole) or "")
        if isinstance(editor, QSpinBox):
            editor.setValue(int(text) if text.isdigit() else 1)
        elif isinstance(editor, QComboBox):
            if editor.isEditable():
                editor.setEditText(text)
            else:
                editor.setCurrentIndex(max(0, editor.findText(text)))
        elif isinstance(editor, QLineEdit):
            editor.setText(text)

    def setModelData(self, editor: QWidget, model: Any, index: QModelIndex) -> None:  # noqa: N802
        if isinstance(editor, QSpinBox):
            text = str(editor.value())
        elif isinstance(editor, QComboBox):
            text = editor.currentText()
        elif isinstance(editor, QLineEdit):
            text = editor.text()
        else:
            return
        if text != str(index.data(Qt.ItemDataRole.EditRole) or ""):
            model.setData(index, text, Qt.ItemDataRole.EditRole)


def _dot_icon(color: str, size: int = 12) -> QIcon:
    pixmap = QPixmap(size, size)
    pixmap.fill(Qt.GlobalColor.transparent)
    painter = QPainter(pixmap)
    painter.setRenderHint(QPainter.RenderHint.Antialiasing)
    painter.setPen(Qt.PenStyle.NoPen)
    painter.setBrush(QColor(color))
    painter.drawEllipse(2, 2, size - 4, size - 4)
    painter.end()
    return QIcon(pixmap)


def _mono_font() -> QFont:
    font = QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont)
    font.setPointSizeF(max(8.5, font.pointSizeF() - 0.5))
    return font


def _muted(widget: QWidget) -> QWidget:
    widget.setStyleSheet(f"color: {MUTED_COLOR};")
    return widget


# --- the panel -----------------------------------------------------------------------------

class ExportPanel(JobTab):
    """Plan, live count, warnings, resolution helper and the export run."""

    clip_activated = Signal(int)  # a warning naming this clip was double-clicked
    counted = Signal(object)  # ExportReport: the counts now shown
    plan_saved = Signal(object)  # Path of the project's plan file
    export_started = Signal(object)  # JobHandle
    export_finished = Signal(str)  # done | failed | cancelled

    def __init__(self, project: Project, catalog: Any = None,
                 job_runner: JobRunner | None = None, settings: QSettings | None = None,
                 parent: QWidget | None = None) -> None:
        super().__init__("exportPanel", PANEL_STYLE,
                         catalog=catalog if catalog is not None else project.catalog,
                         job_runner=job_runner, parent=parent)
        self.project = project
        self.root = Path(project.root)
        self.settings = settings
        self.workers: int | None = None  # parallel transcodes for an export (None: all cores)

        self.plan: DatasetPlan = load_preset(DEFAULT_PRESET)
        self.plan_key = f"preset:{DEFAULT_PRESET}"
        self.modified = False
        self._drafts: dict[str, DatasetPlan] = {}
        self.report: ExportReport | None = None  # the counts shown
        self.result: CountResult | None = None
        self.handle: JobHandle | None = None
        self.last_export: ExportReport | None = None
        self._count: tuple[QThread, CountWorker] | None = None
        self._count_dirty = False
        self._closing = False
        self._filling = False
        self._sizes: list[tuple[tuple[int, int], int]] = []
        self._tags: list[str] = []
        self._sources: list[str] = []

        self._recount_timer = QTimer(self)
        self._recount_timer.setSingleShot(True)
        self._recount_timer.setInterval(RECOUNT_MS)
        self._recount_timer.timeout.connect(self.recount)

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
        frame = QVBoxLayout(self)
        frame.setContentsMargins(0, 0, 0, 0)
        self.page_area = QScrollArea()
        self.page_area.setWidgetResizable(True)
        self.page_area.setFrameShape(QFrame.Shape.NoFrame)
        frame.addWidget(self.page_area)
        page = QWidget()
        page.setObjectName("exportPageBody")
        page.setMinimumSize(960, 480)
        self.page_area.setWidget(page)
        outer = QVBoxLayout(page)
        outer.setContentsMargins(8, 6, 8, 6)
        outer.setSpacing(6)
        outer.addLayout(self._build_plan_bar())
        outer.addLayout(self._build_output_bar())
        outer.addWidget(self._build_result_box())
        self.notice = QLabel()
        self.notice.setObjectName("exportNotice")
        self.notice.setWordWrap(True)
        self.notice.hide()
        outer.addWidget(self.notice)

        outer.addWidget(self._build_sections())
        outer.addWidget(self._build_tabs(), 1)

    def _build_plan_bar(self) -> QHBoxLayout:
        bar = QHBoxLayout()
        bar.setSpacing(6)
        bar.addWidget(QLabel("Plan"))
        self.plan_combo = QComboBox()
        self.plan_combo.setObjectName("planCombo")
        self.plan_combo.setMinimumWidth(250)
        self.plan_combo.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToContents)
        self.plan_combo.activated.connect(
            lambda _i: self.choose_plan(self.plan_combo.currentData()))
        bar.addWidget(self.plan_combo)
        self.origin_label = _muted(QLabel())
        self.origin_label.setObjectName("planOrigin")
        bar.addWidget(self.origin_label)
        self.save_button = QPushButton("Save plan")
        self.save_button.setObjectName("savePlan")
        self.save_button.setToolTip("Keep this plan as the project's (plans/dataset.toml); "
                                    "`curator export` uses it too")
        self.save_button.clicked.connect(lambda: self.save_plan())
        bar.addWidget(self.save_button)
        bar.addSpacing(14)
        bar.addWidget(QLabel("Trainer"))
        self.trainer_combo = QComboBox()
        self.trainer_combo.setObjectName("trainerCombo")
        for trainer in TRAINERS:
            self.trainer_combo.addItem(TRAINER_LABELS.get(trainer, trainer), trainer)
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
        self.export_button = QPushButton("Export")
        self.export_button.setObjectName("exportButton")
        self.export_button.setIcon(
            self.style().standardIcon(QStyle.StandardPixmap.SP_DialogSaveButton))
        self.export_button.setToolTip("Transcode the accepted clips, write captions, the "
                                      "trainer's dataset TOML and a manifest")
        self.export_button.clicked.connect(lambda: self.export())
        bar.addWidget(self.export_button)
        self.cancel_button = QPushButton("Cancel")
        self.cancel_button.setObjectName("cancelExport")
        self.cancel_button.setIcon(self.style().standardIcon(QStyle.StandardPixmap.SP_MediaStop))
        self.cancel_button.clicked.connect(self.cancel_export)
        bar.addWidget(self.cancel_button)
        return bar

    def _build_output_bar(self) -> QHBoxLayout:
        bar = QHBoxLayout()
        bar.setSpacing(6)
        bar.addWidget(QLabel("Output folder"))
        self.out_edit = QLineEdit()
        self.out_edit.setObjectName("outDir")
        self.out_edit.setPlaceholderText("the dataset folder")
        self.out_edit.textEdited.connect(lambda _t: self.schedule_recount())
        bar.addWidget(self.out_edit, 3)
        browse = QToolButton()
        browse.setText("…")
        browse.setToolTip("Choose the dataset folder")
        browse.clicked.connect(self._browse_out_dir)
        bar.addWidget(browse)
        bar.addSpacing(8)
        bar.addWidget(QLabel("Path on the training machine"))
        self.root_edit = QLineEdit()
        self.root_edit.setObjectName("rootDir")
        self.root_edit.setPlaceholderText("same as the output folder")
        self.root_edit.setToolTip("Where the output folder will be on the machine that trains; "
                                  "paths in the TOML start with it")
        self.root_edit.textEdited.connect(self._on_root_edited)
        bar.addWidget(self.root_edit, 2)
        return bar

    def _build_result_box(self) -> QWidget:
        box = QFrame()
        box.setObjectName("resultBox")
        layout = QVBoxLayout(box)
        layout.setContentsMargins(10, 8, 10, 8)
        layout.setSpacing(6)
        self.progress_bar = QProgressBar()
        self.progress_bar.setObjectName("exportProgress")
        self.progress_bar.setRange(0, 1)
        layout.addWidget(self.progress_bar)
        self.banner = QLabel()
        self.banner.setObjectName("exportBanner")
        self.banner.setWordWrap(True)
        self.banner.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        layout.addWidget(self.banner)
        row = QHBoxLayout()
        row.setSpacing(6)
        row.addWidget(QLabel("Dataset config"))
        self.config_edit = QLineEdit()
        self.config_edit.setObjectName("configPath")
        self.config_edit.setReadOnly(True)
        row.addWidget(self.config_edit, 1)
        self.copy_button = QPushButton("Copy path")
        self.copy_button.setObjectName("copyConfig")
        self.copy_button.clicked.connect(self.copy_config_path)
        row.addWidget(self.copy_button)
        self.open_button = QPushButton(
            self.style().standardIcon(QStyle.StandardPixmap.SP_DirOpenIcon), "Open folder")
        self.open_button.setObjectName("openExport")
        self.open_button.clicked.connect(self.open_export_folder)
        row.addWidget(self.open_button)
        self.result_row = QWidget()
        self.result_row.setLayout(row)
        row.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.result_row)
        self.train_hint = _muted(QLabel(
            "Use in the Train tab: it takes this export's dataset config when its "
            "<i>Dataset config</i> field is empty."))
        self.train_hint.setObjectName("trainHint")
        self.train_hint.setWordWrap(True)
        layout.addWidget(self.train_hint)
        box.hide()
        self.result_box = box
        return box

    def _build_sections(self) -> QWidget:
        page = QWidget()
        layout = QVBoxLayout(page)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(6)
        head = QHBoxLayout()
        title = QLabel("SECTIONS")
        title.setProperty("role", "section")
        head.addWidget(title)
        self.description_label = QLabel()
        self.description_label.setObjectName("planDescription")
        self.description_label.setSizePolicy(QSizePolicy.Policy.Ignored,
                                             QSizePolicy.Policy.Preferred)
        head.addWidget(self.description_label, 1)
        self.add_video_button = QToolButton()
        self.add_video_button.setText("+ Videos")
        self.add_video_button.setObjectName("addVideos")
        self.add_video_button.setToolTip("Add a video section")
        self.add_video_button.clicked.connect(lambda: self.add_section("videos"))
        self.add_image_button = QToolButton()
        self.add_image_button.setText("+ Images")
        self.add_image_button.setObjectName("addImages")
        self.add_image_button.setToolTip("Add an image section")
        self.add_image_button.clicked.connect(lambda: self.add_section("images"))
        self.up_button = QToolButton()
        self.up_button.setText("↑")
        self.up_button.setToolTip("Move the section up (the TOML lists them in this order)")
        self.up_button.clicked.connect(lambda: self.move_section(-1))
        self.down_button = QToolButton()
        self.down_button.setText("↓")
        self.down_button.setToolTip("Move the section down")
        self.down_button.clicked.connect(lambda: self.move_section(1))
        self.remove_button = QToolButton()
        self.remove_button.setText("Remove")
        self.remove_button.setObjectName("removeSection")
        self.remove_button.clicked.connect(lambda: self.remove_section())
        for button in (self.add_video_button, self.add_image_button, self.up_button,
                       self.down_button, self.remove_button):
            head.addWidget(button)
        layout.addLayout(head)

        self.table = QTableWidget(0, len(COLUMNS))
        self.table.setObjectName("sectionTable")
        self.table.setAlternatingRowColors(True)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.DoubleClicked
                                   | QAbstractItemView.EditTrigger.EditKeyPressed
                                   | QAbstractItemView.EditTrigger.AnyKeyPressed)
        self.table.verticalHeader().hide()
        self.table.verticalHeader().setDefaultSectionSize(28)
        self.table.setShowGrid(False)
        self.table.setWordWrap(False)
        self.table.setItemDelegate(SectionDelegate(self))
        for i, column in enumerate(COLUMNS):
            item = QTableWidgetItem(column.title)
            item.setToolTip(column.tip)
            if column.computed or column.key in INT_COLUMNS:
                item.setTextAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
            self.table.setHorizontalHeaderItem(i, item)
        header = self.table.horizontalHeader()
        header.setHighlightSections(False)
        header.setDefaultAlignment(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter)
        header.setMinimumSectionSize(54)
        widths = {"name": 140, "kind": 70, "resolution": 90, "mode": 84, "targets": 104,
                  "stride": 62, "sample": 66, "max_frames": 96, "repeats": 74, "batch": 60,
                  "files": 64, "items": 64, "batches": 72}
        for key, width in widths.items():
            header.resizeSection(COL[key], width)
        header.setSectionResizeMode(COL["select"], QHeaderView.ResizeMode.Stretch)
        self.table.itemChanged.connect(self._on_item_changed)
        self.table.itemSelectionChanged.connect(self._on_selection_changed)
        self.table.setVerticalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAsNeeded)
        layout.addWidget(self.table)

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
        layout.addLayout(cards)
        state_row = QHBoxLayout()
        self.count_state = QLabel()
        self.count_state.setObjectName("countState")
        self.count_state.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
        state_row.addWidget(self.count_state, 1)
        self.recount_button = QToolButton()
        self.recount_button.setObjectName("recountButton")
        self.recount_button.setText("Recount")
        self.recount_button.setToolTip("Count again from the catalog (decisions and captions "
                                       "changed elsewhere are counted when this tab is shown)")
        self.recount_button.clicked.connect(self.recount)
        state_row.addWidget(self.recount_button)
        layout.addLayout(state_row)
        return page

    def _build_tabs(self) -> QWidget:
        self.tabs = QTabWidget()
        self.tabs.setObjectName("exportTabs")
        self.tabs.setDocumentMode(True)
        self.tabs.addTab(self._build_warnings_tab(), "Warnings")
        self.tabs.addTab(self._build_helper_tab(), "Resolution helper")
        self.tabs.addTab(self._build_config_tab(), "Dataset TOML")
        return self.tabs

    def _build_warnings_tab(self) -> QWidget:
        page = QWidget()
        layout = QVBoxLayout(page)
        layout.setContentsMargins(0, 6, 0, 0)
        layout.setSpacing(4)
        row = QHBoxLayout()
        row.setSpacing(6)
        self.warning_summary = _muted(QLabel())
        self.warning_summary.setObjectName("warningSummary")
        row.addWidget(self.warning_summary, 1)
        row.addWidget(QLabel("Show"))
        self.warning_filter = QComboBox()
        self.warning_filter.setObjectName("warningFilter")
        for key, label in WARNING_FILTERS:
            self.warning_filter.addItem(label, key)
        self.warning_filter.currentIndexChanged.connect(lambda _i: self._filter_warnings())
        row.addWidget(self.warning_filter)
        layout.addLayout(row)
        self.warning_list = QListWidget()
        self.warning_list.setObjectName("warningList")
        self.warning_list.setWordWrap(True)
        self.warning_list.setVerticalScrollMode(QListWidget.ScrollMode.ScrollPerPixel)
        self.warning_list.setUniformItemSizes(False)
        self.warning_list.itemDoubleClicked.connect(self._on_warning_activated)
        self.warning_list.itemActivated.connect(self._on_warning_activated)
        layout.addWidget(self.warning_list, 1)
        self._icons = {"error": _dot_icon(ERROR_COLOR), "warning": _dot_icon(WARNING_COLOR)}
        return page

    def _build_helper_tab(self) -> QWidget:
        page = QWidget()
        layout = QVBoxLayout(page)
        layout.setContentsMargins(0, 6, 0, 0)
        layout.setSpacing(6)
        row = QHBoxLayout()
        row.setSpacing(6)
        row.addWidget(QLabel("Aspect of"))
        self.aspect_combo = QComboBox()
        self.aspect_combo.setObjectName("aspectCombo")
        self.aspect_combo.setEditable(True)
        self.aspect_combo.setInsertPolicy(QComboBox.InsertPolicy.NoInsert)
        self.aspect_combo.setMinimumWidth(210)
        self.aspect_combo.lineEdit().setPlaceholderText("1920×1040 or 1.85")
        self.aspect_combo.currentTextChanged.connect(lambda _t: self.update_helper())
        row.addWidget(self.aspect_combo)
        row.addSpacing(8)
        row.addWidget(QLabel("Pixel budget"))
        self.budget_spin = QSpinBox()
        self.budget_spin.setObjectName("budgetSpin")
        self.budget_spin.setRange(16 * 16, 4096 * 4096)
        self.budget_spin.setSingleStep(16 * 16 * 16)
        self.budget_spin.setGroupSeparatorShown(True)
        self.budget_spin.setValue(DEFAULT_BUDGET)
        self.budget_spin.setToolTip("Largest W×H listed; 832×480 = 399,360 is Wan's 480p")
        self.budget_spin.valueChanged.connect(lambda _v: self.update_helper())
        row.addWidget(self.budget_spin)
        for label, pixels in (("480p", 832 * 480), ("720p", 1280 * 720)):
            button = QToolButton()
            button.setText(label)
            button.setToolTip(f"{pixels:,} pixels")
            button.clicked.connect(lambda _c=False, p=pixels: self.budget_spin.setValue(p))
            row.addWidget(button)
        row.addStretch(1)
        self.use_size_button = QPushButton("Use for the selected section")
        self.use_size_button.setObjectName("useSize")
        self.use_size_button.clicked.connect(lambda: self.use_helper_size())
        row.addWidget(self.use_size_button)
        layout.addLayout(row)
        self.helper_now = QLabel()
        self.helper_now.setObjectName("helperNow")
        self.helper_now.setWordWrap(True)
        self.helper_now.setTextFormat(Qt.TextFormat.RichText)
        layout.addWidget(self.helper_now)
        self.helper_table = QTableWidget(0, 4)
        self.helper_table.setObjectName("helperTable")
        self.helper_table.setHorizontalHeaderLabels(
            ["Resolution", "Pixels", "Aspect", "Buckets musubi-tuner caches your clips at"])
        self.helper_table.verticalHeader().hide()
        self.helper_table.verticalHeader().setDefaultSectionSize(24)
        self.helper_table.setShowGrid(False)
        self.helper_table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.helper_table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.helper_table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.helper_table.itemSelectionChanged.connect(self._update_buttons)
        self.helper_table.itemDoubleClicked.connect(lambda _i: self.use_helper_size())
        helper_header = self.helper_table.horizontalHeader()
        helper_header.setHighlightSections(False)
        helper_header.setDefaultAlignment(Qt.AlignmentFlag.AlignLeft
                                          | Qt.AlignmentFlag.AlignVCenter)
        for i, width in enumerate((100, 90, 130)):
            helper_header.resizeSection(i, width)
        helper_header.setStretchLastSection(True)
        layout.addWidget(self.helper_table, 1)
        return page

    def _build_config_tab(self) -> QWidget:
        page = QWidget()
        layout = QVBoxLayout(page)
        layout.setContentsMargins(0, 6, 0, 0)
        self.config_label = _muted(QLabel())
        self.config_label.setObjectName("configLabel")
        layout.addWidget(self.config_label)
        self.config_view = QPlainTextEdit()
        self.config_view.setObjectName("configView")
        self.config_view.setReadOnly(True)
        self.config_view.setFont(_mono_font())
        self.config_view.setLineWrapMode(QPlainTextEdit.LineWrapMode.NoWrap)
        self.config_view.setPlaceholderText("The dataset TOML appears here once counted.")
        layout.addWidget(self.config_view, 1)
        return page

    # --- plans -------------------------------------------------------------------------------

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
        row = self.table.currentRow() if select is None else select
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
        if self.plan_key == "project":
            text = "plans/dataset.toml"
        else:
            text = "built-in preset"
        if self.modified:
            text += " · <span style='color:%s'>modified, not saved</span>" % WARNING_COLOR
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

    # --- the section table -------------------------------------------------------------------

    def _fill_table(self, select: int = 0) -> None:
        self._filling = True
        self.table.blockSignals(True)
        self.table.setRowCount(len(self.plan.sections))
        muted = QBrush(QColor("#6e7681"))
        for row, section in enumerate(self.plan.sections):
            for col, column in enumerate(COLUMNS):
                item = QTableWidgetItem()
                flags = Qt.ItemFlag.ItemIsSelectable | Qt.ItemFlag.ItemIsEnabled
                if column.computed:
                    item.setTextAlignment(Qt.AlignmentFlag.AlignRight
                                          | Qt.AlignmentFlag.AlignVCenter)
                    font = item.font()
                    font.setBold(True)
                    item.setFont(font)
                else:
                    text = cell_text(section, column.key)
                    item.setText(text)
                    if _applies(section, column.key):
                        flags |= Qt.ItemFlag.ItemIsEditable
                        item.setToolTip(self._cell_tip(section, column))
                    else:
                        item.setForeground(muted)
                        item.setTextAlignment(Qt.AlignmentFlag.AlignCenter)
                    if column.key in INT_COLUMNS and text != "–":
                        item.setTextAlignment(Qt.AlignmentFlag.AlignRight
                                              | Qt.AlignmentFlag.AlignVCenter)
                    if column.key == "name":
                        font = item.font()
                        font.setBold(True)
                        item.setFont(font)
                    if column.key == "select" and section.select.everything:
                        item.setForeground(QBrush(QColor(MUTED_COLOR)))
                    if column.key == "targets" and section.extraction is not None:
                        rounded = [t for t in section.extraction.target_frames
                                   if round_frames(t) != t]
                        if rounded:
                            item.setForeground(QBrush(QColor(WARNING_COLOR)))
                            item.setToolTip("Not 4n+1: " + ", ".join(
                                f"{t} → {round_frames(t)}" for t in rounded))
                item.setFlags(flags)
                self.table.setItem(row, col, item)
        self.table.blockSignals(False)
        self._filling = False
        self._fit_table()
        if self.plan.sections:
            self.table.selectRow(select)
        self._show_counts_in_table()

    def _fit_table(self) -> None:
        # As tall as its rows (at least three, at most eight): the rest goes to the warnings.
        rows = min(max(len(self.plan.sections), 3), 8)
        height = (self.table.horizontalHeader().sizeHint().height()
                  + rows * self.table.verticalHeader().defaultSectionSize()
                  + 2 * self.table.frameWidth() + 2)
        self.table.setFixedHeight(height)

    def _cell_tip(self, section: Section, column: Column) -> str:
        if column.key == "mode" and section.extraction is not None:
            return f"{section.extraction.mode}: {MODE_TIPS[section.extraction.mode]}"
        return column.tip

    def _on_item_changed(self, item: QTableWidgetItem) -> None:
        if self._filling:
            return
        row, key = item.row(), COLUMNS[item.column()].key
        if row >= len(self.plan.sections) or COLUMNS[item.column()].computed:
            return
        section = self.plan.sections[row]
        try:
            changes = cell_change(section, key, item.text())
            plan = edit_section(self.plan, row, **changes)
        except (ValueError, PlanError) as exc:
            self._notice(str(exc), ERROR_COLOR)
            # Put the cell back as it was: the plan did not change.
            QTimer.singleShot(0, lambda r=row: self._fill_table(r))
            return
        self._notice("")
        if plan != self.plan:
            self._change_plan(plan, select=row)

    def set_cell(self, row: int, key: str, text: str) -> None:
        """Type `text` into a section's cell, as the editor does (tests and scripts)."""
        self.table.item(row, COL[key]).setText(text)

    def cell(self, row: int, key: str) -> str:
        return self.table.item(row, COL[key]).text()

    def current_section_index(self) -> int | None:
        row = self.table.currentRow()
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

    def _on_selection_changed(self) -> None:
        self._update_buttons()
        self.update_helper()

    def selection_choices(self) -> list[str]:
        """What the 'Clips from' editor suggests: all, each tag, each source file."""
        return ([ALL_ACCEPTED] + [f"tag: {t}" for t in self._tags]
                + [f"source: {s}" for s in self._sources])

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

    def request(self) -> CountRequest:
        return CountRequest(self.plan, self.trainer, self.out_dir(), self.training_root())

    def schedule_recount(self) -> None:
        """Count again a moment after the last change (edits come in bursts)."""
        if self._closing:
            return
        self._recount_timer.start()
        self._show_count_state()

    @property
    def counting(self) -> bool:
        return self._count is not None or self._recount_timer.isActive()

    def recount(self) -> None:
        """Count now, on a worker thread; a count already running is followed by another."""
        self._recount_timer.stop()
        if self._closing:
            return
        if self._count is not None:
            self._count_dirty = True
            return
        worker = CountWorker(self.catalog, self.request())
        thread = QThread(self)
        thread.setObjectName("export-count")
        worker.moveToThread(thread)
        thread.started.connect(worker.run)
        # Quit on the worker's own thread, so waiting for the thread never needs this loop.
        worker.finished.connect(thread.quit, Qt.ConnectionType.DirectConnection)
        worker.finished.connect(self._on_counted)
        self._count = (thread, worker)
        self._count_dirty = False
        thread.start()
        self._show_count_state()

    def _finish_count_thread(self) -> None:
        if self._count is None:
            return
        thread, worker = self._count
        self._count = None
        thread.wait()
        worker.deleteLater()
        thread.deleteLater()

    @Slot(object)
    def _on_counted(self, result: CountResult) -> None:
        self._finish_count_thread()
        if self._closing:
            return
        self._sizes, self._tags, self._sources = result.sizes, result.tags, result.sources
        if result.request == self.request():
            self._apply_count(result)
        stale = self._count_dirty or result.request != self.request()
        if stale and not self._recount_timer.isActive():  # else the timer counts soon anyway
            self.recount()
        self._show_count_state()

    def _apply_count(self, result: CountResult) -> None:
        self.result = result
        if result.report is None:
            self.report = None
            self._notice(f"Could not count the plan: {result.error}", ERROR_COLOR)
        else:
            self._show_report(result.report)
        self._fill_aspects()
        self.update_helper()
        if result.report is not None:
            self.counted.emit(result.report)

    def _show_report(self, report: ExportReport) -> None:
        self.report = report
        self._show_counts_in_table()
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
        self._show_warnings(report)
        self.config_view.setPlainText(report.config_text)
        if report.config_path is not None:
            verb = "Would write" if report.dry_run else "Wrote"
            self.config_label.setText(f"{verb} {report.config_path}")
        else:
            self.config_label.setText("Name an output folder to see the TOML's paths.")

    def _show_counts_in_table(self) -> None:
        counts = self.report.counts if self.report is not None else None
        self.table.blockSignals(True)
        for row, section in enumerate(self.plan.sections):
            try:
                count = counts.section(section.name) if counts is not None else None
            except KeyError:
                count = None
            values = {"files": count.files, "items": count.items,
                      "batches": count.batches} if count is not None else {}
            tip = ""
            if count is not None and count.buckets:
                tip = "\n".join(f"{b.key}: {b.files} files, {b.items} items, {b.batches} "
                                f"batches" for b in count.buckets)
            for key in ("files", "items", "batches"):
                item = self.table.item(row, COL[key])
                if item is None:
                    continue
                item.setText(f"{values[key]:,}" if key in values else "…")
                item.setToolTip(tip or "Counting…")
                if count is not None and not count.items:
                    item.setForeground(QBrush(QColor(ERROR_COLOR)))
                else:
                    item.setData(Qt.ItemDataRole.ForegroundRole, None)
        self.table.blockSignals(False)

    def _show_warnings(self, report: ExportReport) -> None:
        self.warning_list.clear()
        warnings = report.counts.all_warnings() if report.counts else []
        # What stops the trainer (or leaves clips out) first; otherwise the core's order.
        warnings.sort(key=lambda w: w.severity != "error")
        errors = sum(1 for w in warnings if w.severity == "error")
        for warning in warnings:
            item = QListWidgetItem(self._icons["error" if warning.severity == "error"
                                               else "warning"], warning.message)
            clip_id = warning_clip_id(warning)
            item.setData(Qt.ItemDataRole.UserRole, clip_id)
            item.setData(Qt.ItemDataRole.UserRole + 1,
                         {"error", warning_group(warning.code)} if warning.severity == "error"
                         else {warning_group(warning.code)})
            if clip_id is not None:
                item.setToolTip(f"{warning.message}\n\nDouble-click to show clip {clip_id}.")
            else:
                item.setToolTip(warning.message)
            self.warning_list.addItem(item)
        for failure in report.failed:
            item = QListWidgetItem(self._icons["error"], f"{failure.path}: {failure.reason}")
            item.setData(Qt.ItemDataRole.UserRole + 1, {"error", "other"})
            self.warning_list.addItem(item)
        self._filter_warnings()
        total = len(warnings) + len(report.failed)
        title = f"Warnings ({total})" if total else "Warnings"
        self.tabs.setTabText(0, title)
        self.tabs.setTabIcon(0, self._icons["error"] if errors or report.failed else
                             self._icons["warning"] if warnings else QIcon())
        if not total:
            self.warning_summary.setText("No warnings: every clip gives what the plan asks.")
        else:
            parts = []
            if errors:
                parts.append(f"<span style='color:{ERROR_COLOR}'>{errors} stop"
                             f"{'s' if errors == 1 else ''} the trainer or "
                             f"{'is' if errors == 1 else 'are'} left out</span>")
            if len(warnings) - errors:
                parts.append(f"{len(warnings) - errors} warning"
                             f"{'s' if len(warnings) - errors != 1 else ''}")
            if report.failed:
                parts.append(f"<span style='color:{ERROR_COLOR}'>{len(report.failed)} "
                             f"failed</span>")
            self.warning_summary.setText(", ".join(parts) + ". Double-click one that names a "
                                         "clip to show it.")

    def _filter_warnings(self) -> None:
        wanted = self.warning_filter.currentData() or "all"
        for i in range(self.warning_list.count()):
            item = self.warning_list.item(i)
            groups = item.data(Qt.ItemDataRole.UserRole + 1) or set()
            item.setHidden(wanted != "all" and wanted not in groups)

    def warning_texts(self, shown_only: bool = False) -> list[str]:
        """The warnings listed (only those the filter shows, when asked)."""
        items = [self.warning_list.item(i) for i in range(self.warning_list.count())]
        return [item.text() for item in items if not (shown_only and item.isHidden())]

    def _on_warning_activated(self, item: QListWidgetItem) -> None:
        clip_id = item.data(Qt.ItemDataRole.UserRole)
        if clip_id is not None:
            self.clip_activated.emit(int(clip_id))

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

    def showEvent(self, event: Any) -> None:  # noqa: N802 - Qt API
        # Decisions and captions change in the other tabs; count again when shown.
        super().showEvent(event)
        if self.result is not None:
            self.schedule_recount()

    # --- resolution helper -------------------------------------------------------------------

    def _fill_aspects(self) -> None:
        index = self.aspect_combo.currentIndex()
        text = self.aspect_combo.currentText()
        chosen = (self.aspect_combo.itemData(index)
                  if index >= 0 and self.aspect_combo.itemText(index) == text else None)
        self.aspect_combo.blockSignals(True)
        self.aspect_combo.clear()
        for size, count in self._sizes[:12]:
            self.aspect_combo.addItem(
                f"{format_size(size)} ({count} clip{'s' if count != 1 else ''})", size)
        sizes = [size for size, _n in self._sizes[:12]]
        if chosen is not None and tuple(chosen) in sizes:
            self.aspect_combo.setCurrentIndex(sizes.index(tuple(chosen)))
        elif chosen is None and text.strip():
            self.aspect_combo.setEditText(text)  # a ratio the person typed stays
        self.aspect_combo.blockSignals(False)

    def aspect(self) -> float | tuple[int, int] | None:
        """The aspect ratio the helper keeps: a chosen source size, or a typed ratio."""
        index = self.aspect_combo.currentIndex()
        text = self.aspect_combo.currentText().strip()
        if index >= 0 and self.aspect_combo.itemText(index) == text:
            return self.aspect_combo.itemData(index)
        try:
            return parse_size(text.split("(")[0]) if re.search(r"[x×X:*]", text) else float(text)
        except ValueError:
            return None

    def helper_sizes(self) -> list[tuple[int, int]]:
        return [size for size, _n in self._sizes[:HELPER_SOURCES]]

    def update_helper(self) -> None:
        """Recompute the sizes that keep the aspect ratio, and the current section's buckets."""
        counts = dict(self._sizes)
        index = self.current_section_index()
        section = self.plan.sections[index] if index is not None else None
        sources = self.helper_sizes()
        if section is not None:
            picks = [(s, musubi_cache_bucket(s, section.resolution)) for s in sources]
            text = (f"<b>{section.name}</b> at {format_size(section.resolution)} "
                    f"({section.resolution[0] * section.resolution[1]:,} px): ")
            text += (buckets_text(picks, counts) if picks else
                     f"<span style='color:{MUTED_COLOR}'>no accepted clips yet</span>")
            self.helper_now.setText(text)
        else:
            self.helper_now.setText("")
        aspect = self.aspect()
        self.helper_table.setRowCount(0)
        if aspect is None or (isinstance(aspect, float) and aspect <= 0):
            self._update_buttons()
            return
        try:
            options = resolution_options(aspect, self.budget_spin.value(), sources=sources)
        except ValueError:
            options = []
        self.helper_table.setRowCount(len(options))
        current = section.resolution if section is not None else None
        for row, option in enumerate(options):
            values = (format_size((option.width, option.height)), f"{option.pixels:,}",
                      f"{option.width / option.height:.4f} ({option.aspect_error * 100:.2f}%)",
                      buckets_text(option.buckets, counts))
            for col, value in enumerate(values):
                item = QTableWidgetItem(value)
                item.setData(Qt.ItemDataRole.UserRole, (option.width, option.height))
                if col in (1, 2):
                    item.setTextAlignment(Qt.AlignmentFlag.AlignRight
                                          | Qt.AlignmentFlag.AlignVCenter)
                if current == (option.width, option.height):
                    item.setForeground(QBrush(QColor(ACCENT_COLOR)))
                    font = item.font()
                    font.setBold(True)
                    item.setFont(font)
                self.helper_table.setItem(row, col, item)
        self._update_buttons()

    def helper_options(self) -> list[tuple[int, int]]:
        return [self.helper_table.item(r, 0).data(Qt.ItemDataRole.UserRole)
                for r in range(self.helper_table.rowCount())]

    def use_helper_size(self, size: tuple[int, int] | None = None) -> None:
        """Set the selected section's resolution to the chosen helper size."""
        index = self.current_section_index()
        if size is None:
            rows = self.helper_table.selectionModel().selectedRows()
            if not rows:
                return
            size = self.helper_table.item(rows[0].row(), 0).data(Qt.ItemDataRole.UserRole)
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

    @property
    def running(self) -> bool:
        return self.handle is not None

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
        self.result_box.show()
        self.result_row.hide()
        self.train_hint.hide()
        self.banner.hide()
        self.progress_bar.setRange(0, 0)
        self.progress_bar.setFormat("Counting and preparing…")
        self._set_bar_state("")
        self.handle = self.runner.start(
            "export", f"Export {plan.name} → {out_dir.name or out_dir}", export_dataset,
            on_finished=self._on_export_finished, catalog=self.catalog, plan=plan,
            out_dir=out_dir, trainer=trainer, root=root, workers=self.workers)
        self._update_buttons()
        self.export_started.emit(self.handle)
        return self.handle

    def cancel_export(self) -> None:
        """Stop the export; what was already transcoded is kept for the next run."""
        if self.handle is None:
            return
        self.runner.cancel(self.handle)
        self.progress_bar.setFormat("Cancelling…")
        self._set_bar_state("cancelled")
        self._update_buttons()

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
        self._set_bar_state(status)
        if status == "done" and report is not None:
            self.last_export = report
            self._show_report(report)
            self.progress_bar.setFormat("Done")
            failed = len(report.failed)
            text = (f"Exported '{report.plan.name if report.plan else ''}' for "
                    f"{TRAINER_LABELS.get(report.trainer, report.trainer)}: "
                    f"{report.encoded} file{'s' if report.encoded != 1 else ''} written, "
                    f"{report.reused} kept, {report.removed} removed; "
                    f"{report.total_items:,} items and {report.total_batches:,} batches per "
                    f"epoch.")
            if failed:
                text += f" {failed} item{'s' if failed != 1 else ''} failed: see Warnings."
            self._show_banner(text, WARNING_COLOR if failed else OK_COLOR)
            self.config_edit.setText(str(report.config_path or ""))
            self.result_row.show()
            self.train_hint.show()
            self.out_edit.setText(str(report.out_dir or self.out_edit.text()))
        elif status == "cancelled":
            self.progress_bar.setFormat("Cancelled")
            self._show_banner("Cancelled: the previous export in this folder is unchanged; "
                              "clips finished so far are kept for the next run.", WARNING_COLOR)
        else:
            self.progress_bar.setFormat("Failed")
            reason = next((line for line in reversed(handle.log)
                           if line.strip() and not line.startswith(" ")
                           and "failed after" not in line), "see the Jobs tab")
            self._show_banner(f"The export failed: {reason}", ERROR_COLOR)
        self._update_buttons()
        self.export_finished.emit(status)

    def _set_bar_state(self, state: str) -> None:
        self.progress_bar.setProperty("state", state)
        self.progress_bar.style().unpolish(self.progress_bar)
        self.progress_bar.style().polish(self.progress_bar)

    def _show_banner(self, text: str, color: str) -> None:
        tint = QColor(color)
        self.banner.setStyleSheet(
            f"color: {color}; background: rgba({tint.red()},{tint.green()},{tint.blue()},28);"
            f"border: 1px solid rgba({tint.red()},{tint.green()},{tint.blue()},90);")
        self.banner.setText(text)
        self.banner.show()

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
        self.use_size_button.setEnabled(
            index is not None and bool(self.helper_table.selectionModel().selectedRows()))

    def _notice(self, text: str, color: str = MUTED_COLOR) -> None:
        self.notice.setStyleSheet(f"color: {color};")
        self.notice.setText(text)
        self.notice.setVisible(bool(text))

    def shutdown(self) -> None:
        """Stop counting; a runner this panel made is cancelled and waited for."""
        self._closing = True
        self._recount_timer.stop()
        if self._count is not None:
            thread, worker = self._count
            try:
                worker.finished.disconnect(self._on_counted)
            except (RuntimeError, TypeError):
                pass
            self._finish_count_thread()
        self.shutdown_runner()


__all__ = ["COLUMNS", "CountRequest", "CountResult", "CountWorker", "ExportPanel",
           "SectionDelegate", "buckets_text", "cell_change", "cell_text", "count_export",
           "edit_section", "format_size", "parse_selection", "parse_size", "parse_targets",
           "plan_with_sections", "section_entry", "selection_text", "unique_name",
           "warning_clip_id", "warning_group"]
