"""Complaints (投诉处理, DOMAIN.md §8): seven steps walked in order, compensation skippable only
with a reason, a closed complaint reopened only with a reason."""

from __future__ import annotations

import datetime as dt

import attrs
import pytest
from hypothesis import given
from hypothesis import strategies as st

from insurcrm.domain.complaints import (
    Complaint,
    ComplaintCategory,
    ComplaintChange,
    ComplaintStatus,
    ComplaintStep,
    StepRecord,
)
from insurcrm.domain.events import ComplaintClosed, ComplaintReceived, ComplaintReopened
from insurcrm.errors import RuleViolation, ValidationError
from insurcrm.testing import strategies as gen

RECEIVED = dt.date(2024, 3, 1)
PROMISED = dt.date(2024, 3, 5)
DAY = dt.timedelta(days=1)
STEPS = tuple(ComplaintStep)
#: The customer's words: personal text that must never show in a repr.
WORDS = "张伟：理赔拖了三个月，电话 13812345678 没人接！'; DROP TABLE complaints; --"


def received(text: str | None = WORDS) -> Complaint:
    return Complaint.receive(
        "Q1", "C1", RECEIVED, PROMISED, ComplaintCategory.CLAIMS, text, csr_id="CSR7"
    )


def walk(complaint: Complaint, until: ComplaintStep | None = None) -> Complaint:
    """Complete every step from the next one up to, not including, ``until`` (all when None),
    one day apart."""
    day = complaint.last_day
    while complaint.next_step is not None and complaint.next_step is not until:
        day += DAY
        complaint = complaint.complete(complaint.next_step, day)
    return complaint


def closed() -> Complaint:
    complaint = walk(received())
    return complaint.close(complaint.last_day)


class TestReceiving:
    def test_receive(self) -> None:
        complaint = received()
        assert (complaint.id, complaint.customer_id, complaint.received_on) == (
            "Q1",
            "C1",
            RECEIVED,
        )
        assert (complaint.promised_by, complaint.category, complaint.csr_id) == (
            PROMISED,
            ComplaintCategory.CLAIMS,
            "CSR7",
        )
        assert complaint.status is ComplaintStatus.OPEN
        assert (complaint.round, complaint.reopened, complaint.steps) == (1, 0, ())
        assert complaint.next_step is ComplaintStep.VENT
        assert complaint.last_day == RECEIVED
        assert complaint.events == (ComplaintReceived("C1", RECEIVED, "Q1", PROMISED),)

    def test_the_seven_steps_in_order_with_their_chinese_labels(self) -> None:
        assert [(s.name, s.label_zh) for s in ComplaintStep] == [
            ("VENT", "接待发泄"),
            ("UNDERSTAND", "表示理解"),
            ("APOLOGISE", "道歉"),
            ("FIND_SOLUTION", "找到解决的方法"),
            ("START_SOLVING", "着手解决问题"),
            ("COMPENSATE", "提供补偿"),
            ("FOLLOW_UP", "后续工作"),
        ]

    def test_the_promise_cannot_predate_the_receipt(self) -> None:
        with pytest.raises(ValidationError) as caught:
            Complaint.receive("Q1", "C1", RECEIVED, RECEIVED - DAY)
        assert caught.value.field == "promised_by"
        assert Complaint.receive("Q1", "C1", RECEIVED, RECEIVED).promised_by == RECEIVED

    @pytest.mark.parametrize(
        ("kwargs", "field"),
        [
            ({"id": ""}, "id"),
            ({"customer_id": "  "}, "customer_id"),
            ({"csr_id": "x" * 65}, "csr_id"),
            ({"text": "a\x00b"}, "text"),
            ({"on": "2024-03-01"}, "received_on"),
        ],
    )
    def test_bad_input_is_refused_naming_the_field(
        self, kwargs: dict[str, object], field: str
    ) -> None:
        args: dict[str, object] = {
            "id": "Q1",
            "customer_id": "C1",
            "on": RECEIVED,
            "promised_by": PROMISED,
        }
        with pytest.raises(ValidationError) as caught:
            Complaint.receive(**{**args, **kwargs})  # type: ignore[arg-type]
        assert caught.value.field == field
        assert "\x00" not in str(caught.value)

    def test_a_bad_category_is_refused(self) -> None:
        with pytest.raises(TypeError):
            Complaint.receive("Q1", "C1", RECEIVED, PROMISED, "CLAIMS")  # type: ignore[arg-type]


