"""The portfolio's assessment figures, aggregated inside the database.

One statement returns one row per customer (in id order): purchases, missed
premiums, status changes and policies are grouped per policyholder in SQL with
the windows of :class:`~insurcrm.domain.assessment.AssessmentWindows`, so only
a compact row per customer crosses to Python and no domain object is built.
The rows are streamed (a server-side cursor on PostgreSQL), so memory stays
bounded. Amounts stay exact: integer cents summed on SQLite, NUMERIC on
PostgreSQL.
"""

from __future__ import annotations

import datetime as dt
import functools
import json
import re
import warnings
from collections.abc import Generator, Iterator, Mapping, Sequence
from decimal import Decimal
from typing import Any, Protocol, TypeVar

import attrs
from sqlalchemy import (
    BigInteger,
    Connection,
    Engine,
    Integer,
    Select,
    String,
    and_,
    case,
    cast,
    func,
    literal,
    literal_column,
    or_,
    select,
    type_coerce,
)
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.elements import ColumnElement
from sqlalchemy.sql.functions import FunctionElement

from insurcrm.adapters.sql import tables as t
from insurcrm.adapters.sql.engine import translate_errors
from insurcrm.adapters.sql.read_ahead import ReadAhead, read_ahead
from insurcrm.adapters.sql.reader_process import ReaderProcess, ReaderUnavailable
from insurcrm.adapters.sql.types import Amount, code_points
from insurcrm.domain.assessment import (
    AssessmentConfig,
    AssessmentFigures,
    AssessmentWindows,
)
from insurcrm.domain.churn import ChurnCause, ChurnStructure
from insurcrm.domain.classification import TWO_WAY_LEAD_SOURCES
from insurcrm.domain.figure_batch import NO_DAY, FigureBatch, cents_of
from insurcrm.domain.interactions import CONVERSATION_CHANNELS, Direction, ObservedSignal
from insurcrm.domain.loyalty import Attitude
from insurcrm.domain.policies import PolicyStatus, PurchaseKind
from insurcrm.domain.rates import Rate
from insurcrm.domain.satisfaction import (
    Answer,
    Dimension,
    PeriodCounts,
    attitude_of,
    experience_of,
)
from insurcrm.domain.tier_membership import TIER_MOVES
from insurcrm.domain.values import DEFAULT_CURRENCY
from insurcrm.errors import StorageError

__all__ = ["SqlPortfolio", "figure_statements", "figures_query"]

T = TypeVar("T")

#: Rows fetched per round trip.
BATCH = 5000

_ZERO = Decimal("0.00")


class json_field(FunctionElement[Any]):  # noqa: N801 -- a SQL function's name
    """A top-level field of a JSON document stored as text, as text (an array or an
    object as its JSON text): ``json_extract`` on SQLite, ``->>`` on PostgreSQL."""

    type: Any = String()
    inherit_cache = True

    def __init__(self, document: ColumnElement[Any], key: str) -> None:
        if not key.isidentifier():
            raise ValueError("a JSON field name must be an identifier")
        self.key = key
        super().__init__(document)


@compiles(json_field)
def _json_field(element: json_field, compiler: SQLCompiler, **kw: Any) -> str:
    document = compiler.process(element.clauses, **kw)
    return f"json_extract({document}, '$.{element.key}')"  # a flag: JSON true/false → 1/0


@compiles(json_field, "postgresql")
def _json_field_postgresql(element: json_field, compiler: SQLCompiler, **kw: Any) -> str:
    document = compiler.process(element.clauses, **kw)
    return f"(CAST({document} AS jsonb) ->> '{element.key}')"


class json_flag(json_field):  # noqa: N801 -- a SQL function's name
    """A top-level true/false field of a JSON document stored as text, as 1, 0 or NULL."""

    type = Integer()
    inherit_cache = True


@compiles(json_flag, "postgresql")  # elsewhere as json_field
def _json_flag_postgresql(element: json_flag, compiler: SQLCompiler, **kw: Any) -> str:
    document = compiler.process(element.clauses, **kw)
    return f"CAST(CAST(CAST({document} AS jsonb) ->> '{element.key}' AS BOOLEAN) AS INTEGER)"


class day_number(FunctionElement[Any]):  # noqa: N801 -- a SQL function's name
    """A date as its day number (``date.toordinal()``); NULL stays NULL. SQLite keeps dates
    as ISO text: ``julianday`` is exact for them (a whole day and a half)."""

    type: Any = BigInteger()
    inherit_cache = True


@compiles(day_number)
def _day_number(element: day_number, compiler: SQLCompiler, **kw: Any) -> str:
    return f"CAST(julianday({compiler.process(element.clauses, **kw)}) - 1721424.5 AS INTEGER)"


@compiles(day_number, "postgresql")
def _day_number_postgresql(element: day_number, compiler: SQLCompiler, **kw: Any) -> str:
    return f"(({compiler.process(element.clauses, **kw)}) - DATE '0001-01-01' + 1)"


class in_cents(FunctionElement[Any]):  # noqa: N801 -- a SQL function's name
    """An amount (an :class:`Amount` or a sum of them) as integer cents: as stored on
    SQLite, ``NUMERIC × 100`` on PostgreSQL."""

    type: Any = BigInteger()
    inherit_cache = True


