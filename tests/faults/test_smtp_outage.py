"""The office's SMTP server down for an hour (simulated time: the outbox is driven with `now`, the way
the worker calls it every `[worker] outbox_seconds`): the mail waits, is tried with a growing delay (no
retry storm), is never given up, and each email arrives exactly once when the server is back: all of
them in the round of the first retry that finds it back."""

from __future__ import annotations

from collections import Counter
from datetime import timedelta
from pathlib import Path

from sqlmodel import select

from core.db import reading, transaction, utcnow
from core.models import OutboxMail, OutboxStatus
from core.outbox import deliver_due, enqueue
from core.settings import SCHEMA, Settings
from tests.appkit import open_app, write_settings
from tests.faults.kit import figures, smtp_options
from tests.servers import SmtpSink

MAILS = 10
DOWN = timedelta(hours=1)


def outbox_defaults() -> dict[str, int]:
    """The shipped [outbox] rules (not the short delays the other tests use)."""
    return {k.name: k.default for k in SCHEMA["outbox"] if k.name.startswith(("backoff", "max_attempts"))}


def queue_receipts(settings: Settings, engine: object) -> None:
    with transaction(engine) as s:  # type: ignore[arg-type]
        for n in range(MAILS):
            enqueue(
                s,
                settings,
                key=f"receipt:{n}",
                kind="receipt",
                to=f"ctv{n}@vanphong.tinhuy.example",
                subject=f"Đã nhận bài cộng tác — mã theo dõi TS-2026-{n:05d}",
                body="Kính gửi đồng chí,\nBan Biên tập đã nhận được bài.",
                in_reply_to=f"<submission-{n}@vanphong.tinhuy.example>",
            )


def test_smtp_down_for_an_hour_mail_waits_and_goes_once(tmp_path: Path, smtp_sink: SmtpSink) -> None:
    config = write_settings(tmp_path, smtp=smtp_options(smtp_sink), outbox=outbox_defaults())
    settings, engine = open_app(config)
    tick = timedelta(seconds=settings.worker.outbox_seconds)  # how often the worker's sender runs
    queue_receipts(settings, engine)
    smtp_sink.stop()  # connections refused from now on

    start = now = utcnow()
    tries_while_down = 0
    while now - start < DOWN:
        report = deliver_due(engine, settings, now=now)
        assert report.sent == 0 and report.failed == 0  # never given up while it is only down
        tries_while_down += report.retrying
        now += tick
    with reading(engine) as s:
        rows = s.exec(select(OutboxMail)).all()
    assert {r.status for r in rows} <= {OutboxStatus.pending, OutboxStatus.retrying}
    assert smtp_sink.messages == []

    smtp_sink.start()  # back, on the same port
    back = now
    first_sent = None
    while now - back < timedelta(hours=2):
        if deliver_due(engine, settings, now=now).sent and first_sent is None:
            first_sent = now
        with reading(engine) as s:
            if all(r.status == OutboxStatus.succeeded for r in s.exec(select(OutboxMail)).all()):
                break
        now += tick
    waited_after = now - back
    # The first mail that goes shows the server is back: every mail that waited for it goes in that
    # round, not each after its own delay (up to backoff_max_seconds).
    assert first_sent == now
    received = smtp_sink.wait_for(MAILS)
    for later in (timedelta(minutes=1), timedelta(hours=1), timedelta(days=1)):  # nothing goes twice
        assert deliver_due(engine, settings, now=now + later).sent == 0
    per_mail = Counter(m.rcpt_tos[0] for m in smtp_sink.messages)
    assert len(received) == MAILS and set(per_mail.values()) == {1}
    assert set(per_mail) == {f"ctv{n}@vanphong.tinhuy.example" for n in range(MAILS)}
    with reading(engine) as s:
        rows = s.exec(select(OutboxMail)).all()
    assert {r.status for r in rows} == {OutboxStatus.succeeded}
    rounds = int(DOWN / tick)
    # At most one try a round (the rest of the queue waits for the server), each mail's delay growing.
    assert tries_while_down <= rounds
    assert max(r.attempts for r in rows) < settings.outbox.max_attempts
    figures(
        "smtp_outage",
        simulated_minutes_down=int(DOWN.total_seconds() // 60),
        mails=MAILS,
        sender_rounds_while_down=rounds,
        smtp_tries_while_down=tries_while_down,
        most_tries_of_one_mail=max(r.attempts for r in rows),
        simulated_minutes_back_to_all_sent=round(waited_after.total_seconds() / 60, 1),  # the first retry due
        received=len(received),
        duplicated=0,
        lost=0,
    )
