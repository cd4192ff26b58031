"""Portfolio assessment (§10.1): every customer's classification from compact figures.

Assessing a whole book must not build a domain object per customer and policy
(at a million customers that alone takes longer than the rules). So storage
hands over one compact :class:`AssessmentFigures` row per customer — counts,
sums and dates already resolved as of the assessment date, aggregated where
the data is (in SQL on the SQL backends) — and :func:`assess_figures` applies
the rules of §1.3, §4.2, §4.3, §5.1–§5.3 and §6 to it.

The definitions are those of the single-customer rules
(:func:`~insurcrm.domain.classification.classify_customer`,
:func:`~insurcrm.domain.classification.tier_figures`): :func:`figures_of`
derives the figures from a customer's facts with the same windows the SQL
adapters use (:class:`AssessmentWindows`), and the test suite checks, customer
by customer, that the portfolio engine and the per-customer rules agree. The
engine gives decisions as codes; the per-customer rules give the reasons.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Iterator
from decimal import Decimal
from typing import NamedTuple, TypeVar

import attrs

from insurcrm.domain.churn import ChurnCause, ChurnRates, ChurnRecord, ChurnStructure
from insurcrm.domain.classification import (
    TWO_WAY_LEAD_SOURCES,
    CustomerFacts,
    SegmentationConfig,
    by_customer,
    gather_facts,
    value_figures,
)
from insurcrm.domain.complaints import Complaint
from insurcrm.domain.credit import CreditGrade, credit_grade
from insurcrm.domain.customers import Customer
from insurcrm.domain.dates import add_years, whole_years_between
from insurcrm.domain.early_warning import (
    WarningConfig,
    WarningFigures,
    WarningLevel,
    warning_figures,
    warning_score,
    warning_signals,
)
from insurcrm.domain.future_value import (
    FutureValueConfig,
    RenewalModel,
    flat_model,
    lost_premium,
    win_back_factor,
    win_back_worth,
)
from insurcrm.domain.interactions import Interaction, ObservedSignal
from insurcrm.domain.labels import LabelledEnum
from insurcrm.domain.loyalty import (
    Attitude,
    LoyaltyLevel,
    LoyaltyType,
    attachment_high,
    satisfaction_outcome,
)
from insurcrm.domain.policies import Policy, PolicyStatus, PurchaseKind, ours_in_force
from insurcrm.domain.programmes import household_long_term_in_force
from insurcrm.domain.rates import Rate
from insurcrm.domain.recovery import (
    RecoveryConfig,
    RecoveryDecision,
    WinBackStance,
    decide_recovery,
)
from insurcrm.domain.rfm import RFM_TYPES, RfmMeans, RfmSegment, segment_of
from insurcrm.domain.satisfaction import PeriodCounts, SatisfactionIndicators, SurveyResponse
from insurcrm.domain.segmentation import (
    QUADRANT_OF,
    RETENTION_CLASS_OF,
    ParetoResult,
    QuadrantThresholds,
    RetentionClass,
    ValueQuadrant,
    loyalty_score,
)
from insurcrm.domain.tier_membership import TierMembership
from insurcrm.domain.tiers import DEFAULT_LADDER, Combine, Indicator, TierFigures, TierLadder
from insurcrm.domain.values import DEFAULT_CURRENCY, Money, total_in

__all__ = [
    "AssessmentConfig",
    "AssessmentFigures",
    "AssessmentRow",
    "AssessmentStats",
    "AssessmentTotals",
    "AssessmentWindows",
    "Assessor",
    "FigureRules",
    "GroupTotals",
    "TierChange",
    "assess_figures",
    "book_figures",
    "figures_of",
    "loyalty_score_of",
    "open_churn",
    "recovery_of",
    "region_of",
    "warning_figures_of",
]

_PLACES = Decimal("0.0001")
_ZERO = Decimal("0.00")


@attrs.frozen
class AssessmentConfig:
    """The assessment's rules: the segmentation rules (§4–§5), the tier ladder (§6), the
    early warning (§7.2) and the recovery of churned customers (§7.3).

    The churn and retention rates are over the year before the assessment date. A churned
    customer's win-back value (§7.3) uses ``renewal_model``: fit it to the book once with
    :func:`~insurcrm.services.future_value.portfolio_renewal_model` and pass it in; without
    one, the flat retention rate of ``future`` (85 % a year) values every win-back.
    """

    segmentation: SegmentationConfig = attrs.field(factory=SegmentationConfig)
    ladder: TierLadder = DEFAULT_LADDER
    warning: WarningConfig = attrs.field(factory=WarningConfig)
    recovery: RecoveryConfig = attrs.field(factory=RecoveryConfig)
    future: FutureValueConfig = attrs.field(factory=FutureValueConfig)
    renewal_model: RenewalModel | None = None

    @property
    def win_back_model(self) -> RenewalModel:
        """The renewal model win-backs are valued with."""
        if self.renewal_model is not None:
            return self.renewal_model
        return flat_model(self.future, "no renewal model given to the assessment")


@attrs.frozen
class AssessmentWindows:
    """The window boundaries of every rule as of a date (each window is ``(since, as_of]``).

    Attributes:
        as_of: the assessment date.
        rfm_since: the RFM window (F, M, renewals and missed premiums of the value figures).
        repeat_since: the loyalty-type repeat window (§4.3).
        credit_since: the credit grade's look-back (§1.3).
        period_start: the start of the churn period (the year before ``as_of``).
        warning_since: the early warning's window (§7.2) …
        warning_before: … and the start of the window before it.
    """

    as_of: dt.date
    rfm_since: dt.date
    repeat_since: dt.date
    credit_since: dt.date
    period_start: dt.date
    warning_since: dt.date
    warning_before: dt.date

    @classmethod
    def of(cls, as_of: dt.date, config: AssessmentConfig) -> AssessmentWindows:
        """The windows of ``config``'s rules as of ``as_of``."""
        cfg = config.segmentation
        return cls(
            as_of=as_of,
            rfm_since=as_of - dt.timedelta(days=cfg.rfm.window_days),
            repeat_since=add_years(as_of, -cfg.types.repeat_window_years),
            credit_since=add_years(as_of, -cfg.credit.lookback_years),
            period_start=add_years(as_of, -1),
            warning_since=as_of - dt.timedelta(days=config.warning.window_days),
            warning_before=as_of - dt.timedelta(days=2 * config.warning.window_days),
        )


