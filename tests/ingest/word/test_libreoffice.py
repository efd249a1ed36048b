"""Real LibreOffice conversions: Word 97, ODT and RTF files become .docx; metafiles become PNG."""

from __future__ import annotations

import http.server
import io
import threading
import zipfile
from pathlib import Path

import docx
import pytest
from PIL import Image

from ingest.word import libreoffice
from ingest.word.sniff import sniff
from tests import corpus as real
from tests.fixtures.hostile import build

pytestmark = pytest.mark.no_database  # the PostgreSQL pass of make test leaves it out

REPO = Path(__file__).resolve().parents[3]

ARTICLE = [
    "Sáng 18/11, Đảng bộ phường tổ chức hội nghị tổng kết công tác năm 2026.",
    "Hội nghị đã thảo luận, thống nhất phương hướng, nhiệm vụ năm 2027.",
]
BYLINE = "Nguyễn Văn An – Chi bộ Khu phố 3"


def article_with_table() -> bytes:
    """A python-docx article with a table; Word files always end with a paragraph after a table
    (LibreOffice 7.4 flattens a table that is the very last element: research/infra.md §3)."""
    document = docx.Document()
    document.add_heading("Kết quả thi đua năm 2026", level=1)
    for text in ARTICLE:
        document.add_paragraph(text)
    table = document.add_table(rows=2, cols=2)
    for (row, col), text in {(0, 0): "Đơn vị", (0, 1): "Số bài", (1, 0): "Chi bộ 3", (1, 1): "12"}.items():
        table.cell(row, col).text = text
    document.add_paragraph(BYLINE)
    out = io.BytesIO()
    document.save(out)
    return out.getvalue()


def word97(data: bytes) -> bytes:
    return libreoffice.convert(data, "doc:MS Word 97")


def test_word97_round_trip_keeps_text_and_table() -> None:
    doc = word97(article_with_table())
    assert sniff(doc) == "doc"
    back = libreoffice.convert(doc, "docx")
    assert sniff(back) == "docx"
    document = docx.Document(io.BytesIO(back))
    paragraphs = [p.text for p in document.paragraphs if p.text.strip()]
    assert paragraphs[0] == "Kết quả thi đua năm 2026"
    assert ARTICLE[0] in paragraphs and BYLINE in paragraphs
    assert len(document.tables) == 1
    assert [c.text for c in document.tables[0].rows[1].cells] == ["Chi bộ 3", "12"]


def test_batch_keeps_order_and_marks_unreadable_inputs() -> None:
    inputs: list[bytes | Path] = [
        real.path("doc/mauvanban_don-xin-nghi-phep.doc"),
        bytes(range(256)) * 16,
        real.path("other/viparse_tcvn3_2004-A3.rtf"),
        real.path("other/mqtt_baocao_libreoffice6.odt"),
    ]
    results = libreoffice.convert_many(inputs, "docx")
    assert [r is not None for r in results] == [True, False, True, True]
    texts = [" ".join(p.text for p in docx.Document(io.BytesIO(r)).paragraphs) if r else None for r in results]
    assert "ĐƠN XIN NGHỈ PHÉP" in (texts[0] or "")
    assert "MQTT" in (texts[3] or "")


def test_twenty_files_in_one_call() -> None:
    doc = word97(article_with_table())
    results = libreoffice.convert_many([doc] * 20)
    assert len(results) == 20
    assert all(r is not None and sniff(r) == "docx" for r in results)


@pytest.mark.parametrize(
    "path",
    real.params("legacy-font/*", "other/*.rtf"),
    ids=lambda p: p.name,
)
def test_legacy_font_names_survive_for_the_decoder(path: Path) -> None:
    out = libreoffice.convert(path.read_bytes(), "docx")
    with zipfile.ZipFile(io.BytesIO(out)) as zf:
        xml = zf.read("word/document.xml") + zf.read("word/styles.xml")
    # TCVN3 fonts are ".Vn*", VNI fonts "VNI-*": docx.py decodes runs by these names
    assert b'w:ascii=".Vn' in xml or b'w:ascii="VNI-' in xml or b'w:ascii="VNI' in xml


