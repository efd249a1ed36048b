"""JSON shapes that scripts rely on (`inbox list`, `drafts list`, `drafts show`). Add fields freely;
never rename or remove one."""

from __future__ import annotations

from typing import Any

from core.formats import format_datetime
from core.models import Draft, DraftEvent, DraftImage, OutboxMail
from core.settings import Settings
from ingest.queries import Inbound
from publish.queries import PublicationInfo, live_url


def _iso(value: Any) -> str | None:
    return value.isoformat() if value is not None else None


def inbound_json(m: Inbound) -> dict[str, Any]:
    return {
        "id": m.id,
        "message_id": m.message_id,
        "subject": m.subject,
        "sender": m.sender,
        "sender_name": m.sender_name,
        "status": m.status,
        "reason": m.reason,
        "detail": m.detail,
        "problems": m.problems,
        "draft_ids": m.draft_ids,
        "received_at": _iso(m.received_at),
        "processed_at": _iso(m.processed_at),
        "attempts": m.attempts,
        "size": m.size,
        "sha256": m.sha256,
        "mailbox": m.mailbox,
        "uid": m.uid,
    }


def image_json(img: DraftImage) -> dict[str, Any]:
    return {
        "sha256": img.sha256,
        "url": f"/media/{img.sha256}",
        "content_type": img.content_type,
        "width": img.width,
        "height": img.height,
        "caption": img.caption,
        "alt": img.alt,
        "origin": img.origin,
        "web_content_type": img.web_content_type,
        "web_width": img.web_width,
        "web_height": img.web_height,
    }


def draft_json(d: Draft, settings: Settings) -> dict[str, Any]:
    unit = settings.unit_by_code(d.unit_code)
    return {
        "id": d.id,
        "tracking_code": d.tracking_code,
        "status": d.status,
        "kind": d.kind,
        "title": d.title,
        "unit": d.unit_code,
        "unit_name": unit.name if unit else None,
        "sender": d.sender,
        "sender_name": d.sender_name,
        "message_id": d.message_id,
        "inbound_id": d.inbound_id,
        "source_file": d.source_file,
        "source_format": d.source_format,
        "warnings": d.warnings,
        "duplicate_of": d.duplicate_of,
        "revision": d.revision,
        "category": d.category,
        "coefficient": str(d.coefficient) if d.coefficient is not None else None,
        "decided_by": d.decided_by,
        "decided_at": _iso(d.decided_at),
        "published_at": _iso(d.published_at),
        "syllables": d.text_syllables,
        "created_at": _iso(d.created_at),
        "updated_at": _iso(d.updated_at),
    }


def publication_json(p: PublicationInfo) -> dict[str, Any]:
    return {
        "target": p.target,
        "url": p.url,
        "status": p.status,
        "published_at": _iso(p.published_at),
        "error": p.last_error,
    }


def draft_detail_json(
    d: Draft, images: list[DraftImage], settings: Settings, publications: list[PublicationInfo] | None = None
) -> dict[str, Any]:
    pubs = publications or []
    return {
        **draft_json(d, settings),
        "lead": d.lead,
        "body_html": d.body_html,
        "byline": d.byline,
        "images": [image_json(i) for i in images],
        "published_url": live_url(pubs),
        "publications": [publication_json(p) for p in pubs],
    }


def outbox_json(m: OutboxMail, settings: Settings) -> dict[str, Any]:
    return {
        "id": m.id,
        "kind": m.kind,
        "to": m.to_addr,
        "subject": m.subject,
        "status": m.status,
        "attempts": m.attempts,
        "last_error": m.last_error,
        "message_id": m.message_id,
        "created_at": _iso(m.created_at),
        "sent_at": _iso(m.sent_at),
        "created": format_datetime(m.created_at, settings.tz),
    }


def event_json(e: DraftEvent) -> dict[str, Any]:
    return {
        "id": e.id,
        "at": _iso(e.at),
        "actor": e.actor,
        "action": e.action,
        "from_status": e.from_status,
        "to_status": e.to_status,
        "note": e.note,
        "revision": e.revision,
        "data": e.data,
    }
