"""The one durable job mechanism: enqueue once, claim once, retry with backoff, give up, retry by hand.

A job row goes `pending -> in_progress -> succeeded | retrying | failed` (and `awaiting_manual` when a
person must finish it). The rules live in `Queue`, which drives the state columns of any table that
has them (status, attempts, next_attempt_at, last_error): the `job` table here (publish jobs, and
whatever else runs in the background), and the mail outbox's own table (core.outbox), so that mail
keeps its row, its JSON and its history while claiming, backoff and giving up are this code.

- `enqueue` runs inside the caller's transaction with a key naming the event: one job per event,
  even when the caller runs twice or crashes after committing.
- `claim` is a conditional UPDATE (still pending/retrying, still due): of two runners asking for the
  same row, exactly one gets it, on SQLite and PostgreSQL alike.
- A row left `in_progress` longer than the stale interval belonged to a runner that died: `recover`
  makes it due again; at once when the runner named in `claimed_by` was a process of this machine
  that is gone (core.runners.owner_gone: killed, crashed).
- `fail(retryable=True)` backs off exponentially and gives up (`failed`) after `max_attempts`;
  `retry` is a person's decision to try a failed job again.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, update
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from core.db import transaction, utcnow
from core.models import Job, JobStatus
from core.runners import owner_gone

__all__ = [
    "JOBS",
    "STALE_CLAIM",
    "Backoff",
    "Queue",
    "claim_due",
    "enqueue",
    "fail",
    "recover",
    "release",
    "retry",
    "succeed",
    "wait_for_person",
]

# A row left in_progress longer than this was being worked on by a process that died: try again.
STALE_CLAIM = timedelta(minutes=10)
DUE_STATUSES = (JobStatus.pending, JobStatus.retrying)


@dataclass(frozen=True)
class Backoff:
    """How long to wait before try n+1, and when to give up."""

    base_seconds: int
    max_seconds: int
    max_attempts: int

    def delay(self, attempts: int) -> timedelta:
        seconds = self.base_seconds * (2 ** max(attempts - 1, 0))
        return timedelta(seconds=min(seconds, self.max_seconds))


class Queue:
    """The job rules over one table's state columns.

    `claimed_at` names the column a claim writes its time to (the outbox, which has no column of its
    own for it, uses `next_attempt_at`, as it always did); `claimed_by`, `updated_at` and
    `finished_at` are written when the table has them."""

    def __init__(
        self,
        model: Any,
        *,
        claimed_at: str = "claimed_at",
        claimed_by: str | None = None,
        updated_at: str | None = None,
        finished_at: str | None = None,
    ) -> None:
        self.model = model
        self.claimed_at = claimed_at
        self.claimed_by = claimed_by
        self.updated_at = updated_at
        self.finished_at = finished_at

    def _c(self, name: str) -> Any:
        return getattr(self.model, name)

    def _stamp(self, values: dict[str, Any], now: datetime) -> dict[str, Any]:
        if self.updated_at:
            values[self.updated_at] = now
        return values

    def _set(self, s: Session, row_id: int, where: Sequence[ColumnElement[bool]], values: dict[str, Any]) -> bool:
        result = s.exec(update(self.model).where(self._c("id") == row_id, *where).values(**values))
        return bool(result.rowcount)

    # ---------------------------------------------------------------------------------- claiming
    def recover(self, s: Session, now: datetime, *, stale: timedelta = STALE_CLAIM) -> int:
        """Claims older than `stale` are abandoned (their runner died): due again, as a retry."""
        values = self._stamp({"status": JobStatus.retrying, "next_attempt_at": now}, now)
        if self.claimed_by:
            values[self.claimed_by] = None
        result = s.exec(
            update(self.model)
            .where(col(self._c("status")) == JobStatus.in_progress, col(self._c(self.claimed_at)) < now - stale)
            .values(**values)
        )
        recovered = int(result.rowcount)
        if self.claimed_by:  # a runner of this machine whose process is gone (killed): its claims at once
            claimed = col(self._c(self.claimed_by))
            owners = s.exec(select(claimed).where(col(self._c("status")) == JobStatus.in_progress).distinct()).all()
            gone = [o for o in owners if owner_gone(o)]
            if gone:
                result = s.exec(
                    update(self.model)
                    .where(col(self._c("status")) == JobStatus.in_progress, claimed.in_(gone))
                    .values(**values)
                )
                recovered += int(result.rowcount)
        return recovered

    def due(
        self, s: Session, now: datetime, *, where: Sequence[ColumnElement[bool]] = (), limit: int = 100
    ) -> list[int]:
        """Ids of the rows due at `now`, oldest first."""
        return list(
            s.exec(
                select(self._c("id"))
                .where(col(self._c("status")).in_(DUE_STATUSES), col(self._c("next_attempt_at")) <= now, *where)
                .order_by(col(self._c("next_attempt_at")), col(self._c("id")))
                .limit(limit)
            ).all()
        )

    def claim(self, engine: Engine, row_id: int, now: datetime, worker: str = "") -> Any | None:
        """Take the row for this runner, in a transaction of its own. None when another runner has it
        (or it is no longer due): the UPDATE's condition decides, never a read before it."""
        values = self._stamp(
            {"status": JobStatus.in_progress, self.claimed_at: now, "attempts": self._c("attempts") + 1}, now
        )
        if self.claimed_by:
            values[self.claimed_by] = worker
        with transaction(engine) as s:
            due = [col(self._c("status")).in_(DUE_STATUSES), col(self._c("next_attempt_at")) <= now]
            if not self._set(s, row_id, due, values):
                return None
            return s.get(self.model, row_id)

    # ---------------------------------------------------------------------------------- outcomes
    def succeed(self, s: Session, row_id: int, now: datetime, *, note: str | None = None) -> bool:
        values = self._stamp({"status": JobStatus.succeeded, "last_error": note}, now)
        if self.finished_at:
            values[self.finished_at] = now
        return self._set(s, row_id, [col(self._c("status")) == JobStatus.in_progress], values)

    def fail(self, s: Session, row_id: int, error: str, *, retryable: bool, now: datetime, policy: Backoff) -> str:
        """Record a failed try: `retrying` after a backoff while tries remain and it may help, else
        `failed` for good. Returns the new status."""
        row = s.get(self.model, row_id)
        attempts = row.attempts if row is not None else 0
        status = JobStatus.retrying if retryable and attempts < policy.max_attempts else JobStatus.failed
        values = self._stamp({"status": status, "last_error": error}, now)
        if status == JobStatus.retrying:
            values["next_attempt_at"] = now + policy.delay(attempts)
        elif self.finished_at:
            values[self.finished_at] = now
        self._set(s, row_id, [col(self._c("status")) == JobStatus.in_progress], values)
        return status

    def release(self, s: Session, row_id: int, now: datetime, *, due: datetime, note: str | None = None) -> bool:
        """Give a claimed row back untried (its runner may not run it now: a paused target): due again
        at `due`, and the try it was claimed for is not counted."""
        values = self._stamp(
            {
                "status": JobStatus.pending,
                "next_attempt_at": due,
                "attempts": self._c("attempts") - 1,
                "last_error": note,
            },
            now,
        )
        return self._set(s, row_id, [col(self._c("status")) == JobStatus.in_progress], values)

    def wait_for_person(self, s: Session, row_id: int, now: datetime, *, note: str | None = None) -> bool:
        """The work is handed to a person (the manual target): no retry until they act."""
        values = self._stamp({"status": JobStatus.awaiting_manual, "last_error": note}, now)
        return self._set(s, row_id, [col(self._c("status")) == JobStatus.in_progress], values)

    def finish_by_person(self, s: Session, row_id: int, now: datetime) -> bool:
        """A person did what the job waited for."""
        values = self._stamp({"status": JobStatus.succeeded, "last_error": None}, now)
        if self.finished_at:
            values[self.finished_at] = now
        return self._set(s, row_id, [col(self._c("status")) == JobStatus.awaiting_manual], values)

    def cancel(self, s: Session, row_id: int, now: datetime, *, note: str | None = None) -> bool:
        """The work is no longer wanted (a withdrawn draft's publish job): finished untried, if nobody
        runs it now. False when it is running or already over: its runner decides then."""
        values = self._stamp({"status": JobStatus.succeeded, "last_error": note}, now)
        if self.finished_at:
            values[self.finished_at] = now
        waiting = (*DUE_STATUSES, JobStatus.awaiting_manual)
        return self._set(s, row_id, [col(self._c("status")).in_(waiting)], values)

    def retry(self, s: Session, row_id: int, now: datetime) -> bool:
        """A person asks for a failed row to be tried again: pending now, with a fresh count of tries."""
        values = self._stamp({"status": JobStatus.pending, "attempts": 0, "next_attempt_at": now}, now)
        if self.finished_at:
            values[self.finished_at] = None
        return self._set(s, row_id, [col(self._c("status")) == JobStatus.failed], values)


