"""The contract of every long step: progress as a value, cancel as a token, failures per item."""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, field


@dataclass(frozen=True)
class Progress:
    """Where a long step stands; `total` is None while it is not known yet."""

    done: int
    total: int | None = None
    item: str = ""
    message: str = ""

    @property
    def fraction(self) -> float | None:
        if not self.total:
            return None
        return min(1.0, self.done / self.total)


ProgressFn = Callable[[Progress], None]


def ignore_progress(progress: Progress) -> None:
    """Progress sink for callers that do not show progress."""


class Cancelled(Exception):
    """Raised inside a long call when its CancelToken fires between two items."""


class CancelToken:
    """A thread-safe cancel flag, checked by long steps between items."""

    def __init__(self) -> None:
        self._event = threading.Event()

    def cancel(self) -> None:
        self._event.set()

    @property
    def cancelled(self) -> bool:
        return self._event.is_set()

    def wait(self, timeout: float) -> bool:
        """Sleep up to `timeout` seconds; True as soon as the token is cancelled."""
        return self._event.wait(timeout)

    def raise_if_cancelled(self) -> None:
        if self._event.is_set():
            raise Cancelled()


class _NeverCancelled(CancelToken):
    def cancel(self) -> None:
        raise RuntimeError("NEVER_CANCELLED is shared; make a CancelToken() to cancel a job")


NEVER_CANCELLED: CancelToken = _NeverCancelled()


@dataclass(frozen=True)
class ItemFailure:
    """One file or item that failed, and why, in words a person understands."""

    path: str
    reason: str

    def to_json(self) -> dict[str, str]:
        return {"path": self.path, "reason": self.reason}


@dataclass
class Report:
    """Base of every job report: what was done, what failed, what was skipped."""

    done: int = 0
    failed: list[ItemFailure] = field(default_factory=list)
    warnings: list[ItemFailure] = field(default_factory=list)
    cancelled: bool = False

    def failures_json(self) -> dict[str, list[dict[str, str]]]:
        """`failed` and `warnings` as every report's JSON spells them (spliced in with `**`)."""
        return {"failed": [f.to_json() for f in self.failed],
                "warnings": [w.to_json() for w in self.warnings]}
