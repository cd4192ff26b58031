"""Importing a payment history (renewals) and status changes into a generated SQLite book.

Run by hand (see ``benchmarks/README.md``)::

    python benchmarks/premiums.py --customers 20000

It copies the book of ``assess.py`` (generated when missing), writes a renewals CSV of one
renewal per policy of ours (200 days after its new-policy purchase, when the policy was in
force that day and the day is not after the book's date), and measures:

1. ``insurcrm import`` of that file (``import_csv``: each batch of 1,000 rows read with
   ``policies.get_many`` and saved with ``policies.save_many``), in rows a second;
2. the same file again (every row already present);
3. the baseline a user would write without the batch calls: one ``get``,
   ``record_renewal`` and ``save`` a policy, 1,000 rows a transaction, on the first
   ``--baseline-rows`` rows of the same file (no CSV reading or validation, so it is the
   lighter of the two);
4. a status changes file, a lapse on the book's date of every policy of ours then in force
   with no premium recorded on or after that day, imported after the renewals (the same
   batch calls, each row checked with ``Policy.transition``), and again.
"""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import shlex
import shutil
import sys
import tempfile
import time
from collections.abc import Iterable, Sequence
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from assess import AS_OF, DEFAULT_SEED, ensure_book, log, machine

from insurcrm.adapters.sql import SqlStore
from insurcrm.domain.policies import PolicyStatus
from insurcrm.services.csv_import import import_csv

#: Days after a policy's new-policy purchase its benchmark renewal is dated.
RENEWED_AFTER = dt.timedelta(days=200)

#: Rows a transaction in the baseline, as in the import.
BATCH = 1000


def renewal_rows(store: SqlStore) -> list[tuple[str, dt.date]]:
    """One valid renewal a policy of ours: 200 days after its first purchase, when the policy
    was in force then, that day is not after the book's date and holds no purchase yet."""
    rows: list[tuple[str, dt.date]] = []
    with store.unit_of_work() as uow:
        for policy in uow.policies.iterate():
            if not policy.is_ours or not policy.purchases:
                continue
            day = policy.purchases[0].on + RENEWED_AFTER
            taken = any(p.on == day for p in policy.purchases)
            if day <= AS_OF and not taken and policy.status_on(day) is PolicyStatus.IN_FORCE:
                rows.append((policy.id, day))
    return rows


def lapse_rows(store: SqlStore) -> list[str]:
    """The policies of ours in force on the book's date with no renewal or missed premium
    recorded on or after it: a lapse that day is a legal change of each."""
    ids: list[str] = []
    with store.unit_of_work() as uow:
        for policy in uow.policies.iterate():
            days = [p.on for p in policy.purchases] + [m.due_date for m in policy.missed_premiums]
            last = policy.history[-1].on if policy.history else None
            if (
                policy.is_ours
                and policy.status is PolicyStatus.IN_FORCE
                and all(day < AS_OF for day in days)
                and (last is None or last <= AS_OF)
            ):
                ids.append(policy.id)
    return ids


def timed(store: SqlStore, path: Path, rows: int) -> tuple[float, float]:
    """Seconds to import ``path`` (every row stored), and to import it again (every row
    present)."""
    times = []
    for expected in ((rows, 0), (0, rows)):
        start = time.perf_counter()
        result = import_csv(store.unit_of_work(), path, today=AS_OF)
        times.append(time.perf_counter() - start)
        if (result.stored, result.already_present, result.rejected) != (*expected, 0):
            raise SystemExit(f"expected {expected} stored and present: {result}")
    return times[0], times[1]


def write_csv(path: Path, header: Sequence[str], rows: Iterable[Iterable[object]]) -> None:
    """``rows`` as a CSV file under ``header``."""
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(header)
        writer.writerows(rows)


def fresh_copy(book: Path, workdir: Path, name: str) -> SqlStore:
    """A copy of ``book`` to write into, opened."""
    copy = workdir / name
    for suffix in ("", "-wal", "-shm"):
        Path(f"{copy}{suffix}").unlink(missing_ok=True)
    shutil.copyfile(book, copy)
    return SqlStore.open(f"sqlite:///{copy}")


