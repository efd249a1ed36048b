"""Hypothesis strategies for intake's inputs: MIME messages as odd as real mail gets, Word files built
from strategies, and byte-level mutations of the repository's fixtures and of the real corpus.

Messages are written as bytes by hand (not through the email package), so that what no library would
write comes out too: a boundary the body never uses, a header without a colon, a charset that does not
exist, base64 cut in the middle of a character. Most subjects carry the submission marker, so that a
message goes past the first step into parsing and Word conversion, where the work is.
"""

from __future__ import annotations

import base64
import io
import quopri
import re
import unicodedata
import zipfile
from functools import cache
from pathlib import Path

from hypothesis import strategies as st

from tests import corpus as real

REPO = Path(__file__).resolve().parents[2]
FIXTURES = REPO / "tests" / "fixtures"
MARKER = "BÀI CỘNG TÁC"
DOCX_TYPE = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
# Sources larger than this are left out of the mutations: a message of several MB costs seconds apiece.
_MAX_SOURCE_BYTES = 600_000

# Vietnamese as contributors write it (NFC and NFD, with and without tones), and words mail mangles.
_PROSE = (
    "Chi bộ Văn phòng sinh hoạt chuyên đề quý IV năm 2026 đồng chí Trần Minh Đức Phó Bí thư Đảng ủy "
    "nâng cao tinh thần trách nhiệm tác phong làm việc của cán bộ đảng viên Nguyễn Thị Lan Ảnh Quang cảnh "
    "Tin Bài tỉnh ủy Hội nghị học tập quán triệt Nghị quyết Chỉ thị số 05-CT/TW Bộ Chính trị ĐẢNG ỦY"
)
_WORDS = _PROSE.split()
_NFD = ["Tiếng Việt", "Đảng ủy", "Hội nghị"]
vn_word = st.one_of(
    st.sampled_from(_WORDS),
    st.sampled_from(_NFD).map(lambda w: unicodedata.normalize("NFD", w)),
    st.text(min_size=1, max_size=6),
)
vn_text = st.lists(vn_word, min_size=1, max_size=12).map(" ".join)

# Charsets in the wild, names Python does not know, and names that lie about the bytes.
CHARSETS = ["utf-8", "UTF-8", "windows-1258", "cp1258", "iso-8859-1", "us-ascii", "utf-16", "gb2312", "x-unknown",
            "tcvn3", "vni", "", "utf8", "windows-1252"]  # fmt: skip
ENCODINGS = ["base64", "quoted-printable", "7bit", "8bit", "binary", "x-uuencode", "BASE64", "bogus", None]
MULTIPART_SUBTYPES = ["mixed", "alternative", "related", "report", "digest", "signed", "x-unknown"]
CONTENT_TYPES = [DOCX_TYPE, "application/msword", "application/octet-stream", "application/ms-tnef",
                 "application/vnd.ms-tnef", "image/jpeg", "image/png", "text/plain", "text/html", "application/pdf",
                 "application/zip", "application/vnd.ms-outlook", "application/rtf", "application/x-garbage",
                 "text/plain; format=flowed; delsp=yes", "bogus"]  # fmt: skip
FILENAMES = ["Tin sinh hoạt chuyên đề.docx", "bai.docx", "BÀI VIẾT.DOCX", "tai lieu.doc", "winmail.dat", "anh 1.jpg",
             "x.pdf", "bai.docx.exe", "../../etc/passwd.docx", "a" * 300 + ".docx", "bài.rtf", "bai.odt",
             "thu chuyen tiep.msg", "noname", ".docx", "con:.docx", "bai\x00.docx"]  # fmt: skip
SENDERS = ["lan.nguyen@vanphong.tinhuy.example", "an.nguyen@gmail.com", "congdoan@vanphong.tinhuy.example",
           "la.mat@example.org", "không-ascii@ví-dụ.vn", "<>", "", "a@b@c", "MAILER-DAEMON@mx.example"]  # fmt: skip


def _codec(charset: str) -> str:
    try:
        "".encode(charset)
        return charset
    except LookupError:
        return "utf-8"  # the name lies: the bytes are UTF-8


