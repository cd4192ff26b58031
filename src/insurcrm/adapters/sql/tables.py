"""The SQL schema (SQLAlchemy Core). Alembic migrations create it; this mirrors the head.

A test compares this metadata with the database the migrations build, so the
two cannot drift.
"""

from __future__ import annotations

from sqlalchemy import (
    Boolean,
    Column,
    Date,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
)

from insurcrm.adapters.sql.types import Amount

__all__ = [
    "PROFILE_COLUMNS",
    "beneficiaries",
    "customers",
    "households",
    "metadata",
    "missed_premiums",
    "policies",
    "purchases",
    "status_changes",
]

metadata = MetaData()

ID = String(64)
CODE = String(32)

households = Table(
    "households",
    metadata,
    Column("id", ID, primary_key=True),
    Column("label", Text, nullable=True),
    Column("version", Integer, nullable=False),
)

#: Columns holding the basic profile, one per field of ``BasicProfile``.
PROFILE_COLUMNS = (
    "name",
    "gender",
    "birth_date",
    "native_place",
    "marital_status",
    "education",
    "id_number",
    "mobile",
    "employer",
    "department",
    "employer_address",
    "position",
    "work_phone",
    "occupation_type",
    "email",
    "work_fax",
    "home_phone",
    "home_address",
)

customers = Table(
    "customers",
    metadata,
    Column("id", ID, primary_key=True),
    Column("created_on", Date, nullable=False),
    Column("erased_on", Date, nullable=True),
    Column("name", Text, nullable=True),
    Column("gender", CODE, nullable=True),
    Column("birth_date", Date, nullable=True),
    Column("native_place", Text, nullable=True),
    Column("marital_status", CODE, nullable=True),
    Column("education", CODE, nullable=True),
    Column("id_number", String(18), nullable=True),
    Column("mobile", String(32), nullable=True),
    Column("employer", Text, nullable=True),
    Column("department", Text, nullable=True),
    Column("employer_address", Text, nullable=True),
    Column("position", Text, nullable=True),
    Column("work_phone", String(32), nullable=True),
    Column("occupation_type", Text, nullable=True),
    Column("email", Text, nullable=True),
    Column("work_fax", String(32), nullable=True),
    Column("home_phone", String(32), nullable=True),
    Column("home_address", Text, nullable=True),
    Column("life", Text, nullable=False),
    Column("family", Text, nullable=False),
    Column("holdings", Text, nullable=False),
    Column("lead_source", CODE, nullable=True),
    Column("referred_by", ID, ForeignKey("customers.id"), nullable=True),
    Column("is_internal", Boolean, nullable=False),
    Column("csr_id", ID, nullable=True),
    Column("agent_id", ID, nullable=True),
    Column("household_id", ID, ForeignKey("households.id"), nullable=True),
    Column("pdp", CODE, nullable=True),
    Column("risk_preference", CODE, nullable=True),
    Column("version", Integer, nullable=False),
    Index("ix_customers_name", "name"),
    Index("ix_customers_id_number", "id_number"),
    Index("ix_customers_mobile", "mobile"),
    Index("ix_customers_work_phone", "work_phone"),
    Index("ix_customers_home_phone", "home_phone"),
    Index("ix_customers_work_fax", "work_fax"),
    Index("ix_customers_email", "email"),
    Index("ix_customers_household_id", "household_id"),
    Index("ix_customers_referred_by", "referred_by"),
)

policies = Table(
    "policies",
    metadata,
    Column("id", ID, primary_key=True),
    Column("number", ID, nullable=False, unique=True),
    Column("policyholder_id", ID, ForeignKey("customers.id"), nullable=False),
    Column("insured_id", ID, ForeignKey("customers.id"), nullable=False),
    Column("product_line", CODE, nullable=False),
    Column("start_date", Date, nullable=False),
    Column("term_years", Integer, nullable=False),
    Column("currency", String(3), nullable=False),
    Column("sum_assured", Amount, nullable=False),
    Column("annual_premium", Amount, nullable=False),
    Column("insurer", Text, nullable=True),
    Column("status", CODE, nullable=False),
    Column("campaign", Text, nullable=True),
    Column("version", Integer, nullable=False),
    Index("ix_policies_policyholder_id", "policyholder_id"),
    Index("ix_policies_insured_id", "insured_id"),
)


def _child(name: str, *columns: Column[object]) -> Table:
    """A table of one repeated part of a policy, kept in order by ``position``."""
    return Table(
        name,
        metadata,
        Column("policy_id", ID, ForeignKey("policies.id", ondelete="CASCADE"), primary_key=True),
        Column("position", Integer, primary_key=True),
        *columns,
    )


beneficiaries = _child(
    "policy_beneficiaries",
    Column("share", Amount, nullable=False),
    Column("customer_id", ID, ForeignKey("customers.id"), nullable=True, index=True),
    Column("name", Text, nullable=True),
    Column("relation", Text, nullable=True),
    Column("erased", Boolean, nullable=False),
)

status_changes = _child(
    "policy_status_changes",
    Column("on", Date, nullable=False),
    Column("from_status", CODE, nullable=False),
    Column("to_status", CODE, nullable=False),
    Column("reason", CODE, nullable=True),
)

purchases = _child(
    "policy_purchases",
    Column("on", Date, nullable=False),
    Column("amount", Amount, nullable=False),
    Column("currency", String(3), nullable=False),
    Column("kind", CODE, nullable=False),
)

missed_premiums = _child(
    "policy_missed_premiums",
    Column("due_date", Date, nullable=False),
    Column("amount", Amount, nullable=False),
    Column("currency", String(3), nullable=False),
)
