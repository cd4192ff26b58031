"""Early warning of dissatisfaction (客户不满的信号, DOMAIN.md §7.2).

The warning is a score from 0 to 100: the sum of the weights of the signals found
(capped at 100), with the signals that raised it and the figures behind each. The
signals are read from what is stored about the customer, over a window (default the
last 365 days, compared with the 365 days before):

* PURCHASES_DECLINING (购买量降低): the premium of their purchases in the window fell
  by at least ``purchase_drop`` (20 %) from the window before;
* COMPLAINTS_INCREASING (投诉增加): more complaints in the window than in the one before;
* PRAISES_COMPETITOR (反复明确竞争对手的优点): noted by staff in at least
  ``praise_repeats`` (2) contacts in the window — "repeatedly";
* RELATIONSHIP_DECLINING (销售关系走下坡路): noted by staff in the window, or their latest
  survey in the window averages at least ``survey_drop`` (0.5) points below the one before;
* NEW_BUSINESS_STRATEGY (新的经营策略) and OWNERSHIP_CHANGE (转换所有权): noted by staff
  in the window;
* IDLE_RETURNING: a returning customer with no purchase for more than 2 years.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from decimal import Decimal
from typing import Any

import attrs

from insurcrm.domain.checks import fraction, non_negative_decimal, positive_int
from insurcrm.domain.complaints import Complaint
from insurcrm.domain.dates import add_years
from insurcrm.domain.interactions import Interaction, ObservedSignal
from insurcrm.domain.labels import LabelledEnum, counted
from insurcrm.domain.policies import Policy
from insurcrm.domain.programmes import ProgrammeConfig, revisit_due
from insurcrm.domain.satisfaction import SurveyResponse
from insurcrm.domain.values import total_in
from insurcrm.errors import ValidationError

__all__ = [
    "EarlyWarning",
    "SignalFound",
    "WarningConfig",
    "WarningFigures",
    "WarningLevel",
    "WarningSignal",
    "early_warning",
    "early_warning_from",
    "survey_fell",
    "warning_figures",
    "warning_score",
    "warning_signals",
]


class WarningSignal(LabelledEnum):
    """A signal that a customer is becoming dissatisfied."""

    PURCHASES_DECLINING = ("PURCHASES_DECLINING", "购买量降低")
    COMPLAINTS_INCREASING = ("COMPLAINTS_INCREASING", "投诉增加")
    PRAISES_COMPETITOR = ("PRAISES_COMPETITOR", "反复明确竞争对手的优点")
    RELATIONSHIP_DECLINING = ("RELATIONSHIP_DECLINING", "销售关系走下坡路")
    NEW_BUSINESS_STRATEGY = ("NEW_BUSINESS_STRATEGY", "新的经营策略")
    OWNERSHIP_CHANGE = ("OWNERSHIP_CHANGE", "转换所有权")
    IDLE_RETURNING = ("IDLE_RETURNING", "老客户两年以上未购买")


class WarningLevel(LabelledEnum):
    """How loud the warning is, by score."""

    NONE = ("NONE", "无")
    WATCH = ("WATCH", "关注")
    WARNING = ("WARNING", "预警")
    ALERT = ("ALERT", "警报")


#: Default weight of each signal (the score is their sum, capped at 100).
DEFAULT_WEIGHTS: Mapping[WarningSignal, int] = {
    WarningSignal.PURCHASES_DECLINING: 25,
    WarningSignal.COMPLAINTS_INCREASING: 25,
    WarningSignal.PRAISES_COMPETITOR: 20,
    WarningSignal.RELATIONSHIP_DECLINING: 15,
    WarningSignal.NEW_BUSINESS_STRATEGY: 10,
    WarningSignal.OWNERSHIP_CHANGE: 10,
    WarningSignal.IDLE_RETURNING: 20,
}


def _weights(value: Mapping[WarningSignal, int]) -> dict[WarningSignal, int]:
    merged = dict(DEFAULT_WEIGHTS)
    for signal, weight in dict(value).items():
        if not isinstance(signal, WarningSignal):
            raise ValidationError("weights", "type", "keys must be WarningSignal")
        if isinstance(weight, bool) or not isinstance(weight, int) or not 0 <= weight <= 100:
            raise ValidationError(
                f"weights.{signal.name}", "config.range", "must be a whole number 0–100"
            )
        merged[signal] = weight
    return {s: merged[s] for s in WarningSignal}


def _levels(instance: WarningConfig, attribute: attrs.Attribute[Any], value: object) -> None:
    if (
        not isinstance(value, tuple)
        or len(value) != 3
        or not all(isinstance(v, int) and not isinstance(v, bool) for v in value)
        or not 0 < value[0] <= value[1] <= value[2] <= 100
    ):
        raise ValidationError(
            "levels", "config.range", "must be three increasing scores from 1 to 100"
        )


@attrs.frozen
class WarningConfig:
    """Early-warning rules.

    Attributes:
        window_days: the window read, compared with the same length before it (365).
        purchase_drop: the fall in purchased premium that is a decline (0.20 = 20 %).
        praise_repeats: contacts praising a competitor that make "repeatedly" (2).
        survey_drop: the fall in average survey score that is a decline (0.5 points).
        weights: each signal's weight; signals left out keep their default.
        levels: the scores from which the level is WATCH, WARNING and ALERT (20, 40, 60).
        programmes: where the 2-year idle period of returning customers comes from.
    """

    window_days: int = attrs.field(default=365, validator=positive_int)
    purchase_drop: Decimal = attrs.field(default=Decimal("0.20"), validator=fraction)
    praise_repeats: int = attrs.field(default=2, validator=positive_int)
    survey_drop: Decimal = attrs.field(default=Decimal("0.5"), validator=non_negative_decimal)
    weights: dict[WarningSignal, int] = attrs.field(
        factory=lambda: dict(DEFAULT_WEIGHTS), converter=_weights, hash=False
    )
    levels: tuple[int, int, int] = attrs.field(default=(20, 40, 60), validator=_levels)
    programmes: ProgrammeConfig = attrs.field(factory=ProgrammeConfig)

    def level(self, score: int) -> WarningLevel:
        """The level of ``score``."""
        watch, warning, alert = self.levels
        if score >= alert:
            return WarningLevel.ALERT
        if score >= warning:
            return WarningLevel.WARNING
        if score >= watch:
            return WarningLevel.WATCH
        return WarningLevel.NONE


@attrs.frozen
class SignalFound:
    """A signal found, its weight, and the figures behind it."""

    signal: WarningSignal
    weight: int
    reason: str


@attrs.frozen
class EarlyWarning:
    """A customer's early-warning score (0–100), its level and the signals that raised it."""

    customer_id: str
    as_of: dt.date
    score: int
    level: WarningLevel
    signals: tuple[SignalFound, ...]

    @property
    def reasons(self) -> tuple[str, ...]:
        """One line per signal found (none: no signal)."""
        if not self.signals:
            return ("no signal of dissatisfaction",)
        return tuple(f"{s.signal.name} (+{s.weight}): {s.reason}" for s in self.signals)


