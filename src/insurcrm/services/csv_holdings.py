"""Import the insurance holdings of stored customers' cards from CSV (投保情况, DOMAIN.md
§1.1): the policies a customer holds, with us or another insurer, as the card records them.
The share of wallet reads the holdings with other insurers (their annual premiums), and with
it the value quadrant and the retention class (§5).

Column layout (as in :mod:`~insurcrm.services.csv_import`): ``customer_id``, ``insurer``,
``product_line`` (required); ``start_date``, ``term_years``, ``sum_assured``,
``annual_premium``, ``currency`` (CNY). One row a holding; a customer's rows are added to
their card in the order of the file.

A holding already on the card (every field the same) is already present, so a file can be
imported again. An erased customer's card is not filled again (§10.4): their rows are
refused (``erased``). A batch's customers are read at once (``customers.get_many``) and
each saved once, in one transaction; a batch another writer got in the way of is tried
again.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import attrs

from insurcrm.domain.card import Holding
from insurcrm.domain.policies import ProductLine
from insurcrm.domain.unit_of_work import UnitOfWork
from insurcrm.domain.values import DEFAULT_CURRENCY
from insurcrm.errors import ConcurrencyError, ValidationError
from insurcrm.services.csv_cells import (
    Reject,
    grouped,
    not_after,
    read_code,
    read_date,
    read_money,
    read_text,
    required,
    retried,
)

__all__ = ["HOLDING_COLUMNS", "HOLDING_REQUIRED", "read_holding", "store_holdings"]

#: The columns a holdings file must have.
HOLDING_REQUIRED = ("customer_id", "insurer", "product_line")
#: Every column of a holdings file.
HOLDING_COLUMNS = (
    *HOLDING_REQUIRED,
    "start_date",
    "term_years",
    "sum_assured",
    "annual_premium",
    "currency",
)


@attrs.frozen
class _HoldingRow:
    """One row of a holdings file: a holding on a stored customer's card."""

    customer_id: str
    holding: Holding

    @property
    def id(self) -> str:
        """The row's key within its file: the same holding of the same customer."""
        h = self.holding
        return " ".join(map(str, (self.customer_id, *attrs.astuple(h, recurse=False))))


def read_holding(row: dict[str, str], today: dt.date | None = None) -> _HoldingRow:
    """A row of a holdings file; a start after ``today`` is refused (``date.future``)."""
    currency = read_text(row, "currency") or DEFAULT_CURRENCY
    start = read_date(row, "start_date")
    term = read_text(row, "term_years")
    if term is not None and not (term.isascii() and term.isdigit()):
        raise ValidationError("term_years", "term.format", "must be a whole number of years")
    amounts = {
        name: read_money(row, name, currency) if read_text(row, name) is not None else None
        for name in ("sum_assured", "annual_premium")
    }
    holding = Holding(
        insurer=required(read_text(row, "insurer"), "insurer"),
        line=required(read_code(row, "product_line", ProductLine), "product_line"),
        start_date=None if start is None else not_after(start, "start_date", today),
        term_years=None if term is None else int(term),
        **amounts,
    )
    return _HoldingRow(required(read_text(row, "customer_id"), "customer_id"), holding)


def _added(uow: UnitOfWork, items: list[tuple[int, Any]]) -> tuple[int, int, list[Reject]]:
    """One batch added to its customers' cards in one transaction (see
    :func:`store_holdings`)."""
    stored = present = 0
    rejects: list[Reject] = []
    by_customer = grouped(items, lambda entry: entry.customer_id)
    with uow:
        found = {c.id: c for c in uow.customers.get_many(by_customer)}
        for customer_id, entries in by_customer.items():
            customer = found.get(customer_id)
            if customer is None:
                reason = "no such customer stored"
                rejects += [
                    Reject(n, "customer_id", "reference.missing", reason) for n, _ in entries
                ]
                continue
            if customer.is_erased:
                reason = "the customer was erased: their card takes no holdings"
                rejects += [Reject(n, "customer_id", "erased", reason) for n, _ in entries]
                continue
            held = list(customer.holdings)
            for _, entry in entries:
                if entry.holding in held:
                    present += 1
                else:
                    held.append(entry.holding)
                    stored += 1
            if len(held) > len(customer.holdings):
                days = [h.start_date for h in held if h.start_date is not None]
                on = max([customer.created_on, *days])  # the card's dates were checked as read
                uow.customers.save(customer.updated(on, holdings=held))
        uow.commit()
    return stored, present, rejects


def store_holdings(uow: UnitOfWork, items: list[tuple[int, Any]]) -> tuple[int, int, list[Reject]]:
    """Add one batch of holdings to their customers' cards in one transaction; returns
    (stored, already present, rejects). A batch another writer got in the way of (it saved
    one of the customers) is tried again (:func:`~insurcrm.services.csv_cells.retried`)."""
    return retried(lambda: _added(uow, items), ConcurrencyError)
