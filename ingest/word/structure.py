"""The article inside a Word file: title, sa-pô (lead), byline and photo captions.

Works on the reader's intermediate form (paragraphs of formatted spans, pictures and tables), after
legacy fonts have been decoded, so every rule sees the Vietnamese text a reader sees. Pure: no XML.

What contributors send follows the press habit: a title (a Heading/Title style, or a bold or larger
first line), an italic or bold sa-pô under it, the body, photos with an "Ảnh: ..." or small italic
line under them, and the author and unit on the last line ("Nguyễn Văn An – Chi bộ ...", "Tin, ảnh:
...", "Theo ..."). Each rule below accepts only what it can tell apart from ordinary body text; when
in doubt a paragraph stays in the body, where the editor sees it.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import Final

from core.text import clean_line, fold, fold_words, syllable_count

# Span formatting bits.
BOLD: Final = 1
ITALIC: Final = 2
UNDERLINE: Final = 4
STRIKE: Final = 8
SUPERSCRIPT: Final = 16
SUBSCRIPT: Final = 32


@dataclass(slots=True)
class Span:
    """Text with one formatting. `raw` is the text as stored in the file (before legacy decoding)."""

    text: str
    fmt: int = 0
    href: str | None = None
    size: int = 0  # half-points, 0 = unknown
    raw: str = ""
    font: str | None = None  # the legacy font to decode with, if the run's font is one
    caps: bool = False


@dataclass(slots=True)
class Picture:
    sha256: str
    alt: str | None = None
    caption: str | None = None


class Break:
    """A line break inside a paragraph (w:br, w:cr)."""

    __slots__ = ()


BREAK: Final = Break()
Inline = Span | Picture | Break


@dataclass(slots=True)
class Paragraph:
    items: list[Inline] = field(default_factory=list)
    style: str = ""  # style name, casefolded
    heading: int | None = None  # outline level 1-9 from the style or the paragraph
    title_style: bool = False  # Word's "Title" style
    list_id: str | None = None
    list_level: int = 0
    ordered: bool = False
    align: str | None = None  # "center", "right", "both", ...
    role: str | None = None  # set here: "title", "lead", "byline", "caption"
    cached_text: str | None = None

    def text(self) -> str:
        """The visible text on one line (line breaks become spaces), cleaned and NFC.

        Cached: only call it once the spans are final (legacy fonts decoded).
        """
        if self.cached_text is None:
            parts = [item.text if isinstance(item, Span) else " " for item in self.items]
            self.cached_text = clean_line("".join(parts))
        return self.cached_text

    def spans(self) -> Iterator[Span]:
        return (item for item in self.items if isinstance(item, Span))

    @property
    def pictures(self) -> list[Picture]:
        return [item for item in self.items if isinstance(item, Picture)]

    @property
    def is_list(self) -> bool:
        return self.list_id is not None

    def letter_share(self, bit: int) -> float:
        """Share of the letters that carry the formatting `bit` (0.0 for a paragraph without letters)."""
        letters = marked = 0
        for span in self.spans():
            n = sum(ch.isalnum() for ch in span.text)
            letters += n
            if span.fmt & bit:
                marked += n
        return marked / letters if letters else 0.0

    def max_size(self) -> int:
        return max((s.size for s in self.spans() if s.text.strip()), default=0)


@dataclass(slots=True)
class Cell:
    blocks: list[Block]
    colspan: int = 1
    rowspan: int = 1
    header: bool = False


@dataclass(slots=True)
class Table:
    rows: list[list[Cell]]


Block = Paragraph | Table


# ---------------------------------------------------------------------------------------------
# vocabulary (matched on folded text: no case, no diacritics)

# "Tin, ảnh: ...", "Tin và ảnh: ...", "Bài, ảnh: ...", "Bài: ...", "Nguồn: ...", "(Theo ...)".
_BYLINE_PREFIX: Final = re.compile(
    r"^[\(\[]?\s*(?:"
    r"(?:tin|bai|tin bai|bai viet|anh|video|clip)\s*(?:,|va|&|\+|-|/)\s*(?:anh|video|clip|tin|bai)"
    r"(?:\s*(?:,|va)\s*(?:video|clip))?"
    r"|tin|bai|bai viet|nguon|tac gia|nguoi viet|but danh|phong vien|ctv|nhom phong vien|nhom pv|pv|bt"
    r")\s*[:：]\s*\S"
)
_BYLINE_SOURCE: Final = re.compile(r"^[\(\[]?\s*(?:theo|nguon)\s+\S")
# Words that start a unit's name: "Chi bộ Văn phòng", "Ban Tuyên giáo", "Công đoàn cơ sở ...".
_UNIT_WORDS: Final = (
    "chi bo", "dang bo", "dang uy", "ban ", "phong ", "van phong", "cong doan", "doan thanh nien",
    "doan co so", "chi doan", "hoi ", "trung tam", "truong ", "so ", "chi cuc", "cuc ", "cong ty",
    "benh vien", "uy ban", "ubnd", "ubmttq", "mat tran", "khoi ", "to ", "cum ", "bo phan", "xi nghiep",
    "ngan hang", "kho bac", "chi nhanh", "vien ", "tap doan", "tong cong ty", "bch ", "ban chi huy",
    "cong an", "quan doi", "bo chi huy", "huyen doan", "tinh doan", "thanh doan", "ctv", "phong vien",
)  # fmt: skip
# "Ảnh: ...", "Ảnh minh họa", "Hình 2: ...", "(Ảnh: ...)"
_CAPTION_PREFIX: Final = re.compile(r"^[\(\[]?\s*(?:anh|hinh|hinh anh|photo)(?:\s*\d+)?\s*[:.：\-–]\s*\S|^anh minh hoa")
_CAPTION_CREDIT: Final = re.compile(r"[\(\[]\s*anh\s*[:：][^)\]]*[\)\]]\s*[.]?$")
_CAPTION_STYLES: Final = frozenset({"caption", "chu thich", "chu thich anh", "anh", "image caption", "figure"})
_AUTO_ALT: Final = ("automatically generated", "duoc tao tu dong", "mo ta tu dong")
_HONORIFICS: Final = frozenset({"ths", "ts", "pgs", "gs", "bs", "ks", "cn", "ls", "nb", "dong chi", "d/c", "đ/c"})
_DASHES: Final = re.compile(r"\s+[–—-]\s+|\s*[,;|]\s+")


def _folded(text: str) -> str:
    return fold(text).strip()


def _head(text: str) -> str:
    """The folded start of a line: every prefix rule looks only there (long paragraphs fold slowly)."""
    return _folded(text[:_EDGE])


_EDGE: Final = 80


def is_person_name(text: str) -> bool:
    """2-6 capitalized Vietnamese syllables ("Nguyễn Văn An", "Thạch Sô Phol"), not typed in capitals."""
    words = text.split()
    if not 2 <= len(words) <= 6 or text.isupper():
        return False
    return all(word[0].isupper() and word.rstrip(".").isalpha() for word in words)


def is_unit_line(text: str) -> bool:
    folded = _head(text) + " "
    return folded.startswith(_UNIT_WORDS) and syllable_count(text) <= 20


def byline_prefixed(text: str) -> bool:
    """An explicit author or source line: "Tin, ảnh: ...", "Bài: ...", "Theo TTXVN", "(Nguồn: ...)"."""
    folded = _head(text)
    if _BYLINE_PREFIX.match(folded) and not folded.startswith(("anh:", "anh :")):
        return syllable_count(text) <= 30
    return bool(_BYLINE_SOURCE.match(folded)) and syllable_count(text) <= 12 and not text.rstrip().endswith(".")


def _name_and_unit(text: str) -> bool:
    """ "Nguyễn Văn An – Chi bộ Văn phòng", "Lê Hoa, Ban Tuyên giáo", "Minh Tâm (CTV)"."""
    head = re.split(r"\s*\(", text, maxsplit=1)[0]
    parts = _DASHES.split(text, maxsplit=1)
    if len(parts) == 2 and is_person_name(parts[0]) and (is_unit_line(parts[1]) or syllable_count(parts[1]) <= 15):
        return True
    return head != text and is_person_name(head) and syllable_count(text) <= 12


def _strip_honorific(text: str) -> str:
    words = text.split(maxsplit=1)
    if len(words) == 2 and _folded(words[0]).rstrip(".") in _HONORIFICS:
        return words[1]
    return text


def byline_like(paragraph: Paragraph) -> bool:
    """The author/unit line at the end of an article (or a line of it)."""
    text = paragraph.text()
    if not text or paragraph.heading is not None or paragraph.is_list or paragraph.pictures:
        return False
    if byline_prefixed(text):
        return True
    syllables = syllable_count(text)
    if syllables > 25 or (text.endswith(".") and syllables > 8):
        return False
    bare = _strip_honorific(text.rstrip("."))
    if is_person_name(bare) or _name_and_unit(bare):
        return True
    emphasized = paragraph.letter_share(BOLD) > 0.9 or paragraph.letter_share(ITALIC) > 0.9
    right = paragraph.align in ("right", "end")
    return (is_unit_line(text) and (emphasized or right)) or (right and syllables <= 15)


def caption_like(paragraph: Paragraph) -> bool:
    """A photo caption: Caption style, "Ảnh: ..." / "(Ảnh: X)" credit, or a short italic line."""
    text = paragraph.text()
    if not text or paragraph.heading is not None or paragraph.is_list or paragraph.pictures:
        return False
    folded = _head(text)
    syllables = syllable_count(text)
    if byline_prefixed(text) and not _CAPTION_PREFIX.match(folded):
        return False
    if paragraph.style in _CAPTION_STYLES or _folded(paragraph.style) in _CAPTION_STYLES:
        return True
    credit = _CAPTION_CREDIT.search(_folded(text[-_EDGE:]))
    if (_CAPTION_PREFIX.match(folded) or credit) and syllables <= 80:
        return True
    return paragraph.letter_share(ITALIC) > 0.9 and syllables <= 50


def clean_alt(alt: str | None) -> str | None:
    """Alt text as the author wrote it; Word's machine descriptions ("... automatically generated") are dropped."""
    text = clean_line(alt)
    if not text or any(marker in _folded(text) for marker in _AUTO_ALT):
        return None
    return text


