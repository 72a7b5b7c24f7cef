"""The Export tab's resolution helper: sizes that keep the clips' aspect ratio within a pixel
budget (`resolution_options`) and the bucket musubi-tuner caches each source size at."""

from __future__ import annotations

import re

from PySide6.QtCore import Qt
from PySide6.QtGui import QBrush, QColor
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QSpinBox,
    QTableWidget,
    QTableWidgetItem,
    QToolButton,
    QWidget,
)

from curator.core.export import Section, resolution_options
from curator.core.export.buckets import musubi_cache_bucket
from curator.core.export.plan_edit import buckets_text, format_size, parse_size
from curator.gui.theme import ACCENT_COLOR, MUTED_COLOR
from curator.gui.widgets.layout import caption_row, flush_column

#: Source sizes shown in the resolution helper (the most common first).
HELPER_SOURCES = 6
DEFAULT_BUDGET = 832 * 480
SizeCounts = list[tuple[tuple[int, int], int]]


class ResolutionHelper(QWidget):
    """Aspect, pixel budget and the sizes that fit; `use_size_button` applies the chosen one."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.sizes: SizeCounts = []
        layout = flush_column(self, 6, top=6)
        layout.addLayout(self._build_row())
        self.now = QLabel()
        self.now.setObjectName("helperNow")
        self.now.setWordWrap(True)
        self.now.setTextFormat(Qt.TextFormat.RichText)
        layout.addWidget(self.now)
        self.table = QTableWidget(0, 4)
        self.table.setObjectName("helperTable")
        self.table.setHorizontalHeaderLabels(
            ["Resolution", "Pixels", "Aspect", "Buckets musubi-tuner caches your clips at"])
        self.table.verticalHeader().hide()
        self.table.verticalHeader().setDefaultSectionSize(24)
        self.table.setShowGrid(False)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        header = self.table.horizontalHeader()
        header.setHighlightSections(False)
        header.setDefaultAlignment(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter)
        for i, width in enumerate((100, 90, 130)):
            header.resizeSection(i, width)
        header.setStretchLastSection(True)
        layout.addWidget(self.table, 1)

    def _build_row(self) -> QHBoxLayout:
        row = caption_row("Aspect of")
        self.aspect_combo = QComboBox()
        self.aspect_combo.setObjectName("aspectCombo")
        self.aspect_combo.setEditable(True)
        self.aspect_combo.setInsertPolicy(QComboBox.InsertPolicy.NoInsert)
        self.aspect_combo.setMinimumWidth(210)
        self.aspect_combo.lineEdit().setPlaceholderText("1920×1040 or 1.85")
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
        row.addWidget(self.use_size_button)
        return row

    def set_sizes(self, sizes: SizeCounts) -> None:
        """The accepted clips' source sizes (most common first) the aspect list offers."""
        self.sizes = sizes
        index = self.aspect_combo.currentIndex()
        text = self.aspect_combo.currentText()
        chosen = (self.aspect_combo.itemData(index)
                  if index >= 0 and self.aspect_combo.itemText(index) == text else None)
        self.aspect_combo.blockSignals(True)
        self.aspect_combo.clear()
        for size, count in sizes[:12]:
            self.aspect_combo.addItem(
                f"{format_size(size)} ({count} clip{'s' if count != 1 else ''})", size)
        listed = [size for size, _n in sizes[:12]]
        if chosen is not None and tuple(chosen) in listed:
            self.aspect_combo.setCurrentIndex(listed.index(tuple(chosen)))
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

    def source_sizes(self) -> list[tuple[int, int]]:
        return [size for size, _n in self.sizes[:HELPER_SOURCES]]

    def update_for(self, section: Section | None) -> None:
        """Recompute the sizes that keep the aspect ratio, and this section's buckets."""
        counts = dict(self.sizes)
        sources = self.source_sizes()
        if section is not None:
            picks = [(s, musubi_cache_bucket(s, section.resolution)) for s in sources]
            text = (f"<b>{section.name}</b> at {format_size(section.resolution)} "
                    f"({section.resolution[0] * section.resolution[1]:,} px): ")
            text += (buckets_text(picks, counts) if picks else
                     f"<span style='color:{MUTED_COLOR}'>no accepted clips yet</span>")
            self.now.setText(text)
        else:
            self.now.setText("")
        aspect = self.aspect()
        self.table.setRowCount(0)
        if aspect is None or (isinstance(aspect, float) and aspect <= 0):
            return
        try:
            options = resolution_options(aspect, self.budget_spin.value(), sources=sources)
        except ValueError:
            options = []
        self.table.setRowCount(len(options))
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
                self.table.setItem(row, col, item)

    def options(self) -> list[tuple[int, int]]:
        return [self.table.item(r, 0).data(Qt.ItemDataRole.UserRole)
                for r in range(self.table.rowCount())]

    def selected_size(self) -> tuple[int, int] | None:
        rows = self.table.selectionModel().selectedRows()
        if not rows:
            return None
        return self.table.item(rows[0].row(), 0).data(Qt.ItemDataRole.UserRole)

    def has_selection(self) -> bool:
        return bool(self.table.selectionModel().selectedRows())
