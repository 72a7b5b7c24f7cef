"""Off-thread work where only the latest answer matters (a count after each edit, a plan).

`LatestRun.submit(fn)` runs `fn` on a worker thread; asked again while one runs, it keeps only
the newest ask and starts it when the running one ends. Every answer comes back through
`finished` on the GUI thread; the caller compares it with what it now wants.
"""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import QObject, Qt, QThread, Signal, Slot


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

