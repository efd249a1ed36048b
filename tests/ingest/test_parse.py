"""ingest.parse: raw mail -> ParsedMessage, over client-style fixtures and the real third-party corpus.

Fixtures: tests/fixtures/mail/*.eml, made by tests/fixtures/mail/build.py (Outlook, Gmail,
Thunderbird, Apple Mail and Vietnamese webmail header styles; .docx from python-docx; winmail.dat
from the TNEF writer there). Real corpus: through tests/corpus.py (see tests/fixtures/real/SOURCES.md).
"""

from __future__ import annotations

import base64
import importlib.util
import io
import re
import struct
import sys
import unicodedata
from datetime import UTC, datetime, timedelta, timezone
from email.message import EmailMessage, Message
from email.parser import BytesHeaderParser
from email.policy import SMTP, compat32
from pathlib import Path
from types import ModuleType

import docx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from tnefparse.tnef import TNEF

from core.text import contains_phrase
from ingest.parse import Attachment, ParsedMessage, decode_header_value, parse_message
from tests import corpus as real

pytestmark = pytest.mark.no_database  # the PostgreSQL pass of make test leaves it out

REPO = Path(__file__).resolve().parents[2]
FIXTURES = REPO / "tests" / "fixtures" / "mail"
DOCX_TYPE = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
PNG, JPEG, PDF = b"\x89PNG\r\n\x1a\n", b"\xff\xd8\xff", b"%PDF"


