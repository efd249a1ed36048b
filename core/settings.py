"""Settings: settings.toml (rules and addresses) + environment variables (secrets).

The schema below is the single list of keys: it validates the file, supplies defaults, and is what
`tests/core/test_settings_docs.py` checks against settings.toml and the README, so that every key is
documented. A wrong or missing key is one `SettingsError` naming it, in Vietnamese and English.
"""

from __future__ import annotations

import ipaddress
import itertools
import os
import tomllib
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from core.errors import Bilingual
from core.text import clean_line, fold, nfc


class SettingsError(Bilingual):
    """A configuration problem, meant for the person running the command: Vietnamese and English apart."""


@dataclass(frozen=True)
class Key:
    name: str
    kind: type | tuple[type, ...]
    default: Any = None
    required: bool = False
    choices: tuple[str, ...] = ()
    doc: str = ""
    item: type = str  # what a list holds (the base-salary list holds tables)


# section -> keys. `[[units]]` is an array of tables, described by UNIT_KEYS.
SCHEMA: dict[str, tuple[Key, ...]] = {
    "organization": (
        Key("name", str, required=True, doc="Tên cơ quan chủ quản trang tin (hiện trên thư, văn bản)"),
        Key("timezone", str, "Asia/Ho_Chi_Minh", doc="Múi giờ của tòa soạn (IANA)"),
        Key("office_name", str, "Ban Biên tập", doc="Tên bộ phận ký thư gửi cộng tác viên"),
        Key(
            "admin_emails",
            list,
            [],
            doc="Addresses told when something needs an administrator (a publish target's credentials refused)",
        ),
    ),
    "database": (
        Key("url", str, "sqlite:///var/toasoan.db", doc="SQLAlchemy URL; SQLite or PostgreSQL"),
        Key(
            "pg_bin_dir",
            str,
            "",
            doc="Folder of pg_dump and pg_restore for `toasoan backup`/`restore` on PostgreSQL ('' = found on PATH)",
        ),
    ),
    "storage": (Key("path", str, "var/storage", doc="Folder for the raw mail spool, documents and images"),),
    "mailbox": (
        Key("backend", str, "maildir", choices=("imap", "maildir"), doc="Where contributions arrive"),
        Key("path", str, "var/maildir", doc="Maildir folder (backend = maildir)"),
        Key("host", str, "127.0.0.1", doc="IMAP server"),
        Key("port", int, 993, doc="IMAP port (993 for TLS, 143 for STARTTLS or plain)"),
        Key(
            "security",
            str,
            "tls",
            choices=("tls", "starttls", "none"),
            doc="IMAP transport security ('none' only for a loopback host)",
        ),
        Key("auth", str, "login", choices=("login", "xoauth2"), doc="IMAP authentication"),
        Key("username", str, "", doc="IMAP user"),
        Key("password_env", str, "TOASOAN_IMAP_PASSWORD", doc="Env var holding the IMAP password/token"),
        Key("ca_file", str, "", doc="Extra CA certificate (PEM) to trust for IMAP TLS"),
        Key("folder", str, "INBOX", doc="Folder watched for contributions"),
        Key(
            "processed_folder",
            str,
            "Đã xử lý",
            doc="Submissions are moved here once stored; '' = leave. Where the server refuses a top-level"
            " folder (Cyrus: folders under 'INBOX.'), it is made under the personal NAMESPACE prefix",
        ),
        Key("subject_marker", str, "BÀI CỘNG TÁC", doc="Subject marker of a contribution"),
        Key("idle", bool, True, doc="Use IMAP IDLE as a wake-up when the server has it"),
        Key("idle_renew_seconds", int, 300, doc="Re-issue IDLE at least this often"),
        Key("poll_seconds", int, 60, doc="Sweep interval without IDLE, and safety sweep with it"),
        Key("full_sweep_seconds", int, 3600, doc="Re-check the whole folder, not only new UIDs"),
        Key("fetch_batch", int, 25, doc="Messages fetched per IMAP FETCH"),
        Key("timeout_seconds", int, 30, doc="Socket timeout for IMAP"),
        Key(
            "trusted_authserv_ids",
            list,
            [],
            doc="Authentication-Results stamped by these servers (ours) are believed; [] = only the topmost one",
        ),
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
        Key(
            "libreoffice_confinement",
            str,
            "required",
            choices=("required", "preferred"),
            doc="LibreOffice runs in bubblewrap (no network, read-only system); without a working bwrap,"
            " 'required' quarantines the file (converter_missing, retryable), 'preferred' runs it unconfined"
            " with a logged warning",
        ),
        Key("web_image_width", int, 1200, doc="Width of photo web renditions (px)"),
    ),
    "smtp": (
        Key("host", str, "127.0.0.1", doc="SMTP server for outgoing mail"),
        Key("port", int, 587, doc="SMTP port"),
        Key(
            "security",
            str,
            "starttls",
            choices=("starttls", "tls", "none"),
            doc="SMTP transport security ('none' only for a loopback host)",
        ),
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
        Key("max_per_recipient_per_day", int, 20, doc="Automatic emails to one address in 24 h; more are suppressed"),
    ),
    "logging": (
        Key(
            "format",
            str,
            "text",
            choices=("text", "json"),
            doc="Log lines on stderr: text for a terminal, or one JSON object a line for a log collector",
        ),
    ),
    "worker": (
        Key("outbox_seconds", int, 30, doc="How often the worker sends queued mail"),
        Key(
            "mailbox_down_minutes",
            int,
            15,
            doc="Warn the admins (status page, one email) when the mailbox has been unreachable this long",
        ),
        Key("disk_free_percent", int, 10, doc="Warn the admins when the storage disk has less free space (%)"),
    ),
    "review": (
        Key("two_step", bool, False, doc="An editor proposes, the head of the board approves"),
        Key("host", str, "127.0.0.1", doc="Address `toasoan serve` listens on"),
        Key("port", int, 8080, doc="Port `toasoan serve` listens on"),
        Key("public_url", str, "http://127.0.0.1:8080", doc="The review UI's address as editors reach it"),
        Key("secure_cookies", bool, False, doc="Send cookies only over HTTPS (true in production)"),
        Key("session_hours", int, 12, doc="A sign-in expires after this many hours"),
        Key("idle_minutes", int, 120, doc="…or after this many minutes without activity"),
        Key("login_attempts", int, 5, doc="Failed sign-ins allowed per user and address in the window"),
        Key("login_window_minutes", int, 15, doc="Window of the sign-in rate limit"),
        Key(
            "login_attempts_per_address",
            int,
            50,
            doc="Failed sign-ins allowed from one address in the window, any user name (one office behind NAT)",
        ),
        Key("page_size", int, 50, doc="Drafts per page of the queue"),
        Key("workers", int, 2, doc="Server processes of `toasoan serve` (one per CPU core)"),
        Key("threads", int, 3, doc="Requests one server process works on at once (others wait their turn)"),
    ),
    # [publish.<target>] are tables inside [publish] in the file; here they are sections of their own.
    "publish": (
        Key("targets", list, ["static"], doc="Where approved articles go: static, wordpress, manual (several at once)"),
        Key("default_section", str, "tin-hoat-dong", doc="Category slug of an article approved without one"),
        Key("max_attempts", int, 10, doc="Give a publish job up (failed) after this many tries"),
        Key("backoff_seconds", int, 60, doc="First retry delay of a publish job; doubles each try"),
        Key("backoff_max_seconds", int, 3600, doc="Longest retry delay of a publish job"),
        Key("run_seconds", int, 30, doc="How often the worker runs due publish jobs"),
    ),
    "publish.static": (
        Key("path", str, "var/site", doc="Folder the static site is written to"),
        Key("base_url", str, "http://127.0.0.1:8080/site/", doc="The site's public address (links, feed, sitemap)"),
        Key(
            "image_widths",
            list,
            [480, 800],
            item=int,
            doc="Widths (px) of smaller copies of each photo for phones (srcset); only those below the photo's own",
        ),
    ),
    "publish.wordpress": (
        Key("url", str, "", doc="WordPress site address (its REST API is under /wp-json/)"),
        Key("username", str, "", doc="WordPress user the Application Password belongs to"),
        Key("password_env", str, "TOASOAN_WORDPRESS_PASSWORD", doc="Env var holding the Application Password"),
        Key("category_map", dict, {}, doc="Category slug -> WordPress category slug ({} = the same slug)"),
        Key("withdraw_as", str, "draft", choices=("draft", "trash"), doc="What withdrawing does to the post"),
        Key(
            "featured_image",
            str,
            "first_photo",
            choices=("first_photo", "lists_only", "none"),
            doc="The post's featured image: the first photo when it opens the body (it leaves the body: "
            "shown once), the first photo with the body whole, or none",
        ),
        Key("timeout_seconds", int, 30, doc="HTTP timeout per request"),
    ),
    "quota": (
        Key("tin_per_month", int, 1, doc="Tin each unit should have published per royalty month"),
        Key("bai_per_quarter", int, 1, doc="Bài each unit should have published per quarter (three royalty months)"),
        Key(
            "review_days",
            int,
            3,
            doc="Typical days from receipt to publication: a unit short of its quota with fewer days left is at risk",
        ),
    ),
    "calendar": (
        Key(
            "tally_day",
            int,
            28,
            doc="A royalty month closes on this day at 00:00 (office time); 29-31 = a short month's last day",
        ),
        Key("payment_day", int, 5, doc="Royalties of a period are paid on this day of the next month"),
        Key(
            "count_by",
            str,
            "published",
            choices=("published", "approved"),
            doc="Which date puts an item in a period",
        ),
        Key(
            "reminder_days_before",
            int,
            5,
            doc="Units short of their quota are reminded this many days before the tally day",
        ),
    ),
    # [royalty.genres.<code>] are tables inside [royalty]; GENRE_KEYS describes them.
    "royalty": (
        Key("unit_value_percent", (int, float), 10, doc="One coefficient unit = this percent of the base salary"),
        Key("rounding", str, "1", doc='Amounts are rounded to a multiple of this many đồng ("1", "100", "1000")'),
        Key(
            "rounding_mode",
            str,
            "half_up",
            choices=("half_up", "half_even", "down", "up"),
            doc="How amounts are rounded to `rounding`",
        ),
        Key(
            "base_salary",
            list,
            [{"from": "2024-07-01", "amount": 2340000}, {"from": "2026-07-01", "amount": 2530000}],
            doc="Mức lương cơ sở by effective date; the row in force on the counting date applies",
            item=dict,
        ),
        Key("pit_enabled", bool, False, doc="Withhold personal income tax (thuế TNCN) from royalty payments"),
        Key("pit_rate", (int, float), 10, doc="Withholding rate, percent of the whole payment"),
        Key(
            "pit_threshold",
            int,
            2000000,
            doc="Withhold when one person's payment in a period reaches this many đồng (TT 111/2013)",
        ),
    ),
    "report": (
        Key("letterhead_upper", str, "", doc="Left header, first line: the committee above the issuer (in capitals)"),
        Key("letterhead_lower", str, "", doc="Left header, second line (bold): the issuing office (in capitals)"),
        Key("place", str, "", doc="Place in the date line ('Vĩnh Long, ngày 28 tháng 12 năm 2026')"),
        Key("report_symbol", str, "BC/BBT", doc="Number symbol of the monthly report ('Số   -BC/BBT')"),
        Key("request_symbol", str, "TTr/BBT", doc="Number symbol of the payment request"),
        Key("signer_authority", str, "", doc="Authority line above the signer's title ('T/M BAN BIÊN TẬP'; '' = none)"),
        Key("signer_title", str, "", doc="Signer's title (in capitals: 'TRƯỞNG BAN')"),
        Key("signer_name", str, "", doc="Signer's full name"),
        Key("report_to", str, "Ban Thường vụ Đảng ủy", doc="'Kính gửi:' of the monthly report"),
        Key("request_to", str, "Thường trực Đảng ủy", doc="'Kính gửi:' of the payment request (tờ trình đề nghị chi)"),
        Key("recipients", list, [], doc="'Nơi nhận:' lines of the documents (the archive line last)"),
        Key(
            "email_to",
            list,
            [],
            doc="Standing Committee addresses the monthly summary is emailed to on the tally day ([] = none)",
        ),
    ),
}

