"""Layouts and controls the tabs and panels build the same way: a captioned row of controls,
a flush column, a named button with its tooltip and action."""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QHBoxLayout,
    QLabel,
    QPlainTextEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from curator.gui.widgets.job_bar import mono_font


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


def note_label(name: str, text: str = "") -> QLabel:
    """A named label for messages (status, banners, details): wrapped, its text selectable so
    a path or an error can be copied."""
    label = QLabel(text)
    label.setObjectName(name)
    label.setWordWrap(True)
    label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
    return label


def text_view(name: str, placeholder: str = "", *, wrap: bool = False) -> QPlainTextEdit:
    """A named read-only text view in the fixed-width font (commands, a config, a log)."""
    view = QPlainTextEdit()
    view.setObjectName(name)
    view.setReadOnly(True)
    view.setFont(mono_font())
    view.setLineWrapMode(QPlainTextEdit.LineWrapMode.WidgetWidth if wrap
                         else QPlainTextEdit.LineWrapMode.NoWrap)
    if placeholder:
        view.setPlaceholderText(placeholder)
    return view
