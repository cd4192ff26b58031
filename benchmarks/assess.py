"""Benchmarks of insurcrm against plain baselines on one generated book.

Run by hand (see ``benchmarks/README.md``)::

    python benchmarks/assess.py --customers 20000
    python benchmarks/assess.py            # 1,000,000 customers: generation takes long

Parts:

1. portfolio assessment of the SQLite book: insurcrm vs pandas vs DuckDB (each in its own
   subprocess, so peak RSS is per method), with the per-segment and per-tier counts checked
   equal, and vs pandas-full (every figure and rule of the assessment in pandas) with the
   per-class counts of every classification checked equal;
2. the same on PostgreSQL: insurcrm vs the bare aggregate statement through psycopg;
3. bulk import of already-validated objects: ``add_many`` vs raw ``executemany`` / ``COPY``;
4. validation cost of CSV rows (``csv_import._customer`` / ``_policy``);
5. single-aggregate load and save latencies on the big SQLite file.

pandas and DuckDB are not project dependencies: ``pip install pandas duckdb``. The DuckDB line
is skipped when DuckDB or its sqlite extension is not available offline.
"""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import io
import json
import math
import os
import platform
import random
import resource
import shlex
import sqlite3
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable, Sequence
from decimal import Decimal
from operator import itemgetter
from pathlib import Path
from typing import TYPE_CHECKING, Any

import attrs

from insurcrm.adapters.sql import SqlStore, upgrade
from insurcrm.adapters.sql import tables as t
from insurcrm.adapters.sql.bulk import CUSTOMER_COLUMNS as BULK_CUSTOMER_COLUMNS
from insurcrm.adapters.sql.bulk import POLICY_COLUMNS as BULK_POLICY_COLUMNS
from insurcrm.adapters.sql.bulk import customer_rows, policy_rows
from insurcrm.adapters.sql.types import Amount
from insurcrm.domain.assessment import (
    AssessmentConfig,
    AssessmentRow,
    AssessmentWindows,
    TierChange,
)
from insurcrm.domain.churn import ChurnCause, ChurnStructure
from insurcrm.domain.classification import TWO_WAY_LEAD_SOURCES
from insurcrm.domain.credit import CreditGrade
from insurcrm.domain.customers import Customer, Household
from insurcrm.domain.early_warning import WarningSignal
from insurcrm.domain.future_value import win_back_factor, win_back_worth
from insurcrm.domain.interactions import CONVERSATION_CHANNELS, Direction, ObservedSignal
from insurcrm.domain.loyalty import LoyaltyLevel, LoyaltyType
from insurcrm.domain.policies import Policy, PolicyStatus, PurchaseKind
from insurcrm.domain.recovery import WinBackStance, recovery_outcome
from insurcrm.domain.rfm import RFM_TYPES, RfmSegment, segment_of
from insurcrm.domain.satisfaction import Answer
from insurcrm.domain.segmentation import (
    QUADRANT_OF,
    RETENTION_CLASS_OF,
    RetentionClass,
    ValueQuadrant,
)
from insurcrm.domain.tiers import Combine, Indicator
from insurcrm.domain.values import DEFAULT_CURRENCY
from insurcrm.services.sample_portfolio import DEFAULT_AS_OF, generate_sample

if TYPE_CHECKING:
    import pandas as pd

HERE = Path(__file__).resolve().parent
AS_OF = DEFAULT_AS_OF
DEFAULT_SEED = 2024
PROBE = 20_000  # customers generated first to measure the generation rate
MB = 1024 * 1024
NONE = "(none)"  # the segment of a customer without a purchase

#: The methods of part 1 (the SQLite book) and part 2 (PostgreSQL), in the order they run.
SQLITE_METHODS = (
    "insurcrm",
    "sqlite-raw",
    "sqlite-split",
    "pandas",
    "pandas-full",
    "duckdb",
    "insurcrm-duckdb",
)
PG_METHODS = ("pg-insurcrm", "pg-raw", "pg-split")
METHODS = (*SQLITE_METHODS, *PG_METHODS)
#: The classifications of an assessment row whose per-class customer counts insurcrm and
#: pandas-full compare (with the number of win-backs recommended).
CLASSES = (
    "loyalty_level",
    "loyalty_type",
    "credit",
    "rfm_segment",
    "quadrant",
    "retention",
    "tier",
    "tier_change",
    "warning_level",
    "win_back",
)


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def peak_rss_mb() -> float:
    """Peak resident set size of this process (Linux reports kilobytes)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


# -- the book ----------------------------------------------------------------------------------


def book_path(workdir: Path, customers: int, seed: int) -> Path:
    return workdir / f"book-{customers}-{seed}.db"


def _remove_db(path: Path) -> None:
    for suffix in ("", "-wal", "-shm", "-journal"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)


def _generate(path: Path, customers: int, seed: int) -> dict[str, Any]:
    """Generate the sample into ``path`` (via ``<path>.partial``, renamed when complete)."""
    partial = Path(f"{path}.partial")
    _remove_db(partial)
    store = SqlStore.open(f"sqlite:///{partial}", upgrade=True)
    start = time.perf_counter()
    step = max(customers // 50, 500)
    shown = [0]

    def progress(done: int, total: int) -> None:
        if done - shown[0] >= step or done == total:
            shown[0] = done
            elapsed = time.perf_counter() - start
            rate = done / elapsed
            log(
                f"  generated {done:,}/{total:,} customers, {elapsed:,.0f} s, {rate:,.0f}/s, "
                f"about {(total - done) / rate:,.0f} s to go"
            )

    stats = generate_sample(
        store.unit_of_work(), customers=customers, seed=seed, as_of=AS_OF, progress=progress
    )
    seconds = time.perf_counter() - start
    with store.engine.connect() as conn:
        conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
    store.dispose()
    os.replace(partial, path)
    _remove_db(partial)
    meta: dict[str, Any] = {
        k: v if isinstance(v, int | str | bool | None) else str(v)
        for k, v in attrs.asdict(stats).items()
    }
    meta["seconds"] = seconds
    Path(f"{path}.json").write_text(json.dumps(meta, indent=1), encoding="utf-8")
    log(f"  done in {seconds:,.0f} s ({customers / seconds:,.0f} customers/s)")
    return meta


def _complete(path: Path, customers: int) -> bool:
    meta = Path(f"{path}.json")
    if not path.exists() or not meta.exists():
        return False
    with sqlite3.connect(f"file:{path}?mode=ro", uri=True) as conn:
        stored = conn.execute("SELECT count(*) FROM customers").fetchone()[0]
    return bool(stored == customers)


def ensure_book(workdir: Path, customers: int, seed: int) -> tuple[Path, dict[str, Any]]:
    """The generated book of ``customers`` customers, generating it when missing."""
    workdir.mkdir(parents=True, exist_ok=True)
    path = book_path(workdir, customers, seed)
    if _complete(path, customers):
        log(f"reusing {path}")
        upgrade(f"sqlite:///{path}")  # a book kept from an older schema revision
        return path, json.loads(Path(f"{path}.json").read_text(encoding="utf-8"))
    if customers > PROBE:
        _probe, meta = ensure_book(workdir, PROBE, seed)
        rate = PROBE / float(meta["seconds"])
        log(
            f"generation rate at {PROBE:,}: {rate:,.0f} customers/s; "
            f"{customers:,} customers should take about {customers / rate / 60:,.0f} min"
        )
    log(f"generating {customers:,} customers (seed {seed}) into {path}")
    return path, _generate(path, customers, seed)


def warm(path: Path) -> None:
    """Read the file once so every method starts with it in the page cache."""
    with path.open("rb") as handle:
        while handle.read(16 * MB):
            pass


# -- the shared classification of the baselines -------------------------------------------


def _ladder_checks() -> list[tuple[str, Combine, list[tuple[Indicator, Decimal]]]]:
    """The default ladder's tiers as (code, combine, [(indicator, rank at least)])."""
    ladder = AssessmentConfig().ladder
    supported = {
        Indicator.ANNUAL_PREMIUM,
        Indicator.POLICIES_IN_FORCE,
        Indicator.TENURE_YEARS,
        Indicator.CREDIT_GRADE,
        Indicator.LOYALTY_LEVEL,
    }
    out = []
    for tier in ladder.tiers:
        checks = []
        for c in tier.criteria:
            if c.indicator not in supported:
                raise SystemExit(f"the baselines do not know the indicator {c.indicator.name}")
            if c.indicator is Indicator.LOYALTY_LEVEL and c.rank > LoyaltyLevel.ACTIVE.rank:
                raise SystemExit("the baselines know the loyalty levels up to ACTIVE only")
            checks.append((c.indicator, c.rank))
        out.append((tier.code, tier.combine, checks))
    return out


#: Columns of the figures frame the baselines build (one row per customer with a purchase):
#: cid, n (purchases), first, last (dates), wn (window purchases), wp (window premium, cents),
#: cp (purchases on our policies), cm (missed premiums of ours in the credit look-back),
#: bad (ours cancelled for a credit-D reason), inf (ours in force), infp (their premium, cents).
FIGURE_COLUMNS = ("cid", "n", "first", "last", "wn", "wp", "cp", "cm", "bad", "inf", "infp")


def classify_frame(fig: pd.DataFrame, customers: int) -> dict[str, dict[str, int]]:
    """Per-segment and per-tier counts from the figures, vectorised, with the rules of
    ``insurcrm.domain.assessment`` (RFM eight types and segments, credit grade, the
    loyalty level up to ACTIVE, the default tier ladder)."""
    import numpy as np
    import pandas as pd

    cfg = AssessmentConfig().segmentation
    as_of = pd.Timestamp(AS_OF)
    k = len(fig)
    n = fig["n"].to_numpy(np.int64)
    first = pd.to_datetime(fig["first"])
    last = pd.to_datetime(fig["last"])
    recency = (as_of - last).dt.days.to_numpy(np.int64)
    wn = fig["wn"].to_numpy(np.int64)
    wp = fig["wp"].to_numpy(np.int64)
    # at_or_above: value * customers >= total (exact, in integers)
    r_up = recency * k >= recency.sum()
    f_up = wn * k >= wn.sum()
    m_up = wp * k >= wp.sum()
    is_new = (as_of - first).dt.days.to_numpy(np.int64) < cfg.rfm.new_customer_days
    names = np.empty(16, dtype=object)
    for (r, f, m), kind in RFM_TYPES.items():
        for new in (False, True):
            names[r * 8 + f * 4 + m * 2 + new] = segment_of(kind, new).name
    codes = r_up.astype(np.int64) * 8 + f_up * 4 + m_up * 2 + is_new
    segments = Counter(names[codes].tolist())
    segments[NONE] = customers - k

    credit_cfg = cfg.credit
    cp = fig["cp"].to_numpy(np.int64)
    cm = fig["cm"].to_numpy(np.int64)
    bad = fig["bad"].to_numpy(np.int64)
    grade_a = (cp >= credit_cfg.a_min_purchases) & (cm <= credit_cfg.a_max_missed)
    grade_b = (cp >= credit_cfg.b_min_purchases) & (cm <= credit_cfg.b_max_missed)
    credit = np.select(
        [bad > 0, cp == 0, grade_a, grade_b], [0, -1, 3, 2], default=1
    )  # D = 0 … A = 3, none = -1 (as the ladder ranks them)
    inf = fig["inf"].to_numpy(np.int64)
    infp = fig["infp"].to_numpy(np.int64)
    ladder_cfg = cfg.ladder
    recent_since = pd.Timestamp(AS_OF.replace(year=AS_OF.year - ladder_cfg.active_recent_years))
    active = (n >= ladder_cfg.active_min_purchases) & (inf > 0) & (last > recent_since).to_numpy()
    level = np.where(active, LoyaltyLevel.ACTIVE.rank, LoyaltyLevel.GENERAL.rank)
    later = (first.dt.month * 100 + first.dt.day).to_numpy() > AS_OF.month * 100 + AS_OF.day
    tenure = AS_OF.year - first.dt.year.to_numpy(np.int64) - later
    values = {
        Indicator.ANNUAL_PREMIUM: infp,  # cents
        Indicator.POLICIES_IN_FORCE: inf,
        Indicator.TENURE_YEARS: tenure,
        Indicator.CREDIT_GRADE: credit,
        Indicator.LOYALTY_LEVEL: level,
    }
    best = np.zeros(k, dtype=np.int64)
    checks = _ladder_checks()
    for i, (_code, combine, criteria) in enumerate(checks):
        if not criteria:
            continue
        met = [
            values[ind] >= (int(rank * 100) if ind is Indicator.ANNUAL_PREMIUM else int(rank))
            for ind, rank in criteria
        ]
        ok = np.logical_and.reduce(met) if combine is Combine.ALL else np.logical_or.reduce(met)
        best = np.where(ok, i, best)
    codes_of = np.array([code for code, _, _ in checks], dtype=object)
    tiers = Counter(codes_of[best].tolist())
    # customers without a purchase have no credit grade: the lowest tier
    tiers[checks[0][0]] += customers - k
    return {"segments": dict(segments), "tiers": dict(tiers)}


