"""The WordPress target against a real WordPress (Debian package, MariaDB, php -S) on loopback.

No mocks: every test publishes through the REST API and reads the public pages back anonymously,
as a reader's browser would. The target logs in as an editor with an Application Password.
"""

from __future__ import annotations

import base64
import dataclasses
import html
import logging
import re
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
from lxml import etree
from lxml import html as lxml_html

from publish.targets import CredentialsRefused, Placed, PublishArticle, TargetRefused, TargetUnavailable
from publish.wordpress import WordPressTarget, featured_and_body, identity_marker, media_key, page_shows_title
from tests.publish.articles import article, next_id
from tests.review.test_web import XSS  # the payloads the review UI is tested with
from tests.wordpress import WordPress, rest

pytestmark = pytest.mark.xdist_group("wordpress")
CURLY = str.maketrans("‘’“”", "''\"\"")  # WordPress curls the quotes of text (wptexturize)


@pytest.fixture
def wp(wordpress_server: WordPress) -> WordPress:
    if not wordpress_server.web_running:
        raise RuntimeError("a test left the shared WordPress down; use wordpress_server.web_down()")
    return wordpress_server


def target(wp: WordPress, **options: Any) -> WordPressTarget:
    return WordPressTarget(wp.url, wp.editor, wp.editor_password, timeout=120, **options)  # only catches a hang


def ours(wp: WordPress, a: PublishArticle) -> list[dict[str, Any]]:
    """Every post (any status, trash included) that carries the article's identity."""
    return [p for p in wp.posts(search=a.identity) if identity_marker(a.identity) in p["content"]["raw"]]


def media_of(wp: WordPress, a: PublishArticle) -> dict[str, dict[str, Any]]:
    """sha256 -> media item, for the article's photos."""
    keys = {media_key(a.identity, p.sha256): p.sha256 for p in a.photos}
    items = wp.get("/wp/v2/media", slug=",".join(keys), per_page=100)
    return {keys[m["slug"]]: m for m in items}


def times_shown(page: str, item: dict[str, Any]) -> int:
    """How many images on the page show the media item (its full size or any size WordPress made)."""
    sizes = (item.get("media_details") or {}).get("sizes") or {}
    urls = {item["source_url"], *(size["source_url"] for size in sizes.values())}
    return sum(1 for img in lxml_html.fromstring(page).iter("img") if img.get("src") in urls)


def listed(wp: WordPress, a: PublishArticle) -> str:
    """A public list of posts that holds only the article's post: the search results for its identity
    (the category archives of the test WordPress answer 404 under php -S)."""
    return public(f"{wp.url.rstrip('/')}/?s={a.identity}").text


def public(url: str) -> httpx.Response:
    return httpx.get(url, follow_redirects=True, timeout=120)


def text_of(page: str) -> str:
    return " ".join(lxml_html.fromstring(page).text_content().split())


def live_payloads(page: str) -> list[str]:
    """Markup of a payload that would run in a reader's browser (WordPress's own scripts are fine)."""
    found = []
    for el in lxml_html.fromstring(page).iter():
        if not isinstance(el.tag, str):
            continue
        if el.tag in ("iframe", "object", "embed", "base"):  # (WordPress's theme has svg filters of its own)
            found.append(el.tag)
        if el.tag == "script" and "alert(" in (el.text or ""):
            found.append(f"script: {el.text}")
        for name, value in el.attrib.items():
            if name.lower().startswith("on") and "alert" in value:
                found.append(f"{el.tag}[{name}]={value}")
            if re.sub(r"\s", "", value).lower().startswith("javascript:"):
                found.append(f"{el.tag}[{name}]={value}")
    return found


