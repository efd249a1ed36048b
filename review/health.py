"""How the office is running, and the warnings that need a person (`toasoan status`, "Tình trạng").

`collect` reads what each package offers for it (the worker's loops in core.runners, the inbox counts
of ingest, the outbox of core, the publish targets and jobs, the next period jobs) and derives the
warnings from rules in the settings ([worker] mailbox_down_minutes, disk_free_percent). It only reads.

`sync_alerts` (run by the worker every minute) keeps the `health_alert` table equal to the current
warnings and mails the admins ([organization] admin_emails) once when a warning starts and once when
it ends, through the outbox with keys, so a worker restarted mid-way never mails twice. A paused
publish target mails its own start notice at the moment it pauses (publish.jobs), so only its end is
mailed from here.
"""

from __future__ import annotations

import shutil
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from core.db import reading, transaction, utcnow
from core.formats import format_datetime
from core.models import HealthAlert, OutboxStatus
from core.outbox import enqueue as enqueue_mail
from core.outbox import status_counts
from core.runners import RUNNERS, runner_states
from core.settings import Settings
from ingest.queries import inbox_counts
from publish.jobs import failed_jobs_count, paused_targets
from reports.schedule import upcoming

__all__ = ["Health", "HealthWarning", "collect", "sync_alerts"]

# The worker's loops as the page names them.
RUNNER_LABELS = {
    "mailbox": "Hộp thư (nhận bài)",
    "outbox": "Gửi thư",
    "publish": "Đăng bài",
    "period_jobs": "Việc định kỳ (báo cáo)",
}


@dataclass(frozen=True)
class HealthWarning:
    code: str  # stable: mailbox_down, worker_silent, publisher_paused:<target>, disk_low, outbox_failing
    message: str  # Vietnamese, for the page and the email
    since: datetime | None

    def as_json(self) -> dict[str, Any]:
        return {"code": self.code, "message": self.message, "since": _iso(self.since)}


@dataclass(frozen=True)
class Health:
    now: datetime
    runners: dict[str, dict[str, Any]]
    inbox: dict[str, int]
    outbox: dict[str, int]
    publish_failed: int
    paused: list[dict[str, Any]]
    upcoming: list[dict[str, Any]]
    disk: dict[str, Any]
    warnings: list[HealthWarning] = field(default_factory=list)

    @property
    def last_sweep_at(self) -> datetime | None:
        return self.runners.get("mailbox", {}).get("last_ok_at")

    @property
    def quarantined(self) -> int:
        return self.inbox.get("quarantined", 0)

    def as_json(self) -> dict[str, Any]:
        return {
            "now": _iso(self.now),
            "ok": not self.warnings,
            "last_sweep_at": _iso(self.last_sweep_at),
            "runners": {
                name: {k: _iso(v) if isinstance(v, datetime) else v for k, v in r.items()}
                for name, r in self.runners.items()
            },
            "inbox": self.inbox,
            "quarantined": self.quarantined,
            "outbox": self.outbox,
            "publish_failed": self.publish_failed,
            "paused_targets": [{**p, "since": _iso(p["since"])} for p in self.paused],
            "next_jobs": [{**j, "due": _iso(j["due"])} for j in self.upcoming],
            "disk": self.disk,
            "warnings": [w.as_json() for w in self.warnings],
        }


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


def disk_usage(settings: Settings) -> dict[str, Any]:
    path = settings.storage_dir
    # A read: nothing is created for it; before the first message the folder's nearest parent tells.
    existing = next(p for p in (path, *path.parents) if p.exists())
    usage = shutil.disk_usage(existing)
    return {
        "path": str(path),
        "total_bytes": usage.total,
        "free_bytes": usage.free,
        "free_percent": round(100 * usage.free / usage.total, 1) if usage.total else 0.0,
    }


def collect(settings: Settings, session: Session, now: datetime | None = None) -> Health:
    now = now or utcnow()
    states = runner_states(session)
    runners = {
        name: {
            "label": RUNNER_LABELS.get(name, name),
            "last_ok_at": r.last_ok_at,
            "last_error_at": r.last_error_at,
            "last_error": r.last_error,
            "failing_since": r.failing_since,
            # the worker running the loop now (host:pid:id), while its lease lasts
            "owner": r.lease_owner if r.lease_until is not None and r.lease_until > now else None,
        }
        for name in RUNNERS
        if (r := states.get(name)) is not None
    }
    paused = [{"target": t.target, "reason": t.reason, "since": t.since} for t in paused_targets(session).values()]
    health = Health(
        now=now,
        runners=runners,
        inbox=inbox_counts(session),
        outbox=status_counts(session),
        publish_failed=failed_jobs_count(session),
        paused=paused,
        upcoming=upcoming(session, settings, now),
        disk=disk_usage(settings),
    )
    health.warnings.extend(warnings(settings, health))
    return health


