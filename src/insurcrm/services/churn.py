"""Churn, early warning and win-back through a unit of work (DOMAIN.md §7).

* :func:`end_policy` ends a policy and, when it was the policyholder's last policy of
  ours in force, records their churn automatically, in the same transaction.
* :func:`detect_churn` does the same for the whole book as of a date (for policies
  ended elsewhere, e.g. by an import), and closes the churn records of customers who
  have a policy in force again (won back). Idempotent.
* :func:`record_churn` and :func:`analyse_churn` record a churn by hand, and its
  structure and causes once analysed.
* :func:`churn_rates_for`, :func:`early_warnings` and :func:`win_back_queue` report.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable, Iterator, Sequence
from decimal import Decimal

import attrs

from insurcrm.domain.assessment import (
    AssessmentConfig,
    AssessmentFigures,
    AssessmentWindows,
    open_churn,
    recovery_of,
    warning_figures_of,
)
from insurcrm.domain.churn import (
    ChurnCause,
    ChurnRates,
    ChurnRecord,
    ChurnStructure,
    churn_on,
    churn_rates,
    customers_in_force,
)
from insurcrm.domain.complaints import Complaint
from insurcrm.domain.early_warning import (
    EarlyWarning,
    WarningConfig,
    WarningLevel,
    early_warning,
    early_warning_from,
)
from insurcrm.domain.future_value import (
    FutureValueConfig,
    RenewalModel,
    win_back_factor,
    win_back_value,
)
from insurcrm.domain.interactions import Interaction
from insurcrm.domain.policies import EndReason, Policy, PolicyStatus
from insurcrm.domain.recovery import RecoveryConfig, RecoveryDecision, decide_recovery
from insurcrm.domain.satisfaction import SurveyResponse
from insurcrm.domain.unit_of_work import UnitOfWork
from insurcrm.errors import ConcurrencyError, RuleViolation
from insurcrm.services.assessment import read_figures
from insurcrm.services.book import ServiceBook
from insurcrm.services.customers import is_erased
from insurcrm.services.progress import Progress

__all__ = [
    "ChurnScan",
    "WinBack",
    "analyse_churn",
    "churn_rates_for",
    "detect_churn",
    "early_warnings",
    "end_policy",
    "queue_order",
    "record_churn",
    "report_figures",
    "warning_order",
    "warnings_in",
    "warnings_of",
    "win_back_config",
    "win_back_queue",
    "win_backs_in",
    "win_backs_of",
]


def end_policy(
    uow: UnitOfWork,
    policy_id: str,
    to: PolicyStatus,
    on: dt.date,
    reason: EndReason | None = None,
) -> tuple[Policy, ChurnRecord | None]:
    """End a policy in force (lapse, surrender, maturity, cancellation, claim) and, when
    no other policy of ours of the policyholder is in force, record their churn — in one
    transaction.

    Returns:
        The stored policy and the churn record made (None when the customer still has
        a policy in force, already has an open churn record, or one open on a day the
        new one would be, or already churned that day).

    The policyholder's churn records are read for update before the policy is written and
    their policies are read
    (:meth:`~insurcrm.domain.repositories.ChurnRecordRepository.of_customers_for_update`),
    so two of their policies ended at once by two writers cannot each see the other still
    in force: the second waits and sees the first ended, or gets ``ConcurrencyError``.

    Raises:
        ConcurrencyError: another writer changed the policy meanwhile, or ended another
            policy of the policyholder or recorded their churn (SQLite, memory; PostgreSQL
            makes the second wait), or PostgreSQL found a deadlock with another writer:
            run it again.
        NotFound: no such policy.
        RuleViolation: the move is not a legal transition.
    """
    with uow:
        ended = uow.policies.get(policy_id).transition(to, on, reason)
        holder = ended.policyholder_id
        known = uow.churns.of_customers_for_update([holder])  # before writing or reading policies
        policy = uow.policies.save(ended)
        record = churn_on(holder, uow.policies.of_customer(holder), on)
        stored = None
        if record is not None and not any(_covers(r, record) for r in known):
            stored = uow.churns.add(record)
        uow.commit()
    return policy, stored


def _covers(known: ChurnRecord, due: ChurnRecord) -> bool:
    """Whether a stored record of the customer leaves no room for the automatic churn
    ``due`` (open from its day on): it is open on a day ``due`` is (a customer churns once
    at a time; any record still open is), or it is that churn (its day or its id), won
    back that same day."""
    return known.open_with(due) or known.on == due.on or known.id == due.id


def record_churn(
    uow: UnitOfWork,
    customer_id: str,
    on: dt.date,
    structure: ChurnStructure | None = None,
    causes: Iterable[ChurnCause] = (),
    notes: str | None = None,
) -> ChurnRecord:
    """Record a churn by hand (the customer moved their business elsewhere).

    A customer churns once at a time: the new record, open from ``on``, may not be open
    on a day another of theirs is (as an import of churn records refuses it too).

    Raises:
        ConcurrencyError: another writer recorded a churn of the customer meanwhile
            (SQLite, memory; PostgreSQL waits for it): run it again.
        NotFound: no such customer.
        RuleViolation: the customer already has an open churn record, or one won back
            after ``on``; or is erased and ``notes`` are given.
    """
    with uow:
        known = uow.churns.of_customers_for_update([customer_id])  # first: see the port
        if is_erased(uow, customer_id) and notes is not None:
            raise RuleViolation(
                f"customer {customer_id} was erased: record the churn without notes"
            )
        new = ChurnRecord.record(customer_id, on, structure, causes, notes)
        if any(r.is_open for r in known):  # open with any new one
            raise RuleViolation(
                f"customer {customer_id} already has an open churn record; analyse that one"
            )
        clash = next((r for r in known if r.open_with(new)), None)
        if clash is not None:
            raise RuleViolation(
                f"customer {customer_id} churned on {clash.on} and was won back on "
                f"{clash.won_back_on}: a churn on {on} would be open with it (a customer "
                "churns once at a time)"
            )
        stored = uow.churns.add(new)
        uow.commit()
    return stored


def analyse_churn(
    uow: UnitOfWork,
    churn_id: str,
    structure: ChurnStructure,
    causes: Iterable[ChurnCause],
    notes: str | None = None,
) -> ChurnRecord:
    """Record the structure and causes found when a churn was analysed.

    Raises:
        NotFound: no such churn record.
    """
    with uow:
        record = uow.churns.get(churn_id)
        if notes is not None and is_erased(uow, record.customer_id):
            raise RuleViolation(f"churn {churn_id}: the customer was erased; no notes can be added")
        stored = uow.churns.save(record.analysed(structure, causes, notes))
        uow.commit()
    return stored


@attrs.frozen
class ChurnScan:
    """What :func:`detect_churn` recorded."""

    churned: tuple[ChurnRecord, ...]
    won_back: tuple[ChurnRecord, ...]


def _back_in_force(policies: Sequence[Policy], after: dt.date, as_of: dt.date) -> dt.date | None:
    """The first day after ``after`` (up to ``as_of``) a policy went in force."""
    days = [
        c.on
        for p in policies
        for c in p.history
        if c.to_status is PolicyStatus.IN_FORCE and after < c.on <= as_of
    ]
    return min(days) if days else None


#: Policyholders whose churn records :func:`detect_churn` reads at once.
DETECT_BATCH = 500
#: Customers whose figures :func:`early_warnings` and :func:`win_back_queue` read at once.
REPORT_BATCH = 5_000


def _held_in_batches(
    uow: UnitOfWork, progress: Progress | None
) -> Iterator[list[tuple[str, tuple[Policy, ...]]]]:
    """Our policies by policyholder, :data:`DETECT_BATCH` policyholders at a time (those
    holding none of ours left out); ``progress`` hears of the policies read of all."""
    total = uow.policies.count() if progress is not None else 0
    read = 0
    batch: list[tuple[str, tuple[Policy, ...]]] = []
    for holder, policies in uow.policies.iterate_by_holder():
        read += len(policies)
        ours = tuple(p for p in policies if p.is_ours)
        if ours:
            batch.append((holder, ours))
        if len(batch) == DETECT_BATCH:
            yield batch
            batch = []
            if progress is not None:
                progress(read, total)
    if batch:
        yield batch
    if progress is not None:
        progress(read, total)


def detect_churn(uow: UnitOfWork, as_of: dt.date, *, progress: Progress | None = None) -> ChurnScan:
    """Record every churn due as of ``as_of`` and close the records of customers won back.

    A customer whose last policy of ours in force ended by ``as_of`` and who has no open
    churn record gets one (automatic, dated the day it ended); an open record whose
    customer has a policy in force again at ``as_of`` is closed on the day it went in
    force. Erased customers are included (their records hold no personal data).
    Running it again for the same date changes nothing. The book is read a few hundred
    policyholders at a time (:meth:`~insurcrm.domain.repositories.PolicyRepository.
    iterate_by_holder`), so on SQL its memory grows with the records made, not with the
    book; they are written once the book is read, in the same transaction (on SQLite the
    other writers are not kept waiting while it reads), and listed by customer id. A churn
    another writer recorded for a customer meanwhile stands, and none is added for them.

    ``progress``, if given, is called with the policies read so far and all of them.

    The customers it records a churn of have their churn records read for update first
    (:meth:`~insurcrm.domain.repositories.ChurnRecordRepository.of_customers_for_update`):
    on PostgreSQL other churn writers of those customers wait until it commits.

    Raises:
        ConcurrencyError: another writer changed the churn records it read (in memory: a
            churn record of a customer it read, or another writer of their churn records
            committed first) or, on SQLite, committed while it read: run it again.
    """
    churned: list[ChurnRecord] = []
    won: list[ChurnRecord] = []
    with uow:
        for batch in _held_in_batches(uow, progress):
            records: defaultdict[str, list[ChurnRecord]] = defaultdict(list)
            for record in uow.churns.of_customers(holder for holder, _ in batch):
                records[record.customer_id].append(record)  # by day, then id
            for customer_id, policies in batch:
                known = records[customer_id]
                still = next((r for r in reversed(known) if r.is_open), None)  # the latest
                if still is not None:
                    back = _back_in_force(policies, still.on, as_of)
                    if back is not None and customer_id in customers_in_force(policies, as_of):
                        won.append(still.won_back(back))
                    continue
                due = churn_on(customer_id, policies, as_of)
                if due is not None and not any(_covers(r, due) for r in known):
                    churned.append(due)
        stored = ChurnScan(
            tuple(uow.churns.add(r) for r in _still_due(uow, churned)),
            tuple(uow.churns.save(r) for r in sorted(won, key=lambda r: r.customer_id)),
        )
        uow.commit()
    return stored


def _still_due(uow: UnitOfWork, churned: Iterable[ChurnRecord]) -> list[ChurnRecord]:
    """The automatic churns ``churned``, by customer id, that no record of their customer
    covers (:func:`_covers`) once those are read for update: another writer may have
    recorded one since the book was read, and its record stands."""
    due = sorted(churned, key=lambda r: r.customer_id)
    known: defaultdict[str, list[ChurnRecord]] = defaultdict(list)
    for record in uow.churns.of_customers_for_update(r.customer_id for r in due):
        known[record.customer_id].append(record)
    return [r for r in due if not any(_covers(k, r) for k in known[r.customer_id])]


def churn_rates_for(uow: UnitOfWork, start: dt.date, end: dt.date) -> ChurnRates:
    """The churn and retention rates from the day after ``start`` to ``end`` (reads only)."""
    with uow:
        base = customers_in_force(uow.policies.iterate(), start)
        return churn_rates(start, end, base, uow.churns.iterate())


def warnings_in(
    book: ServiceBook,
    as_of: dt.date,
    config: WarningConfig | None = None,
    *,
    at_least: WarningLevel = WarningLevel.WATCH,
) -> list[EarlyWarning]:
    """:func:`early_warnings` over a book already loaded."""
    order = list(WarningLevel)
    current = customers_in_force(book.policies, as_of)
    complaints: defaultdict[str, list[Complaint]] = defaultdict(list)
    contacts: defaultdict[str, list[Interaction]] = defaultdict(list)
    responses: defaultdict[str, list[SurveyResponse]] = defaultdict(list)
    for complaint in book.complaints:
        complaints[complaint.customer_id].append(complaint)
    for contact in book.interactions:
        contacts[contact.customer_id].append(contact)
    for response in book.responses:
        responses[response.customer_id].append(response)
    warnings = []
    for customer_id in sorted(current - book.erased):
        warning = early_warning(
            customer_id,
            as_of,
            policies=book.held.get(customer_id, ()),
            complaints=complaints.get(customer_id, ()),
            interactions=contacts.get(customer_id, ()),
            responses=responses.get(customer_id, ()),
            config=config,
        )
        if order.index(warning.level) >= order.index(at_least):
            warnings.append(warning)
    warnings.sort(key=warning_order)
    return warnings


def early_warnings(
    uow: UnitOfWork,
    as_of: dt.date,
    config: WarningConfig | None = None,
    *,
    at_least: WarningLevel = WarningLevel.WATCH,
    progress: Progress | None = None,
) -> list[EarlyWarning]:
    """The early warnings of current customers (a policy of ours in force on ``as_of``,
    not erased) at ``at_least`` the given level, highest score first (reads only).

    Each customer's figures are read as the portfolio assessment reads them (added up in
    the database, :data:`REPORT_BATCH` customers at a time), never the whole book at once;
    each warning is the one :func:`~insurcrm.domain.early_warning.early_warning` gives from
    the customer's records. ``progress``, if given, is called with the customers read so
    far and all of them.
    """
    cfg = AssessmentConfig(warning=config or WarningConfig())
    found = []
    with uow:
        for figures in report_figures(uow, as_of, cfg, progress):
            found += warnings_of(figures, as_of, cfg.warning, at_least)
    found.sort(key=warning_order)
    return found


def warnings_of(
    figures: Iterable[AssessmentFigures],
    as_of: dt.date,
    config: WarningConfig,
    at_least: WarningLevel = WarningLevel.WATCH,
) -> list[EarlyWarning]:
    """The early warnings at ``at_least`` the given level of the current customers among
    ``figures`` (read as of ``as_of``; a policy of ours in force, not erased), in their
    order: :func:`early_warnings` of one batch."""
    levels = list(WarningLevel)
    floor = levels.index(at_least)
    found = []
    for f in figures:
        if f.in_force and not f.erased:
            warning = early_warning_from(f.customer_id, as_of, warning_figures_of(f), config)
            if levels.index(warning.level) >= floor:
                found.append(warning)
    return found


def warning_order(warning: EarlyWarning) -> tuple[int, str]:
    """Highest score first, then by customer id: the order warnings are listed in."""
    return (-warning.score, warning.customer_id)


@attrs.frozen
class WinBack:
    """A churned customer's recovery decision, with their churn record."""

    record: ChurnRecord
    decision: RecoveryDecision


