"""Intake from a local Maildir, end to end through the CLI's JSON: what an editor or a script sees."""

from __future__ import annotations

import email
import re
import shutil
import time
import unicodedata
from email.policy import default
from pathlib import Path

import pytest

from tests.appkit import write_settings
from tests.clijson import cli
from tests.servers import SmtpSink

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "intake"


def deliver(maildir: Path, *names: str) -> None:
    new = maildir / "new"
    new.mkdir(parents=True, exist_ok=True)
    for name in names:
        shutil.copy(FIXTURES / name, new / f"{name}.{len(list(new.iterdir()))}.host")


@pytest.fixture
def office(tmp_path: Path) -> tuple[Path, Path]:
    config = write_settings(tmp_path, ingest={"soffice": "soffice"})
    return config, tmp_path / "maildir"


def ingest(config: Path, capsys: pytest.CaptureFixture[str]) -> tuple[list[dict], list[dict]]:
    cli(config, "ingest", "--once", capsys=capsys)
    inbox = cli(config, "inbox", "list", "--json", capsys=capsys)
    drafts = cli(config, "drafts", "list", "--json", capsys=capsys)
    return inbox, drafts


def by_mid(inbox: list[dict]) -> dict[str, dict]:
    return {m["message_id"]: m for m in inbox}


