"""Repository ports (仓储接口): how the domain asks for and hands back its aggregates.

Adapters implement these protocols (memory, SQLite, PostgreSQL, or your own;
:mod:`insurcrm.testing.contracts` checks any implementation). Every adapter
behaves the same way:

* ``add`` stores a new aggregate (its ``version`` must be 0) and returns the
  stored copy with ``version`` 1; an id already used raises
  :class:`~insurcrm.errors.Duplicate`.
* ``get`` returns the aggregate or raises :class:`~insurcrm.errors.NotFound`.
* ``save`` stores a changed aggregate whose ``version`` is the stored one and
  returns the copy with ``version + 1``; a stale copy raises
  :class:`~insurcrm.errors.ConcurrencyError` and changes nothing.
* Lookups by personal data (ID number, phone, email, name) never find an
  erased customer.
* The domain events an added or saved aggregate recorded go to the unit of
  work's outbox in the same transaction; the returned copy has none.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Iterator, Sequence
from typing import Protocol, TypeVar

import attrs

from insurcrm.domain.assessment import AssessmentConfig, AssessmentFigures, AssessmentWindows
from insurcrm.domain.churn import ChurnRecord
from insurcrm.domain.complaints import Complaint
from insurcrm.domain.customers import Customer, Household
from insurcrm.domain.events import DomainEvent
from insurcrm.domain.figure_batch import FigureBatch
from insurcrm.domain.interactions import Interaction
from insurcrm.domain.policies import Policy
from insurcrm.domain.satisfaction import PeriodCounts, SurveyResponse
from insurcrm.domain.tier_membership import TierMembership
from insurcrm.domain.values import Email, Phone, ResidentId

__all__ = [
    "ChurnRecordRepository",
    "CustomerRepository",
    "HouseholdRepository",
    "Outbox",
    "OutboxEvent",
    "PolicyRepository",
    "PortfolioReader",
    "RecordRepository",
    "ServiceRecord",
    "SurveyResponseRepository",
    "TierMembershipRepository",
]


class CustomerRepository(Protocol):
    """Stores customers (客户): one customer a person, so no two stored customers hold the
    same resident ID number (customers without one are not compared)."""

    def add(self, customer: Customer) -> Customer:
        """Store a new customer; returns it with version 1.

        Raises:
            Duplicate: the id is taken, or another customer holds its resident ID number
                (kind ``resident ID number``, the number masked).
            NotFound: its household or referrer does not exist.
        """
        ...

    def add_many(self, customers: Iterable[Customer]) -> int:
        """Store many new customers at once (the bulk path); returns how many.

        The same as :meth:`add` for each in order — a referrer must be stored or
        come earlier — but checked and written as one batch: when it is refused,
        nothing of it is stored.

        Raises:
            Duplicate: an id is taken or repeated, or a resident ID number is held by
                another customer or repeated.
            NotFound: a household or referrer does not exist.
        """
        ...

    def get(self, customer_id: str) -> Customer:
        """The customer with this id.

        Raises:
            NotFound: no such customer.
        """
        ...

    def get_many(self, customer_ids: Iterable[str]) -> Sequence[Customer]:
        """The stored customers among ``customer_ids`` (erased ones too), by id; an id not
        stored is left out. One read for a batch where :meth:`get` reads one customer."""
        ...

    def stored_among(self, customer_ids: Iterable[str]) -> set[str]:
        """The ids among ``customer_ids`` of stored customers (erased ones too). One light
        read for a batch that, unlike :meth:`erased_among`, holds nothing: for telling new
        rows from stored ones."""
        ...

    def erased_among(self, customer_ids: Iterable[str]) -> dict[str, bool]:
        """Each stored customer among ``customer_ids``, by id, with whether they were
        erased (§10.4); an id not stored is left out. One light read for a batch (no card
        is built), for checks that need to know only that.

        What it says holds until the unit of work ends: a customer it read cannot be
        erased (or otherwise changed) by another writer in between unnoticed, so a record
        stored after the check keeps no text of a customer erased meanwhile. Either the
        other writer waits for this unit of work (PostgreSQL: the rows are read ``FOR
        SHARE``), or this unit of work's first write or commit raises
        :class:`~insurcrm.errors.ConcurrencyError` (SQLite: its read snapshot is stale;
        memory: the customers read are checked at commit), and a try again sees the
        change."""
        ...

    def save(self, customer: Customer) -> Customer:
        """Store a changed customer; returns it with its version bumped.

        Raises:
            ConcurrencyError: the customer was changed since it was read (or another
                writer stored its resident ID number meanwhile).
            Duplicate: another customer holds its resident ID number.
            NotFound: no such customer, or its household or referrer is unknown.
        """
        ...

    def find_by_id_number(self, id_number: ResidentId) -> Sequence[Customer]:
        """The customer with this resident ID number, if any (at most one: erased
        customers hold none)."""
        ...

    def find_by_phone(self, phone: Phone) -> Sequence[Customer]:
        """Customers with this number as mobile, work, home phone or fax."""
        ...

    def find_by_email(self, email: Email) -> Sequence[Customer]:
        """Customers with this email address."""
        ...

    def find_by_name(self, name: str) -> Sequence[Customer]:
        """Customers whose name is exactly ``name``."""
        ...

    def in_household(self, household_id: str) -> Sequence[Customer]:
        """The members of a household, by id."""
        ...

    def referrals_of(self, customer_id: str) -> Sequence[Customer]:
        """The customers this customer referred (``referred_by`` is them), by id."""
        ...

    def iterate(self) -> Iterator[Customer]:
        """Every customer, by id; streams rather than loading all at once."""
        ...

    def count(self) -> int:
        """How many customers are stored (erased stubs included)."""
        ...


class PolicyRepository(Protocol):
    """Stores policies (保单)."""

    def add(self, policy: Policy) -> Policy:
        """Store a new policy; returns it with version 1.

        Raises:
            Duplicate: the id or the policy number is taken.
            NotFound: the policyholder or the insured is not a stored customer.
        """
        ...

    def add_many(self, policies: Iterable[Policy]) -> int:
        """Store many new policies at once (the bulk path); returns how many.

        The same as :meth:`add` for each in order, checked and written as one batch:
        when it is refused, nothing of it is stored.

        Raises:
            Duplicate: an id or policy number is taken or repeated.
            NotFound: a party is not a stored customer.
        """
        ...

    def get(self, policy_id: str) -> Policy:
        """The policy with this id.

        Raises:
            NotFound: no such policy.
        """
        ...

    def get_many(self, policy_ids: Iterable[str]) -> Sequence[Policy]:
        """The stored policies among ``policy_ids``, by id; an id not stored is left out.
        One read for a batch where :meth:`get` reads one policy."""
        ...

    def holders_among(self, policy_ids: Iterable[str]) -> dict[str, str]:
        """The policyholder of each stored policy among ``policy_ids``, by policy id; an id
        not stored is left out. One light read for a batch (no history, no purchases) that
        holds nothing: for telling new rows from stored ones, and whose a policy is."""
        ...

    def get_by_number(self, number: str) -> Policy:
        """The policy with this policy number.

        Raises:
            NotFound: no such policy.
        """
        ...

    def save(self, policy: Policy) -> Policy:
        """Store a changed policy; returns it with its version bumped.

        Raises:
            ConcurrencyError: the policy was changed since it was read.
            NotFound: no such policy.
        """
        ...

    def save_many(self, policies: Iterable[Policy]) -> int:
        """Store many changed policies at once (a batch read with :meth:`get_many`);
        returns how many.

        The same as :meth:`save` for each, checked as one batch before any is written,
        in this order: every policy's id and version, then every policy number (against
        the numbers stored before the batch, so a number moved from one policy of the
        batch to another is refused: save those one by one), then every party. When it is
        refused, nothing of it is stored, also when a writer that changed one of them
        meanwhile is found only while writing.

        Raises:
            ConcurrencyError: a policy was changed since it was read, or is in the batch
                twice.
            NotFound: no such policy, or a party is not a stored customer.
            Duplicate: a policy number is held by another policy or repeated.
        """
        ...

    def of_customer(self, customer_id: str) -> Sequence[Policy]:
        """Policies where the customer is policyholder or insured, by id."""
        ...

    def naming_beneficiary(self, customer_id: str) -> Sequence[Policy]:
        """Policies naming the customer as a beneficiary, by id."""
        ...

    def iterate(self) -> Iterator[Policy]:
        """Every policy, by id; streams rather than loading all at once."""
        ...

    def iterate_by_holder(self) -> Iterator[tuple[str, Sequence[Policy]]]:
        """Every policyholder's id with the policies they hold (ours and other insurers'),
        by id, one policyholder at a time, by policyholder id (in the store's order);
        streams rather than loading all at once, for a rule over the whole book that reads
        a customer's policies together (:func:`~insurcrm.services.churn.detect_churn`)."""
        ...

    def count(self) -> int:
        """How many policies are stored."""
        ...


class HouseholdRepository(Protocol):
    """Stores households (家庭)."""

    def add(self, household: Household) -> Household:
        """Store a new household; returns it with version 1.

        Raises:
            Duplicate: the id is taken.
        """
        ...

    def add_many(self, households: Iterable[Household]) -> int:
        """Store many new households at once; returns how many.

        Raises:
            Duplicate: an id is taken or repeated.
        """
        ...

    def get(self, household_id: str) -> Household:
        """The household with this id.

        Raises:
            NotFound: no such household.
        """
        ...

    def save(self, household: Household) -> Household:
        """Store a changed household; returns it with its version bumped.

        Raises:
            ConcurrencyError: the household was changed since it was read.
            NotFound: no such household.
        """
        ...


class TierMembershipRepository(Protocol):
    """Stores each customer's tier membership and its history (§6)."""

    def add(self, membership: TierMembership) -> TierMembership:
        """Store a new membership; returns it with version 1.

        Raises:
            Duplicate: the customer already has one.
            NotFound: no such customer.
        """
        ...

    def add_many(self, memberships: Iterable[TierMembership]) -> int:
        """Store many new memberships at once (the bulk path: a first tier review enrols
        every customer); returns how many.

        The same as :meth:`add` for each, checked and written as one batch: when it is
        refused, nothing of it is stored.

        Raises:
            ConcurrencyError: a membership is not new (version 0).
            Duplicate: a customer already has one, or appears twice.
            NotFound: no such customer.
        """
        ...

    def get(self, customer_id: str) -> TierMembership:
        """The membership of this customer.

        Raises:
            NotFound: the customer has no membership yet.
        """
        ...

    def find(self, customer_id: str) -> TierMembership | None:
        """The membership of this customer, or None before their first evaluation."""
        ...

    def save(self, membership: TierMembership) -> TierMembership:
        """Store a changed membership; returns it with its version bumped.

        Raises:
            ConcurrencyError: the membership was changed since it was read.
            NotFound: no such membership.
        """
        ...

    def of_customers(self, customer_ids: Iterable[str]) -> Sequence[TierMembership]:
        """The memberships of those of ``customer_ids`` who have one, by customer id (a
        batch's memberships in a few statements; ids without one are left out)."""
        ...

    def iterate(self) -> Iterator[TierMembership]:
        """Every membership, by customer id; streams rather than loading all at once."""
        ...

    def count_by_tier(self) -> dict[str, int]:
        """How many customers hold each tier (tiers nobody holds are left out)."""
        ...


#: The customer-service records (§3, §7–§9): each has an ``id``, a ``customer_id``, a
#: day and a ``version``, and is kept with its customer (erased with them).
ServiceRecord = TypeVar("ServiceRecord", ChurnRecord, Complaint, Interaction, SurveyResponse)


class RecordRepository(Protocol[ServiceRecord]):
    """Stores one kind of customer-service record: churn records (``uow.churns``),
    complaints (``uow.complaints``), interactions (``uow.interactions``) or survey
    responses (``uow.surveys``).

    Each record's day is its ``on`` (a churn, a contact, an answer) or, for a
    complaint, its ``received_on``.
    """

    def add(self, record: ServiceRecord) -> ServiceRecord:
        """Store a new record; returns it with version 1.

        Raises:
            Duplicate: the id is taken.
            NotFound: no customer ``record.customer_id``.
        """
        ...

    def add_many(self, records: Iterable[ServiceRecord]) -> int:
        """Store many new records as one batch (the bulk path); returns how many.

        Each is checked as :meth:`add` checks it, before any is stored, so a refused
        batch stores nothing.

        Raises:
            ConcurrencyError: a record is not new (its version is not 0).
            Duplicate: an id is taken, or repeated in the batch.
            NotFound: no customer ``record.customer_id`` for some record.
        """
        ...

    def get(self, record_id: str) -> ServiceRecord:
        """The record with this id.

        Raises:
            NotFound: no such record.
        """
        ...

    def get_many(self, record_ids: Iterable[str]) -> Sequence[ServiceRecord]:
        """The stored records among ``record_ids``, by id; an id not stored is left out.
        One read for a batch where :meth:`get` reads one record."""
        ...

    def save(self, record: ServiceRecord) -> ServiceRecord:
        """Store a changed record; returns it with its version bumped.

        Raises:
            ConcurrencyError: the record was changed since it was read.
            NotFound: no such record.
        """
        ...

    def of_customer(self, customer_id: str) -> Sequence[ServiceRecord]:
        """The customer's records, by day then id (none for an unknown customer)."""
        ...

    def of_customers(self, customer_ids: Iterable[str]) -> Sequence[ServiceRecord]:
        """The records of the customers among ``customer_ids``, by customer, then day, then
        id (as Python orders them, on any collation). A few statements for a batch where
        :meth:`of_customer` reads one customer's."""
        ...

    def iterate(self) -> Iterator[ServiceRecord]:
        """Every record, by day then id; streams rather than loading all at once."""
        ...

    def count(self) -> int:
        """How many records are stored."""
        ...


class ChurnRecordRepository(RecordRepository[ChurnRecord], Protocol):
    """Stores churn records (§7.1). A customer churns once at a time: no two records of a
    customer are open on a same day (:meth:`~insurcrm.domain.churn.ChurnRecord.open_with`),
    which a writer checks against the records it reads with :meth:`of_customers_for_update`."""

    def of_customers_for_update(self, customer_ids: Iterable[str]) -> Sequence[ChurnRecord]:
        """The churn records of the customers among ``customer_ids``, as
        :meth:`~RecordRepository.of_customers` gives them, read to add a record of theirs.

        What it reads holds until the unit of work ends: another writer cannot add a record
        of these customers in between unnoticed, so a record checked against them and then
        added overlaps none. Either the other writer waits for this unit of work and then
        reads what it added (PostgreSQL: the customers' rows are locked ``FOR NO KEY
        UPDATE``, in id order, before the records are read), or this unit of work's first
        write or commit raises :class:`~insurcrm.errors.ConcurrencyError` (SQLite: its read
        snapshot is stale; memory: the customers' records are checked at commit). Call it
        before other reads of these customers (such as
        :meth:`CustomerRepository.erased_among`), so that two writers take their locks in
        one order."""
        ...


class SurveyResponseRepository(RecordRepository[SurveyResponse], Protocol):
    """Stores survey responses (§3)."""

    def in_survey(self, survey_id: str) -> Sequence[SurveyResponse]:
        """The responses to one survey, by day then id."""
        ...


class PortfolioReader(Protocol):
    """Reads the whole portfolio for an assessment (§10.1), aggregated where the data is."""

    def figures(
        self, windows: AssessmentWindows, config: AssessmentConfig
    ) -> Iterator[AssessmentFigures]:
        """Every customer's assessment figures as of ``windows.as_of``, in customer id
        order, streamed (never the whole book in memory at once on the SQL backends)."""
        ...

    def figure_batches(
        self, windows: AssessmentWindows, config: AssessmentConfig, size: int
    ) -> Iterator[FigureBatch]:
        """The figures of :meth:`figures`, in batches of ``size`` customers as columns (day
        numbers and cents): what the portfolio engine reads."""
        ...

    def period_counts(self, windows: AssessmentWindows) -> PeriodCounts:
        """The satisfaction indicators over the survey responses and churn records of the
        churn period ``(windows.period_start, windows.as_of]``."""
        ...


@attrs.frozen
class OutboxEvent:
    """A domain event as kept in the outbox.

    Attributes:
        id: unique for ever (a UUID): consumers de-duplicate on it, since
            delivery is at least once.
        position: the order events were stored in (increasing, with gaps).
        event: the domain event.
        delivered: whether it was marked delivered.
    """

    id: str
    position: int
    event: DomainEvent
    delivered: bool = False

    @property
    def kind(self) -> str:
        """The event's class name, e.g. ``"TierUpgraded"``."""
        return type(self.event).__name__


class Outbox(Protocol):
    """The events stored by committed units of work, for at-least-once delivery."""

    def pending(
        self, limit: int = 100, after: int = 0, kinds: Collection[str] | None = None
    ) -> Sequence[OutboxEvent]:
        """Up to ``limit`` undelivered events with a position above ``after``, oldest first;
        only those whose class name is in ``kinds`` when given."""
        ...

    def mark_delivered(self, ids: Iterable[str]) -> None:
        """Mark these events delivered (part of this unit of work; unknown ids are ignored)."""
        ...

    def count_pending(self) -> int:
        """How many events are not yet delivered."""
        ...
