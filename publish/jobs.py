"""Publish jobs on core's job mechanism: an approved article goes live by itself, exactly once.

The approval's transaction calls `enqueue_publish` (one job per active target, due at the embargo
time if there is one); a correction of a published draft calls `enqueue_update`; a withdrawal calls
`enqueue_withdraw`. The runner `run_due` claims due jobs (core.jobs: two runners never take the same
one), builds the article, calls the target and records the `Publication`, turning the target's
exceptions into outcomes:

- `TargetUnavailable`: retried with backoff, `failed` after `[publish] max_attempts`;
- `TargetRefused` (and any other TargetError): `failed` at once, the portal's answer shown;
- `CredentialsRefused`: the target is paused (its jobs wait, untried), the admins get one email;
  a person resumes it (`toasoan publish resume TARGET`);
- `AwaitingManual`: the job waits for an editor to paste the live address (`complete_manual`), or to
  say the article is off the portal (`complete_manual_withdrawal`).

The first success moves the draft `approved -> published` (audited) and queues the contributor's one
email with the live link. publish/ never imports review/.
"""

from __future__ import annotations

import logging
import os
import socket
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import func
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from core import jobs
from core.db import reading, transaction, utcnow
from core.drafts import add_event, load_for_update, transition
from core.errors import Bilingual
from core.formats import format_datetime
from core.models import Draft, DraftEvent, DraftStatus, Job, JobStatus
from core.outbox import enqueue as enqueue_mail
from core.senders import kind_label, letter, mail_to, short_title, unit_for_address
from core.settings import Settings
from core.templating import render
from publish.article import build_article
from publish.models import Publication, PublicationStatus, TargetState
from publish.targets import (
    AwaitingManual,
    CredentialsRefused,
    Placed,
    PublishArticle,
    Target,
    TargetError,
    TargetRefused,
    TargetUnavailable,
    available,
    make_targets,
)

log = logging.getLogger(__name__)

KIND_PREFIX = "publish:"
PUBLISH, UPDATE, WITHDRAW = "publish", "update", "withdraw"
SYSTEM = "system"


# Where the real targets live; each registers itself on import (publish.targets.register).
class PublishError(Bilingual):
    """What a person asked for cannot be done; `vi` is what the page shows them."""


def kind_for(target: str) -> str:
    return f"{KIND_PREFIX}{target}"


def target_of(job: Job) -> str:
    return job.kind.removeprefix(KIND_PREFIX)


def policy(settings: Settings) -> jobs.Backoff:
    p = settings.publish
    return jobs.Backoff(base_seconds=p.backoff_seconds, max_seconds=p.backoff_max_seconds, max_attempts=p.max_attempts)


# ------------------------------------------------------------------------------------ enqueueing
def _publication(s: Session, draft_id: int, target: str) -> Publication | None:
    return s.exec(select(Publication).where(Publication.draft_id == draft_id, Publication.target == target)).first()


def publish_jobs(s: Session, status: str | None = None) -> list[Job]:
    """The publish jobs of every target, oldest first; only those in `status` when given."""
    q = select(Job).where(col(Job.kind).startswith(KIND_PREFIX)).order_by(col(Job.id))
    if status:
        q = q.where(Job.status == status)
    return list(s.exec(q).all())


def publications_in(s: Session, draft_id: int) -> list[Publication]:
    """The draft's publications, in the order of `[publish] targets` as they were created."""
    return list(s.exec(select(Publication).where(Publication.draft_id == draft_id).order_by(col(Publication.id))).all())


def _queue(
    s: Session,
    draft: Draft,
    target: str,
    *,
    action: str,
    key: str,
    actor: str,
    due: datetime | None = None,
    extra: dict[str, Any] | None = None,
) -> Job | None:
    assert draft.id is not None
    payload = {"draft_id": draft.id, "action": action, "actor": actor, **(extra or {})}
    job = jobs.enqueue(s, kind=kind_for(target), key=key, payload=payload, due=due)
    if job is None:
        return None
    pub = _publication(s, draft.id, target)
    if pub is None:
        pub = Publication(draft_id=draft.id, target=target)
    if action == PUBLISH and pub.status != PublicationStatus.published:
        pub.status = PublicationStatus.pending
    pub.job_id = job.id
    pub.updated_at = utcnow()
    s.add(pub)
    s.flush()
    return job


