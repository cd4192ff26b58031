"""Assessing a portfolio gives the same answer on every backend, and the same answer as
the per-customer rules (DOMAIN.md §10.1, §10.2).

The same generated portfolio — a sample book plus a few drawn customers with cover held
elsewhere, referrals, a shared household, policies with missed premiums and events on
the window boundaries and after the assessment date, churn records, an erased customer
and tier memberships — gives identical figures, rows, totals and output on memory,
SQLite and PostgreSQL; and on each backend every customer's row agrees with
:func:`~insurcrm.services.segmentation.segment_portfolio`, the tier rule and the churn
rates of the year."""

from __future__ import annotations

import datetime as dt
import io
from collections.abc import Callable
from decimal import Decimal

import attrs
import pytest
from hypothesis import event, given, settings
from hypothesis import strategies as st

from insurcrm.adapters.memory import MemoryStore
from insurcrm.dispatch import EventHandlers
from insurcrm.domain.assessment import (
    AssessmentConfig,
    AssessmentFigures,
    AssessmentRow,
    AssessmentStats,
    AssessmentTotals,
    AssessmentWindows,
    FigureRules,
    GroupTotals,
    TierChange,
    open_churn,
)
from insurcrm.domain.card import Holding
from insurcrm.domain.churn import ChurnRecord
from insurcrm.domain.classification import gather_facts, tier_figures
from insurcrm.domain.credit import CreditGrade
from insurcrm.domain.customers import Customer, Household, LeadSource
from insurcrm.domain.dates import add_years
from insurcrm.domain.early_warning import (
    WarningConfig,
    WarningLevel,
    early_warning,
    warning_figures,
)
from insurcrm.domain.future_value import win_back_value
from insurcrm.domain.loyalty import LoyaltyLevel, LoyaltyType
from insurcrm.domain.policies import EndReason, Policy, ProductLine
from insurcrm.domain.recovery import WinBackStance, decide_recovery
from insurcrm.domain.satisfaction import Answer, Dimension, satisfaction_indicators
from insurcrm.domain.tier_membership import GrantKind
from insurcrm.domain.tiers import DEFAULT_LADDER
from insurcrm.domain.unit_of_work import UnitOfWorkFactory
from insurcrm.domain.values import Money, ResidentId
from insurcrm.errors import StorageError
from insurcrm.services.assessment import assess_portfolio, write_rows
from insurcrm.services.churn import churn_rates_for
from insurcrm.services.customers import erase_customer
from insurcrm.services.sample_portfolio import customer_id, generate_sample
from insurcrm.services.segmentation import segment_portfolio
from insurcrm.services.tiers import grant_customer_tier, review_tiers
from insurcrm.testing import strategies as gen
from insurcrm.testing.contracts import (
    make_complaint,
    make_customer,
    make_interaction,
    make_policy,
    make_response,
)
from tests.contract.sql_stores import empty_postgres_store, empty_sqlite_store, postgres_url

#: Few examples (each builds a portfolio on two or three stores); more in the ci profile.
EXAMPLES = settings(
    max_examples=6 if settings().max_examples < 100 else 12,
    deadline=None,
)

HOUSEHOLD = "HX1"
CONFIG = AssessmentConfig()
DAY_AFTER = dt.timedelta(days=1)
#: Days before the assessment date that fall on or next to a window's start: the RFM
#: window (1095 days), the year of the churn period and of a new customer (365 days).
BOUNDARY_DAYS = (0, 1, 364, 365, 366, 1094, 1095, 1096)
EIGHT_YEARS = st.integers(min_value=0, max_value=8 * 365)


@attrs.frozen
class Grant:
    customer: int
    tier: int
    days_later: int


@attrs.frozen
class Scenario:
    customers: int
    seed: int
    as_of: dt.date
    extra_customers: tuple[Customer, ...]
    extra_policies: tuple[Policy, ...]
    churns: tuple[ChurnRecord, ...]
    erased: int | None
    review_days_before: int | None
    grant: Grant | None
    later_review_days: int | None = None


