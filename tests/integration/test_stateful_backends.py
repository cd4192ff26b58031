"""Hypothesis drives the memory and SQLite stores with the same random operations;
they must never disagree (same results, same errors, same contents)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, rule

from insurcrm.adapters.memory import MemoryStore
from insurcrm.domain.customers import Customer
from insurcrm.domain.policies import Policy
from insurcrm.domain.unit_of_work import UnitOfWork, UnitOfWorkFactory
from insurcrm.errors import InsurCRMError, RuleViolation
from insurcrm.testing.contracts import DAY, TRICKY_TEXTS, make_customer, make_policy
from tests.contract.sql_stores import empty_sqlite_store

CUSTOMER_IDS = st.sampled_from(["C1", "C2", "C3", "C4"])
POLICY_IDS = st.sampled_from(["P1", "P2", "P3"])
NAMES = st.sampled_from(["张伟", "李娜", *TRICKY_TEXTS[:6]])
LATER = st.integers(min_value=0, max_value=2000).map(lambda d: DAY + dt.timedelta(days=d))


def _outcome(store: UnitOfWorkFactory, action: Callable[[UnitOfWork], Any], commit: bool) -> Any:
    """Run ``action`` in a unit of work; the result, or the error's type."""
    try:
        with store.unit_of_work() as uow:
            result = action(uow)
            if commit:
                uow.commit()
            return result
    except InsurCRMError as error:
        return type(error)


class BackendsAgree(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        self.stores: list[UnitOfWorkFactory] = [MemoryStore(), empty_sqlite_store()]
        self.copies: list[Customer | Policy] = []  # what callers read, possibly stale

    def both(self, action: Callable[[UnitOfWork], Any], commit: bool = True) -> Any:
        memory, sqlite = (_outcome(s, action, commit) for s in self.stores)
        assert memory == sqlite
        return memory

    @rule(customer_id=CUSTOMER_IDS, name=NAMES, commit=st.booleans())
    def add_customer(self, customer_id: str, name: str, commit: bool) -> None:
        customer = make_customer(customer_id, name)
        result = self.both(lambda uow: uow.customers.add(customer), commit)
        if isinstance(result, Customer):
            self.copies.append(result)

    @rule(customer_id=CUSTOMER_IDS)
    def read_customer(self, customer_id: str) -> None:
        result = self.both(lambda uow: uow.customers.get(customer_id))
        if isinstance(result, Customer):
            self.copies.append(result)

    @rule(data=st.data(), csr=st.sampled_from(["CSR-1", "CSR-2"]), commit=st.booleans())
    def save_a_copy(self, data: st.DataObject, csr: str, commit: bool) -> None:
        customers = [c for c in self.copies if isinstance(c, Customer)]
        if not customers:
            return
        copy = data.draw(st.sampled_from(customers))
        if copy.is_erased:
            return
        result = self.both(lambda uow: uow.customers.save(copy.updated(DAY, csr_id=csr)), commit)
        if isinstance(result, Customer):
            self.copies.append(result)

    @rule(customer_id=CUSTOMER_IDS, when=LATER)
    def erase(self, customer_id: str, when: dt.date) -> None:
        def action(uow: UnitOfWork) -> Customer:
            return uow.customers.save(uow.customers.get(customer_id).erase(when))

        self.both(action)

    @rule(policy_id=POLICY_IDS, holder=CUSTOMER_IDS, premium=st.sampled_from(["0.10", "99.99"]))
    def add_policy(self, policy_id: str, holder: str, premium: str) -> None:
        policy = make_policy(policy_id, holder, premium=premium).activate(DAY)
        self.both(lambda uow: uow.policies.add(policy))

    @rule(policy_id=POLICY_IDS, when=LATER, move=st.sampled_from(["lapse", "renew", "reinstate"]))
    def change_policy(self, policy_id: str, when: dt.date, move: str) -> None:
        def action(uow: UnitOfWork) -> Policy | type[RuleViolation]:
            policy = uow.policies.get(policy_id)
            try:
                changed: Policy = getattr(policy, move)(when)
            except RuleViolation:
                return RuleViolation
            return uow.policies.save(changed)

        self.both(action)

    @rule(name=NAMES)
    def find_by_name(self, name: str) -> None:
        self.both(lambda uow: [c.id for c in uow.customers.find_by_name(name)])

    @rule(customer_id=CUSTOMER_IDS)
    def policies_of(self, customer_id: str) -> None:
        self.both(lambda uow: uow.policies.of_customer(customer_id))

    @invariant()
    def same_contents(self) -> None:
        self.both(lambda uow: (list(uow.customers.iterate()), list(uow.policies.iterate())))


TestBackendsAgree = BackendsAgree.TestCase
