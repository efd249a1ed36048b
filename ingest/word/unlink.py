"""Remove what makes a document pull in other files, before LibreOffice reads it.

A contributor's file may name a file on our server (or a URL) to be included when it is opened:
INCLUDETEXT / INCLUDEPICTURE / LINK / DDE fields, linked OLE objects, linked pictures, linked
sections. LibreOffice resolves some of them while loading (RTF INCLUDEPICTURE does, measured with
7.4), whatever its settings say, so the draft would show the server's file. Its profile is told
never to update links and it runs confined (libreoffice.py); this module is the layer underneath:
the input it gets has no such links left.

- RTF: the instruction of an include-type field is emptied (the field's result stays); a linked
  OLE object (\\objlink, \\objautlink) is declared embedded, so nothing is followed.
- ODT: linked sections (text:section-source) and DDE sources go; a picture, object or fill image
  whose xlink:href leaves the package loses the href.
- DOCX/DOCM: every external relationship but hyperlinks goes (linked pictures, linked OLE objects,
  subdocuments, attached templates, frames); what pointed at it is left dangling and reads as a
  missing picture.

`strip_links` returns None for a file that cannot be read well enough to be cleaned: it is not
given to LibreOffice at all.
"""

from __future__ import annotations

import io
import re
import zipfile
from typing import Any

from lxml import etree

# Field types whose result is another file's content (ECMA-376 §17.16.5; Word's RTF is the same).
INCLUDE_FIELDS = frozenset(
    {"INCLUDEPICTURE", "INCLUDETEXT", "INCLUDE", "IMPORT", "LINK", "DDE", "DDEAUTO", "RD", "DATABASE"}
)


def strip_links(data: bytes, ext: str) -> bytes | None:
    """`data` (of LibreOffice input kind `ext`) without its links; None when it cannot be cleaned."""
    try:
        if ext == "rtf":
            return strip_rtf(data)
        if ext == "odt":
            return strip_odt(data)
        if ext in ("docx", "docm"):
            return strip_docx(data)
    except (zipfile.BadZipFile, etree.XMLSyntaxError, KeyError, ValueError, OSError, EOFError):
        return None
    return data  # .doc (binary Word): LibreOffice's settings and confinement are its guard


# ---------------------------------------------------------------------------------------------
# RTF

_CONTROL = re.compile(rb"\\([a-zA-Z]{1,32})(-?\d{1,10})? ?|\\'([0-9a-fA-F]{2})|\\(.)|([{}])", re.DOTALL)
_LINKED_OBJECT = re.compile(rb"\\obj(?:aut)?link(?![a-zA-Z])")


def strip_rtf(data: bytes) -> bytes:
    """The RTF with include-type field instructions emptied and linked objects made inert."""
    cut = [(start, end) for start, end in _fldinst_groups(data) if _field_type(data[start:end]) in INCLUDE_FIELDS]
    out = bytearray(data)
    for start, end in reversed(_outermost(cut)):
        out[start:end] = b"{\\*\\fldinst }"
    return _LINKED_OBJECT.sub(b"\\\\objemb", bytes(out))


def _fldinst_groups(data: bytes) -> list[tuple[int, int]]:
    """(start, end) of every {...} group holding a \\fldinst control word, braces included."""
    stack: list[list[Any]] = []  # [start offset, holds \fldinst]
    found: list[tuple[int, int]] = []
    pos = 0
    while True:
        match = _CONTROL.search(data, pos)
        if match is None:
            return found
        word, number, _hex, _symbol, brace = match.groups()
        pos = match.end()
        if brace == b"{":
            stack.append([match.start(), False])
        elif brace == b"}":
            if stack:
                start, holds = stack.pop()
                if holds:
                    found.append((start, pos))
        elif word == b"fldinst" and stack:
            stack[-1][1] = True
        elif word == b"bin" and number:
            pos += max(0, int(number))  # raw bytes, braces among them mean nothing


def _outermost(ranges: list[tuple[int, int]]) -> list[tuple[int, int]]:
    kept: list[tuple[int, int]] = []
    for start, end in sorted(ranges):
        if kept and start < kept[-1][1]:
            continue  # nested in a group already cut
        kept.append((start, end))
    return kept


def _field_type(group: bytes) -> str:
    """The first word of a field instruction, with escapes decoded and formatting ignored.

    Word splits instructions over formatting groups and may spell them with \\'hh or \\uN escapes:
    "INCLUDE" "PICTURE" in two groups is still INCLUDEPICTURE.
    """
    parts: list[bytes] = []
    fallback = 0  # the replacement character that follows a \uN escape is not text
    pos = 0
    for match in _CONTROL.finditer(group):
        literal = group[pos : match.start()]
        if fallback and literal:
            literal, fallback = literal[1:], 0
        parts.append(literal)
        pos = match.end()
        word, number, hexa, symbol, _brace = match.groups()
        if word == b"u" and number:
            parts.append(chr(int(number) % 65536).encode("utf-8", "replace"))
            fallback = 1
        elif hexa is not None:
            if fallback:
                fallback = 0
            else:
                parts.append(bytes([int(hexa, 16)]))
        elif symbol is not None and symbol not in b"*\r\n":
            parts.append(symbol)
    parts.append(group[pos:])
    first = _FIRST_WORD.match(b"".join(parts).decode("latin-1"))
    return first.group(1).upper() if first else ""


