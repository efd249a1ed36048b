"""Image probing and web renditions: what the portal shows of a contributor's photos."""

from __future__ import annotations

import io
import zlib
from pathlib import Path

import pytest
from PIL import Image, ImageDraw

from core.images import image_type
from ingest.word.images import (
    ImageTooLarge,
    UnreadableImage,
    probe,
    web_rendition,
)
from tests.fixtures.hostile import build

pytestmark = pytest.mark.no_database  # the PostgreSQL pass of make test leaves it out

HOSTILE = Path(__file__).resolve().parents[3] / "tests" / "fixtures" / "hostile"


def encode(image: Image.Image, fmt: str, **options: object) -> bytes:
    out = io.BytesIO()
    image.save(out, fmt, **options)
    return out.getvalue()


def opened(data: bytes) -> Image.Image:
    image = Image.open(io.BytesIO(data))
    image.load()
    return image


# ------------------------------------------------------------------------------------- probe


def test_probe_reads_type_and_size_from_the_header() -> None:
    assert probe(build.photo(1600, 1200)) == ("image/jpeg", 1600, 1200)
    assert probe(encode(Image.new("RGBA", (30, 20)), "PNG")) == ("image/png", 30, 20)
    assert probe(encode(Image.new("P", (5, 7)), "GIF")) == ("image/gif", 5, 7)
    assert probe(encode(Image.new("RGB", (9, 4)), "BMP")) == ("image/bmp", 9, 4)
    assert probe(encode(Image.new("RGB", (9, 4)), "WEBP")) == ("image/webp", 9, 4)


def test_probe_tells_emf_from_wmf() -> None:
    content_type, width, height = probe(build.emf(400, 300))
    assert content_type == "image/x-emf"
    assert (width, height) == (399, 299)  # the EMF bounds are inclusive
    assert probe(build.wmf())[0] == "image/x-wmf"


def test_huge_declared_dimensions_are_refused_without_decoding() -> None:
    data = (HOSTILE / "huge-dimensions.png").read_bytes()
    assert len(data) < 1000  # the bomb is in what it declares: 30000 x 30000 pixels
    with pytest.raises(ImageTooLarge):
        probe(data, max_pixels=50_000_000)
    with pytest.raises(ImageTooLarge):
        probe(data)  # beyond Pillow's own limit as well
    with pytest.raises(ImageTooLarge):
        web_rendition(data, 1200, max_pixels=50_000_000)


def test_max_pixels_is_the_limit_below_pillows() -> None:
    data = encode(Image.new("L", (1000, 1000)), "PNG")
    assert probe(data, max_pixels=1_000_000)[1:] == (1000, 1000)
    with pytest.raises(ImageTooLarge):
        probe(data, max_pixels=999_999)


def test_not_an_image() -> None:
    with pytest.raises(UnreadableImage):
        probe(b"%PDF-1.7 not a picture")
    assert image_type(b"%PDF-1.7") is None


def test_known_by_magic_but_not_decodable_here() -> None:
    heic = b"\0\0\0\x18ftypheic\0\0\0\0mif1heic" + bytes(64)
    assert probe(heic) == ("image/heic", None, None)
    svg = b'<?xml version="1.0"?><svg xmlns="http://www.w3.org/2000/svg" width="10" height="10"/>'
    assert probe(svg) == ("image/svg+xml", None, None)


# ------------------------------------------------------------------------------------- renditions


def test_phone_photo_becomes_a_1200px_jpeg() -> None:
    data, content_type, width, height = web_rendition(build.photo(4000, 3000), 1200)
    assert (content_type, width, height) == ("image/jpeg", 1200, 900)
    assert opened(data).size == (1200, 900)


def test_orientation_is_applied_and_exif_with_gps_stripped() -> None:
    # Stored landscape: left half red, right half blue. Orientation 6 = "rotate 90° clockwise to
    # view", so the viewer sees a portrait picture whose top half is red.
    stored = Image.new("RGB", (1600, 1200), (0, 0, 255))
    stored.paste((255, 0, 0), (0, 0, 800, 1200))
    exif = Image.Exif()
    exif[0x0112] = 6
    exif.get_ifd(0x8825)[2] = (21.0, 1.0, 30.0)
    original = encode(stored, "JPEG", quality=92, exif=exif)
    assert "exif" in Image.open(io.BytesIO(original)).info

    data, content_type, width, height = web_rendition(original, 600)
    image = opened(data)
    assert (content_type, width, height, image.size) == ("image/jpeg", 600, 800, (600, 800))
    assert "exif" not in image.info
    assert not image.getexif()
    top, bottom = image.getpixel((300, 100)), image.getpixel((300, 700))
    assert top[0] > 200 and top[2] < 60  # red
    assert bottom[2] > 200 and bottom[0] < 60  # blue


