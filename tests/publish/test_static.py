"""The static site target on real files: URLs, pages, stable pagination, updates, withdrawal, feed,
sitemap, search index, hostile text, atomic writes and the full rebuild."""

from __future__ import annotations

import hashlib
import io
import json
import unicodedata
from dataclasses import replace
from pathlib import Path

import pytest
from lxml import etree
from PIL import Image

from core.settings import Settings
from core.text import fold_words
from publish.site import render
from publish.site.builder import Site
from publish.site.catalog import PAGE_SIZE
from publish.site.files import TMP_MARK, write_atomic
from publish.static import StaticTarget, site_of
from publish.targets import Placed, PublishArticle, PublishPhoto, make_targets
from tests.fixtures.intake.build import photo as intake_photo
from tests.publish.sitekit import (
    BASE_URL,
    article,
    changed,
    live_markup,
    page,
    real_photo,
    site_settings,
    snapshot,
)

ATOM = "{http://www.w3.org/2005/Atom}"
SM = "{http://www.sitemaps.org/schemas/sitemap/0.9}"


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return site_settings(tmp_path)


@pytest.fixture
def static(settings: Settings) -> StaticTarget:
    made = make_targets(settings, ["static"])[0]
    assert isinstance(made, StaticTarget)
    return made


def root_of(static: StaticTarget) -> Path:
    return static.site.root


