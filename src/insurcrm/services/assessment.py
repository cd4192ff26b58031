"""Assess the whole portfolio (§10.1), streaming, on any backend.

:func:`assess_portfolio` makes two passes. The first reads every customer's
compact figures from storage (aggregated in the database on the SQL
backends) in batches, applies to each batch at once every rule that does not
depend on the rest of the portfolio (:mod:`insurcrm.services.batch_rules`),
adds up the portfolio statistics the other rules compare against (RFM means;
the medians of the loyalty score, profit and current value) and spools the
batch's codes and figures to an anonymous temporary file. The second pass —
iterating the returned :class:`PortfolioAssessment` — reads the spool back,
applies the RFM, quadrant and retention rules batch by batch, adds each batch
to the totals and yields its rows. Memory holds one batch and two arrays of
8-byte integers for the medians, never the customers themselves; the database
is read once.
"""

from __future__ import annotations

import csv
import datetime as dt
import json
import math
import pickle
import tempfile
from collections.abc import Iterator
from decimal import Decimal
from typing import IO

import numpy as np

from insurcrm.domain.assessment import (
    AssessmentConfig,
    AssessmentRow,
    AssessmentStats,
    AssessmentTotals,
    AssessmentWindows,
)
from insurcrm.domain.figure_batch import FigureBatch, amount_of
from insurcrm.domain.rfm import RfmMeans
from insurcrm.domain.satisfaction import PeriodCounts
from insurcrm.domain.segmentation import ParetoResult, QuadrantThresholds
from insurcrm.domain.unit_of_work import UnitOfWork
from insurcrm.errors import StorageError
from insurcrm.services.batch_rules import Batch, BatchAssessor, Ints
from insurcrm.services.progress import Progress, reported

__all__ = [
    "FORMATS",
    "PortfolioAssessment",
    "assess_portfolio",
    "read_figures",
    "row_fields",
    "write_rows",
]


#: Figures per spooled chunk.
CHUNK = 10_000
#: Output formats of :func:`write_rows`.
FORMATS = ("csv", "json")

_CENT = Decimal("0.01")
_SCORE = Decimal("0.0001")


def _median(values: Ints, unit: Decimal) -> Decimal:
    """The median of integer ``values`` counted in ``unit`` (as ``segmentation.median``)."""
    n = len(values)
    if n == 0:
        return Decimal(0)
    mid = n // 2
    if n % 2:
        return Decimal(int(np.partition(values, mid)[mid])) * unit
    lower, upper = np.partition(values, (mid - 1, mid))[mid - 1 : mid + 1]
    return (Decimal(int(lower)) * unit + Decimal(int(upper)) * unit) / 2


def _pareto(values: Ints, top_fraction: Decimal = Decimal("0.2")) -> ParetoResult:
    """The premium share of the top customers (as ``segmentation.pareto_share``)."""
    data = np.sort(values)[::-1]
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
        assessor: BatchAssessor,
        customers: int,
        stats: AssessmentStats,
        spool: IO[bytes],
        premiums: Ints,
        progress: Progress | None,
        counts: PeriodCounts,
    ) -> None:
        self.as_of = assessor.as_of
        self.config = assessor.config
        self.customers = customers
        self.stats = stats
        self.totals = AssessmentTotals(self.as_of)
        self._assessor = assessor
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
        rows = self._assessor.rows
        done = 0
        try:
            spool.seek(0)
            while True:
                try:
                    batch: Batch = pickle.load(spool)
                except EOFError:
                    break
                yield from rows(batch, self.stats, self.totals)
                done += len(batch.customer_id)
                if self._progress is not None:
                    self._progress(done, self.customers)
        finally:
            spool.close()
        windows = AssessmentWindows.of(self.as_of, self.config)
        self.totals.finish(_pareto(self._premiums), windows.period_start, self._counts)


def read_figures(
    uow: UnitOfWork,
    windows: AssessmentWindows,
    config: AssessmentConfig,
    size: int,
    progress: Progress | None = None,
) -> Iterator[FigureBatch]:
    """The store's figures (:meth:`~insurcrm.domain.repositories.PortfolioReader.
    figure_batches`) inside ``with uow:``, reporting to ``progress`` after each batch the
    customers read so far and the customers stored (once, with 0, for an empty store)."""
    batches = uow.portfolio.figure_batches(windows, config, size)
    yield from reported(batches, uow.customers.count, progress)


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
    windows = AssessmentWindows.of(as_of, cfg)
    assessor = BatchAssessor(as_of, cfg)
    recency = frequency = monetary = 0
    scores: list[Ints] = []
    premiums: list[Ints] = []
    read = 0
    spool = tempfile.TemporaryFile()  # noqa: SIM115 -- handed to the result, closed there
    try:
        with uow:
            counts = uow.portfolio.period_counts(windows)
            for figures in read_figures(uow, windows, cfg, CHUNK, progress):
                batch = assessor.first(figures)
                bought = batch.bought
                recency += int(batch.recency[bought].sum())
                frequency += int(batch.window_purchases[bought].sum())
                monetary += int(batch.window_premium[bought].sum())
                scores.append(batch.score[bought])
                premiums.append(batch.window_premium[bought])
                pickle.dump(batch, spool, protocol=pickle.HIGHEST_PROTOCOL)
                read += len(figures)
    except BaseException:
        spool.close()
        raise
    all_premiums = np.concatenate(premiums) if premiums else np.zeros(0, np.int64)
    all_scores = np.concatenate(scores) if scores else np.zeros(0, np.int64)
    value_median = _median(all_premiums, _CENT)
    stats = AssessmentStats(
        means=RfmMeans(len(all_premiums), recency, frequency, amount_of(monetary)),
        # Profit is the premium while the cost of serving is not known (§5.4).
        thresholds=QuadrantThresholds(loyalty=_median(all_scores, _SCORE), profit=value_median),
        value_median=value_median,
    )
    return PortfolioAssessment(assessor, read, stats, spool, all_premiums, progress, counts)


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
