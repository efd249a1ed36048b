"""What processing decided about one message, computed without writing; ingest.apply writes it."""

from __future__ import annotations

from dataclasses import dataclass, field

from ingest.models import InboundStatus, Reason


@dataclass
class ImagePlan:
    sha256: str
    content_type: str
    width: int | None
    height: int | None
    caption: str | None
    alt: str | None
    origin: str
    web_content_type: str | None
    web_width: int | None
    web_height: int | None


@dataclass
class DraftPlan:
    kind: str
    title: str
    lead: str | None
    body_html: str
    byline: str | None
    syllables: int
    source_file: str | None
    source_sha256: str | None
    source_format: str
    warnings: list[str]
    images: list[ImagePlan]


@dataclass
class Outcome:
    status: InboundStatus
    reason: Reason | None = None
    detail: str | None = None
    drafts: list[DraftPlan] = field(default_factory=list)
    problems: list[dict[str, str]] = field(default_factory=list)
    notify: bool = False  # tell the contributor (receipt or quarantine notice)
    revises: int | None = None  # the draft a contributor's reply revises (its first document)
