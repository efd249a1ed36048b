"""Word (.docx, .docm) -> article: semantic, sanitized HTML plus title, lead, byline and images.

python-docx opens the package (parts, relationships, image parts); the body is then read straight from
its lxml tree in one pass, never through python-docx's per-paragraph/per-run objects, which costs too
much on documents made of thousands of tiny runs. The pass builds a small intermediate form
(`ingest.word.structure`: paragraphs of formatted spans, pictures, tables); legacy Vietnamese fonts
are decoded on it with one verdict per document; structure detection marks title, lead, byline and
captions; the renderer writes HTML and `core.html.sanitize` cleans it.

What Word shows is what we keep: tracked insertions in, deletions out; field results in, field codes
out; content controls, smart tags, custom XML and text boxes (DrawingML and VML) read; hidden text
and content-control placeholders dropped. Two cross-checks guard against silent loss: every w:t of the
body must have been visited by the reader, and every word read must reach the HTML (else "text_lost").
"""

from __future__ import annotations

import functools
import hashlib
import html
import io
import posixpath
import re
import unicodedata
import zipfile
from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any, Final, NamedTuple, cast
from urllib.parse import unquote

from docx import Document as _open_document
from docx.opc.constants import RELATIONSHIP_TYPE as RT
from lxml import etree

from core.html import sanitize
from core.text import nfc
from ingest.word import legacy
from ingest.word.structure import (
    BOLD,
    BREAK,
    ITALIC,
    STRIKE,
    SUBSCRIPT,
    SUPERSCRIPT,
    UNDERLINE,
    Block,
    Cell,
    Inline,
    Paragraph,
    Picture,
    Span,
    Table,
    attach_captions,
    caption_like,
    clean_alt,
    find_parts,
)

__all__ = ["DocxArticle", "DocxImage", "docx_to_article"]


@dataclass
class DocxImage:
    data: bytes  # the image part's bytes as embedded
    content_type: str  # from the package part (image/jpeg, image/png, image/x-emf, ...)
    sha256: str  # hex of data
    caption: str | None  # "Ảnh: ..." line or small italic line right under the picture, NFC
    alt: str | None


@dataclass
class DocxArticle:
    title: str | None
    lead: str | None
    byline: str | None
    body_html: str
    text: str
    images: list[DocxImage]
    warnings: list[str]


# ---------------------------------------------------------------------------------------------
# names

_W: Final = "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}"
_R: Final = "{http://schemas.openxmlformats.org/officeDocument/2006/relationships}"
_MC: Final = "{http://schemas.openxmlformats.org/markup-compatibility/2006}"
_WP: Final = "{http://schemas.openxmlformats.org/drawingml/2006/wordprocessingDrawing}"
_A: Final = "{http://schemas.openxmlformats.org/drawingml/2006/main}"
_V: Final = "{urn:schemas-microsoft-com:vml}"
_O: Final = "{urn:schemas-microsoft-com:office:office}"
_M: Final = "{http://schemas.openxmlformats.org/officeDocument/2006/math}"
_NS: Final = {
    "w": _W[1:-1],
    "mc": _MC[1:-1],
}

W_P, W_R, W_T, W_TBL, W_PPR, W_RPR = (f"{_W}{n}" for n in ("p", "r", "t", "tbl", "pPr", "rPr"))
W_VAL: Final = f"{_W}val"
_BODY_WRAPPERS: Final = frozenset(f"{_W}{n}" for n in ("customXml", "ins", "moveTo", "smartTag"))
_INLINE_WRAPPERS: Final = frozenset(f"{_W}{n}" for n in ("ins", "moveTo", "smartTag", "customXml", "dir", "bdo"))
_REMOVED: Final = frozenset(f"{_W}{n}" for n in ("del", "moveFrom"))
_TRACKED: Final = frozenset(f"{_W}{n}" for n in ("ins", "del", "moveFrom", "moveTo"))
_MATH: Final = frozenset({f"{_M}oMath", f"{_M}oMathPara"})
_CHART_URIS: Final = ("/chart", "/diagram", "chartex")
# mc:Choice branches whose vocabulary the reader knows (text boxes, shapes, groups, canvases).
_KNOWN_REQUIRES: Final = frozenset({"wps", "wpg", "wpc", "wp14", "w14", "w15", "w16", "a14", "v", "o", "w10", "m"})
_OFF: Final = frozenset({"0", "false", "off", "none"})
_SYMBOL_CHARS: Final = {0xB7: "•", 0xA7: "▪", 0xD7: "×", 0xB0: "°", 0xB1: "±", 0xAE: "→", 0x2D: "−", 0xFC: "✓"}
_HEADING_NAME: Final = re.compile(r"^heading\s*([1-9])$")
_WORD_MAIN: Final = "application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml"
_OTHER_MAINS: Final = (
    "application/vnd.ms-word.document.macroEnabled.main+xml",
    "application/vnd.ms-word.template.macroEnabledTemplate.main+xml",
    "application/vnd.openxmlformats-officedocument.wordprocessingml.template.main+xml",
)
_MACRO_TYPES: Final = ("application/vnd.ms-office.vbaProject", "application/vnd.ms-word.vbaData+xml")
_PKG_CT: Final = "{http://schemas.openxmlformats.org/package/2006/content-types}"
_PKG_REL: Final = "{http://schemas.openxmlformats.org/package/2006/relationships}"

# Every XML this module parses itself (never python-docx's parser, never a DTD, never the network).
_SAFE_PARSER: Final = etree.XMLParser(resolve_entities=False, no_network=True, huge_tree=False, load_dtd=False)


class UnsafeXml(ValueError):
    """An XML part with a DTD (entity bomb or external entity): Word never writes one."""


# ---------------------------------------------------------------------------------------------
# opening the package


def _parse_xml(data: bytes) -> Any:
    root = etree.fromstring(data, _SAFE_PARSER)
    _refuse_dtd(root)
    return root


def _refuse_dtd(element: Any) -> None:
    info = element.getroottree().docinfo
    if info.internalDTD is not None or info.doctype:
        raise UnsafeXml("XML part declares a DTD")


def _open(data: bytes, is_docm: bool, warnings: list[str]) -> Any:
    """The python-docx Document, repairing what python-docx refuses but Word opens.

    .docm and templates: the main part's content type is rewritten and the VBA parts dropped.
    A relationship to a part missing from the zip (python-docx raises KeyError) is dropped.
    """
    if is_docm:
        data, _ = _as_plain_docx(data)
        warnings.append("macros_stripped")
    for attempt in range(3):
        try:
            document = _open_document(io.BytesIO(data))
        except ValueError as exc:
            if attempt or "not a Word file" not in str(exc):
                raise
            data, had_macros = _as_plain_docx(data)
            if had_macros and "macros_stripped" not in warnings:
                warnings.append("macros_stripped")
            continue
        except KeyError:
            repaired, dropped = _drop_dangling_relationships(data)
            if attempt == 2 or not dropped:
                raise
            data = repaired
            if any(kind.endswith("/image") for kind in dropped) and "image_missing" not in warnings:
                warnings.append("image_missing")
            continue
        _refuse_dtd(document.element)
        return document
    raise ValueError("the Word package could not be opened")


