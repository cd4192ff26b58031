"""Value quadrants (§5.2), retention strategy classes (§5.3), Pareto share and
profitability classes (§5.4).

The portfolio-level figures a rule compares with (medians, the top 20 %) are
computed by the functions here from the portfolio being assessed and are part
of each result, so a person can check it.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from decimal import Decimal

import attrs

from insurcrm.domain.checks import fraction
from insurcrm.domain.labels import LabelledEnum
from insurcrm.errors import ValidationError

__all__ = [
    "QUADRANT_OF",
    "RETENTION_CLASS_OF",
    "GrowthPotential",
    "ParetoResult",
    "ProfitClass",
    "ProfitConfig",
    "ProfitResult",
    "QuadrantConfig",
    "QuadrantResult",
    "QuadrantThresholds",
    "RetentionClass",
    "RetentionResult",
    "ValueFigures",
    "ValueQuadrant",
    "classify_profit",
    "classify_quadrant",
    "classify_retention",
    "loyalty_score",
    "median",
    "pareto_share",
    "quadrant_thresholds",
]

_PLACES = Decimal("0.0001")


def median(values: Iterable[Decimal]) -> Decimal:
    """The median (mean of the two middle values for an even count); 0 for no values."""
    ordered = sorted(values)
    n = len(ordered)
    if n == 0:
        return Decimal(0)
    mid = n // 2
    if n % 2:
        return ordered[mid]
    return (ordered[mid - 1] + ordered[mid]) / 2


# -- §5.2 value quadrants -------------------------------------------------------------


class ValueQuadrant(LabelledEnum):
    """Loyalty × profitability matrix (四象限价值分类)."""

    TRUE_FRIEND = ("TRUE_FRIEND", "真正的朋友")
    BUTTERFLY = ("BUTTERFLY", "蝴蝶")
    BARNACLE = ("BARNACLE", "藤壶")
    STRANGER = ("STRANGER", "陌生人")

    @property
    def maintenance_index(self) -> int:
        """维护指数: how much upkeep the relationship deserves, 4 (most) to 1 (least)."""
        return _MAINTENANCE[self.name]

    @property
    def stance(self) -> str:
        """The recommended stance towards customers of this quadrant."""
        return _STANCES[self.name]


_MAINTENANCE = {"TRUE_FRIEND": 4, "BUTTERFLY": 3, "BARNACLE": 2, "STRANGER": 1}
_STANCES = {
    "TRUE_FRIEND": "communicate often, reward and keep them: the most valuable relationships",
    "BUTTERFLY": "enjoy the profit while they stay; do not over-invest in winning loyalty",
    "BARNACLE": "measure their wallet: sell more cover or lower the cost of serving them",
    "STRANGER": "do not invest; serve at the lowest cost",
}


@attrs.frozen
class QuadrantConfig:
    """Weights of the loyalty score (they must add up to 1).

    Defaults (DOMAIN.md names the parts, not the weights): purchase share 0.4,
    purchase continuity 0.4, default rate 0.2 (counting against).

    Raises:
        ValidationError: a weight outside 0–1, or weights that do not add up to 1.
    """

    share_weight: Decimal = attrs.field(default=Decimal("0.4"), validator=fraction)
    continuity_weight: Decimal = attrs.field(default=Decimal("0.4"), validator=fraction)
    default_weight: Decimal = attrs.field(default=Decimal("0.2"), validator=fraction)

    def __attrs_post_init__(self) -> None:
        total = self.share_weight + self.continuity_weight + self.default_weight
        if total != 1:
            raise ValidationError("share_weight", "config.weights", "the weights must add up to 1")


@attrs.frozen
class ValueFigures:
    """What the quadrant and retention rules look at, for one customer.

    Attributes:
        purchase_share: 购买比例, our share of the customer's insurance spend (0–1).
        continuity: 购买连续性, share of due renewals that were paid (0–1).
        default_rate: 违约率, share of due renewals that were missed (0–1).
        profit: premium in the window minus the cost of serving, when known.
    """

    customer_id: str
    purchase_share: Decimal = attrs.field(validator=fraction)
    continuity: Decimal = attrs.field(validator=fraction)
    default_rate: Decimal = attrs.field(validator=fraction)
    profit: Decimal


def loyalty_score(figures: ValueFigures, config: QuadrantConfig | None = None) -> Decimal:
    """The weighted loyalty score (0–1): share and continuity count for, default against."""
    cfg = config or QuadrantConfig()
    score = (
        cfg.share_weight * figures.purchase_share
        + cfg.continuity_weight * figures.continuity
        + cfg.default_weight * (1 - figures.default_rate)
    )
    return score.quantize(_PLACES)


@attrs.frozen
class QuadrantThresholds:
    """Where each axis is split (default: the portfolio medians); ≥ the threshold is high."""

    loyalty: Decimal
    profit: Decimal


def quadrant_thresholds(
    figures: Iterable[ValueFigures], config: QuadrantConfig | None = None
) -> QuadrantThresholds:
    """The portfolio medians of the loyalty score and the profit."""
    items = list(figures)
    return QuadrantThresholds(
        loyalty=median(loyalty_score(f, config) for f in items),
        profit=median(f.profit for f in items),
    )


@attrs.frozen
class QuadrantResult:
    """The quadrant, the two coordinates and the reasons."""

    customer_id: str
    quadrant: ValueQuadrant
    loyalty_score: Decimal
    profit: Decimal
    reasons: tuple[str, ...]


#: The quadrant of (high loyalty, high profit).
QUADRANT_OF = {
    (True, True): ValueQuadrant.TRUE_FRIEND,
    (False, True): ValueQuadrant.BUTTERFLY,
    (True, False): ValueQuadrant.BARNACLE,
    (False, False): ValueQuadrant.STRANGER,
}


def classify_quadrant(
    figures: ValueFigures, thresholds: QuadrantThresholds, config: QuadrantConfig | None = None
) -> QuadrantResult:
    """Place a customer in the loyalty × profitability matrix."""
    score = loyalty_score(figures, config)
    loyal = score >= thresholds.loyalty
    profitable = figures.profit >= thresholds.profit
    quadrant = QUADRANT_OF[(loyal, profitable)]
    reasons = (
        f"loyalty score {score} {'≥' if loyal else '<'} {thresholds.loyalty} → "
        f"{'high' if loyal else 'low'} loyalty",
        f"profit {figures.profit} {'≥' if profitable else '<'} {thresholds.profit} → "
        f"{'high' if profitable else 'low'} profit",
        f"{quadrant.name}: maintenance index {quadrant.maintenance_index}",
    )
    return QuadrantResult(figures.customer_id, quadrant, score, figures.profit, reasons)


# -- §5.3 retention classes ------------------------------------------------------------


class RetentionClass(LabelledEnum):
    """Retention strategy classes (客户保持策略): current value × growth potential."""

    I = ("I", "I类：低价值、低潜力")  # noqa: E741
    II = ("II", "II类：低价值、高潜力")
    III = ("III", "III类：高价值、低潜力")
    IV = ("IV", "IV类：高价值、高潜力")

    @property
    def resources(self) -> str:
        """Resource allocation (资源配置)."""
        return _RESOURCES[self.name]

    @property
    def strategy(self) -> str:
        """Retention strategy (客户保持策略)."""
        return _STRATEGIES[self.name]


_RESOURCES = {
    "I": "none (不投入)",
    "II": "moderate (适当投入)",
    "III": "key (重点投入)",
    "IV": "top priority (重中之重投入)",
}
_STRATEGIES = {
    "I": "end the relationship (关系解除)",
    "II": "rebuild the relationship (关系再造)",
    "III": "keep the relationship at a high level (高水平关系保持)",
    "IV": "keep and develop it with every effort (不遗余力保持、发展)",
}


class GrowthPotential(LabelledEnum):
    """A customer's growth potential (增长潜力)."""

    LOW = ("LOW", "低")
    HIGH = ("HIGH", "高")


