"""draft.search_words: the queue's search on PostgreSQL (issue "Operations", search that scales), as
migration 0011's FTS5 index does it on SQLite. A stored generated column holds the words of
draft.search_text as a tsvector (words are the runs of letters and digits), indexed with GIN, matched by
their start (`'dang':* & 'bo':*`), like FTS5's prefix queries. Stored rather than an index of the
expression: a search that matches most drafts is read by a scan, which would otherwise rebuild the
words of every draft (17 s a search under 20 clients over 20,000 drafts; bench/README.md).

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

WORDS = "to_tsvector('simple'::regconfig, regexp_replace(search_text, '[^[:alnum:]]+', ' ', 'g'))"


def upgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute(f"ALTER TABLE draft ADD COLUMN search_words tsvector GENERATED ALWAYS AS ({WORDS}) STORED")
    op.execute("CREATE INDEX ix_draft_search_words ON draft USING gin (search_words)")


def downgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute("DROP INDEX IF EXISTS ix_draft_search_words")
    op.execute("ALTER TABLE draft DROP COLUMN IF EXISTS search_words")