class AssessmentFigures(NamedTuple):
    """One customer's figures as of the assessment date: what the rules look at.

    Purchases, premiums and missed premiums are of the policies the customer holds
    as policyholder; "ours" are the policies our company issued.

    Attributes:
        customer_id: the customer.
        region: the province code of their resident ID (:func:`region_of`), if known.
        agent_id: their agent, if any.
        two_way_lead: their lead source counts as a two-way contact (§4.2 PROSPECT).
        purchases: purchases (new policies and renewals) up to the date.
        first_purchase: the first of them.
        last_purchase: the latest of them.
        window_purchases: purchases in the RFM window (F).
        window_premium: their premium (M).
        window_renewals: renewals in the RFM window (purchase continuity).
        window_missed: missed premiums due in the RFM window (default rate).
        recent_purchases: purchases in the loyalty-type repeat window.
        rewarded_purchases: purchases up to the date on policies sold under a campaign.
        credit_purchases: purchases up to the date on our policies.
        credit_missed: missed premiums of our policies due in the credit look-back.
        bad_endings: our policies cancelled up to the date for a credit-D reason.
        in_force: our policies in force at the end of the date.
        in_force_premium: their annual premium.
        elsewhere_premium: the annual premium of the cover they hold with other insurers.
        household_long_term: our long-term policies in force in their household.
        referrals: customers they referred, known by the date (registered, or bought, by
            then).
        referred_buyers: referred customers who bought up to the date.
        in_force_at_start: they had a policy of ours in force at the end of the churn
            period's first day (the churn rate's denominator).
        churned_in_period: a churn record of theirs falls in the churn period.
        current_tier: the tier they hold, if enrolled.
        warning_bought: the premium of their purchases of our policies in the early
            warning's window (§7.2) …
        warning_bought_before: … and in the window before it.
        complaints: their complaints received in the early warning's window …
        complaints_before: … and in the window before it.
        praises: their contacts in the window noting PRAISES_COMPETITOR;
        declining_noted: … noting RELATIONSHIP_DECLINING;
        strategy_noted: … noting NEW_BUSINESS_STRATEGY;
        ownership_noted: … noting OWNERSHIP_CHANGE.
        survey_last: the experience of their latest survey response when it falls in the
            window and an earlier one exists, else None …
        survey_prior: … and of the response before it.
        last_purchase_ours: their latest purchase of our policies up to the date.
        churn_id: their latest churn record on or before the date that was still open
            then (not won back by the date), for a customer not erased; else None …
        churn_on: … its day;
        churn_structure: … its structure (None: not analysed);
        churn_causes: … its causes, by name;
        lost_premium: the annual premium of their policies of ours (in CNY) in force the
            day before that churn: what a win-back would bring back each year.
        served: they had a policy of ours in force at the end of the churn period's first
            day or bought one of ours in the period (the satisfaction indicators' base);
        bought_before_period: they bought a policy of ours on or before its first day;
        bought_new_in_period: they bought a new policy of ours in the period;
        complained_in_period: they complained in the period;
        referred_in_period: they referred a customer registered in the period;
        period_sales: the premium (CNY) of their purchases of our policies in the period;
        period_purchases: the number of those purchases.
        erased: their personal data was erased (§10.4): they are still assessed, for
            the anonymous totals, but no tier change is due for them.
        contacted: they have no purchase up to the date and a logged two-way contact on or
            before it (§4.2 PROSPECT; a customer with a purchase is not looked at).
        survey_experience: the experience of their latest survey response up to the date
            that asked their expectation (the latest satisfaction outcome's, §4.3) …
        survey_expectation: … the score of that expectation …
        favours_us: … and whether its INDUSTRY answer favours us over competitors.
        cooperation_partner: they are flagged as a cooperation partner (§4.2 PARTNER).
    """

    customer_id: str
    region: str | None
    agent_id: str | None
    two_way_lead: bool
    purchases: int
    first_purchase: dt.date | None
    last_purchase: dt.date | None
    window_purchases: int
    window_premium: Decimal
    window_renewals: int
    window_missed: int
    recent_purchases: int
    rewarded_purchases: int
    credit_purchases: int
    credit_missed: int
    bad_endings: int
    in_force: int
    in_force_premium: Decimal
    elsewhere_premium: Decimal
    household_long_term: int
    referrals: int
    referred_buyers: int
    in_force_at_start: bool
    churned_in_period: bool
    current_tier: str | None
    warning_bought: Decimal = _ZERO
    warning_bought_before: Decimal = _ZERO
    complaints: int = 0
    complaints_before: int = 0
    praises: int = 0
    declining_noted: int = 0
    strategy_noted: int = 0
    ownership_noted: int = 0
    survey_last: Decimal | None = None
    survey_prior: Decimal | None = None
    last_purchase_ours: dt.date | None = None
    churn_id: str | None = None
    churn_on: dt.date | None = None
    churn_structure: str | None = None
    churn_causes: tuple[str, ...] = ()
    lost_premium: Decimal = _ZERO
    served: bool = False
    bought_before_period: bool = False
    bought_new_in_period: bool = False
    complained_in_period: bool = False
    referred_in_period: bool = False
    period_sales: Decimal = _ZERO
    period_purchases: int = 0
    erased: bool = False
    contacted: bool = False
    survey_experience: Decimal | None = None
    survey_expectation: int | None = None
    favours_us: bool = False
    cooperation_partner: bool = False


