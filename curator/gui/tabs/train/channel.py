"""A training run on its worker thread: output lines cross to the GUI thread in batches."""

from __future__ import annotations

import threading
from typing import Any

from PySide6.QtCore import QObject, Signal

from curator.core.jobs import CancelToken, ProgressFn
from curator.core.training.commands import TrainStep
from curator.core.training.launch import RunPlan
from curator.core.training.runner import DEFAULT_GRACE_S, TrainReport, run_steps

#: Lines waiting for the GUI thread beyond this are dropped (oldest first), never the steps.
MAX_PENDING = 20_000


class LineChannel(QObject):
    """A run's output lines and step starts, from the worker thread to the GUI thread.

    The worker appends under a lock and emits `ready` once for each batch; the GUI thread
    takes the whole batch when it is ready to paint. However fast the trainer prints, at most
    one signal is in flight, and the worker never waits for the GUI.
    """

    ready = Signal()

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._lock = threading.Lock()
        self._items: list[tuple] = []
        self._notified = False
        self.dropped = 0

    def line(self, stream: str, line: str) -> None:
        self._put(("line", stream, line))

    def step(self, step: TrainStep, index: int, count: int) -> None:
        self._put(("step", step, index, count))

    def _put(self, item: tuple) -> None:
        with self._lock:
            self._items.append(item)
            if len(self._items) > MAX_PENDING:
                # The GUI is stalled: drop the oldest half of the lines, keep every step start.
                cut = len(self._items) // 2
                kept = [i for i in self._items[:cut] if i[0] == "step"]
                self.dropped += cut - len(kept)
                self._items = kept + self._items[cut:]
            notify, self._notified = not self._notified, True
        if notify:
            self.ready.emit()

    def take(self) -> list[tuple]:
        """Everything since the last take, in order (a note first where lines were dropped)."""
        with self._lock:
            items, self._items = self._items, []
            self._notified = False
            dropped, self.dropped = self.dropped, 0
        if dropped:
            items.insert(0, ("line", "stderr", f"[{dropped} lines skipped: they came faster "
                                               f"than the window could show them]"))
        return items


def run_training(*, plan: RunPlan, channel: LineChannel, catalog: Any = None, profile: str = "",
                 steps: str = "all", output_dir: str = "", grace_s: float = DEFAULT_GRACE_S,
                 progress: ProgressFn, cancel: CancelToken) -> TrainReport:
    """The job the Train tab hands the JobRunner: run the plan's steps, lines to `channel`.

    `profile`, `steps` and `output_dir` are plain values, so the JobRunner records them with
    the run's job row (and `profile`, `steps` go on each step's row); `cancel` is the
    JobRunner's token, so cancelling the job in any panel reaches the trainer's process group.
    """
    del output_dir  # recorded by the JobRunner; the steps already carry it
    return run_steps(plan.steps, on_line=channel.line, on_step=channel.step,
                     progress=progress, cancel=cancel, catalog=catalog,
                     job_params={"profile": profile, "trainer": plan.profile.trainer,
                                 "steps": steps}, grace_s=grace_s)


