"""Run trainer commands as subprocesses: own process group, lines per stream, cancel, records.

Each command starts in a new session (its own process group), so a cancel reaches everything it
spawned: `accelerate launch` runs the training script as a child, and DataLoader workers are
grandchildren. Cancel sends SIGINT to the group (the trainer stops as on Ctrl-C), waits a grace
period, then SIGTERM, then SIGKILL (as borgbase/vorta's `BorgJob.cancel` does).

Output is read from both pipes by two threads and split on `\\n` and on tqdm's `\\r` redraws;
lines reach `on_line(stream, line)` on the caller's thread, in arrival order per stream. A redraw
that is still waiting for the next `\\r` is delivered as soon as it is read, so a progress bar
never lags one update behind.
"""

from __future__ import annotations

import logging
import os
import queue
import signal
import subprocess
import threading
import time
from collections import deque
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, Any

from curator.core import jobs

from .commands import PATH_LIKE_ENV, TrainStep
from .progress import ProgressParser, TrainProgress

LineCallback = Callable[[str, str], None]
DEFAULT_GRACE_S = 15.0  # after SIGINT: the trainer may be writing a checkpoint
DEFAULT_TERM_GRACE_S = 10.0  # after SIGTERM, before SIGKILL
_LEFTOVER_WAIT_S = 2.0  # after the main process exits, how long its children may hold the pipes
_READ_SIZE = 65536


def _now() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True)
class RunRecord:
    """How one command ran: what, where, when, how it ended, and its last lines."""

    name: str
    argv: tuple[str, ...]
    cwd: str
    started_at: datetime | None
    ended_at: datetime | None
    return_code: int | None
    status: str  # done | failed | cancelled
    last_lines: tuple[str, ...] = ()  # both streams, in arrival order, tqdm redraws collapsed
    stdout_tail: tuple[str, ...] = ()
    stderr_tail: tuple[str, ...] = ()
    signals_sent: tuple[str, ...] = ()
    error: str | None = None  # why it did not start, or why it failed, in words
    progress: TrainProgress | None = None

    @property
    def duration_s(self) -> float | None:
        if self.started_at is None or self.ended_at is None:
            return None
        return (self.ended_at - self.started_at).total_seconds()

    def to_json(self) -> dict[str, Any]:
        return {
            "name": self.name, "argv": list(self.argv), "cwd": self.cwd,
            "started_at": self.started_at.isoformat() if self.started_at else None,
            "ended_at": self.ended_at.isoformat() if self.ended_at else None,
            "duration_s": self.duration_s, "return_code": self.return_code,
            "status": self.status, "signals_sent": list(self.signals_sent), "error": self.error,
            "last_lines": list(self.last_lines),
            "progress": self.progress.to_json() if self.progress else None,
        }


class LineSplitter:
    """Bytes from a pipe -> lines, splitting on `\\n`, `\\r\\n` and bare `\\r` (tqdm redraws).

    `feed` returns (line, kind) pairs. kind is "redraw" for a segment ended by a bare `\\r`,
    or one still waiting for its end (delivered early so a bar is live, never twice); "final"
    for the newline-ended last redraw of a bar; "line" for everything else.
    """

    def __init__(self, encoding: str = "utf-8") -> None:
        self._buf = b""
        self._encoding = encoding
        self._after_cr = False  # the pending segment started right after a bare \r
        self._early = b""  # the pending segment as already delivered early

    def _decode(self, data: bytes) -> str:
        return data.decode(self._encoding, errors="replace")

    def feed(self, data: bytes) -> list[tuple[str, str]]:
        self._buf += data
        out: list[tuple[str, str]] = []
        while True:
            cut_n, cut_r = self._buf.find(b"\n"), self._buf.find(b"\r")
            if cut_n < 0 and cut_r < 0:
                break
            if cut_r >= 0 and (cut_n < 0 or cut_r < cut_n):
                if cut_r == len(self._buf) - 1:
                    break  # a \r at the very end may be the first half of \r\n
                if self._buf[cut_r + 1:cut_r + 2] == b"\n":
                    self._emit(out, self._buf[:cut_r], "final" if self._after_cr else "line")
                    self._buf = self._buf[cut_r + 2:]
                    self._after_cr = False
                else:
                    self._emit(out, self._buf[:cut_r], "redraw")
                    self._buf = self._buf[cut_r + 1:]
                    self._after_cr = True
            else:
                self._emit(out, self._buf[:cut_n], "final" if self._after_cr else "line")
                self._buf = self._buf[cut_n + 1:]
                self._after_cr = False
        # A redraw waiting for its terminator: deliver it now (the next \r may be minutes away).
        pending = self._buf.rstrip(b"\r")
        if self._after_cr and pending and pending != self._early:
            out.append((self._decode(pending), "redraw"))
            self._early = pending
        return out

    def _emit(self, out: list[tuple[str, str]], segment: bytes, kind: str) -> None:
        early, self._early = self._early, b""
        if not segment or (kind == "redraw" and segment == early):
            return  # nothing, or a redraw already delivered unchanged
        out.append((self._decode(segment), kind))

    def close(self) -> list[tuple[str, str]]:
        rest = self._buf.rstrip(b"\r")
        self._buf = b""
        out: list[tuple[str, str]] = []
        if rest and rest != self._early:
            out.append((self._decode(rest), "final" if self._after_cr else "line"))
        self._early = b""
        return out


