"""Tables owned by review: the board's accounts, their sign-in sessions, failed sign-ins and the per-address
sign-in counter."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlmodel import Field, SQLModel

from core.db import UTCDateTime, utcnow


class Role(StrEnum):
    viewer = "viewer"  # reads the queue (e.g. a member of the Standing Committee)
    editor = "editor"  # biên tập viên: edits, requests changes, rejects, proposes/approves
    chief = "chief"  # Trưởng/Phó Ban Biên tập: approves and sets the royalty coefficient
    admin = "admin"  # everything, and the accounts


ROLE_LABELS: dict[str, str] = {
    Role.viewer: "Người xem",
    Role.editor: "Biên tập viên",
    Role.chief: "Trưởng Ban Biên tập",
    Role.admin: "Quản trị",
}


class User(SQLModel, table=True):
    __tablename__ = "app_user"

    id: int | None = Field(default=None, primary_key=True)
    username: str = Field(unique=True, index=True)
    full_name: str = ""
    role: str = Role.editor
    password_hash: str
    active: bool = True
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class WebSession(SQLModel, table=True):
    """A signed-in browser. Only a hash of the cookie's token is stored."""

    __tablename__ = "web_session"

    token_hash: str = Field(primary_key=True)
    user_id: int = Field(foreign_key="app_user.id", index=True)
    csrf_token: str
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    expires_at: datetime = Field(sa_type=UTCDateTime)
    last_seen_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class LoginFailure(SQLModel, table=True):
    __tablename__ = "login_failure"

    id: int | None = Field(default=None, primary_key=True)
    username: str = Field(index=True)
    address: str
    at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime, index=True)


class LoginThrottle(SQLModel, table=True):
    """Sign-in attempts from one address in the current window, whatever the user name: one row per
    address (not per attempt), so a flood of made-up names cannot grow the database."""

    __tablename__ = "login_throttle"

    address: str = Field(primary_key=True)
    window_start: datetime = Field(sa_type=UTCDateTime, index=True)
    attempts: int = 0