def enqueue_publish(
    s: Session, settings: Settings, draft: Draft, actor: str, publish_at: datetime | None = None
) -> list[Job]:
    """In the approval's own transaction: one publish job per active target, due at `publish_at`
    (aware; the embargo) or now. Keyed by the approval event, so calling it twice queues nothing more."""
    if draft.status != DraftStatus.approved:
        raise PublishError("Bài chưa được duyệt", f"draft {draft.id} is not approved")
    if publish_at is not None and publish_at.tzinfo is None:
        raise ValueError("publish_at must be an aware datetime")
    approval = s.exec(
        select(DraftEvent.id)
        .where(DraftEvent.draft_id == draft.id, DraftEvent.to_status == DraftStatus.approved)
        .order_by(col(DraftEvent.id).desc())
    ).first()
    extra = {"publish_at": publish_at.isoformat() if publish_at else None}
    queued = []
    for target in settings.publish.targets:
        key = f"publish:{draft.id}:{target}:{approval}"
        job = _queue(s, draft, target, action=PUBLISH, key=key, actor=actor, due=publish_at, extra=extra)
        if job is not None:
            queued.append(job)
    return queued


def enqueue_update(s: Session, settings: Settings, draft: Draft, actor: str) -> list[Job]:
    """After a correction of a published draft (same transaction): an update job on every target where
    it is live. A target whose publish job has not run yet will publish the corrected text anyway."""
    assert draft.id is not None
    queued = []
    for pub in publications_in(s, draft.id):
        if pub.status != PublicationStatus.published:
            continue
        key = f"update:{draft.id}:{pub.target}:r{draft.revision}"
        job = _queue(s, draft, pub.target, action=UPDATE, key=key, actor=actor)
        if job is not None:
            queued.append(job)
    return queued


def enqueue_withdraw(s: Session, settings: Settings, draft: Draft, actor: str, reason: str) -> list[Job]:
    """With the withdrawal (same transaction): a withdraw job on every target the draft went to. Where
    it never went live (an embargo not yet reached, a manual publication not done), the waiting publish
    job is cancelled instead: nothing is sent to a target that never had it."""
    assert draft.id is not None
    queued = []
    now = utcnow()
    for pub in publications_in(s, draft.id):
        if pub.status == PublicationStatus.withdrawn:
            continue
        if pub.status != PublicationStatus.published or not pub.url:
            waiting = s.get(Job, pub.job_id) if pub.job_id else None
            if waiting is not None and waiting.status == JobStatus.in_progress:
                continue  # its runner re-reads the draft when the target answers (_went_live)
            if waiting is not None and waiting.id is not None:
                jobs.cancel(s, waiting.id, now, note="hủy: bài đã bị gỡ / cancelled: the draft was withdrawn")
            _record(s, draft.id, pub.target, None, status=PublicationStatus.withdrawn, error=None)
            continue
        key = f"withdraw:{draft.id}:{pub.target}"
        job = _queue(s, draft, pub.target, action=WITHDRAW, key=key, actor=actor, extra={"reason": reason})
        if job is not None:
            queued.append(job)
    return queued


# ---------------------------------------------------------------------------------------- runner
@dataclass
class RunReport:
    published: int = 0
    updated: int = 0
    withdrawn: int = 0
    skipped: int = 0
    waiting: int = 0  # awaiting a person (manual target)
    retrying: int = 0
    failed: int = 0
    paused: list[str] = field(default_factory=list)  # targets paused in this run
    missing: list[str] = field(default_factory=list)  # targets in the settings that are not installed

    @property
    def ok(self) -> bool:
        """Nothing failed in this run (a retry to come, a paused or missing target are failures too)."""
        return not (self.retrying or self.failed or self.paused or self.missing)


def worker_name() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


def paused_targets(s: Session) -> dict[str, TargetState]:
    return {t.target: t for t in s.exec(select(TargetState).where(col(TargetState.paused).is_(True))).all()}