def region_of(id_number: str | None) -> str | None:
    """The region of a customer: the province code (first two digits) of their resident ID
    number (e.g. ``"11"`` Beijing, ``"44"`` Guangdong); None without one."""
    return id_number[:2] if id_number else None


def figures_of(
    facts: CustomerFacts,
    windows: AssessmentWindows,
    config: AssessmentConfig,
    *,
    churned_in_period: bool = False,
    current_tier: str | None = None,
    warning: WarningFigures | None = None,
    churn: ChurnRecord | None = None,
    complained_in_period: bool = False,
    referred_in_period: bool = False,
) -> AssessmentFigures:
    """A customer's figures from their facts (with their early warning's figures and the
    churn record to decide a recovery on, none when omitted), with the single-customer
    rules' definitions."""
    w = windows
    as_of = w.as_of
    customer = facts.customer
    bought = [(s, p) for p in facts.policies for s in p.purchases if s.on <= as_of]
    dates = [s.on for s, _ in bought]
    in_window = [s for s, _ in bought if s.on > w.rfm_since]
    in_force = ours_in_force(facts.policies, as_of)
    d_reasons = config.segmentation.credit.d_reasons
    household = facts.household_policies or facts.policies
    profile = customer.profile
    wf = warning or WarningFigures()
    period = [(s, p) for s, p in bought if p.is_ours and s.on > w.period_start]
    sales = [s.amount.amount for s, _ in period if s.amount.currency == DEFAULT_CURRENCY]
    in_force_at_start = bool(ours_in_force(facts.policies, w.period_start))
    survey = facts.latest_survey
    return AssessmentFigures(
        customer_id=customer.id,
        region=region_of(profile.id_number.value if profile and profile.id_number else None),
        agent_id=customer.agent_id,
        two_way_lead=customer.lead_source in TWO_WAY_LEAD_SOURCES,
        purchases=len(bought),
        first_purchase=min(dates) if dates else None,
        last_purchase=max(dates) if dates else None,
        window_purchases=len(in_window),
        window_premium=total_in(s.amount for s in in_window),  # in CNY, as every amount
        window_renewals=sum(1 for s in in_window if s.kind is PurchaseKind.RENEWAL),
        window_missed=sum(
            1
            for p in facts.policies
            for m in p.missed_premiums
            if w.rfm_since < m.due_date <= as_of
        ),
        recent_purchases=sum(1 for d in dates if d > w.repeat_since),
        rewarded_purchases=sum(1 for _, p in bought if p.campaign is not None),
        credit_purchases=sum(1 for _, p in bought if p.is_ours),
        credit_missed=sum(
            1
            for p in facts.policies
            if p.is_ours
            for m in p.missed_premiums
            if w.credit_since < m.due_date <= as_of
        ),
        bad_endings=sum(
            1
            for p in facts.policies
            if p.is_ours
            for h in p.history
            if h.on <= as_of and h.to_status is PolicyStatus.CANCELLED and h.reason in d_reasons
        ),
        in_force=len(in_force),
        in_force_premium=total_in(p.annual_premium for p in in_force),
        elsewhere_premium=total_in(
            h.annual_premium for h in customer.holdings if h.annual_premium is not None
        ),
        household_long_term=household_long_term_in_force(household, as_of),
        referrals=facts.referrals,
        referred_buyers=facts.referred_buyers,
        in_force_at_start=in_force_at_start,
        churned_in_period=churned_in_period,
        current_tier=current_tier,
        warning_bought=wf.bought,
        warning_bought_before=wf.bought_before,
        complaints=wf.complaints,
        complaints_before=wf.complaints_before,
        praises=wf.count(ObservedSignal.PRAISES_COMPETITOR),
        declining_noted=wf.count(ObservedSignal.RELATIONSHIP_DECLINING),
        strategy_noted=wf.count(ObservedSignal.NEW_BUSINESS_STRATEGY),
        ownership_noted=wf.count(ObservedSignal.OWNERSHIP_CHANGE),
        survey_last=wf.survey_last,
        survey_prior=wf.survey_prior,
        last_purchase_ours=wf.last_purchase,
        churn_id=churn.id if churn else None,
        churn_on=churn.on if churn else None,
        churn_structure=churn.structure.name if churn and churn.structure else None,
        churn_causes=tuple(c.name for c in churn.causes) if churn else (),
        lost_premium=lost_premium(facts.policies, churn.on) if churn else _ZERO,
        served=in_force_at_start or bool(period),
        bought_before_period=any(p.is_ours and s.on <= w.period_start for s, p in bought),
        bought_new_in_period=any(s.kind is PurchaseKind.NEW for s, _ in period),
        complained_in_period=complained_in_period,
        referred_in_period=referred_in_period,
        period_sales=sum(sales, _ZERO),
        period_purchases=len(sales),
        erased=customer.is_erased,
        contacted=not dates and facts.two_way_contacts > 0,
        survey_experience=survey.experience if survey else None,
        survey_expectation=survey.expectation.score if survey and survey.expectation else None,
        favours_us=survey is not None and survey.attitude is Attitude.FAVOURS_US,
        cooperation_partner=customer.cooperation_partner,
    )


