"""Policy use cases (保单): issue a policy, summarise the portfolio.

:func:`portfolio_summary` walks every customer and policy (the scale engine
of DOMAIN.md §10.3, which pushes aggregation into the database, comes later);
amounts are summed exactly as :class:`~insurcrm.domain.values.Money`.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter, defaultdict
from decimal import Decimal

import attrs

from insurcrm.domain.credit import CreditConfig, CreditGrade, grade_credit
from insurcrm.domain.policies import Policy, PolicyStatus, ProductLine
from insurcrm.domain.unit_of_work import UnitOfWork
from insurcrm.domain.values import DEFAULT_CURRENCY, Money

__all__ = ["GradeCount", "LineFigures", "PortfolioSummary", "issue_policy", "portfolio_summary"]


def issue_policy(uow: UnitOfWork, policy: Policy, on: dt.date) -> Policy:
    """Store a new pending policy of ours and put it in force on ``on`` (承保), in one transaction.

    Activation records the new-policy purchase (DOMAIN.md §2).

    Returns:
        The stored policy, in force (version 1).

    Raises:
        RuleViolation: the policy is not pending.
        Duplicate: the policy id or number is taken.
        NotFound: the policyholder, insured or a beneficiary is not a stored customer.
    """
    active = policy.activate(on)
    with uow:
        stored = uow.policies.add(active)
        uow.commit()
    return stored


@attrs.frozen
class LineFigures:
    """Policies of one product line in force, and their annual premium."""

    line: ProductLine
    policies: int
    annual_premium: Money


@attrs.frozen
class GradeCount:
    """How many customers have a credit grade; ``grade`` is ``None`` for no grade (no purchase)."""

    grade: CreditGrade | None
    customers: int

    @property
    def key(self) -> str:
        """``"A"`` … ``"D"``, or ``"none"``."""
        return self.grade.value if self.grade is not None else "none"

    @property
    def label_zh(self) -> str:
        """The Chinese label of the grade, or ``无等级`` for none."""
        return self.grade.label_zh if self.grade is not None else "无等级"


@attrs.frozen
class PortfolioSummary:
    """Headline figures of the portfolio as of a date (no personal data).

    Attributes:
        as_of: the date the figures are for.
        currency: the currency the premiums are summed in.
        customers: customers stored, erased stubs included.
        erased_customers: customers whose personal data was erased.
        policies: policies stored (every status, other insurers' included).
        in_force_by_line: our policies in force on ``as_of``, per product
            line in :class:`ProductLine` order (lines without any included).
        credit_grades: customers per credit grade, A to D then none.
        premium_in_force: the annual premium of our policies in force.
        other_currency_policies: policies in force in another currency
            (counted per line, not added to the premiums).
    """

    as_of: dt.date
    currency: str
    customers: int
    erased_customers: int
    policies: int
    in_force_by_line: tuple[LineFigures, ...]
    credit_grades: tuple[GradeCount, ...]
    premium_in_force: Money
    other_currency_policies: int = 0

    @property
    def policies_in_force(self) -> int:
        """Our policies in force on ``as_of``."""
        return sum(line.policies for line in self.in_force_by_line)

    def line(self, line: ProductLine) -> LineFigures:
        """The figures of one product line."""
        return next(f for f in self.in_force_by_line if f.line is line)

    def grade(self, grade: CreditGrade | None) -> int:
        """How many customers have ``grade`` (``None``: no grade)."""
        return next(g.customers for g in self.credit_grades if g.grade is grade)


def portfolio_summary(
    uow: UnitOfWork,
    as_of: dt.date,
    *,
    currency: str = DEFAULT_CURRENCY,
    credit: CreditConfig | None = None,
) -> PortfolioSummary:
    """Count customers, policies in force by product line, credit grades and premium in force.

    A policy is in force when its status at the end of ``as_of`` is IN_FORCE
    (from its history). A customer's credit grade (DOMAIN.md §1.3) is graded
    over the policies they hold as policyholder (those of
    ``uow.policies.of_customer`` naming them policyholder), gathered in the
    one pass over the policies. Reads only; stores nothing.

    Walks every policy and customer and keeps the policies in memory while
    it does; the streaming engine of DOMAIN.md §10.3 is for large books.

    Args:
        uow: the unit of work to read with (not yet inside a ``with`` block).
        as_of: the assessment date.
        currency: the currency premiums are summed in (default CNY).
        credit: credit grade thresholds; DOMAIN.md defaults when omitted.
    """
    counts: Counter[ProductLine] = Counter()
    premiums: dict[ProductLine, Decimal] = {line: Decimal("0.00") for line in ProductLine}
    grades: Counter[CreditGrade | None] = Counter()
    held: defaultdict[str, list[Policy]] = defaultdict(list)
    other_currency = 0
    customers = erased = 0
    with uow:
        policies = uow.policies.count()
        for policy in uow.policies.iterate():
            held[policy.policyholder_id].append(policy)
            if not policy.is_ours or policy.status_on(as_of) is not PolicyStatus.IN_FORCE:
                continue
            counts[policy.product_line] += 1
            if policy.currency == currency:
                premiums[policy.product_line] += policy.annual_premium.amount
            else:
                other_currency += 1
        for customer in uow.customers.iterate():
            customers += 1
            erased += customer.is_erased
            grades[grade_credit(held.pop(customer.id, ()), as_of, credit).grade] += 1
    lines = tuple(
        LineFigures(line, counts[line], Money(premiums[line], currency)) for line in ProductLine
    )
    total = sum((premiums[line] for line in ProductLine), Decimal("0.00"))
    return PortfolioSummary(
        as_of=as_of,
        currency=currency,
        customers=customers,
        erased_customers=erased,
        policies=policies,
        in_force_by_line=lines,
        credit_grades=tuple(GradeCount(g, grades[g]) for g in (*CreditGrade, None)),
        premium_in_force=Money(total, currency),
        other_currency_policies=other_currency,
    )
