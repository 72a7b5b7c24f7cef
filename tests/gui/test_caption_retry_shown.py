"""While the server is retried, the Caption panel's status line and the job's log say so
('Server error 500, retry 1 of 4 in 1 s…'), not 'Captioning: 0 of 3 done'."""

from __future__ import annotations

from pytestqt.qtbot import QtBot

from curator.core.project import Project
from tests.caption_fixtures import FakeChatServer, chat_reply, error_reply
from tests.gui.test_caption_job_panel import make_panel, project, run, use_server  # noqa: F401


def test_a_retry_shows_in_the_status_line_and_the_job_log(
        qtbot: QtBot, make_panel, project: Project) -> None:  # noqa: F811
    panel = make_panel()
    panel.items_combo.setCurrentIndex(panel.items_combo.findData("images"))
    shown: list[str] = []
    panel.runner.job_updated.connect(lambda _h: shown.append(panel.status_label.text()))

    def respond(body, n):
        return error_reply(500, "warming up") if n == 0 else chat_reply("A still frame.")

    with FakeChatServer(responder=respond) as server:
        use_server(panel, server, concurrency=1)
        handle = run(qtbot, panel)
    assert handle.status == "done" and len(server.requests) == 2
    retry = [text for text in shown if "retry" in text]
    assert retry and retry[0].startswith("Server error 500, retry 1 of 4 in ")
    assert retry[0].endswith(" s…") and not retry[0].endswith("……")
    assert any(line.startswith("Server error 500, retry 1 of 4 in ") for line in handle.log)
