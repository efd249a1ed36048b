"""Intake: mailbox -> durable spool + row -> processing -> drafts, receipts, quarantine.

`Ingestor` is the facade the worker, the CLI and the web use; the work is in three parts, each
testable alone: ingest.sweep (the transport: store, cursor, acknowledge), ingest.steps (the handler
chain that decides an outcome without writing) and ingest.apply (the one transaction that writes it).
State transitions of InboundMessage happen only in ingest: sweep (stored), apply (the outcome) and
here (retry, and the worker's requeue after an internal error).
"""

from __future__ import annotations

import itertools
import logging
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta

from sqlalchemy.engine import Engine
from sqlmodel import col, select

from core.db import reading, transaction, utcnow
from core.errors import Bilingual
from core.logs import bound
from core.progress import HANDFUL, progress_bar
from core.settings import Settings
from ingest import steps
from ingest.apply import apply, tracking_code
from ingest.mailbox import MailboxSession
from ingest.models import InboundMessage, InboundStatus, Reason
from ingest.outcome import DraftPlan, ImagePlan, Outcome
from ingest.parse import ParsedMessage
from ingest.queries import Inbound, inbound
from ingest.steps import TRACKING_CODE, MessageState
from ingest.sweep import Sweep, SweepReport, header_block, header_identity, identity_sha256
from ingest.word.pool import set_pool_size

__all__ = [
    "TRACKING_CODE",
    "DraftPlan",
    "ImagePlan",
    "InboundNotFound",
    "Ingestor",
    "NotQuarantined",
    "Outcome",
    "RetryError",
    "SweepReport",
    "header_block",
    "header_identity",
    "identity_sha256",
    "tracking_code",
]

log = logging.getLogger(__name__)

# An internal error is retried by the worker after 1, 2, 4, 8 and 16 minutes (counted in the row's
# attempts, which a person's "Xử lý lại" also counts); then it waits, quarantined, for a person.
INTERNAL_ERROR_RETRIES = 5
INTERNAL_ERROR_DELAY_SECONDS = 60


class RetryError(Bilingual):
    """A message that cannot be retried; the text in Vietnamese and in English, as separate fields."""

    def __init__(self, inbound_id: int, vi: str, en: str) -> None:
        super().__init__(vi, en)
        self.inbound_id = inbound_id


class InboundNotFound(RetryError):
    def __init__(self, inbound_id: int) -> None:
        super().__init__(inbound_id, f"không có thư số {inbound_id}", f"no inbound message {inbound_id}")


class NotQuarantined(RetryError):
    def __init__(self, inbound_id: int, status: str) -> None:
        super().__init__(
            inbound_id,
            f"thư số {inbound_id} đang ở trạng thái {status}, chỉ xử lý lại được thư bị cách ly",
            f"message {inbound_id} is {status}; only quarantined messages can be retried",
        )
        self.status = status


