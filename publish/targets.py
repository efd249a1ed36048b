"""The one seam between toasoan and a portal: publisher targets, registered by name.

A target gets a `PublishArticle` (everything a reader's page shows, built once from the draft by
`publish.article`) and answers with where the article now lives. The job runner (publish.jobs) calls
it, records the `Publication`, and turns the target's exceptions into job outcomes:

- `TargetUnavailable` (network error, 5xx, a lock held elsewhere): retried with backoff;
- `TargetRefused` (4xx, an article the portal will not take): the job fails, the answer is shown;
- `CredentialsRefused`: the target is paused and the admins get one email;
- `AwaitingManual`: a person must act (the `manual` target); the job waits, no retry.

Which targets run is `[publish] targets`; several may be active at once. A target keeps its own
settings under `[publish.<name>]` and its secrets in environment variables named there.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Protocol

from core.article import MediaUrl, Photo, compose
from core.settings import Settings

__all__ = [
    "AwaitingManual",
    "CredentialsRefused",
    "Placed",
    "PublishArticle",
    "PublishPhoto",
    "Target",
    "TargetError",
    "TargetRefused",
    "TargetUnavailable",
    "available",
    "make_targets",
    "register",
    "registered",
]


@dataclass(frozen=True)
class PublishPhoto:
    """A photo the editors kept, in the order the article shows it."""

    sha256: str
    caption: str | None
    alt: str | None
    content_type: str  # of the stored original
    path: Path  # the stored original (core.storage, area "media")
    width: int | None = None
    height: int | None = None
    web_path: Path | None = None  # the web rendition ingest made (at most [images] web width), if any
    web_content_type: str | None = None
    web_width: int | None = None
    web_height: int | None = None


@dataclass(frozen=True)
class PublishArticle:
    """One approved draft as readers will see it. Text is NFC and already sanitized where it is HTML."""

    draft_id: int
    revision: int  # a correction bumps it: a target that sees a newer revision updates the page
    identity: str  # stable across revisions and re-runs ("toasoan-<id>"): how a target finds its own post
    slug: str  # ASCII, from the title
    kind: str  # tin, bai, ...
    title: str
    lead: str | None  # sa-pô, plain text
    body_html: str  # the stored body; use `body(media_url)` for the page
    byline: str | None
    unit_code: str | None
    unit_name: str | None
    section: str  # category slug (the settings' default section when the draft has none)
    section_name: str
    published_at: datetime  # aware UTC: when it goes (or went) live; show it in the office's timezone
    photos: tuple[PublishPhoto, ...] = field(default=())

    def body(self, media_url: MediaUrl) -> str:
        """The article body as readers see it, photos loaded from `media_url(sha256)`."""
        return compose(self.body_html, [Photo(p.sha256, p.caption, p.alt) for p in self.photos], media_url)


@dataclass(frozen=True)
class Placed:
    """Where a target put the article."""

    url: str  # the public URL readers open
    remote_id: str | None = None  # the target's own id (WordPress post id), kept for updates


class TargetError(Exception):
    """Base of what a target raises; `str(exc)` is shown to the board (keep it short, no secrets)."""


class TargetUnavailable(TargetError):
    """Try again later: the portal is down, slow or busy."""


class TargetRefused(TargetError):
    """The portal answered no for this article; retrying the same request will not help."""


class CredentialsRefused(TargetError):
    """The portal refused our credentials: pause the target until a person fixes them."""


class AwaitingManual(TargetError):
    """A person must finish the job (paste the live URL); not a failure."""


class Target(Protocol):
    name: str

    def publish(self, article: PublishArticle, previous: Placed | None) -> Placed:
        """Put the article live, or update it when `previous` says where it already is.

        Idempotent: after a crash between the portal's success and our record, calling it again with
        `previous=None` must find the article by `article.identity` and not create a second one."""
        ...

    def withdraw(self, article: PublishArticle, placed: Placed) -> None:
        """Take the article off the portal (readers get a notice or a 404, per target)."""
        ...

    def verify(self, placed: Placed, title: str) -> bool:
        """Read the public URL back: True when it answers and shows the title."""
        ...


TargetFactory = Callable[[Settings], Target]
_REGISTRY: dict[str, TargetFactory] = {}


def register(name: str) -> Callable[[TargetFactory], TargetFactory]:
    """Decorator: make a target available to `[publish] targets` under `name`."""

    def add(factory: TargetFactory) -> TargetFactory:
        _REGISTRY[name] = factory
        return factory

    return add


def registered() -> Sequence[str]:
    return sorted(_REGISTRY)


def available(name: str) -> bool:
    """True when target `name` is registered, importing its module `publish.<name>` (which registers
    it) the first time, so that callers need not import every target module themselves."""
    if name not in _REGISTRY and name.isidentifier():
        try:
            importlib.import_module(f"publish.{name}")
        except ModuleNotFoundError as exc:
            if exc.name != f"publish.{name}":  # the module is there but needs something missing: say so
                raise
    return name in _REGISTRY


def make_targets(settings: Settings, names: Sequence[str]) -> list[Target]:
    """The targets named in the settings, built from their own sections. Unknown names are an error."""
    unknown = [n for n in names if not available(n)]
    if unknown:
        raise ValueError(f"unknown publish target(s): {', '.join(unknown)}; known: {', '.join(registered())}")
    return [_REGISTRY[n](settings) for n in names]
