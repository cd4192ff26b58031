"""Calendar arithmetic the rules share (no clock: every date is an argument)."""

from __future__ import annotations

import datetime as dt

__all__ = ["add_years", "whole_years_between"]


def add_years(day: dt.date, years: int) -> dt.date:
    """Return ``day`` moved by ``years`` (negative goes back); 29 Feb becomes 28 Feb.

    Example:
        >>> add_years(dt.date(2024, 2, 29), -3)
        datetime.date(2021, 2, 28)
    """
    try:
        return day.replace(year=day.year + years)
    except ValueError:
        return day.replace(year=day.year + years, day=28)


def whole_years_between(start: dt.date, end: dt.date) -> int:
    """Completed years from ``start`` to ``end`` (0 when ``end`` is before ``start``)."""
    if end < start:
        return 0
    years = end.year - start.year
    if add_years(start, years) > end:
        years -= 1
    return years
