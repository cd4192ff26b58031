"""A policy changed by another writer between a batch's checks and its write is caught by
the write itself (SQL): ``save_many`` never overwrites it."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

import pytest

from insurcrm.adapters.sql import SqlStore
from insurcrm.adapters.sql.repositories import SqlPolicies
from insurcrm.errors import ConcurrencyError
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
