"""Oversized email is refused before it is downloaded: anyone can send the contributor mailbox a huge
message, and the office must not pull it over the network, hold it in memory or store it. Only its
header block is fetched (who sent it, for the editors and the notice); the message stays on the server."""

from __future__ import annotations

import re
import time
from pathlib import Path

import pytest

from tests.appkit import write_settings
from tests.clijson import cli_json
from tests.fixtures.intake.build import submission
from tests.servers import MailUser
from toasoan.cli import main

LIMIT = 200_000
PROCESSED = "Đã xử lý"
SENDER = "lan.nguyen@vanphong.tinhuy.example"


def huge_submission(n: int) -> bytes:
    """A contribution of about 1 MB (a photo of random-looking bytes beside the Word file)."""
    noise = bytes((i * 7919 + n) % 251 for i in range(700_000))
    return submission(n, attach_photo=noise)


def body_marker(raw: bytes) -> bytes:
    """A line from deep inside the message body: present in any copy that holds the body."""
    lines = raw.splitlines()
    return lines[len(lines) * 3 // 4]


def spool_files(config: Path) -> list[Path]:
    return [p for p in (config.parent / "var" / "storage" / "spool").rglob("*.eml")]


def imap_fetches(user: MailUser, headers: int) -> tuple[int, int, int]:
    """(header fetches, body fetches, body bytes) Dovecot served this user's IMAP sessions, from the
    counters of its "Logged out" log lines; waits (deadline only against a hang) until `headers`
    header fetches are logged, since a session's line is written when it ends."""
    log = Path(user.server.dir, "dovecot.log")
    pattern = re.compile(
        rf"imap\({re.escape(user.address)}\).*Logged out .*"
        r"hdr_count=(\d+) hdr_bytes=\d+ body_count=(\d+) body_bytes=(\d+)"
    )
    deadline = time.monotonic() + 30
    while True:
        rows = [tuple(map(int, m.groups())) for m in pattern.finditer(log.read_text(errors="replace"))]
        total = (sum(r[0] for r in rows), sum(r[1] for r in rows), sum(r[2] for r in rows))
        if total[0] >= headers or time.monotonic() > deadline:
            return total
        time.sleep(0.05)


@pytest.fixture
def office(tmp_path: Path, mail_user: MailUser, monkeypatch: pytest.MonkeyPatch) -> tuple[Path, MailUser]:
    monkeypatch.setenv("TEST_IMAP_PW", mail_user.password)
    config = write_settings(tmp_path, mailbox=mail_user.mailbox_settings(), ingest={"max_message_bytes": LIMIT})
    return config, mail_user


def test_an_oversized_message_is_quarantined_from_its_headers_and_stays_on_the_server(
    office: tuple[Path, MailUser], capsys: pytest.CaptureFixture[str]
) -> None:
    config, user = office
    huge = huge_submission(2)
    assert len(huge) > 4 * LIMIT
    for raw in (submission(1), huge, submission(3)):  # the rest of the batch must go on
        user.server.append(user.address, user.password, raw)
    assert main(["--config", str(config), "ingest", "--once"]) == 0

    inbox = cli_json(config, "inbox", "list", capsys=capsys)
    big = next(m for m in inbox if "số 2" in m["subject"])
    assert (big["status"], big["reason"]) == ("quarantined", "too_large")
    assert big["sender"] == SENDER and big["size"] >= len(huge)  # who sent it, and how big it is
    assert sorted(m["status"] for m in inbox) == ["accepted", "accepted", "quarantined"]
    # Kept on the server (moved to the processed folder like every handled submission, never deleted).
    assert user.status()["messages"] == 0 and user.status(PROCESSED)["messages"] == 3
    # The spool holds its header block only: no copy of the body anywhere.
    marker = body_marker(huge)
    assert not any(marker in p.read_bytes() for p in spool_files(config))
    [kept] = [p.read_bytes() for p in spool_files(config) if b"<submission-2@" in p.read_bytes()]
    assert kept == huge[: huge.index(b"\r\n\r\n") + 4]  # exactly the header block, as IMAP sends it
    # Not downloaded: Dovecot served the two ordinary messages whole and the huge one's header only.
    header_fetches, body_fetches, body_bytes = imap_fetches(user, headers=1)
    assert (header_fetches, body_fetches) == (1, 2) and body_bytes < len(huge) // 4
    # The sender is told, through the usual quarantine notice.
    notices = [m for m in cli_json(config, "outbox", "list", capsys=capsys) if m["kind"] == "quarantine_notice"]
    assert [m["to"] for m in notices] == [SENDER]


def test_a_second_delivery_and_a_retry_make_no_second_row_and_no_download(
    office: tuple[Path, MailUser], capsys: pytest.CaptureFixture[str]
) -> None:
    config, user = office
    huge = huge_submission(4)
    user.deliver(huge)
    assert main(["--config", str(config), "ingest", "--once"]) == 0
    user.deliver(huge)  # the same email again (a new delivery: new trace headers, a new UID)
    assert main(["--config", str(config), "ingest", "--once"]) == 0
    inbox = cli_json(config, "inbox", "list", capsys=capsys)
    assert [(m["status"], m["reason"]) for m in inbox] == [("quarantined", "too_large")]
    assert user.status()["messages"] == 0  # the second copy is acknowledged as a duplicate, not left

    retried = cli_json(config, "inbox", "retry", str(inbox[0]["id"]), capsys=capsys)
    assert (retried["status"], retried["reason"]) == ("quarantined", "too_large")
    assert "header" in retried["detail"] and str(LIMIT) in retried["detail"]
    notices = [m for m in cli_json(config, "outbox", "list", capsys=capsys) if m["kind"] == "quarantine_notice"]
    assert len(notices) == 1  # one notice, not one per delivery or retry
    assert not any(body_marker(huge) in p.read_bytes() for p in spool_files(config))
    assert imap_fetches(user, headers=2) == (2, 0, 0)  # each delivery: its header, never its body


def test_after_the_limit_is_raised_the_message_put_back_is_fetched_whole_into_the_same_row(
    office: tuple[Path, MailUser], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config, user = office
    user.server.append(user.address, user.password, huge_submission(5))
    assert main(["--config", str(config), "ingest", "--once"]) == 0
    [row] = cli_json(config, "inbox", "list", capsys=capsys)
    # The office raises the limit; a retry alone cannot conjure the body and says what to do.
    raised = write_settings(tmp_path, mailbox=user.mailbox_settings(), ingest={"max_message_bytes": 10 * LIMIT})
    assert raised == config
    retried = cli_json(config, "inbox", "retry", str(row["id"]), capsys=capsys)
    assert (retried["status"], retried["reason"]) == ("quarantined", "too_large")
    assert "chuyển thư về thư mục nhận bài" in retried["detail"] and "move it back" in retried["detail"]
    # Someone moves it back to the inbox: the next sweep downloads it whole, into the same record.
    client = user.imap()
    client.select_folder(PROCESSED)
    client.move(client.search(["ALL"]), "INBOX")
    client.logout()
    assert main(["--config", str(config), "ingest", "--once"]) == 0
    inbox = cli_json(config, "inbox", "list", capsys=capsys)
    assert [(m["id"], m["status"]) for m in inbox] == [(row["id"], "accepted")]
    assert len(cli_json(config, "drafts", "list", capsys=capsys)) == 1


def test_maildir_applies_the_same_rule_from_the_file_size(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    config = write_settings(tmp_path, ingest={"max_message_bytes": LIMIT})
    new = tmp_path / "maildir" / "new"
    new.mkdir(parents=True)
    huge = huge_submission(6)
    (new / "1.huge").write_bytes(huge)
    (new / "2.ok").write_bytes(submission(7))
    assert main(["--config", str(config), "ingest", "--once"]) == 0
    inbox = cli_json(config, "inbox", "list", capsys=capsys)
    assert sorted((m["status"], m["reason"]) for m in inbox) == [("accepted", None), ("quarantined", "too_large")]
    assert not any(body_marker(huge) in p.read_bytes() for p in spool_files(config))
    assert (tmp_path / "maildir" / f".{PROCESSED}" / "cur" / "1.huge").read_bytes() == huge  # kept, unchanged
