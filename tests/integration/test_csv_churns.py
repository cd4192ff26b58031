"""Importing churn records from CSV: rows checked as the live calls check them (a customer
churns once at a time, the policy named is theirs, an erased customer's keep no notes),
the rejects file naming line, field and rule without values, re-runs adding nothing, the
assessment reading what was imported, and the same records on every backend."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import attrs
import pytest
from hypothesis import given
from hypothesis import strategies as st

from insurcrm.adapters.memory import MemoryStore
from insurcrm.adapters.sql import SqlStore
from insurcrm.domain.churn import ChurnCause, ChurnRecord, ChurnStructure, churn_id
from insurcrm.services.assessment import assess_portfolio
from insurcrm.services.churn import record_churn
from insurcrm.services.csv_import import CHURN_COLUMNS, import_csv
from insurcrm.testing import strategies as gen
from tests.integration.test_csv_import import STORES, imported_by_cli, rejects, write
from tests.integration.test_csv_records import (
    _EXAMPLES,
    CUSTOMERS,
    MEMO,
    TODAY,
    _as_read,
    _book,
    _csv,
    _reported,
    interfere,
)

POLICIES = (
    "id,number,policyholder_id,insured_id,product_line,start_date,term_years,sum_assured,"
    "annual_premium,status,status_on,end_reason\n"
    "P1,N1,C1,C1,LIFE,2020-02-01,20,500000.00,12000.00,LAPSED,2025-01-10,NON_PAYMENT\n"
    "P2,N2,C2,C1,ACCIDENT,2021-04-01,1,100000,300.5,LAPSED,2021-09-01,NON_PAYMENT\n"
)

CHURNS = "customer_id,churned_on,id,structure,causes,notes,automatic,policy_id,won_back_on\n" + (
    f"""C1,2024-03-01,,PULLED_AWAY,COMPETITION;PRICE,{MEMO},false,,2024-09-01
