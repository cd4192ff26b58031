"""Properties of the record's loyalty signals (DOMAIN.md §4.2, §4.3): two-way contacts,
the latest judged survey response, the attitude an INDUSTRY answer shows, and attachment."""

from __future__ import annotations

import datetime as dt

from hypothesis import given
from hypothesis import strategies as st

from insurcrm.domain.interactions import (
    CONVERSATION_CHANNELS,
    Direction,
    Interaction,
    two_way_contacts,
)
from insurcrm.domain.loyalty import (
    Attitude,
    LoyaltyTypeConfig,
    SatisfactionOutcome,
    attachment_high,
)
from insurcrm.domain.satisfaction import Answer, SurveyResponse, attitude_of, latest_judged
from insurcrm.testing import strategies as gen

DAYS = st.dates(min_value=dt.date(2000, 1, 1), max_value=dt.date(2026, 12, 31))


@given(st.lists(gen.interactions(customer_id="C1"), max_size=8), DAYS, DAYS)
def test_two_way_contacts_only_grow_with_the_date(
    contacts: list[Interaction], a: dt.date, b: dt.date
) -> None:
    early, late = sorted((a, b))
    assert 0 <= two_way_contacts(contacts, early) <= two_way_contacts(contacts, late)
    for contact in contacts:  # inbound, or a conversation we started: nothing else
        expected = contact.direction is Direction.INBOUND or contact.channel in (
            CONVERSATION_CHANNELS
        )
        assert contact.two_way is expected


@given(st.lists(gen.survey_responses(customer_id="C1"), max_size=8), DAYS)
def test_the_latest_judged_response_is_the_last_one_asked_its_expectation(
    responses: list[SurveyResponse], as_of: dt.date
) -> None:
    judged = latest_judged(responses, as_of)
    asked = [r for r in responses if r.on <= as_of and r.expectation is not None]
    if judged is None:
        assert asked == []
    else:
        assert judged in asked
        assert all((r.on, r.id) <= (judged.on, judged.id) for r in asked)
        assert judged.outcome() is not None  # it has an outcome
    assert latest_judged(list(reversed(responses)), as_of) is judged  # whatever the order


@given(st.sampled_from(Answer), st.sampled_from(Answer))
def test_a_better_industry_answer_never_favours_us_less(a: Answer, b: Answer) -> None:
    rank = {Attitude.FAVOURS_COMPETITORS: 0, Attitude.INDIFFERENT: 1, Attitude.FAVOURS_US: 2}
    worse, better = sorted((a, b), key=lambda x: x.score)
    assert rank[attitude_of(worse)] <= rank[attitude_of(better)]  # type: ignore[index]
    assert attitude_of(None) is None


@given(
    st.none() | st.sampled_from(SatisfactionOutcome),
    st.integers(0, 5),
    st.none() | st.sampled_from(Attitude),
    st.integers(1, 3),
)
def test_attachment_needs_satisfaction_and_grows_with_referrals(
    outcome: SatisfactionOutcome | None, referrals: int, attitude: Attitude | None, least: int
) -> None:
    cfg = LoyaltyTypeConfig(attachment_min_referrals=least)
    high = attachment_high(outcome, referrals, attitude, cfg)
    if outcome in (None, SatisfactionOutcome.DISSATISFIED):
        assert not high
    if high:
        assert attachment_high(outcome, referrals + 1, attitude, cfg)
    assert attachment_high(outcome, referrals, Attitude.FAVOURS_US, cfg) >= high
