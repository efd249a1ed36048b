"""The office calendar's period jobs: plain functions keyed by (job, period), run once each.

A `PeriodJob` says when it is due for a period and what it does. `run_due(settings, engine, now)`
enqueues every job whose due time has passed, as a core.jobs row keyed `report:<job>:<period>` (one
row per job and period, however many workers or runs), then claims and runs the due rows; a failure
is retried with backoff by core.jobs. Mail goes through the outbox with keys (hence Message-IDs)
derived from the job's key, so a retry after a crash never sends twice either. The `schedule`
package only ticks `run_due` in the worker (toasoan.worker); all state is in the job table.

The jobs, in the order they run when due at the same instant:
- `reminder`: `[calendar] reminder_days_before` days before the tally day, 00:00, to every unit whose
  tin (month) or bài (quarter) quota is not met yet, one mail per unit address; none once the
  period has closed (a worker down until after the tally day does not nag about a closed month).
- `orientation`: at the start of the period, the board's content orientation to every unit. Not
  entered yet: the job waits (re-checks every few minutes) and sends it when it is saved, until
  the period ends (reports.orientation).
- `close`: on the tally day 00:00, the period that just ended is frozen (reports.ledger).
- `summary`: on the tally day 00:00, the period that just ended: quota table, chart and royalties
  to `[report] email_to`, with the payment list (XLSX) and the monthly report (DOCX) attached.
  It requires `close` (reports.ledger.close_period, on the same tally day), so it reports the frozen
  lines.

Catch-up: each run looks at the periods from the latest one any period job was recorded for up to
the current one, so a worker down across the 28th sends that summary once when it starts again. On
a fresh install (no period job recorded yet) it starts at the period containing the first run:
periods before the install are never mailed.
"""

from __future__ import annotations

import io
import logging
import os
import socket
import tempfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, time, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from core import jobs
from core.db import lock_name, reading, transaction
from core.formats import format_datetime
from core.jobs import Backoff
from core.models import Job, JobStatus
from core.money import amount_in_words
from core.outbox import Part
from core.outbox import enqueue as enqueue_mail
from core.settings import Settings
from core.templating import render
from reports.orientation import orientation_of
from reports.periods import Calendar, Period, bounds, days_left, period_of, reminder_date, tally_date
from reports.quotas import STATUS_LABELS
from reports.service import Month, load_month

log = logging.getLogger(__name__)

KIND_PREFIX = "report:"
# A failed period job (the database or a document writer broke) is retried: 1 min, 2, 4, ... 1 h, 12 tries.
POLICY = Backoff(base_seconds=60, max_seconds=3600, max_attempts=12)
# A job waiting for something (an orientation not entered yet, a job it requires) looks again this often.
WAIT = timedelta(minutes=5)

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"


@dataclass(frozen=True)
class Context:
    settings: Settings
    engine: Engine
    now: datetime

    @property
    def cal(self) -> Calendar:
        return Calendar.from_settings(self.settings)


class Wait(Exception):
    """Raised by a job's run: not yet. The job is given back untried, due again at `until`."""

    def __init__(self, note: str, until: datetime) -> None:
        super().__init__(note)
        self.note = note
        self.until = until


@dataclass(frozen=True)
class PeriodJob:
    """One job of the office calendar: `due(period, settings)` is an aware datetime; `run(ctx, period)`
    does the work (idempotently: mail through the outbox with keys) and returns a note for the record.
    `requires`: jobs of the same period that must have succeeded first."""

    name: str
    due: Callable[[Period, Settings], datetime]
    run: Callable[[Context, Period], str]
    requires: tuple[str, ...] = ()

    @property
    def kind(self) -> str:
        return f"{KIND_PREFIX}{self.name}"

    def key(self, period: Period) -> str:
        return f"{KIND_PREFIX}{self.name}:{period}"


def _midnight(day: Any, settings: Settings) -> datetime:
    return datetime.combine(day, time(0, 0), tzinfo=settings.tz)


def _mail_key(job: str, period: Period, *parts: str) -> str:
    return ":".join([f"{KIND_PREFIX}{job}", str(period), *(p.lower() for p in parts)])


# ---------------------------------------------------------------------------------- closing
def close_due(period: Period, settings: Settings) -> datetime:
    return bounds(period, settings).end  # the tally day, 00:00 office time


