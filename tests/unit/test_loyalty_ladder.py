"""The loyalty ladder (客户忠诚度级别, DOMAIN.md §4.2): every row, every threshold, both sides."""

from __future__ import annotations

import datetime as dt

import attrs
import pytest
from hypothesis import given
from hypothesis import strategies as st

from insurcrm.domain.loyalty import (
    LadderConfig,
    LadderFacts,
    LadderResult,
    LoyaltyLevel,
    ladder_facts,
    loyalty_level,
)
from insurcrm.domain.policies import EndReason
from insurcrm.errors import ValidationError
from insurcrm.testing.contracts import make_policy

AS_OF = dt.date(2024, 3, 1)
RECENT = dt.date(2024, 1, 10)
EARLIER = dt.date(2023, 1, 10)
#: Exactly three years before AS_OF: the edge of "last purchase within 3 years".
THREE_YEARS_AGO = dt.date(2021, 3, 1)
#: Exactly five years before AS_OF: a first purchase here gives a tenure of 5 whole years.
FIVE_YEARS_AGO = dt.date(2019, 3, 1)
DAY = dt.timedelta(days=1)

ORDINARY_BUYER = LoyaltyLevel.ORDINARY_BUYER
PROSPECT = LoyaltyLevel.PROSPECT
GENERAL = LoyaltyLevel.GENERAL
ACTIVE = LoyaltyLevel.ACTIVE
ADVOCATE = LoyaltyLevel.ADVOCATE
PARTNER = LoyaltyLevel.PARTNER


def facts(
    *purchases: dt.date,
    in_force: bool = True,
    contacts: int = 0,
    referred: int = 0,
    partner: bool = False,
) -> LadderFacts:
    return LadderFacts(
        purchases=purchases,
        has_policy_in_force=in_force,
        two_way_contacts=contacts,
        referred_buyers=referred,
        cooperation_partner=partner,
    )


def level(ladder: LadderFacts, config: LadderConfig | None = None) -> LoyaltyLevel:
    return loyalty_level(ladder, AS_OF, config).level


def text(result: LadderResult) -> str:
    return " | ".join(result.reasons)


class TestLevels:
    def test_the_levels_are_ranked_lowest_first(self) -> None:
        assert [lv.rank for lv in LoyaltyLevel] == [0, 1, 2, 3, 4, 5]
        assert list(LoyaltyLevel) == [ORDINARY_BUYER, PROSPECT, GENERAL, ACTIVE, ADVOCATE, PARTNER]
        assert [lv.label_zh for lv in LoyaltyLevel] == [
            "普通购买者",
            "潜在的客户",
            "一般的客户",
            "活跃的客户",
            "拥护的客户",
            "合作的伙伴",
        ]


class TestOrdinaryBuyerAndProspect:
    def test_no_contact_and_no_purchase_is_an_ordinary_buyer(self) -> None:
        result = loyalty_level(facts(in_force=False), AS_OF)
        assert result.level is ORDINARY_BUYER
        assert "ORDINARY_BUYER" in text(result)

    def test_one_two_way_contact_makes_a_prospect(self) -> None:
        result = loyalty_level(facts(in_force=False, contacts=1), AS_OF)
        assert result.level is PROSPECT
        assert "1 two-way contact" in text(result)

    def test_many_contacts_and_referrals_without_a_purchase_stay_prospect(self) -> None:
        ladder = facts(in_force=False, contacts=7, referred=5, partner=True)
        result = loyalty_level(ladder, AS_OF)
        assert result.level is PROSPECT
        assert "7 two-way contact" in text(result)

    def test_a_purchase_after_the_assessment_date_does_not_count(self) -> None:
        assert level(facts(AS_OF + DAY, in_force=False)) is ORDINARY_BUYER
        assert level(facts(AS_OF + DAY, in_force=False, contacts=1)) is PROSPECT
        assert level(facts(AS_OF + DAY, RECENT)) is GENERAL


class TestGeneral:
    def test_one_purchase_is_general(self) -> None:
        result = loyalty_level(facts(RECENT), AS_OF)
        assert result.level is GENERAL
        reasons = text(result)
        assert "1 purchase" in reasons
        assert "1 < 2 purchases" in reasons

    def test_one_purchase_without_any_contact_is_still_general(self) -> None:
        assert level(facts(EARLIER, in_force=False, contacts=0)) is GENERAL


