"""The service-tier ladder as data (客户服务升级规划, DOMAIN.md §6).

A :class:`TierLadder` is an ordered list of :class:`Tier` s, lowest first. Each
tier has entry criteria over :class:`Indicator` s (every one must be met with
``Combine.ALL``, at least one with ``Combine.ANY``) and its
:class:`Benefits`. The lowest tier has no criteria: every customer holds at
least it. A customer's qualifying tier is the highest whose criteria they
meet. The downgrade behaviour is the ladder's :class:`DowngradeRules`.

A ladder is checked when it is built: tier codes are unique, each higher tier
is strictly harder to reach than the one below it (whoever qualifies for the
higher tier also qualifies for the lower one, and not the other way round),
and every threshold fits its indicator. :meth:`TierLadder.from_data` builds a
ladder from plain data (a parsed TOML or JSON file) and names the place of any
mistake, e.g. ``tiers[2].criteria[0].indicator``.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping, Sequence
from decimal import Decimal, InvalidOperation
from typing import Any

import attrs

from insurcrm.domain.checks import non_negative_int
from insurcrm.domain.credit import CreditGrade
from insurcrm.domain.dates import add_years
from insurcrm.domain.labels import LabelledEnum
from insurcrm.domain.loyalty import LoyaltyLevel
from insurcrm.domain.values import check_text
from insurcrm.errors import RuleViolation, ValidationError

__all__ = [
    "DEFAULT_LADDER",
    "Benefits",
    "Combine",
    "Criterion",
    "CriterionResult",
    "DowngradeMode",
    "DowngradeRules",
    "DropPolicy",
    "Indicator",
    "ReviewSchedule",
    "Tier",
    "TierFigures",
    "TierLadder",
]


class Indicator(LabelledEnum):
    """What a tier criterion measures (指标体系). Every criterion is "at least"."""

    ANNUAL_PREMIUM = ("ANNUAL_PREMIUM", "有效保单年保费")
    POLICIES_IN_FORCE = ("POLICIES_IN_FORCE", "有效保单数")
    TENURE_YEARS = ("TENURE_YEARS", "客户年限")
    REFERRALS = ("REFERRALS", "推荐成交客户数")
    HOUSEHOLD_LONG_TERM_POLICIES = ("HOUSEHOLD_LONG_TERM_POLICIES", "家庭有效长期保单数")
    LOYALTY_LEVEL = ("LOYALTY_LEVEL", "忠诚度级别")
    CREDIT_GRADE = ("CREDIT_GRADE", "信用等级")


class Combine(LabelledEnum):
    """How a tier's criteria combine."""

    ALL = ("ALL", "全部满足")
    ANY = ("ANY", "满足其一")


class DowngradeMode(LabelledEnum):
    """When a customer who no longer qualifies for their tier moves down."""

    NEVER = ("NEVER", "不降级")
    AT_REVIEW = ("AT_REVIEW", "年度评审日降级")
    IMMEDIATELY = ("IMMEDIATELY", "宽限期满即降级")


class ReviewSchedule(LabelledEnum):
    """When the annual review falls."""

    ANNIVERSARY = ("ANNIVERSARY", "会籍周年日")
    FIXED_DATE = ("FIXED_DATE", "每年固定日期")


class DropPolicy(LabelledEnum):
    """How far a downgrade goes."""

    ONE_TIER = ("ONE_TIER", "每次降一级")
    TO_QUALIFYING = ("TO_QUALIFYING", "直接降至达标级别")


# -- figures -------------------------------------------------------------------------


def _credit_rank(grade: CreditGrade | None) -> int:
    """D = 0 … A = 3; no grade (no purchase yet) = -1."""
    return -1 if grade is None else 3 - list(CreditGrade).index(grade)