def _days_before(as_of: dt.date) -> st.SearchStrategy[dt.date]:
    return (st.sampled_from(BOUNDARY_DAYS) | EIGHT_YEARS).map(
        lambda days: as_of - dt.timedelta(days=days)
    )


@st.composite
def scenarios(draw: st.DrawFn) -> Scenario:
    """A sample book of 15–40 customers built up to a date, with 0–4 drawn customers
    (referred by a sample customer or an earlier drawn one), 0–6 drawn policies (of drawn
    or sample customers, some in USD; started on or next to a window boundary or in the
    eight years before the date, with events up to a year after it), churn records of the drawn
    customers around the churn period, maybe an erased customer, maybe a tier review
    before the date and a manual grant after it, maybe a tier review after the date (which
    the assessment must not see)."""
    customers = draw(st.integers(min_value=15, max_value=40))
    as_of = draw(st.dates(min_value=dt.date(2019, 1, 1), max_value=dt.date(2026, 6, 30)))
    extras: list[Customer] = []
    for n in range(1, draw(st.integers(min_value=0, max_value=4)) + 1):
        referrer = draw(
            st.none()
            | st.integers(min_value=1, max_value=customers).map(customer_id)
            | (st.sampled_from([c.id for c in extras]) if extras else st.none())
        )
        household = draw(st.sampled_from((None, HOUSEHOLD)))
        drawn = gen.rule_customers(id=f"X{n}", referred_by=referrer, household_id=household)
        extras.append(draw(drawn.filter(gen.person_not_in(extras))))  # one customer a person
    holders = [c.id for c in extras] + [customer_id(1), customer_id(customers)]
    policies = []
    for n in range(1, draw(st.integers(min_value=0, max_value=6)) + 1):
        holder = draw(st.sampled_from(holders))
        policies.append(
            draw(
                gen.policies(
                    holder,
                    holder,
                    id=f"PX{n}",
                    ours=draw(st.sampled_from((True, True, True, False))),
                    currency=draw(st.sampled_from(("CNY", "CNY", "CNY", "USD"))),
                    start_date=draw(_days_before(as_of)),
                    until=as_of + dt.timedelta(days=draw(st.integers(0, 365))),
                    max_steps=5,
                )
            )
        )
    period_start = add_years(as_of, -1)
    churns = []
    for c in extras:
        if draw(st.booleans()):
            on = draw(
                st.sampled_from((period_start, period_start + dt.timedelta(days=1), as_of))
                | st.dates(
                    min_value=period_start - dt.timedelta(days=30),
                    max_value=as_of + dt.timedelta(days=30),
                )
            )
            churns.append(draw(gen.churn_records(customer_id=c.id, on=on)))
    review = draw(st.none() | st.integers(min_value=1, max_value=800))
    grant = None
    if review is not None:
        grant = draw(
            st.none()
            | st.builds(
                Grant,
                customer=st.integers(min_value=1, max_value=customers),
                tier=st.integers(min_value=1, max_value=len(DEFAULT_LADDER.tiers) - 1),
                days_later=st.integers(min_value=0, max_value=review),
            )
        )
    return Scenario(
        customers=customers,
        seed=draw(st.integers(min_value=0, max_value=2**32 - 1)),
        as_of=as_of,
        extra_customers=tuple(extras),
        extra_policies=tuple(policies),
        churns=tuple(churns),
        erased=draw(st.none() | st.integers(min_value=1, max_value=customers)),
        review_days_before=review,
        grant=grant,
        later_review_days=draw(st.none() | st.integers(min_value=1, max_value=400)),
    )


