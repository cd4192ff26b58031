"""Keeping customers gives the same answer on every backend (DOMAIN.md §3, §7–§9, §10.2):
the same generated portfolio, with the same policies ended, complaints handled and a
customer erased, yields the same churn records, rates, indicators, complaint handling,
early warnings, win-back queue and visit plan on memory, SQLite and PostgreSQL; and erasing
a customer removes their texts from every new record there without changing any rate of a
past period (DOMAIN.md §10.4)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from unittest.mock import patch

import attrs
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from insurcrm.adapters.memory import MemoryStore
from insurcrm.adapters.sql import SqlStore
from insurcrm.adapters.sql import repositories as sql_repositories
from insurcrm.dispatch import EventHandlers
from insurcrm.domain.churn import ChurnRecord, customers_in_force
from insurcrm.domain.complaints import Complaint, ComplaintCategory, ComplaintStep
from insurcrm.domain.early_warning import WarningConfig, WarningLevel
from insurcrm.domain.interactions import Channel, Direction, Interaction, Purpose
from insurcrm.domain.policies import PolicyStatus
from insurcrm.domain.satisfaction import (
    Answer,
    Dimension,
    RespondentRole,
    SurveyChannel,
    SurveyResponse,
)
from insurcrm.domain.unit_of_work import UnitOfWorkFactory
from insurcrm.services import churn as churn_service
from insurcrm.services.book import load_book
from insurcrm.services.churn import (
    detect_churn,
    early_warnings,
    end_policy,
    warnings_in,
    win_back_queue,
)
from insurcrm.services.complaints import complete_step, receive_complaint
from insurcrm.services.contacts import log_interaction, plan_visits
from insurcrm.services.customers import erase_customer
from insurcrm.services.retention import RetentionReport, retention_in, retention_report
from insurcrm.services.sample_portfolio import customer_id, generate_sample
from insurcrm.services.satisfaction import record_survey_response
from tests.contract.sql_stores import empty_postgres_store, empty_sqlite_store
from tests.unit.store_examples import customer, policy

EXAMPLES = settings(
    max_examples=8 if settings().max_examples < 100 else 20,
    deadline=None,
)


@attrs.frozen
class Scenario:
    customers: int
    seed: int
    as_of: dt.date
    ended: tuple[int, ...]
    erased: int
    batch: int  # customers whose figures the reports read at once


@st.composite
def scenarios(draw: st.DrawFn) -> Scenario:
    customers = draw(st.integers(min_value=15, max_value=35))
    return Scenario(
        customers=customers,
        seed=draw(st.integers(min_value=0, max_value=2**32 - 1)),
        as_of=draw(st.dates(min_value=dt.date(2019, 1, 1), max_value=dt.date(2026, 6, 30))),
        ended=tuple(draw(st.lists(st.integers(0, 40), max_size=3))),
        erased=draw(st.integers(min_value=1, max_value=customers)),
        batch=draw(st.sampled_from([1, 7, churn_service.REPORT_BATCH])),
    )


@attrs.frozen
class Records:
    churns: tuple[ChurnRecord, ...]
    complaints: tuple[Complaint, ...]
    interactions: tuple[Interaction, ...]
    responses: tuple[SurveyResponse, ...]


def _records(store: UnitOfWorkFactory) -> Records:
    with store.unit_of_work() as uow:
        return Records(
            tuple(uow.churns.iterate()),
            tuple(uow.complaints.iterate()),
            tuple(uow.interactions.iterate()),
            tuple(uow.surveys.iterate()),
        )


def _personal_texts(records: Records, customer: str) -> list[object]:
    found: list[object] = []
    for r in records.churns:
        if r.customer_id == customer:
            found.append(r.notes)
    for c in records.complaints:
        if c.customer_id == customer:
            found.append(c.text)
            found += [s.note for s in c.steps]
            found += [s.skip_reason for s in c.steps]
            found += [x.reason for x in c.changes]
    for i in records.interactions:
        if i.customer_id == customer:
            found.append(i.memo)
    for s in records.responses:
        if s.customer_id == customer:
            found.append(s.comment)
    return [t for t in found if t is not None]


@attrs.frozen
class Outcome:
    before: RetentionReport
    after: RetentionReport
    records: Records


def run(store: MemoryStore | SqlStore, scenario: Scenario) -> Outcome:
    store.handlers = EventHandlers()
    as_of = scenario.as_of
    generate_sample(
        store.unit_of_work(), customers=scenario.customers, seed=scenario.seed, as_of=as_of
    )
    with store.unit_of_work() as uow:
        in_force = [p for p in uow.policies.iterate() if p.is_ours and p.in_force]
    for pick in scenario.ended:
        if in_force:
            policy = in_force.pop(pick % len(in_force))
            end_policy(store.unit_of_work(), policy.id, PolicyStatus.SURRENDERED, as_of)
    target = customer_id(scenario.erased)
    # The customer to erase gets one of every record, with personal text in each.
    receive_complaint(
        store.unit_of_work(),
        Complaint.receive(
            "K-TEST", target, as_of, as_of, ComplaintCategory.CLAIMS, text="王先生说：太慢了"
        ),
    )
    complete_step(store.unit_of_work(), "K-TEST", ComplaintStep.VENT, as_of, note="客户很生气")
    log_interaction(
        store.unit_of_work(),
        Interaction(
            "I-TEST",
            target,
            as_of,
            Channel.PHONE,
            Direction.OUTBOUND,
            Purpose.CARE,
            memo="住址变更",
        ),
    )
    with store.unit_of_work() as uow:
        surveyed = any(
            r.on > as_of - dt.timedelta(days=180) for r in uow.surveys.of_customer(target)
        )
    if not surveyed:
        record_survey_response(
            store.unit_of_work(),
            SurveyResponse(
                "R-TEST",
                "SV-TEST",
                target,
                RespondentRole.POLICYHOLDER,
                SurveyChannel.PHONE,
                as_of,
                {Dimension.SERVICE: Answer.DISSATISFIED},
                comment="电话 13812345678",
            ),
        )
    before = retention_report(store.unit_of_work(), as_of)
    streamed_like(store, before)
    erase_customer(store.unit_of_work(), target, as_of)
    after = retention_report(store.unit_of_work(), as_of)
    streamed_like(store, after)
    records = _records(store)
    assert _personal_texts(records, target) == []
    # Rates of the period do not change with an erasure.
    assert after.rates == before.rates
    assert after.indicators == before.indicators
    assert after.handling == before.handling
    assert after.model == before.model
    # The erased customer is no longer contacted.
    assert all(e.customer_id != target for e in after.plan)
    assert all(w.customer_id != target for w in after.warnings)
    return Outcome(before, after, records)


def streamed_like(store: UnitOfWorkFactory, report: RetentionReport) -> None:
    """The report, read a batch of figures at a time, is the one made from the whole book
    loaded (in another currency too); so are the early warnings, the win-back queue and
    the visit plan read on their own."""
    as_of = report.as_of
    book = load_book(store.unit_of_work())
    assert report == retention_in(book, as_of)
    usd = retention_report(store.unit_of_work(), as_of, currency="USD")
    assert usd.indicators == retention_in(book, as_of, currency="USD").indicators
    assert attrs.evolve(usd, indicators=report.indicators) == report
    assert early_warnings(store.unit_of_work(), as_of) == report.warnings
    everyone = early_warnings(store.unit_of_work(), as_of, at_least=WarningLevel.NONE)
    assert everyone == warnings_in(book, as_of, at_least=WarningLevel.NONE)
    assert len(everyone) == len(customers_in_force(book.policies, as_of) - book.erased)
    for days in (30, 90):  # two windows within the churn year, which the figures also read
        short = WarningConfig(window_days=days)
        assert early_warnings(store.unit_of_work(), as_of, short) == warnings_in(book, as_of, short)
    assert win_back_queue(store.unit_of_work(), as_of, report.model) == report.queue
    assert plan_visits(store.unit_of_work(), as_of, model=report.model) == report.plan
    assert plan_visits(store.unit_of_work(), as_of) == report.plan  # the model fitted alike


def _backends() -> list[tuple[str, Callable[[], MemoryStore | SqlStore]]]:
    backends: list[tuple[str, Callable[[], MemoryStore | SqlStore]]] = [
        ("memory", MemoryStore),
        ("sqlite", empty_sqlite_store),
    ]
    from tests.contract.sql_stores import postgres_url

    if postgres_url():
        backends.append(("postgres", empty_postgres_store))
    return backends


@pytest.mark.slow
@EXAMPLES
@given(scenarios())
def test_same_retention_answers_on_every_backend(scenario: Scenario) -> None:
    with patch.object(churn_service, "REPORT_BATCH", scenario.batch):
        outcomes = {name: run(make(), scenario) for name, make in _backends()}
    expected = outcomes["memory"]
    for name, outcome in outcomes.items():
        assert outcome.records == expected.records, name
        assert outcome.before == expected.before, name
        assert outcome.after == expected.after, name


def _churn_book(store: UnitOfWorkFactory) -> UnitOfWorkFactory:
    """Twelve policyholders: some lapse (some of those are reinstated), some also hold a
    policy of another insurer or only that, some have churn records already (closed on the
    day of the lapse, or open)."""
    lapse, back = dt.date(2024, 6, 1), dt.date(2024, 8, 1)
    with store.unit_of_work() as uow:
        for i in range(12):
            uow.customers.add(customer(f"C{i:02d}"))
            ours = policy(f"P{i:02d}", f"C{i:02d}")
            if i % 2 == 0:
                ours = ours.lapse(lapse)
            if i % 4 == 0:
                ours = ours.reinstate(back)
            if i != 11:  # C11 holds another insurer's policy only
                uow.policies.add(ours)
            if i % 3 == 0:
                uow.policies.add(attrs.evolve(policy(f"Q{i:02d}", f"C{i:02d}"), insurer="某某人寿"))
        uow.churns.add(ChurnRecord(id="K02", customer_id="C02", on=lapse, won_back_on=lapse))
        uow.churns.add(ChurnRecord(id="K04", customer_id="C04", on=dt.date(2024, 1, 1)))
        uow.churns.add(ChurnRecord(id="K04b", customer_id="C04", on=dt.date(2024, 5, 1)))
        uow.commit()
    return store


def test_detect_churn_in_small_batches_records_the_same_on_sqlite_as_in_memory(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Read two policyholders a statement and three a batch, SQLite's scan records and
    closes what memory's does in one batch, in the same order."""
    scans = {}
    for name, make in (("memory", MemoryStore), ("sqlite", empty_sqlite_store)):
        with monkeypatch.context() as patched:
            if name == "sqlite":
                patched.setattr(sql_repositories, "BATCH", 2)
                patched.setattr(churn_service, "DETECT_BATCH", 3)
            store = _churn_book(make())
            first = detect_churn(store.unit_of_work(), dt.date(2024, 7, 1))
            second = detect_churn(store.unit_of_work(), dt.date(2024, 9, 1))
            with store.unit_of_work() as uow:
                scans[name] = (first, second, list(uow.churns.iterate()))
    assert scans["sqlite"] == scans["memory"]
    first, second, _ = scans["memory"]
    # C02's closed record is on the day it lapsed; C04 has an open record already
    assert [r.customer_id for r in first.churned] == ["C00", "C06", "C08", "C10"]
    # the latest open record of C04 is the one closed; the records come by customer
    back = dt.date(2024, 8, 1)
    made = {r.customer_id: r.id for r in first.churned}
    assert [(r.customer_id, r.id, r.won_back_on) for r in second.won_back] == [
        ("C00", made["C00"], back),
        ("C04", "K04b", back),
        ("C08", made["C08"], back),
    ]
