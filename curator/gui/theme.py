"""The window's one theme: the status colours every tab uses and the stylesheets (the app's,
and each tab's, scoped by the tab's object name). Colours are named once here."""

from __future__ import annotations

from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtGui import QColor, QFont, QIcon, QPainter, QPalette, QPixmap, QPolygonF
from PySide6.QtWidgets import QApplication, QStyleFactory

ERROR_COLOR = "#f85149"
WARNING_COLOR = "#d29922"
OK_COLOR = "#3fb950"
MUTED_COLOR = "#8b949e"
ACCENT_COLOR = "#2f81f7"
DIM_COLOR = "#6e7681"
TEXT_COLOR = "#e6edf3"

# Dark, neutral, high-contrast enough for long sessions; status colours stay the only colour.
PALETTE = {
    QPalette.ColorRole.Window: "#161b22",
    QPalette.ColorRole.WindowText: "#e6edf3",
    QPalette.ColorRole.Base: "#0f1419",
    QPalette.ColorRole.AlternateBase: "#151b23",
    QPalette.ColorRole.ToolTipBase: "#21262d",
    QPalette.ColorRole.ToolTipText: "#e6edf3",
    QPalette.ColorRole.PlaceholderText: "#8b949e",
    QPalette.ColorRole.Text: "#e6edf3",
    QPalette.ColorRole.Button: "#21262d",
    QPalette.ColorRole.ButtonText: "#e6edf3",
    QPalette.ColorRole.BrightText: "#ffffff",
    QPalette.ColorRole.Highlight: "#2f81f7",
    QPalette.ColorRole.HighlightedText: "#ffffff",
    QPalette.ColorRole.Link: "#58a6ff",
    QPalette.ColorRole.Mid: "#30363d",
    QPalette.ColorRole.Dark: "#0d1117",
    QPalette.ColorRole.Light: "#30363d",
    QPalette.ColorRole.Midlight: "#262c34",
    QPalette.ColorRole.Shadow: "#010409",
}

STYLESHEET = """
QMainWindow::separator { background: #0d1117; width: 4px; height: 4px; }
QDockWidget { titlebar-close-icon: none; font-weight: 600; }
QDockWidget::title { background: #1c2128; padding: 5px 8px; border-bottom: 1px solid #30363d; }
QTabBar::tab { background: #1c2128; color: #8b949e; padding: 5px 14px; border: none; }
QTabBar::tab:selected { color: #e6edf3; border-bottom: 2px solid #2f81f7; }
#filterBar, #browserActions { background: #1c2128; }
#filterBar QToolButton[statusTab] {
    padding: 4px 10px; border-radius: 12px; border: 1px solid #30363d; background: #21262d;
}
#filterBar QToolButton[statusTab]:checked { background: #2f81f7; border-color: #2f81f7;
    color: white; }
#filterBar QToolButton[statusTab="pending"] { color: #c9d1d9; }
#filterBar QToolButton[statusTab="accepted"] { color: #3fb950; }
#filterBar QToolButton[statusTab="rejected"] { color: #f85149; }
#filterBar QToolButton[statusTab]:checked { color: white; }
#captionedCounter, #browserSummary { color: #8b949e; }
QLineEdit, QComboBox, QPlainTextEdit, QTextEdit {
    border: 1px solid #30363d; border-radius: 4px; padding: 3px 6px; background: #0d1117;
}
QAbstractSpinBox { border: 1px solid #30363d; border-radius: 4px; padding: 2px 4px;
    background: #0d1117; }
QAbstractSpinBox::up-button, QAbstractSpinBox::down-button { width: 0px; border: none; }
QLineEdit:focus, QPlainTextEdit:focus, QTextEdit:focus { border-color: #2f81f7; }
QPushButton { border: 1px solid #30363d; border-radius: 5px; padding: 5px 12px;
    background: #21262d; }
QPushButton:hover { background: #30363d; }
QPushButton#decide_accepted { border-color: #238636; color: #3fb950; }
QPushButton#decide_rejected { border-color: #da3633; color: #f85149; }
QHeaderView::section { background: #1c2128; color: #8b949e; border: none;
    border-right: 1px solid #30363d; padding: 4px 6px; }
QTableView { gridline-color: #21262d; selection-background-color: #1f3b63; }
QListView#clipGrid { background: #0f1419; border: none; }
QStatusBar { background: #1c2128; color: #8b949e; }
QStatusBar QLabel { color: #8b949e; padding-right: 8px; }
QToolButton:checked { background: #1f6feb; border: 1px solid #58a6ff; border-radius: 4px;
    color: white; padding: 3px 6px; }
QSplitter::handle { background: #0d1117; }
QSplitter::handle:hover { background: #1f3b63; }
#workspaceBar { background: #0d1117; border-bottom: 1px solid #30363d; }
#workspaceBar QToolButton { padding: 5px 20px; border: 1px solid #30363d; background: #21262d;
    color: #c9d1d9; font-weight: 600; border-radius: 0px; }
#workspaceBar QToolButton[segment="first"] { border-top-left-radius: 6px;
    border-bottom-left-radius: 6px; }
#workspaceBar QToolButton[segment="mid"] { border-left: none; }
#workspaceBar QToolButton[segment="last"] { border-left: none; border-top-right-radius: 6px;
    border-bottom-right-radius: 6px; }
#workspaceBar QToolButton:hover { background: #30363d; }
#workspaceBar QToolButton:checked { background: #2f81f7; border-color: #2f81f7; color: white; }
#workspaceHint { color: #8b949e; }
#thumbZoomLabel { color: #8b949e; }
"""


