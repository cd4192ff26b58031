"""Hypothesis strategies for every insurcrm value object and aggregate.

Use them in your own tests to feed the domain with realistic *and* awkward
data: Chinese names next to ``'; DROP TABLE customers; --`` and emoji, resident
ID numbers with a correct GB 11643 check digit, Chinese mobiles typed in
several ways, foreign phone numbers, and policies that went through a random
legal walk of their status lifecycle::

    from hypothesis import given
    from insurcrm.testing import strategies as gen

    @given(gen.customers())
    def test_customer_round_trips(customer):
        ...

No two stored customers may hold the same resident ID number (one person is one
customer), and two drawn customers may: draw several to store with
``st.lists(gen.customers(), unique_by=(lambda c: c.id, gen.person_key))``, or filter a
later draw with ``gen.person_not_in(stored)``.

Every strategy only produces values the domain accepts, except
:func:`invalid_card_fields` and :func:`invalid_resident_id_numbers`, which
produce input the domain must refuse. No strategy reads the clock: dates are
drawn from fixed ranges or bounded by the ``on`` date you pass.
"""

from __future__ import annotations

import datetime as dt
import functools
import itertools
from collections.abc import Callable, Iterable, Sequence
from decimal import ROUND_CEILING, ROUND_FLOOR, Decimal
from typing import Any, TypeVar

import attrs
import phonenumbers
from hypothesis import strategies as st
from stdnum.cn import ric

from insurcrm.domain.card import (
    BasicProfile,
    Education,
    FamilyMember,
    Holding,
    LifeSituation,
    MaritalStatus,
)
from insurcrm.domain.churn import ChurnCause, ChurnRecord, ChurnStructure
from insurcrm.domain.complaints import (
    Complaint,
    ComplaintCategory,
    ComplaintStatus,
    ComplaintStep,
)
from insurcrm.domain.credit import CreditGrade
from insurcrm.domain.customers import (
    Customer,
    Household,
    LeadSource,
    PdpPersonality,
    RiskPreference,
    id_number_of,
)
from insurcrm.domain.dates import add_years, whole_years_between
from insurcrm.domain.early_warning import WarningConfig, WarningSignal
from insurcrm.domain.interactions import Channel, Direction, Interaction, ObservedSignal, Purpose
from insurcrm.domain.loyalty import LoyaltyLevel
from insurcrm.domain.policies import (
    Beneficiary,
    EndReason,
    Policy,
    PolicyStatus,
    ProductLine,
)
from insurcrm.domain.programmes import ProgrammeConfig
from insurcrm.domain.recovery import RecoveryConfig
from insurcrm.domain.satisfaction import (
    Answer,
    Dimension,
    RespondentRole,
    SurveyChannel,
    SurveyResponse,
)
from insurcrm.domain.tiers import (
    DEFAULT_LADDER,
    Benefits,
    Combine,
    Criterion,
    DowngradeMode,
    DowngradeRules,
    DropPolicy,
    Indicator,
    ReviewSchedule,
    Tier,
    TierFigures,
    TierLadder,
)
from insurcrm.domain.values import (
    DEFAULT_CURRENCY,
    Email,
    Gender,
    Money,
    PersonName,
    Phone,
    ResidentId,
)

__all__ = [
    "AWKWARD_TEXTS",
    "DEFAULT_DAY",
    "EARLIEST_RECORD",
    "LATEST_RECORD",
    "REGION_CODES",
    "basic_profiles",
    "beneficiaries",
    "chinese_names",
    "churn_records",
    "cn_mobile_numbers",
    "complaints",
    "customer_ids",
    "customers",
    "emails",
    "family_members",
    "holdings",
    "households",
    "interactions",
    "invalid_card_fields",
    "invalid_resident_id_numbers",
    "life_situations",
    "money",
    "person_key",
    "person_names",
    "person_not_in",
    "phones",
    "policies",
    "recovery_configs",
    "resident_ids",
    "rule_customers",
    "survey_responses",
    "texts",
    "tier_figures",
    "tier_ladders",
    "warning_configs",
]

T = TypeVar("T")

#: The day profiles are checked against when no ``on`` date is given.
DEFAULT_DAY = dt.date(2024, 3, 1)
#: Earliest day a generated customer record is made.
EARLIEST_RECORD = dt.date(2000, 1, 1)
#: Latest day a generated customer record is made or a policy starts.
LATEST_RECORD = dt.date(2025, 12, 31)

#: Region codes (行政区划代码) that python-stdnum accepts for every birth year 1920–2029.
REGION_CODES = (
    "110101",
    "110102",
    "110105",
    "110106",
    "110108",
    "120101",
    "120102",
    "120103",
    "310101",
    "310104",
    "310105",
    "310106",
    "310109",
    "310110",
    "520201",
    "520203",
)

#: Text users type that a careless store mangles; all of it is valid and must be kept exactly.
AWKWARD_TEXTS = (
    "张伟",
    "欧阳娜娜",
    "O'Brien",
    'O\'Brien "Bob"',
    "'; DROP TABLE customers; --",
    "Robert'); DELETE FROM policies; --",
    "emoji 👨‍👩‍👧‍👦 🐯 ✓",
    "🐼",
    "tab\tnew\nline\r\nend",
    "%_\\ like wildcards",
    "ñandú Ærøskøbing Ǆ",
    "  leading and trailing spaces  ",
    "Zoë Saldaña-Nazario",
    "𠮷野家",
)

_ID_BIRTH_FROM = dt.date(1930, 1, 1)
_ID_BIRTH_UNTIL = dt.date(2010, 12, 31)
_OLDEST_BIRTH = dt.date(1900, 1, 1)

_SURNAMES = (
    "王",
    "李",
    "张",
    "刘",
    "陈",
    "杨",
    "黄",
    "赵",
    "吴",
    "周",
    "徐",
    "孙",
    "马",
    "朱",
    "胡",
    "郭",
    "何",
    "林",
    "欧阳",
    "司马",
    "诸葛",
    "上官",
)
_GIVEN_NAME_CHARS = "伟芳娜秀英敏静丽强磊军洋勇艳杰娟涛明超兰霞平刚桂华建国志晓燕子涵浩然梓萱婷"
_CN_MOBILE_PREFIXES = (
    *range(130, 140),
    150,
    151,
    152,
    153,
    155,
    156,
    157,
    158,
    159,
    166,
    176,
    177,
    178,
    *range(180, 190),
    198,
    199,
)
_FOREIGN_REGIONS = (
    "US",
    "CA",
    "GB",
    "DE",
    "FR",
    "IT",
    "ES",
    "NL",
    "SE",
    "CH",
    "JP",
    "KR",
    "HK",
    "MO",
    "TW",
    "SG",
    "MY",
    "TH",
    "VN",
    "PH",
    "ID",
    "IN",
    "AU",
    "NZ",
    "RU",
    "BR",
    "ZA",
    "AE",
)
_EMAIL_DOMAINS = ("qq.com", "163.com", "126.com", "sina.com", "Example.COM", "gmail.com")
_UNICODE_EMAILS = ("张三@例子.中国", "li.si@公司.cn", "用户+crm@example.com")
_RELATIONS = ("父亲", "母亲", "配偶", "丈夫", "妻子", "儿子", "女儿", "兄弟", "姐妹", "祖母")
_INSURERS = ("中国人寿", "平安人寿", "太平洋保险", "新华保险", "泰康人寿", "友邦 AIA", "Allianz")
_CAMPAIGNS = ("2024开门红", "春季回馈", "VIP续保礼", "老带新推荐奖")
_OCCUPATIONS = ("教师", "医生", "工程师", "个体工商户", "公务员", "退休", "学生")