def open_churn(records: Iterable[ChurnRecord], as_of: dt.date) -> ChurnRecord | None:
    """The churn record a recovery is decided on: the latest (by day, then id) on or
    before ``as_of`` that was still open then (not won back by ``as_of``)."""
    open_then = [r for r in records if r.open_on(as_of)]
    return max(open_then, key=lambda r: (r.on, r.id), default=None)


def warning_figures_of(f: AssessmentFigures) -> WarningFigures:
    """The early warning's figures (§7.2) held in ``f``."""
    return WarningFigures(
        bought=f.warning_bought,
        bought_before=f.warning_bought_before,
        complaints=f.complaints,
        complaints_before=f.complaints_before,
        noted={
            signal: n
            for signal, n in (
                (ObservedSignal.PRAISES_COMPETITOR, f.praises),
                (ObservedSignal.RELATIONSHIP_DECLINING, f.declining_noted),
                (ObservedSignal.NEW_BUSINESS_STRATEGY, f.strategy_noted),
                (ObservedSignal.OWNERSHIP_CHANGE, f.ownership_noted),
            )
            if n  # as warning_figures counts them: signals noted at least once
        },
        survey_last=f.survey_last,
        survey_prior=f.survey_prior,
        last_purchase=f.last_purchase_ours,
    )


def book_figures(
    customers: Iterable[Customer],
    policies: Iterable[Policy],
    churns: Iterable[ChurnRecord],
    memberships: Iterable[TierMembership],
    windows: AssessmentWindows,
    config: AssessmentConfig,
    *,
    complaints: Iterable[Complaint] = (),
    interactions: Iterable[Interaction] = (),
    responses: Iterable[SurveyResponse] = (),
) -> Iterator[AssessmentFigures]:
    """Every customer's figures, in customer id order, from the whole book in memory
    (the in-memory adapter's way; the SQL adapters aggregate in the database)."""
    as_of = windows.as_of
    churn_records = list(churns)
    churned = {r.customer_id for r in churn_records if windows.period_start < r.on <= as_of}
    churned_by = by_customer(churn_records)
    people = list(customers)
    start = windows.period_start
    referrers = {
        c.referred_by for c in people if c.referred_by is not None and start < c.created_on <= as_of
    }
    tiers = {m.customer_id: m.tier_on(as_of) for m in memberships}  # held then, not now
    complained = by_customer(complaints)
    logged = list(interactions)
    contacts = by_customer(logged)
    surveyed = list(responses)
    answered = by_customer(surveyed)
    facts = gather_facts(people, policies, as_of, interactions=logged, responses=surveyed)
    for f in sorted(facts, key=lambda f: f.customer.id):
        cid = f.customer.id
        warning = warning_figures(
            cid,
            as_of,
            policies=f.policies,
            complaints=complained.get(cid, ()),
            interactions=contacts.get(cid, ()),
            responses=answered.get(cid, ()),
            config=config.warning,
        )
        yield figures_of(
            f,
            windows,
            config,
            churned_in_period=cid in churned,
            current_tier=tiers.get(cid),
            warning=warning,
            churn=None if f.customer.is_erased else open_churn(churned_by.get(cid, ()), as_of),
            complained_in_period=any(
                start < c.received_on <= as_of for c in complained.get(cid, ())
            ),
            referred_in_period=cid in referrers,
        )


