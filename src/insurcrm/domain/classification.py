"""One customer's whole classification (§3–§5), from facts gathered once.

:func:`customer_figures` derives the per-customer figures (RFM and value
figures) the portfolio statistics are computed from; :class:`PortfolioFigures`
holds those statistics (RFM means, quadrant thresholds, the median current
value) computed in one pass; :func:`classify_customer` applies every rule of
§4–§5 to one customer against them. Same input, same result, on any backend.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable
from decimal import Decimal
from typing import Protocol, TypeVar

import attrs

from insurcrm.domain.credit import CreditAssessment, CreditConfig, grade_credit
from insurcrm.domain.customers import Customer, LeadSource
from insurcrm.domain.dates import add_years, whole_years_between
from insurcrm.domain.interactions import Interaction, two_way_contacts
from insurcrm.domain.loyalty import (
    Attitude,
    LadderConfig,
    LadderResult,
    LoyaltyTypeConfig,
    LoyaltyTypeResult,
    SatisfactionOutcome,
    derive_signals,
    ladder_facts,
    loyalty_level,
    loyalty_type,
    purchase_dates,
)
from insurcrm.domain.policies import Policy, PurchaseKind, ours_in_force
from insurcrm.domain.programmes import (
    ProductMix,
    ProgrammeConfig,
    ProgrammeResult,
    communication_style,
    household_long_term_in_force,
    internal_customer_benefits,
    loyalty_purchase_reward,
    product_mix,
    revisit_due,
    vip_services,
)
from insurcrm.domain.rfm import (
    RfmConfig,
    RfmFigures,
    RfmMeans,
    RfmResult,
    RfmSegment,
    classify_rfm,
    rfm_figures,
)
from insurcrm.domain.satisfaction import SurveyResponse, latest_judged
from insurcrm.domain.segmentation import (
    GrowthPotential,
    ProfitConfig,
    ProfitResult,
    QuadrantConfig,
    QuadrantResult,
    QuadrantThresholds,
    RetentionResult,
    ValueFigures,
    classify_profit,
    classify_quadrant,
    classify_retention,
    loyalty_score,
    median,
)
from insurcrm.domain.tiers import TierFigures
from insurcrm.domain.values import total_in

__all__ = [
    "TWO_WAY_LEAD_SOURCES",
    "CustomerClassification",
    "CustomerFacts",
    "CustomerFigures",
    "PortfolioFigures",
    "SegmentationConfig",
    "by_customer",
    "classify_customer",
    "customer_figures",
    "gather_facts",
    "referral_known",
    "tier_figures",
    "value_figures",
]

#: Lead sources obtained by talking with the customer: such a lead counts as one two-way
#: contact for the loyalty ladder's PROSPECT rung when none is logged (the conversation that
#: found the lead came before the log).
TWO_WAY_LEAD_SOURCES = frozenset(
    {
        LeadSource.PERSONAL_VISIT,
        LeadSource.PHONE_SURVEY,
        LeadSource.SELF_FILLED_CARD,
        LeadSource.CUSTOMER_REFERRAL,
    }
)


_PLACES = Decimal("0.0001")


@attrs.frozen
class SegmentationConfig:
    """Every rule's configuration, with DOMAIN.md's defaults.

    ``vip_segments``: the RFM segments whose customers get the VIP basic services
    (DOMAIN.md does not say who is a VIP; default: HIGH_VALUE and KEY_RETENTION).
    """

    ladder: LadderConfig = attrs.field(factory=LadderConfig)
    types: LoyaltyTypeConfig = attrs.field(factory=LoyaltyTypeConfig)
    rfm: RfmConfig = attrs.field(factory=RfmConfig)
    quadrant: QuadrantConfig = attrs.field(factory=QuadrantConfig)
    profit: ProfitConfig = attrs.field(factory=ProfitConfig)
    programmes: ProgrammeConfig = attrs.field(factory=ProgrammeConfig)
    credit: CreditConfig = attrs.field(factory=CreditConfig)
    vip_segments: frozenset[RfmSegment] = frozenset(
        {RfmSegment.HIGH_VALUE, RfmSegment.KEY_RETENTION}
    )


@attrs.frozen
class CustomerFacts:
    """Everything the rules look at for one customer.

    Attributes:
        customer: the customer.
        policies: the policies they hold as policyholder.
        household_policies: the policies of every member of their household
            (their own when they have none).
        referrals: customers they referred, known by the date (registered, or bought, by
            then).
        referred_buyers: referred customers who bought.
        two_way_contacts: logged two-way contacts or quotes up to the date
            (:func:`~insurcrm.domain.interactions.two_way_contacts`; when none is logged, a
            lead in :data:`TWO_WAY_LEAD_SOURCES` counts as one).
        latest_satisfaction: the latest satisfaction outcome, when given; otherwise it is
            that of ``latest_survey``, judged with the loyalty type's tolerance.
        service_cost: the cost of serving them in the RFM window, when known.
        latest_survey: their latest survey response up to the date that asked their
            expectation (:func:`~insurcrm.domain.satisfaction.latest_judged`), if any.
        competitor_attitude: their attitude to competitors, when given; otherwise the one
            ``latest_survey`` shows (its INDUSTRY answer).
    """

    customer: Customer
    policies: tuple[Policy, ...]
    household_policies: tuple[Policy, ...] = ()
    referrals: int = 0
    referred_buyers: int = 0
    two_way_contacts: int = 0
    latest_satisfaction: SatisfactionOutcome | None = None
    service_cost: Decimal | None = None
    latest_survey: SurveyResponse | None = None
    competitor_attitude: Attitude | None = None


@attrs.frozen
class CustomerFigures:
    """The per-customer figures the portfolio statistics come from (compact)."""

    customer_id: str
    rfm: RfmFigures | None
    value: ValueFigures | None


def value_figures(
    customer_id: str,
    ours: Decimal,
    elsewhere: Decimal,
    renewals: int,
    missed: int,
    profit: Decimal,
) -> ValueFigures:
    """The value quadrant's figures (§5.2) from the customer's counts: premium in force with
    us and elsewhere, renewals and missed premiums in the RFM window, and profit."""
    wallet = ours + elsewhere
    share = (ours / wallet).quantize(_PLACES) if wallet else Decimal(0)
    due = renewals + missed
    continuity = (Decimal(renewals) / due).quantize(_PLACES) if due else Decimal(1)
    default_rate = (Decimal(missed) / due).quantize(_PLACES) if due else Decimal(0)
    return ValueFigures(
        customer_id,
        purchase_share=share,
        continuity=continuity,
        default_rate=default_rate,
        profit=profit,
    )


def _value_figures(
    facts: CustomerFacts, rfm: RfmFigures, as_of: dt.date, cfg: RfmConfig
) -> ValueFigures:
    since = as_of - dt.timedelta(days=cfg.window_days)
    ours = total_in(p.annual_premium for p in ours_in_force(facts.policies, as_of))  # in CNY
    elsewhere = total_in(
        h.annual_premium for h in facts.customer.holdings if h.annual_premium is not None
    )
    renewals = sum(
        1
        for p in facts.policies
        for purchase in p.purchases
        if purchase.kind is PurchaseKind.RENEWAL and since < purchase.on <= as_of
    )
    missed = sum(
        1 for p in facts.policies for m in p.missed_premiums if since < m.due_date <= as_of
    )
    cost = facts.service_cost if facts.service_cost is not None else Decimal(0)
    return value_figures(facts.customer.id, ours, elsewhere, renewals, missed, rfm.monetary - cost)


def customer_figures(
    facts: CustomerFacts, as_of: dt.date, config: SegmentationConfig | None = None
) -> CustomerFigures:
    """The customer's RFM and value figures (both None without a purchase)."""
    cfg = config or SegmentationConfig()
    rfm = rfm_figures(facts.customer.id, facts.policies, as_of, cfg.rfm)
    if rfm is None:
        return CustomerFigures(facts.customer.id, None, None)
    return CustomerFigures(facts.customer.id, rfm, _value_figures(facts, rfm, as_of, cfg.rfm))


