"""A draft: its page (preview, warnings, files, history, revisions), editing, comparing, duplicates,
and the decisions. Decisions are POST-only, CSRF-checked (deps.posted) and guarded by the revision and
status the page showed."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from functools import partial
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from markupsafe import Markup
from sqlalchemy.engine import Row
from sqlmodel import Session, select
from starlette.datastructures import FormData

from core.article import Photo, compose
from core.db import reading, table_of
from core.drafts import EDITABLE, TRANSITIONS, DraftError, InvalidTransition, StaleRevision, images_of
from core.formats import format_datetime, parse_local_datetime
from core.models import Draft, DraftEvent, DraftImage, DraftRevision
from core.text import nfc
from ingest.queries import SourceMail, source_mail
from review import service
from review.auth import SignedIn
from review.models import User
from review.service import Forbidden, Invalid, RevisionInfo, require
from review.web import labels
from review.web.article import editable_body, text_of, word_diff
from review.web.deps import NotFound, PostDep, Posted, UserDep, Web, WebDep
from review.web.files import untrusted_document
from review.web.forms import draft_edit, field_ids
from review.web.publications import PublicationView, manual_views, publications_view
from review.web.reports import SharesView, shares_view

router = APIRouter()

DONE = {
    "approved": "Đã duyệt bài. Tác giả sẽ nhận thư báo.",
    "proposed": "Đã đề xuất duyệt. Bài chờ Trưởng Ban Biên tập quyết định.",
    "rejected": "Đã ghi quyết định không sử dụng bài. Tác giả sẽ nhận thư báo kèm lý do.",
    "changes_requested": "Đã gửi đề nghị chỉnh sửa tới tác giả.",
    "commented": "Đã ghi trao đổi nội bộ.",
    "saved": "Đã lưu bản sửa thành phiên bản mới.",
    "nochange": "Không có thay đổi nào để lưu.",
    "kept": "Đã ghi nhận: giữ cả hai bài.",
    "locked": "Bài đã được quyết định nên không sửa được nữa.",
    "withdrawn": "Đã gỡ bài. Bài sẽ được gỡ khỏi mọi trang đã đăng.",
    "publish_retry": "Đã yêu cầu đăng lại. Bài sẽ được đăng ở lượt đăng bài tới.",
    "manual_done": "Đã ghi địa chỉ bài đăng. Bài đã lên trang.",
    "manual_withdrawn": "Đã xác nhận: bài không còn trên cổng.",
    "shares": "Đã lưu phần chia nhuận bút giữa các tác giả.",
}


# ------------------------------------------------------------------------------------- loading
@dataclass
class Loaded:
    draft: Draft
    images: list[DraftImage]
    inbound: SourceMail | None

    @property
    def photos(self) -> list[Photo]:
        return [Photo(i.sha256, i.caption, i.alt) for i in self.images]


def load(web: Web, draft_id: int) -> Loaded:
    with reading(web.engine) as s:
        return load_in(s, draft_id)


def load_in(s: Session, draft_id: int) -> Loaded:
    draft = s.get(Draft, draft_id)
    if draft is None:
        raise NotFound(f"Không có bài số {draft_id}.")
    images = images_of(s, draft_id)
    inbound = source_mail(s, draft.inbound_id) if draft.inbound_id else None
    return Loaded(draft, list(images), inbound)


_U = table_of(User).c
_USER_NAMES = select(_U.username, _U.full_name)


def user_names(web: Web) -> dict[str, str]:
    with reading(web.engine) as s:
        return user_names_in(s)


def user_names_in(s: Session) -> dict[str, str]:
    return {u: n for u, n in s.connection().execute(_USER_NAMES) if n}


# The views below are dataclasses, not dicts: Jinja looks an attribute up first, and on a dict every
# `e.actor` of a 90-event history raised and caught an AttributeError before reading the key.
@dataclass(frozen=True, slots=True)
class EventView:
    at: datetime
    at_iso: str
    at_text: str  # "hh:mm dd/mm/yyyy" in the office's time zone
    actor: str
    action: str
    code: str
    from_status: str
    to_status: str
    note: str
    details: str
    revision: int | None


def event_view(e: DraftEvent | Row[Any], names: dict[str, str], web: Web) -> EventView:
    """One line of the history, from a DraftEvent or a row of its table (the same attributes)."""
    data = e.data or {}
    details = ""
    if e.action == "edited" and data.get("fields"):
        details = "Sửa: " + ", ".join(dict.fromkeys(labels.field_label(f) for f in data["fields"]))
    elif e.action in ("approved", "proposed"):
        parts = []
        if data.get("coefficient"):
            parts.append(f"hệ số {labels.format_coefficient(service.parse_coefficient(data['coefficient']))}")
        if data.get("category"):
            parts.append(f"chuyên mục “{web.category_name(data['category'])}”")
        details = "; ".join(parts)
    return EventView(
        at=e.at,
        at_iso=e.at.isoformat(),
        at_text=format_datetime(e.at, web.settings.tz),
        actor=labels.actor_label(e.actor, names),
        action=labels.ACTION_LABELS.get(e.action, e.action),
        code=e.action,
        from_status=labels.status_label(e.from_status) if e.from_status else "",
        to_status=labels.status_label(e.to_status) if e.to_status else "",
        note=e.note or "",
        details=details,
        revision=e.revision,
    )


def events_html(history: Sequence[Row[Any]], names: dict[str, str], web: Web) -> list[Markup]:
    """The history's lines (review/draft_event.html), kept by the process. An event is never changed
    once written: its id and time name it (a restored database reuses ids, not times), and the actor's
    name, which an account can change, is in the key too."""
    return [
        web.fragment(
            "review/draft_event.html",
            (e.id, e.at, labels.actor_label(e.actor, names)),
            partial(_event_context, e, names, web),
        )
        for e in history
    ]


def _event_context(e: Row[Any], names: dict[str, str], web: Web) -> dict[str, object]:
    return {"e": event_view(e, names, web)}


def decisions_shown(web: Web, who: SignedIn, draft: Draft) -> dict[str, bool]:
    can = web.can(who)
    after = TRANSITIONS.get(draft.status, frozenset())
    return {
        "approve": can["approve"] and "approved" in after,
        "propose": can["propose"] and "proposed" in after,
        "reject": can["reject"] and "rejected" in after,
        "request_changes": can["request_changes"] and "changes_requested" in after,
        "comment": can["comment"],
        "edit": can["edit"] and draft.status in EDITABLE,
        "set_coefficient": can["set_coefficient"],
        "withdraw": can["withdraw"] and "withdrawn" in after,
        "publish": can["publish"],
        "shares": can["shares"],
    }


@dataclass(frozen=True)
class PageData:
    """What a draft's page reads, kept per connection until the database changes
    (`service.remembered`): shared by the requests that show it, never changed."""

    loaded: Loaded
    names: dict[str, str]
    revs: list[RevisionInfo]
    history: Sequence[Row[Any]]
    duplicates: list[service.DraftRef]
    pubs: list[PublicationView]
    shares: SharesView | None


def _read_page(web: Web, draft_id: int, s: Session) -> PageData:
    # Every read of the page in one session: one connection, and (SQLite) one consistent picture.
    loaded = load_in(s, draft_id)
    return PageData(
        loaded=loaded,
        names=user_names_in(s),
        revs=service.revision_list_in(s, draft_id),
        history=service.history_rows_in(s, draft_id),
        duplicates=service.duplicates_in(s, loaded.draft),
        pubs=publications_view(s, web, draft_id),
        shares=shares_view(s, loaded.draft),
    )


def draft_page(
    web: Web,
    request: Request,
    who: SignedIn,
    draft_id: int,
    *,
    status: int = 200,
    error: str | None = None,
    values: dict[str, dict[str, str]] | None = None,
) -> Response:
    data = service.remembered(web.engine, "draft_pages", draft_id, partial(_read_page, web, draft_id))
    loaded, d, names, revs, history = data.loaded, data.loaded.draft, data.names, data.revs, data.history
    duplicates, pubs, shares = data.duplicates, data.pubs, data.shares
    manual = []
    if can_publish(web, who) and any(p.awaiting_manual for p in pubs):  # its package is built now
        with reading(web.engine) as s:
            manual = manual_views(s, web, draft_id, pubs)
    genre = web.settings.genres.get(d.kind)
    notice = DONE.get(request.query_params.get("tb", "")) if request.method == "GET" else None
    return web.render(
        request,
        "review/draft.html",
        status=status,
        page_title=f"{d.tracking_code} — {d.title}",
        d=d,
        loaded=loaded,
        body=compose(d.body_html, loaded.photos),
        warnings=[labels.warning(w) for w in d.warnings],
        events=events_html(history, names, web),
        revisions=[revision_view(r, names, revs[i - 1] if i else None) for i, r in enumerate(revs)],
        duplicates=duplicates,
        decided_by=labels.actor_label(d.decided_by, names) if d.decided_by else "",
        genre=genre,
        coefficient=d.coefficient if d.coefficient is not None else (genre.coefficient if genre else None),
        categories=web.settings.categories,
        show=decisions_shown(web, who, d),
        publications=pubs,
        manual=manual,
        shares=shares,
        untrusted_source=untrusted_document(d.source_file, d.source_format),
        values=values or {},
        unit_name=web.unit_name,
        kind_label=web.kind_label,
        category_name=web.category_name,
        notice=notice,
        error=error,
    )


@dataclass(frozen=True, slots=True)
class RevisionView:
    number: int
    at: datetime
    author: str
    note: str
    source_file: str | None
    new_source: bool  # this revision brought a new Word file


def revision_view(
    r: DraftRevision | RevisionInfo, names: dict[str, str], previous: DraftRevision | RevisionInfo | None
) -> RevisionView:
    return RevisionView(
        number=r.number,
        at=r.created_at,
        author=labels.actor_label(r.author, names),
        note=r.note or "",
        source_file=r.source_file,
        new_source=bool(r.source_sha256) and (not previous or previous.source_sha256 != r.source_sha256),
    )


@router.get("/drafts/{draft_id:int}")
def draft_view(request: Request, draft_id: int, web: WebDep, who: UserDep) -> Response:
    require(who.user, "view", web.settings)
    return draft_page(web, request, who, draft_id)


# ------------------------------------------------------------------------------------ decisions
def _shown(post: Posted) -> tuple[int, str]:
    try:
        return int(post.text("revision")), post.text("status")
    except ValueError:
        raise Invalid("Biểu mẫu thiếu số phiên bản của bài; hãy tải lại trang rồi thử lại.") from None


def stale_message(d: Draft) -> str:
    return (
        f"Trong lúc đồng chí xem, bài đã được người khác thay đổi (nay là “{labels.status_label(d.status)}”, "
        f"phiên bản {d.revision}). Thao tác của đồng chí chưa được ghi. Dưới đây là bản mới nhất: "
        f"hãy xem lại rồi quyết định."
    )


def decide(
    web: Web,
    request: Request,
    post: Posted,
    draft_id: int,
    *,
    action: str,
    done: str,
    run: Callable[[int, str], object],
    form_name: str,
    fields: tuple[str, ...],
) -> Response:
    require(post.who.user, action, web.settings)
    current = load(web, draft_id).draft
    values = {form_name: {f: post.text(f) for f in fields}}
    revision = current.revision
    try:
        revision, status = _shown(post)
        # The status too: a decision leaves the revision as it is. The service checks both again
        # inside its transaction, which is what makes two simultaneous decisions safe.
        if current.revision != revision or current.status != status:
            raise StaleRevision("stale")
        run(revision, status)
    except (StaleRevision, InvalidTransition) as exc:
        fresh = load(web, draft_id).draft
        if isinstance(exc, StaleRevision) or fresh.revision != revision or fresh.status != current.status:
            return draft_page(web, request, post.who, draft_id, status=409, error=stale_message(fresh), values=values)
        return draft_page(web, request, post.who, draft_id, status=409, error=exc.vi, values=values)
    except Forbidden:
        raise
    except Invalid as exc:
        return draft_page(web, request, post.who, draft_id, status=422, error=exc.vi, values=values)
    except DraftError as exc:
        raise NotFound(exc.vi) from exc
    return RedirectResponse(f"/drafts/{draft_id}?tb={done}", status_code=303)


@router.post("/drafts/{draft_id:int}/approve")
def approve(request: Request, draft_id: int, web: WebDep, post: PostDep) -> Response:
    return _approval(web, request, post, draft_id, service.approve, action="approve", done="approved")


@router.post("/drafts/{draft_id:int}/propose")
def propose(request: Request, draft_id: int, web: WebDep, post: PostDep) -> Response:
    return _approval(web, request, post, draft_id, service.propose, action="propose", done="proposed")


def _approval(
    web: Web, request: Request, post: Posted, draft_id: int, decision: Callable[..., Draft], *, action: str, done: str
) -> Response:
    """Approving and proposing take the same form: coefficient, category, note."""

    def run(revision: int, status: str) -> object:
        # An editor's approval form has no coefficient field; a field sent empty is refused by the parser.
        raw = post.text("coefficient") if "coefficient" in post.form else None
        return decision(
            web.engine,
            web.settings,
            draft_id,
            post.who.user,
            revision=revision,
            status=status,
            coefficient=service.parse_coefficient(raw),
            category=post.text("category") or None,
            note=post.text("note") or None,
            **({"publish_at": _publish_at(web, post.text("publish_at"))} if action == "approve" else {}),
        )

    return decide(
        web, request, post, draft_id, action=action, done=done, run=run, form_name=action,
        fields=("coefficient", "category", "note", "publish_at"),
    )  # fmt: skip


def _publish_at(web: Web, text: str) -> datetime | None:
    """The approve form's optional publish time (the browser's datetime-local, or dd/mm/yyyy HH:MM),
    in the office's time zone."""
    if not text.strip():
        return None
    try:
        return parse_local_datetime(text, web.settings.tz)
    except ValueError:
        raise Invalid("Giờ đăng bài phải có dạng dd/mm/yyyy HH:MM / the publish time is not a date") from None