def merged_env(extra: Mapping[str, str] | None) -> dict[str, str]:
    """The inherited environment plus a step's variables; search paths are prepended."""
    env = dict(os.environ)
    for key, value in (extra or {}).items():
        if key in PATH_LIKE_ENV and env.get(key):
            env[key] = value + os.pathsep + env[key]
        else:
            env[key] = value
    return env


def _pump(pipe: IO[bytes], stream: str, out: queue.Queue) -> None:
    splitter = LineSplitter()
    try:
        while True:
            data = os.read(pipe.fileno(), _READ_SIZE)
            if not data:
                break
            for line, kind in splitter.feed(data):
                out.put((stream, line, kind))
    except (OSError, ValueError):
        pass  # the pipe was closed under us: the run is over
    finally:
        for line, kind in splitter.close():
            out.put((stream, line, kind))
        out.put((stream, None, "line"))


class _Tail:
    """The last lines of a run; a bar's redraws keep only the newest (its final line, if any)."""

    def __init__(self, size: int) -> None:
        self.all: deque[tuple[str, str, str]] = deque(maxlen=size)
        self.per_stream: dict[str, deque[tuple[str, str]]] = {
            "stdout": deque(maxlen=size), "stderr": deque(maxlen=size)}

    def add(self, stream: str, line: str, kind: str) -> None:
        replaces = kind in ("redraw", "final")
        mine = self.per_stream[stream]
        if replaces and mine and mine[-1][1] == "redraw":
            mine.pop()
        mine.append((line, kind))
        if replaces:
            for i in range(len(self.all) - 1, -1, -1):
                s, _, previous = self.all[i]
                if s == stream:
                    if previous == "redraw":
                        del self.all[i]
                    break
        self.all.append((stream, line, kind))

    def lines(self, stream: str | None = None) -> tuple[str, ...]:
        if stream is None:
            return tuple(line for _, line, _ in self.all)
        return tuple(line for line, _ in self.per_stream[stream])


def _signal_group(proc: subprocess.Popen, sig_name: str) -> None:
    try:
        if os.name == "nt":  # no process groups to signal: the closest equivalents
            if sig_name == "SIGINT":
                proc.send_signal(signal.CTRL_BREAK_EVENT)  # type: ignore[attr-defined]
            elif sig_name == "SIGTERM":
                proc.terminate()
            else:
                proc.kill()
        else:
            os.killpg(proc.pid, getattr(signal, sig_name))
    except (ProcessLookupError, PermissionError, OSError):
        pass  # the group is already gone


