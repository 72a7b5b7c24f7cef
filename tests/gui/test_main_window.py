"""The main window, driven offscreen with keys and clicks on a real catalog of generated clips."""

from __future__ import annotations

from PySide6.QtCore import QMimeData, QPoint, QPointF, Qt, QUrl
from PySide6.QtGui import QDragEnterEvent, QDropEvent
from PySide6.QtWidgets import QApplication, QLineEdit, QMessageBox

from curator.core.jobs import CancelToken, Progress, ProgressFn, Report
from curator.core.project import Project
from curator.gui.dialogs.project_dialog import recent_projects, updated_recent
from curator.gui.dialogs.reject_reason_dialog import RejectReasonDialog
from curator.gui.models.clip_table_model import Column
from tests.gui.conftest import TRIGGER, select_clip


def wait_items(*, items: int, progress: ProgressFn, cancel: CancelToken) -> Report:
    """A long job by the jobs contract: one item per 20 ms until done or cancelled."""
    report = Report()
    for i in range(items):
        if cancel.wait(0.02):
            report.cancelled = True
            break
        report.done += 1
        progress(Progress(done=i + 1, total=items, item=f"clip {i}"))
    return report


def press(qtbot, window, key: Qt.Key, modifier=Qt.KeyboardModifier.NoModifier) -> None:
    qtbot.keyClick(window.browser.active_view(), key, modifier)


def test_window_opens_on_the_project_with_counters_and_first_page(make_window, filled_project):
    window = make_window(filled_project)
    catalog = filled_project.catalog
    assert window.model.rowCount() == len(catalog.clip_ids()) == 9
    filters = window.browser.filters
    assert filters.status_buttons[None].text() == "All  9"
    assert filters.status_buttons["pending"].text() == "Pending  9"
    assert filters.captioned_label.text() == "Captioned 2"
    assert "9 clips" in window.status_label.text()
    # Source order: the films' shots in order, the first clip current and shown.
    first = window.browser.current_item()
    assert first is not None and first.start_frame == 0
    assert window.windowTitle().startswith("project")


def test_filters_by_status_caption_text_and_length(qtbot, make_window, filled_project):
    window = make_window(filled_project)
    catalog, browser = filled_project.catalog, window.browser
    ids = catalog.clip_ids()
    catalog.set_decision(ids[:2], "rejected", "too static")
    browser.reload()
    qtbot.mouseClick(browser.filters.status_buttons["rejected"], Qt.MouseButton.LeftButton)
    assert sorted(window.model.item(r).id for r in range(window.model.rowCount())) == ids[:2]
    browser.filters.status_buttons[None].click()
    qtbot.keyClicks(browser.filters.search, "harbour dusk")
    qtbot.keyClick(browser.filters.search, Qt.Key.Key_Return)
    assert window.model.rowCount() == 1
    assert "harbour" in window.model.item(0).caption
    browser.filters.clear()
    # 24 fps shots of 18..40 frames give 12..27 frames at 16 fps; keep those of 20 or more.
    browser.filters.min_frames.setValue(20)
    shown = [window.model.item(r) for r in range(window.model.rowCount())]
    assert shown and all(item.frames_at(16) >= 20 for item in shown)
    assert len(shown) == sum(1 for c in catalog.list_clips() if c.frames * 16 / 24 >= 19.5)
    assert browser.summary.text().startswith(f"{len(shown)} clip")


