"""Tier membership over time (DOMAIN.md §6): enrolment, upgrades at once, downgrades by the
ladder's rules, manual grants, and properties of long runs of evaluations."""

from __future__ import annotations

import bisect
import datetime as dt
import itertools
from collections.abc import Sequence
from decimal import Decimal
from typing import Any

import attrs
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from insurcrm.domain.credit import CreditGrade
from insurcrm.domain.dates import add_years
from insurcrm.domain.events import TierDowngraded, TierEnrolled, TierGranted, TierUpgraded
from insurcrm.domain.loyalty import LoyaltyLevel
from insurcrm.domain.tier_membership import (
    GrantKind,
    TierChange,
    TierChangeKind,
    TierEvaluation,
    TierGrant,
    TierMembership,
    evaluate_tier,
    grant_tier,
)
from insurcrm.domain.tiers import (
    DEFAULT_LADDER,
    Criterion,
    DowngradeMode,
    DowngradeRules,
    DropPolicy,
    Indicator,
    ReviewSchedule,
    TierFigures,
    TierLadder,
)
from insurcrm.errors import RuleViolation, ValidationError
from insurcrm.testing import strategies as gen
from tests.unit.tier_examples import GOLD_FIGURES as GOLD
from tests.unit.tier_examples import PLATINUM_FIGURES as PLATINUM
from tests.unit.tier_examples import SILVER_FIGURES as SILVER

DAY = dt.timedelta(days=1)
ENROL = dt.date(2024, 1, 10)
#: The first anniversary of ENROL: the first review of a tier reached on ENROL.
REVIEW = dt.date(2025, 1, 10)
FAILS = dt.date(2024, 6, 1)

NOTHING = TierFigures()


def with_rules(**rules: Any) -> TierLadder:
    """DEFAULT_LADDER with other downgrade rules."""
    return attrs.evolve(DEFAULT_LADDER, rules=DowngradeRules(**rules))


def evaluate(
    figures: TierFigures,
    on: dt.date,
    membership: TierMembership | None = None,
    ladder: TierLadder = DEFAULT_LADDER,
) -> TierEvaluation:
    return evaluate_tier(ladder, "C1", figures, on, membership)


def member(figures: TierFigures, ladder: TierLadder = DEFAULT_LADDER) -> TierMembership:
    """A customer enrolled on ENROL with ``figures``."""
    return evaluate(figures, ENROL, ladder=ladder).membership


def daily(
    figures: TierFigures,
    start: dt.date,
    end: dt.date,
    membership: TierMembership,
    ladder: TierLadder = DEFAULT_LADDER,
) -> list[TierEvaluation]:
    """Evaluate every day from ``start`` to ``end`` (inclusive) with the same figures."""
    results = []
    day = start
    while day <= end:
        result = evaluate(figures, day, membership, ladder)
        results.append(result)
        membership = result.membership
        day += DAY
    return results


def moves(results: Sequence[TierEvaluation]) -> list[tuple[dt.date, str]]:
    """The (date, tier) of every evaluation that moved the customer."""
    out = []
    for before, after in itertools.pairwise(results):
        if after.tier != before.tier:
            out.append((after.as_of, after.tier))
    return out


def grant(
    tier: str,
    kind: GrantKind,
    on: dt.date,
    expires_on: dt.date,
    reason: str = "客户经理 王伟 申请",
) -> TierGrant:
    return TierGrant(tier, kind, reason, on, expires_on)


# -- enrolment and upgrades -----------------------------------------------------------------------


class TestEnrolment:
    def test_enrols_at_the_qualifying_tier(self) -> None:
        """The first evaluation enrols at the qualifying tier, with history and an event."""
        result = evaluate(GOLD, ENROL)
        m = result.membership
        assert (result.tier, result.qualifying, m.tier, m.since) == ("GOLD", "GOLD", "GOLD", ENROL)
        assert m.history == (
            TierChange(ENROL, TierChangeKind.ENROLLED, None, "GOLD", result.reasons),
        )
        assert result.reasons[0].startswith("qualifies for GOLD: annual premium in force")
        assert m.events == (TierEnrolled("C1", ENROL, "GOLD", result.reasons),)
        assert result.change == m.history[0]
        assert result.changed
        assert (result.at_risk, result.keep_by, result.to_keep) == (False, None, ())
        assert (m.failing_since, m.last_review, m.grant, m.version) == (None, None, None, 0)

    def test_everybody_holds_at_least_the_lowest_tier(self) -> None:
        """A customer meeting nothing is enrolled at STANDARD."""
        result = evaluate(NOTHING, ENROL)
        assert result.tier == "STANDARD"
        assert result.reasons == ("STANDARD is every customer's tier",)

    def test_the_membership_id_is_the_customer_id(self) -> None:
        """A membership is found by its customer's id."""
        assert member(GOLD).id == "C1"

    def test_a_bad_customer_id_is_refused(self) -> None:
        """The customer id follows the id rules."""
        with pytest.raises(ValidationError):
            evaluate_tier(DEFAULT_LADDER, "", GOLD, ENROL)


class TestUpgrade:
    def test_upgrades_at_once_straight_to_the_qualifying_tier(self) -> None:
        """STANDARD → PLATINUM in one move, skipping SILVER and GOLD, with an event."""
        start = member(NOTHING)
        on = dt.date(2024, 2, 20)
        result = evaluate(PLATINUM, on, start)
        m = result.membership
        assert (m.tier, m.since, m.failing_since) == ("PLATINUM", on, None)
        assert result.change == TierChange(
            on, TierChangeKind.UPGRADED, "STANDARD", "PLATINUM", result.reasons
        )
        assert m.history[-1] == result.change
        assert m.events[-1] == TierUpgraded("C1", on, "STANDARD", "PLATINUM", result.reasons)
        assert result.reasons[0].startswith("qualifies for PLATINUM")

    def test_upgrades_on_the_day_the_tier_began(self) -> None:
        """An upgrade is never held back: even on the enrolment day."""
        result = evaluate(GOLD, ENROL, member(SILVER))
        assert (result.tier, result.membership.since) == ("GOLD", ENROL)

    def test_an_upgrade_stops_the_failing_clock(self) -> None:
        """A failing customer who qualifies for a higher tier moves up and is no longer failing."""
        failing = evaluate(SILVER, FAILS, member(GOLD)).membership
        assert failing.failing_since == FAILS
        result = evaluate(PLATINUM, FAILS + DAY, failing)
        assert (result.tier, result.membership.failing_since, result.at_risk) == (
            "PLATINUM",
            None,
            False,
        )

    def test_the_next_tier_is_above_the_qualifying_one(self) -> None:
        """to_next is about the tier above the qualifying tier, not the held one."""
        result = evaluate(SILVER, FAILS, member(GOLD))
        assert (result.tier, result.qualifying, result.next_tier) == ("GOLD", "SILVER", "GOLD")


