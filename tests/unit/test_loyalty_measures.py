"""Loyalty measures (测量客户忠诚度标准, DOMAIN.md §4.1)."""

from __future__ import annotations

import datetime as dt

from hypothesis import given
from hypothesis import strategies as st

from insurcrm.domain.loyalty import Attitude, Sensitivity, measure_loyalty
from insurcrm.testing.contracts import make_policy

MET = dt.date(2020, 1, 1)


def test_repeat_purchases_and_selection_time() -> None:
    policy = (
        make_policy("P1", "C1")
        .activate(dt.date(2020, 3, 1))
        .renew(dt.date(2021, 3, 1))
        .renew(dt.date(2022, 3, 1))
    )
    measures = measure_loyalty(
        [policy],
        referrals=2,
        first_contact=MET,
        as_of=dt.date(2022, 6, 1),
        price_sensitivity=Sensitivity.LOW,
        competitor_attitude=Attitude.FAVOURS_US,
        quality_tolerance=Sensitivity.HIGH,
    )
    assert measures.repeat_purchases == 2
    assert measures.selection_days == 60  # 1 Jan → 1 Mar 2020
    assert measures.referrals == 2
    assert measures.price_sensitivity is Sensitivity.LOW
    assert measures.competitor_attitude is Attitude.FAVOURS_US
    assert measures.quality_tolerance is Sensitivity.HIGH


def test_purchases_after_the_assessment_date_are_ignored() -> None:
    policy = make_policy("P1", "C1").activate(dt.date(2020, 3, 1)).renew(dt.date(2021, 3, 1))
    measures = measure_loyalty([policy], 0, MET, as_of=dt.date(2021, 2, 28))
    assert measures.repeat_purchases == 0
    assert measures.selection_days == 60


def test_no_purchase_means_no_selection_time_and_no_repeat() -> None:
    measures = measure_loyalty([make_policy("P1", "C1")], 0, MET, as_of=dt.date(2024, 1, 1))
    assert (measures.repeat_purchases, measures.selection_days) == (0, None)
    assert measures.price_sensitivity is None


@given(renewals=st.integers(min_value=0, max_value=8))
def test_repeat_count_is_purchases_after_the_first(renewals: int) -> None:
    policy = make_policy("P1", "C1").activate(dt.date(2010, 1, 1))
    for year in range(renewals):
        policy = policy.renew(dt.date(2011 + year, 1, 1))
    measures = measure_loyalty([policy], 0, dt.date(2009, 12, 1), as_of=dt.date(2030, 1, 1))
    assert measures.repeat_purchases == renewals
