"""What the editorial board does to a draft: decide, edit, comment; and what it sees: the queue.

Every operation checks the user's role, runs in one write transaction that locks the draft, is
guarded by the revision the user was looking at, goes through core.drafts (the state machine and
audit log), and queues the contributor's email in the same transaction.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from decimal import Decimal
from functools import partial
from typing import Any, TypeVar, cast

from sqlalchemy import bindparam, func, literal_column, or_, text
from sqlalchemy import select as core_select  # Core queries on table columns, run on the connection
from sqlalchemy.engine import Connection, Engine, Row
from sqlalchemy.sql.elements import ColumnElement
from sqlmodel import Session, col, select

from core.db import one_query, reading, table_of, transaction, utcnow
from core.drafts import (
    EDITABLE,
    DraftError,
    add_event,
    check_revision,
    load_for_update,
    new_revision,
    transition,
)
from core.html import sanitize
from core.models import Draft, DraftEvent, DraftImage, DraftRevision, DraftStatus, KnownSender
from core.settings import Genre, Settings
from core.text import clean_line, fold_words, nfc
from publish.jobs import enqueue_publish, enqueue_update, enqueue_withdraw
from review import notices
from review.models import Role, User

S = DraftStatus


class Forbidden(DraftError):
    pass


class Invalid(DraftError):
    pass


# ------------------------------------------------------------------------------------ permissions
def allowed(user: User, action: str, settings: Settings) -> bool:
    role = user.role
    if role == Role.admin:
        return action != "propose" or settings.review.two_step
    if action == "view":
        return role in (Role.viewer, Role.editor, Role.chief)
    if action in ("edit", "comment", "request_changes", "reject", "withdraw", "publish", "shares"):
        # "publish": the publication's own steps (retry a failed job, paste a manual target's address);
        # "shares": how an item's royalty is split between its authors (weights, no amounts)
        return role in (Role.editor, Role.chief)
    if action == "approve":
        return role == Role.chief or (role == Role.editor and not settings.review.two_step)
    if action == "propose":
        return settings.review.two_step and role == Role.editor
    if action == "set_coefficient":
        return role == Role.chief
    if action == "operations":  # the status page: how the worker, the mailbox, the outbox are doing
        return role == Role.chief
    return False


def require(user: User, action: str, settings: Settings) -> None:
    if not allowed(user, action, settings):
        raise Forbidden(f"Tài khoản {user.username} không có quyền này", f"not allowed: {action}")


# --------------------------------------------------------------------------------------- helpers
# A coefficient as the board writes it: digits, and at most two decimals after a comma (the Vietnamese
# way) or a point. Decimal() alone would also take NaN, Infinity, sNaN and exponents such as 1E+999999,
# which then break the range check or the rounding with a 500: they never get that far.
_COEFFICIENT = re.compile(r"\d{1,6}(?:[.,]\d{1,2})?")
CENTS = Decimal("0.01")


def parse_coefficient(value: str | Decimal | None) -> Decimal | None:
    """The one parser of a royalty coefficient typed in the web form or given to the CLI: None when none
    was given, else a plain decimal number ("2", "2,5", "2.50"); anything else is refused with `Invalid`."""
    if value is None:
        return None
    if isinstance(value, Decimal):
        value = str(value) if value.is_finite() else "?"
    text = nfc(value).strip()
    if not text:
        raise Invalid("Cần nhập hệ số nhuận bút", "a coefficient is required")
    if not _COEFFICIENT.fullmatch(text):
        raise Invalid(
            f"Hệ số nhuận bút phải là một số như 2 hoặc 2,5 (tối đa hai chữ số thập phân), không phải {text[:40]!r}",
            "the coefficient must be a plain number such as 2 or 2.5",
        )
    return Decimal(text.replace(",", "."))


def _check_range(genre: Genre, value: Decimal) -> Decimal:
    """The kind's range from [royalty.genres.<kind>]; the value rounded to cents."""
    value = value.quantize(CENTS)
    if not (genre.min <= value <= genre.max):
        raise Invalid(
            f"Hệ số của {genre.label.lower()} phải từ {genre.min} đến {genre.max}",
            f"coefficient must be within {genre.min}..{genre.max}",
        )
    return value