# ------------------------------------------------------------------------------------- publishing
def test_publish_creates_a_live_post_with_its_photos_category_lead_and_byline(wp: WordPress, tmp_path: Path) -> None:
    a = article(tmp_path, photos=2, captions=["Ảnh 1: Quang cảnh hội nghị", "Ảnh 2: Trao giấy khen"])
    t = target(wp)

    placed = t.publish(a, None)

    post = wp.get(f"/wp/v2/posts/{placed.remote_id}")
    assert post["status"] == "publish" and post["link"] == placed.url
    assert post["slug"] == f"{a.slug}-{a.draft_id}"
    assert post["title"]["raw"] == a.title
    assert html.unescape(post["excerpt"]["raw"]) == a.lead
    (category,) = post["categories"]
    assert wp.get(f"/wp/v2/categories/{category}")["slug"] == "tin-hoat-dong"
    media = media_of(wp, a)
    assert set(media) == {p.sha256 for p in a.photos}  # both uploaded, once
    for photo in a.photos:
        item = media[photo.sha256]
        assert html.unescape(item["caption"]["raw"]) == photo.caption
        assert item["alt_text"] == photo.caption  # no alt of its own: the caption describes it
        assert item["media_type"] == "image" and public(item["source_url"]).content == photo.path.read_bytes()
    # The first photo stands after the text: not featured (it would show twice), each photo shown once.
    assert post["featured_media"] == 0
    # The reader's page: title, lead, the body's structure, both photos with their captions, byline.
    page = public(placed.url)
    assert page.status_code == 200
    assert page_shows_title(page.text, a.title) and a.title in text_of(page.text)
    shown = text_of(page.text)
    for text in (a.lead, "Kết nạp 12 đảng viên mới", "Đảng viên mới", *[p.caption for p in a.photos], a.byline):
        assert text and text in shown, text
    doc = lxml_html.fromstring(page.text)
    content = doc.xpath('//*[contains(@class, "entry-content")]')[0]
    assert [img.get("src") for img in content.iter("img")] == [media[p.sha256]["source_url"] for p in a.photos]
    assert [times_shown(page.text, media[p.sha256]) for p in a.photos] == [1, 1]
    assert content.xpath(".//h2") and content.xpath(".//table//td") and content.xpath(".//ul/li")
    assert t.verify(placed, a.title) is True
    assert t.verify(placed, "Một tiêu đề khác hẳn") is False
    assert len(ours(wp, a)) == 1


def test_a_new_revision_updates_the_same_post_and_reuses_the_photos(wp: WordPress, tmp_path: Path) -> None:
    a = article(tmp_path, photos=2)
    t = target(wp)
    first = t.publish(a, None)
    uploaded = {sha: m["id"] for sha, m in media_of(wp, a).items()}

    corrected = dataclasses.replace(
        a,
        photos=(dataclasses.replace(a.photos[0], caption="Ảnh 1: chú thích đã sửa"), a.photos[1]),
        revision=2,
        title=a.title + " (đã đính chính)",
        body_html="<p>Nội dung đã được Ban Biên tập đính chính.</p>" + a.body_html,
    )
    second = t.publish(corrected, first)

    assert second.remote_id == first.remote_id and second.url == first.url  # the URL outlives a correction
    post = wp.get(f"/wp/v2/posts/{second.remote_id}")
    assert post["title"]["raw"] == corrected.title
    assert "đã được Ban Biên tập đính chính" in post["content"]["raw"]
    media = media_of(wp, corrected)
    assert {sha: m["id"] for sha, m in media.items()} == uploaded  # nothing uploaded twice
    assert html.unescape(media[a.photos[0].sha256]["caption"]["raw"]) == "Ảnh 1: chú thích đã sửa"
    page = public(second.url).text
    assert "Ảnh 1: chú thích đã sửa" in text_of(page) and t.verify(second, corrected.title)
    assert len(ours(wp, a)) == 1


def test_a_crash_after_wordpress_said_yes_is_replayed_without_a_second_post(wp: WordPress, tmp_path: Path) -> None:
    a = article(tmp_path, photos=2)
    lost = target(wp).publish(a, None)  # WordPress created it; we died before recording `lost`

    again = target(wp).publish(a, None)  # a fresh worker runs the job again

    assert again == lost
    assert [p["id"] for p in ours(wp, a)] == [int(lost.remote_id or 0)]
    assert len(media_of(wp, a)) == 2 and len(our_media_ids(wp, a)) == 2


def test_the_identity_lookup_is_exact_among_similar_ids(wp: WordPress, tmp_path: Path) -> None:
    a = article(tmp_path, photos=0)
    longer = [dataclasses.replace(a, draft_id=a.draft_id * 10 + k, identity=f"{a.identity}{k}") for k in range(3)]
    t = target(wp)
    for other in longer:
        t.publish(other, None)  # toasoan-N0, -N1, -N2: the marker of N is a prefix of theirs

    assert t._find_post(a.identity) is None
    placed = t.publish(a, None)
    assert t._find_post(a.identity) == int(placed.remote_id or 0)
    assert t._find_post(longer[1].identity) not in (None, int(placed.remote_id or 0))