# -- the statistics every customer is compared with --------------------------------------


def _share(part: Decimal, whole: Decimal) -> Decimal:
    return (part / whole).quantize(_PLACES) if whole else Decimal(0)


def _below_all(ours: Decimal, elsewhere: Decimal) -> bool:
    """The purchase share (rounded as the value figures round it) is below 100 %."""
    if not elsewhere:
        return not ours  # 0 of 0 counts as a share of 0
    return _share(ours, ours + elsewhere) < 1


def loyalty_score_of(f: AssessmentFigures, config: SegmentationConfig) -> Decimal:
    """The value quadrant's loyalty score (§5.2) from the figures."""
    value = value_figures(
        f.customer_id,
        f.in_force_premium,
        f.elsewhere_premium,
        f.window_renewals,
        f.window_missed,
        f.window_premium,
    )
    return loyalty_score(value, config.quadrant)


def recovery_of(
    f: AssessmentFigures, factor: float, config: RecoveryConfig
) -> RecoveryDecision | None:
    """The recovery decision (§7.3) for the churned customer of ``f``, as
    :func:`~insurcrm.domain.recovery.decide_recovery` gives it, their win-back valued at
    ``factor`` (:func:`~insurcrm.domain.future_value.win_back_factor`); None when they have
    no open churn record."""
    if f.churn_id is None or f.churn_on is None:
        return None
    record = ChurnRecord(
        f.churn_id,
        f.customer_id,
        f.churn_on,
        ChurnStructure[f.churn_structure] if f.churn_structure else None,
        tuple(ChurnCause[c] for c in f.churn_causes),
    )
    value = Money(win_back_worth(f.lost_premium, factor), DEFAULT_CURRENCY)
    return decide_recovery(record, value, config)


@attrs.frozen
class AssessmentStats:
    """The portfolio statistics of §5: RFM means, quadrant thresholds, the value median.

    Attributes:
        means: RFM totals over the customers with a purchase.
        thresholds: the medians of the loyalty score and the profit.
        value_median: the median current value (premium in the RFM window).
    """

    means: RfmMeans
    thresholds: QuadrantThresholds
    value_median: Decimal


class TierChange(LabelledEnum):
    """What the tier rule (§6) says is due, compared with the tier held.

    ``AT_RISK``: they qualify only for a lower tier; a downgrade is possible at the
    annual review after the grace period — ``insurcrm tiers review`` decides it.
    """

    ENROL = ("ENROL", "待入级")
    UPGRADE = ("UPGRADE", "应升级")
    AT_RISK = ("AT_RISK", "有降级风险")
    KEEP = ("KEEP", "保持")


class AssessmentRow(NamedTuple):
    """One customer's assessment (compact: codes, no personal data).

    ``rfm_type``, ``rfm_segment``, ``quadrant`` and ``retention`` are None for a
    customer without a purchase (a prospect is not value-segmented); ``credit`` is
    None before any purchase. ``tier_change`` is None for an erased customer: their
    tier is still worked out, for the totals, but no change is due (the tier review
    skips them too). ``warning_score`` and ``warning_level`` are the early
    warning (§7.2) of :func:`~insurcrm.domain.early_warning.early_warning`. ``win_back`` and
    ``win_back_recommended`` are the recovery decision (§7.3) of
    :func:`~insurcrm.domain.recovery.decide_recovery` for a churned customer (None for
    the others).
    """

    customer_id: str
    region: str | None
    agent_id: str | None
    loyalty_level: LoyaltyLevel
    loyalty_type: LoyaltyType
    credit: CreditGrade | None
    rfm_type: int | None
    rfm_segment: RfmSegment | None
    quadrant: ValueQuadrant | None
    retention: RetentionClass | None
    tier: str
    current_tier: str | None
    tier_change: TierChange | None
    warning_score: int
    warning_level: WarningLevel
    win_back: WinBackStance | None
    win_back_recommended: bool | None
    premium: Decimal
    premium_in_force: Decimal
    churned_in_period: bool


_LEVEL_RANK = {level: i for i, level in enumerate(LoyaltyLevel)}
#: The tier indicators in the order :meth:`Assessor.tier_index` lists the figures.
_INDICATORS = (
    Indicator.ANNUAL_PREMIUM,
    Indicator.POLICIES_IN_FORCE,
    Indicator.TENURE_YEARS,
    Indicator.REFERRALS,
    Indicator.HOUSEHOLD_LONG_TERM_POLICIES,
    Indicator.LOYALTY_LEVEL,
    Indicator.CREDIT_GRADE,
)
assert set(_INDICATORS) == set(Indicator), "every tier indicator has a figure"


def _number(rank: Decimal) -> Decimal | int:
    """A threshold as an int when whole (int comparisons are cheaper than Decimal ones)."""
    return int(rank) if rank == rank.to_integral_value() else rank


_CREDIT_RANK = {grade: 3 - i for i, grade in enumerate(CreditGrade)}


