"""Complaint handling against the promise (DOMAIN.md §8): how many complaints were answered
by the day promised, how long handling took, and what is overdue."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from decimal import Decimal

import attrs

from insurcrm.domain.complaints import Complaint, ComplaintStatus
from insurcrm.domain.rates import Rate

__all__ = ["ComplaintHandling", "complaint_handling"]


@attrs.frozen
class ComplaintHandling:
    """Complaints received from the day after ``start`` to ``end``, as of ``end``.

    Attributes:
        received: complaints received in the period.
        answered_on_time: of those answered, answered by the promised day.
        open: still open at ``end``.
        overdue: open, unanswered and past the promised day at ``end`` (their ids).
        reopened: reopened at least once.
        handling_days: days from receipt to the first closing, of those closed.
    """

    start: dt.date
    end: dt.date
    received: int
    answered_on_time: Rate
    open: int
    overdue: tuple[str, ...]
    reopened: int
    handling_days: tuple[int, ...]

    @property
    def closed(self) -> int:
        """Complaints of the period closed at least once."""
        return len(self.handling_days)

    @property
    def average_handling_days(self) -> Decimal | None:
        """The mean handling time in days (1 place), None when none was closed."""
        if not self.handling_days:
            return None
        return (Decimal(sum(self.handling_days)) / len(self.handling_days)).quantize(Decimal("0.1"))

    @property
    def late(self) -> int:
        """Answered after the promised day."""
        return self.answered_on_time.denominator - self.answered_on_time.numerator


def complaint_handling(
    complaints: Iterable[Complaint], start: dt.date, end: dt.date
) -> ComplaintHandling:
    """Handling against promise for the complaints received after ``start`` up to ``end``.

    Only steps and changes up to ``end`` count, so a past period's report does not
    change when later work is recorded.
    """
    received = on_time = answered = still_open = reopened = 0
    overdue: list[str] = []
    handling: list[int] = []
    for complaint in complaints:
        if not start < complaint.received_on <= end:
            continue
        received += 1
        answer = complaint.answered_on
        if answer is not None and answer <= end:
            answered += 1
            on_time += answer <= complaint.promised_by
        elif end > complaint.promised_by:
            overdue.append(complaint.id)
        changes = [c for c in complaint.changes if c.on <= end]
        closed = [c.on for c in changes if c.status is ComplaintStatus.CLOSED]
        if closed:
            handling.append((closed[0] - complaint.received_on).days)
        if not changes or changes[-1].status is ComplaintStatus.OPEN:
            still_open += 1
        reopened += any(c.status is ComplaintStatus.OPEN for c in changes)
    return ComplaintHandling(
        start,
        end,
        received,
        Rate(on_time, answered),
        still_open,
        tuple(sorted(overdue)),
        reopened,
        tuple(handling),
    )
