"""Images (screenshots): browse, decide and caption them like clips, and crop a fixed square.

The crop tool shows the image fitted to the view with a square of a fixed size in image pixels
(768×768 by default, or the image's short side when it is smaller). Drag it, or nudge it with
the arrow keys (Shift: 10 pixels); it never leaves the image. The crop is saved with
`catalog.set_image_crop` as soon as the square is let go, and the export cuts it out.

Pictures are read off the GUI thread (`QImageReader` in a `QThreadPool`, scaled while reading)
and come back as `QImage`s; the view makes the pixmap.
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import (
    QModelIndex,
    QObject,
    QSize,
    Qt,
    Signal,
    Slot,
)
from PySide6.QtGui import (
    QColor,
    QImage,
    QPixmap,
)
from PySide6.QtWidgets import (
    QComboBox,
    QHBoxLayout,
    QListView,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from curator.core.catalog import CaptionRow, Catalog, ImageRow
from curator.gui.models.rows import RowListModel
from curator.gui.panels.caption_panel import CaptionPanel
from curator.gui.panels.image_crop import THUMB_SIZE, CropTool, PictureLoader
from curator.gui.widgets.layout import side_by_side

# --- pure helpers -------------------------------------------------------------------------


class ImageListModel(RowListModel[ImageRow]):
    """Images of the catalog (optionally one decision), with thumbnails read on demand."""

    ROW_ROLE = Qt.ItemDataRole.UserRole + 1

    def __init__(self, catalog: Catalog, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.catalog = catalog
        self.status: str | None = None
        self._thumbs: dict[int, QPixmap] = {}
        self._asked: set[int] = set()
        self.loader = PictureLoader(self)
        self.loader.loaded.connect(self._on_thumb)

    def reload(self, status: str | None = None) -> None:
        self.status = status
        self.set_rows(self.catalog.list_images(status=status))

    def refresh(self, image_id: int) -> None:
        """Read one image's row again (after a decision, a caption or a crop)."""
        for i, row in enumerate(self.rows):
            if row.id == image_id:
                self.rows[i] = self.catalog.get_image(image_id)
                index = self.index(i)
                self.dataChanged.emit(index, index)
                return

    def row_data(self, row: ImageRow, role: int) -> object:
        if role == Qt.ItemDataRole.DisplayRole:
            return Path(row.path).name
        if role == Qt.ItemDataRole.ToolTipRole:
            caption = row.caption or "no caption"
            return f"{row.path}\n{row.width}×{row.height} · {row.decision}\n\n{caption}"
        if role == Qt.ItemDataRole.DecorationRole:
            pixmap = self._thumbs.get(row.id)
            if pixmap is None and row.id not in self._asked:
                self._asked.add(row.id)  # asked once; painting never reads a file
                self.loader.load(row.id, Path(row.path), THUMB_SIZE)
            return pixmap
        if role == Qt.ItemDataRole.SizeHintRole:
            # fixed, whether or not the thumbnail has arrived (uniform item sizes)
            return QSize(THUMB_SIZE.width() + 12, THUMB_SIZE.height() + 24)
        if role == Qt.ItemDataRole.ForegroundRole:
            return {"accepted": QColor("#3fb950"), "rejected": QColor("#f85149")}.get(
                row.decision)
        if role == self.ROW_ROLE:
            return row
        return None

    @Slot(object, QImage)
    def _on_thumb(self, image_id: object, image: QImage) -> None:
        if image.isNull():
            return
        self._thumbs[int(image_id)] = QPixmap.fromImage(image)
        for i, row in enumerate(self.rows):
            if row.id == image_id:
                index = self.index(i)
                self.dataChanged.emit(index, index, [Qt.ItemDataRole.DecorationRole])
                return

    def shutdown(self) -> None:
        self.loader.shutdown()


# --- the crop tool ------------------------------------------------------------------------