@compiles(in_cents)
def _in_cents(element: in_cents, compiler: SQLCompiler, **kw: Any) -> str:
    return str(compiler.process(element.clauses, **kw))


@compiles(in_cents, "postgresql")
def _in_cents_postgresql(element: in_cents, compiler: SQLCompiler, **kw: Any) -> str:
    return f"CAST(({compiler.process(element.clauses, **kw)}) * 100 AS BIGINT)"


def _day(day: ColumnElement[Any]) -> ColumnElement[Any]:
    """A date column of the result as its day number, 0 for none (``NO_DAY``)."""
    return func.coalesce(day_number(day), NO_DAY)


def _count(condition: ColumnElement[bool]) -> ColumnElement[Any]:
    return func.coalesce(func.sum(case((condition, 1), else_=0)), 0)


def _amount(condition: ColumnElement[bool], amount: ColumnElement[Any]) -> ColumnElement[Any]:
    return type_coerce(func.coalesce(func.sum(case((condition, amount), else_=0)), 0), Amount)


@attrs.frozen
class _Part:
    """Columns of the figures with the sub-queries they are read from.

    Attributes:
        weight: the part's share of the cost of reading the figures (seconds at 200,000
            customers on SQLite, measured, with the reading of its JSON columns), to split
            the figures into statements of about the same cost.
        columns: its columns, each named as :func:`_batch` reads it.
        joins: the sub-queries (each at most one row per customer) left-joined to the
            customers for them: each with its place in the order of every join (a
            statement joins in that order) and its join condition.
    """

    weight: float
    columns: tuple[ColumnElement[Any], ...]
    joins: tuple[tuple[int, Any, ColumnElement[bool]], ...]


#: The result column of each signal noted in the interaction log.
_SIGNALS = {
    ObservedSignal.PRAISES_COMPETITOR: "praises",
    ObservedSignal.RELATIONSHIP_DECLINING: "declining",
    ObservedSignal.NEW_BUSINESS_STRATEGY: "strategy",
    ObservedSignal.OWNERSHIP_CHANGE: "ownership",
}


def _in_force(as_of: dt.date, start: dt.date) -> Any:
    """Per policyholder with a policy of ours that has a status by ``as_of``: how many of
    those policies are in force at the end of ``as_of``, their premium and how many of them
    are long-term, and whether one was in force at the end of ``start`` (before ``as_of``).
    A policy's status at the end of a day is its latest change on or before it; one pass over
    the status changes finds it for both days."""
    p, sc = t.policies, t.status_changes
    latest = (
        select(
            sc.c.policy_id,
            func.max(sc.c.position).label("now"),
            func.max(case((sc.c.on <= start, sc.c.position))).label("start"),
        )
        .where(sc.c.on <= as_of)
        .group_by(sc.c.policy_id)
        .subquery()
    )
    now, then = sc.alias("status_now"), sc.alias("status_at_start")
    held = now.c.to_status == PolicyStatus.IN_FORCE.name
    return (
        select(
            p.c.policyholder_id.label("cid"),
            _count(held).label("n"),
            _amount(and_(held, p.c.currency == DEFAULT_CURRENCY), p.c.annual_premium).label(
                "premium"
            ),
            _count(and_(held, p.c.term_years > 1)).label("long_term"),
            _count(then.c.to_status == PolicyStatus.IN_FORCE.name).label("at_start"),
        )
        .select_from(latest)
        .join(p, and_(p.c.id == latest.c.policy_id, p.c.insurer.is_(None)))
        .join(now, and_(now.c.policy_id == latest.c.policy_id, now.c.position == latest.c.now))
        .outerjoin(
            then, and_(then.c.policy_id == latest.c.policy_id, then.c.position == latest.c.start)
        )
        .group_by(p.c.policyholder_id)
        .cte("in_force")  # used twice: for the customer and for their household
    )


def _tier_held(as_of: dt.date) -> Any:
    """Per enrolled customer, the tier held at the end of ``as_of``: the latest move in
    their tier history on or before it (history positions follow the dates)."""
    tc = t.tier_changes
    moves = sorted(kind.name for kind in TIER_MOVES)
    latest = (
        select(tc.c.customer_id, func.max(tc.c.position).label("position"))
        .where(tc.c.on <= as_of, tc.c.kind.in_(moves))
        .group_by(tc.c.customer_id)
        .subquery()
    )
    move = tc.alias("move")
    return (
        select(latest.c.customer_id, move.c.to_tier.label("tier"))
        .join(
            move,
            and_(move.c.customer_id == latest.c.customer_id, move.c.position == latest.c.position),
        )
        .subquery()
    )


