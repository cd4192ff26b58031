"""Reading the figures of a SQLite file with reader processes.

The figures split into statements read together give exactly the figures of the one
statement; the readers read one committed state, kept until the unit of work's
transaction ends; a unit of work that has written reads its own writes; a writer is not
held up by an assessment in progress; a stream stopped early leaves its readers usable;
a failure in a reader is raised as StorageError."""

from __future__ import annotations

import datetime as dt
from collections.abc import Generator, Iterator
from contextlib import contextmanager

import pytest
from sqlalchemy import Connection, Engine
from sqlalchemy.engine import make_url

from insurcrm.adapters.sql import SqlStore, reader_process
from insurcrm.adapters.sql import portfolio as sql_portfolio
from insurcrm.adapters.sql import unit_of_work as sql_unit_of_work
from insurcrm.adapters.sql.engine import readers
from insurcrm.adapters.sql.portfolio import SqlPortfolio, figure_statements, figures_query
from insurcrm.domain.assessment import AssessmentConfig, AssessmentWindows
from insurcrm.errors import ConcurrencyError, StorageError
from insurcrm.services.churn import record_churn, win_back_queue
from insurcrm.services.sample_portfolio import generate_sample
from insurcrm.testing.contracts import make_customer
from tests.contract.sql_stores import empty_postgres_store, empty_sqlite_store, postgres_url

AS_OF = dt.date(2024, 6, 30)
CONFIG = AssessmentConfig()
WINDOWS = AssessmentWindows.of(AS_OF, CONFIG)


@pytest.fixture(scope="module")
def book() -> SqlStore:
    store = empty_sqlite_store()
    generate_sample(store.unit_of_work(), customers=60, seed=7, as_of=AS_OF)
    return store


@pytest.fixture(autouse=True)
def any_book_in_parallel(monkeypatch: pytest.MonkeyPatch) -> None:
    """Reader processes for books of any size (not only big ones)."""
    monkeypatch.setattr(sql_portfolio, "PARALLEL_FROM", 0)


@pytest.fixture
def two_readers(monkeypatch: pytest.MonkeyPatch) -> None:
    """Units of work read with two readers whatever the machine's cores."""
    monkeypatch.setattr(sql_unit_of_work, "readers", lambda engine: 2)


def _ids(store: SqlStore) -> list[str]:
    with store.unit_of_work() as uow:
        return [f.customer_id for f in uow.portfolio.figures(WINDOWS, CONFIG)]


@pytest.mark.parametrize("n", [1, 2, 3, 5, 40])
def test_the_statements_together_have_every_column_once(n: int) -> None:
    statements = figure_statements(WINDOWS, CONFIG, n)
    assert 1 <= len(statements) <= n
    names = [c.name for s in statements for c in s.selected_columns if c.name != "cid"]
    expected = [c.name for c in figures_query(WINDOWS, CONFIG).selected_columns]
    assert sorted(names) == sorted(n for n in expected if n != "cid")
    assert len(set(names)) == len(names) == len(expected) - 1 == 52
    assert all(s.selected_columns[0].name == "cid" for s in statements)


@pytest.mark.parametrize("n", [2, 3, 5])
def test_several_readers_read_the_figures_of_one(book: SqlStore, n: int) -> None:
    with book.unit_of_work() as uow:
        alone = list(SqlPortfolio(uow.connection, 1).figures(WINDOWS, CONFIG))
        together = SqlPortfolio(uow.connection, n)
        try:
            assert list(together.figures(WINDOWS, CONFIG)) == alone
            for size in (1, 7, 60, 1000):  # batches of any size line up
                batches = list(together.figure_batches(WINDOWS, CONFIG, size))
                assert [f for b in batches for f in b.figures()] == alone
            assert together.period_counts(WINDOWS) == SqlPortfolio(uow.connection, 1).period_counts(
                WINDOWS
            )
        finally:
            together.reset()
    assert len(alone) == 60


def test_the_readers_keep_one_state_until_the_transaction_ends(two_readers: None) -> None:
    store = empty_sqlite_store()
    generate_sample(store.unit_of_work(), customers=5, seed=1, as_of=AS_OF)
    with store.unit_of_work() as uow:
        before = [f.customer_id for f in uow.portfolio.figures(WINDOWS, CONFIG)]
        with store.unit_of_work() as writer:  # not held up by the readers
            writer.customers.add(make_customer("Z-NEW"))
            writer.commit()
        assert [f.customer_id for f in uow.portfolio.figures(WINDOWS, CONFIG)] == before
        uow.rollback()  # a new transaction: a new state
        after = [f.customer_id for f in uow.portfolio.figures(WINDOWS, CONFIG)]
    assert after == [*before, "Z-NEW"]
    assert len(before) == 5


