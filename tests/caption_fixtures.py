"""Helpers for captioning tests and bench/caption.py: a small OpenAI-compatible HTTP server and
functions that put real media into a catalog.

`FakeChatServer` is a real HTTP server on 127.0.0.1 (http.server in a thread) that speaks the
chat-completions protocol: it records every request the app sends (headers and JSON) so a test
can check the model, the images and the prompt, and answers from a script (a status code and a
body per request, or a function of the request), so a test can send a 500 then a success, a 401,
a 404 for an unknown model, or a "context too long" 400.
"""

from __future__ import annotations

import base64
import io
import json
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from fractions import Fraction
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image

from curator.core.media import content_hash, probe

Reply = tuple[int, dict[str, Any]]
Responder = Callable[[dict[str, Any], int], Reply]


def chat_reply(text: str, finish_reason: str = "stop") -> Reply:
    """A 200 chat-completions answer with `text` as the assistant's message."""
    return 200, {
        "id": "chatcmpl-test", "object": "chat.completion", "created": int(time.time()),
        "model": "served", "choices": [{"index": 0, "finish_reason": finish_reason,
                                        "message": {"role": "assistant", "content": text}}],
        "usage": {"prompt_tokens": 10, "completion_tokens": len(text.split()), "total_tokens": 0},
    }


def error_reply(status: int, message: str, code: str | None = None) -> Reply:
    """An error in the shape OpenAI and vLLM use: {"error": {"message": ..., ...}}."""
    return status, {"error": {"message": message, "type": "invalid_request_error",
                              "code": code or status}}


@dataclass
class Recorded:
    """One request the app sent."""

    path: str
    headers: dict[str, str]
    body: dict[str, Any]

    @property
    def content(self) -> list[dict[str, Any]]:
        return self.body["messages"][0]["content"]

    @property
    def prompt(self) -> str:
        return "".join(part["text"] for part in self.content if part["type"] == "text")

    def images(self) -> list[np.ndarray]:
        """The images sent (decoded from their base64 JPEG data URLs)."""
        out = []
        for part in self.content:
            if part["type"] == "image_url":
                url = part["image_url"]["url"]
                assert url.startswith("data:image/jpeg;base64,"), url[:40]
                raw = base64.b64decode(url.split(",", 1)[1])
                out.append(np.asarray(Image.open(io.BytesIO(raw)).convert("RGB")))
        return out


@dataclass
class FakeChatServer:
    """An OpenAI-compatible server for tests; use as a context manager.

    Attributes:
        responder: decides each answer from (request JSON, request number from 0).
        models: what GET /v1/models lists.
        api_key: when set, requests without `Authorization: Bearer <api_key>` get a 401.
        delay: seconds each chat request takes (to see requests overlap).
    """

    responder: Responder = field(default=lambda body, n: chat_reply("A quiet scene."))
    models: tuple[str, ...] = ("tiny-vl",)
    api_key: str | None = None
    delay: float = 0.0
    requests: list[Recorded] = field(default_factory=list)
    in_flight: int = 0
    max_in_flight: int = 0

    def __post_init__(self) -> None:
        self._lock = threading.Lock()
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: Any) -> None:  # keep test output clean
                pass

            def _send(self, status: int, body: dict[str, Any]) -> None:
                data = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def _authorized(self) -> bool:
                return server.api_key is None or \
                    self.headers.get("Authorization") == f"Bearer {server.api_key}"

            def do_GET(self) -> None:
                if not self._authorized():
                    self._send(*error_reply(401, "Incorrect API key provided"))
                elif self.path.split("?")[0].rstrip("/").endswith("/v1/models"):
                    self._send(200, {"object": "list", "data": [
                        {"id": m, "object": "model", "owned_by": "test"} for m in server.models]})
                else:
                    self._send(*error_reply(404, "Not Found"))

            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length", 0))
                body = json.loads(self.rfile.read(length) or b"{}")
                with server._lock:
                    number = len(server.requests)
                    server.requests.append(Recorded(self.path, dict(self.headers.items()), body))
                    server.in_flight += 1
                    server.max_in_flight = max(server.max_in_flight, server.in_flight)
                try:
                    if server.delay:
                        time.sleep(server.delay)
                    if not self.path.split("?")[0].rstrip("/").endswith("/v1/chat/completions"):
                        self._send(*error_reply(404, "Not Found"))
                    elif not self._authorized():
                        self._send(*error_reply(401, "Incorrect API key provided",
                                                "invalid_api_key"))
                    elif body.get("model") not in server.models:
                        self._send(*error_reply(404, f"The model `{body.get('model')}` does "
                                                     "not exist.", "model_not_found"))
                    else:
                        self._send(*server.responder(body, number))
                finally:
                    with server._lock:
                        server.in_flight -= 1

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}/v1"

    def __enter__(self) -> FakeChatServer:
        self._thread.start()
        return self

    def __exit__(self, *exc: Any) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join()


def add_video(catalog: Any, path: Path, ranges: list[tuple[int, int]] | None = None
              ) -> list[int]:
    """Probe a video, put it in the catalog with clips over `ranges` (default: the whole file).

    Returns:
        The ids of the clips created.
    """
    info = probe(path)
    stat = path.stat()
    _, clip_ids = catalog.upsert_source(
        path=path, size=stat.st_size, mtime=stat.st_mtime, content_hash=content_hash(path),
        container=info.container, codec=info.codec, fps=Fraction(info.fps),
        frame_count=info.frame_count, header_frame_count=info.header_frame_count,
        width=info.width, height=info.height, duration=info.duration,
        clip_ranges=ranges or [(0, info.frame_count)])
    return clip_ids


def add_image(catalog: Any, path: Path) -> int:
    """Put a still image in the catalog; returns its id."""
    with Image.open(path) as image:
        width, height = image.size
    stat = path.stat()
    image_id, _ = catalog.upsert_image(path=path, size=stat.st_size, mtime=stat.st_mtime,
                                       content_hash=content_hash(path), width=width,
                                       height=height)
    return image_id


def write_image(path: Path, size: tuple[int, int] = (320, 200), seed: int = 0) -> Path:
    """A still with some structure (gradients and a box), as PNG or JPEG by suffix."""
    rng = np.random.default_rng(seed)
    width, height = size
    yy, xx = np.mgrid[0:height, 0:width]
    pixels = np.stack([xx * 255 // max(1, width - 1), yy * 255 // max(1, height - 1),
                       np.full_like(xx, int(rng.integers(0, 255)))], axis=-1).astype(np.uint8)
    x, y = int(rng.integers(0, width // 2)), int(rng.integers(0, height // 2))
    pixels[y:y + height // 3, x:x + width // 3] = rng.integers(0, 255, 3, dtype=np.uint8)
    Image.fromarray(pixels).save(path)
    return path
