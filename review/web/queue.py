"""The queue: tabs with counts per status, filters, search, pages."""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache, partial

from fastapi import APIRouter, Request
from fastapi.responses import Response
from markupsafe import Markup

from core.db import utcnow
from core.formats import format_date
from review.service import Invalid, QueueFilter, QueueRow, queue, require
from review.web import labels
from review.web.deps import UserDep, Web, WebDep
from review.web.forms import default_status, filter_query, queue_filter

router = APIRouter()


@dataclass(frozen=True)
class RowView:
    """A queue row with its labels worked out here: 50 rows of lookups and a macro per row in the
    template were a third of the page's time."""

    id: int
    tracking_code: str
    title: str
    status: str
    status_label: str
    kind_label: str
    unit_name: str | None  # None: no unit
    sender: str
    sender_name: str
    created_iso: str
    created_date: str
    badges: Markup


@lru_cache(maxsize=1024)
def badge(code: str) -> Markup:
    """One warning's badge (the same few codes come back on every page)."""
    w = labels.warning(code)
    return Markup('<span class="badge" title="{}">{}</span> ').format(w.text, w.badge)


def row_view(r: QueueRow, web: Web) -> RowView:
    tz = web.settings.tz
    return RowView(
        id=r.id,
        tracking_code=r.tracking_code,
        title=r.title,
        status=r.status,
        status_label=labels.status_label(r.status),
        kind_label=web.kind_label(r.kind),
        unit_name=web.unit_name(r.unit_code) if r.unit_code else None,
        sender=r.sender,
        sender_name=r.sender_name,
        created_iso=r.created_at.isoformat(),
        created_date=format_date(r.created_at, tz),
        badges=Markup("".join(badge(code) for code in r.warnings)),  # noqa: S704 -- badge() builds with Markup.format, which escapes
    )


def _row_context(r: QueueRow, web: Web, with_status: bool) -> dict[str, object]:
    return {"r": row_view(r, web), "with_status": with_status}


def rows_html(rows: list[QueueRow], web: Web, *, with_status: bool) -> Markup:
    """The rows' HTML (review/queue_row.html), each kept by the process under the row itself (every
    value of it), joined: the page's template inserts one piece of markup, not 50."""
    # str.join, not Markup.join: that one escapes each piece again (a copy of each row's HTML).
    return Markup(  # noqa: S704 -- every piece is a fragment the autoescaping template rendered
        "".join(
            web.fragment("review/queue_row.html", (with_status, r), partial(_row_context, r, web, with_status))
            for r in rows
        )
    )


@router.get("/")
def queue_page(request: Request, web: WebDep, who: UserDep) -> Response:
    require(who.user, "view", web.settings)
    settings = web.settings
    f = queue_filter(request.query_params, settings, default_status(who.user.role, settings))
    error = None
    try:
        page = queue(web.engine, settings, f)
    except Invalid as exc:  # a month the service cannot read: show everything instead
        error = exc.vi
        f = QueueFilter(status=f.status, unit=f.unit, kind=f.kind, q=f.q)
        page = queue(web.engine, settings, f)
    months = labels.recent_months(utcnow().astimezone(settings.tz))
    if f.month and f.month not in months:
        months.append(f.month)
    tabs = [("all", "Tất cả", sum(page.counts.values()), f.status is None)]
    tabs += [(s, labels.status_label(s), page.counts.get(s, 0), f.status == s) for s in labels.STATUS_ORDER]
    return web.render(
        request,
        "review/queue.html",
        page_title="Hàng chờ biên tập",
        f=f,
        page=page,
        rows=rows_html(page.rows, web, with_status=f.status is None),
        tabs=tabs,
        months=months,
        units=settings.units,
        genres=list(settings.genres.values()),
        tab_query=lambda status: filter_query(f, status=status, page=None),
        page_query=lambda n: filter_query(f, page=n),
        error=error,
    )
