"""Event handlers registered by the embedding application, and how events reach them.

Every store (``MemoryStore``, ``SqlStore``) has an :class:`EventHandlers`;
subscribe a function to an event class and it is called after each commit
that stored such an event::

    store.handlers.subscribe(TierUpgraded, lambda s: notify(s.id, s.event.to_tier))

Delivery is **at least once**. An event is marked delivered once every
handler subscribed to its class has returned. If a handler raises, or the
process dies before all handlers ran, the event stays pending in the outbox
and :func:`insurcrm.services.events.deliver_pending` delivers it later (to
every handler again, so handlers de-duplicate on the event id). An event with
no subscribed handler stays pending for applications that read the outbox
themselves.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Callable, Sequence

from insurcrm.domain.events import DomainEvent
from insurcrm.domain.repositories import OutboxEvent

__all__ = ["EventHandlers", "Handler"]

log = logging.getLogger("insurcrm.events")


#: A handler gets the stored event: ``.id`` (to de-duplicate), ``.position``, ``.event``.
Handler = Callable[[OutboxEvent], None]


class EventHandlers:
    """Handlers by event class."""

    def __init__(self) -> None:
        self._by_kind: dict[type, list[Handler]] = defaultdict(list)

    def subscribe(self, kind: type[DomainEvent], handler: Handler) -> None:
        """Call ``handler(stored)`` for every committed event of class ``kind``;
        ``stored.event`` is the event and ``stored.id`` its unique id."""
        self._by_kind[kind].append(handler)

    @property
    def kinds(self) -> frozenset[str]:
        """The class names of the events some handler is subscribed to."""
        return frozenset(k.__name__ for k, handlers in self._by_kind.items() if handlers)

    def __contains__(self, kind: type) -> bool:
        return bool(self._by_kind.get(kind))

    def deliver(self, events: Sequence[OutboxEvent]) -> list[str]:
        """Call the handlers of each event in order; return the ids of the events every
        handler took (events without a handler are not delivered).

        A handler that raises is logged (event id and class, never the payload)
        and its event stays pending; the other events are still delivered.
        """
        delivered = []
        for stored in events:
            handlers = self._by_kind.get(type(stored.event))
            if not handlers:
                continue
            try:
                for handler in handlers:
                    handler(stored)
            except Exception as error:
                log.warning(
                    "event %s (%s) stays pending: a handler raised %s",
                    stored.id,
                    stored.kind,
                    type(error).__name__,
                )
                continue
            delivered.append(stored.id)
        return delivered
