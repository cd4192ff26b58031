"""A customer's tier membership and how it moves (DOMAIN.md §6).

:func:`evaluate_tier` is the one rule: given the ladder, the customer's
figures, a date and their membership (None before the first evaluation), it
returns the membership as of that date and the reasons:

* a customer is **enrolled** at their qualifying tier the first time;
* an **upgrade** happens at once, straight to the qualifying tier;
* a customer below their tier's criteria is **failing** from the first
  evaluation that sees it; the clock stops when they qualify again;
* a **downgrade** follows :class:`~insurcrm.domain.tiers.DowngradeRules`:
  by default on the review date (the anniversary of the day the current tier
  began, or the first evaluation after it when a run was missed), one tier,
  only when the customer has been failing since at least ``grace_days``
  before the review date. There is never a downgrade on the day the current
  tier began, so evaluating the same date twice changes nothing;
* a manual :class:`TierGrant` is either a FLOOR (rules apply, but the
  customer is never below the granted tier until it expires) or a PIN (the
  customer holds exactly the granted tier until it expires). When it expires
  the rules apply again from that day.

Every change is kept in the membership's ``history`` with its date, the tiers
and the reasons, and raises a domain event.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import attrs

from insurcrm.domain.events import (
    DomainEvent,
    TierDowngraded,
    TierEnrolled,
    TierGranted,
    TierUpgraded,
)
from insurcrm.domain.labels import LabelledEnum
from insurcrm.domain.policies import check_id
from insurcrm.domain.privacy import mask_text
from insurcrm.domain.tiers import (
    CriterionResult,
    DowngradeMode,
    DropPolicy,
    TierFigures,
    TierLadder,
)
from insurcrm.domain.values import check_text
from insurcrm.errors import RuleViolation, ValidationError

__all__ = [
    "TIER_MOVES",
    "GrantKind",
    "TierChange",
    "TierChangeKind",
    "TierEvaluation",
    "TierGrant",
    "TierMembership",
    "evaluate_tier",
    "grant_tier",
]


class GrantKind(LabelledEnum):
    """What a manually granted tier means."""

    FLOOR = ("FLOOR", "保底级别")
    PIN = ("PIN", "锁定级别")


class TierChangeKind(LabelledEnum):
    """What happened to a membership."""

    ENROLLED = ("ENROLLED", "入会")
    UPGRADED = ("UPGRADED", "升级")
    DOWNGRADED = ("DOWNGRADED", "降级")
    GRANTED = ("GRANTED", "人工授予")
    GRANT_ENDED = ("GRANT_ENDED", "授予到期")


#: The changes that move a membership to a tier (a grant moves it by an upgrade or downgrade
#: recorded with it; a grant's end leaves it where it is).
TIER_MOVES = frozenset(
    {TierChangeKind.ENROLLED, TierChangeKind.UPGRADED, TierChangeKind.DOWNGRADED}
)


def _reason(instance: Any, attribute: attrs.Attribute[Any], value: object) -> None:
    check_text(value, attribute.name, required=True)
    assert isinstance(value, str)
    if len(value) > 500:
        raise ValidationError(attribute.name, "text.length", "must be at most 500 characters")


@attrs.frozen
class TierGrant:
    """A tier granted by hand, from ``granted_on`` until (not including) ``expires_on``.

    The ``reason`` is free text written by staff; it is masked in ``repr`` and
    erased with the customer's personal data.

    Raises:
        ValidationError: an empty reason or ``expires_on`` not after ``granted_on``.
    """

    tier: str = attrs.field(validator=lambda _, a, v: check_text(v, a.name, required=True))
    kind: GrantKind
    reason: str = attrs.field(validator=_reason, repr=mask_text)
    granted_on: dt.date
    expires_on: dt.date

    def __attrs_post_init__(self) -> None:
        if not isinstance(self.kind, GrantKind):
            raise ValidationError("kind", "enum.value", "must be FLOOR or PIN")
        if self.expires_on <= self.granted_on:
            raise ValidationError("expires_on", "grant.expiry", "must be after granted_on")

    def active_on(self, day: dt.date) -> bool:
        """True from ``granted_on`` until the day before ``expires_on``."""
        return self.granted_on <= day < self.expires_on


@attrs.frozen
class TierChange:
    """One entry of a membership's history."""

    on: dt.date
    kind: TierChangeKind
    from_tier: str | None
    to_tier: str
    reasons: tuple[str, ...] = ()


