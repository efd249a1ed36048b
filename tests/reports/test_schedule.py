"""The office calendar's period jobs against a real SQLite database and a real SMTP server: the summary
email with its attachments, catch-up after a worker was down, one email however many runs or workers,
reminders to lagging units only, the orientation to every unit once. `now` is always passed."""

from __future__ import annotations

import email
import io
import threading
from datetime import datetime, timedelta
from decimal import Decimal
from email.message import EmailMessage
from email.policy import default
from pathlib import Path
from zoneinfo import ZoneInfo

import docx
import openpyxl
import pytest
from sqlmodel import select

from core.db import reading, transaction
from core.models import Draft, Job, OutboxMail
from core.outbox import deliver_due, message_id_for
from core.settings import Settings
from reports.orientation import orientation_of, set_orientation
from reports.periods import Period
from reports.schedule import run_due
from tests.appkit import default_database_url, open_app, toml
from tests.clijson import cli_json
from tests.servers import SmtpSink
from toasoan.cli import main

VN = ZoneInfo("Asia/Ho_Chi_Minh")
BTV = "btv@tinhuy.example"
UNITS = [
    {
        "code": "VP",
        "name": "Chi bộ Văn phòng",
        "senders": ["@vanphong.tinhuy.example"],
        "mail_to": ["vp@tinhuy.example"],
    },
    {"code": "TC", "name": "Chi bộ Ban Tổ chức", "senders": ["tc@bantochuc.tinhuy.example"]},
    {"code": "CD", "name": "Công đoàn cơ quan", "senders": ["congdoan@vanphong.tinhuy.example"]},
]
TITLE = "Hội nghị <b>“Dân vận khéo”</b> & tổng kết"  # contributor text: escaped in the HTML


def local(year: int, month: int, day: int, hour: int = 0, minute: int = 0, second: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, second, tzinfo=VN)


def write_office(tmp: Path, sink: SmtpSink | None, email_to: list[str]) -> Path:
    sections: dict[str, dict[str, object]] = {
        "organization": {"name": "Đảng ủy các cơ quan Đảng tỉnh", "office_name": "Ban Biên tập"},
        "database": {"url": default_database_url(tmp)},
        "storage": {"path": "var/storage"},
        "mailbox": {"backend": "maildir", "path": "maildir"},
        "outbox": {"backoff_seconds": 1, "backoff_max_seconds": 2},
        "report": {"email_to": email_to, "signer_name": "Nguyễn Văn A", "place": "Vĩnh Long"},
    }
    if sink is not None:
        sections["smtp"] = {
            "sender": "toasoan@tinhuy.example",
            "host": sink.host,
            "port": sink.port,
            "security": "none",
        }
    path = tmp / "settings.toml"
    path.write_text(toml(sections, UNITS), encoding="utf-8")
    return path


def add_drafts(settings: Settings, engine) -> None:
    """Period 2027-03 (28/02–27/03/2027), quarter I/2027 (from 28/12/2026): VP meets both quotas, TC has
    its tin but no bài, CD has nothing."""
    rows = [
        (1, "tin", "VP", local(2027, 3, 10, 9), TITLE),
        (2, "bai", "VP", local(2027, 2, 10, 9), "Bài tháng hai"),
        (3, "tin", "TC", local(2027, 3, 5, 9), "Tin Ban Tổ chức"),
    ]
    with transaction(engine) as s:
        for id_, kind, unit, at, title in rows:
            s.add(
                Draft(
                    id=id_,
                    tracking_code=f"T{id_}",
                    status="published",
                    kind=kind,
                    unit_code=unit,
                    coefficient=Decimal(1),
                    decided_at=at - timedelta(days=1),
                    published_at=at,
                    byline="Trần Thị B",
                    title=title,
                )
            )


@pytest.fixture
def office(tmp_path: Path, smtp_sink: SmtpSink):
    settings, engine = open_app(write_office(tmp_path, smtp_sink, [BTV]))
    add_drafts(settings, engine)
    yield settings, engine
    engine.dispose()


def outbox(engine, kind: str) -> list[OutboxMail]:
    with reading(engine) as s:
        return list(s.exec(select(OutboxMail).where(OutboxMail.kind == kind).order_by(OutboxMail.to_addr)).all())


def parts(msg: EmailMessage) -> dict[str, EmailMessage]:
    return {p.get_filename() or p.get_content_type(): p for p in msg.walk() if not p.is_multipart()}