def can_publish(web: Web, who: SignedIn) -> bool:
    return web.can(who)["publish"]


@router.post("/drafts/{draft_id:int}/reject")
def reject(request: Request, draft_id: int, web: WebDep, post: PostDep) -> Response:
    def run(revision: int, status: str) -> object:
        return service.reject(
            web.engine,
            web.settings,
            draft_id,
            post.who.user,
            revision=revision,
            status=status,
            reason=post.text("reason"),
        )

    return decide(
        web, request, post, draft_id, action="reject", done="rejected", run=run, form_name="reject",
        fields=("reason",),
    )  # fmt: skip


@router.post("/drafts/{draft_id:int}/request-changes")
def request_changes(request: Request, draft_id: int, web: WebDep, post: PostDep) -> Response:
    def run(revision: int, status: str) -> object:
        return service.request_changes(
            web.engine, web.settings, draft_id, post.who.user, revision=revision, status=status, note=post.text("note")
        )

    return decide(
        web, request, post, draft_id, action="request_changes", done="changes_requested", run=run,
        form_name="request_changes", fields=("note",),
    )  # fmt: skip


@router.post("/drafts/{draft_id:int}/comment")
def comment(request: Request, draft_id: int, web: WebDep, post: PostDep) -> Response:
    require(post.who.user, "comment", web.settings)
    load(web, draft_id)
    try:
        service.comment(web.engine, web.settings, draft_id, post.who.user, post.text("text"))
    except Invalid as exc:
        values = {"comment": {"text": post.text("text")}}
        return draft_page(web, request, post.who, draft_id, status=422, error=exc.vi, values=values)
    return RedirectResponse(f"/drafts/{draft_id}?tb=commented", status_code=303)