def _open_churns(as_of: dt.date) -> tuple[Any, Any]:
    """Per customer, the churn record a recovery is decided on (the latest on or before
    ``as_of`` not won back by then), and the annual premium of their policies of ours in
    CNY in force the day before it."""
    ch, p, sc = t.churn_records, t.policies, t.status_changes
    won_back = json_field(ch.c.data, "won_back_on")
    ranked = (
        select(
            ch.c.customer_id,
            ch.c.id,
            ch.c.day,
            json_field(ch.c.data, "structure").label("structure"),
            json_field(ch.c.data, "causes").label("causes"),
            func.row_number()
            .over(
                partition_by=ch.c.customer_id,
                order_by=(ch.c.day.desc(), code_points(ch.c.id).desc()),
            )
            .label("rn"),
        )
        .where(ch.c.day <= as_of, or_(won_back.is_(None), won_back > as_of.isoformat()))
        .subquery()
    )
    latest = (
        select(
            ranked.c.customer_id,
            ranked.c.id,
            ranked.c.day,
            ranked.c.structure,
            ranked.c.causes,
        )
        .where(ranked.c.rn == 1)
        .cte("latest_churn")
    )
    before = sc.alias("before_churn")
    status_before = (  # the policy's status the day before the churn
        select(before.c.to_status)
        .where(before.c.policy_id == p.c.id, before.c.on < latest.c.day)
        .order_by(before.c.position.desc())
        .limit(1)
        .scalar_subquery()
    )
    lost = (  # driven by the churned customers: their policies, each status looked up
        select(
            latest.c.customer_id.label("cid"),
            type_coerce(func.sum(p.c.annual_premium), Amount).label("premium"),
        )
        .select_from(latest)
        .join(
            p,
            and_(
                p.c.policyholder_id == latest.c.customer_id,
                p.c.insurer.is_(None),
                p.c.currency == DEFAULT_CURRENCY,
            ),
        )
        .where(status_before == PolicyStatus.IN_FORCE.name)
        .group_by(latest.c.customer_id)
        .subquery()
    )
    return latest, lost


