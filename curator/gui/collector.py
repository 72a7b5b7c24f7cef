"""Python's cycle collector, run on the GUI thread only.

The collector runs in whichever thread happens to allocate when a threshold is crossed. When
that is a worker's QThread (a caption job importing transformers allocates a lot), it finalises
Qt wrappers that belong to the GUI thread there, and Qt crashes. So automatic collection is
switched off while the window lives and a timer on the GUI thread collects instead, with the
same generation thresholds (pyqtgraph's GarbageCollector does the same for the same reason).
"""

from __future__ import annotations

import gc

from PySide6.QtCore import QCoreApplication, QObject, QTimer

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
        """Collect as gc would have: when generation 0 is past its threshold, the oldest
        generation that is past its own (one collection, which takes the younger ones)."""
        counts = gc.get_count()
        if counts[0] <= self._threshold[0]:
            return
        gc.collect(max(g for g in range(3) if counts[g] > self._threshold[g]))


_installed: list[MainThreadCollector] = []


def collect_on_gui_thread(app: QCoreApplication) -> MainThreadCollector:
    """Install the collector once per application (idempotent); automatic collection comes
    back when the application quits."""
    if not _installed:
        _installed.append(MainThreadCollector(app))
        app.aboutToQuit.connect(gc.enable)
    return _installed[0]
