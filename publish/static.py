"""The `static` target (the default portal): the site toasoan writes itself, served under /site/.

The pages, the catalog and the lists live in `[publish.static] path` (see publish/site/); the target
holds no table of its own. `toasoan serve` serves that folder at /site/ and `toasoan site rebuild`
writes it again from the published articles.
"""

from __future__ import annotations

from markupsafe import escape

from core.settings import Settings
from publish.site.builder import Site
from publish.site.render import SiteContext
from publish.targets import Placed, PublishArticle, TargetRefused, register

__all__ = ["StaticTarget", "site_of"]


def site_of(settings: Settings) -> Site:
    return Site(settings.resolve(settings.publish_static.path), SiteContext.from_settings(settings))


class StaticTarget:
    name = "static"

    def __init__(self, settings: Settings) -> None:
        self.site = site_of(settings)

    def publish(self, article: PublishArticle, previous: Placed | None) -> Placed:
        fallback = self.site.path_of_url(previous.url) if previous else None
        path = self.site.publish(article, fallback_path=fallback)
        return Placed(url=self.site.url(path), remote_id=path)

    def withdraw(self, article: PublishArticle, placed: Placed) -> None:
        path = placed.remote_id or self.site.path_of_url(placed.url)
        self.site.withdraw(article.draft_id, fallback_path=path)

    def verify(self, placed: Placed, title: str) -> bool:
        """The page at the placed URL exists and shows the title (as the page escapes it)."""
        path = self.site.path_of_url(placed.url)
        if path is None:
            raise TargetRefused(f"địa chỉ không thuộc trang tĩnh: {placed.url}")
        try:
            page = self.site.file(path).read_text(encoding="utf-8")
        except (FileNotFoundError, IsADirectoryError):
            return False
        return f"<h1>{escape(title)}</h1>" in page  # as the template escapes it


@register("static")
def make_static(settings: Settings) -> StaticTarget:
    return StaticTarget(settings)
