"""attrs validators shared by the domain's classes and rule configurations (each names the
field it refuses)."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import attrs

from insurcrm.errors import ValidationError

__all__ = ["fraction", "non_negative_decimal", "non_negative_int", "optional_of", "positive_int"]


def optional_of(kind: type | tuple[type, ...]) -> Any:
    """An attrs field, default None, holding a ``kind`` (a type check naming the field)."""
    names = " or ".join(k.__name__ for k in (kind if isinstance(kind, tuple) else (kind,)))

    def check(instance: Any, attribute: attrs.Attribute[Any], value: object) -> None:
        if value is not None and not isinstance(value, kind):
            raise ValidationError(attribute.name, "type", f"must be {names}")

    return attrs.field(default=None, validator=check)


def non_negative_int(instance: Any, attribute: attrs.Attribute[Any], value: Any) -> None:
    """A whole number ≥ 0."""
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise ValidationError(attribute.name, "config.range", "must be a whole number ≥ 0")


def positive_int(instance: Any, attribute: attrs.Attribute[Any], value: Any) -> None:
    """A whole number ≥ 1."""
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ValidationError(attribute.name, "config.range", "must be a whole number ≥ 1")


def non_negative_decimal(instance: Any, attribute: attrs.Attribute[Any], value: Any) -> None:
    """A finite Decimal ≥ 0 (never a float)."""
    if not isinstance(value, Decimal) or not value.is_finite() or value < 0:
        raise ValidationError(attribute.name, "config.range", "must be a Decimal ≥ 0")


def fraction(instance: Any, attribute: attrs.Attribute[Any], value: Any) -> None:
    """A Decimal between 0 and 1 inclusive."""
    if not isinstance(value, Decimal) or not value.is_finite() or not 0 <= value <= 1:
        raise ValidationError(attribute.name, "config.range", "must be a Decimal from 0 to 1")