def _encode(text: str, charset: str) -> bytes:
    """The text in the charset as a mail client writes it: windows-1258 has few precomposed letters,
    so "Ộ" goes as "Ô" and a combining dot below; what the charset cannot hold becomes "?"."""
    codec = _codec(charset)
    out = bytearray()
    for char in unicodedata.normalize("NFC", text):
        try:
            out += char.encode(codec)
            continue
        except UnicodeEncodeError:
            pass
        base, *marks = list(unicodedata.normalize("NFD", char))
        for i, mark in enumerate(marks):  # one mark apart, the rest composed with the letter
            rest = unicodedata.normalize("NFC", base + "".join(marks[:i] + marks[i + 1 :]))
            try:
                out += rest.encode(codec) + mark.encode(codec)
                break
            except UnicodeEncodeError:
                continue
        else:
            out += char.encode(codec, errors="replace")
    return bytes(out)


# ------------------------------------------------------------------------------------- headers
# Charsets that can spell the marker: a subject in them still reaches the later steps.
VIETNAMESE_CHARSETS = ["utf-8", "UTF-8", "windows-1258", "utf8"]


@st.composite
def encoded_words(draw: st.DrawFn, text: str, charsets: list[str] = CHARSETS) -> bytes:
    """RFC 2047 words, sometimes split inside a character (as PHPMailer does) or broken."""
    charset = draw(st.sampled_from(charsets))
    data = _encode(text, charset)
    pieces = draw(st.integers(1, 4))
    cuts = sorted(draw(st.lists(st.integers(0, len(data)), min_size=pieces - 1, max_size=pieces - 1)))
    chunks = [data[a:b] for a, b in zip([0, *cuts], [*cuts, len(data)], strict=True)]
    out = []
    for chunk in chunks:
        if draw(st.booleans()):
            payload = base64.b64encode(chunk)
            kind = b"B"
        else:
            payload = quopri.encodestring(chunk, header=True).replace(b"=\n", b"")
            kind = b"Q"
        if draw(st.integers(0, 9)) == 0:  # broken: cut, or a stray character in the payload
            payload = payload[: max(0, len(payload) - 3)] + draw(st.sampled_from([b"", b"?", b" ", b"=", b"\xc3"]))
        out.append(b"=?" + charset.encode() + b"?" + kind + b"?" + payload + b"?=")
    return draw(st.sampled_from([b" ", b"\r\n ", b""])).join(out)


@st.composite
def header_value(draw: st.DrawFn, text: str, charsets: list[str] = CHARSETS) -> bytes:
    how = draw(st.sampled_from(["utf8", "encoded", "cp1258", "ascii", "garbage", "huge"]))
    if how == "utf8":
        return text.encode()
    if how == "encoded":
        return draw(encoded_words(text, charsets))
    if how == "cp1258":
        return _encode(text, "cp1258")
    if how == "ascii":
        return text.encode("ascii", errors="replace")
    if how == "garbage":
        return text.encode() + draw(st.binary(max_size=20))
    line = text.encode() + b" "
    return b"\r\n ".join([line * 8] * draw(st.integers(10, 400)))  # folded, up to ~1 MB


@st.composite
def subject(draw: st.DrawFn) -> bytes:
    rest = draw(vn_text)
    prefix = draw(st.sampled_from(["", "Re: ", "Fwd: ", "TL: ", "Chuyển tiếp: ", "RE: FW: "]))
    marker = draw(st.sampled_from([f"[{MARKER}] ", f"{MARKER}: ", MARKER.lower() + " ", "", f"[{MARKER}]"]))
    # Mostly in a charset that keeps the marker, so that most messages are read to the end.
    charsets = CHARSETS if draw(st.integers(0, 3)) == 0 else VIETNAMESE_CHARSETS
    return draw(header_value(prefix + marker + rest, charsets))


