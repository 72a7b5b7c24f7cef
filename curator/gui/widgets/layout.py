"""Layouts and controls the tabs and panels build the same way: a captioned row of controls,
a flush column, panes side by side, named buttons and line edits with their tooltips."""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPlainTextEdit,
    QPushButton,
    QSplitter,
    QStyle,
    QToolButton,
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


def flush_column(widget: QWidget, spacing: int | None, top: int = 0) -> QVBoxLayout:
    """A column set on `widget` with no side margins: it sits inside a tab, splitter or dock,
    which already gives the space around it (spacing None: the style's)."""
    column = QVBoxLayout(widget)
    column.setContentsMargins(0, top, 0, 0)
    if spacing is not None:
        column.setSpacing(spacing)
    return column


def side_by_side(widget: QWidget, *panes: tuple[QWidget, int],
                 margins: tuple[int, int, int, int] = (0, 0, 0, 0)) -> QSplitter:
    """Fill `widget` with a horizontal splitter of `(pane, stretch)`s, the user's to resize."""
    layout = QHBoxLayout(widget)
    layout.setContentsMargins(*margins)
    splitter = QSplitter(Qt.Orientation.Horizontal)
    for index, (pane, stretch) in enumerate(panes):
        splitter.addWidget(pane)
        splitter.setStretchFactor(index, stretch)
    layout.addWidget(splitter)
    return splitter


def push_button(text: str, name: str, tip: str, on_click: Callable[..., object], *,
                icon: QStyle.StandardPixmap | None = None) -> QPushButton:
    """A named button with its tooltip (and one of the style's icons), calling `on_click`."""
    button = QPushButton(text)
    button.setObjectName(name)
    button.setToolTip(tip)
    if icon is not None:
        button.setIcon(button.style().standardIcon(icon))
    button.clicked.connect(on_click)
    return button


def tool_button(text: str, name: str, tip: str,
                on_click: Callable[..., object] | None = None, *,
                checkable: bool = False) -> QToolButton:
    """A small named button with its tooltip: calls `on_click` when pressed, or toggles."""
    button = QToolButton()
    button.setText(text)
    if name:
        button.setObjectName(name)
    if tip:
        button.setToolTip(tip)
    button.setCheckable(checkable)
    if on_click is not None:
        button.clicked.connect(on_click)
    return button


def line_edit(name: str, placeholder: str = "", tip: str = "", *, text: str = "",
              clear_button: bool = False) -> QLineEdit:
    """A named one-line text field holding `text`, with its placeholder and tooltip."""
    edit = QLineEdit(text)
    if name:
        edit.setObjectName(name)
    edit.setPlaceholderText(placeholder)
    if tip:
        edit.setToolTip(tip)
    edit.setClearButtonEnabled(clear_button)
    return edit


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
