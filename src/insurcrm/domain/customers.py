"""The customer aggregate (客户, DOMAIN.md §1) and the household (家庭).

A customer is their information card plus the facts of §1.2 (lead source,
referrer, internal flag, CSR and agent, household, PDP personality, risk
preference). Only the name is required. Erasure (§10.4) turns the customer
into an anonymous stub that keeps its id, so policies and counts stay whole.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from typing import Any

import attrs

from insurcrm.domain.card import (
    BasicProfile,
    FamilyMember,
    Holding,
    LifeSituation,
    check_card_dates,
)
from insurcrm.domain.checks import optional_of
from insurcrm.domain.events import CustomerErased, CustomerRegistered, DomainEvent
from insurcrm.domain.fields import an_id, an_optional_id
from insurcrm.domain.labels import LabelledEnum
from insurcrm.domain.privacy import mask_id_number, mask_text
from insurcrm.domain.values import PersonName, check_text
from insurcrm.errors import Duplicate, RuleViolation, ValidationError

__all__ = [
    "ID_NUMBER",
    "Customer",
    "Household",
    "LeadSource",
    "PdpPersonality",
    "RiskPreference",
    "id_number_of",
    "id_number_taken",
]

#: What a :class:`~insurcrm.errors.Duplicate` for a resident ID number calls it.
ID_NUMBER = "resident ID number"


class LeadSource(LabelledEnum):
    """How the prospect's information was obtained (获取准客户信息的方法)."""

    PERSONAL_VISIT = ("PERSONAL_VISIT", "人员走访")
    PHONE_SURVEY = ("PHONE_SURVEY", "电话调查")
    MAIL_SURVEY = ("MAIL_SURVEY", "邮件调查")
    ON_SITE_OBSERVATION = ("ON_SITE_OBSERVATION", "现场观察")
    CUSTOMER_REFERRAL = ("CUSTOMER_REFERRAL", "客户推荐")
    SELF_FILLED_CARD = ("SELF_FILLED_CARD", "客户自己填写卡片")
    ONLINE = ("ONLINE", "网络")
    OTHER = ("OTHER", "其他")


class PdpPersonality(LabelledEnum):
    """PDP personality (PDP 性格), used to pick a communication style."""

    DOMINANT = ("DOMINANT", "支配型·老虎")
    EXTROVERT = ("EXTROVERT", "外向型·孔雀")
    PATIENT = ("PATIENT", "耐心型·考拉")
    PRECISE = ("PRECISE", "精确型·猫头鹰")
    INTEGRATIVE = ("INTEGRATIVE", "整合型·变色龙")


class RiskPreference(LabelledEnum):
    """Risk preference (风险偏好), from a questionnaire."""

    RISK_AVERSE = ("RISK_AVERSE", "风险规避型")
    RISK_SEEKING = ("RISK_SEEKING", "风险偏好型")


def _prefixed(prefix: str, build: Any) -> Any:
    """Run ``build()`` and put ``prefix`` before the path of any ValidationError."""
    try:
        return build()
    except ValidationError as error:
        raise error.at(prefix) from None


def _family_tuple(items: Iterable[FamilyMember]) -> tuple[FamilyMember, ...]:
    return tuple(items)


def _holdings_tuple(items: Iterable[Holding]) -> tuple[Holding, ...]:
    return tuple(items)


_CARD_FIELDS = frozenset({"profile", "life", "family", "holdings"})


