"""Raw email bytes -> ParsedMessage: headers decoded, body text, and every document found.

Parsing is the stdlib `email` package with a compat32 policy that hands header values back raw
(8-bit bytes kept as surrogate escapes), because the contributors' mail clients break the rules in
ways the strict parsers lose: raw windows-1258 subjects, RFC 2047 words inside quoted filenames,
split multi-byte encoded words. Every decoded string is NFC. Bad mail never raises: what can be
recovered is returned and the problems are listed in `defects` (Vietnamese, for the editors).

Documents hide in forwarded messages (message/rfc822, attached .eml), attached Outlook .msg items
and winmail.dat (TNEF); all of them are unwrapped into one flat list of attachments.
"""

from __future__ import annotations

import binascii
import codecs
import email
import email.errors
import email.utils
import logging
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.header import Header, decode_header
from email.message import Message
from email.parser import BytesFeedParser, BytesHeaderParser
from email.policy import Compat32
from typing import Literal

from core.html import html_to_text
from core.msgid import clean_msg_id
from core.text import clean_line, nfc
from ingest import containers

Origin = Literal["attachment", "inline", "forwarded", "msg", "tnef"]
logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Attachment:
    filename: str  # decoded, NFC, display only (never used as a path); "" when none
    content_type: str  # lower-case, as declared (may lie; sniffing happens later)
    data: bytes  # decoded payload
    origin: str  # "attachment" | "inline" | "forwarded" | "msg" | "tnef"


@dataclass(frozen=True)
class ParsedMessage:
    message_id: str | None
    subject: str
    sender_address: str
    sender_name: str
    reply_to: str | None
    date: datetime | None
    in_reply_to: str | None
    references: tuple[str, ...]
    text_body: str
    html_body: str | None
    attachments: tuple[Attachment, ...]
    is_auto_reply: bool
    defects: tuple[str, ...]
    # Authentication-Results values, topmost (added last, by our own server) first, unfolded.
    authentication_results: tuple[str, ...] = ()

    def sender_unverified(self, trusted_authserv_ids: Sequence[str] = ()) -> bool:
        """True when our receiving server found the From forged: dmarc=fail, or spf=fail without a
        DKIM (or DMARC) pass. Only headers our server wrote count: those of the trusted authserv-ids
        at the top, or the topmost one alone. A sender can add any such header lower down."""
        results: dict[str, set[str]] = {}
        for value in _trusted_results(self.authentication_results, trusted_authserv_ids):
            for method, result in _auth_methods(value):
                results.setdefault(method, set()).add(result)
        if "fail" in results.get("dmarc", ()):
            return True
        passed = "pass" in results.get("dkim", ()) or "pass" in results.get("dmarc", ())
        return "fail" in results.get("spf", ()) and not passed


_COMMENT = re.compile(r"\([^()]*\)")
_RESINFO = re.compile(r"\s*([A-Za-z0-9_.-]+)\s*=\s*([A-Za-z]+)")


def _authserv_id(value: str) -> str:
    return _COMMENT.sub(" ", value).split(";", 1)[0].strip().split(" ", 1)[0].lower()


def _trusted_results(values: tuple[str, ...], trusted: Sequence[str]) -> tuple[str, ...]:
    if not trusted:
        return values[:1]
    ids = {t.strip().lower() for t in trusted}
    top = 0
    while top < len(values) and _authserv_id(values[top]) in ids:  # stop at the first foreign header
        top += 1
    return values[:top]


def _auth_methods(value: str) -> list[tuple[str, str]]:
    """(method, result) of each resinfo of an Authentication-Results value (RFC 8601), lower case."""
    found = []
    for resinfo in _COMMENT.sub(" ", value).split(";")[1:]:
        match = _RESINFO.match(resinfo)
        if match:
            found.append((match[1].lower(), match[2].lower()))
    return found


class _RawHeaderPolicy(Compat32):
    """compat32, but header values come back exactly as received.

    compat32 turns a header holding raw 8-bit bytes into a Header object whose str() replaces every
    such byte with U+FFFD; a raw windows-1258 Subject or filename would be lost. Keeping the
    surrogate-escaped text lets `decode_header_value` recover the original bytes.
    """

    def header_fetch_parse(self, name: str, value: str) -> str:
        return value


