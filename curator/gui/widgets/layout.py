"""Layouts and controls the tabs and panels build the same way: a captioned row of controls,
a flush column, a named button with its tooltip and action."""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtWidgets import QHBoxLayout, QLabel, QPushButton, QVBoxLayout, QWidget


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




def push_button(text: str, name: str, tip: str, on_click: Callable[..., object]) -> QPushButton:
    """A named button with its tooltip, calling `on_click` when pressed."""
    button = QPushButton(text)
    button.setObjectName(name)
    button.setToolTip(tip)
    button.clicked.connect(on_click)
    return button
