"""Assess the whole portfolio (§10.1), streaming, on any backend.

:func:`assess_portfolio` makes two passes. The first reads every customer's
compact figures from storage (aggregated in the database on the SQL
backends), adds up the portfolio statistics the rules compare against (RFM
means; the medians of the loyalty score, profit and current value) and spools
the figures to an anonymous temporary file. The second pass — iterating the
returned :class:`PortfolioAssessment` — reads the spool back, classifies each
customer and adds them to the totals. Memory holds one batch of figures and
three arrays of 8-byte integers for the medians, never the customers
themselves; the database is read once.
"""

from __future__ import annotations

import csv
import datetime as dt
import json
import math
import pickle
import tempfile
from array import array
from collections.abc import Callable, Iterator
from decimal import Decimal
from typing import IO, Any

import numpy as np

from insurcrm.domain.assessment import (
    AssessmentConfig,
    AssessmentFigures,
    AssessmentRow,
    AssessmentStats,
    AssessmentTotals,
    AssessmentWindows,
    Assessor,
    loyalty_score_of,
)
from insurcrm.domain.rfm import RfmMeans
from insurcrm.domain.satisfaction import PeriodCounts
from insurcrm.domain.segmentation import ParetoResult, QuadrantThresholds
from insurcrm.domain.unit_of_work import UnitOfWork
from insurcrm.errors import StorageError

__all__ = [
    "FORMATS",
    "PortfolioAssessment",
    "assess_portfolio",
    "row_fields",
    "write_rows",
]

Progress = Callable[[int, int], None]

#: Figures per spooled chunk.
CHUNK = 10_000
#: Output formats of :func:`write_rows`.
FORMATS = ("csv", "json")

_CENT = Decimal("0.01")
_SCORE = Decimal("0.0001")


def _median(values: array[int], unit: Decimal) -> Decimal:
    """The median of integer ``values`` counted in ``unit`` (as ``segmentation.median``)."""
    n = len(values)
    if n == 0:
        return Decimal(0)
    data = np.frombuffer(values, dtype=np.int64)
    mid = n // 2
    if n % 2:
        return Decimal(int(np.partition(data, mid)[mid])) * unit
    lower, upper = np.partition(data, (mid - 1, mid))[mid - 1 : mid + 1]
    return (Decimal(int(lower)) * unit + Decimal(int(upper)) * unit) / 2


def _pareto(values: array[int], top_fraction: Decimal = Decimal("0.2")) -> ParetoResult:
    """The premium share of the top customers (as ``segmentation.pareto_share``)."""
    data = np.sort(np.frombuffer(values, dtype=np.int64))[::-1]
    top = math.ceil(len(data) * top_fraction)
    return ParetoResult(
        top_fraction,
        top,
        len(data),
        Decimal(int(data[:top].sum())) * _CENT,
        Decimal(int(data.sum())) * _CENT,
    )


class PortfolioAssessment:
    """The assessment of every customer as of a date: iterate it once for the rows.

    Attributes:
        as_of: the assessment date.
        config: the rules used.
        customers: how many customers are assessed.
        stats: the portfolio statistics every customer is compared with.
        totals: the totals, complete once the rows have been iterated.
    """

    def __init__(
        self,
        as_of: dt.date,
        config: AssessmentConfig,
        customers: int,
        stats: AssessmentStats,
        spool: IO[bytes],
        premiums: array[int],
        progress: Progress | None,
        counts: PeriodCounts,
    ) -> None:
        self.as_of = as_of
        self.config = config
        self.customers = customers
        self.stats = stats
        self.totals = AssessmentTotals(as_of)
        self._spool: IO[bytes] | None = spool
        self._premiums = premiums
        self._progress = progress
        self._counts = counts

    @property
    def complete(self) -> bool:
        """True once every row has been produced (the totals are final)."""
        return self._spool is None and self.totals.pareto is not None

    def __iter__(self) -> Iterator[AssessmentRow]:
        spool = self._spool
        if spool is None:
            raise StorageError("the assessment rows can be read only once")
        self._spool = None
        totals = self.totals
        assess = Assessor(self.stats, self.as_of, self.config)
        make = AssessmentFigures._make
        done = 0
        try:
            spool.seek(0)
            while True:
                try:
                    chunk: list[tuple[Any, ...]] = pickle.load(spool)
                except EOFError:
                    break
                for raw, score in chunk:
                    figures = make(raw)
                    row = assess(figures, score)
                    totals.add(row, figures)
                    yield row
                done += len(chunk)
                if self._progress is not None:
                    self._progress(done, self.customers)
        finally:
            spool.close()
        windows = AssessmentWindows.of(self.as_of, self.config)
        totals.finish(_pareto(self._premiums), windows.period_start, self._counts)


