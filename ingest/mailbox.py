"""The mailbox seam: IMAP (imapclient) or a local Maildir. Nothing else imports imapclient.

A session lists what is waiting, fetches raw bytes without side effects (BODY.PEEK[], never \\Seen) or,
for a message over the size limit, only its header block (BODY.PEEK[HEADER]),
acknowledges stored messages (MOVE to the processed folder, named after the server's NAMESPACE, or
COPY + UID EXPUNGE, or a keyword where MOVE is missing), and
waits for new mail (IDLE where the server has it, else a timed sleep). The mailbox is a transport:
the spool and the database are the truth, so every operation here is safe to repeat.
"""

from __future__ import annotations

import contextlib
import logging
import os
import socket
import ssl
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from core.errors import Bilingual
from core.settings import MailboxSettings, Settings

log = logging.getLogger(__name__)

ACK_KEYWORD = "$ToasoanStored"  # used only when the server cannot MOVE
_HEADER_READ_LIMIT = 1 * 2**20  # a header block longer than this is cut: enough to see who sent it


@dataclass(frozen=True)
class Fetched:
    ref: str  # the UID (IMAP) or file key (Maildir)
    uid: int | None
    raw: bytes  # the whole message, or only its header block when `size` is set
    size: int | None = None  # the whole message's size, when only the header block was fetched


class MailboxError(Exception):
    """The mailbox cannot be reached or used (network, login); FolderError below for a folder."""


class MailboxSession(Protocol):
    name: str  # stable identity of the watched folder, used for cursors
    uidvalidity: int | None  # None for Maildir (no UIDs)

    def pending(self, after_uid: int | None) -> list[str]: ...
    def sizes(self, refs: Sequence[str]) -> dict[str, int]: ...
    def fetch(self, refs: Sequence[str]) -> Iterator[Fetched]: ...
    def fetch_headers(self, refs: Sequence[str], sizes: dict[str, int]) -> Iterator[Fetched]: ...
    def ack(self, refs: Sequence[str]) -> None: ...
    def wait(self, timeout: float, stop: threading.Event | None = None) -> bool: ...
    def close(self) -> None: ...


def open_mailbox(settings: Settings) -> MailboxSession:
    m = settings.mailbox
    if m.backend == "maildir":
        return MaildirSession(settings.resolve(m.path), processed_folder=m.processed_folder)
    return ImapSession.connect(
        m, settings.secret(m.password_env), ca_file=settings.resolve(m.ca_file) if m.ca_file else None
    )


# --------------------------------------------------------------------------------------------
# Maildir


