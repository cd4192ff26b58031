"""A generated book written out in the import layouts and imported again with the command
line assesses as the book itself: the layouts carry all the assessment (§10.1) reads."""

from __future__ import annotations

import csv
import datetime as dt
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

from click.testing import CliRunner

from insurcrm.adapters.memory import MemoryStore
from insurcrm.adapters.sql import SqlStore
from insurcrm.cli import cli
from insurcrm.domain.assessment import AssessmentRow
from insurcrm.domain.complaints import Complaint
from insurcrm.domain.customers import Customer
from insurcrm.domain.policies import Policy, PurchaseKind
from insurcrm.domain.satisfaction import Dimension
from insurcrm.domain.unit_of_work import UnitOfWorkFactory
from insurcrm.services.assessment import assess_portfolio
from insurcrm.services.csv_holdings import HOLDING_COLUMNS
from insurcrm.services.csv_import import CUSTOMER_COLUMNS, POLICY_COLUMNS
from insurcrm.services.csv_policy_history import CHANGE_COLUMNS
from insurcrm.services.csv_records import (
    CHURN_COLUMNS,
    COMPLAINT_COLUMNS,
    CONTACT_COLUMNS,
    SURVEY_COLUMNS,
)
from insurcrm.services.sample_portfolio import DEFAULT_AS_OF, generate_sample
from tests.integration.test_csv_churns import churn_row
from tests.integration.test_csv_holdings import holding_cells
from tests.integration.test_csv_import import cell


def _write(path: Path, header: Sequence[str], rows: Iterable[Sequence[Any]]) -> Path:
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(header)
        writer.writerows([cell(v) for v in row] for row in rows)
    return path


def _customer(c: Customer) -> list[Any]:
    profile = c.profile
    assert profile is not None
    cells = {
        "id": c.id,
        "name": profile.name.value,
        "created_on": c.created_on,
        "gender": profile.gender,
        "birth_date": profile.birth_date,
        "id_number": profile.id_number.value if profile.id_number else None,
        "mobile": profile.mobile.e164 if profile.mobile else None,
        "email": profile.email.value if profile.email else None,
        "lead_source": c.lead_source,
        "referred_by": c.referred_by,
        "household_id": c.household_id,
        "is_internal": c.is_internal,
        "csr_id": c.csr_id,
        "agent_id": c.agent_id,
        "cooperation_partner": c.cooperation_partner,
    }
    return [cells[k] for k in CUSTOMER_COLUMNS]


def _policy(p: Policy) -> list[Any]:
    """A policy's row, PENDING: its every status change goes in the status changes file
    (its first day in force need not be its start)."""
    cells = {
        "id": p.id,
        "number": p.number,
        "policyholder_id": p.policyholder_id,
        "insured_id": p.insured_id,
        "product_line": p.product_line,
        "start_date": p.start_date,
        "term_years": p.term_years,
        "sum_assured": p.sum_assured.amount,
        "annual_premium": p.annual_premium.amount,
        "currency": p.currency,
        "insurer": p.insurer,
        "status": "PENDING",
        "campaign": p.campaign,
    }
    return [cells.get(k) for k in POLICY_COLUMNS]


def _complaint(c: Complaint) -> list[Any]:
    skip = next((s for s in c.steps if s.skipped), None)
    cells: dict[str, Any] = {k: getattr(c, k, None) for k in COMPLAINT_COLUMNS}
    cells.update({f"{s.step.name.lower()}_on": s.on for s in c.steps})
    cells.update(
        compensation_skipped=skip is not None,
        skip_reason=skip.skip_reason if skip is not None else None,
        closed_on=c.closed_on,
    )
    return [cells[k] for k in COMPLAINT_COLUMNS]