def _rezip(zin: zipfile.ZipFile, replace: dict[str, bytes], drop: set[str]) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_STORED) as zout:
        for info in zin.infolist():
            if info.filename in drop:
                continue
            zout.writestr(info.filename, replace.get(info.filename) or zin.read(info))
    return out.getvalue()


def _as_plain_docx(data: bytes) -> tuple[bytes, bool]:
    """A .docm/.dotx/.dotm as a .docx without its VBA project: (new bytes, whether macros were there)."""
    with zipfile.ZipFile(io.BytesIO(data)) as zin:
        types = _parse_xml(zin.read("[Content_Types].xml"))
        macro_parts: set[str] = set()
        for node in list(types):
            content_type = node.get("ContentType", "")
            if content_type in _OTHER_MAINS:
                node.set("ContentType", _WORD_MAIN)
            elif content_type in _MACRO_TYPES:
                if node.tag == f"{_PKG_CT}Override":
                    macro_parts.add(node.get("PartName", "").lstrip("/"))
                types.remove(node)
        names = set(zin.namelist())
        macro_parts |= {n for n in names if n.lower().endswith(("vbaproject.bin", "vbadata.xml"))}
        macro_parts |= {
            posixpath.join(posixpath.dirname(p), "_rels", posixpath.basename(p) + ".rels") for p in macro_parts
        }
        replace = {"[Content_Types].xml": etree.tostring(types, xml_declaration=True, encoding="UTF-8")}
        for rels_name in (n for n in names if n.endswith(".rels") and n not in macro_parts):
            rels = _parse_xml(zin.read(rels_name))
            dropped = [r for r in rels if r.get("Type", "").endswith("/vbaProject")]
            for rel in dropped:
                rels.remove(rel)
            if dropped:
                replace[rels_name] = etree.tostring(rels, xml_declaration=True, encoding="UTF-8")
        present = macro_parts & names
        return _rezip(zin, replace, present), bool(present)


def _drop_dangling_relationships(data: bytes) -> tuple[bytes, list[str]]:
    """Remove internal relationships whose target part is not in the zip (an image lost on the way).

    Returns the repaired package and the types of the relationships removed.
    """
    dropped: list[str] = []
    with zipfile.ZipFile(io.BytesIO(data)) as zin:
        names = set(zin.namelist())
        replace: dict[str, bytes] = {}
        for rels_name in (n for n in names if n.endswith(".rels")):
            folder = posixpath.dirname(posixpath.dirname(rels_name))  # "word/_rels/x.rels" -> "word"
            rels = _parse_xml(zin.read(rels_name))
            dangling = []
            for rel in rels:
                if rel.get("TargetMode") == "External":
                    continue
                target = rel.get("Target", "")
                relative = posixpath.normpath(posixpath.join(folder, target))
                path = target.lstrip("/") if target.startswith("/") else relative
                if path not in names and unquote(path) not in names:
                    dangling.append(rel)
            for rel in dangling:
                rels.remove(rel)
                dropped.append(rel.get("Type", ""))
            if dangling:
                replace[rels_name] = etree.tostring(rels, xml_declaration=True, encoding="UTF-8")
        return _rezip(zin, replace, set()), dropped


def _part_element(part: Any) -> Any:
    element = getattr(part, "element", None)
    if element is None:
        element = _parse_xml(part.blob)
    _refuse_dtd(element)
    return element


# ---------------------------------------------------------------------------------------------
# styles and numbering


def _on(node: Any) -> bool:
    value = node.get(W_VAL)
    return value is None or value.lower() not in _OFF


def _read_rpr(rpr: Any) -> dict[str, Any]:
    """The run properties that matter here, only those set: b i u s v caps hide sz ascii hansi."""
    props: dict[str, Any] = {}
    for child in rpr:
        tag = child.tag
        if not isinstance(tag, str) or not tag.startswith(_W):
            continue
        name = tag[len(_W) :]
        if name == "b":
            props["b"] = _on(child)
        elif name == "i":
            props["i"] = _on(child)
        elif name == "u":
            props["u"] = (child.get(W_VAL) or "single") != "none"
        elif name in ("strike", "dstrike"):
            props["s"] = _on(child)
        elif name == "vertAlign":
            props["v"] = child.get(W_VAL)
        elif name == "caps":
            props["caps"] = _on(child)
        elif name == "vanish":
            props["hide"] = _on(child)
        elif name == "sz":
            value = child.get(W_VAL) or ""
            if value.isdigit():
                props["sz"] = int(value)
        elif name == "rFonts":
            # A theme font reference wins over the literal name at the same level; themes are Unicode.
            for key, attr in (("ascii", "ascii"), ("hansi", "hAnsi")):
                if child.get(f"{_W}{attr}Theme") is not None:
                    props[key] = None
                elif child.get(f"{_W}{attr}") is not None:
                    props[key] = child.get(f"{_W}{attr}")
    return props


@dataclass
class _Style:
    name: str
    kind: str
    based_on: str | None
    ppr: dict[str, Any]
    rpr: dict[str, Any]


@dataclass
class _ParaStyle:
    name: str
    heading: int | None
    title: bool
    num_id: str | None
    ilvl: int
    align: str | None
    rpr: dict[str, Any]


def _read_ppr(ppr: Any) -> dict[str, Any]:
    props: dict[str, Any] = {}
    for child in ppr:
        tag = child.tag
        if tag == f"{_W}pStyle":
            props["style"] = child.get(W_VAL)
        elif tag == f"{_W}numPr":
            for sub in child:
                if sub.tag == f"{_W}numId":
                    props["num"] = sub.get(W_VAL)
                elif sub.tag == f"{_W}ilvl":
                    props["ilvl"] = _int(sub.get(W_VAL))
        elif tag == f"{_W}outlineLvl":
            props["outline"] = _int(child.get(W_VAL), 9)
        elif tag == f"{_W}jc":
            props["jc"] = child.get(W_VAL)
    return props


def _int(value: str | None, default: int = 0) -> int:
    try:
        return int(value or default)
    except ValueError:
        return default


