"""Backup and restore: a copy taken while the office writes comes back whole, on SQLite and PostgreSQL.

The restored office is proven by its own behaviour: the same drafts and stored files, the same mailbox
taken in again without a new draft or receipt, and the mail queued at backup time sent exactly once.
"""

from __future__ import annotations

import email
import hashlib
import json
import shutil
import threading
import time
from email.policy import default
from pathlib import Path
from typing import Any

import pytest

from core import runners
from review.auth import add_user
from tests.appkit import open_app, write_settings
from tests.servers import Postgres, SmtpSink, _pg_bin
from toasoan.cli import main

pytestmark = pytest.mark.picks_databases  # SQLite and PostgreSQL named here; the PostgreSQL pass leaves it out

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "intake"
FIRST = ("tin_ok.eml", "bai_photo_beside.eml")
SECOND = ("body_article.eml", "two_documents.eml")


def deliver(maildir: Path, *names: str) -> None:
    new = maildir / "new"
    new.mkdir(parents=True, exist_ok=True)
    for name in names:
        shutil.copy(FIXTURES / name, new / f"{name}.host")


def run(config: Path, *args: str, capsys: pytest.CaptureFixture[str], code: int = 0) -> Any:
    capsys.readouterr()
    got = main(["--config", str(config), *args])
    captured = capsys.readouterr()
    assert got == code, captured.out + captured.err
    if code:
        return captured.err
    return json.loads(captured.out) if "--json" in args else captured.out


def files_by_sha(root: Path) -> dict[str, str]:
    return {
        str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(root.rglob("*"))
        if p.is_file() and not p.name.startswith(".tmp-")
    }


def message_ids(sink: SmtpSink) -> list[str]:
    return [str(email.message_from_bytes(m.raw, policy=default)["Message-ID"]) for m in sink.messages]


class Writer(threading.Thread):
    """Keeps creating accounts through the product's code while the backup runs."""

    def __init__(self, config: Path) -> None:
        super().__init__(daemon=True)
        self.settings, self.engine = open_app(config)
        self.written = 0
        self.stop = threading.Event()
        self.error: BaseException | None = None

    def run(self) -> None:
        try:
            while not self.stop.is_set():
                add_user(self.engine, f"writer{self.written:04d}", "mật-khẩu-dài-đủ", role="viewer")
                self.written += 1
        except BaseException as exc:  # re-raised by the test
            self.error = exc

    def finish(self) -> None:
        self.stop.set()
        self.join(timeout=60)
        self.engine.dispose()
        if self.error is not None:
            raise self.error


