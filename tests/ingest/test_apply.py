"""The writes alone: an outcome decided by hand, applied in one transaction, read back."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy.engine import Engine
from sqlmodel import select

from core.db import reading, transaction
from core.models import Draft, OutboxMail
from core.settings import Settings
from ingest.apply import apply
from ingest.models import InboundMessage, InboundStatus, Reason
from ingest.outcome import DraftPlan, Outcome
from ingest.steps import MessageState
from tests.appkit import open_app, write_settings


def _row(engine: Engine, sender: str = "lan.nguyen@vanphong.tinhuy.example") -> InboundMessage:
    row = InboundMessage(sha256="a" * 64, raw_sha256="b" * 64, size=10, mailbox="m", sender=sender, subject="[BÀI]")
    with transaction(engine) as s:
        s.add(row)
        s.flush()
        s.refresh(row)
        s.expunge(row)
    return row


def _apply(engine: Engine, settings: Settings, state: MessageState) -> None:
    with transaction(engine) as s:
        row = s.get(InboundMessage, state.row.id)
        assert row is not None
        apply(s, settings, row, state)


def test_an_accepted_outcome_makes_a_draft_and_a_receipt(tmp_path: Path) -> None:
    settings, engine = open_app(write_settings(tmp_path))
    plan = DraftPlan("tin", "Tin sinh hoạt", None, "<p>Nội dung</p>", None, 300, None, None, "email", [], [])
    state = MessageState(_row(engine), outcome=Outcome(InboundStatus.accepted, drafts=[plan], notify=True))
    _apply(engine, settings, state)
    with reading(engine) as s:
        row = s.get(InboundMessage, state.row.id)
        [draft] = s.exec(select(Draft)).all()
        [mail] = s.exec(select(OutboxMail)).all()
    assert row is not None and row.status == "accepted" and row.draft_ids == [draft.id]
    assert draft.unit_code == "VP" and draft.tracking_code.startswith("TS-")
    assert mail.kind == "receipt" and draft.tracking_code in mail.subject


def test_an_internal_error_is_recorded_and_mailed_to_nobody(tmp_path: Path) -> None:
    settings, engine = open_app(write_settings(tmp_path))
    outcome = Outcome(InboundStatus.quarantined, Reason.internal_error, "KeyError: 'x'")
    state = MessageState(_row(engine), outcome=outcome, done=True)
    _apply(engine, settings, state)
    with reading(engine) as s:
        row = s.get(InboundMessage, state.row.id)
        assert s.exec(select(OutboxMail)).all() == []
    assert row is not None and (row.status, row.reason, row.detail) == (
        "quarantined",
        "internal_error",
        "KeyError: 'x'",
    )
