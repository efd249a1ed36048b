"""An approved draft as a `PublishArticle`: what every target puts on the portal, read in one place."""

from __future__ import annotations

import re
from datetime import datetime

from sqlmodel import Session

from core.drafts import images_of
from core.models import Draft
from core.settings import Settings
from core.storage import Store
from core.text import fold
from publish.targets import PublishArticle, PublishPhoto

__all__ = ["build_article", "identity_of", "slugify"]

_NOT_SLUG = re.compile(r"[^a-z0-9]+")
SLUG_MAX = 80


def slugify(title: str, fallback: str = "bai-viet") -> str:
    """An ASCII slug of a Vietnamese title: 'Đảng bộ xã Tân Phú' -> 'dang-bo-xa-tan-phu'."""
    slug = _NOT_SLUG.sub("-", fold(title)).strip("-")
    if len(slug) > SLUG_MAX:
        slug = slug[:SLUG_MAX].rsplit("-", 1)[0] or slug[:SLUG_MAX]
    return slug or fallback


def identity_of(draft_id: int) -> str:
    """Our own name for the article on every portal: stable across revisions, crashes and re-runs."""
    return f"toasoan-{draft_id}"


def build_article(s: Session, settings: Settings, draft_id: int, published_at: datetime) -> PublishArticle:
    """The draft as it will be published at `published_at` (aware UTC). The draft must exist."""
    draft = s.get(Draft, draft_id)
    if draft is None:
        raise LookupError(f"no draft {draft_id}")
    store = Store(settings.storage_dir)
    images = images_of(s, draft_id)
    photos = []
    for i in images:
        web = store.path("media", i.sha256, ".web")
        photos.append(
            PublishPhoto(
                sha256=i.sha256,
                caption=i.caption,
                alt=i.alt,
                content_type=i.content_type,
                path=store.path("media", i.sha256),
                width=i.width,
                height=i.height,
                web_path=web if i.web_content_type and web.is_file() else None,
                web_content_type=i.web_content_type,
                web_width=i.web_width,
                web_height=i.web_height,
            )
        )
    unit = settings.unit_by_code(draft.unit_code)
    section = settings.category_by_slug(draft.category) or settings.category_by_slug(settings.publish.default_section)
    return PublishArticle(
        draft_id=draft_id,
        revision=draft.revision,
        identity=identity_of(draft_id),
        slug=slugify(draft.title),
        kind=draft.kind,
        title=draft.title,
        lead=draft.lead,
        body_html=draft.body_html,
        byline=draft.byline,
        unit_code=draft.unit_code,
        unit_name=unit.name if unit else None,
        section=section.slug if section else settings.publish.default_section,
        section_name=section.name if section else settings.publish.default_section,
        published_at=published_at,
        photos=tuple(photos),
    )
