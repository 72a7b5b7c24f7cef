"""Run a core call off the GUI thread; when asked again before it ends, only the latest answers.

Dragging a threshold asks for a count many times a second: each call gets a generation
number, and a result whose generation is no longer the newest is dropped on arrival.
"""

from __future__ import annotations

import traceback
from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QObject, QRunnable, QThreadPool, Signal


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

    Signals:
        finished: the result of the newest call.
        failed: its error text, when it raised.
    """

    finished = Signal(object)
    failed = Signal(str)

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._pool = QThreadPool(self)
        self._pool.setMaxThreadCount(1)
        self._relay = _Relay(self)
        self._relay.done.connect(self._on_done)
        self._generation = 0
        self.busy = False

    def start(self, call: Callable[[], Any]) -> None:
        """Queue `call`; calls queued before it and not started yet are dropped."""
        self._generation += 1
        self._pool.clear()  # the unstarted older calls: their answers would be dropped anyway
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
