"""Recovering churned customers (流失客户的挽回, DOMAIN.md §7.3): the stance by value class, the
measures by structure, and the cost-benefit analysis that decides whether to win them back."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from insurcrm.domain.churn import ChurnCause, ChurnRecord, ChurnStructure
from insurcrm.domain.recovery import (
    DEFAULT_SUCCESS,
    CostBenefit,
    RecoveryConfig,
    RecoveryDecision,
    ValueClass,
    WinBackMeasure,
    WinBackStance,
    decide_recovery,
)
from insurcrm.domain.values import Money
from insurcrm.errors import ValidationError
from insurcrm.testing import strategies as gen

DAY = dt.date(2024, 3, 1)
GIVE_UP = (WinBackStance.BASICALLY_GIVE_UP, WinBackStance.GIVE_UP_ENTIRELY)


def churn(
    structure: ChurnStructure | None = ChurnStructure.UNINTENTIONALLY_PUSHED_AWAY,
    *causes: ChurnCause,
) -> ChurnRecord:
    return ChurnRecord.record("C1", DAY, structure, causes, "张伟说理赔太慢")


def decide(
    record: ChurnRecord, value: str, config: RecoveryConfig | None = None
) -> RecoveryDecision:
    return decide_recovery(record, Money(value), config)


class TestValueClass:
    @pytest.mark.parametrize(
        ("value", "value_class"),
        [
            ("0.00", ValueClass.SMALL),
            ("4999.99", ValueClass.SMALL),
            ("5000.00", ValueClass.ORDINARY),
            ("49999.99", ValueClass.ORDINARY),
            ("50000.00", ValueClass.IMPORTANT),
            ("9999999.00", ValueClass.IMPORTANT),
        ],
    )
    def test_default_thresholds(self, value: str, value_class: ValueClass) -> None:
        """Important from ¥50,000, small below ¥5,000."""
        assert RecoveryConfig().value_class(Decimal(value)) is value_class
        assert decide(churn(), value).value_class is value_class

    def test_labels(self) -> None:
        assert [c.label_zh for c in ValueClass] == ["重要价值客户", "一般客户", "小客户"]
        assert [s.label_zh for s in WinBackStance] == [
            "极力挽回",
            "见机行事",
            "基本放弃",
            "彻底放弃",
        ]


class TestStance:
    def test_an_important_customer_spare_no_effort(self) -> None:
        decision = decide(churn(), "60000.00")
        assert decision.stance is WinBackStance.SPARE_NO_EFFORT
        assert decision.reasons[:2] == (
            "value ¥60,000.00 over the horizon: IMPORTANT (重要价值客户)",
            "stance SPARE_NO_EFFORT (极力挽回): an important customer",
        )
        assert decision.recommended

    @pytest.mark.parametrize(
        "record",
        [
            churn(ChurnStructure.MIGRATED),
            churn(ChurnStructure.PULLED_AWAY, ChurnCause.INVOLUNTARY),
        ],
    )
    def test_hard_to_avoid_churn_as_the_case_allows(self, record: ChurnRecord) -> None:
        decision = decide(record, "60000.00")
        assert decision.stance is WinBackStance.AS_CASE_ALLOWS
        assert (
            decision.reasons[1] == "stance AS_CASE_ALLOWS (见机行事): the churn was hard to avoid"
        )

    def test_an_ordinary_customer_as_the_case_allows(self) -> None:
        decision = decide(churn(), "20000.00")
        assert decision.stance is WinBackStance.AS_CASE_ALLOWS
        assert decision.reasons[1] == "stance AS_CASE_ALLOWS (见机行事): an ordinary customer"

    def test_a_small_customer_basically_give_up(self) -> None:
        decision = decide(churn(), "4999.99")
        assert decision.stance is WinBackStance.BASICALLY_GIVE_UP
        assert not decision.recommended
        assert decision.measures == ()
        assert decision.reasons[-1] == "not recommended: the stance is to give up"

    @pytest.mark.parametrize(
        "record",
        [
            churn(ChurnStructure.INTENTIONALLY_PUSHED_AWAY),
            churn(None, ChurnCause.FRAUD),
            churn(ChurnStructure.UNINTENTIONALLY_PUSHED_AWAY, ChurnCause.MALICIOUS_ARREARS),
            churn(ChurnStructure.PULLED_AWAY, ChurnCause.FRAUD, ChurnCause.PRICE),
        ],
    )
    def test_fraud_or_arrears_give_up_entirely(self, record: ChurnRecord) -> None:
        """Fraud or malicious arrears → give up entirely, however valuable the customer."""
        decision = decide(record, "9999999.99")
        assert decision.value_class is ValueClass.IMPORTANT
        assert decision.stance is WinBackStance.GIVE_UP_ENTIRELY
        assert decision.measures == ()
        assert not decision.recommended
        assert decision.analysis.chance == Decimal(0)
        assert decision.analysis.better_terms == Decimal("0.00")
        assert decision.reasons[1] == (
            "stance GIVE_UP_ENTIRELY (彻底放弃): we let them go on purpose (fraud or arrears)"
        )


class TestMeasures:
    def test_unintentionally_pushed_away_clarify_explain_propose(self) -> None:
        assert decide(churn(), "20000.00").measures == (
            WinBackMeasure.CLARIFY_FACTS,
            WinBackMeasure.EXPLAIN_CAUSE,
            WinBackMeasure.PROPOSE_SOLUTION,
        )

    @pytest.mark.parametrize("structure", [ChurnStructure.PULLED_AWAY, ChurnStructure.BOUGHT_OFF])
    def test_competitors_analyse_their_advantage(self, structure: ChurnStructure) -> None:
        decision = decide(churn(structure), "49999.99")
        assert decision.measures == (WinBackMeasure.ANALYSE_COMPETITOR,)
        assert decision.analysis.better_terms == Decimal("0.00")

    def test_better_terms_only_when_they_pay_for_themselves(self) -> None:
        """At ¥50,000 the better terms (¥2,000, +15 points of chance) would lower the net
        benefit; at ¥100,000 they raise it."""
        modest = decide(churn(ChurnStructure.PULLED_AWAY), "50000.00")
        assert modest.measures == (WinBackMeasure.ANALYSE_COMPETITOR,)
        assert "better terms would cost more than they bring" in modest.reasons
        assert modest.expected_net_benefit == Decimal("2345.00")  # 12,700 × 25 % − 830
        rich = decide(churn(ChurnStructure.BOUGHT_OFF), "100000.00")
        assert rich.measures == (
            WinBackMeasure.ANALYSE_COMPETITOR,
            WinBackMeasure.OFFER_BETTER_TERMS,
        )
        assert "better terms pay for themselves for this customer" in rich.reasons
        assert (rich.analysis.better_terms, rich.analysis.chance) == (
            Decimal("2000.00"),
            Decimal("0.40"),
        )
        assert rich.expected_net_benefit == Decimal("6650.00")  # 23,700 × 40 % − 2,830

    def test_migrated_keep_in_touch_and_transfer_service(self) -> None:
        assert decide(churn(ChurnStructure.MIGRATED), "40000.00").measures == (
            WinBackMeasure.KEEP_IN_TOUCH,
            WinBackMeasure.TRANSFER_SERVICE,
        )

    def test_not_analysed_yet_find_out_why(self) -> None:
        assert decide(churn(None), "20000.00").measures == (WinBackMeasure.FIND_OUT_WHY,)

    def test_intentionally_pushed_away_no_win_back(self) -> None:
        assert decide(churn(ChurnStructure.INTENTIONALLY_PUSHED_AWAY), "100000.00").measures == ()


class TestCostBenefit:
    def test_the_figures_with_the_defaults(self) -> None:
        """Cost: 4 h × ¥120 + ¥200 + ¥150. Benefit of ¥60,000: 20 % margin ¥12,000, a
        replacement ¥300 × 5, promotion 10 % of the repurchase, information ¥200; 40 %
        chance for a customer we pushed away unintentionally."""
        decision = decide(churn(), "60000.00")
        assert decision.analysis == CostBenefit(
            staff=Decimal("480.00"),
            communication=Decimal("200.00"),
            overhead=Decimal("150.00"),
            better_terms=Decimal("0.00"),
            chance=Decimal("0.40"),
            repurchase=Decimal("12000.00"),
            avoided_replacement=Decimal("1500.00"),
            promotion=Decimal("1200.00"),
            information=Decimal("200.00"),
        )
        analysis = decision.analysis
        assert (analysis.cost, analysis.benefit) == (Decimal("830.00"), Decimal("14900.00"))
        assert (analysis.expected_benefit, analysis.net) == (Decimal("5960.00"), Decimal("5130.00"))
        assert analysis.reasons == (
            "cost ¥830.00 = staff ¥480.00 + communication ¥200.00 + overhead ¥150.00 + "
            "better terms ¥0.00",
            "benefit ¥14,900.00 = repurchase ¥12,000.00 + avoided replacement ¥1,500.00 + "
            "promotion ¥1,200.00 + information ¥200.00",
            "expected benefit ¥5,960.00 at a 40 % chance; net ¥5,130.00",
        )
        assert decision.reasons[-1] == "recommended: the expected benefit exceeds the cost"

    def test_recommended_only_when_the_expected_benefit_exceeds_the_cost(self) -> None:
        """Migrated, 10 % chance: ¥20,000 brings ¥610 expected for ¥830; ¥40,000 brings ¥1,050."""
        low = decide(churn(ChurnStructure.MIGRATED), "20000.00")
        assert low.analysis.expected_benefit == Decimal("610.00")
        assert low.stance is WinBackStance.AS_CASE_ALLOWS
        assert not low.recommended
        assert low.measures == (WinBackMeasure.KEEP_IN_TOUCH, WinBackMeasure.TRANSFER_SERVICE)
        assert low.reasons[-1] == "not recommended: the expected benefit does not exceed the cost"
        high = decide(churn(ChurnStructure.MIGRATED), "40000.00")
        assert high.analysis.expected_benefit == Decimal("1050.00")
        assert high.recommended

    def test_a_benefit_equal_to_the_cost_is_not_enough(self) -> None:
        """Exceeds, not equals: a 10 % chance at ¥830 ÷ 10 % = ¥8,300 of benefit."""
        config = RecoveryConfig(
            margin=Decimal(1),
            promotion_share=Decimal(0),
            retention_cost=Decimal(0),
            information_value=Decimal(0),
            success={ChurnStructure.MIGRATED: Decimal("0.10")},
        )
        assert not decide(churn(ChurnStructure.MIGRATED), "8300.00", config).recommended
        assert decide(churn(ChurnStructure.MIGRATED), "8300.10", config).recommended

    def test_the_decision_names_the_customer_and_the_churn(self) -> None:
        record = churn()
        decision = decide(record, "60000.00")
        assert (decision.customer_id, decision.churn_id, decision.value) == (
            "C1",
            record.id,
            Money("60000.00"),
        )
        assert "张伟" not in repr(decision)
        assert all("张伟" not in line for line in decision.reasons)


class TestConfig:
    def test_defaults(self) -> None:
        config = RecoveryConfig()
        assert (config.important_from, config.small_below) == (Decimal(50000), Decimal(5000))
        assert config.replacement_multiple == Decimal(5)
        assert config.success == dict(DEFAULT_SUCCESS)

    def test_success_chances_left_out_keep_their_default(self) -> None:
        config = RecoveryConfig(success={ChurnStructure.MIGRATED: Decimal("0.5"), None: Decimal(0)})
        assert config.success[ChurnStructure.MIGRATED] == Decimal("0.5")
        assert config.success[None] == Decimal(0)
        assert config.success[ChurnStructure.PULLED_AWAY] == Decimal("0.25")

    @pytest.mark.parametrize(
        ("kwargs", "field"),
        [
            ({"small_below": Decimal(60000)}, "small_below"),
            ({"important_from": Decimal(-1)}, "important_from"),
            ({"staff_hours": 4}, "staff_hours"),
            ({"margin": Decimal("1.5")}, "margin"),
            ({"better_terms_uplift": Decimal(-1)}, "better_terms_uplift"),
            ({"replacement_multiple": Decimal("NaN")}, "replacement_multiple"),
            ({"success": {ChurnStructure.MIGRATED: Decimal("1.5")}}, "success.MIGRATED"),
            ({"success": {ChurnStructure.MIGRATED: 0.5}}, "success.MIGRATED"),
            ({"success": {None: Decimal(-1)}}, "success.None"),
            ({"success": {"MIGRATED": Decimal("0.5")}}, "success"),
        ],
    )
    def test_a_bad_config_is_refused_naming_the_field(
        self, kwargs: dict[str, object], field: str
    ) -> None:
        with pytest.raises(ValidationError) as caught:
            RecoveryConfig(**kwargs)  # type: ignore[arg-type]
        assert caught.value.field == field


# -- properties -----------------------------------------------------------------------------------

CONFIGS = st.one_of(st.just(RecoveryConfig()), gen.recovery_configs())


@st.composite
def values(draw: st.DrawFn, config: RecoveryConfig) -> Money:
    """Win-back values, often on or next to the config's thresholds."""
    edges = [config.small_below, config.important_from]
    edges += [e - Decimal("0.01") for e in edges if e > 0]
    return draw(st.one_of(gen.money(0, 1_000_000), st.sampled_from(edges).map(Money)))