# -- downgrades with the default rules ------------------------------------------------------------


class TestDefaultDowngrade:
    def test_downgrade_on_the_anniversary_after_failing_for_the_grace_period(self) -> None:
        """Failing since June: kept until the anniversary, then down one tier, with an event."""
        at_risk = evaluate(SILVER, FAILS, member(GOLD))
        assert (at_risk.tier, at_risk.at_risk, at_risk.keep_by) == ("GOLD", True, REVIEW)
        assert at_risk.membership.failing_since == FAILS
        assert at_risk.to_keep == (
            "¥20,000.00 more annual premium in force and 2 more years of tenure (on 2026-01-15) "
            "and 1 more policy in force to keep GOLD",
        )
        assert at_risk.reasons[0] == (
            f"keeps GOLD until the downgrade rules move them (below its criteria since {FAILS})"
        )
        eve = evaluate(SILVER, REVIEW - DAY, at_risk.membership)
        assert (eve.tier, eve.change) == ("GOLD", None)
        result = evaluate(SILVER, REVIEW, eve.membership)
        m = result.membership
        assert result.change == TierChange(
            REVIEW, TierChangeKind.DOWNGRADED, "GOLD", "SILVER", result.reasons
        )
        assert result.reasons[0] == f"annual review of {REVIEW}: failing to qualify since {FAILS}"
        assert result.reasons[1].startswith("qualifies for SILVER")
        assert (m.tier, m.since, m.failing_since, m.last_review) == ("SILVER", REVIEW, None, REVIEW)
        assert m.events[-1] == TierDowngraded("C1", REVIEW, "GOLD", "SILVER", result.reasons)
        assert not result.at_risk

    def test_one_tier_per_review(self) -> None:
        """PLATINUM with nothing left falls one tier at each yearly review."""
        m = evaluate(NOTHING, dt.date(2024, 2, 1), member(PLATINUM)).membership
        tiers = []
        for year in (2025, 2026, 2027):
            result = evaluate(NOTHING, dt.date(year, 1, 9), m)
            assert result.keep_by == dt.date(year, 1, 10)
            result = evaluate(NOTHING, dt.date(year, 1, 10), result.membership)
            tiers.append(result.tier)
            m = result.membership
        assert tiers == ["GOLD", "SILVER", "STANDARD"]
        assert m.failing_since is None
        assert [c.kind for c in m.history].count(TierChangeKind.DOWNGRADED) == 3

    def test_failing_exactly_the_grace_period_is_enough(self) -> None:
        """Failing since 90 days before the review: downgraded at the review."""
        m = evaluate(SILVER, REVIEW - 90 * DAY, member(GOLD)).membership
        assert evaluate(SILVER, REVIEW, m).tier == "SILVER"

    def test_failing_less_than_the_grace_period_holds_the_review_without_a_downgrade(
        self,
    ) -> None:
        """Failing since 89 days before the review: kept, the review is held, next one counts."""
        start = evaluate(SILVER, REVIEW - 89 * DAY, member(GOLD))
        assert start.keep_by == dt.date(2026, 1, 10)
        held = evaluate(SILVER, REVIEW, start.membership)
        assert (held.tier, held.change) == ("GOLD", None)
        assert held.membership.last_review == REVIEW
        assert held.changed  # the held review must be saved
        assert held.keep_by == dt.date(2026, 1, 10)
        later = evaluate(SILVER, dt.date(2026, 1, 9), held.membership)
        assert later.tier == "GOLD"
        result = evaluate(SILVER, dt.date(2026, 1, 10), later.membership)
        assert result.tier == "SILVER"
        assert result.reasons[0] == (
            f"annual review of 2026-01-10: failing to qualify since {REVIEW - 89 * DAY}"
        )

    def test_qualifying_again_clears_the_failing_clock(self) -> None:
        """A customer who qualifies again starts a new grace period when failing later."""
        failing = evaluate(SILVER, FAILS, member(GOLD))
        assert failing.changed
        assert failing.change is None
        back = evaluate(GOLD, dt.date(2024, 8, 1), failing.membership)
        assert (back.membership.failing_since, back.at_risk, back.keep_by) == (None, False, None)
        assert back.changed
        again = evaluate(SILVER, dt.date(2024, 11, 1), back.membership)
        assert again.membership.failing_since == dt.date(2024, 11, 1)
        assert again.keep_by == dt.date(2026, 1, 10)
        assert evaluate(SILVER, REVIEW, again.membership).tier == "GOLD"

    def test_the_failing_clock_starts_at_the_first_failing_evaluation(self) -> None:
        """Later failing evaluations keep the first date and change nothing."""
        first = evaluate(SILVER, FAILS, member(GOLD))
        second = evaluate(SILVER, FAILS + 30 * DAY, first.membership)
        assert second.membership == first.membership
        assert (second.changed, second.change) == (False, None)

    def test_a_missed_review_is_caught_up(self) -> None:
        """No run on the review date: the first run after it holds that review."""
        failing = evaluate(SILVER, FAILS, member(GOLD)).membership
        late = dt.date(2025, 3, 1)
        result = evaluate(SILVER, late, failing)
        m = result.membership
        assert (m.tier, m.since, m.last_review) == ("SILVER", late, REVIEW)
        assert result.reasons[0] == f"annual review of {REVIEW}: failing to qualify since {FAILS}"

    def test_several_missed_reviews_still_drop_one_tier(self) -> None:
        """A run after two missed reviews drops one tier; the next review is a year after."""
        failing = evaluate(NOTHING, FAILS, member(PLATINUM)).membership
        late = dt.date(2026, 6, 1)
        result = evaluate(NOTHING, late, failing)
        m = result.membership
        assert (m.tier, m.last_review, m.failing_since) == ("GOLD", dt.date(2026, 1, 10), late)
        assert result.keep_by == dt.date(2027, 6, 1)

    def test_a_late_run_without_enough_failing_does_not_downgrade(self) -> None:
        """A missed review counts the failing clock as of the review date, not the run."""
        failing = evaluate(SILVER, dt.date(2024, 12, 1), member(GOLD)).membership
        result = evaluate(SILVER, dt.date(2025, 6, 1), failing)
        assert result.tier == "GOLD"
        assert result.membership.last_review == REVIEW

    def test_evaluating_before_the_last_change_is_refused(self) -> None:
        """Evaluations only go forward from the membership's last recorded date."""
        m = evaluate(SILVER, FAILS, member(GOLD)).membership
        assert m.last_changed == FAILS
        with pytest.raises(RuleViolation, match=str(FAILS)):
            evaluate(SILVER, FAILS - DAY, m)
        assert evaluate(SILVER, FAILS, m).membership == m

    def test_another_customers_membership_is_refused(self) -> None:
        """A membership is evaluated only for its own customer."""
        with pytest.raises(RuleViolation):
            evaluate_tier(DEFAULT_LADDER, "C2", GOLD, FAILS, member(GOLD))

    def test_a_tier_not_on_the_ladder_is_refused(self) -> None:
        """A stored tier the ladder does not have is a RuleViolation."""
        stray = TierMembership("C1", "DIAMOND", ENROL)
        with pytest.raises(RuleViolation, match="DIAMOND"):
            evaluate(GOLD, FAILS, stray)

    def test_the_same_date_twice_changes_nothing(self) -> None:
        """Re-evaluating a date, even the day of a downgrade, is a no-op."""
        failing = evaluate(NOTHING, FAILS, member(PLATINUM)).membership
        down = evaluate(NOTHING, REVIEW, failing)
        again = evaluate(NOTHING, REVIEW, down.membership)
        assert again.membership == down.membership
        assert (again.change, again.changed, again.tier) == (None, False, "GOLD")