#: Characters a store can keep: any Unicode except NUL and lone surrogates.
_STORABLE = st.characters(codec="utf-8", exclude_characters="\x00")
#: Characters ``str.isprintable`` accepts (for ids).
_PRINTABLE = st.characters(
    codec="utf-8",
    exclude_categories=("Cc", "Cf", "Cs", "Co", "Cn", "Zl", "Zp", "Zs"),
    include_characters=" ",
)


@functools.lru_cache(maxsize=4096)
def _optional(strategy: st.SearchStrategy[T]) -> st.SearchStrategy[T | None]:
    # Strategies are built once and reused: building (and validating) them on
    # every draw would make the composite strategies several times slower.
    return st.none() | strategy


@functools.lru_cache(maxsize=4096)
def _choice(values: Any) -> st.SearchStrategy[Any]:
    return st.sampled_from(values)


@functools.lru_cache(maxsize=8192)
def _dates(start: dt.date, end: dt.date) -> st.SearchStrategy[dt.date]:
    """Dates from ``start`` to ``end``; just ``end`` when the range is empty."""
    if end <= start:
        return st.just(end)
    return st.dates(min_value=start, max_value=end)


def _non_blank(text: str) -> bool:
    return bool(text.strip())


def _opposite(gender: Gender) -> Gender:
    return Gender.FEMALE if gender is Gender.MALE else Gender.MALE


# -- text -----------------------------------------------------------------------------------------


def chinese_names() -> st.SearchStrategy[str]:
    """Realistic Chinese names: a (possibly compound) surname and one or two given characters."""
    return _chinese_names()


@functools.cache
def _chinese_names() -> st.SearchStrategy[str]:
    return st.builds(
        str.__add__,
        st.sampled_from(_SURNAMES),
        st.text(alphabet=_GIVEN_NAME_CHARS, min_size=1, max_size=2),
    )


def person_names() -> st.SearchStrategy[str]:
    """Names as typed: Chinese names, awkward texts and arbitrary storable Unicode.

    Never contains NUL or a lone surrogate and is never blank after trimming,
    so ``PersonName(name)`` always accepts it; surrounding spaces are kept.
    """
    return _person_names()


@functools.cache
def _person_names() -> st.SearchStrategy[str]:
    return st.one_of(
        chinese_names(),
        st.sampled_from(AWKWARD_TEXTS),
        st.text(alphabet=_STORABLE, min_size=1, max_size=40).filter(_non_blank),
    )


def texts(*, min_size: int = 0, max_size: int = 60) -> st.SearchStrategy[str]:
    """Free text for card notes, addresses and the like (storable Unicode, maybe empty).

    Args:
        min_size: the least number of characters of the arbitrary texts.
        max_size: the most characters of the arbitrary texts.
    """
    return _texts(min_size, max_size)


@functools.cache
def _texts(min_size: int, max_size: int) -> st.SearchStrategy[str]:
    return st.one_of(
        st.sampled_from(AWKWARD_TEXTS),
        st.text(alphabet=_GIVEN_NAME_CHARS + "市区路号楼室，。 ", min_size=1, max_size=max_size),
        st.text(alphabet=_STORABLE, min_size=min_size, max_size=max_size),
    )


@functools.cache
def _required_texts() -> st.SearchStrategy[str]:
    return _texts(1, 60).filter(_non_blank)


@functools.cache
def _relations() -> st.SearchStrategy[str]:
    return st.sampled_from(_RELATIONS) | _required_texts()


@functools.cache
def _occupations() -> st.SearchStrategy[str]:
    return st.sampled_from(_OCCUPATIONS) | _texts(0, 60)


@functools.cache
def _insurers() -> st.SearchStrategy[str]:
    return st.sampled_from(_INSURERS) | _required_texts()


@functools.cache
def _campaigns() -> st.SearchStrategy[str]:
    return st.sampled_from(_CAMPAIGNS) | _required_texts()


_HOLDING_TERMS = st.integers(min_value=1, max_value=100)


def customer_ids() -> st.SearchStrategy[str]:
    """Aggregate ids: mostly ``C-123`` style, sometimes any printable text of 1–64 characters."""
    return _customer_ids()


def _policy_id(text: str) -> str:
    return f"P-{text}"[:64]


@functools.cache
def _policy_ids() -> st.SearchStrategy[str]:
    return _customer_ids().map(_policy_id)


@functools.cache
def _person_name_values() -> st.SearchStrategy[PersonName]:
    return _person_names().map(PersonName)


@functools.cache
def _customer_ids() -> st.SearchStrategy[str]:
    return st.one_of(
        st.integers(min_value=1, max_value=10**9).map("C-{}".format),
        st.text(alphabet=_PRINTABLE, min_size=1, max_size=64).filter(_non_blank),
    )


# -- resident ID numbers --------------------------------------------------------------------------


@st.composite
def resident_ids(
    draw: st.DrawFn,
    *,
    birth_date: dt.date | None = None,
    gender: Gender | None = None,
    born_from: dt.date = _ID_BIRTH_FROM,
    born_until: dt.date = _ID_BIRTH_UNTIL,
) -> ResidentId:
    """Valid 18-character resident ID numbers (身份证号) with a GB 11643 check digit.

    Args:
        birth_date: the birth date to encode; drawn from ``born_from``–``born_until``
            (default 1930–2010) when omitted.
        gender: the gender to encode in digit 17 (odd male, even female); any when omitted.
        born_from: earliest birth date drawn.
        born_until: latest birth date drawn.
    """
    region = draw(st.sampled_from(REGION_CODES))
    born = birth_date if birth_date is not None else draw(_dates(born_from, born_until))
    order = draw(st.integers(min_value=0, max_value=999))
    if gender is not None:
        order = order // 2 * 2 + (1 if gender is Gender.MALE else 0)
    return ResidentId.compose(region, born, order)


@st.composite
def invalid_resident_id_numbers(draw: st.DrawFn) -> tuple[str, str]:
    """Typed ID numbers ``ResidentId`` must refuse, as ``(rule, raw)`` pairs.

    Rules: ``id_number.checksum`` (one wrong check character),
    ``id_number.birth_date`` (an impossible date with a correct check digit),
    ``id_number.length`` and ``id_number.format`` (a letter among the digits).
    """
    valid = draw(resident_ids()).value
    kind = draw(st.sampled_from(("checksum", "birth_date", "length", "format")))
    if kind == "checksum":
        wrong = draw(st.sampled_from([c for c in "0123456789X" if c != valid[-1]]))
        return "id_number.checksum", valid[:-1] + wrong
    if kind == "birth_date":
        month, day = draw(st.sampled_from(((13, 1), (0, 10), (2, 30), (4, 31), (6, 0))))
        body = f"{valid[:10]}{month:02d}{day:02d}{valid[14:17]}"
        return "id_number.birth_date", body + str(ric.calc_check_digit(body + "0"))
    if kind == "length":
        size = draw(st.sampled_from((15, 17, 19)))
        return "id_number.length", (valid * 2)[:size]
    position = draw(st.integers(min_value=0, max_value=16))
    return "id_number.format", valid[:position] + "A" + valid[position + 1 :]