class TestTheSevenSteps:
    def test_walking_in_order_then_closing(self) -> None:
        complaint = received()
        for i, step in enumerate(STEPS, start=1):
            assert complaint.next_step is step
            complaint = complaint.complete(step, RECEIVED + i * DAY, note=f"第{i}步")
        assert complaint.next_step is None
        assert [s.step for s in complaint.steps] == list(STEPS)
        assert all(s.round == 1 and not s.skipped for s in complaint.steps)
        done = complaint.close(RECEIVED + 10 * DAY)
        assert done.status is ComplaintStatus.CLOSED
        assert done.changes == (ComplaintChange(RECEIVED + 10 * DAY, ComplaintStatus.CLOSED),)
        assert (done.closed_on, done.handling_days) == (RECEIVED + 10 * DAY, 10)
        # answered (step 4) on 4 March, promised by 5 March
        assert done.answered_on == RECEIVED + 4 * DAY
        assert done.answered_on_time() is True
        assert done.events[-1] == ComplaintClosed("C1", RECEIVED + 10 * DAY, "Q1", True)

    def test_several_steps_may_be_done_the_same_day(self) -> None:
        complaint = received()
        for step in STEPS:
            complaint = complaint.complete(step, RECEIVED)
        assert complaint.close(RECEIVED).handling_days == 0

    @pytest.mark.parametrize("done", range(len(STEPS)))
    def test_every_other_step_is_refused_naming_the_next(self, done: int) -> None:
        complaint = received()
        for step in STEPS[:done]:
            complaint = complaint.complete(step, RECEIVED)
        expected = STEPS[done]
        for step in STEPS:
            if step is expected:
                continue
            with pytest.raises(RuleViolation) as caught:
                complaint.complete(step, RECEIVED)
            message = str(caught.value)
            assert f"the next step is {expected.name} ({expected.label_zh})" in message
            assert f"{step.name} ({step.label_zh}) is out of order" in message
        assert complaint.complete(expected, RECEIVED).next_step == (
            STEPS[done + 1] if done + 1 < len(STEPS) else None
        )

    def test_apologising_before_showing_understanding_is_refused(self) -> None:
        """The course's order: vent, understand, then apologise."""
        vented = received().complete(ComplaintStep.VENT, RECEIVED)
        with pytest.raises(RuleViolation, match=r"the next step is UNDERSTAND \(表示理解\)"):
            vented.complete(ComplaintStep.APOLOGISE, RECEIVED)

    def test_a_step_cannot_predate_the_last_one(self) -> None:
        complaint = received().complete(ComplaintStep.VENT, RECEIVED + 2 * DAY)
        with pytest.raises(RuleViolation, match="cannot predate the last step"):
            complaint.complete(ComplaintStep.UNDERSTAND, RECEIVED + DAY)
        with pytest.raises(RuleViolation, match="cannot predate"):
            received().complete(ComplaintStep.VENT, RECEIVED - DAY)

    def test_every_step_done_the_next_move_is_to_close(self) -> None:
        complaint = walk(received())
        with pytest.raises(RuleViolation, match="the next move is to close it"):
            complaint.complete(ComplaintStep.FOLLOW_UP, complaint.last_day)

    def test_a_step_done_does_not_change_the_original(self) -> None:
        complaint = received()
        complaint.complete(ComplaintStep.VENT, RECEIVED)
        assert complaint.steps == ()


