"""A technical reading of a stored email for the editors: mail-parser's defect list and Received chain.

Intake parses with the stdlib `email` package (ingest/parse.py); nothing here decides anything.
mail-parser (SpamScope) is used only for what it does well: naming what is broken in a message's MIME
structure and headers, and reading the Received chain into hops with their delays. It runs on demand
(`toasoan inbox show`, the problem-email page), on the spool copy.

Everything in a message is written by whoever sent it, so the input is bounded before mail-parser
sees it: some of its per-part work grows with the square of a header's length, and it holds a whole
message several times over in memory (figures: bench/README.md). Only a message of at most `FULL_LIMIT` bytes
is read whole; a larger one, or one shaped to be slow (a huge header block, thousands of parts), is
read from its header block alone, and the notes say so. Every string handed back is cleaned of
control and direction characters and cut to a length; it is still the sender's text and is only
ever shown escaped.
"""

from __future__ import annotations

import email
import email.errors
import logging
import re
from dataclasses import dataclass, field, replace
from email.message import Message
from email.parser import BytesHeaderParser
from pathlib import Path
from typing import Any, Literal

from core.storage import Store
from core.text import clean_line
from ingest import spool

__all__ = ["DEFECT_LABELS", "Defect", "Diagnostics", "Hop", "diagnose", "diagnose_inbound"]

log = logging.getLogger(__name__)

FULL_LIMIT = 5 * 2**20  # bytes: larger messages are read from their header block alone
HEADER_LIMIT = 64 * 2**10  # bytes of header block handed to mail-parser (real ones are under 20 KB)
FIELD_LIMIT = 4096  # characters of one header field inside a message read whole
MAX_PARTS = 200  # MIME parts; a real submission has a handful
MAX_HOPS = 30  # Received hops kept: the newest, which the office's own servers wrote
MAX_DEFECTS = 50
TEXT_LIMIT = 200  # characters of any string handed back

Scope = Literal["message", "headers", "none"]

_HEADER_END = re.compile(rb"\r?\n\r?\n")

# What each kind of defect means, for the editors; the English explanation is kept beside it.
DEFECT_LABELS: dict[str, str] = {
    "StartBoundaryNotFoundDefect": "Không tìm thấy ranh giới mở đầu của các phần trong thư",
    "CloseBoundaryNotFoundDefect": "Thiếu ranh giới kết thúc: thư bị cắt cụt hoặc được tạo sai",
    "MultipartInvariantViolationDefect": "Thư khai báo có nhiều phần nhưng không có phần nào",
    "NoBoundaryInMultipartDefect": "Thư nhiều phần nhưng không khai báo ranh giới",
    "FirstHeaderLineIsContinuationDefect": "Dòng tiêu đề đầu tiên bị thụt lề sai",
    "MisplacedEnvelopeHeaderDefect": "Có dòng “From ” lạc giữa phần tiêu đề",
    "MissingHeaderBodySeparatorDefect": "Thiếu dòng trống ngăn phần tiêu đề với nội dung",
    "InvalidMultipartContentTransferEncodingDefect": "Phần nhiều phần khai báo sai kiểu mã hóa",
    "InvalidBase64PaddingDefect": "Dữ liệu base64 thiếu ký tự đệm",
    "InvalidBase64CharactersDefect": "Dữ liệu base64 có ký tự không hợp lệ",
    "InvalidBase64LengthDefect": "Dữ liệu base64 sai độ dài",
    "CharsetDecodeDefect": "Nội dung không giải mã được theo bảng mã đã khai báo",
    "MimeHeaderDefect": "Tiêu đề MIME của một phần bị sai",
    "AddressHeaderDefect": "Địa chỉ trong tiêu đề thư bị sai hoặc mơ hồ",
    "ReceivedHeaderDefect": "Tiêu đề Received (đường đi của thư) bị sai",
    "DateHeaderDefect": "Ngày giờ trong tiêu đề thư bị sai",
}
OTHER_DEFECT = "Lỗi cấu trúc thư"


@dataclass(frozen=True)
class Defect:
    part: str  # the MIME part's content type, or mail-parser's header group ("received-headers")
    category: str  # mail-parser's name for it, e.g. "StartBoundaryNotFoundDefect"
    text: str  # its English explanation

    @property
    def label(self) -> str:
        return DEFECT_LABELS.get(self.category, OTHER_DEFECT)

    def as_json(self) -> dict[str, Any]:
        return {"part": self.part, "category": self.category, "text": self.text}


