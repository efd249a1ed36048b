"""Unwrapping the Outlook containers that hide documents: winmail.dat (TNEF) and attached .msg items.

Both return the files found inside, flattened, plus notes about what could not be read. A container
that cannot be opened at all raises `ContainerError`; the caller keeps the original bytes then, so
nothing the contributor sent is lost. Message bodies inside a container are never returned as files.
"""

from __future__ import annotations

import io
import mimetypes
from dataclasses import dataclass, field
from typing import Any

from core.text import clean_line, nfc

TNEF_SIGNATURE = b"\x78\x9f\x3e\x22"  # 0x223E9F78, little-endian
OLE_SIGNATURE = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"

# MAPI property tags read from TNEF attachments (MS-OXPROPS).
_PID_ATTACH_LONG_FILENAME = 0x3707
_PID_ATTACH_FILENAME = 0x3704
_PID_DISPLAY_NAME = 0x3001
_PID_ATTACH_MIME_TAG = 0x370E

# The stdlib table behind MimeTypes() predates Office Open XML; the office types matter most here.
_OFFICE_TYPES = {
    ".docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    ".doc": "application/msword",
    ".odt": "application/vnd.oasis.opendocument.text",
    ".rtf": "application/rtf",
    ".pdf": "application/pdf",
    ".msg": "application/vnd.ms-outlook",
    ".eml": "message/rfc822",
    ".dat": "application/octet-stream",
}
# An instance built from the stdlib defaults only: the machine's /etc/mime.types must not change results.
_MIME_TYPES = mimetypes.MimeTypes()


class ContainerError(Exception):
    """The container could not be opened at all (its bytes stay an ordinary attachment)."""


@dataclass(frozen=True)
class InnerFile:
    filename: str
    content_type: str
    data: bytes
    level: int  # containers opened to reach it: 1 = directly inside the container given


@dataclass
class Unpacked:
    files: list[InnerFile] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    text_body: str | None = None  # TNEF only: the message body Outlook moved into winmail.dat
    html_body: str | None = None


def guess_content_type(filename: str) -> str:
    """A content type from the file name, for containers that do not declare one."""
    name = filename.lower()
    dot = name.rfind(".")
    if dot >= 0 and name[dot:] in _OFFICE_TYPES:
        return _OFFICE_TYPES[name[dot:]]
    guessed, _encoding = _MIME_TYPES.guess_type(name, strict=False)
    return guessed or "application/octet-stream"


def is_tnef(data: bytes) -> bool:
    return data[:4] == TNEF_SIGNATURE


def is_outlook_msg(data: bytes) -> bool:
    """An OLE2 compound file with the .msg layout (a Word .doc or encrypted .docx is OLE2 too)."""
    if data[:8] != OLE_SIGNATURE:
        return False
    import olefile  # deferred: only mail with OLE attachments pays for it

    try:
        with olefile.OleFileIO(io.BytesIO(data)) as ole:
            if ole.exists("__properties_version1.0"):
                return any(entry[0].startswith("__substg1.0_") for entry in ole.listdir())
    except Exception:  # a damaged OLE file is simply not a .msg we can open
        return False
    return False


# --- TNEF (winmail.dat) ---------------------------------------------------------------------------


def _decode_legacy(data: bytes, codepage: str | None) -> str:
    for encoding in (codepage, "utf-8", "cp1258"):
        if not encoding:
            continue
        try:
            return data.decode(encoding)
        except (LookupError, UnicodeDecodeError):
            continue
    return data.decode("cp1258", errors="replace")


def _as_text(value: Any, codepage: str | None) -> str | None:
    """tnefparse hands bodies back as str, bytes or lists of either depending on the attribute."""
    if value is None:
        return None
    if isinstance(value, list):
        parts = [_as_text(item, codepage) or "" for item in value]
        value = "".join(parts)
    if isinstance(value, bytes):
        value = _decode_legacy(value, codepage)
    text = nfc(str(value).replace("\x00", ""))
    return text or None


def _tnef_attr(attachment: Any, tag: int) -> Any:
    for prop in getattr(attachment, "mapi_attrs", ()):
        if prop.name == tag:
            try:
                return prop.data
            except Exception:
                return None
    return None


def _tnef_filename(attachment: Any, codepage: str | None) -> str:
    for tag in (_PID_ATTACH_LONG_FILENAME, _PID_ATTACH_FILENAME, _PID_DISPLAY_NAME):
        value = _as_text(_tnef_attr(attachment, tag), codepage)
        if value:
            return clean_line(value)
    # attAttachTitle keeps the OEM-codepage bytes; tnefparse's `name` decodes them as UTF-8 and
    # fails on cp1252/cp1258 names, so read the raw title and decode it with the stream's codepage.
    raw = getattr(attachment, "_name", b"")
    return clean_line(_as_text(raw, codepage) or "")


