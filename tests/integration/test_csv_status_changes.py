"""Importing the status changes of stored policies from CSV: each row a move of the policy's
own lifecycle, checked as ``Policy.transition`` checks it, reported by line, field and rule,
stored once however often the file is imported, the same on every backend."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings

from insurcrm.adapters.memory import MemoryStore
from insurcrm.adapters.sql import SqlStore
from insurcrm.domain.credit import CreditGrade, grade_credit
from insurcrm.domain.policies import Policy, PolicyStatus
from insurcrm.domain.unit_of_work import UnitOfWorkFactory
from insurcrm.services.csv_import import import_csv
from insurcrm.testing import strategies as gen
from tests.integration.test_csv_import import STORES, imported_by_cli, rejects, write

TODAY = dt.date(2026, 12, 4)
CUSTOMERS = "id,name,created_on\nC1,王小明,2019-01-05\n"
POLICY_HEADER = (
    "id,number,policyholder_id,insured_id,product_line,start_date,term_years,sum_assured,"
    "annual_premium,status,status_on,end_reason\n"
)
POLICIES = POLICY_HEADER + (
    "P1,N1,C1,C1,LIFE,2020-02-01,20,500000.00,12000.00,,,\n"
    "P2,N2,C1,C1,ACCIDENT,2020-03-01,20,100000.00,300.00,,,\n"
    "P3,N3,C1,C1,MEDICAL,2025-01-01,1,100000.00,800.00,PENDING,,\n"
)
CHANGES = """policy_id,status,on,end_reason
P1,LAPSED,2021-03-01,NON_PAYMENT
P1,IN_FORCE,2021-06-01,
P1,SURRENDERED,2024-01-10,
P2,IN_FORCE,2021-01-01,
P2,LAPSED,2019-01-01,
P9,LAPSED,2021-01-01,
P2,BROKEN,2021-01-01,
P2,LAPSED,2099-01-01,
P2,CANCELLED,2022-05-05,FRAUD
P2,CANCELLED,2022-05-05,
P3,IN_FORCE,2025-02-01,
P2,CANCELLED,2022-05-05,NON_PAYMENT
"""


def _book(store: UnitOfWorkFactory, tmp_path: Path) -> None:
    for name, text in (("customers.csv", CUSTOMERS), ("policies.csv", POLICIES)):
        result = import_csv(store.unit_of_work(), write(tmp_path / name, text))
        assert result.rejected == 0


def _history(store: UnitOfWorkFactory, policy_id: str) -> list[tuple[str, dt.date, str | None]]:
    with store.unit_of_work() as uow:
        policy = uow.policies.get(policy_id)
    return [(c.to_status.name, c.on, c.reason.name if c.reason else None) for c in policy.history]


@pytest.mark.parametrize("backend", list(STORES))
def test_status_changes_are_recorded_and_bad_rows_reported(tmp_path: Path, backend: str) -> None:
    store = STORES[backend]()
    _book(store, tmp_path)
    path = write(tmp_path / "changes.csv", CHANGES)
    result = import_csv(store.unit_of_work(), path, today=TODAY)
    assert (result.kind, result.rows, result.stored, result.rejected) == (
        "status changes",
        12,
        5,
        7,
    )
    assert result.rejects_path is not None
    assert [(r["line"], r["field"], r["rule"]) for r in rejects(result.rejects_path)] == [
        ("5", "status", "status.order"),  # IN_FORCE → IN_FORCE is no move
        ("6", "on", "status.order"),  # before the policy's last change
        ("7", "policy_id", "reference.missing"),
        ("8", "status", "code.unknown"),
        ("9", "on", "date.future"),
        ("11", "on", "duplicate"),  # the same change repeated in the file
        ("13", "on", "duplicate"),
    ]
    assert "N2" not in result.rejects_path.read_text(encoding="utf-8")  # no policy number
    assert _history(store, "P1") == [
        ("IN_FORCE", dt.date(2020, 2, 1), None),
        ("LAPSED", dt.date(2021, 3, 1), "NON_PAYMENT"),
        ("IN_FORCE", dt.date(2021, 6, 1), None),
        ("SURRENDERED", dt.date(2024, 1, 10), None),
    ]
    assert _history(store, "P2")[-1] == ("CANCELLED", dt.date(2022, 5, 5), "FRAUD")
    assert _history(store, "P3") == [("IN_FORCE", dt.date(2025, 2, 1), None)]  # it started
    with store.unit_of_work() as uow:
        held = uow.policies.of_customer("C1")
        assert grade_credit(held, TODAY).grade is CreditGrade.D  # cancelled for fraud
        assert uow.policies.get("P1").status_on(dt.date(2021, 4, 1)) is PolicyStatus.LAPSED
    again = import_csv(store.unit_of_work(), path, today=TODAY)
    assert (again.stored, again.already_present, again.rejected) == (0, 5, 7)


def test_a_change_stored_with_another_end_reason_is_refused(tmp_path: Path) -> None:
    store = MemoryStore()
    _book(store, tmp_path)
    first = "policy_id,status,on,end_reason\nP1,LAPSED,2021-03-01,NON_PAYMENT\n"
    import_csv(store.unit_of_work(), write(tmp_path / "a.csv", first))
    other = "policy_id,status,on,end_reason\nP1,LAPSED,2021-03-01,OTHER\nP1,LAPSED,2021-03-01,\n"
    result = import_csv(store.unit_of_work(), write(tmp_path / "b.csv", other))
    assert (result.stored, result.already_present, result.rejected) == (0, 0, 2)
    assert result.rejects_path is not None
    assert [(r["line"], r["field"], r["rule"]) for r in rejects(result.rejects_path)] == [
        ("2", "end_reason", "status.conflict"),
        ("3", "on", "duplicate"),
    ]


_RENEWED = "policy_id,renewed_on\nP1,2021-02-01\nP1,2021-04-01\nP1,2022-02-01\n"


@pytest.mark.parametrize(
    ("changes", "stored", "refused"),
    [
        # reinstated before the renewal of 2021-04-01: the lapse stands with its reinstatement
        ("P1,LAPSED,2021-03-01,NON_PAYMENT\nP1,IN_FORCE,2021-03-20,\n", 2, []),
        # a lapse after the last renewal
        ("P1,LAPSED,2022-05-01,\n", 1, []),
        # the renewal of 2021-04-01 falls in the lapse: refused, and what builds on it
        (
            "P1,LAPSED,2021-03-01,\nP1,IN_FORCE,2021-06-01,\nP1,SURRENDERED,2023-01-01,\n",
            0,
            [
                ("2", "on", "status.premium"),
                ("3", "on", "status.order"),
                ("4", "on", "status.order"),
            ],
        ),
        # the first lapse and reinstatement stand; the second lapse leaves 2022-02-01 out
        (
            "P1,LAPSED,2021-05-01,\nP1,IN_FORCE,2021-06-01,\nP1,LAPSED,2022-01-01,\n",
            2,
            [("4", "on", "status.premium")],
        ),
    ],
)
def test_changes_are_judged_with_the_renewals_recorded_since(
    tmp_path: Path, changes: str, stored: int, refused: list[tuple[str, str, str]]
) -> None:
    """Renewals imported first (or recorded live): a policy's status changes are judged
    together, so a lapse is accepted with the reinstatement that follows it, and refused
    only when the premiums recorded since would fall on a day out of force."""
    store = MemoryStore()
    _book(store, tmp_path)
    assert import_csv(store.unit_of_work(), write(tmp_path / "r.csv", _RENEWED)).stored == 3
    path = write(tmp_path / "s.csv", "policy_id,status,on,end_reason\n" + changes)
    result = import_csv(store.unit_of_work(), path)
    assert (result.stored, result.rejected) == (stored, len(refused))
    if refused:
        assert result.rejects_path is not None
        assert [(r["line"], r["field"], r["rule"]) for r in rejects(result.rejects_path)] == refused
    with store.unit_of_work() as uow:
        policy = uow.policies.get("P1")
    assert len(policy.history) == 1 + stored
    assert all(policy.status_on(p.on) is PolicyStatus.IN_FORCE for p in policy.purchases)


def test_a_batch_keeps_a_policys_changes_together(tmp_path: Path) -> None:
    """Batches of two rows: P1's lapse and reinstatement would fall in two batches, and the
    lapse alone leaves the renewal of 2021-04-01 out of force; kept together, both stand."""
    store = MemoryStore()
    _book(store, tmp_path)
    import_csv(store.unit_of_work(), write(tmp_path / "r.csv", _RENEWED))
    rows = "P2,LAPSED,2021-03-01,\nP1,LAPSED,2021-03-01,\nP1,IN_FORCE,2021-03-20,\n"
    path = write(tmp_path / "s.csv", "policy_id,status,on,end_reason\n" + rows)
    result = import_csv(store.unit_of_work(), path, batch=2)
    assert (result.stored, result.rejected) == (3, 0)


def test_an_end_reason_is_only_for_a_lapse_or_an_end(tmp_path: Path) -> None:
    store = MemoryStore()
    _book(store, tmp_path)
    rows = "policy_id,status,on,end_reason\nP1,LAPSED,2021-03-01,\nP1,IN_FORCE,2021-06-01,FRAUD\n"
    result = import_csv(store.unit_of_work(), write(tmp_path / "s.csv", rows))
    assert result.rejects_path is not None
    assert [(r["line"], r["field"], r["rule"]) for r in rejects(result.rejects_path)] == [
        ("3", "end_reason", "reason.unexpected")
    ]


def test_the_command_line_imports_status_changes_before_premiums(tmp_path: Path) -> None:
    """A renewal is checked against the policy's status that day, so the lapses go first:
    the renewal during P1's lapse is refused, the one after its reinstatement stored."""
    url = f"sqlite:///{tmp_path / 'book.db'}"
    files = [
        write(tmp_path / "renewals.csv", "policy_id,renewed_on\nP1,2021-04-01\nP1,2021-07-01\n"),
        write(tmp_path / "changes.csv", CHANGES),
        write(tmp_path / "policies.csv", POLICIES),
        write(tmp_path / "customers.csv", CUSTOMERS),
    ]
    said = imported_by_cli(url, files, ["customers", "policies", "status changes", "renewals"])
    assert "changes.csv (status changes): 12 rows, 5 stored, 0 already present, 7 rejected" in said
    assert "renewals.csv (renewals): 2 rows, 1 stored, 0 already present, 1 rejected" in said
    store = SqlStore.open(url)
    try:
        assert _history(store, "P1")[1] == ("LAPSED", dt.date(2021, 3, 1), "NON_PAYMENT")
    finally:
        store.dispose()


