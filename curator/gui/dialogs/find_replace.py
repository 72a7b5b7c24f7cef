"""Find and replace across captions, with a preview of every change before anything is saved.

The search runs on a pool thread (`curator.core.caption_edit.find_replacements`, which reads
the catalog page by page) so typing stays smooth with a large library; a newer search cancels
the older one. "Replace" saves each change as a new manual caption version
(`apply_replacements`) as a job of the window's `JobRunner`, so it shows in the jobs panel and
can be cancelled; every edited caption keeps its history and can be restored.
"""

from __future__ import annotations

import difflib
import html
import re
from collections.abc import Sequence

from PySide6.QtCore import QModelIndex, QSize, Qt, Signal
from PySide6.QtGui import QAbstractTextDocumentLayout, QPainter, QPalette, QTextDocument
from PySide6.QtWidgets import (
    QAbstractItemView,
    QCheckBox,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QPushButton,
    QStyle,
    QStyledItemDelegate,
    QStyleOptionViewItem,
    QTreeWidget,
    QTreeWidgetItem,
    QVBoxLayout,
    QWidget,
)

from curator.core.caption_edit import (
    CaptionChange,
    CaptionEditError,
    ReplaceReport,
    apply_replacements,
    find_replacements,
)
from curator.core.catalog import Catalog
from curator.core.jobs import CancelToken
from curator.gui.latest import LatestRun, single_shot
from curator.gui.widgets.layout import line_edit
from curator.gui.workers import JobHandle, JobRunner

PREVIEW_ROWS = 500  # rows listed; every change is applied
SEARCH_DELAY_MS = 250
CONTEXT_CHARS = 36
_DEL = "background:#5c1a1a;color:#ffa198;text-decoration:line-through;"
_INS = "background:#12361f;color:#7ee787;"
_TOKENS = re.compile(r"\w+|\s+|[^\w\s]")


def change_snippets(before: str, after: str, context: int = CONTEXT_CHARS) -> tuple[str, str]:
    """HTML of the changed parts of a caption, before and after, with a little context.

    Removed text is struck through in red, inserted text green; long unchanged stretches are
    shortened to `context` characters around each change, joined with an ellipsis.

    Returns:
        (before_html, after_html).
    """
    # Whole words are compared, so "red" → "blue" reads as one change, not r/e/d letters.
    a, b = _TOKENS.findall(before), _TOKENS.findall(after)
    opcodes = difflib.SequenceMatcher(None, a, b, autojunk=False).get_opcodes()
    parts_a: list[str] = []
    parts_b: list[str] = []
    last = len(opcodes) - 1
    for n, (tag, i1, i2, j1, j2) in enumerate(opcodes):
        if tag == "equal":
            text = "".join(a[i1:i2])
            if n == 0 and len(text) > context:
                text = "…" + text[-context:]
            elif n == last and len(text) > context:
                text = text[:context] + "…"
            elif 0 < n < last and len(text) > 2 * context:
                text = text[:context] + " … " + text[-context:]
            parts_a.append(html.escape(text))
            parts_b.append(html.escape(text))
            continue
        if i2 > i1:
            parts_a.append(f'<span style="{_DEL}">{html.escape("".join(a[i1:i2]))}</span>')
        if j2 > j1:
            parts_b.append(f'<span style="{_INS}">{html.escape("".join(b[j1:j2]))}</span>')
    return "".join(parts_a), "".join(parts_b)


class RichTextDelegate(QStyledItemDelegate):
    """Paints an item's text as one line of HTML (the preview's highlighted snippets)."""

    def paint(self, painter: QPainter, option: QStyleOptionViewItem,
              index: QModelIndex) -> None:
        options = QStyleOptionViewItem(option)
        self.initStyleOption(options, index)
        doc = QTextDocument()
        doc.setDocumentMargin(2)
        doc.setDefaultFont(options.font)
        doc.setHtml(options.text)
        options.text = ""
        style = options.widget.style() if options.widget else QWidget().style()
        style.drawControl(QStyle.ControlElement.CE_ItemViewItem, options, painter, options.widget)
        context = QAbstractTextDocumentLayout.PaintContext()
        if options.state & QStyle.StateFlag.State_Selected:
            context.palette.setColor(QPalette.ColorRole.Text,
                                     options.palette.color(QPalette.ColorRole.HighlightedText))
        else:
            context.palette.setColor(QPalette.ColorRole.Text,
                                     options.palette.color(QPalette.ColorRole.Text))
        rect = style.subElementRect(QStyle.SubElement.SE_ItemViewItemText, options,
                                    options.widget)
        painter.save()
        painter.translate(rect.topLeft())
        painter.setClipRect(rect.translated(-rect.topLeft()))
        doc.documentLayout().draw(painter, context)
        painter.restore()

    def sizeHint(self, option: QStyleOptionViewItem, index: QModelIndex) -> QSize:
        size = super().sizeHint(option, index)
        return QSize(size.width(), max(size.height(), option.fontMetrics.height() + 8))