def _parts(windows: AssessmentWindows, config: AssessmentConfig) -> list[_Part]:
    """The figures as parts: each its columns and the aggregates it joins to the customers."""
    w = windows
    as_of = w.as_of
    c, p, s, m, sc = t.customers, t.policies, t.purchases, t.missed_premiums, t.status_changes
    window = s.c.on > w.rfm_since
    ours = p.c.insurer.is_(None)
    cny = s.c.currency == DEFAULT_CURRENCY  # amounts are summed in CNY only (total_in)
    in_period_cny = and_(ours, s.c.on > w.period_start, cny)
    bought = (
        select(
            p.c.policyholder_id.label("cid"),
            func.count().label("n"),
            func.min(s.c.on).label("first"),
            func.max(s.c.on).label("last"),
            _count(window).label("wn"),
            _amount(and_(window, cny), s.c.amount).label("wp"),
            _count(and_(window, s.c.kind == PurchaseKind.RENEWAL.name)).label("renewals"),
            _count(s.c.on > w.repeat_since).label("recent"),
            _count(p.c.campaign.is_not(None)).label("rewarded"),
            _count(p.c.insurer.is_(None)).label("ours"),
            _amount(and_(ours, cny, s.c.on > w.warning_since), s.c.amount).label("warned"),
            _amount(
                and_(ours, cny, s.c.on > w.warning_before, s.c.on <= w.warning_since), s.c.amount
            ).label("warned_before"),
            func.max(case((ours, s.c.on))).label("last_ours"),
            _count(and_(ours, s.c.on <= w.period_start)).label("before_period"),
            _count(and_(ours, s.c.on > w.period_start)).label("in_period"),
            _count(and_(ours, s.c.on > w.period_start, s.c.kind == PurchaseKind.NEW.name)).label(
                "new_in_period"
            ),
            _amount(in_period_cny, s.c.amount).label("sales"),
            _count(in_period_cny).label("sales_n"),
        )
        .join(p, p.c.id == s.c.policy_id)
        .where(s.c.on <= as_of)
        .group_by(p.c.policyholder_id)
        .cte("bought")  # used twice: for the customer and for those they referred
    )
    missed = (
        select(
            p.c.policyholder_id.label("cid"),
            _count(m.c.due_date > w.rfm_since).label("window"),
            _count(and_(m.c.due_date > w.credit_since, p.c.insurer.is_(None))).label("credit"),
        )
        .join(p, p.c.id == m.c.policy_id)
        .where(m.c.due_date <= as_of, m.c.due_date > min(w.rfm_since, w.credit_since))
        .group_by(p.c.policyholder_id)
        .subquery()
    )
    d_reasons = sorted(r.name for r in config.segmentation.credit.d_reasons)
    bad = (
        select(p.c.policyholder_id.label("cid"), func.count().label("n"))
        .join(p, p.c.id == sc.c.policy_id)
        .where(
            sc.c.on <= as_of,
            sc.c.to_status == PolicyStatus.CANCELLED.name,
            sc.c.reason.in_(d_reasons) if d_reasons else literal(False),
            p.c.insurer.is_(None),
        )
        .group_by(p.c.policyholder_id)
        .subquery()
    )
    now = _in_force(as_of, w.period_start)
    member = c.alias("member")
    household = (
        select(
            member.c.household_id.label("hid"),
            func.sum(now.c.long_term).label("long_term"),
        )
        .join(now, now.c.cid == member.c.id)
        .where(member.c.household_id.is_not(None))
        .group_by(member.c.household_id)
        .subquery()
    )
    referred = c.alias("referred")
    referred_bought = bought  # every customer with a purchase up to the date, once
    referrals = (
        select(
            referred.c.referred_by.label("cid"),
            # known by the date: registered by then, or a buyer by then
            _count(or_(referred.c.created_on <= as_of, referred_bought.c.cid.is_not(None))).label(
                "n"
            ),
            func.count(referred_bought.c.cid).label("buyers"),
        )
        .outerjoin(referred_bought, referred_bought.c.cid == referred.c.id)
        .where(referred.c.referred_by.is_not(None))
        .group_by(referred.c.referred_by)
        .subquery()
    )
    ch = t.churn_records
    churned = (
        select(ch.c.customer_id.label("cid"))
        .where(ch.c.day > w.period_start, ch.c.day <= as_of)
        .distinct()
        .subquery()
    )
    held = _tier_held(as_of)
    newcomer = c.alias("newcomer")
    referring = (
        select(newcomer.c.referred_by.label("cid"))
        .where(
            newcomer.c.referred_by.is_not(None),
            newcomer.c.created_on > w.period_start,
            newcomer.c.created_on <= as_of,
        )
        .distinct()
        .subquery()
    )
    latest_churn, lost = _open_churns(as_of)
    k = t.complaints
    complained = (
        select(
            k.c.customer_id.label("cid"),
            _count(k.c.day > w.warning_since).label("now"),
            _count(and_(k.c.day > w.warning_before, k.c.day <= w.warning_since)).label("before"),
            _count(k.c.day > w.period_start).label("period"),
        )
        .where(k.c.day > min(w.warning_before, w.period_start), k.c.day <= as_of)
        .group_by(k.c.customer_id)
        .subquery()
    )
    it = t.interactions
    signals = json_field(it.c.data, "signals")
    noted = (
        select(
            it.c.customer_id.label("cid"),
            *(_count(signals.like(f'%"{o.name}"%')).label(o.name.lower()) for o in ObservedSignal),
        )
        # most contacts note no signal: leaving them out makes the part ten times smaller
        .where(it.c.day > w.warning_since, it.c.day <= as_of, signals != "[]")
        .group_by(it.c.customer_id)
        .subquery()
    )
    r = t.survey_responses
    ranked = (
        select(
            r.c.customer_id,
            r.c.day,
            json_field(r.c.data, "answers").label("answers"),
            func.row_number()
            .over(
                partition_by=r.c.customer_id, order_by=(r.c.day.desc(), code_points(r.c.id).desc())
            )
            .label("rn"),
        )
        .where(r.c.day <= as_of)
        .subquery()
    )
    surveys = (
        select(
            ranked.c.customer_id.label("cid"),
            func.max(case((ranked.c.rn == 1, ranked.c.answers))).label("last"),
            func.max(case((ranked.c.rn == 2, ranked.c.answers))).label("prior"),
        )
        .where(ranked.c.rn <= 2)
        .group_by(ranked.c.customer_id)
        # only those whose survey's fall is looked at: two responses, the latest recent
        .having(
            func.count() == 2,
            func.max(case((ranked.c.rn == 1, ranked.c.day))) > w.warning_since,
        )
        .subquery()
    )
    conversation = sorted(x.name for x in CONVERSATION_CHANNELS)
    two_way_contact = (  # looked up only for a customer without a purchase (see the part)
        select(it.c.id)
        .where(
            it.c.customer_id == c.c.id,
            it.c.day <= as_of,
            or_(
                json_field(it.c.data, "direction") == Direction.INBOUND.name,
                json_field(it.c.data, "channel").in_(conversation),
            ),
        )
        .exists()
    )
    expectation = json_field(r.c.data, "expectation")
    judged_ranked = (
        select(
            r.c.customer_id,
            json_field(r.c.data, "answers").label("answers"),
            expectation.label("expectation"),
            func.row_number()
            .over(
                partition_by=r.c.customer_id, order_by=(r.c.day.desc(), code_points(r.c.id).desc())
            )
            .label("rn"),
        )
        .where(r.c.day <= as_of, expectation.is_not(None))
        .subquery()
    )
    judged = (  # the latest response that asked the expectation (latest_judged)
        select(
            judged_ranked.c.customer_id.label("cid"),
            judged_ranked.c.answers,
            judged_ranked.c.expectation,
        )
        .where(judged_ranked.c.rn == 1)
        .subquery()
    )
    two_way = sorted(s.name for s in TWO_WAY_LEAD_SOURCES)
    return [
        _Part(
            1.7,
            (
                func.substr(c.c.id_number, 1, 2).label("region"),
                c.c.agent_id.label("agent"),
                c.c.lead_source.in_(two_way).label("two_way"),
                c.c.holdings.label("holdings"),
                held.c.tier.label("tier"),
                type_coerce(c.c.erased_on.is_not(None), Integer).label("erased"),
                c.c.cooperation_partner.label("partner"),
            ),
            ((7, held, held.c.customer_id == c.c.id),),
        ),
        _Part(
            5.5,
            (
                func.coalesce(bought.c.n, 0).label("purchases"),
                _day(bought.c.first).label("first"),
                _day(bought.c.last).label("last"),
                func.coalesce(bought.c.wn, 0).label("window_purchases"),
                in_cents(func.coalesce(bought.c.wp, 0)).label("window_premium"),
                func.coalesce(bought.c.renewals, 0).label("renewals"),
                func.coalesce(bought.c.recent, 0).label("recent"),
                func.coalesce(bought.c.rewarded, 0).label("rewarded"),
                func.coalesce(bought.c.ours, 0).label("ours"),
                in_cents(func.coalesce(bought.c.warned, 0)).label("warned"),
                in_cents(func.coalesce(bought.c.warned_before, 0)).label("warned_before"),
                _day(bought.c.last_ours).label("last_ours"),
                func.coalesce(bought.c.before_period, 0).label("before_period"),
                func.coalesce(bought.c.in_period, 0).label("in_period"),
                func.coalesce(bought.c.new_in_period, 0).label("new_in_period"),
                in_cents(func.coalesce(bought.c.sales, 0)).label("sales"),
                func.coalesce(bought.c.sales_n, 0).label("sales_n"),
                func.coalesce(referrals.c.n, 0).label("referrals"),
                func.coalesce(referrals.c.buyers, 0).label("buyers"),
                # CASE evaluates the look-up only for a customer without a purchase
                type_coerce(
                    case((bought.c.cid.is_(None), two_way_contact), else_=literal(False)),
                    Integer,
                ).label("contacted"),
            ),
            ((0, bought, bought.c.cid == c.c.id), (5, referrals, referrals.c.cid == c.c.id)),
        ),
        _Part(
            0.3,
            (
                func.coalesce(missed.c.window, 0).label("window_missed"),
                func.coalesce(missed.c.credit, 0).label("credit_missed"),
            ),
            ((1, missed, missed.c.cid == c.c.id),),
        ),
        _Part(0.2, (func.coalesce(bad.c.n, 0).label("bad"),), ((2, bad, bad.c.cid == c.c.id),)),
        _Part(
            4.1,
            (
                func.coalesce(now.c.n, 0).label("in_force"),
                in_cents(func.coalesce(now.c.premium, 0)).label("in_force_premium"),
                cast(
                    case(
                        (c.c.household_id.is_(None), func.coalesce(now.c.long_term, 0)),
                        else_=func.coalesce(household.c.long_term, 0),
                    ),
                    BigInteger,
                ).label("household"),
                type_coerce(func.coalesce(now.c.at_start, 0) > 0, Integer).label("at_start"),
            ),
            ((3, now, now.c.cid == c.c.id), (4, household, household.c.hid == c.c.household_id)),
        ),
        _Part(
            0.1,
            (
                type_coerce(churned.c.cid.is_not(None), Integer).label("churned"),
                type_coerce(referring.c.cid.is_not(None), Integer).label("referring"),
            ),
            ((6, churned, churned.c.cid == c.c.id), (13, referring, referring.c.cid == c.c.id)),
        ),
        _Part(
            0.1,
            (
                func.coalesce(complained.c.now, 0).label("complaints"),
                func.coalesce(complained.c.before, 0).label("complaints_before"),
                func.coalesce(complained.c.period, 0).label("complained"),
            ),
            ((8, complained, complained.c.cid == c.c.id),),
        ),
        _Part(
            0.5,
            tuple(
                func.coalesce(noted.c[o.name.lower()], 0).label(_SIGNALS[o]) for o in ObservedSignal
            ),
            ((9, noted, noted.c.cid == c.c.id),),
        ),
        _Part(
            0.6,
            (
                surveys.c.last.label("survey_last"),
                surveys.c.prior.label("survey_prior"),
            ),
            ((10, surveys, surveys.c.cid == c.c.id),),
        ),
        _Part(
            0.3,
            (judged.c.answers.label("judged_answers"), judged.c.expectation.label("judged")),
            ((14, judged, judged.c.cid == c.c.id),),
        ),
        _Part(
            0.9,
            (
                latest_churn.c.id.label("churn_id"),
                _day(latest_churn.c.day).label("churn_on"),
                latest_churn.c.structure.label("structure"),
                latest_churn.c.causes.label("causes"),
                in_cents(func.coalesce(lost.c.premium, 0)).label("lost"),
            ),
            (
                (
                    11,
                    latest_churn,
                    and_(latest_churn.c.customer_id == c.c.id, c.c.erased_on.is_(None)),
                ),
                (12, lost, lost.c.cid == latest_churn.c.customer_id),
            ),
        ),
    ]


