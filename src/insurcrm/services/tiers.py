"""Service tiers through a unit of work (§6): load a ladder, evaluate one customer,
grant a tier by hand, and review every customer for a date.

The review is idempotent: a membership is saved only when the evaluation
changed it, and evaluating the same date twice changes nothing, so running the
review again for a date (or after a crash part-way) is safe.
"""

from __future__ import annotations

import datetime as dt
import itertools
import json
import tomllib
from collections import Counter
from collections.abc import Callable, Sequence
from pathlib import Path

import attrs

from insurcrm.domain.classification import CustomerFacts, SegmentationConfig, tier_figures
from insurcrm.domain.tier_membership import (
    GrantKind,
    TierChangeKind,
    TierEvaluation,
    TierGrant,
    TierMembership,
    evaluate_tier,
    grant_tier,
)
from insurcrm.domain.tiers import DEFAULT_LADDER, TierLadder
from insurcrm.domain.unit_of_work import UnitOfWork
from insurcrm.errors import RuleViolation, ValidationError
from insurcrm.services.customers import is_erased
from insurcrm.services.segmentation import facts_of, gather_facts

__all__ = [
    "AtRisk",
    "TierReview",
    "count_tier_changes",
    "evaluate_customer_tier",
    "grant_customer_tier",
    "load_ladder",
    "replay_tier_reviews",
    "review_tiers",
]

Progress = Callable[[int, int], None]

#: Memberships written per transaction by the review.
REVIEW_BATCH = 500


def load_ladder(path: str | Path) -> TierLadder:
    """Read a company's ladder from a TOML (``.toml``) or JSON (any other suffix) file.

    See :meth:`TierLadder.from_data` for the layout.

    Raises:
        ValidationError: the file cannot be read or parsed (field: the file name), or
            the ladder is wrong (field: ``<file>:<place>``, e.g.
            ``ladder.toml:tiers[2].criteria[0].indicator``).
    """
    file = Path(path)
    try:
        text = file.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as error:
        raise ValidationError(
            file.name, "ladder.file", f"cannot be read ({type(error).__name__})"
        ) from None
    try:
        data = tomllib.loads(text) if file.suffix.lower() == ".toml" else json.loads(text)
    except tomllib.TOMLDecodeError as error:
        raise ValidationError(file.name, "ladder.syntax", f"is not valid TOML: {error}") from None
    except json.JSONDecodeError as error:
        raise ValidationError(
            file.name, "ladder.syntax", f"is not valid JSON: line {error.lineno}"
        ) from None
    try:
        return TierLadder.from_data(data)
    except ValidationError as error:
        raise ValidationError(f"{file.name}:{error.field}", error.rule, error.message) from None


@attrs.frozen
class AtRisk:
    """A customer holding a tier they no longer qualify for."""

    customer_id: str
    tier: str
    qualifying: str
    keep_by: dt.date | None
    to_keep: tuple[str, ...]


@attrs.frozen
class TierReview:
    """What a tier review did.

    Attributes:
        as_of: the review date.
        per_tier: customers per tier after the review, every tier of the ladder listed.
        enrolled: customers who got their first tier.
        upgraded: customers moved up.
        downgraded: customers moved down.
        grants_ended: manual grants that expired.
        unchanged: customers whose membership did not change.
        skipped: erased customers, and customers whose membership has a later date.
        at_risk: customers who would fall if nothing changes, soonest first.
    """

    as_of: dt.date
    per_tier: dict[str, int]
    enrolled: int
    upgraded: int
    downgraded: int
    grants_ended: int
    unchanged: int
    skipped: int
    at_risk: tuple[AtRisk, ...]

    def downgrades_due(self, within_days: int) -> tuple[AtRisk, ...]:
        """The at-risk customers whose downgrade falls within ``within_days`` of the review."""
        until = self.as_of + dt.timedelta(days=within_days)
        return tuple(a for a in self.at_risk if a.keep_by is not None and a.keep_by <= until)


