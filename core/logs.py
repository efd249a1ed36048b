"""Log lines: plain text for a person at a terminal, or one JSON object a line for a log collector
(`[logging] format`). Each line carries the ids of what it is about: the web request
(`request_id`), the inbound message being processed (`inbound_id`), bound with `bound(...)` for the
time of the work (a context variable: each thread and each request has its own). No line ever holds
the database password (`core.db.redact`).
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import UTC, datetime

from core.db import redact

__all__ = ["FORMATS", "bound", "configure", "context"]

FORMATS = ("text", "json")
TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"

_CONTEXT: ContextVar[dict[str, str]] = ContextVar("toasoan_log_context", default={})  # noqa: B039 - never mutated


def context() -> dict[str, str]:
    return dict(_CONTEXT.get())


@contextmanager
def bound(**fields: object) -> Iterator[None]:
    """Add `fields` to every log line written inside the block (in this thread or request)."""
    token = _CONTEXT.set({**_CONTEXT.get(), **{k: str(v) for k, v in fields.items()}})
    try:
        yield
    finally:
        _CONTEXT.reset(token)


class TextFormatter(logging.Formatter):
    def __init__(self, database_url: str = "") -> None:
        super().__init__(TEXT_FORMAT)
        self.url = database_url

    def format(self, record: logging.LogRecord) -> str:
        line = super().format(record)
        ctx = _CONTEXT.get()
        if ctx:
            head, _, rest = line.partition("\n")  # the ids on the first line, before a traceback
            line = head + " [" + " ".join(f"{k}={v}" for k, v in ctx.items()) + "]" + ("\n" + rest if rest else "")
        return redact(line, self.url)


class JsonFormatter(logging.Formatter):
    def __init__(self, database_url: str = "") -> None:
        super().__init__()
        self.url = database_url

    def format(self, record: logging.LogRecord) -> str:
        data: dict[str, object] = {
            "ts": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
            **_CONTEXT.get(),
        }
        if record.exc_info:
            data["exception"] = self.formatException(record.exc_info)
        return redact(json.dumps(data, ensure_ascii=False), self.url)


def configure(handler: logging.Handler, fmt: str, database_url: str = "") -> None:
    handler.setFormatter(JsonFormatter(database_url) if fmt == "json" else TextFormatter(database_url))
