"""“Báo cáo”: a royalty month's quota dashboard per unit, its royalty lines, and the documents.

Everyone signed in sees the quotas (a viewer may be a member of the Standing Committee). Money — the
royalty lines, the payment list, the payment request and the monthly report (which states the month's
royalty total) — only the chief and the admin. The page reads through reports.service.load_month,
the one reader of a month; it never queries the reports' or the drafts' tables itself.

Actions, each a form posting to the period's page and calling reports' own functions: close and
reopen (admin only; reopening needs a reason, both audited by reports.ledger), mark every unpaid line
as paid on a date (chief/admin), and the month's content orientation (chief/admin; mailed to every
unit by the period jobs).
"""

from __future__ import annotations

import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from urllib.parse import quote

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response
from markupsafe import Markup, escape
from sqlmodel import Session

from core.db import reading, transaction, utcnow
from core.errors import Bilingual
from core.formats import format_date, format_datetime, format_money, parse_day
from core.models import Draft
from core.money import amount_in_words
from reports.documents import ReportData, report_data, write_monthly_report, write_payment_list, write_payment_request
from reports.ledger import (
    LedgerError,
    close_period,
    mark_paid,
    parse_shares,
    period_state,
    reopen_period,
    set_shares,
    shares_of,
)
from reports.orientation import OrientationError, orientation_of, set_orientation
from reports.periods import Calendar, Period, PeriodError, bounds, local_date, period_of
from reports.quotas import STATUS_LABELS, QuotaRow, Status
from reports.royalty import RoyaltyError, totals
from reports.schedule import PeriodJobError, period_jobs, retry_period_job
from reports.service import COUNTED_STATUSES, Month, frozen_items, load_month
from review.models import Role, User
from review.service import Forbidden, require
from review.web import labels
from review.web.deps import NotFound, PostDep, UserDep, Web, WebDep

router = APIRouter()

MONEY_ROLES = (Role.chief, Role.admin)
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"


def sees_money(user: User) -> bool:
    return user.role in MONEY_ROLES


def _period(text: str) -> Period:
    try:
        return Period.parse(text)
    except PeriodError:
        raise NotFound(f"Kỳ báo cáo “{text}” không hợp lệ: kỳ phải có dạng năm-tháng, ví dụ 2026-12.") from None


def _month(web: Web, period: Period, now: datetime, *, priced: bool = True) -> Month:
    try:
        with reading(web.engine) as session:
            return load_month(web.settings, session, period, now, priced=priced)
    except RoyaltyError as exc:
        raise NotFound(f"Chưa tính được nhuận bút {period.label}: {exc.vi}") from None


@dataclass(frozen=True)
class UnitView:
    code: str
    name: str
    tin: int
    tin_target: int
    tin_status: str
    tin_label: str
    quarter_bai: int
    bai_target: int
    bai_status: str
    bai_label: str


def unit_views(rows: list[QuotaRow]) -> list[UnitView]:
    return [
        UnitView(
            r.code,
            r.name,
            r.tin,
            r.tin_target,
            r.tin_status.value,
            STATUS_LABELS[r.tin_status],
            r.quarter_bai,
            r.bai_target,
            r.bai_status.value,
            STATUS_LABELS[r.bai_status],
        )
        for r in rows
    ]


BAR_W, ROW_H, LABEL_W = 240, 22, 220


