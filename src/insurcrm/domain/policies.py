"""The policy aggregate (保单, DOMAIN.md §2): participants, status lifecycle, purchases.

A policy moves through its lifecycle only by the legal transitions of
:data:`TRANSITIONS`; every change keeps its date. Every policy our company
issues, and every renewal, is a :class:`Purchase` by the policyholder.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from decimal import Decimal
from typing import Any

import attrs

from insurcrm.domain.events import DomainEvent, PolicyStatusChanged
from insurcrm.domain.labels import LabelledEnum
from insurcrm.domain.privacy import mask_text
from insurcrm.domain.values import Money, PersonName, check_text
from insurcrm.errors import RuleViolation, ValidationError

__all__ = [
    "TRANSITIONS",
    "Beneficiary",
    "EndReason",
    "MissedPremium",
    "Policy",
    "PolicyStatus",
    "ProductLine",
    "Purchase",
    "PurchaseKind",
    "StatusChange",
    "check_id",
    "ours_in_force",
]

HUNDRED = Decimal(100)


def check_id(value: object, field: str) -> None:
    """Refuse an id that is not short, non-empty, printable text.

    Raises:
        ValidationError: rule ``id.format``.
    """
    if not (
        isinstance(value, str) and 0 < len(value) <= 64 and value.isprintable() and value.strip()
    ):
        raise ValidationError(field, "id.format", "must be 1–64 printable characters")


class ProductLine(LabelledEnum):
    """Product line (险种)."""

    LIFE = ("LIFE", "寿险")
    CRITICAL_ILLNESS = ("CRITICAL_ILLNESS", "重疾险")
    MEDICAL = ("MEDICAL", "医疗险")
    ACCIDENT = ("ACCIDENT", "意外险")
    ANNUITY = ("ANNUITY", "年金险")
    UNIVERSAL_LIFE = ("UNIVERSAL_LIFE", "万能险")
    INVESTMENT_LINKED = ("INVESTMENT_LINKED", "投连险")
    PROPERTY = ("PROPERTY", "财产险")
    AUTO = ("AUTO", "车险")
    OTHER = ("OTHER", "其他")


class PolicyStatus(LabelledEnum):
    """Policy status (保单状态)."""

    PENDING = ("PENDING", "待生效")
    IN_FORCE = ("IN_FORCE", "有效")
    LAPSED = ("LAPSED", "失效")
    SURRENDERED = ("SURRENDERED", "退保")
    MATURED = ("MATURED", "满期")
    CANCELLED = ("CANCELLED", "撤销")
    CLAIMED_TERMINATED = ("CLAIMED_TERMINATED", "理赔终止")


#: The legal status changes (DOMAIN.md §2); LAPSED → IN_FORCE is reinstatement (复效).
TRANSITIONS: dict[PolicyStatus, frozenset[PolicyStatus]] = {
    PolicyStatus.PENDING: frozenset({PolicyStatus.IN_FORCE}),
    PolicyStatus.IN_FORCE: frozenset(
        {
            PolicyStatus.LAPSED,
            PolicyStatus.SURRENDERED,
            PolicyStatus.MATURED,
            PolicyStatus.CANCELLED,
            PolicyStatus.CLAIMED_TERMINATED,
        }
    ),
    PolicyStatus.LAPSED: frozenset({PolicyStatus.IN_FORCE}),
    PolicyStatus.SURRENDERED: frozenset(),
    PolicyStatus.MATURED: frozenset(),
    PolicyStatus.CANCELLED: frozenset(),
    PolicyStatus.CLAIMED_TERMINATED: frozenset(),
}

#: The statuses that end a policy in force (every move out of IN_FORCE).
ENDED = TRANSITIONS[PolicyStatus.IN_FORCE]


class EndReason(LabelledEnum):
    """Why a policy stopped (recorded on the status change; used by the credit grade)."""

    NON_PAYMENT = ("NON_PAYMENT", "欠缴保费")
    FRAUD = ("FRAUD", "欺诈")
    CUSTOMER_REQUEST = ("CUSTOMER_REQUEST", "客户申请")
    NOT_RENEWED = ("NOT_RENEWED", "未续保")
    OTHER = ("OTHER", "其他")


class PurchaseKind(LabelledEnum):
    """A new policy or a renewal; both count as purchases (DOMAIN.md §2)."""

    NEW = ("NEW", "新单")
    RENEWAL = ("RENEWAL", "续保")


@attrs.frozen
class StatusChange:
    """One dated move of the lifecycle; ``from_status`` is ``None`` for none."""

    on: dt.date
    from_status: PolicyStatus
    to_status: PolicyStatus
    reason: EndReason | None = None


@attrs.frozen
class Purchase:
    """A purchase by the policyholder: a new policy or a renewal, dated, with its premium."""

    on: dt.date
    amount: Money
    kind: PurchaseKind


@attrs.frozen
class MissedPremium:
    """A renewal premium not paid by the end of its grace period (DOMAIN.md §1.3)."""

    due_date: dt.date
    amount: Money


def _share(instance: Beneficiary, attribute: attrs.Attribute[Decimal], value: object) -> None:
    if not isinstance(value, Decimal) or not value.is_finite():
        raise ValidationError("share", "share.type", "must be a Decimal percentage")
    if not (0 < value <= HUNDRED) or value != value.quantize(Decimal("0.01")):
        raise ValidationError("share", "share.range", "must be in (0, 100] with 2 places at most")


def _to_decimal(value: object) -> object:
    if isinstance(value, int | str) and not isinstance(value, bool):
        try:
            return Decimal(value)
        except ArithmeticError:
            return value
    return value


def _optional_text(instance: Any, attribute: attrs.Attribute[Any], value: object) -> None:
    if value is not None:
        check_text(value, attribute.name)


@attrs.frozen
class Beneficiary:
    """A beneficiary (受益人) and their share in percent.

    Either ``customer_id`` (a customer of ours) or ``name`` must be given,
    unless the beneficiary's personal data was erased (``erased``).
    """

    share: Decimal = attrs.field(converter=_to_decimal, validator=_share)
    customer_id: str | None = None
    name: PersonName | None = None
    relation: str | None = attrs.field(default=None, validator=_optional_text, repr=mask_text)
    erased: bool = False

    def __attrs_post_init__(self) -> None:
        if self.customer_id is None and self.name is None and not self.erased:
            raise ValidationError("customer_id", "beneficiary.who", "give a customer id or a name")
        if self.customer_id is not None:
            check_id(self.customer_id, "customer_id")


def _beneficiaries_tuple(items: Iterable[Beneficiary]) -> tuple[Beneficiary, ...]:
    return tuple(items)


def _history_tuple(items: Iterable[StatusChange]) -> tuple[StatusChange, ...]:
    return tuple(items)


def _purchases_tuple(items: Iterable[Purchase]) -> tuple[Purchase, ...]:
    return tuple(items)


def _missed_premiums_tuple(items: Iterable[MissedPremium]) -> tuple[MissedPremium, ...]:
    return tuple(items)


def _positive_term(instance: Policy, attribute: attrs.Attribute[int], value: object) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= 200:
        raise ValidationError("term_years", "term.range", "must be a whole number of years 1–200")


def _id_field(instance: Any, attribute: attrs.Attribute[Any], value: object) -> None:
    check_id(value, attribute.name)


def _optional_name(instance: Any, attribute: attrs.Attribute[Any], value: object) -> None:
    if value is not None:
        check_text(value, attribute.name, required=True)


def _money(instance: Any, attribute: attrs.Attribute[Any], value: object) -> None:
    if not isinstance(value, Money):
        raise ValidationError(attribute.name, "type", "must be Money")


@attrs.frozen
class Policy:
    """The policy aggregate.

    ``insurer`` is ``None`` for a policy of our company and names the other
    insurer for a holding elsewhere; only our policies make purchases.
    ``version`` is 0 until the policy is first stored; stores raise
    :class:`~insurcrm.errors.ConcurrencyError` when a stale copy is saved.

    Raises:
        ValidationError: beneficiary shares that do not add up to 100 %,
            premium and sum assured in different currencies, bad ids or terms.
    """

    id: str = attrs.field(validator=_id_field)
    number: str = attrs.field(validator=_id_field)
    policyholder_id: str = attrs.field(validator=_id_field)
    insured_id: str = attrs.field(validator=_id_field)
    product_line: ProductLine = attrs.field(validator=attrs.validators.instance_of(ProductLine))
    start_date: dt.date = attrs.field(validator=attrs.validators.instance_of(dt.date))
    term_years: int = attrs.field(validator=_positive_term)
    sum_assured: Money = attrs.field(validator=_money)
    annual_premium: Money = attrs.field(validator=_money)
    insurer: str | None = attrs.field(default=None, validator=_optional_name)
    beneficiaries: tuple[Beneficiary, ...] = attrs.field(default=(), converter=_beneficiaries_tuple)
    status: PolicyStatus = PolicyStatus.PENDING
    history: tuple[StatusChange, ...] = attrs.field(default=(), converter=_history_tuple)
    purchases: tuple[Purchase, ...] = attrs.field(default=(), converter=_purchases_tuple)
    missed_premiums: tuple[MissedPremium, ...] = attrs.field(
        default=(), converter=_missed_premiums_tuple
    )
    campaign: str | None = attrs.field(default=None, validator=_optional_name)
    version: int = 0
    events: tuple[DomainEvent, ...] = attrs.field(default=(), eq=False, repr=False)

    def __attrs_post_init__(self) -> None:
        if self.sum_assured.currency != self.annual_premium.currency:
            raise ValidationError(
                "annual_premium", "money.mixed", "must be in the currency of sum_assured"
            )
        if self.beneficiaries:
            total = sum((b.share for b in self.beneficiaries), Decimal(0))
            if total != HUNDRED:
                raise ValidationError(
                    "beneficiaries", "beneficiary.shares", "shares must add up to 100 %"
                )
        if self.history and self.history[-1].to_status is not self.status:
            raise ValidationError("status", "status.history", "must equal the last status change")

    # -- facts ---------------------------------------------------------------

    @property
    def is_ours(self) -> bool:
        """True for a policy our company issued."""
        return self.insurer is None

    @property
    def is_long_term(self) -> bool:
        """Long-term policy (长险): term longer than one year."""
        return self.term_years > 1

    @property
    def currency(self) -> str:
        """The currency of every amount on this policy."""
        return self.annual_premium.currency

    @property
    def in_force(self) -> bool:
        """True while the status is IN_FORCE."""
        return self.status is PolicyStatus.IN_FORCE

    def status_on(self, day: dt.date) -> PolicyStatus:
        """The status the policy had at the end of ``day``, from its history."""
        status = PolicyStatus.PENDING
        for change in self.history:
            if change.on > day:
                break
            status = change.to_status
        return status

    # -- lifecycle -----------------------------------------------------------

    def transition(self, to: PolicyStatus, on: dt.date, reason: EndReason | None = None) -> Policy:
        """Move to status ``to`` on date ``on``.

        Activating (PENDING → IN_FORCE) a policy of ours records the new-policy
        purchase on that date.

        Raises:
            RuleViolation: the move is not in :data:`TRANSITIONS`, or ``on`` is
                before the last recorded change.
        """
        if to not in TRANSITIONS[self.status]:
            raise RuleViolation(
                f"policy {self.number}: {self.status.name} → {to.name} is not a legal transition"
            )
        if self.history and on < self.history[-1].on:
            raise RuleViolation(
                f"policy {self.number}: a status change cannot predate the last one"
            )
        change = StatusChange(on=on, from_status=self.status, to_status=to, reason=reason)
        purchases = self.purchases
        if self.status is PolicyStatus.PENDING and self.is_ours:
            purchases = (*purchases, Purchase(on, self.annual_premium, PurchaseKind.NEW))
        event = PolicyStatusChanged(
            self.policyholder_id,
            on,
            self.id,
            self.status.name,
            to.name,
            reason.name if reason is not None else None,
        )
        return attrs.evolve(
            self,
            status=to,
            history=(*self.history, change),
            purchases=purchases,
            events=(*self.events, event),
        )

    def activate(self, on: dt.date) -> Policy:
        """Put a pending policy in force (承保); records the new-policy purchase."""
        return self.transition(PolicyStatus.IN_FORCE, on)

    def lapse(self, on: dt.date, reason: EndReason | None = EndReason.NON_PAYMENT) -> Policy:
        """The policy lapses (失效), by default for non-payment."""
        return self.transition(PolicyStatus.LAPSED, on, reason)

    def reinstate(self, on: dt.date) -> Policy:
        """Reinstate a lapsed policy (复效)."""
        return self.transition(PolicyStatus.IN_FORCE, on)

    def surrender(self, on: dt.date) -> Policy:
        """The policyholder surrenders the policy (退保)."""
        return self.transition(PolicyStatus.SURRENDERED, on, EndReason.CUSTOMER_REQUEST)

    def mature(self, on: dt.date) -> Policy:
        """The policy reaches its term (满期)."""
        return self.transition(PolicyStatus.MATURED, on)

    def cancel(self, on: dt.date, reason: EndReason) -> Policy:
        """Cancel the policy (撤销), stating why (non-payment and fraud count against credit)."""
        return self.transition(PolicyStatus.CANCELLED, on, reason)

    def terminate_by_claim(self, on: dt.date) -> Policy:
        """A claim ends the policy (理赔终止)."""
        return self.transition(PolicyStatus.CLAIMED_TERMINATED, on)

    def renew(self, on: dt.date, premium: Money | None = None) -> Policy:
        """Record a renewal (续保/续期): a purchase of ``premium`` (default: the annual premium).

        Raises:
            RuleViolation: the policy is not ours, not in force, or ``on``
                predates the latest purchase.
        """
        if not self.is_ours:
            raise RuleViolation(f"policy {self.number}: only our policies can be renewed here")
        if not self.in_force:
            raise RuleViolation(f"policy {self.number}: only a policy in force can be renewed")
        if self.purchases and on < self.purchases[-1].on:
            raise RuleViolation(f"policy {self.number}: a renewal cannot predate the last purchase")
        if self.history and on < self.history[-1].on:
            raise RuleViolation(
                f"policy {self.number}: a renewal cannot predate the last status change"
            )
        amount = self._amount(premium)
        return attrs.evolve(
            self,
            annual_premium=amount,
            purchases=(*self.purchases, Purchase(on, amount, PurchaseKind.RENEWAL)),
        )

    def _check_renewal_day(self, on: dt.date, what: str) -> None:
        """Refuse ``on`` unless the policy was ours and in force at the end of it, after its
        new-policy purchase: the days a renewal premium can be paid or fall due."""
        if not self.is_ours:
            raise RuleViolation(
                f"policy {self.number}: only our policies' premiums are recorded here"
            )
        if self.status_on(on) is not PolicyStatus.IN_FORCE:
            raise RuleViolation(f"policy {self.number}: the policy was not in force on that day")
        if not self.purchases or on <= self.purchases[0].on:
            raise RuleViolation(f"policy {self.number}: {what} after the new-policy purchase")

    def _amount(self, amount: Money | None) -> Money:
        """``amount``, by default the annual premium; refused in another currency."""
        amount = amount if amount is not None else self.annual_premium
        if amount.currency != self.currency:
            raise ValidationError("premium", "money.mixed", "must be in the policy's currency")
        return amount

    def record_renewal(self, on: dt.date, premium: Money | None = None) -> Policy:
        """Record a renewal paid on a past day (a payment history brought over from another
        system): unlike :meth:`renew`, ``on`` may come before the latest purchase or status
        change, and the annual premium stays the policy's current one.

        The renewal takes its place among the purchases in date order (after those of the
        same day), so figures read from purchases see it on its day.

        Raises:
            RuleViolation: the policy is not ours, was not in force at the end of ``on``,
                or ``on`` is not after its new-policy purchase.
            ValidationError: ``premium`` is in another currency than the policy's.
        """
        self._check_renewal_day(on, "a renewal comes")
        renewal = Purchase(on, self._amount(premium), PurchaseKind.RENEWAL)
        place = _after_last([p.on for p in self.purchases], on)
        purchases = (*self.purchases[:place], renewal, *self.purchases[place:])
        return attrs.evolve(self, purchases=purchases)

    def record_unpaid_renewal(self, due_date: dt.date, amount: Money | None = None) -> Policy:
        """Record a renewal premium that fell due on a past day and was not paid by the end
        of its grace period (a missed premium of a payment history brought over from another
        system), checked the way :meth:`record_renewal` checks a renewal's day.

        :meth:`record_missed_premium` records one as it happens, unchecked; this one is for
        a history, so the due date must be a day the policy was ours and in force, after
        its new-policy purchase (the policy lapses only at the end of the grace period).
        The missed premiums stay in due-date order.

        Raises:
            RuleViolation: the policy is not ours, was not in force at the end of
                ``due_date``, or ``due_date`` is not after its new-policy purchase.
            ValidationError: ``amount`` is in another currency than the policy's.
        """
        self._check_renewal_day(due_date, "a renewal premium falls due")
        missed = MissedPremium(due_date, self._amount(amount))
        place = _after_last([m.due_date for m in self.missed_premiums], due_date)
        kept = self.missed_premiums
        return attrs.evolve(self, missed_premiums=(*kept[:place], missed, *kept[place:]))

    def record_missed_premium(self, due_date: dt.date, amount: Money | None = None) -> Policy:
        """Record a renewal premium unpaid at the end of its grace period.

        Raises:
            ValidationError: ``amount`` is in another currency than the policy's.
        """
        missed = MissedPremium(due_date, self._amount(amount))
        return attrs.evolve(self, missed_premiums=(*self.missed_premiums, missed))

    def forget_beneficiary(self, customer_id: str) -> Policy:
        """The policy without the personal data of beneficiary ``customer_id`` (erasure, §10.4).

        Only the entries naming that customer lose their name and relation (and are
        marked ``erased``); their customer id (an anonymous stub's id) and share stay,
        so the shares still add up to 100 %. Other beneficiaries are other people,
        whose data is not touched. Returns the same object when nothing changes.
        """
        changed = False
        kept: list[Beneficiary] = []
        for beneficiary in self.beneficiaries:
            if beneficiary.customer_id == customer_id and (
                beneficiary.name is not None
                or beneficiary.relation is not None
                or not beneficiary.erased
            ):
                beneficiary = attrs.evolve(beneficiary, name=None, relation=None, erased=True)
                changed = True
            kept.append(beneficiary)
        return attrs.evolve(self, beneficiaries=tuple(kept)) if changed else self


def _after_last(days: list[dt.date], day: dt.date) -> int:
    """The place for ``day`` in ``days``: after the last one on or before it (the start when
    none is), so entries of one day keep the order they were recorded in."""
    return next((i + 1 for i in range(len(days) - 1, -1, -1) if days[i] <= day), 0)


def ours_in_force(policies: Iterable[Policy], as_of: dt.date) -> list[Policy]:
    """The policies of our company among ``policies`` that are in force on ``as_of``."""
    return [p for p in policies if p.is_ours and p.status_on(as_of) is PolicyStatus.IN_FORCE]
