"""The draft page's publication part: where the article is live per target, "Đăng lại" for a failed
job, "Gỡ bài", and for the manual target the copy-ready package, the form for the live address and,
once withdrawn, the address to take down with "Đã gỡ khỏi cổng".

Every POST is CSRF-checked (deps.posted) and needs the role for it ("publish": editor and above;
"withdraw": editor and above). The manual package comes from `publish.manual.build_package`.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response
from sqlmodel import Session

from core.db import reading, utcnow
from core.formats import format_date
from core.models import Draft, Job
from publish.article import build_article
from publish.jobs import PublishError, complete_manual, complete_manual_withdrawal, retry_job
from publish.queries import publications_of
from review import service
from review.service import require
from review.web import labels
from review.web.deps import NotFound, PostDep, UserDep, Web, WebDep

router = APIRouter()
log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class PublicationView:
    target: str
    target_label: str
    status: str
    status_label: str
    url: str | None
    published: str  # dd/mm/yyyy in the office's time zone, or ""
    error: str
    job_id: int | None
    failed: bool  # its last job failed for good: "Đăng lại"
    awaiting_manual: bool
    awaiting_withdrawal: bool = False  # still live: a person must take it off the portal by hand


@dataclass(frozen=True)
class ManualView:
    """The copy-ready package of the manual target (publish.manual.build_package)."""

    target: str
    title: str
    lead: str
    body_html: str
    captions: list[str]
    zip_url: str


def publications_view(s: Session, web: Web, draft_id: int) -> list[PublicationView]:
    return [
        PublicationView(
            target=p.target,
            target_label=labels.TARGET_LABELS.get(p.target, p.target),
            status=p.status,
            status_label=labels.PUBLICATION_LABELS.get(p.status, p.status),
            url=p.url if p.url and p.url.lower().startswith(("https://", "http://")) else None,
            published=format_date(p.published_at, web.settings.tz) if p.published_at else "",
            error=p.last_error or "",
            job_id=p.job_id,
            failed=p.job_failed,
            awaiting_manual=p.awaiting_manual,
            awaiting_withdrawal=p.awaiting_withdrawal,
        )
        for p in publications_of(s, draft_id)
    ]


def _package(s: Session, web: Web, draft_id: int) -> Any:
    from publish.manual import build_package  # the manual target's own module (publish/manual.py)

    article = build_article(s, web.settings, draft_id, utcnow())
    return build_package(article)


def manual_views(s: Session, web: Web, draft_id: int, pubs: list[PublicationView]) -> list[ManualView]:
    out = []
    for p in pubs:
        if not p.awaiting_manual:
            continue
        try:
            package = _package(s, web, draft_id)
        except ImportError:  # the manual target is not installed: the section shows what it can
            log.warning("publish.manual is missing: no package for draft %s", draft_id)
            continue
        out.append(
            ManualView(
                target=p.target,
                title=package.title,
                lead=package.lead or "",
                body_html=package.body_html,
                captions=list(package.captions),
                zip_url=f"/drafts/{draft_id}/manual-package/{p.target}",
            )
        )
    return out


def _back(draft_id: int, done: str) -> RedirectResponse:
    return RedirectResponse(f"/drafts/{draft_id}?tb={done}", status_code=303)


def _error_page(web: Web, request: Request, post: PostDep, draft_id: int, status: int, exc: PublishError) -> Response:
    from review.web.drafts import draft_page

    return draft_page(web, request, post.who, draft_id, status=status, error=exc.vi)


def _draft(web: Web, draft_id: int) -> Draft:
    with reading(web.engine) as s:
        draft = s.get(Draft, draft_id)
    if draft is None:
        raise NotFound(f"Không có bài số {draft_id}.")
    return draft


@router.post("/drafts/{draft_id:int}/withdraw")
def withdraw(request: Request, draft_id: int, web: WebDep, post: PostDep) -> Response:
    from review.web.drafts import decide

    def run(revision: int, status: str) -> object:
        return service.withdraw(
            web.engine,
            web.settings,
            draft_id,
            post.who.user,
            revision=revision,
            status=status,
            reason=post.text("reason"),
        )

    return decide(
        web, request, post, draft_id, action="withdraw", done="withdrawn", run=run, form_name="withdraw",
        fields=("reason",),
    )  # fmt: skip


@router.post("/drafts/{draft_id:int}/publish-retry")
def publish_retry(request: Request, draft_id: int, web: WebDep, post: PostDep) -> Response:
    require(post.who.user, "publish", web.settings)
    _draft(web, draft_id)
    try:
        job_id = int(post.text("job_id"))
    except ValueError:
        raise NotFound("Không có việc đăng bài này.") from None
    with reading(web.engine) as s:
        job = s.get(Job, job_id)
    if job is None or job.payload.get("draft_id") != draft_id:
        raise NotFound("Không có việc đăng bài này.")
    try:
        retry_job(web.engine, job_id, post.who.user.username)
    except PublishError as exc:
        return _error_page(web, request, post, draft_id, 409, exc)
    return _back(draft_id, "publish_retry")


def _manual_target(web: Web, post: PostDep, draft_id: int) -> str:
    """The manual steps' common checks: the role, the draft, and a target of the settings."""
    require(post.who.user, "publish", web.settings)
    _draft(web, draft_id)
    target = post.text("target")
    if target not in web.settings.publish.targets:
        raise NotFound("Không có đích đăng này.")
    return target


@router.post("/drafts/{draft_id:int}/manual-url")
def manual_url(request: Request, draft_id: int, web: WebDep, post: PostDep) -> Response:
    target = _manual_target(web, post, draft_id)
    try:
        complete_manual(web.settings, web.engine, draft_id, target, post.text("url"), post.who.user.username)
    except PublishError as exc:
        return _error_page(web, request, post, draft_id, 422, exc)
    return _back(draft_id, "manual_done")


@router.post("/drafts/{draft_id:int}/manual-withdrawn")
def manual_withdrawn(request: Request, draft_id: int, web: WebDep, post: PostDep) -> Response:
    target = _manual_target(web, post, draft_id)
    try:
        complete_manual_withdrawal(web.settings, web.engine, draft_id, target, post.who.user.username)
    except PublishError as exc:
        return _error_page(web, request, post, draft_id, 422, exc)
    return _back(draft_id, "manual_withdrawn")


@router.get("/drafts/{draft_id:int}/manual-package/{target}")
def manual_package(request: Request, draft_id: int, target: str, web: WebDep, who: UserDep) -> Response:
    require(who.user, "publish", web.settings)
    draft = _draft(web, draft_id)
    with reading(web.engine) as s:
        awaiting = any(p.awaiting_manual and p.target == target for p in publications_view(s, web, draft_id))
        if not awaiting:
            raise NotFound("Bài không chờ đăng thủ công.")
        try:
            package = _package(s, web, draft_id)
        except ImportError:
            raise NotFound("Chưa cài đích đăng thủ công.") from None
    return Response(
        package.zip_bytes,
        media_type="application/zip",
        headers={
            "Content-Disposition": f'attachment; filename="{draft.tracking_code}.zip"',
            "Cache-Control": "no-store",
        },
    )