@attrs.frozen
class TierFigures:
    """One customer's value of every indicator as of a date.

    Attributes:
        annual_premium: the annual premiums of our in-force policies they hold as policyholder.
        policies_in_force: how many of our policies they hold in force as policyholder.
        tenure_years: whole years since their first purchase from us.
        first_purchase: the date of that first purchase (to say when a tenure is reached).
        referrals: customers they referred who bought from us.
        household_long_term_policies: our in-force long-term policies in their household.
        loyalty_level: their loyalty level (§4.2).
        credit_grade: their credit grade (§1.3); None before any purchase.
    """

    annual_premium: Decimal = Decimal(0)
    policies_in_force: int = 0
    tenure_years: int = 0
    first_purchase: dt.date | None = None
    referrals: int = 0
    household_long_term_policies: int = 0
    loyalty_level: LoyaltyLevel = LoyaltyLevel.ORDINARY_BUYER
    credit_grade: CreditGrade | None = None

    def rank(self, indicator: Indicator) -> Decimal:
        """The figure for ``indicator`` as a number that orders like the indicator."""
        return _rank_of(indicator, self.value(indicator))

    def value(self, indicator: Indicator) -> Decimal | int | LoyaltyLevel | CreditGrade | None:
        """The figure for ``indicator``."""
        match indicator:
            case Indicator.ANNUAL_PREMIUM:
                return self.annual_premium
            case Indicator.POLICIES_IN_FORCE:
                return self.policies_in_force
            case Indicator.TENURE_YEARS:
                return self.tenure_years
            case Indicator.REFERRALS:
                return self.referrals
            case Indicator.HOUSEHOLD_LONG_TERM_POLICIES:
                return self.household_long_term_policies
            case Indicator.LOYALTY_LEVEL:
                return self.loyalty_level
            case Indicator.CREDIT_GRADE:
                return self.credit_grade


def _rank_of(indicator: Indicator, value: object) -> Decimal:
    if indicator is Indicator.LOYALTY_LEVEL:
        assert isinstance(value, LoyaltyLevel)
        return Decimal(value.rank)
    if indicator is Indicator.CREDIT_GRADE:
        assert value is None or isinstance(value, CreditGrade)
        return Decimal(_credit_rank(value))
    assert isinstance(value, int | Decimal)
    return Decimal(value)


def _money(amount: Decimal) -> str:
    return f"¥{amount:,.2f}"


def _show(indicator: Indicator, value: object) -> str:
    if value is None:
        return "none"
    if isinstance(value, LoyaltyLevel | CreditGrade):
        return value.name
    if indicator is Indicator.ANNUAL_PREMIUM:
        assert isinstance(value, Decimal)
        return _money(value)
    return str(value)


_NOUNS = {
    Indicator.ANNUAL_PREMIUM: "annual premium in force",
    Indicator.POLICIES_IN_FORCE: "policies in force",
    Indicator.TENURE_YEARS: "years of tenure",
    Indicator.REFERRALS: "referred buyers",
    Indicator.HOUSEHOLD_LONG_TERM_POLICIES: "household long-term policies",
    Indicator.LOYALTY_LEVEL: "loyalty level",
    Indicator.CREDIT_GRADE: "credit grade",
}


_SINGULAR = {
    Indicator.POLICIES_IN_FORCE: "policy in force",
    Indicator.REFERRALS: "referred buyer",
    Indicator.HOUSEHOLD_LONG_TERM_POLICIES: "household long-term policy",
}


# -- criteria ------------------------------------------------------------------------


def _enum(kind: type[LabelledEnum], value: object, path: str, rule: str = "enum.value") -> Any:
    if isinstance(value, kind):
        return value
    if isinstance(value, str) and value in kind.__members__:
        return kind[value]
    raise ValidationError(path, rule, f"must be one of {', '.join(kind.__members__)}")


def _decimal(value: object) -> object:
    if isinstance(value, int | str) and not isinstance(value, bool):
        try:
            return Decimal(value)
        except InvalidOperation:
            return value
    return value


