"""RFM eight types (基于 RFM 的客户价值分类, DOMAIN.md §5.1)."""

from __future__ import annotations

import datetime as dt
import itertools
from decimal import Decimal
from fractions import Fraction

import attrs
import pytest
from hypothesis import given
from hypothesis import strategies as st

from insurcrm.domain.policies import Policy
from insurcrm.domain.rfm import (
    RFM_TYPES,
    RfmConfig,
    RfmFigures,
    RfmMeans,
    RfmResult,
    RfmSegment,
    classify_rfm,
    rfm_figures,
    rfm_portfolio,
    segment_of,
)
from insurcrm.domain.values import Money
from insurcrm.errors import ValidationError
from insurcrm.testing.contracts import make_policy

AS_OF = dt.date(2024, 3, 1)
LONG_AGO = dt.date(2015, 1, 1)
DAY = dt.timedelta(days=1)


def fig(
    customer_id: str, r: int, f: int, m: str | Decimal, first: dt.date = LONG_AGO
) -> RfmFigures:
    return RfmFigures(customer_id, r, f, Decimal(m), first)


def by_id(results: list[RfmResult]) -> dict[str, RfmResult]:
    return {r.customer_id: r for r in results}


def portfolio(*figures: RfmFigures, config: RfmConfig | None = None) -> dict[str, RfmResult]:
    _, results = rfm_portfolio(figures, AS_OF, config)
    return by_id(results)


# -- the table ------------------------------------------------------------------------------------

#: (R↑, F↑, M↑) → (type, segment of an old customer), as DOMAIN.md §5.1's table has it.
TABLE = {
    (False, True, True): (1, RfmSegment.HIGH_VALUE),
    (False, False, True): (2, RfmSegment.KEY_DEVELOPMENT),
    (False, True, False): (3, RfmSegment.GENERAL_IMPORTANT),
    (False, False, False): (4, RfmSegment.NO_VALUE),
    (True, True, True): (5, RfmSegment.KEY_RETENTION),
    (True, True, False): (6, RfmSegment.GENERAL),
    (True, False, False): (7, RfmSegment.NO_VALUE),
    (True, False, True): (8, RfmSegment.GENERAL),
}


class TestTheTable:
    def test_rfm_types_is_the_table(self) -> None:
        assert {arrows: kind for arrows, (kind, _) in TABLE.items()} == RFM_TYPES

    @pytest.mark.parametrize(("arrows", "row"), TABLE.items())
    def test_segment_of_each_type(
        self, arrows: tuple[bool, bool, bool], row: tuple[int, RfmSegment]
    ) -> None:
        kind, old_segment = row
        assert segment_of(kind, is_new=False) is old_segment
        if kind == 4:
            assert segment_of(kind, is_new=True) is RfmSegment.KEY_DEVELOPMENT
        else:
            assert segment_of(kind, is_new=True) is old_segment

    @pytest.mark.parametrize("bad", [0, 9, -1])
    def test_segment_of_refuses_other_types(self, bad: int) -> None:
        with pytest.raises(ValidationError) as caught:
            segment_of(bad, is_new=False)
        assert caught.value.field == "type"

    def test_every_combination_in_one_portfolio(self) -> None:
        # R 10 or 100 days (mean 55), F 1 or 5 (mean 3), M 100 or 1000 (mean 550).
        figures = [
            fig(f"C{r}{f}{m}", r, f, m)
            for r, f, m in itertools.product((10, 100), (1, 5), ("100.00", "1000.00"))
        ]
        means, results = rfm_portfolio(figures, AS_OF)
        assert (means.recency, means.frequency, means.monetary) == (
            Decimal(55),
            Decimal(3),
            Decimal(550),
        )
        seen = set()
        for result in results:
            arrows = (
                result.figures.recency_days == 100,
                result.figures.frequency == 5,
                result.figures.monetary == 1000,
            )
            assert (result.r_up, result.f_up, result.m_up) == arrows
            assert (result.type, result.segment) == TABLE[arrows]
            assert f"type {result.type}" in result.reasons[-1]
            assert result.segment.name in result.reasons[-1]
            seen.add(result.type)
        assert seen == set(range(1, 9))

    @pytest.mark.parametrize(
        ("r", "f", "m", "kind", "segment"),
        [
            (50, 3, "1500.00", 1, RfmSegment.HIGH_VALUE),
            (50, 1, "1500.00", 2, RfmSegment.KEY_DEVELOPMENT),
            (50, 3, "500.00", 3, RfmSegment.GENERAL_IMPORTANT),
            (50, 1, "500.00", 4, RfmSegment.NO_VALUE),
            (150, 3, "1500.00", 5, RfmSegment.KEY_RETENTION),
            (150, 3, "500.00", 6, RfmSegment.GENERAL),
            (150, 1, "500.00", 7, RfmSegment.NO_VALUE),
            (150, 1, "1500.00", 8, RfmSegment.GENERAL),
        ],
    )
    def test_each_row_against_given_means(
        self, r: int, f: int, m: str, kind: int, segment: RfmSegment
    ) -> None:
        means = RfmMeans(4, 400, 8, Decimal("4000.00"))  # R 100, F 2, M 1000
        result = classify_rfm(fig("C1", r, f, m), means, AS_OF)
        assert (result.type, result.segment) == (kind, segment)
        assert not result.is_new