def _check_coefficient(settings: Settings, draft: Draft, user: User, value: Decimal | None) -> Decimal:
    genre = settings.genres[draft.kind]
    if value is None:
        chosen = draft.coefficient if draft.coefficient is not None else genre.coefficient
        return Decimal(chosen).quantize(CENTS)
    value = value.quantize(CENTS)
    if value != genre.coefficient and value != draft.coefficient:
        require(user, "set_coefficient", settings)
    return _check_range(genre, value)


def _check_category(settings: Settings, slug: str | None) -> str | None:
    if not slug:
        return None
    if settings.categories and settings.category_by_slug(slug) is None:
        raise Invalid(f"Không có chuyên mục {slug!r}", "unknown category")
    return slug


def _decided(draft: Draft, user: User) -> None:
    draft.decided_by = user.username
    draft.decided_at = utcnow()


def _tell_contributor(s: Session, settings: Settings, draft: Draft, event: DraftEvent, kind: str) -> None:
    notices.queue_decision(s, settings, draft, event, kind)


# ------------------------------------------------------------------------------------- decisions
def approve(
    engine: Engine,
    settings: Settings,
    draft_id: int,
    user: User,
    *,
    revision: int | None,
    status: str | None = None,
    coefficient: Decimal | None = None,
    category: str | None = None,
    note: str | None = None,
    publish_at: datetime | None = None,
) -> Draft:
    """Approve; the same transaction queues the publish jobs (due at `publish_at`, aware, if given)."""
    require(user, "approve", settings)
    with transaction(engine) as s:
        draft = load_for_update(s, draft_id)
        check_revision(draft, revision, status)
        draft.coefficient = _check_coefficient(settings, draft, user, coefficient)
        draft.category = _check_category(settings, category) or draft.category
        _decided(draft, user)
        event = transition(
            s,
            draft,
            S.approved,
            actor=user.username,
            action="approved",
            note=clean_line(note) or None,
            data={
                "coefficient": str(draft.coefficient),
                "category": draft.category,
                **({"publish_at": publish_at.isoformat()} if publish_at else {}),
            },
        )
        _tell_contributor(s, settings, draft, event, "approved")
        enqueue_publish(s, settings, draft, user.username, publish_at)
    return draft


def propose(
    engine: Engine,
    settings: Settings,
    draft_id: int,
    user: User,
    *,
    revision: int | None,
    status: str | None = None,
    coefficient: Decimal | None = None,
    category: str | None = None,
    note: str | None = None,
) -> Draft:
    """Two-step approval: an editor proposes the item (and a coefficient); the head decides."""
    require(user, "propose", settings)
    with transaction(engine) as s:
        draft = load_for_update(s, draft_id)
        check_revision(draft, revision, status)
        genre = settings.genres[draft.kind]
        value = _check_range(genre, coefficient if coefficient is not None else genre.coefficient)
        draft.coefficient = value
        draft.category = _check_category(settings, category) or draft.category
        transition(
            s,
            draft,
            S.proposed,
            actor=user.username,
            action="proposed",
            note=clean_line(note) or None,
            data={"coefficient": str(value), "category": draft.category},
        )
    return draft


def reject(
    engine: Engine,
    settings: Settings,
    draft_id: int,
    user: User,
    *,
    revision: int | None,
    reason: str,
    status: str | None = None,
) -> Draft:
    require(user, "reject", settings)
    reason = nfc(reason).strip()
    if not reason:
        raise Invalid("Cần ghi lý do không sử dụng bài", "a reason is required")
    with transaction(engine) as s:
        draft = load_for_update(s, draft_id)
        _decided(draft, user)
        event = transition(
            s,
            draft,
            S.rejected,
            actor=user.username,
            action="rejected",
            note=reason,
            expected_revision=revision,
            expected_status=status,
        )
        _tell_contributor(s, settings, draft, event, "rejected")
    return draft


