"""The keeping-customers report (DOMAIN.md §3, §7–§9): churn and retention rates,
satisfaction indicators, complaint handling against promise, early warnings, the renewal
model, the win-back queue and the visit plan — for the year up to a date, from one unit
of work, reading the book a batch at a time."""

from __future__ import annotations

import datetime as dt

import attrs

from insurcrm.domain.assessment import AssessmentConfig, AssessmentTotals, AssessmentWindows
from insurcrm.domain.churn import ChurnRates, churn_rates, customers_in_force
from insurcrm.domain.complaint_handling import ComplaintHandling, complaint_handling
from insurcrm.domain.dates import add_years
from insurcrm.domain.early_warning import EarlyWarning, WarningConfig
from insurcrm.domain.future_value import FutureValueConfig, RenewalModel
from insurcrm.domain.recovery import RecoveryConfig
from insurcrm.domain.satisfaction import SatisfactionIndicators, satisfaction_indicators
from insurcrm.domain.unit_of_work import UnitOfWork
from insurcrm.domain.values import DEFAULT_CURRENCY
from insurcrm.domain.visits import VisitConfig, VisitEntry, sort_plan
from insurcrm.services.book import ServiceBook
from insurcrm.services.churn import (
    WinBack,
    detect_churn,
    queue_order,
    report_figures,
    warning_order,
    warnings_in,
    warnings_of,
    win_backs_in,
    win_backs_of,
)
from insurcrm.services.contacts import visits_in, visits_of
from insurcrm.services.future_value import read_renewal_model, renewal_model_of
from insurcrm.services.progress import Progress
from insurcrm.services.satisfaction import read_indicators

__all__ = ["RetentionConfig", "RetentionReport", "retention_in", "retention_report"]


@attrs.frozen
class RetentionConfig:
    """The rules the report applies; DOMAIN.md's defaults."""

    warning: WarningConfig = attrs.field(factory=WarningConfig)
    recovery: RecoveryConfig = attrs.field(factory=RecoveryConfig)
    future: FutureValueConfig = attrs.field(factory=FutureValueConfig)
    visits: VisitConfig = attrs.field(factory=VisitConfig)


@attrs.frozen
class RetentionReport:
    """The keeping-customers figures from the day after ``since`` to ``as_of``."""

    as_of: dt.date
    since: dt.date
    rates: ChurnRates
    indicators: SatisfactionIndicators
    handling: ComplaintHandling
    warnings: list[EarlyWarning]
    model: RenewalModel
    queue: list[WinBack]
    plan: tuple[VisitEntry, ...]


def retention_in(
    book: ServiceBook,
    as_of: dt.date,
    config: RetentionConfig | None = None,
    *,
    currency: str = DEFAULT_CURRENCY,
) -> RetentionReport:
    """:func:`retention_report` over a book already loaded (:func:`~insurcrm.services.book.
    load_book`), its churn recorded; builds every aggregate, so for books that fit in
    memory."""
    cfg = config or RetentionConfig()
    since = add_years(as_of, -1)
    model = renewal_model_of(book.policies, as_of, cfg.future)
    return RetentionReport(
        as_of=as_of,
        since=since,
        rates=churn_rates(since, as_of, customers_in_force(book.policies, since), book.churns),
        indicators=satisfaction_indicators(
            since,
            as_of,
            customers=book.customers,
            policies=book.policies,
            complaints=book.complaints,
            responses=book.responses,
            churns=book.churns,
            currency=currency,
        ),
        handling=complaint_handling(book.complaints, since, as_of),
        warnings=warnings_in(book, as_of, cfg.warning),
        model=model,
        queue=win_backs_in(book, as_of, model, recovery=cfg.recovery, future=cfg.future),
        plan=visits_in(
            book, as_of, model, config=cfg.visits, recovery=cfg.recovery, future=cfg.future
        ),
    )


def retention_report(
    uow: UnitOfWork,
    as_of: dt.date,
    config: RetentionConfig | None = None,
    *,
    currency: str = DEFAULT_CURRENCY,
    progress: Progress | None = None,
) -> RetentionReport:
    """Record the churn due as of ``as_of`` (:func:`detect_churn`), then report the year
    up to ``as_of`` from one unit of work.

    The book is read as the portfolio assessment reads it, never whole: the renewal model
    is fitted walking the policies once, a batch of policyholders at a time
    (:func:`~insurcrm.services.future_value.read_renewal_model`), the complaints are walked
    once for their handling, and each customer's figures are read
    :data:`~insurcrm.services.churn.REPORT_BATCH` customers at a time. Each batch gives
    its share of the rates and indicators (as the assessment's totals), its early
    warnings, its win-back decisions and its visits, with the batch's records. The
    report is the one :func:`retention_in` gives from the loaded book. With another
    ``currency`` than the default, the indicators walk the customers, policies and
    records once more, since the figures hold amounts in CNY alone.
    ``progress``, if given, is called with the policies read so far and all of them, by
    :func:`detect_churn` and then as the model is fitted, then with the customers read so
    far and all of them.

    Its parts agree with each other as far as the store's reads do: a SQLite unit of work
    reads one snapshot, and a big book's figures another, taken a moment later; PostgreSQL
    reads committed rows statement by statement (READ COMMITTED), as
    :func:`~insurcrm.services.book.load_book` does, and the figures in a snapshot of their
    own. So a record committed while the report runs may show in one part and not in
    another. The churn records the queue names are checked against the figures.

    Raises:
        ConcurrencyError: a churn record was recorded or changed while the book was read:
            run it again.
    """
    cfg = config or RetentionConfig()
    since = add_years(as_of, -1)
    detect_churn(uow, as_of, progress=progress)
    warnings: list[EarlyWarning] = []
    queue: list[WinBack] = []
    plan: list[VisitEntry] = []
    with uow:
        model = read_renewal_model(uow, as_of, cfg.future, progress=progress)
        handling = complaint_handling(uow.complaints.iterate(), since, as_of)
        rules = AssessmentConfig(
            warning=cfg.warning, recovery=cfg.recovery, future=cfg.future, renewal_model=model
        )
        totals = AssessmentTotals(as_of)
        for figures in report_figures(uow, as_of, rules, progress):
            for f in figures:
                totals.add_period(f)
            warnings += warnings_of(figures, as_of, cfg.warning)
            win_backs = win_backs_of(uow, figures, as_of, rules)
            queue += win_backs
            plan += visits_of(uow, figures, as_of, win_backs, cfg.visits)
        windows = AssessmentWindows.of(as_of, rules)  # its period starts on ``since``
        counts = uow.portfolio.period_counts(windows)
        rates, indicators = totals.finish_period(windows.period_start, counts)
        if currency != DEFAULT_CURRENCY:
            indicators = read_indicators(uow, since, as_of, currency=currency)
    warnings.sort(key=warning_order)
    queue.sort(key=queue_order)
    return RetentionReport(
        as_of=as_of,
        since=since,
        rates=rates,
        indicators=indicators,
        handling=handling,
        warnings=warnings,
        model=model,
        queue=queue,
        plan=sort_plan(plan),
    )
