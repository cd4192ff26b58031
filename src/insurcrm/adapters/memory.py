"""The in-memory adapter: a transactional store in a Python dict.

For tests and for embedding without a database. It behaves like the SQL
adapter: writes are staged in the unit of work and applied at commit, after
checking that no other unit of work changed the same aggregates meanwhile.
Aggregates are immutable, so the store keeps them as they are.
"""

from __future__ import annotations

import datetime as dt
import functools
import threading
import uuid
from collections import Counter
from collections.abc import Callable, Collection, Iterable, Iterator, Sequence
from types import TracebackType
from typing import Any, Generic, Protocol, Self, TypeVar

import attrs

from insurcrm.dispatch import EventHandlers
from insurcrm.domain.assessment import (
    AssessmentConfig,
    AssessmentFigures,
    AssessmentWindows,
    book_figures,
)
from insurcrm.domain.churn import ChurnRecord
from insurcrm.domain.complaints import Complaint
from insurcrm.domain.customers import ID_NUMBER, Customer, Household, id_number_of, id_number_taken
from insurcrm.domain.events import DomainEvent
from insurcrm.domain.figure_batch import FigureBatch, figure_batches
from insurcrm.domain.interactions import Interaction
from insurcrm.domain.policies import Policy
from insurcrm.domain.repositories import OutboxEvent
from insurcrm.domain.satisfaction import PeriodCounts, SurveyResponse, period_counts
from insurcrm.domain.tier_membership import TierMembership
from insurcrm.domain.values import Email, Phone, ResidentId
from insurcrm.errors import ConcurrencyError, Duplicate, NotFound, StorageError

__all__ = ["MemoryStore", "MemoryUnitOfWork"]


class _Versioned(Protocol):
    @property
    def id(self) -> str: ...

    @property
    def version(self) -> int: ...


A = TypeVar("A", bound=_Versioned)


class _Record(_Versioned, Protocol):
    @property
    def customer_id(self) -> str: ...


R = TypeVar("R", bound=_Record)


class _UniqueKey(Generic[A]):
    """A second key that at most one committed item holds (a resident ID number, a policy
    number): its name, how to read it from an item (None: the item holds none), the error
    for a key another item holds, and which committed item holds each key, kept in step
    by every commit."""

    def __init__(
        self, name: str, key_of: Callable[[A], str | None], taken: Callable[[str], Exception]
    ) -> None:
        self.name = name
        self.key_of = key_of
        self.taken = taken
        self.holders: dict[str, str] = {}


class MemoryStore:
    """The committed state shared by every :class:`MemoryUnitOfWork` made from it.

    ``handlers`` are called with the events of each commit, after it.
    """

    def __init__(self, handlers: EventHandlers | None = None) -> None:
        self.lock = threading.Lock()
        self.handlers = handlers if handlers is not None else EventHandlers()
        self.customers: dict[str, Customer] = {}
        self.policies: dict[str, Policy] = {}
        self.households: dict[str, Household] = {}
        self.tiers: dict[str, TierMembership] = {}
        self.churns: dict[str, ChurnRecord] = {}
        self.complaints: dict[str, Complaint] = {}
        self.interactions: dict[str, Interaction] = {}
        self.surveys: dict[str, SurveyResponse] = {}
        #: The ids of each customer's committed records, by record kind (an index).
        self.owners: dict[str, dict[str, set[str]]] = {}
        #: How many committed units of work read each customer's churn records for update.
        self.churn_holds: Counter[str] = Counter()
        self.outbox: dict[str, OutboxEvent] = {}
        self.positions = 0
        self.id_numbers: _UniqueKey[Customer] = _UniqueKey(ID_NUMBER, id_number_of, id_number_taken)
        self.policy_numbers: _UniqueKey[Policy] = _UniqueKey(
            "policy number", _number, functools.partial(Duplicate, "policy number")
        )

    def unit_of_work(self) -> MemoryUnitOfWork:
        """A new unit of work over this store."""
        return MemoryUnitOfWork(self)


def stored_copy(item: A, version: int) -> A:
    """The copy a store hands back: the new version, no recorded events."""
    changes: dict[str, Any] = {"version": version}
    if hasattr(item, "events"):
        changes["events"] = ()
    new: A = attrs.evolve(item, **changes)  # type: ignore[misc]
    return new