class TestTypeFourNewOrOld:
    ANCHOR = fig("ANCHOR", 300, 9, "9000.00")

    def test_first_purchase_364_days_ago_is_new(self) -> None:
        new = fig("C1", 10, 1, "10.00", first=AS_OF - dt.timedelta(days=364))
        result = portfolio(self.ANCHOR, new)["C1"]
        assert result.type == 4
        assert result.is_new
        assert result.segment is RfmSegment.KEY_DEVELOPMENT
        assert "new customer → KEY_DEVELOPMENT" in result.reasons[-1]

    def test_first_purchase_exactly_365_days_ago_is_old(self) -> None:
        old = fig("C1", 10, 1, "10.00", first=AS_OF - dt.timedelta(days=365))
        result = portfolio(self.ANCHOR, old)["C1"]
        assert result.type == 4
        assert not result.is_new
        assert result.segment is RfmSegment.NO_VALUE
        assert "old customer → NO_VALUE" in result.reasons[-1]

    def test_a_first_purchase_today_is_new(self) -> None:
        assert portfolio(self.ANCHOR, fig("C1", 0, 1, "10.00", first=AS_OF))["C1"].is_new

    def test_configured_new_customer_days(self) -> None:
        config = RfmConfig(new_customer_days=30)
        inside = fig("C1", 10, 1, "10.00", first=AS_OF - dt.timedelta(days=29))
        outside = fig("C2", 10, 1, "10.00", first=AS_OF - dt.timedelta(days=30))
        results = portfolio(self.ANCHOR, inside, outside, config=config)
        assert results["C1"].segment is RfmSegment.KEY_DEVELOPMENT
        assert results["C2"].segment is RfmSegment.NO_VALUE

    def test_new_or_old_only_matters_for_type_four(self) -> None:
        new = fig("C1", 10, 9, "9000.00", first=AS_OF)  # type 1
        results = portfolio(self.ANCHOR, new)
        assert results["C1"].type == 1
        assert results["C1"].is_new
        assert results["C1"].segment is RfmSegment.HIGH_VALUE


