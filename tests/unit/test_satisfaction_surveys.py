"""Satisfaction surveys and indicators (客户满意度, DOMAIN.md §3): answers in words, the survey
report and its warning, the minimum interval between surveys, and the eight indicators."""

from __future__ import annotations

import datetime as dt
from collections import Counter
from decimal import Decimal

import attrs
import pytest
from hypothesis import given
from hypothesis import strategies as st

from insurcrm.domain.churn import ChurnCause, ChurnRecord, ChurnStructure
from insurcrm.domain.complaints import Complaint
from insurcrm.domain.customers import Customer
from insurcrm.domain.loyalty import SatisfactionConfig, SatisfactionOutcome
from insurcrm.domain.policies import Policy, ProductLine
from insurcrm.domain.rates import Rate
from insurcrm.domain.satisfaction import (
    Answer,
    Dimension,
    DimensionReport,
    RespondentRole,
    SatisfactionIndicators,
    SurveyChannel,
    SurveyConfig,
    SurveyReport,
    SurveyResponse,
    check_survey_interval,
    next_survey_day,
    satisfaction_indicators,
    survey_report,
)
from insurcrm.domain.values import Money
from insurcrm.errors import RuleViolation, ValidationError
from insurcrm.testing import strategies as gen
from insurcrm.testing.contracts import make_policy

DAY = dt.date(2024, 3, 1)
COMMENT = "张伟：理赔员态度很差，电话 13812345678"
ALL_GOOD = dict.fromkeys(Dimension, Answer.VERY_SATISFIED)


def response(
    customer_id: str = "C1",
    on: dt.date = DAY,
    answers: dict[Dimension, Answer] | None = None,
    **fields: object,
) -> SurveyResponse:
    values: dict[str, object] = {
        "id": f"R-{customer_id}-{on}"[:64],
        "survey_id": "SV-2024",
        "customer_id": customer_id,
        "role": RespondentRole.POLICYHOLDER,
        "channel": SurveyChannel.PHONE,
        "on": on,
        "answers": answers if answers is not None else {Dimension.SERVICE: Answer.SATISFIED},
    }
    return SurveyResponse(**{**values, **fields})  # type: ignore[arg-type]


# -- responses ------------------------------------------------------------------------------------


class TestAnswers:
    def test_answers_are_words_scored_5_to_1(self) -> None:
        assert [(a.name, a.label_zh, a.score) for a in Answer] == [
            ("VERY_SATISFIED", "非常满意", 5),
            ("SATISFIED", "满意", 4),
            ("NEUTRAL", "一般", 3),
            ("NOT_VERY_SATISFIED", "不太满意", 2),
            ("DISSATISFIED", "不满意", 1),
        ]

    def test_roles_channels_and_dimensions(self) -> None:
        assert [r.label_zh for r in RespondentRole] == ["投保人", "被保险人", "受益人", "潜在客户"]
        assert {c.name for c in SurveyChannel} == {"ON_SITE", "PHONE", "MAIL", "ONLINE"}
        assert [d.name for d in Dimension] == [
            "SERVICE",
            "OPERATIONS",
            "PRODUCT_PRICE",
            "INDUSTRY",
        ]


