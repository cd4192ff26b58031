"""The SQL unit of work and the store that makes units of work for one database."""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterator
from types import TracebackType
from typing import Any, Self, cast

from sqlalchemy import Connection, Engine
from sqlalchemy.engine import URL

from insurcrm.adapters.sql import records
from insurcrm.adapters.sql.engine import (
    describe_url,
    make_engine,
    readers,
    sqlite_file,
    translate_errors,
)
from insurcrm.adapters.sql.outbox import SqlOutbox, mark_delivered
from insurcrm.adapters.sql.portfolio import SqlPortfolio
from insurcrm.adapters.sql.repositories import SqlCustomers, SqlHouseholds, SqlPolicies
from insurcrm.adapters.sql.schema import check_schema
from insurcrm.adapters.sql.schema import upgrade as upgrade_schema
from insurcrm.adapters.sql.tiers import SqlTierMemberships
from insurcrm.dispatch import EventHandlers
from insurcrm.domain.complaints import Complaint
from insurcrm.domain.interactions import Interaction
from insurcrm.domain.repositories import (
    ChurnRecordRepository,
    CustomerRepository,
    HouseholdRepository,
    Outbox,
    PolicyRepository,
    PortfolioReader,
    RecordRepository,
    SurveyResponseRepository,
    TierMembershipRepository,
)
from insurcrm.errors import SchemaError, StorageError

__all__ = ["SqlStore", "SqlUnitOfWork"]


class SqlStore:
    """One database: opens it, checks its schema, and makes units of work.

    >>> store = SqlStore.open("sqlite://", upgrade=True)   # in-memory SQLite
    >>> with store.unit_of_work() as uow:
    ...     uow.customers.count()
    0
    """

    def __init__(self, engine: Engine, handlers: EventHandlers | None = None) -> None:
        self.engine = engine
        self.handlers = handlers if handlers is not None else EventHandlers()

    @classmethod
    def open(
        cls,
        url: str | URL,
        *,
        upgrade: bool = False,
        handlers: EventHandlers | None = None,
        **engine_options: Any,
    ) -> SqlStore:
        """Open the database at ``url``.

        Args:
            url: e.g. ``sqlite:///insurcrm.db``, ``sqlite://`` (in memory) or
                ``postgresql+psycopg://user:password@host/dbname``.
            upgrade: create or upgrade the schema first (as ``insurcrm db upgrade``).
            handlers: the event handlers called after each commit (default: none yet;
                subscribe later on ``store.handlers``).
            **engine_options: passed to :func:`sqlalchemy.create_engine`.

        Raises:
            StorageError: the URL is bad or the database cannot be opened.
            SchemaError: the schema is missing or older than the package
                (run ``insurcrm db upgrade``), or newer.
        """
        path = sqlite_file(url)
        if not upgrade and path is not None and not path.exists():  # a mistyped path, say
            raise SchemaError(
                f"no SQLite database at {describe_url(url)} (the file {path} does not exist): "
                "check the URL, or create it with `insurcrm db upgrade --db URL`"
            )
        engine = make_engine(url, **engine_options)
        if upgrade:
            upgrade_schema(engine)
        check_schema(engine)
        return cls(engine, handlers)

    def unit_of_work(self) -> SqlUnitOfWork:
        """A new unit of work on this database."""
        return SqlUnitOfWork(self.engine, self.handlers)

    def dispose(self) -> None:
        """Close every pooled connection."""
        self.engine.dispose()


class _Closed:
    def __getattr__(self, name: str) -> Any:
        raise StorageError("use the unit of work inside a `with` block")


def _guarded(repository: object, url: URL) -> Any:
    """Wrap every method of ``repository`` so driver errors become insurcrm errors."""

    class Guard:
        def __getattr__(self, name: str) -> Any:
            attribute = getattr(repository, name)
            if not callable(attribute):
                return attribute

            @functools.wraps(attribute)
            def call(*args: Any, **kwargs: Any) -> Any:
                with translate_errors(url):
                    result = attribute(*args, **kwargs)
                if isinstance(result, Iterator):
                    return _guarded_iter(result, url)
                return result

            return call

    return Guard()