def test_keys_accept_reject_with_a_reason_undo_and_redo(qtbot, make_window, filled_project):
    window = make_window(filled_project)
    catalog, browser = filled_project.catalog, window.browser
    browser.select_row(0)
    first, second = browser.model.item(0).id, browser.model.item(1).id
    press(qtbot, window, Qt.Key.Key_A)
    assert catalog.get_clip(first).decision == "accepted"
    assert browser.current_clip_id() == second  # moved on to the next clip
    assert browser.filters.status_buttons["accepted"].text() == "Accepted  1"

    press(qtbot, window, Qt.Key.Key_R)
    dialog = window.findChild(RejectReasonDialog)
    assert dialog is not None and dialog.isVisible()
    qtbot.keyClick(dialog, Qt.Key.Key_2)  # too dynamic
    clip = catalog.get_clip(second)
    assert (clip.decision, clip.reason, clip.decided_by) == ("rejected", "too dynamic", "person")
    assert window.model.index(1, Column.STATUS).data() == "Rejected · Too dynamic"

    press(qtbot, window, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)
    assert catalog.get_clip(second).decision == "pending"
    press(qtbot, window, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)
    assert catalog.get_clip(first).decision == "pending"
    press(qtbot, window, Qt.Key.Key_Z,
          Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.ShiftModifier)
    assert catalog.get_clip(first).decision == "accepted"
    assert catalog.counts()["accepted"] == 1

    row = browser.model.row_of(browser.current_clip_id())  # 2: moved on past the reject
    press(qtbot, window, Qt.Key.Key_J)
    press(qtbot, window, Qt.Key.Key_J)
    assert browser.current_clip_id() == browser.model.item(row + 2).id
    press(qtbot, window, Qt.Key.Key_K)
    assert browser.current_clip_id() == browser.model.item(row + 1).id


def test_other_reason_is_typed(qtbot, make_window, filled_project):
    window = make_window(filled_project)
    window.browser.select_row(3)
    clip_id = window.browser.current_clip_id()
    press(qtbot, window, Qt.Key.Key_R)
    dialog = window.findChild(RejectReasonDialog)
    qtbot.waitUntil(dialog.isActiveWindow, timeout=5000)
    qtbot.keyClick(dialog, Qt.Key.Key_6)
    assert dialog.other_text.hasFocus() and dialog.isVisible()
    qtbot.keyClicks(dialog.other_text, "watermark in corner")
    qtbot.keyClick(dialog.other_text, Qt.Key.Key_Return)
    assert filled_project.catalog.get_clip(clip_id).reason == "watermark in corner"


def test_bulk_decision_on_a_selection_undoes_per_clip(qtbot, make_window, filled_project):
    window = make_window(filled_project)
    catalog = filled_project.catalog
    ids = catalog.clip_ids()
    catalog.set_decision([ids[0]], "rejected", "duplicate")
    window.browser.reload()
    press(qtbot, window, Qt.Key.Key_A, Qt.KeyboardModifier.ControlModifier)  # select all
    assert len(window.browser.selected_ids()) == 9
    qtbot.mouseClick(window.browser.accept_button, Qt.MouseButton.LeftButton)
    box = window.clip_actions.confirm_box  # a selection is decided after one question
    qtbot.mouseClick(box.button(box.StandardButton.Yes), Qt.MouseButton.LeftButton)
    assert catalog.counts()["accepted"] == 9
    assert window.undo_stack.undoText() == "Accept 9 clips"
    window.undo_action.trigger()
    assert catalog.get_clip(ids[0]).reason == "duplicate"
    assert [catalog.get_clip(i).decision for i in ids[1:]] == ["pending"] * 8


def test_trim_and_split_a_clip(qtbot, make_window, filled_project):
    window = make_window(filled_project)
    catalog = filled_project.catalog
    clip = select_clip(window, 0)
    catalog.save_caption(f"{TRIGGER} Rain on glass.", clip_id=clip.id)
    window.trim(clip.id, clip.start_frame + 2, clip.end_frame - 3)
    trimmed = catalog.get_clip(clip.id)
    assert (trimmed.start_frame, trimmed.end_frame) == (clip.start_frame + 2, clip.end_frame - 3)
    assert window.model.index(0, Column.FRAMES).data() == str(trimmed.frames)
    window.undo_action.trigger()
    assert catalog.get_clip(clip.id).frames == clip.frames

    child = window.split(clip.id, clip.start_frame + 10)
    assert child is not None
    assert window.model.item(1).id == child  # shown right below its parent
    assert catalog.get_clip(child).caption == f"{TRIGGER} Rain on glass."
    assert catalog.get_clip(clip.id).end_frame == clip.start_frame + 10
    assert window.split(clip.id, clip.start_frame + 50) is None  # outside: refused, said why
    assert "not inside" in window.statusBar().currentMessage()


