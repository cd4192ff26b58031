"""The glossary's value tables list every enum member with its Chinese label, exactly."""

from __future__ import annotations

from enum import Enum
from pathlib import Path

import pytest

from insurcrm.domain.card import Education, MaritalStatus
from insurcrm.domain.credit import CreditGrade
from insurcrm.domain.customers import LeadSource, PdpPersonality, RiskPreference
from insurcrm.domain.labels import LabelledEnum
from insurcrm.domain.policies import EndReason, PolicyStatus, ProductLine, PurchaseKind
from insurcrm.domain.tier_membership import GrantKind, TierChangeKind
from insurcrm.domain.tiers import Combine, DowngradeMode, DropPolicy, Indicator, ReviewSchedule
from insurcrm.domain.values import Gender

GLOSSARY = Path(__file__).parents[2] / "docs" / "reference" / "glossary.md"

ENUMS: list[type[LabelledEnum]] = [
    Gender,
    MaritalStatus,
    Education,
    LeadSource,
    PdpPersonality,
    RiskPreference,
    CreditGrade,
    ProductLine,
    PolicyStatus,
    EndReason,
    PurchaseKind,
    Indicator,
    Combine,
    DowngradeMode,
    ReviewSchedule,
    DropPolicy,
    GrantKind,
    TierChangeKind,
]


def _section(kind: type[Enum]) -> list[str]:
    text = GLOSSARY.read_text(encoding="utf-8")
    marker = f"— `{kind.__name__}`"
    assert marker in text, f"the glossary has no table for {kind.__name__}"
    body = text.split(marker, 1)[1].split("\n### ", 1)[0]
    return [line for line in body.splitlines() if line.startswith("| `")]


@pytest.mark.parametrize("kind", ENUMS, ids=lambda k: k.__name__)
def test_glossary_table_matches_the_enum(kind: type[LabelledEnum]) -> None:
    expected = [f"| `{m.name}` | {m.label_zh} |" for m in kind]
    assert _section(kind) == expected