class TestCompensation:
    def test_compensation_may_be_skipped_with_a_reason(self) -> None:
        complaint = walk(received(), until=ComplaintStep.COMPENSATE)
        skipped = complaint.skip_compensation(RECEIVED + 6 * DAY, "客户只要道歉，不要补偿")
        last = skipped.steps[-1]
        assert (last.step, last.skipped, last.skip_reason) == (
            ComplaintStep.COMPENSATE,
            True,
            "客户只要道歉，不要补偿",
        )
        assert skipped.next_step is ComplaintStep.FOLLOW_UP
        done = skipped.complete(ComplaintStep.FOLLOW_UP, RECEIVED + 7 * DAY).close(
            RECEIVED + 7 * DAY
        )
        assert done.status is ComplaintStatus.CLOSED

    @pytest.mark.parametrize("reason", ["", "   ", "\t\n", "\u3000"])
    def test_skipping_compensation_needs_a_reason(self, reason: str) -> None:
        complaint = walk(received(), until=ComplaintStep.COMPENSATE)
        with pytest.raises(ValidationError) as caught:
            complaint.skip_compensation(RECEIVED + 6 * DAY, reason)
        assert (caught.value.field, caught.value.rule) == ("reason", "text.required")

    def test_a_reason_must_be_text(self) -> None:
        complaint = walk(received(), until=ComplaintStep.COMPENSATE)
        with pytest.raises(ValidationError) as caught:
            complaint.skip_compensation(RECEIVED, None)  # type: ignore[arg-type]
        assert caught.value.field == "reason"

    def test_skipping_compensation_follows_the_order(self) -> None:
        early = walk(received(), until=ComplaintStep.START_SOLVING)
        with pytest.raises(RuleViolation, match=r"the next step is START_SOLVING"):
            early.skip_compensation(RECEIVED + 9 * DAY, "不需要")
        done = walk(received())
        with pytest.raises(RuleViolation, match="close it"):
            done.skip_compensation(RECEIVED + 9 * DAY, "不需要")

    def test_follow_up_cannot_skip_compensation_without_a_reason(self) -> None:
        complaint = walk(received(), until=ComplaintStep.COMPENSATE)
        with pytest.raises(RuleViolation, match=r"the next step is COMPENSATE \(提供补偿\)"):
            complaint.complete(ComplaintStep.FOLLOW_UP, RECEIVED + 6 * DAY)