def _search(catalog: Catalog, generation: int, kwargs: dict[str, object],
            cancel: CancelToken) -> tuple[int, list[CaptionChange], str, bool]:
    """One preview search (off the GUI thread): (generation, changes, error, cancelled)."""
    try:
        changes = find_replacements(catalog, cancel=cancel, **kwargs)
    except CaptionEditError as exc:
        return generation, [], str(exc), cancel.cancelled
    except Exception as exc:  # noqa: BLE001 - shown in the dialog, never a crash
        return generation, [], f"{type(exc).__name__}: {exc}", cancel.cancelled
    return generation, changes, "", cancel.cancelled


class FindReplaceDialog(QDialog):
    """Find and replace in captions: type, check the preview, replace.

    Args:
        catalog: the project's catalog.
        job_runner: runs the replacement as a job (`curator.gui.workers.JobRunner`); without
            one, it runs at once on the GUI thread.
        clip_ids: the browser's selection, offered as a scope.

    Signals:
        applied(object): the `ReplaceReport` once the replacement has ended.
    """

    applied = Signal(object)

    def __init__(self, catalog: Catalog, job_runner: JobRunner | None = None,
                 parent: QWidget | None = None, *, clip_ids: Sequence[int] = ()) -> None:
        super().__init__(parent)
        self.setObjectName("findReplaceDialog")
        self.setWindowTitle("Find and replace in captions")
        self.resize(860, 560)
        self.catalog = catalog
        self.job_runner = job_runner
        self.clip_ids = list(clip_ids)
        self._changes: list[CaptionChange] = []
        self._generation = 0
        self._cancel = CancelToken()
        self._searching = False
        self._job = None
        self._last_note = ""
        self._searches = LatestRun("caption-search", self)  # the newest search wins
        self._searches.finished.connect(self._on_found)
        self._timer = single_shot(SEARCH_DELAY_MS, self.search, self)
        self._build()
        self._update_buttons()

    def _build(self) -> None:
        layout = QVBoxLayout(self)
        form = QFormLayout()
        self.find_edit = line_edit("findText", "text to find", clear_button=True)
        self.replace_edit = line_edit("replaceText", "replace with (empty: delete)")
        form.addRow("Find:", self.find_edit)
        form.addRow("Replace with:", self.replace_edit)
        layout.addLayout(form)

        options = QHBoxLayout()
        self.regex_box = QCheckBox("Regular expression")
        self.regex_box.setToolTip("Python regular expression; \\1 or \\g<name> in the "
                                  "replacement insert groups")
        self.case_box = QCheckBox("Match case")
        self.tidy_box = QCheckBox("Tidy spaces")
        self.tidy_box.setChecked(True)
        self.tidy_box.setToolTip("Collapse the double spaces a deletion leaves, trim the ends")
        self.scope_box = QComboBox()
        self.scope_box.setObjectName("replaceScope")
        self.scope_box.addItem("Clips", ("clips", False))
        self.scope_box.addItem("Images", ("images", False))
        self.scope_box.addItem("Clips and images", ("all", False))
        if self.clip_ids:
            self.scope_box.addItem(f"Selected clips ({len(self.clip_ids)})", ("clips", True))
        for w in (self.regex_box, self.case_box, self.tidy_box):
            options.addWidget(w)
        options.addStretch(1)
        options.addWidget(QLabel("In:"))
        options.addWidget(self.scope_box)
        layout.addLayout(options)

        self.summary = QLabel("Type what to find.")
        self.summary.setObjectName("replaceSummary")
        layout.addWidget(self.summary)
        self.preview = QTreeWidget()
        self.preview.setObjectName("replacePreview")
        self.preview.setRootIsDecorated(False)
        self.preview.setUniformRowHeights(True)
        self.preview.setAlternatingRowColors(True)
        self.preview.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.preview.setHeaderLabels(["Item", "Before", "After"])
        delegate = RichTextDelegate(self.preview)
        self.preview.setItemDelegateForColumn(1, delegate)
        self.preview.setItemDelegateForColumn(2, delegate)
        header = self.preview.header()
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.Interactive)
        header.setSectionResizeMode(1, QHeaderView.ResizeMode.Stretch)
        header.setSectionResizeMode(2, QHeaderView.ResizeMode.Stretch)
        self.preview.setColumnWidth(0, 170)
        layout.addWidget(self.preview, 1)

        buttons = QDialogButtonBox()
        self.replace_button = QPushButton("Replace")
        self.replace_button.setObjectName("replaceAll")
        self.replace_button.setDefault(False)
        self.replace_button.setAutoDefault(False)
        self.replace_button.clicked.connect(self.apply)
        buttons.addButton(self.replace_button, QDialogButtonBox.ButtonRole.ActionRole)
        close = buttons.addButton(QDialogButtonBox.StandardButton.Close)
        close.setAutoDefault(False)
        buttons.rejected.connect(self.reject)
        layout.addWidget(buttons)

        self.find_edit.textChanged.connect(self._schedule)
        self.replace_edit.textChanged.connect(self._schedule)
        for box in (self.regex_box, self.case_box, self.tidy_box):
            box.toggled.connect(self._schedule)
        self.scope_box.currentIndexChanged.connect(self._schedule)
        self.find_edit.returnPressed.connect(self.search)

    # --- searching -------------------------------------------------------------------------

    def _schedule(self) -> None:
        self._timer.start()
        self._update_buttons()

    def search_arguments(self) -> dict[str, object]:
        scope, selected = self.scope_box.currentData()
        return {"find": self.find_edit.text(), "replace": self.replace_edit.text(),
                "regex": self.regex_box.isChecked(),
                "case_sensitive": self.case_box.isChecked(), "scope": scope,
                "clip_ids": self.clip_ids if selected else None,
                "tidy": self.tidy_box.isChecked()}

    def search(self) -> None:
        """Compute the preview now (on a pool thread); an older search is cancelled."""
        self._timer.stop()
        self._cancel.cancel()
        self._generation += 1
        if not self.find_edit.text():
            self._show([], "")
            self.summary.setText("Type what to find.")
            return
        self._cancel = CancelToken()
        self._searching = True
        self.summary.setText("Searching…")
        self._update_buttons()
        catalog, generation = self.catalog, self._generation
        kwargs, cancel = self.search_arguments(), self._cancel
        self._searches.submit(lambda: _search(catalog, generation, kwargs, cancel))

    def is_searching(self) -> bool:
        return self._searching or self._timer.isActive()

    def _on_found(self, found: tuple[int, list[CaptionChange], str, bool]) -> None:
        generation, changes, error, cancelled = found
        if generation != self._generation or cancelled:
            return
        self._searching = False
        self._show(changes, error)

    def _show(self, changes: list[CaptionChange], error: str) -> None:
        self._changes = list(changes)
        self.preview.clear()
        for change in self._changes[:PREVIEW_ROWS]:
            before, after = change_snippets(change.before, change.after)
            item = QTreeWidgetItem([change.label, before, after])
            item.setToolTip(0, f"{change.kind} {change.item_id}: {change.matches} "
                               f"match{'es' if change.matches > 1 else ''}")
            item.setToolTip(1, change.before)
            item.setToolTip(2, change.after)
            item.setData(0, Qt.ItemDataRole.UserRole, change)
            self.preview.addTopLevelItem(item)
        if error:
            self.summary.setText(error)
            self.summary.setStyleSheet("color: #f85149;")
        else:
            self.summary.setStyleSheet("")
            n = len(self._changes)
            matches = sum(c.matches for c in self._changes)
            if n == 0:  # right after a replace: the matches are gone, not "no changes"
                text = "Nothing left to replace." if self._last_note else \
                    "No caption matches."
            else:
                shown = f" (the first {PREVIEW_ROWS} are listed)" if n > PREVIEW_ROWS else ""
                text = (f"{matches} match{'es' if matches != 1 else ''} in {n} "
                        f"caption{'s' if n != 1 else ''}{shown}. Each change is saved as a new "
                        "version: the caption history keeps the old text.")
            if self._last_note:
                text, self._last_note = f"{self._last_note} {text}", ""
            self.summary.setText(text)
        self._update_buttons()

    def changes(self) -> list[CaptionChange]:
        return list(self._changes)

    def _update_buttons(self) -> None:
        n = len(self._changes)
        busy = self._searching or self._timer.isActive() or self._job is not None
        self.replace_button.setEnabled(n > 0 and not busy)
        self.replace_button.setText(f"Replace in {n} caption{'s' if n != 1 else ''}"
                                    if n else "Replace")

    # --- applying --------------------------------------------------------------------------

    def apply(self) -> None:
        """Save every previewed change as a new manual version (as a job when possible)."""
        changes = list(self._changes)
        if not changes or self.is_searching():
            return
        find = self.find_edit.text()
        title = f"Replace “{find}” in {len(changes)} caption{'s' if len(changes) != 1 else ''}"
        if self.job_runner is not None:
            self._job = self.job_runner.start("caption", title, apply_replacements,
                              on_finished=self._on_job_finished, catalog=self.catalog,
                              changes=changes)
            self.summary.setText("Replacing…")
            self._update_buttons()
            return
        self._finish(apply_replacements(self.catalog, changes))

    def _on_job_finished(self, handle: JobHandle) -> None:
        self._job = None
        report = handle.report
        self._finish(report if isinstance(report, ReplaceReport) else ReplaceReport())

    def _finish(self, report: ReplaceReport) -> None:
        note = f"Replaced in {report.done} caption{'s' if report.done != 1 else ''}."
        if report.failed:
            note += f" {len(report.failed)} left as they were (edited meanwhile)."
        if report.cancelled:
            note += " Cancelled."
        self._last_note = note
        self.applied.emit(report)
        self.search()  # the preview now shows what is left to change (usually nothing)

    def done(self, result: int) -> None:
        self._cancel.cancel()
        self._searches.shutdown()
        super().done(result)

    def shutdown(self) -> None:
        self._cancel.cancel()
        self._searches.shutdown()
