"""Portfolio assessment (DOMAIN.md §10.1): the windows, the rules applied to compact
figures (§1.3, §4.2, §4.3, §5.1–§5.3, §6), the streaming service on an empty store and
the CSV / JSON-lines output."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from insurcrm.adapters.memory import MemoryStore
from insurcrm.domain.assessment import (
    AssessmentConfig,
    AssessmentFigures,
    AssessmentRow,
    AssessmentStats,
    AssessmentWindows,
    TierChange,
    assess_figures,
    figures_of,
    region_of,
)
from insurcrm.domain.classification import CustomerFacts, SegmentationConfig
from insurcrm.domain.credit import CreditConfig, CreditGrade
from insurcrm.domain.customers import LeadSource
from insurcrm.domain.dates import add_years
from insurcrm.domain.loyalty import LoyaltyLevel, LoyaltyType, LoyaltyTypeConfig
from insurcrm.domain.policies import EndReason
from insurcrm.domain.rfm import RFM_TYPES, RfmConfig, RfmMeans, RfmSegment, segment_of
from insurcrm.domain.segmentation import QuadrantThresholds, RetentionClass, ValueQuadrant
from insurcrm.domain.tiers import DEFAULT_LADDER
from insurcrm.domain.values import Phone, ResidentId
from insurcrm.services.assessment import FORMATS, assess_portfolio, row_fields, write_rows
from insurcrm.testing.contracts import make_customer, make_policy

D = Decimal
AS_OF = dt.date(2024, 6, 30)
CONFIG = AssessmentConfig()
WINDOWS = AssessmentWindows.of(AS_OF, CONFIG)
#: Means R = 100 days, F = 2 purchases, M = 1000.00; both thresholds and the value median
#: at 1000.00 and a loyalty score of 0.5.
STATS = AssessmentStats(
    means=RfmMeans(customers=2, recency_total=200, frequency_total=4, monetary_total=D("2000.00")),
    thresholds=QuadrantThresholds(loyalty=D("0.5000"), profit=D("1000.00")),
    value_median=D("1000.00"),
)


def buyer(**changes: Any) -> AssessmentFigures:
    """An ACTIVE, INERTIA, credit-A customer qualifying for SILVER, exactly at every RFM
    mean (R 100 days, F 2, M 1000.00) and at every threshold."""
    figures = AssessmentFigures(
        customer_id="C1",
        region="11",
        agent_id="A1",
        two_way_lead=False,
        purchases=3,
        first_purchase=dt.date(2020, 1, 15),
        last_purchase=AS_OF - dt.timedelta(days=100),
        window_purchases=2,
        window_premium=D("1000.00"),
        window_renewals=1,
        window_missed=0,
        recent_purchases=2,
        rewarded_purchases=0,
        credit_purchases=3,
        credit_missed=0,
        bad_endings=0,
        in_force=1,
        in_force_premium=D("12000.00"),
        elsewhere_premium=D("0.00"),
        household_long_term=1,
        referrals=0,
        referred_buyers=0,
        in_force_at_start=True,
        churned_in_period=False,
        current_tier=None,
    )
    return figures._replace(**changes)


def prospect(**changes: Any) -> AssessmentFigures:
    """A customer without any purchase."""
    return buyer(
        purchases=0,
        first_purchase=None,
        last_purchase=None,
        window_purchases=0,
        window_premium=D("0.00"),
        window_renewals=0,
        recent_purchases=0,
        credit_purchases=0,
        in_force=0,
        in_force_premium=D("0.00"),
        household_long_term=0,
        in_force_at_start=False,
    )._replace(**changes)


def assess(figures: AssessmentFigures, stats: AssessmentStats = STATS) -> AssessmentRow:
    return assess_figures(figures, stats, AS_OF, CONFIG)


# -- windows ---------------------------------------------------------------------------------------


class TestWindows:
    def test_default_windows_on_a_leap_day(self) -> None:
        as_of = dt.date(2024, 2, 29)
        windows = AssessmentWindows.of(as_of, AssessmentConfig())
        assert windows.as_of == as_of
        assert windows.rfm_since == as_of - dt.timedelta(days=1095) == dt.date(2021, 3, 1)
        assert windows.repeat_since == dt.date(2021, 2, 28)  # add_years: 29 Feb → 28 Feb
        assert windows.credit_since == dt.date(2021, 2, 28)
        assert windows.period_start == dt.date(2023, 2, 28)

    def test_windows_follow_the_configuration(self) -> None:
        config = AssessmentConfig(
            SegmentationConfig(
                rfm=RfmConfig(window_days=30),
                types=LoyaltyTypeConfig(repeat_window_years=5),
                credit=CreditConfig(lookback_years=2),
            )
        )
        windows = AssessmentWindows.of(AS_OF, config)
        assert windows.rfm_since == dt.date(2024, 5, 31)
        assert windows.repeat_since == dt.date(2019, 6, 30)
        assert windows.credit_since == dt.date(2022, 6, 30)
        assert windows.period_start == dt.date(2023, 6, 30) == add_years(AS_OF, -1)

    def test_each_window_is_open_at_its_start_and_closed_at_the_date(self) -> None:
        """A purchase on ``rfm_since`` is outside the RFM window, one a day later inside,
        one on the date inside and one after the date not counted at all."""
        since = WINDOWS.rfm_since
        policy = (
            make_policy("P1", "C1", premium="100.00")
            .activate(since)
            .renew(since + dt.timedelta(days=1))
            .renew(AS_OF)
            .renew(AS_OF + dt.timedelta(days=1))
            .record_missed_premium(since)
            .record_missed_premium(AS_OF)
        )
        facts = CustomerFacts(make_customer("C1"), (policy,))
        f = figures_of(facts, WINDOWS, CONFIG)
        assert f.purchases == 3
        assert f.first_purchase == since
        assert f.last_purchase == AS_OF
        assert f.window_purchases == 2
        assert f.window_renewals == 2
        assert f.window_premium == D("200.00")
        assert f.window_missed == 1
        assert f.credit_missed == 2  # the credit look-back (3 years) reaches further back
        assert f.in_force == 1
        assert f.in_force_at_start


def test_region_is_the_province_code_of_the_id_number() -> None:
    assert region_of("11010519491231002X") == "11"
    assert region_of("440305199001011234") == "44"
    assert region_of(None) is None
    assert region_of("") is None


# -- examples of the rules -------------------------------------------------------------------------


class TestExamples:
    def test_the_reference_buyer(self) -> None:
        row = assess(buyer())
        assert row.loyalty_level is LoyaltyLevel.ACTIVE
        assert row.loyalty_type is LoyaltyType.INERTIA
        assert row.credit is CreditGrade.A
        assert row.rfm_type == 5  # R↑ F↑ M↑: every value exactly at its mean
        assert row.rfm_segment is RfmSegment.KEY_RETENTION
        assert row.quadrant is ValueQuadrant.TRUE_FRIEND  # at both thresholds: high
        assert row.retention is RetentionClass.III  # value at the median, no potential
        assert row.tier == "SILVER"
        assert row.tier_change is TierChange.ENROL
        assert (row.premium, row.premium_in_force) == (D("1000.00"), D("12000.00"))
        assert (row.customer_id, row.region, row.agent_id) == ("C1", "11", "A1")

    @pytest.mark.parametrize("two_way", [True, False])
    def test_a_prospect_is_not_value_segmented(self, two_way: bool) -> None:
        row = assess(prospect(two_way_lead=two_way))
        expected = LoyaltyLevel.PROSPECT if two_way else LoyaltyLevel.ORDINARY_BUYER
        assert row.loyalty_level is expected
        assert row.loyalty_type is LoyaltyType.NONE
        assert row.credit is None
        assert (row.rfm_type, row.rfm_segment, row.quadrant, row.retention) == (None,) * 4
        assert row.tier == "STANDARD"
        assert row.premium == D("0.00")

    def test_cover_elsewhere_and_a_referral_do_not_make_a_prospect_value_segmented(self) -> None:
        row = assess(prospect(elsewhere_premium=D("5000.00"), referrals=2, referred_buyers=1))
        assert row.rfm_type is None
        assert row.retention is None
        assert row.loyalty_level is LoyaltyLevel.ORDINARY_BUYER

    @pytest.mark.parametrize("purchases", [0, 1, 5])
    def test_credit_is_d_after_a_bad_ending(self, purchases: int) -> None:
        row = assess(buyer(bad_endings=1, credit_purchases=purchases))
        assert row.credit is CreditGrade.D
        assert row.tier == "STANDARD"  # every higher tier wants credit B or better

    @pytest.mark.parametrize(
        ("purchases", "missed", "grade"),
        [
            (3, 0, CreditGrade.A),
            (2, 0, CreditGrade.B),
            (3, 1, CreditGrade.B),
            (1, 2, CreditGrade.C),
        ],
    )
    def test_credit_grades(self, purchases: int, missed: int, grade: CreditGrade) -> None:
        assert assess(buyer(credit_purchases=purchases, credit_missed=missed)).credit is grade

    @pytest.mark.parametrize(
        ("changes", "arrows"),
        [
            ({}, (True, True, True)),
            ({"last_purchase": AS_OF - dt.timedelta(days=99)}, (False, True, True)),
            ({"last_purchase": AS_OF - dt.timedelta(days=101)}, (True, True, True)),
            ({"window_purchases": 1}, (True, False, True)),
            ({"window_purchases": 3}, (True, True, True)),
            ({"window_premium": D("999.99")}, (True, True, False)),
            ({"window_premium": D("1000.01")}, (True, True, True)),
        ],
    )
    def test_a_value_equal_to_the_mean_is_up(
        self, changes: dict[str, Any], arrows: tuple[bool, bool, bool]
    ) -> None:
        row = assess(buyer(**changes))
        assert row.rfm_type == RFM_TYPES[arrows]

    def test_a_mean_that_is_not_a_whole_number_is_compared_exactly(self) -> None:
        # Mean M = 1000.00 / 3 = 333.333…: 333.33 is below it, 333.34 above.
        stats = AssessmentStats(
            RfmMeans(3, 300, 6, D("1000.00")), STATS.thresholds, STATS.value_median
        )
        assert assess(buyer(window_premium=D("333.33")), stats).rfm_type == 6  # ↑ ↑ ↓
        assert assess(buyer(window_premium=D("333.34")), stats).rfm_type == 5  # ↑ ↑ ↑

    def test_type_four_splits_new_and_old_customers(self) -> None:
        low = {"last_purchase": AS_OF, "window_purchases": 1, "window_premium": D("10.00")}
        old = assess(buyer(**low))
        new = assess(buyer(**low, first_purchase=AS_OF - dt.timedelta(days=364)))
        assert old.rfm_type == new.rfm_type == 4
        assert old.rfm_segment is RfmSegment.NO_VALUE
        assert new.rfm_segment is RfmSegment.KEY_DEVELOPMENT

    @pytest.mark.parametrize(
        ("current", "change"),
        [
            (None, TierChange.ENROL),
            ("RETIRED", TierChange.ENROL),  # a tier the ladder no longer has
            ("STANDARD", TierChange.UPGRADE),
            ("SILVER", TierChange.KEEP),
            ("GOLD", TierChange.AT_RISK),
            ("PLATINUM", TierChange.AT_RISK),
        ],
    )
    def test_tier_change(self, current: str | None, change: TierChange) -> None:
        row = assess(buyer(current_tier=current))
        assert row.tier == "SILVER"
        assert row.current_tier == current
        assert row.tier_change is change

    @pytest.mark.parametrize("current", [None, "STANDARD", "SILVER", "GOLD"])
    def test_no_tier_change_is_due_for_an_erased_customer(self, current: str | None) -> None:
        row = assess(buyer(current_tier=current, erased=True))
        assert row.tier == "SILVER"  # still worked out, for the totals
        assert row.current_tier == current
        assert row.tier_change is None

    def test_gold_needs_two_policies_in_force(self) -> None:
        gold = {"in_force_premium": D("30000.00"), "current_tier": "GOLD"}
        assert assess(buyer(**gold)).tier == "SILVER"
        row = assess(buyer(**gold, in_force=2))
        assert row.tier == "GOLD"
        assert row.tier_change is TierChange.KEEP

    def test_growth_potential_makes_class_four(self) -> None:
        assert assess(buyer(elsewhere_premium=D("1.00"))).retention is RetentionClass.IV
        assert assess(buyer(referred_buyers=1)).retention is RetentionClass.IV
        low = buyer(window_premium=D("999.99"))
        assert assess(low).retention is RetentionClass.I
        assert assess(low._replace(referred_buyers=1)).retention is RetentionClass.II

    def test_ladder_levels(self) -> None:
        assert assess(buyer(referred_buyers=1)).loyalty_level is LoyaltyLevel.ADVOCATE
        five_years = buyer(referred_buyers=3, first_purchase=dt.date(2019, 6, 30))
        assert assess(five_years).loyalty_level is LoyaltyLevel.PARTNER
        four_years = buyer(referred_buyers=3, first_purchase=dt.date(2019, 7, 1))
        assert assess(four_years).loyalty_level is LoyaltyLevel.ADVOCATE
        assert assess(buyer(in_force=0)).loyalty_level is LoyaltyLevel.GENERAL
        once = buyer(
            purchases=1,
            first_purchase=AS_OF - dt.timedelta(days=100),
            window_purchases=1,
            window_renewals=0,
            recent_purchases=1,
            credit_purchases=1,
        )
        assert assess(once).loyalty_level is LoyaltyLevel.GENERAL
        three_years = add_years(AS_OF, -3)
        assert assess(buyer(last_purchase=three_years)).loyalty_level is LoyaltyLevel.GENERAL
        just_within = buyer(last_purchase=three_years + dt.timedelta(days=1))
        assert assess(just_within).loyalty_level is LoyaltyLevel.ACTIVE

    def test_incentive_loyalty(self) -> None:
        assert assess(buyer(rewarded_purchases=2)).loyalty_type is LoyaltyType.INCENTIVE
        assert assess(buyer(rewarded_purchases=1)).loyalty_type is LoyaltyType.INERTIA
        assert assess(buyer(recent_purchases=1)).loyalty_type is LoyaltyType.NONE


# -- properties ------------------------------------------------------------------------------------

TIER_CODES = (None, *DEFAULT_LADDER.codes, "RETIRED")
DAYS = st.integers(min_value=0, max_value=20 * 365)


def _cents(low: int, high: int) -> st.SearchStrategy[Decimal]:
    return st.integers(min_value=low, max_value=high).map(lambda c: Decimal(c).scaleb(-2))


def _inside(draw: st.DrawFn, purchases: int, first: dt.date, last: dt.date, since: dt.date) -> int:
    """How many of ``purchases`` (first to last) can fall after ``since``."""
    if last <= since:
        return 0
    if first > since:
        return purchases
    return draw(st.integers(min_value=1, max_value=purchases - 1))


@st.composite
def assessment_figures(
    draw: st.DrawFn,
    *,
    bought: bool | None = None,
    in_window: bool = False,
    in_force: bool | None = None,
) -> AssessmentFigures:
    """Consistent figures as of :data:`AS_OF` (with :data:`WINDOWS`): counts in a window
    are at most the counts up to the date, amounts are zero without purchases, in-force
    policies come with purchases of ours, referred buyers are among the referrals.

    Args:
        bought: with purchases (True), without (False) or either.
        in_window: the latest purchase falls in the RFM window.
        in_force: with policies of ours in force (implies purchases) or either.
    """
    if bought is None:
        bought = True if in_force else draw(st.booleans())
    common = {
        "customer_id": draw(st.sampled_from(("C1", "C000042", "X-1"))),
        "region": draw(st.none() | st.sampled_from(("11", "31", "44", "65"))),
        "agent_id": draw(st.none() | st.sampled_from(("A1", "A2"))),
        "two_way_lead": draw(st.booleans()),
        "window_missed": draw(st.integers(0, 4)),
        "credit_missed": draw(st.sampled_from((0, 0, 0, 1, 2, 4))),
        "bad_endings": draw(st.sampled_from((0,) * 8 + (1, 2))),
        "elsewhere_premium": draw(st.just(D("0.00")) | _cents(0, 20_000_000)),
        "churned_in_period": draw(st.booleans()),
        "current_tier": draw(st.sampled_from(TIER_CODES)),
        "favours_us": draw(st.booleans()),
        "cooperation_partner": draw(st.booleans()),
    }
    judged = draw(st.booleans())  # a survey response that asked the expectation
    if judged:
        expectation = draw(st.integers(1, 5))
        # often on a tolerance's boundary (the batch tests draw 0, 0.01, 0.25, … 3.33)
        gap = draw(st.sampled_from((-333, -100, -50, -25, -1, 0, 1, 25)) | st.integers(-400, 400))
        common["survey_experience"] = D(min(500, max(100, expectation * 100 + gap))).scaleb(-2)
        common["survey_expectation"] = expectation
    else:
        common["favours_us"] = False
    referrals = draw(st.integers(0, 5))
    common["referrals"] = referrals
    common["referred_buyers"] = draw(st.integers(0, referrals))
    if not bought:
        return AssessmentFigures(
            **common,
            contacted=draw(st.booleans()),
            purchases=0,
            first_purchase=None,
            last_purchase=None,
            window_purchases=0,
            window_premium=D("0.00"),
            window_renewals=0,
            recent_purchases=0,
            rewarded_purchases=0,
            credit_purchases=0,
            in_force=0,
            in_force_premium=D("0.00"),
            household_long_term=draw(st.integers(0, 3)),  # policies of other members
            in_force_at_start=False,
        )
    if in_window:
        last = AS_OF - dt.timedelta(
            days=draw(st.integers(0, CONFIG.segmentation.rfm.window_days - 1))
        )
    else:
        last = AS_OF - dt.timedelta(days=draw(DAYS))
    first = last - dt.timedelta(days=draw(st.just(0) | DAYS))
    purchases = draw(st.integers(min_value=1 if first == last else 2, max_value=12))
    window = _inside(draw, purchases, first, last, WINDOWS.rfm_since)
    credit_purchases = draw(st.integers(1 if in_force else 0, purchases))
    if in_force is None:
        in_force = credit_purchases > 0 and draw(st.booleans())
    held = draw(st.integers(1, max(1, credit_purchases))) if in_force else 0
    return AssessmentFigures(
        **common,
        purchases=purchases,
        first_purchase=first,
        last_purchase=last,
        window_purchases=window,
        window_premium=_cents_or_zero(draw, window, 50_000_000),
        window_renewals=draw(st.integers(0, window)),
        recent_purchases=_inside(draw, purchases, first, last, WINDOWS.repeat_since),
        rewarded_purchases=draw(st.integers(0, purchases)),
        credit_purchases=credit_purchases,
        in_force=held,
        in_force_premium=_cents_or_zero(draw, held, 30_000_000),
        household_long_term=draw(st.integers(0, held + 3)),
        in_force_at_start=draw(st.booleans()),
    )


def _cents_or_zero(draw: st.DrawFn, count: int, high: int) -> Decimal:
    if count == 0:
        return D("0.00")
    return draw(st.sampled_from((D("10000.00"), D("30000.00"), D("100000.00"))) | _cents(0, high))


@st.composite
def assessment_stats(draw: st.DrawFn) -> AssessmentStats:
    """Any portfolio statistics (including those of an empty portfolio)."""
    customers = draw(st.integers(0, 50))
    scale = max(customers, 1)
    return AssessmentStats(
        means=RfmMeans(
            customers,
            draw(st.integers(0, 4000 * scale)),
            draw(st.integers(0, 10 * scale)),
            draw(_cents(0, 10_000_000 * scale)),
        ),
        thresholds=QuadrantThresholds(
            loyalty=draw(st.integers(0, 10_000).map(lambda n: Decimal(n).scaleb(-4))),
            profit=draw(_cents(0, 10_000_000)),
        ),
        value_median=draw(_cents(0, 10_000_000)),
    )


@given(assessment_figures(), assessment_stats())
def test_every_figures_get_a_valid_row(f: AssessmentFigures, stats: AssessmentStats) -> None:
    row = assess(f, stats)
    assert row._fields == row_fields()
    assert (row.customer_id, row.region, row.agent_id) == (f.customer_id, f.region, f.agent_id)
    assert (row.current_tier, row.churned_in_period) == (f.current_tier, f.churned_in_period)
    assert (row.premium, row.premium_in_force) == (f.window_premium, f.in_force_premium)
    assert isinstance(row.loyalty_level, LoyaltyLevel)
    # Without given signals (no alternative, convenience, constraints, price), only these
    # types can be derived; attachment alone decides PREMIUM and LATENT.
    attached = (
        f.survey_experience is not None
        and f.survey_expectation is not None
        and f.survey_experience >= f.survey_expectation  # the default tolerance: 0
        and (f.referrals >= 1 or f.favours_us)
    )
    if attached:
        assert row.loyalty_type in {LoyaltyType.PREMIUM, LoyaltyType.LATENT}
    else:
        assert row.loyalty_type in {LoyaltyType.NONE, LoyaltyType.INERTIA, LoyaltyType.INCENTIVE}
    if f.bad_endings:
        assert row.credit is CreditGrade.D
    elif f.credit_purchases == 0:
        assert row.credit is None
    else:
        assert row.credit in {CreditGrade.A, CreditGrade.B, CreditGrade.C}
    if f.purchases == 0:
        assert row.loyalty_level in {LoyaltyLevel.ORDINARY_BUYER, LoyaltyLevel.PROSPECT}
        assert (row.loyalty_level is LoyaltyLevel.PROSPECT) == (f.two_way_lead or f.contacted)
        assert (row.rfm_type, row.rfm_segment, row.quadrant, row.retention) == (None,) * 4
    else:
        assert row.loyalty_level.rank >= LoyaltyLevel.GENERAL.rank
        assert row.rfm_type is not None
        assert row.rfm_type in range(1, 9)
        assert f.first_purchase is not None
        is_new = (AS_OF - f.first_purchase).days < CONFIG.segmentation.rfm.new_customer_days
        assert row.rfm_segment is segment_of(row.rfm_type, is_new)
        assert isinstance(row.quadrant, ValueQuadrant)
        assert isinstance(row.retention, RetentionClass)
        high_value = row.retention in {RetentionClass.III, RetentionClass.IV}
        assert high_value == (f.window_premium >= stats.value_median)
        profitable = row.quadrant in {ValueQuadrant.TRUE_FRIEND, ValueQuadrant.BUTTERFLY}
        assert profitable == (f.window_premium >= stats.thresholds.profit)
    assert row.tier in DEFAULT_LADDER.codes
    qualifying = DEFAULT_LADDER.index(row.tier)
    if f.current_tier not in DEFAULT_LADDER.codes:
        assert row.tier_change is TierChange.ENROL
    else:
        held = DEFAULT_LADDER.index(f.current_tier)
        expected = (
            TierChange.UPGRADE
            if qualifying > held
            else TierChange.AT_RISK
            if qualifying < held
            else TierChange.KEEP
        )
        assert row.tier_change is expected
    if f.in_force == 0 or f.bad_endings:
        assert row.tier == "STANDARD"
    assert assess(f, stats) == row  # deterministic


@given(
    assessment_figures(bought=True),
    st.integers(min_value=1, max_value=60),
    st.tuples(*(st.sampled_from((-1, 0, 1)),) * 3),
    st.integers(min_value=1, max_value=500),
)
def test_a_value_equal_to_the_mean_is_up_and_only_a_lower_one_is_down(
    f: AssessmentFigures, customers: int, sides: tuple[int, int, int], step: int
) -> None:
    """Means set just above (+1), at (0) or just below (−1) the customer's own R, F and M
    (as totals over ``customers``): ↑ exactly when the value is not below the mean."""
    assert f.last_purchase is not None
    recency = (AS_OF - f.last_purchase).days
    r_side, f_side, m_side = sides
    means = RfmMeans(
        customers,
        max(0, recency * customers + r_side * step),
        max(0, f.window_purchases * customers + f_side * step),
        max(D("0.00"), f.window_premium * customers + m_side * D(step).scaleb(-2)),
    )
    stats = AssessmentStats(means, STATS.thresholds, STATS.value_median)
    arrows = tuple(side <= 0 for side in sides)
    assert assess(f, stats).rfm_type == RFM_TYPES[arrows]  # type: ignore[index]
    if sides == (0, 0, 0):
        assert assess(f, stats).rfm_type == 5  # every value exactly at its mean: ↑ ↑ ↑


@given(
    assessment_figures(in_force=True),
    _cents(1, 20_000_000),
    st.sampled_from((D("0.01"), D("10000.00"), D("30000.00"), D("100000.00"))),
)
def test_more_premium_in_force_never_lowers_the_tier(
    f: AssessmentFigures, more: Decimal, threshold: Decimal
) -> None:
    for raised in (f.in_force_premium + more, max(f.in_force_premium, threshold)):
        before = assess(f)
        after = assess(f._replace(in_force_premium=raised))
        assert DEFAULT_LADDER.index(after.tier) >= DEFAULT_LADDER.index(before.tier)


@given(
    assessment_figures(bought=True, in_window=True),
    assessment_stats(),
    _cents(1, 20_000_000),
)
def test_more_premium_in_the_window_keeps_a_high_value_customer_high(
    f: AssessmentFigures, stats: AssessmentStats, more: Decimal
) -> None:
    high = {RetentionClass.III, RetentionClass.IV}
    before = assess(f, stats)
    after = assess(f._replace(window_premium=f.window_premium + more), stats)
    assert after.retention is not None
    if before.retention in high:
        assert after.retention in high
    # Growth potential does not depend on the premium of the window.
    potential = {RetentionClass.II, RetentionClass.IV}
    assert (after.retention in potential) == (before.retention in potential)


# -- the service on an empty store -----------------------------------------------------------------


def test_an_empty_portfolio_gives_no_rows_and_empty_totals() -> None:
    assessment = assess_portfolio(MemoryStore().unit_of_work(), AS_OF)
    assert assessment.customers == 0
    assert assessment.stats.means == RfmMeans(0, 0, 0, D("0.00"))
    assert assessment.stats.value_median == 0
    assert not assessment.complete
    assert list(assessment) == []
    assert assessment.complete
    totals = assessment.totals
    assert totals.customers == 0
    assert totals.by_level == {}
    assert totals.by_region == {}
    assert totals.by_agent == {}
    assert totals.churn is not None
    assert totals.churn.customers_at_start == totals.churn.churned == 0
    assert totals.churn.churn_rate is None
    assert totals.churn.retention_rate is None
    assert totals.churn.start == add_years(AS_OF, -1)
    assert totals.churn.end == AS_OF
    assert totals.pareto is not None
    assert totals.pareto.customers == 0
    assert totals.pareto.share == 0


def test_progress_is_reported_on_both_passes() -> None:
    store = MemoryStore()
    with store.unit_of_work() as uow:
        uow.customers.add(make_customer("C1"))
        uow.customers.add(make_customer("C2", "李娜"))
        uow.commit()
    calls: list[tuple[int, int]] = []
    assessment = assess_portfolio(
        store.unit_of_work(), AS_OF, progress=lambda done, total: calls.append((done, total))
    )
    assert calls[-1] == (2, 2)
    calls.clear()
    assert [r.customer_id for r in assessment] == ["C1", "C2"]
    assert calls == [(2, 2)]
    assert assessment.totals.customers == 2


# -- output ----------------------------------------------------------------------------------------

NAME = "欧阳娜娜"
ID_NUMBER = "11010519491231002X"
MOBILE = "13812345678"


def _written(fmt: str) -> tuple[str, list[AssessmentRow]]:
    """A small book (a buyer with an ID number, a prospect, a customer cancelled for
    fraud), assessed and written in ``fmt``."""
    store = MemoryStore()
    with store.unit_of_work() as uow:
        uow.customers.add(
            make_customer(
                "C1",
                NAME,
                id_number=ResidentId(ID_NUMBER),
                mobile=Phone.parse(MOBILE),
                agent_id="A7",
            )
        )
        uow.customers.add(
            make_customer("C2", "李娜", lead_source=LeadSource.PERSONAL_VISIT, referred_by="C1")
        )
        uow.customers.add(make_customer("C3", "王芳"))
        uow.policies.add(
            make_policy("P1", "C1", premium="1234.56")
            .activate(dt.date(2024, 3, 1))
            .record_missed_premium(dt.date(2024, 5, 1))
        )
        uow.policies.add(
            make_policy("P2", "C3", premium="99.90")
            .activate(dt.date(2024, 3, 1))
            .cancel(dt.date(2024, 4, 1), EndReason.FRAUD)
        )
        uow.commit()
    assessment = assess_portfolio(store.unit_of_work(), AS_OF)
    rows = list(assessment)
    out = io.StringIO()
    assert write_rows(iter(rows), out, fmt) == 3
    return out.getvalue(), rows


def _no_personal_data(text: str) -> None:
    for secret in (NAME, "李娜", "王芳", ID_NUMBER, ID_NUMBER[:6], MOBILE):
        assert secret not in text


def test_csv_output() -> None:
    text, rows = _written("csv")
    _no_personal_data(text)
    lines = list(csv.reader(io.StringIO(text)))
    assert tuple(lines[0]) == row_fields() == AssessmentRow._fields
    records = [dict(zip(lines[0], line, strict=True)) for line in lines[1:]]
    assert [r["customer_id"] for r in records] == ["C1", "C2", "C3"]
    c1, c2, c3 = records
    assert c1["region"] == "11"
    assert c1["agent_id"] == "A7"
    assert c1["loyalty_level"] == rows[0].loyalty_level.name == "GENERAL"
    assert c1["loyalty_type"] == "NONE"
    assert c1["credit"] == "B"  # one purchase, one missed premium
    assert c1["rfm_segment"] == rows[0].rfm_segment.name  # type: ignore[union-attr]
    assert c1["quadrant"] in {q.name for q in ValueQuadrant}
    assert c1["retention"] in {r.name for r in RetentionClass}
    assert c1["tier"] == "STANDARD"
    assert c1["current_tier"] == ""
    assert c1["tier_change"] == "ENROL"
    assert c1["premium"] == "1234.56"
    assert c1["premium_in_force"] == "1234.56"
    assert c1["churned_in_period"].lower() == "false"
    assert c2["loyalty_level"] == "PROSPECT"
    assert (c2["region"], c2["agent_id"], c2["credit"]) == ("", "", "")
    assert (c2["rfm_type"], c2["rfm_segment"], c2["quadrant"], c2["retention"]) == ("",) * 4
    assert (c2["premium"], c2["premium_in_force"]) == ("0.00", "0.00")
    assert c3["credit"] == "D"
    assert c3["premium"] == "99.90"
    assert c3["premium_in_force"] == "0.00"


def test_json_lines_output() -> None:
    text, rows = _written("json")
    _no_personal_data(text)
    assert text.endswith("\n")
    records = [json.loads(line) for line in text.splitlines()]
    assert len(records) == 3
    for record, row in zip(records, rows, strict=True):
        assert tuple(record) == row_fields()
        assert record["customer_id"] == row.customer_id
        assert record["loyalty_level"] == row.loyalty_level.name
        assert row.tier_change is not None
        assert record["tier_change"] == row.tier_change.name
        assert record["premium"] == str(row.premium)
        assert isinstance(record["churned_in_period"], bool)
    c1, c2, c3 = records
    assert c1["region"] == "11"
    assert isinstance(c1["rfm_type"], int)
    assert c1["premium"] == "1234.56"
    assert c2["loyalty_level"] == "PROSPECT"
    assert c2["rfm_type"] is None
    assert c2["credit"] is None
    assert c2["region"] is None
    assert c2["premium"] == "0.00"
    assert c3["credit"] == "D"
    assert c3["premium"] == "99.90"


def test_unknown_format_is_refused() -> None:
    assert FORMATS == ("csv", "json")
    with pytest.raises(ValueError, match="format"):
        write_rows(iter([]), io.StringIO(), "xml")
