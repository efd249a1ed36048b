"""Two workers on one database and one mailbox (a real Dovecot): one takes the mail, the other waits;
when the first stops (SIGTERM's path: the stop event), the second takes over and takes the next mail."""

from __future__ import annotations

import threading
import time
from pathlib import Path
from typing import Any

import pytest
from sqlmodel import select

from core.db import reading
from core.models import RunnerState
from tests.appkit import open_app
from tests.ingest.test_imap import HANG_SECONDS, fixture, imap_settings, wait_for_drafts
from tests.servers import MailUser
from toasoan.worker import LEASE_RETRY_SECONDS, run_worker

LOOPS = ("mailbox", "outbox", "publish", "period_jobs")


def lease_owner(engine: Any, name: str) -> str | None:
    with reading(engine) as s:
        row = s.exec(select(RunnerState).where(RunnerState.name == name)).first()
        return row.lease_owner if row is not None else None


def wait_until(check: Any, what: str) -> Any:
    end = time.monotonic() + HANG_SECONDS  # only turns a hang into a failure; the waits end on the event
    while time.monotonic() < end:
        value = check()
        if value:
            return value
        time.sleep(0.05)
    raise AssertionError(f"{what}: nothing after {HANG_SECONDS:g} s (a hang)")


def test_a_second_worker_waits_then_takes_over(
    tmp_path: Path, mail_user: MailUser, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TEST_IMAP_PW", mail_user.password)
    settings, engine = open_app(imap_settings(tmp_path, mail_user, poll_seconds=2))
    first, second = threading.Event(), threading.Event()
    a = threading.Thread(target=run_worker, args=(settings, engine), kwargs={"stop": first}, daemon=True)
    a.start()
    # Each loop has its own lease: the second worker starts once the first holds all four (two workers
    # started together may share the loops out, which doubles nothing either).
    owners = wait_until(
        lambda: len(o := {lease_owner(engine, loop) for loop in LOOPS}) == 1 and None not in o and o,
        "the first worker's four leases",
    )
    (owner_a,) = owners
    b = threading.Thread(target=run_worker, args=(settings, engine), kwargs={"stop": second}, daemon=True)
    b.start()
    try:
        mail_user.deliver(fixture("tin_ok.eml"))
        assert len(wait_for_drafts(engine, 1)) == 1
        time.sleep(2 * LEASE_RETRY_SECONDS)  # the second worker has tried every loop by now
        assert {loop: lease_owner(engine, loop) for loop in LOOPS} == dict.fromkeys(LOOPS, owner_a)  # b waits

        first.set()
        a.join(timeout=HANG_SECONDS)
        assert not a.is_alive()
        owner_b = wait_until(
            lambda: (o := lease_owner(engine, "mailbox")) not in (None, owner_a) and o, "the take-over"
        )
        mail_user.deliver(fixture("two_documents.eml"))
        assert len(wait_for_drafts(engine, 3)) == 3
        assert lease_owner(engine, "mailbox") == owner_b
    finally:
        first.set()
        second.set()
        b.join(timeout=HANG_SECONDS)
    assert not b.is_alive()
    assert lease_owner(engine, "mailbox") is None  # released on a clean stop