@attrs.frozen
class Customer:
    """The customer aggregate: the information card and the §1.2 facts.

    Build a new customer with :meth:`register`, which checks that no date on
    the card is later than the day the record is made. Change one with
    :meth:`updated` (returns a new customer); erase one with :meth:`erase`.

    Attributes:
        id: the customer id, chosen by the caller (1–64 printable characters).
        created_on: the day the record was made.
        profile: the basic profile; ``None`` only once erased.
        is_internal: an employee of ours or an employee's family member (内部客户).
        cooperation_partner: flagged as a cooperation partner (合作伙伴): with tenure, it
            makes an ADVOCATE a PARTNER on the loyalty ladder without 3 referred buyers (§4.2).
        version: 0 until first stored; bumped by every save.

    Raises:
        ValidationError: a field of the wrong type, a customer referring
            themselves, or a profile on an erased customer.
    """

    id: str = attrs.field(validator=an_id)
    created_on: dt.date = attrs.field(validator=attrs.validators.instance_of(dt.date))
    profile: BasicProfile | None = optional_of(BasicProfile)
    life: LifeSituation = attrs.field(factory=LifeSituation)
    family: tuple[FamilyMember, ...] = attrs.field(default=(), converter=_family_tuple)
    holdings: tuple[Holding, ...] = attrs.field(default=(), converter=_holdings_tuple)
    lead_source: LeadSource | None = optional_of(LeadSource)
    referred_by: str | None = attrs.field(default=None, validator=an_optional_id)
    is_internal: bool = False
    cooperation_partner: bool = False
    csr_id: str | None = attrs.field(default=None, validator=an_optional_id)
    agent_id: str | None = attrs.field(default=None, validator=an_optional_id)
    household_id: str | None = attrs.field(default=None, validator=an_optional_id)
    pdp: PdpPersonality | None = optional_of(PdpPersonality)
    risk_preference: RiskPreference | None = optional_of(RiskPreference)
    erased_on: dt.date | None = None
    version: int = 0
    events: tuple[DomainEvent, ...] = attrs.field(default=(), eq=False, repr=False)

    def __attrs_post_init__(self) -> None:
        if self.referred_by is not None and self.referred_by == self.id:
            raise ValidationError(
                "referred_by", "referral.self", "a customer cannot refer themself"
            )
        if self.erased_on is None and self.profile is None:
            raise ValidationError("profile", "profile.required", "a customer needs a name")
        if self.erased_on is not None and (
            self.profile is not None or self.family or not self.life.is_empty()
        ):
            raise ValidationError(
                "profile", "profile.erased", "an erased customer keeps no personal data"
            )
        for i, member in enumerate(self.family):
            if not isinstance(member, FamilyMember):
                raise ValidationError(f"family[{i}]", "type", "must be FamilyMember")
        for i, holding in enumerate(self.holdings):
            if not isinstance(holding, Holding):
                raise ValidationError(f"holdings[{i}]", "type", "must be Holding")

    @classmethod
    def register(cls, id: str, name: str | PersonName, on: dt.date, **card: Any) -> Customer:
        """Make a new customer record on day ``on``.

        Args:
            id: the customer id.
            name: the customer's name, any Unicode, kept exactly.
            on: the day the record is made; no card date may be later.
            **card: ``profile`` fields (``gender``, ``mobile`` …) and customer
                fields (``family``, ``holdings``, ``lead_source`` …).

        Raises:
            ValidationError: naming the field path, e.g. ``profile.birth_date``.
        """
        profile_names = {a.name for a in attrs.fields(BasicProfile)} - {"name"}
        profile_args = {k: v for k, v in card.items() if k in profile_names}
        other = {k: v for k, v in card.items() if k not in profile_names}
        person = (
            name if isinstance(name, PersonName) else _prefixed("profile", lambda: PersonName(name))
        )
        profile = _prefixed("profile", lambda: BasicProfile(name=person, **profile_args))
        customer: Customer = cls(
            id=id,
            created_on=on,
            profile=profile,
            events=(CustomerRegistered(id, on),),
            **other,
        )
        check_card_dates(customer.profile, customer.family, customer.holdings, on)
        return customer

    @property
    def is_erased(self) -> bool:
        """True once the customer's personal data was erased."""
        return self.erased_on is not None

    def updated(self, on: dt.date, **changes: Any) -> Customer:
        """Return the customer with ``changes`` applied on day ``on``.

        Raises:
            RuleViolation: the customer is erased and a card part is changed.
            ValidationError: a changed card date is later than ``on``.
        """
        if self.is_erased and _CARD_FIELDS & changes.keys():
            raise RuleViolation(f"customer {self.id}: an erased customer's card cannot be filled")
        if "id" in changes or "version" in changes:
            raise RuleViolation("id and version cannot be changed")
        new: Customer = attrs.evolve(self, **changes)
        check_card_dates(
            new.profile if "profile" in changes else None,
            new.family if "family" in changes else (),
            new.holdings if "holdings" in changes else (),
            on,
        )
        return new

    def erase(self, on: dt.date) -> Customer:
        """Erase the personal data (DOMAIN.md §10.4), keeping an anonymous stub.

        Kept: id, dates, lead source, referrer, internal flag, CSR, agent,
        household, PDP and risk preference (none identifies a person), and the
        insurance holdings' figures without insurer names. Gone: the basic
        profile, life situation and family members.
        """
        holdings = tuple(attrs.evolve(h, insurer="erased") for h in self.holdings)
        return attrs.evolve(
            self,
            profile=None,
            life=LifeSituation(),
            family=(),
            holdings=holdings,
            erased_on=on,
            events=(*self.events, CustomerErased(self.id, on)),
        )


def _label(instance: Household, attribute: attrs.Attribute[Any], value: object) -> None:
    if value is not None:
        check_text(value, "label")


@attrs.frozen
class Household:
    """A household (家庭): customers grouped so household rules count all members' policies.

    Members point to their household with ``Customer.household_id``.
    """

    id: str = attrs.field(validator=an_id)
    label: str | None = attrs.field(default=None, validator=_label, repr=mask_text)
    version: int = 0


def id_number_of(customer: Customer) -> str | None:
    """The customer's resident ID number, if their card has one (an erased one has none).

    One person is one customer: no two stored customers hold the same ID number.
    """
    profile = customer.profile
    return profile.id_number.value if profile is not None and profile.id_number else None


def id_number_taken(number: str) -> Duplicate:
    """The error for an ID number another customer holds, naming it masked (§10.4)."""
    return Duplicate(ID_NUMBER, mask_id_number(number))
