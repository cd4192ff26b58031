"""The keeping-customers report (``retention_report``, which ``insurcrm demo`` prints) on a
generated SQLite book: its time and its memory, against the same report made from the whole
book loaded.

Run by hand (see ``benchmarks/README.md``)::

    python benchmarks/retention.py --customers 20000

It copies the book of ``assess.py`` (generated when missing) and measures, each in a process
of its own (so its peak memory is its own) and on a fresh copy:

1. ``retention_report``: the churn due recorded (``detect_churn``), then the report read a
   batch of figures at a time;
2. the baseline: ``detect_churn``, then ``retention_in`` on the book loaded whole
   (``load_book``), as the report was made before.

Both reports are compared through a SHA-256 of their ``repr``: they must be the same.
"""

from __future__ import annotations

import hashlib
import json
import resource
import subprocess
import sys
import time
from collections.abc import Sequence
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from assess import AS_OF, ensure_book, log
from premiums import arguments, fresh_copy, save_report

from insurcrm.adapters.sql import SqlStore
from insurcrm.services.book import load_book
from insurcrm.services.churn import detect_churn
from insurcrm.services.retention import RetentionReport, retention_in, retention_report

#: The two ways to make the report, by name.
METHODS = ("streamed", "loaded")


def run_one(method: str, path: str) -> None:
    """Make the report with ``method`` on the store at ``path`` and print what it took
    (JSON)."""
    store = SqlStore.open(f"sqlite:///{path}")
    start = time.perf_counter()
    report: RetentionReport
    if method == "streamed":
        report = retention_report(store.unit_of_work(), AS_OF)
    else:
        detect_churn(store.unit_of_work(), AS_OF)
        report = retention_in(load_book(store.unit_of_work()), AS_OF)
    seconds = time.perf_counter() - start
    store.dispose()
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    digest = hashlib.sha256(repr(report).encode()).hexdigest()
    sizes = [len(report.warnings), len(report.queue), len(report.plan)]
    print(json.dumps({"seconds": seconds, "peak_mb": peak, "sha256": digest, "sizes": sizes}))


def main(argv: Sequence[str] | None = None) -> int:
    args = arguments("retention", __doc__, None, argv)
    book, _meta = ensure_book(args.workdir, args.customers, args.seed)
    results = {}
    for method in METHODS:
        store = fresh_copy(book, args.workdir, f"retention-{args.customers}.db")
        path = store.engine.url.database
        store.dispose()
        log(f"{method}: making the report")
        child = subprocess.run(
            [sys.executable, __file__, "--run-one", method, str(path)],
            check=True,
            capture_output=True,
            text=True,
        )
        results[method] = json.loads(child.stdout.strip().splitlines()[-1])
    streamed, loaded = results["streamed"], results["loaded"]
    warnings, queue, plan = streamed["sizes"]
    same = "the same" if streamed["sha256"] == loaded["sha256"] else "**different**"
    report = [
        f"The report: {warnings:,} early warnings, {queue:,} win-backs in the queue, "
        f"{plan:,} visits in the plan; both reports are {same} (SHA-256 of their repr).",
        "",
        "| what | seconds | peak RSS |",
        "|---|---|---|",
        f"| retention_report (read a batch at a time) | {streamed['seconds']:.1f} "
        f"| {streamed['peak_mb']:,.0f} MB |",
        f"| detect_churn, then retention_in on the book loaded whole | {loaded['seconds']:.1f} "
        f"| {loaded['peak_mb']:,.0f} MB |",
    ]
    save_report("retention", args, argv, report)
    return 0 if same == "the same" else 1


if __name__ == "__main__":
    if sys.argv[1:2] == ["--run-one"]:
        run_one(sys.argv[2], sys.argv[3])
        raise SystemExit(0)
    raise SystemExit(main())