def run_due(settings: Settings, engine: Engine, now: datetime | None = None, *, worker: str | None = None) -> RunReport:
    """Run every publish job due at `now` on the active, unpaused targets; each job once per run."""
    now = now or utcnow()
    worker = worker or worker_name()
    report = RunReport()
    with reading(engine) as s:
        paused = paused_targets(s)
    names = [n for n in settings.publish.targets if n not in paused]
    report.missing = [n for n in names if not available(n)]
    if report.missing:  # not installed: its jobs wait, the other targets run
        log.error("publish: target(s) %s not installed; their jobs wait", ", ".join(report.missing))
    active = [n for n in names if n not in report.missing]
    built: dict[str, Target] = {}  # a target is built when it has a job: an idle tick costs one query
    seen: set[int] = set()  # each job once per run, even when a retry is due at once (no backoff)
    try:
        while active:
            kinds = [kind_for(n) for n in active]
            claimed = jobs.claim_due(engine, now, kinds=kinds, worker=worker, exclude=sorted(seen))
            if not claimed:
                break
            job = claimed[0]
            assert job.id is not None
            seen.add(job.id)
            name = target_of(job)
            if name not in built:
                [built[name]] = make_targets(settings, [name])
            retrying = report.retrying
            _run_one(settings, engine, built[name], job, now, report)
            if name in report.paused or report.retrying > retrying:
                active.remove(name)  # paused, or down: its other jobs would fail the same way; next run
    finally:
        for target in built.values():  # HTTP clients (WordPress) hold connections
            close = getattr(target, "close", None)
            if callable(close):
                close()
    return report


def _run_one(settings: Settings, engine: Engine, target: Target, job: Job, now: datetime, report: RunReport) -> None:
    assert job.id is not None
    action = job.payload.get("action", PUBLISH)
    draft_id = int(job.payload["draft_id"])
    with reading(engine) as s:
        draft = s.get(Draft, draft_id)
        pub = _publication(s, draft_id, target.name)
        skip = _skip_reason(action, draft, pub)
        article: PublishArticle | None = None
        if skip is None:
            article = build_article(s, settings, draft_id, _published_at(job, pub, now))
    if skip is not None or article is None:
        with transaction(engine) as s:
            jobs.succeed(s, job.id, now, note=skip)
            if action == WITHDRAW and pub is not None and pub.status != PublicationStatus.withdrawn:
                _record(s, draft_id, target.name, job.id, status=PublicationStatus.withdrawn, error=None)
        report.skipped += 1
        return
    assert pub is not None or action == PUBLISH
    previous = Placed(pub.url, pub.remote_id) if pub is not None and pub.url else None
    try:
        if action == WITHDRAW:
            assert previous is not None
            target.withdraw(article, previous)
            placed = previous
        else:
            placed = target.publish(article, previous if pub and pub.status == PublicationStatus.published else None)
    except CredentialsRefused as exc:
        _pause(settings, engine, target.name, job, str(exc) or type(exc).__name__, now)
        report.paused.append(target.name)
        return
    except AwaitingManual as exc:
        with transaction(engine) as s:
            jobs.wait_for_person(s, job.id, now, note=str(exc) or None)
            if action == WITHDRAW:  # still live until a person takes it down: say so, keep the address
                note = f"Chờ gỡ bài thủ công: {exc}" if str(exc) else "Chờ gỡ bài thủ công"
                _record(s, draft_id, target.name, job.id, status=PublicationStatus.published, error=note)
            else:
                _record(s, draft_id, target.name, job.id, status=PublicationStatus.awaiting_manual, error=None)
        report.waiting += 1
        return
    except TargetUnavailable as exc:
        _failed(settings, engine, target.name, job, draft_id, action, _message(exc), retryable=True, now=now, r=report)
        return
    except TargetRefused as exc:
        _failed(settings, engine, target.name, job, draft_id, action, _message(exc), retryable=False, now=now, r=report)
        return
    except TargetError as exc:  # a kind the seam does not name: the target knows it will not work
        _failed(settings, engine, target.name, job, draft_id, action, _message(exc), retryable=False, now=now, r=report)
        return
    except Exception as exc:  # a bug or an unexpected error inside a target: kept, retried, shown
        log.exception("publish: target %s raised on job %s", target.name, job.id)
        message = f"{type(exc).__name__}: {exc}"
        _failed(settings, engine, target.name, job, draft_id, action, message, retryable=True, now=now, r=report)
        return
    with transaction(engine) as s:
        if action == WITHDRAW:
            jobs.succeed(s, job.id, now)
            _record(s, draft_id, target.name, job.id, status=PublicationStatus.withdrawn, error=None)
            draft = load_for_update(s, draft_id)
            add_event(s, draft, actor=SYSTEM, action="withdrawn_from_target", data={"target": target.name})
            report.withdrawn += 1
            return
        jobs.succeed(s, job.id, now)
        _went_live(s, settings, draft_id, target.name, job, placed, article, now)
    if action == UPDATE:
        report.updated += 1
    else:
        report.published += 1


