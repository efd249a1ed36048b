"""Generated and damaged mail through the real intake: nothing is left unrecorded, nothing escapes.

Each example is a batch of messages dropped into a real Maildir and taken by one sweep of the real
Ingestor (Word files converted in its sandboxed process pool, .doc through LibreOffice), on one office
per test module: starting intake is the cost, so the examples share it. After every sweep, each message
of the batch has a row with a final status (accepted, or ignored / quarantined with a reason code), none
is an internal error (our bug, caught by intake's safety net), a quarantined one keeps its exact raw
copy, and what stays in the watched folder is only what was ignored.

`make test` runs a few examples (the `fuzz-quick` profile); `make fuzz` (TOASOAN_FUZZ=1) runs many.
"""

from __future__ import annotations

import itertools
import os
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from hypothesis import event, given, settings
from hypothesis import strategies as st
from sqlalchemy.engine import Engine
from sqlmodel import col, select

from core.db import reading
from core.settings import Settings
from core.storage import sha256_hex
from ingest import spool
from ingest.mailbox import _read_header_block, open_mailbox
from ingest.models import InboundMessage, InboundStatus, Reason
from ingest.service import Ingestor
from ingest.sweep import header_identity, identity_sha256
from ingest.word.pool import shutdown_pool
from tests import corpus as real
from tests.appkit import open_app, write_settings
from tests.fuzz import strategies as gen

# A doubled zip member is one of the mutations; batches of large messages have large reprs: both expected.
pytestmark = [
    pytest.mark.filterwarnings("ignore:Duplicate name:UserWarning"),
    pytest.mark.filterwarnings("ignore:Generating overly large repr:hypothesis.errors.HypothesisWarning"),
]
MAX_MESSAGE_BYTES = 1_000_000
PROFILE = settings.get_profile("fuzz" if os.environ.get("TOASOAN_FUZZ") else "fuzz-quick")
FINAL = {InboundStatus.accepted, InboundStatus.ignored, InboundStatus.quarantined}


@dataclass
class Office:
    settings: Settings
    engine: Engine
    ingestor: Ingestor
    maildir: Path
    names: Iterator[int]


@pytest.fixture(scope="module")
def office(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Office]:
    root = tmp_path_factory.mktemp("fuzz")
    # LibreOffice for .doc/.rtf/.odt; a short conversion timeout keeps a pathological file to seconds; a
    # message limit some generated messages pass, so the header-only path is taken too.
    ingest = {"soffice": "soffice", "conversion_timeout_seconds": 30, "max_message_bytes": MAX_MESSAGE_BYTES}
    config = write_settings(root, ingest=ingest)
    settings_, engine = open_app(config)
    try:
        yield Office(settings_, engine, Ingestor(settings_, engine), root / "maildir", itertools.count())
    finally:
        shutdown_pool()
        engine.dispose()


def intake(office: Office, raws: list[bytes]) -> None:
    """Deliver the batch, sweep once, and check the property for every message of it."""
    new = office.maildir / "new"
    new.mkdir(parents=True, exist_ok=True)
    identities = set()
    for raw in raws:
        n = next(office.names)
        path = new / f"{n}.fuzz"
        path.write_bytes(unique_message_id(raw, n))
        identities.add(identity(path))
    mbox = open_mailbox(office.settings)
    try:
        office.ingestor.sweep(mbox, full=True)  # an exception escaping here fails the example
    finally:
        mbox.close()
    check_recorded(office, identities)


_MESSAGE_ID = re.compile(rb"(?im)^Message-ID:[^\r\n]*")


def unique_message_id(raw: bytes, n: int) -> bytes:
    """The message with a Message-ID of its own, except one in eight: the examples reuse the fixtures
    and Hypothesis repeats values, and the duplicate step would otherwise stop most messages early."""
    if sha256_hex(raw)[0] in "01":
        return raw
    return _MESSAGE_ID.sub(f"Message-ID: <fuzz-{n}@tinhuy.example>".encode(), raw, count=1)


def identity(path: Path) -> str:
    """The row's identity as the sweep computes it: a message over the limit is known by its header
    block, read as the Maildir reads it."""
    size = path.stat().st_size
    if size <= MAX_MESSAGE_BYTES:
        return identity_sha256(path.read_bytes())
    return header_identity(_read_header_block(path), size)


def check_recorded(office: Office, identities: set[str]) -> None:
    with reading(office.engine) as s:
        rows = s.exec(select(InboundMessage).where(col(InboundMessage.sha256).in_(identities))).all()
    assert {r.sha256 for r in rows} == identities, "a message was left unrecorded"
    for row in rows:
        event(f"{row.status} {row.reason or ''}".strip())  # how deep the batches go: --hypothesis-show-statistics
        assert row.status in FINAL, (row.id, row.status)
        if row.status == InboundStatus.accepted:
            assert row.draft_ids, row.id
        else:
            assert row.reason in set(Reason), (row.id, row.status, row.reason)
        assert row.reason != Reason.internal_error, f"inbound {row.id}: {row.detail}"
        if row.status == InboundStatus.quarantined:
            kept = spool.path(office.ingestor.store, row.raw_sha256)
            assert kept.is_file() and sha256_hex(kept.read_bytes()) == row.raw_sha256, row.id
    status = {r.sha256: r.status for r in rows}
    for sub in ("new", "cur"):  # only ignored mail stays in the watched folder; cleared for the next batch
        for path in (office.maildir / sub).iterdir():
            assert status.get(identity(path)) == InboundStatus.ignored, path.name
            path.unlink()


@settings(PROFILE)
@given(batch=st.lists(gen.mime_message(), min_size=1, max_size=8))
def test_generated_mime_messages_are_all_recorded(office: Office, batch: list[bytes]) -> None:
    intake(office, batch)


@settings(PROFILE)
@given(batch=st.lists(gen.submission_with(gen.docx_file()), min_size=1, max_size=6))
def test_generated_word_files_are_all_recorded(office: Office, batch: list[bytes]) -> None:
    intake(office, batch)


@settings(PROFILE)
@given(
    batch=st.lists(
        st.one_of(
            gen.submission_with(gen.mutated(gen.word_fixtures())),
            gen.mutated(gen.mail_fixtures()).map(gen.with_marker),
            gen.mutated(gen.mail_fixtures()),
        ),
        min_size=1,
        max_size=6,
    )
)
def test_damaged_fixtures_and_corpus_are_all_recorded(office: Office, batch: list[bytes]) -> None:
    intake(office, batch)


def _external_batch() -> st.SearchStrategy[list[bytes]]:
    files, emails = gen.external_sources()
    if not files:
        return st.just([])  # the test skips
    one = gen.submission_with(gen.mutated(files))
    if emails:
        one = st.one_of(one, gen.mutated(emails).map(gen.with_marker))
    return st.lists(one, min_size=1, max_size=6)


@pytest.mark.skipif(not real.external_present(), reason=real.SKIP_REASON)
@settings(PROFILE)
@given(batch=_external_batch())
def test_damaged_external_corpus_is_all_recorded(office: Office, batch: list[bytes]) -> None:
    intake(office, batch)
