"""The loopback mail servers behave like the real ones the worker will meet (tests/servers.py)."""

from __future__ import annotations

import email
import email.policy
import smtplib
import socket
import ssl
import time
from email.message import EmailMessage
from pathlib import Path

import pytest
from imapclient import IMAPClient
from imapclient.exceptions import LoginError

from tests import servers

pytestmark = pytest.mark.no_database  # the PostgreSQL pass of make test leaves it out

PROCESSED = "Đã xử lý"


def vn_message(subject: str = "BÀI CỘNG TÁC: Hội nghị chi bộ", sender: str = "chibo1@example.org") -> bytes:
    msg = EmailMessage()
    msg["From"] = f"Nguyễn Văn A <{sender}>"
    msg["To"] = "toasoan@example.com"
    msg["Subject"] = subject
    msg["Message-ID"] = email.utils.make_msgid(domain="example.org")
    msg.set_content("Kính gửi Ban Biên tập, xin gửi bài viết.")
    return msg.as_bytes(policy=email.policy.SMTP)


def subjects(client: IMAPClient, folder: str = "INBOX") -> list[str]:
    client.select_folder(folder, readonly=True)
    uids = client.search(["ALL"])  # a UID list: imapclient 4.x breaks on "1:*" strings
    fetched = client.fetch(uids, ["BODY.PEEK[]"])
    return [
        str(email.message_from_bytes(fetched[uid][b"BODY[]"], policy=email.policy.default)["Subject"]) for uid in uids
    ]


def refused(port: int) -> bool:
    try:
        with socket.create_connection((servers.HOST, port), timeout=1):
            return False
    except ConnectionRefusedError:
        return True


# ------------------------------------------------------------------------------------------------ IMAP


@pytest.mark.parametrize("security", ["none", "starttls", "tls"])
def test_imap_login_in_each_security_mode(mail_user: servers.MailUser, security: servers.Security) -> None:
    client = mail_user.imap(security)  # TLS modes verify the server against mail_user.cert
    try:
        assert isinstance(client.socket(), ssl.SSLSocket) is (security != "none")
        caps = set(client.capabilities())
        assert {b"IDLE", b"MOVE", b"UIDPLUS", b"CONDSTORE"} <= caps
        assert client.select_folder("INBOX")[b"EXISTS"] == 0
    finally:
        client.logout()


def test_plain_imapclient_connection_as_the_worker_makes_it(mail_user: servers.MailUser) -> None:
    with IMAPClient(mail_user.host, port=mail_user.port, ssl=False, timeout=10) as client:
        client.login(mail_user.address, mail_user.password)
        assert client.folder_exists("INBOX")


def test_wrong_password_is_refused(mail_user: servers.MailUser) -> None:
    with (
        IMAPClient(mail_user.host, port=mail_user.port, ssl=False, timeout=10) as client,
        pytest.raises(LoginError, match="AUTHENTICATIONFAILED"),
    ):
        client.login(mail_user.address, mail_user.password + "x")


def test_users_are_isolated_and_added_live(dovecot_server: servers.Dovecot) -> None:
    alice, alice_pw = dovecot_server.new_user()
    bob, _ = dovecot_server.new_user()
    assert alice != bob
    dovecot_server.deliver(alice, vn_message())
    assert dovecot_server.mailbox_status(alice)["messages"] == 1
    assert dovecot_server.mailbox_status(bob)["messages"] == 0
    # add_user takes effect without a restart (Dovecot re-reads the passwd-file).
    dovecot_server.add_user("late-" + alice, alice_pw)
    with IMAPClient(dovecot_server.host, port=dovecot_server.imap, ssl=False, timeout=10) as client:
        client.login("late-" + alice, alice_pw)


def test_append_returns_uids_and_status_counts(mail_user: servers.MailUser) -> None:
    server = mail_user.server
    first = server.append(mail_user.address, mail_user.password, vn_message("một"))
    second = server.append(mail_user.address, mail_user.password, vn_message("hai"))
    assert (first, second) == (1, 2)
    status = server.mailbox_status(mail_user.address)
    assert status["messages"] == 2
    assert status["unseen"] == 2
    assert status["uidnext"] == 3
    assert status["uidvalidity"] > 0


def test_lmtp_refuses_an_unknown_user(dovecot_server: servers.Dovecot) -> None:
    with pytest.raises(smtplib.SMTPRecipientsRefused):
        dovecot_server.deliver("nobody-here@example.com", vn_message())