def _windows() -> AssessmentWindows:
    return AssessmentWindows.of(AS_OF, AssessmentConfig())


# -- part 1 and 2: the methods, each run in its own subprocess -----------------------------


def _class_name(value: Any) -> str:
    """A class as the counts name it: its enum name, a tier code, NONE for None."""
    if value is None:
        return NONE
    return value if isinstance(value, str) else str(value.name)


def run_insurcrm(store: SqlStore, uow: Any = None) -> dict[str, Any]:
    from insurcrm.services.assessment import assess_portfolio

    pick = itemgetter(*(AssessmentRow._fields.index(c) for c in (*CLASSES, "win_back_recommended")))
    start = time.perf_counter()
    assessment = assess_portfolio(uow or store.unit_of_work(), AS_OF)
    first_pass = time.perf_counter() - start
    # every row's classes counted together (one Counter update a row), then per class
    combos: Counter[tuple[Any, ...]] = Counter(map(pick, assessment))
    classes: dict[str, Counter[str]] = {name: Counter() for name in CLASSES}
    recommended = 0
    for key, n in combos.items():
        for name, value in zip(CLASSES, key, strict=False):
            classes[name][_class_name(value)] += n
        recommended += n if key[-1] else 0
    seconds = time.perf_counter() - start
    return {
        "seconds": seconds,
        "rows": sum(combos.values()),
        "segments": dict(classes["rfm_segment"]),
        "tiers": dict(classes["tier"]),
        "classes": {name: dict(counts) for name, counts in classes.items()},
        "win_backs_recommended": recommended,
        "note": f"pass 1 (SQL aggregate + spool) {first_pass:.1f} s, "
        f"pass 2 (rules) {seconds - first_pass:.1f} s",
    }


# -- what if: insurcrm's engine with its figures read by DuckDB ------------------------------


def _duckdb_dialect() -> Any:
    """A compile target for insurcrm's figures statement run by DuckDB on the SQLite file:
    SQLite's dialect with the three functions whose spelling differs (a JSON field as
    text, a JSON flag as 1/0, a date as its day number)."""
    from sqlalchemy.dialects.sqlite.pysqlite import SQLiteDialect_pysqlite
    from sqlalchemy.ext.compiler import compiles

    from insurcrm.adapters.sql.portfolio import day_number, json_field, json_flag

    class DuckOnSqlite(SQLiteDialect_pysqlite):
        name = "duckdb_on_sqlite"

    def field(element: Any, compiler: Any, **kw: Any) -> str:
        document = compiler.process(element.clauses, **kw)
        return f"json_extract_string({document}, '$.{element.key}')"

    def flag(element: Any, compiler: Any, **kw: Any) -> str:
        return f"CAST(CAST({field(element, compiler, **kw)} AS BOOLEAN) AS INTEGER)"

    def day(element: Any, compiler: Any, **kw: Any) -> str:
        return f"(CAST({compiler.process(element.clauses, **kw)} AS DATE) - DATE '0001-01-01' + 1)"

    compiles(json_field, DuckOnSqlite.name)(field)
    compiles(json_flag, DuckOnSqlite.name)(flag)
    compiles(day_number, DuckOnSqlite.name)(day)
    return DuckOnSqlite()


#: DuckDB's memory limit in the what-if (its own default is 80 % of the machine's memory).
DUCKDB_MEMORY = os.environ.get("INSURCRM_BENCH_DUCKDB_MEMORY", "1GB")
#: DuckDB plans this LEFT JOIN condition (an equality and a test of the left side) as a
#: nested-loop join: 64.6 s against 12.7 s for the statement at 200,000 customers.
_NESTED_LOOP = "latest_churn.customer_id = customers.id AND customers.erased_on IS NULL"
_HASHED = "latest_churn.customer_id = CASE WHEN customers.erased_on IS NULL THEN customers.id END"


def _duckdb_columns(frame: Any) -> dict[str, list[Any]]:
    """A DataFrame chunk as the columns ``figure_columns`` gives: NULL as None, integers
    (which pandas turns to floats beside a NULL) as int."""
    columns: dict[str, list[Any]] = {}
    for name in frame.columns:
        values = frame[name].tolist()
        if frame[name].dtype.kind == "f":
            values = [None if v != v else int(v) for v in values]
        elif frame[name].dtype.kind == "O":
            values = [None if v is None or v != v else v for v in values]
        columns[name] = values
    return columns


