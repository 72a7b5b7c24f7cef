"""Retries are said while they happen: a caption run's progress (and `on_retry`) carries
'Server not answering, retry 1 of 2 in 0.0 s…' from the openai backend's own retry rule,
against a real server on 127.0.0.1 that answers 500 or does not listen at all."""

from __future__ import annotations

import threading

from curator.core.captioning import RetryNotice, Sampling, caption_items, make_backend
from curator.core.jobs import Progress
from tests.caption_fixtures import FakeChatServer, add_video, chat_reply, error_reply
from tests.media_factory import Segment, make_video

SMALL = Sampling(max_frames=2, max_pixels=64 * 36)


def clip(catalog, tmp_path) -> int:
    video = make_video(tmp_path / "walk.mp4", [Segment("texture", 24, seed=3)], fps=24,
                       size=(160, 90))
    catalog.update_settings(trigger="ohwx style")
    return add_video(catalog, video.path)[0]


class Seen:
    """Progress and retry notices as a run reports them (from any thread)."""

    def __init__(self) -> None:
        self.progress: list[Progress] = []
        self.notices: list[RetryNotice] = []
        self._lock = threading.Lock()

    def on_progress(self, progress: Progress) -> None:
        with self._lock:
            self.progress.append(progress)

    def on_retry(self, notice: RetryNotice) -> None:
        with self._lock:
            self.notices.append(notice)


def test_server_errors_are_reported_as_retries_while_they_happen(catalog, tmp_path):
    clip_id = clip(catalog, tmp_path)

    def respond(body, n):
        return error_reply(500, "overloaded") if n < 2 else chat_reply("A calm street.")

    seen = Seen()
    with FakeChatServer(responder=respond) as server:
        backend = make_backend("openai", model="tiny-vl", url=server.url, retries=3,
                               backoff=0.01, timeout=10)
        report = caption_items(catalog, backend=backend, clip_ids=[clip_id], sampling=SMALL,
                               progress=seen.on_progress, on_retry=seen.on_retry)
        backend.close()
    assert report.done == 1 and len(server.requests) == 3
    assert [(n.reason, n.retry, n.retries) for n in seen.notices] == [
        ("Server error 500", 1, 3), ("Server error 500", 2, 3)]
    assert seen.notices[0].item.startswith("walk.mp4")
    retries = [p for p in seen.progress if "retry" in p.message]
    assert [p.message for p in retries] == [n.text for n in seen.notices]
    assert retries[0].message.startswith("Server error 500, retry 1 of 3 in ")
    assert retries[0].message.endswith(" s…")
    assert all(p.total is None for p in retries)  # waiting: the bar turns busy
    assert seen.progress[-1].total == 1 and seen.progress[-1].done == 1  # then goes on
    assert backend.retry_listener is None  # the run's listener leaves with the run


def test_a_server_that_does_not_listen_says_so_on_each_retry(catalog, tmp_path):
    clip_id = clip(catalog, tmp_path)
    server = FakeChatServer()
    url = server.url  # bound but never started, then closed: nothing listens
    server._server.server_close()
    seen = Seen()
    backend = make_backend("openai", model="tiny-vl", url=url, retries=2, backoff=0.01,
                           timeout=10)
    report = caption_items(catalog, backend=backend, clip_ids=[clip_id], sampling=SMALL,
                           progress=seen.on_progress, on_retry=seen.on_retry)
    backend.close()
    assert report.stopped and "cannot reach the server" in report.stopped
    assert [n.text.split(" in ")[0] for n in seen.notices] == [
        "Server not answering, retry 1 of 2", "Server not answering, retry 2 of 2"]
    messages = [p.message for p in seen.progress]
    assert any(m.startswith("Server not answering, retry 2 of 2 in ") for m in messages)


def test_a_notice_reads_as_a_person_says_it():
    assert RetryNotice("Server not answering", 2, 5, 4.2).text == \
        "Server not answering, retry 2 of 5 in 4 s…"
    assert RetryNotice("Server error 503", 1, 4, 0.52).text == \
        "Server error 503, retry 1 of 4 in 0.5 s…"
