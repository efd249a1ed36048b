"""draft_fts: the queue's search on SQLite through an FTS5 index of draft.search_text (the folded
title, sa-pô, byline, sender and tracking code), kept by triggers (issue "Operations", search that
scales). On PostgreSQL the search stays a scan of search_text: nothing to do there.

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-06 02:30:00
"""

from __future__ import annotations

from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None

STATEMENTS = (
    # External content: the index keeps the tokens only, the text stays in draft.
    "CREATE VIRTUAL TABLE draft_fts USING fts5(search_text, content='draft', content_rowid='id', tokenize='unicode61')",
    "CREATE TRIGGER draft_fts_insert AFTER INSERT ON draft BEGIN"
    " INSERT INTO draft_fts(rowid, search_text) VALUES (new.id, new.search_text); END",
    "CREATE TRIGGER draft_fts_delete AFTER DELETE ON draft BEGIN"
    " INSERT INTO draft_fts(draft_fts, rowid, search_text) VALUES ('delete', old.id, old.search_text); END",
    "CREATE TRIGGER draft_fts_update AFTER UPDATE OF search_text ON draft BEGIN"
    " INSERT INTO draft_fts(draft_fts, rowid, search_text) VALUES ('delete', old.id, old.search_text);"
    " INSERT INTO draft_fts(rowid, search_text) VALUES (new.id, new.search_text); END",
    "INSERT INTO draft_fts(draft_fts) VALUES ('rebuild')",
)


def upgrade() -> None:
    if op.get_bind().dialect.name != "sqlite":
        return
    for statement in STATEMENTS:
        op.execute(statement)


def downgrade() -> None:
    if op.get_bind().dialect.name != "sqlite":
        return
    for name in ("draft_fts_update", "draft_fts_delete", "draft_fts_insert"):
        op.execute(f"DROP TRIGGER IF EXISTS {name}")
    op.execute("DROP TABLE IF EXISTS draft_fts")
