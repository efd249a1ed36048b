"""Settings: settings.toml (rules and addresses) + environment variables (secrets).

The schema below is the single list of keys: it validates the file, supplies defaults, and is what
`tests/core/test_settings_docs.py` checks against settings.toml and the README, so that every key is
documented. A wrong or missing key is one `SettingsError` naming it, in Vietnamese and English.
"""

from __future__ import annotations

import os
import tomllib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from core.text import clean_line, fold, nfc


class SettingsError(Exception):
    """A configuration problem, with a message meant for the person running the command."""


@dataclass(frozen=True)
class Key:
    name: str
    kind: type | tuple[type, ...]
    default: Any = None
    required: bool = False
    choices: tuple[str, ...] = ()
    doc: str = ""


# section -> keys. `[[units]]` is an array of tables, described by UNIT_KEYS.
SCHEMA: dict[str, tuple[Key, ...]] = {
    "organization": (
        Key("name", str, required=True, doc="Tên cơ quan chủ quản trang tin (hiện trên thư, văn bản)"),
        Key("timezone", str, "Asia/Ho_Chi_Minh", doc="Múi giờ của tòa soạn (IANA)"),
        Key("office_name", str, "Ban Biên tập", doc="Tên bộ phận ký thư gửi cộng tác viên"),
    ),
    "database": (Key("url", str, "sqlite:///var/toasoan.db", doc="SQLAlchemy URL; SQLite or PostgreSQL"),),
    "storage": (Key("path", str, "var/storage", doc="Folder for the raw mail spool, documents and images"),),
    "mailbox": (
        Key("backend", str, "maildir", choices=("imap", "maildir"), doc="Where contributions arrive"),
        Key("path", str, "var/maildir", doc="Maildir folder (backend = maildir)"),
        Key("host", str, "127.0.0.1", doc="IMAP server"),
        Key("port", int, 993, doc="IMAP port (993 for TLS, 143 for STARTTLS or plain)"),
        Key("security", str, "tls", choices=("tls", "starttls", "none"), doc="IMAP transport security"),
        Key("auth", str, "login", choices=("login", "xoauth2"), doc="IMAP authentication"),
        Key("username", str, "", doc="IMAP user"),
        Key("password_env", str, "TOASOAN_IMAP_PASSWORD", doc="Env var holding the IMAP password/token"),
        Key("ca_file", str, "", doc="Extra CA certificate (PEM) to trust for IMAP TLS"),
        Key("folder", str, "INBOX", doc="Folder watched for contributions"),
        Key("processed_folder", str, "Đã xử lý", doc="Submissions are moved here once stored; '' = leave"),
        Key("subject_marker", str, "BÀI CỘNG TÁC", doc="Subject marker of a contribution"),
        Key("idle", bool, True, doc="Use IMAP IDLE as a wake-up when the server has it"),
        Key("idle_renew_seconds", int, 300, doc="Re-issue IDLE at least this often"),
        Key("poll_seconds", int, 60, doc="Sweep interval without IDLE, and safety sweep with it"),
        Key("full_sweep_seconds", int, 3600, doc="Re-check the whole folder, not only new UIDs"),
        Key("fetch_batch", int, 25, doc="Messages fetched per IMAP FETCH"),
        Key("timeout_seconds", int, 30, doc="Socket timeout for IMAP"),
    ),
    "ingest": (
        Key("max_message_bytes", int, 40 * 2**20, doc="Larger emails are quarantined (too_large)"),
        Key("max_document_bytes", int, 25 * 2**20, doc="Larger Word files are quarantined (too_large)"),
        Key("max_uncompressed_bytes", int, 200 * 2**20, doc="Zip-bomb guard: declared unpacked size"),
        Key("bai_min_syllables", int, 600, doc="Without 'Tin'/'Bài' stated, this many syllables is a bài"),
        Key("body_min_syllables", int, 120, doc="An email body this long without a file is an article"),
        Key("warn_tin_below", int, 60, doc="Warn the editor (too_short) when a tin has fewer syllables"),
        Key("warn_tin_above", int, 1200, doc="Warn (too_long) when a tin has more syllables"),
        Key("warn_bai_below", int, 300, doc="Warn (too_short) when a bài has fewer syllables"),
        Key("warn_bai_above", int, 8000, doc="Warn (too_long) when a bài has more syllables"),
        Key("conversion_timeout_seconds", int, 60, doc="Per document"),
        Key("conversion_memory_mb", int, 1024, doc="Address-space ceiling of a conversion worker"),
        Key("workers", int, 2, doc="Conversion worker processes"),
        Key("soffice", str, "soffice", doc="LibreOffice command for .doc/.odt/.rtf; '' disables"),
        Key("web_image_width", int, 1200, doc="Width of photo web renditions (px)"),
    ),
    "smtp": (
        Key("host", str, "127.0.0.1", doc="SMTP server for outgoing mail"),
        Key("port", int, 587, doc="SMTP port"),
        Key("security", str, "starttls", choices=("starttls", "tls", "none"), doc="SMTP transport security"),
        Key("username", str, "", doc="SMTP user ('' = no AUTH)"),
        Key("password_env", str, "TOASOAN_SMTP_PASSWORD", doc="Env var holding the SMTP password"),
        Key("ca_file", str, "", doc="Extra CA certificate (PEM) to trust for SMTP TLS"),
        Key("sender", str, required=True, doc="From address of the office's emails"),
        Key("sender_name", str, "Ban Biên tập", doc="From display name"),
        Key("timeout_seconds", int, 30, doc="Socket timeout for SMTP"),
    ),
    "outbox": (
        Key("max_attempts", int, 12, doc="Give up (failed) after this many tries"),
        Key("backoff_seconds", int, 30, doc="First retry delay; doubles each try"),
        Key("backoff_max_seconds", int, 3600, doc="Longest retry delay"),
    ),
    "worker": (Key("outbox_seconds", int, 30, doc="How often the worker sends queued mail"),),
}

