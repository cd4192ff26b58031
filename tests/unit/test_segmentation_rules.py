"""Value quadrants (§5.2), retention classes (§5.3), Pareto share and profitability (§5.4)."""

from __future__ import annotations

from decimal import Decimal
from fractions import Fraction

import pytest
from hypothesis import given
from hypothesis import strategies as st

from insurcrm.domain.segmentation import (
    GrowthPotential,
    ProfitClass,
    ProfitConfig,
    QuadrantConfig,
    QuadrantThresholds,
    RetentionClass,
    ValueFigures,
    ValueQuadrant,
    classify_profit,
    classify_quadrant,
    classify_retention,
    loyalty_score,
    median,
    pareto_share,
    quadrant_thresholds,
)
from insurcrm.errors import ValidationError

D = Decimal


def value(
    customer_id: str = "C1",
    share: str = "0.5",
    continuity: str = "0.5",
    default_rate: str = "0.5",
    profit: str = "1000.00",
) -> ValueFigures:
    return ValueFigures(customer_id, D(share), D(continuity), D(default_rate), D(profit))


# -- §5.2 value quadrants -------------------------------------------------------------------------


class TestLoyaltyScore:
    @pytest.mark.parametrize(
        ("share", "continuity", "default_rate", "score"),
        [
            ("1", "1", "0", "1.0000"),
            ("0", "0", "1", "0.0000"),
            ("0.5", "0.5", "0.5", "0.5000"),
            ("1", "0", "0", "0.6000"),  # 0.4 + 0 + 0.2
            ("0", "1", "1", "0.4000"),
            ("0.25", "0.75", "0.1", "0.5800"),  # 0.1 + 0.3 + 0.18
        ],
    )
    def test_default_weights(
        self, share: str, continuity: str, default_rate: str, score: str
    ) -> None:
        assert loyalty_score(
            value(share=share, continuity=continuity, default_rate=default_rate)
        ) == D(score)

    def test_default_rate_counts_against(self) -> None:
        assert loyalty_score(value(default_rate="0.9")) < loyalty_score(value(default_rate="0.1"))

    def test_configured_weights(self) -> None:
        config = QuadrantConfig(D("0.5"), D("0.5"), D("0"))
        assert loyalty_score(value(share="1", continuity="0", default_rate="1"), config) == D("0.5")