JOBS = Queue(Job, claimed_by="claimed_by", updated_at="updated_at", finished_at="finished_at")


# -------------------------------------------------------------------------- the `job` table itself
def enqueue(s: Session, *, kind: str, key: str, payload: dict[str, Any], due: datetime | None = None) -> Job | None:
    """Add a job unless one with this key exists (inside the caller's transaction). Returns the new
    row, or None when the key was already queued."""
    if s.exec(select(Job).where(Job.key == key)).first() is not None:
        return None
    now = utcnow()
    job = Job(kind=kind, key=key, payload=payload, next_attempt_at=due or now, created_at=now, updated_at=now)
    s.add(job)
    s.flush()
    return job


def claim_due(
    engine: Engine,
    now: datetime,
    *,
    kinds: Sequence[str],
    worker: str,
    limit: int = 1,
    stale: timedelta = STALE_CLAIM,
    exclude: Sequence[int] = (),
) -> list[Job]:
    """Recover abandoned claims, then claim up to `limit` due jobs of these kinds for `worker`
    (leaving out the ids in `exclude`: the jobs a runner already tried in this round)."""
    if not kinds:
        return []
    with transaction(engine) as s:
        JOBS.recover(s, now, stale=stale)
        where = [col(Job.kind).in_(list(kinds))]
        if exclude:
            where.append(col(Job.id).not_in(list(exclude)))
        ids = JOBS.due(s, now, where=where, limit=limit * 4)
    claimed: list[Job] = []
    for job_id in ids:
        job = JOBS.claim(engine, job_id, now, worker)
        if job is not None:
            claimed.append(job)
            if len(claimed) >= limit:
                break
    return claimed


def recover(s: Session, now: datetime, *, stale: timedelta = STALE_CLAIM) -> int:
    return JOBS.recover(s, now, stale=stale)


def succeed(s: Session, job_id: int, now: datetime, *, note: str | None = None) -> bool:
    return JOBS.succeed(s, job_id, now, note=note)


def fail(s: Session, job_id: int, error: str, *, retryable: bool, now: datetime, policy: Backoff) -> str:
    return JOBS.fail(s, job_id, error, retryable=retryable, now=now, policy=policy)


def release(s: Session, job_id: int, now: datetime, *, due: datetime, note: str | None = None) -> bool:
    return JOBS.release(s, job_id, now, due=due, note=note)


def wait_for_person(s: Session, job_id: int, now: datetime, *, note: str | None = None) -> bool:
    return JOBS.wait_for_person(s, job_id, now, note=note)


def retry(s: Session, job_id: int, now: datetime | None = None) -> bool:
    return JOBS.retry(s, job_id, now or utcnow())


def cancel(s: Session, job_id: int, now: datetime, *, note: str | None = None) -> bool:
    return JOBS.cancel(s, job_id, now, note=note)