class _Styles:
    """styles.xml, read lazily: a template carries hundreds of styles, a document uses a handful."""

    def __init__(self, root: Any | None) -> None:
        self.nodes: dict[str, Any] = {}
        self.parsed: dict[str, _Style] = {}
        self.default_paragraph: str | None = None
        self.defaults: dict[str, Any] = {}
        self._paragraphs: dict[str | None, _ParaStyle] = {}
        self._runs: dict[tuple[str | None, str | None], dict[str, Any]] = {}
        if root is None:
            return
        for node in root.iterchildren(f"{_W}style"):
            style_id = node.get(f"{_W}styleId") or ""
            self.nodes.setdefault(style_id, node)
            is_paragraph = (node.get(f"{_W}type") or "paragraph") == "paragraph"
            if self.default_paragraph is None and is_paragraph and _on_attr(node.get(f"{_W}default")):
                self.default_paragraph = style_id
        rpr = root.find(f"{_W}docDefaults/{_W}rPrDefault/{_W}rPr")
        if rpr is not None:
            self.defaults = _read_rpr(rpr)

    def __contains__(self, style_id: str | None) -> bool:
        return style_id in self.nodes

    def get(self, style_id: str) -> _Style:
        style = self.parsed.get(style_id)
        if style is None:
            node = self.nodes[style_id]
            name_node = node.find(f"{_W}name")
            based = node.find(f"{_W}basedOn")
            ppr = node.find(W_PPR)
            rpr = node.find(W_RPR)
            style = self.parsed[style_id] = _Style(
                name=(name_node.get(W_VAL) if name_node is not None else style_id) or "",
                kind=node.get(f"{_W}type") or "paragraph",
                based_on=based.get(W_VAL) if based is not None else None,
                ppr=_read_ppr(ppr) if ppr is not None else {},
                rpr=_read_rpr(rpr) if rpr is not None else {},
            )
        return style

    def _chain(self, style_id: str | None) -> list[_Style]:
        """The style and its ancestors, the root first (a cycle or a missing parent ends the chain)."""
        chain: list[_Style] = []
        seen: set[str] = set()
        while style_id and style_id not in seen and style_id in self.nodes and len(chain) < 20:
            seen.add(style_id)
            style = self.get(style_id)
            chain.append(style)
            style_id = style.based_on
        return chain[::-1]

    def paragraph(self, style_id: str | None) -> _ParaStyle:
        cached = self._paragraphs.get(style_id)
        if cached is None:
            cached = self._paragraphs[style_id] = self._resolve_paragraph(style_id)
        return cached

    def _resolve_paragraph(self, style_id: str | None) -> _ParaStyle:
        # An undefined style id (PHPWord writes "Heading2" without defining it) still names a heading.
        chain = self._chain(style_id if style_id in self.nodes else self.default_paragraph)
        ppr: dict[str, Any] = {}
        rpr: dict[str, Any] = {}
        for style in chain:
            ppr.update(style.ppr)
            rpr.update(style.rpr)
        name = (self.get(style_id).name if style_id and style_id in self.nodes else style_id or "").casefold().strip()
        match = _HEADING_NAME.match(name) or _HEADING_NAME.match((style_id or "").casefold())
        heading = int(match.group(1)) if match else None
        if heading is None and ppr.get("outline", 9) < 9:
            heading = ppr["outline"] + 1
        return _ParaStyle(
            name=name,
            heading=heading,
            title=name == "title" or (style_id or "").casefold() == "title",
            num_id=ppr.get("num"),
            ilvl=ppr.get("ilvl", 0),
            align=ppr.get("jc"),
            rpr=rpr,
        )

    def run_base(self, para_style: str | None, run_style: str | None) -> dict[str, Any]:
        """Defaults, then the paragraph style chain, then the character style chain (cached)."""
        key = (para_style, run_style)
        props = self._runs.get(key)
        if props is None:
            props = dict(self.defaults)
            props.update(self.paragraph(para_style).rpr)
            for style in self._chain(run_style):
                props.update(style.rpr)
            self._runs[key] = props
        return props


def _on_attr(value: str | None) -> bool:
    return value is not None and value.lower() not in _OFF


class _Numbering:
    def __init__(self, root: Any | None, styles: _Styles) -> None:
        self.abstract: dict[str, dict[int, str]] = {}
        self.links: dict[str, str] = {}  # abstractNumId -> numStyleLink style id
        self.nums: dict[str, tuple[str, dict[int, str]]] = {}
        self.styles = styles
        if root is None:
            return
        for node in root:
            if node.tag == f"{_W}abstractNum":
                levels = {}
                for lvl in node.iter(f"{_W}lvl"):
                    fmt = lvl.find(f"{_W}numFmt")
                    levels[_int(lvl.get(f"{_W}ilvl"))] = fmt.get(W_VAL) if fmt is not None else "decimal"
                abstract_id = node.get(f"{_W}abstractNumId") or ""
                self.abstract[abstract_id] = levels
                link = node.find(f"{_W}numStyleLink")
                if link is not None and link.get(W_VAL):
                    self.links[abstract_id] = link.get(W_VAL)
            elif node.tag == f"{_W}num":
                ref = node.find(f"{_W}abstractNumId")
                overrides = {}
                for override in node.iter(f"{_W}lvlOverride"):
                    fmt = override.find(f"{_W}lvl/{_W}numFmt")
                    if fmt is not None:
                        overrides[_int(override.get(f"{_W}ilvl"))] = fmt.get(W_VAL)
                self.nums[node.get(f"{_W}numId") or ""] = (ref.get(W_VAL) if ref is not None else "", overrides)

    def format(self, num_id: str, level: int, depth: int = 0) -> str | None:
        """The numFmt of a list level ("bullet", "decimal", ...), None when the list does not exist."""
        if num_id not in self.nums:
            return None
        abstract_id, overrides = self.nums[num_id]
        if level in overrides:
            return overrides[level]
        levels = self.abstract.get(abstract_id, {})
        if not levels and abstract_id in self.links and depth < 3:
            linked = self.styles.paragraph(self.links[abstract_id]).num_id
            if linked and linked != num_id:
                return self.format(linked, level, depth + 1)
        return levels.get(level)  # an undefined level shows no number: not a list item (as mammoth)


# ---------------------------------------------------------------------------------------------
# reading the body


@functools.lru_cache(maxsize=512)
def _legacy_font(name: str | None) -> bool:
    return legacy.legacy_encoding(name) is not None


@dataclass
class _Field:
    instruction: list[str] = field(default_factory=list)
    in_result: bool = False
    href: str | None = None


class _RunLook(NamedTuple):
    """A run's effective formatting, as the reader merges and renders it."""

    fmt: int  # BOLD | ITALIC | ... bits
    size: int  # half-points (w:sz); 0 when unset
    legacy_font: str | None  # a TCVN3/VNI font whose encoding the text is in, else None
    caps: bool
    hidden: bool  # w:vanish: Word does not show it


_PLAIN_LOOK = _RunLook(fmt=0, size=0, legacy_font=None, caps=False, hidden=False)