_POLICY = _RawHeaderPolicy()
# Multipart nesting is far deeper than message nesting in honest mail (mixed > related > alternative
# per level); the limit only stops hostile trees.
_MAX_MULTIPART_NESTING = 40
_BODY_TYPES = ("text/plain", "text/html")
_TNEF_TYPES = ("application/ms-tnef", "application/vnd.ms-tnef")
_MSG_TYPES = ("application/vnd.ms-outlook", "application/x-msg")

# --- header decoding -------------------------------------------------------------------------------

_ENCODED_WORD = re.compile(r"=\?([^?\s]+)\?([bBqQ])\?([^?]*)\?=")
_FOLD = re.compile(r"\r?\n(?=[ \t])")
_MSG_ID = re.compile(r"<([^<>\s]+)>")
_CHARSET_LABEL = re.compile(r"[a-z0-9][a-z0-9._:+-]{0,39}")
_META_CHARSET = re.compile(rb"""<meta[^>]+charset\s*=\s*["']?([A-Za-z0-9_.:-]+)""", re.IGNORECASE)


def _codec(charset: str | None) -> str | None:
    """Python codec name for a MIME charset label, or None when unknown."""
    if not charset:
        return None
    label = charset.strip().strip("\"'").split("*", 1)[0].lower()  # RFC 2231 allows "utf-8*vi"
    if not _CHARSET_LABEL.fullmatch(label):
        return None
    try:
        return codecs.lookup(label).name
    except LookupError:
        return None


def _decode_bytes(data: bytes, charset: str | None = None, fallback: str | None = None) -> str:
    """Decode with the declared charset, else UTF-8, else the message's legacy charset, else cp1258.

    windows-1258 is the last resort because it is what Vietnamese Windows clients send undeclared;
    its combining tone marks are composed by the NFC applied to every result.
    """
    for label in (charset, "utf-8"):
        text = _strict_decode(data, label)
        if text is not None:
            return nfc(text)
    if _mostly_utf8(data):  # one broken byte must not turn a whole UTF-8 body into mojibake
        return nfc(data.decode("utf-8", errors="replace"))
    for label in (fallback, "cp1258"):
        text = _strict_decode(data, label)
        if text is not None:
            return nfc(text)
    return nfc(data.decode("cp1258", errors="replace"))


def _strict_decode(data: bytes, charset: str | None) -> str | None:
    name = _codec(charset)
    if name is None:
        return None
    try:
        return data.decode(name)
    except (UnicodeError, LookupError):  # LookupError: a hostile label naming a non-text codec (rot13)
        return None


def _mostly_utf8(data: bytes) -> bool:
    """UTF-8 with a few damaged bytes. Legacy 8-bit text fails UTF-8 at nearly every accented letter."""
    high = sum(1 for byte in data if byte >= 0x80)
    if not high:
        return False
    bad = data.decode("utf-8", errors="replace").count("\ufffd")
    return bad * 20 < high


def _raw_text(value: str | bytes | Header, fallback: str | None = None) -> str:
    """Header text with raw 8-bit bytes (surrogate-escaped by the parser) decoded."""
    if isinstance(value, Header):
        # compat32 hands raw 8-bit headers out as Header objects whose str() has U+FFFD in place
        # of every such byte; the chunks still hold the original bytes.
        chunks = decode_header(value)
        if all(isinstance(data, bytes) and charset in (None, "unknown-8bit") for data, charset in chunks):
            value = b"".join(data for data, _charset in chunks)
        else:
            value = str(value)
    if isinstance(value, bytes):
        return _decode_bytes(value, None, fallback)
    if any("\udc80" <= ch <= "\udcff" for ch in value):
        return _decode_bytes(value.encode("utf-8", "surrogateescape"), None, fallback)
    return value


def _encoded_word_bytes(encoding: str, text: str) -> bytes | None:
    try:
        if encoding in "qQ":
            return binascii.a2b_qp(text.encode("utf-8"), header=True)
        cleaned = re.sub(r"[^A-Za-z0-9+/]", "", text)
        if len(cleaned) % 4 == 1:  # a dangling sextet carries no whole byte
            cleaned = cleaned[:-1]
        if not cleaned and text:
            return None
        return binascii.a2b_base64(cleaned + "=" * (-len(cleaned) % 4))
    except (binascii.Error, ValueError):
        return None