# -- phones and emails ----------------------------------------------------------------------------


@st.composite
def cn_mobile_numbers(draw: st.DrawFn) -> str:
    """Chinese mobile numbers as people type them: ``13812345678``, ``138 1234 5678``, ``+86 …``."""
    prefix = draw(st.sampled_from(_CN_MOBILE_PREFIXES))
    rest = draw(st.integers(min_value=0, max_value=99_999_999))
    digits = f"{prefix}{rest:08d}"
    style = draw(st.sampled_from(("plain", "spaced", "dashed", "international", "e164")))
    if style == "spaced":
        return f"{digits[:3]} {digits[3:7]} {digits[7:]}"
    if style == "dashed":
        return f"{digits[:3]}-{digits[3:7]}-{digits[7:]}"
    if style == "international":
        return f"+86 {digits}"
    if style == "e164":
        return f"+86{digits}"
    return digits


def _foreign_e164() -> tuple[str, ...]:
    numbers: set[str] = set()
    for region in _FOREIGN_REGIONS:
        for number in (
            phonenumbers.example_number(region),
            phonenumbers.example_number_for_type(region, phonenumbers.PhoneNumberType.MOBILE),
        ):
            if number is not None and phonenumbers.is_valid_number(number):
                numbers.add(phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164))
    return tuple(sorted(numbers))


_FOREIGN_E164 = _foreign_e164()


def phones() -> st.SearchStrategy[Phone]:
    """Valid phones: mostly Chinese mobiles (``Phone.parse``), some other countries' numbers."""
    return _phones()


@functools.cache
def _phones() -> st.SearchStrategy[Phone]:
    return st.one_of(
        cn_mobile_numbers().map(Phone.parse),
        cn_mobile_numbers().map(Phone.parse),
        st.sampled_from(_FOREIGN_E164).map(Phone),
    )


_EMAIL_ALPHABET = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
_EMAIL_WORDS = st.text(alphabet=_EMAIL_ALPHABET, min_size=1, max_size=12)
#: Characters RFC 5322 allows in a dot-atom local part besides letters and digits.
_EMAIL_SPECIALS = st.sampled_from(("", ".", "_", "-", "+", "'", "!", "#", "$", "%", "&", "~"))


@st.composite
def _plain_emails(draw: st.DrawFn) -> str:
    first = draw(_EMAIL_WORDS)
    separator = draw(_EMAIL_SPECIALS)
    second = draw(_EMAIL_WORDS) if separator else ""
    domain = draw(_choice(_EMAIL_DOMAINS))
    return f"{first}{separator}{second}@{domain}"


def emails() -> st.SearchStrategy[Email]:
    """Syntactically valid emails: common Chinese mail hosts, unicode ones, RFC oddities."""
    return _emails()


@functools.cache
def _emails() -> st.SearchStrategy[Email]:
    return st.one_of(
        _plain_emails(),
        _plain_emails(),
        st.sampled_from(_UNICODE_EMAILS),
        st.emails(),
    ).map(Email)


# -- money ----------------------------------------------------------------------------------------


def money(
    min_value: Decimal | int | str = 0,
    max_value: Decimal | int | str = 10_000_000,
    currency: str = DEFAULT_CURRENCY,
) -> st.SearchStrategy[Money]:
    """Money from ``min_value`` to ``max_value`` (inclusive), a Decimal with 2 places.

    Args:
        min_value: the least amount (≥ 0).
        max_value: the greatest amount (< 10^16).
        currency: the ISO 4217 code of every amount drawn.
    """
    low = int((Decimal(min_value) * 100).to_integral_value(ROUND_CEILING))
    high = int((Decimal(max_value) * 100).to_integral_value(ROUND_FLOOR))
    return _money(low, high, currency)


@functools.lru_cache(maxsize=1024)
def _money(low_cents: int, high_cents: int, currency: str) -> st.SearchStrategy[Money]:
    return st.integers(min_value=low_cents, max_value=high_cents).map(
        functools.partial(_cents_to_money, currency=currency)
    )


def _cents_to_money(cents: int, currency: str) -> Money:
    return Money(Decimal(cents).scaleb(-2), currency)


# -- the card -------------------------------------------------------------------------------------


@st.composite
def basic_profiles(draw: st.DrawFn, *, on: dt.date | None = None) -> BasicProfile:
    """Basic profiles valid on day ``on`` (default :data:`DEFAULT_DAY`).

    The ID number, when present, agrees with the birth date and gender when
    those are present; no date is later than ``on``.
    """
    day = on if on is not None else DEFAULT_DAY
    birth_date: dt.date | None = None
    gender: Gender | None = None
    id_number: ResidentId | None = None
    if day >= _ID_BIRTH_FROM and draw(st.booleans()):
        id_number = draw(resident_ids(born_until=min(day, _ID_BIRTH_UNTIL)))
        if draw(st.booleans()):
            birth_date = id_number.birth_date
        if draw(st.booleans()):
            gender = id_number.gender
    else:
        birth_date = draw(_optional(_dates(_OLDEST_BIRTH, day)))
        gender = draw(_optional(_choice(Gender)))
    return BasicProfile(
        name=draw(_person_name_values()),
        gender=gender,
        birth_date=birth_date,
        native_place=draw(_optional(_texts(0, 60))),
        marital_status=draw(_optional(_choice(MaritalStatus))),
        education=draw(_optional(_choice(Education))),
        id_number=id_number,
        mobile=draw(_optional(phones())),
        employer=draw(_optional(_texts(0, 60))),
        department=draw(_optional(_texts(0, 60))),
        employer_address=draw(_optional(_texts(0, 60))),
        position=draw(_optional(_texts(0, 60))),
        work_phone=draw(_optional(phones())),
        occupation_type=draw(_optional(_occupations())),
        email=draw(_optional(emails())),
        work_fax=draw(_optional(phones())),
        home_phone=draw(_optional(phones())),
        home_address=draw(_optional(_texts(0, 60))),
    )


def life_situations() -> st.SearchStrategy[LifeSituation]:
    """Life situations (生活情况) with each note present or not."""
    return st.builds(
        LifeSituation,
        career_history=_optional(_texts(0, 60)),
        economic_condition=_optional(_texts(0, 60)),
        hobbies=_optional(_texts(0, 60)),
        social_circle=_optional(_texts(0, 60)),
        personality=_optional(_texts(0, 60)),
        health=_optional(_texts(0, 60)),
    )


def family_members(*, on: dt.date | None = None) -> st.SearchStrategy[FamilyMember]:
    """Family members (家属情况) born no later than ``on`` (default :data:`DEFAULT_DAY`)."""
    day = on if on is not None else DEFAULT_DAY
    return st.builds(
        FamilyMember,
        relation=_relations(),
        name=_optional(_person_name_values()),
        birth_date=_optional(_dates(_OLDEST_BIRTH, day)),
        occupation=_optional(_occupations()),
    )


