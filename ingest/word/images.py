"""Image probing and web renditions (Pillow).

Photos reach us pasted into Word files and attached beside them, straight from phones: 12 MP JPEGs
with EXIF orientation and GPS tags. The portal gets a web rendition (at most `max_width` wide,
orientation applied, metadata stripped); the caller keeps the original bytes.

Nothing here decodes pixels before the declared size has been checked: an image header is cheap to
read, its pixels are what a decompression bomb is made of.
"""

from __future__ import annotations

import io
import re

from PIL import Image

from core.images import image_type

JPEG_QUALITY = 85

# Vector formats Pillow can identify but not render here: LibreOffice turns them into PNG.
VECTOR_TYPES = frozenset({"image/x-emf", "image/x-wmf", "image/svg+xml"})

_PIL_TYPES = {
    "JPEG": "image/jpeg",
    "MPO": "image/jpeg",  # phone "multi-picture" JPEGs: the first frame is an ordinary JPEG
    "PNG": "image/png",
    "GIF": "image/gif",
    "BMP": "image/bmp",
    "DIB": "image/bmp",
    "TIFF": "image/tiff",
    "WEBP": "image/webp",
}

# EXIF Orientation -> the transpose that puts the picture upright (EXIF 2.3, tag 0x0112).
_ORIENTATION = {
    2: Image.Transpose.FLIP_LEFT_RIGHT,
    3: Image.Transpose.ROTATE_180,
    4: Image.Transpose.FLIP_TOP_BOTTOM,
    5: Image.Transpose.TRANSPOSE,
    6: Image.Transpose.ROTATE_270,
    7: Image.Transpose.TRANSVERSE,
    8: Image.Transpose.ROTATE_90,
}
_EXIF_ORIENTATION = 0x0112


class ImageError(ValueError):
    """An image that cannot be used; the caller keeps the original and warns."""


class ImageTooLarge(ImageError):
    """The header declares more pixels than allowed: a decompression bomb, or close enough."""


class UnreadableImage(ImageError):
    """Not an image Pillow can read (damaged, truncated, or an unsupported format)."""


def probe(data: bytes, max_pixels: int | None = None) -> tuple[str, int | None, int | None]:
    """(content_type, width, height) from the header only; width/height None when unknown.

    Raises ImageTooLarge when the declared size exceeds `max_pixels` (or Pillow's own bomb limit),
    UnreadableImage when the bytes are no image at all.
    """
    magic = image_type(data)
    try:
        with _open(data) as im:
            content_type = _content_type(im, magic)
            width, height = im.size
    except ImageTooLarge:
        raise
    except MemoryError:
        raise
    except Exception as exc:
        if magic is None:
            raise UnreadableImage(f"not an image: {exc}") from exc
        return magic, None, None  # e.g. HEIC or SVG: known by magic, no dimensions from Pillow
    if max_pixels is not None and width * height > max_pixels:
        raise ImageTooLarge(f"image {width}x{height} px exceeds {max_pixels // 1_000_000} MP")
    return content_type, width, height


def web_rendition(data: bytes, max_width: int, *, max_pixels: int | None = None) -> tuple[bytes, str, int, int]:
    """(bytes, content_type, width, height) of an upright, metadata-free copy at most max_width wide.

    JPEG sources are decoded with Pillow's draft mode: libjpeg scales by 1/2, 1/4 or 1/8 while
    decoding, and draft picks the largest of those that still leaves the image >= the target, so a
    12 MP photo costs about a quarter of a full decode. JPEG stays JPEG; sources with transparency,
    palettes or one bit per pixel (logos, diagrams) become PNG; other lossless sources stay PNG
    unless a JPEG is less than half the size (a photo saved as PNG).
    """
    try:
        return _web_rendition(data, max_width, max_pixels)
    except ImageError:
        raise
    except MemoryError:
        raise
    except Exception as exc:
        raise UnreadableImage(f"cannot decode image: {type(exc).__name__}: {exc}") from exc