def run_close(ctx: Context, period: Period) -> str:
    """Freezes the period (reports.ledger): the summary and the documents then show the stored lines.
    A period an admin reopened is not closed again by the calendar; only a person closes it again."""
    from reports.ledger import close_period

    with transaction(ctx.engine) as s:
        closed = close_period(s, ctx.settings, period, ctx.now, "system")
    return f"đã chốt kỳ {period}" if closed else f"kỳ {period} đã chốt từ trước"


# ---------------------------------------------------------------------------------- the summary
def summary_due(period: Period, settings: Settings) -> datetime:
    return bounds(period, settings).end  # the tally day, 00:00 office time


def summary_subject(settings: Settings, period: Period) -> str:
    return f"Báo cáo tháng {period.month:02d}/{period.year} — {settings.organization.office_name}"


@dataclass(frozen=True)
class SummaryMail:
    subject: str
    text: str
    html: str
    chart: Part
    attachments: tuple[Part, ...] = field(default_factory=tuple)


def chart_cid(period: Period) -> str:
    return f"bieu-do-{period}@toasoan"


def summary_mail(settings: Settings, month: Month) -> SummaryMail:
    """The summary email of a closed period (no I/O but temporary files for the document writers)."""
    from reports.documents import bar_chart_png, report_data, write_monthly_report, write_payment_list
    from reports.royalty import totals

    period = month.period
    cal = Calendar.from_settings(settings)
    b = bounds(period, cal)
    data = report_data(settings, period, month.rows, month.lines, tally_date(period, cal))
    t = totals(month.lines)
    subject = summary_subject(settings, period)
    context = {
        "subject": subject,
        "report_to": settings.report.report_to,
        "office": settings.organization.office_name,
        "organization": settings.organization.name,
        "period_label": period.label,
        "quarter_label": period.quarter.label,
        "start": b.start.date(),
        "end": b.end.date() - timedelta(days=1),
        "units": month.rows,
        "labels": STATUS_LABELS,
        "tin_met": sum(r.tin_met for r in month.rows),
        "bai_met": sum(r.bai_met for r in month.rows),
        "lines": month.lines,
        "unit_names": {u.code: u.name for u in settings.units},
        "total": t.amount,
        "pit": t.pit,
        "net": t.net,
        "total_in_words": amount_in_words(t.amount),
        "payment_date": data.payment_date,
        "chart_cid": chart_cid(period),
    }
    chart = Part(f"bieu-do-{period}.png", "image/png", bar_chart_png(month.rows), cid=chart_cid(period))
    with tempfile.TemporaryDirectory(prefix="toasoan-report-") as tmp:
        xlsx = write_payment_list(data, Path(tmp) / "ds.xlsx").read_bytes()
        docx = write_monthly_report(data, Path(tmp) / "bc.docx").read_bytes()
    return SummaryMail(
        subject=subject,
        text=render("email/report_summary.txt", **context),
        html=render("email/report_summary.html", **context),
        chart=chart,
        attachments=(
            Part(f"danh-sach-chi-tra-nhuan-but-{period}.xlsx", XLSX, xlsx),
            Part(f"bao-cao-thang-{period}.docx", DOCX, docx),
        ),
    )


def run_summary(ctx: Context, period: Period) -> str:
    to = list(dict.fromkeys(a.strip() for a in ctx.settings.report.email_to))
    if not to:
        return "chưa cấu hình [report] email_to: không gửi báo cáo / no [report] email_to"
    end = bounds(period, ctx.cal).end
    with reading(ctx.engine) as s:
        month = load_month(ctx.settings, s, period, max(ctx.now, end))
    mail = summary_mail(ctx.settings, month)
    queued = 0
    with transaction(ctx.engine) as s:
        for addr in to:
            row = enqueue_mail(
                s,
                ctx.settings,
                key=_mail_key("summary", period, addr),
                kind="report_summary",
                to=addr,
                subject=mail.subject,
                body=mail.text,
                html=mail.html,
                inline=(mail.chart,),
                attachments=mail.attachments,
                auto_submitted="auto-generated",
            )
            queued += row is not None
    return f"báo cáo {period}: {queued} thư / {queued} mail(s)"


# --------------------------------------------------------------------------------- the reminder
def reminder_due(period: Period, settings: Settings) -> datetime:
    return _midnight(reminder_date(period, settings.calendar.reminder_days_before, settings), settings)


def reminder_subject(settings: Settings, period: Period) -> str:
    return f"Nhắc chỉ tiêu tin, bài tháng {period.month:02d}/{period.year} — {settings.organization.office_name}"


