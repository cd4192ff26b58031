"""Customer programmes (客户服务分类策略, DOMAIN.md §5.5).

Internal-customer benefits, VIP basic services, the loyalty purchase reward,
the revisit of idle returning customers, the product mix by risk preference
and the communication style by PDP personality. Each rule returns what the
customer gets, with reasons.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from decimal import Decimal

import attrs

from insurcrm.domain.checks import fraction, positive_int
from insurcrm.domain.customers import Customer, PdpPersonality, RiskPreference
from insurcrm.domain.dates import add_years
from insurcrm.domain.labels import LabelledEnum
from insurcrm.domain.policies import Policy, ProductLine, ours_in_force

__all__ = [
    "Benefit",
    "ProductMix",
    "ProgrammeConfig",
    "ProgrammeResult",
    "communication_style",
    "household_long_term_in_force",
    "internal_customer_benefits",
    "loyalty_purchase_reward",
    "product_mix",
    "revisit_due",
    "vip_services",
]


class Benefit(LabelledEnum):
    """A service or benefit a programme grants."""

    PREMIUM_DISCOUNT = ("PREMIUM_DISCOUNT", "保费优惠")
    SIMPLIFIED_APPLICATION = ("SIMPLIFIED_APPLICATION", "简化投保手续")
    CLAIMS_GREEN_CHANNEL = ("CLAIMS_GREEN_CHANNEL", "VIP理赔绿色通道")
    REFERRAL_COMMISSION_ACCOUNT = ("REFERRAL_COMMISSION_ACCOUNT", "推荐佣金账户")
    COUNTER_PRIORITY = ("COUNTER_PRIORITY", "柜面优先")
    CLAIMS_PRIORITY = ("CLAIMS_PRIORITY", "理赔优先")
    HEALTH_CHECK_UP = ("HEALTH_CHECK_UP", "健康体检")
    PERSONALISED_SERVICE = ("PERSONALISED_SERVICE", "个性化服务（控制成本）")
    FREE_ACCIDENT_POLICY = ("FREE_ACCIDENT_POLICY", "每年赠送意外险")
    REVISIT = ("REVISIT", "回访")


@attrs.frozen
class ProgrammeConfig:
    """Defaults of DOMAIN.md §5.5.

    Attributes:
        internal_discount: premium discount for internal customers (5 %).
        reward_min_policies: in-force long-term policies a household needs for the
            free accident policy (6).
        revisit_idle_years: a returning customer idle longer than this is revisited (2).
    """

    internal_discount: Decimal = attrs.field(default=Decimal("0.05"), validator=fraction)
    reward_min_policies: int = attrs.field(default=6, validator=positive_int)
    revisit_idle_years: int = attrs.field(default=2, validator=positive_int)


@attrs.frozen
class ProgrammeResult:
    """Whether the customer qualifies, what they get, and why."""

    eligible: bool
    benefits: tuple[Benefit, ...]
    reasons: tuple[str, ...]
    discount: Decimal = Decimal(0)


def internal_customer_benefits(
    customer: Customer, config: ProgrammeConfig | None = None
) -> ProgrammeResult:
    """Benefits of an internal customer (内部客户): discount, simplified application, VIP claims
    green channel and a referral commission account. Renewal service and renewal commission
    stay with the sales staff."""
    cfg = config or ProgrammeConfig()
    if not customer.is_internal:
        return ProgrammeResult(False, (), ("external customer: no internal benefits",))
    return ProgrammeResult(
        True,
        (
            Benefit.PREMIUM_DISCOUNT,
            Benefit.SIMPLIFIED_APPLICATION,
            Benefit.CLAIMS_GREEN_CHANNEL,
            Benefit.REFERRAL_COMMISSION_ACCOUNT,
        ),
        (
            f"internal customer: {cfg.internal_discount:.0%} premium discount, simplified "
            "application, VIP claims green channel, commission on the sales they refer "
            "(renewal service and renewal commission stay with the sales staff)",
        ),
        cfg.internal_discount,
    )


def vip_services(is_vip: bool, why: str) -> ProgrammeResult:
    """The basic VIP services plus cost-controlled personalised services, for a VIP."""
    if not is_vip:
        return ProgrammeResult(False, (), (f"ordinary customer: {why}",))
    return ProgrammeResult(
        True,
        (
            Benefit.COUNTER_PRIORITY,
            Benefit.CLAIMS_PRIORITY,
            Benefit.HEALTH_CHECK_UP,
            Benefit.PERSONALISED_SERVICE,
        ),
        (f"VIP: {why}",),
    )


def household_long_term_in_force(household_policies: Iterable[Policy], as_of: dt.date) -> int:
    """How many distinct long-term policies of ours in ``household_policies`` are in force."""
    return len({p.id for p in ours_in_force(household_policies, as_of) if p.is_long_term})


def loyalty_purchase_reward(
    household_policies: Iterable[Policy], as_of: dt.date, config: ProgrammeConfig | None = None
) -> ProgrammeResult:
    """忠诚购买奖励计划: a household with enough in-force long-term policies of ours gets a
    free accident policy every year.

    Args:
        household_policies: the policies of every household member (as policyholder),
            or the customer's own when they have no household.
    """
    cfg = config or ProgrammeConfig()
    count = household_long_term_in_force(household_policies, as_of)
    if count >= cfg.reward_min_policies:
        return ProgrammeResult(
            True,
            (Benefit.FREE_ACCIDENT_POLICY,),
            (
                f"household holds {count} in-force long-term policies ≥ "
                f"{cfg.reward_min_policies}: a free accident policy this year",
            ),
        )
    return ProgrammeResult(
        False,
        (),
        (f"household holds {count} in-force long-term policies < {cfg.reward_min_policies}",),
    )


def revisit_due(
    purchases: Sequence[dt.date], as_of: dt.date, config: ProgrammeConfig | None = None
) -> ProgrammeResult:
    """A returning customer (one who bought before) with no purchase for more than the idle
    period gets a revisit (回访) to find out why."""
    cfg = config or ProgrammeConfig()
    past = [d for d in purchases if d <= as_of]
    if not past:
        return ProgrammeResult(False, (), ("not a returning customer: no purchase yet",))
    last = max(past)
    limit = add_years(as_of, -cfg.revisit_idle_years)
    if last < limit:
        return ProgrammeResult(
            True,
            (Benefit.REVISIT,),
            (f"last purchase {last} is more than {cfg.revisit_idle_years} years before {as_of}",),
        )
    return ProgrammeResult(
        False,
        (),
        (f"last purchase {last} is within {cfg.revisit_idle_years} years of {as_of}",),
    )


@attrs.frozen
class ProductMix:
    """The product-mix recommendation for a risk preference."""

    emphasise: tuple[ProductLine, ...]
    note: str


def product_mix(preference: RiskPreference | None) -> ProductMix:
    """RISK_AVERSE: more accident cover and risk disclosure in mailings; RISK_SEEKING:
    investment-linked and universal life pushed harder; unknown: no emphasis."""
    if preference is RiskPreference.RISK_AVERSE:
        return ProductMix(
            (ProductLine.ACCIDENT,), "more accident cover; include risk disclosure in mailings"
        )
    if preference is RiskPreference.RISK_SEEKING:
        return ProductMix(
            (ProductLine.INVESTMENT_LINKED, ProductLine.UNIVERSAL_LIFE),
            "push investment-linked and universal life products harder",
        )
    return ProductMix((), "risk preference unknown: ask the questionnaire first")


_STYLES = {
    PdpPersonality.DOMINANT: "direct and brief: lead with results and options, let them decide",
    PdpPersonality.EXTROVERT: "warm and lively: tell stories, recognise them, meet in person",
    PdpPersonality.PATIENT: "calm and steady: reassure, give time, no pressure to decide",
    PdpPersonality.PRECISE: "exact and documented: figures, terms and comparisons in writing",
    PdpPersonality.INTEGRATIVE: "flexible: mirror their mood, seek agreement, cover all sides",
}


def communication_style(pdp: PdpPersonality | None) -> str:
    """How to talk to a customer of this PDP personality."""
    if pdp is None:
        return "personality unknown: start neutral and observe"
    return _STYLES[pdp]
