"""The manual target: the package a person pastes into a CMS by hand, and reading their page back.

`verify` is tested against real pages served on loopback by the stdlib's http.server.
"""

from __future__ import annotations

import dataclasses
import io
import re
import subprocess
import sys
import threading
import unicodedata
import zipfile
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, ClassVar

import pytest
from lxml import html as lxml_html
from PIL import Image

from core.settings import Settings, load_settings
from publish.manual import ManualPackage, ManualTarget, build_package, shows_title
from publish.targets import AwaitingManual, Placed, PublishPhoto, TargetUnavailable, make_targets
from tests.appkit import write_settings
from tests.fixtures.intake.build import photo
from tests.publish.articles import article
from tests.review.test_web import XSS

REPO = Path(__file__).resolve().parents[2]

CMS_TAGS = {"p", "br", "strong", "em", "ul", "ol", "li", "table", "caption", "thead", "tbody", "tfoot", "tr", "th"}
CMS_TAGS |= {"td", "a", "img", "sub", "sup"}


def tags_of(fragment: str) -> set[str]:
    root = lxml_html.fragment_fromstring(fragment, create_parent="div")
    return {el.tag for el in root.iter() if isinstance(el.tag, str)} - {"div"}


# ------------------------------------------------------------------------------------- the package
def test_the_package_holds_title_lead_plain_body_captions_and_numbered_photos(tmp_path: Path) -> None:
    a = article(tmp_path, photos=3, captions=["Quang cảnh hội nghị", None, "Trao giấy khen"])

    package = build_package(a)

    assert (package.title, package.lead, package.byline) == (a.title, a.lead, a.byline)
    names = [f"01-{a.slug}.jpg", f"02-{a.slug}.jpg", f"03-{a.slug}.jpg"]
    assert [name for name, _data in package.photos] == names
    assert package.captions == ["Quang cảnh hội nghị", "", "Trao giấy khen"]
    assert tags_of(package.body_html) <= CMS_TAGS  # no figure, h2, div, classes
    body = lxml_html.fragment_fromstring(package.body_html, create_parent="div")
    assert [img.get("src") for img in body.iter("img")] == names  # in the article's order
    assert not any(set(el.attrib) - {"src", "alt", "href", "colspan", "rowspan", "start", "type"} for el in body.iter())
    # figure -> an image paragraph followed by an italic caption paragraph
    first = body.xpath("//img")[0].getparent()
    assert first.tag == "p" and first.getnext().xpath("string(./em)") == "Quang cảnh hội nghị"
    # a heading becomes a bold paragraph; lists and tables stay
    assert body.xpath("//p/strong[text()='Kết quả nổi bật']") and body.xpath("//ul/li") and body.xpath("//table//td")
    for _name, data in package.photos:
        assert Image.open(io.BytesIO(data)).format == "JPEG"


def test_photos_are_web_sized(tmp_path: Path) -> None:
    big = photo(2400, 1600, seed=3)
    (tmp_path / "big").write_bytes(big)
    (tmp_path / "big.web").write_bytes(photo(1200, 800, seed=4))
    common: dict[str, Any] = {
        "caption": "Ảnh",
        "alt": None,
        "content_type": "image/jpeg",
        "path": tmp_path / "big",
        "width": 2400,
    }
    photos = (
        # ingest made a web rendition: that one goes
        PublishPhoto(sha256="a" * 64, web_path=tmp_path / "big.web", web_content_type="image/jpeg", **common),
        # none was made (an older draft): one is made here, at most 1200 px wide
        PublishPhoto(sha256="b" * 64, **common),
    )
    a = dataclasses.replace(article(tmp_path, photos=0), photos=photos)

    (_, first), (_, second) = build_package(a).photos

    assert first == (tmp_path / "big.web").read_bytes()
    assert Image.open(io.BytesIO(second)).size == (1200, 800)


