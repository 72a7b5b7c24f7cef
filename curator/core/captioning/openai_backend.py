"""Any OpenAI-compatible chat-completions server: vLLM, llama.cpp server, Ollama, LM Studio.

This is the path for scale (a vLLM server on a big GPU serves many desktops), so it needs no
torch: httpx speaks HTTP (one pooled client per backend), PIL encodes JPEG, PyAV encodes an MP4
for servers that take `video_url`. Requests run `concurrency` at a time; `timeout` is a deadline
for the whole answer (a server trickling a byte a second fails after `timeout` s, not after
every byte); timeouts, 429 and 5xx are retried with exponential backoff; a refused key, a
missing model or an unreachable server stops the batch with a sentence that says what to fix.
Keys written into the URL (`user:pw@`, `?api_key=`) are used but never recorded.
"""

from __future__ import annotations

import base64
import io
import json
import logging
import os
import random
import re
import socket
import threading
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from fractions import Fraction
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import httpx
import numpy as np
from PIL import Image

from curator.core.captioning.backend import (
    CaptionBackendError,
    CaptionRequest,
    InputTooLargeError,
    RetryNotice,
)

log = logging.getLogger(__name__)

API_KEY_ENVS = ("CURATOR_OPENAI_API_KEY", "OPENAI_API_KEY")
VIDEO_MODES = ("images", "video_url")
DEFAULT_URL = "http://127.0.0.1:8000/v1"
_TOO_LARGE = re.compile(r"context length|maximum context|too many tokens|too long|"
                        r"exceeds the (?:model|maximum)|prompt is too|payload too large", re.I)
_IMAGE_LIMIT = re.compile(r"at most (\d+) (?:image|video)", re.I)
_MODEL_MISSING = re.compile(r"model\b.{0,80}(?:not found|does not exist|not exist|unknown|"
                            r"no such|not available|is not served)|(?:unknown|invalid) model", re.I)


class _Retryable(Exception):
    """A failure worth another try (timeout, connection reset, 429, 5xx)."""

    def __init__(self, message: str, retry_after: float | None = None,
                 unreachable: bool = False, short: str = "") -> None:
        super().__init__(message)
        self.retry_after = retry_after
        self.unreachable = unreachable
        self.short = short or message  # the words of a retry notice


def api_key_from_env(name: str | None = None) -> str | None:
    """The API key from `name`, or from CURATOR_OPENAI_API_KEY, then OPENAI_API_KEY."""
    for var in ((name,) if name else API_KEY_ENVS):
        value = os.environ.get(var, "").strip()
        if value:
            return value
    return None


#: Query parameters whose value is a secret (matched case-insensitively, also as a suffix:
#: `api_key`, `x-api-key`, `access_token`, `sig`...).
_SECRET_PARAMS = re.compile(r"(?:^|[_-])(?:key|api[_-]?key|token|secret|password|passwd|pw|"
                            r"sig|signature|auth|authorization|credential|credentials)$", re.IGNORECASE)
REDACTED = "REDACTED"


def redact_url(url: str) -> str:
    """The URL without the secrets people put in it: `user:pw@`, `?api_key=…`, `key=`, `token=`.

    What is stored in job and caption records, and shown in messages.
    """
    try:
        parts = urlsplit(url)
    except ValueError:
        return REDACTED
    netloc = parts.netloc
    if "@" in netloc:
        netloc = f"{REDACTED}@{netloc.rsplit('@', 1)[1]}"
    query = parts.query
    if query:
        pairs = parse_qsl(query, keep_blank_values=True)
        query = urlencode([(k, REDACTED if _SECRET_PARAMS.search(k) else v) for k, v in pairs],
                          safe=":/")
    return urlunsplit((parts.scheme, netloc, parts.path, query, parts.fragment))


def chat_url(base_url: str) -> str:
    """The chat-completions endpoint for a base URL (`…/v1`) or the endpoint itself."""
    parts = urlsplit(base_url.strip())
    path = parts.path.rstrip("/")
    if not path.endswith("/chat/completions"):
        path = f"{path}/chat/completions"
    return urlunsplit(parts._replace(path=path))


def models_url(base_url: str) -> str:
    parts = urlsplit(chat_url(base_url))
    return urlunsplit(parts._replace(path=parts.path[: -len("/chat/completions")] + "/models"))


