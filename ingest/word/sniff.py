"""What a file really is, and whether its zip container is safe to open.

Contributors' attachments are untrusted: the filename and the MIME type are whatever the sender's
mail client guessed, or whatever an attacker chose. Everything here decides from the bytes and the
container structure, reads a bounded amount, and never decompresses a whole member.

`DocumentError` lives here (and is re-exported by `ingest.word`) because the guards below are the
first place it is raised; keeping it in the lowest module avoids an import cycle.
"""

from __future__ import annotations

import io
import struct
import zipfile
import zlib
from collections.abc import Iterator

import olefile

from core.images import image_type

REASONS = ("corrupt_document", "encrypted_document", "unsupported_document", "converter_missing", "too_large")

# Sniff results (the public vocabulary of `ingest.word.sniff`).
KINDS = ("docx", "docm", "doc", "odt", "rtf", "encrypted", "pdf", "zip", "image", "unknown")

# A real .docx has 10-100 parts, a photo-heavy one a few hundred. zipfile keeps one ZipInfo
# (~0.5 KB) per central-directory entry, so the count is checked before zipfile parses it.
MAX_ZIP_ENTRIES = 5000
# Members smaller than this are never called a bomb: a 1 MB run of spaces compresses 1000x too.
RATIO_FLOOR_BYTES = 2 * 2**20
# How far into an XML part its prolog (where a DTD would be) may extend.
MAX_PROLOG_BYTES = 64 * 1024
# Small metadata members read while sniffing ([Content_Types].xml, mimetype, manifest.xml).
MAX_META_BYTES = 1 * 2**20

_OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
_ZIP_LOCAL = b"PK\x03\x04"
_ZIP_EOCD = b"PK\x05\x06"
_ZIP64_LOCATOR = b"PK\x06\x07"
_FIB_MAGICS = (0xA5EC, 0xA5DC)  # Word 97-2019, Word 6/95
_FIB_ENCRYPTED = 0x0100  # FibBase.fEncrypted ([MS-DOC] 2.5.2)

_WORD_MAIN_TYPES = (
    b"application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml",
    b"application/vnd.openxmlformats-officedocument.wordprocessingml.template.main+xml",
)
_WORD_MACRO_TYPES = (
    b"application/vnd.ms-word.document.macroEnabled.main+xml",
    b"application/vnd.ms-word.template.macroEnabledTemplate.main+xml",
)
_ODF_TEXT_TYPES = (
    "application/vnd.oasis.opendocument.text",
    "application/vnd.oasis.opendocument.text-template",
)


class DocumentError(Exception):
    """A document that cannot become an article, with a reason code from REASONS.

    `detail` is short English for logs and editors ("zip bomb: 2.1 GB declared"). The two values
    are the exception's args, so it pickles across the worker-process boundary unchanged.
    """

    def __init__(self, reason: str, detail: str = "") -> None:
        if reason not in REASONS:
            raise ValueError(f"unknown DocumentError reason {reason!r}")
        super().__init__(reason, detail)
        self.reason = reason
        self.detail = detail

    def __str__(self) -> str:
        return f"{self.reason}: {self.detail}" if self.detail else self.reason


# ---------------------------------------------------------------------------------------------
# sniff


def sniff(data: bytes, filename: str = "") -> str:
    """Classify a file by its bytes and container structure; the filename is never consulted.

    Returns one of KINDS. Never raises for bad input: anything unparseable is "unknown" (or the
    container kind when the container is recognisable but damaged, so that callers can say
    "corrupt" rather than "unsupported").
    """
    del filename  # the name is never trusted; see module docstring
    head = data[:1024]
    if data.startswith(_OLE_MAGIC):
        return _sniff_ole(data)
    if data.startswith(_ZIP_LOCAL) or data.startswith(_ZIP_EOCD):
        return _sniff_zip(data)
    if b"%PDF-" in head:
        return "pdf"
    if head.lstrip(b"\xef\xbb\xbf \t\r\n").startswith(b"{\\rtf"):
        return "rtf"
    if image_type(data) is not None:
        return "image"
    return "unknown"


def _sniff_ole(data: bytes) -> str:
    try:
        ole = olefile.OleFileIO(io.BytesIO(data))
    except Exception:
        # olefile raises a variety of errors on damaged FATs; a broken OLE file is unknown.
        return "unknown"
    try:
        # Agile/standard encrypted OOXML (and IRM) wrap the package in these two streams.
        if ole.exists("EncryptionInfo") and ole.exists("EncryptedPackage"):
            return "encrypted"
        if ole.exists("WordDocument"):
            fib = ole.openstream("WordDocument").read(12)
            if len(fib) < 12:
                return "unknown"
            ident, _nfib, _unused, _lid, _pnnext, flags = struct.unpack("<HHHHHH", fib)
            if ident in _FIB_MAGICS and flags & _FIB_ENCRYPTED:
                return "encrypted"
            return "doc"
        return "unknown"
    except Exception:
        return "unknown"
    finally:
        ole.close()