_FIRST_WORD = re.compile(r"\s*([A-Za-z]+)")


# ---------------------------------------------------------------------------------------------
# ODT

_ODF = {
    "text": "urn:oasis:names:tc:opendocument:xmlns:text:1.0",
    "office": "urn:oasis:names:tc:opendocument:xmlns:office:1.0",
    "table": "urn:oasis:names:tc:opendocument:xmlns:table:1.0",
}
_XLINK_HREF = "{http://www.w3.org/1999/xlink}href"
# Elements that are themselves a link to outside content: removed whole.
_ODF_LINK_ELEMENTS = (
    f"{{{_ODF['text']}}}section-source",
    f"{{{_ODF['office']}}}dde-source",
    f"{{{_ODF['text']}}}dde-connection-decls",
    f"{{{_ODF['table']}}}table-source",
)
_SAFE_PARSER = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False, huge_tree=False)


def strip_odt(data: bytes) -> bytes:
    """The ODT with linked sections and DDE gone and every outward xlink:href removed."""
    with zipfile.ZipFile(io.BytesIO(data)) as zin:
        # content.xml and styles.xml, and those of embedded objects ("Object 1/content.xml")
        parts = [n for n in zin.namelist() if n.endswith(".xml") and not n.startswith("META-INF/")]
        replace = {name: _strip_odf_part(zin.read(name)) for name in parts}
        out = io.BytesIO()
        # ODF wants "mimetype" first and stored: keep the original order and methods.
        with zipfile.ZipFile(out, "w") as zout:
            for info in zin.infolist():
                zout.writestr(info, replace.get(info.filename) or zin.read(info))
    return out.getvalue()


def _strip_odf_part(xml: bytes) -> bytes:
    root = etree.fromstring(xml, _SAFE_PARSER)
    if root.getroottree().docinfo.internalDTD is not None:
        raise ValueError("DTD in an ODF part")  # entities are an attack, never a document feature
    for element in list(root.iter(*_ODF_LINK_ELEMENTS)):
        parent = element.getparent()
        if parent is not None:  # always: the root is office:document-*, never a link
            parent.remove(element)
    for element in root.iter():
        href = element.get(_XLINK_HREF)
        if href is not None and not _inside_package(href) and element.tag not in _ODF_KEEP_HREF:
            del element.attrib[_XLINK_HREF]
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8")


# Hyperlinks keep their targets: they are followed by a reader's click, never on load.
_ODF_KEEP_HREF = frozenset({f"{{{_ODF['text']}}}a", f"{{{_ODF['text']}}}bookmark-ref"})


def _inside_package(href: str) -> bool:
    """ "Pictures/x.png", "./Object 1", "#anchor": this file. A scheme ("file:", "http:", "C:"), an
    absolute or UNC path, or a way up ("../../etc/x") names something outside it."""
    target = href.strip().replace("\\", "/")
    if not target or target.startswith("#"):
        return True
    if _SCHEME.match(target) or target.startswith("/"):
        return False
    return ".." not in target.split("/")


_SCHEME = re.compile(r"^[a-zA-Z][a-zA-Z0-9+.-]*:")


# ---------------------------------------------------------------------------------------------
# DOCX

_PKG_REL = "{http://schemas.openxmlformats.org/package/2006/relationships}Relationship"
_HYPERLINK_TYPE = "/hyperlink"


def strip_docx(data: bytes) -> bytes:
    """The package without external relationships other than hyperlinks."""
    with zipfile.ZipFile(io.BytesIO(data)) as zin:
        replace: dict[str, bytes] = {}
        for name in zin.namelist():
            if not name.endswith(".rels"):
                continue
            rels = etree.fromstring(zin.read(name), _SAFE_PARSER)
            outward = [
                rel
                for rel in rels.iter(_PKG_REL)
                if rel.get("TargetMode") == "External" and not rel.get("Type", "").endswith(_HYPERLINK_TYPE)
            ]
            for rel in outward:
                parent = rel.getparent()
                if parent is not None:  # always: a relationship sits in <Relationships>
                    parent.remove(rel)
            if outward:
                replace[name] = etree.tostring(rels, xml_declaration=True, encoding="UTF-8")
        if not replace:
            return data
        out = io.BytesIO()
        with zipfile.ZipFile(out, "w") as zout:
            for info in zin.infolist():
                zout.writestr(info, replace.get(info.filename) or zin.read(info))
    return out.getvalue()
