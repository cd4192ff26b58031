"""The transactional outbox on SQL: events are inserted by the unit of work's own
transaction, so they are stored exactly when the change that raised them is."""

from __future__ import annotations

import datetime as dt
import json
import uuid
from collections.abc import Collection, Iterable, Sequence
from typing import Any

from sqlalchemy import Connection, Engine, func, insert, select, update

from insurcrm.adapters.sql import tables as t
from insurcrm.adapters.sql.bulk import cell_writer, insert_rows
from insurcrm.domain.events import EVENT_TYPES, DomainEvent
from insurcrm.domain.repositories import OutboxEvent
from insurcrm.serialization import structure, unstructure

__all__ = ["SqlOutbox", "mark_delivered"]

#: From this many events in one commit (an import), they go through the bulk path.
BULK = 1000
_COLUMNS = ("id", "kind", "customer_id", "occurred_on", "payload")


class SqlOutbox:
    """:class:`~insurcrm.domain.repositories.Outbox` on SQL, and the events' writer."""

    def __init__(self, conn: Connection) -> None:
        self._conn = conn
        self._staged: list[DomainEvent] = []
        self.written: list[OutboxEvent] = []

    def record(self, events: Iterable[DomainEvent]) -> None:
        """Keep ``events`` for :meth:`flush` (called just before the commit)."""
        self._staged.extend(events)

    def discard(self) -> None:
        """Forget the events of a rolled-back transaction."""
        self._staged.clear()
        self.written.clear()

    def flush(self) -> None:
        """Insert the recorded events in the current transaction, in one statement batch."""
        if not self._staged:
            return
        ids = [str(uuid.uuid4()) for _ in self._staged]
        rows = [
            (
                key,
                type(event).__name__,
                event.customer_id,
                event.on,
                json.dumps(unstructure(event), ensure_ascii=False, separators=(",", ":")),
            )
            for key, event in zip(ids, self._staged, strict=True)
        ]
        if len(rows) >= BULK:
            positions = self._insert_many(ids, rows)
        else:
            c = t.outbox.c
            returned = self._conn.execute(
                insert(t.outbox).returning(c.id, c.position, sort_by_parameter_order=True),
                [dict(zip(_COLUMNS, row, strict=True)) for row in rows],
            )
            positions = [r.position for r in returned]
        self.written.extend(
            OutboxEvent(key, position, event)
            for key, position, event in zip(ids, positions, self._staged, strict=True)
        )
        self._staged.clear()

    def _insert_many(self, ids: list[str], rows: list[tuple[Any, ...]]) -> list[int]:
        """The bulk path (a large import): one driver call, then the positions read back."""
        cell = cell_writer(self._conn.dialect.name)
        insert_rows(self._conn, t.outbox, _COLUMNS, [tuple(map(cell, row)) for row in rows])
        found: dict[str, int] = {}
        c = t.outbox.c
        for start in range(0, len(ids), BULK):
            chunk = ids[start : start + BULK]
            found.update(self._conn.execute(select(c.id, c.position).where(c.id.in_(chunk))).all())
        return [found[key] for key in ids]

    def pending(
        self, limit: int = 100, after: int = 0, kinds: Collection[str] | None = None
    ) -> Sequence[OutboxEvent]:
        c = t.outbox.c
        query = select(c.id, c.position, c.kind, c.payload).where(
            c.delivered_at.is_(None), c.position > after
        )
        if kinds is not None:
            query = query.where(c.kind.in_(sorted(kinds)))
        rows = self._conn.execute(query.order_by(c.position).limit(limit))
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
