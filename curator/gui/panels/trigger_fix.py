"""'Add the trigger to N captions': a bar under the caption editor while captions lack it.

`export` refuses captions that do not start with the project's trigger phrase; this bar
counts them (`curator.core.trigger.missing_trigger`, off the GUI thread: a scan of every caption)
and fixes them all in one click (`add_trigger`, also off the GUI thread). The rule is the
core's; the bar only shows the count and the button.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from PySide6.QtCore import Signal, Slot
from PySide6.QtWidgets import QFrame, QHBoxLayout, QLabel, QPushButton, QWidget

from curator.core.catalog import Catalog
from curator.core.trigger import MissingTrigger, add_trigger, missing_trigger
from curator.gui.latest import LatestCall, single_shot

#: A burst of caption saves is counted once, this long after the last one.
RECOUNT_DELAY_MS = 1000


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
        # a fix asked for while a count runs must still happen: queued calls are kept
        self._calls = LatestCall(self, keep_queued=True)
        self._calls.finished.connect(self._on_done)
        self._calls.failed.connect(self._on_failed)
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
        self._timer = single_shot(RECOUNT_DELAY_MS, self.recount, self)
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
        return self._calls.wait(timeout_ms)

    def _start(self, work: Callable[[], Any]) -> None:
        self._calls.start(work)  # the answer of an older count or fix is dropped

    @Slot(str)
    def _on_failed(self, error: str) -> None:
        self.text.setText(f"Could not check the captions: {error.splitlines()[0]}")
        self.button.setEnabled(False)
        self.setVisible(True)

    @Slot(object)
    def _on_done(self, result: object) -> None:
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
