"""Import the customer-service records of a book from CSV: contacts (interactions),
complaints, survey responses and churn records, the history the early warning (§7.2), the
complaint figures (§3, §8), the satisfaction indicators (§9) and the churn figures and
win-back decisions (§7.1, §7.3) read.

Column layout (as in :mod:`~insurcrm.services.csv_import`: a header in any order, only the
required columns must be there):

* contacts: ``id``, ``customer_id``, ``on``, ``channel``, ``direction``, ``purpose``
  (required); ``csr_id``, ``memo``, ``signals`` (the signs of dissatisfaction noticed, as
  ObservedSignal names separated by ``;``).
* survey responses: ``id``, ``survey_id``, ``customer_id``, ``role``, ``channel``, ``on``
  (required); one column per dimension asked, ``service``, ``operations``,
  ``product_price``, ``industry``, holding an Answer name (at least one);
  ``expectation`` (an Answer name), ``praises_us`` and ``named_us`` (true/false; empty: not
  asked), ``comment``.
* complaints: ``id``, ``customer_id``, ``received_on``, ``promised_by`` (required);
  ``category`` (a ComplaintCategory name; empty: OTHER), ``text``, ``csr_id``; one column
  per step done, the day it was done: ``vent_on``, ``understand_on``, ``apologise_on``,
  ``find_solution_on``, ``start_solving_on``, ``compensate_on``, ``follow_up_on``;
  ``compensation_skipped`` (true/false: ``compensate_on`` is then the day it was skipped)
  and ``skip_reason``; ``closed_on``. The steps are filled in order, none before the one
  done before it, and a complaint is closed only once every step is done (§8). One row is
  one round of handling: a complaint reopened in the old system is imported as its first
  round, and reopened with :func:`~insurcrm.services.complaints.reopen_complaint`.
* churn records: ``customer_id``, ``churned_on`` (required); ``id`` (empty: the id the live
  calls give the customer's churn on that day), ``structure`` (a ChurnStructure name;
  empty: not analysed yet), ``causes`` (ChurnCause names separated by ``;``, kept in the
  glossary's order without repeats), ``notes``, ``automatic`` (true/false: recorded because
  the last policy in force ended), ``policy_id`` (that policy, one the customer holds as
  policyholder; a churn recorded by hand may name one too), ``won_back_on`` (the day they
  had a policy of ours in force again; empty: not won back). A customer churns once at a
  time: a record open on a day another of theirs is open (stored, or on an earlier line) is
  refused, as :func:`~insurcrm.services.churn.record_churn` refuses it too; a
  customer won back the day they churned was open on no day. The records are taken as the
  old system kept them: they are not checked against the policies' history (a churn
  recorded by hand need not follow an ending). :func:`~insurcrm.services.churn.
  detect_churn`, run after the import, records a churn for each customer whose last policy
  ended and who has no open record nor one on that day, and closes the open records of
  customers in force again.

A record is checked as the live calls check it (:func:`~insurcrm.services.contacts.
log_interaction`, :func:`~insurcrm.services.complaints.receive_complaint` and the moves
after it, :func:`~insurcrm.services.satisfaction.record_survey_response`,
:func:`~insurcrm.services.churn.record_churn`): its customer must be stored, and an erased
customer's record keeps no memo, comment, complaint text, skip reason or churn notes; it is
stored marked erased, as the erasure left the customer's other records (a skipped
compensation of theirs may come without its reason, which the erasure removed; anyone else's
needs one). Two rules of the live calls do not apply to the past: the minimum interval
between two surveys of a customer, and the refusal to survey an erased customer, are about
asking, and the responses of the past were given; an erased customer's complaints of the
past count in the complaint figures of their periods. A complaint or churn record imported
brings no events (nothing is announced of the past). A record whose id is stored for the
same customer is already present (the stored one is kept); for another customer the row is
refused.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from typing import Any

import attrs

from insurcrm.domain.churn import ChurnCause, ChurnRecord, ChurnStructure, churn_id
from insurcrm.domain.complaints import Complaint, ComplaintCategory, ComplaintStep, StepRecord
from insurcrm.domain.interactions import Channel, Direction, Interaction, ObservedSignal, Purpose
from insurcrm.domain.repositories import RecordRepository
from insurcrm.domain.satisfaction import (
    Answer,
    Dimension,
    RespondentRole,
    SurveyChannel,
    SurveyResponse,
)
from insurcrm.domain.unit_of_work import UnitOfWork
from insurcrm.errors import ConcurrencyError, Duplicate, NotFound, ValidationError
from insurcrm.services.csv_cells import (
    Fault,
    Reject,
    not_after,
    read_code,
    read_codes,
    read_date,
    read_flag,
    read_optional_flag,
    read_text,
    required,
    retried,
)

__all__ = [
    "CHURN_COLUMNS",
    "CHURN_REQUIRED",
    "COMPLAINT_COLUMNS",
    "COMPLAINT_REQUIRED",
    "CONTACT_COLUMNS",
    "CONTACT_REQUIRED",
    "DIMENSION_COLUMNS",
    "RECORDS",
    "STEP_COLUMNS",
    "SURVEY_COLUMNS",
    "SURVEY_REQUIRED",
    "RecordKind",
    "store_records",
]

#: The columns a contacts file must have.
CONTACT_REQUIRED = ("id", "customer_id", "on", "channel", "direction", "purpose")
#: Every column of a contacts file.
CONTACT_COLUMNS = (*CONTACT_REQUIRED, "csr_id", "memo", "signals")

_DIMENSIONS = {d.name.lower(): d for d in Dimension}
#: The answer columns of a survey responses file, one a dimension (at least one is needed).
DIMENSION_COLUMNS = tuple(_DIMENSIONS)
#: The columns a survey responses file must have (with one of :data:`DIMENSION_COLUMNS`).
SURVEY_REQUIRED = ("id", "survey_id", "customer_id", "role", "channel", "on")
#: Every column of a survey responses file.
SURVEY_COLUMNS = (
    *SURVEY_REQUIRED,
    *DIMENSION_COLUMNS,
    "expectation",
    "praises_us",
    "named_us",
    "comment",
)

#: The columns a complaints file must have.
COMPLAINT_REQUIRED = ("id", "customer_id", "received_on", "promised_by")
#: The column of each step of handling a complaint: the day it was done.
STEP_COLUMNS = {step: f"{step.name.lower()}_on" for step in ComplaintStep}
#: Every column of a complaints file.
COMPLAINT_COLUMNS = (
    *COMPLAINT_REQUIRED,
    "category",
    "text",
    "csr_id",
    *STEP_COLUMNS.values(),
    "compensation_skipped",
    "skip_reason",
    "closed_on",
)

#: The columns a churn records file must have.
CHURN_REQUIRED = ("customer_id", "churned_on")
#: Every column of a churn records file.
CHURN_COLUMNS = (
    *CHURN_REQUIRED,
    "id",
    "structure",
    "causes",
    "notes",
    "automatic",
    "policy_id",
    "won_back_on",
)


def _day(row: dict[str, str], today: dt.date | None) -> dt.date:
    return not_after(required(read_date(row, "on"), "on"), "on", today)


def _contact(row: dict[str, str], today: dt.date | None = None) -> Interaction:
    """A row of a contacts file."""
    return Interaction(
        id=required(read_text(row, "id"), "id"),
        customer_id=required(read_text(row, "customer_id"), "customer_id"),
        on=_day(row, today),
        channel=required(read_code(row, "channel", Channel), "channel"),
        direction=required(read_code(row, "direction", Direction), "direction"),
        purpose=required(read_code(row, "purpose", Purpose), "purpose"),
        memo=read_text(row, "memo"),
        csr_id=read_text(row, "csr_id"),
        signals=read_codes(row, "signals", ObservedSignal),
    )


def _survey_response(row: dict[str, str], today: dt.date | None = None) -> SurveyResponse:
    """A row of a survey responses file."""
    answers: dict[Dimension, Answer] = {}
    for column, dimension in _DIMENSIONS.items():
        answer = read_code(row, column, Answer)
        if answer is not None:
            answers[dimension] = answer
    if not answers:
        columns = [c for c in DIMENSION_COLUMNS if c in row] or list(DIMENSION_COLUMNS)
        reason = f"one of the dimensions must be answered ({', '.join(columns)})"
        raise ValidationError(columns[0], "answers.required", reason)
    return SurveyResponse(
        id=required(read_text(row, "id"), "id"),
        survey_id=required(read_text(row, "survey_id"), "survey_id"),
        customer_id=required(read_text(row, "customer_id"), "customer_id"),
        role=required(read_code(row, "role", RespondentRole), "role"),
        channel=required(read_code(row, "channel", SurveyChannel), "channel"),
        on=_day(row, today),
        answers=answers,
        expectation=read_code(row, "expectation", Answer),
        praises_us=read_optional_flag(row, "praises_us"),
        named_us=read_optional_flag(row, "named_us"),
        comment=read_text(row, "comment"),
    )


def _moves(row: dict[str, str], skipped: bool) -> list[tuple[str, dt.date]]:
    """The days of the steps done and of the closing, by column, checked to be in order:
    none filled after an empty one, the skipped compensation's day given."""
    columns = (*STEP_COLUMNS.values(), "closed_on")
    days = [(column, read_date(row, column)) for column in columns]
    compensated = STEP_COLUMNS[ComplaintStep.COMPENSATE]
    if skipped and dict(days)[compensated] is None:
        raise ValidationError(compensated, "required", "is the day compensation was skipped")
    for (column, day), (earlier, earlier_day) in zip(days[1:], days, strict=False):
        if day is not None and earlier_day is None:
            why = f"comes after {earlier}, which is empty (the steps are done in order)"
            raise ValidationError(column, "step.order", why)
    return [(column, day) for column, day in days if day is not None]


