"""Complaint handling against the promise (DOMAIN.md §8): answered by the promised day or
late, handling time from receipt to the first closing, what is open and overdue, and a past
period's report unchanged by later work."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from hypothesis import given
from hypothesis import strategies as st

from insurcrm.domain.complaint_handling import complaint_handling
from insurcrm.domain.complaints import Complaint, ComplaintStep
from insurcrm.testing import strategies as gen

START = dt.date(2024, 2, 29)
END = dt.date(2024, 3, 31)
DAY = dt.timedelta(days=1)


def walked(received: dt.date, promised: dt.date, answer_after: int, cid: str) -> Complaint:
    """Every step done, the solution ``answer_after`` days after receipt, then closed."""
    complaint = Complaint.receive(cid, "C1", received, promised)
    day = received
    for step in ComplaintStep:
        if step is ComplaintStep.FIND_SOLUTION:
            day = received + answer_after * DAY
        complaint = complaint.complete(step, day)
    return complaint.close(day + DAY)


class TestExamples:
    def test_on_time_late_open_and_overdue(self) -> None:
        on_time = walked(dt.date(2024, 3, 1), dt.date(2024, 3, 5), 3, "K1")  # answered 03-04
        late = walked(dt.date(2024, 3, 1), dt.date(2024, 3, 2), 4, "K2")  # answered 03-05
        overdue = Complaint.receive("K3", "C1", dt.date(2024, 3, 10), dt.date(2024, 3, 12))
        waiting = Complaint.receive("K4", "C1", dt.date(2024, 3, 30), dt.date(2024, 4, 2))
        earlier = walked(dt.date(2024, 2, 1), dt.date(2024, 2, 3), 1, "K0")  # another period
        report = complaint_handling([on_time, late, overdue, waiting, earlier], START, END)
        assert report.received == 4
        assert (report.answered_on_time.numerator, report.answered_on_time.denominator) == (1, 2)
        assert report.late == 1
        assert report.overdue == ("K3",)
        assert report.open == 2
        assert report.handling_days == (4, 5)
        assert report.closed == 2
        assert report.average_handling_days == Decimal("4.5")
        assert report.reopened == 0

    def test_a_reopening_counts_once_and_keeps_the_first_handling_time(self) -> None:
        closed = walked(dt.date(2024, 3, 1), dt.date(2024, 3, 5), 2, "K1")
        reopened = closed.reopen(dt.date(2024, 3, 20), "问题再次出现")
        report = complaint_handling([reopened], START, END)
        assert (report.reopened, report.open, report.handling_days) == (1, 1, (3,))

    def test_an_empty_period_has_no_average(self) -> None:
        report = complaint_handling([], START, END)
        assert (report.received, report.closed, report.average_handling_days) == (0, 0, None)
        assert report.answered_on_time.percent is None


class TestProperties:
    @given(st.lists(gen.complaints(since=dt.date(2023, 1, 1), until=dt.date(2025, 6, 30))))
    def test_counts_add_up(self, complaints: list[Complaint]) -> None:
        unique = list({c.id: c for c in complaints}.values())
        report = complaint_handling(unique, START, END)
        received = [c for c in unique if START < c.received_on <= END]
        assert report.received == len(received)
        rate = report.answered_on_time
        assert 0 <= rate.numerator <= rate.denominator <= report.received
        assert report.late + rate.numerator == rate.denominator
        assert report.closed + report.open >= report.received  # reopened ones are both
        assert report.closed <= report.received
        assert list(report.overdue) == sorted(report.overdue)
        assert set(report.overdue) <= {c.id for c in received}
        assert all(days >= 0 for days in report.handling_days)

    @given(st.lists(gen.complaints(since=dt.date(2023, 1, 1), until=dt.date(2025, 6, 30))))
    def test_a_past_period_does_not_change_with_later_work(
        self, complaints: list[Complaint]
    ) -> None:
        unique = list({c.id: c for c in complaints}.values())
        as_it_stood = [c.as_of(END) for c in unique]
        assert complaint_handling(unique, START, END) == complaint_handling(as_it_stood, START, END)