def round_trip(
    tmp_path: Path,
    smtp_sink: SmtpSink,
    capsys: pytest.CaptureFixture[str],
    *,
    url_a: str | None = None,
    url_b: str | None = None,
    extra_database: str = "",
) -> None:
    smtp = {"host": smtp_sink.host, "port": smtp_sink.port, "security": "none"}
    maildir = tmp_path / "mail"
    office_a, office_b = tmp_path / "a", tmp_path / "b"
    office_a.mkdir()
    office_b.mkdir()
    configs = []
    for office, url in ((office_a, url_a), (office_b, url_b)):
        config = write_settings(office, smtp=smtp, database_url=url, mailbox={"path": str(maildir)})
        if extra_database:
            config.write_text(config.read_text().replace("[database]\n", f"[database]\n{extra_database}\n"))
        configs.append(config)
    config_a, config_b = configs

    # Office A: the first mail taken in and answered, the second taken in while SMTP is down.
    deliver(maildir, *FIRST)
    run(config_a, "ingest", "--once", capsys=capsys)
    smtp_sink.wait_for(2)
    smtp_sink.stop()
    deliver(maildir, *SECOND)
    run(config_a, "ingest", "--once", capsys=capsys)
    queued = run(config_a, "outbox", "list", "--json", capsys=capsys)
    statuses = [m["status"] for m in queued]
    assert statuses.count("succeeded") == 2 and len(statuses) == 4 and "retrying" in statuses
    drafts_a = run(config_a, "drafts", "list", "--json", capsys=capsys)
    inbox_a = run(config_a, "inbox", "list", "--json", capsys=capsys)
    assert len(drafts_a) == 5 and len(inbox_a) == 4

    # The backup, while another writer keeps committing.
    writer = Writer(config_a)
    writer.start()
    deadline = time.monotonic() + 30
    while writer.written < 2 and writer.error is None and time.monotonic() < deadline:
        time.sleep(0.05)
    backup_dir = tmp_path / "backup"
    summary = run(config_a, "backup", str(backup_dir), "--json", capsys=capsys)
    time.sleep(0.3)
    writer.finish()
    stored_a = files_by_sha(office_a / "var" / "storage")
    assert summary["files"] == len(stored_a) > 0 and summary["revision"] and summary["dir"] == str(backup_dir)
    manifest = json.loads((backup_dir / "manifest.json").read_text())
    assert manifest["files"] == summary["files"] and manifest["database"] == summary["database"]

    # Office B, restored from it.
    restored = run(config_b, "restore", str(backup_dir), "--json", capsys=capsys)
    assert {k: restored[k] for k in ("database", "files", "bytes")} == {
        k: summary[k] for k in ("database", "files", "bytes")
    }
    assert run(config_b, "drafts", "list", "--json", capsys=capsys) == drafts_a
    assert run(config_b, "inbox", "list", "--json", capsys=capsys) == inbox_a
    assert files_by_sha(office_b / "var" / "storage") == stored_a
    # The accounts are one snapshot: those committed before some moment, none after, no gap.
    _, engine_b = open_app(config_b)
    from sqlmodel import col, select

    from core.db import reading
    from review.models import User

    with reading(engine_b) as s:
        names = s.exec(select(User.username).order_by(col(User.username))).all()
    engine_b.dispose()
    assert 2 <= len(names) <= writer.written
    assert list(names) == [f"writer{i:04d}" for i in range(len(names))]

    # The mailbox taken in again (every message put back in the watched folder): nothing new.
    processed = maildir / ".Đã xử lý" / "cur"
    for message in processed.iterdir():
        message.rename(maildir / "new" / message.name)
    run(config_b, "ingest", "--once", capsys=capsys)
    assert run(config_b, "drafts", "list", "--json", capsys=capsys) == drafts_a
    assert len(run(config_b, "inbox", "list", "--json", capsys=capsys)) == len(inbox_a)
    assert len(run(config_b, "outbox", "list", "--json", capsys=capsys)) == len(queued)

    # SMTP back: what was queued at backup time goes once, what had gone does not go again.
    smtp_sink.start()
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        run(config_b, "outbox", "send", capsys=capsys)
        if {m["status"] for m in run(config_b, "outbox", "list", "--json", capsys=capsys)} == {"succeeded"}:
            break
        time.sleep(0.5)
    smtp_sink.wait_for(len(queued))
    run(config_b, "outbox", "send", capsys=capsys)
    time.sleep(0.5)
    ids = message_ids(smtp_sink)
    assert len(ids) == len(queued) and len(set(ids)) == len(ids)
    assert {m["status"] for m in run(config_b, "outbox", "list", "--json", capsys=capsys)} == {"succeeded"}


def test_sqlite_round_trip_while_writing(
    tmp_path: Path, smtp_sink: SmtpSink, capsys: pytest.CaptureFixture[str]
) -> None:
    round_trip(tmp_path, smtp_sink, capsys)
    # The dump is one self-contained file, and the stored files were linked, not copied: office A's,
    # the backup's and office B's names are one file on the disk.
    backup_dir = tmp_path / "backup"
    assert sorted(p.name for p in backup_dir.iterdir()) == ["database.sqlite3", "manifest.json", "storage"]
    some = next(p for p in (backup_dir / "storage").rglob("*") if p.is_file())
    assert some.stat().st_nlink == 3


def test_a_backup_from_an_older_release_is_upgraded(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from alembic import command
    from alembic.script import ScriptDirectory

    from core.db import make_engine
    from core.settings import load_settings
    from toasoan.database import alembic_config

    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    config_a, config_b = write_settings(tmp_path / "a"), write_settings(tmp_path / "b")
    url = load_settings(config_a).database_url
    Path(url.removeprefix("sqlite:///")).parent.mkdir(parents=True)
    engine = make_engine(url)
    cfg = alembic_config(url)
    with engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, "0009")
    engine.dispose()
    summary = run(config_a, "backup", str(tmp_path / "backup"), "--json", capsys=capsys)
    assert summary["revision"] == "0009"  # a backup leaves the schema as it is
    restored = run(config_b, "restore", str(tmp_path / "backup"), "--json", capsys=capsys)
    head = ScriptDirectory.from_config(cfg).get_current_head()
    assert head != "0009" and restored["revision"] == head and restored["files"] == 0