@st.composite
def holdings(draw: st.DrawFn, *, on: dt.date | None = None) -> Holding:
    """Insurance holdings (投保情况) that started no later than ``on`` (default DEFAULT_DAY)."""
    day = on if on is not None else DEFAULT_DAY
    currency = draw(_choice((DEFAULT_CURRENCY, DEFAULT_CURRENCY, "USD", "HKD")))
    return Holding(
        insurer=draw(_insurers()),
        line=draw(_choice(ProductLine)),
        start_date=draw(_optional(_dates(min(dt.date(1990, 1, 1), day), day))),
        term_years=draw(_optional(_HOLDING_TERMS)),
        sum_assured=draw(_optional(money(0, 5_000_000, currency))),
        annual_premium=draw(_optional(money(0, 200_000, currency))),
    )


# -- aggregates -----------------------------------------------------------------------------------


@st.composite
def customers(
    draw: st.DrawFn,
    *,
    id: str | None = None,
    on: dt.date | None = None,
    referred_by: str | None = None,
    household_id: str | None = None,
) -> Customer:
    """New customers made with ``Customer.register``: version 0, every card date ≤ ``created_on``.

    Args:
        id: the customer id; drawn with :func:`customer_ids` when omitted
            (never equal to ``referred_by``).
        on: the day the record is made (``created_on``); drawn from
            2000–2025 when omitted.
        referred_by: the referrer's customer id (default ``None``).
        household_id: the household id (default ``None``).
    """
    customer_id = id
    if customer_id is None:
        customer_id = draw(_customer_ids())
        if customer_id == referred_by:
            customer_id = customer_id[:60] + "-new"
    day = on if on is not None else draw(_dates(EARLIEST_RECORD, LATEST_RECORD))
    profile = draw(basic_profiles(on=day))
    card = {
        a.name: getattr(profile, a.name) for a in attrs.fields(BasicProfile) if a.name != "name"
    }
    return Customer.register(
        customer_id,
        profile.name,
        day,
        **card,
        life=draw(life_situations()),
        family=draw(st.lists(family_members(on=day), max_size=3)),
        holdings=draw(st.lists(holdings(on=day), max_size=3)),
        lead_source=draw(_optional(_choice(LeadSource))),
        referred_by=referred_by,
        is_internal=draw(st.booleans()),
        cooperation_partner=draw(st.booleans()),
        csr_id=draw(_optional(_customer_ids())),
        agent_id=draw(_optional(_customer_ids())),
        household_id=household_id,
        pdp=draw(_optional(_choice(PdpPersonality))),
        risk_preference=draw(_optional(_choice(RiskPreference))),
    )


def person_key(customer: Customer) -> tuple[str, str]:
    """The key by which customers stored together must differ: their resident ID number,
    or (without one) their id. For ``st.lists(..., unique_by=...)`` and filters."""
    number = id_number_of(customer)
    return ("id_number", number) if number is not None else ("id", customer.id)


def person_not_in(customers: Iterable[Customer]) -> Callable[[Customer], bool]:
    """A filter for a draw to store beside ``customers``: true for a customer who is
    another person (:func:`person_key`), e.g. ``gen.customers().filter(person_not_in(c))``."""
    taken = {person_key(c) for c in customers}
    return lambda customer: person_key(customer) not in taken


@st.composite
def rule_customers(
    draw: st.DrawFn,
    *,
    id: str,
    referred_by: str | None = None,
    household_id: str | None = None,
) -> Customer:
    """Customers for rule and portfolio tests: mostly a light card with just what the rules
    look at (cover elsewhere, lead source, internal flag, agent, PDP, risk preference —
    cheap to build and store), and one time in four a full awkward card from
    :func:`customers` (with an ID number, so a region)."""
    if draw(st.integers(min_value=0, max_value=3)) == 0:
        return draw(customers(id=id, referred_by=referred_by, household_id=household_id))
    day = draw(_dates(EARLIEST_RECORD, LATEST_RECORD))
    return Customer.register(
        id,
        draw(chinese_names()),
        day,
        holdings=draw(st.lists(holdings(on=day), max_size=2)),
        lead_source=draw(_optional(_choice(LeadSource))),
        referred_by=referred_by,
        is_internal=draw(st.booleans()),
        cooperation_partner=draw(st.booleans()),
        agent_id=draw(_optional(st.sampled_from(("AG0001", "AGX")))),
        household_id=household_id,
        pdp=draw(_optional(_choice(PdpPersonality))),
        risk_preference=draw(_optional(_choice(RiskPreference))),
    )


def households(*, id: str | None = None) -> st.SearchStrategy[Household]:
    """Households (家庭) with version 0 and maybe a label; ``id`` drawn when omitted."""
    return st.builds(
        Household,
        id=st.just(id) if id is not None else _customer_ids(),
        label=_optional(_texts(0, 60)),
    )


@st.composite
def beneficiaries(draw: st.DrawFn, *, ids: Sequence[str] = ()) -> tuple[Beneficiary, ...]:
    """No beneficiary, or 1–3 beneficiaries (受益人) whose shares add up to exactly 100.

    Args:
        ids: customer ids a beneficiary may point to; a beneficiary without
            one (always, when this is empty) has a name instead.
    """
    count = draw(st.integers(min_value=0, max_value=3))
    if count == 0:
        return ()
    cuts = sorted(
        draw(
            st.lists(
                st.integers(min_value=1, max_value=9_999),
                min_size=count - 1,
                max_size=count - 1,
                unique=True,
            )
        )
    )
    bounds = [0, *cuts, 10_000]
    result = []
    for low, high in itertools.pairwise(bounds):
        customer_id = draw(_optional(_choice(tuple(ids)))) if ids else None
        names = _person_name_values()
        name = draw(names if customer_id is None else _optional(names))
        result.append(
            Beneficiary(
                share=Decimal(high - low).scaleb(-2),
                customer_id=customer_id,
                name=name,
                relation=draw(_optional(_relations())),
            )
        )
    return tuple(result)


_STEPS: dict[PolicyStatus, tuple[str, ...]] = {
    PolicyStatus.PENDING: ("activate",),
    PolicyStatus.IN_FORCE: (
        "renew",
        "renew",
        "renew",
        "missed",
        "missed",
        "lapse",
        "lapse",
        "surrender",
        "mature",
        "cancel",
        "claim",
    ),
    PolicyStatus.LAPSED: ("reinstate", "reinstate", "missed"),
}


#: The step that ends a walk in each status reached from IN_FORCE.
_FINAL_STEPS: dict[PolicyStatus, str] = {
    PolicyStatus.LAPSED: "lapse",
    PolicyStatus.SURRENDERED: "surrender",
    PolicyStatus.MATURED: "mature",
    PolicyStatus.CANCELLED: "cancel",
    PolicyStatus.CLAIMED_TERMINATED: "claim",
}

_TERMINAL_STEPS = frozenset({"surrender", "mature", "cancel", "claim"})


