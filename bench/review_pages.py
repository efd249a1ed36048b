"""Review UI speed (issue #4 "Speed"): the queue and a draft page under 20 concurrent clients, and a
decision's commit, on a database of 20,000 drafts and 200,000 audit events.

    .venv/bin/python bench/run.py --only review [--quick] [--nice -10]
    .venv/bin/python -m bench.review_pages [--quick] [--keep DIR] [--seconds 20] [--connections 20]
                                            [--client wrk|python] [--profile DIR] [--database sqlite|postgresql]

A real server process (`toasoan.cli.serve`, uvicorn, the product's app and settings) serves the pages;
the same process also serves two benchmark-only routes mounted by this module (`bench_app`), bare
FastAPI handlers that run the same queries and return the same rows as JSON, without sessions, ORM
objects or templates: the baseline, measured in the same run, leg by leg. The load comes from another
process: `wrk` (Debian) with a signed-in session cookie and a Lua `done` hook printing percentiles,
or, in --quick mode or without wrk, a small closed-loop Python client. Decisions are timed while wrk
loads the queue: `review.service.approve` called from this process, and the POST /drafts/{id}/approve
round trip of a signed-in head of the board.
"""

from __future__ import annotations

import html
import http.client
import json
import os
import random
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from bench import (
    BACKENDS,
    REPO,
    RESULTS_DIR,
    BenchError,
    database_size_mb,
    database_url,
    load_before,
    median,
    parser,
    percentile,
    print_table,
    result_name,
    verdict,
    write_result,
)
from bench.summary import Headline, headline

NAME = "review_pages"
TARGET_PAGE_P95_MS = 60.0
TARGET_DECISION_MS = 30.0
PASSWORD = "mat-khau-bench-review"
# Serving starts from 2024: the queue spans three years of submissions, the newest first.
FIRST_DAY = datetime(2024, 1, 2, 1, 0, tzinfo=UTC)
LAST_DAY = datetime(2026, 11, 25, 9, 0, tzinfo=UTC)


# ----------------------------------------------------------------------------------------- sizes
@dataclass(frozen=True)
class Scale:
    drafts: int
    events: int
    busy_drafts: int  # drafts with 50+ events
    seconds: float  # per load leg
    connections: int
    decisions: int  # per kind (service call, HTTP round trip)

    @classmethod
    def of(cls, quick: bool, seconds: float | None, connections: int | None) -> Scale:
        if quick:
            return cls(drafts=400, events=4_000, busy_drafts=3, seconds=seconds or 1.5, connections=connections or 4,
                       decisions=5)  # fmt: skip
        return cls(drafts=20_000, events=200_000, busy_drafts=100, seconds=seconds or 20.0,
                   connections=connections or 20, decisions=60)  # fmt: skip


# ------------------------------------------------------------------------------------ the texts
ORGS = (
    "Chi bộ Văn phòng Tỉnh ủy",
    "Đảng bộ Khối các cơ quan tỉnh",
    "Đảng bộ Cơ quan Ủy ban Kiểm tra Tỉnh ủy",
    "Chi bộ Ban Tổ chức Tỉnh ủy",
    "Đoàn Thanh niên các cơ quan Đảng tỉnh",
    "Công đoàn cơ quan Văn phòng Tỉnh ủy",
    "Chi bộ Ban Nội chính Tỉnh ủy",
    "Đảng bộ Báo và Phát thanh, Truyền hình tỉnh",
    "Chi hội Cựu chiến binh các cơ quan Đảng tỉnh",
    "Chi bộ Ban Tuyên giáo và Dân vận Tỉnh ủy",
)
ACTIVITIES = (
    "sinh hoạt chuyên đề về",
    "sơ kết 6 tháng thực hiện",
    "tổng kết một năm thực hiện",
    "học tập, quán triệt",
    "ra quân hưởng ứng",
    "tổ chức hội nghị triển khai",
    "tọa đàm về",
    "phát động thi đua thực hiện",
    "kiểm tra, giám sát việc thực hiện",
    "trao đổi kinh nghiệm về",
)
TOPICS = (
    "Chỉ thị 05-CT/TW về đẩy mạnh học tập và làm theo tư tưởng, đạo đức, phong cách Hồ Chí Minh",
    "Nghị quyết Trung ương 4 khóa XIII về xây dựng, chỉnh đốn Đảng",
    "phong trào “Dân vận khéo”",
    "chuyển đổi số trong các cơ quan Đảng",
    "Quy định số 08-QĐi/TW về trách nhiệm nêu gương",
    "công tác bảo vệ nền tảng tư tưởng của Đảng",
    "phong trào “Ngày Chủ nhật xanh”",
    "cuộc vận động hiến máu tình nguyện",
    "cải cách hành chính trong cơ quan",
    "xây dựng tổ chức cơ sở đảng trong sạch, vững mạnh",
    "công tác phát triển đảng viên",
    "văn hóa công sở",
)
COMMENTS = (
    "Đề nghị kiểm tra lại số đảng viên tham dự.",
    "Ảnh chưa rõ, đã nhắn tác giả gửi ảnh khác.",
    "Sa-pô dài, cần rút gọn còn khoảng ba câu.",
    "Đã đối chiếu với văn bản của Ban Tổ chức, số liệu khớp.",
    "Tên đồng chí Phó Bí thư viết sai dấu, đã sửa.",
    "Bài phù hợp chuyên mục Xây dựng Đảng.",
    "Chờ ý kiến Trưởng ban về hệ số nhuận bút.",
    "Trùng nội dung với tin của Báo tỉnh hôm qua, cân nhắc đăng.",
)
REASONS = (
    "Nội dung đã được đăng trên Báo tỉnh; đề nghị đồng chí gửi tin mới.",
    "Bài chưa đúng thể thức, thiếu thông tin về thời gian, địa điểm.",
    "Sự kiện đã diễn ra quá lâu, không còn tính thời sự.",
)
CHANGE_NOTES = (
    "Đề nghị đồng chí bổ sung ảnh hoạt động và ghi rõ họ tên người trong ảnh.",
    "Đề nghị viết lại sa-pô ngắn gọn, nêu rõ thời gian, địa điểm.",
)
PEOPLE = (
    ("Nguyễn Thị Lan", "lan.nguyen"),
    ("Trần Minh Khoa", "khoa.tran"),
    ("Lê Văn Hùng", "hung.le"),
    ("Phạm Thu Hà", "ha.pham"),
    ("Hoàng Văn Thắng", "thang.hoang"),
    ("Đỗ Thị Mai", "mai.do"),
    ("Vũ Quốc Bảo", "bao.vu"),
    ("Bùi Thị Ngọc Ánh", "anh.bui"),
)
EDITORS = (
    ("bientap", "Nguyễn Văn Biên", "editor"),
    ("bientap2", "Lê Thị Hồng", "editor"),
    ("bientap3", "Phan Đức Long", "editor"),
    ("truongban", "Trần Thị Duyệt", "chief"),
    ("xem", "Phạm Thị Xem", "viewer"),
)