def _skip_reason(action: str, draft: Draft | None, pub: Publication | None) -> str | None:
    if draft is None:
        return "bỏ qua: bài không còn / the draft is gone"
    if action in (PUBLISH, UPDATE) and draft.status not in (DraftStatus.approved, DraftStatus.published):
        return f"bỏ qua: bài đang ở trạng thái {draft.status} / skipped: the draft is {draft.status}"
    if action == UPDATE and (pub is None or pub.status != PublicationStatus.published):
        return "bỏ qua: bài chưa lên trang này / skipped: not live on this target"
    if action == WITHDRAW and (pub is None or pub.status != PublicationStatus.published or not pub.url):
        return "bỏ qua: bài không có trên trang này / skipped: not live on this target"
    return None


def _published_at(job: Job, pub: Publication | None, now: datetime) -> datetime:
    if pub is not None and pub.published_at is not None:
        return pub.published_at  # a correction or withdrawal keeps the original date
    embargo = job.payload.get("publish_at")
    return datetime.fromisoformat(embargo) if embargo else now


def _message(exc: BaseException) -> str:
    return str(exc) or type(exc).__name__


def _record(
    s: Session, draft_id: int, target: str, job_id: int | None, *, status: str, error: str | None
) -> Publication:
    pub = _publication(s, draft_id, target) or Publication(draft_id=draft_id, target=target)
    pub.status = status
    pub.last_error = error
    pub.job_id = job_id if job_id is not None else pub.job_id
    pub.updated_at = utcnow()
    s.add(pub)
    s.flush()
    return pub


def _failed(
    settings: Settings,
    engine: Engine,
    target: str,
    job: Job,
    draft_id: int,
    action: str,
    message: str,
    *,
    retryable: bool,
    now: datetime,
    r: RunReport,
) -> None:
    assert job.id is not None
    with transaction(engine) as s:
        status = jobs.fail(s, job.id, message, retryable=retryable, now=now, policy=policy(settings))
        pub = _publication(s, draft_id, target)
        live = pub is not None and pub.status == PublicationStatus.published
        # A failed correction or withdrawal leaves the article live: the row stays published, with the error.
        if live or status == JobStatus.retrying:
            kept = pub.status if pub is not None else PublicationStatus.pending
            _record(s, draft_id, target, job.id, status=kept, error=message)
        else:
            _record(s, draft_id, target, job.id, status=PublicationStatus.failed, error=message)
    if status == JobStatus.retrying:
        r.retrying += 1
        log.warning("publish: job %s on %s will be retried: %s", job.id, target, message)
    else:
        r.failed += 1
        log.error("publish: job %s on %s failed: %s", job.id, target, message)


def _went_live(
    s: Session,
    settings: Settings,
    draft_id: int,
    target: str,
    job: Job,
    placed: Placed,
    article: PublishArticle,
    now: datetime,
) -> None:
    """Record a placement; the first one publishes the draft and tells the contributor."""
    pub = _record(s, draft_id, target, job.id, status=PublicationStatus.published, error=None)
    first_here = pub.published_at is None
    pub.url = placed.url
    pub.remote_id = placed.remote_id
    pub.revision = article.revision
    pub.published_at = pub.published_at or article.published_at
    s.add(pub)
    draft = load_for_update(s, draft_id)
    data = {"target": target, "url": placed.url, "revision": article.revision}
    if draft.status == DraftStatus.approved:
        draft.published_at = article.published_at
        event = transition(s, draft, DraftStatus.published, actor=SYSTEM, action="published", data=data)
        _tell_contributor(s, settings, draft, placed.url, event.at)
    elif draft.status == DraftStatus.withdrawn:
        # Withdrawn while this job was at the target: it is live there now, so it is taken down again
        # (no link to the contributor, the draft stays withdrawn and its published_at unset).
        add_event(s, draft, actor=SYSTEM, action="published_on_target", data=data)
        _queue(
            s, draft, target, action=WITHDRAW, key=f"withdraw:{draft_id}:{target}:j{job.id}", actor=SYSTEM,
            extra={"reason": _withdrawal_reason(s, draft_id)},
        )  # fmt: skip
    elif first_here:
        add_event(s, draft, actor=SYSTEM, action="published_on_target", data=data)
    else:
        add_event(s, draft, actor=SYSTEM, action="updated_on_target", data=data)


def _withdrawal_reason(s: Session, draft_id: int) -> str:
    note = s.exec(
        select(DraftEvent.note)
        .where(DraftEvent.draft_id == draft_id, DraftEvent.to_status == DraftStatus.withdrawn)
        .order_by(col(DraftEvent.id).desc())
    ).first()
    return note or ""