def test_summary_email_arrives_once_with_its_attachments_after_a_worker_down_across_the_28th(
    office, smtp_sink: SmtpSink
) -> None:
    settings, engine = office
    first = run_due(settings, engine, local(2027, 3, 20, 8))  # the worker runs, then stops before the 28th
    assert [o.job for o in first.ran] == ["orientation"]  # waits: no orientation entered
    assert outbox(engine, "report_summary") == []

    later = run_due(settings, engine, local(2027, 4, 2, 8))  # back on the 2nd of the next month
    statuses = {o.key: o.status for o in later.ran}
    assert statuses["report:summary:2027-03"] == "succeeded"
    assert statuses["report:reminder:2027-03"] == "succeeded"  # ran late: the period closed, no nagging
    assert outbox(engine, "report_reminder") == []
    again = run_due(settings, engine, local(2027, 4, 3, 8))
    assert all(not o.key.startswith("report:summary") for o in again.ran)

    [row] = outbox(engine, "report_summary")
    assert row.message_id == message_id_for(f"report:summary:2027-03:{BTV}", "tinhuy.example")
    assert deliver_due(engine, settings).sent == 1
    [received] = smtp_sink.wait_for(1)
    assert received.rcpt_tos == [BTV]
    msg = email.message_from_bytes(received.raw, policy=default)
    assert msg["Subject"] == "Báo cáo tháng 03/2027 — Ban Biên tập"
    assert msg["Message-ID"] == row.message_id
    assert msg["Auto-Submitted"] == "auto-generated"
    found = parts(msg)
    text = found["text/plain"].get_content()
    assert "Chi bộ Ban Tổ chức: tin 1/1 (Đạt), bài trong quý 0/1 (Chưa đạt)" in text
    html = found["text/html"].get_content()
    chart = found["bieu-do-2027-03.png"]
    assert chart["Content-ID"] == "<bieu-do-2027-03@toasoan>"
    assert 'src="cid:bieu-do-2027-03@toasoan"' in html
    assert chart.get_content().startswith(b"\x89PNG")
    assert "&lt;b&gt;“Dân vận khéo”&lt;/b&gt; &amp; tổng kết" in html and "<b>“Dân" not in html
    assert "<td>Công đoàn cơ quan</td>" in html

    xlsx = found["danh-sach-chi-tra-nhuan-but-2027-03.xlsx"]
    assert xlsx.get_content_disposition() == "attachment"
    book = openpyxl.load_workbook(io.BytesIO(xlsx.get_content()))
    cells = [c.value for sheet in book for r in sheet.iter_rows() for c in r]
    assert TITLE in cells and "Tin Ban Tổ chức" in cells
    report = docx.Document(io.BytesIO(found["bao-cao-thang-2027-03.docx"].get_content()))
    paragraphs = [p.text for p in report.paragraphs]
    tables = [c.text for t in report.tables for r in t.rows for c in r.cells]
    assert any("Nguyễn Văn A" in p for p in paragraphs + tables)
    assert "Công đoàn cơ quan" in tables
    assert deliver_due(engine, settings).sent == 0  # nothing else queued


def test_two_workers_on_the_tally_day_send_one_summary(office) -> None:
    settings, engine = office
    run_due(settings, engine, local(2027, 3, 27, 23))
    tally = local(2027, 3, 28, 0, 1)
    barrier = threading.Barrier(2)
    errors: list[BaseException] = []

    def worker(name: str) -> None:
        barrier.wait()
        try:
            run_due(settings, engine, tally, worker=name)
        except BaseException as exc:  # re-raised below
            errors.append(exc)

    threads = [threading.Thread(target=worker, args=(n,)) for n in ("a", "b")]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    assert not errors
    run_due(settings, engine, tally + timedelta(hours=1))
    assert len(outbox(engine, "report_summary")) == 1
    with reading(engine) as s:
        summaries = s.exec(select(Job).where(Job.kind == "report:summary")).all()
    assert [(j.key, j.status) for j in summaries] == [("report:summary:2027-03", "succeeded")]


def test_a_fresh_install_does_not_mail_periods_before_it(office) -> None:
    settings, engine = office
    report = run_due(settings, engine, local(2027, 4, 2, 8))  # first run ever, after 2027-03 closed
    assert report.enqueued == ["report:orientation:2027-04"]
    assert outbox(engine, "report_summary") == []