def run_reminder(ctx: Context, period: Period) -> str:
    cal = ctx.cal
    if ctx.now >= bounds(period, cal).end:
        return f"kỳ {period} đã chốt: không nhắc / period closed, no reminder"
    with reading(ctx.engine) as s:
        month = load_month(ctx.settings, s, period, ctx.now)
    lagging = [r for r in month.rows if not (r.tin_met and r.bai_met)]
    count_rule = "ngày đăng" if ctx.settings.calendar.count_by == "published" else "ngày duyệt"
    queued, unreachable = 0, []
    with transaction(ctx.engine) as s:
        for row in lagging:
            unit = ctx.settings.unit_by_code(row.code)
            addresses = unit.addresses if unit else ()
            if not addresses:
                unreachable.append(row.code)
                continue
            body = render(
                "email/report_reminder.txt",
                unit_name=row.name,
                office=ctx.settings.organization.office_name,
                organization=ctx.settings.organization.name,
                period_label=period.label,
                quarter_label=period.quarter.label,
                tally=tally_date(period, cal),
                quarter_end=bounds(period.quarter, cal).end.date(),
                days_left=days_left(period, ctx.now, cal),
                count_rule=count_rule,
                tin=row.tin,
                tin_target=row.tin_target,
                tin_met=row.tin_met,
                quarter_bai=row.quarter_bai,
                bai_target=row.bai_target,
                bai_met=row.bai_met,
            )
            for addr in addresses:
                mail = enqueue_mail(
                    s,
                    ctx.settings,
                    key=_mail_key("reminder", period, row.code, addr),
                    kind="report_reminder",
                    to=addr,
                    subject=reminder_subject(ctx.settings, period),
                    body=body,
                    auto_submitted="auto-generated",
                )
                queued += mail is not None
    note = f"nhắc {len(lagging)} đơn vị chưa đủ chỉ tiêu: {queued} thư / {queued} mail(s)"
    if unreachable:
        note += f"; không có địa chỉ / no address: {', '.join(unreachable)}"
    return note


# ------------------------------------------------------------------------------ the orientation
def orientation_due(period: Period, settings: Settings) -> datetime:
    return bounds(period, settings).start


def orientation_subject(settings: Settings, period: Period) -> str:
    return f"Định hướng nội dung tháng {period.month:02d}/{period.year} — {settings.organization.office_name}"


def run_orientation(ctx: Context, period: Period) -> str:
    b = bounds(period, ctx.cal)
    with reading(ctx.engine) as s:
        text = orientation_of(s, period)
    if text is None:
        if ctx.now >= b.end:
            return f"kỳ {period} đã kết thúc, không có định hướng / period over, no orientation entered"
        raise Wait("chưa có định hướng nội dung / no orientation entered yet", min(ctx.now + WAIT, b.end))
    queued, unreachable = 0, []
    with transaction(ctx.engine) as s:
        for unit in ctx.settings.units:
            if not unit.addresses:
                unreachable.append(unit.code)
                continue
            body = render(
                "email/report_orientation.txt",
                unit_name=unit.name,
                office=ctx.settings.organization.office_name,
                organization=ctx.settings.organization.name,
                period_label=period.label,
                start=b.start.date(),
                end=b.end.date() - timedelta(days=1),
                text=text,
            )
            for addr in unit.addresses:
                mail = enqueue_mail(
                    s,
                    ctx.settings,
                    key=_mail_key("orientation", period, unit.code, addr),
                    kind="report_orientation",
                    to=addr,
                    subject=orientation_subject(ctx.settings, period),
                    body=body,
                    auto_submitted="auto-generated",
                )
                queued += mail is not None
    note = f"định hướng {period}: {queued} thư / {queued} mail(s)"
    if unreachable:
        note += f"; không có địa chỉ / no address: {', '.join(unreachable)}"
    return note


# The registry: adding a job is one entry. Jobs due at the same instant run in this order.
REGISTRY: tuple[PeriodJob, ...] = (
    PeriodJob("reminder", reminder_due, run_reminder),
    PeriodJob("orientation", orientation_due, run_orientation),
    PeriodJob("close", close_due, run_close),
    PeriodJob("summary", summary_due, run_summary, requires=("close",)),
)


# ------------------------------------------------------------------------------------- running
@dataclass
class Outcome:
    key: str
    job: str
    period: str
    status: str  # succeeded, waiting, retrying, failed
    note: str


@dataclass
class RunReport:
    now: datetime
    enqueued: list[str] = field(default_factory=list)
    ran: list[Outcome] = field(default_factory=list)

    @property
    def failed(self) -> int:
        return sum(o.status in (JobStatus.retrying, JobStatus.failed) for o in self.ran)

    def as_json(self) -> dict[str, Any]:
        return {
            "now": self.now.isoformat(),
            "enqueued": self.enqueued,
            "ran": [o.__dict__ for o in self.ran],
            "failed": self.failed,
        }


