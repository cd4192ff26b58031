"""Rates shown as percentages, with the counts they come from."""

from __future__ import annotations

from decimal import Decimal

import attrs

__all__ = ["Rate", "percent"]


def percent(numerator: int, denominator: int) -> Decimal | None:
    """``numerator / denominator`` as a percentage with 2 places; None when the
    denominator is 0 (a rate of nothing is not 0 %).

    Example:
        >>> percent(1, 3)
        Decimal('33.33')
    """
    if denominator == 0:
        return None
    return (Decimal(100) * numerator / denominator).quantize(Decimal("0.01"))


@attrs.frozen
class Rate:
    """A share of a group: ``numerator`` of ``denominator``, kept so a person can check it."""

    numerator: int
    denominator: int

    @property
    def percent(self) -> Decimal | None:
        """The rate in % with 2 places, None for an empty group."""
        return percent(self.numerator, self.denominator)

    def __str__(self) -> str:
        shown = self.percent
        return "n/a" if shown is None else f"{shown} % ({self.numerator}/{self.denominator})"