@st.composite
def top_headers(draw: st.DrawFn) -> list[bytes]:
    name = draw(vn_text)
    address = draw(st.sampled_from(SENDERS))
    lines = [
        b"From: " + draw(header_value(name)) + b" <" + address.encode() + b">",
        b"To: bientap@tinhuy.example",
        b"Subject: " + draw(subject()),
    ]
    date = draw(st.sampled_from(["Fri, 20 Nov 2026 08:30:00 +0700", "Thứ Sáu, 20/11/2026", "", "99 Foo 0000 25:61"]))
    lines.append(b"Date: " + date.encode())
    mid = draw(st.one_of(st.just("fuzz-same@tinhuy.example"), st.uuids().map(lambda u: f"{u}@fuzz.example")))
    if draw(st.integers(0, 5)):
        lines.append(b"Message-ID: <" + mid.encode() + b">")
    if draw(st.booleans()):
        lines.append(b"MIME-Version: 1.0")
    extras = draw(
        st.lists(
            st.sampled_from(
                [
                    b"Auto-Submitted: auto-replied",
                    b"X-Junk: " + b"x" * 200_000,  # one enormous unfolded header line
                    b"this line has no colon",
                    b"Subject: a second subject",
                    b": empty name",
                    b"X-Nul: a\x00b",
                    b"In-Reply-To: <ts-2026-00001@tinhuy.example>",
                    b"References: " + b" ".join(b"<%d@x>" % i for i in range(300)),
                    b"Content-Type: text/plain; charset=utf-8",  # a second Content-Type before the real one
                ]
            ),
            max_size=2,
        )
    )
    return lines + extras


# ------------------------------------------------------------------------------------- bodies
@st.composite
def transfer_encoded(draw: st.DrawFn, data: bytes) -> tuple[bytes | None, bytes]:
    """(Content-Transfer-Encoding, body) for the bytes, sometimes lying or damaged."""
    cte = draw(st.sampled_from(ENCODINGS))
    if cte and cte.lower() == "base64":
        body = base64.encodebytes(data) if draw(st.booleans()) else base64.b64encode(data)
        if draw(st.integers(0, 7)) == 0:
            body = body[: draw(st.integers(0, len(body)))] + b"!!=="
    elif cte == "quoted-printable":
        body = quopri.encodestring(data)
    else:
        body = data  # 7bit may well hold 8-bit bytes; x-uuencode and bogus are not what they claim
    return (cte.encode() if cte else None), body


@st.composite
def filename_params(draw: st.DrawFn) -> bytes:
    name = draw(st.one_of(st.sampled_from(FILENAMES), vn_text.map(lambda t: t + ".docx")))
    how = draw(st.sampled_from(["quoted", "rfc2231", "rfc2047", "raw", "none", "split"]))
    if how == "quoted":
        return b'; filename="' + name.encode() + b'"'
    if how == "rfc2231":
        return b"; filename*=utf-8''" + re.sub(rb"[^A-Za-z0-9.]", lambda m: b"%%%02X" % m[0][0], name.encode())
    if how == "rfc2047":
        return b'; filename="' + draw(encoded_words(name)) + b'"'
    if how == "raw":
        return b"; filename=" + _encode(name, "cp1258")
    if how == "split":
        data = name.encode()
        half = len(data) // 2
        return b"; filename*0*=utf-8''" + data[:half].hex().encode() + b";\r\n filename*1=" + data[half:]
    return b""


@st.composite
def leaf(draw: st.DrawFn, payloads: st.SearchStrategy[bytes]) -> bytes:
    kind = draw(st.sampled_from(["text", "html", "attachment", "attachment", "attachment"]))
    charset = draw(st.sampled_from(CHARSETS))
    if kind in ("text", "html"):
        text = draw(vn_text)
        if kind == "html":
            text = f"<html><body><p>{text}</p><script>alert(1)</script></body></html>"
        ctype = b"text/" + kind.replace("text", "plain").encode() + b"; charset=" + charset.encode()
        data = _encode(text, charset)
        headers = [b"Content-Type: " + ctype]
    else:
        data = draw(payloads)
        ctype = draw(st.sampled_from(CONTENT_TYPES)).encode()
        params = draw(filename_params())
        disposition = draw(st.sampled_from([b"attachment", b"inline", b"bogus", b""]))
        headers = [b"Content-Type: " + ctype + params.replace(b"filename", b"name")]
        if disposition:
            headers.append(b"Content-Disposition: " + disposition + params)
    cte, body = draw(transfer_encoded(data))
    if cte is not None:
        headers.append(b"Content-Transfer-Encoding: " + cte)
    return b"\r\n".join(headers) + b"\r\n\r\n" + body


