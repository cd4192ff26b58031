"""Churn (客户流失, DOMAIN.md §7.1): churn records, automatic churn, churn and retention rates.

A customer has churned when their last policy of ours in force ends (it lapses, is
surrendered, matures without renewal, is cancelled …) or when staff record it. A
:class:`ChurnRecord` keeps the date, the structure (流失客户的结构), the causes
(流失原因) and notes. Records made automatically start without a structure unless
the ending tells it (a policy cancelled for fraud: INTENTIONALLY_PUSHED_AWAY; a
claim ending the last policy: MIGRATED, the need ended); staff complete them with
:meth:`ChurnRecord.analysed`. When a churned customer has a policy of ours in force
again the record is closed with :meth:`ChurnRecord.won_back`.

:func:`churn_rates` is the period's churn rate (customers churned in the period
over the customers at its start) and retention rate (100 % minus it).
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Iterable
from decimal import Decimal

import attrs

from insurcrm.domain.events import CustomerChurned, CustomerWonBack, DomainEvent
from insurcrm.domain.fields import a_date, an_id, an_optional_id, enum_tuple, optional_text
from insurcrm.domain.labels import LabelledEnum
from insurcrm.domain.policies import ENDED, EndReason, Policy, PolicyStatus, ours_in_force
from insurcrm.domain.privacy import mask_text
from insurcrm.domain.rates import percent
from insurcrm.errors import RuleViolation, ValidationError

__all__ = [
    "ChurnCause",
    "ChurnRates",
    "ChurnRecord",
    "ChurnStructure",
    "churn_id",
    "churn_on",
    "churn_rates",
    "customers_in_force",
    "dropped_on_purpose",
]


class ChurnStructure(LabelledEnum):
    """How the customer was lost (流失客户的结构)."""

    INTENTIONALLY_PUSHED_AWAY = ("INTENTIONALLY_PUSHED_AWAY", "有意推走")
    UNINTENTIONALLY_PUSHED_AWAY = ("UNINTENTIONALLY_PUSHED_AWAY", "无意推走")
    BOUGHT_OFF = ("BOUGHT_OFF", "被收买")
    PULLED_AWAY = ("PULLED_AWAY", "被拉走")
    MIGRATED = ("MIGRATED", "迁移")


class ChurnCause(LabelledEnum):
    """Why the customer left (流失原因 / 因素). FRAUD and MALICIOUS_ARREARS are the
    reasons we drop a customer on purpose (DOMAIN.md §7.1's examples of
    INTENTIONALLY_PUSHED_AWAY)."""

    CORE_SERVICE_FAILURE = ("CORE_SERVICE_FAILURE", "核心服务失误")
    SALES_STAFF_FAILURE = ("SALES_STAFF_FAILURE", "销售人员失误")
    PRICE = ("PRICE", "价格")
    INCONVENIENCE = ("INCONVENIENCE", "不方便")
    POOR_RESPONSE_TO_FAILURE = ("POOR_RESPONSE_TO_FAILURE", "对失误反应不当")
    COMPETITION = ("COMPETITION", "竞争")
    ETHICAL_PROBLEM = ("ETHICAL_PROBLEM", "道德问题")
    INVOLUNTARY = ("INVOLUNTARY", "非自愿")
    LACK_OF_INNOVATION = ("LACK_OF_INNOVATION", "缺乏创新")
    WEAK_SERVICE_AWARENESS = ("WEAK_SERVICE_AWARENESS", "服务意识淡薄")
    WEAK_MARKET_MONITORING = ("WEAK_MARKET_MONITORING", "市场监控不力或渠道不畅")
    AGENT_LEFT = ("AGENT_LEFT", "代理人跳槽带走客户")
    NEW_TEMPTATIONS = ("NEW_TEMPTATIONS", "新的诱惑")
    SHORT_TERM_BEHAVIOUR = ("SHORT_TERM_BEHAVIOUR", "短期行为")
    FRAUD = ("FRAUD", "欺诈")
    MALICIOUS_ARREARS = ("MALICIOUS_ARREARS", "恶意拖欠")


def churn_id(customer_id: str, on: dt.date) -> str:
    """The id of the churn record of ``customer_id`` on ``on``: the same on every run, so
    recording the same churn twice is refused as a duplicate (``CH-`` and 20 hex digits)."""
    digest = hashlib.sha256(f"{customer_id}\x00{on.isoformat()}".encode()).hexdigest()
    return f"CH-{digest[:20]}"


def _causes(items: Iterable[ChurnCause]) -> tuple[ChurnCause, ...]:
    return enum_tuple(ChurnCause, "causes", items)


def dropped_on_purpose(structure: ChurnStructure | None, causes: Iterable[ChurnCause]) -> bool:
    """True for a churn of that structure and those causes that we caused on purpose, for
    fraud or malicious arrears: such customers are never won back (彻底放弃)."""
    return structure is ChurnStructure.INTENTIONALLY_PUSHED_AWAY or any(
        c is ChurnCause.FRAUD or c is ChurnCause.MALICIOUS_ARREARS for c in causes
    )


@attrs.frozen
class ChurnRecord:
    """The record of one churn (流失记录).

    Attributes:
        id: the record id (:func:`churn_id` for the ones made by the services).
        customer_id: the churned customer.
        on: the day the customer churned (the day their last policy ended).
        structure: how they were lost; None until analysed.
        causes: why, in :class:`ChurnCause` order, without repeats.
        notes: free text (personal data: masked in ``repr``, erased with the customer).
        automatic: True when recorded because the last policy in force ended.
        policy_id: the policy whose end made the churn, when automatic.
        won_back_on: the day the customer had a policy of ours in force again.
        erased: the notes were erased with the customer (§10.4).
        version: 0 until first stored; bumped by every save.
    """

    id: str = attrs.field(validator=an_id)
    customer_id: str = attrs.field(validator=an_id)
    on: dt.date = attrs.field(validator=a_date)
    structure: ChurnStructure | None = attrs.field(
        default=None,
        validator=attrs.validators.optional(attrs.validators.instance_of(ChurnStructure)),
    )
    causes: tuple[ChurnCause, ...] = attrs.field(default=(), converter=_causes)
    notes: str | None = attrs.field(default=None, validator=optional_text, repr=mask_text)
    automatic: bool = False
    policy_id: str | None = attrs.field(default=None, validator=an_optional_id)
    won_back_on: dt.date | None = None
    erased: bool = False
    version: int = 0
    events: tuple[DomainEvent, ...] = attrs.field(default=(), eq=False, repr=False)

    def __attrs_post_init__(self) -> None:
        if self.won_back_on is not None and self.won_back_on < self.on:
            raise ValidationError("won_back_on", "date.order", "must not be before the churn")
        if self.erased and self.notes is not None:
            raise ValidationError("notes", "erased", "an erased record keeps no notes")

    @classmethod
    def record(
        cls,
        customer_id: str,
        on: dt.date,
        structure: ChurnStructure | None = None,
        causes: Iterable[ChurnCause] = (),
        notes: str | None = None,
        *,
        automatic: bool = False,
        policy_id: str | None = None,
        id: str | None = None,
    ) -> ChurnRecord:
        """Record that ``customer_id`` churned on ``on`` (raises ``CustomerChurned``)."""
        record = cls(
            id=id if id is not None else churn_id(customer_id, on),
            customer_id=customer_id,
            on=on,
            structure=structure,
            causes=tuple(causes),
            notes=notes,
            automatic=automatic,
            policy_id=policy_id,
        )
        event = CustomerChurned(
            customer_id,
            on,
            record.id,
            structure.name if structure is not None else None,
            automatic,
        )
        return attrs.evolve(record, events=(event,))

    @property
    def is_open(self) -> bool:
        """True until the customer is won back."""
        return self.won_back_on is None

    def open_on(self, day: dt.date) -> bool:
        """True when the record was open at the end of ``day``: the customer had churned
        by then and was not yet won back."""
        return self.on <= day and (self.won_back_on is None or self.won_back_on > day)

    def open_with(self, other: ChurnRecord) -> bool:
        """True when both records are open (:meth:`open_on`) on a same day. A customer
        churns once at a time, so two records of theirs never are. A record won back the
        day it churned is open on no day."""
        ends = [r.won_back_on or dt.date.max for r in (self, other)]
        return max(self.on, other.on) < min(ends)

    @property
    def dropped_on_purpose(self) -> bool:
        """True for customers we pushed away on purpose, for fraud or malicious arrears:
        they are never won back (彻底放弃)."""
        return dropped_on_purpose(self.structure, self.causes)

    def analysed(
        self,
        structure: ChurnStructure,
        causes: Iterable[ChurnCause],
        notes: str | None = None,
    ) -> ChurnRecord:
        """The record with the structure and causes found when the churn was analysed
        (notes are kept when ``notes`` is None)."""
        if self.erased and notes is not None:
            raise RuleViolation(f"churn {self.id}: the customer was erased; no notes can be added")
        return attrs.evolve(
            self,
            structure=structure,
            causes=tuple(causes),
            notes=notes if notes is not None else self.notes,
        )

    def won_back(self, on: dt.date) -> ChurnRecord:
        """Close the record: the customer has a policy of ours in force again from ``on``.

        Raises:
            RuleViolation: the record is already closed, or ``on`` is before the churn.
        """
        if not self.is_open:
            raise RuleViolation(f"churn {self.id}: the customer was already won back")
        if on < self.on:
            raise RuleViolation(f"churn {self.id}: a win-back cannot predate the churn")
        return attrs.evolve(
            self,
            won_back_on=on,
            events=(*self.events, CustomerWonBack(self.customer_id, on, self.id)),
        )

    def erase(self) -> ChurnRecord:
        """The record without its notes (erasure, §10.4); date, structure and causes stay,
        so past churn rates do not change."""
        return attrs.evolve(self, notes=None, erased=True)


def customers_in_force(policies: Iterable[Policy], day: dt.date) -> frozenset[str]:
    """The policyholders with a policy of ours in force at the end of ``day``."""
    return frozenset(p.policyholder_id for p in ours_in_force(policies, day))


def churn_on(customer_id: str, policies: Iterable[Policy], as_of: dt.date) -> ChurnRecord | None:
    """The automatic churn record of a customer whose last policy of ours ended, or None.

    ``policies`` are the customer's policies as policyholder. A customer churns on the
    day their last policy of ours in force ended, when none is in force at the end of
    ``as_of`` (a customer who never had one in force has not churned: they are a
    prospect). The structure is INTENTIONALLY_PUSHED_AWAY with cause FRAUD when that
    policy was cancelled for fraud, MIGRATED with cause INVOLUNTARY when a claim ended
    it, and left for analysis otherwise.
    """
    ours = [p for p in policies if p.is_ours and p.policyholder_id == customer_id]
    if not ours or any(p.status_on(as_of) is PolicyStatus.IN_FORCE for p in ours):
        return None
    endings = [
        (change.on, policy, change)
        for policy in ours
        for change in policy.history
        if change.on <= as_of
        and change.from_status is PolicyStatus.IN_FORCE
        and change.to_status in ENDED
    ]
    if not endings:
        return None
    day, policy, change = max(endings, key=lambda e: (e[0], e[1].id))
    structure: ChurnStructure | None = None
    causes: tuple[ChurnCause, ...] = ()
    if change.to_status is PolicyStatus.CANCELLED and change.reason is EndReason.FRAUD:
        structure, causes = ChurnStructure.INTENTIONALLY_PUSHED_AWAY, (ChurnCause.FRAUD,)
    elif change.to_status is PolicyStatus.CLAIMED_TERMINATED:
        structure, causes = ChurnStructure.MIGRATED, (ChurnCause.INVOLUNTARY,)
    return ChurnRecord.record(
        customer_id, day, structure, causes, automatic=True, policy_id=policy.id
    )


@attrs.frozen
class ChurnRates:
    """Churn rate (客户流失率) and retention rate (客户保持率) over a period.

    Attributes:
        start: the first day of the period (its customers are those in force at its end).
        end: the last day of the period.
        customers_at_start: customers with a policy of ours in force at the end of
            ``start`` (the denominator).
        churned: how many of them churned after ``start``, up to ``end``.
        churn_rate: ``churned / customers_at_start`` in %, None without customers.
        retention_rate: ``100 − churn_rate``, None without customers.
    """

    start: dt.date
    end: dt.date
    customers_at_start: int
    churned: int

    @property
    def churn_rate(self) -> Decimal | None:
        """Customers churned over customers at the start, in % (2 places)."""
        return percent(self.churned, self.customers_at_start)

    @property
    def retention_rate(self) -> Decimal | None:
        """100 % minus the churn rate."""
        rate = self.churn_rate
        return None if rate is None else Decimal(100) - rate

    @property
    def reasons(self) -> tuple[str, ...]:
        """How the rates were computed."""
        if not self.customers_at_start:
            return (f"no customer had a policy in force on {self.start}: no rate",)
        return (
            f"{self.churned} of the {self.customers_at_start} customers in force on "
            f"{self.start} churned by {self.end}",
        )


def churn_rates(
    start: dt.date,
    end: dt.date,
    customers_at_start: Iterable[str],
    records: Iterable[ChurnRecord],
) -> ChurnRates:
    """The churn and retention rates of the period from ``start`` to ``end``.

    Only customers at the start count, in the numerator as in the denominator (a
    customer who joined and left within the period changes neither), and each
    customer counts once however often they churned.

    Raises:
        ValidationError: ``end`` is before ``start``.
    """
    if end < start:
        raise ValidationError("end", "date.order", "must not be before the start")
    base = frozenset(customers_at_start)
    churned = {r.customer_id for r in records if r.customer_id in base and start < r.on <= end}
    return ChurnRates(start, end, len(base), len(churned))
