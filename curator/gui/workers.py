"""Run core jobs off the GUI thread: one QThread per job, progress read a few times a second,
cancel, log.

Every long step the window starts (ingest, analyze, caption, export, train) goes through a
`JobRunner`: it hands plain values to a core function on a worker thread, reads the job's
latest progress every `PROGRESS_INTERVAL_S`, keeps each job's log, records the job in the
catalog, and on close cancels everything and waits for the threads to end.
"""

from __future__ import annotations

import dataclasses
import re
import threading
import time
import traceback
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

from PySide6.QtCore import QObject, Qt, QThread, QTimer, Signal, Slot

from curator.core.catalog import Catalog
from curator.core.jobs import CancelToken, Progress, Report

#: How often the GUI reads a job's progress (a job may report 1,000 items/s).
PROGRESS_INTERVAL_S = 0.1

#: Lines kept per job log; older lines are dropped (a trainer can print for days).
LOG_LINES = 5000

_EXCEPTION_LINE = re.compile(r"^[A-Za-z_][\w.]*(?:Error|Exception|Interrupt|Exit)\b")


class ProgressMailbox:
    """A job's latest progress and the log lines since last read: written by the job's thread
    at any rate, read by the GUI thread at its own pace.

    The latest word always wins: a throttle that drops updates on the way left the last one
    before a long silent step (a server being retried, a model loading) unseen until the
    next came. Messages are log lines (a trainer's output): never dropped, only batched.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._latest: Progress | None = None
        self._fresh = False
        self._lines: list[str] = []
        self._last_message = ""

    def put(self, progress: Progress) -> None:
        with self._lock:
            if progress.message and progress.message != self._last_message:
                self._lines.append(progress.message)
                self._last_message = progress.message
            self._latest, self._fresh = progress, True

    def take(self) -> tuple[Progress | None, list[str]]:
        """The latest progress when new since the last take (else None), and the new lines."""
        with self._lock:
            progress = self._latest if self._fresh else None
            lines, self._lines, self._fresh = self._lines, [], False
        return progress, lines


def eta_seconds(elapsed: float, fraction: float | None) -> float | None:
    """Seconds left at the average rate so far; None while it cannot be estimated."""
    if fraction is None or fraction <= 0.0 or elapsed <= 0.0:
        return None
    return max(0.0, elapsed / fraction - elapsed)


def format_eta(seconds: float | None) -> str:
    """'1:05:09', '4:09', '0:07' or '' when unknown."""
    if seconds is None:
        return ""
    total = int(round(seconds))
    hours, rest = divmod(total, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes}:{secs:02d}"


def time_text(status: str, elapsed: float, eta: float | None) -> str:
    """The jobs table's Time column: '0:42 left' while running (when known), then how long
    it took, said as such: a bare '0:08' on a finished job read as time left."""
    if status in ("running", "cancelling"):
        return f"{format_eta(eta)} left" if eta is not None else ""
    took = format_eta(elapsed)
    return {"done": f"done in {took}", "failed": f"failed after {took}",
            "cancelled": f"stopped after {took}"}.get(status, "")


def close_question(running: Sequence[JobHandle]) -> str | None:
    """What to ask before closing with jobs running, or None when there is nothing to ask."""
    live = [job for job in running if job.status in ("running", "cancelling")]
    if not live:
        return None
    names = ", ".join(job.title for job in live[:3]) + (", …" if len(live) > 3 else "")
    what = "1 job is" if len(live) == 1 else f"{len(live)} jobs are"
    return (f"{what} still running ({names}).\n\nCancel and close? Work finished so far is "
            "kept in the catalog; a cancelled job can be run again later and resumes.")


def crash_reason(log: Sequence[str]) -> str:
    """The line of a job's log that says why it crashed: the traceback's exception line."""
    for line in reversed(log):
        if _EXCEPTION_LINE.match(line.strip()):
            return line.strip()
    return "an unexpected error"


@runtime_checkable
class _JsonReport(Protocol):
    """A report that says how it is stored (an export's, a training run's)."""

    def to_json(self) -> dict[str, Any]: ...


@runtime_checkable
class _Verdict(Protocol):
    """A report that says whether the job as a whole worked (a training run's `ok`)."""

    @property
    def ok(self) -> bool: ...


def report_summary(report: object) -> dict[str, Any] | None:
    """A JSON-able summary of a job's report, for the catalog's job row."""
    if report is None:
        return None
    if isinstance(report, _JsonReport):
        return report.to_json()
    if dataclasses.is_dataclass(report) and not isinstance(report, type):
        return _jsonable(dataclasses.asdict(report))
    return {"value": _jsonable(report)}


def _jsonable(value: Any) -> Any:
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple, set)):
        return [_jsonable(v) for v in value]
    if isinstance(value, (str, int, float, bool)) or value is None:
        return value
    return str(value)


