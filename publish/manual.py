"""The manual target: for a portal without an API (an ASP.NET CMS where someone pastes articles by hand).

`publish` builds nothing remote: it raises `AwaitingManual`, the job waits, and the draft page offers
the package `build_package(article)` makes — title, lead, a body in the plain HTML such editors accept,
the captions, the photos as numbered web-sized files, and all of it as one zip with an `index.html`
preview. The person pastes the article into the CMS, uploads the photos in order, and gives the live URL
back; `verify` then reads that page anonymously and checks the title is on it (folded comparison: the
CMS may write entities, NFD or other cases).

The body comes only from `article.body(...)` (the one renderer, sanitized by the one nh3 policy); this
module then only narrows it to the tags a CMS editor keeps (p, br, strong, em, ul/ol/li, tables, links)
and turns each figure into an image paragraph followed by an italic caption paragraph. Plain-text
fields are escaped.
"""

from __future__ import annotations

import dataclasses
import html
import io
import re
import zipfile
from dataclasses import dataclass, field
from datetime import UTC
from typing import Any

import lxml.html
from lxml import etree

from core.html import html_to_text
from core.images import WEB_IMAGE_EXTENSIONS
from core.settings import Settings
from core.text import fold_words, nfc
from publish.pages import fetch_page
from publish.targets import AwaitingManual, Placed, PublishArticle, PublishPhoto, register

__all__ = ["ManualPackage", "ManualTarget", "build_package", "shows_title"]

# Tags the CMS editor gets as they are (with these attributes); the rest are renamed or unwrapped.
_KEEP = {
    "p": (), "br": (), "strong": (), "em": (), "ul": (), "ol": ("start", "type"), "li": (),
    "table": (), "caption": (), "thead": (), "tbody": (), "tfoot": (), "tr": (),
    "th": ("colspan", "rowspan"), "td": ("colspan", "rowspan"), "a": ("href",), "sub": (), "sup": (),
}  # fmt: skip
_RENAME = {"b": "strong", "i": "em"}
_HEADINGS = {"h2", "h3", "h4", "h5", "h6"}  # become a bold paragraph: CMS editors often drop headings
_WEB_WIDTH = 1200  # when ingest made no web rendition: the settings' default [ingest] web_image_width


@dataclass(frozen=True)
class ManualPackage:
    """What a person needs to put one article on a portal by hand."""

    title: str
    lead: str | None
    body_html: str  # photo sources are the file names of `photos`, in order
    captions: list[str]  # one per photo, in order ("" when a photo has none)
    photos: list[tuple[str, bytes]]  # ("01-<slug>.jpg", web-sized bytes), in the article's order
    zip_bytes: bytes  # index.html, noi-dung.html, bai-viet.txt and the photos
    byline: str | None = None
    file_name: str = field(default="bai-viet.zip")  # what the draft page offers the zip as


def _web_photo(photo: PublishPhoto, web_width: int) -> tuple[bytes, str]:
    """(bytes, content type) of the photo at web size: ingest's rendition, else one made here."""
    if photo.web_path is not None:
        return photo.web_path.read_bytes(), photo.web_content_type or photo.content_type
    data = photo.path.read_bytes()
    if photo.width is not None and photo.width <= web_width:
        return data, photo.content_type
    from ingest.word.images import ImageError, web_rendition

    try:  # a CMS upload of a 12 MP photo helps nobody
        rendition, content_type, _w, _h = web_rendition(data, web_width)
    except ImageError:  # Pillow cannot read it: it is still the contributor's photo, sent as it is
        return data, photo.content_type
    return rendition, content_type


def build_package(article: PublishArticle, *, web_width: int = _WEB_WIDTH) -> ManualPackage:
    """The article as a person pastes it into a CMS editor, and the zip the draft page offers."""
    names: dict[str, str] = {}
    photos: list[tuple[str, bytes]] = []
    for n, photo in enumerate(article.photos, start=1):
        data, content_type = _web_photo(photo, web_width)
        names[photo.sha256] = f"{n:02d}-{article.slug}{WEB_IMAGE_EXTENSIONS.get(content_type, '.jpg')}"
        photos.append((names[photo.sha256], data))
    package = ManualPackage(
        title=nfc(article.title),
        lead=nfc(article.lead) if article.lead else None,
        body_html=_cms_html(article.body(lambda sha: names[sha])),
        captions=[nfc(p.caption or "") for p in article.photos],
        photos=photos,
        zip_bytes=b"",
        byline=nfc(article.byline) if article.byline else None,
        file_name=f"{article.slug}-{article.draft_id}.zip",
    )
    return _with_zip(package, article)


def _cms_html(body: str) -> str:
    root = lxml.html.fragment_fromstring(body or "<p></p>", create_parent="div")
    for figure in list(root.iter("figure")):
        _figure_to_paragraphs(figure)
    for el in list(root.iter()):
        if el is root or not isinstance(el.tag, str):
            continue
        tag = _RENAME.get(el.tag, el.tag)
        if el.tag in _HEADINGS:
            strong = lxml.html.Element("strong")  # an element of the HTML tree it joins
            strong.text, el.text = el.text, None
            for child in list(el):
                strong.append(child)
            el.append(strong)
            tag = "p"
        if tag == "img":  # sources are our file names already (compose put them there)
            for name in list(el.attrib):
                if name not in ("src", "alt"):
                    del el.attrib[name]
            continue
        if tag not in _KEEP:
            el.drop_tag()  # keep the text, lose the tag (u, s, blockquote, hr, ...)
            continue
        el.tag = tag
        for name in list(el.attrib):
            if name not in _KEEP[tag]:
                del el.attrib[name]
    # One block a line: readable in the CMS editor's source view.
    out = (root.text or "") + "\n".join(etree.tostring(c, encoding="unicode", method="html").strip() for c in root)
    return nfc(out)