def build(store: UnitOfWorkFactory, scenario: Scenario) -> UnitOfWorkFactory:
    """Fill ``store`` with the scenario's portfolio."""
    # A shared store (PostgreSQL) may keep handlers from other tests: nobody listens here.
    store.handlers = EventHandlers()  # type: ignore[attr-defined]
    as_of = scenario.as_of
    generate_sample(
        store.unit_of_work(), customers=scenario.customers, seed=scenario.seed, as_of=as_of
    )
    with store.unit_of_work() as uow:
        uow.households.add(Household(HOUSEHOLD))
        for customer in scenario.extra_customers:  # referrers come first
            uow.customers.add(customer)
        for policy in scenario.extra_policies:
            uow.policies.add(policy)
        for record in scenario.churns:
            uow.churns.add(record)
        uow.commit()
    if scenario.erased is not None:
        erase_customer(store.unit_of_work(), customer_id(scenario.erased), as_of)
    if scenario.review_days_before is not None:
        review_on = as_of - dt.timedelta(days=scenario.review_days_before)
        review_tiers(store.unit_of_work(), review_on)
        grant = scenario.grant
        if grant is not None and grant.customer != scenario.erased:
            on = review_on + dt.timedelta(days=grant.days_later)
            grant_customer_tier(
                store.unit_of_work(),
                customer_id(grant.customer),
                DEFAULT_LADDER.tiers[grant.tier].code,
                GrantKind.FLOOR,
                "人工授予",
                on,
                on + dt.timedelta(days=30),
            )
    if scenario.later_review_days is not None:
        review_tiers(store.unit_of_work(), as_of + dt.timedelta(days=scenario.later_review_days))
    return store


@attrs.frozen
class Outcome:
    figures: tuple[AssessmentFigures, ...]
    stats: AssessmentStats
    rows: tuple[AssessmentRow, ...]
    totals: AssessmentTotals
    csv: str
    json: str


def assessed(store: UnitOfWorkFactory, as_of: dt.date) -> Outcome:
    windows = AssessmentWindows.of(as_of, CONFIG)
    with store.unit_of_work() as uow:
        figures = tuple(uow.portfolio.figures(windows, CONFIG))
    assessment = assess_portfolio(store.unit_of_work(), as_of)
    assert assessment.customers == len(figures)
    rows = tuple(assessment)
    assert assessment.complete
    assert [r.customer_id for r in rows] == [f.customer_id for f in figures]
    assert [r.customer_id for r in rows] == sorted(r.customer_id for r in rows)
    assert assessment.totals.customers == len(rows)
    outputs = []
    for fmt in ("csv", "json"):
        out = io.StringIO()
        assert write_rows(iter(rows), out, fmt) == len(rows)
        outputs.append(out.getvalue())
    return Outcome(figures, assessment.stats, rows, assessment.totals, *outputs)


def _backends() -> list[tuple[str, Callable[[], UnitOfWorkFactory]]]:
    backends: list[tuple[str, Callable[[], UnitOfWorkFactory]]] = [
        ("memory", MemoryStore),
        ("sqlite", empty_sqlite_store),
    ]
    if postgres_url():
        backends.append(("postgres", empty_postgres_store))
    return backends


def _note(scenario: Scenario, outcome: Outcome) -> None:
    """What the examples reach (see pytest --hypothesis-show-statistics)."""
    event(f"drawn customers: {len(scenario.extra_customers)}")
    for change in {r.tier_change for r in outcome.rows}:
        event(f"tier change {change.name if change else 'none (erased)'}")
    if outcome.totals.churned:
        event("someone churned in the period")
    if any(r.tier != "STANDARD" for r in outcome.rows):
        event("someone qualifies above STANDARD")


@pytest.mark.slow
@EXAMPLES
@given(scenarios())
def test_same_assessment_on_every_backend(scenario: Scenario) -> None:
    outcomes = {
        name: assessed(build(make(), scenario), scenario.as_of) for name, make in _backends()
    }
    expected = outcomes["memory"]
    _note(scenario, expected)
    for name, outcome in outcomes.items():
        for mine, theirs in zip(outcome.figures, expected.figures, strict=True):
            assert mine == theirs, (name, mine.customer_id)
        assert outcome.stats == expected.stats, name
        for mine_row, their_row in zip(outcome.rows, expected.rows, strict=True):
            assert mine_row == their_row, (name, mine_row.customer_id)
        assert outcome.totals == expected.totals, name
        # The same text too: amounts with the same scale, codes with the same names.
        assert outcome.csv == expected.csv, name
        assert outcome.json == expected.json, name


BACKENDS = [
    pytest.param(MemoryStore, id="memory"),
    pytest.param(empty_sqlite_store, id="sqlite"),
    pytest.param(empty_postgres_store, id="postgres", marks=pytest.mark.postgres),
]