class TestQuadrants:
    THRESHOLDS = QuadrantThresholds(loyalty=D("0.5000"), profit=D("1000.00"))

    @pytest.mark.parametrize(
        ("share", "profit", "quadrant", "index"),
        [
            ("0.5", "1000.00", ValueQuadrant.TRUE_FRIEND, 4),  # both exactly at the thresholds
            ("0.9", "5000.00", ValueQuadrant.TRUE_FRIEND, 4),
            ("0.4998", "1000.00", ValueQuadrant.BUTTERFLY, 3),  # score 0.4999
            ("0.5", "999.99", ValueQuadrant.BARNACLE, 2),
            ("0.4998", "999.99", ValueQuadrant.STRANGER, 1),
            ("0", "-50.00", ValueQuadrant.STRANGER, 1),
        ],
    )
    def test_both_sides_of_both_thresholds(
        self, share: str, profit: str, quadrant: ValueQuadrant, index: int
    ) -> None:
        figures = value(share=share, profit=profit)
        result = classify_quadrant(figures, self.THRESHOLDS)
        assert result.quadrant is quadrant
        assert result.quadrant.maintenance_index == index
        assert result.loyalty_score == loyalty_score(figures)
        assert result.profit == D(profit)
        assert result.customer_id == "C1"
        reasons = " | ".join(result.reasons)
        assert f"loyalty score {result.loyalty_score}" in reasons
        assert "0.5000" in reasons
        assert f"profit {profit}" in reasons
        assert "1000.00" in reasons
        assert f"{quadrant.name}: maintenance index {index}" in reasons

    def test_score_just_below_the_threshold_is_low(self) -> None:
        assert loyalty_score(value(share="0.4998")) == D("0.4999")

    def test_quadrants_have_labels_indices_and_distinct_stances(self) -> None:
        assert {q.name: (q.label_zh, q.maintenance_index) for q in ValueQuadrant} == {
            "TRUE_FRIEND": ("真正的朋友", 4),
            "BUTTERFLY": ("蝴蝶", 3),
            "BARNACLE": ("藤壶", 2),
            "STRANGER": ("陌生人", 1),
        }
        stances = [q.stance for q in ValueQuadrant]
        assert all(stances)
        assert len(set(stances)) == 4
        assert "do not invest" in ValueQuadrant.STRANGER.stance
        assert "keep" in ValueQuadrant.TRUE_FRIEND.stance

    def test_thresholds_are_the_portfolio_medians(self) -> None:
        figures = [
            value("A", share="1", continuity="1", default_rate="0", profit="300.00"),  # 1.0
            value("B", share="0", continuity="0", default_rate="1", profit="100.00"),  # 0.0
            value("C", share="0.5", continuity="0.5", default_rate="0.5", profit="200.00"),
        ]
        thresholds = quadrant_thresholds(figures)
        assert thresholds == QuadrantThresholds(loyalty=D("0.5"), profit=D("200.00"))
        quadrants = [classify_quadrant(f, thresholds).quadrant for f in figures]
        assert quadrants == [
            ValueQuadrant.TRUE_FRIEND,
            ValueQuadrant.STRANGER,
            ValueQuadrant.TRUE_FRIEND,  # the median customer is at the thresholds: high
        ]

    def test_even_count_median_is_the_mean_of_the_middle_two(self) -> None:
        figures = [value(str(i), profit=p) for i, p in enumerate(["10.00", "40.00", "20.00", "0"])]
        assert quadrant_thresholds(figures).profit == D("15.00")

    @pytest.mark.parametrize(
        ("values", "expected"),
        [
            ([], D(0)),
            ([D(5)], D(5)),
            ([D(3), D(1), D(2)], D(2)),
            ([D(4), D(1), D(3), D(2)], D("2.5")),
            ([D("0.01"), D("0.02")], D("0.015")),
        ],
    )
    def test_median(self, values: list[Decimal], expected: Decimal) -> None:
        assert median(values) == expected


class TestQuadrantConfig:
    def test_defaults(self) -> None:
        assert QuadrantConfig() == QuadrantConfig(D("0.4"), D("0.4"), D("0.2"))

    @pytest.mark.parametrize(
        "weights",
        [
            (D("0.5"), D("0.4"), D("0.2")),
            (D("0.3"), D("0.3"), D("0.3")),
            (D("0"), D("0"), D("0")),
            (D("1"), D("1"), D("0")),
        ],
    )
    def test_weights_not_adding_up_to_one_are_refused_naming_a_weight(
        self, weights: tuple[Decimal, Decimal, Decimal]
    ) -> None:
        with pytest.raises(ValidationError) as caught:
            QuadrantConfig(*weights)
        assert caught.value.field in {"share_weight", "continuity_weight", "default_weight"}
        assert caught.value.rule == "config.weights"

    @pytest.mark.parametrize("field", ["share_weight", "continuity_weight", "default_weight"])
    @pytest.mark.parametrize("bad", [D("1.1"), D("-0.1"), 0.4, "0.4", D("NaN")])
    def test_a_bad_weight_is_refused_naming_it(self, field: str, bad: object) -> None:
        with pytest.raises(ValidationError) as caught:
            QuadrantConfig(**{field: bad})  # type: ignore[arg-type]
        assert caught.value.field == field

    def test_weights_adding_up_to_one_in_other_places_are_accepted(self) -> None:
        config = QuadrantConfig(D("0.30"), D("0.30"), D("0.40"))
        assert config.share_weight + config.continuity_weight + config.default_weight == 1

    @pytest.mark.parametrize("field", ["purchase_share", "continuity", "default_rate"])
    def test_value_figures_refuse_a_share_outside_zero_to_one(self, field: str) -> None:
        fields = {"purchase_share": D(1), "continuity": D(1), "default_rate": D(0)}
        fields[field] = D("1.0001")
        with pytest.raises(ValidationError) as caught:
            ValueFigures("C1", profit=D(0), **fields)
        assert caught.value.field == field


# -- §5.3 retention classes -----------------------------------------------------------------------