@dataclass(frozen=True)
class Texts:
    """Paragraphs of the sample articles (`toasoan.sample_texts`), placeholders filled, as HTML."""

    paragraphs: tuple[tuple[str, int], ...]  # (html, syllables)
    headings: tuple[tuple[str, int], ...]
    titles: tuple[str, ...]
    leads: tuple[str, ...]
    bylines: tuple[str, ...]

    @classmethod
    def load(cls) -> Texts:
        from core.text import syllable_count
        from toasoan import sample_texts

        values = {"{ngay}": "12/9", "{nam}": "2025", "{quy}": "III", "{nam_quy}": "2025", "{gio_hop}": "14 giờ"}

        def fill(text: str) -> str:
            for k, v in values.items():
                text = text.replace(k, v)
            return text

        articles = [v for v in vars(sample_texts).values() if isinstance(v, sample_texts.Article)]
        paragraphs, headings = [], []
        for a in articles:
            for p in a.body:
                text = fill(p)
                if text.startswith("## "):
                    headings.append((f"<h2>{html.escape(text[3:], quote=False)}</h2>", syllable_count(text[3:])))
                else:
                    paragraphs.append((f"<p>{html.escape(text, quote=False)}</p>", syllable_count(text)))
        return cls(
            paragraphs=tuple(paragraphs),
            headings=tuple(headings),
            titles=tuple(fill(a.title) for a in articles),
            leads=tuple(fill(a.lead) for a in articles if a.lead),
            bylines=tuple(a.byline for a in articles),
        )


# ------------------------------------------------------------------------------ the database
@dataclass
class Built:
    """What the load legs need to know about the database they run on."""

    root: Path
    config: Path
    typical_draft: int  # ~10 events
    busy_draft: int  # the most events
    busy_events: int
    typical_events: int
    counts: dict[str, int]
    drafts: int
    events: int
    revisions: int
    build_seconds: float
    db_mb: float


def _settings_text(url: str, storage: Path, review: dict[str, int] | None = None) -> str:
    """The repository's settings.toml (units, categories, genres, [review] as shipped), on the
    benchmark's database `url`; `review` overrides keys of [review] (e.g. workers=1 to compare)."""
    text = (REPO / "settings.toml").read_text(encoding="utf-8")
    text, n1 = re.subn(r'(?m)^url = "sqlite:///[^"]*"$', f'url = "{url}"', text, count=1)
    text, n2 = re.subn(r'(?m)^path = "var/storage"$', f'path = "{storage.as_posix()}"', text, count=1)
    if n1 != 1 or n2 != 1:
        raise BenchError("settings.toml changed: [database] url or [storage] path not found")
    head, sep, rest = text.partition("\n[review]\n")
    if not sep:
        raise BenchError("settings.toml has no [review] section")
    section, nxt, tail = rest.partition("\n[")
    for key, value in (review or {}).items():
        section, n = re.subn(rf"(?m)^{key} = .*$", f"{key} = {value}", section, count=1)
        if n == 0:
            section = f"{key} = {value}\n{section}"
    return head + sep + section + nxt + tail


