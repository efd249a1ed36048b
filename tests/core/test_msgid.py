"""The one Message-ID bracket helper: bare for what we store of a contributor's, angled for headers."""

from __future__ import annotations

import pytest

from core.msgid import MAX_MSG_ID, angled, clean_msg_id

pytestmark = pytest.mark.no_database  # the PostgreSQL pass of make test leaves it out


@pytest.mark.parametrize(
    ("value", "bare"),
    [
        ("<abc.123@mail.gmail.com>", "abc.123@mail.gmail.com"),
        ("abc.123@mail.gmail.com", "abc.123@mail.gmail.com"),  # some clients omit the brackets
        ("  <x@[192.0.2.1]>  ", "x@[192.0.2.1]"),
        ("<no-at-sign>", None),
        ("<a b@example.org>", None),
        ("<=?utf-8?q?x=0D=0A?=@example.org>", None),  # an encoded word could decode to CRLF
        (f"<{'a' * MAX_MSG_ID}@example.org>", None),
        ("", None),
        (None, None),
    ],
)
def test_clean_and_angled(value: str | None, bare: str | None) -> None:
    assert clean_msg_id(value) == bare
    assert angled(value) == (f"<{bare}>" if bare else None)
    assert angled(bare) == angled(value) and clean_msg_id(angled(value)) == bare  # either form in, same out