class TestActive:
    def test_two_recent_purchases_and_a_policy_in_force_are_active(self) -> None:
        result = loyalty_level(facts(EARLIER, RECENT), AS_OF)
        assert result.level is ACTIVE
        reasons = text(result)
        assert "2 ≥ 2 purchases" in reasons
        assert "a policy in force" in reasons
        assert f"last purchase {RECENT} within 3 years" in reasons

    def test_purchases_threshold_one_below_is_general(self) -> None:
        assert level(facts(RECENT)) is GENERAL
        assert level(facts(RECENT, RECENT)) is ACTIVE  # two purchases on one day are two

    def test_no_policy_in_force_is_general(self) -> None:
        result = loyalty_level(facts(EARLIER, RECENT, in_force=False), AS_OF)
        assert result.level is GENERAL
        assert "no policy in force" in text(result)

    def test_last_purchase_exactly_three_years_ago_is_not_within_three_years(self) -> None:
        result = loyalty_level(facts(dt.date(2020, 1, 1), THREE_YEARS_AGO), AS_OF)
        assert result.level is GENERAL
        assert f"last purchase {THREE_YEARS_AGO} not within 3 years" in text(result)

    def test_last_purchase_a_day_inside_three_years_is_within(self) -> None:
        result = loyalty_level(facts(dt.date(2020, 1, 1), THREE_YEARS_AGO + DAY), AS_OF)
        assert result.level is ACTIVE
        assert f"last purchase {THREE_YEARS_AGO + DAY} within 3 years" in text(result)

    def test_a_purchase_on_the_assessment_day_counts(self) -> None:
        assert level(facts(EARLIER, AS_OF)) is ACTIVE

    def test_reasons_list_every_missing_condition(self) -> None:
        result = loyalty_level(facts(dt.date(2010, 5, 5), in_force=False), AS_OF)
        assert result.level is GENERAL
        reasons = text(result)
        assert "1 < 2 purchases" in reasons
        assert "no policy in force" in reasons
        assert "last purchase 2010-05-05 not within 3 years" in reasons


class TestAdvocate:
    def test_active_with_one_referred_buyer_is_an_advocate(self) -> None:
        result = loyalty_level(facts(EARLIER, RECENT, referred=1), AS_OF)
        assert result.level is ADVOCATE
        assert "1 referred buyer(s) ≥ 1" in text(result)

    def test_active_without_referred_buyers_stays_active(self) -> None:
        result = loyalty_level(facts(EARLIER, RECENT, referred=0), AS_OF)
        assert result.level is ACTIVE
        assert "0 referred buyer(s) < 1" in text(result)

    def test_referred_buyers_do_not_lift_a_customer_who_is_not_active(self) -> None:
        assert level(facts(RECENT, referred=3, partner=True)) is GENERAL
        assert level(facts(FIVE_YEARS_AGO, RECENT, in_force=False, referred=5)) is GENERAL


class TestPartner:
    def test_three_referred_buyers_and_five_years_tenure_make_a_partner(self) -> None:
        result = loyalty_level(facts(FIVE_YEARS_AGO, RECENT, referred=3), AS_OF)
        assert result.level is PARTNER
        reasons = text(result)
        assert "3 referred buyers ≥ 3" in reasons
        assert "tenure 5 ≥ 5 years" in reasons

    def test_two_referred_buyers_are_not_enough(self) -> None:
        result = loyalty_level(facts(FIVE_YEARS_AGO, RECENT, referred=2), AS_OF)
        assert result.level is ADVOCATE
        assert "2 referred buyers < 3 and not a cooperation partner" in text(result)

    def test_the_partner_flag_replaces_the_three_referred_buyers(self) -> None:
        result = loyalty_level(facts(FIVE_YEARS_AGO, RECENT, referred=1, partner=True), AS_OF)
        assert result.level is PARTNER
        assert "flagged as a cooperation partner" in text(result)

    def test_the_partner_flag_does_not_skip_the_advocate_rung(self) -> None:
        result = loyalty_level(facts(FIVE_YEARS_AGO, RECENT, referred=0, partner=True), AS_OF)
        assert result.level is ACTIVE

    def test_tenure_one_day_short_of_five_years_is_not_enough(self) -> None:
        result = loyalty_level(facts(FIVE_YEARS_AGO + DAY, RECENT, referred=3), AS_OF)
        assert result.level is ADVOCATE
        assert "tenure 4 < 5 years" in text(result)

    def test_tenure_short_with_the_partner_flag_is_not_enough(self) -> None:
        ladder = facts(FIVE_YEARS_AGO + DAY, RECENT, referred=1, partner=True)
        assert level(ladder) is ADVOCATE

    def test_reasons_name_both_missing_partner_conditions(self) -> None:
        result = loyalty_level(facts(EARLIER, RECENT, referred=1), AS_OF)
        assert result.level is ADVOCATE
        reasons = text(result)
        assert "1 referred buyers < 3" in reasons
        assert "tenure 1 < 5 years" in reasons

    def test_tenure_counts_from_the_first_purchase_whatever_the_order_given(self) -> None:
        assert level(facts(RECENT, FIVE_YEARS_AGO, referred=3)) is PARTNER
        assert level(facts(RECENT, EARLIER, FIVE_YEARS_AGO, referred=3)) is PARTNER