# ---------------------------------------------------------------------------------------------
# captions


def attach_captions(blocks: list[Block]) -> None:
    """Give each picture the caption line right under it, and mark that line as role "caption".

    Runs over every block list (body, table cells): photos are often laid out in a table with the
    caption in the cell below. A caption inside the picture's own paragraph (after a
    line break) is split off by the renderer; here the next paragraph is considered.
    """
    for index, block in enumerate(blocks):
        if isinstance(block, Table):
            for row in block.rows:
                for cell in row:
                    attach_captions(cell.blocks)
            _attach_in_table(block)
            continue
        if block.role is not None or not block.items or not isinstance(_last_visible(block), Picture):
            continue
        picture = _last_visible(block)
        nxt = _next_paragraph(blocks, index)
        if nxt is not None and nxt.role is None and caption_like(nxt) and not _is_last_line_byline(blocks, nxt):
            assert isinstance(picture, Picture)
            picture.caption = nxt.text()
            nxt.role = "caption"


def _attach_in_table(table: Table) -> None:
    """A photo in a cell with its caption in the cell right below (same column)."""
    for r, row in enumerate(table.rows[:-1]):
        below = table.rows[r + 1]
        for c, cell in enumerate(row):
            if c >= len(below) or len(cell.blocks) != 1 or not isinstance(cell.blocks[0], Paragraph):
                continue
            picture = _last_visible(cell.blocks[0])
            if not isinstance(picture, Picture) or picture.caption:
                continue
            paragraphs = [b for b in below[c].blocks if isinstance(b, Paragraph) and b.text()]
            if len(paragraphs) == 1 and paragraphs[0].role is None and caption_like(paragraphs[0]):
                picture.caption = paragraphs[0].text()
                paragraphs[0].role = "caption"