def decode_header_value(value: str | bytes | Header, *, fallback_charset: str | None = None) -> str:
    """Decode a header value: RFC 2047 words, raw 8-bit UTF-8 or windows-1258; NFC, one line.

    The result is `clean_line`d: unfolded, whitespace runs collapsed, control characters removed.

    Adjacent encoded words in one charset are joined before decoding, so a UTF-8 character split
    across two words (some mailers cut by bytes) comes out whole; the space between encoded words
    is dropped as RFC 2047 requires. `fallback_charset` is the legacy charset to try for raw 8-bit
    text (the message body's charset); windows-1258 is always tried last.
    """
    text = _raw_text(value, fallback_charset)
    text = _FOLD.sub("", text).replace("\r", "").replace("\n", "")
    # pieces: literal text, or [charset, bytes] for a run of encoded words in one charset
    pieces: list[str | list] = []
    pos = 0
    for match in _ENCODED_WORD.finditer(text):
        between = text[pos : match.start()]
        previous_is_word = bool(pieces) and isinstance(pieces[-1], list)
        if between and not (between.isspace() and previous_is_word):
            pieces.append(between)
        pos = match.end()
        data = _encoded_word_bytes(match[2], match[3])
        if data is None:  # undecodable word: keep it visible rather than lose it
            pieces.append(match[0])
            continue
        charset = match[1].split("*", 1)[0].lower()
        if pieces and isinstance(pieces[-1], list) and pieces[-1][0] == charset:
            pieces[-1][1] += data
        else:
            pieces.append([charset, data])
    pieces.append(text[pos:])
    out = "".join(
        piece if isinstance(piece, str) else _decode_bytes(piece[1], piece[0], fallback_charset) for piece in pieces
    )
    return clean_line(out)


# --- small header helpers --------------------------------------------------------------------------


def _header(msg: Message, name: str) -> str | None:
    """First raw value of a header (compat32 keeps the folding; callers unfold)."""
    lower = name.lower()
    for key, value in msg.raw_items():
        if key.lower() == lower:
            return value if isinstance(value, str) else str(value)
    return None


def _unfold(value: str) -> str:
    return _FOLD.sub("", value).replace("\r", "").replace("\n", "").strip()


def _msg_ids(value: str | None) -> list[str]:
    """The bare msg-ids of a Message-ID/In-Reply-To/References value that pass `clean_msg_id`; the
    sender wrote them and we echo them in our replies' headers, so anything unusual is dropped."""
    if not value:
        return []
    text = _unfold(_raw_text(value))
    found = _MSG_ID.findall(text) or text.split()  # some clients omit the brackets
    return [bare for bare in map(clean_msg_id, found) if bare]


def _address(value: str | None, fallback: str | None) -> tuple[str, str]:
    """(display name, lower-case addr-spec) of the first address in a From/Reply-To value."""
    if not value:
        return "", ""
    text = _unfold(value)
    try:
        name, addr = email.utils.parseaddr(text)
    except RecursionError:  # the stdlib parser recurses once per ":" (a group): a From of thousands of them
        name, addr = "", ""
    if not addr:
        match = re.search(r"[^\s<>\"',;:]+@[^\s<>\"',;:]+", text)
        addr = match[0] if match else ""
    address = clean_line(_raw_text(addr, fallback)).lower()
    display = decode_header_value(name, fallback_charset=fallback) if name else ""
    return display, address


def _date(value: str | None, defects: list[str]) -> datetime | None:
    if not value:
        return None
    text = _unfold(_raw_text(value))
    try:
        parsed = email.utils.parsedate_to_datetime(text)
    except (TypeError, ValueError, IndexError, OverflowError):
        defects.append(f"Ngày gửi không hợp lệ: «{clean_line(text)[:80]}»")
        return None
    if parsed.tzinfo is None:  # "-0000" means UTC with no claim about the sender's zone
        parsed = parsed.replace(tzinfo=UTC)
    return parsed


def _first_token(value: str | None) -> str:
    return _unfold(value or "").split(";", 1)[0].strip().lower()