def _tell_contributor(s: Session, settings: Settings, draft: Draft, url: str, at: datetime) -> None:
    """One email with the live link, to a known sender only (the link carries the title's words)."""
    to = mail_to(draft)
    if to is None or unit_for_address(s, settings, to) is None:
        return
    body = render(
        "email/published.txt",
        **letter(settings, draft.sender_name),
        title=draft.title,
        code=draft.tracking_code,
        kind_label=kind_label(settings, draft.kind),
        url=url,
        published_at=format_datetime(at, settings.tz),
    )
    enqueue_mail(
        s,
        settings,
        key=f"published:{draft.id}",
        kind="published",
        to=to,
        subject=f"[{draft.tracking_code}] Bài “{short_title(draft.title)}” đã được đăng",
        body=body,
        in_reply_to=draft.message_id,
        draft_id=draft.id,
    )


# ---------------------------------------------------------------------------------- pause/resume
def _pause(settings: Settings, engine: Engine, target: str, job: Job, reason: str, now: datetime) -> None:
    """Credentials refused: the target pauses, the job waits untried, the admins hear of it once."""
    assert job.id is not None
    with transaction(engine) as s:
        jobs.release(s, job.id, now, due=now, note=f"tạm dừng: {reason} / paused: {reason}")
        state = s.get(TargetState, target) or TargetState(target=target)
        if not state.paused:
            state.paused, state.reason, state.since, state.alerted = True, reason, now, False
        if not state.alerted:
            _tell_admins(s, settings, target, reason, state.since or now)
            state.alerted = True
        state.updated_at = utcnow()
        s.add(state)
        pub = _publication(s, int(job.payload["draft_id"]), target)
        if pub is not None:
            pub.last_error = f"Đích đăng tạm dừng: {reason}"
            s.add(pub)
    log.error("publish: target %s paused, credentials refused: %s", target, reason)


def _tell_admins(s: Session, settings: Settings, target: str, reason: str, since: datetime) -> None:
    body = render(
        "email/publish_paused.txt",
        target=target,
        reason=reason,
        since=format_datetime(since, settings.tz),
        office=settings.organization.office_name,
        organization=settings.organization.name,
    )
    for address in settings.organization.admin_emails:
        enqueue_mail(
            s,
            settings,
            key=f"publish-paused:{target}:{since.isoformat()}:{address.lower()}",
            kind="publish_paused",
            to=address,
            subject=f"[toasoan] Đích đăng “{target}” tạm dừng: tài khoản bị từ chối",
            body=body,
        )


def resume(engine: Engine, target: str) -> int:
    """A person fixed the credentials: the target runs again. Returns the number of jobs waiting."""
    with transaction(engine) as s:
        state = s.get(TargetState, target)
        if state is None or not state.paused:
            raise PublishError(f"Đích đăng {target} không tạm dừng", f"target {target} is not paused")
        state.paused, state.alerted, state.updated_at = False, False, utcnow()
        s.add(state)
        waiting = s.exec(
            select(Job.id).where(Job.kind == kind_for(target), col(Job.status).in_(jobs.DUE_STATUSES))
        ).all()
    return len(waiting)


# ------------------------------------------------------------------------------ people's actions
def retry_job(engine: Engine, job_id: int, actor: str, now: datetime | None = None) -> Job:
    """A person asks for a failed job to run again (at the next run)."""
    now = now or utcnow()
    with transaction(engine) as s:
        job = s.get(Job, job_id)
        if job is None or not job.kind.startswith(KIND_PREFIX):
            raise PublishError(f"Không có việc đăng bài số {job_id}", f"no publish job {job_id}")
        if not jobs.retry(s, job_id, now):
            raise PublishError(
                f"Việc số {job_id} không ở trạng thái thất bại ({job.status})", f"job {job_id} has not failed"
            )
        draft_id = int(job.payload["draft_id"])
        pub = _publication(s, draft_id, target_of(job))
        if pub is not None and pub.status == PublicationStatus.failed:
            pub.status = PublicationStatus.pending
            pub.updated_at = now
            s.add(pub)
        draft = s.get(Draft, draft_id)
        if draft is not None:
            add_event(s, draft, actor=actor, action="publish_retry", data={"job": job_id, "target": target_of(job)})
        s.refresh(job)
        return job


