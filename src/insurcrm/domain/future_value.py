"""Customer future value (客户将来的价值): the premium a customer is expected to pay us over
a horizon, from a renewal model of the portfolio's own history.

Each policy of ours is a contract renewed once a year (a renewal premium paid, 续期/续保)
until it is lost (it lapses, is surrendered or cancelled). :func:`renewal_history`
counts, over the portfolio, how many contracts were lost at each renewal and how many
are still renewing after each number of renewals. The **shifted-beta-geometric**
(sBG) model of Fader & Hardie (2007), the standard model for contractual renewals,
explains those counts with two numbers, α and β: each contract has its own chance of
being lost at a renewal, drawn from a beta(α, β) distribution across contracts, so
the portfolio's retention rises with tenure as the less loyal contracts leave first.
The fit itself (maximum likelihood) is done by the services with scipy;
:func:`sbg_log_likelihood` is what it maximises.

When the history is too short to fit (default: fewer than 3 renewal years seen or
fewer than 100 contracts) the services fall back to :func:`flat_model`, a
configured retention rate every year (default 85 %), and the model says which was used
and why.

:func:`customer_future_value` values a customer's policies in force;
:func:`win_back_value` values a churned customer as if won back (their lost premium
as a new contract).
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Iterable
from decimal import Decimal

import attrs

from insurcrm.domain.checks import fraction, non_negative_decimal, positive_int
from insurcrm.domain.dates import whole_years_between
from insurcrm.domain.labels import LabelledEnum
from insurcrm.domain.policies import ENDED, EndReason, Policy, PolicyStatus, StatusChange
from insurcrm.domain.values import DEFAULT_CURRENCY, Money, total_in
from insurcrm.errors import ValidationError

__all__ = [
    "FutureValue",
    "FutureValueConfig",
    "RenewalHistory",
    "RenewalModel",
    "RenewalModelKind",
    "contracts",
    "customer_future_value",
    "flat_model",
    "lost_premium",
    "renewal_history",
    "renewal_history_by_holder",
    "sbg_log_likelihood",
    "sbg_model",
    "win_back_factor",
    "win_back_value",
    "win_back_worth",
]

#: Policy endings that are a lost contract (the customer stopped paying or left).
_LOST = frozenset({PolicyStatus.LAPSED, PolicyStatus.SURRENDERED, PolicyStatus.CANCELLED})
#: The other endings are not a renewal decision (the contract ran out, or a claim ended it).


class RenewalModelKind(LabelledEnum):
    """Which renewal model a future value comes from."""

    SHIFTED_BETA_GEOMETRIC = ("SHIFTED_BETA_GEOMETRIC", "移位贝塔几何模型")
    FLAT_RETENTION = ("FLAT_RETENTION", "固定保留率")


@attrs.frozen
class FutureValueConfig:
    """Future-value settings.

    Attributes:
        horizon_years: premiums counted, one a year (default 5).
        discount_rate: yearly rate future premiums are discounted at (default 0.03).
        fallback_retention: the yearly retention rate used when the history is too
            short to fit (default 0.85).
        min_renewal_years: renewal years the history must cover to fit (default 3).
        min_contracts: contracts the history must hold to fit (default 100).
    """

    horizon_years: int = attrs.field(default=5, validator=positive_int)
    discount_rate: Decimal = attrs.field(default=Decimal("0.03"), validator=non_negative_decimal)
    fallback_retention: Decimal = attrs.field(default=Decimal("0.85"), validator=fraction)
    min_renewal_years: int = attrs.field(default=3, validator=positive_int)
    min_contracts: int = attrs.field(default=100, validator=positive_int)


@attrs.frozen
class RenewalHistory:
    """The portfolio's renewal history.

    Attributes:
        lost: ``lost[t - 1]`` contracts were lost at their ``t``-th renewal.
        renewing: ``renewing[n]`` contracts have made ``n`` renewals and are still
            renewing (or ended naturally after ``n``) — right-censored.
    """

    lost: tuple[int, ...] = ()
    renewing: tuple[int, ...] = ()

    @property
    def contracts(self) -> int:
        """Contracts observed."""
        return sum(self.lost) + sum(self.renewing)

    @property
    def renewal_years(self) -> int:
        """The most renewals any contract was observed through."""
        return max(len(self.lost), len(self.renewing) - 1, 0)


def _anniversaries(start: dt.date, until: dt.date) -> int:
    """Whole policy years from ``start`` up to ``until``."""
    return whole_years_between(start, until)


#: A short-term policy starting within this many days of the previous one's end (same
#: policyholder, same line) renews it (续保) rather than starting a new contract.
RENEWAL_GAP_DAYS = 31


def _first_in_force(policy: Policy) -> dt.date | None:
    return next((c.on for c in policy.history if c.to_status is PolicyStatus.IN_FORCE), None)


def _ending(policy: Policy, as_of: dt.date) -> StatusChange | None:
    return next(
        (
            c
            for c in policy.history
            if c.from_status is PolicyStatus.IN_FORCE and c.to_status in ENDED and c.on <= as_of
        ),
        None,
    )


def contracts(policies: Iterable[Policy], as_of: dt.date) -> list[tuple[dt.date, Policy]]:
    """Our policies that went in force by ``as_of``, as renewal contracts: ``(the day the
    contract began, its latest policy)``.

    A long-term policy is one contract, renewed by its yearly premiums. One-year
    policies renewed as new policies (same policyholder and line, the next starting
    within :data:`RENEWAL_GAP_DAYS` of the previous one's maturity) form one contract.
    """
    found: list[tuple[dt.date, Policy]] = []
    chains: dict[tuple[str, object], list[tuple[dt.date, Policy]]] = {}
    started = [(day, p) for p in policies if p.is_ours and (day := _first_in_force(p)) is not None]
    for day, policy in sorted(started, key=lambda e: (e[0], e[1].id)):
        if day > as_of:
            continue
        if policy.is_long_term:
            found.append((day, policy))
            continue
        chain = chains.setdefault((policy.policyholder_id, policy.product_line), [])
        if chain:
            began, last = chain[-1]
            end = _ending(last, as_of)
            if (
                end is not None
                and end.to_status is PolicyStatus.MATURED
                and abs((day - end.on).days) <= RENEWAL_GAP_DAYS
            ):
                chain[-1] = (began, policy)
                continue
        chain.append((day, policy))
    for chain in chains.values():
        found.extend(chain)
    return found


def renewal_history(policies: Iterable[Policy], as_of: dt.date) -> RenewalHistory:
    """Count lost and renewing contracts (:func:`contracts`) up to ``as_of``.

    A contract is lost at renewal ``t`` when it lapsed, was surrendered or cancelled
    during its ``t``-th year (a reinstated policy counts as lost at its first lapse), or
    when a one-year contract matured at the end of its ``t``-th year and was not renewed
    within :data:`RENEWAL_GAP_DAYS`. A contract still in force, one matured too recently
    to tell, one ended by a long-term policy's maturity or by a claim, and one ended for
    fraud (our decision, not the customer's) have made one renewal per whole year
    (right-censored).
    """
    return renewal_history_by_holder([policies], as_of)


def renewal_history_by_holder(
    holdings: Iterable[Iterable[Policy]], as_of: dt.date
) -> RenewalHistory:
    """:func:`renewal_history` of the policies of ``holdings``, one holding at a time: each
    holding is some policyholders' policies, and no policyholder's are split between two
    (a contract's renewals are one policyholder's). So a book read a batch of
    policyholders at a time is never held whole; the history is the same as that of all
    the policies at once."""
    lost: dict[int, int] = {}
    renewing: dict[int, int] = {}
    gap = dt.timedelta(days=RENEWAL_GAP_DAYS)
    for began, policy in (c for policies in holdings for c in contracts(policies, as_of)):
        end = _ending(policy, as_of)
        if end is not None and end.to_status in _LOST and end.reason is not EndReason.FRAUD:
            t = _anniversaries(began, end.on) + 1
            lost[t] = lost.get(t, 0) + 1
        elif (
            end is not None
            and end.to_status is PolicyStatus.MATURED
            and not policy.is_long_term
            and end.on + gap <= as_of
        ):
            t = max(_anniversaries(began, end.on), 1)
            lost[t] = lost.get(t, 0) + 1
        else:
            n = _anniversaries(began, end.on if end is not None else as_of)
            renewing[n] = renewing.get(n, 0) + 1
    return RenewalHistory(
        tuple(lost.get(t, 0) for t in range(1, max(lost, default=0) + 1)),
        tuple(renewing.get(n, 0) for n in range(max(renewing, default=-1) + 1)),
    )


def _log_beta_ratio(alpha: float, beta: float, a: float, b: float) -> float:
    """log B(a, b) − log B(alpha, beta)."""
    return (
        math.lgamma(a)
        + math.lgamma(b)
        - math.lgamma(a + b)
        - math.lgamma(alpha)
        - math.lgamma(beta)
        + math.lgamma(alpha + beta)
    )


def sbg_log_likelihood(alpha: float, beta: float, history: RenewalHistory) -> float:
    """The log-likelihood of ``history`` under sBG(α, β):
    Σ lost[t]·log P(T = t) + Σ renewing[n]·log S(n), with
    P(T = t) = B(α + 1, β + t − 1) / B(α, β) and S(n) = B(α, β + n) / B(α, β)."""
    total = 0.0
    for t, count in enumerate(history.lost, start=1):
        if count:
            total += count * _log_beta_ratio(alpha, beta, alpha + 1, beta + t - 1)
    for n, count in enumerate(history.renewing):
        if count and n:
            total += count * _log_beta_ratio(alpha, beta, alpha, beta + n)
    return total


@attrs.frozen
class RenewalModel:
    """A renewal model: sBG(α, β), or a flat yearly retention rate.

    Attributes:
        kind: which model.
        alpha: sBG α (None for a flat rate).
        beta: sBG β (None for a flat rate).
        retention: the flat yearly retention (None for sBG).
        reason: how it was chosen, e.g. "fitted to 2,400 contracts over 6 renewal years".
    """

    kind: RenewalModelKind
    alpha: float | None = None
    beta: float | None = None
    retention: Decimal | None = None
    reason: str = ""

    def survival(self, renewals: int) -> float:
        """The chance a new contract makes ``renewals`` renewals."""
        if renewals <= 0:
            return 1.0
        if self.kind is RenewalModelKind.FLAT_RETENTION:
            return float(self.retention or 0) ** renewals
        alpha, beta = self.alpha or 1.0, self.beta or 1.0
        return math.exp(_log_beta_ratio(alpha, beta, alpha, beta + renewals))

    def retention_after(self, renewals: int) -> float:
        """The chance a contract that made ``renewals`` renewals makes the next one."""
        here = self.survival(renewals)
        return self.survival(renewals + 1) / here if here > 0 else 0.0


def sbg_model(alpha: float, beta: float, reason: str) -> RenewalModel:
    """An sBG model with the given parameters.

    Raises:
        ValidationError: α or β is not a positive finite number.
    """
    for name, value in (("alpha", alpha), ("beta", beta)):
        if not (
            isinstance(value, int | float)
            and not isinstance(value, bool)
            and math.isfinite(value)
            and value > 0
        ):
            raise ValidationError(name, "config.range", "must be a positive number")
    return RenewalModel(
        RenewalModelKind.SHIFTED_BETA_GEOMETRIC, float(alpha), float(beta), None, reason
    )


def flat_model(config: FutureValueConfig | None = None, reason: str = "") -> RenewalModel:
    """The fallback: the configured retention rate every year."""
    cfg = config or FutureValueConfig()
    shown = f"{cfg.fallback_retention * 100:.0f} %"
    why = f"{reason}; " if reason else ""
    return RenewalModel(
        RenewalModelKind.FLAT_RETENTION,
        retention=cfg.fallback_retention,
        reason=f"{why}using the configured retention rate {shown} a year",
    )


@attrs.frozen
class FutureValue:
    """A customer's expected premium over the horizon, with how it was computed."""

    customer_id: str
    amount: Money
    horizon_years: int
    model: RenewalModel
    reasons: tuple[str, ...]


def _expected_premiums(
    renewals: int,
    model: RenewalModel,
    config: FutureValueConfig,
    *,
    first: int,
    remaining: int | None,
) -> float:
    """Σ over the next ``horizon_years`` premiums (the ``k``-th due after ``k`` more
    renewals, from ``k = first``) of the chance it is paid, discounted ``k − first``
    years; none at or after the ``remaining`` premium-paying years."""
    here = model.survival(renewals)
    if here <= 0:
        return 0.0
    rate = 1 + float(config.discount_rate)
    total = 0.0
    for k in range(first, first + config.horizon_years):
        if remaining is not None and k >= remaining:
            break
        total += model.survival(renewals + k) / here / rate ** (k - first)
    return total


def _amount(premium: Decimal, factor: float) -> Decimal:
    return (premium * Decimal(repr(round(factor, 6)))).quantize(Decimal("0.01"))


def customer_future_value(
    customer_id: str,
    policies: Iterable[Policy],
    as_of: dt.date,
    model: RenewalModel,
    config: FutureValueConfig | None = None,
    *,
    currency: str = DEFAULT_CURRENCY,
) -> FutureValue:
    """The expected premium of ``customer_id``'s policies of ours in force on ``as_of``,
    over the next ``horizon_years`` renewals (discounted), each contract
    (:func:`contracts`) at its own tenure. A long-term policy pays no premium after its
    term; a short-term one renews every year."""
    cfg = config or FutureValueConfig()
    total = Decimal("0.00")
    reasons = []
    own = [p for p in policies if p.policyholder_id == customer_id]
    for started, policy in contracts(own, as_of):
        if policy.status_on(as_of) is not PolicyStatus.IN_FORCE or policy.currency != currency:
            continue
        made = _anniversaries(started, as_of)
        remaining = policy.term_years - made if policy.is_long_term else None
        factor = _expected_premiums(made, model, cfg, first=1, remaining=remaining)
        value = _amount(policy.annual_premium.amount, factor)
        total += value
        reasons.append(
            f"policy {policy.number}: ¥{policy.annual_premium.amount:,.2f} a year × "
            f"{factor:.3f} expected after {made} renewals = ¥{value:,.2f}"
        )
    return FutureValue(
        customer_id,
        Money(total, currency),
        cfg.horizon_years,
        model,
        (*reasons, f"model: {model.kind.name} ({model.reason})"),
    )


def lost_premium(
    policies: Iterable[Policy], churned_on: dt.date, *, currency: str = DEFAULT_CURRENCY
) -> Decimal:
    """The annual premium of the policies of ours in ``currency`` in force the day before
    ``churned_on``: what winning the customer back would bring back each year."""
    before = churned_on - dt.timedelta(days=1)
    return total_in(
        (
            p.annual_premium
            for p in policies
            if p.is_ours and p.status_on(before) is PolicyStatus.IN_FORCE
        ),
        currency,
    )


def win_back_factor(model: RenewalModel, config: FutureValueConfig | None = None) -> float:
    """The premiums a won-back customer is expected to pay over the horizon, per unit of
    yearly premium: a new contract's first premium at once, then one a year while renewed,
    discounted."""
    return _expected_premiums(0, model, config or FutureValueConfig(), first=0, remaining=None)


def win_back_worth(lost: Decimal, factor: float) -> Decimal:
    """The win-back value of ``lost`` yearly premium at ``factor`` (:func:`win_back_factor`),
    rounded to the cent as :func:`win_back_value` rounds it."""
    return _amount(lost, factor)


def win_back_value(
    customer_id: str,
    policies: Iterable[Policy],
    churned_on: dt.date,
    model: RenewalModel,
    config: FutureValueConfig | None = None,
    *,
    currency: str = DEFAULT_CURRENCY,
) -> FutureValue:
    """What a churned customer would be worth if won back: the annual premium of their
    policies of ours in force the day before ``churned_on``, as a new contract (the
    first premium at once, then one a year while renewed), over the horizon."""
    cfg = config or FutureValueConfig()
    mine = (p for p in policies if p.policyholder_id == customer_id)
    lost = lost_premium(mine, churned_on, currency=currency)
    factor = win_back_factor(model, cfg)
    value = win_back_worth(lost, factor)
    return FutureValue(
        customer_id,
        Money(value, currency),
        cfg.horizon_years,
        model,
        (
            f"lost premium ¥{lost:,.2f} a year × {factor:.3f} expected as a new contract "
            f"= ¥{value:,.2f}",
            f"model: {model.kind.name} ({model.reason})",
        ),
    )