def test_the_zip_holds_everything_and_opens(tmp_path: Path) -> None:
    a = article(tmp_path, photos=2)
    package = build_package(a)

    with zipfile.ZipFile(io.BytesIO(package.zip_bytes)) as z:
        assert z.testzip() is None
        assert z.namelist() == ["index.html", "noi-dung.html", "bai-viet.txt", *[n for n, _ in package.photos]]
        index = z.read("index.html").decode("utf-8")
        assert z.read("noi-dung.html").decode("utf-8") == package.body_html
        for name, data in package.photos:
            assert z.read(name) == data and f'src="{name}"' in index
        text = z.read("bai-viet.txt").decode("utf-8")
    page = lxml_html.fromstring(index)
    assert page.findtext(".//title") == a.title and page.findtext(".//h1") == a.title
    assert a.lead is not None and a.byline is not None
    assert a.lead in page.text_content() and a.byline in page.text_content()
    assert a.title in text and package.photos[0][0] in text and "Kết nạp 12 đảng viên mới" in text
    assert build_package(a).zip_bytes == package.zip_bytes  # the same article, the same zip
    assert package.file_name == f"{a.slug}-{a.draft_id}.zip"


def test_hostile_content_stays_text_in_the_package(tmp_path: Path) -> None:
    a = article(
        tmp_path,
        title=XSS["title"],
        lead=XSS["lead"],
        byline=XSS["byline"],
        body_html=f'<p>{XSS["body"]}</p><p onclick="alert(1)">Chữ <img src=x onerror=alert(2)></p>',
        photos=1,
        captions=[XSS["caption"]],
    )
    package = build_package(a)
    with zipfile.ZipFile(io.BytesIO(package.zip_bytes)) as z:
        index = z.read("index.html").decode("utf-8")
    for page in (package.body_html, index):
        doc = lxml_html.fromstring(page)
        assert not doc.xpath("//script | //*[@onclick] | //*[@onerror] | //*[@onmouseover]")
        assert not [a for a in doc.iter("a") if "javascript" in (a.get("href") or "")]
        assert "<script>" not in page
    assert XSS["title"] in lxml_html.fromstring(index).text_content()
    assert package.captions == [XSS["caption"]]  # plain text, for the CMS's caption field


# ------------------------------------------------------------------------------------- the target
def test_publish_and_withdraw_wait_for_a_person(tmp_path: Path) -> None:
    a = article(tmp_path, photos=2)
    (target,) = make_targets(_settings(tmp_path), ["manual"])
    assert isinstance(target, ManualTarget)

    with pytest.raises(AwaitingManual, match="2 ảnh"):
        target.publish(a, None)
    with pytest.raises(AwaitingManual, match="lần 2"):
        target.publish(dataclasses.replace(a, revision=2), Placed(url="https://cong.example/bai/1"))
    with pytest.raises(AwaitingManual, match=re.escape("https://cong.example/bai/1")):
        target.withdraw(a, Placed(url="https://cong.example/bai/1"))
    assert isinstance(build_package(a), ManualPackage)


def _settings(tmp_path: Path) -> Settings:
    path = write_settings(tmp_path)
    with path.open("a", encoding="utf-8") as f:
        f.write("\n[publish]\ntargets = ['manual']\n")
    return load_settings(path)


class _Pages(BaseHTTPRequestHandler):
    pages: ClassVar[dict[str, tuple[int, bytes, str]]] = {}

    def do_GET(self) -> None:
        status, body, content_type = self.pages.get(self.path, (404, b"<h1>Not found</h1>", "text/html"))
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def portal() -> Iterator[str]:
    """An ASP.NET-like portal on loopback: a few fixed pages; yields its base URL."""
    title = "Hội nghị sơ kết công tác xây dựng Đảng năm 2026"
    # How CMSs write Vietnamese: entities for every accented letter, NFD, upper case in a <title> only.
    entities = "".join(c if ord(c) < 128 else f"&#{ord(c)};" for c in title)
    nfd = unicodedata.normalize("NFD", title)
    _Pages.pages = {
        "/tin/1.aspx": (200, f"<html><body><h1>{entities}</h1><p>Nội dung</p></body></html>".encode(), "text/html"),
        "/tin/2.aspx": (200, f"<html><body><h2>{nfd}</h2></body></html>".encode(), "text/html; charset=utf-8"),
        "/tin/3.aspx": (
            200,
            f"<html><head><title>{title.upper()} - Cổng TTĐT</title></head><body>Tin</body></html>".encode(),
            "text/html",
        ),
        "/tin/4.aspx": (200, "<html><body><h1>Một bài khác</h1></body></html>".encode(), "text/html"),
        "/loi.aspx": (500, b"Server Error in '/' Application.", "text/html"),
    }
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Pages)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


