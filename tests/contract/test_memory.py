"""The storage contract on the in-memory adapter."""

from __future__ import annotations

from insurcrm.adapters.memory import MemoryStore
from insurcrm.testing.contracts import StoreContract


class TestMemoryStore(StoreContract):
    def empty_store(self) -> MemoryStore:
        return MemoryStore()