class TestProperties:
    @given(st.data(), gen.churn_records(dropped_on_purpose=True), CONFIGS)
    def test_customers_dropped_on_purpose_are_never_won_back(
        self, data: st.DataObject, record: ChurnRecord, config: RecoveryConfig
    ) -> None:
        """Pushed away on purpose, fraud or malicious arrears: for any value and config."""
        assert record.dropped_on_purpose
        decision = decide_recovery(record, data.draw(values(config)), config)
        assert not decision.recommended
        assert decision.stance is WinBackStance.GIVE_UP_ENTIRELY
        assert decision.measures == ()
        assert decision.analysis.chance == Decimal(0)

    @given(st.data(), gen.churn_records(), CONFIGS)
    def test_raising_the_value_never_turns_win_back_into_give_up(
        self, data: st.DataObject, record: ChurnRecord, config: RecoveryConfig
    ) -> None:
        low, high = sorted(
            (data.draw(values(config)), data.draw(values(config))), key=lambda m: m.amount
        )
        cheap = decide_recovery(record, low, config)
        dear = decide_recovery(record, high, config)
        if cheap.recommended:
            assert dear.recommended
        if cheap.stance not in GIVE_UP:
            assert dear.stance not in GIVE_UP
        order = list(ValueClass)
        assert order.index(dear.value_class) <= order.index(cheap.value_class)
        assert dear.expected_net_benefit >= cheap.expected_net_benefit

    @given(st.data(), gen.churn_records(), CONFIGS)
    def test_a_decision_is_consistent(
        self, data: st.DataObject, record: ChurnRecord, config: RecoveryConfig
    ) -> None:
        decision = decide_recovery(record, data.draw(values(config)), config)
        analysis = decision.analysis
        allowed = decision.stance not in GIVE_UP
        assert decision.recommended == (allowed and analysis.expected_benefit > analysis.cost)
        assert Decimal(0) <= analysis.chance <= Decimal(1)
        if not allowed:
            assert decision.measures == ()
        if WinBackMeasure.OFFER_BETTER_TERMS in decision.measures:
            assert decision.value_class is ValueClass.IMPORTANT
            assert record.structure in (ChurnStructure.PULLED_AWAY, ChurnStructure.BOUGHT_OFF)
        assert decision.reasons[-1].startswith(("recommended", "not recommended"))