def assess_portfolio(
    uow: UnitOfWork,
    as_of: dt.date,
    config: AssessmentConfig | None = None,
    *,
    progress: Progress | None = None,
) -> PortfolioAssessment:
    """Assess every customer of the store as of ``as_of`` (§10.1).

    Reads the store once (the first pass, reported to ``progress`` as customers read
    of customers stored); iterate the result for the rows (the second pass, reported
    the same way). An empty store gives no rows and empty totals.
    """
    cfg = config or AssessmentConfig()
    seg = cfg.segmentation
    windows = AssessmentWindows.of(as_of, cfg)
    recency = frequency = 0
    monetary = Decimal("0.00")
    scores: array[int] = array("q")
    premiums: array[int] = array("q")
    spool = tempfile.TemporaryFile()  # noqa: SIM115 -- handed to the result, closed there
    try:
        with uow:
            total = uow.customers.count()
            counts = uow.portfolio.period_counts(windows)
            chunk: list[tuple[Any, ...]] = []
            read = 0
            for f in uow.portfolio.figures(windows, cfg):
                score = None
                if f.purchases and f.last_purchase is not None:
                    recency += (as_of - f.last_purchase).days
                    frequency += f.window_purchases
                    monetary += f.window_premium
                    score = loyalty_score_of(f, seg)
                    scores.append(int(score / _SCORE))
                    premiums.append(int(f.window_premium / _CENT))
                chunk.append((tuple(f), score))
                if len(chunk) >= CHUNK:
                    pickle.dump(chunk, spool, protocol=pickle.HIGHEST_PROTOCOL)
                    read += len(chunk)
                    chunk = []
                    if progress is not None:
                        progress(read, total)
            if chunk:
                pickle.dump(chunk, spool, protocol=pickle.HIGHEST_PROTOCOL)
                read += len(chunk)
            if progress is not None:
                progress(read, total)
    except BaseException:
        spool.close()
        raise
    value_median = _median(premiums, _CENT)
    stats = AssessmentStats(
        means=RfmMeans(len(premiums), recency, frequency, monetary),
        # Profit is the premium while the cost of serving is not known (§5.4).
        thresholds=QuadrantThresholds(loyalty=_median(scores, _SCORE), profit=value_median),
        value_median=value_median,
    )
    return PortfolioAssessment(as_of, cfg, read, stats, spool, premiums, progress, counts)


def row_fields() -> tuple[str, ...]:
    """The column names of an assessment row, as written by :func:`write_rows`."""
    return AssessmentRow._fields


def _plain(value: object) -> object:
    if value is None or isinstance(value, (str, int)):  # bool is an int: true/false in JSON
        return value
    if isinstance(value, Decimal):
        return str(value)
    name = getattr(value, "name", None)
    return name if isinstance(name, str) else str(value)


def _csv_cell(value: object) -> object:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    return _plain(value)


def write_rows(rows: Iterator[AssessmentRow], out: IO[str], fmt: str) -> int:
    """Write assessment rows to ``out`` as CSV (with a header) or JSON lines; returns how
    many. Codes are written as their names; amounts as exact decimals."""
    if fmt not in FORMATS:
        raise ValueError(f"format must be one of {', '.join(FORMATS)}")
    n = 0
    if fmt == "csv":
        writer = csv.writer(out)
        writer.writerow(row_fields())
        for row in rows:
            writer.writerow([_csv_cell(v) for v in row])
            n += 1
        return n
    names = row_fields()
    for row in rows:
        out.write(json.dumps(dict(zip(names, map(_plain, row), strict=True)), ensure_ascii=False))
        out.write("\n")
        n += 1
    return n
