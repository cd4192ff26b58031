"""Ctrl-C in the middle of a statement: the interrupt reaches the caller as it is, nothing
of the transaction is stored, and the store stays usable.

SQLAlchemy invalidates a connection interrupted inside the driver; the unit of work's
clean-up on that connection fails, and must not replace the interrupt (the command line
would print that failure's traceback instead of "Aborted!")."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from sqlalchemy import event

from insurcrm.adapters.sql import SqlStore
from insurcrm.testing.contracts import make_customer
from tests.contract.sql_stores import empty_postgres_store, empty_sqlite_store

STORES: list[Any] = [
    pytest.param(empty_sqlite_store, id="sqlite"),
    pytest.param(empty_postgres_store, id="postgres", marks=pytest.mark.postgres),
]


@pytest.mark.parametrize("empty_store", STORES)
def test_an_interrupt_inside_a_statement_is_raised_as_it_is(
    empty_store: Callable[[], SqlStore],
) -> None:
    store = empty_store()
    armed = False

    def interrupt(*args: object) -> None:
        if armed:
            raise KeyboardInterrupt

    def add_two() -> None:
        nonlocal armed
        with store.unit_of_work() as uow:
            uow.customers.add(make_customer("C1"))
            armed = True  # Ctrl-C while the second is written
            uow.customers.add(make_customer("C2"))

    event.listen(store.engine, "before_cursor_execute", interrupt)
    try:
        with pytest.raises(KeyboardInterrupt):
            add_two()
    finally:
        event.remove(store.engine, "before_cursor_execute", interrupt)
    with store.unit_of_work() as uow:  # nothing half-written; the store works on
        assert uow.customers.count() == 0
        uow.customers.add(make_customer("C3"))
        uow.commit()
    with store.unit_of_work() as uow:
        assert [c.id for c in uow.customers.iterate()] == ["C3"]