# [royalty.genres.<code>]: the coefficient the head of the board may set when approving, per kind.
# Defaults: the national frame of Nghị định 18/2014 (tin and ảnh up to 10, articles up to 30).
# "tin" and "bai" are the kinds of drafts (paid per item); "anh" is paid per published photo.
GENRE_KEYS: tuple[Key, ...] = (
    Key("coefficient", (int, float), required=True, doc="Default royalty coefficient of the kind"),
    Key("min", (int, float), 0, doc="Lowest coefficient the head may set"),
    Key("max", (int, float), required=True, doc="Highest coefficient the head may set"),
    Key("label", str, "", doc="Vietnamese name of the kind"),
)
DEFAULT_GENRES: dict[str, dict[str, Any]] = {
    "tin": {"coefficient": 1, "min": 0, "max": 10, "label": "Tin"},
    "bai": {"coefficient": 3, "min": 0, "max": 30, "label": "Bài"},
    "anh": {"coefficient": 1, "min": 0, "max": 10, "label": "Ảnh"},
}
# Genres paid per photo rather than per item: they are not kinds of drafts.
PHOTO_GENRES = frozenset({"anh"})
CATEGORY_KEYS: tuple[Key, ...] = (
    Key("slug", str, required=True, doc="Short ASCII name of the category (used in links)"),
    Key("name", str, required=True, doc="Vietnamese name shown to editors and readers"),
)

