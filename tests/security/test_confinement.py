"""Issue 7, item 4: LibreOffice is confined, never started by the web server, and no contributor file
pulls in a file of the server.

Tried as the attacker would: a LibreOffice taken over by its document (a stand-in soffice that
tries to read a private file, write outside its job, reach the network and see other processes),
and Word files in every format that include a private file of the test's own (a unique marker
text, a unique picture) and /etc/hostname by INCLUDETEXT / INCLUDEPICTURE fields, linked pictures,
linked sections and linked OLE objects. The check is what the draft would show: no marker, no
picture, nothing but the article's own paragraphs.
"""

from __future__ import annotations

import io
import logging
import os
import re
import socket
import uuid
import zipfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from PIL import Image
from sqlmodel import select

from core.db import reading
from ingest.models import InboundMessage
from ingest.word import ConversionLimits, ConvertedDocument, DocumentError, convert_document_isolated, libreoffice
from tests.fixtures.hostile import build
from tests.review.webkit import Office

pytestmark = pytest.mark.skipif(libreoffice.find_soffice("soffice") is None, reason="LibreOffice is not installed")

# ------------------------------------------------------------------ a LibreOffice taken over

STAND_IN = r"""#!/bin/bash
# Stand-in for a LibreOffice that a hostile document has taken over: it tries what such code
# would, then writes what it managed as its "converted" output.
out=.; target=docx; files=()
while [ $# -gt 0 ]; do
  case "$1" in
    --outdir) out="$2"; shift 2;;
    --convert-to) target="${2%%:*}"; shift 2;;
    -*) shift;;
    *) files+=("$1"); shift;;
  esac
done
report="secret:$(cat '@SECRET@' 2>/dev/null || echo unreadable)"
(echo pwned > '@OUTSIDE@/written') 2>/dev/null
(echo pwned > '@INSTALL@/written') 2>/dev/null
if (exec 3<>/dev/tcp/127.0.0.1/@PORT@) 2>/dev/null; then report="$report network:connected"; fi
if [ -e /proc/@PID@ ]; then report="$report process:visible"; fi
mkdir -p "$out"
for f in "${files[@]}"; do echo "$report" > "$out/${f%.*}.$target"; done
"""


@dataclass
class Hostile:
    soffice: str
    secret: str
    written: list[Path]
    listener: socket.socket

    def connections(self) -> int:
        """Connections that reached the listener (the stand-in has exited: they are queued)."""
        count = 0
        while True:
            try:
                conn, _ = self.listener.accept()
            except BlockingIOError:
                return count
            conn.close()
            count += 1


@pytest.fixture
def hostile(tmp_path: Path) -> Iterator[Hostile]:
    secret = f"MAT-KHAU-{uuid.uuid4().hex}"
    (tmp_path / "secret.txt").write_text(secret, encoding="utf-8")
    outside = tmp_path / "outside"
    outside.mkdir()
    install = tmp_path / "lo" / "program"  # the installation: its parent is bound read-only
    install.mkdir(parents=True)
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(8)
    listener.setblocking(False)
    script = STAND_IN
    for name, value in {
        "@SECRET@": str(tmp_path / "secret.txt"),
        "@OUTSIDE@": str(outside),
        "@INSTALL@": str(install),
        "@PORT@": str(listener.getsockname()[1]),
        "@PID@": str(os.getpid()),
    }.items():
        script = script.replace(name, value)
    soffice = install / "soffice"
    soffice.write_text(script, encoding="utf-8")
    soffice.chmod(0o755)
    try:
        yield Hostile(str(soffice), secret, [outside / "written", install / "written"], listener)
    finally:
        listener.close()


RTF = b"{\\rtf1\\ansi B\\u224?i vi\\u7871?t.\\par}"  # "Bài viết."


def _direct(h: Hostile) -> bytes:
    return libreoffice.convert(RTF, "docx", soffice=h.soffice)


def _pipeline(h: Hostile) -> bytes:
    # What intake and the web's "Xử lý lại" call: the stand-in's output is no Word file.
    with pytest.raises(DocumentError, match="no Word file"):
        convert_document_isolated(RTF, "bai.rtf", limits=ConversionLimits(soffice=h.soffice))
    return b""