def _is_auto_reply(msg: Message, sender: str) -> bool:
    """RFC 3834 and the de-facto markers of out-of-office replies, bounces and list robots."""
    auto_submitted = _first_token(_header(msg, "Auto-Submitted"))
    if auto_submitted and auto_submitted != "no":
        return True
    for name in ("X-Autoreply", "X-Autorespond"):
        flag = _first_token(_header(msg, name))
        if flag and flag != "no":
            return True
    if _first_token(_header(msg, "Precedence")) in ("bulk", "junk", "auto_reply"):
        return True
    if msg.get_content_type() == "multipart/report":
        report = str(msg.get_param("report-type", "") or "").lower()
        if report in ("delivery-status", "disposition-notification"):
            return True
    if sender.split("@", 1)[0] == "mailer-daemon":
        return True
    return_path = _header(msg, "Return-Path")
    return return_path is not None and _unfold(return_path) in ("<>", "")  # the null sender of bounces


# --- body text -------------------------------------------------------------------------------------


def _unflow(text: str, delsp: bool) -> str:
    """RFC 3676 format=flowed (Thunderbird's default): join soft-broken lines into paragraphs."""
    out: list[str] = []
    joining = False
    for line in text.split("\n"):
        quote = len(line) - len(line.lstrip(">"))
        body = line[quote:]
        if body.startswith(" "):
            body = body[1:]  # space-stuffing
        hard = body == "-- " or not body.endswith(" ")
        if delsp and not hard:
            body = body[:-1]
        rebuilt = ">" * quote + (" " if quote and body else "") + body
        if joining and out:
            out[-1] += body
        else:
            out.append(rebuilt)
        joining = not hard
    return "\n".join(out)


def _part_text(part: Message, data: bytes, fallback: str | None) -> str:
    charset = part.get_content_charset()
    if not charset and part.get_content_type() == "text/html":
        meta = _META_CHARSET.search(data[:4096])
        charset = meta[1].decode("ascii") if meta else None
    text = _decode_bytes(data, charset, fallback).replace("\r\n", "\n").replace("\r", "\n")
    if part.get_content_type() == "text/plain" and str(part.get_param("format", "")).lower() == "flowed":
        text = _unflow(text, str(part.get_param("delsp", "")).lower() == "yes")
    return text


# --- walking the MIME tree -------------------------------------------------------------------------


def _payload(part: Message) -> bytes:
    if str(part.get("Content-Transfer-Encoding", "")).strip().lower() == "base64":
        # binascii decodes the whole body at once; compat32 splits it into lines first, which
        # costs several times the attachment's size for a 25 MB Word file.
        raw = part.get_payload()
        if isinstance(raw, str) and raw.isascii():
            try:
                return binascii.a2b_base64(raw)
            except binascii.Error:
                pass  # damaged base64: let the lenient stdlib path recover what it can
    try:
        data = part.get_payload(decode=True)
    except Exception:  # compat32 decoding is lenient; anything else is a hostile part
        data = None
    if isinstance(data, bytes):
        return data
    raw = part.get_payload()
    return raw.encode("utf-8", "surrogateescape") if isinstance(raw, str) else b""


def _unquote(value: str) -> str:
    """Unquote a parameter; a backslash escapes only a quote or a backslash.

    Strict unquoting would eat the separators of "C:\\Users\\An\\bài.docx", which old Windows
    clients send unescaped.
    """
    value = value.strip()
    if len(value) >= 2 and value[0] == value[-1] == '"':
        return re.sub(r'\\(["\\])', r"\1", value[1:-1])
    return value


def _filename(part: Message, fallback: str | None) -> str:
    for param, header in (("filename", "content-disposition"), ("name", "content-type")):
        try:
            value = part.get_param(param, None, header, unquote=False)
            if isinstance(value, tuple):
                value = part.get_param(param, None, header)
        except Exception:  # noqa: S112 -- a malformed parameter of a hostile email is skipped; the part still is read
            continue
        if value is None:
            continue
        if isinstance(value, tuple):  # RFC 2231: (charset, language, text with one char per byte)
            charset, _language, text = value
            try:
                raw = text.encode("latin-1", "surrogateescape")
            except UnicodeEncodeError:  # not byte-per-char after all
                raw = text.encode("utf-8", "surrogateescape")
            name = _decode_bytes(raw, charset or None, fallback)
        else:
            name = decode_header_value(_unquote(str(value)), fallback_charset=fallback)
        # Old clients send "C:\\Users\\...\\bài.docx": only the last component is a name.
        name = re.split(r"[\\/]", name)[-1]
        name = clean_line(name)
        if name:
            return name
    return ""