# --------------------------------------------------------------------------------------- editing
def values_from_draft(loaded: Loaded) -> dict[str, Any]:
    d = loaded.draft
    return {
        "title": d.title,
        "lead": d.lead or "",
        "body_html": editable_body(d.body_html),
        "byline": d.byline or "",
        "kind": d.kind,
        "unit_code": d.unit_code or "",
        "category": d.category or "",
        "captions": {i.id: i.caption or "" for i in loaded.images},
        "drops": set(),
        "remember_sender": False,
        "note": "",
    }


def values_from_form(form: FormData, loaded: Loaded) -> dict[str, Any]:
    shown = values_from_draft(loaded)

    def field(name: str) -> str:
        value = form.get(name)
        return nfc(value) if isinstance(value, str) else shown[name]

    return {
        **{k: field(k) for k in ("title", "lead", "body_html", "byline", "kind", "unit_code", "category", "note")},
        "captions": {**shown["captions"], **field_ids(form, "caption_")},
        "drops": {i for i, v in field_ids(form, "drop_").items() if v},
        "remember_sender": bool(form.get("remember_sender")),
    }


def preview_of(values: dict[str, Any], loaded: Loaded) -> str:
    photos = [
        Photo(i.sha256, values["captions"].get(i.id) or None, i.alt)
        for i in loaded.images
        if i.id not in values["drops"]
    ]
    return compose(values["body_html"], photos)


