"""What another writer does at the same moment as a batch is caught by the batch's write
itself (SQL): ``save_many`` never overwrites a policy changed after its checks, and a new
batch that a concurrent commit made collide is refused by the database, naming the key."""

from __future__ import annotations

import datetime as dt
import threading
from collections.abc import Callable

import pytest
from sqlalchemy.exc import IntegrityError

from insurcrm.adapters.sql import SqlStore
from insurcrm.adapters.sql.engine import key_refused
from insurcrm.adapters.sql.repositories import LOOK_UP_BELOW, SqlCustomers, SqlPolicies
from insurcrm.domain.customers import Customer
from insurcrm.errors import ConcurrencyError, Duplicate
from insurcrm.testing.contracts import DAY, make_customer, make_policy
from tests.contract.sql_stores import empty_postgres_store, empty_sqlite_store

STORES: dict[str, Callable[[], SqlStore]] = {
    "sqlite": empty_sqlite_store,
    "postgres": empty_postgres_store,
}


@pytest.mark.parametrize("backend", list(STORES))
def test_a_change_made_after_the_checks_is_not_overwritten(
    backend: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    store = STORES[backend]()
    with store.unit_of_work() as uow:
        uow.customers.add(make_customer())
        first = uow.policies.add(make_policy("P1").activate(DAY))
        read = uow.policies.add(make_policy("P2").activate(DAY))
        uow.commit()
    with store.unit_of_work() as uow:
        renewed = uow.policies.save(read.renew(dt.date(2025, 1, 1)))
        uow.commit()
    # the batch's checks saw P2 as it was read, before the other writer's commit
    versions = {first.id: first.version, read.id: read.version}
    monkeypatch.setattr(SqlPolicies, "_versions", lambda self, ids: versions)
    batch = [first.renew(dt.date(2025, 2, 1)), read.record_missed_premium(dt.date(2025, 1, 1))]
    with store.unit_of_work() as uow:
        with pytest.raises(ConcurrencyError):
            uow.policies.save_many(batch)
        uow.commit()  # even a caller that commits after the error stores nothing of it
    monkeypatch.undo()
    with store.unit_of_work() as uow:
        assert uow.policies.get_many(["P1", "P2"]) == [first, renewed]


def _people(count: int, first: int = 1) -> list[Customer]:
    """New customers C<first>… past :data:`LOOK_UP_BELOW`, written before looked up."""
    return [make_customer(f"C{i}", "李娜") for i in range(first, first + count)]


@pytest.mark.parametrize("backend", list(STORES))
def test_a_key_another_writer_committed_meanwhile_is_named(backend: str) -> None:
    store = STORES[backend]()
    batch = [*_people(LOOK_UP_BELOW, first=2), make_customer("C1", "李娜")]
    with store.unit_of_work() as uow:
        with store.unit_of_work() as other:  # commits after this one began
            other.customers.add(make_customer("C1", "王芳"))
            other.commit()
        with pytest.raises(Duplicate) as caught:
            uow.customers.add_many(batch)
        assert (caught.value.kind, caught.value.key) == ("customer", "C1")
        assert caught.value.__context__ is None
        uow.commit()
    with store.unit_of_work() as uow:
        assert [c.profile.name.value for c in uow.customers.iterate() if c.profile] == ["王芳"]


def _waiting_for_a_lock(store: SqlStore) -> bool:
    """Whether another session of the PostgreSQL test database waits for a lock."""
    with store.engine.connect() as conn:
        return bool(
            conn.exec_driver_sql(
                "SELECT count(*) FROM pg_stat_activity "
                "WHERE datname = current_database() AND wait_event_type = 'Lock'"
            ).scalar()
        )


def test_a_batch_waiting_for_another_writers_key_names_it_once_committed() -> None:
    # PostgreSQL: the batch's write waits for the other transaction's row, then the unique
    # key refuses it. (On SQLite one writer at a time holds the whole file: a unit of work
    # that read before its batch gets ConcurrencyError, as any write of it would.)
    store = empty_postgres_store()
    outcome: list[BaseException | int] = []

    def other_writer() -> None:
        with store.unit_of_work() as uow:
            try:
                outcome.append(uow.customers.add_many(_people(LOOK_UP_BELOW)))
            except Duplicate as error:
                outcome.append(error)
            uow.commit()

    with store.unit_of_work() as uow:
        uow.customers.add(make_customer("C1", "王芳"))
        writer = threading.Thread(target=other_writer)
        writer.start()
        while writer.is_alive() and not _waiting_for_a_lock(store):
            pass  # until the batch's write waits for this transaction's C1
        uow.commit()
    writer.join(timeout=60)
    assert not writer.is_alive()
    (error,) = outcome
    assert isinstance(error, Duplicate)
    assert (error.kind, error.key) == ("customer", "C1")
    with store.unit_of_work() as uow:
        assert [c.id for c in uow.customers.iterate()] == ["C1"]


@pytest.mark.parametrize("backend", list(STORES))
def test_a_refusal_the_checks_cannot_explain_is_a_concurrency_error(
    backend: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    store = STORES[backend]()
    with store.unit_of_work() as uow:
        uow.customers.add(make_customer("C1"))
        uow.commit()
    # As if the row the database refused were gone again by the time the checks look.
    monkeypatch.setattr(SqlCustomers, "_check_many", lambda self, items, numbers: None)
    with store.unit_of_work() as uow:
        uow.customers.add(make_customer("C0", "王芳"))
        with pytest.raises(ConcurrencyError, match="another writer") as caught:
            uow.customers.add_many([*_people(LOOK_UP_BELOW, first=2), make_customer("C1")])
        assert "李娜" not in str(caught.value)
        assert caught.value.__context__ is None
        uow.commit()  # the work before the batch is kept, nothing of the batch
    with store.unit_of_work() as uow:
        assert [c.id for c in uow.customers.iterate()] == ["C0", "C1"]


@pytest.mark.parametrize("backend", list(STORES))
def test_only_a_key_taken_or_missing_is_a_refusal_to_look_up(backend: str) -> None:
    store = STORES[backend]()
    statements = {
        "INSERT INTO k_parent VALUES ('a', 'y', 'w')": True,  # the primary key
        "INSERT INTO k_parent VALUES ('b', 'x', 'w')": True,  # the unique column
        "INSERT INTO k_child VALUES ('c', 'z')": True,  # a reference missing
        "INSERT INTO k_parent VALUES ('d', 'y', NULL)": False,  # NOT NULL: not a key
    }
    with store.engine.connect() as conn:
        conn.exec_driver_sql(
            "CREATE TEMPORARY TABLE k_parent "
            "(id VARCHAR(8) PRIMARY KEY, v VARCHAR(8) UNIQUE, w VARCHAR(8) NOT NULL)"
        )
        conn.exec_driver_sql(
            "CREATE TEMPORARY TABLE k_child (id VARCHAR(8) PRIMARY KEY, "
            "parent VARCHAR(8) REFERENCES k_parent (id))"
        )
        conn.exec_driver_sql("INSERT INTO k_parent VALUES ('a', 'x', 'w')")
        for statement, expected in statements.items():
            with pytest.raises(IntegrityError) as caught, conn.begin_nested():
                conn.exec_driver_sql(statement)
            assert key_refused(caught.value) is expected, statement
            assert caught.value.orig is not None
            assert key_refused(caught.value.orig) is expected, statement
        conn.rollback()