def encode_jpeg(image: Any, quality: int = 90) -> str:
    """An RGB array or PIL image as a `data:image/jpeg;base64,...` URL."""
    if isinstance(image, np.ndarray):
        pil = Image.fromarray(np.ascontiguousarray(image[..., :3] if image.ndim == 3 else image))
    else:
        pil = image
    if pil.mode != "RGB":
        pil = pil.convert("RGB")
    buffer = io.BytesIO()
    pil.save(buffer, format="JPEG", quality=quality)
    return "data:image/jpeg;base64," + base64.b64encode(buffer.getvalue()).decode("ascii")


def encode_mp4(frames: Sequence[np.ndarray], fps: float) -> str:
    """Frames as a small H.264 MP4, as a `data:video/mp4;base64,...` URL (for `video_url`)."""
    import av

    height, width = frames[0].shape[:2]
    width, height = width - width % 2, height - height % 2  # yuv420p needs even sides
    rate = Fraction(fps).limit_denominator(1001) if fps and fps > 0 else Fraction(1)
    buffer = io.BytesIO()
    with av.open(buffer, mode="w", format="mp4") as container:
        stream = container.add_stream("libx264", rate=rate)
        stream.width, stream.height, stream.pix_fmt = width, height, "yuv420p"
        stream.options = {"crf": "18", "preset": "veryfast"}
        for array in frames:
            frame = av.VideoFrame.from_ndarray(
                np.ascontiguousarray(array[:height, :width, :3]), format="rgb24")
            for packet in stream.encode(frame):
                container.mux(packet)
        for packet in stream.encode():
            container.mux(packet)
    return "data:video/mp4;base64," + base64.b64encode(buffer.getvalue()).decode("ascii")


def _error_message(body: bytes) -> str:
    text = body.decode("utf-8", errors="replace").strip()
    try:
        data = json.loads(text)
    except ValueError:
        return text[:300] or "(no message)"
    if isinstance(data, dict):
        error = data.get("error", data)
        if isinstance(error, dict):
            message = error.get("message") or error.get("detail") or error.get("msg")
            if message:
                return str(message)[:300]
        elif isinstance(error, str):
            return error[:300]
        if "detail" in data:
            return str(data["detail"])[:300]
    return text[:300]


