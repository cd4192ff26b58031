"""Satisfaction = experience − expectation (DOMAIN.md §3, first bullet)."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from insurcrm.domain.loyalty import (
    SatisfactionConfig,
    SatisfactionOutcome,
    SatisfactionResult,
    satisfaction_outcome,
)
from insurcrm.errors import ValidationError

DISSATISFIED = SatisfactionOutcome.DISSATISFIED
SATISFIED = SatisfactionOutcome.SATISFIED
DELIGHTED = SatisfactionOutcome.DELIGHTED

RANK = {DISSATISFIED: 0, SATISFIED: 1, DELIGHTED: 2}

#: Scores as ints or Decimals with up to 2 places, on any scale.
scores = st.one_of(
    st.integers(min_value=-1_000, max_value=1_000),
    st.decimals(min_value=-1_000, max_value=1_000, places=2, allow_nan=False),
)
tolerances = st.decimals(min_value=0, max_value=50, places=2, allow_nan=False)


class TestDefaultTolerance:
    def test_default_tolerance_is_zero(self) -> None:
        assert SatisfactionConfig().tolerance == Decimal(0)

    @pytest.mark.parametrize(
        ("experience", "expectation", "outcome", "gap"),
        [
            (8, 8, SATISFIED, Decimal(0)),
            (7, 8, DISSATISFIED, Decimal(-1)),
            (9, 8, DELIGHTED, Decimal(1)),
            (Decimal("7.99"), 8, DISSATISFIED, Decimal("-0.01")),
            (Decimal("8.01"), 8, DELIGHTED, Decimal("0.01")),
            (Decimal("8.00"), 8, SATISFIED, Decimal(0)),
            (0, 0, SATISFIED, Decimal(0)),
            (-3, -5, DELIGHTED, Decimal(2)),
        ],
    )
    def test_outcome_and_gap(
        self,
        experience: int | Decimal,
        expectation: int | Decimal,
        outcome: SatisfactionOutcome,
        gap: Decimal,
    ) -> None:
        result = satisfaction_outcome(experience, expectation)
        assert result.outcome is outcome
        assert result.gap == gap

    def test_none_config_is_the_default_config(self) -> None:
        assert satisfaction_outcome(7, 8, None) == satisfaction_outcome(7, 8, SatisfactionConfig())


class TestTolerance:
    CONFIG = SatisfactionConfig(tolerance=Decimal("0.5"))

    @pytest.mark.parametrize(
        ("experience", "outcome"),
        [
            (Decimal("7.49"), DISSATISFIED),  # just outside, below
            (Decimal("7.50"), SATISFIED),  # exactly at −tolerance
            (Decimal("7.51"), SATISFIED),
            (Decimal("8.00"), SATISFIED),
            (Decimal("8.49"), SATISFIED),
            (Decimal("8.50"), SATISFIED),  # exactly at +tolerance
            (Decimal("8.51"), DELIGHTED),  # just outside, above
        ],
    )
    def test_both_sides_of_the_tolerance(
        self, experience: Decimal, outcome: SatisfactionOutcome
    ) -> None:
        result = satisfaction_outcome(experience, 8, self.CONFIG)
        assert result.outcome is outcome
        assert result.gap == experience - 8

    def test_whole_number_tolerance(self) -> None:
        config = SatisfactionConfig(tolerance=Decimal(1))
        assert satisfaction_outcome(5, 7, config).outcome is DISSATISFIED
        assert satisfaction_outcome(6, 7, config).outcome is SATISFIED
        assert satisfaction_outcome(8, 7, config).outcome is SATISFIED
        assert satisfaction_outcome(9, 7, config).outcome is DELIGHTED


class TestReasons:
    @pytest.mark.parametrize(
        ("experience", "outcome"), [(6, DISSATISFIED), (8, SATISFIED), (10, DELIGHTED)]
    )
    def test_reasons_name_the_outcome_and_the_gap(
        self, experience: int, outcome: SatisfactionOutcome
    ) -> None:
        result = satisfaction_outcome(experience, 8)
        assert result.reasons
        text = " ".join(result.reasons)
        assert outcome.name in text
        assert str(result.gap) in text

    def test_reasons_name_the_tolerance(self) -> None:
        result = satisfaction_outcome(9, 8, SatisfactionConfig(tolerance=Decimal("1.5")))
        assert result.outcome is SATISFIED
        assert "1.5" in " ".join(result.reasons)


class TestRefusedInput:
    @pytest.mark.parametrize("bad", [Decimal(-1), Decimal("-0.01")])
    def test_negative_tolerance_is_refused_naming_the_field(self, bad: Decimal) -> None:
        with pytest.raises(ValidationError) as caught:
            SatisfactionConfig(tolerance=bad)
        assert caught.value.field == "tolerance"

    @pytest.mark.parametrize("bad", [0.5, 0.0, "0.5", None, Decimal("NaN"), Decimal("Infinity")])
    def test_non_decimal_tolerance_is_refused_naming_the_field(self, bad: object) -> None:
        with pytest.raises(ValidationError) as caught:
            SatisfactionConfig(tolerance=bad)  # type: ignore[arg-type]
        assert caught.value.field == "tolerance"

    @pytest.mark.parametrize("bad", [7.5, True, "7", None, Decimal("NaN")])
    def test_experience_must_be_an_int_or_a_finite_decimal(self, bad: object) -> None:
        with pytest.raises(ValidationError) as caught:
            satisfaction_outcome(bad, 8)  # type: ignore[arg-type]
        assert caught.value.field == "experience"

    @pytest.mark.parametrize("bad", [7.5, False, "7", Decimal("-Infinity")])
    def test_expectation_must_be_an_int_or_a_finite_decimal(self, bad: object) -> None:
        with pytest.raises(ValidationError) as caught:
            satisfaction_outcome(8, bad)  # type: ignore[arg-type]
        assert caught.value.field == "expectation"


# -- properties -----------------------------------------------------------------------------------


@given(experience=scores, expectation=scores, tolerance=tolerances)
def test_every_pair_of_scores_has_exactly_the_outcome_of_its_gap(
    experience: int | Decimal, expectation: int | Decimal, tolerance: Decimal
) -> None:
    result = satisfaction_outcome(experience, expectation, SatisfactionConfig(tolerance))
    assert isinstance(result, SatisfactionResult)
    gap = Decimal(experience) - Decimal(expectation)
    assert result.gap == gap
    expected = DISSATISFIED if gap < -tolerance else DELIGHTED if gap > tolerance else SATISFIED
    assert result.outcome is expected
    assert result.reasons
    assert result.outcome.name in result.reasons[0]


@given(
    experience=scores,
    expectation=scores,
    raise_by=st.decimals(min_value=0, max_value=100, places=2, allow_nan=False),
    tolerance=tolerances,
)
def test_raising_experience_never_lowers_the_outcome(
    experience: int | Decimal, expectation: int | Decimal, raise_by: Decimal, tolerance: Decimal
) -> None:
    config = SatisfactionConfig(tolerance)
    before = satisfaction_outcome(experience, expectation, config)
    after = satisfaction_outcome(Decimal(experience) + raise_by, expectation, config)
    assert RANK[after.outcome] >= RANK[before.outcome]


@given(experience=scores, expectation=scores)
def test_raising_expectation_never_raises_the_outcome(
    experience: int | Decimal, expectation: int | Decimal
) -> None:
    before = satisfaction_outcome(experience, expectation)
    after = satisfaction_outcome(experience, Decimal(expectation) + 1)
    assert RANK[after.outcome] <= RANK[before.outcome]


def test_labels_are_the_chinese_terms() -> None:
    assert [o.label_zh for o in SatisfactionOutcome] == ["不满意", "满意", "非常满意"]
