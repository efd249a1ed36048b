"""Accounts, passwords (argon2), sessions that expire, and a sign-in rate limit."""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError
from sqlalchemy import bindparam, delete
from sqlalchemy.engine import Engine
from sqlmodel import col, func, select

from core.db import reading, transaction, utcnow
from core.settings import Settings
from core.text import clean_line
from review.models import LoginFailure, Role, User, WebSession

_hasher = PasswordHasher()
MIN_PASSWORD_LENGTH = 8


class AuthError(Exception):
    """A sign-in or account problem; the message is for the user."""


class RateLimited(AuthError):
    pass


@dataclass(frozen=True)
class SignedIn:
    user: User
    csrf_token: str
    token: str  # the cookie value (only its hash is stored)


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def add_user(engine: Engine, username: str, password: str, *, role: str, full_name: str = "") -> User:
    username = clean_line(username).lower()
    if not username or " " in username:
        raise AuthError("Tên đăng nhập không hợp lệ / invalid user name")
    if role not in Role.__members__:
        raise AuthError(f"Vai trò phải là một trong {', '.join(Role)} / role must be one of {', '.join(Role)}")
    if len(password) < MIN_PASSWORD_LENGTH:
        raise AuthError(f"Mật khẩu cần ít nhất {MIN_PASSWORD_LENGTH} ký tự / password too short")
    with transaction(engine) as s:
        user = s.exec(select(User).where(User.username == username)).first()
        if user is None:
            user = User(username=username, role=role, full_name=clean_line(full_name), password_hash="")
        user.role, user.password_hash, user.active = role, hash_password(password), True
        if full_name:
            user.full_name = clean_line(full_name)
        s.add(user)
    return user


def _recent_failures(engine: Engine, username: str, address: str, since: datetime) -> int:
    with reading(engine) as s:
        return int(
            s.exec(
                select(func.count())
                .select_from(LoginFailure)
                .where(LoginFailure.username == username, LoginFailure.address == address, LoginFailure.at >= since)
            ).one()
        )


def sign_in(engine: Engine, settings: Settings, username: str, password: str, *, address: str) -> SignedIn:
    r = settings.review
    username = clean_line(username).lower()
    now = utcnow()
    window_start = now - timedelta(minutes=r.login_window_minutes)
    if _recent_failures(engine, username, address, window_start) >= r.login_attempts:
        raise RateLimited(
            f"Đăng nhập sai quá {r.login_attempts} lần; hãy thử lại sau {r.login_window_minutes} phút"
            f" / too many failed sign-ins, try again later"
        )
    with reading(engine) as s:
        user = s.exec(select(User).where(User.username == username, col(User.active).is_(True))).first()
    ok = False
    if user is not None:
        try:
            ok = _hasher.verify(user.password_hash, password)
        except (VerifyMismatchError, VerificationError, InvalidHashError):
            ok = False
    else:
        _hasher.hash(password)  # same cost whether or not the account exists
    if not ok or user is None:
        with transaction(engine) as s:
            s.add(LoginFailure(username=username, address=address, at=now))
        raise AuthError("Sai tên đăng nhập hoặc mật khẩu / wrong user name or password")
    token, csrf = secrets.token_urlsafe(32), secrets.token_urlsafe(32)
    with transaction(engine) as s:
        s.exec(delete(LoginFailure).where(col(LoginFailure.at) < window_start))
        s.exec(delete(WebSession).where(col(WebSession.expires_at) < now))
        s.add(
            WebSession(
                token_hash=_token_hash(token),
                user_id=user.id,
                csrf_token=csrf,
                created_at=now,
                expires_at=now + timedelta(hours=r.session_hours),
                last_seen_at=now,
            )
        )
        if _hasher.check_needs_rehash(user.password_hash):
            fresh = s.get(User, user.id)
            if fresh is not None:
                fresh.password_hash = hash_password(password)
                s.add(fresh)
    return SignedIn(user=user, csrf_token=csrf, token=token)


# Writing last_seen on every request would make every page a write: only every minute.
_TOUCH_EVERY = timedelta(minutes=1)


def session_user(engine: Engine, settings: Settings, token: str | None) -> SignedIn | None:
    """The signed-in user of a cookie token, or None when absent, unknown, expired or idle too long."""
    if not token:
        return None
    now = utcnow()
    token_hash = _token_hash(token)
    # Every page asks this: one query on a plain connection (no ORM session, no identity map).
    with engine.connect() as conn:
        row = conn.execute(_SESSION_QUERY, {"token_hash": token_hash}).first()
    if row is None:
        return None
    sess, user = row._mapping, User(**{c.key: row._mapping[c] for c in _USER_COLUMNS})
    if not user.active:
        return None
    idle = timedelta(minutes=settings.review.idle_minutes)
    if sess[_S.expires_at] <= now or sess[_S.last_seen_at] + idle <= now:
        sign_out(engine, token)
        return None
    if now - sess[_S.last_seen_at] >= _TOUCH_EVERY:
        with transaction(engine) as s:
            fresh = s.get(WebSession, token_hash)
            if fresh is not None:
                fresh.last_seen_at = now
                s.add(fresh)
    return SignedIn(user=user, csrf_token=sess[_S.csrf_token], token=token)


_S = WebSession.__table__.c  # type: ignore[attr-defined]
_USER_COLUMNS = tuple(User.__table__.c)  # type: ignore[attr-defined]
_SESSION_QUERY = (
    select(_S.csrf_token, _S.expires_at, _S.last_seen_at, *_USER_COLUMNS)
    .join_from(WebSession.__table__, User.__table__, _S.user_id == User.__table__.c.id)  # type: ignore[attr-defined]
    .where(_S.token_hash == bindparam("token_hash"))
)


def sign_out(engine: Engine, token: str) -> None:
    with transaction(engine) as s:
        s.exec(delete(WebSession).where(col(WebSession.token_hash) == _token_hash(token)))


def get_user(engine: Engine, username: str) -> User:
    with reading(engine) as s:
        user = s.exec(select(User).where(User.username == clean_line(username).lower())).first()
    if user is None or not user.active:
        raise AuthError(f"Không có người dùng {username!r} / no such user")
    return user
