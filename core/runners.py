"""What each loop of the worker last did, and which worker runs it.

Each loop (mailbox, outbox, publish, period_jobs) records a success or a failure after every round;
a failure keeps the time the trouble started (`failing_since`) until the next success, so "the
mailbox has been unreachable for 20 minutes" is one subtraction. A missing row is a loop that never ran.

Leases: a loop runs only while its worker holds the loop's lease (`acquire`, a conditional UPDATE, so
of two workers on one database exactly one gets it). The holder renews it well before it runs out
(LEASE_SECONDS); a worker that dies stops renewing and another takes over when the lease has run out;
one that stops cleanly `release`s it and another takes over at its next try.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any, cast

from sqlalchemy import or_, update
from sqlalchemy.engine import CursorResult, Engine
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from core.db import transaction, utcnow
from core.models import RunnerState

__all__ = ["LEASE_SECONDS", "RUNNERS", "acquire", "record_error", "record_ok", "release", "runner_states"]

RUNNERS = ("mailbox", "outbox", "publish", "period_jobs")
LEASE_SECONDS = 60  # a dead worker's loops are taken over within this


def _add_row(engine: Engine, name: str) -> None:
    try:
        with transaction(engine) as s:
            s.add(RunnerState(name=name))
    except IntegrityError:  # another worker made it first
        pass


def acquire(engine: Engine, name: str, owner: str, now: datetime | None = None, seconds: float = LEASE_SECONDS) -> bool:
    """Take or renew the lease of loop `name` for `owner`; True when `owner` holds it afterwards.
    One conditional UPDATE a call; the loop's row is made the first time only."""
    now = now or utcnow()
    free_or_ours = or_(
        col(RunnerState.lease_owner).is_(None),
        col(RunnerState.lease_owner) == owner,
        col(RunnerState.lease_until) < now,
    )
    for _ in range(2):
        with transaction(engine) as s:
            result = s.execute(
                update(RunnerState)
                .where(col(RunnerState.name) == name, free_or_ours)
                .values(lease_owner=owner, lease_until=now + timedelta(seconds=seconds))
            )
            # An UPDATE's result is a CursorResult, which has the row count; execute() is typed wider.
            if cast("CursorResult[Any]", result).rowcount == 1:
                return True
            if s.get(RunnerState, name) is not None:  # held by another worker
                return False
        _add_row(engine, name)
    return False


def release(engine: Engine, name: str, owner: str) -> None:
    """Give the lease up (a clean stop): another worker takes the loop over at its next try."""
    with transaction(engine) as s:
        s.execute(
            update(RunnerState)
            .where(col(RunnerState.name) == name, col(RunnerState.lease_owner) == owner)
            .values(lease_owner=None, lease_until=None)
        )


def record_ok(engine: Engine, name: str, now: datetime | None = None) -> None:
    now = now or utcnow()
    with transaction(engine) as s:
        row = s.get(RunnerState, name) or RunnerState(name=name)
        row.last_ok_at, row.failing_since, row.updated_at = now, None, now
        s.add(row)


def record_error(engine: Engine, name: str, error: str, now: datetime | None = None) -> None:
    now = now or utcnow()
    with transaction(engine) as s:
        row = s.get(RunnerState, name) or RunnerState(name=name)
        row.last_error_at, row.last_error, row.updated_at = now, error[:2000], now
        row.failing_since = row.failing_since or now
        s.add(row)


def runner_states(session: Session) -> dict[str, RunnerState]:
    return {r.name: r for r in session.exec(select(RunnerState)).all()}
