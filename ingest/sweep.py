"""The mailbox sweep: the transport half of intake (Mailman's incoming runner).

The never-lose protocol (DESIGN.md): fetch without side effects, write the raw bytes durably,
commit the row, and only then acknowledge on the server. Processing works from the spool, so a
crash at any step loses nothing, and the sha256 identity makes every step safe to repeat.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass

from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from core.db import reading, transaction, utcnow
from core.progress import HANDFUL, progress_bar
from core.settings import Settings
from core.storage import Store, sha256_hex
from ingest import spool
from ingest.mailbox import Fetched, MailboxSession
from ingest.models import InboundMessage, InboundStatus, MailboxCursor, Reason
from ingest.parse import HeaderSummary, parse_headers

log = logging.getLogger(__name__)

# Leading header fields a delivery agent prepends; they differ between two deliveries of one email.
_TRACE_FIELDS = {b"received", b"return-path", b"delivered-to", b"x-original-to", b"x-delivered-to"}
_MAX_BATCH_BYTES = 64 * 2**20
_NEEDS_ACK = {InboundStatus.accepted, InboundStatus.quarantined}


@dataclass
class SweepReport:
    listed: int = 0
    stored: int = 0
    duplicates: int = 0
    acked: int = 0
    processed: int = 0


def identity_sha256(raw: bytes) -> str:
    """sha256 of the message without the trace header fields prepended in transit."""
    return hashlib.sha256(memoryview(raw)[_trace_end(raw) :]).hexdigest()  # no copy of a large message


def header_identity(head: bytes, size: int) -> str:
    """Identity of a message known only by its header block and its whole size (too large to fetch):
    one email delivered twice is one record here too, and never the same record as a whole message."""
    pos = _trace_end(head)
    digest = hashlib.sha256(f"header-only:{size - pos}:".encode())
    digest.update(memoryview(head)[pos:])
    return digest.hexdigest()


def header_block(raw: bytes) -> bytes:
    """The header fields and the empty line after them, as IMAP's BODY[HEADER] gives them."""
    ends = [i + len(sep) for sep in (b"\r\n\r\n", b"\n\n") if (i := raw.find(sep)) >= 0]
    return raw[: min(ends)] if ends else raw


def _trace_end(raw: bytes) -> int:
    """Where the message starts after the trace header fields a delivery prepends."""
    pos, n = 0, len(raw)
    while pos < n:
        eol = raw.find(b"\n", pos)
        if eol < 0:
            break
        line = raw[pos:eol]
        name, colon, _ = line.partition(b":")
        if not colon or name.strip().lower() not in _TRACE_FIELDS:
            break
        end = eol + 1
        while end < n and raw[end : end + 1] in (b" ", b"\t"):  # folded continuation lines
            nxt = raw.find(b"\n", end)
            end = n if nxt < 0 else nxt + 1
        pos = end
    return pos


def _needs_ack(status: str, reason: str | None) -> bool:
    return status in _NEEDS_ACK or (status == InboundStatus.ignored and reason == Reason.duplicate)


def _chunks(items: Sequence[int], n: int) -> Iterator[list[int]]:
    for i in range(0, len(items), n):
        yield list(items[i : i + n])