def check_agreement(store: UnitOfWorkFactory, as_of: dt.date) -> Outcome:
    """The engine's rows, statistics and totals against the per-customer rules on
    ``store``: segmentation (§4–§5), the qualifying tier (§6) and the churn rates (§7)."""
    outcome = assessed(store, as_of)
    segmentation = segment_portfolio(store.unit_of_work(), as_of, CONFIG.segmentation)
    with store.unit_of_work() as uow:
        contacts = list(uow.interactions.iterate())
        responses = list(uow.surveys.iterate())
        facts = {
            f.customer.id: f
            for f in gather_facts(
                uow.customers.iterate(),
                uow.policies.iterate(),
                as_of,
                interactions=contacts,
                responses=responses,
            )
        }
        held = {m.customer_id: m.tier_on(as_of) for m in uow.tiers.iterate()}
        complaints = list(uow.complaints.iterate())
        churns = list(uow.churns.iterate())
    model = CONFIG.win_back_model
    rules = FigureRules(as_of, CONFIG)
    assert len(outcome.rows) == len(segmentation.customers) == len(facts)
    for row, one, figures in zip(
        outcome.rows, segmentation.customers, outcome.figures, strict=True
    ):
        cid = row.customer_id
        assert cid == one.customer_id == figures.customer_id
        # what the tier review evaluates, from the figures, is what one customer's gives
        assert rules.tier_figures(figures) == tier_figures(facts[cid], as_of, CONFIG.segmentation)
        expected: dict[str, object] = {
            "loyalty_level": one.ladder.level,
            "loyalty_type": one.loyalty_type.type,
            "credit": one.credit.grade,
            "rfm_type": one.rfm.type if one.rfm is not None else None,
            "rfm_segment": one.rfm.segment if one.rfm is not None else None,
            "quadrant": one.quadrant.quadrant if one.quadrant is not None else None,
            "retention": one.retention.retention_class if one.retention is not None else None,
            "premium": one.rfm.figures.monetary if one.rfm is not None else row.premium,
            "tier": DEFAULT_LADDER.tiers[
                DEFAULT_LADDER.qualifying(tier_figures(facts[cid], as_of, CONFIG.segmentation))
            ].code,
            "current_tier": held.get(cid),
        }
        warning = early_warning(
            cid,
            as_of,
            policies=facts[cid].policies,
            complaints=[c for c in complaints if c.customer_id == cid],
            interactions=[c for c in contacts if c.customer_id == cid],
            responses=[r for r in responses if r.customer_id == cid],
            config=CONFIG.warning,
        )
        expected["warning_score"] = warning.score
        expected["warning_level"] = warning.level
        record = open_churn((r for r in churns if r.customer_id == cid), as_of)
        decision = None
        if record is not None and not facts[cid].customer.is_erased:
            value = win_back_value(cid, facts[cid].policies, record.on, model, CONFIG.future)
            decision = decide_recovery(record, value.amount, CONFIG.recovery)
        expected["win_back"] = decision.stance if decision else None
        expected["win_back_recommended"] = decision.recommended if decision else None
        actual = {key: getattr(row, key) for key in expected}
        assert actual == expected, cid
        # no tier change is due for an erased customer, as the tier review skips them
        assert (row.tier_change is None) == facts[cid].customer.is_erased, cid
        if one.rfm is None:
            assert row.premium == 0
    assert outcome.stats.means == segmentation.figures.rfm_means
    assert outcome.stats.thresholds == segmentation.figures.quadrant_thresholds
    assert outcome.stats.value_median == segmentation.figures.value_median
    assert outcome.totals.pareto == segmentation.pareto
    rates = churn_rates_for(store.unit_of_work(), add_years(as_of, -1), as_of)
    churn = outcome.totals.churn
    assert churn is not None
    assert (churn.customers_at_start, churn.churned) == (rates.customers_at_start, rates.churned)
    assert churn == rates
    with store.unit_of_work() as uow:
        indicators = satisfaction_indicators(
            add_years(as_of, -1),
            as_of,
            customers=list(uow.customers.iterate()),
            policies=list(uow.policies.iterate()),
            complaints=complaints,
            responses=responses,
            churns=churns,
        )
    assert outcome.totals.satisfaction == indicators
    # The totals count the rows.
    assert sum(outcome.totals.by_level.values()) == len(outcome.rows)
    assert outcome.totals.by_tier_change.get(TierChange.ENROL, 0) == sum(
        1 for r in outcome.rows if r.current_tier is None and r.tier_change is not None
    )
    assert outcome.totals.by_tier_change.get(None, 0) == sum(
        1 for r in outcome.rows if r.tier_change is None
    )
    return outcome


