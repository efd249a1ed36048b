"""The orchestrator: every contributor file becomes an article or a DocumentError with a true reason.

Real files only: python-docx articles, LibreOffice-made .doc/.odt, the shared corpus of real
Vietnamese documents, and the hostile set of tests/fixtures/hostile (built by its build.py).
"""

from __future__ import annotations

import base64
import hashlib
import io
import os
import signal
import threading
import time
import unicodedata
from collections.abc import Iterator
from pathlib import Path

import docx
import pytest
from docx.shared import Cm
from PIL import Image

from core.text import contains_phrase
from ingest.word import (
    REASONS,
    ConversionLimits,
    ConvertedDocument,
    DocumentError,
    convert_document,
    convert_document_isolated,
    is_document_candidate,
    libreoffice,
)
from ingest.word.pool import get_pool, shutdown_pool
from ingest.word.sandbox import WorkerCrashed, WorkerMemoryError, WorkerPool, WorkerTimeout
from tests import corpus as real
from tests.fixtures.hostile import build
from tests.servers import pid_alive

pytestmark = pytest.mark.no_database  # the PostgreSQL pass of make test leaves it out

REPO = Path(__file__).resolve().parents[3]
HOSTILE = REPO / "tests" / "fixtures" / "hostile"

TITLE = "Chi bộ Văn phòng sinh hoạt chuyên đề quý IV"
LEAD = "Sáng 18/11, Chi bộ Văn phòng tổ chức sinh hoạt chuyên đề quý IV năm 2026."
BODY = "Các đảng viên đã thảo luận sôi nổi, đóng góp nhiều ý kiến thiết thực về việc nâng cao chất lượng."
CAPTION = "Ảnh: Quang cảnh buổi sinh hoạt chuyên đề"
BYLINE = "Nguyễn Thị Lan – Chi bộ Văn phòng"


@pytest.fixture(scope="module", autouse=True)
def _stop_pool() -> Iterator[None]:
    yield
    shutdown_pool()


def article(*, picture: bytes | None = None, table: bool = False) -> bytes:
    """A one-page news item as a contributor's Word makes it (python-docx)."""
    document = docx.Document()
    document.add_heading(TITLE, level=1)
    lead = document.add_paragraph()
    lead.add_run(LEAD).bold = True
    document.add_paragraph(BODY)
    if picture is not None:
        document.add_picture(io.BytesIO(picture), width=Cm(14))
        document.add_paragraph().add_run(CAPTION).italic = True
    if table:
        cells = document.add_table(rows=2, cols=2).rows
        cells[0].cells[0].text, cells[0].cells[1].text = "Đơn vị", "Số bài"
        cells[1].cells[0].text, cells[1].cells[1].text = "Chi bộ 3", "12"
    document.add_paragraph(BYLINE)  # Word files end with a paragraph, after any table
    out = io.BytesIO()
    document.save(out)
    return out.getvalue()


def assert_vietnamese_article(result: ConvertedDocument) -> None:
    assert isinstance(result, ConvertedDocument)
    assert result.text.strip()
    assert unicodedata.is_normalized("NFC", result.text)
    assert "data:" not in result.body_html


# ------------------------------------------------------------------------------------- candidates


