"""Intake from a real Dovecot, with mail delivered through a real SMTP hop (aiosmtpd -> LMTP)."""

from __future__ import annotations

import http.server
import json
import threading
import time
import urllib.parse
from collections.abc import Iterator
from pathlib import Path
from typing import Any, ClassVar

import pytest
from sqlmodel import select

from core.db import reading
from core.models import Draft
from ingest import sweep
from ingest.mailbox import ImapSession, open_mailbox
from ingest.models import InboundMessage
from ingest.service import Ingestor
from tests.appkit import open_app, write_settings
from tests.clijson import cli_json
from tests.servers import Dovecot, MailUser, lmtp_bridge, new_mail_user
from toasoan.cli import main
from toasoan.worker import run_once, run_worker

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "intake"
PROCESSED = "Đã xử lý"


def imap_settings(tmp_path: Path, user: MailUser, **mailbox: Any) -> Path:
    return write_settings(tmp_path, mailbox=user.mailbox_settings(**{"poll_seconds": 30, **mailbox}))


@pytest.fixture
def imap_office(tmp_path: Path, mail_user: MailUser, monkeypatch: pytest.MonkeyPatch) -> tuple[Path, MailUser]:
    monkeypatch.setenv("TEST_IMAP_PW", mail_user.password)
    return imap_settings(tmp_path, mail_user), mail_user


def fixture(name: str) -> bytes:
    return (FIXTURES / name).read_bytes()


def test_ingest_once_moves_submissions_and_leaves_other_mail(
    imap_office: tuple[Path, MailUser], capsys: pytest.CaptureFixture[str]
) -> None:
    config, user = imap_office
    user.deliver(fixture("tin_ok.eml"))
    user.deliver(fixture("not_a_submission.eml"))
    assert main(["--config", str(config), "ingest", "--once"]) == 0
    inbox = cli_json(config, "inbox", "list", capsys=capsys)
    assert sorted(m["status"] for m in inbox) == ["accepted", "ignored"]
    assert user.status()["messages"] == 1  # the invitation stays where it was
    assert user.status(PROCESSED)["messages"] == 1
    assert PROCESSED in user.folders()
    # BODY.PEEK: the meeting invitation is still unread for the people who read this mailbox.
    client = user.imap()
    client.select_folder("INBOX", readonly=True)
    assert client.search(["UNSEEN"]) == client.search(["ALL"])
    client.logout()


def test_seen_is_never_state(imap_office: tuple[Path, MailUser], capsys: pytest.CaptureFixture[str]) -> None:
    config, user = imap_office
    user.deliver(fixture("tin_ok.eml"))
    client = user.imap()
    client.select_folder("INBOX")
    client.add_flags(client.search(["ALL"]), [b"\\Seen"])  # somebody read it in webmail first
    client.logout()
    assert main(["--config", str(config), "ingest", "--once"]) == 0
    assert [m["status"] for m in cli_json(config, "inbox", "list", capsys=capsys)] == ["accepted"]


