"""Satisfaction outcome (§3), loyalty measures (§4.1), the loyalty ladder (§4.2) and
loyalty types (§4.3).

Every rule is a pure function of facts and an as-of date with a config object
holding DOMAIN.md's defaults, and returns its result with the reasons that
decided it.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from decimal import Decimal

import attrs

from insurcrm.domain.checks import fraction, non_negative_decimal, non_negative_int, positive_int
from insurcrm.domain.dates import add_years, whole_years_between
from insurcrm.domain.labels import LabelledEnum
from insurcrm.domain.policies import Policy, ours_in_force
from insurcrm.errors import ValidationError

__all__ = [
    "Attitude",
    "LadderConfig",
    "LadderFacts",
    "LadderResult",
    "LoyaltyLevel",
    "LoyaltyMeasures",
    "LoyaltySignals",
    "LoyaltyType",
    "LoyaltyTypeConfig",
    "LoyaltyTypeResult",
    "SatisfactionConfig",
    "SatisfactionOutcome",
    "SatisfactionResult",
    "Sensitivity",
    "attachment_high",
    "derive_signals",
    "ladder_facts",
    "loyalty_level",
    "loyalty_type",
    "measure_loyalty",
    "purchase_dates",
    "satisfaction_outcome",
]


# -- §3 satisfaction outcome --------------------------------------------------------


class SatisfactionOutcome(LabelledEnum):
    """Satisfaction = experience − expectation (客户满意度 = 客户体验 − 客户期望)."""

    DISSATISFIED = ("DISSATISFIED", "不满意")
    SATISFIED = ("SATISFIED", "满意")
    DELIGHTED = ("DELIGHTED", "非常满意")


@attrs.frozen
class SatisfactionConfig:
    """``tolerance``: how far experience may differ from expectation and still count as
    SATISFIED (default 0: only equal is SATISFIED)."""

    tolerance: Decimal = attrs.field(default=Decimal(0), validator=non_negative_decimal)


@attrs.frozen
class SatisfactionResult:
    """The outcome, the gap (experience − expectation) and why."""

    outcome: SatisfactionOutcome
    gap: Decimal
    reasons: tuple[str, ...]


def _number(value: object, field: str) -> Decimal:
    if isinstance(value, bool) or not isinstance(value, int | Decimal):
        raise ValidationError(field, "number.type", "must be an int or a Decimal")
    number = Decimal(value)
    if not number.is_finite():
        raise ValidationError(field, "number.finite", "must be finite")
    return number


def satisfaction_outcome(
    experience: int | Decimal,
    expectation: int | Decimal,
    config: SatisfactionConfig | None = None,
) -> SatisfactionResult:
    """Compare experience with expectation, both on the same scale (DOMAIN.md §3).

    Example:
        >>> satisfaction_outcome(7, 8).outcome
        SatisfactionOutcome.DISSATISFIED

    Raises:
        ValidationError: a value that is not an int or Decimal.
    """
    cfg = config or SatisfactionConfig()
    gap = _number(experience, "experience") - _number(expectation, "expectation")
    if gap < -cfg.tolerance:
        outcome, why = (
            SatisfactionOutcome.DISSATISFIED,
            f"below expectation by more than {cfg.tolerance}",
        )
    elif gap > cfg.tolerance:
        outcome, why = (
            SatisfactionOutcome.DELIGHTED,
            f"above expectation by more than {cfg.tolerance}",
        )
    else:
        outcome, why = SatisfactionOutcome.SATISFIED, f"within the tolerance {cfg.tolerance}"
    return SatisfactionResult(
        outcome, gap, (f"{outcome.name}: experience − expectation = {gap}, {why}",)
    )


# -- §4.1 loyalty measures -----------------------------------------------------------


class Sensitivity(LabelledEnum):
    """A recorded degree (price sensitivity, quality tolerance)."""

    LOW = ("LOW", "低")
    MEDIUM = ("MEDIUM", "中")
    HIGH = ("HIGH", "高")


class Attitude(LabelledEnum):
    """Attitude to competitors' products (对竞争产品的态度), as recorded."""

    FAVOURS_US = ("FAVOURS_US", "偏好本公司")
    INDIFFERENT = ("INDIFFERENT", "无所谓")
    FAVOURS_COMPETITORS = ("FAVOURS_COMPETITORS", "偏好竞争对手")