class TestRetention:
    @pytest.mark.parametrize(
        ("current", "potential", "kind", "resources", "strategy"),
        [
            ("99.99", GrowthPotential.LOW, RetentionClass.I, "不投入", "关系解除"),
            ("99.99", GrowthPotential.HIGH, RetentionClass.II, "适当投入", "关系再造"),
            ("100.00", GrowthPotential.LOW, RetentionClass.III, "重点投入", "高水平关系保持"),
            (
                "100.00",
                GrowthPotential.HIGH,
                RetentionClass.IV,
                "重中之重投入",
                "不遗余力保持、发展",
            ),
            ("5000.00", GrowthPotential.LOW, RetentionClass.III, "key", "high level"),
            ("0", GrowthPotential.HIGH, RetentionClass.II, "moderate", "rebuild"),
        ],
    )
    def test_the_table_rows(
        self,
        current: str,
        potential: GrowthPotential,
        kind: RetentionClass,
        resources: str,
        strategy: str,
    ) -> None:
        result = classify_retention("C1", D(current), D("100.00"), potential, "a stated reason")
        assert result.customer_id == "C1"
        assert result.retention_class is kind
        assert resources in kind.resources
        assert strategy in kind.strategy
        reasons = " | ".join(result.reasons)
        assert f"current value {current}" in reasons
        assert "100.00" in reasons
        assert f"growth potential {potential.name}: a stated reason" in reasons
        assert f"class {kind.name}" in reasons
        assert kind.resources in reasons
        assert kind.strategy in reasons

    def test_the_classes_resources_and_strategies(self) -> None:
        table = {c.name: (c.resources, c.strategy) for c in RetentionClass}
        assert table == {
            "I": ("none (不投入)", "end the relationship (关系解除)"),
            "II": ("moderate (适当投入)", "rebuild the relationship (关系再造)"),
            "III": ("key (重点投入)", "keep the relationship at a high level (高水平关系保持)"),
            "IV": (
                "top priority (重中之重投入)",
                "keep and develop it with every effort (不遗余力保持、发展)",
            ),
        }
        assert RetentionClass.IV.label_zh == "IV类：高价值、高潜力"


# -- §5.4 Pareto ----------------------------------------------------------------------------------


class TestPareto:
    def test_ten_customers_the_top_two(self) -> None:
        premiums = [D("100.00")] * 8 + [D("1000.00"), D("500.00")]
        result = pareto_share(premiums)
        assert (result.customers, result.top_customers) == (10, 2)
        assert result.top_premium == D("1500.00")
        assert result.total_premium == D("2300.00")
        assert result.share == D("0.6522")
        assert result.top_fraction == D("0.2")

    def test_the_classic_eighty_twenty(self) -> None:
        premiums = [D("400.00"), D("400.00")] + [D("25.00")] * 8
        assert pareto_share(premiums).share == D("0.8000")

    @pytest.mark.parametrize(
        ("count", "top"), [(1, 1), (4, 1), (5, 1), (6, 2), (10, 2), (11, 3), (15, 3), (16, 4)]
    )
    def test_the_top_twenty_percent_is_rounded_up(self, count: int, top: int) -> None:
        premiums = [D(i) for i in range(1, count + 1)]
        result = pareto_share(premiums)
        assert result.top_customers == top
        assert result.top_premium == sum(sorted(premiums)[-top:])

    def test_the_order_given_does_not_matter(self) -> None:
        premiums = [D("5"), D("50"), D("1"), D("500"), D("10")]
        assert pareto_share(premiums) == pareto_share(sorted(premiums))
        assert pareto_share(premiums).top_premium == D("500")

    def test_all_zero_premium_has_share_zero(self) -> None:
        result = pareto_share([D("0.00")] * 10)
        assert result.total_premium == 0
        assert result.top_customers == 2
        assert result.share == 0

    def test_no_customers(self) -> None:
        result = pareto_share([])
        assert (result.customers, result.top_customers, result.share) == (0, 0, D(0))

    def test_a_single_customer_brings_everything(self) -> None:
        assert pareto_share([D("123.45")]).share == D(1)

    def test_another_fraction(self) -> None:
        result = pareto_share([D(i) for i in range(1, 11)], D("0.5"))
        assert result.top_customers == 5
        assert result.top_premium == D(40)

    @pytest.mark.parametrize("bad", [D(0), D("-0.2"), D("1.01")])
    def test_a_fraction_outside_zero_to_one_is_refused(self, bad: Decimal) -> None:
        with pytest.raises(ValidationError) as caught:
            pareto_share([D(1)], bad)
        assert caught.value.field == "top_fraction"


