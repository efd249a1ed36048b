"""Signing in and out. The sign-in form has its own CSRF token (a cookie and a hidden field that must
match), since there is no session yet to hold one."""

from __future__ import annotations

import secrets

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response

from core.text import nfc
from review.auth import MAX_USERNAME_LENGTH, AuthError, RateLimited, TooLong, session_user, sign_in, sign_out
from review.web.deps import FormDep, PostDep, Web, WebDep
from review.web.security import safe_next, same_site_request, tokens_match

router = APIRouter()

NOTICES = {
    "signed_out": "Đồng chí đã đăng xuất.",
    "expired": "Phiên làm việc đã hết hạn hoặc chưa đăng nhập. Mời đồng chí đăng nhập lại.",
}


def client_address(request: Request) -> str:
    return request.client.host if request.client else "unknown"


def _login_page(
    web: Web,
    request: Request,
    *,
    status: int = 200,
    error: str | None = None,
    notice: str | None = None,
    username: str = "",
    next_path: str = "/",
) -> Response:
    token = request.cookies.get(web.login_cookie) or ""
    if len(token) < 32 or not token.isascii():
        token = secrets.token_urlsafe(32)
    response = web.render(
        request,
        "review/login.html",
        status=status,
        who=None,
        error=error,
        notice=notice,
        username=username[:MAX_USERNAME_LENGTH],  # never echo a megabyte back
        next_path=safe_next(next_path),
        login_token=token,
        page_title="Đăng nhập",
    )
    response.set_cookie(web.login_cookie, token, httponly=True, samesite="lax", secure=web.secure, path="/")
    return response


@router.get("/login")
def login_form(request: Request, web: WebDep) -> Response:
    if session_user(web.engine, web.settings, request.cookies.get(web.cookie)) is not None:
        return RedirectResponse("/", status_code=303)
    tb = request.query_params.get("tb", "")
    return _login_page(web, request, notice=NOTICES.get(tb), next_path=request.query_params.get("next", "/"))


@router.post("/login")
def login_submit(request: Request, web: WebDep, form: FormDep) -> Response:
    username = nfc(str(form.get("username") or ""))
    password = str(form.get("password") or "")
    next_path = safe_next(str(form.get("next") or "/"))
    if not tokens_match(form.get("login_token"), request.cookies.get(web.login_cookie)) or not same_site_request(
        request, web.settings.review.public_url
    ):
        return _login_page(
            web,
            request,
            status=403,
            error="Trang đăng nhập đã quá hạn hoặc không hợp lệ. Mời đồng chí nhập lại.",
            username=username,
            next_path=next_path,
        )
    try:
        done = sign_in(web.engine, web.settings, username, password, address=client_address(request))
    except TooLong as exc:
        return _login_page(web, request, status=422, error=exc.vi + ".", username=username, next_path=next_path)
    except RateLimited as exc:
        return _login_page(web, request, status=429, error=exc.vi + ".", username=username, next_path=next_path)
    except AuthError:
        return _login_page(
            web, request, status=401, error="Sai tên đăng nhập hoặc mật khẩu.", username=username, next_path=next_path
        )
    response = RedirectResponse(next_path, status_code=303)
    response.set_cookie(
        web.cookie,
        done.token,
        max_age=int(web.settings.review.session_hours) * 3600,
        httponly=True,
        samesite="lax",
        secure=web.secure,
        path="/",
    )
    response.delete_cookie(web.login_cookie, path="/", secure=web.secure, httponly=True, samesite="lax")
    return response


@router.post("/logout")
def logout(request: Request, web: WebDep, post: PostDep) -> Response:
    sign_out(web.engine, post.who.token)
    response = RedirectResponse("/login?tb=signed_out", status_code=303)
    response.delete_cookie(web.cookie, path="/", secure=web.secure, httponly=True, samesite="lax")
    return response