@attrs.frozen
class LoyaltyMeasures:
    """The six loyalty measures (测量客户忠诚度标准) of one customer.

    ``repeat_purchases`` counts purchases after the first; ``selection_days`` is the
    purchase selection time from first contact to first purchase. The last three
    are only known when recorded (e.g. from a survey).
    """

    repeat_purchases: int
    selection_days: int | None
    referrals: int
    price_sensitivity: Sensitivity | None = None
    competitor_attitude: Attitude | None = None
    quality_tolerance: Sensitivity | None = None


def purchase_dates(policies: Iterable[Policy], as_of: dt.date) -> tuple[dt.date, ...]:
    """Every purchase date (new policies and renewals) up to ``as_of``, in order."""
    return tuple(sorted(p.on for policy in policies for p in policy.purchases if p.on <= as_of))


def measure_loyalty(
    policies: Iterable[Policy],
    referrals: int,
    first_contact: dt.date,
    as_of: dt.date,
    *,
    price_sensitivity: Sensitivity | None = None,
    competitor_attitude: Attitude | None = None,
    quality_tolerance: Sensitivity | None = None,
) -> LoyaltyMeasures:
    """Measure loyalty from the policies the customer holds as policyholder.

    Args:
        policies: the customer's policies (as policyholder).
        referrals: customers this one referred (``referred_by`` pointing here).
        first_contact: the day we first met the customer (usually ``created_on``).
        as_of: the assessment date; later purchases are ignored.
    """
    dates = purchase_dates(policies, as_of)
    return LoyaltyMeasures(
        repeat_purchases=max(len(dates) - 1, 0),
        selection_days=max((dates[0] - first_contact).days, 0) if dates else None,
        referrals=referrals,
        price_sensitivity=price_sensitivity,
        competitor_attitude=competitor_attitude,
        quality_tolerance=quality_tolerance,
    )


# -- §4.2 loyalty ladder --------------------------------------------------------------


class LoyaltyLevel(LabelledEnum):
    """The loyalty ladder (客户忠诚度级别), lowest first; members compare by rank."""

    ORDINARY_BUYER = ("ORDINARY_BUYER", "普通购买者")
    PROSPECT = ("PROSPECT", "潜在的客户")
    GENERAL = ("GENERAL", "一般的客户")
    ACTIVE = ("ACTIVE", "活跃的客户")
    ADVOCATE = ("ADVOCATE", "拥护的客户")
    PARTNER = ("PARTNER", "合作的伙伴")

    @property
    def rank(self) -> int:
        """0 for ORDINARY_BUYER up to 5 for PARTNER."""
        return list(LoyaltyLevel).index(self)


@attrs.frozen
class LadderConfig:
    """Thresholds of the ladder; defaults are DOMAIN.md §4.2's.

    Raises:
        ValidationError: a threshold below its minimum, or PARTNER easier than ADVOCATE.
    """

    active_min_purchases: int = attrs.field(default=2, validator=positive_int)
    active_recent_years: int = attrs.field(default=3, validator=positive_int)
    advocate_min_referred_buyers: int = attrs.field(default=1, validator=positive_int)
    partner_min_referred_buyers: int = attrs.field(default=3, validator=positive_int)
    partner_min_tenure_years: int = attrs.field(default=5, validator=non_negative_int)

    def __attrs_post_init__(self) -> None:
        if self.partner_min_referred_buyers < self.advocate_min_referred_buyers:
            raise ValidationError(
                "partner_min_referred_buyers",
                "config.order",
                "must be at least advocate_min_referred_buyers",
            )