# -- §5.4 profitability ---------------------------------------------------------------------------

HIGHLY = ProfitClass.HIGHLY_PROFITABLE
MODERATELY = ProfitClass.MODERATELY_PROFITABLE
BREAK_EVEN = ProfitClass.BREAK_EVEN
UNPROFITABLE = ProfitClass.UNPROFITABLE


class TestProfitability:
    @pytest.mark.parametrize(
        ("cost", "kind", "margin"),
        [
            ("0.00", HIGHLY, "1.0000"),
            ("70.00", HIGHLY, "0.3000"),  # exactly 30 %
            ("70.01", MODERATELY, "0.2999"),
            ("94.99", MODERATELY, "0.0501"),
            ("95.00", BREAK_EVEN, "0.0500"),  # exactly 5 % is not above the band
            ("100.00", BREAK_EVEN, "0.0000"),
            ("105.00", BREAK_EVEN, "-0.0500"),  # exactly −5 %
            ("105.01", UNPROFITABLE, "-0.0501"),
            ("250.00", UNPROFITABLE, "-1.5000"),
        ],
    )
    def test_every_band_boundary_on_a_premium_of_100(
        self, cost: str, kind: ProfitClass, margin: str
    ) -> None:
        result = classify_profit(D("100.00"), D(cost))
        assert result.profit_class is kind
        assert result.margin == D(margin)
        assert kind.name in result.reasons[0]
        assert f"profit {D('100.00') - D(cost)} on premium 100.00" in result.reasons[0]

    @pytest.mark.parametrize(
        ("premium", "cost", "kind"),
        [
            # Margins within half a basis point of a band edge: the rounded margin shows the
            # edge, but the class follows the exact margin.
            ("2000.00", "1400.10", MODERATELY),  # 29.995 % < 30 %
            ("2000.00", "1399.90", HIGHLY),  # 30.005 %
            ("1999.99", "1899.99", MODERATELY),  # 5.0000025 % > 5 %
            ("2000.01", "1900.01", BREAK_EVEN),  # 4.9999975 %
            ("1999.99", "2099.99", UNPROFITABLE),  # −5.0000025 % < −5 %
            ("2000.01", "2100.01", BREAK_EVEN),  # −4.9999975 %
        ],
    )
    def test_the_class_follows_the_exact_margin_not_the_rounded_one(
        self, premium: str, cost: str, kind: ProfitClass
    ) -> None:
        assert classify_profit(D(premium), D(cost)).profit_class is kind

    def test_zero_premium(self) -> None:
        free = classify_profit(D(0), D(0))
        assert (free.profit_class, free.margin) == (BREAK_EVEN, D(0))
        costly = classify_profit(D(0), D("10.00"))
        assert (costly.profit_class, costly.margin) == (UNPROFITABLE, D(-1))

    def test_unknown_cost_gives_no_class(self) -> None:
        result = classify_profit(D("100.00"), None)
        assert result.profit_class is None
        assert result.margin is None
        assert "not known" in result.reasons[0]

    def test_configured_bands(self) -> None:
        config = ProfitConfig(high_margin=D("0.5"), break_even_band=D("0"))
        assert classify_profit(D(100), D(50), config).profit_class is HIGHLY
        assert classify_profit(D(100), D("50.01"), config).profit_class is MODERATELY
        assert classify_profit(D(100), D("99.99"), config).profit_class is MODERATELY
        assert classify_profit(D(100), D(100), config).profit_class is BREAK_EVEN
        assert classify_profit(D(100), D("100.01"), config).profit_class is UNPROFITABLE

    def test_labels(self) -> None:
        assert [c.label_zh for c in ProfitClass] == [
            "高利润客户",
            "中等利润客户",
            "盈亏平衡客户",
            "无利润客户",
        ]