class OpenAIBackend:
    """Captions through an OpenAI-compatible `/v1/chat/completions` server.

    Args:
        model: the model name the server knows (e.g. 'Qwen/Qwen2.5-VL-7B-Instruct').
        url: the server's OpenAI base URL (`http://host:8000/v1`) or its chat endpoint.
        api_key: the key itself (prefer the environment: keys on command lines leak).
        api_key_env: the environment variable holding the key; default CURATOR_OPENAI_API_KEY,
            then OPENAI_API_KEY. No key: no Authorization header (local servers need none).
        concurrency: requests in flight at once.
        timeout: seconds one whole answer may take (a deadline, however slowly it comes).
        retries: further tries after a timeout, a dropped connection, 429 or 5xx.
        backoff: first wait between tries in seconds; doubles each time (with jitter).
        video_mode: 'images' sends a clip's frames as JPEG images; 'video_url' as one MP4
            (vLLM serves Qwen2-VL video this way; llama.cpp and Ollama need 'images').
        max_tokens: the longest caption, in tokens.
        temperature: for the first try; retries of an empty or looping answer use
            `retry_temperature` and a frequency penalty.
        jpeg_quality: quality of the JPEGs sent.
        batch_size: requests handed over at once by the job (default: `concurrency`).
    """

    name = "openai"

    def __init__(self, model: str, *, url: str = DEFAULT_URL, api_key: str | None = None,
                 api_key_env: str | None = None, concurrency: int = 4, timeout: float = 120.0,
                 retries: int = 4, backoff: float = 1.0, video_mode: str = "images",
                 max_tokens: int = 320, temperature: float = 0.0,
                 retry_temperature: float = 0.7, jpeg_quality: int = 90,
                 batch_size: int | None = None) -> None:
        if not model:
            raise CaptionBackendError("the openai backend needs a model name (--model)", fatal=True)
        if video_mode not in VIDEO_MODES:
            raise CaptionBackendError(f"unknown video mode {video_mode!r}; use images or video_url",
                                      fatal=True)
        if not re.match(r"^https?://", url.strip()):
            raise CaptionBackendError(f"server URL {url!r} must start with http:// or https://",
                                      fatal=True)
        self.model = model
        self._url = chat_url(url)  # the one with any key in it: used, never shown or stored
        self.url = redact_url(self._url)
        self.api_key = api_key or api_key_from_env(api_key_env)
        self.concurrency = max(1, int(concurrency))
        self.timeout = float(timeout)
        self.retries = max(0, int(retries))
        self.backoff = float(backoff)
        self.video_mode = video_mode
        self.max_tokens = int(max_tokens)
        self.temperature = float(temperature)
        self.retry_temperature = float(retry_temperature)
        self.jpeg_quality = int(jpeg_quality)
        self.batch_size = max(1, int(batch_size or self.concurrency))
        self.model_id = f"openai:{model}"
        self.settings: dict[str, Any] = {
            "backend": "openai", "model": model, "url": self.url, "video_mode": video_mode,
            "max_tokens": self.max_tokens, "temperature": self.temperature,
        }
        self._pool: ThreadPoolExecutor | None = None
        self._pool_lock = threading.Lock()
        #: Told before each retry's wait (`ReportsRetries`); a caption run sets it.
        self.retry_listener: Callable[[RetryNotice], None] | None = None
        self._client = httpx.Client(limits=httpx.Limits(max_connections=self.concurrency + 1),
                                    follow_redirects=False, trust_env=False)

    # --- protocol ------------------------------------------------------------------------

    def caption_image(self, image: Any, prompt: str) -> str:
        return self._caption(CaptionRequest(prompt=prompt, image=image))

    def caption_video(self, frames: Sequence[np.ndarray], fps: float, prompt: str) -> str:
        return self._caption(CaptionRequest(prompt=prompt, frames=list(frames), fps=fps))

    def caption_many(self, requests: Sequence[CaptionRequest]) -> list[str | Exception]:
        """Raw text per request, `concurrency` requests in flight; errors come back per item."""
        if len(requests) <= 1 or self.concurrency == 1:
            return [self._caption_or_error(r) for r in requests]
        pool = self._executor()
        return list(pool.map(self._caption_or_error, requests))

    def close(self) -> None:
        with self._pool_lock:
            if self._pool is not None:
                self._pool.shutdown(wait=True)
                self._pool = None
        self._client.close()

    # --- requests ------------------------------------------------------------------------

    def payload(self, request: CaptionRequest) -> dict[str, Any]:
        """The JSON body sent for one request (public so tests and logs can show it)."""
        content: list[dict[str, Any]] = []
        if request.frames is not None:
            if self.video_mode == "video_url":
                content.append({"type": "video_url",
                                "video_url": {"url": encode_mp4(request.frames,
                                                                request.fps or 1.0)}})
            else:
                for frame in request.frames:
                    content.append({"type": "image_url",
                                    "image_url": {"url": encode_jpeg(frame, self.jpeg_quality)}})
        elif request.image is not None:  # neither: a text-only request
            content.append({"type": "image_url",
                            "image_url": {"url": encode_jpeg(request.image, self.jpeg_quality)}})
        content.append({"type": "text", "text": request.prompt})
        body: dict[str, Any] = {
            "model": self.model,
            "messages": [{"role": "user", "content": content}],
            "max_tokens": self.max_tokens,
            "temperature": self.temperature,
        }
        if request.attempt > 0:
            body["temperature"] = self.retry_temperature
            body["frequency_penalty"] = 0.3
        return body

    def _executor(self) -> ThreadPoolExecutor:
        with self._pool_lock:
            if self._pool is None:
                self._pool = ThreadPoolExecutor(max_workers=self.concurrency,
                                                thread_name_prefix="caption-http")
            return self._pool

    def _caption_or_error(self, request: CaptionRequest) -> str | Exception:
        try:
            return self._caption(request)
        except Exception as exc:  # noqa: BLE001 - handed back per item
            return exc

    def _caption(self, request: CaptionRequest) -> str:
        data = self._post(self.payload(request), request.name)
        try:
            message = data["choices"][0]["message"]
        except (KeyError, IndexError, TypeError) as exc:
            raise CaptionBackendError(
                f"{self.url} answered without a caption: {json.dumps(data)[:200]}") from exc
        content = message.get("content") if isinstance(message, dict) else None
        if isinstance(content, list):  # some servers answer with content parts
            content = "".join(part.get("text", "") for part in content if isinstance(part, dict))
        return content or ""

    def _post(self, body: dict[str, Any], name: str = "") -> dict[str, Any]:
        data = json.dumps(body).encode("utf-8")
        last: _Retryable | None = None
        for attempt in range(self.retries + 1):
            if attempt:
                wait = self.backoff * (2 ** (attempt - 1)) * (0.75 + 0.5 * random.random())
                if last is not None and last.retry_after is not None:
                    wait = max(wait, min(last.retry_after, 60.0))
                listener = self.retry_listener
                if listener is not None and last is not None:
                    listener(RetryNotice(last.short, attempt, self.retries, wait, name))
                time.sleep(wait)
            try:
                return self._post_once(data)
            except _Retryable as exc:
                last = exc
                log.info("caption request failed (%s), try %d of %d", exc, attempt + 1,
                         self.retries + 1)
        assert last is not None
        raise CaptionBackendError(
            f"{self.url}: {last} (gave up after {self.retries + 1} tries)",
            fatal=last.unreachable)

    def _post_once(self, data: bytes) -> dict[str, Any]:
        headers = {"Content-Type": "application/json", "Accept": "application/json"}
        if self.api_key:
            headers["Authorization"] = f"Bearer {self.api_key}"
        status, raw, response_headers = self._request("POST", self._url, self.timeout,
                                                      content=data, headers=headers)
        if status >= 400:
            raise self._http_error(status, raw, response_headers)
        try:
            parsed = json.loads(raw.decode("utf-8"))
        except (UnicodeDecodeError, ValueError) as exc:
            raise CaptionBackendError(f"{self.url} answered with something that is not JSON: "
                                      f"{raw[:120]!r}") from exc
        if not isinstance(parsed, dict):
            raise CaptionBackendError(f"{self.url} answered with unexpected JSON: {raw[:120]!r}")
        return parsed

    def _request(self, method: str, url: str, timeout: float, **kwargs: Any
                 ) -> tuple[int, bytes, httpx.Headers]:
        """Status, body and headers of one request, all within `timeout` seconds in total.

        httpx (like urllib) times each read, so a server sending a byte a second never trips
        it. Here the deadline is checked after every chunk of the body, and a timer shuts the
        connection's socket at the deadline, which also ends headers that trickle in.
        """
        deadline = time.monotonic() + timeout
        watch = _SocketWatch(timeout)
        try:
            with self._client.stream(method, url, timeout=httpx.Timeout(timeout),
                                     extensions={"trace": watch.trace}, **kwargs) as response:
                watch.add_stream(response.extensions.get("network_stream"))
                chunks = []
                for chunk in response.iter_raw():
                    chunks.append(chunk)
                    if time.monotonic() > deadline:
                        raise _Retryable(f"no complete answer within {timeout:g} s",
                                         short=f"No answer within {timeout:g} s")
                return response.status_code, b"".join(chunks), response.headers
        except httpx.TimeoutException as exc:
            raise _Retryable(f"no answer within {timeout:g} s",
                             short=f"No answer within {timeout:g} s") from exc
        except httpx.ConnectError as exc:
            raise _Retryable(f"cannot reach the server ({_scrub(exc, self._url)})",
                             unreachable=True, short="Server not answering") from None
        except (httpx.TransportError, httpx.DecodingError) as exc:
            if watch.fired:
                raise _Retryable(f"no complete answer within {timeout:g} s",
                                 short=f"No answer within {timeout:g} s") from None
            raise _Retryable(f"connection dropped ({exc.__class__.__name__}: "
                             f"{_scrub(exc, self._url)})", short="Connection dropped") from None
        finally:
            watch.cancel()

    def _http_error(self, status: int, body: bytes, headers: Any) -> Exception:
        message = _error_message(body)
        if status in (401, 403):
            where = "the API key was refused" if self.api_key else "it needs an API key"
            return CaptionBackendError(
                f"{self.url} answered {status}: {where} ({message}). Put the key in "
                f"{' or '.join(API_KEY_ENVS)}.", fatal=True)
        if status == 429 or status >= 500:
            retry_after = None
            try:
                retry_after = float(headers.get("Retry-After")) if headers else None
            except (TypeError, ValueError):
                retry_after = None
            short = "Server busy (429)" if status == 429 else f"Server error {status}"
            return _Retryable(f"server error {status}: {message}", retry_after=retry_after,
                              short=short)
        if status == 404 or _MODEL_MISSING.search(message):
            return self._not_found(status, message)
        limit = _IMAGE_LIMIT.search(message)
        if limit:
            return CaptionBackendError(
                f"{self.url} takes at most {limit.group(1)} image(s) per request ({message}). "
                "Start vLLM with --limit-mm-per-prompt '{\"image\": 32}', lower --max-frames, "
                "or send clips as video (--video-url).", fatal=True)
        if status == 413 or _TOO_LARGE.search(message):
            return InputTooLargeError(f"the server found the request too large ({status}: "
                                      f"{message})")
        return CaptionBackendError(f"{self.url} rejected the request ({status}: {message})")

    def _not_found(self, status: int, message: str) -> CaptionBackendError:
        served = self.served_models()
        if served is not None and self.model not in served:
            listing = ", ".join(served[:10]) or "none"
            return CaptionBackendError(
                f"the server at {self.url} has no model {self.model!r} ({status}: {message}); "
                f"it serves: {listing}", fatal=True)
        if status == 404 and served is not None:
            return CaptionBackendError(
                f"{self.url} answered 404 although the server serves {self.model!r}: "
                "is --url the server's OpenAI base (ending in /v1)?", fatal=True)
        return CaptionBackendError(
            f"{self.url} answered {status} ({message}): check that --url is the server's "
            f"OpenAI base (ending in /v1) and that it serves the model {self.model!r}",
            fatal=True)

    def served_models(self) -> list[str] | None:
        """The model ids the server lists at `/v1/models`, or None when it cannot say."""
        try:
            return self.list_models()
        except CaptionBackendError:
            return None

    def list_models(self, timeout: float = 10.0) -> list[str]:
        """The model ids at `/v1/models`, asked once (no retries): a window's connection test.

        Raises:
            CaptionBackendError: the server is unreachable, refuses, or answers no model list;
                the message says which, with the URL (secrets removed).
        """
        headers = {"Accept": "application/json"}
        if self.api_key:
            headers["Authorization"] = f"Bearer {self.api_key}"
        where = redact_url(models_url(self._url))
        try:
            status, raw, _headers = self._request(
                "GET", models_url(self._url), min(self.timeout, timeout), headers=headers)
        except _Retryable as exc:
            raise CaptionBackendError(f"{where}: {exc}") from None
        if status in (401, 403):
            refused = "the API key was refused" if self.api_key else "it needs an API key"
            raise CaptionBackendError(f"{where} answered {status}: {refused} "
                                      f"({_error_message(raw)})")
        if status >= 400:  # not `_http_error`: its 404 handling asks this list again
            raise CaptionBackendError(f"{where} answered {status} ({_error_message(raw)}): is "
                                      "the URL the server's OpenAI base, ending in /v1?")
        try:
            data = json.loads(raw.decode("utf-8"))
        except (UnicodeDecodeError, ValueError):
            raise CaptionBackendError(f"{where} answered {raw[:80]!r}, not a JSON model list: "
                                      "is this an OpenAI-compatible server?") from None
        items = data.get("data") if isinstance(data, dict) else None
        if not isinstance(items, list):
            raise CaptionBackendError(f"{where} answered JSON without a model list ('data')")
        return [str(item.get("id")) for item in items if isinstance(item, dict) and "id" in item]