@attrs.frozen
class LadderFacts:
    """What the ladder looks at, for one customer as of a date.

    Attributes:
        purchases: purchase dates up to the assessment date.
        has_policy_in_force: a policy of ours in force on the assessment date.
        two_way_contacts: two-way contacts (interactions) or quotes so far.
        referred_buyers: customers this one referred who bought.
        cooperation_partner: flagged as a cooperation partner.
    """

    purchases: tuple[dt.date, ...]
    has_policy_in_force: bool
    two_way_contacts: int = 0
    referred_buyers: int = 0
    cooperation_partner: bool = False


@attrs.frozen
class LadderResult:
    """The level and the reasons (every rung checked, in order)."""

    level: LoyaltyLevel
    reasons: tuple[str, ...]


def ladder_facts(
    policies: Sequence[Policy],
    as_of: dt.date,
    *,
    two_way_contacts: int = 0,
    referred_buyers: int = 0,
    cooperation_partner: bool = False,
) -> LadderFacts:
    """Collect the ladder facts from the customer's policies (as policyholder)."""
    return LadderFacts(
        purchases=purchase_dates(policies, as_of),
        has_policy_in_force=bool(ours_in_force(policies, as_of)),
        two_way_contacts=two_way_contacts,
        referred_buyers=referred_buyers,
        cooperation_partner=cooperation_partner,
    )


def loyalty_level(
    facts: LadderFacts, as_of: dt.date, config: LadderConfig | None = None
) -> LadderResult:
    """Place a customer on the loyalty ladder (DOMAIN.md §4.2).

    Tenure is counted in whole years from the first purchase. The customer climbs
    while each rung's rule holds; the reasons say why they stopped.
    """
    cfg = config or LadderConfig()
    dates = tuple(sorted(d for d in facts.purchases if d <= as_of))
    if not dates:
        if facts.two_way_contacts >= 1:
            return LadderResult(
                LoyaltyLevel.PROSPECT,
                (f"PROSPECT: {facts.two_way_contacts} two-way contact(s), no purchase",),
            )
        return LadderResult(
            LoyaltyLevel.ORDINARY_BUYER, ("ORDINARY_BUYER: no two-way contact and no purchase",)
        )
    reasons = [f"GENERAL: {len(dates)} purchase(s)"]
    recent_from = add_years(as_of, -cfg.active_recent_years)
    last = dates[-1]
    n = len(dates)
    within = last > recent_from
    active_checks = [
        (
            n >= cfg.active_min_purchases,
            f"{n} {'≥' if n >= cfg.active_min_purchases else '<'} "
            f"{cfg.active_min_purchases} purchases",
        ),
        (
            facts.has_policy_in_force,
            "a policy in force" if facts.has_policy_in_force else "no policy in force",
        ),
        (
            within,
            f"last purchase {last} {'within' if within else 'not within'} "
            f"{cfg.active_recent_years} years",
        ),
    ]
    missed = [text for ok, text in active_checks if not ok]
    if missed:
        reasons.append("not ACTIVE: " + "; ".join(missed))
        return LadderResult(LoyaltyLevel.GENERAL, tuple(reasons))
    reasons.append("ACTIVE: " + "; ".join(text for _, text in active_checks))
    if facts.referred_buyers < cfg.advocate_min_referred_buyers:
        reasons.append(
            f"not ADVOCATE: {facts.referred_buyers} referred buyer(s) "
            f"< {cfg.advocate_min_referred_buyers}"
        )
        return LadderResult(LoyaltyLevel.ACTIVE, tuple(reasons))
    reasons.append(
        f"ADVOCATE: {facts.referred_buyers} referred buyer(s) ≥ {cfg.advocate_min_referred_buyers}"
    )
    tenure = whole_years_between(dates[0], as_of)
    partner_by = (
        facts.referred_buyers >= cfg.partner_min_referred_buyers or facts.cooperation_partner
    )
    if partner_by and tenure >= cfg.partner_min_tenure_years:
        how = (
            f"{facts.referred_buyers} referred buyers ≥ {cfg.partner_min_referred_buyers}"
            if facts.referred_buyers >= cfg.partner_min_referred_buyers
            else "flagged as a cooperation partner"
        )
        reasons.append(f"PARTNER: {how}; tenure {tenure} ≥ {cfg.partner_min_tenure_years} years")
        return LadderResult(LoyaltyLevel.PARTNER, tuple(reasons))
    lacks = []
    if not partner_by:
        lacks.append(
            f"{facts.referred_buyers} referred buyers < {cfg.partner_min_referred_buyers} "
            "and not a cooperation partner"
        )
    if tenure < cfg.partner_min_tenure_years:
        lacks.append(f"tenure {tenure} < {cfg.partner_min_tenure_years} years")
    reasons.append("not PARTNER: " + "; ".join(lacks))
    return LadderResult(LoyaltyLevel.ADVOCATE, tuple(reasons))


