"""The storage contract: one test suite every adapter must pass.

insurcrm runs it against memory, SQLite and PostgreSQL; run it against your
own adapter by subclassing :class:`StoreContract` in a pytest test class and
returning an empty store from :meth:`StoreContract.empty_store`::

    from insurcrm.testing.contracts import StoreContract

    class TestMyAdapter(StoreContract):
        def empty_store(self):
            return MyStore(...)  # anything with .unit_of_work()

Every test calls ``empty_store()`` for a store with no data, so each test
(and each Hypothesis example) starts clean.
"""

from __future__ import annotations

import datetime as dt
import threading
import time
import uuid
from collections import Counter
from collections.abc import Callable
from decimal import Decimal
from typing import Any, cast

import attrs
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from insurcrm.dispatch import EventHandlers
from insurcrm.domain.card import FamilyMember, Holding, LifeSituation
from insurcrm.domain.churn import ChurnCause, ChurnRecord, ChurnStructure
from insurcrm.domain.complaints import (
    Complaint,
    ComplaintCategory,
    ComplaintStatus,
    ComplaintStep,
    StepRecord,
)
from insurcrm.domain.credit import CreditGrade
from insurcrm.domain.customers import Customer, Household, LeadSource, id_number_taken
from insurcrm.domain.events import (
    EVENT_TYPES,
    ComplaintReceived,
    CustomerChurned,
    CustomerErased,
    CustomerRegistered,
    CustomerWonBack,
    DomainEvent,
    PolicyStatusChanged,
    TierUpgraded,
)
from insurcrm.domain.interactions import Channel, Direction, Interaction, ObservedSignal, Purpose
from insurcrm.domain.policies import Beneficiary, EndReason, Policy, PolicyStatus, ProductLine
from insurcrm.domain.repositories import OutboxEvent, RecordRepository
from insurcrm.domain.satisfaction import (
    Answer,
    Dimension,
    RespondentRole,
    SurveyChannel,
    SurveyResponse,
)
from insurcrm.domain.tier_membership import (
    GrantKind,
    TierChange,
    TierChangeKind,
    TierGrant,
    TierMembership,
    evaluate_tier,
    grant_tier,
)
from insurcrm.domain.tiers import DEFAULT_LADDER, TierFigures
from insurcrm.domain.unit_of_work import UnitOfWork, UnitOfWorkFactory
from insurcrm.domain.values import Email, Gender, Money, PersonName, Phone, ResidentId
from insurcrm.errors import ConcurrencyError, Duplicate, NotFound, RuleViolation, StorageError
from insurcrm.serialization import unstructure
from insurcrm.services.churn import detect_churn, end_policy, record_churn
from insurcrm.services.csv_records import RECORDS, store_records
from insurcrm.services.customers import erase_customer, erase_in
from insurcrm.services.events import deliver_pending
from insurcrm.testing import strategies as gen

__all__ = ["TRICKY_TEXTS", "StoreContract"]

DAY = dt.date(2024, 3, 1)

#: Text users type that a careless store mangles; every one must come back byte for byte.
TRICKY_TEXTS = (
    "张伟",
    "欧阳娜娜",
    'O\'Brien "Bob"',
    "'; DROP TABLE customers; --",
    "Robert'); DELETE FROM policies; --",
    "emoji 👨‍👩‍👧‍👦 🐯 ✓",
    "tab\tnew\nline\r\nend",
    "%_\\ like wildcards",
    "ñandú Ærøskøbing Ǆ",
    "长" * 5000,
)


def make_customer(customer_id: str = "C1", name: str = "张伟", **card: object) -> Customer:
    """A valid customer registered on :data:`DAY`."""
    return Customer.register(customer_id, name, DAY, **card)


def make_policy(
    policy_id: str = "P1",
    holder: str = "C1",
    *,
    number: str | None = None,
    premium: str = "1234.56",
    **fields: object,
) -> Policy:
    """A valid pending life policy of ours held and insured by ``holder``."""
    return Policy(
        id=policy_id,
        number=number or f"N-{policy_id}",
        policyholder_id=holder,
        insured_id=holder,
        product_line=ProductLine.LIFE,
        start_date=DAY,
        term_years=20,
        sum_assured=Money("500000.00"),
        annual_premium=Money(premium),
        **fields,  # type: ignore[arg-type]
    )


#: The ID number of the stored customer the batch faults below collide with.
_TAKEN_ID_NUMBER = ResidentId("11010519491231002X")


@attrs.frozen
class _Fault:
    """One fault that adding a batch must refuse: the item at fault made from a valid one
    (of a batch of customers, or else of policies), and the error naming it."""

    in_customers: bool
    make: Callable[[Any], Any]
    error: Callable[[Any], Duplicate | NotFound]


#: Against the stored customer C0 (holding :data:`_TAKEN_ID_NUMBER`), household H1 and
#: policy P0 numbered N-P0.
_BATCH_FAULTS: dict[str, _Fault] = {
    "customer id taken": _Fault(
        True,
        lambda c: attrs.evolve(c, id="C0", referred_by=None),
        lambda _: Duplicate("customer", "C0"),
    ),
    "ID number taken": _Fault(
        True,
        lambda c: make_customer(c.id, id_number=_TAKEN_ID_NUMBER),
        lambda _: id_number_taken(_TAKEN_ID_NUMBER.value),
    ),
    "household missing": _Fault(
        True, lambda c: attrs.evolve(c, household_id="H9"), lambda _: NotFound("household", "H9")
    ),
    "referrer missing": _Fault(
        True, lambda c: attrs.evolve(c, referred_by="Z9"), lambda _: NotFound("customer", "Z9")
    ),
    "referrer later in the batch (or missing, for the last)": _Fault(
        True,
        lambda c: attrs.evolve(c, referred_by=f"C{int(c.id[1:]) + 1}"),
        lambda c: NotFound("customer", c.referred_by),
    ),
    "policy id taken": _Fault(
        False,
        lambda p: make_policy("P0", p.policyholder_id, number="N-new"),
        lambda _: Duplicate("policy", "P0"),
    ),
    "policy number taken": _Fault(
        False,
        lambda p: make_policy(p.id, p.policyholder_id, number="N-P0"),
        lambda _: Duplicate("policy number", "N-P0"),
    ),
    "policyholder missing": _Fault(
        False, lambda p: make_policy(p.id, "Z9"), lambda _: NotFound("customer", "Z9")
    ),
    "beneficiary missing": _Fault(
        False,
        lambda p: attrs.evolve(p, beneficiaries=(Beneficiary(Decimal(100), customer_id="Z9"),)),
        lambda _: NotFound("customer", "Z9"),
    ),
}


#: Figures that reach SILVER on the default ladder (and no higher).
SILVER_FIGURES = TierFigures(
    annual_premium=Decimal("12000.00"),
    tenure_years=1,
    first_purchase=dt.date(2023, 1, 1),
    credit_grade=CreditGrade.B,
)
#: Figures that reach GOLD on the default ladder (and no higher).
GOLD_FIGURES = TierFigures(
    annual_premium=Decimal("35000.00"),
    policies_in_force=2,
    tenure_years=3,
    first_purchase=dt.date(2020, 1, 1),
    credit_grade=CreditGrade.B,
)
#: A staff member's reason for a grant, with the text a careless store mangles.
GRANT_REASON = "客户张伟续保 3 张保单（VIP）'; DROP TABLE tier_memberships; -- 👨‍👩‍👧‍👦\t✓"
#: Grant reasons that must come back byte for byte (a reason has at most 500 characters).
GRANT_REASONS = (*(t for t in TRICKY_TEXTS if len(t) <= 500), "长" * 500)


def enrolled(customer_id: str = "C1", on: dt.date = DAY) -> TierMembership:
    """A new membership (version 0) at STANDARD from ``on``, with its TierEnrolled event."""
    return evaluate_tier(DEFAULT_LADDER, customer_id, TierFigures(), on).membership


def make_membership(customer_id: str = "C1", reason: str = GRANT_REASON) -> TierMembership:
    """A new membership (version 0) with every kind of history entry, a failing clock, a
    held review and a FLOOR grant for ``reason``.

    Enrolled at STANDARD on 2024-03-01, up to SILVER on 2024-03-31, a GOLD floor granted on
    2024-04-30 (moves up; expired on 2025-04-05), failing from 2024-05-30, down to SILVER
    on 2025-05-05 at the review of 2025-04-30, failing again from 2025-06-01, and a SILVER
    floor granted on 2025-06-15 until 2026-06-15.
    """
    ladder = DEFAULT_LADDER
    none = TierFigures()
    m = enrolled(customer_id, dt.date(2024, 3, 1))
    m = evaluate_tier(ladder, customer_id, SILVER_FIGURES, dt.date(2024, 3, 31), m).membership
    floor = TierGrant(
        "GOLD", GrantKind.FLOOR, "一年保底", dt.date(2024, 4, 30), dt.date(2025, 4, 5)
    )
    m = grant_tier(ladder, m, floor)
    m = evaluate_tier(ladder, customer_id, none, dt.date(2024, 5, 30), m).membership
    m = evaluate_tier(ladder, customer_id, none, dt.date(2025, 5, 5), m).membership
    m = evaluate_tier(ladder, customer_id, SILVER_FIGURES, dt.date(2025, 5, 20), m).membership
    m = evaluate_tier(ladder, customer_id, none, dt.date(2025, 6, 1), m).membership
    grant = TierGrant("SILVER", GrantKind.FLOOR, reason, dt.date(2025, 6, 15), dt.date(2026, 6, 15))
    return grant_tier(ladder, m, grant)


def plain_membership(customer_id: str, tier: str) -> TierMembership:
    """A new membership (version 0) at ``tier`` since :data:`DAY`, without events."""
    change = TierChange(DAY, TierChangeKind.ENROLLED, None, tier, (f"{customer_id} 入会",))
    return TierMembership(customer_id, tier, DAY, history=(change,))


#: Personal free text in a customer-service record (a note, a memo, a comment): it must come
#: back byte for byte, and be gone once the record is erased.
PERSONAL_TEXT = "张伟说：保单'; DROP TABLE complaints; -- 太贵了 👨‍👩‍👧‍👦\t✓\n%_"


def _id(item: Customer | Policy) -> str:
    return item.id


def days(n: int) -> dt.date:
    """The day ``n`` days after :data:`DAY`."""
    return DAY + dt.timedelta(days=n)


def make_churn(record_id: str, customer_id: str, on: dt.date) -> ChurnRecord:
    """A new churn record (version 0, no events), analysed, with personal notes."""
    return ChurnRecord(
        record_id,
        customer_id,
        on,
        ChurnStructure.PULLED_AWAY,
        (ChurnCause.PRICE, ChurnCause.COMPETITION),
        PERSONAL_TEXT,
        automatic=True,
        policy_id="P1",
    )


def make_complaint(record_id: str, customer_id: str, on: dt.date) -> Complaint:
    """A new complaint (version 0, no events) received on ``on``, vented, with personal text."""
    return Complaint(
        record_id,
        customer_id,
        on,
        on + dt.timedelta(days=7),
        ComplaintCategory.CLAIMS,
        PERSONAL_TEXT,
        "CSR-1",
        steps=(StepRecord(ComplaintStep.VENT, on, note=PERSONAL_TEXT),),
    )


def make_interaction(record_id: str, customer_id: str, on: dt.date) -> Interaction:
    """A new outbound care call (version 0) with a personal memo and a signal."""
    return Interaction(
        record_id,
        customer_id,
        on,
        Channel.PHONE,
        Direction.OUTBOUND,
        Purpose.CARE,
        PERSONAL_TEXT,
        "CSR-1",
        (ObservedSignal.PRAISES_COMPETITOR,),
    )


def make_response(
    record_id: str, customer_id: str, on: dt.date, survey_id: str = "SV-2024"
) -> SurveyResponse:
    """A new survey response (version 0) with every field set and a personal comment."""
    return SurveyResponse(
        record_id,
        survey_id,
        customer_id,
        RespondentRole.POLICYHOLDER,
        SurveyChannel.PHONE,
        on,
        {Dimension.SERVICE: Answer.SATISFIED, Dimension.PRODUCT_PRICE: Answer.NOT_VERY_SATISFIED},
        expectation=Answer.VERY_SATISFIED,
        praises_us=True,
        named_us=False,
        comment=PERSONAL_TEXT,
    )


class _BeforeCommit:
    """A unit of work that runs ``meanwhile`` when asked to commit, just before it does:
    another writer's work while this one holds what it read and wrote."""

    def __init__(self, uow: UnitOfWork, meanwhile: Callable[[], None]) -> None:
        self._uow = uow
        self._meanwhile = meanwhile

    def __enter__(self) -> _BeforeCommit:
        self._uow.__enter__()
        return self

    def __exit__(self, *exc: Any) -> None:
        self._uow.__exit__(*exc)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._uow, name)

    def commit(self) -> None:
        self._meanwhile()
        self._uow.commit()


def _import_a_churn(uow: UnitOfWork) -> None:
    """Import one churn record of C1 (churned on day 20), as ``insurcrm import`` does."""
    kind = RECORDS["churn records"]
    record = attrs.evolve(ChurnRecord.record("C1", days(20), automatic=True), events=())
    _, _, rejects = store_records(uow, kind, [(2, record)])
    if rejects:
        raise RuleViolation(rejects[0].reason)


