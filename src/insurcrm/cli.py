"""The ``insurcrm`` command line: the composition root, the one place that picks an adapter.

Commands::

    insurcrm demo [--db URL] [--customers N] [--seed S]   build a sample book and summarise it
    insurcrm generate --db URL --customers N [--seed S]   fill a database with a synthetic book
    insurcrm import --db URL FILE.csv ...                   import a book (customers first)
    insurcrm summary [--db URL]                            summarise the book in a database
    insurcrm assess --db URL [--as-of D] [--format F] [--out FILE]  assess every customer
    insurcrm tiers review --db URL [--as-of D] [--ladder F]  review every customer's tier
    insurcrm tiers show --db URL --customer ID [--as-of D]   one customer's tier, with reasons
    insurcrm db upgrade --db URL                           create or upgrade the schema
    insurcrm --version

Errors of insurcrm (:class:`~insurcrm.errors.InsurCRMError`: a bad URL, an
unreachable database, a missing schema …) are printed as one red line on
standard error, without a traceback, and the exit code is 1. ``import``
exits with 3 when it stored the good rows but rejected others. Only figures
are printed, never personal data.
"""

from __future__ import annotations

import datetime as dt
import re
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import click
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from insurcrm import __version__
from insurcrm.adapters.sql import SqlStore, head_revision, upgrade
from insurcrm.adapters.sql.engine import describe_url
from insurcrm.cli_assess import print_assessment, run_assessment
from insurcrm.cli_format import progress_bar, share
from insurcrm.cli_retention import print_retention
from insurcrm.domain.dates import add_years
from insurcrm.domain.labels import counted
from insurcrm.domain.tier_membership import TIER_MOVES, TierChangeKind, TierEvaluation
from insurcrm.domain.tiers import DEFAULT_LADDER, TierLadder
from insurcrm.domain.unit_of_work import UnitOfWork
from insurcrm.errors import InsurCRMError
from insurcrm.services.assessment import FORMATS
from insurcrm.services.churn import detect_churn
from insurcrm.services.csv_import import (
    BATCH,
    KINDS,
    ImportResult,
    import_csv,
    kind_of,
)
from insurcrm.services.policies import PortfolioSummary, portfolio_summary
from insurcrm.services.progress import Progress
from insurcrm.services.retention import retention_report
from insurcrm.services.sample_portfolio import DEFAULT_AS_OF, SampleStats, generate_sample
from insurcrm.services.tiers import (
    TierReview,
    count_tier_changes,
    evaluate_customer_tier,
    load_ladder,
    replay_tier_reviews,
    review_tiers,
)

__all__ = ["DEFAULT_DB_URL", "REJECTS_EXIT_CODE", "cli", "main"]

#: The exit code of ``insurcrm import`` when it stored the good rows and rejected others.
REJECTS_EXIT_CODE = 3
#: The exit code of an import stopped by Ctrl-C (128 + SIGINT, as shells report it).
INTERRUPTED_EXIT_CODE = 130

#: Where ``insurcrm demo`` builds its sample book unless told otherwise: ./insurcrm-demo.db.
DEFAULT_DB_URL = "sqlite:///insurcrm-demo.db"


