"""Importing contacts, complaints and survey responses from CSV: the rows checked as the live calls
check them, the rejects file naming line, field and rule without values, re-runs adding
nothing, and the same records on every backend."""

from __future__ import annotations

import csv
import datetime as dt
import io
from collections.abc import Callable
from pathlib import Path
from typing import Any

import attrs
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from insurcrm.adapters.memory import MemoryStore
from insurcrm.adapters.sql import SqlStore
from insurcrm.domain.complaints import Complaint, ComplaintCategory, ComplaintStatus, ComplaintStep
from insurcrm.domain.interactions import Channel, Direction, Interaction, ObservedSignal, Purpose
from insurcrm.domain.satisfaction import Answer, Dimension, SurveyResponse
from insurcrm.domain.unit_of_work import UnitOfWorkFactory
from insurcrm.errors import Duplicate
from insurcrm.services import csv_records
from insurcrm.services.assessment import assess_portfolio
from insurcrm.services.complaints import complete_step, receive_complaint, reopen_complaint
from insurcrm.services.contacts import log_interaction
from insurcrm.services.csv_import import CsvImportError, ImportResult, import_csv
from insurcrm.services.customers import erase_customer
from insurcrm.testing import strategies as gen
from tests.integration.test_csv_import import STORES, cell, imported_by_cli, rejects, write

TODAY = dt.date(2026, 12, 4)
CUSTOMERS = "id,name,created_on\nC1,王小明,2020-01-05\nC2,李娜,2020-01-05\nC3,赵六,2020-01-05\n"
MEMO = "客户说平安的价格更低"  # personal data: never in a rejects file

CONTACTS = f"""id,customer_id,on,channel,direction,purpose,csr_id,memo,signals
I1,C1,2026-03-01,PHONE,OUTBOUND,CARE,E7,{MEMO},
I2,C1,2026-10-01,visit,inbound,inquiry,,,PRAISES_COMPETITOR; OWNERSHIP_CHANGE
I3,C9,2026-10-01,PHONE,INBOUND,INQUIRY,,,
I4,C1,2026-10-01,FAX,INBOUND,INQUIRY,,,
I5,C1,2026-10-01,PHONE,INBOUND,INQUIRY,,,LIKES_US
I1,C2,2026-10-01,PHONE,INBOUND,INQUIRY,,,
I6,C1,2099-01-01,PHONE,INBOUND,INQUIRY,,,
I7,C3,2026-10-01,PHONE,INBOUND,INQUIRY,,{MEMO},
I8,C3,2026-10-02,PHONE,INBOUND,INQUIRY,,,
I9,C1,2026-10-03,PHONE,INBOUND,,,,
"""

SURVEYS = (
    "id,survey_id,customer_id,role,channel,on,service,product_price,expectation,praises_us,"
    "named_us,comment\n"
    f"""R1,S1,C1,POLICYHOLDER,PHONE,2026-03-01,SATISFIED,NEUTRAL,VERY_SATISFIED,true,,{MEMO}
R2,S2,C1,POLICYHOLDER,ONLINE,2026-03-15,DISSATISFIED,,,false,no,
R3,S1,C2,INSURED,PHONE,2026-03-01,,,,,,
R4,S1,C2,INSURED,PHONE,2026-03-01,GREAT,,,,,
R5,S1,C2,INSURED,PHONE,2026-03-01,SATISFIED,,,maybe,,
R6,S1,C3,INSURED,PHONE,2026-03-01,SATISFIED,,,,,{MEMO}
R7,S1,C3,INSURED,PHONE,2026-03-02,SATISFIED,,,,,
"""
)