def test_in_out_and_split_keys_cut_at_the_preview_playhead(qtbot, make_window, filled_project):
    window = make_window(filled_project)
    preview = window.preview
    catalog = filled_project.catalog
    clip = select_clip(window, 0)
    assert preview.clip().id == clip.id

    press(qtbot, window, Qt.Key.Key_Space)
    assert preview.is_playing()
    press(qtbot, window, Qt.Key.Key_Space)
    assert not preview.is_playing()

    preview.seek_frame(clip.start_frame + 5)
    press(qtbot, window, Qt.Key.Key_I)
    assert catalog.get_clip(clip.id).start_frame == clip.start_frame + 5
    preview.seek_frame(clip.end_frame - 4)
    press(qtbot, window, Qt.Key.Key_O)  # the frame on screen is the last one kept
    assert catalog.get_clip(clip.id).end_frame == clip.end_frame - 3
    assert preview.clip().frames == clip.frames - 8  # the preview follows the new range

    preview.seek_frame(clip.start_frame + 12)
    press(qtbot, window, Qt.Key.Key_S)
    left = catalog.get_clip(clip.id)
    child = catalog.get_clip(window.model.item(1).id)
    assert (left.start_frame, left.end_frame) == (clip.start_frame + 5, clip.start_frame + 12)
    assert (child.start_frame, child.end_frame, child.parent_id) == \
        (clip.start_frame + 12, clip.end_frame - 3, clip.id)

    # The split is undone first (merged back); then the out point, then the in point.
    press(qtbot, window, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)
    assert catalog.get_clip(clip.id).end_frame == clip.end_frame - 3
    assert child.id not in catalog.clip_ids()
    press(qtbot, window, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)
    assert catalog.get_clip(clip.id).end_frame == clip.end_frame

    # Undoing the in point after a split elsewhere (the CLI) would overlap: refused, said so.
    catalog.split_clip(clip.id, clip.start_frame + 12)
    press(qtbot, window, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)
    assert catalog.get_clip(clip.id).start_frame == clip.start_frame + 5
    assert "not undone" in window.statusBar().currentMessage()


def test_a_job_runs_and_is_cancelled_from_the_jobs_panel(qtbot, make_window, filled_project):
    window = make_window(filled_project)
    handle = window.run_job("analyze", "Analyze 500 clips", wait_items, items=500)
    panel = window.jobs_panel
    qtbot.waitUntil(lambda: handle.progress is not None and handle.progress.done >= 3,
                    timeout=10_000)
    assert panel.model.rowCount() == 1 and panel.selected_job() is handle
    assert panel.cancel_button.isEnabled()
    with qtbot.waitSignal(window.jobs.job_finished, timeout=10_000):
        qtbot.mouseClick(panel.cancel_button, Qt.MouseButton.LeftButton)
    assert handle.status == "cancelled"
    assert panel.model.index(0, 1).data() == "Cancelled"
    assert "cancelled" in panel.log.toPlainText()
    assert filled_project.catalog.get_job(handle.catalog_job_id).status == "cancelled"


def test_closing_asks_before_cancelling_running_jobs(qtbot, make_window, filled_project):
    window = make_window(filled_project)
    handle = window.run_job("caption", "Caption everything", wait_items, items=100_000)
    qtbot.waitUntil(lambda: handle.progress is not None, timeout=10_000)

    window.close()
    box = window.findChild(QMessageBox, "closeQuestion")
    assert box is not None and box.isVisible() and "Caption everything" in box.text()
    qtbot.mouseClick(box.button(QMessageBox.StandardButton.No), Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: window.findChild(QMessageBox, "closeQuestion") is None)
    assert window.isVisible() and handle.status == "running"

    window.close()
    box = window.findChild(QMessageBox, "closeQuestion")
    qtbot.mouseClick(box.button(QMessageBox.StandardButton.Yes), Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: not window.isVisible(), timeout=10_000)
    assert handle.status == "cancelled" and not handle.thread.isRunning()


def test_layout_and_view_are_remembered(qtbot, make_window, filled_project, ui_settings):
    window = make_window(filled_project)
    window.browser.show_view("table")
    window.docks["jobs"].hide()
    window.close()
    again = make_window(filled_project)
    assert again.browser.current_view_name() == "table"
    assert not again.docks["jobs"].isVisible()
    assert recent_projects(ui_settings) == [filled_project.root]


