"""The keeping-customers report (DOMAIN.md §3, §7–§9): churn and retention rates,
satisfaction indicators, complaint handling against promise, early warnings, the renewal
model, the win-back queue and the visit plan — for the year up to a date, from one read
of the book so the figures agree with each other."""

from __future__ import annotations

import datetime as dt

import attrs

from insurcrm.domain.churn import ChurnRates, churn_rates, customers_in_force
from insurcrm.domain.complaint_handling import ComplaintHandling, complaint_handling
from insurcrm.domain.dates import add_years
from insurcrm.domain.early_warning import EarlyWarning, WarningConfig
from insurcrm.domain.future_value import FutureValueConfig, RenewalModel
from insurcrm.domain.recovery import RecoveryConfig
from insurcrm.domain.satisfaction import SatisfactionIndicators, satisfaction_indicators
from insurcrm.domain.unit_of_work import UnitOfWork
from insurcrm.domain.values import DEFAULT_CURRENCY
from insurcrm.domain.visits import VisitConfig, VisitEntry
from insurcrm.services.book import load_book
from insurcrm.services.churn import WinBack, detect_churn, warnings_in, win_backs_in
from insurcrm.services.contacts import visits_in
from insurcrm.services.future_value import renewal_model_of

__all__ = ["RetentionConfig", "RetentionReport", "retention_report"]


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


def retention_report(
    uow: UnitOfWork,
    as_of: dt.date,
    config: RetentionConfig | None = None,
    *,
    currency: str = DEFAULT_CURRENCY,
) -> RetentionReport:
    """Record the churn due as of ``as_of`` (:func:`detect_churn`), then report the year
    up to ``as_of`` from one read of the book."""
    cfg = config or RetentionConfig()
    since = add_years(as_of, -1)
    detect_churn(uow, as_of)
    book = load_book(uow)
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
