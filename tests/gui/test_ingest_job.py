"""The window's ingest job over a library of clips: worker processes under a GUI job thread."""

from __future__ import annotations

import itertools
import time
from pathlib import Path

import pytest
from PySide6.QtCore import QTimer

from curator.core.analysis import make_frame_analyzer
from curator.core.ingest import MIN_POOL_VIDEOS, ingest_paths
from curator.gui.workers import JobRunner
from tests.media_factory import Segment, make_video


@pytest.fixture(scope="module")
def clip_folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    d = tmp_path_factory.mktemp("gui_clips")
    for k in range(MIN_POOL_VIDEOS + 2):
        make_video(d / f"scene_{k}.mp4", [Segment("texture", 40, seed=60 + k)], size=(192, 108))
    return d


def _start(runner: JobRunner, project, folder: Path):
    # what MainWindow.ingest passes (the job records its own catalog row)
    return runner.start("ingest", "Ingest clips", ingest_paths, record_in_catalog=False,
                        catalog=project.catalog, paths=[folder],
                        thumbs_dir=project.thumbs_dir, analyzer_factory=make_frame_analyzer)


@pytest.mark.slow
def test_ingest_of_a_library_keeps_the_window_handling_events(qtbot, project,
                                                                       clip_folder) -> None:
    runner = JobRunner(project.catalog)
    ticks: list[float] = []
    ticker = QTimer(interval=20)
    ticker.timeout.connect(lambda: ticks.append(time.monotonic()))
    ticker.start()
    with qtbot.waitSignal(runner.job_finished, timeout=120_000):
        handle = _start(runner, project, clip_folder)
    ticker.stop()
    assert handle.status == "done", handle.log
    assert handle.report.sources == MIN_POOL_VIDEOS + 2 and handle.report.failed == []
    assert all(c.analysis is not None for c in project.catalog.list_clips())
    # the GUI thread went on handling events the whole time: no frozen stretch
    gaps = [b - a for a, b in itertools.pairwise(ticks)]
    assert len(ticks) > 10 and max(gaps) < 1.0, max(gaps)


@pytest.mark.slow
def test_cancel_from_the_window_reaches_the_workers(qtbot, project, clip_folder) -> None:
    runner = JobRunner(project.catalog)
    handle = _start(runner, project, clip_folder)
    qtbot.waitUntil(lambda: handle.progress is not None and handle.progress.done >= 1,
                    timeout=120_000)
    with qtbot.waitSignal(runner.job_finished, timeout=60_000):
        runner.cancel(handle)
    assert handle.status == "cancelled"
    assert len(project.catalog.list_sources()) < MIN_POOL_VIDEOS + 2
    assert project.catalog.list_jobs(kind="ingest")[0].status == "cancelled"
    assert runner.running() == []