def run_command(argv: Sequence[str], *, cwd: str | Path | None = None,
                env: Mapping[str, str] | None = None, on_line: LineCallback | None = None,
                cancel: jobs.CancelToken = jobs.NEVER_CANCELLED, grace_s: float = DEFAULT_GRACE_S,
                term_grace_s: float = DEFAULT_TERM_GRACE_S, keep_lines: int = 200,
                name: str = "", on_start: Callable[[int], None] | None = None) -> RunRecord:
    """Run one command to its end, streaming its lines; cancel escalates SIGINT->SIGTERM->SIGKILL.

    Args:
        argv: the command as an argument list (no shell).
        cwd: its working folder.
        env: variables set on top of the inherited environment (`PYTHONPATH` is prepended).
        on_line: called as `on_line(stream, line)` with stream 'stdout' or 'stderr', on this
            thread, for every line and every tqdm redraw.
        on_start: called with the process id once it runs (the job row records it).
        cancel: checked every 0.1 s; when set, SIGINT goes to the process group.
        grace_s: seconds after SIGINT before SIGTERM.
        term_grace_s: seconds after SIGTERM before SIGKILL.
        keep_lines: how many last lines the record keeps.
        name: the step name stored in the record.

    Returns:
        The record; status 'cancelled' when a cancel signalled the process, else 'done' for
        exit code 0 and 'failed' otherwise (including a command that could not start).

    Raises:
        Exception: whatever `on_line` raises, after the process group has been killed.
    """
    argv = tuple(str(a) for a in argv)
    cwd_text = str(cwd) if cwd is not None else os.getcwd()
    if cancel.cancelled:
        return RunRecord(name, argv, cwd_text, None, None, None, "cancelled",
                         error="cancelled before it started")
    started = _now()
    try:
        proc = _start(argv, cwd_text, env)
    except OSError as exc:
        reason = exc.strerror or str(exc)
        where = f" in {cwd_text}" if isinstance(exc, NotADirectoryError) or not Path(
            cwd_text).is_dir() else ""
        return RunRecord(name, argv, cwd_text, started, _now(), None, "failed",
                         error=f"could not start {argv[0]}{where}: {reason}")
    if on_start is not None:
        try:
            on_start(proc.pid)
        except Exception:
            logging.getLogger(__name__).exception("could not record pid %d", proc.pid)

    lines: queue.Queue = queue.Queue()
    readers = [threading.Thread(target=_pump, args=(pipe, stream, lines), daemon=True,
                                name=f"train-{name or 'cmd'}-{stream}")
               for pipe, stream in ((proc.stdout, "stdout"), (proc.stderr, "stderr"))]
    for reader in readers:
        reader.start()
    tail = _Tail(keep_lines)
    cancelling = _Escalation(proc, (("SIGINT", 0.0), ("SIGTERM", grace_s),
                                    ("SIGKILL", term_grace_s)))
    finished = False
    try:
        _follow(proc, lines, tail, on_line, cancel, cancelling)
        finished = True
    finally:
        if not finished:  # on_line raised: leave no trainer running behind us
            _signal_group(proc, "SIGKILL")
            cancelling.sent.append("SIGKILL")
        code = proc.wait()
        _close_readers(proc, readers)
    signals = tuple(cancelling.sent)
    status = "cancelled" if signals else "done" if code == 0 else "failed"
    error = _failure_reason(name or Path(argv[0]).name, code, tail) if status == "failed" else None
    return RunRecord(name, argv, cwd_text, started, _now(), code, status, tail.lines(),
                     tail.lines("stdout"), tail.lines("stderr"), signals, error)


def _start(argv: Sequence[str], cwd: str, env: Mapping[str, str] | None) -> subprocess.Popen:
    """Start `argv` in its own process group (so a cancel reaches its children too)."""
    popen_kwargs: dict[str, Any] = {}
    if os.name == "nt":
        popen_kwargs["creationflags"] = subprocess.CREATE_NEW_PROCESS_GROUP  # type: ignore[attr-defined]
    else:
        popen_kwargs["start_new_session"] = True
    return subprocess.Popen(list(argv), cwd=cwd, env=merged_env(env), stdin=subprocess.DEVNULL,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, bufsize=0,
                            **popen_kwargs)


class _Escalation:
    """Signals a process group step by step, each signal once, each after its delay from the
    one before (the first counts from the first `tick`)."""

    def __init__(self, proc: subprocess.Popen, steps: Sequence[tuple[str, float]]) -> None:
        self._proc, self._steps = proc, list(steps)
        self.sent: list[str] = []
        self._since: float | None = None

    @property
    def exhausted(self) -> bool:
        return len(self.sent) >= len(self._steps)

    def idle_for(self, now: float) -> float:
        return now - self._since if self._since is not None else 0.0

    def tick(self, now: float) -> None:
        if self._since is None:
            self._since = now
        if self.exhausted:
            return
        sig_name, delay = self._steps[len(self.sent)]
        if now - self._since >= delay:
            _signal_group(self._proc, sig_name)
            self.sent.append(sig_name)
            self._since = now