def _progress(scope: str, height: str) -> str:
    return f"""
#{scope} QProgressBar {{ border: 1px solid #30363d; border-radius: 5px; background: #0d1117;
    {height} text-align: center; }}
#{scope} QProgressBar::chunk {{ background: #1f6feb; border-radius: 4px; }}
#{scope} QProgressBar[state="done"]::chunk {{ background: #238636; }}
#{scope} QProgressBar[state="failed"]::chunk {{ background: #da3633; }}
#{scope} QProgressBar[state="cancelled"]::chunk {{ background: #9e6a03; }}"""


def _run_cancel(scope: str, run: str, cancel: str, padding: str, hover: bool = False) -> str:
    hover_rule = (f"\n#{scope} QPushButton#{run}:hover {{ background: #2ea043; }}"
                  if hover else "")
    return f"""
#{scope} QPushButton#{run} {{ background: #238636; border-color: #2ea043; color: white;
    font-weight: 600; padding: {padding}; }}{hover_rule}
#{scope} QPushButton#{run}:disabled {{ background: #21262d; border-color: #30363d;
    color: {DIM_COLOR}; }}
#{scope} QPushButton#{cancel}:enabled {{ border-color: #da3633; color: {ERROR_COLOR}; }}"""


def _stats(scope: str) -> str:
    return f"""
#{scope} QLabel[role="statCaption"] {{ color: {MUTED_COLOR}; }}
#{scope} QLabel[role="statValue"] {{ font-size: 15px; font-weight: 600; }}
#{scope} QFrame[role="stat"] {{ background: #1c2128; border-radius: 6px; }}"""


def _checkbox(scope: str) -> str:
    return f"""
#{scope} QCheckBox::indicator {{ width: 14px; height: 14px; border: 1px solid {DIM_COLOR};
    border-radius: 3px; background: #0d1117; }}
#{scope} QCheckBox::indicator:checked {{ background: {ACCENT_COLOR};
    border-color: {ACCENT_COLOR}; image: none; }}"""


def _framed(scope: str, selector: str) -> str:
    return (f"\n#{scope} {selector} {{ background: #0d1117; border: 1px solid #30363d;\n"
            f"    border-radius: 4px; }}")


EXPORT_STYLE = (
    f'\n#exportPanel QLabel[role="section"] {{ color: {MUTED_COLOR}; font-weight: 700; }}'
    + _stats("exportPanel")
    + f"\n#exportPanel QLabel#planDescription, #exportPanel QLabel#countState "
      f"{{ color: {MUTED_COLOR}; }}"
    + "\n#exportPanel QLabel#exportBanner { border-radius: 5px; padding: 6px 10px; }"
    + _progress("exportPanel", "min-height: 20px;")
    + _run_cancel("exportPanel", "exportButton", "cancelExport", "5px 16px")
    + "\n#exportPanel QTableView#sectionTable { background: #0d1117; "
      "border: 1px solid #30363d;\n    border-radius: 4px; alternate-background-color: #11161d; }"
    + "\n#exportPanel QTableView#sectionTable::item { padding: 0px 4px; }"
    + _framed("exportPanel", "QTableWidget#helperTable")
    + _framed("exportPanel", "QListView#warningList")
    + "\n#exportPanel QListView#warningList::item { padding: 3px 2px; "
      "border-bottom: 1px solid #161b22; }"
    + "\n#exportPanel QListView#warningList::item:selected { background: #1f3b63; }"
    + "\n#exportPanel QToolButton { border: 1px solid #30363d; border-radius: 5px; "
      "background: #21262d;\n    padding: 3px 8px; }"
    + "\n#exportPanel QToolButton:hover { background: #30363d; }"
    + f"\n#exportPanel QToolButton:disabled {{ color: {DIM_COLOR}; }}"
    + "\n#exportPanel QFrame#resultBox { background: #161b22; border: 1px solid #30363d;\n"
      "    border-radius: 6px; }\n")