class Ingestor:
    def __init__(self, settings: Settings, engine: Engine) -> None:
        self.settings = settings
        self.engine = engine
        self.context = steps.Context.create(settings, engine)
        self.store = self.context.store
        self.limits = self.context.limits
        self.marker = self.context.marker
        self.transport = Sweep(settings, engine, self.store)
        set_pool_size(settings.ingest.workers)

    def sweep(self, mbox: MailboxSession, *, full: bool = False) -> SweepReport:
        """Store every new message of the mailbox, process what is pending, acknowledge what is done."""
        return self.transport.sweep(mbox, self.process_pending, full=full)

    def process_pending(self, *, threads: int | None = None) -> int:
        requeue_internal_errors(self.engine, utcnow())
        with reading(self.engine) as s:
            ids = [
                i
                for i in s.exec(
                    select(InboundMessage.id)
                    .where(InboundMessage.status == InboundStatus.received)
                    .order_by(col(InboundMessage.id))
                ).all()
                if i is not None  # a stored row's id
            ]
        if not ids:
            return 0
        threads = threads or self.settings.ingest.workers + 1
        # A backlog (an office's first sweep of a year of mail) shows its counts on a terminal.
        with progress_bar("Xử lý thư", unit="thư", minimum=HANDFUL) as bar:
            done = itertools.count(1)

            def one(inbound_id: int) -> None:
                self.process_one(inbound_id)
                bar(next(done), len(ids))  # count() is atomic under the GIL; the bar has its own lock

            if len(ids) == 1 or threads <= 1:
                for i in ids:
                    one(i)
            else:
                with ThreadPoolExecutor(max_workers=threads, thread_name_prefix="ingest") as pool:
                    list(pool.map(one, ids))
        return len(ids)

    def process_one(self, inbound_id: int) -> None:
        with bound(inbound_id=inbound_id):
            self._process_one(inbound_id)

    def _process_one(self, inbound_id: int) -> None:
        with reading(self.engine) as s:
            row = s.get(InboundMessage, inbound_id)
        if row is None or row.status != InboundStatus.received:
            return
        try:
            state = steps.run(self.context, row)
        except Exception as exc:  # a bug must not stop the batch, nor pass for the contributor's damaged file
            log.exception("processing inbound %s (%s) failed", inbound_id, row.sha256[:12])
            detail = f"{type(exc).__name__}: {exc}"
            state = MessageState(row, outcome=Outcome(InboundStatus.quarantined, Reason.internal_error, detail))
        outcome = state.outcome
        assert outcome is not None
        with transaction(self.engine) as s:
            fresh = s.get(InboundMessage, inbound_id)
            if fresh is None or fresh.status != InboundStatus.received:
                return
            apply(s, self.settings, fresh, state)
        log.info(
            "inbound %s %s: %s %s drafts=%s",
            inbound_id,
            row.sha256[:12],
            outcome.status,
            outcome.reason or "",
            len(outcome.drafts),
        )

    def evaluate(self, row: InboundMessage) -> tuple[Outcome, ParsedMessage | None]:
        """The outcome the steps decide for a stored message, without writing it."""
        state = steps.run(self.context, row)
        assert state.outcome is not None
        return state.outcome, state.parsed

    def retry(self, inbound_id: int) -> Inbound:
        """Reprocess a quarantined message (for instance after LibreOffice was installed); returns how
        it stands after. Raises InboundNotFound or NotQuarantined (both RetryError)."""
        with transaction(self.engine) as s:
            row = s.get(InboundMessage, inbound_id)
            if row is None:
                raise InboundNotFound(inbound_id)
            if row.status != InboundStatus.quarantined:
                raise NotQuarantined(inbound_id, row.status)
            row.status = InboundStatus.received
            row.reason = None
            row.attempts += 1
            s.add(row)
        self.process_one(inbound_id)
        with reading(self.engine) as s:
            fresh = inbound(s, inbound_id)
        assert fresh is not None
        return fresh


def internal_error_due(row: InboundMessage, now: datetime) -> bool:
    """Whether the worker retries a message an internal error quarantined: with a doubling delay, a
    few times, then never (a person decides)."""
    if row.reason != Reason.internal_error or row.attempts >= INTERNAL_ERROR_RETRIES:
        return False
    delay = timedelta(seconds=INTERNAL_ERROR_DELAY_SECONDS * 2**row.attempts)
    return row.processed_at is None or row.processed_at + delay <= now


def requeue_internal_errors(engine: Engine, now: datetime) -> int:
    """Put the internal errors that are due back to `received`; the caller processes them."""
    with reading(engine) as s:
        candidates = s.exec(
            select(InboundMessage.id).where(
                InboundMessage.status == InboundStatus.quarantined,
                InboundMessage.reason == Reason.internal_error,
                col(InboundMessage.attempts) < INTERNAL_ERROR_RETRIES,
            )
        ).all()
    if not candidates:
        return 0
    requeued = 0
    with transaction(engine) as s:
        for inbound_id in candidates:
            row = s.get(InboundMessage, inbound_id)
            # Checked again inside the transaction: a person may have retried it meanwhile.
            if row is None or row.status != InboundStatus.quarantined or not internal_error_due(row, now):
                continue
            row.status, row.reason, row.attempts = InboundStatus.received, None, row.attempts + 1
            s.add(row)
            requeued += 1
    if requeued:
        log.info("%s inbound message(s) retried after an internal error", requeued)
    return requeued
