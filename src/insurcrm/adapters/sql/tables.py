"""The SQL schema (SQLAlchemy Core). Alembic migrations create it; this mirrors the head.

A test compares this metadata with the database the migrations build, so the
two cannot drift.
"""

from __future__ import annotations

from sqlalchemy import (
    Boolean,
    Column,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    false,
)

from insurcrm.adapters.sql.types import Amount

__all__ = [
    "PROFILE_COLUMNS",
    "beneficiaries",
    "churn_records",
    "complaints",
    "customers",
    "households",
    "interactions",
    "metadata",
    "missed_premiums",
    "outbox",
    "policies",
    "purchases",
    "status_changes",
    "survey_responses",
    "tier_changes",
    "tier_memberships",
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
    Column("cooperation_partner", Boolean, nullable=False, server_default=false()),
    Column("csr_id", ID, nullable=True),
    Column("agent_id", ID, nullable=True),
    Column("household_id", ID, ForeignKey("households.id"), nullable=True),
    Column("pdp", CODE, nullable=True),
    Column("risk_preference", CODE, nullable=True),
    Column("version", Integer, nullable=False),
    Index("ix_customers_name", "name"),
    Index("ix_customers_id_number", "id_number", unique=True),  # one customer a person
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

TIER = String(32)

tier_memberships = Table(
    "tier_memberships",
    metadata,
    Column("customer_id", ID, ForeignKey("customers.id"), primary_key=True),
    Column("tier", TIER, nullable=False),
    Column("since", Date, nullable=False),
    Column("failing_since", Date, nullable=True),
    Column("last_review", Date, nullable=True),
    Column("grant_tier", TIER, nullable=True),
    Column("grant_kind", CODE, nullable=True),
    Column("grant_reason", Text, nullable=True),
    Column("granted_on", Date, nullable=True),
    Column("grant_expires_on", Date, nullable=True),
    Column("version", Integer, nullable=False),
    Index("ix_tier_memberships_tier", "tier"),
)

tier_changes = Table(
    "tier_changes",
    metadata,
    Column(
        "customer_id",
        ID,
        ForeignKey("tier_memberships.customer_id", ondelete="CASCADE"),
        primary_key=True,
    ),
    Column("position", Integer, primary_key=True),
    Column("on", Date, nullable=False),
    Column("kind", CODE, nullable=False),
    Column("from_tier", TIER, nullable=True),
    Column("to_tier", TIER, nullable=False),
    Column("reasons", Text, nullable=False),
)

#: Domain events stored with the commit that raised them (the transactional outbox).
#: ``position`` only grows (AUTOINCREMENT on SQLite), so readers can page by it.
outbox = Table(
    "outbox",
    metadata,
    Column("position", Integer, primary_key=True, autoincrement=True),
    Column("id", String(36), nullable=False, unique=True),
    Column("kind", String(64), nullable=False),
    Column("customer_id", ID, nullable=False),
    Column("occurred_on", Date, nullable=False),
    Column("payload", Text, nullable=False),
    Column("delivered_at", DateTime(timezone=True), nullable=True),
    Index("ix_outbox_delivered_at", "delivered_at"),
    sqlite_autoincrement=True,
)


def _records(name: str, *columns: Column[object]) -> Table:
    """A table of one kind of customer-service record: its id, customer and day as columns
    (for lookups and order), the whole record as a JSON document in ``data``."""
    return Table(
        name,
        metadata,
        Column("id", ID, primary_key=True),
        Column("customer_id", ID, ForeignKey("customers.id"), nullable=False),
        *columns,
        Column("day", Date, nullable=False),
        Column("version", Integer, nullable=False),
        Column("data", Text, nullable=False),
        Index(f"ix_{name}_customer_id_day", "customer_id", "day"),
        Index(f"ix_{name}_day_id", "day", "id"),
    )


#: Churn records (§7.1); ``day`` is the day of the churn.
churn_records = _records("churn_records")
#: Complaints (§8); ``day`` is the day received.
complaints = _records("complaints")
#: The interaction log (§9); ``day`` is the day of the contact.
interactions = _records("interactions")
#: Survey responses (§3); ``day`` is the day answered.
survey_responses = _records("survey_responses", Column("survey_id", ID, nullable=False, index=True))
