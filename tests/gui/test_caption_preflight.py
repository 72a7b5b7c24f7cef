"""Before a caption run: test the connection (the server's models), count what will be
captioned, and a failing run's reason reaches the Jobs log."""

from __future__ import annotations

import socket

import pytest
from PySide6.QtCore import Qt

from curator.core.captioning import CaptionBackendError
from curator.core.captioning.request import count_to_caption, server_models
from tests.caption_fixtures import FakeChatServer

# The caption panel tests' fixtures (a project with a still image, a panel maker):
from tests.gui.test_caption_job_panel import make_panel, project, run, use_server  # noqa: F401


def _closed_port_url() -> str:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    return f"http://127.0.0.1:{port}/v1"  # nothing listens there now


def test_core_lists_models_and_names_an_unreachable_server(project):  # noqa: F811
    with FakeChatServer(models=("tiny-vl", "other")) as server:
        assert server_models(server.url) == ["tiny-vl", "other"]
    with pytest.raises(CaptionBackendError, match="cannot reach the server"):
        server_models(_closed_port_url(), timeout=3)


def test_core_count_matches_the_runs_selection(project):  # noqa: F811
    catalog = project.catalog
    count = count_to_caption(catalog)  # 9 clips (2 captioned) + 1 image, only missing
    assert (count.clips, count.images, count.skipped, count.skipped_manual) == (7, 1, 0, 2)
    ids = catalog.clip_ids()
    catalog.set_decision(ids[:3], "rejected")
    assert count_to_caption(catalog, items="clips").clips == 5  # rejected ones are out
    again = count_to_caption(catalog, only_missing=False, overwrite_manual=True)
    assert again.total == 7 and again.skipped_manual == 0


def test_panel_tests_the_connection_and_counts_before_starting(
        qtbot, make_panel, project):  # noqa: F811
    panel = make_panel()
    qtbot.waitUntil(lambda: panel.preflight.count_label.text().startswith("Will caption"),
                    timeout=10_000)
    assert panel.preflight.count_label.text() == (
        "Will caption 7 clips and 1 image · 2 written by hand, kept")
    panel.items_combo.setCurrentIndex(panel.items_combo.findData("images"))
    qtbot.waitUntil(lambda: panel.preflight.count_label.text().startswith("Will caption 1 im"),
                    timeout=10_000)
    with FakeChatServer(models=("tiny-vl", "big-vl")) as server:
        use_server(panel, server)
        qtbot.mouseClick(panel.preflight.test_button, Qt.MouseButton.LeftButton)
        qtbot.waitUntil(lambda: "Connected" in panel.preflight.test_result.text(),
                        timeout=10_000)
    assert "2 models (tiny-vl, big-vl)" in panel.preflight.test_result.text()
    panel.url_edit.setText(_closed_port_url())
    qtbot.mouseClick(panel.preflight.test_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: "✗" in panel.preflight.test_result.text(), timeout=15_000)
    assert "cannot reach the server" in panel.preflight.test_result.text()


def test_a_failing_runs_reason_is_in_the_jobs_log(qtbot, make_panel, project,  # noqa: F811
                                                  monkeypatch):
    monkeypatch.setenv("CURATOR_TEST_KEY", "sk-wrong")
    panel = make_panel()
    with FakeChatServer(api_key="sk-right") as server:
        use_server(panel, server, concurrency=1)
        panel.key_env_edit.setText("CURATOR_TEST_KEY")
        handle = run(qtbot, panel)
    assert handle.status == "failed"
    last = handle.log[-1]
    assert "failed after" in last and "401" in last and "API key" in last
    assert "401" in (handle.error or "")
