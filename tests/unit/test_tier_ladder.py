"""The service-tier ladder as data (客户服务升级规划, DOMAIN.md §6): validation, plain data,
qualification and what a customer is missing."""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal
from typing import Any

import attrs
import pytest
from hypothesis import given

from insurcrm.domain.credit import CreditGrade
from insurcrm.domain.dates import whole_years_between
from insurcrm.domain.loyalty import LoyaltyLevel
from insurcrm.domain.tier_membership import evaluate_tier
from insurcrm.domain.tiers import (
    DEFAULT_LADDER,
    Benefits,
    Combine,
    Criterion,
    DowngradeMode,
    DowngradeRules,
    DropPolicy,
    Indicator,
    ReviewSchedule,
    Tier,
    TierFigures,
    TierLadder,
)
from insurcrm.errors import RuleViolation, ValidationError
from insurcrm.testing import strategies as gen
from tests.unit.tier_examples import GOLD_FIGURES, PLATINUM_FIGURES, SILVER_FIGURES

AS_OF = dt.date(2024, 3, 1)
PREMIUM = Indicator.ANNUAL_PREMIUM
POLICIES = Indicator.POLICIES_IN_FORCE
TENURE = Indicator.TENURE_YEARS
REFERRALS = Indicator.REFERRALS
LOYALTY = Indicator.LOYALTY_LEVEL
CREDIT = Indicator.CREDIT_GRADE
BASE = Tier("STANDARD", "普通")


def ladder(*tiers: Tier, rules: DowngradeRules | None = None) -> TierLadder:
    """A ladder of STANDARD and ``tiers``."""
    return TierLadder((BASE, *tiers), rules or DowngradeRules())


def tier(code: str, *criteria: tuple[Indicator, Any], combine: Combine = Combine.ALL) -> Tier:
    return Tier(code, criteria=tuple(Criterion(i, v) for i, v in criteria), combine=combine)


def refusal(**kwargs: Any) -> ValidationError:
    """The error a ladder of STANDARD, ``lower`` and ``higher`` is refused with."""
    with pytest.raises(ValidationError) as info:
        ladder(kwargs["lower"], kwargs["higher"])
    return info.value


def data(*tiers: dict[str, Any], **top: Any) -> dict[str, Any]:
    """Ladder data: STANDARD then ``tiers``."""
    return {"tiers": [{"code": "STANDARD"}, *tiers], **top}


def silver_data(**fields: Any) -> dict[str, Any]:
    silver: dict[str, Any] = {
        "code": "SILVER",
        "criteria": [{"indicator": "ANNUAL_PREMIUM", "at_least": "10000"}],
    }
    silver.update(fields)
    return data(silver)


def from_data_error(raw: dict[str, Any]) -> ValidationError:
    with pytest.raises(ValidationError) as info:
        TierLadder.from_data(raw)
    return info.value


# -- the default ladder ---------------------------------------------------------------------------


class TestDefaultLadder:
    def test_has_the_four_tiers_of_domain_md(self) -> None:
        """DEFAULT_LADDER is STANDARD, SILVER, GOLD, PLATINUM with the §6 downgrade rules."""
        assert DEFAULT_LADDER.codes == ("STANDARD", "SILVER", "GOLD", "PLATINUM")
        assert [t.name_zh for t in DEFAULT_LADDER.tiers] == ["普通", "银卡", "金卡", "白金/VIP"]
        rules = DEFAULT_LADDER.rules
        assert rules == DowngradeRules()
        assert rules.mode is DowngradeMode.AT_REVIEW
        assert rules.schedule is ReviewSchedule.ANNIVERSARY
        assert rules.drop is DropPolicy.ONE_TIER
        assert rules.grace_days == 90

    def test_builds_again_from_its_own_parts(self) -> None:
        """The default ladder passes its own validation when rebuilt."""
        assert TierLadder(DEFAULT_LADDER.tiers, DEFAULT_LADDER.rules) == DEFAULT_LADDER

    def test_benefits_grow_up_the_ladder(self) -> None:
        """Each tier gives at least the discount of the one below."""
        discounts = [t.benefits.premium_discount for t in DEFAULT_LADDER.tiers]
        assert discounts == sorted(discounts)
        assert DEFAULT_LADDER.tier("PLATINUM").benefits.health_check_up

    def test_index_and_tier_by_code(self) -> None:
        """Tiers are found by code; an unknown code is a RuleViolation naming it."""
        assert DEFAULT_LADDER.index("GOLD") == 2
        assert DEFAULT_LADDER.tier("SILVER").code == "SILVER"
        with pytest.raises(RuleViolation, match="DIAMOND"):
            DEFAULT_LADDER.index("DIAMOND")

    def test_round_trips_through_plain_data_and_json(self) -> None:
        """from_data(to_data(DEFAULT_LADDER)) is DEFAULT_LADDER, also through JSON text."""
        plain = DEFAULT_LADDER.to_data()
        assert TierLadder.from_data(plain) == DEFAULT_LADDER
        assert TierLadder.from_data(json.loads(json.dumps(plain))) == DEFAULT_LADDER


# -- validation -----------------------------------------------------------------------------------


