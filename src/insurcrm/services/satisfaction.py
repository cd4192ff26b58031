"""Satisfaction surveys and indicators through a unit of work (DOMAIN.md §3).

:func:`record_survey_response` stores a response unless the customer was surveyed
within the minimum interval (the refusal says when they may next be asked);
:func:`survey_report_for` reports one survey; :func:`satisfaction_indicators_for`
computes the period's indicators from everything stored.
"""

from __future__ import annotations

import datetime as dt

from insurcrm.domain.satisfaction import (
    SatisfactionIndicators,
    SurveyConfig,
    SurveyReport,
    SurveyResponse,
    check_survey_interval,
    next_survey_day,
    satisfaction_indicators,
    survey_report,
)
from insurcrm.domain.unit_of_work import UnitOfWork
from insurcrm.domain.values import DEFAULT_CURRENCY
from insurcrm.errors import RuleViolation
from insurcrm.services.customers import is_erased

__all__ = [
    "may_survey_from",
    "read_indicators",
    "record_survey_response",
    "satisfaction_indicators_for",
    "survey_report_for",
]


def may_survey_from(
    uow: UnitOfWork, customer_id: str, config: SurveyConfig | None = None
) -> dt.date:
    """The first day ``customer_id`` may be surveyed (``date.min`` when never surveyed)."""
    with uow:
        days = [r.on for r in uow.surveys.of_customer(customer_id)]
    return next_survey_day(max(days) if days else None, config)


def record_survey_response(
    uow: UnitOfWork, response: SurveyResponse, config: SurveyConfig | None = None
) -> SurveyResponse:
    """Store a survey response, in one transaction.

    Raises:
        RuleViolation: the customer was surveyed within the minimum interval (the
            message gives the first day they may be asked again), or is erased.
        NotFound: no such customer.
        Duplicate: the response id is taken.
    """
    with uow:
        if is_erased(uow, response.customer_id):
            raise RuleViolation(
                f"customer {response.customer_id} was erased and cannot be surveyed"
            )
        previous = [r.on for r in uow.surveys.of_customer(response.customer_id)]
        check_survey_interval(response.customer_id, previous, response.on, config)
        stored = uow.surveys.add(response)
        uow.commit()
    return stored


def survey_report_for(
    uow: UnitOfWork, survey_id: str, config: SurveyConfig | None = None
) -> SurveyReport:
    """The report of one survey: per dimension, the answers and their average."""
    with uow:
        responses = uow.surveys.in_survey(survey_id)
    return survey_report(responses, config)


def satisfaction_indicators_for(
    uow: UnitOfWork, start: dt.date, end: dt.date, *, currency: str = DEFAULT_CURRENCY
) -> SatisfactionIndicators:
    """The satisfaction indicators from the day after ``start`` to ``end`` (reads only;
    walks customers, policies, complaints, responses and churn records once)."""
    with uow:
        return read_indicators(uow, start, end, currency=currency)


def read_indicators(
    uow: UnitOfWork, start: dt.date, end: dt.date, *, currency: str = DEFAULT_CURRENCY
) -> SatisfactionIndicators:
    """:func:`satisfaction_indicators_for` inside ``with uow:`` (the caller's
    transaction)."""
    return satisfaction_indicators(
        start,
        end,
        customers=uow.customers.iterate(),
        policies=uow.policies.iterate(),
        complaints=uow.complaints.iterate(),
        responses=uow.surveys.iterate(),
        churns=uow.churns.iterate(),
        currency=currency,
    )