def our_media_ids(wp: WordPress, a: PublishArticle) -> set[int]:
    return {m["id"] for m in wp.get("/wp/v2/media", per_page=100) if m["slug"].startswith(a.identity + "-")}


def test_a_post_deleted_on_wordpress_is_published_again(wp: WordPress, tmp_path: Path) -> None:
    a = article(tmp_path, photos=0)
    t = target(wp)
    first = t.publish(a, None)
    with wp.client() as c:
        assert rest(c, "DELETE", f"/wp/v2/posts/{first.remote_id}", params={"force": "true"}).status_code == 200

    again = t.publish(a, first)

    assert again.remote_id != first.remote_id and public(again.url).status_code == 200
    assert len(ours(wp, a)) == 1


@pytest.mark.parametrize("withdraw_as", ["draft", "trash"])
def test_withdraw_takes_the_post_off_the_site(wp: WordPress, tmp_path: Path, withdraw_as: str) -> None:
    a = article(tmp_path, photos=1)
    t = target(wp, withdraw_as=withdraw_as)
    placed = t.publish(a, None)
    assert public(placed.url).status_code == 200

    t.withdraw(a, placed)

    assert wp.get(f"/wp/v2/posts/{placed.remote_id}")["status"] == withdraw_as
    assert public(placed.url).status_code == 404
    assert t.verify(placed, a.title) is False
    t.withdraw(a, placed)  # twice is harmless (a trashed post answers 410, taken as done)
    assert wp.get(f"/wp/v2/posts/{placed.remote_id}")["status"] == withdraw_as


def test_a_missing_category_is_created_and_the_map_is_followed(wp: WordPress, tmp_path: Path) -> None:
    fresh = article(tmp_path, photos=0, section="guong-dien-hinh", section_name="Gương điển hình tiên tiến")
    mapped = article(tmp_path, photos=0, section="xay-dung-dang", section_name="Xây dựng Đảng")
    t = target(wp, category_map={"xay-dung-dang": "chinh-tri"})

    (cat,) = wp.get(f"/wp/v2/posts/{t.publish(fresh, None).remote_id}")["categories"]
    (mapped_cat,) = wp.get(f"/wp/v2/posts/{t.publish(mapped, None).remote_id}")["categories"]

    created = wp.get(f"/wp/v2/categories/{cat}")
    assert (created["slug"], html.unescape(created["name"])) == ("guong-dien-hinh", "Gương điển hình tiên tiến")
    assert wp.get(f"/wp/v2/categories/{mapped_cat}")["slug"] == "chinh-tri"
    assert wp.get("/wp/v2/categories", slug="xay-dung-dang") == []


def test_an_account_that_may_not_create_the_category_is_refused_clearly(wp: WordPress, tmp_path: Path) -> None:
    with wp.client() as c:
        r = rest(
            c,
            "POST",
            "/wp/v2/users",
            json={
                "username": "tacgia",
                "email": "tacgia@example.test",
                "password": "mat-khau-dai-16",
                "roles": ["author"],
            },
        )
        assert r.status_code == 201, r.text
    author = WordPressTarget(wp.url, "tacgia", wp.app_password(r.json()["id"], "toasoan"))
    a = article(tmp_path, photos=0, section="muc-chua-co", section_name="Mục chưa có")

    with pytest.raises(TargetRefused, match="muc-chua-co"):
        author.publish(a, None)
    assert ours(wp, a) == []


def test_a_draft_from_a_contributors_email_goes_live_as_ingest_left_it(wp: WordPress, tmp_path: Path) -> None:
    # The whole way: a real submission (a Word file and a photo sent beside it) through intake, the
    # draft read by publish.article as the job runner will, then the target.
    from core.db import reading
    from publish.article import build_article
    from tests.review.webkit import make_office

    office = make_office(tmp_path / "office")
    try:
        office.deliver("bai_photo_beside.eml")
        office.ingest()
        (draft,) = office.drafts()
        with reading(office.engine) as s:
            a = build_article(s, office.settings, draft.id or 0, datetime.now(UTC))
    finally:
        office.close()
    assert a.photos and all(p.web_path is not None for p in a.photos)
    a = dataclasses.replace(a, draft_id=a.draft_id + next_id(), identity=f"{a.identity}-{next_id()}")
    t = target(wp)

    placed = t.publish(a, None)

    page = public(placed.url)
    assert page.status_code == 200 and t.verify(placed, a.title)
    media = media_of(wp, a)
    assert set(media) == {p.sha256 for p in a.photos}
    for photo in a.photos:
        assert public(media[photo.sha256]["source_url"]).content == (photo.web_path or photo.path).read_bytes()
        assert media[photo.sha256]["source_url"] in page.text


