"""The migrations build exactly the schema the adapter uses, and old schemas are refused."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from insurcrm.adapters.sql import SqlStore, head_revision, make_engine, upgrade
from insurcrm.adapters.sql.engine import translate_errors
from insurcrm.adapters.sql.schema import VERSION_TABLE, current_revision, downgrade
from insurcrm.adapters.sql.tables import metadata
from insurcrm.domain.card import Holding
from insurcrm.domain.policies import ProductLine
from insurcrm.domain.values import Money, ResidentId
from insurcrm.errors import ConcurrencyError, SchemaError, StorageError
from insurcrm.testing.contracts import DAY, make_customer, make_policy
from tests.contract.sql_stores import postgres_url


def _differences(url: str) -> list[object]:
    engine = make_engine(url)
    with engine.connect() as conn:
        diffs = compare_metadata(MigrationContext.configure(conn), metadata)
    engine.dispose()
    return [d for d in diffs if not (d[0] == "remove_table" and d[1].name == VERSION_TABLE)]


def test_migrations_match_the_tables_on_sqlite(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'm.db'}"
    assert upgrade(url) == head_revision()
    assert _differences(url) == []


@pytest.mark.postgres
def test_migrations_match_the_tables_on_postgres() -> None:
    url = postgres_url()
    if url is None:
        pytest.skip("set INSURCRM_TEST_POSTGRES_URL to run the PostgreSQL tests")
    assert upgrade(url) == head_revision()
    assert _differences(url) == []


def test_upgrade_twice_changes_nothing(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'm.db'}"
    assert upgrade(url) == upgrade(url) == head_revision()


def test_a_database_without_schema_says_to_upgrade(tmp_path: Path) -> None:
    empty = tmp_path / "empty.db"
    sqlite3.connect(empty).execute("CREATE TABLE other (x)").connection.close()
    with pytest.raises(SchemaError, match=r"has no insurcrm schema.*insurcrm db upgrade"):
        SqlStore.open(f"sqlite:///{empty}")


def test_the_upgrade_to_unique_id_numbers_stops_on_shared_ones(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'shared.db'}"
    store = SqlStore.open(url, upgrade=True)
    with store.unit_of_work() as uow:
        uow.customers.add(make_customer("C1", id_number=ResidentId("11010519491231002X")))
        uow.customers.add(make_customer("C2", id_number=ResidentId("110101199003074477")))
        uow.commit()
    store.dispose()
    assert downgrade(url, "0003") == "0003"
    engine = make_engine(url)
    with engine.begin() as conn:  # a book from before: one person twice
        conn.execute(text("UPDATE customers SET id_number = '11010519491231002X'"))
    shared = r"1 resident ID numbers are each held by more.*stays at revision 0003"
    with pytest.raises(SchemaError, match=shared) as e:
        upgrade(url)
    assert "11010519491231002X" not in str(e.value)
    assert current_revision(engine) == "0003"  # nothing was changed
    with engine.begin() as conn:  # merged
        conn.execute(text("UPDATE customers SET id_number = NULL WHERE id = 'C2'"))
    engine.dispose()
    assert upgrade(url) == head_revision()
    assert _differences(url) == []


def test_amounts_stored_in_rmb_are_upgraded_to_cny(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'rmb.db'}"
    store = SqlStore.open(url, upgrade=True)
    held = Holding("平安人寿", ProductLine.LIFE, annual_premium=Money("800.00"))
    with store.unit_of_work() as uow:
        uow.customers.add(make_customer("C1", holdings=[held]))
        uow.policies.add(make_policy("P1", "C1").activate(DAY).renew(DAY, Money("1234.56")))
        uow.commit()
    store.dispose()
    assert downgrade(url, "0004") == "0004"
    engine = make_engine(url)
    with engine.begin() as conn:  # as an earlier version let them be written
        for table in ("policies", "policy_purchases", "customers"):
            column = "holdings" if table == "customers" else "currency"
            value = "REPLACE(holdings, 'CNY', 'RMB')" if table == "customers" else "'RMB'"
            conn.execute(text(f"UPDATE {table} SET {column} = {value}"))
    engine.dispose()
    assert upgrade(url) == head_revision()
    store = SqlStore.open(url)
    with store.unit_of_work() as uow:  # readable again, and in CNY
        policy = uow.policies.get("P1")
        assert {m.currency for m in (policy.annual_premium, policy.sum_assured)} == {"CNY"}
        assert {p.amount.currency for p in policy.purchases} == {"CNY"}
        (holding,) = uow.customers.get("C1").holdings
        assert holding.annual_premium == Money("800.00")
    store.dispose()


def test_customers_stored_before_the_partner_flag_are_not_partners(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'flag.db'}"
    upgrade(url, "0005")
    engine = make_engine(url)
    with engine.begin() as conn:  # a customer as revision 0005 stored one
        conn.execute(
            text(
                "INSERT INTO customers (id, created_on, name, life, family, holdings, "
                "is_internal, version) VALUES ('C1', '2020-01-01', '甲', '{}', '[]', '[]', 0, 1)"
            )
        )
    engine.dispose()
    assert upgrade(url) == head_revision()
    store = SqlStore.open(url)
    with store.unit_of_work() as uow:
        assert uow.customers.get("C1").cooperation_partner is False
    store.dispose()
    assert downgrade(url, "0005") == "0005"  # and back: the flag's column dropped


def test_upgrade_refuses_tables_of_another_application(tmp_path: Path) -> None:
    path = tmp_path / "theirs.db"
    sqlite3.connect(path).execute("CREATE TABLE customers (x)").connection.close()
    with pytest.raises(SchemaError, match=r"not insurcrm's \(customers\).*nothing was changed"):
        upgrade(f"sqlite:///{path}")
    with sqlite3.connect(path) as conn:  # nothing of insurcrm's was created
        names = {n for (n,) in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")}
    conn.close()
    assert names == {"customers"}


def test_a_missing_sqlite_file_is_not_created_by_opening_it(tmp_path: Path) -> None:
    typo = tmp_path / "boook.db"
    with pytest.raises(SchemaError, match=r"does not exist.*insurcrm db upgrade"):
        SqlStore.open(f"sqlite:///{typo}")
    assert not typo.exists()
    SqlStore.open(f"sqlite:///{typo}", upgrade=True).dispose()  # upgrade creates it
    assert typo.exists()


def test_an_older_schema_says_to_upgrade(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'old.db'}"
    upgrade(url)
    engine = make_engine(url)
    with engine.begin() as conn:
        conn.execute(text(f"UPDATE {VERSION_TABLE} SET version_num = 'zzzz'"))
    engine.dispose()
    with pytest.raises(SchemaError, match="unknown to this package"):
        SqlStore.open(url)
    # upgrading it (as `insurcrm db upgrade`, `import`, `generate` and `demo` do) refuses too
    with pytest.raises(
        SchemaError, match=r"revision zzzz, unknown to this package .*upgrade insurcrm"
    ):
        upgrade(url)
    assert current_revision(make_engine(url)) == "zzzz"  # nothing was changed


def test_downgrade_then_open_says_to_upgrade(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'old.db'}"
    upgrade(url)
    assert downgrade(url, "base") is None
    with pytest.raises(SchemaError, match="insurcrm db upgrade"):
        SqlStore.open(url)


@pytest.mark.parametrize(
    "url",
    ["not a url", "mysql://u@localhost/x", "sqlite:////nonexistent-dir/x/y.db"],
)
def test_bad_urls_give_a_clear_storage_error(url: str) -> None:
    with pytest.raises(StorageError):
        SqlStore.open(url)


def test_errors_never_show_the_password() -> None:
    with pytest.raises(StorageError) as caught:
        SqlStore.open("postgresql://user:s3cret-pw@127.0.0.1:1/db")
    assert "s3cret-pw" not in str(caught.value)


class _UniqueViolation(Exception):
    """A driver's error as psycopg raises it for a unique key stored twice."""

    sqlstate = "23505"


