"""Intake: mailbox -> durable spool + row -> processing -> drafts, receipts, quarantine.

The never-lose protocol (DESIGN.md): fetch without side effects, write the raw bytes durably,
commit the row, and only then acknowledge on the server. Processing works from the spool, so a
crash at any step loses nothing, and the sha256 identity makes every step safe to repeat.
State transitions of InboundMessage happen only in this module.
"""

from __future__ import annotations

import hashlib
import logging
import re
import uuid
from collections.abc import Iterable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from core.db import lock_name, reading, transaction, utcnow
from core.drafts import add_event, load_for_update, new_revision, refresh_search_text, snapshot, transition
from core.models import LIVE_DRAFT_STATUSES, Draft, DraftImage, DraftStatus, OutboxMail
from core.outbox import enqueue
from core.senders import unit_for_address
from core.settings import Settings, Unit
from core.storage import Store, sha256_hex
from core.text import nfc, syllable_count
from ingest import notices, rules
from ingest.mailbox import Fetched, MailboxSession
from ingest.models import InboundMessage, InboundStatus, MailboxCursor, Reason
from ingest.parse import Attachment, ParsedMessage, parse_headers, parse_message
from ingest.word import (
    ConversionLimits,
    ConvertedDocument,
    ConvertedImage,
    DocumentError,
    convert_document_isolated,
    convert_photos_isolated,
    is_document_candidate,
)
from ingest.word.pool import set_pool_size

log = logging.getLogger(__name__)

# Leading header fields a delivery agent prepends; they differ between two deliveries of one email.
_TRACE_FIELDS = {b"received", b"return-path", b"delivered-to", b"x-original-to", b"x-delivered-to"}
# Small inline pictures in an HTML mail are signatures and logos, not the article's photos.
_MIN_INLINE_PHOTO_BYTES = 30_000
_MAX_BATCH_BYTES = 64 * 2**20
_NEEDS_ACK = {InboundStatus.accepted, InboundStatus.quarantined}
_REFETCH_HINT = (
    "Thư {size} byte chỉ được tải phần tiêu đề vì từng vượt giới hạn; thư gốc vẫn ở trên máy chủ thư"
    " (thư mục “{folder}”): chuyển thư về thư mục nhận bài để tải lại toàn bộ ở lượt quét sau."
    " / The {size}-byte message was too large and only its header was downloaded; it is still on the mail"
    " server (folder “{folder}”): move it back to the watched folder and the next sweep downloads it whole."
)
TRACKING_CODE = re.compile(r"\bTS-\d{4}-\d{5,}\b", re.IGNORECASE)
# A reply revises a draft that is still being worked on; after a decision it is a new submission.
REVISABLE = {DraftStatus.pending_review, DraftStatus.proposed, DraftStatus.changes_requested}


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


# ------------------------------------------------------------------------------------------------
# Processing outcomes (computed without writing; applied in one short transaction)


@dataclass
class ImagePlan:
    sha256: str
    content_type: str
    width: int | None
    height: int | None
    caption: str | None
    alt: str | None
    origin: str
    web_content_type: str | None
    web_width: int | None
    web_height: int | None


@dataclass
class DraftPlan:
    kind: str
    title: str
    lead: str | None
    body_html: str
    byline: str | None
    syllables: int
    source_file: str | None
    source_sha256: str | None
    source_format: str
    warnings: list[str]
    images: list[ImagePlan]


@dataclass
class Outcome:
    status: InboundStatus
    reason: Reason | None = None
    detail: str | None = None
    drafts: list[DraftPlan] = field(default_factory=list)
    problems: list[dict[str, str]] = field(default_factory=list)
    notify: bool = False  # tell the contributor (receipt or quarantine notice)
    revises: int | None = None  # the draft a contributor's reply revises (its first document)


@dataclass
class SweepReport:
    listed: int = 0
    stored: int = 0
    duplicates: int = 0
    acked: int = 0
    processed: int = 0


# The order in which a reason explains a message when several files failed.
_REASON_PRIORITY = [
    Reason.encrypted_document,
    Reason.too_large,
    Reason.unsupported_document,
    Reason.corrupt_document,
    Reason.converter_missing,
]