def test_a_unit_of_work_that_has_written_reads_its_writes(two_readers: None) -> None:
    store = empty_sqlite_store()
    generate_sample(store.unit_of_work(), customers=5, seed=1, as_of=AS_OF)
    with store.unit_of_work() as uow:
        uow.customers.add(make_customer("Z-NEW"))
        ids = [f.customer_id for f in uow.portfolio.figures(WINDOWS, CONFIG)]
        assert ids[-1] == "Z-NEW"
        assert len(ids) == 6
    assert "Z-NEW" not in _ids(store)  # never committed


def test_readers_per_backend(book: SqlStore) -> None:
    assert 1 <= readers(book.engine) <= 2
    memory = SqlStore.open("sqlite://", upgrade=True)
    try:
        assert readers(memory.engine) == 1  # one connection only
    finally:
        memory.dispose()


def test_a_stream_stopped_early_leaves_the_readers_usable(book: SqlStore) -> None:
    with book.unit_of_work() as uow:
        alone = list(SqlPortfolio(uow.connection, 1).figures(WINDOWS, CONFIG))
        together = SqlPortfolio(uow.connection, 2)
        try:
            batches = together.figure_batches(WINDOWS, CONFIG, 5)
            assert isinstance(batches, Generator)
            first = next(batches)
            batches.close()  # stopped after one batch of twelve
            assert list(first.figures()) == alone[:5]
            assert list(together.figures(WINDOWS, CONFIG)) == alone
        finally:
            together.reset()


def test_a_reader_that_dies_is_a_storage_error(book: SqlStore) -> None:
    with book.unit_of_work() as uow:
        together = SqlPortfolio(uow.connection, 2)
        try:
            together.period_counts(WINDOWS)  # the snapshot is taken
            snapshot = together._snapshot
            assert snapshot is not None
            reader = snapshot.readers[1]
            assert isinstance(reader, reader_process.ReaderProcess)
            reader._process.kill()
            reader._process.wait()
            with pytest.raises(StorageError, match="reader process ended"):
                list(together.figures(WINDOWS, CONFIG))
        finally:
            together.reset()