UNIT_KEYS: tuple[Key, ...] = (
    Key("code", str, required=True, doc="Short unique code of the unit"),
    Key("name", str, required=True, doc="Full Vietnamese name"),
    Key("senders", list, [], doc="Addresses ('a@b.vn') or domains ('@b.vn') that send for the unit"),
)

# Sections that may be left out entirely.
OPTIONAL_SECTIONS = {"smtp", "outbox", "worker", "ingest", "storage", "database"}


@dataclass(frozen=True)
class Unit:
    code: str
    name: str
    senders: tuple[str, ...]


@dataclass(frozen=True)
class Section:
    """Read-only view of one validated section: attribute access to its keys."""

    _values: Mapping[str, Any]

    def __getattr__(self, name: str) -> Any:
        try:
            return self._values[name]
        except KeyError:
            raise AttributeError(name) from None


@dataclass(frozen=True)
class Settings:
    path: Path
    organization: Section
    database: Section
    storage: Section
    mailbox: Section
    ingest: Section
    smtp: Section | None
    outbox: Section
    worker: Section
    units: tuple[Unit, ...] = field(default=())

    # --- derived values -------------------------------------------------------------------------
    @property
    def base_dir(self) -> Path:
        return self.path.parent

    def resolve(self, value: str) -> Path:
        """Relative paths in the settings are relative to the settings file's folder."""
        p = Path(value).expanduser()
        return p if p.is_absolute() else (self.base_dir / p)

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.organization.timezone)

    @property
    def storage_dir(self) -> Path:
        return self.resolve(self.storage.path)

    @property
    def database_url(self) -> str:
        url: str = self.database.url
        prefix = "sqlite:///"
        if url.startswith(prefix) and url != "sqlite:///:memory:" and not url.startswith("sqlite:////"):
            return prefix + str(self.resolve(url[len(prefix) :]))
        return url

    def secret(self, env_name: str) -> str | None:
        return os.environ.get(env_name) if env_name else None

    def unit_for_sender(self, address: str) -> Unit | None:
        """Exact address first, then @domain (longest domain wins)."""
        address = address.strip().lower()
        domain = "@" + address.rsplit("@", 1)[-1] if "@" in address else ""
        best: tuple[int, Unit] | None = None
        for unit in self.units:
            for sender in unit.senders:
                if sender == address:
                    return unit
                if sender.startswith("@") and domain.endswith(sender) and (best is None or len(sender) > best[0]):
                    best = (len(sender), unit)
        return best[1] if best else None

    def unit_by_code(self, code: str | None) -> Unit | None:
        return next((u for u in self.units if u.code == code), None)


def _bad(where: str, vi: str, en: str) -> SettingsError:
    return SettingsError(f"Lỗi cấu hình / settings error — {where}: {vi} / {en}")


def _check_value(where: str, key: Key, value: Any) -> Any:
    kinds = key.kind if isinstance(key.kind, tuple) else (key.kind,)
    # TOML has no distinction we need between int and bool; reject bool where an int is expected.
    ok = isinstance(value, kinds) and not (bool not in kinds and isinstance(value, bool))
    if not ok:
        names = "/".join(k.__name__ for k in kinds)
        raise _bad(where, f"phải là kiểu {names}", f"must be of type {names}, got {value!r}")
    if isinstance(value, str):
        value = nfc(value)
    if key.choices and value not in key.choices:
        choices = ", ".join(key.choices)
        raise _bad(where, f"phải là một trong: {choices}", f"must be one of: {choices} (got {value!r})")
    if isinstance(value, int) and not isinstance(value, bool) and value < 0:
        raise _bad(where, "không được âm", "must not be negative")
    return value


