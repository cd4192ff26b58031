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
import pickle
import tempfile
import tomllib
from collections import Counter
from collections.abc import Sequence
from pathlib import Path

import attrs

from insurcrm.domain.assessment import (
    AssessmentConfig,
    AssessmentFigures,
    AssessmentWindows,
    FigureRules,
)
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
from insurcrm.services.assessment import read_figures
from insurcrm.services.customers import is_erased
from insurcrm.services.progress import Progress
from insurcrm.services.segmentation import facts_of

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


#: Customers evaluated together by the review (their memberships read at once), and
#: memberships written per transaction.
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
        skipped: erased customers, customers whose membership has a later date, and
            customers another writer moved to another tier while the review read the book.
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

    The book is read in one transaction, as the portfolio assessment reads it: each
    customer's figures aggregated where the data is (:meth:`~insurcrm.domain.
    repositories.PortfolioReader.figure_batches`), :data:`REVIEW_BATCH` customers at a
    time with their memberships, never every customer at once. Each customer is
    evaluated by :func:`~insurcrm.domain.tier_membership.evaluate_tier` with the
    figures :func:`evaluate_customer_tier` gives them. The changed memberships wait in
    a temporary file until the read ends; they are then written in transactions of
    :data:`REVIEW_BATCH`, each with its events (the new ones, as at a first review, by
    :meth:`~insurcrm.domain.repositories.TierMembershipRepository.add_many`). Erased
    customers are skipped, as are customers whose membership already records a later
    date (a review for an earlier date cannot rewrite history) and customers another writer
    moved to another tier after the review read their figures (they were evaluated on
    newer ones).

    ``progress``, if given, is called with the customers evaluated so far and all of them.

    Raises:
        RuleViolation: a stored tier is not on ``ladder`` (a ladder that dropped a
            tier needs its members moved first).
        ConcurrencyError: another writer changed a membership after the review read it;
            run the review again (it is idempotent).
        Duplicate: another writer enrolled a customer the review enrols; likewise.
    """
    cfg = AssessmentConfig(segmentation=config or SegmentationConfig(), ladder=ladder)
    tally = _Tally(FigureRules(as_of, cfg))
    with tempfile.TemporaryFile() as spool:
        changed: list[TierMembership] = []
        with uow:
            windows = AssessmentWindows.of(as_of, cfg)
            for batch in read_figures(uow, windows, cfg, REVIEW_BATCH, progress):
                figures = batch.figures()
                held = uow.tiers.of_customers(f.customer_id for f in figures)
                changed += tally.add(figures, {m.customer_id: m for m in held})
                while len(changed) >= REVIEW_BATCH:  # a transaction's worth
                    pickle.dump(changed[:REVIEW_BATCH], spool, protocol=pickle.HIGHEST_PROTOCOL)
                    del changed[:REVIEW_BATCH]
            if changed:
                pickle.dump(changed, spool, protocol=pickle.HIGHEST_PROTOCOL)
        spool.seek(0)
        while True:
            try:
                memberships: list[TierMembership] = pickle.load(spool)
            except EOFError:
                break
            with uow:
                # in the order read (their events too), the new ones by the bulk path
                for new, run in itertools.groupby(memberships, key=lambda m: m.version == 0):
                    if new:
                        uow.tiers.add_many(run)
                    else:
                        for membership in run:
                            uow.tiers.save(membership)
                uow.commit()
    return tally.review()


def replay_tier_reviews(
    uow: UnitOfWork,
    dates: Sequence[dt.date],
    ladder: TierLadder = DEFAULT_LADDER,
    config: SegmentationConfig | None = None,
    progress: Progress | None = None,
) -> list[TierReview]:
    """Run :func:`review_tiers` for each of ``dates`` in order (e.g. monthly reviews over
    a past period to build the tier history); each reads the book as of its date.

    Raises:
        ValidationError: ``dates`` are not in increasing order.
    """
    if any(b <= a for a, b in itertools.pairwise(dates)):
        raise ValidationError("dates", "dates.order", "must be in increasing order")
    return [review_tiers(uow, as_of, ladder, config, progress) for as_of in dates]


@attrs.define
class _Tally:
    """What a review applying ``rules`` has found so far."""

    rules: FigureRules
    kinds: Counter[TierChangeKind] = attrs.field(factory=Counter)
    per_tier: Counter[str] = attrs.field(factory=Counter)
    at_risk: list[AtRisk] = attrs.field(factory=list)
    skipped: int = 0
    unchanged: int = 0

    def add(
        self, figures: Sequence[AssessmentFigures], memberships: dict[str, TierMembership]
    ) -> list[TierMembership]:
        """Evaluate a batch of customers; returns the memberships that changed."""
        changed: list[TierMembership] = []
        rules = self.rules
        ladder, as_of = rules.config.ladder, rules.as_of
        for f in figures:
            old = memberships.get(f.customer_id)
            held = old.tier_on(as_of) if old is not None else None
            later = old is not None and as_of < old.last_changed
            # The figures hold the tier as they were read; the membership was read after
            # them (on PostgreSQL, by another connection). A different tier means another
            # writer moved the customer since, on newer figures than these: leave them.
            if f.erased or later or held != f.current_tier:
                self.skipped += 1
                if old is not None:
                    self.per_tier[old.tier] += 1
                continue
            result = evaluate_tier(ladder, f.customer_id, rules.tier_figures(f), as_of, old)
            self.per_tier[result.tier] += 1
            if result.changed:
                new = result.membership.history[len(old.history) if old else 0 :]
                self.kinds.update(c.kind for c in new)
                changed.append(result.membership)
            else:
                self.unchanged += 1
            if result.at_risk:
                self.at_risk.append(
                    AtRisk(
                        f.customer_id,
                        result.tier,
                        result.qualifying,
                        result.keep_by,
                        result.to_keep,
                    )
                )
        return changed

    def review(self) -> TierReview:
        """The review of everyone evaluated."""
        far = dt.date.max
        kinds = self.kinds
        return TierReview(
            as_of=self.rules.as_of,
            per_tier={code: self.per_tier.get(code, 0) for code in self.rules.config.ladder.codes},
            enrolled=kinds[TierChangeKind.ENROLLED],
            upgraded=kinds[TierChangeKind.UPGRADED],
            downgraded=kinds[TierChangeKind.DOWNGRADED],
            grants_ended=kinds[TierChangeKind.GRANT_ENDED],
            unchanged=self.unchanged,
            skipped=self.skipped,
            at_risk=tuple(sorted(self.at_risk, key=lambda a: (a.keep_by or far, a.customer_id))),
        )


def _store(uow: UnitOfWork, membership: TierMembership) -> TierMembership:
    """Add a new membership (version 0) or save a changed one."""
    if membership.version == 0:
        return uow.tiers.add(membership)
    return uow.tiers.save(membership)


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
