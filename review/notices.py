"""The contributor's side of a decision, in Vietnamese: one email per event, through the outbox."""

from __future__ import annotations

from sqlmodel import Session

from core.formats import format_datetime
from core.models import Draft, DraftEvent
from core.outbox import enqueue
from core.senders import kind_label, letter, mail_to, short_title, unit_for_address
from core.settings import Settings
from core.templating import render

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


def queue_decision(s: Session, settings: Settings, draft: Draft, event: DraftEvent, kind: str) -> None:
    """Queue the email for this event; its key is the event, so it is sent once whatever happens."""
    to = mail_to(draft)
    if to is None:
        return
    echo = unit_for_address(s, settings, to) is not None
    subjects = SUBJECTS if echo else PLAIN_SUBJECTS
    body = render(
        f"email/decision_{kind}.txt",
        **letter(settings, draft.sender_name, echo=echo),
        title=draft.title,
        code=draft.tracking_code,
        kind_label=kind_label(settings, draft.kind),
        note=event.note or "",
        decided_at=format_datetime(event.at, settings.tz),
        marker=settings.mailbox.subject_marker,
    )
    enqueue(
        s,
        settings,
        key=f"decision:{event.id}",
        kind=f"decision_{kind}",
        to=to,
        subject=subjects[kind].format(code=draft.tracking_code, title=short_title(draft.title)),
        body=body,
        in_reply_to=draft.message_id,
        draft_id=draft.id,
    )