UNIT_KEYS: tuple[Key, ...] = (
    Key("code", str, required=True, doc="Short unique code of the unit"),
    Key("name", str, required=True, doc="Full Vietnamese name"),
    Key("senders", list, [], doc="Addresses ('a@b.vn') or domains ('@b.vn') that send for the unit"),
    Key(
        "mail_to",
        list,
        [],
        doc="Where the office's circulars go (reminders, content orientation); [] = the full addresses in senders",
    ),
)

# Sections that may be left out entirely.
OPTIONAL_SECTIONS = {
    "smtp",
    "outbox",
    "worker",
    "logging",
    "ingest",
    "storage",
    "database",
    "review",
    "publish",
    "publish.static",
    "publish.wordpress",
    "quota",
    "calendar",
    "royalty",
    "report",
}
# Sections written as tables inside another one in the file ([publish.static] is data["publish"]["static"]).
NESTED_SECTIONS = ("publish.static", "publish.wordpress")


@dataclass(frozen=True)
class Unit:
    code: str
    name: str
    senders: tuple[str, ...]
    mail_to: tuple[str, ...] = ()

    @property
    def addresses(self) -> tuple[str, ...]:
        """Where the office writes to the unit: `mail_to`, else its senders that are whole addresses
        (a "@domain" sender names no mailbox)."""
        return self.mail_to or tuple(s for s in self.senders if not s.startswith("@"))


