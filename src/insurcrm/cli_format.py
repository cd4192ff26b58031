"""Small formatting pieces the command line's modules share."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from insurcrm.domain.churn import ChurnRates
from insurcrm.domain.rates import Rate
from insurcrm.domain.satisfaction import SatisfactionIndicators

__all__ = ["keeping_table", "percent", "progress_bar", "rate", "share"]


def percent(value: Decimal | None) -> str:
    """A percentage figure as ``12.50 %``; n/a for None (an empty group)."""
    return "n/a" if value is None else f"{value} %"


def rate(value: Rate) -> str:
    """A rate with its counts, e.g. ``12.50 % (1/8)``."""
    return f"{percent(value.percent)} ({value.numerator:,}/{value.denominator:,})"


def keeping_table(
    since: dt.date, as_of: dt.date, rates: ChurnRates, ind: SatisfactionIndicators
) -> Table:
    """The churn and retention rates and the satisfaction indicators of a period."""
    table = Table(title=f"Keeping customers, {since} to {as_of} (客户保持)")
    table.add_column("Figure")
    table.add_column("Value", justify="right")
    average = ind.average_purchase
    rows = [
        (
            "Churn rate 客户流失率",
            f"{percent(rates.churn_rate)} ({rates.churned:,}/{rates.customers_at_start:,})",
        ),
        ("Retention rate 客户保持率", percent(rates.retention_rate)),
        ("Reputation 美誉度", rate(ind.reputation)),
        ("Naming rate 指名率", rate(ind.naming_rate)),
        ("Repeat rate 回头率", rate(ind.repeat_rate)),
        ("Complaint rate 抱怨率", rate(ind.complaint_rate)),
        ("Referral rate 推荐率", rate(ind.referral_rate)),
        ("Price sensitivity 价格敏感度", rate(ind.price_sensitivity)),
        ("Sales power 销售力", f"¥{ind.sales_power.amount:,.2f}"),
        ("Average purchase 单次购买额", "n/a" if average is None else f"¥{average.amount:,.2f}"),
    ]
    for name, value in rows:
        table.add_row(name, value)
    return table


def share(part: Decimal | int, whole: Decimal | int) -> str:
    """``part`` as a percentage of ``whole`` with one decimal, e.g. ``12.5 %``; – for 0."""
    if not whole:
        return "–"
    return f"{Decimal(part) * 100 / Decimal(whole):.1f} %"


def progress_bar(console: Console, *, transient: bool = True) -> Progress:
    """A bar that shows the task's description, done of total and time; it disappears
    when done unless ``transient`` is False."""
    return Progress(
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=console,
        transient=transient,
    )
