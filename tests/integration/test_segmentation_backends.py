"""Segmenting a portfolio gives the same result on every backend, and classifying one
customer gives the same result as the portfolio engine (DOMAIN.md §4–§5, §10.2)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

import attrs
import pytest
from hypothesis import event, given
from hypothesis import strategies as st

from insurcrm.adapters.memory import MemoryStore
from insurcrm.domain.classification import CustomerClassification, SegmentationConfig
from insurcrm.domain.customers import (
    Customer,
    Household,
)
from insurcrm.domain.loyalty import LadderConfig, LoyaltyLevel, LoyaltyTypeConfig
from insurcrm.domain.policies import Policy
from insurcrm.domain.programmes import ProgrammeConfig
from insurcrm.domain.rfm import RfmConfig
from insurcrm.domain.unit_of_work import UnitOfWorkFactory
from insurcrm.services.segmentation import PortfolioSegmentation, classify_one, segment_portfolio
from insurcrm.testing import strategies as gen
from insurcrm.testing.contracts import make_customer, make_policy
from tests.contract.sql_stores import empty_postgres_store, empty_sqlite_store

HOUSEHOLDS = ("H1", "H2")
EIGHT_YEARS = st.integers(min_value=0, max_value=8 * 365)
A_YEAR = st.integers(min_value=0, max_value=365)
DEFAULT = SegmentationConfig()
#: Low thresholds, so that the higher ladder rungs, the household reward and the revisit
#: are reached in portfolios this small too.
LENIENT = SegmentationConfig(
    ladder=LadderConfig(
        advocate_min_referred_buyers=1, partner_min_referred_buyers=2, partner_min_tenure_years=1
    ),
    types=LoyaltyTypeConfig(repeat_min_purchases=1, repeat_window_years=5),
    rfm=RfmConfig(window_days=3650, new_customer_days=1000),
    programmes=ProgrammeConfig(reward_min_policies=2, revisit_idle_years=1),
)


@attrs.frozen
class Portfolio:
    households: tuple[Household, ...]
    customers: tuple[Customer, ...]
    policies: tuple[Policy, ...]
    as_of: dt.date
    config: SegmentationConfig


@st.composite
def portfolios(draw: st.DrawFn) -> Portfolio:
    """3–8 customers, some referred by an earlier one, some sharing a household, each
    holding 0–2 policies (mostly ours) that went through a random lifecycle, started in the
    eight years before the assessment date and changed until up to a year after it."""
    as_of = draw(st.dates(min_value=dt.date(2012, 1, 1), max_value=dt.date(2026, 6, 30)))
    count = draw(st.integers(min_value=3, max_value=8))
    ids = [f"C{i}" for i in range(1, count + 1)]
    customers: list[Customer] = []
    for i, customer_id in enumerate(ids):
        referrer = draw(st.none() | st.sampled_from(ids[:i])) if i else None
        household = draw(st.sampled_from((None, *HOUSEHOLDS)))
        drawn = gen.rule_customers(id=customer_id, referred_by=referrer, household_id=household)
        customers.append(draw(drawn.filter(gen.person_not_in(customers))))  # one customer a person
    policies: list[Policy] = []
    for customer_id in ids:
        for _ in range(draw(st.sampled_from((0, 1, 1, 2, 2)))):
            insured = draw(st.sampled_from((customer_id, customer_id, *ids)))
            policies.append(
                draw(
                    gen.policies(
                        customer_id,
                        insured,
                        id=f"P{len(policies) + 1}",
                        ours=draw(st.sampled_from((True, True, True, False))),
                        start_date=as_of - dt.timedelta(days=draw(EIGHT_YEARS)),
                        until=as_of + dt.timedelta(days=draw(A_YEAR)),
                        max_steps=4,
                    )
                )
            )
    config = draw(st.sampled_from((DEFAULT, LENIENT)))
    return Portfolio(
        tuple(Household(h) for h in HOUSEHOLDS), tuple(customers), tuple(policies), as_of, config
    )


def stored(store: UnitOfWorkFactory, portfolio: Portfolio) -> UnitOfWorkFactory:
    with store.unit_of_work() as uow:
        for household in portfolio.households:
            uow.households.add(household)
        for customer in portfolio.customers:  # referrers come first
            uow.customers.add(customer)
        for policy in portfolio.policies:
            uow.policies.add(policy)
        uow.commit()
    return store


def segmented(
    store: UnitOfWorkFactory, portfolio: Portfolio
) -> tuple[PortfolioSegmentation, dict[str, CustomerClassification]]:
    """The portfolio engine's result, and each customer classified on their own."""
    as_of, config = portfolio.as_of, portfolio.config
    segmentation = segment_portfolio(store.unit_of_work(), as_of, config)
    one_by_one = {
        c.id: classify_one(store.unit_of_work(), c.id, as_of, segmentation.figures, config)
        for c in portfolio.customers
    }
    return segmentation, one_by_one