def win_backs_in(
    book: ServiceBook,
    as_of: dt.date,
    model: RenewalModel,
    *,
    recovery: RecoveryConfig | None = None,
    future: FutureValueConfig | None = None,
) -> list[WinBack]:
    """:func:`win_back_queue` over a book already loaded."""
    records: defaultdict[str, list[ChurnRecord]] = defaultdict(list)
    for churn in book.churns:
        if churn.customer_id not in book.erased:
            records[churn.customer_id].append(churn)
    queue = []
    for mine in records.values():
        record = open_churn(mine, as_of)  # the latest, as the assessment decides on
        if record is None:
            continue
        value = win_back_value(
            record.customer_id, book.held.get(record.customer_id, ()), record.on, model, future
        )
        queue.append(WinBack(record, decide_recovery(record, value.amount, recovery)))
    queue.sort(key=queue_order)
    return queue


def win_back_queue(
    uow: UnitOfWork,
    as_of: dt.date,
    model: RenewalModel,
    *,
    recovery: RecoveryConfig | None = None,
    future: FutureValueConfig | None = None,
    progress: Progress | None = None,
) -> list[WinBack]:
    """The recovery decision of every churn record open on ``as_of`` (recorded by then and
    not won back by then; erased customers left out), recommended ones first by expected
    net benefit (reads only). A past date gives that date's queue.

    The churned customers are found, and their win-backs valued, from the figures the
    portfolio assessment reads (:data:`REPORT_BATCH` customers at a time), never the whole
    book at once; each decision is the one
    :func:`~insurcrm.domain.recovery.decide_recovery` gives for the record, at the value
    :func:`~insurcrm.domain.future_value.win_back_value` gives. The services keep a
    customer churned once at a time; where data written past them holds two records open
    on ``as_of``, the latest is decided on, once, as in the assessment. ``progress``, if
    given, is called with the customers read so far and all of them.

    Raises:
        ConcurrencyError: a churn record was recorded or changed while the queue was read
            (the figures and the records disagree): run it again.
    """
    cfg = win_back_config(model, recovery, future)
    queue: list[WinBack] = []
    with uow:
        for figures in report_figures(uow, as_of, cfg, progress):
            queue += win_backs_of(uow, figures, as_of, cfg)
    queue.sort(key=queue_order)
    return queue