@pytest.mark.parametrize(
    ("filename", "content_type", "data", "expected"),
    [
        ("bai-viet.docx", "application/vnd.openxmlformats-officedocument.wordprocessingml.document", "docx", True),
        ("Bài viết.DOC", "application/octet-stream", "doc", True),
        ("noname", "application/octet-stream", "docx", True),
        ("noname", "application/octet-stream", "doc", True),
        ("", "", "rtf", True),
        ("bai.odt", "application/vnd.oasis.opendocument.text", "odt", True),
        ("bao-cao.pdf", "application/pdf", "pdf", True),
        ("scan.docx", "application/msword", "pdf", True),  # disguised: refused later with a reason
        ("bai.docx", "application/octet-stream", "encrypted", True),
        ("anh.jpg", "image/jpeg", "jpeg", False),
        ("anh.docx", "application/octet-stream", "jpeg", False),  # a photo, whatever its name
        ("photo", "application/msword", "jpeg", False),
        ("bang-diem.xlsx", "application/octet-stream", "encrypted", False),
        ("ghi-chu.txt", "text/plain", "text", False),
        ("winmail.dat", "application/ms-tnef", "text", False),
        ("tai-lieu.zip", "application/zip", "zip", False),
    ],
)
def test_is_document_candidate(filename: str, content_type: str, data: str, expected: bool) -> None:
    # Made on demand: only the .doc and .odt cases need the external corpus (and skip without it).
    samples = {
        "docx": build.docx_bytes,
        "doc": lambda: real.read("doc/mauvanban_don-xin-nghi-phep.doc"),
        "rtf": lambda: real.read("other/viparse_tcvn3_2004-A3.rtf"),
        "odt": lambda: real.read("other/mqtt_baocao_libreoffice6.odt"),
        "pdf": (HOSTILE / "pdf-renamed.docx").read_bytes,
        "encrypted": (HOSTILE / "encrypted.docx").read_bytes,
        "jpeg": lambda: build.photo(64, 48),
        "text": "Em gửi bài ạ".encode,
        "zip": (HOSTILE / "archive-renamed.docx").read_bytes,
    }
    assert is_document_candidate(filename, content_type, samples[data]()) is expected


# ------------------------------------------------------------------------------------- hostile files


@pytest.mark.parametrize(("name", "reason"), sorted(build.EXPECTED.items()))
def test_hostile_file_in_process(name: str, reason: str) -> None:
    with pytest.raises(DocumentError) as info:
        convert_document((HOSTILE / name).read_bytes(), name)
    assert info.value.reason == reason, info.value.detail
    assert info.value.reason in REASONS and info.value.detail


@pytest.mark.parametrize(("name", "reason"), sorted(build.EXPECTED.items()))
def test_hostile_file_isolated(name: str, reason: str) -> None:
    with pytest.raises(DocumentError) as info:
        convert_document_isolated((HOSTILE / name).read_bytes(), name)
    assert info.value.reason == reason, info.value.detail


@pytest.mark.parametrize(("name", "phrase"), sorted(build.CONVERTIBLE.items()))
def test_hostile_shapes_with_real_content_convert_in_the_sandbox(name: str, phrase: str) -> None:
    result = convert_document_isolated((HOSTILE / name).read_bytes(), name)
    assert_vietnamese_article(result)
    assert phrase in result.text


def test_every_hostile_fixture_is_covered() -> None:
    on_disk = {p.name for p in HOSTILE.iterdir() if p.is_file() and p.suffix not in (".py", ".png")}
    assert on_disk == set(build.EXPECTED) | set(build.CONVERTIBLE)


def test_document_over_the_size_limit() -> None:
    data = article()
    limits = ConversionLimits(max_document_bytes=len(data) - 1)
    for convert in (convert_document, convert_document_isolated):
        with pytest.raises(DocumentError) as info:
            convert(data, "bai.docx", limits=limits)
        assert info.value.reason == "too_large"


def peak_rss_after(data: bytes, filename: str) -> tuple[str, int]:
    """Runs inside a sandbox worker: the reason the conversion gave, and the worker's peak RSS (KB)."""
    try:
        convert_document(data, filename)
        reason = "converted"
    except DocumentError as exc:
        reason = exc.reason
    # VmHWM, not ru_maxrss: Linux carries ru_maxrss over fork+exec, so a worker started by a big
    # pytest process would report its parent's size.
    status = Path("/proc/self/status").read_text()
    return reason, int(next(line.split()[1] for line in status.splitlines() if line.startswith("VmHWM:")))


@pytest.mark.parametrize(
    ("name", "reason"),
    [("zip-bomb-declared.docx", "too_large"), ("zip-bomb-lying-sizes.docx", "corrupt_document")],
)
def test_zip_bombs_keep_worker_memory_small(name: str, reason: str) -> None:
    pool = WorkerPool(1)
    try:
        got, peak_kb = pool.call(
            "tests.ingest.word.test_convert:peak_rss_after",
            (HOSTILE / name).read_bytes(),
            name,
            timeout=60,
            memory_mb=1024,
        )
    finally:
        pool.shutdown()
    assert got == reason
    assert peak_kb < 300 * 1024  # the 2.1 GB (or 30 MB) never materialised


