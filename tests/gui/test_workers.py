"""JobRunner: real threads running jobs that follow the core contract; pure helpers alone."""

from __future__ import annotations

from dataclasses import dataclass, field

import pytest

from curator.core.jobs import CancelToken, ItemFailure, Progress, ProgressFn, Report
from curator.gui.workers import (
    JobHandle,
    JobRunner,
    ProgressMailbox,
    close_question,
    eta_seconds,
    format_eta,
    report_summary,
    time_text,
)


@dataclass
class CountReport(Report):
    items: list[int] = field(default_factory=list)


def count_items(*, items: int, delay: float, fail_on: int | None = None,
                progress: ProgressFn, cancel: CancelToken) -> CountReport:
    """A long step by the jobs contract: per-item progress, cancel between items, failures kept."""
    report = CountReport()
    for i in range(items):
        if cancel.cancelled:
            report.cancelled = True
            break
        if i == fail_on:
            report.failed.append(ItemFailure(path=f"item{i}.mp4", reason="cannot be decoded"))
        else:
            report.items.append(i)
            report.done += 1
        progress(Progress(done=i + 1, total=items, item=f"item{i}.mp4",
                          message=f"line {i}" if i % 10 == 0 else ""))
        cancel.wait(delay)
    return report


def crash(*, progress: ProgressFn, cancel: CancelToken) -> None:
    progress(Progress(done=0, total=1))
    raise RuntimeError("the model file is corrupt")


def test_the_mailbox_gives_the_latest_progress_once_and_every_message():
    box = ProgressMailbox()
    for i in range(1, 101):  # 100 updates between two reads
        box.put(Progress(done=i, total=100, message=f"line {i}" if i % 25 == 0 else ""))
    progress, lines = box.take()
    assert progress is not None and progress.done == 100
    assert lines == ["line 25", "line 50", "line 75", "line 100"]
    assert box.take() == (None, [])  # nothing new: nothing to redraw
    box.put(Progress(done=0, total=None, message="Server error 500, retry 1 of 4"))
    box.put(Progress(done=0, total=None, message="Server error 500, retry 1 of 4"))
    progress, lines = box.take()
    assert progress.total is None and lines == ["Server error 500, retry 1 of 4"]


def pause_after(*, at: int, pause: float, progress: ProgressFn, cancel: CancelToken) -> Report:
    """Counts quickly to `at`, then goes quiet (a model loading, a server retried)."""
    for i in range(1, at + 1):
        progress(Progress(done=i, total=100))
    cancel.wait(pause)
    progress(Progress(done=100, total=100))
    return Report(done=100)


def test_the_last_word_before_a_quiet_step_shows_while_it_lasts(qtbot):
    runner = JobRunner()
    with qtbot.waitSignal(runner.job_finished, timeout=10_000):
        handle = runner.start("analyze", "Quiet", pause_after, at=57, pause=1.5,
                              record_in_catalog=False)
        # a throttle that dropped updates on the way showed an older count for the whole pause
        qtbot.waitUntil(lambda: handle.progress is not None and handle.progress.done == 57,
                        timeout=1000)
        assert handle.running
    assert handle.progress.done == 100 and handle.status == "done"


def test_eta_and_its_format():
    assert eta_seconds(10.0, 0.25) == pytest.approx(30.0)
    assert eta_seconds(10.0, None) is None and eta_seconds(0.0, 0.5) is None
    assert [format_eta(s) for s in (7, 249, 3909, None)] == ["0:07", "4:09", "1:05:09", ""]


def test_the_time_column_says_whether_it_is_time_left_or_time_taken():
    assert time_text("running", 30.0, 42.0) == "0:42 left"
    assert time_text("running", 30.0, None) == ""  # not known yet: nothing, not 0:00
    assert time_text("done", 8.2, None) == "done in 0:08"
    assert time_text("failed", 19.0, None) == "failed after 0:19"
    assert time_text("cancelled", 65.0, None) == "stopped after 1:05"