def chart_svg(rows: list[QuotaRow]) -> Markup:
    """Horizontal bars per unit: tin this month and bài this quarter, against the targets (light inline
    SVG, no script; the table above carries the same figures as text). Plain string formatting: every
    value is an int or an enum of ours except the unit's name, which is escaped (Markup.format per
    element cost a third of the page)."""
    top = max([1, *(r.tin for r in rows), *(r.quarter_bai for r in rows), *(r.tin_target for r in rows)])
    top = max(top, *(r.bai_target for r in rows)) if rows else top
    height = ROW_H * len(rows) + 30
    parts = [
        f'<svg class="chart" role="img" aria-labelledby="chart-title" viewBox="0 0 {LABEL_W + 2 * BAR_W + 60}'
        f' {height}" width="100%"><title id="chart-title">Biểu đồ số tin tháng và số bài quý theo đơn vị</title>'
    ]
    for i, r in enumerate(rows):
        y = 20 + i * ROW_H
        parts.append(f'<text x="0" y="{y + 13}" class="label">{escape(r.name[:34])}</text>')
        for j, (count, target, st) in enumerate(
            ((r.tin, r.tin_target, r.tin_status), (r.quarter_bai, r.bai_target, r.bai_status))
        ):
            x = LABEL_W + j * (BAR_W + 30)
            w = round(BAR_W * count / top)
            goal = x + round(BAR_W * target / top)
            parts.append(
                f'<rect x="{x}" y="{y + 2}" width="{w}" height="14" class="bar {Status(st).value}">'
                f"<title>{int(count)}/{int(target)}</title></rect>"
                f'<line x1="{goal}" x2="{goal}" y1="{y}" y2="{y + 18}" class="goal"/>'
            )
    parts.append(
        f'<text x="{LABEL_W}" y="12" class="head">Tin trong tháng</text>'
        f'<text x="{LABEL_W + BAR_W + 30}" y="12" class="head">Bài trong quý</text></svg>'
    )
    return Markup("".join(parts))  # noqa: S704 - the one text value is escaped above


@dataclass(frozen=True)
class SharesView:
    """The draft page's "Chia nhuận bút" part: the authors the editor entered and their weights (no
    money: an editor sets who shares, the chief sees the amounts on the reports page)."""

    authors: list[tuple[str, str]]  # name, weight as entered
    text: str  # the form's text box: one "Tên = tỷ lệ" a line
    frozen: str  # the closed period's label when its stored lines hold the item, else ""


def shares_view(session: Session, draft: Draft) -> SharesView | None:
    """None while the item does not count (not approved, or rejected): nothing to split yet."""
    if draft.id is None or draft.status not in COUNTED_STATUSES:
        return None
    authors = [(a.name, labels.format_coefficient(a.share)) for a in shares_of(session, [draft.id]).get(draft.id, [])]
    held = frozen_items(session, [draft.id]).get(draft.id)
    return SharesView(
        authors=authors,
        text="\n".join(f"{name} = {weight}" for name, weight in authors),
        frozen=held.label if held else "",
    )


@router.post("/drafts/{draft_id:int}/shares")
def shares(request: Request, draft_id: int, web: WebDep, post: PostDep) -> Response:
    from review.web.drafts import draft_page  # the draft page owns its layout

    require(post.who.user, "shares", web.settings)
    text = post.text("shares")
    with reading(web.engine) as s:
        draft = s.get(Draft, draft_id)
        if draft is None:
            raise NotFound(f"Không có bài số {draft_id}.")
        if draft.status not in COUNTED_STATUSES:
            return draft_page(
                web, request, post.who, draft_id, status=409,
                error="Chỉ chia nhuận bút cho tin, bài đã được duyệt.", values={"shares": {"shares": text}},
            )  # fmt: skip
    try:
        pairs = parse_shares(text.splitlines())
        with transaction(web.engine) as s:
            set_shares(s, draft_id, pairs, post.who.user.username, utcnow())
    except LedgerError as exc:
        return draft_page(
            web, request, post.who, draft_id, status=422, error=exc.vi, values={"shares": {"shares": text}}
        )
    return RedirectResponse(f"/drafts/{draft_id}?tb=shares", status_code=303)


@router.get("/bao-cao")
def reports_now(request: Request, web: WebDep, who: UserDep) -> Response:
    require(who.user, "view", web.settings)
    period = period_of(utcnow(), Calendar.from_settings(web.settings))
    return RedirectResponse(f"/bao-cao/{period}", status_code=303)