class JobWorker(QObject):
    """Runs one core job on its thread; its progress waits in `mailbox`, its end is a signal."""

    finished = Signal(object)  # the job's report
    crashed = Signal(str)  # traceback text

    def __init__(self, job: Callable[..., object], /, **kwargs: object) -> None:
        super().__init__()
        self._job, self._kwargs, self.cancel_token = job, kwargs, CancelToken()
        self.mailbox = ProgressMailbox()
        self.report: object = None  # kept for a runner that waits without an event loop

    @Slot()
    def run(self) -> None:
        try:
            report = self._job(**self._kwargs, progress=self.mailbox.put,
                               cancel=self.cancel_token)
        except Exception:  # noqa: BLE001 - any crash is shown in the job's log, not lost
            self.crashed.emit(traceback.format_exc())
        else:
            self.report = report
            self.finished.emit(report)


@dataclass(eq=False)
class JobHandle:
    """What the jobs panel shows of one job; lives on the GUI thread."""

    number: int
    kind: str
    title: str
    status: str = "running"  # running | cancelling | done | failed | cancelled
    progress: Progress | None = None
    started: float = field(default_factory=time.monotonic)
    ended: float | None = None
    log: list[str] = field(default_factory=list)
    log_count: int = 0  # lines ever added (the list keeps the last LOG_LINES)
    report: object = None
    #: Why a failed job failed, in one line (the exception, or the first item that failed).
    error: str | None = None
    catalog_job_id: int | None = None
    worker: JobWorker | None = field(default=None, repr=False)
    thread: QThread | None = field(default=None, repr=False)
    relay: QObject | None = field(default=None, repr=False)

    @property
    def running(self) -> bool:
        return self.status in ("running", "cancelling")

    @property
    def fraction(self) -> float | None:
        if self.status == "done":
            return 1.0
        return self.progress.fraction if self.progress else None

    @property
    def elapsed(self) -> float:
        return (self.ended or time.monotonic()) - self.started

    @property
    def eta(self) -> float | None:
        return eta_seconds(self.elapsed, self.fraction) if self.running else None

    def add_log(self, lines: Sequence[str]) -> None:
        self.log.extend(lines)
        self.log_count += len(lines)
        if len(self.log) > LOG_LINES:
            del self.log[:len(self.log) - LOG_LINES]


