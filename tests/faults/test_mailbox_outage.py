"""Dovecot stopped for a whole minute while the worker waits in IDLE, then started again: the worker
(a real `toasoan worker` process) reconnects by itself and takes what arrived meanwhile: mail a local
MTA wrote straight into the Maildir on disk, and mail a remote MTA was refused (451, the bridge cannot
reach LMTP) and queued, then delivered once the server was back."""

from __future__ import annotations

import os
import secrets
import smtplib
import socket
import time
from pathlib import Path

from tests.appkit import open_app, write_settings
from tests.faults.kit import WorkerProcess, counts, figures, wait_until
from tests.fixtures.intake.build import submission
from tests.servers import MAIL_UID, Dovecot, crlf, lmtp_bridge, new_mail_user

OUTAGE_SECONDS = 60.0  # the scenario itself (a server restart that takes a minute), not a deadline
PROCESSED = "Đã xử lý"


def contributor(n: int) -> tuple[str, str]:
    return (f"Cộng tác viên {n}", f"ctv{n}@vanphong.tinhuy.example")


def local_delivery(maildir: Path, raw: bytes) -> None:
    """What a local MTA (postfix's virtual, maildrop) does: write into tmp/, then rename into new/."""
    name = f"{time.time_ns()}.{secrets.token_hex(4)}.{socket.gethostname()}"
    tmp, new = maildir / "tmp" / name, maildir / "new" / name
    tmp.write_bytes(crlf(raw))
    os.chown(tmp, MAIL_UID, MAIL_UID)
    os.replace(tmp, new)


def test_dovecot_down_for_a_minute_during_idle(tmp_path: Path, dovecot_private: Dovecot) -> None:
    user = new_mail_user(dovecot_private)
    config = write_settings(
        tmp_path, mailbox=user.mailbox_settings(poll_seconds=3600, idle_renew_seconds=3600)
    )  # within the test only IDLE and the reconnection can wake the worker: no periodic sweep
    _settings, engine = open_app(config)
    worker = WorkerProcess(config, env={"TEST_IMAP_PW": user.password})
    with lmtp_bridge(dovecot_private) as bridge:
        worker.start()
        try:
            bridge.send(submission(0, sender=contributor(0)), contributor(0)[1], user.address)
            wait_until(lambda: counts(engine)["drafts"] == 1, "the first draft")
            wait_until(lambda: user.status(PROCESSED)["messages"] == 1, "the first message moved")
            time.sleep(2)  # the worker is back in IDLE (it looks for newer mail first, then IDLEs)

            dovecot_private.stop()
            down_at = time.monotonic()
            maildir = dovecot_private.maildir(user.address)
            queued: list[int] = []
            for n in (1, 2, 3):  # a local MTA keeps delivering into the Maildir
                local_delivery(maildir, submission(n, sender=contributor(n)))
            for n in (4, 5):  # a remote MTA is told "try again later" and keeps the mail in its queue
                try:
                    bridge.send(submission(n, sender=contributor(n)), contributor(n)[1], user.address)
                except smtplib.SMTPDataError as exc:
                    assert exc.smtp_code == 451, exc
                    queued.append(n)
            assert queued == [4, 5]
            assert counts(engine)["drafts"] == 1  # nothing can be taken while the server is down
            time.sleep(max(0.0, OUTAGE_SECONDS - (time.monotonic() - down_at)))
            assert worker.alive()

            dovecot_private.restart()
            up_at = time.monotonic()
            outage = up_at - down_at
            for n in queued:  # the remote MTA's queue runs again
                bridge.send(submission(n, sender=contributor(n)), contributor(n)[1], user.address)
            wait_until(lambda: counts(engine)["drafts"] == 6, "the mail of the outage taken")
            recovered = time.monotonic() - up_at
            wait_until(lambda: user.status(PROCESSED)["messages"] == 6, "every message moved")
            wait_until(lambda: user.status()["messages"] == 0, "the inbox emptied")
        finally:
            code = worker.stop()
    assert code == 0, worker.log_text()[-3000:]
    assert counts(engine)["drafts"] == 6 and counts(engine)["inbound"] == 6
    log = worker.log_text()
    reconnects = log.count("retrying in") + log.count("reconnecting in")
    assert reconnects >= 1  # it noticed the server was gone and tried again by itself
    figures(
        "mailbox_outage",
        outage_seconds=round(outage, 1),
        mail_during_outage={"into_maildir": 3, "queued_by_sender": 2},
        failed_connection_attempts=reconnects,
        seconds_server_up_to_mail_taken=round(recovered, 1),
        drafts=6,
        lost=0,
        duplicated=0,
    )
