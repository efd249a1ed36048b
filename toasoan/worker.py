"""The long-running worker: IDLE as a wake-up, periodic sweeps, reconnect with backoff, outbox sender,
publish runner, period jobs.

The mailbox loop runs in the main thread; outgoing mail is sent from a second thread so a slow or
unreachable SMTP server never delays intake; due publish jobs run in a third, so a slow portal
delays neither; the office calendar's period jobs (reports.schedule) are ticked in a fourth. Each
loop runs a round only while this worker holds its lease (core.runners): two workers on one database
split nothing and double nothing, and one takes over the other's loops when that one stops or dies.
"""

from __future__ import annotations

import contextlib
import logging
import random
import signal
import threading
import time
import uuid
from datetime import datetime
from types import FrameType

import schedule
from sqlalchemy.engine import Engine

from core.db import utcnow
from core.outbox import deliver_due
from core.runners import LEASE_SECONDS, acquire, new_owner, record_error, record_ok, release
from core.settings import Settings
from ingest.mailbox import MailboxError, open_mailbox
from ingest.service import Ingestor
from ingest.sweep import SweepReport
from ingest.word.pool import shutdown_pool
from review.auth import purge_sign_in_records

log = logging.getLogger(__name__)

MAX_BACKOFF_SECONDS = 300.0
PERIOD_JOBS_MINUTES = 1  # how often the period jobs are looked at (the job table says what is due)
PURGE_SIGN_INS_SECONDS = 300.0  # failed sign-ins older than the window are deleted this often
LEASE_RETRY_SECONDS = 5.0  # how often a waiting worker tries to take a loop over


class _Stop(Exception):
    """Raised from the signal handler to leave a blocking wait (IDLE) promptly."""


def run_once(settings: Settings, engine: Engine) -> SweepReport:
    """One full sweep: store, process, acknowledge; then try to send what is due. Raises MailboxError."""
    ingestor = Ingestor(settings, engine)
    try:
        ingestor.process_pending()  # rows a crash left unprocessed
        try:
            mbox = open_mailbox(settings)
        except MailboxError as exc:
            _record(engine, "mailbox", exc)
            raise
        try:
            report = ingestor.sweep(mbox, full=True)
        finally:
            mbox.close()
        _record(engine, "mailbox")
    finally:
        shutdown_pool()
    _deliver(settings, engine)
    return report


def _deliver(settings: Settings, engine: Engine, orphans_before: datetime | None = None) -> None:
    try:
        r = deliver_due(engine, settings, orphans_before=orphans_before)
    except Exception as exc:  # retried on the next round; never stops intake
        log.exception("outbox delivery failed")
        _record(engine, "outbox", exc)
        return
    if r.retrying and not r.sent:  # every attempt of the round failed: the SMTP server is the likely cause
        _record(engine, "outbox", f"{r.retrying} thư chưa gửi được, sẽ thử lại")
    else:
        _record(engine, "outbox")


def _record(engine: Engine, runner: str, error: BaseException | str | None = None) -> None:
    """What the loop just did, for `toasoan status` (never stops the loop: the database may be the trouble)."""
    try:
        if error is None:
            record_ok(engine, runner)
        else:
            text = error if isinstance(error, str) else f"{type(error).__name__}: {error}"
            record_error(engine, runner, text)
    except Exception:
        log.exception("recording the state of %s failed", runner)


