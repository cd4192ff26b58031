"""The glossary's value tables list every enum member with its Chinese label, exactly."""

from __future__ import annotations

from enum import Enum
from pathlib import Path

import pytest

from insurcrm.domain.card import Education, MaritalStatus
from insurcrm.domain.churn import ChurnCause, ChurnStructure
from insurcrm.domain.complaints import ComplaintCategory, ComplaintStatus, ComplaintStep
from insurcrm.domain.credit import CreditGrade
from insurcrm.domain.customers import LeadSource, PdpPersonality, RiskPreference
from insurcrm.domain.early_warning import WarningLevel, WarningSignal
from insurcrm.domain.future_value import RenewalModelKind
from insurcrm.domain.interactions import Channel, Direction, ObservedSignal, Purpose
from insurcrm.domain.labels import LabelledEnum
from insurcrm.domain.policies import EndReason, PolicyStatus, ProductLine, PurchaseKind
from insurcrm.domain.recovery import ValueClass, WinBackMeasure, WinBackStance
from insurcrm.domain.satisfaction import Answer, Dimension, RespondentRole, SurveyChannel
from insurcrm.domain.tier_membership import GrantKind, TierChangeKind
from insurcrm.domain.tiers import Combine, DowngradeMode, DropPolicy, Indicator, ReviewSchedule
from insurcrm.domain.values import Gender
from insurcrm.domain.visits import VisitReason

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
    ChurnStructure,
    ChurnCause,
    ComplaintStep,
    ComplaintStatus,
    ComplaintCategory,
    Channel,
    Direction,
    Purpose,
    ObservedSignal,
    Answer,
    RespondentRole,
    SurveyChannel,
    Dimension,
    WarningSignal,
    WarningLevel,
    ValueClass,
    WinBackStance,
    WinBackMeasure,
    RenewalModelKind,
    VisitReason,
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