def edit_page(
    web: Web,
    request: Request,
    loaded: Loaded,
    *,
    values: dict[str, Any] | None = None,
    status: int = 200,
    error: str | None = None,
    unsaved: dict[str, Any] | None = None,
) -> Response:
    d = loaded.draft
    values = values or values_from_draft(loaded)
    return web.render(
        request,
        "review/edit.html",
        status=status,
        page_title=f"Sửa bài {d.tracking_code}",
        d=d,
        images=loaded.images,
        v=values,
        preview=preview_of(values, loaded),
        genres=list(web.settings.genres.values()),
        units=web.settings.units,
        categories=web.settings.categories,
        ask_remember=bool(d.sender) and (d.unit_code is None or "unknown_sender" in d.warnings),
        unsaved=unsaved,
        error=error,
    )


@router.get("/drafts/{draft_id:int}/edit")
def edit_form(request: Request, draft_id: int, web: WebDep, who: UserDep) -> Response:
    require(who.user, "edit", web.settings)
    loaded = load(web, draft_id)
    if loaded.draft.status not in EDITABLE:
        return RedirectResponse(f"/drafts/{draft_id}?tb=locked", status_code=303)
    return edit_page(web, request, loaded)


@router.post("/drafts/{draft_id:int}/edit")
def edit_submit(request: Request, draft_id: int, web: WebDep, post: PostDep) -> Response:
    require(post.who.user, "edit", web.settings)
    loaded = load(web, draft_id)
    values = values_from_form(post.form, loaded)
    if post.text("intent") == "preview":
        return edit_page(web, request, loaded, values=values)
    changes = draft_edit(post.form, shown_body=editable_body(loaded.draft.body_html))
    try:
        revision, _status = _shown(post)
        saved = service.edit(web.engine, web.settings, draft_id, post.who.user, revision=revision, changes=changes)
    except StaleRevision:
        fresh = load(web, draft_id)
        return edit_page(web, request, fresh, status=409, error=stale_message(fresh.draft), unsaved=values)
    except Forbidden:
        raise
    except Invalid as exc:
        fresh = load(web, draft_id)
        if fresh.draft.status not in EDITABLE:
            return RedirectResponse(f"/drafts/{draft_id}?tb=locked", status_code=303)
        return edit_page(web, request, loaded, values=values, status=422, error=exc.vi)
    except DraftError as exc:
        raise NotFound(exc.vi) from exc
    done = "saved" if saved.revision != revision else "nochange"
    return RedirectResponse(f"/drafts/{draft_id}?tb={done}", status_code=303)