class TestEqualToTheMeanIsUp:
    def test_recency_equal_to_the_mean(self) -> None:
        results = portfolio(fig("A", 10, 1, "1"), fig("B", 20, 1, "1"), fig("C", 30, 1, "1"))
        assert [results[c].r_up for c in "ABC"] == [False, True, True]
        assert "R = 20 days ≥ mean 20.00 → ↑" in results["B"].reasons[0]

    def test_recency_with_a_mean_of_ten_thirds(self) -> None:
        results = portfolio(fig("A", 3, 1, "1"), fig("B", 3, 1, "1"), fig("C", 4, 1, "1"))
        assert [results[c].r_up for c in "ABC"] == [False, False, True]
        assert "R = 3 days < mean 3.33 → ↓" in results["A"].reasons[0]

    def test_recency_with_a_mean_of_one_third(self) -> None:
        results = portfolio(fig("A", 0, 1, "1"), fig("B", 0, 1, "1"), fig("C", 1, 1, "1"))
        assert [results[c].r_up for c in "ABC"] == [False, False, True]

    def test_frequency_equal_to_the_mean(self) -> None:
        results = portfolio(fig("A", 5, 1, "1"), fig("B", 5, 2, "1"), fig("C", 5, 3, "1"))
        assert [results[c].f_up for c in "ABC"] == [False, True, True]
        assert "F = 2 ≥ mean 2.00 → ↑" in results["B"].reasons[1]

    def test_frequency_with_a_mean_of_four_thirds(self) -> None:
        results = portfolio(fig("A", 5, 1, "1"), fig("B", 5, 1, "1"), fig("C", 5, 2, "1"))
        assert [results[c].f_up for c in "ABC"] == [False, False, True]

    def test_everyone_equal_is_everyone_up(self) -> None:
        results = portfolio(fig("A", 7, 2, "3.33"), fig("B", 7, 2, "3.33"))
        assert all((r.r_up, r.f_up, r.m_up) == (True, True, True) for r in results.values())
        assert {r.type for r in results.values()} == {5}

    def test_monetary_equal_to_the_mean(self) -> None:
        results = portfolio(fig("A", 5, 1, "1.01"), fig("B", 5, 1, "1.02"), fig("C", 5, 1, "1.03"))
        assert [results[c].m_up for c in "ABC"] == [False, True, True]
        assert "M = 1.02 ≥ mean 1.02 → ↑" in results["B"].reasons[2]

    def test_monetary_below_a_mean_of_ten_thirds_that_displays_as_its_value(self) -> None:
        # Mean 10/3 = 3.333…, shown as 3.33: a customer with 3.33 is still below it.
        results = portfolio(fig("A", 5, 1, "3.33"), fig("B", 5, 1, "3.33"), fig("C", 5, 1, "3.34"))
        assert [results[c].m_up for c in "ABC"] == [False, False, True]
        assert "M = 3.33 < mean 3.33 → ↓" in results["A"].reasons[2]

    def test_monetary_with_a_half_cent_mean(self) -> None:
        results = portfolio(fig("A", 5, 1, "0.00"), fig("B", 5, 1, "0.01"))
        assert [results[c].m_up for c in "AB"] == [False, True]

    def test_monetary_with_a_mean_of_one_hundred_sevenths(self) -> None:
        # 7 customers, total 100.00: mean 14.2857…; 14.28 is below, 14.29 above.
        values = ["14.28"] * 5 + ["14.29", "14.31"]
        results = portfolio(*(fig(f"C{i}", 5, 1, v) for i, v in enumerate(values)))
        assert [results[f"C{i}"].m_up for i in range(7)] == [False] * 5 + [True, True]


class TestFiguresFromPolicies:
    def test_r_f_and_m_from_purchases_and_renewals(self) -> None:
        policy = (
            make_policy("P1", "C1", premium="1000.00")
            .activate(dt.date(2022, 1, 1))
            .renew(dt.date(2023, 1, 1))
            .renew(dt.date(2024, 1, 1), Money("1200.00"))
        )
        figures = rfm_figures("C1", [policy], AS_OF)
        assert figures == RfmFigures("C1", 60, 3, Decimal("3200.00"), dt.date(2022, 1, 1))

    def test_purchases_on_several_policies_add_up(self) -> None:
        one = make_policy("P1", "C1", premium="100.00").activate(dt.date(2023, 1, 1))
        two = make_policy("P2", "C1", premium="50.50").activate(dt.date(2024, 2, 1))
        figures = rfm_figures("C1", [one, two], AS_OF)
        assert figures is not None
        assert (figures.recency_days, figures.frequency, figures.monetary) == (
            29,
            2,
            Decimal("150.50"),
        )
        assert figures.first_purchase == dt.date(2023, 1, 1)

    def test_the_window_excludes_a_purchase_exactly_window_days_ago(self) -> None:
        edge = AS_OF - dt.timedelta(days=1095)
        old = make_policy("P1", "C1", premium="100.00").activate(edge)
        inside = make_policy("P2", "C1", premium="10.00").activate(edge + DAY)
        figures = rfm_figures("C1", [old, inside], AS_OF)
        assert figures is not None
        assert (figures.frequency, figures.monetary) == (1, Decimal("10.00"))
        assert figures.first_purchase == edge

    def test_recency_counts_a_purchase_outside_the_window(self) -> None:
        old = make_policy("P1", "C1").activate(dt.date(2015, 6, 1))
        figures = rfm_figures("C1", [old], AS_OF)
        assert figures is not None
        assert figures.recency_days == (AS_OF - dt.date(2015, 6, 1)).days
        assert (figures.frequency, figures.monetary) == (0, Decimal(0))

    def test_a_configured_window(self) -> None:
        policy = make_policy("P1", "C1", premium="10.00").activate(AS_OF - dt.timedelta(days=31))
        assert rfm_figures("C1", [policy], AS_OF, RfmConfig(window_days=31)).frequency == 0  # type: ignore[union-attr]
        assert rfm_figures("C1", [policy], AS_OF, RfmConfig(window_days=32)).frequency == 1  # type: ignore[union-attr]

    def test_purchases_after_the_assessment_date_are_ignored(self) -> None:
        policy = make_policy("P1", "C1").activate(dt.date(2023, 3, 1)).renew(AS_OF + DAY)
        figures = rfm_figures("C1", [policy], AS_OF)
        assert figures is not None
        assert (figures.recency_days, figures.frequency) == (366, 1)

    @pytest.mark.parametrize(
        "policies",
        [
            [],
            [make_policy("P1", "C1")],  # pending: nothing bought yet
            [make_policy("P1", "C1", insurer="平安人寿").activate(dt.date(2023, 1, 1))],
            [make_policy("P1", "C1").activate(AS_OF + DAY)],
        ],
        ids=["no policy", "pending", "another insurer", "bought later"],
    )
    def test_customers_with_no_purchase_are_not_typed(self, policies: list[Policy]) -> None:
        assert rfm_figures("C1", policies, AS_OF) is None

    def test_negative_figures_are_refused(self) -> None:
        with pytest.raises(ValidationError):
            fig("C1", -1, 1, "1")
        with pytest.raises(ValidationError):
            fig("C1", 1, -1, "1")
        with pytest.raises(ValidationError):
            fig("C1", 1, 1, "-0.01")


