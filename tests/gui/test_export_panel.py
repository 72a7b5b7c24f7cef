"""The Export tab on a real catalog of generated clips: counts, edits, warnings, export, save.

Clips are tiny (96×52) and of known lengths at 16 fps, so the preset's 45-frame windows make
one clip too short and the export transcodes in a second. Every count the tab shows is checked
against the core's own `plan_report` on the same catalog, never against numbers typed here.
"""

from __future__ import annotations

import tomllib
from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import QComboBox, QSpinBox, QWidget

from curator.core.export import (
    export_dataset,
    list_presets,
    load_plan,
    load_preset,
    plan_report,
    project_plan_path,
)
from curator.core.export.extraction import MODES
from curator.core.export.plan_edit import COL
from curator.gui.tabs.export import ExportPanel
from curator.gui.workers import JobRunner
from tests.export_fixtures import add_image, add_source, decoded_frames, write_clip

pytestmark = pytest.mark.timeout(60)

TRIGGER = "sks style"
SIZE = (96, 52)
COUNT_MS = 15_000
EXPORT_MS = 30_000


@pytest.fixture(scope="session")
def clip_files(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """Clips of 30, 45, 46 and 88 frames at 16 fps, 65 at 24 fps (written once)."""
    folder = tmp_path_factory.mktemp("export-panel-media")
    out = {f"c{n}": write_clip(folder / f"c{n}.mp4", n, size=SIZE, seed=n)
           for n in (30, 45, 46, 88)}
    out["c24"] = write_clip(folder / "c24.mp4", 65, fps=24, size=SIZE, seed=24)
    return out


@pytest.fixture
def clip_ids(catalog, clip_files, tmp_path) -> dict[str, int]:
    """All five accepted; c46 has no caption, c88's caption lacks the trigger; one image."""
    catalog.update_settings(trigger=TRIGGER)
    ids = {}
    for name, path in clip_files.items():
        caption = {"c46": None, "c88": "a harbour at dusk"}.get(name, f"{TRIGGER}, a scene")
        (ids[name],) = add_source(catalog, path, caption=caption)
    add_image(catalog, tmp_path / "still.png", size=(80, 80), caption=f"{TRIGGER}, a still")
    return ids


@pytest.fixture
def make_panel(qtbot, project):
    """Build Export tabs on the project; each is shut down and its runner waited for."""
    made: list[tuple[ExportPanel, JobRunner]] = []

    def make() -> ExportPanel:
        runner = JobRunner(project.catalog)
        panel = ExportPanel(project=project, catalog=project.catalog, job_runner=runner)
        panel.workers = 2
        qtbot.addWidget(panel)
        panel.resize(1400, 760)
        panel.show()
        qtbot.waitExposed(panel)
        made.append((panel, runner))
        return panel

    yield make
    for panel, runner in made:
        panel.shutdown()
        assert runner.shutdown(20_000)


def settle(qtbot, panel: ExportPanel) -> None:
    """Wait until no count is pending or running."""
    qtbot.waitUntil(lambda: not panel.counting and panel.report is not None, timeout=COUNT_MS)


def expected(catalog, plan, trainer: str = "musubi"):
    return plan_report(plan, catalog.list_clips(status="accepted"),
                       catalog.list_images(status="accepted"), trainer, trigger=TRIGGER)


def shown_counts(panel: ExportPanel) -> list[tuple[str, int, int]]:
    return [(panel.cell(r, "name"), int(panel.cell(r, "items").replace(",", "")),
             int(panel.cell(r, "batches").replace(",", "")))
            for r in range(panel.table.model().rowCount())]


def report_counts(report) -> list[tuple[str, int, int]]:
    return [(s.name, s.items, s.batches) for s in report.counts.sections]


# --- the tab -------------------------------------------------------------------------------

def test_each_preset_shows_the_counts_plan_report_gives(qtbot, make_panel, catalog, clip_ids):
    panel = make_panel()
    settle(qtbot, panel)
    assert panel.plan_key == "preset:wan21-14b-style-24gb"  # the project has no plan yet
    for name in list_presets():
        panel.choose_plan(name)
        settle(qtbot, panel)
        want = expected(catalog, load_preset(name))
        assert shown_counts(panel) == report_counts(want)
        assert panel.stat_labels["items"].text() == f"{want.total_items:,}"
        assert panel.stat_labels["batches"].text() == f"{want.total_batches:,}"
        assert panel.stat_labels["total_steps"].text() == f"{want.counts.total_steps:,}"
    panel.choose_plan("wan21-14b-style-24gb")
    panel.set_trainer("diffusion-pipe")
    settle(qtbot, panel)
    want = expected(catalog, load_preset("wan21-14b-style-24gb"), "diffusion-pipe")
    assert shown_counts(panel) == report_counts(want)
    assert "[[directory]]" in panel.config_view.toPlainText()


def test_editing_target_frames_recounts_after_the_debounce(qtbot, make_panel, catalog,
                                                           clip_ids):
    panel = make_panel()
    settle(qtbot, panel)
    row = [s.name for s in panel.plan.sections].index("clips_768x416")
    before = panel.cell(row, "items")
    with qtbot.waitSignal(panel.counted, timeout=COUNT_MS) as blocker:
        panel.set_cell(row, "targets", "1, 21, 45")
        assert panel.counting and panel.cell(row, "items") == before  # not yet: debounced
    assert panel.plan.sections[row].extraction.target_frames == (1, 21, 45)
    assert "modified" in panel.origin_label.text()
    want = expected(catalog, panel.plan)
    assert report_counts(blocker.args[0]) == report_counts(want)
    settle(qtbot, panel)
    assert shown_counts(panel) == report_counts(want)
    assert int(panel.cell(row, "items")) > int(before)  # 45-frame heads of the long clips

    # A target that is not 4n+1 is flagged in the cell and in the warnings, with its rounding.
    panel.set_cell(row, "targets", "1, 24")
    settle(qtbot, panel)
    targets = panel.table.model().index(row, COL["targets"])
    assert targets.data(Qt.ItemDataRole.ToolTipRole) == "Not 4n+1: 24 → 21"
    assert any("target_frames 24 is not 4n+1" in t and "down to 21" in t
               for t in panel.warning_texts())

    # A target of 0 is refused with the core's reason and the cell goes back.
    panel.set_cell(row, "targets", "0")
    qtbot.waitUntil(lambda: panel.cell(row, "targets") == "1, 24", timeout=2000)
    assert "at least 1" in panel.notice.text() and panel.notice.isVisible()


def test_warnings_name_the_short_clip_and_open_it(qtbot, make_panel, catalog, clip_ids):
    panel = make_panel()
    settle(qtbot, panel)
    texts = panel.warning_texts()
    short = [t for t in texts if "c30.mp4 [0, 30)" in t and "short of the 45-frame" in t]
    assert short == ["clip c30.mp4 [0, 30) has 30 frames at 16 fps: 15 short of the 45-frame "
                     "target of section 'clips_384x208', so it loses its 2 windows of 45 "
                     "frames."]
    # 45 frames: both uniform windows start at frame 0 and become one cache file
    assert any("c45.mp4 [0, 45)" in t and "collapse into 1 cache file" in t for t in texts)
    assert any("c46.mp4 [0, 46)" in t and "no caption" in t for t in texts)
    assert any("c88.mp4 [0, 88)" in t and f"'{TRIGGER}'" in t for t in texts)
    assert panel.tabs.tabText(0) == f"Warnings ({len(texts)})"
    # what stops the trainer comes first, and the filter narrows the list to one kind
    assert "no caption" in texts[0] and "c46.mp4" in texts[0]
    panel.warning_filter.setCurrentIndex(panel.warning_filter.findData("caption"))
    assert {t.split(":")[0] for t in panel.warning_texts(shown_only=True)} == {
        "clip c46.mp4 [0, 46) has no caption", "clip c88.mp4 [0, 88)"}
    panel.warning_filter.setCurrentIndex(panel.warning_filter.findData("length"))
    assert short[0] in panel.warning_texts(shown_only=True)
    panel.warning_filter.setCurrentIndex(panel.warning_filter.findData("all"))
    row = next(i for i, t in enumerate(texts) if t == short[0])
    item = panel.warning_list.model().index(row, 0)
    panel.warning_list.scrollTo(item)
    where = panel.warning_list.visualRect(item).center()
    with qtbot.waitSignal(panel.clip_activated, timeout=2000) as blocker:
        # a double-click as Qt sees it: a press, then the double-click on the same row
        qtbot.mouseClick(panel.warning_list.viewport(), Qt.MouseButton.LeftButton, pos=where)
        qtbot.mouseDClick(panel.warning_list.viewport(), Qt.MouseButton.LeftButton, pos=where)
    assert blocker.args == [clip_ids["c30"]]
    # rejected in the browser: gone from the counts and the warnings after a recount
    catalog.set_decision([clip_ids["c30"]], "rejected")
    with qtbot.waitSignal(panel.counted, timeout=COUNT_MS):
        panel.recount_button.click()
    assert not any("c30.mp4" in t for t in panel.warning_texts())
    assert shown_counts(panel) == report_counts(expected(catalog, panel.plan))


def test_the_resolution_helper_keeps_the_clips_aspect(qtbot, make_panel, catalog, clip_ids):
    panel = make_panel()
    settle(qtbot, panel)
    # 96×52 is the only source size: its ratio and the buckets musubi picks for it.
    assert panel.aspect() == SIZE
    options = panel.helper_options()
    assert options and all(w % 16 == 0 and h % 16 == 0 and w * h <= 832 * 480
                           for w, h in options)
    assert (768, 416) in options  # 768/416 = 96/52 exactly
    row = [s.name for s in panel.plan.sections].index("clips_384x208")
    panel.table.selectRow(row)
    assert "96×52 (5) → 384×208" in panel.helper_now.text()
    panel.budget_spin.setValue(1280 * 720)
    assert max(w * h for w, h in panel.helper_options()) <= 1280 * 720
    assert len(panel.helper_options()) > len(options)
    panel.helper_table.selectRow(panel.helper_options().index((768, 416)))
    panel.use_helper_size()
    assert panel.plan.sections[row].resolution == (768, 416)
    assert panel.cell(row, "resolution") == "768×416"


def test_sections_are_added_moved_and_removed(qtbot, make_panel, catalog, clip_ids):
    panel = make_panel()
    settle(qtbot, panel)
    names = [s.name for s in panel.plan.sections]
    panel.table.selectRow(len(names) - 1)
    panel.add_section("videos")
    assert [s.name for s in panel.plan.sections] == [*names, "clips_384x208_2"]
    new = len(names)
    panel.set_cell(new, "mode", "slide")
    panel.set_cell(new, "stride", "8")
    panel.set_cell(new, "targets", "17")
    panel.set_cell(new, "select", "source: c88.mp4")
    section = panel.plan.sections[new]
    assert (section.extraction.mode, section.extraction.frame_stride) == ("slide", 8)
    assert section.select.sources == ("c88.mp4",)
    assert panel.cell(new, "sample") == "–"  # uniform only
    assert "source: c88.mp4" in panel.selection_choices()
    settle(qtbot, panel)
    assert shown_counts(panel) == report_counts(expected(catalog, panel.plan))
    panel.move_section(-1)
    assert panel.plan.sections[new - 1].name == "clips_384x208_2"
    panel.remove_section()
    assert [s.name for s in panel.plan.sections] == names


def test_cells_are_edited_with_lists_and_spin_boxes(qtbot, make_panel, catalog, clip_ids):
    panel = make_panel()
    table = panel.table
    row = [s.name for s in panel.plan.sections].index("clips_768x416")

    def open_editor(key: str, kind: type) -> QWidget:
        index = table.model().index(row, COL[key])
        table.setCurrentIndex(index)
        table.edit(index)
        editor = table.viewport().findChild(kind)
        assert editor is not None and editor.isVisible()
        return editor

    combo = open_editor("mode", QComboBox)
    assert [combo.itemText(i) for i in range(combo.count())] == list(MODES)
    combo.setCurrentIndex(combo.findText("chunk"))
    combo.activated.emit(combo.currentIndex())  # a pick commits at once
    qtbot.waitUntil(lambda: panel.plan.sections[row].extraction.mode == "chunk", timeout=2000)
    spin = open_editor("repeats", QSpinBox)
    spin.setValue(4)
    qtbot.keyClick(spin, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: panel.plan.sections[row].num_repeats == 4, timeout=2000)
    assert panel.cell(row, "repeats") == "4" and panel.cell(row, "mode") == "chunk"
    settle(qtbot, panel)
    assert shown_counts(panel) == report_counts(expected(catalog, panel.plan))
    # the 'Clips from' editor offers the catalog's sources
    select = open_editor("select", QComboBox)
    assert "source: c88.mp4" in [select.itemText(i) for i in range(select.count())]
    qtbot.keyClick(select, Qt.Key.Key_Escape)


def test_the_plan_is_saved_and_comes_back_when_reopened(qtbot, make_panel, project, catalog,
                                                        clip_ids):
    panel = make_panel()
    settle(qtbot, panel)
    row = [s.name for s in panel.plan.sections].index("clips_768x416")
    panel.set_cell(row, "repeats", "3")
    panel.epochs_spin.setValue(24)
    with qtbot.waitSignal(panel.plan_saved, timeout=2000):
        panel.save_button.click()
    saved = load_plan(project_plan_path(project.root))
    assert saved == panel.plan
    assert saved.section("clips_768x416").num_repeats == 3 and saved.epochs == 24
    assert panel.plan_key == "project" and "modified" not in panel.origin_label.text()
    settle(qtbot, panel)
    panel.shutdown()

    reopened = make_panel()
    assert reopened.plan_key == "project" and reopened.plan == saved
    assert reopened.cell(row, "repeats") == "3" and reopened.epochs_spin.value() == 24
    settle(qtbot, reopened)
    assert shown_counts(reopened) == report_counts(expected(catalog, saved))
    # a preset edited and left is still there, unsaved, when picked again
    reopened.choose_plan("wan21-480p-motion")
    reopened.set_cell(0, "batch", "2")
    reopened.choose_plan("project")
    reopened.choose_plan("wan21-480p-motion")
    assert reopened.modified and reopened.plan.sections[0].batch_size == 2


def test_export_writes_the_toml_and_clips(qtbot, make_panel, catalog, clip_ids, tmp_path):
    panel = make_panel()
    settle(qtbot, panel)
    out = tmp_path / "dataset"
    panel.out_edit.setText(str(out))
    panel.root_edit.setText("/data/fox")
    with qtbot.waitSignal(panel.export_finished, timeout=EXPORT_MS) as blocker:
        handle = panel.export()
        assert handle is not None and handle.kind == "export"
        assert not panel.export_button.isEnabled() and panel.cancel_button.isEnabled()
    assert blocker.args == ["done"]
    config = out / "musubi_dataset.toml"
    assert panel.config_edit.text() == str(config) and panel.result_row.isVisible()
    data = tomllib.loads(config.read_text(encoding="utf-8"))
    assert all(d["video_directory" if "video_directory" in d else "image_directory"]
               .startswith("/data/fox/") for d in data["datasets"])
    report = panel.last_export
    # c46 has no caption: musubi would stop on it, so it is not written
    videos = sorted(p.name for p in (out / "videos").glob("*.mp4"))
    assert videos == sorted(f"{c.stem}.mp4" for c in report.layout.clips
                            if c.key != f"clip:{clip_ids['c46']}")
    for name in videos:
        assert (out / "videos" / name).with_suffix(".txt").is_file()
    frames, fps, _size = decoded_frames(out / "videos" / "c24_0-65.mp4")
    assert (frames, fps) == (43, 16)  # 65 frames at 24 fps → 43 at 16 fps
    assert shown_counts(panel) == report_counts(report)
    assert catalog.settings().export_root == str(out.resolve())  # the Train tab's default
    panel.copy_button.click()
    assert QGuiApplication.clipboard().text() == str(config)
    assert "Exported" in panel.banner.text() and panel.train_hint.isVisible()
    assert [j.status for j in panel.runner.jobs] == ["done"]


def test_an_export_can_be_cancelled(qtbot, make_panel, catalog, clip_ids, tmp_path):
    panel = make_panel()
    panel.workers = 1
    out = tmp_path / "cancelled"
    panel.out_edit.setText(str(out))
    with qtbot.waitSignal(panel.export_finished, timeout=EXPORT_MS) as blocker:
        panel.export()
        panel.cancel_export()
        assert not panel.cancel_button.isEnabled()
    assert blocker.args == ["cancelled"]
    assert not (out / "musubi_dataset.toml").exists()
    assert "Cancelled" in panel.banner.text() and panel.export_button.isEnabled()
    # the same export runs to the end afterwards (what was finished is reused)
    report = export_dataset(catalog, panel.plan, out, allow_missing_trigger=True)
    assert not report.cancelled and (out / "musubi_dataset.toml").is_file()


def test_a_failed_export_says_why(qtbot, make_panel, catalog, clip_ids, tmp_path):
    panel = make_panel()
    taken = tmp_path / "not-a-folder"
    taken.write_text("a file where the dataset folder should go")
    panel.out_edit.setText(str(taken))
    with qtbot.waitSignal(panel.export_finished, timeout=EXPORT_MS) as blocker:
        panel.export()
    assert blocker.args == ["failed"]
    assert panel.banner.text().startswith("The export failed: ")
    assert "FileExistsError" in panel.banner.text() or "Not a directory" in panel.banner.text()
    assert not panel.result_row.isVisible() and panel.export_button.isEnabled()


def test_a_broken_project_plan_is_named_and_the_preset_shown(qtbot, make_panel, project):
    path = project_plan_path(project.root)
    path.parent.mkdir(parents=True)
    path.write_text('name = "mine"\n[[sections]]\nname = "clips"\nkind = "video"\n'
                    'resolution = [768, 416]\n', encoding="utf-8")
    panel = make_panel()
    assert panel.plan_key == "preset:wan21-14b-style-24gb"
    assert "kind must be 'images' or 'videos'" in panel.notice.text()
    assert not panel.notice.isHidden()
