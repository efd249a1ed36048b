"""ix_draft_search_words: the queue's search on PostgreSQL through a GIN index of the words of
draft.search_text (issue "Operations", search that scales), as migration 0011's FTS5 index does on
SQLite. Words are the runs of letters and digits (review.service.PG_SEARCH_WORDS, the expression the
search repeats so the planner uses the index), matched by their start, like FTS5's prefix queries.

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-06 18:00:00
"""

from __future__ import annotations

from alembic import op

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None

# Spelled out rather than imported from review/: a migration stays what it was when it ran.
WORDS = "to_tsvector('simple'::regconfig, regexp_replace(search_text, '[^[:alnum:]]+', ' ', 'g'))"


def upgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute(f"CREATE INDEX ix_draft_search_words ON draft USING gin ({WORDS})")


def downgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute("DROP INDEX IF EXISTS ix_draft_search_words")