class TestOtherRules:
    def test_fixed_date_reviews(self) -> None:
        """With FIXED_DATE the review is that date every year, whatever the tier's start."""
        ladder = with_rules(schedule=ReviewSchedule.FIXED_DATE, review_month=7, review_day=1)
        start = evaluate(SILVER, dt.date(2024, 2, 1), member(GOLD, ladder), ladder)
        assert start.keep_by == dt.date(2024, 7, 1)
        results = daily(SILVER, dt.date(2024, 2, 2), dt.date(2024, 7, 2), start.membership, ladder)
        assert moves(results) == [(dt.date(2024, 7, 1), "SILVER")]

    def test_fixed_date_with_too_short_a_failure_waits_a_year(self) -> None:
        """Failing since May is less than 90 days before 1 July: next year's review."""
        ladder = with_rules(schedule=ReviewSchedule.FIXED_DATE, review_month=7, review_day=1)
        start = evaluate(SILVER, dt.date(2024, 5, 1), member(GOLD, ladder), ladder)
        assert start.keep_by == dt.date(2025, 7, 1)
        held = evaluate(SILVER, dt.date(2024, 7, 1), start.membership, ladder)
        assert (held.tier, held.membership.last_review) == ("GOLD", dt.date(2024, 7, 1))
        assert evaluate(SILVER, dt.date(2025, 7, 1), held.membership, ladder).tier == "SILVER"

    def test_immediately_after_the_grace_period(self) -> None:
        """IMMEDIATELY with 30 days' grace: down on the 30th day of failing."""
        ladder = with_rules(mode=DowngradeMode.IMMEDIATELY, grace_days=30)
        fails = dt.date(2024, 3, 1)
        start = evaluate(SILVER, fails, member(GOLD, ladder), ladder)
        assert start.keep_by == dt.date(2024, 3, 31)
        results = daily(SILVER, fails + DAY, dt.date(2024, 4, 30), start.membership, ladder)
        assert moves([start, *results]) == [(dt.date(2024, 3, 31), "SILVER")]
        down = next(r for r in results if r.change is not None)
        assert down.reasons[0] == f"failing to qualify since {fails}, grace period over"

    def test_immediately_without_grace_is_the_same_evaluation(self) -> None:
        """Grace 0: a customer failing on a later day moves down in that evaluation."""
        ladder = with_rules(mode=DowngradeMode.IMMEDIATELY, grace_days=0)
        result = evaluate(SILVER, FAILS, member(GOLD, ladder), ladder)
        assert (result.tier, result.membership.since) == ("SILVER", FAILS)

    def test_never_a_downgrade_on_the_day_the_tier_began(self) -> None:
        """Grace 0, failing on the enrolment day itself: down the next day, not that day."""
        ladder = with_rules(mode=DowngradeMode.IMMEDIATELY, grace_days=0)
        same_day = evaluate(SILVER, ENROL, member(GOLD, ladder), ladder)
        assert (same_day.tier, same_day.at_risk, same_day.keep_by) == ("GOLD", True, ENROL + DAY)
        assert evaluate(SILVER, ENROL + DAY, same_day.membership, ladder).tier == "SILVER"

    def test_immediately_one_tier_per_grace_period(self) -> None:
        """Far below, with ONE_TIER: one tier a day with no grace, one per 10 days with 10."""
        ladder = with_rules(mode=DowngradeMode.IMMEDIATELY, grace_days=0)
        results = daily(NOTHING, ENROL + DAY, ENROL + 5 * DAY, member(PLATINUM, ladder), ladder)
        assert [r.tier for r in results] == ["GOLD", "SILVER", "STANDARD", "STANDARD", "STANDARD"]
        ladder = with_rules(mode=DowngradeMode.IMMEDIATELY, grace_days=10)
        results = daily(NOTHING, ENROL + DAY, ENROL + 40 * DAY, member(PLATINUM, ladder), ladder)
        assert moves(results) == [
            (ENROL + 11 * DAY, "GOLD"),
            (ENROL + 21 * DAY, "SILVER"),
            (ENROL + 31 * DAY, "STANDARD"),
        ]

    def test_never_mode_keeps_the_tier(self) -> None:
        """NEVER: at risk for years, never downgraded, no keep-by date."""
        ladder = with_rules(mode=DowngradeMode.NEVER)
        m = member(PLATINUM, ladder)
        for day in (FAILS, REVIEW, dt.date(2030, 1, 10)):
            result = evaluate(NOTHING, day, m, ladder)
            assert (result.tier, result.at_risk, result.keep_by) == ("PLATINUM", True, None)
            m = result.membership
        assert [c.kind for c in m.history] == [TierChangeKind.ENROLLED]

    def test_to_qualifying_drops_straight_to_the_qualifying_tier(self) -> None:
        """TO_QUALIFYING: PLATINUM with SILVER figures falls to SILVER at one review."""
        ladder = with_rules(drop=DropPolicy.TO_QUALIFYING)
        failing = evaluate(SILVER, FAILS, member(PLATINUM, ladder), ladder).membership
        result = evaluate(SILVER, REVIEW, failing, ladder)
        assert result.change == TierChange(
            REVIEW, TierChangeKind.DOWNGRADED, "PLATINUM", "SILVER", result.reasons
        )
        assert (result.membership.failing_since, result.at_risk) == (None, False)
        failing = evaluate(NOTHING, FAILS, member(PLATINUM, ladder), ladder).membership
        assert evaluate(NOTHING, REVIEW, failing, ladder).tier == "STANDARD"