@pytest.mark.slow
@pytest.mark.parametrize("make_store", BACKENDS)
@EXAMPLES
@given(scenario=scenarios())
def test_the_engine_agrees_with_the_per_customer_rules(
    make_store: Callable[[], UnitOfWorkFactory], scenario: Scenario
) -> None:
    outcome = check_agreement(build(make_store(), scenario), scenario.as_of)
    _note(scenario, outcome)


LEAP_DAY = dt.date(2024, 2, 29)


def known_book(store: UnitOfWorkFactory) -> UnitOfWorkFactory:
    """A hand-made book as of 29 Feb 2024 with events exactly on the window boundaries:
    RFM window after 2021-03-01, repeat and credit windows after 2021-02-28 (29 Feb moved
    back three years), churn period after 2023-02-28."""
    store.handlers = EventHandlers()  # type: ignore[attr-defined]
    elsewhere = Holding("中国平安", ProductLine.MEDICAL, annual_premium=Money("500.00"))
    customers = (
        make_customer(
            "K1",
            "张伟",
            id_number=ResidentId("11010519491231002X"),
            agent_id="A1",
            lead_source=LeadSource.PERSONAL_VISIT,
            household_id="H1",
            holdings=(elsewhere,),
        ),
        make_customer("K2", "李娜", agent_id="A1"),
        make_customer("K3", "王芳"),
        make_customer("K4", "刘洋", referred_by="K1"),
        make_customer("K5", "陈静", referred_by="K1", lead_source=LeadSource.PHONE_SURVEY),
        make_customer("K6", "杨磊", household_id="H1"),
    )
    policies = (
        make_policy("P1", "K1", premium="1000.00")
        .activate(dt.date(2021, 2, 28))  # on the repeat and credit windows' start: outside
        .record_missed_premium(dt.date(2021, 2, 28))
        .renew(dt.date(2021, 3, 1))  # on the RFM window's start: outside it
        .record_missed_premium(dt.date(2021, 3, 1))
        .renew(LEAP_DAY, Money("1200.00"))  # on the date: inside
        .renew(dt.date(2024, 3, 1))  # after the date (same premium): not counted
        .record_missed_premium(dt.date(2024, 3, 1)),
        make_policy("P2", "K2", premium="300.00")
        .activate(dt.date(2023, 2, 28))  # in force at the end of the period's first day
        .surrender(dt.date(2023, 6, 1)),
        make_policy("P3", "K3", premium="400.00")
        .activate(dt.date(2020, 1, 1))
        .surrender(dt.date(2023, 2, 28)),  # ended on the period's first day: not counted
        make_policy("P4", "K4", premium="50.00").activate(dt.date(2022, 5, 5)),
        make_policy("P6", "K6", premium="80.00", campaign="春季促销")
        .activate(dt.date(2022, 1, 1))
        .cancel(dt.date(2023, 1, 1), EndReason.NON_PAYMENT),
    )
    with store.unit_of_work() as uow:
        uow.households.add(Household("H1"))
        for customer in customers:
            uow.customers.add(customer)
        for policy in policies:
            uow.policies.add(policy)
        uow.churns.add(ChurnRecord.record("K2", LEAP_DAY))  # on the date: in the period
        uow.churns.add(ChurnRecord.record("K3", dt.date(2023, 2, 28)))  # before the period
        # The early warning's window is after 2023-03-01, the one before after 2022-03-01.
        for n, day in enumerate(
            (dt.date(2023, 3, 1), LEAP_DAY, dt.date(2022, 3, 1), dt.date(2023, 3, 2))
        ):
            uow.complaints.add(make_complaint(f"KC{n}", "K1", day))  # 2 now, 1 before
        for n, day in enumerate(
            (dt.date(2023, 3, 2), LEAP_DAY, dt.date(2023, 3, 1), dt.date(2024, 3, 1))
        ):
            uow.interactions.add(make_interaction(f"KI{n}", "K1", day))  # 2 praise a rival
        top = dict.fromkeys(Dimension, Answer.VERY_SATISFIED)
        uow.surveys.add(attrs.evolve(make_response("KR1", "K1", dt.date(2023, 1, 1)), answers=top))
        uow.surveys.add(make_response("KR2", "K1", LEAP_DAY))  # 3.00 after 5.00
        uow.commit()
    review_tiers(store.unit_of_work(), dt.date(2023, 1, 1))
    return store


