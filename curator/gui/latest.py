"""Off-thread work where only the latest answer matters (a count after each edit, a plan).

`LatestRun.submit(fn)` runs `fn` on a worker thread; asked again while one runs, it keeps only
the newest ask and starts it when the running one ends. Every answer comes back through
`finished` on the GUI thread; the caller compares it with what it now wants.

`LatestCall.start(call)` answers only the newest call (older answers are dropped on arrival),
and reports a call that raised through `failed`: dragging a threshold asks for a count many
times a second.

`single_shot(ms, slot, parent)` is the same rule on the GUI thread: a timer each edit
restarts, so only the last edit of a burst recounts, saves or searches.
"""

from __future__ import annotations

import traceback
from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QObject, QRunnable, Qt, QThread, QThreadPool, QTimer, Signal, Slot


def single_shot(ms: int, slot: Callable[[], object], parent: QObject) -> QTimer:
    """A timer that calls `slot` once, `ms` after its last `start()`."""
    timer = QTimer(parent)
    timer.setSingleShot(True)
    timer.setInterval(ms)
    timer.timeout.connect(slot)
    return timer


class _Call(QObject):
    finished = Signal(object)

    def __init__(self, fn: Callable[[], object]) -> None:
        super().__init__()
        self._fn = fn

    @Slot()
    def run(self) -> None:
        self.finished.emit(self._fn())


class LatestRun(QObject):
    """One worker thread at a time; the newest waiting ask replaces older ones."""

    finished = Signal(object)

    def __init__(self, name: str, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._name = name
        self._running: tuple[QThread, _Call] | None = None
        self._waiting: Callable[[], object] | None = None
        self._closed = False

    @property
    def busy(self) -> bool:
        return self._running is not None

    def submit(self, fn: Callable[[], object]) -> None:
        """Run `fn` now, or after the running call (replacing any ask waiting already)."""
        if self._closed:
            return
        if self._running is not None:
            self._waiting = fn
            return
        call = _Call(fn)
        thread = QThread(self)
        thread.setObjectName(self._name)
        call.moveToThread(thread)
        thread.started.connect(call.run)
        # Quit on the worker's own thread, so waiting for the thread never needs this loop.
        call.finished.connect(thread.quit, Qt.ConnectionType.DirectConnection)
        call.finished.connect(self._on_finished)
        self._running = (thread, call)
        thread.start()

    def _join(self) -> None:
        if self._running is None:
            return
        thread, call = self._running
        self._running = None
        thread.wait()
        call.deleteLater()
        thread.deleteLater()

    @Slot(object)
    def _on_finished(self, result: object) -> None:
        self._join()
        if self._closed:
            return
        waiting, self._waiting = self._waiting, None
        if waiting is not None:
            self.submit(waiting)
        self.finished.emit(result)

    def shutdown(self) -> None:
        """Drop what waits, wait for what runs; no answer comes after this."""
        self._closed = True
        self._waiting = None
        if self._running is not None:
            try:
                self._running[1].finished.disconnect(self._on_finished)
            except (RuntimeError, TypeError):
                pass
            self._join()


class _Relay(QObject):
    done = Signal(int, object, str)  # generation, result, error text ('' when none)


class _Task(QRunnable):
    def __init__(self, relay: _Relay, generation: int, call: Callable[[], Any]) -> None:
        super().__init__()
        self._relay, self._generation, self._call = relay, generation, call

    def run(self) -> None:
        try:
            result = self._call()
        except Exception as exc:  # noqa: BLE001 - reported to the view, never a crash
            self._relay.done.emit(self._generation, None,
                                  f"{type(exc).__name__}: {exc}\n{traceback.format_exc()}")
        else:
            self._relay.done.emit(self._generation, result, "")


class LatestCall(QObject):
    """One worker thread; `start(call)` runs `call()` there and emits `finished(result)`.

    Each call gets a generation number; an answer whose generation is no longer the newest is
    dropped on arrival. Calls queued and not started are dropped too, unless `keep_queued`
    (their work must happen, as a fix, even when nobody waits for its answer).

    Signals:
        finished: the result of the newest call.
        failed: its error text, when it raised.
    """

    finished = Signal(object)
    failed = Signal(str)

    def __init__(self, parent: QObject | None = None, *, keep_queued: bool = False) -> None:
        super().__init__(parent)
        self._keep_queued = keep_queued
        self._pool = QThreadPool(self)
        self._pool.setMaxThreadCount(1)
        self._relay = _Relay(self)
        self._relay.done.connect(self._on_done)
        self._generation = 0
        self.busy = False

    def start(self, call: Callable[[], Any]) -> None:
        """Queue `call`; calls queued before it and not started yet are dropped."""
        self._generation += 1
        if not self._keep_queued:  # unstarted older calls: their answers would be dropped anyway
            self._pool.clear()
        self.busy = True
        self._pool.start(_Task(self._relay, self._generation, call))

    def wait(self, msecs: int = 30_000) -> bool:
        """Block until the running call ends (closing a window, tests)."""
        return self._pool.waitForDone(msecs)

    def _on_done(self, generation: int, result: object, error: str) -> None:
        if generation != self._generation:
            return
        self.busy = False
        if error:
            self.failed.emit(error)
        else:
            self.finished.emit(result)