def _last_visible(paragraph: Paragraph) -> Inline | None:
    for item in reversed(paragraph.items):
        if isinstance(item, Span) and not item.text.strip():
            continue
        if item is BREAK:
            continue
        return item
    return None


def _next_paragraph(blocks: Sequence[Block], index: int) -> Paragraph | None:
    for block in blocks[index + 1 :]:
        if isinstance(block, Table):
            return None
        if block.items and (block.text() or block.pictures):
            return block
    return None


def _position(blocks: Sequence[Block], block: Block) -> int:
    """Index of this very block (list.index would compare paragraphs by value)."""
    return next(i for i, candidate in enumerate(blocks) if candidate is block)


def _is_last_line_byline(blocks: Sequence[Block], paragraph: Paragraph) -> bool:
    """ "Tin, ảnh: ..." right under the last photo is the byline, not its caption."""
    rest = [b for b in blocks[_position(blocks, paragraph) + 1 :] if not isinstance(b, Paragraph) or b.text()]
    return not rest and byline_prefixed(paragraph.text())


# ---------------------------------------------------------------------------------------------
# title, lead, byline


@dataclass
class Parts:
    title: str | None = None
    lead: str | None = None
    byline: str | None = None


def body_size(blocks: Sequence[Block]) -> int:
    """The most common font size (half-points) of the body text, by letters."""
    sizes: Counter[int] = Counter()
    for block in blocks:
        if isinstance(block, Paragraph):
            for span in block.spans():
                sizes[span.size] += len(span.text)
    return sizes.most_common(1)[0][0] if sizes else 0