@dataclass(frozen=True)
class Genre:
    kind: str
    label: str
    coefficient: Decimal
    min: Decimal
    max: Decimal

    @property
    def per_photo(self) -> bool:
        """Paid per published photo (count x coefficient), not per item."""
        return self.kind in PHOTO_GENRES


@dataclass(frozen=True)
class SalaryRow:
    """Mức lương cơ sở in force from `start` (inclusive) until the next row's start."""

    start: date
    amount: Decimal


@dataclass(frozen=True)
class Category:
    slug: str
    name: str


# One typed class a section: its fields are the section's keys in SCHEMA, by the same names, with the
# types the values have once checked (a percentage becomes a Decimal, [royalty] base_salary its rows).
# `load_settings` builds them from the checked values, and SECTION_CLASSES is checked against SCHEMA
# (tests/core/test_settings.py), so the schema stays the one list of keys and the README stays true.
@dataclass(frozen=True)
class OrganizationSettings:
    name: str
    timezone: str
    office_name: str
    admin_emails: list[str]


@dataclass(frozen=True)
class DatabaseSettings:
    url: str
    pg_bin_dir: str


@dataclass(frozen=True)
class StorageSettings:
    path: str


@dataclass(frozen=True)
class MailboxSettings:
    backend: Literal["imap", "maildir"]
    path: str
    host: str
    port: int
    security: Literal["tls", "starttls", "none"]
    auth: Literal["login", "xoauth2"]
    username: str
    password_env: str
    ca_file: str
    folder: str
    processed_folder: str
    subject_marker: str
    idle: bool
    idle_renew_seconds: int
    poll_seconds: int
    full_sweep_seconds: int
    fetch_batch: int
    timeout_seconds: int
    trusted_authserv_ids: list[str]


@dataclass(frozen=True)
class IngestSettings:
    max_message_bytes: int
    max_document_bytes: int
    max_uncompressed_bytes: int
    bai_min_syllables: int
    body_min_syllables: int
    warn_tin_below: int
    warn_tin_above: int
    warn_bai_below: int
    warn_bai_above: int
    conversion_timeout_seconds: int
    conversion_memory_mb: int
    workers: int
    soffice: str
    libreoffice_confinement: Literal["required", "preferred"]
    web_image_width: int


@dataclass(frozen=True)
class SmtpSettings:
    host: str
    port: int
    security: Literal["starttls", "tls", "none"]
    username: str
    password_env: str
    ca_file: str
    sender: str
    sender_name: str
    timeout_seconds: int


@dataclass(frozen=True)
class OutboxSettings:
    max_attempts: int
    backoff_seconds: int
    backoff_max_seconds: int
    max_per_recipient_per_day: int


@dataclass(frozen=True)
class LoggingSettings:
    format: Literal["text", "json"]


@dataclass(frozen=True)
class WorkerSettings:
    outbox_seconds: int
    mailbox_down_minutes: int
    disk_free_percent: int


@dataclass(frozen=True)
class ReviewSettings:
    two_step: bool
    host: str
    port: int
    public_url: str
    secure_cookies: bool
    session_hours: int
    idle_minutes: int
    login_attempts: int
    login_window_minutes: int
    login_attempts_per_address: int
    page_size: int
    workers: int
    threads: int


@dataclass(frozen=True)
class PublishSettings:
    targets: list[str]
    default_section: str
    max_attempts: int
    backoff_seconds: int
    backoff_max_seconds: int
    run_seconds: int


@dataclass(frozen=True)
class StaticSiteSettings:
    path: str
    base_url: str
    image_widths: list[int]


@dataclass(frozen=True)
class WordPressSettings:
    url: str
    username: str
    password_env: str
    category_map: dict[str, str]
    withdraw_as: Literal["draft", "trash"]
    featured_image: Literal["first_photo", "lists_only", "none"]
    timeout_seconds: int