@attrs.frozen
class RetentionResult:
    """The class with its resources, strategy and reasons."""

    customer_id: str
    retention_class: RetentionClass
    reasons: tuple[str, ...]


#: The retention class of (high current value, high growth potential), §5.3.
RETENTION_CLASS_OF = {
    (False, False): RetentionClass.I,
    (False, True): RetentionClass.II,
    (True, False): RetentionClass.III,
    (True, True): RetentionClass.IV,
}


def classify_retention(
    customer_id: str,
    current_value: Decimal,
    value_threshold: Decimal,
    potential: GrowthPotential,
    potential_reason: str,
) -> RetentionResult:
    """Class I–IV from current value (≥ threshold is high) and growth potential (§5.3)."""
    high_value = current_value >= value_threshold
    high_potential = potential is GrowthPotential.HIGH
    kind = RETENTION_CLASS_OF[(high_value, high_potential)]
    reasons = (
        f"current value {current_value} {'≥' if high_value else '<'} {value_threshold} → "
        f"{'high' if high_value else 'low'}",
        f"growth potential {potential.name}: {potential_reason}",
        f"class {kind.name}: resources {kind.resources}; {kind.strategy}",
    )
    return RetentionResult(customer_id, kind, reasons)


# -- §5.4 Pareto and profitability --------------------------------------------------------