TITLE = "Hội nghị sơ kết công tác xây dựng Đảng năm 2026"


@pytest.mark.parametrize(("path", "expected"), [("/tin/1.aspx", True), ("/tin/2.aspx", True), ("/tin/3.aspx", True)])
def test_verify_finds_the_title_however_the_cms_encodes_it(portal: str, path: str, expected: bool) -> None:
    assert ManualTarget(timeout=120).verify(Placed(url=portal + path), TITLE) is expected


def test_verify_is_false_for_another_page_or_a_missing_one(portal: str) -> None:
    target = ManualTarget(timeout=120)
    assert target.verify(Placed(url=portal + "/tin/4.aspx"), TITLE) is False
    assert target.verify(Placed(url=portal + "/khong-co.aspx"), TITLE) is False
    assert target.verify(Placed(url="ftp://127.0.0.1/tin/1"), TITLE) is False
    assert target.verify(Placed(url=portal + "/tin/1.aspx"), "Hội nghị") is True  # whole words...
    assert target.verify(Placed(url=portal + "/tin/1.aspx"), "Hội ngh") is False  # ...not pieces of them


def test_verify_of_a_portal_in_trouble_is_unavailable_not_a_verdict(portal: str) -> None:
    target = ManualTarget(timeout=120)
    with pytest.raises(TargetUnavailable, match="HTTP 500"):
        target.verify(Placed(url=portal + "/loi.aspx"), TITLE)
    with pytest.raises(TargetUnavailable):
        target.verify(Placed(url="http://127.0.0.1:9/tin/1.aspx"), TITLE)  # nothing listens on port 9


def test_shows_title_ignores_case_accents_entities_and_punctuation() -> None:
    assert shows_title("<p>HỘI NGHỊ &quot;SƠ KẾT&quot;</p>", 'Hội nghị "sơ kết"')
    assert shows_title("<p>Hoà bình</p>", "Hòa bình")  # old and new tone placement
    assert not shows_title("<p>Hội nghị</p>", "")
    assert not shows_title("<script>var t = 'Hội nghị tổng kết';</script><p>Khác</p>", "Hội nghị tổng kết")


def test_targets_named_in_the_settings_are_found_without_importing_them(tmp_path: Path) -> None:
    # A fresh interpreter (nothing imported yet), as the worker starts: make_targets finds publish.<name>.
    script = (
        "import sys\n"
        "from core.settings import load_settings\n"
        "from publish.targets import make_targets\n"
        "assert 'publish.manual' not in sys.modules and 'publish.wordpress' not in sys.modules\n"
        "targets = make_targets(load_settings(sys.argv[1]), ['manual', 'wordpress'])\n"
        "print(' '.join(t.name for t in targets))\n"
        "try:\n"
        "    make_targets(load_settings(sys.argv[1]), ['ftp'])\n"
        "except ValueError as exc:\n"
        "    print(exc)\n"
    )
    settings = write_settings(tmp_path)
    with settings.open("a", encoding="utf-8") as f:
        f.write("\n[publish]\ntargets = ['manual']\n[publish.wordpress]\nurl = 'http://127.0.0.1:9'\nusername = 'u'\n")
    done = subprocess.run(
        [sys.executable, "-c", script, str(settings)], capture_output=True, text=True, cwd=REPO, check=False
    )
    assert done.returncode == 0, done.stderr
    first, second = done.stdout.splitlines()
    assert first == "manual wordpress"
    assert second.startswith("unknown publish target(s): ftp; known:") and "manual" in second
