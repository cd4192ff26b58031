"""Opening databases: SQLite (embedded default) and PostgreSQL (psycopg 3).

SQLite connections get WAL journaling (file databases), foreign keys on and a
busy timeout, and transactions that SQLAlchemy begins itself, so a unit of
work is one real SQLite transaction.
"""

from __future__ import annotations

import os
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import URL, Connection, make_url
from sqlalchemy.exc import ArgumentError, DBAPIError, NoSuchModuleError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from sqlalchemy.pool import SingletonThreadPool, StaticPool

from insurcrm.errors import ConcurrencyError, InsurCRMError, StorageError

__all__ = [
    "BUSY_TIMEOUT_MS",
    "MAX_READERS",
    "describe_url",
    "key_refused",
    "make_engine",
    "readers",
    "sqlite_file",
    "translate_errors",
]

#: How long a SQLite writer waits for another writer's lock before giving up.
BUSY_TIMEOUT_MS = 10_000

#: The most connections reading the portfolio's figures of a SQLite file at once.
MAX_READERS = 2

_SQLITE_BUSY = 5
_SQLITE_BUSY_SNAPSHOT = 517
#: PostgreSQL's SQLSTATE for a unique key stored twice.
_UNIQUE_VIOLATION = "23505"
#: PostgreSQL's SQLSTATE for a reference to a row that is not stored.
_FOREIGN_KEY_VIOLATION = "23503"
#: SQLite's extended codes for a primary key or unique index taken, and a reference missing.
_SQLITE_KEY_REFUSALS = frozenset(
    {
        sqlite3.SQLITE_CONSTRAINT_PRIMARYKEY,
        sqlite3.SQLITE_CONSTRAINT_UNIQUE,
        sqlite3.SQLITE_CONSTRAINT_FOREIGNKEY,
    }
)


def describe_url(url: str | URL) -> str:
    """The URL with its password hidden, for messages."""
    try:
        return make_url(url).render_as_string(hide_password=True)
    except ArgumentError:
        return "<not a database URL>"


def _parse(url: str | URL) -> URL:
    try:
        parsed = make_url(url)
    except ArgumentError:
        raise StorageError(
            "not a database URL; use e.g. sqlite:///insurcrm.db or "
            "postgresql+psycopg://user:password@host/dbname"
        ) from None
    if parsed.drivername == "postgresql" or parsed.drivername == "postgres":
        parsed = parsed.set(drivername="postgresql+psycopg")
    if parsed.get_backend_name() not in {"sqlite", "postgresql"}:
        raise StorageError(
            f"unsupported database {parsed.get_backend_name()!r}: use sqlite or postgresql"
        )
    return parsed


def sqlite_file(url: str | URL) -> Path | None:
    """The file of a SQLite URL naming one (``sqlite:///book.db``); None for any other
    URL, for SQLite in memory and for SQLite's own ``file:`` URIs.

    Raises:
        StorageError: the URL is malformed or not of a supported database.
    """
    parsed = _parse(url)
    database = parsed.database
    if parsed.get_backend_name() != "sqlite" or database in (None, "", ":memory:"):
        return None
    if parsed.query.get("uri") or str(database).startswith("file:"):
        return None
    return Path(str(database))


def make_engine(url: str | URL, **kwargs: Any) -> Engine:
    """An engine for ``url`` configured the way insurcrm needs.

    ``postgresql://`` URLs use the psycopg 3 driver (install ``insurcrm[postgres]``).

    Raises:
        StorageError: the URL is malformed, the database kind is not supported
            or its driver is missing.
    """
    parsed = _parse(url)
    try:
        if parsed.get_backend_name() == "sqlite":
            return _sqlite_engine(parsed, **kwargs)
        return create_engine(parsed, pool_pre_ping=True, **kwargs)
    except (NoSuchModuleError, ImportError) as error:
        raise StorageError(
            f"cannot load the driver for {describe_url(parsed)}: {error}; "
            "for PostgreSQL install insurcrm[postgres]"
        ) from None


