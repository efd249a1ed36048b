"""“Tình trạng”: how the office is running and the warnings that need a person (chief and admin).

The same figures as `toasoan status` (review.health.collect), read-only: nothing here acts.
"""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import Response

from core.db import reading
from core.formats import format_datetime
from review.health import collect
from review.service import require
from review.web.deps import UserDep, WebDep

router = APIRouter()


@router.get("/tinh-trang")
def status_page(request: Request, web: WebDep, who: UserDep) -> Response:
    require(who.user, "operations", web.settings)
    with reading(web.engine) as s:
        health = collect(web.settings, s)
    tz = web.settings.tz
    return web.render(
        request,
        "review/health.html",
        page_title="Tình trạng hoạt động",
        health=health,
        when=lambda value: format_datetime(value, tz) if value is not None else "chưa có",
    )
