"""The grid's tile size: a slider in the browser's bottom bar, Ctrl+= / Ctrl+- and Ctrl+wheel.

On 1920×1080 the 192-px tiles left the grid half empty; on 1280×720 a person wants more of
them. The size is a thumbnail width (16:9), one of a few steps so tiles stay crisp; the window
remembers it per user.
"""

from __future__ import annotations

from PySide6.QtCore import QSize, Qt, Signal
from PySide6.QtWidgets import QHBoxLayout, QLabel, QSlider, QWidget

#: Thumbnail widths a tile can have; the thumbnails on disk are 256 px wide.
WIDTHS = (112, 144, 176, 192, 224, 256)
DEFAULT_WIDTH = 192
#: One notch of a mouse wheel (Qt's angle delta, eighths of a degree); a touchpad sends it
#: in many small parts, which must add up to a notch before the size moves a step.
WHEEL_NOTCH = 120


def thumb_size(width: int) -> QSize:
    """The 16:9 box of a thumbnail `width` pixels wide."""
    return QSize(width, round(width * 9 / 16))


def nearest_step(width: int) -> int:
    """The index of the step closest to `width` (a saved size from another version)."""
    return min(range(len(WIDTHS)), key=lambda i: abs(WIDTHS[i] - width))


class ThumbZoom(QWidget):
    """'Tiles' and a slider over the steps of `WIDTHS`; `size_changed` gives the new box."""

    size_changed = Signal(QSize)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("thumbZoom")
        row = QHBoxLayout(self)
        row.setContentsMargins(0, 0, 0, 0)
        row.setSpacing(6)
        label = QLabel("Size")
        label.setObjectName("thumbZoomLabel")
        row.addWidget(label)
        self.slider = QSlider(Qt.Orientation.Horizontal)
        self.slider.setObjectName("thumbZoomSlider")
        self.slider.setRange(0, len(WIDTHS) - 1)
        self.slider.setPageStep(1)
        self.slider.setTickPosition(QSlider.TickPosition.NoTicks)
        self.slider.setFixedWidth(64)
        self.slider.setFocusPolicy(Qt.FocusPolicy.NoFocus)  # arrow keys stay with the grid
        self.slider.setToolTip("Tile size  (Ctrl+= larger, Ctrl+- smaller, or Ctrl+wheel)")
        self.slider.setValue(WIDTHS.index(DEFAULT_WIDTH))
        self.slider.valueChanged.connect(lambda _v: self.size_changed.emit(self.box()))
        row.addWidget(self.slider)
        self._wheel = 0  # angle delta not yet turned into a step

    def wheel(self, delta: int) -> None:
        """A Ctrl+wheel turn (`angleDelta().y()`): a step per notch, however it arrives."""
        if delta * self._wheel < 0:
            self._wheel = 0  # turned back: start counting afresh
        self._wheel += delta
        steps = int(self._wheel / WHEEL_NOTCH)  # towards zero, either way
        if steps:
            self._wheel -= steps * WHEEL_NOTCH
            self.step(steps)

    def width_px(self) -> int:
        return WIDTHS[self.slider.value()]

    def box(self) -> QSize:
        """The thumbnail box of the chosen size."""
        return thumb_size(self.width_px())

    def set_width(self, width: int) -> None:
        self.slider.setValue(nearest_step(width))

    def step(self, steps: int) -> None:
        """Larger (+1) or smaller (-1) tiles; stops at the ends."""
        self.slider.setValue(max(0, min(len(WIDTHS) - 1, self.slider.value() + steps)))

    def reset(self) -> None:
        self.set_width(DEFAULT_WIDTH)
