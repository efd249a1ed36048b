"""Building a settings file and an opened database for a test (plain module; no pytest here)."""

from __future__ import annotations

import json
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

from sqlalchemy.engine import Engine

from core.drafts import DraftError
from core.settings import Settings, load_settings
from toasoan.database import open_database

UNITS = [
    {"code": "VP", "name": "Chi bộ Văn phòng", "senders": ["@vanphong.tinhuy.example"]},
    {"code": "TC", "name": "Chi bộ Ban Tổ chức", "senders": ["@bantochuc.tinhuy.example", "an.nguyen@gmail.com"]},
    {"code": "CD", "name": "Công đoàn cơ quan", "senders": ["congdoan@vanphong.tinhuy.example"]},
]


# The database a test's settings name when the test names none: SQLite in the test's directory, or, in
# the PostgreSQL pass of `make test` (TOASOAN_TEST_DATABASE=postgresql), a fresh PostgreSQL database per
# directory (a test that rewrites its settings keeps its data, as it does on SQLite). conftest.py sets
# it for the session; a test marked `no_database` may not open one.
_new_postgres_database: Callable[[], str] | None = None
_postgres_databases: dict[Path, str] = {}
_opens_no_database = False

SQLITE_URL = "sqlite:///var/toasoan.db"


def use_database(*, postgres: Callable[[], str] | None) -> None:
    global _new_postgres_database
    _new_postgres_database = postgres


def opens_no_database(flag: bool) -> None:
    global _opens_no_database
    _opens_no_database = flag


def default_database_url(directory: Path) -> str:
    """The URL of the database of the settings written in `directory` (see `use_database`)."""
    if _opens_no_database:
        raise AssertionError("this test is marked no_database but opens a database: remove the mark")
    if _new_postgres_database is None:
        return SQLITE_URL
    key = directory.resolve()
    if key not in _postgres_databases:
        _postgres_databases[key] = _new_postgres_database()
    return _postgres_databases[key]


def the_repository_settings(directory: Path) -> str:
    """The repository's settings.toml (the office `make run` starts), with this run's database for an
    office in `directory` in place of its SQLite file."""
    text = (Path(__file__).resolve().parents[1] / "settings.toml").read_text(encoding="utf-8")
    line = f'url = "{SQLITE_URL}"'
    assert text.count(line) == 1, "settings.toml: the [database] url has moved"
    return text.replace(line, f"url = {json.dumps(default_database_url(directory))}")


def _value(v: Any) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, (int, float)):
        return str(v)
    if isinstance(v, str):
        return json.dumps(v, ensure_ascii=False)
    if isinstance(v, list):
        return "[" + ", ".join(_value(x) for x in v) + "]"
    raise TypeError(v)


def toml(sections: dict[str, dict[str, Any]], units: list[dict[str, Any]]) -> str:
    out = []
    for name, values in sections.items():
        out.append(f"[{name}]")
        out += [f"{k} = {_value(v)}" for k, v in values.items()]
        out.append("")
    for unit in units:
        out.append("[[units]]")
        out += [f"{k} = {_value(v)}" for k, v in unit.items()]
        out.append("")
    return "\n".join(out)


def write_settings(
    directory: Path,
    *,
    mailbox: dict[str, Any] | None = None,
    smtp: dict[str, Any] | None = None,
    ingest: dict[str, Any] | None = None,
    outbox: dict[str, Any] | None = None,
    units: list[dict[str, Any]] | None = None,
    database_url: str | None = None,
    organization: dict[str, Any] | None = None,
    publish: dict[str, Any] | None = None,
) -> Path:
    sections: dict[str, dict[str, Any]] = {
        "organization": {
            "name": "Đảng ủy các cơ quan Đảng tỉnh",
            "office_name": "Ban Biên tập",
            **(organization or {}),
        },
        "database": {"url": database_url or default_database_url(directory)},
        "storage": {"path": "var/storage"},
        "mailbox": {"backend": "maildir", "path": "maildir", **(mailbox or {})},
        "ingest": {"workers": 2, **(ingest or {})},
        "outbox": {"backoff_seconds": 1, "backoff_max_seconds": 2, **(outbox or {})},
    }
    if publish is not None:
        sections["publish"] = publish
    if smtp is not None:
        sections["smtp"] = {"sender": "toasoan@tinhuy.example", "security": "none", **smtp}
    path = directory / "settings.toml"
    path.write_text(toml(sections, UNITS if units is None else units), encoding="utf-8")
    return path


def open_app(path: Path) -> tuple[Settings, Engine]:
    settings = load_settings(path)
    return settings, open_database(settings)


def at_once(**calls: Callable[[], object]) -> dict[str, DraftError | None]:
    """Run the calls in threads released together, as two people clicking at the same moment; for each
    name, None when its call went through or the DraftError it was refused with (anything else fails)."""
    barrier = threading.Barrier(len(calls))
    outcome: dict[str, DraftError | None] = {}
    unexpected: list[BaseException] = []

    def run(name: str, call: Callable[[], object]) -> None:
        barrier.wait()
        try:
            call()
            outcome[name] = None
        except DraftError as exc:
            outcome[name] = exc
        except BaseException as exc:  # re-raised in the test's thread
            unexpected.append(exc)

    threads = [threading.Thread(target=run, args=item) for item in calls.items()]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    if unexpected:
        raise unexpected[0]
    return outcome