# What a finished action says on the page it returns to (?tb=...).
DONE = {
    "closed": "Đã chốt kỳ: các dòng nhuận bút được lưu cố định.",
    "reopened": "Đã mở lại kỳ; kỳ sẽ được tính lại cho đến khi chốt lần sau.",
    "paid": "Đã ghi ngày chi trả.",
    "oriented": "Đã lưu định hướng nội dung; các đơn vị sẽ nhận qua thư khi kỳ bắt đầu.",
    "retried": "Đã yêu cầu chạy lại việc định kỳ; việc sẽ chạy ở lượt tới của hệ thống (vài phút).",
}


@router.get("/bao-cao/{period}")
def reports_page(request: Request, period: str, web: WebDep, who: UserDep) -> Response:
    require(who.user, "view", web.settings)
    notice = DONE.get(request.query_params.get("tb", ""))
    return _page(web, request, who.user, _period(period), notice=notice)


def _page(
    web: Web, request: Request, user: User, p: Period, *, status: int = 200, notice: str | None = None,
    error: str | None = None,
) -> Response:  # fmt: skip
    now = utcnow()
    money = sees_money(user)
    month = _month(web, p, now, priced=money)  # no money on the page: the quotas only
    with reading(web.engine) as session:
        state = period_state(session, p)
        orientation = orientation_of(session, p)
        calendar_jobs = period_jobs(session, period=p) if money else []
    cal = Calendar.from_settings(web.settings)
    b = bounds(p, cal)
    t = totals(month.lines)
    paid_on = list(month.paid_on) if month.closed else [None] * len(month.lines)
    return web.render(
        request,
        "review/reports.html",
        status=status,
        notice=notice,
        error=error,
        page_title=f"Báo cáo {p.label}",
        period=p,
        previous=p.previous(),
        next=p.next(),
        start=format_date(b.start.date()),
        end=format_date(b.end.date() - timedelta(days=1)),
        tally_passed=now >= b.end,
        quarter_label=p.quarter.label,
        units=unit_views(month.rows),
        met={
            "tin": sum(r.tin_status is Status.met for r in month.rows),
            "bai": sum(r.bai_status is Status.met for r in month.rows),
        },
        chart=chart_svg(month.rows),
        money=money,
        lines=list(zip(month.lines, paid_on, strict=True)) if money else [],
        unpaid=sum(d is None for d in paid_on),
        state=state,
        closed=month.closed,
        orientation=orientation or "",
        unit_name=web.unit_name,
        money_text=format_money,
        day=format_date,
        today=local_date(now, cal).isoformat(),
        total=format_money(t.amount),
        pit=format_money(t.pit),
        net=format_money(t.net),
        total_in_words=amount_in_words(t.amount) if money else "",
        can_close=user.role == Role.admin,
        can_pay=money,
        can_orient=money,
        calendar_jobs=calendar_jobs,
        when=lambda at: format_datetime(at, web.settings.tz),
    )


def _act(web: Web, request: Request, post: PostDep, p: Period, done: str, action: Callable[[], object]) -> Response:
    """Runs one ledger action in its own transaction; a refusal shows the page again with its reason."""
    try:
        action()
    except (LedgerError, OrientationError, PeriodJobError, ValueError) as exc:
        error = exc.vi if isinstance(exc, Bilingual) else str(exc)  # a bad date (parse_day), a period job: Vietnamese
        return _page(web, request, post.who.user, p, status=409, error=error)
    return RedirectResponse(f"/bao-cao/{p}?tb={done}", status_code=303)


@router.post("/bao-cao/{period}/chot")
def close(request: Request, period: str, web: WebDep, post: PostDep) -> Response:
    if post.who.user.role != Role.admin:
        raise Forbidden("closing a period: admin only")
    p = _period(period)

    def run() -> None:
        with transaction(web.engine) as s:
            close_period(s, web.settings, p, utcnow(), post.who.user.username)

    return _act(web, request, post, p, "closed", run)


@router.post("/bao-cao/{period}/mo-lai")
def reopen(request: Request, period: str, web: WebDep, post: PostDep) -> Response:
    if post.who.user.role != Role.admin:
        raise Forbidden("reopening a period: admin only")
    p = _period(period)

    def run() -> None:
        with transaction(web.engine) as s:
            reopen_period(s, p, post.who.user.username, post.text("reason"), utcnow())

    return _act(web, request, post, p, "reopened", run)


