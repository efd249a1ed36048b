"""Tables owned by ingest: every message taken from the mailbox, and the per-mailbox UID cursor."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import JSON, Text, UniqueConstraint
from sqlmodel import Field, SQLModel

from core.db import UTCDateTime, utcnow


class InboundStatus(StrEnum):
    received = "received"  # stored (spool + row); not processed yet
    accepted = "accepted"  # became one or more drafts
    ignored = "ignored"  # not a submission, or a duplicate delivery
    quarantined = "quarantined"  # a submission we could not use; kept, reprocessable


class Reason(StrEnum):
    not_a_submission = "not_a_submission"
    duplicate = "duplicate"
    no_document = "no_document"
    corrupt_document = "corrupt_document"
    encrypted_document = "encrypted_document"
    unsupported_document = "unsupported_document"
    converter_missing = "converter_missing"
    too_large = "too_large"
    # A bug of ours while processing, not the contributor's file: retried by the worker with backoff,
    # never mailed to the contributor.
    internal_error = "internal_error"


class InboundMessage(SQLModel, table=True):
    __tablename__ = "inbound_message"
    __table_args__ = (UniqueConstraint("mailbox", "uidvalidity", "uid", name="uq_inbound_location"),)

    id: int | None = Field(default=None, primary_key=True)
    # Identity: sha256 of the raw bytes without the trace headers a delivery prepends (Received,
    # Return-Path, Delivered-To), so one email delivered twice is one record. A message over
    # max_message_bytes is never downloaded: its identity is its header block and size
    # (sweep.header_identity), and the spool holds only that header block (then size > spool file).
    sha256: str = Field(unique=True, index=True)
    raw_sha256: str  # the exact bytes as fetched: the spool file's name
    size: int  # of the whole message (RFC822.SIZE for one fetched by its header only)
    mailbox: str  # where it was found (cursor key)
    uidvalidity: int | None = None
    uid: int | None = None
    ref: str | None = None  # the location's own key (UID, or Maildir file key), for acknowledging
    message_id: str | None = Field(default=None, index=True)
    subject: str = ""
    sender: str = ""
    sender_name: str = ""
    status: str = Field(default=InboundStatus.received, index=True)
    reason: str | None = None
    detail: str | None = Field(default=None, sa_type=Text)  # for the editors: what exactly went wrong
    problems: list[dict[str, str]] = Field(default_factory=list, sa_type=JSON)  # per-file failures
    draft_ids: list[int] = Field(default_factory=list, sa_type=JSON)
    attempts: int = 0
    acked: bool = False  # moved out of the watched folder (advisory)
    received_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime, index=True)
    processed_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


class MailboxCursor(SQLModel, table=True):
    """Highest UID stored per (mailbox, UIDVALIDITY): UIDs mean nothing across UIDVALIDITY changes."""

    __tablename__ = "mailbox_cursor"

    mailbox: str = Field(primary_key=True)
    uidvalidity: int = Field(primary_key=True)
    last_uid: int = 0
    last_full_sweep_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
