"""RMB is CNY: amounts stored with the currency ``RMB`` are the renminbi's, CNY.

insurcrm now refuses ``RMB`` (ISO 4217 has no such code), and sums premiums in CNY only;
earlier versions stored it as a currency of its own, so those amounts counted in no CNY
figure and could no longer be read. This revision rewrites them as CNY: the policies'
premiums and sums assured, their purchases and missed premiums, and the cover held
elsewhere on customers' cards (JSON, written without spaces). Downgrading keeps CNY:
which amounts were written RMB is not kept.

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-03
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

TABLES = ("policies", "policy_purchases", "policy_missed_premiums")


def upgrade() -> None:
    for name in TABLES:
        op.execute(sa.text(f"UPDATE {name} SET currency = 'CNY' WHERE currency = 'RMB'"))
    op.execute(
        sa.text(
            "UPDATE customers SET holdings = REPLACE(holdings, :rmb, :cny) "
            "WHERE holdings LIKE :like"
        ).bindparams(rmb='"currency":"RMB"', cny='"currency":"CNY"', like='%"currency":"RMB"%')
    )


def downgrade() -> None:
    pass  # CNY stays CNY
