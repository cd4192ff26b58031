"""The transactional outbox on SQL: events are inserted by the unit of work's own
transaction, so they are stored exactly when the change that raised them is."""

from __future__ import annotations

import datetime as dt
import json
import uuid
from collections.abc import Iterable, Sequence

from sqlalchemy import Connection, Engine, func, insert, select, update

from insurcrm.adapters.sql import tables as t
from insurcrm.domain.events import EVENT_TYPES, DomainEvent
from insurcrm.domain.repositories import OutboxEvent
from insurcrm.serialization import structure, unstructure

__all__ = ["SqlOutbox", "mark_delivered"]


class SqlOutbox:
    """:class:`~insurcrm.domain.repositories.Outbox` on SQL, and the events' writer."""

    def __init__(self, conn: Connection) -> None:
        self._conn = conn
        self.written: list[OutboxEvent] = []

    def record(self, events: Iterable[DomainEvent]) -> None:
        """Insert ``events`` in the current transaction (remembered for dispatch)."""
        for event in events:
            key = str(uuid.uuid4())
            payload = json.dumps(unstructure(event), ensure_ascii=False, separators=(",", ":"))
            position = self._conn.execute(
                insert(t.outbox).returning(t.outbox.c.position),
                {
                    "id": key,
                    "kind": type(event).__name__,
                    "customer_id": event.customer_id,
                    "occurred_on": event.on,
                    "payload": payload,
                },
            ).scalar_one()
            self.written.append(OutboxEvent(key, position, event))

    def pending(self, limit: int = 100, after: int = 0) -> Sequence[OutboxEvent]:
        c = t.outbox.c
        rows = self._conn.execute(
            select(c.id, c.position, c.kind, c.payload)
            .where(c.delivered_at.is_(None), c.position > after)
            .order_by(c.position)
            .limit(limit)
        )
        return [
            OutboxEvent(r.id, r.position, structure(json.loads(r.payload), EVENT_TYPES[r.kind]))
            for r in rows
        ]

    def mark_delivered(self, ids: Iterable[str]) -> None:
        keys = list(ids)
        if keys:
            _mark(self._conn, keys)

    def count_pending(self) -> int:
        query = select(func.count()).select_from(t.outbox).where(t.outbox.c.delivered_at.is_(None))
        return int(self._conn.execute(query).scalar_one())


def _mark(conn: Connection, ids: list[str]) -> None:
    now = dt.datetime.now(dt.UTC)
    for start in range(0, len(ids), 500):
        conn.execute(
            update(t.outbox)
            .where(t.outbox.c.id.in_(ids[start : start + 500]), t.outbox.c.delivered_at.is_(None))
            .values(delivered_at=now)
        )


def mark_delivered(engine: Engine, ids: list[str]) -> None:
    """Mark events delivered in a transaction of their own (after dispatch)."""
    with engine.begin() as conn:
        _mark(conn, ids)