COMPLAINT_HEADER = (
    "id,customer_id,received_on,promised_by,category,text,csr_id,vent_on,understand_on,"
    "apologise_on,find_solution_on,start_solving_on,compensate_on,compensation_skipped,"
    "skip_reason,follow_up_on,closed_on\n"
)
_HANDLED = "2026-01-02,2026-01-02,2026-01-02,2026-01-05,2026-01-06,2026-01-07"
COMPLAINTS = COMPLAINT_HEADER + (
    f"""Q1,C1,2026-01-02,2026-01-09,CLAIMS,{MEMO},E7,{_HANDLED},true,{MEMO},2026-01-10,2026-01-11
Q2,C1,2026-02-02,2026-02-09,,,,2026-02-02,,2026-02-02,,,,,,,
Q3,C1,2026-01-02,2026-01-01,,,,,,,,,,,,,
Q4,C1,2026-01-02,2026-01-09,,,,2026-01-01,,,,,,,,,
Q5,C1,2026-01-02,2026-01-09,,,,{_HANDLED},true,,2026-01-10,
Q6,C3,2026-01-02,2026-01-09,,,,{_HANDLED},true,,2026-01-10,
Q7,C3,2026-01-02,2026-01-09,,{MEMO},,,,,,,,,,,
Q8,C1,2026-01-02,2026-01-09,,,,,,,,,,,{MEMO},,
Q9,C1,2026-01-02,2026-01-09,,,,2026-01-02,2026-01-02,2026-01-02,2026-01-05,2026-01-06,,true,,,
Q10,C1,2026-11-02,2027-01-09,PRICE,,,,,,,,,,,,
Q11,C1,2026-11-02,2026-11-09,,,,2026-11-02,2026-11-02,2026-11-02,2026-11-05,2026-11-06,2026-11-06,,,,2026-11-07
Q12,C1,2026-11-02,2026-11-09,MOOD,,,,,,,,,,,,
Q13,C9,2026-11-02,2026-11-09,,,,,,,,,,,,,
Q14,C1,2026-11-02,2026-11-09,,,,2026-11-02,2026-11-02,2026-11-02,2026-11-01,,,,,,
Q15,C1,2099-12-05,2099-12-09,,,,,,,,,,,,,
Q16,C3,2026-01-02,2026-01-09,,,,{_HANDLED},true,{MEMO},2026-01-10,
"""
)


def _book(store: UnitOfWorkFactory, tmp_path: Path) -> None:
    """C1, C2 and C3 stored; C3 erased."""
    import_csv(store.unit_of_work(), write(tmp_path / "customers.csv", CUSTOMERS))
    erase_customer(store.unit_of_work(), "C3", dt.date(2026, 1, 1))


def _imported(
    backend: str, tmp_path: Path, name: str, text: str, *, bom: bool = False
) -> tuple[UnitOfWorkFactory, ImportResult]:
    """A store of ``backend`` holding :func:`_book`, and the import of ``text`` into it."""
    store = STORES[backend]()
    _book(store, tmp_path)
    path = write(tmp_path / name, text, bom=bom)
    return store, import_csv(store.unit_of_work(), path, today=TODAY)


def _reported(path: Path | None) -> list[tuple[str, str, str]]:
    assert path is not None
    text = path.read_text(encoding="utf-8")
    assert MEMO not in text
    return [(r["line"], r["field"], r["rule"]) for r in rejects(path)]


@pytest.mark.parametrize("backend", list(STORES))
class TestContacts:
    def test_contacts_are_stored_and_bad_rows_reported(self, tmp_path: Path, backend: str) -> None:
        store, result = _imported(backend, tmp_path, "contacts.csv", CONTACTS, bom=True)
        assert (result.kind, result.rows, result.stored, result.rejected) == ("contacts", 10, 3, 7)
        assert _reported(result.rejects_path) == [
            ("4", "customer_id", "reference.missing"),
            ("5", "channel", "code.unknown"),
            ("6", "signals", "code.unknown"),
            ("7", "id", "duplicate"),
            ("8", "on", "date.future"),
            ("9", "memo", "erased"),
            ("11", "purpose", "required"),
        ]
        with store.unit_of_work() as uow:
            first, second = uow.interactions.of_customer("C1")
            assert (first.id, first.memo, first.csr_id, first.signals) == ("I1", MEMO, "E7", ())
            assert second.signals == (
                ObservedSignal.PRAISES_COMPETITOR,
                ObservedSignal.OWNERSHIP_CHANGE,
            )
            assert [i.id for i in uow.interactions.of_customer("C3")] == ["I8"]

    def test_running_the_same_file_again_adds_nothing(self, tmp_path: Path, backend: str) -> None:
        store = STORES[backend]()
        _book(store, tmp_path)
        path = write(tmp_path / "contacts.csv", CONTACTS)
        import_csv(store.unit_of_work(), path, today=TODAY)
        again = import_csv(store.unit_of_work(), path, today=TODAY)
        assert (again.stored, again.already_present, again.rejected) == (0, 3, 7)
        with store.unit_of_work() as uow:
            assert uow.interactions.count() == 3


