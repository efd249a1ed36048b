"""The tables publish/ owns: where each draft is live, per target, and each target's pause state.

Written only by publish.jobs (the runner, the manual target's form, resume); other packages read them through
publish.queries.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import Text, UniqueConstraint
from sqlmodel import Field, SQLModel

from core.db import UTCDateTime, utcnow


class PublicationStatus(StrEnum):
    pending = "pending"  # a job is queued or running
    published = "published"  # live at `url`
    failed = "failed"  # the last job failed for good (see last_error); a person may retry it
    awaiting_manual = "awaiting_manual"  # the manual target: an editor must paste the live address
    withdrawn = "withdrawn"  # taken off the portal


class Publication(SQLModel, table=True):
    """One draft on one target."""

    __tablename__ = "publication"
    __table_args__ = (UniqueConstraint("draft_id", "target", name="uq_publication_draft_target"),)

    id: int | None = Field(default=None, primary_key=True)
    draft_id: int = Field(foreign_key="draft.id", index=True)
    target: str
    status: str = Field(default=PublicationStatus.pending)
    url: str | None = None
    remote_id: str | None = None
    revision: int | None = None  # the draft's revision that is live
    published_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    job_id: int | None = None  # the latest job for this draft on this target
    last_error: str | None = Field(default=None, sa_type=Text)
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class TargetState(SQLModel, table=True):
    """A target paused after the portal refused our credentials: its jobs wait until a person resumes it."""

    __tablename__ = "publish_target_state"

    target: str = Field(primary_key=True)
    paused: bool = False
    reason: str | None = Field(default=None, sa_type=Text)
    since: datetime | None = Field(default=None, sa_type=UTCDateTime)
    alerted: bool = False  # the admins were emailed about this pause
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
