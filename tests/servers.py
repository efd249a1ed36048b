"""Real mail servers on 127.0.0.1 for tests and benchmarks (no pytest imports here).

Dovecot (IMAP, IMAPS, LMTP, submission) runs as a foreground child (`dovecot -F`) with a generated
config, and so does Cyrus IMAP 3.6 (its `master`, with Debian's default folder layout); aiosmtpd
provides an SMTP sink (the app's outgoing mail) and an SMTP->LMTP bridge (how a contributor's mail
reaches the mailbox). Everything binds loopback on free ports, is stopped by the PID
its starter got, and lives in a temp dir that is removed afterwards. Recipes: research/infra.md §1, §2.
"""

from __future__ import annotations

import asyncio
import contextlib
import email.utils
import grp
import os
import pwd
import re
import secrets
import shutil
import signal
import smtplib
import socket
import ssl
import string
import subprocess
import tempfile
import threading
import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Generic, Literal, NamedTuple, TypeVar

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword
from imapclient import IMAPClient

HOST = "127.0.0.1"
MAIL_UID = 65534  # Dovecot refuses uid 0 for mail (hard-coded), so root runs store mail as nobody
DOMAIN = "example.com"
INSTALL_HINT = (
    "run `make test` (it installs dovecot-imapd dovecot-lmtpd dovecot-submissiond with apt-get), "
    "or: apt-get install -y dovecot-imapd dovecot-lmtpd dovecot-submissiond"
)
_SBIN_PATH = os.pathsep.join([os.environ.get("PATH", ""), "/usr/sbin", "/sbin", "/usr/bin"])


# --------------------------------------------------------------------------------------------- helpers


def free_port() -> int:
    """A port that was free on 127.0.0.1 a moment ago (servers retry if another process took it)."""
    with socket.socket() as s:
        s.bind((HOST, 0))
        return int(s.getsockname()[1])


def free_ports(n: int) -> list[int]:
    """`n` different ports free on 127.0.0.1 a moment ago: held open together while they are chosen,
    since one at a time the system may hand out the same port twice (Dovecot: "duplicate listener")."""
    sockets: list[socket.socket] = []
    try:
        for _ in range(n):
            s = socket.socket()
            sockets.append(s)
            s.bind((HOST, 0))
        return [int(s.getsockname()[1]) for s in sockets]
    finally:
        for s in sockets:
            s.close()


def wait_port(
    port: int, timeout: float = 10.0, proc: subprocess.Popen[Any] | None = None, connect: bool = True
) -> None:
    """Block until 127.0.0.1:port accepts connections (connect=False: until it listens, see `listening`);
    fail early if proc died."""
    end = time.monotonic() + timeout
    while not (_connects(port) if connect else listening(port)):
        if proc is not None and proc.poll() is not None:
            raise RuntimeError(f"server exited with code {proc.returncode} before port {port} was up")
        if time.monotonic() >= end:
            raise TimeoutError(f"nothing listening on {HOST}:{port} after {timeout} s")
        time.sleep(0.01)


def listening(port: int) -> bool:
    """True if a socket listens on 127.0.0.1:port, checked without connecting (Linux /proc/net/tcp).

    Connecting would make Dovecot spawn a login process mid-startup, and a server stopped while such
    a process still waits for its auth handshake takes 5 s longer to exit.
    """
    needle = f"0100007F:{port:04X}"
    try:
        table = Path("/proc/net/tcp").read_text()
    except OSError:
        return _connects(port)
    return any(f[1] == needle and f[3] == "0A" for f in (line.split() for line in table.splitlines()[1:]))


def _connects(port: int) -> bool:
    try:
        with socket.create_connection((HOST, port), timeout=0.2):
            return True
    except OSError:
        return False


def soffice_path() -> str | None:
    """Path of LibreOffice's soffice if installed (the Debian package puts it on PATH)."""
    for name in ("soffice", "libreoffice"):
        found = shutil.which(name)
        if found:
            return found
    fallback = Path("/usr/lib/libreoffice/program/soffice")
    return str(fallback) if fallback.exists() else None


def make_cert(directory: str | Path, name: str = "cert") -> tuple[str, str]:
    """Self-signed cert for localhost/127.0.0.1 (EC P-256: keygen takes ms, RSA 0.3 s). Returns (cert, key).

    The SAN makes it usable as a CA with hostname checking on, so clients need not disable verification.
    """
    cert, key = Path(directory, f"{name}.pem"), Path(directory, f"{name}.key")
    _run(
        [
            "openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1",
            "-nodes", "-days", "7", "-subj", "/CN=localhost",
            "-addext", "subjectAltName=DNS:localhost,IP:127.0.0.1",
            "-keyout", str(key), "-out", str(cert),
        ]
    )  # fmt: skip
    # Readable whatever the umask (Dovecot's unprivileged processes); harmless in a throwaway dir.
    key.chmod(0o644)
    cert.chmod(0o644)
    return str(cert), str(key)


def client_tls_context(cert: str) -> ssl.SSLContext:
    """A client context that trusts exactly the given test cert (with hostname checking for 127.0.0.1)."""
    return ssl.create_default_context(cafile=cert)


def crlf(raw: bytes) -> bytes:
    """Bare LF -> CRLF, as a real mail client sends it (aiosmtpd rejects bare-LF data as one long line)."""
    return re.sub(rb"(?<!\r)\n", b"\r\n", raw)


def _run(cmd: list[str], timeout: float = 30.0) -> str:
    try:
        done = subprocess.run(cmd, capture_output=True, timeout=timeout, check=False)
    except FileNotFoundError as exc:
        raise RuntimeError(f"{cmd[0]} is not installed: {INSTALL_HINT}") from exc
    if done.returncode != 0:
        err = done.stderr.decode("utf-8", "replace").strip()
        raise RuntimeError(f"{' '.join(cmd)} failed with code {done.returncode}: {err}")
    return done.stdout.decode("utf-8")


def _which(name: str) -> str | None:
    return shutil.which(name, path=_SBIN_PATH)