def test_recent_projects_list_keeps_the_newest_first_once():
    assert updated_recent(["/b", "/a", "/c"], "/a") == ["/a", "/b", "/c"]
    assert updated_recent([f"/{i}" for i in range(10)], "/new", limit=3) == ["/new", "/0", "/1"]


def test_dropping_files_ingests_them(qtbot, make_window, project, synthetic_films):
    window = make_window(project)
    assert window.model.rowCount() == 0
    paths = [path for path, _ in synthetic_films.values()][:2]
    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(str(p)) for p in paths])
    enter = QDragEnterEvent(QPoint(300, 300), Qt.DropAction.CopyAction, mime,
                            Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier)
    QApplication.sendEvent(window, enter)
    assert enter.isAccepted()  # files: the window takes them
    drop = QDropEvent(QPointF(300, 300), Qt.DropAction.CopyAction, mime,
                      Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier)
    with qtbot.waitSignal(window.jobs.job_finished, timeout=60_000) as finished:
        QApplication.sendEvent(window, drop)
    assert finished.args[0].kind == "ingest" and finished.args[0].status == "done"
    assert window.model.rowCount() == len(project.catalog.clip_ids()) > 0
    assert {item.source_name for item in
            (window.model.item(r) for r in range(window.model.rowCount()))} == \
        {p.name for p in paths}


def test_a_caption_edited_in_the_table_is_there_after_reopening(qtbot, make_window,
                                                               filled_project, ui_settings):
    window = make_window(filled_project)
    browser = window.browser
    browser.show_view("table")
    browser.select_row(2)
    clip_id = browser.current_clip_id()
    index = window.model.index(2, Column.CAPTION)
    browser.table.setCurrentIndex(index)
    qtbot.keyClick(browser.table, Qt.Key.Key_F2)  # edit the current cell
    editor = QApplication.focusWidget()
    assert isinstance(editor, QLineEdit) and browser.table.isAncestorOf(editor)
    qtbot.keyClicks(editor, f"{TRIGGER} Neon signs flicker in the rain.")
    qtbot.keyClick(editor, Qt.Key.Key_Return)  # Qt commits the editor on its next loop turn
    qtbot.waitUntil(lambda: filled_project.catalog.get_clip(clip_id).caption == \
                    f"{TRIGGER} Neon signs flicker in the rain.", timeout=5000)
    window.close()
    filled_project.close()

    reopened = Project(filled_project.root)
    try:
        again = make_window(reopened)
        row = again.model.row_of(clip_id)
        assert again.model.index(row, Column.CAPTION).data() == \
            f"{TRIGGER} Neon signs flicker in the rain."
        assert reopened.catalog.caption_history(clip_id=clip_id)[0].is_manual
        again.close()
    finally:
        reopened.close()



def test_opening_another_project_replaces_the_window(qtbot, filled_project, tmp_path,
                                                    ui_settings):
    from curator.gui import app

    first = app.open_window(filled_project.root, ui_settings)
    qtbot.waitExposed(first)
    other = tmp_path / "other-project"
    first.project_open_requested.emit(other)
    qtbot.waitUntil(lambda: len(app._windows) == 1 and app._windows[0] is not first,
                    timeout=5000)  # the first window closed (and deleted) itself
    second = app._windows[-1]
    try:
        assert second.project.root == other.resolve() and second.isVisible()
        assert (other / "curator.db").exists()  # a new project is created by opening it
        assert recent_projects(ui_settings)[:2] == [other.resolve(), filled_project.root]
    finally:
        second.close()
    qtbot.waitUntil(lambda: not app._windows, timeout=5000)


def test_project_dialog_opens_a_recent_project(qtbot, filled_project, ui_settings):
    from curator.gui.dialogs.project_dialog import ProjectDialog, remember_project

    remember_project(ui_settings, filled_project.root)
    dialog = ProjectDialog(ui_settings)
    qtbot.addWidget(dialog)
    assert dialog.recent.count() == 1 and dialog.open_recent.isEnabled()
    qtbot.mouseClick(dialog.open_recent, Qt.MouseButton.LeftButton)
    assert dialog.chosen == filled_project.root and dialog.result() == dialog.DialogCode.Accepted