class TestLadderValidation:
    def test_a_ladder_needs_a_tier(self) -> None:
        """An empty ladder is refused."""
        with pytest.raises(ValidationError) as info:
            TierLadder(())
        assert (info.value.field, info.value.rule) == ("tiers", "tier.empty")

    def test_duplicate_codes_are_refused_at_the_second(self) -> None:
        """A code used twice names the second place: ``tiers[2].code``."""
        with pytest.raises(ValidationError) as info:
            ladder(tier("SILVER", (PREMIUM, 10_000)), tier("SILVER", (PREMIUM, 20_000)))
        assert (info.value.field, info.value.rule) == ("tiers[2].code", "tier.duplicate")

    def test_duplicate_of_the_lowest_tier_is_refused(self) -> None:
        """Reusing the lowest tier's code is refused at ``tiers[1].code``."""
        with pytest.raises(ValidationError) as info:
            ladder(tier("STANDARD", (PREMIUM, 10_000)))
        assert info.value.field == "tiers[1].code"

    def test_the_lowest_tier_has_no_criteria(self) -> None:
        """Criteria on the first tier are refused at ``tiers[0].criteria``."""
        with pytest.raises(ValidationError) as info:
            TierLadder((tier("STANDARD", (PREMIUM, 1)),))
        assert (info.value.field, info.value.rule) == ("tiers[0].criteria", "tier.entry")

    def test_a_single_tier_ladder_is_fine(self) -> None:
        """One tier without criteria is a valid (flat) ladder."""
        flat = TierLadder((BASE,))
        assert flat.qualifying(TierFigures()) == 0

    def test_a_higher_tier_with_a_lower_threshold_is_refused(self) -> None:
        """Lower ALL premium ≥ 10,000 and higher premium ≥ 5,000: the higher is easier."""
        error = refusal(
            lower=tier("SILVER", (PREMIUM, 10_000)), higher=tier("GOLD", (PREMIUM, 5_000))
        )
        assert (error.field, error.rule) == ("tiers[2]", "tier.order")
        assert "GOLD" in error.message
        assert "SILVER" in error.message

    def test_a_higher_tier_lacking_an_indicator_of_the_lower_is_refused(self) -> None:
        """A higher tier that drops one of the lower's indicators can be met without it."""
        error = refusal(
            lower=tier("SILVER", (PREMIUM, 10_000), (TENURE, 1)),
            higher=tier("GOLD", (PREMIUM, 30_000)),
        )
        assert (error.field, error.rule) == ("tiers[2]", "tier.order")

    def test_a_higher_tier_identical_to_the_lower_is_refused(self) -> None:
        """Two equally hard tiers: the lower could never be held."""
        criteria = ((PREMIUM, 10_000), (TENURE, 1))
        error = refusal(lower=tier("SILVER", *criteria), higher=tier("GOLD", *criteria))
        assert (error.field, error.rule) == ("tiers[2]", "tier.order")
        assert "no harder" in error.message

    def test_criterion_order_does_not_matter(self) -> None:
        """The same criteria in another order are still the same tier (refused as equal)."""
        error = refusal(
            lower=tier("SILVER", (PREMIUM, 10_000), (TENURE, 1)),
            higher=tier("GOLD", (TENURE, 1), (PREMIUM, 10_000)),
        )
        assert "no harder" in error.message

    def test_the_first_tier_with_criteria_must_have_some(self) -> None:
        """A second tier without criteria is as easy as the first: refused at ``tiers[1]``."""
        with pytest.raises(ValidationError) as info:
            TierLadder((BASE, Tier("OTHER")))
        assert (info.value.field, info.value.rule) == ("tiers[1]", "tier.order")

    def test_a_later_tier_is_checked_against_its_neighbour(self) -> None:
        """The order check runs on every pair, not only the first."""
        with pytest.raises(ValidationError) as info:
            ladder(
                tier("SILVER", (PREMIUM, 10_000)),
                tier("GOLD", (PREMIUM, 30_000)),
                tier("PLATINUM", (PREMIUM, 20_000)),
            )
        assert info.value.field == "tiers[3]"

    @pytest.mark.parametrize(
        ("criterion", "name"),
        [
            ((PREMIUM, 0), "premium ≥ 0"),
            ((POLICIES, 0), "policies ≥ 0"),
            ((LOYALTY, LoyaltyLevel.ORDINARY_BUYER), "loyalty ≥ the lowest level"),
        ],
    )
    def test_a_criterion_every_customer_meets_does_not_make_a_tier_harder(
        self, criterion: tuple[Indicator, Any], name: str
    ) -> None:
        """A tier whose only extra is a criterion everybody meets is no harder (refused)."""
        with pytest.raises(ValidationError) as info:
            ladder(tier("SILVER", criterion))
        assert (info.value.field, info.value.rule) == ("tiers[1]", "tier.order"), name
        with pytest.raises(ValidationError) as info:
            ladder(tier("SILVER", (TENURE, 1)), tier("GOLD", (TENURE, 1), criterion))
        assert (info.value.field, info.value.rule) == ("tiers[2]", "tier.order"), name

    def test_credit_grade_d_is_not_met_by_everybody(self) -> None:
        """Credit grade ≥ D is a real criterion: a customer without a grade fails it."""
        rungs = ladder(tier("SILVER", (CREDIT, CreditGrade.D)))
        assert rungs.qualifying(TierFigures()) == 0
        assert rungs.qualifying(TierFigures(credit_grade=CreditGrade.D)) == 1

    def test_an_any_tier_with_an_always_met_option_is_every_customer(self) -> None:
        """ANY with a criterion everybody meets is met by everybody: no harder than STANDARD."""
        with pytest.raises(ValidationError) as info:
            ladder(tier("SILVER", (PREMIUM, 10_000), (REFERRALS, 0), combine=Combine.ANY))
        assert info.value.field == "tiers[1]"

    def test_a_tier_may_not_repeat_an_indicator(self) -> None:
        """Two criteria on one indicator are refused at ``criteria[1].indicator``."""
        with pytest.raises(ValidationError) as info:
            tier("SILVER", (PREMIUM, 10_000), (PREMIUM, 20_000))
        assert (info.value.field, info.value.rule) == (
            "criteria[1].indicator",
            "tier.duplicate_indicator",
        )

    @pytest.mark.parametrize("code", ["", " ", " GOLD", "GOLD ", "G\nOLD", "X" * 33, 7])
    def test_bad_codes_are_refused(self, code: object) -> None:
        """A code is 1–32 printable characters without outer spaces."""
        with pytest.raises(ValidationError) as info:
            Tier(code)  # type: ignore[arg-type]
        assert info.value.field == "code"


