"""Recovering churned customers (流失客户的挽回, DOMAIN.md §7.3).

:func:`decide_recovery` follows the course's steps for one churned customer:

1. **Value.** The customer's value class comes from their win-back value (the
   premium they would bring back over the horizon, see
   :func:`~insurcrm.domain.future_value.win_back_value`): IMPORTANT (重要价值客户)
   from ¥50,000, SMALL (小客户) below ¥5,000, ORDINARY otherwise.
2. **Whether to win back.** Fraud or malicious arrears, or any customer we pushed away
   on purpose → give up entirely (彻底放弃); important customers → spare no effort
   (极力挽回), unless the churn was hard to avoid (MIGRATED or an involuntary cause) →
   as the case allows (见机行事); ordinary customers → as the case allows; small
   customers → basically give up (基本放弃).
3. **Measures by structure.** UNINTENTIONALLY_PUSHED_AWAY → clarify the facts,
   explain the cause, propose a solution; PULLED_AWAY and BOUGHT_OFF → analyse the
   competitor's advantage, and offer more attractive terms only for an important
   customer, and only when the offer pays for itself; MIGRATED → keep in touch and
   transfer service; not analysed yet → find out why (a revisit).
4. **Cost against benefit.** Costs: staff time, communication, allocated overhead
   (and the better terms, when offered). Benefits: the repurchase revenue (win-back
   value × margin), the avoided cost of winning a replacement customer (the yearly
   cost of keeping one × the replacement multiple, 5 by default, within the 4–6 the
   course gives), promotion revenue (a share of the repurchase revenue, from
   referrals and word of mouth) and information value, all weighed by the chance of
   success. A win-back is recommended only when the stance allows it and the
   expected benefit exceeds the cost.

Costs depend on the structure and measures, never on the value, and every benefit
grows with the value, so raising a customer's value never turns "win back" into
"give up".
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from typing import NamedTuple

import attrs

from insurcrm.domain.checks import fraction, non_negative_decimal
from insurcrm.domain.churn import ChurnCause, ChurnRecord, ChurnStructure, dropped_on_purpose
from insurcrm.domain.labels import LabelledEnum
from insurcrm.domain.values import Money
from insurcrm.errors import ValidationError

__all__ = [
    "CostBenefit",
    "RecoveryConfig",
    "RecoveryDecision",
    "ValueClass",
    "WinBackMeasure",
    "WinBackStance",
    "decide_recovery",
    "recovery_outcome",
]


class ValueClass(LabelledEnum):
    """A churned customer's value class."""

    IMPORTANT = ("IMPORTANT", "重要价值客户")
    ORDINARY = ("ORDINARY", "一般客户")
    SMALL = ("SMALL", "小客户")


class WinBackStance(LabelledEnum):
    """Whether and how hard to win a customer back (best effort first)."""

    SPARE_NO_EFFORT = ("SPARE_NO_EFFORT", "极力挽回")
    AS_CASE_ALLOWS = ("AS_CASE_ALLOWS", "见机行事")
    BASICALLY_GIVE_UP = ("BASICALLY_GIVE_UP", "基本放弃")
    GIVE_UP_ENTIRELY = ("GIVE_UP_ENTIRELY", "彻底放弃")


class WinBackMeasure(LabelledEnum):
    """What to do to win a customer back."""

    FIND_OUT_WHY = ("FIND_OUT_WHY", "回访了解流失原因")
    CLARIFY_FACTS = ("CLARIFY_FACTS", "澄清事实")
    EXPLAIN_CAUSE = ("EXPLAIN_CAUSE", "说明原因")
    PROPOSE_SOLUTION = ("PROPOSE_SOLUTION", "提出解决方案")
    ANALYSE_COMPETITOR = ("ANALYSE_COMPETITOR", "分析竞争对手的优势")
    OFFER_BETTER_TERMS = ("OFFER_BETTER_TERMS", "提供更有吸引力的条件")
    KEEP_IN_TOUCH = ("KEEP_IN_TOUCH", "保持联系")
    TRANSFER_SERVICE = ("TRANSFER_SERVICE", "转移服务")