class _Cli(click.Group):
    """A group that reports insurcrm's own errors as one line, without a traceback."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except InsurCRMError as error:
            err = Console(stderr=True, highlight=False, soft_wrap=True)
            message = " ".join(str(error).split())  # one line, whatever the driver said
            err.print(f"Error: {message}", style="bold red", markup=False)
            ctx.exit(1)


F = TypeVar("F", bound=Callable[..., Any])
T = TypeVar("T")


def _db_option(**kwargs: Any) -> Callable[[F], F]:
    return click.option(
        "--db",
        "--url",
        "url",
        metavar="URL",
        help="Database URL, e.g. sqlite:///insurcrm.db or postgresql+psycopg://user:pw@host/db.",
        **kwargs,
    )


#: The dates a command line takes: the windows reach years back from them (a sample book
#: ten, the rules' look-backs three) and ahead of them, within the calendar's years 1–9999.
FIRST_DAY, LAST_DAY = dt.date(1900, 1, 1), dt.date(2999, 12, 31)


def _day(text: str, param: click.Parameter | None) -> dt.date:
    """``text`` as a calendar date written YYYY-MM-DD, from :data:`FIRST_DAY` to
    :data:`LAST_DAY`."""
    if not re.fullmatch(r"\d{4}-\d{2}-\d{2}", text):
        raise click.BadParameter(f"{text!r} is not a date written YYYY-MM-DD", param=param)
    try:
        day = dt.date.fromisoformat(text)
    except ValueError:
        raise click.BadParameter(f"{text!r} is not a day of the calendar", param=param) from None
    if not FIRST_DAY <= day <= LAST_DAY:
        raise click.BadParameter(
            f"{text!r} is outside the dates taken ({FIRST_DAY} to {LAST_DAY})", param=param
        )
    return day


def _as_of_day(ctx: click.Context, param: click.Parameter, value: str | None) -> dt.date:
    """The ``--as-of`` given (or its default), or today (this machine's local date) when
    the option has no default."""
    return dt.date.today() if value is None else _day(value, param)


_sample_as_of_option = click.option(
    "--as-of",
    "as_of",
    metavar="DATE",
    callback=_as_of_day,
    default=DEFAULT_AS_OF.isoformat(),
    show_default=True,
    help="The date the sample book is built up to (and, for demo, assessed on), YYYY-MM-DD.",
)


_as_of_option = click.option(
    "--as-of",
    "as_of",
    metavar="DATE",
    default=None,
    callback=_as_of_day,
    show_default="today",
    help="The date to assess the book on (YYYY-MM-DD).",
)


@click.group(cls=_Cli, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, "--version", "-V", prog_name="insurcrm")
def cli() -> None:
    """insurcrm: insurance customer relationship management (保险客户关系管理)."""


@cli.command()
@_db_option(default=DEFAULT_DB_URL, show_default=True)
@click.option(
    "--customers",
    type=click.IntRange(min=1),
    default=3000,
    show_default=True,
    help="How many sample customers to create.",
)
@click.option("--seed", type=int, default=2024, show_default=True, help="Random seed.")
@_sample_as_of_option
def demo(url: str, customers: int, seed: int, as_of: dt.date) -> None:
    """Build a sample book of customers and policies, then print its summary: segments,
    tiers, churn and retention, satisfaction, complaints, early warnings, the win-back
    queue and the visit plan for the coming week.

    Creates or upgrades the schema first. Running it again adds nothing.
    """
    console = Console(highlight=False)
    store = SqlStore.open(url, upgrade=True)
    try:
        _generate(console, store, url, customers, seed, as_of)
        summary = portfolio_summary(store.unit_of_work(), as_of)
        reviews = _with_progress(
            console,
            "Reviewing service tiers",
            lambda progress: replay_tier_reviews(
                store.unit_of_work(), _quarter_ends(as_of), progress=progress
            ),
        )
        assessment = run_assessment(console, store.unit_of_work(), as_of)
        year_ago = add_years(as_of, -1)
        changes = count_tier_changes(store.unit_of_work(), year_ago, as_of)
        retention = _with_progress(
            console,
            "Reporting on keeping customers",
            lambda progress: retention_report(store.unit_of_work(), as_of, progress=progress),
        )
    finally:
        store.dispose()
    _print_summary(console, summary)
    print_assessment(console, assessment, keeping=False)  # the retention report has them
    _print_tiers(console, reviews[-1], DEFAULT_LADDER, changes, year_ago)
    print_retention(console, retention)


@cli.command()
@_db_option(required=True)
@click.option(
    "--customers",
    type=click.IntRange(min=1),
    required=True,
    help="How many customers to create.",
)
@click.option("--seed", type=int, default=2024, show_default=True, help="Random seed.")
@_sample_as_of_option
def generate(url: str, customers: int, seed: int, as_of: dt.date) -> None:
    """Fill a database with a synthetic book: customers with valid ID numbers, households,
    referrals, policies across every line with renewals, lapses and claims, contacts,
    complaints, surveys and churn — the same book for the same seed, on any backend.

    Creates or upgrades the schema first. Running it again adds nothing; after an
    interruption (Ctrl-C, a killed process) it resumes where the interrupted run stopped.
    """
    console = Console(highlight=False)
    store = SqlStore.open(url, upgrade=True)
    try:
        _generate(console, store, url, customers, seed, as_of)
    finally:
        store.dispose()


def _generate(
    console: Console, store: SqlStore, url: str, customers: int, seed: int, day: dt.date
) -> SampleStats:
    console.print(f"Database: {describe_url(url)}")
    started = time.perf_counter()
    with progress_bar(console, transient=False) as bar:
        task = bar.add_task("Generating sample book", total=customers)
        stats = generate_sample(
            store.unit_of_work(),
            customers=customers,
            seed=seed,
            as_of=day,
            progress=lambda done, total: bar.update(task, completed=done, total=total),
        )
        bar.update(task, completed=customers)
    _print_stats(console, stats, time.perf_counter() - started)
    return stats


@cli.command("import")
@_db_option(required=True)
@click.argument("files", nargs=-1, required=True, type=click.Path(dir_okay=False, path_type=Path))
def import_files(url: str, files: tuple[Path, ...]) -> None:
    """Import customers, holdings, policies, status changes, renewals, missed premiums,
    contacts, complaints, survey responses and churn records from CSV files (in that order,
    whatever the order given).

    Creates or upgrades the schema first (a new file for a path that does not exist yet).
    Bad rows of FILE.csv go to FILE.rejects.csv beside it, with their line, field and
    reason; the values are never printed. Running the same import again adds nothing; an
    interrupted one resumes.

    Exit code: 0 when every row was stored or already present; 3 when every file was
    read and the good rows stored, but some rows were rejected; 1 on an error; 2 for a
    wrong command line; 130 when stopped by Ctrl-C.
    """
    console = Console(highlight=False)
    rejected = 0
    kinds = {path: kind_of(path)[0] for path in files}
    order = [kind for kind, *_ in KINDS]
    ordered = sorted(files, key=lambda p: (order.index(kinds[p]), files.index(p)))
    store = SqlStore.open(url, upgrade=True)
    try:
        console.print(f"Database: {describe_url(url)}")
        for path in ordered:
            result = _with_progress(console, f"Importing {path.name}", _importer(store, path))
            line = (
                f"{escape(result.path.name)} ({result.kind}): {counted(result.rows, 'row')}, "
                f"{result.stored:,} stored, {result.already_present:,} already present, "
                f"{result.rejected:,} rejected"
            )
            if result.rejects_path is not None:
                line += f" (see {escape(str(result.rejects_path))})"
            console.print(line + ".")
            rejected += result.rejected
    except KeyboardInterrupt:
        console.print(
            f"Interrupted: the rows stored before it stay, in whole batches of {BATCH:,} (a "
            "batch is stored whole or not at all). Run the same command again to go on: "
            "the rows stored are counted as already present."
        )
        raise click.exceptions.Exit(INTERRUPTED_EXIT_CODE) from None
    finally:
        store.dispose()
    if rejected:
        console.print(
            f"{counted(rejected, 'row')} rejected: fix those lines in the files and run the same "
            "import again; what is stored stays as it is (exit code 3)."
        )
        raise click.exceptions.Exit(REJECTS_EXIT_CODE)


def _importer(store: SqlStore, path: Path) -> Callable[[Progress], ImportResult]:
    """Import ``path`` reporting rows read against the file's data lines."""
    with path.open("rb") as handle:
        total = max(sum(1 for _ in handle) - 1, 0)

    def run(progress: Progress) -> ImportResult:
        return import_csv(
            store.unit_of_work(),
            path,
            progress=lambda rows: progress(rows, total),
            today=dt.date.today(),
        )

    return run


def _quarter_ends(day: dt.date) -> list[dt.date]:
    """The last two years of quarterly reviews up to ``day`` (the demo's tier history)."""
    dates = [day]
    for _ in range(8):
        first = dates[-1].replace(day=1)
        month = (first.month - 1) // 3 * 3 + 1
        quarter_start = first.replace(month=month)
        dates.append(quarter_start - dt.timedelta(days=1))
    return sorted(set(dates))


def _with_progress(console: Console, label: str, work: Callable[[Progress], T]) -> T:
    with progress_bar(console) as bar:
        task = bar.add_task(label, total=None)
        return work(lambda done, total: bar.update(task, completed=done, total=total))


def _on_book(
    console: Console,
    url: str,
    label: str,
    work: Callable[[UnitOfWork, Progress], T],
) -> T:
    """Open the database at ``url`` (its schema must be up to date), say which, and run
    ``work`` on a unit of work of it with a progress bar labelled ``label``."""
    store = SqlStore.open(url)
    try:
        console.print(f"Database: {describe_url(url)}")
        return _with_progress(console, label, lambda progress: work(store.unit_of_work(), progress))
    finally:
        store.dispose()


@cli.command()
@_db_option(default=DEFAULT_DB_URL, show_default=True)
@_as_of_option
def summary(url: str, as_of: dt.date) -> None:
    """Print the summary of the book in a database (its schema must be up to date)."""
    console = Console(highlight=False)
    store = SqlStore.open(url)
    try:
        console.print(f"Database: {describe_url(url)}")
        result = portfolio_summary(store.unit_of_work(), as_of)
        assessment = run_assessment(console, store.unit_of_work(), as_of)
    finally:
        store.dispose()
    _print_summary(console, result)
    print_assessment(console, assessment)


@cli.group()
def db() -> None:
    """Manage the database schema."""


@db.command("upgrade")
@_db_option(required=True)
def db_upgrade(url: str) -> None:
    """Create the insurcrm tables, or upgrade them to this version's schema."""
    revision = upgrade(url)
    state = "(up to date)" if revision == head_revision() else ""
    Console(highlight=False).print(
        f"Schema of {describe_url(url)} is at revision {revision} {state}".rstrip()
    )


def _print_stats(console: Console, stats: SampleStats, seconds: float) -> None:
    if stats.already_present:
        console.print(
            f"[yellow]The sample is already in this database (customer {stats.first_id} "
            "exists); nothing was added.[/yellow]"
        )
        return
    if stats.resumed:
        console.print(
            f"Resumed an interrupted run: {stats.resumed:,} customers were already stored "
            "and were kept."
        )
    console.print(
        f"Added {stats.customers:,} customers, {stats.households:,} households and "
        f"{stats.policies:,} policies (seed {stats.seed}, as of {stats.as_of}) "
        f"in {seconds:.1f} s; with them {stats.interactions:,} contacts, "
        f"{stats.complaints:,} complaints, {stats.responses:,} survey responses and "
        f"{stats.churns:,} churn records."
    )


def _print_summary(console: Console, summary: PortfolioSummary) -> None:
    overview = Table(title=f"Portfolio as of {summary.as_of} (业务概览)", show_header=False)
    overview.add_column("figure")
    overview.add_column("value", justify="right")
    overview.add_row("Customers (客户)", f"{summary.customers:,}")
    overview.add_row("  of which erased (已删除个人信息)", f"{summary.erased_customers:,}")
    overview.add_row("Policies stored (保单)", f"{summary.policies:,}")
    overview.add_row("Policies in force (有效保单)", f"{summary.policies_in_force:,}")
    overview.add_row(
        "Annual premium in force (有效年保费)",
        f"{summary.currency} {summary.premium_in_force.amount:,.2f}",
    )
    console.print(overview)

    total = summary.premium_in_force.amount
    lines = Table(title="Policies in force by product line (险种)")
    lines.add_column("险种")
    lines.add_column("Product line")
    lines.add_column("Policies", justify="right")
    lines.add_column(f"Annual premium ({summary.currency})", justify="right")
    lines.add_column("Share", justify="right")
    for figures in summary.in_force_by_line:
        lines.add_row(
            figures.line.label_zh,
            figures.line.name,
            f"{figures.policies:,}",
            f"{figures.annual_premium.amount:,.2f}",
            share(figures.annual_premium.amount, total),
        )
    lines.add_section()
    lines.add_row(
        "合计", "Total", f"{summary.policies_in_force:,}", f"{total:,.2f}", share(total, total)
    )
    console.print(lines)


_ladder_option = click.option(
    "--ladder",
    "ladder_file",
    type=click.Path(dir_okay=False),
    default=None,
    help="The company's tier ladder (TOML or JSON); default: the ladder insurcrm ships.",
)


def _ladder(path: str | None) -> TierLadder:
    return DEFAULT_LADDER if path is None else load_ladder(path)


@cli.command()
@_db_option(required=True)
@_as_of_option
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["table", *FORMATS]),
    default="table",
    show_default=True,
    help="table: print the totals; csv or json (JSON lines): also write one row per customer.",
)
@click.option(
    "--out",
    type=click.Path(dir_okay=False, writable=True, path_type=Path),
    default=None,
    help="Where the rows go for csv or json (default: standard output, totals on stderr).",
)
@_ladder_option
def assess(url: str, as_of: dt.date, fmt: str, out: Path | None, ladder_file: str | None) -> None:
    """Assess every customer as of a date (§10.1): loyalty level and type, credit grade,
    RFM type and segment, value quadrant, retention class, qualifying tier and the change
    due; with totals per class, region and agent, the Pareto share and the churn rate.

    Aggregation runs in the database; the rows stream out, so memory stays bounded.
    The schema must be up to date (run: insurcrm db upgrade).
    """
    if out is not None and fmt == "table":
        raise click.UsageError("--out needs --format csv or --format json")
    if out is not None and not (out.parent if str(out.parent) else Path()).is_dir():
        raise click.BadParameter(
            f"no directory {str(out.parent)!r} to write into", param_hint="--out"
        )
    to_stdout = fmt != "table" and out is None
    console = Console(highlight=False, stderr=to_stdout)
    ladder = _ladder(ladder_file)
    store = SqlStore.open(url)
    try:
        console.print(f"Database: {describe_url(url)}")
        started = time.perf_counter()
        assessment = run_assessment(
            console, store.unit_of_work(), as_of, fmt=fmt, out=out, ladder=ladder
        )
    finally:
        store.dispose()
    print_assessment(console, assessment)
    where = f" to {escape(str(out))}" if out is not None else ""
    written = f"; rows written as {fmt}{where}" if fmt != "table" else ""
    console.print(f"Assessed in {time.perf_counter() - started:.1f} s{written}.")