class _SocketWatch:
    """Shuts the sockets of one request when its deadline passes (see `_request`)."""

    def __init__(self, timeout: float) -> None:
        self.fired = False
        self._sockets: list[socket.socket] = []
        self._lock = threading.Lock()
        self._timer = threading.Timer(timeout, self._fire)
        self._timer.daemon = True
        self._timer.start()

    def trace(self, event: str, info: dict[str, Any]) -> None:
        """httpcore's trace hook: a new connection's stream arrives with `connect_tcp`."""
        if event == "connection.connect_tcp.complete":
            self.add_stream(info.get("return_value"))

    def add_stream(self, stream: Any) -> None:
        sock = stream.get_extra_info("socket") if stream is not None else None
        if sock is not None:
            with self._lock:
                self._sockets.append(sock)
                fired = self.fired
            if fired:
                self._fire()

    def cancel(self) -> None:
        self._timer.cancel()

    def _fire(self) -> None:
        with self._lock:
            self.fired = True
            sockets = list(self._sockets)
        for sock in sockets:
            try:
                sock.shutdown(socket.SHUT_RDWR)
            except OSError:  # already closed
                pass


def _scrub(exc: BaseException, secret_url: str) -> str:
    """An error's text without the URL's secrets (httpx messages may quote the URL)."""
    return str(exc).replace(secret_url, redact_url(secret_url)) or exc.__class__.__name__
