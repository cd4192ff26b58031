"""Import the history of stored policies from CSV: the renewal premiums paid and missed,
and the status changes after a policy's start (lapses, reinstatements, ends) — what the
credit grade (§1.3), the loyalty ladder and RFM (§2, §4) and the premium in force read.

Column layout (as in :mod:`~insurcrm.services.csv_import`: a header in any order, only the
required columns must be there):

* renewals (the renewal premiums paid, a payment history): ``policy_id``, ``renewed_on``
  (required); ``premium`` (default: the policy's annual premium, in its currency).
* missed premiums (renewal premiums not paid by the end of their grace period):
  ``policy_id``, ``due_date`` (required); ``premium`` (as for renewals).
* status changes: ``policy_id``, ``status`` (a PolicyStatus name), ``on`` (required);
  ``end_reason`` (an EndReason name, for a lapse or an end). The changes after the status
  a policy's row gave: a policy lapsed and reinstated (LAPSED, then IN_FORCE) and perhaps
  ended since is imported with status IN_FORCE (or PENDING, or its first lapse) in the
  policies file and its changes here, a policy's rows together in the order they
  happened (a batch keeps them together).

Each row is recorded on its stored policy with the policy's own moves
(:meth:`~insurcrm.domain.policies.Policy.record_renewal`,
:meth:`~insurcrm.domain.policies.Policy.record_unpaid_renewal`,
:meth:`~insurcrm.domain.policies.Policy.transition`), so it is checked as they check it: a
premium on a day the policy was ours and in force, a status change that is a legal move
not before the last one. A policy's status changes are then judged together against the
premiums recorded since: the first that would leave one on a day out of force is refused,
with the changes after it (:func:`_settle_changes`). A row already recorded (the same
premium, or the same status on the same day) is already present, so a file can be
imported again; one that contradicts what is recorded that day is refused. A batch's
policies are read at once and saved at once (``PolicyRepository.get_many``,
``save_many``). As with the policies file, a status change recorded is announced as a
``PolicyStatusChanged`` event with its day.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from decimal import Decimal
from typing import Any

import attrs

from insurcrm.domain.policies import TRANSITIONS, EndReason, Policy, PolicyStatus, PurchaseKind
from insurcrm.domain.unit_of_work import UnitOfWork
from insurcrm.domain.values import DEFAULT_CURRENCY, Money
from insurcrm.errors import ConcurrencyError, RuleViolation, ValidationError
from insurcrm.services.csv_cells import (
    Fault,
    Reject,
    grouped,
    not_after,
    read_code,
    read_date,
    read_money,
    read_text,
    required,
    retried,
)

__all__ = [
    "CHANGE_COLUMNS",
    "CHANGE_REQUIRED",
    "HISTORY",
    "MISSED_COLUMNS",
    "MISSED_REQUIRED",
    "RENEWAL_COLUMNS",
    "RENEWAL_REQUIRED",
    "HistoryKind",
    "store_history",
    "without_number",
]

#: The columns a renewals file must have.
RENEWAL_REQUIRED = ("policy_id", "renewed_on")
#: Every column of a renewals file.
RENEWAL_COLUMNS = (*RENEWAL_REQUIRED, "premium")
#: The columns a missed premiums file must have.
MISSED_REQUIRED = ("policy_id", "due_date")
#: Every column of a missed premiums file.
MISSED_COLUMNS = (*MISSED_REQUIRED, "premium")
#: The columns a status changes file must have.
CHANGE_REQUIRED = ("policy_id", "status", "on")
#: Every column of a status changes file.
CHANGE_COLUMNS = (*CHANGE_REQUIRED, "end_reason")


def without_number(error: RuleViolation, policy: Policy) -> str:
    """The domain's reason without the policy number it starts with (a reject file names
    lines, never values)."""
    return str(error).removeprefix(f"policy {policy.number}: ")


# -- premiums ------------------------------------------------------------------------------


@attrs.frozen
class _Premium:
    """One row of a renewals or missed premiums file: a renewal premium paid, or missed,
    on a stored policy on a day."""

    policy_id: str
    on: dt.date
    amount: Decimal | None  # None: the policy's annual premium

    @property
    def id(self) -> str:
        """The row's key within its file: one renewal (or missed premium) a policy a day."""
        return f"{self.policy_id} {self.on.isoformat()}"


