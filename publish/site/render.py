"""The site's pages from the catalog's records: Jinja2 templates under templates/site/ (autoescape on).

Links inside the pages are relative (`root` is "" at the top, "../" in a section folder), so the site
works under any base URL; the feed and the sitemap carry absolute URLs from `[publish.static] base_url`.
Only the renderer's sanitized body (`PublishArticle.body`) is marked |safe.
"""

from __future__ import annotations

import html
import re
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import cache
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from jinja2 import Template
from markupsafe import Markup

from core.formats import format_date
from core.images import WEB_IMAGE_EXTENSIONS
from core.settings import Category, Settings
from core.templating import TEMPLATES, environment
from core.text import fold_words
from publish.site.catalog import Entry, Record, entry_of
from publish.targets import PublishArticle, PublishPhoto

__all__ = ["ASSETS", "Rendition", "SiteContext", "article_record", "photo_files", "photo_renditions"]

ASSETS = TEMPLATES / "site" / "assets"
FEED_SIZE = 50
HOME_PER_SECTION = 5
HOME_LATEST = 6
LEAD_IN_LISTS = 300
# Types a smaller copy is made of, in the same type (a GIF may be animated: it is served as it is).
RESIZABLE = frozenset({"image/jpeg", "image/png", "image/webp"})


@dataclass(frozen=True)
class SiteContext:
    """What every page needs of the settings; small and picklable (rebuild's worker processes get it)."""

    org_name: str
    office_name: str
    base_url: str  # ends with "/"
    tz_name: str
    sections: tuple[Category, ...]
    image_widths: tuple[int, ...] = ()  # the smaller copies of each photo (`[publish.static] image_widths`)

    @classmethod
    def from_settings(cls, settings: Settings) -> SiteContext:
        base = settings.publish_static.base_url
        return cls(
            org_name=settings.organization.name,
            office_name=settings.organization.office_name,
            base_url=base if base.endswith("/") else base + "/",
            tz_name=settings.organization.timezone,
            sections=settings.categories,
            image_widths=tuple(sorted(set(settings.publish_static.image_widths))),
        )

    def with_sections(self, known: dict[str, dict[str, Any]]) -> SiteContext:
        """The settings' sections, then any the catalog holds that the settings no longer name."""
        slugs = {s.slug for s in self.sections}
        extra = tuple(Category(k, v["name"]) for k, v in known.items() if k not in slugs)
        return self if not extra else SiteContext(**{**self.__dict__, "sections": self.sections + extra})

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.tz_name)


@cache
def _template(name: str) -> Template:
    """Loaded once per process: Jinja's own cache would stat the file at every page."""
    return environment().get_template(name)


@dataclass(frozen=True)
class Chrome:
    header: Markup
    footer: Markup


@cache
def _chrome(site: SiteContext, root: str, current: str | None) -> Chrome:
    """The masthead, menu and footer, the same on thousands of pages: rendered once per place."""
    context = {"site": site, "root": root, "current": current}
    return Chrome(
        header=Markup(_template("site/_header.html").render(**context)),  # noqa: S704 - our own autoescaped template
        footer=Markup(_template("site/_footer.html").render(**context)),  # noqa: S704 - our own autoescaped template
    )


def _render(template: str, **context: Any) -> str:
    if "root" in context:  # an HTML page
        context["chrome"] = _chrome(context["site"], context["root"], context["current"])
    return _template(template).render(**context)


# ------------------------------------------------------------------------------------------ photos
def _ext(content_type: str | None) -> str:
    return WEB_IMAGE_EXTENSIONS.get(content_type or "", ".img")


def photo_files(photo: PublishPhoto) -> list[tuple[Path, str, int | None]]:
    """(stored file, site-relative path, width) of each file of a photo the site serves: web rendition, original."""
    sha = photo.sha256
    out: list[tuple[Path, str, int | None]] = []
    if photo.web_path is not None:
        out.append((photo.web_path, f"media/{sha[:2]}/{sha}.w{_ext(photo.web_content_type)}", photo.web_width))
    out.append((photo.path, f"media/{sha[:2]}/{sha}{_ext(photo.content_type)}", photo.width))
    return out


