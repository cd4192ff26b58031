"""Figures that just meet each tier of the default ladder, shared by the tier tests."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import attrs

from insurcrm.domain.credit import CreditGrade
from insurcrm.domain.loyalty import LoyaltyLevel
from insurcrm.domain.tiers import Criterion, Indicator, Tier, TierFigures

SILVER_FIGURES = TierFigures(
    annual_premium=Decimal(10_000),
    policies_in_force=1,
    tenure_years=1,
    first_purchase=dt.date(2023, 1, 15),
    credit_grade=CreditGrade.B,
)
GOLD_FIGURES = attrs.evolve(
    SILVER_FIGURES,
    annual_premium=Decimal(30_000),
    policies_in_force=2,
    tenure_years=3,
    first_purchase=dt.date(2021, 1, 15),
)
PLATINUM_FIGURES = attrs.evolve(
    GOLD_FIGURES,
    annual_premium=Decimal(100_000),
    tenure_years=5,
    first_purchase=dt.date(2019, 1, 15),
    credit_grade=CreditGrade.A,
    loyalty_level=LoyaltyLevel.ACTIVE,
)

#: BASIC for everyone, PLUS with a policy in force, PRIME with two and ¥3,000 a year: low
#: enough that small generated portfolios move between them.
EASY_TIERS = (
    Tier("BASIC", "基础"),
    Tier("PLUS", "进阶", criteria=(Criterion(Indicator.POLICIES_IN_FORCE, 1),)),
    Tier(
        "PRIME",
        "尊享",
        criteria=(
            Criterion(Indicator.POLICIES_IN_FORCE, 2),
            Criterion(Indicator.ANNUAL_PREMIUM, Decimal("3000")),
        ),
    ),
)