def _pictures(h: Hostile) -> bytes:
    assert libreoffice.vector_images_to_png([build.emf()], soffice=h.soffice) == [None]
    return b""


@pytest.mark.parametrize("entry", [_direct, _pipeline, _pictures], ids=["convert", "pipeline", "vector-pictures"])
def test_a_hijacked_libreoffice_reads_writes_and_reaches_nothing(hostile: Hostile, entry: Callable[..., bytes]) -> None:
    report = entry(hostile).decode()
    assert hostile.secret not in report
    assert [path for path in hostile.written if path.exists()] == []  # outside its job, the system read-only
    assert hostile.connections() == 0  # no network, not even this host's loopback
    assert "process:visible" not in report  # other processes are out of sight


def test_the_stand_in_does_report_what_it_could_do_unconfined(hostile: Hostile) -> None:
    """The check above is meaningful: the same stand-in, unconfined, gets all of it."""
    report = libreoffice.convert(RTF, "docx", soffice=hostile.soffice, confinement="off").decode()
    assert hostile.secret in report and "process:visible" in report and "network:connected" in report
    assert all(path.exists() for path in hostile.written)
    assert hostile.connections() == 1


def test_without_bubblewrap_libreoffice_is_refused_and_the_file_waits(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(libreoffice, "BWRAP_COMMAND", "/nonexistent/bwrap")
    with pytest.raises(DocumentError) as info:
        convert_document_isolated(RTF, "bai.rtf")
    # converter_missing is retryable ("Xử lý lại" once bwrap works); the message names the cause.
    assert info.value.reason == "converter_missing"
    assert "bubblewrap" in str(info.value) and "hộp cách ly" in str(info.value)


def test_preferred_confinement_runs_unconfined_with_a_warning(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setattr(libreoffice, "BWRAP_COMMAND", "/nonexistent/bwrap")
    monkeypatch.setattr(libreoffice, "_warned_unconfined", False)
    with caplog.at_level(logging.WARNING, logger=libreoffice.__name__):
        result = convert_document_isolated(RTF, "bai.rtf", limits=ConversionLimits(confinement="preferred"))
    assert "Bài viết." in result.text
    assert any("UNCONFINED" in r.getMessage() for r in caplog.records)


def test_confined_runs_reuse_their_warm_profile(tmp_path: Path) -> None:
    (tmp_path / "profiles").mkdir()
    pool = libreoffice.ProfilePool(tmp_path / "profiles")
    for _ in range(2):
        assert libreoffice.convert(RTF, "docx", pool=pool)
    profiles = list((tmp_path / "profiles").iterdir())
    assert len(profiles) == 1  # one profile, initialised by the first run, reused by the second
    assert (profiles[0] / "lo" / "user" / "registrymodifications.xcu").stat().st_size > len(libreoffice._REGISTRY)


# ------------------------------------------------------------------ never in the web process


def test_retry_from_the_web_never_starts_libreoffice_in_the_web_process(office: Office) -> None:
    # Intake without LibreOffice: the .doc waits as converter_missing; the editor presses "Xử lý lại".
    text = office.config.read_text(encoding="utf-8")
    ingest_config = office.config.with_name("settings-no-soffice.toml")
    ingest_config.write_text(text.replace("[ingest]\n", '[ingest]\nsoffice = ""\n', 1), encoding="utf-8")
    office.deliver("word97_doc.eml")
    from toasoan.cli import main

    assert main(["--config", str(ingest_config), "ingest", "--once"]) == 0
    with reading(office.engine) as s:
        (waiting,) = s.exec(select(InboundMessage).where(InboundMessage.status == "quarantined")).all()
    assert waiting.reason == "converter_missing"
    doc_id = waiting.id
    b = office.signed_in("editor")
    started: list[int] = []  # every soffice this process (the web server's) starts reports here
    libreoffice.child_hook = lambda pgid: started.append(pgid) if pgid else None
    try:
        r = b.post(f"/inbox/{doc_id}/retry", {"csrf_token": b.csrf})
    finally:
        libreoffice.child_hook = None
    assert r.headers["location"] == f"/inbox?tb=accepted&thu={doc_id}"
    with reading(office.engine) as s:
        assert s.get(InboundMessage, doc_id).status == "accepted"
    assert started == []  # converted by LibreOffice, started by a worker process


# ------------------------------------------------------------------ files that pull in other files


@dataclass
class Private:
    """Files of the server the hostile documents name, and what would betray that they were read."""

    folder: Path
    marker: str
    picture: bytes

    @property
    def texts(self) -> list[str]:
        return [str(self.folder / "ghi-chu.txt"), str(self.folder / "ghi-chu.rtf"), "/etc/hostname"]

    @property
    def pictures(self) -> list[str]:
        return [str(self.folder / "anh.png")]

    @property
    def objects(self) -> list[str]:
        return [str(self.folder / "ghi-chu.rtf")]

    def create(self) -> None:
        self.folder.mkdir()
        (self.folder / "ghi-chu.txt").write_text(f"{self.marker}\n", encoding="utf-8")
        (self.folder / "ghi-chu.rtf").write_text(f"{{\\rtf1\\ansi {self.marker}\\par}}", encoding="ascii")
        (self.folder / "anh.png").write_bytes(self.picture)


def _unique_picture() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (37, 23), (201, 13, 97)).save(out, "PNG")
    return out.getvalue()


def _files_including(private: Private) -> dict[str, bytes]:
    """Every format, built while the private files do not exist yet (so that building them, with
    LibreOffice for the .doc, cannot resolve anything)."""
    return {
        "docx": build.including_docx(private.texts, private.pictures, private.objects),
        "rtf": build.including_rtf(private.texts, private.pictures),
        "odt": build.including_odt(private.texts, private.pictures, private.objects),
        "doc": build.including_doc(private.texts, private.pictures),
    }


@pytest.fixture(scope="module")
def including(tmp_path_factory: pytest.TempPathFactory) -> tuple[Private, dict[str, bytes]]:
    private = Private(tmp_path_factory.mktemp("server") / "rieng", f"NOIDUNGMAT{uuid.uuid4().hex}", _unique_picture())
    files = _files_including(private)
    private.create()
    return private, files


def assert_nothing_pulled_in(result: ConvertedDocument, private: Private) -> None:
    assert private.marker not in result.text and private.marker not in result.body_html
    assert result.images == []
    assert re.findall(r"<img\b", result.body_html) == []
    # Only the article's own paragraphs: nothing of /etc/hostname either.
    assert [line for line in result.text.splitlines() if line.strip()] == [build.INCLUDE_BEFORE, build.INCLUDE_AFTER]


@pytest.mark.parametrize("confinement", ["required", "off"])
@pytest.mark.parametrize("kind", ["rtf", "odt", "doc"])
def test_libreoffice_formats_pull_in_nothing(
    including: tuple[Private, dict[str, bytes]], kind: str, confinement: str
) -> None:
    """Confined, the private files are out of sight anyway; "off" shows the other layers (links
    stripped from the input, links never updated) hold on their own."""
    private, files = including
    result = convert_document_isolated(files[kind], f"bai.{kind}", limits=ConversionLimits(confinement=confinement))
    assert_nothing_pulled_in(result, private)


def test_docx_pulls_in_nothing(including: tuple[Private, dict[str, bytes]]) -> None:
    private, files = including
    assert_nothing_pulled_in(convert_document_isolated(files["docx"], "bai.docx"), private)


@pytest.mark.parametrize("confinement", ["required", "off"])
def test_docx_through_libreoffice_pulls_in_nothing(
    including: tuple[Private, dict[str, bytes]], confinement: str
) -> None:
    private, files = including
    saved = libreoffice.convert(files["docx"], "docx", confinement=confinement)
    assert_nothing_pulled_in(convert_document_isolated(saved, "bai.docx"), private)


def test_a_bare_libreoffice_does_pull_the_private_picture_in(including: tuple[Private, dict[str, bytes]]) -> None:
    """The fixtures are meaningful: a bare soffice call (unconfined, input not stripped) puts the
    private picture into the RTF's conversion, as the service did before it was confined."""
    _private, files = including
    out = build.soffice_directly(files["rtf"], "rtf", "docx")
    with zipfile.ZipFile(io.BytesIO(out)) as zf:
        sizes = [Image.open(io.BytesIO(zf.read(n))).size for n in zf.namelist() if n.startswith("word/media/")]
    assert (37, 23) in sizes
