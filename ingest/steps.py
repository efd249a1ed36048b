"""The handler chain of intake (as Mailman 3's pipeline): small named steps in order, each taking the
message's state and returning it. A step that reaches a final outcome (ignored, too large) marks the
state done and the chain stops; the later steps refine the outcome the documents gave.

Every step only reads (the database, the spool) and may write content-addressed files (documents,
photos); the one transaction that applies the outcome is ingest.apply's.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from sqlalchemy.engine import Engine
from sqlmodel import col, select

from core.db import reading
from core.drafts import REVISABLE
from core.models import Draft, OutboxMail
from core.msgid import angled, clean_msg_id
from core.senders import unit_for_address
from core.settings import Settings, Unit
from core.storage import Store, sha256_hex
from core.text import syllable_count
from ingest import notices, rules, spool
from ingest.models import InboundMessage, InboundStatus, Reason
from ingest.outcome import DraftPlan, ImagePlan, Outcome
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

log = logging.getLogger(__name__)

TRACKING_CODE = re.compile(r"\bTS-\d{4}-\d{5,}\b", re.IGNORECASE)
# Small inline pictures in an HTML mail are signatures and logos, not the article's photos.
_MIN_INLINE_PHOTO_BYTES = 30_000
_REFETCH_HINT = (
    "Thư {size} byte chỉ được tải phần tiêu đề vì từng vượt giới hạn; thư gốc vẫn ở trên máy chủ thư"
    " (thư mục “{folder}”): chuyển thư về thư mục nhận bài để tải lại toàn bộ ở lượt quét sau."
    " / The {size}-byte message was too large and only its header was downloaded; it is still on the mail"
    " server (folder “{folder}”): move it back to the watched folder and the next sweep downloads it whole."
)
# The order in which a reason explains a message when several files failed.
_REASON_PRIORITY = [
    Reason.encrypted_document,
    Reason.too_large,
    Reason.unsupported_document,
    Reason.corrupt_document,
    Reason.converter_missing,
]


@dataclass(frozen=True)
class Context:
    """What every step may use: the settings, the database (to read) and the file store."""

    settings: Settings
    engine: Engine
    store: Store
    limits: ConversionLimits

    @classmethod
    def create(cls, settings: Settings, engine: Engine) -> Context:
        i = settings.ingest
        limits = ConversionLimits(
            max_document_bytes=i.max_document_bytes,
            max_uncompressed_bytes=i.max_uncompressed_bytes,
            web_width=i.web_image_width,
            timeout_seconds=float(i.conversion_timeout_seconds),
            memory_mb=i.conversion_memory_mb,
            soffice=i.soffice or None,
            confinement=i.libreoffice_confinement,
        )
        return cls(settings, engine, Store(settings.storage_dir), limits)

    @property
    def marker(self) -> str:
        return str(self.settings.mailbox.subject_marker)


@dataclass
class MessageState:
    row: InboundMessage
    parsed: ParsedMessage | None = None
    outcome: Outcome | None = None
    done: bool = False  # the outcome is final: the chain stops
    subject_rest: str = ""  # the subject without the marker: title and kind hints
    documents: list[Attachment] = field(default_factory=list)
    photos: list[Attachment] = field(default_factory=list)
    sender_verified: bool = True
    unit: Unit | None = None  # the sender's unit, once the unit step looked it up
    unit_checked: bool = False

    def finish(self, outcome: Outcome) -> MessageState:
        self.outcome, self.done = outcome, True
        return self


Step = Callable[[Context, MessageState], MessageState]


# ------------------------------------------------------------------------------------- the steps
def marker(ctx: Context, st: MessageState) -> MessageState:
    """A submission carries the marker in its subject, or answers one of the office's emails."""
    if not rules.is_submission(st.row.subject, ctx.marker) and not _answers_us(ctx, st.row):
        return st.finish(Outcome(InboundStatus.ignored, Reason.not_a_submission))
    return st


