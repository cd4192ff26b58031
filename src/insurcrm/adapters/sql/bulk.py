"""The bulk write path: many new rows in one driver call.

SQLAlchemy's per-row type processing and dictionaries cost more than the
database's own insert (ARCHITECTURE of #6: Core ``insert`` with dicts reaches a
fifth of raw ``executemany``). Here rows are built as plain tuples already in the
driver's form — on SQLite dates as ISO text, amounts as integer cents (the
:class:`~insurcrm.adapters.sql.types.Amount` representation), booleans as 0/1 —
and written with the driver's ``executemany``; on PostgreSQL with ``COPY … FROM
STDIN`` through psycopg. Both run inside the unit of work's transaction, so a
failed batch leaves nothing behind.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from decimal import Decimal
from enum import Enum
from typing import Any

import attrs
from sqlalchemy import (
    Connection,
    Select,
    String,
    Table,
    Text,
    any_,
    bindparam,
    func,
    literal_column,
    select,
)

from insurcrm.adapters.sql import tables as t
from insurcrm.adapters.sql.types import Amount
from insurcrm.domain.card import BasicProfile, LifeSituation
from insurcrm.domain.customers import Customer
from insurcrm.domain.policies import Policy
from insurcrm.domain.values import Phone
from insurcrm.serialization import unstructure

__all__ = [
    "CUSTOMER_COLUMNS",
    "POLICY_COLUMNS",
    "Cell",
    "cell_writer",
    "customer_rows",
    "existing",
    "insert_rows",
    "insert_values",
    "policy_rows",
]

#: Turns a Python value into the driver's form for one dialect.
Cell = Callable[[Any], Any]

#: Keys per existence lookup (one parameter on SQLite and PostgreSQL, bound one by one elsewhere).
_CHUNK = 5000
#: The separator of the keys sent to PostgreSQL as one text (the unit separator, chr(31)).
_SEPARATOR = 31
_UNIT = chr(_SEPARATOR)


#: Rows copied into a PostgreSQL table at once from which its statistics are refreshed.
_ANALYZE_FROM = 10_000


def _sqlite_cell(value: Any) -> Any:
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return Amount.to_cents(value)
    if isinstance(value, bool):
        return int(value)
    return value


def _plain_cell(value: Any) -> Any:
    return value


def cell_writer(dialect: str) -> Cell:
    """The value converter for ``dialect`` (``"sqlite"`` or another database), for a
    value of any type; the row builders below convert by column instead, which is
    cheaper."""
    return _sqlite_cell if dialect == "sqlite" else _plain_cell


@attrs.frozen
class _Cells:
    """The driver form of a date, an amount and a flag for one dialect."""

    day: Callable[[dt.date], Any]
    amount: Callable[[Decimal], Any]
    flag: Callable[[bool], Any]

    def some_day(self, value: dt.date | None) -> Any:
        return None if value is None else self.day(value)


_SQLITE_CELLS = _Cells(dt.date.isoformat, Amount.to_cents, int)
_PLAIN_CELLS = _Cells(_plain_cell, _plain_cell, _plain_cell)


def _cells(dialect: str) -> _Cells:
    return _SQLITE_CELLS if dialect == "sqlite" else _PLAIN_CELLS


def _json(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


_EMPTY_LIST = _json([])
_EMPTY_LIFE = _json(unstructure(LifeSituation()))


def _name_of(value: Enum | None) -> str | None:
    return None if value is None else value._name_


def _e164(phone: Phone | None) -> str | None:
    return None if phone is None else phone.e164


def _profile_cells(p: BasicProfile, cells: _Cells) -> tuple[Any, ...]:
    """The profile's columns, in ``tables.PROFILE_COLUMNS`` order (the form
    ``unstructure`` gives, in the driver's form)."""
    return (
        p.name.value,
        _name_of(p.gender),
        cells.some_day(p.birth_date),
        p.native_place,
        _name_of(p.marital_status),
        _name_of(p.education),
        None if p.id_number is None else p.id_number.value,
        _e164(p.mobile),
        p.employer,
        p.department,
        p.employer_address,
        p.position,
        _e164(p.work_phone),
        p.occupation_type,
        None if p.email is None else p.email.value,
        _e164(p.work_fax),
        _e164(p.home_phone),
        p.home_address,
    )


_NO_PROFILE = (None,) * len(t.PROFILE_COLUMNS)


