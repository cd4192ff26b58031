"""Tier memberships on SQL: one row per customer, the history as child rows
(append-only: a save inserts only the changes the stored copy does not have)."""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Iterable, Iterator, Mapping
from typing import Any

import attrs
from sqlalchemy import Connection, func, insert, select

from insurcrm.adapters.sql import tables as t
from insurcrm.adapters.sql.bulk import insert_values
from insurcrm.adapters.sql.outbox import SqlOutbox
from insurcrm.adapters.sql.repositories import (
    BATCH,
    _add_new,
    _check_new,
    _consistent,
    _exists,
    _read_many,
    _require_customers,
    _stale,
    _update_versioned,
)
from insurcrm.domain.tier_membership import TierMembership
from insurcrm.errors import Duplicate, NotFound
from insurcrm.serialization import structure

__all__ = ["SqlTierMemberships"]

KIND = "tier membership"


def _values(m: TierMembership, version: int) -> dict[str, Any]:
    g = m.grant
    return {
        "customer_id": m.customer_id,
        "tier": m.tier,
        "since": m.since,
        "failing_since": m.failing_since,
        "last_review": m.last_review,
        "grant_tier": g.tier if g else None,
        "grant_kind": g.kind.name if g else None,
        "grant_reason": g.reason if g else None,
        "granted_on": g.granted_on if g else None,
        "grant_expires_on": g.expires_on if g else None,
        "version": version,
    }


def _history(m: TierMembership, start: int) -> list[dict[str, Any]]:
    """The rows of ``m``'s tier changes from position ``start`` on."""
    return [
        {
            "customer_id": m.customer_id,
            "position": i,
            "on": c.on,
            "kind": c.kind.name,
            "from_tier": c.from_tier,
            "to_tier": c.to_tier,
            "reasons": json.dumps(list(c.reasons), ensure_ascii=False),
        }
        for i, c in enumerate(m.history)
        if i >= start
    ]


def _from_rows(row: Mapping[Any, Any], changes: list[Mapping[Any, Any]]) -> TierMembership:
    grant = None
    if row["grant_tier"] is not None:
        grant = {
            "tier": row["grant_tier"],
            "kind": row["grant_kind"],
            "reason": row["grant_reason"],
            "granted_on": row["granted_on"],
            "expires_on": row["grant_expires_on"],
        }
    data = {
        "customer_id": row["customer_id"],
        "tier": row["tier"],
        "since": row["since"],
        "failing_since": row["failing_since"],
        "last_review": row["last_review"],
        "grant": grant,
        "history": [
            {
                "on": c["on"],
                "kind": c["kind"],
                "from_tier": c["from_tier"],
                "to_tier": c["to_tier"],
                "reasons": json.loads(c["reasons"]),
            }
            for c in changes
        ],
        "version": row["version"],
    }
    return structure(data, TierMembership)


class SqlTierMemberships:
    """:class:`~insurcrm.domain.repositories.TierMembershipRepository` on SQL."""

    def __init__(self, conn: Connection, outbox: SqlOutbox) -> None:
        self._conn = conn
        self._outbox = outbox

    def _write_history(self, m: TierMembership, start: int) -> None:
        rows = _history(m, start)
        if rows:
            self._conn.execute(insert(t.tier_changes), rows)

    def add(self, membership: TierMembership) -> TierMembership:
        if membership.version != 0:
            raise _stale(KIND, membership.id, membership.version)
        if not _exists(self._conn, t.customers, membership.customer_id):
            raise NotFound("customer", membership.customer_id)
        if _exists(self._conn, t.tier_memberships, membership.customer_id, "customer_id"):
            raise Duplicate(KIND, membership.customer_id)
        self._conn.execute(insert(t.tier_memberships), _values(membership, 1))
        self._write_history(membership, 0)
        self._outbox.record(membership.events)
        return attrs.evolve(membership, version=1, events=())

    def add_many(self, memberships: Iterable[TierMembership]) -> int:
        items = list(memberships)
        if not items:
            return 0

        def check() -> None:
            _check_new(self._conn, t.tier_memberships, items, KIND, "customer_id")
            _require_customers(self._conn, [m.customer_id for m in items])

        def write() -> None:
            insert_values(self._conn, t.tier_memberships, (_values(m, 1) for m in items))
            changes = (row for m in items for row in _history(m, 0))
            insert_values(self._conn, t.tier_changes, changes)

        _add_new(self._conn, KIND, items, _consistent(items), check, write)
        for m in items:
            self._outbox.record(m.events)
        return len(items)

    def _load(self, *conditions: Any, limit: int | None = None) -> list[TierMembership]:
        m = t.tier_memberships
        query = select(m).where(*conditions).order_by(m.c.customer_id)
        if limit is not None:
            query = query.limit(limit)
        rows = list(self._conn.execute(query).mappings())
        if not rows:
            return []
        ids = [r["customer_id"] for r in rows]
        changes: dict[str, list[Mapping[Any, Any]]] = defaultdict(list)
        c = t.tier_changes
        history = select(c).where(c.c.customer_id.in_(ids)).order_by(c.c.customer_id, c.c.position)
        for change in self._conn.execute(history).mappings():
            changes[change["customer_id"]].append(change)
        return [_from_rows(r, changes[r["customer_id"]]) for r in rows]

    def find(self, customer_id: str) -> TierMembership | None:
        found = self._load(t.tier_memberships.c.customer_id == customer_id)
        return found[0] if found else None

    def get(self, customer_id: str) -> TierMembership:
        found = self.find(customer_id)
        if found is None:
            raise NotFound(KIND, customer_id)
        return found

    def save(self, membership: TierMembership) -> TierMembership:
        version = membership.version + 1
        values = _values(membership, version)
        key = membership.customer_id
        c = t.tier_changes.c
        stored = self._conn.execute(
            select(func.count()).select_from(t.tier_changes).where(c.customer_id == key)
        ).scalar_one()
        _update_versioned(
            self._conn, t.tier_memberships, KIND, key, membership.version, values, "customer_id"
        )
        self._write_history(membership, int(stored))
        self._outbox.record(membership.events)
        return attrs.evolve(membership, version=version, events=())

    def of_customers(self, customer_ids: Iterable[str]) -> list[TierMembership]:
        return _read_many(customer_ids, t.tier_memberships.c.customer_id, self._load)

    def iterate(self) -> Iterator[TierMembership]:
        last: str | None = None
        key = t.tier_memberships.c.customer_id
        while True:
            batch = self._load(*(() if last is None else (key > last,)), limit=BATCH)
            if not batch:
                return
            yield from batch
            last = batch[-1].customer_id

    def count_by_tier(self) -> dict[str, int]:
        m = t.tier_memberships.c
        rows = self._conn.execute(select(m.tier, func.count()).group_by(m.tier))
        return {tier: int(n) for tier, n in rows}
