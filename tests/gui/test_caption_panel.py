"""The caption editor and the table's caption delegate: every edit reaches the catalog."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QLineEdit, QTableView
from pytestqt.qtbot import QtBot

from curator.core.catalog import Catalog, ClipRow
from curator.core.project import Project
from curator.gui.delegates import CaptionDelegate
from curator.gui.models.clip_table_model import ClipTableModel, Column
from curator.gui.panels.caption_panel import (
    SAVE_DELAY_MS,
    CaptionPanel,
    one_line,
    starts_with_trigger,
    with_trigger,
)
from tests.gui.conftest import TRIGGER


@pytest.fixture
def panel(qtbot: QtBot, filled_project: Project):
    widget = CaptionPanel(filled_project.catalog)
    qtbot.addWidget(widget)
    widget.resize(460, 420)
    widget.show()
    qtbot.waitExposed(widget)
    return widget


def uncaptioned(catalog: Catalog) -> ClipRow:
    return next(c for c in catalog.list_clips() if not c.caption)


def reopened(project: Project) -> Catalog:
    """A second catalog on the same file, as after restarting the app."""
    return Catalog.for_project(project.root)


def test_enter_saves_and_survives_reopening(qtbot: QtBot, panel: CaptionPanel,
                                            filled_project: Project) -> None:
    clip = uncaptioned(filled_project.catalog)
    saved: list[object] = []
    panel.caption_saved.connect(saved.append)
    panel.show_item("clip", clip)
    panel.editor.setFocus()
    qtbot.keyClicks(panel.editor, f"{TRIGGER} A lighthouse blinks at night.")
    qtbot.keyClick(panel.editor, Qt.Key.Key_Return)
    assert "\n" not in panel.text()  # Enter commits, it adds no line
    assert len(saved) == 1 and saved[0].clip_id == clip.id and saved[0].origin == "manual"
    other = reopened(filled_project)
    try:
        row = other.get_clip(clip.id)
        assert row.caption == f"{TRIGGER} A lighthouse blinks at night."
        assert row.caption_is_manual and row.caption_origin == "manual"
    finally:
        other.close()
    assert not panel.warning.isVisible()


def test_typing_saves_after_a_pause(qtbot: QtBot, panel: CaptionPanel,
                                    filled_project: Project) -> None:
    catalog = filled_project.catalog
    clip = uncaptioned(catalog)
    panel.show_item("clip", clip)
    panel.editor.setFocus()
    typed_at = time.monotonic()
    qtbot.keyClicks(panel.editor, f"{TRIGGER} Waves")
    assert catalog.get_clip(clip.id).caption is None  # not while typing
    assert panel.status.text().startswith("Editing")
    qtbot.waitUntil(lambda: catalog.get_clip(clip.id).caption == f"{TRIGGER} Waves",
                    timeout=5000)
    assert time.monotonic() - typed_at >= SAVE_DELAY_MS / 1000 * 0.9
    assert len(catalog.caption_history(clip_id=clip.id)) == 1


def test_leaving_the_editor_or_the_item_saves(qtbot: QtBot, panel: CaptionPanel,
                                              filled_project: Project) -> None:
    catalog = filled_project.catalog
    clips = [c for c in catalog.list_clips() if not c.caption]
    panel.show_item("clip", clips[0])
    panel.editor.setFocus()
    qtbot.keyClicks(panel.editor, "focus out")
    panel.history.setFocus()  # the editor loses focus
    assert catalog.get_clip(clips[0].id).caption == "focus out"
    panel.editor.setFocus()
    qtbot.keyClicks(panel.editor, " and moved on")
    panel.show_item("clip", clips[1])  # the next clip: the pending edit is saved first
    assert catalog.get_clip(clips[0].id).caption == "focus out and moved on"
    assert panel.text() == ""


def test_reshowing_the_same_clip_keeps_what_was_being_typed(qtbot: QtBot, panel: CaptionPanel,
                                                             filled_project: Project) -> None:
    """A caption run re-shows the current clip from a row read before the edit was saved."""
    catalog = filled_project.catalog
    clip = uncaptioned(catalog)
    panel.show_item("clip", clip)
    panel.editor.setFocus()
    qtbot.keyClicks(panel.editor, f"{TRIGGER} Typed by hand")
    stale = catalog.get_clip(clip.id)  # read while the edit is still pending
    assert stale.caption is None
    panel.show_item("clip", stale)
    assert panel.text() == f"{TRIGGER} Typed by hand"
    assert catalog.get_clip(clip.id).caption == f"{TRIGGER} Typed by hand"
    assert not panel.is_dirty()


def test_trigger_warning_and_one_click_fix(qtbot: QtBot, panel: CaptionPanel,
                                           filled_project: Project) -> None:
    catalog = filled_project.catalog
    clip = uncaptioned(catalog)
    catalog.save_caption("A ferry leaves the pier.", clip_id=clip.id, origin="model-x")
    panel.show_item("clip", catalog.get_clip(clip.id))
    assert TRIGGER in panel.trigger_label.text()
    assert panel.warning.isVisible()
    qtbot.mouseClick(panel.add_trigger_button, Qt.MouseButton.LeftButton)
    assert panel.text() == f"{TRIGGER} A ferry leaves the pier."
    assert catalog.get_clip(clip.id).caption == f"{TRIGGER} A ferry leaves the pier."
    assert not panel.warning.isVisible()
    # typing the trigger away brings the warning back
    panel.editor.selectAll()
    qtbot.keyClicks(panel.editor, "no trigger here")
    assert panel.warning.isVisible()


def test_history_lists_versions_and_restores_one(qtbot: QtBot, panel: CaptionPanel,
                                                 filled_project: Project) -> None:
    catalog = filled_project.catalog
    clip = uncaptioned(catalog)
    catalog.save_caption(f"{TRIGGER} first", clip_id=clip.id, origin="model-x")
    catalog.save_caption(f"{TRIGGER} second", clip_id=clip.id)
    panel.show_item("clip", catalog.get_clip(clip.id))
    assert [r.text for r in panel.history_rows()] == [f"{TRIGGER} second", f"{TRIGGER} first"]
    assert panel.history_button.text().startswith("History (2)")
    assert not panel.restore_button.isEnabled()  # the current version needs no restoring
    first = panel.history_rows()[1]
    panel.select_version(first.id)
    assert panel.restore_button.isEnabled()
    saved: list[object] = []
    panel.caption_saved.connect(saved.append)
    qtbot.mouseClick(panel.restore_button, Qt.MouseButton.LeftButton)
    assert panel.text() == f"{TRIGGER} first"
    assert catalog.get_clip(clip.id).caption == f"{TRIGGER} first"
    assert [r.text for r in panel.history_rows()] == [
        f"{TRIGGER} first", f"{TRIGGER} second", f"{TRIGGER} first"]
    assert saved and saved[0].text == f"{TRIGGER} first"


def test_images_are_captioned_the_same_way(qtbot: QtBot, panel: CaptionPanel, tmp_path: Path,
                                           filled_project: Project) -> None:
    from tests.media_factory import make_image

    catalog = filled_project.catalog
    path = make_image(tmp_path / "shot.png", (96, 64))
    image_id, _ = catalog.upsert_image(path=path, size=path.stat().st_size, mtime=0.0,
                                       content_hash="img", width=96, height=64)
    panel.show_item("image", catalog.get_image(image_id))
    assert "shot.png" in panel.details.text()
    panel.editor.setFocus()
    qtbot.keyClicks(panel.editor, f"{TRIGGER} A city at dusk.")
    qtbot.keyClick(panel.editor, Qt.Key.Key_Enter)
    assert catalog.get_image(image_id).caption == f"{TRIGGER} A city at dusk."
    assert catalog.caption_history(image_id=image_id)[0].origin == "manual"
    with pytest.raises(ValueError):
        panel.show_item("scene", None)


def test_caption_delegate_commits_through_the_model(qtbot: QtBot,
                                                    filled_project: Project) -> None:
    catalog = filled_project.catalog
    model = ClipTableModel(catalog)
    model.reload()
    view = QTableView()
    qtbot.addWidget(view)
    view.setModel(model)
    delegate = CaptionDelegate(catalog, parent=view)
    view.setItemDelegateForColumn(Column.CAPTION, delegate)
    view.resize(900, 400)
    view.show()
    qtbot.waitExposed(view)
    view.activateWindow()  # focus changes (and focus-out commits) need the active window
    qtbot.waitUntil(view.isActiveWindow, timeout=5000)
    assert delegate.trigger == TRIGGER
    row = next(r for r in range(model.rowCount()) if not model.item(r).caption)
    clip_id = model.item(row).id
    index = model.index(row, Column.CAPTION)
    view.setCurrentIndex(index)
    view.edit(index)
    editor = view.findChild(QLineEdit, "captionCellEditor")
    assert editor is not None
    editor.setText("no trigger yet")
    qtbot.keyClick(editor, Qt.Key.Key_Return)  # Enter commits (Qt queues the commit)
    qtbot.waitUntil(lambda: catalog.get_clip(clip_id).caption == "no trigger yet", timeout=3000)
    assert delegate.missing_trigger(model.index(row, Column.CAPTION))
    # focus-out commits too
    qtbot.waitUntil(lambda: view.findChild(QLineEdit, "captionCellEditor") is None)  # closed
    view.edit(index)
    editor = view.findChild(QLineEdit, "captionCellEditor")
    editor.setText(f"{TRIGGER} A ship")
    assert editor.hasFocus()
    view.setFocus()  # the editor loses focus to the table
    qtbot.waitUntil(lambda: catalog.get_clip(clip_id).caption == f"{TRIGGER} A ship",
                    timeout=3000)
    assert not delegate.missing_trigger(model.index(row, Column.CAPTION))
    history = catalog.caption_history(clip_id=clip_id)
    assert [h.text for h in history] == [f"{TRIGGER} A ship", "no trigger yet"]
    model.shutdown()


def test_caption_helpers() -> None:
    assert starts_with_trigger("ohwx style. A cat", "ohwx style.")
    assert not starts_with_trigger("A cat, ohwx style.", "ohwx style.")
    assert starts_with_trigger("anything", "")
    assert with_trigger("A cat", "ohwx style.") == "ohwx style. A cat"
    assert with_trigger("OHWX style. A cat", "ohwx style.") == "ohwx style. A cat"
    assert with_trigger("ohwx style. A cat", "ohwx style.") == "ohwx style. A cat"
    assert one_line("a\nb\r\n c") == "a b c"