def _text_paragraphs(blocks: Sequence[Block]) -> list[int]:
    """Indexes of the top-level paragraphs with text (tables and picture-only lines are skipped)."""
    return [i for i, b in enumerate(blocks) if isinstance(b, Paragraph) and b.role is None and b.text()]


def _title_like(paragraph: Paragraph, base_size: int) -> bool:
    if paragraph.is_list or (paragraph.pictures and not paragraph.text()):
        return False
    text = paragraph.text()
    syllables = syllable_count(text)
    if not text or syllables > 60 or byline_prefixed(text):
        return False
    if paragraph.title_style or paragraph.heading is not None:
        return True
    if syllables < 2:
        return False
    if paragraph.letter_share(BOLD) > 0.9:
        return True
    size = paragraph.max_size()
    if base_size and size >= base_size + 2:
        return True
    letters = [ch for ch in text if ch.isalpha()]
    return bool(letters) and text.isupper() and paragraph.align == "center"


def _continues_title(first: Paragraph, second: Paragraph) -> bool:
    """A title typed over two centered lines of the same look."""
    if second.is_list or second.pictures or first.text().endswith((".", ":", "!", "?")):
        return False
    if first.align != "center" or second.align != "center":
        return False
    same_look = (first.style, first.heading, first.title_style, first.max_size()) == (
        second.style,
        second.heading,
        second.title_style,
        second.max_size(),
    ) and (first.letter_share(BOLD) > 0.9) == (second.letter_share(BOLD) > 0.9)
    return (
        same_look
        and syllable_count(second.text()) <= 25
        and (first.heading is not None or first.title_style or first.letter_share(BOLD) > 0.9)
    )


def _lead_like(paragraph: Paragraph) -> bool:
    if paragraph.heading is not None or paragraph.title_style or paragraph.is_list or paragraph.pictures:
        return False
    text = paragraph.text()
    syllables = syllable_count(text)
    if not 8 <= syllables <= 200 or byline_prefixed(text) or text.isupper() or _furniture(paragraph):
        return False
    return paragraph.letter_share(ITALIC) > 0.9 or paragraph.letter_share(BOLD) > 0.9


def find_parts(blocks: list[Block]) -> Parts:
    """Mark title, lead and byline paragraphs (their `role`) at the top level and return their text."""
    parts = Parts()
    candidates = _text_paragraphs(blocks)
    if not candidates:
        return parts
    base_size = body_size(blocks)
    title_at = _find_title(blocks, candidates, base_size)
    after = 0
    if title_at:
        first = blocks[title_at[0]]
        assert isinstance(first, Paragraph)
        texts = []
        for i in title_at:
            block = blocks[i]
            assert isinstance(block, Paragraph)
            block.role = "title"
            texts.append(block.text())
        parts.title = clean_line(" ".join(texts))
        after = title_at[-1] + 1
        lead = _find_lead(blocks, after)
        if lead is not None:
            lead.role = "lead"
            parts.lead = lead.text()
    parts.byline = _find_byline(blocks, after)
    return parts


def _find_title(blocks: Sequence[Block], candidates: list[int], base_size: int) -> list[int]:
    """The title's paragraph(s): an explicit Title style, else a Heading 1, among the first lines;
    else the first line that is not letterhead furniture, if it looks like a title itself."""
    # Candidates are paragraph indexes (_text_paragraphs): the isinstance only tells the checker.
    opening = [i for i in candidates[:8] if isinstance(b := blocks[i], Paragraph) and not _furniture(b)]
    if not opening:
        return []
    for predicate in (lambda p: p.title_style, lambda p: p.heading == 1):
        for i in opening[:3]:
            block = blocks[i]
            if isinstance(block, Paragraph) and predicate(block) and _title_like(block, base_size):
                return _with_continuation(blocks, candidates, i)
    first = blocks[opening[0]]
    if isinstance(first, Paragraph) and (first.heading or 1) <= 3 and _title_like(first, base_size):
        return _with_continuation(blocks, candidates, opening[0])
    if isinstance(first, Paragraph) and _plain_title(first, blocks, candidates):
        return [opening[0]]
    return []


