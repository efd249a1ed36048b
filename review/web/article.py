"""The body as the editor edits it, and word-level diffs. The article as readers see it is core.article."""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterable
from dataclasses import dataclass

from core.html import html_to_text
from core.text import nfc

__all__ = ["Piece", "editable_body", "submitted_body", "word_diff"]


# ------------------------------------------------------------------------------ the body editor
_BLOCK_END = re.compile(r"(</(?:p|h[2-6]|li|ul|ol|table|thead|tbody|tr|figure|blockquote|caption)>|<br>|<hr>)")


def editable_body(body_html: str) -> str:
    """The stored body with one block per line, so a plain textarea of HTML stays readable."""
    return _BLOCK_END.sub(r"\1\n", body_html).rstrip("\n")


def submitted_body(text: str, shown: str) -> str | None:
    """The body to save from the textarea, or None when the editor did not touch it (so that
    saving other fields does not record a body change made of line breaks only)."""
    text = nfc(text.replace("\r\n", "\n"))
    if text.strip() == shown.strip():
        return None
    return text


# ------------------------------------------------------------------------------------ word diff
@dataclass(frozen=True)
class Piece:
    op: str  # "same", "del", "ins"
    text: str


_TOKEN = re.compile(r"\n|[^\s]+")


def _tokens(text: str) -> list[str]:
    return _TOKEN.findall(nfc(text))


def word_diff(before: str, after: str) -> list[Piece]:
    """Word-level difference of two texts (lines kept), merged into runs of the same kind."""
    a, b = _tokens(before), _tokens(after)
    ops: list[tuple[str, str]] = []
    for tag, i1, i2, j1, j2 in difflib.SequenceMatcher(None, a, b, autojunk=False).get_opcodes():
        if tag == "equal":
            ops += [("same", t) for t in a[i1:i2]]
        else:
            ops += [("del", t) for t in a[i1:i2]]
            ops += [("ins", t) for t in b[j1:j2]]
    return _merge(ops)


def _merge(ops: Iterable[tuple[str, str]]) -> list[Piece]:
    pieces: list[Piece] = []
    previous = "\n"
    for op, token in ops:
        sep = "" if token == "\n" or previous == "\n" else " "  # noqa: S105 -- a diff token, not a password
        previous = token
        if pieces and pieces[-1].op == op:
            pieces[-1] = Piece(op, pieces[-1].text + sep + token)
            continue
        if sep:  # the space between two runs stays outside the marks
            if pieces and pieces[-1].op == "same":
                pieces[-1] = Piece("same", pieces[-1].text + sep)
            elif op == "same":
                token = sep + token
            else:
                pieces.append(Piece("same", sep))
        pieces.append(Piece(op, token))
    return pieces


def text_of(body_html: str) -> str:
    return html_to_text(body_html)
