"""Customer use cases (客户): register a customer, erase one's personal data (DOMAIN.md §10.4),
and tell, inside another use case, whether a customer was erased.

Every function takes a :class:`~insurcrm.domain.unit_of_work.UnitOfWork`, runs
in its own ``with uow:`` block (one transaction) and commits; on any error
nothing is stored.
"""

from __future__ import annotations

import datetime as dt

from insurcrm.domain.customers import Customer
from insurcrm.domain.repositories import RecordRepository, ServiceRecord
from insurcrm.domain.unit_of_work import UnitOfWork
from insurcrm.errors import NotFound

__all__ = ["erase_customer", "erase_in", "is_erased", "register_customer"]


def is_erased(uow: UnitOfWork, customer_id: str) -> bool:
    """Whether the stored customer was erased (§10.4), inside a unit of work the caller
    has entered, for a use case that stores a record of theirs after the check: read with
    :meth:`~insurcrm.domain.repositories.CustomerRepository.erased_among`, so an erasure
    by another writer cannot commit in between unnoticed (no card is built either).

    Raises:
        NotFound: no such customer.
    """
    found = uow.customers.erased_among([customer_id])
    if customer_id not in found:
        raise NotFound("customer", customer_id)
    return found[customer_id]


def register_customer(uow: UnitOfWork, customer: Customer) -> Customer:
    """Store a new customer in one transaction.

    Args:
        uow: the unit of work to use (not yet inside a ``with`` block).
        customer: a new customer, e.g. from :meth:`Customer.register`.

    Returns:
        The stored customer (version 1).

    Raises:
        Duplicate: the customer id is taken, or another customer holds their resident ID
            number (one customer a person).
        NotFound: the customer's household or referrer is not stored.
    """
    with uow:
        stored = uow.customers.add(customer)
        uow.commit()
    return stored


def erase_customer(uow: UnitOfWork, customer_id: str, on: dt.date) -> Customer:
    """Erase a customer's personal data everywhere it is stored, in one transaction (§10.4).

    The customer becomes an anonymous stub (:meth:`Customer.erase`): the
    basic profile, life situation, family members and the insurers' names on
    holdings are gone, the id and non-identifying facts stay. On every
    policy naming the customer as beneficiary, that beneficiary's name and
    relation are removed (:meth:`Policy.forget_beneficiary`); a manual tier grant
    loses its free-text reason; churn notes, complaint texts (the customer's
    words, step notes, reasons), interaction memos and survey comments are
    erased. Policies, purchases, tier history, dates, steps, answers and
    counts are kept, so anonymous aggregates and past periods' rates stay
    consistent.

    Idempotent: erasing an erased customer changes nothing (the first
    erasure date is kept) apart from clearing beneficiary data written since.

    Args:
        uow: the unit of work to use (not yet inside a ``with`` block).
        customer_id: the customer to erase.
        on: the day of the erasure.

    Returns:
        The stored, erased customer.

    Raises:
        NotFound: no such customer.
        ConcurrencyError: another writer changed the customer or a policy meanwhile.
    """
    with uow:
        customer = erase_in(uow, customer_id, on)
        uow.commit()
    return customer


def erase_in(uow: UnitOfWork, customer_id: str, on: dt.date) -> Customer:
    """Erase a customer's personal data as :func:`erase_customer` does, inside a unit of
    work the caller has entered (``with uow:``) and commits: for erasures that must be
    stored together with other writes, in one transaction. Erase several customers in
    one transaction in the order of their ids: a writer checking a batch of customers
    (:meth:`~insurcrm.domain.repositories.CustomerRepository.erased_among`) holds them in
    that order on PostgreSQL, so the other order could deadlock with it (the database
    then refuses one of the two with ``ConcurrencyError``).

    Args:
        uow: a unit of work inside its ``with`` block.
        customer_id: the customer to erase.
        on: the day of the erasure.

    Returns:
        The erased customer, as saved (not yet committed).

    Raises:
        NotFound: no such customer.
        ConcurrencyError: another writer changed the customer or a policy meanwhile.
    """
    customer = uow.customers.get(customer_id)
    if not customer.is_erased:
        customer = uow.customers.save(customer.erase(on))
    for policy in uow.policies.naming_beneficiary(customer_id):
        cleaned = policy.forget_beneficiary(customer_id)
        if cleaned is not policy:
            uow.policies.save(cleaned)
    membership = uow.tiers.find(customer_id)
    if membership is not None:
        cleaned_membership = membership.without_personal_data()
        if cleaned_membership != membership:
            uow.tiers.save(cleaned_membership)
    _erase_records(uow.churns, customer_id)
    _erase_records(uow.complaints, customer_id)
    _erase_records(uow.interactions, customer_id)
    _erase_records(uow.surveys, customer_id)
    return customer


def _erase_records(records: RecordRepository[ServiceRecord], customer_id: str) -> None:
    """Save each of the customer's records without its free text (once)."""
    for record in records.of_customer(customer_id):
        if not record.erased:
            records.save(record.erase())
