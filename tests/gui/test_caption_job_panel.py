"""The Caption tab, driven as a person would, against real backends.

The openai backend talks to a real OpenAI-compatible HTTP server on 127.0.0.1
(tests/caption_fixtures.py); the transformers backend loads a tiny random-weight Qwen2-VL built
by tests/tiny_vlm.py through the app's own loading code. The catalog is a real project of
generated films (tests/gui/conftest.py): 9 clips, 2 of them captioned by hand, plus a still.
"""

from __future__ import annotations

import argparse
import threading
import traceback
from pathlib import Path

import pytest
from PySide6.QtCore import QItemSelectionModel, Qt
from PySide6.QtWidgets import QMessageBox
from pytestqt.qtbot import QtBot

from curator.commands.caption import backend_settings, register
from curator.core.captioning import default_prompt, render_prompt
from curator.core.captioning.request import CaptionSelection
from curator.core.catalog import Catalog
from curator.core.project import Project
from curator.gui.tabs.caption import CaptionJobPanel
from curator.gui.tabs.caption.text import SavedCaption, short_origin, summary_text
from curator.gui.workers import JobRunner, crash_reason
from tests.caption_fixtures import FakeChatServer, add_image, chat_reply, write_image
from tests.gui.conftest import TRIGGER

pytestmark = pytest.mark.timeout(90)

RUN_MS = 30_000
VIDEO_PROMPT = "Describe this clip in one sentence. Start with '{trigger} '."


@pytest.fixture
def project(filled_project: Project, tmp_path: Path) -> Project:
    """The filled project plus one still image."""
    add_image(filled_project.catalog, write_image(tmp_path / "still.png", (200, 120), seed=3))
    return filled_project


@pytest.fixture
def make_panel(qtbot: QtBot, project: Project):
    made: list[tuple[CaptionJobPanel, JobRunner]] = []

    def make(on: Project | None = None) -> CaptionJobPanel:
        target = on or project
        runner = JobRunner(target.catalog)
        panel = CaptionJobPanel(project=target, catalog=target.catalog, job_runner=runner)
        qtbot.addWidget(panel)
        panel.resize(1500, 520)
        panel.show()
        made.append((panel, runner))
        return panel

    yield make
    for panel, runner in made:
        panel.shutdown()
        assert runner.shutdown(10_000)


def use_server(panel: CaptionJobPanel, server: FakeChatServer, **more: int) -> None:
    """Point the form at the test server with small, fast sampling."""
    panel.backend_combo.setCurrentIndex(panel.backend_combo.findData("openai"))
    panel.url_edit.setText(server.url)
    panel.server_model_edit.setText("tiny-vl")
    panel.concurrency_spin.setValue(more.get("concurrency", 2))
    panel.fps_spin.setValue(0)  # spread evenly
    panel.max_frames_spin.setValue(2)
    panel.max_pixels_spin.setValue(96 * 54)
    panel.image_pixels_spin.setValue(96 * 64)


def run(qtbot: QtBot, panel: CaptionJobPanel):
    with qtbot.waitSignal(panel.run_finished, timeout=RUN_MS) as finished:
        handle = panel.start()
        assert handle is not None
    return finished.args[0]


def live_rows(panel: CaptionJobPanel) -> list[tuple[str, str, str]]:
    return [tuple(panel.live.topLevelItem(i).text(c) for c in range(3))
            for i in range(panel.live.topLevelItemCount())]


# --- openai through the panel ----------------------------------------------------------------

