"""SQL repositories on SQLAlchemy Core, one per aggregate, sharing a connection.

Aggregates are written column by column (the card's repeated parts — life
situation, family, holdings — as JSON text) and rebuilt through
:func:`insurcrm.serialization.structure`, so every stored value is validated
again on the way out. Saves are ``UPDATE … WHERE id = :id AND version = :v``:
no row updated means another writer got there first.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from typing import Any, Protocol, TypeVar

import attrs
from sqlalchemy import (
    ColumnElement,
    Connection,
    Table,
    bindparam,
    delete,
    exists,
    func,
    insert,
    or_,
    select,
)
from sqlalchemy import exc as sa_exc
from sqlalchemy import update as sql_update

from insurcrm.adapters.sql import tables as t
from insurcrm.adapters.sql.bulk import (
    CUSTOMER_COLUMNS,
    POLICY_COLUMNS,
    customer_rows,
    existing,
    insert_rows,
    policy_rows,
)
from insurcrm.adapters.sql.engine import key_refused
from insurcrm.adapters.sql.outbox import SqlOutbox
from insurcrm.adapters.sql.types import code_points
from insurcrm.domain.customers import Customer, Household, id_number_of, id_number_taken
from insurcrm.domain.policies import Policy
from insurcrm.domain.values import Email, Phone, ResidentId
from insurcrm.errors import ConcurrencyError, Duplicate, NotFound
from insurcrm.serialization import structure, unstructure

__all__ = ["SqlCustomers", "SqlHouseholds", "SqlPolicies"]

#: Rows fetched per round trip when streaming.
BATCH = 500


def _exists(conn: Connection, table: Table, key: str, column: str = "id") -> bool:
    return bool(conn.execute(select(exists().where(table.c[column] == key))).scalar())


def _held_by_another(conn: Connection, table: Table, column: str, key: str, own: str) -> bool:
    """Whether a row of ``table`` other than ``own`` holds ``key`` in ``column``."""
    c = table.c
    return bool(conn.execute(select(exists().where(c[column] == key, c.id != own))).scalar())


def _check_unique(
    conn: Connection,
    table: Table,
    column: str,
    keys: Sequence[str | None],
    taken: Callable[[str], Exception],
) -> None:
    """Refuse a batch whose ``keys`` (None: none) repeat one, or include one that
    ``table.column`` already holds: ``taken(key)`` for the first such key."""
    seen: set[str] = set()
    for key in keys:
        if key is not None:
            if key in seen:
                raise taken(key)
            seen.add(key)
    held = existing(conn, table, column, seen)
    if held:
        raise taken(next(k for k in keys if k in held))


def _stale(kind: str, key: str, version: int) -> ConcurrencyError:
    return ConcurrencyError(
        f"{kind} {key}: saved from version {version}, which is not the stored one"
    )


V = TypeVar("V", Customer, Policy)


class _Identified(Protocol):
    @property
    def id(self) -> str: ...


Identified = TypeVar("Identified", bound=_Identified)


def _read_many(
    ids: Iterable[str],
    column: ColumnElement[str],
    load: Callable[[ColumnElement[bool]], list[Identified]],
) -> list[Identified]:
    """What ``load`` reads of the rows whose ``column`` (their id, or their customer's) is
    among ``ids``, :data:`BATCH` ids a statement, by id as Python orders them (on any
    collation)."""
    unique = sorted(set(ids))
    found: list[Identified] = []
    for start in range(0, len(unique), BATCH):
        found += load(column.in_(unique[start : start + BATCH]))
    return sorted(found, key=lambda item: item.id)


def _column_by_id(
    conn: Connection, table: Table, column: str, ids: Iterable[str]
) -> dict[str, Any]:
    """``column`` of each row of ``table`` whose id is among ``ids``, by id (a light read:
    nothing else of the row), :data:`BATCH` ids a statement."""
    unique = sorted(set(ids))
    c = table.c
    found: dict[str, Any] = {}
    for start in range(0, len(unique), BATCH):
        query = select(c.id, c[column]).where(c.id.in_(unique[start : start + BATCH]))
        found.update((key, value) for key, value in conn.execute(query))
    return found


def _versioned(aggregate: V, version: int) -> V:
    """The copy handed back after a write: the new version, its events gone to the outbox."""
    return attrs.evolve(aggregate, version=version, events=())


def _update_versioned(
    conn: Connection,
    table: Table,
    kind: str,
    key: str,
    version: int,
    values: dict[str, Any],
    column: str = "id",
) -> None:
    """``UPDATE … WHERE id = key AND version = version``; no row means stale or unknown."""
    result = conn.execute(
        sql_update(table).where(table.c[column] == key, table.c.version == version).values(values)
    )
    if result.rowcount == 0:
        if not _exists(conn, table, key, column):
            raise NotFound(kind, key)
        raise _stale(kind, key, version)


class _New(Protocol):
    """What :func:`_check_new` reads of an item: its id and version."""

    @property
    def id(self) -> str: ...

    @property
    def version(self) -> int: ...


def _check_new(
    conn: Connection, table: Table, items: Sequence[_New], kind: str, column: str = "id"
) -> None:
    """Refuse a batch of new items (aggregates or records) holding a stored version, a
    repeated id or an id already stored in ``column`` (the first such item in batch order
    is named)."""
    ids: dict[str, None] = {}
    for item in items:
        if item.version != 0:
            raise _stale(kind, item.id, item.version)
        if item.id in ids:
            raise Duplicate(kind, item.id)
        ids[item.id] = None
    taken = existing(conn, table, column, ids)
    if taken:
        raise Duplicate(kind, next(item.id for item in items if item.id in taken))


def _consistent(items: Sequence[_New], *keys: Sequence[str | None]) -> bool:
    """Whether a batch of new items passes on its own what :func:`_check_new` and
    :func:`_check_unique` check without reading the database: no stored version, no repeated
    id, no repeated key among each of ``keys`` (None: none)."""
    if any(item.version != 0 for item in items):
        return False
    for given in ([item.id for item in items], *keys):
        named = [key for key in given if key is not None]
        if len(set(named)) != len(named):
            return False
    return True


#: Batches of fewer new items are looked up before they are written, as one at a time
#: would be: their look-ups cost little, and a transaction writing many small batches (a
#: tier review's runs of new memberships) would otherwise open a subtransaction for each,
#: and PostgreSQL slows every other session's snapshots while a transaction holds over 64.
LOOK_UP_BELOW = 100


def _add_new(
    conn: Connection,
    kind: str,
    items: Sequence[object],
    consistent: bool,
    check: Callable[[], None],
    write: Callable[[], None],
) -> None:
    """Store a batch of new ``items`` (``write``), leaving the look-ups of ``check`` (ids
    not taken, numbers free, every reference stored) to the schema's keys, unique indexes
    and foreign keys, which refuse the same rows. When they do, the batch is undone whole (it
    runs under a savepoint) and ``check`` names the first offender in batch order, as it
    would have before writing. A batch not ``consistent`` on its own (see
    :func:`_consistent`), or of fewer than :data:`LOOK_UP_BELOW` items, is checked before
    writing. A refusal that ``check`` cannot explain came from another writer at the same
    moment: :class:`ConcurrencyError`."""
    if not consistent or len(items) < LOOK_UP_BELOW:
        check()
        write()
        return
    refused = False
    try:
        with conn.begin_nested():
            write()
    except (sa_exc.IntegrityError, conn.dialect.loaded_dbapi.IntegrityError) as error:
        if not key_refused(error):
            raise
        refused = True
    if refused:  # looked up here, not in the handler: the error raised carries no driver
        # error, whose text holds the batch's values (names, ID numbers)
        check()
        raise ConcurrencyError(
            f"a batch of new {kind} rows was refused by the database (a key taken or a "
            "reference missing) and the checks after it found neither: another writer "
            "changed the same rows meanwhile; nothing of the batch was stored"
        )


def _require_customers(conn: Connection, customer_ids: Sequence[str]) -> None:
    """Refuse a batch naming a customer not stored (the first, in batch order)."""
    known = existing(conn, t.customers, "id", customer_ids)
    for customer_id in customer_ids:
        if customer_id not in known:
            raise NotFound("customer", customer_id)


def lock_customers(
    conn: Connection, customer_ids: Iterable[str], *, share: bool
) -> dict[str, bool]:
    """Lock the stored customers among ``customer_ids`` until the transaction ends; returns
    each one, by id, with whether they were erased. :data:`BATCH` at a time: ``FOR
    SHARE`` (``share``) or ``FOR NO KEY UPDATE`` on PostgreSQL; on SQLite, which locks no
    rows, a plain read. Every writer takes the rows in one order, Python's (code point)
    order of the ids, across batches and within each (PostgreSQL's ``"C"`` collation
    orders as Python does on a UTF-8 database, whatever its collation), so two writers
    never wait for each other in a circle."""
    ids = sorted(set(customer_ids))
    c = t.customers.c
    found: dict[str, bool] = {}
    for start in range(0, len(ids), BATCH):
        statement = (
            select(c.id, c.erased_on.is_not(None))
            .where(c.id.in_(ids[start : start + BATCH]))
            .order_by(code_points(c.id))
            .with_for_update(read=share, key_share=not share)
        )
        found.update((i, bool(erased)) for i, erased in conn.execute(statement))
    return found


def _json(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


# -- customers ----------------------------------------------------------------


def customer_values(customer: Customer) -> dict[str, Any]:
    """The column values of a customer row."""
    data = unstructure(customer)
    profile = data.pop("profile") or {}
    row: dict[str, Any] = {name: profile.get(name) for name in t.PROFILE_COLUMNS}
    row["birth_date"] = customer.profile.birth_date if customer.profile else None
    row.update(
        id=customer.id,
        created_on=customer.created_on,
        erased_on=customer.erased_on,
        life=_json(data["life"]),
        family=_json(data["family"]),
        holdings=_json(data["holdings"]),
        lead_source=data["lead_source"],
        referred_by=customer.referred_by,
        is_internal=customer.is_internal,
        cooperation_partner=customer.cooperation_partner,
        csr_id=customer.csr_id,
        agent_id=customer.agent_id,
        household_id=customer.household_id,
        pdp=data["pdp"],
        risk_preference=data["risk_preference"],
        version=customer.version,
    )
    return row


def customer_from_row(row: Mapping[Any, Any]) -> Customer:
    """Rebuild a customer from its row."""
    data = {c: row[c] for c in row if c not in t.PROFILE_COLUMNS}
    data["life"] = json.loads(row["life"])
    data["family"] = json.loads(row["family"])
    data["holdings"] = json.loads(row["holdings"])
    data["profile"] = None if row["name"] is None else {c: row[c] for c in t.PROFILE_COLUMNS}
    return structure(data, Customer)


def _referrers_first(customers: Sequence[Customer]) -> bool:
    """Whether each customer of a batch referred by another of it comes after them, as
    adding them one by one needs (the database checks a reference only at the end of a
    statement on PostgreSQL, so it would accept a referrer that comes later)."""
    ids = {c.id for c in customers}
    earlier: set[str] = set()
    for c in customers:
        if c.referred_by in ids and c.referred_by not in earlier:
            return False
        earlier.add(c.id)
    return True


class SqlCustomers:
    """:class:`~insurcrm.domain.repositories.CustomerRepository` on SQL."""

    def __init__(self, conn: Connection, outbox: SqlOutbox) -> None:
        self._conn = conn
        self._outbox = outbox

    def _check_references(self, customer: Customer) -> None:
        if customer.household_id is not None and not _exists(
            self._conn, t.households, customer.household_id
        ):
            raise NotFound("household", customer.household_id)
        if customer.referred_by is not None and not _exists(
            self._conn, t.customers, customer.referred_by
        ):
            raise NotFound("customer", customer.referred_by)

    def _id_number_free(self, customer: Customer) -> None:
        number = id_number_of(customer)
        if number is not None and _held_by_another(
            self._conn, t.customers, "id_number", number, customer.id
        ):
            raise id_number_taken(number)

    def add(self, customer: Customer) -> Customer:
        if customer.version != 0:
            raise _stale("customer", customer.id, customer.version)
        if _exists(self._conn, t.customers, customer.id):
            raise Duplicate("customer", customer.id)
        self._id_number_free(customer)
        self._check_references(customer)
        values = customer_values(customer)
        values["version"] = 1
        self._conn.execute(insert(t.customers), values)
        self._outbox.record(customer.events)
        return _versioned(customer, 1)

    def add_many(self, customers: Iterable[Customer]) -> int:
        items = list(customers)
        if not items:
            return 0
        numbers = [id_number_of(c) for c in items]
        _add_new(
            self._conn,
            "customer",
            items,
            _consistent(items, numbers) and _referrers_first(items),
            functools.partial(self._check_many, items, numbers),
            lambda: insert_rows(
                self._conn,
                t.customers,
                CUSTOMER_COLUMNS,
                customer_rows(items, self._conn.dialect.name),
            ),
        )
        for c in items:
            self._outbox.record(c.events)
        return len(items)

    def _check_many(self, items: Sequence[Customer], numbers: Sequence[str | None]) -> None:
        """Refuse a batch of new customers as adding them one by one would: a stored
        version, an id or ID number taken (or repeated), a household or referrer not stored."""
        _check_new(self._conn, t.customers, items, "customer")
        _check_unique(self._conn, t.customers, "id_number", numbers, id_number_taken)
        homes = {c.household_id for c in items if c.household_id is not None}
        known = existing(self._conn, t.households, "id", homes)
        for c in items:
            if c.household_id is not None and c.household_id not in known:
                raise NotFound("household", c.household_id)
        referrers = {c.referred_by for c in items if c.referred_by is not None}
        stored = existing(self._conn, t.customers, "id", referrers)
        earlier: set[str] = set()
        for c in items:  # as adding one by one: a referrer must come first
            ref = c.referred_by
            if ref is not None and ref not in stored and ref not in earlier:
                raise NotFound("customer", ref)
            earlier.add(c.id)

    def get(self, customer_id: str) -> Customer:
        found = self._select(t.customers.c.id == customer_id)
        if not found:
            raise NotFound("customer", customer_id)
        return found[0]

    def get_many(self, customer_ids: Iterable[str]) -> Sequence[Customer]:
        return _read_many(customer_ids, t.customers.c.id, self._select)

    def stored_among(self, customer_ids: Iterable[str]) -> set[str]:
        return existing(self._conn, t.customers, "id", customer_ids)

    def erased_among(self, customer_ids: Iterable[str]) -> dict[str, bool]:
        return lock_customers(self._conn, customer_ids, share=True)

    def save(self, customer: Customer) -> Customer:
        if not _exists(self._conn, t.customers, customer.id):
            raise NotFound("customer", customer.id)
        self._id_number_free(customer)
        self._check_references(customer)
        values = customer_values(customer)
        values["version"] = customer.version + 1
        _update_versioned(
            self._conn, t.customers, "customer", customer.id, customer.version, values
        )
        self._outbox.record(customer.events)
        return _versioned(customer, customer.version + 1)

    def _select(self, *conditions: ColumnElement[bool]) -> list[Customer]:
        rows = self._conn.execute(
            select(t.customers).where(*conditions).order_by(t.customers.c.id)
        ).mappings()
        return [customer_from_row(r) for r in rows]

    def _where(self, condition: ColumnElement[bool]) -> list[Customer]:
        """Customers matching ``condition`` on personal data: never an erased one."""
        return self._select(t.customers.c.erased_on.is_(None), condition)

    def find_by_id_number(self, id_number: ResidentId) -> Sequence[Customer]:
        return self._where(t.customers.c.id_number == id_number.value)

    def find_by_phone(self, phone: Phone) -> Sequence[Customer]:
        c = t.customers.c
        number = phone.e164
        return self._where(
            or_(
                c.mobile == number,
                c.work_phone == number,
                c.home_phone == number,
                c.work_fax == number,
            )
        )

    def find_by_email(self, email: Email) -> Sequence[Customer]:
        return self._where(t.customers.c.email == email.value)

    def find_by_name(self, name: str) -> Sequence[Customer]:
        return self._where(t.customers.c.name == name)

    def in_household(self, household_id: str) -> Sequence[Customer]:
        return self._select(t.customers.c.household_id == household_id)

    def referrals_of(self, customer_id: str) -> Sequence[Customer]:
        return self._select(t.customers.c.referred_by == customer_id)

    def iterate(self) -> Iterator[Customer]:
        last: str | None = None
        while True:
            query = select(t.customers).order_by(t.customers.c.id).limit(BATCH)
            if last is not None:
                query = query.where(t.customers.c.id > last)
            rows = list(self._conn.execute(query).mappings())
            if not rows:
                return
            for row in rows:
                yield customer_from_row(row)
            last = rows[-1]["id"]

    def count(self) -> int:
        return int(self._conn.execute(select(func.count()).select_from(t.customers)).scalar_one())


# -- policies -------------------------------------------------------------------

_CHILDREN = (t.beneficiaries, t.status_changes, t.purchases, t.missed_premiums)


def policy_values(policy: Policy) -> dict[str, Any]:
    """The column values of a policy row."""
    return {
        "id": policy.id,
        "number": policy.number,
        "policyholder_id": policy.policyholder_id,
        "insured_id": policy.insured_id,
        "product_line": policy.product_line.name,
        "start_date": policy.start_date,
        "term_years": policy.term_years,
        "currency": policy.currency,
        "sum_assured": policy.sum_assured.amount,
        "annual_premium": policy.annual_premium.amount,
        "insurer": policy.insurer,
        "status": policy.status.name,
        "campaign": policy.campaign,
        "version": policy.version,
    }


def _child_rows(policy: Policy) -> dict[str, list[dict[str, Any]]]:
    pid = policy.id
    return {
        t.beneficiaries.name: [
            {
                "policy_id": pid,
                "position": i,
                "share": b.share,
                "customer_id": b.customer_id,
                "name": b.name.value if b.name is not None else None,
                "relation": b.relation,
                "erased": b.erased,
            }
            for i, b in enumerate(policy.beneficiaries)
        ],
        t.status_changes.name: [
            {
                "policy_id": pid,
                "position": i,
                "on": h.on,
                "from_status": h.from_status.name,
                "to_status": h.to_status.name,
                "reason": h.reason.name if h.reason is not None else None,
            }
            for i, h in enumerate(policy.history)
        ],
        t.purchases.name: [
            {
                "policy_id": pid,
                "position": i,
                "on": p.on,
                "amount": p.amount.amount,
                "currency": p.amount.currency,
                "kind": p.kind.name,
            }
            for i, p in enumerate(policy.purchases)
        ],
        t.missed_premiums.name: [
            {
                "policy_id": pid,
                "position": i,
                "due_date": m.due_date,
                "amount": m.amount.amount,
                "currency": m.amount.currency,
            }
            for i, m in enumerate(policy.missed_premiums)
        ],
    }


def _money(amount: Any, currency: str) -> dict[str, Any]:
    return {"amount": amount, "currency": currency}


def policy_from_rows(
    row: Mapping[Any, Any], children: Mapping[str, list[Mapping[Any, Any]]]
) -> Policy:
    """Rebuild a policy from its row and its child rows (in position order)."""
    currency = row["currency"]
    data = {
        "id": row["id"],
        "number": row["number"],
        "policyholder_id": row["policyholder_id"],
        "insured_id": row["insured_id"],
        "product_line": row["product_line"],
        "start_date": row["start_date"],
        "term_years": row["term_years"],
        "sum_assured": _money(row["sum_assured"], currency),
        "annual_premium": _money(row["annual_premium"], currency),
        "insurer": row["insurer"],
        "status": row["status"],
        "campaign": row["campaign"],
        "version": row["version"],
        "beneficiaries": [
            {k: b[k] for k in ("share", "customer_id", "name", "relation", "erased")}
            for b in children.get(t.beneficiaries.name, [])
        ],
        "history": [
            {k: h[k] for k in ("on", "from_status", "to_status", "reason")}
            for h in children.get(t.status_changes.name, [])
        ],
        "purchases": [
            {"on": p["on"], "amount": _money(p["amount"], p["currency"]), "kind": p["kind"]}
            for p in children.get(t.purchases.name, [])
        ],
        "missed_premiums": [
            {"due_date": m["due_date"], "amount": _money(m["amount"], m["currency"])}
            for m in children.get(t.missed_premiums.name, [])
        ],
    }
    return structure(data, Policy)


class SqlPolicies:
    """:class:`~insurcrm.domain.repositories.PolicyRepository` on SQL."""

    def __init__(self, conn: Connection, outbox: SqlOutbox) -> None:
        self._conn = conn
        self._outbox = outbox

    def _check_parties(self, policies: Sequence[Policy]) -> None:
        """Refuse policies naming a party that is not a stored customer (the first named,
        in order: policyholder, insured, beneficiaries)."""
        named = [
            [
                c
                for c in (
                    p.policyholder_id,
                    p.insured_id,
                    *(b.customer_id for b in p.beneficiaries),
                )
                if c is not None
            ]
            for p in policies
        ]
        known = existing(self._conn, t.customers, "id", (c for cs in named for c in cs))
        for customer_id in (c for cs in named for c in cs):
            if customer_id not in known:
                raise NotFound("customer", customer_id)

    def _number_taken(self, policy: Policy) -> bool:
        return _held_by_another(self._conn, t.policies, "number", policy.number, policy.id)

    def _write_children(self, policy: Policy) -> None:
        for table, rows in zip(_CHILDREN, _child_rows(policy).values(), strict=True):
            if rows:
                self._conn.execute(insert(table), rows)

    def add(self, policy: Policy) -> Policy:
        if policy.version != 0:
            raise _stale("policy", policy.id, policy.version)
        if _exists(self._conn, t.policies, policy.id):
            raise Duplicate("policy", policy.id)
        if self._number_taken(policy):
            raise Duplicate("policy number", policy.number)
        self._check_parties([policy])
        values = policy_values(policy)
        values["version"] = 1
        self._conn.execute(insert(t.policies), values)
        self._write_children(policy)
        self._outbox.record(policy.events)
        return _versioned(policy, 1)

    def add_many(self, policies: Iterable[Policy]) -> int:
        items = list(policies)
        if not items:
            return 0
        numbers = [p.number for p in items]

        def check() -> None:
            _check_new(self._conn, t.policies, items, "policy")
            taken = functools.partial(Duplicate, "policy number")
            _check_unique(self._conn, t.policies, "number", numbers, taken)
            self._check_parties(items)

        def write() -> None:
            tables = {table.name: table for table in (t.policies, *_CHILDREN)}
            for name, rows in policy_rows(items, self._conn.dialect.name).items():
                insert_rows(self._conn, tables[name], POLICY_COLUMNS[name], rows)

        _add_new(self._conn, "policy", items, _consistent(items, numbers), check, write)
        for p in items:
            self._outbox.record(p.events)
        return len(items)

    def _load(self, condition: ColumnElement[bool]) -> list[Policy]:
        rows = list(
            self._conn.execute(
                select(t.policies).where(condition).order_by(t.policies.c.id)
            ).mappings()
        )
        if not rows:
            return []
        ids = [r["id"] for r in rows]
        children: dict[str, dict[str, list[Mapping[Any, Any]]]] = {i: {} for i in ids}
        for table in _CHILDREN:
            query = (
                select(table)
                .where(table.c.policy_id.in_(ids))
                .order_by(table.c.policy_id, table.c.position)
            )
            for child in self._conn.execute(query).mappings():
                children[child["policy_id"]].setdefault(table.name, []).append(child)
        return [policy_from_rows(r, children[r["id"]]) for r in rows]

    def get(self, policy_id: str) -> Policy:
        found = self._load(t.policies.c.id == policy_id)
        if not found:
            raise NotFound("policy", policy_id)
        return found[0]

    def get_many(self, policy_ids: Iterable[str]) -> Sequence[Policy]:
        return _read_many(policy_ids, t.policies.c.id, self._load)

    def holders_among(self, policy_ids: Iterable[str]) -> dict[str, str]:
        return _column_by_id(self._conn, t.policies, "policyholder_id", policy_ids)

    def get_by_number(self, number: str) -> Policy:
        found = self._load(t.policies.c.number == number)
        if not found:
            raise NotFound("policy number", number)
        return found[0]

    def save(self, policy: Policy) -> Policy:
        if self._number_taken(policy):
            raise Duplicate("policy number", policy.number)
        self._check_parties([policy])
        values = policy_values(policy)
        values["version"] = policy.version + 1
        _update_versioned(self._conn, t.policies, "policy", policy.id, policy.version, values)
        for table in _CHILDREN:
            self._conn.execute(delete(table).where(table.c.policy_id == policy.id))
        self._write_children(policy)
        self._outbox.record(policy.events)
        return _versioned(policy, policy.version + 1)

    def _versions(self, ids: Sequence[str]) -> dict[str, int]:
        """The stored version of each policy of ``ids`` that is stored."""
        return _column_by_id(self._conn, t.policies, "version", ids)

    def save_many(self, policies: Iterable[Policy]) -> int:
        given = list(policies)
        if not given:
            return 0
        # Rows are locked in id order whatever the caller's, so two batches cannot deadlock.
        items = sorted(given, key=lambda p: p.id)
        ids = [p.id for p in items]
        c = t.policies.c
        stored = self._versions(ids)
        holders: dict[str, str] = {}
        numbers = [p.number for p in items]
        for start in range(0, len(items), BATCH):
            chunk = numbers[start : start + BATCH]
            holders.update(
                (n, i)
                for n, i in self._conn.execute(select(c.number, c.id).where(c.number.in_(chunk)))
            )
        seen: set[str] = set()
        for p in given:  # every check first, in the caller's order, so a refused batch
            if p.id not in stored:  # writes nothing and names what memory names
                raise NotFound("policy", p.id)
            if p.id in seen or stored[p.id] != p.version:
                raise _stale("policy", p.id, p.version)
            seen.add(p.id)
        taken: set[str] = set()
        for p in given:
            if holders.get(p.number, p.id) != p.id or p.number in taken:
                raise Duplicate("policy number", p.number)
            taken.add(p.number)
        self._check_parties(given)
        with self._conn.begin_nested():  # a write refused half-way is undone whole
            self._write_many(items, ids)
        for p in given:
            self._outbox.record(p.events)
        return len(given)

    def _write_many(self, items: Sequence[Policy], ids: Sequence[str]) -> None:
        """Write checked policies (in id order): their rows, each still at the version it
        was read at, and their parts."""
        c = t.policies.c
        updates = [
            {**policy_values(p), "version": p.version + 1, "b_id": p.id, "b_version": p.version}
            for p in items
        ]
        # One executemany; a writer that changed one meanwhile leaves its row unmatched.
        where = (c.id == bindparam("b_id"), c.version == bindparam("b_version"))
        updated = self._conn.execute(sql_update(t.policies).where(*where), updates).rowcount
        if updated != len(updates):
            raise ConcurrencyError(
                "policies: another writer changed one of the batch while it was saved"
            )
        for table in _CHILDREN:
            for start in range(0, len(ids), BATCH):
                chunk = ids[start : start + BATCH]
                self._conn.execute(delete(table).where(table.c.policy_id.in_(chunk)))
        tables = {table.name: table for table in _CHILDREN}
        for name, rows in policy_rows(items, self._conn.dialect.name).items():
            if name in tables:
                insert_rows(self._conn, tables[name], POLICY_COLUMNS[name], rows)

    def of_customer(self, customer_id: str) -> Sequence[Policy]:
        c = t.policies.c
        return self._load(or_(c.policyholder_id == customer_id, c.insured_id == customer_id))

    def naming_beneficiary(self, customer_id: str) -> Sequence[Policy]:
        named = select(t.beneficiaries.c.policy_id).where(
            t.beneficiaries.c.customer_id == customer_id
        )
        return self._load(t.policies.c.id.in_(named))

    def iterate(self) -> Iterator[Policy]:
        last: str | None = None
        while True:
            query = select(t.policies.c.id).order_by(t.policies.c.id).limit(BATCH)
            if last is not None:
                query = query.where(t.policies.c.id > last)
            ids = list(self._conn.execute(query).scalars())
            if not ids:
                return
            yield from self._load(t.policies.c.id.in_(ids))
            last = ids[-1]

    def iterate_by_holder(self) -> Iterator[tuple[str, Sequence[Policy]]]:
        c = t.policies.c
        last: str | None = None
        while True:  # BATCH policyholders a read, from the policyholder index
            query = select(c.policyholder_id).distinct().order_by(c.policyholder_id).limit(BATCH)
            if last is not None:
                query = query.where(c.policyholder_id > last)
            holders = list(self._conn.execute(query).scalars())
            if not holders:
                return
            held: dict[str, list[Policy]] = {holder: [] for holder in holders}
            for policy in self._load(c.policyholder_id.in_(holders)):  # by id
                held.setdefault(policy.policyholder_id, []).append(policy)
            yield from held.items()
            last = holders[-1]

    def count(self) -> int:
        return int(self._conn.execute(select(func.count()).select_from(t.policies)).scalar_one())


# -- households -------------------------------------------------------------------


class SqlHouseholds:
    """:class:`~insurcrm.domain.repositories.HouseholdRepository` on SQL."""

    def __init__(self, conn: Connection) -> None:
        self._conn = conn

    def add(self, household: Household) -> Household:
        if household.version != 0:
            raise _stale("household", household.id, household.version)
        if _exists(self._conn, t.households, household.id):
            raise Duplicate("household", household.id)
        self._conn.execute(
            insert(t.households), {"id": household.id, "label": household.label, "version": 1}
        )
        return Household(household.id, household.label, 1)

    def add_many(self, households: Iterable[Household]) -> int:
        items = list(households)
        if not items:
            return 0
        rows = [(h.id, h.label, 1) for h in items]
        _add_new(
            self._conn,
            "household",
            items,
            _consistent(items),
            lambda: _check_new(self._conn, t.households, items, "household"),
            lambda: insert_rows(self._conn, t.households, ("id", "label", "version"), rows),
        )
        return len(items)

    def get(self, household_id: str) -> Household:
        row = (
            self._conn.execute(select(t.households).where(t.households.c.id == household_id))
            .mappings()
            .first()
        )
        if row is None:
            raise NotFound("household", household_id)
        return Household(row["id"], row["label"], row["version"])

    def save(self, household: Household) -> Household:
        values = {"label": household.label, "version": household.version + 1}
        _update_versioned(
            self._conn, t.households, "household", household.id, household.version, values
        )
        return Household(household.id, household.label, household.version + 1)
