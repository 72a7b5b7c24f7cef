"""Layouts the tabs and panels build the same way: a captioned row of controls, a flush column."""

from __future__ import annotations

from PySide6.QtWidgets import QHBoxLayout, QLabel, QVBoxLayout, QWidget


def caption_row(caption: str, spacing: int = 6) -> QHBoxLayout:
    """A row of controls led by `caption` ('Plan', 'Output folder'...) as a plain label."""
    row = QHBoxLayout()
    row.setSpacing(spacing)
    row.addWidget(QLabel(caption))
    return row


def flush_column(widget: QWidget, spacing: int, top: int = 0) -> QVBoxLayout:
    """A column set on `widget` with no side margins: it sits inside a tab, splitter or dock,
    which already gives the space around it."""
    column = QVBoxLayout(widget)
    column.setContentsMargins(0, top, 0, 0)
    column.setSpacing(spacing)
    return column


