"""Safe keys: a letter decides the current clip only; the selection needs Shift and one answer;
split and merge are on the undo stack, and undo never overwrites another writer's change."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QMessageBox

from tests.gui.conftest import TRIGGER, select_clip


def press(qtbot, window, key, modifier=Qt.KeyboardModifier.NoModifier) -> None:
    qtbot.keyClick(window.browser.active_view(), key, modifier)


def test_a_letter_after_select_all_decides_only_the_current_clip(qtbot, make_window,
                                                                   filled_project):
    window = make_window(filled_project)
    catalog = filled_project.catalog
    window.browser.select_row(0)
    first = window.browser.current_clip_id()
    press(qtbot, window, Qt.Key.Key_A, Qt.KeyboardModifier.ControlModifier)  # select all
    assert len(window.browser.selected_ids()) == 9
    press(qtbot, window, Qt.Key.Key_A)  # a stray letter
    assert catalog.counts()["accepted"] == 1
    assert catalog.get_clip(first).decision == "accepted"

    press(qtbot, window, Qt.Key.Key_A, Qt.KeyboardModifier.ControlModifier)
    press(qtbot, window, Qt.Key.Key_A, Qt.KeyboardModifier.ShiftModifier)
    box = window.clip_actions.confirm_box
    assert box is not None and "Accept 9 selected clips?" in box.text()
    assert catalog.counts()["accepted"] == 1  # nothing yet: it asks once
    qtbot.keyClick(box, Qt.Key.Key_Return)  # the default answer is Cancel
    assert catalog.counts()["accepted"] == 1
    press(qtbot, window, Qt.Key.Key_A, Qt.KeyboardModifier.ShiftModifier)
    box = window.clip_actions.confirm_box
    qtbot.mouseClick(box.button(QMessageBox.StandardButton.Yes), Qt.MouseButton.LeftButton)
    assert catalog.counts()["accepted"] == 9
    assert window.undo_stack.undoText() == "Accept 9 clips"


def test_split_is_undone_by_merging_back_and_redone_with_the_childs_state(
        qtbot, make_window, filled_project):
    window = make_window(filled_project)
    catalog = filled_project.catalog
    clip = select_clip(window, 0)
    rows = window.model.rowCount()
    window.preview.seek_frame(clip.start_frame + 10)
    press(qtbot, window, Qt.Key.Key_S)
    child = window.model.item(1).id
    assert catalog.get_clip(child).start_frame == clip.start_frame + 10
    catalog.set_decision([child], "accepted")
    catalog.save_caption(f"{TRIGGER} The second half.", clip_id=child)

    press(qtbot, window, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)  # undo the split
    back = catalog.get_clip(clip.id)
    assert (back.start_frame, back.end_frame) == (clip.start_frame, clip.end_frame)
    assert window.model.rowCount() == rows and child not in catalog.clip_ids()
    assert any(h.text.endswith("The second half.")
               for h in catalog.caption_history(clip_id=clip.id))  # kept, as an older version
    assert catalog.get_clip(clip.id).caption == clip.caption

    window.redo_action.trigger()
    again = catalog.get_clip(child)
    assert (again.decision, again.caption) == ("accepted", f"{TRIGGER} The second half.")
    assert window.model.item(1).id == child


def test_undo_of_a_split_refuses_when_the_child_was_trimmed_elsewhere(qtbot, make_window,
                                                                       filled_project):
    window = make_window(filled_project)
    catalog = filled_project.catalog
    clip = select_clip(window, 0)
    child = window.split(clip.id, clip.start_frame + 10)
    catalog.trim_clip(child, clip.start_frame + 12, clip.end_frame)  # the CLI, meanwhile
    window.undo_action.trigger()
    assert "changed since" in window.statusBar().currentMessage()
    assert catalog.get_clip(child).start_frame == clip.start_frame + 12
    assert catalog.get_clip(clip.id).end_frame == clip.start_frame + 10


def test_merge_key_joins_the_next_clip_of_the_source_and_undo_splits_it_again(
        qtbot, make_window, filled_project):
    window = make_window(filled_project)
    catalog = filled_project.catalog
    window.browser.select_row(0)
    first, second = window.model.item(0), window.model.item(1)
    assert first.source_id == second.source_id
    press(qtbot, window, Qt.Key.Key_M)
    merged = catalog.get_clip(first.id)
    assert merged.end_frame == catalog.get_source(first.source_id).frame_count or \
        merged.frames == first.frames + second.frames
    assert second.id not in catalog.clip_ids() and window.model.item(1).id != second.id
    window.undo_action.trigger()
    assert catalog.get_clip(second.id).frames == second.frames
    assert window.model.item(1).id == second.id
