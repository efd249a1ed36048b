"""A bug is not a damaged file: a step that raises records internal_error, mails nobody, lets the
batch go on, and the worker processes the message again later. And Ingestor.retry's own errors."""

from __future__ import annotations

import logging
import shutil
from datetime import timedelta
from pathlib import Path

import pytest
from sqlmodel import select

from core.db import transaction, utcnow
from ingest import notices, service, steps
from ingest.models import InboundMessage, Reason
from ingest.service import InboundNotFound, Ingestor, NotQuarantined, RetryError
from ingest.steps import Context, MessageState
from ingest.word.pool import shutdown_pool
from review.web.labels import REASON_LABELS
from tests.appkit import open_app, write_settings
from tests.clijson import cli
from toasoan.cli import main

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "intake"
BROKEN_MID = "tin-ok@vanphong.tinhuy.example"


@pytest.fixture
def office(tmp_path: Path) -> tuple[Path, Path]:
    return write_settings(tmp_path, ingest={"soffice": ""}), tmp_path / "maildir"


@pytest.fixture(autouse=True, scope="module")
def _stop_pool() -> object:
    yield
    shutdown_pool()


def deliver(maildir: Path, *names: str) -> None:
    new = maildir / "new"
    new.mkdir(parents=True, exist_ok=True)
    for name in names:
        shutil.copy(FIXTURES / name, new / f"{name}.host")


def inbox(config: Path, capsys: pytest.CaptureFixture[str]) -> dict[str, dict]:
    return {m["message_id"]: m for m in cli(config, "inbox", "list", "--json", capsys=capsys)}


def broken_documents(ctx: Context, st: MessageState) -> MessageState:
    """The documents step with a bug that shows for one message only."""
    if st.row.message_id == BROKEN_MID:
        raise KeyError("word/document.xml")
    return steps.documents(ctx, st)


def with_step(name: str, replacement: steps.Step) -> tuple[steps.Step, ...]:
    return tuple(replacement if s.__name__ == name else s for s in steps.STEPS)


