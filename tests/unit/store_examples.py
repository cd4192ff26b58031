"""A customer, a policy of ours in force and a memory store holding them, shared by the
service tests."""

from __future__ import annotations

import datetime as dt

from insurcrm.adapters.memory import MemoryStore
from insurcrm.domain.customers import Customer
from insurcrm.domain.policies import Policy, ProductLine
from insurcrm.domain.values import Money

DAY = dt.date(2024, 3, 1)


def customer(customer_id: str, on: dt.date = DAY) -> Customer:
    return Customer.register(customer_id, "欧阳娜娜", on)


def policy(policy_id: str, holder: str, start: dt.date = DAY, premium: str = "2000.00") -> Policy:
    """Our life policy held by ``holder``, in force from ``start``."""
    return Policy(
        id=policy_id,
        number=f"N-{policy_id}",
        policyholder_id=holder,
        insured_id=holder,
        product_line=ProductLine.LIFE,
        start_date=start,
        term_years=20,
        sum_assured=Money("500000.00"),
        annual_premium=Money(premium),
    ).activate(start)


def store_with(*items: Customer | Policy) -> MemoryStore:
    store = MemoryStore()
    with store.unit_of_work() as uow:
        for item in items:
            if isinstance(item, Customer):
                uow.customers.add(item)
            else:
                uow.policies.add(item)
        uow.commit()
    return store