def test_processed_folder_with_vietnamese_name(mail_user: servers.MailUser) -> None:
    mail_user.deliver(vn_message())
    client = mail_user.imap()
    try:
        client.create_folder(PROCESSED)  # imapclient sends it as modified UTF-7
        client.select_folder("INBOX")
        uids = client.search(["ALL"])
        assert len(uids) == 1
        client.move(uids, PROCESSED)
        assert PROCESSED in [name for _flags, _sep, name in client.list_folders()]
        assert subjects(client, PROCESSED) == ["BÀI CỘNG TÁC: Hội nghị chi bộ"]
    finally:
        client.logout()
    assert sorted(mail_user.folders()) == sorted(["INBOX", PROCESSED])
    assert mail_user.status(PROCESSED)["messages"] == 1
    assert mail_user.status()["messages"] == 0


# ------------------------------------------------------------------------------------------------ SMTP hop


def test_bridge_delivery_appears_in_imap_and_wakes_idle(mail_user: servers.MailUser) -> None:
    client = mail_user.imap()
    try:
        client.select_folder("INBOX")
        client.idle()
        # smtplib -> aiosmtpd bridge -> Dovecot LMTP -> Maildir -> IDLE (Dovecot batches for ~0.5 s).
        mail_user.deliver(vn_message())
        events: list[tuple[object, ...]] = []
        deadline = time.monotonic() + 120.0  # ends at the event; the deadline only catches a hang
        while not any(b"EXISTS" in event for event in events) and time.monotonic() < deadline:
            events += client.idle_check(timeout=max(0.1, deadline - time.monotonic()))
        client.idle_done()
        assert (1, b"EXISTS") in events
        uids = client.search(["ALL"])
        raw = client.fetch(uids, ["BODY.PEEK[]"])[uids[0]][b"BODY[]"]
        flags = client.get_flags(uids)[uids[0]]
    finally:
        client.logout()
    parsed = email.message_from_bytes(raw, policy=email.policy.default)
    assert parsed["Subject"] == "BÀI CỘNG TÁC: Hội nghị chi bộ"
    assert parsed["Return-Path"] == "<chibo1@example.org>"  # envelope sender taken from From:
    assert any("toasoan test bridge" in r for r in parsed.get_all("Received"))
    assert b"\\Seen" not in flags  # BODY.PEEK never marks the message read


def test_bridge_answers_550_for_an_unknown_recipient(lmtp_bridge: servers.LmtpBridge) -> None:
    with pytest.raises(smtplib.SMTPDataError) as info:
        lmtp_bridge.send(vn_message(), "chibo1@example.org", "nobody-here@example.com")
    assert info.value.smtp_code == 550


def test_submission_with_auth_relays_into_the_mailbox(mail_user: servers.MailUser) -> None:
    server = mail_user.server
    with smtplib.SMTP(server.host, server.submission, timeout=10) as smtp:
        smtp.starttls(context=servers.client_tls_context(server.cert))
        smtp.login(mail_user.address, mail_user.password)
        smtp.sendmail(mail_user.address, [mail_user.address], vn_message(sender=mail_user.address))
    assert mail_user.status()["messages"] == 1


# ------------------------------------------------------------------------------------------------ lifecycle


def test_restart_keeps_ports_and_mail(dovecot_private: servers.Dovecot) -> None:
    user, password = dovecot_private.new_user()
    dovecot_private.deliver(user, vn_message())
    before = dovecot_private.mailbox_status(user)
    ports = (dovecot_private.imap, dovecot_private.imaps, dovecot_private.lmtp, dovecot_private.submission)
    old_pid = dovecot_private.pid
    dovecot_private.restart()
    assert not servers.pid_alive(old_pid)
    assert dovecot_private.pid != old_pid
    assert (dovecot_private.imap, dovecot_private.imaps, dovecot_private.lmtp, dovecot_private.submission) == ports
    assert dovecot_private.mailbox_status(user) == before
    with IMAPClient(dovecot_private.host, port=dovecot_private.imap, ssl=False, timeout=10) as client:
        client.login(user, password)
        assert subjects(client) == ["BÀI CỘNG TÁC: Hội nghị chi bộ"]