def _tnef_files(tnef: Any, level: int, max_levels: int, out: Unpacked) -> None:
    for attachment in tnef.attachments:
        name = _tnef_filename(attachment, tnef.codepage)
        embedded = getattr(attachment, "embed", None)
        if embedded is not None:
            # An attached message inside winmail.dat: its own attachments are what matter.
            if level < max_levels:
                _tnef_files(embedded, level + 1, max_levels, out)
            else:
                out.notes.append(f"winmail.dat lồng quá {max_levels} cấp; thư đính kèm «{name}» không được mở")
            continue
        data = attachment.data if isinstance(attachment.data, bytes) else b""
        if not data:
            out.notes.append(f"Tệp «{name or 'không tên'}» trong winmail.dat không có dữ liệu")
            continue
        mime = _as_text(_tnef_attr(attachment, _PID_ATTACH_MIME_TAG), tnef.codepage)
        content_type = (mime or "").strip().lower() or guess_content_type(name)
        out.files.append(InnerFile(name, content_type, data, level))


# tnefparse trusts the counts in a stream: a damaged or hostile winmail.dat with a property count of
# 4 billion makes it loop (or allocate) for hours. This walk mirrors its reading order and rejects
# counts larger than the bytes that follow them, before tnefparse sees the stream.
_ATT_MAPI_PROPS, _ATT_RECIP_TABLE, _ATT_ATTACHMENT = 0x9003, 0x9004, 0x9005
_FIXED_SIZES = {0x0002: 2, 0x000B: 2, 0x0003: 4, 0x0004: 4, 0x000A: 4, 0x0005: 8, 0x0007: 8, 0x0006: 8,
                0x0014: 8, 0x0040: 8, 0x0048: 16}  # fmt: skip
_VARIABLE_TYPES = (0x001E, 0x001F, 0x000D, 0x0102, 0x0000)
_IMESSAGE_SIGNATURE = b"\x07\x03\x02\x00\x00\x00\x00\x00\xc0\x00\x00\x00\x00\x00\x00\x46"
_MAX_TNEF_NESTING = 4


class _Hostile(Exception):
    """A count that would make tnefparse spin."""


def _u16(data: bytes, offset: int) -> int:
    return int.from_bytes(data[offset : offset + 2], "little")


def _u32(data: bytes, offset: int) -> int:
    if offset + 4 > len(data):
        raise IndexError("truncated")  # tnefparse stops here with struct.error: harmless
    return int.from_bytes(data[offset : offset + 4], "little")


def _check_mapi_block(data: bytes, offset: int, nesting: int) -> int:
    """Walk one MAPI property list as tnefparse's decode_mapi does; return the offset after it."""
    count = _u32(data, offset)
    offset += 4
    if count > (len(data) - offset) // 4:
        raise _Hostile(f"{count} thuộc tính MAPI trong {len(data) - offset} byte")
    for _ in range(count):
        if offset >= len(data):
            break
        prop_type, prop_id = _u16(data, offset), _u16(data, offset + 2)
        offset += 4
        if prop_id >= 0x8000:  # named property: GUID, kind, then an id or a name
            kind = _u32(data, offset + 16)
            offset += 20
            if kind == 0:
                offset += 4
            else:
                length = _u32(data, offset)
                offset += 4 + length + (-length % 4)
        values = None
        if prop_type & 0x1000:
            prop_type ^= 0x1000
            values = _u32(data, offset)
            offset += 4
            size = _FIXED_SIZES.get(prop_type)
            if size and values > (len(data) - offset) // size + 1:
                raise _Hostile(f"{values} giá trị trong {len(data) - offset} byte")
        for _ in range(values or 1):
            if prop_type in _FIXED_SIZES:
                offset += _FIXED_SIZES[prop_type]
            elif prop_type in _VARIABLE_TYPES:
                items = 1 if values is not None else _u32(data, offset)
                offset += 0 if values is not None else 4
                for _ in range(items):  # each item needs 4 bytes, so this ends with the data
                    length = _u32(data, offset)
                    padded = length + (-length % 4)
                    item = data[offset + 4 : offset + 4 + padded]
                    offset += 4 + padded
                    if prop_type == 0x0102 and prop_id == 0x3701:
                        embedded = item.rstrip(b"\x00")
                        if embedded.startswith(_IMESSAGE_SIGNATURE):  # tnefparse parses it as TNEF
                            _check_tnef(embedded[len(_IMESSAGE_SIGNATURE) :], nesting + 1)
            else:
                raise IndexError("unknown property type")  # tnefparse stops the block here too
        if (values or 1) % 2 and prop_type in (0x0002, 0x000B):
            offset += 2
    return offset