def _skip(complaint: Complaint, on: dt.date, reason: str | None) -> Complaint:
    """``complaint`` with its compensation skipped on ``on``; without the reason (an erased
    customer's, :func:`_complaint_fault`) the step is recorded as the erasure leaves it."""
    if reason is None:
        step = StepRecord(ComplaintStep.COMPENSATE, on, complaint.round, skipped=True)
        return attrs.evolve(complaint, steps=(*complaint.steps, step))
    try:
        return complaint.skip_compensation(on, reason)
    except ValidationError as error:  # the reason's own check names it "reason"
        raise ValidationError("skip_reason", error.rule, error.message) from None


def _complaint(row: dict[str, str], today: dt.date | None = None) -> Complaint:
    """A row of a complaints file: the complaint received, then walked through the steps
    the row dates with the moves of :class:`~insurcrm.domain.complaints.Complaint`, so
    they are checked as the live calls check them; its events are left out. The text is
    set last: the moves do not read it, and every move would check it again."""
    received = not_after(
        required(read_date(row, "received_on"), "received_on"), "received_on", today
    )
    complaint = Complaint.receive(
        id=required(read_text(row, "id"), "id"),
        customer_id=required(read_text(row, "customer_id"), "customer_id"),
        on=received,
        promised_by=required(read_date(row, "promised_by"), "promised_by"),
        category=read_code(row, "category", ComplaintCategory) or ComplaintCategory.OTHER,
        csr_id=read_text(row, "csr_id"),
    )
    skipped = read_flag(row, "compensation_skipped")
    reason = read_text(row, "skip_reason")
    if reason is not None and not skipped:
        why = "is given only when compensation_skipped is true"
        raise ValidationError("skip_reason", "skip.unexpected", why)
    last = "received_on"
    for column, day in _moves(row, skipped):
        not_after(day, column, today)
        if day < complaint.last_day:
            raise ValidationError(column, "date.order", f"must not be before {last}")
        if column == "closed_on":
            complaint = complaint.close(day)
        elif column == STEP_COLUMNS[ComplaintStep.COMPENSATE] and skipped:
            complaint = _skip(complaint, day, reason)
        else:
            complaint = complaint.complete(ComplaintStep[column[: -len("_on")].upper()], day)
        last = column
    return attrs.evolve(complaint, text=read_text(row, "text"), events=())


