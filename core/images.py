"""Image types by their magic bytes: no decoding, no Pillow, so every package can ask cheaply.

Ingest sniffs attachments and Word media with it, the review UI the stored photos it serves, publish
names the files it uploads by the type.
"""

from __future__ import annotations

# The types every browser shows, with the extension a downloaded or uploaded copy is named with.
WEB_IMAGE_EXTENSIONS: dict[str, str] = {
    "image/jpeg": ".jpg",
    "image/png": ".png",
    "image/gif": ".gif",
    "image/webp": ".webp",
}


def image_type(data: bytes) -> str | None:
    """MIME type from magic bytes alone (no Pillow), or None when this is no image we know."""
    if data.startswith(b"\xff\xd8\xff"):
        return "image/jpeg"
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return "image/png"
    if data.startswith((b"GIF87a", b"GIF89a")):
        return "image/gif"
    if data.startswith(b"BM") and len(data) > 26 and data[6:10] == b"\0\0\0\0":
        return "image/bmp"
    if data.startswith((b"II*\0", b"MM\0*")):
        return "image/tiff"
    if data.startswith(b"RIFF") and data[8:12] == b"WEBP":
        return "image/webp"
    if data.startswith(b"\x01\0\0\0") and data[40:44] == b" EMF":
        return "image/x-emf"
    if data.startswith((b"\xd7\xcd\xc6\x9a", b"\x01\x00\x09\x00", b"\x02\x00\x09\x00")):
        return "image/x-wmf"
    if data[4:8] == b"ftyp" and data[8:12] in (b"heic", b"heix", b"mif1", b"msf1", b"heim", b"heis"):
        return "image/heic"
    if data[4:8] == b"ftyp" and data[8:12] in (b"avif", b"avis"):
        return "image/avif"
    head = data[:1024].lstrip(b"\xef\xbb\xbf \t\r\n")
    if head.startswith((b"<svg", b"<?xml")) and b"<svg" in head:
        return "image/svg+xml"
    return None


def web_image_type(head: bytes) -> tuple[str, str] | None:
    """(content type, extension) when the bytes start an image a browser shows, else None."""
    content_type = image_type(head)
    extension = WEB_IMAGE_EXTENSIONS.get(content_type or "")
    return (content_type, extension) if content_type and extension else None