def _customer_row(customer: Customer, cells: _Cells) -> tuple[Any, ...]:
    profile = customer.profile
    personal = _NO_PROFILE if profile is None else _profile_cells(profile, cells)
    life = customer.life
    return (
        customer.id,
        cells.day(customer.created_on),
        cells.some_day(customer.erased_on),
        *personal,
        _EMPTY_LIFE if life.is_empty() else _json(unstructure(life)),
        _json(unstructure(customer.family)) if customer.family else _EMPTY_LIST,
        _json(unstructure(customer.holdings)) if customer.holdings else _EMPTY_LIST,
        customer.lead_source.name if customer.lead_source is not None else None,
        customer.referred_by,
        cells.flag(customer.is_internal),
        cells.flag(customer.cooperation_partner),
        customer.csr_id,
        customer.agent_id,
        customer.household_id,
        customer.pdp.name if customer.pdp is not None else None,
        customer.risk_preference.name if customer.risk_preference is not None else None,
        1,
    )


#: The customers table's columns in the order :func:`customer_rows` fills them.
CUSTOMER_COLUMNS = (
    "id",
    "created_on",
    "erased_on",
    *t.PROFILE_COLUMNS,
    "life",
    "family",
    "holdings",
    "lead_source",
    "referred_by",
    "is_internal",
    "cooperation_partner",
    "csr_id",
    "agent_id",
    "household_id",
    "pdp",
    "risk_preference",
    "version",
)


def customer_rows(customers: Iterable[Customer], dialect: str) -> Iterator[tuple[Any, ...]]:
    """The customers' rows (version 1) in :data:`CUSTOMER_COLUMNS` order, in the driver's
    form for ``dialect``, made as they are read."""
    cells = _cells(dialect)
    return (_customer_row(c, cells) for c in customers)


#: Column order of the rows :func:`policy_rows` returns, per table.
POLICY_COLUMNS: dict[str, tuple[str, ...]] = {
    t.policies.name: (
        "id",
        "number",
        "policyholder_id",
        "insured_id",
        "product_line",
        "start_date",
        "term_years",
        "currency",
        "sum_assured",
        "annual_premium",
        "insurer",
        "status",
        "campaign",
        "version",
    ),
    t.beneficiaries.name: (
        "policy_id",
        "position",
        "share",
        "customer_id",
        "name",
        "relation",
        "erased",
    ),
    t.status_changes.name: ("policy_id", "position", "on", "from_status", "to_status", "reason"),
    t.purchases.name: ("policy_id", "position", "on", "amount", "currency", "kind"),
    t.missed_premiums.name: ("policy_id", "position", "due_date", "amount", "currency"),
}


def _policies(policies: Sequence[Policy], cells: _Cells) -> Iterator[tuple[Any, ...]]:
    day, amount = cells.day, cells.amount
    # ``_name_`` is the member's name, read without the ``name`` property's overhead.
    for p in policies:
        yield (
            p.id,
            p.number,
            p.policyholder_id,
            p.insured_id,
            p.product_line._name_,
            day(p.start_date),
            p.term_years,
            p.currency,
            amount(p.sum_assured.amount),
            amount(p.annual_premium.amount),
            p.insurer,
            p.status._name_,
            p.campaign,
            1,
        )


def _beneficiaries(policies: Sequence[Policy], cells: _Cells) -> Iterator[tuple[Any, ...]]:
    amount, flag = cells.amount, cells.flag
    for p in policies:
        for i, b in enumerate(p.beneficiaries):
            name = b.name.value if b.name is not None else None
            yield (p.id, i, amount(b.share), b.customer_id, name, b.relation, flag(b.erased))


def _status_changes(policies: Sequence[Policy], cells: _Cells) -> Iterator[tuple[Any, ...]]:
    day = cells.day
    for p in policies:
        for i, h in enumerate(p.history):
            reason = h.reason._name_ if h.reason is not None else None
            yield (p.id, i, day(h.on), h.from_status._name_, h.to_status._name_, reason)


def _purchases(policies: Sequence[Policy], cells: _Cells) -> Iterator[tuple[Any, ...]]:
    day, amount = cells.day, cells.amount
    for p in policies:
        for i, s in enumerate(p.purchases):
            paid = s.amount
            yield (p.id, i, day(s.on), amount(paid.amount), paid.currency, s.kind._name_)


def _missed_premiums(policies: Sequence[Policy], cells: _Cells) -> Iterator[tuple[Any, ...]]:
    day, amount = cells.day, cells.amount
    for p in policies:
        for i, m in enumerate(p.missed_premiums):
            yield (p.id, i, day(m.due_date), amount(m.amount.amount), m.amount.currency)