#: The chance a win-back succeeds, by structure (None: not analysed yet).
DEFAULT_SUCCESS: Mapping[ChurnStructure | None, Decimal] = {
    ChurnStructure.UNINTENTIONALLY_PUSHED_AWAY: Decimal("0.40"),
    ChurnStructure.PULLED_AWAY: Decimal("0.25"),
    ChurnStructure.BOUGHT_OFF: Decimal("0.25"),
    ChurnStructure.MIGRATED: Decimal("0.10"),
    ChurnStructure.INTENTIONALLY_PUSHED_AWAY: Decimal("0"),
    None: Decimal("0.20"),
}


def _success(
    value: Mapping[ChurnStructure | None, Decimal],
) -> dict[ChurnStructure | None, Decimal]:
    merged = dict(DEFAULT_SUCCESS)
    for key, chance in dict(value).items():
        if key is not None and not isinstance(key, ChurnStructure):
            raise ValidationError("success", "type", "keys must be ChurnStructure or None")
        if not isinstance(chance, Decimal) or not 0 <= chance <= 1:
            raise ValidationError(
                f"success.{key.name if key else 'None'}", "config.range", "must be 0 to 1"
            )
        merged[key] = chance
    return merged


@attrs.frozen
class RecoveryConfig:
    """Win-back rules and costs (amounts in CNY, per churned customer).

    Attributes:
        important_from: win-back value from which a customer is IMPORTANT (50,000).
        small_below: win-back value below which a customer is SMALL (5,000).
        staff_hours: staff time a win-back takes (4 hours) …
        staff_hourly_cost: … at this cost an hour (120).
        communication_cost: calls, mail and visits (200).
        overhead_cost: allocated overhead of the service desk (150).
        better_terms_cost: what more attractive terms cost us (2,000).
        better_terms_uplift: how much they raise the chance of success (0.15).
        margin: the share of repurchase premium that is benefit (0.20; 1 counts the
            whole premium as revenue).
        retention_cost: the yearly cost of keeping a customer (300).
        replacement_multiple: winning a new customer costs this many times keeping
            one (5, within the 4–6 of DOMAIN.md §7.3).
        promotion_share: promotion revenue (referrals, word of mouth) as a share of the
            repurchase revenue (0.10).
        information_value: what we learn from the attempt (200).
        success: the chance of success by structure (None: not analysed yet).
    """

    important_from: Decimal = attrs.field(default=Decimal(50000), validator=non_negative_decimal)
    small_below: Decimal = attrs.field(default=Decimal(5000), validator=non_negative_decimal)
    staff_hours: Decimal = attrs.field(default=Decimal(4), validator=non_negative_decimal)
    staff_hourly_cost: Decimal = attrs.field(default=Decimal(120), validator=non_negative_decimal)
    communication_cost: Decimal = attrs.field(default=Decimal(200), validator=non_negative_decimal)
    overhead_cost: Decimal = attrs.field(default=Decimal(150), validator=non_negative_decimal)
    better_terms_cost: Decimal = attrs.field(default=Decimal(2000), validator=non_negative_decimal)
    better_terms_uplift: Decimal = attrs.field(default=Decimal("0.15"), validator=fraction)
    margin: Decimal = attrs.field(default=Decimal("0.20"), validator=fraction)
    retention_cost: Decimal = attrs.field(default=Decimal(300), validator=non_negative_decimal)
    replacement_multiple: Decimal = attrs.field(default=Decimal(5), validator=non_negative_decimal)
    promotion_share: Decimal = attrs.field(default=Decimal("0.10"), validator=non_negative_decimal)
    information_value: Decimal = attrs.field(default=Decimal(200), validator=non_negative_decimal)
    success: dict[ChurnStructure | None, Decimal] = attrs.field(
        factory=lambda: dict(DEFAULT_SUCCESS), converter=_success, hash=False
    )

    def __attrs_post_init__(self) -> None:
        if self.small_below > self.important_from:
            raise ValidationError("small_below", "config.order", "must not be above important_from")

    def value_class(self, value: Decimal) -> ValueClass:
        """The value class of a win-back value."""
        if value >= self.important_from:
            return ValueClass.IMPORTANT
        if value < self.small_below:
            return ValueClass.SMALL
        return ValueClass.ORDINARY


_CENT = Decimal("0.01")