def _threshold(indicator: Indicator, value: object) -> Decimal | int | LoyaltyLevel | CreditGrade:
    """Check and convert a criterion's ``at_least`` for ``indicator`` (field ``at_least``)."""
    if indicator is Indicator.LOYALTY_LEVEL:
        level: LoyaltyLevel = _enum(LoyaltyLevel, value, "at_least")
        return level
    if indicator is Indicator.CREDIT_GRADE:
        grade: CreditGrade = _enum(CreditGrade, value, "at_least")
        return grade
    if indicator is Indicator.ANNUAL_PREMIUM:
        value = _decimal(value)
        if not isinstance(value, Decimal) or not value.is_finite() or value < 0:
            raise ValidationError(
                "at_least", "tier.threshold", "must be an amount ≥ 0 (a number or decimal text)"
            )
        if value != value.quantize(Decimal("0.01")):
            raise ValidationError("at_least", "tier.threshold", "must have at most 2 decimals")
        return value.quantize(Decimal("0.01"))
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise ValidationError("at_least", "tier.threshold", "must be a whole number ≥ 0")
    return value


@attrs.frozen
class Criterion:
    """One entry criterion: ``indicator`` at least ``at_least``.

    ``at_least`` is an amount (``Decimal``) for ANNUAL_PREMIUM, a
    :class:`~insurcrm.domain.loyalty.LoyaltyLevel` for LOYALTY_LEVEL, a
    :class:`~insurcrm.domain.credit.CreditGrade` for CREDIT_GRADE (A is best:
    "at least B" means A or B), and a whole number otherwise. Names of levels
    and grades, and amounts as text, are converted.

    Raises:
        ValidationError: field ``indicator`` or ``at_least``.
    """

    indicator: Indicator = attrs.field()
    at_least: Decimal | int | LoyaltyLevel | CreditGrade = attrs.field()

    @indicator.validator
    def _check_indicator(self, attribute: attrs.Attribute[Any], value: object) -> None:
        if not isinstance(value, Indicator):
            raise ValidationError(
                "indicator", "tier.indicator", f"must be one of {', '.join(Indicator.__members__)}"
            )

    def __attrs_post_init__(self) -> None:
        object.__setattr__(self, "at_least", _threshold(self.indicator, self.at_least))

    @property
    def rank(self) -> Decimal:
        """The threshold as a number ordered like the indicator's figures."""
        return _rank_of(self.indicator, self.at_least)

    def met_by(self, figures: TierFigures) -> bool:
        """True when the customer's figure reaches the threshold."""
        return figures.rank(self.indicator) >= self.rank

    def describe(self) -> str:
        """E.g. ``annual premium in force ≥ ¥10,000.00``."""
        return f"{_NOUNS[self.indicator]} ≥ {_show(self.indicator, self.at_least)}"

    def check(self, figures: TierFigures) -> CriterionResult:
        """Whether ``figures`` meet this criterion, with the figure and what is missing."""
        value = figures.value(self.indicator)
        shown = _show(self.indicator, value)
        if self.met_by(figures):
            return CriterionResult(
                self,
                True,
                f"{_NOUNS[self.indicator]} {shown} ≥ {_show(self.indicator, self.at_least)}",
                None,
            )
        return CriterionResult(
            self,
            False,
            f"{_NOUNS[self.indicator]} {shown} < {_show(self.indicator, self.at_least)}",
            self._gap(figures),
        )

    def _gap(self, figures: TierFigures) -> str:
        value = figures.value(self.indicator)
        match self.indicator:
            case Indicator.ANNUAL_PREMIUM:
                assert isinstance(value, Decimal)
                assert isinstance(self.at_least, Decimal)
                return f"{_money(self.at_least - value)} more annual premium in force"
            case Indicator.LOYALTY_LEVEL | Indicator.CREDIT_GRADE:
                better = "or higher" if self.indicator is Indicator.LOYALTY_LEVEL else "or better"
                return (
                    f"{_NOUNS[self.indicator]} {_show(self.indicator, self.at_least)} {better} "
                    f"(now {_show(self.indicator, value)})"
                )
            case Indicator.TENURE_YEARS:
                assert isinstance(value, int)
                assert isinstance(self.at_least, int)
                more = self.at_least - value
                if figures.first_purchase is None:
                    return f"a first purchase, then {self.at_least} years of tenure"
                when = add_years(figures.first_purchase, self.at_least)
                return f"{more} more year{'s' if more != 1 else ''} of tenure (on {when})"
            case _:
                assert isinstance(value, int)
                assert isinstance(self.at_least, int)
                more = self.at_least - value
                noun = _NOUNS[self.indicator] if more != 1 else _SINGULAR[self.indicator]
                return f"{more} more {noun}"