@attrs.frozen
class TierMembership:
    """A customer's place on the tier ladder (an aggregate, one per customer).

    Attributes:
        customer_id: the customer.
        tier: the tier they hold.
        since: the day they reached it (anniversaries of it are review dates).
        failing_since: the first evaluation at which they no longer qualified for
            ``tier``, while that lasts.
        last_review: the last review date that was held.
        grant: a manual grant, while it lasts.
        history: every change, oldest first.
        version: 0 until first stored; bumped by every save.
        events: domain events recorded since the membership was loaded.
    """

    customer_id: str = attrs.field(validator=lambda _, a, v: check_id(v, a.name))
    tier: str
    since: dt.date
    failing_since: dt.date | None = None
    last_review: dt.date | None = None
    grant: TierGrant | None = None
    history: tuple[TierChange, ...] = ()
    version: int = 0
    events: tuple[DomainEvent, ...] = attrs.field(default=(), eq=False, repr=False)

    @property
    def id(self) -> str:
        """The membership's id: its customer's id."""
        return self.customer_id

    @property
    def reviewed_until(self) -> dt.date:
        """Reviews on or before this date are held: the later of ``since`` and ``last_review``."""
        return self.since if self.last_review is None else max(self.since, self.last_review)

    @property
    def last_changed(self) -> dt.date:
        """The latest date the membership records; it cannot be evaluated before it."""
        days = [self.since]
        days += [d for d in (self.failing_since, self.last_review) if d is not None]
        if self.history:
            days.append(self.history[-1].on)
        return max(days)

    def tier_on(self, day: dt.date) -> str | None:
        """The tier held at the end of ``day`` (from the history: its latest enrolment,
        upgrade or downgrade on or before that day), or None if not enrolled by then."""
        for change in reversed(self.history):
            if change.on <= day and change.kind in TIER_MOVES:
                return change.to_tier
        return None

    def without_personal_data(self) -> TierMembership:
        """The membership with the grant's free-text reason erased (§10.4)."""
        if self.grant is None:
            return self
        return attrs.evolve(self, grant=attrs.evolve(self.grant, reason="erased"))


@attrs.frozen
class TierEvaluation:
    """The result of :func:`evaluate_tier`.

    The explanations (``criteria``, ``to_next``, ``to_keep``, ``reasons``) are
    worked out when asked for, so a review over millions of customers pays
    only for the ones it reads.

    Attributes:
        as_of: the evaluation date.
        qualifying: the highest tier whose criteria the customer meets.
        tier: the tier held after this evaluation.
        membership: the membership after this evaluation (save it when ``changed``).
        change: the change made on this date, if any.
        at_risk: whether the customer holds a tier they no longer qualify for.
        keep_by: the date they would be downgraded if nothing changes (None when
            not at risk or when the rules never downgrade).
        ladder: the ladder evaluated against.
        figures: the customer's figures.
        changed: True when this evaluation changed the membership (it needs saving):
            a ``change``, or only the failing clock started or stopped or a review
            held without a move.
    """

    as_of: dt.date
    qualifying: str
    tier: str
    membership: TierMembership
    change: TierChange | None
    at_risk: bool
    keep_by: dt.date | None
    ladder: TierLadder = attrs.field(repr=False, eq=False)
    figures: TierFigures = attrs.field(repr=False)
    held_by: tuple[str, ...] | None = attrs.field(default=None, repr=False)
    changed: bool = False

    @property
    def criteria(self) -> tuple[CriterionResult, ...]:
        """The qualifying tier's criteria, checked."""
        return self.ladder.tier(self.qualifying).check(self.figures)

    @property
    def next_tier(self) -> str | None:
        """The tier above the qualifying one (None at the top)."""
        q = self.ladder.index(self.qualifying)
        return self.ladder.tiers[q + 1].code if q + 1 < len(self.ladder.tiers) else None

    @property
    def to_next(self) -> tuple[str, ...]:
        """What is missing for :attr:`next_tier`, e.g.
        ``¥3,200.00 more annual premium in force to reach GOLD``."""
        if self.next_tier is None:
            return ()
        return _missing(self.ladder, self.ladder.index(self.next_tier), self.figures)

    @property
    def to_keep(self) -> tuple[str, ...]:
        """What an at-risk customer needs to keep their tier (by :attr:`keep_by`)."""
        if not self.at_risk:
            return ()
        return _missing(self.ladder, self.ladder.index(self.tier), self.figures, "keep")

    @property
    def reasons(self) -> tuple[str, ...]:
        """Why the customer holds :attr:`tier`."""
        if self.change is not None:
            return self.change.reasons
        if self.held_by is not None:
            return self.held_by
        qualifies = _qualifying_reasons(
            self.ladder, self.ladder.index(self.qualifying), self.figures
        )
        if self.at_risk:
            since = self.membership.failing_since
            return (
                f"keeps {self.tier} until the downgrade rules move them "
                f"(below its criteria since {since})",
                *qualifies,
            )
        return qualifies