def _churn(row: dict[str, str], today: dt.date | None = None) -> ChurnRecord:
    """A row of a churn records file; without an id, the one :func:`~insurcrm.domain.
    churn.churn_id` gives the customer's churn on that day (the live calls' id). Its
    event is left out."""
    customer_id = required(read_text(row, "customer_id"), "customer_id")
    on = not_after(required(read_date(row, "churned_on"), "churned_on"), "churned_on", today)
    won_back_on = read_date(row, "won_back_on")
    if won_back_on is not None:
        not_after(won_back_on, "won_back_on", today)
    return ChurnRecord(
        id=read_text(row, "id") or churn_id(customer_id, on),
        customer_id=customer_id,
        on=on,
        structure=read_code(row, "structure", ChurnStructure),
        causes=read_codes(row, "causes", ChurnCause),
        notes=read_text(row, "notes"),
        automatic=read_flag(row, "automatic"),
        policy_id=read_text(row, "policy_id"),
        won_back_on=won_back_on,
    )


#: Refuses the rows of a batch that do not fit their customer's other records.
Refuse = Callable[[Sequence[tuple[int, Any]]], list[Reject]]


def _churn_conflicts(uow: UnitOfWork, items: Sequence[tuple[int, Any]]) -> Refuse:
    """Reads what the churn records of a batch must fit, before any other read of their
    customers (their churn records are read for update: see :meth:`~insurcrm.domain.
    repositories.ChurnRecordRepository.of_customers_for_update`), and returns what refuses
    those that do not: a policy not the customer's (as policyholder), or a churn open on a
    day another record of the customer, stored or on an earlier line, is open (a customer
    churns once at a time, as :func:`~insurcrm.services.churn.record_churn` refuses it
    too)."""
    kept: dict[str, list[ChurnRecord]] = {}
    for record in uow.churns.of_customers_for_update(r.customer_id for _, r in items):
        kept.setdefault(record.customer_id, []).append(record)
    named = (r.policy_id for _, r in items if r.policy_id is not None)
    holder = uow.policies.holders_among(named)

    def refuse(good: Sequence[tuple[int, Any]]) -> list[Reject]:
        rejects: list[Reject] = []
        for line, record in good:
            if record.policy_id is not None and holder.get(record.policy_id) != record.customer_id:
                reason = "no such policy of this customer (as policyholder) stored"
                rejects.append(Reject(line, "policy_id", "reference.missing", reason))
                continue
            taken = kept.setdefault(record.customer_id, [])
            if any(record.open_with(other) for other in taken):
                why = (
                    "the customer has another churn record open on one of its days (stored, "
                    "or on an earlier line): a customer churns once at a time"
                )
                rejects.append(Reject(line, "churned_on", "churn.overlap", why))
                continue
            taken.append(record)
        return rejects

    return refuse


