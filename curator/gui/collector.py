"""Python's cycle collector, run on the GUI thread only.

The collector runs in whichever thread happens to allocate when a threshold is crossed. When
that is a worker's QThread (a caption job importing transformers allocates a lot), it finalises
Qt wrappers that belong to the GUI thread there, and Qt crashes. So automatic collection is
switched off while the window lives and a timer on the GUI thread collects instead, with the
same generation thresholds (pyqtgraph's GarbageCollector does the same for the same reason).
"""

from __future__ import annotations

import gc

from PySide6.QtCore import QObject, QTimer

_INTERVAL_MS = 500


class MainThreadCollector(QObject):
    """Collects cycles on the thread that created it, every half second when due."""

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._threshold = gc.get_threshold()
        gc.disable()
        self._timer = QTimer(self)
        self._timer.timeout.connect(self.collect_due)
        self._timer.start(_INTERVAL_MS)

    def collect_due(self) -> None:
        """Collect the generations whose counts passed their thresholds, as gc would have."""
        young, middle, old = gc.get_count()
        if young > self._threshold[0]:
            gc.collect(0)
            if middle > self._threshold[1]:
                gc.collect(1)
                if old > self._threshold[2]:
                    gc.collect(2)


_installed: list[MainThreadCollector] = []


def collect_on_gui_thread(app: QObject) -> MainThreadCollector:
    """Install the collector once per application (idempotent)."""
    if not _installed:
        _installed.append(MainThreadCollector(app))
    return _installed[0]