# -- manual grants --------------------------------------------------------------------------------


class TestTierHeldOnADay:
    def test_the_history_tells_the_tier_held_at_the_end_of_each_day(self) -> None:
        """Enrolled SILVER; a FLOOR of STANDARD below it moves nothing; an upgrade to GOLD."""
        m = member(SILVER)
        m = grant_tier(
            DEFAULT_LADDER, m, grant("STANDARD", GrantKind.FLOOR, dt.date(2024, 2, 1), REVIEW)
        )
        m = evaluate(GOLD, dt.date(2024, 3, 1), m).membership
        assert m.history[-2].to_tier == "STANDARD"  # the grant's entry names its tier
        assert m.tier_on(ENROL - DAY) is None  # not enrolled yet
        assert m.tier_on(ENROL) == "SILVER"
        assert m.tier_on(dt.date(2024, 2, 15)) == "SILVER"  # the floor moved nothing
        assert m.tier_on(dt.date(2024, 2, 29)) == "SILVER"
        assert m.tier_on(dt.date(2024, 3, 1)) == m.tier == "GOLD"

    @given(
        steps=st.lists(
            st.tuples(
                st.integers(min_value=0, max_value=400),
                st.sampled_from([NOTHING, SILVER, GOLD, PLATINUM]),
            ),
            min_size=1,
            max_size=12,
        )
    )
    def test_it_is_the_tier_each_evaluation_left(
        self, steps: list[tuple[int, TierFigures]]
    ) -> None:
        day, results = ENROL, []
        membership: TierMembership | None = None
        for gap, figures in steps:
            day += dt.timedelta(days=gap)
            result = evaluate(figures, day, membership)
            results.append(result)
            membership = result.membership
        assert membership is not None
        held = {r.as_of: r.tier for r in results}  # at the end of each day: its last one
        for on, tier in held.items():
            assert membership.tier_on(on) == tier
        assert membership.tier_on(ENROL - DAY) is None