class TestSurveyResponse:
    def test_answers_are_kept_in_dimension_order(self) -> None:
        r = response(
            answers={Dimension.INDUSTRY: Answer.NEUTRAL, Dimension.SERVICE: Answer.SATISFIED}
        )
        assert list(r.answers) == [Dimension.SERVICE, Dimension.INDUSTRY]

    def test_experience_is_the_average_score(self) -> None:
        r = response(
            answers={
                Dimension.SERVICE: Answer.VERY_SATISFIED,
                Dimension.OPERATIONS: Answer.NEUTRAL,
                Dimension.PRODUCT_PRICE: Answer.NEUTRAL,
            }
        )
        assert r.experience == Decimal("3.67")

    def test_outcome_is_experience_minus_expectation(self) -> None:
        """Below expectation → DISSATISFIED, equal → SATISFIED, above → DELIGHTED."""
        answers = {Dimension.SERVICE: Answer.SATISFIED}
        assert response(answers=answers).outcome() is None
        below = response(answers=answers, expectation=Answer.VERY_SATISFIED).outcome()
        equal = response(answers=answers, expectation=Answer.SATISFIED).outcome()
        above = response(answers=answers, expectation=Answer.NEUTRAL).outcome()
        assert below is not None
        assert below.outcome is SatisfactionOutcome.DISSATISFIED
        assert equal is not None
        assert equal.outcome is SatisfactionOutcome.SATISFIED
        assert above is not None
        assert above.outcome is SatisfactionOutcome.DELIGHTED
        assert below.gap == Decimal(-1)
        lenient = response(answers=answers, expectation=Answer.VERY_SATISFIED).outcome(
            SatisfactionConfig(Decimal(1))
        )
        assert lenient is not None
        assert lenient.outcome is SatisfactionOutcome.SATISFIED

    def test_an_unhappy_answer_needs_a_follow_up(self) -> None:
        assert not response(answers={Dimension.SERVICE: Answer.NEUTRAL}).unhappy
        assert response(
            answers={
                Dimension.SERVICE: Answer.VERY_SATISFIED,
                Dimension.INDUSTRY: Answer.NOT_VERY_SATISFIED,
            }
        ).unhappy
        assert response(answers={Dimension.OPERATIONS: Answer.DISSATISFIED}).unhappy

    @pytest.mark.parametrize(
        ("fields", "field"),
        [
            ({"answers": {}}, "answers"),
            ({"answers": [(Dimension.SERVICE, Answer.SATISFIED)]}, "answers"),
            ({"answers": {"SERVICE": Answer.SATISFIED}}, "answers"),
            ({"answers": {Dimension.SERVICE: "满意"}}, "answers.SERVICE"),
            ({"answers": {Dimension.SERVICE: 4}}, "answers.SERVICE"),
            ({"praises_us": "yes"}, "praises_us"),
            ({"named_us": 1}, "named_us"),
            ({"comment": "a\x00b"}, "comment"),
            ({"id": ""}, "id"),
            ({"survey_id": "a\tb"}, "survey_id"),
            ({"customer_id": "x" * 65}, "customer_id"),
            ({"on": dt.datetime(2024, 3, 1, 9, 30)}, "on"),
            ({"erased": True, "comment": "still here"}, "comment"),
        ],
    )
    def test_bad_input_is_refused_naming_the_field(
        self, fields: dict[str, object], field: str
    ) -> None:
        with pytest.raises(ValidationError) as caught:
            response(**fields)  # type: ignore[arg-type]
        assert caught.value.field == field

    def test_erase_keeps_the_answers_but_not_the_comment(self) -> None:
        r = response(answers=ALL_GOOD, comment=COMMENT, praises_us=True, expectation=Answer.NEUTRAL)
        erased = r.erase()
        assert (erased.comment, erased.erased) == (None, True)
        assert attrs.evolve(erased, comment=COMMENT, erased=False) == r
        assert COMMENT not in repr(erased)

    def test_repr_masks_the_comment(self) -> None:
        shown = repr(response(comment=COMMENT))
        assert "张伟" not in shown
        assert "13812345678" not in shown
        assert "comment='***'" in shown

    @given(gen.survey_responses(), gen.texts())
    def test_repr_never_depends_on_the_comment(self, r: SurveyResponse, other: str) -> None:
        swapped = attrs.evolve(r, comment=None if r.comment is None else other)
        assert repr(r) == repr(swapped)
        erased = r.erase()
        assert (erased.comment, erased.answers, erased.on) == (None, r.answers, r.on)


# -- the report -----------------------------------------------------------------------------------