TRAIN_STYLE = (
    f'\n#trainPanel QLabel[role="section"] {{ color: {MUTED_COLOR}; font-weight: 700; '
    f"padding-top: 10px; }}"
    + '\n#trainPanel QLabel[role="fieldMessage"] { padding: 1px 2px 3px 2px; }'
    + _stats("trainPanel")
    + "\n#trainPanel QLabel#runTitle { font-size: 14px; font-weight: 600; }"
    + "\n#trainPanel QLabel#runBanner { border-radius: 5px; padding: 6px 10px; }"
    + _progress("trainPanel", "min-height: 20px;")
    + _run_cancel("trainPanel", "runButton", "cancelButton", "5px 16px")
    + _checkbox("trainPanel")
    + _framed("trainPanel", "QListWidget#problemList") + "\n")

CAPTION_STYLE = (
    f'\n#captionJobPanel QLabel[role="section"] {{ color: {MUTED_COLOR}; font-weight: 700; '
    f"padding-top: 4px; }}"
    + f'\n#captionJobPanel QLabel[role="hint"] {{ color: {MUTED_COLOR}; }}'
    + '\n#captionJobPanel QFrame[role="card"] { background: #1c2128; border: 1px solid #262c34;\n'
      "    border-radius: 6px; }"
    + '\n#captionJobPanel QFrame[role="card"] QLabel { background: transparent; }'
    + "\n#captionJobPanel QLabel#runStatus { font-weight: 600; }"
    + "\n#captionJobPanel QLabel#errorBanner { background: #3d1d20; border: 1px solid #da3633;\n"
      "    color: #ffdcd7; border-radius: 5px; padding: 6px 10px; }"
    + '\n#captionJobPanel QLabel#errorBanner[level="warning"] { background: #332a12;\n'
      "    border-color: #9e6a03; color: #f0d28a; }"
    + _progress("captionJobPanel", "min-height: 18px; max-height: 18px;")
    + _run_cancel("captionJobPanel", "startButton", "cancelButton", "5px 18px", hover=True)
    + _checkbox("captionJobPanel")
    + "\n#captionJobPanel QCheckBox::indicator:disabled { border-color: #30363d; "
      "background: #161b22; }"
    + _framed("captionJobPanel", "QTreeWidget#liveCaptions")
    + "\n#captionJobPanel QTreeWidget#liveCaptions::item { padding: 2px 0px; }"
    + "\n#captionJobPanel QTabWidget::pane { border: 1px solid #30363d; border-top: none; }"
    + "\n#captionJobPanel QPlainTextEdit { border-top-left-radius: 0px; "
      "border-top-right-radius: 0px; }\n")


def transport_icon(kind: str, size: int = 20) -> QIcon:
    """'play', 'pause', 'back' or 'forward' (a frame step) drawn in the text colour: Fusion's
    own media icons are dark grey, nearly invisible on this theme. Dimmed when disabled."""
    icon = QIcon()
    for mode, color in ((QIcon.Mode.Normal, TEXT_COLOR), (QIcon.Mode.Disabled, DIM_COLOR)):
        icon.addPixmap(_transport_pixmap(kind, size, QColor(color)), mode)
    return icon


def _transport_pixmap(kind: str, size: int, color: QColor) -> QPixmap:
    pixmap = QPixmap(size, size)
    pixmap.fill(Qt.GlobalColor.transparent)
    painter = QPainter(pixmap)
    painter.setRenderHint(QPainter.RenderHint.Antialiasing)
    painter.setPen(Qt.PenStyle.NoPen)
    painter.setBrush(color)
    s = float(size)
    if kind == "pause":
        for left in (0.22, 0.58):
            painter.drawRoundedRect(QRectF(s * left, s * 0.18, s * 0.2, s * 0.64), 1.5, 1.5)
    elif kind == "play":
        painter.drawPolygon(QPolygonF([QPointF(s * 0.25, s * 0.15), QPointF(s * 0.85, s * 0.5),
                                       QPointF(s * 0.25, s * 0.85)]))
    else:  # a frame step: a bar, then a triangle pointing away from it
        forward = kind == "forward"
        bar_x, tip, base = (0.72, 0.68, 0.2) if forward else (0.14, 0.32, 0.8)
        painter.drawRect(QRectF(s * bar_x, s * 0.2, s * 0.14, s * 0.6))
        painter.drawPolygon(QPolygonF([QPointF(s * base, s * 0.2), QPointF(s * tip, s * 0.5),
                                       QPointF(s * base, s * 0.8)]))
    painter.end()
    return pixmap


def apply_theme(app: QApplication) -> None:
    """Fusion with a dark palette, readable default font, and the app's stylesheet."""
    app.setStyle(QStyleFactory.create("Fusion"))
    palette = QPalette()
    for role, color in PALETTE.items():
        palette.setColor(role, QColor(color))
    for role in (QPalette.ColorRole.Text, QPalette.ColorRole.ButtonText,
                 QPalette.ColorRole.WindowText):
        palette.setColor(QPalette.ColorGroup.Disabled, role, QColor(DIM_COLOR))
    app.setPalette(palette)
    font = app.font()
    if font.pointSizeF() < 10:
        font.setPointSizeF(10)
    font.setStyleHint(QFont.StyleHint.SansSerif)
    app.setFont(font)
    app.setStyleSheet(STYLESHEET)
