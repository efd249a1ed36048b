"""ix_outbox_mail_recipient_created: the per-recipient daily cap of automatic mail counts an address's
mail of the last 24 hours; an index on (lower(to_addr), created_at) keeps that a range read as the
outbox grows over the years

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-06 04:40:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_outbox_mail_recipient_created", "outbox_mail", [sa.text("lower(to_addr)"), "created_at"])


def downgrade() -> None:
    op.drop_index("ix_outbox_mail_recipient_created", table_name="outbox_mail")
