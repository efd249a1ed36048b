"""Tables every stage shares: drafts and their images, and the mail outbox.

Ownership: ingest creates drafts; review moves them through the state machine (review/); publish
marks them published. OutboxMail is written only through core.outbox.
Table models skip validation (SQLModel), so values are checked where they are built.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, Index, Numeric, Text, UniqueConstraint, text
from sqlmodel import Field, SQLModel

from core.db import UTCDateTime, utcnow


class DraftStatus(StrEnum):
    pending_review = "pending_review"
    proposed = "proposed"  # two-step approval: an editor proposed, the head decides
    changes_requested = "changes_requested"
    approved = "approved"
    rejected = "rejected"
    published = "published"
    withdrawn = "withdrawn"


class Kind(StrEnum):
    tin = "tin"  # news item
    bai = "bai"  # article


class Draft(SQLModel, table=True):
    __tablename__ = "draft"
    __table_args__ = (
        Index("ix_draft_status_created", "status", "created_at"),
        # The reports read a quarter's counted items (a few statuses) by publication or approval date
        # ([calendar] count_by): one index range per status, not a scan of every approved draft. The
        # id too, for the closed periods' fingerprints (count and sum of ids) from the index alone:
        # SQLite's indexes hold the rowid; PostgreSQL's need INCLUDE (migration 0014).
        Index("ix_draft_status_published", "status", "published_at", postgresql_include=["id"]),
        Index("ix_draft_status_decided", "status", "decided_at", postgresql_include=["id"]),
        # The queue's search on SQLite: search_text sits behind body_html, in the row's overflow pages,
        # so a scan of the table reads ~5 KB a draft; this covering index holds ~0.5 KB. Empty on
        # PostgreSQL: there a long body is TOASTed out of the row (a scan is narrow already) and a
        # btree entry may not exceed 2,704 bytes, which a long sa-pô would break.
        Index(
            "ix_draft_search",
            "status",
            "created_at",
            "search_text",
            postgresql_where=text("false"),
        ),
    )

    id: int | None = Field(default=None, primary_key=True)
    tracking_code: str = Field(index=True, unique=True)
    status: str = Field(default=DraftStatus.pending_review, index=True)
    kind: str = Field(default=Kind.tin)
    title: str = ""
    lead: str | None = Field(default=None, sa_type=Text)
    body_html: str = Field(default="", sa_type=Text)
    byline: str | None = None
    text_syllables: int = 0
    unit_code: str | None = Field(default=None, index=True)
    sender: str = Field(default="", index=True)
    sender_name: str = ""
    message_id: str | None = None
    inbound_id: int | None = Field(default=None, index=True)
    source_file: str | None = None  # the contributor's filename, display only
    source_sha256: str | None = Field(default=None, index=True)  # the Word file as received
    source_format: str | None = None  # docx, doc, odt, rtf, email
    warnings: list[str] = Field(default_factory=list, sa_type=JSON)
    duplicate_of: int | None = Field(default=None, index=True)  # the draft page lists both ways
    revision: int = 1  # bumped by every edit and every revised file: decisions are guarded by it
    category: str | None = None
    coefficient: Decimal | None = Field(default=None, sa_type=Numeric(6, 2))
    decided_by: str | None = None
    decided_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    published_at: datetime | None = Field(default=None, sa_type=UTCDateTime)  # first live on a portal (publish)
    # Folded (no accents, lower case) title, lead, byline, sender and code: what the queue searches.
    search_text: str = Field(default="", sa_type=Text)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime, index=True)
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class DraftRevision(SQLModel, table=True):
    """The text of a draft as it was at one revision: every save and every revised file is one."""

    __tablename__ = "draft_revision"
    __table_args__ = (UniqueConstraint("draft_id", "number", name="uq_draft_revision"),)

    id: int | None = Field(default=None, primary_key=True)
    draft_id: int = Field(foreign_key="draft.id", index=True)
    number: int
    author: str  # a user name, or "contributor:<address>"
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    kind: str
    title: str
    lead: str | None = Field(default=None, sa_type=Text)
    body_html: str = Field(default="", sa_type=Text)
    byline: str | None = None
    unit_code: str | None = None
    category: str | None = None
    source_file: str | None = None
    source_sha256: str | None = None
    images: list[dict[str, Any]] = Field(default_factory=list, sa_type=JSON)  # sha256, caption, position
    note: str | None = Field(default=None, sa_type=Text)


class DraftEvent(SQLModel, table=True):
    """The audit log: append-only, one row per transition, edit, comment or message about a draft."""

    __tablename__ = "draft_event"

    id: int | None = Field(default=None, primary_key=True)
    draft_id: int = Field(foreign_key="draft.id", index=True)
    at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    actor: str  # a user name, "system", or "contributor:<address>"
    action: str
    from_status: str | None = None
    to_status: str | None = None
    revision: int | None = None
    note: str | None = Field(default=None, sa_type=Text)
    data: dict[str, Any] = Field(default_factory=dict, sa_type=JSON)


class DraftImage(SQLModel, table=True):
    __tablename__ = "draft_image"

    id: int | None = Field(default=None, primary_key=True)
    draft_id: int = Field(foreign_key="draft.id", index=True)
    position: int = 0
    sha256: str  # original bytes in storage/media
    content_type: str
    width: int | None = None
    height: int | None = None
    caption: str | None = None
    alt: str | None = None
    origin: str = "embedded"  # embedded in the Word file, or attached beside it
    web_content_type: str | None = None
    web_width: int | None = None
    web_height: int | None = None


class KnownSender(SQLModel, table=True):
    """An address the editors mapped to a unit ("remember for next time"); the settings' [[units]]
    senders come first."""

    __tablename__ = "known_sender"

    address: str = Field(primary_key=True)  # lower case
    unit_code: str
    added_by: str = ""
    added_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class OutboxStatus(StrEnum):
    pending = "pending"
    in_progress = "in_progress"
    succeeded = "succeeded"
    retrying = "retrying"
    failed = "failed"
    suppressed = "suppressed"  # over a per-recipient limit: kept for the record, never sent


class OutboxMail(SQLModel, table=True):
    """One email to send. `key` makes enqueueing idempotent: one email per event, even across crashes."""

    __tablename__ = "outbox_mail"
    __table_args__ = (
        UniqueConstraint("key", name="uq_outbox_mail_key"),
        # The per-recipient daily cap (core.outbox._over_limit) counts by lower(to_addr) and time:
        # without it every automatic mail scans the whole outbox, which only grows.
        Index("ix_outbox_mail_recipient_created", text("lower(to_addr)"), "created_at"),
    )

    id: int | None = Field(default=None, primary_key=True)
    key: str
    kind: str = ""  # receipt, quarantine_notice, ... (for listing)
    draft_id: int | None = Field(default=None, index=True)  # the draft it is about: replies are matched
    to_addr: str
    subject: str
    message_id: str  # deterministic from `key`, so a resend after a crash is recognisably the same mail
    body_text: str = Field(sa_type=Text)
    headers: dict[str, str] = Field(default_factory=dict, sa_type=JSON)  # In-Reply-To, References, ...
    # An HTML alternative, inline images (cid:) and attachments, when the mail has them (core.outbox.Part):
    # {"html": str, "inline": [part], "attachments": [part]}, each part {"filename", "mime", "cid", "data"
    # (base64)}. Kept in the row so a retry sends exactly the same mail. None: plain text only.
    parts: dict[str, Any] | None = Field(default=None, sa_type=JSON)
    status: str = Field(default=OutboxStatus.pending, index=True)
    attempts: int = 0
    next_attempt_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    last_error: str | None = None
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    sent_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


class JobStatus(StrEnum):
    pending = "pending"
    in_progress = "in_progress"
    succeeded = "succeeded"
    retrying = "retrying"
    failed = "failed"
    awaiting_manual = "awaiting_manual"  # a person must finish it (the manual publish target)


class Job(SQLModel, table=True):
    """One durable unit of background work (core.jobs): claimed by one runner, retried with backoff.

    `key` makes enqueueing idempotent; `kind` names the work ("publish:static", ...) and who runs it;
    `payload` is the work's own data (JSON). Written only through core.jobs."""

    __tablename__ = "job"
    __table_args__ = (
        UniqueConstraint("key", name="uq_job_key"),
        Index("ix_job_status_due", "status", "next_attempt_at"),
    )

    id: int | None = Field(default=None, primary_key=True)
    kind: str = Field(index=True)
    key: str
    payload: dict[str, Any] = Field(default_factory=dict, sa_type=JSON)
    status: str = Field(default=JobStatus.pending)
    attempts: int = 0
    next_attempt_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    claimed_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    claimed_by: str | None = None
    last_error: str | None = Field(default=None, sa_type=Text)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    finished_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


class RunnerState(SQLModel, table=True):
    """What each loop of the worker last did, and which worker runs it (core.runners): the status page
    and its warnings read it.

    `failing_since` is set by the first failure after a success and cleared by the next success."""

    __tablename__ = "runner_state"

    name: str = Field(primary_key=True)  # mailbox, outbox, publish, period_jobs
    last_ok_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    last_error_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    last_error: str | None = Field(default=None, sa_type=Text)
    failing_since: datetime | None = Field(default=None, sa_type=UTCDateTime)
    # The worker that runs this loop now, until when (core.runners.acquire): a second worker on the
    # same database waits, and takes over once the lease runs out (its holder died) or is released.
    lease_owner: str | None = None
    lease_until: datetime | None = Field(default=None, sa_type=UTCDateTime)
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class HealthAlert(SQLModel, table=True):
    """A warning that needs a person, while it lasts: the admins got one email when it started and get
    one when it ends (the row goes then)."""

    __tablename__ = "health_alert"

    code: str = Field(primary_key=True)  # mailbox_down, publisher_paused:wordpress, disk_low, outbox_failing
    message: str = Field(sa_type=Text)
    started_at: datetime = Field(sa_type=UTCDateTime)
