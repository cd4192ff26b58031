"""Initial schema: households, customers, policies and their parts.

Revision ID: 0001
Revises:
Create Date: 2026-11-23
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from insurcrm.adapters.sql.types import Amount

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

ID = sa.String(64)
CODE = sa.String(32)


def upgrade() -> None:
    op.create_table(
        "households",
        sa.Column("id", ID, primary_key=True),
        sa.Column("label", sa.Text, nullable=True),
        sa.Column("version", sa.Integer, nullable=False),
    )
    op.create_table(
        "customers",
        sa.Column("id", ID, primary_key=True),
        sa.Column("created_on", sa.Date, nullable=False),
        sa.Column("erased_on", sa.Date, nullable=True),
        sa.Column("name", sa.Text, nullable=True),
        sa.Column("gender", CODE, nullable=True),
        sa.Column("birth_date", sa.Date, nullable=True),
        sa.Column("native_place", sa.Text, nullable=True),
        sa.Column("marital_status", CODE, nullable=True),
        sa.Column("education", CODE, nullable=True),
        sa.Column("id_number", sa.String(18), nullable=True),
        sa.Column("mobile", sa.String(32), nullable=True),
        sa.Column("employer", sa.Text, nullable=True),
        sa.Column("department", sa.Text, nullable=True),
        sa.Column("employer_address", sa.Text, nullable=True),
        sa.Column("position", sa.Text, nullable=True),
        sa.Column("work_phone", sa.String(32), nullable=True),
        sa.Column("occupation_type", sa.Text, nullable=True),
        sa.Column("email", sa.Text, nullable=True),
        sa.Column("work_fax", sa.String(32), nullable=True),
        sa.Column("home_phone", sa.String(32), nullable=True),
        sa.Column("home_address", sa.Text, nullable=True),
        sa.Column("life", sa.Text, nullable=False),
        sa.Column("family", sa.Text, nullable=False),
        sa.Column("holdings", sa.Text, nullable=False),
        sa.Column("lead_source", CODE, nullable=True),
        sa.Column("referred_by", ID, sa.ForeignKey("customers.id"), nullable=True),
        sa.Column("is_internal", sa.Boolean, nullable=False),
        sa.Column("csr_id", ID, nullable=True),
        sa.Column("agent_id", ID, nullable=True),
        sa.Column("household_id", ID, sa.ForeignKey("households.id"), nullable=True),
        sa.Column("pdp", CODE, nullable=True),
        sa.Column("risk_preference", CODE, nullable=True),
        sa.Column("version", sa.Integer, nullable=False),
    )
    for column in (
        "name",
        "id_number",
        "mobile",
        "work_phone",
        "home_phone",
        "work_fax",
        "email",
        "household_id",
        "referred_by",
    ):
        op.create_index(f"ix_customers_{column}", "customers", [column])
    op.create_table(
        "policies",
        sa.Column("id", ID, primary_key=True),
        sa.Column("number", ID, nullable=False, unique=True),
        sa.Column("policyholder_id", ID, sa.ForeignKey("customers.id"), nullable=False),
        sa.Column("insured_id", ID, sa.ForeignKey("customers.id"), nullable=False),
        sa.Column("product_line", CODE, nullable=False),
        sa.Column("start_date", sa.Date, nullable=False),
        sa.Column("term_years", sa.Integer, nullable=False),
        sa.Column("currency", sa.String(3), nullable=False),
        sa.Column("sum_assured", Amount, nullable=False),
        sa.Column("annual_premium", Amount, nullable=False),
        sa.Column("insurer", sa.Text, nullable=True),
        sa.Column("status", CODE, nullable=False),
        sa.Column("campaign", sa.Text, nullable=True),
        sa.Column("version", sa.Integer, nullable=False),
    )
    op.create_index("ix_policies_policyholder_id", "policies", ["policyholder_id"])
    op.create_index("ix_policies_insured_id", "policies", ["insured_id"])

    def child(name: str, *columns: sa.Column[object]) -> None:
        op.create_table(
            name,
            sa.Column(
                "policy_id",
                ID,
                sa.ForeignKey("policies.id", ondelete="CASCADE"),
                primary_key=True,
            ),
            sa.Column("position", sa.Integer, primary_key=True),
            *columns,
        )

    child(
        "policy_beneficiaries",
        sa.Column("share", Amount, nullable=False),
        sa.Column("customer_id", ID, sa.ForeignKey("customers.id"), nullable=True),
        sa.Column("name", sa.Text, nullable=True),
        sa.Column("relation", sa.Text, nullable=True),
        sa.Column("erased", sa.Boolean, nullable=False),
    )
    op.create_index("ix_policy_beneficiaries_customer_id", "policy_beneficiaries", ["customer_id"])
    child(
        "policy_status_changes",
        sa.Column("on", sa.Date, nullable=False),
        sa.Column("from_status", CODE, nullable=False),
        sa.Column("to_status", CODE, nullable=False),
        sa.Column("reason", CODE, nullable=True),
    )
    child(
        "policy_purchases",
        sa.Column("on", sa.Date, nullable=False),
        sa.Column("amount", Amount, nullable=False),
        sa.Column("currency", sa.String(3), nullable=False),
        sa.Column("kind", CODE, nullable=False),
    )
    child(
        "policy_missed_premiums",
        sa.Column("due_date", sa.Date, nullable=False),
        sa.Column("amount", Amount, nullable=False),
        sa.Column("currency", sa.String(3), nullable=False),
    )


def downgrade() -> None:
    for table in (
        "policy_missed_premiums",
        "policy_purchases",
        "policy_status_changes",
        "policy_beneficiaries",
        "policies",
        "customers",
        "households",
    ):
        op.drop_table(table)