def _missing(
    ladder: TierLadder, index: int, figures: TierFigures, verb: str = "reach"
) -> tuple[str, ...]:
    tier = ladder.tiers[index]
    gaps = [r.gap for r in tier.check(figures) if r.gap is not None]
    if not gaps:
        return ()
    joiner = " and " if tier.combine.name == "ALL" else ", or "
    return (f"{joiner.join(gaps)} to {verb} {tier.code}",)


def _event(change: TierChange, customer_id: str) -> DomainEvent:
    if change.kind is TierChangeKind.ENROLLED:
        return TierEnrolled(customer_id, change.on, change.to_tier, change.reasons)
    assert change.from_tier is not None
    if change.kind is TierChangeKind.DOWNGRADED:
        return TierDowngraded(
            customer_id, change.on, change.from_tier, change.to_tier, change.reasons
        )
    return TierUpgraded(customer_id, change.on, change.from_tier, change.to_tier, change.reasons)


def _qualifying_reasons(ladder: TierLadder, q: int, figures: TierFigures) -> tuple[str, ...]:
    tier = ladder.tiers[q]
    met = [r.detail for r in tier.check(figures) if r.met]
    if not met:
        return (f"{tier.code} is every customer's tier",)
    return (f"qualifies for {tier.code}: {'; '.join(met)}",)


def _due_review(ladder: TierLadder, m: TierMembership, as_of: dt.date) -> dt.date | None:
    """The latest review date on or before ``as_of`` not yet held for the current tier."""
    dates = ladder.rules.review_dates(m.since, m.reviewed_until, as_of)
    return dates[-1] if dates else None


def _keep_by(
    ladder: TierLadder, m: TierMembership, as_of: dt.date, floor: int, current: int
) -> dt.date | None:
    """The day a failing customer would be downgraded if nothing changes."""
    rules = ladder.rules
    if rules.mode is DowngradeMode.NEVER or m.failing_since is None:
        return None
    grace = dt.timedelta(days=rules.grace_days)
    earliest = max(as_of, m.since + dt.timedelta(days=1))
    if m.grant is not None and m.grant.active_on(as_of) and floor >= current:
        earliest = max(earliest, m.grant.expires_on)
    if rules.mode is DowngradeMode.IMMEDIATELY:
        return max(earliest, m.failing_since + grace)
    horizon = max(earliest, m.failing_since + grace)
    for day in rules.review_dates(
        m.since, m.reviewed_until, horizon.replace(year=horizon.year + 2, day=1)
    ):
        if day >= earliest and m.failing_since <= day - grace:
            return day
    return None


def evaluate_tier(
    ladder: TierLadder,
    customer_id: str,
    figures: TierFigures,
    as_of: dt.date,
    membership: TierMembership | None = None,
) -> TierEvaluation:
    """Evaluate a customer's tier as of ``as_of`` (see the module docstring for the rules).

    Args:
        ladder: the tier ladder and its downgrade rules.
        customer_id: the customer.
        figures: the customer's indicator figures as of ``as_of``.
        as_of: the evaluation date.
        membership: their membership so far; None enrols them.

    Raises:
        RuleViolation: ``as_of`` is before the membership's last recorded date,
            the membership belongs to another customer, or its tier (or its grant's
            tier) is not on ``ladder``.
    """
    q = ladder.qualifying(figures)

    def why() -> tuple[str, ...]:
        return _qualifying_reasons(ladder, q, figures)

    if membership is None:
        code = ladder.tiers[q].code
        enrolled = TierChange(as_of, TierChangeKind.ENROLLED, None, code, why())
        m = TierMembership(customer_id, code, as_of, history=(enrolled,))
        m = attrs.evolve(m, events=(_event(enrolled, customer_id),))
        return _result(ladder, figures, as_of, q, m, enrolled, None, changed=True)
    if membership.customer_id != customer_id:
        raise RuleViolation("the membership belongs to another customer")
    if as_of < membership.last_changed:
        raise RuleViolation(
            f"tier membership of customer {customer_id} was last changed on "
            f"{membership.last_changed}; evaluate on or after that date"
        )
    m = membership
    current = ladder.index(m.tier)
    rules = ladder.rules
    changes: list[TierChange] = []
    grant = m.grant
    if grant is not None and as_of >= grant.expires_on:
        changes.append(
            TierChange(
                as_of,
                TierChangeKind.GRANT_ENDED,
                m.tier,
                m.tier,
                (f"the {grant.kind.name} grant of {grant.tier} expired on {grant.expires_on}",),
            )
        )
        grant = None
        m = attrs.evolve(m, grant=None)
    new = current
    failing = m.failing_since
    last_review = m.last_review
    reasons: tuple[str, ...] | None = None
    if grant is not None and grant.kind is GrantKind.PIN:
        new = ladder.index(grant.tier)
        failing = None
        reasons = (f"pinned at {grant.tier} by a manual grant until {grant.expires_on}",)
    else:
        floor = ladder.index(grant.tier) if grant is not None else 0
        if q > current:
            new = q
        if grant is not None and new < floor:
            new = floor
            reasons = (f"held at {grant.tier} by a manual FLOOR grant until {grant.expires_on}",)
        if q >= new:
            failing = None
        else:
            failing = failing or as_of
            review = _due_review(ladder, m, as_of)
            grace = dt.timedelta(days=rules.grace_days)
            down = False
            why_down = ""
            if rules.mode is DowngradeMode.AT_REVIEW and review is not None:
                last_review = review
                down = failing <= review - grace
                why_down = f"annual review of {review}: failing to qualify since {failing}"
            elif rules.mode is DowngradeMode.IMMEDIATELY:
                down = as_of - failing >= grace
                why_down = f"failing to qualify since {failing}, grace period over"
            if down and m.since < as_of:
                target = new - 1 if rules.drop is DropPolicy.ONE_TIER else q
                target = max(target, floor, q)
                if target < new:
                    new = target
                    reasons = (why_down, *why())
                    failing = as_of if q < new else None
    if new != current:
        kind = TierChangeKind.UPGRADED if new > current else TierChangeKind.DOWNGRADED
        because = reasons if reasons is not None else why()
        changes.append(TierChange(as_of, kind, m.tier, ladder.tiers[new].code, because))
        m = attrs.evolve(m, tier=ladder.tiers[new].code, since=as_of)
    m = attrs.evolve(
        m,
        failing_since=failing,
        last_review=last_review,
        history=(*m.history, *changes),
        events=(
            *m.events,
            *(_event(c, customer_id) for c in changes if c.kind is not TierChangeKind.GRANT_ENDED),
        ),
    )
    change: TierChange | None = changes[-1] if changes else None
    return _result(ladder, figures, as_of, q, m, change, reasons, changed=m != membership)