def _section(name: str, raw: Any, keys: tuple[Key, ...]) -> dict[str, Any]:
    if not isinstance(raw, dict):
        raise _bad(f"[{name}]", "phải là một bảng", "must be a table")
    known = {k.name for k in keys}
    for extra in raw:
        if extra not in known:
            raise _bad(f"[{name}] {extra}", "khóa không được hỗ trợ", "unknown key (typo?)")
    values: dict[str, Any] = {}
    for key in keys:
        where = f"[{name}] {key.name}"
        if key.name in raw:
            values[key.name] = _check_value(where, key, raw[key.name])
        elif key.required:
            raise _bad(where, "thiếu khóa bắt buộc", "required key is missing")
        else:
            values[key.name] = key.default
    return values


_VALIDATORS: dict[str, Callable[[dict[str, Any]], None]] = {}


def _validate_mailbox(v: dict[str, Any]) -> None:
    if v["backend"] == "imap" and not v["username"]:
        raise _bad("[mailbox] username", "cần tên đăng nhập khi backend = imap", "required when backend = imap")
    if not clean_line(v["subject_marker"]):
        raise _bad("[mailbox] subject_marker", "không được để trống", "must not be empty")


def _validate_organization(v: dict[str, Any]) -> None:
    try:
        ZoneInfo(v["timezone"])
    except (ZoneInfoNotFoundError, ValueError):
        raise _bad("[organization] timezone", "múi giờ không hợp lệ", f"unknown time zone {v['timezone']!r}") from None


_VALIDATORS["mailbox"] = _validate_mailbox
_VALIDATORS["organization"] = _validate_organization


def _units(raw: Any) -> tuple[Unit, ...]:
    if raw is None:
        return ()
    if not isinstance(raw, list):
        raise _bad("[[units]]", "phải là danh sách [[units]]", "must be an array of tables [[units]]")
    units: list[Unit] = []
    seen: set[str] = set()
    for i, item in enumerate(raw, 1):
        v = _section(f"units #{i}", item, UNIT_KEYS)
        senders = []
        for s in v["senders"]:
            if not isinstance(s, str) or "@" not in s:
                raise _bad(f"[[units]] #{i} senders", "địa chỉ không hợp lệ", f"not an address or @domain: {s!r}")
            senders.append(s.strip().lower())
        code = v["code"].strip()
        if not code or fold(code) in seen:
            raise _bad(f"[[units]] #{i} code", "mã đơn vị trống hoặc trùng", f"empty or duplicate code {code!r}")
        seen.add(fold(code))
        units.append(Unit(code=code, name=clean_line(v["name"]), senders=tuple(senders)))
    return tuple(units)


def load_settings(path: str | os.PathLike[str]) -> Settings:
    p = Path(path)
    try:
        text = p.read_bytes().decode("utf-8")
        data = tomllib.loads(text)
    except FileNotFoundError:
        raise SettingsError(f"Không tìm thấy tệp cấu hình / settings file not found: {p}") from None
    except (UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise SettingsError(f"Tệp cấu hình sai cú pháp / settings file is not valid TOML: {p}: {exc}") from None
    for top in data:
        if top not in SCHEMA and top != "units":
            raise _bad(f"[{top}]", "mục không được hỗ trợ", "unknown section (typo?)")
    sections: dict[str, Any] = {}
    for name, keys in SCHEMA.items():
        if name not in data and name in OPTIONAL_SECTIONS:
            sections[name] = None if name == "smtp" else Section(_section(name, {}, keys))
            continue
        if name not in data:
            raise _bad(f"[{name}]", "thiếu mục bắt buộc", "required section is missing")
        values = _section(name, data[name], keys)
        if name in _VALIDATORS:
            _VALIDATORS[name](values)
        sections[name] = Section(values)
    return Settings(path=p.resolve(), units=_units(data.get("units")), **sections)


def default_config_path() -> Path:
    return Path(os.environ.get("TOASOAN_CONFIG", "settings.toml"))


def markdown_table() -> str:
    """The README's settings table, generated from the schema (`python -m core.settings`)."""
    rows = []
    for section, keys in [*SCHEMA.items(), ("[units]", UNIT_KEYS)]:
        for k in keys:
            default = "*(bắt buộc / required)*" if k.required else "`" + repr(k.default).replace("'", '"') + "`"
            choices = f" ({' / '.join(k.choices)})" if k.choices else ""
            rows.append(f"| `[{section}]` | `{k.name}` | {default} | {k.doc}{choices} |")
    return "\n".join(rows)


if __name__ == "__main__":
    print(markdown_table())
