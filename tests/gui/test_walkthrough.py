"""A day at the curation desk, driven with keys as a person would (issue 13's "done when").

Ingest a folder, decide with single keys and a multi-selection (asked once), split and undo,
run the rules, edit a caption, save a still, export, open Train; the catalog is checked after
each step. Real files, real decoders, a real SQLite catalog, real worker threads.
"""

from __future__ import annotations

import shutil

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication, QLineEdit, QMessageBox

from curator.gui.models.clip_table_model import Column
from tests.gui.conftest import TRIGGER, select_clip

pytestmark = pytest.mark.slow

NO = Qt.KeyboardModifier.NoModifier
SHIFT = Qt.KeyboardModifier.ShiftModifier
CTRL = Qt.KeyboardModifier.ControlModifier


def _decisions(catalog) -> dict[str, int]:
    counts = catalog.counts()
    return {k: counts[k] for k in ("pending", "accepted", "rejected")}


def test_a_day_at_the_desk(qtbot, make_window, project, synthetic_films, tmp_path):
    catalog = project.catalog
    folder = tmp_path / "footage"
    folder.mkdir()
    for path, _cuts in synthetic_films.values():
        shutil.copy(path, folder / path.name)
    window = make_window(project)
    view = window.browser.active_view

    def key(k, modifier=NO) -> None:
        if not window.isActiveWindow():  # a dialog just closed: the window manager's job
            window.activateWindow()
            qtbot.waitUntil(window.isActiveWindow, timeout=5000)
        qtbot.keyClick(view(), k, modifier)

    # 1. Ingest a folder: split at the cuts, analysed while ingesting.
    dialog = window.clip_actions.ingest_dialog()
    dialog.add_paths([folder])
    with qtbot.waitSignal(window.jobs.job_finished, timeout=120_000):
        qtbot.mouseClick(dialog.ok_button, Qt.MouseButton.LeftButton)
    cuts = sum(len(c) + 1 for _p, c in synthetic_films.values())
    assert len(catalog.clip_ids()) == cuts == 9
    assert all(c.analysis is not None for c in catalog.list_clips())
    qtbot.waitUntil(lambda: window.model.rowCount() == 9, timeout=5000)

    # 2. Decide with keys: A and R act on the current clip and move on.
    window.browser.select_row(0)
    first = window.browser.current_clip_id()
    key(Qt.Key.Key_A)
    assert catalog.get_clip(first).decision == "accepted"
    second = window.browser.current_clip_id()
    assert second != first
    key(Qt.Key.Key_R)
    qtbot.waitUntil(lambda: window._reason_dialog is not None
                    and window._reason_dialog.isVisible(), timeout=5000)
    qtbot.keyClick(window._reason_dialog.reasons, Qt.Key.Key_2)  # a digit picks and closes
    assert catalog.get_clip(second).reason == "too dynamic"
    assert _decisions(catalog) == {"pending": 7, "accepted": 1, "rejected": 1}
    # Ctrl+A, then a stray A: only the current clip, never the whole selection.
    key(Qt.Key.Key_A, CTRL)
    assert len(window.browser.selected_ids()) == 9
    key(Qt.Key.Key_A)
    assert _decisions(catalog) == {"pending": 6, "accepted": 2, "rejected": 1}
    # Two clips selected, Shift+A: asked once, naming the count.
    window.browser.select_row(3)
    key(Qt.Key.Key_Right, SHIFT)
    picked = window.browser.selected_ids()
    assert len(picked) == 2
    key(Qt.Key.Key_A, SHIFT)
    box = window.clip_actions.confirm_box
    assert box is not None and box.text() == "Accept 2 selected clips?"
    qtbot.mouseClick(box.button(QMessageBox.StandardButton.Yes), Qt.MouseButton.LeftButton)
    assert [catalog.get_clip(i).decision for i in picked] == ["accepted", "accepted"]
    assert _decisions(catalog) == {"pending": 4, "accepted": 4, "rejected": 1}

    # 3. Split at the playhead (S), then undo (Ctrl+Z): merged back, nothing lost.
    clip = select_clip(window, 0)
    window.preview.seek_frame(clip.start_frame + 6)
    key(Qt.Key.Key_S)
    assert len(catalog.clip_ids()) == 10
    assert catalog.get_clip(clip.id).end_frame == clip.start_frame + 6
    key(Qt.Key.Key_Z, CTRL)
    assert len(catalog.clip_ids()) == 9
    back = catalog.get_clip(clip.id)
    assert (back.start_frame, back.end_frame, back.decision) == (
        clip.start_frame, clip.end_frame, "accepted")

    # 4. The rules: a live count, Apply as one undo step, Ctrl+Z undoes it.
    rules = window.clip_actions.open_rules()
    qtbot.waitUntil(lambda: rules.preview is not None, timeout=20_000)
    for name, check in rules.enabled.items():
        check.setChecked(name == "static")
    rules.static_below.setValue(1000.0)  # everything is "too static" at this threshold
    qtbot.waitUntil(lambda: rules.counts["static"].text() == "would reject 4"
                    and rules.apply_button.isEnabled(), timeout=20_000)
    qtbot.mouseClick(rules.apply_button, Qt.MouseButton.LeftButton)
    assert _decisions(catalog) == {"pending": 0, "accepted": 4, "rejected": 5}
    assert sum(1 for c in catalog.list_clips() if c.decided_by == "rule") == 4
    rules.close()
    key(Qt.Key.Key_Z, CTRL)
    assert _decisions(catalog) == {"pending": 4, "accepted": 4, "rejected": 1}

    # 5. Edit a caption in the table (typed letters are text, not shortcuts).
    window.browser.show_view("table")
    window.browser.select_row(0)
    window.browser.table.setCurrentIndex(window.model.index(0, Column.CAPTION))
    qtbot.keyClick(window.browser.table, Qt.Key.Key_F2)
    editor = QApplication.focusWidget()
    assert isinstance(editor, QLineEdit)
    qtbot.keyClicks(editor, f"{TRIGGER} Rain runs down a window; a street glows.")
    qtbot.keyClick(editor, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: catalog.get_clip(first).caption
                    == f"{TRIGGER} Rain runs down a window; a street glows.", timeout=5000)
    assert _decisions(catalog)["accepted"] == 4  # no letter was taken as a decision

    # 6. Save the preview's frame as a still: the Images tab gets it.
    window.browser.show_view("grid")
    window.browser.select_row(0)
    with qtbot.waitSignal(window.clip_actions.stills.saved, timeout=20_000):
        key(Qt.Key.Key_S, CTRL | Qt.KeyboardModifier.AltModifier)
    (image,) = catalog.list_images()
    assert (image.width, image.height) == (160, 90)
    assert window.tabs.tabText(1) == "Images  1"
    assert len(catalog.clip_ids()) == 9  # Ctrl+Alt+S is not S: nothing was split

    # 7. Export the accepted, captioned clip.
    key(Qt.Key.Key_3, CTRL)  # the Export workspace
    assert window.workspaces.current() == "export"
    export = window.job_panel("Export")
    export.workers = 2
    qtbot.waitUntil(lambda: not export.counting and export.report is not None, timeout=30_000)
    out = tmp_path / "dataset"
    export.out_edit.setText(str(out))
    with qtbot.waitSignal(export.export_finished, timeout=60_000) as finished:
        assert export.export() is not None
    assert finished.args == ["done"]
    assert (out / "musubi_dataset.toml").is_file()
    assert catalog.settings().export_root == str(out.resolve())
    texts = [p.read_text(encoding="utf-8") for p in out.rglob("*.txt")]
    assert any("Rain runs down a window" in t for t in texts)

    # 8. Open Train: it reads the export, and speaks to a window user.
    key(Qt.Key.Key_4, CTRL)  # the Train workspace
    assert window.workspaces.current() == "train"
    train = window.job_panel("Train")
    plan = train.replan()
    assert plan is not None and plan.profile.dataset_config.endswith("musubi_dataset.toml")
    messages = [p.message for p in plan.problems]
    assert messages and not any("pass --" in m for m in messages)