def _result(
    ladder: TierLadder,
    figures: TierFigures,
    as_of: dt.date,
    q: int,
    m: TierMembership,
    change: TierChange | None,
    held_by: tuple[str, ...] | None,
    *,
    changed: bool,
) -> TierEvaluation:
    held = ladder.index(m.tier)
    at_risk = held > q and not (m.grant is not None and m.grant.kind is GrantKind.PIN)
    floor = (
        ladder.index(m.grant.tier) if m.grant is not None and m.grant.kind is GrantKind.FLOOR else 0
    )
    return TierEvaluation(
        as_of=as_of,
        qualifying=ladder.tiers[q].code,
        tier=m.tier,
        membership=m,
        change=change,
        at_risk=at_risk,
        keep_by=_keep_by(ladder, m, as_of, floor, held) if at_risk else None,
        ladder=ladder,
        figures=figures,
        held_by=held_by,
        changed=changed,
    )


def grant_tier(
    ladder: TierLadder,
    membership: TierMembership,
    grant: TierGrant,
) -> TierMembership:
    """Grant ``grant.tier`` by hand from ``grant.granted_on``.

    A FLOOR above the held tier, or any PIN, moves the customer to the granted
    tier at once; a FLOOR at or below it only guards against falling below.
    A new grant replaces any earlier one.

    Raises:
        RuleViolation: the tier is not on the ladder, or the grant predates the
            membership's last recorded date.
    """
    target = ladder.index(grant.tier)
    current = ladder.index(membership.tier)
    on = grant.granted_on
    if on < membership.last_changed:
        raise RuleViolation(
            f"tier membership of customer {membership.customer_id} was last changed on "
            f"{membership.last_changed}; a grant cannot predate it"
        )
    why = (f"manual {grant.kind.name} grant of {grant.tier} until {grant.expires_on}",)
    changes = [TierChange(on, TierChangeKind.GRANTED, membership.tier, grant.tier, why)]
    m = attrs.evolve(membership, grant=grant)
    moves = grant.kind is GrantKind.PIN or target > current
    if moves and target != current:
        kind = TierChangeKind.UPGRADED if target > current else TierChangeKind.DOWNGRADED
        changes.append(TierChange(on, kind, membership.tier, grant.tier, why))
        m = attrs.evolve(m, tier=grant.tier, since=on, failing_since=None)
    event = TierGranted(membership.customer_id, on, grant.tier, grant.kind.name, grant.expires_on)
    moved = [_event(c, membership.customer_id) for c in changes[1:]]
    return attrs.evolve(m, history=(*m.history, *changes), events=(*m.events, event, *moved))
