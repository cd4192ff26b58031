"""The parts of the customer information card (客户资料卡, DOMAIN.md §1.1).

Four parts: basic profile, life situation, family members and insurance
holdings. Free-text fields keep any Unicode exactly and mask themselves in
``repr``; only the name is required.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import attrs

from insurcrm.domain.checks import optional_of
from insurcrm.domain.labels import LabelledEnum
from insurcrm.domain.policies import ProductLine
from insurcrm.domain.privacy import mask_text
from insurcrm.domain.values import (
    Email,
    Gender,
    Money,
    PersonName,
    Phone,
    ResidentId,
    check_not_after,
    check_text,
)
from insurcrm.errors import ValidationError

__all__ = [
    "BasicProfile",
    "Education",
    "FamilyMember",
    "Holding",
    "LifeSituation",
    "MaritalStatus",
    "check_card_dates",
]


class MaritalStatus(LabelledEnum):
    """Marital status (婚姻状况)."""

    SINGLE = ("SINGLE", "未婚")
    MARRIED = ("MARRIED", "已婚")
    DIVORCED = ("DIVORCED", "离异")
    WIDOWED = ("WIDOWED", "丧偶")


class Education(LabelledEnum):
    """Highest education (学历)."""

    PRIMARY = ("PRIMARY", "小学")
    JUNIOR_HIGH = ("JUNIOR_HIGH", "初中")
    SENIOR_HIGH = ("SENIOR_HIGH", "高中/中专")
    COLLEGE = ("COLLEGE", "大专")
    BACHELOR = ("BACHELOR", "本科")
    MASTER = ("MASTER", "硕士")
    DOCTORATE = ("DOCTORATE", "博士")
    OTHER = ("OTHER", "其他")


def _optional_text(instance: Any, attribute: attrs.Attribute[Any], value: object) -> None:
    if value is not None:
        check_text(value, attribute.name)


def _private(**kwargs: Any) -> Any:
    """A free-text personal field: optional, checked, masked in ``repr``."""
    return attrs.field(default=None, validator=_optional_text, repr=mask_text, **kwargs)


@attrs.frozen
class BasicProfile:
    """Basic profile (基本资料): who the customer is and how to reach them.

    The resident ID, when given, must agree with the date of birth and the
    gender, when those are given (DOMAIN.md §1.1).

    Raises:
        ValidationError: a field of the wrong type, unstorable text, or an ID
            number that disagrees with the birth date or gender.
    """

    name: PersonName = attrs.field(validator=attrs.validators.instance_of(PersonName))
    gender: Gender | None = optional_of(Gender)
    birth_date: dt.date | None = optional_of(dt.date)
    native_place: str | None = _private()
    marital_status: MaritalStatus | None = optional_of(MaritalStatus)
    education: Education | None = optional_of(Education)
    id_number: ResidentId | None = optional_of(ResidentId)
    mobile: Phone | None = optional_of(Phone)
    employer: str | None = _private()
    department: str | None = _private()
    employer_address: str | None = _private()
    position: str | None = _private()
    work_phone: Phone | None = optional_of(Phone)
    occupation_type: str | None = _private()
    email: Email | None = optional_of(Email)
    work_fax: Phone | None = optional_of(Phone)
    home_phone: Phone | None = optional_of(Phone)
    home_address: str | None = _private()

    def __attrs_post_init__(self) -> None:
        rid = self.id_number
        if rid is None:
            return
        if self.birth_date is not None and rid.birth_date != self.birth_date:
            raise ValidationError(
                "id_number", "id_number.birth_date_mismatch", "birth date differs from birth_date"
            )
        if self.gender is not None and rid.gender != self.gender:
            raise ValidationError(
                "id_number", "id_number.gender_mismatch", "gender digit differs from gender"
            )

    @property
    def effective_birth_date(self) -> dt.date | None:
        """The date of birth, or the one encoded in the ID number."""
        if self.birth_date is not None:
            return self.birth_date
        return self.id_number.birth_date if self.id_number is not None else None


@attrs.frozen
class LifeSituation:
    """Life situation (生活情况): free-text notes gathered contact by contact."""

    career_history: str | None = _private()
    economic_condition: str | None = _private()
    hobbies: str | None = _private()
    social_circle: str | None = _private()
    personality: str | None = _private()
    health: str | None = _private()

    def is_empty(self) -> bool:
        """True when nothing is recorded."""
        return all(getattr(self, a.name) is None for a in attrs.fields(LifeSituation))


def _relation(instance: FamilyMember, attribute: attrs.Attribute[str], value: object) -> None:
    check_text(value, "relation", required=True)


@attrs.frozen
class FamilyMember:
    """A family member (家属情况): relation (称谓) is required."""

    relation: str = attrs.field(validator=_relation)
    name: PersonName | None = optional_of(PersonName)
    birth_date: dt.date | None = optional_of(dt.date)
    occupation: str | None = _private()


def _insurer(instance: Holding, attribute: attrs.Attribute[str], value: object) -> None:
    check_text(value, "insurer", required=True)


def _term(instance: Holding, attribute: attrs.Attribute[int | None], value: object) -> None:
    if value is not None and (isinstance(value, bool) or not isinstance(value, int) or value < 1):
        raise ValidationError("term_years", "term.range", "must be a whole number of years ≥ 1")


@attrs.frozen
class Holding:
    """One policy the customer holds, with us or another insurer (投保情况)."""

    insurer: str = attrs.field(validator=_insurer)
    line: ProductLine = attrs.field(validator=attrs.validators.instance_of(ProductLine))
    start_date: dt.date | None = optional_of(dt.date)
    term_years: int | None = attrs.field(default=None, validator=_term)
    sum_assured: Money | None = optional_of(Money)
    annual_premium: Money | None = optional_of(Money)


def check_card_dates(
    profile: BasicProfile | None,
    family: tuple[FamilyMember, ...],
    holdings: tuple[Holding, ...],
    on: dt.date,
) -> None:
    """Refuse card dates later than ``on``, the date the record is made (DOMAIN.md §1.1).

    Raises:
        ValidationError: rule ``date.future`` at e.g. ``profile.birth_date`` or
            ``family[1].birth_date``.
    """
    if profile is not None:
        check_not_after(profile.birth_date, on, "profile.birth_date")
        if profile.id_number is not None:
            check_not_after(profile.id_number.birth_date, on, "profile.id_number")
    for i, member in enumerate(family):
        check_not_after(member.birth_date, on, f"family[{i}].birth_date")
    for i, holding in enumerate(holdings):
        check_not_after(holding.start_date, on, f"holdings[{i}].start_date")
