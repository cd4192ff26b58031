"""Plain-data forms of the domain objects, for JSON and for storage (cattrs).

``unstructure`` turns any aggregate or value into dicts, lists, strings and
numbers (money as exact decimal strings, dates as ISO text, enums by name);
``structure`` builds it back, validating every value on the way, and reports
a bad value with its full path, e.g. ``family[1].birth_date``, never with the
value itself.
"""

from __future__ import annotations

import datetime as dt
import functools
from decimal import Decimal
from enum import Enum
from typing import Any, TypeVar

import cattrs
from cattrs.errors import ClassValidationError, IterableValidationError
from cattrs.gen import make_dict_structure_fn, make_dict_unstructure_fn, override

from insurcrm.domain.churn import ChurnRecord
from insurcrm.domain.complaints import Complaint
from insurcrm.domain.customers import Customer
from insurcrm.domain.policies import Policy
from insurcrm.domain.tier_membership import TierMembership
from insurcrm.domain.values import Email, Money, PersonName, Phone, ResidentId
from insurcrm.errors import ValidationError

__all__ = ["make_converter", "structure", "unstructure"]

T = TypeVar("T")


def make_converter() -> cattrs.Converter:
    """A cattrs converter that knows every insurcrm value type."""
    conv = cattrs.Converter(forbid_extra_keys=True)
    conv.register_unstructure_hook(dt.date, lambda d: d.isoformat())
    conv.register_structure_hook(dt.date, _structure_date)
    conv.register_unstructure_hook(Decimal, str)
    conv.register_structure_hook(Decimal, lambda v, _: _structure_decimal(v))
    conv.register_unstructure_hook(Enum, lambda e: e.name)
    conv.register_structure_hook_func(
        lambda t: isinstance(t, type) and issubclass(t, Enum), _structure_enum
    )
    for kind, attr in ((PersonName, "value"), (ResidentId, "value"), (Email, "value")):
        conv.register_unstructure_hook(kind, functools.partial(_text_of, attr=attr))
        conv.register_structure_hook(kind, lambda v, t: _leaf(t, v))
    conv.register_unstructure_hook(Phone, lambda p: p.e164)
    conv.register_structure_hook(Phone, lambda v, _: _leaf(Phone, v))
    conv.register_unstructure_hook(
        Money, lambda m: {"amount": str(m.amount), "currency": m.currency}
    )
    conv.register_structure_hook(Money, _structure_money)
    for aggregate in (Customer, Policy, TierMembership, ChurnRecord, Complaint):
        # Recorded events travel through the unit of work, not with the stored aggregate.
        conv.register_unstructure_hook(
            aggregate, make_dict_unstructure_fn(aggregate, conv, events=override(omit=True))
        )
        conv.register_structure_hook(
            aggregate,
            make_dict_structure_fn(
                aggregate, conv, events=override(omit=True), _cattrs_forbid_extra_keys=True
            ),
        )
    return conv


def _leaf(kind: Any, value: object) -> Any:
    """Build a value object; its error names the place it is structured at, not its role."""
    if isinstance(value, kind):
        return value
    try:
        return kind(value)
    except ValidationError as error:
        raise ValidationError("", error.rule, error.message) from None


def _text_of(value: Any, attr: str) -> str:
    text: str = getattr(value, attr)
    return text


def _structure_date(value: object, _: type) -> dt.date:
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    if not isinstance(value, str):
        raise ValidationError("", "date.type", "must be an ISO date")
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise ValidationError("", "date.format", "must be an ISO date (YYYY-MM-DD)") from None


def _structure_decimal(value: object) -> Decimal:
    if isinstance(value, Decimal):
        return value
    if isinstance(value, int | str) and not isinstance(value, bool):
        try:
            return Decimal(value)
        except ArithmeticError:
            pass
    raise ValidationError("", "decimal.type", "must be a decimal number written as text")


def _structure_enum(value: object, kind: type[Enum]) -> Enum:
    if isinstance(value, kind):
        return value
    if isinstance(value, str) and value in kind.__members__:
        return kind[value]
    raise ValidationError("", "enum.value", f"must be one of {', '.join(kind.__members__)}")


def _structure_money(value: object, _: type) -> Money:
    if isinstance(value, Money):
        return value
    if not isinstance(value, dict):
        raise ValidationError("", "money.type", "must be {'amount': '…', 'currency': '…'}")
    amount = _structure_decimal(value.get("amount"))
    try:
        return Money(amount, value.get("currency", "CNY"))
    except ValidationError as error:
        raise ValidationError("", error.rule, error.message) from None


_CONVERTER = make_converter()


def unstructure(obj: Any) -> Any:
    """The plain-data form of an aggregate or value (JSON-ready)."""
    return _CONVERTER.unstructure(obj)


def structure(data: Any, kind: type[T]) -> T:
    """Build a ``kind`` from plain data, validating every value.

    Raises:
        ValidationError: naming the path of the first bad value, e.g.
            ``profile.mobile`` or ``family[0].birth_date``.
    """
    try:
        return _CONVERTER.structure(data, kind)
    except (ClassValidationError, IterableValidationError, ValidationError) as error:
        raise _first_error(error) from None
    except (TypeError, ValueError, KeyError, AttributeError) as error:
        raise ValidationError("", "structure", type(error).__name__) from None


def _first_error(error: BaseException, path: str = "") -> ValidationError:
    if isinstance(error, ValidationError):
        return error.at(path) if path else error
    if isinstance(error, ClassValidationError | IterableValidationError):
        with_notes, without_notes = error.group_exceptions()
        for exc in without_notes:
            return _first_error(exc, path)
        for exc, note in with_notes:
            name = getattr(note, "name", None)
            index = getattr(note, "index", None)
            if name is not None:
                step = f"{path}.{name}" if path else name
            elif index is not None:
                step = f"{path}[{index}]"
            else:
                step = path
            return _first_error(exc, step)
    if isinstance(error, cattrs.ForbiddenExtraKeysError):
        names = ", ".join(sorted(error.extra_fields))
        return ValidationError(path or names, "field.unknown", f"unknown field(s): {names}")
    if isinstance(error, KeyError):
        return ValidationError(path or "", "field.required", "is required")
    return ValidationError(path or "", "field.invalid", type(error).__name__)