def _figure_to_paragraphs(figure: Any) -> None:
    img = figure.find(".//img")
    caption = figure.find("figcaption")
    caption_text = caption.text_content().strip() if caption is not None else ""
    new = []
    if img is not None:
        p = etree.Element("p")
        image = etree.SubElement(p, "img")
        image.set("src", img.get("src", ""))
        image.set("alt", img.get("alt") or caption_text)
        new.append(p)
    if caption_text:
        p = etree.Element("p")
        em = etree.SubElement(p, "em")
        em.text = caption_text
        new.append(p)
    parent = figure.getparent()
    index = parent.index(figure)
    tail = figure.tail
    parent.remove(figure)
    for offset, element in enumerate(new):
        parent.insert(index + offset, element)
    if tail and tail.strip():
        if new:
            new[-1].tail = tail
        else:
            previous = parent[index - 1] if index > 0 else None
            if previous is not None:
                previous.tail = (previous.tail or "") + tail
            else:
                parent.text = (parent.text or "") + tail


def _with_zip(package: ManualPackage, article: PublishArticle) -> ManualPackage:
    stamp = article.published_at.astimezone(UTC).timetuple()[:6]
    files: list[tuple[str, bytes]] = [
        ("index.html", _index_html(package).encode("utf-8")),
        ("noi-dung.html", package.body_html.encode("utf-8")),
        ("bai-viet.txt", _text_file(package).encode("utf-8")),
        *package.photos,
    ]
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as z:
        for name, data in files:
            info = zipfile.ZipInfo(name, date_time=stamp)  # the same article gives the same zip
            already_compressed = name.endswith((".jpg", ".png", ".gif", ".webp"))
            info.compress_type = zipfile.ZIP_STORED if already_compressed else zipfile.ZIP_DEFLATED
            z.writestr(info, data)
    return dataclasses.replace(package, zip_bytes=buffer.getvalue())


def _index_html(package: ManualPackage) -> str:
    e = html.escape
    parts = [
        '<!DOCTYPE html>\n<html lang="vi">\n<head>\n<meta charset="utf-8">\n',
        f"<title>{e(package.title)}</title>\n</head>\n<body>\n<h1>{e(package.title)}</h1>\n",
    ]
    if package.lead:
        parts.append(f"<p><strong>{e(package.lead)}</strong></p>\n")
    parts.append(package.body_html + "\n")
    if package.byline:
        parts.append(f"<p><strong>{e(package.byline)}</strong></p>\n")
    parts.append("</body>\n</html>\n")
    return "".join(parts)


def _text_file(package: ManualPackage) -> str:
    lines = [f"Tiêu đề: {package.title}", f"Sa-pô: {package.lead or ''}", f"Tác giả: {package.byline or ''}", ""]
    lines.append("Ảnh (tải lên theo thứ tự):")
    for (name, _data), caption in zip(package.photos, package.captions, strict=True):
        lines.append(f"  {name}: {caption}")
    lines += ["", "Nội dung (văn bản):", html_to_text(package.body_html), ""]
    return "\n".join(lines)


_TITLE_TAG = re.compile(r"<title[^>]*>(.*?)</title>", re.IGNORECASE | re.DOTALL)


def shows_title(page_html: str, title: str) -> bool:
    """True when the page (its text or its <title>) holds the title as whole words, compared folded:
    case, diacritics (NFC or NFD), entities and punctuation do not matter."""
    needle = fold_words(title)
    if not needle:
        return False
    head = _TITLE_TAG.search(page_html)
    text = html_to_text(page_html) + " " + (html.unescape(head.group(1)) if head else "")
    return f" {needle} " in f" {fold_words(text)} "


class ManualTarget:
    """A person publishes; toasoan prepares the package and checks the page they report."""

    name = "manual"

    def __init__(self, timeout: float = 30.0) -> None:
        self.timeout = timeout

    def publish(self, article: PublishArticle, previous: Placed | None) -> Placed:
        n = len(article.photos)
        if previous is not None:
            raise AwaitingManual(
                f"Chờ cập nhật tay bản sửa lần {article.revision} trên cổng ({previous.url}): "
                f"tải gói bài mới ({n} ảnh), sửa bài trên CMS rồi xác nhận"
            )
        raise AwaitingManual(
            f"Chờ đăng tay: tải gói bài (tiêu đề, sa-pô, nội dung, {n} ảnh), dán vào CMS của cổng "
            "rồi nhập địa chỉ bài đã đăng"
        )

    def withdraw(self, article: PublishArticle, placed: Placed) -> None:
        raise AwaitingManual(f"Chờ gỡ tay bài “{article.title}” khỏi cổng: {placed.url}")

    def verify(self, placed: Placed, title: str) -> bool:
        """The pasted URL answers 200 and shows the title. Network trouble and 5xx are
        `TargetUnavailable`; a URL that is not http(s) is simply False."""
        page = fetch_page(placed.url, self.timeout)
        return page is not None and shows_title(page, title)


@register("manual")
def _make(settings: Settings) -> ManualTarget:
    return ManualTarget()
