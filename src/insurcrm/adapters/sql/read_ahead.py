"""Reading a stream of result batches ahead, in a thread."""

from __future__ import annotations

import queue
import threading
from collections.abc import Iterator
from typing import Any, TypeVar

__all__ = ["read_ahead"]

T = TypeVar("T")
_ITEM, _END, _ERROR = 0, 1, 2


def read_ahead(parts: Iterator[T], depth: int = 2) -> Iterator[T]:
    """The items of ``parts``, read up to ``depth`` ahead by a thread: the database and its
    driver work on the next rows (without the GIL) while the caller works on these.

    An error reading is raised to the caller; when the caller stops early, the thread stops
    at its next item and nothing is read from ``parts`` after this generator is closed.
    """
    box: queue.Queue[tuple[int, Any]] = queue.Queue(maxsize=depth)
    stop = threading.Event()

    def read() -> None:
        try:
            for item in parts:
                while not stop.is_set():
                    try:
                        box.put((_ITEM, item), timeout=0.05)
                        break
                    except queue.Full:
                        continue
                if stop.is_set():
                    return
            box.put((_END, None))
        except BaseException as error:
            box.put((_ERROR, error))

    reader = threading.Thread(target=read, name="insurcrm-read-ahead", daemon=True)
    reader.start()
    try:
        while True:
            kind, value = box.get()
            if kind == _END:
                return
            if kind == _ERROR:
                raise value
            yield value
    finally:
        stop.set()
        while reader.is_alive():  # let a reader blocked on a full box see the stop
            try:
                box.get_nowait()
            except queue.Empty:
                reader.join(0.05)
