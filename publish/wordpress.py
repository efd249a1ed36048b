"""The WordPress target: approved articles become posts through the REST API (`[publish.wordpress]`).

One narrow HTTP seam (`_Rest`) talks to WordPress with an Application Password (HTTP Basic) and turns
every answer into the seam's outcomes: network errors, timeouts, 429 and 5xx are `TargetUnavailable`
(retried), 401/403 `CredentialsRefused` (the target is paused), any other 4xx `TargetRefused` with
WordPress's own message. The password is only ever inside httpx's auth; no message, log line or repr
carries it. Routes are addressed as `?rest_route=/wp/v2/...`, which works with and without pretty
permalinks (research/wordpress.md §6).

What a post is made of:
- title: our plain-text title, HTML-escaped (WordPress treats titles as HTML, and an editor account has
  `unfiltered_html`: an unescaped `<script>` in a contributor's title would run on the portal);
- content: the lead (escaped, bold) + `article.body(media_url)` (the one renderer, sanitized by the
  project's one nh3 policy, photo sources pointing at the uploaded media) + the byline (escaped) + an
  HTML comment carrying our identity (see below); excerpt: the lead (escaped);
- category: our section slug mapped by `category_map` ({} = the same slug). **A category missing on
  WordPress is created** (name = our section's name): categories are data in our settings, and an
  office adding one should not see every article of it fail. An account not allowed to create
  categories gets `TargetRefused` naming the category to create by hand;
- photos: uploaded once each to the media library (the web rendition when ingest made one, else the
  stored original) with caption, alt text and title;
- featured image (`featured_image`, see `featured_and_body`): themes show it in lists and, most of them
  (twentytwentythree too), again above the post, so a photo both featured and in the body is seen twice;
- date: `published_at` (UTC) as `date_gmt`; status `publish`.

Idempotency with a stock WordPress (no plugin, so no registered post meta):
- the post's slug is `<slug>-<draft id>`, set at creation only: a corrected title keeps the URL;
- the content's last element ends with `<!-- toasoan: toasoan-<id> -->`. With `previous=None` (after a crash between
  WordPress's success and our record) the post is found by searching `"toasoan-<id> -->"` (a quoted
  phrase: one exact LIKE term over title, excerpt and content) among posts of any status; the exact
  comment is then checked in `content.raw` and updated
  instead of created. WordPress keeps HTML comments for every role (kses allows them);
- a photo's media slug is `<identity>-<sha256[:20]>`: one lookup per publish (`media?slug=a,b,...`)
  finds what was uploaded before, for this article, so retries and corrections never upload twice;
  changed captions or alt texts are written to the existing media item.
Lookup-then-create is not atomic: two jobs publishing the same draft at once could both create. The
job runner runs one job per draft at a time.

Withdrawal: `withdraw_as = "draft"` turns the post back into a draft (readers get a 404, the post and
its URL stay for a later correction), `"trash"` moves it to WordPress's trash. A post already gone
counts as withdrawn.
"""

from __future__ import annotations

import html
import logging
import re
import time
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx

from core.images import WEB_IMAGE_EXTENSIONS
from core.settings import Settings
from publish.pages import fetch_page
from publish.targets import (
    CredentialsRefused,
    Placed,
    PublishArticle,
    PublishPhoto,
    TargetRefused,
    TargetUnavailable,
    register,
)

__all__ = [
    "FEATURED_IMAGE",
    "HttpStats",
    "WordPressTarget",
    "featured_and_body",
    "identity_marker",
    "media_key",
    "page_shows_title",
    "post_slug",
]

log = logging.getLogger(__name__)

_MESSAGE_MAX = 300
# Upload failures WordPress reports as 500 although they are about the file (type not allowed, too big).
_UPLOAD_REFUSALS = frozenset({"rest_upload_unknown_error", "rest_upload_sideload_error"})


# `[publish.wordpress] featured_image`: which photo is the post's featured image, and what the body keeps.
FEATURED_IMAGE = ("first_photo", "lists_only", "none")
_LEADING_FIGURE = re.compile(r"\A\s*<figure\b[^>]*>(.*?)</figure>\s*", re.S)


