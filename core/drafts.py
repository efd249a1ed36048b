"""The draft state machine, its audit log and its revisions: the one place where a draft changes state.

Ingest creates drafts and files revised versions; review decides and edits; publish marks them
published. All of them go through these functions, inside their own write transaction, so every
transition is checked against the table below and leaves an append-only DraftEvent.
"""

from __future__ import annotations

from typing import Any

from sqlmodel import Session, col, select

from core.db import utcnow
from core.errors import Bilingual
from core.models import Draft, DraftEvent, DraftImage, DraftRevision, DraftStatus
from core.text import fold_words

S = DraftStatus
TRANSITIONS: dict[str, frozenset[str]] = {
    S.pending_review: frozenset({S.approved, S.rejected, S.changes_requested, S.proposed}),
    S.proposed: frozenset({S.approved, S.rejected, S.changes_requested, S.pending_review}),
    S.changes_requested: frozenset({S.pending_review, S.rejected}),
    S.approved: frozenset({S.published, S.pending_review, S.withdrawn}),  # withdrawn before it went live (embargo)
    S.published: frozenset({S.withdrawn}),
    S.rejected: frozenset(),
    S.withdrawn: frozenset(),
}

# The status sets the packages ask about, each read against TRANSITIONS (tests/core/test_transitions.py
# checks these relations):
# - REVISABLE: still being worked on, before any decision: each may go back to pending_review or is it, so
#   a contributor's reply revises the draft (after a decision a reply is a new submission).
REVISABLE: frozenset[str] = frozenset({S.pending_review, S.proposed, S.changes_requested})
# - EDITABLE: an editor may change the content: while it is REVISABLE, and once published as an audited
#   correction, republished wherever it is live (approved waits for its publication, so it is not edited).
EDITABLE: frozenset[str] = REVISABLE | {S.published}
# - LIVE: every status that can still change (not rejected, not withdrawn): a re-sent document links to
#   the live draft of the same file instead of making a second one.
LIVE: frozenset[str] = frozenset(status for status, targets in TRANSITIONS.items() if targets)

STATUS_LABELS: dict[str, str] = {
    S.pending_review: "Chờ biên tập",
    S.proposed: "Chờ Trưởng ban duyệt",
    S.changes_requested: "Chờ tác giả sửa",
    S.approved: "Đã duyệt",
    S.rejected: "Không sử dụng",
    S.published: "Đã đăng",
    S.withdrawn: "Đã gỡ",
}


class DraftError(Bilingual):
    """A draft operation that cannot be done; `vi` is what the user is shown."""


class StaleRevision(DraftError):
    """Somebody changed the draft since the page was loaded: reload and decide again."""


class InvalidTransition(DraftError):
    pass


def load_for_update(s: Session, draft_id: int) -> Draft:
    """The draft row, locked for the rest of the transaction (PostgreSQL; SQLite locks at BEGIN)."""
    draft = s.exec(select(Draft).where(Draft.id == draft_id).with_for_update()).first()
    if draft is None:
        raise DraftError(f"Không có bài số {draft_id}", f"no draft {draft_id}")
    return draft


def check_revision(draft: Draft, expected: int | None, status: str | None = None) -> None:
    """The page the user decided on must still be the draft's state: same revision and, since a
    decision leaves the revision as it is, the same status."""
    if (expected is not None and draft.revision != expected) or (status is not None and draft.status != status):
        raise StaleRevision(
            f"Bài đã được thay đổi (phiên bản {draft.revision}, trang đang mở là phiên bản {expected}); "
            "hãy tải lại trang",
            "the draft changed since the page was loaded",
        )


def add_event(
    s: Session,
    draft: Draft,
    *,
    actor: str,
    action: str,
    note: str | None = None,
    from_status: str | None = None,
    to_status: str | None = None,
    data: dict[str, Any] | None = None,
) -> DraftEvent:
    assert draft.id is not None
    event = DraftEvent(
        draft_id=draft.id,
        at=utcnow(),
        actor=actor,
        action=action,
        note=note,
        from_status=from_status,
        to_status=to_status,
        revision=draft.revision,
        data=data or {},
    )
    s.add(event)
    s.flush()
    return event


def transition(
    s: Session,
    draft: Draft,
    to: str,
    *,
    actor: str,
    action: str,
    note: str | None = None,
    expected_revision: int | None = None,
    expected_status: str | None = None,
    data: dict[str, Any] | None = None,
) -> DraftEvent:
    check_revision(draft, expected_revision, expected_status)
    if to not in TRANSITIONS.get(draft.status, frozenset()):
        raise InvalidTransition(
            f"Không thể chuyển bài từ “{STATUS_LABELS.get(draft.status, draft.status)}” sang "
            f"“{STATUS_LABELS.get(to, to)}”",
            f"cannot go from {draft.status} to {to}",
        )
    before = draft.status
    draft.status = to
    draft.updated_at = utcnow()
    s.add(draft)
    return add_event(s, draft, actor=actor, action=action, note=note, from_status=before, to_status=to, data=data)


def refresh_search_text(draft: Draft) -> None:
    draft.search_text = search_text_of(
        draft.title, draft.lead, draft.byline, draft.sender, draft.sender_name, draft.tracking_code
    )


def search_text_of(*fields: str | None) -> str:
    """What the queue's search looks in: the fields folded (no diacritics, lower case), one string."""
    return fold_words(" ".join(x or "" for x in fields))


def images_of(s: Session, draft_id: int) -> list[DraftImage]:
    """The draft's photos in the order the article shows them."""
    return list(
        s.exec(select(DraftImage).where(DraftImage.draft_id == draft_id).order_by(col(DraftImage.position))).all()
    )


def snapshot(s: Session, draft: Draft, *, author: str, note: str | None = None) -> DraftRevision:
    """Record the draft's current content as revision `draft.revision`."""
    assert draft.id is not None
    images = images_of(s, draft.id)
    rev = DraftRevision(
        draft_id=draft.id,
        number=draft.revision,
        author=author,
        kind=draft.kind,
        title=draft.title,
        lead=draft.lead,
        body_html=draft.body_html,
        byline=draft.byline,
        unit_code=draft.unit_code,
        category=draft.category,
        source_file=draft.source_file,
        source_sha256=draft.source_sha256,
        images=[{"sha256": i.sha256, "caption": i.caption, "position": i.position} for i in images],
        note=note,
    )
    s.add(rev)
    s.flush()
    return rev


def new_revision(s: Session, draft: Draft, *, author: str, note: str | None = None) -> DraftRevision:
    """After the caller changed the draft's content: bump the revision and record it."""
    draft.revision += 1
    draft.updated_at = utcnow()
    refresh_search_text(draft)
    s.add(draft)
    return snapshot(s, draft, author=author, note=note)
