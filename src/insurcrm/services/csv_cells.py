"""What every kind of CSV import shares: reading the cells of a row (each function reads
one column of a row, a ``dict`` of column name to text, and raises
:class:`~insurcrm.errors.ValidationError` naming that column, never echoing its value), the
record of a refused row, and how often a batch that lost a race is tried again."""

from __future__ import annotations

import datetime as dt
import re
import time
from collections.abc import Callable, Iterable
from decimal import Decimal, InvalidOperation
from enum import Enum
from typing import Any, TypeVar

import attrs

from insurcrm.domain.values import Money
from insurcrm.errors import ValidationError

__all__ = [
    "RETRIES",
    "RETRY_PAUSE",
    "Fault",
    "Reject",
    "grouped",
    "not_after",
    "read_code",
    "read_codes",
    "read_date",
    "read_flag",
    "read_money",
    "read_optional_flag",
    "read_text",
    "required",
    "retried",
]

E = TypeVar("E", bound=Enum)
T = TypeVar("T")

_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
_AMOUNT = re.compile(r"[0-9]+(\.[0-9]+)?")
#: How many times a batch is tried again when another writer changed (or added) one of its
#: rows meanwhile, or held the database (SQLite writes one at a time), before the error is
#: let through.
RETRIES = 3
#: Seconds before the first try again; each next waits twice as long.
RETRY_PAUSE = 0.05

_SEPARATOR = re.compile(r"\s*;\s*")
_TRUE = ("true", "1", "yes")
_FALSE = ("false", "0", "no")


#: A row's fault found when it is stored (its customer or policy known): the column at
#: fault, the rule and the reason, as in a :class:`Reject`.
Fault = tuple[str, str, str]


@attrs.frozen
class Reject:
    """A row refused: its line, the column at fault, the rule and the reason (never the
    value)."""

    line: int
    field: str
    rule: str
    reason: str


def retried(attempt: Callable[[], T], *races: type[Exception]) -> T:
    """``attempt()``, run again up to :data:`RETRIES` more times while it raises one of
    ``races`` (another writer got in the way: each try reads afresh, after a pause that
    doubles from :data:`RETRY_PAUSE`, so a writer holding the database can finish); the
    last try's error is let through."""
    for n in range(RETRIES):
        try:
            return attempt()
        except races:
            time.sleep(RETRY_PAUSE * 2**n)
    return attempt()


def grouped(
    items: Iterable[tuple[int, T]], key: Callable[[T], str]
) -> dict[str, list[tuple[int, T]]]:
    """A batch's rows (line, entry) by the record they change (``key`` of the entry), in
    the order of the file: a batch reads each record once and saves it once."""
    groups: dict[str, list[tuple[int, T]]] = {}
    for line, entry in items:
        groups.setdefault(key(entry), []).append((line, entry))
    return groups


def read_text(row: dict[str, str], name: str) -> str | None:
    """A column's text without surrounding spaces; empty (or absent) is None."""
    value = row.get(name, "").strip()
    return value or None


def read_date(row: dict[str, str], name: str) -> dt.date | None:
    """A ``YYYY-MM-DD`` column; empty is None."""
    value = read_text(row, name)
    if value is None:
        return None
    try:
        if not _DATE.fullmatch(value):
            raise ValueError(value)
        return dt.date.fromisoformat(value)
    except ValueError:
        raise ValidationError(name, "date.format", "must be a date YYYY-MM-DD") from None


def not_after(day: dt.date, name: str, today: dt.date | None, what: str = "") -> dt.date:
    """``day``, refused when it is after ``today`` (None: not checked)."""
    if today is not None and day > today:
        raise ValidationError(name, "date.future", f"is after the import date{what}")
    return day


def read_code(row: dict[str, str], name: str, kind: type[E]) -> E | None:
    """An enum name of ``kind`` (any case); empty is None."""
    value = read_text(row, name)
    if value is None:
        return None
    try:
        return kind[value.upper()]
    except KeyError:
        raise ValidationError(name, "code.unknown", f"not a {kind.__name__} name") from None


def read_codes(row: dict[str, str], name: str, kind: type[E]) -> tuple[E, ...]:
    """Enum names of ``kind`` (any case) separated by ``;``, in their order; empty is
    none."""
    value = read_text(row, name)
    if value is None:
        return ()
    try:
        return tuple(kind[code.upper()] for code in _SEPARATOR.split(value) if code)
    except KeyError:
        reason = f"not {kind.__name__} names separated by ;"
        raise ValidationError(name, "code.unknown", reason) from None


def required(value: Any, name: str) -> Any:
    """``value``, refused (rule ``required``, on column ``name``) when it is None."""
    if value is None:
        raise ValidationError(name, "required", "is required")
    return value


def read_flag(row: dict[str, str], name: str) -> bool:
    """A true/false column; empty is false."""
    return bool(read_optional_flag(row, name))


def read_optional_flag(row: dict[str, str], name: str) -> bool | None:
    """A true/false column; empty is None (not known)."""
    value = read_text(row, name)
    if value is None:
        return None
    if value.lower() not in (*_TRUE, *_FALSE):
        raise ValidationError(name, "flag.format", "must be true or false")
    return value.lower() in _TRUE


def read_money(row: dict[str, str], name: str, currency: str) -> Money:
    """A required decimal amount with at most 2 places, in ``currency``."""
    value = required(read_text(row, name), name)
    if not _AMOUNT.fullmatch(value):
        raise ValidationError(name, "money.format", "must be a decimal amount like 1234.50")
    try:
        return Money(Decimal(value), currency)
    except InvalidOperation:
        raise ValidationError(name, "money.format", "must be a decimal amount") from None
    except ValidationError as error:
        field = "currency" if error.field == "currency" else name  # the column at fault
        raise ValidationError(field, error.rule, error.message) from None