class TestClosingAndReopening:
    def test_a_complaint_cannot_be_closed_before_every_step(self) -> None:
        complaint = walk(received(), until=ComplaintStep.FOLLOW_UP)
        with pytest.raises(
            RuleViolation, match=r"cannot be closed yet: the next step is FOLLOW_UP"
        ):
            complaint.close(RECEIVED + 9 * DAY)
        with pytest.raises(RuleViolation, match="the next step is VENT"):
            received().close(RECEIVED)

    def test_closing_cannot_predate_the_last_step(self) -> None:
        complaint = walk(received())
        with pytest.raises(RuleViolation, match="predate"):
            complaint.close(complaint.last_day - DAY)

    def test_a_closed_complaint_refuses_every_move_but_reopening(self) -> None:
        done = closed()
        with pytest.raises(RuleViolation, match="already closed"):
            done.close(done.last_day)
        for step in STEPS:
            with pytest.raises(RuleViolation, match="is closed: reopen it with a reason"):
                done.complete(step, done.last_day)
        with pytest.raises(RuleViolation, match="is closed"):
            done.skip_compensation(done.last_day, "理由")

    def test_reopening_needs_a_reason(self) -> None:
        """A closed complaint cannot be reopened silently."""
        done = closed()
        for reason in ("", "  "):
            with pytest.raises(ValidationError) as caught:
                done.reopen(done.last_day, reason)
            assert caught.value.field == "reason"

    def test_only_a_closed_complaint_is_reopened(self) -> None:
        with pytest.raises(RuleViolation, match="only a closed one can be reopened"):
            received().reopen(RECEIVED, "再次投诉")

    def test_reopening_cannot_predate_the_closing(self) -> None:
        done = closed()
        with pytest.raises(RuleViolation, match="predate"):
            done.reopen(done.last_day - DAY, "再次投诉")

    def test_a_reopened_complaint_starts_again_at_finding_a_solution(self) -> None:
        done = closed()
        first_close = done.last_day
        again = done.reopen(first_close + DAY, "方案没有落实")
        assert again.status is ComplaintStatus.OPEN
        assert (again.round, again.reopened) == (2, 1)
        assert again.next_step is ComplaintStep.FIND_SOLUTION
        assert again.changes[-1] == ComplaintChange(
            first_close + DAY, ComplaintStatus.OPEN, "方案没有落实"
        )
        assert again.events[-1] == ComplaintReopened("C1", first_close + DAY, "Q1")
        with pytest.raises(RuleViolation, match="the next step is FIND_SOLUTION"):
            again.complete(ComplaintStep.VENT, first_close + DAY)
        finished = walk(again)
        assert [s.step for s in finished.steps if s.round == 2] == list(STEPS[3:])
        assert [s.step for s in finished.steps if s.round == 1] == list(STEPS)
        reclosed = finished.close(finished.last_day)
        # handling time and the answer stay those of the first round
        assert reclosed.closed_on == first_close
        assert reclosed.handling_days == done.handling_days
        assert reclosed.answered_on == done.answered_on


class TestPromise:
    def test_an_answer_after_the_promised_day_is_late(self) -> None:
        complaint = received().complete(ComplaintStep.VENT, RECEIVED)
        complaint = complaint.complete(ComplaintStep.UNDERSTAND, RECEIVED)
        complaint = complaint.complete(ComplaintStep.APOLOGISE, RECEIVED)
        assert complaint.answered_on is None
        assert complaint.answered_on_time() is None
        assert not complaint.overdue(PROMISED)
        assert complaint.overdue(PROMISED + DAY)
        late = complaint.complete(ComplaintStep.FIND_SOLUTION, PROMISED + DAY)
        assert late.answered_on_time() is False
        assert not late.overdue(PROMISED + 30 * DAY)
        done = walk(late)
        assert done.close(done.last_day).events[-1].answered_on_time is False  # type: ignore[union-attr]

    def test_an_answer_on_the_promised_day_is_on_time(self) -> None:
        complaint = walk(received(), until=ComplaintStep.FIND_SOLUTION)
        on_time = complaint.complete(ComplaintStep.FIND_SOLUTION, PROMISED)
        assert on_time.answered_on_time() is True

    def test_handling_days_while_open(self) -> None:
        assert (received().closed_on, received().handling_days) == (None, None)