def _money(amount: Decimal) -> str:
    return f"¥{amount:,.2f}"


@attrs.frozen
class WarningFigures:
    """What the early warning reads about one customer as of a date (§7.2).

    The window is ``(as_of − window_days, as_of]``; "before" is the same length before it.

    Attributes:
        bought: the premium of their purchases of our policies (as policyholder) in the window.
        bought_before: the same in the window before.
        complaints: their complaints received in the window.
        complaints_before: the same in the window before.
        noted: per observed signal, their contacts in the window that noted it.
        survey_last: the experience of their latest survey response, when it falls in the
            window and an earlier one exists (else None).
        survey_prior: the experience of the response before it (None likewise).
        last_purchase: their latest purchase of our policies up to the date, if any.
    """

    bought: Decimal = Decimal("0.00")
    bought_before: Decimal = Decimal("0.00")
    complaints: int = 0
    complaints_before: int = 0
    noted: Mapping[ObservedSignal, int] = attrs.field(factory=dict, hash=False)
    survey_last: Decimal | None = None
    survey_prior: Decimal | None = None
    last_purchase: dt.date | None = None

    def count(self, signal: ObservedSignal) -> int:
        """Contacts in the window that noted ``signal``."""
        return self.noted.get(signal, 0)


def warning_figures(
    customer_id: str,
    as_of: dt.date,
    *,
    policies: Iterable[Policy] = (),
    complaints: Iterable[Complaint] = (),
    interactions: Iterable[Interaction] = (),
    responses: Iterable[SurveyResponse] = (),
    config: WarningConfig | None = None,
) -> WarningFigures:
    """The figures of :func:`early_warning` from the customer's records."""
    cfg = config or WarningConfig()
    window = dt.timedelta(days=cfg.window_days)
    start, before = as_of - window, as_of - 2 * window

    def current(day: dt.date) -> bool:
        return start < day <= as_of

    def previous(day: dt.date) -> bool:
        return before < day <= start

    mine = [p for p in policies if p.is_ours and p.policyholder_id == customer_id]
    bought = [x for p in mine for x in p.purchases if x.on <= as_of]
    own_complaints = [c for c in complaints if c.customer_id == customer_id]
    noted: dict[ObservedSignal, int] = {}
    for contact in interactions:
        if contact.customer_id == customer_id and current(contact.on):
            for signal in contact.signals:
                noted[signal] = noted.get(signal, 0) + 1
    surveys = sorted(
        (r for r in responses if r.customer_id == customer_id and r.on <= as_of),
        key=lambda r: (r.on, r.id),
    )
    last = prior = None
    if len(surveys) >= 2 and current(surveys[-1].on):
        last, prior = surveys[-1].experience, surveys[-2].experience
    return WarningFigures(
        bought=total_in(x.amount for x in bought if current(x.on)),  # in CNY
        bought_before=total_in(x.amount for x in bought if previous(x.on)),
        complaints=sum(1 for c in own_complaints if current(c.received_on)),
        complaints_before=sum(1 for c in own_complaints if previous(c.received_on)),
        noted=noted,
        survey_last=last,
        survey_prior=prior,
        last_purchase=max((x.on for x in bought), default=None),
    )


