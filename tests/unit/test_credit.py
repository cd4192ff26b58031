"""Credit grade (信用等级, DOMAIN.md §1.3): defaults, thresholds, properties, configuration."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from insurcrm.domain.credit import CreditAssessment, CreditConfig, CreditGrade, grade_credit
from insurcrm.domain.dates import add_years
from insurcrm.domain.policies import EndReason, Policy, PolicyStatus, ProductLine
from insurcrm.domain.values import Money
from insurcrm.errors import ValidationError
from insurcrm.testing import strategies as gen
from insurcrm.testing.contracts import make_policy

AS_OF = dt.date(2024, 3, 1)
START = dt.date(2019, 1, 1)
RANK: dict[CreditGrade | None, int] = {
    CreditGrade.A: 0,
    CreditGrade.B: 1,
    CreditGrade.C: 2,
    CreditGrade.D: 3,
}


def policy(
    number: str = "1",
    *,
    purchases: int = 1,
    missed: tuple[dt.date, ...] = (),
    start: dt.date = START,
    insurer: str | None = None,
) -> Policy:
    """A policy held by C1 with ``purchases`` purchases (activation + renewals) from ``start``."""
    result = Policy(
        id=f"P{number}",
        number=f"N-{number}",
        policyholder_id="C1",
        insured_id="C1",
        product_line=ProductLine.LIFE,
        start_date=start,
        term_years=20,
        sum_assured=Money(100_000),
        annual_premium=Money(1_000),
        insurer=insurer,
    )
    if purchases:
        result = result.activate(start)
        for year in range(1, purchases):
            result = result.renew(add_years(start, year))
    for due in missed:
        result = result.record_missed_premium(due)
    return result


def grade(*policies: Policy, as_of: dt.date = AS_OF, **config: Any) -> CreditGrade | None:
    return grade_credit(policies, as_of, CreditConfig(**config) if config else None).grade


IN_WINDOW = dt.date(2023, 6, 1)
IN_WINDOW_2 = dt.date(2022, 6, 1)


# -- DOMAIN.md §1.3 defaults, both sides of every threshold ---------------------------------------


class TestDefaultRule:
    def test_no_purchase_nograde_credit(self) -> None:
        assessment = grade_credit([], AS_OF)
        assert assessment == CreditAssessment(None, 0, 0, ("no grade: no purchase yet",))
        assert grade(policy(purchases=0)) is None

    def test_a_needs_three_purchases(self) -> None:
        assert grade(policy(purchases=3)) is CreditGrade.A
        assert grade(policy(purchases=2)) is CreditGrade.B

    def test_purchases_are_counted_over_all_policies(self) -> None:
        assert grade(policy("1"), policy("2"), policy("3")) is CreditGrade.A
        assert grade(policy("1"), policy("2")) is CreditGrade.B

    def test_a_needs_no_missed_premium(self) -> None:
        assert grade(policy(purchases=5)) is CreditGrade.A
        assert grade(policy(purchases=5, missed=(IN_WINDOW,))) is CreditGrade.B

    def test_b_allows_at_most_one_missed_premium(self) -> None:
        assert grade(policy(purchases=1)) is CreditGrade.B
        assert grade(policy(purchases=1, missed=(IN_WINDOW,))) is CreditGrade.B
        assert grade(policy(purchases=1, missed=(IN_WINDOW, IN_WINDOW_2))) is CreditGrade.C
        assert grade(policy(purchases=5, missed=(IN_WINDOW, IN_WINDOW_2))) is CreditGrade.C

    def test_missed_premiums_count_over_all_policies(self) -> None:
        one = policy("1", purchases=3, missed=(IN_WINDOW,))
        two = policy("2", purchases=1, missed=(IN_WINDOW_2,))
        assert grade(one) is CreditGrade.B
        assert grade(one, two) is CreditGrade.C

    def test_only_missed_premiums_in_the_last_three_years_count(self) -> None:
        edge = add_years(AS_OF, -3)
        assert grade(policy(purchases=3, missed=(edge,))) is CreditGrade.A
        inside = edge + dt.timedelta(days=1)
        assert grade(policy(purchases=3, missed=(inside,))) is CreditGrade.B
        assert grade(policy(purchases=3, missed=(AS_OF,))) is CreditGrade.B
        after = AS_OF + dt.timedelta(days=1)
        assert grade(policy(purchases=3, missed=(after,))) is CreditGrade.A

    def test_later_purchases_are_ignored(self) -> None:
        assert grade(policy(purchases=3), as_of=add_years(START, 2)) is CreditGrade.A
        assert grade(policy(purchases=3), as_of=add_years(START, 1)) is CreditGrade.B
        assert grade(policy(purchases=3), as_of=START) is CreditGrade.B
        assert grade(policy(purchases=3), as_of=START - dt.timedelta(days=1)) is None

    @pytest.mark.parametrize("reason", [EndReason.NON_PAYMENT, EndReason.FRAUD])
    def test_cancellation_for_non_payment_or_fraud_gives_d(self, reason: EndReason) -> None:
        cancelled = policy("9").cancel(dt.date(2020, 1, 1), reason)
        assessment = grade_credit([policy("1", purchases=5), cancelled], AS_OF)
        assert assessment.grade is CreditGrade.D
        assert any("N-9" in r and reason.name in r for r in assessment.reasons)

    @pytest.mark.parametrize(
        "reason", [EndReason.CUSTOMER_REQUEST, EndReason.NOT_RENEWED, EndReason.OTHER]
    )
    def test_cancellation_for_other_reasons_does_not(self, reason: EndReason) -> None:
        cancelled = policy("9").cancel(dt.date(2020, 1, 1), reason)
        assert grade(policy("1", purchases=5), cancelled) is CreditGrade.A

    def test_d_is_first_match_even_long_ago(self) -> None:
        cancelled = policy("9", start=dt.date(2001, 1, 1)).cancel(
            dt.date(2002, 1, 1), EndReason.FRAUD
        )
        assert grade(policy("1", purchases=9), cancelled) is CreditGrade.D

    def test_cancellation_after_the_assessment_date_is_ignored(self) -> None:
        cancelled = policy("9", purchases=3).cancel(AS_OF + dt.timedelta(days=1), EndReason.FRAUD)
        assert grade(cancelled) is CreditGrade.A
        assert grade(cancelled, as_of=AS_OF + dt.timedelta(days=1)) is CreditGrade.D

    def test_lapse_for_non_payment_is_not_a_cancellation(self) -> None:
        lapsed = policy("1", purchases=3).lapse(dt.date(2023, 1, 1), EndReason.NON_PAYMENT)
        assert grade(lapsed) is CreditGrade.A

    def test_holdings_elsewhere_are_not_purchases(self) -> None:
        assert grade(policy(insurer="平安人寿")) is None

    def test_assessment_reports_figures_and_reasons(self) -> None:
        assessment = grade_credit([policy(purchases=4, missed=(IN_WINDOW,))], AS_OF)
        assert (assessment.grade, assessment.purchases, assessment.missed_premiums) == (
            CreditGrade.B,
            4,
            1,
        )
        assert len(assessment.reasons) == 1
        assert assessment.reasons[0].startswith("B:")
        assert "4 purchases" in assessment.reasons[0]
        assert "1 missed" in assessment.reasons[0]

    def test_labels(self) -> None:
        assert [g.value for g in CreditGrade] == ["A", "B", "C", "D"]
        assert all(g.label_zh for g in CreditGrade)


# -- configuration --------------------------------------------------------------------------------


class TestConfig:
    def test_defaults_are_the_documented_ones(self) -> None:
        config = CreditConfig()
        assert (config.a_min_purchases, config.a_max_missed) == (3, 0)
        assert (config.b_min_purchases, config.b_max_missed) == (1, 1)
        assert config.lookback_years == 3
        assert config.d_reasons == {EndReason.NON_PAYMENT, EndReason.FRAUD}

    def test_thresholds_are_used(self) -> None:
        three = policy(purchases=3)
        assert grade(three, a_min_purchases=4) is CreditGrade.B
        assert grade(three, a_min_purchases=4, b_min_purchases=4) is CreditGrade.C
        one_missed = policy(purchases=3, missed=(IN_WINDOW,))
        assert grade(one_missed, a_max_missed=1) is CreditGrade.A
        two_missed = policy(purchases=1, missed=(IN_WINDOW, IN_WINDOW_2))
        assert grade(two_missed, b_max_missed=2) is CreditGrade.B

    def test_lookback_window_is_used(self) -> None:
        old = policy(purchases=3, missed=(dt.date(2022, 6, 1),))
        assert grade(old) is CreditGrade.B
        assert grade(old, lookback_years=1) is CreditGrade.A

    def test_d_reasons_are_used(self) -> None:
        cancelled = policy(purchases=3).cancel(dt.date(2023, 1, 1), EndReason.NON_PAYMENT)
        assert grade(cancelled) is CreditGrade.D
        assert grade(cancelled, d_reasons=frozenset({EndReason.FRAUD})) is CreditGrade.A

    @pytest.mark.parametrize("field", ["a_min_purchases", "b_min_purchases", "lookback_years"])
    @pytest.mark.parametrize("value", [0, -1, True, 1.5, "3", None])
    def test_positive_fields_refuse_bad_values(self, field: str, value: object) -> None:
        bad: dict[str, Any] = {field: value}
        with pytest.raises(ValidationError) as info:
            CreditConfig(**bad)
        assert (info.value.field, info.value.rule) == (field, "config.range")
        assert field in str(info.value)

    @pytest.mark.parametrize("field", ["a_max_missed", "b_max_missed"])
    @pytest.mark.parametrize("value", [-1, False, 0.5, "1", None])
    def test_non_negative_fields_refuse_bad_values(self, field: str, value: object) -> None:
        bad: dict[str, Any] = {field: value}
        with pytest.raises(ValidationError) as info:
            CreditConfig(**bad)
        assert (info.value.field, info.value.rule) == (field, "config.range")

    def test_a_rule_may_not_be_easier_than_b(self) -> None:
        with pytest.raises(ValidationError) as info:
            CreditConfig(a_min_purchases=1, b_min_purchases=2)
        assert (info.value.field, info.value.rule) == ("a_min_purchases", "config.order")
        with pytest.raises(ValidationError) as info:
            CreditConfig(a_max_missed=2, b_max_missed=1)
        assert (info.value.field, info.value.rule) == ("a_max_missed", "config.order")

    def test_boundary_values_are_accepted(self) -> None:
        config = CreditConfig(
            a_min_purchases=1, b_min_purchases=1, a_max_missed=0, b_max_missed=0, lookback_years=1
        )
        assert config.lookback_years == 1


# -- properties -----------------------------------------------------------------------------------


@st.composite
def portfolios(draw: st.DrawFn, min_size: int = 0) -> list[Policy]:
    """0–4 policies held by C1, each after a random legal lifecycle walk."""
    count = draw(st.integers(min_value=min_size, max_value=4))
    return [
        draw(gen.policies("C1", "C1", id=f"P{i}", start_date=draw(st.dates(START, AS_OF))))
        for i in range(count)
    ]


@st.composite
def configs(draw: st.DrawFn) -> CreditConfig:
    b_min = draw(st.integers(min_value=1, max_value=4))
    a_max = draw(st.integers(min_value=0, max_value=2))
    return CreditConfig(
        a_min_purchases=draw(st.integers(min_value=b_min, max_value=6)),
        a_max_missed=a_max,
        b_min_purchases=b_min,
        b_max_missed=draw(st.integers(min_value=a_max, max_value=3)),
        lookback_years=draw(st.integers(min_value=1, max_value=5)),
        d_reasons=draw(st.frozensets(st.sampled_from(EndReason))),
    )


def expectedgrade_credit(policies: list[Policy], as_of: dt.date, cfg: CreditConfig) -> Any:
    """DOMAIN.md §1.3 read literally: first match wins, over the policies of our company."""
    policies = [p for p in policies if p.is_ours]
    since = add_years(as_of, -cfg.lookback_years)
    bought = sum(1 for p in policies for b in p.purchases if b.on <= as_of)
    missed = sum(1 for p in policies for m in p.missed_premiums if since < m.due_date <= as_of)
    bad = any(
        c.on <= as_of and c.to_status is PolicyStatus.CANCELLED and c.reason in cfg.d_reasons
        for p in policies
        for c in p.history
    )
    if bad:
        return CreditGrade.D, bought, missed
    if bought == 0:
        return None, bought, missed
    if bought >= cfg.a_min_purchases and missed <= cfg.a_max_missed:
        return CreditGrade.A, bought, missed
    if bought >= cfg.b_min_purchases and missed <= cfg.b_max_missed:
        return CreditGrade.B, bought, missed
    return CreditGrade.C, bought, missed


class TestProperties:
    @given(portfolios(), st.dates(START, dt.date(2035, 12, 31)))
    def test_every_customer_with_a_purchase_gets_exactly_onegrade_credit(
        self, policies: list[Policy], as_of: dt.date
    ) -> None:
        assessment = grade_credit(policies, as_of)
        bought = sum(1 for p in policies for b in p.purchases if b.on <= as_of)
        assert assessment.purchases == bought
        if bought:
            assert isinstance(assessment.grade, CreditGrade)
            assert [g for g in CreditGrade if g is assessment.grade] == [assessment.grade]
        assert assessment.reasons
        if assessment.grade is not None:
            assert all(r.startswith(f"{assessment.grade.value}:") for r in assessment.reasons)

    @given(portfolios(), st.dates(START, dt.date(2035, 12, 31)), configs())
    def test_grade_follows_the_documented_rule(
        self, policies: list[Policy], as_of: dt.date, config: CreditConfig
    ) -> None:
        assessment = grade_credit(policies, as_of, config)
        assert (assessment.grade, assessment.purchases, assessment.missed_premiums) == (
            expectedgrade_credit(policies, as_of, config)
        )

    @given(
        portfolios(min_size=1),
        st.dates(START, dt.date(2030, 12, 31)),
        st.dates(dt.date(2015, 1, 1), dt.date(2030, 12, 31)),
        st.data(),
    )
    def test_a_missed_premium_never_improves_thegrade_credit(
        self, policies: list[Policy], as_of: dt.date, due: dt.date, data: st.DataObject
    ) -> None:
        before = grade_credit(policies, as_of).grade
        i = data.draw(st.integers(min_value=0, max_value=len(policies) - 1))
        changed = list(policies)
        changed[i] = changed[i].record_missed_premium(due)
        after = grade_credit(changed, as_of).grade
        if before is None:
            assert after is None
        else:
            assert after is not None
            assert RANK[after] >= RANK[before]

    @given(
        portfolios(),
        st.sampled_from([EndReason.NON_PAYMENT, EndReason.FRAUD]),
        st.integers(min_value=0, max_value=1_000),
        st.integers(min_value=0, max_value=1_000),
    )
    def test_a_cancellation_for_fraud_or_non_payment_gives_d(
        self, policies: list[Policy], reason: EndReason, active: int, cancel: int
    ) -> None:
        start = dt.date(2018, 1, 1)
        on = start + dt.timedelta(days=active)
        bad = policy("X", purchases=0, start=start).activate(on)
        bad = bad.cancel(on + dt.timedelta(days=cancel), reason)
        as_of = on + dt.timedelta(days=cancel)
        assessment = grade_credit([*policies, bad], as_of)
        assert assessment.grade is CreditGrade.D
        assert any(reason.name in r for r in assessment.reasons)

    @given(
        gen.policies("C1", "C1", status=PolicyStatus.IN_FORCE, ours=True),
        st.integers(min_value=0, max_value=1_000),
        st.integers(min_value=0, max_value=1_000),
    )
    def test_any_policy_in_force_cancelled_for_fraud_gives_d(
        self, generated: Policy, gap: int, later: int
    ) -> None:
        on = generated.history[-1].on + dt.timedelta(days=gap)
        cancelled = generated.cancel(on, EndReason.FRAUD)
        assert grade_credit([cancelled], on + dt.timedelta(days=later)).grade is CreditGrade.D
        assert grade_credit([cancelled], on - dt.timedelta(days=1)).grade is not CreditGrade.D


def test_policies_with_other_insurers_do_not_count() -> None:
    elsewhere = (
        make_policy("P9", "C1", insurer="平安人寿")
        .activate(dt.date(2024, 3, 1))
        .cancel(dt.date(2024, 6, 1), EndReason.FRAUD)
    )
    assessment = grade_credit([elsewhere], dt.date(2025, 1, 1))
    assert assessment.grade is None
    assert assessment.purchases == 0