class TestErasureAndRepr:
    def _full(self) -> Complaint:
        complaint = walk(received(), until=ComplaintStep.COMPENSATE)
        complaint = complaint.skip_compensation(complaint.last_day, "张伟不要补偿 13812345678")
        complaint = complaint.complete(
            ComplaintStep.FOLLOW_UP, complaint.last_day, "回访：张伟满意"
        )
        complaint = complaint.close(complaint.last_day)
        return complaint.reopen(complaint.last_day + DAY, "张伟又打电话来了")

    def test_erase_keeps_no_text_but_keeps_dates_and_steps(self) -> None:
        complaint = self._full()
        erased = complaint.erase()
        assert erased.erased
        assert erased.text is None
        assert all(s.note is None and s.skip_reason is None for s in erased.steps)
        assert all(c.reason is None for c in erased.changes)
        assert [(s.step, s.on, s.round, s.skipped) for s in erased.steps] == [
            (s.step, s.on, s.round, s.skipped) for s in complaint.steps
        ]
        assert [(c.on, c.status) for c in erased.changes] == [
            (c.on, c.status) for c in complaint.changes
        ]
        assert (erased.received_on, erased.promised_by, erased.category) == (
            RECEIVED,
            PROMISED,
            ComplaintCategory.CLAIMS,
        )
        assert (erased.handling_days, erased.answered_on, erased.next_step, erased.round) == (
            complaint.handling_days,
            complaint.answered_on,
            complaint.next_step,
            complaint.round,
        )
        for text in ("张伟", "13812345678", "DROP TABLE"):
            assert text not in repr(erased)

    def test_an_erased_complaint_takes_no_notes_but_can_still_be_handled(self) -> None:
        erased = self._full().erase()
        with pytest.raises(RuleViolation, match="erased"):
            erased.complete(ComplaintStep.FIND_SOLUTION, erased.last_day, "新的备注")
        moved = erased.complete(ComplaintStep.FIND_SOLUTION, erased.last_day)
        assert moved.next_step is ComplaintStep.START_SOLVING

    def test_repr_masks_every_text(self) -> None:
        shown = repr(self._full())
        for text in ("张伟", "13812345678", "DROP TABLE", "回访", "补偿"):
            assert text not in shown
        assert "text='***'" in shown
        assert "'***'" in repr(StepRecord(ComplaintStep.VENT, RECEIVED, note="张伟"))
        assert "张伟" not in repr(ComplaintChange(RECEIVED, ComplaintStatus.OPEN, "张伟"))

    @given(gen.complaints(), gen.texts())
    def test_repr_never_depends_on_the_texts(self, complaint: Complaint, other: str) -> None:
        assert repr(complaint) == repr(retexted(complaint, other))
        assert complaint.erase().erase() == complaint.erase()


def retexted(complaint: Complaint, other: str) -> Complaint:
    """``complaint`` with every text that is set replaced by ``other``."""

    def swap(text: str | None) -> str | None:
        return None if text is None else other

    return attrs.evolve(
        complaint,
        text=swap(complaint.text),
        steps=tuple(
            attrs.evolve(s, note=swap(s.note), skip_reason=swap(s.skip_reason))
            for s in complaint.steps
        ),
        changes=tuple(attrs.evolve(c, reason=swap(c.reason)) for c in complaint.changes),
    )


# -- properties -----------------------------------------------------------------------------------


def finish(complaint: Complaint) -> Complaint:
    """Walk the complaint to closed, in order, from wherever it stands."""
    day = complaint.last_day
    if complaint.status is ComplaintStatus.CLOSED:
        complaint = complaint.reopen(day, "再次处理")
    while complaint.next_step is not None:
        complaint = complaint.complete(complaint.next_step, day)
    return complaint.close(day)