def test_a_reader_that_ended_with_a_message_unsent_closes_quietly(
    book: SqlStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A reader process that ended before taking a message (the parent's buffer still holds
    it) closes without raising: its readers are closed on the way to reading alone."""
    monkeypatch.setattr(reader_process, "_ENTRY", "import sys; sys.exit(3)")
    reader = reader_process.ReaderProcess(book.engine.url.render_as_string(hide_password=False))
    with pytest.raises(StorageError):  # ready() closes it: a fresh one below
        reader.ready()
    reader = reader_process.ReaderProcess(book.engine.url.render_as_string(hide_password=False))
    reader._process.wait()
    with pytest.raises(StorageError):
        reader._send(("stop",))  # the pipe is broken: the message stays in the buffer
    reader.close()


def test_without_reader_processes_one_connection_reads(
    book: SqlStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(reader_process, "_ENTRY", "import sys; sys.exit(3)")
    with book.unit_of_work() as uow:
        alone = list(SqlPortfolio(uow.connection, 1).figures(WINDOWS, CONFIG))
        together = SqlPortfolio(uow.connection, 2)
        with pytest.warns(RuntimeWarning, match="one connection: a reader process ended"):
            assert list(together.figures(WINDOWS, CONFIG)) == alone
        assert list(together.figures(WINDOWS, CONFIG)) == alone  # warned once
        together.reset()


@contextmanager
def _portfolio(conn: Connection, readers: int) -> Iterator[SqlPortfolio]:
    """A portfolio reader on ``conn``, its snapshot given back at the end."""
    portfolio = SqlPortfolio(conn, readers)
    try:
        yield portfolio
    finally:
        portfolio.reset()


@pytest.mark.postgres
def test_postgres_readers_share_one_snapshot() -> None:
    store = empty_postgres_store()
    generate_sample(store.unit_of_work(), customers=30, seed=3, as_of=AS_OF)
    with store.unit_of_work() as uow:
        with _portfolio(uow.connection, 1) as one:
            alone = list(one.figures(WINDOWS, CONFIG))
            counts = one.period_counts(WINDOWS)
        with _portfolio(uow.connection, 2) as together:
            assert list(together.figures(WINDOWS, CONFIG)) == alone
            assert together.period_counts(WINDOWS) == counts
            with store.unit_of_work() as writer:  # not held up by the readers
                writer.customers.add(make_customer("Z-NEW"))
                writer.commit()
            assert list(together.figures(WINDOWS, CONFIG)) == alone  # one snapshot kept
    with store.unit_of_work() as uow:
        uow.customers.add(make_customer("Z-OWN"))
        with _portfolio(uow.connection, 2) as own:
            ids = [f.customer_id for f in own.figures(WINDOWS, CONFIG)]
    assert ids == sorted([*(f.customer_id for f in alone), "Z-NEW", "Z-OWN"])


@pytest.mark.postgres
@pytest.mark.parametrize("readers", [1, 2])
def test_a_small_postgres_book_is_read_in_one_snapshot(
    readers: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The unit of work's connection is READ COMMITTED: a commit between the period
    counts and the figures would mix two states, so they read a snapshot of their own."""
    monkeypatch.setattr(sql_portfolio, "PARALLEL_FROM", 10**9)  # one reader: a small book
    store = empty_postgres_store()
    generate_sample(store.unit_of_work(), customers=10, seed=5, as_of=AS_OF)
    with store.unit_of_work() as uow:
        with _portfolio(uow.connection, readers) as portfolio:
            portfolio.period_counts(WINDOWS)  # the snapshot is taken
            snapshot = portfolio._snapshot
            assert snapshot is not None
            assert len(snapshot.readers) == 1
            with store.unit_of_work() as writer:
                writer.customers.add(make_customer("Z-NEW"))
                writer.commit()
            ids = [f.customer_id for f in portfolio.figures(WINDOWS, CONFIG)]
        assert "Z-NEW" not in ids
        assert len(ids) == 10
        # a new read takes a new snapshot, which sees the commit
        with _portfolio(uow.connection, readers) as later:
            assert "Z-NEW" in [f.customer_id for f in later.figures(WINDOWS, CONFIG)]


@pytest.mark.postgres
def test_a_pool_too_small_for_the_assessment_is_a_storage_error_that_says_so() -> None:
    """The assessment reads PostgreSQL with connections of its own besides the unit of
    work's: with none to spare, the pool's timeout ends in an error saying what to change,
    not in SQLAlchemy's."""
    empty_postgres_store()  # migrated and empty
    url = postgres_url()
    assert url is not None
    store = SqlStore.open(url, pool_size=1, max_overflow=0, pool_timeout=0.2)
    try:
        with pytest.raises(StorageError) as error, store.unit_of_work() as uow:
            uow.portfolio.period_counts(WINDOWS)
        message = str(error.value)
        assert "pool's timeout" in message
        assert "pool_size and max_overflow" in message
        assert f":{make_url(url).password}@" not in message  # the password is hidden
    finally:
        store.dispose()


def test_a_churn_recorded_as_the_readers_start_fails_the_queue_not_silently(
    two_readers: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The unit of work reads the churn records in its own state, which begins a moment
    before the readers' (they start while it counts the book): a churn committed in
    between is in the figures but not among the records, and the win-back queue says so."""
    store = empty_sqlite_store()
    with store.unit_of_work() as uow:
        uow.customers.add(make_customer("C1"))
        uow.commit()
    taken = sql_portfolio._Snapshot.take

    def churn_first(engine: Engine, n: int) -> sql_portfolio._Snapshot:
        record_churn(store.unit_of_work(), "C1", AS_OF)
        return taken(engine, n)

    monkeypatch.setattr(sql_portfolio._Snapshot, "take", churn_first)
    with pytest.raises(ConcurrencyError, match="run it again"):
        win_back_queue(store.unit_of_work(), AS_OF, CONFIG.win_back_model)
    monkeypatch.setattr(sql_portfolio._Snapshot, "take", taken)
    (queued,) = win_back_queue(store.unit_of_work(), AS_OF, CONFIG.win_back_model)
    assert (queued.record.customer_id, queued.decision.churn_id) == ("C1", queued.record.id)