def test_reminders_go_to_lagging_units_only(office, smtp_sink: SmtpSink) -> None:
    settings, engine = office
    run_due(settings, engine, local(2027, 3, 1, 8))
    assert outbox(engine, "report_reminder") == []  # not due before 23/03 (5 days before the 28th)
    report = run_due(settings, engine, local(2027, 3, 23, 0, 30))
    assert [o.status for o in report.ran if o.job == "reminder"] == ["succeeded"]
    run_due(settings, engine, local(2027, 3, 24, 0, 30))  # again: nothing more
    rows = outbox(engine, "report_reminder")
    assert [r.to_addr for r in rows] == ["congdoan@vanphong.tinhuy.example", "tc@bantochuc.tinhuy.example"]
    assert deliver_due(engine, settings).sent == 2
    by_rcpt = {m.rcpt_tos[0]: email.message_from_bytes(m.raw, policy=default) for m in smtp_sink.wait_for(2)}
    tc = by_rcpt["tc@bantochuc.tinhuy.example"]
    assert tc["Subject"] == "Nhắc chỉ tiêu tin, bài tháng 03/2027 — Ban Biên tập"
    body = tc.get_content()
    assert "Kính gửi Chi bộ Ban Tổ chức," in body
    assert "chốt số liệu vào 00:00 ngày 28/03/2027 (còn 5 ngày)" in body
    assert "Bài trong quý I/2027 (chốt ngày 28/03/2027): đã có 0/1 bài" in body
    assert "Tin trong tháng" not in body  # TC has its tin
    cd = by_rcpt["congdoan@vanphong.tinhuy.example"].get_content()
    assert "Tin trong tháng: đã có 0/1 tin" in cd


def test_orientation_goes_to_every_unit_once(office, smtp_sink: SmtpSink) -> None:
    settings, engine = office
    with transaction(engine) as s:  # entered before the period starts (28/03)
        set_orientation(s, Period(2027, 4), "Tuyên truyền kỷ niệm 30/4 và 1/5.\r\n", "truongban", local(2027, 3, 25))
    run_due(settings, engine, local(2027, 3, 27, 8))
    assert outbox(engine, "report_orientation") == []  # not before the period starts
    report = run_due(settings, engine, local(2027, 3, 28, 0, 1))
    assert {o.key: o.status for o in report.ran}["report:orientation:2027-04"] == "succeeded"
    run_due(settings, engine, local(2027, 3, 29, 0, 1))
    rows = outbox(engine, "report_orientation")
    assert [r.to_addr for r in rows] == [
        "congdoan@vanphong.tinhuy.example",
        "tc@bantochuc.tinhuy.example",
        "vp@tinhuy.example",
    ]
    assert deliver_due(engine, settings).sent == 6  # with 2027-03's two reminders and its summary
    messages = [email.message_from_bytes(m.raw, policy=default) for m in smtp_sink.wait_for(6)]
    oriented = [m for m in messages if m["Subject"].startswith("Định hướng")]
    assert sorted(m["To"] for m in oriented) == [r.to_addr for r in rows]
    [vp] = [m for m in oriented if m["To"] == "vp@tinhuy.example"]
    assert vp["Subject"] == "Định hướng nội dung tháng 04/2027 — Ban Biên tập"
    assert "Tuyên truyền kỷ niệm 30/4 và 1/5." in vp.get_content()
    assert "(từ 28/03/2027 đến 27/04/2027)" in vp.get_content()


def test_an_orientation_entered_after_the_start_goes_out_at_the_next_tick(office) -> None:
    settings, engine = office
    start = local(2027, 3, 28, 0, 1)
    report = run_due(settings, engine, start)
    assert {o.key: o.status for o in report.ran}["report:orientation:2027-04"] == "waiting"
    with transaction(engine) as s:
        set_orientation(s, Period(2027, 4), "Học tập Nghị quyết.", "truongban", start + timedelta(hours=2))
        assert orientation_of(s, Period(2027, 4)) == "Học tập Nghị quyết."
    run_due(settings, engine, start + timedelta(hours=2, minutes=1))
    assert len(outbox(engine, "report_orientation")) == 3
    with transaction(engine) as s:  # an edit is kept, not mailed again
        set_orientation(s, Period(2027, 4), "Học tập Nghị quyết (sửa).", "truongban", start + timedelta(hours=3))
    run_due(settings, engine, start + timedelta(hours=4))
    assert len(outbox(engine, "report_orientation")) == 3