class TestNesting:
    """The ALL/ANY cases of "whoever meets the higher tier meets the lower one"."""

    @pytest.mark.parametrize(
        ("lower", "lower_combine", "higher", "accepted"),
        [
            # ALL above ALL: every lower criterion must be kept, at least as high.
            (((PREMIUM, 10_000),), Combine.ALL, ((PREMIUM, 10_000), (TENURE, 1)), True),
            (((PREMIUM, 10_000), (TENURE, 1)), Combine.ALL, ((PREMIUM, 20_000), (TENURE, 1)), True),
            (
                ((PREMIUM, 10_000), (TENURE, 3)),
                Combine.ALL,
                ((PREMIUM, 20_000), (TENURE, 2)),
                False,
            ),
            # ALL above ANY: meeting one of the lower options is enough.
            (((PREMIUM, 10_000), (TENURE, 3)), Combine.ANY, ((PREMIUM, 10_000),), True),
            (((PREMIUM, 10_000), (TENURE, 3)), Combine.ANY, ((PREMIUM, 10_000), (TENURE, 3)), True),
            (((PREMIUM, 10_000), (TENURE, 3)), Combine.ANY, ((TENURE, 5), (REFERRALS, 1)), True),
            (((PREMIUM, 10_000), (TENURE, 3)), Combine.ANY, ((PREMIUM, 5_000), (TENURE, 2)), False),
            (((PREMIUM, 10_000), (TENURE, 3)), Combine.ANY, ((REFERRALS, 1),), False),
        ],
    )
    def test_all_above(
        self,
        lower: tuple[tuple[Indicator, Any], ...],
        lower_combine: Combine,
        higher: tuple[tuple[Indicator, Any], ...],
        accepted: bool,
    ) -> None:
        """An ALL tier above an ALL or ANY tier."""
        low = tier("SILVER", *lower, combine=lower_combine)
        high = tier("GOLD", *higher)
        if accepted:
            assert ladder(low, high).codes == ("STANDARD", "SILVER", "GOLD")
        else:
            assert refusal(lower=low, higher=high).rule == "tier.order"

    @pytest.mark.parametrize(
        ("lower", "lower_combine", "higher", "accepted"),
        [
            # ANY above ALL: each option alone must give everything the lower needs.
            (((PREMIUM, 10_000),), Combine.ALL, ((PREMIUM, 20_000),), True),
            (
                ((PREMIUM, 10_000), (TENURE, 1)),
                Combine.ALL,
                ((PREMIUM, 20_000), (TENURE, 5)),
                False,
            ),
            (((PREMIUM, 10_000),), Combine.ALL, ((PREMIUM, 20_000), (TENURE, 5)), False),
            # ANY above ANY: every higher option must be at least one lower option.
            (((PREMIUM, 10_000), (TENURE, 3)), Combine.ANY, ((PREMIUM, 20_000), (TENURE, 5)), True),
            (((PREMIUM, 10_000), (TENURE, 3)), Combine.ANY, ((PREMIUM, 20_000),), True),
            (((PREMIUM, 10_000),), Combine.ANY, ((PREMIUM, 20_000), (REFERRALS, 1)), False),
            (
                ((PREMIUM, 10_000), (TENURE, 3)),
                Combine.ANY,
                ((PREMIUM, 20_000), (TENURE, 2)),
                False,
            ),
            # The same criteria: ANY → ALL is harder, ALL → ANY easier, ANY → ANY equal.
            (
                ((PREMIUM, 10_000), (TENURE, 3)),
                Combine.ALL,
                ((PREMIUM, 10_000), (TENURE, 3)),
                False,
            ),
            (
                ((PREMIUM, 10_000), (TENURE, 3)),
                Combine.ANY,
                ((PREMIUM, 10_000), (TENURE, 3)),
                False,
            ),
        ],
    )
    def test_any_above(
        self,
        lower: tuple[tuple[Indicator, Any], ...],
        lower_combine: Combine,
        higher: tuple[tuple[Indicator, Any], ...],
        accepted: bool,
    ) -> None:
        """An ANY tier above an ALL or ANY tier."""
        low = tier("SILVER", *lower, combine=lower_combine)
        high = tier("GOLD", *higher, combine=Combine.ANY)
        if accepted:
            assert ladder(low, high).codes == ("STANDARD", "SILVER", "GOLD")
        else:
            assert refusal(lower=low, higher=high).rule == "tier.order"

    def test_any_to_all_on_the_same_criteria_is_harder(self) -> None:
        """ "Premium or tenure" then "premium and tenure" is a valid ladder."""
        criteria = ((PREMIUM, 10_000), (TENURE, 3))
        rungs = ladder(tier("SILVER", *criteria, combine=Combine.ANY), tier("GOLD", *criteria))
        assert rungs.qualifying(TierFigures(annual_premium=Decimal(10_000))) == 1
        assert rungs.qualifying(TierFigures(annual_premium=Decimal(10_000), tenure_years=3)) == 2


