"""The same product on a real PostgreSQL: schema, intake, decisions and their locking."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from fastapi.testclient import TestClient
from sqlalchemy.exc import OperationalError
from sqlmodel import SQLModel

import core.db
import core.models
import ingest.models  # noqa: F401
import publish.models  # noqa: F401
import reports.models  # noqa: F401
import review.models  # noqa: F401
from core.db import make_engine, reading
from core.models import Draft
from core.text import fold_words
from review import service
from review.auth import add_user, get_user
from review.web import create_app
from tests.appkit import at_once, open_app, write_settings
from tests.review.webkit import Browser
from tests.servers import Postgres
from toasoan.cli import main
from toasoan.database import include_object, upgrade

pytestmark = pytest.mark.picks_databases  # SQLite and PostgreSQL named here; the PostgreSQL pass leaves it out

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "intake"


def test_migrations_build_the_models_on_postgres(postgres_server: Postgres) -> None:
    engine = make_engine(postgres_server.new_database())
    upgrade(engine)
    with engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"include_object": include_object})
        assert compare_metadata(context, SQLModel.metadata) == []
    engine.dispose()


def test_intake_and_decisions_on_postgres(
    tmp_path: Path, postgres_server: Postgres, capsys: pytest.CaptureFixture[str]
) -> None:
    config = write_settings(tmp_path, database_url=postgres_server.new_database())
    new = tmp_path / "maildir" / "new"
    new.mkdir(parents=True)
    for name in ("tin_ok.eml", "same_document_resent.eml", "encrypted.eml", "not_a_submission.eml"):
        shutil.copy(FIXTURES / name, new / name)
    assert main(["--config", str(config), "ingest", "--once"]) == 0
    capsys.readouterr()
    main(["--config", str(config), "inbox", "list", "--json"])
    inbox = json.loads(capsys.readouterr().out)
    assert sorted((m["status"], m["reason"]) for m in inbox) == [
        ("accepted", None),
        ("accepted", None),
        ("ignored", "not_a_submission"),
        ("quarantined", "encrypted_document"),
    ]
    settings, engine = open_app(config)
    add_user(engine, "lan", "mật-khẩu-dài", role="editor")
    add_user(engine, "duyet", "mật-khẩu-dài", role="chief")
    [draft_id] = {i for m in inbox for i in m["draft_ids"]}  # the re-sent file links to the same draft
    # Two decisions at once: the row lock (SELECT ... FOR UPDATE) lets exactly one through.
    outcome = at_once(
        approve=lambda: service.approve(
            engine, settings, draft_id, get_user(engine, "duyet"), revision=1, status="pending_review"
        ),
        reject=lambda: service.reject(
            engine, settings, draft_id, get_user(engine, "lan"), revision=1, status="pending_review", reason="x"
        ),
    )
    assert sum(refused is None for refused in outcome.values()) == 1
    capsys.readouterr()
    main(["--config", str(config), "drafts", "history", str(draft_id), "--json"])
    actions = [e["action"] for e in json.loads(capsys.readouterr().out)]
    assert actions[0] == "received" and actions[1] in ("approved", "rejected") and len(actions) == 2
    # The review pages' reads (plain statements, counts, search) on PostgreSQL too.
    client = TestClient(create_app(settings, engine), follow_redirects=False)
    with client:
        browser = Browser(client)
        assert browser.sign_in("lan", "mật-khẩu-dài").status_code == 303
        page = browser.get(f"/drafts/{draft_id}")
        assert page.status_code == 200 and "Lịch sử xử lý" in page.text and "Tải thư gốc (.eml)" in page.text
        with reading(engine) as s:
            title = s.get(Draft, draft_id).title
        words = " ".join(fold_words(title).split()[:3])  # "Đảng bộ" is found as "dang bo"
        assert words.isascii()
        found = browser.get(f"/?status=all&q={words}")
        assert found.status_code == 200 and f'href="/drafts/{draft_id}"' in found.text
    engine.dispose()


def test_the_search_reads_the_gin_index_of_migration_0013(postgres_server: Postgres) -> None:
    """The queue's search expression is the index's, word for word: were they to drift apart, PostgreSQL
    would scan every draft again (20,000 of them: issue "Operations", search that scales)."""
    from sqlalchemy import select, text

    from core.db import table_of
    from review.service import search_conditions

    engine = make_engine(postgres_server.new_database())
    upgrade(engine)
    with engine.connect() as conn:
        conn.execute(text("SET enable_seqscan = off"))  # a handful of rows: the planner would scan them
        query = select(table_of(Draft).c.id).where(*search_conditions(conn, fold_words("Đảng bộ xã")))
        plan = "\n".join(
            conn.execute(text("EXPLAIN " + str(query.compile(conn, compile_kwargs={"literal_binds": True})))).scalars()
        )
    engine.dispose()
    assert "ix_draft_search_words" in plan, plan


def _terminate(server: Postgres, pid: int) -> None:
    """What a restarted server or a firewall that dropped an idle connection leaves: a dead socket."""
    other = make_engine(server.url())
    with other.connect() as conn:
        assert conn.exec_driver_sql(f"SELECT pg_terminate_backend({int(pid)})").scalar() is True
    other.dispose()


def test_a_connection_that_died_while_idle_is_replaced_unseen(
    postgres_server: Postgres, monkeypatch: pytest.MonkeyPatch
) -> None:
    engine = make_engine(postgres_server.new_database())
    with engine.connect() as conn:
        first = conn.exec_driver_sql("SELECT pg_backend_pid()").scalar()
    assert first is not None
    _terminate(postgres_server, first)
    monkeypatch.setattr(core.db, "PING_AFTER_IDLE_SECONDS", 0.0)  # the night has passed
    with engine.connect() as conn:  # the pooled connection is dead: the next user gets a new one
        second = conn.exec_driver_sql("SELECT pg_backend_pid()").scalar()
    assert second not in (None, first)
    engine.dispose()


def test_a_busy_connection_is_not_pinged_before_each_use(postgres_server: Postgres) -> None:
    # The flip side (a round trip spared per request): a connection back from use a moment ago is
    # handed out as is, so if it died meanwhile that one use fails, and the pool renews itself.
    engine = make_engine(postgres_server.new_database())
    with engine.connect() as conn:
        first = conn.exec_driver_sql("SELECT pg_backend_pid()").scalar()
    assert first is not None
    _terminate(postgres_server, first)
    with pytest.raises(OperationalError), engine.connect() as conn:
        conn.exec_driver_sql("SELECT 1")
    with engine.connect() as conn:
        assert conn.exec_driver_sql("SELECT pg_backend_pid()").scalar() not in (None, first)
    engine.dispose()