class TestProperties:
    @given(gen.complaints(), st.sampled_from(STEPS))
    def test_only_the_next_step_can_be_done(
        self, complaint: Complaint, step: ComplaintStep
    ) -> None:
        """In any reachable state, every step other than the next is refused with a message
        naming the next step (or saying to close or reopen)."""
        day = complaint.last_day
        expected = complaint.next_step
        if complaint.status is ComplaintStatus.CLOSED:
            with pytest.raises(RuleViolation, match="reopen it with a reason"):
                complaint.complete(step, day)
            return
        if expected is None:
            with pytest.raises(RuleViolation, match="the next move is to close it"):
                complaint.complete(step, day)
            return
        if step is expected:
            assert complaint.complete(step, day).steps[-1].step is step
            return
        with pytest.raises(RuleViolation) as caught:
            complaint.complete(step, day)
        assert f"the next step is {expected.name} ({expected.label_zh})" in str(caught.value)
        if step is ComplaintStep.COMPENSATE:
            with pytest.raises(RuleViolation, match=f"the next step is {expected.name}"):
                complaint.skip_compensation(day, "不需要补偿")

    @given(gen.complaints(), st.sampled_from(STEPS))
    def test_closing_early_names_the_next_step(
        self, complaint: Complaint, step: ComplaintStep
    ) -> None:
        expected = complaint.next_step
        if complaint.status is ComplaintStatus.OPEN and expected is not None:
            with pytest.raises(RuleViolation, match=f"the next step is {expected.name}"):
                complaint.close(complaint.last_day)

    @given(gen.complaints(), st.integers(min_value=0, max_value=30))
    def test_walking_in_order_always_succeeds(self, complaint: Complaint, gap: int) -> None:
        before = complaint.round
        done = finish(complaint)
        assert done.status is ComplaintStatus.CLOSED
        assert done.next_step is None
        assert done.round == before + (1 if complaint.status is ComplaintStatus.CLOSED else 0)
        assert done.closed_on == (complaint.closed_on or done.changes[-1].on)
        again = finish(done.reopen(done.last_day + dt.timedelta(days=gap), "客户又不满意"))
        assert again.round == done.round + 1
        assert again.handling_days == done.handling_days

    @given(gen.complaints())
    def test_steps_are_in_order_in_every_round(self, complaint: Complaint) -> None:
        for round_ in range(1, complaint.round + 1):
            done = [s.step for s in complaint.steps if s.round == round_]
            first = 0 if round_ == 1 else STEPS.index(ComplaintStep.FIND_SOLUTION)
            assert done == list(STEPS[first : first + len(done)])
        days = [s.on for s in complaint.steps]
        assert days == sorted(days)
        assert all(
            s.skip_reason is not None and s.skip_reason.strip()
            for s in complaint.steps
            if s.skipped
        )
        assert all(s.step is ComplaintStep.COMPENSATE for s in complaint.steps if s.skipped)
        statuses = [c.status for c in complaint.changes]
        assert statuses == [
            ComplaintStatus.CLOSED if i % 2 == 0 else ComplaintStatus.OPEN
            for i in range(len(statuses))
        ]
        assert all(c.reason for c in complaint.changes if c.status is ComplaintStatus.OPEN)
        assert complaint.received_on <= complaint.last_day

    @given(gen.complaints())
    def test_erase_keeps_the_handling_figures(self, complaint: Complaint) -> None:
        erased = complaint.erase()
        assert erased.text is None
        assert all(s.note is None and s.skip_reason is None for s in erased.steps)
        assert all(c.reason is None for c in erased.changes)
        assert (erased.next_step, erased.round, erased.status, erased.last_day) == (
            complaint.next_step,
            complaint.round,
            complaint.status,
            complaint.last_day,
        )
        assert (erased.handling_days, erased.answered_on) == (
            complaint.handling_days,
            complaint.answered_on,
        )


class TestAsOfAndErasedTexts:
    def test_as_of_shows_the_complaint_as_it_stood(self) -> None:
        complaint = closed()
        first = complaint.steps[0].on
        then = complaint.as_of(first)
        assert then.status is ComplaintStatus.OPEN
        assert [s.step for s in then.steps] == [ComplaintStep.VENT]
        assert then.next_step is ComplaintStep.UNDERSTAND
        assert complaint.as_of(complaint.last_day) is complaint
        assert complaint.as_of(RECEIVED - DAY).steps == ()

    def test_an_erased_complaint_takes_no_new_text(self) -> None:
        at_compensation = walk(received(), ComplaintStep.COMPENSATE).erase()
        with pytest.raises(RuleViolation, match="erased"):
            at_compensation.skip_compensation(at_compensation.last_day, "不需要补偿")
        with pytest.raises(RuleViolation, match="erased"):
            closed().erase().reopen(closed().last_day + DAY, "又出问题了")
        # Steps without a note still go on.
        assert at_compensation.complete(ComplaintStep.COMPENSATE, at_compensation.last_day)
