"""Tile size by wheel and touchpad; a size change drops loads queued at the old size."""

from __future__ import annotations

from PySide6.QtCore import QSize

from curator.gui.models.thumbnail_cache import ThumbnailCache
from curator.gui.widgets.thumb_zoom import DEFAULT_WIDTH, WHEEL_NOTCH, WIDTHS, ThumbZoom


def test_a_touchpad_scroll_moves_one_step_per_notch_not_per_event(qtbot):
    zoom = ThumbZoom()
    qtbot.addWidget(zoom)
    start = WIDTHS.index(DEFAULT_WIDTH)
    for _ in range(7):  # seven eighths of a notch, in small parts: no step yet
        zoom.wheel(WHEEL_NOTCH // 8)
    assert zoom.slider.value() == start
    zoom.wheel(WHEEL_NOTCH // 8)  # the notch is full
    assert zoom.slider.value() == start + 1
    zoom.wheel(WHEEL_NOTCH // 2)
    zoom.wheel(-WHEEL_NOTCH // 4)  # turned back: the half notch the other way is forgotten
    assert zoom.slider.value() == start + 1
    zoom.wheel(-WHEEL_NOTCH)  # a mouse wheel: one notch, one step
    assert zoom.slider.value() == start


def test_a_new_box_drops_the_loads_queued_for_the_old_one(qtbot, tmp_path, monkeypatch):
    cache = ThumbnailCache(tmp_path)
    try:
        dropped = []
        monkeypatch.setattr(cache, "forget_pending", lambda: dropped.append(cache.box))
        cache.set_box(QSize(256, 144))
        assert cache.box == QSize(256, 144) and dropped == [QSize(256, 144)]
        cache.set_box(QSize(256, 144))  # the same box: the queue stays
        assert len(dropped) == 1
    finally:
        cache.shutdown()