@attrs.frozen
class CriterionResult:
    """A criterion checked against one customer's figures.

    Attributes:
        criterion: the criterion.
        met: whether the customer meets it.
        detail: the comparison, e.g. ``annual premium in force ¥6,800.00 < ¥10,000.00``.
        gap: what is missing when not met, e.g. ``¥3,200.00 more annual premium in force``.
    """

    criterion: Criterion
    met: bool
    detail: str
    gap: str | None


# -- tiers and the ladder ------------------------------------------------------------


def _percent(instance: Any, attribute: attrs.Attribute[Any], value: object) -> None:
    if not isinstance(value, Decimal) or not value.is_finite() or not 0 <= value <= 100:
        raise ValidationError(attribute.name, "tier.discount", "must be a percentage 0–100")


def _services(instance: Any, attribute: attrs.Attribute[Any], value: object) -> None:
    assert isinstance(value, tuple)
    for i, name in enumerate(value):
        check_text(name, f"services[{i}]", required=True)


def _tuple_of_str(value: object) -> tuple[str, ...]:
    if isinstance(value, str) or not isinstance(value, Sequence):
        raise ValidationError("services", "type", "must be a list of service names")
    return tuple(value)


def _flag(instance: Any, attribute: attrs.Attribute[Any], value: object) -> None:
    if not isinstance(value, bool):
        raise ValidationError(attribute.name, "type", "must be true or false")


@attrs.frozen
class Benefits:
    """What a tier gives (服务内容).

    Attributes:
        services: named services, e.g. ``"专属客服经理"``.
        premium_discount: a premium discount in percent (0–100), where the
            product's approved rates allow one.
        dedicated_csr: a dedicated customer-service representative (专属客服).
        claims_green_channel: the claims green channel (理赔绿色通道).
        health_check_up: a yearly health check-up (健康体检).
    """

    services: tuple[str, ...] = attrs.field(
        default=(), converter=_tuple_of_str, validator=_services
    )
    premium_discount: Decimal = attrs.field(
        default=Decimal(0), converter=_decimal, validator=_percent
    )
    dedicated_csr: bool = attrs.field(default=False, validator=_flag)
    claims_green_channel: bool = attrs.field(default=False, validator=_flag)
    health_check_up: bool = attrs.field(default=False, validator=_flag)


def _code(instance: Any, attribute: attrs.Attribute[Any], value: object) -> None:
    check_text(value, attribute.name, required=True)
    assert isinstance(value, str)
    if len(value) > 32 or not value.isprintable() or value != value.strip():
        raise ValidationError(
            attribute.name, "tier.code", "must be 1–32 printable characters, no outer spaces"
        )


def _criteria_tuple(value: object) -> tuple[Criterion, ...]:
    if not isinstance(value, Sequence) or isinstance(value, str):
        raise ValidationError("criteria", "type", "must be a list of criteria")
    return tuple(value)


