"""The storage contract on SQLite files."""

from __future__ import annotations

from insurcrm.adapters.sql import SqlStore
from insurcrm.testing.contracts import StoreContract
from tests.contract.sql_stores import empty_sqlite_store


class TestSqliteStore(StoreContract):
    def empty_store(self) -> SqlStore:
        return empty_sqlite_store()
