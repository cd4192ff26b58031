"""The whole book loaded (DOMAIN.md §3, §7–§9): customers, policies and every
customer-service record, read once in one transaction, for the keeping-customers reports
over a loaded book (``warnings_in``, ``win_backs_in``, ``visits_in``, ``retention_in``).

Loading builds every aggregate, so it is for books that fit in memory (tests, small
embedded stores); the services that take a unit of work read the book a batch at a time
instead, as the streaming engine of DOMAIN.md §10.3 does, and give the same answers.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable

import attrs

from insurcrm.domain.churn import ChurnRecord
from insurcrm.domain.complaints import Complaint
from insurcrm.domain.customers import Customer
from insurcrm.domain.interactions import Interaction
from insurcrm.domain.policies import Policy
from insurcrm.domain.satisfaction import SurveyResponse
from insurcrm.domain.tier_membership import TierMembership
from insurcrm.domain.unit_of_work import UnitOfWork

__all__ = ["ServiceBook", "by_holder", "load_book"]


def by_holder(items: Iterable[Policy]) -> dict[str, tuple[Policy, ...]]:
    """Our policies among ``items``, by policyholder."""
    held: defaultdict[str, list[Policy]] = defaultdict(list)
    for policy in items:
        if policy.is_ours:
            held[policy.policyholder_id].append(policy)
    return {k: tuple(v) for k, v in held.items()}


@attrs.frozen
class ServiceBook:
    """Everything stored, as of one read.

    Attributes:
        held: our policies by policyholder.
        erased: the ids of erased customers.
    """

    customers: tuple[Customer, ...]
    policies: tuple[Policy, ...]
    churns: tuple[ChurnRecord, ...]
    complaints: tuple[Complaint, ...]
    interactions: tuple[Interaction, ...]
    responses: tuple[SurveyResponse, ...]
    memberships: tuple[TierMembership, ...]
    held: dict[str, tuple[Policy, ...]] = attrs.field(init=False, eq=False, repr=False)
    erased: frozenset[str] = attrs.field(init=False, eq=False, repr=False)

    def __attrs_post_init__(self) -> None:
        object.__setattr__(self, "held", by_holder(self.policies))
        object.__setattr__(self, "erased", frozenset(c.id for c in self.customers if c.is_erased))


def load_book(uow: UnitOfWork) -> ServiceBook:
    """Read the whole book in one transaction (reads only)."""
    with uow:
        return ServiceBook(
            customers=tuple(uow.customers.iterate()),
            policies=tuple(uow.policies.iterate()),
            churns=tuple(uow.churns.iterate()),
            complaints=tuple(uow.complaints.iterate()),
            interactions=tuple(uow.interactions.iterate()),
            responses=tuple(uow.surveys.iterate()),
            memberships=tuple(uow.tiers.iterate()),
        )
