"""Colours for the Train tab's text: commands (options, variables) and the trainer's log."""

from __future__ import annotations

from PySide6.QtGui import (
    QColor,
    QFont,
    QSyntaxHighlighter,
    QTextCharFormat,
    QTextDocument,
)

from curator.gui.theme import (
    DIM_COLOR,
    ERROR_COLOR,
    MUTED_COLOR,
    OK_COLOR,
    WARNING_COLOR,
)


class CommandHighlighter(QSyntaxHighlighter):
    """Comments dim, options blue, so a long argv can be scanned."""

    def __init__(self, document: QTextDocument) -> None:
        super().__init__(document)
        self.comment = QTextCharFormat()
        self.comment.setForeground(QColor(MUTED_COLOR))
        self.option = QTextCharFormat()
        self.option.setForeground(QColor("#79c0ff"))
        self.env = QTextCharFormat()
        self.env.setForeground(QColor("#d2a8ff"))

    def highlightBlock(self, text: str) -> None:
        if text.startswith("#"):
            self.setFormat(0, len(text), self.comment)
            return
        position = 0
        for word in text.split(" "):
            if word.startswith("--"):
                self.setFormat(position, len(word), self.option)
            elif "=" in word and position == 0 or (word.isupper() and "=" in word):
                self.setFormat(position, len(word), self.env)
            position += len(word) + 1


class LogHighlighter(QSyntaxHighlighter):
    """Errors red, warnings amber, epochs and checkpoints green, logging prefixes dim."""

    def __init__(self, document: QTextDocument) -> None:
        super().__init__(document)

        def fmt(color: str, bold: bool = False) -> QTextCharFormat:
            f = QTextCharFormat()
            f.setForeground(QColor(color))
            if bold:
                f.setFontWeight(QFont.Weight.Bold)
            return f

        self.error, self.warning = fmt(ERROR_COLOR), fmt(WARNING_COLOR)
        self.good, self.dim, self.step = fmt(OK_COLOR), fmt(DIM_COLOR), fmt("#79c0ff", True)

    def highlightBlock(self, text: str) -> None:
        stripped = text.lstrip()
        if stripped.startswith("== "):
            self.setFormat(0, len(text), self.step)
        elif ("Error" in text or "Traceback" in text or stripped.startswith(("ERROR", "File "))
              or "Exception" in text):
            self.setFormat(0, len(text), self.error)
        elif stripped.startswith("WARNING") or "warning" in stripped[:40].lower():
            self.setFormat(0, len(text), self.warning)
        elif stripped.startswith(("epoch ", "saving checkpoint", "model saved")) or \
                text.endswith("model saved."):
            self.setFormat(0, len(text), self.good)
        elif stripped.startswith("INFO:"):
            cut = stripped.find(":", 5)
            start = len(text) - len(stripped)
            if cut > 0:
                self.setFormat(start, cut + 1, self.dim)