def _walk_step(draw: st.DrawFn, policy: Policy, step: str, day: dt.date) -> Policy:
    """Apply one lifecycle step through the public Policy methods."""
    actions: dict[str, Callable[[], Policy]] = {
        "activate": lambda: policy.activate(day),
        "reinstate": lambda: policy.reinstate(day),
        "surrender": lambda: policy.surrender(day),
        "mature": lambda: policy.mature(day),
        "claim": lambda: policy.terminate_by_claim(day),
    }
    if step in actions:
        return actions[step]()
    if step == "lapse":
        return policy.lapse(day, draw(_optional(_choice(EndReason))))
    if step == "cancel":
        return policy.cancel(day, draw(_choice(EndReason)))
    if step == "missed":
        amount = draw(_optional(money(1, 100_000, policy.currency)))
        return policy.record_missed_premium(day, amount)
    # renew
    premium = draw(_optional(money(1, 100_000, policy.currency)))
    return policy.renew(day, premium)


@st.composite
def policies(
    draw: st.DrawFn,
    policyholder_id: str,
    insured_id: str,
    *,
    id: str | None = None,
    number: str | None = None,
    ours: bool | None = None,
    start_date: dt.date | None = None,
    until: dt.date | None = None,
    beneficiary_ids: Sequence[str] | None = None,
    currency: str = DEFAULT_CURRENCY,
    status: PolicyStatus | None = None,
    max_steps: int = 8,
) -> Policy:
    """Policies that went through a random legal walk of their status lifecycle.

    The walk uses the public methods (activate, lapse, reinstate, renew,
    record_missed_premium, surrender, mature, cancel, terminate_by_claim) with
    non-decreasing dates, so history, purchases and missed premiums are all
    consistent. Version is 0.

    Args:
        policyholder_id: the policyholder's customer id.
        insured_id: the insured person's customer id.
        id: the policy id; drawn when omitted.
        number: the policy number; ``"N-" + id`` when omitted.
        ours: ``True`` for our company's policy (makes purchases), ``False`` for
            a holding with another insurer; either when omitted.
        start_date: the start date; drawn from 2000–2025 (and ≤ ``until``) when omitted.
        until: no status change, renewal or missed premium is dated after this day.
        beneficiary_ids: customer ids a beneficiary may point to; default the
            policyholder and the insured.
        currency: the currency of every amount.
        status: the status the walk ends in (it then avoids ending early); any
            when omitted.
        max_steps: the most lifecycle steps taken (before the final move to ``status``).
    """
    policy_id = id if id is not None else draw(_policy_ids())
    is_ours = ours if ours is not None else draw(st.booleans())
    if start_date is None:
        latest = LATEST_RECORD if until is None else min(LATEST_RECORD, until)
        start_date = draw(_dates(min(EARLIEST_RECORD, latest), latest))
    if beneficiary_ids is None:
        beneficiary_ids = tuple(dict.fromkeys((policyholder_id, insured_id)))
    policy = Policy(
        id=policy_id,
        number=number if number is not None else f"N-{policy_id}"[:64],
        policyholder_id=policyholder_id,
        insured_id=insured_id,
        product_line=draw(_choice(ProductLine)),
        start_date=start_date,
        term_years=draw(st.integers(min_value=1, max_value=40)),
        sum_assured=draw(money(1_000, 5_000_000, currency)),
        annual_premium=draw(money(1, 100_000, currency)),
        insurer=None if is_ours else draw(_insurers()),
        beneficiaries=draw(beneficiaries(ids=beneficiary_ids)),
        campaign=draw(_optional(_campaigns())),
    )
    day = start_date
    steps = 0 if status is PolicyStatus.PENDING else draw(st.sampled_from(range(max_steps + 1)))
    for _ in range(steps):
        choices = _STEPS.get(policy.status, ())
        if not policy.is_ours:
            choices = tuple(step for step in choices if step != "renew")
        if status is not None:
            choices = tuple(step for step in choices if step not in _TERMINAL_STEPS)
        if not choices:
            break
        gap = dt.timedelta(days=draw(st.integers(min_value=0, max_value=400)))
        if until is not None and day + gap > until:
            break
        day += gap
        policy = _walk_step(draw, policy, draw(st.sampled_from(choices)), day)
    if status is None or policy.status is status:
        return policy
    if policy.status is PolicyStatus.PENDING:
        policy = policy.activate(day)
    elif policy.status is PolicyStatus.LAPSED:
        policy = policy.reinstate(day)
    if status is not PolicyStatus.IN_FORCE:
        policy = _walk_step(draw, policy, _FINAL_STEPS[status], day)
    return policy


# -- invalid input --------------------------------------------------------------------------------

_TEXT_FIELDS = (
    "native_place",
    "employer",
    "department",
    "employer_address",
    "position",
    "occupation_type",
    "home_address",
)
_PHONE_FIELDS = ("mobile", "work_phone", "home_phone", "work_fax")


@st.composite
def invalid_card_fields(draw: st.DrawFn) -> tuple[str, dict[str, Any]]:
    """Input ``Customer.register(**kwargs)`` must refuse, as ``(field_path, kwargs)`` pairs.

    ``kwargs`` holds ``id``, ``name`` and ``on`` and the card fields; the
    :class:`~insurcrm.errors.ValidationError` raised must name ``field_path``
    (e.g. ``profile.id_number``, ``family[1].birth_date``). Cases: an ID number
    with a bad check digit given as raw text, an ID number disagreeing with
    the birth date or gender, an ID number or birth date in the future, raw
    text where a Phone/Email/enum is expected, NUL or a lone surrogate in
    text, a blank name, future family and holding dates, a bad customer id,
    a customer referring themself.
    """
    day = draw(_dates(EARLIEST_RECORD, LATEST_RECORD))
    kwargs: dict[str, Any] = {
        "id": draw(customer_ids()),
        "name": draw(person_names()),
        "on": day,
    }
    later = day + dt.timedelta(days=draw(st.integers(min_value=1, max_value=1_000)))
    rid = draw(resident_ids(born_until=min(day, _ID_BIRTH_UNTIL)))
    case = draw(
        st.sampled_from(
            (
                "id_checksum",
                "id_birth_mismatch",
                "id_gender_mismatch",
                "id_future",
                "birth_future",
                "phone_type",
                "email_type",
                "gender_type",
                "unstorable_text",
                "blank_name",
                "family_future",
                "holding_future",
                "bad_id",
                "self_referral",
            )
        )
    )
    if case == "id_checksum":
        wrong = draw(st.sampled_from([c for c in "0123456789X" if c != rid.value[-1]]))
        kwargs["id_number"] = rid.value[:-1] + wrong
        return "profile.id_number", kwargs
    if case == "id_birth_mismatch":
        offset = draw(st.integers(min_value=1, max_value=3_000))
        other = rid.birth_date - dt.timedelta(days=offset)
        kwargs.update(id_number=rid, birth_date=other)
        return "profile.id_number", kwargs
    if case == "id_gender_mismatch":
        kwargs.update(id_number=rid, gender=_opposite(rid.gender))
        return "profile.id_number", kwargs
    if case == "id_future":
        kwargs["id_number"] = draw(resident_ids(birth_date=later))
        return "profile.id_number", kwargs
    if case == "birth_future":
        kwargs["birth_date"] = later
        return "profile.birth_date", kwargs
    if case == "phone_type":
        field = draw(st.sampled_from(_PHONE_FIELDS))
        kwargs[field] = draw(cn_mobile_numbers())
        return f"profile.{field}", kwargs
    if case == "email_type":
        kwargs["email"] = draw(_plain_emails())
        return "profile.email", kwargs
    if case == "gender_type":
        kwargs["gender"] = draw(st.sampled_from(("男", "女", "MALE", "F")))
        return "profile.gender", kwargs
    if case == "unstorable_text":
        field = draw(st.sampled_from(_TEXT_FIELDS))
        bad = draw(st.sampled_from(("\x00", "\ud800", "\udfff")))
        text = draw(texts())
        cut = draw(st.integers(min_value=0, max_value=len(text)))
        kwargs[field] = text[:cut] + bad + text[cut:]
        return f"profile.{field}", kwargs
    if case == "blank_name":
        kwargs["name"] = draw(st.sampled_from(("", " ", "\t\n", "\u3000", "  \r\n ")))
        return "profile.name", kwargs
    if case == "family_future":
        members = draw(st.lists(family_members(on=day), max_size=2))
        bad_member = FamilyMember(draw(st.sampled_from(_RELATIONS)), birth_date=later)
        kwargs["family"] = [*members, bad_member]
        return f"family[{len(members)}].birth_date", kwargs
    if case == "holding_future":
        held = draw(st.lists(holdings(on=day), max_size=2))
        bad_holding = Holding(
            draw(st.sampled_from(_INSURERS)), draw(st.sampled_from(ProductLine)), later
        )
        kwargs["holdings"] = [*held, bad_holding]
        return f"holdings[{len(held)}].start_date", kwargs
    if case == "bad_id":
        kwargs["id"] = draw(st.sampled_from(("", "   ", "a\x00b", "x" * 65, "line\nbreak")))
        return "id", kwargs
    kwargs["referred_by"] = kwargs["id"]
    return "referred_by", kwargs