def size(ctx: Context, st: MessageState) -> MessageState:
    """Over the limit, or fetched by its header only: nothing to read."""
    row, limit = st.row, ctx.settings.ingest.max_message_bytes
    if row.size > limit:
        detail = f"message is {row.size} bytes, limit {limit}"
        if _header_only(ctx, row):
            detail += "; only its header was downloaded, the message stays on the mail server"
        return st.finish(Outcome(InboundStatus.quarantined, Reason.too_large, detail, notify=True))
    if _header_only(ctx, row):  # retried after the limit was raised: the body was never downloaded
        m = ctx.settings.mailbox
        hint = _REFETCH_HINT.format(size=row.size, folder=m.processed_folder or m.folder)
        return st.finish(Outcome(InboundStatus.quarantined, Reason.too_large, hint))
    return st


def parse(ctx: Context, st: MessageState) -> MessageState:
    # Read here and dropped with the state: a large message is held in memory once.
    st.parsed = parse_message(spool.read(ctx.store, st.row.raw_sha256))
    st.subject_rest = rules.subject_remainder(st.parsed.subject, ctx.marker)
    return st


def auto_reply(ctx: Context, st: MessageState) -> MessageState:
    """Out-of-office replies and bounces are not submissions."""
    if _parsed(st).is_auto_reply:
        return st.finish(Outcome(InboundStatus.ignored, Reason.not_a_submission, "automatic reply"))
    return st


def duplicate(ctx: Context, st: MessageState) -> MessageState:
    """The same Message-ID as an earlier message: a re-delivery with other bytes."""
    row = st.row
    if not row.message_id:
        return st
    with reading(ctx.engine) as s:
        first = s.exec(
            select(InboundMessage.id).where(
                InboundMessage.message_id == row.message_id, col(InboundMessage.id) < row.id
            )
        ).first()
    if first is not None:
        return st.finish(Outcome(InboundStatus.ignored, Reason.duplicate, f"same Message-ID as #{first}"))
    return st


def documents(ctx: Context, st: MessageState) -> MessageState:
    """Each Word file attached becomes a draft; the photos beside them go to the first one."""
    for a in _parsed(st).attachments:
        if is_document_candidate(a.filename, a.content_type, a.data):
            st.documents.append(a)
        elif _is_photo(a):
            st.photos.append(a)
    if not st.documents:
        return st
    plans: list[DraftPlan] = []
    problems: list[dict[str, str]] = []
    pending_photos = [(a.filename, a.data) for a in st.photos]
    seen: set[str] = set()
    for doc in st.documents:
        sha = sha256_hex(doc.data)
        if sha in seen:  # the same file attached twice is one draft
            continue
        seen.add(sha)
        name = doc.filename or "(không tên)"
        if len(doc.data) > ctx.settings.ingest.max_document_bytes:
            problems.append(_problem(name, Reason.too_large, f"{len(doc.data)} bytes"))
            continue
        try:
            converted = convert_document_isolated(
                doc.data, doc.filename, limits=ctx.limits, attached_images=pending_photos
            )
        except DocumentError as exc:
            problems.append(_problem(name, Reason(exc.reason), exc.detail))
            continue
        pending_photos = []  # photos beside the files belong to the first draft
        ctx.store.put("documents", doc.data, sha=sha, sync=False)  # the raw mail is the durable copy
        plans.append(_plan(ctx, converted, doc, sha, st.subject_rest))
    if not plans:
        reason = min((Reason(p["reason"]) for p in problems), key=_REASON_PRIORITY.index)
        detail = "; ".join(f"{p['file']}: {p['reason']} ({p['detail']})" for p in problems)
        notify = notices.should_notify(reason)
        st.outcome = Outcome(InboundStatus.quarantined, reason, detail, problems=problems, notify=notify)
    else:
        st.outcome = Outcome(InboundStatus.accepted, drafts=plans, problems=problems, notify=True)
    return st


