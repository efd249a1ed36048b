"""What each loop of the worker last did, for `toasoan status` and the status page.

Each loop (mailbox, outbox, publish, period_jobs) records a success or a failure after every round;
a failure keeps the time the trouble started (`failing_since`) until the next success, so "the
mailbox has been unreachable for 20 minutes" is one subtraction. Writes are upserts keyed by name:
a missing row is a loop that never ran.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from core.db import reading, transaction, utcnow
from core.models import RunnerState

__all__ = ["RUNNERS", "record_error", "record_ok", "runner_states"]

RUNNERS = ("mailbox", "outbox", "publish", "period_jobs")


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


def read_states(engine: Engine) -> dict[str, RunnerState]:
    with reading(engine) as s:
        return runner_states(s)