def _idle_before(as_of: dt.date, cfg: WarningConfig) -> dt.date:
    """A returning customer whose last purchase is before this day is idle."""
    return add_years(as_of, -cfg.programmes.revisit_idle_years)


def warning_signals(
    figures: WarningFigures, as_of: dt.date, config: WarningConfig | None = None
) -> tuple[WarningSignal, ...]:
    """The signals the figures raise, in :class:`WarningSignal` order (weight-0 signals
    left out): the rule of :func:`early_warning` without its reasons."""
    cfg = config or WarningConfig()
    f = figures
    raised = (
        (
            WarningSignal.PURCHASES_DECLINING,
            f.bought_before > 0 and f.bought <= f.bought_before * (1 - cfg.purchase_drop),
        ),
        (WarningSignal.COMPLAINTS_INCREASING, f.complaints > f.complaints_before),
        (
            WarningSignal.PRAISES_COMPETITOR,
            f.count(ObservedSignal.PRAISES_COMPETITOR) >= cfg.praise_repeats,
        ),
        (
            WarningSignal.RELATIONSHIP_DECLINING,
            f.count(ObservedSignal.RELATIONSHIP_DECLINING) > 0 or _survey_fell(f, cfg),
        ),
        (
            WarningSignal.NEW_BUSINESS_STRATEGY,
            f.count(ObservedSignal.NEW_BUSINESS_STRATEGY) > 0,
        ),
        (WarningSignal.OWNERSHIP_CHANGE, f.count(ObservedSignal.OWNERSHIP_CHANGE) > 0),
        (
            WarningSignal.IDLE_RETURNING,
            f.last_purchase is not None and f.last_purchase < _idle_before(as_of, cfg),
        ),
    )
    return tuple(s for s, found in raised if found and cfg.weights[s] > 0)


