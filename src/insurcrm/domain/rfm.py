"""RFM eight types (基于 RFM 的客户价值分类, DOMAIN.md §5.1).

R is the days since the customer's latest purchase, F the purchases in the
window, M their premium. Each is compared with the mean over the portfolio
being assessed: greater than **or equal to** the mean is ↑. Means are kept as
exact totals and compared by cross-multiplication, so a value equal to the
mean is never misjudged by rounding.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from decimal import Decimal

import attrs

from insurcrm.domain.checks import positive_int
from insurcrm.domain.labels import LabelledEnum
from insurcrm.domain.policies import Policy
from insurcrm.domain.values import total_in
from insurcrm.errors import ValidationError

__all__ = [
    "RFM_TYPES",
    "RfmConfig",
    "RfmFigures",
    "RfmMeans",
    "RfmResult",
    "RfmSegment",
    "classify_rfm",
    "rfm_figures",
    "rfm_portfolio",
    "segment_of",
]


class RfmSegment(LabelledEnum):
    """The value segments the eight RFM types map to."""

    HIGH_VALUE = ("HIGH_VALUE", "优质客户")
    KEY_DEVELOPMENT = ("KEY_DEVELOPMENT", "重要发展客户")
    GENERAL_IMPORTANT = ("GENERAL_IMPORTANT", "一般重要客户")
    KEY_RETENTION = ("KEY_RETENTION", "重要挽留客户")
    GENERAL = ("GENERAL", "一般客户")
    NO_VALUE = ("NO_VALUE", "无价值客户")


#: (R↑, F↑, M↑) → type number, as in DOMAIN.md §5.1's table.
RFM_TYPES: dict[tuple[bool, bool, bool], int] = {
    (False, True, True): 1,
    (False, False, True): 2,
    (False, True, False): 3,
    (False, False, False): 4,
    (True, True, True): 5,
    (True, True, False): 6,
    (True, False, False): 7,
    (True, False, True): 8,
}

_SEGMENTS: dict[int, RfmSegment] = {
    1: RfmSegment.HIGH_VALUE,
    2: RfmSegment.KEY_DEVELOPMENT,
    3: RfmSegment.GENERAL_IMPORTANT,
    5: RfmSegment.KEY_RETENTION,
    6: RfmSegment.GENERAL,
    7: RfmSegment.NO_VALUE,
    8: RfmSegment.GENERAL,
}


def segment_of(kind: int, is_new: bool) -> RfmSegment:
    """The segment of RFM type ``kind`` (1–8); type 4 depends on whether the customer is new.

    Raises:
        ValidationError: ``kind`` is not 1–8.
    """
    if kind == 4:
        return RfmSegment.KEY_DEVELOPMENT if is_new else RfmSegment.NO_VALUE
    if kind not in _SEGMENTS:
        raise ValidationError("type", "rfm.type", "must be 1 to 8")
    return _SEGMENTS[kind]


@attrs.frozen
class RfmConfig:
    """``window_days``: the window F and M are counted in (default 1095 days, three
    policy years — DOMAIN.md leaves it open); ``new_customer_days``: a customer whose
    first purchase is within this many days is *new* (default 365, DOMAIN.md §5.1).

    Raises:
        ValidationError: a window of zero days or less.
    """

    window_days: int = attrs.field(default=1095, validator=positive_int)
    new_customer_days: int = attrs.field(default=365, validator=positive_int)


@attrs.frozen
class RfmFigures:
    """One customer's R, F and M as of a date, and the date of their first purchase."""

    customer_id: str
    recency_days: int
    frequency: int
    monetary: Decimal
    first_purchase: dt.date

    def __attrs_post_init__(self) -> None:
        if self.recency_days < 0 or self.frequency < 0 or self.monetary < 0:
            raise ValidationError("recency_days", "rfm.negative", "R, F and M must be ≥ 0")


def rfm_figures(
    customer_id: str,
    policies: Iterable[Policy],
    as_of: dt.date,
    config: RfmConfig | None = None,
) -> RfmFigures | None:
    """R, F and M from the customer's policies (as policyholder); None without a purchase.

    A purchase counts in the window when it is after ``as_of − window_days`` and not
    after ``as_of``.
    """
    cfg = config or RfmConfig()
    since = as_of - dt.timedelta(days=cfg.window_days)
    purchases = [p for policy in policies for p in policy.purchases if p.on <= as_of]
    if not purchases:
        return None
    in_window = [p for p in purchases if p.on > since]
    return RfmFigures(
        customer_id=customer_id,
        recency_days=(as_of - max(p.on for p in purchases)).days,
        frequency=len(in_window),
        monetary=total_in(p.amount for p in in_window),  # in CNY
        first_purchase=min(p.on for p in purchases),
    )


