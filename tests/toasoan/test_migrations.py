"""The Alembic history is the schema: it must build exactly the tables the models describe."""

from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlmodel import SQLModel

import core.models  # noqa: F401
import ingest.models  # noqa: F401
import publish.models  # noqa: F401
import reports.models  # noqa: F401
import review.models  # noqa: F401
from core.db import make_engine
from toasoan.database import alembic_config, include_object, upgrade

pytestmark = pytest.mark.sqlite_only  # the PostgreSQL pass of make test leaves it out


def test_migrations_match_the_models(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'db.sqlite'}")
    upgrade(engine)
    with engine.connect() as conn:
        diff = compare_metadata(
            MigrationContext.configure(conn, opts={"include_object": include_object}), SQLModel.metadata
        )
    assert diff == []


def test_upgrade_is_idempotent_and_uses_wal(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'db.sqlite'}")
    upgrade(engine)
    upgrade(engine)
    with engine.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert (conn.exec_driver_sql("PRAGMA busy_timeout").scalar() or 0) >= 5000
        head = ScriptDirectory.from_config(alembic_config(str(engine.url))).get_current_head()
        assert conn.exec_driver_sql("SELECT version_num FROM alembic_version").scalar() == head


def test_an_existing_database_is_upgraded_and_its_drafts_become_searchable(tmp_path: Path) -> None:
    from alembic import command

    url = f"sqlite:///{tmp_path / 'db.sqlite'}"
    cfg = alembic_config(url)
    command.upgrade(cfg, "0001")  # a database from the first release
    engine = make_engine(url)
    with engine.begin() as conn:
        conn.exec_driver_sql(
            "INSERT INTO draft (tracking_code, status, kind, title, body_html, text_syllables, sender, sender_name,"
            " warnings, revision, created_at, updated_at) VALUES ('TS-2026-00001', 'pending_review', 'tin',"
            " 'Đảng bộ khối sơ kết', '', 3, 'a@b.vn', 'An', '[]', 1, '2026-11-01', '2026-11-01')"
        )
    upgrade(engine)
    with engine.connect() as conn:
        assert (
            conn.exec_driver_sql("SELECT search_text FROM draft").scalar()
            == "dang bo khoi so ket a b vn an ts 2026 00001"
        )
