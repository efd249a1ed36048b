"""The mailbox sweep alone (a real Maildir, no processing): it stores, it remembers, and it moves out
of the watched folder only what processing has handled."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import pytest
from sqlmodel import col, select

from core.db import reading, transaction
from core.storage import Store
from ingest.mailbox import open_mailbox
from ingest.models import InboundMessage, InboundStatus
from ingest.sweep import Sweep, header_block, header_identity, identity_sha256
from tests.appkit import open_app, write_settings

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "intake"


def test_sweep_stores_then_acknowledges_only_what_was_handled(tmp_path: Path) -> None:
    settings, engine = open_app(write_settings(tmp_path))
    new = tmp_path / "maildir" / "new"
    new.mkdir(parents=True)
    for name in ("tin_ok.eml", "not_a_submission.eml"):
        shutil.copy(FIXTURES / name, new / f"{name}.host")
    transport = Sweep(settings, engine, Store(settings.storage_dir))
    mbox = open_mailbox(settings)
    try:
        report = transport.sweep(mbox, lambda: 0, full=True)  # nothing processes: nothing moves
        assert (report.listed, report.stored, report.processed, report.acked) == (2, 2, 0, 0)
        with reading(engine) as s:
            rows = s.exec(select(InboundMessage).order_by(col(InboundMessage.id))).all()
        assert [r.status for r in rows] == ["received", "received"]
        assert all(transport.store.exists("spool", r.raw_sha256, ".eml") for r in rows)

        def handled() -> int:  # stands in for processing: one accepted, one ignored
            with transaction(engine) as s:
                for row, status in zip(
                    s.exec(select(InboundMessage).order_by(col(InboundMessage.id))).all(),
                    (InboundStatus.accepted, InboundStatus.ignored),
                    strict=True,
                ):
                    row.status = status
                    s.add(row)
            return 2

        report = transport.sweep(mbox, handled, full=True)
        assert (report.stored, report.processed, report.acked) == (0, 2, 1)  # other mail stays put
    finally:
        mbox.close()
    assert len(list((tmp_path / "maildir" / ".Đã xử lý" / "cur").iterdir())) == 1


def test_identity_ignores_the_trace_fields_of_a_delivery() -> None:
    raw = (FIXTURES / "tin_ok.eml").read_bytes()
    again = b"Return-Path: <x@y>\r\nReceived: from mx\r\n by mx2; Fri, 20 Nov 2026\r\n" + raw
    assert identity_sha256(again) == identity_sha256(raw)
    head = header_block(raw)
    assert raw.startswith(head) and head.endswith(b"\r\n\r\n")
    assert header_identity(head, len(raw)) != identity_sha256(raw)
    assert header_identity(head, len(raw)) == header_identity(b"Received: from mx\r\n" + head, len(raw) + 19)


def test_a_from_of_thousands_of_colons_is_stored_not_a_crash(tmp_path: Path) -> None:
    """Found by tests/fuzz: the stdlib address parser recursed once per ':' and the RecursionError left
    the sweep, so that message (and every one after it) was never stored, on every sweep."""
    settings, engine = open_app(write_settings(tmp_path))
    new = tmp_path / "maildir" / "new"
    new.mkdir(parents=True)
    hostile = b"From: " + b"a:" * 3000 + b" <lan.nguyen@vanphong.tinhuy.example>\r\n"
    (new / "hostile.host").write_bytes(hostile + b"Subject: [B\xc3\x80I C\xe1\xbb\x98NG T\xc3\x81C] x\r\n\r\nx\r\n")
    shutil.copy(FIXTURES / "tin_ok.eml", new / "tin_ok.host")
    transport = Sweep(settings, engine, Store(settings.storage_dir))
    mbox = open_mailbox(settings)
    try:
        report = transport.sweep(mbox, lambda: 0, full=True)
    finally:
        mbox.close()
    assert (report.listed, report.stored) == (2, 2)
    with reading(engine) as s:
        senders = sorted(s.exec(select(InboundMessage.sender)).all())
    assert senders == ["lan.nguyen@vanphong.tinhuy.example"] * 2


def test_a_message_whose_headers_break_our_reader_is_stored_and_the_rest_go_on(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Whatever fault of ours the header reader still has (the next one fuzzing has not found): the
    message is stored with empty listing fields and recorded by the pipeline, and the batch goes on."""
    import ingest.sweep

    settings, engine = open_app(write_settings(tmp_path))
    new = tmp_path / "maildir" / "new"
    new.mkdir(parents=True)
    shutil.copy(FIXTURES / "tin_ok.eml", new / "a_breaks.host")
    (new / "b_fine.host").write_bytes(
        (FIXTURES / "tin_ok.eml").read_bytes().replace(b"Message-ID: <", b"Message-ID: <b")
    )
    real = ingest.sweep.parse_headers
    calls: list[bytes] = []

    def breaks_once(raw: bytes) -> Any:  # a bug in our reader, on the first message only
        calls.append(raw)
        if len(calls) == 1:
            raise RecursionError("maximum recursion depth exceeded")
        return real(raw)

    monkeypatch.setattr(ingest.sweep, "parse_headers", breaks_once)
    transport = Sweep(settings, engine, Store(settings.storage_dir))
    mbox = open_mailbox(settings)
    try:
        report = transport.sweep(mbox, lambda: 0, full=True)
    finally:
        mbox.close()
    assert (report.listed, report.stored) == (2, 2)
    with reading(engine) as s:
        senders = sorted(s.exec(select(InboundMessage.sender)).all())
    assert senders == ["", "lan.nguyen@vanphong.tinhuy.example"]