def win_back_config(
    model: RenewalModel, recovery: RecoveryConfig | None, future: FutureValueConfig | None
) -> AssessmentConfig:
    """The assessment's rules that value and decide win-backs (the others as default)."""
    return AssessmentConfig(
        recovery=recovery or RecoveryConfig(),
        future=future or FutureValueConfig(),
        renewal_model=model,
    )


def report_figures(
    uow: UnitOfWork, as_of: dt.date, config: AssessmentConfig, progress: Progress | None
) -> Iterator[list[AssessmentFigures]]:
    """Every customer's figures as of ``as_of``, :data:`REPORT_BATCH` customers at a time
    (inside ``with uow:``), for the reports that read the book as the assessment does."""
    windows = AssessmentWindows.of(as_of, config)
    for batch in read_figures(uow, windows, config, REPORT_BATCH, progress):
        yield batch.figures()


def win_backs_of(
    uow: UnitOfWork, figures: Sequence[AssessmentFigures], as_of: dt.date, config: AssessmentConfig
) -> list[WinBack]:
    """The recovery decisions of the churned customers among ``figures`` (read as of
    ``as_of``), with their records, read through ``uow`` (inside ``with uow:``).

    Raises:
        ConcurrencyError: a churn record the figures decided on is not as they read it.
    """
    factor = win_back_factor(config.win_back_model, config.future)
    decided = [
        (f, decision)
        for f in figures
        if (decision := recovery_of(f, factor, config.recovery)) is not None
    ]
    records = {r.id: r for r in uow.churns.get_many(d.churn_id for _, d in decided)}
    found = []
    for f, decision in decided:
        record = records.get(decision.churn_id)
        if record is None or not _as_figured(record, f, as_of):
            raise ConcurrencyError(
                f"churn record {decision.churn_id} changed while the book was read: run it again"
            )
        found.append(WinBack(record, decision))
    return found


def _as_figured(record: ChurnRecord, f: AssessmentFigures, as_of: dt.date) -> bool:
    """Whether ``record`` is the churn the figures decided on, as they read it: the figures
    and the records may be read by different connections (on a big SQLite book, reader
    processes whose state begins a moment after the unit of work's)."""
    structure = record.structure.name if record.structure is not None else None
    return (
        record.open_on(as_of)
        and record.on == f.churn_on
        and structure == f.churn_structure
        and [c.name for c in record.causes] == list(f.churn_causes)
    )


def queue_order(w: WinBack) -> tuple[bool, Decimal, str]:
    """Recommended first, then by expected net benefit, highest first."""
    return (not w.decision.recommended, -w.decision.expected_net_benefit, w.record.id)