# ------------------------------------------------------------------------------------- the pool


def test_pool_survives_a_worker_killed_by_the_memory_limit() -> None:
    # A 36 MP picture (under the 50 MP limit) needs 144 MB once decoded: more than 200 MB of
    # address space leaves after Python, lxml and the document itself.
    big = io.BytesIO()
    Image.new("RGB", (6000, 6000), (30, 90, 160)).save(big, "PNG")
    data = article(picture=big.getvalue())
    with pytest.raises(DocumentError) as info:
        convert_document_isolated(data, "bai.docx", limits=ConversionLimits(memory_mb=200))
    # Usually "ran out of memory"; lxml sometimes reports the exhaustion as a syntax error instead.
    assert info.value.reason == "corrupt_document"
    # the next calls get healthy workers, and the same file converts with the default ceiling
    with pytest.raises(DocumentError) as info:
        convert_document_isolated((HOSTILE / "encrypted.docx").read_bytes(), "bai.docx")
    assert info.value.reason == "encrypted_document"
    result = convert_document_isolated(data, "bai.docx")
    assert contains_phrase(result.text, "thảo luận sôi nổi")
    assert [(i.width, i.web_width) for i in result.images] == [(6000, 1200)]


def test_worker_pool_recovers_from_timeout_memory_and_crash() -> None:
    pool = WorkerPool(1)
    try:
        with pytest.raises(WorkerTimeout):
            pool.call("time:sleep", 30, timeout=0.5, memory_mb=512)
        with pytest.raises(WorkerMemoryError):
            pool.call("builtins:bytearray", 2 * 2**30, timeout=30, memory_mb=512)
        with pytest.raises(WorkerCrashed):
            pool.call("os:abort", timeout=30, memory_mb=512)
        with pytest.raises(ValueError, match="invalid literal"):
            pool.call("builtins:int", "mười", timeout=30, memory_mb=512)
        assert pool.call("builtins:len", "còn sống", timeout=30, memory_mb=512) == 8
        # a worker killed from outside while idle is replaced before the next call
        (pid,) = pool.worker_pids()
        os.kill(pid, signal.SIGKILL)
        deadline = time.monotonic() + 120  # until the kill has landed; the deadline only catches a hang
        while pid_alive(pid) and time.monotonic() < deadline:
            time.sleep(0.01)
        assert pool.call("builtins:len", "xin chào", timeout=30, memory_mb=512) == 8
    finally:
        pool.shutdown()


def test_worker_replies_may_hold_only_known_classes() -> None:
    pool = WorkerPool(1)
    try:
        with pytest.raises(WorkerCrashed, match="forbidden class"):
            pool.call("os:stat", "/", timeout=30, memory_mb=512)  # os.stat_result is not allowed
    finally:
        pool.shutdown()


def test_worker_timeout_also_kills_its_libreoffice() -> None:
    pool = WorkerPool(1)
    doc = libreoffice.convert(article(table=True), "doc:MS Word 97")
    limits = ConversionLimits(timeout_seconds=30)
    try:
        with pytest.raises(WorkerTimeout):
            # the worker's own LibreOffice timeout is 30 s; the pool gives up first
            pool.call("ingest.word:convert_document", doc, "bai.doc", limits=limits, timeout=0.3, memory_mb=1024)
    finally:
        pool.shutdown()
    deadline = time.monotonic() + 120  # ends when they are gone; the deadline only catches a hang
    while live_soffice_in(pool) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not live_soffice_in(pool)


def live_soffice_in(pool: WorkerPool) -> list[int]:
    """soffice processes (not zombies) whose environment points into this pool's temp dir."""
    found = []
    for proc in Path("/proc").glob("[0-9]*"):
        try:
            if "soffice" not in (proc / "comm").read_text() or (proc / "stat").read_text().split(") ")[1][0] == "Z":
                continue
            if str(pool._tmp).encode() in (proc / "environ").read_bytes():
                found.append(int(proc.name))
        except OSError:
            continue
    return found