_CLASH = (
    'duplicate key value violates unique constraint "ix_customers_id_number"\n'
    "DETAIL:  Key (id_number)=(11010519491231002X) already exists."
)


@pytest.mark.parametrize(
    "error",
    [_UniqueViolation(_CLASH), DBAPIError("INSERT …", {}, _UniqueViolation(_CLASH))],
    ids=["raw driver error (COPY)", "through SQLAlchemy"],
)
def test_a_unique_key_stored_meanwhile_is_a_concurrency_error_naming_no_value(
    error: Exception,
) -> None:
    with pytest.raises(ConcurrencyError) as caught, translate_errors("postgresql://u@h/db"):
        raise error
    assert "11010519491231002X" not in str(caught.value)
    assert caught.value.__cause__ is None
    assert caught.value.__suppress_context__


class _Refused(Exception):
    """A driver's error with a SQLSTATE, as psycopg raises it."""

    def __init__(self, sqlstate: str) -> None:
        super().__init__("could not serialize access")
        self.sqlstate = sqlstate


@pytest.mark.parametrize("sqlstate", ["40001", "40P01"], ids=["serialization", "deadlock"])
def test_a_concurrent_update_refused_by_the_server_is_a_concurrency_error(sqlstate: str) -> None:
    """Both mean "try the unit of work again" (PostgreSQL chose this transaction to fail)."""
    with pytest.raises(ConcurrencyError), translate_errors("postgresql://u@h/db"):
        raise DBAPIError("UPDATE …", {}, _Refused(sqlstate))


def test_other_exceptions_pass_through_the_translation() -> None:
    with pytest.raises(KeyError), translate_errors("postgresql://u@h/db"):
        raise KeyError("not the driver's")