class MaildirSession:
    """A local Maildir (new/ + cur/). Acknowledging moves the file into a Maildir++ sub-folder."""

    def __init__(self, path: Path, *, processed_folder: str = "") -> None:
        self.path = Path(path)
        self.name = f"maildir:{self.path.resolve()}"
        self.uidvalidity: int | None = None
        for sub in ("tmp", "new", "cur"):
            (self.path / sub).mkdir(parents=True, exist_ok=True)
        self.processed = self.path / f".{processed_folder}" if processed_folder else None
        self._files: dict[str, Path] = {}
        self._seen_mtime = 0.0

    def _scan(self) -> dict[str, Path]:
        files: dict[str, Path] = {}
        for sub in ("new", "cur"):
            for entry in os.scandir(self.path / sub):
                if entry.is_file() and not entry.name.startswith("."):
                    files[entry.name.split(":", 1)[0]] = Path(entry.path)
        self._files = files
        return files

    def pending(self, after_uid: int | None) -> list[str]:
        return sorted(self._scan())

    def sizes(self, refs: Sequence[str]) -> dict[str, int]:
        return {r: self._files[r].stat().st_size for r in refs if r in self._files}

    def fetch(self, refs: Sequence[str]) -> Iterator[Fetched]:
        for ref in refs:
            path = self._files.get(ref)
            if path is None:
                continue
            try:
                yield Fetched(ref=ref, uid=None, raw=path.read_bytes())
            except FileNotFoundError:  # moved away by someone else meanwhile: nothing lost
                continue

    def fetch_headers(self, refs: Sequence[str], sizes: dict[str, int]) -> Iterator[Fetched]:
        for ref in refs:
            path = self._files.get(ref)
            if path is None or ref not in sizes:
                continue
            try:
                yield Fetched(ref=ref, uid=None, raw=_read_header_block(path), size=sizes[ref])
            except FileNotFoundError:
                continue

    def ack(self, refs: Sequence[str]) -> None:
        if self.processed is None:
            return
        for sub in ("tmp", "new", "cur"):
            (self.processed / sub).mkdir(parents=True, exist_ok=True)
        for ref in refs:
            path = self._files.pop(ref, None)
            if path is not None and path.exists():
                os.replace(path, self.processed / "cur" / path.name)

    def wait(self, timeout: float, stop: threading.Event | None = None) -> bool:
        """Poll the new/ folder's mtime: cheap, and good enough for a local folder."""
        end = time.monotonic() + timeout
        while not (stop and stop.is_set()):
            mtime = (self.path / "new").stat().st_mtime
            if mtime != self._seen_mtime:
                self._seen_mtime = mtime
                return True
            if time.monotonic() >= end:
                return False
            time.sleep(min(0.5, max(end - time.monotonic(), 0)))
        return False

    def close(self) -> None:
        pass


# --------------------------------------------------------------------------------------------
# IMAP


class ImapClient(Protocol):
    """The calls of imapclient's IMAPClient this module makes, typed (imapclient ships no types).

    Responses keep imapclient's shapes: fetch maps a UID to {b"RFC822.SIZE": 123, b"BODY[]": b"..."},
    idle_check gives the untagged responses as tuples such as (4, b"EXISTS"), namespace gives
    (personal, other, shared), each a sequence of (prefix, separator) pairs or None.
    """

    def starttls(self, ssl_context: ssl.SSLContext | None = None) -> bytes: ...
    def login(self, username: str, password: str) -> bytes: ...
    def oauth2_login(self, user: str, access_token: str) -> bytes: ...
    def capabilities(self) -> tuple[bytes, ...]: ...
    def namespace(self) -> tuple[Sequence[tuple[str, str | None]] | None, ...]: ...
    def select_folder(self, folder: str, readonly: bool = False) -> dict[bytes, Any]: ...
    def folder_exists(self, folder: str) -> bool: ...
    def create_folder(self, folder: str) -> bytes: ...
    def search(self, criteria: list[str]) -> list[int]: ...
    def fetch(self, messages: list[int], data: list[str]) -> dict[int, dict[bytes, Any]]: ...
    def move(self, messages: list[int], folder: str) -> bytes: ...
    def copy(self, messages: list[int], folder: str) -> bytes: ...
    def add_flags(self, messages: list[int], flags: Sequence[str | bytes], silent: bool = False) -> object: ...
    def uid_expunge(self, messages: list[int]) -> bytes: ...
    def idle(self) -> None: ...
    def idle_check(self, timeout: float | None = None) -> list[tuple[Any, ...]]: ...
    def idle_done(self) -> tuple[bytes, list[Any]]: ...
    def logout(self) -> bytes: ...
    def shutdown(self) -> None: ...


class FolderError(MailboxError, Bilingual):
    """The server is reachable and we are logged in, but a folder cannot be created or opened (a name the
    server refuses, missing rights, a quota): a person must change a setting or the server, not the network.
    """


def _imap_errors() -> tuple[type[Exception], type[Exception]]:
    """(any IMAP error, the ones that mean the connection broke), imported only when IMAP is used."""
    from imapclient.exceptions import IMAPClientAbortError, IMAPClientError  # type: ignore[import-untyped,unused-ignore]

    return IMAPClientError, IMAPClientAbortError