def test_an_article_lives_at_its_url_with_photos_byline_unit_and_office_date(
    static: StaticTarget, tmp_path: Path
) -> None:
    photos = (real_photo(tmp_path / "media", 1), real_photo(tmp_path / "media", 2, caption="Ảnh: Đại biểu biểu quyết."))
    # 17:30 UTC on 4 December is 00:30 on 5 December in Hà Nội: the page shows the office's date.
    a = article(7, photos=photos, published_at=article(7).published_at.replace(month=12, day=4, hour=17, minute=30))
    placed = static.publish(a, None)

    assert placed.url == f"{BASE_URL}tin-hoat-dong/dang-bo-xa-tan-phu-to-chuc-hoi-nghi-lan-thu-7-7.html"
    root = root_of(static)
    path = placed.url.removeprefix(BASE_URL)
    assert (root / path).is_file()
    assert static.verify(placed, a.title)
    assert not static.verify(placed, "Một tiêu đề khác")
    soup = page(root, path)
    assert soup.html["lang"] == "vi"
    for landmark in ("header", "nav", "main", "footer"):
        assert soup.find(landmark) is not None, landmark
    assert soup.h1.get_text() == a.title
    assert "Đảng ủy các cơ quan Đảng tỉnh" in soup.header.get_text()
    article_el = soup.find("article")
    text = article_el.get_text(" ")
    assert a.lead in text and "Nguyễn Thị Lan" in text and "Chi bộ Văn phòng" in text
    assert soup.find("time").get_text() == "05/12/2026"
    images = article_el.find_all("img")
    assert len(images) == 2
    for img, p in zip(images, photos, strict=True):
        assert img["alt"] == p.caption  # alt text from the caption
        srcset = [c.split(" ") for c in img["srcset"].split(", ")]
        assert [w for _, w in srcset] == ["480w", "800w", "1200w", "1600w"]  # [publish.static] image_widths
        assert img["src"] == srcset[2][0] and (img["width"], img["height"]) == ("1200", "900")  # the web rendition
        for candidate, w in srcset:
            served = ((root / path).parent / candidate).resolve()
            with Image.open(served) as im:  # each file is as wide as the srcset says, the same shape
                assert (im.format, im.size) == ("JPEG", (int(w[:-1]), int(w[:-1]) * 3 // 4)), candidate
        assert img.find_parent("figure").figcaption.get_text() == p.caption
    assert live_markup(str(soup)) == []


def srcset_of(root: Path, path: str) -> list[tuple[str, str]]:
    """(candidate, descriptor) of the one photo on an article page; [] when it has no srcset."""
    img = page(root, path).find("article").find("img")
    return [tuple(c.split(" ")) for c in img["srcset"].split(", ")] if img.has_attr("srcset") else []


def copies(root: Path, sha: str) -> dict[str, int]:
    """name -> mtime_ns of the smaller copies the site made of a photo."""
    return {p.name: p.stat().st_mtime_ns for p in (root / "media" / sha[:2]).glob(f"{sha}.w[0-9]*")}


def test_photo_copies_are_made_once_and_publishing_again_never_rewrites_them(
    static: StaticTarget, settings: Settings, tmp_path: Path
) -> None:
    photo = real_photo(tmp_path / "media", 3)
    a = article(1, photos=(photo,))
    static.publish(a, None)
    root = root_of(static)
    made = copies(root, photo.sha256)
    assert sorted(made) == [f"{photo.sha256}.w480.jpg", f"{photo.sha256}.w800.jpg"]

    static.publish(replace(a, revision=2, title="Tiêu đề đã sửa"), None)  # a correction
    static.publish(article(2, photos=(photo,)), None)  # another article with the same photo
    site_of(settings).rebuild([replace(a, revision=2), article(2, photos=(photo,))], workers=1)

    assert copies(root, photo.sha256) == made


def test_rebuild_makes_the_photo_copies_of_a_site_that_lacks_them(
    static: StaticTarget, settings: Settings, tmp_path: Path
) -> None:
    photos = [real_photo(tmp_path / "media", n) for n in range(4)]
    arts = [article(n + 1, photos=(p,)) for n, p in enumerate(photos)]
    for a in arts:
        static.publish(a, None)
    root = root_of(static)
    for copy in (root / "media").rglob("*.w[0-9]*"):
        copy.unlink()

    site_of(settings).rebuild(arts, workers=2)

    for a, p in zip(arts, photos, strict=True):
        srcset = srcset_of(root, static.site.record(a.draft_id)["path"])
        assert [w for _, w in srcset] == ["480w", "800w", "1200w", "1600w"]
        assert sorted(copies(root, p.sha256)) == [f"{p.sha256}.w480.jpg", f"{p.sha256}.w800.jpg"]


@pytest.mark.parametrize(
    ("size", "widths"),
    [((400, 300), []), ((600, 450), ["480w", "600w"]), ((480, 360), [])],
)
def test_a_photo_narrower_than_the_widths_gets_no_upscaled_copy(
    static: StaticTarget, tmp_path: Path, size: tuple[int, int], widths: list[str]
) -> None:
    photo = real_photo(tmp_path / "media", 4, size=size)  # its web rendition is as wide as the original
    placed = static.publish(article(1, photos=(photo,)), None)
    root = root_of(static)
    srcset = srcset_of(root, placed.url.removeprefix(BASE_URL))
    # one candidate per width (two of one width would make the srcset invalid), none wider than the photo
    assert [w for _, w in srcset] == widths
    assert sorted(copies(root, photo.sha256)) == [f"{photo.sha256}.w{w[:-1]}.jpg" for w in widths if w != "600w"]


@pytest.mark.parametrize("fmt", ["PNG", "WEBP"])
def test_a_photo_copy_keeps_the_type_of_its_source(static: StaticTarget, tmp_path: Path, fmt: str) -> None:
    photo = real_photo(tmp_path / "media", 5, web_format=fmt)
    placed = static.publish(article(1, photos=(photo,)), None)
    root = root_of(static)
    path = placed.url.removeprefix(BASE_URL)
    ext = {"PNG": ".png", "WEBP": ".webp"}[fmt]
    for candidate, w in srcset_of(root, path)[:2]:
        assert candidate.endswith(f".w{w[:-1]}{ext}")
        with Image.open(((root / path).parent / candidate).resolve()) as im:
            assert (im.format, im.width) == (fmt, int(w[:-1]))


def test_a_photo_without_web_rendition_gets_upright_copies_of_its_original(
    static: StaticTarget, tmp_path: Path
) -> None:
    """A phone photo stored sideways (EXIF orientation 6: turn it 90° clockwise to view)."""
    folder = tmp_path / "media"
    folder.mkdir()
    exif = Image.Exif()
    exif[0x0112] = 6
    out = io.BytesIO()
    Image.open(io.BytesIO(intake_photo(1000, 750, seed=8))).save(out, "JPEG", exif=exif)
    sha = hashlib.sha256(out.getvalue()).hexdigest()
    (folder / sha).write_bytes(out.getvalue())
    photo = PublishPhoto(sha, "Ảnh: Phong cảnh.", None, "image/jpeg", folder / sha, width=1000, height=750)
    placed = static.publish(article(1, photos=(photo,)), None)
    root = root_of(static)
    path = placed.url.removeprefix(BASE_URL)
    assert [w for _, w in srcset_of(root, path)] == ["480w", "800w", "1000w"]
    with Image.open(root / "media" / sha[:2] / f"{sha}.w480.jpg") as im:
        assert im.size == (480, 640)  # upright: taller than wide, as the reader should see it


def test_no_image_widths_leaves_the_two_stored_files(settings: Settings, tmp_path: Path) -> None:
    site = site_of(settings)
    site = Site(site.root, replace(site.context, image_widths=()))
    photo = real_photo(tmp_path / "media", 6)
    path = site.publish(article(1, photos=(photo,)))
    assert [w for _, w in srcset_of(site.root, path)] == ["1200w", "1600w"]
    assert copies(site.root, photo.sha256) == {}


def test_a_photo_pillow_cannot_read_is_still_served_at_every_width(
    static: StaticTarget, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    photo = real_photo(tmp_path / "media", 7)
    assert photo.web_path is not None
    photo.web_path.write_bytes(b"\xff\xd8\xff not a picture after all")
    placed = static.publish(article(1, photos=(photo,)), None)
    root = root_of(static)
    path = placed.url.removeprefix(BASE_URL)
    for candidate, _w in srcset_of(root, path):
        assert ((root / path).parent / candidate).resolve().is_file(), candidate  # no broken image on a phone
    assert "cannot resize" in caplog.text


def test_adding_the_21st_article_rewrites_only_the_newest_archive_page(static: StaticTarget) -> None:
    root = root_of(static)
    for n in range(1, PAGE_SIZE + 1):
        static.publish(article(n), None)
    other = static.publish(article(500, section="xay-dung-dang"), None)
    assert [e["id"] for e in json.loads((root / "_data/pages/tin-hoat-dong/1.json").read_text())] == list(range(1, 21))
    before = snapshot(root)

    placed = static.publish(article(21), None)

    new = changed(before, snapshot(root))
    assert "tin-hoat-dong/trang-1.html" not in new  # the archive page of the 20 oldest stays as it was
    assert {
        placed.url.removeprefix(BASE_URL),
        "tin-hoat-dong/trang-2.html",
        "tin-hoat-dong/index.html",
        "index.html",
        "feed.xml",
        "sitemap.xml",
        "sitemap-0.xml",
        "search/0.json",
    } <= new
    pages = {p for p in new if p.endswith(".html")}
    assert pages == {
        placed.url.removeprefix(BASE_URL),
        "tin-hoat-dong/trang-2.html",
        "tin-hoat-dong/index.html",
        "index.html",
    }
    assert not any(p.startswith("xay-dung-dang/") for p in new), other
    # The index shows the newest first; page 2 holds article 21 only; page 1 links nowhere newer.
    index_titles = [a.get_text() for a in page(root, "tin-hoat-dong/index.html").select(".article-list h3 a")]
    assert index_titles[0] == article(21).title and len(index_titles) == PAGE_SIZE
    assert [a.get_text() for a in page(root, "tin-hoat-dong/trang-2.html").select(".article-list h3 a")] == [
        article(21).title
    ]
    # Forty more: still only the newest page is written each time.
    for n in range(22, 42):
        before = snapshot(root)
        static.publish(article(n), None)
        archive = {p for p in changed(before, snapshot(root)) if "/trang-" in p}
        assert archive == {f"tin-hoat-dong/trang-{(n - 1) // PAGE_SIZE + 1}.html"}, n


def test_a_newer_revision_updates_its_page_and_the_lists_at_the_same_url(static: StaticTarget) -> None:
    root = root_of(static)
    for n in (1, 2, 3):
        static.publish(article(n), None)
    first = static.publish(article(2), None)
    fixed = replace(article(2), revision=2, title="Đảng bộ xã Tân Phú: tiêu đề đã sửa", slug="tieu-de-da-sua")
    placed = static.publish(fixed, first)

    assert placed.url == first.url  # the address given out stays
    assert static.verify(placed, fixed.title)
    for listing in ("tin-hoat-dong/index.html", "tin-hoat-dong/trang-1.html", "index.html", "feed.xml"):
        text = (root / listing).read_text(encoding="utf-8")
        assert fixed.title in text and article(2).title not in text, listing
    assert len(json.loads((root / "_data/pages/tin-hoat-dong/1.json").read_text())) == 3  # not listed twice
    rows = json.loads((root / "search/0.json").read_text())
    assert [r[1] for r in rows].count(fixed.title) == 1 and article(2).title not in [r[1] for r in rows]


def test_moving_an_article_to_another_section_takes_it_out_of_the_first(static: StaticTarget) -> None:
    root = root_of(static)
    placed = static.publish(article(1), None)
    static.publish(article(1, section="xay-dung-dang", revision=2), placed)
    assert json.loads((root / "_data/pages/tin-hoat-dong/1.json").read_text()) == []
    assert [e["id"] for e in json.loads((root / "_data/pages/xay-dung-dang/1.json").read_text())] == [1]


def test_withdrawing_leaves_a_notice_at_the_url_and_takes_the_article_off_every_list(static: StaticTarget) -> None:
    root = root_of(static)
    for n in (1, 2):
        static.publish(article(n), None)
    a = article(3, title="Bài sẽ bị gỡ về Đảng bộ phường")
    placed = static.publish(a, None)
    static.withdraw(a, placed)

    path = placed.url.removeprefix(BASE_URL)
    soup = page(root, path)
    assert soup.h1.get_text() == "Bài viết đã được gỡ"
    assert a.title not in str(soup)
    assert not static.verify(placed, a.title)
    for listing in (
        "tin-hoat-dong/index.html",
        "tin-hoat-dong/trang-1.html",
        "index.html",
        "feed.xml",
        "sitemap-0.xml",
    ):
        assert a.title not in (root / listing).read_text(encoding="utf-8") and path not in (root / listing).read_text(
            encoding="utf-8"
        ), listing
    assert all(row[0] != path for row in json.loads((root / "search/0.json").read_text()))
    assert article(2).title in (root / "tin-hoat-dong/index.html").read_text(encoding="utf-8")
    # Published again (the board reverses itself): back on the lists, at the same address.
    again = static.publish(replace(a, revision=2), None)
    assert again.url == placed.url and static.verify(again, a.title)


def test_the_feed_is_atom_with_the_vietnamese_titles_intact(static: StaticTarget) -> None:
    titles = ["Hội nghị Ban Chấp hành Đảng bộ khóa XV", 'Chi bộ học tập "Nghị quyết" & kết luận <mới> của Bác\'']
    for n, title in enumerate(titles, 1):
        assert static.verify(static.publish(article(n, title=title), None), title)
    feed = etree.fromstring((root_of(static) / "feed.xml").read_bytes())
    assert feed.tag == f"{ATOM}feed"
    entries = feed.findall(f"{ATOM}entry")
    got = [e.findtext(f"{ATOM}title") or "" for e in entries]
    assert got == list(reversed(titles))  # newest first, & and < intact
    assert all(unicodedata.is_normalized("NFC", t) for t in got)
    assert entries[0].find(f"{ATOM}link").get("href").startswith(BASE_URL)
    assert feed.findtext(f"{ATOM}updated") == entries[0].findtext(f"{ATOM}published")


def test_the_sitemap_is_an_index_of_small_shards_naming_every_live_page(static: StaticTarget) -> None:
    root = root_of(static)
    ids = [5, 6, 1005, 2005]
    for n in ids:
        static.publish(article(n), None)
    index = etree.fromstring((root / "sitemap.xml").read_bytes())
    assert index.tag == f"{SM}sitemapindex"
    shards = [loc.text for loc in index.iter(f"{SM}loc")]
    assert shards == [f"{BASE_URL}sitemap-trang.xml", *(f"{BASE_URL}sitemap-{k}.xml" for k in (0, 1, 2))]
    urls: list[str] = []
    for shard in shards:
        doc = etree.fromstring((root / shard.removeprefix(BASE_URL)).read_bytes())
        assert doc.tag == f"{SM}urlset"
        found = [loc.text or "" for loc in doc.iter(f"{SM}loc")]
        assert len(found) <= 50_000
        urls += found
    for url in urls:
        assert url.startswith(BASE_URL) and (root / url.removeprefix(BASE_URL)).is_file(), url
    assert sum("-5.html" in u or "-6.html" in u or "-1005.html" in u or "-2005.html" in u for u in urls) == 4


def test_the_search_index_finds_dang_bo_without_accents(static: StaticTarget) -> None:
    root = root_of(static)
    static.publish(article(1, title="Đảng bộ Khối cơ quan tổng kết năm"), None)
    static.publish(article(2, title="Công đoàn tổ chức hội thao", lead="Hội thao chào mừng ngày thành lập."), None)
    rows = [
        row
        for k in json.loads((root / "search/index.json").read_text())["shards"]
        for row in json.loads((root / f"search/{k}.json").read_text())
    ]
    query = fold_words("dang bo")
    found = [title for path, title, day, words in rows if f" {query} " in f" {words} "]
    assert found == ["Đảng bộ Khối cơ quan tổng kết năm"]
    assert fold_words("Đảng bộ") == query


def test_hostile_contributor_text_never_reaches_a_page_as_markup(tmp_path: Path, settings: Settings) -> None:
    from publish.article import build_article
    from tests.review.test_web import XSS, hostile_emails
    from tests.review.webkit import make_office

    office = make_office(tmp_path / "office")
    try:
        office.deliver(*hostile_emails())
        office.ingest()
        drafts = office.drafts()
        assert len(drafts) == 2
        static = StaticTarget(settings)
        from sqlmodel import Session

        with Session(office.engine) as s:
            articles = [build_article(s, office.settings, d.id or 0, article(1).published_at) for d in drafts]
        placed = [static.publish(a, None) for a in articles]
    finally:
        office.close()
    root = root_of(static)
    pages = [p.removeprefix(BASE_URL) for p in (x.url for x in placed)]
    pages += ["index.html", "tin-hoat-dong/index.html", "tin-hoat-dong/trang-1.html", "tim-kiem.html"]
    for path in pages:
        html = (root / path).read_text(encoding="utf-8")
        assert live_markup(html) == [], path
        at = html.find("<script>alert")
        assert at < 0, (path, html[max(0, at - 300) : at + 100])
    titles = [page(root, p).h1.get_text() for p in pages[:2]]
    assert any(XSS["title"] in t for t in titles), titles  # shown as text, escaped
    for feedish in ("feed.xml", "sitemap-0.xml"):
        etree.fromstring((root / feedish).read_bytes())  # still well-formed XML
    feed = etree.fromstring((root / "feed.xml").read_bytes())
    assert XSS["title"] in [t.text for t in feed.iter("{http://www.w3.org/2005/Atom}title")]


def test_writes_are_atomic_and_leave_no_temp_files(static: StaticTarget, tmp_path: Path) -> None:
    root = root_of(static)
    for n in range(1, 30):
        static.publish(article(n, photos=(real_photo(tmp_path / "media", n % 3),) if n % 5 == 0 else ()), None)
    static.withdraw(article(3), Placed(url=static.site.url(static.site.record(3)["path"])))
    assert [p for p in root.rglob("*") if p.name.startswith(TMP_MARK)] == []
    # A write that fails at the rename leaves the old file and no temp file.
    target = root / "index.html"
    old = target.read_bytes()
    blocker = root / "blocked.html"
    blocker.mkdir()
    (blocker / "x").write_text("x")
    with pytest.raises(OSError):
        write_atomic(blocker, "<p>mới</p>")
    assert target.read_bytes() == old
    assert [p for p in root.rglob("*") if p.name.startswith(TMP_MARK)] == []


def test_rebuild_writes_the_same_site_and_keeps_withdrawn_urls(static: StaticTarget, settings: Settings) -> None:
    root = root_of(static)
    arts = [article(n, section="xay-dung-dang" if n % 3 == 0 else "tin-hoat-dong") for n in range(1, 46)]
    for a in arts:
        static.publish(a, None)
    gone = static.site.record(10)["path"]
    incremental = {p: (root / p).read_bytes() for p in ("tin-hoat-dong/trang-1.html", "xay-dung-dang/index.html")}
    seen: list[tuple[int, int]] = []

    report = site_of(settings).rebuild(
        [a for a in arts if a.draft_id != 10], progress=lambda d, t: seen.append((d, t)), workers=2
    )

    assert report.articles == 44 and report.withdrawn == 1
    assert seen[-1] == (44, 44)
    assert page(root, gone).h1.get_text() == "Bài viết đã được gỡ"
    tin = [a for a in arts if a.section == "tin-hoat-dong" and a.draft_id != 10]
    first = json.loads((root / "_data/pages/tin-hoat-dong/1.json").read_text())
    assert [e["id"] for e in first] == [a.draft_id for a in tin[:PAGE_SIZE]]  # page 1 = the 20 oldest
    assert (root / "xay-dung-dang/index.html").read_bytes() == incremental["xay-dung-dang/index.html"]
    assert incremental["tin-hoat-dong/trang-1.html"] != (root / "tin-hoat-dong/trang-1.html").read_bytes()  # compacted
    assert not (root / "tin-hoat-dong/trang-3.html").exists()
    assert [p for p in root.rglob("*") if p.name.startswith(TMP_MARK)] == []
    for a in tin:
        assert static.verify(Placed(url=static.site.url(static.site.record(a.draft_id)["path"])), a.title)


@pytest.mark.parametrize("workers", [1, 2])
def test_a_rebuild_that_fails_midway_leaves_every_list_as_it_was(
    static: StaticTarget, settings: Settings, monkeypatch: pytest.MonkeyPatch, workers: int
) -> None:
    """The lists are rendered while the article pages are written and renamed into place only once all
    pages exist: a page that cannot be written leaves readers the old home, sections, feed, sitemap."""
    root = root_of(static)
    arts = [article(n, section="xay-dung-dang" if n % 3 == 0 else "tin-hoat-dong") for n in range(1, 31)]
    for a in arts[:25]:
        static.publish(a, None)
    before = snapshot(root)
    real = render.article_page

    def broken(site: render.SiteContext, a: PublishArticle, path: str) -> str:
        if a.draft_id == 28:
            raise RuntimeError("trang 28 hỏng")
        return real(site, a, path)

    monkeypatch.setattr(render, "article_page", broken)
    with pytest.raises(RuntimeError, match="trang 28"):
        site_of(settings).rebuild(arts, workers=workers)

    after = snapshot(root)
    articles = {static.site.record(a.draft_id)["path"] for a in arts[:25]}
    # Only article pages may differ: the new ones (written, linked from nowhere) and the old ones (same bytes).
    assert {p for p in changed(before, after) if before.get(p, (0, ""))[1] != after.get(p, (0, ""))[1]} <= {
        p for p in after if p.endswith(".html") and p not in before
    }
    assert all(after[p][1] == before[p][1] for p in articles)
    assert "-28.html" not in "".join(after)
    assert not any(p.endswith(f"-{n}.html") for p in before for n in (26, 27, 29, 30))
    assert max(e["id"] for e in json.loads((root / "_data/feed.json").read_text())) == 25
    assert [p for p in root.rglob("*") if p.name.startswith(TMP_MARK)] == []


def test_a_site_built_by_one_site_object_is_continued_by_another(settings: Settings) -> None:
    one = Site(settings.resolve(settings.publish_static.path), site_of(settings).context)
    one.publish(article(1))
    two = site_of(settings)
    two.publish(article(2))
    assert [e["id"] for e in json.loads((two.root / "_data/pages/tin-hoat-dong/1.json").read_text())] == [1, 2]
