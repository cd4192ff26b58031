"""Domain events (领域事件): facts an aggregate records when it changes.

An aggregate method that changes something returns the new aggregate with
the event appended to its ``events``; saving it through a unit of work hands
the events to the store, which keeps them with the same commit (the outbox)
and gives them to the handlers the embedding application registered, after
commit. Events carry ids, dates, codes and figures, never personal data, so
the outbox needs nothing erased when a customer is.

Every event has ``customer_id`` (the customer it concerns) and ``on`` (the
business date it happened).
"""

from __future__ import annotations

import datetime as dt

import attrs

__all__ = [
    "EVENT_TYPES",
    "ComplaintClosed",
    "ComplaintReceived",
    "ComplaintReopened",
    "CustomerChurned",
    "CustomerErased",
    "CustomerRegistered",
    "CustomerWonBack",
    "DomainEvent",
    "PolicyStatusChanged",
    "TierDowngraded",
    "TierEnrolled",
    "TierGranted",
    "TierUpgraded",
]


@attrs.frozen
class CustomerRegistered:
    """A customer record was made (客户建档)."""

    customer_id: str
    on: dt.date


@attrs.frozen
class CustomerErased:
    """A customer's personal data was erased (§10.4)."""

    customer_id: str
    on: dt.date


@attrs.frozen
class PolicyStatusChanged:
    """A policy moved between statuses (e.g. ``IN_FORCE`` → ``LAPSED``).

    ``customer_id`` is the policyholder; statuses and the end reason are the
    names of :class:`~insurcrm.domain.policies.PolicyStatus` and
    :class:`~insurcrm.domain.policies.EndReason` members.
    """

    customer_id: str
    on: dt.date
    policy_id: str
    from_status: str
    to_status: str
    reason: str | None = None


@attrs.frozen
class TierEnrolled:
    """A customer got their first service tier."""

    customer_id: str
    on: dt.date
    tier: str
    reasons: tuple[str, ...] = ()


@attrs.frozen
class TierUpgraded:
    """A customer moved up the service-tier ladder (服务升级)."""

    customer_id: str
    on: dt.date
    from_tier: str
    to_tier: str
    reasons: tuple[str, ...] = ()


@attrs.frozen
class TierDowngraded:
    """A customer moved down the service-tier ladder."""

    customer_id: str
    on: dt.date
    from_tier: str
    to_tier: str
    reasons: tuple[str, ...] = ()


@attrs.frozen
class TierGranted:
    """Staff granted a tier by hand (a floor or a pin) until ``expires_on``.

    The grant's free-text reason stays with the membership (it may name a
    person); the event does not carry it. ``kind`` is ``FLOOR`` or ``PIN``.
    """

    customer_id: str
    on: dt.date
    tier: str
    kind: str
    expires_on: dt.date


@attrs.frozen
class CustomerChurned:
    """A customer churned (客户流失): recorded by hand, or automatically when their last
    policy in force ended (``automatic``). ``structure`` is a
    :class:`~insurcrm.domain.churn.ChurnStructure` name, or None until analysed."""

    customer_id: str
    on: dt.date
    churn_id: str
    structure: str | None = None
    automatic: bool = False


@attrs.frozen
class CustomerWonBack:
    """A churned customer came back (挽回成功): a policy of ours is in force again."""

    customer_id: str
    on: dt.date
    churn_id: str


@attrs.frozen
class ComplaintReceived:
    """A complaint was received (受理投诉) and an answer promised by ``promised_by``."""

    customer_id: str
    on: dt.date
    complaint_id: str
    promised_by: dt.date


@attrs.frozen
class ComplaintClosed:
    """A complaint was closed after its seven steps; ``answered_on_time`` compares the
    answer with the promise."""

    customer_id: str
    on: dt.date
    complaint_id: str
    answered_on_time: bool


@attrs.frozen
class ComplaintReopened:
    """A closed complaint was reopened, with a reason kept on the complaint."""

    customer_id: str
    on: dt.date
    complaint_id: str


#: Any domain event.
DomainEvent = (
    CustomerRegistered
    | CustomerErased
    | PolicyStatusChanged
    | TierEnrolled
    | TierUpgraded
    | TierDowngraded
    | TierGranted
    | CustomerChurned
    | CustomerWonBack
    | ComplaintReceived
    | ComplaintClosed
    | ComplaintReopened
)

#: Event classes by name: the ``kind`` stored with each event in the outbox.
EVENT_TYPES: dict[str, type[DomainEvent]] = {
    cls.__name__: cls
    for cls in (
        CustomerRegistered,
        CustomerErased,
        PolicyStatusChanged,
        TierEnrolled,
        TierUpgraded,
        TierDowngraded,
        TierGranted,
        CustomerChurned,
        CustomerWonBack,
        ComplaintReceived,
        ComplaintClosed,
        ComplaintReopened,
    )
}
