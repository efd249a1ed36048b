"""The board's decisions through the command line (the same service the web UI uses): state machine,
roles, revision guard, audit log, and the contributor's emails — including the reply that brings a
revised file back through a real SMTP hop and Dovecot as revision 2."""

from __future__ import annotations

import email
import shutil
from email.message import EmailMessage
from email.policy import SMTP, default
from pathlib import Path
from typing import Any

import pytest
from sqlmodel import select

from core.db import reading
from core.drafts import DraftError
from core.models import Draft, OutboxMail
from review import service
from review.auth import add_user, get_user
from tests.appkit import at_once, open_app, write_settings
from tests.clijson import cli
from tests.fixtures.intake.build import BODY, DOCX_TYPE, docx
from tests.servers import MailUser
from toasoan.cli import main

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "intake"
PASSWORD = "mật-khẩu-dài"


@pytest.fixture
def office(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> Path:
    config = write_settings(tmp_path)
    new = tmp_path / "maildir" / "new"
    new.mkdir(parents=True)
    shutil.copy(FIXTURES / "tin_ok.eml", new / "1")
    shutil.copy(FIXTURES / "bai_photo_beside.eml", new / "2")
    assert main(["--config", str(config), "ingest", "--once"]) == 0
    _settings, engine = open_app(config)
    add_user(engine, "lan", PASSWORD, role="editor", full_name="Lê Thị Lan")
    add_user(engine, "duyet", PASSWORD, role="chief", full_name="Trần Văn Duyệt")
    add_user(engine, "xem", PASSWORD, role="viewer")
    return config


def draft_ids(config: Path, capsys: pytest.CaptureFixture[str]) -> list[int]:
    """[the news item's id, the article's id]: ids follow completion order (messages convert in parallel)."""
    by_kind = {d["kind"]: d["id"] for d in cli(config, "drafts", "list", "--json", capsys=capsys)}
    return [by_kind["tin"], by_kind["bai"]]


def decision_mails(config: Path) -> list[OutboxMail]:
    _settings, engine = open_app(config)
    with reading(engine) as s:
        return [m for m in s.exec(select(OutboxMail)).all() if m.kind.startswith("decision_")]


def test_users_add_reads_the_password_from_stdin(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    import io

    config = write_settings(tmp_path)
    monkeypatch.setattr("sys.stdin", io.StringIO("một mật khẩu đủ dài\n"))
    cli(config, "users", "add", "Hoa", "--role", "chief", capsys=capsys)
    settings, engine = open_app(config)
    from review.auth import sign_in

    assert sign_in(engine, settings, "hoa", "một mật khẩu đủ dài", address="127.0.0.1").user.role == "chief"
    monkeypatch.setattr("sys.stdin", io.StringIO("ngắn\n"))
    cli(config, "users", "add", "hoa2", "--role", "editor", capsys=capsys, code=1)


def test_approve_with_the_default_coefficient(office: Path, capsys: pytest.CaptureFixture[str]) -> None:
    tin, _bai = draft_ids(office, capsys)
    d = cli(
        office, "drafts", "approve", str(tin), "--by", "lan", "--category", "tin-hoat-dong", "--json", capsys=capsys
    )
    assert d["status"] == "approved" and d["coefficient"] == "1.00" and d["category"] == "tin-hoat-dong"
    history = cli(office, "drafts", "history", str(tin), "--json", capsys=capsys)
    assert [(e["action"], e["from_status"], e["to_status"]) for e in history] == [
        ("received", None, "pending_review"),
        ("approved", "pending_review", "approved"),
    ]
    assert history[1]["actor"] == "lan" and history[1]["at"].endswith("+00:00")
    assert set(history[0]) >= {"at", "actor", "action", "from_status", "to_status", "note"}
    [mail] = decision_mails(office)
    assert mail.kind == "decision_approved" and mail.to_addr == "lan.nguyen@vanphong.tinhuy.example"
    assert mail.subject.startswith(f"[{d['tracking_code']}] Bài “") and "đã được duyệt" in mail.subject
    assert "Kính gửi đồng chí Nguyễn Thị Lan" in mail.body_text


def test_only_the_head_sets_the_coefficient_within_the_range(office: Path, capsys: pytest.CaptureFixture[str]) -> None:
    tin, bai = draft_ids(office, capsys)
    err = cli(office, "drafts", "approve", str(tin), "--by", "lan", "--coefficient", "2", capsys=capsys, code=1)
    assert "không có quyền" in err.err
    err = cli(office, "drafts", "approve", str(tin), "--by", "duyet", "--coefficient", "12", capsys=capsys, code=1)
    assert "từ 0.5 đến 10" in err.err or "từ 0 đến 10" in err.err
    d = cli(office, "drafts", "approve", str(bai), "--by", "duyet", "--coefficient", "12,5", "--json", capsys=capsys)
    assert (d["kind"], d["coefficient"]) == ("bai", "12.50")  # articles go up to 30
    err = cli(office, "drafts", "reject", str(tin), "--by", "xem", "--reason", "x", capsys=capsys, code=1)
    assert "không có quyền" in err.err


def test_two_step_approval(tmp_path: Path, office: Path, capsys: pytest.CaptureFixture[str]) -> None:
    text = office.read_text(encoding="utf-8") + "\n[review]\ntwo_step = true\n"
    office.write_text(text, encoding="utf-8")
    tin, _ = draft_ids(office, capsys)
    d = cli(office, "drafts", "approve", str(tin), "--by", "lan", "--json", capsys=capsys)
    assert d["status"] == "proposed"
    assert decision_mails(office) == []  # nothing is told to the contributor before the head decides
    d = cli(office, "drafts", "approve", str(tin), "--by", "duyet", "--json", capsys=capsys)
    assert d["status"] == "approved"
    actions = [e["action"] for e in cli(office, "drafts", "history", str(tin), "--json", capsys=capsys)]
    assert actions == ["received", "proposed", "approved"]


def test_reject_needs_a_reason_and_tells_the_contributor_once(office: Path, capsys: pytest.CaptureFixture[str]) -> None:
    tin, _ = draft_ids(office, capsys)
    cli(office, "drafts", "reject", str(tin), "--by", "lan", "--reason", "  ", capsys=capsys, code=1)
    d = cli(
        office,
        "drafts",
        "reject",
        str(tin),
        "--by",
        "lan",
        "--reason",
        "Trùng nội dung đã đăng",
        "--json",
        capsys=capsys,
    )
    assert d["status"] == "rejected"
    cli(office, "drafts", "reject", str(tin), "--by", "duyet", "--reason", "lần nữa", capsys=capsys, code=1)
    [mail] = decision_mails(office)
    assert "Lý do: Trùng nội dung đã đăng" in mail.body_text


def test_two_people_deciding_at_once_cannot_both_win(office: Path, capsys: pytest.CaptureFixture[str]) -> None:
    settings, engine = open_app(office)
    tin, _ = draft_ids(office, capsys)
    with reading(engine) as s:
        seen = s.get(Draft, tin).revision  # both pages show this revision
    outcome = at_once(
        approve=lambda: service.approve(engine, settings, tin, get_user(engine, "duyet"), revision=seen),
        reject=lambda: service.reject(
            engine, settings, tin, get_user(engine, "lan"), revision=seen, reason="Không phù hợp"
        ),
    )
    wins = [name for name, refused in outcome.items() if refused is None]
    assert len(wins) == 1 and len(outcome) == 2
    with reading(engine) as s:
        assert s.get(Draft, tin).status == {"approve": "approved", "reject": "rejected"}[wins[0]]
    assert len(decision_mails(office)) == 1


def test_edits_are_revisions_and_the_stale_page_loses(office: Path, capsys: pytest.CaptureFixture[str]) -> None:
    settings, engine = open_app(office)
    tin, _ = draft_ids(office, capsys)
    lan = get_user(engine, "lan")
    changes = service.DraftEdit(
        title="Chi bộ Văn phòng sinh hoạt chuyên đề", body_html='<p onclick="x()">Mới</p><script>x</script>'
    )
    d = service.edit(engine, settings, tin, lan, revision=1, changes=changes)
    assert d.revision == 2 and d.body_html == "<p>Mới</p>"
    with pytest.raises(DraftError, match="tải lại"):
        service.approve(engine, settings, tin, get_user(engine, "duyet"), revision=1)  # decided on the old page
    revs = service.revisions(engine, tin)
    assert [r.number for r in revs] == [1, 2] and revs[0].title != revs[1].title
    assert [e.action for e in service.history(engine, tin)][-1] == "edited"


def test_assigning_a_unit_and_remembering_the_sender(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    config = write_settings(tmp_path)
    new = tmp_path / "maildir" / "new"
    new.mkdir(parents=True)
    shutil.copy(FIXTURES / "unknown_sender.eml", new / "1")
    main(["--config", str(config), "ingest", "--once"])
    settings, engine = open_app(config)
    add_user(engine, "lan", PASSWORD, role="editor")
    [d] = cli(config, "drafts", "list", "--json", capsys=capsys)
    assert d["unit"] is None
    changes = service.DraftEdit(unit_code="TC", remember_sender=True)
    edited = service.edit(engine, settings, d["id"], get_user(engine, "lan"), revision=d["revision"], changes=changes)
    assert edited.unit_code == "TC" and "unknown_sender" not in edited.warnings
    # The next email from the same address lands in that unit.
    shutil.copy(FIXTURES / "zip_bomb.eml", new / "2")  # (same sender; it is quarantined, no draft)
    raw = (FIXTURES / "unknown_sender.eml").read_bytes().replace(b"stranger@yahoo.com.vn", b"stranger2@yahoo.com.vn")
    raw = raw.replace(b"\r\n\r\n", b"\r\n\r\nLan 2.\r\n", 1)
    (new / "3").write_bytes(raw.replace(b"Content-Disposition: attachment", b"Content-Disposition: attachment", 1))
    main(["--config", str(config), "ingest", "--once"])
    drafts = cli(config, "drafts", "list", "--json", capsys=capsys)
    assert drafts[0]["unit"] == "TC"


def _reply(original: OutboxMail, draft: dict[str, Any], new_docx: bytes) -> bytes:
    msg = EmailMessage()
    msg["From"] = "Nguyễn Thị Lan <lan.nguyen@vanphong.tinhuy.example>"
    msg["To"] = "bientap@tinhuy.example"
    msg["Subject"] = f"Re: {original.subject}"
    msg["Message-ID"] = "<reply-1@vanphong.tinhuy.example>"
    msg["In-Reply-To"] = original.message_id
    msg["References"] = original.message_id
    msg.set_content("Em gửi lại bài đã sửa theo đề nghị của Ban Biên tập ạ.")
    msg.add_attachment(new_docx, maintype="application", subtype=DOCX_TYPE.split("/")[1], filename="tin-da-sua.docx")
    return msg.as_bytes(policy=SMTP)


def test_the_contributor_reply_becomes_revision_2(
    tmp_path: Path, mail_user: MailUser, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("TEST_IMAP_PW", mail_user.password)
    config = write_settings(
        tmp_path,
        mailbox=mail_user.mailbox_settings(),
    )
    mail_user.deliver((FIXTURES / "tin_ok.eml").read_bytes())
    assert main(["--config", str(config), "ingest", "--once"]) == 0
    _settings, engine = open_app(config)
    add_user(engine, "lan", PASSWORD, role="editor")
    [d] = cli(config, "drafts", "list", "--json", capsys=capsys)
    cli(
        config,
        "drafts",
        "request-changes",
        str(d["id"]),
        "--by",
        "lan",
        "--note",
        "Đề nghị bổ sung ảnh.",
        capsys=capsys,
    )
    [asked] = decision_mails(config)
    assert asked.kind == "decision_changes_requested" and d["tracking_code"] in asked.subject
    # The contributor answers from their mail client, through a real SMTP hop into Dovecot.
    revised = docx("Chi bộ Văn phòng sinh hoạt chuyên đề quý IV (bản sửa)", BODY, byline="Nguyễn Thị Lan")
    mail_user.deliver(_reply(asked, d, revised))
    assert main(["--config", str(config), "ingest", "--once"]) == 0
    [again] = cli(config, "drafts", "list", "--json", capsys=capsys)
    assert again["id"] == d["id"] and again["revision"] == 2 and again["status"] == "pending_review"
    assert again["title"].lower().endswith("(bản sửa)")
    history = cli(config, "drafts", "history", str(d["id"]), "--json", capsys=capsys)
    assert [(e["action"], e["to_status"]) for e in history] == [
        ("received", "pending_review"),
        ("changes_requested", "changes_requested"),
        ("revision_received", "pending_review"),
    ]
    assert history[-1]["actor"] == "contributor:lan.nguyen@vanphong.tinhuy.example"
    with reading(engine) as s:
        receipts = [m for m in s.exec(select(OutboxMail)).all() if m.kind == "receipt"]
    assert len(receipts) == 2 and "bản sửa" in receipts[1].body_text
    body = email.message_from_string(f"Subject: x\n\n{receipts[1].body_text}", policy=default).get_content()
    assert d["tracking_code"] in body


def test_a_stranger_cannot_revise_someone_elses_draft(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    config = write_settings(tmp_path)
    new = tmp_path / "maildir" / "new"
    new.mkdir(parents=True)
    shutil.copy(FIXTURES / "tin_ok.eml", new / "1")
    main(["--config", str(config), "ingest", "--once"])
    [d] = cli(config, "drafts", "list", "--json", capsys=capsys)
    raw = _reply(
        OutboxMail(key="x", to_addr="", subject=f"[{d['tracking_code']}] Đề nghị", message_id="<none@x>", body_text=""),
        d,
        docx("Bài của người khác", BODY),
    ).replace(b"lan.nguyen@vanphong.tinhuy.example", b"ke-gian@example.com")
    (new / "2").write_bytes(raw)
    main(["--config", str(config), "ingest", "--once"])
    drafts = cli(config, "drafts", "list", "--json", capsys=capsys)
    assert len(drafts) == 2 and drafts[0]["revision"] == 1  # a new draft, not a revision of the first


def test_the_status_shown_guards_decisions_that_would_both_be_allowed(
    office: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Rejecting a draft whose changes were requested is allowed; but not by someone who decided on the
    page from before the request: the status they saw is checked inside the transaction."""
    settings, engine = open_app(office)
    tin, _ = draft_ids(office, capsys)
    lan, duyet = get_user(engine, "lan"), get_user(engine, "duyet")
    outcome = at_once(
        reject=lambda: service.reject(
            engine, settings, tin, duyet, revision=1, status="pending_review", reason="Không phù hợp"
        ),
        changes=lambda: service.request_changes(
            engine, settings, tin, lan, revision=1, status="pending_review", note="Sửa"
        ),
    )
    assert sum(refused is None for refused in outcome.values()) == 1
    assert len(decision_mails(office)) == 1
