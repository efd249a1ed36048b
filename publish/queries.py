"""What other packages may read of publish's tables: where a draft is live, per target.

The review page and the CLI get small frozen views, not `Publication` rows, so the columns of the
`publication` table stay publish's own business (publish.models).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlmodel import Session, col, select

from core.models import Job, JobStatus
from publish.jobs import awaits_manual_withdrawal
from publish.models import Publication, PublicationStatus

__all__ = ["PublicationInfo", "PublicationStatus", "live_url", "publications_of"]


@dataclass(frozen=True, slots=True)
class PublicationInfo:
    """One draft on one target, with what its latest job means for a person."""

    target: str
    status: str  # PublicationStatus
    url: str | None
    published_at: datetime | None
    last_error: str | None
    job_id: int | None  # the latest job for this draft on this target
    job_failed: bool  # that job gave up: a person may ask for it again ("Đăng lại")
    awaiting_manual: bool  # the manual target: an editor must paste the live address
    awaiting_withdrawal: bool  # still live, and a person must take it off the portal by hand


def publications_of(s: Session, draft_id: int) -> list[PublicationInfo]:
    """The draft's publications, in the order of `[publish] targets` as they were created; one SELECT
    (each with its latest job, outer-joined)."""
    q = (
        select(Publication, Job)
        .outerjoin(Job, col(Job.id) == col(Publication.job_id))
        .where(Publication.draft_id == draft_id)
        .order_by(col(Publication.id))
    )
    out = []
    for pub, job_or_none in s.exec(q).all():
        job: Job | None = job_or_none  # None when the publication has no job (outer join)
        out.append(
            PublicationInfo(
                target=pub.target,
                status=pub.status,
                url=pub.url,
                published_at=pub.published_at,
                last_error=pub.last_error,
                job_id=pub.job_id,
                job_failed=job is not None and job.status == JobStatus.failed,
                awaiting_manual=pub.status == PublicationStatus.awaiting_manual,
                awaiting_withdrawal=awaits_manual_withdrawal(pub, job),
            )
        )
    return out


def live_url(pubs: Sequence[PublicationInfo]) -> str | None:
    """The first live address, in the order of the draft's publications."""
    return next((p.url for p in pubs if p.status == PublicationStatus.published and p.url), None)