def check_consistent(
    portfolio: Portfolio,
    segmentation: PortfolioSegmentation,
    one_by_one: dict[str, CustomerClassification],
) -> None:
    ids = sorted(c.id for c in portfolio.customers)
    assert [c.customer_id for c in segmentation.customers] == ids
    assert segmentation.as_of == portfolio.as_of
    for result in segmentation.customers:
        assert one_by_one[result.customer_id] == result
        assert result.as_of == portfolio.as_of
    typed = [c for c in segmentation.customers if c.rfm is not None]
    assert segmentation.figures.rfm_means.customers == len(typed)
    assert segmentation.pareto.customers == len(typed)


def assert_backend_agrees(
    make_store: Callable[[], UnitOfWorkFactory], portfolio: Portfolio
) -> None:
    expected, expected_one_by_one = segmented(stored(MemoryStore(), portfolio), portfolio)
    check_consistent(portfolio, expected, expected_one_by_one)
    actual, actual_one_by_one = segmented(stored(make_store(), portfolio), portfolio)
    check_consistent(portfolio, actual, actual_one_by_one)
    assert actual.figures == expected.figures
    assert actual.pareto == expected.pareto
    for mine, theirs in zip(actual.customers, expected.customers, strict=True):
        assert mine == theirs, mine.customer_id
    assert actual == expected
    assert actual_one_by_one == expected_one_by_one
    # What the examples reach (see pytest --hypothesis-show-statistics).
    event(f"highest ladder level {max(c.ladder.level.rank for c in expected.customers)}")
    event(f"RFM-typed customers: {expected.figures.rfm_means.customers}")
    if any(c.loyalty_reward.eligible for c in expected.customers):
        event("a household earns the loyalty purchase reward")


@given(portfolio=portfolios())
def test_memory_and_sqlite_segment_a_portfolio_alike(portfolio: Portfolio) -> None:
    assert_backend_agrees(empty_sqlite_store, portfolio)


@pytest.mark.postgres
@given(portfolio=portfolios())
def test_memory_and_postgres_segment_a_portfolio_alike(portfolio: Portfolio) -> None:
    assert_backend_agrees(empty_postgres_store, portfolio)


def test_a_known_portfolio_on_memory_and_sqlite() -> None:
    """One hand-made portfolio, so the property above is anchored to real classifications."""
    as_of = dt.date(2024, 3, 1)
    customers = (
        make_customer("C1", "张伟", household_id="H1"),
        make_customer("C2", "李娜", referred_by="C1", household_id="H1"),
        make_customer("C3", "王芳", referred_by="C1"),
    )
    policies = (
        make_policy("P1", "C1", premium="5000.00")
        .activate(dt.date(2018, 1, 1))
        .renew(dt.date(2023, 1, 1)),
        make_policy("P2", "C2", premium="800.00").activate(dt.date(2023, 6, 1)),
        make_policy("P3", "C3", premium="300.00").activate(dt.date(2019, 1, 1)),
    )
    portfolio = Portfolio((Household("H1"),), customers, policies, as_of, DEFAULT)
    outcomes = []
    for make_store in (MemoryStore, empty_sqlite_store):
        segmentation, one_by_one = segmented(stored(make_store(), portfolio), portfolio)
        outcomes.append(segmentation)
        check_consistent(portfolio, segmentation, one_by_one)
        results = {c.customer_id: c for c in segmentation.customers}
        assert results["C1"].ladder.level is LoyaltyLevel.ADVOCATE  # 2 referred buyers
        assert results["C2"].ladder.level is LoyaltyLevel.GENERAL
        assert results["C3"].ladder.level is LoyaltyLevel.GENERAL
        assert results["C1"].rfm is not None
        assert results["C1"].rfm.type == 1  # R↓ F↑ M↑
        assert results["C3"].revisit.eligible
        assert not results["C1"].revisit.eligible
    assert outcomes[0] == outcomes[1]