@dataclass(frozen=True)
class QuotaSettings:
    tin_per_month: int
    bai_per_quarter: int
    review_days: int


@dataclass(frozen=True)
class CalendarSettings:
    tally_day: int
    payment_day: int
    count_by: Literal["published", "approved"]
    reminder_days_before: int


@dataclass(frozen=True)
class RoyaltySettings:
    unit_value_percent: Decimal
    rounding: str
    rounding_mode: Literal["half_up", "half_even", "down", "up"]
    base_salary: tuple[SalaryRow, ...]
    pit_enabled: bool
    pit_rate: Decimal
    pit_threshold: int


@dataclass(frozen=True)
class ReportSettings:
    letterhead_upper: str
    letterhead_lower: str
    place: str
    report_symbol: str
    request_symbol: str
    signer_authority: str
    signer_title: str
    signer_name: str
    report_to: str
    request_to: str
    recipients: list[str]
    email_to: list[str]


# SCHEMA section -> the class its checked values become.
SECTION_CLASSES: dict[str, type] = {
    "organization": OrganizationSettings,
    "database": DatabaseSettings,
    "storage": StorageSettings,
    "mailbox": MailboxSettings,
    "ingest": IngestSettings,
    "smtp": SmtpSettings,
    "outbox": OutboxSettings,
    "logging": LoggingSettings,
    "worker": WorkerSettings,
    "review": ReviewSettings,
    "publish": PublishSettings,
    "publish.static": StaticSiteSettings,
    "publish.wordpress": WordPressSettings,
    "quota": QuotaSettings,
    "calendar": CalendarSettings,
    "royalty": RoyaltySettings,
    "report": ReportSettings,
}


@dataclass(frozen=True)
class Settings:
    path: Path
    organization: OrganizationSettings
    database: DatabaseSettings
    storage: StorageSettings
    mailbox: MailboxSettings
    ingest: IngestSettings
    smtp: SmtpSettings | None
    outbox: OutboxSettings
    logging: LoggingSettings
    worker: WorkerSettings
    review: ReviewSettings
    publish: PublishSettings
    publish_static: StaticSiteSettings
    publish_wordpress: WordPressSettings
    quota: QuotaSettings
    calendar: CalendarSettings
    royalty: RoyaltySettings
    report: ReportSettings
    units: tuple[Unit, ...] = field(default=())
    # The kinds of drafts (tin, bai) with their coefficient ranges: what review offers and checks.
    genres: dict[str, Genre] = field(default_factory=dict)
    # Every royalty genre, the per-photo ones (anh) included: what the reports pay.
    royalty_genres: dict[str, Genre] = field(default_factory=dict)
    categories: tuple[Category, ...] = field(default=())

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
        url = self.database.url
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

    def category_by_slug(self, slug: str | None) -> Category | None:
        return next((c for c in self.categories if c.slug == slug), None)


def _bad(where: str, vi: str, en: str) -> SettingsError:
    return SettingsError(f"Lỗi cấu hình — {where}: {vi}", f"settings error — {where}: {en}")


def _check_value(where: str, key: Key, value: Any) -> Any:
    kinds = key.kind if isinstance(key.kind, tuple) else (key.kind,)
    # TOML has no distinction we need between int and bool; reject bool where an int is expected.
    ok = isinstance(value, kinds) and not (bool not in kinds and isinstance(value, bool))
    if not ok:
        names = "/".join(k.__name__ for k in kinds)
        raise _bad(where, f"phải là kiểu {names}", f"must be of type {names}, got {value!r}")
    if isinstance(value, str):
        value = nfc(value)
    if isinstance(value, list) and not all(
        isinstance(item, key.item) and not (key.item is int and isinstance(item, bool)) for item in value
    ):
        if key.item is dict:
            raise _bad(where, "phải là danh sách bảng", f"must be a list of tables, got {value!r}")
        if key.item is int:
            raise _bad(where, "phải là danh sách số nguyên", f"must be a list of whole numbers, got {value!r}")
        raise _bad(where, "phải là danh sách chuỗi", f"must be a list of strings, got {value!r}")
    if isinstance(value, list) and key.item is str:
        value = [nfc(item) for item in value]
    if isinstance(value, dict) and key.item is str:
        if not all(isinstance(k, str) and isinstance(v, str) for k, v in value.items()):
            raise _bad(where, "phải là bảng chuỗi = chuỗi", f"must map strings to strings, got {value!r}")
        value = {nfc(k): nfc(v) for k, v in value.items()}
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
    if v["backend"] == "imap":
        _plain_text_only_on_loopback("mailbox", v)