@attrs.frozen
class Tier:
    """One rung of the ladder.

    Raises:
        ValidationError: a bad code, a criterion that is not a :class:`Criterion`,
            or two criteria on the same indicator (``criteria[i].indicator``).
    """

    code: str = attrs.field(validator=_code)
    name_zh: str = attrs.field(default="", validator=lambda _, a, v: check_text(v, a.name))
    criteria: tuple[Criterion, ...] = attrs.field(default=(), converter=_criteria_tuple)
    combine: Combine = attrs.field(default=Combine.ALL)
    benefits: Benefits = attrs.field(factory=Benefits)

    def __attrs_post_init__(self) -> None:
        if not isinstance(self.combine, Combine):
            raise ValidationError("combine", "enum.value", "must be ALL or ANY")
        if not isinstance(self.benefits, Benefits):
            raise ValidationError("benefits", "type", "must be Benefits")
        seen: set[Indicator] = set()
        for i, criterion in enumerate(self.criteria):
            if not isinstance(criterion, Criterion):
                raise ValidationError(f"criteria[{i}]", "type", "must be a Criterion")
            if criterion.indicator in seen:
                raise ValidationError(
                    f"criteria[{i}].indicator",
                    "tier.duplicate_indicator",
                    f"{criterion.indicator.name} is already a criterion of this tier",
                )
            seen.add(criterion.indicator)

    def qualifies(self, figures: TierFigures) -> bool:
        """True when ``figures`` meet the criteria (always, for a tier without criteria)."""
        if not self.criteria:
            return True
        met = (c.met_by(figures) for c in self.criteria)
        return all(met) if self.combine is Combine.ALL else any(met)

    def check(self, figures: TierFigures) -> tuple[CriterionResult, ...]:
        """Every criterion checked against ``figures``."""
        return tuple(c.check(figures) for c in self.criteria)

    def describe(self) -> str:
        """E.g. ``annual premium in force ≥ ¥10,000.00 and credit grade ≥ B``."""
        if not self.criteria:
            return "every customer"
        joiner = " and " if self.combine is Combine.ALL else " or "
        return joiner.join(c.describe() for c in self.criteria)


def _binding(tier: Tier) -> tuple[Criterion, ...]:
    """The criteria of ``tier`` that some customer can fail; none when every customer meets it.

    A count or amount ≥ 0 and the lowest loyalty level are met by everybody (credit
    grade ≥ D is not: a customer without a grade fails it). Such a criterion adds
    nothing to an ALL tier and makes an ANY tier every customer's.
    """
    binding = tuple(c for c in tier.criteria if c.indicator is Indicator.CREDIT_GRADE or c.rank > 0)
    if tier.combine is Combine.ANY and len(binding) < len(tier.criteria):
        return ()
    return binding


def _implies(higher: Tier, lower: Tier) -> bool:
    """True when every customer qualifying for ``higher`` also qualifies for ``lower``
    (indicators taken as independent)."""
    hs, ls = _binding(higher), _binding(lower)
    if not ls:
        return True
    if not hs:
        return False

    def covers(h: Criterion, low: Criterion) -> bool:
        return h.indicator is low.indicator and h.rank >= low.rank

    if higher.combine is Combine.ALL and lower.combine is Combine.ALL:
        return all(any(covers(h, low) for h in hs) for low in ls)
    if higher.combine is Combine.ALL:  # lower ANY: one of them is enough
        return any(covers(h, low) for h in hs for low in ls)
    if lower.combine is Combine.ALL:  # higher ANY: each option must give all of lower
        return all(covers(h, low) for h in hs for low in ls)
    return all(any(covers(h, low) for low in ls) for h in hs)


def _tier_tuple(value: Iterable[Tier]) -> tuple[Tier, ...]:
    return tuple(value)


