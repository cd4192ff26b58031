"""insurcrm: insurance customer relationship management (保险客户关系管理) as a domain model.

The names here are the domain (pure, no database) and the errors. Storage lives in
:mod:`insurcrm.adapters.memory` and :mod:`insurcrm.adapters.sql`; importing ``insurcrm``
does not import SQLAlchemy.
"""

from insurcrm.domain.card import (
    BasicProfile,
    Education,
    FamilyMember,
    Holding,
    LifeSituation,
    MaritalStatus,
)
from insurcrm.domain.credit import CreditAssessment, CreditConfig, CreditGrade, grade_credit
from insurcrm.domain.customers import (
    Customer,
    Household,
    LeadSource,
    PdpPersonality,
    RiskPreference,
)
from insurcrm.domain.events import (
    CustomerErased,
    CustomerRegistered,
    DomainEvent,
    PolicyStatusChanged,
    TierDowngraded,
    TierEnrolled,
    TierGranted,
    TierUpgraded,
)
from insurcrm.domain.policies import (
    Beneficiary,
    EndReason,
    MissedPremium,
    Policy,
    PolicyStatus,
    ProductLine,
    Purchase,
    PurchaseKind,
    StatusChange,
)
from insurcrm.domain.tier_membership import (
    GrantKind,
    TierEvaluation,
    TierGrant,
    TierMembership,
    evaluate_tier,
    grant_tier,
)
from insurcrm.domain.tiers import (
    DEFAULT_LADDER,
    Benefits,
    Criterion,
    DowngradeRules,
    Indicator,
    Tier,
    TierFigures,
    TierLadder,
)
from insurcrm.domain.unit_of_work import UnitOfWork, UnitOfWorkFactory
from insurcrm.domain.values import Email, Gender, Money, PersonName, Phone, ResidentId
from insurcrm.errors import (
    ConcurrencyError,
    Duplicate,
    InsurCRMError,
    NotFound,
    RuleViolation,
    SchemaError,
    StorageError,
    ValidationError,
)

__all__ = [
    "DEFAULT_LADDER",
    "BasicProfile",
    "Beneficiary",
    "Benefits",
    "ConcurrencyError",
    "CreditAssessment",
    "CreditConfig",
    "CreditGrade",
    "Criterion",
    "Customer",
    "CustomerErased",
    "CustomerRegistered",
    "DomainEvent",
    "DowngradeRules",
    "Duplicate",
    "Education",
    "Email",
    "EndReason",
    "FamilyMember",
    "Gender",
    "GrantKind",
    "Holding",
    "Household",
    "Indicator",
    "InsurCRMError",
    "LeadSource",
    "LifeSituation",
    "MaritalStatus",
    "MissedPremium",
    "Money",
    "NotFound",
    "PdpPersonality",
    "PersonName",
    "Phone",
    "Policy",
    "PolicyStatus",
    "PolicyStatusChanged",
    "ProductLine",
    "Purchase",
    "PurchaseKind",
    "ResidentId",
    "RiskPreference",
    "RuleViolation",
    "SchemaError",
    "StatusChange",
    "StorageError",
    "Tier",
    "TierDowngraded",
    "TierEnrolled",
    "TierEvaluation",
    "TierFigures",
    "TierGrant",
    "TierGranted",
    "TierLadder",
    "TierMembership",
    "TierUpgraded",
    "UnitOfWork",
    "UnitOfWorkFactory",
    "ValidationError",
    "__version__",
    "evaluate_tier",
    "grade_credit",
    "grant_tier",
]

__version__ = "0.1.0"