class _Line:
    """The paragraph being read: merges adjacent runs of the same look into one span as it goes."""

    __slots__ = ("boxes", "buffer", "items", "last", "style_id")

    def __init__(self, style_id: str | None) -> None:
        self.items: list[Inline] = []
        self.boxes: list[Block] = []
        self.style_id = style_id
        self.last: Span | None = None
        self.buffer: list[str] = []

    def text(self, text: str, look: _RunLook, href: str | None) -> None:
        fmt, size, font, caps = look.fmt, look.size, look.legacy_font, look.caps
        last = self.last
        if last is not None and last.fmt == fmt and last.href == href and last.font == font and last.caps == caps:
            self.buffer.append(text)  # thousands of tiny runs become one span
            return
        self.flush()
        self.last = Span(text="", fmt=fmt, href=href, size=size, font=font, caps=caps)
        self.items.append(self.last)
        self.buffer = [text]

    def add(self, item: Inline) -> None:
        self.flush()
        self.items.append(item)

    def flush(self) -> None:
        if self.last is not None:
            self.last.raw = "".join(self.buffer)
            self.last.text = self.last.raw
            self.last = None
            self.buffer = []


class _Reader:
    def __init__(self, document: Any) -> None:
        part = document.part
        self.rels = part.rels
        styles_root = numbering_root = None
        for rel in part.rels.values():
            if rel.is_external:
                continue
            if rel.reltype == RT.STYLES:
                styles_root = _part_element(rel.target_part)
            elif rel.reltype == RT.NUMBERING:
                numbering_root = _part_element(rel.target_part)
        self.styles = _Styles(styles_root)
        self.numbering = _Numbering(numbering_root, self.styles)
        self.images: dict[str, DocxImage] = {}
        self.image_sha: dict[str, str] = {}  # partname -> sha256
        self.fields: list[_Field] = []
        self.notes: dict[tuple[str, str], int] = {}  # (footnote|endnote, w:id) -> number, in reference order
        self.seen_chars: list[str] = []  # every w:t the reader visited, kept or dropped
        self.flags: set[str] = set()
        self.looks: dict[tuple[str | None, tuple[tuple[Any, ...], ...] | None], _RunLook] = {}

    # ----- footnotes and endnotes
    def _note_number(self, kind: str, note_id: str | None) -> int | None:
        if note_id is None:
            return None
        key = (kind, note_id)
        if key not in self.notes:
            self.notes[key] = len(self.notes) + 1
        return self.notes[key]

    def read_notes(self) -> list[list[Block]]:
        """The referenced footnotes and endnotes, in the order of their numbers."""
        roots: dict[str, Any] = {}
        for rel in self.rels.values():
            if not rel.is_external and rel.reltype in (RT.FOOTNOTES, RT.ENDNOTES):
                roots["footnote" if rel.reltype == RT.FOOTNOTES else "endnote"] = _part_element(rel.target_part)
        notes: list[list[Block]] = []
        for kind, note_id in list(self.notes):
            root = roots.get(kind)
            found = None
            if root is not None:
                found = next((n for n in root.iterchildren(f"{_W}{kind}") if n.get(f"{_W}id") == note_id), None)
            notes.append(self.blocks(found) if found is not None else [])
        return notes

    # ----- blocks
    def blocks(self, parent: Any) -> list[Block]:
        out: list[Block] = []
        self._block_children(parent, out)
        return out

    def _block_children(self, parent: Any, out: list[Block]) -> None:
        for child in parent:
            tag = child.tag
            if tag == W_P:
                self._paragraph(child, out)
            elif tag == W_TBL:
                self._table(child, out)
            elif tag == f"{_W}sdt":
                content = self._sdt_content(child)
                if content is not None:
                    self._block_children(content, out)
            elif tag in _BODY_WRAPPERS:
                if tag in _TRACKED:
                    self.flags.add("tracked_changes")
                self._block_children(child, out)
            elif tag == f"{_MC}AlternateContent":
                branch = self._choose(child)
                if branch is not None:
                    self._block_children(branch, out)
            elif tag == f"{_W}altChunk":
                self.flags.add("embedded_document_skipped")

    def _sdt_content(self, sdt: Any) -> Any | None:
        """The content of a content control, or None when it only shows its placeholder text."""
        props = sdt.find(f"{_W}sdtPr")
        content = sdt.find(f"{_W}sdtContent")
        if content is not None and props is not None and props.find(f"{_W}showingPlcHdr") is not None:
            self.seen_chars.extend(content.itertext(W_T))
            return None
        return content

    def _choose(self, alternate: Any) -> Any | None:
        """The mc:Choice the reader understands, else the mc:Fallback."""
        fallback = None
        for branch in alternate:
            if branch.tag == f"{_MC}Choice":
                requires = set((branch.get("Requires") or "").split())
                if requires <= _KNOWN_REQUIRES:
                    return branch
            elif branch.tag == f"{_MC}Fallback":
                fallback = branch
        return fallback

    # ----- paragraphs
    def _paragraph(self, p: Any, out: list[Block]) -> None:
        props = _read_ppr(p[0]) if len(p) and p[0].tag == W_PPR else {}
        style_id = props.get("style")
        style = self.styles.paragraph(style_id)
        paragraph = Paragraph(style=style.name, heading=style.heading, title_style=style.title)
        if "outline" in props:
            paragraph.heading = props["outline"] + 1 if props["outline"] < 9 else None
        paragraph.align = props.get("jc", style.align)
        num_id = props.get("num", style.num_id)
        if num_id and num_id != "0" and paragraph.heading is None and not style.title:
            level = props.get("ilvl", style.ilvl)
            fmt = self.numbering.format(num_id, level)
            if fmt is not None and fmt != "none":
                paragraph.list_id, paragraph.list_level = num_id, level
                paragraph.ordered = fmt != "bullet"
        line = _Line(style_id)
        self._inline_children(p, line, None)
        line.flush()
        paragraph.items = line.items
        out.append(paragraph)
        out.extend(line.boxes)

    def _inline_children(self, parent: Any, line: _Line, href: str | None) -> None:
        for child in parent:
            tag = child.tag
            if tag == W_R:
                self._run(child, line, href)
            elif tag == f"{_W}hyperlink":
                self._inline_children(child, line, self._hyperlink(child) or href)
            elif tag in _INLINE_WRAPPERS:
                if tag in _TRACKED:
                    self.flags.add("tracked_changes")
                self._inline_children(child, line, href)
            elif tag == f"{_W}sdt":
                content = self._sdt_content(child)
                if content is not None:
                    self._inline_children(content, line, href)
            elif tag == f"{_W}fldSimple":
                target = _field_href(child.get(f"{_W}instr") or "")
                self._inline_children(child, line, target or href)
            elif tag in _REMOVED:
                self.flags.add("tracked_changes")
            elif tag == f"{_MC}AlternateContent":
                branch = self._choose(child)
                if branch is not None:
                    self._inline_children(branch, line, href)
            elif tag in _MATH:
                text = "".join(child.itertext(f"{_M}t"))
                if text:
                    line.text(text, _PLAIN_LOOK, href)

    def _hyperlink(self, node: Any) -> str | None:
        rid = node.get(f"{_R}id")
        rel = self.rels.get(rid) if rid else None
        if rel is None or not rel.is_external:
            return None  # an anchor inside the document: the text stays, the link goes
        target = rel.target_ref
        anchor = node.get(f"{_W}anchor")
        return _safe_href(f"{target}#{anchor}" if anchor and "#" not in target else target)

    # ----- runs
    def _look(self, rpr: Any | None, para_style: str | None) -> _RunLook:
        """The run's effective formatting, cached by the content of its w:rPr (runs repeat the same few)."""
        key = (para_style, tuple((c.tag, *c.attrib.items()) for c in rpr) if rpr is not None else None)
        look = self.looks.get(key)
        if look is None:
            look = self.looks[key] = self._resolve_look(rpr, para_style)
        return look

    def _resolve_look(self, rpr: Any | None, para_style: str | None) -> _RunLook:
        run_style = None
        direct: dict[str, Any] | None = None
        if rpr is not None:
            style_node = rpr.find(f"{_W}rStyle")
            run_style = style_node.get(W_VAL) if style_node is not None else None
            direct = _read_rpr(rpr)
        props = self.styles.run_base(para_style, run_style)
        if direct:
            props = {**props, **direct}
        fmt = 0
        if props.get("b"):
            fmt |= BOLD
        if props.get("i"):
            fmt |= ITALIC
        if props.get("u"):
            fmt |= UNDERLINE
        if props.get("s"):
            fmt |= STRIKE
        vert = props.get("v")
        if vert == "superscript":
            fmt |= SUPERSCRIPT
        elif vert == "subscript":
            fmt |= SUBSCRIPT
        # Word draws the characters above U+007F in the hAnsi font: that one decides a legacy encoding.
        hansi, ascii_ = props.get("hansi"), props.get("ascii")
        font = hansi if _legacy_font(hansi) else ascii_ if _legacy_font(ascii_) else None
        return _RunLook(
            fmt=fmt,
            size=props.get("sz", 0),
            legacy_font=font,
            caps=bool(props.get("caps")),
            hidden=bool(props.get("hide")),
        )

    def _run(self, r: Any, line: _Line, href: str | None) -> None:
        look: _RunLook | None = None
        for child in r:
            tag = child.tag
            if tag == W_RPR:
                look = self._look(child, line.style_id)
                continue
            if look is None:
                look = self._look(None, line.style_id)
            if tag == W_T:
                text = child.text
                if not text:
                    continue
                self.seen_chars.append(text)
                if look.hidden or self._in_field_code():
                    continue
                line.text(text, look, self._field_link() or href)
            elif tag == f"{_W}tab" or tag == f"{_W}ptab":
                if not look.hidden and not self._in_field_code():
                    line.text("\t", look, self._field_link() or href)
            elif tag == f"{_W}br" or tag == f"{_W}cr":
                if not look.hidden and not self._in_field_code():
                    line.add(BREAK)
            elif tag == f"{_W}softHyphen":
                # In a TCVN3 font the "soft hyphen" byte is the letter ư; LibreOffice writes it as this element.
                if look.legacy_font is not None and not look.hidden:
                    line.text("\u00ad", look, href)
            elif tag == f"{_W}noBreakHyphen":
                line.text("-", look, href)
            elif tag == f"{_W}sym":
                char = _symbol(child)
                if char:
                    line.text(char, look, href)
            elif tag == f"{_W}fldChar":
                self._field_char(child.get(f"{_W}fldCharType"))
            elif tag == f"{_W}instrText":
                if self.fields and not self.fields[-1].in_result:
                    self.fields[-1].instruction.append(child.text or "")
            elif tag == f"{_W}drawing" or tag == f"{_W}pict" or tag == f"{_W}object":
                self._graphics(child, line)
            elif tag == f"{_MC}AlternateContent":
                branch = self._choose(child)
                if branch is not None:
                    # The branch holds run content (w:drawing, w:pict): read it as a run of the same look.
                    self._graphics(branch, line)
            elif tag == f"{_W}ruby":
                base = child.find(f"{_W}rubyBase")
                self.seen_chars.extend(child.itertext(W_T))  # the pronunciation guide is not kept
                if base is not None:
                    self._inline_children(base, line, href)
            elif tag == f"{_W}footnoteReference" or tag == f"{_W}endnoteReference":
                kind = "footnote" if tag == f"{_W}footnoteReference" else "endnote"
                number = self._note_number(kind, child.get(f"{_W}id"))
                if number is not None and not look.hidden:
                    mark = _RunLook((look.fmt | SUPERSCRIPT) & ~SUBSCRIPT, look.size, None, caps=False, hidden=False)
                    line.text(str(number), mark, href)
            elif tag == f"{_W}delText":
                self.flags.add("tracked_changes")

    # ----- fields
    def _field_char(self, kind: str | None) -> None:
        if kind == "begin":
            self.fields.append(_Field())
        elif kind == "separate" and self.fields:
            top = self.fields[-1]
            top.in_result = True
            top.href = _field_href("".join(top.instruction))
        elif kind == "end" and self.fields:
            self.fields.pop()

    def _in_field_code(self) -> bool:
        return any(not f.in_result for f in self.fields) if self.fields else False

    def _field_link(self) -> str | None:
        for f in reversed(self.fields):
            if f.href:
                return f.href
        return None

    # ----- pictures and text boxes
    def _graphics(self, node: Any, line: _Line) -> None:
        """Pictures and text boxes in w:drawing (DrawingML), w:pict / w:object (VML), in document order.

        lxml's C iterator finds the few elements that matter; a diagram of thousands of shapes is
        not walked in Python. Unchosen mc:AlternateContent branches and text boxes already read are
        skipped subtrees.
        """
        skipped: list[Any] = []
        for element in node.iter(*_GRAPHIC_TAGS):
            if skipped and _inside(element, skipped, node):
                continue
            tag = element.tag
            if tag == _ALTERNATE:
                chosen = self._choose(element)
                skipped.extend(branch for branch in element if branch is not chosen)
            elif tag == _BLIP:
                self._picture(element.get(f"{_R}embed"), line, _drawing_alt(element, node))
            elif tag == _IMAGEDATA:
                shape = element.getparent()
                alt = element.get(f"{_O}title") or (shape.get("alt") if shape is not None else None)
                self._picture(element.get(f"{_R}id") or element.get(f"{_O}relid"), line, alt)
            elif tag == _TEXTBOX:
                skipped.append(element)
                boxes = self.blocks(element)
                if any(isinstance(b, Table) or b.items for b in boxes):
                    self.flags.add("text_boxes")
                line.boxes.extend(boxes)
            elif any(marker in (element.get("uri") or "") for marker in _CHART_URIS):
                self.flags.add("drawing_skipped")

    def _picture(self, rid: str | None, line: _Line, alt: str | None) -> None:
        rel = self.rels.get(rid) if rid else None
        if rel is None or rel.is_external:
            self.flags.add("image_missing")
            return
        part = rel.target_part
        if not str(part.content_type).startswith("image/"):
            self.flags.add("drawing_skipped")  # an embedded object or a chart where a picture was expected
            return
        key = str(part.partname)
        sha = self.image_sha.get(key)
        if sha is None:
            blob = part.blob
            if not blob:
                self.flags.add("image_missing")
                return
            sha = hashlib.sha256(blob).hexdigest()
            self.image_sha[key] = sha
            if sha not in self.images:
                self.images[sha] = DocxImage(
                    data=blob, content_type=part.content_type, sha256=sha, caption=None, alt=clean_alt(alt)
                )
        line.add(Picture(sha256=sha, alt=clean_alt(alt)))

    # ----- tables
    def _table(self, tbl: Any, out: list[Block]) -> None:
        rows: list[list[Cell]] = []
        open_merges: dict[int, Cell] = {}
        for tr in _children(tbl, f"{_W}tr"):
            trpr = tr.find(f"{_W}trPr")
            header = False
            column = 0
            if trpr is not None:
                header = trpr.find(f"{_W}tblHeader") is not None and _on(trpr.find(f"{_W}tblHeader"))
                before = trpr.find(f"{_W}gridBefore")
                column = _int(before.get(W_VAL)) if before is not None else 0
            row: list[Cell] = []
            for tc in _children(tr, f"{_W}tc"):
                tcpr = tc.find(f"{_W}tcPr")
                span, merge = 1, None
                if tcpr is not None:
                    grid_span = tcpr.find(f"{_W}gridSpan")
                    span = max(1, _int(grid_span.get(W_VAL), 1)) if grid_span is not None else 1
                    vmerge = tcpr.find(f"{_W}vMerge")
                    if vmerge is not None:
                        merge = vmerge.get(W_VAL) or "continue"
                blocks = self.blocks(tc)
                owner = open_merges.get(column)
                if merge == "continue" and owner is not None:
                    owner.rowspan += 1
                    owner.blocks.extend(b for b in blocks if isinstance(b, Table) or b.items)
                    column += span
                    continue
                cell = Cell(blocks=blocks, colspan=span, header=header)
                if merge == "restart":
                    open_merges[column] = cell
                else:
                    open_merges.pop(column, None)
                row.append(cell)
                column += span
            if row:
                rows.append(row)
        if len(rows) == 1 and len(rows[0]) == 1:
            out.extend(rows[0][0].blocks)  # a one-cell table is a frame around content, not data
        elif rows:
            out.append(Table(rows))