@router.post("/drafts/{draft_id:int}/preview")
def live_preview(request: Request, draft_id: int, web: WebDep, post: PostDep) -> Response:
    """The sanitized body as the portal will show it, for the editor's live preview (fetched by app.js)."""
    require(post.who.user, "edit", web.settings)
    loaded = load(web, draft_id)
    return HTMLResponse(preview_of(values_from_form(post.form, loaded), loaded))


# ------------------------------------------------------------------------------------- revisions
def _revision_fields(r: DraftRevision, web: Web) -> dict[str, str]:
    images = sorted(r.images or [], key=lambda i: i.get("position", 0))
    return {
        "Tiêu đề": r.title,
        "Sa-pô": r.lead or "",
        "Nội dung": text_of(r.body_html),
        "Tác giả": r.byline or "",
        "Thể loại": web.kind_label(r.kind),
        "Đơn vị": web.unit_name(r.unit_code) if r.unit_code else "Chưa rõ đơn vị",
        "Chuyên mục": web.category_name(r.category) if r.category else "",
        "Ảnh và chú thích": "\n".join(
            f"Ảnh {n}: {i.get('caption') or '(không chú thích)'}" for n, i in enumerate(images, 1)
        ),
    }


def _int(value: str | None, default: int) -> int:
    try:
        return int(value) if value else default
    except ValueError:
        return default


