"""The preview's transport is visible on the dark theme, and a checked toggle looks pressed."""

from __future__ import annotations

from PySide6.QtGui import QColor, QImage
from PySide6.QtWidgets import QToolButton

from curator.gui.theme import PALETTE, transport_icon
from tests.gui.test_layout_sizes import themed  # noqa: F401 - the app's own theme, put back


def luminance(color: QColor) -> float:
    def channel(c: float) -> float:
        return c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4
    return (0.2126 * channel(color.redF()) + 0.7152 * channel(color.greenF())
            + 0.0722 * channel(color.blueF()))


def contrast(a: QColor, b: QColor) -> float:
    high, low = sorted((luminance(a), luminance(b)), reverse=True)
    return (high + 0.05) / (low + 0.05)


def test_transport_icons_stand_out_from_the_panel(qapp):
    from PySide6.QtGui import QPalette

    background = QColor(PALETTE[QPalette.ColorRole.Window])
    for kind in ("back", "play", "pause", "forward"):
        image = transport_icon(kind).pixmap(20, 20).toImage().convertToFormat(
            QImage.Format.Format_ARGB32)
        drawn = [image.pixelColor(x, y) for x in range(20) for y in range(20)
                 if image.pixelColor(x, y).alpha() == 255]
        assert len(drawn) > 40, kind  # a real shape, not a speck
        assert min(contrast(c, background) for c in drawn) >= 7.0, kind


def average(button: QToolButton) -> QColor:
    image = button.grab().toImage()
    w, h = image.width(), image.height()
    points = [image.pixelColor(x, y) for x in range(4, w - 4, 3) for y in (3, h - 4)]
    return QColor(sum(p.red() for p in points) // len(points),
                  sum(p.green() for p in points) // len(points),
                  sum(p.blue() for p in points) // len(points))


def test_a_checked_toggle_looks_pressed(qtbot, themed):  # noqa: F811
    button = QToolButton()
    button.setText("Trainer view")
    button.setCheckable(True)
    qtbot.addWidget(button)
    button.show()
    off = average(button)
    button.setChecked(True)
    on = average(button)
    assert contrast(on, off) >= 1.8 and on.blue() > on.red() + 40  # the accent's blue, filled