@attrs.frozen
class DowngradeRules:
    """How and when customers move down (stated, not buried in code).

    Defaults are DOMAIN.md §6's: downgrade only at the annual review (the
    anniversary of the day the customer reached their current tier), one tier
    per review, and only after failing to qualify for the whole grace period
    of 90 days before the review date.

    Attributes:
        mode: NEVER; AT_REVIEW (on the review date, or the first evaluation
            after it); IMMEDIATELY (as soon as the grace period is over).
        schedule: ANNIVERSARY of the current tier, or a FIXED_DATE each year.
        review_month: the month of the fixed review date (FIXED_DATE only).
        review_day: its day (29 February is refused: not every year has one).
        drop: ONE_TIER per downgrade, or TO_QUALIFYING at once.
        grace_days: days a customer must have failed to qualify before a downgrade.

    Raises:
        ValidationError: a field of the wrong kind or an impossible date.
    """

    mode: DowngradeMode = DowngradeMode.AT_REVIEW
    schedule: ReviewSchedule = ReviewSchedule.ANNIVERSARY
    review_month: int = 1
    review_day: int = 1
    drop: DropPolicy = DropPolicy.ONE_TIER
    grace_days: int = attrs.field(default=90, validator=non_negative_int)

    def __attrs_post_init__(self) -> None:
        for name, kind in (
            ("mode", DowngradeMode),
            ("schedule", ReviewSchedule),
            ("drop", DropPolicy),
        ):
            if not isinstance(getattr(self, name), kind):
                raise ValidationError(
                    name, "enum.value", f"must be one of {', '.join(kind.__members__)}"
                )
        for name in ("review_month", "review_day"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int):
                raise ValidationError(name, "type", "must be a whole number")
        try:
            dt.date(2023, self.review_month, self.review_day)
        except ValueError:
            raise ValidationError(
                "review_day", "tier.review_date", "must be a day every year has (not 29 Feb)"
            ) from None

    def review_dates(self, since: dt.date, after: dt.date, until: dt.date) -> list[dt.date]:
        """The review dates in ``(after, until]`` for a tier held since ``since``
        (reviews start the year after ``since``)."""
        dates: list[dt.date] = []
        if self.schedule is ReviewSchedule.ANNIVERSARY:
            k = 1
            while (day := add_years(since, k)) <= until:
                if day > after:
                    dates.append(day)
                k += 1
            return dates
        year = max(since.year, after.year)
        while (day := dt.date(year, self.review_month, self.review_day)) <= until:
            if day > after and day > since:
                dates.append(day)
            year += 1
        return dates


