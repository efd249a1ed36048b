"""The writes that apply a processed message's outcome, in the caller's one short transaction: the
row's status, new drafts (or the same document linked, or a contributor's revision) and the receipt
or quarantine notice through the outbox.
"""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlmodel import Session, col, select

from core.db import lock_name, utcnow
from core.drafts import LIVE, add_event, load_for_update, new_revision, refresh_search_text, snapshot, transition
from core.models import Draft, DraftImage, DraftStatus
from core.outbox import enqueue
from core.senders import unit_for_address
from core.settings import Settings, Unit
from core.text import nfc
from ingest import notices
from ingest.models import InboundMessage, InboundStatus
from ingest.outcome import DraftPlan
from ingest.steps import MessageState


def apply(s: Session, settings: Settings, row: InboundMessage, state: MessageState) -> None:
    """Write what the steps decided: the row's new status, the drafts, the contributor's email."""
    outcome, parsed = state.outcome, state.parsed
    assert outcome is not None
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
    unit: Unit | None = None
    if state.unit_checked:
        unit = state.unit
    elif outcome.drafts or outcome.notify:  # the chain stopped before the unit step
        unit = unit_for_address(s, settings, row.sender)
    items: list[notices.ReceiptItem] = []
    draft_ids: list[int] = []
    for i, plan in enumerate(outcome.drafts):
        revises = outcome.revises if i == 0 else None
        revised = revises is not None
        if revises is not None:
            draft, linked = _revise(s, row, plan, revises), False
        else:
            draft, linked = _create_or_link(s, settings, row, plan, now, unit)
        assert draft.id is not None
        draft_ids.append(draft.id)
        items.append(notices.ReceiptItem(draft.title, draft.kind, draft.tracking_code, linked, revised))
    row.draft_ids = draft_ids
    s.add(row)
    if not (outcome.notify and to_addr and "@" in to_addr):
        return
    echo = unit is not None  # to an unknown address, nothing the sender wrote
    once_a_day: int | None = None
    if outcome.status == InboundStatus.accepted:
        subject, body = notices.receipt(
            settings,
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
            settings,
            sender_name=row.sender_name,
            subject=row.subject,
            received_at=row.received_at,
            reason=outcome.reason,
            echo=echo,
        )
        kind, key, once_a_day = "quarantine_notice", f"notice:{row.sha256}", 1
    enqueue(
        s,
        settings,
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


def _create_or_link(
    s: Session, settings: Settings, row: InboundMessage, plan: DraftPlan, now: datetime, unit: Unit | None
) -> tuple[Draft, bool]:
    warnings = list(plan.warnings)
    duplicate_of: int | None = None
    if plan.source_sha256:
        lock_name(s, f"document:{plan.source_sha256}")  # two emails with one file: one draft
        earlier = s.exec(select(Draft).where(Draft.source_sha256 == plan.source_sha256).order_by(col(Draft.id))).all()
        live = [d for d in earlier if d.status in LIVE]
        if live:
            return live[0], True  # the same document re-sent: no second pending draft
        if earlier:  # re-sent after a rejection: a new draft, flagged for the editors
            duplicate_of = earlier[-1].id
            warnings.append(f"duplicate_of:{duplicate_of}")
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
    draft.tracking_code = tracking_code(draft.id, now, settings)
    refresh_search_text(draft)
    for pos, img in enumerate(plan.images):
        s.add(DraftImage(draft_id=draft.id, position=pos, **img.__dict__))
    s.add(draft)
    s.flush()
    actor = f"contributor:{row.sender}"
    snapshot(s, draft, author=actor)
    add_event(s, draft, actor=actor, action="received", to_status=draft.status, data={"inbound_id": row.id})
    return draft, False


def _revise(s: Session, row: InboundMessage, plan: DraftPlan, draft_id: int) -> Draft:
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


def tracking_code(draft_id: int, when: datetime, settings: Settings) -> str:
    """Short, readable over the phone, and unique: TS-2026-00042."""
    return f"TS-{when.astimezone(settings.tz).year}-{draft_id:05d}"
