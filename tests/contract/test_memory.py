"""The storage contract on the in-memory adapter."""

from __future__ import annotations

import pytest

from insurcrm.adapters.memory import MemoryStore
from insurcrm.domain.values import ResidentId
from insurcrm.errors import ConcurrencyError
from insurcrm.testing.contracts import StoreContract, make_customer, make_policy


class TestMemoryStore(StoreContract):
    def empty_store(self) -> MemoryStore:
        return MemoryStore()


def test_two_units_of_work_adding_one_key_before_either_commits() -> None:
    """Both add before either commits (the SQL stores block the second writer instead):
    the second commit is refused, for a resident ID number and for a policy number."""
    store = MemoryStore()
    rid = ResidentId("11010519491231002X")
    first, second = store.unit_of_work(), store.unit_of_work()
    with first, second:
        first.customers.add(make_customer("C1", id_number=rid))
        second.customers.add(make_customer("C2", id_number=rid))
        first.commit()
        with pytest.raises(ConcurrencyError, match="resident ID number"):
            second.commit()
    first, second = store.unit_of_work(), store.unit_of_work()
    with first, second:
        first.policies.add(make_policy("P1", "C1", number="N-1"))
        second.policies.add(make_policy("P2", "C1", number="N-1"))
        first.commit()
        with pytest.raises(ConcurrencyError, match="policy number"):
            second.commit()
    with store.unit_of_work() as uow:
        assert [c.id for c in uow.customers.iterate()] == ["C1"]
        assert [p.id for p in uow.policies.iterate()] == ["P1"]