def _load_build() -> ModuleType:
    spec = importlib.util.spec_from_file_location("mail_fixture_build", FIXTURES / "build.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules.setdefault("mail_fixture_build", module)
    spec.loader.exec_module(module)
    return module


build = _load_build()


def raw_fixture(name: str) -> bytes:
    return (FIXTURES / name).read_bytes()


def parsed_fixture(name: str) -> ParsedMessage:
    return parse_message(raw_fixture(name))


def docx_paragraphs(data: bytes) -> list[str]:
    return [p.text for p in docx.Document(io.BytesIO(data)).paragraphs if p.text]


def is_nfc(text: str) -> bool:
    return unicodedata.is_normalized("NFC", text)


def assert_all_nfc(parsed: ParsedMessage) -> None:
    for text in (parsed.subject, parsed.sender_name, parsed.text_body, *(a.filename for a in parsed.attachments)):
        assert is_nfc(text), text


def wrap(data: bytes, filename: str, content_type: str, *, body: str = "Xem tệp đính kèm.") -> bytes:
    """An Outlook-like message carrying `data` as an attachment (how a container reaches us)."""
    message = EmailMessage()
    message["From"] = "Nguyễn Văn An <an.nv@vanphong.quanuy.example>"
    message["To"] = "bbt@congthongtin.quanuy.example"
    message["Subject"] = "BÀI CỘNG TÁC: chuyển tiếp"
    message["Message-ID"] = "<wrap-1@vanphong.quanuy.example>"
    message.set_content(body)
    maintype, subtype = content_type.split("/", 1)
    message.add_attachment(data, maintype=maintype, subtype=subtype, filename=filename or None)
    return message.as_bytes(policy=SMTP)


# --- subjects -------------------------------------------------------------------------------------

SUBJECTS = [
    # (fixture, subject, how the fixture really encodes it)
    (
        "outlook_utf8_b64_split.eml",
        "BÀI CỘNG TÁC: Chi bộ Văn phòng tổ chức hội nghị sơ kết công tác quý I năm 2025",
        b"Subject: =?utf-8?B?QsOASSBD4buYTkcgVMOBQzogQ2hpIGLhu5k=?=\r\n =?utf-8?B?",
    ),
    (
        "gmail_fwd_qp.eml",
        "Fwd: [BÀI CỘNG TÁC] Đoàn Thanh niên phường ra quân Chiến dịch Thanh niên tình nguyện hè 2025",
        b"Subject: =?UTF-8?Q?Fwd=3A_=5BB=C3=80I_C=E1=BB=98NG_T=C3=81C=5D_",
    ),
    (
        "thunderbird_flowed_rfc2231.eml",
        "Bài cộng tác – Hội Cựu chiến binh phường tổ chức gặp mặt kỷ niệm 50 năm Ngày Giải phóng miền Nam",
        b"Subject: =?UTF-8?Q?B=C3=A0i_c=E1=BB=99ng_t=C3=A1c_=E2=80=93_",
    ),
    (
        "webmail_cp1258_raw8bit.eml",
        "BÀI CỘNG TÁC - Hội Phụ nữ khu phố 5 ra mắt mô hình “Tổ phụ nữ tiết kiệm”",
        b"Subject: B\xc0I C\xd4\xf2NG T\xc1C - H\xf4\xf2i",  # raw windows-1258, tone marks combining
    ),
    (
        "webmail_cp1258_rfc2047.eml",
        "BÀI CỘNG TÁC: Chi bộ Trường THCS Nguyễn Du kết nạp đảng viên mới",
        b"Subject: =?windows-1258?Q?B=C0I_C=D4=F2NG_T=C1C",
    ),
    (
        "webmail_utf8_raw8bit_html_only.eml",
        "BÀI CỘNG TÁC - Phường tổ chức Ngày hội Đại đoàn kết toàn dân tộc",
        "Subject: BÀI CỘNG TÁC - Phường".encode(),
    ),
    (
        "applemail_nfd_inline.eml",
        "Bài cộng tác: Mặt trận Tổ quốc phường trao nhà Đại đoàn kết",
        b"Subject: =?utf-8?B?QmHMgGkg",  # "Ba" + U+0300: decomposed (NFD) text
    ),
    (
        "outlook2003_cp1258_base64.eml",
        "Bài cộng tác tháng 6: Đảng ủy phường học tập chuyên đề năm 2025",
        b"Subject: =?windows-1258?B?",
    ),
    (
        "phpmailer_split_bytes.eml",
        "BÀI CỘNG TÁC: Công an phường tuyên truyền phòng chống tội phạm công nghệ cao",
        b"Subject: =?UTF-8?B?",
    ),
    (
        "outlook_ascii_subject.eml",
        "Bai cong tac - Chi bo Khu pho 3 sinh hoat chuyen de",
        b"Subject: Bai cong tac - Chi bo",
    ),
    (
        "thunderbird_forward_attached.eml",
        "Fwd: BÀI CỘNG TÁC: Chi đoàn khu phố hiến máu tình nguyện",
        b"Subject: =?UTF-8?Q?Fwd=3A_B=C3=80I",
    ),
    (
        "gmail_nested_forward.eml",
        "Fwd: TL: [BÀI CỘNG TÁC] Hội nghị tổng kết phong trào thi đua năm 2025",
        b"Subject: =?UTF-8?Q?Fwd=3A_TL=3A_=5BB=C3=80I",
    ),
    (
        "outlook_tnef_winmail.eml",
        "BÀI CỘNG TÁC: Phường ra mắt Tổ công nghệ số cộng đồng",
        b"Subject: =?utf-8?B?",
    ),
]


@pytest.mark.parametrize(("name", "subject", "raw_form"), SUBJECTS, ids=[s[0] for s in SUBJECTS])
def test_every_subject_form_decodes_to_the_same_marker(name: str, subject: str, raw_form: bytes) -> None:
    raw = raw_fixture(name)
    assert raw_form in raw  # the fixture really carries the form under test
    parsed = parse_message(raw)
    assert parsed.subject == subject
    assert is_nfc(parsed.subject)
    assert contains_phrase(parsed.subject, "BÀI CỘNG TÁC")
    assert parsed.defects == ()


def test_split_encoded_words_really_cut_a_character_in_two() -> None:
    raw = raw_fixture("phpmailer_split_bytes.eml")
    subject_block = raw.split(b"\r\nSubject: ", 1)[1].split(b"\r\nMessage-ID", 1)[0]
    words = re.findall(rb"=\?UTF-8\?B\?([^?]*)\?=", subject_block)
    assert len(words) >= 2
    with pytest.raises(UnicodeDecodeError):
        base64.b64decode(words[0]).decode("utf-8")  # the first word ends inside a UTF-8 sequence


HEADER_VALUES = [
    ("=?utf-8?B?QsOASSBD4buYTkcgVMOBQw==?=", "BÀI CỘNG TÁC"),
    ("=?UTF-8?Q?B=C3=80I_C=E1=BB=98NG_T=C3=81C?=", "BÀI CỘNG TÁC"),
    ("=?utf-8?q?b=C3=A0i_c=E1=BB=99ng_t=C3=A1c?=", "bài cộng tác"),
    ("=?windows-1258?Q?B=C0I_C=D4=F2NG_T=C1C?=", "BÀI CỘNG TÁC"),  # cp1258 combining dot below: NFC
    ("=?windows-1258?B?QsBJIEPU8k5HIFTBQw==?=", "BÀI CỘNG TÁC"),
    (b"B\xc0I C\xd4\xf2NG T\xc1C", "BÀI CỘNG TÁC"),  # raw 8-bit windows-1258
    ("BÀI CỘNG TÁC".encode(), "BÀI CỘNG TÁC"),  # raw 8-bit UTF-8
    ("B\udcc3\udc80I", "BÀI"),  # raw UTF-8 as the stdlib parser hands it out (surrogate escapes)
    ("=?utf-8?B?4bs=?= =?utf-8?B?mA==?=", "Ộ"),  # one character split across two words
    ("=?utf-8?B?QsOASQ==?=\r\n =?utf-8?B?IEPhu5hORw==?=", "BÀI CỘNG"),  # folded: the gap is dropped
    ("Fwd: [=?utf-8?B?QsOASQ==?=] tin", "Fwd: [BÀI] tin"),  # literal text around words stays
    ("Fwd:=?utf-8?B?QsOASQ==?=", "Fwd:BÀI"),  # glued to text (not RFC 2047, sent all the same)
    ("Ba\u0300i co\u0323\u0302ng ta\u0301c", "Bài cộng tác"),  # NFD in, NFC out
    ("=?utf-8*vi?Q?B=C3=A0i?=", "Bài"),  # RFC 2231 language tag in an encoded word
    ("=?x-unknown?Q?c=E1=BB=99ng?=", "cộng"),  # unknown charset: UTF-8 is tried
    ("=?utf-8?B?###?=", "=?utf-8?B?###?="),  # undecodable word is kept, not dropped
    ("=?windows-1258?Q?=D0o=E0n_Tr=E2=CCn_C=F4ng_Danh?=", "Đoàn Trần Công Danh"),
]


@pytest.mark.parametrize(("value", "expected"), HEADER_VALUES)
def test_decode_header_value(value: str | bytes, expected: str) -> None:
    decoded = decode_header_value(value)
    assert decoded == expected
    assert is_nfc(decoded)


def test_decode_header_value_recovers_compat32_header_objects() -> None:
    # compat32 returns a Header object for raw 8-bit headers; its str() has lost the accents.
    head = BytesHeaderParser(policy=compat32).parsebytes(raw_fixture("webmail_cp1258_raw8bit.eml"))
    subject = head.get("Subject")
    assert subject is not None and "\ufffd" in str(subject)
    assert decode_header_value(subject) == "BÀI CỘNG TÁC - Hội Phụ nữ khu phố 5 ra mắt mô hình “Tổ phụ nữ tiết kiệm”"


def test_decode_header_value_uses_the_given_legacy_charset_for_raw_bytes() -> None:
    assert decode_header_value(b"\xc1\xc2\xc3", fallback_charset="koi8-r") == "абц"


# --- senders and header fields ----------------------------------------------------------------------

SENDERS = [
    ("outlook_utf8_b64_split.eml", "Nguyễn Văn An", "an.nv@vanphong.quanuy.example"),
    ("webmail_cp1258_raw8bit.eml", "Võ Thị Hồng Nhung", "nhung.vth@phunu-kp5.example"),
    ("webmail_cp1258_rfc2047.eml", "Hoàng Thị Lụa", "lua.ht@thcs-nguyendu.example"),
    ("webmail_utf8_raw8bit_html_only.eml", "Đỗ Văn Hải", "hai.dv@mattran-phuong.example"),
    ("thunderbird_flowed_rfc2231.eml", "Phạm Quốc Dũng", "dung.pq@hoiccb.example"),
    ("outlook2003_cp1258_base64.eml", "Lương Văn Khải", "khai.lv@dangu-phuong.example"),
]


@pytest.mark.parametrize(("name", "sender_name", "address"), SENDERS, ids=[s[0] for s in SENDERS])
def test_sender_name_and_address(name: str, sender_name: str, address: str) -> None:
    parsed = parsed_fixture(name)
    assert parsed.sender_name == sender_name
    assert parsed.sender_address == address


def test_header_fields_of_an_outlook_message() -> None:
    parsed = parsed_fixture("outlook_utf8_b64_split.eml")
    assert parsed.message_id == "SG2PR06MB52841C6A9E0F4D2B8C3A7E11@SG2PR06MB5284.apcprd06.prod.outlook.com"
    assert parsed.date == datetime(2025, 6, 2, 1, 15, 42, tzinfo=UTC)
    assert parsed.reply_to is None
    assert parsed.in_reply_to is None
    assert parsed.references == ()
    assert parsed.is_auto_reply is False


def test_reply_headers_and_address_case() -> None:
    message = EmailMessage()
    message["From"] = '"Trần Thị Bình" <Binh.TT@Example.COM>'
    message["Reply-To"] = "Văn phòng <VanPhong@Example.COM>"
    message["Subject"] = "Re: BÀI CỘNG TÁC"
    message["Date"] = "Tue, 3 Jun 2025 07:20:00 +0700"
    message["In-Reply-To"] = "<a1@x.example>"
    message["References"] = "<a0@x.example> <a1@x.example>"
    message.set_content("Cảm ơn.")
    parsed = parse_message(message.as_bytes(policy=SMTP))
    assert (parsed.sender_name, parsed.sender_address) == ("Trần Thị Bình", "binh.tt@example.com")
    assert parsed.reply_to == "vanphong@example.com"
    assert parsed.in_reply_to == "a1@x.example"
    assert parsed.references == ("a0@x.example", "a1@x.example")
    assert parsed.date == datetime(2025, 6, 3, 7, 20, tzinfo=timezone(timedelta(hours=7)))
    assert parsed.message_id is None  # none was set


# --- attachment filenames -------------------------------------------------------------------------

FILENAMES = [
    # (fixture, filename, content type, origin, first paragraph of the .docx, how the name is encoded)
    (
        "outlook_utf8_b64_split.eml",
        "Sơ kết quý I - Chi bộ Văn phòng.docx",
        DOCX_TYPE,
        "attachment",
        "Chi bộ Văn phòng sơ kết công tác quý I năm 2025",
        b'filename="=?utf-8?B?U8ahIGvhur90IHF1w70gSSAtIENoaQ==?=\r\n =?utf-8?B?',  # RFC 2047 in quotes
    ),
    (
        "gmail_fwd_qp.eml",
        "Ra quân tình nguyện hè 2025.docx",
        DOCX_TYPE,
        "attachment",
        "Đoàn Thanh niên phường ra quân Chiến dịch Thanh niên tình nguyện hè 2025",
        b'filename="=?UTF-8?B?',
    ),
    (
        "thunderbird_flowed_rfc2231.eml",
        "Hội Cựu chiến binh phường gặp mặt kỷ niệm 50 năm Ngày Giải phóng miền Nam thống nhất đất nước.docx",
        DOCX_TYPE,
        "attachment",
        "Hội Cựu chiến binh phường gặp mặt kỷ niệm 50 năm Ngày Giải phóng miền Nam",
        b"filename*0*=UTF-8''H%E1%BB%99i%20C",  # RFC 2231 continuations
    ),
    (
        "webmail_cp1258_raw8bit.eml",
        "Mô hình tiết kiệm.docx",
        "application/octet-stream",
        "attachment",
        "Hội Phụ nữ khu phố 5 ra mắt mô hình “Tổ phụ nữ tiết kiệm”",
        b'application/octet-stream; name="M\xf4 hi\xccnh',  # name= only, raw windows-1258
    ),
    (
        "webmail_cp1258_rfc2047.eml",
        "Kết nạp đảng viên - THCS Nguyễn Du.docx",
        DOCX_TYPE,
        "attachment",
        "Chi bộ Trường THCS Nguyễn Du kết nạp đảng viên mới",
        b'filename="=?windows-1258?B?',
    ),
    (
        "webmail_utf8_raw8bit_html_only.eml",
        "Ngày hội Đại đoàn kết.docx",
        DOCX_TYPE,
        "attachment",
        "Phường tổ chức Ngày hội Đại đoàn kết toàn dân tộc",
        'filename="Ngày hội Đại đoàn kết.docx"'.encode(),  # raw UTF-8 in quotes
    ),
    (
        "applemail_nfd_inline.eml",
        "Trao nhà Đại đoàn kết.docx",
        DOCX_TYPE,
        "inline",
        "Mặt trận Tổ quốc phường trao nhà Đại đoàn kết",
        b"inline;\r\n\tfilename*=utf-8''Trao%20nha%CC%80",  # inline Word file, NFD RFC 2231 name
    ),
    (
        "outlook2003_cp1258_base64.eml",
        "Chuyen de 2025.docx",
        DOCX_TYPE,
        "attachment",
        "Đảng ủy phường học tập chuyên đề năm 2025",
        b'filename="Chuyen de 2025.docx"',
    ),
    (
        "phpmailer_split_bytes.eml",
        "Phòng chống tội phạm công nghệ cao.docx",
        "application/octet-stream",
        "attachment",
        "Công an phường tuyên truyền phòng chống tội phạm công nghệ cao",
        b'filename="=?UTF-8?B?',
    ),
    (
        "outlook_ascii_subject.eml",
        "Bai viet sinh hoat chuyen de.docx",
        DOCX_TYPE,
        "attachment",
        "Chi bộ Khu phố 3 sinh hoạt chuyên đề",
        b'filename="Bai viet sinh hoat chuyen de.docx"',
    ),
]


@pytest.mark.parametrize(
    ("name", "filename", "content_type", "origin", "heading", "raw_form"), FILENAMES, ids=[f[0] for f in FILENAMES]
)
def test_every_filename_encoding_gives_the_word_file(
    name: str, filename: str, content_type: str, origin: str, heading: str, raw_form: bytes
) -> None:
    raw = raw_fixture(name)
    assert raw_form in raw
    parsed = parse_message(raw)
    assert len(parsed.attachments) == 1
    attachment = parsed.attachments[0]
    assert attachment.filename == filename
    assert is_nfc(attachment.filename)
    assert attachment.content_type == content_type
    assert attachment.origin == origin
    assert docx_paragraphs(attachment.data)[0] == heading


def test_filename_from_a_windows_path_keeps_only_the_name() -> None:
    # Outlook Express style: the full path, backslashes not escaped, raw 8-bit in the quotes
    raw = (
        'Subject: BAI CONG TAC\r\nContent-Type: multipart/mixed; boundary="b"\r\n\r\n'
        "--b\r\nContent-Type: text/plain\r\n\r\nx\r\n"
        "--b\r\nContent-Type: application/octet-stream\r\n"
        'Content-Disposition: attachment; filename="C:\\Users\\An\\Desktop\\bài viết.docx"\r\n'
        "Content-Transfer-Encoding: base64\r\n\r\nUEsDBA==\r\n--b--\r\n"
    ).encode()
    parsed = parse_message(raw)
    assert [(a.filename, a.data) for a in parsed.attachments] == [("bài viết.docx", b"PK\x03\x04")]


# --- bodies ---------------------------------------------------------------------------------------


def test_windows_1258_8bit_body() -> None:
    parsed = parsed_fixture("webmail_cp1258_raw8bit.eml")
    assert parsed.text_body == (
        "Kính gửi Ban Biên tập,\n\nHội Phụ nữ khu phố 5 gửi bài về mô hình tiết kiệm.\n\nVõ Thị Hồng Nhung"
    )
    assert parsed.html_body is None


def test_windows_1258_quoted_printable_bodies() -> None:
    parsed = parsed_fixture("outlook2003_cp1258_base64.eml")
    assert "Đảng ủy phường gửi bài cộng tác tháng 6." in parsed.text_body
    assert parsed.html_body is not None and "Đảng ủy phường gửi bài cộng tác tháng 6." in parsed.html_body
    assert "Chi bộ gửi bài về lễ kết nạp đảng viên mới." in parsed_fixture("webmail_cp1258_rfc2047.eml").text_body


def test_html_only_body_becomes_one_line_per_paragraph() -> None:
    parsed = parsed_fixture("webmail_utf8_raw8bit_html_only.eml")
    assert parsed.text_body == (
        "Kính gửi Ban Biên tập,\n"
        "Mặt trận phường gửi bài viết về Ngày hội Đại đoàn kết toàn dân tộc.\n"
        "Trân trọng,\n"
        "Đỗ Văn Hải"
    )
    assert parsed.html_body is not None and parsed.html_body.startswith("<html>")


def test_outlook_plain_and_html_bodies() -> None:
    parsed = parsed_fixture("outlook_utf8_b64_split.eml")
    assert parsed.text_body.startswith("Kính gửi Ban Biên tập,\n\nChi bộ Văn phòng xin gửi bài cộng tác")
    assert parsed.html_body is not None and 'class="MsoNormal"' in parsed.html_body


def test_thunderbird_flowed_text_is_rejoined_and_the_signature_separator_kept() -> None:
    parsed = parsed_fixture("thunderbird_flowed_rfc2231.eml")
    lines = parsed.text_body.split("\n")
    assert (
        "Hội Cựu chiến binh phường xin gửi bài viết về buổi gặp mặt kỷ niệm 50 năm Ngày Giải phóng miền Nam, "
        "thống nhất đất nước (30/4/1975 – 30/4/2025). Bài viết và ảnh ở tệp đính kèm." in lines
    )
    assert "-- " in lines
    assert lines[-1] == "Chủ tịch Hội Cựu chiến binh phường"


def test_gmail_forward_header_stays_in_the_body() -> None:
    parsed = parsed_fixture("gmail_fwd_qp.eml")
    assert parsed.text_body.startswith("---------- Forwarded message ---------\nTừ: Lê Minh Châu")


# --- forwarded messages ---------------------------------------------------------------------------


def test_forwarded_as_attachment_yields_the_inner_word_file() -> None:
    parsed = parsed_fixture("thunderbird_forward_attached.eml")
    assert [(a.filename, a.origin) for a in parsed.attachments] == [("Chi đoàn hiến máu tình nguyện.docx", "forwarded")]
    assert docx_paragraphs(parsed.attachments[0].data)[0] == "Chi đoàn khu phố hiến máu tình nguyện"
    assert parsed.text_body == "Chuyển tiếp bài của đồng chí Lan."  # the inner body is not ours
    assert parsed.defects == ()


def test_nested_forward_yields_every_word_file_in_order() -> None:
    parsed = parsed_fixture("gmail_nested_forward.eml")
    assert [(a.filename, a.origin) for a in parsed.attachments] == [
        ("Tờ trình kèm bài.docx", "forwarded"),
        ("Bài chính - tổng kết thi đua.docx", "forwarded"),
    ]
    headings = [docx_paragraphs(a.data)[0] for a in parsed.attachments]
    assert headings == ["Tờ trình gửi kèm bài tổng kết thi đua", "Hội nghị tổng kết phong trào thi đua năm 2025"]


def _forward_chain(levels: int, article: bytes) -> bytes:
    inner = EmailMessage()
    inner["Subject"] = "BÀI CỘNG TÁC: tầng 0"
    inner.set_content("Bài ở tầng trong cùng.")
    inner.add_attachment(article, maintype="application", subtype=DOCX_TYPE.split("/")[1], filename="bài.docx")
    for level in range(1, levels + 1):
        outer = EmailMessage()
        outer["Subject"] = f"Fwd: tầng {level}"
        outer.set_content(f"Chuyển tiếp tầng {level}.")
        outer.add_attachment(inner)
        inner = outer
    return inner.as_bytes(policy=SMTP)


def test_forwards_deeper_than_max_depth_are_kept_whole_with_a_defect() -> None:
    article = build.make_docx("Bài ở tầng trong cùng", ["Nội dung."], "Tác giả")
    assert [a.origin for a in parse_message(_forward_chain(4, article)).attachments] == ["forwarded"]

    parsed = parse_message(_forward_chain(4, article), max_depth=2)
    assert any("lồng quá 2 cấp" in d for d in parsed.defects)
    assert [a.content_type for a in parsed.attachments] == ["message/rfc822"]
    assert b"Content-Type: message/rfc822" in parsed.attachments[0].data  # the rest of the chain, unopened


def test_an_attached_eml_file_is_unwrapped_like_a_forward() -> None:
    inner = raw_fixture("outlook_ascii_subject.eml")
    parsed = parse_message(wrap(inner, "bai gui lai.eml", "application/octet-stream"))
    assert [(a.filename, a.origin) for a in parsed.attachments] == [("Bai viet sinh hoat chuyen de.docx", "forwarded")]


# --- TNEF (winmail.dat) ---------------------------------------------------------------------------


def test_the_tnef_writer_produces_what_tnefparse_reads() -> None:
    article = build.tnef_docx()
    stream = build.tnef_stream(
        subject="BÀI CỘNG TÁC: thử",
        body="Kính gửi Ban Biên tập",
        sent=datetime(2025, 6, 6, 2, 30),
        attachments=[(build.TNEF_DOCX_NAME, DOCX_TYPE, article)],
    )
    assert stream[:4] == b"\x78\x9f\x3e\x22"
    tnef = TNEF(stream, do_checksum=True)
    assert all(obj.good_checksum for obj in tnef.objects)
    assert tnef.codepage == "cp1258"
    assert len(tnef.attachments) == 1
    assert tnef.attachments[0].long_filename() == "Tổ công nghệ số cộng đồng.docx"
    assert tnef.attachments[0].data == article
    subject = next(o.data for o in tnef.msgprops if o.name_str == "Subject")
    assert unicodedata.normalize("NFC", subject) == "BÀI CỘNG TÁC: thử"


def test_winmail_dat_is_unwrapped_into_the_word_file() -> None:
    parsed = parsed_fixture("outlook_tnef_winmail.eml")
    assert [(a.filename, a.content_type, a.origin) for a in parsed.attachments] == [
        ("Tổ công nghệ số cộng đồng.docx", DOCX_TYPE, "tnef")
    ]
    assert docx_paragraphs(parsed.attachments[0].data)[0] == "Phường ra mắt Tổ công nghệ số cộng đồng"
    assert parsed.text_body == "Kính gửi Ban Biên tập,\nXin gửi bài về Tổ công nghệ số cộng đồng.\nĐặng Thu Hà"
    assert parsed.defects == ()


def test_a_message_that_is_only_winmail_dat_takes_its_body_from_tnef() -> None:
    parsed = parsed_fixture("exchange_tnef_body_only.eml")
    assert parsed.attachments == ()  # the body inside TNEF is not a document
    assert parsed.text_body == (
        "Kính gửi Ban Biên tập,\nTác giả bài gửi hôm qua là đồng chí Đặng Thu Hà, Tổ công nghệ số."
    )
    assert parsed.defects == ()


# every corpus TNEF stream, wrapped the way Exchange sends it: (file, names, magic of the first file)
CORPUS_TNEF = [
    ("mimekit_panic.tnef", ["image001.jpg", "image002.jpg", "image003.png"], JPEG),
    ("mimekit_winmail.tnef", ["Untitled Attachment", "Untitled Attachment"], None),
    ("tnefparse_umlaut.tnef", ["TBZ PARIV GmbH.jpg", "image003.jpg", "UmlautAnhang-äüö.txt"], JPEG),
    (
        "tnefparse_unicode-mapi-attr-name.tnef",
        ["spaconsole2.cfg", "image001.png", "image002.png", "image003.png"],
        None,
    ),
    ("tnefparse_bad_checksum.tnef", ["image001.png"], PNG),
    ("tnefparse_body.tnef", [], None),
    ("tnefparse_rtf.tnef", [], None),
    ("tnefparse_triples.tnef", [], None),
    ("tnefparse_garbage-at-end.tnef", [], None),
]


@pytest.mark.parametrize(("name", "filenames", "magic"), CORPUS_TNEF, ids=[t[0] for t in CORPUS_TNEF])
def test_corpus_tnef_streams_inside_a_real_message(name: str, filenames: list[str], magic: bytes | None) -> None:
    raw = wrap(real.read(f"tnef/{name}"), "winmail.dat", "application/ms-tnef")
    parsed = parse_message(raw)
    assert [a.filename for a in parsed.attachments] == filenames
    assert all(a.origin == "tnef" and a.data for a in parsed.attachments)
    if magic:
        assert parsed.attachments[0].data.startswith(magic)
    assert parsed.subject == "BÀI CỘNG TÁC: chuyển tiếp"
    assert parsed.text_body.startswith("Xem tệp đính kèm.")  # the MIME body wins over the TNEF body
    if name == "tnefparse_bad_checksum.tnef":
        assert any("checksum" in d for d in parsed.defects)


def test_corpus_tnef_images_and_content_types() -> None:
    raw = wrap(real.read("tnef/mimekit_panic.tnef"), "winmail.dat", "application/ms-tnef")
    parsed = parse_message(raw)
    assert [a.content_type for a in parsed.attachments] == ["image/jpeg", "image/jpeg", "image/png"]
    assert parsed.attachments[2].data.startswith(PNG)
    umlaut = parse_message(wrap(real.read("tnef/tnefparse_umlaut.tnef"), "winmail.dat",
                                "application/ms-tnef"))  # fmt: skip
    assert umlaut.attachments[2].content_type == "text/plain"


def test_damaged_winmail_dat_stays_an_attachment_with_a_defect() -> None:
    garbage = b"this is not a TNEF stream at all" * 4
    parsed = parse_message(wrap(garbage, "winmail.dat", "application/ms-tnef"))
    assert [(a.filename, a.data, a.origin) for a in parsed.attachments] == [("winmail.dat", garbage, "attachment")]
    assert any("winmail.dat" in d and "giữ nguyên" in d for d in parsed.defects)


def _hostile_tnef(mapi_block: bytes) -> bytes:
    stream = build.tnef_stream(subject="BÀI CỘNG TÁC", body=None, sent=datetime(2025, 6, 6), attachments=[])
    rend = struct.pack("<HIHHI", 1, 0xFFFFFFFF, 0, 0, 0)
    stream += build.tnef_attribute(build.LVL_ATTACHMENT, build.ATT_ATTACH_REND_DATA, rend)
    return stream + build.tnef_attribute(build.LVL_ATTACHMENT, build.ATT_ATTACHMENT, mapi_block)


@pytest.mark.parametrize(
    "mapi_block",
    [
        struct.pack("<I", 0xFFFFFFFF) + bytes(8),  # 4 billion properties in 8 bytes
        struct.pack("<IHHI", 1, 0x1003, 0x3705, 0xFFFFFFFF) + bytes(4),  # 4 billion values of a long
    ],
    ids=["property-count", "multi-value-count"],
)
def test_hostile_tnef_counts_are_refused_before_tnefparse_loops_on_them(mapi_block: bytes) -> None:
    # tnefparse would loop over these counts for hours; the stream is kept as it came, with a defect.
    stream = _hostile_tnef(mapi_block)
    parsed = parse_message(wrap(stream, "winmail.dat", "application/ms-tnef"))
    assert [(a.filename, a.data) for a in parsed.attachments] == [("winmail.dat", stream)]
    assert any("cấu trúc TNEF không hợp lệ" in d for d in parsed.defects)


def test_winmail_dat_found_by_its_signature_under_another_name() -> None:
    data = real.read("tnef/tnefparse_umlaut.tnef")
    parsed = parse_message(wrap(data, "ATT00001.bin", "application/octet-stream"))
    assert [a.filename for a in parsed.attachments] == ["TBZ PARIV GmbH.jpg", "image003.jpg", "UmlautAnhang-äüö.txt"]


def test_the_exchange_tnef_corpus_mail_has_its_body_and_no_leftover_winmail() -> None:
    parsed = parse_message(real.read("email/mimekit_tnef_ukr.eml"))
    assert parsed.subject == "rr test 7"
    assert parsed.text_body.startswith("шостий")  # koi8-r quoted-printable
    assert parsed.attachments == ()
    assert parsed.defects == ()


# --- attached Outlook .msg ------------------------------------------------------------------------

# (file, attachment name, content type, expected [(filename, magic)])
CORPUS_MSG = [
    ("hiraoka_msgInMsgInMsg.msg", "fwd.msg", "application/vnd.ms-outlook", [("green.png", PNG), ("blue.png", PNG)]),
    (
        "msgreader_EmailWithInnerMailAndAttachments.msg",
        "Outer mail.msg",
        "application/vnd.ms-outlook",
        [("OUTER 1.pdf", PDF), ("OUTER 2.pdf", PDF), ("INNER 1.pdf", PDF), ("INNER 2.pdf", PDF)],
    ),
    ("hiraoka_attachAndInline.msg", "x.msg", "application/octet-stream", [("attach.png", PNG), ("image001.png", PNG)]),
    (  # no extension, generic type: recognised by its OLE2 structure
        "mailparser_mail_outlook_1",
        "mail_outlook_1",
        "application/octet-stream",
        [
            ("newsletter.png", PNG),
            ("spacer.gif", b"GIF8"),
            ("image004.jpg", JPEG),
            ("image006.jpg", JPEG),
            ("image008.jpg", JPEG),
        ],
    ),
    ("msgreader_EmailWithSpecialCharsInSubject.msg", "y.msg", "application/vnd.ms-outlook", []),
    ("hiraoka_nonUnicodeCP932.msg", "z.msg", "application/vnd.ms-outlook", []),
    ("msgextractor_strangeDate.msg", "d.msg", "application/vnd.ms-outlook", []),
]


@pytest.mark.parametrize(("name", "filename", "content_type", "expected"), CORPUS_MSG, ids=[m[0] for m in CORPUS_MSG])
def test_corpus_outlook_msg_attached_to_a_message(
    name: str, filename: str, content_type: str, expected: list[tuple[str, bytes]]
) -> None:
    parsed = parse_message(wrap(real.read(f"msg/{name}"), filename, content_type))
    assert [a.filename for a in parsed.attachments] == [n for n, _magic in expected]
    for attachment, (_name, magic) in zip(parsed.attachments, expected, strict=True):
        assert attachment.origin == "msg"
        assert attachment.data.startswith(magic)
    assert parsed.defects == ()


def test_msg_attachment_content_types_are_filled_in() -> None:
    data = real.read("msg/msgreader_EmailWithInnerMailAndAttachments.msg")
    parsed = parse_message(wrap(data, "Outer mail.msg", "application/vnd.ms-outlook"))
    assert {a.content_type for a in parsed.attachments} == {"application/pdf"}


@pytest.mark.parametrize("name", [n.removeprefix("msg/") for n in real.names("msg/*")])
def test_a_bare_msg_file_given_as_the_message_does_not_raise(name: str) -> None:
    parsed = parse_message(real.read(f"msg/{name}"))
    assert any("Outlook" in d for d in parsed.defects)
    assert all(a.origin == "msg" for a in parsed.attachments)


def test_a_word_97_file_is_a_document_not_a_container() -> None:
    doc = real.read("doc/mauvanban_don-xin-nghi-phep.doc")
    parsed = parse_message(wrap(doc, "Đơn xin nghỉ phép.doc", "application/msword"))
    found = [(a.filename, a.data, a.origin) for a in parsed.attachments]
    assert found == [("Đơn xin nghỉ phép.doc", doc, "attachment")]
    assert parsed.defects == ()


def test_a_msg_that_is_not_outlook_stays_an_attachment_with_a_defect() -> None:
    doc = real.read("doc/mauvanban_don-xin-nghi-phep.doc")
    parsed = parse_message(wrap(doc, "thu.msg", "application/vnd.ms-outlook"))
    assert [(a.filename, a.data) for a in parsed.attachments] == [("thu.msg", doc)]
    assert any("Outlook (.msg)" in d and "giữ nguyên" in d for d in parsed.defects)


def test_an_rfc822_file_named_msg_is_read_as_a_forwarded_message() -> None:
    data = real.read("email/mimekit_dkim_related.msg")
    parsed = parse_message(wrap(data, "related.msg", "application/octet-stream"))
    assert [(a.filename, a.origin) for a in parsed.attachments] == [("Christopher-Lloyd-as-Doc-Brown.jpg", "forwarded")]
    assert parsed.attachments[0].data.startswith(JPEG)


# --- automatic replies ----------------------------------------------------------------------------


def test_out_of_office_and_bounce_fixtures_are_automatic() -> None:
    oof = parsed_fixture("outlook_auto_reply.eml")
    assert oof.is_auto_reply
    assert oof.subject == "Trả lời Tự động: BÀI CỘNG TÁC: Chi bộ Văn phòng tổ chức hội nghị sơ kết"
    assert oof.in_reply_to == "SG2PR06MB52841C6A9E0F4D2B8C3A7E11@SG2PR06MB5284.apcprd06.prod.outlook.com"
    bounce = parsed_fixture("bounce_mailer_daemon.eml")
    assert bounce.is_auto_reply
    assert bounce.sender_address == "mailer-daemon@mx.congthongtin.quanuy.example"
    assert bounce.attachments == ()  # the returned receipt has no documents


def _simple(headers: dict[str, str], content_type: str = "text/plain") -> bytes:
    message = Message()
    message["From"] = headers.pop("From", "An <an@x.example>")
    message["Subject"] = "Bai cong tac"
    for name, value in headers.items():
        message[name] = value
    message["Content-Type"] = content_type
    message.set_payload("Noi dung.\n" if content_type == "text/plain" else [])
    if content_type.startswith("multipart/"):
        part = Message()
        part["Content-Type"] = "text/plain"
        part.set_payload("Delivery failed.\n")
        message.attach(part)
    return message.as_bytes()


AUTO = [
    ({}, "text/plain", False),
    ({"Auto-Submitted": "auto-replied"}, "text/plain", True),
    ({"Auto-Submitted": "auto-generated; owner-email=x@x.example"}, "text/plain", True),
    ({"Auto-Submitted": "no"}, "text/plain", False),
    ({"X-Autoreply": "yes"}, "text/plain", True),
    ({"X-Autorespond": "Tôi vắng mặt"}, "text/plain", True),
    ({"Precedence": "bulk"}, "text/plain", True),
    ({"Precedence": "junk"}, "text/plain", True),
    ({"Precedence": "auto_reply"}, "text/plain", True),
    ({"Precedence": "list"}, "text/plain", False),
    ({}, 'multipart/report; report-type=delivery-status; boundary="b"', True),
    ({}, 'multipart/report; report-type=disposition-notification; boundary="b"', True),
    ({"From": "MAILER-DAEMON@mx.example (Mail Delivery System)"}, "text/plain", True),
    ({"From": "Mailer-Daemon <mailer-daemon@mx.example>"}, "text/plain", True),
    ({"Return-Path": "<>"}, "text/plain", True),
    ({"Return-Path": "<an@x.example>"}, "text/plain", False),
]


@pytest.mark.parametrize(("headers", "content_type", "automatic"), AUTO)
def test_is_auto_reply(headers: dict[str, str], content_type: str, automatic: bool) -> None:
    assert parse_message(_simple(dict(headers), content_type)).is_auto_reply is automatic


# --- the real corpus: every file parses, with the facts SOURCES.md states ---------------------------

CORPUS_EMAILS = [n.removeprefix("email/") for n in real.names("email/*")]


@pytest.mark.parametrize("name", CORPUS_EMAILS)
def test_every_corpus_email_parses(name: str) -> None:
    parsed = parse_message(real.read(f"email/{name}"))
    assert isinstance(parsed, ParsedMessage)
    if name != "mimekit_multipart-related-mhtml.txt":  # the only one without a Subject
        assert parsed.subject
    assert parsed.sender_address or name == "mimekit_multipart-related-mhtml.txt"
    assert all(isinstance(a, Attachment) and isinstance(a.data, bytes) for a in parsed.attachments)
    assert_all_nfc(parsed)


def corpus(name: str) -> ParsedMessage:
    return parse_message(real.read(f"email/{name}"))


def test_corpus_windows_1258_list_mail() -> None:
    parsed = corpus("gitlist_windows-1258-8bit.eml")
    assert parsed.subject == "Re: Hash for a commit sourcetree beside to a commit hash"
    assert parsed.text_body.startswith("Hello Đoàn,")
    assert "ĐTCD> Does `git rev-parse commit^{tree}` works for you?" in parsed.text_body
    assert parsed.is_auto_reply  # list traffic: Precedence: bulk
    raw = real.read("email/gitlist_windows-1258-8bit.eml")
    head = BytesHeaderParser(policy=compat32).parsebytes(raw)
    to = next(v for k, v in head.raw_items() if k.lower() == "to")
    assert decode_header_value(to).startswith("Đoàn Trần Công Danh <")  # "Trần" uses a combining grave


def test_corpus_vietnamese_outlook_reply_in_nfd_becomes_nfc() -> None:
    raw = real.read("email/dwf_sang.ly-techlabcorp_vi-utf8-nfd.eml")
    body = base64.b64decode(raw.split(b"\r\n\r\n", 1)[1]).decode()
    assert not is_nfc(body)  # "Đã gửi", "Đến", "Chủ đề" were typed decomposed
    assert "Chủ đề:" not in body
    parsed = parse_message(raw)
    assert is_nfc(parsed.text_body)
    for line in ("-----Thư Gốc-----", "Đã gửi: Sunday, May 27, 2018 10:09 AM", "Đến: Sang Ly", "Chủ đề: DWF/CVE"):
        assert line in parsed.text_body
    assert parsed.sender_name == "Sang Ly"


def test_corpus_office365_subject_folded_without_indentation_is_recovered() -> None:
    parsed = corpus("msgreader_UTF-8_Test.eml")
    assert parsed.subject == "【要確認】●普通自転車（ノーパンクタイヤ） 再予約通知 2023/11/29 12:00 - 13:00"
    assert parsed.sender_address == "system@example.com"
    assert not parsed.text_body.startswith("=?utf-8?")
    assert any("gập dòng" in d for d in parsed.defects)


def test_corpus_inline_images_and_attachments() -> None:
    related = corpus("dwf_Mukhammad.khalilov_related-8-images.eml")
    assert len(related.attachments) == 8 and {a.origin for a in related.attachments} == {"inline"}
    no_disposition = corpus("msgreader_TestWithInlineHavingNoContentDisposition.eml")
    assert [(a.filename, a.origin) for a in no_disposition.attachments] == [
        ("Outlook-facebook.png", "inline"),
        ("attachment.txt", "attachment"),
    ]
    ibm = corpus("mailparser_mail_test_10")
    assert ("Move To Eight ZWEP6227F.pdf", "attachment") in [(a.filename, a.origin) for a in ibm.attachments]
    assert ibm.attachments[-1].data.startswith(PDF)
    order = corpus("mailparser_mail_test_7")
    assert [a.filename for a in order.attachments][:3] == ["image001.jpg", "att24916.htm", "image002.jpg"]


def test_corpus_transfer_encoded_rfc822_parts_are_kept_decoded() -> None:
    parsed = corpus("msgreader_TestWithAttachmentsAndInlines.eml")
    assert parsed.sender_name == "Müller Peter"
    kept = [a.data for a in parsed.attachments if a.content_type == "message/rfc822"]
    assert kept == [b"Attachment Content", b"Attachment Content"]


def test_corpus_malformed_and_partial_mail_report_defects() -> None:
    for name in ("mailparser_mail_malformed_1", "mailparser_mail_malformed_3"):
        assert any("StartBoundaryNotFoundDefect" in d for d in corpus(name).defects), name
    bounce = corpus("mailparser_mail_malformed_2")  # its broken part is inside the returned headers
    assert bounce.is_auto_reply
    assert bounce.text_body.startswith("Your message has encountered delivery problems")
    for index in range(3):
        assert any("message/partial" in d for d in corpus(f"mimekit_message-partial.{index}.eml").defects)
    bad_date = corpus("cpython_msg_47.txt")
    assert bad_date.date is None
    assert any("Ngày gửi không hợp lệ" in d for d in bad_date.defects)


def test_corpus_mostly_utf8_body_with_one_broken_byte_is_not_mojibake() -> None:
    parsed = corpus("mailparser_mail_test_6")
    assert parsed.text_body.startswith("Профиль")


def test_corpus_pathological_header_and_charsets() -> None:
    assert corpus("mimekit_stack-overflow.txt").subject == "Message Subject"
    japanese = corpus("mimekit_japanese.txt")
    assert japanese.subject == "日本語メールテスト (testing Japanese emails)"
    assert "日本語が" in japanese.text_body
    assert corpus("mailparser_mail_test_5").subject == "Je prépare mon été zéro complexe !"


# --- hostile input --------------------------------------------------------------------------------


def _nested(levels: int, kind: str) -> bytes:
    out = "From: a@b.example\r\nSubject: BÀI CỘNG TÁC sâu\r\n".encode()
    for level in range(levels):
        if kind == "multipart":
            out += b'Content-Type: multipart/mixed; boundary="b%d"\r\n\r\n--b%d\r\n' % (level, level)
        else:
            out += b"Content-Type: message/rfc822\r\n\r\nSubject: level %d\r\n" % level
    out += b"Content-Type: text/plain\r\n\r\nhello\r\n"
    if kind == "multipart":
        out += b"".join(b"--b%d--\r\n" % level for level in reversed(range(levels)))
    return out


@pytest.mark.parametrize("kind", ["multipart", "rfc822"])
def test_hostile_nesting_does_not_raise(kind: str) -> None:
    parsed = parse_message(_nested(3000, kind))
    assert parsed.subject == "BÀI CỘNG TÁC sâu"
    assert parsed.defects


def test_part_count_is_limited() -> None:
    message = EmailMessage()
    message["Subject"] = "BÀI CỘNG TÁC"
    message.set_content("x")
    for index in range(60):
        message.add_attachment(b"%d" % index, maintype="application", subtype="octet-stream", filename=f"{index}.bin")
    parsed = parse_message(message.as_bytes(policy=SMTP), max_parts=20)
    assert any("hơn 20 phần" in d for d in parsed.defects)
    assert 0 < len(parsed.attachments) < 20
    assert len(parse_message(message.as_bytes(policy=SMTP)).attachments) == 60


def test_empty_and_garbage_input_do_not_raise() -> None:
    for raw in (b"", b"\x00\xff\xfe garbage \x00", b"\r\n\r\n", b"Subject: =?utf-8?B?\r\n\r\n"):
        parsed = parse_message(raw)
        assert isinstance(parsed, ParsedMessage)
    assert parse_message(b"").defects


SMALL_SOURCES = [
    raw_fixture("outlook_auto_reply.eml"),
    raw_fixture("bounce_mailer_daemon.eml"),
    raw_fixture("exchange_tnef_body_only.eml"),
    # the cp1258 list mail is not redistributable: fuzzed only where the external corpus is
    *(p.read_bytes()[:4000] for p in real.available("email/gitlist_windows-1258-8bit.eml")),
    real.read("email/msgreader_TestWithAttachmentsAndInlines.eml"),
]


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    source=st.sampled_from(SMALL_SOURCES),
    edits=st.lists(st.tuples(st.floats(0, 1), st.binary(min_size=0, max_size=8)), max_size=6),
    cut=st.floats(0.05, 1),
)
def test_damaged_mail_never_raises(source: bytes, edits: list[tuple[float, bytes]], cut: float) -> None:
    data = bytearray(source[: max(1, int(len(source) * cut))])
    for where, junk in edits:
        at = int(where * len(data))
        data[at : at + len(junk)] = junk
    parsed = parse_message(bytes(data))
    assert isinstance(parsed, ParsedMessage)
    assert_all_nfc(parsed)


# --- the fixtures can be rebuilt --------------------------------------------------------------------


def _summary(parsed: ParsedMessage) -> tuple:
    files = tuple(
        (a.filename, a.content_type, a.origin, tuple(docx_paragraphs(a.data)) if a.data[:2] == b"PK" else a.data)
        for a in parsed.attachments
    )
    return (parsed.subject, parsed.sender_name, parsed.sender_address, parsed.date, parsed.message_id,
            parsed.text_body, parsed.html_body, parsed.is_auto_reply, parsed.defects, files)  # fmt: skip


def test_build_script_reproduces_the_committed_fixtures(tmp_path: Path) -> None:
    written = build.build_all(tmp_path)
    committed = sorted(p.name for p in FIXTURES.glob("*.eml"))
    assert sorted(p.name for p in written) == committed
    for path in written:
        assert path.stat().st_size < 200_000
        assert _summary(parse_message(path.read_bytes())) == _summary(parsed_fixture(path.name)), path.name