def _multipart(draw: st.DrawFn, children: list[bytes]) -> bytes:
    subtype = draw(st.sampled_from(MULTIPART_SUBTYPES))
    boundary = draw(st.sampled_from([b"==b", b"----=_NextPart_000_0001", b"", b"a b c", b"\xc3\xa1"]))
    boundary += str(draw(st.integers(0, 99))).encode()
    declared = boundary if draw(st.integers(0, 9)) else b"other"  # sometimes the body uses another one
    head = b"Content-Type: multipart/" + subtype.encode() + b'; boundary="' + declared + b'"'
    parts = b"".join(b"--" + boundary + b"\r\n" + c + b"\r\n" for c in children)
    end = b"--" + boundary + b"--\r\n" if draw(st.integers(0, 5)) else b""  # or never closed
    return head + b"\r\n\r\npreamble\r\n" + parts + end


def _wrapped(draw: st.DrawFn, inner: bytes) -> bytes:
    """A forwarded email as an attachment (message/rfc822)."""
    headers = b"\r\n".join(draw(top_headers()))
    return b"Content-Type: message/rfc822\r\nContent-Disposition: attachment\r\n\r\n" + headers + b"\r\n" + inner


@st.composite
def part(draw: st.DrawFn, payloads: st.SearchStrategy[bytes], depth: int = 0) -> bytes:
    shape = draw(st.sampled_from(["leaf", "multipart", "multipart", "rfc822"]) if depth < 4 else st.just("leaf"))
    if shape == "leaf":
        return draw(leaf(payloads))
    if shape == "rfc822":
        return _wrapped(draw, draw(part(payloads, depth + 1)))
    children = draw(st.lists(part(payloads, depth + 1), min_size=0, max_size=4))
    return _multipart(draw, children)


@st.composite
def mime_message(draw: st.DrawFn, payloads: st.SearchStrategy[bytes] | None = None) -> bytes:
    payloads = payloads if payloads is not None else attachment_payloads()
    raw = b"\r\n".join(draw(top_headers())) + b"\r\n" + draw(part(payloads))
    newline = draw(st.sampled_from([b"\r\n", b"\r\n", b"\n", b"mixed"]))
    if newline == b"\n":
        raw = raw.replace(b"\r\n", b"\n")
    elif newline == b"mixed":
        raw = raw.replace(b"\r\n\r\n", b"\n\r\n", 1)
    return raw


# ------------------------------------------------------------------------------------- Word files
@st.composite
def docx_file(draw: st.DrawFn) -> bytes:
    """A valid .docx built with python-docx: headings, runs, tables, breaks, a picture, odd text."""
    from docx import Document
    from docx.enum.text import WD_BREAK

    doc = Document()
    doc.core_properties.author = _xml_safe(draw(vn_text))[:200]
    for _ in range(draw(st.integers(0, 8))):
        what = draw(st.sampled_from(["para", "para", "heading", "table", "break", "picture", "empty"]))
        if what == "para":
            p = doc.add_paragraph()
            for _ in range(draw(st.integers(1, 4))):
                run = p.add_run(_xml_safe(draw(vn_text)))
                run.bold, run.italic = draw(st.booleans()), draw(st.booleans())
                if draw(st.integers(0, 5)) == 0:
                    run.font.name = draw(st.sampled_from([".VnTime", "VNI-Times", "Times New Roman", "Arial"]))
        elif what == "heading":
            doc.add_heading(_xml_safe(draw(vn_text)), level=draw(st.integers(0, 9)))
        elif what == "table":
            rows, cols = draw(st.integers(1, 4)), draw(st.integers(1, 4))
            table = doc.add_table(rows=rows, cols=cols)
            for cell in table._cells:
                cell.text = _xml_safe(draw(vn_text))
        elif what == "break":
            doc.add_paragraph().add_run().add_break(draw(st.sampled_from([WD_BREAK.PAGE, WD_BREAK.LINE])))
        elif what == "picture":
            doc.add_picture(io.BytesIO(_small_png(draw(st.integers(1, 64)), draw(st.integers(1, 64)))))
        else:
            doc.add_paragraph("")
    out = io.BytesIO()
    doc.save(out)
    return out.getvalue()


