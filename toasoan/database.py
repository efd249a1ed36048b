"""Opening the database: engine + schema brought up to date by the Alembic history."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy.engine import Engine
from sqlalchemy.exc import SQLAlchemyError

from core.db import make_engine, redact, safe_url
from core.settings import Settings

MIGRATIONS = Path(__file__).parent / "migrations"


def include_object(obj: object, name: str | None, type_: str, reflected: bool, compare_to: object) -> bool:
    """What autogenerate compares: not the search indexes, that no model describes: SQLite's FTS5 virtual
    table and its shadow tables (migration 0011), PostgreSQL's generated tsvector column and its GIN
    index (0013)."""
    if name in ("search_words", "ix_draft_search_words") and type_ in ("column", "index"):
        return False
    return not (type_ == "table" and name is not None and name.startswith("draft_fts"))


def alembic_config(url: str) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    cfg.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return cfg


def upgrade(engine: Engine) -> None:
    cfg = alembic_config(str(engine.url))
    with engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, "head")


class DatabaseUnavailable(SQLAlchemyError):
    """The database cannot be opened; the message names it without its password."""


def open_database(settings: Settings, *, migrate: bool = True) -> Engine:
    url = settings.database_url
    try:
        if url.startswith("sqlite:///") and url != "sqlite:///:memory:":
            Path(url[len("sqlite:///") :]).parent.mkdir(parents=True, exist_ok=True)
        engine = make_engine(url)
        if migrate:
            upgrade(engine)
    except (SQLAlchemyError, OSError, ValueError, ImportError) as exc:
        # `from None`: the original error (and a traceback printing it) stays out of logs and terminals.
        raise DatabaseUnavailable(
            f"Không mở được cơ sở dữ liệu / cannot open the database {safe_url(url)}: {redact(str(exc), url)}"
        ) from None
    return engine