@cli.group()
def churn() -> None:
    """Churn (客户流失): the churn records of the book."""


@churn.command("detect")
@_db_option(required=True)
@_as_of_option
def churn_detect(url: str, as_of: dt.date) -> None:
    """Record every churn due as of a date and close the records of customers won back.

    A customer whose last policy of ours in force has ended, and who has no open churn
    record, gets one (dated the day it ended); an open record of a customer with a policy
    in force again is closed. Run it after an import, or every night: running it again for
    the same date changes nothing.
    """
    console = Console(highlight=False)
    scan = _on_book(
        console,
        url,
        "Reading the policies",
        lambda uow, progress: detect_churn(uow, as_of, progress=progress),
    )
    console.print(
        f"As of {as_of.isoformat()}: churns recorded {len(scan.churned):,}, "
        f"customers won back {len(scan.won_back):,}."
    )


@cli.group()
def tiers() -> None:
    """Service-upgrade tiers (客户服务升级规划)."""


@tiers.command("review")
@_db_option(required=True)
@_as_of_option
@_ladder_option
def tiers_review(url: str, as_of: dt.date, ladder_file: str | None) -> None:
    """Review every customer's tier as of a date and store the changes.

    Upgrades happen at once; downgrades only as the ladder's downgrade rules
    say. Running it again for the same date changes nothing.
    """
    console = Console(highlight=False)
    ladder = _ladder(ladder_file)
    review = _on_book(
        console,
        url,
        "Reviewing service tiers",
        lambda uow, progress: review_tiers(uow, as_of, ladder, progress=progress),
    )
    _print_review(console, review, ladder)


