"""Shared pieces of the intake benchmarks: test submissions, figure tables, JSON results.

The benchmarks reuse the test servers (tests/servers.py), the settings helper (tests/appkit.py) and the
fixture builders (tests/fixtures/intake/build.py), so they run from the repository root:
`.venv/bin/python bench/run.py`, or one of them with `.venv/bin/python -m bench.ingest_backlog`.
Every figure is printed next to a baseline measured in the same run; timings never decide a test.
"""

from __future__ import annotations

import argparse
import base64
import io
import json
import os
import platform
import re
import secrets
import statistics
import struct
import sys
import time
import zipfile
import zlib
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, timezone
from email.header import Header, decode_header, make_header
from email.utils import format_datetime
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
RESULTS_DIR = REPO / "bench" / "results"

# The number written into the template submission; replaced per message (same width: 6 digits).
_PLACEHOLDER = 987654
_SUBJECT_MARK = b"\x00subject\x00"
BASE_DATE = datetime(2026, 11, 20, 8, 30, tzinfo=timezone(timedelta(hours=7)))


class BenchError(Exception):
    """The run measured something other than success (e.g. fewer drafts than messages): no figure."""


# --------------------------------------------------------------------------------------- options
def parser(description: str) -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(description=description)
    p.add_argument("--quick", action="store_true", help="a few seconds: proves the benchmark code works")
    p.add_argument("--results", type=Path, default=RESULTS_DIR, help="folder for <name>.json")
    return p


# --------------------------------------------------------------------------------------- figures
def median(values: Sequence[float]) -> float:
    return float(statistics.median(values))


def percentile(values: Sequence[float], q: float) -> float:
    """Linear-interpolated percentile (q in 0..100) of a non-empty sequence."""
    ordered = sorted(values)
    if len(ordered) == 1:
        return float(ordered[0])
    pos = (len(ordered) - 1) * q / 100
    lo = int(pos)
    hi = min(lo + 1, len(ordered) - 1)
    return float(ordered[lo] + (ordered[hi] - ordered[lo]) * (pos - lo))


def print_table(title: str, header: Sequence[str], rows: Sequence[Sequence[object]]) -> None:
    """A plain-text table: figures are read by people, then by the JSON consumer."""
    cells = [[_cell(v) for v in row] for row in rows]
    widths = [max(len(h), *(len(r[i]) for r in cells)) for i, h in enumerate(header)]
    line = "  ".join("-" * w for w in widths)
    print(f"\n{title}")
    print("  ".join(h.ljust(w) for h, w in zip(header, widths, strict=True)))
    print(line)
    for r in cells:
        print("  ".join(c.rjust(w) if _numeric(c) else c.ljust(w) for c, w in zip(r, widths, strict=True)))
    sys.stdout.flush()


def _cell(v: object) -> str:
    if isinstance(v, float):
        return f"{v:,.3f}" if abs(v) < 10 else f"{v:,.1f}"
    return str(v)


def _numeric(s: str) -> bool:
    return s.replace(",", "").replace(".", "").replace("-", "").replace("x", "").isdigit()


def verdict(ok: bool) -> str:
    return "đạt / met" if ok else "CHƯA ĐẠT / MISSED"


def load_before() -> float:
    """1-minute load average; other work on the 2 cores skews timings, so say so next to them."""
    load = os.getloadavg()[0]
    if load > 0.5:
        print(f"  note: load average {load:.2f} at the start: other work on this machine skews timings")
    return load