def convert_concurrently(batcher: libreoffice.Batcher, items: list[bytes], timeout: float = 240) -> list[object]:
    """Each item converted by its own thread, as the ingest workers do; bytes or the exception."""
    results: list[object] = [None] * len(items)

    def run(i: int) -> None:
        try:
            results[i] = batcher.convert(items[i], "docx", timeout=timeout)
        except libreoffice.LibreOfficeError as exc:
            results[i] = exc

    threads = [threading.Thread(target=run, args=(i,)) for i in range(len(items))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return results


def test_batcher_shares_one_soffice_call_between_concurrent_requests(tmp_path: Path) -> None:
    pool = libreoffice.ProfilePool(tmp_path)
    # The batch closes when it is full (six requests), not when a time window ends: however slow the
    # machine is at starting the six threads, they share one call.
    batcher = libreoffice.Batcher(pool=pool, runners=1, window=600, max_batch=6)
    doc = real.read("doc/mauvanban_don-xin-nghi-phep.doc")
    rtf = real.read("other/viparse_tcvn3_2004-A3.rtf")
    starts: list[int] = []
    libreoffice.child_hook = lambda pgid: starts.append(pgid) if pgid else None
    try:
        results = convert_concurrently(batcher, [doc, rtf, doc, rtf, doc, rtf])
    finally:
        libreoffice.child_hook = None
    assert all(isinstance(r, bytes) and sniff(r) == "docx" for r in results)
    first = results[0]
    assert isinstance(first, bytes)
    assert "ĐƠN XIN NGHỈ PHÉP" in " ".join(p.text for p in docx.Document(io.BytesIO(first)).paragraphs)
    assert len(starts) == 1  # one soffice start for the six files: the requests were batched
    pool.clear()


def test_batcher_isolates_an_unreadable_file(tmp_path: Path) -> None:
    pool = libreoffice.ProfilePool(tmp_path)
    batcher = libreoffice.Batcher(pool=pool, runners=1, window=0.5)
    doc = real.read("doc/mauvanban_don-xin-nghi-phep.doc")
    garbage = bytes(range(256)) * 16
    results = convert_concurrently(batcher, [doc, garbage, doc, doc])
    assert [type(r).__name__ for r in results] == ["bytes", "LibreOfficeFailed", "bytes", "bytes"]
    pool.clear()


def test_batcher_deadline_and_missing_converter(tmp_path: Path) -> None:
    doc = real.read("doc/mauvanban_don-xin-nghi-phep.doc")
    batcher = libreoffice.Batcher(pool=libreoffice.ProfilePool(tmp_path), window=0.01)
    results = convert_concurrently(batcher, [doc, doc], timeout=0.2)
    assert all(isinstance(r, libreoffice.LibreOfficeTimeout) for r in results)
    with pytest.raises(libreoffice.LibreOfficeMissing):
        libreoffice.Batcher(soffice="/nonexistent/soffice").convert(doc)


def test_concurrent_conversions_get_their_own_profiles() -> None:
    doc = word97(article_with_table())
    results: list[bytes | None] = [None] * 3
    errors: list[BaseException] = []

    def run(i: int) -> None:
        try:
            results[i] = libreoffice.convert(doc, "docx")
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=run, args=(i,)) for i in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors
    assert all(r is not None and sniff(r) == "docx" for r in results)


def test_profiles_are_reused_and_keep_macros_disabled(tmp_path: Path) -> None:
    pool = libreoffice.ProfilePool(tmp_path)
    doc = word97(article_with_table())
    libreoffice.convert(doc, pool=pool)
    libreoffice.convert(doc, pool=pool)
    profiles = [p for p in tmp_path.iterdir() if p.name.startswith("profile-")]
    assert len(profiles) == 1  # one warm profile, used twice
    registry = (profiles[0] / "lo" / "user" / "registrymodifications.xcu").read_text()
    assert '<prop oor:name="MacroSecurityLevel" oor:op="fuse"><value>3</value>' in registry
    assert '<prop oor:name="DisableMacrosExecution" oor:op="fuse"><value>true</value>' in registry
    # nothing of a job is left behind in the profile's temp dir
    assert list((profiles[0] / "tmp").iterdir()) == []
    pool.clear()
    assert not any(tmp_path.iterdir())


