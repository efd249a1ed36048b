"""ingest.word.unlink: include fields and outward links leave the input; what readers click stays."""

from __future__ import annotations

import io
import zipfile

import pytest

from ingest.word.unlink import strip_links, strip_rtf
from tests.fixtures.hostile import build

pytestmark = pytest.mark.no_database  # the PostgreSQL pass of make test leaves it out


@pytest.mark.parametrize(
    "instruction",
    [
        rb'INCLUDEPICTURE "/etc/x.png"',
        rb'{\rtlch INCLUDE}{PICTURE "/etc/x.png"}',  # split over formatting groups, as Word writes it
        rb"\'49NCLUDETEXT \"/etc/hostname\"",  # a hex escape for the I
        rb'\u73?NCLUDETEXT "/etc/hostname"',  # a Unicode escape with its fallback character
        rb'  link Excel.Sheet "C:\\\\x.xls" ""',  # lower case, leading spaces
        rb'DDEAUTO c:\\\\windows\\\\system32\\\\cmd.exe "/c calc"',
    ],
)
def test_rtf_include_fields_lose_their_instruction_keep_their_result(instruction: bytes) -> None:
    rtf = b"{\\rtf1 a{\\field{\\*\\fldinst " + instruction + b"}{\\fldrslt KQ}} b}"
    assert strip_rtf(rtf) == b"{\\rtf1 a{\\field{\\*\\fldinst }{\\fldrslt KQ}} b}"


def test_rtf_hyperlinks_stay_and_linked_objects_become_inert() -> None:
    rtf = (
        b'{\\rtf1 {\\field{\\*\\fldinst HYPERLINK "https://x.vn"}{\\fldrslt x}}{\\object\\objautlink{\\*\\objdata 01}}}'
    )
    assert strip_rtf(rtf) == rtf.replace(b"\\objautlink", b"\\objemb")


def test_rtf_binary_data_is_skipped_not_parsed() -> None:
    rtf = b'{\\rtf1 {\\pict\\bin4 }{\\}{\\field{\\*\\fldinst INCLUDETEXT "/x"}{\\fldrslt r}}}'
    assert b"INCLUDETEXT" not in strip_rtf(rtf)


def _odt_content(data: bytes) -> str:
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        assert zf.namelist()[0] == "mimetype" and zf.getinfo("mimetype").compress_type == zipfile.ZIP_STORED
        return zf.read("content.xml").decode()


def test_odt_links_go_and_hyperlinks_stay() -> None:
    odt = build.including_odt(["/srv/a.txt"], ["/srv/b.png"], ["/srv/c.odt"])
    content = _odt_content(strip_links(odt, "odt") or b"")
    assert "section-source" not in content and "/srv/" not in content
    assert build.INCLUDE_BEFORE in content and build.INCLUDE_AFTER in content


def test_docx_external_relationships_go_but_hyperlinks() -> None:
    docx = build.including_docx(["/srv/a.txt"], ["/srv/b.png"], ["/srv/c.rtf"])
    with zipfile.ZipFile(io.BytesIO(docx)) as zf:
        rels = zf.read("word/_rels/document.xml.rels").decode()
    rels = rels.replace(
        "</Relationships>",
        '<Relationship Id="rIdH" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/hyperlink"'
        ' Target="https://x.vn/" TargetMode="External"/></Relationships>',
    )
    docx = build.rezip(docx, {"word/_rels/document.xml.rels": rels.encode()})
    with zipfile.ZipFile(io.BytesIO(strip_links(docx, "docx") or b"")) as zf:
        kept = zf.read("word/_rels/document.xml.rels").decode()
    assert "/srv/" not in kept and "https://x.vn/" in kept


def test_unreadable_input_is_not_given_to_libreoffice() -> None:
    assert strip_links(b"PK\x03\x04 not a zip", "odt") is None
    assert strip_links((build.HERE / "billion-laughs.odt").read_bytes(), "odt") is None
    assert strip_links(b"\xd0\xcf\x11\xe0 a .doc", "doc") == b"\xd0\xcf\x11\xe0 a .doc"