def write_result(results_dir: Path, name: str, data: dict[str, Any]) -> Path:
    """bench/results/<name>.json (gitignored): the figures plus what machine and mode made them."""
    results_dir.mkdir(parents=True, exist_ok=True)
    payload = {
        "name": name,
        "finished_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": {"cpus": os.cpu_count(), "python": platform.python_version(), "platform": platform.platform()},
        "load_average_after": os.getloadavg()[0],
        **data,
    }
    path = results_dir / f"{name}.json"
    path.write_text(json.dumps(payload, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    print(f"\n→ {path}")
    return path


BACKENDS = ("sqlite", "postgresql")


@contextmanager
def database_url(backend: str, sqlite_file: Path) -> Iterator[str]:
    """The database a database-bound benchmark runs on: a SQLite file, or a fresh database on a
    throwaway PostgreSQL (tests/servers.py) stopped when the benchmark ends."""
    if backend == "sqlite":
        yield f"sqlite:///{sqlite_file.as_posix()}"
    elif backend == "postgresql":
        from tests import servers

        with servers.postgres() as server:
            yield server.new_database()
    else:
        raise BenchError(f"unknown database {backend!r}: one of {', '.join(BACKENDS)}")


def result_name(name: str, backend: str) -> str:
    """<name>.json for SQLite (as before there were two), <name>_postgresql.json for PostgreSQL."""
    return name if backend == "sqlite" else f"{name}_{backend}"


def database_size_mb(engine: Any) -> float:
    """The database's size on disk: the SQLite file, or what PostgreSQL reports for the database."""
    with engine.connect() as conn:
        if engine.dialect.name == "postgresql":
            return float(conn.exec_driver_sql("SELECT pg_database_size(current_database())").scalar_one()) / 1e6
        pages = conn.exec_driver_sql("PRAGMA page_count").scalar_one()
        size = conn.exec_driver_sql("PRAGMA page_size").scalar_one()
        return float(pages * size) / 1e6


class Stopwatch:
    def __init__(self) -> None:
        self.start = time.perf_counter()

    @property
    def seconds(self) -> float:
        return time.perf_counter() - self.start


# ----------------------------------------------------------------------------------- submissions
@dataclass(frozen=True)
class _Member:
    name: bytes
    date_time: tuple[int, int, int, int, int, int]
    crc: int
    size: int
    deflated: bytes  # raw deflate stream, computed once for members that never change


@dataclass(frozen=True)
class _Template:
    head: bytes  # message up to the Word file's base64 body
    tail: bytes  # from the line ending after that body to the end
    linesep: bytes
    members: list[tuple[_Member, bytes]]  # each .docx member, and its uncompressed bytes
    subject: str  # decoded, with the placeholder number


class Submissions:
    """Many distinct submissions from ONE built with the fixture builders, cheaply.

    The template is `submission(n, picture=photo(1600, 1200))`: a one-page .docx with one embedded
    photo, as a contributor's mail client sends it (~150 KB). Per message only the number changes
    (subject, Message-ID, file name, the title inside the .docx) and a JPEG comment in the photo, so
    every message, document and image has its own sha256 (nothing is deduplicated away), and building
    a thousand costs a few seconds instead of a python-docx run each.
    """

    def __init__(self, *, photo_quality: int = 65, tag: str | None = None) -> None:
        from tests.fixtures.intake.build import photo, submission

        self.tag = tag or secrets.token_hex(3)  # keeps Message-IDs unique across runs on one mailbox
        self.photo = photo(1600, 1200, seed=11, quality=photo_quality)
        self._t = _split_template(submission(_PLACEHOLDER, picture=self.photo))

    def message_id(self, n: int) -> str:
        return f"submission-{n:06d}-{self.tag}@vanphong.tinhuy.example"

    def make(self, n: int) -> bytes:
        if not 0 <= n <= 999_999:
            raise ValueError(f"message number out of range: {n}")
        number = f"{n:06d}"
        nl = self._t.linesep
        subject = self._t.subject.replace(str(_PLACEHOLDER), number)
        head = self._t.head.replace(b"\nSubject: %s%s" % (_SUBJECT_MARK, nl), _subject_field(subject, nl), 1)
        for old, new in (
            (b"<submission-%d@" % _PLACEHOLDER, f"<{self.message_id(n).split('@')[0]}@".encode()),
            (b" %d.docx" % _PLACEHOLDER, f" {number}.docx".encode()),
        ):
            if old not in head:
                raise BenchError(f"template changed: {old!r} not found")
            head = head.replace(old, new, 1)
        body = base64.encodebytes(self.docx(n)).replace(b"\n", nl)
        return head + body.rstrip(nl) + self._t.tail

    def docx(self, n: int) -> bytes:
        number = f"{n:06d}".encode()
        parts: list[tuple[_Member, bytes]] = []
        for member, data in self._t.members:
            if member.name == b"word/document.xml":
                parts.append(_member(member, data.replace(b"%d" % _PLACEHOLDER, number)))
            elif member.name.startswith(b"word/media/") and data[:2] == b"\xff\xd8":
                parts.append(_member(member, jpeg_with_comment(data, b"bench " + number)))
            else:
                parts.append((member, data))
        return _zip([m for m, _ in parts])


def jpeg_with_comment(jpeg: bytes, text: bytes) -> bytes:
    """The same picture with a COM segment: other bytes (other sha256), same pixels.

    It goes after the leading APP0/APP1 segment, where readers that sniff "JFIF"/"Exif" at a fixed
    offset (python-docx) still find it.
    """
    pos = 2
    if jpeg[2:3] == b"\xff" and jpeg[3:4] in (b"\xe0", b"\xe1"):
        pos = 4 + struct.unpack(">H", jpeg[4:6])[0]
    return jpeg[:pos] + b"\xff\xfe" + struct.pack(">H", len(text) + 2) + text + jpeg[pos:]


def _deflate(data: bytes) -> bytes:
    c = zlib.compressobj(6, zlib.DEFLATED, -15)  # raw deflate, as in a zip member
    return c.compress(data) + c.flush()


def _member(like: _Member, data: bytes) -> tuple[_Member, bytes]:
    return _Member(like.name, like.date_time, zlib.crc32(data), len(data), _deflate(data)), data


def _zip(members: Sequence[_Member]) -> bytes:
    """A plain deflated zip from members compressed beforehand (zipfile cannot copy raw streams)."""
    out = bytearray()
    central = bytearray()
    for m in members:
        y, mo, d, h, mi, s = m.date_time
        dos_time, dos_date = (h << 11) | (mi << 5) | (s // 2), ((y - 1980) << 9) | (mo << 5) | d
        fields = (8, dos_time, dos_date, m.crc, len(m.deflated), m.size, len(m.name))
        central += struct.pack("<IHHHHHHIIIHHHHHII", 0x02014B50, 20, 20, 0, *fields, 0, 0, 0, 0, 0, len(out))
        central += m.name
        out += struct.pack("<IHHHHHIIIHH", 0x04034B50, 20, 0, *fields, 0) + m.name + m.deflated
    end = struct.pack("<IHHHHIIH", 0x06054B50, 0, 0, len(members), len(members), len(central), len(out), 0)
    return bytes(out + central + end)


def _split_template(raw: bytes) -> _Template:
    linesep = b"\r\n" if b"\r\n" in raw[:2000] else b"\n"
    at = raw.index(b" %d.docx" % _PLACEHOLDER)
    start = raw.index(linesep * 2, at) + 2 * len(linesep)
    end = raw.index(linesep + b"--", start)
    with zipfile.ZipFile(io.BytesIO(base64.b64decode(raw[start:end]))) as z:
        members = [_member(_Member(i.filename.encode(), i.date_time, 0, 0, b""), z.read(i)) for i in z.infolist()]
    if not any(b"%d" % _PLACEHOLDER in data for m, data in members if m.name == b"word/document.xml"):
        raise BenchError("the template's document.xml does not carry the number: fixture builder changed?")
    # Every message the same plausible date (the template's n would put it years ahead).
    head = re.sub(rb"\nDate: [^\r\n]*", b"\nDate: " + format_datetime(BASE_DATE).encode(), raw[:start], count=1)
    # The subject is re-encoded per message (the number may sit inside an encoded word).
    field = re.search(rb"\nSubject:((?:[^\r\n]*)(?:\r?\n[ \t][^\r\n]*)*)\r?\n", head)
    if field is None:
        raise BenchError("the template has no Subject")
    subject = str(make_header(decode_header(field.group(1).decode("ascii").replace(linesep.decode(), ""))))
    if str(_PLACEHOLDER) not in subject:
        raise BenchError(f"the template's subject does not carry the number: {subject!r}")
    head = head[: field.start()] + b"\nSubject: " + _SUBJECT_MARK + linesep + head[field.end() :]
    return _Template(head, raw[end:], linesep, members, subject)


def _subject_field(subject: str, linesep: bytes) -> bytes:
    """A folded RFC 2047 Subject field, as mail clients send a Vietnamese subject."""
    encoded = Header(subject, "utf-8", header_name="Subject").encode(linesep=linesep.decode())
    return b"\nSubject: " + encoded.encode("ascii") + linesep


def tiny_submission(n: int = 1) -> bytes:
    """A one-page .docx without a photo: the smallest real submission (memory baseline)."""
    from tests.fixtures.intake.build import submission

    return submission(n)


# ------------------------------------------------------------------------------------- the app
def draft_counts(engine: Any) -> dict[str, Any]:
    """Drafts, and inbound messages by status and reason: what a benchmark checks before it reports."""
    from sqlalchemy import func
    from sqlmodel import col, select

    from core.db import reading
    from core.models import Draft
    from ingest.models import InboundMessage

    with reading(engine) as s:
        drafts = s.exec(select(func.count(col(Draft.id)))).one()
        rows = s.exec(
            select(InboundMessage.status, InboundMessage.reason, func.count(col(InboundMessage.id))).group_by(
                col(InboundMessage.status), col(InboundMessage.reason)
            )
        ).all()
        problems = s.exec(
            select(InboundMessage.subject, InboundMessage.reason, InboundMessage.detail)
            .where(InboundMessage.status != "accepted")
            .limit(3)
        ).all()
    by_status = {f"{status}/{reason}" if reason else str(status): count for status, reason, count in rows}
    return {
        "drafts": int(drafts),
        "inbound": by_status,
        "examples": [{"subject": s, "reason": r, "detail": (d or "")[:300]} for s, r, d in problems],
    }


def check_all_drafts(counts: dict[str, Any], n: int, what: str) -> None:
    """A benchmark that silently measures failures is worse than none: stop with the evidence."""
    if counts["drafts"] != n:
        raise BenchError(
            f"{what}: {counts['drafts']} drafts from {n} messages; inbound {counts['inbound']}; "
            f"e.g. {counts['examples']}"
        )