@pytest.mark.parametrize("make_store", BACKENDS)
@pytest.mark.parametrize("window_days", [30, 90, 182, 183, 365, 400])
def test_the_warning_windows_count_their_own_complaints(
    make_store: Callable[[], UnitOfWorkFactory], window_days: int
) -> None:
    """Complaints a day, a window, two windows and a year before the date: each counts in
    the window it falls in, whether two windows are shorter than the churn year or not."""
    store = make_store()
    as_of = dt.date(2024, 6, 30)
    window = dt.timedelta(days=window_days)
    days = [as_of - dt.timedelta(days=1), as_of - window, as_of - 2 * window + DAY_AFTER]
    days += [as_of - 2 * window, add_years(as_of, -1) + DAY_AFTER, add_years(as_of, -1)]
    with store.unit_of_work() as uow:
        uow.customers.add(make_customer("K1"))
        for n, day in enumerate(days):
            uow.complaints.add(make_complaint(f"KC{n}", "K1", day))
        uow.commit()
    config = AssessmentConfig(warning=WarningConfig(window_days=window_days))
    with store.unit_of_work() as uow:
        (figures,) = uow.portfolio.figures(AssessmentWindows.of(as_of, config), config)
        complaints = list(uow.complaints.iterate())
    expected = warning_figures("K1", as_of, complaints=complaints, config=config.warning)
    assert (figures.complaints, figures.complaints_before) == (
        expected.complaints,
        expected.complaints_before,
    )
    assert expected.complaints == sum(as_of - window < d <= as_of for d in days)
    assert expected.complaints_before == sum(as_of - 2 * window < d <= as_of - window for d in days)


@pytest.mark.parametrize("make_store", BACKENDS)
def test_amounts_in_another_currency_are_left_out_of_every_cny_figure(
    make_store: Callable[[], UnitOfWorkFactory],
) -> None:
    """No exchange rates: a USD 50,000 policy in force, bought and renewed, adds nothing to
    the premiums in CNY (RFM, in force, tier qualification, early warning), only to counts;
    a CNY one beside it counts in full."""
    store = make_store()
    start, as_of = dt.date(2023, 2, 1), dt.date(2024, 6, 30)
    usd = attrs.evolve(
        make_policy("PU", "C1", premium="1.00"),
        sum_assured=Money("500000.00", "USD"),
        annual_premium=Money("50000.00", "USD"),
        start_date=start,
    )
    cny = make_policy("PC", "C2", premium="12000.00")
    with store.unit_of_work() as uow:
        uow.customers.add(make_customer("C1"))
        uow.customers.add(make_customer("C2"))
        uow.policies.add(usd.activate(start).renew(dt.date(2024, 2, 1)))
        uow.policies.add(attrs.evolve(cny, start_date=start).activate(start))
        uow.commit()
    outcome = check_agreement(store, as_of)
    by_id = {f.customer_id: f for f in outcome.figures}
    dollars, yuan = by_id["C1"], by_id["C2"]
    assert (dollars.purchases, dollars.window_purchases, dollars.in_force) == (2, 2, 1)
    assert (dollars.window_premium, dollars.in_force_premium) == (Decimal(0), Decimal(0))
    assert dollars.warning_bought == dollars.warning_bought_before == Decimal(0)
    assert yuan.in_force_premium == yuan.window_premium == Decimal("12000.00")
    rows = {r.customer_id: r for r in outcome.rows}
    assert (rows["C1"].tier, rows["C1"].premium_in_force) == ("STANDARD", Decimal(0))
    assert (rows["C2"].tier, rows["C2"].premium_in_force) == ("SILVER", Decimal("12000.00"))