@pytest.mark.parametrize("backend", list(STORES))
def test_survey_responses_are_stored_and_bad_rows_reported(tmp_path: Path, backend: str) -> None:
    store, result = _imported(backend, tmp_path, "surveys.csv", SURVEYS)
    assert (result.kind, result.rows, result.stored, result.rejected) == (
        "survey responses",
        7,
        3,
        4,
    )
    assert _reported(result.rejects_path) == [
        ("4", "service", "answers.required"),
        ("5", "service", "code.unknown"),
        ("6", "praises_us", "flag.format"),
        ("7", "comment", "erased"),
    ]
    with store.unit_of_work() as uow:
        r1, r2 = uow.surveys.of_customer("C1")  # 14 days apart: the past is not refused
        assert r1.answers == {
            Dimension.SERVICE: Answer.SATISFIED,
            Dimension.PRODUCT_PRICE: Answer.NEUTRAL,
        }
        assert (r1.expectation, r1.praises_us, r1.named_us, r1.comment) == (
            Answer.VERY_SATISFIED,
            True,
            None,
            MEMO,
        )
        assert (r2.praises_us, r2.named_us, r2.comment) == (False, False, None)
        assert [r.id for r in uow.surveys.of_customer("C3")] == ["R7"]  # erased: no comment
    again = import_csv(store.unit_of_work(), result.path, today=TODAY)
    assert (again.stored, again.already_present) == (0, 3)


@pytest.mark.parametrize("backend", list(STORES))
def test_complaints_are_stored_with_their_steps_and_bad_rows_reported(
    tmp_path: Path, backend: str
) -> None:
    store, result = _imported(backend, tmp_path, "complaints.csv", COMPLAINTS)
    assert (result.kind, result.rows, result.stored, result.rejected) == ("complaints", 16, 3, 13)
    assert _reported(result.rejects_path) == [
        ("3", "apologise_on", "step.order"),
        ("4", "promised_by", "date.order"),
        ("5", "vent_on", "date.order"),
        ("6", "skip_reason", "required"),
        ("8", "text", "erased"),
        ("9", "skip_reason", "skip.unexpected"),
        ("10", "compensate_on", "required"),
        ("12", "closed_on", "step.order"),
        ("13", "category", "code.unknown"),
        ("14", "customer_id", "reference.missing"),
        ("15", "find_solution_on", "date.order"),
        ("16", "received_on", "date.future"),
        ("17", "skip_reason", "erased"),
    ]
    with store.unit_of_work() as uow:
        q1, q10 = uow.complaints.of_customer("C1")
        (q6,) = uow.complaints.of_customer("C3")
    assert (q1.status, q1.category, q1.text, q1.csr_id) == (
        ComplaintStatus.CLOSED,
        ComplaintCategory.CLAIMS,
        MEMO,
        "E7",
    )
    assert [s.step for s in q1.steps] == list(ComplaintStep)
    assert (q1.answered_on, q1.answered_on_time(), q1.handling_days) == (
        dt.date(2026, 1, 5),
        True,
        9,
    )
    skipped = q1.steps[5]
    assert (skipped.skipped, skipped.skip_reason, q1.events) == (True, MEMO, ())
    assert (q10.status, q10.steps, q10.category, q10.overdue(TODAY)) == (
        ComplaintStatus.OPEN,
        (),
        ComplaintCategory.PRICE,
        False,  # the answer is promised for later
    )
    assert (q6.erased, q6.steps[5].skipped, q6.steps[5].skip_reason) == (True, True, None)
    again = import_csv(store.unit_of_work(), result.path, today=TODAY)
    assert (again.stored, again.already_present, again.rejected) == (0, 3, 13)


