"""core.jobs on its own, on SQLite and PostgreSQL: two runners never take the same job; backoff,
give-up, a person's retry, and abandoned claims. Time is passed in, never waited for."""

from __future__ import annotations

import threading
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import select

from core import jobs
from core.db import make_engine, reading, transaction, utcnow
from core.models import Job, JobStatus
from tests.servers import Postgres
from toasoan.database import upgrade

pytestmark = pytest.mark.picks_databases  # SQLite and PostgreSQL named here; the PostgreSQL pass leaves it out

POLICY = jobs.Backoff(base_seconds=10, max_seconds=25, max_attempts=3)


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'db.sqlite'}"
    server: Postgres = request.getfixturevalue("postgres_server")
    return server.new_database()


def _engine(url: str) -> Engine:
    engine = make_engine(url)
    upgrade(engine)
    return engine


def test_enqueue_is_idempotent_and_two_runners_never_share_a_job(database_url: str) -> None:
    engine = _engine(database_url)
    with transaction(engine) as s:
        for i in range(30):
            assert jobs.enqueue(s, kind="test", key=f"k{i}", payload={"i": i}) is not None
        assert jobs.enqueue(s, kind="test", key="k0", payload={"i": 99}) is None
    now = utcnow()
    engines = [make_engine(database_url) for _ in range(2)]
    taken: dict[int, list[int]] = {0: [], 1: []}
    barrier = threading.Barrier(2)

    def runner(n: int) -> None:
        barrier.wait()
        while claimed := jobs.claim_due(engines[n], now, kinds=["test"], worker=f"r{n}"):
            for job in claimed:
                assert job.id is not None
                taken[n].append(job.id)
                with transaction(engines[n]) as s:
                    assert jobs.succeed(s, job.id, now)

    threads = [threading.Thread(target=runner, args=(n,)) for n in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    everything = taken[0] + taken[1]
    assert len(everything) == len(set(everything)) == 30
    with reading(engine) as s:
        assert {j.status for j in s.exec(select(Job)).all()} == {JobStatus.succeeded}
    for e in (engine, *engines):
        e.dispose()


def test_backoff_give_up_retry_and_abandoned_claims(database_url: str) -> None:
    engine = _engine(database_url)
    with transaction(engine) as s:
        job = jobs.enqueue(s, kind="test", key="one", payload={})
        assert job is not None and job.id is not None
        job_id = job.id
    t = utcnow()
    for attempt, (status, wait) in enumerate(((JobStatus.retrying, 10), (JobStatus.retrying, 20)), 1):
        [claimed] = jobs.claim_due(engine, t, kinds=["test"], worker="w")
        assert claimed.attempts == attempt
        with transaction(engine) as s:
            assert jobs.fail(s, job_id, "down", retryable=True, now=t, policy=POLICY) == status
        assert jobs.claim_due(engine, t + timedelta(seconds=wait - 1), kinds=["test"], worker="w") == []
        t += timedelta(seconds=wait)
    [claimed] = jobs.claim_due(engine, t, kinds=["test"], worker="w")
    with transaction(engine) as s:  # the third try: given up
        assert jobs.fail(s, job_id, "down", retryable=True, now=t, policy=POLICY) == JobStatus.failed
    assert jobs.claim_due(engine, t + timedelta(days=1), kinds=["test"], worker="w") == []
    with transaction(engine) as s:
        assert jobs.retry(s, job_id, t)  # a person: pending again, a fresh count
        assert not jobs.retry(s, job_id, t)  # only a failed job
    [claimed] = jobs.claim_due(engine, t, kinds=["test"], worker="dies")
    assert claimed.attempts == 1 and claimed.claimed_by == "dies"
    assert jobs.claim_due(engine, t + jobs.STALE_CLAIM, kinds=["test"], worker="w") == []  # not abandoned yet
    [claimed] = jobs.claim_due(engine, t + jobs.STALE_CLAIM + timedelta(seconds=1), kinds=["test"], worker="w")
    assert claimed.claimed_by == "w" and claimed.attempts == 2
    engine.dispose()


def test_a_claim_of_a_killed_process_of_this_machine_is_due_at_once(database_url: str) -> None:
    import socket
    import subprocess
    import sys

    engine = _engine(database_url)
    with transaction(engine) as s:
        jobs.enqueue(s, kind="test", key="one", payload={})
    child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    runner = f"{socket.gethostname()}:{child.pid}"  # what publish and the period jobs name a runner
    t = utcnow()
    try:
        [claimed] = jobs.claim_due(engine, t, kinds=["test"], worker=runner)
        assert jobs.claim_due(engine, t, kinds=["test"], worker="w") == []  # alive: it keeps its job
    finally:
        child.kill()  # SIGKILL in the middle of the job
        child.wait()
    [claimed] = jobs.claim_due(engine, t + timedelta(seconds=1), kinds=["test"], worker="w")  # not STALE_CLAIM later
    assert claimed.claimed_by == "w" and claimed.attempts == 2
    engine.dispose()