def featured_and_body(body: str, first_photo_src: str | None, mode: str) -> tuple[bool, str]:
    """(is the first photo the featured image, the body to post) for `mode`:

    - "first_photo" (the default): featured only when the photo opens the body, and then its figure
      leaves the body: the theme shows the featured image above the post, where the photo stood, so it
      is seen once (its caption stays on the media item; twentytwentythree does not show it there). A
      first photo placed further down stays there and nothing is featured: moving it to the top would
      change the article the board approved (and the preview and the static site show). Lists, feeds
      and link previews get a picture whenever the article opens with one, as news portals lead.
    - "lists_only": always featured, the body kept whole: for a theme that shows featured images in lists
      only (twentytwentythree shows it twice).
    - "none": never featured; every photo where the text places it.
    """
    if first_photo_src is None or mode == "none":
        return False, body
    if mode == "lists_only":
        return True, body
    leading = _LEADING_FIGURE.match(body)
    if leading is None or f'src="{html.escape(first_photo_src, quote=True)}"' not in leading.group(1):
        return False, body
    return True, body[leading.end() :]


def post_slug(article: PublishArticle) -> str:
    """The slug a new post gets: readable, and unique to the draft."""
    return f"{article.slug}-{article.draft_id}"


def identity_marker(identity: str) -> str:
    """The comment at the end of a post's content that says which draft it is."""
    return f"<!-- toasoan: {identity} -->"


def media_key(identity: str, sha256: str) -> str:
    """A photo's media slug: the article's identity and the photo's content (already slug-safe)."""
    return f"{identity}-{sha256[:20]}"


@dataclass
class HttpStats:
    """What the seam spent inside HTTP requests (for the benchmark: our own time is the rest)."""

    requests: int = 0
    seconds: float = 0.0


class _Rest:
    """The one place that speaks HTTP to WordPress."""

    def __init__(self, url: str, username: str, password: str, timeout: float, stats: HttpStats) -> None:
        self.base = url.rstrip("/") + "/"
        self.host = urlsplit(self.base).netloc
        self.username = username
        self.stats = stats
        self._client = httpx.Client(
            base_url=self.base,
            auth=httpx.BasicAuth(username, password),
            timeout=timeout,
            follow_redirects=False,  # a redirected POST would arrive as a GET: say so instead
            headers={"User-Agent": "toasoan"},
        )

    def __repr__(self) -> str:  # never the auth
        return f"<WordPress REST {self.base} as {self.username}>"

    def close(self) -> None:
        self._client.close()

    def call(
        self,
        method: str,
        route: str,
        params: Mapping[str, Any] | None = None,
        *,
        absent: tuple[int, ...] = (),
        **kw: Any,
    ) -> Any:
        """The JSON answer of a 2xx, None for a status in `absent` (e.g. 404: the post is gone);
        every other outcome is one of the target exceptions."""
        started = time.perf_counter()
        try:
            r = self._client.request(method, "", params={"rest_route": route, **(params or {})}, **kw)
        except httpx.TransportError as exc:  # connect/read/write errors and timeouts
            raise TargetUnavailable(f"Không kết nối được WordPress ({self.host}): {type(exc).__name__}") from None
        finally:
            self.stats.requests += 1
            self.stats.seconds += time.perf_counter() - started
        if r.status_code in absent:
            return None
        return self._answer(r)

    def _answer(self, r: httpx.Response) -> Any:
        status = r.status_code
        if 200 <= status < 300:
            try:
                return r.json()
            except ValueError:
                raise TargetRefused(
                    f"{self.base} không trả lời như REST API của WordPress (HTTP {status}): "
                    "kiểm tra [publish.wordpress] url"
                ) from None
        message = _message(r)
        if status == 500 and _code(r) in _UPLOAD_REFUSALS:
            # WordPress answers 500 when it will not take a file (type, size): retrying cannot help.
            raise TargetRefused(f"WordPress không nhận tệp ảnh (HTTP {status}{message})")
        if status >= 500 or status in (408, 429):
            raise TargetUnavailable(f"WordPress đang lỗi (HTTP {status}{message}); sẽ thử lại")
        if status in (401, 403):
            raise CredentialsRefused(f"WordPress từ chối tài khoản “{self.username}” (HTTP {status}{message})")
        if status == 404 and not _code(r):  # not WordPress's JSON 404: there is no REST API at this address
            raise TargetRefused(
                f"Không thấy REST API của WordPress ở {self.base} (HTTP 404): kiểm tra [publish.wordpress] url"
            )
        if 300 <= status < 400:
            raise TargetRefused(
                f"WordPress chuyển hướng tới {r.headers.get('location', '?')} (HTTP {status}): "
                "sửa [publish.wordpress] url"
            )
        raise TargetRefused(f"WordPress từ chối (HTTP {status}{message})")