class FigureRules:
    """The rules that look at a customer's own figures alone, not at the rest of the
    portfolio: loyalty level and type, credit grade, tier, early warning and recovery.

    Everything that is the same for every customer — the window dates, the tier
    ladder's thresholds as numbers — is worked out once here, so each customer costs a
    few comparisons.
    """

    def __init__(self, as_of: dt.date, config: AssessmentConfig) -> None:
        cfg = config.segmentation
        self.as_of = as_of
        self.config = config
        self._ladder = cfg.ladder
        self._active_from = add_years(as_of, -cfg.ladder.active_recent_years)
        self._new_from = add_years(as_of, -1)
        self._types = cfg.types
        self._credit = cfg.credit
        self._new_days = cfg.rfm.new_customer_days
        self._quadrant = cfg.quadrant
        self._tiers = tuple(
            (
                t.combine is Combine.ALL,
                tuple((_INDICATORS.index(c.indicator), _number(c.rank)) for c in t.criteria),
            )
            for t in config.ladder.tiers
        )
        self._codes = config.ladder.codes
        self._warning = config.warning
        self._win_back_factor = win_back_factor(config.win_back_model, config.future)

    def recovery(self, f: AssessmentFigures) -> RecoveryDecision | None:
        """The recovery decision (§7.3) for a churned customer, as
        :func:`~insurcrm.domain.recovery.decide_recovery` gives it; None for the others."""
        return recovery_of(f, self._win_back_factor, self.config.recovery)

    def warning(self, f: AssessmentFigures) -> int:
        """The early-warning score (§7.2), as
        :func:`~insurcrm.domain.early_warning.early_warning` gives it."""
        cfg = self._warning
        return warning_score(warning_signals(warning_figures_of(f), self.as_of, cfg), cfg)

    def level(self, f: AssessmentFigures) -> LoyaltyLevel:
        """The loyalty ladder (§4.2), as :func:`~insurcrm.domain.loyalty.loyalty_level`."""
        cfg = self._ladder
        if f.purchases == 0 or f.first_purchase is None or f.last_purchase is None:
            contacted = f.two_way_lead or f.contacted
            return LoyaltyLevel.PROSPECT if contacted else LoyaltyLevel.ORDINARY_BUYER
        active = (
            f.purchases >= cfg.active_min_purchases
            and f.in_force > 0
            and f.last_purchase > self._active_from
        )
        if not active:
            return LoyaltyLevel.GENERAL
        if f.referred_buyers < cfg.advocate_min_referred_buyers:
            return LoyaltyLevel.ACTIVE
        if (
            f.referred_buyers >= cfg.partner_min_referred_buyers or f.cooperation_partner
        ) and whole_years_between(f.first_purchase, self.as_of) >= cfg.partner_min_tenure_years:
            return LoyaltyLevel.PARTNER
        return LoyaltyLevel.ADVOCATE

    def loyalty_type(self, f: AssessmentFigures) -> LoyaltyType:
        """§4.3 with the signals derived from the record: attachment from the latest
        satisfaction outcome, the referrals and the attitude to competitors (:meth:`attached`);
        the given signals (no alternative, convenience, constraints, price sensitivity) are
        not set."""
        cfg = self._types
        attached = self.attached(f)
        if f.recent_purchases < cfg.repeat_min_purchases:
            return LoyaltyType.LATENT if attached else LoyaltyType.NONE
        if attached:
            return LoyaltyType.PREMIUM
        share = _share(Decimal(f.rewarded_purchases), Decimal(f.purchases))
        return LoyaltyType.INCENTIVE if share >= cfg.incentive_min_share else LoyaltyType.INERTIA

    def attached(self, f: AssessmentFigures) -> bool:
        """Attachment is high (§4.3, :func:`~insurcrm.domain.loyalty.attachment_high`) from
        the latest judged survey response's figures."""
        cfg = self._types
        outcome = None
        if f.survey_experience is not None and f.survey_expectation is not None:
            judged = satisfaction_outcome(
                f.survey_experience, f.survey_expectation, cfg.satisfaction
            )
            outcome = judged.outcome
        attitude = Attitude.FAVOURS_US if f.favours_us else None
        return attachment_high(outcome, f.referrals, attitude, cfg)

    def credit(self, f: AssessmentFigures) -> CreditGrade | None:
        """The credit grade (§1.3), as :func:`~insurcrm.domain.credit.grade_credit`."""
        return credit_grade(f.credit_purchases, f.credit_missed, f.bad_endings > 0, self._credit)

    def tier_index(
        self, f: AssessmentFigures, level: LoyaltyLevel, credit: CreditGrade | None
    ) -> int:
        """The index of the qualifying tier, as :meth:`TierLadder.qualifying`."""
        first = f.first_purchase
        figures = (  # in the order of _INDICATORS
            f.in_force_premium,
            f.in_force,
            whole_years_between(first, self.as_of) if first else 0,
            f.referred_buyers,
            f.household_long_term,
            _LEVEL_RANK[level],
            -1 if credit is None else _CREDIT_RANK[credit],
        )
        best = 0
        for i, (every, criteria) in enumerate(self._tiers):
            if not criteria:
                best = i
                continue
            if every:
                if all(figures[k] >= rank for k, rank in criteria):
                    best = i
            elif any(figures[k] >= rank for k, rank in criteria):
                best = i
        return best

    def tier_figures(self, f: AssessmentFigures) -> TierFigures:
        """The customer's tier indicators (§6), as
        :func:`~insurcrm.domain.classification.tier_figures` gives them from their facts:
        what :func:`~insurcrm.domain.tier_membership.evaluate_tier` looks at."""
        first = f.first_purchase
        return TierFigures(
            annual_premium=f.in_force_premium,
            policies_in_force=f.in_force,
            tenure_years=whole_years_between(first, self.as_of) if first else 0,
            first_purchase=first,
            referrals=f.referred_buyers,
            household_long_term_policies=f.household_long_term,
            loyalty_level=self.level(f),
            credit_grade=self.credit(f),
        )

    def _tier_change(self, qualifying: int, current: str | None) -> TierChange:
        if current is None or current not in self._codes:
            return TierChange.ENROL
        held = self._codes.index(current)
        if qualifying > held:
            return TierChange.UPGRADE
        return TierChange.AT_RISK if qualifying < held else TierChange.KEEP


