"""One customer per resident ID number: the ID number's index becomes unique.

A person is one customer: two customers with the same resident ID number split one
person's purchases, loyalty and tier. A database that already holds such pairs is not
changed; the upgrade stops and says how many ID numbers are shared, so that the
customers can be merged first. Erased customers hold no ID number, so they never clash.

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-03
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from insurcrm.errors import SchemaError

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

#: The statement that lists the ID numbers held by more than one customer.
SHARED = (
    "SELECT id_number, COUNT(*) FROM customers WHERE id_number IS NOT NULL "
    "GROUP BY id_number HAVING COUNT(*) > 1"
)


def upgrade() -> None:
    shared = len(op.get_bind().execute(sa.text(SHARED)).all())
    if shared:
        raise SchemaError(
            f"{shared:,} resident ID numbers are each held by more than one customer, and "
            "insurcrm now keeps one customer per ID number: merge those customers (the "
            f"statement `{SHARED}` lists them, and insurcrm has no merge: move their "
            "policies, tiers and records to one of them by hand), then run `insurcrm db "
            "upgrade` again; the database stays at revision 0003"
        )
    op.drop_index("ix_customers_id_number", table_name="customers")
    op.create_index("ix_customers_id_number", "customers", ["id_number"], unique=True)


def downgrade() -> None:
    op.drop_index("ix_customers_id_number", table_name="customers")
    op.create_index("ix_customers_id_number", "customers", ["id_number"])
