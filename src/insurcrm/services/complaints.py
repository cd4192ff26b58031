"""Complaints through a unit of work (DOMAIN.md §8): receive one, walk its seven steps,
close and reopen it, and report handling against the promise.

Each function is one transaction: it loads the complaint, applies the move (which
refuses a step out of order, naming the next one) and saves it; a concurrent change
raises :class:`~insurcrm.errors.ConcurrencyError` and stores nothing.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

from insurcrm.domain.complaint_handling import ComplaintHandling, complaint_handling
from insurcrm.domain.complaints import Complaint, ComplaintStep
from insurcrm.domain.unit_of_work import UnitOfWork
from insurcrm.errors import RuleViolation
from insurcrm.services.customers import is_erased

__all__ = [
    "close_complaint",
    "complaint_handling_for",
    "complete_step",
    "receive_complaint",
    "reopen_complaint",
    "skip_compensation",
]


def receive_complaint(uow: UnitOfWork, complaint: Complaint) -> Complaint:
    """Store a new complaint (from :meth:`Complaint.receive`).

    Raises:
        NotFound: no such customer.
        RuleViolation: the customer is erased.
        Duplicate: the complaint id is taken.
    """
    with uow:
        if is_erased(uow, complaint.customer_id):
            raise RuleViolation(f"customer {complaint.customer_id} was erased")
        stored = uow.complaints.add(complaint)
        uow.commit()
    return stored


def _change(
    uow: UnitOfWork, complaint_id: str, move: Callable[[Complaint], Complaint]
) -> Complaint:
    with uow:
        stored = uow.complaints.save(move(uow.complaints.get(complaint_id)))
        uow.commit()
    return stored


def complete_step(
    uow: UnitOfWork,
    complaint_id: str,
    step: ComplaintStep,
    on: dt.date,
    note: str | None = None,
) -> Complaint:
    """Record that ``step`` of the complaint was done on ``on``.

    Raises:
        NotFound: no such complaint.
        RuleViolation: the step is out of order (the message names the next step).
    """
    return _change(uow, complaint_id, lambda c: c.complete(step, on, note))


def skip_compensation(uow: UnitOfWork, complaint_id: str, on: dt.date, reason: str) -> Complaint:
    """Skip the compensation step, stating why."""
    return _change(uow, complaint_id, lambda c: c.skip_compensation(on, reason))


def close_complaint(uow: UnitOfWork, complaint_id: str, on: dt.date) -> Complaint:
    """Close the complaint once every step is done."""
    return _change(uow, complaint_id, lambda c: c.close(on))


def reopen_complaint(uow: UnitOfWork, complaint_id: str, on: dt.date, reason: str) -> Complaint:
    """Reopen a closed complaint, stating why."""
    return _change(uow, complaint_id, lambda c: c.reopen(on, reason))


def complaint_handling_for(uow: UnitOfWork, start: dt.date, end: dt.date) -> ComplaintHandling:
    """Handling against promise of the complaints received after ``start`` up to ``end``."""
    with uow:
        return complaint_handling(uow.complaints.iterate(), start, end)