@pytest.mark.parametrize("security", ["tls", "starttls"])
def test_tls_transports(
    tmp_path: Path,
    mail_user: MailUser,
    monkeypatch: pytest.MonkeyPatch,
    security: str,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setenv("TEST_IMAP_PW", mail_user.password)
    port = mail_user.imaps_port if security == "tls" else mail_user.port
    config = imap_settings(tmp_path, mail_user, security=security, port=port, ca_file=mail_user.cert)
    mail_user.deliver(fixture("tin_ok.eml"))
    assert main(["--config", str(config), "ingest", "--once"]) == 0
    assert [m["status"] for m in cli_json(config, "inbox", "list", capsys=capsys)] == ["accepted"]


def test_unreachable_mailbox_and_wrong_password_fail_clearly(
    tmp_path: Path, mail_user: MailUser, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from tests.servers import free_port

    monkeypatch.setenv("TEST_IMAP_PW", "wrong")
    config = imap_settings(tmp_path, mail_user)
    capsys.readouterr()
    assert main(["--config", str(config), "ingest", "--once"]) == 3
    assert "login failed" in capsys.readouterr().err
    config = imap_settings(tmp_path, mail_user, port=free_port())
    assert main(["--config", str(config), "ingest", "--once"]) == 3
    assert "cannot connect" in capsys.readouterr().err


def test_crash_between_spool_and_commit_loses_nothing(
    imap_office: tuple[Path, MailUser], monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    config, user = imap_office
    user.deliver(fixture("tin_ok.eml"))
    settings, engine = open_app(config)
    real = sweep.transaction
    calls = {"n": 0}

    def crashing(engine: Any) -> Any:  # the first transaction is the batch commit: die right before it
        calls["n"] += 1
        if calls["n"] == 1:
            raise SystemExit("power cut")
        return real(engine)

    monkeypatch.setattr(sweep, "transaction", crashing)
    with pytest.raises(SystemExit):
        run_once(settings, engine)
    assert list((config.parent / "var" / "storage" / "spool").rglob("*.eml"))  # spooled, not committed
    with reading(engine) as s:
        assert s.exec(select(InboundMessage)).all() == []
    assert user.status()["messages"] == 1  # not acknowledged: still in INBOX
    monkeypatch.setattr(sweep, "transaction", real)
    run_once(settings, engine)
    inbox = cli_json(config, "inbox", "list", capsys=capsys)
    assert [m["status"] for m in inbox] == ["accepted"]
    assert len(cli_json(config, "drafts", "list", capsys=capsys)) == 1
    assert user.status()["messages"] == 0 and user.status(PROCESSED)["messages"] == 1


def test_crash_between_commit_and_acknowledge_duplicates_nothing(
    imap_office: tuple[Path, MailUser], monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    config, user = imap_office
    user.deliver(fixture("tin_ok.eml"))
    settings, engine = open_app(config)

    def dying_ack(self: ImapSession, refs: Any) -> None:
        raise SystemExit("killed before MOVE")

    real_ack = ImapSession.ack
    monkeypatch.setattr(ImapSession, "ack", dying_ack)
    with pytest.raises(SystemExit):
        run_once(settings, engine)
    assert user.status()["messages"] == 1  # committed but not moved
    monkeypatch.setattr(ImapSession, "ack", real_ack)
    run_once(settings, engine)
    run_once(settings, engine)
    assert len(cli_json(config, "inbox", "list", capsys=capsys)) == 1
    assert len(cli_json(config, "drafts", "list", capsys=capsys)) == 1
    assert len(cli_json(config, "outbox", "list", capsys=capsys)) == 1  # one receipt, not two
    assert user.status()["messages"] == 0 and user.status(PROCESSED)["messages"] == 1


def test_uidvalidity_change_rescans_without_duplicates(
    tmp_path: Path, dovecot_private: Dovecot, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    user = new_mail_user(dovecot_private)
    monkeypatch.setenv("TEST_IMAP_PW", user.password)
    config = imap_settings(tmp_path, user, processed_folder="")  # leave mail in place
    settings, engine = open_app(config)
    user.deliver(fixture("tin_ok.eml"))
    run_once(settings, engine)
    before = user.status()["uidvalidity"]
    dovecot_private.reset_mailbox(user.address)  # the folder is rebuilt: new UIDVALIDITY, UIDs restart
    user.deliver(fixture("tin_ok.eml"))  # the same email again (a restore from backup)
    user.deliver(fixture("two_documents.eml"))  # and a new one
    assert user.status()["uidvalidity"] != before
    run_once(settings, engine)
    inbox = cli_json(config, "inbox", "list", capsys=capsys)
    assert len(inbox) == 2 and {m["status"] for m in inbox} == {"accepted"}
    assert len(cli_json(config, "drafts", "list", capsys=capsys)) == 3


@pytest.fixture
def worker(
    tmp_path: Path, mail_user: MailUser, monkeypatch: pytest.MonkeyPatch
) -> Iterator[tuple[Path, MailUser, Any]]:
    """A worker that sweeps on its own only once an hour: within HANG_SECONDS only IDLE can wake it."""
    monkeypatch.setenv("TEST_IMAP_PW", mail_user.password)
    config, user = imap_settings(tmp_path, mail_user, poll_seconds=3600, idle_renew_seconds=3600), mail_user
    settings, engine = open_app(config)
    stop = threading.Event()
    thread = threading.Thread(target=run_worker, args=(settings, engine), kwargs={"stop": stop}, daemon=True)
    thread.start()
    yield config, user, engine
    stop.set()
    thread.join(timeout=HANG_SECONDS)
    assert not thread.is_alive()


# Waits end on the event (a draft row); the deadline only turns a hang into a failure, far beyond
# any loaded machine's latency and far below the worker's hourly sweep (the timing goals are in bench/).
HANG_SECONDS = 120.0


def wait_for_drafts(engine: Any, n: int, timeout: float = HANG_SECONDS) -> list[Draft]:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        with reading(engine) as s:
            drafts = list(s.exec(select(Draft)).all())
        if len(drafts) >= n:
            return drafts
        time.sleep(0.05)
    raise AssertionError(f"{n} draft(s) expected; none came in {timeout:g} s (a hang)")


def test_idle_wakes_the_worker(worker: tuple[Path, MailUser, Any]) -> None:
    _config, user, engine = worker
    user.deliver(fixture("tin_ok.eml"))
    wait_for_drafts(engine, 1)
    user.deliver(fixture("two_documents.eml"))  # the worker is back in IDLE, or about to look first
    assert len(wait_for_drafts(engine, 3)) == 3


def test_worker_survives_a_server_restart(
    tmp_path: Path, dovecot_private: Dovecot, monkeypatch: pytest.MonkeyPatch
) -> None:
    user = new_mail_user(dovecot_private)
    monkeypatch.setenv("TEST_IMAP_PW", user.password)
    settings, engine = open_app(imap_settings(tmp_path, user, poll_seconds=2))
    stop = threading.Event()
    thread = threading.Thread(target=run_worker, args=(settings, engine), kwargs={"stop": stop}, daemon=True)
    thread.start()
    try:
        user.deliver(fixture("tin_ok.eml"))
        wait_for_drafts(engine, 1)
        dovecot_private.restart()  # the connection drops mid-IDLE
        with lmtp_bridge(dovecot_private) as bridge:
            bridge.send(fixture("two_documents.eml"), "lan.nguyen@vanphong.tinhuy.example", user.address)
        assert len(wait_for_drafts(engine, 3)) == 3
    finally:
        stop.set()
        thread.join(timeout=HANG_SECONDS)
    assert user.status()["messages"] == 0


def test_backlog_in_batches(imap_office: tuple[Path, MailUser], capsys: pytest.CaptureFixture[str]) -> None:
    from tests.fixtures.intake.build import submission

    config, user = imap_office
    for n in range(30):
        user.server.append(user.address, user.password, submission(n))
    settings, engine = open_app(config)
    mbox = open_mailbox(settings)
    try:
        report = Ingestor(settings, engine).sweep(mbox, full=True)
    finally:
        mbox.close()
    assert (report.stored, report.processed, report.acked) == (30, 30, 30)
    assert len(cli_json(config, "drafts", "list", capsys=capsys)) == 30


# What Dovecot 2.3 announces after login, minus the extensions a server may lack.
_CAPS = (
    "IMAP4rev1 SASL-IR LOGIN-REFERRALS ID ENABLE IDLE SORT SORT=DISPLAY THREAD=REFERENCES THREAD=REFS "
    "THREAD=ORDEREDSUBJECT MULTIAPPEND URL-PARTIAL CATENATE UNSELECT CHILDREN NAMESPACE {uidplus}"
    "LIST-EXTENDED I18NLEVEL=1 CONDSTORE QRESYNC ESEARCH ESORT SEARCHRES WITHIN CONTEXT=SEARCH LIST-STATUS "
    "BINARY SPECIAL-USE"
)


@pytest.mark.parametrize(
    ("uidplus", "left_in_inbox"),
    [(True, 0), (False, 1)],
    ids=["copy-expunge-with-uidplus", "keyword-only"],
)
def test_servers_without_move(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    uidplus: bool,
    left_in_inbox: int,
) -> None:
    from tests.servers import dovecot

    caps = _CAPS.format(uidplus="UIDPLUS " if uidplus else "")
    with dovecot(extra_conf=f"\nprotocol imap {{\n  imap_capability = {caps}\n}}\n") as server:
        user = new_mail_user(server)
        monkeypatch.setenv("TEST_IMAP_PW", user.password)
        config = imap_settings(tmp_path, user)
        client = user.imap()
        assert b"MOVE" not in client.capabilities()
        client.logout()
        user.deliver(fixture("tin_ok.eml"))
        user.deliver(fixture("not_a_submission.eml"))
        assert main(["--config", str(config), "ingest", "--once"]) == 0
        assert main(["--config", str(config), "ingest", "--once"]) == 0
        inbox = cli_json(config, "inbox", "list", capsys=capsys)
        assert sorted(m["status"] for m in inbox) == ["accepted", "ignored"]
        assert len(cli_json(config, "drafts", "list", capsys=capsys)) == 1
        # Only the submission is acknowledged; a plain EXPUNGE would also have removed others' mail.
        assert user.status()["messages"] == 1 + left_in_inbox
        if uidplus:
            assert user.status(PROCESSED)["messages"] == 1
        else:
            client = user.imap()
            client.select_folder("INBOX", readonly=True)
            assert len(client.search(["KEYWORD", "$ToasoanStored"])) == 1
            client.logout()


class _Introspection(http.server.BaseHTTPRequestHandler):
    """An OAuth2 provider's token introspection endpoint (RFC 7662): the part of Google or Microsoft
    that Dovecot asks whether a token is valid. The real providers cannot be reached from here."""

    tokens: ClassVar[dict[str, str]] = {}

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers.get("Content-Length", 0))).decode()
        token = urllib.parse.parse_qs(body).get("token", [""])[0]
        user = self.tokens.get(token)
        answer = {"active": True, "username": user} if user else {"active": False}
        data = json.dumps(answer).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *args: Any) -> None:
        pass


def test_xoauth2_login(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    from tests.servers import dovecot

    provider = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Introspection)
    threading.Thread(target=provider.serve_forever, daemon=True).start()
    oauth_conf = tmp_path / "oauth2.conf.ext"
    oauth_conf.write_text(
        f"introspection_mode = post\nintrospection_url = http://127.0.0.1:{provider.server_port}/introspect\n"
        "username_attribute = username\nactive_attribute = active\nactive_value = true\nforce_introspection = yes\n"
    )
    oauth_conf.chmod(0o644)
    tmp_path.chmod(0o755)
    extra = (
        "\nauth_mechanisms = plain login xoauth2 oauthbearer\n"
        f"passdb {{\n  driver = oauth2\n  mechanisms = xoauth2 oauthbearer\n  args = {oauth_conf}\n}}\n"
    )
    try:
        with dovecot(extra_conf=extra) as server:
            user = new_mail_user(server)
            _Introspection.tokens["ya29.token-cua-van-phong"] = user.address
            monkeypatch.setenv("TEST_IMAP_PW", "ya29.token-cua-van-phong")
            config = imap_settings(tmp_path, user, auth="xoauth2")
            user.deliver(fixture("tin_ok.eml"))
            assert main(["--config", str(config), "ingest", "--once"]) == 0
            assert [m["status"] for m in cli_json(config, "inbox", "list", capsys=capsys)] == ["accepted"]
            monkeypatch.setenv("TEST_IMAP_PW", "expired-token")
            capsys.readouterr()
            assert main(["--config", str(config), "ingest", "--once"]) == 3
            assert "login failed" in capsys.readouterr().err
    finally:
        provider.shutdown()
