"""Overlapping the stages of many independent items (decode, network, post-processing, save).

Every stage that matters releases the GIL (image decoding in Pillow/OpenCV, the TFLite
interpreter, the native kernels), so a few threads keep the cores busy without copying
frames between processes.
"""

from __future__ import annotations

import collections
import queue
import threading
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Generic, TypeVar

T = TypeVar("T")
R = TypeVar("R")


class Failed(Generic[T]):
    """What :func:`ordered_map` yields, with ``return_exceptions=True``, for an item whose
    function raised: the item and the exception."""

    __slots__ = ("error", "item")

    def __init__(self, item: T, error: BaseException) -> None:
        self.item = item
        self.error = error

    def __repr__(self) -> str:
        return f"Failed({self.item!r}, {self.error!r})"


def ordered_map(
    fn: Callable[[T], R], items: Iterable[T], *, workers: int, window: int, return_exceptions: bool = False
) -> Iterator[R | Failed[T]]:
    """``map(fn, items)`` on ``workers`` threads, results in input order.

    At most ``window`` items are in flight (submitted but not yet yielded), so memory stays
    bounded however long ``items`` is, and ``items`` is consumed lazily. An exception of
    ``fn`` is raised at its item's position (the items before it are yielded first), or,
    with ``return_exceptions``, yielded as :class:`Failed` and the map goes on. Closing the
    iterator early cancels what has not started and waits for what has.
    """
    if workers < 1 or window < 1:
        raise ValueError(f"workers and window must be >= 1, got {workers} and {window}")
    source = iter(items)
    pending: collections.deque[tuple[T, Future[R]]] = collections.deque()
    executor = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="person-segmentation")
    try:
        exhausted = False
        while True:
            while not exhausted and len(pending) < window:
                try:
                    item = next(source)
                except StopIteration:
                    exhausted = True
                    break
                pending.append((item, executor.submit(fn, item)))
            if not pending:
                return
            item, future = pending.popleft()
            try:
                result = future.result()
            except Exception as exc:
                if not return_exceptions:
                    raise
                yield Failed(item, exc)
            else:
                yield result
    finally:
        for _, future in pending:
            future.cancel()
        executor.shutdown(wait=True)


_END = object()


def prefetch(items: Iterable[T], depth: int) -> Iterator[T]:
    """Iterate ``items`` in a background thread, up to ``depth`` ahead of the consumer (e.g.
    decoding the next video frames while this one is segmented). An exception of the source
    is raised at its position. Closing the iterator early stops the thread."""
    if depth < 1:
        raise ValueError(f"depth must be >= 1, got {depth}")
    buffer: queue.Queue[object] = queue.Queue(maxsize=depth)
    stop = threading.Event()

    def offer(item: object) -> bool:
        """Put ``item`` once there is room; False if the consumer stopped first."""
        while not stop.is_set():
            try:
                buffer.put(item, timeout=0.1)
                return True
            except queue.Full:
                continue
        return False

    def produce() -> None:
        try:
            for item in items:
                if not offer(item):
                    return
            outcome: object = _END
        except BaseException as exc:  # handed to the consumer
            outcome = exc
        offer(outcome)

    thread = threading.Thread(target=produce, name="person-segmentation-prefetch", daemon=True)
    thread.start()
    try:
        while True:
            item = buffer.get()
            if item is _END:
                return
            if isinstance(item, BaseException):
                raise item
            yield item  # type: ignore[misc]
    finally:
        stop.set()
        thread.join()