@pytest.mark.parametrize("make_store", BACKENDS)
def test_a_past_date_is_assessed_against_the_tiers_held_then(
    make_store: Callable[[], UnitOfWorkFactory],
) -> None:
    store = known_book(make_store())  # tiers reviewed on 2023-01-01
    with store.unit_of_work() as uow:
        then = {m.customer_id: m.tier for m in uow.tiers.iterate()}
    later = dt.date(2024, 9, 30)
    grant_customer_tier(  # K1 pinned two tiers up after the date assessed
        store.unit_of_work(), "K1", DEFAULT_LADDER.tiers[2].code, GrantKind.PIN, "人工授予", later,
        later + dt.timedelta(days=90),
    )  # fmt: skip
    review_tiers(store.unit_of_work(), later)
    with store.unit_of_work() as uow:
        now = {m.customer_id: m.tier for m in uow.tiers.iterate()}
    assert now != then  # the later changes moved someone
    past = assessed(store, LEAP_DAY)
    assert {r.customer_id: r.current_tier for r in past.rows} == {
        r.customer_id: then.get(r.customer_id) for r in past.rows
    }
    current = assessed(store, later)
    assert {r.customer_id: r.current_tier for r in current.rows} == {
        r.customer_id: now.get(r.customer_id) for r in current.rows
    }
    before = assessed(store, dt.date(2022, 12, 31))  # before anyone was enrolled
    assert {r.current_tier for r in before.rows} == {None}
    assert before.totals.by_tier_change == {TierChange.ENROL: len(before.rows)}