def _xml_safe(text: str) -> str:
    """python-docx refuses control characters and surrogates (XML cannot hold them)."""
    return re.sub(r"[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]", "", text)


@cache
def _small_png(width: int, height: int) -> bytes:
    from PIL import Image

    out = io.BytesIO()
    Image.new("RGB", (width, height), (width * 3 % 256, height * 5 % 256, 90)).save(out, "PNG")
    return out.getvalue()


# ------------------------------------------------------------------------------------- mutations
@st.composite
def mutated(draw: st.DrawFn, sources: list[bytes]) -> bytes:
    """One source, damaged: bytes overwritten, inserted or cut; or, for a zip (.docx, .odt), one member
    damaged, dropped or doubled and the archive rewritten, so the damage reaches the XML readers instead
    of stopping at the zip checksum."""
    data = draw(st.sampled_from(sources))
    if data[:2] == b"PK" and draw(st.booleans()):
        try:
            return _mutate_member(draw, data)
        except (zipfile.BadZipFile, OSError, EOFError, ValueError, RuntimeError):
            pass  # not a readable zip after all: damage the bytes instead
    return _mutate_bytes(draw, data)


def _mutate_bytes(draw: st.DrawFn, data: bytes) -> bytes:
    out = bytearray(data)
    for _ in range(draw(st.integers(1, 6))):
        at = draw(st.integers(0, max(0, len(out) - 1)))
        action = draw(st.sampled_from(["overwrite", "insert", "delete", "truncate", "repeat"]))
        junk = draw(st.binary(min_size=1, max_size=16))
        if action == "overwrite":
            out[at : at + len(junk)] = junk
        elif action == "insert":
            out[at:at] = junk
        elif action == "delete":
            del out[at : at + draw(st.integers(1, 4096))]
        elif action == "truncate":
            del out[at:]
        else:
            out[at:at] = out[at : at + draw(st.integers(1, 512))] * draw(st.integers(2, 20))
    return bytes(out)


def _mutate_member(draw: st.DrawFn, data: bytes) -> bytes:
    with zipfile.ZipFile(io.BytesIO(data)) as zin:
        members = [(i, zin.read(i)) for i in zin.infolist()]
    index = draw(st.integers(0, len(members) - 1))
    action = draw(st.sampled_from(["damage", "damage", "drop", "double", "xml"]))
    info, content = members[index]
    if action == "damage":
        members[index] = (info, _mutate_bytes(draw, content))
    elif action == "drop":
        del members[index]
    elif action == "double":
        members.append((info, content))
    else:  # well-formed-looking XML pieces the converter must not trust
        snippet = draw(
            st.sampled_from(
                [
                    b'<!DOCTYPE x [<!ENTITY a "aaaa">]>',
                    b"<w:p><w:r><w:t>\xef\xbf\xbe</w:t></w:r></w:p>",
                    b'<w:r><w:rPr><w:rFonts w:ascii=".VnTime"/></w:rPr><w:t>\xc2\xb8i</w:t></w:r>',
                    b"<w:tbl>" * 50,
                    b'<a:blip r:embed="rId999"/>',
                    b"</w:body>",
                ]
            )
        )
        at = draw(st.integers(0, len(content)))
        members[index] = (info, content[:at] + snippet + content[at:])
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as zout:
        for info, content in members:
            zout.writestr(info.filename, content)
    return out.getvalue()


# ------------------------------------------------------------------------------------- sources
def _small(paths: list[Path]) -> list[bytes]:
    return [p.read_bytes() for p in paths if p.is_file() and p.stat().st_size <= _MAX_SOURCE_BYTES]


@cache
def word_fixtures() -> list[bytes]:
    """The repository's Word fixtures, the hostile ones, and the in-repository corpus files."""
    paths = [*sorted((FIXTURES / "word").glob("*.doc*")), *sorted((FIXTURES / "hostile").iterdir())]
    paths = [p for p in paths if p.suffix not in (".py",)]
    return _small(paths + real.available("docx/*", "doc/*", "legacy-font/*", "other/*", "tnef/*", "msg/*"))