@tiers.command("show")
@_db_option(required=True)
@click.option("--customer", "customer_id", required=True, help="The customer id.")
@_as_of_option
@_ladder_option
def tiers_show(url: str, customer_id: str, as_of: dt.date, ladder_file: str | None) -> None:
    """Show one customer's tier evaluation with its reasons (stores nothing)."""
    console = Console(highlight=False)
    ladder = _ladder(ladder_file)
    store = SqlStore.open(url)
    try:
        result = evaluate_customer_tier(store.unit_of_work(), customer_id, as_of, ladder)
        with store.unit_of_work() as uow:
            erased = uow.customers.get(customer_id).is_erased
    finally:
        store.dispose()
    _print_evaluation(console, customer_id, result, erased=erased)


def _tier_table(title: str, per_tier: dict[str, int], ladder: TierLadder) -> Table:
    total = sum(per_tier.values())
    table = Table(title=title)
    table.add_column("Tier")
    table.add_column("中文")
    table.add_column("Customers", justify="right")
    table.add_column("Share", justify="right")
    table.add_column("Discount", justify="right")
    table.add_column("Entry criteria")
    for tier in ladder.tiers:
        n = per_tier.get(tier.code, 0)
        table.add_row(
            tier.code,
            tier.name_zh,
            f"{n:,}",
            share(n, total),
            f"{tier.benefits.premium_discount} %",
            tier.describe(),
        )
    return table