def request_changes(
    engine: Engine,
    settings: Settings,
    draft_id: int,
    user: User,
    *,
    revision: int | None,
    note: str,
    status: str | None = None,
) -> Draft:
    require(user, "request_changes", settings)
    note = nfc(note).strip()
    if not note:
        raise Invalid("Cần ghi nội dung đề nghị chỉnh sửa", "a note is required")
    with transaction(engine) as s:
        draft = load_for_update(s, draft_id)
        event = transition(
            s,
            draft,
            S.changes_requested,
            actor=user.username,
            action="changes_requested",
            note=note,
            expected_revision=revision,
            expected_status=status,
        )
        _tell_contributor(s, settings, draft, event, "changes_requested")
    return draft


def comment(engine: Engine, settings: Settings, draft_id: int, user: User, text: str) -> DraftEvent:
    """An internal comment: never sent to the contributor."""
    require(user, "comment", settings)
    text = nfc(text).strip()
    if not text:
        raise Invalid("Nội dung trao đổi trống", "empty comment")
    with transaction(engine) as s:
        draft = load_for_update(s, draft_id)
        return add_event(s, draft, actor=user.username, action="comment", note=text)


def keep_both(engine: Engine, settings: Settings, draft_id: int, other_id: int, user: User) -> Draft:
    """'Keep both': the editors compared a draft flagged as a duplicate with the other one and found two
    different articles. The flag (`duplicate_of:<id>`, either way round) goes; the finding is recorded."""
    require(user, "comment", settings)
    if draft_id == other_id:
        raise Invalid("Hai bài cần so sánh phải khác nhau", "two different drafts are needed")
    with transaction(engine) as s:
        # Both rows, in id order, so two editors keeping the pair from either side cannot deadlock.
        locked = {i: load_for_update(s, i) for i in sorted({draft_id, other_id})}
        draft, other = locked[draft_id], locked[other_id]
        for a, b in ((draft, other), (other, draft)):
            flag = f"duplicate_of:{b.id}"
            if a.duplicate_of == b.id or flag in a.warnings:
                a.duplicate_of = None
                a.warnings = [w for w in a.warnings if w != flag]
                a.updated_at = utcnow()
                s.add(a)
        note = f"Đã so sánh với bài {other.tracking_code}: không phải bài trùng, giữ cả hai bài."
        add_event(s, draft, actor=user.username, action="duplicate_kept", note=note, data={"other": other_id})
    return draft


# ------------------------------------------------------------------------------------------ edits
@dataclass
class DraftEdit:
    title: str | None = None
    lead: str | None = None
    body_html: str | None = None
    byline: str | None = None
    kind: str | None = None
    unit_code: str | None = None
    category: str | None = None
    captions: dict[int, str] = field(default_factory=dict)  # DraftImage.id -> caption
    drop_images: set[int] = field(default_factory=set)  # DraftImage.id not to publish
    remember_sender: bool = False  # map this sender's address to the chosen unit from now on
    note: str | None = None