def _guarded_iter(items: Iterator[Any], url: URL) -> Iterator[Any]:
    while True:
        with translate_errors(url):
            try:
                item = next(items)
            except StopIteration:
                return
        yield item


class SqlUnitOfWork:
    """A unit of work on one SQL connection and transaction.

    See :class:`~insurcrm.domain.unit_of_work.UnitOfWork`. On SQLite a write
    from a stale snapshot (another process committed first) raises
    :class:`~insurcrm.errors.ConcurrencyError`, as a stale version does.
    """

    customers: CustomerRepository
    policies: PolicyRepository
    households: HouseholdRepository
    tiers: TierMembershipRepository
    churns: ChurnRecordRepository
    complaints: RecordRepository[Complaint]
    interactions: RecordRepository[Interaction]
    surveys: SurveyResponseRepository
    outbox: Outbox
    portfolio: PortfolioReader

    def __init__(self, engine: Engine, handlers: EventHandlers | None = None) -> None:
        self.engine = engine
        self.handlers = handlers if handlers is not None else EventHandlers()
        self._conn: Connection | None = None
        self._outbox: SqlOutbox | None = None
        self._portfolio: SqlPortfolio | None = None
        self._set_closed()

    def _set_closed(self) -> None:
        closed = cast(Any, _Closed())
        self.customers = closed
        self.policies = closed
        self.households = closed
        self.tiers = closed
        self.churns = closed
        self.complaints = closed
        self.interactions = closed
        self.surveys = closed
        self.outbox = closed
        self.portfolio = closed
        self._outbox = None
        self._portfolio = None

    @property
    def connection(self) -> Connection:
        """The connection of the open transaction (for adapters and reports)."""
        if self._conn is None:
            raise StorageError("use the unit of work inside a `with` block")
        return self._conn

    def __enter__(self) -> Self:
        if self._conn is not None:
            raise StorageError("this unit of work is already in a `with` block")
        url = self.engine.url
        with translate_errors(url):
            conn = self.engine.connect()
            conn.begin()
        self._conn = conn
        outbox = self._outbox = SqlOutbox(conn)
        self.customers = _guarded(SqlCustomers(conn, outbox), url)
        self.policies = _guarded(SqlPolicies(conn, outbox), url)
        self.households = _guarded(SqlHouseholds(conn), url)
        self.tiers = _guarded(SqlTierMemberships(conn, outbox), url)
        self.churns = _guarded(records.churn_records(conn, outbox), url)
        self.complaints = _guarded(records.complaints(conn, outbox), url)
        self.interactions = _guarded(records.interactions(conn, outbox), url)
        self.surveys = _guarded(records.survey_responses(conn, outbox), url)
        self.outbox = _guarded(outbox, url)
        self._portfolio = SqlPortfolio(conn, readers(self.engine))
        self.portfolio = self._portfolio  # translates driver errors itself, once
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        conn = self.connection
        try:
            conn.rollback()
            if self._portfolio is not None:
                self._run(self._portfolio.close)
        except BaseException:
            if exc is None:
                raise
            # the error in flight (a Ctrl-C that invalidated the connection, say) is the
            # one to report: a failure to clean up after it must not replace it
        finally:
            conn.close()
            self._conn = None
            self._set_closed()

    def commit(self) -> None:
        conn = self.connection
        outbox = self._outbox
        assert outbox is not None
        try:
            self._run(outbox.flush)
            self._run(conn.commit)
            self._end_reads()
        except BaseException:
            outbox.discard()
            raise
        written = list(outbox.written)
        outbox.written.clear()
        if written:
            # After the commit, outside any transaction of ours: a handler may write.
            delivered = self.handlers.deliver(written)
            if delivered:
                self._run(lambda: mark_delivered(self.engine, delivered))
        self._run(conn.begin)

    def rollback(self) -> None:
        conn = self.connection
        self._run(conn.rollback)
        self._end_reads()
        if self._outbox is not None:
            self._outbox.discard()
        self._run(conn.begin)

    def _end_reads(self) -> None:
        """The transaction ends: so does the portfolio's snapshot, if it took one."""
        if self._portfolio is not None:
            self._run(self._portfolio.reset)

    def _run(self, step: Callable[[], object]) -> None:
        with translate_errors(self.engine.url):
            step()