# -- service tiers (§6) ---------------------------------------------------------------------------

#: Round annual premiums (yuan) that sit on or near the default ladder's thresholds.
_ROUND_PREMIUMS = (0, 5_000, 9_999, 10_000, 26_800, 30_000, 99_999, 100_000, 500_000)
_TIER_CODES = ("STANDARD", "SILVER", "GOLD", "PLATINUM", "DIAMOND")
_TIER_NAMES = ("普通", "银卡", "金卡", "白金/VIP", "钻石")
#: The services of the default ladder's top tier: names a real ladder would use.
_TIER_SERVICES = DEFAULT_LADDER.tiers[-1].benefits.services
#: The highest threshold drawn for each indicator, as a rank (premium in cents,
#: loyalty level 0–5, credit grade D = 0 … A = 3).
_TOP_RANK = {
    Indicator.ANNUAL_PREMIUM: 50_000_000,
    Indicator.POLICIES_IN_FORCE: 10,
    Indicator.TENURE_YEARS: 30,
    Indicator.REFERRALS: 10,
    Indicator.HOUSEHOLD_LONG_TERM_POLICIES: 10,
    Indicator.LOYALTY_LEVEL: 5,
    Indicator.CREDIT_GRADE: 3,
}
#: The largest raise of a threshold from one tier to the next, as a rank.
_STEP_RANK = {
    Indicator.ANNUAL_PREMIUM: 10_000_000,
    Indicator.POLICIES_IN_FORCE: 3,
    Indicator.TENURE_YEARS: 5,
    Indicator.REFERRALS: 3,
    Indicator.HOUSEHOLD_LONG_TERM_POLICIES: 3,
    Indicator.LOYALTY_LEVEL: 2,
    Indicator.CREDIT_GRADE: 1,
}


@st.composite
def tier_figures(draw: st.DrawFn, *, on: dt.date | None = None) -> TierFigures:
    """A customer's service-tier indicators (:class:`~insurcrm.domain.tiers.TierFigures`).

    Annual premium 0–500,000.00 (2 decimals, often a round amount near the default
    ladder's thresholds), counts 0–10, tenure 0–30 whole years as of ``on``
    (default :data:`DEFAULT_DAY`) with a first purchase that gives exactly that
    tenure (or no first purchase at all, with tenure 0), any loyalty level, and
    any credit grade or none.

    Args:
        on: the day the figures are as of (the tenure is counted to it).
    """
    day = on if on is not None else DEFAULT_DAY
    cents = draw(
        st.one_of(
            st.integers(min_value=0, max_value=50_000_000),
            st.sampled_from(_ROUND_PREMIUMS).map(lambda yuan: yuan * 100),
        )
    )
    years = draw(st.integers(min_value=0, max_value=30))
    first: dt.date | None = None
    if years > 0 or draw(st.booleans()):
        latest = add_years(day, -years)
        first = draw(_dates(add_years(day, -(years + 1)) + dt.timedelta(days=1), latest))
        if whole_years_between(first, day) != years:  # the 29 February edge
            first = latest
    counts = st.integers(min_value=0, max_value=10)
    return TierFigures(
        annual_premium=Decimal(cents).scaleb(-2),
        policies_in_force=draw(counts),
        tenure_years=years,
        first_purchase=first,
        referrals=draw(counts),
        household_long_term_policies=draw(counts),
        loyalty_level=draw(_choice(tuple(LoyaltyLevel))),
        credit_grade=draw(_optional(_choice(tuple(CreditGrade)))),
    )


def _threshold_of(indicator: Indicator, rank: int) -> Decimal | int | LoyaltyLevel | CreditGrade:
    """The ``at_least`` value of ``indicator`` with rank ``rank`` (see ``_TOP_RANK``)."""
    if indicator is Indicator.ANNUAL_PREMIUM:
        return Decimal(rank).scaleb(-2)
    if indicator is Indicator.LOYALTY_LEVEL:
        return list(LoyaltyLevel)[rank]
    if indicator is Indicator.CREDIT_GRADE:
        return list(CreditGrade)[3 - rank]
    return rank


