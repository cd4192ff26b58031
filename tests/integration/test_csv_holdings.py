"""Importing the holdings of stored customers' cards from CSV (投保情况): rows checked as a
``Holding`` is, reported by line, field and rule without values, added once however often
the file is imported, read by the share of wallet, the same on every backend."""

from __future__ import annotations

import csv
import datetime as dt
import io
from decimal import Decimal
from pathlib import Path
from typing import Any

import attrs
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from insurcrm.domain.card import Holding
from insurcrm.domain.policies import ProductLine
from insurcrm.domain.values import Money
from insurcrm.services.assessment import assess_portfolio
from insurcrm.services.csv_import import import_csv
from insurcrm.services.customers import erase_customer
from insurcrm.testing import strategies as gen
from tests.integration.test_csv_import import STORES, cell, imported_by_cli, rejects, write

TODAY = dt.date(2026, 12, 4)
CUSTOMERS = "id,name,created_on\nC1,王小明,2020-01-05\nC2,李娜,2020-01-05\nC3,赵六,2020-01-05\n"
INSURER = "平安人寿"  # the insurer's name is on the card of a person: never in a rejects file
HOLDINGS = (
    ("customer_id,insurer,product_line,start_date,term_years,sum_assured,annual_premium,currency\n")
    + f"""C1,{INSURER},LIFE,2018-03-01,20,500000.00,12000.00,
C1,{INSURER},MEDICAL,,,,800,
C9,{INSURER},LIFE,,,,,
C3,{INSURER},LIFE,,,,,
C1,{INSURER},PENSION,,,,,
C1,{INSURER},LIFE,2018-03-01,twenty,,,
C1,{INSURER},LIFE,2099-01-01,,,,
C1,{INSURER},MEDICAL,,,,800,
C2,{INSURER},ACCIDENT,,1,,300.50,HKD
"""
)


@pytest.mark.parametrize("backend", list(STORES))
def test_holdings_are_added_to_the_cards_and_bad_rows_reported(
    tmp_path: Path, backend: str
) -> None:
    store = STORES[backend]()
    import_csv(store.unit_of_work(), write(tmp_path / "customers.csv", CUSTOMERS))
    erase_customer(store.unit_of_work(), "C3", dt.date(2026, 1, 1))
    path = write(tmp_path / "holdings.csv", HOLDINGS)
    result = import_csv(store.unit_of_work(), path, today=TODAY)
    assert (result.kind, result.rows, result.stored, result.rejected) == ("holdings", 9, 3, 6)
    assert result.rejects_path is not None
    assert INSURER not in result.rejects_path.read_text(encoding="utf-8")
    assert [(r["line"], r["field"], r["rule"]) for r in rejects(result.rejects_path)] == [
        ("4", "customer_id", "reference.missing"),
        ("5", "customer_id", "erased"),
        ("6", "product_line", "code.unknown"),
        ("7", "term_years", "term.format"),
        ("8", "start_date", "date.future"),
        ("9", "insurer", "duplicate"),  # the same holding twice in the file
    ]
    with store.unit_of_work() as uow:
        life, medical = uow.customers.get("C1").holdings
        (accident,) = uow.customers.get("C2").holdings
    assert (life.line, life.start_date, life.term_years, life.annual_premium) == (
        ProductLine.LIFE,
        dt.date(2018, 3, 1),
        20,
        Money(Decimal("12000.00")),
    )
    assert (medical.start_date, medical.annual_premium) == (None, Money(Decimal(800)))
    assert accident.annual_premium == Money(Decimal("300.50"), "HKD")
    again = import_csv(store.unit_of_work(), path, today=TODAY)
    assert (again.stored, again.already_present, again.rejected) == (0, 3, 6)


def test_holdings_elsewhere_move_the_share_of_wallet(tmp_path: Path) -> None:
    """The point of importing holdings: premiums paid to other insurers lower our share of
    the customer's wallet, a growth potential the retention class reads (§5.3)."""
    store = STORES["memory"]()
    policies = (
        "id,number,policyholder_id,insured_id,product_line,start_date,term_years,"
        "sum_assured,annual_premium\nP1,N1,C1,C1,LIFE,2021-02-01,20,500000.00,12000.00\n"
    )
    for name, text in (("c.csv", CUSTOMERS), ("p.csv", policies)):
        import_csv(store.unit_of_work(), write(tmp_path / name, text))

    def retention_of_c1() -> str | None:
        rows = assess_portfolio(store.unit_of_work(), TODAY)
        row = next(r for r in rows if r.customer_id == "C1")
        return None if row.retention is None else row.retention.name

    before = retention_of_c1()
    big = "customer_id,insurer,product_line,annual_premium\nC1,其他保险,LIFE,90000\n"
    import_csv(store.unit_of_work(), write(tmp_path / "h.csv", big))
    assert retention_of_c1() != before


def test_the_command_line_imports_holdings_after_customers(tmp_path: Path) -> None:
    files = [
        write(tmp_path / "holdings.csv", HOLDINGS),
        write(tmp_path / "customers.csv", CUSTOMERS),
    ]
    said = imported_by_cli(f"sqlite:///{tmp_path / 'book.db'}", files, ["customers", "holdings"])
    # C3 is not erased here: its row is added
    assert "holdings.csv (holdings): 9 rows, 4 stored, 0 already present, 5 rejected" in said
    assert INSURER not in said


def _as_read(holding: Holding) -> Holding:
    """A holding as its row gives it back: the insurer without surrounding spaces."""
    return attrs.evolve(holding, insurer=holding.insurer.strip())


def holding_cells(customer_id: str, holding: Holding) -> list[Any]:
    """A holding of ``customer_id``'s card as the cells of its row, in the order of
    ``HOLDING_COLUMNS``."""
    amounts = [m for m in (holding.sum_assured, holding.annual_premium) if m is not None]
    return [
        customer_id,
        holding.insurer,
        holding.line,
        holding.start_date,
        holding.term_years,
        holding.sum_assured.amount if holding.sum_assured else None,
        holding.annual_premium.amount if holding.annual_premium else None,
        amounts[0].currency if amounts else None,
    ]


def _row(holding: Holding) -> str:
    out = io.StringIO()
    csv.writer(out).writerow([cell(v) for v in holding_cells("C1", holding)])
    return out.getvalue()


@settings(
    max_examples=25 if settings().max_examples < 100 else 100,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(drawn=st.lists(gen.holdings(on=TODAY), max_size=5, unique_by=_as_read))
def test_imported_holdings_are_the_drawn_ones_on_the_card(
    tmp_path_factory: pytest.TempPathFactory, drawn: list[Holding]
) -> None:
    """Whatever holdings a card can hold come back from their rows, in order; a second
    import finds them all present."""
    tmp_path = tmp_path_factory.mktemp("holdings")
    store = STORES["memory"]()
    import_csv(store.unit_of_work(), write(tmp_path / "c.csv", CUSTOMERS))
    header = "customer_id,insurer,product_line,start_date,term_years,sum_assured,"
    path = write(
        tmp_path / "h.csv", header + "annual_premium,currency\n" + "".join(map(_row, drawn))
    )
    result = import_csv(store.unit_of_work(), path, today=TODAY)
    assert (result.stored, result.rejected) == (len(drawn), 0)
    with store.unit_of_work() as uow:
        assert list(uow.customers.get("C1").holdings) == [_as_read(h) for h in drawn]
    assert import_csv(store.unit_of_work(), path).already_present == len(drawn)