def edit(
    engine: Engine, settings: Settings, draft_id: int, user: User, *, revision: int | None, changes: DraftEdit
) -> Draft:
    """Save the editor's corrections as a new revision (the body kept to the sanitized subset)."""
    require(user, "edit", settings)
    with transaction(engine) as s:
        draft = load_for_update(s, draft_id)
        check_revision(draft, revision)
        if draft.status not in EDITABLE:
            raise Invalid("Bài đã được quyết định, không sửa được nữa", "the draft can no longer be edited")
        correcting = draft.status == S.published
        changed: list[str] = []

        def put(name: str, value: str | None) -> None:
            if value is not None and value != getattr(draft, name):
                setattr(draft, name, value)
                changed.append(name)

        if changes.title is not None:
            title = clean_line(changes.title)
            if not title:
                raise Invalid("Tiêu đề không được để trống", "the title is required")
            put("title", title)
        if changes.lead is not None:
            put("lead", clean_line(changes.lead) or None)
        if changes.byline is not None:
            put("byline", clean_line(changes.byline) or None)
        if changes.body_html is not None:
            put("body_html", sanitize(changes.body_html))
        if changes.kind is not None:
            if changes.kind not in settings.genres:
                raise Invalid("Thể loại phải là tin hoặc bài", "kind must be tin or bai")
            put("kind", changes.kind)
        if changes.category is not None:
            put("category", _check_category(settings, changes.category))
        if changes.unit_code is not None:
            unit = settings.unit_by_code(changes.unit_code) if changes.unit_code else None
            if changes.unit_code and unit is None:
                raise Invalid(f"Không có đơn vị {changes.unit_code!r}", "unknown unit")
            put("unit_code", unit.code if unit else None)
            if unit and changes.remember_sender and draft.sender:
                _remember_sender(s, draft.sender, unit.code, user)
        images = {i.id: i for i in s.exec(select(DraftImage).where(DraftImage.draft_id == draft.id)).all()}
        for image_id, caption in changes.captions.items():
            img = images.get(image_id)
            if img is not None and (clean_line(caption) or None) != img.caption:
                img.caption = clean_line(caption) or None
                s.add(img)
                changed.append(f"caption:{image_id}")
        for image_id in changes.drop_images:
            img = images.get(image_id)
            if img is not None:
                s.delete(img)
                changed.append(f"image_removed:{image_id}")
        if not changed:
            return draft
        if "unit_code" in changed and "unknown_sender" in draft.warnings:
            draft.warnings = [w for w in draft.warnings if w != "unknown_sender"]
        s.flush()
        new_revision(s, draft, author=user.username, note=clean_line(changes.note) or None)
        action = "corrected" if correcting else "edited"
        add_event(s, draft, actor=user.username, action=action, note=changes.note, data={"fields": changed})
        if correcting:
            enqueue_update(s, settings, draft, user.username)
    return draft


def withdraw(
    engine: Engine,
    settings: Settings,
    draft_id: int,
    user: User,
    *,
    reason: str,
    revision: int | None = None,
    status: str | None = None,
) -> Draft:
    """Take a published article off every portal it is on (withdraw jobs, same transaction); an approved
    one still waiting for its embargo never goes live (its publish jobs are cancelled)."""
    require(user, "withdraw", settings)
    reason = nfc(reason).strip()
    if not reason:
        raise Invalid("Cần ghi lý do gỡ bài", "a reason is required")
    with transaction(engine) as s:
        draft = load_for_update(s, draft_id)
        transition(
            s,
            draft,
            S.withdrawn,
            actor=user.username,
            action="withdrawn",
            note=reason,
            expected_revision=revision,
            expected_status=status,
        )
        enqueue_withdraw(s, settings, draft, user.username, reason)
    return draft


def _remember_sender(s: Session, address: str, unit_code: str, user: User) -> None:
    known = s.get(KnownSender, address.lower())
    if known is None:
        known = KnownSender(address=address.lower(), unit_code=unit_code, added_by=user.username)
    known.unit_code = unit_code
    known.added_by = user.username
    s.add(known)


# ------------------------------------------------------------------------------------ reading
# Readers named `*_in` take a session the caller already holds, so that a page makes its reads in one
# transaction (one snapshot, one connection).
def history(engine: Engine, draft_id: int) -> list[DraftEvent]:
    """The audit events of a draft as objects, oldest first (the CLI's `drafts history`)."""
    with reading(engine) as s:
        q = select(DraftEvent).where(DraftEvent.draft_id == draft_id).order_by(col(DraftEvent.id))
        return list(s.exec(q).all())


# What a page reads, as statements built once and plain rows: building an ORM query and its objects
# was a quarter of a draft page's time (bench/README.md, review pages).
_E = table_of(DraftEvent).c
_HISTORY = core_select(table_of(DraftEvent)).where(_E.draft_id == bindparam("draft_id")).order_by(_E.id)


def history_rows_in(s: Session, draft_id: int) -> Sequence[Row[Any]]:
    """The history as rows, oldest first: the same attributes as DraftEvent (at, actor, action, ...)."""
    return s.connection().execute(_HISTORY, {"draft_id": draft_id}).all()


def revisions(engine: Engine, draft_id: int) -> list[DraftRevision]:
    with reading(engine) as s:
        return list(
            s.exec(
                select(DraftRevision).where(DraftRevision.draft_id == draft_id).order_by(col(DraftRevision.number))
            ).all()
        )


