"""How a long service reports how far it got."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Sized
from typing import TypeVar

__all__ = ["Progress", "reported"]

#: Called with the work done so far and all of it (e.g. customers read of customers stored),
#: after each batch; a command line draws its progress bar with it.
Progress = Callable[[int, int], None]

S = TypeVar("S", bound=Sized)


def reported(
    batches: Iterable[S], total: Callable[[], int], progress: Progress | None
) -> Iterator[S]:
    """``batches``, with ``progress`` told, after each is used, the items of those read so
    far and ``total()`` of them (once, with 0, when there are none). Without ``progress``
    they pass through, and ``total`` is not called."""
    if progress is None:
        yield from batches
        return
    whole = total()
    read = 0
    for batch in batches:
        yield batch
        read += len(batch)
        progress(read, whole)
    if read == 0:
        progress(0, whole)
