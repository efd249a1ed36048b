"""The board's web UI: server-rendered pages (FastAPI + Jinja2), Vietnamese, no external resources.

Every route needs a session except the sign-in page and /static. Production runs behind an HTTPS
reverse proxy with `[review] secure_cookies = true` (see the README).
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from urllib.parse import urlencode

import anyio
import anyio.to_thread
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from sqlalchemy.engine import Engine
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import ASGIApp, Receive, Scope, Send

from core.settings import Settings
from review.service import Forbidden
from review.web import drafts, files, health, inbox, publications, queue, reports, signin
from review.web.deps import CsrfRejected, NotFound, SignInRequired, Web
from review.web.security import RequestId, SecurityHeaders

log = logging.getLogger(__name__)

STATIC = Path(__file__).resolve().parent / "static"

HTTP_MESSAGES = {
    400: "Yêu cầu không hợp lệ.",
    404: "Không tìm thấy trang được yêu cầu.",
    405: "Địa chỉ này không nhận kiểu yêu cầu đó.",
}


def create_app(settings: Settings, engine: Engine) -> FastAPI:
    web = Web.build(settings, engine)

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        # Pages run in worker threads; PageSlots lets `threads` of them in at once, and the threads
        # beyond those are for what must not wait behind pages (a decision, an edit, a sign-in).
        anyio.to_thread.current_default_thread_limiter().total_tokens = max(1, settings.review.threads) + SPARE_THREADS
        yield
        from ingest.word.pool import shutdown_pool  # "Xử lý lại" may have started conversion workers

        shutdown_pool()

    app = FastAPI(
        title="Tòa soạn — giao diện biên tập",
        docs_url=None,
        redoc_url=None,
        openapi_url=None,  # no JSON API: nothing to document or to fuzz
        lifespan=lifespan,
    )
    app.state.web = web
    app.add_middleware(PageSlots, slots=max(1, settings.review.threads))
    app.add_middleware(SecurityHeaders, https=web.secure)
    app.add_middleware(RequestId)  # outermost: the id is bound for the whole request
    app.mount("/static", StaticFiles(directory=STATIC), name="static")
    for module in (signin, queue, drafts, publications, inbox, files, reports, health):
        app.include_router(module.router)
    _error_pages(app, web)
    return app


SPARE_THREADS = 2


class PageSlots:
    """ASGI middleware: at most `slots` page views (GET, HEAD) in the app at once, first come first
    served; the others wait here, in the event loop, where waiting costs nothing. Other requests
    (the POSTs of decisions and edits) go past the queue.

    A process runs Python in one thread at a time, and every row SQLite returns lets go of that lock:
    taking it back behind busy threads takes up to a switch interval. So a few pages at once serve
    more pages a second, each at less CPU, than anyio's default 40 threads; and a decision no longer
    waits behind every page in the queue (the figures: bench/README.md, review pages).
    """

    def __init__(self, app: ASGIApp, *, slots: int) -> None:
        self.app = app
        self.slots = slots
        self._free: anyio.Semaphore | None = None  # made in the event loop, at the first request

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] not in ("GET", "HEAD") or scope["path"].startswith("/static/"):
            await self.app(scope, receive, send)
            return
        if self._free is None:
            self._free = anyio.Semaphore(self.slots)
        async with self._free:
            await self.app(scope, receive, send)


def _error_pages(app: FastAPI, web: Web) -> None:
    def page(request: Request, status: int, title: str, message: str) -> Response:
        return web.render(request, "review/error.html", status=status, page_title=title, message=message)

    @app.exception_handler(SignInRequired)
    async def sign_in_required(request: Request, exc: SignInRequired) -> Response:
        query: dict[str, str] = {}
        if exc.next_path and exc.next_path != "/":
            query["next"] = exc.next_path
        if request.cookies.get(web.cookie):
            query["tb"] = "expired"
        response = RedirectResponse("/login" + (f"?{urlencode(query)}" if query else ""), status_code=303)
        if request.cookies.get(web.cookie):
            response.delete_cookie(web.cookie, path="/", secure=web.secure, httponly=True, samesite="lax")
        return response

    @app.exception_handler(CsrfRejected)
    async def csrf_rejected(request: Request, exc: CsrfRejected) -> Response:
        return page(
            request,
            403,
            "Yêu cầu bị từ chối",
            "Yêu cầu không kèm mã xác thực hợp lệ của phiên làm việc, hoặc đến từ một trang khác. "
            "Hãy tải lại trang rồi thử lại.",
        )

    @app.exception_handler(Forbidden)
    async def forbidden(request: Request, exc: Forbidden) -> Response:
        return page(request, 403, "Không có quyền", "Tài khoản của đồng chí không có quyền thực hiện việc này.")

    @app.exception_handler(NotFound)
    async def not_found(request: Request, exc: NotFound) -> Response:
        return page(request, 404, "Không tìm thấy", exc.message)

    @app.exception_handler(RequestValidationError)
    async def invalid_request(request: Request, exc: RequestValidationError) -> Response:
        return page(request, 400, "Yêu cầu không hợp lệ", HTTP_MESSAGES[400])

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> Response:
        message = HTTP_MESSAGES.get(exc.status_code, "Không thực hiện được yêu cầu.")
        response = page(request, exc.status_code, "Lỗi", message)
        if exc.headers:
            response.headers.update(exc.headers)
        return response