def body_article(ctx: Context, st: MessageState) -> MessageState:
    """No Word file: an article typed in the email body, with its photos; too short is no document."""
    if st.outcome is not None:
        return st
    parsed = _parsed(st)
    article = rules.article_text_from_body(parsed.text_body)
    syllables = syllable_count(article)
    if syllables < ctx.settings.ingest.body_min_syllables:
        detail = f"no Word file; the body has {syllables} syllables"
        st.outcome = Outcome(InboundStatus.quarantined, Reason.no_document, detail, notify=True)
        return st
    title, body_html = rules.body_article(parsed.text_body, st.subject_rest)
    warnings = ["from_email_body"]
    images: list[ImagePlan] = []
    if st.photos:
        try:
            converted, photo_warnings = convert_photos_isolated(
                [(a.filename, a.data) for a in st.photos], limits=ctx.limits
            )
        except DocumentError as exc:  # unreadable photos do not sink the article
            converted, photo_warnings = [], ["attached_image_rejected"]
            log.warning("photos of inbound message unreadable: %s", exc.detail)
        images = [_store_image(ctx, img) for img in converted]
        warnings += photo_warnings
    kind = rules.decide_kind(rules.explicit_kind(st.subject_rest), syllables, ctx.settings.ingest.bai_min_syllables)
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
        warnings=warnings + _length_warnings(ctx, kind, syllables),
        images=images,
    )
    st.outcome = Outcome(InboundStatus.accepted, drafts=[plan], notify=True)
    return st


def sender_verification(ctx: Context, st: MessageState) -> MessageState:
    """Our server found the From forged: mail nobody on its word (and revise nobody's draft)."""
    if _parsed(st).sender_unverified(ctx.settings.mailbox.trusted_authserv_ids):
        st.sender_verified = False
        outcome = _outcome(st)
        outcome.notify = False
        for plan in outcome.drafts:
            plan.warnings.append("sender_unverified")
    return st


def reply_to_draft(ctx: Context, st: MessageState) -> MessageState:
    """A verified contributor's reply with a Word file revises their open draft."""
    outcome = _outcome(st)
    has_file = bool(outcome.drafts and outcome.drafts[0].source_sha256)
    if st.sender_verified and outcome.status == InboundStatus.accepted and has_file:
        outcome.revises = replied_draft(ctx, _parsed(st))
    return st


def unit(ctx: Context, st: MessageState) -> MessageState:
    """The sender's unit (None: an unknown sender, flagged on the draft and never echoed)."""
    address = (st.parsed.sender_address if st.parsed else "") or st.row.sender  # as apply stores it
    with reading(ctx.engine) as s:
        st.unit = unit_for_address(s, ctx.settings, address)
    st.unit_checked = True
    return st


# The order matters: documents before the body (the body is the article only without a file), the
# sender's verification before reply-to-draft (a forged From revises nobody's draft).
STEPS: tuple[Step, ...] = (
    marker,
    size,
    parse,
    auto_reply,
    duplicate,
    documents,
    body_article,
    sender_verification,
    reply_to_draft,
    unit,
)


def run(ctx: Context, row: InboundMessage, steps: Sequence[Step] | None = None) -> MessageState:
    """The message through the steps (STEPS as it is now, so a test may swap one) until one is final."""
    state = MessageState(row)
    for step in STEPS if steps is None else steps:
        state = step(ctx, state)
        if state.done:
            break
    _outcome(state)
    return state


