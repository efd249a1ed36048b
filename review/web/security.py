"""Security headers on every response, cookie names, and the cross-site request checks.

CSRF defence is layered: session cookies are SameSite=Lax; every POST carries the session's
synchronizer token in a hidden field (compared in constant time); and a POST whose Origin (or, when
a browser sends no Origin, Referer) names another site is refused.
"""

from __future__ import annotations

import hmac
import logging
import re
import uuid
from urllib.parse import urlsplit

from starlette.requests import Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from core.logs import bound

log = logging.getLogger(__name__)

# No inline script or style anywhere: the pages load /static/app.js and /static/style.css only.
CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self'; connect-src 'self'; "
    "object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
)
BASE_HEADERS: tuple[tuple[bytes, bytes], ...] = (
    (b"content-security-policy", CSP.encode()),
    (b"x-frame-options", b"DENY"),
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"same-origin"),
    (b"cross-origin-opener-policy", b"same-origin"),
    (b"cross-origin-resource-policy", b"same-origin"),
    (b"permissions-policy", b"camera=(), microphone=(), geolocation=(), payment=()"),
)
HSTS = (b"strict-transport-security", b"max-age=31536000")

_ERROR_PAGE = (
    "<!doctype html><html lang=vi><meta charset=utf-8><title>Lỗi hệ thống</title>"
    "<h1>Lỗi hệ thống</h1><p>Máy chủ gặp lỗi khi xử lý yêu cầu. Hãy thử lại sau ít phút; nếu vẫn lỗi, "
    "báo cho quản trị viên.</p></html>"
).encode()


class SecurityHeaders:
    """ASGI middleware: the headers above on every HTTP response, and a bare 500 page (with them)
    when the application fails before answering. Pages default to `Cache-Control: no-store`
    (they show unpublished material); static files to revalidation."""

    def __init__(self, app: ASGIApp, *, https: bool = False) -> None:
        self.app = app
        self.headers = [*BASE_HEADERS, HSTS] if https else list(BASE_HEADERS)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = False
        static = scope.get("path", "").startswith("/static/")

        async def send_with_headers(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
                headers = list(message.get("headers", []))
                present = {k.lower() for k, _ in headers}
                headers += [(k, v) for k, v in self.headers if k not in present]
                if b"cache-control" not in present:
                    headers.append((b"cache-control", b"no-cache" if static else b"no-store"))
                message = {**message, "headers": headers}
            await send(message)

        try:
            await self.app(scope, receive, send_with_headers)
        except Exception:
            if not started:
                await send_with_headers(
                    {
                        "type": "http.response.start",
                        "status": 500,
                        "headers": [(b"content-type", b"text/html; charset=utf-8")],
                    }
                )
                await send({"type": "http.response.body", "body": _ERROR_PAGE})
            raise  # the server logs it (and a test client re-raises it)


# ------------------------------------------------------------------------------------- cookies
def session_cookie(secure: bool) -> str:
    # "__Host-" makes the browser refuse the cookie unless Secure, Path=/ and host-only.
    return "__Host-toasoan" if secure else "toasoan"


def login_cookie(secure: bool) -> str:
    return "__Host-toasoan-dn" if secure else "toasoan-dn"


# ------------------------------------------------------------------------------- request checks
_DEFAULT_PORTS = {"http": 80, "https": 443}


def origin_of(url: str) -> str | None:
    """'scheme://host[:port]' normalized (lower case, default port left out); None if not a URL."""
    try:
        parts = urlsplit(url.strip())
        port = parts.port
    except ValueError:
        return None
    if parts.scheme not in _DEFAULT_PORTS or not parts.hostname:
        return None
    suffix = f":{port}" if port and port != _DEFAULT_PORTS[parts.scheme] else ""
    return f"{parts.scheme}://{parts.hostname}{suffix}"


def allowed_origins(request: Request, public_url: str) -> set[str]:
    own = origin_of(str(request.base_url))
    public = origin_of(public_url)
    return {o for o in (own, public) if o}


def same_site_request(request: Request, public_url: str) -> bool:
    """False when the browser says the request comes from another site (Origin, else Referer)."""
    allowed = allowed_origins(request, public_url)
    origin = request.headers.get("origin")
    if origin is not None:
        return origin_of(origin) in allowed  # "null" (sandboxed frames, data: pages) is refused
    referer = request.headers.get("referer")
    if referer:
        return origin_of(referer) in allowed
    return True  # neither header: older clients and privacy settings; the token still has to match


def tokens_match(sent: object, expected: str | None) -> bool:
    if not isinstance(sent, str) or not sent or not expected:
        return False
    return hmac.compare_digest(sent.encode(), expected.encode())


def safe_next(target: str | None) -> str:
    """A local path to go back to after signing in, never another site."""
    if not target or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return "/"
    if any(ord(c) < 32 for c in target):
        return "/"
    return target


_REQUEST_ID = re.compile(rb"[A-Za-z0-9._-]{1,64}")


class RequestId:
    """ASGI middleware: every request gets an id (the proxy's `X-Request-ID` when it is a plain token,
    else a new one), on every log line written while it is served (core.logs) and on the response,
    so a line in the log and a person's complaint about a page meet."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        given = dict(scope.get("headers", [])).get(b"x-request-id", b"")
        rid = given.decode() if _REQUEST_ID.fullmatch(given) else uuid.uuid4().hex[:16]

        async def send_with_id(message: Message) -> None:
            if message["type"] == "http.response.start":
                message = {**message, "headers": [*message.get("headers", []), (b"x-request-id", rid.encode())]}
            await send(message)

        with bound(request_id=rid):
            await self.app(scope, receive, send_with_id)