def _recorded_periods(s: Any, registry: Sequence[PeriodJob]) -> list[Period]:
    keys = s.exec(select(Job.key).where(col(Job.kind).in_([j.kind for j in registry]))).all()
    return [Period.parse(k.rsplit(":", 1)[-1]) for k in keys]


def enqueue_due(
    settings: Settings, engine: Engine, now: datetime, registry: Sequence[PeriodJob] = REGISTRY
) -> list[str]:
    """Record every period job due at `now` that is not recorded yet; returns the new keys."""
    cal = Calendar.from_settings(settings)
    current = period_of(now, cal)
    added: list[str] = []
    with transaction(engine) as s:
        lock_name(s, "report-schedule")  # two workers: one inserts, the other then sees the rows
        recorded = _recorded_periods(s, registry)
        period = min(max(recorded), current) if recorded else current
        while period <= current:
            for spec in registry:
                due = spec.due(period, settings)
                if due > now:
                    continue
                payload = {"job": spec.name, "period": str(period)}
                if jobs.enqueue(s, kind=spec.kind, key=spec.key(period), payload=payload, due=due) is not None:
                    added.append(spec.key(period))
            period = period.next()
    return added


def _waiting_for(s: Any, spec: PeriodJob, period: Period, registry: Sequence[PeriodJob]) -> str | None:
    """A job `spec` requires that is recorded for the period but has not succeeded (a required job not
    in the registry, or not recorded for this period, does not hold it back)."""
    for name in spec.requires:
        other = next((j for j in registry if j.name == name), None)
        if other is None:
            continue
        row = s.exec(select(Job).where(Job.key == other.key(period))).first()
        if row is not None and row.status != JobStatus.succeeded:
            return name
    return None


def _run_one(ctx: Context, row: Job, spec: PeriodJob, registry: Sequence[PeriodJob]) -> Outcome:
    assert row.id is not None
    period = Period.parse(str(row.payload["period"]))
    outcome = Outcome(row.key, spec.name, str(period), JobStatus.succeeded, "")
    try:
        with reading(ctx.engine) as s:
            blocker = _waiting_for(s, spec, period, registry)
        if blocker is not None:
            raise Wait(f"chờ việc {blocker} của kỳ {period} / waiting for {blocker}", ctx.now + WAIT)
        outcome.note = spec.run(ctx, period)
    except Wait as wait:
        with transaction(ctx.engine) as s:
            jobs.release(s, row.id, ctx.now, due=wait.until, note=wait.note)
        outcome.status, outcome.note = "waiting", wait.note
        return outcome
    except Exception as exc:  # recorded and retried with backoff; the other jobs go on
        log.exception("period job %s failed", row.key)
        error = f"{type(exc).__name__}: {exc}"
        with transaction(ctx.engine) as s:
            outcome.status = jobs.fail(s, row.id, error, retryable=True, now=ctx.now, policy=POLICY)
        outcome.note = error
        return outcome
    with transaction(ctx.engine) as s:
        jobs.succeed(s, row.id, ctx.now, note=outcome.note)
    log.info("period job %s: %s", row.key, outcome.note)
    return outcome


def run_due(
    settings: Settings,
    engine: Engine,
    now: datetime,
    *,
    worker: str | None = None,
    registry: Sequence[PeriodJob] = REGISTRY,
) -> RunReport:
    """Enqueue what is due at `now`, then claim and run each due period job once."""
    report = RunReport(now)
    report.enqueued = enqueue_due(settings, engine, now, registry)
    specs = {j.kind: j for j in registry}
    ctx = Context(settings, engine, now)
    seen: list[int] = []  # each job once per run, even one given back due at once
    worker = worker or f"{socket.gethostname()}:{os.getpid()}"
    while True:
        claimed = jobs.claim_due(engine, now, kinds=list(specs), worker=worker, exclude=seen)
        if not claimed:
            break
        row = claimed[0]
        assert row.id is not None
        seen.append(row.id)
        report.ran.append(_run_one(ctx, row, specs[row.kind], registry))
    return report


# ------------------------------------------------------------------------------ a person's view
class PeriodJobError(Exception):
    """A period job that is not there, or not failed, cannot be retried (Vietnamese message)."""