def test_cli_run_due_json_and_orientation(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    config = write_office(tmp_path, None, [])
    argv = ["--config", str(config), "report", "orientation", "2027-04", "--text", "Nội dung tháng 4", "--by", "An"]
    assert main(argv) == 0
    assert "Đã lưu định hướng nội dung kỳ 2027-04" in capsys.readouterr().out
    assert main(["--config", str(config), "report", "orientation", "2027-4", "--text", "x"]) == 1
    out = cli_json(config, "report", "run-due", capsys=capsys)
    assert out["failed"] == 0
    assert [o["job"] for o in out["ran"]] == ["orientation"]  # this period's, waiting for its text
    assert main(["--config", str(config), "report", "run-due"]) == 0


def test_the_calendar_closes_the_period_before_the_summary_and_the_summary_shows_the_frozen_lines(
    office,
) -> None:
    from reports.ledger import period_state, reopen_period
    from reports.service import load_month

    settings, engine = office
    run_due(settings, engine, local(2027, 3, 20, 8))
    tally = run_due(settings, engine, local(2027, 3, 28, 0, 5))
    order = [o.job for o in tally.ran if o.key.endswith(":2027-03") and o.status == "succeeded"]
    assert order.index("close") < order.index("summary")
    with reading(engine) as s:
        state = period_state(s, Period(2027, 3))
        assert state is not None and state.status == "closed" and state.closed_by == "system"
        frozen = load_month(settings, s, Period(2027, 3), local(2027, 4, 1))
    assert frozen.closed and sorted(ln.item_id for ln in frozen.lines) == [1, 3]
    with transaction(engine) as s:  # an item edited after closing changes nothing in the frozen month
        d = s.get(Draft, 1)
        assert d is not None
        d.coefficient = Decimal(3)
    with reading(engine) as s:
        again = load_month(settings, s, Period(2027, 3), local(2027, 4, 1))
    assert [ln.amount for ln in again.lines] == [ln.amount for ln in frozen.lines]

    # An admin reopens it: the calendar does not close it again behind their back.
    with transaction(engine) as s:
        reopen_period(s, Period(2027, 3), "admin", "sửa hệ số tin số 1", local(2027, 3, 29, 9))
    run_due(settings, engine, local(2027, 3, 30, 9))
    with reading(engine) as s:
        state = period_state(s, Period(2027, 3))
        assert state is not None and state.status == "open"
    assert len(outbox(engine, "report_summary")) == 1


def test_a_period_job_that_keeps_failing_is_listed_with_its_reason_and_retried_by_a_person(
    office, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    settings, engine = office
    # A genre the settings do not price: closing the period fails for a real reason, every try.
    with transaction(engine) as s:
        s.add(
            Draft(
                id=4, tracking_code="T4", status="published", kind="phong-su", unit_code="CD",
                decided_at=local(2027, 3, 11, 9), published_at=local(2027, 3, 12, 9), byline="Lê C", title="Phóng sự",
            )
        )  # fmt: skip
    run_due(settings, engine, local(2027, 3, 20, 8))  # installed during the period
    now = local(2027, 3, 28, 0, 5)
    for _ in range(12):  # POLICY: twelve tries, then a person must look
        run_due(settings, engine, now)
        now += timedelta(hours=2)
    config = ["--config", str(tmp_path / "settings.toml")]
    [failed] = cli_json(tmp_path / "settings.toml", "report", "jobs", "2027-03", "--failed", capsys=capsys)["jobs"]
    assert (failed["job"], failed["period"], failed["status"], failed["attempts"]) == ("close", "2027-03", "failed", 12)
    assert "phong-su" in failed["note"]
    assert main([*config, "report", "jobs", "2027-03"]) == 0
    text = capsys.readouterr().out
    assert f"#{failed['id']}  2027-03  Chốt kỳ: Lỗi, cần người xử lý (lần thử: 12)" in text
    assert "Gửi báo cáo tháng tới Ban Thường vụ: Chờ đến hạn" in text  # the summary waits for the close
    assert outbox(engine, "report_summary") == []

    with transaction(engine) as s:  # the board corrects the item
        d = s.get(Draft, 4)
        assert d is not None
        d.kind = "tin"
    assert main([*config, "report", "retry", str(failed["id"])]) == 0
    assert "sẽ chạy lại" in capsys.readouterr().out
    assert main([*config, "report", "retry", str(failed["id"])]) == 1  # pending now, not failed
    assert "không ở trạng thái lỗi" in capsys.readouterr().err
    assert main([*config, "report", "retry", "999999"]) == 1

    ran = {o.job: o.status for o in run_due(settings, engine, now).ran}
    assert ran["close"] == "succeeded" and ran["summary"] == "succeeded"
    assert len(outbox(engine, "report_summary")) == 1
    assert main([*config, "report", "jobs", "--failed"]) == 0
    assert "Không có việc định kỳ nào bị lỗi." in capsys.readouterr().out