@attrs.frozen
class CostBenefit:
    """The cost-benefit analysis (成本效益分析) of a win-back, in CNY."""

    staff: Decimal
    communication: Decimal
    overhead: Decimal
    better_terms: Decimal
    chance: Decimal
    repurchase: Decimal
    avoided_replacement: Decimal
    promotion: Decimal
    information: Decimal

    @property
    def cost(self) -> Decimal:
        """Every cost."""
        return self.staff + self.communication + self.overhead + self.better_terms

    @property
    def benefit(self) -> Decimal:
        """Every benefit, if the win-back succeeds."""
        return self.repurchase + self.avoided_replacement + self.promotion + self.information

    @property
    def expected_benefit(self) -> Decimal:
        """The benefit weighed by the chance of success."""
        return (self.benefit * self.chance).quantize(_CENT)

    @property
    def net(self) -> Decimal:
        """Expected benefit minus cost."""
        return self.expected_benefit - self.cost

    @property
    def reasons(self) -> tuple[str, ...]:
        """The figures, one line each."""
        return (
            f"cost ¥{self.cost:,.2f} = staff ¥{self.staff:,.2f} + communication "
            f"¥{self.communication:,.2f} + overhead ¥{self.overhead:,.2f} + better terms "
            f"¥{self.better_terms:,.2f}",
            f"benefit ¥{self.benefit:,.2f} = repurchase ¥{self.repurchase:,.2f} + avoided "
            f"replacement ¥{self.avoided_replacement:,.2f} + promotion ¥{self.promotion:,.2f} "
            f"+ information ¥{self.information:,.2f}",
            f"expected benefit ¥{self.expected_benefit:,.2f} at a {self.chance * 100:.0f} % "
            f"chance; net {'−' if self.net < 0 else ''}¥{abs(self.net):,.2f}",
        )


@attrs.frozen
class RecoveryDecision:
    """What to do about one churned customer, and why."""

    customer_id: str
    churn_id: str
    value: Money
    value_class: ValueClass
    stance: WinBackStance
    measures: tuple[WinBackMeasure, ...]
    analysis: CostBenefit
    recommended: bool
    reasons: tuple[str, ...]

    @property
    def expected_net_benefit(self) -> Decimal:
        """Expected benefit minus cost of the recommended measures."""
        return self.analysis.net


_MEASURES: Mapping[ChurnStructure | None, tuple[WinBackMeasure, ...]] = {
    ChurnStructure.UNINTENTIONALLY_PUSHED_AWAY: (
        WinBackMeasure.CLARIFY_FACTS,
        WinBackMeasure.EXPLAIN_CAUSE,
        WinBackMeasure.PROPOSE_SOLUTION,
    ),
    ChurnStructure.PULLED_AWAY: (WinBackMeasure.ANALYSE_COMPETITOR,),
    ChurnStructure.BOUGHT_OFF: (WinBackMeasure.ANALYSE_COMPETITOR,),
    ChurnStructure.MIGRATED: (WinBackMeasure.KEEP_IN_TOUCH, WinBackMeasure.TRANSFER_SERVICE),
    ChurnStructure.INTENTIONALLY_PUSHED_AWAY: (),
    None: (WinBackMeasure.FIND_OUT_WHY,),
}


def _stance(
    structure: ChurnStructure | None,
    causes: tuple[ChurnCause, ...],
    dropped: bool,
    value_class: ValueClass,
) -> tuple[WinBackStance, str]:
    if dropped:
        return WinBackStance.GIVE_UP_ENTIRELY, "we let them go on purpose (fraud or arrears)"
    if value_class is ValueClass.SMALL:
        return WinBackStance.BASICALLY_GIVE_UP, "a small customer"
    hard_to_avoid = structure is ChurnStructure.MIGRATED or ChurnCause.INVOLUNTARY in causes
    if value_class is ValueClass.IMPORTANT and not hard_to_avoid:
        return WinBackStance.SPARE_NO_EFFORT, "an important customer"
    if hard_to_avoid:
        return WinBackStance.AS_CASE_ALLOWS, "the churn was hard to avoid"
    return WinBackStance.AS_CASE_ALLOWS, "an ordinary customer"


