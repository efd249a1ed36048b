"""What a file really is, judged by its bytes, and the zip guards that run before anything inflates."""

from __future__ import annotations

import io
import struct
import zipfile
from pathlib import Path

import pytest

from ingest.word.sniff import (
    MAX_ZIP_ENTRIES,
    DocumentError,
    check_zip,
    prolog_verdict,
    sniff,
)
from tests import corpus as real
from tests.fixtures.hostile import build

pytestmark = pytest.mark.no_database  # the PostgreSQL pass of make test leaves it out

REPO = Path(__file__).resolve().parents[3]
HOSTILE = REPO / "tests" / "fixtures" / "hostile"

LIMITS = {"max_uncompressed": 200 * 2**20, "max_ratio": 100}


def corpus(pattern: str) -> list[object]:
    files = real.params(pattern)
    assert files, f"corpus files missing: {pattern}"
    return files


@pytest.mark.parametrize("path", corpus("docx/*.docx"), ids=lambda p: p.name)
def test_every_real_docx_is_docx(path: Path) -> None:
    assert sniff(path.read_bytes(), path.name) == "docx"


@pytest.mark.parametrize("path", corpus("doc/*.doc") + corpus("legacy-font/*.doc"), ids=lambda p: p.name)
def test_every_real_word97_file_is_doc(path: Path) -> None:
    assert sniff(path.read_bytes(), path.name) == "doc"


@pytest.mark.parametrize("path", corpus("*/*.rtf"), ids=lambda p: p.name)
def test_real_rtf(path: Path) -> None:
    assert sniff(path.read_bytes()) == "rtf"


@pytest.mark.parametrize("path", corpus("other/*.odt"), ids=lambda p: p.name)
def test_real_odt(path: Path) -> None:
    assert sniff(path.read_bytes()) == "odt"


@pytest.mark.parametrize("path", corpus("msg/*.msg"), ids=lambda p: p.name)
def test_outlook_items_are_ole_but_not_word(path: Path) -> None:
    assert sniff(path.read_bytes(), "bai-viet.doc") == "unknown"


@pytest.mark.parametrize(
    ("name", "kind"),
    [
        ("pdf-renamed.docx", "pdf"),
        ("jpeg-renamed.docx", "image"),
        ("huge-dimensions.png", "image"),
        ("archive-renamed.docx", "zip"),
        ("encrypted.docx", "encrypted"),
        ("encrypted-flag.doc", "encrypted"),
        ("random-bytes.doc", "unknown"),
        ("empty.docx", "unknown"),
        # damaged, but still recognisably meant to be Word/ODF: the caller says "corrupt"
        ("truncated.docx", "docx"),
        ("zip-bomb-declared.docx", "docx"),
        ("billion-laughs.odt", "odt"),
    ],
)
def test_hostile_files_are_named_by_their_bytes(name: str, kind: str) -> None:
    assert sniff((HOSTILE / name).read_bytes(), name) == kind


def test_the_filename_is_never_trusted() -> None:
    pdf = (HOSTILE / "pdf-renamed.docx").read_bytes()
    docx = build.docx_bytes()
    assert sniff(pdf, "bai-viet.docx") == "pdf"
    assert sniff(docx, "scan.pdf") == "docx"
    assert sniff(docx, "") == "docx"


def _with_macros(docx: bytes) -> bytes:
    """A .docm as Word saves it: macro-enabled main content type plus a vbaProject part."""
    with zipfile.ZipFile(io.BytesIO(docx)) as zf:
        types = zf.read("[Content_Types].xml")
    types = types.replace(
        b"application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml",
        b"application/vnd.ms-word.document.macroEnabled.main+xml",
    )
    out = io.BytesIO()
    source = io.BytesIO(build.rezip(docx, {"[Content_Types].xml": types}))
    with zipfile.ZipFile(source) as src, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            dst.writestr(info, src.read(info))
        dst.writestr("word/vbaProject.bin", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(504))
    return out.getvalue()


def test_macro_enabled_word_file_is_docm() -> None:
    assert sniff(_with_macros(build.docx_bytes()), "bai.docx") == "docm"


def test_password_protected_odt_is_encrypted() -> None:
    odt = real.read("other/mqtt_baocao_libreoffice6.odt")
    with zipfile.ZipFile(io.BytesIO(odt)) as zf:
        manifest = zf.read("META-INF/manifest.xml")
    # what LibreOffice writes for every encrypted part of a password-protected file
    manifest = manifest.replace(
        b'manifest:full-path="content.xml"',
        b'manifest:full-path="content.xml"><manifest:encryption-data manifest:checksum-type="SHA1/1K"'
        b' manifest:checksum="x"/></manifest:file-entry><manifest:file-entry manifest:media-type=""'
        b' manifest:full-path="dummy"',
        1,
    )
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(odt)) as src, zipfile.ZipFile(out, "w") as dst:
        for info in src.infolist():
            data = manifest if info.filename == "META-INF/manifest.xml" else src.read(info)
            dst.writestr(info, data)
    assert sniff(out.getvalue()) == "encrypted"


