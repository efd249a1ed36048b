"""What other packages may read of ingest's tables (the status page)."""

from __future__ import annotations

from sqlalchemy import func
from sqlmodel import Session, col, select

from ingest.models import InboundMessage

__all__ = ["inbox_counts"]


def inbox_counts(session: Session) -> dict[str, int]:
    """Received messages by status (received, accepted, ignored, quarantined, ...)."""
    q = select(InboundMessage.status, func.count()).group_by(col(InboundMessage.status))
    return {str(status): int(n) for status, n in session.exec(q).all()}
