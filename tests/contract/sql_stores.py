"""Empty SQL stores for the contract tests: a SQLite file copied from a migrated template,
and the PostgreSQL test database (``INSURCRM_TEST_POSTGRES_URL``) with its tables emptied."""

from __future__ import annotations

import atexit
import os
import shutil
import tempfile
from pathlib import Path

import pytest
from sqlalchemy import text

from insurcrm.adapters.sql import SqlStore, upgrade
from insurcrm.adapters.sql.tables import metadata

POSTGRES_URL_VARIABLE = "INSURCRM_TEST_POSTGRES_URL"

_workdir = Path(tempfile.mkdtemp(prefix="insurcrm-contract-"))
atexit.register(shutil.rmtree, _workdir, ignore_errors=True)
_template: Path | None = None
_count = 0
_open: list[SqlStore] = []


def empty_sqlite_store() -> SqlStore:
    """A new SQLite file with the current schema and no data."""
    global _template, _count
    if _template is None:
        _template = _workdir / "template.db"
        upgrade(f"sqlite:///{_template}")
    while _open:
        _open.pop().dispose()
    _count += 1
    path = _workdir / f"store-{_count}.db"
    shutil.copyfile(_template, path)
    store = SqlStore.open(f"sqlite:///{path}")
    _open.append(store)
    return store


_postgres: SqlStore | None = None


def postgres_url() -> str | None:
    """The test server's URL, or None (skip locally; in CI a missing server fails)."""
    url = os.environ.get(POSTGRES_URL_VARIABLE)
    if not url and os.environ.get("CI"):
        pytest.fail(
            f"CI is set but {POSTGRES_URL_VARIABLE} is not: PostgreSQL tests must run in CI"
        )
    return url or None


def empty_postgres_store() -> SqlStore:
    """The PostgreSQL test database, migrated, with every table emptied."""
    global _postgres
    if _postgres is None:
        url = postgres_url()
        if url is None:
            pytest.skip(
                f"set {POSTGRES_URL_VARIABLE}=postgresql+psycopg://user:pw@127.0.0.1/db "
                "to run the PostgreSQL tests (.ci/run does)"
            )
        _postgres = SqlStore.open(url, upgrade=True)
    names = ", ".join(t.name for t in metadata.sorted_tables)
    with _postgres.engine.begin() as conn:
        conn.execute(text(f"TRUNCATE {names} CASCADE"))
    return _postgres