def test_reset_mailbox_changes_uidvalidity(mail_user: servers.MailUser) -> None:
    # Safe on the shared server: only this test's fresh user is reset.
    mail_user.deliver(vn_message())
    before = mail_user.status()
    mail_user.server.reset_mailbox(mail_user.address)  # within the same second as the creation
    after = mail_user.status()
    assert after["uidvalidity"] != before["uidvalidity"]
    assert (after["messages"], after["uidnext"]) == (0, 1)
    mail_user.deliver(vn_message())
    with mail_user.imap() as client:
        assert client.select_folder("INBOX")[b"UIDVALIDITY"] == after["uidvalidity"]
        assert client.search(["ALL"]) == [1]  # UIDs start again from 1 under the new UIDVALIDITY


def test_stop_leaves_no_process_port_or_directory() -> None:
    with servers.dovecot() as server, servers.lmtp_bridge(server) as bridge:
        user = servers.new_mail_user(server, bridge)
        forgotten = user.imap()  # a client that never logs out must not keep the server alive
        forgotten.select_folder("INBOX")
        forgotten.idle()
        master = server.pid
        children = [pid for pid, _started in servers._children(master)]
        assert len(children) >= 3  # anvil, log, config, imap...: they must go too
        ports = (server.imap, server.imaps, server.lmtp, server.submission)
        directory = Path(server.dir)
        assert oct(directory.stat().st_mode & 0o777) == "0o755"  # Dovecot's auth must traverse it
        server.stop()
        server.stop()  # idempotent
        assert not server.running
        assert not servers.pid_alive(master)
        assert [pid for pid in children if servers.pid_alive(pid)] == []
        assert all(refused(port) for port in ports)
        # The bridge is still up and says "try again later", as an MTA does while the mailbox is down.
        with pytest.raises(smtplib.SMTPDataError) as info:
            user.deliver(vn_message())
        assert info.value.smtp_code == 451
    assert not directory.exists()


# ----------------------------------------------------------------------------------------------- Cyrus


@pytest.mark.parametrize("security", ["none", "starttls", "tls"])
def test_cyrus_login_in_each_security_mode(cyrus_user: servers.MailUser, security: servers.Security) -> None:
    client = cyrus_user.imap(security)
    try:
        assert isinstance(client.socket(), ssl.SSLSocket) is (security != "none")
        assert {b"IDLE", b"MOVE", b"UIDPLUS", b"NAMESPACE"} <= set(client.capabilities())
        assert client.namespace()[0] == (("INBOX.", "."),)  # Debian's default layout
        assert client.select_folder("INBOX")[b"EXISTS"] == 0
    finally:
        client.logout()


def test_cyrus_refuses_a_wrong_password_and_delivers_over_lmtp(cyrus_user: servers.MailUser) -> None:
    with (
        IMAPClient(cyrus_user.host, port=cyrus_user.port, ssl=False, timeout=10) as client,
        pytest.raises(LoginError),
    ):
        client.login(cyrus_user.address, cyrus_user.password + "x")
    cyrus_user.deliver(vn_message())
    assert cyrus_user.status()["messages"] == 1
    client = cyrus_user.imap()
    try:
        assert subjects(client) == ["BÀI CỘNG TÁC: Hội nghị chi bộ"]
    finally:
        client.logout()


def test_cyrus_idle_hears_lmtp_delivery(cyrus_user: servers.MailUser) -> None:
    client = cyrus_user.imap()
    try:
        client.select_folder("INBOX")
        client.idle()
        cyrus_user.deliver(vn_message())
        end = time.monotonic() + 60  # with idled it comes at once; without, after a 60 s poll
        responses: list[object] = []
        while not responses and time.monotonic() < end:
            responses = client.idle_check(timeout=1)
        client.idle_done()
        assert (1, b"EXISTS") in responses
    finally:
        client.logout()


def test_cyrus_stop_leaves_no_process_and_spares_another_cyrus() -> None:
    with servers.cyrus() as other, servers.cyrus() as server:
        user = servers.new_mail_user(server)
        forgotten = user.imap()  # a client that never logs out must not keep the server alive
        forgotten.select_folder("INBOX")
        forgotten.idle()
        master = server.pid
        children = [pid for pid, _started in servers._children(master)]
        assert len(children) >= 2  # idled, imapd
        directory = Path(server.dir)
        server.stop()
        server.stop()  # idempotent
        assert not server.running and not servers.pid_alive(master)
        assert [pid for pid in children if servers.pid_alive(pid)] == []
        assert all(refused(port) for port in (server.imap, server.imaps, server.lmtp))
        # Cyrus's master stops with kill(0, SIGTERM): in a shared process group it took the other one too.
        assert other.running
        servers.new_mail_user(other).imap().logout()
    assert not directory.exists()


