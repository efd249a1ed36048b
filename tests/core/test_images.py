"""The one image-type sniffer: magic bytes only, and the subset a browser is served."""

from __future__ import annotations

from pathlib import Path

import pytest

from core.images import WEB_IMAGE_EXTENSIONS, image_type, web_image_type
from review.web.files import sniff_image

pytestmark = pytest.mark.no_database  # the PostgreSQL pass of make test leaves it out

HEADS = {
    b"\xff\xd8\xff\xe0\0\x10JFIF": "image/jpeg",
    b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR": "image/png",
    b"GIF87a\x01\0\x01\0": "image/gif",
    b"GIF89a\x01\0\x01\0": "image/gif",
    b"RIFF\x24\0\0\0WEBPVP8 ": "image/webp",
    b"II*\0\x08\0\0\0": "image/tiff",
    b"\0\0\0\x18ftypheic": "image/heic",
    b"<?xml version='1.0'?><svg xmlns='http://www.w3.org/2000/svg'/>": "image/svg+xml",
}


@pytest.mark.parametrize(("head", "content_type"), HEADS.items())
def test_image_type_by_magic(head: bytes, content_type: str) -> None:
    assert image_type(head) == content_type


@pytest.mark.parametrize("head", [b"", b"%PDF-1.7", b"PK\x03\x04", b"\xff\xd8", b"GIF8"])
def test_no_image(head: bytes) -> None:
    assert image_type(head) is None and web_image_type(head) is None


@pytest.mark.parametrize(("head", "content_type"), HEADS.items())
def test_browsers_are_served_only_the_web_types(head: bytes, content_type: str, tmp_path: Path) -> None:
    expected = (content_type, WEB_IMAGE_EXTENSIONS[content_type]) if content_type in WEB_IMAGE_EXTENSIONS else None
    assert web_image_type(head) == expected
    stored = tmp_path / "photo"
    stored.write_bytes(head + b"\0" * 64)
    assert sniff_image(stored) == expected  # the review UI reads the file's first bytes only