def _follow(proc: subprocess.Popen, lines: queue.Queue, tail: _Tail,
            on_line: LineCallback | None, cancel: jobs.CancelToken,
            cancelling: _Escalation) -> None:
    """Pass lines on until the process and its pipes are done; cancel escalates."""
    open_streams = 2
    # Children (DataLoader workers, a launcher's script) may hold the pipes after the exit.
    leftovers = _Escalation(proc, (("SIGTERM", _LEFTOVER_WAIT_S),
                                   ("SIGKILL", _LEFTOVER_WAIT_S)))
    while True:
        open_streams -= _take_lines(lines, tail, on_line)
        now = time.monotonic()
        if proc.poll() is not None:
            if open_streams <= 0:
                return
            leftovers.tick(now)
            if leftovers.exhausted and leftovers.idle_for(now) >= _LEFTOVER_WAIT_S:
                return
            continue
        if cancel.cancelled:
            cancelling.tick(now)


def _take_lines(lines: queue.Queue, tail: _Tail, on_line: LineCallback | None) -> int:
    """Hand on the lines waiting (at most 500, so a flood never starves the cancel check);
    returns how many streams closed."""
    closed = 0
    try:
        item = lines.get(timeout=0.1)
    except queue.Empty:
        return 0
    for handled in range(1, 501):
        stream, line, kind = item
        if line is None:
            closed += 1
        else:
            tail.add(stream, line, kind)
            if on_line is not None:
                on_line(stream, line)
        if handled == 500:
            break
        try:
            item = lines.get_nowait()
        except queue.Empty:
            break
    return closed


def _close_readers(proc: subprocess.Popen, readers: Sequence[threading.Thread]) -> None:
    for reader, pipe in zip(readers, (proc.stdout, proc.stderr), strict=True):
        reader.join(timeout=1.0)
        # A reader still blocked in read() keeps its pipe: closing an fd under a blocked
        # read does not wake it, and the number could be reused by the next open().
        if not reader.is_alive():
            try:
                pipe.close()  # type: ignore[union-attr]
            except OSError:
                pass


def _failure_reason(name: str, code: int | None, tail: _Tail) -> str:
    if code is not None and code < 0:
        try:
            how = f"was killed by {signal.Signals(-code).name}"
        except ValueError:
            how = f"was killed by signal {-code}"
    else:
        how = f"exited with code {code}"
    # The last exception line says more than the exit code ("torch.OutOfMemoryError: ...").
    parser = ProgressParser()
    for line in tail.lines():
        parser.feed(line)
    detail = parser.state.last_error
    if not detail:
        stderr = [ln for ln in tail.lines("stderr") if ln.strip()]
        detail = stderr[-1].strip() if stderr else ""
    return f"{name} {how}" + (f": {detail}" if detail else "")


# ---- several steps -----------------------------------------------------------------------------

@dataclass
class TrainReport(jobs.Report):
    """The run of several steps: one record per step that started, in order."""

    records: list[RunRecord] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.failed and not self.cancelled

    def to_json(self) -> dict[str, Any]:
        return {"done": self.done, "cancelled": self.cancelled,
                "failed": [f.to_json() for f in self.failed],
                "records": [r.to_json() for r in self.records]}


def prepare_step(step: TrainStep) -> None:
    """Create the step's folders and write its files (e.g. the diffusion-pipe config).

    Raises:
        OSError: a folder or file cannot be written.
    """
    for folder in step.mkdirs:
        Path(folder).mkdir(parents=True, exist_ok=True)
    for path, text in step.files.items():
        target = Path(path)
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(text, encoding="utf-8")


