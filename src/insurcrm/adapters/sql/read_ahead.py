"""Reading a stream of result batches ahead, in a thread."""

from __future__ import annotations

import queue
import threading
from collections.abc import Iterator
from typing import Any, Generic, TypeVar

__all__ = ["ReadAhead", "read_ahead"]

T = TypeVar("T")
_ITEM, _END, _ERROR = 0, 1, 2


class ReadAhead(Generic[T]):
    """The items of ``parts``, read up to ``depth`` ahead by a thread that starts at once:
    the database and its driver work on the next rows (without the GIL) while the caller
    works on these, and several of them read at the same time.

    An error reading is raised to the caller. :meth:`close` (or the end of a ``with``
    block) stops the thread at its next item; nothing is read from ``parts`` after it.
    """

    def __init__(self, parts: Iterator[T], depth: int = 2) -> None:
        self._box: queue.Queue[tuple[int, Any]] = queue.Queue(maxsize=depth)
        self._stop = threading.Event()
        self._done = False
        self._reader = threading.Thread(
            target=self._read, args=(parts,), name="insurcrm-read-ahead", daemon=True
        )
        self._reader.start()

    def _read(self, parts: Iterator[T]) -> None:
        try:
            for item in parts:
                while not self._stop.is_set():
                    try:
                        self._box.put((_ITEM, item), timeout=0.05)
                        break
                    except queue.Full:
                        continue
                if self._stop.is_set():
                    return
            self._box.put((_END, None))
        except BaseException as error:
            self._box.put((_ERROR, error))

    def __iter__(self) -> ReadAhead[T]:
        return self

    def __next__(self) -> T:
        if self._done:
            raise StopIteration
        kind, value = self._box.get()
        if kind == _ITEM:
            item: T = value
            return item
        self.close()
        if kind == _ERROR:
            raise value
        raise StopIteration

    def close(self) -> None:
        """Stop reading; returns once the thread has stopped."""
        self._done = True
        self._stop.set()
        while self._reader.is_alive():  # let a reader blocked on a full box see the stop
            try:
                self._box.get_nowait()
            except queue.Empty:
                self._reader.join(0.05)

    def __enter__(self) -> ReadAhead[T]:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def read_ahead(parts: Iterator[T], depth: int = 2) -> ReadAhead[T]:
    """The items of ``parts``, read ahead by a thread started now (:class:`ReadAhead`)."""
    return ReadAhead(parts, depth)
