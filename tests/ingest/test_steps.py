"""Each intake step alone: a state built by hand, one step called, its outcome checked. Real parts
only: a settings file, a SQLite database, the file store and the conversion pool."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from core.db import transaction
from core.models import Draft
from core.storage import sha256_hex
from ingest import steps
from ingest.models import InboundMessage, InboundStatus, Reason
from ingest.outcome import DraftPlan, Outcome
from ingest.parse import parse_headers
from ingest.service import Ingestor
from ingest.steps import Context, MessageState
from ingest.sweep import header_block, identity_sha256
from ingest.word.pool import shutdown_pool
from tests.appkit import open_app, write_settings
from tests.fixtures.intake.build import email_message, submission

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "intake"
LAN = ("Nguyễn Thị Lan", "lan.nguyen@vanphong.tinhuy.example")


@pytest.fixture
def ctx(tmp_path: Path) -> Context:
    settings, engine = open_app(write_settings(tmp_path, ingest={"soffice": ""}))
    return Context.create(settings, engine)


@pytest.fixture(autouse=True, scope="module")
def _stop_pool() -> object:
    yield
    shutdown_pool()


def spooled(ctx: Context, raw: bytes, *, size: int | None = None, save: bool = False) -> InboundMessage:
    """The row the sweep would have stored for this email (in the database only when save)."""
    raw_sha = ctx.store.put("spool", raw, sha=sha256_hex(raw), suffix=".eml")
    head = parse_headers(raw)
    row = InboundMessage(
        sha256=identity_sha256(raw),
        raw_sha256=raw_sha,
        size=len(raw) if size is None else size,
        mailbox="test",
        message_id=head.message_id,
        subject=head.subject,
        sender=head.sender_address,
        sender_name=head.sender_name,
    )
    if save:
        with transaction(ctx.engine) as s:
            s.add(row)
            s.flush()
            s.refresh(row)
            s.expunge(row)
    return row


def parsed_state(ctx: Context, raw: bytes, **row: Any) -> MessageState:
    return steps.parse(ctx, MessageState(spooled(ctx, raw, **row)))


def plain(subject: str, body: str = "Kính gửi Ban Biên tập.", **kw: Any) -> bytes:
    return email_message(subject=subject, sender=LAN, body=body, message_id="m1@vanphong.tinhuy.example", **kw)


def accepted(source_sha256: str | None = "a" * 64) -> Outcome:
    plan = DraftPlan("tin", "Tiêu đề", None, "<p>Bài</p>", None, 300, "bai.docx", source_sha256, "docx", [], [])
    return Outcome(InboundStatus.accepted, drafts=[plan], notify=True)


# ------------------------------------------------------------------------------------------ marker
def test_marker_ignores_other_mail(ctx: Context) -> None:
    st = steps.marker(ctx, MessageState(spooled(ctx, plain("Mời họp chi bộ"))))
    assert st.done and st.outcome == Outcome(InboundStatus.ignored, Reason.not_a_submission)


@pytest.mark.parametrize(
    "subject", ["[BÀI CỘNG TÁC] Tin sinh hoạt", "Fwd: bai cong tac", "Re: [TS-2026-00012] Đề nghị sửa"]
)
def test_marker_lets_a_submission_or_a_reply_to_us_on(ctx: Context, subject: str) -> None:
    st = steps.marker(ctx, MessageState(spooled(ctx, plain(subject))))
    assert not st.done and st.outcome is None


# -------------------------------------------------------------------------------------------- size
def test_size_over_the_limit_is_too_large_and_notified(ctx: Context) -> None:
    limit = ctx.settings.ingest.max_message_bytes
    raw = plain("[BÀI CỘNG TÁC] Tin")
    st = steps.size(ctx, MessageState(spooled(ctx, header_block(raw), size=limit + 1)))
    assert st.done and st.outcome is not None
    assert (st.outcome.status, st.outcome.reason, st.outcome.notify) == ("quarantined", "too_large", True)
    assert "only its header was downloaded" in (st.outcome.detail or "")


def test_size_header_only_within_the_limit_says_how_to_fetch_it_again(ctx: Context) -> None:
    raw = plain("[BÀI CỘNG TÁC] Tin")
    st = steps.size(ctx, MessageState(spooled(ctx, header_block(raw), size=len(raw) + 10)))
    assert st.done and st.outcome is not None
    assert (st.outcome.reason, st.outcome.notify) == ("too_large", False)
    assert "chuyển thư về thư mục nhận bài" in (st.outcome.detail or "")


def test_size_within_the_limit_goes_on(ctx: Context) -> None:
    st = steps.size(ctx, MessageState(spooled(ctx, plain("[BÀI CỘNG TÁC] Tin"))))
    assert not st.done and st.outcome is None


# ------------------------------------------------------------------------------------------- parse
def test_parse_reads_the_spool_and_strips_the_marker(ctx: Context) -> None:
    st = parsed_state(ctx, plain("[BÀI CỘNG TÁC] Tin hiến máu"))
    assert st.parsed is not None and st.parsed.sender_address == LAN[1]
    assert st.subject_rest == "Tin hiến máu" and not st.done


# -------------------------------------------------------------------------------------- auto-reply
def test_auto_reply_is_ignored(ctx: Context) -> None:
    raw = b"Auto-Submitted: auto-replied\r\n" + plain("Re: [BÀI CỘNG TÁC] Tin")
    st = steps.auto_reply(ctx, parsed_state(ctx, raw))
    assert st.done and st.outcome == Outcome(InboundStatus.ignored, Reason.not_a_submission, "automatic reply")


def test_a_person_s_mail_is_no_auto_reply(ctx: Context) -> None:
    st = steps.auto_reply(ctx, parsed_state(ctx, plain("[BÀI CỘNG TÁC] Tin")))
    assert not st.done


# --------------------------------------------------------------------------------------- duplicate
def test_duplicate_message_id_after_the_first(ctx: Context) -> None:
    first = spooled(ctx, plain("[BÀI CỘNG TÁC] Tin"), save=True)
    second = spooled(ctx, plain("[BÀI CỘNG TÁC] Tin", body="Bản gửi lại."), save=True)
    assert steps.duplicate(ctx, MessageState(first)).outcome is None
    st = steps.duplicate(ctx, MessageState(second))
    assert st.done and st.outcome is not None
    assert (st.outcome.status, st.outcome.reason, st.outcome.detail) == (
        "ignored",
        "duplicate",
        f"same Message-ID as #{first.id}",
    )


# --------------------------------------------------------------------------------------- documents
def test_documents_convert_a_word_file_into_a_plan(ctx: Context) -> None:
    st = steps.documents(ctx, parsed_state(ctx, submission(1)))
    assert not st.done and st.outcome is not None
    assert (st.outcome.status, st.outcome.notify) == ("accepted", True)
    [plan] = st.outcome.drafts
    assert plan.kind == "tin" and plan.source_format == "docx" and plan.source_sha256
    assert ctx.store.exists("documents", plan.source_sha256)


def test_documents_quarantine_a_broken_file_with_its_reason(ctx: Context) -> None:
    st = steps.documents(ctx, parsed_state(ctx, (FIXTURES / "corrupt.eml").read_bytes()))
    assert st.outcome is not None
    assert (st.outcome.status, st.outcome.reason, st.outcome.notify) == ("quarantined", "corrupt_document", True)
    assert [p["reason"] for p in st.outcome.problems] == ["corrupt_document"]


def test_documents_without_a_file_leave_the_body_to_the_next_step(ctx: Context) -> None:
    st = steps.documents(ctx, parsed_state(ctx, (FIXTURES / "body_article.eml").read_bytes()))
    assert st.outcome is None and st.documents == []


# ------------------------------------------------------------------------------------ body article
def test_body_article_from_the_email_body(ctx: Context) -> None:
    st = steps.body_article(ctx, parsed_state(ctx, (FIXTURES / "body_article.eml").read_bytes()))
    assert st.outcome is not None and st.outcome.status == "accepted"
    [plan] = st.outcome.drafts
    assert plan.source_format == "email" and "from_email_body" in plan.warnings


def test_body_article_too_short_is_no_document(ctx: Context) -> None:
    st = steps.body_article(ctx, parsed_state(ctx, (FIXTURES / "no_document.eml").read_bytes()))
    assert st.outcome is not None
    assert (st.outcome.status, st.outcome.reason, st.outcome.notify) == ("quarantined", "no_document", True)


def test_body_article_leaves_a_decided_outcome_alone(ctx: Context) -> None:
    st = parsed_state(ctx, (FIXTURES / "body_article.eml").read_bytes())
    st.outcome = decided = accepted()
    assert steps.body_article(ctx, st).outcome is decided


# ----------------------------------------------------------------------------- sender verification
FORGED = b"Authentication-Results: mx.tinhuy.example; dmarc=fail header.from=vanphong.tinhuy.example\r\n"


def test_sender_verification_mails_nobody_for_a_forged_from(ctx: Context) -> None:
    st = parsed_state(ctx, FORGED + plain("[BÀI CỘNG TÁC] Tin"))
    st.outcome = accepted()
    st = steps.sender_verification(ctx, st)
    assert not st.sender_verified and st.outcome is not None and not st.outcome.notify
    assert "sender_unverified" in st.outcome.drafts[0].warnings


def test_sender_verification_leaves_an_ordinary_sender_alone(ctx: Context) -> None:
    st = parsed_state(ctx, plain("[BÀI CỘNG TÁC] Tin"))
    st.outcome = accepted()
    st = steps.sender_verification(ctx, st)
    assert st.sender_verified and st.outcome is not None and st.outcome.notify
    assert st.outcome.drafts[0].warnings == []


# ---------------------------------------------------------------------------------- reply to draft
def _draft_of_lan(ctx: Context) -> tuple[int, str]:
    """A real draft, made by intake itself from a submission."""
    row = spooled(ctx, submission(7), save=True)
    assert row.id is not None
    Ingestor(ctx.settings, ctx.engine).process_one(row.id)
    with transaction(ctx.engine) as s:
        fresh = s.get(InboundMessage, row.id)
        assert fresh is not None and fresh.status == "accepted"
        draft = s.get(Draft, fresh.draft_ids[0])
        assert draft is not None and draft.id is not None
        return draft.id, draft.tracking_code


def test_reply_to_draft_revises_the_sender_s_open_draft(ctx: Context) -> None:
    draft_id, code = _draft_of_lan(ctx)
    st = parsed_state(ctx, plain(f"Re: [{code}] Đề nghị chỉnh sửa bài"))
    st.outcome = accepted()
    assert steps.reply_to_draft(ctx, st).outcome == Outcome(
        InboundStatus.accepted, drafts=accepted().drafts, notify=True, revises=draft_id
    )


def test_reply_to_draft_not_for_a_forged_sender_nor_another_sender(ctx: Context) -> None:
    _, code = _draft_of_lan(ctx)
    st = parsed_state(ctx, plain(f"Re: [{code}] Bản sửa"))
    st.outcome, st.sender_verified = accepted(), False
    assert steps.reply_to_draft(ctx, st).outcome.revises is None
    other = email_message(
        subject=f"Re: [{code}] Bản sửa", sender=("Lê An", "an.le@bantochuc.tinhuy.example"), body=".", message_id="x@y"
    )
    st = parsed_state(ctx, other)
    st.outcome = accepted()
    assert steps.reply_to_draft(ctx, st).outcome.revises is None


def test_reply_to_draft_only_with_a_word_file(ctx: Context) -> None:
    _, code = _draft_of_lan(ctx)
    st = parsed_state(ctx, plain(f"Re: [{code}] Bản sửa"))
    st.outcome = accepted(source_sha256=None)  # an article typed in the body is a new submission
    assert steps.reply_to_draft(ctx, st).outcome.revises is None


# -------------------------------------------------------------------------------------------- unit
def test_unit_of_a_known_and_an_unknown_sender(ctx: Context) -> None:
    st = steps.unit(ctx, parsed_state(ctx, plain("[BÀI CỘNG TÁC] Tin")))
    assert st.unit_checked and st.unit is not None and st.unit.code == "VP"
    stranger = email_message(subject="[BÀI CỘNG TÁC] Tin", sender=("", "ai@example.org"), body=".", message_id="s@x")
    st = steps.unit(ctx, parsed_state(ctx, stranger))
    assert st.unit_checked and st.unit is None


# ------------------------------------------------------------------------------------- the runner
def test_the_chain_stops_at_the_first_final_outcome(ctx: Context) -> None:
    st = steps.run(ctx, spooled(ctx, plain("Mời họp chi bộ")))
    assert st.done and st.parsed is None and st.outcome is not None and st.outcome.reason == "not_a_submission"


def test_the_chain_runs_every_step_for_a_submission(ctx: Context) -> None:
    seen: list[str] = []

    def recorder(step: steps.Step) -> steps.Step:
        def wrapped(c: Context, st: MessageState) -> MessageState:
            seen.append(step.__name__)
            return step(c, st)

        return wrapped

    st = steps.run(ctx, spooled(ctx, submission(2), save=True), [recorder(s) for s in steps.STEPS])
    assert seen == [s.__name__ for s in steps.STEPS]
    assert st.outcome is not None and st.outcome.status == "accepted" and st.unit is not None


def test_the_steps_in_order() -> None:
    assert [s.__name__ for s in steps.STEPS] == [
        "marker",
        "size",
        "parse",
        "auto_reply",
        "duplicate",
        "documents",
        "body_article",
        "sender_verification",
        "reply_to_draft",
        "unit",
    ]
