"""Database engine and sessions. SQLite (WAL, busy timeout) by default; PostgreSQL by URL.

The schema itself is owned by the Alembic history in toasoan/migrations; nothing here creates tables.
"""

from __future__ import annotations

import hashlib
import re
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any
from urllib.parse import unquote

from sqlalchemy import DateTime, Table, event, inspect
from sqlalchemy.engine import Connection, Dialect, Engine, make_url
from sqlalchemy.exc import ArgumentError, DisconnectionError
from sqlalchemy.pool import ConnectionPoolEntry, PoolProxiedConnection
from sqlalchemy.types import TypeDecorator
from sqlmodel import Session, SQLModel, create_engine

SQLITE_BUSY_TIMEOUT_MS = 15_000
SQLITE_POOL_SIZE = 16  # at least the web server's worker threads ([review] threads)
# A pooled PostgreSQL connection idle this long is tested before use (the server may have restarted or
# a firewall dropped it overnight); a busy one is not, which spares every request a round trip.
PING_AFTER_IDLE_SECONDS = 10.0


def utcnow() -> datetime:
    return datetime.now(UTC)


class UTCDateTime(TypeDecorator[datetime]):
    """Aware UTC datetimes on every backend (SQLite keeps no zone; PostgreSQL gets timestamptz)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


_USERINFO_PASSWORD = re.compile(r"(//[^:/@\s]*:)([^@\s]*)@")


def safe_url(url: str) -> str:
    """The database URL as it may be shown (messages, logs): the password replaced by ***."""
    try:
        return make_url(url).render_as_string(hide_password=True)
    except (ArgumentError, ValueError):  # unparsable: mask whatever sits between "//user:" and "@"
        return _USERINFO_PASSWORD.sub(r"\1***@", url)


def redact(text: str, url: str) -> str:
    """`text` without the URL's password, in any spelling a driver might echo (as written or %-decoded)."""
    match = _USERINFO_PASSWORD.search(url)
    secrets = {match.group(2), unquote(match.group(2))} if match else set()
    for secret in sorted(secrets - {""}, key=len, reverse=True):
        text = text.replace(secret, "***")
    return text


def _sqlite_pragmas(dbapi_conn: Any, _record: Any) -> None:
    cur = dbapi_conn.cursor()
    # WAL lets the web UI read while the worker writes; busy_timeout makes writers wait, not fail.
    cur.execute("PRAGMA journal_mode=WAL")
    cur.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
    cur.execute("PRAGMA foreign_keys=ON")
    cur.execute("PRAGMA synchronous=NORMAL")  # durable at checkpoints; the spool is fsync'd anyway
    cur.close()
    dbapi_conn.isolation_level = None  # pysqlite must not BEGIN on its own: _sqlite_begin does


def _sqlite_begin(conn: Any) -> None:
    # A write transaction takes the write lock at BEGIN, so two writers queue on busy_timeout
    # instead of one failing with "database is locked" when a read lock is upgraded.
    immediate = conn.get_execution_options().get(_IMMEDIATE, False)
    conn.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")


_IMMEDIATE = "toasoan_write"


def make_engine(url: str) -> Engine:
    if url.startswith("sqlite"):
        # Every thread of the web server's pool keeps its connection: a connection beyond the pool
        # would be opened (and its pragmas run) and closed again for each request.
        engine = create_engine(
            url,
            connect_args={"timeout": SQLITE_BUSY_TIMEOUT_MS / 1000, "check_same_thread": False},
            pool_size=SQLITE_POOL_SIZE,
            max_overflow=SQLITE_POOL_SIZE,
        )
        event.listen(engine, "connect", _sqlite_pragmas)
        event.listen(engine, "begin", _sqlite_begin)
        return engine
    engine = create_engine(url)
    event.listen(engine, "checkin", _note_idle_since)
    event.listen(engine, "checkout", _ping_if_idle(engine.dialect))
    return engine


def _note_idle_since(dbapi_connection: Any, record: ConnectionPoolEntry) -> None:
    record.info["idle_since"] = time.monotonic()


def _ping_if_idle(dialect: Dialect) -> Callable[[Any, ConnectionPoolEntry, PoolProxiedConnection], None]:
    """SQLAlchemy's pool_pre_ping, only for a connection that has been idle: a dead one is replaced
    before the caller sees it (DisconnectionError makes the pool open a new one). A connection that
    dies while busy fails that one request; SQLAlchemy then renews the whole pool."""

    def checkout(dbapi_connection: Any, record: ConnectionPoolEntry, proxy: PoolProxiedConnection) -> None:
        since = record.info.get("idle_since")
        if since is None or time.monotonic() - since < PING_AFTER_IDLE_SECONDS:
            return
        try:
            alive = dialect.do_ping(dbapi_connection)
        except Exception as exc:  # what a dead connection raises depends on how it died
            raise DisconnectionError(f"idle connection is gone: {exc}") from exc
        if not alive:
            raise DisconnectionError("idle connection is gone")

    return checkout


def table_of(model: type[SQLModel]) -> Table:
    """A table model's Core table, for queries built from its columns (`table_of(Draft).c.title`).

    The same object as `model.__table__`, which SQLModel sets on each table class without declaring it.
    """
    table = inspect(model).local_table
    assert isinstance(table, Table)
    return table


@contextmanager
def one_query(engine: Engine) -> Iterator[Connection]:
    """A connection for read-only statements that need no transaction around them (who is signed in,
    what every page asks first; a page kept until the database changes, `review.service`). On
    PostgreSQL in autocommit, where each statement is its own transaction: no BEGIN and ROLLBACK round
    trips around them. On SQLite nothing changes: `_sqlite_begin` opens a transaction at the first statement."""
    with engine.connect() as conn:
        if conn.dialect.name == "postgresql":
            conn.execution_options(isolation_level="AUTOCOMMIT")
        yield conn


@contextmanager
def transaction(engine: Engine) -> Iterator[Session]:
    """One short write unit of work: commit on success, roll back on any exception."""
    with Session(engine.execution_options(**{_IMMEDIATE: True}), expire_on_commit=False) as session:
        try:
            yield session
            session.commit()
        except BaseException:
            session.rollback()
            raise


@contextmanager
def reading(engine: Engine) -> Iterator[Session]:
    """A read-only session (no write lock taken)."""
    with Session(engine, expire_on_commit=False) as session:
        yield session


def lock_name(session: Session, name: str) -> None:
    """Serialize writers that would otherwise both see "no such row yet" and both insert it.

    PostgreSQL: a transaction-scoped advisory lock on the name. SQLite: nothing to do, every write
    transaction already holds the database's write lock from BEGIN IMMEDIATE.
    """
    bind = session.get_bind()
    if bind.dialect.name == "postgresql":
        key = int.from_bytes(hashlib.sha256(name.encode()).digest()[:8], "big", signed=True)
        session.connection().exec_driver_sql("SELECT pg_advisory_xact_lock(%s)", (key,))