def baseline(store: SqlStore, rows: Sequence[tuple[str, dt.date]]) -> float:
    """Seconds to record ``rows`` with one get and one save a policy."""
    start = time.perf_counter()
    for first in range(0, len(rows), BATCH):
        with store.unit_of_work() as uow:
            for policy_id, day in rows[first : first + BATCH]:
                uow.policies.save(uow.policies.get(policy_id).record_renewal(day))
            uow.commit()
    return time.perf_counter() - start


def arguments(
    name: str, doc: str, baseline_rows: int | None, argv: Sequence[str] | None
) -> argparse.Namespace:
    """The options of the import benchmark ``name`` (``premiums``, ``records``, ``rerun``);
    ``--baseline-rows`` (default ``baseline_rows``) only when it has a baseline."""
    parser = argparse.ArgumentParser(description=doc.split("\n\n")[0])
    parser.add_argument("--customers", type=int, default=20_000)
    parser.add_argument("--seed", type=int, default=DEFAULT_SEED)
    parser.add_argument(
        "--workdir", type=Path, default=Path(tempfile.gettempdir()) / "insurcrm-bench"
    )
    if baseline_rows is not None:
        parser.add_argument("--baseline-rows", type=int, default=baseline_rows)
    parser.add_argument(
        "--results",
        type=Path,
        default=None,
        help=f"where to save the report (default benchmarks/results-{name}-<N>.txt; '-')",
    )
    return parser.parse_args(argv)


def save_report(
    name: str, args: argparse.Namespace, argv: Sequence[str] | None, table: Sequence[str]
) -> None:
    """Print the report of the import benchmark ``name`` (the command, the machine, the
    book, then ``table``) and save it to ``--results``."""
    command = "python " + shlex.join([f"benchmarks/{name}.py", *(argv or sys.argv[1:])])
    lines = [
        f"command: {command}",
        *machine(),
        f"book: {args.customers:,} customers (seed {args.seed}), as of {AS_OF}",
        "",
        *table,
    ]
    report = "\n".join(lines)
    print(report)
    target = args.results or Path(__file__).with_name(f"results-{name}-{args.customers}.txt")
    if str(target) != "-":
        target.write_text(report + "\n", encoding="utf-8")


def main(argv: Sequence[str] | None = None) -> int:
    args = arguments("premiums", __doc__, 5000, argv)
    book, _meta = ensure_book(args.workdir, args.customers, args.seed)

    store = fresh_copy(book, args.workdir, f"premiums-{args.customers}.db")
    rows = renewal_rows(store)
    path = args.workdir / f"renewals-{args.customers}.csv"
    write_csv(path, ("policy_id", "renewed_on"), ((p, day.isoformat()) for p, day in rows))
    log(f"{len(rows):,} renewals written to {path}")

    seconds, again_seconds = timed(store, path, len(rows))
    log(f"import: {seconds:.1f} s")
    lapses = lapse_rows(store)
    changes = args.workdir / f"lapses-{args.customers}.csv"
    write_csv(changes, ("policy_id", "status", "on"), ((i, "LAPSED", AS_OF) for i in lapses))
    lapse_seconds, lapse_again = timed(store, changes, len(lapses))
    log(f"status changes: {len(lapses):,} in {lapse_seconds:.1f} s")
    store.dispose()

    sample = rows[: args.baseline_rows]
    other = fresh_copy(book, args.workdir, f"premiums-{args.customers}-baseline.db")
    base_seconds = baseline(other, sample)
    other.dispose()

    rate = len(rows) / seconds
    base_rate = len(sample) / base_seconds
    table = [
        "| what | rows | seconds | rows/s |",
        "|---|---|---|---|",
        f"| insurcrm import (get_many + save_many a batch) | {len(rows):,} | {seconds:.1f} "
        f"| {rate:,.0f} |",
        f"| the same file again (all present) | {len(rows):,} | {again_seconds:.1f} "
        f"| {len(rows) / again_seconds:,.0f} |",
        f"| baseline: get + record_renewal + save a policy | {len(sample):,} "
        f"| {base_seconds:.1f} | {base_rate:,.0f} |",
        f"| status changes: a lapse of each policy in force | {len(lapses):,} "
        f"| {lapse_seconds:.1f} | {len(lapses) / lapse_seconds:,.0f} |",
        f"| the same file again (all present) | {len(lapses):,} | {lapse_again:.1f} "
        f"| {len(lapses) / lapse_again:,.0f} |",
        "",
        f"insurcrm import / baseline: {rate / base_rate:.1f}× the rows a second",
    ]
    save_report("premiums", args, argv, table)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