class ImagePanel(QWidget):
    """Browse the project's images: list, decide, crop and caption.

    Signals:
        caption_saved(object): a CaptionRow saved for an image.
        image_decided(list): ids of images whose decision changed.
    """

    caption_saved = Signal(object)
    image_decided = Signal(list)

    def __init__(self, catalog: Catalog, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("imagePanel")
        self.catalog = catalog
        self.model = ImageListModel(catalog, self)
        images = self._build_list()
        self.crop_tool = CropTool(catalog)
        self.crop_tool.crop_saved.connect(lambda image_id, _c: self.model.refresh(image_id))
        self.caption_panel = CaptionPanel(catalog)
        self.caption_panel.caption_saved.connect(self._on_caption_saved)
        side_by_side(self, (images, 2), (self.crop_tool, 4), (self.caption_panel, 3))
        self.reload()

    def _build_list(self) -> QWidget:
        """The decision filter, the thumbnails and the decision buttons."""
        left = QWidget()
        left_layout = QVBoxLayout(left)
        left_layout.setContentsMargins(4, 4, 4, 4)
        self.status_box = QComboBox()
        self.status_box.setObjectName("imageStatus")
        for label, value in (("All images", None), ("Pending", "pending"),
                             ("Accepted", "accepted"), ("Rejected", "rejected")):
            self.status_box.addItem(label, value)
        self.status_box.currentIndexChanged.connect(lambda _i: self.reload())
        left_layout.addWidget(self.status_box)
        self.list = QListView()
        self.list.setObjectName("imageList")
        self.list.setViewMode(QListView.ViewMode.IconMode)
        self.list.setIconSize(THUMB_SIZE)
        self.list.setGridSize(QSize(THUMB_SIZE.width() + 16, THUMB_SIZE.height() + 28))
        self.list.setResizeMode(QListView.ResizeMode.Adjust)
        self.list.setUniformItemSizes(True)
        self.list.setMovement(QListView.Movement.Static)
        self.list.setSelectionMode(QListView.SelectionMode.ExtendedSelection)
        self.list.setModel(self.model)
        self.list.selectionModel().currentRowChanged.connect(self._on_current)
        left_layout.addWidget(self.list, 1)
        buttons = QHBoxLayout()
        for text, decision in (("Accept", "accepted"), ("Reject", "rejected"),
                               ("Pending", "pending")):
            b = QPushButton(text)
            b.setObjectName(f"image_{decision}")
            b.clicked.connect(lambda _c=False, d=decision: self.decide_selected(d))
            buttons.addWidget(b)
        left_layout.addLayout(buttons)
        return left

    def reload(self) -> None:
        current = self.current_image()
        self.model.reload(self.status_box.currentData())
        if self.model.rowCount():
            row = 0
            if current is not None:
                row = next((i for i in range(self.model.rowCount())
                            if self.model.row_at(i).id == current.id), 0)
            self.list.setCurrentIndex(self.model.index(row))
        else:
            self._show(None)

    def current_image(self) -> ImageRow | None:
        index = self.list.currentIndex()
        return self.model.row_at(index.row()) if index.isValid() else None

    def selected_ids(self) -> list[int]:
        rows = sorted(i.row() for i in self.list.selectionModel().selectedIndexes())
        ids = [self.model.row_at(r).id for r in rows]
        current = self.current_image()
        return ids or ([current.id] if current else [])

    def decide_selected(self, decision: str) -> None:
        ids = self.selected_ids()
        if not ids:
            return
        self.catalog.set_decision(ids, decision, kind="image")
        for image_id in ids:
            self.model.refresh(image_id)
        self.image_decided.emit(ids)

    def _on_current(self, current: QModelIndex, _previous: QModelIndex) -> None:
        self._show(self.model.row_at(current.row()) if current.isValid() else None)

    def _show(self, image: ImageRow | None) -> None:
        if image is not None:
            image = self.catalog.get_image(image.id)  # fresh: caption and crop as saved
        self.crop_tool.show_image(image)
        self.caption_panel.show_item("image", image)

    def _on_caption_saved(self, caption: CaptionRow) -> None:
        if caption.image_id is not None:
            self.model.refresh(caption.image_id)
        self.caption_saved.emit(caption)


    def shutdown(self) -> None:
        self.caption_panel.shutdown()
        self.crop_tool.shutdown()
        self.model.shutdown()
