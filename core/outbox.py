"""The durable mail outbox: every email the office sends goes through here.

`enqueue` is called inside the same transaction as the event it reports (a draft created, a
decision taken), with a key naming that event: one email per event, even across crashes and
re-runs. `deliver_due` sends what is due over SMTP, retrying with exponential backoff while the
server is down. Without an [smtp] section mail simply waits (`toasoan outbox list`).
"""

from __future__ import annotations

import base64
import hashlib
import logging
import re
import smtplib
import ssl
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from email.header import Header
from email.message import EmailMessage, MIMEPart
from email.parser import BytesHeaderParser
from email.policy import SMTP as SMTP_POLICY
from email.policy import default
from email.utils import format_datetime, formataddr, getaddresses
from typing import Any

from sqlalchemy import func, update
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from core.db import lock_name, reading, transaction, utcnow
from core.jobs import STALE_CLAIM, Backoff, Queue
from core.models import OutboxMail, OutboxStatus
from core.msgid import angled
from core.settings import Settings, SmtpSettings
from core.text import nfc

log = logging.getLogger(__name__)

# STALE_CLAIM (core.jobs): a row left in_progress longer than this was being sent by a process that died.


@dataclass(frozen=True)
class Part:
    """A file carried by a mail: an attachment, or an image the HTML shows inline (`cid` set: the HTML
    refers to it as `cid:<cid>`)."""

    filename: str
    mime: str  # "image/png", "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
    data: bytes
    cid: str | None = None

    def as_json(self) -> dict[str, str | None]:
        return {
            "filename": self.filename,
            "mime": self.mime,
            "cid": self.cid,
            "data": base64.b64encode(self.data).decode("ascii"),
        }

    @classmethod
    def from_json(cls, raw: dict[str, str | None]) -> Part:
        return cls(str(raw["filename"]), str(raw["mime"]), base64.b64decode(str(raw["data"])), raw.get("cid"))


def message_id_for(key: str, domain: str) -> str:
    digest = hashlib.sha256(key.encode()).hexdigest()[:32]
    return f"<{digest}@{domain}>"


def _domain(settings: Settings) -> str:
    sender = settings.smtp.sender if settings.smtp else ""
    return sender.rsplit("@", 1)[-1] if "@" in sender else "toasoan.invalid"


def enqueue(
    session: Session,
    settings: Settings,
    *,
    key: str,
    kind: str,
    to: str,
    subject: str,
    body: str,
    in_reply_to: str | None = None,
    references: tuple[str, ...] = (),
    draft_id: int | None = None,
    kind_per_day: int | None = None,
    html: str | None = None,
    inline: Sequence[Part] = (),
    attachments: Sequence[Part] = (),
    auto_submitted: str = "auto-replied",
) -> OutboxMail | None:
    """Queue one email unless one with this key was already queued. Returns the new row or None.

    Over the per-recipient limits ([outbox] max_per_recipient_per_day, and `kind_per_day` mails of
    this kind) the row is kept as suppressed with its reason: visible in `toasoan outbox list`, never sent.

    `html` adds an HTML alternative to the plain `body`, showing the `inline` images by their cid;
    `attachments` are attached files. `auto_submitted` is the Auto-Submitted header (RFC 3834):
    "auto-replied" for answers to a contributor, "auto-generated" for the office's scheduled mail.
    """
    existing = session.exec(select(OutboxMail).where(OutboxMail.key == key)).first()
    if existing is not None:
        return None
    over = _over_limit(session, settings, to, kind, kind_per_day)
    headers: dict[str, str] = {"Auto-Submitted": auto_submitted, "X-Auto-Response-Suppress": "All"}
    parent = angled(in_reply_to)  # the contributor's msg-id: echoed only when it is a plain one
    if parent:
        chain = (angled(r) for r in references)
        headers["In-Reply-To"] = parent
        headers["References"] = " ".join(dict.fromkeys([*(r for r in chain if r), parent]))
    row = OutboxMail(
        key=key,
        kind=kind,
        draft_id=draft_id,
        to_addr=to,
        subject=nfc(subject),
        body_text=nfc(body),
        headers=headers,
        message_id=message_id_for(key, _domain(settings)),
        status=OutboxStatus.suppressed if over else OutboxStatus.pending,
        last_error=over,
        parts=_parts_json(html, inline, attachments),
    )
    session.add(row)
    session.flush()
    if over:
        log.warning("outbox: mail %s to %s suppressed: %s", key, to, over)
    return row


