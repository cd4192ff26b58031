"""Early warning of dissatisfaction (客户不满的信号, DOMAIN.md §7.2): a score with the signals
that raised it."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from insurcrm.domain.complaints import Complaint
from insurcrm.domain.early_warning import (
    DEFAULT_WEIGHTS,
    EarlyWarning,
    SignalFound,
    WarningConfig,
    WarningLevel,
    WarningSignal,
    early_warning,
)
from insurcrm.domain.interactions import (
    Channel,
    Direction,
    Interaction,
    ObservedSignal,
    Purpose,
)
from insurcrm.domain.policies import Policy
from insurcrm.domain.programmes import ProgrammeConfig
from insurcrm.domain.satisfaction import (
    Answer,
    Dimension,
    RespondentRole,
    SurveyChannel,
    SurveyResponse,
)
from insurcrm.domain.values import Money
from insurcrm.errors import ValidationError
from insurcrm.testing import strategies as gen
from insurcrm.testing.contracts import make_policy

AS_OF = dt.date(2024, 6, 30)
YEAR = dt.timedelta(days=365)
#: The first day of the current window (the window is START < day <= AS_OF).
START = AS_OF - YEAR
IN_WINDOW = AS_OF - dt.timedelta(days=30)
BEFORE = START - dt.timedelta(days=30)
DAY = dt.timedelta(days=1)


def bought(premium: str, on: dt.date, policy_id: str = "P1", holder: str = "C1") -> Policy:
    return make_policy(policy_id, holder, premium=premium).activate(on)


def complaint(on: dt.date, complaint_id: str = "Q1", customer_id: str = "C1") -> Complaint:
    return Complaint.receive(complaint_id, customer_id, on, on)


def contact(
    on: dt.date,
    *signals: ObservedSignal,
    contact_id: str = "I1",
    customer_id: str = "C1",
) -> Interaction:
    return Interaction(
        contact_id,
        customer_id,
        on,
        Channel.VISIT,
        Direction.OUTBOUND,
        Purpose.CARE,
        memo="客户说平安的服务更好",
        signals=signals,
    )


def survey(on: dt.date, *answers: Answer, response_id: str = "R1") -> SurveyResponse:
    return SurveyResponse(
        response_id,
        "SV1",
        "C1",
        RespondentRole.POLICYHOLDER,
        SurveyChannel.PHONE,
        on,
        dict(zip(Dimension, answers, strict=False)),
    )


def warn(**kwargs: object) -> EarlyWarning:
    return early_warning("C1", AS_OF, **kwargs)  # type: ignore[arg-type]


def found(result: EarlyWarning) -> list[WarningSignal]:
    return [s.signal for s in result.signals]


class TestNoSignal:
    def test_nothing_known_no_warning(self) -> None:
        result = warn()
        assert (result.customer_id, result.as_of, result.score) == ("C1", AS_OF, 0)
        assert result.level is WarningLevel.NONE
        assert result.signals == ()
        assert result.reasons == ("no signal of dissatisfaction",)

    def test_a_steady_customer_no_warning(self) -> None:
        policy = bought("10000.00", BEFORE).renew(IN_WINDOW)
        result = warn(
            policies=[policy],
            complaints=[complaint(BEFORE), complaint(IN_WINDOW, "Q2")],
            interactions=[contact(IN_WINDOW)],
            responses=[
                survey(BEFORE, Answer.SATISFIED),
                survey(IN_WINDOW, Answer.SATISFIED, response_id="R2"),
            ],
        )
        assert result.score == 0
        assert result.signals == ()


class TestSignals:
    def test_purchases_declining_by_20_percent(self) -> None:
        policy = bought("10000.00", BEFORE).renew(IN_WINDOW, Money("8000.00"))
        result = warn(policies=[policy])
        assert result.signals == (
            SignalFound(
                WarningSignal.PURCHASES_DECLINING,
                25,
                "purchases ¥8,000.00 in the last 365 days, down 20.0 % from ¥10,000.00",
            ),
        )
        assert (result.score, result.level) == (25, WarningLevel.WATCH)

    def test_a_smaller_drop_is_no_decline(self) -> None:
        policy = bought("10000.00", BEFORE).renew(IN_WINDOW, Money("8000.01"))
        assert warn(policies=[policy]).signals == ()

    def test_no_purchase_at_all_in_the_window_is_a_decline(self) -> None:
        policy = bought("10000.00", BEFORE)
        assert found(warn(policies=[policy])) == [WarningSignal.PURCHASES_DECLINING]

    def test_complaints_increasing(self) -> None:
        result = warn(complaints=[complaint(IN_WINDOW)])
        assert result.signals == (
            SignalFound(
                WarningSignal.COMPLAINTS_INCREASING,
                25,
                "1 complaint in the last 365 days, 0 before",
            ),
        )
        steady = warn(complaints=[complaint(BEFORE), complaint(IN_WINDOW, "Q2")])
        assert steady.signals == ()
        more = [complaint(BEFORE), complaint(IN_WINDOW, "Q2"), complaint(AS_OF, "Q3")]
        assert found(warn(complaints=more)) == [WarningSignal.COMPLAINTS_INCREASING]

    def test_praising_a_competitor_repeatedly(self) -> None:
        """Once is not "repeatedly"; twice in the window is."""
        once = [contact(IN_WINDOW, ObservedSignal.PRAISES_COMPETITOR)]
        assert warn(interactions=once).signals == ()
        twice = [*once, contact(AS_OF, ObservedSignal.PRAISES_COMPETITOR, contact_id="I2")]
        assert warn(interactions=twice).signals == (
            SignalFound(WarningSignal.PRAISES_COMPETITOR, 20, "praised a competitor in 2 contacts"),
        )
        old = [*once, contact(BEFORE, ObservedSignal.PRAISES_COMPETITOR, contact_id="I2")]
        assert warn(interactions=old).signals == ()

    def test_relationship_declining_noted_by_staff(self) -> None:
        noted = [contact(IN_WINDOW, ObservedSignal.RELATIONSHIP_DECLINING)]
        assert warn(interactions=noted).signals == (
            SignalFound(WarningSignal.RELATIONSHIP_DECLINING, 15, "noted by staff in 1 contact"),
        )

    def test_relationship_declining_in_the_surveys(self) -> None:
        """The latest survey in the window averages 0.5 points or more below the one before."""
        prior = survey(BEFORE, Answer.SATISFIED, Answer.SATISFIED)
        fell = survey(IN_WINDOW, Answer.SATISFIED, Answer.NEUTRAL, response_id="R2")
        result = warn(responses=[fell, prior])
        assert result.signals == (
            SignalFound(
                WarningSignal.RELATIONSHIP_DECLINING, 15, "survey average fell from 4.00 to 3.50"
            ),
        )
        less = survey(
            IN_WINDOW, Answer.SATISFIED, Answer.SATISFIED, Answer.NEUTRAL, response_id="R2"
        )
        assert warn(responses=[prior, less]).signals == ()
        stale = survey(BEFORE + DAY, Answer.DISSATISFIED, response_id="R2")
        assert warn(responses=[prior, stale]).signals == ()
        both = warn(
            responses=[prior, fell],
            interactions=[contact(IN_WINDOW, ObservedSignal.RELATIONSHIP_DECLINING)],
        )
        assert both.signals[0].reason == (
            "noted by staff in 1 contact; survey average fell from 4.00 to 3.50"
        )

    def test_new_business_strategy_and_ownership_change(self) -> None:
        noted = [
            contact(
                IN_WINDOW, ObservedSignal.NEW_BUSINESS_STRATEGY, ObservedSignal.OWNERSHIP_CHANGE
            )
        ]
        result = warn(interactions=noted)
        assert result.signals == (
            SignalFound(WarningSignal.NEW_BUSINESS_STRATEGY, 10, "noted by staff in 1 contact"),
            SignalFound(WarningSignal.OWNERSHIP_CHANGE, 10, "noted by staff in 1 contact"),
        )
        assert (result.score, result.level) == (20, WarningLevel.WATCH)

    def test_a_returning_customer_idle_for_over_2_years(self) -> None:
        last = dt.date(2022, 6, 29)
        result = warn(policies=[bought("5000.00", last)])
        assert result.signals == (
            SignalFound(
                WarningSignal.IDLE_RETURNING,
                20,
                "last purchase 2022-06-29 is more than 2 years before 2024-06-30",
            ),
        )
        assert warn(policies=[bought("5000.00", dt.date(2022, 6, 30))]).signals == ()
        longer = WarningConfig(programmes=ProgrammeConfig(revisit_idle_years=3))
        assert warn(policies=[bought("5000.00", last)], config=longer).signals == ()

    def test_every_signal_at_once_is_capped_at_100(self) -> None:
        result = warn(
            policies=[bought("10000.00", BEFORE)],
            complaints=[complaint(IN_WINDOW)],
            interactions=[
                contact(IN_WINDOW, *ObservedSignal),
                contact(AS_OF, ObservedSignal.PRAISES_COMPETITOR, contact_id="I2"),
            ],
        )
        assert found(result) == [s for s in WarningSignal if s is not WarningSignal.IDLE_RETURNING]
        assert sum(s.weight for s in result.signals) == 105
        assert (result.score, result.level) == (100, WarningLevel.ALERT)
        assert len(result.reasons) == 6
        assert result.reasons[0].startswith("PURCHASES_DECLINING (+25): purchases ¥0.00")


class TestWhatIsRead:
    def test_only_this_customers_data_is_read(self) -> None:
        result = warn(
            policies=[bought("10000.00", BEFORE, holder="C2")],
            complaints=[complaint(IN_WINDOW, customer_id="C2")],
            interactions=[contact(IN_WINDOW, *ObservedSignal, customer_id="C2")],
        )
        assert result.signals == ()

    def test_other_insurers_policies_are_not_read(self) -> None:
        theirs = make_policy("P1", insurer="平安人寿").activate(BEFORE)
        assert warn(policies=[theirs]).signals == ()

    def test_nothing_after_the_assessment_date_is_read(self) -> None:
        later = AS_OF + DAY
        result = warn(
            policies=[bought("10000.00", BEFORE).renew(later, Money("1.00"))],
            complaints=[complaint(later)],
            interactions=[contact(later, *ObservedSignal), contact(later, *ObservedSignal)],
            responses=[
                survey(BEFORE, Answer.VERY_SATISFIED),
                survey(later, Answer.DISSATISFIED, response_id="R2"),
            ],
        )
        assert found(result) == [WarningSignal.PURCHASES_DECLINING]


class TestConfig:
    def test_defaults(self) -> None:
        config = WarningConfig()
        assert (config.window_days, config.purchase_drop, config.praise_repeats) == (
            365,
            Decimal("0.20"),
            2,
        )
        assert (config.survey_drop, config.levels) == (Decimal("0.5"), (20, 40, 60))
        assert config.weights == dict(DEFAULT_WEIGHTS)
        assert list(config.weights) == list(WarningSignal)

    @pytest.mark.parametrize(
        ("score", "level"),
        [
            (0, WarningLevel.NONE),
            (19, WarningLevel.NONE),
            (20, WarningLevel.WATCH),
            (39, WarningLevel.WATCH),
            (40, WarningLevel.WARNING),
            (59, WarningLevel.WARNING),
            (60, WarningLevel.ALERT),
            (100, WarningLevel.ALERT),
        ],
    )
    def test_levels(self, score: int, level: WarningLevel) -> None:
        assert WarningConfig().level(score) is level

    def test_weights_left_out_keep_their_default(self) -> None:
        config = WarningConfig(weights={WarningSignal.IDLE_RETURNING: 50})
        assert config.weights[WarningSignal.IDLE_RETURNING] == 50
        assert config.weights[WarningSignal.PRAISES_COMPETITOR] == 20

    def test_a_signal_weighing_nothing_is_not_reported(self) -> None:
        config = WarningConfig(weights={WarningSignal.COMPLAINTS_INCREASING: 0})
        assert warn(complaints=[complaint(IN_WINDOW)], config=config).signals == ()

    def test_a_shorter_window(self) -> None:
        config = WarningConfig(window_days=30)
        assert found(
            warn(complaints=[complaint(AS_OF - dt.timedelta(days=29))], config=config)
        ) == [WarningSignal.COMPLAINTS_INCREASING]
        assert (
            warn(complaints=[complaint(AS_OF - dt.timedelta(days=30))], config=config).signals == ()
        )

    @pytest.mark.parametrize(
        ("kwargs", "field"),
        [
            ({"levels": (0, 40, 60)}, "levels"),
            ({"levels": (20, 10, 60)}, "levels"),
            ({"levels": (20, 40, 101)}, "levels"),
            ({"levels": [20, 40, 60]}, "levels"),
            ({"levels": (20, 40)}, "levels"),
            ({"levels": (20, 40, True)}, "levels"),
            ({"weights": {WarningSignal.OWNERSHIP_CHANGE: 101}}, "weights.OWNERSHIP_CHANGE"),
            ({"weights": {WarningSignal.OWNERSHIP_CHANGE: -1}}, "weights.OWNERSHIP_CHANGE"),
            ({"weights": {WarningSignal.OWNERSHIP_CHANGE: 1.5}}, "weights.OWNERSHIP_CHANGE"),
            ({"weights": {WarningSignal.OWNERSHIP_CHANGE: True}}, "weights.OWNERSHIP_CHANGE"),
            ({"weights": {"OWNERSHIP_CHANGE": 10}}, "weights"),
            ({"window_days": 0}, "window_days"),
            ({"praise_repeats": 0}, "praise_repeats"),
            ({"purchase_drop": Decimal("1.5")}, "purchase_drop"),
            ({"purchase_drop": 0.2}, "purchase_drop"),
            ({"survey_drop": Decimal(-1)}, "survey_drop"),
        ],
    )
    def test_a_bad_config_is_refused_naming_the_field(
        self, kwargs: dict[str, object], field: str
    ) -> None:
        with pytest.raises(ValidationError) as caught:
            WarningConfig(**kwargs)  # type: ignore[arg-type]
        assert caught.value.field == field


# -- properties -----------------------------------------------------------------------------------

CUSTOMERS = st.sampled_from(("C1", "C1", "C2"))
SINCE = AS_OF - dt.timedelta(days=1500)


@st.composite
def histories(
    draw: st.DrawFn,
) -> tuple[list[Policy], list[Complaint], list[Interaction], list[SurveyResponse]]:
    """Some customers' policies, complaints, contacts and responses up to AS_OF."""
    policies = draw(
        st.lists(
            st.tuples(CUSTOMERS, st.dates(SINCE, AS_OF)).flatmap(
                lambda c: gen.policies(c[0], c[0], start_date=c[1], until=AS_OF, max_steps=5)
            ),
            max_size=3,
        )
    )
    complaints = draw(
        st.lists(
            CUSTOMERS.flatmap(
                lambda c: gen.complaints(customer_id=c, max_moves=3, since=SINCE, until=AS_OF)
            ),
            max_size=4,
        )
    )
    contacts = draw(
        st.lists(
            CUSTOMERS.flatmap(lambda c: gen.interactions(customer_id=c, since=SINCE, until=AS_OF)),
            max_size=6,
        )
    )
    responses = draw(
        st.lists(
            CUSTOMERS.flatmap(
                lambda c: gen.survey_responses(customer_id=c, since=SINCE, until=AS_OF)
            ),
            max_size=4,
        )
    )
    return policies, complaints, contacts, responses