def test_images_have_their_tab_and_the_same_keys(qtbot, make_window, filled_project, tmp_path):
    from tests.media_factory import make_image

    catalog = filled_project.catalog
    for i, color in enumerate([(200, 80, 40), (40, 90, 200)]):
        path = make_image(tmp_path / f"shot{i}.png", size=(96, 64), color=color)
        catalog.upsert_image(path=path, size=path.stat().st_size, mtime=path.stat().st_mtime,
                             content_hash=f"img{i}", width=96, height=64)
    window = make_window(filled_project)
    assert window.tabs.count() == 2 and window.tabs.tabText(1) == "Images  2"
    window.tabs.setCurrentWidget(window.image_panel)
    first = window.image_panel.current_image()
    window.image_panel.list.setFocus()
    qtbot.keyClick(window.image_panel.list, Qt.Key.Key_A)
    assert catalog.get_image(first.id).decision == "accepted"
    assert [c.decision for c in catalog.list_clips()] == ["pending"] * 9  # clips untouched


def test_a_caption_typed_in_the_caption_panel_is_saved_and_kept(qtbot, make_window,
                                                                filled_project):
    window = make_window(filled_project)
    editor = window.caption_panel.editor
    window.browser.select_row(4)
    clip_id = window.browser.current_clip_id()
    editor.setFocus()
    editor.selectAll()
    text = f"{TRIGGER} Sails unfurl as a ship leaves the harbour."
    qtbot.keyClicks(editor, text)  # letters are typed, not taken as A/R/S shortcuts
    qtbot.keyClick(editor, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: filled_project.catalog.get_clip(clip_id).caption == text,
                    timeout=5000)
    assert filled_project.catalog.get_clip(clip_id).decision == "pending"
    assert window.model.index(4, Column.CAPTION).data() == text  # the table saw the save
    assert window.browser.filters.captioned_label.text() == "Captioned 3"
    window.close()
    filled_project.close()
    reopened = Project(filled_project.root)
    try:
        assert reopened.catalog.get_clip(clip_id).caption == text
        assert reopened.catalog.caption_history(clip_id=clip_id)[0].origin == "manual"
    finally:
        reopened.close()


def test_caption_export_and_train_panels_are_built_when_their_tab_is_shown(qtbot, make_window,
                                                                          filled_project):
    from curator.gui.main_window import JOB_TABS

    window = make_window(filled_project)
    assert window.job_panels == {}  # nothing built before their workspace is shown
    for title in JOB_TABS:
        window.show_workspace(title.lower())
        qtbot.waitUntil(lambda t=title: t in window.job_panels, timeout=5000)
        panel = window.job_panels[title]
        assert window.workspaces.scrollers[title.lower()].widget() is panel


def test_an_export_warning_reveals_its_clip(qtbot, make_window, filled_project):
    window = make_window(filled_project)
    panel = window.job_panel("Export", build=True)
    assert panel is not None
    last = filled_project.catalog.clip_ids()[-1]
    panel.clip_activated.emit(last)  # what double-clicking a warning naming the clip does
    qtbot.waitUntil(lambda: window._shown_clip is not None and window._shown_clip.id == last,
                    timeout=3000)
    window.browser.filters.status_buttons["accepted"].click()  # the clip is filtered out now
    qtbot.waitUntil(lambda: window.model.row_of(last) is None, timeout=3000)
    window.reveal_clip(last)
    assert window._shown_clip.id == last
    panel.shutdown()


def test_a_digit_on_the_focused_reason_list_picks_and_closes(qtbot, make_window, filled_project):
    """The list has the focus when the picker opens: a digit typed there must pick the reason
    and close the picker, not only move the highlight (keyboard search)."""
    window = make_window(filled_project)
    window.browser.select_row(2)
    clip_id = window.browser.current_clip_id()
    press(qtbot, window, Qt.Key.Key_R)
    dialog = window.findChild(RejectReasonDialog)
    qtbot.waitUntil(dialog.isActiveWindow, timeout=5000)
    qtbot.keyClick(dialog.reasons, Qt.Key.Key_3)
    assert not dialog.isVisible()
    clip = filled_project.catalog.get_clip(clip_id)
    assert clip.decision == "rejected" and clip.reason == dialog.reasons.item(2).data(
        Qt.ItemDataRole.UserRole)
