"""`toasoan site rebuild`: the whole static site again from the published articles, with a progress bar."""

from __future__ import annotations

import argparse
from collections.abc import Callable, Iterator
from typing import Any

from sqlalchemy.engine import Engine
from sqlmodel import col, select

from core.db import reading, utcnow
from core.progress import progress_bar
from core.settings import Settings
from publish.article import build_article
from publish.models import Publication, PublicationStatus
from publish.targets import PublishArticle

__all__ = ["add_parser", "published_articles"]


def published_articles(engine: Engine, settings: Settings) -> Iterator[PublishArticle]:
    """Every article live on the static site, oldest first: its Publication rows, dated when they went live."""
    with reading(engine) as s:
        rows = s.exec(
            select(Publication.draft_id, Publication.published_at)
            .where(Publication.target == "static", Publication.status == PublicationStatus.published)
            .order_by(col(Publication.published_at), col(Publication.draft_id))
        ).all()
        for draft_id, published_at in rows:
            yield build_article(s, settings, draft_id, published_at or utcnow())


def cmd_site(settings: Settings, args: argparse.Namespace, engine: Engine) -> int:
    from publish.static import site_of

    site = site_of(settings)
    with progress_bar("Dựng lại trang", unit="bài") as bar:
        report = site.rebuild(published_articles(engine, settings), progress=bar)
    print(
        f"Đã dựng lại trang tĩnh {site.root}: {report.articles} bài, {report.section_pages} trang chuyên mục, "
        f"{report.withdrawn} bài đã gỡ ({report.seconds:.1f} s)."
    )
    return 0


def add_parser(sub: Any, engine_of: Callable[[Settings], Engine]) -> None:
    """`toasoan site ...` on the CLI's subparsers; `engine_of` opens the database as the CLI does."""
    site = sub.add_parser("site", help="trang thông tin tĩnh")
    ssub = site.add_subparsers(dest="site_cmd", required=True)
    ssub.add_parser("rebuild", help="dựng lại toàn bộ trang từ các bài đã đăng")
    site.set_defaults(func=lambda settings, args: cmd_site(settings, args, engine_of(settings)))