def test_missing_cyrus_imapd_is_an_error_that_says_how_to_install(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    if Path("/usr/lib/cyrus/bin/imapd").exists():
        pytest.skip("cyrus-imapd is installed as a package here: nothing is missing")
    monkeypatch.setenv("TOASOAN_CYRUS_IMAPD_DIR", str(tmp_path))  # where no imapd was unpacked
    with pytest.raises(RuntimeError, match=r"system-deps\.sh"), servers.cyrus():
        pass


def test_missing_dovecot_is_an_error_that_says_how_to_install(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setattr(servers, "_SBIN_PATH", str(tmp_path))  # a PATH where dovecot is not found
    with pytest.raises(RuntimeError, match="make test"), servers.dovecot():
        pass


# ------------------------------------------------------------------------------------------------ SMTP sink


def outgoing(sender: str = "toasoan@example.com") -> EmailMessage:
    msg = EmailMessage()
    msg["From"] = f"Ban Biên tập <{sender}>"
    msg["To"] = "chibo1@example.org"
    msg["Subject"] = "Đã nhận bài"
    msg.set_content("Mã theo dõi: TS-0001")
    return msg


SECURED = [
    {"security": "none", "username": "app", "password": "s3cret-pw"},
    {"security": "starttls", "username": "app", "password": "s3cret-pw"},
    {"security": "tls", "username": "app", "password": "s3cret-pw"},
]


@pytest.mark.parametrize("smtp_sink", SECURED, indirect=True, ids=lambda o: o["security"])
def test_sink_receives_with_auth_in_each_security_mode(smtp_sink: servers.SmtpSink) -> None:
    with smtp_sink.client() as smtp:  # TLS verified against smtp_sink.cert
        smtp.send_message(outgoing(), to_addrs=["chibo1@example.org", "bbt@example.com"])
    [message] = smtp_sink.wait_for(1)
    assert message.mail_from == "toasoan@example.com"
    assert message.rcpt_tos == ["chibo1@example.org", "bbt@example.com"]
    assert email.message_from_bytes(message.raw, policy=email.policy.default)["Subject"] == "Đã nhận bài"
    assert smtp_sink.logins == ["app"]


@pytest.mark.parametrize("smtp_sink", SECURED[1:2], indirect=True, ids=["starttls"])
def test_starttls_sink_refuses_mail_before_starttls(smtp_sink: servers.SmtpSink) -> None:
    with smtplib.SMTP(smtp_sink.host, smtp_sink.port, timeout=10) as smtp:
        code, _ = smtp.mail("toasoan@example.com")
    assert code == 530
    assert smtp_sink.messages == []


@pytest.mark.parametrize("smtp_sink", SECURED[2:3], indirect=True, ids=["tls"])
def test_tls_sink_requires_auth_and_refuses_a_wrong_password(smtp_sink: servers.SmtpSink) -> None:
    ctx = servers.client_tls_context(smtp_sink.cert)
    with smtplib.SMTP_SSL(smtp_sink.host, smtp_sink.port, timeout=10, context=ctx) as smtp:
        smtp.ehlo()
        assert smtp.mail("toasoan@example.com")[0] == 530  # AUTH required
        with pytest.raises(smtplib.SMTPAuthenticationError) as info:
            smtp.login("app", "wrong")
    assert info.value.smtp_code == 535
    assert smtp_sink.logins == []


def test_sink_goes_down_and_comes_back_on_the_same_port(smtp_sink: servers.SmtpSink) -> None:
    port = smtp_sink.port
    with smtp_sink.client() as smtp:
        smtp.send_message(outgoing())
    smtp_sink.stop()
    with pytest.raises(ConnectionRefusedError):
        smtplib.SMTP(smtp_sink.host, port, timeout=5)
    smtp_sink.start()
    assert smtp_sink.port == port
    with smtp_sink.client() as smtp:
        smtp.send_message(outgoing())
    assert len(smtp_sink.wait_for(2)) == 2


def test_soffice_path_points_to_an_executable() -> None:
    path = servers.soffice_path()
    assert path is not None, "LibreOffice is missing: run make test (it installs libreoffice-writer-nogui)"
    assert Path(path).is_file()