class TestProfitConfig:
    def test_defaults(self) -> None:
        assert ProfitConfig() == ProfitConfig(high_margin=D("0.30"), break_even_band=D("0.05"))

    @pytest.mark.parametrize("field", ["high_margin", "break_even_band"])
    @pytest.mark.parametrize("bad", [D("-0.01"), D("1.01"), 0.3, "0.3", None])
    def test_a_bad_value_is_refused_naming_it(self, field: str, bad: object) -> None:
        with pytest.raises(ValidationError) as caught:
            ProfitConfig(**{field: bad})  # type: ignore[arg-type]
        assert caught.value.field == field

    @pytest.mark.parametrize(
        ("high", "band"), [(D("0.05"), D("0.05")), (D("0.1"), D("0.2")), (D(0), D(0))]
    )
    def test_high_margin_must_be_above_the_break_even_band(
        self, high: Decimal, band: Decimal
    ) -> None:
        with pytest.raises(ValidationError) as caught:
            ProfitConfig(high_margin=high, break_even_band=band)
        assert caught.value.field == "high_margin"


# -- properties -----------------------------------------------------------------------------------

amounts = st.decimals(min_value=0, max_value=10_000_000, places=2, allow_nan=False)


def reference_profit_class(premium: Decimal, cost: Decimal) -> ProfitClass:
    """The bands on the exact margin (profit ÷ premium), from ProfitConfig's defaults."""
    profit = Fraction(premium - cost)
    if premium == 0:
        return BREAK_EVEN if profit == 0 else UNPROFITABLE
    margin = profit / Fraction(premium)
    if margin >= Fraction(3, 10):
        return HIGHLY
    if margin > Fraction(1, 20):
        return MODERATELY
    if margin >= Fraction(-1, 20):
        return BREAK_EVEN
    return UNPROFITABLE


@given(premium=amounts, cost=amounts)
def test_every_customer_with_a_known_cost_gets_the_class_of_their_exact_margin(
    premium: Decimal, cost: Decimal
) -> None:
    result = classify_profit(premium, cost)
    assert result.profit_class is reference_profit_class(premium, cost)
    assert result.margin is not None
    if premium:
        assert abs(Fraction(result.margin) - Fraction(premium - cost) / Fraction(premium)) <= (
            Fraction(1, 20_000)
        )


@given(premium=amounts, cost=amounts, lower=amounts)
def test_a_lower_cost_never_lowers_the_profit_class(
    premium: Decimal, cost: Decimal, lower: Decimal
) -> None:
    order = [UNPROFITABLE, BREAK_EVEN, MODERATELY, HIGHLY]
    cheaper = min(cost, lower)
    before = classify_profit(premium, cost).profit_class
    after = classify_profit(premium, cheaper).profit_class
    assert before is not None
    assert after is not None
    assert order.index(after) >= order.index(before)


@given(premiums=st.lists(amounts, max_size=30))
def test_the_top_share_is_at_least_the_top_fraction_of_customers(
    premiums: list[Decimal],
) -> None:
    result = pareto_share(premiums)
    assert result.total_premium == sum(premiums)
    assert 0 <= result.share <= 1
    assert result.top_premium == sum(sorted(premiums, reverse=True)[: result.top_customers])
    if result.total_premium:
        # The biggest customers bring at least their head-count share of the premium.
        exact = Fraction(result.top_premium) / Fraction(result.total_premium)
        assert exact >= Fraction(result.top_customers, result.customers)


@given(
    figures=st.lists(
        st.builds(
            ValueFigures,
            customer_id=st.just("C"),
            purchase_share=st.decimals(0, 1, places=4),
            continuity=st.decimals(0, 1, places=4),
            default_rate=st.decimals(0, 1, places=4),
            profit=st.decimals(-1_000, 100_000, places=2),
        ),
        min_size=1,
        max_size=12,
    )
)
def test_at_least_half_the_portfolio_is_on_the_high_side_of_each_median(
    figures: list[ValueFigures],
) -> None:
    thresholds = quadrant_thresholds(figures)
    results = [classify_quadrant(f, thresholds) for f in figures]
    loyal = sum(r.quadrant in (ValueQuadrant.TRUE_FRIEND, ValueQuadrant.BARNACLE) for r in results)
    profitable = sum(
        r.quadrant in (ValueQuadrant.TRUE_FRIEND, ValueQuadrant.BUTTERFLY) for r in results
    )
    assert 2 * loyal >= len(figures)
    assert 2 * profitable >= len(figures)