def test_concurrent_callers_share_the_pool_in_parallel() -> None:
    data = article(picture=build.photo(1600, 1200))
    results: list[ConvertedDocument] = []
    errors: list[BaseException] = []

    def work() -> None:
        try:
            for _ in range(3):
                results.append(convert_document_isolated(data, "bai.docx"))
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=work) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors
    assert len(results) == 12
    assert all(r.images and r.images[0].web_width == 1200 for r in results)

    assert len(get_pool().worker_pids()) == get_pool().size  # all workers were used


# ------------------------------------------------------------------------------------- Word files


def test_one_page_news_item_with_photo() -> None:
    photo = build.photo(1600, 1200)
    result = convert_document(article(picture=photo), "bai.docx")
    assert_vietnamese_article(result)
    assert result.format == "docx"
    assert result.title == TITLE
    assert len(result.images) == 1
    image = result.images[0]
    assert image.origin == "embedded"
    assert image.sha256 == hashlib.sha256(image.data).hexdigest()
    assert f"/media/{image.sha256}" in result.body_html
    assert (image.content_type, image.width, image.height) == ("image/jpeg", 1600, 1200)
    assert (image.web_content_type, image.web_width, image.web_height) == ("image/jpeg", 1200, 900)
    assert Image.open(io.BytesIO(image.web_data or b"")).size == (1200, 900)


def test_attached_photos_follow_the_embedded_ones_without_duplicates() -> None:
    embedded = build.photo(1600, 1200, seed=1)
    beside = build.photo(2000, 1500, seed=2)
    result = convert_document(
        article(picture=embedded),
        "bai.docx",
        attached_images=[
            ("IMG_0001.jpg", embedded),  # the same photo, also attached
            ("IMG_0002.jpg", beside),
            ("IMG_0002 (1).jpg", beside),
            ("ghi-chu.txt", b"not a photo"),
            ("panorama.png", (HOSTILE / "huge-dimensions.png").read_bytes()),
        ],
    )
    assert [(i.origin, i.width) for i in result.images] == [("embedded", 1600), ("attached", 2000)]
    attached = result.images[1]
    assert attached.caption is None
    assert (attached.web_width, attached.web_height) == (1200, 900)
    assert "attached_image_rejected" in result.warnings


def test_photo_only_attached_to_a_document_without_pictures() -> None:
    result = convert_document(article(), "bai.docx", attached_images=[("anh.jpg", build.photo(900, 600))])
    assert [(i.origin, i.web_width) for i in result.images] == [("attached", 900)]


def metafile_docx() -> bytes:
    """A .docx holding an EMF and a WMF picture, as LibreOffice writes it when converting a .doc."""
    frames = "".join(
        f'<text:p><draw:frame draw:name="p{i}" text:anchor-type="as-char" svg:width="8cm" svg:height="6cm">'
        f"<draw:image><office:binary-data>{base64.b64encode(data).decode()}</office:binary-data>"
        "</draw:image></draw:frame></text:p>"
        for i, data in enumerate([build.emf(), build.wmf()])
    )
    fodt = (
        libreoffice._FODT_HEAD
        + f'<text:h text:outline-level="1">{TITLE}</text:h><text:p>{BODY}</text:p>'
        + frames
        + f"<text:p>{BYLINE}</text:p>"
        + libreoffice._FODT_TAIL
    )
    (result,) = libreoffice.convert_many([fodt.encode()], "docx")
    assert result is not None
    return result


def test_emf_and_wmf_pictures_get_png_renditions() -> None:
    result = convert_document(metafile_docx(), "bai.docx")
    assert [i.content_type for i in result.images] == ["image/x-emf", "image/x-wmf"]
    assert all(i.web_content_type == "image/png" and i.web_data for i in result.images)
    assert "image_unconverted" not in result.warnings


def test_emf_without_libreoffice_is_kept_with_a_warning() -> None:
    result = convert_document(metafile_docx(), "bai.docx", limits=ConversionLimits(soffice=None))
    assert [i.web_data for i in result.images] == [None, None]
    assert [i.content_type for i in result.images] == ["image/x-emf", "image/x-wmf"]
    assert "image_unconverted" in result.warnings


def test_docm_is_converted_as_docm() -> None:
    from tests.ingest.word.test_sniff import _with_macros

    result = convert_document(_with_macros(article()), "bai.docm")
    assert result.format == "docm"
    assert result.title == TITLE