@router.get("/drafts/{draft_id:int}/compare")
def compare(request: Request, draft_id: int, web: WebDep, who: UserDep) -> Response:
    require(who.user, "view", web.settings)
    d = load(web, draft_id).draft
    revs = {r.number: r for r in service.revisions(web.engine, draft_id)}
    if not revs:
        raise NotFound("Bài này chưa có phiên bản nào.")
    b = _int(request.query_params.get("b"), max(revs))
    a = _int(request.query_params.get("a"), b - 1 if b - 1 in revs else b)
    if a not in revs or b not in revs:
        raise NotFound("Không có phiên bản được yêu cầu.")
    before, after = _revision_fields(revs[a], web), _revision_fields(revs[b], web)
    rows = [{"label": k, "pieces": word_diff(before[k], after[k]), "changed": before[k] != after[k]} for k in before]
    names = user_names(web)
    return web.render(
        request,
        "review/compare.html",
        page_title=f"So sánh phiên bản — {d.tracking_code}",
        d=d,
        a=revision_view(revs[a], names, None),
        b=revision_view(revs[b], names, None),
        numbers=sorted(revs),
        rows=rows,
    )


# ------------------------------------------------------------------------------------ duplicates
@router.get("/drafts/{draft_id:int}/duplicate/{other_id:int}")
def duplicate(
    request: Request,
    draft_id: int,
    other_id: int,
    web: WebDep,
    who: UserDep,
) -> Response:
    require(who.user, "view", web.settings)
    this, other = load(web, draft_id), load(web, other_id)
    return web.render(
        request,
        "review/duplicate.html",
        page_title=f"So sánh bài trùng — {this.draft.tracking_code} và {other.draft.tracking_code}",
        pair=[
            {"loaded": this, "body": compose(this.draft.body_html, this.photos)},
            {"loaded": other, "body": compose(other.draft.body_html, other.photos)},
        ],
        d=this.draft,
        other=other.draft,
        show=decisions_shown(web, who, this.draft),
        unit_name=web.unit_name,
        kind_label=web.kind_label,
    )


@router.post("/drafts/{draft_id:int}/keep-duplicate")
def keep_duplicate(request: Request, draft_id: int, web: WebDep, post: PostDep) -> Response:
    """'Keep both': the duplicate flag goes and the finding is recorded (the two drafts go on separately)."""
    require(post.who.user, "comment", web.settings)
    load(web, draft_id)
    other = load(web, _int(post.text("other"), 0)).draft
    assert other.id is not None
    try:
        service.keep_both(web.engine, web.settings, draft_id, other.id, post.who.user)
    except Invalid as exc:
        return draft_page(web, request, post.who, draft_id, status=422, error=exc.vi)
    return RedirectResponse(f"/drafts/{draft_id}?tb=kept", status_code=303)
