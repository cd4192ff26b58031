"""Deliver the events still pending in the outbox (after a crash, or a handler that failed).

Run it at start-up and from time to time (a scheduler, a worker loop)::

    deliver_pending(store.unit_of_work(), store.handlers)

Each batch is read in one transaction, given to the handlers outside any
transaction (so a handler may write to the store, as after a commit), and the
delivered events are marked in another. Delivery is at least once: an event
whose handler ran but whose mark was lost is delivered again, so handlers
de-duplicate on ``stored.id``.
"""

from __future__ import annotations

from insurcrm.dispatch import EventHandlers
from insurcrm.domain.unit_of_work import UnitOfWork

__all__ = ["deliver_pending"]


def deliver_pending(uow: UnitOfWork, handlers: EventHandlers, batch: int = 500) -> int:
    """Give every pending event, oldest first, to ``handlers``; return how many were delivered.

    Only events some handler is subscribed to are read, so a backlog of events
    nobody consumes in-process (left for an outbox relay) costs nothing here.
    Events whose handler raised stay pending (the failure is logged on the
    ``insurcrm.events`` logger).
    """
    delivered = 0
    after = 0
    kinds = handlers.kinds
    if not kinds:
        return 0
    while True:
        with uow:
            events = uow.outbox.pending(limit=batch, after=after, kinds=kinds)
        if not events:
            return delivered
        # Outside the read transaction: a handler may write to the store (on SQLite a
        # write by a handler would otherwise make this transaction's snapshot stale).
        done = handlers.deliver(events)
        if done:
            with uow:
                uow.outbox.mark_delivered(done)
                uow.commit()
        delivered += len(done)
        after = events[-1].position