#: Ways a second writer records a churn of C1 on day 20, by name.
SECOND_CHURN_WRITERS: dict[str, Callable[[UnitOfWork], object]] = {
    "record_churn": lambda uow: record_churn(uow, "C1", days(20)),
    "end_policy": lambda uow: end_policy(uow, "P1", PolicyStatus.LAPSED, days(20)),
    "detect_churn": lambda uow: detect_churn(uow, days(30)),
    "import": _import_a_churn,
}


@attrs.frozen
class RecordKind:
    """One kind of customer-service record, for the tests shared by the four of them.

    Attributes:
        attribute: the unit of work's repository (``"churns"`` …).
        make: builds a new record from an id, a customer id and its day.
        change: a changed copy of a stored record (as a service would save).
        personal: the record's personal free text (None once erased).
    """

    attribute: str
    make: Callable[[str, str, dt.date], Any]
    change: Callable[[Any], Any]
    personal: Callable[[Any], object]

    def repository(self, uow: UnitOfWork) -> RecordRepository[Any]:
        """The unit of work's repository of this kind."""
        return cast(RecordRepository[Any], getattr(uow, self.attribute))


#: The four kinds of customer-service record.
RECORD_KINDS = (
    RecordKind(
        "churns",
        make_churn,
        lambda r: r.analysed(ChurnStructure.BOUGHT_OFF, [ChurnCause.PRICE], "重新分析"),
        lambda r: r.notes,
    ),
    RecordKind(
        "complaints",
        make_complaint,
        lambda c: c.complete(ComplaintStep.UNDERSTAND, c.last_day, "表示理解"),
        lambda c: (c.text, [(s.note, s.skip_reason) for s in c.steps]),
    ),
    RecordKind(
        "interactions",
        make_interaction,
        lambda i: attrs.evolve(i, memo="改期回访", signals=()),
        lambda i: i.memo,
    ),
    RecordKind(
        "surveys",
        make_response,
        lambda r: attrs.evolve(r, comment=None, named_us=True),
        lambda r: r.comment,
    ),
)

_each_kind = pytest.mark.parametrize("kind", RECORD_KINDS, ids=[k.attribute for k in RECORD_KINDS])


def _texts(data: object) -> list[str]:
    """Every text in plain data (an aggregate's stored form), keys included."""
    if isinstance(data, str):
        return [data]
    if isinstance(data, dict):
        return [t for k, v in data.items() for t in (*_texts(k), *_texts(v))]
    if isinstance(data, list | tuple):
        return [t for item in data for t in _texts(item)]
    return []


def _save_record_and_commit(uow: UnitOfWork, kind: RecordKind, record: Any) -> None:
    kind.repository(uow).save(record)
    uow.commit()


class _Recorder:
    """A handler that keeps what it was given."""

    def __init__(self) -> None:
        self.seen: list[OutboxEvent] = []

    def __call__(self, stored: OutboxEvent) -> None:
        self.seen.append(stored)

    @property
    def events(self) -> list[DomainEvent]:
        return [s.event for s in self.seen]


def _fail(stored: OutboxEvent) -> None:
    raise RuntimeError("the mail server is down")


#: The properties run once per adapter subclass; Hypothesis must not treat that as flaky.
_SHARED = settings(suppress_health_check=[HealthCheck.differing_executors])


def _save_and_commit(uow: UnitOfWork, customer: Customer) -> None:
    uow.customers.save(customer)
    uow.commit()


def _save_membership_and_commit(uow: UnitOfWork, membership: TierMembership) -> None:
    uow.tiers.save(membership)
    uow.commit()


def _add_and_commit(uow: UnitOfWork, new: Customer) -> None:
    uow.customers.add(new)
    uow.commit()


def _add_save_and_commit(uow: UnitOfWork, new: Customer, changed: Customer) -> None:
    uow.customers.add(new)
    uow.customers.save(changed)
    uow.commit()