@router.post("/bao-cao/{period}/chi-tra")
def pay(request: Request, period: str, web: WebDep, post: PostDep) -> Response:
    if not sees_money(post.who.user):
        raise Forbidden("marking royalties paid: chief and admin only")
    p = _period(period)

    def run() -> None:
        paid_on = parse_day(post.text("paid_on"))
        with transaction(web.engine) as s:
            now = utcnow()
            today = local_date(now, Calendar.from_settings(web.settings))
            mark_paid(s, p, paid_on, post.who.user.username, now=now, today=today)

    return _act(web, request, post, p, "paid", run)


@router.post("/bao-cao/{period}/dinh-huong")
def orient(request: Request, period: str, web: WebDep, post: PostDep) -> Response:
    if not sees_money(post.who.user):
        raise Forbidden("content orientation: chief and admin only")
    p = _period(period)

    def run() -> None:
        with transaction(web.engine) as s:
            set_orientation(s, p, post.text("orientation"), post.who.user.username, utcnow())

    return _act(web, request, post, p, "oriented", run)


@router.post("/bao-cao/{period}/chay-lai")
def retry_job(request: Request, period: str, web: WebDep, post: PostDep) -> Response:
    """A failed period job of this period (the summary, the close, ...) runs again (chief and admin:
    the summary carries the money)."""
    if not sees_money(post.who.user):
        raise Forbidden("period jobs: chief and admin only")
    p = _period(period)
    try:
        job_id = int(post.text("job_id"))
    except ValueError:
        raise NotFound("Không có việc định kỳ này.") from None
    with reading(web.engine) as s:
        if job_id not in {j.id for j in period_jobs(s, period=p)}:
            raise NotFound("Không có việc định kỳ này trong kỳ.")

    def run() -> None:
        retry_period_job(web.engine, job_id, utcnow())

    return _act(web, request, post, p, "retried", run)


def _data(web: Web, p: Period) -> ReportData:
    now = utcnow()
    month = _month(web, p, now)
    cal = Calendar.from_settings(web.settings)
    end = bounds(p, cal).end
    day = end.date() if now >= end else local_date(now, cal)  # as the CLI dates its documents
    return report_data(web.settings, p, month.rows, month.lines, day)


def attachment(filename: str) -> str:
    """Content-Disposition for a download: an ASCII fallback and the exact name (RFC 6266, 5987)."""
    ascii_name = filename.encode("ascii", "replace").decode().replace("?", "_").replace('"', "_")
    return f"attachment; filename=\"{ascii_name}\"; filename*=UTF-8''{quote(filename)}"


def _document(
    web: Web, who: UserDep, period: str, write: Callable[[ReportData, Path], Path], name: str, media: str
) -> Response:
    if not sees_money(who.user):
        raise Forbidden("money documents: chief and admin only")  # the 403 page
    p = _period(period)
    data = _data(web, p)
    suffix = Path(name).suffix
    with tempfile.TemporaryDirectory() as tmp:
        path = write(data, Path(tmp) / f"doc{suffix}")
        content = path.read_bytes()
    return Response(
        content, media_type=media, headers={"Content-Disposition": attachment(f"{name[: -len(suffix)]}-{p}{suffix}")}
    )


@router.get("/bao-cao/{period}/danh-sach-chi-tra.xlsx")
def payment_list(period: str, web: WebDep, who: UserDep) -> Response:
    return _document(web, who, period, write_payment_list, "danh-sach-chi-tra.xlsx", XLSX)


@router.get("/bao-cao/{period}/bao-cao-thang.docx")
def monthly_report(period: str, web: WebDep, who: UserDep) -> Response:
    # Chief/admin only: the report to the Standing Committee states the month's royalty total.
    return _document(web, who, period, write_monthly_report, "bao-cao-thang.docx", DOCX)


@router.get("/bao-cao/{period}/to-trinh.docx")
def payment_request(period: str, web: WebDep, who: UserDep) -> Response:
    return _document(web, who, period, write_payment_request, "to-trinh.docx", DOCX)
