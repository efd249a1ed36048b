"""The month's content orientation (định hướng nội dung): the board enters it (UI or CLI), the period
job `orientation` mails it to every unit (reports.schedule).

When it goes out: at the start of the period if it was entered by then; entered later during the
period, it goes out at the next tick of the period jobs (the job waits for it, polling the table
every few minutes, until the period ends). It is mailed once per period: a later edit is kept (and
audited) but not mailed again, so units never receive two different versions by surprise.
"""

from __future__ import annotations

from datetime import datetime

from sqlmodel import Session

from core.errors import Bilingual
from core.text import nfc
from reports.models import ReportEvent, ReportPeriod
from reports.periods import Period

MAX_CHARS = 20_000


class OrientationError(Bilingual, ValueError):
    """An orientation that cannot be saved (empty, too long)."""


def orientation_of(session: Session, period: Period) -> str | None:
    """The period's orientation text, or None when the board has not entered one."""
    row = session.get(ReportPeriod, str(period))
    return row.orientation if row is not None and row.orientation else None


def set_orientation(session: Session, period: Period, text: str, actor: str, now: datetime) -> ReportPeriod:
    """Save the period's orientation (inside the caller's transaction) and audit it."""
    text = nfc(text).replace("\r\n", "\n").strip()
    if not text:
        raise OrientationError("định hướng nội dung không được để trống", "the orientation is empty")
    if len(text) > MAX_CHARS:
        raise OrientationError(f"định hướng nội dung dài quá {MAX_CHARS} ký tự", f"longer than {MAX_CHARS} characters")
    row = session.get(ReportPeriod, str(period))
    if row is None:
        row = ReportPeriod(period=str(period))
    previous = row.orientation
    row.orientation, row.orientation_by, row.orientation_at, row.updated_at = text, actor, now, now
    session.add(row)
    session.add(
        ReportEvent(
            period=str(period),
            at=now,
            actor=actor,
            action="orientation",
            data={"chars": len(text), "replaced": previous is not None},
        )
    )
    session.flush()
    return row
