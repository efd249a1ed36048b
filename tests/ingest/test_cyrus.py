"""Intake from a real Cyrus IMAP 3.6 laid out as Debian's default: every folder under "INBOX.", a
folder at the top level refused. The processed folder follows the server's NAMESPACE there."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from ingest.mailbox import ImapSession, open_mailbox
from tests.appkit import open_app
from tests.clijson import cli_json
from tests.ingest.test_imap import HANG_SECONDS, PROCESSED, fixture, imap_settings, wait_for_drafts
from tests.servers import Cyrus, MailUser, cyrus, new_mail_user
from toasoan.cli import EXIT_FOLDER, EXIT_MAILBOX, main
from toasoan.worker import run_worker

UNDER_PREFIX = f"INBOX.{PROCESSED}"  # where Cyrus keeps the default processed folder


@pytest.fixture
def cyrus_office(tmp_path: Path, cyrus_user: MailUser, monkeypatch: pytest.MonkeyPatch) -> tuple[Path, MailUser]:
    monkeypatch.setenv("TEST_IMAP_PW", cyrus_user.password)
    return imap_settings(tmp_path, cyrus_user), cyrus_user


def test_the_server_refuses_the_top_level(cyrus_user: MailUser) -> None:
    """The premise of this file: without NAMESPACE the default processed folder cannot be made."""
    client = cyrus_user.imap()
    try:
        assert client.namespace()[0] == (("INBOX.", "."),)
        with pytest.raises(Exception, match="Permission denied"):
            client.create_folder(PROCESSED)
    finally:
        client.logout()


def test_ingest_once_moves_submissions_under_the_personal_prefix(
    cyrus_office: tuple[Path, MailUser], capsys: pytest.CaptureFixture[str]
) -> None:
    config, user = cyrus_office
    user.deliver(fixture("tin_ok.eml"))
    user.deliver(fixture("not_a_submission.eml"))
    assert main(["--config", str(config), "ingest", "--once"]) == 0  # the default settings: was exit 3
    inbox = cli_json(config, "inbox", "list", capsys=capsys)
    assert sorted(m["status"] for m in inbox) == ["accepted", "ignored"]
    assert user.status()["messages"] == 1  # the invitation stays where it was
    assert user.status(UNDER_PREFIX)["messages"] == 1
    assert sorted(user.folders()) == ["INBOX", UNDER_PREFIX]
    # A later sweep finds the folder made before (no second CREATE refused at the top level first).
    user.deliver(fixture("two_documents.eml"))
    assert main(["--config", str(config), "ingest", "--once"]) == 0
    assert user.status()["messages"] == 1 and user.status(UNDER_PREFIX)["messages"] == 2
    assert len(cli_json(config, "drafts", "list", capsys=capsys)) == 3


def test_the_session_remembers_the_resolved_folder(cyrus_office: tuple[Path, MailUser]) -> None:
    config, user = cyrus_office
    user.deliver(fixture("tin_ok.eml"))
    settings, _engine = open_app(config)
    mbox = open_mailbox(settings)
    assert isinstance(mbox, ImapSession)
    try:
        mbox.ack(mbox.pending(None))
        assert mbox.processed_folder == UNDER_PREFIX
    finally:
        mbox.close()
    assert user.status(UNDER_PREFIX)["messages"] == 1


def test_a_processed_folder_given_in_full_is_used_as_is(
    tmp_path: Path, cyrus_user: MailUser, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TEST_IMAP_PW", cyrus_user.password)
    config = imap_settings(tmp_path, cyrus_user, processed_folder="INBOX.Lưu trữ.Bài đã nhận")
    cyrus_user.deliver(fixture("tin_ok.eml"))
    assert main(["--config", str(config), "ingest", "--once"]) == 0
    assert cyrus_user.status("INBOX.Lưu trữ.Bài đã nhận")["messages"] == 1
    assert "INBOX.INBOX.Lưu trữ.Bài đã nhận" not in cyrus_user.folders()


@pytest.mark.parametrize(
    ("server_user", "refused", "under_prefix"),
    [
        # "%" is a LIST wildcard: Cyrus refuses it in a name ("Invalid mailbox name"), under the prefix too.
        ("cyrus_user", "Đã%xử lý", UNDER_PREFIX),
        # Dovecot (no prefix) refuses a name that begins with "~"; the same rule, on the other server.
        ("mail_user", "~Đã xử lý", PROCESSED),
    ],
    ids=["cyrus", "dovecot"],
)
def test_a_refused_folder_is_a_folder_error_and_loses_nothing(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    request: pytest.FixtureRequest,
    server_user: str,
    refused: str,
    under_prefix: str,
) -> None:
    user: MailUser = request.getfixturevalue(server_user)
    monkeypatch.setenv("TEST_IMAP_PW", user.password)
    config = imap_settings(tmp_path, user, processed_folder=refused)
    user.deliver(fixture("tin_ok.eml"))
    capsys.readouterr()
    assert main(["--config", str(config), "ingest", "--once"]) == EXIT_FOLDER == 7
    err = capsys.readouterr().err
    assert f"máy chủ thư không cho tạo thư mục {refused!r}" in err
    assert "refuses to create the processed folder" in err and repr(refused) in err
    if under_prefix != PROCESSED:  # tried under the prefix as well, before giving up
        assert repr(f"INBOX.{refused}") in err
    assert "cannot connect" not in err and "login failed" not in err
    # Stored and processed before the acknowledgement failed; the mail stays in INBOX.
    assert [m["status"] for m in cli_json(config, "inbox", "list", capsys=capsys)] == ["accepted"]
    assert user.status()["messages"] == 1
    # Once the setting is fixed, the same mail is moved, and nothing is taken twice.
    config = imap_settings(tmp_path, user)
    assert main(["--config", str(config), "ingest", "--once"]) == 0
    assert user.status()["messages"] == 0 and user.status(under_prefix)["messages"] == 1
    assert len(cli_json(config, "inbox", "list", capsys=capsys)) == 1
    assert len(cli_json(config, "drafts", "list", capsys=capsys)) == 1
    assert len(cli_json(config, "outbox", "list", capsys=capsys)) == 1  # one receipt


def test_no_right_to_insert_into_the_folder_is_a_folder_error_and_loses_nothing(
    tmp_path: Path,
    cyrus_server: Cyrus,
    cyrus_user: MailUser,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setenv("TEST_IMAP_PW", cyrus_user.password)
    config = imap_settings(tmp_path, cyrus_user)
    client = cyrus_user.imap()
    client.create_folder(UNDER_PREFIX)
    client.logout()
    # The owner keeps look and read on the folder, not insert ("i"): MOVE into it is refused.
    cyrus_server.setacl(f"user.{cyrus_user.address}.{PROCESSED}", cyrus_user.address, "lr")
    cyrus_user.deliver(fixture("tin_ok.eml"))
    capsys.readouterr()
    assert main(["--config", str(config), "ingest", "--once"]) == EXIT_FOLDER
    err = capsys.readouterr().err
    assert f"máy chủ thư không cho chuyển thư vào thư mục {UNDER_PREFIX!r}" in err and "Permission denied" in err
    assert [m["status"] for m in cli_json(config, "inbox", "list", capsys=capsys)] == ["accepted"]
    assert cyrus_user.status()["messages"] == 1 and cyrus_user.status(UNDER_PREFIX)["messages"] == 0
    cyrus_server.setacl(f"user.{cyrus_user.address}.{PROCESSED}", cyrus_user.address, "lrswipkxtecdan")
    assert main(["--config", str(config), "ingest", "--once"]) == 0
    assert cyrus_user.status()["messages"] == 0 and cyrus_user.status(UNDER_PREFIX)["messages"] == 1
    assert len(cli_json(config, "drafts", "list", capsys=capsys)) == 1


def test_a_missing_watched_folder_is_a_folder_error_and_a_wrong_password_is_not(
    tmp_path: Path, cyrus_user: MailUser, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("TEST_IMAP_PW", cyrus_user.password)
    config = imap_settings(tmp_path, cyrus_user, folder="INBOX.Không có")
    capsys.readouterr()
    assert main(["--config", str(config), "ingest", "--once"]) == EXIT_FOLDER
    assert "cannot open folder 'INBOX.Không có'" in capsys.readouterr().err
    monkeypatch.setenv("TEST_IMAP_PW", "wrong")
    assert main(["--config", str(imap_settings(tmp_path, cyrus_user)), "ingest", "--once"]) == EXIT_MAILBOX
    assert "login failed" in capsys.readouterr().err


@pytest.fixture
def cyrus_worker(
    tmp_path: Path, cyrus_user: MailUser, monkeypatch: pytest.MonkeyPatch
) -> Iterator[tuple[Path, MailUser, Any]]:
    """A worker that sweeps on its own only once an hour: within HANG_SECONDS only IDLE can wake it."""
    monkeypatch.setenv("TEST_IMAP_PW", cyrus_user.password)
    config = imap_settings(tmp_path, cyrus_user, poll_seconds=3600, idle_renew_seconds=3600)
    settings, engine = open_app(config)
    stop = threading.Event()
    thread = threading.Thread(target=run_worker, args=(settings, engine), kwargs={"stop": stop}, daemon=True)
    thread.start()
    yield config, cyrus_user, engine
    stop.set()
    thread.join(timeout=HANG_SECONDS)
    assert not thread.is_alive()


def test_idle_wakes_the_worker(cyrus_worker: tuple[Path, MailUser, Any]) -> None:
    _config, user, engine = cyrus_worker
    user.deliver(fixture("tin_ok.eml"))
    wait_for_drafts(engine, 1)
    user.deliver(fixture("two_documents.eml"))  # the worker is back in IDLE, or about to look first
    assert len(wait_for_drafts(engine, 3)) == 3
    assert user.status(UNDER_PREFIX)["messages"] >= 1


def test_worker_survives_a_server_restart(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    with cyrus() as server:
        user = new_mail_user(server)
        monkeypatch.setenv("TEST_IMAP_PW", user.password)
        settings, engine = open_app(imap_settings(tmp_path, user, poll_seconds=2))
        stop = threading.Event()
        thread = threading.Thread(target=run_worker, args=(settings, engine), kwargs={"stop": stop}, daemon=True)
        thread.start()
        try:
            user.deliver(fixture("tin_ok.eml"))
            wait_for_drafts(engine, 1)
            server.restart()  # the connection drops mid-IDLE
            user.deliver(fixture("two_documents.eml"))
            assert len(wait_for_drafts(engine, 3)) == 3
        finally:
            stop.set()
            thread.join(timeout=HANG_SECONDS)
        assert not thread.is_alive()
        assert user.status()["messages"] == 0


@pytest.mark.parametrize(
    ("suppressed", "left_in_inbox"),
    [("MOVE", 0), ("MOVE UIDPLUS", 1)],
    ids=["copy-expunge-with-uidplus", "keyword-only"],
)
def test_servers_without_move(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    suppressed: str,
    left_in_inbox: int,
) -> None:
    with cyrus(extra_conf=f"suppress_capabilities: {suppressed}\n") as server:
        user = new_mail_user(server)
        monkeypatch.setenv("TEST_IMAP_PW", user.password)
        config = imap_settings(tmp_path, user)
        client = user.imap()
        caps = client.capabilities()
        client.logout()
        assert b"MOVE" not in caps and (b"UIDPLUS" in caps) == (left_in_inbox == 0)
        user.deliver(fixture("tin_ok.eml"))
        user.deliver(fixture("not_a_submission.eml"))
        assert main(["--config", str(config), "ingest", "--once"]) == 0
        assert main(["--config", str(config), "ingest", "--once"]) == 0
        inbox = cli_json(config, "inbox", "list", capsys=capsys)
        assert sorted(m["status"] for m in inbox) == ["accepted", "ignored"]
        assert len(cli_json(config, "drafts", "list", capsys=capsys)) == 1
        # Only the submission is acknowledged; a plain EXPUNGE would also have removed others' mail.
        assert user.status()["messages"] == 1 + left_in_inbox
        if left_in_inbox == 0:
            assert user.status(UNDER_PREFIX)["messages"] == 1
        else:
            assert UNDER_PREFIX not in user.folders()
            client = user.imap()
            client.select_folder("INBOX", readonly=True)
            assert len(client.search(["KEYWORD", "$ToasoanStored"])) == 1
            client.logout()


def test_the_shared_server_is_cyrus(cyrus_server: Cyrus) -> None:
    client = new_mail_user(cyrus_server).imap()
    try:
        assert b"Cyrus IMAP 3." in client.welcome
    finally:
        client.logout()