class _Table(Generic[A]):
    """Staged writes over one committed dict.

    ``unique``, if given, is a second key items hold at most one of: :meth:`holder` says
    who holds a key as this unit of work sees it, :meth:`check_free` refuses an item whose
    key another holds (``add_many`` checks it, and repeats in the batch, itself), and a
    commit is refused when another unit of work committed an item holding a key staged
    here since. ``owners``, if given, indexes the committed items (records, which belong to
    one customer for good) by customer, for :meth:`of_owners` and :meth:`read_groups`.
    """

    def __init__(
        self,
        kind: str,
        committed: dict[str, A],
        record: Callable[[A], None],
        unique: _UniqueKey[A] | None = None,
        owners: dict[str, set[str]] | None = None,
    ) -> None:
        self.kind = kind
        self.committed = committed
        self.record = record
        self.unique = unique
        self.owners = owners
        self.staged: dict[str, A] = {}
        self.expected: dict[str, int] = {}
        self.staged_keys: dict[str, str] = {}  # unique key -> id, of the staged items
        self.groups: dict[str, frozenset[str]] = {}  # a customer's records read: their ids

    def holder(self, key: str) -> str | None:
        """The id of the item holding the unique ``key``, staged or committed (none once
        this unit of work has staged a change that gives it up)."""
        if key in self.staged_keys:
            return self.staged_keys[key]
        owner = self.unique.holders.get(key) if self.unique is not None else None
        return None if owner in self.staged else owner

    def check_free(self, item: A) -> None:
        """Refuse ``item`` when another item holds its unique key."""
        if self.unique is None:
            return
        key = self.unique.key_of(item)
        if key is not None and self.holder(key) not in (None, item.id):
            raise self.unique.taken(key)

    def _stage(self, item: A) -> None:
        if self.unique is not None:
            before = self.staged.get(item.id)
            old = self.unique.key_of(before) if before is not None else None
            if old is not None:
                del self.staged_keys[old]
            new = self.unique.key_of(item)
            if new is not None:
                self.staged_keys[new] = item.id
        self.staged[item.id] = item

    def current(self, key: str) -> A | None:
        return self.staged.get(key) or self.committed.get(key)

    def current_many(self, keys: Iterable[str]) -> list[A]:
        """The items among ``keys`` as this unit of work sees them, by key; a key not
        stored is left out."""
        found = (self.current(k) for k in sorted(set(keys)))
        return [item for item in found if item is not None]

    def values(self) -> list[A]:
        merged = {**self.committed, **self.staged}
        return [merged[k] for k in sorted(merged)]

    def add(self, item: A) -> A:
        if item.version != 0:
            raise ConcurrencyError(
                f"{self.kind} {item.id}: only a new aggregate (version 0) is added"
            )
        if self.current(item.id) is not None:
            raise Duplicate(self.kind, item.id)
        stored = stored_copy(item, 1)
        self.expected.setdefault(item.id, 0)
        self._stage(stored)
        self.record(item)
        return stored

    def add_many(self, items: Iterable[A], check: Callable[[A, set[str]], None]) -> int:
        """Add ``items`` as one batch: each is checked (new, not repeated, then ``check``
        with the ids before it) before any is staged, so a refused batch stages nothing."""
        batch = list(items)
        earlier: set[str] = set()
        keys: set[str] = set()  # the unique keys of the batch
        for item in batch:
            if item.version != 0:
                raise ConcurrencyError(
                    f"{self.kind} {item.id}: only a new aggregate (version 0) is added"
                )
            if item.id in earlier or self.current(item.id) is not None:
                raise Duplicate(self.kind, item.id)
            if self.unique is not None and (key := self.unique.key_of(item)) is not None:
                self.check_free(item)
                if key in keys:
                    raise self.unique.taken(key)
                keys.add(key)
            check(item, earlier)
            earlier.add(item.id)
        for item in batch:
            self.add(item)
        return len(batch)

    def _owners(self) -> dict[str, set[str]]:
        if self.owners is None:
            raise TypeError(f"{self.kind}: items not indexed by customer")
        return self.owners

    def read_groups(self, customer_ids: Iterable[str]) -> None:
        """Refuse this unit of work's commit when another commits, before it, a new item of
        one of the customers ``customer_ids``: one this unit of work's read of their items
        missed (as a database's serializable transaction refuses a phantom)."""
        owners = self._owners()
        new = set(customer_ids) - self.groups.keys()
        self.groups.update((c, frozenset(owners.get(c, ()))) for c in new)

    def of_owners(self, customer_ids: set[str]) -> list[A]:
        """The items of the customers ``customer_ids`` as this unit of work sees them, by
        id, from the index (no pass over the table)."""
        owners = self._owners()
        keys = {k for c in customer_ids for k in owners.get(c, ())}
        keys.update(
            k for k, i in self.staged.items() if getattr(i, "customer_id", "") in customer_ids
        )
        return self.current_many(keys)

    def read_as(self, item: A) -> None:
        """Refuse this unit of work's commit when ``item``, as read here, is changed by
        another unit of work before it (as a save of it would be)."""
        self.expected.setdefault(item.id, item.version)

    def get(self, key: str) -> A:
        item = self.current(key)
        if item is None:
            raise NotFound(self.kind, key)
        return item

    def save(self, item: A) -> A:
        stored = self.get(item.id)
        if stored.version != item.version:
            raise ConcurrencyError(
                f"{self.kind} {item.id}: saved from version {item.version}, "
                f"stored version is {stored.version}"
            )
        new = stored_copy(item, item.version + 1)
        self.expected.setdefault(item.id, item.version)
        self._stage(new)
        self.record(item)
        return new

    def check(self) -> None:
        for key, version in self.expected.items():
            now = self.committed.get(key)
            if (now.version if now is not None else 0) != version:
                raise ConcurrencyError(f"{self.kind} {key}: changed by another unit of work")
        for customer_id, seen in self.groups.items():  # a customer's records read
            if self.owners is not None and self.owners.get(customer_id, seen) - seen:
                raise ConcurrencyError(
                    f"customer {customer_id}: another unit of work stored a new "
                    f"{self.kind} of theirs since this one read them"
                )
        if self.unique is not None:
            for key, item_id in self.staged_keys.items():
                owner = self.unique.holders.get(key)
                if owner is not None and owner != item_id and owner not in self.staged:
                    raise ConcurrencyError(
                        f"{self.kind} {item_id}: another unit of work stored a "
                        f"{self.unique.name} it holds"
                    )

    def apply(self) -> None:
        if self.unique is not None:
            holders, key_of = self.unique.holders, self.unique.key_of
            for item_id in self.staged:
                before = self.committed.get(item_id)
                old = key_of(before) if before is not None else None
                if old is not None and holders.get(old) == item_id:
                    del holders[old]
            holders.update(self.staged_keys)
        if self.owners is not None:
            for item_id, item in self.staged.items():
                self.owners.setdefault(getattr(item, "customer_id", ""), set()).add(item_id)
        self.committed.update(self.staged)
        self.clear()

    def clear(self) -> None:
        self.staged.clear()
        self.expected.clear()
        self.staged_keys.clear()
        self.groups.clear()