@attrs.frozen
class _PremiumKind:
    """How the rows of a renewals or missed premiums file are read and recorded."""

    day: str  # the column of the day
    stored: Callable[[Policy, dt.date], list[Money]]  # the amounts stored on that day
    record: Callable[[Policy, dt.date, Money], Policy]
    what: str  # what a row records, for the reasons
    missed: bool = False  # a premium missed: its due date is before the import date

    def read(self, row: dict[str, str], today: dt.date | None = None) -> _Premium:
        """A row of the file."""
        amount = None
        if read_text(row, "premium") is not None:  # in the policy's currency, read when stored
            amount = read_money(row, "premium", DEFAULT_CURRENCY).amount
        day = required(read_date(row, self.day), self.day)
        if self.missed and today is not None and day >= today:
            reason = "is not before the import date: a premium is missed only after it falls due"
            raise ValidationError(self.day, "date.future", reason)
        return _Premium(
            required(read_text(row, "policy_id"), "policy_id"),
            not_after(day, self.day, today),
            amount,
        )

    def apply(self, policy: Policy, entry: _Premium) -> Policy | Fault | None:
        """``policy`` with the premium recorded; None when it is recorded already (no
        premium given: whatever is stored that day is it); or the row's fault."""
        amount = policy.annual_premium
        if entry.amount is not None:
            amount = Money(entry.amount, policy.currency)
        on_that_day = self.stored(policy, entry.on)
        if on_that_day and (entry.amount is None or amount in on_that_day):
            return None
        if on_that_day:
            reason = f"the policy has {self.what} stored on this day with another premium"
            return "premium", "premium.conflict", reason
        if not policy.is_ours:
            reason = "a policy of another insurer: its premiums are not ours to record"
            return "policy_id", "premium.not_ours", reason
        try:
            return self.record(policy, entry.on, amount)
        except RuleViolation as error:
            return self.day, "premium.order", without_number(error, policy)


# -- status changes ------------------------------------------------------------------------


@attrs.frozen
class _StatusChange:
    """One row of a status changes file: a stored policy moved to a status on a day."""

    policy_id: str
    status: PolicyStatus
    on: dt.date
    reason: EndReason | None

    @property
    def id(self) -> str:
        """The row's key within its file: one change to a status a policy a day."""
        return f"{self.policy_id} {self.on.isoformat()} {self.status.name}"


#: The statuses a change carries an end reason to (a lapse, or an end).
_ENDINGS = frozenset(PolicyStatus) - {PolicyStatus.PENDING, PolicyStatus.IN_FORCE}


def _read_change(row: dict[str, str], today: dt.date | None = None) -> _StatusChange:
    """A row of a status changes file."""
    status = required(read_code(row, "status", PolicyStatus), "status")
    reason = read_code(row, "end_reason", EndReason)
    if reason is not None and status not in _ENDINGS:
        why = "is given only for a lapse or an end"
        raise ValidationError("end_reason", "reason.unexpected", why)
    return _StatusChange(
        required(read_text(row, "policy_id"), "policy_id"),
        status,
        not_after(required(read_date(row, "on"), "on"), "on", today),
        reason,
    )


def _apply_change(policy: Policy, change: _StatusChange) -> Policy | Fault | None:
    """``policy`` moved to the row's status on its day; None when that change is recorded
    already (the same reason, or none given; or PENDING for a policy still pending); or
    the row's fault: a move the lifecycle forbids (on ``status``), or one before the last
    change (on ``on``). Whether the premiums recorded since stay in force is checked once
    the policy's rows of the batch are all applied (:func:`_settle_changes`)."""
    for stored in policy.history:
        if stored.on == change.on and stored.to_status is change.status:
            if change.reason is None or change.reason is stored.reason:
                return None
            reason = "the policy has this change stored on this day with another end reason"
            return "end_reason", "status.conflict", reason
    if change.status is PolicyStatus.PENDING and not policy.history:
        return None
    column = "status" if change.status not in TRANSITIONS[policy.status] else "on"
    try:
        return policy.transition(change.status, change.on, change.reason)
    except RuleViolation as error:
        return column, "status.order", without_number(error, policy)


def _out_of_force(start: Policy, policy: Policy, since: dt.date) -> bool:
    """Whether a renewal or missed premium on ``since`` or later, on a day ``start`` was
    in force, falls on a day ``policy`` (``start`` with changes from ``since``) is not (a
    day :meth:`~insurcrm.domain.policies.Policy.record_renewal` refuses)."""
    days = [p.on for p in start.purchases if p.kind is PurchaseKind.RENEWAL]
    days += [m.due_date for m in start.missed_premiums]
    return any(
        start.status_on(d) is PolicyStatus.IN_FORCE
        and policy.status_on(d) is not PolicyStatus.IN_FORCE
        for d in days
        if d >= since
    )


