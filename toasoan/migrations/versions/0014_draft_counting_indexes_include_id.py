"""draft counting indexes with the id on PostgreSQL: the reports fingerprint the closed periods
(count and sum of the counted drafts' ids, `reports.service.counted_fingerprints`) on every quota
dashboard. SQLite's indexes hold the rowid, so the index alone answers there; PostgreSQL read the
table (a scan of every draft, 40 ms over 60,000) until the id is INCLUDEd and the scan is index-only.

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-07 00:40:00
"""

from __future__ import annotations

from alembic import op

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None

INDEXES = {"ix_draft_status_published": "published_at", "ix_draft_status_decided": "decided_at"}


def upgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    for name, column in INDEXES.items():
        op.drop_index(name, table_name="draft")
        op.create_index(name, "draft", ["status", column], postgresql_include=["id"])


def downgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    for name, column in INDEXES.items():
        op.drop_index(name, table_name="draft")
        op.create_index(name, "draft", ["status", column])