# ------------------------------------------------------------------------------------- helpers
def replied_draft(ctx: Context, parsed: ParsedMessage) -> int | None:
    """The draft a contributor's reply is about: by tracking code in the subject, else by the
    In-Reply-To/References of one of our emails or of their first submission. Only the draft's
    own sender can revise it, and only while it is still open."""
    code = TRACKING_CODE.search(parsed.subject)
    ids = [i for i in (parsed.in_reply_to, *parsed.references) if i]
    with reading(ctx.engine) as s:
        draft = None
        if code:
            draft = s.exec(select(Draft).where(Draft.tracking_code == code.group(0).upper())).first()
        if draft is None and ids:
            ours = _angled_all(ids)  # our Message-IDs are stored with their brackets
            mail = s.exec(
                select(OutboxMail).where(col(OutboxMail.message_id).in_(ours), col(OutboxMail.draft_id).is_not(None))
            ).first()
            if mail is not None:
                draft = s.get(Draft, mail.draft_id)
            else:
                bare = [i for i in map(clean_msg_id, ids) if i]  # a contributor's, without them
                draft = s.exec(select(Draft).where(col(Draft.message_id).in_(bare)).order_by(col(Draft.id))).first()
    if draft is None or draft.sender != parsed.sender_address or draft.status not in REVISABLE:
        return None
    return draft.id


def _angled_all(ids: Sequence[str]) -> list[str]:
    return [i for i in map(angled, ids) if i]


def _answers_us(ctx: Context, row: InboundMessage) -> bool:
    """A reply to one of the office's emails about a draft is a submission even without the
    marker: the contributor answers "Re: [TS-2026-00012] Đề nghị chỉnh sửa bài ..."."""
    if TRACKING_CODE.search(row.subject):
        return True
    with open(spool.path(ctx.store, row.raw_sha256), "rb") as fh:
        replied = parse_headers(fh.read(256_000)).replied_ids
    if not replied:
        return False
    with reading(ctx.engine) as s:
        mail = s.exec(
            select(OutboxMail.id).where(
                col(OutboxMail.message_id).in_(_angled_all(replied)), col(OutboxMail.draft_id).is_not(None)
            )
        ).first()
    return mail is not None


def _header_only(ctx: Context, row: InboundMessage) -> bool:
    """Spooled as its header block alone (it was over the limit): the spool file is shorter than the email."""
    return spool.path(ctx.store, row.raw_sha256).stat().st_size < row.size


def _parsed(st: MessageState) -> ParsedMessage:
    if st.parsed is None:
        raise RuntimeError("this step needs the parse step before it")
    return st.parsed


def _outcome(st: MessageState) -> Outcome:
    if st.outcome is None:
        raise RuntimeError("no step decided an outcome (documents or body_article missing?)")
    return st.outcome


def _plan(ctx: Context, c: ConvertedDocument, doc: Attachment, sha: str, subject_rest: str) -> DraftPlan:
    title, title_warnings = rules.choose_title(c.title, subject_rest, doc.filename)
    syllables = syllable_count(c.text)
    kind = rules.decide_kind(
        rules.explicit_kind(subject_rest, rules.file_stem(doc.filename)),
        syllables,
        ctx.settings.ingest.bai_min_syllables,
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
        warnings=[*c.warnings, *title_warnings, *_length_warnings(ctx, kind, syllables)],
        images=[_store_image(ctx, img) for img in c.images],
    )


def _length_warnings(ctx: Context, kind: str, syllables: int) -> list[str]:
    i = ctx.settings.ingest
    bounds = {"tin": (i.warn_tin_below, i.warn_tin_above), "bai": (i.warn_bai_below, i.warn_bai_above)}
    return rules.length_warnings(kind, syllables, bounds)


def _store_image(ctx: Context, img: ConvertedImage) -> ImagePlan:
    ctx.store.put("media", img.data, sha=img.sha256, sync=False)
    if img.web_data is not None:
        ctx.store.put("media", img.web_data, sha=img.sha256, suffix=".web", sync=False)
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


def _problem(file: str, reason: Reason, detail: str) -> dict[str, str]:
    return {"file": file, "reason": str(reason), "detail": detail}


def _is_photo(a: Attachment) -> bool:
    if not a.content_type.startswith("image/") and not a.filename.lower().endswith((".jpg", ".jpeg", ".png")):
        return False
    return not (a.origin == "inline" and len(a.data) < _MIN_INLINE_PHOTO_BYTES)