class TestThresholds:
    @pytest.mark.parametrize(
        ("indicator", "value", "expected"),
        [
            (PREMIUM, 10_000, Decimal("10000.00")),
            (PREMIUM, "10000.5", Decimal("10000.50")),
            (PREMIUM, Decimal("0.01"), Decimal("0.01")),
            (POLICIES, 2, 2),
            (TENURE, 0, 0),
            (LOYALTY, "ACTIVE", LoyaltyLevel.ACTIVE),
            (LOYALTY, LoyaltyLevel.PARTNER, LoyaltyLevel.PARTNER),
            (CREDIT, "B", CreditGrade.B),
            (CREDIT, CreditGrade.A, CreditGrade.A),
        ],
    )
    def test_good_thresholds_are_converted(
        self, indicator: Indicator, value: object, expected: object
    ) -> None:
        """Amounts as numbers or text, level and grade names are converted."""
        criterion = Criterion(indicator, value)  # type: ignore[arg-type]
        assert criterion.at_least == expected
        assert type(criterion.at_least) is type(expected)

    @pytest.mark.parametrize(
        ("indicator", "value", "rule"),
        [
            (PREMIUM, -1, "tier.threshold"),
            (PREMIUM, "-0.01", "tier.threshold"),
            (PREMIUM, "100.001", "tier.threshold"),
            (PREMIUM, Decimal("1.005"), "tier.threshold"),
            (PREMIUM, "ten thousand", "tier.threshold"),
            (PREMIUM, "NaN", "tier.threshold"),
            (PREMIUM, "Infinity", "tier.threshold"),
            (PREMIUM, 1.5, "tier.threshold"),
            (PREMIUM, True, "tier.threshold"),
            (PREMIUM, None, "tier.threshold"),
            (POLICIES, -1, "tier.threshold"),
            (POLICIES, "2", "tier.threshold"),
            (POLICIES, 2.0, "tier.threshold"),
            (TENURE, True, "tier.threshold"),
            (REFERRALS, Decimal(1), "tier.threshold"),
            (LOYALTY, "VIP", "enum.value"),
            (LOYALTY, "active", "enum.value"),
            (LOYALTY, 3, "enum.value"),
            (CREDIT, "E", "enum.value"),
            (CREDIT, "a", "enum.value"),
            (CREDIT, LoyaltyLevel.ACTIVE, "enum.value"),
            (CREDIT, None, "enum.value"),
        ],
    )
    def test_bad_thresholds_are_refused(
        self, indicator: Indicator, value: object, rule: str
    ) -> None:
        """Negative, wrongly typed, over-precise amounts and unknown names are refused."""
        with pytest.raises(ValidationError) as info:
            Criterion(indicator, value)  # type: ignore[arg-type]
        assert (info.value.field, info.value.rule) == ("at_least", rule)

    def test_an_unknown_indicator_object_is_refused(self) -> None:
        """An indicator must be an Indicator member."""
        with pytest.raises(ValidationError) as info:
            Criterion("ANNUAL_PREMIUM", 1)  # type: ignore[arg-type]
        assert (info.value.field, info.value.rule) == ("indicator", "tier.indicator")

    @pytest.mark.parametrize("discount", ["-0.01", "100.01", "NaN", -1, 101, True, 1.5, None])
    def test_discount_outside_0_to_100_is_refused(self, discount: object) -> None:
        """A premium discount is a percentage 0–100."""
        with pytest.raises(ValidationError) as info:
            Benefits(premium_discount=discount)
        assert (info.value.field, info.value.rule) == ("premium_discount", "tier.discount")

    @pytest.mark.parametrize("discount", [0, 100, "2.5", Decimal("99.99")])
    def test_discount_from_0_to_100_is_kept(self, discount: object) -> None:
        """0 and 100 are both valid discounts."""
        assert Benefits(premium_discount=discount).premium_discount == Decimal(discount)  # type: ignore[arg-type]

    def test_services_are_names(self) -> None:
        """Services must be a list of non-empty names."""
        with pytest.raises(ValidationError) as info:
            Benefits(services="专属客服")
        assert info.value.field == "services"
        with pytest.raises(ValidationError) as info:
            Benefits(services=("专属客服", " "))
        assert info.value.field == "services[1]"

    def test_flags_are_booleans(self) -> None:
        """A benefit flag must be true or false."""
        with pytest.raises(ValidationError) as info:
            Benefits(dedicated_csr=1)  # type: ignore[arg-type]
        assert info.value.field == "dedicated_csr"