def test_imported_complaints_are_walked_on_as_live_ones(tmp_path: Path) -> None:
    """A complaint of the past, open or closed, goes on with the live calls."""
    store = MemoryStore()
    _book(store, tmp_path)
    rows = COMPLAINT_HEADER + (
        f"Q1,C1,2026-01-02,2026-01-09,,,,{_HANDLED},true,已解决,2026-01-10,2026-01-11\n"
        "Q2,C1,2026-11-02,2026-11-09,,,,2026-11-02,,,,,,,,,\n"
    )
    import_csv(store.unit_of_work(), write(tmp_path / "q.csv", rows), today=TODAY)
    reopened = reopen_complaint(store.unit_of_work(), "Q1", TODAY, "客户对结果仍不满意")
    assert (reopened.round, reopened.next_step) == (2, ComplaintStep.FIND_SOLUTION)
    walked = complete_step(store.unit_of_work(), "Q2", ComplaintStep.UNDERSTAND, TODAY)
    assert walked.next_step is ComplaintStep.APOLOGISE
    with pytest.raises(Duplicate):
        receive_complaint(store.unit_of_work(), Complaint.receive("Q2", "C1", TODAY, TODAY))


#: Records of C1 in the early warning's window: every signal staff can note, and complaints.
_WARNING_FILES = {
    "contacts": "id,customer_id,on,channel,direction,purpose,signals\n"
    + "".join(
        f"I{n},C1,2026-11-0{n},VISIT,INBOUND,INQUIRY,{signal.name}\n"
        for n, signal in enumerate(ObservedSignal, start=1)
    ),
    "complaints": COMPLAINT_HEADER
    + "".join(f"Q{n},C1,2026-11-0{n},2026-11-09,,,,,,,,,,,,,\n" for n in range(1, 4)),
}


@pytest.mark.parametrize("backend", list(STORES))
@pytest.mark.parametrize("kind", list(_WARNING_FILES))
def test_the_early_warning_reads_imported_records(tmp_path: Path, backend: str, kind: str) -> None:
    """The point of importing contacts and complaints: the early warning (§7.2) sees what
    staff noted and what customers complained of."""
    store = STORES[backend]()
    _book(store, tmp_path)

    def warning_of_c1() -> int:
        rows = assess_portfolio(store.unit_of_work(), TODAY)
        return next(r.warning_score for r in rows if r.customer_id == "C1")

    before = warning_of_c1()
    path = write(tmp_path / f"{kind}.csv", _WARNING_FILES[kind])
    assert import_csv(store.unit_of_work(), path, today=TODAY).kind == kind
    assert warning_of_c1() > before


def _contact_row(contact_id: str, customer_id: str, memo: str = "") -> str:
    return f"{contact_id},{customer_id},2026-10-01,PHONE,INBOUND,INQUIRY,{memo}\n"


_HEADER = "id,customer_id,on,channel,direction,purpose,memo\n"


def test_an_id_stored_for_another_customer_is_refused_not_lost(tmp_path: Path) -> None:
    store = MemoryStore()
    _book(store, tmp_path)
    import_csv(store.unit_of_work(), write(tmp_path / "a.csv", _HEADER + _contact_row("I1", "C1")))
    later = write(
        tmp_path / "b.csv",
        _HEADER + _contact_row("I1", "C2") + _contact_row("I2", "C2") + _contact_row("I1", "C1"),
    )
    result = import_csv(store.unit_of_work(), later)
    assert (result.stored, result.already_present, result.rejected) == (1, 0, 2)
    assert _reported(result.rejects_path) == [("2", "id", "duplicate"), ("4", "id", "duplicate")]
    assert result.rejects_path is not None
    reason = "already used by a contact of another customer"
    assert rejects(result.rejects_path)[0]["reason"] == reason
    with store.unit_of_work() as uow:
        assert uow.interactions.get("I1").customer_id == "C1"
        assert [i.id for i in uow.interactions.of_customer("C2")] == ["I2"]


