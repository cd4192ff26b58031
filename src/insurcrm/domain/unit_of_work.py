"""The unit of work port (工作单元): one transaction over all repositories.

Use it as a context manager. Nothing is stored until :meth:`UnitOfWork.commit`;
leaving the block without committing, or with an exception, rolls back
everything done inside it, on every backend::

    with uow:
        customer = uow.customers.get("C1")
        uow.customers.save(customer.updated(today, is_internal=True))
        uow.commit()
"""

from __future__ import annotations

from types import TracebackType
from typing import Protocol, Self

from insurcrm.domain.complaints import Complaint
from insurcrm.domain.interactions import Interaction
from insurcrm.domain.repositories import (
    ChurnRecordRepository,
    CustomerRepository,
    HouseholdRepository,
    Outbox,
    PolicyRepository,
    PortfolioReader,
    RecordRepository,
    SurveyResponseRepository,
    TierMembershipRepository,
)

__all__ = ["UnitOfWork", "UnitOfWorkFactory"]


class UnitOfWork(Protocol):
    """A transaction over the repositories and the outbox.

    The repositories may only be used inside ``with uow:``. A unit of work
    can be entered again after it was left; each ``with`` block is a new
    transaction. The events of the aggregates added or saved are stored in
    the outbox by the same commit, then given to the store's event handlers;
    a rollback stores and publishes none of them.
    """

    # Read-only members: an implementation may hold a more specific type in each.

    @property
    def customers(self) -> CustomerRepository:
        """The customers (§1)."""
        ...

    @property
    def policies(self) -> PolicyRepository:
        """The policies (§2)."""
        ...

    @property
    def households(self) -> HouseholdRepository:
        """The households."""
        ...

    @property
    def tiers(self) -> TierMembershipRepository:
        """The customers' service tiers (§6)."""
        ...

    @property
    def churns(self) -> ChurnRecordRepository:
        """The churn records (§7.1)."""
        ...

    @property
    def complaints(self) -> RecordRepository[Complaint]:
        """The complaints (§8)."""
        ...

    @property
    def interactions(self) -> RecordRepository[Interaction]:
        """The logged contacts (§9)."""
        ...

    @property
    def surveys(self) -> SurveyResponseRepository:
        """The satisfaction survey responses (§3)."""
        ...

    @property
    def outbox(self) -> Outbox:
        """The events committed and not yet delivered."""
        ...

    @property
    def portfolio(self) -> PortfolioReader:
        """The whole book's assessment figures (§10.1)."""
        ...

    def __enter__(self) -> Self:
        """Begin a transaction."""
        ...

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        """Roll back whatever was not committed, and end the transaction."""
        ...

    def commit(self) -> None:
        """Make everything done so far in this block permanent, with its events;
        then call the store's handlers for those events (a handler's failure
        leaves its event pending in the outbox and does not undo the commit).

        Raises:
            ConcurrencyError: another writer changed an aggregate saved here.
        """
        ...

    def rollback(self) -> None:
        """Undo everything done since the block began or since the last commit."""
        ...


class UnitOfWorkFactory(Protocol):
    """Anything that makes units of work on one store (``MemoryStore``, ``SqlStore`` …)."""

    def unit_of_work(self) -> UnitOfWork:
        """A new unit of work on this store."""
        ...