class TestDowngradeRules:
    def test_29_february_is_refused(self) -> None:
        """Not every year has a 29 February, so it cannot be the review date."""
        with pytest.raises(ValidationError) as info:
            DowngradeRules(schedule=ReviewSchedule.FIXED_DATE, review_month=2, review_day=29)
        assert (info.value.field, info.value.rule) == ("review_day", "tier.review_date")

    @pytest.mark.parametrize(("month", "day"), [(13, 1), (0, 1), (4, 31), (1, 0), (1, 32)])
    def test_impossible_dates_are_refused(self, month: int, day: int) -> None:
        """A review date must exist."""
        with pytest.raises(ValidationError):
            DowngradeRules(review_month=month, review_day=day)

    @pytest.mark.parametrize(("month", "day"), [(2, 28), (12, 31), (1, 1)])
    def test_possible_dates_are_kept(self, month: int, day: int) -> None:
        """28 February and 31 December are fine."""
        rules = DowngradeRules(
            schedule=ReviewSchedule.FIXED_DATE, review_month=month, review_day=day
        )
        assert (rules.review_month, rules.review_day) == (month, day)

    @pytest.mark.parametrize("grace", [-1, True, 1.5, "90"])
    def test_bad_grace_days_are_refused(self, grace: object) -> None:
        """The grace period is a whole number of days ≥ 0."""
        with pytest.raises(ValidationError) as info:
            DowngradeRules(grace_days=grace)  # type: ignore[arg-type]
        assert info.value.field == "grace_days"

    @pytest.mark.parametrize("field", ["mode", "schedule", "drop"])
    def test_enum_fields_need_members(self, field: str) -> None:
        """Mode, schedule and drop must be members of their enums."""
        with pytest.raises(ValidationError) as info:
            DowngradeRules(**{field: "AT_REVIEW"})  # type: ignore[arg-type]  # not a member, on purpose
        assert (info.value.field, info.value.rule) == (field, "enum.value")

    def test_anniversary_reviews_start_the_year_after(self) -> None:
        """Anniversary reviews of a tier held since 29 Feb 2024 fall on 28 Feb in common years."""
        rules = DowngradeRules()
        since = dt.date(2024, 2, 29)
        assert rules.review_dates(since, since, dt.date(2028, 12, 31)) == [
            dt.date(2025, 2, 28),
            dt.date(2026, 2, 28),
            dt.date(2027, 2, 28),
            dt.date(2028, 2, 29),
        ]
        assert rules.review_dates(since, dt.date(2026, 2, 28), dt.date(2027, 2, 27)) == []

    def test_fixed_date_reviews_fall_after_the_tier_began(self) -> None:
        """Fixed-date reviews are the dates strictly after ``since`` and ``after``."""
        rules = DowngradeRules(schedule=ReviewSchedule.FIXED_DATE, review_month=7, review_day=1)
        since = dt.date(2024, 7, 1)
        assert rules.review_dates(since, since, dt.date(2026, 7, 1)) == [
            dt.date(2025, 7, 1),
            dt.date(2026, 7, 1),
        ]
        assert rules.review_dates(
            dt.date(2024, 6, 30), dt.date(2024, 6, 30), dt.date(2024, 7, 1)
        ) == [dt.date(2024, 7, 1)]


# -- plain data -----------------------------------------------------------------------------------


