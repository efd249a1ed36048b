"""The disk of the mail spool full (a real one: a 2 MB tmpfs mounted by the test, filled up to ENOSPC)
while mail arrives: nothing that could not be written is acknowledged on the server (the mail stays in
the INBOX), no half-written file is left taking space, the worker keeps trying, and once space is
freed it takes every message by itself."""

from __future__ import annotations

import errno
import os
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.appkit import open_app, write_settings
from tests.faults.kit import WorkerProcess, counts, figures, wait_until
from tests.fixtures.intake.build import submission
from tests.servers import MailUser

PROCESSED = "Đã xử lý"
NO_SPACE = "No space left on device"


@pytest.fixture
def small_disk(tmp_path: Path) -> Iterator[Path]:
    """A 2 MB file system of its own (tmpfs: the tests run as root), unmounted afterwards."""
    if os.geteuid() != 0:
        pytest.fail("mounting a small file system needs root (the suite runs as root in CI)")
    mount = tmp_path / "disk"
    mount.mkdir()
    subprocess.run(["mount", "-t", "tmpfs", "-o", "size=2m,mode=0755", "tmpfs", str(mount)], check=True)
    try:
        yield mount
    finally:
        subprocess.run(["umount", "--lazy", str(mount)], check=True)


def fill(disk: Path) -> Path:
    """Write one file until the file system says ENOSPC; returns it."""
    filler = disk / "filler"
    with filler.open("wb", buffering=0) as f:
        try:
            while True:
                f.write(b"\0" * 4096)
        except OSError as exc:
            assert exc.errno == errno.ENOSPC
    return filler


def contributor(n: int) -> tuple[str, str]:
    return (f"Cộng tác viên {n}", f"ctv{n}@vanphong.tinhuy.example")


def test_disk_full_while_spooling(tmp_path: Path, mail_user: MailUser, small_disk: Path) -> None:
    config = write_settings(tmp_path, mailbox=mail_user.mailbox_settings(poll_seconds=2, idle_renew_seconds=60))
    # The spool (and the documents) on the small disk; the database stays on the big one.
    text = config.read_text(encoding="utf-8").replace('path = "var/storage"', f'path = "{small_disk / "storage"}"')
    config.write_text(text, encoding="utf-8")
    _settings, engine = open_app(config)
    worker = WorkerProcess(config, env={"TEST_IMAP_PW": mail_user.password})
    worker.start()
    filler: Path | None = None
    try:
        mail_user.deliver(submission(0, sender=contributor(0)))
        wait_until(lambda: counts(engine)["drafts"] == 1, "the first draft")
        wait_until(lambda: mail_user.status(PROCESSED)["messages"] == 1, "the first message moved")

        filler = fill(small_disk)
        full_at = time.monotonic()
        failures_before = worker.log_text().count(NO_SPACE)
        for n in (1, 2, 3):
            mail_user.deliver(submission(n, sender=contributor(n)))
        wait_until(lambda: worker.log_text().count(NO_SPACE) >= failures_before + 2, "two failed spool writes")
        assert worker.alive()
        assert mail_user.status()["messages"] == 3  # nothing acknowledged that was not stored
        assert mail_user.status(PROCESSED)["messages"] == 1
        assert counts(engine)["inbound"] == 1
        assert not list(small_disk.rglob(".tmp-*"))  # no half-written file left taking the space
        full_for = time.monotonic() - full_at

        filler.unlink()  # an admin frees space
        freed_at = time.monotonic()
        wait_until(lambda: counts(engine)["drafts"] == 4, "the mail of the full disk taken")
        recovered = time.monotonic() - freed_at
        wait_until(lambda: mail_user.status(PROCESSED)["messages"] == 4, "every message moved")
        assert mail_user.status()["messages"] == 0
    finally:
        code = worker.stop()
    assert code == 0, worker.log_text()[-3000:]
    assert counts(engine)["inbound"] == 4 and counts(engine)["drafts"] == 4
    figures(
        "disk_full",
        disk="tmpfs 2 MB",
        seconds_full=round(full_for, 1),
        mail_while_full=3,
        failed_spool_writes_logged=worker.log_text().count(NO_SPACE) - failures_before,
        acknowledged_while_full=0,
        seconds_freed_to_mail_taken=round(recovered, 1),
        lost=0,
        duplicated=0,
    )