CONFIGS = st.one_of(st.just(WarningConfig()), gen.warning_configs())


def assess(
    data: tuple[
        Sequence[Policy], Sequence[Complaint], Sequence[Interaction], Sequence[SurveyResponse]
    ],
    config: WarningConfig,
    as_of: dt.date = AS_OF,
) -> EarlyWarning:
    policies, complaints, contacts, responses = data
    return early_warning(
        "C1",
        as_of,
        policies=policies,
        complaints=complaints,
        interactions=contacts,
        responses=responses,
        config=config,
    )


class TestProperties:
    @given(histories(), CONFIGS, st.dates(SINCE, AS_OF + dt.timedelta(days=400)))
    def test_the_score_is_total_and_bounded(
        self,
        data: tuple[list[Policy], list[Complaint], list[Interaction], list[SurveyResponse]],
        config: WarningConfig,
        as_of: dt.date,
    ) -> None:
        result = assess(data, config, as_of)
        assert 0 <= result.score <= 100
        assert result.score == min(100, sum(config.weights[s.signal] for s in result.signals))
        assert result.level is config.level(result.score)
        watch, warning, alert = config.levels
        expected = (
            WarningLevel.ALERT
            if result.score >= alert
            else WarningLevel.WARNING
            if result.score >= warning
            else WarningLevel.WATCH
            if result.score >= watch
            else WarningLevel.NONE
        )
        assert result.level is expected
        signals = found(result)
        assert signals == sorted(set(signals), key=list(WarningSignal).index)
        assert all(s.weight == config.weights[s.signal] > 0 for s in result.signals)
        assert all(s.reason for s in result.signals)
        assert len(result.reasons) == max(1, len(result.signals))

    @given(histories(), CONFIGS, st.integers(min_value=0, max_value=729))
    def test_a_new_complaint_never_lowers_the_score(
        self,
        data: tuple[list[Policy], list[Complaint], list[Interaction], list[SurveyResponse]],
        config: WarningConfig,
        days_ago: int,
    ) -> None:
        on = AS_OF - dt.timedelta(days=days_ago % config.window_days)
        before = assess(data, config)
        policies, complaints, contacts, responses = data
        more = [*complaints, complaint(on, "Q-new")]
        after = assess((policies, more, contacts, responses), config)
        assert after.score >= before.score
        assert set(found(before)) <= set(found(after))
        if config.weights[WarningSignal.COMPLAINTS_INCREASING]:
            assert set(found(after)) - set(found(before)) <= {WarningSignal.COMPLAINTS_INCREASING}

    @given(histories(), CONFIGS)
    def test_nothing_after_the_assessment_date_changes_the_score(
        self,
        data: tuple[list[Policy], list[Complaint], list[Interaction], list[SurveyResponse]],
        config: WarningConfig,
    ) -> None:
        later = AS_OF + DAY
        policies, complaints, contacts, responses = data
        extra = (
            policies,
            [*complaints, complaint(later, "Q-later")],
            [*contacts, contact(later, *ObservedSignal, contact_id="I-later")],
            [*responses, survey(later, Answer.DISSATISFIED, response_id="R-later")],
        )
        assert assess(extra, config) == assess(data, config)