class TestFromData:
    def test_reads_the_documented_example(self) -> None:
        """The docstring's example builds the expected ladder."""
        built = TierLadder.from_data(
            {
                "downgrade": {"mode": "AT_REVIEW", "grace_days": 90},
                "tiers": [
                    {"code": "STANDARD", "name_zh": "普通"},
                    {
                        "code": "SILVER",
                        "combine": "ALL",
                        "criteria": [{"indicator": "ANNUAL_PREMIUM", "at_least": "10000"}],
                        "benefits": {"premium_discount": "1", "services": ["柜面优先"]},
                    },
                ],
            }
        )
        assert built == TierLadder(
            (
                Tier("STANDARD", "普通"),
                Tier(
                    "SILVER",
                    criteria=(Criterion(PREMIUM, Decimal(10_000)),),
                    benefits=Benefits(("柜面优先",), Decimal(1)),
                ),
            )
        )

    def test_unknown_indicator_names_its_place(self) -> None:
        """An unknown indicator is reported at ``tiers[1].criteria[0].indicator``."""
        error = from_data_error(silver_data(criteria=[{"indicator": "AGE", "at_least": 30}]))
        assert (error.field, error.rule) == ("tiers[1].criteria[0].indicator", "tier.indicator")

    @pytest.mark.parametrize(
        ("raw", "place"),
        [
            ({"tiers": [{"code": "STANDARD"}], "colour": "gold"}, "colour"),
            (silver_data(colour="gold"), "tiers[1].colour"),
            (
                silver_data(criteria=[{"indicator": "REFERRALS", "at_least": 1, "at_most": 3}]),
                "tiers[1].criteria[0].at_most",
            ),
            (silver_data(benefits={"spa": True}), "tiers[1].benefits.spa"),
            (data(downgrade={"when": "never"}), "downgrade.when"),
        ],
    )
    def test_unknown_keys_name_their_place(self, raw: dict[str, Any], place: str) -> None:
        """A key the ladder does not know is refused where it is."""
        error = from_data_error(raw)
        assert (error.field, error.rule) == (place, "field.unknown")

    @pytest.mark.parametrize(
        ("value", "rule"),
        [
            ("-5", "tier.threshold"),
            (-5, "tier.threshold"),
            ("100.001", "tier.threshold"),
            (1.5, "tier.threshold"),
            ([1], "tier.threshold"),
        ],
    )
    def test_bad_premium_thresholds_name_their_place(self, value: object, rule: str) -> None:
        """A bad amount is reported at ``tiers[1].criteria[0].at_least``."""
        error = from_data_error(
            silver_data(criteria=[{"indicator": "ANNUAL_PREMIUM", "at_least": value}])
        )
        assert (error.field, error.rule) == ("tiers[1].criteria[0].at_least", rule)

    @pytest.mark.parametrize(
        ("indicator", "value"),
        [
            ("LOYALTY_LEVEL", "VIP"),
            ("CREDIT_GRADE", "AA"),
            ("POLICIES_IN_FORCE", "2"),
            ("TENURE_YEARS", -1),
        ],
    )
    def test_bad_thresholds_of_other_indicators_name_their_place(
        self, indicator: str, value: object
    ) -> None:
        """Unknown level and grade names and non-whole counts are refused with their place."""
        error = from_data_error(
            silver_data(
                criteria=[
                    {"indicator": "ANNUAL_PREMIUM", "at_least": 1},
                    {"indicator": indicator, "at_least": value},
                ]
            )
        )
        assert error.field == "tiers[1].criteria[1].at_least"

    def test_a_criterion_needs_both_keys(self) -> None:
        """A criterion without ``at_least`` is refused at its place."""
        error = from_data_error(silver_data(criteria=[{"indicator": "REFERRALS"}]))
        assert (error.field, error.rule) == ("tiers[1].criteria[0]", "field.required")

    def test_a_tier_needs_a_code(self) -> None:
        """A tier without code is refused at ``tiers[1].code``."""
        error = from_data_error(data({"criteria": []}))
        assert (error.field, error.rule) == ("tiers[1].code", "field.required")

    def test_bad_discount_names_its_place(self) -> None:
        """A discount over 100 is refused at ``tiers[1].benefits.premium_discount``."""
        error = from_data_error(silver_data(benefits={"premium_discount": "101"}))
        assert (error.field, error.rule) == ("tiers[1].benefits.premium_discount", "tier.discount")

    def test_bad_combine_names_its_place(self) -> None:
        """An unknown combine is refused at ``tiers[1].combine``."""
        error = from_data_error(silver_data(combine="SOME"))
        assert (error.field, error.rule) == ("tiers[1].combine", "enum.value")

    def test_29_february_review_is_refused_with_its_place(self) -> None:
        """A fixed review on 29 February is refused at ``downgrade.review_day``."""
        raw = data(downgrade={"schedule": "FIXED_DATE", "review_month": 2, "review_day": 29})
        error = from_data_error(raw)
        assert (error.field, error.rule) == ("downgrade.review_day", "tier.review_date")

    def test_negative_grace_is_refused_with_its_place(self) -> None:
        """A negative grace period is refused at ``downgrade.grace_days``."""
        error = from_data_error(data(downgrade={"grace_days": -1}))
        assert error.field == "downgrade.grace_days"

    def test_unknown_mode_is_refused_with_its_place(self) -> None:
        """An unknown downgrade mode is refused at ``downgrade.mode``."""
        error = from_data_error(data(downgrade={"mode": "SOMETIMES"}))
        assert (error.field, error.rule) == ("downgrade.mode", "enum.value")

    def test_order_mistakes_name_the_tier(self) -> None:
        """A tier easier than the one below is refused at ``tiers[2]`` from data too."""
        raw = data(
            {"code": "SILVER", "criteria": [{"indicator": "ANNUAL_PREMIUM", "at_least": 10_000}]},
            {"code": "GOLD", "criteria": [{"indicator": "ANNUAL_PREMIUM", "at_least": 5_000}]},
        )
        error = from_data_error(raw)
        assert (error.field, error.rule) == ("tiers[2]", "tier.order")

    @pytest.mark.parametrize("raw", [{}, {"tiers": {}}, {"tiers": "STANDARD"}, []])
    def test_tiers_must_be_a_list(self, raw: Any) -> None:
        """The document needs a list of tiers."""
        with pytest.raises(ValidationError):
            TierLadder.from_data(raw)

    def test_defaults_fill_what_is_left_out(self) -> None:
        """Left-out combine, benefits, name and rules take their defaults."""
        built = TierLadder.from_data(silver_data())
        assert built.rules == DowngradeRules()
        assert built.tiers[1].combine is Combine.ALL
        assert built.tiers[1].benefits == Benefits()

    @given(gen.tier_ladders())
    def test_any_ladder_round_trips(self, rungs: TierLadder) -> None:
        """from_data(to_data(ladder)) == ladder for any valid ladder, also through JSON."""
        plain = rungs.to_data()
        assert TierLadder.from_data(plain) == rungs
        assert TierLadder.from_data(json.loads(json.dumps(plain, ensure_ascii=False))) == rungs


# -- qualification --------------------------------------------------------------------------------


