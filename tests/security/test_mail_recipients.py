"""Issue 7, item 2: the office's mail cannot be aimed at third parties.

Anyone can write to the contributor mailbox and choose the From, Reply-To, subject, display name, title
and file names. Automatic mail goes to the From only, echoes nothing a stranger wrote, is capped per
address and day, and is not sent at all when our receiving server found the From forged (DMARC/SPF).
Everything goes through a real SMTP server (the sink) and, for the draft page, the real web app.
"""

from __future__ import annotations

import email
import re
from email.message import EmailMessage
from email.policy import default
from pathlib import Path

import pytest
from sqlmodel import col, select

from core.db import reading
from core.models import Draft, OutboxMail, OutboxStatus
from review.auth import add_user
from tests.appkit import open_app
from tests.fixtures.intake.build import BODY, DOCX_TYPE, docx, email_message, submission
from tests.review.webkit import Office, text_of
from tests.security.test_mail_headers import SENDER, _cli, _deliver, _office
from tests.servers import SmtpSink

STRANGER = ("Bấm vào phish.test nhận quà", "stranger@example.org")
HOSTILE = re.compile(r"phish|bấm|quà", re.IGNORECASE)  # every piece of text the stranger chose holds one


def _received(sink: SmtpSink) -> list[EmailMessage]:
    return [email.message_from_bytes(m.raw, policy=default) for m in sink.messages]


def _visible_text(msg: EmailMessage) -> str:
    """Everything a reader of the mail sees: every header (decoded) and the body."""
    headers = "\n".join(f"{k}: {v}" for k, v in msg.items())
    return headers + "\n" + msg.get_content()


def _outbox(config: Path) -> list[OutboxMail]:
    _settings, engine = open_app(config)
    with reading(engine) as s:
        return list(s.exec(select(OutboxMail).order_by(col(OutboxMail.id))).all())


def test_automatic_mail_goes_to_the_from_never_to_reply_to(tmp_path: Path, smtp_sink: SmtpSink) -> None:
    config = _office(tmp_path, smtp_sink)
    raw = submission(1).replace(b"\r\nSubject:", b"\r\nReply-To: victim@evil.test\r\nSubject:", 1)
    _deliver(config, raw, "1")
    _cli(config, "ingest", "--once")
    _cli(config, "outbox", "send")
    [got] = smtp_sink.messages
    assert got.rcpt_tos == [SENDER]
    assert email.message_from_bytes(got.raw, policy=default)["To"] == SENDER
    assert b"victim" not in got.raw


def test_a_stranger_gets_back_nothing_they_wrote(tmp_path: Path, smtp_sink: SmtpSink) -> None:
    config = _office(tmp_path, smtp_sink)
    article = docx("Nhận quà tại phish.test", BODY, byline="Bấm vào phish.test")
    submitted = email_message(
        subject="[BÀI CỘNG TÁC] Trúng thưởng, bấm vào phish.test",
        sender=STRANGER,
        body="Bấm vào http://phish.test/qua để nhận quà.",
        attachments=[
            ("phish.test-qua.docx", DOCX_TYPE, article),
            ("phish.test-hong.docx", DOCX_TYPE, b"not a word file at all"),  # listed as a problem
        ],
        message_id="lure-1@example.org",
    )
    no_file = email_message(
        subject="[BÀI CỘNG TÁC] Bấm vào phish.test", sender=STRANGER, body="Quà!", message_id="lure-2@example.org"
    )
    _deliver(config, submitted, "1")
    _deliver(config, no_file, "2")
    _cli(config, "ingest", "--once")
    _settings, engine = open_app(config)
    add_user(engine, "duyet", "mật-khẩu-dài-thử", role="chief")
    with reading(engine) as s:
        [draft] = s.exec(select(Draft)).all()
    assert HOSTILE.search(draft.title)  # the editors do see it, and the decision mail would
    _cli(config, "drafts", "approve", str(draft.id), "--by", "duyet", "--category", "tin-hoat-dong")
    _cli(config, "outbox", "send")

    mails = _received(smtp_sink)
    assert sorted(m["Subject"] for m in mails) == sorted(
        [
            f"Đã nhận bài cộng tác — mã theo dõi {draft.tracking_code}",
            "Bài cộng tác chưa được tiếp nhận — đề nghị gửi lại",
            f"[{draft.tracking_code}] Bài đã được duyệt",
        ]
    )
    for msg in mails:
        text = _visible_text(msg)
        assert not HOSTILE.search(text), text
        assert msg["To"] == STRANGER[1] and "Kính gửi đồng chí,\n" in text
    receipt = next(m for m in mails if m["Subject"].startswith("Đã nhận")).get_content()
    assert f"Mã theo dõi: {draft.tracking_code}" in receipt and "chưa đọc được tệp sau" in receipt