def is_loopback(host: str) -> bool:
    """127.0.0.0/8, ::1 or "localhost": a host whose traffic never leaves this machine."""
    name = host.strip().strip("[]").lower()
    if name == "localhost":
        return True
    try:
        return ipaddress.ip_address(name).is_loopback
    except ValueError:
        return False


def _plain_text_only_on_loopback(section: str, v: dict[str, Any]) -> None:
    """Passwords and contributions cross the network in clear text without TLS: only to this machine."""
    if v["security"] == "none" and not is_loopback(v["host"]):
        raise _bad(
            f"[{section}] security",
            f"'none' (không mã hóa) chỉ dùng cho máy chủ trên chính máy này (127.0.0.1, ::1, localhost);"
            f" với {v['host']} hãy đặt 'tls' hoặc 'starttls'",
            f"'none' (no encryption) is only allowed for a loopback host (127.0.0.1, ::1, localhost);"
            f" use 'tls' or 'starttls' for {v['host']!r}",
        )


def _validate_smtp(v: dict[str, Any]) -> None:
    _plain_text_only_on_loopback("smtp", v)


def check_serving(settings: Settings) -> None:
    """What `toasoan serve` needs beyond valid keys: behind HTTPS the session cookie must be Secure,
    or a single plain-HTTP request (a typed address, a downgrade) would carry it in clear text."""
    r = settings.review
    if r.public_url.strip().lower().startswith("https://") and not r.secure_cookies:
        raise _bad(
            "[review] secure_cookies",
            "public_url dùng https nên phải đặt secure_cookies = true",
            "must be true when [review] public_url is https (the server refuses to start)",
        )


def _validate_organization(v: dict[str, Any]) -> None:
    try:
        ZoneInfo(v["timezone"])
    except (ZoneInfoNotFoundError, ValueError):
        raise _bad("[organization] timezone", "múi giờ không hợp lệ", f"unknown time zone {v['timezone']!r}") from None
    if not all("@" in a for a in v["admin_emails"]):
        raise _bad(
            "[organization] admin_emails", "phải là địa chỉ thư", f"must be email addresses, got {v['admin_emails']!r}"
        )


def _validate_report(v: dict[str, Any]) -> None:
    if not all("@" in a.strip()[1:] and not any(c.isspace() for c in a.strip()) for a in v["email_to"]):
        raise _bad("[report] email_to", "phải là địa chỉ thư", f"must be email addresses, got {v['email_to']!r}")


PUBLISH_TARGETS = ("static", "wordpress", "manual")


def _validate_publish(v: dict[str, Any]) -> None:
    unknown = [t for t in v["targets"] if t not in PUBLISH_TARGETS]
    if unknown or len(set(v["targets"])) != len(v["targets"]):
        raise _bad(
            "[publish] targets",
            f"chỉ gồm các đích {', '.join(PUBLISH_TARGETS)}, không lặp",
            f"only {', '.join(PUBLISH_TARGETS)}, each once (got {v['targets']!r})",
        )


def _validate_publish_static(v: dict[str, Any]) -> None:
    widths = v["image_widths"]
    if not all(16 <= w <= 10_000 for w in widths):
        raise _bad(
            "[publish.static] image_widths",
            "mỗi chiều rộng từ 16 đến 10000 px",
            f"each width must be 16..10000 px, got {widths!r}",
        )
    v["image_widths"] = sorted(set(widths))


def _validate_across(settings: Settings) -> None:
    """Rules that tie sections together."""
    slugs = {c.slug for c in settings.categories}
    if slugs and settings.publish.default_section not in slugs:
        raise _bad(
            "[publish] default_section",
            "phải là slug của một chuyên mục trong [[categories]]",
            f"must be the slug of one of the [[categories]] (got {settings.publish.default_section!r})",
        )
    wp = settings.publish_wordpress
    if "wordpress" in settings.publish.targets and not (wp.url and wp.username):
        raise _bad("[publish.wordpress]", "cần url và username", "url and username are required for this target")


def _decimal(where: str, value: Any) -> Decimal:
    """A TOML number as an exact Decimal (a float goes through its shortest repr: 0.1 stays 0.1)."""
    try:
        result = Decimal(str(value))
    except InvalidOperation:
        raise _bad(where, "không phải số", f"not a number: {value!r}") from None
    if not result.is_finite():
        raise _bad(where, "không phải số hữu hạn", f"not a finite number: {value!r}")
    return result


def _validate_calendar(v: dict[str, Any]) -> None:
    for name in ("tally_day", "payment_day"):
        if not 1 <= v[name] <= 31:
            raise _bad(f"[calendar] {name}", "phải từ 1 đến 31", f"must be 1..31, got {v[name]}")
    if v["reminder_days_before"] > 27:
        raise _bad("[calendar] reminder_days_before", "tối đa 27 ngày", "at most 27 days")