JOB_LABELS = {
    "reminder": "Nhắc đơn vị chưa đủ chỉ tiêu",
    "orientation": "Gửi định hướng nội dung",
    "close": "Chốt kỳ",
    "summary": "Gửi báo cáo tháng tới Ban Thường vụ",
}
STATUS_LABELS_VI: dict[str, str] = {
    JobStatus.pending: "Chờ đến hạn",
    JobStatus.in_progress: "Đang chạy",
    JobStatus.retrying: "Lỗi, sẽ thử lại",
    JobStatus.failed: "Lỗi, cần người xử lý",
    JobStatus.succeeded: "Đã xong",
}


@dataclass(frozen=True)
class PeriodJobView:
    """A recorded period job as the CLI and the reports page show it."""

    id: int
    job: str
    label: str
    period: str
    status: str
    status_label: str
    attempts: int
    due: datetime
    note: str  # the last error, or what the run recorded

    def as_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "job": self.job,
            "period": self.period,
            "status": self.status,
            "attempts": self.attempts,
            "due": self.due.isoformat(),
            "note": self.note,
        }


def period_jobs(
    s: Session, *, period: Period | None = None, status: str | None = None, registry: Sequence[PeriodJob] = REGISTRY
) -> list[PeriodJobView]:
    """The recorded period jobs (of one period, or in one state), the newest period first, each
    period's jobs in the calendar's order."""
    q = select(Job).where(col(Job.kind).in_([j.kind for j in registry]))
    if period is not None:
        q = q.where(col(Job.key).in_([j.key(period) for j in registry]))
    if status is not None:
        q = q.where(Job.status == status)
    order = {j.kind: i for i, j in enumerate(registry)}
    rows = sorted(s.exec(q).all(), key=lambda r: (str(r.payload.get("period", "")), -order[r.kind]), reverse=True)
    out = []
    for r in rows:
        assert r.id is not None
        name = r.kind.removeprefix(KIND_PREFIX)
        out.append(
            PeriodJobView(
                id=r.id,
                job=name,
                label=JOB_LABELS.get(name, name),
                period=str(r.payload.get("period", "")),
                status=r.status,
                status_label=STATUS_LABELS_VI.get(r.status, r.status),
                attempts=r.attempts,
                due=r.next_attempt_at,
                note=r.last_error or "",
            )
        )
    return out


def upcoming(
    s: Session, settings: Settings, now: datetime, *, limit: int = 4, registry: Sequence[PeriodJob] = REGISTRY
) -> list[dict[str, Any]]:
    """The next period jobs of the calendar not yet done (the period of `now` and the next), soonest
    first: {job, label, period, due, status} (status: the recorded job's, or "scheduled")."""
    here = period_of(now, settings)
    wanted = [(spec, p) for p in (here, here.next()) for spec in registry]
    recorded = {
        r.key: r.status for r in s.exec(select(Job).where(col(Job.key).in_([spec.key(p) for spec, p in wanted])))
    }
    out: list[dict[str, Any]] = []
    for spec, p in wanted:
        status = recorded.get(spec.key(p), "scheduled")
        if status == JobStatus.succeeded:
            continue
        due = spec.due(p, settings)
        out.append(
            {
                "job": spec.name,
                "label": JOB_LABELS.get(spec.name, spec.name),
                "period": str(p),
                "due": due,
                "status": status,
            }
        )
    return sorted(out, key=lambda j: j["due"])[:limit]


def retry_period_job(engine: Engine, job_id: int, now: datetime, registry: Sequence[PeriodJob] = REGISTRY) -> None:
    """A failed period job (its tries used up) runs again at the next tick (or `report run-due`)."""
    with transaction(engine) as s:
        row = s.get(Job, job_id)
        if row is None or row.kind not in {j.kind for j in registry}:
            raise PeriodJobError(f"Không có việc định kỳ số {job_id}.")
        if not jobs.retry(s, job_id, now):  # conditional: only a failed job
            label = STATUS_LABELS_VI.get(row.status, row.status)
            raise PeriodJobError(f"Việc định kỳ số {job_id} không ở trạng thái lỗi (đang: {label}).")
    log.info("period job %s: retried by a person", job_id)


def describe(report: RunReport, settings: Settings) -> str:
    """The CLI's lines for a run (Vietnamese)."""
    if not report.ran:
        return f"Không có việc định kỳ nào đến hạn ({format_datetime(report.now, settings.tz)})."
    out = io.StringIO()
    for o in report.ran:
        out.write(f"{o.key}: {o.status} — {o.note}\n")
    return out.getvalue().rstrip("\n")