def _analysis(
    value: Decimal, chance: Decimal, config: RecoveryConfig, *, better_terms: bool
) -> CostBenefit:
    repurchase = (value * config.margin).quantize(_CENT)
    return CostBenefit(
        staff=(config.staff_hours * config.staff_hourly_cost).quantize(_CENT),
        communication=config.communication_cost.quantize(_CENT),
        overhead=config.overhead_cost.quantize(_CENT),
        better_terms=config.better_terms_cost.quantize(_CENT) if better_terms else Decimal("0.00"),
        chance=min(chance + (config.better_terms_uplift if better_terms else 0), Decimal(1)),
        repurchase=repurchase,
        avoided_replacement=(config.retention_cost * config.replacement_multiple).quantize(_CENT),
        promotion=(repurchase * config.promotion_share).quantize(_CENT),
        information=config.information_value.quantize(_CENT),
    )


_ALLOWED = (WinBackStance.SPARE_NO_EFFORT, WinBackStance.AS_CASE_ALLOWS)


class _Plan(NamedTuple):
    value_class: ValueClass
    stance: WinBackStance
    why: str
    analysis: CostBenefit
    offered: bool  # better terms were weighed …
    better_terms: bool  # … and pay for themselves
    recommended: bool


def _plan(
    structure: ChurnStructure | None,
    causes: tuple[ChurnCause, ...],
    value: Decimal,
    cfg: RecoveryConfig,
) -> _Plan:
    """The decision of :func:`decide_recovery` without its wording."""
    value_class = cfg.value_class(value)
    dropped = dropped_on_purpose(structure, causes)
    stance, why = _stance(structure, causes, dropped, value_class)
    chance = Decimal(0) if dropped else cfg.success[structure]
    analysis = _analysis(value, chance, cfg, better_terms=False)
    competitor = structure in (ChurnStructure.PULLED_AWAY, ChurnStructure.BOUGHT_OFF)
    offered = better = False
    if (
        competitor
        and value_class is ValueClass.IMPORTANT
        and stance is not WinBackStance.GIVE_UP_ENTIRELY
    ):
        offered = True
        offer = _analysis(value, chance, cfg, better_terms=True)
        if offer.net > analysis.net:
            analysis, better = offer, True
    recommended = stance in _ALLOWED and analysis.expected_benefit > analysis.cost
    return _Plan(value_class, stance, why, analysis, offered, better, recommended)


def recovery_outcome(
    structure: ChurnStructure | None,
    causes: tuple[ChurnCause, ...],
    value: Decimal,
    config: RecoveryConfig | None = None,
) -> tuple[WinBackStance, bool]:
    """The stance and whether a win-back is recommended, as :func:`decide_recovery` decides
    them for a churn of that structure and those causes and a win-back worth ``value``
    (CNY) — without building the decision's record and reasons (for whole portfolios)."""
    plan = _plan(structure, causes, value, config or RecoveryConfig())
    return plan.stance, plan.recommended


def decide_recovery(
    record: ChurnRecord, value: Money, config: RecoveryConfig | None = None
) -> RecoveryDecision:
    """Decide whether and how to win back the customer of ``record``.

    Args:
        record: the churn record (its structure and causes).
        value: the customer's win-back value (what they would bring back over the horizon).
        config: the rules and costs; defaults when omitted.
    """
    cfg = config or RecoveryConfig()
    plan = _plan(record.structure, record.causes, value.amount, cfg)
    stance, analysis = plan.stance, plan.analysis
    dropped = record.dropped_on_purpose
    measures = _MEASURES[record.structure] if not dropped else ()
    reasons = [
        f"value ¥{value.amount:,.2f} over the horizon: {plan.value_class.name} "
        f"({plan.value_class.label_zh})",
        f"stance {stance.name} ({stance.label_zh}): {plan.why}",
    ]
    if plan.offered:
        if plan.better_terms:
            measures = (*measures, WinBackMeasure.OFFER_BETTER_TERMS)
            reasons.append("better terms pay for themselves for this customer")
        else:
            reasons.append("better terms would cost more than they bring")
    allowed = stance in _ALLOWED
    recommended = plan.recommended
    reasons.extend(analysis.reasons)
    if not allowed:
        reasons.append("not recommended: the stance is to give up")
    elif recommended:
        reasons.append("recommended: the expected benefit exceeds the cost")
    else:
        reasons.append("not recommended: the expected benefit does not exceed the cost")
    return RecoveryDecision(
        customer_id=record.customer_id,
        churn_id=record.id,
        value=value,
        value_class=plan.value_class,
        stance=stance,
        measures=measures if allowed else (),
        analysis=analysis,
        recommended=recommended,
        reasons=tuple(reasons),
    )
