"""Worker processes for batches of files: how many, and how their progress and cancel travel.

Decoding a video is CPU work that only partly releases the GIL, so a batch of many files
(a library of pre-cut scene clips) is spread over processes, one per core: each decodes its
own file single-threaded, which keeps every core busy without FFmpeg's frame-thread start-up
and hand-over costs on short clips. Results come back to the calling process, which alone
writes to the catalog. Processes are spawned (never forked): the caller may be a Qt window
with threads of its own, which a fork would copy half-way through whatever they were doing.

`ingest --workers` and `analyze --workers` both take their default from `default_workers`.
"""

from __future__ import annotations

import multiprocessing
import os
import queue
from collections.abc import Callable
from concurrent.futures import Future, ProcessPoolExecutor
from typing import Any

from curator.core.jobs import CancelToken


def cpu_cores() -> int:
    """The cores this process may run on (its affinity mask, not the machine's count)."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except (AttributeError, OSError):
        return max(1, os.cpu_count() or 1)


def default_workers() -> int:
    """Parallel file workers when the user gives none: one per core."""
    return cpu_cores()


def decoder_threads(workers: int) -> int:
    """FFmpeg threads for each of `workers` parallel decodes: the cores left to each."""
    return max(1, cpu_cores() // max(1, workers))


# Set in each worker process by `_start_worker`.
_messages: Any = None
_stop: Any = None


class _EventToken(CancelToken):
    """A worker's view of the parent's cancel: a flag shared between processes."""

    def __init__(self, event: Any) -> None:
        self._event = event


def worker_cancel() -> CancelToken:
    """The cancel token of the batch, inside a worker process."""
    if _stop is None:
        raise RuntimeError("worker_cancel() is for functions run by a WorkerPool")
    return _EventToken(_stop)


def worker_progress(key: object) -> Callable[..., None]:
    """A function sending `(key, args)` to the parent's `WorkerPool.messages()`."""
    def send(*args: object) -> None:
        if _messages is not None:
            _messages.put((key, args))
    return send


def _start_worker(messages: Any, stop: Any) -> None:
    global _messages, _stop
    _messages, _stop = messages, stop
    # Progress notes unread at the end are not worth a worker hanging at exit for.
    messages.cancel_join_thread()


class WorkerPool:
    """Spawned worker processes with a message queue back and a shared cancel flag.

    Use as a context manager; leaving it (normally, by an error or by a cancel) sets the
    cancel flag when `cancel` fired, drops queued tasks and waits for the running ones.
    """

    def __init__(self, workers: int, cancel: CancelToken) -> None:
        context = multiprocessing.get_context("spawn")
        self._cancel = cancel
        self._messages = context.Queue()
        self._stop = context.Event()
        self._executor = ProcessPoolExecutor(max_workers=max(1, workers), mp_context=context,
                                             initializer=_start_worker,
                                             initargs=(self._messages, self._stop))

    def submit(self, fn: Callable[..., Any], /, *args: Any, **kwargs: Any) -> Future:
        """Run `fn(*args, **kwargs)` in a worker (all of it must pickle)."""
        return self._executor.submit(fn, *args, **kwargs)

    def relay_cancel(self) -> bool:
        """Pass the caller's cancel on to the workers; True when it fired."""
        if self._cancel.cancelled:
            self._stop.set()
            return True
        return False

    def messages(self, timeout: float = 0.0) -> list[tuple[object, tuple]]:
        """What workers sent since the last call, waiting up to `timeout` for the first."""
        out: list[tuple[object, tuple]] = []
        try:
            out.append(self._messages.get(timeout=timeout) if timeout > 0
                       else self._messages.get_nowait())
            while True:
                out.append(self._messages.get_nowait())
        except (queue.Empty, OSError, ValueError):
            pass
        return out

    def __enter__(self) -> WorkerPool:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close(cancel=exc[0] is not None)

    def close(self, *, cancel: bool = False) -> None:
        if cancel or self._cancel.cancelled:
            self._stop.set()
        self._executor.shutdown(wait=True, cancel_futures=True)
        self._messages.close()
        self._messages.join_thread()