@attrs.frozen
class ParetoResult:
    """Share of premium from the top customers (about 80 % from the top 20 %)."""

    top_fraction: Decimal
    top_customers: int
    customers: int
    top_premium: Decimal
    total_premium: Decimal

    @property
    def share(self) -> Decimal:
        """Share of the total premium (0–1) that the top customers bring."""
        if self.total_premium == 0:
            return Decimal(0)
        return (self.top_premium / self.total_premium).quantize(_PLACES)


def pareto_share(
    premiums: Sequence[Decimal], top_fraction: Decimal = Decimal("0.2")
) -> ParetoResult:
    """The premium share of the top ``top_fraction`` of customers (rounded up to whole ones)."""
    if not 0 < top_fraction <= 1:
        raise ValidationError("top_fraction", "config.range", "must be in (0, 1]")
    ordered = sorted(premiums, reverse=True)
    top = math.ceil(len(ordered) * top_fraction)
    return ParetoResult(
        top_fraction,
        top,
        len(ordered),
        sum(ordered[:top], Decimal("0.00")),
        sum(ordered, Decimal("0.00")),
    )


class ProfitClass(LabelledEnum):
    """Profitability classes by premium minus service cost."""

    HIGHLY_PROFITABLE = ("HIGHLY_PROFITABLE", "高利润客户")
    MODERATELY_PROFITABLE = ("MODERATELY_PROFITABLE", "中等利润客户")
    BREAK_EVEN = ("BREAK_EVEN", "盈亏平衡客户")
    UNPROFITABLE = ("UNPROFITABLE", "无利润客户")


@attrs.frozen
class ProfitConfig:
    """Margin bands (profit ÷ premium); DOMAIN.md names the classes, these are our defaults.

    HIGHLY ≥ 30 %; MODERATELY > 5 %; BREAK_EVEN from −5 % to 5 %; UNPROFITABLE below −5 %.
    """

    high_margin: Decimal = attrs.field(default=Decimal("0.30"), validator=fraction)
    break_even_band: Decimal = attrs.field(default=Decimal("0.05"), validator=fraction)

    def __attrs_post_init__(self) -> None:
        if self.high_margin <= self.break_even_band:
            raise ValidationError("high_margin", "config.order", "must be above break_even_band")


@attrs.frozen
class ProfitResult:
    """The class, the margin and the reasons; ``None`` class when the cost is unknown."""

    profit_class: ProfitClass | None
    margin: Decimal | None
    reasons: tuple[str, ...]


def classify_profit(
    premium: Decimal, cost: Decimal | None, config: ProfitConfig | None = None
) -> ProfitResult:
    """Class a customer by premium minus service cost (§5.4); unclassed when cost is unknown."""
    cfg = config or ProfitConfig()
    if cost is None:
        return ProfitResult(None, None, ("no class: the cost of serving is not known",))
    profit = premium - cost
    if premium == 0:
        margin = Decimal(0) if profit == 0 else Decimal(-1)
    else:
        margin = (profit / premium).quantize(_PLACES)

    def versus(band: Decimal) -> Decimal:
        # The sign of (profit ÷ premium − band), exactly: the rounded margin is for display
        # only, so a margin of 29.995 % is not taken for 30 %.
        return profit - band * premium if premium > 0 else margin - band

    if versus(cfg.high_margin) >= 0:
        kind = ProfitClass.HIGHLY_PROFITABLE
    elif versus(cfg.break_even_band) > 0:
        kind = ProfitClass.MODERATELY_PROFITABLE
    elif versus(-cfg.break_even_band) >= 0:
        kind = ProfitClass.BREAK_EVEN
    else:
        kind = ProfitClass.UNPROFITABLE
    reason = f"{kind.name}: profit {profit} on premium {premium}, margin {margin:.2%}"
    return ProfitResult(kind, margin, (reason,))