_Tables = tuple[
    _Table[Customer],
    _Table[Policy],
    _Table[Household],
    _Table[TierMembership],
    _Table[ChurnRecord],
    _Table[Complaint],
    _Table[Interaction],
    _Table[SurveyResponse],
]


def _number(policy: Policy) -> str:
    return policy.number


class _Customers:
    def __init__(self, uow: MemoryUnitOfWork) -> None:
        self._uow = uow

    def _exists(self, customer: Customer) -> None:
        if customer.household_id is not None:
            self._uow.households.get(customer.household_id)
        if customer.referred_by is not None:
            self._uow.customers.get(customer.referred_by)

    def add(self, customer: Customer) -> Customer:
        table = self._uow.table_customers()
        if table.current(customer.id) is not None:
            raise Duplicate("customer", customer.id)
        table.check_free(customer)
        self._exists(customer)
        return table.add(customer)

    def add_many(self, customers: Iterable[Customer]) -> int:
        def check(c: Customer, earlier: set[str]) -> None:
            if c.household_id is not None:
                self._uow.households.get(c.household_id)
            if c.referred_by is not None and c.referred_by not in earlier:
                self.get(c.referred_by)

        return self._uow.table_customers().add_many(customers, check)

    def get(self, customer_id: str) -> Customer:
        return self._uow.table_customers().get(customer_id)

    def get_many(self, customer_ids: Iterable[str]) -> Sequence[Customer]:
        return self._uow.table_customers().current_many(customer_ids)

    def stored_among(self, customer_ids: Iterable[str]) -> set[str]:
        return {c.id for c in self.get_many(customer_ids)}

    def erased_among(self, customer_ids: Iterable[str]) -> dict[str, bool]:
        table = self._uow.table_customers()
        found = table.current_many(customer_ids)
        for customer in found:
            table.read_as(customer)  # a change meanwhile refuses the commit
        return {c.id: c.is_erased for c in found}

    def save(self, customer: Customer) -> Customer:
        table = self._uow.table_customers()
        table.get(customer.id)
        table.check_free(customer)
        self._exists(customer)
        return table.save(customer)

    def _where(self, test: Callable[[Customer], bool]) -> list[Customer]:
        return [
            c for c in self._uow.table_customers().values() if c.profile is not None and test(c)
        ]

    def find_by_id_number(self, id_number: ResidentId) -> Sequence[Customer]:
        return self._where(lambda c: c.profile is not None and c.profile.id_number == id_number)

    def find_by_phone(self, phone: Phone) -> Sequence[Customer]:
        def has(c: Customer) -> bool:
            p = c.profile
            return p is not None and phone in (p.mobile, p.work_phone, p.home_phone, p.work_fax)

        return self._where(has)

    def find_by_email(self, email: Email) -> Sequence[Customer]:
        return self._where(lambda c: c.profile is not None and c.profile.email == email)

    def find_by_name(self, name: str) -> Sequence[Customer]:
        return self._where(lambda c: c.profile is not None and c.profile.name.value == name)

    def in_household(self, household_id: str) -> Sequence[Customer]:
        return [c for c in self._uow.table_customers().values() if c.household_id == household_id]

    def referrals_of(self, customer_id: str) -> Sequence[Customer]:
        return [c for c in self._uow.table_customers().values() if c.referred_by == customer_id]

    def iterate(self) -> Iterator[Customer]:
        return iter(self._uow.table_customers().values())

    def count(self) -> int:
        return len(self._uow.table_customers().values())


