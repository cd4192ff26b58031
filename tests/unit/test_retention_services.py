"""Keeping-customers use cases on the memory store (DOMAIN.md §3, §7–§9): automatic and
explicit churn, win-back, surveys with their interval, complaints walked through the
services, contacts, the visit plan and the renewal model."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from functools import partial

import attrs
import pytest

from insurcrm.adapters.memory import MemoryStore
from insurcrm.domain.churn import ChurnCause, ChurnRecord, ChurnStructure
from insurcrm.domain.complaints import Complaint, ComplaintStatus, ComplaintStep
from insurcrm.domain.early_warning import WarningLevel, WarningSignal
from insurcrm.domain.events import ComplaintClosed, ComplaintReceived, CustomerChurned
from insurcrm.domain.future_value import FutureValueConfig, RenewalHistory, RenewalModelKind
from insurcrm.domain.interactions import Channel, Direction, Interaction, ObservedSignal, Purpose
from insurcrm.domain.policies import EndReason, PolicyStatus
from insurcrm.domain.recovery import WinBackStance
from insurcrm.domain.satisfaction import (
    Answer,
    Dimension,
    RespondentRole,
    SurveyChannel,
    SurveyResponse,
)
from insurcrm.domain.visits import VisitReason
from insurcrm.errors import Duplicate, NotFound, RuleViolation
from insurcrm.services import churn as churn_service
from insurcrm.services.churn import (
    analyse_churn,
    churn_rates_for,
    detect_churn,
    early_warnings,
    end_policy,
    record_churn,
    win_back_queue,
)
from insurcrm.services.complaints import (
    close_complaint,
    complaint_handling_for,
    complete_step,
    receive_complaint,
    reopen_complaint,
    skip_compensation,
)
from insurcrm.services.contacts import assign_csr, log_interaction, plan_visits
from insurcrm.services.customers import erase_customer
from insurcrm.services.future_value import (
    fit_renewal_model,
    future_value_of,
    portfolio_renewal_model,
)
from insurcrm.services.retention import retention_report
from insurcrm.services.satisfaction import (
    may_survey_from,
    record_survey_response,
    satisfaction_indicators_for,
    survey_report_for,
)
from tests.unit.store_examples import DAY, customer, policy, store_with


def events(store: MemoryStore) -> list[object]:
    with store.unit_of_work() as uow:
        return [e.event for e in uow.outbox.pending(limit=10_000)]


def response(
    rid: str, holder: str, on: dt.date, answer: Answer = Answer.SATISFIED
) -> SurveyResponse:
    return SurveyResponse(
        rid,
        "S1",
        holder,
        RespondentRole.POLICYHOLDER,
        SurveyChannel.PHONE,
        on,
        dict.fromkeys(Dimension, answer),
        praises_us=True,
    )


class TestChurn:
    def test_ending_the_last_policy_records_the_churn_in_the_same_transaction(self) -> None:
        store = store_with(customer("C1"), policy("P1", "C1"), policy("P2", "C1"))
        on = dt.date(2025, 1, 10)
        _, first = end_policy(store.unit_of_work(), "P1", PolicyStatus.SURRENDERED, on)
        assert first is None  # P2 is still in force
        stored, record = end_policy(
            store.unit_of_work(), "P2", PolicyStatus.LAPSED, on, EndReason.NON_PAYMENT
        )
        assert stored.status is PolicyStatus.LAPSED
        assert record is not None
        assert (record.customer_id, record.on, record.automatic, record.policy_id) == (
            "C1",
            on,
            True,
            "P2",
        )
        assert record.structure is None  # to be analysed
        assert any(isinstance(e, CustomerChurned) for e in events(store))

    def test_fraud_cancellation_is_pushed_away_on_purpose(self) -> None:
        store = store_with(customer("C1"), policy("P1", "C1"))
        _, record = end_policy(
            store.unit_of_work(), "P1", PolicyStatus.CANCELLED, DAY, EndReason.FRAUD
        )
        assert record is not None
        assert record.structure is ChurnStructure.INTENTIONALLY_PUSHED_AWAY
        assert record.causes == (ChurnCause.FRAUD,)

    def test_an_illegal_end_stores_nothing(self) -> None:
        store = store_with(customer("C1"), policy("P1", "C1"))
        with pytest.raises(RuleViolation):
            end_policy(store.unit_of_work(), "P1", PolicyStatus.PENDING, DAY)
        with store.unit_of_work() as uow:
            assert uow.churns.count() == 0
            assert uow.policies.get("P1").in_force

    def test_explicit_churn_refuses_a_second_open_record(self) -> None:
        store = store_with(customer("C1"), policy("P1", "C1"))
        record = record_churn(
            store.unit_of_work(), "C1", DAY, ChurnStructure.PULLED_AWAY, [ChurnCause.AGENT_LEFT]
        )
        assert record.automatic is False
        with pytest.raises(RuleViolation, match="already has an open churn record"):
            record_churn(store.unit_of_work(), "C1", DAY + dt.timedelta(days=1))
        with pytest.raises(NotFound):
            record_churn(store.unit_of_work(), "C404", DAY)

    def test_a_manual_churn_may_not_be_open_with_an_earlier_record(self) -> None:
        """Churned on 1 March, won back on 1 May: a churn recorded by hand on a day up to
        30 April would be open with it; from 1 May on it is not."""
        store = store_with(customer("C1"))
        with store.unit_of_work() as uow:
            uow.churns.add(
                ChurnRecord("K1", "C1", dt.date(2024, 3, 1), won_back_on=dt.date(2024, 5, 1))
            )
            uow.commit()
        for day in (dt.date(2024, 2, 1), dt.date(2024, 3, 1), dt.date(2024, 4, 30)):
            with pytest.raises(RuleViolation, match="churns once at a time"):
                record_churn(store.unit_of_work(), "C1", day)
        record = record_churn(store.unit_of_work(), "C1", dt.date(2024, 5, 1))
        with store.unit_of_work() as uow:
            assert [r.id for r in uow.churns.of_customer("C1")] == ["K1", record.id]

    @staticmethod
    def _won_back_in_august() -> MemoryStore:
        """C1, with P1 in force from 1 March, churned by hand on 1 April and won back on
        1 August."""
        store = store_with(customer("C1"), policy("P1", "C1"))
        with store.unit_of_work() as uow:
            april = ChurnRecord("K1", "C1", dt.date(2024, 4, 1))
            uow.churns.add(april.won_back(dt.date(2024, 8, 1)))
            uow.commit()
        return store

    @pytest.mark.parametrize("by", ["end_policy", "detect_churn"])
    def test_an_automatic_churn_is_not_recorded_open_with_another(self, by: str) -> None:
        """P1 is ended with a past date, 1 June, a day the April record was open: neither
        ending the policy nor the nightly scan records a second churn open with it."""
        store = self._won_back_in_august()
        june = dt.date(2024, 6, 1)
        if by == "end_policy":
            _, record = end_policy(store.unit_of_work(), "P1", PolicyStatus.SURRENDERED, june)
            assert record is None
        else:
            with store.unit_of_work() as uow:
                uow.policies.save(uow.policies.get("P1").lapse(june))
                uow.commit()
            assert detect_churn(store.unit_of_work(), dt.date(2024, 9, 1)).churned == ()
        with store.unit_of_work() as uow:
            assert [r.id for r in uow.churns.of_customer("C1")] == ["K1"]

    def test_an_automatic_churn_after_the_win_back_is_recorded(self) -> None:
        store = self._won_back_in_august()
        september = dt.date(2024, 9, 1)
        _, record = end_policy(store.unit_of_work(), "P1", PolicyStatus.SURRENDERED, september)
        assert record is not None
        assert record.on == september

    def test_records_open_together(self) -> None:
        march = ChurnRecord("K1", "C1", dt.date(2024, 3, 1), won_back_on=dt.date(2024, 5, 1))
        same_day = ChurnRecord("K2", "C1", dt.date(2024, 4, 1), won_back_on=dt.date(2024, 4, 1))
        open_ = ChurnRecord("K3", "C1", dt.date(2024, 4, 30))
        assert march.open_with(open_)
        assert open_.open_with(march)
        assert not march.open_with(ChurnRecord("K4", "C1", dt.date(2024, 5, 1)))
        assert not same_day.open_with(march)  # won back the day it churned: open on no day
        assert not march.open_with(
            attrs.evolve(march, id="K5", on=dt.date(2024, 1, 1), won_back_on=dt.date(2024, 3, 1))
        )

    def test_analyse_sets_structure_and_causes(self) -> None:
        store = store_with(customer("C1"), policy("P1", "C1"))
        _, record = end_policy(store.unit_of_work(), "P1", PolicyStatus.SURRENDERED, DAY)
        assert record is not None
        analysed = analyse_churn(
            store.unit_of_work(), record.id, ChurnStructure.BOUGHT_OFF, [ChurnCause.PRICE], "竞品"
        )
        assert analysed.structure is ChurnStructure.BOUGHT_OFF
        assert analysed.version == record.version + 1

    def test_detect_churn_is_idempotent_and_sees_customers_won_back(self) -> None:
        lapsed = policy("P1", "C1").lapse(dt.date(2024, 6, 1))
        store = store_with(customer("C1"), customer("C2"), lapsed, policy("P2", "C2"))
        scan = detect_churn(store.unit_of_work(), dt.date(2024, 7, 1))
        assert [r.customer_id for r in scan.churned] == ["C1"]
        assert detect_churn(store.unit_of_work(), dt.date(2024, 7, 1)).churned == ()
        with store.unit_of_work() as uow:
            uow.policies.save(uow.policies.get("P1").reinstate(dt.date(2024, 8, 1)))
            uow.commit()
        again = detect_churn(store.unit_of_work(), dt.date(2024, 9, 1))
        assert [(r.customer_id, r.won_back_on) for r in again.won_back] == [
            ("C1", dt.date(2024, 8, 1))
        ]
        assert detect_churn(store.unit_of_work(), dt.date(2024, 9, 1)) == again.__class__((), ())

    def test_detect_churn_in_small_batches_records_what_one_batch_does(
        self, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        """The book is read a few policyholders at a time; the records made, and their
        order, do not depend on how many."""

        def book() -> MemoryStore:
            policies = []
            for i in range(20):
                p = policy(f"P{i:02d}", f"C{i:02d}")
                if i % 3 == 0:
                    p = p.lapse(dt.date(2024, 6, 1))
                if i % 6 == 0:
                    p = p.reinstate(dt.date(2024, 8, 1))
                policies.append(p)
            return store_with(*(customer(f"C{i:02d}") for i in range(20)), *policies)

        scans = {}
        for size in (3, 500):
            monkeypatch.setattr(churn_service, "DETECT_BATCH", size)
            store = book()
            first = detect_churn(store.unit_of_work(), dt.date(2024, 7, 1))
            scans[size] = (first, detect_churn(store.unit_of_work(), dt.date(2024, 9, 1)))
        assert scans[3] == scans[500]
        first, second = scans[3]
        assert [r.customer_id for r in first.churned] == [f"C{i:02d}" for i in range(0, 20, 3)]
        assert [r.customer_id for r in second.won_back] == ["C00", "C06", "C12", "C18"]

    def test_rates_use_customers_at_the_start(self) -> None:
        store = store_with(
            customer("C1"), customer("C2"), customer("C3"),
            policy("P1", "C1"), policy("P2", "C2"), policy("P3", "C3", dt.date(2024, 5, 1)),
        )  # fmt: skip
        end_policy(store.unit_of_work(), "P1", PolicyStatus.SURRENDERED, dt.date(2024, 6, 1))
        end_policy(store.unit_of_work(), "P3", PolicyStatus.SURRENDERED, dt.date(2024, 6, 1))
        rates = churn_rates_for(store.unit_of_work(), dt.date(2024, 4, 1), dt.date(2025, 3, 31))
        # C3 joined after the start: neither in the base nor in the churned.
        assert (rates.customers_at_start, rates.churned) == (2, 1)
        assert rates.churn_rate == Decimal("50.00")
        assert rates.retention_rate == Decimal("50.00")

    def test_win_back_queue_and_the_visit_plan(self) -> None:
        store = store_with(customer("C1"), policy("P1", "C1", premium="60000.00"))
        on = dt.date(2025, 1, 10)
        _, record = end_policy(store.unit_of_work(), "P1", PolicyStatus.SURRENDERED, on)
        assert record is not None
        analyse_churn(
            store.unit_of_work(),
            record.id,
            ChurnStructure.UNINTENTIONALLY_PUSHED_AWAY,
            [ChurnCause.CORE_SERVICE_FAILURE],
        )
        model = portfolio_renewal_model(store.unit_of_work(), on)
        assert model.kind is RenewalModelKind.FLAT_RETENTION
        assert "renewal years of history" in model.reason
        queue = win_back_queue(store.unit_of_work(), on, model)
        assert len(queue) == 1
        decision = queue[0].decision
        assert decision.stance is WinBackStance.SPARE_NO_EFFORT
        assert decision.recommended
        plan = plan_visits(store.unit_of_work(), on, model=model)
        assert [(e.reason, e.due) for e in plan] == [
            (VisitReason.WIN_BACK, on + dt.timedelta(days=7))
        ]
        assert plan_visits(store.unit_of_work(), on, model=model) == plan
        log_interaction(
            store.unit_of_work(),
            Interaction("I1", "C1", on, Channel.VISIT, Direction.OUTBOUND, Purpose.REVISIT),
        )
        assert plan_visits(store.unit_of_work(), on, model=model) == ()

    def test_no_notes_for_an_erased_customer(self) -> None:
        store = store_with(customer("C1"), policy("P1", "C1"))
        _, record = end_policy(store.unit_of_work(), "P1", PolicyStatus.SURRENDERED, DAY)
        assert record is not None
        erase_customer(store.unit_of_work(), "C1", DAY)
        with pytest.raises(RuleViolation, match="erased"):
            analyse_churn(
                store.unit_of_work(), record.id, ChurnStructure.MIGRATED, [], "搬去上海了"
            )
        analysed = analyse_churn(store.unit_of_work(), record.id, ChurnStructure.MIGRATED, [])
        assert analysed.notes is None
        store_2 = store_with(customer("C2"))
        erase_customer(store_2.unit_of_work(), "C2", DAY)
        with pytest.raises(RuleViolation, match="without notes"):
            record_churn(store_2.unit_of_work(), "C2", DAY, notes="电话 13812345678")

    def test_a_second_churn_on_the_same_day_does_not_block_the_policy_end(self) -> None:
        store = store_with(customer("C1"), policy("P1", "C1"), policy("P2", "C1"))
        end_policy(store.unit_of_work(), "P1", PolicyStatus.SURRENDERED, DAY)
        end_policy(store.unit_of_work(), "P2", PolicyStatus.LAPSED, DAY)  # churned
        with store.unit_of_work() as uow:
            uow.policies.save(uow.policies.get("P2").reinstate(DAY))
            uow.commit()
        detect_churn(store.unit_of_work(), DAY)  # won back the same day
        stored, record = end_policy(store.unit_of_work(), "P2", PolicyStatus.LAPSED, DAY)
        assert stored.status is PolicyStatus.LAPSED
        assert record is None  # the day's churn is already on record

    def test_the_queue_of_a_past_date_holds_the_records_open_on_that_date(self) -> None:
        store = store_with(customer("C1"), policy("P1", "C1", premium="60000.00"))
        churned = dt.date(2025, 1, 10)
        end_policy(store.unit_of_work(), "P1", PolicyStatus.LAPSED, churned)
        back = dt.date(2025, 3, 1)
        with store.unit_of_work() as uow:
            uow.policies.save(uow.policies.get("P1").reinstate(back))
            uow.commit()
        assert [r.won_back_on for r in detect_churn(store.unit_of_work(), back).won_back] == [back]
        model = portfolio_renewal_model(store.unit_of_work(), back)
        queue = partial(win_back_queue, store.unit_of_work(), model=model)
        assert [w.record.customer_id for w in queue(as_of=churned)] == ["C1"]
        assert [w.record.customer_id for w in queue(as_of=back - dt.timedelta(days=1))] == ["C1"]
        assert queue(as_of=churned - dt.timedelta(days=1)) == []  # not churned yet
        assert queue(as_of=back) == []  # won back that day

    def test_a_customer_with_two_open_records_is_queued_once_by_the_latest(self) -> None:
        """Only data written past the services (the repository directly) can hold two
        records open on one day: the queue, like the assessment, takes the latest."""
        store = store_with(customer("C1"), policy("P1", "C1", premium="60000.00"))
        end_policy(store.unit_of_work(), "P1", PolicyStatus.SURRENDERED, DAY)
        later = DAY + dt.timedelta(days=30)
        with store.unit_of_work() as uow:
            uow.churns.add(ChurnRecord("K-LATER", "C1", later))
            uow.commit()
        model = portfolio_renewal_model(store.unit_of_work(), later)
        queue = win_back_queue(store.unit_of_work(), later, model)
        assert [w.record.id for w in queue] == ["K-LATER"]
        assert queue[0].decision.churn_id == "K-LATER"
        assert retention_report(store.unit_of_work(), later).queue == queue

    def test_the_report_shows_its_progress_through_each_read(self) -> None:
        """The report's progress runs through the policies twice (the churn due, then the
        renewal model) and then through the customers, each up to all of them."""
        store = store_with(
            customer("C1"),
            customer("C2"),
            policy("P1", "C1"),
            policy("P2", "C1"),
            policy("P3", "C2"),
        )
        calls: list[tuple[int, int]] = []
        retention_report(store.unit_of_work(), DAY, progress=lambda *call: calls.append(call))
        assert all(0 <= done <= total for done, total in calls)
        assert calls.count((3, 3)) == 2  # the policies, read once a policyholder at a time
        assert calls[-1] == (2, 2)  # the customers
        assert (1, 3) in calls or (2, 3) in calls  # shown as it goes, not only at the end

    def test_erased_customers_leave_the_queue(self) -> None:
        store = store_with(customer("C1"), policy("P1", "C1", premium="60000.00"))
        end_policy(store.unit_of_work(), "P1", PolicyStatus.SURRENDERED, DAY)
        erase_customer(store.unit_of_work(), "C1", DAY)
        model = portfolio_renewal_model(store.unit_of_work(), DAY)
        assert win_back_queue(store.unit_of_work(), DAY, model) == []


class TestSurveys:
    def test_interval_refusal_names_the_next_day(self) -> None:
        store = store_with(customer("C1"))
        record_survey_response(store.unit_of_work(), response("R1", "C1", DAY))
        assert may_survey_from(store.unit_of_work(), "C1") == DAY + dt.timedelta(days=180)
        with pytest.raises(RuleViolation, match="may next be asked on 2024-08-28"):
            record_survey_response(
                store.unit_of_work(), response("R2", "C1", DAY + dt.timedelta(days=179))
            )
        stored = record_survey_response(
            store.unit_of_work(), response("R2", "C1", DAY + dt.timedelta(days=180))
        )
        assert stored.version == 1
        with pytest.raises(Duplicate):
            record_survey_response(
                store.unit_of_work(), response("R2", "C1", DAY + dt.timedelta(days=400))
            )

    def test_report_of_a_survey_warns_below_thirty(self) -> None:
        store = store_with(customer("C1"), customer("C2"))
        record_survey_response(store.unit_of_work(), response("R1", "C1", DAY))
        record_survey_response(store.unit_of_work(), response("R2", "C2", DAY, Answer.NEUTRAL))
        report = survey_report_for(store.unit_of_work(), "S1")
        assert report.respondents == 2
        assert report.dimension(Dimension.SERVICE).average == Decimal("3.50")
        assert report.warning is not None
        assert "visit them directly instead" in report.warning

    def test_an_erased_customer_is_not_surveyed(self) -> None:
        store = store_with(customer("C1"))
        erase_customer(store.unit_of_work(), "C1", DAY)
        with pytest.raises(RuleViolation, match="erased"):
            record_survey_response(store.unit_of_work(), response("R1", "C1", DAY))

    def test_indicators_over_a_period(self) -> None:
        store = store_with(customer("C1"), policy("P1", "C1"))
        record_survey_response(
            store.unit_of_work(), response("R1", "C1", DAY + dt.timedelta(days=10))
        )
        indicators = satisfaction_indicators_for(
            store.unit_of_work(), DAY, DAY + dt.timedelta(days=365)
        )
        assert indicators.reputation.percent == Decimal("100.00")
        assert indicators.complaint_rate.denominator == 1


class TestComplaints:
    def test_the_seven_steps_through_the_services(self) -> None:
        store = store_with(customer("C1"), policy("P1", "C1"))
        uow = store.unit_of_work
        received = Complaint.receive("K1", "C1", DAY, DAY + dt.timedelta(days=2), text="理赔太慢")
        receive_complaint(uow(), received)
        for step in list(ComplaintStep)[:5]:
            complete_step(uow(), "K1", step, DAY + dt.timedelta(days=1))
        with pytest.raises(RuleViolation, match="next step is COMPENSATE"):
            complete_step(uow(), "K1", ComplaintStep.FOLLOW_UP, DAY + dt.timedelta(days=1))
        skip_compensation(uow(), "K1", DAY + dt.timedelta(days=1), "客户不需要补偿")
        complete_step(uow(), "K1", ComplaintStep.FOLLOW_UP, DAY + dt.timedelta(days=3))
        closed = close_complaint(uow(), "K1", DAY + dt.timedelta(days=3))
        assert closed.status is ComplaintStatus.CLOSED
        kinds = [type(e) for e in events(store)]
        assert ComplaintReceived in kinds
        assert ComplaintClosed in kinds
        report = complaint_handling_for(
            uow(), DAY - dt.timedelta(days=1), DAY + dt.timedelta(days=30)
        )
        assert (report.received, report.answered_on_time.numerator, report.closed) == (1, 1, 1)
        reopened = reopen_complaint(uow(), "K1", DAY + dt.timedelta(days=9), "问题再次出现")
        assert reopened.next_step is ComplaintStep.FIND_SOLUTION

    def test_a_complaint_feeds_the_early_warning(self) -> None:
        store = store_with(customer("C1"), policy("P1", "C1"))
        on = DAY + dt.timedelta(days=30)
        receive_complaint(store.unit_of_work(), Complaint.receive("K1", "C1", on, on))
        log_interaction(
            store.unit_of_work(),
            Interaction(
                "I1", "C1", on, Channel.PHONE, Direction.INBOUND, Purpose.INQUIRY,
                signals=[ObservedSignal.OWNERSHIP_CHANGE],
            ),
        )  # fmt: skip
        warnings = early_warnings(store.unit_of_work(), on)
        assert [w.customer_id for w in warnings] == ["C1"]
        signals = [s.signal for s in warnings[0].signals]
        assert signals == [WarningSignal.COMPLAINTS_INCREASING, WarningSignal.OWNERSHIP_CHANGE]
        assert warnings[0].level is WarningLevel.WATCH

    def test_unknown_and_erased_customers(self) -> None:
        store = store_with(customer("C1"))
        with pytest.raises(NotFound):
            receive_complaint(store.unit_of_work(), Complaint.receive("K1", "C404", DAY, DAY))
        erase_customer(store.unit_of_work(), "C1", DAY)
        with pytest.raises(RuleViolation):
            receive_complaint(store.unit_of_work(), Complaint.receive("K1", "C1", DAY, DAY))


class TestContacts:
    def test_assign_csr(self) -> None:
        store = store_with(customer("C1"))
        assert assign_csr(store.unit_of_work(), "C1", "CSR007", DAY).csr_id == "CSR007"
        assert assign_csr(store.unit_of_work(), "C1", None, DAY).csr_id is None

    def test_an_erased_customer_contact_has_no_memo(self) -> None:
        store = store_with(customer("C1"))
        erase_customer(store.unit_of_work(), "C1", DAY)
        contact = Interaction("I1", "C1", DAY, Channel.PHONE, Direction.OUTBOUND, Purpose.CARE)
        with pytest.raises(RuleViolation, match="without a memo"):
            log_interaction(store.unit_of_work(), attrs.evolve(contact, memo="新地址"))
        assert log_interaction(store.unit_of_work(), contact).version == 1


class TestFutureValue:
    def test_future_value_of_a_customer(self) -> None:
        store = store_with(customer("C1"), policy("P1", "C1", premium="10000.00"))
        model = fit_renewal_model(RenewalHistory(), FutureValueConfig())
        assert "only 0 renewal years" in model.reason
        value = future_value_of(store.unit_of_work(), "C1", DAY, model)
        # Flat 85 %, 5 premiums from the next anniversary, discounted 3 % a year from the 2nd.
        factor = sum(0.85**k / 1.03 ** (k - 1) for k in range(1, 6))
        assert value.amount.amount == (Decimal("10000") * Decimal(repr(round(factor, 6)))).quantize(
            Decimal("0.01")
        )
        assert value.model.kind is RenewalModelKind.FLAT_RETENTION
