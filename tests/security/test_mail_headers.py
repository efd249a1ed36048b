"""Issue 7, item 1: no contributor text reaches the headers of the office's mail unless it is proven safe.

The attacker sends a submission whose Message-ID or References hold an RFC 2047 word decoding to CRLF +
"Bcc: victim@evil.test" (Python 3.11.7 writes such a decoded CRLF raw, CVE-2024-6923). What reaches a
real SMTP server must carry no injected header and no extra recipient, and still thread by tracking
code. A row forged in the outbox with a line break in a header fails with its reason, and the next
row is still delivered.
"""

from __future__ import annotations

import email
from email.message import EmailMessage
from email.policy import SMTP, default
from pathlib import Path
from typing import Any

import pytest
from sqlmodel import col, select

from core.db import reading, transaction
from core.models import Draft, OutboxMail, OutboxStatus
from core.outbox import deliver_due, enqueue, message_id_for
from ingest.models import InboundMessage
from tests.appkit import open_app, write_settings
from tests.fixtures.intake.build import BODY, DOCX_TYPE, docx, submission
from tests.servers import SmtpSink
from toasoan.cli import main

SENDER = "lan.nguyen@vanphong.tinhuy.example"
ORIGINAL_ID = b"Message-ID: <submission-1@vanphong.tinhuy.example>"
Q_CRLF = "=?utf-8?q?=0D=0ABcc:_victim@evil.test?="
B_CRLF = "=?utf-8?b?DQpCY2M6IHZpY3RpbUBldmlsLnRlc3Q=?="  # "\r\nBcc: victim@evil.test"

HOSTILE_HEADERS = {
    "message-id-q-word": f"Message-ID: <{Q_CRLF}@x.example>",
    "message-id-b-word": f"Message-ID: <{B_CRLF}@x.example>",
    "message-id-without-brackets": f"Message-ID: {Q_CRLF}",
    "references": f"Message-ID: <ok-1@x.example>\r\nReferences: <ok-0@x.example> <a{Q_CRLF}@x.example>",
}


def _office(tmp_path: Path, sink: SmtpSink) -> Path:
    return write_settings(tmp_path, smtp={"host": sink.host, "port": sink.port, "security": "none"})


def _deliver(config: Path, raw: bytes, name: str) -> None:
    new = config.parent / "maildir" / "new"
    new.mkdir(parents=True, exist_ok=True)
    (new / name).write_bytes(raw)


def _cli(config: Path, *args: str) -> None:
    assert main(["--config", str(config), *args]) == 0


def _header_block(raw: bytes) -> bytes:
    return raw.split(b"\r\n\r\n", 1)[0]


@pytest.mark.parametrize("hostile", HOSTILE_HEADERS.values(), ids=HOSTILE_HEADERS.keys())
def test_an_injected_message_id_reaches_no_outgoing_header(tmp_path: Path, smtp_sink: SmtpSink, hostile: str) -> None:
    config = _office(tmp_path, smtp_sink)
    raw = submission(1)
    assert ORIGINAL_ID in raw
    _deliver(config, raw.replace(ORIGINAL_ID, hostile.encode("ascii")), "1")
    _cli(config, "ingest", "--once")
    _cli(config, "outbox", "send")

    [got] = smtp_sink.messages
    assert got.rcpt_tos == [SENDER]  # no extra recipient
    head = _header_block(got.raw)
    assert b"victim" not in head and b"evil.test" not in head
    receipt = email.message_from_bytes(got.raw, policy=default)
    assert "Bcc" not in receipt and "Cc" not in receipt
    assert all("\r" not in str(v) and "\n" not in str(v) for v in receipt.values())
    _settings, engine = open_app(config)
    with reading(engine) as s:
        [draft] = s.exec(select(Draft)).all()
        [inbound] = s.exec(select(InboundMessage)).all()
    assert draft.tracking_code in receipt["Subject"]  # replies find the draft by its code
    if "References" in hostile:  # the plain ids are kept, the hostile one is dropped
        assert receipt["In-Reply-To"] == "<ok-1@x.example>"
        assert receipt["References"] == "<ok-0@x.example> <ok-1@x.example>"
    else:  # nothing safe to thread on: no In-Reply-To at all, and nothing stored for later mail
        assert receipt["In-Reply-To"] is None and receipt["References"] is None
        assert inbound.message_id is None and draft.message_id is None

    # The contributor answers the receipt: the reply still finds its draft (by the tracking code).
    reply = EmailMessage()
    reply["From"] = f"Nguyễn Thị Lan <{SENDER}>"
    reply["To"] = "bientap@tinhuy.example"
    reply["Subject"] = f"Re: {receipt['Subject']}"
    reply["Message-ID"] = "<reply-1@vanphong.tinhuy.example>"
    reply["In-Reply-To"] = receipt["Message-ID"]
    reply.set_content("Em gửi lại bài đã sửa ạ.")
    revised = docx("Chi bộ Văn phòng sinh hoạt chuyên đề (bản sửa)", BODY, byline="Nguyễn Thị Lan")
    reply.add_attachment(revised, maintype="application", subtype=DOCX_TYPE.split("/")[1], filename="sua.docx")
    _deliver(config, reply.as_bytes(policy=SMTP), "2")
    _cli(config, "ingest", "--once")
    with reading(engine) as s:
        [again] = s.exec(select(Draft)).all()
    assert again.id == draft.id and again.revision == 2


# A row written straight into the outbox (a bug, a hand-edited database): its header would break out.
FORGED = {
    "raw-crlf-in-a-header": {"headers": {"In-Reply-To": "<a@x>\r\nBcc: victim@evil.test"}},
    "encoded-crlf-in-a-header": {"headers": {"References": f"<{Q_CRLF}@x>"}},
    "encoded-crlf-in-the-subject": {"subject": f"Đã nhận {Q_CRLF}"},
    "raw-crlf-in-the-recipient": {"to_addr": "an@vanphong.tinhuy.example\r\nBcc: victim@evil.test"},
}


@pytest.mark.parametrize("forged", FORGED.values(), ids=FORGED.keys())
def test_a_forged_row_fails_with_its_reason_and_the_next_one_is_sent(
    tmp_path: Path, smtp_sink: SmtpSink, forged: dict[str, object]
) -> None:
    settings, engine = open_app(_office(tmp_path, smtp_sink))
    with transaction(engine) as s:
        values: dict[str, Any] = {
            "key": "forged",
            "kind": "receipt",
            "to_addr": "an@vanphong.tinhuy.example",
            "subject": "Đã nhận bài cộng tác",
            "body_text": "Kính gửi đồng chí.",
            "message_id": message_id_for("forged", "tinhuy.example"),
            **forged,
        }
        s.add(OutboxMail(**values))
        s.flush()
        enqueue(s, settings, key="good", kind="receipt", to=SENDER, subject="Đã nhận — TS-2026-00001", body="x")

    report = deliver_due(engine, settings)

    assert (report.sent, report.failed, report.retrying) == (1, 1, 0)
    [got] = smtp_sink.messages
    assert got.rcpt_tos == [SENDER] and b"victim" not in got.raw
    with reading(engine) as s:
        rows = {m.key: m for m in s.exec(select(OutboxMail).order_by(col(OutboxMail.id))).all()}
    assert rows["forged"].status == OutboxStatus.failed
    assert "unsafe header" in (rows["forged"].last_error or "")
    assert rows["good"].status == OutboxStatus.succeeded