class TestSurveyReport:
    def test_few_respondents_warn_to_visit_them_directly(self) -> None:
        report = survey_report([response(f"C{i}") for i in range(3)])
        assert report.respondents == 3
        assert report.min_respondents == 30
        assert report.warning == (
            "only 3 respondents (fewer than 30): too few to mean much; visit them directly instead"
        )

    def test_thirty_respondents_are_enough(self) -> None:
        assert survey_report([response(f"C{i}") for i in range(29)]).warning is not None
        assert survey_report([response(f"C{i}") for i in range(30)]).warning is None

    def test_the_threshold_is_configurable(self) -> None:
        report = survey_report([response("C1")], SurveyConfig(min_respondents=1))
        assert report.warning is None
        assert "fewer than 5" in str(survey_report([], SurveyConfig(min_respondents=5)).warning)

    def test_distribution_and_average_per_dimension(self) -> None:
        answers = [
            Answer.VERY_SATISFIED,
            Answer.VERY_SATISFIED,
            Answer.SATISFIED,
            Answer.DISSATISFIED,
        ]
        responses = [
            response(
                f"C{i}", answers={Dimension.SERVICE: a, Dimension.PRODUCT_PRICE: Answer.NEUTRAL}
            )
            for i, a in enumerate(answers)
        ]
        report = survey_report(responses)
        service = report.dimension(Dimension.SERVICE)
        assert service.counts == (
            (Answer.VERY_SATISFIED, 2),
            (Answer.SATISFIED, 1),
            (Answer.NEUTRAL, 0),
            (Answer.NOT_VERY_SATISFIED, 0),
            (Answer.DISSATISFIED, 1),
        )
        assert service.respondents == 4
        assert service.count(Answer.VERY_SATISFIED) == 2
        assert service.share(Answer.VERY_SATISFIED) == Rate(2, 4)
        assert service.share(Answer.VERY_SATISFIED).percent == Decimal("50.00")
        assert service.average == Decimal("3.75")  # (5 + 5 + 4 + 1) / 4
        assert service.average_answer is Answer.SATISFIED
        assert report.dimension(Dimension.PRODUCT_PRICE).average == Decimal("3.00")
        operations = report.dimension(Dimension.OPERATIONS)
        assert (operations.respondents, operations.average, operations.average_answer) == (
            0,
            None,
            None,
        )
        assert operations.share(Answer.NEUTRAL).percent is None

    def test_a_tie_goes_to_the_better_answer(self) -> None:
        half = DimensionReport(
            Dimension.SERVICE,
            tuple((a, 1 if a in (Answer.VERY_SATISFIED, Answer.SATISFIED) else 0) for a in Answer),
        )
        assert half.average == Decimal("4.50")
        assert half.average_answer is Answer.VERY_SATISFIED
        low = DimensionReport(
            Dimension.SERVICE,
            tuple(
                (a, 1 if a in (Answer.NOT_VERY_SATISFIED, Answer.DISSATISFIED) else 0)
                for a in Answer
            ),
        )
        assert (low.average, low.average_answer) == (Decimal("1.50"), Answer.NOT_VERY_SATISFIED)

    def test_a_respondent_counts_once_with_their_latest_answer(self) -> None:
        responses = [
            response("C1", DAY, {Dimension.SERVICE: Answer.DISSATISFIED}),
            response("C1", DAY + dt.timedelta(days=200), {Dimension.SERVICE: Answer.SATISFIED}),
            response("C2", DAY, {Dimension.SERVICE: Answer.NEUTRAL}),
        ]
        report = survey_report(reversed(responses))
        assert report.respondents == 2
        service = report.dimension(Dimension.SERVICE)
        assert (service.count(Answer.SATISFIED), service.count(Answer.DISSATISFIED)) == (1, 0)

    def test_no_response_no_average(self) -> None:
        report = survey_report([])
        assert report == SurveyReport(0, report.dimensions, 30)
        assert all(d.average is None for d in report.dimensions)
        assert report.warning is not None

    @given(st.data())
    def test_counts_add_up_and_averages_lie_between_1_and_5(self, data: st.DataObject) -> None:
        pool = data.draw(st.lists(gen.customer_ids(), min_size=1, max_size=6, unique=True))
        responses = data.draw(
            st.lists(
                st.sampled_from(pool).flatmap(lambda cid: gen.survey_responses(customer_id=cid)),
                max_size=25,
            )
        )
        # distinct ids: a respondent's latest response is the one with the latest (day, id)
        responses = [attrs.evolve(r, id=f"R{i}") for i, r in enumerate(responses)]
        minimum = data.draw(st.integers(min_value=1, max_value=40))
        report = survey_report(responses, SurveyConfig(min_respondents=minimum))
        assert report.respondents == len({r.customer_id for r in responses})
        assert (report.warning is None) == (report.respondents >= minimum)
        assert [d.dimension for d in report.dimensions] == list(Dimension)
        latest: dict[str, SurveyResponse] = {}
        for r in sorted(responses, key=lambda r: (r.on, r.id)):
            latest[r.customer_id] = r
        for dim in report.dimensions:
            assert [a for a, _ in dim.counts] == list(Answer)
            assert sum(n for _, n in dim.counts) == dim.respondents <= report.respondents
            expected = Counter(
                r.answers[dim.dimension] for r in latest.values() if dim.dimension in r.answers
            )
            assert dict(dim.counts) == {a: expected[a] for a in Answer}
            if dim.respondents:
                assert dim.average is not None
                assert Decimal(1) <= dim.average <= Decimal(5)
                assert dim.average_answer is not None
                assert abs(dim.average_answer.score - dim.average) <= Decimal("0.5")
                total = sum(dim.share(a).numerator for a in Answer)
                assert total == dim.respondents
            else:
                assert dim.average is None