_POLICY_TABLES = {
    t.policies.name: _policies,
    t.beneficiaries.name: _beneficiaries,
    t.status_changes.name: _status_changes,
    t.purchases.name: _purchases,
    t.missed_premiums.name: _missed_premiums,
}
assert _POLICY_TABLES.keys() == POLICY_COLUMNS.keys(), "a row maker per policy table"


def policy_rows(policies: Sequence[Policy], dialect: str) -> dict[str, Iterator[tuple[Any, ...]]]:
    """The rows of the policies (version 1) and of their parts, per table name (in
    :data:`POLICY_COLUMNS` order), in the driver's form for ``dialect``: each table's rows
    are made as they are read, so they can be converted while the database writes."""
    cells = _cells(dialect)
    return {name: rows(policies, cells) for name, rows in _POLICY_TABLES.items()}


def insert_rows(
    conn: Connection, table: Table, columns: Sequence[str], rows: Iterable[tuple[Any, ...]]
) -> None:
    """Write ``rows`` (driver-form tuples in ``columns`` order) into ``table`` in one call:
    ``executemany`` on SQLite and other drivers, ``COPY`` on PostgreSQL (psycopg). On
    PostgreSQL the rows are sent as they are made (``rows`` may be a generator), so Python
    converts the next rows while the server writes the last ones."""
    if isinstance(rows, Sequence) and not rows:
        return
    quote = conn.dialect.identifier_preparer.quote
    quoted = ", ".join(quote(c) for c in columns)
    name = conn.dialect.identifier_preparer.format_table(table)
    if conn.dialect.name == "postgresql":
        driver = conn.connection.driver_connection
        assert driver is not None
        written = 0
        with driver.cursor() as cursor, cursor.copy(f"COPY {name} ({quoted}) FROM STDIN") as copy:
            write = copy.write_row
            for row in rows:
                write(row)
                written += 1
        if written >= _ANALYZE_FROM:
            # Later look-ups in this transaction (the foreign-key checks of the next batch,
            # whose plans the server keeps) would otherwise stay planned for the table as it
            # was: a scan per row. Refreshing the statistics of the key alone re-plans them
            # at a seventh of the cost of the whole table's (measured on the customers).
            keys = ", ".join(quote(c.name) for c in table.primary_key.columns)
            conn.exec_driver_sql(f"ANALYZE {name} ({keys})")
        return
    values = list(rows)
    if not values:
        return
    marks = ", ".join("?" if conn.dialect.paramstyle == "qmark" else "%s" for _ in columns)
    conn.exec_driver_sql(f"INSERT INTO {name} ({quoted}) VALUES ({marks})", values)


def insert_values(conn: Connection, table: Table, rows: Iterable[Mapping[str, Any]]) -> None:
    """Write ``rows`` (a value per column of ``table``, by column name, as a Core insert
    takes them) through :func:`insert_rows`, each value converted to the driver's form."""
    names = [c.name for c in table.columns]
    cell = cell_writer(conn.dialect.name)
    insert_rows(conn, table, names, (tuple(cell(row[n]) for n in names) for row in rows))


def existing(conn: Connection, table: Table, column: str, keys: Iterable[str]) -> set[str]:
    """Which of ``keys`` are already in ``table.column``."""
    wanted = list(dict.fromkeys(keys))
    found: set[str] = set()
    col = table.c[column]
    # The keys go as one parameter, not as 5,000 bound parameters rendered per chunk: on
    # PostgreSQL one text split into an array by the server (ids are printable, so the unit
    # separator never occurs in one; the driver turning a list into an array costs more),
    # a JSON array opened by json_each on SQLite; elsewhere the list is expanded when the
    # statement runs.
    dialect = conn.dialect.name
    pack: Callable[[list[str]], Any] = list
    if dialect == "postgresql":
        keys_array = func.string_to_array(bindparam("keys", type_=Text), func.chr(_SEPARATOR))
        query = select(col).where(col == any_(keys_array))
        pack = _UNIT.join
    elif dialect == "sqlite":
        each = func.json_each(bindparam("keys"))
        opened: Select[str] = select(literal_column("value", String)).select_from(each)
        query = select(col).where(col.in_(opened.scalar_subquery()))
        pack = _json
    else:
        query = select(col).where(col.in_(bindparam("keys", expanding=True)))
    for start in range(0, len(wanted), _CHUNK):
        chunk = wanted[start : start + _CHUNK]
        found.update(conn.execute(query, {"keys": pack(chunk)}).scalars())
    return found