# ---------------------------------------------------------------------------------------------
# legacy fonts, capitals, combining marks


def _finish_text(paragraphs: list[Paragraph]) -> bool:
    """Turn each span's raw text into what the reader sees; True when legacy text was converted.

    Legacy runs are decoded with one verdict per encoding for the whole document (short runs are
    ambiguous alone). A VNI mark that Word stored in the next run (another formatting) goes back
    to its letter first; after decoding, a combining mark at the start of a span joins the letter
    before it, so NFC can compose it (no "u</em>̉").
    """
    by_encoding: dict[legacy.LegacyEncoding, list[Span]] = {}
    for paragraph in paragraphs:
        previous: Span | None = None
        for item in paragraph.items:
            if not isinstance(item, Span):
                previous = None
                continue
            if item.font is not None:
                encoding = legacy.legacy_encoding(item.font)
                if encoding is not None:
                    by_encoding.setdefault(encoding, []).append(item)
                    if encoding == "vni" and previous is not None and previous.font is not None:
                        _pull_vni_mark(previous, item)
            previous = item
    converted = False
    for encoding, group in by_encoding.items():
        verdict = legacy.looks_legacy_document((s.raw for s in group), encoding)
        for span in group:
            decoded = legacy.decode_run(span.raw, span.font, document_is_legacy=verdict)
            span.text = span.raw if decoded is None else decoded
            converted = converted or (decoded is not None and decoded != span.raw and not span.raw.isascii())
    for paragraph in paragraphs:
        previous = None
        for item in paragraph.items:
            if not isinstance(item, Span):
                previous = None
                continue
            if item.caps:
                item.text = item.text.upper()
            if previous is not None and item.text and unicodedata.combining(item.text[0]):
                marks = len(item.text) - len(item.text.lstrip(_COMBINING))
                previous.text, item.text = previous.text + item.text[:marks], item.text[marks:]
            if item.text:
                previous = item
    return converted