def test_close_question_only_when_jobs_run():
    done = JobHandle(1, "export", "Export", status="done")
    running = JobHandle(2, "caption", "Caption 300 clips")
    assert close_question([done]) is None
    question = close_question([done, running])
    assert question is not None and "1 job is" in question and "Caption 300 clips" in question
    many = [JobHandle(i, "ingest", f"Ingest {i}") for i in range(5)]
    assert "5 jobs are" in close_question(many)


def test_report_summary_is_json():
    report = CountReport(done=2, failed=[ItemFailure("a.mp4", "bad")], items=[1, 2])
    assert report_summary(report) == {"done": 2, "failed": [{"path": "a.mp4", "reason": "bad"}],
                                      "warnings": [], "cancelled": False, "items": [1, 2]}
    assert report_summary(None) is None


def test_a_job_runs_to_the_end_with_progress_read_a_few_times_a_second_and_a_log(qtbot, catalog):
    runner = JobRunner(catalog)
    updates = []
    runner.job_updated.connect(lambda handle: updates.append(handle.progress))
    with qtbot.waitSignal(runner.job_finished, timeout=10_000) as finished:
        handle = runner.start("analyze", "Count 300 items", count_items, items=300, delay=0.001,
                              fail_on=7)
    assert finished.args[0] is handle
    assert handle.status == "done" and handle.report.done == 299
    assert not handle.thread.isRunning()
    # 300 items in ~0.3-1 s: a handful of updates reach the GUI thread, the last one included.
    progress_updates = [p for p in updates if p is not None]
    assert 1 <= len(progress_updates) < 60
    assert progress_updates[-1].done == 300
    assert "line 290" in handle.log and any("item7.mp4: cannot be decoded" in line
                                            for line in handle.log)
    row = catalog.get_job(handle.catalog_job_id)
    assert (row.kind, row.status) == ("analyze", "done")
    assert row.result["failed"] == [{"path": "item7.mp4", "reason": "cannot be decoded"}]
    assert row.params["items"] == 300


def test_cancel_stops_between_items_and_is_recorded(qtbot, catalog):
    runner = JobRunner(catalog)
    handle = runner.start("caption", "Slow", count_items, items=10_000, delay=0.01)
    qtbot.waitUntil(lambda: handle.progress is not None and handle.progress.done >= 3,
                    timeout=10_000)
    assert handle.eta is not None and handle.eta > 0
    with qtbot.waitSignal(runner.job_finished, timeout=10_000):
        runner.cancel(handle)
    assert handle.status == "cancelled" and handle.report.done < 10_000
    assert catalog.get_job(handle.catalog_job_id).status == "cancelled"
    assert runner.running() == []


def test_a_crash_is_a_failed_job_with_its_traceback(qtbot, catalog):
    runner = JobRunner(catalog)
    with qtbot.waitSignal(runner.job_finished, timeout=10_000):
        handle = runner.start("train", "Train", crash)
    assert handle.status == "failed"
    assert any("the model file is corrupt" in line for line in handle.log)
    assert catalog.get_job(handle.catalog_job_id).status == "failed"


def test_on_finished_is_called_once_for_its_own_job(qtbot):
    runner = JobRunner()
    calls = []
    with qtbot.waitSignal(runner.job_finished, timeout=10_000):
        first = runner.start("export", "A", count_items, on_finished=calls.append, items=3,
                             delay=0.0)
    with qtbot.waitSignal(runner.job_finished, timeout=10_000):
        runner.start("export", "B", count_items, items=3, delay=0.0)
    assert calls == [first]


def test_shutdown_cancels_every_job_and_waits_without_an_event_loop(qtbot):
    runner = JobRunner()
    handles = [runner.start("caption", f"Job {i}", count_items, items=100_000, delay=0.01)
               for i in range(3)]
    qtbot.waitUntil(lambda: all(h.progress is not None for h in handles), timeout=10_000)
    assert runner.shutdown(timeout_ms=10_000)
    assert [h.status for h in handles] == ["cancelled"] * 3
    assert all(not h.thread.isRunning() for h in handles)
