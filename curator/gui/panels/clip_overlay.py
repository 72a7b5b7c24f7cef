"""What the preview draws over a clip: burned-in text boxes, and the crop export applies.

`overlay_shapes` (pure) reads them from a `ClipRow`; `paint_overlay` draws them over the
picture; `CropBar` is the line under the preview where a person sees the export crop and
sets, clears or switches it off (the same `Catalog.set_clip_crop` as `curator crop --clip`).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from PySide6.QtCore import QRectF, Qt, Signal
from PySide6.QtGui import QColor, QPainter, QPainterPath, QPen
from PySide6.QtWidgets import QHBoxLayout, QSizePolicy, QSpinBox, QToolButton, QWidget

from curator.core.catalog import Catalog, CatalogError, ClipRow
from curator.core.export.crop import clip_crop
from curator.gui.widgets.elided_label import ElidedLabel

TEXT_COLOR = QColor("#f778ba")
CROP_COLOR = QColor("#d29922")


@dataclass(frozen=True)
class Shape:
    kind: str  # "text" or "crop"
    rect: tuple[int, int, int, int]  # source pixels
    label: str


def overlay_shapes(clip: ClipRow | None) -> list[Shape]:
    """The text boxes analysis found, and the crop export applies, in source pixels."""
    if clip is None:
        return []
    shapes = []
    text = (clip.analysis or {}).get("text") or {}
    for box, string in zip(text.get("boxes") or (), text.get("strings") or (), strict=False):
        if len(box) == 4:
            shapes.append(Shape("text", tuple(int(v) for v in box), string))  # type: ignore[arg-type]
    cut = clip_crop(clip)
    if cut.crop is not None:
        shapes.append(Shape("crop", cut.crop, cut.origin or ""))
    return shapes


def paint_overlay(painter: QPainter, target: QRectF, source: tuple[int, int],
                  shapes: list[Shape]) -> None:
    """Draw `shapes` over a picture of the whole source frame drawn at `target`."""
    if not shapes or source[0] <= 0 or source[1] <= 0:
        return
    sx, sy = target.width() / source[0], target.height() / source[1]

    def rect(r: tuple[int, int, int, int]) -> QRectF:
        return QRectF(target.left() + r[0] * sx, target.top() + r[1] * sy, r[2] * sx, r[3] * sy)

    painter.save()
    for shape in shapes:
        if shape.kind == "crop":
            outside = QPainterPath()
            outside.addRect(target)
            inside = QPainterPath()
            inside.addRect(rect(shape.rect))
            painter.fillPath(outside.subtracted(inside), QColor(0, 0, 0, 110))
            painter.setPen(QPen(CROP_COLOR, 1.5, Qt.PenStyle.DashLine))
        else:
            painter.setPen(QPen(TEXT_COLOR, 1.5))
        painter.setBrush(Qt.BrushStyle.NoBrush)
        painter.drawRect(rect(shape.rect))
    painter.restore()


class CropBar(QWidget):
    """The export crop of the clip shown: what it is, and X Y W H to change it.

    Emits `clip_updated` with the clip's new row after a change.
    """

    clip_updated = Signal(object)  # ClipRow

    def __init__(self, catalog: Catalog, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("cropBar")
        self.catalog = catalog
        self._clip: ClipRow | None = None
        row = QHBoxLayout(self)
        row.setContentsMargins(6, 0, 6, 2)
        row.setSpacing(4)
        self.label = ElidedLabel()
        self.label.setObjectName("cropLabel")
        # The sentence is cut short in a narrow preview (it is the tooltip too): it must not
        # hold the whole window wider than a 1280-pixel screen.
        self.label.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
        row.addWidget(self.label, 1)
        self.spins = []
        for name in ("x", "y", "w", "h"):
            spin = QSpinBox()
            spin.setObjectName(f"crop_{name}")
            spin.setPrefix(f"{name} ")
            spin.setRange(0, 16384)
            spin.setFixedWidth(72)
            row.addWidget(spin)
            self.spins.append(spin)
        self.set_button = self._button("Set", "Export this rectangle of the frame", self._set)
        self.none_button = self._button("Whole", "No crop: export the whole frame",
                                        lambda: self._apply(()))
        self.auto_button = self._button("Auto", "The measured letterbox crop (the default)",
                                        lambda: self._apply(None))
        for button in (self.set_button, self.none_button, self.auto_button):
            row.addWidget(button)
        self.show_clip(None)

    def _button(self, text: str, tip: str, slot: Callable[[], None]) -> QToolButton:
        button = QToolButton()
        button.setText(text)
        button.setToolTip(tip)
        button.clicked.connect(slot)
        return button

    def show_clip(self, clip: ClipRow | None) -> None:
        self._clip = clip
        for widget in (*self.spins, self.set_button, self.none_button, self.auto_button):
            widget.setEnabled(clip is not None)
        if clip is None:
            self.label.setText("")
            return
        cut = clip_crop(clip)
        rect = cut.crop or (0, 0, clip.width, clip.height)
        for spin, value, limit in zip(self.spins, rect, (clip.width, clip.height) * 2,
                                      strict=True):
            spin.setMaximum(limit)
            spin.setValue(value)
        words = {"person": "set by hand", "bars": "letterbox bars measured",
                 "watermark": "watermark strip", "bars+watermark": "bars and watermark strip"}
        shown = "whole frame" if cut.crop is None else \
            f"{rect[2]}×{rect[3]} at {rect[0]},{rect[1]} ({words.get(cut.origin or '', '')})"
        text = (clip.analysis or {}).get("text") or {}
        found = f" · text: {text['kind']}" if text.get("kind") else ""
        self.label.setText(f"Export crop: {shown}{found}")
        self.label.setToolTip("\n".join(filter(None, (self.label.text(), cut.warning))))

    def _set(self) -> None:
        self._apply(tuple(spin.value() for spin in self.spins))

    def _apply(self, crop: tuple[int, ...] | None) -> None:
        if self._clip is None:
            return
        try:
            row = self.catalog.set_clip_crop(self._clip.id, crop)
        except CatalogError as exc:
            self.label.setText(str(exc))
            return
        self.show_clip(row)
        self.clip_updated.emit(row)
