"""Images decoded, segmented and saved on a few threads, reported in input order, and an
interruption that never waits for them.

The library's ``_pipeline.ordered_map`` waits for its running items when it is closed, which
is right for a library call; the command line must stop at the first Ctrl+C even if a worker
is stuck in a system call (a file on a hung network share, a device that never answers), so
its workers are daemon threads that an interrupted run leaves behind (they cannot publish
anything after that: see ``_outputs.Outputs.stop``).
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable, Iterator, Sequence
from typing import Generic, TypeVar

T = TypeVar("T")


class OrderedPool(Generic[T]):
    """``fn(item)`` for each of ``items`` on ``workers`` daemon threads, at most ``window`` in
    flight; iterating yields ``(item, error)`` in input order (``error`` is None, or the
    exception ``fn`` raised for it). :meth:`close` stops it without waiting for busy workers."""

    def __init__(self, fn: Callable[[T], object], items: Sequence[T], *, workers: int, window: int) -> None:
        if workers < 1 or window < 1:
            raise ValueError(f"workers and window must be >= 1, got {workers} and {window}")
        self._fn = fn
        self._items = list(items)
        self._window = window
        self._tasks: queue.SimpleQueue[int | None] = queue.SimpleQueue()
        self._done: dict[int, BaseException | None] = {}
        self._condition = threading.Condition()
        self._stopped = False
        self._threads = [
            threading.Thread(target=self._work, name=f"person-segmentation-worker-{i}", daemon=True)
            for i in range(min(workers, len(self._items)))
        ]
        for thread in self._threads:
            thread.start()

    def _work(self) -> None:
        while True:
            index = self._tasks.get()
            if index is None or self._stopped:
                return
            error: BaseException | None = None
            try:
                self._fn(self._items[index])
            except BaseException as exc:  # recorded, so the consumer never waits for a dead worker
                error = exc
            with self._condition:
                self._done[index] = error
                self._condition.notify_all()

    def __iter__(self) -> Iterator[tuple[T, BaseException | None]]:
        submitted = 0
        for index, item in enumerate(self._items):
            while submitted < len(self._items) and submitted - index < self._window:
                self._tasks.put(submitted)
                submitted += 1
            with self._condition:
                while index not in self._done:  # woken by each result; a signal interrupts the wait
                    self._condition.wait(0.5)
                error = self._done.pop(index)
            yield item, error

    def close(self) -> None:
        """Stop: idle workers end, busy ones end after their item (never waited for)."""
        self._stopped = True
        for _ in self._threads:
            self._tasks.put(None)
