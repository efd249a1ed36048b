"""`toasoan status` and the admins' warning emails, on a real SQLite database: what each loop of the
worker last did, the warnings derived from it (mailbox down, worker silent, publisher paused, disk low,
outbox failing), one email when a warning starts and one when it ends, never two."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlmodel import col, select

from core.db import reading, transaction
from core.models import HealthAlert, OutboxMail
from core.runners import record_error, record_ok
from core.settings import Settings, load_settings
from publish.models import TargetState
from review.health import collect, sync_alerts
from tests.appkit import the_repository_settings
from tests.clijson import cli_json
from toasoan.cli import main
from toasoan.cli_status import EXIT_WARNINGS
from toasoan.database import open_database

NOW = datetime(2026, 12, 6, 3, 0, tzinfo=UTC)
ADMINS = ("quantri@example.org", "kythuat@example.org")


def office(tmp_path: Path, **worker: int) -> Path:
    text = the_repository_settings(tmp_path)
    text = text.replace("admin_emails = []", f"admin_emails = {json.dumps(list(ADMINS))}")
    for key, value in worker.items():  # [worker] keys, as settings.toml has them
        text, n = re.subn(rf"(?m)^{key} = .*$", f"{key} = {value}", text)
        assert n == 1, key
    path = tmp_path / "settings.toml"
    path.write_text(text, encoding="utf-8")
    return path


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return load_settings(office(tmp_path))


def codes(settings: Settings, now: datetime = NOW) -> list[str]:
    engine = open_database(settings)
    with reading(engine) as s:
        return [w.code for w in collect(settings, s, now).warnings]


def test_a_fresh_office_without_a_worker_says_so(settings: Settings, capsys: pytest.CaptureFixture[str]) -> None:
    out = cli_json(settings.path, "status", capsys=capsys, code=EXIT_WARNINGS)
    assert out["ok"] is False and out["last_sweep_at"] is None
    assert [w["code"] for w in out["warnings"]] == ["worker_silent"]
    assert out["quarantined"] == 0 and out["publish_failed"] == 0
    assert [j["job"] for j in out["next_jobs"]]  # the office calendar's next jobs are listed
    assert main(["--config", str(settings.path), "status"]) == EXIT_WARNINGS
    assert "Tiến trình nền (toasoan worker) không quét hộp thư lần nào" in capsys.readouterr().out


def test_a_worker_that_sweeps_leaves_no_warning(settings: Settings, capsys: pytest.CaptureFixture[str]) -> None:
    engine = open_database(settings)
    for runner in ("mailbox", "outbox", "publish", "period_jobs"):
        record_ok(engine, runner, NOW - timedelta(minutes=1))
    assert codes(settings) == []


def test_the_mailbox_is_reported_down_only_after_the_configured_minutes(settings: Settings) -> None:
    engine = open_database(settings)
    record_ok(engine, "mailbox", NOW - timedelta(minutes=30))
    record_error(engine, "mailbox", "MailboxError: connection refused", NOW - timedelta(minutes=20))
    record_error(engine, "mailbox", "MailboxError: connection refused", NOW - timedelta(minutes=1))
    assert codes(settings, NOW - timedelta(minutes=10)) == []  # failing for 10 of the 15 minutes allowed
    assert "mailbox_down" in codes(settings)
    with reading(engine) as s:
        down = next(w for w in collect(settings, s, NOW).warnings if w.code == "mailbox_down")
    assert "20 phút" in down.message and "connection refused" in down.message
    record_ok(engine, "mailbox", NOW)
    assert codes(settings) == []


def test_a_refused_folder_is_not_reported_as_a_network_fault(settings: Settings) -> None:
    engine = open_database(settings)
    error = "FolderError: máy chủ thư không cho tạo thư mục 'Đã xử lý' / the mail server refuses ..."
    record_error(engine, "mailbox", error, NOW - timedelta(minutes=20))
    with reading(engine) as s:
        down = next(w for w in collect(settings, s, NOW).warnings if w.code == "mailbox_down")
    assert down.message.startswith("Máy chủ thư từ chối thư mục từ ") and "không cho tạo thư mục" in down.message
    assert "Không kết nối" not in down.message


def test_paused_target_low_disk_and_failing_outbox_are_warnings(tmp_path: Path) -> None:
    settings = load_settings(office(tmp_path, disk_free_percent=101))  # no disk has 101% free
    engine = open_database(settings)
    record_ok(engine, "mailbox", NOW)
    with transaction(engine) as s:
        s.add(TargetState(target="wordpress", paused=True, reason="401 Unauthorized", since=NOW, alerted=True))
        s.add(
            OutboxMail(
                key="k1", to_addr="a@example.org", subject="x", message_id="<m@x>", body_text="x", status="failed"
            )
        )
    assert sorted(codes(settings)) == ["disk_low", "outbox_failing", "publisher_paused:wordpress"]


def admin_mails(settings: Settings) -> list[tuple[str, str]]:
    engine = open_database(settings)
    with reading(engine) as s:
        rows = s.exec(select(OutboxMail).where(OutboxMail.kind == "health_alert").order_by(col(OutboxMail.id))).all()
        return [(m.to_addr, m.subject) for m in rows]


def test_admins_get_one_email_when_a_warning_starts_and_one_when_it_ends(settings: Settings) -> None:
    engine = open_database(settings)
    record_ok(engine, "mailbox", NOW - timedelta(hours=1))
    record_error(engine, "mailbox", "MailboxError: timed out", NOW - timedelta(minutes=40))
    record_error(engine, "mailbox", "MailboxError: timed out", NOW - timedelta(minutes=1))  # still retrying
    assert sync_alerts(settings, engine, NOW) == (["mailbox_down"], [])
    assert sync_alerts(settings, engine, NOW + timedelta(minutes=1)) == ([], [])  # still down: no new mail
    mails = admin_mails(settings)
    assert sorted(to for to, _ in mails) == sorted(ADMINS)
    assert all(subject.startswith("[toasoan] Cảnh báo: Không kết nối được hộp thư") for _, subject in mails)

    record_ok(engine, "mailbox", NOW + timedelta(minutes=2))
    assert sync_alerts(settings, engine, NOW + timedelta(minutes=3)) == ([], ["mailbox_down"])
    assert sync_alerts(settings, engine, NOW + timedelta(minutes=4)) == ([], [])
    mails = admin_mails(settings)
    assert len(mails) == 4
    assert sorted(to for to, s in mails if s.startswith("[toasoan] Đã hết cảnh báo")) == sorted(ADMINS)
    with reading(engine) as s:
        assert s.exec(select(HealthAlert)).all() == []


def test_a_paused_target_is_mailed_by_publish_so_only_its_end_comes_from_here(settings: Settings) -> None:
    engine = open_database(settings)
    record_ok(engine, "mailbox", NOW)
    with transaction(engine) as s:
        s.add(TargetState(target="wordpress", paused=True, reason="401", since=NOW, alerted=True))
    assert sync_alerts(settings, engine, NOW) == (["publisher_paused:wordpress"], [])
    assert admin_mails(settings) == []
    with transaction(engine) as s:
        state = s.get(TargetState, "wordpress")
        assert state is not None
        state.paused = False
        s.add(state)
    assert sync_alerts(settings, engine, NOW + timedelta(minutes=1)) == ([], ["publisher_paused:wordpress"])
    assert len(admin_mails(settings)) == len(ADMINS)