class Assessor(FigureRules):
    """Classifies customers from their figures against the portfolio statistics.

    Besides the :class:`FigureRules`, the means are worked out once here as exact
    totals, so each customer costs a few comparisons (a million customers are
    classified in seconds). :func:`assess_figures` is the one-customer shortcut.
    """

    def __init__(self, stats: AssessmentStats, as_of: dt.date, config: AssessmentConfig) -> None:
        super().__init__(as_of, config)
        self.stats = stats
        self._n = stats.means.customers

    def __call__(self, f: AssessmentFigures, loyalty_score: Decimal | None = None) -> AssessmentRow:
        """Every classification of one customer (``loyalty_score``: their
        :func:`loyalty_score_of`, when already computed)."""
        as_of = self.as_of
        level = self.level(f)
        credit = self.credit(f)
        rfm_type = segment = quadrant = retention = None
        first, last = f.first_purchase, f.last_purchase
        if f.purchases and first is not None and last is not None:
            means, n, stats = self.stats.means, self._n, self.stats
            key = (
                (as_of - last).days * n >= means.recency_total,
                f.window_purchases * n >= means.frequency_total,
                f.window_premium * n >= means.monetary_total,
            )
            rfm_type = RFM_TYPES[key]
            segment = segment_of(rfm_type, (as_of - first).days < self._new_days)
            if loyalty_score is None:
                loyalty_score = loyalty_score_of(f, self.config.segmentation)
            loyal = loyalty_score >= stats.thresholds.loyalty
            quadrant = QUADRANT_OF[(loyal, f.window_premium >= stats.thresholds.profit)]
            potential = (
                _below_all(f.in_force_premium, f.elsewhere_premium)
                or first > self._new_from
                or f.referred_buyers > 0
            )
            retention = RETENTION_CLASS_OF[(f.window_premium >= stats.value_median, potential)]
        tier_index = self.tier_index(f, level, credit)
        warning = self.warning(f)
        recovery = self.recovery(f)
        return AssessmentRow(
            customer_id=f.customer_id,
            region=f.region,
            agent_id=f.agent_id,
            loyalty_level=level,
            loyalty_type=self.loyalty_type(f),
            credit=credit,
            rfm_type=rfm_type,
            rfm_segment=segment,
            quadrant=quadrant,
            retention=retention,
            tier=self._codes[tier_index],
            current_tier=f.current_tier,
            tier_change=None if f.erased else self._tier_change(tier_index, f.current_tier),
            warning_score=warning,
            warning_level=self._warning.level(warning),
            win_back=recovery.stance if recovery else None,
            win_back_recommended=recovery.recommended if recovery else None,
            premium=f.window_premium,
            premium_in_force=f.in_force_premium,
            churned_in_period=f.churned_in_period,
        )


def assess_figures(
    f: AssessmentFigures, stats: AssessmentStats, as_of: dt.date, config: AssessmentConfig
) -> AssessmentRow:
    """Every classification of one customer from their figures (§1.3, §4–§6); for many
    customers make one :class:`Assessor` and call it for each."""
    return Assessor(stats, as_of, config)(f)


# -- totals --------------------------------------------------------------------------------


K = TypeVar("K")


def _bump(counts: dict[K, int], key: K) -> None:
    counts[key] = counts.get(key, 0) + 1


@attrs.define
class GroupTotals:
    """Customers and premium of one region or agent."""

    customers: int = 0
    premium_in_force: Decimal = _ZERO
    in_force: int = 0