# -- the survey interval --------------------------------------------------------------------------


class TestSurveyInterval:
    def test_the_default_interval_is_180_days(self) -> None:
        assert SurveyConfig() == SurveyConfig(min_respondents=30, min_interval_days=180)
        assert next_survey_day(dt.date(2024, 1, 10)) == dt.date(2024, 7, 8)
        assert next_survey_day(None) == dt.date.min

    def test_a_survey_within_the_interval_is_refused_naming_the_next_allowed_date(self) -> None:
        with pytest.raises(RuleViolation) as caught:
            check_survey_interval("C1", [dt.date(2024, 1, 10)], dt.date(2024, 6, 1))
        assert str(caught.value) == (
            "customer C1 was surveyed on 2024-01-10; they may next be asked on 2024-07-08"
        )

    def test_the_next_allowed_date_is_allowed(self) -> None:
        check_survey_interval("C1", [dt.date(2024, 1, 10)], dt.date(2024, 7, 8))
        with pytest.raises(RuleViolation, match="2024-07-08"):
            check_survey_interval("C1", [dt.date(2024, 1, 10)], dt.date(2024, 7, 7))

    def test_the_latest_previous_survey_counts(self) -> None:
        previous = [dt.date(2023, 1, 1), dt.date(2024, 1, 10), dt.date(2023, 6, 1)]
        with pytest.raises(RuleViolation, match="surveyed on 2024-01-10"):
            check_survey_interval("C1", previous, dt.date(2024, 3, 1))

    def test_never_surveyed_and_far_later_surveys_do_not_block(self) -> None:
        check_survey_interval("C1", [], DAY)
        check_survey_interval("C1", [DAY + dt.timedelta(days=180)], DAY)

    def test_a_backdated_survey_is_refused_within_the_interval_before_a_later_one(self) -> None:
        later = DAY + dt.timedelta(days=35)
        with pytest.raises(RuleViolation, match="within 180 days before it") as caught:
            check_survey_interval("C1", [later], DAY)
        assert later.isoformat() in str(caught.value)

    def test_the_same_day_is_within_the_interval(self) -> None:
        with pytest.raises(RuleViolation):
            check_survey_interval("C1", [DAY], DAY)

    def test_the_interval_is_configurable(self) -> None:
        config = SurveyConfig(min_interval_days=30)
        check_survey_interval("C1", [DAY], DAY + dt.timedelta(days=30), config)
        with pytest.raises(RuleViolation, match="2024-03-31"):
            check_survey_interval("C1", [DAY], DAY + dt.timedelta(days=29), config)

    @pytest.mark.parametrize("field", ["min_respondents", "min_interval_days"])
    @pytest.mark.parametrize("value", [0, -1, True, 1.5, "30"])
    def test_a_bad_config_is_refused(self, field: str, value: object) -> None:
        with pytest.raises(ValidationError) as caught:
            SurveyConfig(**{field: value})  # type: ignore[arg-type]
        assert caught.value.field == field

    @given(
        st.lists(st.dates(dt.date(2020, 1, 1), dt.date(2025, 12, 31)), max_size=5),
        st.dates(dt.date(2020, 1, 1), dt.date(2025, 12, 31)),
        st.integers(min_value=1, max_value=400),
    )
    def test_refused_exactly_within_the_interval(
        self, previous: list[dt.date], on: dt.date, days: int
    ) -> None:
        config = SurveyConfig(min_interval_days=days)
        before = [d for d in previous if d <= on]
        blocked_before = bool(before) and on < max(before) + dt.timedelta(days=days)
        blocked_after = any(on < d < on + dt.timedelta(days=days) for d in previous)
        if not (blocked_before or blocked_after):
            check_survey_interval("C1", previous, on, config)
            return
        with pytest.raises(RuleViolation) as caught:
            check_survey_interval("C1", previous, on, config)
        if blocked_before:
            allowed = next_survey_day(max(before), config)
            assert allowed > on
            assert f"they may next be asked on {allowed.isoformat()}" in str(caught.value)
        else:
            assert f"within {days} days before it" in str(caught.value)


