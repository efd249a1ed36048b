"""What every route shares: the app's context (settings, database, store, templates), the signed-in
user, the CSRF-checked form of a POST, and page rendering."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from functools import partial
from typing import Annotated, Any

from fastapi import Depends, Request
from fastapi.responses import HTMLResponse
from jinja2 import Environment
from markupsafe import Markup
from sqlalchemy.engine import Engine
from starlette.datastructures import FormData

from core.formats import format_date, format_datetime, format_size
from core.settings import Settings
from core.storage import Store
from core.templating import environment
from core.text import nfc
from review.auth import SignedIn, session_user
from review.service import allowed
from review.web import labels
from review.web.security import login_cookie, same_site_request, session_cookie, tokens_match


class SignInRequired(Exception):
    """No valid session: go to the sign-in page (and come back to `next` for a GET)."""

    def __init__(self, next_path: str | None) -> None:
        super().__init__("sign-in required")
        self.next_path = next_path


class CsrfRejected(Exception):
    """A POST without the session's token, with another one, or from another site."""


class NotFound(Exception):
    def __init__(self, message: str = "Không tìm thấy trang hoặc bài được yêu cầu.") -> None:
        super().__init__(message)
        self.message = message


ACTIONS = (
    "view",
    "edit",
    "comment",
    "request_changes",
    "reject",
    "approve",
    "propose",
    "set_coefficient",
    "withdraw",
    "publish",
    "shares",
)


FRAGMENTS_KEPT = 2_000  # per template: a few MB at most


@dataclass
class Web:
    settings: Settings
    engine: Engine
    store: Store
    env: Environment
    cookie: str
    login_cookie: str
    secure: bool

    @classmethod
    def build(cls, settings: Settings, engine: Engine) -> Web:
        secure = bool(settings.review.secure_cookies)
        return cls(
            settings=settings,
            engine=engine,
            store=Store(settings.storage_dir),
            env=_environment(settings),
            cookie=session_cookie(secure),
            login_cookie=login_cookie(secure),
            secure=secure,
        )

    def can(self, who: SignedIn | None) -> dict[str, bool]:
        """The actions the user may take, for deciding which buttons and forms to show."""
        if who is None:
            return dict.fromkeys(ACTIONS, False)
        return {a: allowed(who.user, a, self.settings) for a in ACTIONS}

    def render(self, request: Request, name: str, *, status: int = 200, **context: Any) -> HTMLResponse:
        who: SignedIn | None = context.pop("who", None) or getattr(request.state, "who", None)
        base = {
            "who": who,
            "csrf_token": who.csrf_token if who else "",
            "can": self.can(who),
            "path": request.url.path,
            "notice": None,
            "error": None,
            "organization": self.settings.organization.name,
            "office": self.settings.organization.office_name,
        }
        html = self.env.get_template(name).render(**{**base, **context})
        return HTMLResponse(nfc(html), status_code=status)

    def fragment(self, name: str, key: tuple[object, ...], context: Callable[[], dict[str, Any]]) -> Markup:
        """The HTML of a small template (one row of a table) rendered once per `key` and kept by this
        process. The key holds every value the HTML depends on (the settings are fixed per process), so
        a kept fragment is never stale; `context` is called on a miss only. Rows come back on most
        requests (the queue's first pages, a draft's history), and rendering them was a quarter of a
        page's time."""
        kept = self._fragments.setdefault(name, {})
        html = kept.get(key)
        if html is None:
            if len(kept) >= FRAGMENTS_KEPT:
                kept.clear()  # simpler than an LRU: refilling costs one render per row shown
            # The template escapes every value (autoescape): its output is markup.
            html = kept[key] = Markup(self.env.get_template(name).render(**context()))  # noqa: S704
        return html

    # Lookups the templates use (a page of the queue asks them 50 times: dictionaries, built once).
    def kind_label(self, kind: str) -> str:
        return self._kind_labels.get(kind, kind)

    def unit_name(self, code: str | None) -> str:
        return self._unit_names.get(code or "", code or "")

    def category_name(self, slug: str | None) -> str:
        return self._category_names.get(slug or "", slug or "")

    def __post_init__(self) -> None:
        self._fragments: dict[str, dict[tuple[object, ...], Markup]] = {}
        self._kind_labels = {kind: genre.label for kind, genre in self.settings.genres.items()}
        self._unit_names: dict[str, str] = {}
        for unit in reversed(self.settings.units):  # the first unit of a code wins, as in unit_by_code
            self._unit_names[unit.code] = unit.name
        self._category_names: dict[str, str] = {}
        for category in reversed(self.settings.categories):
            self._category_names[category.slug] = category.name


def _environment(settings: Settings) -> Environment:
    """The project's Jinja environment (autoescape on), overlaid with the UI's filters and lookups;
    the shared environment itself is left untouched."""
    base = environment()
    env = base.overlay(auto_reload=False)  # templates change with a release, not while serving
    tz = settings.tz
    env.filters = {
        **base.filters,
        "d": partial(_local, format_date, tz),
        "dt": partial(_local, format_datetime, tz),
        "size": format_size,
        "coef": _coef,
    }
    env.globals = {
        **base.globals,
        "status_label": labels.status_label,
        "warning": labels.warning,
        "reason_label": lambda r: labels.REASON_LABELS.get(r or "", r or ""),
        "action_label": lambda a: labels.ACTION_LABELS.get(a, a),
        "field_label": labels.field_label,
        "role_label": labels.role_label,
        "month_label": labels.month_label,
    }
    return env


def _local(fmt: Any, tz: Any, value: datetime | None) -> str:
    return fmt(value, tz) if value is not None else ""


def _coef(value: Decimal | None) -> str:
    return labels.format_coefficient(value)


# ---------------------------------------------------------------------------------- dependencies
async def get_web(request: Request) -> Web:
    """Async on purpose: a plain lookup, so FastAPI need not hop to a worker thread for it."""
    return web_of(request)


def web_of(request: Request) -> Web:
    web: Web = request.app.state.web
    return web


def signed_in(request: Request) -> SignedIn:
    web = web_of(request)
    who = session_user(web.engine, web.settings, request.cookies.get(web.cookie))
    if who is None:
        target = None
        if request.method == "GET":
            target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        raise SignInRequired(target)
    request.state.who = who
    return who


async def form_data(request: Request) -> FormData:
    return await request.form()


@dataclass(frozen=True)
class Posted:
    who: SignedIn
    form: FormData

    def text(self, name: str) -> str:
        value = self.form.get(name)
        return nfc(value) if isinstance(value, str) else ""


def posted(
    request: Request, who: Annotated[SignedIn, Depends(signed_in)], form: Annotated[FormData, Depends(form_data)]
) -> Posted:
    """The form of a POST by a signed-in user, with the session's CSRF token and from this site."""
    web = web_of(request)
    if not tokens_match(form.get("csrf_token"), who.csrf_token):
        raise CsrfRejected()
    if not same_site_request(request, web.settings.review.public_url):
        raise CsrfRejected()
    return Posted(who=who, form=form)


WebDep = Annotated[Web, Depends(get_web)]
UserDep = Annotated[SignedIn, Depends(signed_in)]
PostDep = Annotated[Posted, Depends(posted)]
FormDep = Annotated[FormData, Depends(form_data)]
