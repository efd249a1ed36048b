"""The static site in a real Chromium, served by the web app `toasoan serve` runs (under /site/):
the article shows its photos, every link of the home and section pages answers, search folds accents."""

from __future__ import annotations

from pathlib import Path

import pytest
from playwright.sync_api import Browser

from publish.static import StaticTarget
from tests.publish.sitekit import article, real_photo, site_settings
from tests.review.browserkit import ARTIFACTS, DESKTOP, PHONE, server_launcher

pytestmark = pytest.mark.slow


def test_the_served_site_in_chromium(tmp_path: Path, chromium_browser: Browser) -> None:
    browser = chromium_browser
    settings = site_settings(tmp_path, base_url="http://127.0.0.1/site/")
    static = StaticTarget(settings)
    photos = (real_photo(tmp_path / "media", 1), real_photo(tmp_path / "media", 2, caption="Ảnh: Đại biểu phát biểu."))
    for n in range(1, 24):
        section = "xay-dung-dang" if n % 4 == 0 else "tin-hoat-dong"
        title = f"Công đoàn cơ quan tổ chức hội thao lần {n}" if n % 2 else None
        static.publish(article(n, section=section, title=title), None)
    featured = article(24, title="Đảng bộ Khối cơ quan sơ kết sáu tháng", photos=photos)
    placed = static.publish(featured, None)
    path = placed.url.removeprefix("http://127.0.0.1/site/")

    with server_launcher(tmp_path / "launcher.log") as launcher:
        server = launcher.start(settings.path)
        base = f"{server.url}/site/"
        context = browser.new_context(viewport=DESKTOP, locale="vi-VN")
        page = context.new_page()
        problems: list[str] = []
        page.on("console", lambda m: problems.append(m.text) if m.type in ("error", "warning") else None)
        page.on("response", lambda r: problems.append(f"{r.status} {r.url}") if r.status >= 400 else None)
        page.on("pageerror", lambda e: problems.append(str(e)))
        try:
            # The article, its two photos loaded (lazy ones scrolled to).
            response = page.goto(base + path)
            assert response is not None and response.status == 200
            assert page.locator("h1").inner_text() == featured.title
            images = page.locator("article img")
            assert images.count() == 2
            for i in range(2):
                images.nth(i).scroll_into_view_if_needed()
                page.wait_for_function(
                    "img => img.complete && img.naturalWidth > 0", arg=images.nth(i).element_handle(), timeout=30_000
                )
                assert images.nth(i).get_attribute("alt") == photos[i].caption
            ARTIFACTS.mkdir(parents=True, exist_ok=True)
            page.screenshot(path=str(ARTIFACTS / "site-article.png"), full_page=True)

            # Every link on the home page and on the section pages answers 200.
            checked: set[str] = set()
            for start in (
                base,
                base + "tin-hoat-dong/index.html",
                base + "tin-hoat-dong/trang-1.html",
                base + "xay-dung-dang/index.html",
            ):
                assert page.goto(start).status == 200, start
                if start == base:
                    page.screenshot(path=str(ARTIFACTS / "site-home.png"), full_page=True)
                hrefs = page.eval_on_selector_all("a[href]", "links => links.map(a => a.href)")
                for href in hrefs:
                    href = href.split("#")[0]
                    if not href.startswith(server.url) or href in checked:
                        continue
                    checked.add(href)
                    answer = context.request.get(href)
                    assert answer.status == 200, (start, href, answer.status)
            assert len(checked) > 25

            # The catalog beside the pages is not served.
            assert context.request.get(base + "_data/feed.json").status == 404

            # Search without accents, from the search form.
            page.goto(base + "tim-kiem.html")
            page.get_by_label("Từ khóa").fill("dang bo khoi")
            page.get_by_role("button", name="Tìm").click()
            result = page.locator("#search-results a", has_text=featured.title)
            result.wait_for(timeout=30_000)
            assert "Tìm thấy 1 bài" in page.locator("#search-status").inner_text()
            page.screenshot(path=str(ARTIFACTS / "site-search.png"))
            result.click()
            page.wait_for_url(base + path)

            phone = browser.new_page(viewport=PHONE, locale="vi-VN")
            phone.goto(base)
            phone.screenshot(path=str(ARTIFACTS / "site-home-phone.png"), full_page=True)
            phone.close()
            assert problems == []
        finally:
            context.close()
            launcher.stop(server)
