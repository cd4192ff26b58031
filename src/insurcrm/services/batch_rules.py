"""The rules of §10.1 applied to a batch of customers at once (numpy columns).

:class:`~insurcrm.domain.assessment.Assessor` classifies one customer's figures at a
time; a million customers cost it over a minute of Python. :class:`BatchAssessor`
applies the same rules to a batch of figures as whole columns: days as ordinals,
amounts as integer cents, every rounding and comparison exact (a Decimal threshold is
compared through its ceiling in cents or in units of the score's fourth place, each
quantised ratio is rounded half to even as ``Decimal.quantize`` rounds it). It works in
two steps, as the assessment's two passes do:

- :meth:`BatchAssessor.first` — everything that does not depend on the portfolio
  statistics: the loyalty level and type, the credit grade, the qualifying tier, the
  early warning, the recovery decision, and the figures the statistics and the RFM,
  quadrant and retention rules read. The result is a compact :class:`Batch`.
- :meth:`BatchAssessor.rows` — the RFM type and segment, the value quadrant and the
  retention class against the statistics, added to the totals, and the rows.

The per-customer rules stay the definition: the tests check that both give the same
row for any figures and statistics.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Iterator, Sequence
from decimal import Decimal
from typing import Any, NamedTuple, TypeVar

import numpy as np
import numpy.typing as npt

from insurcrm.domain.assessment import (
    AssessmentConfig,
    AssessmentFigures,
    AssessmentRow,
    AssessmentStats,
    AssessmentTotals,
    GroupTotals,
    TierChange,
)
from insurcrm.domain.churn import ChurnCause, ChurnStructure
from insurcrm.domain.credit import CreditGrade
from insurcrm.domain.dates import add_years
from insurcrm.domain.early_warning import WarningLevel, WarningSignal, survey_fell
from insurcrm.domain.figure_batch import NO_DAY, FigureBatch, amount_of
from insurcrm.domain.future_value import win_back_factor, win_back_worth
from insurcrm.domain.loyalty import LoyaltyLevel, LoyaltyType
from insurcrm.domain.recovery import WinBackStance, recovery_outcome
from insurcrm.domain.rfm import RFM_TYPES, RfmSegment, segment_of
from insurcrm.domain.segmentation import (
    QUADRANT_OF,
    RETENTION_CLASS_OF,
    RetentionClass,
    ValueQuadrant,
)
from insurcrm.domain.tiers import Combine, Indicator

__all__ = ["Batch", "BatchAssessor"]

Ints = npt.NDArray[np.int64]
Flags = npt.NDArray[np.bool_]
E = TypeVar("E")

#: A missing class (None) among the codes.
NONE = -1
#: Units of a score's fourth decimal place.
_SCORE_UNITS = 10_000
#: The largest scale of a configured fraction multiplied in 64-bit integers.
_SAFE_UNIT = 10**6
_LEVELS = tuple(LoyaltyLevel)
_TYPES = tuple(LoyaltyType)
_CREDITS = tuple(CreditGrade)
_STANCES = tuple(WinBackStance)
_CHANGES = tuple(TierChange)
_SEGMENTS = tuple(RfmSegment)
_QUADRANTS = tuple(ValueQuadrant)
_RETENTIONS = tuple(RetentionClass)
_LEVEL = {level: i for i, level in enumerate(_LEVELS)}


def _ints(values: Sequence[int]) -> Ints:
    return np.fromiter(values, np.int64, len(values))


def _flags(values: Sequence[bool]) -> Flags:
    return np.fromiter(values, np.bool_, len(values))


def _half_even(num: Ints, den: Ints | int) -> Ints:
    """``num / den`` (``den`` > 0) rounded to an integer half to even, as
    ``Decimal.quantize`` rounds (on int64 arrays, or on arrays of Python integers)."""
    q, r = num // den, num % den
    twice = 2 * r
    rounded: Ints = q + ((twice > den) | ((twice == den) & (q % 2 == 1)))
    return rounded


def _wide(values: Ints, unit: int) -> Ints:
    """``values`` as Python integers when multiplying them by ``unit`` could overflow 64
    bits (a configured fraction written with many decimal places)."""
    return values.astype(object) if unit > _SAFE_UNIT else values


def _quantised(num: Ints, den: Ints) -> Ints:
    """``num / den`` in units of 0.0001, rounded half to even (0 where ``den`` is 0)."""
    return np.where(den == 0, 0, _half_even(num * _SCORE_UNITS, np.where(den == 0, 1, den)))


def _scaled(value: Decimal) -> tuple[int, int]:
    """``value`` as an integer and the power of ten it was multiplied by (the least one:
    0.20 is 2 and 10)."""
    value = value.normalize()
    exponent = value.as_tuple().exponent
    places = max(0, -exponent) if isinstance(exponent, int) else 0
    return int(value.scaleb(places)), 10**places


def _at_least(value: Decimal | int, unit: int = 1) -> int:
    """The least integer count of ``1 / unit`` that is ≥ ``value`` (x ≥ value ⟺ x·unit ≥
    this, for integer x·unit)."""
    return math.ceil(Decimal(value) * unit)


def _members(members: tuple[E, ...], codes: npt.NDArray[Any]) -> list[E | None]:
    table: tuple[E | None, ...] = (*members, None)  # code -1 is None
    return [table[i] for i in codes.tolist()]


class Batch(NamedTuple):
    """One batch after the first pass: codes, and the figures the second pass reads.

    Codes index the members of their enum in declaration order; -1 is None.
    """

    customer_id: list[str]
    region: list[str | None]
    agent_id: list[str | None]
    current_tier: list[str | None]
    level: Ints
    loyalty_type: Ints
    credit: Ints
    tier: Ints
    tier_change: Ints
    warning: Ints
    win_back: Ints
    recommended: Ints
    bought: Flags
    recency: Ints
    window_purchases: Ints
    window_premium: Ints
    new: Flags
    score: Ints
    potential: Flags
    in_force: Ints
    in_force_premium: Ints
    churned: Flags
    counts: dict[str, int]


class BatchAssessor:
    """The rules of :class:`~insurcrm.domain.assessment.Assessor` over batches of figures.

    Everything that is the same for every customer is worked out once here.
    """

    def __init__(self, as_of: dt.date, config: AssessmentConfig) -> None:
        seg = config.segmentation
        self.as_of = as_of
        self.config = config
        self._day = as_of.toordinal()
        ladder = seg.ladder
        self._active_from = add_years(as_of, -ladder.active_recent_years).toordinal()
        self._ladder = ladder
        self._new_from = add_years(as_of, -1).toordinal()
        self._new_after = self._day - seg.rfm.new_customer_days  # new: first day > this
        self._types = seg.types
        self._incentive = _at_least(seg.types.incentive_min_share, _SCORE_UNITS)
        self._credit = seg.credit
        q = seg.quadrant
        weights = [_scaled(w) for w in (q.share_weight, q.continuity_weight, q.default_weight)]
        self._weight_unit = max(unit for _, unit in weights)
        self._weights = [n * (self._weight_unit // unit) for n, unit in weights]
        w = config.warning
        self._warning = w
        self._keep = _scaled(1 - w.purchase_drop)
        self._idle_before = add_years(as_of, -w.programmes.revisit_idle_years).toordinal()
        self._warning_levels = np.array(
            [_WARNING_CODES[w.level(score)] for score in range(101)], np.int64
        )
        self._codes = config.ladder.codes
        self._held = {code: i for i, code in enumerate(self._codes)}
        self._tiers = [
            (
                tier.combine is Combine.ALL,
                [
                    (c.indicator, _at_least(c.rank, 100 if c.indicator is _PREMIUM else 1))
                    for c in tier.criteria
                ],
            )
            for tier in config.ladder.tiers
        ]
        self._factor = win_back_factor(config.win_back_model, config.future)
        self._rfm = np.array(
            [RFM_TYPES[(bool(k & 4), bool(k & 2), bool(k & 1))] for k in range(8)], np.int64
        )
        seg_code = {s: i for i, s in enumerate(_SEGMENTS)}
        self._segments = np.array(
            [[seg_code[segment_of(t, new)] for new in (False, True)] for t in range(1, 9)],
            np.int64,
        )
        q_code = {x: i for i, x in enumerate(_QUADRANTS)}
        self._quadrants = np.array(
            [q_code[QUADRANT_OF[(bool(k & 2), bool(k & 1))]] for k in range(4)], np.int64
        )
        r_code = {x: i for i, x in enumerate(_RETENTIONS)}
        self._retentions = np.array(
            [r_code[RETENTION_CLASS_OF[(bool(k & 2), bool(k & 1))]] for k in range(4)], np.int64
        )

    # -- the first pass ------------------------------------------------------------------

    def first(self, batch: FigureBatch) -> Batch:
        """Everything about ``batch`` that does not need the portfolio statistics."""
        f: Any = AssessmentFigures._make(batch.columns)  # a figures tuple of columns
        purchases = _ints(f.purchases)
        first, last = _ints(f.first_purchase), _ints(f.last_purchase)
        in_force, in_force_premium = _ints(f.in_force), _ints(f.in_force_premium)
        referred = _ints(f.referred_buyers)
        bought = (purchases > 0) & (first != NO_DAY) & (last != NO_DAY)
        tenure = self._whole_years(first)
        level = self._level(
            _flags(f.two_way_lead) | _flags(f.contacted),
            purchases,
            bought,
            last,
            in_force,
            tenure,
            referred,
            _flags(f.cooperation_partner),
        )
        credit = self._credit_codes(purchases=_ints(f.credit_purchases), f=f)
        indicators = {
            Indicator.ANNUAL_PREMIUM: in_force_premium,
            Indicator.POLICIES_IN_FORCE: in_force,
            Indicator.TENURE_YEARS: tenure,
            Indicator.REFERRALS: referred,
            Indicator.HOUSEHOLD_LONG_TERM_POLICIES: _ints(f.household_long_term),
            Indicator.LOYALTY_LEVEL: level,
            Indicator.CREDIT_GRADE: np.where(credit == NONE, -1, len(_CREDITS) - 1 - credit),
        }
        tier = self._tier(indicators, len(batch))
        held = np.fromiter(
            (NONE if c is None else self._held.get(c, NONE) for c in f.current_tier),
            np.int64,
            len(batch),
        )
        change = np.select(
            [_flags(f.erased), held == NONE, tier > held, tier < held],
            [
                NONE,  # no change is due for an erased customer
                _CHANGE[TierChange.ENROL],
                _CHANGE[TierChange.UPGRADE],
                _CHANGE[TierChange.AT_RISK],
            ],
            _CHANGE[TierChange.KEEP],
        )
        win_back, recommended = self._recoveries(f)
        elsewhere = _ints(f.elsewhere_premium)
        renewals, missed = _ints(f.window_renewals), _ints(f.window_missed)
        wallet = in_force_premium + elsewhere
        share = _quantised(in_force_premium, wallet)
        served = _flags(f.served)
        before, start = _flags(f.bought_before_period), _flags(f.in_force_at_start)
        churned = _flags(f.churned_in_period)
        counts = {
            "customers_at_start": int(start.sum()),
            "churned": int((start & churned).sum()),
            "served": int(served.sum()),
            "served_complaining": int((served & _flags(f.complained_in_period)).sum()),
            "served_referring": int((served & _flags(f.referred_in_period)).sum()),
            "bought_before_period": int(before.sum()),
            "repeat_buyers": int((before & _flags(f.bought_new_in_period)).sum()),
            "period_sales": int(_ints(f.period_sales).sum()),
            "period_purchases": int(_ints(f.period_purchases).sum()),
        }
        return Batch(
            customer_id=list(f.customer_id),
            region=list(f.region),
            agent_id=list(f.agent_id),
            current_tier=list(f.current_tier),
            level=level,
            loyalty_type=self._loyalty_type(f, purchases),
            credit=credit,
            tier=tier,
            tier_change=change,
            warning=self._warning_score(f),
            win_back=win_back,
            recommended=recommended,
            bought=bought,
            recency=self._day - last,
            window_purchases=_ints(f.window_purchases),
            window_premium=_ints(f.window_premium),
            new=first > self._new_after,
            score=self._loyalty_score(share, wallet, renewals, missed),
            potential=np.where(elsewhere == 0, in_force_premium == 0, share < _SCORE_UNITS)
            | (first > self._new_from)
            | (referred > 0),
            in_force=in_force,
            in_force_premium=in_force_premium,
            churned=churned,
            counts=counts,
        )

    def _whole_years(self, first: Ints) -> Ints:
        """Completed years from each first day to the date (as ``whole_years_between``)."""
        end = self.as_of
        when = (first - _EPOCH).astype("datetime64[D]")
        month_start = when.astype("datetime64[M]")
        year = when.astype("datetime64[Y]").astype(np.int64) + 1970
        month = month_start.astype(np.int64) % 12 + 1
        day = (when - month_start).astype(np.int64) + 1
        leap = end.year % 4 == 0 and (end.year % 100 != 0 or end.year % 400 == 0)
        if not leap:  # 29 Feb's anniversary is 28 Feb
            day = np.where((month == 2) & (day == 29), 28, day)
        later = (month > end.month) | ((month == end.month) & (day > end.day))
        years = end.year - year - later
        return np.where((first == NO_DAY) | (first > self._day), 0, years)

    def _level(
        self,
        two_way: Flags,
        purchases: Ints,
        bought: Flags,
        last: Ints,
        in_force: Ints,
        tenure: Ints,
        referred: Ints,
        partner: Flags,
    ) -> Ints:
        cfg = self._ladder
        active = (
            (purchases >= cfg.active_min_purchases) & (in_force > 0) & (last > self._active_from)
        )
        return np.select(
            [
                ~bought & two_way,
                ~bought,
                ~active,
                referred < cfg.advocate_min_referred_buyers,
                ((referred >= cfg.partner_min_referred_buyers) | partner)
                & (tenure >= cfg.partner_min_tenure_years),
            ],
            [
                _LEVEL[LoyaltyLevel.PROSPECT],
                _LEVEL[LoyaltyLevel.ORDINARY_BUYER],
                _LEVEL[LoyaltyLevel.GENERAL],
                _LEVEL[LoyaltyLevel.ACTIVE],
                _LEVEL[LoyaltyLevel.PARTNER],
            ],
            _LEVEL[LoyaltyLevel.ADVOCATE],
        )

    def _loyalty_type(self, f: Any, purchases: Ints) -> Ints:
        share = _quantised(_ints(f.rewarded_purchases), purchases)
        repeat_low = _ints(f.recent_purchases) < self._types.repeat_min_purchases
        attached = self._attached(f)
        return np.select(
            [repeat_low & attached, repeat_low, attached, share >= self._incentive],
            [
                _TYPE[LoyaltyType.LATENT],
                _TYPE[LoyaltyType.NONE],
                _TYPE[LoyaltyType.PREMIUM],
                _TYPE[LoyaltyType.INCENTIVE],
            ],
            _TYPE[LoyaltyType.INERTIA],
        )

    def _attached(self, f: Any) -> Flags:
        """Attachment is high (as ``FigureRules.attached``): the latest satisfaction outcome is
        not DISSATISFIED (experience − expectation ≥ −tolerance, exact in Decimal), and they
        referred someone or favour us."""
        cfg = self._types
        least = -cfg.satisfaction.tolerance
        satisfied = _flags(
            [
                experience is not None
                and expectation is not None
                and experience - expectation >= least
                for experience, expectation in zip(
                    f.survey_experience, f.survey_expectation, strict=True
                )
            ]
        )
        referred = _ints(f.referrals) >= cfg.attachment_min_referrals
        return satisfied & (referred | _flags(f.favours_us))

    def _credit_codes(self, purchases: Ints, f: Any) -> Ints:
        cfg, missed = self._credit, _ints(f.credit_missed)
        return np.select(
            [
                _ints(f.bad_endings) > 0,
                purchases == 0,
                (purchases >= cfg.a_min_purchases) & (missed <= cfg.a_max_missed),
                (purchases >= cfg.b_min_purchases) & (missed <= cfg.b_max_missed),
            ],
            [_CREDIT[CreditGrade.D], NONE, _CREDIT[CreditGrade.A], _CREDIT[CreditGrade.B]],
            _CREDIT[CreditGrade.C],
        )

    def _tier(self, indicators: dict[Indicator, Ints], n: int) -> Ints:
        best = np.zeros(n, np.int64)
        for i, (every, criteria) in enumerate(self._tiers):
            if not criteria:
                best[:] = i
                continue
            met = [indicators[indicator] >= rank for indicator, rank in criteria]
            qualifies = np.logical_and.reduce(met) if every else np.logical_or.reduce(met)
            best = np.where(qualifies, i, best)
        return best

    def _warning_score(self, f: Any) -> Ints:
        cfg = self._warning
        keep, unit = self._keep
        bought = _wide(_ints(f.warning_bought), unit)
        before = _wide(_ints(f.warning_bought_before), unit)
        fell = _flags(
            [
                last is not None and survey_fell(last, prior, cfg)
                for last, prior in zip(f.survey_last, f.survey_prior, strict=True)
            ]
        )
        last_ours = _ints(f.last_purchase_ours)
        raised = {
            WarningSignal.PURCHASES_DECLINING: (
                (before > 0) & (bought * unit <= before * keep)
            ).astype(np.bool_),
            WarningSignal.COMPLAINTS_INCREASING: _ints(f.complaints) > _ints(f.complaints_before),
            WarningSignal.PRAISES_COMPETITOR: _ints(f.praises) >= cfg.praise_repeats,
            WarningSignal.RELATIONSHIP_DECLINING: (_ints(f.declining_noted) > 0) | fell,
            WarningSignal.NEW_BUSINESS_STRATEGY: _ints(f.strategy_noted) > 0,
            WarningSignal.OWNERSHIP_CHANGE: _ints(f.ownership_noted) > 0,
            WarningSignal.IDLE_RETURNING: (last_ours != NO_DAY) & (last_ours < self._idle_before),
        }
        score = np.zeros(len(bought), np.int64)
        for signal, found in raised.items():
            weight = cfg.weights[signal]
            if weight > 0:
                score += found * weight
        return np.minimum(score, 100)

    def _recoveries(self, f: Any) -> tuple[Ints, Ints]:
        """The recovery decision's stance and recommendation of the churned customers
        (as ``recovery_of``)."""
        size = len(f.churn_id)
        stance = np.full(size, NONE, np.int64)
        recommended = np.full(size, NONE, np.int64)
        cfg, factor = self.config.recovery, self._factor
        for i, churn in enumerate(f.churn_id):
            if churn is None or f.churn_on[i] == NO_DAY:
                continue
            structure = f.churn_structure[i]
            decided, recommend = recovery_outcome(
                ChurnStructure[structure] if structure else None,
                tuple(ChurnCause[c] for c in f.churn_causes[i]),
                win_back_worth(amount_of(f.lost_premium[i]), factor),
                cfg,
            )
            stance[i] = _STANCE[decided]
            recommended[i] = recommend
        return stance, recommended

    def _loyalty_score(self, share: Ints, wallet: Ints, renewals: Ints, missed: Ints) -> Ints:
        """The value quadrant's loyalty score (as ``loyalty_score`` of the value figures)
        in units of 0.0001."""
        unit = self._weight_unit
        share, renewals, missed = (_wide(x, unit) for x in (share, renewals, missed))
        due = renewals + missed
        continuity = np.where(due == 0, _SCORE_UNITS, _quantised(renewals, due))
        default = _quantised(missed, due)
        share = np.where(wallet == 0, 0, share)
        w_share, w_continuity, w_default = self._weights
        raw = w_share * share + w_continuity * continuity + w_default * (_SCORE_UNITS - default)
        return _half_even(raw, unit).astype(np.int64)

    # -- the second pass -----------------------------------------------------------------

    def rows(
        self, batch: Batch, stats: AssessmentStats, totals: AssessmentTotals
    ) -> Iterator[AssessmentRow]:
        """The rows of ``batch`` against ``stats``, added to ``totals`` first."""
        means = stats.means
        n = means.customers
        bought = batch.bought
        key = (
            (batch.recency * n >= means.recency_total) * 4
            + (batch.window_purchases * n >= means.frequency_total) * 2
            + (batch.window_premium * n >= _at_least(means.monetary_total, 100))
        )
        rfm = np.where(bought, self._rfm[key], NONE)
        segment = np.where(
            bought, self._segments[self._rfm[key] - 1, batch.new.astype(np.int64)], NONE
        )
        loyal = batch.score >= _at_least(stats.thresholds.loyalty, _SCORE_UNITS)
        profitable = batch.window_premium >= _at_least(stats.thresholds.profit, 100)
        valuable = batch.window_premium >= _at_least(stats.value_median, 100)
        quadrant = np.where(bought, self._quadrants[loyal * 2 + profitable], NONE)
        retention = np.where(bought, self._retentions[valuable * 2 + batch.potential], NONE)
        warning_level = self._warning_levels[batch.warning]
        codes = {
            "by_level": (_LEVELS, batch.level),
            "by_type": (_TYPES, batch.loyalty_type),
            "by_segment": (_SEGMENTS, segment),
            "by_quadrant": (_QUADRANTS, quadrant),
            "by_retention": (_RETENTIONS, retention),
            "by_credit": (_CREDITS, batch.credit),
            "by_tier": (self._codes, batch.tier),
            "by_tier_change": (_CHANGES, batch.tier_change),
            "by_warning": (_WARNING_LEVELS, warning_level),
            "by_win_back": (_STANCES, batch.win_back),
        }
        self._add(totals, batch, codes)
        premium = [amount_of(c) for c in batch.window_premium.tolist()]
        in_force_premium = [amount_of(c) for c in batch.in_force_premium.tolist()]
        recommended: list[bool | None] = [
            None if r == NONE else bool(r) for r in batch.recommended.tolist()
        ]
        make = AssessmentRow._make
        yield from map(
            make,
            zip(
                batch.customer_id,
                batch.region,
                batch.agent_id,
                _members(_LEVELS, batch.level),
                _members(_TYPES, batch.loyalty_type),
                _members(_CREDITS, batch.credit),
                [None if t == NONE else t for t in rfm.tolist()],
                _members(_SEGMENTS, segment),
                _members(_QUADRANTS, quadrant),
                _members(_RETENTIONS, retention),
                [self._codes[i] for i in batch.tier.tolist()],
                batch.current_tier,
                _members(_CHANGES, batch.tier_change),
                batch.warning.tolist(),
                _members(_WARNING_LEVELS, warning_level),
                _members(_STANCES, batch.win_back),
                recommended,
                premium,
                in_force_premium,
                batch.churned.tolist(),
                strict=True,
            ),
        )

    @staticmethod
    def _add(
        totals: AssessmentTotals,
        batch: Batch,
        codes: dict[str, tuple[tuple[Any, ...], npt.NDArray[Any]]],
    ) -> None:
        size = len(batch.customer_id)
        totals.customers += size
        for name, (members, values) in codes.items():
            counts: dict[Any, int] = getattr(totals, name)
            found = np.bincount(values + 1, minlength=len(members) + 1)  # -1 (None) → 0
            for i, n in enumerate(found.tolist()):
                if n:
                    key = None if i == 0 else members[i - 1]
                    counts[key] = counts.get(key, 0) + n
        totals.win_backs_recommended += int((batch.recommended == 1).sum())
        for name, value in batch.counts.items():
            if name == "period_sales":
                totals.period_sales += amount_of(value)
            else:
                setattr(totals, name, getattr(totals, name) + value)
        premiums, in_force = batch.in_force_premium.tolist(), batch.in_force.tolist()
        for groups, keys in ((totals.by_region, batch.region), (totals.by_agent, batch.agent_id)):
            sums: dict[str | None, list[int]] = {}
            for key, premium, held in zip(keys, premiums, in_force, strict=True):
                s = sums.get(key)
                if s is None:
                    sums[key] = [1, premium, held]
                else:
                    s[0] += 1
                    s[1] += premium
                    s[2] += held
            for key, (customers, premium, held) in sums.items():
                group = groups.get(key)
                if group is None:
                    group = groups[key] = GroupTotals()
                group.customers += customers
                group.premium_in_force += amount_of(premium)
                group.in_force += held


_EPOCH = dt.date(1970, 1, 1).toordinal()
_PREMIUM = Indicator.ANNUAL_PREMIUM
_WARNING_LEVELS = tuple(WarningLevel)
_WARNING_CODES = {level: i for i, level in enumerate(_WARNING_LEVELS)}
_TYPE = {t: i for i, t in enumerate(_TYPES)}
_CREDIT = {c: i for i, c in enumerate(_CREDITS)}
_STANCE = {s: i for i, s in enumerate(_STANCES)}
_CHANGE = {c: i for i, c in enumerate(_CHANGES)}
