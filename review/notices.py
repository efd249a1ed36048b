"""The contributor's side of a decision, in Vietnamese: one email per event, through the outbox."""

from __future__ import annotations

from sqlmodel import Session

from core.formats import format_datetime
from core.models import Draft, DraftEvent
from core.outbox import enqueue
from core.settings import Settings
from core.templating import render

SUBJECTS = {
    "approved": "[{code}] Bài “{title}” đã được duyệt",
    "rejected": "[{code}] Bài “{title}” chưa được sử dụng",
    "changes_requested": "[{code}] Đề nghị chỉnh sửa bài “{title}”",
}


def _short(title: str, n: int = 80) -> str:
    return title if len(title) <= n else title[: n - 1].rstrip() + "…"


def queue_decision(s: Session, settings: Settings, draft: Draft, event: DraftEvent, kind: str) -> None:
    """Queue the email for this event; its key is the event, so it is sent once whatever happens."""
    if not draft.sender or "@" not in draft.sender:
        return
    genre = settings.genres.get(draft.kind)
    body = render(
        f"email/decision_{kind}.txt",
        greeting=f"đồng chí {draft.sender_name}" if draft.sender_name else "đồng chí",
        title=draft.title,
        code=draft.tracking_code,
        kind_label=(genre.label if genre else draft.kind).lower(),
        note=event.note or "",
        decided_at=format_datetime(event.at, settings.tz),
        office=settings.organization.office_name,
        organization=settings.organization.name,
        marker=settings.mailbox.subject_marker,
    )
    enqueue(
        s,
        settings,
        key=f"decision:{event.id}",
        kind=f"decision_{kind}",
        to=draft.sender,
        subject=SUBJECTS[kind].format(code=draft.tracking_code, title=_short(draft.title)),
        body=body,
        in_reply_to=draft.message_id,
        draft_id=draft.id,
    )
