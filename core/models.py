"""Tables every stage shares: drafts and their images, and the mail outbox.

Ownership: ingest creates drafts; review moves them through the state machine (review/); publish
marks them published. OutboxMail is written only through core.outbox.
Table models skip validation (SQLModel), so values are checked where they are built.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import JSON, Text, UniqueConstraint
from sqlmodel import Field, SQLModel

from core.db import UTCDateTime, utcnow


class DraftStatus(StrEnum):
    pending_review = "pending_review"
    changes_requested = "changes_requested"
    approved = "approved"
    rejected = "rejected"
    published = "published"
    withdrawn = "withdrawn"


# A re-sent document links to an existing draft in one of these states instead of a new draft.
LIVE_DRAFT_STATUSES = (
    DraftStatus.pending_review,
    DraftStatus.changes_requested,
    DraftStatus.approved,
    DraftStatus.published,
)


class Kind(StrEnum):
    tin = "tin"  # news item
    bai = "bai"  # article


class Draft(SQLModel, table=True):
    __tablename__ = "draft"

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
    duplicate_of: int | None = None
    revision: int = 1
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime, index=True)
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


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


class OutboxStatus(StrEnum):
    pending = "pending"
    in_progress = "in_progress"
    succeeded = "succeeded"
    retrying = "retrying"
    failed = "failed"


class OutboxMail(SQLModel, table=True):
    """One email to send. `key` makes enqueueing idempotent: one email per event, even across crashes."""

    __tablename__ = "outbox_mail"
    __table_args__ = (UniqueConstraint("key", name="uq_outbox_mail_key"),)

    id: int | None = Field(default=None, primary_key=True)
    key: str
    kind: str = ""  # receipt, quarantine_notice, ... (for listing)
    to_addr: str
    subject: str
    message_id: str  # deterministic from `key`, so a resend after a crash is recognisably the same mail
    body_text: str = Field(sa_type=Text)
    headers: dict[str, str] = Field(default_factory=dict, sa_type=JSON)  # In-Reply-To, References, ...
    status: str = Field(default=OutboxStatus.pending, index=True)
    attempts: int = 0
    next_attempt_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    last_error: str | None = None
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    sent_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
