"""ingest.diagnostics: mail-parser's defect list and Received chain, on real emails, bounded on hostile ones."""

from __future__ import annotations

import json
import re
import time
from pathlib import Path

import pytest

from core.storage import Store
from ingest.diagnostics import FULL_LIMIT, HEADER_LIMIT, MAX_HOPS, TEXT_LIMIT, diagnose, diagnose_inbound
from tests.appkit import write_settings
from tests.fixtures.intake.build import submission
from toasoan.cli import main

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"
REAL = FIXTURES / "real" / "email"
OUTLOOK = REAL / "dwf_etoledano_iso-8859-1_inline-image.eml"  # 7 Received headers, nested multipart

# Generous against a busy shared machine; the bounded reads measured well under a tenth of this.
SECONDS = 3.0


def test_the_received_chain_of_a_real_email_reads_as_hops_oldest_first() -> None:
    found = diagnose(OUTLOOK.read_bytes())
    assert (found.scope, found.error, found.defects, found.notes) == ("message", None, (), ())
    hops = found.received
    assert [h.hop for h in hops] == list(range(1, 8))
    # The oldest hop is the sender's own Exchange server; the newest was written by the receiving end.
    assert hops[0].from_.startswith("FR1PR80MB1879.lamprd80.prod.outlook.com")
    assert hops[0].delay is None and hops[0].date_utc == "2018-02-15T21:34:45+00:00"
    assert hops[1].delay == 1.0
    assert all(h.date_utc for h in hops) and hops[-1].by
    assert found.as_json()["received"][1] == {
        "hop": 2,
        "from": hops[1].from_,
        "by": "FR1PR80MB0486.lamprd80.prod.outlook.com (10.170.195.140)",
        "with": hops[1].with_,
        "date": "Thu, 15 Feb 2018 21:34:46 +0000",
        "date_utc": "2018-02-15T21:34:46+00:00",
        "delay": 1.0,
    }


def test_a_long_chain_from_a_real_email() -> None:
    found = diagnose((REAL / "mailparser_mail_test_10").read_bytes())
    assert len(found.received) == 15 and found.hops_omitted == 0
    assert found.received[-1].by == "smtp.didi.net" or found.received[-2].by == "smtp.didi.net"
    # A date folded over two lines reads as one line.
    assert not any("\n" in h.date or "\r" in h.date for h in found.received)


@pytest.mark.parametrize("name", ["mailparser_mail_malformed_1", "mailparser_mail_malformed_2"])
def test_a_missing_start_boundary_is_a_defect(name: str) -> None:
    found = diagnose((REAL / name).read_bytes())
    assert found.scope == "message"
    [defect] = found.defects
    assert (defect.part, defect.category) == ("multipart/alternative", "StartBoundaryNotFoundDefect")
    assert defect.text == "The claimed start boundary was never found."
    assert defect.label == "Không tìm thấy ranh giới mở đầu của các phần trong thư"
    assert len(found.received) >= 2


def test_a_multipart_with_no_parts_is_two_defects() -> None:
    found = diagnose((REAL / "mailparser_mail_malformed_3").read_bytes())
    assert {d.category for d in found.defects} == {"StartBoundaryNotFoundDefect", "MultipartInvariantViolationDefect"}
    # Clocks disagree: a hop may be "earlier" than the one before it, and that is shown as it is.
    assert any(h.delay is not None and h.delay < 0 for h in found.received)


def test_a_missing_closing_boundary_is_a_defect() -> None:
    raw = OUTLOOK.read_bytes()
    cut = re.sub(rb"\r?\n--_00[04]_FR1PR80MB1879FD30D1E07765ACBD61F89BF40FR1PR80MB1879lamp_--\r?\n", b"\r\n", raw)
    assert len(cut) < len(raw)
    found = diagnose(cut)
    assert "CloseBoundaryNotFoundDefect" in {d.category for d in found.defects}
    assert len(found.received) == 7  # the route is read all the same


def test_header_defects_of_a_webmail_with_raw_8bit_headers() -> None:
    found = diagnose((FIXTURES / "mail" / "webmail_cp1258_raw8bit.eml").read_bytes())
    assert {d.category for d in found.defects} == {"AddressHeaderDefect", "MimeHeaderDefect"}
    assert found.received == ()
    assert all(len(d.text) <= TEXT_LIMIT for d in found.defects)