class TestGrants:
    def test_a_floor_above_the_tier_raises_the_customer_at_once(self) -> None:
        """A FLOOR of GOLD on a SILVER customer: GRANTED and UPGRADED, with two events."""
        floor = grant("GOLD", GrantKind.FLOOR, dt.date(2024, 2, 1), dt.date(2025, 6, 1))
        m = grant_tier(DEFAULT_LADDER, member(SILVER), floor)
        why = ("manual FLOOR grant of GOLD until 2025-06-01",)
        assert (m.tier, m.since, m.grant) == ("GOLD", dt.date(2024, 2, 1), floor)
        assert m.history[1:] == (
            TierChange(dt.date(2024, 2, 1), TierChangeKind.GRANTED, "SILVER", "GOLD", why),
            TierChange(dt.date(2024, 2, 1), TierChangeKind.UPGRADED, "SILVER", "GOLD", why),
        )
        assert m.events[1:] == (
            TierGranted("C1", dt.date(2024, 2, 1), "GOLD", "FLOOR", dt.date(2025, 6, 1)),
            TierUpgraded("C1", dt.date(2024, 2, 1), "SILVER", "GOLD", why),
        )

    def test_a_floor_is_never_gone_below_until_it_expires(self) -> None:
        """Failing under a FLOOR: reviews are held without a move; after expiry rules apply."""
        floor = grant("GOLD", GrantKind.FLOOR, dt.date(2024, 2, 1), dt.date(2025, 6, 1))
        m = grant_tier(DEFAULT_LADDER, member(SILVER), floor)
        start = evaluate(NOTHING, dt.date(2024, 3, 1), m)
        assert (start.tier, start.at_risk) == ("GOLD", True)
        # The first review after expiry is the second anniversary of reaching GOLD.
        assert start.keep_by == dt.date(2026, 2, 1)
        assert start.reasons[0].startswith("keeps GOLD")
        review = evaluate(NOTHING, dt.date(2025, 2, 1), start.membership)
        assert (review.tier, review.membership.last_review) == ("GOLD", dt.date(2025, 2, 1))
        expiry = evaluate(NOTHING, dt.date(2025, 6, 1), review.membership)
        ended = TierChange(
            dt.date(2025, 6, 1),
            TierChangeKind.GRANT_ENDED,
            "GOLD",
            "GOLD",
            ("the FLOOR grant of GOLD expired on 2025-06-01",),
        )
        assert expiry.change == ended
        assert expiry.membership.history[-1] == ended
        assert expiry.membership.grant is None
        assert expiry.membership.events == review.membership.events  # no event for an expiry
        assert expiry.keep_by == dt.date(2026, 2, 1)
        down = evaluate(NOTHING, dt.date(2026, 2, 1), expiry.membership)
        assert down.tier == "SILVER"

    def test_a_floor_lets_the_customer_move_up(self) -> None:
        """Rules still move a customer above their FLOOR."""
        floor = grant("GOLD", GrantKind.FLOOR, dt.date(2024, 2, 1), dt.date(2025, 6, 1))
        m = grant_tier(DEFAULT_LADDER, member(SILVER), floor)
        result = evaluate(PLATINUM, dt.date(2024, 3, 1), m)
        assert result.tier == "PLATINUM"
        assert result.membership.grant == floor

    def test_a_floor_below_the_tier_only_guards(self) -> None:
        """A FLOOR of SILVER on GOLD: no move; a downgrade stops at SILVER while it lasts."""
        floor = grant("SILVER", GrantKind.FLOOR, dt.date(2024, 2, 1), dt.date(2027, 6, 1))
        m = grant_tier(DEFAULT_LADDER, member(GOLD), floor)
        assert (m.tier, m.since, [c.kind for c in m.history][1:]) == (
            "GOLD",
            ENROL,
            [TierChangeKind.GRANTED],
        )
        failing = evaluate(NOTHING, dt.date(2024, 3, 1), m)
        assert failing.keep_by == REVIEW
        first = evaluate(NOTHING, REVIEW, failing.membership)
        assert first.tier == "SILVER"
        assert first.at_risk
        # Floor ≥ tier: not before the expiry, then at the first review after it.
        assert first.keep_by == dt.date(2028, 1, 10)
        second = evaluate(NOTHING, dt.date(2026, 1, 10), first.membership)
        assert second.tier == "SILVER"

    def test_a_pin_holds_exactly_the_tier(self) -> None:
        """A PIN of SILVER on GOLD moves down at once; no upgrade or downgrade until expiry."""
        pin = grant("SILVER", GrantKind.PIN, dt.date(2024, 2, 1), dt.date(2025, 8, 1))
        m = grant_tier(DEFAULT_LADDER, member(GOLD), pin)
        assert (m.tier, m.since) == ("SILVER", dt.date(2024, 2, 1))
        assert [c.kind for c in m.history][1:] == [
            TierChangeKind.GRANTED,
            TierChangeKind.DOWNGRADED,
        ]
        assert isinstance(m.events[-1], TierDowngraded)
        up = evaluate(PLATINUM, dt.date(2024, 3, 1), m)
        assert (up.tier, up.change, up.at_risk, up.keep_by) == ("SILVER", None, False, None)
        assert up.reasons == ("pinned at SILVER by a manual grant until 2025-08-01",)
        down = evaluate(NOTHING, dt.date(2025, 2, 1), up.membership)
        assert (down.tier, down.at_risk, down.membership.failing_since) == ("SILVER", False, None)
        expiry = evaluate(PLATINUM, dt.date(2025, 8, 1), down.membership)
        assert expiry.tier == "PLATINUM"
        assert [c.kind for c in expiry.membership.history][-2:] == [
            TierChangeKind.GRANT_ENDED,
            TierChangeKind.UPGRADED,
        ]
        assert expiry.change == expiry.membership.history[-1]

    def test_a_pin_at_the_held_tier_does_not_move(self) -> None:
        """A PIN of the held tier records only the grant."""
        pin = grant("GOLD", GrantKind.PIN, dt.date(2024, 2, 1), dt.date(2024, 8, 1))
        m = grant_tier(DEFAULT_LADDER, member(GOLD), pin)
        assert (m.tier, m.since) == ("GOLD", ENROL)
        assert [c.kind for c in m.history][1:] == [TierChangeKind.GRANTED]

    def test_a_new_grant_replaces_the_old_one(self) -> None:
        """Granting again replaces the grant."""
        first = grant("GOLD", GrantKind.FLOOR, dt.date(2024, 2, 1), dt.date(2025, 6, 1))
        second = grant("SILVER", GrantKind.PIN, dt.date(2024, 3, 1), dt.date(2024, 9, 1))
        m = grant_tier(DEFAULT_LADDER, grant_tier(DEFAULT_LADDER, member(SILVER), first), second)
        assert (m.grant, m.tier) == (second, "SILVER")

    def test_a_grant_must_end_after_it_starts(self) -> None:
        """expires_on must be after granted_on."""
        with pytest.raises(ValidationError) as info:
            grant("GOLD", GrantKind.FLOOR, ENROL, ENROL)
        assert (info.value.field, info.value.rule) == ("expires_on", "grant.expiry")

    @pytest.mark.parametrize(
        ("reason", "rule"), [("", "text.required"), ("x" * 501, "text.length")]
    )
    def test_a_grant_needs_a_short_reason(self, reason: str, rule: str) -> None:
        """The reason is required and at most 500 characters."""
        with pytest.raises(ValidationError) as info:
            grant("GOLD", GrantKind.FLOOR, ENROL, REVIEW, reason=reason)
        assert (info.value.field, info.value.rule) == ("reason", rule)

    def test_a_grant_kind_must_be_a_member(self) -> None:
        """The kind is FLOOR or PIN."""
        with pytest.raises(ValidationError) as info:
            TierGrant("GOLD", "FLOOR", "why", ENROL, REVIEW)  # type: ignore[arg-type]
        assert info.value.field == "kind"

    def test_a_grant_of_an_unknown_tier_is_refused(self) -> None:
        """The granted tier must be on the ladder."""
        with pytest.raises(RuleViolation, match="DIAMOND"):
            grant_tier(DEFAULT_LADDER, member(GOLD), grant("DIAMOND", GrantKind.PIN, FAILS, REVIEW))

    def test_a_grant_cannot_predate_the_membership(self) -> None:
        """A grant dated before the last recorded date is refused."""
        m = evaluate(SILVER, FAILS, member(GOLD)).membership
        with pytest.raises(RuleViolation):
            grant_tier(DEFAULT_LADDER, m, grant("PLATINUM", GrantKind.PIN, FAILS - DAY, REVIEW))
        assert grant_tier(DEFAULT_LADDER, m, grant("PLATINUM", GrantKind.PIN, FAILS, REVIEW))

    def test_active_on(self) -> None:
        """A grant is active from granted_on to the day before expires_on."""
        g = grant("GOLD", GrantKind.FLOOR, FAILS, REVIEW)
        assert [g.active_on(d) for d in (FAILS - DAY, FAILS, REVIEW - DAY, REVIEW)] == [
            False,
            True,
            True,
            False,
        ]

    def test_the_reason_is_masked_in_repr(self) -> None:
        """A grant's free-text reason never shows in its repr or the membership's."""
        g = grant("GOLD", GrantKind.FLOOR, FAILS, REVIEW, reason="王伟的表哥")
        m = grant_tier(DEFAULT_LADDER, member(GOLD), g)
        for text in (repr(g), repr(m)):
            assert "王伟" not in text
            assert "'***'" in text

    def test_without_personal_data_erases_the_reason(self) -> None:
        """Erasure replaces the reason and keeps everything else."""
        g = grant("GOLD", GrantKind.FLOOR, FAILS, REVIEW, reason="王伟的表哥")
        m = grant_tier(DEFAULT_LADDER, member(SILVER), g)
        erased = m.without_personal_data()
        assert erased.grant == attrs.evolve(g, reason="erased")
        assert attrs.evolve(erased, grant=g) == m
        plain = member(GOLD)
        assert plain.without_personal_data() is plain