# ------------------------------------------------------------------------------------- failures
def test_wordpress_down_is_unavailable_then_the_retry_succeeds(wp: WordPress, tmp_path: Path) -> None:
    a = article(tmp_path, photos=1)
    t = target(wp)
    t.publish(article(tmp_path, photos=0), None)  # the target has talked to WordPress before

    with wp.web_down(), pytest.raises(TargetUnavailable, match="Không kết nối được WordPress"):
        t.publish(a, None)

    placed = t.publish(a, None)  # the job runner's retry, after WordPress came back
    assert public(placed.url).status_code == 200 and len(ours(wp, a)) == 1


def test_wordpress_stopping_mid_publish_leaves_nothing_twice(
    wp: WordPress, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    a = article(tmp_path, photos=3)
    t = target(wp)
    assert t._rest is not None
    call = t._rest.call
    uploads = 0

    def stop_after_first_upload(method: str, route: str, *args: Any, **kw: Any) -> Any:
        nonlocal uploads
        answer = call(method, route, *args, **kw)
        if (method, route) == ("POST", "/wp/v2/media"):
            uploads += 1
            if uploads == 1:
                wp.stop_web()  # WordPress goes down between two requests of one publish
        return answer

    monkeypatch.setattr(t._rest, "call", stop_after_first_upload)
    try:
        with pytest.raises(TargetUnavailable):
            t.publish(a, None)
    finally:
        wp.start_web()
    assert uploads == 1 and ours(wp, a) == [] and len(our_media_ids(wp, a)) == 1

    placed = t.publish(a, None)  # the retry: the first photo is found, not uploaded again

    assert uploads == 3 and len(our_media_ids(wp, a)) == 3
    assert [p["id"] for p in ours(wp, a)] == [int(placed.remote_id or 0)]
    assert t.verify(placed, a.title)


def test_a_wrong_password_is_credentials_refused_and_never_shown(
    wp: WordPress, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)  # httpx's and httpcore's own debug lines too
    wrong = "abcd EFGH ijkl MNOP qrst UVWX"
    a = article(tmp_path, photos=1)
    t = WordPressTarget(wp.url, wp.editor, wrong)

    with pytest.raises(CredentialsRefused) as refused:
        t.publish(a, None)
    with pytest.raises(CredentialsRefused):
        t.withdraw(a, Placed(url=wp.url, remote_id="1"))

    assert "401" in str(refused.value) and wp.editor in str(refused.value)
    basic = base64.b64encode(f"{wp.editor}:{wrong}".encode()).decode()
    assert caplog.records  # the requests were logged...
    for shown in (str(refused.value), repr(t), repr(t._rest), caplog.text):
        assert wrong not in shown and wrong.replace(" ", "") not in shown and basic not in shown  # ...not the secret
    assert ours(wp, a) == [] and our_media_ids(wp, a) == set()


def test_no_password_in_the_environment_is_credentials_refused(wp: WordPress, tmp_path: Path) -> None:
    t = WordPressTarget(wp.url, wp.editor, None, password_env="TOASOAN_WP_PASSWORD_TEST_UNSET")
    with pytest.raises(CredentialsRefused, match="TOASOAN_WP_PASSWORD_TEST_UNSET"):
        t.publish(article(tmp_path, photos=0), None)


def test_wordpress_refusals_carry_its_own_message(wp: WordPress, tmp_path: Path) -> None:
    t = target(wp)
    # A file WordPress will not take (not a picture): WordPress says 500, but retrying cannot help.
    fake = tmp_path / "not-a-photo"
    fake.write_text("Đây không phải là ảnh")
    a = article(tmp_path, photos=1)
    bad = dataclasses.replace(a, photos=(dataclasses.replace(a.photos[0], path=fake),))
    with pytest.raises(TargetRefused, match="not allowed to upload this file type"):
        t.publish(bad, None)
    # A post id WordPress does not know, straight through the seam: its 404 message.
    assert t._rest is not None
    with pytest.raises(TargetRefused, match="rest_post_invalid_id"):
        t._rest.call("GET", "/wp/v2/posts/987654321")
    # Not a WordPress at all (the site's address is wrong): refused, with the fix named.
    with pytest.raises(TargetRefused, match=r"\[publish.wordpress\] url"):
        WordPressTarget(wp.url + "/wp-content/", wp.editor, wp.editor_password).publish(a, None)


def test_settings_build_the_target_with_the_secret_from_the_environment(
    wp: WordPress, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from core.settings import load_settings
    from publish.targets import make_targets
    from tests.appkit import write_settings

    settings_file = write_settings(tmp_path)
    with settings_file.open("a", encoding="utf-8") as f:
        f.write(
            "\n[publish]\ntargets = ['wordpress']\n"
            f"[publish.wordpress]\nurl = '{wp.url}'\nusername = '{wp.editor}'\npassword_env = 'TOASOAN_TEST_WP_PW'\n"
            "withdraw_as = 'trash'\ntimeout_seconds = 120\ncategory_map = { tin-hoat-dong = 'tin-tuc' }\n"
        )
    monkeypatch.setenv("TOASOAN_TEST_WP_PW", wp.editor_password)
    (t,) = make_targets(load_settings(settings_file), ["wordpress"])
    assert isinstance(t, WordPressTarget) and t.withdraw_as == "trash"
    placed = t.publish(article(tmp_path, photos=0), None)
    assert public(placed.url).status_code == 200
    (category,) = wp.get(f"/wp/v2/posts/{placed.remote_id}")["categories"]
    assert wp.get(f"/wp/v2/categories/{category}")["slug"] == "tin-tuc"


# ------------------------------------------------------------------------------------- hostile content
def test_hostile_html_never_reaches_the_readers_page(wp: WordPress, tmp_path: Path) -> None:
    a = article(
        tmp_path,
        title=XSS["title"],
        lead=XSS["lead"],
        body_html=(
            f"<p>{XSS['body']}</p><p onclick=\"alert('p')\">Đoạn <img src=x onerror=alert('anh')>"
            "<iframe src=\"javascript:alert('khung')\"></iframe><svg onload=alert('svg')></svg></p>"
        ),
        byline=XSS["byline"],
        photos=1,
        captions=[XSS["caption"]],
        alts=[XSS["sender"]],
    )
    t = target(wp)
    placed = t.publish(a, None)

    page = public(placed.url).text
    assert live_payloads(page) == []
    (content,) = lxml_html.fromstring(page).xpath('//*[contains(@class, "entry-content")]')
    assert not content.xpath(".//svg | .//script | .//iframe")
    for payload in ("<script>alert(", "<img src=x", "<b onmouseover", 'href="javascript:', "<svg onload"):
        assert payload not in page, payload
    shown = text_of(page).translate(CURLY)
    # What the contributor typed is shown as text, not dropped and not run.
    assert XSS["title"] in shown and XSS["lead"] in shown and XSS["byline"] in shown and XSS["caption"] in shown
    assert t.verify(placed, XSS["title"]) is True
    # The stored post holds escaped text, so no later theme or feed can bring the markup back to life.
    post = wp.get(f"/wp/v2/posts/{placed.remote_id}")
    assert "<script" not in post["title"]["raw"] and "<script" not in post["content"]["raw"]
    assert live_payloads(post["content"]["raw"]) == [] and live_payloads(post["excerpt"]["raw"]) == []
    # Nor does the feed aggregators read.
    feed = etree.fromstring(public(wp.url + "/?feed=rss2").content)
    (item,) = [i for i in feed.iter("item") if i.findtext("link") == placed.url]
    encoded = item.findtext("{http://purl.org/rss/1.0/modules/content/}encoded") or ""
    assert XSS["caption"] in text_of(encoded).translate(CURLY) and live_payloads(encoded) == []


# ------------------------------------------------------------------------------------- verify
@pytest.mark.parametrize(
    ("shown", "title", "expected"),
    [
        ("<h1>Tin &#8220;nóng&#8221; &#8211; 3 giờ&#8230;</h1>", 'Tin "nóng" -- 3 giờ...', True),
        ("<h1>Hội nghị &amp; hội thảo</h1>", "Hội nghị & hội thảo", True),
        ("<h1>Đảng bộ &lt;script&gt; họp</h1>", "Đảng bộ <script> họp", True),
        ("<h1>Hoi nghi</h1>", "Hội nghị", False),  # accents are part of the title
        ("<h1>Hội  nghị\n tổng kết</h1>", "Hội nghị tổng kết", True),
        ("<h1>Hội nghị</h1>", "", False),
    ],
)
def test_page_shows_title_undoes_what_wordpress_does_to_punctuation(shown: str, title: str, expected: bool) -> None:
    assert page_shows_title(f"<html><body>{shown}</body></html>", title) is expected


def test_a_photo_opening_the_article_is_the_featured_image_and_shown_once(wp: WordPress, tmp_path: Path) -> None:
    a = article(tmp_path, photos=2, photo_first=True)

    placed = target(wp).publish(a, None)  # featured_image = "first_photo", the default

    post = wp.get(f"/wp/v2/posts/{placed.remote_id}")
    media = media_of(wp, a)
    first, second = (media[p.sha256] for p in a.photos)
    assert post["featured_media"] == first["id"]
    page = public(placed.url).text
    assert times_shown(page, first) == 1  # as the theme's featured image, where the photo opened the article
    assert times_shown(page, second) == 1
    assert a.photos[1].caption is not None and a.photos[1].caption in text_of(page)
    assert times_shown(listed(wp, a), first) == 1  # lists show it too


def test_lists_only_keeps_the_body_whole_and_the_theme_shows_the_photo_twice(wp: WordPress, tmp_path: Path) -> None:
    """What every post did before `featured_image`, kept for a theme that shows featured images in
    lists only: twentytwentythree shows it above the post as well."""
    a = article(tmp_path, photos=1, photo_first=True)
    placed = target(wp, featured_image="lists_only").publish(a, None)
    first = media_of(wp, a)[a.photos[0].sha256]
    assert wp.get(f"/wp/v2/posts/{placed.remote_id}")["featured_media"] == first["id"]
    assert times_shown(public(placed.url).text, first) == 2


def test_a_correction_takes_the_featured_image_off_a_post_published_before(wp: WordPress, tmp_path: Path) -> None:
    a = article(tmp_path, photos=1)  # the photo after the text
    placed = target(wp, featured_image="lists_only").publish(a, None)
    first = media_of(wp, a)[a.photos[0].sha256]
    assert times_shown(public(placed.url).text, first) == 2

    again = target(wp).publish(dataclasses.replace(a, revision=2), placed)

    assert again == placed
    assert wp.get(f"/wp/v2/posts/{placed.remote_id}")["featured_media"] == 0
    assert times_shown(public(placed.url).text, first) == 1


def test_featured_image_none_leaves_every_photo_in_the_text(wp: WordPress, tmp_path: Path) -> None:
    a = article(tmp_path, photos=1, photo_first=True)
    placed = target(wp, featured_image="none").publish(a, None)
    first = media_of(wp, a)[a.photos[0].sha256]
    assert wp.get(f"/wp/v2/posts/{placed.remote_id}")["featured_media"] == 0
    page = public(placed.url).text
    assert times_shown(page, first) == 1 and a.photos[0].caption is not None
    assert a.photos[0].caption in text_of(page)


@pytest.mark.parametrize(
    ("body", "mode", "featured", "kept"),
    [
        ('\n<figure><img src="https://wp/a.jpg" alt=""><figcaption>A</figcaption></figure><p>x</p>', "first_photo",
         True, "<p>x</p>"),
        ('<p>x</p><figure><img src="https://wp/a.jpg" alt=""></figure>', "first_photo", False, None),
        ('<figure><img src="https://wp/b.jpg" alt=""></figure><p>x</p>', "first_photo", False, None),  # another photo
        ('<figure><img src="https://wp/a.jpg" alt=""></figure><p>x</p>', "lists_only", True, None),
        ('<figure><img src="https://wp/a.jpg" alt=""></figure><p>x</p>', "none", False, None),
    ],
)  # fmt: skip
def test_the_featured_image_and_the_body_per_setting(body: str, mode: str, featured: bool, kept: str | None) -> None:
    assert featured_and_body(body, "https://wp/a.jpg", mode) == (featured, body if kept is None else kept)
    assert featured_and_body(body, None, mode) == (False, body)  # an article without photos