def test_postgres_round_trip_while_writing(
    tmp_path: Path, smtp_sink: SmtpSink, postgres_server: Postgres, capsys: pytest.CaptureFixture[str]
) -> None:
    bin_dir = Path(_pg_bin("pg_dump")).parent
    round_trip(
        tmp_path,
        smtp_sink,
        capsys,
        url_a=postgres_server.new_database(),
        url_b=postgres_server.new_database(),
        extra_database=f"pg_bin_dir = {json.dumps(str(bin_dir))}",
    )
    assert (tmp_path / "backup" / "database.pgdump").is_file()


# ------------------------------------------------------------------------------- bad inputs
@pytest.fixture
def backed_up(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> tuple[Path, Path]:
    """An office with drafts and its backup; a second, empty office's settings."""
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    config_a = write_settings(tmp_path / "a")
    deliver(tmp_path / "a" / "maildir", *FIRST)
    run(config_a, "ingest", "--once", capsys=capsys)
    run(config_a, "backup", str(tmp_path / "backup"), capsys=capsys)
    return tmp_path / "backup", write_settings(tmp_path / "b")


def untouched(config: Path) -> bool:
    office = config.parent
    return not (office / "var" / "storage").exists() or not any((office / "var" / "storage").rglob("*"))


def test_restore_refuses_a_folder_without_manifest(
    backed_up: tuple[Path, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    backup_dir, config_b = backed_up
    (backup_dir / "manifest.json").unlink()  # as a backup interrupted before its end leaves it
    err = run(config_b, "restore", str(backup_dir), capsys=capsys, code=2)
    assert "không có manifest.json" in err and "chưa hoàn tất" in err
    assert untouched(config_b)
    assert run(config_b, "drafts", "list", "--json", capsys=capsys) == []


def test_restore_refuses_a_corrupted_dump(backed_up: tuple[Path, Path], capsys: pytest.CaptureFixture[str]) -> None:
    backup_dir, config_b = backed_up
    dump = backup_dir / "database.sqlite3"
    data = bytearray(dump.read_bytes())
    data[len(data) // 2] ^= 0xFF
    dump.write_bytes(bytes(data))
    err = run(config_b, "restore", str(backup_dir), capsys=capsys, code=2)
    assert "bị hỏng" in err and "sha256" in err
    assert untouched(config_b)
    assert run(config_b, "drafts", "list", "--json", capsys=capsys) == []


def test_restore_refuses_a_damaged_stored_file(
    backed_up: tuple[Path, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    backup_dir, config_b = backed_up
    spooled = next((backup_dir / "storage" / "spool").rglob("*.eml"))
    spooled.unlink()  # a hard link: the office's own copy stays whole
    spooled.write_bytes(b"not the email")
    err = run(config_b, "restore", str(backup_dir), capsys=capsys, code=2)
    assert "bị hỏng" in err
    assert untouched(config_b)


def test_restore_refuses_a_database_with_data_unless_forced(
    backed_up: tuple[Path, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    backup_dir, config_b = backed_up
    _, engine_b = open_app(config_b)
    add_user(engine_b, "lan", "mật-khẩu-dài", role="editor")
    engine_b.dispose()
    err = run(config_b, "restore", str(backup_dir), capsys=capsys, code=2)
    assert "đã có dữ liệu" in err and "--force" in err
    assert run(config_b, "drafts", "list", "--json", capsys=capsys) == []
    out = run(config_b, "restore", str(backup_dir), "--force", capsys=capsys)
    assert out.startswith("Đã khôi phục cơ sở dữ liệu (sqlite) và ")
    assert len(run(config_b, "drafts", "list", "--json", capsys=capsys)) == 2


def test_restore_refuses_while_a_worker_runs_on_the_database(
    backed_up: tuple[Path, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    """A worker holding its loops' leases (as `toasoan worker` does while it runs) would write into the
    database being replaced: restore refuses, even with --force, until the worker stops."""
    backup_dir, config_b = backed_up
    _, engine_b = open_app(config_b)
    assert runners.acquire(engine_b, "mailbox", "may-chu:4242")
    err = run(config_b, "restore", str(backup_dir), "--force", capsys=capsys, code=2)
    assert "may-chu:4242 đang chạy" in err and "hãy dừng" in err
    assert run(config_b, "drafts", "list", "--json", capsys=capsys) == []
    runners.release(engine_b, "mailbox", "may-chu:4242")  # the worker stopped cleanly
    engine_b.dispose()
    out = run(config_b, "restore", str(backup_dir), "--force", capsys=capsys)
    assert out.startswith("Đã khôi phục cơ sở dữ liệu (sqlite) và ")


def test_backup_refuses_a_folder_that_is_not_empty(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    config = write_settings(tmp_path)
    run(config, "db", "upgrade", capsys=capsys)
    target = tmp_path / "backup"
    target.mkdir()
    (target / "notes.txt").write_text("của người khác")
    err = run(config, "backup", str(target), capsys=capsys, code=2)
    assert "không trống" in err
    assert sorted(p.name for p in target.iterdir()) == ["notes.txt"]


def users_of(config: Path) -> list[str]:
    from sqlmodel import col, select

    from core.db import reading
    from review.models import User

    _, engine = open_app(config)
    try:
        with reading(engine) as s:
            return list(s.exec(select(User.username).order_by(col(User.username))).all())
    finally:
        engine.dispose()


def test_postgres_restore_over_data_needs_force(
    tmp_path: Path, postgres_server: Postgres, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    import subprocess

    import toasoan.backup

    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    # The test server trusts loopback, so a password is accepted and ignored: enough to see where it goes.
    url_a = postgres_server.new_database().replace("//postgres@", "//postgres:kh%C3%B3a-b%C3%AD-m%E1%BA%ADt@")
    config_a = write_settings(tmp_path / "a", database_url=url_a)
    config_b = write_settings(tmp_path / "b", database_url=postgres_server.new_database())
    calls: list[tuple[list[str], dict[str, str]]] = []
    real_run = subprocess.run

    def recording_run(command: list[str], **kwargs: Any) -> Any:
        calls.append((command, kwargs["env"]))
        return real_run(command, **kwargs)

    monkeypatch.setattr(toasoan.backup.subprocess, "run", recording_run)
    for config, name in ((config_a, "lan"), (config_b, "hung")):
        _, engine = open_app(config)
        add_user(engine, name, "mật-khẩu-dài", role="editor")
        engine.dispose()
    run(config_a, "backup", str(tmp_path / "backup"), capsys=capsys)
    err = run(config_b, "restore", str(tmp_path / "backup"), capsys=capsys, code=2)
    assert "đã có dữ liệu" in err
    assert users_of(config_b) == ["hung"]
    run(config_b, "restore", str(tmp_path / "backup"), "--force", capsys=capsys)
    assert users_of(config_b) == ["lan"]
    [(dump_command, dump_env), *_] = calls
    assert dump_command[0].endswith("pg_dump") and dump_env["PGPASSWORD"] == "khóa-bí-mật"
    assert not any("kh%C3%B3a" in arg or "khóa" in arg for command, _ in calls for arg in command)


def test_the_postgres_password_travels_in_the_environment() -> None:
    from toasoan.backup import _pg_connection

    uri, env = _pg_connection("postgresql+psycopg://lan:b%C3%AD%20m%E1%BA%ADt@db.example:5433/toasoan?sslmode=require")
    assert uri == "postgresql://lan@db.example:5433/toasoan?sslmode=require"
    assert env["PGPASSWORD"] == "bí mật"


def test_an_unfinished_backup_is_named_as_such(
    backed_up: tuple[Path, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    backup_dir, _ = backed_up
    (backup_dir / "manifest.json").unlink()  # as a backup interrupted before its end leaves it
    err = run(tmp_path / "a" / "settings.toml", "backup", str(backup_dir), capsys=capsys, code=2)
    assert "bản sao lưu dở dang" in err and "không trống" in err
    inside = tmp_path / "a" / "var" / "storage" / "backup"
    err = run(tmp_path / "a" / "settings.toml", "backup", str(inside), capsys=capsys, code=2)
    assert "không được nằm trong thư mục lưu trữ" in err and not inside.exists()
