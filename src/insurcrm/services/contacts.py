"""Contacts through a unit of work (DOMAIN.md §9): log an interaction, assign a dedicated
representative, and make the visit plan."""

from __future__ import annotations

import datetime as dt

from insurcrm.domain.customers import Customer
from insurcrm.domain.future_value import FutureValueConfig, RenewalModel
from insurcrm.domain.interactions import Interaction
from insurcrm.domain.recovery import RecoveryConfig
from insurcrm.domain.unit_of_work import UnitOfWork
from insurcrm.domain.visits import VisitConfig, VisitEntry, visit_plan
from insurcrm.errors import RuleViolation
from insurcrm.services.book import ServiceBook, load_book
from insurcrm.services.churn import win_backs_in
from insurcrm.services.customers import is_erased
from insurcrm.services.future_value import renewal_model_of

__all__ = ["assign_csr", "log_interaction", "plan_visits", "visits_in"]


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
) -> tuple[VisitEntry, ...]:
    """The visit plan for ``as_of`` and the coming ``config.horizon_days`` (reads only).

    Win-back actions come from :func:`~insurcrm.services.churn.win_back_queue` with
    ``model`` (fitted to the portfolio when omitted). Erased customers are left out.
    """
    book = load_book(uow)
    fitted = model or renewal_model_of(book.policies, as_of, future)
    return visits_in(book, as_of, fitted, config=config, recovery=recovery, future=future)