def _statement(parts: Sequence[_Part]) -> Select[Any]:
    """One row per customer, in id order: the id and the columns of ``parts``."""
    c = t.customers
    joined: Any = c
    # in one order whatever the parts: PostgreSQL keeps the written order of this many joins
    for _, target, on in sorted((j for part in parts for j in part.joins), key=lambda j: j[0]):
        joined = joined.outerjoin(target, on)
    columns = [column for part in parts for column in part.columns]
    return select(c.c.id.label("cid"), *columns).select_from(joined).order_by(c.c.id)


def figures_query(windows: AssessmentWindows, config: AssessmentConfig) -> Select[Any]:
    """The statement giving every customer's figures, in customer id order (its columns
    named as :func:`_batch` reads them)."""
    return _statement(_parts(windows, config))


def figure_statements(
    windows: AssessmentWindows, config: AssessmentConfig, n: int
) -> list[Select[Any]]:
    """The figures of :func:`figures_query` as ``n`` statements (fewer when there are fewer
    parts) of about the same cost, each giving one row per customer in id order with some
    of the columns: run on ``n`` connections at once, they use ``n`` cores."""
    shares: list[list[_Part]] = [[] for _ in range(max(1, n))]
    loads = [0.0] * len(shares)
    for part in sorted(_parts(windows, config), key=lambda p: -p.weight):
        lightest = loads.index(min(loads))
        shares[lightest].append(part)
        loads[lightest] += part.weight
    return [_statement(share) for share in shares if share]


