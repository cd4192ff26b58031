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
import json
from collections.abc import Iterator, Sequence
from decimal import Decimal
from typing import Any

from sqlalchemy import (
    BigInteger,
    Connection,
    Integer,
    Select,
    String,
    and_,
    case,
    cast,
    func,
    literal,
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
from insurcrm.adapters.sql.read_ahead import read_ahead
from insurcrm.adapters.sql.types import Amount
from insurcrm.domain.assessment import (
    AssessmentConfig,
    AssessmentFigures,
    AssessmentWindows,
)
from insurcrm.domain.churn import ChurnCause, ChurnStructure
from insurcrm.domain.classification import TWO_WAY_LEAD_SOURCES
from insurcrm.domain.figure_batch import NO_DAY, FigureBatch, cents_of
from insurcrm.domain.interactions import ObservedSignal
from insurcrm.domain.policies import PolicyStatus, PurchaseKind
from insurcrm.domain.rates import Rate
from insurcrm.domain.satisfaction import Answer, PeriodCounts, experience_of
from insurcrm.domain.values import DEFAULT_CURRENCY

__all__ = ["SqlPortfolio"]

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
            _amount(held, p.c.annual_premium).label("premium"),
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
            .over(partition_by=ch.c.customer_id, order_by=(ch.c.day.desc(), ch.c.id.desc()))
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


def figures_query(windows: AssessmentWindows, config: AssessmentConfig) -> Select[Any]:
    """The statement giving every customer's figures, in customer id order."""
    w = windows
    as_of = w.as_of
    c, p, s, m, sc = t.customers, t.policies, t.purchases, t.missed_premiums, t.status_changes
    window = s.c.on > w.rfm_since
    ours = p.c.insurer.is_(None)
    in_period_cny = and_(ours, s.c.on > w.period_start, s.c.currency == DEFAULT_CURRENCY)
    bought = (
        select(
            p.c.policyholder_id.label("cid"),
            func.count().label("n"),
            func.min(s.c.on).label("first"),
            func.max(s.c.on).label("last"),
            _count(window).label("wn"),
            _amount(window, s.c.amount).label("wp"),
            _count(and_(window, s.c.kind == PurchaseKind.RENEWAL.name)).label("renewals"),
            _count(s.c.on > w.repeat_since).label("recent"),
            _count(p.c.campaign.is_not(None)).label("rewarded"),
            _count(p.c.insurer.is_(None)).label("ours"),
            _amount(and_(ours, s.c.on > w.warning_since), s.c.amount).label("warned"),
            _amount(
                and_(ours, s.c.on > w.warning_before, s.c.on <= w.warning_since), s.c.amount
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
            func.count().label("n"),
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
    tm = t.tier_memberships
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
            _count(k.c.day <= w.warning_since).label("before"),
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
        .where(it.c.day > w.warning_since, it.c.day <= as_of)
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
            .over(partition_by=r.c.customer_id, order_by=(r.c.day.desc(), r.c.id.desc()))
            .label("rn"),
        )
        .where(r.c.day <= as_of)
        .subquery()
    )
    surveys = (
        select(
            ranked.c.customer_id.label("cid"),
            func.max(case((ranked.c.rn == 1, ranked.c.day))).label("last_on"),
            func.max(case((ranked.c.rn == 1, ranked.c.answers))).label("last"),
            func.max(case((ranked.c.rn == 2, ranked.c.answers))).label("prior"),
        )
        .where(ranked.c.rn <= 2)
        .group_by(ranked.c.customer_id)
        .subquery()
    )
    two_way = sorted(s.name for s in TWO_WAY_LEAD_SOURCES)
    return (
        select(
            c.c.id,
            func.substr(c.c.id_number, 1, 2).label("region"),
            c.c.agent_id,
            c.c.lead_source.in_(two_way).label("two_way"),
            c.c.holdings,
            func.coalesce(bought.c.n, 0),
            _day(bought.c.first),
            _day(bought.c.last),
            func.coalesce(bought.c.wn, 0),
            in_cents(func.coalesce(bought.c.wp, 0)),
            func.coalesce(bought.c.renewals, 0),
            func.coalesce(missed.c.window, 0),
            func.coalesce(bought.c.recent, 0),
            func.coalesce(bought.c.rewarded, 0),
            func.coalesce(bought.c.ours, 0),
            func.coalesce(missed.c.credit, 0),
            func.coalesce(bad.c.n, 0),
            func.coalesce(now.c.n, 0),
            in_cents(func.coalesce(now.c.premium, 0)),
            cast(
                case(
                    (c.c.household_id.is_(None), func.coalesce(now.c.long_term, 0)),
                    else_=func.coalesce(household.c.long_term, 0),
                ),
                BigInteger,
            ),
            func.coalesce(referrals.c.n, 0),
            func.coalesce(referrals.c.buyers, 0),
            type_coerce(func.coalesce(now.c.at_start, 0) > 0, Integer),
            type_coerce(churned.c.cid.is_not(None), Integer),
            tm.c.tier,
            in_cents(func.coalesce(bought.c.warned, 0)),
            in_cents(func.coalesce(bought.c.warned_before, 0)),
            func.coalesce(complained.c.now, 0),
            func.coalesce(complained.c.before, 0),
            *(func.coalesce(noted.c[o.name.lower()], 0) for o in ObservedSignal),
            _day(surveys.c.last_on),
            surveys.c.last,
            surveys.c.prior,
            _day(bought.c.last_ours),
            latest_churn.c.id,
            _day(latest_churn.c.day),
            latest_churn.c.structure,
            latest_churn.c.causes,
            in_cents(func.coalesce(lost.c.premium, 0)),
            func.coalesce(bought.c.before_period, 0),
            func.coalesce(bought.c.in_period, 0),
            func.coalesce(bought.c.new_in_period, 0),
            func.coalesce(complained.c.period, 0),
            type_coerce(referring.c.cid.is_not(None), Integer),
            in_cents(func.coalesce(bought.c.sales, 0)),
            func.coalesce(bought.c.sales_n, 0),
        )
        .outerjoin(bought, bought.c.cid == c.c.id)
        .outerjoin(missed, missed.c.cid == c.c.id)
        .outerjoin(bad, bad.c.cid == c.c.id)
        .outerjoin(now, now.c.cid == c.c.id)
        .outerjoin(household, household.c.hid == c.c.household_id)
        .outerjoin(referrals, referrals.c.cid == c.c.id)
        .outerjoin(churned, churned.c.cid == c.c.id)
        .outerjoin(tm, tm.c.customer_id == c.c.id)
        .outerjoin(complained, complained.c.cid == c.c.id)
        .outerjoin(noted, noted.c.cid == c.c.id)
        .outerjoin(surveys, surveys.c.cid == c.c.id)
        .outerjoin(
            latest_churn,
            and_(latest_churn.c.customer_id == c.c.id, c.c.erased_on.is_(None)),
        )
        .outerjoin(lost, lost.c.cid == latest_churn.c.customer_id)
        .outerjoin(referring, referring.c.cid == c.c.id)
        .order_by(c.c.id)
    )


def _elsewhere(holdings: str) -> int:
    """The annual premium, in cents, of the cover held with other insurers (the card's
    holdings)."""
    if holdings == "[]":
        return 0
    total = _ZERO
    for h in json.loads(holdings):
        premium = h.get("annual_premium")
        if premium is not None:
            total += Decimal(premium["amount"])
    return cents_of(total)


class SqlPortfolio:
    """:class:`~insurcrm.domain.repositories.PortfolioReader` on SQL."""

    def __init__(self, conn: Connection) -> None:
        self._conn = conn

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
            praising, asked_praise, naming, asked_name = self._conn.execute(surveys).one()
            price_led, churns_analysed = self._conn.execute(churns).one()
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
            result = self._conn.execution_options(stream_results=True, yield_per=size).execute(
                figures_query(windows, config)
            )
            since = windows.warning_since.toordinal()
            try:
                for rows in read_ahead(result.partitions()):
                    yield _batch(rows, since)
            finally:
                result.close()


def _experience(answers: str) -> Decimal:
    """The experience of a survey response from its stored answers (a JSON object)."""
    return experience_of(Answer[name] for name in json.loads(answers).values())


def _batch(rows: Sequence[Any], warning_since: int) -> FigureBatch:
    """A batch of figures from rows of :func:`figures_query` (its columns, in order)."""
    (
        cid,
        region,
        agent,
        two_way,
        holdings,
        purchases,
        first,
        last,
        window_purchases,
        window_premium,
        renewals,
        window_missed,
        recent,
        rewarded,
        ours,
        credit_missed,
        bad,
        in_force,
        in_force_premium,
        household,
        referrals,
        buyers,
        at_start,
        churned,
        tier,
        warned,
        warned_before,
        complaints,
        complaints_before,
        praises,
        declining,
        strategy,
        ownership,
        survey_on,
        survey_last,
        survey_prior,
        last_ours,
        churn_id,
        churn_on,
        structure,
        causes,
        lost,
        before_period,
        in_period,
        new_in_period,
        complained,
        referring,
        sales,
        sales_n,
    ) = zip(*rows, strict=True) if rows else ((),) * _COLUMNS
    # two responses, the latest recent: the survey's fall is looked at
    fell = [
        p is not None and on > warning_since for p, on in zip(survey_prior, survey_on, strict=True)
    ]
    return FigureBatch(
        (
            cid,
            region,
            agent,
            [bool(x) for x in two_way],
            purchases,
            first,
            last,
            window_purchases,
            window_premium,
            renewals,
            window_missed,
            recent,
            rewarded,
            ours,
            credit_missed,
            bad,
            in_force,
            in_force_premium,
            [_elsewhere(h) for h in holdings],
            household,
            referrals,
            buyers,
            [bool(x) for x in at_start],
            [bool(x) for x in churned],
            tier,
            warned,
            warned_before,
            complaints,
            complaints_before,
            praises,
            declining,
            strategy,
            ownership,
            [_experience(a) if f else None for a, f in zip(survey_last, fell, strict=True)],
            [_experience(a) if f else None for a, f in zip(survey_prior, fell, strict=True)],
            last_ours,
            churn_id,
            churn_on,
            structure,
            [tuple(json.loads(x)) if x else () for x in causes],
            lost,
            [bool(s) or n > 0 for s, n in zip(at_start, in_period, strict=True)],  # served
            [n > 0 for n in before_period],
            [n > 0 for n in new_in_period],
            [n > 0 for n in complained],
            [bool(x) for x in referring],
            sales,
            sales_n,
        )
    )


_COLUMNS = 49