def test_a_bug_in_a_step_is_an_internal_error_retried_later(
    office: tuple[Path, Path],
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    config, maildir = office
    deliver(maildir, "tin_ok.eml", "two_documents.eml", "no_document.eml")
    monkeypatch.setattr(steps, "STEPS", with_step("documents", broken_documents))
    with caplog.at_level(logging.ERROR, logger="ingest.service"):
        cli(config, "ingest", "--once", capsys=capsys)
    msgs = inbox(config, capsys)
    broken = msgs[BROKEN_MID]
    # Its own reason and the exception line for the problem-email page; the traceback in the log.
    assert (broken["status"], broken["reason"]) == ("quarantined", "internal_error")
    assert broken["detail"] == "KeyError: 'word/document.xml'" and broken["draft_ids"] == []
    [record] = [r for r in caplog.records if r.exc_info]
    assert record.exc_info and record.exc_info[0] is KeyError
    assert REASON_LABELS["internal_error"] != REASON_LABELS["corrupt_document"]
    assert not notices.should_notify("internal_error")  # never a "your file is damaged" email
    # The rest of the batch went on: a receipt and a quarantine notice, neither for the broken one.
    assert [m["status"] for m in msgs.values()].count("accepted") == 1
    assert [m["reason"] for m in msgs.values()].count("no_document") == 1
    mails = cli(config, "outbox", "list", "--json", capsys=capsys)
    assert sorted(m["kind"] for m in mails) == ["quarantine_notice", "receipt"]

    # The next sweep comes too soon for a retry (backoff); the bug is fixed meanwhile.
    monkeypatch.undo()
    cli(config, "ingest", "--once", capsys=capsys)
    assert inbox(config, capsys)[BROKEN_MID]["reason"] == "internal_error"

    # Once its delay has passed, the worker processes it again, and now it goes through.
    _, engine = open_app(config)
    with transaction(engine) as s:
        row = s.exec(select(InboundMessage).where(InboundMessage.message_id == BROKEN_MID)).one()
        row.processed_at = utcnow() - timedelta(seconds=service.INTERNAL_ERROR_DELAY_SECONDS + 1)
        s.add(row)
    cli(config, "ingest", "--once", capsys=capsys)
    fixed = inbox(config, capsys)[BROKEN_MID]
    assert (fixed["status"], fixed["reason"], fixed["attempts"]) == ("accepted", None, 1)
    assert len(fixed["draft_ids"]) == 1
    kinds = sorted(m["kind"] for m in cli(config, "outbox", "list", "--json", capsys=capsys))
    assert kinds == ["quarantine_notice", "receipt", "receipt"]


def test_internal_error_backoff_then_a_person(office: tuple[Path, Path]) -> None:
    now = utcnow()
    row = InboundMessage(sha256="x", raw_sha256="x", size=1, mailbox="m", status="quarantined")
    row.reason, row.processed_at = Reason.internal_error, now
    delays = []
    for attempts in range(service.INTERNAL_ERROR_RETRIES):
        row.attempts = attempts
        delay = timedelta(seconds=service.INTERNAL_ERROR_DELAY_SECONDS * 2**attempts)
        assert not service.internal_error_due(row, now + delay - timedelta(seconds=1))
        assert service.internal_error_due(row, now + delay)
        delays.append(delay.total_seconds())
    assert delays == [60, 120, 240, 480, 960]
    row.attempts = service.INTERNAL_ERROR_RETRIES  # given up: it waits for “Xử lý lại”
    assert not service.internal_error_due(row, now + timedelta(days=30))
    row.attempts, row.reason = 0, Reason.corrupt_document  # the contributor's file: never by itself
    assert not service.internal_error_due(row, now + timedelta(days=30))


def test_retry_raises_its_own_errors(office: tuple[Path, Path], capsys: pytest.CaptureFixture[str]) -> None:
    config, maildir = office
    deliver(maildir, "tin_ok.eml", "no_document.eml")
    cli(config, "ingest", "--once", capsys=capsys)
    msgs = inbox(config, capsys)
    ok, waiting = msgs[BROKEN_MID], msgs["quen-tep@vanphong.tinhuy.example"]
    settings, engine = open_app(config)
    ingestor = Ingestor(settings, engine)
    with pytest.raises(InboundNotFound) as missing:
        ingestor.retry(999_999)
    assert isinstance(missing.value, RetryError) and missing.value.inbound_id == 999_999
    assert missing.value.vi == "không có thư số 999999" and missing.value.en == "no inbound message 999999"
    with pytest.raises(NotQuarantined) as wrong:
        ingestor.retry(ok["id"])
    assert wrong.value.status == "accepted" and "chỉ xử lý lại được thư bị cách ly" in wrong.value.vi
    assert ingestor.retry(waiting["id"]).reason == "no_document"  # a quarantined one is retried
    # The CLI says which, in both languages, and exits 1.
    capsys.readouterr()
    assert main(["--config", str(config), "inbox", "retry", "999999"]) == 1
    assert "không có thư số 999999 / no inbound message 999999" in capsys.readouterr().err
    assert main(["--config", str(config), "inbox", "retry", str(ok["id"])]) == 1
    assert "only quarantined messages can be retried" in capsys.readouterr().err


@pytest.mark.parametrize("reason", ["internal_error", "converter_missing", "a_reason_added_later"])
def test_a_reason_of_the_office_is_never_told_as_a_damaged_file(reason: str) -> None:
    """A receipt lists each file it could not use with its explanation: the office's own problems (and
    any reason without a text of its own) say the office will look at it, not "your file is damaged"."""
    what, advice = notices.explanation(reason)
    assert (what, advice) != notices.explanation("corrupt_document")
    assert "hỏng" not in what and "gửi lại" not in what
    assert advice == "Đồng chí không cần gửi lại tệp này."