def warnings(settings: Settings, h: Health) -> list[HealthWarning]:
    """The warnings that need a person, from the figures (pure)."""
    tz = settings.tz
    limit = timedelta(minutes=settings.worker.mailbox_down_minutes)
    out: list[HealthWarning] = []
    mailbox = h.runners.get("mailbox")
    if mailbox and mailbox["failing_since"] and h.now - mailbox["failing_since"] >= limit:
        minutes = int((h.now - mailbox["failing_since"]).total_seconds() // 60)
        # The worker records "<class>: <message>"; a folder the server refuses is not a network fault.
        folder = (mailbox["last_error"] or "").startswith("FolderError:")
        headline = "Máy chủ thư từ chối thư mục" if folder else "Không kết nối được hộp thư"
        out.append(
            HealthWarning(
                "mailbox_down",
                f"{headline} từ {format_datetime(mailbox['failing_since'], tz)} ({minutes} phút):"
                f" {mailbox['last_error'] or 'không rõ lỗi'}",
                mailbox["failing_since"],
            )
        )
    seen = [t for t in ((mailbox or {}).get("last_ok_at"), (mailbox or {}).get("last_error_at")) if t is not None]
    last_seen = max(seen, default=None)
    if last_seen is None or h.now - last_seen >= limit:
        out.append(
            HealthWarning(
                "worker_silent",
                "Tiến trình nền (toasoan worker) không quét hộp thư "
                + (f"từ {format_datetime(last_seen, tz)}" if last_seen else "lần nào")
                + ": thư mới không được nhận.",
                last_seen,
            )
        )
    for p in h.paused:
        out.append(
            HealthWarning(
                f"publisher_paused:{p['target']}",
                f"Đích đăng “{p['target']}” tạm dừng (tài khoản bị từ chối): {p['reason'] or ''}".rstrip(": "),
                p["since"],
            )
        )
    if h.disk["free_percent"] < settings.worker.disk_free_percent:
        out.append(
            HealthWarning(
                "disk_low",
                f"Ổ đĩa lưu trữ ({h.disk['path']}) chỉ còn {h.disk['free_percent']}% dung lượng trống.",
                None,
            )
        )
    failed_mail = h.outbox.get(OutboxStatus.failed, 0)
    outbox = h.runners.get("outbox")
    sender_down = bool(outbox and outbox["failing_since"] and h.now - outbox["failing_since"] >= limit)
    if failed_mail or sender_down:
        parts = []
        if failed_mail:
            parts.append(f"{failed_mail} thư không gửi được (xem toasoan outbox list)")
        if sender_down and outbox:
            parts.append(f"máy chủ thư lỗi từ {format_datetime(outbox['failing_since'], tz)}: {outbox['last_error']}")
        since = outbox["failing_since"] if sender_down and outbox else None
        out.append(HealthWarning("outbox_failing", "Gửi thư gặp lỗi: " + "; ".join(parts) + ".", since))
    return out


def sync_alerts(settings: Settings, engine: Engine, now: datetime | None = None) -> tuple[list[str], list[str]]:
    """Record the warnings that started and ended since the last call and mail the admins once for
    each: (codes started, codes ended)."""
    now = now or utcnow()
    with reading(engine) as s:
        current = {w.code: w for w in collect(settings, s, now).warnings}
    started: list[str] = []
    ended: list[str] = []
    with transaction(engine) as s:
        known = {a.code: a for a in s.exec(select(HealthAlert)).all()}
        for code, w in current.items():
            if code in known:
                continue
            alert = HealthAlert(code=code, message=w.message, started_at=now)
            s.add(alert)
            started.append(code)
            if not code.startswith("publisher_paused:"):  # publish.jobs mailed it when the target paused
                _mail(s, settings, alert, ended=False, now=now)
        for code, alert in known.items():
            if code not in current:
                _mail(s, settings, alert, ended=True, now=now)
                s.delete(alert)
                ended.append(code)
    return started, ended


def _mail(s: Session, settings: Settings, alert: HealthAlert, *, ended: bool, now: datetime) -> None:
    tz = settings.tz
    org = settings.organization
    if ended:
        subject = f"[toasoan] Đã hết cảnh báo: {alert.message[:80]}"
        body = (
            f"Kính gửi quản trị viên,\n\nCảnh báo sau đã hết lúc {format_datetime(now, tz)}"
            f" (bắt đầu lúc {format_datetime(alert.started_at, tz)}):\n\n{alert.message}\n\n"
            f"Không cần làm gì thêm.\n\n{org.office_name}\n{org.name}\n"
        )
    else:
        subject = f"[toasoan] Cảnh báo: {alert.message[:80]}"
        body = (
            f"Kính gửi quản trị viên,\n\nLúc {format_datetime(alert.started_at, tz)} toasoan ghi nhận:\n\n"
            f"{alert.message}\n\nXem chi tiết: toasoan status, hoặc trang “Tình trạng” của giao diện biên tập."
            f"\nKhi sự cố hết, quý vị sẽ nhận một thư báo.\n\n{org.office_name}\n{org.name}\n"
        )
    phase = "end" if ended else "start"
    for address in org.admin_emails:
        enqueue_mail(
            s,
            settings,
            key=f"health:{alert.code}:{alert.started_at.isoformat()}:{phase}:{address.lower()}",
            kind="health_alert",
            to=address,
            subject=subject,
            body=body,
            auto_submitted="auto-generated",
        )
