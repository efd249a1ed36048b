"""The one HTML policy: every HTML fragment the project stores goes through `sanitize`.

Article bodies come from contributors' Word files and emails, so they are untrusted. The policy keeps
the semantic tags an article needs (paragraphs, headings h2-h6, lists, tables, emphasis, links,
figures) and nothing that can run code, restyle the portal or load something from elsewhere:
no scripts, styles, classes, ids, event handlers, iframes or forms; links only to http, https and
mailto; images only from the project's own content-addressed store ("/media/<sha256>").

Bump SANITIZER_VERSION whenever the policy changes: stored rows carry the version they were cleaned
with, so they can be re-sanitized.
"""

from __future__ import annotations

import re
from html.parser import HTMLParser
from typing import Final

import nh3

from core.text import nfc

__all__ = ["ALLOWED_ATTRIBUTES", "ALLOWED_TAGS", "SANITIZER_VERSION", "html_to_text", "sanitize"]

SANITIZER_VERSION: Final = 1

ALLOWED_TAGS: Final = frozenset(
    {
        "p", "br", "hr", "h2", "h3", "h4", "h5", "h6", "blockquote",
        "ul", "ol", "li",
        "table", "caption", "thead", "tbody", "tfoot", "tr", "th", "td",
        "strong", "em", "b", "i", "u", "s", "sub", "sup",
        "a", "figure", "figcaption", "img",
    }
)  # fmt: skip
ALLOWED_ATTRIBUTES: Final = {
    "a": frozenset({"href", "title"}),
    "img": frozenset({"src", "alt", "width", "height"}),
    "td": frozenset({"colspan", "rowspan"}),
    "th": frozenset({"colspan", "rowspan", "scope"}),
    "ol": frozenset({"start", "type"}),
}
# Images are served by the project itself; an outside source would be a tracking pixel at best.
MEDIA_SRC: Final = re.compile(r"/media/[0-9a-f]{64}(?:\.[a-z0-9]{1,5})?")
_NUMBER: Final = re.compile(r"[1-9][0-9]{0,3}")
_NUMERIC_ATTRIBUTES: Final = frozenset({"colspan", "rowspan", "start", "width", "height"})


def _relative_url(url: str) -> str | None:
    """Relative URLs are refused, except the project's own media ("//host" counts as relative here)."""
    return url if MEDIA_SRC.fullmatch(url) else None


def _attribute(tag: str, name: str, value: str) -> str | None:
    if tag == "img" and name == "src":
        return value if MEDIA_SRC.fullmatch(value) else None
    if name in _NUMERIC_ATTRIBUTES:
        return value if _NUMBER.fullmatch(value.strip()) else None
    if tag == "ol" and name == "type":
        return value if value in ("1", "a", "A", "i", "I") else None
    if name == "scope":
        return value if value in ("row", "col", "rowgroup", "colgroup") else None
    return value


_CLEANER: Final = nh3.Cleaner(
    tags=set(ALLOWED_TAGS),
    clean_content_tags={"script", "style", "template", "noscript", "iframe", "object", "embed", "svg", "math"},
    attributes={tag: set(names) for tag, names in ALLOWED_ATTRIBUTES.items()},
    attribute_filter=_attribute,
    strip_comments=True,
    link_rel="noopener noreferrer",
    url_schemes={"http", "https", "mailto"},
    url_relative=_relative_url,
)


_MAX_PASSES: Final = 4


def sanitize(html: str) -> str:
    """The stored form of an HTML fragment: the policy above applied, NFC. Idempotent."""
    if not html:
        return ""
    # NFC first and last: normalization can merge characters, never create markup.
    out = nfc(_CLEANER.clean(nfc(html)))
    if out == html:  # already the stored form (most calls): cleaning it again gives it back
        return out
    # Misnested input (an <a> around a <table>, ...) can serialize to markup that an HTML parser
    # rebuilds differently; cleaning to a fixed point makes sanitize(sanitize(x)) == sanitize(x).
    for _ in range(_MAX_PASSES):
        again = nfc(_CLEANER.clean(out))
        if again == out:
            break
        out = again
    return out


# ---------------------------------------------------------------------------------------------
# HTML -> text

# Tags that end a line: the article's blocks and those of the HTML emails contributors write.
_BLOCK_TAGS: Final = frozenset(
    {
        "p", "div", "br", "hr", "h1", "h2", "h3", "h4", "h5", "h6", "blockquote", "pre",
        "ul", "ol", "li", "dl", "dt", "dd", "table", "caption", "thead", "tbody", "tfoot", "tr",
        "figure", "figcaption", "section", "article", "aside", "header", "footer", "main", "nav",
        "address", "center", "fieldset", "form",
    }
)  # fmt: skip
_CELL_TAGS: Final = frozenset({"td", "th"})
_SKIP_TAGS: Final = frozenset({"script", "style", "template", "noscript", "head", "title"})
_SPACES: Final = re.compile(r"[ \t\r\f\v\u00a0]+")
_SOURCE_SPACE: Final = re.compile(r"\s+")


class _TextCollector(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self.skipping = 0
        self.in_pre = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "body":  # a <head> an email never closed ends here, as browsers end it
            self.skipping = 0
        if tag in _SKIP_TAGS:
            self.skipping += 1
        elif tag in _BLOCK_TAGS:
            if tag == "pre":
                self.in_pre += 1
            self.parts.append("\n")
        elif tag in _CELL_TAGS:
            self.parts.append("\t")

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in _BLOCK_TAGS:
            self.parts.append("\n")

    def handle_endtag(self, tag: str) -> None:
        if tag in _SKIP_TAGS:
            self.skipping = max(0, self.skipping - 1)
        elif tag in _BLOCK_TAGS:
            if tag == "pre":
                self.in_pre = max(0, self.in_pre - 1)
            self.parts.append("\n")
        elif tag in _CELL_TAGS:
            self.parts.append("\t")

    def handle_data(self, data: str) -> None:
        if not self.skipping:
            # A line break in the source is a space (only blocks and <br> end a line), except in <pre>.
            self.parts.append(data if self.in_pre else _SOURCE_SPACE.sub(" ", data))


def html_to_text(html: str) -> str:
    """Plain NFC text of HTML (an article's body, an email's, a web page): one line per block, table
    cells separated by spaces, source line breaks kept only inside <pre>."""
    if not html:
        return ""
    collector = _TextCollector()
    try:
        collector.feed(html)
        collector.close()
        text = "".join(collector.parts)
    except Exception:  # a declaration the parser refuses: strip tags crudely rather than fail the email
        text = re.sub(r"<[^>]*>", "\n", html)
    lines = (_SPACES.sub(" ", line).strip() for line in text.split("\n"))
    return nfc("\n".join(line for line in lines if line))