def _no_conflicts(uow: UnitOfWork, items: Sequence[tuple[int, Any]]) -> Refuse:
    return lambda good: []


def _erased_text(column: str, what: str) -> Callable[[Any, bool], Fault | None]:
    """The fault of a record whose free text is in ``column``: an erased customer's keeps
    none."""

    def fault(record: Any, erased: bool) -> Fault | None:
        if erased and getattr(record, column) is not None:
            return column, "erased", f"the customer was erased: {what} of theirs keeps no {column}"
        return None

    return fault


def _complaint_fault(complaint: Complaint, erased: bool) -> Fault | None:
    """The fault of a complaint: an erased customer's keeps no text and no skip reason;
    anyone else's skipped compensation has its reason."""
    fault = _erased_text("text", "a complaint")(complaint, erased)
    skip = next((s for s in complaint.steps if s.skipped), None)
    if fault is not None or skip is None:
        return fault
    if erased and skip.skip_reason is not None:
        why = "the customer was erased: a complaint of theirs keeps no skip_reason"
        return "skip_reason", "erased", why
    if not erased and skip.skip_reason is None:
        return "skip_reason", "required", "is required when compensation was skipped"
    return None


@attrs.frozen
class RecordKind:
    """How the rows of a file of one kind of customer-service record are read and stored."""

    build: Callable[..., Any]  # a row (and the import date) → the record
    repository: Callable[[UnitOfWork], RecordRepository[Any]]
    fault: Callable[[Any, bool], Fault | None]  # (record, customer erased) → its fault
    what: str  # what a record is, for the reasons
    #: (unit of work, a batch's rows) → what refuses the good ones for the customer's
    #: others, read before anything else of the batch's customers
    conflicts: Callable[[UnitOfWork, Sequence[tuple[int, Any]]], Refuse] = _no_conflicts