def _parts_json(html: str | None, inline: Sequence[Part], attachments: Sequence[Part]) -> dict[str, object] | None:
    if html is None and not inline and not attachments:
        return None
    if inline and html is None:
        raise ValueError("inline images need an HTML body that shows them")
    return {
        "html": nfc(html) if html is not None else None,
        "inline": [p.as_json() for p in inline],
        "attachments": [p.as_json() for p in attachments],
    }


_SENT_OR_SENDING = [s for s in OutboxStatus if s != OutboxStatus.suppressed]


def _over_limit(session: Session, settings: Settings, to: str, kind: str, kind_per_day: int | None) -> str | None:
    """Why one more automatic mail to `to` would be too many in the last 24 hours, or None.
    Counted from the outbox itself: anyone can make the office write to any address it accepts."""
    lock_name(session, f"outbox-recipient:{to.lower()}")  # two intake threads must not both see 19
    recent = (
        select(func.count())
        .select_from(OutboxMail)
        .where(
            func.lower(OutboxMail.to_addr) == to.lower(),
            col(OutboxMail.created_at) >= utcnow() - timedelta(days=1),
            col(OutboxMail.status).in_(_SENT_OR_SENDING),
        )
    )
    cap = settings.outbox.max_per_recipient_per_day
    if session.exec(recent).one() >= cap:
        return f"đã có {cap} thư tự động trong 24 giờ tới địa chỉ này / {cap} automatic emails in 24 h to this address"
    if kind_per_day is not None and session.exec(recent.where(OutboxMail.kind == kind)).one() >= kind_per_day:
        return (
            f"đã có {kind_per_day} thư loại {kind} trong 24 giờ tới địa chỉ này"
            f" / {kind_per_day} {kind} email(s) in 24 h to this address already"
        )
    return None


class PermanentSendError(Exception):
    """The server refused the mail for good (5xx): retrying will not help."""


class UnsafeMessage(PermanentSendError):
    """A header of the mail would break out of its line (CR/LF, raw or encoded): never sent."""


def build_message(row: OutboxMail, smtp: SmtpSettings) -> EmailMessage:
    msg = EmailMessage()
    try:
        msg["From"] = formataddr((smtp.sender_name, smtp.sender))
        msg["To"] = row.to_addr
        msg["Subject"] = row.subject
        msg["Date"] = format_datetime(row.created_at)
        msg["Message-ID"] = row.message_id
        for name, value in row.headers.items():
            msg[name] = value
    except ValueError as exc:  # the email package refuses a raw CR/LF in a header value
        raise UnsafeMessage(f"unsafe header: {exc}") from exc
    msg.set_content(row.body_text, charset="utf-8")
    if row.parts:
        _add_parts(msg, row.parts)
    return msg


def _add_parts(msg: EmailMessage, parts: dict[str, Any]) -> None:
    """multipart/mixed( multipart/alternative( text, multipart/related( html, images ) ), files )."""
    html = parts.get("html")
    if isinstance(html, str):
        msg.add_alternative(html, subtype="html", charset="utf-8")
        alternatives = msg.get_payload()
        assert isinstance(alternatives, list)  # multipart/alternative now: its parts, text then html
        html_part = alternatives[-1]
        assert isinstance(html_part, MIMEPart)
        for raw in parts.get("inline") or []:
            part = Part.from_json(raw)
            maintype, subtype = part.mime.split("/", 1)
            html_part.add_related(
                part.data, maintype, subtype, cid=f"<{part.cid}>", filename=part.filename, disposition="inline"
            )
    for raw in parts.get("attachments") or []:
        part = Part.from_json(raw)
        maintype, subtype = part.mime.split("/", 1)
        msg.add_attachment(part.data, maintype, subtype, filename=part.filename)


