"""The storage contract on PostgreSQL (``INSURCRM_TEST_POSTGRES_URL``; skipped locally without)."""

from __future__ import annotations

import pytest

from insurcrm.adapters.sql import SqlStore
from insurcrm.testing.contracts import StoreContract
from tests.contract.sql_stores import empty_postgres_store

pytestmark = pytest.mark.postgres


class TestPostgresStore(StoreContract):
    def empty_store(self) -> SqlStore:
        return empty_postgres_store()