@pytest.mark.parametrize("make_store", BACKENDS)
def test_a_known_book_on_its_window_boundaries(
    make_store: Callable[[], UnitOfWorkFactory],
) -> None:
    outcome = check_agreement(known_book(make_store()), LEAP_DAY)
    figures = {f.customer_id: f for f in outcome.figures}
    assert figures["K1"] == AssessmentFigures(
        customer_id="K1",
        region="11",
        agent_id="A1",
        two_way_lead=True,
        purchases=3,
        first_purchase=dt.date(2021, 2, 28),
        last_purchase=LEAP_DAY,
        window_purchases=1,
        window_premium=Decimal("1200.00"),
        window_renewals=1,
        window_missed=0,
        recent_purchases=2,
        rewarded_purchases=0,
        credit_purchases=3,
        credit_missed=1,
        bad_endings=0,
        in_force=1,
        in_force_premium=Decimal("1200.00"),  # as renewed on the date
        elsewhere_premium=Decimal("500.00"),
        household_long_term=1,
        referrals=1,  # K4 (a buyer); K5 is registered the day after the date, and bought nothing
        referred_buyers=1,
        in_force_at_start=True,
        churned_in_period=False,
        current_tier="STANDARD",
        warning_bought=Decimal("1200.00"),
        warning_bought_before=Decimal("0.00"),
        complaints=2,
        complaints_before=1,
        praises=2,
        survey_last=Decimal("3.00"),
        survey_prior=Decimal("5.00"),
        last_purchase_ours=LEAP_DAY,
        served=True,
        bought_before_period=True,
        complained_in_period=True,  # on 2023-03-01, the period's second day
        period_sales=Decimal("1200.00"),  # the renewal on the date
        period_purchases=1,
        survey_experience=Decimal("3.00"),  # KR2, the latest that asked the expectation …
        survey_expectation=5,  # … VERY_SATISFIED: DISSATISFIED, so attachment is low
    )
    k2, k3, k5, k6 = (figures[k] for k in ("K2", "K3", "K5", "K6"))
    assert (k2.in_force_at_start, k2.churned_in_period, k2.in_force) == (True, True, 0)
    assert (k3.in_force_at_start, k3.churned_in_period) == (False, False)
    assert (k5.purchases, k5.two_way_lead, k5.region) == (0, True, None)
    assert (k6.bad_endings, k6.rewarded_purchases, k6.household_long_term) == (1, 1, 1)
    rows = {r.customer_id: r for r in outcome.rows}
    assert rows["K1"].loyalty_level is LoyaltyLevel.ADVOCATE
    assert rows["K1"].credit is CreditGrade.B  # one missed premium in the look-back
    assert rows["K5"].loyalty_level is LoyaltyLevel.PROSPECT
    assert rows["K5"].rfm_type is None
    assert rows["K6"].credit is CreditGrade.D
    assert rows["K6"].loyalty_type is LoyaltyType.NONE
    # Complaints increasing, a rival praised twice, the survey fell: 25 + 20 + 15.
    assert (rows["K1"].warning_score, rows["K1"].warning_level) == (60, WarningLevel.ALERT)
    # K3's last purchase (2020-01-01) is more than two years back: idle.
    assert (rows["K3"].warning_score, rows["K3"].warning_level) == (20, WarningLevel.WATCH)
    # K3 churned on 2023-02-28, the day P3 was surrendered: in force the day before.
    assert (k3.churn_on, k3.lost_premium) == (dt.date(2023, 2, 28), Decimal("400.00"))
    assert (k2.churn_on, k2.lost_premium) == (LEAP_DAY, Decimal("0.00"))  # ended 2023-06-01
    assert rows["K3"].win_back is WinBackStance.BASICALLY_GIVE_UP  # a small customer
    assert rows["K3"].win_back_recommended is False
    assert rows["K1"].win_back is None  # not churned
    satisfaction = outcome.totals.satisfaction
    assert satisfaction is not None
    # KR2 (on the date) praises us; KR1 is before the period.
    assert (satisfaction.reputation.numerator, satisfaction.reputation.denominator) == (1, 1)
    # Served: K1, K2 and K4 in force at the start; only K1 complained in the period.
    assert (satisfaction.complaint_rate.numerator, satisfaction.complaint_rate.denominator) == (
        1,
        3,
    )
    churn = outcome.totals.churn
    assert churn is not None
    # In force at the end of 2023-02-28: K1, K2 and K4 (K3 surrendered that day, K6 was
    # cancelled before); K2 churned in the period, K3's churn is before it.
    assert (churn.customers_at_start, churn.churned) == (3, 1)
    assert outcome.totals.by_region == {
        "11": GroupTotals(1, Decimal("1200.00"), 1),
        None: GroupTotals(5, Decimal("50.00"), 1),
    }


@pytest.mark.parametrize("make_store", BACKENDS)
def test_the_rows_can_be_read_only_once(make_store: Callable[[], UnitOfWorkFactory]) -> None:
    store = make_store()
    store.handlers = EventHandlers()  # type: ignore[attr-defined]
    as_of = dt.date(2024, 6, 30)
    generate_sample(store.unit_of_work(), customers=5, seed=1, as_of=as_of)
    assessment = assess_portfolio(store.unit_of_work(), as_of)
    rows = list(assessment)
    assert len(rows) == 5
    assert assessment.complete
    totals = assessment.totals
    with pytest.raises(StorageError):
        list(assessment)
    with pytest.raises(StorageError):
        next(iter(assessment))
    assert assessment.totals is totals
    assert totals.customers == 5


@pytest.mark.parametrize("make_store", BACKENDS)
def test_an_empty_store_on_every_backend(make_store: Callable[[], UnitOfWorkFactory]) -> None:
    as_of = dt.date(2024, 6, 30)
    assessment = assess_portfolio(make_store().unit_of_work(), as_of)
    assert assessment.customers == 0
    assert list(assessment) == []
    assert assessment.totals.customers == 0
    assert assessment.totals.churn is not None
    assert assessment.totals.churn.churn_rate is None
    assert assessment.totals.pareto is not None
    assert assessment.totals.pareto.share == 0