@attrs.frozen
class TierLadder:
    """An ordered ladder of tiers (lowest first) with its downgrade rules.

    Raises:
        ValidationError: naming the place, e.g. ``tiers[2]`` for a tier easier to
            reach than the one below it, ``tiers[1].code`` for a duplicate code.
    """

    tiers: tuple[Tier, ...] = attrs.field(converter=_tier_tuple)
    rules: DowngradeRules = attrs.field(factory=DowngradeRules)

    def __attrs_post_init__(self) -> None:
        if not self.tiers:
            raise ValidationError("tiers", "tier.empty", "a ladder needs at least one tier")
        codes: set[str] = set()
        for i, tier in enumerate(self.tiers):
            if not isinstance(tier, Tier):
                raise ValidationError(f"tiers[{i}]", "type", "must be a Tier")
            if tier.code in codes:
                raise ValidationError(
                    f"tiers[{i}].code", "tier.duplicate", f"tier {tier.code} appears twice"
                )
            codes.add(tier.code)
        if self.tiers[0].criteria:
            raise ValidationError(
                "tiers[0].criteria",
                "tier.entry",
                "the lowest tier is every customer's tier: it has no criteria",
            )
        for i in range(1, len(self.tiers)):
            lower, higher = self.tiers[i - 1], self.tiers[i]
            if not _implies(higher, lower):
                raise ValidationError(
                    f"tiers[{i}]",
                    "tier.order",
                    f"{higher.code} is easier to reach than {lower.code} below it: a customer "
                    f"can meet '{higher.describe()}' without '{lower.describe()}'",
                )
            if _implies(lower, higher):
                raise ValidationError(
                    f"tiers[{i}]",
                    "tier.order",
                    f"{higher.code} is no harder to reach than {lower.code}: "
                    f"{lower.code} could never be held",
                )
        if not isinstance(self.rules, DowngradeRules):
            raise ValidationError("downgrade", "type", "must be DowngradeRules")

    @property
    def codes(self) -> tuple[str, ...]:
        """The tier codes, lowest first."""
        return tuple(t.code for t in self.tiers)

    def index(self, code: str) -> int:
        """The position of tier ``code`` (0 = lowest).

        Raises:
            RuleViolation: no tier has this code (e.g. a stored tier the ladder dropped).
        """
        for i, tier in enumerate(self.tiers):
            if tier.code == code:
                return i
        raise RuleViolation(f"tier {code!r} is not on this ladder ({', '.join(self.codes)})")

    def tier(self, code: str) -> Tier:
        """The tier with code ``code`` (see :meth:`index`)."""
        return self.tiers[self.index(code)]

    def qualifying(self, figures: TierFigures) -> int:
        """The index of the highest tier whose criteria ``figures`` meet."""
        best = 0
        for i, tier in enumerate(self.tiers):
            if tier.qualifies(figures):
                best = i
        return best

    @classmethod
    def from_data(cls, data: Mapping[str, Any]) -> TierLadder:
        """Build a ladder from plain data (a parsed TOML or JSON document)::

            {"downgrade": {"mode": "AT_REVIEW", "grace_days": 90, ...},
             "tiers": [{"code": "STANDARD", "name_zh": "普通"},
                       {"code": "SILVER", "combine": "ALL",
                        "criteria": [{"indicator": "ANNUAL_PREMIUM", "at_least": "10000"}],
                        "benefits": {"premium_discount": "1", "services": ["…"]}}]}

        Raises:
            ValidationError: naming the place of the first mistake, e.g.
                ``tiers[1].criteria[0].indicator`` for an unknown indicator.
        """
        _keys(data, "", {"tiers", "downgrade"})
        raw_tiers = data.get("tiers")
        if not isinstance(raw_tiers, list):
            raise ValidationError("tiers", "type", "must be a list of tiers")
        tiers = tuple(_tier_from(t, f"tiers[{i}]") for i, t in enumerate(raw_tiers))
        rules = _rules_from(data.get("downgrade", {}))
        return cls(tiers, rules)

    def to_data(self) -> dict[str, Any]:
        """The plain-data form :meth:`from_data` reads (JSON-ready)."""
        r = self.rules
        rules: dict[str, Any] = {
            "mode": r.mode.name,
            "schedule": r.schedule.name,
            "review_month": r.review_month,
            "review_day": r.review_day,
            "drop": r.drop.name,
            "grace_days": r.grace_days,
        }
        tiers = []
        for tier in self.tiers:
            b = tier.benefits
            tiers.append(
                {
                    "code": tier.code,
                    "name_zh": tier.name_zh,
                    "combine": tier.combine.name,
                    "criteria": [
                        {"indicator": c.indicator.name, "at_least": _plain(c.at_least)}
                        for c in tier.criteria
                    ],
                    "benefits": {
                        "services": list(b.services),
                        "premium_discount": str(b.premium_discount),
                        "dedicated_csr": b.dedicated_csr,
                        "claims_green_channel": b.claims_green_channel,
                        "health_check_up": b.health_check_up,
                    },
                }
            )
        return {"downgrade": rules, "tiers": tiers}


def _plain(value: Decimal | int | LoyaltyLevel | CreditGrade) -> str | int:
    if isinstance(value, LoyaltyLevel | CreditGrade):
        return value.name
    if isinstance(value, Decimal):
        return str(value)
    return value


def _keys(data: object, path: str, allowed: set[str]) -> None:
    if not isinstance(data, Mapping):
        raise ValidationError(path, "type", "must be a table of keys")
    for key in data:
        if key not in allowed:
            place = f"{path}.{key}" if path else str(key)
            raise ValidationError(
                place, "field.unknown", f"unknown key; expected one of {', '.join(sorted(allowed))}"
            )