# -- indicators -----------------------------------------------------------------------------------

START = dt.date(2024, 1, 1)
END = dt.date(2024, 12, 31)


def usd_policy(policy_id: str, holder: str) -> Policy:
    return Policy(
        id=policy_id,
        number=f"N-{policy_id}",
        policyholder_id=holder,
        insured_id=holder,
        product_line=ProductLine.MEDICAL,
        start_date=dt.date(2024, 2, 1),
        term_years=1,
        sum_assured=Money("10000.00", "USD"),
        annual_premium=Money("500.00", "USD"),
    )


class TestIndicators:
    def indicators(self) -> SatisfactionIndicators:
        policies = [
            make_policy("P1", "C1").activate(dt.date(2022, 1, 1)),
            make_policy("P2", "C1", premium="5000.00").activate(dt.date(2024, 5, 1)),
            make_policy("P3", "C2")
            .activate(dt.date(2023, 1, 1))
            .renew(dt.date(2024, 1, 10), Money("1234.56")),
            make_policy("P4", "C3", premium="2000.00").activate(dt.date(2024, 3, 1)),
            make_policy("P5", "C4").activate(dt.date(2020, 1, 1)).lapse(dt.date(2023, 6, 1)),
            make_policy("P6", "C5", insurer="平安人寿").activate(dt.date(2024, 2, 1)),
            usd_policy("P7", "C3").activate(dt.date(2024, 2, 1)),
        ]
        customers = [
            Customer.register("C6", "王芳", dt.date(2024, 4, 1), referred_by="C1"),
            Customer.register("C7", "李娜", dt.date(2023, 6, 1), referred_by="C2"),
            Customer.register("C8", "赵强", dt.date(2024, 4, 1), referred_by="C4"),
        ]
        complaints = [
            Complaint.receive("Q1", "C2", dt.date(2024, 2, 1), dt.date(2024, 2, 5)),
            Complaint.receive("Q2", "C4", dt.date(2024, 3, 1), dt.date(2024, 3, 5)),
            Complaint.receive("Q3", "C1", START, START),
        ]
        responses = [
            response("C1", dt.date(2024, 6, 1), praises_us=True, named_us=True),
            response("C2", dt.date(2024, 6, 2), praises_us=False),
            response("C3", dt.date(2024, 6, 3), named_us=False),
            response("C1", dt.date(2023, 6, 1), praises_us=True, id="R-old"),
        ]
        churns = [
            ChurnRecord.record("X1", dt.date(2024, 2, 1), causes=[ChurnCause.PRICE]),
            ChurnRecord.record("X2", dt.date(2024, 3, 1), ChurnStructure.BOUGHT_OFF),
            ChurnRecord.record("X3", dt.date(2024, 4, 1), ChurnStructure.MIGRATED),
            ChurnRecord.record("X4", dt.date(2024, 5, 1)),
            ChurnRecord.record("X5", dt.date(2023, 5, 1), causes=[ChurnCause.PRICE]),
        ]
        return satisfaction_indicators(
            START,
            END,
            customers=customers,
            policies=policies,
            complaints=complaints,
            responses=responses,
            churns=churns,
        )

    def test_the_eight_indicators(self) -> None:
        result = self.indicators()
        # served: C1 and C2 in force at the start, C3 bought in the period (C4 lapsed before)
        assert result.reputation == Rate(1, 2)
        assert result.naming_rate == Rate(1, 2)
        # bought before: C1, C2, C4; a new policy in the period: C1 (C2 only renewed)
        assert result.repeat_rate == Rate(1, 3)
        # C2 complained in the period; C4 is not served, C1 complained on the start day
        assert result.complaint_rate == Rate(1, 3)
        # 5,000 (P2) + 1,234.56 (P3 renewal) + 2,000 (P4); the USD policy is left out
        assert result.sales_power == Money("8234.56")
        assert result.purchases == 3
        assert result.average_purchase == Money("2744.85")
        # analysed churns in the period: X1 (price), X2 (bought off), X3 (migrated)
        assert result.price_sensitivity == Rate(2, 3)
        # C1 referred C6 in the period; C2's referral is older, C4 is not served
        assert result.referral_rate == Rate(1, 3)
        assert result.complaint_rate.percent == Decimal("33.33")
        assert str(result.reputation) == "50.00 % (1/2)"

    def test_an_empty_period_has_no_rates(self) -> None:
        result = satisfaction_indicators(START, END, customers=[], policies=[])
        for rate in (
            result.reputation,
            result.naming_rate,
            result.repeat_rate,
            result.complaint_rate,
            result.price_sensitivity,
            result.referral_rate,
        ):
            assert rate == Rate(0, 0)
            assert rate.percent is None
            assert str(rate) == "n/a"
        assert (result.sales_power, result.purchases, result.average_purchase) == (
            Money("0.00"),
            0,
            None,
        )

    def test_the_sales_currency_is_chosen(self) -> None:
        result = satisfaction_indicators(
            START,
            END,
            customers=[],
            policies=[usd_policy("P7", "C3").activate(dt.date(2024, 2, 1))],
            currency="USD",
        )
        assert (result.sales_power, result.purchases) == (Money("500.00", "USD"), 1)

    def test_end_before_start_is_refused(self) -> None:
        with pytest.raises(ValidationError) as caught:
            satisfaction_indicators(END, START, customers=[], policies=[])
        assert caught.value.field == "end"

    @given(st.data())
    def test_rates_lie_between_0_and_100(self, data: st.DataObject) -> None:
        pool = ("C1", "C2", "C3", "C4")
        ids = st.sampled_from(pool)
        start = data.draw(st.dates(dt.date(2005, 1, 1), dt.date(2025, 1, 1)))
        end = data.draw(st.dates(start, dt.date(2026, 1, 1)))
        since = start - dt.timedelta(days=400)
        policies = data.draw(
            st.lists(ids.flatmap(lambda c: gen.policies(c, c, until=end, max_steps=4)), max_size=5)
        )
        customers = [
            Customer.register(f"N{i}", "新客户", data.draw(st.dates(start, end)), referred_by=ref)
            for i, ref in enumerate(data.draw(st.lists(ids, max_size=4)))
        ]
        complaints = data.draw(
            st.lists(
                ids.flatmap(
                    lambda c: gen.complaints(customer_id=c, max_moves=0, since=since, until=end)
                ),
                max_size=4,
            )
        )
        responses = data.draw(
            st.lists(
                ids.flatmap(lambda c: gen.survey_responses(customer_id=c, since=since, until=end)),
                max_size=6,
            )
        )
        churns = data.draw(
            st.lists(
                ids.flatmap(lambda c: gen.churn_records(customer_id=c, since=since, until=end)),
                max_size=4,
            )
        )
        result = satisfaction_indicators(
            start,
            end,
            customers=customers,
            policies=policies,
            complaints=complaints,
            responses=responses,
            churns=churns,
        )
        rates = (
            result.reputation,
            result.naming_rate,
            result.repeat_rate,
            result.complaint_rate,
            result.price_sensitivity,
            result.referral_rate,
        )
        for rate in rates:
            assert 0 <= rate.numerator <= rate.denominator
            if rate.denominator == 0:
                assert rate.percent is None
            else:
                assert rate.percent is not None
                assert Decimal(0) <= rate.percent <= Decimal(100)
        assert result.reputation.denominator == sum(
            1 for r in responses if start < r.on <= end and r.praises_us is not None
        )
        assert result.sales_power.amount >= 0
        average = result.average_purchase
        if average is not None:
            assert average.amount * result.purchases - result.sales_power.amount <= result.purchases