@pytest.mark.parametrize("command", [None, "", "/nonexistent/bin/soffice", "soffice-not-installed"])
def test_missing_converter(command: str | None) -> None:
    assert libreoffice.find_soffice(command) is None
    with pytest.raises(libreoffice.LibreOfficeMissing):
        libreoffice.convert(b"{\\rtf1 x}", soffice=command)


def test_timeout_kills_the_whole_process_group() -> None:
    started: list[int] = []
    libreoffice.child_hook = lambda pgid: started.append(pgid) if pgid else None
    try:
        with pytest.raises(libreoffice.LibreOfficeTimeout):
            libreoffice.convert(build.docx_bytes(), "pdf", timeout=0.2)
    finally:
        libreoffice.child_hook = None
    assert len(started) == 1
    assert running_in_group(started[0]) == []  # oosplash and soffice.bin are gone too


def running_in_group(pgid: int) -> list[str]:
    """Live (not zombie) processes of a process group, from /proc. A killed soffice.bin is
    re-parented to PID 1, which reaps it whenever it does: a zombie holds no memory."""
    live = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            text = stat.read_text()
        except OSError:
            continue
        name, rest = text[text.index("(") + 1 : text.rindex(")")], text[text.rindex(")") + 2 :].split()
        if int(rest[2]) == pgid and rest[0] != "Z":
            live.append(name)
    return live


def test_unreadable_input_is_a_failure_not_an_exception_of_another_kind() -> None:
    with pytest.raises(libreoffice.LibreOfficeFailed):
        libreoffice.convert(bytes(range(256)) * 16, "docx")


def test_linked_pictures_are_not_fetched() -> None:
    """A contributor's file must not make the ingest host fetch URLs (tracking, intranet probing)."""
    requests: list[str] = []

    class Recorder(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            requests.append(self.path)
            self.send_response(404)
            self.end_headers()

        def log_message(self, *args: object) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Recorder)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    url = f"http://127.0.0.1:{server.server_address[1]}"
    try:
        rtf = (
            '{\\rtf1\\ansi {\\field{\\*\\fldinst INCLUDEPICTURE "' + url + '/rtf.png" \\\\d}{\\fldrslt x}}\\par}'
        ).encode()
        fodt = (
            libreoffice._FODT_HEAD.replace(
                "<office:document ", '<office:document xmlns:xlink="http://www.w3.org/1999/xlink" '
            )
            + '<text:p><draw:frame draw:name="x" text:anchor-type="as-char" svg:width="2cm" svg:height="2cm">'
            + f'<draw:image xlink:href="{url}/odt.png" xlink:type="simple" xlink:show="embed"/></draw:frame></text:p>'
            + libreoffice._FODT_TAIL
        ).encode()
        # An HTML page with a remote <img>: LibreOffice fetches that one unless the profile blocks
        # untrusted referer links (checked by hand: with the setting off, the request arrives).
        page = f'<!DOCTYPE html><html><body><p>x</p><img src="{url}/html.png"></body></html>'.encode()
        soffice = libreoffice.find_soffice("soffice")
        assert soffice is not None
        results, _ = libreoffice._convert_batch(
            [(rtf, "rtf"), (fodt, "fodt"), (page, "html")],
            "docx",
            soffice=soffice,
            timeout=60,
            memory_mb=2048,
            pool=libreoffice._POOL,
            bwrap=None,  # the profile's settings alone: confined, LibreOffice has no network at all
        )
    finally:
        server.shutdown()
        server.server_close()
    assert all(r is not None for r in results)
    assert requests == []


def test_metafiles_become_png() -> None:
    pngs = libreoffice.vector_images_to_png([build.emf(400, 300), b"not a picture", build.wmf(300, 200)])
    emf, not_a_picture, wmf = pngs
    assert not_a_picture is None and emf is not None and wmf is not None
    emf_png, wmf_png = (Image.open(io.BytesIO(p)) for p in (emf, wmf))
    assert emf_png.format == wmf_png.format == "PNG"
    assert emf_png.size == (400, 300) and wmf_png.size == (300, 200)
    red, green, blue = emf_png.convert("RGB").getpixel((200, 150))[:3]
    assert (red, green, blue) == (255, 0, 0)  # the ellipse's fill
    assert emf_png.convert("RGB").getpixel((20, 20)) == (0, 204, 0)  # the box's fill
    assert wmf_png.convert("RGB").getpixel((150, 100)) == (255, 255, 0)
