"""The article as the portal will show it, the body as the editor edits it, and word-level diffs.

Everything that leaves `compose` has been through `core.html.sanitize` at render time, even though the
stored body was sanitized already: it is the one HTML the templates mark |safe.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import lxml.html
from lxml import etree

from core.html import MEDIA_SRC, html_to_text, sanitize
from core.text import nfc

__all__ = ["Photo", "Piece", "compose", "editable_body", "submitted_body", "word_diff"]


@dataclass(frozen=True)
class Photo:
    sha256: str
    caption: str | None = None
    alt: str | None = None


def _sha_of(src: str | None) -> str | None:
    if not src or not MEDIA_SRC.fullmatch(src):
        return None
    return src.removeprefix("/media/")[:64]


def compose(body_html: str, photos: Sequence[Photo]) -> str:
    """The body with the photos the editors kept, each with its current caption.

    Word files place photos (figures) in the text; a photo the editors dropped leaves the text, an
    edited caption replaces the one from the file, and photos sent beside the file (not in the text)
    follow it. The result is sanitized again.
    """
    kept = {p.sha256: p for p in photos}
    root = lxml.html.fragment_fromstring(sanitize(body_html) or "<p></p>", create_parent="div")
    placed: set[str] = set()
    for img in list(root.iter("img")):
        sha = _sha_of(img.get("src"))
        figure = img.getparent() if img.getparent() is not None and img.getparent().tag == "figure" else None
        if sha is None or sha not in kept or sha in placed:
            _remove(figure if figure is not None else img)
            continue
        placed.add(sha)
        if figure is not None:
            _set_caption(figure, kept[sha].caption)
    for photo in photos:
        if photo.sha256 not in placed:
            root.append(_figure(photo))
    inner = (root.text or "") + "".join(etree.tostring(child, encoding="unicode", method="html") for child in root)
    return sanitize(inner)


def _remove(element: Any) -> None:
    parent = element.getparent()
    if parent is None:
        return
    # Keep the text that follows the element (lxml stores it on the element as .tail).
    if element.tail:
        previous = element.getprevious()
        if previous is not None:
            previous.tail = (previous.tail or "") + element.tail
        else:
            parent.text = (parent.text or "") + element.tail
    parent.remove(element)


def _set_caption(figure: Any, caption: str | None) -> None:
    for old in figure.findall("figcaption"):
        _remove(old)
    if caption:
        fc = etree.SubElement(figure, "figcaption")
        fc.text = caption


def _figure(photo: Photo) -> Any:
    figure = etree.Element("figure")
    img = etree.SubElement(figure, "img")
    img.set("src", f"/media/{photo.sha256}")
    img.set("alt", photo.alt or photo.caption or "")
    _set_caption(figure, photo.caption)
    return figure


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
