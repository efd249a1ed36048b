"""report_period: what the period's counted items were when none of them was left uncounted (how
many, the sum of their ids, by which date), so that reading a month skips the closed periods where
nothing can have been counted late (issue "Reports", the quota dashboard's speed)

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-06 01:50:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("report_period") as batch:
        batch.add_column(sa.Column("counted_by", sa.String(), nullable=True))
        batch.add_column(sa.Column("counted_n", sa.Integer(), nullable=True))
        batch.add_column(sa.Column("counted_ids", sa.BigInteger(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("report_period") as batch:
        batch.drop_column("counted_ids")
        batch.drop_column("counted_n")
        batch.drop_column("counted_by")
