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
from sqlmodel import Session, col, func, select

from core.db import lock_name, one_query, reading, table_of, transaction, utcnow
from core.errors import Bilingual
from core.settings import Settings
from core.text import clean_line
from review.models import LoginFailure, LoginThrottle, Role, User, WebSession

_hasher = PasswordHasher()
MIN_PASSWORD_LENGTH = 8
# Input bounds, not policy: longer is never a real account, only a way to fill the disk or the CPU.
MAX_USERNAME_LENGTH = 64
MAX_PASSWORD_LENGTH = 1024
MAX_ADDRESS_LENGTH = 64  # an IPv6 address is at most 45 characters


class AuthError(Bilingual):
    """A sign-in or account problem; `vi` is what the user is shown."""


class RateLimited(AuthError):
    pass


class TooLong(AuthError):
    """A user name or password longer than any real one: refused before any write or hashing."""


@dataclass(frozen=True)
class SignedIn:
    user: User
    csrf_token: str
    token: str  # the cookie value (only its hash is stored)


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _check_lengths(username: str, password: str) -> None:
    """Refused before anything is written or hashed: a megabyte 'user name' must not reach the database,
    nor a megabyte password argon2."""
    if len(username) > MAX_USERNAME_LENGTH:
        raise TooLong(
            f"Tên đăng nhập dài quá {MAX_USERNAME_LENGTH} ký tự", f"user name longer than {MAX_USERNAME_LENGTH}"
        )
    if len(password) > MAX_PASSWORD_LENGTH:
        raise TooLong(f"Mật khẩu dài quá {MAX_PASSWORD_LENGTH} ký tự", f"password longer than {MAX_PASSWORD_LENGTH}")


def add_user(engine: Engine, username: str, password: str, *, role: str, full_name: str = "") -> User:
    """Create an account, or reset an existing one's password and role: its sessions end either way."""
    _check_lengths(username, password)
    username = clean_line(username).lower()
    if not username or " " in username:
        raise AuthError("Tên đăng nhập không hợp lệ", "invalid user name")
    if role not in Role.__members__:
        raise AuthError(f"Vai trò phải là một trong {', '.join(Role)}", f"role must be one of {', '.join(Role)}")
    if len(password) < MIN_PASSWORD_LENGTH:
        raise AuthError(f"Mật khẩu cần ít nhất {MIN_PASSWORD_LENGTH} ký tự", "password too short")
    with transaction(engine) as s:
        user = s.exec(select(User).where(User.username == username)).first()
        if user is None:
            user = User(username=username, role=role, full_name=clean_line(full_name), password_hash="")
        else:
            _end_sessions(s, user)
        user.role, user.password_hash, user.active = role, hash_password(password), True
        if full_name:
            user.full_name = clean_line(full_name)
        s.add(user)
    return user


def disable_user(engine: Engine, username: str) -> tuple[User, int]:
    """Lock an account (it stays, for the audit log's names) and end its sessions: (user, sessions ended)."""
    with transaction(engine) as s:
        user = s.exec(select(User).where(User.username == clean_line(username).lower())).first()
        if user is None:
            raise AuthError(f"Không có người dùng {username!r}", "no such user")
        user.active = False
        s.add(user)
        ended = _end_sessions(s, user)
    return user, ended


def _end_sessions(s: Session, user: User) -> int:
    """Sign the user out everywhere (a reset password or a changed role must not outlive a stolen cookie)."""
    result = s.exec(delete(WebSession).where(col(WebSession.user_id) == user.id))
    return int(result.rowcount or 0)


def _count_address(s: Session, settings: Settings, address: str, now: datetime) -> LoginThrottle:
    """The address's counter for the current window (a fresh window when the last one is over)."""
    window = timedelta(minutes=settings.review.login_window_minutes)
    row = s.get(LoginThrottle, address)
    if row is None:
        row = LoginThrottle(address=address, window_start=now, attempts=0)
    elif row.window_start + window <= now:
        row.window_start, row.attempts = now, 0
    return row


def _reserve_attempt(
    engine: Engine, settings: Settings, username: str, address: str, now: datetime
) -> tuple[User | None, int | None]:
    """Count and book the attempt in one write transaction, before any password is checked: so 30 tries
    at once see each other's bookings and no more than the limit get to argon2. A real account's booking
    is a LoginFailure row (removed again on success); an unknown name only moves the address's counter.
    Returns (the active user or None, the booking's id)."""
    r = settings.review
    too_many = RateLimited(
        f"Đăng nhập sai quá {r.login_attempts} lần; hãy thử lại sau {r.login_window_minutes} phút",
        "too many failed sign-ins, try again later",
    )
    with transaction(engine) as s:
        lock_name(s, f"sign-in:{address}")  # PostgreSQL; SQLite's BEGIN IMMEDIATE already serializes
        counter = _count_address(s, settings, address, now)
        if counter.attempts >= r.login_attempts_per_address:
            raise too_many
        user = s.exec(select(User).where(User.username == username, col(User.active).is_(True))).first()
        booking = None
        if user is not None:
            since = now - timedelta(minutes=r.login_window_minutes)
            if _recent_failures(s, username, address, since) >= r.login_attempts:
                raise too_many
            booking = LoginFailure(username=username, address=address, at=now)
            s.add(booking)
        counter.attempts += 1
        s.add(counter)
        s.flush()
        return user, booking.id if booking else None