# -- §4.3 loyalty types ------------------------------------------------------------------


class LoyaltyType(LabelledEnum):
    """Loyalty types (忠诚类型): attachment (依恋) × repeat purchase (重复购买)."""

    MONOPOLY = ("MONOPOLY", "垄断忠诚")
    INERTIA = ("INERTIA", "惰性忠诚")
    LATENT = ("LATENT", "潜在忠诚")
    CONVENIENCE = ("CONVENIENCE", "方便忠诚")
    PRICE = ("PRICE", "价格忠诚")
    INCENTIVE = ("INCENTIVE", "激励忠诚")
    PREMIUM = ("PREMIUM", "超值忠诚")
    NONE = ("NONE", "无忠诚")


@attrs.frozen
class LoyaltyTypeConfig:
    """Defaults of DOMAIN.md §4.3: repeat is high with ≥ 2 purchases in the last 3 years;
    INCENTIVE when ≥ 50 % of purchases were under a reward programme; attachment needs ≥ 1
    referral (or a favourable attitude). ``satisfaction``: the tolerance the latest survey
    response's outcome is judged with, when the outcome is derived from the record (§3)."""

    repeat_min_purchases: int = attrs.field(default=2, validator=positive_int)
    repeat_window_years: int = attrs.field(default=3, validator=positive_int)
    incentive_min_share: Decimal = attrs.field(default=Decimal("0.5"), validator=fraction)
    attachment_min_referrals: int = attrs.field(default=1, validator=positive_int)
    satisfaction: SatisfactionConfig = attrs.field(factory=SatisfactionConfig)


@attrs.frozen
class LoyaltySignals:
    """The signals the loyalty type is decided from; each can be derived or given directly."""

    repeat_high: bool
    attachment_high: bool
    no_alternative: bool = False
    reward_share: Decimal = attrs.field(default=Decimal(0), validator=fraction)
    convenience_driven: bool = False
    constrained: bool = False
    price_sensitive: bool = False


@attrs.frozen
class LoyaltyTypeResult:
    """The loyalty type, the signals used and the reasons."""

    type: LoyaltyType
    signals: LoyaltySignals
    reasons: tuple[str, ...]


def attachment_high(
    outcome: SatisfactionOutcome | None,
    referrals: int,
    attitude: Attitude | None,
    config: LoyaltyTypeConfig | None = None,
) -> bool:
    """Attachment is high (DOMAIN.md §4.3): the latest satisfaction outcome is SATISFIED or
    DELIGHTED, and the customer referred someone or favours us over competitors."""
    cfg = config or LoyaltyTypeConfig()
    satisfied = outcome in (SatisfactionOutcome.SATISFIED, SatisfactionOutcome.DELIGHTED)
    return satisfied and (
        referrals >= cfg.attachment_min_referrals or attitude is Attitude.FAVOURS_US
    )