def test_a_run_again_after_an_erasure_finds_its_rows_present(tmp_path: Path) -> None:
    store = MemoryStore()
    _book(store, tmp_path)
    path = write(tmp_path / "c.csv", _HEADER + _contact_row("I1", "C1", MEMO))
    assert import_csv(store.unit_of_work(), path).stored == 1
    erase_customer(store.unit_of_work(), "C1", TODAY)
    again = import_csv(store.unit_of_work(), path)
    assert (again.stored, again.already_present, again.rejected) == (0, 1, 0)
    with store.unit_of_work() as uow:
        assert uow.interactions.get("I1").memo is None  # erased with the customer


@pytest.mark.parametrize("backend", list(STORES))
def test_an_erased_customers_record_is_stored_as_erasure_leaves_it(
    tmp_path: Path, backend: str
) -> None:
    store = STORES[backend]()
    _book(store, tmp_path)
    import_csv(store.unit_of_work(), write(tmp_path / "c.csv", _HEADER + _contact_row("I1", "C3")))
    with store.unit_of_work() as uow:
        assert uow.interactions.get("I1").erased


def test_batches_give_the_same_records_as_one_batch(tmp_path: Path) -> None:
    stores = {size: MemoryStore() for size in (1000, 3)}
    path = write(tmp_path / "contacts.csv", CONTACTS)
    results = {}
    for size, store in stores.items():
        _book(store, tmp_path)
        results[size] = attrs.evolve(
            import_csv(store.unit_of_work(), path, batch=size, today=TODAY), rejects_path=None
        )
    assert results[3] == results[1000]
    with stores[3].unit_of_work() as a, stores[1000].unit_of_work() as b:
        assert list(a.interactions.iterate()) == list(b.interactions.iterate())


def interfere(
    monkeypatch: pytest.MonkeyPatch, kind: str, *, at_call: int, meanwhile: Callable[[], object]
) -> list[int]:
    """Make the ``kind`` records' ``at_call``-th bulk write of an import first run
    ``meanwhile`` (another writer); returns the bulk writes made, one item each."""
    calls: list[int] = []
    record_kind = csv_records.RECORDS[kind]

    class Interfering:
        def __init__(self, inner: Any) -> None:
            self.inner = inner

        def __getattr__(self, name: str) -> Any:
            return getattr(self.inner, name)

        def add_many(self, records: Any) -> int:
            calls.append(1)
            if len(calls) == at_call:
                meanwhile()
            return int(self.inner.add_many(records))

    def repository(uow: Any) -> Interfering:
        return Interfering(record_kind.repository(uow))

    monkeypatch.setitem(csv_records.RECORDS, kind, attrs.evolve(record_kind, repository=repository))
    return calls