def _settle_changes(
    start: Policy, accepted: list[tuple[int, Policy]]
) -> tuple[Policy, list[Reject]]:
    """The policy after the longest run of its accepted changes (line, the policy after
    it) that leaves every renewal and missed premium recorded on a day in force, and the
    rows after that run, refused: the first because it leaves one out of force, the rest
    because they build on it. The rows of one policy are settled together, so a lapse
    followed by its reinstatement is judged with it."""
    since = accepted[0][1].history[-1].on
    keep = len(accepted)
    while keep and _out_of_force(start, accepted[keep - 1][1], since):
        keep -= 1
    if keep == len(accepted):
        return accepted[-1][1], []
    culprit = accepted[keep][0]
    reason = (
        "the policy has a renewal or missed premium recorded on a day this change would "
        "leave out of force"
    )
    rejects = [Reject(culprit, "on", "status.premium", reason)]
    after = f"comes after a change of this policy refused on line {culprit}"
    rejects += [Reject(line, "on", "status.order", after) for line, _ in accepted[keep + 1 :]]
    return (accepted[keep - 1][1] if keep else start), rejects


# -- the kinds -----------------------------------------------------------------------------


@attrs.frozen
class HistoryKind:
    """How the rows of a file of one kind of policy history are read and recorded."""

    mark: str  # the column that tells the file apart
    day: str  # the column of the day (a repeated row is reported on it)
    build: Callable[..., Any]  # a row (and the import date) → the entry
    apply: Callable[[Policy, Any], Policy | Fault | None]  # see _PremiumKind.apply
    repeated: str  # what a row repeats when its key is repeated in a file
    #: (the policy before, its rows recorded: line and the policy after) → the policy to
    #: save and the rows refused after all (see :func:`_settle_changes`); None: all stand
    settle: Callable[[Policy, list[tuple[int, Policy]]], tuple[Policy, list[Reject]]] | None = None


_RENEWALS = _PremiumKind(
    "renewed_on",
    lambda policy, day: [
        p.amount for p in policy.purchases if p.kind is PurchaseKind.RENEWAL and p.on == day
    ],
    Policy.record_renewal,
    "a renewal",
)
_MISSED = _PremiumKind(
    "due_date",
    lambda policy, day: [m.amount for m in policy.missed_premiums if m.due_date == day],
    Policy.record_unpaid_renewal,
    "a missed premium",
    missed=True,
)

#: The kinds of policy history files, by kind name, in the order a command line imports
#: them: the status changes first, since a premium is checked against the status that day.
HISTORY = {
    "status changes": HistoryKind(
        "status",
        "on",
        _read_change,
        _apply_change,
        "a change to this status of this policy",
        _settle_changes,
    ),
    **{
        name: HistoryKind(k.day, k.day, k.read, k.apply, f"{k.what} of this policy")
        for name, k in (("renewals", _RENEWALS), ("missed premiums", _MISSED))
    },
}


def _recorded(
    uow: UnitOfWork, kind: HistoryKind, items: Sequence[tuple[int, Any]]
) -> tuple[int, int, list[Reject]]:
    """One batch recorded on its policies in one transaction (see :func:`store_history`)."""
    stored = present = 0
    rejects: list[Reject] = []
    by_policy = grouped(items, lambda entry: entry.policy_id)
    with uow:
        found = {p.id: p for p in uow.policies.get_many(by_policy)}
        changed: list[Policy] = []
        for policy_id, entries in by_policy.items():
            policy = found.get(policy_id)
            if policy is None:
                reason = "no such policy stored"
                rejects += [Reject(n, "policy_id", "reference.missing", reason) for n, _ in entries]
                continue
            before = policy
            accepted: list[tuple[int, Policy]] = []
            for line, entry in entries:
                outcome = kind.apply(policy, entry)
                if outcome is None:
                    present += 1
                elif isinstance(outcome, Policy):
                    policy = outcome
                    accepted.append((line, policy))
                else:
                    rejects.append(Reject(line, *outcome))
            if kind.settle is not None and accepted:
                policy, refused = kind.settle(before, accepted)
                rejects += refused
                stored -= len(refused)
            stored += len(accepted)
            if policy is not before:
                changed.append(policy)
        uow.policies.save_many(changed)
        uow.commit()
    return stored, present, rejects


def store_history(
    uow: UnitOfWork, kind: HistoryKind, items: list[tuple[int, Any]]
) -> tuple[int, int, list[Reject]]:
    """Record one batch of a policy history file in one transaction, its policies read and
    saved together (the bulk path); returns (stored, already present, rejects). A batch
    another writer got in the way of (it saved one of the policies) is tried again
    (:func:`~insurcrm.services.csv_cells.retried`)."""
    return retried(lambda: _recorded(uow, kind, items), ConcurrencyError)