@attrs.frozen
class PortfolioFigures:
    """The portfolio statistics each customer is compared with."""

    rfm_means: RfmMeans
    quadrant_thresholds: QuadrantThresholds
    value_median: Decimal

    @classmethod
    def of(
        cls, figures: Iterable[CustomerFigures], config: SegmentationConfig | None = None
    ) -> PortfolioFigures:
        """Compute the statistics in one pass over the customers' figures."""
        cfg = config or SegmentationConfig()
        means = RfmMeans.of(())
        scores: list[Decimal] = []
        profits: list[Decimal] = []
        values: list[Decimal] = []
        for fig in figures:
            if fig.rfm is None or fig.value is None:
                continue
            means = means.add(fig.rfm)
            scores.append(loyalty_score(fig.value, cfg.quadrant))
            profits.append(fig.value.profit)
            values.append(fig.rfm.monetary)
        return cls(
            means,
            QuadrantThresholds(loyalty=median(scores), profit=median(profits)),
            median(values),
        )


@attrs.frozen
class CustomerClassification:
    """Every classification of §4–§5 for one customer as of a date, with reasons."""

    customer_id: str
    as_of: dt.date
    ladder: LadderResult
    loyalty_type: LoyaltyTypeResult
    credit: CreditAssessment
    rfm: RfmResult | None
    quadrant: QuadrantResult | None
    retention: RetentionResult | None
    profit: ProfitResult
    internal_benefits: ProgrammeResult
    vip: ProgrammeResult
    loyalty_reward: ProgrammeResult
    revisit: ProgrammeResult
    product_mix: ProductMix
    communication_style: str


