"""Customer programmes (客户服务分类策略, DOMAIN.md §5.5)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import attrs
import pytest
from hypothesis import given
from hypothesis import strategies as st

from insurcrm.domain.customers import PdpPersonality, RiskPreference
from insurcrm.domain.policies import Policy, ProductLine
from insurcrm.domain.programmes import (
    Benefit,
    ProgrammeConfig,
    communication_style,
    internal_customer_benefits,
    loyalty_purchase_reward,
    product_mix,
    revisit_due,
    vip_services,
)
from insurcrm.errors import ValidationError
from insurcrm.testing.contracts import make_customer, make_policy

AS_OF = dt.date(2024, 3, 1)
BOUGHT = dt.date(2022, 5, 1)
DAY = dt.timedelta(days=1)
TWO_YEARS_AGO = dt.date(2022, 3, 1)


class TestInternalCustomers:
    def test_an_internal_customer_gets_the_four_benefits_and_five_percent(self) -> None:
        result = internal_customer_benefits(make_customer("C1", is_internal=True))
        assert result.eligible
        assert result.discount == Decimal("0.05")
        assert result.benefits == (
            Benefit.PREMIUM_DISCOUNT,
            Benefit.SIMPLIFIED_APPLICATION,
            Benefit.CLAIMS_GREEN_CHANNEL,
            Benefit.REFERRAL_COMMISSION_ACCOUNT,
        )
        reasons = " ".join(result.reasons)
        assert "5%" in reasons
        assert "renewal" in reasons
        assert "sales staff" in reasons

    def test_an_external_customer_gets_none(self) -> None:
        result = internal_customer_benefits(make_customer("C1"))
        assert not result.eligible
        assert result.benefits == ()
        assert result.discount == 0
        assert "external" in result.reasons[0]

    def test_a_configured_discount(self) -> None:
        config = ProgrammeConfig(internal_discount=Decimal("0.08"))
        result = internal_customer_benefits(make_customer("C1", is_internal=True), config)
        assert result.discount == Decimal("0.08")
        assert "8%" in result.reasons[0]

    def test_benefit_labels(self) -> None:
        assert Benefit.CLAIMS_GREEN_CHANNEL.label_zh == "VIP理赔绿色通道"
        assert Benefit.FREE_ACCIDENT_POLICY.label_zh == "每年赠送意外险"
        assert Benefit.REVISIT.label_zh == "回访"


class TestVip:
    def test_a_vip_gets_the_basic_vip_services_and_personalised_service(self) -> None:
        result = vip_services(True, "RFM segment HIGH_VALUE")
        assert result.eligible
        assert result.benefits == (
            Benefit.COUNTER_PRIORITY,
            Benefit.CLAIMS_PRIORITY,
            Benefit.HEALTH_CHECK_UP,
            Benefit.PERSONALISED_SERVICE,
        )
        assert "RFM segment HIGH_VALUE" in result.reasons[0]
        assert result.discount == 0

    def test_an_ordinary_customer_gets_none(self) -> None:
        result = vip_services(False, "RFM segment GENERAL")
        assert not result.eligible
        assert result.benefits == ()
        assert "ordinary customer: RFM segment GENERAL" in result.reasons[0]


# -- loyalty purchase reward ----------------------------------------------------------------------


def pending(
    policy_id: str, *, term_years: int | None = None, product_line: ProductLine | None = None
) -> Policy:
    """A pending policy of ours held by C1, with another term or product line if given."""
    policy = make_policy(policy_id, "C1")
    return attrs.evolve(
        policy,
        term_years=policy.term_years if term_years is None else term_years,
        product_line=policy.product_line if product_line is None else product_line,
    )


def long_term(policy_id: str, holder: str = "C1") -> Policy:
    return make_policy(policy_id, holder).activate(BOUGHT)


def in_force_long_term(count: int, holder: str = "C1", prefix: str = "P") -> list[Policy]:
    return [long_term(f"{prefix}{i}", holder) for i in range(count)]


class TestLoyaltyPurchaseReward:
    def test_six_in_force_long_term_policies_earn_a_free_accident_policy(self) -> None:
        result = loyalty_purchase_reward(in_force_long_term(6), AS_OF)
        assert result.eligible
        assert result.benefits == (Benefit.FREE_ACCIDENT_POLICY,)
        assert "6 in-force long-term policies ≥ 6" in result.reasons[0]

    def test_five_are_not_enough(self) -> None:
        result = loyalty_purchase_reward(in_force_long_term(5), AS_OF)
        assert not result.eligible
        assert result.benefits == ()
        assert "5 in-force long-term policies < 6" in result.reasons[0]

    def test_the_household_counts_together(self) -> None:
        household = in_force_long_term(3, "C1", "A") + in_force_long_term(3, "C2", "B")
        assert loyalty_purchase_reward(household, AS_OF).eligible

    @pytest.mark.parametrize(
        "sixth",
        [
            pending("X", term_years=1).activate(BOUGHT),
            long_term("X").lapse(dt.date(2023, 6, 1)),
            long_term("X").surrender(dt.date(2023, 6, 1)),
            make_policy("X", "C1", insurer="平安人寿").activate(BOUGHT),
            make_policy("X", "C1"),
            make_policy("X", "C1").activate(AS_OF + DAY),
        ],
        ids=[
            "short-term",
            "lapsed",
            "surrendered",
            "another insurer",
            "pending",
            "starts later",
        ],
    )
    def test_a_sixth_policy_that_does_not_count(self, sixth: Policy) -> None:
        result = loyalty_purchase_reward([*in_force_long_term(5), sixth], AS_OF)
        assert not result.eligible
        assert "5 in-force long-term policies" in result.reasons[0]

    @pytest.mark.parametrize(
        "sixth",
        [
            pending("X", term_years=2).activate(BOUGHT),
            long_term("X").lapse(AS_OF + DAY),
            long_term("X").lapse(dt.date(2023, 1, 1)).reinstate(dt.date(2023, 2, 1)),
            pending("X", product_line=ProductLine.ACCIDENT).activate(AS_OF),
        ],
        ids=["two-year term", "lapses later", "reinstated", "activated today"],
    )
    def test_a_sixth_policy_that_counts(self, sixth: Policy) -> None:
        assert loyalty_purchase_reward([*in_force_long_term(5), sixth], AS_OF).eligible

    def test_the_same_policy_given_twice_counts_once(self) -> None:
        policies = in_force_long_term(5)
        assert not loyalty_purchase_reward([*policies, policies[0]], AS_OF).eligible

    def test_a_configured_minimum(self) -> None:
        config = ProgrammeConfig(reward_min_policies=2)
        assert loyalty_purchase_reward(in_force_long_term(2), AS_OF, config).eligible
        assert not loyalty_purchase_reward(in_force_long_term(1), AS_OF, config).eligible


# -- revisit --------------------------------------------------------------------------------------


class TestRevisit:
    def test_last_purchase_exactly_two_years_ago_is_not_revisited(self) -> None:
        result = revisit_due([dt.date(2020, 1, 1), TWO_YEARS_AGO], AS_OF)
        assert not result.eligible
        assert result.benefits == ()
        assert f"last purchase {TWO_YEARS_AGO} is within 2 years" in result.reasons[0]

    def test_a_day_more_than_two_years_gets_a_revisit(self) -> None:
        result = revisit_due([dt.date(2020, 1, 1), TWO_YEARS_AGO - DAY], AS_OF)
        assert result.eligible
        assert result.benefits == (Benefit.REVISIT,)
        assert f"last purchase {TWO_YEARS_AGO - DAY} is more than 2 years" in result.reasons[0]

    def test_the_latest_purchase_decides_whatever_the_order(self) -> None:
        assert not revisit_due([dt.date(2023, 1, 1), dt.date(2015, 1, 1)], AS_OF).eligible

    def test_a_customer_who_never_bought_is_not_returning(self) -> None:
        result = revisit_due([], AS_OF)
        assert not result.eligible
        assert "not a returning customer" in result.reasons[0]

    def test_purchases_after_the_assessment_date_are_ignored(self) -> None:
        assert revisit_due([dt.date(2020, 1, 1), AS_OF + DAY], AS_OF).eligible
        assert not revisit_due([AS_OF + DAY], AS_OF).eligible

    def test_a_configured_idle_period(self) -> None:
        config = ProgrammeConfig(revisit_idle_years=1)
        assert revisit_due([dt.date(2023, 2, 28)], AS_OF, config).eligible
        assert not revisit_due([dt.date(2023, 3, 1)], AS_OF, config).eligible


@given(
    purchases=st.lists(st.dates(dt.date(2015, 1, 1), dt.date(2026, 1, 1)), max_size=5),
    as_of=st.dates(dt.date(2016, 1, 1), dt.date(2026, 1, 1)),
)
def test_revisit_exactly_when_the_last_purchase_is_more_than_two_years_old(
    purchases: list[dt.date], as_of: dt.date
) -> None:
    past = [d for d in purchases if d <= as_of]
    result = revisit_due(purchases, as_of)
    if not past:
        assert not result.eligible
        return
    last = max(past)
    # "more than 2 years": two years after the last purchase is still before as_of.
    try:
        two_years_on = last.replace(year=last.year + 2)
    except ValueError:  # 29 February: two years on is 28 February
        two_years_on = last.replace(year=last.year + 2, day=28)
    assert result.eligible == (two_years_on < as_of)


# -- product mix and communication style ----------------------------------------------------------


class TestProductMix:
    def test_risk_averse_gets_more_accident_cover_and_risk_disclosure(self) -> None:
        mix = product_mix(RiskPreference.RISK_AVERSE)
        assert mix.emphasise == (ProductLine.ACCIDENT,)
        assert "risk disclosure" in mix.note

    def test_risk_seeking_gets_investment_linked_and_universal_life(self) -> None:
        mix = product_mix(RiskPreference.RISK_SEEKING)
        assert mix.emphasise == (ProductLine.INVESTMENT_LINKED, ProductLine.UNIVERSAL_LIFE)
        assert "investment-linked" in mix.note
        assert "universal life" in mix.note

    def test_unknown_preference_emphasises_nothing(self) -> None:
        mix = product_mix(None)
        assert mix.emphasise == ()
        assert "unknown" in mix.note


class TestCommunicationStyle:
    @pytest.mark.parametrize(
        ("pdp", "words"),
        [
            (PdpPersonality.DOMINANT, "direct"),
            (PdpPersonality.EXTROVERT, "warm"),
            (PdpPersonality.PATIENT, "calm"),
            (PdpPersonality.PRECISE, "figures"),
            (PdpPersonality.INTEGRATIVE, "flexible"),
        ],
    )
    def test_each_personality_has_its_style(self, pdp: PdpPersonality, words: str) -> None:
        assert words in communication_style(pdp)

    def test_the_styles_are_distinct(self) -> None:
        styles = [communication_style(p) for p in PdpPersonality]
        assert len(set(styles)) == len(PdpPersonality)
        assert communication_style(None) not in styles
        assert "unknown" in communication_style(None)


class TestProgrammeConfig:
    def test_defaults(self) -> None:
        assert ProgrammeConfig() == ProgrammeConfig(
            internal_discount=Decimal("0.05"), reward_min_policies=6, revisit_idle_years=2
        )

    @pytest.mark.parametrize(
        ("field", "bad"),
        [
            ("internal_discount", 0.05),
            ("internal_discount", Decimal("1.5")),
            ("internal_discount", Decimal("-0.01")),
            ("reward_min_policies", 0),
            ("reward_min_policies", 6.0),
            ("revisit_idle_years", 0),
            ("revisit_idle_years", True),
        ],
    )
    def test_bad_values_are_refused_naming_the_field(self, field: str, bad: object) -> None:
        with pytest.raises(ValidationError) as caught:
            ProgrammeConfig(**{field: bad})  # type: ignore[arg-type]
        assert caught.value.field == field