def derive_signals(
    policies: Sequence[Policy],
    as_of: dt.date,
    *,
    latest_satisfaction: SatisfactionOutcome | None = None,
    referrals: int = 0,
    competitor_attitude: Attitude | None = None,
    price_sensitivity: Sensitivity | None = None,
    no_alternative: bool = False,
    convenience_driven: bool = False,
    constrained: bool = False,
    config: LoyaltyTypeConfig | None = None,
) -> LoyaltySignals:
    """The default signals of DOMAIN.md §4.3 from the customer's record.

    Repeat is high with enough purchases in the window; attachment is high when the
    latest satisfaction outcome is SATISFIED or DELIGHTED and the customer referred
    someone or favours us over competitors. The reward share is the share of
    purchases made on policies tagged with a campaign. Price-sensitive means a
    recorded HIGH price sensitivity. The other signals are given.
    """
    cfg = config or LoyaltyTypeConfig()
    since = add_years(as_of, -cfg.repeat_window_years)
    all_purchases = [(p, policy) for policy in policies for p in policy.purchases if p.on <= as_of]
    recent = sum(1 for p, _ in all_purchases if p.on > since)
    rewarded = sum(1 for _, policy in all_purchases if policy.campaign is not None)
    share = Decimal(rewarded) / Decimal(len(all_purchases)) if all_purchases else Decimal(0)
    return LoyaltySignals(
        repeat_high=recent >= cfg.repeat_min_purchases,
        attachment_high=attachment_high(latest_satisfaction, referrals, competitor_attitude, cfg),
        no_alternative=no_alternative,
        reward_share=share.quantize(Decimal("0.0001")),
        convenience_driven=convenience_driven,
        constrained=constrained,
        price_sensitive=price_sensitivity is Sensitivity.HIGH,
    )


def loyalty_type(
    signals: LoyaltySignals, config: LoyaltyTypeConfig | None = None
) -> LoyaltyTypeResult:
    """Decide the loyalty type from the signals, first match wins (DOMAIN.md §4.3).

    Example:
        >>> loyalty_type(LoyaltySignals(repeat_high=True, attachment_high=True)).type
        LoyaltyType.PREMIUM
    """
    cfg = config or LoyaltyTypeConfig()
    s = signals

    def result(kind: LoyaltyType, why: str) -> LoyaltyTypeResult:
        axes = (
            f"attachment {'high' if s.attachment_high else 'low'}, "
            f"repeat {'high' if s.repeat_high else 'low'}"
        )
        return LoyaltyTypeResult(kind, s, (f"{kind.name}: {axes}; {why}",))

    if s.attachment_high and s.repeat_high:
        return result(LoyaltyType.PREMIUM, "rule 1: high attachment and high repeat")
    if s.repeat_high:
        if s.no_alternative:
            return result(LoyaltyType.MONOPOLY, "rule 2: no alternative")
        if s.reward_share >= cfg.incentive_min_share:
            return result(
                LoyaltyType.INCENTIVE,
                f"rule 2: {s.reward_share:.0%} of purchases under a reward programme "
                f"≥ {cfg.incentive_min_share:.0%}",
            )
        if s.convenience_driven:
            return result(LoyaltyType.CONVENIENCE, "rule 2: convenience-driven")
        return result(LoyaltyType.INERTIA, "rule 2: repeats without attachment")
    if s.constrained:
        return result(LoyaltyType.LATENT, "rule 3: constrained by rules or circumstances")
    if s.price_sensitive:
        return result(LoyaltyType.PRICE, "rule 3: price-sensitive")
    if s.attachment_high:
        return result(LoyaltyType.LATENT, "rule 3: attached but not repeating")
    return result(LoyaltyType.NONE, "rule 3: fits no loyalty type")