def _elsewhere(holdings: str) -> int:
    """The annual premium, in cents, of the cover held with other insurers (the card's
    holdings)."""
    if holdings == "[]":
        return 0
    total = _ZERO
    for h in json.loads(holdings):
        premium = h.get("annual_premium")
        if premium is not None and premium["currency"] == DEFAULT_CURRENCY:
            total += Decimal(premium["amount"])
    return cents_of(total)


class SqlPortfolio:
    """:class:`~insurcrm.domain.repositories.PortfolioReader` on SQL.

    With ``readers`` above 1, a book of at least :data:`PARALLEL_FROM` customers is read by
    that many readers at once, each reading some of the figures' statements: reader
    processes on a SQLite file (:mod:`~insurcrm.adapters.sql.reader_process`; SQLite runs a
    statement on one core), connections of this process on PostgreSQL. They read one
    committed state, which the period counts read too: on SQLite they begin reading while a
    write lock keeps any commit from coming between them; on PostgreSQL they share an
    exported snapshot. That state is taken at the first read and kept until the unit of
    work commits, rolls back or ends (:meth:`reset`). A smaller SQLite book is read with
    the unit of work's connection, whose transaction keeps one state; a smaller PostgreSQL
    book by one REPEATABLE READ connection of its own, as the unit of work's (READ
    COMMITTED) would see a commit made between two statements. A unit of work that has
    written and not committed is read with its own connection, which sees its writes; so
    is every SQLite book, with a ``RuntimeWarning``, where reader processes cannot be
    started.
    """

    def __init__(self, conn: Connection, readers: int = 1) -> None:
        self._conn = conn
        self._readers = readers
        self._snapshot: _Snapshot | None = None
        self._changes = _changes(conn)

    def reset(self) -> None:
        """Forget the state read so far (the unit of work's transaction ended and another
        began)."""
        self.close()
        self._changes = _changes(self._conn)

    def close(self) -> None:
        """Give back the snapshot, if one was taken (the unit of work ends)."""
        snapshot, self._snapshot = self._snapshot, None
        if snapshot is not None:
            snapshot.close()

    def _reading(self) -> _Snapshot | None:
        """The snapshot to read with, or None to read with the unit of work's connection."""
        if self._snapshot is None:
            if self._written():
                return None
            big = self._readers > 1 and _book_size(self._conn) >= PARALLEL_FROM
            engine = self._conn.engine
            if engine.dialect.name == "postgresql":  # READ COMMITTED: a snapshot of its own
                self._snapshot = _Snapshot.exported(engine, self._readers if big else 1)
                return self._snapshot
            if not big:
                return None
            try:
                self._snapshot = _Snapshot.take(engine, self._readers)
            except ReaderUnavailable as error:
                warnings.warn(
                    f"insurcrm reads the portfolio's figures with one connection: {error}",
                    RuntimeWarning,
                    stacklevel=3,
                )
                self._readers = 1
                return None
        return self._snapshot

    def _written(self) -> bool:
        """Whether the unit of work has written and not committed."""
        if self._conn.dialect.name == "postgresql":
            return self._conn.execute(select(func.txid_current_if_assigned())).scalar() is not None
        return _changes(self._conn) != self._changes

    def period_counts(self, windows: AssessmentWindows) -> PeriodCounts:
        r, ch = t.survey_responses, t.churn_records
        praises, named = json_flag(r.c.data, "praises_us"), json_flag(r.c.data, "named_us")
        surveys = select(
            _count(praises == 1),
            _count(praises.is_not(None)),
            _count(named == 1),
            _count(named.is_not(None)),
        ).where(r.c.day > windows.period_start, r.c.day <= windows.as_of)
        structure = json_field(ch.c.data, "structure")
        causes = json_field(ch.c.data, "causes")
        analysed = or_(structure.is_not(None), causes != "[]")
        price = or_(
            causes.like(f'%"{ChurnCause.PRICE.name}"%'),
            structure == ChurnStructure.BOUGHT_OFF.name,
        )
        churns = select(_count(and_(analysed, price)), _count(analysed)).where(
            ch.c.day > windows.period_start, ch.c.day <= windows.as_of
        )
        with translate_errors(self._conn.engine.url):
            snapshot = self._reading()
            conn = self._conn if snapshot is None else snapshot.conn
            praising, asked_praise, naming, asked_name = conn.execute(surveys).one()
            price_led, churns_analysed = conn.execute(churns).one()
        return PeriodCounts(
            reputation=Rate(praising, asked_praise),
            naming_rate=Rate(naming, asked_name),
            price_sensitivity=Rate(price_led, churns_analysed),
        )

    def figures(
        self, windows: AssessmentWindows, config: AssessmentConfig
    ) -> Iterator[AssessmentFigures]:
        for batch in self.figure_batches(windows, config, BATCH):
            yield from batch.figures()

    def figure_batches(
        self, windows: AssessmentWindows, config: AssessmentConfig, size: int
    ) -> Iterator[FigureBatch]:
        with translate_errors(self._conn.engine.url):  # around the whole stream, not per batch
            snapshot = self._reading()
            if snapshot is None:
                sources = [figure_columns(self._conn, figures_query(windows, config), size)]
            else:
                n = len(snapshot.readers)
                sources = [
                    reader.figures(windows, config, i, n, size)
                    for i, reader in enumerate(snapshot.readers)
                ]
            # A reader's connection is read by a thread of its own; the unit of work's only
            # by the caller's thread, which may read more with it between two batches.
            streams: Sequence[Iterator[dict[str, Any]]] = (
                sources if snapshot is None else [read_ahead(source) for source in sources]
            )
            try:
                for parts in _together(streams):
                    columns = dict(parts[0])
                    for part in parts[1:]:
                        if part["cid"] != columns["cid"]:
                            raise StorageError("the figures' statements read different customers")
                        columns.update(part)
                    yield _batch(columns)
            finally:
                for stream in streams:
                    if isinstance(stream, ReadAhead):
                        stream.close()  # stops its thread
                for source in sources:
                    source.close()  # then the stream, here


