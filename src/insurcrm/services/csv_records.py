"""Import the customer-service records of a book from CSV: contacts (interactions) and
survey responses, the history the early warning (§7.2) and the satisfaction indicators
(§9) read.

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

A record is checked as the live calls check it (:func:`~insurcrm.services.contacts.
log_interaction`, :func:`~insurcrm.services.satisfaction.record_survey_response`): its
customer must be stored, and an erased customer's record keeps no memo or comment; it is
stored marked erased, as the erasure left the customer's other records. Two rules of the
live calls do not apply to the past: the minimum interval between two surveys of a
customer, and the refusal to survey an erased customer, are about asking, and the responses
of the past were given. A record whose id is stored for the same customer is already
present (the stored one is kept); for another customer the row is refused.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable, Sequence
from typing import Any

import attrs

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
    Reject,
    not_after,
    read_code,
    read_date,
    read_optional_flag,
    read_text,
    required,
    retried,
)

__all__ = [
    "CONTACT_COLUMNS",
    "CONTACT_REQUIRED",
    "DIMENSION_COLUMNS",
    "RECORDS",
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

_SEPARATOR = re.compile(r"\s*;\s*")


def _day(row: dict[str, str], today: dt.date | None) -> dt.date:
    return not_after(required(read_date(row, "on"), "on"), "on", today)


def _signals(row: dict[str, str]) -> tuple[ObservedSignal, ...]:
    value = read_text(row, "signals")
    if value is None:
        return ()
    try:
        return tuple(ObservedSignal[name.upper()] for name in _SEPARATOR.split(value) if name)
    except KeyError:
        reason = "not ObservedSignal names separated by ;"
        raise ValidationError("signals", "code.unknown", reason) from None


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
        signals=_signals(row),
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


@attrs.frozen
class RecordKind:
    """How the rows of a file of one kind of customer-service record are read and stored."""

    build: Callable[..., Any]  # a row (and the import date) → the record
    repository: Callable[[UnitOfWork], RecordRepository[Any]]
    text: str  # the column of the record's free text (personal data)
    what: str  # what a record is, for the reasons


#: The kinds of customer-service record files, by kind name.
RECORDS = {
    "contacts": RecordKind(_contact, lambda uow: uow.interactions, "memo", "a contact"),
    "survey responses": RecordKind(
        _survey_response, lambda uow: uow.surveys, "comment", "a survey response"
    ),
}


def _checked(
    uow: UnitOfWork, kind: RecordKind, items: Sequence[tuple[int, Any]]
) -> tuple[list[tuple[int, Any]], list[Reject]]:
    """The records to store, an erased customer's as erasure leaves them (§10.4), and the
    rows refused: no such customer, or an erased customer's record with its text."""
    erased = uow.customers.erased_among(r.customer_id for _, r in items)
    good: list[tuple[int, Any]] = []
    rejects: list[Reject] = []
    for line, record in items:
        if record.customer_id not in erased:
            reason = "no such customer stored"
            rejects.append(Reject(line, "customer_id", "reference.missing", reason))
        elif not erased[record.customer_id]:
            good.append((line, record))
        elif getattr(record, kind.text) is None:
            good.append((line, record.erase()))
        else:
            reason = f"the customer was erased: {kind.what} of theirs keeps no {kind.text}"
            rejects.append(Reject(line, kind.text, "erased", reason))
    return good, rejects


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