class Ingestor:
    def __init__(self, settings: Settings, engine: Engine) -> None:
        self.settings = settings
        self.engine = engine
        self.store = Store(settings.storage_dir)
        i = settings.ingest
        self.limits = ConversionLimits(
            max_document_bytes=i.max_document_bytes,
            max_uncompressed_bytes=i.max_uncompressed_bytes,
            web_width=i.web_image_width,
            timeout_seconds=float(i.conversion_timeout_seconds),
            memory_mb=i.conversion_memory_mb,
            soffice=i.soffice or None,
            confinement=i.libreoffice_confinement,
        )
        set_pool_size(i.workers)
        self.marker = settings.mailbox.subject_marker
        self._seen_refs: dict[str, set[str]] = {}  # per mailbox: refs known to be stored (Maildir)

    # -------------------------------------------------------------------------------- transport
    def sweep(self, mbox: MailboxSession, *, full: bool = False) -> SweepReport:
        """Store every new message of the mailbox, process what is pending, acknowledge what is done."""
        report = SweepReport()
        after_uid = None if full else self._cursor(mbox)
        refs = mbox.pending(after_uid)
        report.listed = len(refs)
        seen = self._seen_refs.setdefault(mbox.name, set())
        known = self._known_locations(mbox, refs)
        to_fetch = [r for r in refs if r not in known and r not in seen]
        extra_acks: list[tuple[str, int]] = []  # (ref, id of the row it duplicates)
        size_of = mbox.sizes(to_fetch)  # RFC822.SIZE first: a message over the limit is never downloaded
        for batch, too_large in self._batches(to_fetch, size_of):
            fetched = mbox.fetch_headers(batch, size_of) if too_large else mbox.fetch(batch)
            stored, dupes = self._store_batch(mbox, fetched)
            report.stored += stored
            report.duplicates += len(dupes)
            extra_acks.extend(dupes)
            seen.update(batch)
        report.processed = self.process_pending()
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
            raw_sha = self.store.put("spool", f.raw, sha=sha256_hex(f.raw), suffix=".eml")  # fsync'd
            ident = identity_sha256(f.raw) if f.size is None else header_identity(f.raw, f.size)
            items.append((f, raw_sha, ident, parse_headers(f.raw)))
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
            ack_ids = [r.id for r in rows if r.ref and _needs_ack(r.status, r.reason)]
            refs = [r.ref for r in rows if r.ref and _needs_ack(r.status, r.reason)]
            if extra:
                status_of = {
                    r.id: (r.status, r.reason)
                    for r in s.exec(
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

    # ------------------------------------------------------------------------------- processing
    def process_pending(self, *, threads: int | None = None) -> int:
        with reading(self.engine) as s:
            ids = list(
                s.exec(
                    select(InboundMessage.id)
                    .where(InboundMessage.status == InboundStatus.received)
                    .order_by(col(InboundMessage.id))
                ).all()
            )
        if not ids:
            return 0
        threads = threads or self.settings.ingest.workers + 1
        if len(ids) == 1 or threads <= 1:
            for i in ids:
                self.process_one(i)
        else:
            with ThreadPoolExecutor(max_workers=threads, thread_name_prefix="ingest") as pool:
                list(pool.map(self.process_one, ids))
        return len(ids)

    def process_one(self, inbound_id: int) -> None:
        with reading(self.engine) as s:
            row = s.get(InboundMessage, inbound_id)
        if row is None or row.status != InboundStatus.received:
            return
        try:
            outcome, parsed = self.evaluate(row)
        except Exception as exc:  # a bug must not stop the batch; the message waits, visible, for retry
            log.exception("processing inbound %s (%s) failed", inbound_id, row.sha256[:12])
            outcome = Outcome(InboundStatus.quarantined, Reason.corrupt_document, f"internal error: {exc!r}")
            parsed = None
        with transaction(self.engine) as s:
            fresh = s.get(InboundMessage, inbound_id)
            if fresh is None or fresh.status != InboundStatus.received:
                return
            self._apply(s, fresh, outcome, parsed)
        log.info(
            "inbound %s %s: %s %s drafts=%s",
            inbound_id,
            row.sha256[:12],
            outcome.status,
            outcome.reason or "",
            len(outcome.drafts),
        )

    def evaluate(self, row: InboundMessage) -> tuple[Outcome, ParsedMessage | None]:
        if not rules.is_submission(row.subject, self.marker) and not self._answers_us(row):
            return Outcome(InboundStatus.ignored, Reason.not_a_submission), None
        if row.size > self.settings.ingest.max_message_bytes:
            detail = f"message is {row.size} bytes, limit {self.settings.ingest.max_message_bytes}"
            if self._header_only(row):
                detail += "; only its header was downloaded, the message stays on the mail server"
            return Outcome(InboundStatus.quarantined, Reason.too_large, detail, notify=True), None
        if self._header_only(row):  # retried after the limit was raised: the body was never downloaded
            return Outcome(InboundStatus.quarantined, Reason.too_large, self._refetch_hint(row)), None
        # Read here and dropped with this frame's parse: a large message is held in memory once.
        parsed = parse_message(self.store.get("spool", row.raw_sha256, ".eml"))
        if parsed.is_auto_reply:
            return Outcome(InboundStatus.ignored, Reason.not_a_submission, "automatic reply"), parsed
        if row.message_id:
            with reading(self.engine) as s:
                first = s.exec(
                    select(InboundMessage.id).where(
                        InboundMessage.message_id == row.message_id, col(InboundMessage.id) < row.id
                    )
                ).first()
            if first is not None:
                return Outcome(InboundStatus.ignored, Reason.duplicate, f"same Message-ID as #{first}"), parsed
        outcome = self._documents(parsed)
        if parsed.sender_unverified(self.settings.mailbox.trusted_authserv_ids):
            # Our server found the From forged: mail nobody on its word, revise nobody's draft.
            outcome.notify = False
            for plan in outcome.drafts:
                plan.warnings.append("sender_unverified")
        elif outcome.status == InboundStatus.accepted and outcome.drafts and outcome.drafts[0].source_sha256:
            outcome.revises = self._replied_draft(parsed)
        return outcome, parsed

    def _refetch_hint(self, row: InboundMessage) -> str:
        m = self.settings.mailbox
        return _REFETCH_HINT.format(size=row.size, folder=m.processed_folder or m.folder)

    def _header_only(self, row: InboundMessage) -> bool:
        """Spooled as its header block alone (it was over the limit): the spool file is shorter than the email."""
        return self.store.path("spool", row.raw_sha256, ".eml").stat().st_size < row.size

    def _answers_us(self, row: InboundMessage) -> bool:
        """A reply to one of the office's emails about a draft is a submission even without the
        marker: the contributor answers "Re: [TS-2026-00012] Đề nghị chỉnh sửa bài ..."."""
        if TRACKING_CODE.search(row.subject):
            return True
        with open(self.store.path("spool", row.raw_sha256, ".eml"), "rb") as fh:
            replied = parse_headers(fh.read(256_000)).replied_ids
        if not replied:
            return False
        angled = [f"<{i}>" for i in replied]
        with reading(self.engine) as s:
            mail = s.exec(
                select(OutboxMail.id).where(
                    col(OutboxMail.message_id).in_(angled), col(OutboxMail.draft_id).is_not(None)
                )
            ).first()
        return mail is not None

    def _replied_draft(self, parsed: ParsedMessage) -> int | None:
        """The draft a contributor's reply is about: by tracking code in the subject, else by the
        In-Reply-To/References of one of our emails or of their first submission. Only the draft's
        own sender can revise it, and only while it is still open."""
        code = TRACKING_CODE.search(parsed.subject)
        ids = [i for i in (parsed.in_reply_to, *parsed.references) if i]
        with reading(self.engine) as s:
            draft = None
            if code:
                draft = s.exec(select(Draft).where(Draft.tracking_code == code.group(0).upper())).first()
            if draft is None and ids:
                angled = [i if i.startswith("<") else f"<{i}>" for i in ids]
                mail = s.exec(
                    select(OutboxMail).where(
                        col(OutboxMail.message_id).in_(angled), col(OutboxMail.draft_id).is_not(None)
                    )
                ).first()
                if mail is not None:
                    draft = s.get(Draft, mail.draft_id)
                else:
                    bare = [i.strip("<>") for i in ids]
                    draft = s.exec(select(Draft).where(col(Draft.message_id).in_(bare)).order_by(col(Draft.id))).first()
        if draft is None or draft.sender != parsed.sender_address or draft.status not in REVISABLE:
            return None
        return draft.id

    def _documents(self, parsed: ParsedMessage) -> Outcome:
        docs: list[Attachment] = []
        photos: list[Attachment] = []
        for a in parsed.attachments:
            if is_document_candidate(a.filename, a.content_type, a.data):
                docs.append(a)
            elif _is_photo(a):
                photos.append(a)
        subject_rest = rules.subject_remainder(parsed.subject, self.marker)
        if not docs:
            return self._from_body(parsed, subject_rest, photos)
        plans: list[DraftPlan] = []
        problems: list[dict[str, str]] = []
        pending_photos = [(a.filename, a.data) for a in photos]
        seen: set[str] = set()
        for doc in docs:
            sha = sha256_hex(doc.data)
            if sha in seen:  # the same file attached twice is one draft
                continue
            seen.add(sha)
            name = doc.filename or "(không tên)"
            if len(doc.data) > self.settings.ingest.max_document_bytes:
                problems.append(_problem(name, Reason.too_large, f"{len(doc.data)} bytes"))
                continue
            try:
                converted = convert_document_isolated(
                    doc.data, doc.filename, limits=self.limits, attached_images=pending_photos
                )
            except DocumentError as exc:
                problems.append(_problem(name, Reason(exc.reason), exc.detail))
                continue
            pending_photos = []  # photos beside the files belong to the first draft
            self.store.put("documents", doc.data, sha=sha, sync=False)  # the raw mail is the durable copy
            plans.append(self._plan(converted, doc, sha, subject_rest))
        if not plans:
            reasons = [Reason(p["reason"]) for p in problems]
            reason = min(reasons, key=_REASON_PRIORITY.index)
            detail = "; ".join(f"{p['file']}: {p['reason']} ({p['detail']})" for p in problems)
            return Outcome(
                InboundStatus.quarantined, reason, detail, problems=problems, notify=notices.should_notify(reason)
            )
        return Outcome(InboundStatus.accepted, drafts=plans, problems=problems, notify=True)

    def _plan(self, c: ConvertedDocument, doc: Attachment, sha: str, subject_rest: str) -> DraftPlan:
        title, title_warnings = rules.choose_title(c.title, subject_rest, doc.filename)
        syllables = syllable_count(c.text)
        kind = rules.decide_kind(
            rules.explicit_kind(subject_rest, rules.file_stem(doc.filename)),
            syllables,
            self.settings.ingest.bai_min_syllables,
        )
        return DraftPlan(
            kind=kind,
            title=title,
            lead=c.lead,
            body_html=c.body_html,
            byline=c.byline,
            syllables=syllables,
            source_file=doc.filename or None,
            source_sha256=sha,
            source_format=c.format,
            warnings=[*c.warnings, *title_warnings, *self._length_warnings(kind, syllables)],
            images=[self._store_image(img) for img in c.images],
        )

    def _length_warnings(self, kind: str, syllables: int) -> list[str]:
        i = self.settings.ingest
        bounds = {"tin": (i.warn_tin_below, i.warn_tin_above), "bai": (i.warn_bai_below, i.warn_bai_above)}
        return rules.length_warnings(kind, syllables, bounds)

    def _store_image(self, img: ConvertedImage) -> ImagePlan:
        self.store.put("media", img.data, sha=img.sha256, sync=False)
        if img.web_data is not None:
            self.store.put("media", img.web_data, sha=img.sha256, suffix=".web", sync=False)
        return ImagePlan(
            sha256=img.sha256,
            content_type=img.content_type,
            width=img.width,
            height=img.height,
            caption=img.caption,
            alt=img.alt,
            origin=img.origin,
            web_content_type=img.web_content_type,
            web_width=img.web_width,
            web_height=img.web_height,
        )

    def _from_body(self, parsed: ParsedMessage, subject_rest: str, photos: list[Attachment]) -> Outcome:
        article = rules.article_text_from_body(parsed.text_body)
        syllables = syllable_count(article)
        if syllables < self.settings.ingest.body_min_syllables:
            detail = f"no Word file; the body has {syllables} syllables"
            return Outcome(InboundStatus.quarantined, Reason.no_document, detail, notify=True)
        title, body_html = rules.body_article(parsed.text_body, subject_rest)
        warnings = ["from_email_body"]
        images: list[ImagePlan] = []
        if photos:
            try:
                converted, photo_warnings = convert_photos_isolated(
                    [(a.filename, a.data) for a in photos], limits=self.limits
                )
            except DocumentError as exc:  # unreadable photos do not sink the article
                converted, photo_warnings = [], ["attached_image_rejected"]
                log.warning("photos of inbound message unreadable: %s", exc.detail)
            images = [self._store_image(img) for img in converted]
            warnings += photo_warnings
        kind = rules.decide_kind(rules.explicit_kind(subject_rest), syllables, self.settings.ingest.bai_min_syllables)
        plan = DraftPlan(
            kind=kind,
            title=title,
            lead=None,
            body_html=body_html,
            byline=None,
            syllables=syllables,
            source_file=None,
            source_sha256=None,
            source_format="email",
            warnings=warnings + self._length_warnings(kind, syllables),
            images=images,
        )
        return Outcome(InboundStatus.accepted, drafts=[plan], notify=True)

    # ----------------------------------------------------------------------------------- writes
    def _apply(self, s: Session, row: InboundMessage, outcome: Outcome, parsed: ParsedMessage | None) -> None:
        now = utcnow()
        if parsed is not None:
            row.subject = parsed.subject or row.subject
            row.sender = parsed.sender_address or row.sender
            row.sender_name = parsed.sender_name or row.sender_name
        row.status = outcome.status
        row.reason = outcome.reason
        row.detail = outcome.detail
        row.problems = outcome.problems
        row.processed_at = now
        to_addr = row.sender  # never Reply-To: anyone can aim it at a third party
        items: list[notices.ReceiptItem] = []
        draft_ids: list[int] = []
        for i, plan in enumerate(outcome.drafts):
            revised = i == 0 and outcome.revises is not None
            if revised:
                draft, linked = self._revise(s, row, plan, outcome.revises), False  # type: ignore[arg-type]
            else:
                draft, linked = self._create_or_link(s, row, plan, now)
            assert draft.id is not None
            draft_ids.append(draft.id)
            items.append(notices.ReceiptItem(draft.title, draft.kind, draft.tracking_code, linked, revised))
        row.draft_ids = draft_ids
        s.add(row)
        if not (outcome.notify and to_addr and "@" in to_addr):
            return
        echo = self._unit_for(s, to_addr) is not None  # to an unknown address, nothing the sender wrote
        once_a_day: int | None = None
        if outcome.status == InboundStatus.accepted:
            subject, body = notices.receipt(
                self.settings,
                sender_name=row.sender_name,
                subject=row.subject,
                received_at=row.received_at,
                items=items,
                problems=outcome.problems,
                echo=echo,
            )
            kind, key = "receipt", f"receipt:{row.sha256}"
        else:
            assert outcome.reason is not None
            subject, body = notices.quarantine_notice(
                self.settings,
                sender_name=row.sender_name,
                subject=row.subject,
                received_at=row.received_at,
                reason=outcome.reason,
                echo=echo,
            )
            kind, key, once_a_day = "quarantine_notice", f"notice:{row.sha256}", 1
        enqueue(
            s,
            self.settings,
            key=key,
            kind=kind,
            to=to_addr,
            subject=subject,
            body=body,
            in_reply_to=row.message_id,
            references=parsed.references if parsed else (),
            draft_id=draft_ids[0] if draft_ids else None,
            kind_per_day=once_a_day,
        )

    def _create_or_link(self, s: Session, row: InboundMessage, plan: DraftPlan, now: datetime) -> tuple[Draft, bool]:
        warnings = list(plan.warnings)
        duplicate_of: int | None = None
        if plan.source_sha256:
            lock_name(s, f"document:{plan.source_sha256}")  # two emails with one file: one draft
            earlier = s.exec(
                select(Draft).where(Draft.source_sha256 == plan.source_sha256).order_by(col(Draft.id))
            ).all()
            live = [d for d in earlier if d.status in LIVE_DRAFT_STATUSES]
            if live:
                return live[0], True  # the same document re-sent: no second pending draft
            if earlier:  # re-sent after a rejection: a new draft, flagged for the editors
                duplicate_of = earlier[-1].id
                warnings.append(f"duplicate_of:{duplicate_of}")
        unit = self._unit_for(s, row.sender)
        if unit is None:
            warnings.append("unknown_sender")
        draft = Draft(
            tracking_code=f"tmp-{uuid.uuid4()}",
            kind=plan.kind,
            title=nfc(plan.title),
            lead=plan.lead,
            body_html=plan.body_html,
            byline=plan.byline,
            text_syllables=plan.syllables,
            unit_code=unit.code if unit else None,
            sender=row.sender,
            sender_name=row.sender_name,
            message_id=row.message_id,
            inbound_id=row.id,
            source_file=plan.source_file,
            source_sha256=plan.source_sha256,
            source_format=plan.source_format,
            warnings=list(dict.fromkeys(warnings)),
            duplicate_of=duplicate_of,
            created_at=now,
            updated_at=now,
        )
        s.add(draft)
        s.flush()
        assert draft.id is not None
        draft.tracking_code = tracking_code(draft.id, now, self.settings)
        refresh_search_text(draft)
        for pos, img in enumerate(plan.images):
            s.add(DraftImage(draft_id=draft.id, position=pos, **img.__dict__))
        s.add(draft)
        s.flush()
        actor = f"contributor:{row.sender}"
        snapshot(s, draft, author=actor)
        add_event(s, draft, actor=actor, action="received", to_status=draft.status, data={"inbound_id": row.id})
        return draft, False

    def _unit_for(self, s: Session, address: str) -> Unit | None:
        return unit_for_address(s, self.settings, address)

    def _revise(self, s: Session, row: InboundMessage, plan: DraftPlan, draft_id: int) -> Draft:
        """The contributor's revised file: a new revision of the same draft, back in the queue."""
        draft = load_for_update(s, draft_id)
        actor = f"contributor:{row.sender}"
        draft.title, draft.lead, draft.body_html, draft.byline = nfc(plan.title), plan.lead, plan.body_html, plan.byline
        draft.kind, draft.text_syllables = plan.kind, plan.syllables
        draft.source_file, draft.source_sha256, draft.source_format = (
            plan.source_file,
            plan.source_sha256,
            plan.source_format,
        )
        keep = [w for w in draft.warnings if w == "unknown_sender"]
        draft.warnings = list(dict.fromkeys([*keep, *plan.warnings]))
        draft.inbound_id = row.id
        for old in s.exec(select(DraftImage).where(DraftImage.draft_id == draft.id)).all():
            s.delete(old)
        s.flush()
        for pos, img in enumerate(plan.images):
            s.add(DraftImage(draft_id=draft_id, position=pos, **img.__dict__))
        s.flush()
        new_revision(s, draft, author=actor, note="Bản sửa của tác giả")
        data = {"inbound_id": row.id, "revision": draft.revision}
        if draft.status == DraftStatus.pending_review:
            add_event(s, draft, actor=actor, action="revision_received", data=data)
        else:
            transition(s, draft, DraftStatus.pending_review, actor=actor, action="revision_received", data=data)
        return draft

    # ------------------------------------------------------------------------------------ retry
    def retry(self, inbound_id: int) -> InboundMessage:
        """Reprocess a quarantined message (for instance after LibreOffice was installed)."""
        with transaction(self.engine) as s:
            row = s.get(InboundMessage, inbound_id)
            if row is None:
                raise LookupError(f"không có thư số {inbound_id} / no inbound message {inbound_id}")
            if row.status != InboundStatus.quarantined:
                raise ValueError(
                    f"thư số {inbound_id} đang ở trạng thái {row.status}, chỉ xử lý lại được thư bị cách ly"
                    f" / message {inbound_id} is {row.status}; only quarantined messages can be retried"
                )
            row.status = InboundStatus.received
            row.reason = None
            row.attempts += 1
            s.add(row)
        self.process_one(inbound_id)
        with reading(self.engine) as s:
            fresh = s.get(InboundMessage, inbound_id)
        assert fresh is not None
        return fresh


def tracking_code(draft_id: int, when: datetime, settings: Settings) -> str:
    """Short, readable over the phone, and unique: TS-2026-00042."""
    return f"TS-{when.astimezone(settings.tz).year}-{draft_id:05d}"


def _problem(file: str, reason: Reason, detail: str) -> dict[str, str]:
    return {"file": file, "reason": str(reason), "detail": detail}


def _is_photo(a: Attachment) -> bool:
    if not a.content_type.startswith("image/") and not a.filename.lower().endswith((".jpg", ".jpeg", ".png")):
        return False
    return not (a.origin == "inline" and len(a.data) < _MIN_INLINE_PHOTO_BYTES)


def _chunks(items: Sequence[int], n: int) -> Iterator[list[int]]:
    for i in range(0, len(items), n):
        yield list(items[i : i + n])
