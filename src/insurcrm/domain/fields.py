"""attrs validators and converters shared by the customer-service records (churn records,
complaints, interactions, survey responses); each names the field it refuses."""

from __future__ import annotations

import datetime as dt
import enum
from collections.abc import Iterable
from typing import Any, TypeVar

import attrs

from insurcrm.domain.policies import check_id
from insurcrm.domain.values import check_text
from insurcrm.errors import ValidationError

__all__ = ["a_date", "an_id", "an_optional_id", "enum_tuple", "optional_text"]

E = TypeVar("E", bound=enum.Enum)


def an_id(instance: Any, attribute: attrs.Attribute[Any], value: object) -> None:
    """A short printable id (rule ``id.format``)."""
    check_id(value, attribute.name)


def an_optional_id(instance: Any, attribute: attrs.Attribute[Any], value: object) -> None:
    """None or a short printable id."""
    if value is not None:
        check_id(value, attribute.name)


def optional_text(instance: Any, attribute: attrs.Attribute[Any], value: object) -> None:
    """None or text a store can keep exactly."""
    if value is not None:
        check_text(value, attribute.name)


def a_date(instance: Any, attribute: attrs.Attribute[Any], value: object) -> None:
    """A date (not a datetime)."""
    if not isinstance(value, dt.date) or isinstance(value, dt.datetime):
        raise ValidationError(attribute.name, "type", "must be a date")


def enum_tuple(kind: type[E], field: str, items: Iterable[E]) -> tuple[E, ...]:
    """``items`` as a tuple of ``kind`` members in declaration order, without repeats
    (a converter's body: ``def _causes(items): return enum_tuple(ChurnCause, "causes", items)``).
    """
    found = tuple(items)
    for i, item in enumerate(found):
        if not isinstance(item, kind):
            raise ValidationError(f"{field}[{i}]", "type", f"must be {kind.__name__}")
    order = list(kind)
    return tuple(sorted(set(found), key=order.index))
