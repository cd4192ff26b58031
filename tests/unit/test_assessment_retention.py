"""The engine's early warning, recovery and satisfaction pieces (§3, §7.2, §7.3), one by one.

The engine shares these with the per-customer rules; the integration tests check, on every
backend, that the portfolio rows and totals equal what those rules give.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from insurcrm.domain.assessment import Assessor, open_churn
from insurcrm.domain.churn import ChurnCause, ChurnRecord, ChurnStructure
from insurcrm.domain.early_warning import (
    WarningConfig,
    WarningFigures,
    WarningLevel,
    WarningSignal,
    warning_score,
    warning_signals,
)
from insurcrm.domain.future_value import (
    FutureValueConfig,
    flat_model,
    lost_premium,
    win_back_factor,
    win_back_value,
    win_back_worth,
)
from insurcrm.domain.interactions import ObservedSignal
from insurcrm.domain.recovery import WinBackStance
from insurcrm.domain.satisfaction import Answer, experience_of, period_counts, price_led
from insurcrm.errors import ValidationError
from insurcrm.testing.contracts import make_policy
from tests.unit.test_assessment import AS_OF as FIGURES_AS_OF
from tests.unit.test_assessment import CONFIG, STATS, buyer

AS_OF = dt.date(2026, 6, 30)


class TestWarning:
    def test_every_signal_together_scores_at_most_100(self) -> None:
        assert warning_score(WarningSignal) == 100  # the weights add up to 125

    def test_the_figures_raise_the_signals_of_early_warning(self) -> None:
        figures = WarningFigures(
            bought=Decimal("800.00"),
            bought_before=Decimal("1000.00"),  # down 20 %: declining
            complaints=1,
            complaints_before=1,  # not more: not increasing
            noted={ObservedSignal.PRAISES_COMPETITOR: 1},  # once is not "repeatedly"
            survey_last=Decimal("3.50"),
            survey_prior=Decimal("4.00"),  # down 0.5: declining
            last_purchase=dt.date(2024, 6, 29),  # more than 2 years before: idle
        )
        assert warning_signals(figures, AS_OF) == (
            WarningSignal.PURCHASES_DECLINING,
            WarningSignal.RELATIONSHIP_DECLINING,
            WarningSignal.IDLE_RETURNING,
        )

    def test_a_zero_weight_leaves_its_signal_out(self) -> None:
        config = WarningConfig(weights={WarningSignal.IDLE_RETURNING: 0})
        idle = WarningFigures(last_purchase=dt.date(2020, 1, 1))  # over 2 years before
        assert warning_signals(idle, AS_OF, config) == ()

    @given(
        complaints=st.integers(0, 5),
        before=st.integers(0, 5),
        more=st.integers(1, 3),
    )
    def test_more_complaints_in_the_window_never_lower_the_score(
        self, complaints: int, before: int, more: int
    ) -> None:
        def score(n: int) -> int:
            figures = WarningFigures(complaints=n, complaints_before=before)
            return warning_score(warning_signals(figures, AS_OF))

        assert score(complaints + more) >= score(complaints)

    def test_the_engine_gives_the_score_and_level(self) -> None:
        row = Assessor(STATS, FIGURES_AS_OF, CONFIG)(buyer(complaints=2, praises=2))
        assert (row.warning_score, row.warning_level) == (45, WarningLevel.WARNING)


class TestSurveyExperience:
    def test_is_the_average_score_to_two_places(self) -> None:
        answers = (Answer.SATISFIED, Answer.NEUTRAL, Answer.NEUTRAL)  # (4 + 3 + 3) / 3
        assert experience_of(answers) == Decimal("3.33")

    def test_needs_an_answer(self) -> None:
        with pytest.raises(ValidationError) as error:
            experience_of(())
        assert error.value.field == "answers"


class TestRecovery:
    def record(self, on: dt.date, record_id: str, won_back: dt.date | None = None) -> ChurnRecord:
        record = ChurnRecord(record_id, "C1", on, ChurnStructure.PULLED_AWAY)
        return record if won_back is None else record.won_back(won_back)

    def test_the_latest_churn_still_open_on_the_date(self) -> None:
        early = self.record(dt.date(2025, 1, 1), "CH1")
        won_later = self.record(dt.date(2025, 6, 1), "CH2", won_back=dt.date(2026, 7, 1))
        after = self.record(dt.date(2026, 7, 2), "CH3")
        assert open_churn([early, won_later, after], AS_OF) == won_later  # open on the date
        won_before = self.record(dt.date(2025, 6, 1), "CH2", won_back=AS_OF)
        assert open_churn([early, won_before, after], AS_OF) == early
        assert open_churn([after], AS_OF) is None

    def test_the_win_back_worth_is_win_back_value(self) -> None:
        policy = make_policy("P1", "C1", premium="2000.00").activate(dt.date(2024, 1, 1))
        ended = policy.surrender(dt.date(2025, 3, 1))
        model, config = flat_model(), FutureValueConfig()
        lost = lost_premium([ended], dt.date(2025, 3, 1))
        assert lost == Decimal("2000.00")  # in force the day before
        worth = win_back_worth(lost, win_back_factor(model, config))
        value = win_back_value("C1", [ended], dt.date(2025, 3, 1), model, config)
        assert worth == value.amount.amount

    def test_the_engine_decides_for_a_churned_customer_only(self) -> None:
        assess = Assessor(STATS, FIGURES_AS_OF, CONFIG)
        assert assess(buyer()).win_back is None
        fraud = buyer(
            churn_id="CH1",
            churn_on=dt.date(2024, 1, 1),
            churn_causes=(ChurnCause.FRAUD.name,),
            lost_premium=Decimal("90000.00"),
        )
        row = assess(fraud)
        assert (row.win_back, row.win_back_recommended) == (WinBackStance.GIVE_UP_ENTIRELY, False)
        important = fraud._replace(churn_causes=(), churn_structure="UNINTENTIONALLY_PUSHED_AWAY")
        assert assess(important).win_back is WinBackStance.SPARE_NO_EFFORT


class TestPeriodCounts:
    def test_count_the_period_s_analysed_churns_and_the_price_led_ones(self) -> None:
        start = dt.date(2025, 6, 30)
        churns = [
            ChurnRecord("CH1", "C1", dt.date(2025, 7, 1), ChurnStructure.BOUGHT_OFF),
            ChurnRecord("CH2", "C2", AS_OF, None, (ChurnCause.PRICE,)),
            ChurnRecord("CH3", "C3", AS_OF),  # not analysed
            ChurnRecord("CH4", "C4", start, ChurnStructure.BOUGHT_OFF),  # before the period
        ]
        counts = period_counts(start, AS_OF, churns=churns)
        assert (counts.price_sensitivity.numerator, counts.price_sensitivity.denominator) == (2, 2)
        assert [price_led(r) for r in churns] == [True, True, False, True]