def _check_tnef(data: bytes, nesting: int = 0) -> None:
    if nesting > _MAX_TNEF_NESTING:
        raise _Hostile(f"winmail.dat lồng quá {_MAX_TNEF_NESTING} cấp")
    offset = 6
    while offset + 12 < len(data):  # tnefparse's loop condition and object framing
        name = _u16(data, offset + 1)
        length = min(len(data) - offset, _u32(data, offset + 5) + 11)
        body = data[offset + 9 : offset + length - 2]
        offset += length
        try:
            if name in (_ATT_MAPI_PROPS, _ATT_ATTACHMENT):
                _check_mapi_block(body, 0, nesting)
            elif name == _ATT_RECIP_TABLE:
                rows = _u32(body, 0)
                if rows > len(body) // 4:
                    raise _Hostile(f"{rows} người nhận trong {len(body)} byte")
                row_offset = 4
                for _ in range(rows):
                    row_offset = _check_mapi_block(body, row_offset, nesting)
        except IndexError:
            continue  # tnefparse gives up on this attribute the same way


def unpack_tnef(data: bytes, *, max_levels: int = 5) -> Unpacked:
    """Files (and the body) carried by a TNEF stream. Raises ContainerError if it is not readable."""
    from tnefparse.tnef import TNEF  # deferred: most mail has no winmail.dat

    if not is_tnef(data):
        raise ContainerError("thiếu chữ ký TNEF 0x223E9F78")
    try:
        _check_tnef(data)
    except (_Hostile, IndexError) as exc:
        raise ContainerError(f"cấu trúc TNEF không hợp lệ: {exc}") from exc
    try:
        tnef = TNEF(data, do_checksum=True)
    except Exception as exc:  # tnefparse raises whatever struct/indexing error a damaged stream causes
        raise ContainerError(f"{type(exc).__name__}: {exc}") from exc
    out = Unpacked()
    if any(not obj.good_checksum for obj in tnef.objects):
        out.notes.append("winmail.dat có thuộc tính sai tổng kiểm tra (checksum); dữ liệu có thể bị hỏng")
    try:
        _tnef_files(tnef, 1, max_levels, out)
    except Exception as exc:
        raise ContainerError(f"{type(exc).__name__}: {exc}") from exc
    out.text_body = _as_text(tnef.body, tnef.codepage)
    out.html_body = _as_text(tnef.htmlbody, tnef.codepage)
    return out


# --- Outlook .msg --------------------------------------------------------------------------------


def _msg_attachment_name(attachment: Any) -> str:
    for attr in ("longFilename", "shortFilename", "displayName", "name"):
        try:
            value = getattr(attachment, attr, None)
        except Exception:
            value = None
        if isinstance(value, str) and value.strip("\x00 "):
            return clean_line(value.replace("\x00", ""))
    return ""


def _msg_files(msg: Any, level: int, max_levels: int, out: Unpacked) -> None:
    for attachment in msg.attachments:
        name = _msg_attachment_name(attachment)
        try:
            data = attachment.data
        except Exception as exc:
            out.notes.append(f"Không đọc được tệp «{name or 'không tên'}» trong thư Outlook: {exc}")
            continue
        if isinstance(data, bytes):
            if not data:
                continue
            mime = getattr(attachment, "mimetype", None)
            content_type = mime.strip().lower() if isinstance(mime, str) and mime.strip() else ""
            out.files.append(InnerFile(name, content_type or guess_content_type(name), data, level))
        elif hasattr(data, "attachments"):  # an embedded .msg (forwarded inside the forward)
            subject = clean_line(getattr(data, "subject", None) or "")
            if level < max_levels:
                _msg_files(data, level + 1, max_levels, out)
                continue
            try:
                blob = data.exportBytes()
            except Exception:
                out.notes.append(f"Thư Outlook lồng quá {max_levels} cấp; thư «{subject}» không được mở")
                continue
            out.notes.append(f"Thư Outlook lồng quá {max_levels} cấp; thư «{subject}» được giữ nguyên")
            out.files.append(InnerFile(f"{subject or 'thu'}.msg", "application/vnd.ms-outlook", blob, level))
        else:
            out.notes.append(f"Tệp «{name or 'không tên'}» trong thư Outlook không có dữ liệu đọc được")


def unpack_msg(data: bytes, *, max_levels: int = 5) -> Unpacked:
    """Files attached to an Outlook .msg, including those of .msg items embedded in it."""
    if not is_outlook_msg(data):
        raise ContainerError("không phải tệp Outlook .msg (thiếu cấu trúc OLE2 của .msg)")
    import extract_msg  # deferred: a heavy import that only forwarded Outlook items need
    from extract_msg.enums import ErrorBehavior

    tolerant = ErrorBehavior.ATTACH_SUPPRESS_ALL | ErrorBehavior.STANDARDS_VIOLATION
    try:
        msg = extract_msg.openMsg(data, strict=False, errorBehavior=tolerant)
    except Exception as exc:  # extract_msg raises its own error types and plain OLE errors
        raise ContainerError(f"{type(exc).__name__}: {exc}") from exc
    out = Unpacked()
    try:
        _msg_files(msg, 1, max_levels, out)
    except Exception as exc:
        raise ContainerError(f"{type(exc).__name__}: {exc}") from exc
    finally:
        msg.close()
    return out