@dataclass(frozen=True)
class Rendition:
    """A smaller copy of a photo the site makes itself (publish.site.images writes it)."""

    source: Path  # the file it is made from: the web rendition, else the original
    content_type: str  # of the source, and of the copy
    rel: str  # site-relative path: content-addressed by sha256 and width
    width: int


def photo_renditions(photo: PublishPhoto, widths: tuple[int, ...]) -> list[Rendition]:
    """The smaller copies of a photo for `widths`, narrowest first: only below the source's own width
    (never an upscale), and none when that width is unknown or the type is not resizable."""
    if photo.web_path is not None:
        source, content_type, own = photo.web_path, photo.web_content_type or "", photo.web_width
    else:
        source, content_type, own = photo.path, photo.content_type, photo.width
    if not own or content_type not in RESIZABLE:
        return []
    sha = photo.sha256
    return [
        Rendition(source, content_type, f"media/{sha[:2]}/{sha}.w{w}{WEB_IMAGE_EXTENSIONS[content_type]}", w)
        for w in sorted(set(widths))
        if 0 < w < own
    ]


def srcset_candidates(photo: PublishPhoto, widths: tuple[int, ...]) -> list[tuple[str, int]]:
    """(site-relative path, width) of every file of the photo, narrowest first, one per width (two
    candidates of one width make the srcset invalid: the smaller file, listed first, is kept)."""
    found: dict[int, str] = {}
    for r in photo_renditions(photo, widths):
        found.setdefault(r.width, r.rel)
    for _, rel, w in photo_files(photo):
        if w:
            found.setdefault(w, rel)
    return sorted(((rel, w) for w, rel in found.items()), key=lambda c: c[1])


def _img_attrs(photo: PublishPhoto, root: str, widths: tuple[int, ...]) -> str:
    candidates = srcset_candidates(photo, widths)
    attrs = ""
    if len(candidates) > 1:
        srcset = ", ".join(f"{root}{p} {w}w" for p, w in candidates)
        attrs += f' srcset="{srcset}" sizes="(max-width: 800px) 100vw, 760px"'
    w, h = (photo.web_width, photo.web_height) if photo.web_path is not None else (photo.width, photo.height)
    if w and h:
        attrs += f' width="{int(w)}" height="{int(h)}"'
    return attrs + ' loading="lazy" decoding="async"'


def article_body(article: PublishArticle, root: str, widths: tuple[int, ...] = ()) -> str:
    """The renderer's body with the site's photo URLs, and each photo's srcset and size (our own attributes);
    `widths`: the smaller copies the site makes (`SiteContext.image_widths`)."""
    by_sha = {p.sha256: p for p in article.photos}
    src = {sha: photo_files(p)[0][1] for sha, p in by_sha.items()}
    body = article.body(lambda sha: f"{root}{src.get(sha, '')}")
    if not by_sha:
        return body

    def add(m: re.Match[str]) -> str:
        tag = m.group(0)
        sha = _media_src(root).search(tag)
        photo = by_sha.get(sha.group(2)) if sha else None
        if photo is None:
            return tag
        alt = photo.alt or photo.caption  # the editors' alt text, else the caption
        if alt:
            tag = _ALT.sub("", tag)
            tag = tag[:4] + f' alt="{html.escape(alt, quote=True)}"' + tag[4:]
        return tag.removesuffix(">").removesuffix("/").rstrip() + _img_attrs(photo, root, widths) + ">"

    return _IMG.sub(add, body)


# An <img> as the sanitizer serializes it (double-quoted values, which may hold '>').
_IMG = re.compile(r'<img(?:\s+[^\s=>"]+(?:="[^"]*")?)*\s*/?>')
_ALT = re.compile(r'\salt="[^"]*"')


def _media_src(root: str) -> re.Pattern[str]:
    return re.compile(r'src="(' + re.escape(root) + r'media/[0-9a-f]{2}/)([0-9a-f]{64})\.[a-z.]+"')


