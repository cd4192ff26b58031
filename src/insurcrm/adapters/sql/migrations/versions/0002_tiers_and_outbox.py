"""Tier memberships with their history, and the transactional outbox of domain events.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-23
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

ID = sa.String(64)
CODE = sa.String(32)
TIER = sa.String(32)


def upgrade() -> None:
    op.create_table(
        "tier_memberships",
        sa.Column("customer_id", ID, sa.ForeignKey("customers.id"), primary_key=True),
        sa.Column("tier", TIER, nullable=False),
        sa.Column("since", sa.Date, nullable=False),
        sa.Column("failing_since", sa.Date, nullable=True),
        sa.Column("last_review", sa.Date, nullable=True),
        sa.Column("grant_tier", TIER, nullable=True),
        sa.Column("grant_kind", CODE, nullable=True),
        sa.Column("grant_reason", sa.Text, nullable=True),
        sa.Column("granted_on", sa.Date, nullable=True),
        sa.Column("grant_expires_on", sa.Date, nullable=True),
        sa.Column("version", sa.Integer, nullable=False),
    )
    op.create_index("ix_tier_memberships_tier", "tier_memberships", ["tier"])
    op.create_table(
        "tier_changes",
        sa.Column(
            "customer_id",
            ID,
            sa.ForeignKey("tier_memberships.customer_id", ondelete="CASCADE"),
            primary_key=True,
        ),
        sa.Column("position", sa.Integer, primary_key=True),
        sa.Column("on", sa.Date, nullable=False),
        sa.Column("kind", CODE, nullable=False),
        sa.Column("from_tier", TIER, nullable=True),
        sa.Column("to_tier", TIER, nullable=False),
        sa.Column("reasons", sa.Text, nullable=False),
    )
    op.create_table(
        "outbox",
        sa.Column("position", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("id", sa.String(36), nullable=False, unique=True),
        sa.Column("kind", sa.String(64), nullable=False),
        sa.Column("customer_id", ID, nullable=False),
        sa.Column("occurred_on", sa.Date, nullable=False),
        sa.Column("payload", sa.Text, nullable=False),
        sa.Column("delivered_at", sa.DateTime(timezone=True), nullable=True),
        sqlite_autoincrement=True,
    )
    op.create_index("ix_outbox_delivered_at", "outbox", ["delivered_at"])


def downgrade() -> None:
    op.drop_index("ix_outbox_delivered_at", table_name="outbox")
    op.drop_table("outbox")
    op.drop_table("tier_changes")
    op.drop_index("ix_tier_memberships_tier", table_name="tier_memberships")
    op.drop_table("tier_memberships")
