"""The queue: tabs with counts per status, filters, search, pages."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import Response

from core.db import utcnow
from review.service import Invalid, QueueFilter, queue, require
from review.web import labels
from review.web.deps import UserDep, WebDep
from review.web.forms import default_status, filter_query, queue_filter

router = APIRouter()


@router.get("/")
def queue_page(request: Request, web: WebDep, who: UserDep) -> Response:
    require(who.user, "view", web.settings)
    settings = web.settings
    f = queue_filter(request.query_params, settings, default_status(who.user.role, settings))
    error = None
    try:
        page = queue(web.engine, settings, f)
    except Invalid as exc:  # a month the service cannot read: show everything instead
        error = labels.vietnamese(str(exc))
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
        tabs=tabs,
        months=months,
        units=settings.units,
        genres=list(settings.genres.values()),
        tab_query=lambda status: filter_query(f, status=status, page=None),
        page_query=lambda n: filter_query(f, page=n),
        unit_name=web.unit_name,
        kind_label=web.kind_label,
        error=error,
    )
