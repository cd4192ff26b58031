"""Validated value objects of the customer card (DOMAIN.md §1.1).

Each value validates itself on construction and raises
:class:`~insurcrm.errors.ValidationError` naming the field and the rule, never
the rejected value. Personal values mask themselves in ``repr`` and ``str``;
read ``.value`` (or ``.e164``) for the real text.
"""

from __future__ import annotations

import datetime as dt
import unicodedata
from collections.abc import Iterable
from decimal import Decimal, InvalidOperation
from typing import Any, Self

import attrs
import phonenumbers
from email_validator import EmailNotValidError, validate_email
from stdnum import exceptions as stdnum_errors
from stdnum.cn import ric

from insurcrm.domain.labels import LabelledEnum
from insurcrm.domain.privacy import mask_email, mask_id_number, mask_name, mask_phone
from insurcrm.errors import ValidationError

__all__ = [
    "CENT",
    "DEFAULT_CURRENCY",
    "NOT_A_CODE",
    "Email",
    "Gender",
    "Money",
    "PersonName",
    "Phone",
    "ResidentId",
    "check_not_after",
    "check_text",
    "total_in",
]

DEFAULT_CURRENCY = "CNY"
CENT = Decimal("0.01")


def check_text(value: object, field: str, *, required: bool = False) -> None:
    """Refuse text a store cannot keep exactly.

    Any Unicode is kept as typed (Chinese, quotes, emoji), except the NUL
    character and lone surrogates, which neither SQLite's UTF-8 nor
    PostgreSQL's ``text`` can hold.

    Args:
        value: the text to check.
        field: the field path used in the error.
        required: also refuse text that is empty after trimming.

    Raises:
        ValidationError: rule ``text.type``, ``text.required`` or ``text.unstorable``.
    """
    if not isinstance(value, str):
        raise ValidationError(field, "text.type", "must be text")
    if required and not value.strip():
        raise ValidationError(field, "text.required", "must not be empty")
    if "\x00" in value or any(unicodedata.category(ch) == "Cs" for ch in value):
        raise ValidationError(
            field, "text.unstorable", "contains a NUL character or a lone surrogate"
        )


def check_not_after(value: dt.date | None, limit: dt.date, field: str) -> None:
    """Refuse a date later than ``limit`` (the date the record is made).

    Raises:
        ValidationError: rule ``date.future``.
    """
    if value is not None and value > limit:
        raise ValidationError(field, "date.future", "must not be after the date of the record")


class Gender(LabelledEnum):
    """Gender as printed on the resident ID card (性别)."""

    MALE = ("MALE", "男")
    FEMALE = ("FEMALE", "女")


def _validate_name(instance: PersonName, attribute: Any, value: Any) -> None:
    check_text(value, "name", required=True)


@attrs.frozen(repr=False)
class PersonName:
    """A person's name, kept exactly as typed (Chinese, apostrophes, quotes …).

    Example:
        >>> PersonName("欧阳娜娜")
        PersonName('欧***')
    """

    value: str = attrs.field(validator=_validate_name)

    def __repr__(self) -> str:
        return f"PersonName({mask_name(self.value)!r})"

    def __str__(self) -> str:
        return mask_name(self.value)


def _normalise_id(raw: object) -> str:
    if not isinstance(raw, str):
        raise ValidationError("id_number", "text.type", "must be text")
    return raw.strip().upper()


#: First two digits of a resident ID: the province-level division (GB/T 2260).
PROVINCE_CODES = frozenset(
    {11, 12, 13, 14, 15, 21, 22, 23, 31, 32, 33, 34, 35, 36, 37, 41, 42, 43, 44, 45, 46}
    | {50, 51, 52, 53, 54, 61, 62, 63, 64, 65, 71, 81, 82}
)


