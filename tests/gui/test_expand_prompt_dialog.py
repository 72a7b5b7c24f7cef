"""The Train tab's "Expand idea…": a dialog that asks a real local HTTP server off the GUI thread.

The server (tests/caption_fixtures.py) answers slowly, so the test can see the window keep
handling events while the job runs, then the prompt land in the dialog and, with its sample
options, in the tab's sample prompts editor.
"""

from __future__ import annotations

import pytest
from PySide6.QtCore import QTimer

from curator.core.training.prompts import parse_prompts, validate_prompts
from curator.gui.tabs.train.tab import TrainPanel
from curator.gui.workers import JobRunner
from tests.caption_fixtures import FakeChatServer, chat_reply

pytestmark = pytest.mark.timeout(60)

TRIGGER = "Studio Ghibli style."
ANSWER = ('Here is the prompt: "A paper kite climbs over a windy hill -- soft pastel skies, '
          'the camera tilts up slowly."')


@pytest.fixture
def server():
    with FakeChatServer(responder=lambda body, n: chat_reply(ANSWER), delay=0.4) as running:
        yield running


@pytest.fixture
def panel(qtbot, project, server):
    project.catalog.update_settings(trigger=TRIGGER, caption={
        "backend": "openai", "model": "tiny-vl", "url": server.url, "max_new_tokens": 180})
    runner = JobRunner(project.catalog)
    widget = TrainPanel(project=project, catalog=project.catalog, job_runner=runner)
    qtbot.addWidget(widget)
    yield widget
    widget.shutdown()
    assert runner.shutdown(10_000)


def test_expand_idea_runs_off_the_gui_thread_and_adds_the_prompt(qtbot, panel, server):
    panel.prompt_edit.setPlainText("# samples\n")
    dialog = panel.expand_idea()
    qtbot.addWidget(dialog)
    # The project's caption settings fill the form.
    assert dialog.backend_combo.currentData() == "openai"
    assert (dialog.model_edit.text(), dialog.url_edit.text()) == ("tiny-vl", server.url)
    assert not dialog.expand_button.isEnabled()  # no idea yet
    dialog.idea_edit.setText("a kite on a hill")

    ticks = []
    timer = QTimer()
    timer.timeout.connect(lambda: ticks.append(1))
    timer.start(20)
    dialog.expand_button.click()
    assert dialog.running and not dialog.expand_button.isEnabled()
    qtbot.waitUntil(lambda: bool(dialog.result_edit.toPlainText()), timeout=15_000)
    timer.stop()
    assert len(ticks) >= 5  # the event loop ran while the server took 0.4 s

    prompt = dialog.result_edit.toPlainText()
    assert prompt.startswith(TRIGGER + " A paper kite")
    assert '"' not in prompt and " --" not in prompt and "Here is" not in prompt
    (request,) = server.requests
    assert request.body["max_tokens"] == 180 and request.content[0]["type"] == "text"
    assert "a kite on a hill" in request.content[0]["text"]
    assert "words" in dialog.status_label.text()

    dialog.add_button.click()
    lines = panel.prompt_edit.toPlainText().splitlines()
    assert lines[0] == "# samples"
    assert lines[1] == prompt + " --w 384 --h 384 --f 45 --d 7 --s 20 --l 5.0 --fs 3.0"
    assert validate_prompts(parse_prompts(panel.prompt_edit.toPlainText()),
                            trigger=TRIGGER) == []


def test_a_failure_is_shown_in_the_dialog_and_nothing_is_added(qtbot, panel, server):
    server.models = ("another-model",)  # the project's model is not served
    dialog = panel.expand_idea()
    qtbot.addWidget(dialog)
    dialog.idea_edit.setText("rain")
    dialog.expand_button.click()
    qtbot.waitUntil(lambda: not dialog.running, timeout=15_000)
    assert "tiny-vl" in dialog.status_label.text()
    assert not dialog.add_button.isEnabled()
    assert panel.prompt_edit.toPlainText() == ""