def _first_rank(indicator: Indicator) -> st.SearchStrategy[int]:
    """The first threshold of ``indicator``: one every customer need not meet, at most half
    the top (credit grade D or better is not met by a customer without a grade)."""
    low = 0 if indicator is Indicator.CREDIT_GRADE else 1
    return st.integers(min_value=low, max_value=_TOP_RANK[indicator] // 2)


@st.composite
def _downgrade_rules(draw: st.DrawFn) -> DowngradeRules:
    month = draw(st.integers(min_value=1, max_value=12))
    last = (dt.date(2023 + month // 12, month % 12 + 1, 1) - dt.timedelta(days=1)).day
    return DowngradeRules(
        mode=draw(_choice(tuple(DowngradeMode))),
        schedule=draw(_choice(tuple(ReviewSchedule))),
        review_month=month,
        review_day=draw(st.integers(min_value=1, max_value=last)),
        drop=draw(_choice(tuple(DropPolicy))),
        grace_days=draw(
            st.one_of(
                st.sampled_from((0, 1, 30, 90, 180, 365)), st.integers(min_value=0, max_value=400)
            )
        ),
    )


@st.composite
def _benefits(draw: st.DrawFn) -> Benefits:
    return Benefits(
        services=tuple(draw(st.lists(_choice(_TIER_SERVICES), max_size=4, unique=True))),
        premium_discount=Decimal(draw(st.integers(min_value=0, max_value=10_000))).scaleb(-2),
        dedicated_csr=draw(st.booleans()),
        claims_green_channel=draw(st.booleans()),
        health_check_up=draw(st.booleans()),
    )


def _tier_code(text: str) -> str:
    return text.strip()[:32].strip()


@st.composite
def tier_ladders(draw: st.DrawFn, *, min_tiers: int = 1, max_tiers: int = 5) -> TierLadder:
    """Valid service-tier ladders (:class:`~insurcrm.domain.tiers.TierLadder`).

    The lowest tier has no criteria. Each higher tier is strictly nested in the
    one below: an ALL tier keeps every criterion of the tier below with its
    threshold kept or raised and may add an indicator; the first tier with
    criteria may be ANY, and an ANY tier may be followed by an ANY tier on the
    same indicators with thresholds raised. At least one threshold is raised
    or one indicator added at every step, so no two tiers are equally hard, and
    no threshold is one every customer meets (such as 0 policies). Thresholds
    fit :func:`tier_figures` (premium ≤ 500,000.00, counts ≤ 10, tenure ≤ 30).
    Codes are mostly ``STANDARD``, ``SILVER``… and sometimes any printable
    text; the downgrade rules are random.

    Args:
        min_tiers: the least number of tiers (1–5).
        max_tiers: the most tiers (``min_tiers``–5).
    """
    size = draw(st.integers(min_value=min_tiers, max_value=max_tiers))
    codes: Sequence[str] = _TIER_CODES[:size]
    if draw(st.booleans()):
        code_texts = st.text(alphabet=_PRINTABLE, min_size=1, max_size=40).map(_tier_code)
        codes = draw(st.lists(code_texts.filter(bool), min_size=size, max_size=size, unique=True))
    tiers = [Tier(codes[0], draw(_choice(_TIER_NAMES)), benefits=draw(_benefits()))]
    ranks: dict[Indicator, int] = {}
    combine = Combine.ALL
    for code in codes[1:]:
        if not ranks:
            chosen = draw(st.lists(_choice(tuple(Indicator)), min_size=1, max_size=3, unique=True))
            for indicator in chosen:
                ranks[indicator] = draw(_first_rank(indicator))
            combine = draw(_choice((Combine.ALL, Combine.ANY)))
        else:
            previous = dict(ranks)
            raisable = [i for i in ranks if ranks[i] < _TOP_RANK[i]]
            # An ANY tier may only be followed by an ANY tier on the same, raised thresholds.
            if combine is Combine.ANY and (not raisable or draw(st.booleans())):
                combine = Combine.ALL
            for indicator in raisable:
                if draw(st.booleans()):
                    step = draw(st.integers(min_value=1, max_value=_STEP_RANK[indicator]))
                    ranks[indicator] = min(_TOP_RANK[indicator], ranks[indicator] + step)
            unused = [i for i in Indicator if i not in ranks]
            if combine is Combine.ALL and unused and (ranks == previous or draw(st.booleans())):
                added = draw(_choice(tuple(unused)))
                ranks[added] = draw(_first_rank(added))
            if ranks == previous:
                ranks[raisable[0]] += 1
        criteria = tuple(Criterion(i, _threshold_of(i, r)) for i, r in ranks.items())
        name = draw(_choice(_TIER_NAMES))
        tiers.append(Tier(code, name, criteria, combine, draw(_benefits())))
    return TierLadder(tiers, draw(_downgrade_rules()))


# -- customer service: surveys, complaints, contacts, churn (§3, §7, §8, §9) ---------------------


def _prefixed_id(prefix: str, text: str) -> str:
    return f"{prefix}{text}"[:64]


@functools.lru_cache(maxsize=64)
def _ids(prefix: str) -> st.SearchStrategy[str]:
    """Ids valid for ``check_id``: ``prefix`` followed by a customer-id-like text."""
    return _customer_ids().map(functools.partial(_prefixed_id, prefix))


def _day(
    draw: st.DrawFn, on: dt.date | None, since: dt.date | None, until: dt.date | None
) -> dt.date:
    """``on``, or a day from ``since`` (default 2000-01-01) to ``until`` (default 2025-12-31)."""
    if on is not None:
        return on
    latest = until if until is not None else LATEST_RECORD
    earliest = since if since is not None else min(EARLIEST_RECORD, latest)
    return draw(_dates(earliest, latest))


@functools.cache
def _hundredths(low: int, high: int) -> st.SearchStrategy[Decimal]:
    """Decimals from ``low / 100`` to ``high / 100`` with 2 places."""
    return st.integers(min_value=low, max_value=high).map(lambda n: Decimal(n).scaleb(-2))


@st.composite
def survey_responses(
    draw: st.DrawFn,
    *,
    customer_id: str | None = None,
    survey_id: str | None = None,
    on: dt.date | None = None,
    since: dt.date | None = None,
    until: dt.date | None = None,
) -> SurveyResponse:
    """Survey responses (满意度调查): 1–4 dimensions answered in words, maybe an expectation,
    the two yes/no indicator questions answered or not, and maybe a free-text comment.

    Args:
        customer_id: the respondent; drawn with :func:`customer_ids` when omitted.
        survey_id: the survey; drawn when omitted.
        on: the day they answered; drawn from ``since``–``until`` when omitted.
        since: the earliest day drawn (default 2000-01-01).
        until: the latest day drawn (default 2025-12-31).
    """
    dimensions = draw(st.lists(_choice(tuple(Dimension)), min_size=1, max_size=4, unique=True))
    answers = tuple(Answer)
    return SurveyResponse(
        id=draw(_ids("R-")),
        survey_id=survey_id if survey_id is not None else draw(_ids("SV-")),
        customer_id=customer_id if customer_id is not None else draw(_customer_ids()),
        role=draw(_choice(tuple(RespondentRole))),
        channel=draw(_choice(tuple(SurveyChannel))),
        on=_day(draw, on, since, until),
        answers={d: draw(_choice(answers)) for d in dimensions},
        expectation=draw(_optional(_choice(answers))),
        praises_us=draw(_optional(st.booleans())),
        named_us=draw(_optional(st.booleans())),
        comment=draw(_optional(_texts(0, 60))),
    )


@st.composite
def complaints(
    draw: st.DrawFn,
    *,
    customer_id: str | None = None,
    id: str | None = None,
    received_on: dt.date | None = None,
    since: dt.date | None = None,
    until: dt.date | None = None,
    max_moves: int = 20,
) -> Complaint:
    """Complaints (投诉) received, then walked a random number of legal moves.

    Each move is the only legal one from where the complaint stands: complete the next
    of the seven steps (compensation is sometimes skipped, with a reason), close it once
    every step is done, reopen a closed one with a reason. Dates never go backwards, so
    any state a complaint can reach is drawn: fresh, half-handled, closed, reopened.

    Args:
        customer_id: the complainant; drawn with :func:`customer_ids` when omitted.
        id: the complaint id; drawn when omitted.
        received_on: the day it was received; drawn from ``since``–``until`` when omitted.
        since: the earliest receipt day drawn (default 2000-01-01).
        until: no move is dated after this day (the promised day may be).
        max_moves: the most moves made after receipt.
    """
    day = _day(draw, received_on, since, until)
    complaint = Complaint.receive(
        id if id is not None else draw(_ids("Q-")),
        customer_id if customer_id is not None else draw(_customer_ids()),
        day,
        day + dt.timedelta(days=draw(st.integers(min_value=0, max_value=30))),
        draw(_choice(tuple(ComplaintCategory))),
        draw(_optional(_texts(0, 60))),
        draw(_optional(_customer_ids())),
    )
    for _ in range(draw(st.integers(min_value=0, max_value=max_moves))):
        gap = dt.timedelta(days=draw(st.integers(min_value=0, max_value=20)))
        if until is not None and day + gap > until:
            break
        day += gap
        step = complaint.next_step
        if complaint.status is ComplaintStatus.CLOSED:
            complaint = complaint.reopen(day, draw(_required_texts()))
        elif step is None:
            complaint = complaint.close(day)
        elif step is ComplaintStep.COMPENSATE and draw(st.booleans()):
            complaint = complaint.skip_compensation(day, draw(_required_texts()))
        else:
            complaint = complaint.complete(step, day, draw(_optional(_texts(0, 60))))
    return complaint


@st.composite
def interactions(
    draw: st.DrawFn,
    *,
    customer_id: str | None = None,
    on: dt.date | None = None,
    since: dt.date | None = None,
    until: dt.date | None = None,
) -> Interaction:
    """Logged contacts (客户接触记录) on any channel, direction and purpose, with maybe a memo
    and, now and then, signs of dissatisfaction noted by staff.

    Args:
        customer_id: the customer contacted; drawn with :func:`customer_ids` when omitted.
        on: the day of the contact; drawn from ``since``–``until`` when omitted.
        since: the earliest day drawn (default 2000-01-01).
        until: the latest day drawn (default 2025-12-31).
    """
    signals = draw(
        st.one_of(
            st.just(()),
            st.lists(_choice(tuple(ObservedSignal)), min_size=1, max_size=3),
        )
    )
    return Interaction(
        id=draw(_ids("I-")),
        customer_id=customer_id if customer_id is not None else draw(_customer_ids()),
        on=_day(draw, on, since, until),
        channel=draw(_choice(tuple(Channel))),
        direction=draw(_choice(tuple(Direction))),
        purpose=draw(_choice(tuple(Purpose))),
        memo=draw(_optional(_texts(0, 60))),
        csr_id=draw(_optional(_customer_ids())),
        signals=signals,
    )


_DROPPING_CAUSES = frozenset({ChurnCause.FRAUD, ChurnCause.MALICIOUS_ARREARS})


@st.composite
def churn_records(
    draw: st.DrawFn,
    *,
    customer_id: str | None = None,
    on: dt.date | None = None,
    since: dt.date | None = None,
    until: dt.date | None = None,
    dropped_on_purpose: bool | None = None,
) -> ChurnRecord:
    """Churn records (流失记录) made with ``ChurnRecord.record``: any structure or none yet,
    0–4 causes, maybe notes, automatic or not, and sometimes already won back.

    Args:
        customer_id: the churned customer; drawn with :func:`customer_ids` when omitted.
        on: the day of the churn; drawn from ``since``–``until`` when omitted.
        since: the earliest churn day drawn (default 2000-01-01).
        until: the latest churn day drawn (default 2025-12-31); a win-back may be later.
        dropped_on_purpose: True for customers we let go on purpose (structure
            INTENTIONALLY_PUSHED_AWAY, or cause FRAUD or MALICIOUS_ARREARS), False for
            none of those, either when omitted.
    """
    structures: tuple[ChurnStructure, ...] = tuple(ChurnStructure)
    causes: tuple[ChurnCause, ...] = tuple(ChurnCause)
    if dropped_on_purpose is False:
        structures = tuple(
            s for s in structures if s is not ChurnStructure.INTENTIONALLY_PUSHED_AWAY
        )
        causes = tuple(c for c in causes if c not in _DROPPING_CAUSES)
    structure = draw(_optional(_choice(structures)))
    found = draw(st.lists(_choice(causes), max_size=4))
    if dropped_on_purpose and not (
        structure is ChurnStructure.INTENTIONALLY_PUSHED_AWAY or _DROPPING_CAUSES & set(found)
    ):
        how = draw(st.sampled_from(("structure", "fraud", "arrears")))
        if how == "structure":
            structure = ChurnStructure.INTENTIONALLY_PUSHED_AWAY
        else:
            found.append(ChurnCause.FRAUD if how == "fraud" else ChurnCause.MALICIOUS_ARREARS)
    automatic = draw(st.booleans())
    day = _day(draw, on, since, until)
    record = ChurnRecord.record(
        customer_id if customer_id is not None else draw(_customer_ids()),
        day,
        structure,
        found,
        draw(_optional(_texts(0, 60))),
        automatic=automatic,
        policy_id=draw(_optional(_policy_ids())) if automatic else None,
    )
    if draw(st.integers(min_value=0, max_value=4)) == 0:
        record = record.won_back(day + dt.timedelta(days=draw(st.integers(0, 1_000))))
    return record


@st.composite
def recovery_configs(draw: st.DrawFn) -> RecoveryConfig:
    """Win-back rules and costs (:class:`~insurcrm.domain.recovery.RecoveryConfig`): value
    thresholds up to ¥300,000 (``small_below`` ≤ ``important_from``), costs and benefits
    from 0 (2 places), chances of success for some structures, and the rest drawn too."""
    small = draw(_hundredths(0, 10_000_000))
    success_keys: tuple[ChurnStructure | None, ...] = (*ChurnStructure, None)
    chosen = draw(st.lists(_choice(success_keys), max_size=3, unique=True))
    fractions = _hundredths(0, 100)
    costs = _hundredths(0, 500_000)
    return RecoveryConfig(
        important_from=small + draw(_hundredths(0, 20_000_000)),
        small_below=small,
        staff_hours=draw(_hundredths(0, 4_000)),
        staff_hourly_cost=draw(_hundredths(0, 50_000)),
        communication_cost=draw(costs),
        overhead_cost=draw(costs),
        better_terms_cost=draw(costs),
        better_terms_uplift=draw(fractions),
        margin=draw(fractions),
        retention_cost=draw(_hundredths(0, 200_000)),
        replacement_multiple=draw(_hundredths(0, 1_000)),
        promotion_share=draw(_hundredths(0, 100)),
        information_value=draw(costs),
        success={key: draw(fractions) for key in chosen},
    )


@st.composite
def warning_configs(draw: st.DrawFn) -> WarningConfig:
    """Early-warning rules (:class:`~insurcrm.domain.early_warning.WarningConfig`): windows of
    1–730 days (often a year), drops, repeat counts, weights 0–100 for some signals, three
    non-decreasing level scores 1–100 and an idle period of 1–4 years."""
    levels = sorted(draw(st.lists(st.integers(min_value=1, max_value=100), min_size=3, max_size=3)))
    chosen = draw(st.lists(_choice(tuple(WarningSignal)), max_size=7, unique=True))
    return WarningConfig(
        window_days=draw(st.one_of(st.just(365), st.integers(min_value=1, max_value=730))),
        purchase_drop=draw(_hundredths(0, 100)),
        praise_repeats=draw(st.integers(min_value=1, max_value=4)),
        survey_drop=draw(_hundredths(0, 400)),
        weights={signal: draw(st.integers(min_value=0, max_value=100)) for signal in chosen},
        levels=(levels[0], levels[1], levels[2]),
        programmes=ProgrammeConfig(revisit_idle_years=draw(st.integers(min_value=1, max_value=4))),
    )