def _origin_of(part: Message, parent_subtype: str) -> Origin:
    disposition = part.get_content_disposition()
    if disposition == "inline":
        return "inline"
    if disposition is None and (parent_subtype == "related" or part.get("content-id") or part.get("content-location")):
        return "inline"
    return "attachment"


def _looks_like_email(data: bytes) -> bool:
    head = data[:2048].lstrip()
    return (
        re.match(rb"[!-9;-~]+:", head) is not None
        and re.search(rb"^(from|subject|date|message-id|mime-version|received):", head, re.IGNORECASE | re.MULTILINE)
        is not None
    )


@dataclass
class _Walker:
    max_depth: int
    max_parts: int
    fallback_charset: str | None
    attachments: list[Attachment] = field(default_factory=list)
    defects: list[str] = field(default_factory=list)
    plain: list[str] = field(default_factory=list)
    html: list[str] = field(default_factory=list)
    container_text: list[str] = field(default_factory=list)
    container_html: list[str] = field(default_factory=list)
    parts_seen: int = 0
    stopped: bool = False

    def _count(self) -> bool:
        """Count one part; False once the limit is reached (the rest of the message is skipped)."""
        if self.stopped:
            return False
        self.parts_seen += 1
        if self.parts_seen > self.max_parts:
            self.stopped = True
            self.defects.append(f"Thư có hơn {self.max_parts} phần; các phần sau bị bỏ qua")
            return False
        return True

    def _note_defects(self, part: Message, depth: int) -> None:
        where = "thư chuyển tiếp" if depth else "thư"
        for defect in getattr(part, "defects", ()):
            self.defects.append(f"Lỗi cấu trúc MIME trong {where} ({part.get_content_type()}): {type(defect).__name__}")

    def walk(self, root: Message, origin: Origin | None, depth: int) -> None:
        """Walk one message. origin None = the top-level message (its text parts are the body)."""
        stack: list[tuple[Message, int, str]] = [(root, 0, "")]
        while stack and not self.stopped:
            part, nesting, parent_subtype = stack.pop()
            if not self._count():
                return
            ctype = part.get_content_type()
            if ctype in ("message/rfc822", "message/global"):
                self._forwarded(part, origin, depth, parent_subtype)
            elif ctype.startswith("message/"):
                # delivery-status, rfc822-headers, external-body: reports and pointers, not documents
                if ctype == "message/partial":
                    self.defects.append("Thư bị chia thành nhiều mảnh (message/partial); không ghép lại được")
            elif part.is_multipart():
                if nesting >= _MAX_MULTIPART_NESTING:
                    self.defects.append(f"Cấu trúc multipart lồng quá {_MAX_MULTIPART_NESTING} cấp; bị cắt bớt")
                    continue
                children = [child for child in part.get_payload() if isinstance(child, Message)]
                subtype = part.get_content_subtype()
                stack.extend((child, nesting + 1, subtype) for child in reversed(children))
            elif part.get_content_maintype() == "multipart":
                self.defects.append(f"Phần {ctype} không tách được thành các phần con (sai boundary)")
            else:
                self._leaf(part, origin, depth, parent_subtype)
            # after the part is handled: decoding the payload can add defects (bad base64 padding)
            self._note_defects(part, depth)

    def _forwarded(self, part: Message, origin: Origin | None, depth: int, parent_subtype: str) -> None:
        payload = part.get_payload()
        inner: Message | None = None
        blob = b""
        if isinstance(payload, list) and payload and isinstance(payload[0], Message):
            inner = payload[0]
            cte = str(part.get("content-transfer-encoding", "")).strip().lower()
            if cte in ("base64", "quoted-printable"):
                # Some clients transfer-encode the attached message; the stdlib parsed the encoded text.
                blob = _payload_encoded(inner, cte)
                inner = _reparse(blob)
        elif isinstance(payload, str):
            blob = _payload(part)
            inner = _reparse(blob)
        if inner is None:  # not a message after all: keep what was sent
            self._keep(part, blob, origin or _origin_of(part, parent_subtype))
            return
        if depth >= self.max_depth:
            self.defects.append(f"Thư chuyển tiếp lồng quá {self.max_depth} cấp; phần sâu hơn được giữ nguyên")
            self._keep(part, _as_bytes(inner), origin or _origin_of(part, parent_subtype))
            return
        self.walk(inner, "forwarded", depth + 1)

    def _keep(self, part: Message, data: bytes, origin: Origin) -> None:
        filename = _filename(part, self.fallback_charset)
        self.attachments.append(Attachment(filename, part.get_content_type(), data, origin))

    def _leaf(self, part: Message, origin: Origin | None, depth: int, parent_subtype: str) -> None:
        ctype = part.get_content_type()
        filename = _filename(part, self.fallback_charset)
        disposition = part.get_content_disposition()
        data = _payload(part)
        if ctype in _BODY_TYPES and not filename and disposition != "attachment":
            # A body part. Only the top-level message's body is kept; a forwarded message's body
            # is the forwarded text, not a document.
            if origin is None:
                text = _part_text(part, data, self.fallback_charset)
                (self.plain if ctype == "text/plain" else self.html).append(text)
            return
        if not data and not filename:
            return  # an empty placeholder part
        self.found(filename, ctype, data, origin or _origin_of(part, parent_subtype), depth, origin is None)

    def found(self, filename: str, ctype: str, data: bytes, origin: Origin, depth: int, top: bool) -> None:
        """A file: unwrap it if it is a container (TNEF, .msg, .eml), else record it."""
        kind = _container_kind(filename, ctype, data)
        if kind is None:
            self.attachments.append(Attachment(filename, ctype, data, origin))
            return
        if depth >= self.max_depth:
            self.defects.append(f"Tệp «{filename or ctype}» lồng quá {self.max_depth} cấp; giữ nguyên, không mở")
            self.attachments.append(Attachment(filename, ctype, data, origin))
            return
        if kind == "eml":
            inner = _reparse(data)
            if inner is None:
                self.attachments.append(Attachment(filename, ctype, data, origin))
            else:
                self.walk(inner, "forwarded", depth + 1)
            return
        label = "winmail.dat (TNEF)" if kind == "tnef" else "thư Outlook (.msg)"
        try:
            if kind == "tnef":
                unpacked = containers.unpack_tnef(data, max_levels=self.max_depth - depth)
            else:
                unpacked = containers.unpack_msg(data, max_levels=self.max_depth - depth)
        except containers.ContainerError as exc:
            self.defects.append(f"Không mở được {label} «{filename}»: {exc}; tệp được giữ nguyên")
            self.attachments.append(Attachment(filename, ctype, data, origin))
            return
        self.defects.extend(unpacked.notes)
        if top and kind == "tnef":
            # Outlook moves the body of the message itself into winmail.dat ("rich text" mail).
            if unpacked.text_body:
                self.container_text.append(unpacked.text_body)
            if unpacked.html_body:
                self.container_html.append(unpacked.html_body)
        for inner_file in unpacked.files:
            if not self._count():
                return
            inner_origin: Origin = "tnef" if kind == "tnef" else "msg"
            self.found(
                nfc(inner_file.filename),
                inner_file.content_type,
                inner_file.data,
                inner_origin,
                depth + inner_file.level,
                False,
            )