@attrs.define
class AssessmentTotals:
    """The portfolio totals (§10.1), added up row by row as the assessment streams.

    Attributes:
        customers: customers assessed.
        by_level, by_type, by_segment, by_quadrant, by_retention, by_credit, by_tier,
            by_tier_change, by_warning, by_win_back: customers per class (None for "not
            classed"; for by_tier_change, erased; for by_win_back, not churned).
        win_backs_recommended: churned customers whose win-back is recommended (§7.3).
        by_region: customers and premium in force per region (province code).
        by_agent: customers and premium in force per agent.
        pareto: the premium share of the top 20 % (set at the end).
        churn: the churn and retention rates of the year before the date (set at the end).
        satisfaction: the satisfaction indicators (§3) of that year (set at the end), as
            :func:`~insurcrm.domain.satisfaction.satisfaction_indicators` gives them; the
            fields after it are what it is added up from.
    """

    as_of: dt.date
    customers: int = 0
    by_level: dict[LoyaltyLevel, int] = attrs.field(factory=dict)
    by_type: dict[LoyaltyType, int] = attrs.field(factory=dict)
    by_segment: dict[RfmSegment | None, int] = attrs.field(factory=dict)
    by_quadrant: dict[ValueQuadrant | None, int] = attrs.field(factory=dict)
    by_retention: dict[RetentionClass | None, int] = attrs.field(factory=dict)
    by_credit: dict[CreditGrade | None, int] = attrs.field(factory=dict)
    by_tier: dict[str, int] = attrs.field(factory=dict)
    by_tier_change: dict[TierChange | None, int] = attrs.field(factory=dict)
    by_warning: dict[WarningLevel, int] = attrs.field(factory=dict)
    by_win_back: dict[WinBackStance | None, int] = attrs.field(factory=dict)
    win_backs_recommended: int = 0
    satisfaction: SatisfactionIndicators | None = None
    served: int = 0
    served_complaining: int = 0
    served_referring: int = 0
    bought_before_period: int = 0
    repeat_buyers: int = 0
    period_sales: Decimal = _ZERO
    period_purchases: int = 0
    by_region: dict[str | None, GroupTotals] = attrs.field(factory=dict)
    by_agent: dict[str | None, GroupTotals] = attrs.field(factory=dict)
    pareto: ParetoResult | None = None
    churn: ChurnRates | None = None
    customers_at_start: int = 0
    churned: int = 0

    def add(self, row: AssessmentRow, figures: AssessmentFigures) -> None:
        """Count one customer's row."""
        self.customers += 1
        _bump(self.by_level, row.loyalty_level)
        _bump(self.by_type, row.loyalty_type)
        _bump(self.by_segment, row.rfm_segment)
        _bump(self.by_quadrant, row.quadrant)
        _bump(self.by_retention, row.retention)
        _bump(self.by_credit, row.credit)
        _bump(self.by_tier, row.tier)
        _bump(self.by_tier_change, row.tier_change)
        _bump(self.by_warning, row.warning_level)
        _bump(self.by_win_back, row.win_back)
        if row.win_back_recommended:
            self.win_backs_recommended += 1
        for groups, key in ((self.by_region, row.region), (self.by_agent, row.agent_id)):
            group = groups.get(key)
            if group is None:
                group = groups[key] = GroupTotals()
            group.customers += 1
            group.premium_in_force += row.premium_in_force
            group.in_force += figures.in_force
        self.add_period(figures)

    def add_period(self, figures: AssessmentFigures) -> None:
        """Count one customer's figures towards the year's churn rates and satisfaction
        indicators alone (:meth:`add` does, with the rest of the row)."""
        if figures.in_force_at_start:
            self.customers_at_start += 1
            if figures.churned_in_period:
                self.churned += 1
        if figures.served:
            self.served += 1
            self.served_complaining += figures.complained_in_period
            self.served_referring += figures.referred_in_period
        if figures.bought_before_period:
            self.bought_before_period += 1
            self.repeat_buyers += figures.bought_new_in_period
        self.period_sales += figures.period_sales
        self.period_purchases += figures.period_purchases

    def finish(self, pareto: ParetoResult, period_start: dt.date, counts: PeriodCounts) -> None:
        """Set the totals that need every row: the Pareto share, the churn rates and the
        satisfaction indicators (``counts``: those over the period's survey responses and
        churn records)."""
        self.pareto = pareto
        self.finish_period(period_start, counts)

    def finish_period(
        self, period_start: dt.date, counts: PeriodCounts
    ) -> tuple[ChurnRates, SatisfactionIndicators]:
        """Set, and return, the churn rates and the satisfaction indicators of the year
        from ``period_start`` once every customer is counted (:meth:`finish` does, with the
        Pareto share)."""
        self.churn = ChurnRates(period_start, self.as_of, self.customers_at_start, self.churned)
        self.satisfaction = SatisfactionIndicators(
            start=period_start,
            end=self.as_of,
            reputation=counts.reputation,
            naming_rate=counts.naming_rate,
            repeat_rate=Rate(self.repeat_buyers, self.bought_before_period),
            complaint_rate=Rate(self.served_complaining, self.served),
            sales_power=Money(self.period_sales, DEFAULT_CURRENCY),
            purchases=self.period_purchases,
            price_sensitivity=counts.price_sensitivity,
            referral_rate=Rate(self.served_referring, self.served),
        )
        return self.churn, self.satisfaction