class Sweep:
    """Stores what a mailbox holds and acknowledges what was handled; one per process (it remembers
    the Maildir refs it has stored, which have no UID cursor)."""

    def __init__(self, settings: Settings, engine: Engine, store: Store) -> None:
        self.settings = settings
        self.engine = engine
        self.store = store
        self._seen_refs: dict[str, set[str]] = {}  # per mailbox: refs known to be stored (Maildir)

    def sweep(self, mbox: MailboxSession, process_pending: Callable[[], int], *, full: bool = False) -> SweepReport:
        """Store every new message of the mailbox, process what is pending, acknowledge what is done
        (after processing: only a handled message leaves the watched folder)."""
        report = SweepReport()
        after_uid = None if full else self._cursor(mbox)
        refs = mbox.pending(after_uid)
        report.listed = len(refs)
        seen = self._seen_refs.setdefault(mbox.name, set())
        known = self._known_locations(mbox, refs)
        to_fetch = [r for r in refs if r not in known and r not in seen]
        extra_acks: list[tuple[str, int]] = []  # (ref, id of the row it duplicates)
        size_of = mbox.sizes(to_fetch)  # RFC822.SIZE first: a message over the limit is never downloaded
        # A backlog (an office's first sweep of a year of mail) shows its counts on a terminal.
        with progress_bar("Tải thư", unit="thư", minimum=HANDFUL) as bar:
            done = 0
            for batch, too_large in self._batches(to_fetch, size_of):
                fetched = mbox.fetch_headers(batch, size_of) if too_large else mbox.fetch(batch)
                stored, dupes = self._store_batch(mbox, fetched)
                report.stored += stored
                report.duplicates += len(dupes)
                extra_acks.extend(dupes)
                seen.update(batch)
                done += len(batch)
                bar(done, len(to_fetch))
        report.processed = process_pending()
        report.acked = self._acknowledge(mbox, extra_acks)
        return report

    def _cursor(self, mbox: MailboxSession) -> int | None:
        """Last stored UID for this UIDVALIDITY; None (rescan everything) when unknown or changed."""
        if mbox.uidvalidity is None:
            return None
        with reading(self.engine) as s:
            cur = s.get(MailboxCursor, (mbox.name, mbox.uidvalidity))
        if cur is None:
            log.info("mailbox %s: no cursor for UIDVALIDITY %s, full rescan", mbox.name, mbox.uidvalidity)
            return None
        return cur.last_uid

    def _known_locations(self, mbox: MailboxSession, refs: Sequence[str]) -> set[str]:
        if mbox.uidvalidity is None or not refs:
            return set()
        uids = [int(r) for r in refs]
        known: set[str] = set()
        with reading(self.engine) as s:
            for chunk in _chunks(uids, 500):
                rows = s.exec(
                    select(InboundMessage.uid).where(
                        InboundMessage.mailbox == mbox.name,
                        InboundMessage.uidvalidity == mbox.uidvalidity,
                        col(InboundMessage.uid).in_(chunk),
                    )
                ).all()
                known.update(str(u) for u in rows)
        return known

    def _batches(self, refs: list[str], size_of: dict[str, int]) -> Iterator[tuple[list[str], bool]]:
        """Batches of at most fetch_batch messages and about _MAX_BATCH_BYTES, to bound memory, in UID
        order (the cursor stays right after a crash); each batch is either all over max_message_bytes
        (True: only their headers are fetched) or all within it."""
        limit = self.settings.ingest.max_message_bytes
        batch: list[str] = []
        total = 0
        batch_too_large = False
        for ref in refs:
            size = size_of.get(ref, 0)
            too_large = size > limit
            if batch and (
                too_large != batch_too_large
                or len(batch) >= self.settings.mailbox.fetch_batch
                or (not too_large and total + size > _MAX_BATCH_BYTES)
            ):
                yield batch, batch_too_large
                batch, total = [], 0
            batch.append(ref)
            batch_too_large = too_large
            total += size
        if batch:
            yield batch, batch_too_large

    def _store_batch(self, mbox: MailboxSession, fetched: Iterable[Fetched]) -> tuple[int, list[tuple[str, int]]]:
        """Spool every message durably, then commit their rows and the cursor in one transaction."""
        items = []
        for f in fetched:
            # A message over the limit is spooled as its header block only: who sent it, for the editors.
            raw_sha = spool.put(self.store, f.raw, sha256_hex(f.raw))  # fsync'd
            ident = identity_sha256(f.raw) if f.size is None else header_identity(f.raw, f.size)
            items.append((f, raw_sha, ident, _listing(f.raw)))
        if not items:
            return 0, []
        stored = 0
        dupes: list[tuple[str, int]] = []
        with transaction(self.engine) as s:
            for f, raw_sha, ident, head in items:
                existing = s.exec(select(InboundMessage.id).where(InboundMessage.sha256 == ident)).first()
                if existing is not None:
                    dupes.append((f.ref, existing))
                    continue
                if f.size is None and self._complete_header_only_row(s, mbox, f, raw_sha, ident):
                    stored += 1
                    continue
                s.add(
                    InboundMessage(
                        sha256=ident,
                        raw_sha256=raw_sha,
                        size=len(f.raw) if f.size is None else f.size,
                        mailbox=mbox.name,
                        uidvalidity=mbox.uidvalidity,
                        uid=f.uid,
                        ref=f.ref,
                        message_id=head.message_id,
                        subject=head.subject,
                        sender=head.sender_address,
                        sender_name=head.sender_name,
                    )
                )
                s.flush()  # a second copy in the same batch must see this row
                stored += 1
            uids = [f.uid for f, *_ in items if f.uid is not None]
            if uids and mbox.uidvalidity is not None:
                cur = s.get(MailboxCursor, (mbox.name, mbox.uidvalidity))
                if cur is None:
                    cur = MailboxCursor(mailbox=mbox.name, uidvalidity=mbox.uidvalidity)
                cur.last_uid = max(cur.last_uid, *uids)
                cur.updated_at = utcnow()
                s.add(cur)
        return stored, dupes

    def _complete_header_only_row(self, s: Session, mbox: MailboxSession, f: Fetched, raw_sha: str, ident: str) -> bool:
        """A message once too large, fetched whole now (the limit was raised and it was put back in
        the watched folder): its quarantined header-only row takes the whole message and is processed
        again, instead of a second row for the same email."""
        row = s.exec(
            select(InboundMessage).where(InboundMessage.sha256 == header_identity(header_block(f.raw), len(f.raw)))
        ).first()
        if row is None or row.status != InboundStatus.quarantined:
            return False
        row.sha256, row.raw_sha256, row.size = ident, raw_sha, len(f.raw)
        row.mailbox, row.uidvalidity, row.uid, row.ref = mbox.name, mbox.uidvalidity, f.uid, f.ref
        row.status, row.reason, row.detail, row.acked = InboundStatus.received, None, None, False
        row.attempts += 1
        s.add(row)
        s.flush()
        return True

    def _acknowledge(self, mbox: MailboxSession, extra: list[tuple[str, int]]) -> int:
        """Move handled messages out of the watched folder. Advisory: the database already has them."""
        with reading(self.engine) as s:
            rows = s.exec(
                select(InboundMessage.id, InboundMessage.ref, InboundMessage.status, InboundMessage.reason).where(
                    InboundMessage.mailbox == mbox.name,
                    InboundMessage.uidvalidity == mbox.uidvalidity,
                    col(InboundMessage.acked).is_(False),
                )
            ).all()
            ack_ids = [
                id_ for id_, ref, status, reason in rows if id_ is not None and ref and _needs_ack(status, reason)
            ]
            refs = [ref for _, ref, status, reason in rows if ref and _needs_ack(status, reason)]
            if extra:
                status_of = {
                    id_: (status, reason)
                    for id_, status, reason in s.exec(
                        select(InboundMessage.id, InboundMessage.status, InboundMessage.reason).where(
                            col(InboundMessage.id).in_([i for _, i in extra])
                        )
                    ).all()
                }
                refs += [ref for ref, i in extra if i in status_of and _needs_ack(*status_of[i])]
        if not refs:
            return 0
        mbox.ack(refs)
        with transaction(self.engine) as s:
            for chunk in _chunks(ack_ids, 500):
                for row in s.exec(select(InboundMessage).where(col(InboundMessage.id).in_(chunk))).all():
                    row.acked = True
                    s.add(row)
        return len(refs)


def _listing(raw: bytes) -> HeaderSummary:
    """The fields the inbox lists, or empty ones: a header block that breaks our reader must not stop
    the mailbox (it would fail again on every sweep, and every message after it would wait). The
    message is stored all the same; the pipeline then records why it cannot be used."""
    try:
        return parse_headers(raw)
    except Exception:
        log.exception("intake: a message's headers could not be read; stored with empty listing fields")
        return HeaderSummary(message_id=None, subject="", sender_address="", sender_name="")
