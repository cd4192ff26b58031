"""The one error hierarchy of insurcrm, raised alike by every storage backend.

Every error message names *what* went wrong and *where* (a field path, an
aggregate and its id) but never echoes personal data (DOMAIN.md §10.4): a
rejected phone number is reported as ``profile.mobile: not a valid phone
number``, never with the digits that were typed.
"""

from __future__ import annotations

__all__ = [
    "ConcurrencyError",
    "Duplicate",
    "InsurCRMError",
    "NotFound",
    "RuleViolation",
    "SchemaError",
    "StorageError",
    "ValidationError",
]


class InsurCRMError(Exception):
    """Root of every error insurcrm raises on purpose."""


class ValidationError(InsurCRMError, ValueError):
    """Input that breaks a rule of DOMAIN.md §1.1; nothing was stored.

    Args:
        field: dotted path of the offending field, e.g. ``profile.mobile``
            or ``family[2].relation``.
        rule: short machine-readable name of the rule broken, e.g.
            ``phone.invalid``.
        message: human explanation; never contains the rejected value.
    """

    def __init__(self, field: str, rule: str, message: str) -> None:
        self.field = field
        self.rule = rule
        self.message = message
        super().__init__(f"{field}: {message} [{rule}]")

    def at(self, prefix: str) -> ValidationError:
        """Return the same error with ``prefix`` put before its field path."""
        if not self.field:
            return ValidationError(prefix, self.rule, self.message)
        joiner = "" if self.field.startswith("[") else "."
        return ValidationError(f"{prefix}{joiner}{self.field}", self.rule, self.message)

    def __reduce__(self) -> tuple[type[ValidationError], tuple[str, str, str]]:
        return (type(self), (self.field, self.rule, self.message))


class NotFound(InsurCRMError, LookupError):
    """No aggregate with that id (or key) is stored."""

    def __init__(self, kind: str, key: str) -> None:
        self.kind = kind
        self.key = key
        super().__init__(f"{kind} {key!r} not found")

    def __reduce__(self) -> tuple[type[NotFound], tuple[str, str]]:
        return (type(self), (self.kind, self.key))


class Duplicate(InsurCRMError):
    """An aggregate with the same id or unique key is already stored."""

    def __init__(self, kind: str, key: str) -> None:
        self.kind = kind
        self.key = key
        super().__init__(f"{kind} {key} already exists")

    def __reduce__(self) -> tuple[type[Duplicate], tuple[str, str]]:
        return (type(self), (self.kind, self.key))


class ConcurrencyError(InsurCRMError):
    """Another writer changed the aggregate first; reload and retry the unit of work."""


class RuleViolation(InsurCRMError):
    """A valid request that a domain rule forbids (e.g. an illegal status change)."""


class StorageError(InsurCRMError):
    """The store cannot be opened or used (bad URL, unreachable server, locked file)."""


class SchemaError(StorageError):
    """The database schema is missing or older than this package: run ``insurcrm db upgrade``."""