def _proc_start_time(pid: int) -> str | None:
    """Kernel start time of a process (identifies it across PID reuse); None if gone or a zombie."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    fields = stat[stat.rindex(")") + 2 :].split()  # the command name may contain spaces
    return None if fields[0] in ("Z", "X") else fields[19]


def _children(pid: int) -> list[tuple[int, str]]:
    """Direct children of pid as (pid, start time), read from /proc (Linux only; empty elsewhere)."""
    found = []
    for entry in Path("/proc").glob("[0-9]*"):
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        fields = stat[stat.rindex(")") + 2 :].split()
        if int(fields[1]) == pid and fields[0] not in ("Z", "X"):
            found.append((int(entry.name), fields[19]))
    return found


def pid_alive(pid: int) -> bool:
    """True if a live (non-zombie) process has this PID."""
    return _proc_start_time(pid) is not None if Path("/proc").is_dir() else _kill0(pid)


def _kill0(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _foreground_cmd(cmd: list[str]) -> list[str]:
    """Make the server die with the test process even if that is SIGKILLed (no orphaned daemons).

    PR_SET_PDEATHSIG fires when the forking *thread* exits, so only use it from the main thread.
    """
    setpriv = shutil.which("setpriv")
    if setpriv and threading.current_thread() is threading.main_thread():
        return [setpriv, "--pdeathsig", "TERM", *cmd]
    return cmd


def stop_child(proc: subprocess.Popen[Any], sig: int = signal.SIGTERM, timeout: float = 10.0) -> None:
    """Signal a child process by its PID and reap it; SIGKILL if it outlives `timeout`."""
    if proc.poll() is not None:
        return
    proc.send_signal(sig)
    try:
        proc.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


def _stop_process(proc: subprocess.Popen[Any], grace: float = 1.5) -> None:
    """SIGTERM by PID and wait; make sure the server's children are gone too.

    Dovecot's master exits ≈1.1 s after SIGTERM, but an imap process whose client keeps the
    connection open (a test that did not log out) may wait 10 s for it, holding the master or
    outliving it. After `grace` seconds whatever is left is SIGKILLed by PID (the mail is saved).
    """
    if proc.poll() is not None:
        return
    children = _children(proc.pid)
    proc.send_signal(signal.SIGTERM)
    end = time.monotonic() + grace
    try:
        proc.wait(timeout=grace)
    except subprocess.TimeoutExpired:
        _kill_all(_children(proc.pid))
        try:
            proc.wait(timeout=5.0)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
    while any(_proc_start_time(pid) == started for pid, started in children) and time.monotonic() < end:
        time.sleep(0.01)
    _kill_all(children)


def _kill_all(processes: list[tuple[int, str]]) -> None:
    """SIGKILL each process that is still the same one (not a reused PID); wait until they are gone."""
    left = [(pid, started) for pid, started in processes if _proc_start_time(pid) == started]
    for pid, _started in left:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)
    end = time.monotonic() + 5.0
    while any(_proc_start_time(pid) == started for pid, started in left) and time.monotonic() < end:
        time.sleep(0.005)


def _tail(path: Path, lines: int = 20) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return "(no log)"


# --------------------------------------------------------------------------------------------- Dovecot

_CONF = string.Template(
    """\
# Generated by tests/servers.py: a throwaway instance; nothing from /etc/dovecot is read.
instance_name = ${name}
base_dir = ${d}/run
state_dir = ${d}/state
protocols = imap lmtp submission
listen = 127.0.0.1
log_path = ${d}/dovecot.log
default_internal_user = ${internal_user}
default_internal_group = ${internal_group}
default_login_user = ${login_user}
first_valid_uid = ${first_valid_uid}
hostname = localhost
# No stats-writer connections: a process still waiting for the stats handshake when the server is
# stopped delays the shutdown by 5 s; tests do not need Dovecot's statistics.
stats_writer_socket_path =

ssl = yes
ssl_cert = <${cert}
ssl_key = <${key}
ssl_dh = <${dh}
disable_plaintext_auth = no
auth_mechanisms = plain login
# A wrong password is answered after ≈0.5 s (Dovecot's check interval) instead of the default 2 s.
auth_failure_delay = 0