def warning_score(signals: Iterable[WarningSignal], config: WarningConfig | None = None) -> int:
    """The score of ``signals``: the sum of their weights, capped at 100."""
    cfg = config or WarningConfig()
    return min(100, sum(cfg.weights[s] for s in signals))


def _survey_fell(f: WarningFigures, cfg: WarningConfig) -> bool:
    return survey_fell(f.survey_last, f.survey_prior, cfg)


def survey_fell(last: Decimal | None, prior: Decimal | None, config: WarningConfig) -> bool:
    """Whether the survey average fell enough to signal a declining relationship (§7.2):
    by at least ``config.survey_drop`` from the ``prior`` response to the ``last``."""
    return (
        last is not None
        and prior is not None
        and prior - last >= config.survey_drop
        and (prior > last)
    )


def _reason(signal: WarningSignal, f: WarningFigures, as_of: dt.date, cfg: WarningConfig) -> str:
    days = cfg.window_days
    if signal is WarningSignal.PURCHASES_DECLINING:
        drop = ((f.bought_before - f.bought) / f.bought_before * 100).quantize(Decimal("0.1"))
        return (
            f"purchases {_money(f.bought)} in the last {days} days, "
            f"down {drop} % from {_money(f.bought_before)}"
        )
    if signal is WarningSignal.COMPLAINTS_INCREASING:
        return (
            f"{counted(f.complaints, 'complaint')} in the last {days} days, "
            f"{f.complaints_before} before"
        )
    if signal is WarningSignal.PRAISES_COMPETITOR:
        praise = f.count(ObservedSignal.PRAISES_COMPETITOR)
        return f"praised a competitor in {counted(praise, 'contact')}"
    if signal is WarningSignal.RELATIONSHIP_DECLINING:
        declining = []
        if noted := f.count(ObservedSignal.RELATIONSHIP_DECLINING):
            declining.append(f"noted by staff in {counted(noted, 'contact')}")
        if _survey_fell(f, cfg):
            declining.append(f"survey average fell from {f.survey_prior} to {f.survey_last}")
        return "; ".join(declining)
    if signal is WarningSignal.IDLE_RETURNING:
        assert f.last_purchase is not None  # raised only with a purchase
        return revisit_due([f.last_purchase], as_of, cfg.programmes).reasons[0]
    observed = ObservedSignal[signal.name]  # NEW_BUSINESS_STRATEGY, OWNERSHIP_CHANGE
    return f"noted by staff in {counted(f.count(observed), 'contact')}"


def early_warning(
    customer_id: str,
    as_of: dt.date,
    *,
    policies: Iterable[Policy] = (),
    complaints: Iterable[Complaint] = (),
    interactions: Iterable[Interaction] = (),
    responses: Iterable[SurveyResponse] = (),
    config: WarningConfig | None = None,
) -> EarlyWarning:
    """The early-warning score of ``customer_id`` as of ``as_of``.

    Args:
        customer_id: the customer.
        as_of: the assessment date; nothing after it is read.
        policies: the customer's policies as policyholder.
        complaints: the customer's complaints.
        interactions: the customer's logged contacts.
        responses: the customer's survey responses.
        config: the rules; defaults when omitted.
    """
    cfg = config or WarningConfig()
    figures = warning_figures(
        customer_id,
        as_of,
        policies=policies,
        complaints=complaints,
        interactions=interactions,
        responses=responses,
        config=cfg,
    )
    return early_warning_from(customer_id, as_of, figures, cfg)


def early_warning_from(
    customer_id: str, as_of: dt.date, figures: WarningFigures, config: WarningConfig | None = None
) -> EarlyWarning:
    """The early warning of :func:`early_warning` from the customer's figures already
    worked out (by :func:`warning_figures`, or by the portfolio's reader)."""
    cfg = config or WarningConfig()
    signals = tuple(
        SignalFound(s, cfg.weights[s], _reason(s, figures, as_of, cfg))
        for s in warning_signals(figures, as_of, cfg)
    )
    score = warning_score((s.signal for s in signals), cfg)
    return EarlyWarning(customer_id, as_of, score, cfg.level(score), signals)