def _sniff_zip(data: bytes) -> str:
    members = _zip_members(data)
    names = {name for name, _ in members}
    contents = dict(members)
    if "mimetype" in names:
        mimetype = (contents.get("mimetype") or b"").strip().decode("ascii", "replace")
        if mimetype in _ODF_TEXT_TYPES:
            manifest = contents.get("META-INF/manifest.xml") or b""
            return "encrypted" if b"encryption-data" in manifest else "odt"
        return "zip"
    content_types = contents.get("[Content_Types].xml")
    if content_types is not None:
        if any(t in content_types for t in _WORD_MACRO_TYPES):
            return "docm"
        if any(t in content_types for t in _WORD_MAIN_TYPES):
            return "docm" if "word/vbaProject.bin" in names else "docx"
    if "word/document.xml" in names:
        return "docm" if "word/vbaProject.bin" in names else "docx"
    return "zip"


_META_MEMBERS = ("mimetype", "[Content_Types].xml", "META-INF/manifest.xml")


def _zip_members(data: bytes) -> list[tuple[str, bytes | None]]:
    """(name, content-if-a-small-metadata-member) from the central directory, else local headers.

    A truncated download has no central directory; its local headers still say what it was meant
    to be, so the caller can report "corrupt .docx" instead of "not a Word file".
    """
    if _zip_entry_count(data) is not None:
        try:
            with zipfile.ZipFile(io.BytesIO(data)) as zf:
                out: list[tuple[str, bytes | None]] = []
                for info in zf.infolist():
                    content = None
                    if info.filename in _META_MEMBERS and not info.flag_bits & 0x1:
                        content = _read_bounded(zf, info, MAX_META_BYTES)
                    out.append((info.filename, content))
                return out
        except Exception:  # noqa: S110 -- not a readable zip: the caller's sniff reports the format
            pass  # fall back to the local headers
    return list(_local_headers(data))


def _read_bounded(zf: zipfile.ZipFile, info: zipfile.ZipInfo, limit: int) -> bytes | None:
    try:
        with zf.open(info) as fh:
            return fh.read(limit)
    except Exception:
        return None


def _local_headers(data: bytes, limit: int = 200) -> Iterator[tuple[str, bytes | None]]:
    """Walk local file headers from the start, decompressing only small metadata members."""
    pos = 0
    for _ in range(limit):
        if data[pos : pos + 4] != _ZIP_LOCAL or pos + 30 > len(data):
            return
        (_v, flags, method, _t, _d, _crc, csize, _usize, nlen, xlen) = struct.unpack(
            "<HHHHHIIIHH", data[pos + 4 : pos + 30]
        )
        name = data[pos + 30 : pos + 30 + nlen].decode("utf-8" if flags & 0x800 else "cp437", "replace")
        start = pos + 30 + nlen + xlen
        content = None
        if name in _META_MEMBERS and not flags & 0x1:
            content = _inflate_prefix(data[start : start + (csize or MAX_META_BYTES)], method)
        yield name, content
        if flags & 0x8 or csize == 0xFFFFFFFF:
            return  # sizes live in a data descriptor after the data: cannot skip ahead safely
        pos = start + csize


def _inflate_prefix(raw: bytes, method: int) -> bytes | None:
    if method == zipfile.ZIP_STORED:
        return raw[:MAX_META_BYTES]
    if method == zipfile.ZIP_DEFLATED:
        try:
            return zlib.decompressobj(-15).decompress(raw, MAX_META_BYTES)
        except zlib.error:
            return None
    return None


# ---------------------------------------------------------------------------------------------
# zip guards


def _zip_entry_count(data: bytes) -> int | None:
    """Entry count from the end-of-central-directory record (Zip64-aware); None if absent."""
    tail_start = max(0, len(data) - (22 + 65535))
    pos = data.rfind(_ZIP_EOCD, tail_start)
    if pos < 0 or pos + 22 > len(data):
        return None
    count = struct.unpack("<H", data[pos + 10 : pos + 12])[0]
    if count == 0xFFFF:
        loc = pos - 20
        if loc < 0 or data[loc : loc + 4] != _ZIP64_LOCATOR:
            return None
        eocd64 = struct.unpack("<Q", data[loc + 8 : loc + 16])[0]
        if eocd64 + 56 > len(data):
            return None
        count = struct.unpack("<Q", data[eocd64 + 32 : eocd64 + 40])[0]
    return count


MAX_XML_PART_BYTES = 40 * 2**20