def _tier_from(data: object, path: str) -> Tier:
    _keys(data, path, {"code", "name_zh", "combine", "criteria", "benefits"})
    assert isinstance(data, Mapping)
    criteria = []
    raw = data.get("criteria", [])
    if not isinstance(raw, list):
        raise ValidationError(f"{path}.criteria", "type", "must be a list of criteria")
    for j, item in enumerate(raw):
        place = f"{path}.criteria[{j}]"
        _keys(item, place, {"indicator", "at_least"})
        assert isinstance(item, Mapping)
        if "indicator" not in item or "at_least" not in item:
            raise ValidationError(place, "field.required", "needs indicator and at_least")
        indicator = _enum(Indicator, item["indicator"], f"{place}.indicator", "tier.indicator")
        try:
            criteria.append(Criterion(indicator, item["at_least"]))
        except ValidationError as error:
            raise error.at(place) from None
    benefits = data.get("benefits", {})
    _keys(
        benefits,
        f"{path}.benefits",
        {
            "services",
            "premium_discount",
            "dedicated_csr",
            "claims_green_channel",
            "health_check_up",
        },
    )
    assert isinstance(benefits, Mapping)
    if "code" not in data:
        raise ValidationError(f"{path}.code", "field.required", "is required")
    try:
        made_benefits = Benefits(**benefits)
    except ValidationError as error:
        raise error.at(f"{path}.benefits") from None
    combine = _enum(Combine, data.get("combine", "ALL"), f"{path}.combine")
    try:
        return Tier(
            code=data["code"],
            name_zh=data.get("name_zh", ""),
            criteria=tuple(criteria),
            combine=combine,
            benefits=made_benefits,
        )
    except ValidationError as error:
        raise error.at(path) from None


def _rules_from(data: object) -> DowngradeRules:
    names = {a.name for a in attrs.fields(DowngradeRules)}
    _keys(data, "downgrade", names)
    assert isinstance(data, Mapping)
    kinds = {"mode": DowngradeMode, "schedule": ReviewSchedule, "drop": DropPolicy}
    values = {k: _enum(kinds[k], v, f"downgrade.{k}") if k in kinds else v for k, v in data.items()}
    try:
        return DowngradeRules(**values)
    except ValidationError as error:
        raise error.at("downgrade") from None


#: The ladder that ships with insurcrm (DOMAIN.md §6 names the tiers; the thresholds
#: and benefits are insurcrm's defaults, documented in docs/reference/rules.md).
DEFAULT_LADDER = TierLadder(
    (
        Tier(
            "STANDARD",
            "普通",
            benefits=Benefits(services=("保单服务", "理赔服务", "客服热线")),
        ),
        Tier(
            "SILVER",
            "银卡",
            criteria=(
                Criterion(Indicator.ANNUAL_PREMIUM, Decimal("10000")),
                Criterion(Indicator.TENURE_YEARS, 1),
                Criterion(Indicator.CREDIT_GRADE, CreditGrade.B),
            ),
            benefits=Benefits(
                services=("保单服务", "理赔服务", "客服热线", "柜面优先", "生日关怀"),
                premium_discount=Decimal(1),
            ),
        ),
        Tier(
            "GOLD",
            "金卡",
            criteria=(
                Criterion(Indicator.ANNUAL_PREMIUM, Decimal("30000")),
                Criterion(Indicator.TENURE_YEARS, 3),
                Criterion(Indicator.CREDIT_GRADE, CreditGrade.B),
                Criterion(Indicator.POLICIES_IN_FORCE, 2),
            ),
            benefits=Benefits(
                services=(
                    "保单服务",
                    "理赔服务",
                    "客服热线",
                    "柜面优先",
                    "生日关怀",
                    "专属客服经理",
                ),
                premium_discount=Decimal(3),
                dedicated_csr=True,
                claims_green_channel=True,
            ),
        ),
        Tier(
            "PLATINUM",
            "白金/VIP",
            criteria=(
                Criterion(Indicator.ANNUAL_PREMIUM, Decimal("100000")),
                Criterion(Indicator.TENURE_YEARS, 5),
                Criterion(Indicator.CREDIT_GRADE, CreditGrade.A),
                Criterion(Indicator.POLICIES_IN_FORCE, 2),
                Criterion(Indicator.LOYALTY_LEVEL, LoyaltyLevel.ACTIVE),
            ),
            benefits=Benefits(
                services=(
                    "保单服务",
                    "理赔服务",
                    "客服热线",
                    "柜面优先",
                    "生日关怀",
                    "专属客服经理",
                    "年度健康体检",
                    "家庭保障规划",
                ),
                premium_discount=Decimal(5),
                dedicated_csr=True,
                claims_green_channel=True,
                health_check_up=True,
            ),
        ),
    )
)