def test_phone_photo_with_exif_block() -> None:
    original = build.photo(3000, 4000, orientation=1)
    data, _, width, height = web_rendition(original, 1200)
    assert (width, height) == (1200, 1600)
    assert "exif" not in opened(data).info


def test_small_pictures_are_not_enlarged() -> None:
    _, content_type, width, height = web_rendition(build.photo(800, 600), 1200)
    assert (content_type, width, height) == ("image/jpeg", 800, 600)


def test_png_with_alpha_stays_png_with_alpha() -> None:
    logo = Image.new("RGBA", (2400, 1000), (0, 0, 0, 0))
    logo.paste((200, 0, 0, 255), (0, 0, 1200, 1000))
    data, content_type, width, height = web_rendition(encode(logo, "PNG"), 1200)
    image = opened(data)
    assert (content_type, width, height) == ("image/png", 1200, 500)
    assert image.mode == "RGBA"
    assert image.getpixel((1100, 250))[3] == 0  # still transparent
    assert image.getpixel((100, 250))[3] == 255


def test_palette_diagram_and_screenshot_stay_png_but_a_photo_saved_as_png_becomes_jpeg() -> None:
    diagram = Image.new("P", (1500, 900))
    assert web_rendition(encode(diagram, "GIF"), 1200)[1] == "image/png"

    screenshot = Image.new("RGB", (1500, 900), (240, 240, 240))
    draw = ImageDraw.Draw(screenshot)
    for row in range(20):
        draw.text((40, 40 + row * 40), "Báo cáo kết quả thi đua năm 2026 " * 3, fill=(20, 20, 20))
        draw.rectangle((1300, 40 + row * 40, 1400, 60 + row * 40), fill=(0, 90, 160))
    assert web_rendition(encode(screenshot, "PNG"), 1200)[1:] == ("image/png", 1200, 720)

    photo_png = encode(opened(build.photo(1500, 900)), "PNG")
    assert web_rendition(photo_png, 1200)[1:] == ("image/jpeg", 1200, 720)


def test_cmyk_jpeg_becomes_rgb() -> None:
    cmyk = Image.new("CMYK", (1400, 1000), (0, 255, 255, 0))  # printer red
    data, content_type, _, _ = web_rendition(encode(cmyk, "JPEG"), 1200)
    image = opened(data)
    assert (content_type, image.mode) == ("image/jpeg", "RGB")
    pixel = image.getpixel((600, 400))
    assert isinstance(pixel, tuple)
    red, green, blue = pixel
    assert red > 200 and green < 80 and blue < 80


def test_sixteen_bit_scan_keeps_its_tones() -> None:
    grey = Image.new("I;16", (1300, 100), 32768)  # mid grey in 16 bits
    data, _, _, _ = web_rendition(encode(grey, "PNG"), 1200)
    value = opened(data).convert("L").getpixel((600, 50))
    assert isinstance(value, int) and 100 < value < 156


def test_truncated_jpeg_is_unreadable() -> None:
    data = build.photo(1600, 1200)
    with pytest.raises(UnreadableImage):
        web_rendition(data[: len(data) // 3], 1200)


def test_vector_pictures_have_no_pillow_rendition() -> None:
    with pytest.raises(UnreadableImage):
        web_rendition(build.emf(), 1200)


def test_png_that_inflates_beyond_its_header_is_cut_at_the_header() -> None:
    # IHDR says 100 x 100 but the IDAT holds 50 MB of zeros: Pillow stops at 100 x 100.
    import struct

    def chunk(kind: bytes, payload: bytes) -> bytes:
        return struct.pack(">I", len(payload)) + kind + payload + struct.pack(">I", zlib.crc32(kind + payload))

    png = (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", struct.pack(">IIBBBBB", 100, 100, 8, 0, 0, 0, 0))
        + chunk(b"IDAT", zlib.compress(bytes(50 * 2**20), 9))
        + chunk(b"IEND", b"")
    )
    assert len(png) < 100_000
    _, _, width, height = web_rendition(png, 1200)
    assert (width, height) == (100, 100)