def check_zip(
    data: bytes,
    *,
    max_uncompressed: int,
    max_ratio: int,
    max_entries: int = MAX_ZIP_ENTRIES,
) -> None:
    """Refuse zip bombs, damaged and encrypted containers before anything decompresses them.

    Declared sizes are what Python's zipfile honours (it stops at file_size and fails the CRC), so
    bounding the declared total bounds what python-docx can ever inflate. XML parts must not carry
    a DTD: OOXML and ODF never do, and a DTD is how billion-laughs and external entities arrive.
    """
    count = _zip_entry_count(data)
    if count is None:
        raise DocumentError("corrupt_document", "damaged or truncated zip (no central directory)")
    if count > max_entries:
        raise DocumentError("too_large", f"zip has {count} entries (limit {max_entries})")
    try:
        zf = zipfile.ZipFile(io.BytesIO(data))
    except (zipfile.BadZipFile, zipfile.LargeZipFile, ValueError, OSError, EOFError) as exc:
        raise DocumentError("corrupt_document", f"damaged zip: {exc}") from exc
    with zf:
        infos = zf.infolist()
        total = 0
        for info in infos:
            if info.flag_bits & 0x1:
                raise DocumentError("encrypted_document", f"encrypted zip member {info.filename}")
            if info.compress_type not in (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED):
                raise DocumentError(
                    "corrupt_document", f"zip member {info.filename} uses compression {info.compress_type}"
                )
            if info.header_offset + info.compress_size > len(data):
                raise DocumentError("corrupt_document", f"zip member {info.filename} extends past the end")
            total += info.file_size
            if total > max_uncompressed:
                raise DocumentError(
                    "too_large", f"zip bomb: {_human(total)}+ declared (limit {_human(max_uncompressed)})"
                )
            if info.filename.endswith((".xml", ".rels")) and info.file_size > MAX_XML_PART_BYTES:
                # An XML tree costs ~5x its text in memory: a part this big would exhaust the worker
                # even at a modest compression ratio. A 500-page Word document stays far below.
                raise DocumentError(
                    "too_large",
                    f"{info.filename} declares {_human(info.file_size)} (limit {_human(MAX_XML_PART_BYTES)})",
                )
            if info.file_size > RATIO_FLOOR_BYTES and info.file_size > max_ratio * max(info.compress_size, 1):
                ratio = info.file_size // max(info.compress_size, 1)
                raise DocumentError(
                    "too_large", f"zip bomb: {info.filename} expands {ratio}x to {_human(info.file_size)}"
                )
        for info in infos:
            if info.filename.endswith((".xml", ".rels")):
                _check_xml_prolog(zf, info)


def _check_xml_prolog(zf: zipfile.ZipFile, info: zipfile.ZipInfo) -> None:
    try:
        with zf.open(info) as fh:
            head = b""
            while len(head) < MAX_PROLOG_BYTES:
                chunk = fh.read(4096)
                if not chunk:
                    break
                head += chunk
                verdict = prolog_verdict(head, complete=False)
                if verdict is not None:
                    break
            verdict = prolog_verdict(head, complete=True)
    except (zipfile.BadZipFile, zlib.error, OSError, EOFError, ValueError) as exc:
        raise DocumentError("corrupt_document", f"damaged zip member {info.filename}: {exc}") from exc
    if verdict == "dtd":
        raise DocumentError("corrupt_document", f"DTD/entities in {info.filename} (XML bomb or XXE)")
    if verdict == "long":
        raise DocumentError("corrupt_document", f"XML prolog of {info.filename} longer than 64 KB")


def prolog_verdict(head: bytes, *, complete: bool) -> str | None:
    """'ok' (root element reached), 'dtd' (a DOCTYPE), 'long' (no root in the window) or None.

    None means "need more bytes" and is only returned when `complete` is False.
    """
    if head.startswith((b"\xff\xfe", b"\xfe\xff")):
        text = head.decode("utf-16", "ignore").encode("utf-8")
    else:
        text = head.removeprefix(b"\xef\xbb\xbf")
    pos = 0
    while True:
        lt = text.find(b"<", pos)
        if lt < 0 or lt + 1 >= len(text):
            break
        nxt = text[lt + 1 : lt + 2]
        if nxt == b"?":
            end = text.find(b"?>", lt)
        elif text.startswith(b"<!--", lt):
            end = text.find(b"-->", lt)
        elif nxt == b"!":
            return "dtd"
        else:
            return "ok"
        if end < 0:
            break
        pos = end + 2
    if not complete and len(head) < MAX_PROLOG_BYTES:
        return None
    # Empty or text-only members (mimetype) have no root: nothing to expand either.
    return "long" if len(head) >= MAX_PROLOG_BYTES else "ok"


def _human(n: int) -> str:
    for unit, size in (("GB", 2**30), ("MB", 2**20), ("KB", 2**10)):
        if n >= size:
            return f"{n / size:.1f} {unit}"
    return f"{n} B"
