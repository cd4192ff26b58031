"""Importing a service history (contacts, complaints, survey responses and churn records)
into a generated SQLite book.

Run by hand (see ``benchmarks/README.md``)::

    python benchmarks/records.py --customers 20000

It copies the book of ``assess.py`` (generated when missing), writes its contacts,
complaints, survey responses and churn records to CSV files in the layout of
``docs/how-to/import-your-book.md``, empties the four tables of the copy, and measures:

1. ``insurcrm import`` of each file (``import_csv``: each batch of 1,000 rows checked
   against its customers, read with ``customers.erased_among``, churn records also against
   the customers' stored churns and their policies, and stored with ``add_many``), in rows
   a second;
2. the same files again (every row already present);
3. the baseline a user would write without the import: ``log_interaction`` a contact, one
   transaction each (as the application logs one), on the first ``--baseline-rows``
   contacts (no CSV reading or validation, so it is the lighter of the two).
"""

from __future__ import annotations

import sqlite3
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import attrs

sys.path.insert(0, str(Path(__file__).resolve().parent))

from assess import AS_OF, ensure_book, log
from premiums import arguments, fresh_copy, save_report, write_csv

from insurcrm.adapters.sql import SqlStore
from insurcrm.domain.complaints import Complaint
from insurcrm.domain.interactions import Interaction
from insurcrm.domain.satisfaction import Dimension, SurveyResponse
from insurcrm.services.contacts import log_interaction
from insurcrm.services.csv_import import import_csv
from insurcrm.services.csv_records import (
    CHURN_COLUMNS,
    COMPLAINT_COLUMNS,
    CONTACT_COLUMNS,
    SURVEY_COLUMNS,
)


def cell(value: Any) -> str:
    """A value as a cell of the import layout."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, tuple):
        return ";".join(v.name for v in value)
    return "" if value is None else str(getattr(value, "name", value))


def complaint_cells(complaint: Complaint) -> list[str]:
    """A complaint as a row of the import layout (its first round: the generator reopens
    none)."""
    skip = next((s for s in complaint.steps if s.skipped), None)
    cells: dict[str, Any] = {c: getattr(complaint, c, None) for c in COMPLAINT_COLUMNS}
    cells.update({f"{s.step.name.lower()}_on": s.on for s in complaint.steps})
    cells.update(
        compensation_skipped=skip is not None,
        skip_reason=skip and skip.skip_reason,
        closed_on=complaint.closed_on,
    )
    return [cell(cells[c]) for c in COMPLAINT_COLUMNS]


def write_files(
    store: SqlStore, workdir: Path, customers: int
) -> tuple[list[Path], list[Interaction]]:
    """The book's contacts, complaints, survey responses and churn records as four CSV
    files; returns them and the contacts."""
    with store.unit_of_work() as uow:
        contacts = list(uow.interactions.iterate())
        complaints = list(uow.complaints.iterate())
        responses: list[SurveyResponse] = list(uow.surveys.iterate())
        churns = list(uow.churns.iterate())
    contacts_path = workdir / f"contacts-{customers}.csv"
    columns = CONTACT_COLUMNS  # each the name of an Interaction attribute
    write_csv(contacts_path, columns, ([cell(getattr(i, c)) for c in columns] for i in contacts))
    complaints_path = workdir / f"complaints-{customers}.csv"
    write_csv(complaints_path, COMPLAINT_COLUMNS, map(complaint_cells, complaints))
    surveys_path = workdir / f"surveys-{customers}.csv"
    write_csv(
        surveys_path,
        SURVEY_COLUMNS,
        (
            map(
                cell,
                [
                    *(r.id, r.survey_id, r.customer_id, r.role, r.channel, r.on),
                    *(r.answers.get(d) for d in Dimension),
                    *(r.expectation, r.praises_us, r.named_us, r.comment),
                ],
            )
            for r in responses
        ),
    )
    churns_path = workdir / f"churns-{customers}.csv"
    write_csv(
        churns_path,
        CHURN_COLUMNS,
        (
            [cell(r.on if c == "churned_on" else getattr(r, c)) for c in CHURN_COLUMNS]
            for r in churns
        ),
    )
    return [contacts_path, complaints_path, surveys_path, churns_path], contacts


def emptied(store: SqlStore) -> SqlStore:
    """``store`` with no contacts, complaints, survey responses or churn records."""
    path = store.engine.url.database
    store.dispose()
    with sqlite3.connect(str(path)) as conn:
        for table in ("interactions", "complaints", "survey_responses", "churn_records"):
            conn.execute(f"DELETE FROM {table}")
    return SqlStore.open(f"sqlite:///{path}")


def timed_import(store: SqlStore, path: Path) -> tuple[float, int, int]:
    """Seconds, rows stored and rows already present of importing ``path``."""
    start = time.perf_counter()
    result = import_csv(store.unit_of_work(), path, today=AS_OF)
    seconds = time.perf_counter() - start
    if result.rejected:
        raise SystemExit(f"expected no row rejected: {result}")
    return seconds, result.stored, result.already_present


def main(argv: Sequence[str] | None = None) -> int:
    args = arguments("records", __doc__, 2000, argv)
    book, _meta = ensure_book(args.workdir, args.customers, args.seed)

    store = fresh_copy(book, args.workdir, f"records-{args.customers}.db")
    paths, contacts = write_files(store, args.workdir, args.customers)
    store = emptied(store)
    measured: list[tuple[str, int, float, float]] = []
    kinds = ("contacts", "complaints", "survey responses", "churn records")
    for kind, path in zip(kinds, paths, strict=True):
        seconds, stored, _ = timed_import(store, path)
        log(f"{kind}: {stored:,} rows in {seconds:.1f} s")
        again, _, present = timed_import(store, path)
        if present != stored:
            raise SystemExit(f"expected every {kind} row present the second time")
        measured.append((kind, stored, seconds, again))
    store.dispose()

    other = emptied(fresh_copy(book, args.workdir, f"records-{args.customers}-baseline.db"))
    sample = [attrs.evolve(c, version=0) for c in contacts[: args.baseline_rows]]  # new ones
    start = time.perf_counter()
    for contact in sample:
        log_interaction(other.unit_of_work(), contact)
    base_seconds = time.perf_counter() - start
    other.dispose()

    base_rate = len(sample) / base_seconds
    contacts_rate = measured[0][1] / measured[0][2]
    report = [
        "| what | rows | seconds | rows/s | the same file again |",
        "|---|---|---|---|---|",
        *(
            f"| insurcrm import of the {kind} | {n:,} | {s:.1f} | {n / s:,.0f} | {a:.1f} s |"
            for kind, n, s, a in measured
        ),
        f"| baseline: log_interaction a contact | {len(sample):,} | {base_seconds:.1f} "
        f"| {base_rate:,.0f} | |",
        "",
        f"insurcrm import of the contacts / baseline: {contacts_rate / base_rate:.1f}× "
        "the rows a second",
    ]
    save_report("records", args, argv, report)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
