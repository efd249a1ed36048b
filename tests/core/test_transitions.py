"""The draft state machine: every allowed transition, and every other pair refused.

The table below is the rule written out by hand, row = from, column = to; `transition` (the one
function that changes a draft's status) must agree with it in every cell, and so must TRANSITIONS.
The status sets beside it (REVISABLE, EDITABLE, LIVE) are checked against the same machine.
"""

from __future__ import annotations

from typing import Any, cast

import pytest
from sqlmodel import Session

from core.drafts import EDITABLE, LIVE, REVISABLE, TRANSITIONS, InvalidTransition, transition
from core.models import Draft, DraftEvent, DraftStatus

pytestmark = pytest.mark.no_database  # the PostgreSQL pass of make test leaves it out

S = DraftStatus
COLUMNS = (S.pending_review, S.proposed, S.changes_requested, S.approved, S.rejected, S.published, S.withdrawn)
Y, n = True, False

# from \ to             pending proposed changes approved rejected published withdrawn
ALLOWED: dict[str, tuple[bool, ...]] = {
    S.pending_review:    (n,      Y,       Y,      Y,       Y,       n,        n),
    S.proposed:          (Y,      n,       Y,      Y,       Y,       n,        n),
    S.changes_requested: (Y,      n,       n,      n,       Y,       n,        n),
    S.approved:          (Y,      n,       n,      n,       n,       Y,        Y),  # withdrawn: embargo
    S.published:         (n,      n,       n,      n,       n,       n,        Y),
    S.rejected:          (n,      n,       n,      n,       n,       n,        n),
    S.withdrawn:         (n,      n,       n,      n,       n,       n,        n),
}  # fmt: skip

PAIRS = [(before, after, ALLOWED[before][i]) for before in ALLOWED for i, after in enumerate(COLUMNS)]


class _Session:
    """What `transition` asks of a session (add, flush), kept in memory: the rule, not the database."""

    def __init__(self) -> None:
        self.added: list[Any] = []

    def add(self, row: Any) -> None:
        self.added.append(row)

    def flush(self) -> None:
        pass


def test_the_table_covers_every_status() -> None:
    assert set(ALLOWED) == set(COLUMNS) == set(DraftStatus) == set(TRANSITIONS)


def test_transitions_is_the_table() -> None:
    assert {
        before: {after for after, ok in zip(COLUMNS, row, strict=True) if ok} for before, row in ALLOWED.items()
    } == {before: set(targets) for before, targets in TRANSITIONS.items()}


@pytest.mark.parametrize(("before", "after", "allowed"), PAIRS, ids=[f"{b}->{a}" for b, a, _ in PAIRS])
def test_transition_allows_exactly_the_table(before: str, after: str, allowed: bool) -> None:
    draft = Draft(id=1, tracking_code="TS-2026-00001", status=before, revision=3)
    session = _Session()
    if allowed:
        event = transition(cast(Session, session), draft, after, actor="bt1", action="test")
        assert draft.status == after
        assert isinstance(event, DraftEvent) and (event.from_status, event.to_status) == (before, after)
        assert event.revision == 3 and event in session.added
    else:
        with pytest.raises(InvalidTransition) as refused:
            transition(cast(Session, session), draft, after, actor="bt1", action="test")
        assert draft.status == before and session.added == []
        assert f"cannot go from {before} to {after}" in str(refused.value)


def test_revisable_drafts_are_those_before_a_decision() -> None:
    # A contributor's reply puts the draft back in pending_review: each may go there or is there.
    assert all(status == S.pending_review or S.pending_review in TRANSITIONS[status] for status in REVISABLE)
    assert {S.pending_review, S.proposed, S.changes_requested} == REVISABLE


def test_editable_adds_the_published_correction() -> None:
    assert REVISABLE | {S.published} == EDITABLE
    assert S.approved not in EDITABLE  # approved waits for its publication


def test_live_drafts_are_those_that_can_still_change() -> None:
    assert {S.pending_review, S.proposed, S.changes_requested, S.approved, S.published} == LIVE
    assert all(not TRANSITIONS[status] for status in set(DraftStatus) - LIVE)