def _print_at_risk(console: Console, review: TierReview) -> None:
    due = review.downgrades_due(90)
    console.print(
        f"At risk (持有级别但已不达标): {len(review.at_risk):,} customers; "
        f"downgrades due within 90 days: {len(due):,}."
    )
    if not due:
        return
    table = Table(title="Downgrades due soonest (first 10)")
    table.add_column("Customer")
    table.add_column("Tier")
    table.add_column("Qualifies for")
    table.add_column("Falls on")
    table.add_column("To keep the tier")
    for item in due[:10]:
        table.add_row(
            item.customer_id,
            item.tier,
            item.qualifying,
            str(item.keep_by),
            "; ".join(item.to_keep),
        )
    console.print(table)


def _print_tiers(
    console: Console,
    review: TierReview,
    ladder: TierLadder,
    changes: Counter[TierChangeKind],
    since: dt.date,
) -> None:
    console.print(
        _tier_table(f"Service tiers as of {review.as_of} (服务级别)", review.per_tier, ladder)
    )
    console.print(
        f"Tier changes from {since} to {review.as_of}: "
        f"{changes[TierChangeKind.UPGRADED]:,} upgrades (升级), "
        f"{changes[TierChangeKind.DOWNGRADED]:,} downgrades (降级), "
        f"{changes[TierChangeKind.ENROLLED]:,} enrolments (入会)."
    )
    _print_at_risk(console, review)