_COMBINING: Final = "".join(chr(c) for c in range(0x300, 0x370))


def _pull_vni_mark(before: Span, after: Span) -> None:
    """Move a VNI mark at the start of `after` to the end of `before` when it belongs to that letter."""
    if not before.raw or not after.raw or legacy.legacy_encoding(before.font) != "vni":
        return
    last, mark = before.raw[-1], after.raw[0]
    if len(legacy.decode_vni(last + mark)) < len(legacy.decode_vni(last)) + len(legacy.decode_vni(mark)):
        before.raw, after.raw = before.raw + mark, after.raw[1:]


_ALTERNATE: Final = f"{_MC}AlternateContent"
_BLIP: Final = f"{_A}blip"
_IMAGEDATA: Final = f"{_V}imagedata"
_TEXTBOX: Final = f"{_W}txbxContent"
_GRAPHIC_TAGS: Final = (_ALTERNATE, _BLIP, _IMAGEDATA, _TEXTBOX, f"{_A}graphicData")
_DRAWING_FRAMES: Final = (f"{_WP}inline", f"{_WP}anchor")


def _inside(element: Any, subtrees: list[Any], stop: Any) -> bool:
    """Whether `element` lies within one of `subtrees` (searching up to `stop`)."""
    parent = element.getparent()
    while parent is not None and parent is not stop:
        if any(parent is tree for tree in subtrees):
            return True
        parent = parent.getparent()
    return False


def _drawing_alt(blip: Any, stop: Any) -> str | None:
    """The author's description of a DrawingML picture (wp:docPr descr, else its title)."""
    parent = blip.getparent()
    while parent is not None and parent is not stop:
        if parent.tag in _DRAWING_FRAMES:
            doc_pr = parent.find(f"{_WP}docPr")
            return (doc_pr.get("descr") or doc_pr.get("title")) if doc_pr is not None else None
        parent = parent.getparent()
    return None


def _children(parent: Any, tag: str) -> Iterator[Any]:
    """Children named `tag`, looking through content controls and custom XML that wrap them."""
    for child in parent:
        if child.tag == tag:
            yield child
        elif child.tag in (f"{_W}sdt", f"{_W}customXml", f"{_W}sdtContent", f"{_W}ins", f"{_W}moveTo"):
            yield from _children(child, tag)


def _symbol(node: Any) -> str:
    """w:sym: a character of a symbol font; only the few that have a clear Unicode meaning."""
    code = node.get(f"{_W}char") or ""
    try:
        value = int(code, 16)
    except ValueError:
        return ""
    font = (node.get(f"{_W}font") or "").casefold()
    if font == "symbol":
        return _SYMBOL_CHARS.get(value & 0xFF, "")
    return ""