class TestConfigAndMeans:
    @pytest.mark.parametrize("field", ["window_days", "new_customer_days"])
    @pytest.mark.parametrize("bad", [0, -1, True, 365.0, "365"])
    def test_config_refuses_a_bad_window_naming_it(self, field: str, bad: object) -> None:
        with pytest.raises(ValidationError) as caught:
            RfmConfig(**{field: bad})  # type: ignore[arg-type]
        assert caught.value.field == field

    def test_defaults(self) -> None:
        assert RfmConfig() == RfmConfig(window_days=1095, new_customer_days=365)

    def test_classifying_against_no_customers_is_refused(self) -> None:
        with pytest.raises(ValidationError) as caught:
            classify_rfm(fig("C1", 1, 1, "1"), RfmMeans.of([]), AS_OF)
        assert caught.value.field == "means"

    def test_an_empty_portfolio_has_no_results(self) -> None:
        means, results = rfm_portfolio([], AS_OF)
        assert results == []
        assert means == RfmMeans(0, 0, 0, Decimal(0))
        # zero, shown with the two places of any portfolio's means
        assert [str(m) for m in (means.recency, means.frequency, means.monetary)] == ["0.00"] * 3

    def test_means_add_one_customer_at_a_time(self) -> None:
        figures = [fig("A", 3, 1, "3.33"), fig("B", 4, 2, "3.34"), fig("C", 3, 0, "3.33")]
        stepwise = RfmMeans(0, 0, 0, Decimal("0.00"))
        for f in figures:
            stepwise = stepwise.add(f)
        assert stepwise == RfmMeans.of(figures) == RfmMeans(3, 10, 3, Decimal("10.00"))
        assert (stepwise.recency, stepwise.frequency, stepwise.monetary) == (
            Decimal("3.33"),
            Decimal("1.00"),
            Decimal("3.33"),
        )


# -- properties -----------------------------------------------------------------------------------

_recency = st.one_of(st.sampled_from([0, 1, 2, 3, 10]), st.integers(min_value=0, max_value=4_000))
_frequency = st.integers(min_value=0, max_value=6)
_monetary = st.one_of(
    st.sampled_from(["0.00", "0.01", "3.33", "3.34", "100.00"]).map(Decimal),
    st.decimals(min_value=0, max_value=1_000_000, places=2, allow_nan=False),
)


@st.composite
def portfolios(draw: st.DrawFn) -> list[RfmFigures]:
    size = draw(st.integers(min_value=1, max_value=10))
    return [
        RfmFigures(
            f"C{i}",
            draw(_recency),
            draw(_frequency),
            draw(_monetary),
            AS_OF - dt.timedelta(days=draw(st.integers(min_value=0, max_value=800))),
        )
        for i in range(size)
    ]