def test_a_clean_submission_has_no_defects() -> None:
    found = diagnose(submission(1))
    assert (found.scope, found.defects, found.received, found.error) == ("message", (), (), None)


def test_hostile_header_text_is_one_short_line_and_stays_text() -> None:
    evil = "<script>alert('hop')</script>\u202e\x07" + "a" * 5000
    raw = (
        f"Received: from {evil} by mx.tinhuy.example with ESMTP; Tue, 1 Dec 2026 10:00:00 +0700\r\n"
        "Subject: x\r\n\r\nx\r\n"
    ).encode()
    [hop] = diagnose(raw).received
    assert hop.from_.startswith("<script>alert('hop')</script>")  # escaping is the page's work
    assert "\u202e" not in hop.from_ and "\x07" not in hop.from_
    assert len(hop.from_) == TEXT_LIMIT and hop.from_.endswith("…")


def test_only_the_newest_hops_are_kept() -> None:
    lines = [f"Received: from h{i}.example by h{i + 1}.example; Tue, 1 Dec 2026 10:{i:02d}:00 +0700" for i in range(40)]
    # Newest first, as servers prepend them.
    raw = ("\r\n".join(reversed(lines)) + "\r\nSubject: x\r\n\r\nx\r\n").encode()
    found = diagnose(raw)
    assert found.hops_omitted == 40 - MAX_HOPS and len(found.received) == MAX_HOPS
    assert found.received[-1].by == "h40.example" and found.received[-1].delay == 60.0


def test_what_mail_parser_cannot_read_is_a_note_never_an_exception() -> None:
    for raw in (b"", b"\x00\xff" * 100, b"Content-Type: multipart/mixed\r\n\r\n--\r\n", "Subject: ồ\r\n\r\n".encode()):
        found = diagnose(raw)
        assert found.scope in ("message", "headers", "none")
    # Deep nesting: the stdlib's recursion is not reached.
    nested = b"From: a@b.example\r\n" + b"".join(
        b'Content-Type: multipart/mixed; boundary="B%d"\r\n\r\n--B%d\r\n' % (i, i) for i in range(2000)
    )
    found = diagnose(nested)
    assert found.scope == "headers" and found.error is None and found.notes