def _salary_rows(raw: list[dict[str, Any]]) -> tuple[SalaryRow, ...]:
    rows: list[SalaryRow] = []
    for i, item in enumerate(raw, 1):
        where = f"[royalty] base_salary #{i}"
        if set(item) != {"from", "amount"}:
            raise _bad(where, "cần đúng hai khóa from và amount", f"needs exactly the keys from and amount, got {item}")
        start = item["from"]
        if isinstance(start, str):
            try:
                start = date.fromisoformat(start)
            except ValueError:
                raise _bad(
                    where, "from phải là ngày YYYY-MM-DD", f"from must be a date YYYY-MM-DD: {start!r}"
                ) from None
        if not isinstance(start, date) or hasattr(start, "hour"):
            raise _bad(where, "from phải là ngày YYYY-MM-DD", f"from must be a date YYYY-MM-DD: {start!r}")
        amount = item["amount"]
        if not isinstance(amount, int) or isinstance(amount, bool) or amount <= 0:
            raise _bad(
                where, "amount phải là số đồng nguyên dương", f"amount must be a positive whole number: {amount!r}"
            )
        rows.append(SalaryRow(start=start, amount=Decimal(amount)))
    if not rows:
        raise _bad("[royalty] base_salary", "cần ít nhất một mức", "needs at least one row")
    if any(a.start >= b.start for a, b in itertools.pairwise(rows)):
        raise _bad(
            "[royalty] base_salary", "ngày from phải tăng dần, không trùng", "rows must be in increasing date order"
        )
    return tuple(rows)


def _validate_royalty(v: dict[str, Any]) -> None:
    v["unit_value_percent"] = percent = _decimal("[royalty] unit_value_percent", v["unit_value_percent"])
    if not 0 < percent <= 100:
        raise _bad("[royalty] unit_value_percent", "phải trong (0, 100]", f"must be in (0, 100], got {percent}")
    step = v["rounding"].strip()
    if not step.isascii() or not step.isdigit() or int(step) == 0:
        raise _bad(
            "[royalty] rounding",
            'phải là số đồng nguyên dương ("1", "1000")',
            f"must be a whole positive number of đồng as text, got {step!r}",
        )
    v["rounding"] = str(int(step))
    v["pit_rate"] = rate = _decimal("[royalty] pit_rate", v["pit_rate"])
    if not 0 <= rate <= 100:
        raise _bad("[royalty] pit_rate", "phải từ 0 đến 100", f"must be 0..100, got {rate}")
    v["base_salary"] = _salary_rows(v["base_salary"])


_VALIDATORS["mailbox"] = _validate_mailbox
_VALIDATORS["calendar"] = _validate_calendar
_VALIDATORS["royalty"] = _validate_royalty
_VALIDATORS["publish"] = _validate_publish
_VALIDATORS["publish.static"] = _validate_publish_static
_VALIDATORS["organization"] = _validate_organization
_VALIDATORS["smtp"] = _validate_smtp
_VALIDATORS["report"] = _validate_report


def _tables(name: str, raw: Any, keys: tuple[Key, ...]) -> list[dict[str, Any]]:
    """An array of tables ([[units]], [[categories]]): each one checked against its keys, numbered from 1."""
    if raw is None:
        return []
    if not isinstance(raw, list):
        raise _bad(f"[[{name}]]", f"phải là danh sách [[{name}]]", f"must be an array of tables [[{name}]]")
    return [_section(f"{name} #{i}", item, keys) for i, item in enumerate(raw, 1)]


def _units(raw: Any) -> tuple[Unit, ...]:
    units: list[Unit] = []
    seen: set[str] = set()
    for i, v in enumerate(_tables("units", raw, UNIT_KEYS), 1):
        senders = []
        for s in v["senders"]:
            if not isinstance(s, str) or "@" not in s:
                raise _bad(f"[[units]] #{i} senders", "địa chỉ không hợp lệ", f"not an address or @domain: {s!r}")
            senders.append(s.strip().lower())
        code = v["code"].strip()
        if not code or fold(code) in seen:
            raise _bad(f"[[units]] #{i} code", "mã đơn vị trống hoặc trùng", f"empty or duplicate code {code!r}")
        seen.add(fold(code))
        mail_to = []
        for a in v["mail_to"]:
            if not isinstance(a, str) or "@" not in a.strip()[1:] or any(c.isspace() for c in a.strip()):
                raise _bad(f"[[units]] #{i} mail_to", "địa chỉ thư không hợp lệ", f"not an email address: {a!r}")
            mail_to.append(a.strip())
        units.append(
            Unit(code=code, name=clean_line(v["name"]), senders=tuple(senders), mail_to=tuple(dict.fromkeys(mail_to)))
        )
    return tuple(units)


