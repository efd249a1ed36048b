"""“Thư có vấn đề”: quarantined emails with their reasons, and the accepted ones with a broken file;
the raw email to download, one email's page with mail-parser's technical reading of it (its defects
and Received chain), and “Xử lý lại” (reprocess) for the editors."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response
from sqlalchemy import func
from sqlmodel import col, select

from core.db import reading
from ingest.diagnostics import diagnose_inbound
from ingest.models import InboundMessage, InboundStatus
from ingest.service import InboundNotFound, Ingestor, NotQuarantined
from review.service import require
from review.web import labels
from review.web.deps import NotFound, PostDep, UserDep, Web, WebDep
from review.web.files import RAW_EMAIL_STATUSES

router = APIRouter()

LIMIT = 200  # quarantine is an exception list; more than this means something else is wrong
STATUS_LABELS: dict[str, str] = {
    InboundStatus.quarantined: "Bị cách ly",
    InboundStatus.accepted: "Đã nhận, đã tạo bài",
}


def problem_messages(web: Web) -> tuple[list[InboundMessage], list[InboundMessage]]:
    with reading(web.engine) as s:
        quarantined = s.exec(
            select(InboundMessage)
            .where(InboundMessage.status == InboundStatus.quarantined)
            .order_by(col(InboundMessage.received_at).desc(), col(InboundMessage.id).desc())
            .limit(LIMIT)
        ).all()
        partial = s.exec(
            select(InboundMessage)
            .where(
                InboundMessage.status == InboundStatus.accepted,
                func.json_array_length(InboundMessage.problems) > 0,
            )
            .order_by(col(InboundMessage.received_at).desc(), col(InboundMessage.id).desc())
            .limit(LIMIT)
        ).all()
    return list(quarantined), list(partial)


def _notice(request: Request) -> str | None:
    tb, number = request.query_params.get("tb", ""), request.query_params.get("thu", "")
    if not number.isdigit():
        return None
    if tb == "accepted":
        return f"Đã xử lý lại thư số {number}: bài đã vào hàng chờ."
    if tb == "quarantined":
        return f"Đã xử lý lại thư số {number} nhưng vẫn chưa dùng được (xem lý do bên dưới)."
    if tb == "ignored":
        return f"Đã xử lý lại thư số {number}: thư không phải bài cộng tác hoặc là thư trùng."
    return None


def inbox_page(web: Web, request: Request, *, status: int = 200, error: str | None = None) -> Response:
    quarantined, partial = problem_messages(web)
    return web.render(
        request,
        "review/inbox.html",
        status=status,
        page_title="Thư có vấn đề",
        quarantined=quarantined,
        partial=partial,
        limit=LIMIT,
        reason_label=lambda r: labels.REASON_LABELS.get(r or "", r or "(không rõ)"),
        notice=_notice(request) if request.method == "GET" else None,
        error=error,
    )


@router.get("/inbox")
def inbox(request: Request, web: WebDep, who: UserDep) -> Response:
    require(who.user, "view", web.settings)
    return inbox_page(web, request)


@router.get("/inbox/{inbound_id:int}")
def message_page(request: Request, inbound_id: int, web: WebDep, who: UserDep) -> Response:
    """One problem email: its reasons, the raw email, “Xử lý lại”, and mail-parser's reading of it."""
    require(who.user, "edit", web.settings)  # the route of the sender's email (servers, addresses), as the raw email
    with reading(web.engine) as s:
        row = s.get(InboundMessage, inbound_id)
    if row is None or row.status not in RAW_EMAIL_STATUSES:  # never an ignored non-submission
        raise NotFound(f"Không có thư số {inbound_id}.")
    return web.render(
        request,
        "review/inbox_message.html",
        page_title=f"Thư số {inbound_id}",
        m=row,
        diagnostics=diagnose_inbound(web.store, row.raw_sha256, row.size),
        reason_label=lambda r: labels.REASON_LABELS.get(r or "", r or "(không rõ)"),
        status_label=STATUS_LABELS.get(row.status, row.status),
    )


@router.post("/inbox/{inbound_id:int}/retry")
def retry(request: Request, inbound_id: int, web: WebDep, post: PostDep) -> Response:
    require(post.who.user, "edit", web.settings)
    try:
        row = Ingestor(web.settings, web.engine).retry(inbound_id)
    except InboundNotFound as exc:
        raise NotFound(f"Không có thư số {inbound_id}.") from exc
    except NotQuarantined:  # someone else retried it already, or it is not in quarantine
        return inbox_page(
            web, request, status=409, error=f"Thư số {inbound_id} không còn bị cách ly nên không cần xử lý lại."
        )
    return RedirectResponse(f"/inbox?tb={row.status}&thu={inbound_id}", status_code=303)