_FIELD_TOKENS: Final = re.compile(r'\\[A-Za-z*]|"[^"]*"|\S+')
_SWITCHES_WITH_ARGUMENT: Final = frozenset({"\\l", "\\o", "\\t"})


def _field_href(instruction: str) -> str | None:
    """The target of a HYPERLINK field ("HYPERLINK \"https://...\" \\o \"tip\""), if it is a web link."""
    tokens = _FIELD_TOKENS.findall(instruction)
    if not tokens or tokens[0].upper() != "HYPERLINK":
        return None
    skip = False
    for token in tokens[1:]:
        if skip:
            skip = False
            continue
        if token.startswith("\\"):
            skip = token in _SWITCHES_WITH_ARGUMENT
            continue
        return _safe_href(token.strip('"'))
    return None


def _safe_href(target: str | None) -> str | None:
    """http(s)/mailto targets only; "www.x.vn" gets its scheme. Everything else loses the link, keeps the text."""
    if not target:
        return None
    target = target.strip()
    lowered = target.lower()
    if lowered.startswith(("http://", "https://", "mailto:")):
        return target
    if lowered.startswith("www."):
        return f"http://{target}"
    return None


# ---------------------------------------------------------------------------------------------
# rendering


def _all_paragraphs(blocks: Iterable[Block]) -> Iterator[Paragraph]:
    for block in blocks:
        if isinstance(block, Paragraph):
            yield block
        else:
            for row in block.rows:
                for cell in row:
                    yield from _all_paragraphs(cell.blocks)


class _Renderer:
    def __init__(self, blocks: list[Block]) -> None:
        levels = [p.heading for p in _all_paragraphs(blocks) if p.heading is not None and p.role is None]
        self.top_level = min(levels) if levels else 1

    def blocks(self, blocks: list[Block], out: list[str]) -> None:
        i, n = 0, len(blocks)
        while i < n:
            block = blocks[i]
            if isinstance(block, Table):
                if _photo_layout(block):
                    for row in block.rows:  # photos laid out in a table: figures, not data
                        for cell in row:
                            self.blocks(cell.blocks, out)
                else:
                    self.table(block, out)
                i += 1
                continue
            if block.is_list and block.role is None:
                items: list[Paragraph] = []
                while i < n and isinstance(item := blocks[i], Paragraph) and item.is_list:
                    items.append(item)
                    i += 1
                self.nested_lists(items, out)
                continue
            if block.role is None:
                self.paragraph(block, out)
            i += 1

    def heading_tag(self, paragraph: Paragraph) -> str | None:
        if paragraph.title_style:
            return "h2"
        if paragraph.heading is None:
            return None
        return f"h{min(4, 2 + max(0, paragraph.heading - self.top_level))}"

    def paragraph(self, paragraph: Paragraph, out: list[str]) -> None:
        tag = self.heading_tag(paragraph) or "p"
        for segment in _segments(paragraph.items):
            if isinstance(segment, Picture):
                out.append(_figure(segment))
            else:
                content = _inline_html(segment, drop_bold=tag != "p")
                if content:
                    out.append(f"<{tag}>{content}</{tag}>")

    def nested_lists(self, items: list[Paragraph], out: list[str]) -> None:
        """A run of list paragraphs as <ul>/<ol> nested by their list level."""
        stack: list[tuple[int, str, str | None]] = []
        for item in items:
            parts: list[str] = []
            for segment in _segments(item.items):
                if isinstance(segment, Picture):
                    parts.append(_figure(segment))
                else:
                    parts.append(_inline_html(segment, drop_bold=False))
            content = "".join(parts)
            if not content:
                continue
            tag = "ol" if item.ordered else "ul"
            level = item.list_level
            while stack and stack[-1][0] > level:
                out.append(f"</li></{stack.pop()[1]}>")
            if stack and stack[-1][0] == level:
                # Same level and kind continue the list even under another numbering definition
                # ("List Bullet" then "List Bullet 2" at level 0), as Word shows one list there.
                if stack[-1][1] != tag:
                    out.append(f"</li></{stack.pop()[1]}>")
                else:
                    out.append("</li>")
            if not stack or stack[-1][0] < level:
                out.append(f"<{tag}>")
                stack.append((level, tag, item.list_id))
            out.append(f"<li>{content}")
        while stack:
            out.append(f"</li></{stack.pop()[1]}>")

    def table(self, table: Table, out: list[str]) -> None:
        out.append("<table><tbody>")
        for row in table.rows:
            out.append("<tr>")
            for cell in row:
                tag = "th" if cell.header else "td"
                attrs = ""
                if cell.colspan > 1:
                    attrs += f' colspan="{cell.colspan}"'
                if cell.rowspan > 1:
                    attrs += f' rowspan="{cell.rowspan}"'
                out.append(f"<{tag}{attrs}>{self.cell(cell)}</{tag}>")
            out.append("</tr>")
        out.append("</tbody></table>")

    def cell(self, cell: Cell) -> str:
        shown = [b for b in cell.blocks if isinstance(b, Table) or (b.role is None and b.items)]
        if len(shown) == 1 and isinstance(shown[0], Paragraph):
            only = shown[0]
            if not only.is_list and not only.pictures and self.heading_tag(only) is None:
                return _inline_html(only.items, drop_bold=False)
        out: list[str] = []
        self.blocks(cell.blocks, out)
        return "".join(out)


def _photo_layout(table: Table) -> bool:
    """A table holding only pictures and their captions (a common way to place a photo)."""
    has_picture = False
    for row in table.rows:
        for cell in row:
            for block in cell.blocks:
                if isinstance(block, Table):
                    return False
                if block.pictures:
                    has_picture = True
                    if any(isinstance(i, Span) and i.text.strip() for i in block.items):
                        return False
                elif block.role != "caption" and block.text():
                    return False
    return has_picture


def _segments(items: list[Inline]) -> Iterator[Picture | list[Inline]]:
    """Text runs (lists of inlines) and pictures, in order; a caption typed under a picture in the same paragraph
    (after a line break) is attached to it instead of becoming text."""
    text: list[Inline] = []
    pending: Picture | None = None
    for item in items:
        if isinstance(item, Picture):
            if pending is not None:
                yield from _flush_text(text, pending)
                text = []
            elif text:
                yield text
                text = []
            pending = item
        else:
            text.append(item)
    if pending is not None:
        yield from _flush_text(text, pending)
    elif text:
        yield text


def _flush_text(text: list[Inline], picture: Picture) -> Iterator[Picture | list[Inline]]:
    """The picture, then the text after it; its first line may be the picture's caption."""
    start = 0
    while start < len(text) and _blank(text[start]):
        start += 1
    end = next((i for i in range(start, len(text)) if text[i] is BREAK), len(text))
    first_line = text[start:end]
    if picture.caption is None and first_line:
        candidate = Paragraph(items=list(first_line))
        if caption_like(candidate):
            picture.caption = candidate.text()
            text = text[end:]
    yield picture  # only now: the figure is rendered with its caption
    if text:
        yield text