def _container_kind(filename: str, ctype: str, data: bytes) -> str | None:
    name = filename.lower()
    if containers.is_tnef(data):
        return "tnef"
    if ctype in _TNEF_TYPES or name == "winmail.dat":
        return "tnef"  # declared TNEF without the signature: unpacking reports the damage
    if data[:8] == containers.OLE_SIGNATURE:
        if ctype in _MSG_TYPES or name.endswith(".msg") or containers.is_outlook_msg(data):
            return "msg"
        return None  # a Word .doc or an encrypted .docx: a document, not a container
    if (name.endswith((".eml", ".msg")) or ctype in _MSG_TYPES) and _looks_like_email(data):
        return "eml"  # an RFC 822 message saved to a file (".msg" names lie too)
    return None


def _reparse(data: bytes) -> Message | None:
    if not data or not _looks_like_email(data):
        return None
    try:
        return _message_from_bytes(data)
    except Exception:  # RecursionError on hostile nesting, anything else on garbage
        return None


def _payload_encoded(inner: Message, cte: str) -> bytes:
    """Bytes of a message/rfc822 body that was (wrongly) transfer-encoded.

    The stdlib parses such a body as a message anyway: base64 text becomes a header-less body,
    quoted-printable text mostly survives as headers plus an encoded body. Take the text back
    and decode it.
    """
    payload = inner.get_payload()
    if not inner.keys() and isinstance(payload, str):
        text = payload.encode("utf-8", "surrogateescape")
    else:
        text = _as_bytes(inner)
    try:
        if cte == "base64":
            return binascii.a2b_base64(re.sub(rb"[^A-Za-z0-9+/=]", b"", text))
        return binascii.a2b_qp(text)
    except (binascii.Error, ValueError):
        return b""