def _statuses(rng: random.Random, n: int) -> list[str]:
    """Status by age: the newest ~5% are still being worked, older ones were decided long ago."""
    recent = max(60, n // 20)
    out = []
    for rank in range(n):  # rank 0 = newest
        if rank < recent:
            pool: tuple[tuple[str, int], ...] = (("pending_review", 70), ("changes_requested", 8),
                                                 ("proposed", 4), ("approved", 10), ("rejected", 8))  # fmt: skip
        else:
            pool = (("published", 82), ("rejected", 13), ("withdrawn", 2), ("approved", 3))
        out.append(rng.choices([s for s, _ in pool], [w for _, w in pool])[0])
    return out[::-1]  # oldest first, like the ids


FINAL_EVENTS = {
    "pending_review": (),
    "proposed": ("proposed",),
    "changes_requested": ("changes_requested",),
    "approved": ("approved",),
    "published": ("approved", "published"),
    "rejected": ("rejected",),
    "withdrawn": ("approved", "published", "withdrawn"),
}


def _event_counts(rng: random.Random, statuses: Sequence[str], total: int, busy: int) -> list[int]:
    """Events per draft adding up to `total` exactly: `busy` drafts with 50-90, the rest skewed."""
    n = len(statuses)
    base = [1 + len(FINAL_EVENTS[s]) for s in statuses]
    counts = list(base)
    busy_ids = rng.sample(range(n), busy)
    for i in busy_ids:
        counts[i] = rng.randint(50, 90)
    others = [i for i in range(n) if i not in set(busy_ids)]
    budget = total - sum(counts)
    if budget < 0:
        raise BenchError(f"{total} events cannot hold {n} drafts' own events")
    weights = {i: rng.gammavariate(1.6, 1.0) for i in others}
    scale = budget / sum(weights.values())
    for i in others:
        counts[i] += int(weights[i] * scale)
    for i in rng.choices(others, k=total - sum(counts)):
        counts[i] += 1
    return counts


def _tracking_code(draft_id: int, when: datetime, settings: Any) -> str:
    from ingest.apply import tracking_code

    return tracking_code(draft_id, when, settings)


def build_database(
    root: Path,
    scale: Scale,
    *,
    seed: int = 20261126,
    review: dict[str, int] | None = None,
    url: str | None = None,
) -> Built:
    """A database with the shape the product gives it: real migrations, accounts made by
    `review.auth.add_user`, and rows inserted in bulk through the tables' own SQLAlchemy types
    (dates, JSON, decimals bound exactly as the ORM binds them), with search_text, tracking codes and
    bodies made by the product's own functions. On `url` (an empty database), or a SQLite file in `root`."""
    from sqlalchemy import insert

    from core.db import table_of, transaction
    from core.drafts import search_text_of
    from core.html import sanitize
    from core.models import Draft, DraftEvent, DraftImage, DraftRevision
    from core.settings import load_settings
    from ingest.models import InboundMessage
    from review.auth import add_user
    from toasoan.database import open_database

    started = time.perf_counter()
    rng = random.Random(seed)
    texts = Texts.load()
    root.mkdir(parents=True, exist_ok=True)
    db = root / "toasoan.db"
    for leftover in root.glob("toasoan.db*"):
        leftover.unlink()
    config = root / "settings.toml"
    config.write_text(_settings_text(url or f"sqlite:///{db.as_posix()}", root / "storage", review), encoding="utf-8")
    settings = load_settings(config)
    engine = open_database(settings)
    for username, full_name, role in EDITORS:
        add_user(engine, username, PASSWORD, role=role, full_name=full_name)
    editors = [u for u, _, role in EDITORS if role == "editor"]
    units = list(settings.units)
    categories = [c.slug for c in settings.categories] or ["tin-hoat-dong"]

    n = scale.drafts
    span = (LAST_DAY - FIRST_DAY).total_seconds()
    created = sorted(FIRST_DAY + timedelta(seconds=rng.random() * span) for _ in range(n))
    statuses = _statuses(rng, n)
    counts = _event_counts(rng, statuses, scale.events, scale.busy_drafts)

    drafts: list[dict[str, Any]] = []
    revisions: list[dict[str, Any]] = []
    events: list[dict[str, Any]] = []
    images: list[dict[str, Any]] = []
    inbound: list[dict[str, Any]] = []
    sha_by_draft: dict[int, str] = {}
    for i in range(n):
        draft_id = i + 1
        at = created[i]
        status = statuses[i]
        kind = "bai" if rng.random() < 0.3 else "tin"
        person, local = rng.choice(PEOPLE)
        unit = rng.choice(units) if rng.random() < 0.92 else None
        domain = unit.senders[0].lstrip("@") if unit and unit.senders and unit.senders[0].startswith("@") else None
        sender = f"{local}@{domain}" if domain else f"{local}{rng.randint(1, 99)}@gmail.com"
        org = rng.choice(ORGS)
        if rng.random() < 0.1:
            title = rng.choice(texts.titles)
        else:
            title = f"{org} {rng.choice(ACTIVITIES)} {rng.choice(TOPICS)}"
            if rng.random() < 0.4:
                title += f" năm {at.year}"
        local_day = at + timedelta(hours=7)
        lead = (
            f"Ngày {local_day.day}/{local_day.month}/{local_day.year}, {org} tổ chức hội nghị với sự tham dự "
            f"của {rng.randint(25, 140)} đảng viên. {rng.choice(texts.leads)}"
            if rng.random() < 0.85
            else None
        )
        target = rng.randint(1_800, 2_900) if kind == "tin" else rng.randint(3_800, 6_000)
        body_parts: list[str] = []
        syllables = 0
        size = 0
        start = rng.randrange(len(texts.paragraphs))
        k = 0
        while size < target:
            piece, count = texts.paragraphs[(start + k) % len(texts.paragraphs)]
            if kind == "bai" and k in (2, 6):
                piece, count = rng.choice(texts.headings)
            body_parts.append(piece)
            syllables += count
            size += len(piece.encode())
            k += 1
        photos: list[str] = []
        if rng.random() < 0.45:
            for _ in range(1 if rng.random() < 0.8 else 2):
                sha = uuid.UUID(int=rng.getrandbits(128)).hex * 2
                photos.append(sha)
                caption = f"Ảnh: Quang cảnh buổi {rng.choice(ACTIVITIES).split(' ')[0]} của {org}."
                figure = (
                    f'<figure><img src="/media/{sha}" alt="{html.escape(caption)}">'
                    f"<figcaption>{html.escape(caption, quote=False)}</figcaption></figure>"
                )
                body_parts.insert(min(1 + len(photos), len(body_parts)), figure)
                images.append(
                    {"draft_id": draft_id, "position": len(photos) - 1, "sha256": sha, "content_type": "image/jpeg",
                     "width": 1600, "height": 1200, "caption": caption, "alt": caption, "origin": "embedded",
                     "web_content_type": "image/jpeg", "web_width": 1200, "web_height": 900}
                )  # fmt: skip
        body = sanitize("".join(body_parts))
        byline = f"{rng.choice(('Tin', 'Bài', 'Tin, ảnh', 'Bài, ảnh'))}: {person} – {unit.name if unit else org}"
        warnings: list[str] = []
        if unit is None:
            warnings.append("unknown_sender")
        if rng.random() < 0.08:
            warnings.append(rng.choice(("legacy_font_converted", "title_from_subject", "text_boxes", "too_long")))
        source_sha = uuid.UUID(int=rng.getrandbits(128)).hex * 2
        duplicate_of = None
        if i > 10 and rng.random() < 0.01:  # re-sent after a rejection: same file, flagged
            duplicate_of = rng.randrange(1, draft_id)
            source_sha = sha_by_draft[duplicate_of]
            warnings.append(f"duplicate_of:{duplicate_of}")
        sha_by_draft[draft_id] = source_sha
        inbound_id = len(inbound) + 1
        message_id = f"<{uuid.UUID(int=rng.getrandbits(128))}@mail.gmail.com>"
        inbound.append(_inbound_row(inbound_id, draft_id, at, title, sender, person, message_id, rng))

        # The draft's story: received, then comments, edits and change requests, then its decision.
        contributor = f"contributor:{sender}"
        revision = 1
        revs = [_revision_row(draft_id, 1, contributor, at, kind, title, lead, body, byline, unit, None, "x.docx",
                              source_sha, photos, None)]  # fmt: skip
        story: list[dict[str, Any]] = [
            _event(draft_id, at, contributor, "received", None, "pending_review", 1, None, {"inbound_id": inbound_id})
        ]
        final = FINAL_EVENTS[status]
        extra = counts[i] - 1 - len(final)
        clock = at
        state = "pending_review"
        decided_by = None
        while extra > 0:
            clock += timedelta(minutes=rng.randint(3, 600))
            roll = rng.random()
            if roll < 0.05 and extra >= 2 and state == "pending_review":
                editor = rng.choice(editors)
                story.append(_event(draft_id, clock, editor, "changes_requested", state, "changes_requested", revision,
                                    rng.choice(CHANGE_NOTES), {}))  # fmt: skip
                clock += timedelta(hours=rng.randint(2, 72))
                revision += 1
                revs.append(_revision_row(draft_id, revision, contributor, clock, kind, title, lead, body, byline,
                                          unit, None, "x.docx", source_sha, photos, "Bản sửa của tác giả"))  # fmt: skip
                story.append(_event(draft_id, clock, contributor, "revision_received", "changes_requested",
                                    "pending_review", revision, None, {"inbound_id": inbound_id,
                                                                        "revision": revision}))  # fmt: skip
                extra -= 2
            elif roll < 0.2:
                editor = rng.choice(editors)
                revision += 1
                fields = rng.choice((["title"], ["lead"], ["body_html"], ["title", "body_html"], ["byline"]))
                revs.append(_revision_row(draft_id, revision, editor, clock, kind, title, lead, body, byline, unit,
                                          None, "x.docx", source_sha, photos, None))  # fmt: skip
                story.append(_event(draft_id, clock, editor, "edited", None, None, revision, None, {"fields": fields}))
                extra -= 1
            else:
                story.append(_event(draft_id, clock, rng.choice(editors), "comment", None, None, revision,
                                    rng.choice(COMMENTS), {}))  # fmt: skip
                extra -= 1
        category = None
        coefficient = None
        decided_at = None
        for action in final:
            clock += timedelta(hours=rng.randint(1, 48))
            if action in ("approved", "proposed"):
                category = rng.choice(categories)
                genre = settings.genres[kind]
                coefficient = genre.coefficient
                decided_by = "truongban" if action == "approved" else rng.choice(editors)
                decided_at = clock
                story.append(_event(draft_id, clock, decided_by, action, state, action, revision, None,
                                    {"coefficient": f"{coefficient:.2f}", "category": category}))  # fmt: skip
                state = action
            elif action == "rejected":
                decided_by, decided_at = "truongban", clock
                story.append(_event(draft_id, clock, decided_by, action, state, action, revision,
                                    rng.choice(REASONS), {}))  # fmt: skip
                state = action
            elif action == "changes_requested":
                story.append(_event(draft_id, clock, rng.choice(editors), action, state, action, revision,
                                    rng.choice(CHANGE_NOTES), {}))  # fmt: skip
                state = action
            else:  # published, withdrawn
                story.append(_event(draft_id, clock, "system", action, state, action, revision, None, {}))
                state = action
        if state != status:
            raise BenchError(f"draft {draft_id}: story ends in {state}, not {status}")
        events += story
        revisions += revs
        code = _tracking_code(draft_id, at, settings)
        row = {
            "id": draft_id, "tracking_code": code, "status": status, "kind": kind,
            "title": title, "lead": lead, "body_html": body, "byline": byline, "text_syllables": syllables,
            "unit_code": unit.code if unit else None, "sender": sender, "sender_name": person,
            "message_id": message_id, "inbound_id": inbound_id, "source_file": f"{title[:40]}.docx",
            "source_sha256": source_sha, "source_format": "docx", "warnings": warnings,
            "duplicate_of": duplicate_of, "revision": revision, "category": category, "coefficient": coefficient,
            "decided_by": decided_by, "decided_at": decided_at, "created_at": at, "updated_at": clock,
        }  # fmt: skip
        row["search_text"] = search_text_of(  # the product's own folding, over the fields it folds
            title, lead, byline, sender, person, code
        )
        drafts.append(row)

    with transaction(engine) as s:
        conn = s.connection()
        for table, rows in (
            (table_of(InboundMessage), inbound),
            (table_of(Draft), drafts),
            (table_of(DraftImage), images),
            (table_of(DraftRevision), revisions),
            (table_of(DraftEvent), events),
        ):
            for chunk in range(0, len(rows), 2_000):
                conn.execute(insert(table), rows[chunk : chunk + 2_000])
    with engine.begin() as conn:  # no ANALYZE: the product never runs it (PostgreSQL's autovacuum may)
        if engine.dialect.name == "sqlite":
            conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")  # one file to copy
        else:  # rows inserted with their ids: move the sequences past them, as the product's inserts would
            for name in ("draft", "inbound_message"):
                conn.exec_driver_sql(
                    f"SELECT setval(pg_get_serial_sequence('{name}', 'id'), (SELECT max(id) FROM {name}))"
                )
    db_mb = database_size_mb(engine)
    engine.dispose()

    by_events = sorted(range(n), key=lambda j: counts[j])
    typical = min(range(n), key=lambda j: (abs(counts[j] - 10), -j))
    busiest = by_events[-1]
    return Built(
        root=root,
        config=config,
        typical_draft=typical + 1,
        busy_draft=busiest + 1,
        busy_events=counts[busiest],
        typical_events=counts[typical],
        counts={s: statuses.count(s) for s in sorted(set(statuses))},
        drafts=n,
        events=len(events),
        revisions=len(revisions),
        build_seconds=time.perf_counter() - started,
        db_mb=db_mb,
    )


def _event(
    draft_id: int, at: datetime, actor: str, action: str, before: str | None, after: str | None, revision: int,
    note: str | None, data: dict[str, Any],
) -> dict[str, Any]:  # fmt: skip
    return {"draft_id": draft_id, "at": at, "actor": actor, "action": action, "from_status": before,
            "to_status": after, "revision": revision, "note": note, "data": data}  # fmt: skip


def _revision_row(
    draft_id: int, number: int, author: str, at: datetime, kind: str, title: str, lead: str | None, body: str,
    byline: str, unit: Any, category: str | None, source_file: str, source_sha: str, photos: list[str],
    note: str | None,
) -> dict[str, Any]:  # fmt: skip
    return {
        "draft_id": draft_id, "number": number, "author": author, "created_at": at, "kind": kind, "title": title,
        "lead": lead, "body_html": body, "byline": byline, "unit_code": unit.code if unit else None,
        "category": category, "source_file": source_file, "source_sha256": source_sha,
        "images": [{"sha256": sha, "caption": None, "position": p} for p, sha in enumerate(photos)], "note": note,
    }  # fmt: skip


def _inbound_row(
    inbound_id: int, draft_id: int, at: datetime, title: str, sender: str, name: str, message_id: str,
    rng: random.Random,
) -> dict[str, Any]:  # fmt: skip
    sha = uuid.UUID(int=rng.getrandbits(128)).hex * 2
    return {
        "id": inbound_id, "sha256": sha, "raw_sha256": sha, "size": rng.randint(40_000, 2_000_000),
        "mailbox": "INBOX", "uidvalidity": 1, "uid": inbound_id, "ref": str(inbound_id), "message_id": message_id,
        "subject": f"BÀI CỘNG TÁC: {title}", "sender": sender, "sender_name": name, "status": "accepted",
        "reason": None, "detail": None, "problems": [], "draft_ids": [draft_id], "attempts": 1, "acked": True,
        "received_at": at, "processed_at": at + timedelta(seconds=2),
    }  # fmt: skip


def prepared_database(
    scale: Scale, keep: Path | None, work: Path, review: dict[str, int] | None = None, url: str | None = None
) -> Built:
    """A fresh copy of the benchmark database in `work`: built there (or on `url`), or copied from `keep`
    (built once; SQLite only)."""
    if keep is None or url is not None:
        return build_database(work, scale, review=review, url=url)
    manifest = keep / "manifest.json"
    wanted = {"drafts": scale.drafts, "events": scale.events, "busy_drafts": scale.busy_drafts, "version": 2}
    if not manifest.exists() or json.loads(manifest.read_text())["scale"] != wanted:
        built = build_database(keep, scale)
        data = {k: (str(v) if isinstance(v, Path) else v) for k, v in asdict(built).items()}
        manifest.write_text(json.dumps({"scale": wanted, "built": data}, indent=2), encoding="utf-8")
    data = json.loads(manifest.read_text())["built"]
    work.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(keep / "toasoan.db", work / "toasoan.db")
    settings = _settings_text(f"sqlite:///{(work / 'toasoan.db').as_posix()}", work / "storage", review)
    (work / "settings.toml").write_text(settings, encoding="utf-8")
    data.update(root=work, config=work / "settings.toml")
    return Built(**data)


# ------------------------------------------------------------------------- the server process
def bench_app() -> Any:
    """The product's app ($TOASOAN_CONFIG) plus the baseline: bare FastAPI handlers that return the
    rows the pages show as JSON — the same queries, no session check, no ORM objects, no template."""
    from fastapi.responses import JSONResponse

    class Rows(JSONResponse):
        """JSONResponse that also writes the dates and decimals PostgreSQL's driver returns as objects
        (SQLite returns them as text): the same json.dumps call, with `default=str`."""

        def render(self, content: Any) -> bytes:
            return json.dumps(content, ensure_ascii=False, allow_nan=False, separators=(",", ":"), default=str).encode()

    from sqlalchemy import text

    from core.text import fold_words
    from review.service import fts_query, pg_search_query
    from toasoan.web import app_from_environment

    app = app_from_environment()
    engine = app.state.web.engine
    size = app.state.web.settings.review.page_size
    columns = "id, tracking_code, title, kind, status, unit_code, sender, sender_name, created_at, warnings, revision"

    @app.get("/_bench/queue")
    def bare_queue(status: str = "", q: str = "", page: int = 1) -> JSONResponse:
        where, params = [], {}
        # The same indexes as the product's: FTS5 (migration 0011), the words column (0013).
        fts, tsq = fts_query(fold_words(q)), pg_search_query(fold_words(q))
        if engine.dialect.name == "sqlite" and fts:
            where.append("+id IN (SELECT rowid FROM draft_fts WHERE draft_fts MATCH :fts)")
            params["fts"] = fts
        elif engine.dialect.name == "postgresql" and tsq:
            where.append("search_words @@ to_tsquery('simple'::regconfig, :tsq)")
            params["tsq"] = tsq
        clause = f"WHERE {' AND '.join(where)}" if where else ""
        with engine.connect() as conn:
            counts = dict(
                conn.execute(text(f"SELECT status, count(*) FROM draft {clause} GROUP BY status"), params).all()
            )
            if status:
                where.append("status = :status")
                params["status"] = status
            clause = f"WHERE {' AND '.join(where)}" if where else ""
            rows = conn.execute(
                text(f"SELECT {columns} FROM draft {clause} ORDER BY created_at DESC, id DESC LIMIT :n OFFSET :o"),
                {**params, "n": size, "o": (max(1, page) - 1) * size},
            ).all()
        return Rows({"counts": counts, "rows": [dict(r._mapping) for r in rows]})

    @app.get("/_bench/drafts/{draft_id}")
    def bare_draft(draft_id: int) -> JSONResponse:
        with engine.connect() as conn:
            d = conn.execute(text("SELECT * FROM draft WHERE id = :i"), {"i": draft_id}).one()._asdict()
            one = {"i": draft_id}
            images = "SELECT * FROM draft_image WHERE draft_id = :i ORDER BY position"
            inbound = "SELECT * FROM inbound_message WHERE id = :i"
            out = {
                "draft": d,
                "images": _dicts(conn.execute(text(images), one)),
                "inbound": _dicts(conn.execute(text(inbound), {"i": d["inbound_id"]})),
                "events": _dicts(conn.execute(text("SELECT * FROM draft_event WHERE draft_id = :i ORDER BY id"), one)),
                "revisions": _dicts(
                    conn.execute(text("SELECT * FROM draft_revision WHERE draft_id = :i ORDER BY number"), one)
                ),
                "duplicates": _dicts(
                    conn.execute(
                        text("SELECT id, tracking_code, title, status FROM draft WHERE id != :i AND "
                             "(duplicate_of = :i OR id = :d OR source_sha256 = :s) ORDER BY id"),
                        {"i": draft_id, "d": d["duplicate_of"] or 0, "s": d["source_sha256"] or ""},
                    )
                ),
                "users": _dicts(conn.execute(text("SELECT username, full_name FROM app_user"))),
            }  # fmt: skip
        return Rows(out)

    return app


def _dicts(result: Any) -> list[dict[str, Any]]:
    return [dict(r._mapping) for r in result]


def serve_main(config: Path, port: int) -> None:
    """Entry of the server subprocess: the product's `serve` with the factory above."""
    from core.settings import load_settings
    from toasoan.cli import serve

    serve(load_settings(config), host="127.0.0.1", port=port, factory="bench.review_pages:bench_app")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class Server:
    proc: subprocess.Popen[bytes]
    port: int
    log: Path

    def pids(self) -> list[int]:
        """The server's process tree (uvicorn may run worker processes)."""
        out, todo = [], [self.proc.pid]
        while todo:
            pid = todo.pop()
            out.append(pid)
            for task in Path(f"/proc/{pid}/task").glob("*/children"):
                todo += [int(c) for c in task.read_text().split()]
        return out

    def cpu_seconds(self) -> float:
        total = 0.0
        tick = os.sysconf("SC_CLK_TCK")
        for pid in self.pids():
            try:
                fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
            except FileNotFoundError:
                continue
            total += (int(fields[11]) + int(fields[12])) / tick
        return total


@contextmanager
def running_server(config: Path, root: Path) -> Iterator[Server]:
    port = _free_port()
    log = root / "server.log"
    with log.open("wb") as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", "bench.review_pages", "--serve", str(config), "--port", str(port)],
            cwd=REPO,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    server = Server(proc, port, log)
    try:
        deadline = time.monotonic() + 120  # a first start migrates the database
        while True:
            if proc.poll() is not None:
                raise BenchError(f"the server exited: {log.read_text(errors='replace')[-2000:]}")
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                    break
            except OSError:
                if time.monotonic() > deadline:
                    raise BenchError("the server did not start in 120 s") from None
                time.sleep(0.2)
        yield server
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGTERM)
            try:
                proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait()