@dataclass(frozen=True)
class RevisionInfo:
    """A revision without its text: what the list of revisions shows."""

    number: int
    created_at: datetime
    author: str
    note: str | None
    source_file: str | None
    source_sha256: str | None


_R = table_of(DraftRevision).c
_REVISION_LIST = (
    core_select(_R.number, _R.created_at, _R.author, _R.note, _R.source_file, _R.source_sha256)
    .where(_R.draft_id == bindparam("draft_id"))
    .order_by(_R.number)
)


def revision_list_in(s: Session, draft_id: int) -> list[RevisionInfo]:
    """The revisions of a draft, oldest first, without reading every revision's body (~5 KB each)."""
    return [RevisionInfo(*row) for row in s.connection().execute(_REVISION_LIST, {"draft_id": draft_id})]


@dataclass(frozen=True)
class QueueFilter:
    status: str | None = None
    unit: str | None = None  # a unit code, or "-" for drafts without a unit
    kind: str | None = None
    month: str | None = None  # "YYYY-MM", in the office's time zone
    q: str | None = None  # diacritic-insensitive search ("dang bo" finds "Đảng bộ")
    page: int = 1


@dataclass(frozen=True)
class QueueRow:
    id: int
    tracking_code: str
    title: str
    kind: str
    status: str
    unit_code: str | None
    sender: str
    sender_name: str
    created_at: datetime
    warnings: tuple[str, ...]  # the column's JSON list, as a tuple: a row is hashable
    revision: int

    def __post_init__(self) -> None:
        object.__setattr__(self, "warnings", tuple(self.warnings))


@dataclass(frozen=True)
class QueuePage:
    rows: list[QueueRow]
    counts: dict[str, int]  # per status, with the other filters applied
    total: int  # rows matching all filters
    page: int
    pages: int


def month_range(month: str, settings: Settings) -> tuple[datetime, datetime]:
    try:
        year, mon = (int(x) for x in month.split("-", 1))
        start = datetime(year, mon, 1, tzinfo=settings.tz)
    except ValueError as exc:
        raise Invalid(f"Tháng không hợp lệ: {month!r} (YYYY-MM)") from exc
    end = (start + timedelta(days=32)).replace(day=1)
    return start, end


_D = table_of(Draft).c
T = TypeVar("T")
# QueueRow's fields, in order: the queue reads these columns only (never the ~5 KB body).
_QUEUE_COLUMNS = tuple(_D[name] for name in QueueRow.__dataclass_fields__)


def queue(engine: Engine, settings: Settings, f: QueueFilter) -> QueuePage:
    folded = fold_words(f.q) if f.q else ""
    # What the status counts depend on: the filters, not the tab or the page.
    counts_key = (f.unit, f.kind, f.month, folded)
    # A plain connection rather than an ORM session: these are rows to show, not objects to change.
    read = partial(_read_queue, settings=settings, f=f, folded=folded, counts_key=counts_key)
    page = _kept_on_connection(engine, "queue_pages", (*counts_key, f.status, f.page), read)
    return replace(page, rows=list(page.rows), counts=dict(page.counts))  # the caller's own lists


