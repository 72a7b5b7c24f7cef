"""What the Caption, Export and Train tabs share in looks: status colours and stat cards."""

from __future__ import annotations

from PySide6.QtWidgets import QFrame, QLabel, QVBoxLayout

ERROR_COLOR = "#f85149"
WARNING_COLOR = "#d29922"
OK_COLOR = "#3fb950"
MUTED_COLOR = "#8b949e"


def stat_card(key: str, caption: str) -> tuple[QFrame, QLabel, QLabel]:
    """A small card with a caption over a big value (`role` properties the panels style).

    Returns:
        (the card, its caption label, its value label named `stat_<key>`).
    """
    card = QFrame()
    card.setProperty("role", "stat")
    box = QVBoxLayout(card)
    box.setContentsMargins(10, 5, 10, 6)
    box.setSpacing(0)
    title = QLabel(caption)
    title.setProperty("role", "statCaption")
    value = QLabel("–")
    value.setProperty("role", "statValue")
    value.setObjectName(f"stat_{key}")
    box.addWidget(title)
    box.addWidget(value)
    return card, title, value
