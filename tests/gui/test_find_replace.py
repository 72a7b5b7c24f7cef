"""Find and replace across captions: the preview lists each change, Replace saves them all."""

from __future__ import annotations

import pytest
from PySide6.QtCore import Qt
from pytestqt.qtbot import QtBot

from curator.core.catalog import Catalog
from curator.core.project import Project
from curator.gui.dialogs.find_replace import FindReplaceDialog, change_snippets
from curator.gui.workers import JobRunner
from tests.gui.conftest import TRIGGER


def caption_some(catalog: Catalog) -> list[int]:
    clips = catalog.list_clips()
    texts = [f"{TRIGGER} A girl runs in the rain.", f"{TRIGGER} Two girls wave.",
             f"{TRIGGER} A GIRL sits by the harbour."]
    ids = [c.id for c in clips if not c.caption][:3]
    for clip_id, text in zip(ids, texts):
        catalog.save_caption(text, clip_id=clip_id, origin="model-x")
    return ids


@pytest.fixture
def dialog(qtbot: QtBot, filled_project: Project):
    runner = JobRunner(filled_project.catalog)
    box = FindReplaceDialog(filled_project.catalog, runner)
    qtbot.addWidget(box)
    box.show()
    qtbot.waitExposed(box)
    yield box
    box.shutdown()
    runner.shutdown()


def wait_preview(qtbot: QtBot, dialog: FindReplaceDialog) -> None:
    qtbot.waitUntil(lambda: not dialog.is_searching(), timeout=5000)


def test_preview_then_replace_saves_new_versions(qtbot: QtBot, dialog: FindReplaceDialog,
                                                 filled_project: Project) -> None:
    catalog = filled_project.catalog
    ids = caption_some(catalog)
    qtbot.keyClicks(dialog.find_edit, "girl")
    qtbot.keyClicks(dialog.replace_edit, "woman")
    wait_preview(qtbot, dialog)
    changes = dialog.changes()
    assert [c.item_id for c in changes] == ids  # case-blind by default: "GIRL" too
    assert dialog.preview.topLevelItemCount() == 3
    first = dialog.preview.topLevelItem(0)
    assert first.toolTip(1) == f"{TRIGGER} A girl runs in the rain."
    assert first.toolTip(2) == f"{TRIGGER} A woman runs in the rain."
    assert "line-through" in first.text(1) and "woman" in first.text(2)
    assert "3 matches in 3 captions" in dialog.summary.text()
    assert dialog.replace_button.isEnabled()
    # nothing written by the preview
    assert catalog.get_clip(ids[0]).caption == f"{TRIGGER} A girl runs in the rain."

    dialog.case_box.setChecked(True)  # "GIRL" no longer matches
    wait_preview(qtbot, dialog)
    assert [c.item_id for c in dialog.changes()] == ids[:2]
    reports: list[object] = []
    dialog.applied.connect(reports.append)
    qtbot.mouseClick(dialog.replace_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: bool(reports), timeout=5000)  # ran as a job on a worker thread
    assert reports[0].done == 2
    assert catalog.get_clip(ids[0]).caption == f"{TRIGGER} A woman runs in the rain."
    assert catalog.get_clip(ids[1]).caption == f"{TRIGGER} Two womans wave."
    assert catalog.get_clip(ids[2]).caption == f"{TRIGGER} A GIRL sits by the harbour."
    history = catalog.caption_history(clip_id=ids[0])
    assert history[0].origin == "manual" and history[1].text.endswith("girl runs in the rain.")
    wait_preview(qtbot, dialog)
    assert dialog.changes() == [] and dialog.summary.text().startswith("Replaced in 2 captions")
    assert dialog.summary.text() == "Replaced in 2 captions. Nothing left to replace."
    assert catalog.list_jobs(kind="caption")[0].status == "done"


def test_regex_errors_are_explained_and_selection_scope(qtbot: QtBot,
                                                        filled_project: Project) -> None:
    catalog = filled_project.catalog
    ids = caption_some(catalog)
    box = FindReplaceDialog(catalog, None, clip_ids=[ids[1]])  # no job runner: applied at once
    qtbot.addWidget(box)
    box.show()
    box.regex_box.setChecked(True)
    box.find_edit.setText("(girl")
    wait_preview(qtbot, box)
    assert "regular expression" in box.summary.text() and not box.replace_button.isEnabled()
    box.find_edit.setText(r"\b(\w+)s wave")
    box.replace_edit.setText(r"\1s dance")
    box.scope_box.setCurrentIndex(box.scope_box.count() - 1)  # selected clips only
    wait_preview(qtbot, box)
    assert [c.after for c in box.changes()] == [f"{TRIGGER} Two girls dance."]
    box.apply()
    assert catalog.get_clip(ids[1]).caption == f"{TRIGGER} Two girls dance."
    box.shutdown()


def test_change_snippets_mark_what_changes() -> None:
    before, after = change_snippets("x" * 100 + " red hat " + "y" * 100,
                                    "x" * 100 + " blue hat " + "y" * 100)
    assert before.startswith("…") and after.endswith("…")
    assert "line-through" in before and "red" in before and "blue" not in before
    assert "blue" in after and "#7ee787" in after
    assert len(before) < 260  # long unchanged stretches are shortened


def test_ctrl_h_in_the_main_window_replaces_and_refreshes_the_caption_panel(
        qtbot: QtBot, make_window, filled_project: Project) -> None:
    catalog = filled_project.catalog
    window = make_window(filled_project)
    current = window.browser.current_item()
    catalog.save_caption(f"{TRIGGER} A girl reads.", clip_id=current.id)
    window._show_clip(current)
    qtbot.keyClick(window, Qt.Key.Key_H, Qt.KeyboardModifier.ControlModifier)
    qtbot.waitUntil(lambda: window.findChild(FindReplaceDialog) is not None, timeout=3000)
    box = window.findChild(FindReplaceDialog)
    qtbot.keyClicks(box.find_edit, "reads")
    qtbot.keyClicks(box.replace_edit, "sleeps")
    wait_preview(qtbot, box)
    assert any(c.item_id == current.id for c in box.changes())
    qtbot.mouseClick(box.replace_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: catalog.get_clip(current.id).caption == f"{TRIGGER} A girl sleeps.",
                    timeout=5000)
    qtbot.waitUntil(lambda: "sleeps" in window.caption_panel.editor.toPlainText(), timeout=3000)
    box.shutdown()
    box.close()