def _validate_id(instance: ResidentId, attribute: Any, value: str) -> None:
    """Length, digits, GB 11643 check digit (python-stdnum), a real birth date, a province.

    The six-digit region code is not checked against the year of birth: an ID carries the
    code of the place where it was issued, which may have been created after the holder
    was born, so such numbers are real.
    """
    if len(value) != 18:
        raise ValidationError("id_number", "id_number.length", "must have 18 characters")
    if not value[:17].isdigit() or not value[:17].isascii() or value[17] not in "0123456789X":
        raise ValidationError(
            "id_number", "id_number.format", "must be 17 digits and a check character"
        )
    if ric.calc_check_digit(value) != value[17]:
        raise ValidationError(
            "id_number", "id_number.checksum", "check digit does not match (GB 11643)"
        )
    try:
        ric.get_birth_date(value)
    except stdnum_errors.InvalidComponent:
        raise ValidationError(
            "id_number", "id_number.birth_date", "does not encode a valid birth date"
        ) from None
    if int(value[:2]) not in PROVINCE_CODES:
        raise ValidationError("id_number", "id_number.region", "unknown province code")


@attrs.frozen(repr=False)
class ResidentId:
    """A mainland resident ID number (身份证号), GB 11643 check digit verified.

    Stored normalised: trimmed, with an upper-case ``X`` check character.

    Example:
        >>> rid = ResidentId("11010519491231002x")
        >>> rid.birth_date, rid.gender
        (datetime.date(1949, 12, 31), Gender.FEMALE)
        >>> rid
        ResidentId('110105********002X')
    """

    value: str = attrs.field(converter=_normalise_id, validator=_validate_id)

    @classmethod
    def compose(cls, region: str, birth_date: dt.date, sequence: int) -> Self:
        """The ID number of a six-digit region code, a birth date and a 3-digit sequence
        (odd for men, even for women), with its GB 11643 check digit computed.

        Raises:
            ValidationError: the parts do not make a valid number.
        """
        body = f"{region}{birth_date:%Y%m%d}{sequence:03d}"
        # calc_check_digit ignores the last character it is given: pass a placeholder.
        return cls(body + str(ric.calc_check_digit(body + "0")))

    @property
    def birth_date(self) -> dt.date:
        """The date of birth encoded in digits 7–14."""
        return dt.date(int(self.value[6:10]), int(self.value[10:12]), int(self.value[12:14]))

    @property
    def gender(self) -> Gender:
        """The gender encoded by digit 17: odd is male, even is female."""
        return Gender.MALE if int(self.value[16]) % 2 == 1 else Gender.FEMALE

    def __repr__(self) -> str:
        return f"ResidentId({mask_id_number(self.value)!r})"

    def __str__(self) -> str:
        return mask_id_number(self.value)


def _format_e164(number: phonenumbers.PhoneNumber) -> str:
    """A parsed phone number in E.164 form."""
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def _validate_e164(instance: Phone, attribute: Any, value: Any) -> None:
    if not isinstance(value, str):
        raise ValidationError("phone", "text.type", "must be text")
    try:
        parsed = phonenumbers.parse(value, None)
    except phonenumbers.NumberParseException:
        raise ValidationError("phone", "phone.format", "must be in E.164 form") from None
    if _format_e164(parsed) != value or not phonenumbers.is_valid_number(parsed):
        raise ValidationError("phone", "phone.invalid", "not a valid E.164 phone number")


@attrs.frozen(repr=False)
class Phone:
    """A valid phone number, stored in E.164 form (``+8613812345678``).

    Build one from what a person typed with :meth:`parse`; a Chinese number
    without country code is accepted and normalised.

    Example:
        >>> Phone.parse("138 1234 5678")
        Phone('+86 138****5678')
    """

    e164: str = attrs.field(validator=_validate_e164)

    @classmethod
    def parse(cls, raw: str, default_region: str = "CN") -> Self:
        """Parse a typed phone number; numbers without ``+`` are read as ``default_region``.

        Raises:
            ValidationError: rule ``phone.format`` or ``phone.invalid``.
        """
        check_text(raw, "phone", required=True)
        try:
            parsed = phonenumbers.parse(raw, default_region)
        except phonenumbers.NumberParseException:
            raise ValidationError("phone", "phone.format", "is not a phone number") from None
        if not phonenumbers.is_valid_number(parsed):
            raise ValidationError("phone", "phone.invalid", "not a valid phone number")
        # Valid and in E.164 form by construction: not parsed a second time by the validator
        # (which would double the cost of reading a phone from a CSV row).
        phone = cls.__new__(cls)
        object.__setattr__(phone, "e164", _format_e164(parsed))
        return phone

    @property
    def country_code(self) -> int:
        """The ITU country calling code, e.g. 86."""
        code = phonenumbers.parse(self.e164, None).country_code
        return int(code or 0)

    def __repr__(self) -> str:
        return f"Phone({mask_phone(self.e164, self.country_code)!r})"

    def __str__(self) -> str:
        return mask_phone(self.e164, self.country_code)