def _code(r: httpx.Response) -> str:
    try:
        data = r.json()
    except ValueError:
        return ""
    return str(data.get("code") or "") if isinstance(data, dict) else ""


def _message(r: httpx.Response) -> str:
    """WordPress's own explanation (`code`, `message`), short and plain, for the board."""
    try:
        data = r.json()
    except ValueError:
        return ""
    if not isinstance(data, dict):
        return ""
    text = re.sub(r"<[^>]*>", "", html.unescape(str(data.get("message") or ""))).strip()
    code = str(data.get("code") or "")
    if len(text) > _MESSAGE_MAX:
        text = text[: _MESSAGE_MAX - 1] + "…"
    return "".join(f", {part}" for part in (code, text) if part)


class WordPressTarget:
    """Publishes to one WordPress site. Thread-compatible, not thread-safe: one per worker thread."""

    name = "wordpress"

    def __init__(
        self,
        url: str,
        username: str,
        password: str | None,
        *,
        category_map: Mapping[str, str] | None = None,
        withdraw_as: str = "draft",
        timeout: float = 30.0,
        password_env: str = "",
        featured_image: str = "first_photo",
    ) -> None:
        if withdraw_as not in ("draft", "trash"):
            raise ValueError(f"withdraw_as must be draft or trash, not {withdraw_as!r}")
        if featured_image not in FEATURED_IMAGE:
            raise ValueError(f"featured_image must be one of {FEATURED_IMAGE}, not {featured_image!r}")
        self.featured_image = featured_image
        self.url = url
        self.username = username
        self.category_map = dict(category_map or {})
        self.withdraw_as = withdraw_as
        self.stats = HttpStats()
        self._password_env = password_env
        self._rest = _Rest(url, username, password, timeout, self.stats) if password else None
        self._checked = False
        self._categories: dict[str, int] = {}
        self._timeout = timeout

    @classmethod
    def from_settings(cls, settings: Settings) -> WordPressTarget:
        wp = settings.publish_wordpress
        return cls(
            wp.url,
            wp.username,
            settings.secret(wp.password_env),
            category_map=wp.category_map,
            withdraw_as=wp.withdraw_as,
            timeout=float(wp.timeout_seconds),
            password_env=wp.password_env,
            featured_image=wp.featured_image,
        )

    def __repr__(self) -> str:
        return f"<WordPressTarget {self.url} as {self.username}>"

    def close(self) -> None:
        if self._rest is not None:
            self._rest.close()

    # ------------------------------------------------------------------------------ the protocol
    def publish(self, article: PublishArticle, previous: Placed | None) -> Placed:
        rest = self._ready()
        post_id = int(previous.remote_id) if previous is not None and previous.remote_id else None
        if post_id is None:
            post_id = self._find_post(article.identity)
        category = self._category(article.section, article.section_name)
        media = self._media(article)
        payload = self._payload(article, media, category)
        if post_id is not None:
            post = self._update(post_id, payload)
            if post is None:  # deleted on WordPress since: look again, then create
                found = self._find_post(article.identity)
                post = self._update(found, payload) if found is not None else None
        else:
            post = None
        if post is None:
            post = rest.call("POST", "/wp/v2/posts", json={**payload, "slug": post_slug(article)})
            log.info("wordpress: draft %s created as post %s", article.draft_id, post.get("id"))
        if category not in post.get("categories", []):
            # WordPress drops an unknown category id silently: ours was deleted since we looked it up.
            self._categories.pop(article.section, None)
            raise TargetUnavailable(f"Chuyên mục WordPress của “{article.section_name}” vừa bị xoá; sẽ thử lại")
        return Placed(url=str(post["link"]), remote_id=str(post["id"]))

    def withdraw(self, article: PublishArticle, placed: Placed) -> None:
        rest = self._ready()
        post_id = int(placed.remote_id) if placed.remote_id else self._find_post(article.identity)
        if post_id is None:
            return  # nothing of ours there
        # 404: deleted for good; 410: already in the trash. Either way readers no longer see it.
        if self.withdraw_as == "trash":
            rest.call("DELETE", f"/wp/v2/posts/{post_id}", absent=(404, 410))
        else:
            rest.call("POST", f"/wp/v2/posts/{post_id}", json={"status": "draft"}, absent=(404,))
        log.info("wordpress: draft %s withdrawn (post %s, %s)", article.draft_id, post_id, self.withdraw_as)

    def verify(self, placed: Placed, title: str) -> bool:
        """The public page, read anonymously: 200 and the title on it. Network trouble or a 5xx is
        `TargetUnavailable` (ask again later), not a verdict."""
        page = fetch_page(placed.url, self._timeout)
        return page is not None and page_shows_title(page, title)

    # ------------------------------------------------------------------------------ pieces
    def _ready(self) -> _Rest:
        if self._rest is None:
            raise CredentialsRefused(
                f"Chưa có mật khẩu ứng dụng WordPress: biến môi trường {self._password_env or '(chưa đặt)'} trống"
            )
        if not self._checked:
            # A wrong Application Password is anonymous, not an error, for GETs (research §9.2): ask
            # who we are once, so bad credentials are named as such before anything else.
            self._rest.call("GET", "/wp/v2/users/me", {"context": "edit", "_fields": "id"})
            self._checked = True
        return self._rest

    def _find_post(self, identity: str) -> int | None:
        assert self._rest is not None
        # A quoted phrase is one LIKE term: "toasoan-12 -->" cannot match toasoan-120's marker, so the
        # answer is our post (and at worst a few posts quoting it), never a page of near misses.
        found = self._rest.call(
            "GET",
            "/wp/v2/posts",
            {
                "search": f'"{identity} -->"',
                "status": "any",
                "context": "edit",
                "per_page": 100,
                "_fields": "id,content",
            },
        )
        marker = identity_marker(identity)
        ids = sorted(int(p["id"]) for p in found if marker in (p.get("content") or {}).get("raw", ""))
        if len(ids) > 1:
            log.warning("wordpress: %d posts carry %s (ids %s); updating the first", len(ids), identity, ids)
        return ids[0] if ids else None

    def _update(self, post_id: int, payload: dict[str, Any]) -> dict[str, Any] | None:
        assert self._rest is not None
        post: dict[str, Any] | None = self._rest.call("POST", f"/wp/v2/posts/{post_id}", json=payload, absent=(404,))
        if post is None:
            return None
        slug = str(post.get("slug", ""))
        if slug.endswith("__trashed"):  # back from the trash: take the slug (and URL) back too
            post = self._rest.call("POST", f"/wp/v2/posts/{post_id}", json={"slug": slug.removesuffix("__trashed")})
        log.info("wordpress: post %s updated", post_id)
        return post

    def _category(self, section: str, section_name: str) -> int:
        assert self._rest is not None
        if section in self._categories:
            return self._categories[section]
        slug = self.category_map.get(section) or section
        found = self._rest.call("GET", "/wp/v2/categories", {"slug": slug, "_fields": "id,slug"})
        if found:
            cid = int(found[0]["id"])
        else:
            try:
                created = self._rest.call("POST", "/wp/v2/categories", json={"name": section_name, "slug": slug})
            except CredentialsRefused:
                raise TargetRefused(
                    f"WordPress chưa có chuyên mục “{slug}” và tài khoản “{self.username}” không được tạo: "
                    "hãy tạo nó trên WordPress hoặc sửa [publish.wordpress] category_map"
                ) from None
            cid = int(created["id"])
            log.info("wordpress: category %s created (id %s)", slug, cid)
        self._categories[section] = cid
        return cid

    def _media(self, article: PublishArticle) -> dict[str, dict[str, Any]]:
        """sha256 -> the media item (id, source_url) of each photo, uploading only what is missing."""
        assert self._rest is not None
        if not article.photos:
            return {}
        keys = {p.sha256: media_key(article.identity, p.sha256) for p in article.photos}
        existing = self._rest.call(
            "GET",
            "/wp/v2/media",
            {
                "slug": ",".join(keys.values()),
                "context": "edit",
                "per_page": 100,
                "_fields": "id,slug,source_url,caption,alt_text",
            },
        )
        by_slug = {m["slug"]: m for m in existing}
        out: dict[str, dict[str, Any]] = {}
        for n, photo in enumerate(article.photos, start=1):
            key = keys[photo.sha256]
            fields = _media_fields(photo)
            item = by_slug.get(key)
            if item is None:
                item = self._upload(article, n, photo, key, fields)
            elif (item.get("caption") or {}).get("raw", "") != fields["caption"] or item.get("alt_text", "") != fields[
                "alt_text"
            ]:
                item = self._rest.call("POST", f"/wp/v2/media/{item['id']}", json=fields)
            out[photo.sha256] = item
        return out

    def _upload(
        self, article: PublishArticle, n: int, photo: PublishPhoto, key: str, fields: dict[str, str]
    ) -> dict[str, Any]:
        assert self._rest is not None
        path, content_type = _photo_file(photo)
        name = f"{article.slug}-{n:02d}{WEB_IMAGE_EXTENSIONS.get(content_type, path.suffix or '.jpg')}"
        item: dict[str, Any] = self._rest.call(
            "POST",
            "/wp/v2/media",
            files={"file": (name, path.read_bytes(), content_type)},
            data={**fields, "slug": key},
        )
        if item.get("slug") != key:  # WordPress would find it no more: say so rather than re-upload forever
            log.warning("wordpress: media %s stored with slug %r, not %r", item.get("id"), item.get("slug"), key)
        return item

    def _payload(
        self, article: PublishArticle, media: Mapping[str, Mapping[str, Any]], category: int
    ) -> dict[str, Any]:
        def media_url(sha256: str) -> str:
            return str(media[sha256]["source_url"])

        first = media[article.photos[0].sha256] if article.photos else None
        featured, body = featured_and_body(
            article.body(media_url), str(first["source_url"]) if first else None, self.featured_image
        )
        parts = []
        if article.lead:
            parts.append(f"<p><strong>{_text(article.lead)}</strong></p>")
        parts.append(body)
        if article.byline:
            parts.append(f"<p><strong>{_text(article.byline)}</strong></p>")
        payload: dict[str, Any] = {
            "title": _text(article.title),
            "content": _with_marker("".join(parts), identity_marker(article.identity)),
            "excerpt": _text(article.lead or ""),
            "status": "publish",
            "categories": [category],
            "date_gmt": article.published_at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S"),
            "featured_media": int(first["id"]) if first and featured else 0,  # 0: none (an update removes it)
        }
        return payload


