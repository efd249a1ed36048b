"""The article as readers see it: one renderer for the review preview, the static site and WordPress.

Everything that leaves `compose` has been through `core.html.sanitize` at render time, even though the
stored body was sanitized already: it is the one HTML the templates mark |safe.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from html import escape
from typing import Any

import lxml.html
from lxml import etree

from core.html import MEDIA_SRC, sanitize

__all__ = ["MediaUrl", "Photo", "compose", "media_path"]

# sha256 -> the URL a reader's page loads the photo from
MediaUrl = Callable[[str], str]
# an image source of the store's form, as the sanitizer leaves it (double-quoted attribute)
_MEDIA_ATTR = re.compile(r'src="/media/([0-9a-f]{64})(?:\.[a-z0-9]{1,5})?"')


@dataclass(frozen=True)
class Photo:
    sha256: str
    caption: str | None = None
    alt: str | None = None


def _sha_of(src: str | None) -> str | None:
    if not src or not MEDIA_SRC.fullmatch(src):
        return None
    return src.removeprefix("/media/")[:64]


def media_path(sha256: str) -> str:
    """Where the review UI serves a stored image: the form the stored bodies use."""
    return f"/media/{sha256}"


def compose(body_html: str, photos: Sequence[Photo], media_url: MediaUrl = media_path) -> str:
    """The body with the photos the editors kept, each with its current caption.

    Word files place photos (figures) in the text; a photo the editors dropped leaves the text, an
    edited caption replaces the one from the file, and photos sent beside the file (not in the text)
    follow it. The result is sanitized again. `media_url(sha256)` says where the reader's page finds
    each photo (the review UI, the static site and WordPress each serve them elsewhere); it is applied
    after sanitizing, so the sanitizer's rule for image sources stays the store's own form.
    """
    clean = sanitize(body_html)
    if not photos and "<img" not in clean:  # nothing to place or drop: the sanitized body is the article
        return clean
    kept = {p.sha256: p for p in photos}
    root = lxml.html.fragment_fromstring(clean or "<p></p>", create_parent="div")
    placed: set[str] = set()
    for img in list(root.iter("img")):
        sha = _sha_of(img.get("src"))
        parent = img.getparent()
        figure = parent if parent is not None and parent.tag == "figure" else None
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
    clean = sanitize(inner)
    if media_url is media_path:
        return clean
    return _MEDIA_ATTR.sub(lambda m: f'src="{escape(media_url(m.group(1)), quote=True)}"', clean)


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
    img.set("src", media_path(photo.sha256))
    img.set("alt", photo.alt or photo.caption or "")
    _set_caption(figure, photo.caption)
    return figure
