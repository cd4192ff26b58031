"""The retention part of the command line's report (DOMAIN.md §3, §7–§9): prints a
:class:`~insurcrm.services.retention.RetentionReport` — churn and retention rates,
satisfaction indicators, complaint handling against promise, early warnings, the win-back
queue and the visit plan for the coming week. Only ids, dates, codes and figures are
printed, never personal data.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from decimal import Decimal

from rich.console import Console
from rich.table import Table

from insurcrm.cli_format import keeping_table, rate
from insurcrm.domain.early_warning import EarlyWarning, WarningLevel
from insurcrm.domain.recovery import WinBackStance
from insurcrm.domain.visits import VisitConfig, VisitReason
from insurcrm.services.retention import RetentionReport

__all__ = ["print_retention"]


#: Visits due this week listed under the plan's table.
PLAN_SHOWN = 8


def _print_rates(console: Console, report: RetentionReport) -> None:
    rates, ind, handling = report.rates, report.indicators, report.handling
    console.print(keeping_table(report.since, report.as_of, rates, ind))
    days = handling.average_handling_days
    console.print(
        f"Complaints received (投诉): {handling.received:,}; answered by the promised day: "
        f"{rate(handling.answered_on_time)}, late: {handling.late:,}; "
        f"closed: {handling.closed:,} in {days if days is not None else 'n/a'} days on "
        f"average; reopened: {handling.reopened:,}; open: {handling.open:,}; "
        f"overdue: {len(handling.overdue):,}."
    )


def _print_warnings(console: Console, warnings: list[EarlyWarning]) -> None:
    levels = Counter(w.level for w in warnings)
    console.print(
        "Early warnings of customers with a policy in force (客户不满预警): "
        + ", ".join(
            f"{levels[level]:,} {level.name} ({level.label_zh})"
            for level in reversed(WarningLevel)
            if level is not WarningLevel.NONE
        )
        + "."
    )
    if not warnings:
        return
    table = Table(title="Highest early-warning scores (first 5)")
    table.add_column("Customer")
    table.add_column("Score", justify="right")
    table.add_column("Level")
    table.add_column("Signals")
    for warning in warnings[:5]:
        table.add_row(
            warning.customer_id,
            str(warning.score),
            warning.level.name,
            "; ".join(warning.reasons),
        )
    console.print(table)


def _print_queue(console: Console, report: RetentionReport) -> None:
    queue = report.queue
    stances = Counter(w.decision.stance for w in queue)
    recommended = [w for w in queue if w.decision.recommended]
    net = sum((w.decision.expected_net_benefit for w in recommended), Decimal(0))
    console.print(f"Renewal model (续保模型): {report.model.reason}.")
    console.print(
        f"Churned customers not won back (流失客户): {len(queue):,} — "
        + ", ".join(f"{stances[s]:,} {s.name} ({s.label_zh})" for s in WinBackStance)
        + f". Win-back recommended for {len(recommended):,}, expected net benefit "
        f"¥{net:,.2f}."
    )
    if not recommended:
        return
    table = Table(title="Win-back queue (挽回队列, first 10)")
    table.add_column("Customer")
    table.add_column("Churned")
    table.add_column("Structure")
    table.add_column("Value class")
    table.add_column("Measures")
    table.add_column("Expected net", justify="right")
    for item in recommended[:10]:
        decision, record = item.decision, item.record
        table.add_row(
            decision.customer_id,
            str(record.on),
            record.structure.name if record.structure else "not analysed",
            decision.value_class.name,
            ", ".join(m.name for m in decision.measures),
            f"¥{decision.expected_net_benefit:,.2f}",
        )
    console.print(table)


def _print_plan(console: Console, report: RetentionReport) -> None:
    plan, as_of = report.plan, report.as_of
    until = as_of + dt.timedelta(days=VisitConfig().horizon_days)
    overdue = Counter(e.reason for e in plan if e.overdue(as_of))
    due = Counter(e.reason for e in plan if not e.overdue(as_of))
    table = Table(title=f"Visit plan for {as_of} to {until} (客户访问计划)")
    table.add_column("Reason")
    table.add_column("中文")
    table.add_column("Due this week", justify="right")
    table.add_column("Overdue", justify="right")
    for reason in VisitReason:
        table.add_row(reason.name, reason.label_zh, f"{due[reason]:,}", f"{overdue[reason]:,}")
    console.print(table)
    coming = [e for e in plan if not e.overdue(as_of)]
    if coming:
        shown = min(len(coming), PLAN_SHOWN)
        console.print(f"Due this week, the first {shown} of {len(coming):,}:")
    for entry in coming[:PLAN_SHOWN]:
        console.print(f"  {entry.due}  {entry.customer_id}  {entry.reason.name}: {entry.detail}")


def print_retention(console: Console, report: RetentionReport) -> None:
    """Print the retention report."""
    _print_rates(console, report)
    _print_warnings(console, report.warnings)
    _print_queue(console, report)
    _print_plan(console, report)