def _growth_potential(
    facts: CustomerFacts, value: ValueFigures, rfm: RfmFigures, as_of: dt.date
) -> tuple[GrowthPotential, str]:
    """High when there is room to grow: cover held elsewhere, a new customer (first purchase
    within a year) or one who brings buyers by referral."""
    signs = []
    if value.purchase_share < 1:
        signs.append(f"only {value.purchase_share:.0%} of their insurance spend is with us")
    if rfm.first_purchase > add_years(as_of, -1):
        signs.append("new customer (first purchase within a year)")
    if facts.referred_buyers > 0:
        signs.append(f"{facts.referred_buyers} referred buyer(s)")
    if signs:
        return GrowthPotential.HIGH, "; ".join(signs)
    return GrowthPotential.LOW, "all cover with us, not new, no referred buyers"


def _satisfaction(
    facts: CustomerFacts, cfg: SegmentationConfig
) -> tuple[SatisfactionOutcome | None, Attitude | None]:
    """The latest satisfaction outcome and the attitude to competitors, as given or as
    their latest judged survey response shows them."""
    outcome, attitude = facts.latest_satisfaction, facts.competitor_attitude
    survey = facts.latest_survey
    if survey is not None:
        if outcome is None:
            judged = survey.outcome(cfg.types.satisfaction)
            outcome = judged.outcome if judged is not None else None
        if attitude is None:
            attitude = survey.attitude
    return outcome, attitude


def _ladder(facts: CustomerFacts, as_of: dt.date, cfg: SegmentationConfig) -> LadderResult:
    contacts = facts.two_way_contacts
    if contacts == 0 and facts.customer.lead_source in TWO_WAY_LEAD_SOURCES:
        contacts = 1
    return loyalty_level(
        ladder_facts(
            facts.policies,
            as_of,
            two_way_contacts=contacts,
            referred_buyers=facts.referred_buyers,
            cooperation_partner=facts.customer.cooperation_partner,
        ),
        as_of,
        cfg.ladder,
    )


class _CustomerRecord(Protocol):
    @property
    def customer_id(self) -> str: ...


R = TypeVar("R", bound=_CustomerRecord)


def by_customer(records: Iterable[R]) -> dict[str, list[R]]:
    """``records`` grouped by their customer, each group in the order given."""
    grouped: dict[str, list[R]] = {}
    for record in records:
        grouped.setdefault(record.customer_id, []).append(record)
    return grouped


def referral_known(referred: Customer, bought: bool, as_of: dt.date) -> bool:
    """A referral counts as of ``as_of`` when the referred customer is known by then:
    registered by then, or a buyer by then (a migrated record can be made after the
    policies it holds)."""
    return bought or referred.created_on <= as_of


def gather_facts(
    customers: Iterable[Customer],
    policies: Iterable[Policy],
    as_of: dt.date,
    *,
    interactions: Iterable[Interaction] = (),
    responses: Iterable[SurveyResponse] = (),
) -> list[CustomerFacts]:
    """Build every customer's facts from all customers, all policies, and the logged
    contacts and survey responses (none when omitted), in one pass over each."""
    people = list(customers)
    contacts = by_customer(interactions)
    answered = by_customer(responses)
    holding: dict[str, list[Policy]] = defaultdict(list)
    for policy in policies:
        holding[policy.policyholder_id].append(policy)
    members: dict[str, list[str]] = defaultdict(list)
    referred: dict[str, list[Customer]] = defaultdict(list)
    for c in people:
        if c.household_id is not None:
            members[c.household_id].append(c.id)
        if c.referred_by is not None:
            referred[c.referred_by].append(c)

    def bought(customer_id: str) -> bool:
        return bool(purchase_dates(holding.get(customer_id, ()), as_of))

    facts = []
    for c in people:
        own = tuple(holding.get(c.id, ()))
        household = (
            tuple(p for m in members[c.household_id] for p in holding.get(m, ()))
            if c.household_id is not None
            else own
        )
        facts.append(
            CustomerFacts(
                customer=c,
                policies=own,
                household_policies=household,
                referrals=sum(
                    1 for r in referred.get(c.id, ()) if referral_known(r, bought(r.id), as_of)
                ),
                referred_buyers=sum(1 for r in referred.get(c.id, ()) if bought(r.id)),
                two_way_contacts=two_way_contacts(contacts.get(c.id, ()), as_of),
                latest_survey=latest_judged(answered.get(c.id, ()), as_of),
            )
        )
    return facts