def _normalise_email(raw: object) -> str:
    check_text(raw, "email", required=True)
    assert isinstance(raw, str)
    try:
        result = validate_email(raw.strip(), check_deliverability=False)
    except EmailNotValidError:
        raise ValidationError("email", "email.invalid", "not a valid email address") from None
    return str(result.normalized)


@attrs.frozen(repr=False)
class Email:
    """A syntactically valid email address (the domain part normalised).

    Example:
        >>> Email("Zhang.San@Example.COM")
        Email('Z***@example.com')
    """

    value: str = attrs.field(converter=_normalise_email)

    def __repr__(self) -> str:
        return f"Email({mask_email(self.value)!r})"

    def __str__(self) -> str:
        return mask_email(self.value)


def _to_amount(raw: object) -> Decimal:
    if isinstance(raw, bool | float):
        raise ValidationError("amount", "money.float", "must be a Decimal, int or str, not a float")
    if isinstance(raw, int):
        raw = Decimal(raw)
    elif isinstance(raw, str):
        try:
            raw = Decimal(raw.strip())
        except InvalidOperation:
            raise ValidationError("amount", "money.format", "is not a decimal number") from None
    if not isinstance(raw, Decimal):
        raise ValidationError("amount", "money.type", "must be a Decimal")
    if not raw.is_finite():
        raise ValidationError("amount", "money.format", "must be a finite number")
    if raw < 0:
        raise ValidationError("amount", "money.negative", "must not be negative")
    if raw >= Decimal("1e16"):
        raise ValidationError("amount", "money.range", "must be below 10^16")
    if raw != raw.quantize(CENT):
        raise ValidationError("amount", "money.places", "must have at most 2 decimal places")
    return abs(raw.quantize(CENT))


#: What the renminbi is often written, though ISO 4217 has no such code: it is CNY.
NOT_A_CODE = "RMB"


def _validate_currency(instance: Money, attribute: Any, value: object) -> None:
    if not (isinstance(value, str) and len(value) == 3 and value.isascii() and value.isupper()):
        raise ValidationError("currency", "money.currency", "must be an ISO 4217 code like CNY")
    if value == NOT_A_CODE:
        raise ValidationError(
            "currency", "money.currency", "RMB is not an ISO 4217 code: the renminbi is CNY"
        )


def total_in(amounts: Iterable[Money], currency: str = DEFAULT_CURRENCY) -> Decimal:
    """The sum of the amounts in ``currency`` (CNY), to the cent. Amounts in another
    currency are left out: insurcrm holds no exchange rates, so no figure in CNY adds them.

    Example:
        >>> total_in([Money("1.50"), Money("2", "USD"), Money(3)])
        Decimal('4.50')
    """
    return sum((m.amount for m in amounts if m.currency == currency), Decimal("0.00"))


@attrs.frozen(order=False)
class Money:
    """A non-negative amount with at most 2 decimal places, never a float.

    Example:
        >>> Money("12.5")
        Money(amount=Decimal('12.50'), currency='CNY')
        >>> Money("1.5") + Money(2)
        Money(amount=Decimal('3.50'), currency='CNY')
    """

    amount: Decimal = attrs.field(converter=_to_amount)
    currency: str = attrs.field(default=DEFAULT_CURRENCY, validator=_validate_currency)

    @classmethod
    def zero(cls, currency: str = DEFAULT_CURRENCY) -> Money:
        """Return zero in ``currency``."""
        return cls(Decimal("0.00"), currency)

    def _same_currency(self, other: Money) -> None:
        if self.currency != other.currency:
            raise ValidationError("currency", "money.mixed", "cannot combine two currencies")

    def __add__(self, other: Money) -> Money:
        self._same_currency(other)
        return Money(self.amount + other.amount, self.currency)

    def __lt__(self, other: Money) -> bool:
        self._same_currency(other)
        return self.amount < other.amount

    def __le__(self, other: Money) -> bool:
        self._same_currency(other)
        return self.amount <= other.amount

    def __str__(self) -> str:
        return f"{self.currency} {self.amount:,.2f}"