@dataclass(frozen=True)
class Hop:
    hop: int  # 1 is the oldest (the first server, nearest the sender); the last is the office's
    from_: str
    by: str
    with_: str
    date: str  # as written in the header
    date_utc: str | None  # ISO 8601, when the date could be read
    delay: float | None  # seconds since the previous hop; None for the first or when a date is unreadable

    def as_json(self) -> dict[str, Any]:
        return {
            "hop": self.hop,
            "from": self.from_,
            "by": self.by,
            "with": self.with_,
            "date": self.date,
            "date_utc": self.date_utc,
            "delay": self.delay,
        }


@dataclass(frozen=True)
class Diagnostics:
    scope: Scope  # what mail-parser read: the whole message, its header block, or nothing
    defects: tuple[Defect, ...] = ()
    received: tuple[Hop, ...] = ()
    hops_omitted: int = 0  # the oldest hops past MAX_HOPS
    notes: tuple[str, ...] = field(default=())  # Vietnamese, for the editors
    error: str | None = None  # why nothing could be read (Vietnamese, then the exception line)

    def as_json(self) -> dict[str, Any]:
        return {
            "reader": f"mail-parser {_version()}",
            "scope": self.scope,
            "defects": [d.as_json() for d in self.defects],
            "received": [h.as_json() for h in self.received],
            "hops_omitted": self.hops_omitted,
            "notes": list(self.notes),
            "error": self.error,
        }


def diagnose(raw: bytes, *, headers_only: bool = False) -> Diagnostics:
    """mail-parser's reading of `raw`, bounded; never raises. `headers_only`: `raw` is a header block
    alone (an oversized message is spooled so), whose missing body is not a defect."""
    try:
        return _diagnose(bytes(raw), headers_only)
    except Exception as exc:  # a library failing on hostile input is a note on the page, not a 500
        log.warning("mail-parser could not read a message: %r", exc)
        return Diagnostics(scope="none", error=_clean(f"mail-parser không đọc được thư: {_exception_line(exc)}"))


def diagnose_inbound(store: Store, raw_sha256: str, size: int) -> Diagnostics:
    """The diagnostics of a stored email: its spool copy, of which only a bounded prefix is read.
    `size` is the email's size as received (larger than the spool copy when only headers were kept)."""
    path = spool.path(store, raw_sha256)
    try:
        stored = path.stat().st_size
        raw = _read_prefix(path, FULL_LIMIT + 1)
    except OSError as exc:
        return Diagnostics(scope="none", error=_clean(f"Không đọc được thư gốc trong kho lưu: {_exception_line(exc)}"))
    if stored < size:
        found = diagnose(raw, headers_only=True)
        note = "Thư vượt giới hạn dung lượng nên chỉ lưu phần tiêu đề: không kiểm tra được cấu trúc các phần."
        return _with_note(found, note)
    return diagnose(raw)


# ----------------------------------------------------------------------------------- internals
def _diagnose(raw: bytes, headers_only: bool) -> Diagnostics:
    import mailparser

    # Its warnings are about extracting bodies, which is not asked of it here.
    logging.getLogger("mailparser").setLevel(logging.ERROR)
    notes: list[str] = []
    message: Message | None = None
    scope: Scope = "message"
    if not headers_only and len(raw) <= FULL_LIMIT:
        message, why = _whole(raw)
        if why:
            notes.append(why)
    elif not headers_only:
        notes.append(f"Thư lớn hơn {FULL_LIMIT // 2**20} MB: chỉ đọc phần tiêu đề, không kiểm tra cấu trúc các phần.")
    if message is None:
        scope = "headers"
        block, cut = _header_block(raw)
        if cut:
            notes.append(f"Phần tiêu đề dài bất thường: chỉ đọc {HEADER_LIMIT // 1024} KB đầu.")
        # The header parser leaves the body as text: a multipart declared over a missing body is no defect.
        message = BytesHeaderParser().parsebytes(block)
    try:
        parsed = mailparser.MailParser(message)
    except Exception as exc:
        if scope == "headers":
            raise
        # Its per-part reading failed on this message: the header block still has the route to show.
        log.warning("mail-parser could not read a whole message: %r", exc)
        notes.append(
            _clean(f"mail-parser không đọc được các phần của thư ({_exception_line(exc)}): chỉ đọc phần tiêu đề.")
        )
        scope = "headers"
        parsed = mailparser.MailParser(BytesHeaderParser().parsebytes(_header_block(raw)[0]))
    defects = _defects(parsed.defects)
    if len(defects) > MAX_DEFECTS:
        notes.append(f"Chỉ hiện {MAX_DEFECTS} trên {len(defects)} lỗi.")
    hops = _hops(parsed.received)
    omitted = max(0, len(hops) - MAX_HOPS)
    return Diagnostics(
        scope=scope,
        defects=tuple(defects[:MAX_DEFECTS]),
        received=tuple(hops[omitted:]),
        hops_omitted=omitted,
        notes=tuple(notes),
    )