def _print_review(console: Console, review: TierReview, ladder: TierLadder) -> None:
    console.print(
        _tier_table(f"Service tiers as of {review.as_of} (服务级别)", review.per_tier, ladder)
    )
    console.print(
        f"This review: {review.enrolled:,} enrolled, {review.upgraded:,} upgraded, "
        f"{review.downgraded:,} downgraded, {review.grants_ended:,} grants ended, "
        f"{review.unchanged:,} unchanged, {review.skipped:,} skipped."
    )
    _print_at_risk(console, review)


def _print_evaluation(
    console: Console, customer_id: str, result: TierEvaluation, *, erased: bool = False
) -> None:
    change = result.change  # what a review on that date would record: `show` stores nothing
    if erased:
        held = "personal data erased: no tier change is due (the review skips them)"
        if change is not None and change.from_tier is not None:
            held = f"holds {change.from_tier}; " + held
        elif change is None:
            held = f"holds {result.tier}; " + held
    elif change is not None and change.kind is TierChangeKind.ENROLLED:
        held = f"not on the ladder yet (a review would enrol them at {result.tier})"
    elif change is not None and change.kind in TIER_MOVES:
        held = f"holds {change.from_tier} (a review would move them to {result.tier})"
    else:
        held = f"holds {result.tier}"
    console.print(
        f"Customer {customer_id} as of {result.as_of}: {held}, qualifies for {result.qualifying}."
    )
    for line in result.reasons:
        console.print(f"  • {line}")
    if erased:
        return  # nothing to reach or to keep: no change is due
    for item in result.to_next:
        console.print(f"  Next: {item}")
    if result.at_risk:
        when = f"by {result.keep_by}" if result.keep_by else "(no downgrade date under these rules)"
        for item in result.to_keep:
            console.print(f"  [yellow]At risk: needs {item} {when}[/yellow]")


def main() -> None:
    """Run the command line (the ``insurcrm`` console script)."""
    cli(prog_name="insurcrm")
