"""Cycles are collected on the GUI thread, never in a worker that happens to allocate."""

from __future__ import annotations

import gc
import threading

from pytestqt.qtbot import QtBot

from curator.gui.app import make_app
from curator.gui.collector import MainThreadCollector


class _Cycle:
    """An object in a reference cycle that records which thread finalised it."""

    finalised_in: list[int] = []

    def __init__(self) -> None:
        self.me = self

    def __del__(self) -> None:
        _Cycle.finalised_in.append(threading.get_ident())


def test_the_app_collects_cycles_on_the_gui_thread_only(qtbot: QtBot) -> None:
    make_app()
    assert not gc.isenabled()
    _Cycle.finalised_in.clear()
    for _ in range(50):
        _Cycle()

    def allocate() -> None:
        # Far past generation 0's threshold: with automatic collection this thread would
        # finalise the cycles above.
        junk = [[i] for i in range(100_000)]
        del junk

    worker = threading.Thread(target=allocate)
    worker.start()
    worker.join()
    assert _Cycle.finalised_in == []
    due = [[i] for i in range(gc.get_threshold()[0] + 1)]  # so that generation 0 is due
    qtbot.waitUntil(lambda: len(_Cycle.finalised_in) == 50, timeout=5000)
    assert set(_Cycle.finalised_in) == {threading.get_ident()}
    del due


def test_collect_due_collects_only_past_the_threshold(qtbot: QtBot) -> None:
    collector = MainThreadCollector()
    gc.collect()
    _Cycle.finalised_in.clear()
    _Cycle()
    collector.collect_due()  # one object: under generation 0's threshold, nothing collected
    assert _Cycle.finalised_in == []
    for _ in range(gc.get_threshold()[0] + 10):
        _Cycle()
    collector.collect_due()
    assert _Cycle.finalised_in
