"""The loops' leases on a real SQLite database: one holder at a time, renewal, take-over when the
holder's lease runs out (it died) or is released (it stopped cleanly), and the recorded states."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from core.db import reading
from core.runners import LEASE_SECONDS, acquire, record_error, record_ok, release, runner_states
from tests.appkit import open_app, write_settings

NOW = datetime(2026, 12, 6, 3, 0, tzinfo=UTC)


def test_one_holder_at_a_time_and_take_over_when_the_lease_runs_out(tmp_path: Path) -> None:
    _settings, engine = open_app(write_settings(tmp_path))
    assert acquire(engine, "mailbox", "worker-a", NOW)
    assert not acquire(engine, "mailbox", "worker-b", NOW + timedelta(seconds=1))
    assert acquire(engine, "mailbox", "worker-a", NOW + timedelta(seconds=30))  # renewed to 30 s + LEASE
    late = NOW + timedelta(seconds=30 + LEASE_SECONDS - 1)
    assert not acquire(engine, "mailbox", "worker-b", late)
    assert acquire(engine, "mailbox", "worker-b", late + timedelta(seconds=2))  # worker-a died
    assert not acquire(engine, "mailbox", "worker-a", late + timedelta(seconds=3))
    assert acquire(engine, "outbox", "worker-a", NOW)  # each loop has its own lease


def test_a_released_lease_is_taken_at_once_and_only_its_holder_can_release_it(tmp_path: Path) -> None:
    _settings, engine = open_app(write_settings(tmp_path))
    assert acquire(engine, "publish", "worker-a", NOW)
    release(engine, "publish", "worker-b")  # not the holder: nothing happens
    assert not acquire(engine, "publish", "worker-b", NOW)
    release(engine, "publish", "worker-a")
    assert acquire(engine, "publish", "worker-b", NOW)


def test_a_failure_keeps_when_the_trouble_started_until_the_next_success(tmp_path: Path) -> None:
    _settings, engine = open_app(write_settings(tmp_path))
    record_ok(engine, "mailbox", NOW)
    record_error(engine, "mailbox", "MailboxError: refused", NOW + timedelta(minutes=1))
    record_error(engine, "mailbox", "MailboxError: timed out", NOW + timedelta(minutes=2))
    assert acquire(engine, "mailbox", "worker-a", NOW)  # the lease leaves the recorded state alone
    with reading(engine) as s:
        row = runner_states(s)["mailbox"]
    assert (row.failing_since, row.last_error, row.last_ok_at) == (
        NOW + timedelta(minutes=1),
        "MailboxError: timed out",
        NOW,
    )
    record_ok(engine, "mailbox", NOW + timedelta(minutes=3))
    with reading(engine) as s:
        row = runner_states(s)["mailbox"]
    assert row.failing_since is None and row.lease_owner == "worker-a"


def test_a_lease_of_a_dead_process_of_this_machine_is_taken_at_once(tmp_path: Path) -> None:
    import os
    import subprocess
    import sys

    from core.runners import new_owner

    _settings, engine = open_app(write_settings(tmp_path))
    child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    dead_owner = new_owner("aaaa").replace(f":{os.getpid()}:", f":{child.pid}:")
    try:
        assert acquire(engine, "mailbox", dead_owner, NOW)
        assert not acquire(engine, "mailbox", "worker-b", NOW)  # alive: it keeps its lease
        assert not acquire(engine, "mailbox", "other-host:1:bbbb", NOW)
    finally:
        child.kill()  # SIGKILL: its lease is never released
        child.wait()
    assert acquire(engine, "mailbox", new_owner("cccc"), NOW + timedelta(seconds=1))  # not LEASE_SECONDS later
    assert not acquire(engine, "mailbox", dead_owner, NOW + timedelta(seconds=2))
