"""How a long service reports how far it got."""

from __future__ import annotations

from collections.abc import Callable

__all__ = ["Progress"]

#: Called with the work done so far and all of it (e.g. customers read of customers stored),
#: after each batch; a command line draws its progress bar with it.
Progress = Callable[[int, int], None]
