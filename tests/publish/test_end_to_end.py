"""The whole loop on the default target: a contributor's email, the board's approval, `publish --once`,
and the article live on the static site at the URL `drafts show` gives; `site rebuild` keeps it."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from tests.publish.conftest import Office
from tests.publish.test_runner import cli


def test_an_approved_email_is_live_on_the_static_site(
    make_office: Callable[..., Office], capsys: pytest.CaptureFixture[str]
) -> None:
    o = make_office(targets=["static"])
    cli(o, "drafts", "approve", str(o.tin), "--by", "duyet", "--json", capsys=capsys)
    cli(o, "publish", "--once", capsys=capsys)
    d: dict[str, Any] = cli(o, "drafts", "show", str(o.tin), "--json", capsys=capsys)
    assert d["status"] == "published"
    [pub] = d["publications"]
    assert (pub["target"], pub["status"], pub["error"]) == ("static", "published", None)
    base = o.settings.publish_static.base_url
    url = d["published_url"]
    assert url == pub["url"] and url.startswith(base) and url.endswith(f"-{o.tin}.html")
    # The file lives under [publish.static] path at the path its URL names under base_url.
    page = o.settings.resolve(o.settings.publish_static.path) / url.removeprefix(base)
    html = page.read_text(encoding="utf-8")
    assert d["title"] and d["title"] in html
    section = o.settings.publish.default_section
    assert f"/{section}/" in url  # approved without a category: the default section

    cli(o, "site", "rebuild", capsys=capsys)
    assert page.read_text(encoding="utf-8") == html  # rebuilt from the publications: the same page
