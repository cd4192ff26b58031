"""Complaints (投诉处理, DOMAIN.md §8): the seven steps as a state machine.

The steps are walked in order: let the customer vent (接待发泄) → show understanding
(表示理解) → apologise (道歉) → find a solution (找到解决的方法) → start solving
(着手解决问题) → compensate (提供补偿; may be skipped, with a reason) → follow up
(后续工作). A complaint is closed once every step is done and can be reopened only
with a reason; a reopened complaint starts again at FIND_SOLUTION (the customer has
vented and been apologised to already; what failed is the solution), and its earlier
round stays in the history.

The customer is *answered* when the solution is found (step 4): the promise made at
receipt ("we will answer by …") is kept when that happens on or before
``promised_by``. Handling time runs from receipt to the first closing.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable

import attrs

from insurcrm.domain.events import (
    ComplaintClosed,
    ComplaintReceived,
    ComplaintReopened,
    DomainEvent,
)
from insurcrm.domain.fields import a_date, an_id, an_optional_id, optional_text
from insurcrm.domain.labels import LabelledEnum
from insurcrm.domain.privacy import mask_text
from insurcrm.domain.values import check_text
from insurcrm.errors import RuleViolation, ValidationError

__all__ = [
    "Complaint",
    "ComplaintCategory",
    "ComplaintChange",
    "ComplaintStatus",
    "ComplaintStep",
    "StepRecord",
]


class ComplaintStep(LabelledEnum):
    """The seven steps of handling a complaint, in order."""

    VENT = ("VENT", "接待发泄")
    UNDERSTAND = ("UNDERSTAND", "表示理解")
    APOLOGISE = ("APOLOGISE", "道歉")
    FIND_SOLUTION = ("FIND_SOLUTION", "找到解决的方法")
    START_SOLVING = ("START_SOLVING", "着手解决问题")
    COMPENSATE = ("COMPENSATE", "提供补偿")
    FOLLOW_UP = ("FOLLOW_UP", "后续工作")


_STEPS = tuple(ComplaintStep)
#: Where a reopened complaint starts again.
REOPEN_FROM = ComplaintStep.FIND_SOLUTION


class ComplaintStatus(LabelledEnum):
    """Whether the complaint is being handled or closed."""

    OPEN = ("OPEN", "处理中")
    CLOSED = ("CLOSED", "已结案")


class ComplaintCategory(LabelledEnum):
    """What the complaint is about."""

    SERVICE = ("SERVICE", "服务态度")
    CLAIMS = ("CLAIMS", "理赔")
    UNDERWRITING = ("UNDERWRITING", "核保")
    SALES = ("SALES", "销售误导")
    PRODUCT = ("PRODUCT", "产品")
    PRICE = ("PRICE", "价格")
    OTHER = ("OTHER", "其他")


@attrs.frozen
class StepRecord:
    """One step done (or compensation skipped) on a day, in a round of handling.

    ``note`` and ``skip_reason`` are free text (personal data: masked, erasable).
    """

    step: ComplaintStep = attrs.field(validator=attrs.validators.instance_of(ComplaintStep))
    on: dt.date = attrs.field(validator=a_date)
    round: int = 1
    note: str | None = attrs.field(default=None, validator=optional_text, repr=mask_text)
    skipped: bool = False
    skip_reason: str | None = attrs.field(default=None, validator=optional_text, repr=mask_text)


@attrs.frozen
class ComplaintChange:
    """A closing or a reopening, dated; a reopening has a reason (free text, erasable)."""

    on: dt.date
    status: ComplaintStatus
    reason: str | None = attrs.field(default=None, validator=optional_text, repr=mask_text)


def _steps(items: Iterable[StepRecord]) -> tuple[StepRecord, ...]:
    return tuple(items)


def _changes(items: Iterable[ComplaintChange]) -> tuple[ComplaintChange, ...]:
    return tuple(items)


@attrs.frozen
class Complaint:
    """A customer's complaint (投诉) and how it was handled.

    Build one with :meth:`receive`; walk it with :meth:`complete`,
    :meth:`skip_compensation`, :meth:`close` and :meth:`reopen` (each returns the new
    complaint and refuses a move out of order with a :class:`RuleViolation` saying
    which step is next).

    Attributes:
        id: the complaint id.
        customer_id: the customer who complained.
        received_on: the day it was received.
        promised_by: the day we promised to answer by (not before ``received_on``).
        category: what it is about.
        text: what the customer said (personal data: masked, erasable).
        csr_id: the representative handling it.
        status: OPEN or CLOSED.
        steps: the steps done, in order, over every round.
        changes: closings and reopenings, in order.
        erased: the texts were erased with the customer (§10.4).
        version: 0 until first stored; bumped by every save.
    """

    id: str = attrs.field(validator=an_id)
    customer_id: str = attrs.field(validator=an_id)
    received_on: dt.date = attrs.field(validator=a_date)
    promised_by: dt.date = attrs.field(validator=a_date)
    category: ComplaintCategory = attrs.field(
        default=ComplaintCategory.OTHER,
        validator=attrs.validators.instance_of(ComplaintCategory),
    )
    text: str | None = attrs.field(default=None, validator=optional_text, repr=mask_text)
    csr_id: str | None = attrs.field(default=None, validator=an_optional_id)
    status: ComplaintStatus = ComplaintStatus.OPEN
    steps: tuple[StepRecord, ...] = attrs.field(default=(), converter=_steps)
    changes: tuple[ComplaintChange, ...] = attrs.field(default=(), converter=_changes)
    erased: bool = False
    version: int = 0
    events: tuple[DomainEvent, ...] = attrs.field(default=(), eq=False, repr=False)

    def __attrs_post_init__(self) -> None:
        if self.promised_by < self.received_on:
            raise ValidationError(
                "promised_by", "date.order", "must not be before the day it was received"
            )

    @classmethod
    def receive(
        cls,
        id: str,
        customer_id: str,
        on: dt.date,
        promised_by: dt.date,
        category: ComplaintCategory = ComplaintCategory.OTHER,
        text: str | None = None,
        csr_id: str | None = None,
    ) -> Complaint:
        """Receive a complaint on ``on``, promising an answer by ``promised_by``."""
        complaint = cls(
            id=id,
            customer_id=customer_id,
            received_on=on,
            promised_by=promised_by,
            category=category,
            text=text,
            csr_id=csr_id,
        )
        event = ComplaintReceived(customer_id, on, id, promised_by)
        return attrs.evolve(complaint, events=(event,))

    # -- where the complaint stands ---------------------------------------------

    @property
    def round(self) -> int:
        """The round of handling: 1, plus one per reopening."""
        return 1 + sum(1 for c in self.changes if c.status is ComplaintStatus.OPEN)

    @property
    def next_step(self) -> ComplaintStep | None:
        """The step to do next, or None when every step of this round is done."""
        done = [s.step for s in self.steps if s.round == self.round]
        first = 0 if self.round == 1 else _STEPS.index(REOPEN_FROM)
        index = first + len(done)
        return _STEPS[index] if index < len(_STEPS) else None

    @property
    def last_day(self) -> dt.date:
        """The day of the latest step or status change (the receipt at first)."""
        days = [self.received_on, *(s.on for s in self.steps), *(c.on for c in self.changes)]
        return max(days)

    @property
    def answered_on(self) -> dt.date | None:
        """The day the customer was first given a solution (step FIND_SOLUTION)."""
        return next((s.on for s in self.steps if s.step is REOPEN_FROM), None)

    def answered_on_time(self) -> bool | None:
        """Whether the first answer came by the promised day (None while unanswered)."""
        answered = self.answered_on
        return None if answered is None else answered <= self.promised_by

    def as_of(self, day: dt.date) -> Complaint:
        """The complaint as it stood at the end of ``day`` (later steps and changes left out)."""
        changes = tuple(c for c in self.changes if c.on <= day)
        status = changes[-1].status if changes else ComplaintStatus.OPEN
        steps = tuple(s for s in self.steps if s.on <= day)
        if steps == self.steps and changes == self.changes:
            return self
        return attrs.evolve(self, steps=steps, changes=changes, status=status, events=())

    def overdue(self, as_of: dt.date) -> bool:
        """True when no answer was given and the promised day is past at ``as_of``."""
        return self.answered_on is None and as_of > self.promised_by

    @property
    def closed_on(self) -> dt.date | None:
        """The day the complaint was first closed (None while never closed)."""
        return next((c.on for c in self.changes if c.status is ComplaintStatus.CLOSED), None)

    @property
    def handling_days(self) -> int | None:
        """Days from receipt to the first closing (None while never closed)."""
        closed = self.closed_on
        return None if closed is None else (closed - self.received_on).days

    @property
    def reopened(self) -> int:
        """How many times the complaint was reopened."""
        return self.round - 1

    # -- moves ---------------------------------------------------------------------

    def _refuse_text_if_erased(self) -> None:
        if self.erased:
            raise RuleViolation(
                f"complaint {self.id}: the customer was erased; no new text can be recorded"
            )

    def _check_move(self, step: ComplaintStep, on: dt.date) -> None:
        if self.status is ComplaintStatus.CLOSED:
            raise RuleViolation(
                f"complaint {self.id} is closed: reopen it with a reason before {step.name}"
            )
        expected = self.next_step
        if expected is None:
            raise RuleViolation(
                f"complaint {self.id}: every step is done; the next move is to close it"
            )
        if step is not expected:
            raise RuleViolation(
                f"complaint {self.id}: {step.name} ({step.label_zh}) is out of order; "
                f"the next step is {expected.name} ({expected.label_zh})"
            )
        if on < self.last_day:
            raise RuleViolation(
                f"complaint {self.id}: {step.name} cannot predate the last step "
                f"({self.last_day.isoformat()})"
            )

    def complete(self, step: ComplaintStep, on: dt.date, note: str | None = None) -> Complaint:
        """Record that ``step`` was done on ``on``.

        Raises:
            RuleViolation: the complaint is closed, ``step`` is not the next one (the
                message names the next step), or ``on`` predates the last step.
        """
        if note is not None:
            self._refuse_text_if_erased()
        self._check_move(step, on)
        record = StepRecord(step, on, self.round, note)
        return attrs.evolve(self, steps=(*self.steps, record))

    def skip_compensation(self, on: dt.date, reason: str) -> Complaint:
        """Skip the compensation step (提供补偿), stating why.

        Raises:
            ValidationError: ``reason`` is empty.
            RuleViolation: compensation is not the next step.
        """
        check_text(reason, "reason", required=True)
        self._refuse_text_if_erased()
        self._check_move(ComplaintStep.COMPENSATE, on)
        record = StepRecord(
            ComplaintStep.COMPENSATE, on, self.round, skipped=True, skip_reason=reason
        )
        return attrs.evolve(self, steps=(*self.steps, record))

    def close(self, on: dt.date) -> Complaint:
        """Close the complaint (结案) once every step of the round is done.

        Raises:
            RuleViolation: it is already closed, a step is still to do (named), or
                ``on`` predates the last step.
        """
        if self.status is ComplaintStatus.CLOSED:
            raise RuleViolation(f"complaint {self.id} is already closed")
        expected = self.next_step
        if expected is not None:
            raise RuleViolation(
                f"complaint {self.id} cannot be closed yet: "
                f"the next step is {expected.name} ({expected.label_zh})"
            )
        if on < self.last_day:
            raise RuleViolation(f"complaint {self.id}: closing cannot predate the last step")
        on_time = bool(self.answered_on_time())
        return attrs.evolve(
            self,
            status=ComplaintStatus.CLOSED,
            changes=(*self.changes, ComplaintChange(on, ComplaintStatus.CLOSED)),
            events=(*self.events, ComplaintClosed(self.customer_id, on, self.id, on_time)),
        )

    def reopen(self, on: dt.date, reason: str) -> Complaint:
        """Reopen a closed complaint, stating why; handling starts again at FIND_SOLUTION.

        Raises:
            ValidationError: ``reason`` is empty.
            RuleViolation: the complaint is open, or ``on`` predates its closing.
        """
        check_text(reason, "reason", required=True)
        self._refuse_text_if_erased()
        if self.status is not ComplaintStatus.CLOSED:
            raise RuleViolation(f"complaint {self.id} is open; only a closed one can be reopened")
        if on < self.last_day:
            raise RuleViolation(f"complaint {self.id}: reopening cannot predate the closing")
        return attrs.evolve(
            self,
            status=ComplaintStatus.OPEN,
            changes=(*self.changes, ComplaintChange(on, ComplaintStatus.OPEN, reason)),
            events=(*self.events, ComplaintReopened(self.customer_id, on, self.id)),
        )

    def erase(self) -> Complaint:
        """The complaint without its texts (erasure, §10.4): the customer's words, step
        notes and reasons go; dates, steps and category stay, so handling figures and
        complaint rates for past periods do not change."""
        return attrs.evolve(
            self,
            text=None,
            steps=tuple(attrs.evolve(s, note=None, skip_reason=None) for s in self.steps),
            changes=tuple(attrs.evolve(c, reason=None) for c in self.changes),
            erased=True,
        )