# ------------------------------------------------------------------------------------- LibreOffice


def test_word97_file_made_from_python_docx() -> None:
    doc = libreoffice.convert(article(table=True), "doc:MS Word 97")
    result = convert_document(doc, "bai.doc")
    assert_vietnamese_article(result)
    assert result.format == "doc"
    assert result.title == TITLE
    assert contains_phrase(result.text, "thảo luận sôi nổi")
    assert "Chi bộ 3" in result.body_html and "<table" in result.body_html


@pytest.mark.parametrize("soffice", [None, "/nonexistent/soffice"])
@pytest.mark.parametrize(
    "path",
    real.params(
        "doc/mauvanban_don-xin-nghi-phep.doc",
        "other/mqtt_baocao_libreoffice6.odt",
        "other/viparse_tcvn3_2004-A3.rtf",
    ),
    ids=lambda p: p.suffix,
)
def test_converter_missing(path: Path, soffice: str | None) -> None:
    with pytest.raises(DocumentError) as info:
        convert_document(path.read_bytes(), path.name, limits=ConversionLimits(soffice=soffice))
    assert info.value.reason == "converter_missing"


def test_docx_needs_no_libreoffice() -> None:
    result = convert_document(article(), "bai.docx", limits=ConversionLimits(soffice=None))
    assert result.title == TITLE


def test_libreoffice_timeout_is_a_corrupt_document() -> None:
    doc = real.read("doc/mauvanban_don-xin-nghi-phep.doc")
    with pytest.raises(DocumentError) as info:
        convert_document(doc, "don.doc", limits=ConversionLimits(timeout_seconds=0.05))
    assert info.value.reason == "corrupt_document"
    assert "timeout" in info.value.detail


# A phrase of each real file, as a reader sees it (legacy-font files decoded to Unicode).
CORPUS_PHRASES = {
    "doc/mauvanban_don-xin-nghi-phep.doc": "đơn xin nghỉ phép",
    "doc/qlxdvbpl_07-2025-QD-UBND-thai-nguyen.doc": "quản lý nhà nước về giá",
    "legacy-font/viparse_tcvn3+vni-mixed_2004-duanLD9820.doc": "Lâm Đồng",
    "legacy-font/viparse_tcvn3_2002-0112qd.doc": "Bộ Tài chính",
    "legacy-font/viparse_tcvn3_2003-02144qd.doc": "Bộ Tài chính",
    "legacy-font/viparse_tcvn3_2003-A37.rtf": "Bộ Tài chính",
    "legacy-font/viparse_vni_2008-23.QD-991-UBND.doc": "Ủy ban nhân dân",
    "legacy-font/viparse_vni_2009-download.doc": "Độc lập",
    "other/baocaoccpm_BaoCao_word2013.odt": "Báo cáo tiến độ",
    "other/mqtt_baocao_libreoffice6.odt": "Tìm hiểu MQTT",
    "other/viparse_tcvn3_2004-A3.rtf": "Nghị định",
    "other/xlaptit_baocao_libreoffice24.odt": "chữ viết tay",
}


@pytest.mark.parametrize(("name", "phrase"), sorted(CORPUS_PHRASES.items()), ids=sorted(CORPUS_PHRASES))
def test_real_doc_odt_rtf_files(name: str, phrase: str) -> None:
    path = real.path(name)
    result = convert_document(path.read_bytes(), path.name)
    assert_vietnamese_article(result)
    assert result.format == path.suffix[1:]
    assert contains_phrase(result.text, phrase), result.text[:300]


def test_corpus_phrases_cover_every_real_doc_odt_rtf() -> None:
    # every name, in the repository or not (tests/test_real_corpus.py checks the list against the folder)
    on_disk = set(real.names("*.doc", "*.odt", "*.rtf"))
    assert on_disk == set(CORPUS_PHRASES)


@pytest.mark.parametrize("path", real.params("docx/*.docx"), ids=lambda p: p.name)
def test_every_real_docx_through_the_isolated_converter(path: Path) -> None:
    result = convert_document_isolated(path.read_bytes(), path.name)
    assert_vietnamese_article(result)
    assert result.format == "docx"
    for image in result.images:
        assert image.sha256 == hashlib.sha256(image.data).hexdigest()
