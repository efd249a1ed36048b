"""runner_state (what each loop of the worker last did, and the lease of the worker running it) and
health_alert (the warnings that need a person while they last) for `toasoan status`, the status page
and one worker per database (issue "Operations")

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-06 02:10:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import core.db

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "runner_state",
        sa.Column("name", sa.String(), nullable=False),
        sa.Column("last_ok_at", core.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("last_error_at", core.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("failing_since", core.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("lease_owner", sa.String(), nullable=True),
        sa.Column("lease_until", core.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("updated_at", core.db.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("name"),
    )
    op.create_table(
        "health_alert",
        sa.Column("code", sa.String(), nullable=False),
        sa.Column("message", sa.Text(), nullable=False),
        sa.Column("started_at", core.db.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("code"),
    )


def downgrade() -> None:
    op.drop_table("health_alert")
    op.drop_table("runner_state")