def exact_mean(total: int | Decimal, count: int) -> Fraction:
    return Fraction(total) / count


@given(figures=portfolios())
def test_every_customer_gets_a_type_from_one_to_eight_by_the_exact_means(
    figures: list[RfmFigures],
) -> None:
    _, results = rfm_portfolio(figures, AS_OF)
    assert len(results) == len(figures)
    n = len(figures)
    r_mean = exact_mean(sum(f.recency_days for f in figures), n)
    f_mean = exact_mean(sum(f.frequency for f in figures), n)
    m_mean = exact_mean(sum(f.monetary for f in figures), n)
    for result, f in zip(results, figures, strict=True):
        assert result.customer_id == f.customer_id
        assert result.figures == f
        assert 1 <= result.type <= 8
        assert result.r_up == (f.recency_days >= r_mean)
        assert result.f_up == (f.frequency >= f_mean)
        assert result.m_up == (Fraction(f.monetary) >= m_mean)
        assert result.type == RFM_TYPES[(result.r_up, result.f_up, result.m_up)]
        assert result.is_new == ((AS_OF - f.first_purchase).days < 365)
        assert result.segment is segment_of(result.type, result.is_new)
        assert len(result.reasons) == 4
    # The largest value is never below the mean: someone is ↑ on every axis.
    assert any(r.r_up for r in results)
    assert any(r.f_up for r in results)
    assert any(r.m_up for r in results)


@given(figures=portfolios())
def test_the_means_in_the_result_are_the_true_means(figures: list[RfmFigures]) -> None:
    means, _ = rfm_portfolio(figures, AS_OF)
    n = len(figures)
    assert means.customers == n
    assert means.recency_total == sum(f.recency_days for f in figures)
    assert means.frequency_total == sum(f.frequency for f in figures)
    assert means.monetary_total == sum(f.monetary for f in figures)
    cent = Decimal("0.01")
    assert means.recency == (Decimal(means.recency_total) / n).quantize(cent)
    assert means.frequency == (Decimal(means.frequency_total) / n).quantize(cent)
    assert means.monetary == (means.monetary_total / n).quantize(cent)
    assert abs(Fraction(means.monetary) - exact_mean(means.monetary_total, n)) <= Fraction(1, 200)


@given(figures=portfolios(), data=st.data())
def test_shuffling_the_portfolio_gives_every_customer_the_same_result(
    figures: list[RfmFigures], data: st.DataObject
) -> None:
    shuffled = data.draw(st.permutations(figures))
    means, results = rfm_portfolio(figures, AS_OF)
    shuffled_means, shuffled_results = rfm_portfolio(shuffled, AS_OF)
    assert shuffled_means == means
    assert by_id(shuffled_results) == by_id(results)


@given(
    figures=portfolios(),
    data=st.data(),
    more=st.decimals(min_value=Decimal("0.01"), max_value=100_000, places=2, allow_nan=False),
)
def test_raising_one_customers_premium_keeps_their_m_up_and_nobody_elses_m_down_turns_up(
    figures: list[RfmFigures], data: st.DataObject, more: Decimal
) -> None:
    # Raising M also raises the mean, so a customer at M↓ may stay ↓; but one already ↑
    # stays ↑ (their value rises by `more`, the mean by only `more / n`), and the others'
    # values stay while the mean rises, so none of them turns from ↓ to ↑.
    index = data.draw(st.integers(min_value=0, max_value=len(figures) - 1))
    raised = list(figures)
    raised[index] = attrs.evolve(figures[index], monetary=figures[index].monetary + more)
    before = by_id(rfm_portfolio(figures, AS_OF)[1])
    after = by_id(rfm_portfolio(raised, AS_OF)[1])
    target = figures[index].customer_id
    if before[target].m_up:
        assert after[target].m_up
    for customer_id, result in after.items():
        if customer_id != target:
            assert result.m_up <= before[customer_id].m_up
            assert (result.r_up, result.f_up) == (
                before[customer_id].r_up,
                before[customer_id].f_up,
            )


@given(figures=portfolios(), data=st.data())
def test_classifying_one_customer_against_the_means_matches_the_portfolio(
    figures: list[RfmFigures], data: st.DataObject
) -> None:
    means, results = rfm_portfolio(figures, AS_OF)
    index = data.draw(st.integers(min_value=0, max_value=len(figures) - 1))
    assert classify_rfm(figures[index], means, AS_OF) == results[index]
