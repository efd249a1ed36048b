"""draft indexes on the counting dates: the reports read a quarter's items by publication or by
approval date ([calendar] count_by) (issue "Reports", the quota dashboard's speed)

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-05 21:50:00
"""

from __future__ import annotations

from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("draft") as batch:
        batch.create_index("ix_draft_status_published", ["status", "published_at"], unique=False)
        batch.create_index("ix_draft_status_decided", ["status", "decided_at"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("draft") as batch:
        batch.drop_index("ix_draft_status_decided")
        batch.drop_index("ix_draft_status_published")