class StoreContract:
    """Behaviour every store (unit-of-work factory) must show. Subclass and implement
    :meth:`empty_store`."""

    def empty_store(self) -> UnitOfWorkFactory:
        """Return a store holding no data (a new one, or a cleared one)."""
        raise NotImplementedError

    # -- helpers ------------------------------------------------------------------

    def stored(self, store: UnitOfWorkFactory, *customers: Customer) -> list[Customer]:
        """Add ``customers`` and commit; returns the stored copies."""
        with store.unit_of_work() as uow:
            added = [uow.customers.add(c) for c in customers]
            uow.commit()
        return added

    # -- customers: add, get, save ------------------------------------------------

    def test_add_then_get_returns_the_customer_at_version_1(self) -> None:
        store = self.empty_store()
        customer = make_customer(
            gender=Gender.FEMALE,
            id_number=ResidentId("11010519491231002X"),
            mobile=Phone.parse("13812345678"),
            email=Email("zhang.wei@example.com"),
            home_address="北京市朝阳区建国路 88 号",
            family=[FamilyMember("女儿", PersonName("张小"), dt.date(2010, 5, 1))],
            holdings=[Holding("平安人寿", ProductLine.CRITICAL_ILLNESS, sum_assured=Money("1.10"))],
            life=LifeSituation(hobbies="钓鱼", health="良好"),
            lead_source=LeadSource.CUSTOMER_REFERRAL,
            is_internal=True,
        )
        (added,) = self.stored(store, customer)
        assert added == attrs.evolve(customer, version=1)
        with store.unit_of_work() as uow:
            assert uow.customers.get("C1") == added
            assert uow.customers.count() == 1

    def test_erased_among_tells_the_stored_customers_and_the_erased(self) -> None:
        store = self.empty_store()
        self.stored(store, *(make_customer(f"C{i}") for i in (3, 1, 2)))
        with store.unit_of_work() as uow:
            uow.customers.save(uow.customers.get("C2").erase(DAY))
            assert uow.customers.erased_among(["C2", "C9", "C1", "C2"]) == {
                "C1": False,
                "C2": True,
            }  # its own write seen
            uow.commit()
        with store.unit_of_work() as uow:
            assert uow.customers.erased_among(["C3", "C2"]) == {"C2": True, "C3": False}
            assert uow.customers.erased_among([]) == {}
            assert uow.customers.stored_among(["C3", "C9", "C2", "C3"]) == {"C2", "C3"}
            assert uow.customers.stored_among([]) == set()
            stored = uow.customers.get_many(["C3", "C9", "C1", "C3"])
            assert stored == [uow.customers.get("C1"), uow.customers.get("C3")]
            assert uow.customers.get_many([]) == []

    @staticmethod
    def _store_checked(store: UnitOfWorkFactory, meanwhile: Callable[[], None]) -> None:
        """Store I1, a contact of C1 with its memo, as an import does: check with
        ``erased_among`` that C1 is not erased, run ``meanwhile``, then write the record
        (without the memo if C1 was erased) and commit. A ``ConcurrencyError`` is tried
        again once, as the import's retry does; a second one leaves the record unstored,
        which is one of the outcomes the contract allows."""
        for attempt in (1, 2):
            try:
                with store.unit_of_work() as uow:
                    erased = uow.customers.erased_among(["C1"])["C1"]
                    if attempt == 1:
                        meanwhile()
                    record = make_interaction("I1", "C1", DAY)
                    uow.interactions.add(record.erase() if erased else record)
                    uow.commit()
                return
            except ConcurrencyError:
                pass

    def _assert_no_text_stays(self, store: UnitOfWorkFactory) -> None:
        with store.unit_of_work() as uow:
            assert uow.customers.get("C1").is_erased
            assert [r.memo for r in uow.interactions.of_customer("C1")] in ([], [None])

    def test_an_erasure_meanwhile_leaves_no_text_of_the_erased_customer(self) -> None:
        """A writer checks with ``erased_among`` that a customer is not erased, then stores
        a record of theirs with its text, while another erases the customer and commits.
        Whichever way the store orders them — the erasure waits and then erases the new
        record, or the writer's write or commit raises ``ConcurrencyError`` and a try
        again sees the erasure — no text of the erased customer stays stored."""
        store = self.empty_store()
        self.stored(store, make_customer())
        eraser = threading.Thread(target=erase_customer, args=(store.unit_of_work(), "C1", DAY))

        def erase_meanwhile() -> None:
            eraser.start()
            eraser.join(timeout=1)  # time to slip in, where the store lets it

        self._store_checked(store, erase_meanwhile)
        eraser.join()
        self._assert_no_text_stays(store)

    def test_a_record_stored_while_an_erasure_is_open_is_erased_too(self) -> None:
        """The other order: an erasure has read the customer's records and not yet
        committed when a writer checks the customer and stores a record with its text.
        Either the writer waits for the erasure and sees it, or one of the two is refused
        with ``ConcurrencyError`` and done again; no text of the erased customer stays."""
        store = self.empty_store()
        self.stored(store, make_customer())
        writer = threading.Thread(target=self._store_checked, args=(store, lambda: None))
        try:
            with store.unit_of_work() as uow:
                erase_in(uow, "C1", DAY)
                writer.start()
                writer.join(timeout=1)  # time to slip in, where the store lets it
                uow.commit()
        except ConcurrencyError:
            writer.join()
            erase_customer(store.unit_of_work(), "C1", DAY)  # as its caller would
        writer.join()
        self._assert_no_text_stays(store)

    def test_telling_stored_customers_apart_holds_nothing(self) -> None:
        """``stored_among`` is a plain read: another writer may save a customer it read
        (without waiting), and the reading unit of work still commits."""
        store = self.empty_store()
        self.stored(store, make_customer())
        with store.unit_of_work() as uow:
            assert uow.customers.stored_among(["C1"]) == {"C1"}
            with store.unit_of_work() as other:
                other.customers.save(other.customers.get("C1").updated(DAY, is_internal=True))
                other.commit()
            uow.commit()
        with store.unit_of_work() as uow:
            assert uow.customers.get("C1").version == 2

    def test_get_unknown_customer_raises_not_found(self) -> None:
        with self.empty_store().unit_of_work() as uow, pytest.raises(NotFound):
            uow.customers.get("nobody")

    def test_adding_a_taken_id_raises_duplicate(self) -> None:
        store = self.empty_store()
        self.stored(store, make_customer())
        with store.unit_of_work() as uow, pytest.raises(Duplicate):
            uow.customers.add(make_customer(name="李娜"))

    def test_adding_a_stored_copy_again_is_refused(self) -> None:
        store = self.empty_store()
        (added,) = self.stored(store, make_customer())
        with store.unit_of_work() as uow, pytest.raises((Duplicate, ConcurrencyError)):
            uow.customers.add(added)

    def test_save_bumps_the_version_and_stores_the_change(self) -> None:
        store = self.empty_store()
        (added,) = self.stored(store, make_customer())
        with store.unit_of_work() as uow:
            saved = uow.customers.save(added.updated(DAY, is_internal=True))
            uow.commit()
        assert saved.version == 2
        with store.unit_of_work() as uow:
            assert uow.customers.get("C1") == saved

    def test_saving_a_stale_copy_raises_and_keeps_the_stored_row(self) -> None:
        store = self.empty_store()
        (added,) = self.stored(store, make_customer())
        with store.unit_of_work() as uow:
            fresh = uow.customers.save(added.updated(DAY, csr_id="CSR-1"))
            uow.commit()
        with store.unit_of_work() as uow:
            with pytest.raises(ConcurrencyError):
                uow.customers.save(added.updated(DAY, csr_id="CSR-2"))
            uow.commit()
        with store.unit_of_work() as uow:
            assert uow.customers.get("C1") == fresh

    def test_two_writers_on_the_same_customer_never_lose_an_update(self) -> None:
        store = self.empty_store()
        self.stored(store, make_customer())
        first, second = store.unit_of_work(), store.unit_of_work()
        with first, second:
            mine = first.customers.get("C1")
            theirs = second.customers.get("C1")
            first.customers.save(mine.updated(DAY, csr_id="CSR-1"))
            first.commit()
            with pytest.raises(ConcurrencyError):
                _save_and_commit(second, theirs.updated(DAY, csr_id="CSR-2"))
        with store.unit_of_work() as uow:
            assert uow.customers.get("C1").csr_id == "CSR-1"
            assert uow.customers.get("C1").version == 2

    def test_saving_an_unknown_customer_raises_not_found(self) -> None:
        store = self.empty_store()
        with store.unit_of_work() as uow, pytest.raises(NotFound):
            uow.customers.save(attrs.evolve(make_customer(), version=1))

    def test_unknown_household_or_referrer_is_refused(self) -> None:
        store = self.empty_store()
        with store.unit_of_work() as uow:
            with pytest.raises(NotFound):
                uow.customers.add(make_customer(household_id="H-none"))
            with pytest.raises(NotFound):
                uow.customers.add(make_customer(referred_by="C-none"))

    # -- transactions ---------------------------------------------------------------

    def test_an_exception_rolls_back_everything_in_the_unit_of_work(self) -> None:
        store = self.empty_store()

        def fail_half_way() -> None:
            with store.unit_of_work() as uow:
                uow.households.add(Household("H1"))
                uow.customers.add(make_customer(household_id="H1"))
                uow.policies.add(make_policy().activate(DAY))
                raise RuntimeError("boom")

        with pytest.raises(RuntimeError):
            fail_half_way()
        with store.unit_of_work() as uow:
            assert uow.customers.count() == 0
            assert uow.policies.count() == 0
            with pytest.raises(NotFound):
                uow.households.get("H1")

    def test_leaving_without_commit_stores_nothing(self) -> None:
        store = self.empty_store()
        with store.unit_of_work() as uow:
            uow.customers.add(make_customer())
        with store.unit_of_work() as uow:
            assert uow.customers.count() == 0

    def test_rollback_undoes_only_what_came_after_the_last_commit(self) -> None:
        store = self.empty_store()
        with store.unit_of_work() as uow:
            uow.customers.add(make_customer("C1"))
            uow.commit()
            uow.customers.add(make_customer("C2"))
            uow.rollback()
            assert [c.id for c in uow.customers.iterate()] == ["C1"]
            uow.customers.add(make_customer("C3"))
            uow.commit()
        with store.unit_of_work() as uow:
            assert [c.id for c in uow.customers.iterate()] == ["C1", "C3"]

    def test_a_unit_of_work_sees_its_own_uncommitted_writes(self) -> None:
        store = self.empty_store()
        with store.unit_of_work() as uow:
            added = uow.customers.add(make_customer())
            assert uow.customers.get("C1") == added
            assert uow.customers.count() == 1

    def test_repositories_refuse_use_outside_a_with_block(self) -> None:
        uow: UnitOfWork = self.empty_store().unit_of_work()
        with pytest.raises(StorageError):
            uow.customers.get("C1")

    def test_a_unit_of_work_can_be_entered_again(self) -> None:
        store = self.empty_store()
        uow = store.unit_of_work()
        with uow:
            uow.customers.add(make_customer("C1"))
            uow.commit()
        with uow:
            uow.customers.add(make_customer("C2"))
            uow.commit()
        with uow:
            assert uow.customers.count() == 2

    # -- lookups ------------------------------------------------------------------------

    def test_lookups_by_personal_data(self) -> None:
        store = self.empty_store()
        phone = Phone.parse("13912345678")
        rid = ResidentId("11010519491231002X")
        email = Email("li.na@example.com")
        self.stored(
            store,
            make_customer("C1", "李娜", mobile=phone, id_number=rid, email=email),
            make_customer("C2", "李娜", home_phone=Phone.parse("01065529988")),
            make_customer("C3", "王芳", work_phone=phone),
        )
        with store.unit_of_work() as uow:
            assert [c.id for c in uow.customers.find_by_phone(phone)] == ["C1", "C3"]
            assert [c.id for c in uow.customers.find_by_id_number(rid)] == ["C1"]
            assert [c.id for c in uow.customers.find_by_email(email)] == ["C1"]
            assert [c.id for c in uow.customers.find_by_name("李娜")] == ["C1", "C2"]
            assert uow.customers.find_by_name("李") == []

    def test_an_erased_customer_is_not_found_by_personal_data(self) -> None:
        store = self.empty_store()
        phone = Phone.parse("13912345678")
        (added,) = self.stored(store, make_customer("C1", "李娜", mobile=phone))
        with store.unit_of_work() as uow:
            erased = uow.customers.save(added.erase(DAY))
            uow.commit()
        with store.unit_of_work() as uow:
            assert uow.customers.find_by_phone(phone) == []
            assert uow.customers.find_by_name("李娜") == []
            assert uow.customers.get("C1") == erased
            assert uow.customers.count() == 1

    # -- one customer a person ---------------------------------------------------------

    def test_a_resident_id_number_is_held_by_one_customer(self) -> None:
        store = self.empty_store()
        rid = ResidentId("11010519491231002X")
        (first, plain) = self.stored(
            store, make_customer("C1", id_number=rid), make_customer("C2", "李娜")
        )
        with store.unit_of_work() as uow, pytest.raises(Duplicate) as taken:
            uow.customers.add(make_customer("C3", "王芳", id_number=rid))
        assert taken.value.kind == "resident ID number"
        assert "110105********002X" in str(taken.value)
        assert rid.value not in str(taken.value)  # masked (§10.4)
        with store.unit_of_work() as uow, pytest.raises(Duplicate):
            uow.customers.add_many([make_customer("C4"), make_customer("C5", id_number=rid)])
        twins = [make_customer(f"C{i}", id_number=ResidentId("110101199003074477")) for i in (6, 7)]
        with store.unit_of_work() as uow, pytest.raises(Duplicate):
            uow.customers.add_many(twins)  # the same number twice in one batch
        assert plain.profile is not None
        taking = attrs.evolve(plain, profile=attrs.evolve(plain.profile, id_number=rid))
        with store.unit_of_work() as uow, pytest.raises(Duplicate):
            uow.customers.save(taking)
        with store.unit_of_work() as uow:  # the holder keeps it through a save
            uow.customers.save(attrs.evolve(first, agent_id="AG1"))
            uow.commit()
        with store.unit_of_work() as uow:
            assert [c.id for c in uow.customers.iterate()] == ["C1", "C2"]  # nothing else

    def test_an_erased_customer_frees_their_id_number(self) -> None:
        store = self.empty_store()
        rid = ResidentId("11010519491231002X")
        (added,) = self.stored(store, make_customer("C1", id_number=rid))
        with store.unit_of_work() as uow:
            uow.customers.save(added.erase(DAY))
            uow.commit()
        self.stored(store, make_customer("C2", id_number=rid))  # the person back, anew
        with store.unit_of_work() as uow:
            assert [c.id for c in uow.customers.find_by_id_number(rid)] == ["C2"]

    def test_a_number_given_up_can_be_taken_in_the_same_unit_of_work(self) -> None:
        store = self.empty_store()
        rid = ResidentId("11010519491231002X")
        typo = ResidentId("110101199003074477")
        (gone, mistyped) = self.stored(
            store, make_customer("C1", id_number=rid), make_customer("C2", id_number=typo)
        )
        assert mistyped.profile is not None
        cleared = attrs.evolve(mistyped, profile=attrs.evolve(mistyped.profile, id_number=None))
        with store.unit_of_work() as uow:
            uow.customers.save(gone.erase(DAY))
            uow.customers.add(make_customer("C3", id_number=rid))  # erased: the number is free
            uow.customers.save(cleared)
            uow.customers.add(make_customer("C4", id_number=typo))  # given up: free
            uow.commit()
        with store.unit_of_work() as uow:
            assert [c.id for c in uow.customers.find_by_id_number(rid)] == ["C3"]
            assert [c.id for c in uow.customers.find_by_id_number(typo)] == ["C4"]

    def test_two_units_of_work_cannot_both_store_one_id_number(self) -> None:
        store = self.empty_store()
        self.stored(store, make_customer("C0"))
        rid = ResidentId("11010519491231002X")
        first, second = store.unit_of_work(), store.unit_of_work()
        with first, second:
            first.customers.get("C0")
            second.customers.get("C0")  # both read before either writes
            first.customers.add(make_customer("C1", id_number=rid))
            first.commit()
            with pytest.raises((Duplicate, ConcurrencyError)):  # on add or on commit
                _add_and_commit(second, make_customer("C2", id_number=rid))
        with store.unit_of_work() as uow:
            assert [c.id for c in uow.customers.find_by_id_number(rid)] == ["C1"]

    def test_households_and_members(self) -> None:
        store = self.empty_store()
        with store.unit_of_work() as uow:
            household = uow.households.add(Household("H1", "张家"))
            uow.customers.add(make_customer("C1", household_id="H1"))
            uow.customers.add(make_customer("C2", household_id="H1"))
            uow.customers.add(make_customer("C3"))
            renamed = uow.households.save(attrs.evolve(household, label="张府"))
            uow.commit()
        with store.unit_of_work() as uow:
            assert uow.households.get("H1") == renamed
            assert renamed.version == 2
            assert [c.id for c in uow.customers.in_household("H1")] == ["C1", "C2"]
            with pytest.raises(ConcurrencyError):
                uow.households.save(household)
            with pytest.raises(Duplicate):
                uow.households.add(Household("H1"))

    def test_referrals_of_a_customer(self) -> None:
        store = self.empty_store()
        self.stored(store, make_customer("C1"))
        self.stored(
            store,
            make_customer("C3", referred_by="C1"),
            make_customer("C2", referred_by="C1"),
            make_customer("C4", referred_by="C3"),
        )
        with store.unit_of_work() as uow:
            assert [c.id for c in uow.customers.referrals_of("C1")] == ["C2", "C3"]
            assert [c.id for c in uow.customers.referrals_of("C4")] == []

    def test_iterate_streams_every_customer_in_id_order(self) -> None:
        store = self.empty_store()
        ids = [f"C{i:04d}" for i in range(1203)]
        with store.unit_of_work() as uow:
            for i in reversed(ids):
                uow.customers.add(make_customer(i))
            uow.commit()
        with store.unit_of_work() as uow:
            assert [c.id for c in uow.customers.iterate()] == ids
            assert uow.customers.count() == len(ids)

    # -- policies -----------------------------------------------------------------------

    def test_policy_round_trip_with_history_purchases_and_beneficiaries(self) -> None:
        store = self.empty_store()
        self.stored(store, make_customer("C1"), make_customer("C2", "李娜"))
        policy = (
            make_policy(
                beneficiaries=[
                    Beneficiary(Decimal("33.33"), customer_id="C2", relation="配偶"),
                    Beneficiary(Decimal("66.67"), name=PersonName("张小"), relation="女儿"),
                ],
                campaign="2024 春季",
            )
            .activate(DAY)
            .renew(dt.date(2025, 3, 1), Money("1300.00"))
            .record_missed_premium(dt.date(2026, 3, 1))
            .lapse(dt.date(2026, 5, 1))
            .reinstate(dt.date(2026, 6, 1))
        )
        with store.unit_of_work() as uow:
            added = uow.policies.add(policy)
            uow.commit()
        assert added == attrs.evolve(policy, version=1)
        with store.unit_of_work() as uow:
            assert uow.policies.get("P1") == added
            assert uow.policies.get_by_number("N-P1") == added
            assert uow.policies.of_customer("C1") == [added]
            assert uow.policies.naming_beneficiary("C2") == [added]
            assert uow.policies.of_customer("C2") == []

    def test_policy_save_and_stale_save(self) -> None:
        store = self.empty_store()
        self.stored(store, make_customer())
        with store.unit_of_work() as uow:
            added = uow.policies.add(make_policy().activate(DAY))
            uow.commit()
        with store.unit_of_work() as uow:
            lapsed = uow.policies.save(added.lapse(dt.date(2025, 1, 1)))
            uow.commit()
        with store.unit_of_work() as uow:
            assert uow.policies.get("P1") == lapsed
            with pytest.raises(ConcurrencyError):
                uow.policies.save(added.surrender(dt.date(2025, 1, 1)))
            uow.commit()
        with store.unit_of_work() as uow:
            assert uow.policies.get("P1") == lapsed

    def test_a_policy_needs_stored_parties_and_unique_numbers(self) -> None:
        store = self.empty_store()
        self.stored(store, make_customer())
        with store.unit_of_work() as uow:
            with pytest.raises(NotFound):
                uow.policies.add(make_policy(holder="C-none"))
            with pytest.raises(NotFound):
                uow.policies.add(
                    make_policy(beneficiaries=[Beneficiary(Decimal(100), customer_id="C-x")])
                )
            uow.policies.add(make_policy("P1", number="N-1"))
            with pytest.raises(Duplicate):
                uow.policies.add(make_policy("P1", number="N-2"))
            with pytest.raises(Duplicate):
                uow.policies.add(make_policy("P2", number="N-1"))
            with pytest.raises(NotFound):
                uow.policies.get_by_number("N-9")
            with pytest.raises(NotFound):
                uow.policies.get("P9")

    def test_money_is_exact_in_storage(self) -> None:
        store = self.empty_store()
        self.stored(store, make_customer())
        amounts = ["0.10", "0.20", "0.30", "9999999999.99", "0.01", "1234567.89"]
        with store.unit_of_work() as uow:
            for i, amount in enumerate(amounts):
                uow.policies.add(make_policy(f"P{i}", premium=amount))
            uow.commit()
        with store.unit_of_work() as uow:
            stored = [p.annual_premium.amount for p in uow.policies.iterate()]
        assert stored == [Decimal(a) for a in amounts]
        assert sum(stored) == sum(Decimal(a) for a in amounts)

    def test_policies_iterate_in_id_order_across_batches(self) -> None:
        store = self.empty_store()
        self.stored(store, make_customer())
        ids = [f"P{i:04d}" for i in range(1010)]
        with store.unit_of_work() as uow:
            for i in ids:
                uow.policies.add(make_policy(i).activate(DAY))
            uow.commit()
        with store.unit_of_work() as uow:
            assert [p.id for p in uow.policies.iterate()] == ids
            assert uow.policies.count() == len(ids)

    def test_policies_iterate_by_holder_across_batches(self) -> None:
        store = self.empty_store()
        holders = [f"C{i:04d}" for i in range(523)]  # more than one SQL batch (500)
        with store.unit_of_work() as uow:
            uow.customers.add_many(make_customer(h) for h in holders)
            policies = [
                make_policy(
                    f"P{i:04d}", holders[i * 7 % 523], insurer="其他保险" if i % 5 else None
                )
                for i in range(1200)
            ]
            uow.policies.add_many(policies)
            uow.commit()
        expected: dict[str, list[str]] = {}
        for policy in policies:  # in id order
            expected.setdefault(policy.policyholder_id, []).append(policy.id)
        with store.unit_of_work() as uow:
            read = [(h, [p.id for p in held]) for h, held in uow.policies.iterate_by_holder()]
            assert read == sorted(expected.items())
            assert all(
                p.policyholder_id == h for h, held in uow.policies.iterate_by_holder() for p in held
            )

    def test_cancelled_policy_reason_survives(self) -> None:
        store = self.empty_store()
        self.stored(store, make_customer())
        policy = make_policy().activate(DAY).cancel(dt.date(2024, 9, 1), EndReason.FRAUD)
        with store.unit_of_work() as uow:
            uow.policies.add(policy)
            uow.commit()
        with store.unit_of_work() as uow:
            assert uow.policies.get("P1").history[-1].reason is EndReason.FRAUD

    # -- exact text -----------------------------------------------------------------------

    @pytest.mark.parametrize("text", TRICKY_TEXTS)
    def test_typed_text_comes_back_byte_for_byte(self, text: str) -> None:
        store = self.empty_store()
        customer = make_customer(
            "C1",
            text,
            home_address=text,
            family=[FamilyMember(text, PersonName(text))],
            life=LifeSituation(hobbies=text),
        )
        (added,) = self.stored(store, customer)
        with store.unit_of_work() as uow:
            back = uow.customers.get("C1")
            assert back == added
            assert back.profile is not None
            assert back.profile.name.value.encode() == text.encode()
            assert [c.id for c in uow.customers.find_by_name(text)] == ["C1"]

    # -- properties -------------------------------------------------------------------------

    @_SHARED
    @given(customer=gen.customers())
    def test_any_valid_customer_round_trips(self, customer: Customer) -> None:
        store = self.empty_store()
        (added,) = self.stored(store, customer)
        with store.unit_of_work() as uow:
            assert uow.customers.get(customer.id) == added == attrs.evolve(customer, version=1)

    @_SHARED
    @given(data=st.data())
    def test_any_valid_policy_round_trips(self, data: st.DataObject) -> None:
        store = self.empty_store()
        first = data.draw(gen.customers(id="C1"))
        other = gen.customers(id="C2").filter(gen.person_not_in([first]))
        holder, insured = self.stored(store, first, data.draw(other))
        policy = data.draw(gen.policies(policyholder_id=holder.id, insured_id=insured.id))
        with store.unit_of_work() as uow:
            added = uow.policies.add(policy)
            uow.commit()
        with store.unit_of_work() as uow:
            assert uow.policies.get(policy.id) == added == attrs.evolve(policy, version=1)

    # -- the bulk path -------------------------------------------------------------------

    @_SHARED
    @given(data=st.data())
    def test_add_many_stores_what_add_stores(self, data: st.DataObject) -> None:
        store = self.empty_store()
        people = data.draw(
            st.lists(
                gen.customers().filter(lambda c: c.id != "R1"),
                min_size=1,
                max_size=4,
                unique_by=(_id, gen.person_key),  # one customer a person
            )
        )
        referred = gen.customers(id="R1", referred_by=people[0].id)
        people.append(data.draw(referred.filter(gen.person_not_in(people))))
        policies = data.draw(
            st.lists(
                st.sampled_from(people).flatmap(
                    lambda c: gen.policies(policyholder_id=c.id, insured_id=people[0].id)
                ),
                max_size=4,
                unique_by=(_id, lambda p: p.number),
            )
        )
        with store.unit_of_work() as uow:
            assert uow.households.add_many([Household("H1")]) == 1
            assert uow.customers.add_many(people) == len(people)
            assert uow.policies.add_many(policies) == len(policies)
            uow.commit()
        with store.unit_of_work() as uow:
            for c in people:
                assert uow.customers.get(c.id) == attrs.evolve(c, version=1, events=())
            for p in policies:
                assert uow.policies.get(p.id) == attrs.evolve(p, version=1, events=())
            assert uow.households.get("H1") == Household("H1", None, 1)
            events = sum(len(c.events) for c in people) + sum(len(p.events) for p in policies)
            assert uow.outbox.count_pending() == events

    def test_a_large_batch_stores_every_event_in_order(self) -> None:
        store = self.empty_store()
        people = [make_customer(f"C{i:05d}") for i in range(1100)]  # the outbox's bulk path
        with store.unit_of_work() as uow:
            uow.customers.add_many(people)
            uow.commit()
        with store.unit_of_work() as uow:
            assert uow.outbox.count_pending() == 1100
            stored = uow.outbox.pending(limit=2000)
        assert [e.event.customer_id for e in stored] == [c.id for c in people]
        assert [type(e.event) for e in stored] == [CustomerRegistered] * 1100
        positions = [e.position for e in stored]
        assert positions == sorted(set(positions))

    def test_add_many_refuses_a_taken_or_repeated_id_and_keeps_nothing(self) -> None:
        store = self.empty_store()
        self.stored(store, make_customer("C1"))
        for batch in (
            [make_customer("C2"), make_customer("C1", "李娜")],
            [make_customer("C3"), make_customer("C3", "李娜")],
        ):
            with store.unit_of_work() as uow, pytest.raises(Duplicate):
                uow.customers.add_many(batch)
        with store.unit_of_work() as uow:
            assert uow.customers.count() == 1
            uow.policies.add_many([make_policy("P1")])
            uow.commit()
        for policies in (
            [make_policy("P2", number="N-P2"), make_policy("P1", number="N-X")],
            [make_policy("P3", number="N-P3"), make_policy("P4", number="N-P1")],
            [make_policy("P5", number="N-5"), make_policy("P6", number="N-5")],
        ):
            with store.unit_of_work() as uow, pytest.raises(Duplicate):
                uow.policies.add_many(policies)
        with store.unit_of_work() as uow:
            assert uow.policies.count() == 1

    def test_add_many_refuses_a_missing_reference_and_keeps_nothing(self) -> None:
        store = self.empty_store()
        later = make_customer("C2", "李娜")
        for batch in (
            [make_customer("C1", household_id="H9")],
            [make_customer("C1", referred_by="C2"), later],  # the referrer comes later
        ):
            with store.unit_of_work() as uow, pytest.raises(NotFound):
                uow.customers.add_many(batch)
        with store.unit_of_work() as uow:
            assert uow.customers.count() == 0
            assert uow.customers.add_many([later, make_customer("C1", referred_by="C2")]) == 2
            with pytest.raises(NotFound):
                uow.policies.add_many([make_policy("P1"), make_policy("P2", holder="C9")])
            uow.commit()
        with store.unit_of_work() as uow:
            assert (uow.customers.count(), uow.policies.count()) == (2, 0)

    @_SHARED
    @given(
        fault=st.sampled_from(sorted(_BATCH_FAULTS)),
        # 120 items: a batch large enough for the SQL stores to write before looking up
        size=st.sampled_from([1, 2, 4, 120]),
        data=st.data(),
    )
    def test_add_many_names_the_one_fault_of_a_batch_and_the_work_goes_on(
        self, fault: str, size: int, data: st.DataObject
    ) -> None:
        # Whether a store looks everything up before writing a batch or lets its keys and
        # references refuse it, the error names the offender and undoes that batch alone.
        store = self.empty_store()
        self.stored(store, make_customer("C0", id_number=_TAKEN_ID_NUMBER))
        with store.unit_of_work() as uow:
            uow.households.add(Household("H1"))
            uow.policies.add(make_policy("P0", "C0"))
            uow.commit()
        people = [
            make_customer(f"C{i}", "李娜", household_id="H1", referred_by="C0")
            for i in range(1, size + 1)
        ]
        policies = [make_policy(f"P{i}", f"C{i}") for i in range(1, size + 1)]
        at = data.draw(st.integers(0, size - 1), label="the offender's place")
        spec = _BATCH_FAULTS[fault]
        valid = people if spec.in_customers else policies
        batch: list[Any] = [spec.make(x) if i == at else x for i, x in enumerate(valid)]
        expected = spec.error(batch[at])
        with store.unit_of_work() as uow:
            if not spec.in_customers:
                assert uow.customers.add_many(people) == size
            add_many = uow.customers.add_many if spec.in_customers else uow.policies.add_many
            with pytest.raises(type(expected)) as caught:
                add_many(batch)
            assert str(caught.value) == str(expected)  # the kind and the key
            # nothing chained to it: a driver's error text holds the batch's personal values
            assert caught.value.__cause__ is None
            assert caught.value.__context__ is None
            if spec.in_customers:
                assert uow.customers.add_many(people) == size
            assert uow.policies.add_many(policies) == size
            uow.commit()
        with store.unit_of_work() as uow:
            assert (uow.customers.count(), uow.policies.count()) == (size + 1, size + 1)

    def test_get_many_reads_the_stored_policies_among_the_ids(self) -> None:
        store = self.empty_store()
        self.stored(store, make_customer())
        with store.unit_of_work() as uow:
            added = [uow.policies.add(make_policy(f"P{i}")) for i in (3, 1, 2)]
            uow.commit()
        with store.unit_of_work() as uow:
            assert uow.policies.get_many(["P2", "P9", "P1", "P2"]) == [added[1], added[2]]
            assert uow.policies.get_many([]) == []
            assert uow.policies.save_many([]) == 0

    def test_holders_among_reads_whose_the_stored_policies_are(self) -> None:
        store = self.empty_store()
        self.stored(store, make_customer("C1"), make_customer("C2"))
        with store.unit_of_work() as uow:
            uow.policies.add(make_policy("P1", "C2"))
            uow.policies.add(make_policy("P2", "C1"))
            assert uow.policies.holders_among(["P1"]) == {"P1": "C2"}  # its own writes
            uow.commit()
        with store.unit_of_work() as uow:
            assert uow.policies.holders_among(["P2", "P9", "P1", "P2"]) == {"P1": "C2", "P2": "C1"}
            assert uow.policies.holders_among([]) == {}

    @_SHARED
    @given(data=st.data())
    def test_save_many_stores_what_save_stores(self, data: st.DataObject) -> None:
        store = self.empty_store()
        self.stored(store, make_customer("C1"), make_customer("C2", "李娜"))
        drawn = data.draw(
            st.lists(
                gen.policies(policyholder_id="C1", insured_id="C2"),
                min_size=1,
                max_size=4,
                unique_by=(_id, lambda p: p.number),
            )
        )
        with store.unit_of_work() as uow:
            uow.policies.add_many(drawn)
            uow.commit()
        day = dt.date(2026, 1, 1)
        with store.unit_of_work() as uow:
            before = uow.outbox.count_pending()
            read = uow.policies.get_many(p.id for p in drawn)
            changed = [
                (p.activate(day) if p.status is PolicyStatus.PENDING else p).record_missed_premium(
                    day
                )
                for p in read
            ]
            assert uow.policies.save_many(changed) == len(changed)
            uow.commit()
        with store.unit_of_work() as uow:
            assert uow.policies.get_many(p.id for p in drawn) == [
                attrs.evolve(p, version=2, events=()) for p in changed
            ]
            events = sum(len(p.events) for p in changed)  # an activation's
            assert uow.outbox.count_pending() == before + events

    def test_save_many_refuses_a_bad_batch_and_keeps_nothing(self) -> None:
        store = self.empty_store()
        self.stored(store, make_customer())
        with store.unit_of_work() as uow:
            p1, p2 = (uow.policies.add(make_policy(f"P{i}").activate(DAY)) for i in (1, 2))
            uow.commit()
        renewed = p1.renew(dt.date(2025, 1, 1))
        refused: list[tuple[type[Exception], list[Policy]]] = [
            (ConcurrencyError, [renewed, attrs.evolve(p2, version=7)]),  # stale
            (ConcurrencyError, [renewed, renewed]),  # twice in one batch
            (NotFound, [renewed, make_policy("P9")]),  # not stored
            (NotFound, [renewed, attrs.evolve(p2, insured_id="C9")]),  # no such party
            (Duplicate, [renewed, attrs.evolve(p2, number="N-P1")]),  # another's number
            # the first policy is at fault too: every backend checks ids and versions, then
            # numbers, then parties, so they all name the same fault
            (
                ConcurrencyError,
                [attrs.evolve(renewed, insured_id="C9"), attrs.evolve(p2, version=7)],
            ),
            (Duplicate, [attrs.evolve(renewed, insured_id="C9"), attrs.evolve(p2, number="N-P1")]),
            (NotFound, [attrs.evolve(p2, number="N-P1"), make_policy("P9")]),
        ]
        for error, batch in refused:
            with store.unit_of_work() as uow:
                with pytest.raises(error):
                    uow.policies.save_many(batch)
                assert uow.policies.get("P1") == p1  # nothing of the batch was written
        with store.unit_of_work() as uow:
            swapped = [attrs.evolve(p1, number="N-X"), attrs.evolve(p2, number="N-X")]
            with pytest.raises(Duplicate):
                uow.policies.save_many(swapped)  # the same new number twice
        with store.unit_of_work() as uow:
            assert uow.policies.get_many(["P1", "P2"]) == [p1, p2]

    def test_two_batch_writers_on_one_policy_never_lose_an_update(self) -> None:
        store = self.empty_store()
        self.stored(store, make_customer())
        with store.unit_of_work() as uow:
            added = uow.policies.add(make_policy().activate(DAY))
            uow.commit()
        with store.unit_of_work() as uow:
            uow.policies.save_many([added.renew(dt.date(2025, 1, 1))])
            uow.commit()
        with store.unit_of_work() as uow, pytest.raises(ConcurrencyError):
            uow.policies.save_many([added.record_missed_premium(dt.date(2025, 1, 1))])
        with store.unit_of_work() as uow:
            stored = uow.policies.get("P1")
        assert (stored.version, len(stored.purchases), stored.missed_premiums) == (2, 2, ())

    # -- tier memberships -------------------------------------------------------------------

    def test_a_tier_membership_round_trips_with_its_history(self) -> None:
        store = self.empty_store()
        self.stored(store, make_customer("C1"))
        membership = make_membership("C1")
        assert [c.kind for c in membership.history] == [
            TierChangeKind.ENROLLED,
            TierChangeKind.UPGRADED,
            TierChangeKind.GRANTED,
            TierChangeKind.UPGRADED,
            TierChangeKind.GRANT_ENDED,
            TierChangeKind.DOWNGRADED,
            TierChangeKind.GRANTED,
        ]
        with store.unit_of_work() as uow:
            added = uow.tiers.add(membership)
            uow.commit()
        assert added == attrs.evolve(membership, version=1)
        assert added.events == ()
        with store.unit_of_work() as uow:
            back = uow.tiers.get("C1")
            assert uow.tiers.find("C1") == back
        assert back == added
        assert (back.tier, back.since, back.failing_since, back.last_review) == (
            "SILVER",
            dt.date(2025, 5, 5),
            dt.date(2025, 6, 1),
            dt.date(2025, 4, 30),
        )
        assert back.grant == TierGrant(
            "SILVER", GrantKind.FLOOR, GRANT_REASON, dt.date(2025, 6, 15), dt.date(2026, 6, 15)
        )
        assert back.history == membership.history
        assert back.events == ()

    @pytest.mark.parametrize("reason", GRANT_REASONS)
    def test_a_grant_reason_comes_back_byte_for_byte(self, reason: str) -> None:
        store = self.empty_store()
        self.stored(store, make_customer("C1"))
        grant = TierGrant("GOLD", GrantKind.PIN, reason, DAY, dt.date(2025, 3, 1))
        membership = grant_tier(DEFAULT_LADDER, enrolled("C1"), grant)
        with store.unit_of_work() as uow:
            added = uow.tiers.add(membership)
            uow.commit()
        with store.unit_of_work() as uow:
            back = uow.tiers.get("C1")
        assert back == added
        assert back.grant is not None
        assert back.grant.reason.encode() == reason.encode()

    def test_a_customer_without_membership_is_not_found(self) -> None:
        store = self.empty_store()
        self.stored(store, make_customer("C1"))
        with store.unit_of_work() as uow:
            assert uow.tiers.find("C1") is None
            assert uow.tiers.find("nobody") is None
            with pytest.raises(NotFound):
                uow.tiers.get("C1")
            with pytest.raises(NotFound):
                uow.tiers.get("nobody")

    def test_a_membership_needs_a_stored_customer(self) -> None:
        store = self.empty_store()
        with store.unit_of_work() as uow:
            with pytest.raises(NotFound):
                uow.tiers.add(make_membership("C-none"))
            uow.commit()
        with store.unit_of_work() as uow:
            assert uow.tiers.find("C-none") is None
            assert uow.tiers.count_by_tier() == {}
            assert uow.outbox.count_pending() == 0

    def test_a_second_membership_for_a_customer_raises_duplicate(self) -> None:
        store = self.empty_store()
        self.stored(store, make_customer("C1"), make_customer("C2"))
        with store.unit_of_work() as uow:
            uow.tiers.add(enrolled("C1"))
            with pytest.raises(Duplicate):  # seen in the same unit of work
                uow.tiers.add(make_membership("C1"))
            uow.commit()
        with store.unit_of_work() as uow:
            with pytest.raises(Duplicate):
                uow.tiers.add(make_membership("C1"))
            with pytest.raises((Duplicate, ConcurrencyError)):
                uow.tiers.add(uow.tiers.get("C1"))
        with store.unit_of_work() as uow:
            assert uow.tiers.get("C1") == attrs.evolve(enrolled("C1"), version=1)

    def test_a_membership_save_bumps_the_version_and_appends_history(self) -> None:
        store = self.empty_store()
        self.stored(store, make_customer("C1"))
        with store.unit_of_work() as uow:
            added = uow.tiers.add(enrolled("C1"))
            uow.commit()
        up = evaluate_tier(DEFAULT_LADDER, "C1", GOLD_FIGURES, dt.date(2024, 6, 1), added)
        assert up.change is not None
        with store.unit_of_work() as uow:
            upgraded = uow.tiers.save(up.membership)
            uow.commit()
        assert (upgraded.version, upgraded.events) == (2, ())
        assert upgraded == attrs.evolve(up.membership, version=2)
        grant = TierGrant(
            "PLATINUM", GrantKind.PIN, "董事会决议", dt.date(2024, 7, 1), DAY.replace(2026)
        )
        with store.unit_of_work() as uow:
            pinned = uow.tiers.save(grant_tier(DEFAULT_LADDER, upgraded, grant))
            uow.commit()
        assert pinned.version == 3
        with store.unit_of_work() as uow:
            back = uow.tiers.get("C1")
        assert back == pinned
        assert [(c.kind, c.from_tier, c.to_tier) for c in back.history] == [
            (TierChangeKind.ENROLLED, None, "STANDARD"),
            (TierChangeKind.UPGRADED, "STANDARD", "GOLD"),
            (TierChangeKind.GRANTED, "GOLD", "PLATINUM"),
            (TierChangeKind.UPGRADED, "GOLD", "PLATINUM"),
        ]
        assert back.history[:2] == upgraded.history

    def test_a_membership_save_without_a_history_change_is_stored(self) -> None:
        store = self.empty_store()
        self.stored(store, make_customer("C1"))
        silver = evaluate_tier(DEFAULT_LADDER, "C1", SILVER_FIGURES, DAY).membership
        with store.unit_of_work() as uow:
            added = uow.tiers.add(silver)
            uow.commit()
        failing = evaluate_tier(DEFAULT_LADDER, "C1", TierFigures(), dt.date(2024, 4, 1), added)
        assert failing.change is None
        assert failing.changed
        with store.unit_of_work() as uow:
            saved = uow.tiers.save(failing.membership)
            uow.commit()
        with store.unit_of_work() as uow:
            back = uow.tiers.get("C1")
        assert back == saved
        assert (back.version, back.failing_since, back.history) == (
            2,
            dt.date(2024, 4, 1),
            added.history,
        )

    def test_a_stale_membership_save_raises_and_keeps_the_stored_row(self) -> None:
        store = self.empty_store()
        self.stored(store, make_customer("C1"))
        with store.unit_of_work() as uow:
            added = uow.tiers.add(enrolled("C1"))
            uow.commit()
        on = dt.date(2024, 6, 1)
        with store.unit_of_work() as uow:
            fresh = uow.tiers.save(
                evaluate_tier(DEFAULT_LADDER, "C1", SILVER_FIGURES, on, added).membership
            )
            uow.commit()
        stale = evaluate_tier(DEFAULT_LADDER, "C1", GOLD_FIGURES, on, added).membership
        with store.unit_of_work() as uow:
            with pytest.raises(ConcurrencyError):
                uow.tiers.save(stale)
            uow.commit()
        with store.unit_of_work() as uow:
            assert uow.tiers.get("C1") == fresh
            assert uow.tiers.count_by_tier() == {"SILVER": 1}
        assert fresh.version == 2
        assert len(fresh.history) == 2

    def test_two_writers_on_the_same_membership_never_lose_an_update(self) -> None:
        store = self.empty_store()
        self.stored(store, make_customer("C1"))
        with store.unit_of_work() as uow:
            uow.tiers.add(enrolled("C1"))
            uow.commit()
        on = dt.date(2024, 6, 1)
        first, second = store.unit_of_work(), store.unit_of_work()
        with first, second:
            mine = first.tiers.get("C1")
            theirs = second.tiers.get("C1")
            first.tiers.save(evaluate_tier(DEFAULT_LADDER, "C1", GOLD_FIGURES, on, mine).membership)
            first.commit()
            silver = evaluate_tier(DEFAULT_LADDER, "C1", SILVER_FIGURES, on, theirs).membership
            with pytest.raises(ConcurrencyError):
                _save_membership_and_commit(second, silver)
        with store.unit_of_work() as uow:
            back = uow.tiers.get("C1")
        assert (back.tier, back.version, len(back.history)) == ("GOLD", 2, 2)

    def test_saving_an_unknown_membership_raises_not_found(self) -> None:
        store = self.empty_store()
        self.stored(store, make_customer("C1"))
        with store.unit_of_work() as uow, pytest.raises(NotFound):
            uow.tiers.save(attrs.evolve(enrolled("C1"), version=1))

    def test_a_membership_added_without_commit_is_not_stored(self) -> None:
        store = self.empty_store()
        self.stored(store, make_customer("C1"))
        with store.unit_of_work() as uow:
            added = uow.tiers.add(make_membership("C1"))
            assert uow.tiers.get("C1") == added  # its own write
            assert uow.tiers.count_by_tier() == {"SILVER": 1}
        with store.unit_of_work() as uow:
            assert uow.tiers.find("C1") is None
            assert list(uow.tiers.iterate()) == []

    def test_memberships_iterate_in_customer_id_order_across_batches(self) -> None:
        store = self.empty_store()
        ids = [f"C{i:04d}" for i in range(523)]  # more than one SQL batch (500)
        codes = DEFAULT_LADDER.codes
        expected = [plain_membership(c, codes[i * 7 % len(codes)]) for i, c in enumerate(ids)]
        with store.unit_of_work() as uow:
            for customer_id in ids:
                uow.customers.add(make_customer(customer_id))
            for membership in reversed(expected):
                uow.tiers.add(membership)
            uow.commit()
        with store.unit_of_work() as uow:
            listed = list(uow.tiers.iterate())
            counts = uow.tiers.count_by_tier()
        assert [m.customer_id for m in listed] == ids
        assert listed == [attrs.evolve(m, version=1) for m in expected]
        assert counts == dict(Counter(m.tier for m in expected))
        assert sum(counts.values()) == len(ids)

    def test_of_customers_reads_a_batch_of_memberships_with_their_histories(self) -> None:
        store = self.empty_store()
        ids = [f"C{i:04d}" for i in range(523)]  # more than one SQL batch (500)
        codes = DEFAULT_LADDER.codes
        self.stored(store, *(make_customer(c) for c in [*ids, "NONE"]))
        with store.unit_of_work() as uow:
            for i, customer_id in enumerate(ids):
                if i % 3:  # every third customer has none
                    uow.tiers.add(plain_membership(customer_id, codes[i % len(codes)]))
            uow.commit()
        with store.unit_of_work() as uow:
            gold = uow.tiers.get("C0001")
            grant = TierGrant("PLATINUM", GrantKind.PIN, "特批", DAY, DAY.replace(2025))
            uow.tiers.save(grant_tier(DEFAULT_LADDER, gold, grant))  # a longer history
            uow.commit()
        asked = ["NONE", *reversed(ids), "C0002", "UNKNOWN"]
        with store.unit_of_work() as uow:
            read = uow.tiers.of_customers(asked)
            every = list(uow.tiers.iterate())
            assert uow.tiers.of_customers([]) == []
        assert read == every  # all of them, each once, by customer id, as stored
        assert [m.customer_id for m in read] == [c for i, c in enumerate(ids) if i % 3]
        assert TierChangeKind.GRANTED in {c.kind for c in read[0].history}
        assert read[0].grant is not None

    def test_add_many_memberships_stores_what_add_stores(self) -> None:
        ids = [f"C{i}" for i in range(1, 6)]
        batch = [enrolled(c) for c in ids]  # each with its history and its event
        batch[1] = make_membership("C2")  # every kind of history entry, and a grant
        found = []
        for bulk in (True, False):
            store = self.empty_store()
            self.event_handlers(store)
            self.stored(store, *(make_customer(c) for c in ids))
            with store.unit_of_work() as uow:
                if bulk:
                    assert uow.tiers.add_many(iter(batch)) == len(batch)
                    assert uow.tiers.add_many([]) == 0
                else:
                    for membership in batch:
                        uow.tiers.add(membership)
                uow.commit()
            with store.unit_of_work() as uow:
                stored = list(uow.tiers.iterate())
            found.append((stored, [e.event for e in self.pending(store)]))
        assert found[0] == found[1]
        stored, events = found[0]
        assert stored == [attrs.evolve(m, version=1) for m in batch]
        assert len(events) == len(ids) + sum(len(m.events) for m in batch)

    def test_add_many_memberships_refuses_a_bad_batch_and_keeps_nothing(self) -> None:
        store = self.empty_store()
        self.event_handlers(store)
        self.stored(store, make_customer("C1"), make_customer("C2"))
        with store.unit_of_work() as uow:
            uow.tiers.add(plain_membership("C1", "SILVER"))
            uow.commit()
        waiting = self.pending(store)
        new = plain_membership("C2", "GOLD")
        refused: list[tuple[list[TierMembership], type[Exception], str]] = [
            ([new, plain_membership("C1", "GOLD")], Duplicate, "C1"),  # taken
            ([new, plain_membership("C2", "SILVER")], Duplicate, "C2"),  # repeated
            ([new, plain_membership("C-none", "GOLD")], NotFound, "C-none"),
        ]
        for batch, error, key in refused:
            with store.unit_of_work() as uow:
                with pytest.raises(error) as caught:
                    uow.tiers.add_many(batch)
                assert getattr(caught.value, "key", None) == key
                uow.commit()
        with store.unit_of_work() as uow:
            with pytest.raises(ConcurrencyError):
                uow.tiers.add_many([new, attrs.evolve(new, version=1)])
            uow.commit()
        with store.unit_of_work() as uow:
            assert [m.customer_id for m in uow.tiers.iterate()] == ["C1"]
            assert uow.tiers.of_customers(["C1", "C2"])[0].history == (
                plain_membership("C1", "SILVER").history
            )
        assert self.pending(store) == waiting

    def test_count_by_tier_leaves_out_tiers_nobody_holds(self) -> None:
        store = self.empty_store()
        self.stored(store, *(make_customer(f"C{i}") for i in range(1, 5)))
        with store.unit_of_work() as uow:
            assert uow.tiers.count_by_tier() == {}
            uow.tiers.add(plain_membership("C1", "STANDARD"))
            uow.tiers.add(plain_membership("C2", "GOLD"))
            gold = uow.tiers.add(plain_membership("C3", "GOLD"))
            uow.commit()
        with store.unit_of_work() as uow:
            assert uow.tiers.count_by_tier() == {"STANDARD": 1, "GOLD": 2}
            grant = TierGrant("PLATINUM", GrantKind.PIN, "特批", DAY, DAY.replace(2025))
            uow.tiers.save(grant_tier(DEFAULT_LADDER, gold, grant))
            uow.commit()
        with store.unit_of_work() as uow:
            assert uow.tiers.count_by_tier() == {"STANDARD": 1, "GOLD": 1, "PLATINUM": 1}

    # -- the outbox -------------------------------------------------------------------------

    def event_handlers(self, store: UnitOfWorkFactory) -> EventHandlers:
        """New, empty event handlers set as the store's ``handlers`` (units of work made
        afterwards call them after each commit). A shared store (the PostgreSQL test
        database) keeps its handlers between tests, so every outbox test starts here.
        Override for a store that takes its handlers another way."""
        handlers = EventHandlers()
        cast(Any, store).handlers = handlers
        return handlers

    def pending(self, store: UnitOfWorkFactory) -> list[OutboxEvent]:
        """Every pending event of the store, oldest first."""
        with store.unit_of_work() as uow:
            found = list(uow.outbox.pending(limit=10_000))
            assert uow.outbox.count_pending() == len(found)
        return found

    def test_a_commit_stores_its_events_pending_in_order(self) -> None:
        store = self.empty_store()
        self.event_handlers(store)
        customer = make_customer("C1")
        activated = make_policy().activate(DAY)
        with store.unit_of_work() as uow:
            stored_customer = uow.customers.add(customer)
            stored_policy = uow.policies.add(activated)
            uow.commit()
            lapsed = stored_policy.lapse(dt.date(2025, 1, 1))
            stored_lapsed = uow.policies.save(lapsed)
            new = enrolled("C1")
            stored_new = uow.tiers.add(new)
            up = evaluate_tier(DEFAULT_LADDER, "C1", GOLD_FIGURES, dt.date(2025, 2, 1), stored_new)
            stored_up = uow.tiers.save(up.membership)
            uow.commit()
        stored = (stored_customer, stored_policy, stored_lapsed, stored_new, stored_up)
        assert [s.events for s in stored] == [()] * 5
        expected = [
            *customer.events,
            *activated.events,
            *lapsed.events,
            *new.events,
            *up.membership.events,
        ]
        assert expected[0] == CustomerRegistered("C1", DAY)
        assert expected[2] == PolicyStatusChanged(
            "C1", dt.date(2025, 1, 1), "P1", "IN_FORCE", "LAPSED", "NON_PAYMENT"
        )
        assert isinstance(expected[4], TierUpgraded)
        assert (expected[4].from_tier, expected[4].to_tier) == ("STANDARD", "GOLD")
        assert expected[4].reasons  # ¥ and ≥ in them
        found = self.pending(store)
        assert [e.event for e in found] == expected
        assert [e.kind for e in found] == [
            "CustomerRegistered",
            "PolicyStatusChanged",
            "PolicyStatusChanged",
            "TierEnrolled",
            "TierUpgraded",
        ]
        assert all(type(e.event) is EVENT_TYPES[e.kind] for e in found)
        assert len({e.id for e in found}) == len(found)
        assert all(str(uuid.UUID(e.id)) == e.id for e in found)
        positions = [e.position for e in found]
        assert positions == sorted(set(positions))
        assert not any(e.delivered for e in found)

    def test_events_of_uncommitted_work_are_neither_stored_nor_published(self) -> None:
        store = self.empty_store()
        recorder = _Recorder()
        self.event_handlers(store).subscribe(CustomerRegistered, recorder)

        def add_c1(uow: UnitOfWork) -> None:
            uow.customers.add(make_customer("C1"))
            uow.policies.add(make_policy("P1", "C1").activate(DAY))

        with store.unit_of_work() as uow:
            add_c1(uow)

        def add_c1_and_fail() -> None:
            with store.unit_of_work() as uow:
                add_c1(uow)
                raise RuntimeError("boom")

        with pytest.raises(RuntimeError):
            add_c1_and_fail()
        assert self.pending(store) == []
        with store.unit_of_work() as uow:
            add_c1(uow)
            uow.rollback()
            uow.customers.add(make_customer("C2"))
            uow.policies.add(make_policy("P2", "C2").activate(DAY))
            uow.commit()
        assert recorder.events == [CustomerRegistered("C2", DAY)]
        assert [e.event for e in self.pending(store)] == [
            PolicyStatusChanged("C2", DAY, "P2", "PENDING", "IN_FORCE")
        ]
        with store.unit_of_work() as uow:
            assert [c.id for c in uow.customers.iterate()] == ["C2"]
        self.event_handlers(store)

    def test_handlers_are_called_after_the_commit_with_the_stored_event(self) -> None:
        store = self.empty_store()
        handlers = self.event_handlers(store)
        calls: list[tuple[OutboxEvent, Customer, OutboxEvent | None]] = []

        def handler(stored: OutboxEvent) -> None:
            with store.unit_of_work() as uow:  # the commit is visible to other work
                customer = uow.customers.get(stored.event.customer_id)
                waiting = {e.id: e for e in uow.outbox.pending()}
            calls.append((stored, customer, waiting.get(stored.id)))

        handlers.subscribe(CustomerRegistered, handler)
        with store.unit_of_work() as uow:
            added = uow.customers.add(make_customer("C1"))
            assert calls == []
            uow.commit()
            assert len(calls) == 1  # before commit() returns
        ((stored, customer, waiting),) = calls
        assert isinstance(stored, OutboxEvent)
        assert stored.event == CustomerRegistered("C1", DAY)
        assert stored.kind == "CustomerRegistered"
        assert customer == added
        assert waiting == stored  # the outbox's id, position and event
        assert not stored.delivered
        assert self.pending(store) == []
        self.event_handlers(store)

    def test_a_failing_handler_keeps_its_event_pending_but_not_the_commit(self) -> None:
        store = self.empty_store()
        handlers = self.event_handlers(store)
        recorder, failures = _Recorder(), _Recorder()

        def fail(stored: OutboxEvent) -> None:
            failures(stored)
            _fail(stored)

        handlers.subscribe(CustomerRegistered, recorder)
        handlers.subscribe(PolicyStatusChanged, fail)
        with store.unit_of_work() as uow:
            uow.customers.add(make_customer("C1"))
            policy = uow.policies.add(make_policy().activate(DAY))
            uow.commit()  # does not raise
            uow.customers.add(make_customer("C2"))  # and the unit of work goes on
            uow.commit()
        assert recorder.events == [CustomerRegistered("C1", DAY), CustomerRegistered("C2", DAY)]
        assert failures.events == [PolicyStatusChanged("C1", DAY, "P1", "PENDING", "IN_FORCE")]
        found = self.pending(store)
        assert found == [attrs.evolve(s, delivered=False) for s in failures.seen]
        with store.unit_of_work() as uow:
            assert uow.customers.count() == 2
            assert uow.policies.get("P1") == policy
        self.event_handlers(store)

    def test_an_event_without_handler_stays_pending(self) -> None:
        store = self.empty_store()
        recorder = _Recorder()
        self.event_handlers(store).subscribe(TierUpgraded, recorder)
        self.stored(store, make_customer("C1"))
        assert recorder.seen == []
        assert [e.event for e in self.pending(store)] == [CustomerRegistered("C1", DAY)]
        self.event_handlers(store)

    def test_pending_pages_by_position(self) -> None:
        store = self.empty_store()
        self.event_handlers(store)
        self.stored(store, *(make_customer(f"C{i}") for i in range(7)))
        everything = self.pending(store)
        assert [e.event.customer_id for e in everything] == [f"C{i}" for i in range(7)]
        pages: list[list[OutboxEvent]] = []
        after = 0
        with store.unit_of_work() as uow:
            while page := list(uow.outbox.pending(limit=3, after=after)):
                pages.append(page)
                after = page[-1].position
            assert (
                list(uow.outbox.pending(limit=2, after=everything[2].position)) == (everything[3:5])
            )
            assert list(uow.outbox.pending(limit=0)) == []
            assert list(uow.outbox.pending(after=everything[-1].position)) == []
        assert [len(p) for p in pages] == [3, 3, 1]
        assert [e for p in pages for e in p] == everything

    def test_pending_filters_by_kind_and_deliver_pending_reads_only_handled_kinds(
        self,
    ) -> None:
        store = self.empty_store()
        handlers = self.event_handlers(store)
        self.stored(store, make_customer("C1"), make_customer("C2"))
        with store.unit_of_work() as uow:
            policy = uow.policies.add(make_policy().activate(DAY))
            uow.commit()
        with store.unit_of_work() as uow:
            kinds = {"PolicyStatusChanged"}
            only = list(uow.outbox.pending(kinds=kinds))
            assert [e.kind for e in only] == ["PolicyStatusChanged"]
            event = only[0].event
            assert isinstance(event, PolicyStatusChanged)
            assert event.policy_id == policy.id
            assert list(uow.outbox.pending(kinds=set())) == []
        got: list[str] = []
        handlers.subscribe(PolicyStatusChanged, lambda stored: got.append(stored.id))
        assert deliver_pending(store.unit_of_work(), handlers) == 1
        assert got == [only[0].id]
        assert [e.kind for e in self.pending(store)] == ["CustomerRegistered"] * 2
        assert deliver_pending(store.unit_of_work(), EventHandlers()) == 0

    def test_mark_delivered_takes_effect_on_commit(self) -> None:
        store = self.empty_store()
        self.event_handlers(store)
        self.stored(store, *(make_customer(f"C{i}") for i in range(3)))
        ids = [e.id for e in self.pending(store)]
        assert len(ids) == 3
        with store.unit_of_work() as uow:
            uow.outbox.mark_delivered(ids[:2])
            assert [e.id for e in uow.outbox.pending()] == ids[2:]  # its own write
            assert uow.outbox.count_pending() == 1
            with store.unit_of_work() as other:
                assert [e.id for e in other.outbox.pending()] == ids
        assert [e.id for e in self.pending(store)] == ids  # left without commit
        with store.unit_of_work() as uow:
            uow.outbox.mark_delivered(ids[:2])
            uow.rollback()
            assert [e.id for e in uow.outbox.pending()] == ids
        with store.unit_of_work() as uow:
            uow.outbox.mark_delivered(iter([ids[0], "no-such-event"]))
            uow.outbox.mark_delivered([])
            uow.commit()
        assert [e.id for e in self.pending(store)] == ids[1:]
        with store.unit_of_work() as uow:
            uow.outbox.mark_delivered([ids[0]])  # again: no change
            uow.commit()
        assert [e.id for e in self.pending(store)] == ids[1:]

    def test_deliver_pending_delivers_what_is_left_once(self) -> None:
        store = self.empty_store()
        self.event_handlers(store)  # nobody listens at commit
        with store.unit_of_work() as uow:
            for i in (1, 2, 3):
                uow.customers.add(make_customer(f"C{i}"))
            for i in (1, 2):
                uow.policies.add(make_policy(f"P{i}", f"C{i}").activate(DAY))
            uow.commit()
        waiting = self.pending(store)
        assert len(waiting) == 5
        recorder = _Recorder()

        def policies(stored: OutboxEvent) -> None:
            assert isinstance(stored.event, PolicyStatusChanged)
            if stored.event.policy_id == "P2":
                _fail(stored)
            recorder(stored)

        handlers = EventHandlers()
        handlers.subscribe(CustomerRegistered, recorder)
        handlers.subscribe(PolicyStatusChanged, policies)
        assert deliver_pending(store.unit_of_work(), handlers, batch=2) == 4
        assert recorder.seen == waiting[:4]
        assert self.pending(store) == waiting[4:]
        assert deliver_pending(store.unit_of_work(), handlers) == 0
        assert recorder.seen == waiting[:4]  # delivered events are not given again
        everyone = EventHandlers()
        everyone.subscribe(PolicyStatusChanged, recorder)
        assert deliver_pending(store.unit_of_work(), everyone) == 1
        assert recorder.seen == waiting
        assert self.pending(store) == []
        assert deliver_pending(store.unit_of_work(), everyone) == 0

    def test_a_handler_may_write_to_the_store(self) -> None:
        store = self.empty_store()

        def open_household(stored: OutboxEvent) -> None:
            with store.unit_of_work() as uow:
                uow.households.add(Household(f"H-{stored.event.customer_id}", "新客户"))
                uow.commit()

        self.event_handlers(store).subscribe(CustomerRegistered, open_household)
        self.stored(store, make_customer("C1"))  # after a commit
        assert self.pending(store) == []
        self.event_handlers(store)
        self.stored(store, make_customer("C2"))
        handlers = EventHandlers()
        handlers.subscribe(CustomerRegistered, open_household)
        assert deliver_pending(store.unit_of_work(), handlers) == 1  # and from the outbox
        assert self.pending(store) == []
        with store.unit_of_work() as uow:
            assert uow.households.get("H-C1").label == "新客户"
            assert uow.households.get("H-C2").version == 1

    def test_a_unit_of_work_that_loses_a_conflict_stores_none_of_its_events(self) -> None:
        store = self.empty_store()
        handlers = self.event_handlers(store)
        self.stored(store, make_customer("C1"))
        recorder = _Recorder()
        for kind in EVENT_TYPES.values():
            handlers.subscribe(kind, recorder)
        first, second = store.unit_of_work(), store.unit_of_work()
        with first, second:
            mine = first.customers.get("C1")
            theirs = second.customers.get("C1")
            first.customers.save(mine.erase(dt.date(2024, 4, 1)))
            first.commit()
            with pytest.raises(ConcurrencyError):  # on save or on commit
                _add_save_and_commit(second, make_customer("C2"), theirs.erase(dt.date(2024, 5, 1)))
        assert recorder.events == [CustomerErased("C1", dt.date(2024, 4, 1))]
        assert [e.event for e in self.pending(store)] == [CustomerRegistered("C1", DAY)]
        with store.unit_of_work() as uow:
            assert [c.id for c in uow.customers.iterate()] == ["C1"]
        self.event_handlers(store)

    # -- customer-service records: churns, complaints, interactions, survey responses ----

    @_each_kind
    def test_a_record_round_trips_at_version_1(self, kind: RecordKind) -> None:
        store = self.empty_store()
        self.stored(store, make_customer("C1"))
        record = kind.make("R1", "C1", DAY)
        with store.unit_of_work() as uow:
            added = kind.repository(uow).add(record)
            assert kind.repository(uow).get("R1") == added  # its own write
            uow.commit()
        assert added == attrs.evolve(record, version=1)
        assert getattr(added, "events", ()) == ()
        with store.unit_of_work() as uow:
            records = kind.repository(uow)
            back = records.get("R1")
            assert records.of_customer("C1") == [back]
            assert records.count() == 1
        assert back == added
        assert type(back) is type(record)
        assert kind.personal(back) == kind.personal(record)  # byte for byte

    @_each_kind
    def test_get_many_reads_the_stored_records_among_the_ids(self, kind: RecordKind) -> None:
        store = self.empty_store()
        self.stored(store, make_customer("C1"))
        with store.unit_of_work() as uow:
            added = [kind.repository(uow).add(kind.make(f"R{i}", "C1", DAY)) for i in (3, 1, 2)]
            uow.commit()
        with store.unit_of_work() as uow:
            records = kind.repository(uow)
            assert records.get_many(["R2", "R9", "R1", "R2"]) == [added[1], added[2]]
            assert records.get_many([]) == []

    @_each_kind
    def test_a_record_save_bumps_the_version(self, kind: RecordKind) -> None:
        store = self.empty_store()
        self.stored(store, make_customer("C1"))
        with store.unit_of_work() as uow:
            added = kind.repository(uow).add(kind.make("R1", "C1", DAY))
            uow.commit()
        changed = kind.change(added)
        assert changed != added
        with store.unit_of_work() as uow:
            saved = kind.repository(uow).save(changed)
            again = kind.repository(uow).save(saved)
            uow.commit()
        assert (saved.version, again.version) == (2, 3)
        assert saved == attrs.evolve(changed, version=2)
        with store.unit_of_work() as uow:
            assert kind.repository(uow).get("R1") == again
            assert kind.repository(uow).count() == 1

    @_each_kind
    def test_a_stale_record_save_raises_and_changes_nothing(self, kind: RecordKind) -> None:
        store = self.empty_store()
        self.event_handlers(store)
        self.stored(store, make_customer("C1"))
        with store.unit_of_work() as uow:
            added = kind.repository(uow).add(kind.make("R1", "C1", DAY))
            fresh = kind.repository(uow).save(kind.change(added))
            uow.commit()
        waiting = self.pending(store)
        with store.unit_of_work() as uow:
            with pytest.raises(ConcurrencyError):
                kind.repository(uow).save(added.erase())
            uow.commit()
        with store.unit_of_work() as uow:
            assert kind.repository(uow).get("R1") == fresh
            assert fresh.version == 2
        assert self.pending(store) == waiting

    @_each_kind
    def test_two_writers_on_the_same_record_never_lose_an_update(self, kind: RecordKind) -> None:
        store = self.empty_store()
        self.stored(store, make_customer("C1"))
        with store.unit_of_work() as uow:
            kind.repository(uow).add(kind.make("R1", "C1", DAY))
            uow.commit()
        first, second = store.unit_of_work(), store.unit_of_work()
        with first, second:
            mine = kind.repository(first).get("R1")
            theirs = kind.repository(second).get("R1")
            kept = kind.repository(first).save(kind.change(mine))
            first.commit()
            with pytest.raises(ConcurrencyError):  # on save or on commit
                _save_record_and_commit(second, kind, theirs.erase())
        with store.unit_of_work() as uow:
            assert kind.repository(uow).get("R1") == kept

    @_each_kind
    def test_a_taken_record_id_raises_duplicate(self, kind: RecordKind) -> None:
        store = self.empty_store()
        self.stored(store, make_customer("C1"), make_customer("C2"))
        with store.unit_of_work() as uow:
            first = kind.repository(uow).add(kind.make("R1", "C1", DAY))
            with pytest.raises(Duplicate):  # seen in the same unit of work
                kind.repository(uow).add(kind.make("R1", "C2", days(1)))
            uow.commit()
        with store.unit_of_work() as uow:
            with pytest.raises(Duplicate) as caught:
                kind.repository(uow).add(kind.make("R1", "C2", days(1)))
            assert caught.value.key == "R1"
            with pytest.raises((Duplicate, ConcurrencyError)):
                kind.repository(uow).add(first)
        with store.unit_of_work() as uow:
            assert kind.repository(uow).get("R1") == first
            assert kind.repository(uow).count() == 1

    @_each_kind
    def test_a_record_needs_a_stored_customer(self, kind: RecordKind) -> None:
        store = self.empty_store()
        self.event_handlers(store)
        with store.unit_of_work() as uow:
            with pytest.raises(NotFound) as caught:
                kind.repository(uow).add(kind.make("R1", "C-none", DAY))
            assert (caught.value.kind, caught.value.key) == ("customer", "C-none")
            uow.commit()
        with store.unit_of_work() as uow:
            assert kind.repository(uow).count() == 0
            assert uow.outbox.count_pending() == 0

    @_each_kind
    def test_add_many_records_stores_what_add_stores(self, kind: RecordKind) -> None:
        batch = [kind.make(f"R{n}", f"C{1 + n % 2}", days(n % 3)) for n in range(6)]
        found = []
        for bulk in (True, False):
            store = self.empty_store()
            self.event_handlers(store)
            self.stored(store, make_customer("C1"), make_customer("C2"))
            with store.unit_of_work() as uow:
                records = kind.repository(uow)
                if bulk:
                    assert records.add_many(iter(batch)) == len(batch)
                    assert records.add_many([]) == 0
                    assert records.get("R5") == attrs.evolve(batch[5], version=1)
                else:
                    for record in batch:
                        records.add(record)
                uow.commit()
            with store.unit_of_work() as uow:
                stored = list(kind.repository(uow).iterate())
                mine = kind.repository(uow).of_customer("C2")
            found.append((stored, mine, [e.event for e in self.pending(store)]))
        assert found[0] == found[1]
        stored, mine, _events = found[0]
        assert sorted(stored, key=lambda r: r.id) == [attrs.evolve(r, version=1) for r in batch]
        assert [r.id for r in mine] == ["R3", "R1", "R5"]  # by day then id

    def test_add_many_complaints_put_their_events_in_the_outbox_in_order(self) -> None:
        store = self.empty_store()
        self.event_handlers(store)
        self.stored(store, make_customer("C1"))
        received = [
            Complaint.receive(f"K{n}", "C1", days(n), days(n + 5), ComplaintCategory.CLAIMS, "x")
            for n in (2, 1)
        ]
        with store.unit_of_work() as uow:
            added = uow.complaints.add_many(received)
            uow.commit()
        assert added == 2
        assert [e.event for e in self.pending(store)][1:] == [
            ComplaintReceived("C1", days(2), "K2", days(7)),
            ComplaintReceived("C1", days(1), "K1", days(6)),
        ]

    @_each_kind
    def test_add_many_records_refuses_a_bad_batch_and_keeps_nothing(self, kind: RecordKind) -> None:
        store = self.empty_store()
        self.event_handlers(store)
        self.stored(store, make_customer("C1"))
        with store.unit_of_work() as uow:
            kind.repository(uow).add(kind.make("R1", "C1", DAY))
            uow.commit()
        waiting = self.pending(store)
        new = kind.make("R2", "C1", DAY)
        refused: list[tuple[list[Any], type[Exception], str]] = [
            ([new, kind.make("R1", "C1", DAY)], Duplicate, "R1"),  # taken
            ([new, kind.make("R2", "C1", days(1))], Duplicate, "R2"),  # repeated
            ([new, kind.make("R3", "C-none", DAY)], NotFound, "C-none"),
        ]
        for batch, error, key in refused:
            with store.unit_of_work() as uow:
                with pytest.raises(error) as caught:
                    kind.repository(uow).add_many(batch)
                assert getattr(caught.value, "key", None) == key
                uow.commit()
        with store.unit_of_work() as uow:
            with pytest.raises(ConcurrencyError):
                kind.repository(uow).add_many([new, attrs.evolve(new, id="R4", version=1)])
            uow.commit()
        with store.unit_of_work() as uow:
            assert [r.id for r in kind.repository(uow).iterate()] == ["R1"]
        assert self.pending(store) == waiting

    @_each_kind
    def test_an_unknown_record_is_not_found(self, kind: RecordKind) -> None:
        store = self.empty_store()
        self.stored(store, make_customer("C1"))
        with store.unit_of_work() as uow:
            records = kind.repository(uow)
            with pytest.raises(NotFound) as caught:
                records.get("nothing")
            assert caught.value.key == "nothing"
            with pytest.raises(NotFound):
                records.save(attrs.evolve(kind.make("R1", "C1", DAY), version=1))
            assert records.of_customer("C1") == []
            assert records.of_customer("nobody") == []
            assert list(records.iterate()) == []
            assert records.count() == 0

    @_each_kind
    def test_records_are_listed_by_day_then_id(self, kind: RecordKind) -> None:
        store = self.empty_store()
        self.stored(store, make_customer("C1"), make_customer("C2"))
        wanted = [
            ("R3", "C1", days(2)),
            ("R1", "C1", days(2)),
            ("R2", "C2", days(1)),
            ("R4", "C1", DAY),
            ("R0", "C2", days(30)),
            ("R10", "C1", days(2)),
        ]

        def check(records: RecordRepository[Any]) -> None:
            assert [r.id for r in records.of_customer("C1")] == ["R4", "R1", "R10", "R3"]
            assert [r.id for r in records.of_customer("C2")] == ["R2", "R0"]
            assert [r.id for r in records.iterate()] == ["R4", "R2", "R1", "R10", "R3", "R0"]
            assert records.count() == len(wanted)

        with store.unit_of_work() as uow:
            added = {a.id: a for a in (kind.repository(uow).add(kind.make(*w)) for w in wanted)}
            check(kind.repository(uow))  # its own writes
            uow.commit()
        with store.unit_of_work() as uow:
            check(kind.repository(uow))
            assert {r.id: r for r in kind.repository(uow).iterate()} == added

    @_each_kind
    def test_of_customers_reads_the_records_of_many_customers(self, kind: RecordKind) -> None:
        store = self.empty_store()
        self.stored(store, *(make_customer(f"C{i}") for i in range(1, 4)))
        wanted = [
            ("R3", "C2", days(2)),
            ("R1", "C2", days(2)),
            ("R2", "C1", days(1)),
            ("R4", "C2", DAY),
            ("R5", "C3", DAY),
        ]

        def check(records: RecordRepository[Any]) -> None:
            read = records.of_customers(["C2", "C9", "C1", "C2"])
            assert [r.id for r in read] == ["R2", "R4", "R1", "R3"]
            each = [*records.of_customer("C1"), *records.of_customer("C2")]
            assert sorted(read, key=lambda r: r.id) == sorted(each, key=lambda r: r.id)
            assert records.of_customers([]) == []

        with store.unit_of_work() as uow:
            for w in wanted:
                kind.repository(uow).add(kind.make(*w))
            check(kind.repository(uow))  # its own writes
            uow.commit()
        with store.unit_of_work() as uow:
            check(kind.repository(uow))

    @_each_kind
    def test_records_iterate_by_day_then_id_across_batches(self, kind: RecordKind) -> None:
        store = self.empty_store()
        self.stored(store, make_customer("C1"))
        wanted = [(f"R{i:04d}", "C1", days(i * 7 % 31)) for i in range(523)]  # > 1 SQL batch
        with store.unit_of_work() as uow:
            for w in reversed(wanted):
                kind.repository(uow).add(kind.make(*w))
            uow.commit()
        with store.unit_of_work() as uow:
            listed = list(kind.repository(uow).iterate())
            assert kind.repository(uow).count() == len(wanted)
        expected = sorted(wanted, key=lambda w: (w[2], w[0]))
        assert [r.id for r in listed] == [w[0] for w in expected]
        assert listed == [attrs.evolve(kind.make(*w), version=1) for w in expected]

    def test_survey_responses_of_a_survey_by_day_then_id(self) -> None:
        store = self.empty_store()
        self.stored(store, make_customer("C1"), make_customer("C2"))
        with store.unit_of_work() as uow:
            for response in (
                make_response("S3", "C1", days(5), "SV-A"),
                make_response("S1", "C2", days(5), "SV-A"),
                make_response("S2", "C2", days(1), "SV-B"),
                make_response("S0", "C1", days(9), "SV-A"),
                make_response("S4", "C2", days(2), "SV-A"),
            ):
                uow.surveys.add(response)
            assert [r.id for r in uow.surveys.in_survey("SV-A")] == ["S4", "S1", "S3", "S0"]
            uow.commit()
        with store.unit_of_work() as uow:
            in_a = uow.surveys.in_survey("SV-A")
            assert [r.id for r in in_a] == ["S4", "S1", "S3", "S0"]
            assert all(r.survey_id == "SV-A" and r.version == 1 for r in in_a)
            assert [r.id for r in uow.surveys.in_survey("SV-B")] == ["S2"]
            assert uow.surveys.in_survey("SV-none") == []
            assert [r.id for r in uow.surveys.of_customer("C2")] == ["S2", "S4", "S1"]

    @_each_kind
    def test_a_rollback_leaves_no_record(self, kind: RecordKind) -> None:
        store = self.empty_store()
        self.event_handlers(store)
        self.stored(store, make_customer("C1"))
        with store.unit_of_work() as uow:
            kind.repository(uow).add(kind.make("R1", "C1", DAY))  # left without commit

        def fail_half_way() -> None:
            with store.unit_of_work() as uow:
                kind.repository(uow).add(kind.make("R2", "C1", DAY))
                raise RuntimeError("boom")

        with pytest.raises(RuntimeError):
            fail_half_way()
        with store.unit_of_work() as uow:
            kept = kind.repository(uow).add(kind.make("R3", "C1", DAY))
            uow.commit()
            kind.repository(uow).save(kind.change(kept))
            kind.repository(uow).add(kind.make("R4", "C1", DAY))
            uow.rollback()
            assert [r.id for r in kind.repository(uow).iterate()] == ["R3"]
        with store.unit_of_work() as uow:
            records = kind.repository(uow)
            assert list(records.iterate()) == [kept]
            assert records.of_customer("C1") == [kept]
            for missing in ("R1", "R2", "R4"):
                with pytest.raises(NotFound):
                    records.get(missing)
        assert [e.kind for e in self.pending(store)] == ["CustomerRegistered"]

    def test_a_churn_and_a_complaint_put_their_events_in_the_outbox(self) -> None:
        store = self.empty_store()
        self.event_handlers(store)
        self.stored(store, make_customer("C1"))
        churn = ChurnRecord.record(
            "C1", days(10), ChurnStructure.BOUGHT_OFF, [ChurnCause.PRICE], PERSONAL_TEXT
        )
        complaint = Complaint.receive(
            "K1", "C1", DAY, days(3), ComplaintCategory.SERVICE, PERSONAL_TEXT
        )
        with store.unit_of_work() as uow:
            stored_churn = uow.churns.add(churn)
            stored_complaint = uow.complaints.add(complaint)
            uow.interactions.add(make_interaction("I1", "C1", DAY))  # no events
            uow.surveys.add(make_response("S1", "C1", DAY))
            uow.commit()
        assert (stored_churn.events, stored_complaint.events) == ((), ())
        assert stored_churn == attrs.evolve(churn, version=1)
        assert [e.event for e in self.pending(store)] == [
            CustomerRegistered("C1", DAY),
            CustomerChurned("C1", days(10), churn.id, "BOUGHT_OFF", False),
            ComplaintReceived("C1", DAY, "K1", days(3)),
        ]
        won = stored_churn.won_back(days(40))
        with store.unit_of_work() as uow:
            uow.churns.save(won)
            uow.rollback()
            back = uow.churns.save(won)
            uow.commit()
        assert back.events == ()
        assert [e.event for e in self.pending(store)][3:] == [
            CustomerWonBack("C1", days(40), churn.id)
        ]
        with store.unit_of_work() as uow:
            assert uow.churns.get(churn.id) == back
            assert back.won_back_on == days(40)

    @pytest.mark.parametrize("second", sorted(SECOND_CHURN_WRITERS))
    def test_two_writers_recording_a_churn_at_once_leave_no_overlap(self, second: str) -> None:
        """A writer reads a customer's churn records for update and adds an open one;
        before it commits, another records a churn of the same customer: by hand, by
        ending their last policy, by the nightly scan or by an import. A customer churns
        once at a time, so whichever way the store orders them — the second waits and then
        sees the first's record, or one of the two is refused with ``ConcurrencyError`` —
        no two stored records are open on a same day."""
        store = self.empty_store()
        self.stored(store, make_customer())
        ended = make_policy().transition(PolicyStatus.IN_FORCE, DAY)
        if second == "detect_churn":  # ended elsewhere, its churn not yet recorded
            ended = ended.transition(PolicyStatus.LAPSED, days(20), EndReason.NON_PAYMENT)
        with store.unit_of_work() as uow:
            uow.policies.add(ended)
            uow.commit()
        outcome: list[str] = []

        def record_second() -> None:
            try:
                SECOND_CHURN_WRITERS[second](store.unit_of_work())
                outcome.append("done")
            except (ConcurrencyError, RuleViolation) as error:
                outcome.append(type(error).__name__)

        writer = threading.Thread(target=record_second)
        try:
            with store.unit_of_work() as uow:
                assert uow.churns.of_customers_for_update(["C1"]) == []
                uow.churns.add(make_churn("K1", "C1", days(10)))
                writer.start()
                writer.join(timeout=1)  # time to slip in, where the store lets it
                uow.commit()
        except ConcurrencyError:
            pass  # the second was first
        writer.join()
        assert outcome
        with store.unit_of_work() as uow:
            kept = uow.churns.of_customer("C1")
        assert kept
        assert not [(a.id, b.id) for a in kept for b in kept if a.id < b.id and a.open_with(b)]

    def test_two_last_policies_ended_at_once_record_the_churn(self) -> None:
        """A customer's two policies are ended by two writers at once, the second while the
        first is about to commit: each writer, reading the other policy, may see it still
        in force. The churn records are read for update before the policies, so whichever
        way the store orders them (the second waits and then sees the first policy ended, or
        one of them gets ``ConcurrencyError`` and, as its caller would, ends its policy
        again), the customer's churn is recorded, once."""
        store = self.empty_store()
        self.stored(store, make_customer())
        with store.unit_of_work() as uow:
            for policy_id in ("P1", "P2"):
                in_force = make_policy(policy_id).transition(PolicyStatus.IN_FORCE, DAY)
                uow.policies.add(in_force)
            uow.commit()

        def end(policy_id: str, uow: Callable[[], UnitOfWork]) -> None:
            for _ in range(50):
                try:
                    end_policy(uow(), policy_id, PolicyStatus.SURRENDERED, days(20))
                    return
                except ConcurrencyError:
                    time.sleep(0.05)  # as a caller tries again
            pytest.fail(f"{policy_id} was never ended")

        second = threading.Thread(target=end, args=("P2", store.unit_of_work))

        def meanwhile() -> None:
            if not second.is_alive() and second.ident is None:
                second.start()
                second.join(timeout=1)  # time to slip in, where the store lets it

        end("P1", lambda: cast(UnitOfWork, _BeforeCommit(store.unit_of_work(), meanwhile)))
        second.join()
        with store.unit_of_work() as uow:
            assert {uow.policies.get(p).status for p in ("P1", "P2")} == {PolicyStatus.SURRENDERED}
            assert [r.on for r in uow.churns.of_customer("C1")] == [days(20)]

    def test_a_complaint_walked_through_its_steps_round_trips_exactly(self) -> None:
        store = self.empty_store()
        self.event_handlers(store)
        self.stored(store, make_customer("C1"))
        received = Complaint.receive(
            "K1", "C1", DAY, days(5), ComplaintCategory.CLAIMS, PERSONAL_TEXT, "CSR-1"
        )
        with store.unit_of_work() as uow:
            added = uow.complaints.add(received)
            uow.commit()
        solving = (
            added.complete(ComplaintStep.VENT, DAY, "客户很生气")
            .complete(ComplaintStep.UNDERSTAND, DAY)
            .complete(ComplaintStep.APOLOGISE, days(1), PERSONAL_TEXT)
            .complete(ComplaintStep.FIND_SOLUTION, days(3), "补发理赔款")
            .complete(ComplaintStep.START_SOLVING, days(4))
        )
        with store.unit_of_work() as uow:
            middle = uow.complaints.save(solving)
            uow.commit()
        reopened = (
            middle.skip_compensation(days(6), "理赔款已足额支付")
            .complete(ComplaintStep.FOLLOW_UP, days(8), "回访：满意")
            .close(days(8))
            .reopen(days(20), "客户又来电：'仍未到账'")
            .complete(ComplaintStep.FIND_SOLUTION, days(21), PERSONAL_TEXT)
        )
        with store.unit_of_work() as uow:
            final = uow.complaints.save(reopened)
            uow.commit()
        with store.unit_of_work() as uow:
            back = uow.complaints.get("K1")
        assert back == final == attrs.evolve(reopened, version=3, events=())
        assert back.steps == reopened.steps
        assert back.changes == reopened.changes
        assert [s.step for s in back.steps] == [*ComplaintStep, ComplaintStep.FIND_SOLUTION]
        assert [s.round for s in back.steps] == [1] * 7 + [2]
        assert back.steps[5].skipped
        assert back.steps[5].skip_reason == "理赔款已足额支付"
        assert (back.status, back.round, back.next_step) == (
            ComplaintStatus.OPEN,
            2,
            ComplaintStep.START_SOLVING,
        )
        assert (back.answered_on, back.closed_on, back.handling_days) == (days(3), days(8), 8)
        assert back.answered_on_time() is True
        assert [e.kind for e in self.pending(store)] == [
            "CustomerRegistered",
            "ComplaintReceived",
            "ComplaintClosed",
            "ComplaintReopened",
        ]

    @_each_kind
    def test_an_erased_record_round_trips_without_personal_text(self, kind: RecordKind) -> None:
        store = self.empty_store()
        self.stored(store, make_customer("C1"))
        with store.unit_of_work() as uow:
            added = kind.repository(uow).add(kind.make("R1", "C1", DAY))
            uow.commit()
        assert PERSONAL_TEXT in _texts(unstructure(added))
        with store.unit_of_work() as uow:
            erased = kind.repository(uow).save(added.erase())
            uow.commit()
        with store.unit_of_work() as uow:
            back = kind.repository(uow).get("R1")
        assert back == erased == attrs.evolve(added.erase(), version=2)
        assert back.erased
        assert kind.personal(back) in (None, (None, [(None, None)]))
        assert PERSONAL_TEXT not in _texts(unstructure(back))
        assert back.customer_id == "C1"