# ----------------------------------------------------------------------------------------- records
def article_record(article: PublishArticle, path: str, tz: ZoneInfo) -> Record:
    """The catalog's record of a live article (lists, feed, sitemap and search read it)."""
    lead = article.lead or ""
    if len(lead) > LEAD_IN_LISTS:
        lead = lead[:LEAD_IN_LISTS].rsplit(" ", 1)[0] + " …"
    thumb = photo_files(article.photos[0])[0][1] if article.photos else None
    words = " ".join(
        fold_words(t)
        for t in (article.title, article.lead, article.byline, article.unit_name, article.section_name)
        if t
    )
    return {
        "id": article.draft_id,
        "rev": article.revision,
        "identity": article.identity,
        "path": path,
        "section": article.section,
        "section_name": article.section_name,
        "title": article.title,
        "lead": lead or None,
        "date": article.published_at.astimezone(UTC).isoformat(timespec="seconds"),
        "day": format_date(article.published_at, tz),
        "thumb": thumb,
        "byline": article.byline,
        "unit": article.unit_name,
        "words": words,
        "page": None,
        "withdrawn": False,
    }


# ------------------------------------------------------------------------------------------- pages
def article_page(site: SiteContext, article: PublishArticle, path: str) -> str:
    root = "../" * path.count("/")
    return _render(
        "site/article.html",
        site=site,
        root=root,
        current=article.section,
        page_title=article.title,
        description=article.lead or "",
        canonical=site.base_url + path,
        a=article,
        body=article_body(article, root, site.image_widths),
        day=format_date(article.published_at, site.tz),
        date_iso=article.published_at.astimezone(site.tz).isoformat(timespec="minutes"),
    )


def withdrawn_page(site: SiteContext, path: str) -> str:
    root = "../" * path.count("/")
    return _render(
        "site/withdrawn.html",
        site=site,
        root=root,
        current=None,
        page_title="Bài viết đã được gỡ",
        description="",
        canonical="",
    )


def _page_links(pages: int, number: int | None) -> list[int]:
    """A short pager: the first page, a window around the current one (or the newest), the last."""
    centre = number or pages
    keep = {1, pages, *range(max(1, centre - 3), min(pages, centre + 3) + 1)}
    return sorted(n for n in keep if n >= 1)


def section_page(site: SiteContext, slug: str, name: str, pages: int, entries: list[Entry], number: int | None) -> str:
    """Archive page `number` (entries oldest first, shown newest first), or the section's index (None)."""
    shown = list(reversed(entries)) if number else entries
    return _render(
        "site/section.html",
        site=site,
        root="../",
        current=slug,
        page_title=name if number is None else f"{name} — trang {number}",
        description="",
        canonical=site.base_url + f"{slug}/" + ("index.html" if number is None else f"trang-{number}.html"),
        name=name,
        number=number,
        pages=pages,
        entries=shown,
        page_links=_page_links(pages, number) if pages else [],
    )


def home_page(site: SiteContext, latest: list[Entry], blocks: list[dict[str, Any]]) -> str:
    return _render(
        "site/home.html",
        site=site,
        root="",
        current="",
        page_title=site.org_name,
        description=f"Trang thông tin điện tử — {site.org_name}",
        canonical=site.base_url,
        latest=latest[:HOME_LATEST],
        blocks=blocks,
    )


def search_page(site: SiteContext) -> str:
    return _render(
        "site/search.html", site=site, root="", current="tim-kiem", page_title="Tìm kiếm", description="", canonical=""
    )


def feed(site: SiteContext, entries: list[Entry]) -> str:
    shown = entries[:FEED_SIZE]
    updated = shown[0]["date"] if shown else datetime.now(UTC).isoformat(timespec="seconds")
    return _render("site/feed.xml", site=site, entries=shown, updated=updated)


def sitemap(site: SiteContext, urls: list[dict[str, Any]]) -> str:
    return _render("site/sitemap.xml", site=site, urls=urls)


def sitemap_index(site: SiteContext, shards: list[dict[str, Any]]) -> str:
    return _render("site/sitemap_index.xml", site=site, shards=shards)


def search_rows(records: list[Record]) -> list[list[str]]:
    """One search shard: [path, title, day, folded words] per live article, newest first."""
    live = sorted((r for r in records if not r["withdrawn"]), key=lambda r: (r["date"], r["id"]), reverse=True)
    return [[r["path"], r["title"], r["day"], r["words"]] for r in live]


__all__ += ["article_page", "entry_of", "feed", "home_page", "search_page", "section_page", "sitemap", "withdrawn_page"]
