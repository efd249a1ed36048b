"""The outbox against a real SMTP server: one email per event, retried while the server is down."""

from __future__ import annotations

import email
from datetime import timedelta
from email.policy import default
from pathlib import Path
from typing import Any

import pytest
from sqlmodel import select

from core.db import reading, transaction, utcnow
from core.models import OutboxMail, OutboxStatus
from core.outbox import deliver_due, enqueue
from tests.appkit import open_app, write_settings
from tests.servers import SmtpSink


def _queue(settings, engine, key: str = "receipt:abc", to: str = "an@vanphong.tinhuy.example") -> None:
    with transaction(engine) as s:
        enqueue(
            s,
            settings,
            key=key,
            kind="receipt",
            to=to,
            subject="Đã nhận bài cộng tác — mã theo dõi TS-2026-00001",
            body="Kính gửi đồng chí,\nBan Biên tập đã nhận được bài.",
            in_reply_to="<orig@x>",
        )


def _smtp_options(sink: SmtpSink) -> dict[str, object]:
    opts: dict[str, object] = {"host": sink.host, "port": sink.port, "security": sink.security, "ca_file": sink.cert}
    if sink.username:
        opts.update(username=sink.username, password_env="TEST_SMTP_PW")
    return opts


@pytest.mark.parametrize(
    "smtp_sink",
    [
        {"security": "none"},
        {"security": "starttls", "username": "toasoan", "password": "mật-khẩu"},
        {"security": "tls", "username": "toasoan", "password": "pw"},
    ],
    indirect=True,
)
def test_sends_once_in_every_security_mode(
    tmp_path: Path, smtp_sink: SmtpSink, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TEST_SMTP_PW", smtp_sink.password or "")
    settings, engine = open_app(write_settings(tmp_path, smtp=_smtp_options(smtp_sink)))
    _queue(settings, engine)
    _queue(settings, engine)  # the same event again: still one email
    report = deliver_due(engine, settings)
    assert report.sent == 1
    [msg] = smtp_sink.wait_for(1)
    parsed = email.message_from_bytes(msg.raw, policy=default)
    assert parsed["Subject"] == "Đã nhận bài cộng tác — mã theo dõi TS-2026-00001"
    assert "Ban Biên tập đã nhận được bài." in parsed.get_content()
    assert parsed["In-Reply-To"] == "<orig@x>"
    assert parsed["Auto-Submitted"] == "auto-replied"
    assert msg.rcpt_tos == ["an@vanphong.tinhuy.example"]
    assert deliver_due(engine, settings).sent == 0  # nothing left
    if smtp_sink.username:
        assert smtp_sink.logins == ["toasoan"]


def test_smtp_down_then_up(tmp_path: Path, smtp_sink: SmtpSink) -> None:
    settings, engine = open_app(write_settings(tmp_path, smtp=_smtp_options(smtp_sink)))
    _queue(settings, engine, key="a")
    _queue(settings, engine, key="b")
    smtp_sink.stop()
    now = utcnow()
    report = deliver_due(engine, settings, now=now)
    assert report.sent == 0 and report.retrying == 1  # the rest of the queue waits for the server
    with reading(engine) as s:
        rows = {m.key: m for m in s.exec(select(OutboxMail)).all()}
    assert rows["a"].status == OutboxStatus.retrying and rows["a"].attempts == 1
    assert rows["a"].next_attempt_at > now and rows["a"].last_error
    assert deliver_due(engine, settings, now=now).sent == 0  # not due yet: backoff
    smtp_sink.start()
    report = deliver_due(engine, settings, now=now + timedelta(seconds=5))
    assert report.sent == 2
    assert len(smtp_sink.wait_for(2)) == 2
    with reading(engine) as s:
        assert {m.status for m in s.exec(select(OutboxMail)).all()} == {OutboxStatus.succeeded}


class _RefusingServer:
    """An SMTP server that refuses every recipient with 550, as a real one does for a dead address."""

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        return f"550 5.1.1 <{address}>: Recipient address rejected: User unknown"


def test_permanent_refusal_is_not_retried(tmp_path: Path) -> None:
    from aiosmtpd.controller import Controller

    from tests.servers import free_port

    controller = Controller(_RefusingServer(), hostname="127.0.0.1", port=free_port())
    controller.start()
    try:
        smtp = {"host": "127.0.0.1", "port": controller.port, "security": "none"}
        settings, engine = open_app(write_settings(tmp_path, smtp=smtp))
        _queue(settings, engine, to="nobody@vanphong.tinhuy.example")
        report = deliver_due(engine, settings)
    finally:
        controller.stop()
    assert (report.sent, report.retrying, report.failed) == (0, 0, 1)
    with reading(engine) as s:
        row = s.exec(select(OutboxMail)).one()
    assert row.status == OutboxStatus.failed and "refused" in (row.last_error or "")


def test_without_smtp_mail_waits(tmp_path: Path) -> None:
    settings, engine = open_app(write_settings(tmp_path))
    _queue(settings, engine)
    assert deliver_due(engine, settings).sent == 0
    with reading(engine) as s:
        assert s.exec(select(OutboxMail)).one().status == OutboxStatus.pending


def test_a_claim_left_by_a_dead_sender_is_retried(tmp_path: Path, smtp_sink: SmtpSink) -> None:
    settings, engine = open_app(write_settings(tmp_path, smtp=_smtp_options(smtp_sink)))
    _queue(settings, engine)
    with transaction(engine) as s:  # a process claimed it, then died before sending
        row = s.exec(select(OutboxMail)).one()
        row.status = OutboxStatus.in_progress
        row.next_attempt_at = utcnow() - timedelta(hours=1)
        s.add(row)
    assert deliver_due(engine, settings).sent == 1
    assert len(smtp_sink.wait_for(1)) == 1


def test_long_vietnamese_subjects_keep_every_space(tmp_path: Path) -> None:
    from core.outbox import build_message, wire_bytes

    settings, engine = open_app(write_settings(tmp_path, smtp={"host": "127.0.0.1", "port": 25}))
    subject = "[TS-2026-00001] Bài “CHI BỘ VĂN PHÒNG SINH HOẠT CHUYÊN ĐỀ QUÝ IV” đã được duyệt"
    with transaction(engine) as s:
        enqueue(s, settings, key="k", kind="x", to="a@b.vn", subject=subject, body="x")
    with reading(engine) as s:
        row = s.exec(select(OutboxMail)).one()
    assert settings.smtp is not None
    raw = wire_bytes(build_message(row, settings.smtp))
    assert email.message_from_bytes(raw, policy=default)["Subject"] == subject
    assert all(len(line) <= 78 for line in raw.split(b"\r\n"))


def test_a_sender_killed_after_the_server_took_the_mail_does_not_send_it_twice(
    tmp_path: Path, smtp_sink: SmtpSink, monkeypatch: pytest.MonkeyPatch
) -> None:
    import core.db
    import core.outbox

    settings, engine = open_app(write_settings(tmp_path, smtp=_smtp_options(smtp_sink)))
    _queue(settings, engine)
    real = core.db.transaction  # what core.outbox imported, patched there below

    calls = []

    def killed(engine: Any) -> Any:  # the process dies waiting to write "succeeded"
        calls.append(1)
        if len(calls) == 1:  # the recovery of old claims, before sending
            return real(engine)
        raise SystemExit("SIGKILL")

    monkeypatch.setattr(core.outbox, "transaction", killed)
    with pytest.raises(SystemExit):
        deliver_due(engine, settings)
    assert len(smtp_sink.wait_for(1)) == 1  # the server has it
    monkeypatch.setattr(core.outbox, "transaction", real)
    with reading(engine) as s:
        assert s.exec(select(OutboxMail)).one().status == OutboxStatus.in_progress
    # The next worker takes the outbox over: the claim the dead one left is due at once...
    report = deliver_due(engine, settings, orphans_before=utcnow())
    assert report.sent == 1  # ...and counted as sent, without sending it again
    assert len(smtp_sink.messages) == 1
    with reading(engine) as s:
        assert s.exec(select(OutboxMail)).one().status == OutboxStatus.succeeded
    assert not list((tmp_path / "var" / "storage" / "outbox-accepted").iterdir())  # the mark is gone
