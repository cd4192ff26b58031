"""insurcrm: insurance customer relationship management (保险客户关系管理) as a domain model."""

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
    "ConcurrencyError",
    "Duplicate",
    "InsurCRMError",
    "NotFound",
    "RuleViolation",
    "SchemaError",
    "StorageError",
    "ValidationError",
    "__version__",
]

__version__ = "0.1.0"
