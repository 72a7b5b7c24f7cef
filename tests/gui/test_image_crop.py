"""Images: the square crop tool (drag, clamp, nudge, save) and browsing images in the panel."""

from __future__ import annotations

from pathlib import Path

import pytest
from PySide6.QtCore import QPoint, Qt
from pytestqt.qtbot import QtBot

from curator.core.catalog import Catalog
from curator.core.project import Project
from curator.gui.panels.image_crop import (
    CropTool,
    centered_crop,
    clamp_crop,
    crop_side,
    moved_crop,
    resized_crop,
)
from curator.gui.panels.image_panel import ImagePanel
from tests.media_factory import make_image


def add_image(catalog: Catalog, path: Path, size: tuple[int, int]) -> int:
    make_image(path, size)
    image_id, _ = catalog.upsert_image(path=path, size=path.stat().st_size, mtime=0.0,
                                       content_hash=path.stem, width=size[0], height=size[1])
    return image_id


@pytest.fixture
def tool(qtbot: QtBot, catalog: Catalog):
    widget = CropTool(catalog)
    qtbot.addWidget(widget)
    widget.resize(600, 420)
    widget.show()
    qtbot.waitExposed(widget)
    yield widget
    widget.shutdown()


def test_crop_helpers() -> None:
    assert crop_side(1920, 1080) == 768 and crop_side(640, 480) == 480
    assert centered_crop(1920, 1080) == (576, 156, 768, 768)
    assert clamp_crop(-50, 2000, 768, 1920, 1080) == (0, 312)
    assert moved_crop((576, 156, 768, 768), 10_000, -10_000, 1920, 1080) == (1152, 0, 768, 768)
    assert resized_crop((0, 0, 768, 768), 512, 1920, 1080) == (128, 128, 512, 512)
    assert resized_crop(None, 768, 1000, 700) == (150, 0, 700, 700)


def test_drag_clamps_and_saves_the_crop(qtbot: QtBot, tool: CropTool, catalog: Catalog,
                                        tmp_path: Path) -> None:
    image_id = add_image(catalog, tmp_path / "wide.png", (1920, 1080))
    tool.show_image(catalog.get_image(image_id))
    qtbot.waitUntil(lambda: tool.view.has_picture(), timeout=5000)
    assert tool.view.crop() is None and "Whole image" in tool.crop_label.text()
    saved: list[object] = []
    tool.crop_saved.connect(lambda i, c: saved.append((i, c)))
    tool.enabled_box.setChecked(True)  # a centred 768 square, saved at once
    assert catalog.get_image(image_id).crop == (576, 156, 768, 768)
    # drag the square far to the right and down: it stops at the image's edges
    view = tool.view
    start = view.crop_rect().center().toPoint()
    qtbot.mousePress(view, Qt.MouseButton.LeftButton, pos=start)
    qtbot.mouseMove(view, start + QPoint(40, 5))
    qtbot.mouseMove(view, start + QPoint(2000, 2000))
    qtbot.mouseRelease(view, Qt.MouseButton.LeftButton, pos=start + QPoint(2000, 2000))
    assert catalog.get_image(image_id).crop == (1152, 312, 768, 768)
    assert saved[-1] == (image_id, (1152, 312, 768, 768))
    # a small drag moves it by the drag divided by the view's scale
    scale = view.scale()
    start = view.crop_rect().center().toPoint()
    qtbot.mousePress(view, Qt.MouseButton.LeftButton, pos=start)
    qtbot.mouseMove(view, start + QPoint(-50, -20))
    qtbot.mouseRelease(view, Qt.MouseButton.LeftButton, pos=start + QPoint(-50, -20))
    x, y, w, h = catalog.get_image(image_id).crop
    assert (w, h) == (768, 768)
    assert abs(x - (1152 - 50 / scale)) <= 1 and abs(y - (312 - 20 / scale)) <= 1
    # arrow keys nudge it (Shift: 10 px), saved when the nudging stops
    view.setFocus()
    qtbot.keyClick(view, Qt.Key.Key_Left, Qt.KeyboardModifier.ShiftModifier)
    qtbot.keyClick(view, Qt.Key.Key_Up)
    qtbot.waitUntil(lambda: catalog.get_image(image_id).crop == (x - 10, y - 1, 768, 768),
                    timeout=3000)
    # turning the crop off exports the whole image again
    tool.enabled_box.setChecked(False)
    assert catalog.get_image(image_id).crop is None


def test_small_image_gets_its_short_side(qtbot: QtBot, tool: CropTool, catalog: Catalog,
                                         tmp_path: Path) -> None:
    image_id = add_image(catalog, tmp_path / "small.png", (640, 400))
    tool.show_image(catalog.get_image(image_id))
    tool.center()
    assert catalog.get_image(image_id).crop == (120, 0, 400, 400)
    assert "only 400 px" in tool.crop_label.text()


def test_image_panel_browses_decides_crops_and_captions(qtbot: QtBot, project: Project,
                                                        tmp_path: Path) -> None:
    catalog = project.catalog
    ids = [add_image(catalog, tmp_path / f"shot{i}.png", (800 + 100 * i, 600)) for i in range(3)]
    panel = ImagePanel(catalog)
    qtbot.addWidget(panel)
    panel.resize(1200, 600)
    panel.show()
    qtbot.waitExposed(panel)
    assert panel.model.rowCount() == 3 and panel.current_image().id == ids[0]
    # thumbnails arrive from the loader thread, scaled to the thumbnail size
    thumb = panel.model.index(2)
    qtbot.waitUntil(lambda: panel.model.data(thumb, Qt.ItemDataRole.DecorationRole) is not None,
                    timeout=5000)
    pixmap = panel.model.data(thumb, Qt.ItemDataRole.DecorationRole)
    assert (pixmap.width(), pixmap.height()) == (128, 76)  # 1000×600 fitted in 128×96
    panel.list.setCurrentIndex(panel.model.index(1))
    assert panel.crop_tool.image().id == ids[1]
    panel.crop_tool.center()
    assert catalog.get_image(ids[1]).crop == (150, 0, 600, 600)  # 900×600: its short side
    panel.caption_panel.editor.setFocus()
    qtbot.keyClicks(panel.caption_panel.editor, "A rooftop garden.")
    panel.caption_panel.save_now()
    assert catalog.get_image(ids[1]).caption == "A rooftop garden."
    panel.decide_selected("accepted")
    assert catalog.get_image(ids[1]).decision == "accepted"
    panel.status_box.setCurrentIndex(panel.status_box.findData("accepted"))
    assert panel.model.rowCount() == 1 and panel.current_image().id == ids[1]
    panel.shutdown()
