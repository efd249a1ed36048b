"""Helpers of the static-site tests (plain module): a site's settings, real articles, the site's files."""

from __future__ import annotations

import hashlib
import io
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from bs4 import BeautifulSoup
from PIL import Image

from core.settings import Settings, load_settings
from publish.article import slugify
from publish.static import StaticTarget
from publish.targets import PublishArticle, PublishPhoto
from tests import markup
from tests.appkit import write_settings
from tests.fixtures.intake.build import BODY, LEAD, photo

BASE_URL = "http://cong-thong-tin.example/site/"
SECTIONS = [("tin-hoat-dong", "Tin hoạt động"), ("xay-dung-dang", "Xây dựng Đảng")]
START = datetime(2026, 11, 1, 1, 0, tzinfo=UTC)


def site_settings(root: Path, base_url: str = BASE_URL) -> Settings:
    config = write_settings(root)
    extra = ["", "[publish]", 'default_section = "tin-hoat-dong"', "", "[publish.static]", 'path = "site"']
    extra += [f'base_url = "{base_url}"', ""]
    for slug, name in SECTIONS:
        extra += ["[[categories]]", f'slug = "{slug}"', f'name = "{name}"', ""]
    config.write_text(config.read_text(encoding="utf-8") + "\n".join(extra), encoding="utf-8")
    return load_settings(config)


def real_photo(
    folder: Path,
    seed: int,
    caption: str | None = "Ảnh: Quang cảnh hội nghị.",
    *,
    size: tuple[int, int] = (1600, 1200),
    web_format: str = "JPEG",
) -> PublishPhoto:
    """A stored original (1600x1200 JPEG) and its web rendition (at most 1200 wide, `web_format`), as
    ingest keeps them."""
    folder.mkdir(parents=True, exist_ok=True)
    width, height = size
    data = photo(width, height, seed=seed, quality=70)
    sha = hashlib.sha256(data).hexdigest()
    original = folder / sha
    original.write_bytes(data)
    web_size = (min(width, 1200), round(height * min(width, 1200) / width))
    out = io.BytesIO()
    Image.open(io.BytesIO(data)).resize(web_size).save(
        out, web_format, **({"quality": 70} if web_format == "JPEG" else {})
    )
    web = folder / f"{sha}.web"
    web.write_bytes(out.getvalue())
    return PublishPhoto(
        sha256=sha,
        caption=caption,
        alt=None,
        content_type="image/jpeg",
        path=original,
        width=width,
        height=height,
        web_path=web,
        web_content_type=f"image/{web_format.lower()}",
        web_width=web_size[0],
        web_height=web_size[1],
    )


def article(
    n: int,
    *,
    section: str = "tin-hoat-dong",
    title: str | None = None,
    photos: tuple[PublishPhoto, ...] = (),
    published_at: datetime | None = None,
    **fields: Any,
) -> PublishArticle:
    title = title or f"Đảng bộ xã Tân Phú tổ chức hội nghị lần thứ {n}"
    body = "".join(f"<p>{p}</p>" for p in BODY)
    if photos:  # the first photo in the text, as a Word file places it; the others follow the text
        body = body.replace("</p>", f'</p><figure><img src="/media/{photos[0].sha256}" alt=""></figure>', 1)
    a = PublishArticle(
        draft_id=n,
        revision=1,
        identity=f"toasoan-{n}",
        slug=slugify(title),
        kind="tin",
        title=title,
        lead=LEAD,
        body_html=body,
        byline="Nguyễn Thị Lan",
        unit_code="VP",
        unit_name="Chi bộ Văn phòng",
        section=section,
        section_name=dict(SECTIONS)[section],
        published_at=published_at or START + timedelta(hours=n),
        photos=photos,
    )
    return replace(a, **fields) if fields else a


def snapshot(root: Path) -> dict[str, tuple[int, str]]:
    """path -> (mtime_ns, sha256) of every file of the site."""
    return {
        str(p.relative_to(root)): (p.stat().st_mtime_ns, hashlib.sha256(p.read_bytes()).hexdigest())
        for p in sorted(root.rglob("*"))
        if p.is_file()
    }


def changed(before: dict[str, tuple[int, str]], after: dict[str, tuple[int, str]]) -> set[str]:
    return {p for p in after if before.get(p) != after[p]} | (set(before) - set(after))


def target(settings: Settings) -> StaticTarget:
    return StaticTarget(settings)


def page(root: Path, path: str) -> BeautifulSoup:
    return BeautifulSoup((root / path).read_text(encoding="utf-8"), "lxml")


def live_markup(html: str) -> list[str]:
    """What in a site page could run or load something the site did not write: should be empty.
    Style sheets and feeds (<link>) are the site's own or the base URL's; their schemes are checked."""
    return markup.live_markup(
        html,
        script=lambda src: src.endswith("assets/search.js"),
        img=lambda src: src.lstrip("./").startswith("media/"),
        link=lambda href: True,
    )