def test_openai_run_shows_captions_live_and_saves_them_with_the_trigger(
        qtbot: QtBot, make_panel, project: Project) -> None:
    catalog = project.catalog
    panel = make_panel()
    assert panel.trigger_edit.text() == TRIGGER  # the project's phrase
    answers = iter(f"Sure! Here is the description:\nShot {i} of a quiet street."
                   for i in range(100))
    lock = threading.Lock()

    def respond(body: dict, n: int):
        with lock:
            return chat_reply(next(answers))

    saved: list[SavedCaption] = []
    panel.caption_saved.connect(saved.append)
    assert panel.live_placeholder.isVisible()  # the empty list says what it is for
    with FakeChatServer(responder=respond) as server:
        use_server(panel, server)
        panel.prompt_edits["video"].setPlainText(VIDEO_PROMPT)
        handle = run(qtbot, panel)

    manual = {c.id for c in catalog.list_clips() if c.caption_is_manual}
    assert len(manual) == 2
    assert handle.kind == "caption" and handle.status == "done"
    assert handle in panel.runner.jobs  # the jobs panel lists it
    # 7 uncaptioned clips and the still; the 2 written by hand are left alone
    assert len(server.requests) == 8
    clip_requests = [r for r in server.requests if r.prompt == render_prompt(VIDEO_PROMPT,
                                                                             TRIGGER)]
    assert len(clip_requests) == 7
    assert all(r.body["model"] == "tiny-vl" and len(r.images()) == 2 for r in clip_requests)
    [image_request] = [r for r in server.requests if r not in clip_requests]
    assert image_request.prompt == render_prompt(default_prompt("image"), TRIGGER)

    rows = live_rows(panel)
    assert len(rows) == len(saved) == 8
    assert not panel.live_placeholder.isVisible()
    clip_ids = {s.clip_id for s in saved if s.clip_id is not None}
    assert clip_ids == {c.id for c in catalog.list_clips()} - manual
    assert [s.image_id for s in saved if s.image_id is not None] == \
        [i.id for i in catalog.list_images()]
    for index, ((label, text, origin), made) in enumerate(zip(rows, saved)):
        assert label == made.label and origin == "tiny-vl"
        assert panel.live.topLevelItem(index).toolTip(2) == "openai:tiny-vl"
        assert text.startswith(f"{TRIGGER} Shot ") and "Sure" not in text
    for clip in catalog.list_clips():
        assert clip.caption.startswith(TRIGGER + " ")
        if clip.id not in manual:
            assert clip.caption_origin == "openai:tiny-vl"
            assert [v.origin for v in catalog.caption_history(clip_id=clip.id)] == \
                ["openai:tiny-vl"]
    assert catalog.list_images()[0].caption.startswith(TRIGGER + " ")
    assert "8 captioned" in panel.status_label.text()
    assert "2 kept as written by hand" in panel.status_label.text()
    assert not panel.error_banner.isVisible()
    assert panel.start_button.isEnabled() and not panel.cancel_button.isEnabled()
    # what ran is what the project remembers, for the CLI too
    stored = catalog.settings()
    assert stored.video_prompt == VIDEO_PROMPT and stored.image_prompt is None
    assert stored.caption["backend"] == "openai" and stored.caption["model"] == "tiny-vl"
    assert stored.caption["url"] == server.url and "trust_remote_code" not in stored.caption


def test_cancel_stops_the_run_and_the_next_run_resumes(qtbot: QtBot, make_panel,
                                                       project: Project) -> None:
    catalog = project.catalog
    panel = make_panel()
    with FakeChatServer(responder=lambda b, n: chat_reply("A pier at dusk."),
                        delay=0.25) as server:
        use_server(panel, server, concurrency=1)
        with qtbot.waitSignal(panel.caption_saved, timeout=RUN_MS):
            panel.start()
        assert panel.running and panel.cancel_button.isEnabled()
        with qtbot.waitSignal(panel.run_finished, timeout=RUN_MS) as finished:
            qtbot.mouseClick(panel.cancel_button, Qt.MouseButton.LeftButton)
            assert panel.status_label.text().startswith("Cancelling")
        handle = finished.args[0]
        assert handle.status == "cancelled"
        first = sum(1 for c in catalog.list_clips() if c.caption_origin == "openai:tiny-vl")
        assert 1 <= first < 7 and len(server.requests) < 8
        assert panel.status_label.text().startswith("Cancelled")
        assert catalog.get_job(handle.catalog_job_id).status == "cancelled"
        assert [j.kind for j in catalog.list_jobs()].count("caption") == 1  # one row per run

        again = run(qtbot, panel)
    assert again.status == "done"
    assert again.report.skipped == first  # resumed: the captioned ones were not asked again
    assert len(server.requests) == 8
    for clip in catalog.list_clips():
        assert clip.caption.startswith(TRIGGER + " ")
        assert len(catalog.caption_history(clip_id=clip.id)) == 1


