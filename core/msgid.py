"""Message-IDs: the one check a contributor's msg-id passes before we store it or send it back.

A Message-ID, In-Reply-To or References value comes from the sender and is echoed in our replies'
In-Reply-To/References. Only a plain RFC 5322 msg-id is kept: printable ASCII, no spaces, no RFC 2047
encoded word (one can decode to CRLF, and Python before 3.11.10/3.12.5 writes that raw into an
outgoing header, CVE-2024-6923), bounded length. Anything else is dropped: replies still thread by
the tracking code in our subjects.
"""

from __future__ import annotations

import re

MAX_MSG_ID = 250  # RFC 5322 allows 998 per line; real ids are well under 100 characters
# id-left "@" id-right: dot-atom-text, or a bracketed domain literal on the right (no-fold-literal).
_ATOM = r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+"
_DOT_ATOM = rf"{_ATOM}(?:\.{_ATOM})*"
_MSG_ID = re.compile(rf"{_DOT_ATOM}@(?:{_DOT_ATOM}|\[[!-Z^-~]*\])")


def clean_msg_id(value: str | None) -> str | None:
    """The bare msg-id (without <>) when `value` is one strict `<left@right>` (brackets optional), else None."""
    if not value:
        return None
    text = value.strip()
    if text.startswith("<") and text.endswith(">"):
        text = text[1:-1]
    if len(text) > MAX_MSG_ID or "=?" in text or not _MSG_ID.fullmatch(text):
        return None
    return text


def angled(value: str | None) -> str | None:
    """`<msg-id>` ready for a header, or None when the value is not a safe msg-id."""
    bare = clean_msg_id(value)
    return f"<{bare}>" if bare else None