class _Leases:
    """The loops' leases this worker holds (core.runners): a loop runs a round only while it holds its
    lease, so a second worker on the same database waits instead of doubling the work; a heartbeat
    renews what is held, and a clean stop releases it for the other worker to take over."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.owner = new_owner(uuid.uuid4().hex[:8])
        self.held: set[str] = set()
        self.taken_at: dict[str, datetime] = {}  # when each held lease was taken (not renewed)
        self.lock = threading.Lock()

    def hold(self, name: str) -> bool:
        try:
            ok = acquire(self.engine, name, self.owner)
        except Exception:  # the database is the trouble: run nothing until it answers
            log.exception("lease %s: the database did not answer", name)
            ok = False
        with self.lock:
            if ok and name not in self.held:
                log.info("lease %s taken by %s", name, self.owner)
                self.taken_at[name] = utcnow()
            elif not ok and name in self.held:
                log.warning("lease %s lost: another worker runs it now", name)
            (self.held.add if ok else self.held.discard)(name)
        return ok

    def renew(self) -> None:
        with self.lock:
            names = list(self.held)
        for name in names:
            self.hold(name)

    def release_all(self) -> None:
        with self.lock:
            names, self.held = list(self.held), set()
        for name in names:
            try:
                release(self.engine, name, self.owner)
            except Exception:  # it runs out by itself within LEASE_SECONDS
                log.exception("releasing lease %s failed", name)


def _heartbeat_loop(leases: _Leases, stop: threading.Event) -> None:
    while not stop.wait(LEASE_SECONDS / 3):
        leases.renew()


def _health(settings: Settings, engine: Engine, kick: threading.Event) -> None:
    from review.health import sync_alerts

    try:
        started, ended = sync_alerts(settings, engine)
    except Exception:  # tried again at the next tick
        log.exception("health check failed")
        return
    for code in started:
        log.warning("warning started: %s", code)
    for code in ended:
        log.info("warning ended: %s", code)
    if started or ended:
        kick.set()  # the admins' email goes out now


def _purge_sign_ins(settings: Settings, engine: Engine) -> None:
    try:
        purge_sign_in_records(engine, settings)
    except Exception:  # tried again at the next round; never stops the sender
        log.exception("purging old sign-in records failed")


def _outbox_loop(
    settings: Settings, engine: Engine, stop: threading.Event, kick: threading.Event, leases: _Leases
) -> None:
    last_purge = -PURGE_SIGN_INS_SECONDS
    while not stop.is_set():
        if not leases.hold("outbox"):
            stop.wait(LEASE_RETRY_SECONDS)
            continue
        # The first round after taking the lease over: what the previous sender left claimed is due now.
        _deliver(settings, engine, orphans_before=leases.taken_at.pop("outbox", None))
        if time.monotonic() - last_purge >= PURGE_SIGN_INS_SECONDS:  # the schedule of the sign-in tables
            _purge_sign_ins(settings, engine)
            last_purge = time.monotonic()
        kick.wait(settings.worker.outbox_seconds)
        kick.clear()


def _publish(settings: Settings, engine: Engine) -> None:
    from publish.jobs import run_due

    try:
        report = run_due(settings, engine)
        if report.published or report.updated or report.withdrawn:
            log.info(
                "publish: %s published, %s updated, %s withdrawn", report.published, report.updated, report.withdrawn
            )
        _record(engine, "publish")
    except Exception as exc:  # retried at the next round; never stops the worker
        log.exception("publish run failed")
        _record(engine, "publish", exc)


def _publish_loop(
    settings: Settings, engine: Engine, stop: threading.Event, kick: threading.Event, leases: _Leases
) -> None:
    while not stop.is_set():
        if not leases.hold("publish"):
            stop.wait(LEASE_RETRY_SECONDS)
            continue
        _publish(settings, engine)
        kick.set()  # the contributor's link email and any admin alert go out now
        stop.wait(settings.publish.run_seconds)


def _period_jobs(settings: Settings, engine: Engine, kick: threading.Event, leases: _Leases) -> None:
    from reports.schedule import run_due

    if not leases.hold("period_jobs"):  # another worker runs the calendar (and the admins' alerts)
        return
    try:
        report = run_due(settings, engine, utcnow())
        if any(o.status == "succeeded" for o in report.ran):
            kick.set()  # the reminders, orientation or summary go out now
        _record(engine, "period_jobs")
    except Exception as exc:  # retried at the next tick; never stops the worker
        log.exception("period jobs failed")
        _record(engine, "period_jobs", exc)
    _health(settings, engine, kick)


def _period_jobs_loop(
    settings: Settings, engine: Engine, stop: threading.Event, kick: threading.Event, leases: _Leases
) -> None:
    """`schedule` is only the ticker: it holds no state, the job table does (a worker down across the
    tally day catches up at its first tick, which is at start)."""
    ticker = schedule.Scheduler()
    ticker.every(PERIOD_JOBS_MINUTES).minutes.do(_period_jobs, settings, engine, kick, leases)
    _period_jobs(settings, engine, kick, leases)
    while not stop.is_set():
        try:
            ticker.run_pending()
        except Exception:  # the ticker itself must not end the thread
            log.exception("period jobs ticker failed")
        stop.wait(max(1.0, ticker.idle_seconds or 1.0))


def run_worker(settings: Settings, engine: Engine, *, stop: threading.Event | None = None) -> int:
    stop = stop or threading.Event()
    kick = threading.Event()
    waiting = threading.Event()
    in_main = threading.current_thread() is threading.main_thread()

    def on_signal(signum: int, _frame: FrameType | None) -> None:
        log.info("signal %s: stopping", signum)
        stop.set()
        kick.set()
        if waiting.is_set():
            raise _Stop

    if in_main:
        signal.signal(signal.SIGTERM, on_signal)
        signal.signal(signal.SIGINT, on_signal)

    leases = _Leases(engine)
    loops = [
        threading.Thread(target=target, args=(settings, engine, stop, kick, leases), name=name, daemon=True)
        for target, name in ((_outbox_loop, "outbox"), (_publish_loop, "publish"), (_period_jobs_loop, "period-jobs"))
    ]
    loops.append(threading.Thread(target=_heartbeat_loop, args=(leases, stop), name="leases", daemon=True))
    for thread in loops:
        thread.start()
    ingestor = Ingestor(settings, engine)
    m = settings.mailbox
    wait_seconds = float(min(m.poll_seconds, m.idle_renew_seconds))
    backoff = 1.0
    last_full = 0.0
    log.info("worker started: %s %s", m.backend, m.path if m.backend == "maildir" else f"{m.host}:{m.port}")
    pending_done = False
    try:
        while not stop.is_set():
            if not leases.hold("mailbox"):  # another worker on this database takes the mail
                stop.wait(LEASE_RETRY_SECONDS)
                continue
            if not pending_done:
                ingestor.process_pending()  # rows a crash left unprocessed
                pending_done = True
            try:
                mbox = open_mailbox(settings)
            except MailboxError as exc:
                log.error("%s; retrying in %.0f s", exc, backoff)
                _record(engine, "mailbox", exc)
                stop.wait(backoff + random.uniform(0, backoff / 2))  # noqa: S311 -- jitter, not a secret
                backoff = min(backoff * 2, MAX_BACKOFF_SECONDS)
                continue
            try:
                backoff = 1.0
                while not stop.is_set():
                    full = time.monotonic() - last_full >= m.full_sweep_seconds
                    report = ingestor.sweep(mbox, full=full)
                    _record(engine, "mailbox")
                    if full:
                        last_full = time.monotonic()
                    if report.processed:
                        log.info(
                            "sweep: %s stored, %s processed, %s moved", report.stored, report.processed, report.acked
                        )
                        kick.set()
                    if stop.is_set() or not leases.hold("mailbox"):
                        break
                    waiting.set()
                    try:
                        mbox.wait(wait_seconds, stop)
                    finally:
                        waiting.clear()
            except _Stop:
                break
            except Exception as exc:  # any mailbox/network error: drop the connection and reconnect
                log.warning("mailbox session ended (%s: %s); reconnecting in %.0f s", type(exc).__name__, exc, backoff)
                _record(engine, "mailbox", exc)
                stop.wait(backoff + random.uniform(0, backoff / 2))  # noqa: S311 -- jitter, not a secret
                backoff = min(backoff * 2, MAX_BACKOFF_SECONDS)
            finally:
                with contextlib.suppress(Exception):
                    mbox.close()
    except _Stop:
        pass
    finally:
        stop.set()
        kick.set()
        for thread in loops:
            thread.join(timeout=10)
        leases.release_all()  # the other worker, if any, takes over at its next try
        shutdown_pool()
    log.info("worker stopped")
    return 0