class TestConfiguredThresholds:
    def test_a_company_can_set_its_own_thresholds(self) -> None:
        config = LadderConfig(
            active_min_purchases=3,
            active_recent_years=1,
            advocate_min_referred_buyers=2,
            partner_min_referred_buyers=4,
            partner_min_tenure_years=0,
        )
        assert level(facts(EARLIER, RECENT), config) is GENERAL  # 2 < 3 purchases
        assert level(facts(EARLIER, EARLIER, EARLIER), config) is GENERAL  # not within 1 year
        assert level(facts(EARLIER, RECENT, RECENT, referred=1), config) is ACTIVE
        assert level(facts(EARLIER, RECENT, RECENT, referred=2), config) is ADVOCATE
        assert level(facts(RECENT, RECENT, RECENT, referred=4), config) is PARTNER

    def test_defaults(self) -> None:
        assert LadderConfig() == LadderConfig(
            active_min_purchases=2,
            active_recent_years=3,
            advocate_min_referred_buyers=1,
            partner_min_referred_buyers=3,
            partner_min_tenure_years=5,
        )

    @pytest.mark.parametrize(
        ("field", "bad"),
        [
            ("active_min_purchases", 0),
            ("active_min_purchases", -1),
            ("active_min_purchases", 2.0),
            ("active_min_purchases", True),
            ("active_recent_years", 0),
            ("active_recent_years", "3"),
            ("advocate_min_referred_buyers", 0),
            ("advocate_min_referred_buyers", None),
            ("partner_min_referred_buyers", 0),
            ("partner_min_tenure_years", -1),
            ("partner_min_tenure_years", 5.5),
            ("partner_min_tenure_years", False),
        ],
    )
    def test_bad_values_are_refused_naming_the_field(self, field: str, bad: object) -> None:
        with pytest.raises(ValidationError) as caught:
            LadderConfig(**{field: bad})  # type: ignore[arg-type]  # some are ill-typed, on purpose
        assert caught.value.field == field

    def test_partner_cannot_need_fewer_referred_buyers_than_advocate(self) -> None:
        with pytest.raises(ValidationError) as caught:
            LadderConfig(advocate_min_referred_buyers=3, partner_min_referred_buyers=2)
        assert caught.value.field == "partner_min_referred_buyers"
        LadderConfig(advocate_min_referred_buyers=3, partner_min_referred_buyers=3)

    def test_zero_tenure_is_allowed(self) -> None:
        assert LadderConfig(partner_min_tenure_years=0).partner_min_tenure_years == 0


class TestFactsFromPolicies:
    def test_purchases_and_policy_in_force_come_from_our_policies(self) -> None:
        policy = make_policy("P1", "C1").activate(dt.date(2022, 5, 1)).renew(dt.date(2023, 5, 1))
        later = make_policy("P2", "C1").activate(AS_OF + DAY)
        ladder = ladder_facts([policy, later], AS_OF, referred_buyers=1)
        assert ladder.purchases == (dt.date(2022, 5, 1), dt.date(2023, 5, 1))
        assert ladder.has_policy_in_force
        assert loyalty_level(ladder, AS_OF).level is ADVOCATE

    def test_a_lapsed_policy_is_not_in_force(self) -> None:
        policy = (
            make_policy("P1", "C1")
            .activate(dt.date(2022, 5, 1))
            .renew(dt.date(2023, 5, 1))
            .lapse(dt.date(2024, 1, 1))
        )
        ladder = ladder_facts([policy], AS_OF)
        assert not ladder.has_policy_in_force
        assert loyalty_level(ladder, AS_OF).level is GENERAL
        # …but on a day before it lapsed it was.
        assert ladder_facts([policy], dt.date(2023, 12, 31)).has_policy_in_force

    def test_another_insurers_policy_is_neither_a_purchase_nor_in_force(self) -> None:
        theirs = make_policy("P1", "C1", insurer="平安人寿").activate(dt.date(2023, 1, 1))
        ladder = ladder_facts([theirs], AS_OF, two_way_contacts=1)
        assert ladder.purchases == ()
        assert not ladder.has_policy_in_force
        assert loyalty_level(ladder, AS_OF).level is PROSPECT

    def test_a_cancelled_policy_keeps_its_purchase(self) -> None:
        policy = make_policy().activate(EARLIER).cancel(RECENT, EndReason.FRAUD)
        ladder = ladder_facts([policy], AS_OF)
        assert ladder.purchases == (EARLIER,)
        assert loyalty_level(ladder, AS_OF).level is GENERAL


