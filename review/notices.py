"""The contributor's side of a decision, in Vietnamese: one email per event, through the outbox."""

from __future__ import annotations

from sqlmodel import Session

from core.formats import format_datetime
from core.models import Draft, DraftEvent
from core.outbox import enqueue
from core.senders import unit_for_address
from core.settings import Settings
from core.templating import render
from ingest.notices import greeting

SUBJECTS = {
    "approved": "[{code}] Bài “{title}” đã được duyệt",
    "rejected": "[{code}] Bài “{title}” chưa được sử dụng",
    "changes_requested": "[{code}] Đề nghị chỉnh sửa bài “{title}”",
}
# To a sender who is no known unit: the tracking code and fixed text only, nothing the sender wrote.
PLAIN_SUBJECTS = {
    "approved": "[{code}] Bài đã được duyệt",
    "rejected": "[{code}] Bài chưa được sử dụng",
    "changes_requested": "[{code}] Đề nghị chỉnh sửa bài",
}


def _short(title: str, n: int = 80) -> str:
    return title if len(title) <= n else title[: n - 1].rstrip() + "…"


def queue_decision(s: Session, settings: Settings, draft: Draft, event: DraftEvent, kind: str) -> None:
    """Queue the email for this event; its key is the event, so it is sent once whatever happens."""
    if not draft.sender or "@" not in draft.sender:
        return
    if "sender_unverified" in draft.warnings:  # our server found the From forged: it may be anyone's address
        return
    echo = unit_for_address(s, settings, draft.sender) is not None
    genre = settings.genres.get(draft.kind)
    subjects = SUBJECTS if echo else PLAIN_SUBJECTS
    body = render(
        f"email/decision_{kind}.txt",
        echo=echo,
        greeting=greeting(draft.sender_name if echo else ""),
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
        subject=subjects[kind].format(code=draft.tracking_code, title=_short(draft.title)),
        body=body,
        in_reply_to=draft.message_id,
        draft_id=draft.id,
    )
