"""Turning query strings and forms into the service's inputs. Pure functions: no I/O here."""

from __future__ import annotations

import re
from collections.abc import Mapping
from urllib.parse import urlencode

from starlette.datastructures import FormData

from core.drafts import STATUS_LABELS
from core.settings import Settings
from core.text import clean_line, nfc
from review.service import DraftEdit, QueueFilter
from review.web.article import submitted_body

_MONTH = re.compile(r"\d{4}-(0[1-9]|1[0-2])")
MAX_QUERY = 200


def default_status(role: str, settings: Settings) -> str:
    """The tab a user lands on: the head of the board in two-step mode sees what waits for him."""
    return "proposed" if settings.review.two_step and role == "chief" else "pending_review"


def queue_filter(params: Mapping[str, str], settings: Settings, default: str) -> QueueFilter:
    status = params.get("status", default)
    unit = params.get("unit", "")
    kind = params.get("kind", "")
    month = params.get("month", "")
    try:
        page = max(1, int(params.get("page", "1")))
    except ValueError:
        page = 1
    return QueueFilter(
        status=status if status in STATUS_LABELS else None,
        unit=unit if unit == "-" or settings.unit_by_code(unit) else None,
        kind=kind if kind in settings.genres else None,
        month=month if _MONTH.fullmatch(month) else None,
        q=clean_line(params.get("q", ""))[:MAX_QUERY] or None,
        page=page,
    )


def filter_query(f: QueueFilter, **changes: str | int | None) -> str:
    """The query string of the queue with these filters (tabs and pages keep the other filters)."""
    values: dict[str, str | int | None] = {
        "status": f.status or "all",
        "unit": f.unit,
        "kind": f.kind,
        "month": f.month,
        "q": f.q,
        "page": f.page if f.page > 1 else None,
    }
    values.update(changes)
    return urlencode({k: v for k, v in values.items() if v not in (None, "")})


def field_ids(form: FormData, prefix: str) -> dict[int, str]:
    """{id: value} of fields named '<prefix><id>' (one per photo)."""
    out: dict[int, str] = {}
    for key, value in form.multi_items():
        if key.startswith(prefix) and key[len(prefix) :].isdigit() and isinstance(value, str):
            out[int(key[len(prefix) :])] = nfc(value)
    return out


def draft_edit(form: FormData, *, shown_body: str) -> DraftEdit:
    """The editor's form as a DraftEdit. Fields absent from the form are left unchanged."""

    def field(name: str) -> str | None:
        value = form.get(name)
        return nfc(value) if isinstance(value, str) else None

    body = field("body_html")
    return DraftEdit(
        title=field("title"),
        lead=field("lead"),
        body_html=submitted_body(body, shown_body) if body is not None else None,
        byline=field("byline"),
        kind=field("kind") or None,
        unit_code=field("unit_code"),
        category=field("category"),
        captions=field_ids(form, "caption_"),
        drop_images={i for i, v in field_ids(form, "drop_").items() if v},
        remember_sender=bool(form.get("remember_sender")),
        note=field("note") or None,
    )