def complete_manual(
    settings: Settings,
    engine: Engine,
    draft_id: int,
    target_name: str,
    url: str,
    actor: str,
    now: datetime | None = None,
) -> Publication:
    """An editor pasted the live address of an article the manual target handed over: the page must
    answer and show the title (the target's `verify`), then it is recorded as published now."""
    now = now or utcnow()
    url = url.strip()
    if not url.lower().startswith(("https://", "http://")) or any(c.isspace() for c in url) or len(url) > 2000:
        raise PublishError("Địa chỉ bài phải bắt đầu bằng http:// hoặc https://", "the address must be an http(s) URL")
    with reading(engine) as s:
        pub = _publication(s, draft_id, target_name)
        job = s.get(Job, pub.job_id) if pub is not None and pub.job_id else None
        if pub is None or job is None or job.status != JobStatus.awaiting_manual:
            raise PublishError("Bài không chờ đăng thủ công trên đích này", "nothing awaits a manual publication here")
        article = build_article(s, settings, draft_id, _published_at(job, None, now))
    [target] = make_targets(settings, [target_name])
    if not target.verify(Placed(url), article.title):
        raise PublishError(
            "Không mở được trang này hoặc trang không có tiêu đề bài; hãy kiểm tra lại đường dẫn",
            "the page does not answer or does not show the title",
        )
    with transaction(engine) as s:
        assert job.id is not None
        if not jobs.JOBS.finish_by_person(s, job.id, now):
            raise PublishError("Việc này đã được xử lý", "this job was already handled")
        _went_live(s, settings, draft_id, target_name, job, Placed(url), article, now)
        add_event(
            s, load_for_update(s, draft_id), actor=actor, action="manual_url", data={"target": target_name, "url": url}
        )
        return _record(s, draft_id, target_name, job.id, status=PublicationStatus.published, error=None)


def awaits_manual_withdrawal(pub: Publication, job: Job | None) -> bool:
    """The article is still live on this target and its withdraw job waits for a person to take it down."""
    return (
        job is not None
        and job.status == JobStatus.awaiting_manual
        and job.payload.get("action") == WITHDRAW
        and pub.status == PublicationStatus.published
        and bool(pub.url)
    )


def complete_manual_withdrawal(
    settings: Settings,
    engine: Engine,
    draft_id: int,
    target_name: str,
    actor: str,
    now: datetime | None = None,
) -> Publication:
    """An editor says the article is off the portal the manual target hands work to: its page must be
    gone (4xx) or no longer show the title (the target's `verify` is False), then the publication is
    withdrawn. A page still showing it is refused; network trouble leaves the job waiting."""
    now = now or utcnow()
    with reading(engine) as s:
        pub = _publication(s, draft_id, target_name)
        job = s.get(Job, pub.job_id) if pub is not None and pub.job_id else None
        draft = s.get(Draft, draft_id)
        if pub is None or draft is None or not awaits_manual_withdrawal(pub, job):
            raise PublishError("Bài không chờ gỡ thủ công trên đích này", "nothing awaits a manual withdrawal here")
        assert job is not None and pub.url is not None
        url, remote_id, title = pub.url, pub.remote_id, draft.title
    [target] = make_targets(settings, [target_name])
    try:
        still_there = target.verify(Placed(url, remote_id), title)
    except TargetUnavailable as exc:
        raise PublishError(
            f"Không kiểm tra được trang ({_message(exc)}); bài vẫn chờ gỡ, hãy thử lại sau",
            "the page could not be checked; try again later",
        ) from None
    if still_there:
        raise PublishError(
            f"Trang {url} vẫn còn bài này; hãy gỡ bài trên cổng rồi xác nhận lại", "the page still shows the article"
        )
    with transaction(engine) as s:
        assert job.id is not None
        if not jobs.JOBS.finish_by_person(s, job.id, now):
            raise PublishError("Việc này đã được xử lý", "this job was already handled")
        pub = _record(s, draft_id, target_name, job.id, status=PublicationStatus.withdrawn, error=None)
        add_event(
            s,
            load_for_update(s, draft_id),
            actor=actor,
            action="manual_withdrawn",
            data={"target": target_name, "url": url},
        )
        return pub


# ---------------------------------------------------------------------------------- status page
def failed_jobs_count(s: Session) -> int:
    """Publish jobs that gave up (a person must look: "Đăng lại")."""
    q = (
        select(func.count())
        .select_from(Job)
        .where(col(Job.kind).startswith(KIND_PREFIX), Job.status == JobStatus.failed)
    )
    return int(s.exec(q).one())