class TestQualification:
    @pytest.mark.parametrize(
        ("figures", "code"),
        [
            (TierFigures(), "STANDARD"),
            (SILVER_FIGURES, "SILVER"),
            (GOLD_FIGURES, "GOLD"),
            (PLATINUM_FIGURES, "PLATINUM"),
        ],
    )
    def test_the_highest_tier_met_is_the_qualifying_one(
        self, figures: TierFigures, code: str
    ) -> None:
        """Meeting GOLD also meets SILVER; the qualifying tier is the highest met."""
        assert DEFAULT_LADDER.codes[DEFAULT_LADDER.qualifying(figures)] == code

    def test_every_threshold_of_gold_matters(self) -> None:
        """One figure under any GOLD threshold gives SILVER (a grade under B gives STANDARD)."""
        for change, code in (
            ({"annual_premium": Decimal("29999.99")}, "SILVER"),
            ({"tenure_years": 2}, "SILVER"),
            ({"policies_in_force": 1}, "SILVER"),
            ({"credit_grade": CreditGrade.C}, "STANDARD"),
        ):
            figures = attrs.evolve(GOLD_FIGURES, **change)
            assert DEFAULT_LADDER.codes[DEFAULT_LADDER.qualifying(figures)] == code, change

    def test_all_needs_every_criterion(self) -> None:
        """An ALL tier needs each criterion."""
        rungs = ladder(tier("SILVER", (PREMIUM, 10_000), (REFERRALS, 2)))
        assert rungs.qualifying(TierFigures(annual_premium=Decimal(10_000))) == 0
        assert rungs.qualifying(TierFigures(referrals=2)) == 0
        assert rungs.qualifying(TierFigures(annual_premium=Decimal(10_000), referrals=2)) == 1

    def test_any_needs_one_criterion(self) -> None:
        """An ANY tier needs one criterion."""
        rungs = ladder(tier("SILVER", (PREMIUM, 10_000), (REFERRALS, 2), combine=Combine.ANY))
        assert rungs.qualifying(TierFigures(annual_premium=Decimal(10_000))) == 1
        assert rungs.qualifying(TierFigures(referrals=2)) == 1
        assert rungs.qualifying(TierFigures(annual_premium=Decimal("9999.99"), referrals=1)) == 0

    @pytest.mark.parametrize(
        ("grade", "met"),
        [
            (CreditGrade.A, True),
            (CreditGrade.B, True),
            (CreditGrade.C, False),
            (CreditGrade.D, False),
            (None, False),
        ],
    )
    def test_credit_grade_at_least_b_means_a_or_b(
        self, grade: CreditGrade | None, met: bool
    ) -> None:
        """ "At least B" is A or B; no grade never meets a grade criterion."""
        criterion = Criterion(CREDIT, CreditGrade.B)
        assert criterion.met_by(TierFigures(credit_grade=grade)) is met

    def test_no_grade_never_meets_any_grade(self) -> None:
        """A customer without a grade fails even "at least D"."""
        for grade in CreditGrade:
            assert not Criterion(CREDIT, grade).met_by(TierFigures(credit_grade=None))

    @pytest.mark.parametrize("level", list(LoyaltyLevel))
    def test_loyalty_level_compares_by_rank(self, level: LoyaltyLevel) -> None:
        """ "At least ACTIVE" is ACTIVE, ADVOCATE or PARTNER."""
        met = Criterion(LOYALTY, LoyaltyLevel.ACTIVE).met_by(TierFigures(loyalty_level=level))
        assert met is (level.rank >= LoyaltyLevel.ACTIVE.rank)

    def test_premium_threshold_is_inclusive(self) -> None:
        """A premium exactly at the threshold meets it, a cent less does not."""
        criterion = Criterion(PREMIUM, 10_000)
        assert criterion.met_by(TierFigures(annual_premium=Decimal("10000.00")))
        assert not criterion.met_by(TierFigures(annual_premium=Decimal("9999.99")))

    @given(gen.tier_ladders(), gen.tier_figures())
    def test_qualifying_for_a_tier_means_qualifying_for_every_tier_below(
        self, rungs: TierLadder, figures: TierFigures
    ) -> None:
        """Tiers are nested: every tier up to the qualifying one is met, none above it."""
        q = rungs.qualifying(figures)
        assert all(t.qualifies(figures) for t in rungs.tiers[: q + 1])
        assert not any(t.qualifies(figures) for t in rungs.tiers[q + 1 :])

    @given(gen.tier_figures(on=AS_OF))
    def test_generated_figures_are_consistent(self, figures: TierFigures) -> None:
        """Generated tenure is the whole years from the first purchase to the as-of date."""
        if figures.first_purchase is None:
            assert figures.tenure_years == 0
        else:
            assert figures.first_purchase <= AS_OF
            assert whole_years_between(figures.first_purchase, AS_OF) == figures.tenure_years
        assert figures.annual_premium == figures.annual_premium.quantize(Decimal("0.01"))
        assert 0 <= figures.annual_premium <= 500_000


# -- what is missing ------------------------------------------------------------------------------


def to_next(figures: TierFigures, rungs: TierLadder = DEFAULT_LADDER) -> tuple[str, ...]:
    return evaluate_tier(rungs, "C1", figures, AS_OF).to_next