@attrs.frozen
class RfmMeans:
    """Portfolio totals of R, F and M over ``customers`` customers (the means' exact form)."""

    customers: int
    recency_total: int
    frequency_total: int
    monetary_total: Decimal

    @classmethod
    def of(cls, figures: Iterable[RfmFigures]) -> RfmMeans:
        """Totals in one pass over the portfolio's figures."""
        means = cls(0, 0, 0, Decimal("0.00"))
        for fig in figures:
            means = means.add(fig)
        return means

    def add(self, fig: RfmFigures) -> RfmMeans:
        """The totals with one more customer."""
        return RfmMeans(
            self.customers + 1,
            self.recency_total + fig.recency_days,
            self.frequency_total + fig.frequency,
            self.monetary_total + fig.monetary,
        )

    def _mean(self, total: Decimal) -> Decimal:
        if self.customers == 0:
            return Decimal("0.00")  # as the means of a portfolio are shown: 2 places
        return (total / self.customers).quantize(Decimal("0.01"))

    @property
    def recency(self) -> Decimal:
        """Mean R in days (rounded to 2 places for display)."""
        return self._mean(Decimal(self.recency_total))

    @property
    def frequency(self) -> Decimal:
        """Mean F (rounded to 2 places for display)."""
        return self._mean(Decimal(self.frequency_total))

    @property
    def monetary(self) -> Decimal:
        """Mean M (rounded to 2 places for display)."""
        return self._mean(self.monetary_total)

    def at_or_above(self, value: Decimal | int, total: Decimal | int) -> bool:
        """Exactly ``value ≥ total / customers``."""
        return Decimal(value) * self.customers >= Decimal(total)


@attrs.frozen
class RfmResult:
    """A customer's RFM type (1–8), segment, arrows and reasons."""

    customer_id: str
    figures: RfmFigures
    type: int
    segment: RfmSegment
    r_up: bool
    f_up: bool
    m_up: bool
    is_new: bool
    reasons: tuple[str, ...]


def _arrow(up: bool) -> str:
    return "↑" if up else "↓"


def classify_rfm(
    figures: RfmFigures, means: RfmMeans, as_of: dt.date, config: RfmConfig | None = None
) -> RfmResult:
    """The RFM type and segment of one customer against the portfolio's means.

    Raises:
        ValidationError: ``means`` covers no customer.
    """
    cfg = config or RfmConfig()
    if means.customers == 0:
        raise ValidationError("means", "rfm.empty", "the portfolio means cover no customer")
    r_up = means.at_or_above(figures.recency_days, means.recency_total)
    f_up = means.at_or_above(figures.frequency, means.frequency_total)
    m_up = means.at_or_above(figures.monetary, means.monetary_total)
    kind = RFM_TYPES[(r_up, f_up, m_up)]
    is_new = (as_of - figures.first_purchase).days < cfg.new_customer_days
    r_sign = "≥" if r_up else "<"
    reasons = [
        f"R = {figures.recency_days} days {r_sign} mean {means.recency} → {_arrow(r_up)}",
        f"F = {figures.frequency} {'≥' if f_up else '<'} mean {means.frequency} → {_arrow(f_up)}",
        f"M = {figures.monetary} {'≥' if m_up else '<'} mean {means.monetary} → {_arrow(m_up)}",
    ]
    segment = segment_of(kind, is_new)
    if kind == 4:
        reasons.append(
            f"type 4: first purchase {figures.first_purchase} is "
            f"{'within' if is_new else 'not within'} {cfg.new_customer_days} days before {as_of}"
            f" → {'new' if is_new else 'old'} customer → {segment.name}"
        )
    else:
        reasons.append(f"type {kind} → {segment.name}")
    return RfmResult(
        figures.customer_id, figures, kind, segment, r_up, f_up, m_up, is_new, tuple(reasons)
    )


def rfm_portfolio(
    figures: Iterable[RfmFigures], as_of: dt.date, config: RfmConfig | None = None
) -> tuple[RfmMeans, list[RfmResult]]:
    """Type every customer of a portfolio: the means from one pass, then each customer.

    The result does not depend on the order the customers come in.
    """
    items = list(figures)
    means = RfmMeans.of(items)
    return means, [classify_rfm(f, means, as_of, config) for f in items]