def _evaluate(
    ladder: TierLadder,
    facts: CustomerFacts,
    as_of: dt.date,
    membership: TierMembership | None,
    config: SegmentationConfig,
) -> TierEvaluation:
    figures = tier_figures(facts, as_of, config)
    return evaluate_tier(ladder, facts.customer.id, figures, as_of, membership)


def review_tiers(
    uow: UnitOfWork,
    as_of: dt.date,
    ladder: TierLadder = DEFAULT_LADDER,
    config: SegmentationConfig | None = None,
    progress: Progress | None = None,
) -> TierReview:
    """Evaluate every customer's tier as of ``as_of`` and store the changes.

    Customers are read in one transaction; changed memberships are written in
    transactions of :data:`REVIEW_BATCH`, each with its events. Erased
    customers are skipped, as are customers whose membership already records
    a later date (a review for an earlier date cannot rewrite history).

    Raises:
        RuleViolation: a stored tier is not on ``ladder`` (a ladder that dropped a
            tier needs its members moved first).
        ConcurrencyError: another writer changed a membership meanwhile; run the
            review again (it is idempotent).
    """
    return replay_tier_reviews(uow, [as_of], ladder, config, progress)[0]


def replay_tier_reviews(
    uow: UnitOfWork,
    dates: Sequence[dt.date],
    ladder: TierLadder = DEFAULT_LADDER,
    config: SegmentationConfig | None = None,
    progress: Progress | None = None,
) -> list[TierReview]:
    """Run :func:`review_tiers` for each of ``dates`` in order, reading the book once
    (e.g. monthly reviews over a past period to build the tier history).

    Raises:
        ValidationError: ``dates`` are not in increasing order.
    """
    if any(b <= a for a, b in itertools.pairwise(dates)):
        raise ValidationError("dates", "dates.order", "must be in increasing order")
    cfg = config or SegmentationConfig()
    with uow:
        customers = list(uow.customers.iterate())
        policies = list(uow.policies.iterate())
        memberships = {m.customer_id: m for m in uow.tiers.iterate()}
    reviews = []
    for as_of in dates:
        facts = gather_facts(customers, policies, as_of)
        facts.sort(key=lambda f: f.customer.id)
        review, changed = _review(ladder, facts, memberships, as_of, cfg, progress)
        for stored in _write(uow, changed):
            memberships[stored.customer_id] = stored
        reviews.append(review)
    return reviews


def _review(
    ladder: TierLadder,
    facts: Sequence[CustomerFacts],
    memberships: dict[str, TierMembership],
    as_of: dt.date,
    cfg: SegmentationConfig,
    progress: Progress | None,
) -> tuple[TierReview, list[TierMembership]]:
    kinds: Counter[TierChangeKind] = Counter()
    changed: list[TierMembership] = []
    at_risk: list[AtRisk] = []
    per_tier: Counter[str] = Counter()
    skipped = unchanged = 0
    total = len(facts)
    for i, f in enumerate(facts, 1):
        old = memberships.get(f.customer.id)
        if f.customer.is_erased or (old is not None and as_of < old.last_changed):
            skipped += 1
            if old is not None:
                per_tier[old.tier] += 1
        else:
            result = _evaluate(ladder, f, as_of, old, cfg)
            per_tier[result.tier] += 1
            if result.changed:
                new = result.membership.history[len(old.history) if old else 0 :]
                kinds.update(c.kind for c in new)
                changed.append(result.membership)
            else:
                unchanged += 1
            if result.at_risk:
                at_risk.append(
                    AtRisk(
                        f.customer.id,
                        result.tier,
                        result.qualifying,
                        result.keep_by,
                        result.to_keep,
                    )
                )
        if progress is not None and (i % 500 == 0 or i == total):
            progress(i, total)
    far = dt.date.max
    at_risk.sort(key=lambda a: (a.keep_by or far, a.customer_id))
    review = TierReview(
        as_of=as_of,
        per_tier={code: per_tier.get(code, 0) for code in ladder.codes},
        enrolled=kinds[TierChangeKind.ENROLLED],
        upgraded=kinds[TierChangeKind.UPGRADED],
        downgraded=kinds[TierChangeKind.DOWNGRADED],
        grants_ended=kinds[TierChangeKind.GRANT_ENDED],
        unchanged=unchanged,
        skipped=skipped,
        at_risk=tuple(at_risk),
    )
    return review, changed


