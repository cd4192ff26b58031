"""Loyalty types (忠诚类型, DOMAIN.md §4.3): the table, the decision order, the default signals."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import attrs
import pytest
from hypothesis import given
from hypothesis import strategies as st

from insurcrm.domain.loyalty import (
    Attitude,
    LoyaltySignals,
    LoyaltyType,
    LoyaltyTypeConfig,
    LoyaltyTypeResult,
    SatisfactionOutcome,
    Sensitivity,
    derive_signals,
    loyalty_type,
)
from insurcrm.domain.policies import Policy
from insurcrm.errors import ValidationError
from insurcrm.testing.contracts import make_policy

AS_OF = dt.date(2024, 3, 1)
THREE_YEARS_AGO = dt.date(2021, 3, 1)
DAY = dt.timedelta(days=1)
HALF = Decimal("0.5")

REPEAT_HIGH_TYPES = {
    LoyaltyType.PREMIUM,
    LoyaltyType.MONOPOLY,
    LoyaltyType.INCENTIVE,
    LoyaltyType.CONVENIENCE,
    LoyaltyType.INERTIA,
}
REPEAT_LOW_TYPES = {LoyaltyType.LATENT, LoyaltyType.PRICE, LoyaltyType.NONE}


def signals(**given_signals: object) -> LoyaltySignals:
    fields: dict[str, object] = {"repeat_high": False, "attachment_high": False}
    fields.update(given_signals)
    return LoyaltySignals(**fields)  # type: ignore[arg-type]


def kind(**given_signals: object) -> LoyaltyType:
    return loyalty_type(signals(**given_signals)).type


signal_sets = st.builds(
    LoyaltySignals,
    repeat_high=st.booleans(),
    attachment_high=st.booleans(),
    no_alternative=st.booleans(),
    reward_share=st.decimals(min_value=0, max_value=1, places=4, allow_nan=False),
    convenience_driven=st.booleans(),
    constrained=st.booleans(),
    price_sensitive=st.booleans(),
)


class TestLabels:
    def test_every_type_has_its_chinese_label(self) -> None:
        assert {t.name: t.label_zh for t in LoyaltyType} == {
            "MONOPOLY": "垄断忠诚",
            "INERTIA": "惰性忠诚",
            "LATENT": "潜在忠诚",
            "CONVENIENCE": "方便忠诚",
            "PRICE": "价格忠诚",
            "INCENTIVE": "激励忠诚",
            "PREMIUM": "超值忠诚",
            "NONE": "无忠诚",
        }

    def test_values_are_the_english_names(self) -> None:
        assert all(t.value == t.name for t in LoyaltyType)


class TestRule1Premium:
    def test_high_attachment_and_high_repeat_is_premium(self) -> None:
        result = loyalty_type(signals(repeat_high=True, attachment_high=True))
        assert result.type is LoyaltyType.PREMIUM
        assert "rule 1" in result.reasons[0]
        assert "attachment high, repeat high" in result.reasons[0]

    def test_premium_wins_over_every_other_signal(self) -> None:
        everything = signals(
            repeat_high=True,
            attachment_high=True,
            no_alternative=True,
            reward_share=Decimal(1),
            convenience_driven=True,
            constrained=True,
            price_sensitive=True,
        )
        assert loyalty_type(everything).type is LoyaltyType.PREMIUM


class TestRule2RepeatHigh:
    def test_no_alternative_is_monopoly_before_anything_else(self) -> None:
        result = loyalty_type(
            signals(
                repeat_high=True,
                no_alternative=True,
                reward_share=Decimal(1),
                convenience_driven=True,
            )
        )
        assert result.type is LoyaltyType.MONOPOLY
        assert "rule 2: no alternative" in result.reasons[0]

    def test_half_the_purchases_under_a_reward_programme_is_incentive(self) -> None:
        result = loyalty_type(signals(repeat_high=True, reward_share=HALF))
        assert result.type is LoyaltyType.INCENTIVE
        assert "50%" in result.reasons[0]

    def test_just_under_half_is_not_incentive(self) -> None:
        assert kind(repeat_high=True, reward_share=Decimal("0.4999")) is LoyaltyType.INERTIA

    def test_incentive_comes_before_convenience(self) -> None:
        assert (
            kind(repeat_high=True, reward_share=Decimal("0.75"), convenience_driven=True)
            is LoyaltyType.INCENTIVE
        )

    def test_convenience_driven_is_convenience(self) -> None:
        result = loyalty_type(
            signals(repeat_high=True, convenience_driven=True, reward_share=Decimal("0.4999"))
        )
        assert result.type is LoyaltyType.CONVENIENCE
        assert "convenience" in result.reasons[0]

    def test_otherwise_repeat_without_attachment_is_inertia(self) -> None:
        result = loyalty_type(signals(repeat_high=True))
        assert result.type is LoyaltyType.INERTIA
        assert "attachment low, repeat high" in result.reasons[0]

    def test_rule_3_signals_do_not_matter_when_repeat_is_high(self) -> None:
        assert kind(repeat_high=True, constrained=True, price_sensitive=True) is LoyaltyType.INERTIA

    def test_a_configured_incentive_share(self) -> None:
        config = LoyaltyTypeConfig(incentive_min_share=Decimal("0.8"))
        high = signals(repeat_high=True, reward_share=Decimal("0.8"))
        low = signals(repeat_high=True, reward_share=Decimal("0.7999"))
        assert loyalty_type(high, config).type is LoyaltyType.INCENTIVE
        assert loyalty_type(low, config).type is LoyaltyType.INERTIA


class TestRule3RepeatLow:
    def test_constrained_is_latent_before_price(self) -> None:
        result = loyalty_type(signals(constrained=True, price_sensitive=True, attachment_high=True))
        assert result.type is LoyaltyType.LATENT
        assert "constrained" in result.reasons[0]

    def test_price_sensitive_is_price_before_attachment(self) -> None:
        result = loyalty_type(signals(price_sensitive=True, attachment_high=True))
        assert result.type is LoyaltyType.PRICE
        assert "price-sensitive" in result.reasons[0]

    def test_attached_but_not_repeating_is_latent(self) -> None:
        result = loyalty_type(signals(attachment_high=True))
        assert result.type is LoyaltyType.LATENT
        assert "attachment high, repeat low" in result.reasons[0]

    def test_otherwise_none(self) -> None:
        result = loyalty_type(signals())
        assert result.type is LoyaltyType.NONE
        assert "attachment low, repeat low" in result.reasons[0]

    def test_rule_2_signals_do_not_matter_when_repeat_is_low(self) -> None:
        assert (
            kind(no_alternative=True, reward_share=Decimal(1), convenience_driven=True)
            is LoyaltyType.NONE
        )


class TestSignalsValidation:
    @pytest.mark.parametrize("bad", [Decimal("1.01"), Decimal(-1), 0.5, Decimal("NaN")])
    def test_reward_share_must_be_a_fraction(self, bad: object) -> None:
        with pytest.raises(ValidationError) as caught:
            signals(reward_share=bad)
        assert caught.value.field == "reward_share"

    @pytest.mark.parametrize(
        ("field", "bad"),
        [
            ("repeat_min_purchases", 0),
            ("repeat_window_years", 0),
            ("incentive_min_share", Decimal("1.5")),
            ("incentive_min_share", 0.5),
            ("attachment_min_referrals", 0),
        ],
    )
    def test_config_refuses_bad_values_naming_the_field(self, field: str, bad: object) -> None:
        with pytest.raises(ValidationError) as caught:
            LoyaltyTypeConfig(**{field: bad})  # type: ignore[arg-type]
        assert caught.value.field == field


# -- derived signals ------------------------------------------------------------------------------


def bought(*days: dt.date, campaign: str | None = None, policy_id: str = "P1") -> Policy:
    """A policy of ours activated on the first day and renewed on the others."""
    policy = make_policy(policy_id, "C1", campaign=campaign).activate(days[0])
    for day in days[1:]:
        policy = policy.renew(day)
    return policy


class TestDeriveSignals:
    def test_two_purchases_in_the_last_three_years_make_repeat_high(self) -> None:
        policy = bought(dt.date(2022, 6, 1), dt.date(2023, 6, 1))
        assert derive_signals([policy], AS_OF).repeat_high

    def test_one_purchase_is_repeat_low(self) -> None:
        assert not derive_signals([bought(dt.date(2023, 6, 1))], AS_OF).repeat_high

    def test_a_purchase_exactly_three_years_ago_is_outside_the_window(self) -> None:
        edge = bought(THREE_YEARS_AGO, dt.date(2023, 6, 1))
        inside = bought(THREE_YEARS_AGO + DAY, dt.date(2023, 6, 1))
        assert not derive_signals([edge], AS_OF).repeat_high
        assert derive_signals([inside], AS_OF).repeat_high

    def test_purchases_on_two_policies_add_up(self) -> None:
        policies = [
            bought(dt.date(2023, 1, 1)),
            bought(dt.date(2023, 2, 1), policy_id="P2"),
        ]
        assert derive_signals(policies, AS_OF).repeat_high

    def test_purchases_after_the_assessment_date_do_not_count(self) -> None:
        policy = bought(dt.date(2023, 6, 1), AS_OF + DAY)
        assert not derive_signals([policy], AS_OF).repeat_high

    def test_another_insurers_policy_makes_no_purchase(self) -> None:
        theirs = make_policy("P9", "C1", insurer="中国人寿").activate(dt.date(2023, 1, 1))
        assert not derive_signals([theirs, bought(dt.date(2023, 6, 1))], AS_OF).repeat_high

    @pytest.mark.parametrize(
        ("satisfaction", "referrals", "attitude", "attached"),
        [
            (SatisfactionOutcome.SATISFIED, 1, None, True),
            (SatisfactionOutcome.DELIGHTED, 1, None, True),
            (SatisfactionOutcome.SATISFIED, 0, Attitude.FAVOURS_US, True),
            (SatisfactionOutcome.DELIGHTED, 3, Attitude.FAVOURS_US, True),
            (SatisfactionOutcome.SATISFIED, 0, None, False),
            (SatisfactionOutcome.SATISFIED, 0, Attitude.INDIFFERENT, False),
            (SatisfactionOutcome.DELIGHTED, 0, Attitude.FAVOURS_COMPETITORS, False),
            (SatisfactionOutcome.DISSATISFIED, 5, Attitude.FAVOURS_US, False),
            (None, 5, Attitude.FAVOURS_US, False),
        ],
    )
    def test_attachment_needs_satisfaction_and_a_referral_or_favouring_us(
        self,
        satisfaction: SatisfactionOutcome | None,
        referrals: int,
        attitude: Attitude | None,
        attached: bool,
    ) -> None:
        derived = derive_signals(
            [],
            AS_OF,
            latest_satisfaction=satisfaction,
            referrals=referrals,
            competitor_attitude=attitude,
        )
        assert derived.attachment_high is attached

    def test_reward_share_is_the_share_of_purchases_on_campaign_policies(self) -> None:
        tagged = bought(dt.date(2022, 1, 1), dt.date(2023, 1, 1), campaign="2024开门红")
        plain = bought(dt.date(2022, 2, 1), dt.date(2023, 2, 1), policy_id="P2")
        derived = derive_signals([tagged, plain], AS_OF)
        assert derived.reward_share == HALF
        assert loyalty_type(derived).type is LoyaltyType.INCENTIVE

    def test_reward_share_under_half(self) -> None:
        tagged = bought(dt.date(2023, 1, 1), campaign="春季回馈")
        plain = bought(dt.date(2022, 2, 1), dt.date(2023, 2, 1), policy_id="P2")
        derived = derive_signals([tagged, plain], AS_OF)
        assert derived.reward_share == Decimal("0.3333")
        assert loyalty_type(derived).type is LoyaltyType.INERTIA

    def test_no_purchase_means_no_reward_share(self) -> None:
        assert derive_signals([], AS_OF).reward_share == 0

    @pytest.mark.parametrize(
        ("sensitivity", "sensitive"),
        [(Sensitivity.HIGH, True), (Sensitivity.MEDIUM, False), (Sensitivity.LOW, False)],
    )
    def test_price_sensitive_means_high_price_sensitivity(
        self, sensitivity: Sensitivity, sensitive: bool
    ) -> None:
        assert derive_signals([], AS_OF, price_sensitivity=sensitivity).price_sensitive is sensitive

    def test_given_signals_pass_through(self) -> None:
        derived = derive_signals(
            [], AS_OF, no_alternative=True, convenience_driven=True, constrained=True
        )
        assert derived == LoyaltySignals(
            repeat_high=False,
            attachment_high=False,
            no_alternative=True,
            reward_share=Decimal(0),
            convenience_driven=True,
            constrained=True,
            price_sensitive=False,
        )

    def test_defaults_of_a_customer_with_nothing_recorded(self) -> None:
        assert derive_signals([], AS_OF) == LoyaltySignals(repeat_high=False, attachment_high=False)
        assert loyalty_type(derive_signals([], AS_OF)).type is LoyaltyType.NONE

    def test_a_satisfied_referrer_who_repeats_is_premium(self) -> None:
        derived = derive_signals(
            [bought(dt.date(2022, 6, 1), dt.date(2023, 6, 1))],
            AS_OF,
            latest_satisfaction=SatisfactionOutcome.DELIGHTED,
            referrals=1,
        )
        assert loyalty_type(derived).type is LoyaltyType.PREMIUM

    def test_configured_window_and_minimums(self) -> None:
        config = LoyaltyTypeConfig(
            repeat_min_purchases=3, repeat_window_years=1, attachment_min_referrals=2
        )
        policy = bought(dt.date(2023, 4, 1), dt.date(2023, 9, 1), dt.date(2024, 2, 1))
        derived = derive_signals(
            [policy],
            AS_OF,
            latest_satisfaction=SatisfactionOutcome.SATISFIED,
            referrals=1,
            config=config,
        )
        assert derived.repeat_high
        assert not derived.attachment_high  # 1 referral < 2
        older = bought(dt.date(2023, 2, 1), dt.date(2023, 9, 1), dt.date(2024, 2, 1))
        assert not derive_signals([older], AS_OF, config=config).repeat_high


# -- properties -----------------------------------------------------------------------------------


def reference_type(s: LoyaltySignals) -> LoyaltyType:
    """DOMAIN.md §4.3's decision order, written out independently."""
    if s.attachment_high and s.repeat_high:
        return LoyaltyType.PREMIUM
    if s.repeat_high:
        if s.no_alternative:
            return LoyaltyType.MONOPOLY
        if s.reward_share * 2 >= 1:
            return LoyaltyType.INCENTIVE
        if s.convenience_driven:
            return LoyaltyType.CONVENIENCE
        return LoyaltyType.INERTIA
    if s.constrained:
        return LoyaltyType.LATENT
    if s.price_sensitive:
        return LoyaltyType.PRICE
    if s.attachment_high:
        return LoyaltyType.LATENT
    return LoyaltyType.NONE


@given(s=signal_sets)
def test_every_signal_set_gets_exactly_one_type_by_the_decision_order(s: LoyaltySignals) -> None:
    result = loyalty_type(s)
    assert isinstance(result, LoyaltyTypeResult)
    assert result.type in LoyaltyType
    assert result.type is reference_type(s)
    assert result.signals == s
    assert len(result.reasons) == 1
    assert result.reasons[0].startswith(f"{result.type.name}:")
    assert result.type in (REPEAT_HIGH_TYPES if s.repeat_high else REPEAT_LOW_TYPES)


@given(s=signal_sets)
def test_high_attachment_and_high_repeat_is_always_premium(s: LoyaltySignals) -> None:
    both_high = attrs.evolve(s, attachment_high=True, repeat_high=True)
    assert loyalty_type(both_high).type is LoyaltyType.PREMIUM
    if not (s.attachment_high and s.repeat_high):
        assert loyalty_type(s).type is not LoyaltyType.PREMIUM