# ------------------------------------------------------------------------------------- zip guards


def _reason(data: bytes, **limits: int) -> str:
    with pytest.raises(DocumentError) as info:
        check_zip(data, **{**LIMITS, **limits})
    return info.value.reason


def test_ordinary_docx_and_odt_pass_the_guards() -> None:
    check_zip(build.docx_bytes(), **LIMITS)
    for path in real.paths("docx/*.docx", "other/*.odt"):
        check_zip(path.read_bytes(), **LIMITS)


def test_declared_two_gigabytes_is_refused_without_inflating() -> None:
    data = (HOSTILE / "zip-bomb-declared.docx").read_bytes()
    with pytest.raises(DocumentError) as info:
        check_zip(data, **LIMITS)
    assert info.value.reason == "too_large"
    assert "2.1 GB" in info.value.detail


def test_compression_ratio_bomb() -> None:
    with pytest.raises(DocumentError) as info:
        check_zip((HOSTILE / "zip-bomb-ratio.docx").read_bytes(), **LIMITS)
    assert info.value.reason == "too_large"
    assert "word/document.xml" in info.value.detail


def test_many_small_members_add_up() -> None:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as zf:
        for i in range(30):
            zf.writestr(f"word/media/image{i}.bmp", b" " * 2**20)  # 1 MB each, under the ratio floor
    assert _reason(out.getvalue(), max_uncompressed=20 * 2**20) == "too_large"
    check_zip(out.getvalue(), **LIMITS)  # 30 MB is fine under the default 200 MB


def test_too_many_entries_is_refused_before_zipfile_reads_them() -> None:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_STORED) as zf:
        for i in range(MAX_ZIP_ENTRIES + 1):
            zf.writestr(f"{i}", b"")
    assert _reason(out.getvalue()) == "too_large"


def test_lying_sizes_fail_the_crc_instead_of_inflating() -> None:
    assert _reason((HOSTILE / "zip-bomb-lying-sizes.docx").read_bytes()) == "corrupt_document"


@pytest.mark.parametrize("name", ["billion-laughs.docx", "xxe-external-entity.docx", "billion-laughs.odt"])
def test_a_dtd_in_any_xml_part_is_refused(name: str) -> None:
    with pytest.raises(DocumentError) as info:
        check_zip((HOSTILE / name).read_bytes(), **LIMITS)
    assert info.value.reason == "corrupt_document"
    assert "DTD" in info.value.detail


def test_truncated_zip_is_corrupt() -> None:
    assert _reason((HOSTILE / "truncated.docx").read_bytes()) == "corrupt_document"


def test_zipcrypto_member_is_encrypted() -> None:
    assert _reason((HOSTILE / "zipcrypto-member.docx").read_bytes()) == "encrypted_document"


def test_member_pointing_past_the_end_is_corrupt() -> None:
    data = bytearray(build.docx_bytes())
    central = data.find(b"PK\x01\x02")
    struct.pack_into("<I", data, central + 20, 10**8)  # compressed size of the first member
    assert _reason(bytes(data)) == "corrupt_document"


@pytest.mark.parametrize(
    ("head", "verdict"),
    [
        (b'<?xml version="1.0"?>\n<w:document/>', "ok"),
        (b'<?xml version="1.0"?><!-- <!DOCTYPE in a comment> --><root/>', "ok"),
        (b'<?xml version="1.0"?><!-- long -->' + b" " * 100 + b"<!DOCTYPE x []><x/>", "dtd"),
        (b"\xef\xbb\xbf<!DOCTYPE x><x/>", "dtd"),
        ('<?xml version="1.0" encoding="UTF-16"?><!DOCTYPE x><x/>'.encode("utf-16"), "dtd"),
        (b"<?xml version='1.0'?><!--" + b"-" * 70_000, "long"),
        (b"application/vnd.oasis.opendocument.text", "ok"),
    ],
)
def test_prolog_verdict(head: bytes, verdict: str) -> None:
    assert prolog_verdict(head, complete=True) == verdict


def test_prolog_verdict_asks_for_more_bytes_when_undecided() -> None:
    assert prolog_verdict(b'<?xml version="1.0"?><!-- not closed', complete=False) is None
