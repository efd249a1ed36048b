"""What each loop of the worker last did, and which worker runs it.

Each loop (mailbox, outbox, publish, period_jobs) records a success or a failure after every round;
a failure keeps the time the trouble started (`failing_since`) until the next success, so "the
mailbox has been unreachable for 20 minutes" is one subtraction. A missing row is a loop that never ran.

Leases: a loop runs only while its worker holds the loop's lease (`acquire`, a conditional UPDATE, so
of two workers on one database exactly one gets it). The holder renews it well before it runs out
(LEASE_SECONDS); a worker that dies stops renewing and another takes over when the lease has run out,
or at once when the dead worker ran on this machine (its process is gone: killed, crashed, restarted by
systemd); one that stops cleanly `release`s it and another takes over at its next try.
"""

from __future__ import annotations

import os
import socket
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, cast

from sqlalchemy import inspect, or_, update
from sqlalchemy.engine import CursorResult, Engine
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from core.db import transaction, utcnow
from core.models import RunnerState

__all__ = [
    "LEASE_SECONDS",
    "RUNNERS",
    "acquire",
    "held_leases",
    "new_owner",
    "owner_gone",
    "record_error",
    "record_ok",
    "release",
    "runner_states",
]

RUNNERS = ("mailbox", "outbox", "publish", "period_jobs")
LEASE_SECONDS = 60  # a dead worker's loops are taken over within this


def new_owner(tag: str) -> str:
    """A lease owner's name: this machine, this process, and a tag told apart from any other worker."""
    return f"{socket.gethostname()}:{os.getpid()}:{tag}"


def owner_gone(owner: str | None) -> bool:
    """True when `owner` (new_owner's form) is a process of this machine that no longer runs. A worker
    killed with SIGKILL holds its leases until they run out; restarted at once by systemd, it would
    otherwise wait up to LEASE_SECONDS before taking its mail. Only ever True for a process surely gone:
    another machine's owner, or a PID now used by another process, waits for the lease to run out."""
    host, _, rest = (owner or "").partition(":")
    pid = rest.split(":", 1)[0]
    if host != socket.gethostname() or not pid.isdigit() or int(pid) == os.getpid():
        return False
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except FileNotFoundError:
        return True
    except OSError:
        return False
    return stat[stat.rindex(")") + 2 :].split()[0] in ("Z", "X")  # a zombie: dead, not yet reaped


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
            row = s.get(RunnerState, name)
        if row is not None:  # held by another worker: taken over only if that worker is surely dead
            return owner_gone(row.lease_owner) and _take_from(engine, name, row.lease_owner, owner, now, seconds)
        _add_row(engine, name)
    return False


def _take_from(engine: Engine, name: str, dead: str | None, owner: str, now: datetime, seconds: float) -> bool:
    """The lease of a dead worker, for `owner`: of two workers taking it over, the UPDATE lets one."""
    with transaction(engine) as s:
        result = s.execute(
            update(RunnerState)
            .where(col(RunnerState.name) == name, col(RunnerState.lease_owner) == dead)
            .values(lease_owner=owner, lease_until=now + timedelta(seconds=seconds))
        )
        return cast("CursorResult[Any]", result).rowcount == 1


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


def held_leases(engine: Engine, now: datetime | None = None) -> dict[str, str]:
    """Loop -> owner of every lease not yet run out whose owner may still run: a worker runs on this
    database (or one of another machine died less than LEASE_SECONDS ago). Empty for a database
    without the table (older than the leases, or empty)."""
    now = now or utcnow()
    if "runner_state" not in inspect(engine).get_table_names():
        return {}
    with transaction(engine) as s:
        rows = s.exec(
            select(RunnerState.name, RunnerState.lease_owner).where(
                col(RunnerState.lease_owner).is_not(None), col(RunnerState.lease_until) >= now
            )
        ).all()
    return {name: owner or "" for name, owner in rows if not owner_gone(owner)}
