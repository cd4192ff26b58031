"""What another writer does at the same moment as a batch is caught by the batch's write
itself (SQL): ``save_many`` never overwrites a policy changed after its checks, and a new
batch that a concurrent commit made collide is refused by the database, naming the key."""

from __future__ import annotations

import datetime as dt
import threading
import time
from collections.abc import Callable

import pytest

from insurcrm.adapters.sql import SqlStore
from insurcrm.adapters.sql.repositories import SqlCustomers, SqlPolicies
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


@pytest.mark.parametrize("backend", list(STORES))
def test_a_new_batch_colliding_with_a_concurrent_commit_names_the_key(backend: str) -> None:
    store = STORES[backend]()
    outcome: list[BaseException | int] = []

    def other_writer() -> None:
        with store.unit_of_work() as uow:
            try:
                outcome.append(
                    uow.customers.add_many([make_customer("C2", "李娜"), make_customer("C1")])
                )
            except Duplicate as error:
                outcome.append(error)
            uow.commit()

    with store.unit_of_work() as uow:
        uow.customers.add(make_customer("C1", "王芳"))
        writer = threading.Thread(target=other_writer)
        writer.start()
        time.sleep(0.3)  # most often the other writer now waits for this one's row or lock
        uow.commit()
    writer.join(timeout=30)
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
        uow.customers.add(make_customer("C3", "王芳"))
        with pytest.raises(ConcurrencyError, match="another writer") as caught:
            uow.customers.add_many([make_customer("C2", "李娜"), make_customer("C1", "李娜")])
        assert "李娜" not in str(caught.value)
        uow.commit()  # the work before the batch is kept, nothing of the batch
    with store.unit_of_work() as uow:
        assert [c.id for c in uow.customers.iterate()] == ["C1", "C3"]