# -- the review service saves the failing clock ---------------------------------------------------


def test_the_review_service_saves_the_failing_clock() -> None:
    """Monthly reviews through the service downgrade a customer who stopped qualifying.

    The start of the failing clock changes no tier, yet must be saved: otherwise each
    review starts it again and the grace period is never over.
    """
    from insurcrm.adapters.memory import MemoryStore
    from insurcrm.domain.customers import Customer
    from insurcrm.domain.policies import Policy, ProductLine
    from insurcrm.domain.values import Money
    from insurcrm.services.tiers import replay_tier_reviews

    def policy(number: str, premium: str) -> Policy:
        return Policy(
            id=f"P{number}",
            number=f"PL-{number}",
            policyholder_id="C7",
            insured_id="C7",
            product_line=ProductLine.LIFE,
            start_date=dt.date(2019, 2, 1),
            term_years=20,
            sum_assured=Money("1000000"),
            annual_premium=Money(premium),
        ).activate(dt.date(2019, 2, 1))

    store = MemoryStore()
    with store.unit_of_work() as uow:
        uow.customers.add(Customer.register("C7", "陈静", dt.date(2019, 1, 10)))
        uow.policies.add(policy("1", "20000.00"))
        uow.policies.add(policy("2", "16000.00").surrender(dt.date(2025, 3, 1)))
        uow.commit()
    months = [dt.date(2025 + m // 12, m % 12 + 1, 10) for m in range(14)]
    reviews = replay_tier_reviews(store.unit_of_work(), months)
    assert reviews[0].per_tier["GOLD"] == 1
    with store.unit_of_work() as uow:
        stored = uow.tiers.find("C7")
    assert stored is not None
    assert [(c.on, c.kind, c.to_tier) for c in stored.history] == [
        (dt.date(2025, 1, 10), TierChangeKind.ENROLLED, "GOLD"),
        (dt.date(2026, 1, 10), TierChangeKind.DOWNGRADED, "SILVER"),
    ]


# -- properties -----------------------------------------------------------------------------------


def at_threshold(figures: TierFigures, criterion: Criterion) -> TierFigures:
    """``figures`` with the figure of ``criterion``'s indicator at its threshold."""
    match criterion.indicator, criterion.at_least:
        case Indicator.ANNUAL_PREMIUM, Decimal() as amount:
            return attrs.evolve(figures, annual_premium=amount)
        case Indicator.POLICIES_IN_FORCE, int(count):
            return attrs.evolve(figures, policies_in_force=count)
        case Indicator.TENURE_YEARS, int(years):
            return attrs.evolve(figures, tenure_years=years)
        case Indicator.REFERRALS, int(count):
            return attrs.evolve(figures, referrals=count)
        case Indicator.HOUSEHOLD_LONG_TERM_POLICIES, int(count):
            return attrs.evolve(figures, household_long_term_policies=count)
        case Indicator.LOYALTY_LEVEL, LoyaltyLevel() as level:
            return attrs.evolve(figures, loyalty_level=level)
        case Indicator.CREDIT_GRADE, CreditGrade() as grade:
            return attrs.evolve(figures, credit_grade=grade)
    raise AssertionError(f"a threshold of the wrong type: {criterion!r}")


FIRST_DAY = dt.date(2020, 1, 1)
LAST_DAY = dt.date(2030, 12, 31)


@st.composite
def ladder_figures(draw: st.DrawFn, ladder: TierLadder) -> TierFigures:
    """Any figures, or figures just meeting one tier (so that customers move)."""
    if draw(st.booleans()):
        return draw(gen.tier_figures())
    tier = ladder.tiers[draw(st.integers(min_value=0, max_value=len(ladder.tiers) - 1))]
    figures = NOTHING
    for criterion in tier.criteria:
        figures = at_threshold(figures, criterion)
    return figures


@st.composite
def ladders(
    draw: st.DrawFn,
    modes: Sequence[DowngradeMode] = tuple(DowngradeMode),
    drops: Sequence[DropPolicy] = tuple(DropPolicy),
) -> TierLadder:
    """Ladders of 2–5 tiers with a downgrade mode and drop policy from those given."""
    ladder = draw(gen.tier_ladders(min_tiers=2))
    rules = attrs.evolve(
        ladder.rules, mode=draw(st.sampled_from(modes)), drop=draw(st.sampled_from(drops))
    )
    return attrs.evolve(ladder, rules=rules)


@attrs.frozen
class Plan:
    """Figures that change on some days, and grants made on some days."""

    ladder: TierLadder
    start: dt.date
    changes: tuple[tuple[int, TierFigures], ...]  # (day offset, figures from then on), first at 0
    grants: dict[int, tuple[GrantKind, int, int]]  # day offset → (kind, tier index, days)

    def figures(self, offset: int) -> TierFigures:
        i = bisect.bisect_right([o for o, _ in self.changes], offset) - 1
        return self.changes[i][1]


@st.composite
def plans(
    draw: st.DrawFn,
    ladder: TierLadder,
    days: int,
    *,
    grants: Sequence[GrantKind] = tuple(GrantKind),
    changes: int = 6,
    on: Sequence[int] = (),
) -> Plan:
    """Figures changing up to ``changes`` times within ``days`` days, and up to three grants
    of the ``grants`` kinds, on days among ``on`` when given."""
    start = draw(st.dates(FIRST_DAY, LAST_DAY))
    offsets = draw(st.lists(st.integers(1, days), max_size=changes - 1, unique=True))
    figures = [draw(ladder_figures(ladder)) for _ in range(len(offsets) + 1)]
    made: dict[int, tuple[GrantKind, int, int]] = {}
    if grants:
        days_of_grants = st.sampled_from(on) if on else st.integers(1, days)
        for offset in draw(st.lists(days_of_grants, max_size=3, unique=True)):
            made[offset] = (
                draw(st.sampled_from(grants)),
                draw(st.integers(0, len(ladder.tiers) - 1)),
                draw(st.integers(1, 400)),
            )
    return Plan(ladder, start, tuple(zip([0, *sorted(offsets)], figures, strict=True)), made)


@attrs.frozen
class Step:
    """One evaluation of a simulation: the membership before it and the result."""

    before: TierMembership | None
    result: TierEvaluation

    @property
    def new(self) -> tuple[TierChange, ...]:
        """The history entries this evaluation added."""
        known = 0 if self.before is None else len(self.before.history)
        return self.result.membership.history[known:]


def simulate(plan: Plan, offsets: Sequence[int]) -> list[Step]:
    """Evaluate on ``start + offset`` for each of ``offsets`` (non-decreasing), granting first
    on the days the plan grants."""
    steps: list[Step] = []
    m: TierMembership | None = None
    for offset in offsets:
        day = plan.start + dt.timedelta(days=offset)
        if m is not None and offset in plan.grants:
            kind, tier, length = plan.grants[offset]
            made = TierGrant(
                plan.ladder.tiers[tier].code, kind, "经理批准", day, day + dt.timedelta(days=length)
            )
            m = grant_tier(plan.ladder, m, made)
        result = evaluate_tier(plan.ladder, "C1", plan.figures(offset), day, m)
        steps.append(Step(m, result))
        m = result.membership
    return steps


def is_review_date(rules: DowngradeRules, since: dt.date, day: dt.date) -> bool:
    if rules.schedule is ReviewSchedule.FIXED_DATE:
        return (day.month, day.day) == (rules.review_month, rules.review_day) and day > since
    return day > since and add_years(since, day.year - since.year) == day


DAYS = 730
EVERY_DAY = range(DAYS + 1)


class TestProperties:
    @given(st.data())
    def test_evaluation_is_total(self, data: st.DataObject) -> None:
        """Any valid ladder, figures and forward dates (some repeated): no error, sane state."""
        ladder = data.draw(ladders())
        gaps = data.draw(st.lists(st.integers(0, 400), min_size=1, max_size=30))
        offsets = [0, *(sum(gaps[: i + 1]) for i in range(len(gaps)))]
        plan = data.draw(plans(ladder, offsets[-1] + 1, on=offsets))
        for step in simulate(plan, offsets):
            result = step.result
            m = result.membership
            assert m.tier == result.tier
            assert result.tier in ladder.codes
            assert m.last_changed <= result.as_of
            assert result.at_risk == (m.failing_since is not None)
            if result.keep_by is not None:
                assert result.keep_by > result.as_of
            assert result.reasons
            assert isinstance(result.to_next, tuple)
            assert isinstance(result.to_keep, tuple)
            for change in step.new:
                if change.kind is TierChangeKind.DOWNGRADED:
                    assert step.before is not None
                    assert step.before.since < change.on  # never on the day the tier began

    @given(st.data())
    def test_same_date_twice_is_a_no_op(self, data: st.DataObject) -> None:
        """Evaluating the same date again with the same figures changes nothing."""
        ladder = data.draw(ladders())
        offsets = sorted(data.draw(st.lists(st.integers(0, 1_500), min_size=1, max_size=40)))
        plan = data.draw(plans(ladder, 1_500, on=offsets))
        for step in simulate(plan, offsets):
            first = step.result
            again = evaluate_tier(ladder, "C1", first.figures, first.as_of, first.membership)
            assert again.membership == first.membership
            assert (again.change, again.changed) == (None, False)
            assert (again.tier, again.at_risk, again.keep_by) == (
                first.tier,
                first.at_risk,
                first.keep_by,
            )

    @settings(max_examples=15)
    @given(st.data())
    def test_at_review_downgrades_only_on_review_dates(self, data: st.DataObject) -> None:
        """AT_REVIEW, evaluated daily: every downgrade falls on a review date of the tier
        held before it (an anniversary of its start, or the fixed date)."""
        ladder = data.draw(ladders(modes=(DowngradeMode.AT_REVIEW,)))
        plan = data.draw(plans(ladder, DAYS))
        for step in simulate(plan, EVERY_DAY):
            for change in step.new:
                if change.kind is TierChangeKind.DOWNGRADED:
                    assert step.before is not None
                    assert is_review_date(ladder.rules, step.before.since, change.on)

    @settings(max_examples=15)
    @given(st.data())
    def test_downgrades_happen_exactly_when_due(self, data: st.DataObject) -> None:
        """Evaluated daily without grants, a customer moves down exactly when the rules say:
        on a review date (AT_REVIEW) or any day after the tier began (IMMEDIATELY), having
        failed their tier on every day of the grace period up to it; never with NEVER."""
        ladder = data.draw(ladders())
        plan = data.draw(plans(ladder, DAYS, grants=()))
        steps = simulate(plan, EVERY_DAY)
        rules = ladder.rules
        qualifying = [ladder.index(s.result.qualifying) for s in steps]
        for offset, step in enumerate(steps[1:], 1):
            before = step.before
            assert before is not None
            held = ladder.index(before.tier)
            day = step.result.as_of
            first = offset - rules.grace_days
            failed = (before.since - plan.start).days <= first and all(
                q < held for q in qualifying[first : offset + 1]
            )
            if rules.mode is DowngradeMode.AT_REVIEW:
                due = failed and is_review_date(rules, before.since, day)
            elif rules.mode is DowngradeMode.IMMEDIATELY:
                due = failed and before.since < day
            else:
                due = False
            downs = [c for c in step.new if c.kind is TierChangeKind.DOWNGRADED]
            assert len(downs) == int(due), (day, before)
            if due:
                one_down = rules.drop is DropPolicy.ONE_TIER
                expected = held - 1 if one_down else qualifying[offset]
                assert ladder.index(step.result.tier) == expected

    @settings(max_examples=15)
    @given(st.data())
    def test_one_tier_per_downgrade(self, data: st.DataObject) -> None:
        """ONE_TIER, evaluated weekly: an evaluation never moves a customer down more than one
        tier, and with AT_REVIEW only when a review date passed since the last run."""
        ladder = data.draw(
            ladders(
                modes=(DowngradeMode.AT_REVIEW, DowngradeMode.IMMEDIATELY),
                drops=(DropPolicy.ONE_TIER,),
            )
        )
        plan = data.draw(plans(ladder, 5 * 365))
        steps = simulate(plan, range(0, 5 * 365, 7))
        for previous, step in itertools.pairwise(steps):
            downs = [c for c in step.new if c.kind is TierChangeKind.DOWNGRADED]
            assert len(downs) <= 1
            for change in downs:
                assert change.from_tier is not None
                assert ladder.index(change.from_tier) - ladder.index(change.to_tier) == 1
                if ladder.rules.mode is DowngradeMode.AT_REVIEW:
                    # A missed review is held at the first run after it, never earlier.
                    assert step.before is not None
                    after = previous.result.as_of
                    days = (change.on - after).days
                    assert any(
                        is_review_date(ladder.rules, step.before.since, after + k * DAY)
                        for k in range(1, days + 1)
                    )

    @settings(max_examples=15)
    @given(st.data())
    def test_upgrade_on_the_first_qualifying_day(self, data: st.DataObject) -> None:
        """Evaluated daily, a customer qualifying above their tier (and not pinned) moves
        straight to the qualifying tier that day."""
        ladder = data.draw(ladders())
        plan = data.draw(plans(ladder, DAYS))
        for step in simulate(plan, EVERY_DAY):
            result = step.result
            q = ladder.index(result.qualifying)
            if step.before is None:
                assert result.tier == result.qualifying
                continue
            grant = result.membership.grant
            pinned = grant is not None and grant.kind is GrantKind.PIN
            if q > ladder.index(step.before.tier) and not pinned:
                assert result.tier == result.qualifying
                assert step.new[-1].kind is TierChangeKind.UPGRADED
                assert step.new[-1].on == result.as_of
            if not pinned and step.before.grant is None:
                assert ladder.index(result.tier) <= max(q, ladder.index(step.before.tier))

    @given(st.data())
    def test_growing_figures_are_never_downgraded(self, data: st.DataObject) -> None:
        """A customer whose every figure only grows never moves down and is never at risk."""
        ladder = data.draw(ladders())
        plan = data.draw(plans(ladder, 3 * 365, grants=()))
        grown = [plan.changes[0]]
        for offset, figures in plan.changes[1:]:
            grown.append((offset, at_least(grown[-1][1], figures)))
        plan = attrs.evolve(plan, changes=tuple(grown))
        for step in simulate(plan, range(0, 3 * 365, 5)):
            assert not step.result.at_risk
            assert all(c.kind is not TierChangeKind.DOWNGRADED for c in step.new)

    @settings(max_examples=20)
    @given(st.data())
    def test_keep_by_is_the_downgrade_date(self, data: st.DataObject) -> None:
        """At risk, then the same figures every day: the downgrade falls exactly on keep_by."""
        ladder = data.draw(ladders(modes=(DowngradeMode.AT_REVIEW, DowngradeMode.IMMEDIATELY)))
        high = data.draw(ladder_figures(ladder).filter(lambda f: ladder.qualifying(f) > 0))
        low = data.draw(
            ladder_figures(ladder).filter(lambda f: ladder.qualifying(f) < ladder.qualifying(high))
        )
        drop = data.draw(st.integers(1, 500))
        plan = data.draw(plans(ladder, drop, grants=(GrantKind.FLOOR,)))
        plan = attrs.evolve(plan, changes=((0, high), (drop, low)))
        steps = simulate(plan, range(drop + 1))
        start = steps[-1].result
        if not start.at_risk:  # already down to the qualifying tier on the drop day:
            # without grace, or on a clock that had run before it (it runs while a FLOOR
            # grant holds the customer up, and the grant ended that day)
            before = steps[-1].before
            failing = before.failing_since if before is not None else None
            assert ladder.rules.grace_days == 0 or (failing is not None and failing < start.as_of)
            assert start.change is not None
            assert start.change.kind is TierChangeKind.DOWNGRADED
            assert start.tier == start.qualifying
            return
        assert start.keep_by is not None
        assert start.keep_by > start.as_of
        results = daily(start.figures, start.as_of + DAY, start.keep_by, start.membership, ladder)
        downs = [
            c.on
            for c in results[-1].membership.history
            if c.kind is TierChangeKind.DOWNGRADED and c.on > start.as_of
        ]
        assert downs == [start.keep_by]

    @given(st.data())
    def test_every_change_has_its_event(self, data: st.DataObject) -> None:
        """Each history entry but GRANT_ENDED has exactly one matching event, in order."""
        ladder = data.draw(ladders())
        offsets = sorted(data.draw(st.lists(st.integers(0, 1_500), min_size=1, max_size=40)))
        plan = data.draw(plans(ladder, 1_500, on=offsets))
        m = simulate(plan, offsets)[-1].result.membership
        changes = [c for c in m.history if c.kind is not TierChangeKind.GRANT_ENDED]
        assert len(m.events) == len(changes)
        for change, event in zip(changes, m.events, strict=True):
            assert event.customer_id == "C1"
            assert event.on == change.on
            match change.kind:
                case TierChangeKind.ENROLLED:
                    assert event == TierEnrolled("C1", change.on, change.to_tier, change.reasons)
                case TierChangeKind.UPGRADED | TierChangeKind.DOWNGRADED:
                    kind = (
                        TierUpgraded if change.kind is TierChangeKind.UPGRADED else TierDowngraded
                    )
                    assert change.from_tier is not None
                    assert event == kind(
                        "C1", change.on, change.from_tier, change.to_tier, change.reasons
                    )
                case TierChangeKind.GRANTED:
                    assert isinstance(event, TierGranted)
                    assert event.tier == change.to_tier


def at_least(low: TierFigures, high: TierFigures) -> TierFigures:
    """Each figure of ``high`` raised to at least that of ``low``."""
    grades = [None, *reversed(CreditGrade)]
    return TierFigures(
        annual_premium=max(low.annual_premium, high.annual_premium),
        policies_in_force=max(low.policies_in_force, high.policies_in_force),
        tenure_years=max(low.tenure_years, high.tenure_years),
        first_purchase=low.first_purchase or high.first_purchase,
        referrals=max(low.referrals, high.referrals),
        household_long_term_policies=max(
            low.household_long_term_policies, high.household_long_term_policies
        ),
        loyalty_level=max(low.loyalty_level, high.loyalty_level, key=lambda lv: lv.rank),
        credit_grade=max(low.credit_grade, high.credit_grade, key=grades.index),
    )