def _together(streams: Sequence[Iterator[T]]) -> Iterator[tuple[T, ...]]:
    """One item of each stream at a time; the streams must end together."""
    try:
        yield from zip(*streams, strict=True)
    except ValueError:
        raise StorageError("the figures' statements read different customers") from None


#: The fewest customers a book must have to be read by several readers: starting them
#: (reader processes take about half a second) does not pay off on a smaller book.
PARALLEL_FROM = 50_000


def _changes(conn: Connection) -> int:
    """Rows the connection has written since it was opened (SQLite), or 0."""
    driver = conn.connection.driver_connection
    return int(getattr(driver, "total_changes", 0))


def _book_size(conn: Connection) -> int:
    """About how many customers the book holds: on SQLite its highest row number (at once),
    elsewhere the count."""
    if conn.dialect.name == "sqlite":
        size: Select[Any] = select(func.max(literal_column("rowid"))).select_from(t.customers)
    else:
        size = select(func.count()).select_from(t.customers)
    return int(conn.execute(size).scalar() or 0)


class _Reader(Protocol):
    """Reads some of the figures' statements (a reader process or a connection here)."""

    def figures(
        self, windows: AssessmentWindows, config: AssessmentConfig, index: int, n: int, size: int
    ) -> Generator[dict[str, Any], None, None]: ...

    def close(self) -> None: ...


@attrs.define
class _ConnectionReader:
    """A connection of this process reading some of the figures' statements: on
    PostgreSQL each runs in a server process of its own."""

    conn: Connection

    def figures(
        self, windows: AssessmentWindows, config: AssessmentConfig, index: int, n: int, size: int
    ) -> Generator[dict[str, Any], None, None]:
        statement = figure_statements(windows, config, n)[index]
        return figure_columns(self.conn, statement, size)

    def close(self) -> None:
        self.conn.close()


@attrs.define
class _Snapshot:
    """Readers and a connection of this process (for the period counts) reading one
    committed state."""

    conn: Connection
    readers: list[_Reader]

    @classmethod
    def exported(cls, engine: Engine, n: int) -> _Snapshot:
        """``n`` new PostgreSQL connections in one snapshot: the first exports its
        snapshot (``pg_export_snapshot``), the others import it (``SET TRANSACTION
        SNAPSHOT``); all are REPEATABLE READ, so each reads that snapshot throughout (the
        export is the first connection's first read, which takes it)."""
        conns: list[Connection] = []
        try:
            for i in range(n):
                conns.append(conn := engine.connect())
                conn.execution_options(isolation_level="REPEATABLE READ").begin()
                if i == 0:
                    shared = str(conn.execute(select(func.pg_export_snapshot())).scalar_one())
                    if not re.fullmatch(r"[0-9A-Fa-f-]+", shared):
                        raise StorageError("PostgreSQL exported an unexpected snapshot name")
                else:
                    conn.exec_driver_sql(f"SET TRANSACTION SNAPSHOT '{shared}'")
        except BaseException:
            for conn in conns:
                conn.close()
            raise
        return cls(conns[0], [_ConnectionReader(conn) for conn in conns])

    @classmethod
    def take(cls, engine: Engine, n: int) -> _Snapshot:
        """Start ``n`` reader processes; then each, and a new connection here, begins its
        transaction and reads while another connection holds the write lock (SQLite
        ``BEGIN IMMEDIATE``), so nothing can be committed between their first reads."""
        url = engine.url.render_as_string(hide_password=False)
        readers: list[ReaderProcess] = []
        conn: Connection | None = None
        try:
            readers.extend(ReaderProcess(url) for _ in range(n))
            for reader in readers:  # started together, ready before the lock is taken
                reader.ready()
            guard = engine.raw_connection()
            try:
                lock = guard.cursor()
                lock.execute("BEGIN IMMEDIATE")
                try:
                    conn = engine.connect()
                    conn.begin()
                    conn.execute(select(t.customers.c.id).limit(1)).all()
                    for reader in readers:
                        reader.begin()
                finally:
                    lock.execute("ROLLBACK")
                    lock.close()
            finally:
                guard.close()
        except BaseException:
            for reader in readers:
                reader.close()
            if conn is not None:
                conn.close()
            raise
        return cls(conn, list(readers))

    def close(self) -> None:
        for reader in self.readers:
            reader.close()
        self.conn.close()  # closed twice when a reader holds it: the second does nothing