class JobRunner(QObject):
    """Owns the job threads; the window and the panels start and cancel jobs through it."""

    job_started = Signal(object)  # JobHandle
    job_updated = Signal(object)  # JobHandle (progress or log changed)
    job_finished = Signal(object)  # JobHandle, status done | failed | cancelled

    def __init__(self, catalog: Catalog | None = None, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.catalog = catalog
        self.jobs: list[JobHandle] = []
        self._next_number = 1
        self._reader = QTimer(self)  # reads the running jobs' mailboxes
        self._reader.setInterval(int(PROGRESS_INTERVAL_S * 1000))
        self._reader.timeout.connect(self._read_mailboxes)

    def start(self, kind: str, title: str, job: Callable[..., object], /,
              on_finished: Callable[[JobHandle], None] | None = None,
              record_in_catalog: bool = True, **kwargs: object) -> JobHandle:
        """Run `job(**kwargs, progress=..., cancel=...)` on a new thread.

        Args:
            kind: ingest | analyze | caption | export | train (recorded in the catalog).
            title: what the jobs panel shows.
            job: a core function following the jobs contract.
            on_finished: called on the GUI thread with the handle once the job has ended.
            record_in_catalog: False for core jobs that record their own run (ingest,
                analyze), so one run is one job row.
            kwargs: plain values (ids, paths, a settings snapshot), taken now on the GUI thread.
        """
        handle = JobHandle(number=self._next_number, kind=kind, title=title)
        self._next_number += 1
        handle.add_log([f"{time.strftime('%H:%M:%S')} started: {title}"])
        if self.catalog is not None and record_in_catalog:
            handle.catalog_job_id = self.catalog.start_job(kind, {
                "title": title, **{k: _jsonable(v) for k, v in kwargs.items()
                                   if isinstance(v, (str, int, float, bool, Path, list, tuple))}})
        worker = JobWorker(job, **kwargs)
        thread = QThread(self)
        thread.setObjectName(f"job-{handle.number}-{kind}")
        worker.moveToThread(thread)
        handle.worker, handle.thread = worker, thread
        thread.started.connect(worker.run)
        # The thread's loop ends right where the job does, on the worker's own thread, so
        # waiting for it never depends on the GUI thread handling a queued signal first.
        worker.finished.connect(thread.quit, Qt.ConnectionType.DirectConnection)
        worker.crashed.connect(thread.quit, Qt.ConnectionType.DirectConnection)
        # A relay living on the GUI thread makes every update a queued call into this thread.
        relay = _JobRelay(self, handle)
        worker.finished.connect(relay.on_finished)
        worker.crashed.connect(relay.on_crashed)
        handle.relay = relay
        if on_finished is not None:
            self.job_finished.connect(_once_for(handle, on_finished, self.job_finished))
        self.jobs.append(handle)
        thread.start()
        self._reader.start()
        self.job_started.emit(handle)
        return handle

    def running(self) -> list[JobHandle]:
        return [job for job in self.jobs if job.running]

    def cancel(self, handle: JobHandle) -> None:
        if handle.running and handle.worker is not None:
            handle.worker.cancel_token.cancel()
            handle.status = "cancelling"
            handle.add_log([f"{time.strftime('%H:%M:%S')} cancel requested"])
            self.job_updated.emit(handle)

    def cancel_all(self) -> None:
        for handle in self.running():
            self.cancel(handle)

    def wait_all(self, timeout_ms: int = 30_000) -> bool:
        """Block until every job thread has ended; True when all did within the time."""
        deadline = time.monotonic() + timeout_ms / 1000
        ok = True
        for handle in list(self.jobs):
            thread = handle.thread
            if thread is None:
                continue
            left = max(0, int((deadline - time.monotonic()) * 1000))
            if not thread.wait(left):
                ok = False
        return ok

    def shutdown(self, timeout_ms: int = 30_000) -> bool:
        """Cancel all jobs and wait for their threads (the window is closing)."""
        self.cancel_all()
        done = self.wait_all(timeout_ms)
        # The queued 'finished' signals of the jobs just ended still wait in the event loop;
        # record how they ended now, since the loop may not run again.
        for handle in self.jobs:
            if handle.running and handle.thread is not None and handle.thread.isFinished():
                report = handle.worker.report if handle.worker is not None else None
                self._on_end(handle, report, None, forced=report is None)
        return done

    # --- slots on the GUI thread ---------------------------------------------------------

    def _read_mailboxes(self) -> None:
        running = self.running()
        for handle in running:
            self._read_mailbox(handle)
        if not running:
            self._reader.stop()

    def _read_mailbox(self, handle: JobHandle) -> None:
        if handle.worker is None:
            return
        progress, lines = handle.worker.mailbox.take()
        if lines:
            handle.add_log(lines)
        if progress is not None:
            handle.progress = progress
        if lines or progress is not None:
            self.job_updated.emit(handle)

    def _on_end(self, handle: JobHandle, report: object, crash: str | None, *,
                forced: bool = False) -> None:
        if not handle.running:
            return
        self._read_mailbox(handle)  # its last word before the end
        handle.ended = time.monotonic()
        handle.report = report
        base = report if isinstance(report, Report) else Report()
        cancelled = base.cancelled or (
            handle.worker is not None and handle.worker.cancel_token.cancelled)
        if crash is not None:
            handle.status = "failed"
            handle.add_log(crash.rstrip().splitlines())
            handle.error = crash_reason(crash.rstrip().splitlines())
        elif cancelled or forced:
            handle.status = "cancelled"
        elif isinstance(report, _Verdict) and not report.ok:  # a trainer step exited non-zero
            handle.status = "failed"
        else:
            handle.status = "done"
        failures = base.failed
        if handle.status == "failed" and handle.error is None and failures:
            handle.error = f"failed: {failures[-1].path}: {failures[-1].reason}"
        for failure in failures:
            handle.add_log([f"failed: {failure.path}: {failure.reason}"])
        stopped = getattr(report, "stopped", None)  # a run that ended early says why
        if handle.status == "failed" and isinstance(stopped, str) and stopped:
            handle.error = handle.error or stopped
        handle.add_log([f"{time.strftime('%H:%M:%S')} {handle.status} after "
                        f"{format_eta(handle.elapsed) or '0:00'}"
                        + (f", {len(failures)} item(s) failed" if failures else "")
                        + (f": {stopped}" if handle.status == "failed" and stopped else "")])
        if handle.thread is not None:
            handle.thread.wait(5000)  # its loop was told to quit as the job returned
        self._record_end(handle, report)
        self.job_finished.emit(handle)

    def settle(self, handle: JobHandle, status: str, reason: str) -> None:
        """Record that a finished job really ended as `status` (a trainer step that failed
        inside a run the runner saw return): its log, its job row, the panels."""
        handle.status = status
        handle.error = handle.error or reason
        handle.add_log([f"{status}: {reason}"])
        self._record_end(handle, handle.report)
        self.job_updated.emit(handle)

    def _record_end(self, handle: JobHandle, report: object) -> None:
        """The one place a job's row in the catalog is finished."""
        if self.catalog is None or handle.catalog_job_id is None:
            return
        try:
            self.catalog.finish_job(handle.catalog_job_id, handle.status,
                                    result=report_summary(report),
                                    log="\n".join(handle.log[-200:]))
        except Exception:  # noqa: BLE001 - a closed catalog must not lose the UI state
            handle.add_log(["could not record the job in the catalog"])


class _JobRelay(QObject):
    """Receives one worker's end on the GUI thread and hands it to the runner."""

    def __init__(self, runner: JobRunner, handle: JobHandle) -> None:
        super().__init__(runner)
        self._runner, self._handle = runner, handle

    @Slot(object)
    def on_finished(self, report: object) -> None:
        self._runner._on_end(self._handle, report, None)

    @Slot(str)
    def on_crashed(self, crash: str) -> None:
        self._runner._on_end(self._handle, None, crash)


def _once_for(handle: JobHandle, callback: Callable[[JobHandle], None],
              signal: Any) -> Callable[[JobHandle], None]:
    def slot(finished: JobHandle) -> None:
        if finished is handle:
            signal.disconnect(slot)
            callback(finished)
    return slot
