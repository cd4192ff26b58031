"""Customers' assessment figures as columns: what storage hands the portfolio engine.

A million :class:`~insurcrm.domain.assessment.AssessmentFigures` rows cost a Decimal per
amount and a date per day; the engine works on whole columns of integers. A
:class:`FigureBatch` holds one batch of customers' figures as one column per field, in the
field order of ``AssessmentFigures``, with every date as its day number
(``date.toordinal()``, 0 for none) and every amount as integer cents. The SQL adapters
build batches straight from the database's rows; :meth:`FigureBatch.of` and
:meth:`FigureBatch.figures` convert from and to figures rows, exactly.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Iterator, Sequence
from decimal import Decimal
from itertools import islice
from typing import Any

import attrs

from insurcrm.domain.assessment import AssessmentFigures

__all__ = [
    "AMOUNT_FIELDS",
    "DAY_FIELDS",
    "NO_DAY",
    "FigureBatch",
    "amount_of",
    "cents_of",
    "figure_batches",
]

#: The day number of a missing date (real dates are numbered from 1).
NO_DAY = 0
#: The fields of AssessmentFigures held as day numbers in a batch.
DAY_FIELDS = ("first_purchase", "last_purchase", "last_purchase_ours", "churn_on")
#: The fields of AssessmentFigures held as integer cents in a batch.
AMOUNT_FIELDS = (
    "window_premium",
    "in_force_premium",
    "elsewhere_premium",
    "warning_bought",
    "warning_bought_before",
    "lost_premium",
    "period_sales",
)
_FIELDS = AssessmentFigures._fields
_DAYS = frozenset(_FIELDS.index(name) for name in DAY_FIELDS)
_AMOUNTS = frozenset(_FIELDS.index(name) for name in AMOUNT_FIELDS)


def _day(day: dt.date | None) -> int:
    return NO_DAY if day is None else day.toordinal()


def _date(number: int) -> dt.date | None:
    return None if number == NO_DAY else dt.date.fromordinal(number)


def cents_of(amount: Decimal) -> int:
    """An amount of at most two decimal places (as money is) in cents."""
    return int(amount.scaleb(2))


def amount_of(cents: int) -> Decimal:
    """An amount in cents as a Decimal of two places (the inverse of :func:`cents_of`)."""
    return Decimal(cents).scaleb(-2)


@attrs.frozen
class FigureBatch:
    """One batch of customers' figures, as columns.

    Attributes:
        columns: one sequence per field of AssessmentFigures, in its field order, each as
            long as the batch; the :data:`DAY_FIELDS` as day numbers (:data:`NO_DAY` for
            none), the :data:`AMOUNT_FIELDS` as integer cents, every other field as in
            AssessmentFigures.
    """

    columns: tuple[Sequence[Any], ...] = attrs.field()

    @columns.validator
    def _check(self, _: object, columns: tuple[Sequence[Any], ...]) -> None:
        if len(columns) != len(_FIELDS):
            raise ValueError(f"a figure batch has {len(_FIELDS)} columns, not {len(columns)}")
        if len({len(c) for c in columns}) > 1:
            raise ValueError("the columns of a figure batch differ in length")

    def __len__(self) -> int:
        return len(self.columns[0])

    @classmethod
    def of(cls, figures: Sequence[AssessmentFigures]) -> FigureBatch:
        """The batch of ``figures`` (amounts of at most two decimal places, as money is)."""
        columns = list(zip(*figures, strict=True)) if figures else [()] * len(_FIELDS)
        return cls(
            tuple(
                [_day(d) for d in column]
                if i in _DAYS
                else [cents_of(a) for a in column]
                if i in _AMOUNTS
                else column
                for i, column in enumerate(columns)
            )
        )

    def figures(self) -> list[AssessmentFigures]:
        """The batch as figures rows (dates and Decimal amounts of two places)."""
        columns = [
            [_date(n) for n in column]
            if i in _DAYS
            else [amount_of(c) for c in column]
            if i in _AMOUNTS
            else column
            for i, column in enumerate(self.columns)
        ]
        return [AssessmentFigures._make(row) for row in zip(*columns, strict=True)]


def figure_batches(figures: Iterable[AssessmentFigures], size: int) -> Iterator[FigureBatch]:
    """``figures`` in batches of ``size`` customers (the last one may be smaller)."""
    it = iter(figures)
    while chunk := list(islice(it, size)):
        yield FigureBatch.of(chunk)
