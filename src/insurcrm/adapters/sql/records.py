"""Customer-service records on SQL: churn records, complaints, interactions and survey
responses, one generic repository over four tables (:mod:`.tables`).

A record is stored as its converter document (JSON text) in ``data``, with the columns
used for lookups and order (id, customer, day, survey) beside it; it is rebuilt through
:func:`insurcrm.serialization.structure`, so every stored value is validated again on
the way out. Saves are ``UPDATE … WHERE id = :id AND version = :v``, as elsewhere.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator, Mapping, Sequence
from typing import Any, Generic

import attrs
from sqlalchemy import ColumnElement, Connection, Table, and_, func, insert, or_, select

from insurcrm.adapters.sql import tables as t
from insurcrm.adapters.sql.bulk import insert_values
from insurcrm.adapters.sql.outbox import SqlOutbox
from insurcrm.adapters.sql.repositories import (
    BATCH,
    _add_new,
    _check_new,
    _consistent,
    _exists,
    _json,
    _read_many,
    _require_customers,
    _stale,
    _update_versioned,
    lock_customers,
)
from insurcrm.domain.churn import ChurnRecord
from insurcrm.domain.complaints import Complaint
from insurcrm.domain.interactions import Interaction
from insurcrm.domain.repositories import ServiceRecord
from insurcrm.domain.satisfaction import SurveyResponse
from insurcrm.errors import Duplicate, NotFound
from insurcrm.serialization import structure, unstructure

__all__ = [
    "SqlChurnRecords",
    "SqlRecords",
    "SqlSurveyResponses",
    "churn_records",
    "complaints",
    "interactions",
    "survey_responses",
]

#: Columns every record table has that are not attributes of the record.
_OWN_COLUMNS = frozenset({"day", "version", "data"})


def _stored(record: ServiceRecord, version: int) -> ServiceRecord:
    """The copy handed back after a write: the new version, its events gone to the outbox."""
    if isinstance(record, ChurnRecord | Complaint):
        return attrs.evolve(record, version=version, events=())
    return attrs.evolve(record, version=version)


class SqlRecords(Generic[ServiceRecord]):
    """:class:`~insurcrm.domain.repositories.RecordRepository` on one record table.

    Args:
        conn: the unit of work's connection.
        outbox: the unit of work's outbox (the records' events go there).
        table: the record table (in :mod:`insurcrm.adapters.sql.tables`).
        kind: the record kind named in errors, e.g. ``"complaint"``.
        cls: the record class.
        day: the name of the record's day attribute (``"on"``, ``"received_on"``).
    """

    def __init__(
        self,
        conn: Connection,
        outbox: SqlOutbox,
        table: Table,
        kind: str,
        cls: type[ServiceRecord],
        day: str = "on",
    ) -> None:
        self._conn = conn
        self._outbox = outbox
        self._table = table
        self._kind = kind
        self._cls: type[ServiceRecord] = cls
        self._day = day
        self._columns = tuple(c.name for c in table.columns if c.name not in _OWN_COLUMNS)

    def _values(self, record: ServiceRecord, version: int) -> dict[str, Any]:
        data = unstructure(record)
        data["version"] = version
        values = {name: getattr(record, name) for name in self._columns}
        values.update(day=getattr(record, self._day), version=version, data=_json(data))
        return values

    def _from_row(self, row: Mapping[Any, Any]) -> ServiceRecord:
        data = json.loads(row["data"])
        data["version"] = row["version"]
        return structure(data, self._cls)

    def _customer_exists(self, record: ServiceRecord) -> None:
        if not _exists(self._conn, t.customers, record.customer_id):
            raise NotFound("customer", record.customer_id)

    def _select(self, *conditions: ColumnElement[bool]) -> list[ServiceRecord]:
        c = self._table.c
        query = select(c.data, c.version).where(*conditions).order_by(c.day, c.id)
        return [self._from_row(r) for r in self._conn.execute(query).mappings()]

    def add(self, record: ServiceRecord) -> ServiceRecord:
        if record.version != 0:
            raise _stale(self._kind, record.id, record.version)
        if _exists(self._conn, self._table, record.id):
            raise Duplicate(self._kind, record.id)
        self._customer_exists(record)
        self._conn.execute(insert(self._table), self._values(record, 1))
        self._outbox.record(getattr(record, "events", ()))
        return _stored(record, 1)

    def add_many(self, records: Iterable[ServiceRecord]) -> int:
        items = list(records)
        if not items:
            return 0

        def check() -> None:
            _check_new(self._conn, self._table, items, self._kind)
            _require_customers(self._conn, [r.customer_id for r in items])

        def write() -> None:
            insert_values(self._conn, self._table, (self._values(r, 1) for r in items))

        _add_new(self._conn, self._kind, items, _consistent(items), check, write)
        for record in items:
            self._outbox.record(getattr(record, "events", ()))
        return len(items)

    def get(self, record_id: str) -> ServiceRecord:
        found = self._select(self._table.c.id == record_id)
        if not found:
            raise NotFound(self._kind, record_id)
        return found[0]

    def get_many(self, record_ids: Iterable[str]) -> Sequence[ServiceRecord]:
        return _read_many(record_ids, self._table.c.id, self._select)

    def save(self, record: ServiceRecord) -> ServiceRecord:
        if not _exists(self._conn, self._table, record.id):
            raise NotFound(self._kind, record.id)
        self._customer_exists(record)
        version = record.version + 1
        values = self._values(record, version)
        _update_versioned(self._conn, self._table, self._kind, record.id, record.version, values)
        self._outbox.record(getattr(record, "events", ()))
        return _stored(record, version)

    def of_customer(self, customer_id: str) -> Sequence[ServiceRecord]:
        return self._select(self._table.c.customer_id == customer_id)

    def of_customers(self, customer_ids: Iterable[str]) -> Sequence[ServiceRecord]:
        found = _read_many(customer_ids, self._table.c.customer_id, self._select)
        return sorted(found, key=lambda r: (r.customer_id, getattr(r, self._day), r.id))

    def iterate(self) -> Iterator[ServiceRecord]:
        c = self._table.c
        query = select(c.id, c.day, c.data, c.version).order_by(c.day, c.id).limit(BATCH)
        last: Mapping[Any, Any] | None = None
        while True:
            page = query
            if last is not None:
                day, key = last["day"], last["id"]
                page = query.where(or_(c.day > day, and_(c.day == day, c.id > key)))
            rows = list(self._conn.execute(page).mappings())
            if not rows:
                return
            for row in rows:
                yield self._from_row(row)
            last = rows[-1]

    def count(self) -> int:
        query = select(func.count()).select_from(self._table)
        return int(self._conn.execute(query).scalar_one())


class SqlSurveyResponses(SqlRecords[SurveyResponse]):
    """:class:`~insurcrm.domain.repositories.SurveyResponseRepository` on SQL."""

    def in_survey(self, survey_id: str) -> Sequence[SurveyResponse]:
        return self._select(self._table.c.survey_id == survey_id)


class SqlChurnRecords(SqlRecords[ChurnRecord]):
    """:class:`~insurcrm.domain.repositories.ChurnRecordRepository` on SQL."""

    def of_customers_for_update(self, customer_ids: Iterable[str]) -> Sequence[ChurnRecord]:
        ids = set(customer_ids)
        lock_customers(self._conn, ids, share=False)  # SQLite locks no rows: see the port
        return self.of_customers(ids)


def churn_records(conn: Connection, outbox: SqlOutbox) -> SqlChurnRecords:
    """Churn records (``uow.churns``)."""
    return SqlChurnRecords(conn, outbox, t.churn_records, "churn record", ChurnRecord)


def complaints(conn: Connection, outbox: SqlOutbox) -> SqlRecords[Complaint]:
    """Complaints (``uow.complaints``), by the day received."""
    return SqlRecords(conn, outbox, t.complaints, "complaint", Complaint, "received_on")


def interactions(conn: Connection, outbox: SqlOutbox) -> SqlRecords[Interaction]:
    """The interaction log (``uow.interactions``)."""
    return SqlRecords(conn, outbox, t.interactions, "interaction", Interaction)


def survey_responses(conn: Connection, outbox: SqlOutbox) -> SqlSurveyResponses:
    """Survey responses (``uow.surveys``)."""
    return SqlSurveyResponses(conn, outbox, t.survey_responses, "survey response", SurveyResponse)
