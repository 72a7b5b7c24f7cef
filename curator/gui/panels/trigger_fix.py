"""'Add the trigger to N captions': a bar under the caption editor while captions lack it.

`export` refuses captions that do not start with the project's trigger phrase; this bar
counts them (`curator.core.trigger.missing_trigger`, on a pool thread: a scan of every caption)
and fixes them all in one click (`add_trigger`, also off the GUI thread). The rule is the
core's; the bar only shows the count and the button.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QObject, QRunnable, QThreadPool, QTimer, Signal, Slot
from PySide6.QtWidgets import QFrame, QHBoxLayout, QLabel, QPushButton, QWidget

from curator.core.catalog import Catalog
from curator.core.trigger import MissingTrigger, add_trigger, missing_trigger

#: A burst of caption saves is counted once, this long after the last one.
RECOUNT_DELAY_MS = 1000


class _Relay(QObject):
    done = Signal(int, object)  # generation, result (or the exception)


class _Task(QRunnable):
    def __init__(self, relay: _Relay, generation: int, work: Callable[[], Any]) -> None:
        super().__init__()
        self._relay, self._generation, self._work = relay, generation, work

    def run(self) -> None:
        try:
            result: Any = self._work()
        except Exception as exc:  # noqa: BLE001 - shown in the bar, never lost on a pool thread
            result = exc
        self._relay.done.emit(self._generation, result)


class TriggerFixBar(QFrame):
    """Hidden while every caption starts with the trigger; else the count and a fix button.

    Signals:
        fixed(int): how many captions were given the trigger.
    """

    fixed = Signal(int)

    def __init__(self, catalog: Catalog, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("triggerFixBar")
        self.catalog = catalog
        self.missing: list[MissingTrigger] = []
        self._generation = 0
        self._pool = QThreadPool(self)
        self._pool.setMaxThreadCount(1)
        self._relay = _Relay(self)
        self._relay.done.connect(self._on_done)
        row = QHBoxLayout(self)
        row.setContentsMargins(8, 3, 4, 3)
        self.text = QLabel()
        self.text.setWordWrap(True)
        row.addWidget(self.text, 1)
        self.button = QPushButton()
        self.button.setObjectName("addTriggerToAll")
        self.button.setToolTip("Put the trigger phrase first in each of these captions (a new "
                               "version each, so it can be undone from the history)")
        self.button.clicked.connect(self.add_to_all)
        row.addWidget(self.button)
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setInterval(RECOUNT_DELAY_MS)
        self._timer.timeout.connect(self.recount)
        self.setVisible(False)
        self.recount()

    @Slot()
    def recount_soon(self, *_args: object) -> None:
        self._timer.start()

    @Slot()
    def recount(self) -> None:
        self._start(lambda: missing_trigger(self.catalog))

    @Slot()
    def add_to_all(self) -> None:
        items = list(self.missing)
        self.button.setEnabled(False)
        self.text.setText(f"Adding the trigger to {len(items)} captions…")
        self._start(lambda: add_trigger(self.catalog, items))

    def wait(self, timeout_ms: int = 10_000) -> bool:
        return self._pool.waitForDone(timeout_ms)

    def _start(self, work: Callable[[], Any]) -> None:
        self._generation += 1
        self._pool.start(_Task(self._relay, self._generation, work))

    @Slot(int, object)
    def _on_done(self, generation: int, result: object) -> None:
        if generation != self._generation:  # a newer count or fix is on its way
            return
        if isinstance(result, Exception):
            self.text.setText(f"Could not check the captions: {result}")
            self.button.setEnabled(False)
            self.setVisible(True)
            return
        if isinstance(result, int):  # a fix finished: count again
            self.fixed.emit(result)
            self.recount()
            return
        self.missing = list(result)  # type: ignore[call-overload]
        n = len(self.missing)
        trigger = (self.catalog.settings().trigger or "").strip()
        self.text.setText(f"{n} caption{'' if n == 1 else 's'} do not start with “{trigger}”: "
                          f"export refuses them")
        self.button.setText(f"Add the trigger to {n} caption{'' if n == 1 else 's'}")
        self.button.setEnabled(n > 0)
        self.setVisible(n > 0)