def _whole(raw: bytes) -> tuple[Message | None, str | None]:
    """The message parsed whole by the stdlib (as mail-parser itself does), with overlong header fields
    cut; None and the reason when its shape would make mail-parser slow."""
    end = _HEADER_END.search(raw, 0, HEADER_LIMIT + 4)
    if end is None and len(raw) > HEADER_LIMIT:
        return None, None  # the header block alone is over the limit: read (cut) from there
    # Boundary lines, counted before parsing: the stdlib's own parse of thousands of parts takes seconds.
    if raw.count(b"\n--") > 2 * MAX_PARTS:
        return None, f"Thư có hơn {MAX_PARTS} phần: chỉ đọc phần tiêu đề."
    try:
        message = email.message_from_bytes(raw)
    except RecursionError:
        return None, "Thư lồng nhau quá sâu: chỉ đọc phần tiêu đề."
    cut = 0
    for parts, part in enumerate(message.walk(), start=1):
        if parts > MAX_PARTS:
            return None, f"Thư có hơn {MAX_PARTS} phần: chỉ đọc phần tiêu đề."
        cut += _cut_fields(part)
    return message, (f"Đã cắt bớt {cut} trường tiêu đề dài bất thường." if cut else None)


def _cut_fields(part: Message) -> int:
    """Cut header fields longer than FIELD_LIMIT in place. `_headers` is edited directly so that the
    order of the Received fields (which is the route) is kept; the public API appends at the end."""
    headers: list[tuple[str, Any]] = vars(part)["_headers"]
    cut = 0
    for i, (name, value) in enumerate(headers):
        if isinstance(value, str) and len(value) > FIELD_LIMIT:
            headers[i] = (name, value[:FIELD_LIMIT])
            cut += 1
    return cut


def _header_block(raw: bytes) -> tuple[bytes, bool]:
    """The header block, at most HEADER_LIMIT bytes cut at a line end; (block, whether it was cut)."""
    end = _HEADER_END.search(raw, 0, HEADER_LIMIT + 4)
    if end is not None:
        return raw[: end.start()] + b"\r\n\r\n", False
    head = raw[:HEADER_LIMIT]
    if len(raw) <= HEADER_LIMIT:
        return head, False
    line_end = head.rfind(b"\n")
    return (head[: line_end + 1] if line_end > 0 else head) + b"\r\n", True


def _defects(found: list[dict[str, list[str]]]) -> list[Defect]:
    """mail-parser's list of {part: ["Category: explanation", ...]} as flat records."""
    out: list[Defect] = []
    for group in found:
        for part, items in group.items():
            for item in items:
                category, _, text = str(item).partition(": ")
                out.append(Defect(part=_clean(part), category=_clean(category, 80), text=_clean(text)))
    return out


def _hops(received: list[dict[str, Any]]) -> list[Hop]:
    hops: list[Hop] = []
    previous_utc: str | None = None
    for item in received:
        date_utc = item.get("date_utc") or None
        # mail-parser writes 0 both for the first hop and when a date is missing: neither is a delay.
        delay = item.get("delay") if hops and date_utc and previous_utc else None
        hops.append(
            Hop(
                hop=int(item.get("hop") or len(hops) + 1),
                from_=_clean(item.get("from") or item.get("raw")),
                by=_clean(item.get("by")),
                with_=_clean(item.get("with"), 80),
                date=_clean(item.get("date"), 80),
                date_utc=_clean(date_utc, 40) or None,
                delay=float(delay) if isinstance(delay, int | float) else None,
            )
        )
        previous_utc = date_utc
    return hops


def _clean(value: object, limit: int = TEXT_LIMIT) -> str:
    """One line of the sender's text: controls and direction marks gone, undecodable bytes as "?",
    at most `limit` characters."""
    if value is None:
        return ""
    text = clean_line(str(value).encode("utf-8", "replace").decode("utf-8"))
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _exception_line(exc: BaseException) -> str:
    return f"{type(exc).__name__}: {exc}"


def _read_prefix(path: Path, limit: int) -> bytes:
    with open(path, "rb") as fh:
        return fh.read(limit)


def _with_note(found: Diagnostics, note: str) -> Diagnostics:
    return replace(found, notes=(note, *found.notes))


def _version() -> str:
    from mailparser.version import __version__

    return str(__version__)