passdb {
  driver = passwd-file
  args = scheme=PLAIN username_format=%u ${d}/users/%u
}
userdb {
  driver = passwd-file
  args = username_format=%u ${d}/users/%u
  default_fields = uid=${mail_uid} gid=${mail_gid} home=${d}/mail/%u
}
mail_location = maildir:~/Maildir
mail_temp_dir = ${d}/run
# Throwaway data: skip fsync so deliveries in benchmarks measure the worker, not the disk.
mail_fsync = never
namespace inbox {
  inbox = yes
  # "/" so that "Đã xử lý" and "Processed/2026" are plain names to the client (Maildir++ uses "." on disk).
  separator = /
  mailbox Sent {
    special_use = \\Sent
  }
  mailbox Trash {
    special_use = \\Trash
  }
}
protocol imap {
  mail_max_userip_connections = 50
}
# IDLE is announced from inotify; when the machine's inotify instances run out (128 per user, shared
# by every Dovecot the parallel tests start) Dovecot falls back to checking every 30 s: check each second.
mailbox_idle_check_interval = 1 secs
# No anvil penalty socket = no auth penalty: otherwise one wrong-password test delays the next login
# from 127.0.0.1 (every test's) by up to 15 s.
service anvil {
  unix_listener anvil-auth-penalty {
    mode = 0
  }
}
service imap-login {
  inet_listener imap {
    address = 127.0.0.1
    port = ${imap}
  }
  inet_listener imaps {
    address = 127.0.0.1
    port = ${imaps}
    ssl = yes
  }
}
service lmtp {
  inet_listener lmtp {
    address = 127.0.0.1
    port = ${lmtp}
  }
}
service submission-login {
  inet_listener submission {
    address = 127.0.0.1
    port = ${submission}
  }
}
# Submission only relays (STARTTLS + AUTH against the same users); point it at an SMTP server.
submission_relay_host = 127.0.0.1
submission_relay_port = ${relay}
submission_relay_trusted = yes
"""
)


# Appended when the tests do not run as root: no chroot (needs root) for the processes that use one.
_ROOTLESS = """
service anvil {
  chroot =
}
service imap-login {
  chroot =
}
service submission-login {
  chroot =
}
"""


def require_dovecot() -> str:
    """Path of the dovecot binary; a clear error (not a skip) when the packages are missing."""
    binary = _which("dovecot")
    missing = [p for p in ("imap", "lmtp", "submission") if not Path("/usr/lib/dovecot", p).exists()]
    if binary is None or (missing and Path("/usr/lib/dovecot").is_dir()):
        what = "dovecot" if binary is None else f"Dovecot's {', '.join(missing)} service"
        raise RuntimeError(f"{what} is not installed: {INSTALL_HINT}")
    if shutil.which("openssl") is None:
        raise RuntimeError("openssl is not installed (needed for the test certificates): apt-get install openssl")
    return binary


class _MailServer:
    """What Dovecot and Cyrus share: LMTP delivery, IMAP APPEND, and a foreground process stopped by
    its PID. The server classes give the ports, `_proc` and `_start`."""

    host: str
    imap: int
    lmtp: int
    _proc: subprocess.Popen[bytes] | None

    def _start(self) -> None:
        raise NotImplementedError

    # -- mail in

    def deliver(self, user: str, raw: bytes, mail_from: str = f"sender@{DOMAIN}") -> None:
        """Deliver over LMTP (trusted, as an MTA on the same host would be), one recipient per
        transaction (CPython's LMTP client misreads several)."""
        with smtplib.LMTP(self.host, self.lmtp, timeout=30) as lmtp:
            lmtp.sendmail(mail_from, [user], crlf(raw))

    def append(self, user: str, password: str, raw: bytes, folder: str = "INBOX") -> int:
        """IMAP APPEND (creating the folder if needed); returns the new message's UID (UIDPLUS)."""
        with IMAPClient(self.host, port=self.imap, ssl=False, timeout=30) as client:
            client.login(user, password)
            if folder != "INBOX" and not client.folder_exists(folder):
                client.create_folder(folder)
            response = client.append(folder, crlf(raw))
        match = re.search(rb"\[APPENDUID \d+ (\d+)\]", response)
        if match is None:
            raise RuntimeError(f"APPEND answered without APPENDUID: {response!r}")
        return int(match.group(1))

    # -- the process

    def stop(self) -> None:
        """SIGTERM by PID (the master stops its children), wait for them; idempotent."""
        if self._proc is not None:
            _stop_process(self._proc)
            self._proc = None

    def restart(self) -> None:
        """Stop, then start again with the same ports, config and mail."""
        self.stop()
        self._start()

    @property
    def running(self) -> bool:
        return self._proc is not None and self._proc.poll() is None


@dataclass
class Dovecot(_MailServer):
    """A running throwaway Dovecot instance (see `dovecot()`)."""

    dir: str
    pid: int
    conf: str
    imap: int
    imaps: int
    lmtp: int
    submission: int
    cert: str
    relay_port: int = 0  # submission relays here (nothing listens unless a bridge/sink is started on it)
    host: str = HOST
    _proc: subprocess.Popen[bytes] | None = field(default=None, repr=False)

    # -- users

    def add_user(self, user: str, password: str = "secret") -> None:
        """Add a login, usable at once on the running server (user: local@domain, ASCII).

        Changing an existing user's password takes up to 2 s: Dovecot re-reads a known passwd-file at
        most once a second and only when its mtime or size changed.
        """
        users = Path(self.dir, "users")
        known = (users / user).exists()
        if known:
            _next_second()  # a new mtime, whatever the previous write was
        _write_user(users, user, password)
        if known:
            _next_second()  # any re-read from now on happens in a later second than the write

    def new_user(self) -> tuple[str, str]:
        """A fresh user@example.com with a random password, for per-test isolation."""
        user = f"u{secrets.token_hex(6)}@{DOMAIN}"
        password = secrets.token_urlsafe(12)
        self.add_user(user, password)
        return user, password

    # -- assertions without an IMAP session (doveadm reads the mail store directly)

    def doveadm(self, *args: str) -> str:
        binary = _which("doveadm") or "doveadm"
        return _run([binary, "-c", self.conf, *args])

    def mailbox_status(self, user: str, folder: str = "INBOX") -> dict[str, int]:
        """messages, unseen, uidnext, uidvalidity, highestmodseq of a folder (UTF-8 name)."""
        keys = "messages unseen uidnext uidvalidity highestmodseq"
        header, values = self.doveadm("-f", "tab", "mailbox", "status", "-u", user, keys, folder).splitlines()[:2]
        row = dict(zip(header.split("\t"), values.split("\t"), strict=True))
        return {k: int(row[k]) for k in keys.split()}

    def list_folders(self, user: str) -> list[str]:
        """The user's folders, names decoded (doveadm prints UTF-8, not IMAP's modified UTF-7)."""
        out = self.doveadm("-f", "tab", "mailbox", "list", "-u", user)
        return [line for line in out.splitlines()[1:] if line]

    def maildir(self, user: str) -> Path:
        return Path(self.dir, "mail", user, "Maildir")

    def reset_mailbox(self, user: str) -> None:
        """Delete the user's mail so the next access recreates it with a new UIDVALIDITY (server running).

        Dovecot's `dovecot-uidvalidity*` files are kept: they make the next UIDVALIDITY strictly greater
        than the last one, even when the reset happens within the same second as the creation.
        """
        maildir = self.maildir(user)
        if not maildir.is_dir():
            return
        for entry in maildir.iterdir():
            if entry.name.startswith("dovecot-uidvalidity"):
                continue
            if entry.is_dir() and not entry.is_symlink():
                shutil.rmtree(entry)
            else:
                entry.unlink()

    # -- lifecycle

    def _start(self) -> None:
        out = open(Path(self.dir, "dovecot.stderr"), "ab")  # noqa: SIM115 - handed to the child
        try:
            self._proc = subprocess.Popen(
                _foreground_cmd([require_dovecot(), "-F", "-c", self.conf]),
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=subprocess.STDOUT,
            )
        finally:
            out.close()
        self.pid = self._proc.pid
        try:
            for port in (self.imap, self.imaps, self.lmtp, self.submission):
                wait_port(port, timeout=15.0, proc=self._proc, connect=False)
        except (RuntimeError, TimeoutError) as exc:
            self.stop()
            raise RuntimeError(f"Dovecot did not start: {exc}\n{self.log_tail()}") from exc

    def log_tail(self, lines: int = 20) -> str:
        return (
            f"--- {self.dir}/dovecot.log ---\n{_tail(Path(self.dir, 'dovecot.log'), lines)}\n"
            f"--- stderr ---\n{_tail(Path(self.dir, 'dovecot.stderr'), lines)}"
        )


def _next_second() -> None:
    time.sleep(1.0 - time.time() % 1.0 + 0.01)


def _write_user(users: Path, user: str, password: str) -> None:
    """One passwd-file per user: Dovecot re-reads a changed passwd-file at most once a second, but a
    file it has never seen is read at once, so a user added a moment ago can log in immediately."""
    if not re.fullmatch(r"[A-Za-z0-9._+-]+@[A-Za-z0-9.-]+", user) or ":" in password or "\n" in password:
        raise ValueError(f"unsupported test user or password: {user!r}")
    # Write then rename: the auth process never sees a half-written line.
    tmp = users / f".{user}.tmp"
    tmp.write_text(f"{user}:{{PLAIN}}{password}::::\n")
    tmp.chmod(0o644)
    tmp.replace(users / user)


def _write_conf(d: Path, cert: str, key: str, ports: dict[str, int], relay_port: int, extra: str = "") -> str:
    root = os.geteuid() == 0
    me = pwd.getpwuid(os.getuid()).pw_name
    values = {
        "d": str(d),
        "name": d.name,
        "cert": cert,
        "key": key,
        "dh": "/usr/share/dovecot/dh.pem",
        "relay": relay_port,
        # As root: Dovecot's own unprivileged users and mail as nobody. Otherwise everything as us.
        "internal_user": "dovecot" if root else me,
        "internal_group": "dovecot" if root else grp.getgrgid(os.getgid()).gr_name,
        "login_user": "dovenull" if root else me,
        "mail_uid": MAIL_UID if root else os.getuid(),
        "mail_gid": MAIL_UID if root else os.getgid(),
        "first_valid_uid": 1000 if root else min(os.getuid(), 1000),
        **ports,
    }
    if not Path(str(values["dh"])).exists():
        raise RuntimeError(f"/usr/share/dovecot/dh.pem is missing (dovecot-core is incomplete): {INSTALL_HINT}")
    conf = d / "dovecot.conf"
    conf.write_text(_CONF.substitute(values) + ("" if root else _ROOTLESS) + extra)
    return str(conf)


@contextlib.contextmanager
def dovecot(
    relay_port: int | None = None, users: Iterable[tuple[str, str]] = (), extra_conf: str = ""
) -> Iterator[Dovecot]:
    """A throwaway Dovecot: IMAP (plain + STARTTLS), IMAPS, LMTP and submission on free loopback ports.

    extra_conf: appended to the generated configuration (e.g. an `imap_capability` without MOVE).
    relay_port: where submission relays to; by default a free port kept in `.relay_port`, so an
    `LmtpBridge(server, port=server.relay_port)` started later makes submission deliver for real.
    """
    require_dovecot()
    # Not pytest's tmp_path: Dovecot's auth (user dovecot) must traverse the dir, so 0755 under /tmp.
    d = Path(tempfile.mkdtemp(prefix="toasoan-dovecot-", dir=tempfile.gettempdir()))
    server: Dovecot | None = None
    try:
        for sub in ("", "run", "state", "mail", "users"):
            (d / sub).mkdir(exist_ok=True)
            (d / sub).chmod(0o755)  # whatever the umask: Dovecot's own users read config, certs, users
        if os.geteuid() == 0:
            os.chown(d / "mail", MAIL_UID, MAIL_UID)
        cert, key = make_cert(d)
        for user, password in users:
            _write_user(d / "users", user, password)
        for attempt in range(3):
            *chosen, spare = free_ports(5)
            relay = relay_port or spare
            ports = dict(zip(("imap", "imaps", "lmtp", "submission"), chosen, strict=True))
            conf = _write_conf(d, cert, key, ports, relay, extra_conf)
            server = Dovecot(
                dir=str(d),
                pid=0,
                conf=conf,
                cert=cert,
                relay_port=relay,
                imap=ports["imap"],
                imaps=ports["imaps"],
                lmtp=ports["lmtp"],
                submission=ports["submission"],
            )
            try:
                server._start()
                break
            except RuntimeError as exc:
                # Another process may have taken a "free" port in between: pick new ones.
                if not ("Address already in use" in str(exc) or "duplicate listener" in str(exc)) or attempt == 2:
                    raise
        assert server is not None
        yield server
    finally:
        if server is not None:
            server.stop()
        shutil.rmtree(d, ignore_errors=True)


# --------------------------------------------------------------------------------------------- Cyrus

CYRUS_INSTALL_HINT = (
    "run scripts/system-deps.sh: it installs cyrus-common and sasl2-bin with apt-get and unpacks "
    "cyrus-imapd's imapd and idled into /usr/local/lib/toasoan-test/cyrus-imapd (the cyrus-imapd "
    "package itself Conflicts with dovecot-imapd)"
)
CYRUS_ADMIN = "cyrusadmin"  # in `admins:`: may SETACL any mailbox (user.<name> in its namespace)
_CYRUS_REALM = "localhost"  # the `servername`, which is the SASL realm of a login without "@"

_CYRUS_IMAPD_CONF = string.Template(
    """\
# Generated by tests/servers.py: a throwaway instance; nothing from /etc/imapd.conf is read.
configdirectory: ${d}/conf
defaultpartition: default
partition-default: ${d}/spool
proc_path: ${d}/run/proc
mboxname_lockpath: ${d}/run/lock
servername: localhost
syslog_prefix: toasoan-test-cyrus
# Debian's default layout: personal folders under "INBOX.", "." as the separator, and a user's
# INBOX made at first login (autocreate_quota: 0); a folder at the top level is refused.
altnamespace: no
unixhierarchysep: no
virtdomains: off
autocreate_quota: 0
# Plain LOGIN on loopback, checked against a sasldb of this instance alone.
allowplaintext: yes
sasl_pwcheck_method: auxprop
sasl_auxprop_plugin: sasldb
sasl_sasldb_path: ${d}/sasldb2
sasl_mech_list: PLAIN LOGIN
admins: ${admin}
tls_server_cert: ${cert}
tls_server_key: ${key}
${run_as}${extra}
"""
)

_CYRUS_CONF = string.Template(
    """\
# Generated by tests/servers.py. Each command names the instance's imapd.conf: master does not pass it on.
START {
  recover cmd="${bin}/ctl_cyrusdb -C ${conf} -r"
}
SERVICES {
  imap cmd="${imapd_bin}/imapd -C ${conf}" listen="127.0.0.1:${imap}" prefork=0
  imaps cmd="${imapd_bin}/imapd -s -C ${conf}" listen="127.0.0.1:${imaps}" prefork=0
  lmtp cmd="${bin}/lmtpd -a -C ${conf}" listen="127.0.0.1:${lmtp}" prefork=0
}
DAEMON {
  # Without idled an IDLE session learns of new mail only by polling, once a minute.
  idled cmd="${imapd_bin}/idled -C ${conf}"
}
"""
)


def cyrus_binaries() -> tuple[str, str]:
    """(cyrus-common's bin dir with master/lmtpd, the dir holding imapd/idled); RuntimeError if missing."""
    common = "/usr/lib/cyrus/bin"
    if not Path(common, "master").exists() or _which("saslpasswd2") is None:
        raise RuntimeError(f"Cyrus IMAP is not installed: {CYRUS_INSTALL_HINT}")
    unpacked = os.environ.get("TOASOAN_CYRUS_IMAPD_DIR", "/usr/local/lib/toasoan-test/cyrus-imapd")
    for candidate in (f"{unpacked}/usr/lib/cyrus/bin", common):  # the second: cyrus-imapd really installed
        if Path(candidate, "imapd").exists() and Path(candidate, "idled").exists():
            return common, candidate
    raise RuntimeError(f"Cyrus's imapd is missing: {CYRUS_INSTALL_HINT}")


@dataclass
class Cyrus(_MailServer):
    """A running throwaway Cyrus IMAP 3.x (see `cyrus()`), laid out as Debian's default: folders under
    "INBOX.". Users log in with a bare name (no domain); mail is delivered over LMTP to that name."""

    dir: str
    pid: int
    conf: str
    imap: int
    imaps: int
    lmtp: int
    cert: str
    admin_password: str
    host: str = HOST
    _passwords: dict[str, str] = field(default_factory=dict, repr=False)
    _proc: subprocess.Popen[bytes] | None = field(default=None, repr=False)

    # -- users

    def add_user(self, user: str, password: str) -> None:
        """A login in the instance's sasldb (usable at once); its INBOX is made at the first login."""
        if not re.fullmatch(r"[a-z0-9_-]+", user):
            raise ValueError(f"unsupported Cyrus test user: {user!r}")
        sasldb = Path(self.dir, "sasldb2")
        done = subprocess.run(
            [_which("saslpasswd2") or "saslpasswd2", "-f", str(sasldb), "-u", _CYRUS_REALM, "-p", "-c", user],
            input=password.encode(),
            capture_output=True,
            timeout=30,
            check=False,
        )
        if done.returncode != 0:
            raise RuntimeError(f"saslpasswd2 failed: {done.stderr.decode(errors='replace')}")
        _cyrus_own(sasldb)
        self._passwords[user] = password

    def new_user(self) -> tuple[str, str]:
        """A fresh login with a random password, for per-test isolation."""
        user, password = f"u{secrets.token_hex(6)}", secrets.token_urlsafe(12)
        self.add_user(user, password)
        self.login(user).logout()  # the first login makes the INBOX: LMTP refuses a user without one
        return user, password

    def login(self, user: str) -> IMAPClient:
        """A logged-in IMAPClient for a user this instance made (or CYRUS_ADMIN) over plain IMAP."""
        password = self.admin_password if user == CYRUS_ADMIN else self._passwords[user]
        client = IMAPClient(self.host, port=self.imap, ssl=False, timeout=30)
        try:
            client.login(user, password)
        except BaseException:
            client.shutdown()
            raise
        return client

    # -- assertions, through IMAP as the user (Cyrus's own tools would need its whole configuration)

    def mailbox_status(self, user: str, folder: str = "INBOX") -> dict[str, int]:
        """messages, unseen, uidnext, uidvalidity, highestmodseq of a folder (its full name: "INBOX.x")."""
        keys = ("MESSAGES", "UNSEEN", "UIDNEXT", "UIDVALIDITY", "HIGHESTMODSEQ")
        client = self.login(user)
        try:
            status = client.folder_status(folder, list(keys))
        finally:
            client.logout()
        return {k.lower(): int(status[k.encode()]) for k in keys}

    def list_folders(self, user: str) -> list[str]:
        client = self.login(user)
        try:
            return [name for _flags, _sep, name in client.list_folders()]
        finally:
            client.logout()

    def setacl(self, mailbox: str, who: str, rights: str) -> None:
        """SETACL as the admin; mailbox in the admin's namespace, e.g. "user.u1a2b.Processed"."""
        client = self.login(CYRUS_ADMIN)
        try:
            client.setacl(mailbox, who, rights)
        finally:
            client.logout()

    # -- lifecycle

    def _start(self) -> None:
        run = Path(self.dir, "run")
        master = [f"{cyrus_binaries()[0]}/master", "-C", self.conf, "-M", f"{self.dir}/cyrus.conf"]
        out = open(Path(self.dir, "master.log"), "ab")  # noqa: SIM115 - handed to the child
        try:
            self._proc = subprocess.Popen(
                _foreground_cmd([*master, "-p", str(run / "master.pid"), "-D"]),  # -D keeps stderr; no -d: foreground
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=subprocess.STDOUT,
                # master stops with kill(0, SIGTERM): its whole process group. A group of its own, or
                # stopping one Cyrus would stop every other one of this run (and the tests, run as cyrus).
                start_new_session=True,
            )
        finally:
            out.close()
        self.pid = self._proc.pid
        try:
            for port in (self.imap, self.imaps, self.lmtp):
                wait_port(port, timeout=15.0, proc=self._proc, connect=False)
        except (RuntimeError, TimeoutError) as exc:
            self.stop()
            # Cyrus logs to syslog; its own stderr has little, so say what may be wrong.
            raise RuntimeError(f"Cyrus did not start (a port taken?): {exc}\n{self.log_tail()}") from exc

    def log_tail(self, lines: int = 20) -> str:
        return f"--- {self.dir}/master.log ---\n{_tail(Path(self.dir, 'master.log'), lines)}"


def _cyrus_own(path: Path) -> None:
    """As root, Cyrus's processes run as the `cyrus` user: give it what it must write."""
    if os.geteuid() == 0:
        pw = pwd.getpwnam("cyrus")
        os.chown(path, pw.pw_uid, pw.pw_gid)


@contextlib.contextmanager
def cyrus(extra_conf: str = "") -> Iterator[Cyrus]:
    """A throwaway Cyrus IMAP: IMAP (plain + STARTTLS), IMAPS and LMTP on free loopback ports, with an
    admin (CYRUS_ADMIN) and idled. extra_conf: lines added to imapd.conf (e.g. `suppress_capabilities:
    MOVE`). As root its processes run as `cyrus`; otherwise as the current user (`cyrus_user`)."""
    common, imapd_bin = cyrus_binaries()
    if shutil.which("openssl") is None:
        raise RuntimeError("openssl is not installed (needed for the test certificates): apt-get install openssl")
    d = Path(tempfile.mkdtemp(prefix="toasoan-cyrus-", dir=tempfile.gettempdir()))
    server: Cyrus | None = None
    try:
        d.chmod(0o755)
        for sub in ("conf", "conf/socket", "spool", "run", "run/proc", "run/lock"):
            (d / sub).mkdir(parents=True, exist_ok=True)
        cert, key = make_cert(d)
        root = os.geteuid() == 0
        run_as = (
            ""
            if root
            else f"cyrus_user: {pwd.getpwuid(os.getuid()).pw_name}\ncyrus_group: {grp.getgrgid(os.getgid()).gr_name}\n"
        )
        for attempt in range(3):
            imap, imaps, lmtp = free_ports(3)
            conf = d / "imapd.conf"
            conf.write_text(
                _CYRUS_IMAPD_CONF.substitute(
                    d=d, admin=CYRUS_ADMIN, cert=cert, key=key, run_as=run_as, extra=extra_conf
                )
            )
            Path(d, "cyrus.conf").write_text(
                _CYRUS_CONF.substitute(bin=common, imapd_bin=imapd_bin, conf=conf, imap=imap, imaps=imaps, lmtp=lmtp)
            )
            server = Cyrus(
                dir=str(d), pid=0, conf=str(conf), imap=imap, imaps=imaps, lmtp=lmtp, cert=cert,
                admin_password=secrets.token_urlsafe(12),
            )  # fmt: skip
            server.add_user(CYRUS_ADMIN, server.admin_password)
            if root:
                for path in [d, *d.rglob("*")]:
                    _cyrus_own(path)
            try:
                server._start()
                break
            except RuntimeError:
                if attempt == 2:  # another process may have taken a "free" port in between: new ones
                    raise
        assert server is not None
        yield server
    finally:
        if server is not None:
            server.stop()
        shutil.rmtree(d, ignore_errors=True)


# --------------------------------------------------------------------------------------------- SMTP

Security = Literal["none", "starttls", "tls"]


class Message(NamedTuple):
    mail_from: str
    rcpt_tos: list[str]
    raw: bytes
    # time.monotonic() when the server took it, before answering "250": the fault tests compare it
    # with the moments they killed the sender.
    received_at: float = 0.0


class _Recorder:
    """aiosmtpd handler: keep every message, wake waiters."""

    def __init__(self, sink: SmtpSink) -> None:
        self.sink = sink

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        raw = bytes(envelope.original_content)
        self.sink._record(Message(envelope.mail_from, list(envelope.rcpt_tos), raw, time.monotonic()))
        return "250 2.0.0 Message accepted for delivery"


class _SmtpServer:
    """An aiosmtpd Controller on 127.0.0.1 that can go down and come back on the same port."""

    def __init__(self, port: int | None) -> None:
        self.host = HOST
        self.port = port or free_port()
        self._auto_port = port is None
        self._started_once = False
        self._controller: Any = None

    def _handler(self) -> Any:
        raise NotImplementedError

    def _options(self) -> dict[str, Any]:
        return {}

    def start(self) -> None:
        """Listen (again) on `port`; idempotent."""
        if self._controller is not None:
            return
        # aiosmtpd only reports a taken port after its 5 s ready timeout: check first. A port picked
        # by free_port() that another process took meanwhile is replaced, but only before the first
        # start: afterwards the port is part of the contract (down, then up on the same port).
        for _ in range(5):
            if _bindable(self.port) or not self._auto_port or self._started_once:
                break
            self.port = free_port()
        if not _bindable(self.port):
            raise OSError(f"{self.host}:{self.port} is in use by another process")
        controller = Controller(
            self._handler(), hostname=self.host, port=self.port, server_hostname="localhost", **self._options()
        )
        controller.start()
        self._controller = controller
        self._started_once = True

    def stop(self) -> None:
        """Stop listening (connections are refused until start()); idempotent."""
        if self._controller is not None:
            self._controller.stop()
            self._controller = None

    @property
    def running(self) -> bool:
        return self._controller is not None


def _bindable(port: int) -> bool:
    with socket.socket() as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as asyncio's server does
        try:
            s.bind((HOST, port))
        except OSError:
            return False
        return True


class SmtpSink(_SmtpServer):
    """An SMTP server on 127.0.0.1 that records what it receives (the app's outgoing mail).

    security: "none" (plain), "starttls" (STARTTLS required before MAIL) or "tls" (implicit TLS, SMTPS):
    the app's three SMTP modes. With username/password, AUTH (PLAIN/LOGIN, UTF-8) is required before MAIL.
    Clients can trust `cert` as a CA. stop()/start() keep the same port (SMTP down, then up again).
    """

    def __init__(
        self,
        security: Security = "none",
        username: str | None = None,
        password: str | None = None,
        port: int | None = None,
    ) -> None:
        if security not in ("none", "starttls", "tls"):
            raise ValueError(f"security must be none, starttls or tls, not {security!r}")
        if (username is None) != (password is None):
            raise ValueError("give both username and password, or neither")
        super().__init__(port)
        self.security = security
        self.username = username
        self.password = password
        self.messages: list[Message] = []
        self.logins: list[str] = []  # successful AUTH logins, in order
        self._cond = threading.Condition()
        self._dir = tempfile.mkdtemp(prefix="toasoan-smtp-")
        self.cert, self.key = make_cert(self._dir)

    def _handler(self) -> Any:
        return _Recorder(self)

    def _options(self) -> dict[str, Any]:
        tls = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        tls.load_cert_chain(self.cert, self.key)
        options: dict[str, Any] = {}
        if self.security == "starttls":
            options.update(tls_context=tls, require_starttls=True)
        elif self.security == "tls":
            options.update(ssl_context=tls)
        if self.username is not None:
            # aiosmtpd only counts STARTTLS as TLS: an implicit-TLS (or plain) sink must allow AUTH as is.
            options.update(
                authenticator=self._authenticate, auth_required=True, auth_require_tls=self.security == "starttls"
            )
        return options

    def _record(self, message: Message) -> None:
        with self._cond:
            self.messages.append(message)
            self._cond.notify_all()

    def _authenticate(self, server: Any, session: Any, envelope: Any, mechanism: str, auth_data: Any) -> Any:
        ok = (
            isinstance(auth_data, LoginPassword)
            and self.username is not None
            and self.password is not None
            and auth_data.login == self.username.encode()
            and auth_data.password == self.password.encode()
        )
        if ok:
            self.logins.append(self.username or "")
        # handled=False makes aiosmtpd answer 535 itself; handled=True on failure would send nothing.
        return AuthResult(success=ok, handled=False)

    def close(self) -> None:
        self.stop()
        shutil.rmtree(self._dir, ignore_errors=True)

    def wait_for(self, n: int, timeout: float = 10.0) -> list[Message]:
        """Wait until at least n messages arrived; returns all of them (a copy)."""
        with self._cond:
            if not self._cond.wait_for(lambda: len(self.messages) >= n, timeout):
                raise TimeoutError(f"SMTP sink got {len(self.messages)} message(s), expected {n} within {timeout} s")
            return list(self.messages)

    def client(self, timeout: float = 10.0) -> smtplib.SMTP:
        """An smtplib client connected (and TLS/AUTH-ed) the way this sink wants."""
        ctx = client_tls_context(self.cert)
        conn: smtplib.SMTP
        if self.security == "tls":
            conn = smtplib.SMTP_SSL(self.host, self.port, timeout=timeout, context=ctx)
        else:
            conn = smtplib.SMTP(self.host, self.port, timeout=timeout)
            if self.security == "starttls":
                conn.starttls(context=ctx)
        if self.username is not None and self.password is not None:
            conn.login(self.username, self.password)
        return conn


@contextlib.contextmanager
def smtp_sink(**options: Any) -> Iterator[SmtpSink]:
    """A started SmtpSink (options: security, username, password, port), closed afterwards."""
    sink = SmtpSink(**options)
    try:
        sink.start()
        yield sink
    finally:
        sink.close()


class _Bridge:
    """aiosmtpd handler: relay each accepted message into Dovecot over LMTP, like a real MTA."""

    def __init__(self, server: Dovecot) -> None:
        self.server = server

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        raw = bytes(envelope.original_content)
        peer = session.peer[0] if session.peer else HOST
        helo = session.host_name or "unknown"

        def deliver() -> tuple[list[str], list[str]]:
            refused: list[str] = []
            failed: list[str] = []
            for rcpt in envelope.rcpt_tos:
                # A real MTA stamps a Received: line; the worker must cope with it.
                received = (
                    f"Received: from {helo} ([{peer}])\r\n\tby localhost (toasoan test bridge) with ESMTP"
                    f"\r\n\tfor <{rcpt}>; {email.utils.formatdate(localtime=True)}\r\n"
                ).encode()
                try:
                    self.server.deliver(rcpt, received + raw, mail_from=envelope.mail_from)
                except smtplib.SMTPRecipientsRefused as exc:
                    for r, (code, msg) in exc.recipients.items():
                        (refused if code >= 500 else failed).append(f"{r}: {code} {msg.decode(errors='replace')}")
                except (smtplib.SMTPException, OSError) as exc:  # Dovecot down or restarting
                    failed.append(f"{rcpt}: {exc}")
            return refused, failed

        refused, failed = await asyncio.get_running_loop().run_in_executor(None, deliver)
        # No queue here: a temporary failure is reported as such (4xx) so the sender may retry.
        if failed:
            return "451 4.3.0 " + "; ".join(failed + refused)[:300]
        if refused:
            return "550 5.1.1 " + "; ".join(refused)[:300]
        return "250 2.0.0 Delivered"


class LmtpBridge(_SmtpServer):
    """An SMTP server on 127.0.0.1 that delivers into a Dovecot's LMTP: the "real SMTP hop" of tests.

    An unknown recipient is answered 550 after DATA; Dovecot unreachable (e.g. restarting) gives 451.
    """

    def __init__(self, server: Dovecot, port: int | None = None) -> None:
        super().__init__(port)
        self.dovecot = server

    def _handler(self) -> Any:
        return _Bridge(self.dovecot)

    def send(self, raw: bytes, mail_from: str, rcpt: str) -> None:
        """Send like a contributor's mail server would: SMTP to this bridge (bare LF becomes CRLF)."""
        with smtplib.SMTP(self.host, self.port, timeout=30) as client:
            client.sendmail(mail_from, [rcpt], crlf(raw))


@contextlib.contextmanager
def lmtp_bridge(dovecot: Dovecot, port: int | None = None) -> Iterator[LmtpBridge]:
    """A started LmtpBridge into `dovecot` (port: e.g. `dovecot.relay_port` to serve its submission)."""
    bridge = LmtpBridge(dovecot, port)
    try:
        bridge.start()
        yield bridge
    finally:
        bridge.stop()


# --------------------------------------------------------------------------------------------- per-test user


MailServer = TypeVar("MailServer", "Dovecot", "Cyrus")


@dataclass
class MailUser(Generic[MailServer]):
    """A fresh mailbox owner on a Dovecot (or a Cyrus: `address` is then a bare login name), with what an
    IMAP client needs to reach it."""

    address: str
    password: str
    host: str
    port: int  # plain IMAP (STARTTLS available)
    imaps_port: int
    cert: str  # trust this as CA for STARTTLS/IMAPS
    server: MailServer = field(repr=False)
    bridge: LmtpBridge | None = field(default=None, repr=False)

    def deliver(self, raw: bytes, mail_from: str | None = None) -> None:
        """Deliver through the SMTP->LMTP bridge (the real SMTP hop); LMTP directly if there is none."""
        sender = mail_from or _header_sender(raw) or f"sender@{DOMAIN}"
        if self.bridge is not None:
            self.bridge.send(raw, sender, self.address)
        else:
            self.server.deliver(self.address, raw, mail_from=sender)

    def mailbox_settings(self, password_env: str = "TEST_IMAP_PW", **extra: Any) -> dict[str, Any]:
        """The `[mailbox]` section that reads this mailbox over plain IMAP on loopback; the password
        goes in the environment variable `password_env`, as in production."""
        return {
            "backend": "imap",
            "host": self.host,
            "port": self.port,
            "security": "none",
            "username": self.address,
            "password_env": password_env,
            **extra,
        }

    def status(self, folder: str = "INBOX") -> dict[str, int]:
        return self.server.mailbox_status(self.address, folder)

    def folders(self) -> list[str]:
        return self.server.list_folders(self.address)

    def imap(self, security: Security = "none") -> IMAPClient:
        """A logged-in IMAPClient ("none": plain port, "starttls": plain port + STARTTLS, "tls": IMAPS)."""
        ctx = client_tls_context(self.cert)
        if security == "tls":
            client = IMAPClient(self.host, port=self.imaps_port, ssl=True, ssl_context=ctx, timeout=30)
        else:
            client = IMAPClient(self.host, port=self.port, ssl=False, timeout=30)
        try:
            if security == "starttls":
                client.starttls(ctx)
            client.login(self.address, self.password)
        except BaseException:
            client.shutdown()  # a connection left open would delay the server's stop
            raise
        return client


def _header_sender(raw: bytes) -> str | None:
    """The From: address of a raw message, as the envelope sender a real client would use."""
    head = raw.split(b"\r\n\r\n", 1)[0].split(b"\n\n", 1)[0]
    match = re.search(rb"^From:(.*(?:\r?\n[ \t].*)*)", head, re.IGNORECASE | re.MULTILINE)
    if match is None:
        return None
    address = email.utils.parseaddr(match.group(1).decode("ascii", "replace").strip())[1]
    return address if address.isascii() and "@" in address else None


def new_mail_user(server: MailServer, bridge: LmtpBridge | None = None) -> MailUser[MailServer]:
    address, password = server.new_user()
    return MailUser(address, password, server.host, server.imap, server.imaps, server.cert, server, bridge)


# ------------------------------------------------------------------------------------------ PostgreSQL

PG_INSTALL_HINT = "run `make test` (it installs postgresql with apt-get), or: apt-get install -y postgresql"


def _pg_bin(name: str) -> str:
    import glob

    found = sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{name}"))
    if not found:
        raise RuntimeError(f"PostgreSQL's {name} is not installed: {PG_INSTALL_HINT}")
    return found[-1]


@dataclass
class Postgres:
    dir: str
    pid: int
    port: int
    _proc: subprocess.Popen[Any] = field(repr=False)

    def url(self, database: str = "postgres") -> str:
        return f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/{database}"

    def new_database(self, template: str | None = None) -> str:
        """A fresh database on this server (per-test isolation): empty, or a copy of the database
        `template` (which nobody may be connected to); returns its URL."""
        name = "t_" + secrets.token_hex(6)
        create = f"CREATE DATABASE {name}" + (f" TEMPLATE {template}" if template else "")
        subprocess.run(
            [_pg_bin("psql"), "-h", HOST, "-p", str(self.port), "-U", "postgres", "-qc", create],
            check=True,
            capture_output=True,
        )
        return self.url(name)

    def stop(self) -> None:
        _stop_postgres(self._proc)


def _stop_postgres(proc: subprocess.Popen[Any]) -> None:
    """SIGINT is PostgreSQL's "fast" shutdown (SIGTERM waits for every client to leave)."""
    stop_child(proc, signal.SIGINT, timeout=30)


@contextlib.contextmanager
def postgres() -> Iterator[Postgres]:
    """A throwaway PostgreSQL cluster on a free loopback port, run as the `postgres` user (initdb
    refuses root), trust authentication, fsync off: for tests only."""
    initdb = _pg_bin("initdb")
    as_root = os.geteuid() == 0
    d = tempfile.mkdtemp(prefix="toasoan-pg-")
    os.chmod(d, 0o755)
    kwargs: dict[str, Any] = {"cwd": d}
    if as_root:
        pw = pwd.getpwnam("postgres")
        os.chown(d, pw.pw_uid, pw.pw_gid)
        kwargs.update(user=pw.pw_uid, group=pw.pw_gid, extra_groups=[])
    data = os.path.join(d, "data")
    proc: subprocess.Popen[Any] | None = None
    try:
        subprocess.run(
            [initdb, "-D", data, "-U", "postgres", "--auth=trust", "-E", "UTF8", "--locale=C.UTF-8", "--no-sync"],
            check=True,
            capture_output=True,
            **kwargs,
        )
        port = free_port()
        log = open(os.path.join(d, "pg.log"), "w")  # noqa: SIM115 (closed when the server stops)
        proc = subprocess.Popen(
            [_pg_bin("postgres"), "-D", data, "-p", str(port), "-k", d, "-c", "listen_addresses=127.0.0.1",
             "-c", "fsync=off", "-c", "synchronous_commit=off", "-c", "full_page_writes=off"],
            stdout=log,
            stderr=subprocess.STDOUT,
            **kwargs,
        )  # fmt: skip
        end = time.monotonic() + 30
        while subprocess.run([_pg_bin("pg_isready"), "-h", HOST, "-p", str(port)], capture_output=True).returncode:
            if proc.poll() is not None or time.monotonic() > end:
                raise RuntimeError(f"PostgreSQL did not start:\n{_tail(Path(d, 'pg.log'))}")
            time.sleep(0.05)
        server = Postgres(dir=d, pid=proc.pid, port=port, _proc=proc)
        yield server
    finally:
        if proc is not None:
            _stop_postgres(proc)
        shutil.rmtree(d, ignore_errors=True)
