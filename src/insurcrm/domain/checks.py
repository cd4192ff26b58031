"""attrs validators shared by the rule configurations (each names the field it refuses)."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import attrs

from insurcrm.errors import ValidationError

__all__ = ["fraction", "non_negative_decimal", "non_negative_int", "positive_int"]


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