def test_a_refused_key_is_shown_in_the_panel(qtbot: QtBot, make_panel, project: Project,
                                             monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CURATOR_TEST_KEY", "sk-wrong")
    panel = make_panel()
    with FakeChatServer(api_key="sk-right") as server:
        use_server(panel, server, concurrency=1)
        panel.key_env_edit.setText("CURATOR_TEST_KEY")
        assert "CURATOR_TEST_KEY is set" in panel.key_state.text()
        handle = run(qtbot, panel)
    assert len(server.requests) == 1  # stopped at once, not once per item
    assert server.requests[0].headers["Authorization"] == "Bearer sk-wrong"
    assert panel.error_banner.isVisible()
    banner = panel.error_banner.text()
    assert banner.startswith("Stopped: ") and "401" in banner and "API key" in banner
    assert panel.status_label.text().startswith("Stopped")
    assert panel.live.topLevelItemCount() == 0
    assert handle.report.done == 0
    assert all(c.caption_origin in (None, "manual") for c in project.catalog.list_clips())
    assert panel.start_button.isEnabled()


def test_a_model_folder_that_does_not_exist_is_shown_and_nothing_runs(
        qtbot: QtBot, make_panel, tmp_path: Path) -> None:
    panel = make_panel()
    panel.backend_combo.setCurrentIndex(panel.backend_combo.findData("transformers"))
    assert panel.start() is None  # no model yet: told, not started
    assert panel.error_banner.isVisible() and "model" in panel.error_banner.text()
    assert panel.runner.jobs == []
    missing = tmp_path / "models" / "Qwen2-VL-7B-Instruct"
    panel.model_combo.setEditText(str(missing))
    run(qtbot, panel)
    assert "does not exist" in panel.error_banner.text()
    assert str(missing) in panel.error_banner.text()
    assert panel.live.topLevelItemCount() == 0


def test_manual_captions_are_replaced_only_after_confirming(qtbot: QtBot, make_panel,
                                                            project: Project) -> None:
    catalog = project.catalog
    manual = [c.id for c in catalog.list_clips() if c.caption_is_manual]
    panel = make_panel()
    panel.selection_provider = lambda: manual[:1]
    panel.items_combo.setCurrentIndex(panel.items_combo.findData("selected"))
    assert not panel.overwrite_check.isEnabled()  # only when captioning all again
    panel.only_missing_combo.setCurrentIndex(panel.only_missing_combo.findData(False))
    assert panel.overwrite_check.isEnabled()

    def answer(text: str) -> None:
        qtbot.mouseClick(panel.overwrite_check, Qt.MouseButton.LeftButton)
        [box] = [b for b in panel.findChildren(QMessageBox, "overwriteConfirm")
                 if b.isVisible()]  # an answered one may still wait for deletion
        assert not panel.overwrite_check.isChecked()  # not before the answer
        button = next(b for b in box.buttons() if b.text() == text)
        qtbot.mouseClick(button, Qt.MouseButton.LeftButton)

    answer("Keep them")
    assert not panel.overwrite_check.isChecked()
    answer("Replace them")
    assert panel.overwrite_check.isChecked()
    with FakeChatServer(responder=lambda b, n: chat_reply("A harbour, replaced.")) as server:
        use_server(panel, server)
        run(qtbot, panel)
    assert len(server.requests) == 1
    history = catalog.caption_history(clip_id=manual[0])
    assert [v.origin for v in history] == ["openai:tiny-vl", "manual"]
    assert catalog.get_clip(manual[0]).caption == f"{TRIGGER} A harbour, replaced."
    assert catalog.get_clip(manual[1]).caption_is_manual  # not selected: untouched


def test_in_the_window_it_captions_the_browser_selection_and_stays_in_front(
        qtbot: QtBot, make_window, project: Project) -> None:
    window = make_window(project)
    window.show_workspace("caption")
    qtbot.waitUntil(lambda: "Caption" in window.job_panels, timeout=5000)
    panel = window.job_panels["Caption"]
    assert isinstance(panel, CaptionJobPanel) and panel.runner is window.jobs
    catalog = project.catalog
    rows = [row for row in range(window.model.rowCount())
            if not catalog.get_clip(window.model.item(row).id).caption][:2]
    window.browser.select_row(rows[0])
    window.browser.grid.selectionModel().select(
        window.model.index(rows[1], 0), QItemSelectionModel.SelectionFlag.Select)
    chosen = window.browser.selected_ids()
    assert len(chosen) == 2
    panel.items_combo.setCurrentIndex(panel.items_combo.findData("selected"))
    with FakeChatServer(responder=lambda b, n: chat_reply("Lanterns over a canal.")) as server:
        use_server(panel, server)
        with qtbot.waitSignal(panel.run_finished, timeout=RUN_MS):
            panel.start()
            # the window raises the Jobs tab when a job starts; the Caption tab stays in front
            assert panel.isVisible() and not panel.visibleRegion().isEmpty()
    assert sorted(s.clip_id for s in (panel.live.topLevelItem(i).data(0, Qt.ItemDataRole.UserRole)
                                      for i in range(2))) == sorted(chosen)
    assert {c.id for c in catalog.list_clips() if c.caption_origin == "openai:tiny-vl"} == \
        set(chosen)
    assert [job.kind for job in window.jobs.jobs] == ["caption"]


# --- transformers through the panel ----------------------------------------------------------

def test_tiny_transformers_model_captions_selected_clips(qtbot: QtBot, make_panel,
                                                         project: Project) -> None:
    pytest.importorskip("torch")
    pytest.importorskip("transformers")
    import torch

    from tests.tiny_vlm import tiny_vlm

    folder = tiny_vlm("qwen2_vl")
    catalog = project.catalog
    chosen = [c.id for c in catalog.list_clips() if not c.caption][:2]
    panel = make_panel()
    panel.selection_provider = lambda: chosen
    panel.items_combo.setCurrentIndex(panel.items_combo.findData("selected"))
    panel.backend_combo.setCurrentIndex(panel.backend_combo.findData("transformers"))
    panel.model_combo.setEditText(str(folder))
    panel.device_combo.setEditText("cpu")
    panel.threads_spin.setValue(1)  # a tiny model on a busy machine: threads only spin
    panel.max_tokens_spin.setValue(12)
    panel.fps_spin.setValue(0)
    panel.max_frames_spin.setValue(2)
    panel.max_pixels_spin.setValue(112 * 84)
    threads = torch.get_num_threads()
    try:
        handle = run(qtbot, panel)
    finally:
        torch.set_num_threads(threads)
    assert handle.status == "done", panel.error_banner.text()
    rows = live_rows(panel)
    assert [label for label, _, _ in rows] == [f"Clip {i}" for i in chosen]
    for clip_id in chosen:
        clip = catalog.get_clip(clip_id)
        assert clip.caption.startswith(TRIGGER + " ")  # the words are noise; the path is not
        assert clip.caption_origin == "transformers:tiny-qwen2-vl"
        [version] = catalog.caption_history(clip_id=clip_id)
        assert version.settings["device"] == "cpu" and len(version.settings["frames"]) == 2
    assert sum(1 for c in catalog.list_clips() if c.caption_origin
               == "transformers:tiny-qwen2-vl") == 2
    assert panel.release_models() >= 1  # the model was kept loaded between runs; now freed
    assert "Unloaded" in panel.status_label.text()


# --- settings ------------------------------------------------------------------------------------

def test_prompts_and_settings_are_saved_per_project_and_restored(
        qtbot: QtBot, make_panel, project: Project) -> None:
    panel = make_panel()
    panel.trigger_edit.setText("Ghibli style, 1980s.")
    panel.prompt_edits["video"].setPlainText(VIDEO_PROMPT)
    panel.prompt_edits["image"].setPlainText("Describe the still. Begin with '{trigger} '.")
    panel.backend_combo.setCurrentIndex(panel.backend_combo.findData("openai"))
    panel.url_edit.setText("http://gpu-box:8000/v1")
    panel.server_model_edit.setText("Qwen/Qwen2.5-VL-7B-Instruct")
    panel.max_frames_spin.setValue(24)
    panel.status_combo.setCurrentIndex(panel.status_combo.findData("accepted"))
    panel.only_missing_combo.setCurrentIndex(panel.only_missing_combo.findData(False))
    panel.concurrency_spin.setValue(8)
    panel.trust_check.setChecked(True)
    # saved a moment after the last edit, without pressing anything
    qtbot.waitUntil(lambda: project.catalog.settings().video_prompt == VIDEO_PROMPT,
                    timeout=5000)
    panel.model_combo.setEditText("models/Qwen2-VL-7B-Instruct")
    panel.shutdown()  # closing saves what is pending

    reopened = Catalog.for_project(project.root)
    try:
        stored = reopened.settings()
        assert stored.trigger == "Ghibli style, 1980s."
        assert stored.caption["backend"] == "openai" and stored.caption["max_frames"] == 24
        assert "trust_remote_code" not in stored.caption
        # `curator caption` reads the same settings as its defaults
        parser = argparse.ArgumentParser()
        register(parser.add_subparsers())
        name, options = backend_settings(parser.parse_args(["caption"]), stored.caption)
        assert name == "openai"
        assert options["model"] == "Qwen/Qwen2.5-VL-7B-Instruct"
        assert options["url"] == "http://gpu-box:8000/v1" and options["concurrency"] == 8
        assert "batch_size" not in options  # a server's batch is its requests in flight
        again = make_panel(Project(project.root))
        assert again.trigger_edit.text() == "Ghibli style, 1980s."
        assert again.prompt_edits["video"].toPlainText() == VIDEO_PROMPT
        assert again.prompt_edits["image"].toPlainText().startswith("Describe the still.")
        assert again.backend() == "openai" and not again.backend_pages.currentIndex() == 0
        assert again.url_edit.text() == "http://gpu-box:8000/v1"
        assert again.server_model_edit.text() == "Qwen/Qwen2.5-VL-7B-Instruct"
        assert again.model_combo.currentText() == "models/Qwen2-VL-7B-Instruct"
        assert again.max_frames_spin.value() == 24
        assert again.status_combo.currentData() == "accepted"
        assert not again.only_missing() and again.concurrency_spin.value() == 8
        assert not again.trust_check.isChecked()  # per run, never remembered
        # back to the shipped prompt: stored as "the default", so a better default reaches it
        again.prompt_tabs.setCurrentIndex(0)
        qtbot.mouseClick(again.reset_prompt_button, Qt.MouseButton.LeftButton)
        assert again.prompt_edits["video"].toPlainText() == default_prompt("video")
        assert not again.reset_prompt_button.isEnabled()
        again.save_settings()
        assert again.catalog.settings().video_prompt is None
    finally:
        reopened.close()


def test_select_items_and_summary(project: Project) -> None:
    catalog = project.catalog
    clips = catalog.list_clips()
    catalog.set_decision([clips[0].id], "accepted")
    catalog.set_decision([clips[1].id], "rejected", "too dark")
    image = catalog.list_images()[0].id
    every = [c.id for c in clips]
    assert CaptionSelection().select(catalog) == ([i for i in every if i != clips[1].id], [image])
    assert CaptionSelection("accepted").select(catalog) == ([clips[0].id], [])
    assert CaptionSelection("all", "clips").select(catalog) == (every, [])
    assert CaptionSelection(items="images").select(catalog) == ([], [image])
    assert CaptionSelection("active", "clips", (clips[1].id, clips[2].id)).select(catalog) == \
        ([clips[2].id], [])
    assert summary_text(None, "failed") == "Stopped by an error"
    assert short_origin("openai:Qwen/Qwen2.5-VL-7B-Instruct") == "Qwen2.5-VL-7B-Instruct"
    try:
        catalog.get_clip(10_000)
    except Exception:  # noqa: BLE001 - a real traceback, as a crashed job's log holds it
        log = ["12:00:00 started: Caption", *traceback.format_exc().splitlines(),
               "12:00:01 failed after 0:01"]
    assert crash_reason(log).startswith("curator.core.catalog.catalog.CatalogError: ")
    assert crash_reason(["12:00:01 failed after 0:01"]) == "an unexpected error"
    assert short_origin("transformers:tiny-qwen2-vl") == "tiny-qwen2-vl"
