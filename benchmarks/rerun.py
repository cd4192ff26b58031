"""Importing customers, their holdings and policies, then the same files again, into an
empty SQLite store.

Run by hand (see ``benchmarks/README.md``)::

    python benchmarks/rerun.py --customers 20000

It writes the customers, the holdings on their cards and the policies of the book of
``assess.py`` (generated when missing) to CSV files in the layout of
``docs/how-to/import-your-book.md`` (the erased customers left out, so their referrals,
holdings and policies are refused), imports them into a new SQLite store, and measures:

1. ``insurcrm import`` of each file (``import_csv``), in rows a second;
2. the same files again, every good row already present: what a resumed or repeated
   import costs (each batch's stored ids found with one read, ``customers.stored_among``
   or ``policies.get_many``; a holding is looked up on its customer's card).

There is no baseline: the point is the cost of a run again against the first run.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Sequence
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from assess import _csv_rows, ensure_book, log
from premiums import arguments, save_report, write_csv

from insurcrm.adapters.sql import SqlStore
from insurcrm.services.csv_holdings import HOLDING_COLUMNS
from insurcrm.services.csv_import import import_csv


def holding_rows(book: Path) -> list[list[object]]:
    """The holdings on the cards of the book's customers, as rows of a holdings file."""
    store = SqlStore.open(f"sqlite:///{book}")
    rows: list[list[object]] = []
    try:
        with store.unit_of_work() as uow:
            for customer in uow.customers.iterate():
                for h in customer.holdings:
                    money = [m for m in (h.sum_assured, h.annual_premium) if m is not None]
                    rows.append(
                        [
                            customer.id,
                            h.insurer,
                            h.line.name,
                            h.start_date or "",
                            h.term_years or "",
                            h.sum_assured.amount if h.sum_assured else "",
                            h.annual_premium.amount if h.annual_premium else "",
                            money[0].currency if money else "",
                        ]
                    )
    finally:
        store.dispose()
    return rows


def main(argv: Sequence[str] | None = None) -> int:
    args = arguments("rerun", __doc__, None, argv)
    book, _meta = ensure_book(args.workdir, args.customers, args.seed)
    people, policies = _csv_rows(book, args.customers * 10)  # every row
    files = []
    for kind, rows in (("customers", people), ("policies", policies)):
        path = args.workdir / f"rerun-{kind}-{args.customers}.csv"
        write_csv(path, list(rows[0]), (row.values() for row in rows))
        files.append((kind, path))
    holdings = args.workdir / f"rerun-holdings-{args.customers}.csv"
    write_csv(holdings, HOLDING_COLUMNS, holding_rows(book))
    files.insert(1, ("holdings", holdings))

    db = args.workdir / f"rerun-{args.customers}.db"
    for suffix in ("", "-wal", "-shm"):
        Path(f"{db}{suffix}").unlink(missing_ok=True)
    store = SqlStore.open(f"sqlite:///{db}", upgrade=True)
    report = [
        "| file | rows | first run | stored | rejected | again | already present |",
        "|---|---|---|---|---|---|---|",
    ]
    for kind, path in files:
        runs = []
        for _ in range(2):
            start = time.perf_counter()
            result = import_csv(store.unit_of_work(), path)
            runs.append((time.perf_counter() - start, result))
        (first, done), (again, redone) = runs
        if redone.stored or redone.already_present != done.stored:
            raise SystemExit(f"expected every stored {kind} row present the second time")
        log(f"{kind}: {first:.1f} s, again {again:.1f} s")
        report.append(
            f"| {kind} | {done.rows:,} | {first:.1f} s | {done.stored:,} | {done.rejected:,} "
            f"| {again:.1f} s | {redone.already_present:,} |"
        )
    store.dispose()
    save_report("rerun", args, argv, report)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
