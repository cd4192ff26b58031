"""The bulk path's rows are the rows a one-by-one ``add`` writes."""

from __future__ import annotations

import attrs
from hypothesis import given

from insurcrm.adapters.sql.bulk import CUSTOMER_COLUMNS, customer_rows
from insurcrm.adapters.sql.repositories import customer_values
from insurcrm.domain.customers import Customer
from insurcrm.testing import strategies as gen


@given(gen.customers())
def test_a_bulk_customer_row_holds_what_add_writes(customer: Customer) -> None:
    (row,) = customer_rows([customer], "postgresql")  # values as the driver takes them
    assert dict(zip(CUSTOMER_COLUMNS, row, strict=True)) == customer_values(
        attrs.evolve(customer, version=1)
    )