def figure_columns(
    conn: Connection, statement: Select[Any], size: int
) -> Generator[dict[str, Any], None, None]:
    """The rows of a figures statement, ``size`` at a time, as columns by name, with the
    JSON ones read (:func:`_read_json`)."""
    # Options of this statement alone: the connection may be the unit of work's.
    result = conn.execute(statement, execution_options={"stream_results": True, "yield_per": size})
    try:
        keys = list(result.keys())
        for rows in result.partitions():
            yield _read_json(dict(zip(keys, zip(*rows, strict=True), strict=True)))
    finally:
        result.close()


def _read_json(columns: dict[str, Any]) -> dict[str, Any]:
    """``columns`` of a figures statement with the JSON ones read, those it has:
    ``holdings`` as the premium held elsewhere in cents, ``causes`` as a tuple, and the two
    latest survey responses (read only when the survey's fall is looked at) as their
    experience."""
    if "holdings" in columns:
        columns["holdings"] = [_elsewhere(h) for h in columns["holdings"]]
    if "causes" in columns:
        columns["causes"] = [tuple(json.loads(x)) if x else () for x in columns["causes"]]
    for name in ("survey_last", "survey_prior"):
        if name in columns:
            columns[name] = [_response(a)[0] if a else None for a in columns[name]]
    if "judged_answers" in columns:
        read = [_response(a) if a else (None, False) for a in columns.pop("judged_answers")]
        columns["survey_experience"] = [experience for experience, _ in read]
        columns["favours_us"] = [favours for _, favours in read]
        columns["judged"] = [Answer[x].score if x else None for x in columns["judged"]]
    return columns


@functools.lru_cache(maxsize=4096)
def _response(answers: str) -> tuple[Decimal, bool]:
    """A survey response's experience, and whether its INDUSTRY answer favours us, from its
    stored answers (a JSON object). Answers come in few combinations: each is read once."""
    read = {Dimension[d]: Answer[a] for d, a in json.loads(answers).items()}
    favours = attitude_of(read.get(Dimension.INDUSTRY)) is Attitude.FAVOURS_US
    return experience_of(read.values()), favours


def _batch(columns: Mapping[str, Sequence[Any]]) -> FigureBatch:
    """A batch of figures from the columns of :func:`figure_columns`, by name."""
    col = columns.__getitem__
    at_start = col("at_start")
    return FigureBatch(
        (
            col("cid"),
            col("region"),
            col("agent"),
            [bool(x) for x in col("two_way")],
            *map(col, _COUNTS),
            col("holdings"),
            col("household"),
            col("referrals"),
            col("buyers"),
            [bool(x) for x in at_start],
            [bool(x) for x in col("churned")],
            *map(col, _SIGNS),
            col("survey_last"),
            col("survey_prior"),
            col("last_ours"),
            col("churn_id"),
            col("churn_on"),
            col("structure"),
            col("causes"),
            col("lost"),
            [bool(s) or n > 0 for s, n in zip(at_start, col("in_period"), strict=True)],  # served
            [n > 0 for n in col("before_period")],
            [n > 0 for n in col("new_in_period")],
            [n > 0 for n in col("complained")],
            [bool(x) for x in col("referring")],
            col("sales"),
            col("sales_n"),
            [bool(x) for x in col("erased")],
            [bool(x) for x in col("contacted")],
            col("survey_experience"),
            col("judged"),
            col("favours_us"),
            [bool(x) for x in col("partner")],
        )
    )


#: Columns of a FigureBatch taken as read: its purchase, premium and policy counts...
_COUNTS = (
    "purchases",
    "first",
    "last",
    "window_purchases",
    "window_premium",
    "renewals",
    "window_missed",
    "recent",
    "rewarded",
    "ours",
    "credit_missed",
    "bad",
    "in_force",
    "in_force_premium",
)
#: ... and, after the customer's ties, the tier and the signs the early warning reads.
_SIGNS = (
    "tier",
    "warned",
    "warned_before",
    "complaints",
    "complaints_before",
    "praises",
    "declining",
    "strategy",
    "ownership",
)
