"""Cooperation partners: a customer can be flagged as one (合作伙伴, DOMAIN.md §4.2).

With tenure, the flag makes an ADVOCATE a PARTNER on the loyalty ladder without three
referred buyers. Every customer stored before is not flagged. Downgrading drops the flag
(on SQLite, 3.35 or later).

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-04
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column(
        "customers",
        sa.Column("cooperation_partner", sa.Boolean, nullable=False, server_default=sa.false()),
    )


def downgrade() -> None:
    # SQLite drops a column from 3.35 on (2021); a copy of the table instead would have to
    # drop the table the other tables' foreign keys point to.
    op.drop_column("customers", "cooperation_partner")
