"""Workspaces switched with Ctrl+1 … Ctrl+5, the tile size, and the layout kept per user."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QSettings, Qt

from curator.gui.widgets.thumb_zoom import DEFAULT_WIDTH
from curator.gui.window_state import SETTINGS_GROUP
from curator.gui.workspaces import KEYS
from tests.gui.conftest import select_clip

CTRL = Qt.KeyboardModifier.ControlModifier


def key(qtbot, window, k: Qt.Key, modifier=Qt.KeyboardModifier.NoModifier) -> None:
    qtbot.keyClick(window.browser.active_view(), k, modifier)


def test_ctrl_numbers_switch_workspaces_and_the_list_goes_along(qtbot, make_window,
                                                                filled_project):
    window = make_window(filled_project)
    spaces = window.workspaces
    assert spaces.current() == "curate" and window.job_panels == {}
    window.browser.select_row(3)
    shown = window.browser.current_clip_id()
    for number, expected in zip((Qt.Key.Key_2, Qt.Key.Key_3, Qt.Key.Key_4, Qt.Key.Key_5,
                                 Qt.Key.Key_1), ("caption", "export", "train", "stats",
                                                 "curate"), strict=True):
        qtbot.keyClick(window, number, CTRL)
        assert spaces.current() == expected
        assert spaces.stack.currentWidget() is spaces.pages[expected]
        assert spaces.bar.buttons[expected].isChecked()
    assert set(window.job_panels) == {"Caption", "Export", "Train"}  # built when first shown
    # The one clip list sits on Caption too, with its selection and the caption editor.
    qtbot.keyClick(window, Qt.Key.Key_2, CTRL)
    assert window.tabs.isVisibleTo(window) and window.caption_panel.isVisibleTo(window)
    assert window.browser.current_clip_id() == shown
    assert window.tabs.window() is window
    assert not window.preview.isVisibleTo(window)  # Curate's, not Caption's
    # A letter on the list still decides the current clip there.
    key(qtbot, window, Qt.Key.Key_A)
    assert filled_project.catalog.get_clip(shown).decision == "accepted"
    # Clicking a segment works as the key does.
    qtbot.mouseClick(spaces.bar.buttons["export"], Qt.MouseButton.LeftButton)
    assert spaces.current() == "export"
    assert [a.text() for a in window.menuBar().actions()][-1] == "&View"


def test_images_show_one_caption_editor(qtbot, make_window, filled_project):
    window = make_window(filled_project)
    qtbot.keyClick(window, Qt.Key.Key_2, CTRL | Qt.KeyboardModifier.AltModifier)
    assert window.tabs.currentWidget() is window.image_panel
    editors = [p for p in (window.caption_panel, window.image_panel.caption_panel)
               if p.isVisibleTo(window)]
    assert editors == [window.image_panel.caption_panel]
    assert not window.preview.isVisibleTo(window)
    qtbot.keyClick(window, Qt.Key.Key_1, CTRL | Qt.KeyboardModifier.AltModifier)
    assert window.caption_panel.isVisibleTo(window) and window.preview.isVisibleTo(window)


def test_tile_size_follows_ctrl_plus_minus_and_is_remembered(qtbot, make_window, filled_project,
                                                            ui_settings):
    window = make_window(filled_project)
    zoom, grid = window.browser.zoom, window.browser.grid
    before = grid.gridSize()
    key(qtbot, window, Qt.Key.Key_Equal, CTRL)
    key(qtbot, window, Qt.Key.Key_Equal, CTRL)
    assert zoom.width_px() > DEFAULT_WIDTH
    assert grid.gridSize().height() > before.height()
    assert window.browser.card_delegate.thumb.width() == zoom.width_px()
    bigger = zoom.width_px()
    key(qtbot, window, Qt.Key.Key_Minus, CTRL)
    assert DEFAULT_WIDTH <= zoom.width_px() < bigger
    chosen = zoom.width_px()
    window.show_workspace("train")
    window.close()
    again = make_window(filled_project)
    assert again.browser.zoom.width_px() == chosen
    assert again.workspaces.current() == "train"
    ui_settings.beginGroup(SETTINGS_GROUP)
    assert int(ui_settings.value("thumbWidth")) == chosen
    ui_settings.endGroup()


def test_reset_layout_forgets_what_was_saved(qtbot, make_window, filled_project, ui_settings):
    window = make_window(filled_project)
    split = window.workspaces.splitters["curate"]
    qtbot.waitUntil(lambda: split.sizes()[0] > 0, timeout=3000)
    split.setSizes([split.width() - 600, 600])  # the preview as narrow as it goes
    dragged = split.sizes()
    assert dragged[1] < dragged[0] - 50
    window.browser.zoom.step(2)
    window.docks["jobs"].hide()
    window.close()  # saved
    ui_settings.beginGroup(SETTINGS_GROUP)
    assert ui_settings.contains("splitter/curate") and ui_settings.contains("thumbWidth")
    ui_settings.endGroup()

    again = make_window(filled_project)
    split = again.workspaces.splitters["curate"]
    assert not again.docks["jobs"].isVisible() and again.browser.zoom.width_px() != DEFAULT_WIDTH
    assert split.sizes() == dragged
    view_menu = again.menuBar().actions()[-1].menu()
    reset = next(a for a in view_menu.actions() if a.text() == "&Reset layout")
    reset.trigger()
    # The panes go back to their shares of the screen (offscreen, a small one: the minimums).
    qtbot.waitUntil(lambda: split.sizes() != dragged, timeout=3000)
    assert again.docks["jobs"].isVisible()
    assert again.browser.zoom.width_px() == DEFAULT_WIDTH
    ui_settings.beginGroup(SETTINGS_GROUP)
    assert not ui_settings.contains("splitter/curate") and not ui_settings.contains("geometry")
    ui_settings.endGroup()


def test_every_workspace_fits_1280x720(qtbot, make_window, filled_project):
    window = make_window(filled_project)
    for space in KEYS:
        window.show_workspace(space)
        hint = window.minimumSizeHint()
        assert hint.width() <= 1280 and hint.height() <= 720, (space, hint)
    # a selection changes the browser's summary ("9 clips shown · 9 selected" held the window
    # wider than the screen): its width stays
    window.show_workspace("curate")
    bar = window.browser.summary.parentWidget()
    before = bar.minimumSizeHint().width()
    window.browser.grid.selectAll()
    qtbot.waitUntil(lambda: window.browser.summary.text() == "9 selected")
    assert bar.minimumSizeHint().width() <= before
    assert window.minimumSizeHint().width() <= 1280


def test_tests_never_write_a_persons_settings(tmp_path_factory):
    settings = QSettings()  # what a window opened without its own settings would use
    base = Path(tmp_path_factory.getbasetemp()).resolve()
    assert Path(settings.fileName()).resolve().is_relative_to(base), settings.fileName()


def test_clip_keys_act_only_where_the_clip_is_seen(qtbot, make_window, filled_project):
    window = make_window(filled_project)
    catalog = filled_project.catalog
    clip = select_clip(window, 2)
    window.preview.seek_frame(clip.start_frame + 4)
    qtbot.keyClick(window, Qt.Key.Key_3, CTRL)  # Export: no list, no preview on the page
    qtbot.keyClick(window, Qt.Key.Key_A)
    qtbot.keyClick(window, Qt.Key.Key_S)
    assert catalog.get_clip(clip.id).decision == "pending"
    assert len(catalog.clip_ids()) == 9
    qtbot.keyClick(window, Qt.Key.Key_2, CTRL)  # Caption: the list, but no playhead to cut at
    key(qtbot, window, Qt.Key.Key_S)
    assert len(catalog.clip_ids()) == 9 and not window.split_action.isEnabled()
    key(qtbot, window, Qt.Key.Key_A)
    assert catalog.get_clip(clip.id).decision == "accepted"
    qtbot.keyClick(window, Qt.Key.Key_1, CTRL)  # Curate: the playhead keys are back
    assert window.split_action.isEnabled() and window.play_action.isEnabled()


def test_the_images_tab_takes_the_playhead_keys_from_the_hidden_clip(qtbot, make_window,
                                                                    filled_project):
    window = make_window(filled_project)
    catalog = filled_project.catalog
    clip = select_clip(window, 2)
    window.preview.seek_frame(clip.start_frame + 4)
    qtbot.waitUntil(lambda: window.preview.current_frame() == clip.start_frame + 4, timeout=5000)
    window.preview.play()
    assert window.preview.is_playing()
    window.tabs.setCurrentWidget(window.image_panel)  # the preview steps aside
    assert not window.preview.is_playing()  # a hidden preview does not play on
    qtbot.keyClick(window, Qt.Key.Key_S)
    assert len(catalog.clip_ids()) == 9 and not window.split_action.isEnabled()
    window.tabs.setCurrentWidget(window.browser)
    assert window.split_action.isEnabled()


def test_list_keys_stay_with_the_list_and_find_goes_to_it(qtbot, make_window, filled_project):
    window = make_window(filled_project)
    window.browser.select_row(1)
    before = window.browser.selected_ids()
    qtbot.keyClick(window, Qt.Key.Key_3, CTRL)  # Export: the list is not on the page
    qtbot.keyClick(window, Qt.Key.Key_A, CTRL)
    assert window.browser.selected_ids() == before == [window.browser.current_clip_id()]
    qtbot.keyClick(window, Qt.Key.Key_F, CTRL)
    assert window.workspaces.current() == "curate"
    qtbot.waitUntil(window.browser.filters.search.hasFocus, timeout=3000)
    qtbot.keyClick(window.browser.active_view(), Qt.Key.Key_A, CTRL)
    assert len(window.browser.selected_ids()) == 9


def test_a_first_start_fills_the_screen_then_the_window_opens_as_left(qtbot, filled_project,
                                                                     ui_settings):
    from curator.gui.main_window import MainWindow

    window = MainWindow(filled_project, ui_settings)
    qtbot.addWidget(window)
    assert window.layout_state.first_start
    window.show_sized()
    qtbot.waitUntil(window.isMaximized, timeout=3000)
    window.close()
    again = MainWindow(filled_project, ui_settings)
    qtbot.addWidget(again)
    assert not again.layout_state.first_start  # its saved geometry, not a fixed 1600×980
    again.show_sized()
    qtbot.waitUntil(again.isVisible, timeout=3000)
    again.close()


def test_a_hand_edited_tile_size_that_is_not_a_number_is_ignored(qtbot, make_window,
                                                                  filled_project, ui_settings):
    ui_settings.beginGroup(SETTINGS_GROUP)
    ui_settings.setValue("thumbWidth", "large")
    ui_settings.endGroup()
    window = make_window(filled_project)  # opens, with the default size
    assert window.browser.zoom.width_px() == DEFAULT_WIDTH