def test_a_25_mb_message_is_read_from_its_header_block_at_once() -> None:
    big = submission(2, attach_photo=bytes(range(256)) * (19 * 2**20 // 256))
    big = b"Received: from mail.vanphong.tinhuy.example by mx.tinhuy.example; Tue, 1 Dec 2026 10:00:00 +0700\r\n" + big
    assert len(big) > 25 * 10**6
    started = time.perf_counter()
    found = diagnose(big)
    assert time.perf_counter() - started < SECONDS
    assert found.scope == "headers" and found.defects == ()
    assert found.notes == (
        f"Thư lớn hơn {FULL_LIMIT // 2**20} MB: chỉ đọc phần tiêu đề, không kiểm tra cấu trúc các phần.",
    )
    assert [h.by for h in found.received] == ["mx.tinhuy.example"]


@pytest.mark.parametrize(
    "shape",
    [
        # mail-parser alone takes seconds on this 1 MB message (its filename decoding grows with the square).
        pytest.param(
            b'Content-Disposition: attachment; filename="' + b"=?utf-8?q?a?= " * 75_000 + b'"\r\n', id="filename"
        ),
        pytest.param(b"", id="thousands-of-parts"),
    ],
)
def test_a_message_shaped_to_be_slow_is_bounded(shape: bytes) -> None:
    head = b'From: a@b.example\r\nMIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary="BB"\r\n\r\n'
    if shape:
        raw = head + b"--BB\r\nContent-Type: application/octet-stream\r\n" + shape + b"\r\nAAAA\r\n--BB--\r\n"
    else:
        raw = head + b"--BB\r\nContent-Type: text/plain\r\n\r\nx\r\n" * 30_000 + b"--BB--\r\n"
    assert len(raw) > 2**20
    started = time.perf_counter()
    found = diagnose(raw)
    assert time.perf_counter() - started < SECONDS
    assert found.error is None and found.notes


def test_an_overlong_header_block_is_cut() -> None:
    raw = b"Subject: " + b"=?utf-8?q?a?= " * (HEADER_LIMIT // 7) + b"\r\n\r\nx"
    started = time.perf_counter()
    found = diagnose(raw)
    assert time.perf_counter() - started < SECONDS
    assert found.scope == "headers" and found.notes == (
        f"Phần tiêu đề dài bất thường: chỉ đọc {HEADER_LIMIT // 1024} KB đầu.",
    )


def test_a_stored_email_is_read_from_the_spool(tmp_path: Path) -> None:
    store = Store(tmp_path)
    raw = OUTLOOK.read_bytes()
    sha = store.put("spool", raw, suffix=".eml", sync=False)
    assert len(diagnose_inbound(store, sha, len(raw)).received) == 7
    # An oversized email is spooled as its header block: its missing body is not a defect.
    block = raw[: raw.index(b"\r\n\r\n") + 4]
    sha = store.put("spool", block, suffix=".eml", sync=False)
    found = diagnose_inbound(store, sha, 30 * 2**20)
    assert found.scope == "headers" and found.defects == () and len(found.received) == 7
    assert found.notes[0].startswith("Thư vượt giới hạn dung lượng nên chỉ lưu phần tiêu đề")
    # A spool file that is gone is said so.
    missing = diagnose_inbound(store, "0" * 64, 10)
    assert missing.scope == "none" and missing.error and missing.error.startswith("Không đọc được thư gốc")


# ------------------------------------------------------------------------------ toasoan inbox show
def problem_email() -> bytes:
    """corrupt.eml (a broken Word file: quarantined) as it arrives through two servers, one of which
    writes hostile text into its Received header, and cut before its closing boundary."""
    raw = (FIXTURES / "intake" / "corrupt.eml").read_bytes()
    cut = raw.replace(b"\r\n--===============5047623975159206932==--\r\n", b"\r\n")
    assert len(cut) < len(raw)
    received = (
        "Received: from mail.vanphong.tinhuy.example (mail.vanphong.tinhuy.example [203.0.113.7])\n"
        "\tby mx.tinhuy.example with ESMTPS; Fri, 20 Nov 2026 08:30:05 +0700\n"
        "Received: from <script>alert('hop')</script> (unknown [198.51.100.9])\n"
        "\tby mail.vanphong.tinhuy.example with ESMTPA; Fri, 20 Nov 2026 08:30:01 +0700\n"
    )
    return received.replace("\n", "\r\n").encode() + cut


def test_inbox_show_adds_the_diagnostics_of_the_stored_email(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = write_settings(tmp_path)
    new = tmp_path / "maildir" / "new"
    new.mkdir(parents=True)
    (new / "1.host").write_bytes(problem_email())
    assert main(["--config", str(config), "ingest", "--once"]) == 0
    capsys.readouterr()
    assert main(["--config", str(config), "inbox", "list", "--json"]) == 0
    [listed] = json.loads(capsys.readouterr().out)
    assert (listed["status"], listed["reason"]) == ("quarantined", "corrupt_document")
    assert "diagnostics" not in listed  # the list stays as it was: mail-parser runs for one email only

    assert main(["--config", str(config), "inbox", "show", str(listed["id"]), "--json"]) == 0
    shown = json.loads(capsys.readouterr().out)
    assert {k: v for k, v in shown.items() if k != "diagnostics"} == listed  # no field renamed or dropped
    found = shown["diagnostics"]
    assert (found["scope"], found["error"], found["notes"]) == ("message", None, [])
    assert found["reader"].startswith("mail-parser ")
    assert [d["category"] for d in found["defects"]] == ["CloseBoundaryNotFoundDefect"]
    assert [(h["hop"], h["by"], h["delay"]) for h in found["received"]] == [
        (1, "mail.vanphong.tinhuy.example", None),
        (2, "mx.tinhuy.example", 4.0),
    ]
    assert found["received"][0]["from"].startswith("<script>alert('hop')</script>")

    assert main(["--config", str(config), "inbox", "show", str(listed["id"])]) == 0
    text = capsys.readouterr().out
    assert f"id: {listed['id']}" in text and "chẩn đoán (mail-parser):" in text
    assert "Thiếu ranh giới kết thúc" in text
    assert " 2. từ mail.vanphong.tinhuy.example" in text and "(+4 giây)" in text