#: The kinds of customer-service record files, by kind name.
RECORDS = {
    "contacts": RecordKind(
        _contact, lambda uow: uow.interactions, _erased_text("memo", "a contact"), "a contact"
    ),
    "complaints": RecordKind(
        _complaint, lambda uow: uow.complaints, _complaint_fault, "a complaint"
    ),
    "survey responses": RecordKind(
        _survey_response,
        lambda uow: uow.surveys,
        _erased_text("comment", "a survey response"),
        "a survey response",
    ),
    "churn records": RecordKind(
        _churn,
        lambda uow: uow.churns,
        _erased_text("notes", "a churn record"),
        "a churn record",
        _churn_conflicts,
    ),
}


def _checked(
    uow: UnitOfWork, kind: RecordKind, items: Sequence[tuple[int, Any]]
) -> tuple[list[tuple[int, Any]], list[Reject]]:
    """The records to store, an erased customer's as erasure leaves them (§10.4), and the
    rows refused: no such customer, a fault of the kind (:attr:`RecordKind.fault`), such
    as an erased customer's record with its text, or a conflict with the customer's other
    records (:attr:`RecordKind.conflicts`)."""
    refuse = kind.conflicts(uow, items)
    erased = uow.customers.erased_among(r.customer_id for _, r in items)
    good: list[tuple[int, Any]] = []
    rejects: list[Reject] = []
    for line, record in items:
        if record.customer_id not in erased:
            reason = "no such customer stored"
            rejects.append(Reject(line, "customer_id", "reference.missing", reason))
            continue
        was_erased = erased[record.customer_id]
        fault = kind.fault(record, was_erased)
        if fault is not None:
            rejects.append(Reject(line, *fault))
        else:
            good.append((line, record.erase() if was_erased else record))
    refused = refuse(good)
    if refused:
        lines = {r.line for r in refused}
        good = [(line, record) for line, record in good if line not in lines]
    return good, rejects + refused


def _store_new(
    uow: UnitOfWork, kind: RecordKind, items: list[tuple[int, Any]]
) -> tuple[int, int, list[Reject]] | None:
    """The whole batch through the bulk path, when every row is new and good; None (and
    nothing stored) otherwise."""
    with uow:
        good, rejects = _checked(uow, kind, items)
        if rejects:
            return None
        try:
            kind.repository(uow).add_many(record for _, record in good)
        except (Duplicate, NotFound):
            return None  # leaving without a commit rolls the batch back
        uow.commit()
    return len(good), 0, []


def _store_each(
    uow: UnitOfWork, kind: RecordKind, items: list[tuple[int, Any]]
) -> tuple[int, int, list[Reject]]:
    """The batch with its stored rows told apart: a record whose id is stored for the same
    customer is already present, for another customer it is refused; the rest is checked
    and stored."""
    present = 0
    rejects: list[Reject] = []
    new: list[tuple[int, Any]] = []
    with uow:
        repository = kind.repository(uow)
        stored_ones = {r.id: r for r in repository.get_many(r.id for _, r in items)}
        for line, record in items:
            stored = stored_ones.get(record.id)
            if stored is None:
                new.append((line, record))
            elif stored.customer_id == record.customer_id:
                present += 1  # whatever it holds now: the stored one is kept
            else:
                reason = f"already used by {kind.what} of another customer"
                rejects.append(Reject(line, "id", "duplicate", reason))
        good, refused = _checked(uow, kind, new)
        repository.add_many(record for _, record in good)
        uow.commit()
    return len(good), present, rejects + refused


def store_records(
    uow: UnitOfWork, kind: RecordKind, items: list[tuple[int, Any]]
) -> tuple[int, int, list[Reject]]:
    """Store one batch of records in one transaction; returns (stored, already present,
    rejects). The batch goes through the bulk path (``add_many``) when every row is new
    and good; otherwise its stored rows are told apart first (see :func:`_store_each`).
    A batch that lost a race with another writer is tried again (:func:`~insurcrm.services.
    csv_cells.retried`)."""

    def attempt() -> tuple[int, int, list[Reject]]:
        return _store_new(uow, kind, items) or _store_each(uow, kind, items)

    return retried(attempt, ConcurrencyError, Duplicate)  # another writer added an id
