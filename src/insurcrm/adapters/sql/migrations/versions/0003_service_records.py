"""Customer-service records: churn records, complaints, interactions and survey responses.

Each table keeps the record's id, customer and day as columns (for lookups and order)
and the whole record as a JSON document in ``data``.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-30
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

ID = sa.String(64)

TABLES = ("churn_records", "complaints", "interactions", "survey_responses")


def upgrade() -> None:
    for name in TABLES:
        extra = [sa.Column("survey_id", ID, nullable=False)] if name == "survey_responses" else []
        op.create_table(
            name,
            sa.Column("id", ID, primary_key=True),
            sa.Column("customer_id", ID, sa.ForeignKey("customers.id"), nullable=False),
            *extra,
            sa.Column("day", sa.Date, nullable=False),
            sa.Column("version", sa.Integer, nullable=False),
            sa.Column("data", sa.Text, nullable=False),
        )
        op.create_index(f"ix_{name}_customer_id_day", name, ["customer_id", "day"])
        op.create_index(f"ix_{name}_day_id", name, ["day", "id"])
    op.create_index("ix_survey_responses_survey_id", "survey_responses", ["survey_id"])


def downgrade() -> None:
    op.drop_index("ix_survey_responses_survey_id", table_name="survey_responses")
    for name in reversed(TABLES):
        op.drop_index(f"ix_{name}_day_id", table_name=name)
        op.drop_index(f"ix_{name}_customer_id_day", table_name=name)
        op.drop_table(name)