def _recent_failures(s: Session, username: str, address: str, since: datetime) -> int:
    return int(
        s.exec(
            select(func.count())
            .select_from(LoginFailure)
            .where(LoginFailure.username == username, LoginFailure.address == address, LoginFailure.at >= since)
        ).one()
    )


def _password_matches(user: User | None, password: str) -> bool:
    if user is None:
        _hasher.hash(password)  # same cost whether or not the account exists
        return False
    try:
        return _hasher.verify(user.password_hash, password)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


def sign_in(engine: Engine, settings: Settings, username: str, password: str, *, address: str) -> SignedIn:
    _check_lengths(username, password)
    r = settings.review
    username = clean_line(username).lower()
    address = address[:MAX_ADDRESS_LENGTH]
    now = utcnow()
    user, booking = _reserve_attempt(engine, settings, username, address, now)
    if user is None or not _password_matches(user, password):
        raise AuthError("Sai tên đăng nhập hoặc mật khẩu", "wrong user name or password")
    token, csrf = secrets.token_urlsafe(32), secrets.token_urlsafe(32)
    with transaction(engine) as s:
        # Not a failure after all: the booking goes, and the address gets its attempt back (an office
        # behind one NAT address signs in all day).
        s.exec(delete(LoginFailure).where(col(LoginFailure.id) == booking))
        counter = s.get(LoginThrottle, address)
        if counter is not None and counter.attempts > 0:
            counter.attempts -= 1
            s.add(counter)
        s.exec(delete(WebSession).where(col(WebSession.expires_at) < now))
        assert user.id is not None  # a stored user
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


def purge_sign_in_records(engine: Engine, settings: Settings, *, now: datetime | None = None) -> int:
    """Delete failed sign-ins and address counters older than the window (the worker runs this on a
    schedule): the sign-in tables hold one window's worth of rows at most. Returns the rows deleted."""
    now = now or utcnow()
    since = now - timedelta(minutes=settings.review.login_window_minutes)
    with transaction(engine) as s:
        failures = s.exec(delete(LoginFailure).where(col(LoginFailure.at) < since))
        counters = s.exec(delete(LoginThrottle).where(col(LoginThrottle.window_start) < since))
    return int(failures.rowcount or 0) + int(counters.rowcount or 0)


# Writing last_seen on every request would make every page a write: only every minute.
_TOUCH_EVERY = timedelta(minutes=1)


def session_user(engine: Engine, settings: Settings, token: str | None) -> SignedIn | None:
    """The signed-in user of a cookie token, or None when absent, unknown, expired or idle too long."""
    if not token:
        return None
    now = utcnow()
    token_hash = _token_hash(token)
    # Every page asks this: one query on a plain connection (no ORM session, no identity map).
    with one_query(engine) as conn:
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


_S = table_of(WebSession).c
_USER_COLUMNS = tuple(table_of(User).c)
_SESSION_QUERY = (
    select(_S.csrf_token, _S.expires_at, _S.last_seen_at, *_USER_COLUMNS)
    .join_from(table_of(WebSession), table_of(User), _S.user_id == table_of(User).c.id)
    .where(_S.token_hash == bindparam("token_hash"))
)


def sign_out(engine: Engine, token: str) -> None:
    with transaction(engine) as s:
        s.exec(delete(WebSession).where(col(WebSession.token_hash) == _token_hash(token)))


def get_user(engine: Engine, username: str) -> User:
    with reading(engine) as s:
        user = s.exec(select(User).where(User.username == clean_line(username).lower())).first()
    if user is None or not user.active:
        raise AuthError(f"Không có người dùng {username!r}", "no such user")
    return user


@dataclass(frozen=True, slots=True)
class Account:
    """An account as `toasoan users list` shows it (never its password hash)."""

    username: str
    role: str
    active: bool
    full_name: str


def accounts(engine: Engine) -> list[Account]:
    """Every account, disabled ones included, by username."""
    q = select(User.username, User.role, User.active, User.full_name).order_by(col(User.username))
    with reading(engine) as s:
        return [Account(*row) for row in s.exec(q).all()]


def has_accounts(engine: Engine) -> bool:
    """Whether any account exists (`toasoan demo` makes its accounts only on an empty database)."""
    with reading(engine) as s:
        return s.exec(select(User.id).limit(1)).first() is not None
