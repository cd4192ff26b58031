"""Contacts through a unit of work (DOMAIN.md §9): log an interaction, assign a dedicated
representative, and make the visit plan."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence

from insurcrm.domain.assessment import AssessmentFigures
from insurcrm.domain.customers import Customer
from insurcrm.domain.future_value import FutureValueConfig, RenewalModel
from insurcrm.domain.interactions import Interaction
from insurcrm.domain.recovery import RecoveryConfig
from insurcrm.domain.unit_of_work import UnitOfWork
from insurcrm.domain.visits import VisitConfig, VisitEntry, sort_plan, visit_plan
from insurcrm.errors import RuleViolation
from insurcrm.services.book import ServiceBook
from insurcrm.services.churn import (
    WinBack,
    report_figures,
    win_back_config,
    win_backs_in,
    win_backs_of,
)
from insurcrm.services.customers import is_erased
from insurcrm.services.future_value import read_renewal_model
from insurcrm.services.progress import Progress

__all__ = ["assign_csr", "log_interaction", "plan_visits", "visits_in", "visits_of"]


def log_interaction(uow: UnitOfWork, interaction: Interaction) -> Interaction:
    """Store a logged contact.

    Raises:
        NotFound: no such customer.
        RuleViolation: the customer is erased and the contact has a memo.
        Duplicate: the interaction id is taken.
    """
    with uow:
        if is_erased(uow, interaction.customer_id) and interaction.memo is not None:
            raise RuleViolation(
                f"customer {interaction.customer_id} was erased: log the contact without a memo"
            )
        stored = uow.interactions.add(interaction)
        uow.commit()
    return stored


def assign_csr(uow: UnitOfWork, customer_id: str, csr_id: str | None, on: dt.date) -> Customer:
    """Give the customer a dedicated representative (专属客服), or none with ``None``.

    Raises:
        NotFound: no such customer.
        ValidationError: ``csr_id`` is not a valid id.
    """
    with uow:
        customer = uow.customers.get(customer_id)
        stored = uow.customers.save(customer.updated(on, csr_id=csr_id))
        uow.commit()
    return stored


def visits_in(
    book: ServiceBook,
    as_of: dt.date,
    model: RenewalModel,
    *,
    config: VisitConfig | None = None,
    recovery: RecoveryConfig | None = None,
    future: FutureValueConfig | None = None,
) -> tuple[VisitEntry, ...]:
    """:func:`plan_visits` over a book already loaded."""
    queue = win_backs_in(book, as_of, model, recovery=recovery, future=future)
    return visit_plan(
        as_of,
        policies=book.policies,
        complaints=book.complaints,
        decisions=[(w.decision, w.record.on) for w in queue],
        memberships=book.memberships,
        responses=book.responses,
        interactions=book.interactions,
        skip=book.erased,
        config=config,
    )


def plan_visits(
    uow: UnitOfWork,
    as_of: dt.date,
    *,
    model: RenewalModel | None = None,
    config: VisitConfig | None = None,
    recovery: RecoveryConfig | None = None,
    future: FutureValueConfig | None = None,
    progress: Progress | None = None,
) -> tuple[VisitEntry, ...]:
    """The visit plan for ``as_of`` and the coming ``config.horizon_days`` (reads only).

    Win-back actions come from the recovery decisions of
    :func:`~insurcrm.services.churn.win_back_queue` with ``model`` (fitted to the
    portfolio when omitted). Erased customers are left out. The book is read as the
    portfolio assessment reads it: each customer's figures (their latest purchase, their
    churn), :data:`~insurcrm.services.churn.REPORT_BATCH` customers at a time with their
    complaints, memberships, survey responses and contacts, never the whole book at once.
    ``progress``, if given, is called with the customers read so far and all of them.

    Raises:
        ConcurrencyError: a churn record was recorded or changed while the plan was read:
            run it again.
    """
    entries: list[VisitEntry] = []
    with uow:
        cfg = win_back_config(model or read_renewal_model(uow, as_of, future), recovery, future)
        for figures in report_figures(uow, as_of, cfg, progress):
            entries += visits_of(
                uow, figures, as_of, win_backs_of(uow, figures, as_of, cfg), config
            )
    return sort_plan(entries)


def visits_of(
    uow: UnitOfWork,
    figures: Sequence[AssessmentFigures],
    as_of: dt.date,
    win_backs: Iterable[WinBack],
    config: VisitConfig | None = None,
) -> tuple[VisitEntry, ...]:
    """The visits due of the customers among ``figures`` (read as of ``as_of``), with their
    decisions ``win_backs``, their complaints, memberships, survey responses and contacts
    read through ``uow`` (inside ``with uow:``): :func:`plan_visits` of one batch, unsorted
    across batches (:func:`~insurcrm.domain.visits.sort_plan` sorts them)."""
    ids = [f.customer_id for f in figures]
    return visit_plan(
        as_of,
        complaints=uow.complaints.of_customers(ids),
        decisions=[(w.decision, w.record.on) for w in win_backs],
        memberships=uow.tiers.of_customers(ids),
        responses=uow.surveys.of_customers(ids),
        interactions=uow.interactions.of_customers(ids),
        skip=[f.customer_id for f in figures if f.erased],
        config=config,
        last_purchases={
            f.customer_id: f.last_purchase_ours for f in figures if f.last_purchase_ours is not None
        },
    )