def _store(uow: UnitOfWork, membership: TierMembership) -> TierMembership:
    """Add a new membership (version 0) or save a changed one."""
    if membership.version == 0:
        return uow.tiers.add(membership)
    return uow.tiers.save(membership)


def _write(uow: UnitOfWork, changed: Sequence[TierMembership]) -> list[TierMembership]:
    stored = []
    for start in range(0, len(changed), REVIEW_BATCH):
        with uow:
            for membership in changed[start : start + REVIEW_BATCH]:
                stored.append(_store(uow, membership))
            uow.commit()
    return stored


def evaluate_customer_tier(
    uow: UnitOfWork,
    customer_id: str,
    as_of: dt.date,
    ladder: TierLadder = DEFAULT_LADDER,
    config: SegmentationConfig | None = None,
    *,
    save: bool = False,
) -> TierEvaluation:
    """Evaluate one customer's tier as of ``as_of``: qualifying tier, criteria met and
    missed, what is missing for the next tier, and what keeps their tier.

    With ``save=True`` a changed membership is stored (with its events).

    Raises:
        NotFound: no such customer.
        RuleViolation: ``as_of`` is before the membership's last recorded date; or, with
            ``save``, the customer was erased (the review skips them: no change is due).
    """
    cfg = config or SegmentationConfig()
    with uow:
        facts = facts_of(uow, customer_id, as_of)
        old = uow.tiers.find(customer_id)
        result = _evaluate(ladder, facts, as_of, old, cfg)
        if save and result.changed:
            if facts.customer.is_erased:
                raise RuleViolation(f"customer {customer_id} was erased: no tier change is stored")
            _store(uow, result.membership)
            uow.commit()
    return result


def grant_customer_tier(
    uow: UnitOfWork,
    customer_id: str,
    tier: str,
    kind: GrantKind,
    reason: str,
    on: dt.date,
    expires_on: dt.date,
    ladder: TierLadder = DEFAULT_LADDER,
    config: SegmentationConfig | None = None,
) -> TierMembership:
    """Grant ``tier`` to a customer by hand, as a FLOOR or a PIN, until ``expires_on``.

    A customer without a membership is enrolled first (as of ``on``).

    Raises:
        NotFound: no such customer.
        ValidationError: an empty reason, or ``expires_on`` not after ``on``.
        RuleViolation: ``tier`` is not on the ladder, ``on`` predates the membership, or
            the customer was erased.
    """
    grant = TierGrant(tier, kind, reason, on, expires_on)
    cfg = config or SegmentationConfig()
    with uow:
        if is_erased(uow, customer_id):
            raise RuleViolation(f"customer {customer_id} was erased: no tier is granted")
        membership = uow.tiers.find(customer_id)
        if membership is None:
            facts = facts_of(uow, customer_id, on)
            membership = _evaluate(ladder, facts, on, None, cfg).membership
        granted = grant_tier(ladder, membership, grant)
        stored = _store(uow, granted)
        uow.commit()
    return stored


def count_tier_changes(uow: UnitOfWork, after: dt.date, until: dt.date) -> Counter[TierChangeKind]:
    """How many changes of each kind the stored tier histories record in ``(after, until]``."""
    counts: Counter[TierChangeKind] = Counter()
    with uow:
        for membership in uow.tiers.iterate():
            counts.update(c.kind for c in membership.history if after < c.on <= until)
    return counts