def run_insurcrm_duckdb(db: Path) -> dict[str, Any]:
    """What if DuckDB read the figures: ``assess_portfolio`` as in ``run_insurcrm``, with
    ``figure_batches`` replaced by insurcrm's own figures statement run by DuckDB on the
    SQLite file (streamed in chunks through pandas), the same JSON reading and batches.
    A write lock (``BEGIN IMMEDIATE``) is held for the whole read: DuckDB's scans open
    SQLite connections of their own, and only the lock keeps them on one committed state."""
    import duckdb
    import pandas  # noqa: F401 -- imported before the clock starts (chunks are DataFrames)

    from insurcrm.adapters.sql import portfolio as sql_portfolio
    from insurcrm.adapters.sql.unit_of_work import SqlUnitOfWork

    dialect = _duckdb_dialect()

    class DuckFigures:
        def __init__(self, inner: Any) -> None:
            self.inner = inner

        def period_counts(self, windows: AssessmentWindows) -> Any:
            return self.inner.period_counts(windows)

        def figure_batches(
            self, windows: AssessmentWindows, config: AssessmentConfig, size: int
        ) -> Any:
            statement = sql_portfolio.figures_query(windows, config)
            sql = str(statement.compile(dialect=dialect, compile_kwargs={"literal_binds": True}))
            if _NESTED_LOOP not in sql:
                raise RuntimeError("the figures statement changed: update _NESTED_LOOP")
            lock = sqlite3.connect(db, isolation_level=None)
            lock.execute("BEGIN IMMEDIATE")
            conn = duckdb.connect()
            try:
                conn.execute("SET threads = 2")
                # the least of 450 MB, 600 MB and 1 GB that runs at 1,000,000 customers
                conn.execute(f"SET memory_limit = '{DUCKDB_MEMORY}'")
                conn.execute(f"SET temp_directory = '{tempfile.gettempdir()}/insurcrm-duckdb'")
                _duckdb_sqlite(conn)
                conn.execute(f"ATTACH '{db}' AS book (TYPE sqlite, READ_ONLY)")
                conn.execute("USE book")
                cursor = conn.execute(sql.replace(_NESTED_LOOP, _HASHED))
                while True:
                    frame = cursor.fetch_df_chunk(max(1, size // 2048))
                    if not len(frame):
                        break
                    columns = sql_portfolio._read_json(_duckdb_columns(frame))
                    yield sql_portfolio._batch(columns)
            finally:
                conn.close()
                lock.rollback()
                lock.close()

    class DuckUnitOfWork(SqlUnitOfWork):
        def __enter__(self) -> DuckUnitOfWork:
            super().__enter__()
            self.portfolio = DuckFigures(self.portfolio)  # type: ignore[assignment]
            return self

    store = SqlStore.open(f"sqlite:///{db}")
    return run_insurcrm(store, DuckUnitOfWork(store.engine, store.handlers))


def run_pandas(db: Path) -> dict[str, Any]:
    import pandas as pd

    w = _windows()
    as_of, rfm_since = pd.Timestamp(w.as_of), pd.Timestamp(w.rfm_since)
    credit_since = pd.Timestamp(w.credit_since)
    day = {"format": "%Y-%m-%d"}
    d_reasons = sorted(r.name for r in AssessmentConfig().segmentation.credit.d_reasons)
    start = time.perf_counter()
    with sqlite3.connect(f"file:{db}?mode=ro", uri=True) as conn:
        customers = pd.read_sql("SELECT id FROM customers", conn)
        pol = pd.read_sql("SELECT id, policyholder_id, insurer, annual_premium FROM policies", conn)
        pur = pd.read_sql(
            'SELECT policy_id, "on", amount FROM policy_purchases', conn, parse_dates={"on": day}
        )
        mis = pd.read_sql(
            "SELECT policy_id, due_date FROM policy_missed_premiums",
            conn,
            parse_dates={"due_date": day},
        )
        sc = pd.read_sql(
            'SELECT policy_id, position, "on", to_status, reason FROM policy_status_changes',
            conn,
            parse_dates={"on": day},
        )
    read = time.perf_counter() - start
    pol["ours"] = pol["insurer"].isna()
    pol = pol.drop(columns="insurer").rename(columns={"id": "policy_id", "policyholder_id": "cid"})
    pur = pur[pur["on"] <= as_of].merge(pol[["policy_id", "cid", "ours"]], on="policy_id")
    pur["win"] = pur["on"] > rfm_since
    pur["wp"] = pur["amount"].where(pur["win"], 0)
    g = pur.groupby("cid")
    fig = pd.DataFrame(
        {
            "n": g.size(),
            "first": g["on"].min(),
            "last": g["on"].max(),
            "wn": g["win"].sum(),
            "wp": g["wp"].sum(),
            "cp": g["ours"].sum(),
        }
    )
    mis = mis[(mis["due_date"] <= as_of) & (mis["due_date"] > credit_since)]
    mis = mis.merge(pol[["policy_id", "cid", "ours"]], on="policy_id")
    cm = mis[mis["ours"]].groupby("cid").size()
    sc = sc[sc["on"] <= as_of]
    bad_rows = sc[(sc["to_status"] == PolicyStatus.CANCELLED.name) & sc["reason"].isin(d_reasons)]
    bad_rows = bad_rows.merge(pol[["policy_id", "cid", "ours"]], on="policy_id")
    bad = bad_rows[bad_rows["ours"]].groupby("cid").size()
    latest = sc.loc[sc.groupby("policy_id")["position"].idxmax()]
    in_force = latest[latest["to_status"] == PolicyStatus.IN_FORCE.name].merge(pol, on="policy_id")
    in_force = in_force[in_force["ours"]].groupby("cid")
    fig["cm"] = cm.reindex(fig.index, fill_value=0)
    fig["bad"] = bad.reindex(fig.index, fill_value=0)
    fig["inf"] = in_force.size().reindex(fig.index, fill_value=0)
    fig["infp"] = in_force["annual_premium"].sum().reindex(fig.index, fill_value=0)
    counts = classify_frame(fig.reset_index(), len(customers))
    seconds = time.perf_counter() - start
    return {
        "seconds": seconds,
        "rows": len(customers),
        **counts,
        "note": f"read_sql {read:.1f} s, {len(pur):,} purchases, {len(sc):,} status changes",
    }


# -- the full pandas baseline: every figure and every classification -----------------------

_EPOCH_DAY = dt.date(1970, 1, 1).toordinal()
_NO_DAY = 0  # the day number of no date (real dates count from 1)
_SCORE_UNITS = 10_000  # units of a score's fourth decimal place
_ANSWER_SCORE = {a.name: a.score for a in Answer}


def _day_numbers(dates: pd.Series) -> Any:
    """Parsed dates as day numbers (``date.toordinal()``), an int64 array."""
    import numpy as np

    return dates.to_numpy("datetime64[D]").astype(np.int64) + _EPOCH_DAY


def _years_before(day: dt.date, years: int) -> dt.date:
    """``day`` moved back ``years`` years; 29 Feb becomes 28 Feb."""
    try:
        return day.replace(year=day.year - years)
    except ValueError:
        return day.replace(year=day.year - years, day=28)


def _at_least(value: Decimal | int, unit: int = 1) -> int:
    """The least integer count of ``1 / unit`` that is ≥ ``value``."""
    return math.ceil(Decimal(value) * unit)


def _half_even(num: Any, den: Any) -> Any:
    """``num / den`` (``den`` > 0) rounded half to even, as ``Decimal.quantize`` rounds."""
    q, r = num // den, num % den
    return q + ((2 * r > den) | ((2 * r == den) & (q % 2 == 1)))


def _quantised(num: Any, den: Any) -> Any:
    """``num / den`` in units of 0.0001, rounded half to even (0 where ``den`` is 0)."""
    import numpy as np

    return np.where(den == 0, 0, _half_even(num * _SCORE_UNITS, np.where(den == 0, 1, den)))


def _median_at_least(values: Any) -> int:
    """The least integer ≥ the median of integer ``values`` (0 for none): ``x ≥ median``
    is ``x ≥ this`` for an integer x."""
    import numpy as np

    n = len(values)
    if n == 0:
        return 0
    ordered = np.sort(values)
    if n % 2:
        return int(ordered[n // 2])
    return -(-(int(ordered[n // 2 - 1]) + int(ordered[n // 2])) // 2)


def _held_elsewhere(holdings: str) -> int:
    """The annual premium (cents) of a customer's cover with other insurers (their
    holdings, a JSON list)."""
    total = sum(
        (
            Decimal(h["annual_premium"]["amount"])
            for h in json.loads(holdings)
            if h.get("annual_premium") is not None
            and h["annual_premium"]["currency"] == DEFAULT_CURRENCY
        ),
        Decimal(0),
    )
    return int(total.scaleb(2))


def _experience(answers: dict[str, str]) -> int:
    """A survey response's experience (average answer score) in hundredths, rounded half to
    even as ``experience_of`` rounds it."""
    scores = [_ANSWER_SCORE[a] for a in answers.values()]
    return int(_half_even(sum(scores) * 100, len(scores)))


def _full_figures(tables: dict[str, pd.DataFrame]) -> pd.DataFrame:
    """Every customer's figures (one row per customer in id order, days as day numbers,
    amounts in cents) with the definitions of insurcrm's ``figures_query``."""
    import numpy as np
    import pandas as pd

    config = AssessmentConfig()
    w = _windows()
    as_of, rfm_since = w.as_of.toordinal(), w.rfm_since.toordinal()
    repeat_since, credit_since = w.repeat_since.toordinal(), w.credit_since.toordinal()
    period_start = w.period_start.toordinal()
    warning_since, warning_before = w.warning_since.toordinal(), w.warning_before.toordinal()
    in_force_now = PolicyStatus.IN_FORCE.name

    cus = tables["customers"]
    ids = pd.Index(cus["id"])
    everyone = pd.RangeIndex(len(ids))

    def per_customer(frame: pd.DataFrame | pd.Series) -> Any:
        return frame.reindex(everyone, fill_value=0)

    pol = tables["policies"].rename(columns={"id": "policy_id"})
    pol["c"] = ids.get_indexer(pol["policyholder_id"])
    pol["ours"] = pol["insurer"].isna()
    keys = pol[["policy_id", "c", "ours"]]

    # purchases up to the date, of every policy the customer holds as policyholder
    pur = tables["purchases"]
    pur = pur.assign(day=_day_numbers(pur["on"]))
    pur = pur[pur["day"] <= as_of].merge(
        pol[["policy_id", "c", "ours", "campaign"]], on="policy_id"
    )
    d, ours, amount = pur["day"], pur["ours"], pur["amount"]
    cny = pur["currency"] == DEFAULT_CURRENCY  # amounts are summed in CNY only
    win = d > rfm_since
    warned = ours & cny & (d > warning_since)
    warned_before = ours & cny & (d > warning_before) & (d <= warning_since)
    bought = pd.DataFrame(
        {
            "c": pur["c"],
            "purchases": 1,
            "first_purchase": d,
            "last_purchase": d,
            "window_purchases": win,
            "window_premium": amount.where(win & cny, 0),
            "window_renewals": win & (pur["kind"] == PurchaseKind.RENEWAL.name),
            "recent_purchases": d > repeat_since,
            "rewarded_purchases": pur["campaign"].notna(),
            "credit_purchases": ours,
            "warning_bought": amount.where(warned, 0),
            "warning_bought_before": amount.where(warned_before, 0),
            "last_purchase_ours": d.where(ours, _NO_DAY),
        }
    )
    how = dict.fromkeys(bought.columns[1:], "sum")
    how.update(first_purchase="min", last_purchase="max", last_purchase_ours="max")
    fig = per_customer(bought.groupby("c").agg(how))

    # missed premiums: in the RFM window (every policy) and in the credit look-back (ours)
    mis = tables["missed"]
    mis = mis.assign(day=_day_numbers(mis["due_date"]))
    mis = mis[(mis["day"] <= as_of) & (mis["day"] > min(rfm_since, credit_since))]
    mis = mis.merge(keys, on="policy_id")
    missed = pd.DataFrame(
        {
            "c": mis["c"],
            "window_missed": mis["day"] > rfm_since,
            "credit_missed": (mis["day"] > credit_since) & mis["ours"],
        }
    )
    fig = fig.join(per_customer(missed.groupby("c").sum()))

    # status changes up to the date: our policies ended for a credit-D reason, and the
    # status of each of ours at the end of the date (its latest change by then)
    sc = tables["status_changes"]
    sc = sc.assign(day=_day_numbers(sc["on"]))
    upto = sc[sc["day"] <= as_of]
    d_reasons = sorted(r.name for r in config.segmentation.credit.d_reasons)
    ended = upto[
        (upto["to_status"] == PolicyStatus.CANCELLED.name) & upto["reason"].isin(d_reasons)
    ]
    ended = ended.merge(keys[keys["ours"]], on="policy_id")
    fig["bad_endings"] = per_customer(ended.groupby("c").size())
    ordered = upto.sort_values(["policy_id", "position"])
    latest = ordered.drop_duplicates("policy_id", keep="last")[["policy_id", "to_status"]]
    ours_pol = pol.loc[pol["ours"], ["policy_id", "c", "annual_premium", "term_years", "currency"]]
    status = latest.merge(ours_pol, on="policy_id")
    held = status["to_status"] == in_force_now
    now = pd.DataFrame(
        {
            "c": status["c"],
            "in_force": held,
            "in_force_premium": status["annual_premium"].where(
                held & (status["currency"] == DEFAULT_CURRENCY), 0
            ),
            "long_term": held & (status["term_years"] > 1),
        }
    )
    fig = fig.join(per_customer(now.groupby("c").sum()))
    # our long-term policies in force in the household (the customer's own without one)
    home = cus["household_id"]
    household = fig["long_term"].groupby(home).sum()
    fig["household_long_term"] = np.where(
        home.isna(), fig["long_term"], home.map(household).fillna(0)
    ).astype(np.int64)

    # the card: two-way lead source, cover held elsewhere (the holdings JSON)
    fig["two_way_lead"] = cus["lead_source"].isin([s.name for s in TWO_WAY_LEAD_SOURCES])
    elsewhere = np.zeros(len(ids), np.int64)
    holds = (cus["holdings"] != "[]").to_numpy()
    elsewhere[holds] = [_held_elsewhere(h) for h in cus["holdings"][holds]]
    fig["elsewhere_premium"] = elsewhere

    # customers they referred who bought up to the date
    referred = cus[cus["referred_by"].notna()]
    buyers = pd.DataFrame(
        {
            "c": ids.get_indexer(referred["referred_by"]),
            "referred_buyers": fig["purchases"].to_numpy()[referred.index] > 0,
        }
    )
    fig["referred_buyers"] = per_customer(buyers.groupby("c")["referred_buyers"].sum())
    # … and every referral known by the date (registered, or bought, by then)
    known = buyers["referred_buyers"] | (referred["created_on"] <= AS_OF.isoformat()).to_numpy()
    fig["referrals"] = per_customer(known.groupby(buyers["c"]).sum())

    # the tier held
    tm = tables["tiers"]
    fig["current_tier"] = pd.Series(
        tm["tier"].to_numpy(), index=ids.get_indexer(tm["customer_id"])
    ).reindex(everyone)
    fig["erased"] = cus["erased_on"].notna().to_numpy()
    fig["cooperation_partner"] = cus["cooperation_partner"].astype(bool).to_numpy()

    # complaints in the early warning's window and in the window before it
    k = tables["complaints"]
    k = k.assign(day=_day_numbers(k["day"]))
    k = k[(k["day"] > min(warning_before, period_start)) & (k["day"] <= as_of)]
    complained = pd.DataFrame(
        {
            "c": ids.get_indexer(k["customer_id"]),
            "complaints": k["day"] > warning_since,
            "complaints_before": k["day"] <= warning_since,
        }
    )
    fig = fig.join(per_customer(complained.groupby("c").sum()))

    # contacts in the window noting each observed signal (the interactions' JSON)
    it = tables["interactions"]
    it = it.assign(day=_day_numbers(it["day"]))
    it = it[(it["day"] > warning_since) & (it["day"] <= as_of)]
    noted = pd.DataFrame(
        {
            "c": ids.get_indexer(it["customer_id"]),
            "signal": [set(json.loads(x).get("signals") or ()) for x in it["data"]],
        }
    ).explode("signal")
    noted = noted.groupby(["c", "signal"]).size().unstack(fill_value=0)
    for signal in ObservedSignal:
        found = noted[signal.name] if signal.name in noted else pd.Series(dtype=np.int64)
        fig[f"noted_{signal.name.lower()}"] = per_customer(found)

    # the latest two survey responses; their experience when the latest is in the window
    r = tables["surveys"]
    r = r.assign(day=_day_numbers(r["day"]), c=ids.get_indexer(r["customer_id"]))
    r = r[r["day"] <= as_of].sort_values(["c", "day", "id"], ascending=False)
    rank = r.groupby("c").cumcount()
    last = r[rank == 0].set_index("c")
    prior = r[rank == 1].set_index("c")
    pair = last[["day", "data"]].join(prior[["data"]].add_suffix("_prior"), how="inner")
    pair = pair[pair["day"] > warning_since]
    for name, column in (("survey_last", "data"), ("survey_prior", "data_prior")):
        values = [_experience(json.loads(x)["answers"]) for x in pair[column]]
        fig[name] = pd.Series(values, index=pair.index, dtype=np.int64).reindex(
            everyone, fill_value=-1
        )

    # a two-way contact logged up to the date, for a customer without a purchase (§4.2)
    logged = tables["interactions"]
    logged = logged[_day_numbers(logged["day"]) <= as_of]
    who = ids.get_indexer(logged["customer_id"])
    unbought = (fig["purchases"].to_numpy() == 0)[who]
    conversation = {x.name for x in CONVERSATION_CHANNELS}
    talks = [json.loads(x) for x in logged["data"][unbought]]
    two_way = np.array(
        [x["direction"] == Direction.INBOUND.name or x["channel"] in conversation for x in talks],
        bool,
    )
    contacted = np.zeros(len(ids), bool)
    contacted[who[unbought][two_way]] = True
    fig["contacted"] = contacted

    # the latest response that asked the expectation: its experience, the expectation and
    # whether its INDUSTRY answer favours us (the loyalty type's attachment, §4.3)
    sv = tables["surveys"]
    sv = sv.assign(day=_day_numbers(sv["day"]), c=ids.get_indexer(sv["customer_id"]))
    sv = sv[sv["day"] <= as_of]
    answered = [json.loads(x) for x in sv["data"]]
    sv = sv.assign(
        expectation=[x.get("expectation") for x in answered],
        answers=[x["answers"] for x in answered],
    )
    sv = sv[sv["expectation"].notna()].sort_values(["c", "day", "id"])
    sv = sv.drop_duplicates("c", keep="last")
    judged = sv["c"].to_numpy()
    experience = np.full(len(ids), -1, np.int64)
    experience[judged] = [_experience(a) for a in sv["answers"]]
    expectation = np.zeros(len(ids), np.int64)
    expectation[judged] = [_ANSWER_SCORE[x] for x in sv["expectation"]]
    favours = np.zeros(len(ids), bool)
    favours[judged] = [
        _ANSWER_SCORE.get(a.get("INDUSTRY", ""), 0) >= Answer.SATISFIED.score for a in sv["answers"]
    ]
    fig["survey_experience"], fig["survey_expectation"] = experience, expectation
    fig["favours_us"] = favours

    # the churn record a recovery is decided on: the latest (by day, id) on or before the
    # date not won back by then, for a customer not erased (the churn records' JSON)
    ch = tables["churns"]
    ch = ch.assign(day=_day_numbers(ch["day"]), c=ids.get_indexer(ch["customer_id"]))
    ch = ch[ch["day"] <= as_of]
    data = [json.loads(x) for x in ch["data"]]
    won_back = pd.Series([x.get("won_back_on") for x in data], index=ch.index)
    ch = ch.assign(
        structure=[x.get("structure") for x in data],
        causes=[tuple(x.get("causes") or ()) for x in data],
    )
    ch = ch[won_back.isna() | (won_back > w.as_of.isoformat())]
    ch = ch.sort_values(["c", "day", "id"]).drop_duplicates("c", keep="last")
    ch = ch[cus["erased_on"].isna().to_numpy()[ch["c"]]]
    # their policies of ours in CNY in force the day before it: the premium lost
    mine = pol.loc[
        pol["ours"] & (pol["currency"] == DEFAULT_CURRENCY), ["policy_id", "c", "annual_premium"]
    ].merge(ch[["c", "day"]].rename(columns={"day": "churn_day"}), on="c")
    before = mine.merge(sc[["policy_id", "position", "day", "to_status"]], on="policy_id")
    before = before[before["day"] < before["churn_day"]]
    before = before.sort_values(["policy_id", "position"]).drop_duplicates("policy_id", keep="last")
    lost = before[before["to_status"] == in_force_now].groupby("c")["annual_premium"].sum()
    churn = ch.set_index("c")[["structure", "causes"]]
    churn["lost_premium"] = lost.reindex(churn.index, fill_value=0)
    fig["churn_open"] = False
    fig.loc[churn.index, "churn_open"] = True
    return fig.join(churn)


def classify_full(fig: pd.DataFrame) -> dict[str, Any]:
    """Every classification of every customer from their figures, vectorised, with the
    rules of ``insurcrm.domain.assessment.Assessor``; returns the customers per class of
    each of ``CLASSES`` and the win-backs recommended."""
    import numpy as np
    import pandas as pd

    config = AssessmentConfig()
    seg = config.segmentation
    as_of = AS_OF.toordinal()

    def col(name: str) -> Any:
        return fig[name].to_numpy(np.int64)

    purchases, first, last = col("purchases"), col("first_purchase"), col("last_purchase")
    in_force, in_force_premium = col("in_force"), col("in_force_premium")
    referred, elsewhere = col("referred_buyers"), col("elsewhere_premium")
    window_purchases, window_premium = col("window_purchases"), col("window_premium")
    bought = (purchases > 0) & (first != _NO_DAY) & (last != _NO_DAY)

    # whole years from the first purchase to the date (29 Feb's anniversary is 28 Feb)
    when = pd.Series((np.where(bought, first, as_of) - _EPOCH_DAY).astype("datetime64[D]"))
    month, day = when.dt.month.to_numpy(), when.dt.day.to_numpy()
    if AS_OF.year % 4 or (AS_OF.year % 100 == 0 and AS_OF.year % 400):
        day = np.where((month == 2) & (day == 29), 28, day)
    later = (month > AS_OF.month) | ((month == AS_OF.month) & (day > AS_OF.day))
    tenure = np.where(bought, AS_OF.year - when.dt.year.to_numpy() - later, 0)

    # the loyalty level (§4.2), as indexes of LoyaltyLevel
    levels = list(LoyaltyLevel)
    lv = {x: i for i, x in enumerate(levels)}
    ladder = seg.ladder
    active_from = _years_before(AS_OF, ladder.active_recent_years).toordinal()
    active = (purchases >= ladder.active_min_purchases) & (in_force > 0) & (last > active_from)
    two_way = fig["two_way_lead"].to_numpy(bool) | fig["contacted"].to_numpy(bool)
    level = np.select(
        [
            ~bought & two_way,
            ~bought,
            ~active,
            referred < ladder.advocate_min_referred_buyers,
            ((referred >= ladder.partner_min_referred_buyers) | (col("cooperation_partner") > 0))
            & (tenure >= ladder.partner_min_tenure_years),
        ],
        [
            lv[LoyaltyLevel.PROSPECT],
            lv[LoyaltyLevel.ORDINARY_BUYER],
            lv[LoyaltyLevel.GENERAL],
            lv[LoyaltyLevel.ACTIVE],
            lv[LoyaltyLevel.PARTNER],
        ],
        lv[LoyaltyLevel.ADVOCATE],
    )

    # the loyalty type (§4.3)
    types = list(LoyaltyType)
    rewarded_share = _quantised(col("rewarded_purchases"), purchases)
    experience = col("survey_experience")  # hundredths, -1 for none
    gap = experience - 100 * col("survey_expectation")
    satisfied = (experience >= 0) & (gap >= -math.floor(100 * seg.types.satisfaction.tolerance))
    attached = satisfied & (
        (col("referrals") >= seg.types.attachment_min_referrals) | fig["favours_us"].to_numpy(bool)
    )
    repeat_low = col("recent_purchases") < seg.types.repeat_min_purchases
    loyalty_type = np.select(
        [
            repeat_low & attached,
            repeat_low,
            attached,
            rewarded_share >= _at_least(seg.types.incentive_min_share, _SCORE_UNITS),
        ],
        [
            types.index(LoyaltyType.LATENT),
            types.index(LoyaltyType.NONE),
            types.index(LoyaltyType.PREMIUM),
            types.index(LoyaltyType.INCENTIVE),
        ],
        types.index(LoyaltyType.INERTIA),
    )

    # the credit grade (§1.3), as indexes of CreditGrade (A first), -1 for none
    grades = list(CreditGrade)
    gr = {x: i for i, x in enumerate(grades)}
    cc = seg.credit
    ours, missed = col("credit_purchases"), col("credit_missed")
    credit = np.select(
        [
            col("bad_endings") > 0,
            ours == 0,
            (ours >= cc.a_min_purchases) & (missed <= cc.a_max_missed),
            (ours >= cc.b_min_purchases) & (missed <= cc.b_max_missed),
        ],
        [gr[CreditGrade.D], -1, gr[CreditGrade.A], gr[CreditGrade.B]],
        gr[CreditGrade.C],
    )

    # the qualifying tier (§6) and what is due against the tier held
    indicators = {
        Indicator.ANNUAL_PREMIUM: in_force_premium,
        Indicator.POLICIES_IN_FORCE: in_force,
        Indicator.TENURE_YEARS: tenure,
        Indicator.REFERRALS: referred,
        Indicator.HOUSEHOLD_LONG_TERM_POLICIES: col("household_long_term"),
        Indicator.LOYALTY_LEVEL: level,  # the index is the rank
        Indicator.CREDIT_GRADE: np.where(credit == -1, -1, len(grades) - 1 - credit),
    }
    scale = {Indicator.ANNUAL_PREMIUM: 100}  # premiums in cents
    tier = np.zeros(len(fig), np.int64)
    for i, rung in enumerate(config.ladder.tiers):
        met = [
            indicators[c.indicator] >= _at_least(c.rank, scale.get(c.indicator, 1))
            for c in rung.criteria
        ]
        if not met:
            tier[:] = i
            continue
        every = rung.combine is Combine.ALL
        tier = np.where(np.logical_and.reduce(met) if every else np.logical_or.reduce(met), i, tier)
    codes = list(config.ladder.codes)
    held = fig["current_tier"].map({code: i for i, code in enumerate(codes)})
    held = held.fillna(-1).to_numpy(np.int64)
    changes = list(TierChange)
    tier_change = np.select(
        [fig["erased"].to_numpy(), held == -1, tier > held, tier < held],
        [
            -1,
            *(changes.index(x) for x in (TierChange.ENROL, TierChange.UPGRADE, TierChange.AT_RISK)),
        ],
        changes.index(TierChange.KEEP),
    )

    # the early warning (§7.2)
    wc = config.warning
    keep, whole = (1 - wc.purchase_drop).as_integer_ratio()
    now, before = col("warning_bought"), col("warning_bought_before")
    survey_last, survey_prior = col("survey_last"), col("survey_prior")
    fell = (
        (survey_last >= 0)
        & (survey_prior - survey_last >= _at_least(wc.survey_drop, 100))
        & (survey_prior > survey_last)
    )
    last_ours = col("last_purchase_ours")
    idle_before = _years_before(AS_OF, wc.programmes.revisit_idle_years).toordinal()
    raised = {
        WarningSignal.PURCHASES_DECLINING: (before > 0) & (now * whole <= before * keep),
        WarningSignal.COMPLAINTS_INCREASING: col("complaints") > col("complaints_before"),
        WarningSignal.PRAISES_COMPETITOR: col("noted_praises_competitor") >= wc.praise_repeats,
        WarningSignal.RELATIONSHIP_DECLINING: (col("noted_relationship_declining") > 0) | fell,
        WarningSignal.NEW_BUSINESS_STRATEGY: col("noted_new_business_strategy") > 0,
        WarningSignal.OWNERSHIP_CHANGE: col("noted_ownership_change") > 0,
        WarningSignal.IDLE_RETURNING: (last_ours != _NO_DAY) & (last_ours < idle_before),
    }
    score = np.minimum(sum(found * wc.weights[s] for s, found in raised.items()), 100)
    warning_levels = [wc.level(x) for x in range(101)]
    warning_names = [x.name for x in warning_levels]

    # the recovery decision (§7.3) of each churned customer, as insurcrm decides it
    factor = win_back_factor(config.win_back_model, config.future)
    stances = list(WinBackStance)
    win_back = np.full(len(fig), -1, np.int64)
    recommended = 0
    churned = fig[fig["churn_open"]]
    for i, structure, causes, lost in zip(
        churned.index,
        churned["structure"],
        churned["causes"],
        churned["lost_premium"].astype(np.int64),
        strict=True,
    ):
        stance, recommend = recovery_outcome(
            ChurnStructure[structure] if isinstance(structure, str) else None,
            tuple(ChurnCause[c] for c in causes),
            win_back_worth(Decimal(int(lost)).scaleb(-2), factor),
            config.recovery,
        )
        win_back[i] = stances.index(stance)
        recommended += recommend

    # against the portfolio statistics, over the customers with a purchase: RFM (§5.1)
    n = int(bought.sum())
    recency = as_of - last
    key = (
        (recency * n >= int(recency[bought].sum())) * 4
        + (window_purchases * n >= int(window_purchases[bought].sum())) * 2
        + (window_premium * n >= int(window_premium[bought].sum()))
    )
    segments = list(RfmSegment)
    of_key = np.array(
        [
            [
                segments.index(segment_of(RFM_TYPES[(bool(k & 4), bool(k & 2), bool(k & 1))], new))
                for new in (False, True)
            ]
            for k in range(8)
        ]
    )
    is_new = first > as_of - seg.rfm.new_customer_days
    segment = np.where(bought, of_key[key, is_new.astype(np.int64)], -1)
    # the value quadrant (§5.2): the loyalty score in units of 0.0001 against its median
    wallet = in_force_premium + elsewhere
    share = _quantised(in_force_premium, wallet)
    renewals, window_missed = col("window_renewals"), col("window_missed")
    due = renewals + window_missed
    continuity = np.where(due == 0, _SCORE_UNITS, _quantised(renewals, due))
    default = _quantised(window_missed, due)
    q = seg.quadrant
    ratios = [w.as_integer_ratio() for w in (q.share_weight, q.continuity_weight, q.default_weight)]
    unit = math.lcm(*(den for _, den in ratios))
    a, b, c = (num * (unit // den) for num, den in ratios)
    loyalty = _half_even(a * share + b * continuity + c * (_SCORE_UNITS - default), unit)
    loyal = loyalty >= _median_at_least(loyalty[bought])
    # profit is the premium (the cost of serving is not known): its median is the median
    # current value, which the retention class compares with too
    value_median = _median_at_least(window_premium[bought])
    profitable = valuable = window_premium >= value_median
    quadrants = list(ValueQuadrant)
    both = (False, True)
    of_quadrant = np.array([[quadrants.index(QUADRANT_OF[(x, y)]) for y in both] for x in both])
    quadrant = np.where(
        bought, of_quadrant[loyal.astype(np.int64), profitable.astype(np.int64)], -1
    )
    # the retention class (§5.3)
    potential = (
        np.where(elsewhere == 0, in_force_premium == 0, share < _SCORE_UNITS)
        | (first > _years_before(AS_OF, 1).toordinal())
        | (referred > 0)
    )
    retentions = list(RetentionClass)
    of_retention = np.array(
        [[retentions.index(RETENTION_CLASS_OF[(x, y)]) for y in both] for x in both]
    )
    retention = np.where(
        bought, of_retention[valuable.astype(np.int64), potential.astype(np.int64)], -1
    )

    def tally(names: Sequence[str], codes: Any) -> dict[str, int]:
        labels = np.array([*names, NONE], dtype=object)  # code -1 is the last: NONE
        return {k: int(v) for k, v in pd.Series(labels[codes]).value_counts().items()}

    def names(members: Sequence[Any]) -> list[str]:
        return [m.name for m in members]

    classes = {
        "loyalty_level": tally(names(levels), level),
        "loyalty_type": tally(names(types), loyalty_type),
        "credit": tally(names(grades), credit),
        "rfm_segment": tally(names(segments), segment),
        "quadrant": tally(names(quadrants), quadrant),
        "retention": tally(names(retentions), retention),
        "tier": tally(codes, tier),
        "tier_change": tally(names(changes), tier_change),
        "warning_level": tally(warning_names, score),
        "win_back": tally(names(stances), win_back),
    }
    return {"classes": classes, "win_backs_recommended": int(recommended)}


def run_pandas_full(db: Path) -> dict[str, Any]:
    """insurcrm's whole assessment in pandas: every table its statement reads, with
    ``read_sql``; the figures by merge and groupby (JSON parsed in Python); every rule
    vectorised; the customers per class of every classification."""
    import pandas as pd

    day = {"format": "%Y-%m-%d"}
    queries = {
        "customers": (
            "SELECT id, created_on, erased_on, holdings, lead_source, referred_by, "
            "household_id, cooperation_partner FROM customers ORDER BY id",
            (),
        ),
        "policies": (
            "SELECT id, policyholder_id, term_years, currency, annual_premium, insurer, "
            "campaign FROM policies",
            (),
        ),
        "purchases": (
            'SELECT policy_id, "on", amount, currency, kind FROM policy_purchases',
            ("on",),
        ),
        "missed": ("SELECT policy_id, due_date FROM policy_missed_premiums", ("due_date",)),
        "status_changes": (
            'SELECT policy_id, position, "on", to_status, reason FROM policy_status_changes',
            ("on",),
        ),
        "tiers": ("SELECT customer_id, tier FROM tier_memberships", ()),
        "churns": ("SELECT id, customer_id, day, data FROM churn_records", ("day",)),
        "complaints": ("SELECT customer_id, day FROM complaints", ("day",)),
        "interactions": ("SELECT customer_id, day, data FROM interactions", ("day",)),
        "surveys": ("SELECT id, customer_id, day, data FROM survey_responses", ("day",)),
    }
    start = time.perf_counter()
    with sqlite3.connect(f"file:{db}?mode=ro", uri=True) as conn:
        tables = {
            name: pd.read_sql(sql, conn, parse_dates=dict.fromkeys(dates, day))
            for name, (sql, dates) in queries.items()
        }
    read = time.perf_counter() - start
    fig = _full_figures(tables)
    figured = time.perf_counter() - start
    counts = classify_full(fig)
    seconds = time.perf_counter() - start
    return {
        "seconds": seconds,
        "rows": len(fig),
        "segments": counts["classes"]["rfm_segment"],
        "tiers": counts["classes"]["tier"],
        **counts,
        "note": f"read_sql {read:.1f} s, figures {figured - read:.1f} s, "
        f"rules {seconds - figured:.1f} s",
    }


def _duckdb_sqlite(conn: Any) -> str:
    """Load DuckDB's sqlite extension without the network; returns how."""
    try:
        conn.execute("LOAD sqlite")
        return "LOAD sqlite"
    except Exception as error:  # any failure: try the wheel below
        first = str(error).splitlines()[0]
    try:  # the extension binary shipped on PyPI as a wheel
        import duckdb_extension_sqlite_scanner as wheel  # type: ignore[import-not-found, unused-ignore]
    except ImportError:
        raise RuntimeError(f"the sqlite extension is not available offline ({first})") from None
    found = sorted(Path(wheel.__file__).parent.glob("extensions/*/sqlite_scanner.duckdb_extension"))
    if not found:
        raise RuntimeError("duckdb-extension-sqlite-scanner holds no extension binary")
    conn.execute(f"LOAD '{found[-1]}'")
    return "duckdb-extension-sqlite-scanner wheel"


def run_duckdb(db: Path) -> dict[str, Any]:
    import duckdb
    import pandas  # noqa: F401 -- imported before the clock starts (``.df()`` needs it)

    w = _windows()
    reasons = sorted(r.name for r in AssessmentConfig().segmentation.credit.d_reasons)
    d_reasons = ", ".join(f"'{name}'" for name in reasons)
    start = time.perf_counter()
    conn = duckdb.connect()
    how = _duckdb_sqlite(conn)
    conn.execute(f"ATTACH '{db}' AS book (TYPE sqlite, READ_ONLY)")
    query = f"""
    WITH pol AS (
        SELECT id, policyholder_id AS cid, insurer IS NULL AS ours, annual_premium
        FROM book.policies
    ),
    bought AS (
        SELECT pol.cid, count(*) AS n, min(s."on") AS first, max(s."on") AS last,
               count(*) FILTER (WHERE s."on" > DATE '{w.rfm_since}') AS wn,
               coalesce(sum(s.amount) FILTER (WHERE s."on" > DATE '{w.rfm_since}'), 0) AS wp,
               count(*) FILTER (WHERE pol.ours) AS cp
        FROM book.policy_purchases s JOIN pol ON pol.id = s.policy_id
        WHERE s."on" <= DATE '{w.as_of}'
        GROUP BY pol.cid
    ),
    missed AS (
        SELECT pol.cid, count(*) AS cm
        FROM book.policy_missed_premiums m JOIN pol ON pol.id = m.policy_id
        WHERE pol.ours AND m.due_date <= DATE '{w.as_of}'
          AND m.due_date > DATE '{w.credit_since}'
        GROUP BY pol.cid
    ),
    changes AS (
        SELECT policy_id, position, "on", to_status, reason
        FROM book.policy_status_changes WHERE "on" <= DATE '{w.as_of}'
    ),
    bad AS (
        SELECT pol.cid, count(*) AS bad
        FROM changes c JOIN pol ON pol.id = c.policy_id
        WHERE pol.ours AND c.to_status = '{PolicyStatus.CANCELLED.name}'
          AND c.reason IN ({d_reasons})
        GROUP BY pol.cid
    ),
    latest AS (
        SELECT policy_id, arg_max(to_status, position) AS status FROM changes GROUP BY policy_id
    ),
    now AS (
        SELECT pol.cid, count(*) AS inf, sum(pol.annual_premium) AS infp
        FROM latest JOIN pol ON pol.id = latest.policy_id
        WHERE pol.ours AND latest.status = '{PolicyStatus.IN_FORCE.name}'
        GROUP BY pol.cid
    )
    SELECT b.cid, b.n, b.first, b.last, b.wn, b.wp, b.cp,
           coalesce(m.cm, 0) AS cm, coalesce(x.bad, 0) AS bad,
           coalesce(now.inf, 0) AS inf, coalesce(now.infp, 0) AS infp
    FROM bought b
    LEFT JOIN missed m ON m.cid = b.cid
    LEFT JOIN bad x ON x.cid = b.cid
    LEFT JOIN now ON now.cid = b.cid
    """
    fig = conn.execute(query).df()
    customers = conn.execute("SELECT count(*) FROM book.customers").fetchone()
    assert customers is not None
    aggregate = time.perf_counter() - start
    counts = classify_frame(fig, int(customers[0]))
    seconds = time.perf_counter() - start
    conn.close()
    return {
        "seconds": seconds,
        "rows": int(customers[0]),
        **counts,
        "note": f"aggregate {aggregate:.1f} s; extension: {how}",
    }


def pg_store(url: str, schema: str, **options: Any) -> SqlStore:
    return SqlStore.open(url, connect_args={"options": f"-c search_path={schema}"}, **options)


def pg_conninfo(url: str) -> str:
    from sqlalchemy.engine import make_url

    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


def _literal_sql(statement: Any, dialect: Any) -> str:
    """``statement`` compiled for ``dialect`` with its parameters written in as literals."""
    return str(statement.compile(dialect=dialect, compile_kwargs={"literal_binds": True}))


def _figures_sql(dialect: Any) -> str:
    """``figures_query`` as SQL text."""
    from insurcrm.adapters.sql.portfolio import figures_query

    config = AssessmentConfig()
    return _literal_sql(figures_query(AssessmentWindows.of(AS_OF, config), config), dialect)


def _split_sqls(dialect: Any) -> list[str]:
    """The two statements of ``figure_statements`` a big book is read with, as SQL text."""
    from insurcrm.adapters.sql.portfolio import figure_statements

    config = AssessmentConfig()
    statements = figure_statements(AssessmentWindows.of(AS_OF, config), config, 2)
    return [_literal_sql(s, dialect) for s in statements]


def _read_statement(db: str, sql: str) -> int:
    """Run ``sql`` on ``db`` through sqlite3 and count its rows (in a worker process)."""
    rows = 0
    with sqlite3.connect(f"file:{db}?mode=ro", uri=True) as conn:
        cursor = conn.execute(sql)
        while batch := cursor.fetchmany(5000):
            rows += len(batch)
    return rows


def run_sqlite_raw(db: Path) -> dict[str, Any]:
    """The statement insurcrm runs, alone: what its Python side adds is the difference."""
    from sqlalchemy.dialects import sqlite

    start = time.perf_counter()
    rows = _read_statement(str(db), _figures_sql(sqlite.dialect()))
    seconds = time.perf_counter() - start
    return {"seconds": seconds, "rows": rows, "note": "insurcrm's statement alone, sqlite3"}


def run_sqlite_split(db: Path) -> dict[str, Any]:
    """The two statements insurcrm's reader processes run on a big book, each through
    sqlite3 in a process of its own, at once: the floor under insurcrm's reading."""
    from concurrent.futures import ProcessPoolExecutor

    from sqlalchemy.dialects import sqlite

    start = time.perf_counter()
    sqls = _split_sqls(sqlite.dialect())
    with ProcessPoolExecutor(len(sqls)) as pool:
        counts = list(pool.map(_read_statement, [str(db)] * len(sqls), sqls))
    seconds = time.perf_counter() - start
    return {
        "seconds": seconds,
        "rows": counts[0],
        "note": "insurcrm's two statements at once, sqlite3 in two processes",
    }


def _read_pg_statement(conninfo: str, schema: str, sql: str) -> int:
    """Run ``sql`` through psycopg with a server-side cursor and count its rows."""
    import psycopg

    rows = 0
    with (
        psycopg.connect(conninfo, options=f"-c search_path={schema}") as conn,
        conn.cursor(name="figures") as cursor,
    ):
        cursor.itersize = 5000
        cursor.execute(sql.encode())
        while batch := cursor.fetchmany(5000):
            rows += len(batch)
    return rows


def run_pg_raw(url: str, schema: str) -> dict[str, Any]:
    from sqlalchemy.dialects import postgresql

    start = time.perf_counter()
    dialect: Any = postgresql.dialect  # untyped
    rows = _read_pg_statement(pg_conninfo(url), schema, _figures_sql(dialect()))
    seconds = time.perf_counter() - start
    return {"seconds": seconds, "rows": rows, "note": "server-side cursor, 5,000 rows a fetch"}


def run_pg_split(url: str, schema: str) -> dict[str, Any]:
    """The two statements insurcrm reads a big book with, each through psycopg on a
    connection of its own, at once (threads: the server does the work)."""
    from concurrent.futures import ThreadPoolExecutor

    from sqlalchemy.dialects import postgresql

    start = time.perf_counter()
    dialect: Any = postgresql.dialect  # untyped
    sqls = _split_sqls(dialect())
    with ThreadPoolExecutor(len(sqls)) as pool:
        n = len(sqls)
        counts = list(pool.map(_read_pg_statement, [pg_conninfo(url)] * n, [schema] * n, sqls))
    seconds = time.perf_counter() - start
    return {
        "seconds": seconds,
        "rows": counts[0],
        "note": "insurcrm's two statements at once, two connections (no shared snapshot)",
    }


def run_one(args: argparse.Namespace) -> None:
    """``--run-one METHOD``: run one method and print its result as JSON."""
    method = args.run_one
    db = book_path(args.workdir, args.customers, args.seed)
    before = peak_rss_mb()
    if method == "insurcrm":
        result = run_insurcrm(SqlStore.open(f"sqlite:///{db}"))
    elif method == "insurcrm-duckdb":
        result = run_insurcrm_duckdb(db)
    elif method == "sqlite-raw":
        result = run_sqlite_raw(db)
    elif method == "sqlite-split":
        result = run_sqlite_split(db)
    elif method == "pandas":
        result = run_pandas(db)
    elif method == "pandas-full":
        result = run_pandas_full(db)
    elif method == "duckdb":
        result = run_duckdb(db)
    elif method == "pg-insurcrm":
        result = run_insurcrm(pg_store(args.postgres, args.pg_schema))
    elif method == "pg-raw":
        result = run_pg_raw(args.postgres, args.pg_schema)
    elif method == "pg-split":
        result = run_pg_split(args.postgres, args.pg_schema)
    else:
        raise SystemExit(f"unknown method {method}")
    result["rss_start_mb"] = before
    result["rss_mb"] = peak_rss_mb()
    print(json.dumps(result))


def measure(args: argparse.Namespace, method: str) -> dict[str, Any]:
    """Run ``method`` in its own subprocess and return its JSON result (or the error)."""
    command = [
        sys.executable,
        str(Path(__file__).resolve()),
        "--run-one",
        method,
        "--customers",
        str(args.customers),
        "--seed",
        str(args.seed),
        "--workdir",
        str(args.workdir),
        "--pg-schema",
        args.pg_schema,
    ]
    if args.postgres:
        command += ["--postgres", args.postgres]
    log(f"  {method} …")
    done = subprocess.run(command, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        tail = (done.stderr.strip().splitlines() or ["?"])[-1]
        log(done.stderr)
        return {"error": tail}
    result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    log(f"    {result['seconds']:.1f} s, peak RSS {result['rss_mb']:.0f} MB")
    return result


# -- loading PostgreSQL ------------------------------------------------------------------------


def _pg_reset_schema(url: str, schema: str) -> None:
    import psycopg

    with psycopg.connect(pg_conninfo(url), autocommit=True) as conn:
        conn.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')
        conn.execute(f'CREATE SCHEMA "{schema}"')


def _pg_loaded(url: str, schema: str, source: str, customers: int) -> bool:
    import psycopg

    with psycopg.connect(pg_conninfo(url), options=f"-c search_path={schema}") as conn:
        try:
            row = conn.execute("SELECT source, customers FROM bench_loaded").fetchone()
            stored = conn.execute("SELECT count(*) FROM customers").fetchone()
        except psycopg.Error:
            return False
    return row == (source, customers) and stored == (customers,)


def load_postgres(url: str, schema: str, db: Path, customers: int) -> float:
    """Copy every table of the SQLite book into ``schema`` (COPY), unless already there.
    Returns the seconds taken (0 when reused)."""
    import psycopg

    source = db.name
    if _pg_loaded(url, schema, source, customers):
        log(f"reusing the PostgreSQL copy of {source} in schema {schema}")
        pg_store(url, schema, upgrade=True).dispose()  # kept from an older schema revision
        return 0.0
    log(f"copying {source} into PostgreSQL schema {schema} …")
    start = time.perf_counter()
    _pg_reset_schema(url, schema)
    pg_store(url, schema, upgrade=True).dispose()
    lite = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    with psycopg.connect(pg_conninfo(url), options=f"-c search_path={schema}") as conn:
        for table in t.metadata.sorted_tables:
            names = [c.name for c in table.columns]
            amounts = [i for i, c in enumerate(table.columns) if isinstance(c.type, Amount)]
            quoted = ", ".join(f'"{n}"' for n in names)
            order = ", ".join(f'"{c.name}"' for c in table.primary_key.columns)
            rows = lite.execute(f'SELECT {quoted} FROM "{table.name}" ORDER BY {order}')
            count = 0
            with (
                conn.cursor() as cursor,
                cursor.copy(f'COPY "{table.name}" ({quoted}) FROM STDIN') as copy,
            ):
                for row in rows:
                    if amounts:
                        values = list(row)
                        for i in amounts:
                            values[i] = Decimal(values[i]).scaleb(-2)
                        copy.write_row(values)
                    else:
                        copy.write_row(row)
                    count += 1
            log(f"  {table.name}: {count:,} rows")
        conn.execute(
            "SELECT setval(pg_get_serial_sequence('outbox', 'position'), "
            "coalesce(max(position), 0) + 1, false) FROM outbox"
        )
        conn.execute("CREATE TABLE bench_loaded (source text, customers integer)")
        conn.execute("INSERT INTO bench_loaded VALUES (%s, %s)", (source, customers))
        conn.commit()
    lite.close()
    with psycopg.connect(pg_conninfo(url), options=f"-c search_path={schema}") as conn:
        conn.autocommit = True
        conn.execute("VACUUM ANALYZE")
    seconds = time.perf_counter() - start
    log(f"  copied in {seconds:,.0f} s")
    return seconds


# -- part 3: bulk import -----------------------------------------------------------------------


@attrs.frozen
class ImportSet:
    households: list[Household]
    customers: list[Customer]
    policies: list[Policy]


def import_set(db: Path, customers: int) -> ImportSet:
    """The first ``customers`` customers of the book, their households and the policies
    whose parties are all among them, as new (version 0) domain objects."""
    store = SqlStore.open(f"sqlite:///{db}")
    chosen: list[Customer] = []
    with store.unit_of_work() as uow:
        for c in uow.customers.iterate():
            if len(chosen) >= customers:
                break
            chosen.append(c)
        ids = {c.id for c in chosen}
        last_id = chosen[-1].id
        chosen = [
            attrs.evolve(c, version=0, referred_by=c.referred_by if c.referred_by in ids else None)
            for c in chosen
        ]
        policies: list[Policy] = []
        with sqlite3.connect(f"file:{db}?mode=ro", uri=True) as conn:
            bound = conn.execute(
                "SELECT max(id) FROM policies WHERE policyholder_id <= ?", (last_id,)
            ).fetchone()[0]
            homes = {c.household_id for c in chosen if c.household_id is not None}
            households = [
                Household(hid, label)
                for hid, label in conn.execute("SELECT id, label FROM households ORDER BY id")
                if hid in homes
            ]
        for p in uow.policies.iterate():
            if bound is None or p.id > bound:
                break
            parties = {p.policyholder_id, p.insured_id, *(b.customer_id for b in p.beneficiaries)}
            if parties - {None} <= ids:
                policies.append(attrs.evolve(p, version=0))
    store.dispose()
    return ImportSet(households, chosen, policies)


def _household_rows(households: Sequence[Household]) -> list[tuple[Any, ...]]:
    return [(h.id, h.label, 1) for h in households]


def _count_rows(count: Callable[[str], int]) -> int:
    return sum(count(table.name) for table in t.metadata.sorted_tables)


def import_insurcrm(data: ImportSet, store: SqlStore) -> tuple[float, int]:
    start = time.perf_counter()
    with store.unit_of_work() as uow:
        uow.households.add_many(data.households)
        uow.customers.add_many(data.customers)
        uow.policies.add_many(data.policies)
        uow.commit()
    seconds = time.perf_counter() - start
    with store.engine.connect() as conn:

        def count(name: str) -> int:
            return int(conn.exec_driver_sql(f'SELECT count(*) FROM "{name}"').scalar_one())

        rows = _count_rows(count)
    store.dispose()
    return seconds, rows


def _raw_tables(data: ImportSet, dialect: str) -> list[tuple[str, tuple[str, ...], list[Any]]]:
    """(table, columns, driver-form rows) in insert order, converted before timing."""
    out: list[tuple[str, tuple[str, ...], list[Any]]] = [
        (t.households.name, ("id", "label", "version"), _household_rows(data.households)),
        (t.customers.name, BULK_CUSTOMER_COLUMNS, list(customer_rows(data.customers, dialect))),
    ]
    for name, rows in policy_rows(data.policies, dialect).items():
        out.append((name, BULK_POLICY_COLUMNS[name], list(rows)))
    return out


def import_raw_sqlite(data: ImportSet, path: Path) -> tuple[float, int, float]:
    upgrade(f"sqlite:///{path}")
    begin = time.perf_counter()
    tables = _raw_tables(data, "sqlite")
    convert = time.perf_counter() - begin
    start = time.perf_counter()
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("PRAGMA journal_mode = WAL")
    conn.execute("PRAGMA synchronous = NORMAL")
    conn.execute("PRAGMA foreign_keys = ON")
    conn.execute("BEGIN")
    rows = 0
    for name, columns, values in tables:
        quoted = ", ".join(f'"{c}"' for c in columns)
        marks = ", ".join("?" for _ in columns)
        conn.executemany(f'INSERT INTO "{name}" ({quoted}) VALUES ({marks})', values)
        rows += len(values)
    conn.execute("COMMIT")
    seconds = time.perf_counter() - start
    conn.close()
    return seconds, rows, convert


def import_raw_pg(data: ImportSet, url: str, schema: str) -> tuple[float, int, float]:
    import psycopg

    _pg_reset_schema(url, schema)
    pg_store(url, schema, upgrade=True).dispose()
    begin = time.perf_counter()
    tables = _raw_tables(data, "postgresql")
    convert = time.perf_counter() - begin
    start = time.perf_counter()
    rows = 0
    with psycopg.connect(pg_conninfo(url), options=f"-c search_path={schema}") as conn:
        for name, columns, values in tables:
            quoted = ", ".join(f'"{c}"' for c in columns)
            with (
                conn.cursor() as cursor,
                cursor.copy(f'COPY "{name}" ({quoted}) FROM STDIN') as copy,
            ):
                for row in values:
                    copy.write_row(row)
            rows += len(values)
        conn.commit()
    return time.perf_counter() - start, rows, convert


def part_import(args: argparse.Namespace, db: Path) -> list[dict[str, Any]]:
    n = min(args.import_customers, args.customers)
    log(f"part 3: bulk import of {n:,} customers' objects")
    data = import_set(db, n)
    log(f"  {len(data.customers):,} customers, {len(data.policies):,} policies loaded")
    results: list[dict[str, Any]] = []
    with tempfile.TemporaryDirectory(dir=args.workdir) as tmp:
        ours = Path(tmp) / "insurcrm.db"
        raw = Path(tmp) / "raw.db"
        seconds, rows = import_insurcrm(data, SqlStore.open(f"sqlite:///{ours}", upgrade=True))
        results.append(
            {"backend": "SQLite", "method": "insurcrm add_many", "s": seconds, "n": rows}
        )
        seconds, rows, convert = import_raw_sqlite(data, raw)
        results.append(
            {
                "backend": "SQLite",
                "method": "raw executemany",
                "s": seconds,
                "n": rows,
                "note": f"row conversion (excluded) {convert:.2f} s",
            }
        )
    if args.postgres and not args.skip_postgres:
        schema = f"{args.pg_schema}_import"
        _pg_reset_schema(args.postgres, schema)
        store = pg_store(args.postgres, schema, upgrade=True)
        seconds, rows = import_insurcrm(data, store)
        results.append(
            {"backend": "PostgreSQL", "method": "insurcrm add_many", "s": seconds, "n": rows}
        )
        seconds, rows, convert = import_raw_pg(data, args.postgres, schema)
        results.append(
            {
                "backend": "PostgreSQL",
                "method": "raw COPY",
                "s": seconds,
                "n": rows,
                "note": f"row conversion (excluded) {convert:.2f} s",
            }
        )
        import psycopg

        with psycopg.connect(pg_conninfo(args.postgres), autocommit=True) as conn:
            conn.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')
    for r in results:
        log(f"  {r['backend']} {r['method']}: {r['n']:,} rows in {r['s']:.2f} s")
    return results


# -- part 4: validation ------------------------------------------------------------------------


def _csv_rows(db: Path, limit: int) -> tuple[list[dict[str, str]], list[dict[str, str]]]:
    """Customers and policies of the book written in the documented CSV layout and read
    back as the importer reads them (``csv.DictReader``)."""
    from insurcrm.services.csv_import import CUSTOMER_COLUMNS, POLICY_COLUMNS

    with sqlite3.connect(f"file:{db}?mode=ro", uri=True) as conn:
        conn.row_factory = sqlite3.Row
        people = conn.execute(
            "SELECT id, name, created_on, gender, birth_date, id_number, mobile, email, "
            "lead_source, referred_by, household_id, is_internal, csr_id, agent_id, "
            "cooperation_partner FROM customers WHERE erased_on IS NULL ORDER BY id LIMIT ?",
            (limit,),
        ).fetchall()
        policies = conn.execute(
            'SELECT p.*, c."on" AS status_on, c.reason AS end_reason '
            "FROM policies p JOIN policy_status_changes c ON c.policy_id = p.id "
            "AND c.position = (SELECT max(position) FROM policy_status_changes "
            "WHERE policy_id = p.id) ORDER BY p.id LIMIT ?",
            (limit,),
        ).fetchall()

    def text(row: sqlite3.Row, name: str) -> str:
        value = row[name]
        if value is None:
            return ""
        if name in ("sum_assured", "annual_premium"):
            return str(Decimal(value).scaleb(-2))
        if name in ("is_internal", "cooperation_partner"):
            return "true" if value else "false"
        return str(value)

    def through_csv(rows: list[sqlite3.Row], columns: Sequence[str]) -> list[dict[str, str]]:
        out = io.StringIO()
        writer = csv.writer(out)
        writer.writerow(columns)
        for row in rows:
            writer.writerow([text(row, c) for c in columns])
        out.seek(0)
        return list(csv.DictReader(out))

    return through_csv(people, CUSTOMER_COLUMNS), through_csv(policies, POLICY_COLUMNS)


def part_validate(args: argparse.Namespace, db: Path) -> list[dict[str, Any]]:
    from insurcrm.errors import ValidationError
    from insurcrm.services.csv_import import _customer, _policy

    people, policies = _csv_rows(db, args.validate_rows)
    log(f"part 4: validating {len(people):,} customer and {len(policies):,} policy CSV rows")
    results = []
    validators: tuple[tuple[str, Callable[[dict[str, str]], object], list[dict[str, str]]], ...]
    validators = (("customer", _customer, people), ("policy", _policy, policies))
    for kind, validate, rows in validators:
        rejected = 0
        start = time.perf_counter()
        for row in rows:
            try:
                validate(row)
            except ValidationError:
                rejected += 1
        seconds = time.perf_counter() - start
        results.append({"kind": kind, "rows": len(rows), "s": seconds, "rejected": rejected})
    return results


# -- part 5: single aggregates -----------------------------------------------------------------


def _percentiles(samples: list[float]) -> tuple[float, float]:
    ordered = sorted(samples)
    p50 = ordered[len(ordered) // 2]
    p99 = ordered[min(len(ordered) - 1, round(0.99 * (len(ordered) - 1)))]
    return p50 * 1000, p99 * 1000


def part_single(args: argparse.Namespace, db: Path) -> list[dict[str, Any]]:
    log(f"part 5: {args.samples:,} single-aggregate loads and saves")
    rng = random.Random(args.seed)
    with sqlite3.connect(f"file:{db}?mode=ro", uri=True) as conn:
        policies = conn.execute("SELECT count(*) FROM policies").fetchone()[0]
    customer_ids = [f"C{rng.randint(1, args.customers):06d}" for _ in range(args.samples)]
    policy_ids = [f"P{rng.randint(1, policies):07d}" for _ in range(args.samples)]
    store = SqlStore.open(f"sqlite:///{db}")
    timings: dict[str, list[float]] = {"customer get": [], "customer get+save+commit": []}
    timings["policy get"] = []
    for cid in customer_ids:
        start = time.perf_counter()
        with store.unit_of_work() as uow:
            uow.customers.get(cid)
        timings["customer get"].append(time.perf_counter() - start)
    for i, cid in enumerate(customer_ids):
        start = time.perf_counter()
        with store.unit_of_work() as uow:
            customer = uow.customers.get(cid)
            uow.customers.save(customer.updated(AS_OF, csr_id=f"CSR{i % 50:03d}"))
            uow.commit()
        timings["customer get+save+commit"].append(time.perf_counter() - start)
    for pid in policy_ids:
        start = time.perf_counter()
        with store.unit_of_work() as uow:
            uow.policies.get(pid)
        timings["policy get"].append(time.perf_counter() - start)
    store.dispose()
    out = []
    for name, samples in timings.items():
        p50, p99 = _percentiles(samples)
        out.append({"op": name, "p50": p50, "p99": p99, "n": len(samples)})
    return out


# -- the report --------------------------------------------------------------------------------


def _table(headers: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    widths = [max(len(h), *(len(r[i]) for r in rows)) for i, h in enumerate(headers)]
    line = "  ".join("-" * w for w in widths)
    out = ["  ".join(h.ljust(w) for h, w in zip(headers, widths, strict=True)), line]
    for r in rows:
        out.append("  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)))
    return "\n".join(out)


def _verdict(value: float, target: float, at_most: bool) -> str:
    value = round(value, 2)  # as printed
    ok = value <= target if at_most else value >= target
    return f"{'≤' if at_most else '≥'} {target:g}×  {'MET' if ok else 'MISSED'}"


def machine() -> list[str]:
    cpu = "?"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    ram = "?"
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal"):
                ram = f"{int(line.split()[1]) / 1024 / 1024:.1f} GiB"
    except OSError:
        pass
    return [
        f"machine: {os.cpu_count()} CPUs (nproc {len(os.sched_getaffinity(0))}), {cpu}, RAM {ram}",
        f"Python {platform.python_version()}, SQLite {sqlite3.sqlite_version}, "
        f"{platform.system()} {platform.release()}",
    ]


def _pg_version(url: str) -> str:
    try:
        import psycopg

        with psycopg.connect(pg_conninfo(url)) as conn:
            row = conn.execute("SHOW server_version").fetchone()
        return f"PostgreSQL {row[0] if row else '?'}"
    except Exception as error:  # only for the header
        return f"PostgreSQL unavailable ({type(error).__name__})"


def _counts_line(name: str, counts: dict[str, int]) -> str:
    return f"  {name}: " + ", ".join(f"{k} {v:,}" for k, v in sorted(counts.items()))


def _assessment_rows(
    results: dict[str, dict[str, Any]], base: str, rows: list[list[str]], label: dict[str, str]
) -> None:
    base_s = results.get(base, {}).get("seconds")
    for method, r in results.items():
        if "error" in r:
            rows.append([label[method], "skipped", "", "", "", r["error"][:90]])
            continue
        ratio = f"{r['seconds'] / base_s:.2f}×" if base_s else ""
        rows.append(
            [
                label[method],
                f"{r['seconds']:.2f}",
                f"{r['rss_mb']:.0f}",
                f"{r['rss_start_mb']:.0f}",
                ratio,
                r.get("note", ""),
            ]
        )


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--customers", type=int, default=1_000_000)
    parser.add_argument("--seed", type=int, default=DEFAULT_SEED)
    parser.add_argument(
        "--workdir", type=Path, default=Path(tempfile.gettempdir()) / "insurcrm-bench"
    )
    parser.add_argument("--postgres", default=os.environ.get("INSURCRM_TEST_POSTGRES_URL"))
    parser.add_argument(
        "--pg-schema", default="insurcrm_bench", help="PostgreSQL schema the book is copied to"
    )
    parser.add_argument("--skip-postgres", action="store_true")
    parser.add_argument("--import-customers", type=int, default=100_000)
    parser.add_argument("--validate-rows", type=int, default=20_000)
    parser.add_argument("--samples", type=int, default=1000, help="ids for part 5")
    parser.add_argument(
        "--results",
        type=Path,
        default=None,
        help="where to save the report (default benchmarks/results-<N>.txt; '-': nowhere)",
    )
    parser.add_argument("--run-one", choices=METHODS, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.run_one:
        run_one(args)
        return 0
    command = "python " + shlex.join(
        [os.path.relpath(Path(__file__).resolve()), *sys.argv[1:]]
        if argv is None
        else ["benchmarks/assess.py", *argv]
    )
    use_pg = bool(args.postgres) and not args.skip_postgres
    db, meta = ensure_book(args.workdir, args.customers, args.seed)
    policies = sqlite3.connect(f"file:{db}?mode=ro", uri=True).execute(
        "SELECT count(*) FROM policies"
    )
    n_policies = policies.fetchone()[0]
    warm(db)

    log("part 1: assessment of the SQLite book")
    lite: dict[str, dict[str, Any]] = {}
    for method in SQLITE_METHODS:
        lite[method] = measure(args, method)

    pg: dict[str, dict[str, Any]] = {}
    load_seconds = 0.0
    if use_pg:
        log("part 2: assessment on PostgreSQL")
        load_seconds = load_postgres(args.postgres, args.pg_schema, db, args.customers)
        for method in PG_METHODS:
            pg[method] = measure(args, method)
    imports = part_import(args, db)
    validation = part_validate(args, db)
    single = part_single(args, db)

    out: list[str] = []
    out.append(f"insurcrm benchmarks — {dt.datetime.now():%Y-%m-%d %H:%M}")
    out.append(f"command: {command}")
    out.extend(machine())
    if use_pg:
        out.append(_pg_version(args.postgres))
    out.append(
        f"book: {db} — {args.customers:,} customers, {n_policies:,} policies, seed "
        f"{args.seed}, as of {AS_OF}; generated in {float(meta['seconds']):,.0f} s "
        f"({args.customers / float(meta['seconds']):,.0f} customers/s)"
    )
    out.append("")
    out.append("1. Portfolio assessment, SQLite (each method in its own process; time excludes")
    out.append("   interpreter start-up and imports; peak RSS is the process's peak, RSS at start")
    out.append("   its RSS once insurcrm and this script are imported)")
    label = {
        "insurcrm": "insurcrm assess_portfolio + iterate",
        "insurcrm-duckdb": "what if: insurcrm, figures read by DuckDB",
        "sqlite-raw": "figures_query via sqlite3",
        "sqlite-split": "figure_statements(2) via sqlite3",
        "pandas": "pandas read_sql + groupby",
        "pandas-full": "pandas read_sql + merge/groupby, every rule",
        "duckdb": "DuckDB sqlite_scanner",
        "pg-insurcrm": "insurcrm assess_portfolio + iterate",
        "pg-raw": "figures_query via psycopg",
        "pg-split": "figure_statements(2) via psycopg",
    }
    rows: list[list[str]] = []
    _assessment_rows(lite, "pandas", rows, label)
    headers = ["method", "seconds", "peak RSS MB", "RSS at start", "vs pandas", "note"]
    out.append(_table(headers, rows))
    ours = lite["insurcrm"]
    if "error" not in ours:
        if "error" not in lite["pandas"]:
            ratio = ours["seconds"] / lite["pandas"]["seconds"]
            out.append(
                f"   insurcrm / pandas time: {ratio:.2f}×  (pandas applies the RFM types and the"
                " tiers only, insurcrm all of §10.1: no target)"
            )
        if "error" not in lite["pandas-full"]:
            ratio = ours["seconds"] / lite["pandas-full"]["seconds"]
            out.append(
                f"   insurcrm / pandas-full time: {ratio:.2f}×  (the same rules)  target "
                f"{_verdict(ratio, 0.5, True)}"
            )
        split = lite["sqlite-split"]
        if "error" not in split:
            out.append(
                "   insurcrm / its two statements at once: "
                f"{ours['seconds'] / split['seconds']:.2f}× (what its Python adds)"
            )
        rss = ours["rss_mb"]
        out.append(
            f"   insurcrm peak RSS: {rss:.0f} MB  target ≤ 600 MB  "
            f"{'MET' if rss <= 600 else 'MISSED'}"
        )
        for method in ("pandas", "duckdb"):
            other = lite[method]
            if "error" in other:
                continue
            same = other["segments"] == ours["segments"] and other["tiers"] == ours["tiers"]
            out.append(
                f"   per-segment and per-tier counts, insurcrm vs {method}: "
                f"{'AGREE' if same else 'DIFFER'}"
            )
            if not same:
                out.append(_counts_line(f"{method} segments", other["segments"]))
                out.append(_counts_line(f"{method} tiers", other["tiers"]))
        full = lite["pandas-full"]
        if "error" not in full:
            differ = [c for c in CLASSES if full["classes"][c] != ours["classes"][c]]
            if full["win_backs_recommended"] != ours["win_backs_recommended"]:
                differ.append("win_backs_recommended")
            out.append(
                "   every class count, insurcrm vs pandas-full: "
                f"{'DIFFER (' + ', '.join(differ) + ')' if differ else 'AGREE'}"
            )
            for name in differ:
                if name in CLASSES:
                    out.append(_counts_line(f"insurcrm {name}", ours["classes"][name]))
                    out.append(_counts_line(f"pandas-full {name}", full["classes"][name]))
                else:
                    out.append(f"  {name}: insurcrm {ours[name]:,}, pandas-full {full[name]:,}")
        duck = lite["insurcrm-duckdb"]
        if "error" not in duck and "error" not in full:
            same = duck["classes"] == ours["classes"]
            out.append(
                f"   what if DuckDB read the figures: {duck['seconds'] / full['seconds']:.2f}× "
                f"pandas-full, peak RSS {duck['rss_mb']:.0f} MB (DuckDB limited to "
                f"{DUCKDB_MEMORY}); every class count vs insurcrm: "
                f"{'AGREE' if same else 'DIFFER'}"
            )
        out.append(_counts_line("segments", ours["segments"]))
        out.append(_counts_line("tiers", ours["tiers"]))
        out.append(f"  win-backs recommended: {ours['win_backs_recommended']:,}")
    out.append("")
    if use_pg:
        out.append("2. Portfolio assessment, PostgreSQL")
        if load_seconds:
            out.append(f"   (book copied from SQLite with COPY in {load_seconds:,.0f} s)")
        rows = []
        _assessment_rows(pg, "pg-raw", rows, label)
        headers = ["method", "seconds", "peak RSS MB", "RSS at start", "vs raw", "note"]
        out.append(_table(headers, rows))
        a, b = pg.get("pg-insurcrm", {}), pg.get("pg-raw", {})
        if "seconds" in a and "seconds" in b:
            ratio = a["seconds"] / b["seconds"]
            out.append(
                f"   insurcrm / bare statement time: {ratio:.2f}×  target "
                f"{_verdict(ratio, 1.0, True)}"
            )
            split = pg.get("pg-split", {})
            if "seconds" in split:
                out.append(
                    "   insurcrm / its two statements at once: "
                    f"{a['seconds'] / split['seconds']:.2f}× (what its Python adds)"
                )
            if a.get("segments") != ours.get("segments"):
                out.append("   WARNING: PostgreSQL segment counts differ from SQLite's")
    else:
        out.append("2. PostgreSQL: skipped")
    out.append("")
    n = min(args.import_customers, args.customers)
    out.append(f"3. Bulk import of {n:,} customers' already-built objects (rows of every table)")
    rows = []
    base: dict[str, float] = {}
    for r in imports:
        rate = r["n"] / r["s"]
        if r["method"].startswith("raw"):
            base[r["backend"]] = rate
    for r in imports:
        rate = r["n"] / r["s"]
        rows.append(
            [
                r["backend"],
                r["method"],
                f"{r['n']:,}",
                f"{r['s']:.2f}",
                f"{rate:,.0f}",
                f"{rate / base[r['backend']]:.2f}×",
                r.get("note", ""),
            ]
        )
    headers = ["backend", "method", "rows", "seconds", "rows/s", "vs raw", "note"]
    out.append(_table(headers, rows))
    for backend, target in (("SQLite", 0.5), ("PostgreSQL", 0.8)):
        mine = [r for r in imports if r["backend"] == backend and r["method"].startswith("ins")]
        if mine and backend in base:
            ratio = mine[0]["n"] / mine[0]["s"] / base[backend]
            out.append(
                f"   {backend}: insurcrm / raw rows/s {ratio:.2f}×  target "
                f"{_verdict(ratio, target, False)}"
            )
    out.append("")
    out.append("4. Validation of CSV rows (csv_import._customer / _policy)")
    rows = [
        [
            v["kind"],
            f"{v['rows']:,}",
            f"{v['s']:.2f}",
            f"{v['s'] / v['rows'] * 1e6:.1f}",
            f"{v['rejected']:,}",
        ]
        for v in validation
    ]
    out.append(_table(["row", "rows", "seconds", "µs/row", "rejected"], rows))
    out.append("")
    out.append(f"5. Single aggregates on the {args.customers:,}-customer SQLite file")
    rows = [[s["op"], f"{s['n']:,}", f"{s['p50']:.2f}", f"{s['p99']:.2f}"] for s in single]
    out.append(_table(["operation", "samples", "p50 ms", "p99 ms"], rows))
    report = "\n".join(out)
    print(report)
    results_path: Path = args.results or HERE / f"results-{args.customers}.txt"
    if str(results_path) != "-":
        results_path.write_text(report + "\n", encoding="utf-8")
        log(f"saved to {results_path}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
