"""What other packages may read of ingest's tables: the review pages, the CLI, the status page.

The rows come back as small frozen views, not as table objects, so no other package depends on the
columns of `inbound_message`; each function is one SELECT of the columns it returns (no ORM objects
built, the problem-email page reads up to 2 x 200 rows).
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from datetime import datetime
from typing import Any

from sqlalchemy import bindparam, func
from sqlalchemy import select as select_columns
from sqlalchemy.orm import Mapped
from sqlmodel import Session, col, select

from ingest.models import InboundMessage, InboundStatus, Reason

__all__ = [
    "PROBLEM_LIMIT",
    "Inbound",
    "InboundStatus",
    "Reason",
    "SourceMail",
    "inbound",
    "inbound_list",
    "inbox_counts",
    "problem_messages",
    "source_mail",
]

# Quarantine is an exception list; more than this on the page means something else is wrong.
PROBLEM_LIMIT = 200


@dataclass(frozen=True, slots=True)
class Inbound:
    """One received email as the CLI (`inbox list/show`) and the problem-email pages show it."""

    id: int
    message_id: str | None
    subject: str
    sender: str
    sender_name: str
    status: str
    reason: str | None
    detail: str | None
    problems: list[dict[str, str]]  # per-file failures: {"file", "reason", ...}
    draft_ids: list[int]
    received_at: datetime
    processed_at: datetime | None
    attempts: int
    size: int
    sha256: str
    raw_sha256: str  # the spool copy's name (ingest.spool)
    mailbox: str
    uid: int | None


@dataclass(frozen=True, slots=True)
class SourceMail:
    """The email a draft came in (the draft page links to its .eml)."""

    id: int
    subject: str


def _columns(view: type[Any]) -> list[Mapped[Any]]:
    return [col(getattr(InboundMessage, f.name)) for f in fields(view)]


_INBOUND = select_columns(*_columns(Inbound))
_ONE = _INBOUND.where(col(InboundMessage.id) == bindparam("id"))
_SOURCE_MAIL = select_columns(*_columns(SourceMail)).where(col(InboundMessage.id) == bindparam("id"))
_NEWEST_FIRST = (col(InboundMessage.received_at).desc(), col(InboundMessage.id).desc())


def _views(session: Session, query: Any, params: dict[str, Any] | None = None) -> list[Inbound]:
    return [Inbound(*row) for row in session.connection().execute(query, params or {})]


def inbound(session: Session, inbound_id: int) -> Inbound | None:
    """One received email, or None."""
    found = _views(session, _ONE, {"id": inbound_id})
    return found[0] if found else None


def inbound_list(session: Session, status: str | None = None) -> list[Inbound]:
    """Every received email (or those with `status`), oldest first (`toasoan inbox list`)."""
    q = _INBOUND.order_by(col(InboundMessage.id))
    if status:
        q = q.where(col(InboundMessage.status) == status)
    return _views(session, q)


def problem_messages(session: Session, limit: int = PROBLEM_LIMIT) -> tuple[list[Inbound], list[Inbound]]:
    """The problem-email page: the quarantined emails, and the accepted ones with a file that failed;
    each newest first, at most `limit`."""
    quarantined = _INBOUND.where(col(InboundMessage.status) == InboundStatus.quarantined)
    partial = _INBOUND.where(
        col(InboundMessage.status) == InboundStatus.accepted,
        func.json_array_length(InboundMessage.problems) > 0,
    )
    return (
        _views(session, quarantined.order_by(*_NEWEST_FIRST).limit(limit)),
        _views(session, partial.order_by(*_NEWEST_FIRST).limit(limit)),
    )


def source_mail(session: Session, inbound_id: int) -> SourceMail | None:
    """The id and subject of the email a draft came in (the draft page: one small SELECT)."""
    row = session.connection().execute(_SOURCE_MAIL, {"id": inbound_id}).first()
    return SourceMail(*row) if row else None


def inbox_counts(session: Session) -> dict[str, int]:
    """Received messages by status (received, accepted, ignored, quarantined, ...)."""
    q = select(InboundMessage.status, func.count()).group_by(col(InboundMessage.status))
    return {str(status): int(n) for status, n in session.exec(q).all()}