class _Policies:
    def __init__(self, uow: MemoryUnitOfWork) -> None:
        self._uow = uow

    def _parties_exist(self, policy: Policy) -> None:
        self._uow.customers.get(policy.policyholder_id)
        self._uow.customers.get(policy.insured_id)
        for b in policy.beneficiaries:
            if b.customer_id is not None:
                self._uow.customers.get(b.customer_id)

    def add(self, policy: Policy) -> Policy:
        table = self._uow.table_policies()
        if table.current(policy.id) is not None:
            raise Duplicate("policy", policy.id)
        table.check_free(policy)
        self._parties_exist(policy)
        return table.add(policy)

    def add_many(self, policies: Iterable[Policy]) -> int:
        def check(p: Policy, earlier: set[str]) -> None:
            self._parties_exist(p)

        return self._uow.table_policies().add_many(policies, check)

    def get(self, policy_id: str) -> Policy:
        return self._uow.table_policies().get(policy_id)

    def get_many(self, policy_ids: Iterable[str]) -> Sequence[Policy]:
        return self._uow.table_policies().current_many(policy_ids)

    def holders_among(self, policy_ids: Iterable[str]) -> dict[str, str]:
        return {p.id: p.policyholder_id for p in self.get_many(policy_ids)}

    def get_by_number(self, number: str) -> Policy:
        table = self._uow.table_policies()
        holder = table.holder(number)
        if holder is None:
            raise NotFound("policy number", number)
        return table.get(holder)

    def save(self, policy: Policy) -> Policy:
        table = self._uow.table_policies()
        table.get(policy.id)
        table.check_free(policy)
        self._parties_exist(policy)
        return table.save(policy)

    def save_many(self, policies: Iterable[Policy]) -> int:
        table = self._uow.table_policies()
        batch = list(policies)
        seen: set[str] = set()
        numbers: set[str] = set()
        # Every check first, so a refused batch stages nothing; in the SQL adapter's order
        # (ids and versions, then numbers, then parties), so both name the same fault.
        for policy in batch:
            stored = table.get(policy.id)
            if policy.id in seen or stored.version != policy.version:
                raise ConcurrencyError(
                    f"policy {policy.id}: saved from version {policy.version}, "
                    "which is not the stored one"
                )
            seen.add(policy.id)
        for policy in batch:
            table.check_free(policy)
            if policy.number in numbers:
                raise Duplicate("policy number", policy.number)
            numbers.add(policy.number)
        for policy in batch:
            self._parties_exist(policy)
        for policy in batch:
            table.save(policy)
        return len(batch)

    def of_customer(self, customer_id: str) -> Sequence[Policy]:
        return [
            p
            for p in self._uow.table_policies().values()
            if customer_id in (p.policyholder_id, p.insured_id)
        ]

    def naming_beneficiary(self, customer_id: str) -> Sequence[Policy]:
        return [
            p
            for p in self._uow.table_policies().values()
            if any(b.customer_id == customer_id for b in p.beneficiaries)
        ]

    def iterate(self) -> Iterator[Policy]:
        return iter(self._uow.table_policies().values())

    def iterate_by_holder(self) -> Iterator[tuple[str, Sequence[Policy]]]:
        held: dict[str, list[Policy]] = {}
        for policy in self._uow.table_policies().values():  # by id
            held.setdefault(policy.policyholder_id, []).append(policy)
        return iter(sorted(held.items()))

    def count(self) -> int:
        return len(self._uow.table_policies().values())