def test_a_news_item_becomes_a_draft_with_a_receipt(
    office: tuple[Path, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    config, maildir = office
    deliver(maildir, "tin_ok.eml")
    inbox, drafts = ingest(config, capsys)
    [msg] = inbox
    assert msg["status"] == "accepted" and msg["reason"] is None
    assert msg["subject"] == "[BÀI CỘNG TÁC] Tin sinh hoạt chuyên đề quý IV"
    assert msg["sender"] == "lan.nguyen@vanphong.tinhuy.example"
    assert msg["message_id"] == "tin-ok@vanphong.tinhuy.example"
    [d] = drafts
    assert msg["draft_ids"] == [d["id"]]
    assert d["status"] == "pending_review" and d["kind"] == "tin" and d["unit"] == "VP"
    assert d["title"].lower() == "chi bộ văn phòng sinh hoạt chuyên đề quý iv"
    assert d["source_file"] == "Tin sinh hoạt chuyên đề.docx"
    assert "unknown_sender" not in d["warnings"]
    detail = cli(config, "drafts", "show", str(d["id"]), "--json", capsys=capsys)
    assert "Trần Minh Đức" in detail["body_html"] and "<script" not in detail["body_html"]
    assert detail["byline"] == "Nguyễn Thị Lan – Chi bộ Văn phòng"
    assert [i["content_type"] for i in detail["images"]] == ["image/jpeg"]
    assert detail["images"][0]["caption"].startswith("Ảnh: Quang cảnh")
    # The message left the watched folder for the processed one; nothing was lost.
    assert not list((maildir / "new").iterdir()) and not list((maildir / "cur").iterdir())
    assert len(list((maildir / ".Đã xử lý" / "cur").iterdir())) == 1
    # Exactly one receipt, in Vietnamese, with the tracking code, queued (no SMTP configured).
    [mail] = cli(config, "outbox", "list", "--json", capsys=capsys)
    assert mail["kind"] == "receipt" and mail["to"] == "lan.nguyen@vanphong.tinhuy.example"
    assert d["tracking_code"] in mail["subject"] and mail["status"] == "pending"


def test_running_twice_changes_nothing(office: tuple[Path, Path], capsys: pytest.CaptureFixture[str]) -> None:
    config, maildir = office
    deliver(maildir, "tin_ok.eml", "not_a_submission.eml")
    first = ingest(config, capsys)
    second = ingest(config, capsys)
    assert first == second
    assert len(cli(config, "outbox", "list", "--json", capsys=capsys)) == 1


def test_the_same_email_delivered_twice_is_one_record(
    office: tuple[Path, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    config, maildir = office
    raw = (FIXTURES / "tin_ok.eml").read_bytes()
    (maildir / "new").mkdir(parents=True)
    (maildir / "new" / "a").write_bytes(raw)
    # A second delivery of the same email: the MTA prepends its own trace fields.
    (maildir / "new" / "b").write_bytes(b"Return-Path: <x@y>\r\nReceived: from mx by mx2; Fri, 20 Nov 2026\r\n" + raw)
    inbox, drafts = ingest(config, capsys)
    assert len(inbox) == 1 and len(drafts) == 1


def test_other_mail_is_ignored_and_left_alone(office: tuple[Path, Path], capsys: pytest.CaptureFixture[str]) -> None:
    config, maildir = office
    deliver(maildir, "not_a_submission.eml")
    inbox, drafts = ingest(config, capsys)
    assert [(m["status"], m["reason"]) for m in inbox] == [("ignored", "not_a_submission")]
    assert drafts == []
    assert len(list((maildir / "new").iterdir()) + list((maildir / "cur").iterdir())) == 1  # untouched
    assert cli(config, "outbox", "list", "--json", capsys=capsys) == []


def test_duplicates(office: tuple[Path, Path], capsys: pytest.CaptureFixture[str]) -> None:
    config, maildir = office
    deliver(maildir, "tin_ok.eml")
    ingest(config, capsys)
    deliver(maildir, "duplicate_message_id.eml", "same_document_resent.eml")
    inbox, drafts = ingest(config, capsys)
    msgs = by_mid(inbox)
    assert len(inbox) == 3
    # Same Message-ID, other bytes: a re-delivery. The first stays accepted, the second is a duplicate.
    same = [m for m in inbox if m["message_id"] == "tin-ok@vanphong.tinhuy.example"]
    assert [(m["status"], m["reason"]) for m in same] == [("accepted", None), ("ignored", "duplicate")]
    dup = [m for m in inbox if m["reason"] == "duplicate"]
    assert len(dup) == 1 and dup[0]["status"] == "ignored"
    # The same Word file re-sent in a new email: linked to the existing draft, not a second pending one.
    resent = msgs["resent@vanphong.tinhuy.example"]
    assert resent["status"] == "accepted"
    assert len(drafts) == 1 and resent["draft_ids"] == [drafts[0]["id"]]


def test_photos_beside_the_file_and_kind_from_the_subject(
    office: tuple[Path, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    config, maildir = office
    deliver(maildir, "bai_photo_beside.eml")
    _, [d] = ingest(config, capsys)
    assert d["kind"] == "bai" and d["unit"] == "TC"
    detail = cli(config, "drafts", "show", str(d["id"]), "--json", capsys=capsys)
    [img] = detail["images"]
    assert img["content_type"] == "image/jpeg" and (img["width"], img["height"]) == (1600, 1200)
    assert img["web_width"] == 1200


def test_two_word_files_make_two_drafts(office: tuple[Path, Path], capsys: pytest.CaptureFixture[str]) -> None:
    config, maildir = office
    deliver(maildir, "two_documents.eml")
    [msg], drafts = ingest(config, capsys)
    assert len(drafts) == 2 and sorted(msg["draft_ids"]) == sorted(d["id"] for d in drafts)
    [mail] = cli(config, "outbox", "list", "--json", capsys=capsys)
    assert all(d["tracking_code"] in mail["subject"] for d in drafts)


def test_unknown_sender_still_reaches_the_queue(office: tuple[Path, Path], capsys: pytest.CaptureFixture[str]) -> None:
    config, maildir = office
    deliver(maildir, "unknown_sender.eml")
    _, [d] = ingest(config, capsys)
    assert d["unit"] is None and "unknown_sender" in d["warnings"]


def test_article_in_the_email_body(office: tuple[Path, Path], capsys: pytest.CaptureFixture[str]) -> None:
    config, maildir = office
    deliver(maildir, "body_article.eml")
    [msg], [d] = ingest(config, capsys)
    assert msg["status"] == "accepted" and "from_email_body" in d["warnings"]
    assert d["title"] == "Tin hiến máu tình nguyện" and d["kind"] == "tin"
    detail = cli(config, "drafts", "show", str(d["id"]), "--json", capsys=capsys)
    assert "Kính gửi" not in detail["body_html"] and "Lê Văn Hùng" not in detail["body_html"]


def test_forwarded_as_attachment(office: tuple[Path, Path], capsys: pytest.CaptureFixture[str]) -> None:
    config, maildir = office
    deliver(maildir, "forwarded.eml")
    [msg], [d] = ingest(config, capsys)
    assert msg["status"] == "accepted" and d["source_file"] == "Tin sinh hoạt chuyên đề.docx"


@pytest.mark.parametrize(
    ("fixture", "reason"),
    [
        ("no_document.eml", "no_document"),
        ("encrypted.eml", "encrypted_document"),
        ("corrupt.eml", "corrupt_document"),
        ("pdf_renamed.eml", "unsupported_document"),
        ("zip_bomb.eml", "too_large"),
    ],
)
def test_bad_input_is_quarantined_kept_and_explained(
    office: tuple[Path, Path], capsys: pytest.CaptureFixture[str], fixture: str, reason: str
) -> None:
    config, maildir = office
    deliver(maildir, fixture, "tin_ok.eml")  # the rest of the batch goes on
    inbox, drafts = ingest(config, capsys)
    bad = [m for m in inbox if m["status"] == "quarantined"]
    assert [(m["reason"]) for m in bad] == [reason]
    assert len(drafts) == 1
    # Kept: the raw message is in the spool and reprocessable.
    spool = list((config.parent / "var" / "storage" / "spool").rglob("*.eml"))
    assert len(spool) == 2
    # One polite Vietnamese email to the sender, saying what is wrong.
    notices = [m for m in cli(config, "outbox", "list", "--json", capsys=capsys) if m["kind"] == "quarantine_notice"]
    assert len(notices) == 1 and notices[0]["to"] == bad[0]["sender"]
    assert notices[0]["subject"] == "Bài cộng tác chưa được tiếp nhận — đề nghị gửi lại"


def test_one_broken_file_does_not_sink_the_good_one(
    office: tuple[Path, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    config, maildir = office
    deliver(maildir, "one_good_one_broken.eml")
    [msg], [d] = ingest(config, capsys)
    assert msg["status"] == "accepted" and msg["draft_ids"] == [d["id"]]
    assert [p["reason"] for p in msg["problems"]] == ["corrupt_document"]


def test_word97_waits_for_libreoffice_then_converts_on_retry(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    if not (FIXTURES / "word97_doc.eml").exists():
        pytest.fail("fixture word97_doc.eml missing: rebuild tests/fixtures/intake with LibreOffice installed")
    config = write_settings(tmp_path, ingest={"soffice": ""})  # LibreOffice "not installed"
    deliver(tmp_path / "maildir", "word97_doc.eml")
    [msg], drafts = ingest(config, capsys)
    assert (msg["status"], msg["reason"], drafts) == ("quarantined", "converter_missing", [])
    # The office's own problem: the contributor is not asked to resend.
    assert cli(config, "outbox", "list", "--json", capsys=capsys) == []
    write_settings(tmp_path, ingest={"soffice": "soffice"})  # LibreOffice installed
    cli(config, "inbox", "retry", str(msg["id"]), capsys=capsys)
    [msg] = cli(config, "inbox", "list", "--json", capsys=capsys)
    [d] = cli(config, "drafts", "list", "--json", capsys=capsys)
    assert msg["status"] == "accepted" and d["title"].lower().startswith("công đoàn cơ quan thăm hỏi")
    [mail] = cli(config, "outbox", "list", "--json", capsys=capsys)
    assert mail["kind"] == "receipt"


def test_receipt_text(office: tuple[Path, Path], capsys: pytest.CaptureFixture[str]) -> None:
    from core.db import reading
    from core.models import OutboxMail
    from core.settings import load_settings
    from toasoan.database import open_database

    config, maildir = office
    deliver(maildir, "tin_ok.eml")
    ingest(config, capsys)
    settings = load_settings(config)
    with reading(open_database(settings)) as s:
        from sqlmodel import select

        row = s.exec(select(OutboxMail)).one()
    body = row.body_text
    assert body.startswith("Kính gửi đồng chí Nguyễn Thị Lan,")
    assert "Mã theo dõi: TS-" in body and "(tin)" in body
    assert re.search(r"lúc \d\d:\d\d \d\d/\d\d/\d{4}", body)  # dd/mm/yyyy, office time
    msg = email.message_from_string(f"Subject: {row.subject}\n\n{body}", policy=default)
    assert msg["Subject"].startswith("Đã nhận bài cộng tác")


MAIL_FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "mail"
# Every subject form and client style of tests/fixtures/mail, as the pipeline must classify it.
EXPECTED = {
    "applemail_nfd_inline.eml": ("accepted", None, 1),
    "bounce_mailer_daemon.eml": ("ignored", "not_a_submission", 0),
    "exchange_tnef_body_only.eml": ("accepted", None, 1),
    "gmail_fwd_qp.eml": ("accepted", None, 1),
    "gmail_nested_forward.eml": ("accepted", None, 1),
    "outlook2003_cp1258_base64.eml": ("accepted", None, 1),
    "outlook_ascii_subject.eml": ("accepted", None, 1),
    "outlook_auto_reply.eml": ("ignored", "not_a_submission", 0),
    "outlook_tnef_winmail.eml": ("accepted", None, 1),
    "outlook_utf8_b64_split.eml": ("accepted", None, 1),
    "phpmailer_split_bytes.eml": ("accepted", None, 1),
    "thunderbird_flowed_rfc2231.eml": ("accepted", None, 1),
    "thunderbird_forward_attached.eml": ("accepted", None, 2),
    "webmail_cp1258_raw8bit.eml": ("accepted", None, 1),
    "webmail_cp1258_rfc2047.eml": ("accepted", None, 1),
    "webmail_utf8_raw8bit_html_only.eml": ("quarantined", "no_document", 0),
}


def test_every_client_style_and_subject_form(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    config = write_settings(tmp_path)
    new = tmp_path / "maildir" / "new"
    new.mkdir(parents=True)
    names = sorted(p.name for p in MAIL_FIXTURES.glob("*.eml"))
    assert names == sorted(EXPECTED)
    for i, name in enumerate(names):
        shutil.copy(MAIL_FIXTURES / name, new / f"{i:02d}.{name}")
    inbox, drafts = ingest(config, capsys)
    got = {m["subject"]: m for m in inbox}
    assert len(got) == len(names)
    for m in inbox:
        assert m["subject"] == unicodedata.normalize("NFC", m["subject"]) and "\ufffd" not in m["subject"]
    outcome = sorted((m["status"], m["reason"], len(m["draft_ids"])) for m in inbox)
    assert outcome == sorted(EXPECTED.values())
    # The raw 8-bit windows-1258 subject is recovered with its accents.
    assert any(s.startswith("Bài cộng tác") and "Đảng ủy phường" in s for s in got)
    assert len(drafts) == sum(n for *_, n in EXPECTED.values())


def test_receipts_wait_while_smtp_is_down_then_go_once(
    tmp_path: Path, smtp_sink: SmtpSink, capsys: pytest.CaptureFixture[str]
) -> None:
    smtp = {"host": smtp_sink.host, "port": smtp_sink.port, "security": "none"}
    config = write_settings(tmp_path, smtp=smtp)
    smtp_sink.stop()  # the office's mail server is down
    deliver(tmp_path / "maildir", "tin_ok.eml", "no_document.eml")
    inbox, _ = ingest(config, capsys)  # intake does not depend on SMTP
    assert sorted(m["status"] for m in inbox) == ["accepted", "quarantined"]
    # The first send failed and is retried with backoff; the rest of the queue waits behind it.
    assert sorted(m["status"] for m in cli(config, "outbox", "list", "--json", capsys=capsys)) == [
        "pending",
        "retrying",
    ]
    smtp_sink.start()
    time.sleep(2.5)  # past the test settings' backoff (1 s, then 2 s)
    cli(config, "outbox", "send", capsys=capsys)
    cli(config, "ingest", "--once", capsys=capsys)  # nothing new: no second receipt
    cli(config, "outbox", "send", capsys=capsys)
    got = smtp_sink.wait_for(2)
    time.sleep(0.5)
    assert len(smtp_sink.messages) == 2
    subjects = sorted(email.message_from_bytes(m.raw, policy=default)["Subject"] for m in got)
    assert subjects[0] == "Bài cộng tác chưa được tiếp nhận — đề nghị gửi lại"
    assert subjects[1].startswith("Đã nhận bài cộng tác — mã theo dõi TS-")
    assert {m["status"] for m in cli(config, "outbox", "list", "--json", capsys=capsys)} == {"succeeded"}


def test_the_original_file_stays_downloadable(
    office: tuple[Path, Path], capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    import io

    from docx import Document

    config, maildir = office
    deliver(maildir, "tin_ok.eml", "body_article.eml")
    _, drafts = ingest(config, capsys)
    by_format = {d["source_format"]: d for d in drafts}
    out = tmp_path / "goc.docx"
    cli(config, "drafts", "source", str(by_format["docx"]["id"]), "--output", str(out), capsys=capsys)
    paragraphs = [p.text for p in Document(io.BytesIO(out.read_bytes())).paragraphs]
    assert "CHI BỘ VĂN PHÒNG SINH HOẠT CHUYÊN ĐỀ QUÝ IV" in paragraphs
    eml = tmp_path / "goc.eml"
    cli(config, "drafts", "source", str(by_format["email"]["id"]), "-o", str(eml), capsys=capsys)
    assert eml.read_bytes() == (FIXTURES / "body_article.eml").read_bytes()