C1,2025-01-10,K2,,,,true,P1,
C1,2024-06-01,K3,,,,,,2024-07-01
C1,2025-05-01,K4,,,,,,
C2,2025-02-01,K5,,,,true,P1,
C2,2025-02-01,K6,BOUGHT,,,,,
C2,2025-02-01,K7,,PRICE;LOYAL,,,,
C2,2025-02-01,K8,,,,,,2025-01-01
C2,2099-01-01,K9,,,,,,
C2,2025-02-01,K10,,,,,,2099-01-01
C9,2025-02-01,K11,,,,,,
C3,2025-02-01,K12,,,{MEMO},,,
C3,2025-03-01,K13,INTENTIONALLY_PUSHED_AWAY,FRAUD,,,,
C2,2025-02-01,K14,,,,maybe,,
,2025-02-01,K15,,,,,,
C2,2024-09-01,K16,,,,,,2025-01-01
C2,2025-01-01,K17,,,,,,
C2,2025-06-01,K2,,,,,,
"""
)


def _churn_book(backend: str, tmp_path: Path) -> Any:
    """A store of ``backend`` holding C1, C2 and C3 (erased), and C1's and C2's policies."""
    store = STORES[backend]()
    _book(store, tmp_path)
    assert import_csv(store.unit_of_work(), write(tmp_path / "p.csv", POLICIES)).rejected == 0
    return store


@pytest.mark.parametrize("backend", list(STORES))
def test_churn_records_are_stored_and_bad_rows_reported(tmp_path: Path, backend: str) -> None:
    store = _churn_book(backend, tmp_path)
    path = write(tmp_path / "churns.csv", CHURNS)
    result = import_csv(store.unit_of_work(), path, today=TODAY)
    assert (result.kind, result.rows, result.stored, result.rejected) == (
        "churn records",
        18,
        5,
        13,
    )
    assert _reported(result.rejects_path) == [
        ("4", "churned_on", "churn.overlap"),  # inside C1's first, closed one
        ("5", "churned_on", "churn.overlap"),  # after C1's open one
        ("6", "policy_id", "reference.missing"),  # C1's policy, not C2's
        ("7", "structure", "code.unknown"),
        ("8", "causes", "code.unknown"),
        ("9", "won_back_on", "date.order"),
        ("10", "churned_on", "date.future"),
        ("11", "won_back_on", "date.future"),
        ("12", "customer_id", "reference.missing"),
        ("13", "notes", "erased"),
        ("15", "automatic", "flag.format"),
        ("16", "customer_id", "required"),
        ("19", "id", "duplicate"),
    ]
    with store.unit_of_work() as uow:
        first, k2 = uow.churns.of_customer("C1")
        assert [r.id for r in uow.churns.of_customer("C2")] == ["K16", "K17"]
        (k13,) = uow.churns.of_customer("C3")
    assert first == ChurnRecord(
        id=churn_id("C1", dt.date(2024, 3, 1)),  # the live calls' id
        customer_id="C1",
        on=dt.date(2024, 3, 1),
        structure=ChurnStructure.PULLED_AWAY,
        causes=(ChurnCause.PRICE, ChurnCause.COMPETITION),
        notes=MEMO,
        won_back_on=dt.date(2024, 9, 1),
        version=1,
    )
    assert (k2.automatic, k2.policy_id, k2.is_open, k2.structure, k2.events) == (
        True,
        "P1",
        True,
        None,
        (),
    )
    assert (k13.erased, k13.notes, k13.dropped_on_purpose) == (True, None, True)
    again = import_csv(store.unit_of_work(), path, today=TODAY)
    assert (again.stored, again.already_present, again.rejected) == (0, 5, 13)


@pytest.mark.parametrize("backend", list(STORES))
def test_the_assessment_reads_imported_churn_records(tmp_path: Path, backend: str) -> None:
    store = _churn_book(backend, tmp_path)
    before = {r.customer_id: r for r in assess_portfolio(store.unit_of_work(), TODAY)}
    import_csv(store.unit_of_work(), write(tmp_path / "churns.csv", CHURNS), today=TODAY)
    after = {r.customer_id: r for r in assess_portfolio(store.unit_of_work(), TODAY)}
    assert before["C1"].win_back is None
    assert after["C1"].win_back is not None  # K2 is open: C1 is to be won back, or not


def test_a_churn_that_would_overlap_a_stored_one_is_refused_in_a_later_run(
    tmp_path: Path,
) -> None:
    store = _churn_book("memory", tmp_path)
    first = write(tmp_path / "first.csv", "customer_id,churned_on\nC2,2025-01-01\n")
    assert import_csv(store.unit_of_work(), first, today=TODAY).stored == 1
    later = write(
        tmp_path / "later.csv",
        "customer_id,churned_on,won_back_on\nC2,2024-01-01,2024-12-31\nC2,2023-01-01,2025-01-02\n",
    )
    result = import_csv(store.unit_of_work(), later, today=TODAY)
    assert (result.stored, result.rejected) == (1, 1)
    assert result.rejects_path is not None
    assert [(r["line"], r["rule"]) for r in rejects(result.rejects_path)] == [
        ("3", "churn.overlap")  # open on the stored one's first day
    ]
    with store.unit_of_work() as uow:
        days = [r.on for r in uow.churns.of_customer("C2")]
    assert days == [dt.date(2024, 1, 1), dt.date(2025, 1, 1)]


def test_a_churn_won_back_the_day_it_happened_was_open_on_no_day(tmp_path: Path) -> None:
    store = _churn_book("memory", tmp_path)
    path = write(
        tmp_path / "churns.csv",
        "customer_id,churned_on,id,automatic,policy_id,won_back_on\n"
        "C1,2024-01-01,A,,,\n"  # open for good from its first day
        "C1,2024-01-01,B,,,2024-01-01\n"
        "C1,2024-03-01,C,,,2024-03-01\n"
        "C1,2023-01-01,D,false,P1,2023-06-01\n",  # recorded by hand, naming the policy
    )
    result = import_csv(store.unit_of_work(), path, today=TODAY)
    assert (result.stored, result.rejected) == (4, 0)
    with store.unit_of_work() as uow:
        assert [r.id for r in uow.churns.of_customer("C1") if r.open_on(dt.date(2024, 3, 1))] == [
            "A"
        ]


@pytest.mark.parametrize("backend", ["memory", "sqlite"])
def test_batches_give_the_same_churn_records_as_one_batch(tmp_path: Path, backend: str) -> None:
    """A customer's rows in different batches are judged against the earlier batches' as
    against the earlier lines of one batch."""
    path = write(tmp_path / "churns.csv", CHURNS)
    found = {}
    for size in (1, 1000):
        store = _churn_book(backend, tmp_path)
        result = import_csv(store.unit_of_work(), path, batch=size, today=TODAY)
        assert result.rejects_path is not None
        with store.unit_of_work() as uow:
            found[size] = (list(uow.churns.iterate()), rejects(result.rejects_path))
    assert found[1] == found[1000]


def test_a_churn_recorded_meanwhile_is_seen_when_the_batch_is_tried_again(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    store = _churn_book("memory", tmp_path)

    def staff_record_c2() -> None:  # before the first bulk write commits
        record_churn(store.unit_of_work(), "C2", dt.date(2025, 6, 1))

    interfere(monkeypatch, "churn records", at_call=1, meanwhile=staff_record_c2)
    path = write(tmp_path / "churns.csv", "customer_id,churned_on\nC2,2025-01-01\n")
    result = import_csv(store.unit_of_work(), path, today=TODAY)
    assert (result.stored, result.rejected) == (0, 1)
    assert result.rejects_path is not None
    assert [r["rule"] for r in rejects(result.rejects_path)] == ["churn.overlap"]
    with store.unit_of_work() as uow:
        assert [r.on for r in uow.churns.of_customer("C2")] == [dt.date(2025, 6, 1)]


def test_the_command_line_imports_churn_records_last(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'book.db'}"
    files = [
        write(tmp_path / "churns.csv", CHURNS),
        write(tmp_path / "policies.csv", POLICIES),
        write(tmp_path / "customers.csv", CUSTOMERS),
    ]
    said = imported_by_cli(url, files, ["customers", "policies", "churn records"])
    assert MEMO not in said
    # C3 is not erased here: its churn with notes is stored, and the next one overlaps it
    assert "churns.csv (churn records): 18 rows, 5 stored, 0 already present, 13 rejected" in said
    store = SqlStore.open(url)
    try:
        with store.unit_of_work() as uow:
            assert [r.id for r in uow.churns.of_customer("C3")] == ["K12"]
            assert uow.churns.count() == 5
    finally:
        store.dispose()


# -- the same records as drawn, whatever the rows ------------------------------------------


def churn_row(record: ChurnRecord) -> list[Any]:
    """A churn record's cells, in the order of :data:`CHURN_COLUMNS`."""
    return [record.on if c == "churned_on" else getattr(record, c) for c in CHURN_COLUMNS]