def test_at_most_20_automatic_mails_a_day_to_one_address(tmp_path: Path, smtp_sink: SmtpSink) -> None:
    config = _office(tmp_path, smtp_sink)
    for n in range(25):  # articles typed into the email: no Word conversion, the same path otherwise
        raw = email_message(
            subject=f"[BÀI CỘNG TÁC] Tin sinh hoạt chi bộ số {n}",
            sender=("Nguyễn Thị Lan", SENDER),
            body="\n\n".join([f"Tin số {n}.", *BODY]),
            message_id=f"flood-{n}@vanphong.tinhuy.example",
        )
        _deliver(config, raw, f"{n:02d}")
    _cli(config, "ingest", "--once")
    _cli(config, "outbox", "send")
    _cli(config, "outbox", "send")  # a second run sends nothing more

    assert len(smtp_sink.messages) == 20
    rows = _outbox(config)
    assert len(rows) == 25  # every receipt is on record, for the editors
    assert sorted(r.status for r in rows) == [OutboxStatus.succeeded] * 20 + [OutboxStatus.suppressed] * 5
    suppressed = [r for r in rows if r.status == OutboxStatus.suppressed]
    assert all("20" in (r.last_error or "") and "24" in (r.last_error or "") for r in suppressed)


def test_one_quarantine_notice_a_day_per_sender(tmp_path: Path, smtp_sink: SmtpSink) -> None:
    config = _office(tmp_path, smtp_sink)
    for n in range(2):
        raw = email_message(
            subject=f"[BÀI CỘNG TÁC] Tin số {n}",
            sender=("Nguyễn Thị Lan", SENDER),
            body="Em gửi bài ạ.",  # the file was forgotten: quarantined as no_document
            message_id=f"forgot-{n}@vanphong.tinhuy.example",
        )
        _deliver(config, raw, str(n))
    _cli(config, "ingest", "--once")
    _cli(config, "outbox", "send")

    [got] = _received(smtp_sink)
    assert got["Subject"] == "Bài cộng tác chưa được tiếp nhận — đề nghị gửi lại"
    assert sorted(r.status for r in _outbox(config)) == [OutboxStatus.succeeded, OutboxStatus.suppressed]


# Authentication-Results as our receiving server stamps them (topmost), and what a sender may add below.
VERDICTS = {
    "dmarc-fail": ["mx.tinhuy.example; spf=pass smtp.mailfrom=x; dkim=none; dmarc=fail (p=none) header.from=x"],
    "spf-fail-no-dkim": ["mx.tinhuy.example; spf=fail smtp.mailfrom=vanphong.tinhuy.example; dkim=none"],
    "forged-pass-below": [
        "mx.tinhuy.example; dmarc=fail (p=quarantine) header.from=vanphong.tinhuy.example",
        "mx.tinhuy.example; spf=pass; dkim=pass header.d=vanphong.tinhuy.example; dmarc=pass",
    ],
}


@pytest.mark.parametrize("stamps", VERDICTS.values(), ids=VERDICTS.keys())
def test_a_forged_sender_gets_no_mail_and_the_editor_is_warned(
    office: Office, smtp_sink: SmtpSink, stamps: list[str]
) -> None:
    with office.config.open("a", encoding="utf-8") as fh:  # the office's SMTP server, for `outbox send`
        fh.write('\n[smtp]\nsender = "toasoan@tinhuy.example"\nsecurity = "none"\n')
        fh.write(f'host = "{smtp_sink.host}"\nport = {smtp_sink.port}\n')
    stamped = b"".join(f"Authentication-Results: {v}\r\n".encode() for v in stamps)
    office.deliver(stamped + submission(1))
    office.ingest()
    [draft] = office.drafts()
    assert "sender_unverified" in draft.warnings

    editor = office.signed_in("editor")
    page = editor.get(f"/drafts/{draft.id}")
    assert page.status_code == 200
    assert "Người gửi chưa xác thực" in text_of(page.text)
    chief = office.signed_in("chief")
    r = chief.submit(f"/drafts/{draft.id}", f"/drafts/{draft.id}/approve", category="tin-hoat-dong")
    assert r.status_code == 303 and office.draft(draft.id).status == "approved"
    _cli(office.config, "outbox", "send")

    assert smtp_sink.messages == []  # no receipt, no decision: the From may be anyone's address
    assert _outbox(office.config) == []