def _read_queue(
    conn: Connection, version: Any, *, settings: Settings, f: QueueFilter, folded: str, counts_key: Any
) -> QueuePage:
    conditions: list[ColumnElement[bool]] = []
    if f.unit == "-":
        conditions.append(_D.unit_code.is_(None))
    elif f.unit:
        conditions.append(_D.unit_code == f.unit)
    if f.kind:
        conditions.append(_D.kind == f.kind)
    if f.month:
        start, end = month_range(f.month, settings)
        conditions += [_D.created_at >= start, _D.created_at < end]
    size = settings.review.page_size
    if folded:
        conditions += search_conditions(conn, folded)
    counts = _status_counts(conn, conditions, counts_key, version)
    where = [*conditions, _D.status == f.status] if f.status else conditions
    total = counts.get(f.status, 0) if f.status else sum(counts.values())
    pages = max(1, -(-total // size))
    page = min(max(1, f.page), pages)
    result = conn.execute(
        select(*_QUEUE_COLUMNS)
        .where(*where)
        .order_by(_D.created_at.desc(), _D.id.desc())
        .offset((page - 1) * size)
        .limit(size)
    ).all()
    rows = [QueueRow(*r) for r in result]
    return QueuePage(rows=rows, counts=counts, total=total, page=page, pages=pages)


# Letters and digits: "_" and every other sign separate words for FTS5's tokenizer and in the words
# PostgreSQL's column keeps (migration 0013) alike.
_WORD = re.compile(r"[^\W_]+")


def _query_words(folded: str) -> list[str]:
    return _WORD.findall(folded)[:8]


def fts_query(folded: str) -> str:
    """The FTS5 query of a folded search: every word (at most 8), each as the start of a word of the
    draft, all of them required. Words are runs of letters and digits, quoted: nothing of the user's
    text is FTS5 syntax."""
    return " ".join(f'"{w}"*' for w in _query_words(folded))


def pg_search_query(folded: str) -> str:
    """The tsquery of a folded search on PostgreSQL, as `fts_query` on SQLite: every word (at most 8)
    as the start of a word of the draft, all required, quoted."""
    return " & ".join(f"'{w}':*" for w in _query_words(folded))


def search_conditions(conn: Connection, folded: str) -> list[ColumnElement[bool]]:
    """Drafts whose search text holds every word. SQLite: the draft_fts index (migration 0011), its
    matches remembered by the connection (`_matches_table`); PostgreSQL: full-text search of the words
    column of migration 0013 (generated from search_text, GIN-indexed)."""
    if conn.dialect.name == "sqlite":
        match = fts_query(folded)
        if not match:
            return []
        # "+draft.id": membership is checked while a small index is scanned (the status counts, the
        # page in date order) instead of each match being looked up by id, which reads its row.
        table = _matches_table(conn, match)  # a name of ours: search_matches_<n>
        return [cast(ColumnElement[bool], text(f"+draft.id IN (SELECT id FROM temp.{table})"))]  # noqa: S608
    query = pg_search_query(folded)
    if not query:
        return []
    tsquery = func.to_tsquery(literal_column("'simple'::regconfig"), query)
    return [literal_column("draft.search_words").op("@@")(tsquery)]


_KEPT = 64  # filters whose counts, searches whose matches, a connection remembers


def _data_version(conn: Connection) -> tuple[Any, int]:
    """Moves when the database changes: `PRAGMA data_version` when another connection commits (any
    process), the connection's own `total_changes` when it writes itself — less the rows it wrote
    into its own temp tables, which change nothing anyone reads."""
    dbapi: Any = conn.connection.dbapi_connection
    own = dbapi.total_changes - conn.info.get("temp_changes", 0)
    return conn.exec_driver_sql("PRAGMA data_version").scalar(), own


def _matches_table(conn: Connection, match: str) -> str:
    """A temp table of the drafts an FTS5 query matches, made once per connection and query until the
    database changes. A search that matches most drafts ("dang bo": 18,584 of 20,000) otherwise
    re-reads the index for every page and materializes every match, where a page needs ~60 of them."""
    tables: dict[str, tuple[Any, str]] = conn.info.setdefault("search_matches", {})
    version = _data_version(conn)
    hit = tables.get(match)
    if hit is not None and hit[0] == version:
        return hit[1]
    dbapi: Any = conn.connection.dbapi_connection
    before = dbapi.total_changes
    if hit is None and len(tables) >= _KEPT:
        for _, old in tables.values():
            conn.exec_driver_sql(f"DROP TABLE IF EXISTS temp.{old}")
        tables.clear()
    name = hit[1] if hit is not None else f"search_matches_{len(tables)}"
    conn.exec_driver_sql(f"DROP TABLE IF EXISTS temp.{name}")
    conn.exec_driver_sql(f"CREATE TEMP TABLE {name} (id INTEGER PRIMARY KEY)")
    fill = f"INSERT INTO temp.{name} SELECT rowid FROM draft_fts WHERE draft_fts MATCH :fts"  # noqa: S608
    conn.execute(text(fill), {"fts": match})
    conn.info["temp_changes"] = conn.info.get("temp_changes", 0) + dbapi.total_changes - before
    tables[match] = (version, name)
    return name


def _version(conn: Connection) -> Any:
    """What moves when anything a page shows may have changed. SQLite: `_data_version`. PostgreSQL:
    the snapshot (the transactions it sees as committed, `pg_current_snapshot()`), the same text
    exactly as long as no transaction has committed or begun writing; what is read after it is
    never older than it, so what is remembered under it is never stale."""
    if conn.dialect.name == "sqlite":
        return _data_version(conn)
    return conn.exec_driver_sql("SELECT pg_current_snapshot()::text").scalar()


def remembered(engine: Engine, name: str, key: Any, read: Callable[[Session], T]) -> T:
    """What `read` returns (from a read-only session), kept by a pooled connection under `name` and
    `key` until the database changes (`_kept_on_connection`). For pages read far more often than
    anything changes (a draft's page); the caller must not change what it gets back, which later
    requests share."""

    def in_session(conn: Connection, _version: Any) -> T:
        with Session(bind=conn, expire_on_commit=False) as s:
            return read(s)

    return _kept_on_connection(engine, name, key, in_session)


def _kept_on_connection(engine: Engine, name: str, key: Any, read: Callable[[Connection, Any], T]) -> T:
    """`read(conn, version)`, kept by the connection under `name` and `key` until the database changes
    (`_kept`). On PostgreSQL each statement is its own transaction (`one_query`): a value already kept
    costs one round trip, not BEGIN, the snapshot and COMMIT."""
    with one_query(engine) as conn:
        version = _version(conn)
        value = _kept(conn, name, key, version, partial(read, conn, version))
        # Ends SQLite's read transaction keeping the connection's temp tables (a rollback would drop
        # the search's remembered matches with them).
        conn.commit()
    return value


def _kept(conn: Connection, name: str, key: Any, version: Any, read: Callable[[], T]) -> T:
    """`read()`, kept by the connection under `name` and `key` while `version` (read before it: what is
    read after it is never older) stays the same; at most `_KEPT` keys a name."""
    kept: dict[Any, tuple[Any, T]] = conn.info.setdefault(name, {})
    hit = kept.get(key)
    if hit is None or hit[0] != version:
        if len(kept) >= _KEPT:
            kept.clear()
        kept[key] = hit = (version, read())
    return hit[1]


def _status_counts(conn: Connection, conditions: list[ColumnElement[bool]], key: Any, version: Any) -> dict[str, int]:
    """Drafts per status under the filters (`key` names them). A connection remembers the counts of
    the last filters it counted (the tabs of every queue page, the pages of one search) until the
    database changes (`version`, read before): counting 20,000 drafts, or a search's thousands of
    matches, is most of a page's database time. `queue` also remembers whole pages the same way;
    the counts outlive them because every tab and page of one filter shares them."""

    def count() -> dict[str, int]:
        query = select(_D.status, func.count()).where(*conditions).group_by(_D.status)
        return {k: int(v) for k, v in conn.execute(query).all()}

    return dict(_kept(conn, "draft_status_counts", key, version, count))


@dataclass(frozen=True)
class DraftRef:
    """Another draft, as a list of them shows it."""

    id: int
    tracking_code: str
    title: str
    status: str


# "= NULL" is never true: a draft without duplicate_of or source file simply matches nothing there.
_DUPLICATES = (
    select(_D.id, _D.tracking_code, _D.title, _D.status)
    .where(
        _D.id != bindparam("id"),
        or_(_D.duplicate_of == bindparam("id"), _D.id == bindparam("of"), _D.source_sha256 == bindparam("sha")),
    )
    .order_by(_D.id)
)


def duplicates_in(s: Session, draft: Draft) -> list[DraftRef]:
    """The other drafts of the same document: the one it duplicates, or those duplicating it."""
    params = {"id": draft.id, "of": draft.duplicate_of, "sha": draft.source_sha256}
    return [DraftRef(*row) for row in s.connection().execute(_DUPLICATES, params)]
