"""The loyalty ladder and type (§4.2, §4.3) read the stored contact log and surveys.

A logged two-way contact makes a customer without a purchase a PROSPECT; the latest survey
response that asked the expectation gives the satisfaction outcome, and its INDUSTRY answer
the attitude to competitors, that decide attachment. On every backend, the portfolio engine,
the portfolio segmentation and one customer's classification agree.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

import attrs
import pytest
from sqlalchemy import text

from insurcrm.adapters.memory import MemoryStore
from insurcrm.domain.customers import Customer
from insurcrm.domain.interactions import Channel, Direction, Interaction, Purpose
from insurcrm.domain.loyalty import LoyaltyLevel, LoyaltyType
from insurcrm.domain.policies import Policy
from insurcrm.domain.satisfaction import Answer, Dimension, SurveyResponse
from insurcrm.domain.unit_of_work import UnitOfWorkFactory
from insurcrm.services.assessment import assess_portfolio
from insurcrm.services.segmentation import classify_one, segment_portfolio
from insurcrm.testing.contracts import make_customer, make_policy, make_response
from tests.contract.sql_stores import empty_postgres_store
from tests.integration.test_assessment_backends import BACKENDS

AS_OF = dt.date(2024, 6, 30)
AFTER = AS_OF + dt.timedelta(days=1)


def _contact(
    record_id: str, customer: str, on: dt.date, channel: Channel, way: Direction
) -> Interaction:
    return Interaction(record_id, customer, on, channel, way, Purpose.INQUIRY)


def _response(
    record_id: str,
    customer: str,
    on: dt.date,
    answers: dict[Dimension, Answer],
    expectation: Answer | None,
) -> SurveyResponse:
    return attrs.evolve(
        make_response(record_id, customer, on), answers=answers, expectation=expectation
    )


def _twice(policy_id: str, holder: str) -> Policy:
    """A policy of ours bought within the repeat window and renewed: repeat is high."""
    return make_policy(policy_id, holder).activate(dt.date(2023, 1, 1)).renew(dt.date(2024, 1, 1))


def _once(policy_id: str, holder: str) -> Policy:
    return make_policy(policy_id, holder).activate(dt.date(2023, 1, 1))


SAT = {Dimension.SERVICE: Answer.SATISFIED}
TOP = {Dimension.SERVICE: Answer.VERY_SATISFIED, Dimension.INDUSTRY: Answer.VERY_SATISFIED}
LOW = {Dimension.SERVICE: Answer.NOT_VERY_SATISFIED}

#: customer id → (loyalty level, loyalty type) expected on :data:`AS_OF`.
EXPECTED = {
    # no purchase: a two-way contact makes a PROSPECT, a one-way one does not
    "N1": (LoyaltyLevel.ORDINARY_BUYER, LoyaltyType.NONE),  # a letter sent: one-way
    "N2": (LoyaltyLevel.ORDINARY_BUYER, LoyaltyType.NONE),  # a call, but the day after
    "N3": (LoyaltyLevel.PROSPECT, LoyaltyType.NONE),  # they wrote to us online
    "N4": (LoyaltyLevel.PROSPECT, LoyaltyType.NONE),  # we visited them
    # bought: attachment from the latest judged response
    "V1": (LoyaltyLevel.ADVOCATE, LoyaltyType.PREMIUM),  # SATISFIED, referred a buyer
    "V2": (LoyaltyLevel.ACTIVE, LoyaltyType.PREMIUM),  # DELIGHTED, favours us (INDUSTRY)
    "V3": (LoyaltyLevel.GENERAL, LoyaltyType.LATENT),  # repeat low, attachment high
    "V4": (LoyaltyLevel.ADVOCATE, LoyaltyType.INERTIA),  # latest judged: DISSATISFIED
    "V5": (LoyaltyLevel.ADVOCATE, LoyaltyType.INERTIA),  # judged only after the date
    "V6": (LoyaltyLevel.ACTIVE, LoyaltyType.INERTIA),  # SATISFIED, no referral, not asked
    # flagged as a cooperation partner: PARTNER with one referred buyer, after 5 years
    "W1": (LoyaltyLevel.PARTNER, LoyaltyType.NONE),  # bought 2019-06-30 and on the date
    "W2": (LoyaltyLevel.ADVOCATE, LoyaltyType.NONE),  # bought a day later: 4 whole years
    # a referral registered after the date is not known then, unless they bought by then
    "V8": (LoyaltyLevel.ACTIVE, LoyaltyType.INERTIA),
    "V9": (LoyaltyLevel.ADVOCATE, LoyaltyType.PREMIUM),
    "R8": (LoyaltyLevel.ORDINARY_BUYER, LoyaltyType.NONE),
    "R9": (LoyaltyLevel.GENERAL, LoyaltyType.NONE),
    "R1": (LoyaltyLevel.GENERAL, LoyaltyType.NONE),
    "R4": (LoyaltyLevel.GENERAL, LoyaltyType.NONE),
    "R5": (LoyaltyLevel.GENERAL, LoyaltyType.NONE),
    "RW1": (LoyaltyLevel.GENERAL, LoyaltyType.NONE),
    "RW2": (LoyaltyLevel.GENERAL, LoyaltyType.NONE),
}


def book(store: UnitOfWorkFactory) -> UnitOfWorkFactory:
    customers: list[Customer] = [make_customer(cid, "客户") for cid in ("N1", "N2", "N3", "N4")]
    customers += [make_customer(cid, "客户") for cid in ("V1", "V2", "V3", "V4", "V5", "V6")]
    customers += [
        make_customer("R1", "客户", referred_by="V1"),
        make_customer("R4", "客户", referred_by="V4"),
        make_customer("R5", "客户", referred_by="V5"),
        make_customer("V8", "客户"),
        make_customer("V9", "客户"),
        Customer.register("R8", "客户", AFTER, referred_by="V8"),
        Customer.register("R9", "客户", AFTER, referred_by="V9"),  # a migrated record
        make_customer("W1", "客户", cooperation_partner=True),
        make_customer("W2", "客户", cooperation_partner=True),
        make_customer("RW1", "客户", referred_by="W1"),
        make_customer("RW2", "客户", referred_by="W2"),
    ]
    policies = [_twice(f"P{c}", c) for c in ("V1", "V2", "V4", "V5", "V6")]
    policies += [_once("PV3", "V3"), _once("PR1", "R1"), _once("PR4", "R4"), _once("PR5", "R5")]
    policies += [_twice("PV8", "V8"), _twice("PV9", "V9"), _once("PR9", "R9")]
    for holder, since in (("W1", dt.date(2019, 6, 30)), ("W2", dt.date(2019, 7, 1))):
        policies.append(make_policy(f"P{holder}", holder).activate(since).renew(AS_OF))
    policies += [_once("PRW1", "RW1"), _once("PRW2", "RW2")]
    contacts = [
        _contact("I1", "N1", AS_OF, Channel.MAIL, Direction.OUTBOUND),
        _contact("I2", "N2", AFTER, Channel.PHONE, Direction.OUTBOUND),
        _contact("I3", "N2", AS_OF, Channel.WECHAT, Direction.OUTBOUND),
        _contact("I4", "N3", AS_OF, Channel.ONLINE, Direction.INBOUND),
        _contact("I5", "N4", dt.date(2020, 5, 1), Channel.VISIT, Direction.OUTBOUND),
    ]
    responses = [
        _response("S1", "V1", dt.date(2024, 3, 1), SAT, Answer.SATISFIED),
        _response("S2", "V1", AS_OF, LOW, None),  # later, but no expectation asked
        _response("S3", "V2", dt.date(2024, 3, 1), TOP, Answer.NEUTRAL),
        _response("S4", "V3", dt.date(2024, 3, 1), TOP, Answer.SATISFIED),
        _response("S5", "V4", dt.date(2023, 3, 1), TOP, Answer.SATISFIED),
        _response("S6", "V4", dt.date(2024, 3, 1), LOW, Answer.SATISFIED),
        _response("S7", "V5", AFTER, TOP, Answer.SATISFIED),
        _response("S8", "V6", dt.date(2024, 3, 1), SAT, Answer.SATISFIED),
        _response("S9", "V8", dt.date(2024, 3, 1), SAT, Answer.SATISFIED),
        _response("S10", "V9", dt.date(2024, 3, 1), SAT, Answer.SATISFIED),
    ]
    with store.unit_of_work() as uow:
        for customer in customers:
            uow.customers.add(customer)
        for policy in policies:
            uow.policies.add(policy)
        for contact in contacts:
            uow.interactions.add(contact)
        for response in responses:
            uow.surveys.add(response)
        uow.commit()
    return store


@pytest.mark.parametrize("make_store", BACKENDS)
def test_the_contact_log_and_the_surveys_decide_the_ladder_and_the_type(
    make_store: Callable[[], UnitOfWorkFactory],
) -> None:
    store = book(make_store())
    rows = {r.customer_id: r for r in assess_portfolio(store.unit_of_work(), AS_OF)}
    assert {cid: (r.loyalty_level, r.loyalty_type) for cid, r in rows.items()} == EXPECTED
    segmentation = segment_portfolio(store.unit_of_work(), AS_OF)
    assert {
        c.customer_id: (c.ladder.level, c.loyalty_type.type) for c in segmentation.customers
    } == EXPECTED
    for cid in EXPECTED:
        one = classify_one(store.unit_of_work(), cid, AS_OF, segmentation.figures)
        assert (one.ladder.level, one.loyalty_type.type) == EXPECTED[cid], cid


@pytest.mark.parametrize("make_store", BACKENDS)
def test_the_reasons_say_where_attachment_and_the_contact_came_from(
    make_store: Callable[[], UnitOfWorkFactory],
) -> None:
    store = book(make_store())
    figures = segment_portfolio(store.unit_of_work(), AS_OF).figures
    n3 = classify_one(store.unit_of_work(), "N3", AS_OF, figures)
    assert n3.ladder.reasons == ("PROSPECT: 1 two-way contact(s), no purchase",)
    v2 = classify_one(store.unit_of_work(), "V2", AS_OF, figures)
    assert v2.loyalty_type.signals.attachment_high
    assert v2.loyalty_type.reasons[0].startswith("PREMIUM: attachment high, repeat high")
    w1 = classify_one(store.unit_of_work(), "W1", AS_OF, figures)
    assert w1.ladder.reasons[-1] == "PARTNER: flagged as a cooperation partner; tenure 5 ≥ 5 years"


@pytest.mark.postgres
def test_two_judged_responses_on_a_day_tie_by_code_points_whatever_the_collation() -> None:
    """The latest judged response of a day goes to the greater id in code points (as
    Python orders them), even where PostgreSQL's collation orders the ids otherwise: here
    ICU English, which puts "R2" after "r1"."""
    store = empty_postgres_store()
    column = "ALTER TABLE survey_responses ALTER COLUMN id TYPE VARCHAR(64) COLLATE"
    with store.engine.begin() as conn:
        conn.execute(text(f'{column} "en-x-icu"'))
        assert conn.execute(text("SELECT 'r1' < 'R2' COLLATE \"en-x-icu\"")).scalar()
    try:
        books = {
            name: make() for name, make in (("memory", MemoryStore), ("postgres", lambda: store))
        }
        for book_store in books.values():
            with book_store.unit_of_work() as uow:
                uow.customers.add(make_customer("V", "客户"))
                uow.customers.add(make_customer("R", "客户", referred_by="V"))
                uow.policies.add(_twice("PV", "V"))
                uow.policies.add(_once("PR", "R"))
                day = dt.date(2024, 3, 1)
                uow.surveys.add(_response("r1", "V", day, LOW, Answer.SATISFIED))  # the latest
                uow.surveys.add(_response("R2", "V", day, TOP, Answer.SATISFIED))
                uow.commit()
        types = {
            name: {r.customer_id: r.loyalty_type for r in assess_portfolio(s.unit_of_work(), AS_OF)}
            for name, s in books.items()
        }
        assert types["memory"]["V"] is LoyaltyType.INERTIA  # "r1" > "R2": dissatisfied
        assert types["postgres"] == types["memory"]
    finally:
        with store.engine.begin() as conn:
            conn.execute(text(f'{column} "default"'))