@cache
def mail_fixtures() -> list[bytes]:
    paths = [*sorted((FIXTURES / "mail").glob("*.eml")), *sorted((FIXTURES / "intake").glob("*.eml"))]
    return _small(paths + real.available("email/*"))


@cache
def external_sources() -> tuple[list[bytes], list[bytes]]:
    """The corpus files only the external folder has (not redistributable): (files, emails)."""
    if not real.external_present():
        return [], []
    names = [n for n in real.EXTERNAL_ONLY if not n.startswith("email/")]
    emails = [n for n in real.EXTERNAL_ONLY if n.startswith("email/")]
    return _small([real.locate(n) for n in names]), _small([real.locate(n) for n in emails])


def with_marker(raw: bytes) -> bytes:
    """The message with the submission marker in its (first) subject, so intake reads it all."""
    marked, n = re.subn(rb"(?im)^Subject:", "Subject: [BÀI CỘNG TÁC]".encode(), raw, count=1)
    return marked if n else "Subject: [BÀI CỘNG TÁC] thư không tiêu đề\r\n".encode() + raw


@cache
def _tnef_bytes() -> bytes:
    from email import message_from_bytes

    msg = message_from_bytes((FIXTURES / "mail" / "outlook_tnef_winmail.eml").read_bytes())
    for p in msg.walk():
        if p.get_filename() == "winmail.dat":
            return p.get_payload(decode=True)  # type: ignore[return-value]
    raise AssertionError("the fixture has no winmail.dat")


def attachment_payloads(word: st.SearchStrategy[bytes] | None = None) -> st.SearchStrategy[bytes]:
    """What an attachment holds: a Word file (generated, a fixture, damaged), a TNEF blob, a forwarded
    Outlook item, random bytes."""
    fixtures = word_fixtures()
    return st.one_of(
        word if word is not None else docx_file(),
        st.sampled_from(fixtures),
        mutated(fixtures),
        st.just(_tnef_bytes()),
        mutated([_tnef_bytes()]),
        st.binary(max_size=2048),
        st.binary(max_size=64).map(lambda b: b"\x78\x9f\x3e\x22" + b),  # TNEF signature, then garbage
        st.binary(max_size=64).map(lambda b: b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b),  # OLE2 signature
        st.binary(max_size=64).map(lambda b: b"PK\x03\x04" + b),
    )


@st.composite
def submission_with(draw: st.DrawFn, files: st.SearchStrategy[bytes]) -> bytes:
    """An ordinary-looking submission carrying the given files as Word attachments."""
    atts = draw(st.lists(files, min_size=1, max_size=3))
    boundary = b"==fuzz%d" % draw(st.integers(0, 10**6))
    head = [
        b"From: " + "Nguyễn Thị Lan".encode() + b" <lan.nguyen@vanphong.tinhuy.example>",
        b"To: bientap@tinhuy.example",
        b"Subject: " + draw(encoded_words(f"[{MARKER}] " + draw(vn_text), VIETNAMESE_CHARSETS)),
        b"Message-ID: <" + str(draw(st.uuids())).encode() + b"@fuzz.example>",
        b"MIME-Version: 1.0",
        b'Content-Type: multipart/mixed; boundary="' + boundary + b'"',
    ]
    parts = [b"Content-Type: text/plain; charset=utf-8\r\n\r\n" + draw(vn_text).encode()]
    for data in atts:
        name = draw(st.sampled_from(["Tin sinh hoạt.docx", "bai.doc", "bài viết.docx", "tai-lieu"]))
        ctype = draw(st.sampled_from([DOCX_TYPE, "application/msword", "application/octet-stream"]))
        parts.append(
            f'Content-Type: {ctype}\r\nContent-Disposition: attachment; filename="{name}"\r\n'.encode()
            + b"Content-Transfer-Encoding: base64\r\n\r\n"
            + base64.encodebytes(data)
        )
    body = b"".join(b"--" + boundary + b"\r\n" + p + b"\r\n" for p in parts) + b"--" + boundary + b"--\r\n"
    return b"\r\n".join(head) + b"\r\n\r\n" + body
