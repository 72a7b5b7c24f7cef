"""Work done ahead on a helper thread: an iterator runs there, a few items ahead of the thread
that takes them.

Decoding is the use: PyAV and OpenCV let go of the GIL inside FFmpeg and their kernels, so a
caller whose own work per item is Python and numpy (ingest's scan, a caption batch waiting on
a model) has the next items decoded on another core meanwhile. Ingest's pass over a film and
the caption job's prefetch share this one mechanism.
"""

from __future__ import annotations

import queue
import threading
from collections import deque
from collections.abc import Iterable, Iterator
from typing import Generic, NoReturn, TypeVar

T = TypeVar("T")

_END = object()  # the helper's last item: its iterator is over (or it crashed)


class RunAhead(Generic[T]):
    """Runs `items` on a thread named `name`, at most `depth` items ahead of `get` (with
    batches, `depth` queued and a batch on either side).

    The helper's exception reaches the taker after the items before it; `stop()` makes the
    helper finish the item in hand and waits for it (call it before freeing what the items
    are made from, such as an open container). `batch`: items cross over that many at a time
    (`get` sees an item once its batch is full, or the items are over); every crossing wakes
    the other thread and hands the GIL over, a cost per item that the frames of a small video
    feel (one in ten of its ingest, handed over one by one).
    """

    def __init__(self, items: Iterable[T], depth: int, name: str, *, batch: int = 1) -> None:
        self._batch = max(1, batch)
        self._queue: queue.Queue[object] = queue.Queue(max(1, depth // self._batch))
        self._taken: deque[T] = deque()  # the batch being handed out
        self._stopped = threading.Event()
        self._crash: BaseException | None = None
        self.ended = False
        self._thread = threading.Thread(target=self._run, args=(iter(items),), name=name,
                                        daemon=True)
        self._thread.start()

    def _run(self, items: Iterator[T]) -> None:
        batch: list[T] = []
        try:
            for item in items:
                if self._stopped.is_set():
                    return  # a batch part-filled: stop() waits for no more than the item in hand
                batch.append(item)
                if len(batch) >= self._batch:
                    if not self._put(batch):
                        return
                    batch = []
        except BaseException as exc:  # noqa: BLE001 - raised again on the taker's thread
            self._crash = exc
        if batch and not self._put(batch):
            return
        self._put(_END)

    def _put(self, value: object) -> bool:
        """Queue one value unless stopped meanwhile (the taker may have walked away)."""
        while not self._stopped.is_set():
            try:
                self._queue.put(value, timeout=0.05)
                return True
            except queue.Full:
                continue
        return False

    def get(self, timeout: float | None = None) -> T:
        """The next item.

        Raises:
            queue.Empty: none came within `timeout`.
            StopIteration: the items are over (`ended` is then True).
            The helper's exception, once the items before it are taken.
        """
        if not self._taken:
            if self.ended:
                self._end()
            value = self._queue.get(timeout=timeout)
            if value is _END:
                self.ended = True
                self._end()
            self._taken.extend(value)  # type: ignore[call-overload]
        return self._taken.popleft()

    def _end(self) -> NoReturn:
        crash, self._crash = self._crash, None
        if crash is not None:
            raise crash
        raise StopIteration

    def __iter__(self) -> Iterator[T]:
        while True:
            try:
                yield self.get()
            except StopIteration:
                return

    def stop(self) -> BaseException | None:
        """Stop the helper and wait for it; returns the exception it ended with that no `get`
        has raised yet, if any."""
        self._stopped.set()
        if self._thread is not threading.current_thread():
            self._thread.join()
        crash, self._crash = self._crash, None
        return crash