def test_a_batch_another_writer_got_in_the_way_of_is_tried_again(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    store = MemoryStore()
    _book(store, tmp_path)
    import_csv(store.unit_of_work(), write(tmp_path / "a.csv", _HEADER + _contact_row("I2", "C1")))

    def log_i1() -> None:
        with store.unit_of_work() as other:
            other.interactions.add(_contact("I1", "C1"))
            other.commit()

    calls = interfere(monkeypatch, "contacts", at_call=2, meanwhile=log_i1)
    path = write(tmp_path / "b.csv", _HEADER + _contact_row("I1", "C1") + _contact_row("I2", "C1"))
    result = import_csv(store.unit_of_work(), path)
    assert (len(calls), result.stored, result.already_present, result.rejected) == (4, 0, 2, 0)


def _contact(contact_id: str, customer_id: str) -> Interaction:
    return Interaction(
        contact_id,
        customer_id,
        dt.date(2026, 10, 1),
        Channel.PHONE,
        Direction.INBOUND,
        Purpose.INQUIRY,
    )


@pytest.mark.parametrize(
    ("header", "match"),
    [
        (
            "id,customer_id,on,channel",
            "needs survey_id .*, direction .*, received_on .*, churned_on .* or insurer",
        ),
        ("id,churned_on,policy_id", "churn records need the columns customer_id"),
        ("customer_id,churned_on,reason", "unknown columns reason"),
        ("id,customer_id,received_on,category", "complaints need the columns promised_by"),
        ("id,customer_id,received_on,promised_by,fixed_on", "unknown columns fixed_on"),
        ("id,customer_id,on,channel,direction", "contacts need the columns purpose"),
        ("id,customer_id,survey_id,on", "survey responses need the columns role, channel"),
        ("id,customer_id,on,channel,direction,purpose,mood", "unknown columns mood"),
        ("id,on,channel,direction,purpose", "contacts need the columns customer_id"),
        ("customer_id,name,created_on", "customers need the columns id"),
        (
            "id,survey_id,customer_id,role,channel,on,comment",
            "survey responses need the columns one of service, operations",
        ),
    ],
)
def test_a_record_file_is_told_apart_by_customer_id_and_its_kind(
    tmp_path: Path, header: str, match: str
) -> None:
    with pytest.raises(CsvImportError, match=match):
        import_csv(MemoryStore().unit_of_work(), write(tmp_path / "f.csv", header + "\n"))


def test_the_command_line_imports_records_after_customers(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'book.db'}"
    files = [
        write(tmp_path / "surveys.csv", SURVEYS),
        write(tmp_path / "complaints.csv", COMPLAINTS),
        write(tmp_path / "contacts.csv", CONTACTS),
        write(tmp_path / "customers.csv", CUSTOMERS),
    ]
    kinds = ["customers", "contacts", "complaints", "survey responses"]
    said = imported_by_cli(url, files, kinds)
    assert MEMO not in said
    # C3 is not erased here: its memo and comment are kept
    assert "contacts.csv (contacts): 10 rows, 4 stored, 0 already present, 6 rejected" in said
    assert "complaints.csv (complaints): 16 rows, 4 stored, 0 already present, 12 rejected" in said
    assert "surveys.csv (survey responses): 7 rows, 4 stored, 0 already present, 3 rejected" in said
    store = SqlStore.open(url)
    try:
        with store.unit_of_work() as uow:
            counts = (uow.interactions.count(), uow.complaints.count(), uow.surveys.count())
            assert counts == (4, 4, 4)
    finally:
        store.dispose()


# -- the same records as the live calls, whatever the rows ---------------------------------


def _csv(header: list[str], rows: list[list[Any]]) -> str:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(header)
    writer.writerows([[cell(v) for v in row] for row in rows])
    return out.getvalue()


def _as_read(text: str | None) -> str | None:
    """A free text as a CSV cell gives it back: without surrounding spaces; empty is none."""
    return (text or "").strip() or None


#: Fewer examples than the profile's locally: each writes and imports a file.
_EXAMPLES = settings(
    max_examples=25 if settings().max_examples < 100 else 100,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)


def _of_c1(records: st.SearchStrategy[Any]) -> st.SearchStrategy[list[Any]]:
    """Up to six records of C1 with distinct ids (as read: a cell without surrounding
    spaces)."""
    return st.lists(records, max_size=6, unique_by=lambda r: r.id.strip())


_FIELDS = ["id", "customer_id", "on", "channel", "direction", "purpose", "csr_id", "memo"]


@_EXAMPLES
@given(contacts=_of_c1(gen.interactions(customer_id="C1", until=TODAY)))
def test_an_import_of_contacts_stores_what_log_interaction_stores(
    tmp_path_factory: pytest.TempPathFactory, contacts: list[Interaction]
) -> None:
    tmp_path = tmp_path_factory.mktemp("contacts")
    imported, logged = MemoryStore(), MemoryStore()
    for store in (imported, logged):
        import_csv(store.unit_of_work(), write(tmp_path / "c.csv", CUSTOMERS))
    rows = [[getattr(i, f) for f in _FIELDS] + [i.signals] for i in contacts]
    path = write(tmp_path / "contacts.csv", _csv([*_FIELDS, "signals"], rows))
    result = import_csv(imported.unit_of_work(), path, today=TODAY)
    assert (result.stored, result.rejected) == (len(contacts), 0)
    for contact in contacts:
        as_read = attrs.evolve(
            contact,
            id=contact.id.strip(),
            memo=_as_read(contact.memo),
            csr_id=_as_read(contact.csr_id),
        )
        log_interaction(logged.unit_of_work(), as_read)
    with imported.unit_of_work() as a, logged.unit_of_work() as b:
        assert a.interactions.of_customer("C1") == b.interactions.of_customer("C1")
    assert import_csv(imported.unit_of_work(), path).already_present == len(contacts)


@_EXAMPLES
@given(responses=_of_c1(gen.survey_responses(customer_id="C1", until=TODAY)))
def test_an_import_of_survey_responses_stores_them_as_drawn(
    tmp_path_factory: pytest.TempPathFactory, responses: list[SurveyResponse]
) -> None:
    tmp_path = tmp_path_factory.mktemp("surveys")
    store = MemoryStore()
    import_csv(store.unit_of_work(), write(tmp_path / "c.csv", CUSTOMERS))
    dimensions = [d.name.lower() for d in Dimension]
    header = ["id", "survey_id", "customer_id", "role", "channel", "on", *dimensions]
    header += ["expectation", "praises_us", "named_us", "comment"]
    rows = [
        [r.id, r.survey_id, r.customer_id, r.role, r.channel, r.on]
        + [r.answers.get(d) for d in Dimension]
        + [r.expectation, r.praises_us, r.named_us, r.comment]
        for r in responses
    ]
    path = write(tmp_path / "surveys.csv", _csv(header, rows))
    result = import_csv(store.unit_of_work(), path, today=TODAY)
    assert (result.stored, result.rejected) == (len(responses), 0)
    with store.unit_of_work() as uow:
        assert sorted(uow.surveys.of_customer("C1"), key=lambda r: r.id) == sorted(
            (
                attrs.evolve(
                    r,
                    id=r.id.strip(),
                    survey_id=r.survey_id.strip(),
                    comment=_as_read(r.comment),
                    version=1,
                )
                for r in responses
            ),
            key=lambda r: r.id,
        )


def _complaint_row(complaint: Complaint, header: list[str]) -> list[Any]:
    """The cells of a complaint's row, in the order of ``header``: its fields, the day of
    each step and of the closing, and the skip."""
    skip = next((s for s in complaint.steps if s.skipped), None)
    cells = {
        "received_on": complaint.received_on,
        "promised_by": complaint.promised_by,
        "category": complaint.category,
        "text": complaint.text,
        "csr_id": complaint.csr_id,
        "compensation_skipped": skip is not None,
        "skip_reason": skip.skip_reason if skip is not None else None,
        "closed_on": complaint.closed_on,
        "id": complaint.id,
        "customer_id": complaint.customer_id,
    }
    cells.update({f"{s.step.name.lower()}_on": s.on for s in complaint.steps})
    return [cells.get(column) for column in header]


def _first_round(complaint: Complaint) -> bool:
    return complaint.round == 1


@_EXAMPLES
@given(complaints=_of_c1(gen.complaints(customer_id="C1", until=TODAY).filter(_first_round)))
def test_an_import_of_complaints_stores_them_as_walked(
    tmp_path_factory: pytest.TempPathFactory, complaints: list[Complaint]
) -> None:
    """Whatever state a complaint reached in its first round, its row brings back the same
    complaint: the steps, their days, the skip and its reason, the closing."""
    tmp_path = tmp_path_factory.mktemp("complaints")
    store = MemoryStore()
    import_csv(store.unit_of_work(), write(tmp_path / "c.csv", CUSTOMERS))
    header = COMPLAINT_HEADER.strip().split(",")
    rows = [_complaint_row(c, header) for c in complaints]
    path = write(tmp_path / "q.csv", _csv(header, rows))
    result = import_csv(store.unit_of_work(), path, today=TODAY)
    assert (result.stored, result.rejected) == (len(complaints), 0)

    def as_imported(complaint: Complaint) -> Complaint:
        steps = [
            attrs.evolve(s, note=None, skip_reason=_as_read(s.skip_reason)) for s in complaint.steps
        ]
        return attrs.evolve(
            complaint,
            id=complaint.id.strip(),
            text=_as_read(complaint.text),
            csr_id=_as_read(complaint.csr_id),
            steps=steps,
            version=1,
            events=(),
        )

    with store.unit_of_work() as uow:
        assert sorted(uow.complaints.of_customer("C1"), key=lambda c: c.id) == sorted(
            map(as_imported, complaints), key=lambda c: c.id
        )