class _Households:
    def __init__(self, uow: MemoryUnitOfWork) -> None:
        self._uow = uow

    def add(self, household: Household) -> Household:
        return self._uow.table_households().add(household)

    def add_many(self, households: Iterable[Household]) -> int:
        return self._uow.table_households().add_many(households, lambda h, earlier: None)

    def get(self, household_id: str) -> Household:
        return self._uow.table_households().get(household_id)

    def save(self, household: Household) -> Household:
        return self._uow.table_households().save(household)


class _Tiers:
    def __init__(self, uow: MemoryUnitOfWork) -> None:
        self._uow = uow

    def add(self, membership: TierMembership) -> TierMembership:
        self._uow.customers.get(membership.customer_id)
        return self._uow.table_tiers().add(membership)

    def add_many(self, memberships: Iterable[TierMembership]) -> int:
        def check(m: TierMembership, _earlier: set[str]) -> None:
            self._uow.customers.get(m.customer_id)

        return self._uow.table_tiers().add_many(memberships, check)

    def get(self, customer_id: str) -> TierMembership:
        return self._uow.table_tiers().get(customer_id)

    def find(self, customer_id: str) -> TierMembership | None:
        return self._uow.table_tiers().current(customer_id)

    def save(self, membership: TierMembership) -> TierMembership:
        return self._uow.table_tiers().save(membership)

    def of_customers(self, customer_ids: Iterable[str]) -> list[TierMembership]:
        return self._uow.table_tiers().current_many(customer_ids)

    def iterate(self) -> Iterator[TierMembership]:
        return iter(self._uow.table_tiers().values())

    def count_by_tier(self) -> dict[str, int]:
        return dict(Counter(m.tier for m in self._uow.table_tiers().values()))


def _copy(record: R) -> R:
    """A copy for the caller (a survey response's answers are a dict: copied too)."""
    new: R = attrs.evolve(record)  # type: ignore[misc]
    return new


