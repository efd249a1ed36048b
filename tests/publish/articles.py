"""`PublishArticle`s for the target tests and the benchmark, with real photo files on disk.

An article is what `publish.article.build_article` makes of an approved draft; building it directly
keeps the target tests about the target (the draft tables have their own tests). Draft ids start at a
random offset so articles of different runs never share an identity on one WordPress.
"""

from __future__ import annotations

import hashlib
import itertools
import secrets
from datetime import UTC, datetime
from pathlib import Path

from publish.article import identity_of, slugify
from publish.targets import PublishArticle, PublishPhoto
from tests.fixtures.intake.build import photo

_IDS = itertools.count(100_000 + secrets.randbelow(800_000) * 1000)

BODY = (
    "<p>Sáng 05/12, Đảng bộ xã Tân Phú tổ chức hội nghị sơ kết công tác xây dựng Đảng năm 2026.</p>"
    "<h2>Kết quả nổi bật</h2>"
    "<ul><li>Kết nạp 12 đảng viên mới;</li><li>100% chi bộ hoàn thành nhiệm vụ.</li></ul>"
    "<table><tbody><tr><th>Chỉ tiêu</th><th>Kết quả</th></tr><tr><td>Đảng viên mới</td><td>12</td></tr>"
    "</tbody></table>"
    "<p>Hội nghị đề ra <strong>phương hướng</strong> nhiệm vụ năm 2027.</p>"
)


def next_id() -> int:
    return next(_IDS)


def photo_file(directory: Path, seed: int, width: int = 640, height: int = 480) -> tuple[str, Path]:
    """A JPEG stored under its sha256, as core.storage keeps media; (sha256, path)."""
    data = photo(width, height, seed=seed, quality=80)
    sha = hashlib.sha256(data).hexdigest()
    path = directory / sha
    path.write_bytes(data)
    return sha, path


def article(
    directory: Path,
    *,
    draft_id: int | None = None,
    title: str = "Đảng bộ xã Tân Phú sơ kết công tác xây dựng Đảng",
    lead: str | None = "Hội nghị đánh giá kết quả một năm thực hiện nghị quyết.",
    body_html: str = BODY,
    byline: str | None = "Nguyễn Văn A",
    photos: int = 2,
    captions: list[str | None] | None = None,
    alts: list[str | None] | None = None,
    revision: int = 1,
    section: str = "tin-hoat-dong",
    section_name: str = "Tin hoạt động",
    seed: int = 1,
    photo_first: bool = False,
) -> PublishArticle:
    """An approved article; its first photo sits in the body (a figure from the Word file: after the
    text, or before it with `photo_first`), the others were sent beside it. Every photo is new (the
    builder adds random noise): a new revision of the same article takes its photos from the first one
    (`dataclasses.replace`)."""
    directory.mkdir(parents=True, exist_ok=True)
    draft_id = draft_id if draft_id is not None else next_id()
    kept = []
    for n in range(photos):
        sha, path = photo_file(directory, seed * 100 + n)
        caption = (captions or [])[n] if captions and n < len(captions) else f"Ảnh {n + 1}: quang cảnh hội nghị"
        alt = (alts or [])[n] if alts and n < len(alts) else None
        kept.append(PublishPhoto(sha256=sha, caption=caption, alt=alt, content_type="image/jpeg", path=path))
    if kept:
        figure = f'<figure><img src="/media/{kept[0].sha256}" alt=""><figcaption>x</figcaption></figure>'
        body_html = figure + body_html if photo_first else body_html + figure
    return PublishArticle(
        draft_id=draft_id,
        revision=revision,
        identity=identity_of(draft_id),
        slug=slugify(title),
        kind="tin",
        title=title,
        lead=lead,
        body_html=body_html,
        byline=byline,
        unit_code="XTP",
        unit_name="Đảng bộ xã Tân Phú",
        section=section,
        section_name=section_name,
        published_at=datetime.now(UTC).replace(microsecond=0),
        photos=tuple(kept),
    )