def _web_rendition(data: bytes, max_width: int, max_pixels: int | None) -> tuple[bytes, str, int, int]:
    im = _open(data)
    width, height = im.size
    if max_pixels is not None and width * height > max_pixels:
        raise ImageTooLarge(f"image {width}x{height} px exceeds {max_pixels // 1_000_000} MP")
    orientation = _orientation(im)
    upright_width = height if orientation in (5, 6, 7, 8) else width
    target: tuple[int, int] | None = None
    if upright_width > max_width:
        scale = max_width / upright_width
        target = (max(1, round(width * scale)), max(1, round(height * scale)))
    is_jpeg = im.format in ("JPEG", "MPO")
    if is_jpeg and target is not None:
        im.draft(None, target)
    icc = im.info.get("icc_profile")
    im.load()
    im, output = _web_mode(im, is_jpeg)
    if target is not None and im.size != target:
        # BILINEAR in Pillow is area-aware when shrinking (no aliasing); at these ratios it looks
        # the same as BICUBIC and is cheaper (bench/README.md, Word conversion).
        im = im.resize(target, Image.Resampling.BILINEAR)
    if orientation in _ORIENTATION:
        im = im.transpose(_ORIENTATION[orientation])
    extra = {"icc_profile": icc} if icc else {}
    if output == "png":
        data, content_type = _encode(im, "PNG", extra), "image/png"
    elif output == "jpeg":
        data, content_type = _encode(im, "JPEG", extra), "image/jpeg"
    else:
        # A lossless opaque source: screenshots and diagrams stay PNG (JPEG would blur their text);
        # photos saved as PNG become JPEG, which is several times smaller for them.
        png, jpeg = _encode(im, "PNG", extra), _encode(im, "JPEG", extra)
        data, content_type = (jpeg, "image/jpeg") if len(png) > 2 * len(jpeg) else (png, "image/png")
    return data, content_type, im.width, im.height


def _encode(im: Image.Image, fmt: str, extra: dict[str, bytes]) -> bytes:
    out = io.BytesIO()
    if fmt == "JPEG":
        im.save(out, "JPEG", quality=JPEG_QUALITY, **extra)
    else:
        im.save(out, "PNG", **extra)
    return out.getvalue()


def _open(data: bytes) -> Image.Image:
    """Image.open with Pillow's bomb check turned into ImageTooLarge; decodes nothing."""
    # Pillow only warns between its limit and twice it; our own max_pixels check (lower) decides.
    try:
        return Image.open(io.BytesIO(data))
    except Image.DecompressionBombError as exc:
        found = re.search(r"\((\d+) pixels\)", str(exc))
        size = f"{int(found.group(1)) / 1e6:.0f} MP" if found else "too many pixels"
        raise ImageTooLarge(f"image of {size} (decompression bomb?)") from exc


def _content_type(im: Image.Image, magic: str | None) -> str:
    if im.format == "WMF":
        # Pillow names EMF and WMF alike; the magic bytes tell them apart.
        return magic if magic in ("image/x-emf", "image/x-wmf") else "image/x-wmf"
    return _PIL_TYPES.get(im.format or "", magic or f"image/{(im.format or 'unknown').lower()}")


def _orientation(im: Image.Image) -> int:
    try:
        value = im.getexif().get(_EXIF_ORIENTATION, 1)
    except Exception:
        return 1  # damaged EXIF must not cost the picture
    return value if isinstance(value, int) else 1


def _web_mode(im: Image.Image, is_jpeg: bool) -> tuple[Image.Image, str]:
    """The image in a mode fit for resizing and saving, and the output: "jpeg", "png" or "auto"."""
    mode = im.mode
    if is_jpeg:
        return (im if mode in ("RGB", "L") else im.convert("RGB")), "jpeg"
    has_alpha = mode in ("RGBA", "LA", "PA", "RGBa", "La") or (mode == "P" and "transparency" in im.info)
    if has_alpha:
        return im.convert("RGBA"), "png"
    if mode in ("P", "1"):
        return im.convert("RGB" if mode == "P" else "L"), "png"
    if mode.startswith("I;16") or mode in ("I", "F"):
        # 16-bit scans: scale to 8 bits instead of clipping everything above 255 to white.
        return im.convert("I").point(lambda v: v / 256).convert("L"), "auto"
    if mode not in ("RGB", "L"):
        return im.convert("RGB"), "auto"
    return im, "auto"