def _open_together(a: ChurnRecord, b: ChurnRecord) -> bool:
    """True when both records are open on a same day (if they are, they are on the later
    of their churn days)."""
    return any(a.open_on(day) and b.open_on(day) for day in (a.on, b.on))


@_EXAMPLES
@given(
    records=st.lists(
        gen.churn_records(customer_id="C1", until=dt.date(2023, 1, 1)),
        max_size=6,
        unique_by=lambda r: r.on,  # the id is the customer's churn on that day
    )
)
def test_an_import_of_churn_records_stores_those_that_fit(
    tmp_path_factory: pytest.TempPathFactory, records: list[ChurnRecord]
) -> None:
    """Whatever records are drawn, each comes back as drawn unless it is open on a day an
    earlier line's record is open: that one is refused, and nothing else."""
    tmp_path = tmp_path_factory.mktemp("churns")
    store = MemoryStore()
    import_csv(store.unit_of_work(), write(tmp_path / "c.csv", CUSTOMERS))
    import_csv(store.unit_of_work(), write(tmp_path / "p.csv", POLICIES))
    drawn = [attrs.evolve(r, policy_id="P1" if r.policy_id else None) for r in records]
    path = write(tmp_path / "churns.csv", _csv(list(CHURN_COLUMNS), [churn_row(r) for r in drawn]))
    result = import_csv(store.unit_of_work(), path, today=TODAY)
    kept: list[ChurnRecord] = []
    for record in drawn:
        if not any(_open_together(record, k) for k in kept):
            kept.append(record)
    assert (result.stored, result.rejected) == (len(kept), len(drawn) - len(kept))
    if result.rejects_path is not None:
        assert {r["rule"] for r in rejects(result.rejects_path)} == {"churn.overlap"}
    expected = [attrs.evolve(r, notes=_as_read(r.notes), version=1, events=()) for r in kept]
    with store.unit_of_work() as uow:
        assert sorted(uow.churns.of_customer("C1"), key=lambda r: r.id) == sorted(
            expected, key=lambda r: r.id
        )
