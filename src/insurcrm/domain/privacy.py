"""Masking of personal information for ``repr``, logs and messages (DOMAIN.md §10.4)."""

from __future__ import annotations

__all__ = ["mask_email", "mask_id_number", "mask_name", "mask_phone", "mask_text"]


def mask_name(name: str) -> str:
    """Keep the first character of a name and hide the rest: ``张三丰`` → ``张**``."""
    stripped = name.strip()
    if not stripped:
        return "*"
    return (stripped[0] if len(stripped) > 1 else "*") + "*" * max(len(stripped) - 1, 1)


def mask_id_number(number: str) -> str:
    """Keep the region code and the last four characters: ``110101********123X``."""
    if len(number) < 10:
        return "*" * len(number)
    return number[:6] + "*" * (len(number) - 10) + number[-4:]


def mask_phone(e164: str, country_code: int | None = None) -> str:
    """Hide the middle of a phone number: ``+8613812345678`` → ``+86 138****5678``."""
    if country_code is not None and e164.startswith(f"+{country_code}"):
        prefix = f"+{country_code}"
        national = e164[len(prefix) :]
    else:
        prefix, national = "", e164
    if len(national) <= 7:
        hidden = national[:1] + "*" * max(len(national) - 3, 1) + national[-2:]
    else:
        hidden = national[:3] + "*" * (len(national) - 7) + national[-4:]
    return f"{prefix} {hidden}".strip()


def mask_email(email: str) -> str:
    """Keep the first character of the local part and the domain: ``z***@example.com``."""
    local, _, domain = email.rpartition("@")
    if not local:
        return "***"
    return f"{local[0]}***@{domain}"


def mask_text(text: object) -> str:
    """Hide free text entirely (addresses, card notes): ``'***'``, or ``None``."""
    return "None" if text is None else "'***'"