def _as_bytes(msg: Message) -> bytes:
    try:
        return msg.as_bytes()
    except Exception:  # deep nesting can exhaust the generator's recursion
        return b""


def _legacy_charset(msg: Message) -> str | None:
    """The first declared text charset that is not UTF-8/ASCII: the best guess for raw 8-bit headers."""
    stack = [msg]
    seen = 0
    while stack and seen < 200:
        part = stack.pop()
        seen += 1
        if part.is_multipart():
            payload = part.get_payload()
            if isinstance(payload, list):
                stack.extend(child for child in reversed(payload) if isinstance(child, Message))
            continue
        if part.get_content_maintype() != "text":
            continue
        codec = _codec(part.get_content_charset())
        if codec and codec not in ("utf-8", "ascii"):
            return codec
    return None


_HEADER_FIELD = re.compile(rb"[!-9;-~]+[ \t]*:")


def _repair_folding(raw: bytes) -> bytes | None:
    """Indent encoded-word lines that a sender folded without indentation (seen from Office 365).

    The stdlib ends the header block at such a line, losing the rest of the Subject and every
    header after it. Only lines starting with "=?" followed by more header fields are repaired.
    """
    end = re.search(rb"\r?\n\r?\n", raw)
    head, rest = (raw[: end.start()], raw[end.start() :]) if end else (raw, b"")
    lines = head.split(b"\n")
    changed = False
    for index, line in enumerate(lines):
        if index == 0 or not line.startswith(b"=?"):
            continue
        following = next((ln for ln in lines[index + 1 :] if not ln.startswith(b"=?")), b"")
        if _HEADER_FIELD.match(following):
            lines[index] = b" " + line
            changed = True
    return b"\n".join(lines) + rest if changed else None


def _message_from_bytes(raw: bytes) -> Message:
    """The stdlib parser fed in chunks: `message_from_bytes` first copies the whole message into
    one text buffer and a list of lines, which doubles the peak memory for large attachments."""
    parser = BytesFeedParser(policy=_POLICY)
    view = memoryview(raw)
    for start in range(0, len(raw), _FEED_CHUNK):
        parser.feed(bytes(view[start : start + _FEED_CHUNK]))
    return parser.close()


_FEED_CHUNK = 64 * 1024


def _parse_bytes(raw: bytes, defects: list[str]) -> Message:
    try:
        msg = _message_from_bytes(raw)
        if any(isinstance(d, email.errors.MissingHeaderBodySeparatorDefect) for d in msg.defects):
            repaired = _repair_folding(raw)
            if repaired is not None:
                defects.append("Tiêu đề thư gập dòng sai (thiếu thụt đầu dòng); đã sửa để đọc tiếp")
                return _message_from_bytes(repaired)
        return msg
    except Exception as exc:  # RecursionError on hostile nesting
        defects.append(f"Không phân tích được cấu trúc thư ({type(exc).__name__}); chỉ đọc phần tiêu đề")
    try:
        msg = BytesHeaderParser(policy=_POLICY).parsebytes(raw)
        msg.set_payload("")
        msg.set_type("text/plain")
        return msg
    except Exception:
        defects.append("Không đọc được tiêu đề thư")
        return Message(policy=_POLICY)


@dataclass(frozen=True)
class HeaderSummary:
    message_id: str | None
    subject: str
    sender_address: str
    sender_name: str
    replied_ids: tuple[str, ...] = ()  # In-Reply-To and References, without <>


_HEADER_END = re.compile(rb"\r?\n\r?\n")