def _files(store: UnitOfWorkFactory, folder: Path) -> tuple[list[Path], set[str]]:
    """The book of ``store`` as import files, in reverse order of import (the command line
    sorts them), and the erased customers (a card without a name cannot be imported)."""
    with store.unit_of_work() as uow:
        customers = list(uow.customers.iterate())
        erased = {c.id for c in customers if c.is_erased}
        policies = [
            p for p in uow.policies.iterate() if not {p.policyholder_id, p.insured_id} & erased
        ]
        contacts = [i for i in uow.interactions.iterate() if i.customer_id not in erased]
        complaints = [c for c in uow.complaints.iterate() if c.customer_id not in erased]
        responses = [r for r in uow.surveys.iterate() if r.customer_id not in erased]
        churns = [r for r in uow.churns.iterate() if r.customer_id not in erased]
    renewed = [
        (p.id, x.on, x.amount.amount)
        for p in policies
        for x in p.purchases
        if x.kind is PurchaseKind.RENEWAL
    ]
    missed = [(p.id, m.due_date, m.amount.amount) for p in policies for m in p.missed_premiums]
    changes = [(p.id, c.to_status, c.on, c.reason) for p in policies for c in p.history]
    surveys = [
        [r.id, r.survey_id, r.customer_id, r.role, r.channel, r.on]
        + [r.answers.get(d) for d in Dimension]
        + [r.expectation, r.praises_us, r.named_us, r.comment]
        for r in responses
    ]
    files = [
        _write(folder / "churns.csv", CHURN_COLUMNS, map(churn_row, churns)),
        _write(folder / "surveys.csv", SURVEY_COLUMNS, surveys),
        _write(folder / "complaints.csv", COMPLAINT_COLUMNS, map(_complaint, complaints)),
        _write(
            folder / "contacts.csv",
            CONTACT_COLUMNS,
            ([getattr(i, k) for k in CONTACT_COLUMNS] for i in contacts),
        ),
        _write(folder / "missed.csv", ("policy_id", "due_date", "premium"), missed),
        _write(folder / "renewals.csv", ("policy_id", "renewed_on", "premium"), renewed),
        _write(folder / "changes.csv", CHANGE_COLUMNS, changes),
        _write(folder / "policies.csv", POLICY_COLUMNS, map(_policy, policies)),
        _write(
            folder / "holdings.csv",
            HOLDING_COLUMNS,
            (holding_cells(c.id, h) for c in customers if c.id not in erased for h in c.holdings),
        ),
        _write(
            folder / "customers.csv",
            CUSTOMER_COLUMNS,
            (_customer(c) for c in customers if c.id not in erased),
        ),
    ]
    return files, erased


def _rows(store: UnitOfWorkFactory, as_of: dt.date) -> dict[str, AssessmentRow]:
    return {r.customer_id: r for r in assess_portfolio(store.unit_of_work(), as_of)}


def test_an_exported_book_imported_again_assesses_the_same(tmp_path: Path) -> None:
    book = MemoryStore()
    generate_sample(book.unit_of_work(), customers=150, seed=7)
    files, erased = _files(book, tmp_path)
    url = f"sqlite:///{tmp_path / 'imported.db'}"
    result = CliRunner().invoke(cli, ["import", "--db", url, *map(str, files)])
    assert result.exit_code == 0, result.output  # every row stored, none refused
    imported = SqlStore.open(url)
    try:
        before, after = _rows(book, DEFAULT_AS_OF), _rows(imported, DEFAULT_AS_OF)
    finally:
        imported.dispose()
    assert set(after) == set(before) - erased
    differing = {
        (cid, field)
        for cid, row in after.items()
        for field in AssessmentRow._fields
        if getattr(row, field) != getattr(before[cid], field)
    }
    assert differing == set()
    # the comparison is not empty: the book has what each file carries
    assert sum(r.rfm_type is not None for r in after.values()) > 50
    assert any(r.loyalty_type.name == "INCENTIVE" for r in after.values())  # campaigns
    assert any(r.warning_score > 0 for r in after.values())
    assert len({r.quadrant for r in after.values()}) > 2  # the share of wallet: holdings
    assert sum(r.win_back is not None for r in after.values()) > 20  # churn records