def _sqlite_engine(url: URL, **kwargs: Any) -> Engine:
    in_memory = url.database in (None, "", ":memory:")
    if in_memory:
        kwargs.setdefault("poolclass", StaticPool)
        kwargs.setdefault("connect_args", {"check_same_thread": False})
    engine = create_engine(url, **kwargs)

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: sqlite3.Connection, record: object) -> None:
        # Let SQLAlchemy's BEGIN (below) start transactions, not the driver.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys = ON")
        cursor.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
        if not in_memory:
            cursor.execute("PRAGMA journal_mode = WAL")
            cursor.execute("PRAGMA synchronous = NORMAL")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection: Connection) -> None:
        connection.exec_driver_sql("BEGIN")

    return engine


def readers(engine: Engine) -> int:
    """How many readers read a big book's figures at once. On a SQLite file one per core,
    up to :data:`MAX_READERS` (SQLite runs a statement on one core). On PostgreSQL
    :data:`MAX_READERS` (the server runs each statement in a process of its own, whatever
    this machine's cores). One for SQLite in memory, which has one connection."""
    if engine.dialect.name == "postgresql":
        return MAX_READERS
    if engine.dialect.name != "sqlite" or isinstance(
        engine.pool, (StaticPool, SingletonThreadPool)
    ):
        return 1
    return max(1, min(MAX_READERS, os.cpu_count() or 1))


@contextmanager
def translate_errors(url: str | URL) -> Iterator[None]:
    """Turn driver errors into insurcrm errors that say what to do.

    A SQLite write from a stale snapshot (another process committed first)
    becomes :class:`ConcurrencyError`; other database failures, and no pooled connection
    free within the pool's timeout, become :class:`StorageError` naming the database
    (password hidden).
    """
    try:
        yield
    except PoolTimeout:
        raise StorageError(
            f"no connection to {describe_url(url)} was free within the pool's timeout: "
            "other work holds them all, or the pool is smaller than the work needs "
            f"(a PostgreSQL assessment reads with up to {MAX_READERS} connections of its "
            "own besides the unit of work's; see the engine's pool_size and max_overflow)"
        ) from None
    except DBAPIError as error:
        orig = error.orig if error.orig is not None else error
        raise _translated(orig, url) from _cause(orig, error)
    except Exception as error:
        if getattr(error, "sqlstate", None) is None:  # not the driver's (psycopg's) own
            raise
        # the bulk path writes with psycopg's COPY on the driver connection, unwrapped
        raise _translated(error, url) from _cause(error, error)


def _translated(orig: BaseException, url: str | URL) -> InsurCRMError:
    """The insurcrm error for a driver's error ``orig``."""
    code = getattr(orig, "sqlite_errorcode", None)
    if code == _SQLITE_BUSY_SNAPSHOT:
        return ConcurrencyError(
            "another writer changed the database since this unit of work read it"
        )
    if code is not None and code & 0xFF == _SQLITE_BUSY:  # at once after a read, else timed out
        return ConcurrencyError(
            "another writer holds the database (SQLite writes one at a time): try again"
        )
    sqlstate = getattr(orig, "sqlstate", None)
    if sqlstate in ("40001", "40P01"):  # serialization failure, deadlock
        return ConcurrencyError("the database refused a concurrent update")
    if sqlstate == _UNIQUE_VIOLATION:  # a key another transaction stored since the check
        return ConcurrencyError(
            "another writer stored the same key (an id, a policy number or a resident "
            "ID number) since this unit of work checked it"
        )
    first = str(orig).splitlines()[0] if str(orig) else ""  # PostgreSQL's DETAIL is left out
    return StorageError(f"database error on {describe_url(url)}: {type(orig).__name__}: {first}")


def key_refused(error: BaseException) -> bool:
    """Whether ``error`` (the driver's, or SQLAlchemy's wrapping it) is the database
    refusing a row for a key: a primary key or unique index taken, or a foreign key naming a
    row that is not stored (not a NOT NULL or CHECK constraint)."""
    orig = getattr(error, "orig", None) or error
    code = getattr(orig, "sqlite_errorcode", None)
    if code is not None:
        return code in _SQLITE_KEY_REFUSALS
    return getattr(orig, "sqlstate", None) in (_UNIQUE_VIOLATION, _FOREIGN_KEY_VIOLATION)


def _cause(orig: BaseException, error: BaseException) -> BaseException | None:
    """What the insurcrm error is raised from: nothing for a unique key, whose driver
    message names the value (a resident ID number), else the driver's error."""
    return None if getattr(orig, "sqlstate", None) == _UNIQUE_VIOLATION else error
