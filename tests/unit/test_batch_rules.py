"""The batch rules (numpy columns) give exactly the rows and totals of the per-customer
rules, for any figures, statistics and configuration."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from hypothesis import given
from hypothesis import strategies as st

from insurcrm.domain.assessment import (
    AssessmentConfig,
    AssessmentFigures,
    AssessmentStats,
    AssessmentTotals,
    Assessor,
)
from insurcrm.domain.churn import ChurnCause, ChurnStructure
from insurcrm.domain.classification import SegmentationConfig
from insurcrm.domain.credit import CreditConfig
from insurcrm.domain.early_warning import WarningConfig
from insurcrm.domain.figure_batch import FigureBatch
from insurcrm.domain.loyalty import LoyaltyTypeConfig, SatisfactionConfig
from insurcrm.domain.segmentation import QuadrantConfig
from insurcrm.services.batch_rules import BatchAssessor
from tests.unit.test_assessment import (
    AS_OF,
    _cents,
    assessment_figures,
    assessment_stats,
)

D = Decimal
SURVEY = st.none() | st.integers(10, 50).map(lambda n: D(n).scaleb(-1))


@st.composite
def full_figures(draw: st.DrawFn) -> AssessmentFigures:
    """:func:`assessment_figures` with the early warning's and the recovery's figures."""
    f = draw(assessment_figures())
    churned = draw(st.booleans())
    return f._replace(
        warning_bought=draw(st.just(D("0.00")) | _cents(0, 5_000_000)),
        warning_bought_before=draw(st.just(D("0.00")) | _cents(0, 5_000_000)),
        complaints=draw(st.integers(0, 3)),
        complaints_before=draw(st.integers(0, 3)),
        praises=draw(st.integers(0, 3)),
        declining_noted=draw(st.integers(0, 2)),
        strategy_noted=draw(st.integers(0, 1)),
        ownership_noted=draw(st.integers(0, 1)),
        survey_last=draw(SURVEY),
        survey_prior=draw(SURVEY),
        last_purchase_ours=f.last_purchase if draw(st.booleans()) else None,
        churn_id="K1" if churned else None,
        churn_on=AS_OF - dt.timedelta(days=draw(st.integers(0, 400))) if churned else None,
        churn_structure=draw(st.none() | st.sampled_from([s.name for s in ChurnStructure])),
        churn_causes=tuple(
            draw(st.lists(st.sampled_from([c.name for c in ChurnCause]), max_size=2))
        ),
        lost_premium=draw(_cents(0, 10_000_000)),
        served=draw(st.booleans()),
        bought_before_period=draw(st.booleans()),
        bought_new_in_period=draw(st.booleans()),
        complained_in_period=draw(st.booleans()),
        referred_in_period=draw(st.booleans()),
        period_sales=draw(_cents(0, 1_000_000)),
        period_purchases=draw(st.integers(0, 3)),
        erased=draw(st.booleans()),
    )


def _weights(draw: st.DrawFn) -> QuadrantConfig:
    share = draw(st.integers(0, 1000))
    continuity = draw(st.integers(0, 1000 - share))
    return QuadrantConfig(
        share_weight=D(share).scaleb(-3),
        continuity_weight=D(continuity).scaleb(-3),
        default_weight=D(1000 - share - continuity).scaleb(-3),
    )


@st.composite
def configs(draw: st.DrawFn) -> AssessmentConfig:
    """The default rules, rules with other weights, shares and thresholds, or fractions
    written with many decimal places (trailing zeros, thirds to 28 places, a float's)."""
    kind = draw(st.sampled_from(("default", "other", "long")))
    if kind == "default":
        return AssessmentConfig()
    if kind == "long":
        third = D("0.3333333333333333333333333333")
        weights = draw(
            st.sampled_from(
                (
                    (D("0.400000000000000"), D("0.400000000000000"), D("0.200000000000000")),
                    (third, third, 1 - 2 * third),
                )
            )
        )
        drop = draw(st.sampled_from((D("0.20000000000000000"), D(0.2), D(1) / 3)))
        return AssessmentConfig(
            segmentation=SegmentationConfig(quadrant=QuadrantConfig(*weights)),
            warning=WarningConfig(purchase_drop=drop),
        )
    return AssessmentConfig(
        segmentation=SegmentationConfig(
            quadrant=_weights(draw),
            types=LoyaltyTypeConfig(
                repeat_min_purchases=draw(st.integers(1, 4)),
                incentive_min_share=D(draw(st.integers(0, 100))).scaleb(-2),
                attachment_min_referrals=draw(st.integers(1, 3)),
                satisfaction=SatisfactionConfig(
                    tolerance=D(draw(st.sampled_from((0, 1, 25, 50, 100, 333)))).scaleb(-2)
                ),
            ),
            credit=CreditConfig(a_min_purchases=draw(st.integers(1, 6))),
        ),
        warning=WarningConfig(
            purchase_drop=D(draw(st.integers(0, 1000))).scaleb(-3),
            praise_repeats=draw(st.integers(1, 3)),
        ),
    )


@given(
    st.lists(full_figures(), max_size=12),
    assessment_stats(),
    configs(),
    st.sampled_from((AS_OF, dt.date(2024, 2, 29), dt.date(2023, 2, 28))),
)
def test_the_batch_rules_give_the_per_customer_rows_and_totals(
    figures: list[AssessmentFigures],
    stats: AssessmentStats,
    config: AssessmentConfig,
    as_of: dt.date,
) -> None:
    one = Assessor(stats, as_of, config)
    expected = [one(f) for f in figures]
    want = AssessmentTotals(as_of)
    for row, f in zip(expected, figures, strict=True):
        want.add(row, f)
    batches = BatchAssessor(as_of, config)
    got = AssessmentTotals(as_of)
    rows = list(batches.rows(batches.first(FigureBatch.of(figures)), stats, got))
    assert rows == expected
    assert [tuple(map(str, r)) for r in rows] == [tuple(map(str, r)) for r in expected]
    assert got == want


@given(st.lists(full_figures(), max_size=12))
def test_a_figure_batch_holds_the_figures_exactly(figures: list[AssessmentFigures]) -> None:
    batch = FigureBatch.of(figures)
    assert len(batch) == len(figures)
    back = batch.figures()
    assert back == figures
    assert [tuple(map(repr, f)) for f in back] == [
        tuple(map(repr, f._replace(elsewhere_premium=f.elsewhere_premium.quantize(D("0.01")))))
        for f in figures
    ]