def run_steps(steps: Sequence[TrainStep], *, on_line: LineCallback | None = None,
              on_step: Callable[[TrainStep, int, int], None] | None = None,
              on_progress: Callable[[TrainStep, TrainProgress], None] | None = None,
              progress: jobs.ProgressFn = jobs.ignore_progress,
              cancel: jobs.CancelToken = jobs.NEVER_CANCELLED,
              catalog: Any = None, job_params: Mapping[str, Any] | None = None,
              grace_s: float = DEFAULT_GRACE_S, term_grace_s: float = DEFAULT_TERM_GRACE_S,
              job_update_every_s: float = 5.0) -> TrainReport:
    """Run steps in order, stopping at the first one that fails or is cancelled.

    Args:
        steps: from `commands.build_steps`.
        on_line: `on_line(stream, line)` for every output line of every step.
        on_step: `on_step(step, index, count)` before each step starts (index from 0).
        on_progress: `on_progress(step, state)` whenever a line changes the parsed progress.
        progress: a `ProgressFn` given step counts (training) or items (caching).
        cancel: cancels the running step (SIGINT to its process group, then escalation).
        catalog: a `Catalog`; each step becomes a Job row of kind 'train' (params: argv, cwd,
            env, plus `job_params`), finished with its status, return code and last lines.
        job_params: extra job parameters, e.g. the profile name.
        grace_s, term_grace_s: the cancel escalation delays (see `run_command`).
        job_update_every_s: how often the job row's done/total is written while running.

    Returns:
        A `TrainReport`: `done` counts steps that exited 0; `failed` names the failing step.
    """
    report = TrainReport()
    for index, step in enumerate(steps):
        if cancel.cancelled:
            report.cancelled = True
            break
        if on_step is not None:
            on_step(step, index, len(steps))
        job_id = None
        if catalog is not None:
            params = {"step": step.name, "argv": list(step.argv), "cwd": step.cwd,
                      "env": dict(step.env), "index": index, "steps": len(steps),
                      **(job_params or {})}
            job_id = catalog.start_job("train", params)
        follow = _StepProgress(step, on_line, on_progress, progress, catalog, job_id,
                               job_update_every_s)
        record = _run_step(step, follow, cancel, grace_s, term_grace_s, catalog, job_id)
        report.records.append(record)
        if job_id is not None:
            result = record.to_json()
            result.pop("last_lines", None)  # kept in the log column instead
            catalog.finish_job(job_id, record.status, result=result,
                               log="\n".join(record.last_lines), return_code=record.return_code)
        if record.status == "done":
            report.done += 1
            continue
        if record.status == "cancelled":
            report.cancelled = True
        else:
            report.failed.append(jobs.ItemFailure(step.name, record.error or
                                                  f"{step.name} failed"))
        break
    return report


class _StepProgress:
    """One step's lines: passed on, parsed into progress, the job row's count kept fresh."""

    def __init__(self, step: TrainStep, on_line: LineCallback | None,
                 on_progress: Callable[[TrainStep, TrainProgress], None] | None,
                 progress: jobs.ProgressFn, catalog: Any, job_id: int | None,
                 update_every_s: float) -> None:
        self.step, self.on_line, self.on_progress, self.progress = (step, on_line, on_progress,
                                                                    progress)
        self.catalog, self.job_id, self.update_every_s = catalog, job_id, update_every_s
        self.parser = ProgressParser(caching=step.name.startswith("cache"))
        self._last_update = 0.0

    def __call__(self, stream: str, line: str) -> None:
        if self.on_line is not None:
            self.on_line(stream, line)
        state = self.parser.feed(line)
        if state is None:
            return
        if self.on_progress is not None:
            self.on_progress(self.step, state)
        if state.step is not None:
            done, total = state.step, state.total_steps
        else:
            done, total = state.task_done or 0, state.task_total
        self.progress(jobs.Progress(done=done, total=total, item=self.step.name,
                                    message=state.summary()))
        now = time.monotonic()
        if self.job_id is not None and now - self._last_update >= self.update_every_s:
            self._last_update = now
            self.catalog.update_job(self.job_id, done=done, total=total)


def _run_step(step: TrainStep, follow: _StepProgress, cancel: jobs.CancelToken, grace_s: float,
              term_grace_s: float, catalog: Any, job_id: int | None) -> RunRecord:
    """Write the step's files, then run it; a callback that raises fails its job row."""
    try:
        prepare_step(step)
    except OSError as exc:
        return RunRecord(step.name, step.argv, step.cwd, _now(), _now(), None, "failed",
                         error=f"{step.name}: cannot write {exc.filename}: "
                               f"{exc.strerror or exc}")
    # the trainer's pid goes in the job row: if Curator is killed, it is found
    noted = None if job_id is None else lambda pid: catalog.record_job_child(job_id, pid)
    try:
        record = run_command(step.argv, cwd=step.cwd, env=step.env, on_line=follow,
                             cancel=cancel, grace_s=grace_s, term_grace_s=term_grace_s,
                             name=step.name, on_start=noted)
    except BaseException as exc:
        # A callback failed (the process group is already killed): the job row must
        # not stay "running" forever.
        if job_id is not None:
            catalog.finish_job(job_id, "failed", result={"error": repr(exc)},
                               log=f"stopped: {exc!r}")
        raise
    return replace(record, progress=follow.parser.state)