class _Records(Generic[R]):
    """One kind of customer-service record, kept with its customer, listed by (day, id)."""

    def __init__(
        self,
        uow: MemoryUnitOfWork,
        table: Callable[[], _Table[R]],
        day: Callable[[R], dt.date],
    ) -> None:
        self._uow = uow
        self._table = table
        self._day = day

    def _sorted(self, test: Callable[[R], bool]) -> list[R]:
        found = [_copy(r) for r in self._table().values() if test(r)]
        return sorted(found, key=lambda r: (self._day(r), r.id))

    def add(self, record: R) -> R:
        table = self._table()
        if record.version == 0 and table.current(record.id) is None:
            self._uow.customers.get(record.customer_id)
        return _copy(table.add(record))

    def add_many(self, records: Iterable[R]) -> int:
        def check(record: R, _earlier: set[str]) -> None:
            self._uow.customers.get(record.customer_id)

        return self._table().add_many(records, check)

    def get(self, record_id: str) -> R:
        return _copy(self._table().get(record_id))

    def get_many(self, record_ids: Iterable[str]) -> Sequence[R]:
        return [_copy(r) for r in self._table().current_many(record_ids)]

    def save(self, record: R) -> R:
        table = self._table()
        table.get(record.id)
        self._uow.customers.get(record.customer_id)
        return _copy(table.save(record))

    def _of(self, customer_ids: set[str]) -> list[R]:
        table = self._table()
        # a record of theirs another unit of work commits before this one is a conflict
        table.read_groups(customer_ids)
        found = [_copy(r) for r in table.of_owners(customer_ids)]
        return sorted(found, key=lambda r: (self._day(r), r.id))

    def of_customer(self, customer_id: str) -> Sequence[R]:
        return self._of({customer_id})

    def of_customers(self, customer_ids: Iterable[str]) -> Sequence[R]:
        found = self._of(set(customer_ids))
        return sorted(found, key=lambda r: r.customer_id)  # by day then id within each

    def iterate(self) -> Iterator[R]:
        return iter(self._sorted(lambda r: True))

    def count(self) -> int:
        return len(self._table().values())


class _Churns(_Records[ChurnRecord]):
    def of_customers_for_update(self, customer_ids: Iterable[str]) -> Sequence[ChurnRecord]:
        ids = set(customer_ids)
        self._uow.hold(ids)
        return self.of_customers(ids)


class _Surveys(_Records[SurveyResponse]):
    def in_survey(self, survey_id: str) -> Sequence[SurveyResponse]:
        return self._sorted(lambda r: r.survey_id == survey_id)


class _Outbox:
    def __init__(self, uow: MemoryUnitOfWork) -> None:
        self._uow = uow

    def pending(
        self, limit: int = 100, after: int = 0, kinds: Collection[str] | None = None
    ) -> Sequence[OutboxEvent]:
        self._uow.check_active()
        marked = self._uow.marked
        found = sorted(
            (
                e
                for e in self._uow.store.outbox.values()
                if not e.delivered
                and e.position > after
                and e.id not in marked
                and (kinds is None or e.kind in kinds)
            ),
            key=lambda e: e.position,
        )
        return found[:limit]

    def mark_delivered(self, ids: Iterable[str]) -> None:
        self._uow.check_active()
        self._uow.marked.update(ids)

    def count_pending(self) -> int:
        return len(self.pending(limit=len(self._uow.store.outbox) + 1))


class _Portfolio:
    def __init__(self, uow: MemoryUnitOfWork) -> None:
        self._uow = uow

    def figures(
        self, windows: AssessmentWindows, config: AssessmentConfig
    ) -> Iterator[AssessmentFigures]:
        uow = self._uow
        return book_figures(
            uow.table_customers().values(),
            uow.table_policies().values(),
            uow.table_churns().values(),
            uow.table_tiers().values(),
            windows,
            config,
            complaints=uow.table_complaints().values(),
            interactions=uow.table_interactions().values(),
            responses=uow.table_surveys().values(),
        )

    def figure_batches(
        self, windows: AssessmentWindows, config: AssessmentConfig, size: int
    ) -> Iterator[FigureBatch]:
        return figure_batches(self.figures(windows, config), size)

    def period_counts(self, windows: AssessmentWindows) -> PeriodCounts:
        uow = self._uow
        return period_counts(
            windows.period_start,
            windows.as_of,
            uow.table_surveys().values(),
            uow.table_churns().values(),
        )