def _one_change_a_status_a_day(policy: Policy) -> bool:
    """A row is keyed by its policy, day and status: a policy lapsed twice in one day (a
    walk can draw it) cannot be written as rows."""
    keys = [(c.on, c.to_status) for c in policy.history]
    return len(keys) == len(set(keys))


@settings(
    max_examples=25 if settings().max_examples < 100 else 100,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(policy=gen.policies("C1", "C1", id="P1", until=TODAY).filter(_one_change_a_status_a_day))
def test_a_policy_imported_pending_with_its_changes_has_its_history(
    tmp_path_factory: pytest.TempPathFactory, policy: Policy
) -> None:
    """Any history a policy's lifecycle can reach (activation on any day, lapses and
    reinstatements, an end) comes back from its rows: the policy imported PENDING, then
    every change in order; a second import finds them all present."""
    tmp_path = tmp_path_factory.mktemp("changes")
    store = MemoryStore()
    pending = POLICY_HEADER + (
        f"P1,N1,C1,C1,{policy.product_line.name},{policy.start_date},{policy.term_years},"
        f"{policy.sum_assured.amount},{policy.annual_premium.amount},PENDING,,\n"
    )
    for name, text in (("c.csv", CUSTOMERS), ("p.csv", pending)):
        assert import_csv(store.unit_of_work(), write(tmp_path / name, text)).rejected == 0
    rows = "".join(
        f"P1,{c.to_status.name},{c.on},{c.reason.name if c.reason else ''}\n"
        for c in policy.history
    )
    path = write(tmp_path / "s.csv", "policy_id,status,on,end_reason\n" + rows)
    result = import_csv(store.unit_of_work(), path, today=TODAY)
    assert (result.stored, result.rejected) == (len(policy.history), 0)
    with store.unit_of_work() as uow:
        stored = uow.policies.get("P1")
    assert stored.history == policy.history
    assert stored.status is policy.status
    assert import_csv(store.unit_of_work(), path).already_present == len(policy.history)