def load_settings(path: str | os.PathLike[str]) -> Settings:
    p = Path(path)
    try:
        text = p.read_bytes().decode("utf-8")
        data = tomllib.loads(text)
    except FileNotFoundError:
        raise SettingsError(f"Không tìm thấy tệp cấu hình: {p}", f"settings file not found: {p}") from None
    except (UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise SettingsError(
            f"Tệp cấu hình sai cú pháp: {p}: {exc}", f"settings file is not valid TOML: {p}: {exc}"
        ) from None
    # [royalty.genres.<code>] tables are read by _genres; the rest of [royalty] is a plain section.
    genres_raw: Any = {}
    if isinstance(data.get("royalty"), dict):
        genres_raw = data["royalty"].pop("genres", {})
    for nested in NESTED_SECTIONS:
        parent, child = nested.split(".")
        if isinstance(data.get(parent), dict) and child in data[parent]:
            data[nested] = data[parent].pop(child)
    for top in data:
        if top not in SCHEMA and top not in ("units", "royalty", "categories"):
            raise _bad(f"[{top}]", "mục không được hỗ trợ", "unknown section (typo?)")
    sections: dict[str, Any] = {}
    for name, keys in SCHEMA.items():
        if name not in data and name in OPTIONAL_SECTIONS:
            if name == "smtp":
                sections[name] = None
                continue
            data[name] = {}
        if name not in data:
            raise _bad(f"[{name}]", "thiếu mục bắt buộc", "required section is missing")
        values = _section(name, data[name], keys)
        if name in _VALIDATORS:
            _VALIDATORS[name](values)
        sections[name.replace(".", "_")] = SECTION_CLASSES[name](**values)
    royalty_genres = _genres(genres_raw)
    settings = Settings(
        path=p.resolve(),
        units=_units(data.get("units")),
        genres={k: g for k, g in royalty_genres.items() if not g.per_photo},
        royalty_genres=royalty_genres,
        categories=_categories(data.get("categories")),
        **sections,
    )
    _validate_across(settings)
    return settings


def _genres(raw: Any) -> dict[str, Genre]:
    if not isinstance(raw, dict):
        raise _bad("[royalty.genres]", "phải là một bảng", "must be a table")
    genres: dict[str, Genre] = {}
    for kind in {**DEFAULT_GENRES, **raw}:
        where = f"[royalty.genres.{kind}]"
        if kind not in DEFAULT_GENRES:
            known = ", ".join(DEFAULT_GENRES)
            raise _bad(where, f"thể loại không hợp lệ ({known})", f"unknown genre ({known})")
        table = raw.get(kind, {})
        if not isinstance(table, dict):
            raise _bad(where, "phải là một bảng", "must be a table")
        v = _section(f"royalty.genres.{kind}", {**DEFAULT_GENRES[kind], **table}, GENRE_KEYS)
        coefficient, low, high = (Decimal(str(v[k])) for k in ("coefficient", "min", "max"))
        if not (0 <= low <= coefficient <= high):
            raise _bad(where, "cần 0 ≤ min ≤ coefficient ≤ max", f"needs 0 <= min <= coefficient <= max, got {v}")
        label = clean_line(v["label"]) or DEFAULT_GENRES[kind]["label"]
        genres[kind] = Genre(kind=kind, label=str(label), coefficient=coefficient, min=low, max=high)
    return genres


def _categories(raw: Any) -> tuple[Category, ...]:
    seen: set[str] = set()
    out: list[Category] = []
    for i, v in enumerate(_tables("categories", raw, CATEGORY_KEYS), 1):
        slug = v["slug"].strip()
        if not slug or not slug.isascii() or slug in seen:
            raise _bad(
                f"[[categories]] #{i} slug", "trống, có dấu hoặc trùng", f"empty, non-ASCII or duplicate {slug!r}"
            )
        seen.add(slug)
        out.append(Category(slug=slug, name=clean_line(v["name"])))
    return tuple(out)


def default_config_path() -> Path:
    return Path(os.environ.get("TOASOAN_CONFIG", "settings.toml"))


def markdown_table() -> str:
    """The README's settings table, generated from the schema (`python -m core.settings`)."""
    rows = []
    extra = [("[units]", UNIT_KEYS), ("royalty.genres.<code>", GENRE_KEYS), ("[categories]", CATEGORY_KEYS)]
    for section, keys in [*SCHEMA.items(), *extra]:
        for k in keys:
            default = "*(bắt buộc / required)*" if k.required else "`" + repr(k.default).replace("'", '"') + "`"
            choices = f" ({' / '.join(k.choices)})" if k.choices else ""
            rows.append(f"| `[{section}]` | `{k.name}` | {default} | {k.doc}{choices} |")
    return "\n".join(rows)


if __name__ == "__main__":
    print(markdown_table())
