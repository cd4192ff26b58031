"""Credit grade (信用等级, DOMAIN.md §1.3): A/B/C/D by purchases and payment record.

Default rule, first match wins:

* D: any policy cancelled for non-payment or fraud;
* A: ≥ 3 purchases and no missed premium in the last 3 years;
* B: ≥ 1 purchase and at most 1 missed premium in the last 3 years;
* C: any other customer with a purchase.

Customers without a purchase have no grade. Only policies of our company count:
the payment record is the record with us. Purchases are counted over the
whole relationship up to the assessment date ("transaction volume with the
company"); only the missed premiums are limited to the look-back window.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable

import attrs

from insurcrm.domain.checks import non_negative_int, positive_int
from insurcrm.domain.dates import add_years
from insurcrm.domain.labels import LabelledEnum
from insurcrm.domain.policies import EndReason, Policy, PolicyStatus
from insurcrm.errors import ValidationError

__all__ = ["CreditAssessment", "CreditConfig", "CreditGrade", "credit_grade", "grade_credit"]


class CreditGrade(LabelledEnum):
    """Credit grade (信用等级), best first."""

    A = ("A", "A级（优）")
    B = ("B", "B级（良）")
    C = ("C", "C级（一般）")
    D = ("D", "D级（差）")


@attrs.frozen
class CreditConfig:
    """Thresholds of the credit grade rule; defaults are DOMAIN.md §1.3's.

    Raises:
        ValidationError: a negative threshold, a window under one year, or an
            A rule easier than the B rule.
    """

    a_min_purchases: int = attrs.field(default=3, validator=positive_int)
    a_max_missed: int = attrs.field(default=0, validator=non_negative_int)
    b_min_purchases: int = attrs.field(default=1, validator=positive_int)
    b_max_missed: int = attrs.field(default=1, validator=non_negative_int)
    lookback_years: int = attrs.field(default=3, validator=positive_int)
    d_reasons: frozenset[EndReason] = frozenset({EndReason.NON_PAYMENT, EndReason.FRAUD})

    def __attrs_post_init__(self) -> None:
        if self.a_min_purchases < self.b_min_purchases:
            raise ValidationError(
                "a_min_purchases", "config.order", "must be at least b_min_purchases"
            )
        if self.a_max_missed > self.b_max_missed:
            raise ValidationError("a_max_missed", "config.order", "must be at most b_max_missed")


@attrs.frozen
class CreditAssessment:
    """A credit grade with the figures and the reasons that decided it."""

    grade: CreditGrade | None
    purchases: int
    missed_premiums: int
    reasons: tuple[str, ...]


def grade_credit(
    policies: Iterable[Policy], as_of: dt.date, config: CreditConfig | None = None
) -> CreditAssessment:
    """Grade a customer from the policies they hold as policyholder, as of ``as_of``.

    Args:
        policies: the customer's policies (as policyholder).
        as_of: the assessment date; later events are ignored.
        config: thresholds; DOMAIN.md §1.3 defaults when omitted.

    Returns:
        The grade (``None`` without a purchase) with its figures and reasons.
    """
    cfg = config or CreditConfig()
    since = add_years(as_of, -cfg.lookback_years)
    purchases = 0
    missed = 0
    bad: list[str] = []
    for policy in policies:
        if not policy.is_ours:
            continue  # the payment record is with us; holdings elsewhere do not count
        purchases += sum(1 for p in policy.purchases if p.on <= as_of)
        missed += sum(1 for m in policy.missed_premiums if since < m.due_date <= as_of)
        for change in policy.history:
            if (
                change.on <= as_of
                and change.to_status is PolicyStatus.CANCELLED
                and change.reason in cfg.d_reasons
            ):
                assert change.reason is not None
                bad.append(
                    f"D: policy {policy.number} cancelled for {change.reason.name} on {change.on}"
                )
    window = f"in the {cfg.lookback_years} years to {as_of}"
    figures = f"{purchases} purchases, {missed} missed premiums {window}"
    grade = credit_grade(purchases, missed, bool(bad), cfg)
    if grade is CreditGrade.D:
        return CreditAssessment(CreditGrade.D, purchases, missed, tuple(bad))
    if grade is None:
        return CreditAssessment(None, 0, missed, ("no grade: no purchase yet",))
    if grade is CreditGrade.A:
        reason = f"A: {figures} (A needs ≥ {cfg.a_min_purchases} and ≤ {cfg.a_max_missed} missed)"
    elif grade is CreditGrade.B:
        reason = f"B: {figures} (B needs ≥ {cfg.b_min_purchases} and ≤ {cfg.b_max_missed} missed)"
    else:
        reason = f"C: {figures}"
    return CreditAssessment(grade, purchases, missed, (reason,))


def credit_grade(
    purchases: int, missed: int, bad_ending: bool, config: CreditConfig | None = None
) -> CreditGrade | None:
    """The grade (§1.3) from the figures :func:`grade_credit` explains: purchases so far,
    missed premiums in the look-back, and whether a policy ended for a D reason."""
    cfg = config or CreditConfig()
    if bad_ending:
        return CreditGrade.D
    if purchases == 0:
        return None
    if purchases >= cfg.a_min_purchases and missed <= cfg.a_max_missed:
        return CreditGrade.A
    if purchases >= cfg.b_min_purchases and missed <= cfg.b_max_missed:
        return CreditGrade.B
    return CreditGrade.C