class MemoryUnitOfWork:
    """A unit of work over a :class:`MemoryStore`.

    See :class:`~insurcrm.domain.unit_of_work.UnitOfWork` for the behaviour.
    """

    def __init__(self, store: MemoryStore | None = None) -> None:
        self.store = store if store is not None else MemoryStore()
        self._tables: _Tables | None = None
        self.customers = _Customers(self)
        self.policies = _Policies(self)
        self.households = _Households(self)
        self.tiers = _Tiers(self)
        self.churns = _Churns(self, self.table_churns, lambda r: r.on)
        self.complaints = _Records(self, self.table_complaints, lambda r: r.received_on)
        self.interactions = _Records(self, self.table_interactions, lambda r: r.on)
        self.surveys = _Surveys(self, self.table_surveys, lambda r: r.on)
        self.outbox = _Outbox(self)
        self.portfolio = _Portfolio(self)
        self.recorded: list[DomainEvent] = []
        self.marked: set[str] = set()
        self.held: dict[str, int] = {}  # customers whose churn records are read for update

    def _active(self) -> _Tables:
        if self._tables is None:
            raise StorageError("use the unit of work inside a `with` block")
        return self._tables

    def _record(self, item: object) -> None:
        self.recorded.extend(getattr(item, "events", ()))

    def hold(self, customer_ids: Iterable[str]) -> None:
        """Refuse this unit of work's commit when another that read any of these customers'
        churn records for update commits before it (as PostgreSQL's lock on the customer
        makes the second wait, and then see what the first added)."""
        self._active()
        for customer_id in customer_ids:
            self.held.setdefault(customer_id, self.store.churn_holds[customer_id])

    def check_active(self) -> None:
        """Refuse use outside a ``with`` block."""
        self._active()

    def table_customers(self) -> _Table[Customer]:
        return self._active()[0]

    def table_policies(self) -> _Table[Policy]:
        return self._active()[1]

    def table_households(self) -> _Table[Household]:
        return self._active()[2]

    def table_tiers(self) -> _Table[TierMembership]:
        return self._active()[3]

    def table_churns(self) -> _Table[ChurnRecord]:
        return self._active()[4]

    def table_complaints(self) -> _Table[Complaint]:
        return self._active()[5]

    def table_interactions(self) -> _Table[Interaction]:
        return self._active()[6]

    def table_surveys(self) -> _Table[SurveyResponse]:
        return self._active()[7]

    def _records_table(self, kind: str, committed: dict[str, R]) -> _Table[R]:
        """The table of one kind of record, with the store's index of it by customer."""
        owners = self.store.owners.setdefault(kind, {})
        return _Table(kind, committed, self._record, owners=owners)

    def __enter__(self) -> Self:
        if self._tables is not None:
            raise StorageError("this unit of work is already in a `with` block")
        self._tables = (
            _Table("customer", self.store.customers, self._record, self.store.id_numbers),
            _Table("policy", self.store.policies, self._record, self.store.policy_numbers),
            _Table("household", self.store.households, self._record),
            _Table("tier membership", self.store.tiers, self._record),
            self._records_table("churn record", self.store.churns),
            self._records_table("complaint", self.store.complaints),
            self._records_table("interaction", self.store.interactions),
            self._records_table("survey response", self.store.surveys),
        )
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.rollback()
        self._tables = None

    def commit(self) -> None:
        tables = self._active()
        store = self.store
        with store.lock:
            try:
                for table in tables:
                    table.check()
                self._check_holds()
            except ConcurrencyError:
                self.rollback()
                raise
            for table in tables:
                table.apply()
            store.churn_holds.update(self.held.keys())
            self.held.clear()
            stored = []
            for event in self.recorded:
                store.positions += 1
                item = OutboxEvent(str(uuid.uuid4()), store.positions, event)
                store.outbox[item.id] = item
                stored.append(item)
            for key in self.marked:
                if key in store.outbox:
                    store.outbox[key] = attrs.evolve(store.outbox[key], delivered=True)
            self.recorded.clear()
            self.marked.clear()
        delivered = store.handlers.deliver(stored) if stored else []
        if delivered:
            with store.lock:
                for key in delivered:
                    store.outbox[key] = attrs.evolve(store.outbox[key], delivered=True)

    def _check_holds(self) -> None:
        for customer_id, seen in self.held.items():
            if self.store.churn_holds[customer_id] != seen:
                raise ConcurrencyError(
                    f"customer {customer_id}: another unit of work that read their churn "
                    "records for update committed since this one read them"
                )

    def rollback(self) -> None:
        for table in self._active():
            table.clear()
        self.recorded.clear()
        self.marked.clear()
        self.held.clear()