def smtp_send(settings: Settings, msg: EmailMessage, on_accepted: Callable[[], None] | None = None) -> None:
    """The one place that talks SMTP. `on_accepted` runs the moment the server has taken the mail,
    before anything else (QUIT, the caller's database write) can fail or be cut short."""
    smtp = settings.smtp
    assert smtp is not None
    raw = checked_wire_bytes(msg)  # refused before connecting: a bad mail is not a server problem
    context = ssl.create_default_context(cafile=smtp.ca_file or None)
    timeout = smtp.timeout_seconds
    client: smtplib.SMTP
    if smtp.security == "tls":
        client = smtplib.SMTP_SSL(smtp.host, smtp.port, timeout=timeout, context=context)
    else:
        client = smtplib.SMTP(smtp.host, smtp.port, timeout=timeout)
    with client:
        if smtp.security == "starttls":
            client.starttls(context=context)
        if smtp.username:
            _login(client, smtp.username, settings.secret(smtp.password_env) or "")
        recipients = [addr for _, addr in getaddresses(msg.get_all("To", []))]
        options = ["SMTPUTF8"] if not all(a.isascii() for a in recipients) else []
        try:
            refused = client.sendmail(smtp.sender, recipients, raw, mail_options=options)
            if on_accepted is not None:
                on_accepted()
        except smtplib.SMTPRecipientsRefused as exc:
            raise PermanentSendError(f"recipient refused: {exc.recipients}") from exc
        except smtplib.SMTPResponseException as exc:
            if 500 <= exc.smtp_code < 600:
                raise PermanentSendError(f"{exc.smtp_code} {exc.smtp_error!r}") from exc
            raise
        if refused:
            raise PermanentSendError(f"recipient refused: {refused}")


_SUBJECT_FIELD = re.compile(rb"^Subject:.*\r\n(?:[ \t].*\r\n)*", re.MULTILINE)


def wire_bytes(msg: EmailMessage) -> bytes:
    """The message as sent. The Subject is encoded with email.header: CPython's own folding can put a
    space between two encoded words, where every mail reader drops it ("đã đượcduyệt")."""
    raw = msg.as_bytes(policy=SMTP_POLICY)
    subject = str(msg["Subject"] or "")
    if subject.isascii():
        return raw
    encoded = Header(subject, "utf-8", header_name="Subject").encode(linesep="\r\n")
    return _SUBJECT_FIELD.sub(lambda _: f"Subject: {encoded}\r\n".encode("ascii"), raw, count=1)


_FIELD_LINE = re.compile(rb"([!-9;-~]+):")


def checked_wire_bytes(msg: EmailMessage) -> bytes:
    """`wire_bytes`, after proving that no header can break out of its line: raises UnsafeMessage.

    Checked on the bytes that go out, not on what we meant to write: every header line is a field
    or a folded continuation, the fields are exactly the message's own (an injected "Bcc:" line is
    a well-formed field too), and no header value, raw or decoded from RFC 2047 words, holds CR/LF.
    """
    for name, value in msg.items():
        if "\r" in str(value) or "\n" in str(value):
            raise UnsafeMessage(f"unsafe header: {name} holds a line break")
    raw = wire_bytes(msg)
    head = raw.split(b"\r\n\r\n", 1)[0]
    names: list[str] = []
    for line in head.split(b"\r\n"):
        if b"\r" in line or b"\n" in line:
            raise UnsafeMessage(f"unsafe header: bare CR or LF in {line[:60]!r}")
        if line[:1] in (b" ", b"\t") and names:
            continue
        field = _FIELD_LINE.match(line)
        if field is None:
            raise UnsafeMessage(f"unsafe header: a line is neither a field nor a continuation: {line[:60]!r}")
        names.append(field[1].decode("ascii").lower())
    if sorted(names) != sorted(k.lower() for k in msg):
        raise UnsafeMessage(f"unsafe header: fields on the wire {sorted(names)} differ from the message's")
    for name, value in BytesHeaderParser(policy=default).parsebytes(head + b"\r\n\r\n").items():
        if "\r" in str(value) or "\n" in str(value):
            raise UnsafeMessage(f"unsafe header: {name} decodes to a line break")
    return raw


