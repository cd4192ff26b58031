"""Words shown to users: enums that carry their Chinese label (DOMAIN.md: every closed set
has ``label_zh``), and counted nouns for reasons and messages."""

from __future__ import annotations

import enum
from typing import Self

__all__ = ["LabelledEnum", "counted"]


class LabelledEnum(enum.Enum):
    """An enum whose members are ``NAME = ("NAME", "中文")``.

    The value is the English name (what is stored and serialised); ``label_zh``
    is the Chinese label shown to Chinese-language users.

    Example:
        >>> from insurcrm.domain.values import Gender
        >>> Gender.FEMALE.value, Gender.FEMALE.label_zh
        ('FEMALE', '女')
    """

    _label_zh: str

    def __new__(cls, value: str, label_zh: str) -> Self:
        member = object.__new__(cls)
        member._value_ = value
        member._label_zh = label_zh
        return member

    @property
    def label_zh(self) -> str:
        """The Chinese label of this member."""
        return self._label_zh

    def __repr__(self) -> str:
        return f"{type(self).__name__}.{self.name}"


def counted(n: int, noun: str) -> str:
    """``n`` of a regular English ``noun``, in words.

    Example:
        >>> counted(1, "row"), counted(1000, "row")
        ('1 row', '1,000 rows')
    """
    return f"{n:,} {noun}" if n == 1 else f"{n:,} {noun}s"