_LAST_CLOSE = re.compile(r"(</[a-z][a-z0-9]*>)\s*$")


def _with_marker(content: str, marker: str) -> str:
    """The marker inside the last element: on its own, WordPress's wpautop would wrap it in an empty
    paragraph (a blank line at the end of every article)."""
    marked, n = _LAST_CLOSE.subn(lambda m: marker + m.group(1), content, count=1)
    return marked if n else content + marker


def _text(value: str) -> str:
    """Plain text as WordPress HTML: NFC, escaped (quotes stay: WordPress curls them itself)."""
    return html.escape(unicodedata.normalize("NFC", value), quote=False)


def _media_fields(photo: PublishPhoto) -> dict[str, str]:
    caption = _text(photo.caption or "")
    return {"caption": caption, "alt_text": unicodedata.normalize("NFC", photo.alt or photo.caption or ""),
            "title": caption}  # fmt: skip


def _photo_file(photo: PublishPhoto) -> tuple[Path, str]:
    if photo.web_path is not None and photo.web_content_type:
        return photo.web_path, photo.web_content_type
    return photo.path, photo.content_type


# What WordPress's wptexturize makes of plain punctuation, mapped back for comparing.
_TEXTURIZED = str.maketrans(
    {
        "\u2018": "'", "\u2019": "'", "\u201a": "'", "\u2032": "'",
        "\u201c": '"', "\u201d": '"', "\u201e": '"', "\u2033": '"',
        "\u2013": "-", "\u2014": "-", "\u00d7": "x", "\u00a0": " ", "\u2026": "...",
    }
)  # fmt: skip
_DASHES = re.compile(r"-{2,}")
_SPACES = re.compile(r"\s+")


def _comparable(text: str) -> str:
    text = unicodedata.normalize("NFC", html.unescape(text)).translate(_TEXTURIZED)
    return _SPACES.sub(" ", _DASHES.sub("-", text)).strip()


def page_shows_title(page_html: str, title: str) -> bool:
    """True when the page's text holds the title: entities decoded on the page, WordPress's curly
    quotes, dashes and ellipses taken back, spaces collapsed; letters and accents compared exactly."""
    needle = _comparable(title)
    return bool(needle) and needle in _comparable(page_html)


@register("wordpress")
def _make(settings: Settings) -> WordPressTarget:
    return WordPressTarget.from_settings(settings)
