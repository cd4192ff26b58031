"""``insurcrm assess``: the portfolio assessment (§10.1) on the command line.

The rows stream to a CSV or JSON-lines file (or standard output) while the totals
are added up; the summary is printed at the end. Only codes and figures are
printed or written, never personal data.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import os
import sys
import tempfile
from collections.abc import Iterable, Iterator, Mapping
from decimal import Decimal
from pathlib import Path
from typing import IO, Any

from rich.console import Console
from rich.table import Table

from insurcrm.cli_format import keeping_table, progress_bar, share
from insurcrm.domain.assessment import (
    AssessmentConfig,
    AssessmentTotals,
    GroupTotals,
    TierChange,
)
from insurcrm.domain.credit import CreditGrade
from insurcrm.domain.early_warning import WarningLevel
from insurcrm.domain.labels import LabelledEnum
from insurcrm.domain.loyalty import LoyaltyLevel, LoyaltyType
from insurcrm.domain.recovery import WinBackStance
from insurcrm.domain.rfm import RfmSegment
from insurcrm.domain.segmentation import RetentionClass, ValueQuadrant
from insurcrm.domain.tiers import TierLadder
from insurcrm.domain.unit_of_work import UnitOfWork
from insurcrm.services.assessment import PortfolioAssessment, assess_portfolio, write_rows

__all__ = ["print_assessment", "run_assessment"]

#: Regions and agents listed in the summary (the largest by customers).
TOP_GROUPS = 10


@contextlib.contextmanager
def _output(out: Path | None) -> Iterator[IO[str]]:
    """Standard output, or a file that appears only when complete (written beside it,
    then renamed): an interrupted run leaves no half-written file."""
    if out is None:
        yield sys.stdout
        return
    handle = tempfile.NamedTemporaryFile(  # noqa: SIM115 -- renamed or removed below
        "w",
        encoding="utf-8",
        newline="",
        dir=out.parent if str(out.parent) else ".",
        prefix=f".{out.name}.",
        delete=False,
    )
    try:
        with handle:
            yield handle
        os.chmod(handle.name, 0o666 & ~_umask())  # as open() would have made it, not 0600
        os.replace(handle.name, out)
    except BaseException:
        Path(handle.name).unlink(missing_ok=True)
        raise


def _umask() -> int:
    """This process's file-creation mask."""
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def run_assessment(
    console: Console,
    uow: UnitOfWork,
    as_of: dt.date,
    *,
    fmt: str = "table",
    out: Path | None = None,
    ladder: TierLadder | None = None,
) -> PortfolioAssessment:
    """Assess the book with progress bars; write the rows when ``fmt`` is csv or json."""
    config = AssessmentConfig() if ladder is None else AssessmentConfig(ladder=ladder)
    with progress_bar(console) as bar:
        task = bar.add_task("Reading the book", total=None)
        assessment = assess_portfolio(
            uow,
            as_of,
            config,
            progress=lambda done, total: bar.update(task, completed=done, total=total),
        )
        bar.update(task, description="Assessing customers", completed=0)
        rows = iter(assessment)
        if fmt == "table":
            for _ in rows:
                pass
        else:
            with _output(out) as handle:
                write_rows(rows, handle, fmt)
    return assessment


def _counts(
    title: str,
    counts: Mapping[Any, int],
    members: Iterable[LabelledEnum],
    total: int,
    unclassed: str = "未分类（无购买）",
) -> Table:
    table = Table(title=title)
    table.add_column("Class")
    table.add_column("中文")
    table.add_column("Customers", justify="right")
    table.add_column("Share", justify="right")
    for member in members:
        n = counts.get(member, 0)
        table.add_row(member.name, member.label_zh, f"{n:,}", share(n, total))
    rest = counts.get(None, 0)
    if rest:
        table.add_row("–", unclassed, f"{rest:,}", share(rest, total))
    return table


