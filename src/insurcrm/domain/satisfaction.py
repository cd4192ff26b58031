"""Satisfaction surveys and indicators (客户满意度, DOMAIN.md §3).

* A :class:`SurveyResponse` is one respondent's answers to a survey: who they are
  (policyholder, insured, beneficiary or prospect), the channel, and one answer in
  words per :class:`Dimension`. Two yes/no questions feed the indicators: would they
  praise us to others (美誉度), and did they ask for us by name when they bought (指名率).
  An optional ``expectation`` (what the customer expected, on the same word scale)
  gives the satisfaction outcome experience − expectation.
* :func:`survey_report` gives, per dimension, the distribution of answers and their
  average (VERY_SATISFIED = 5 … DISSATISFIED = 1), and warns when respondents are
  too few (default fewer than 30: visit them directly instead).
* :func:`next_survey_day` and :func:`check_survey_interval`: a customer is not
  surveyed again within the minimum interval (default 180 days); a refused survey
  says when the customer may next be asked.
* :func:`satisfaction_indicators` computes the eight indicators over a period, each
  with the counts it comes from.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Iterable, Mapping
from decimal import Decimal
from typing import Any, NamedTuple

import attrs

from insurcrm.domain.checks import positive_int
from insurcrm.domain.churn import ChurnCause, ChurnRecord, ChurnStructure, customers_in_force
from insurcrm.domain.complaints import Complaint
from insurcrm.domain.customers import Customer
from insurcrm.domain.fields import a_date, an_id, optional_text
from insurcrm.domain.labels import LabelledEnum
from insurcrm.domain.loyalty import (
    Attitude,
    SatisfactionConfig,
    SatisfactionResult,
    satisfaction_outcome,
)
from insurcrm.domain.policies import Policy, PurchaseKind
from insurcrm.domain.privacy import mask_text
from insurcrm.domain.rates import Rate
from insurcrm.domain.values import DEFAULT_CURRENCY, Money
from insurcrm.errors import RuleViolation, ValidationError

__all__ = [
    "Answer",
    "Dimension",
    "DimensionReport",
    "PeriodCounts",
    "RespondentRole",
    "SatisfactionIndicators",
    "SurveyChannel",
    "SurveyConfig",
    "SurveyReport",
    "SurveyResponse",
    "attitude_of",
    "check_survey_interval",
    "experience_of",
    "latest_judged",
    "next_survey_day",
    "period_counts",
    "price_led",
    "satisfaction_indicators",
    "survey_report",
]


class Answer(LabelledEnum):
    """A survey answer, in words rather than 1–10 numbers (best first)."""

    VERY_SATISFIED = ("VERY_SATISFIED", "非常满意")
    SATISFIED = ("SATISFIED", "满意")
    NEUTRAL = ("NEUTRAL", "一般")
    NOT_VERY_SATISFIED = ("NOT_VERY_SATISFIED", "不太满意")
    DISSATISFIED = ("DISSATISFIED", "不满意")

    @property
    def score(self) -> int:
        """5 for VERY_SATISFIED down to 1 for DISSATISFIED (used for averages only)."""
        return 5 - list(Answer).index(self)


class RespondentRole(LabelledEnum):
    """Who answered the survey."""

    POLICYHOLDER = ("POLICYHOLDER", "投保人")
    INSURED = ("INSURED", "被保险人")
    BENEFICIARY = ("BENEFICIARY", "受益人")
    PROSPECT = ("PROSPECT", "潜在客户")


class SurveyChannel(LabelledEnum):
    """How the survey was taken."""

    ON_SITE = ("ON_SITE", "现场问卷")
    PHONE = ("PHONE", "电话")
    MAIL = ("MAIL", "邮寄")
    ONLINE = ("ONLINE", "网上")


class Dimension(LabelledEnum):
    """What a survey asks about."""

    SERVICE = ("SERVICE", "服务")
    OPERATIONS = ("OPERATIONS", "运营")
    PRODUCT_PRICE = ("PRODUCT_PRICE", "产品与价格")
    INDUSTRY = ("INDUSTRY", "行业")


def _answers(items: Mapping[Dimension, Answer]) -> dict[Dimension, Answer]:
    if not isinstance(items, Mapping):
        raise ValidationError("answers", "type", "must map Dimension to Answer")
    found: dict[Dimension, Answer] = {}
    for key, answer in items.items():
        if not isinstance(key, Dimension):
            raise ValidationError("answers", "type", "keys must be Dimension")
        if not isinstance(answer, Answer):
            raise ValidationError(f"answers.{key.name}", "type", "must be Answer")
        found[key] = answer
    return {d: found[d] for d in Dimension if d in found}


def _optional_flag(instance: Any, attribute: attrs.Attribute[Any], value: object) -> None:
    if value is not None and not isinstance(value, bool):
        raise ValidationError(attribute.name, "type", "must be True, False or None")


def experience_of(answers: Iterable[Answer]) -> Decimal:
    """The average score of ``answers`` (2 places): a response's experience.

    Raises:
        ValidationError: no answer.
    """
    scores = [a.score for a in answers]
    if not scores:
        raise ValidationError("answers", "required", "at least one answer is needed")
    return (Decimal(sum(scores)) / len(scores)).quantize(Decimal("0.01"))


def attitude_of(industry: Answer | None) -> Attitude | None:
    """The attitude to competitors (对竞争产品的态度, §4.1) a response's INDUSTRY answer shows:
    that dimension asks how we compare with competitors, so SATISFIED or better favours us,
    NEUTRAL is indifferent, and below it favours competitors (None: not asked)."""
    if industry is None:
        return None
    if industry.score >= Answer.SATISFIED.score:
        return Attitude.FAVOURS_US
    if industry is Answer.NEUTRAL:
        return Attitude.INDIFFERENT
    return Attitude.FAVOURS_COMPETITORS


@attrs.frozen
class SurveyResponse:
    """One respondent's answers to a survey (满意度调查).

    Attributes:
        id: the response id.
        survey_id: the survey (campaign) it belongs to.
        customer_id: the respondent (a prospect is a customer without a purchase).
        role: policyholder, insured, beneficiary or prospect.
        channel: on-site questionnaire, phone, mail or online.
        on: the day they answered.
        answers: one answer per dimension asked (at least one).
        expectation: what they expected, on the same scale, when asked.
        praises_us: would they speak well of us to others (None: not asked).
        named_us: did they ask for us by name when they bought (None: not asked).
        comment: free text (personal data: masked, erased with the customer).
        erased: the comment was erased with the customer (§10.4).
        version: 0 until first stored; bumped by every save.
    """

    id: str = attrs.field(validator=an_id)
    survey_id: str = attrs.field(validator=an_id)
    customer_id: str = attrs.field(validator=an_id)
    role: RespondentRole = attrs.field(validator=attrs.validators.instance_of(RespondentRole))
    channel: SurveyChannel = attrs.field(validator=attrs.validators.instance_of(SurveyChannel))
    on: dt.date = attrs.field(validator=a_date)
    answers: dict[Dimension, Answer] = attrs.field(converter=_answers, hash=False)
    expectation: Answer | None = attrs.field(
        default=None, validator=attrs.validators.optional(attrs.validators.instance_of(Answer))
    )
    praises_us: bool | None = attrs.field(default=None, validator=_optional_flag)
    named_us: bool | None = attrs.field(default=None, validator=_optional_flag)
    comment: str | None = attrs.field(default=None, validator=optional_text, repr=mask_text)
    erased: bool = False
    version: int = 0

    def __attrs_post_init__(self) -> None:
        if not self.answers:
            raise ValidationError("answers", "answers.required", "must answer a dimension")
        if self.erased and self.comment is not None:
            raise ValidationError("comment", "erased", "an erased response keeps no comment")

    @property
    def experience(self) -> Decimal:
        """The average answer score over the dimensions answered (2 places)."""
        return experience_of(self.answers.values())

    def outcome(self, config: SatisfactionConfig | None = None) -> SatisfactionResult | None:
        """Satisfaction = experience − expectation (None when no expectation was asked)."""
        if self.expectation is None:
            return None
        return satisfaction_outcome(self.experience, self.expectation.score, config)

    @property
    def attitude(self) -> Attitude | None:
        """The attitude to competitors this response shows (:func:`attitude_of` of its
        INDUSTRY answer; None when that dimension was not asked)."""
        return attitude_of(self.answers.get(Dimension.INDUSTRY))

    @property
    def unhappy(self) -> bool:
        """True when any answer is NOT_VERY_SATISFIED or DISSATISFIED (a follow-up is due)."""
        return any(a.score <= 2 for a in self.answers.values())

    def erase(self) -> SurveyResponse:
        """The response without its comment (erasure, §10.4); the answers stay, anonymous,
        so survey reports and indicators for past periods do not change."""
        return attrs.evolve(self, comment=None, erased=True)


def latest_judged(responses: Iterable[SurveyResponse], as_of: dt.date) -> SurveyResponse | None:
    """The response the latest satisfaction outcome (§4.3) comes from: the latest (by day,
    then id) answered on or before ``as_of`` that asked the respondent's expectation
    (without it there is no outcome, §3)."""
    judged = (r for r in responses if r.on <= as_of and r.expectation is not None)
    return max(judged, key=lambda r: (r.on, r.id), default=None)


@attrs.frozen
class SurveyConfig:
    """Survey rules (DOMAIN.md §3).

    Attributes:
        min_respondents: below this many respondents a report warns (default 30).
        min_interval_days: a customer is not surveyed again within this many days
            of their last response (default 180).
    """

    min_respondents: int = attrs.field(default=30, validator=positive_int)
    min_interval_days: int = attrs.field(default=180, validator=positive_int)


def next_survey_day(last_response: dt.date | None, config: SurveyConfig | None = None) -> dt.date:
    """The first day a customer last surveyed on ``last_response`` may be asked again
    (``date.min`` when never surveyed)."""
    if last_response is None:
        return dt.date.min
    cfg = config or SurveyConfig()
    return last_response + dt.timedelta(days=cfg.min_interval_days)


def check_survey_interval(
    customer_id: str,
    previous: Iterable[dt.date],
    on: dt.date,
    config: SurveyConfig | None = None,
) -> None:
    """Refuse to survey ``customer_id`` on ``on`` within the minimum interval.

    Args:
        customer_id: the customer (named in the error by id only).
        previous: the days of their other responses (a backdated survey is checked
            against later ones too).
        on: the day of the new survey.

    Raises:
        RuleViolation: saying when the customer was last surveyed and the first day
            they may be asked again (or which later survey is too close).
    """
    cfg = config or SurveyConfig()
    for day in sorted(previous, reverse=True):
        if day <= on < next_survey_day(day, cfg):
            raise RuleViolation(
                f"customer {customer_id} was surveyed on {day.isoformat()}; "
                f"they may next be asked on {next_survey_day(day, cfg).isoformat()}"
            )
    later = sorted(d for d in previous if on < d < next_survey_day(on, cfg))
    if later:
        raise RuleViolation(
            f"customer {customer_id} was surveyed on {later[0].isoformat()}: a survey on "
            f"{on.isoformat()} would be within {cfg.min_interval_days} days before it"
        )


@attrs.frozen
class DimensionReport:
    """One dimension of a survey report: how many gave each answer, and the average."""

    dimension: Dimension
    counts: tuple[tuple[Answer, int], ...]

    @property
    def respondents(self) -> int:
        """Respondents who answered this dimension."""
        return sum(n for _, n in self.counts)

    def count(self, answer: Answer) -> int:
        """How many gave ``answer``."""
        return next(n for a, n in self.counts if a is answer)

    def share(self, answer: Answer) -> Rate:
        """The share who gave ``answer``."""
        return Rate(self.count(answer), self.respondents)

    @property
    def average(self) -> Decimal | None:
        """The average score (5 = VERY_SATISFIED … 1 = DISSATISFIED), 2 places."""
        if not self.respondents:
            return None
        total = sum(a.score * n for a, n in self.counts)
        return (Decimal(total) / self.respondents).quantize(Decimal("0.01"))

    @property
    def average_answer(self) -> Answer | None:
        """The answer nearest the average (ties go to the better answer)."""
        average = self.average
        if average is None:
            return None
        return min(Answer, key=lambda a: (abs(Decimal(a.score) - average), -a.score))


@attrs.frozen
class SurveyReport:
    """A survey report: per dimension, the distribution of answers and their average."""

    respondents: int
    dimensions: tuple[DimensionReport, ...]
    min_respondents: int

    def dimension(self, dimension: Dimension) -> DimensionReport:
        """The report of one dimension."""
        return next(d for d in self.dimensions if d.dimension is dimension)

    @property
    def warning(self) -> str | None:
        """Set when respondents are too few for the figures to mean much."""
        if self.respondents >= self.min_respondents:
            return None
        noun = "respondent" if self.respondents == 1 else "respondents"
        return (
            f"only {self.respondents} {noun} (fewer than {self.min_respondents}): "
            "too few to mean much; visit them directly instead"
        )


def survey_report(
    responses: Iterable[SurveyResponse], config: SurveyConfig | None = None
) -> SurveyReport:
    """The report over ``responses`` (usually those of one survey).

    A respondent who answered several times counts once, with their latest response.
    """
    cfg = config or SurveyConfig()
    latest: dict[str, SurveyResponse] = {}
    for response in responses:
        kept = latest.get(response.customer_id)
        if kept is None or (response.on, response.id) > (kept.on, kept.id):
            latest[response.customer_id] = response
    reports = []
    for dimension in Dimension:
        counts = Counter(r.answers[dimension] for r in latest.values() if dimension in r.answers)
        reports.append(DimensionReport(dimension, tuple((a, counts[a]) for a in Answer)))
    return SurveyReport(len(latest), tuple(reports), cfg.min_respondents)


# -- indicators ---------------------------------------------------------------------------


@attrs.frozen
class SatisfactionIndicators:
    """The satisfaction indicators (衡量指标) of a period, each with its counts.

    The period runs from the day after ``start`` to ``end``. *Served* customers are
    those with a policy of ours in force at the end of ``start`` or with a purchase in
    the period.

    Attributes:
        reputation: 美誉度, respondents in the period who would praise us, of those asked.
        naming_rate: 指名率, respondents who asked for us by name, of those asked.
        repeat_rate: 回头率, customers who had bought before the period and bought a new
            policy in it, of those who had bought before.
        complaint_rate: 抱怨率, served customers who complained in the period.
        sales_power: 销售力, the premium of every purchase (new and renewal) in the period.
        purchases: the number of those purchases.
        price_sensitivity: 对价格变化的敏感度, churns in the period whose causes include
            PRICE or whose structure is BOUGHT_OFF, of the churns analysed.
        referral_rate: 推荐率, served customers who referred a customer registered in the
            period.
    """

    start: dt.date
    end: dt.date
    reputation: Rate
    naming_rate: Rate
    repeat_rate: Rate
    complaint_rate: Rate
    sales_power: Money
    purchases: int
    price_sensitivity: Rate
    referral_rate: Rate

    @property
    def average_purchase(self) -> Money | None:
        """单次交易的购买额: sales power over the number of purchases (None without any)."""
        if not self.purchases:
            return None
        amount = (self.sales_power.amount / self.purchases).quantize(Decimal("0.01"))
        return Money(amount, self.sales_power.currency)


def satisfaction_indicators(
    start: dt.date,
    end: dt.date,
    *,
    customers: Iterable[Customer],
    policies: Iterable[Policy],
    complaints: Iterable[Complaint] = (),
    responses: Iterable[SurveyResponse] = (),
    churns: Iterable[ChurnRecord] = (),
    currency: str = DEFAULT_CURRENCY,
) -> SatisfactionIndicators:
    """The satisfaction indicators from the day after ``start`` to ``end``.

    Premiums in another currency than ``currency`` are left out of sales power.

    Raises:
        ValidationError: ``end`` is before ``start``.
    """
    if end < start:
        raise ValidationError("end", "date.order", "must not be before the start")

    def within(day: dt.date) -> bool:
        return start < day <= end

    ours = [p for p in policies if p.is_ours]
    served = set(customers_in_force(ours, start))
    bought_before: set[str] = set()
    bought_new: set[str] = set()
    sold = Decimal("0.00")
    purchases = 0
    for policy in ours:
        for purchase in policy.purchases:
            if purchase.on <= start:
                bought_before.add(policy.policyholder_id)
            elif purchase.on <= end:
                served.add(policy.policyholder_id)
                if purchase.kind is PurchaseKind.NEW:
                    bought_new.add(policy.policyholder_id)
                if purchase.amount.currency == currency:
                    sold += purchase.amount.amount
                    purchases += 1
    complained = {c.customer_id for c in complaints if within(c.received_on)}
    referrers = {
        c.referred_by for c in customers if c.referred_by is not None and within(c.created_on)
    }
    counts = period_counts(start, end, responses, churns)
    return SatisfactionIndicators(
        start=start,
        end=end,
        reputation=counts.reputation,
        naming_rate=counts.naming_rate,
        repeat_rate=Rate(len(bought_before & bought_new), len(bought_before)),
        complaint_rate=Rate(len(served & complained), len(served)),
        sales_power=Money(sold, currency),
        purchases=purchases,
        price_sensitivity=counts.price_sensitivity,
        referral_rate=Rate(len(served & referrers), len(served)),
    )


class PeriodCounts(NamedTuple):
    """The satisfaction indicators of a period that count survey responses and churn
    records rather than customers (see :class:`SatisfactionIndicators`)."""

    reputation: Rate
    naming_rate: Rate
    price_sensitivity: Rate


def period_counts(
    start: dt.date,
    end: dt.date,
    responses: Iterable[SurveyResponse] = (),
    churns: Iterable[ChurnRecord] = (),
) -> PeriodCounts:
    """Reputation, naming rate and price sensitivity from the day after ``start`` to ``end``."""

    def within(day: dt.date) -> bool:
        return start < day <= end

    asked = [r for r in responses if within(r.on)]
    analysed = [r for r in churns if within(r.on) and (r.structure is not None or r.causes)]
    return PeriodCounts(
        reputation=Rate(
            sum(1 for r in asked if r.praises_us), sum(1 for r in asked if r.praises_us is not None)
        ),
        naming_rate=Rate(
            sum(1 for r in asked if r.named_us), sum(1 for r in asked if r.named_us is not None)
        ),
        price_sensitivity=Rate(sum(1 for r in analysed if price_led(r)), len(analysed)),
    )


def price_led(record: ChurnRecord) -> bool:
    """The churn was about price: a PRICE cause, or bought off by a competitor."""
    return ChurnCause.PRICE in record.causes or record.structure is ChurnStructure.BOUGHT_OFF
