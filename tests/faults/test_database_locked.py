"""The SQLite database locked by another process (`BEGIN EXCLUSIVE`, held far past the busy timeout, as
a long backup or a stuck script would) while mail arrives: the worker cannot store, so it acknowledges
nothing (the mail stays in the INBOX), keeps going, and takes every message once the lock is gone."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

import pytest

from core.db import SQLITE_BUSY_TIMEOUT_MS
from tests.appkit import open_app, write_settings
from tests.faults.kit import WorkerProcess, counts, figures, wait_until
from tests.fixtures.intake.build import submission
from tests.servers import MailUser

pytestmark = pytest.mark.sqlite_only  # the PostgreSQL pass of make test leaves it out

PROCESSED = "Đã xử lý"
LOCKED = "database is locked"
HOLDER = """
import sqlite3, sys
db = sqlite3.connect(sys.argv[1], isolation_level=None, timeout=60)
db.execute("BEGIN EXCLUSIVE")
print("locked", flush=True)
sys.stdin.readline()  # held until the test says so
db.execute("COMMIT")
"""


def contributor(n: int) -> tuple[str, str]:
    return (f"Cộng tác viên {n}", f"ctv{n}@vanphong.tinhuy.example")


def test_database_locked_by_another_process_loses_nothing(tmp_path: Path, mail_user: MailUser) -> None:
    config = write_settings(tmp_path, mailbox=mail_user.mailbox_settings(poll_seconds=2, idle_renew_seconds=60))
    _settings, engine = open_app(config)
    worker = WorkerProcess(config, env={"TEST_IMAP_PW": mail_user.password})
    holder: subprocess.Popen[str] | None = None
    worker.start()
    try:
        mail_user.deliver(submission(0, sender=contributor(0)))
        wait_until(lambda: counts(engine)["drafts"] == 1, "the first draft")
        wait_until(lambda: mail_user.status(PROCESSED)["messages"] == 1, "the first message moved")

        holder = subprocess.Popen(
            [sys.executable, "-c", HOLDER, str(tmp_path / "var" / "toasoan.db")],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        assert holder.stdout is not None and holder.stdout.readline().strip() == "locked"
        locked_at = time.monotonic()
        failures_before = worker.log_text().count(LOCKED)
        for n in (1, 2, 3):
            mail_user.deliver(submission(n, sender=contributor(n)))
        # Held until the worker has failed to write twice, each time after the whole busy timeout.
        wait_until(lambda: worker.log_text().count(LOCKED) >= failures_before + 2, "two failed writes")
        assert worker.alive()
        assert mail_user.status()["messages"] == 3  # nothing acknowledged that was not stored
        assert mail_user.status(PROCESSED)["messages"] == 1
        assert counts(engine)["inbound"] == 1
        held = time.monotonic() - locked_at
        assert holder.stdin is not None
        holder.stdin.write("\n")
        holder.stdin.flush()
        assert holder.wait(timeout=60) == 0
        released_at = time.monotonic()

        wait_until(lambda: counts(engine)["drafts"] == 4, "the mail of the lock taken")
        recovered = time.monotonic() - released_at
        wait_until(lambda: mail_user.status(PROCESSED)["messages"] == 4, "every message moved")
        assert mail_user.status()["messages"] == 0
    finally:
        if holder is not None and holder.poll() is None:
            holder.kill()
            holder.wait()
        code = worker.stop()
    assert code == 0, worker.log_text()[-3000:]
    assert counts(engine)["inbound"] == 4 and counts(engine)["drafts"] == 4
    figures(
        "database_locked",
        busy_timeout_seconds=SQLITE_BUSY_TIMEOUT_MS / 1000,
        seconds_locked=round(held, 1),
        mail_during_lock=3,
        failed_writes_logged=worker.log_text().count(LOCKED) - failures_before,
        acknowledged_while_locked=0,
        seconds_unlocked_to_mail_taken=round(recovered, 1),
        lost=0,
        duplicated=0,
    )