def parse_headers(raw: bytes) -> HeaderSummary:
    """The fields a listing shows, from the header block alone: cheap enough for the transport stage."""
    end = _HEADER_END.search(raw)
    msg = _parse_bytes(raw[: end.end()] if end else raw, [])
    fallback = _legacy_charset(msg)
    subject = _header(msg, "Subject")
    name, address = _address(_header(msg, "From"), fallback)
    ids = _msg_ids(_header(msg, "Message-ID"))
    replied = [*_msg_ids(_header(msg, "In-Reply-To")), *_msg_ids(_header(msg, "References"))]
    return HeaderSummary(
        message_id=ids[0] if ids else None,
        subject=decode_header_value(subject, fallback_charset=fallback) if subject else "",
        sender_address=address,
        sender_name=name,
        replied_ids=tuple(dict.fromkeys(replied)),
    )


def parse_message(raw: bytes, *, max_depth: int = 5, max_parts: int = 500) -> ParsedMessage:
    """Parse raw RFC 822 bytes. Never raises for bad mail; problems are listed in `defects`."""
    raw = bytes(raw)
    try:
        return _parse(raw, max_depth, max_parts)
    except Exception as exc:
        # A bug or a library failing on hostile input must not stop the mailbox: log it for the
        # developers and hand back the headers alone, marked.
        logger.exception("parse_message failed on a %d-byte message", len(raw))
        defects = [f"Lỗi khi đọc thư ({type(exc).__name__}: {exc}); chỉ lấy được phần tiêu đề"]
        try:
            return _result(_parse_bytes(raw, defects), _Walker(max_depth, max_parts, None), defects)
        except Exception:
            return _result(Message(policy=_POLICY), _Walker(max_depth, max_parts, None), defects)


def _parse(raw: bytes, max_depth: int, max_parts: int) -> ParsedMessage:
    defects: list[str] = []
    if raw[:8] == containers.OLE_SIGNATURE or containers.is_tnef(raw):
        # An Outlook .msg / bare winmail.dat dropped in the mailbox folder instead of a message.
        defects.append("Dữ liệu không phải thư RFC 822 mà là tệp Outlook; chỉ lấy được các tệp bên trong")
        walker = _Walker(max_depth, max_parts, None)
        walker.found("", "application/octet-stream", raw, "attachment", 0, True)
        return _result(Message(policy=_POLICY), walker, defects)

    msg = _parse_bytes(raw, defects)
    if not msg.keys():
        defects.append("Thư không có tiêu đề nào (có thể không phải là thư điện tử)")
    walker = _Walker(max_depth, max_parts, _legacy_charset(msg))
    try:
        walker.walk(msg, None, 0)
    except RecursionError:
        defects.append("Cấu trúc thư lồng nhau quá sâu; phần còn lại bị bỏ qua")
    return _result(msg, walker, defects)


def _result(msg: Message, walker: _Walker, defects: list[str]) -> ParsedMessage:
    fallback = walker.fallback_charset
    subject = _header(msg, "Subject")
    sender_name, sender_address = _address(_header(msg, "From"), fallback)
    _reply_name, reply_address = _address(_header(msg, "Reply-To"), fallback)
    message_ids = _msg_ids(_header(msg, "Message-ID"))
    in_reply_to = _msg_ids(_header(msg, "In-Reply-To"))

    plain, html = walker.plain, walker.html
    if not plain and not html:  # a "rich text" Outlook mail: the body lives in winmail.dat
        plain = [text.replace("\r\n", "\n").replace("\r", "\n") for text in walker.container_text]
        html = walker.container_html
    if plain:
        text_body = "\n\n".join(text.strip("\n") for text in plain)
    else:
        text_body = "\n\n".join(html_to_text(text) for text in html)

    all_defects = defects + walker.defects
    date = _date(_header(msg, "Date"), all_defects)
    return ParsedMessage(
        message_id=message_ids[0] if message_ids else None,
        subject=decode_header_value(subject, fallback_charset=fallback) if subject else "",
        sender_address=sender_address,
        sender_name=sender_name,
        reply_to=reply_address or None,
        date=date,
        in_reply_to=in_reply_to[0] if in_reply_to else None,
        references=tuple(_msg_ids(_header(msg, "References"))),
        text_body=nfc(text_body),
        html_body=nfc(html[0]) if html else None,
        attachments=tuple(walker.attachments),
        is_auto_reply=_is_auto_reply(msg, sender_address),
        defects=tuple(dict.fromkeys(all_defects)),
        authentication_results=tuple(
            _unfold(_raw_text(v)) for k, v in msg.raw_items() if k.lower() == "authentication-results"
        ),
    )
