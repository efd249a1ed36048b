"""The smaller copies of article photos the static site serves to phones (`[publish.static] image_widths`).

Each copy is made once: its name holds the photo's sha256 and the width, so a file already there is
the right one and is never decoded or written again (publishing the same article again, a rebuild).
The copies of one photo are made from one decode of its source (JPEG: libjpeg's draft mode scales
while decoding), in the source's own type, and written through a temp file and a rename.
"""

from __future__ import annotations

import io
import logging
from collections.abc import Sequence
from pathlib import Path

from PIL import Image, ImageOps

from publish.site.files import copy_atomic, write_atomic
from publish.site.render import Rendition

__all__ = ["make_renditions", "resized"]

log = logging.getLogger(__name__)

_FORMATS = {"image/jpeg": "JPEG", "image/png": "PNG", "image/webp": "WEBP"}
JPEG_QUALITY = 85  # as ingest's web rendition
_EXIF_ORIENTATION = 0x0112


def make_renditions(root: Path, renditions: Sequence[Rendition]) -> int:
    """Write the copies missing under `root`; how many were written."""
    missing = [r for r in renditions if not (root / r.rel).exists()]
    by_source: dict[Path, list[Rendition]] = {}
    for r in missing:
        by_source.setdefault(r.source, []).append(r)
    for source, wanted in by_source.items():
        if not source.is_file():
            continue  # as for the photo's other files: nothing to serve, nothing written
        try:
            images = resized(source.read_bytes(), [r.width for r in wanted], wanted[0].content_type)
        except (OSError, ValueError, Image.DecompressionBombError) as exc:
            # The srcset names these files already: a copy of the source at least shows the photo.
            log.warning("site: cannot resize %s (%s); its source is served at every width", source.name, exc)
            for r in wanted:
                copy_atomic(source, root / r.rel)
            continue
        for r, data in zip(wanted, images, strict=True):
            write_atomic(root / r.rel, data)
    return len(missing)


def resized(data: bytes, widths: Sequence[int], content_type: str) -> list[bytes]:
    """The image `data` (upright) at each of `widths` px wide, height to scale, in `content_type`."""
    fmt = _FORMATS[content_type]
    with Image.open(io.BytesIO(data)) as im:
        widest = max(widths)
        orientation = im.getexif().get(_EXIF_ORIENTATION, 1)
        if im.format in ("JPEG", "MPO") and im.width > widest and orientation not in (5, 6, 7, 8):
            # libjpeg decodes at 1/2, 1/4 or 1/8 scale when that still leaves >= the widest copy.
            im.draft(im.mode, (widest, max(1, round(im.height * widest / im.width))))
        icc = im.info.get("icc_profile")
        im.load()
        # The web rendition is upright already (no copy made of it); an original may not be.
        upright = ImageOps.exif_transpose(im) if orientation != 1 else im
        upright = _mode_for(upright, fmt)
        out = []
        for wanted in widths:
            width = min(wanted, upright.width)  # never an upscale (a turned original is narrower than it says)
            height = max(1, round(upright.height * width / upright.width))
            # BILINEAR shrinks area-aware in Pillow (no aliasing), as ingest's rendition, at half
            # LANCZOS's cost on the first publish of an article (bench/README.md, static site).
            small = upright.resize((width, height), Image.Resampling.BILINEAR)
            out.append(_encode(small, fmt, icc))
        return out


def _mode_for(im: Image.Image, fmt: str) -> Image.Image:
    """The image in a mode Pillow resizes well and `fmt` can store (palettes are expanded)."""
    has_alpha = im.mode in ("RGBA", "LA", "PA") or (im.mode == "P" and "transparency" in im.info)
    if fmt == "JPEG":
        return im if im.mode in ("RGB", "L") else im.convert("RGB")
    if has_alpha:
        return im if im.mode in ("RGBA", "LA") else im.convert("RGBA")
    return im if im.mode in ("RGB", "L") else im.convert("RGB")


def _encode(im: Image.Image, fmt: str, icc: bytes | None) -> bytes:
    out = io.BytesIO()
    extra: dict[str, object] = {"icc_profile": icc} if icc else {}
    if fmt == "JPEG":
        im.save(out, "JPEG", quality=JPEG_QUALITY, **extra)
    elif fmt == "WEBP":
        im.save(out, "WEBP", quality=JPEG_QUALITY, **extra)
    else:
        im.save(out, "PNG", **extra)
    return out.getvalue()
