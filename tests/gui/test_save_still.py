"""“Save frame as still” from the preview, and tiles that say where a clip lies."""

from __future__ import annotations

from PIL import Image
from PySide6.QtCore import Qt

from curator.core.catalog.queries import clips_by_ids
from curator.gui.panels.browser_panel import frames_badge, range_text
from tests.gui.conftest import select_clip


def test_save_frame_as_still_adds_the_full_frame_to_images(qtbot, make_window, filled_project):
    window = make_window(filled_project)
    catalog = filled_project.catalog
    clip = select_clip(window, 1)
    window.preview.seek_frame(clip.start_frame + 3)
    qtbot.waitUntil(lambda: window.preview.current_frame() == clip.start_frame + 3, timeout=5000)
    assert window.tabs.tabText(1) == "Images  0"
    with qtbot.waitSignal(window.clip_actions.stills.saved, timeout=20_000) as saved:
        qtbot.keyClick(window.browser.active_view(), Qt.Key.Key_S,
                       Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.AltModifier)
    still = saved.args[0]
    (image,) = catalog.list_images()
    assert image.id == still.image_id and (image.width, image.height) == (160, 90)
    assert Image.open(image.path).format == "PNG"  # lossless
    assert window.tabs.tabText(1) == "Images  1"
    assert "Saved still" in window.statusBar().currentMessage()
    assert catalog.get_clip(clip.id).decision == "pending"  # not an S split, not a decision
    assert len(catalog.clip_ids()) == 9
    qtbot.mouseClick(window.clip_actions.stills.button, Qt.MouseButton.LeftButton)  # again
    qtbot.waitUntil(lambda: "Already saved" in window.statusBar().currentMessage(),
                    timeout=20_000)
    assert len(catalog.list_images()) == 1


def test_tiles_name_the_range_and_the_rate_of_their_frame_count(filled_project):
    catalog = filled_project.catalog
    clip = catalog.list_clips()[1]
    (item,) = clips_by_ids(catalog, [clip.id])
    assert range_text(item) == f"frames {clip.start_frame}–{clip.end_frame - 1}"
    assert frames_badge(item, 16.0) == f"{item.frames_at(16.0)} f @16fps"