# ------------------------------------------------------------------------------- HTTP clients
def fetch(port: int, path: str, cookie: str | None, *, method: str = "GET", body: bytes | None = None,
          headers: dict[str, str] | None = None) -> tuple[int, dict[str, str], bytes]:  # fmt: skip
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    try:
        h = {**(headers or {}), **({"Cookie": cookie} if cookie else {})}
        conn.request(method, path, body=body, headers=h)
        r = conn.getresponse()
        return r.status, {k.lower(): v for k, v in r.getheaders()}, r.read()
    finally:
        conn.close()


@dataclass
class LegResult:
    client: str
    requests: int
    seconds: float
    errors: int  # responses other than 200, and socket errors
    p50: float  # milliseconds
    p90: float
    p95: float
    p99: float
    server_cpu_ms_per_request: float = 0.0

    @property
    def rps(self) -> float:
        return self.requests / self.seconds if self.seconds else 0.0


def python_load(port: int, path: str, cookie: str, connections: int, seconds: float) -> LegResult:
    """A closed loop like wrk's: each connection sends its next request when the last one is answered
    (keep-alive). For --quick and machines without wrk; its own CPU use is higher than wrk's."""
    latencies: list[list[float]] = [[] for _ in range(connections)]
    errors = [0] * connections
    start = time.perf_counter()
    deadline = start + seconds

    def loop(k: int) -> None:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        done = 0
        # At least one request per connection: on a loaded machine a thread may start after the deadline.
        while done == 0 or time.perf_counter() < deadline:
            done += 1
            t0 = time.perf_counter()
            try:
                conn.request("GET", path, headers={"Cookie": cookie})
                r = conn.getresponse()
                r.read()
                ok = r.status == 200
            except (OSError, http.client.HTTPException):
                conn.close()
                conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
                ok = False
            latencies[k].append((time.perf_counter() - t0) * 1000)
            errors[k] += not ok
        conn.close()

    threads = [threading.Thread(target=loop, args=(k,)) for k in range(connections)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    elapsed = time.perf_counter() - start
    flat = [v for per in latencies for v in per]
    if not flat:
        raise BenchError(f"no request to {path} completed")
    return LegResult("python", len(flat), elapsed, sum(errors), *(percentile(flat, q) for q in (50, 90, 95, 99)))


WRK_SCRIPT = """
local threads = {}
wrk.headers["Cookie"] = os.getenv("BENCH_COOKIE")
function setup(thread) table.insert(threads, thread) end
function init(args) bad = 0 end
function response(status, headers, body) if status ~= 200 then bad = bad + 1 end end
function done(summary, latency, requests)
  local bad_total = 0
  for _, t in ipairs(threads) do bad_total = bad_total + t:get("bad") end
  io.write(string.format(
    "WRK-RESULT {\\"requests\\": %d, \\"duration_us\\": %d, \\"socket_errors\\": %d, \\"not_200\\": %d, " ..
    "\\"p50\\": %d, \\"p90\\": %d, \\"p95\\": %d, \\"p99\\": %d}\\n",
    summary.requests, summary.duration,
    summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout,
    bad_total, latency:percentile(50), latency:percentile(90), latency:percentile(95), latency:percentile(99)))
end
"""


def wrk_load(port: int, path: str, cookie: str, connections: int, seconds: float, script: Path) -> LegResult:
    """wrk, 2 threads (one per core), closed loop; percentiles from its own histogram (Lua `done`)."""
    cmd = ["wrk", "-t2", f"-c{connections}", f"-d{max(1, round(seconds))}s", "--timeout", "30s", "-s", str(script),
           f"http://127.0.0.1:{port}{path}"]  # fmt: skip
    out = subprocess.run(cmd, capture_output=True, text=True, env={**os.environ, "BENCH_COOKIE": cookie}, check=False)
    line = next((x for x in out.stdout.splitlines() if x.startswith("WRK-RESULT ")), None)
    if out.returncode != 0 or line is None:
        raise BenchError(f"wrk failed ({out.returncode}): {out.stdout[-1000:]} {out.stderr[-1000:]}")
    r = json.loads(line.removeprefix("WRK-RESULT "))
    return LegResult(
        "wrk", r["requests"], r["duration_us"] / 1e6, r["socket_errors"] + r["not_200"],
        *(r[k] / 1000 for k in ("p50", "p90", "p95", "p99")),
    )  # fmt: skip


# --------------------------------------------------------------------------------------- legs
@dataclass(frozen=True)
class Page:
    key: str
    label: str
    path: str  # the product's page
    bare: str  # the baseline's route with the same rows
    marker: str  # text the page must show (a real page, not the sign-in form)


def pages(built: Built) -> list[Page]:
    deep = min(50, max(1, built.drafts // 50))  # page 50 of "all" (fewer pages in --quick)
    return [
        Page("queue_default", "hàng chờ (mặc định)", "/", "/_bench/queue?status=pending_review",
             "Hàng chờ biên tập"),
        Page("queue_tab", "tab “Đã đăng”", "/?status=published", "/_bench/queue?status=published",
             "Hàng chờ biên tập"),
        Page("queue_search", "tìm “dang bo”", "/?" + urlencode({"status": "all", "q": "dang bo"}),
             "/_bench/queue?" + urlencode({"q": "dang bo"}), "Đảng bộ"),
        Page("queue_page50", f"tất cả, trang {deep}", f"/?status=all&page={deep}", f"/_bench/queue?page={deep}",
             f"trang {deep}/"),
        Page("draft_typical", f"bài ({built.typical_events} sự kiện)", f"/drafts/{built.typical_draft}",
             f"/_bench/drafts/{built.typical_draft}", "Lịch sử xử lý"),
        Page("draft_busy", f"bài ({built.busy_events} sự kiện)", f"/drafts/{built.busy_draft}",
             f"/_bench/drafts/{built.busy_draft}", "Lịch sử xử lý"),
    ]  # fmt: skip


def _check_page(server: Server, page: Page, cookie: str) -> int:
    status, _, body = fetch(server.port, page.path, cookie)
    text = body.decode("utf-8", "replace")
    if status != 200 or page.marker not in text:
        raise BenchError(f"{page.path}: HTTP {status}, {page.marker!r} not in the page: {text[:300]!r}")
    status, _, bare = fetch(server.port, page.bare, None)
    if status != 200:
        raise BenchError(f"{page.bare}: HTTP {status}: {bare[:300]!r}")
    return len(body)


def _leg(server: Server, path: str, cookie: str, scale: Scale, client: str, script: Path) -> LegResult:
    cpu = server.cpu_seconds()
    if client == "wrk":
        result = wrk_load(server.port, path, cookie, scale.connections, scale.seconds, script)
    else:
        result = python_load(server.port, path, cookie, scale.connections, scale.seconds)
    if result.requests:
        result.server_cpu_ms_per_request = (server.cpu_seconds() - cpu) * 1000 / result.requests
    return result


# ----------------------------------------------------------------------------------- decisions
@dataclass
class Decisions:
    service_ms: list[float] = field(default_factory=list)
    http_ms: list[float] = field(default_factory=list)
    idle_service_ms: list[float] = field(default_factory=list)


def _pending(engine: Any, count: int) -> list[tuple[int, int]]:
    from sqlmodel import col, select

    from core.db import reading
    from core.models import Draft

    with reading(engine) as s:
        rows = s.exec(
            select(Draft.id, Draft.revision)
            .where(Draft.status == "pending_review")
            .order_by(col(Draft.id))
            .limit(count)
        ).all()
    if len(rows) < count:
        raise BenchError(f"only {len(rows)} drafts wait for review; {count} decisions wanted")
    return [(int(i), int(r)) for i, r in rows if i is not None]


def _approve_by_service(engine: Any, settings: Any, chief: Any, draft_id: int, revision: int) -> float:
    from review import service

    t0 = time.perf_counter()
    d = service.approve(engine, settings, draft_id, chief, revision=revision, status="pending_review",
                        category="tin-hoat-dong")  # fmt: skip
    ms = (time.perf_counter() - t0) * 1000
    if d.status != "approved":
        raise BenchError(f"draft {draft_id} is {d.status} after approve")
    return ms


def _approve_by_http(port: int, cookie: str, csrf: str, draft_id: int, revision: int) -> float:
    form = urlencode({"csrf_token": csrf, "revision": revision, "status": "pending_review",
                      "category": "tin-hoat-dong", "note": ""}).encode()  # fmt: skip
    headers = {"Content-Type": "application/x-www-form-urlencoded"}
    t0 = time.perf_counter()
    status, h, body = fetch(port, f"/drafts/{draft_id}/approve", cookie, method="POST", body=form, headers=headers)
    ms = (time.perf_counter() - t0) * 1000
    if status != 303 or "tb=approved" not in h.get("location", ""):
        raise BenchError(f"POST approve {draft_id}: HTTP {status} {h.get('location')} {body[:300]!r}")
    return ms


def decisions_under_load(
    server: Server, built: Built, scale: Scale, client: str, script: Path, cookie: str, chief_cookie: str, csrf: str
) -> tuple[Decisions, LegResult]:
    """Approvals while the queue is under load: service calls and POSTs, taking turns, spread over the leg."""
    from core.settings import load_settings
    from review.auth import get_user
    from toasoan.database import open_database

    settings = load_settings(built.config)
    engine = open_database(settings, migrate=False)
    chief = get_user(engine, "truongban")
    todo = _pending(engine, 2 * scale.decisions + 10)
    result = Decisions()
    for draft_id, revision in todo[-10:-5]:  # idle: nothing else running
        result.idle_service_ms.append(_approve_by_service(engine, settings, chief, draft_id, revision))
    work = todo[: 2 * scale.decisions]
    failure: list[BaseException] = []

    def decide() -> None:
        gap = scale.seconds * 0.8 / max(1, len(work))
        time.sleep(scale.seconds * 0.1)  # let the load settle
        try:
            for k, (draft_id, revision) in enumerate(work):
                if k % 2 == 0:
                    result.service_ms.append(_approve_by_service(engine, settings, chief, draft_id, revision))
                else:
                    result.http_ms.append(_approve_by_http(server.port, chief_cookie, csrf, draft_id, revision))
                time.sleep(gap)
        except BaseException as exc:  # reported after the load leg
            failure.append(exc)

    t = threading.Thread(target=decide)
    t.start()
    load = _leg(server, "/", cookie, scale, client, script)
    t.join()
    engine.dispose()
    if failure:
        raise BenchError(f"a decision failed under load: {failure[0]!r}")
    return result, load


# ----------------------------------------------------------------------------------------- run
def _sign_in(built: Built, username: str) -> tuple[str, str]:
    from core.settings import load_settings
    from review.auth import sign_in
    from review.web.security import session_cookie
    from toasoan.database import open_database

    settings = load_settings(built.config)
    engine = open_database(settings, migrate=False)
    who = sign_in(engine, settings, username, PASSWORD, address="127.0.0.1")
    engine.dispose()
    return f"{session_cookie(bool(settings.review.secure_cookies))}={who.token}", who.csrf_token


def _profile(server: Server, seconds: float, out: Path) -> subprocess.Popen[bytes]:
    spy = Path(sys.executable).parent / "py-spy"
    return subprocess.Popen(
        [str(spy), "record", "--pid", str(server.proc.pid), "--subprocesses", "--duration", str(max(1, int(seconds))),
         "--rate", "200", "--gil", "--format", "raw", "--output", str(out), "--nonblocking"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip


def run(
    quick: bool = False,
    results_dir: Path = RESULTS_DIR,
    *,
    keep: Path | None = None,
    seconds: float | None = None,
    connections: int | None = None,
    client: str | None = None,
    only: Sequence[str] | None = None,
    profile: Path | None = None,
    review: dict[str, int] | None = None,
    database: str = "sqlite",
) -> dict[str, Any]:
    scale = Scale.of(quick, seconds, connections)
    if client is None:
        client = "python" if quick or shutil.which("wrk") is None else "wrk"
        if not quick and client == "python":
            print("  note: no wrk (apt-get install wrk): the Python client's own CPU use skews the figures")
    if client == "wrk" and shutil.which("wrk") is None:
        raise BenchError("wrk is not installed (apt-get install wrk), or use --client python")
    if keep is not None and database != "sqlite":
        print("  note: --keep applies to SQLite only; the PostgreSQL database is built afresh")
    load_at_start = load_before()
    work = Path(tempfile.mkdtemp(prefix="bench-review-"))
    try:
        with database_url(database, work / "toasoan.db") as url:
            return _measure(scale, client, keep, work, review, None if database == "sqlite" else url, database,
                            only, profile, load_at_start, quick, results_dir)  # fmt: skip
    finally:
        shutil.rmtree(work, ignore_errors=True)


def _measure(
    scale: Scale, client: str, keep: Path | None, work: Path, review: dict[str, int] | None, url: str | None,
    database: str, only: Sequence[str] | None, profile: Path | None, load_at_start: float, quick: bool,
    results_dir: Path,
) -> dict[str, Any]:  # fmt: skip
    print(f"Building the database on {database}: {scale.drafts:,} drafts, {scale.events:,} events …", flush=True)
    built = prepared_database(scale, keep, work, review, url)
    print(f"  {built.db_mb:,.0f} MB, {built.revisions:,} revisions, built in {built.build_seconds:.1f} s; "
          f"by status {built.counts}", flush=True)  # fmt: skip
    script = work / "bench.lua"
    script.write_text(WRK_SCRIPT, encoding="utf-8")
    cookie, _ = _sign_in(built, "bientap")
    chief_cookie, csrf = _sign_in(built, "truongban")
    legs: dict[str, dict[str, Any]] = {}
    with running_server(built.config, work) as server:
        chosen = [p for p in pages(built) if not only or p.key in only]
        sizes = {p.key: _check_page(server, p, cookie) for p in chosen}
        warm = min(3.0, scale.seconds)
        for p in chosen:  # page cache, SQLAlchemy's statement cache, Jinja's compiled templates
            python_load(server.port, p.path, cookie, 2, warm / len(chosen))
            python_load(server.port, p.bare, cookie, 2, warm / len(chosen))
        for p in chosen:
            spy = _profile(server, scale.seconds, profile / f"{p.key}.txt") if profile else None
            product = _leg(server, p.path, cookie, scale, client, script)
            if spy:
                spy.wait()
            bare = _leg(server, p.bare, cookie, scale, client, script)
            legs[p.key] = {
                "label": p.label, "path": p.path, "bare_path": p.bare, "html_kb": sizes[p.key] / 1024,
                "product": {**asdict(product), "rps": product.rps},
                "baseline": {**asdict(bare), "rps": bare.rps},
                "ratio_p50": product.p50 / bare.p50 if bare.p50 else None,
                "ratio_p95": product.p95 / bare.p95 if bare.p95 else None,
            }  # fmt: skip
            print(f"  {p.key}: p95 {product.p95:.1f} ms (bare {bare.p95:.1f} ms), {product.rps:.0f} req/s, "
                  f"server {product.server_cpu_ms_per_request:.2f} ms CPU/request", flush=True)  # fmt: skip
            if product.errors or bare.errors:
                raise BenchError(f"{p.key}: {product.errors} failed page requests, {bare.errors} bare")
        decisions = None
        if not only or "decisions" in only:
            decisions, load = decisions_under_load(server, built, scale, client, script, cookie, chief_cookie,
                                                   csrf)  # fmt: skip
            _check_page(server, pages(built)[0], cookie)  # the session still works after the leg
    result = _report(scale, built, client, legs, decisions, load if decisions else None, load_at_start, quick,
                     database)  # fmt: skip
    write_result(results_dir, result_name(NAME, database), result)
    return result


def _server_config(config: Path) -> dict[str, Any]:
    """What served the pages: processes, threads, and uvicorn's HTTP parser and event loop (uvicorn
    takes httptools and uvloop when they are installed, else h11 and asyncio)."""
    from importlib.util import find_spec

    from core.settings import load_settings

    review = load_settings(config).review
    return {  # code older than these settings: one process, anyio's default of 40 threads
        "workers": getattr(review, "workers", 1),
        "threads": getattr(review, "threads", 40),
        "http": "httptools" if find_spec("httptools") else "h11",
        "loop": "uvloop" if find_spec("uvloop") else "asyncio",
    }


def _stats(values: Sequence[float]) -> dict[str, float]:
    return {"n": len(values), "p50": median(values), "p95": percentile(values, 95), "max": max(values)}


def _report(
    scale: Scale, built: Built, client: str, legs: dict[str, dict[str, Any]], decisions: Decisions | None,
    load: LegResult | None, load_at_start: float, quick: bool, database: str = "sqlite",
) -> dict[str, Any]:  # fmt: skip
    rows = []
    for leg in legs.values():
        p, b = leg["product"], leg["baseline"]
        rows.append([leg["label"], f"{p['p50']:.1f}", f"{p['p95']:.1f}", f"{p['p99']:.1f}", f"{p['rps']:.0f}",
                     f"{p['server_cpu_ms_per_request']:.2f}", f"{b['p50']:.1f}", f"{b['p95']:.1f}", f"{b['rps']:.0f}",
                     f"{leg['ratio_p95']:.2f}x", verdict(p["p95"] <= TARGET_PAGE_P95_MS)])  # fmt: skip
    server = _server_config(built.config)
    print_table(
        f"Trang giao diện biên tập / review pages — {database}, {scale.connections} kết nối, "
        f"{scale.seconds:.0f} s mỗi lượt, {client}; máy chủ {server['workers']} tiến trình × {server['threads']} "
        f"luồng, {server['http']}; ms",
        ["trang / page", "p50", "p95", "p99", "req/s", "CPU ms/req", "bare p50", "bare p95", "bare req/s",
         "p95 ratio", f"p95 ≤ {TARGET_PAGE_P95_MS:.0f} ms"],
        rows,
    )  # fmt: skip
    out: dict[str, Any] = {
        "quick": quick,
        "client": client,
        "scale": asdict(scale),
        "database": {k: v for k, v in asdict(built).items() if k not in ("root", "config")},
        "load_average_before": load_at_start,
        "server": _server_config(built.config),
        "pages": legs,
        "targets": {"page_p95_ms": TARGET_PAGE_P95_MS, "decision_ms": TARGET_DECISION_MS},
        "backend": database,
    }  # fmt: skip
    rows_: list[Headline] = [
        headline(NAME, f"review: {leg['label']}, p95", leg["product"]["p95"], "ms", f"≤ {TARGET_PAGE_P95_MS:g} ms",
                 leg["product"]["p95"] <= TARGET_PAGE_P95_MS, baseline="bare handler",
                 baseline_value=leg["baseline"]["p95"], backend=database)
        for leg in legs.values()
    ]  # fmt: skip
    met = {key: leg["product"]["p95"] <= TARGET_PAGE_P95_MS for key, leg in legs.items()}
    if decisions is not None and load is not None:
        service, http_rt, idle = (
            _stats(v) for v in (decisions.service_ms, decisions.http_ms, decisions.idle_service_ms)
        )
        print_table(
            f"Quyết định / decisions (duyệt bài) — trong lúc hàng chờ chịu tải {scale.connections} kết nối; ms",
            ["đo / measured", "n", "p50", "p95", "max", f"≤ {TARGET_DECISION_MS:.0f} ms"],
            [
                ["review.service.approve", service["n"], service["p50"], service["p95"], service["max"],
                 verdict(service["p95"] <= TARGET_DECISION_MS)],
                ["POST /drafts/{id}/approve", http_rt["n"], http_rt["p50"], http_rt["p95"], http_rt["max"],
                 verdict(http_rt["p95"] <= TARGET_DECISION_MS)],
                ["service, không tải / idle", idle["n"], idle["p50"], idle["p95"], idle["max"], ""],
                ["(tải: hàng chờ / load: queue)", load.requests, load.p50, load.p95, load.p99, ""],
            ],
        )  # fmt: skip
        out["decisions"] = {"service": service, "http": http_rt, "idle_service": idle, "samples": asdict(decisions),
                            "load": {**asdict(load), "rps": load.rps}}  # fmt: skip
        met["decision_service"] = service["p95"] <= TARGET_DECISION_MS
        met["decision_http"] = http_rt["p95"] <= TARGET_DECISION_MS
        for what, figures, ok in (("review.service.approve", service, met["decision_service"]),
                                  ("POST approve", http_rt, met["decision_http"])):  # fmt: skip
            rows_.append(headline(NAME, f"review: decision under load, {what}, p95", figures["p95"], "ms",
                                  f"≤ {TARGET_DECISION_MS:g} ms", ok, baseline="service call, idle",
                                  baseline_value=idle["p95"], backend=database))  # fmt: skip
    out["met"] = met
    out["headline"] = rows_
    return out


def main(argv: list[str] | None = None) -> int:
    if str(REPO) not in sys.path:
        sys.path.insert(0, str(REPO))
    p = parser(__doc__.splitlines()[0])
    p.add_argument("--keep", type=Path, help="build the database once in this folder and copy it for each run")
    p.add_argument("--seconds", type=float, help="length of each load leg (default 20; --quick 1.5)")
    p.add_argument("--connections", type=int, help="concurrent clients (default 20; --quick 4)")
    p.add_argument("--client", choices=("wrk", "python"), help="load generator (default wrk; --quick python)")
    p.add_argument(
        "--only",
        help="comma-separated legs: "
        + ", ".join(
            ["queue_default", "queue_tab", "queue_search", "queue_page50", "draft_typical", "draft_busy", "decisions"]
        ),
    )
    p.add_argument("--profile", type=Path, help="py-spy raw stacks of the server per product leg, into this folder")
    p.add_argument("--workers", type=int, help="[review] workers of the server (default: as in settings.toml)")
    p.add_argument("--threads", type=int, help="[review] threads of the server (default: as in settings.toml)")
    p.add_argument("--database", choices=BACKENDS, default="sqlite", help="PostgreSQL: a throwaway server")
    p.add_argument("--serve", type=Path, help=argparse_hidden())
    p.add_argument("--port", type=int, help=argparse_hidden())
    args = p.parse_args(argv)
    if args.serve:
        serve_main(args.serve, args.port)
        return 0
    if args.profile:
        args.profile.mkdir(parents=True, exist_ok=True)
    only = [x.strip() for x in args.only.split(",")] if args.only else None
    review = {k: v for k, v in (("workers", args.workers), ("threads", args.threads)) if v is not None}
    run(args.quick, args.results, keep=args.keep, seconds=args.seconds, connections=args.connections,
        client=args.client, only=only, profile=args.profile, review=review, database=args.database)  # fmt: skip
    return 0


def argparse_hidden() -> str:
    import argparse

    return argparse.SUPPRESS


if __name__ == "__main__":
    sys.exit(main())