class TestMessages:
    def test_the_issue_example(self) -> None:
        """¥26,800 of premium, otherwise GOLD: ¥3,200.00 more to reach GOLD."""
        figures = attrs.evolve(GOLD_FIGURES, annual_premium=Decimal(26_800))
        evaluation = evaluate_tier(DEFAULT_LADDER, "C1", figures, AS_OF)
        assert evaluation.qualifying == "SILVER"
        assert evaluation.next_tier == "GOLD"
        assert evaluation.to_next == ("¥3,200.00 more annual premium in force to reach GOLD",)

    def test_a_tenure_gap_gives_the_date(self) -> None:
        """Missing tenure says how many years and on which day it is reached."""
        figures = attrs.evolve(GOLD_FIGURES, tenure_years=1, first_purchase=dt.date(2023, 1, 15))
        assert to_next(figures) == ("2 more years of tenure (on 2026-01-15) to reach GOLD",)
        figures = attrs.evolve(GOLD_FIGURES, tenure_years=2, first_purchase=dt.date(2022, 1, 15))
        assert to_next(figures) == ("1 more year of tenure (on 2025-01-15) to reach GOLD",)

    def test_a_tenure_gap_without_a_purchase(self) -> None:
        """Without a first purchase the message asks for one."""
        rungs = ladder(tier("SILVER", (TENURE, 2)))
        assert to_next(TierFigures(), rungs) == (
            "a first purchase, then 2 years of tenure to reach SILVER",
        )

    def test_one_more_policy_is_singular(self) -> None:
        """ "1 more policy in force", "2 more policies in force"."""
        figures = attrs.evolve(GOLD_FIGURES, policies_in_force=1)
        assert to_next(figures) == ("1 more policy in force to reach GOLD",)
        figures = attrs.evolve(GOLD_FIGURES, policies_in_force=0)
        assert to_next(figures) == ("2 more policies in force to reach GOLD",)

    @pytest.mark.parametrize(
        ("indicator", "one", "two"),
        [
            (REFERRALS, "1 more referred buyer", "2 more referred buyers"),
            (
                Indicator.HOUSEHOLD_LONG_TERM_POLICIES,
                "1 more household long-term policy",
                "2 more household long-term policies",
            ),
        ],
    )
    def test_counts_are_singular_for_one(self, indicator: Indicator, one: str, two: str) -> None:
        """Every count indicator says one thing in the singular."""
        rungs = ladder(tier("SILVER", (indicator, 3)))

        def figures(count: int) -> TierFigures:
            if indicator is REFERRALS:
                return TierFigures(referrals=count)
            return TierFigures(household_long_term_policies=count)

        assert to_next(figures(2), rungs) == (f"{one} to reach SILVER",)
        assert to_next(figures(1), rungs) == (f"{two} to reach SILVER",)

    def test_all_gaps_are_joined_with_and(self) -> None:
        """Several gaps of an ALL tier are all listed."""
        figures = attrs.evolve(GOLD_FIGURES, annual_premium=Decimal(26_800), policies_in_force=1)
        assert to_next(figures) == (
            "¥3,200.00 more annual premium in force and 1 more policy in force to reach GOLD",
        )

    def test_any_gaps_are_joined_with_or(self) -> None:
        """The options of an ANY tier are offered as alternatives."""
        rungs = ladder(tier("SILVER", (PREMIUM, 10_000), (REFERRALS, 2), combine=Combine.ANY))
        assert to_next(TierFigures(referrals=1), rungs) == (
            "¥10,000.00 more annual premium in force, or 1 more referred buyer to reach SILVER",
        )

    def test_level_and_grade_gaps(self) -> None:
        """Loyalty and credit gaps name the level or grade needed and the one held."""
        figures = attrs.evolve(
            PLATINUM_FIGURES, credit_grade=CreditGrade.B, loyalty_level=LoyaltyLevel.GENERAL
        )
        assert to_next(figures) == (
            "credit grade A or better (now B) and loyalty level ACTIVE or higher (now GENERAL) "
            "to reach PLATINUM",
        )
        figures = attrs.evolve(PLATINUM_FIGURES, credit_grade=None)
        evaluation = evaluate_tier(DEFAULT_LADDER, "C1", figures, AS_OF)
        assert evaluation.qualifying == "STANDARD"
        assert "credit grade B or better (now none)" in evaluation.to_next[0]

    def test_nothing_is_next_at_the_top(self) -> None:
        """At the top tier there is no next tier and nothing missing."""
        evaluation = evaluate_tier(DEFAULT_LADDER, "C1", PLATINUM_FIGURES, AS_OF)
        assert (evaluation.next_tier, evaluation.to_next) == (None, ())

    def test_criterion_details(self) -> None:
        """Each checked criterion shows the figure against the threshold."""
        low = TierFigures(annual_premium=Decimal(6_800))
        result = Criterion(PREMIUM, 10_000).check(low)
        assert (result.met, result.detail, result.gap) == (
            False,
            "annual premium in force ¥6,800.00 < ¥10,000.00",
            "¥3,200.00 more annual premium in force",
        )
        result = Criterion(CREDIT, CreditGrade.B).check(TierFigures(credit_grade=CreditGrade.A))
        assert (result.met, result.detail, result.gap) == (True, "credit grade A ≥ B", None)

    def test_describe(self) -> None:
        """Tiers describe their criteria joined by "and" or "or"."""
        assert DEFAULT_LADDER.tiers[0].describe() == "every customer"
        assert DEFAULT_LADDER.tier("SILVER").describe() == (
            "annual premium in force ≥ ¥10,000.00 and years of tenure ≥ 1 and credit grade ≥ B"
        )
        any_tier = tier("X", (PREMIUM, 1), (REFERRALS, 2), combine=Combine.ANY)
        assert any_tier.describe() == "annual premium in force ≥ ¥1.00 or referred buyers ≥ 2"