def _blank(item: Inline) -> bool:
    return item is BREAK or (isinstance(item, Span) and not item.text.strip())


def _figure(picture: Picture) -> str:
    alt = html.escape(picture.alt or picture.caption or "", quote=True)
    caption = f"<figcaption>{html.escape(picture.caption)}</figcaption>" if picture.caption else ""
    return f'<figure><img src="/media/{picture.sha256}" alt="{alt}">{caption}</figure>'


_WS: Final = re.compile(r"[ \t\r\n\u000b\u000c]+")


def _inline_html(items: list[Inline], *, drop_bold: bool) -> str:
    """Spans of the same look and link become one element; <br> for line breaks; edges trimmed."""
    parts: list[str] = []
    group: list[str] = []
    key: tuple[int, str | None] | None = None

    def close() -> None:
        if key is not None and group:
            parts.append(_wrap("".join(group), key[0], key[1]))

    for item in items:
        if isinstance(item, Span):
            fmt = item.fmt & ~BOLD if drop_bold else item.fmt
            if item.href:
                fmt &= ~UNDERLINE  # links are underlined by the portal's style anyway
            current = (fmt, item.href)
            if current != key:
                close()
                group, key = [], current
            group.append(item.text)
        elif item is BREAK:
            close()
            group, key = [], None
            parts.append("\n")
    close()
    joined = "".join(parts).strip()
    return joined.replace("\n", "<br>")


def _wrap(text: str, fmt: int, href: str | None) -> str:
    text = _WS.sub(" ", text)
    if not text.strip():
        return text
    core = text.strip()
    start = text.index(core[0])
    lead, tail = text[:start], text[start + len(core) :]  # spaces (NBSP too) stay outside the tags
    inner = html.escape(core, quote=False)
    if fmt & SUPERSCRIPT:
        inner = f"<sup>{inner}</sup>"
    elif fmt & SUBSCRIPT:
        inner = f"<sub>{inner}</sub>"
    if fmt & STRIKE:
        inner = f"<s>{inner}</s>"
    if fmt & UNDERLINE:
        inner = f"<u>{inner}</u>"
    if fmt & ITALIC:
        inner = f"<em>{inner}</em>"
    if fmt & BOLD:
        inner = f"<strong>{inner}</strong>"
    if href:
        inner = f'<a href="{html.escape(href, quote=True)}">{inner}</a>'
    return f"{lead}{inner}{tail}"


# ---------------------------------------------------------------------------------------------
# the whole conversion


def docx_to_article(data: bytes, *, is_docm: bool = False) -> DocxArticle:
    """Convert one .docx/.docm (already checked to be a sane zip) into an article.

    Raises on a package python-docx cannot read and on XML with a DTD (entity bombs, XXE).
    """
    warnings: list[str] = []
    document = _open(data, is_docm, warnings)
    reader = _Reader(document)
    body = document.element.body
    blocks = reader.blocks(body)
    notes = reader.read_notes()
    paragraphs = [*_all_paragraphs(blocks), *(p for note in notes for p in _all_paragraphs(note))]
    if _finish_text(paragraphs):
        warnings.append("legacy_font_converted")
    attach_captions(blocks)
    parts = find_parts(blocks)
    out: list[str] = []
    renderer = _Renderer(blocks)
    renderer.blocks(blocks, out)
    if notes:
        # Footnotes and endnotes close the article as a numbered list matching the <sup> numbers.
        out.append("<ol>")
        for note in notes:
            out.append("<li>")
            renderer.blocks(note, out)
            out.append("</li>")
        out.append("</ol>")
    body_html = sanitize("".join(out))

    images = list(reader.images.values())
    captions: dict[str, str] = {}
    for paragraph in paragraphs:
        for picture in paragraph.pictures:
            if picture.caption and picture.sha256 not in captions:
                captions[picture.sha256] = picture.caption
    for image in images:
        image.caption = captions.get(image.sha256)

    text = nfc("\n".join(line for line in (p.text() for p in paragraphs) if line))
    for flag in ("text_boxes", "tracked_changes", "image_missing", "drawing_skipped", "embedded_document_skipped"):
        if flag in reader.flags and flag not in warnings:
            warnings.append(flag)
    if _text_lost(body, reader, paragraphs, body_html, parts.title, parts.lead, parts.byline):
        warnings.append("text_lost")
    return DocxArticle(
        title=parts.title,
        lead=parts.lead,
        byline=parts.byline,
        body_html=body_html,
        text=text,
        images=images,
        warnings=warnings,
    )


_WORD_TEXT: Final = etree.XPath(".//w:t/text()", namespaces=_NS, smart_strings=False)
# Text Word does not show (deleted, moved away) or shows once (the fallback of an mc:AlternateContent).
_UNSHOWN_TEXT: Final = etree.XPath(
    ".//mc:Fallback//w:t/text() | .//w:del//w:t/text() | .//w:moveFrom//w:t/text()",
    namespaces=_NS,
    smart_strings=False,
)


_HTML_BLOCK: Final = re.compile(r"</?(?:p|br|h[1-6]|li|ul|ol|tr|td|th|table|tbody|figure|figcaption|img)\b[^>]*>")
_HTML_TAG: Final = re.compile(r"<[^>]*>")
_WORD_CHARS: Final = re.compile(r"\w+")


def _words(text: str) -> list[str]:
    """Words of NFC text or of sanitized HTML (tags removed; inline tags do not split words)."""
    return _WORD_CHARS.findall(html.unescape(_HTML_TAG.sub("", text)).casefold())


def _text_lost(
    body: Any,
    reader: _Reader,
    paragraphs: list[Paragraph],
    body_html: str,
    *extracted: str | None,
) -> bool:
    """Text of the Word body that did not reach the article.

    Two checks: the characters of every w:t of the body against those the reader visited (an element
    the reader does not know would hide text), and the words the reader kept against the words of
    the HTML plus title, lead and byline (rendering or sanitizing must not drop any).
    """
    # Both XPaths select text() without smart strings: lists of str.
    word_chars = Counter("".join(cast(list[str], _WORD_TEXT(body))))
    word_chars.subtract(Counter("".join(cast(list[str], _UNSHOWN_TEXT(body)))))
    word_chars.subtract(Counter("".join(reader.seen_chars)))
    if any(count > 0 and not char.isspace() for char, count in word_chars.items()):
        return True
    kept = Counter(_words("\n".join(p.text() for p in paragraphs)))
    shown = Counter(_words(_HTML_BLOCK.sub(" ", body_html)))
    for piece in extracted:
        shown.update(_words(piece or ""))
    return bool(kept - shown)
