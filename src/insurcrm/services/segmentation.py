"""Classify one customer, or segment a whole portfolio, through a unit of work (§4–§5).

Both gather the same :class:`~insurcrm.domain.classification.CustomerFacts`
and apply the same pure rules, so a customer gets the same result either way
and on every backend.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Callable

import attrs

from insurcrm.domain.classification import (
    CustomerClassification,
    CustomerFacts,
    PortfolioFigures,
    SegmentationConfig,
    classify_customer,
    customer_figures,
    gather_facts,
    referral_known,
)
from insurcrm.domain.interactions import two_way_contacts
from insurcrm.domain.loyalty import purchase_dates
from insurcrm.domain.satisfaction import latest_judged
from insurcrm.domain.segmentation import ParetoResult, pareto_share
from insurcrm.domain.unit_of_work import UnitOfWork
from insurcrm.services.progress import Progress

__all__ = [
    "PortfolioSegmentation",
    "classify_one",
    "facts_of",
    "gather_facts",
    "segment_portfolio",
]


@attrs.frozen
class PortfolioSegmentation:
    """Every customer's classification, the portfolio statistics and the totals."""

    as_of: dt.date
    figures: PortfolioFigures
    customers: tuple[CustomerClassification, ...]
    pareto: ParetoResult

    def count_by(self, key: Callable[[CustomerClassification], object]) -> Counter[object]:
        """How many customers fall in each class, e.g. ``count_by(lambda c: c.ladder.level)``."""
        return Counter(key(c) for c in self.customers)


def segment_portfolio(
    uow: UnitOfWork,
    as_of: dt.date,
    config: SegmentationConfig | None = None,
    progress: Progress | None = None,
) -> PortfolioSegmentation:
    """Classify every customer of the store as of ``as_of``.

    The portfolio statistics (RFM means, medians) come from one pass over every
    customer's figures and are part of the result.
    """
    cfg = config or SegmentationConfig()
    with uow:
        facts = gather_facts(
            uow.customers.iterate(),
            uow.policies.iterate(),
            as_of,
            interactions=uow.interactions.iterate(),
            responses=uow.surveys.iterate(),
        )
    facts.sort(key=lambda f: f.customer.id)
    each = [customer_figures(f, as_of, cfg) for f in facts]
    figures = PortfolioFigures.of(each, cfg)
    results = []
    for i, (f, own) in enumerate(zip(facts, each, strict=True), 1):
        results.append(classify_customer(f, figures, as_of, cfg, own))
        if progress is not None and (i % 500 == 0 or i == len(facts)):
            progress(i, len(facts))
    premiums = [r.rfm.figures.monetary for r in results if r.rfm is not None]
    return PortfolioSegmentation(as_of, figures, tuple(results), pareto_share(premiums))


def facts_of(uow: UnitOfWork, customer_id: str, as_of: dt.date) -> CustomerFacts:
    """One customer's facts, read through ``uow`` (already inside ``with uow:``).

    Raises:
        NotFound: no such customer.
    """
    customer = uow.customers.get(customer_id)
    own = tuple(
        p for p in uow.policies.of_customer(customer_id) if p.policyholder_id == customer_id
    )
    if customer.household_id is not None:
        household = tuple(
            p
            for member in uow.customers.in_household(customer.household_id)
            for p in uow.policies.of_customer(member.id)
            if p.policyholder_id == member.id
        )
    else:
        household = own
    referrals = uow.customers.referrals_of(customer_id)
    referred_buyers = known = 0
    for r in referrals:
        theirs = [p for p in uow.policies.of_customer(r.id) if p.policyholder_id == r.id]
        bought = bool(purchase_dates(theirs, as_of))
        referred_buyers += bought
        known += referral_known(r, bought, as_of)
    return CustomerFacts(
        customer=customer,
        policies=own,
        household_policies=household,
        referrals=known,
        referred_buyers=referred_buyers,
        two_way_contacts=two_way_contacts(uow.interactions.of_customer(customer_id), as_of),
        latest_survey=latest_judged(uow.surveys.of_customer(customer_id), as_of),
    )


def classify_one(
    uow: UnitOfWork,
    customer_id: str,
    as_of: dt.date,
    portfolio: PortfolioFigures,
    config: SegmentationConfig | None = None,
) -> CustomerClassification:
    """Classify one customer against given portfolio statistics (from
    :func:`segment_portfolio` or :meth:`PortfolioFigures.of`).

    Raises:
        NotFound: no such customer.
    """
    with uow:
        facts = facts_of(uow, customer_id, as_of)
    return classify_customer(facts, portfolio, as_of, config)
