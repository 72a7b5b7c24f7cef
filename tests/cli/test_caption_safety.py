"""`curator caption` under repeat, concurrent and hostile use (issue 10, items 5 and degraded).

Each runs the real CLI against a real OpenAI-compatible HTTP server on localhost.
"""

from __future__ import annotations

import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import numpy as np
import pytest

from curator.cli import main
from curator.core.captioning import CaptionBackendError, make_backend
from curator.core.catalog import Catalog
from tests.caption_fixtures import FakeChatServer, add_video, chat_reply
from tests.media_factory import Segment, make_video

TRIGGER = "ohwx style"


@pytest.fixture(scope="module")
def video(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("caption-safety-media")
    return make_video(folder / "shot.mp4", [Segment("texture", 36, seed=4)], fps=24,
                      size=(192, 108)).path


@pytest.fixture
def root(tmp_path, video) -> Path:
    root = tmp_path / "project"
    catalog = Catalog.for_project(root)
    catalog.update_settings(trigger=TRIGGER)
    add_video(catalog, video, [(i * 4, i * 4 + 4) for i in range(8)])
    catalog.close()
    return root


def caption(root: Path, url: str, *args: str) -> int:
    return main(["--project", str(root), "-q", "caption", "--max-frames", "2",
                 "--max-pixels", "4096", "--backend", "openai", "--url", url,
                 "--model", "tiny-vl", "--only", "clips", *args])


def captioned(root: Path) -> int:
    catalog = Catalog.for_project(root)
    try:
        return sum(1 for c in catalog.list_clips() if c.caption)
    finally:
        catalog.close()


def test_limit_two_run_three_times_captions_six_clips(root, capsys):
    with FakeChatServer(responder=lambda body, n: chat_reply(f"A scene number {n}.")) as server:
        for run in range(1, 4):
            assert caption(root, server.url, "--limit", "2", "--json") == 0
            report = json.loads(capsys.readouterr().out)
            assert report["done"] == 2 and report["skipped"] == 2 * (run - 1)
    assert captioned(root) == 6
    assert len(server.requests) == 6


class Trickle(BaseHTTPRequestHandler):
    """Answers one byte a second (every read is quick, the whole slow): the status line and
    headers too when `server.headers_too`, else the 40-byte body."""

    protocol_version = "HTTP/1.1"

    def log_message(self, *args: object) -> None:
        pass

    def do_POST(self) -> None:
        self.rfile.read(int(self.headers.get("Content-Length", 0)))
        body = b'{"choices": [{"message": {"content": "A"}}]}'.ljust(40)
        head = (b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
                b"Content-Length: %d\r\n\r\n" % len(body))
        if not self.server.headers_too:
            self.wfile.write(head)
            head = b""
        try:
            for byte in (head + body)[:60]:
                self.wfile.write(bytes([byte]))
                self.wfile.flush()
                time.sleep(1.0)
        except OSError:  # the client gave up: what the test wants
            pass


@pytest.mark.parametrize("headers_too", [False, True], ids=["body", "headers"])
def test_timeout_is_a_deadline_for_the_whole_answer(headers_too):
    server = ThreadingHTTPServer(("127.0.0.1", 0), Trickle)
    server.daemon_threads = True
    server.headers_too = headers_too
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        host, port = server.server_address[:2]
        backend = make_backend("openai", model="tiny-vl", url=f"http://{host}:{port}/v1",
                               timeout=2, retries=0)
        started = time.monotonic()
        with pytest.raises(CaptionBackendError, match="no complete answer within 2 s"):
            backend.caption_image(np.zeros((16, 16, 3), np.uint8), "Describe.")
        assert time.monotonic() - started < 6  # not 40 s or more, one byte at a time
        backend.close()
    finally:
        server.shutdown()
        server.server_close()


def test_keys_in_the_url_are_used_but_never_recorded(root, capsys):
    with FakeChatServer(responder=lambda body, n: chat_reply("A scene.")) as server:
        host_port = server.url.split("//")[1].split("/")[0]
        url = (f"http://someone:pw-SECRET1@{host_port}/v1?api_key=SECRET2&token=SECRET3"
               f"&key=SECRET4&format=json")
        assert caption(root, url, "--limit", "1", "--json") == 0
        sent = server.requests[0]
    assert "SECRET2" in sent.path and "SECRET3" in sent.path  # the server got what it needs
    assert sent.headers.get("Authorization", "").startswith("Basic ")
    captured = capsys.readouterr()
    assert "SECRET" not in captured.out + captured.err
    catalog = Catalog.for_project(root)
    try:
        (job,) = catalog.list_jobs(kind="caption")
        clip = next(c for c in catalog.list_clips() if c.caption)
        (version,) = catalog.caption_history(clip_id=clip.id)
        stored = json.dumps([job.params, job.result, job.log, version.settings])
        assert "SECRET" not in stored and "pw-" not in stored
        assert "REDACTED" in stored and "format=json" in stored
    finally:
        catalog.close()