def tier_figures(
    facts: CustomerFacts, as_of: dt.date, config: SegmentationConfig | None = None
) -> TierFigures:
    """The customer's service-tier indicators (§6) as of ``as_of``, with the same
    definitions as the other rules (loyalty level §4.2, credit grade §1.3).

    Only our policies count; premiums and counts are of policies in force on
    ``as_of`` that the customer holds as policyholder (premiums in CNY); tenure runs from their
    first purchase; referrals are referred customers who bought.
    """
    cfg = config or SegmentationConfig()
    in_force = ours_in_force(facts.policies, as_of)
    household = facts.household_policies or facts.policies
    bought = purchase_dates(facts.policies, as_of)
    first = min(bought) if bought else None
    return TierFigures(
        annual_premium=total_in(p.annual_premium for p in in_force),  # in CNY
        policies_in_force=len(in_force),
        tenure_years=whole_years_between(first, as_of) if first is not None else 0,
        first_purchase=first,
        referrals=facts.referred_buyers,
        household_long_term_policies=household_long_term_in_force(household, as_of),
        loyalty_level=_ladder(facts, as_of, cfg).level,
        credit_grade=grade_credit(facts.policies, as_of, cfg.credit).grade,
    )


def classify_customer(
    facts: CustomerFacts,
    portfolio: PortfolioFigures,
    as_of: dt.date,
    config: SegmentationConfig | None = None,
    figures: CustomerFigures | None = None,
) -> CustomerClassification:
    """Apply every rule of §4–§5 to one customer against the portfolio's statistics.

    ``figures`` are the customer's :func:`customer_figures` when already computed
    (for the portfolio statistics); they are computed here otherwise.
    """
    cfg = config or SegmentationConfig()
    customer = facts.customer
    ladder = _ladder(facts, as_of, cfg)
    satisfaction, attitude = _satisfaction(facts, cfg)
    signals = derive_signals(
        facts.policies,
        as_of,
        latest_satisfaction=satisfaction,
        referrals=facts.referrals,
        competitor_attitude=attitude,
        config=cfg.types,
    )
    kind = loyalty_type(signals, cfg.types)
    credit = grade_credit(facts.policies, as_of, cfg.credit)
    if figures is None:
        figures = customer_figures(facts, as_of, cfg)
    rfm = quadrant = retention = None
    if figures.rfm is not None and figures.value is not None:
        rfm = classify_rfm(figures.rfm, portfolio.rfm_means, as_of, cfg.rfm)
        quadrant = classify_quadrant(figures.value, portfolio.quadrant_thresholds, cfg.quadrant)
        potential, why = _growth_potential(facts, figures.value, figures.rfm, as_of)
        retention = classify_retention(
            customer.id, figures.rfm.monetary, portfolio.value_median, potential, why
        )
    premium = figures.rfm.monetary if figures.rfm is not None else Decimal(0)
    profit = classify_profit(premium, facts.service_cost, cfg.profit)
    is_vip = rfm is not None and rfm.segment in cfg.vip_segments
    vip_why = f"RFM segment {rfm.segment.name}" if rfm is not None else "no purchase, not RFM-typed"
    household = facts.household_policies or facts.policies
    return CustomerClassification(
        customer_id=customer.id,
        as_of=as_of,
        ladder=ladder,
        loyalty_type=kind,
        credit=credit,
        rfm=rfm,
        quadrant=quadrant,
        retention=retention,
        profit=profit,
        internal_benefits=internal_customer_benefits(customer, cfg.programmes),
        vip=vip_services(is_vip, vip_why),
        loyalty_reward=loyalty_purchase_reward(household, as_of, cfg.programmes),
        revisit=revisit_due(purchase_dates(facts.policies, as_of), as_of, cfg.programmes),
        product_mix=product_mix(customer.risk_preference),
        communication_style=communication_style(customer.pdp),
    )