def _login(client: smtplib.SMTP, username: str, password: str) -> None:
    if (username + password).isascii():
        client.login(username, password)
        return
    # smtplib encodes credentials as ASCII; AUTH PLAIN is UTF-8 by definition (RFC 4616).
    client.ehlo_or_helo_if_needed()
    token = base64.b64encode(f"\0{username}\0{password}".encode()).decode("ascii")
    code, resp = client.docmd("AUTH", f"PLAIN {token}")
    if code != 235:
        raise smtplib.SMTPAuthenticationError(code, resp)


@dataclass
class DeliveryReport:
    sent: int = 0
    retrying: int = 0
    failed: int = 0


def policy(settings: Settings) -> Backoff:
    o = settings.outbox
    return Backoff(base_seconds=o.backoff_seconds, max_seconds=o.backoff_max_seconds, max_attempts=o.max_attempts)


def backoff(settings: Settings, attempts: int) -> timedelta:
    return policy(settings).delay(attempts)


# The outbox's rows are jobs: claimed, backed off and given up by core.jobs. A claim's time is kept in
# next_attempt_at (the table has no column of its own for it).
MAIL = Queue(OutboxMail, claimed_at="next_attempt_at")


def deliver_due(
    engine: Engine,
    settings: Settings,
    *,
    now: datetime | None = None,
    limit: int = 100,
    orphans_before: datetime | None = None,
) -> DeliveryReport:
    """Send what is due. `orphans_before`: the moment the caller became the only sender (the worker
    that has just taken the outbox's lease): a mail claimed before it was being sent by a sender
    that is gone (killed mid-send), and is due again now rather than after STALE_CLAIM."""
    report = DeliveryReport()
    if settings.smtp is None:
        return report
    now = now or utcnow()
    rules = policy(settings)
    with transaction(engine) as s:
        MAIL.recover(s, now, stale=STALE_CLAIM)
        if orphans_before is not None:
            MAIL.recover(s, now, stale=now - orphans_before)
    with reading(engine) as s:
        due = MAIL.due(s, now, limit=limit)
    revived = False
    for mail_id in due:  # grows when the server is back (_revive)
        row = MAIL.claim(engine, mail_id, now)  # only one sender wins the row, whatever the number of workers
        if row is None:
            continue
        status, error = OutboxStatus.succeeded, None
        accepted = _Accepted(settings, row.message_id)
        try:
            if accepted.known():  # a sender that died after the server took it: it is not sent again
                log.warning("outbox: mail %s to %s was sent before its sender stopped", mail_id, row.to_addr)
            else:
                smtp_send(settings, build_message(row, settings.smtp), on_accepted=accepted.note)
        except PermanentSendError as exc:  # UnsafeMessage too: that row fails, the rest of the queue goes on
            status, error = OutboxStatus.failed, str(exc)
        except (TimeoutError, OSError, smtplib.SMTPException) as exc:
            prefix = UNREACHABLE if _server_down(exc) else ""
            status, error = OutboxStatus.retrying, f"{prefix}{type(exc).__name__}: {exc}"
        with transaction(engine) as s:
            if status == OutboxStatus.succeeded:
                MAIL.succeed(s, mail_id, now)
                s.exec(update(OutboxMail).where(col(OutboxMail.id) == mail_id).values(sent_at=utcnow()))
            else:
                status = OutboxStatus(
                    MAIL.fail(s, mail_id, error or "", retryable=status == OutboxStatus.retrying, now=now, policy=rules)
                )
        if status == OutboxStatus.succeeded:
            accepted.forget()  # the row says it now
        if status == OutboxStatus.succeeded:
            report.sent += 1
            if not revived:  # the server answers again: what waited for it goes now, not after its delay
                revived = True
                with transaction(engine) as s:
                    due.extend(i for i in _revive(s, now) if i not in due)
        elif status == OutboxStatus.retrying:
            report.retrying += 1
            log.warning("outbox: mail %s to %s not sent, will retry: %s", mail_id, row.to_addr, error)
        else:
            report.failed += 1
            log.error("outbox: mail %s to %s failed for good: %s", mail_id, row.to_addr, error)
        if status == OutboxStatus.retrying:
            # The server is down: the rest of the queue would fail the same way; try again later.
            break
    return report