def _groups(title: str, name: str, groups: Mapping[str | None, GroupTotals], total: int) -> Table:
    table = Table(title=title)
    table.add_column(name)
    table.add_column("Customers", justify="right")
    table.add_column("Share", justify="right")
    table.add_column("Policies in force", justify="right")
    table.add_column("Premium in force", justify="right")
    ranked = sorted(groups.items(), key=lambda kv: (-kv[1].customers, kv[0] or ""))
    for key, group in ranked[:TOP_GROUPS]:
        table.add_row(
            key or "(none)",
            f"{group.customers:,}",
            share(group.customers, total),
            f"{group.in_force:,}",
            f"{group.premium_in_force:,.2f}",
        )
    if len(ranked) > TOP_GROUPS:
        rest = ranked[TOP_GROUPS:]
        table.add_row(
            f"{len(rest):,} more",
            f"{sum(g.customers for _, g in rest):,}",
            share(sum(g.customers for _, g in rest), total),
            f"{sum(g.in_force for _, g in rest):,}",
            f"{sum((g.premium_in_force for _, g in rest), Decimal(0)):,.2f}",
        )
    return table


def print_assessment(
    console: Console, assessment: PortfolioAssessment, *, keeping: bool = True
) -> None:
    """Print the totals of a complete assessment (``keeping``: with the churn and
    retention rates and the satisfaction indicators)."""
    t: AssessmentTotals = assessment.totals
    n = t.customers
    console.print(f"Assessment as of {assessment.as_of}: {n:,} customers.")
    if n == 0:
        console.print("The book is empty: nothing to assess.")
        return
    for title, counts, members in (
        ("Loyalty ladder (客户忠诚度级别)", t.by_level, LoyaltyLevel),
        ("Loyalty types (忠诚类型)", t.by_type, LoyaltyType),
        ("RFM segments (RFM 客户价值分类)", t.by_segment, RfmSegment),
        ("Value quadrants (四象限价值分类)", t.by_quadrant, ValueQuadrant),
        ("Retention classes (客户保持策略)", t.by_retention, RetentionClass),
        ("Credit grades (信用等级)", t.by_credit, CreditGrade),
        ("Early warning, every customer (客户不满的信号)", t.by_warning, WarningLevel),
    ):
        console.print(_counts(title, counts, members, n))
    console.print(
        _counts(
            "Tier changes due (服务等级变动)",
            t.by_tier_change,
            TierChange,
            n,
            unclassed="none: personal data erased (已删除个人信息)",
        )
    )
    churned = n - t.by_win_back.get(None, 0)
    if churned:
        win_backs = {k: v for k, v in t.by_win_back.items() if k is not None}
        console.print(
            _counts(
                "Win-back stance of churned customers (流失客户的挽回)",
                win_backs,
                WinBackStance,
                churned,
            )
        )
        console.print(
            f"Win-back recommended for {t.win_backs_recommended:,} of {churned:,} churned "
            "customers (expected benefit above the cost)."
        )
    tiers = Table(title="Qualifying tiers (客户服务升级规划)")
    tiers.add_column("Tier")
    tiers.add_column("Customers", justify="right")
    tiers.add_column("Share", justify="right")
    for code in assessment.config.ladder.codes:
        k = t.by_tier.get(code, 0)
        tiers.add_row(code, f"{k:,}", share(k, n))
    console.print(tiers)
    console.print(_groups("By region (客户区域分析; ID province code)", "Region", t.by_region, n))
    console.print(_groups("By agent (销售业绩分析)", "Agent", t.by_agent, n))
    means = assessment.stats.means
    console.print(
        f"RFM means over {means.customers:,} buying customers: R {means.recency} days, "
        f"F {means.frequency}, M {means.monetary:,}."
    )
    if t.pareto is not None:
        p = t.pareto
        console.print(
            f"Pareto (二八定律): the top {p.top_customers:,} customers ({p.top_fraction:.0%}) "
            f"bring {p.share:.1%} of the premium in the RFM window."
        )
    if keeping and t.churn is not None and t.satisfaction is not None:
        console.print(keeping_table(t.churn.start, t.churn.end, t.churn, t.satisfaction))
