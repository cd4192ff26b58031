"""Recording the churns of a generated SQLite book with ``detect_churn`` (``insurcrm churn
detect``): its time and its memory.

Run by hand (see ``benchmarks/README.md``)::

    python benchmarks/churn.py --customers 20000

It copies the book of ``assess.py`` (generated when missing), empties the copy's churn
records, and measures in a process of its own (so its peak memory is its own):

1. ``detect_churn`` as of the book's date: every churn the policies show is recorded again
   (the generator records the same ones, with the same ids; the counts are compared);
2. the same again: nothing left to record, the cost of a nightly run on a book in step.

There is no baseline: the point is that the time grows with the book and the memory does
not (it reads a few hundred policyholders at a time).
"""

from __future__ import annotations

import json
import resource
import sqlite3
import subprocess
import sys
import time
from collections.abc import Sequence
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from assess import AS_OF, ensure_book, log
from premiums import arguments, fresh_copy, save_report

from insurcrm.adapters.sql import SqlStore
from insurcrm.services.churn import detect_churn


def run_one(path: str) -> None:
    """Run ``detect_churn`` twice on the store at ``path`` and print what it took (JSON)."""
    store = SqlStore.open(f"sqlite:///{path}")
    times, made = [], []
    for _ in range(2):
        start = time.perf_counter()
        scan = detect_churn(store.unit_of_work(), AS_OF)
        times.append(time.perf_counter() - start)
        made.append(len(scan.churned) + len(scan.won_back))
    store.dispose()
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps({"seconds": times, "made": made, "peak_mb": peak}))


def main(argv: Sequence[str] | None = None) -> int:
    args = arguments("churn", __doc__, None, argv)
    book, _meta = ensure_book(args.workdir, args.customers, args.seed)
    store = fresh_copy(book, args.workdir, f"churn-{args.customers}.db")
    path = store.engine.url.database
    store.dispose()
    with sqlite3.connect(str(path)) as conn:
        (generated,) = conn.execute("SELECT count(*) FROM churn_records").fetchone()
        conn.execute("DELETE FROM churn_records")
    log(f"{generated:,} churn records emptied; detecting them again")
    child = subprocess.run(
        [sys.executable, __file__, "--run-one", str(path)],
        check=True,
        capture_output=True,
        text=True,
    )
    result = json.loads(child.stdout.strip().splitlines()[-1])
    first, again = result["seconds"]
    made, left = result["made"]
    report = [
        "| what | records made | seconds | peak RSS |",
        "|---|---|---|---|",
        f"| detect_churn, the emptied book | {made:,} (the generator's: {generated:,}) "
        f"| {first:.1f} | {result['peak_mb']:,.0f} MB |",
        f"| detect_churn again | {left:,} | {again:.1f} | |",
    ]
    save_report("churn", args, argv, report)
    return 0


if __name__ == "__main__":
    if sys.argv[1:2] == ["--run-one"]:
        run_one(sys.argv[2])
        raise SystemExit(0)
    raise SystemExit(main())