def _refusal(exc: BaseException) -> bool:
    """True for the server's own NO/BAD to a command; False for a timeout or a broken connection."""
    error, abort = _imap_errors()
    return isinstance(exc, error) and not isinstance(exc, (abort, OSError))


class ImapSession:
    def __init__(self, client: ImapClient, m: MailboxSettings, uidvalidity: int, capabilities: set[str]) -> None:
        self.client = client
        self.m = m
        self.uidvalidity: int | None = uidvalidity
        self.capabilities = capabilities
        self.name = f"imap://{m.username}@{m.host}:{m.port}/{m.folder}"
        self.processed_folder: str | None = None  # the folder acknowledged mail goes to, once resolved
        self._max_uid_listed = 0

    @classmethod
    def connect(cls, m: MailboxSettings, secret: str | None, *, ca_file: Path | None = None) -> ImapSession:
        from imapclient import IMAPClient, SocketTimeout  # type: ignore[import-untyped,unused-ignore]
        from imapclient.exceptions import LoginError  # type: ignore[import-untyped,unused-ignore]

        imap_error, _abort = _imap_errors()
        context = ssl.create_default_context(cafile=str(ca_file) if ca_file else None)
        timeout = SocketTimeout(connect=min(15, m.timeout_seconds), read=m.timeout_seconds)
        try:
            client: ImapClient = IMAPClient(
                m.host, port=m.port, ssl=m.security == "tls", ssl_context=context, timeout=timeout
            )
        except (TimeoutError, OSError, imap_error) as exc:
            raise MailboxError(f"không kết nối được máy chủ thư / cannot connect to {m.host}:{m.port}: {exc}") from exc
        try:
            if m.security == "starttls":
                client.starttls(context)
            if m.auth == "xoauth2":
                client.oauth2_login(m.username, secret or "")
            else:
                client.login(m.username, secret or "")
            info = client.select_folder(m.folder)
            caps = {c.decode() if isinstance(c, bytes) else str(c) for c in client.capabilities()}
        except LoginError as exc:
            _quiet_logout(client)
            raise MailboxError(f"đăng nhập hộp thư thất bại / IMAP login failed for {m.username}: {exc}") from exc
        except (TimeoutError, OSError, imap_error) as exc:
            _quiet_logout(client)
            if _refusal(exc):  # logged in, and the server said NO: the folder, not the network
                raise FolderError(
                    f"không mở được thư mục {m.folder!r} trên máy chủ thư: {exc}",
                    f"cannot open folder {m.folder!r}: {exc}",
                ) from exc
            raise MailboxError(f"không mở được thư mục / cannot open folder {m.folder!r}: {exc}") from exc
        return cls(client, m, int(info[b"UIDVALIDITY"]), caps)

    def pending(self, after_uid: int | None) -> list[str]:
        c = self.client
        # RFC 3501: "UID n:*" always includes the highest UID, even when it is below n: filter here.
        uids = c.search(["UID", f"{after_uid + 1}:*"]) if after_uid else c.search(["ALL"])
        floor = after_uid or 0
        if uids:
            self._max_uid_listed = max(self._max_uid_listed, *uids)
        return [str(u) for u in sorted(uids) if u > floor]

    def sizes(self, refs: Sequence[str]) -> dict[str, int]:
        if not refs:
            return {}
        # Always explicit UID lists: imapclient 4.x breaks on string ranges (see DESIGN.md).
        resp = self.client.fetch([int(r) for r in refs], ["RFC822.SIZE"])
        return {str(uid): int(data[b"RFC822.SIZE"]) for uid, data in resp.items() if b"RFC822.SIZE" in data}

    def fetch(self, refs: Sequence[str]) -> Iterator[Fetched]:
        if not refs:
            return
        resp = self.client.fetch([int(r) for r in refs], ["BODY.PEEK[]"])
        for uid in sorted(resp):
            raw = resp[uid].get(b"BODY[]")
            if raw is not None:
                yield Fetched(ref=str(uid), uid=int(uid), raw=bytes(raw))

    def fetch_headers(self, refs: Sequence[str], sizes: dict[str, int]) -> Iterator[Fetched]:
        """Only the header block (RFC 3501 BODY[HEADER], blank line included): the body stays on the server."""
        if not refs:
            return
        part = f"BODY.PEEK[HEADER]<0.{_HEADER_READ_LIMIT}>"  # bounded, as a Maildir file's is
        resp = self.client.fetch([int(r) for r in refs], [part])
        for uid in sorted(resp):
            head = resp[uid].get(b"BODY[HEADER]<0>", resp[uid].get(b"BODY[HEADER]"))
            if head is not None and str(uid) in sizes:
                yield Fetched(ref=str(uid), uid=int(uid), raw=bytes(head), size=sizes[str(uid)])

    def _personal_prefix(self) -> str:
        """The personal namespace's prefix ending with its hierarchy separator: "INBOX." on Cyrus's default
        layout, "" on Dovecot's usual one and on a server without NAMESPACE (RFC 2342)."""
        if "NAMESPACE" not in self.capabilities:
            return ""
        personal = self.client.namespace()[0]
        if not personal:
            return ""
        prefix, separator = personal[0][0] or "", personal[0][1] or ""
        return prefix + separator if prefix and separator and not prefix.endswith(separator) else prefix

    def _create(self, name: str, refusals: list[str]) -> bool:
        """CREATE `name`: True once it exists (made now, or meanwhile by another session); a refusal is
        noted in `refusals`, anything else (the connection) raised."""
        try:
            self.client.create_folder(name)
        except Exception as exc:
            if not _refusal(exc):
                raise
            if self.client.folder_exists(name):
                return True
            refusals.append(f"{name!r}: {exc}")
            return False
        log.info("created the processed folder %r", name)
        return True

    def _ensure_processed_folder(self) -> str:
        """The processed folder's name on this server, created if needed; resolved once a session.

        The setting names the folder as a person sees it. Where the server refuses it at the top level
        (Cyrus as Debian sets it up keeps every folder under "INBOX."), it lives under the personal
        namespace's prefix instead: "Đã xử lý" becomes "INBOX.Đã xử lý". A name that already starts
        with the prefix is used as is; a nested name is written with the server's separator.
        """
        if self.processed_folder is not None:
            return self.processed_folder
        wanted = self.m.processed_folder
        prefix = self._personal_prefix()
        candidates = [wanted]
        if prefix and not wanted.upper().startswith(prefix.upper()):
            candidates.append(prefix + wanted)
        refusals: list[str] = []
        try:
            found = next((name for name in candidates if self.client.folder_exists(name)), None)
            if found is None:
                found = next((name for name in candidates if self._create(name, refusals)), None)
        except Exception as exc:
            if _refusal(exc):
                raise FolderError(
                    f"không kiểm tra được thư mục {wanted!r} trên máy chủ thư: {exc}",
                    f"cannot look up folder {wanted!r}: {exc}",
                ) from exc
            raise
        if found is None:
            raise FolderError(
                f"máy chủ thư không cho tạo thư mục {wanted!r} (processed_folder); hãy sửa tên trong cài đặt"
                " hoặc tạo thư mục đó trên máy chủ. Thư chưa bị di chuyển, không mất thư nào",
                f"the mail server refuses to create the processed folder ({'; '.join(refusals)}); change"
                " [mailbox] processed_folder or create it on the server. No mail was moved or lost",
            )
        self.processed_folder = found
        return found

    def ack(self, refs: Sequence[str]) -> None:
        if not refs or not self.m.processed_folder:
            return
        uids = [int(r) for r in refs]
        c = self.client
        if "MOVE" in self.capabilities:
            self._into_processed(c.move, uids)
        elif "UIDPLUS" in self.capabilities:
            self._into_processed(c.copy, uids)  # only what was copied is then deleted
            c.add_flags(uids, [b"\\Deleted"], silent=True)
            c.uid_expunge(uids)
        else:
            # A plain EXPUNGE would remove every \Deleted message, other people's included: only mark.
            c.add_flags(uids, [ACK_KEYWORD], silent=True)

    def _into_processed(self, command: Callable[[list[int], str], bytes], uids: list[int]) -> None:
        """MOVE or COPY into the processed folder; the server's NO (no right to insert, a quota) is a
        FolderError: the messages stay where they are, and are moved once a person has fixed it."""
        folder = self._ensure_processed_folder()
        try:
            command(uids, folder)
        except Exception as exc:
            if _refusal(exc):
                raise FolderError(
                    f"máy chủ thư không cho chuyển thư vào thư mục {folder!r}: {exc}. Thư vẫn ở chỗ cũ,"
                    " không mất thư nào",
                    f"the mail server refuses to move mail into {folder!r}: {exc}. The mail stays where"
                    " it is; nothing is lost",
                ) from exc
            raise

    def wait(self, timeout: float, stop: threading.Event | None = None) -> bool:
        """Block until the server announces new mail or `timeout` passes. True when woken by mail."""
        c = self.client
        stop = stop or threading.Event()
        if not (self.m.idle and "IDLE" in self.capabilities):
            stop.wait(timeout)
            return False
        # Mail that arrived while we were fetching was announced then, not during IDLE: look first.
        newer = c.search(["UID", f"{self._max_uid_listed + 1}:*"])
        if any(u > self._max_uid_listed for u in newer):
            return True
        c.idle()
        end = time.monotonic() + timeout
        woken = False
        closed = False
        try:
            # Short checks inside one IDLE, so a stop request is noticed within a second.
            while not woken and not stop.is_set() and time.monotonic() < end:
                responses = c.idle_check(timeout=min(1.0, max(end - time.monotonic(), 0.01)))
                # Dovecot says "* OK Still here" every 2 minutes: only EXISTS/RECENT mean mail.
                woken = any(len(r) >= 2 and r[1] in (b"EXISTS", b"RECENT") for r in responses)
                # imapclient's idle_check swallows the end of the connection (it returns no response),
                # so a server stopped mid-IDLE would be noticed only when the wait ends (poll_seconds).
                if not responses and _peer_closed(c.socket()):  # type: ignore[attr-defined]
                    closed = True
                    raise MailboxError(f"máy chủ thư đã đóng kết nối / the server closed the connection ({self.name})")
        finally:
            if not closed:
                c.idle_done()
        return woken

    def close(self) -> None:
        _quiet_logout(self.client)


def _peer_closed(sock: socket.socket) -> bool:
    """True when the server has closed the TCP connection and nothing is left to read: a peek at the
    kernel's buffer through a duplicate of the descriptor (TLS or not, nothing is consumed)."""
    try:
        with socket.socket(fileno=os.dup(sock.fileno())) as raw:
            return raw.recv(1, socket.MSG_PEEK | socket.MSG_DONTWAIT) == b""
    except BlockingIOError:  # nothing to read yet: the connection is open
        return False
    except OSError:  # reset, or the descriptor is gone
        return True


def _read_header_block(path: Path) -> bytes:
    """The file's lines up to and including the first empty one, read line by line (never the body)."""
    head = bytearray()
    with open(path, "rb") as fh:
        while len(head) < _HEADER_READ_LIMIT:
            line = fh.readline(_HEADER_READ_LIMIT - len(head))  # bounded: one endless line is cut too
            head += line
            if line in (b"", b"\n", b"\r\n"):
                break
    return bytes(head)


def _quiet_logout(client: ImapClient) -> None:
    try:
        client.logout()
    except Exception:
        with contextlib.suppress(Exception):
            client.shutdown()