# -- properties -----------------------------------------------------------------------------------

purchase_days = st.dates(min_value=dt.date(2010, 1, 1), max_value=dt.date(2025, 12, 31))


@st.composite
def ladder_facts_strategy(draw: st.DrawFn) -> LadderFacts:
    return LadderFacts(
        purchases=tuple(draw(st.lists(purchase_days, max_size=6))),
        has_policy_in_force=draw(st.booleans()),
        two_way_contacts=draw(st.integers(min_value=0, max_value=3)),
        referred_buyers=draw(st.integers(min_value=0, max_value=5)),
        cooperation_partner=draw(st.booleans()),
    )


as_of_days = st.dates(min_value=dt.date(2015, 1, 1), max_value=dt.date(2026, 12, 31))


@given(ladder=ladder_facts_strategy(), as_of=as_of_days)
def test_every_customer_gets_exactly_one_level_with_its_reason(
    ladder: LadderFacts, as_of: dt.date
) -> None:
    result = loyalty_level(ladder, as_of)
    assert result.level in LoyaltyLevel
    assert result.reasons
    assert any(r.startswith(f"{result.level.name}:") for r in result.reasons)
    bought = any(d <= as_of for d in ladder.purchases)
    assert (result.level.rank >= GENERAL.rank) == bought


@given(ladder=ladder_facts_strategy(), as_of=as_of_days, more=st.integers(1, 5))
def test_more_referred_buyers_never_lower_the_level(
    ladder: LadderFacts, as_of: dt.date, more: int
) -> None:
    before = loyalty_level(ladder, as_of).level
    after = loyalty_level(
        attrs.evolve(ladder, referred_buyers=ladder.referred_buyers + more), as_of
    ).level
    assert after.rank >= before.rank


@given(ladder=ladder_facts_strategy(), as_of=as_of_days, extra=purchase_days)
def test_adding_a_purchase_never_lowers_the_level(
    ladder: LadderFacts, as_of: dt.date, extra: dt.date
) -> None:
    # Another purchase raises the count, can only make the last purchase later and the
    # first earlier (longer tenure): no rung can be lost, whenever it was made.
    before = loyalty_level(ladder, as_of).level
    after = loyalty_level(attrs.evolve(ladder, purchases=(*ladder.purchases, extra)), as_of).level
    assert after.rank >= before.rank


@given(ladder=ladder_facts_strategy(), as_of=as_of_days)
def test_more_favourable_flags_never_lower_the_level(ladder: LadderFacts, as_of: dt.date) -> None:
    before = loyalty_level(ladder, as_of).level
    for better in (
        attrs.evolve(ladder, has_policy_in_force=True),
        attrs.evolve(ladder, cooperation_partner=True),
        attrs.evolve(ladder, two_way_contacts=ladder.two_way_contacts + 1),
    ):
        assert loyalty_level(better, as_of).level.rank >= before.rank


@given(ladder=ladder_facts_strategy(), as_of=as_of_days, data=st.data())
def test_the_result_does_not_depend_on_the_order_of_the_purchases(
    ladder: LadderFacts, as_of: dt.date, data: st.DataObject
) -> None:
    shuffled = tuple(data.draw(st.permutations(ladder.purchases)))
    assert loyalty_level(attrs.evolve(ladder, purchases=shuffled), as_of) == loyalty_level(
        ladder, as_of
    )
    in_order = attrs.evolve(ladder, purchases=tuple(sorted(ladder.purchases)))
    assert loyalty_level(in_order, as_of) == loyalty_level(ladder, as_of)