class _Accepted:
    """A mark, next to the spool, that the SMTP server has accepted a mail, written the moment it answers
    and removed once the mail's row says "succeeded". The database write comes later and may have to
    wait for the write lock: a sender killed in that wait would leave the row claimed and the mail sent,
    and the mail would go twice. With the mark it goes once; only the instant between the server's answer
    and the mark remains (two parties cannot commit at once). It survives the process being killed; not
    fsync'd, so a power cut in that instant may still double a mail."""

    def __init__(self, settings: Settings, message_id: str) -> None:
        name = hashlib.sha256(message_id.encode()).hexdigest()
        self.path = settings.storage_dir / "outbox-accepted" / name

    def known(self) -> bool:
        return self.path.exists()

    def note(self) -> None:
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self.path.touch()
        except OSError:  # the disk is full: the mail went all the same; only the guard is missing
            log.exception("outbox: cannot mark %s as accepted", self.path.name)

    def forget(self) -> None:
        try:
            self.path.unlink(missing_ok=True)
        except OSError:
            log.exception("outbox: cannot remove the mark %s", self.path.name)


# The start of last_error when the server itself could not be reached (refused, timed out, closed, 421):
# such a mail waits for the server, not for anything of its own, and goes as soon as one mail has gone.
UNREACHABLE = "SMTP unreachable: "


def _server_down(exc: BaseException) -> bool:
    """The server is down or unreachable (no answer, or 421 "service not available"), as opposed to a
    4xx about this one mail or recipient (a full mailbox, greylisting), which keeps its own delay."""
    if isinstance(exc, smtplib.SMTPResponseException):
        return isinstance(exc, smtplib.SMTPConnectError) or exc.smtp_code == 421
    return True


def _revive(s: Session, now: datetime) -> list[int]:
    """Mail backed off only because the server was down: due now. Returns their ids."""
    waiting = (
        col(OutboxMail.status) == OutboxStatus.retrying,
        col(OutboxMail.next_attempt_at) > now,
        col(OutboxMail.last_error).startswith(UNREACHABLE),
    )
    ids = list(s.exec(select(OutboxMail.id).where(*waiting).order_by(col(OutboxMail.id))).all())
    if ids:
        s.exec(update(OutboxMail).where(col(OutboxMail.id).in_(ids)).values(next_attempt_at=now))
        log.info("outbox: the SMTP server answers again; %s waiting mail(s) due now", len(ids))
    return [i for i in ids if i is not None]


def status_counts(session: Session) -> dict[str, int]:
    """Queued mail by status (the status page)."""
    q = select(OutboxMail.status, func.count()).group_by(col(OutboxMail.status))
    return {status: int(n) for status, n in session.exec(q).all()}