def _plain_title(first: Paragraph, blocks: Sequence[Block], candidates: list[int]) -> bool:
    """A title typed without any formatting: a short first line, no final period, and a longer one after."""
    text = first.text()
    syllables = syllable_count(text)
    if first.is_list or first.pictures or not 3 <= syllables <= 30 or text.endswith((".", ":", ";", ",")):
        return False
    if byline_prefixed(text) or caption_like(first):
        return False
    at = candidates.index(_position(blocks, first))
    following = [blocks[i] for i in candidates[at + 1 : at + 3]]
    return any(isinstance(b, Paragraph) and syllable_count(b.text()) > syllables for b in following)


# The national motto and the Party's name head official papers; they are never an article's title.
_MOTTO: Final = ("cong hoa xa hoi chu nghia viet nam", "doc lap tu do hanh phuc", "dang cong san viet nam")
_CONTENTS: Final = frozenset({"muc luc", "table of contents", "contents", "noi dung"})
_DATE_LINE: Final = re.compile(r"^[^,]{2,40}, ngay [\d. …_]*thang")
_NUMBER_LINE: Final = re.compile(r"^(?:so|ky hieu)\s*[:.]|^kinh gui\b")


def _furniture(paragraph: Paragraph) -> bool:
    """Letterhead lines: the motto, "Số: 12/QĐ-...", "Trà Vinh, ngày ... tháng ...", "Kính gửi: ...", "*****"."""
    text = paragraph.text()
    words = fold_words(text[: 2 * _EDGE])
    if syllable_count(text) < 2 or any(motto in words for motto in _MOTTO) or words in _CONTENTS:
        return True
    if paragraph.style.startswith("toc"):  # "TOC Heading", "toc 1": a table of contents
        return True
    folded = _head(text)
    return bool(_DATE_LINE.match(folded) or _NUMBER_LINE.match(folded))


def _with_continuation(blocks: Sequence[Block], candidates: list[int], i: int) -> list[int]:
    at = candidates.index(i)
    if at + 1 < len(candidates) and candidates[at + 1] == i + 1:
        first, second = blocks[i], blocks[i + 1]
        if isinstance(first, Paragraph) and isinstance(second, Paragraph) and _continues_title(first, second):
            return [i, i + 1]
    return [i]


def _find_lead(blocks: Sequence[Block], start: int) -> Paragraph | None:
    """The first text paragraph after the title (a photo and its caption may come between)."""
    for block in blocks[start:]:
        if isinstance(block, Table):
            return None
        if block.role == "caption" or (block.pictures and not block.text()) or not block.text():
            continue
        return block if block.role is None and _lead_like(block) else None
    return None


def _find_byline(blocks: list[Block], start: int) -> str | None:
    """The author/unit line(s) at the end, or an explicit "Tin, ảnh: ..." line under the title."""
    tail = [i for i in _text_paragraphs(blocks) if i >= start]
    if not tail:
        return None
    last = blocks[tail[-1]]
    assert isinstance(last, Paragraph)
    lines: list[Paragraph] = []
    if _nothing_but_pictures_after(blocks, tail[-1]):
        previous = blocks[tail[-2]] if len(tail) >= 2 and tail[-2] == tail[-1] - 1 else None
        if isinstance(previous, Paragraph) and _byline_pair(previous, last):
            lines = [previous, last]
        elif byline_like(last):
            lines = [last]
    if lines:
        for line in lines:
            line.role = "byline"
        return " – ".join(line.text() for line in lines)
    # Some put "Tin, ảnh: ..." right under the title or the sa-pô.
    for i in tail[:2]:
        block = blocks[i]
        assert isinstance(block, Paragraph)
        if block.heading is None and byline_prefixed(block.text()):
            block.role = "byline"
            return block.text()
    return None


def _nothing_but_pictures_after(blocks: Sequence[Block], index: int) -> bool:
    for block in blocks[index + 1 :]:
        if isinstance(block, Table):
            return False
        if block.text() and block.role != "caption":
            return False
    return True


def _byline_pair(first: Paragraph, second: Paragraph) -> bool:
    """ "Nguyễn Văn An" over "Chi bộ Văn phòng", or over any short line aligned like it (right/center)."""
    a, b = first.text(), second.text()
    if first.heading is not None or first.is_list or first.pictures or second.is_list or a.endswith("."):
        return False
    if not (is_person_name(_strip_honorific(a)) or byline_prefixed(a)):
        return False
    if is_unit_line(b):
        return True
    aligned = first.align == second.align and first.align in ("right", "center", "end")
    return aligned and syllable_count(b) <= 12 and not b.endswith(".")
