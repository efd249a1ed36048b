"""Sample submissions that `make run` seeds into a local Maildir (`toasoan seed`).

Fourteen emails from the fictional units of settings.toml, written the way real mail clients write
them (Outlook, Gmail, Thunderbird, iPhone Mail), with Word files and photos made here at run time
(python-docx, Pillow) — nothing binary is committed. Most are good submissions; the rest are the
everyday accidents the intake must handle: a legacy .VnTime file, a broken file, a forgotten
attachment, an article typed into the email, a sender no unit knows, and a meeting invitation that is
not a submission at all. `SAMPLES` states what the intake should make of each one.

Deterministic: Message-IDs never change, and for one `now` every byte is the same (Dates are spread
over the three weeks before `now`, event dates in the texts follow them).
"""

from __future__ import annotations

import base64
import hashlib
import html
import mailbox
import math
import os
import quopri
import random
import re
import textwrap
import urllib.parse
import zipfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta, timezone
from email.generator import BytesGenerator
from email.message import Message
from email.policy import compat32
from email.utils import format_datetime
from functools import lru_cache
from io import BytesIO
from pathlib import Path
from typing import Literal

import docx
from docx.document import Document as DocxDocument
from docx.enum.table import WD_TABLE_ALIGNMENT
from docx.enum.text import WD_ALIGN_PARAGRAPH
from docx.oxml.ns import qn
from docx.shared import Cm, Pt
from docx.text.paragraph import Paragraph
from PIL import ExifTags, Image, ImageDraw, ImageFilter, ImageFont, ImageOps

from core.text import fold
from toasoan import sample_texts as texts
from toasoan.sample_texts import Article

__all__ = [
    "SAMPLES",
    "BuiltSample",
    "Expected",
    "Photo",
    "Sample",
    "WordFile",
    "build_samples",
    "make_photo",
    "write_samples",
]

# The office is in Vietnam (UTC+7, no daylight saving): contributors write their mail in local time.
ICT = timezone(timedelta(hours=7))
OFFICE = ("Ban Biên tập Trang TTĐT", "banbientap@tinhuy.example")
MX_HOST = "mx.tinhuy.example"
PHOTO_SIZE = (1600, 1200)
DOCX_TYPE = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
# Word writes this date into every entry of a .docx zip (and it keeps the bytes reproducible).
_ZIP_DATE = (1980, 1, 1, 0, 0, 0)
_WEEKDAYS = ("thứ Hai", "thứ Ba", "thứ Tư", "thứ Năm", "thứ Sáu", "thứ Bảy", "Chủ nhật")
_GMAIL_WEEKDAYS = ("Th 2", "Th 3", "Th 4", "Th 5", "Th 6", "Th 7", "CN")

Client = Literal["outlook", "gmail", "thunderbird", "iphone"]
Scene = Literal["hall", "outdoor", "class", "pitch"]


# --------------------------------------------------------------------------------------- the set
@dataclass(frozen=True)
class Photo:
    scene: Scene
    banner: tuple[str, ...]  # the words on the banner or the board (placeholders allowed)
    filename: str = ""  # name when attached beside the Word file; "" for a photo inside it
    orientation: int = 1  # EXIF orientation; 6 = a phone held upright


@dataclass(frozen=True)
class WordFile:
    filename: str
    article: Article | None  # None: the meeting invitation
    title_style: Literal["bold", "caps", "heading", "title"] = "bold"
    lead_style: Literal["bold", "italic", "bold_italic"] = "bold_italic"
    photo: Photo | None = None  # embedded after article.photo_after paragraphs, caption under it
    legacy: bool = False  # typed in .VnTime / .VnTimeH, text stored as TCVN3
    corrupt: bool = False  # cut short, as by an interrupted upload


@dataclass(frozen=True)
class Expected:
    """What the intake should make of the email (statuses and reasons of `toasoan inbox list`)."""

    status: Literal["accepted", "ignored", "quarantined"]
    reason: str | None = None
    kinds: tuple[str, ...] = ()  # one per draft
    warnings: tuple[str, ...] = ()  # on every draft of the email


@dataclass(frozen=True)
class Sample:
    key: str
    unit: str | None  # unit code in settings.toml; None when the sender matches no unit
    client: Client
    sender: tuple[str, str]
    subject: str
    note: str  # the email body (placeholders allowed)
    days_ago: int
    at: tuple[int, int, int]  # local time of sending
    expected: Expected
    files: tuple[WordFile, ...] = ()
    photos: tuple[Photo, ...] = ()  # attached beside the Word file
    event: int | Literal["sunday"] = 1  # days from the event to the email, or the last Sunday
    forwarded_from: tuple[str, str] | None = None  # Gmail "Forward": the original author


SAMPLES: tuple[Sample, ...] = (
    Sample(
        key="01-vp-sinh-hoat-chuyen-de",
        unit="VP",
        client="outlook",
        sender=("Trần Minh Khoa", "khoa.tm@vanphong.tinhuy.example"),
        subject="BÀI CỘNG TÁC",
        note=texts.NOTE_VP,
        days_ago=21,
        at=(16, 42, 7),
        files=(
            WordFile(
                "Tin sinh hoạt chuyên đề Chi bộ Văn phòng.docx",
                texts.VP_SINH_HOAT,
                title_style="bold",
                lead_style="bold_italic",
                photo=Photo("hall", ("CHI BỘ VĂN PHÒNG TỈNH ỦY", "SINH HOẠT CHUYÊN ĐỀ")),
            ),
        ),
        expected=Expected("accepted", kinds=("tin",)),
    ),
    Sample(
        key="02-tgdv-chi-thi-05",
        unit="TGDV",
        client="gmail",
        sender=("Lê Thị Thu Hương", "huong.ltt@tuyengiao.tinhuy.example"),
        subject="[BÀI CỘNG TÁC] Tin học tập chuyên đề Chỉ thị 05-CT/TW",
        note=texts.NOTE_TGDV,
        days_ago=19,
        at=(10, 15, 33),
        files=(WordFile("tin hoc tap chuyen de CT05.docx", texts.TGDV_CHI_THI_05, title_style="caps"),),
        photos=(
            Photo(
                "hall",
                ("CHI BỘ BAN TUYÊN GIÁO VÀ DÂN VẬN", "HỌC TẬP CHUYÊN ĐỀ NĂM {nam}"),
                filename="IMG_{ymd}_083512.jpg",
                orientation=6,
            ),
        ),
        expected=Expected("accepted", kinds=("tin",)),
    ),
    Sample(
        key="03-tc-ket-nap-dang-vien",
        unit="TC",
        client="thunderbird",
        sender=("Phạm Ngọc Anh", "anh.pn@bantochuc.tinhuy.example"),
        subject="bài cộng tác: Lễ kết nạp đảng viên mới tại Chi bộ Ban Tổ chức",
        note=texts.NOTE_TC,
        days_ago=17,
        at=(9, 5, 44),
        files=(
            WordFile(
                "Kết nạp đảng viên mới - Chi bộ Ban Tổ chức Tỉnh ủy.docx",
                texts.TC_KET_NAP,
                title_style="heading",
                lead_style="italic",
                photo=Photo("hall", ("LỄ KẾT NẠP ĐẢNG VIÊN", "CHI BỘ BAN TỔ CHỨC")),
            ),
        ),
        expected=Expected("accepted", kinds=("tin",)),
    ),
    Sample(
        key="04-ubkt-so-ket-quy-fwd",
        unit="UBKT",
        client="gmail",
        sender=("Võ Thanh Tùng", "tung.vt@ubkt.tinhuy.example"),
        forwarded_from=("Lâm Thị Bích Ngọc", "ngoc.ltb@ubkt.tinhuy.example"),
        subject="Fwd: Bai cong tac - Hoi nghi so ket cong tac kiem tra quy {quy}",
        note=texts.NOTE_UBKT_FORWARD,
        days_ago=15,
        at=(14, 37, 2),
        files=(WordFile("Tin so ket quy {quy} - UBKT.docx", texts.UBKT_SO_KET, title_style="bold"),),
        expected=Expected("accepted", kinds=("tin",)),
    ),
    Sample(
        key="05-nc-bai-nen-tang-tu-tuong",
        unit="NC",
        client="outlook",
        sender=("Đặng Quốc Bảo", "bao.dq@noichinh.tinhuy.example"),
        subject="BÀI CỘNG TÁC - Bài: Nhận diện và đấu tranh với những luận điệu xuyên tạc trên không gian mạng",
        note=texts.NOTE_NC,
        days_ago=13,
        at=(20, 48, 19),
        event=0,
        files=(
            WordFile(
                "Bài viết bảo vệ nền tảng tư tưởng của Đảng - Đặng Quốc Bảo.docx",
                texts.NC_NEN_TANG,
                title_style="caps",
                lead_style="bold",
            ),
        ),
        expected=Expected("accepted", kinds=("bai",)),
    ),
    Sample(
        key="06-bct-guong-nguoi-tot",
        unit="BCT",
        client="gmail",
        sender=("Huỳnh Thị Mai", "mai.ht@baoptth.example"),
        subject="Bài cộng tác - Gương người tốt, việc tốt: Thầy giáo “không chuyên”",
        note=texts.NOTE_BCT,
        days_ago=11,
        at=(22, 10, 51),
        event=0,
        files=(
            WordFile(
                "Gương người tốt việc tốt - anh Tâm.docx",
                texts.BCT_NGUOI_TOT,
                title_style="title",
                lead_style="italic",
                photo=Photo("class", ("LỚP HỌC TÌNH THƯƠNG", "Toán – Tiếng Việt")),
            ),
        ),
        expected=Expected("accepted", kinds=("bai",)),
    ),
    Sample(
        key="07-cdcq-hai-tin",
        unit="CDCQ",
        client="outlook",
        sender=("Công đoàn cơ quan", "congdoan@vanphong.tinhuy.example"),
        subject="BÀI CỘNG TÁC - 02 tin hoạt động Công đoàn cơ quan",
        note=texts.NOTE_CD,
        days_ago=9,
        at=(15, 30, 12),
        files=(
            WordFile("Tin hiến máu tình nguyện.docx", texts.CD_HIEN_MAU, title_style="bold"),
            WordFile("Tin thăm hỏi gia đình chính sách.docx", texts.CD_THAM_HOI, title_style="bold"),
        ),
        photos=(Photo("hall", ("NGÀY HỘI HIẾN MÁU TÌNH NGUYỆN", "MỘT GIỌT MÁU CHO ĐI"), filename="hien mau.jpg"),),
        expected=Expected("accepted", kinds=("tin", "tin")),
    ),
    Sample(
        key="08-dtn-chu-nhat-xanh",
        unit="DTN",
        client="gmail",
        sender=("Đoàn Thanh niên các cơ quan Đảng tỉnh", "doanthanhnien.cqd@gmail.com"),
        subject="[Bài cộng tác] Tuổi trẻ các cơ quan Đảng tỉnh ra quân Ngày Chủ nhật xanh",
        note=texts.NOTE_DTN,
        days_ago=7,
        at=(19, 55, 40),
        event="sunday",
        files=(WordFile("Tin CN xanh.docx", texts.DTN_CHU_NHAT_XANH, title_style="bold"),),
        photos=(
            Photo("outdoor", ("NGÀY CHỦ NHẬT XANH",), filename="CN xanh 1.jpg"),
            Photo("outdoor", ("CHUNG TAY VÌ MÔI TRƯỜNG",), filename="CN xanh 2.jpg"),
        ),
        expected=Expected("accepted", kinds=("tin",)),
    ),
    Sample(
        key="09-tgdv-vntime-dan-van-kheo",
        unit="TGDV",
        client="outlook",
        sender=("Nguyễn Văn Hải", "hai.nv@tuyengiao.tinhuy.example"),
        subject="BÀI CỘNG TÁC (tin sơ kết phong trào Dân vận khéo)",
        note=texts.NOTE_LEGACY,
        days_ago=6,
        at=(8, 12, 26),
        files=(WordFile("Tin DVK.docx", texts.TGDV_DAN_VAN_KHEO, title_style="caps", legacy=True),),
        expected=Expected("accepted", kinds=("tin",), warnings=("legacy_font_converted",)),
    ),
    Sample(
        key="10-vp-tin-trong-than-thu",
        unit="VP",
        client="gmail",
        sender=("Chi bộ Văn phòng", "chibo.vanphong@gmail.com"),
        subject="Bài cộng tác",
        note=texts.VP_BODY_ARTICLE,
        days_ago=5,
        at=(16, 20, 3),
        photos=(Photo("hall", ("LỚP TẬP HUẤN", "HỆ THỐNG QUẢN LÝ VĂN BẢN VÀ ĐIỀU HÀNH"), filename="tap huan.jpg"),),
        expected=Expected("accepted", kinds=("tin",), warnings=("from_email_body",)),
    ),
    Sample(
        key="11-ccb-nguoi-gui-la",
        unit=None,
        client="gmail",
        sender=("Nguyễn Văn Bảy", "nguyenvanbay.ccb@gmail.com"),
        subject="BÀI CỘNG TÁC: Tin Chi hội Cựu chiến binh",
        note=texts.NOTE_CCB,
        days_ago=4,
        at=(9, 45, 18),
        files=(WordFile("CCB sinh hoat chuyen de.docx", texts.CCB_SINH_HOAT, title_style="bold"),),
        expected=Expected("accepted", kinds=("tin",), warnings=("unknown_sender",)),
    ),
    Sample(
        key="12-bct-file-hong",
        unit="BCT",
        client="thunderbird",
        sender=("Lý Minh Trí", "tri.lm@baoptth.example"),
        subject="Bài cộng tác - tin giải bóng đá mini các cơ quan Đảng tỉnh",
        note=texts.NOTE_BROKEN,
        days_ago=3,
        at=(21, 3, 55),
        files=(
            WordFile(
                "Tin giải bóng đá mini.docx",
                texts.BCT_BONG_DA,
                photo=Photo("pitch", ("GIẢI BÓNG ĐÁ MINI CÁC CƠ QUAN ĐẢNG TỈNH",)),
                corrupt=True,
            ),
        ),
        expected=Expected("quarantined", "corrupt_document"),
    ),
    Sample(
        key="13-nc-quen-dinh-kem",
        unit="NC",
        client="iphone",
        sender=("Trịnh Thị Thanh Tâm", "tam.ttt@noichinh.tinhuy.example"),
        subject="BÀI CỘNG TÁC",
        note=texts.NOTE_FORGOTTEN,
        days_ago=2,
        at=(7, 31, 9),
        expected=Expected("quarantined", "no_document"),
    ),
    Sample(
        key="14-vp-giay-moi-hop",
        unit="VP",
        client="outlook",
        sender=("Văn phòng Tỉnh ủy", "vanthu@vanphong.tinhuy.example"),
        subject="Giấy mời họp Ban Biên tập Trang thông tin điện tử",
        note=texts.NOTE_INVITATION,
        days_ago=1,
        at=(10, 0, 21),
        files=(WordFile("Giấy mời họp BBT.docx", None),),
        expected=Expected("ignored", "not_a_submission"),
    ),
)


@dataclass(frozen=True)
class BuiltSample:
    sample: Sample
    raw: bytes
    message_id: str  # without the angle brackets
    subject: str  # as the contributor typed it (placeholders filled)
    date: datetime  # when it was sent, in the office's time zone
    titles: tuple[str, ...]  # the title of each Word file, as it reads in Word


# --------------------------------------------------------------------------------- the public API
def build_samples(now: datetime | None = None) -> list[BuiltSample]:
    """Every sample email as raw bytes (CRLF, as delivered), for the given moment."""
    now = _aware(now)
    return [_build(sample, now) for sample in SAMPLES]


def write_samples(maildir: Path, *, now: datetime | None = None) -> list[Path]:
    """Deliver the samples into `maildir`/new (created when missing); the paths of the new files."""
    for sub in ("tmp", "new", "cur"):  # the folder and its parents may not exist yet on a fresh machine
        (Path(maildir) / sub).mkdir(parents=True, exist_ok=True)
    box = mailbox.Maildir(maildir, create=False)
    paths: list[Path] = []
    for built in build_samples(now):
        key = box.add(built.raw)
        path = Path(maildir) / "new" / key
        stamp = built.date.timestamp()
        os.utime(path, (stamp, stamp))  # a Maildir's mtime is the delivery time readers show
        paths.append(path)
    return paths


# ---------------------------------------------------------------------------------- placeholders
def _aware(now: datetime | None) -> datetime:
    if now is None:
        return datetime.now(UTC)
    return now if now.tzinfo is not None else now.replace(tzinfo=UTC)


def _sent_at(sample: Sample, now: datetime) -> datetime:
    day = now.astimezone(ICT).date() - timedelta(days=sample.days_ago)
    return datetime(day.year, day.month, day.day, *sample.at, tzinfo=ICT)


def _event_day(sample: Sample, sent: datetime) -> date:
    if sample.event == "sunday":
        back = (sent.weekday() - 6) % 7 or 7  # the Sunday before the email
        return sent.date() - timedelta(days=back)
    return sent.date() - timedelta(days=sample.event)


def _roman_quarter(q: int) -> str:
    return ("I", "II", "III", "IV")[q - 1]


def _values(sample: Sample, sent: datetime) -> dict[str, str]:
    event = _event_day(sample, sent)
    # 0-based index of the event's quarter = number of the quarter before it (0: last year's IV).
    quarter = (event.month - 1) // 3
    quarter_year = event.year if quarter else event.year - 1
    meeting = sent.date() + timedelta(days=3)
    while meeting.weekday() >= 5:  # meetings are on working days
        meeting += timedelta(days=1)
    return {
        "ngay": f"{event.day}/{event.month}",
        "nam": str(event.year),
        "quy": _roman_quarter(quarter or 4),
        "nam_quy": str(quarter_year),
        "gio_hop": f"14 giờ 00, {_WEEKDAYS[meeting.weekday()]}, ngày {meeting.day}/{meeting.month}/{meeting.year}",
        "ymd": event.strftime("%Y%m%d"),
    }


def _fill(text: str, values: dict[str, str]) -> str:
    return text.format_map(values)


def _fill_article(article: Article, values: dict[str, str]) -> Article:
    def f(text: str | None) -> str | None:
        return None if text is None else _fill(text, values)

    return Article(
        title=_fill(article.title, values),
        body=tuple(_fill(p, values) for p in article.body),
        byline=_fill(article.byline, values),
        lead=f(article.lead),
        caption=f(article.caption),
        photo_after=article.photo_after,
    )


def _digest(*parts: str) -> bytes:
    """Stable pseudo-random bytes for ids and boundaries (the same sample always gets the same ones)."""
    return hashlib.sha256("\x00".join(parts).encode("utf-8")).digest()


def _hex(seed: str, n: int) -> str:
    return _digest(seed).hex()[:n]


# ------------------------------------------------------------------------------------------ photos
_FONT_NAMES = ("DejaVuSans-Bold.ttf", "LiberationSans-Bold.ttf", "NotoSans-Bold.ttf", "FreeSansBold.ttf")


@lru_cache(maxsize=64)
def _font(size: int) -> tuple[ImageFont.FreeTypeFont | ImageFont.ImageFont, bool]:
    """A bold font with Vietnamese glyphs, and whether it has them (Pillow's own font does not)."""
    for name in _FONT_NAMES:
        try:
            return ImageFont.truetype(name, size), True
        except OSError:
            continue
    return ImageFont.load_default(size), False


def _draw_text_centered(draw: ImageDraw.ImageDraw, box: tuple[int, int, int, int], text: str, fill: str) -> None:
    """Text fitted into the box's width and centred in it."""
    x0, y0, x1, y1 = box
    size = max(12, y1 - y0)
    while True:
        font, vietnamese = _font(size)
        shown = text if vietnamese else fold(text).upper()
        left, top, right, bottom = draw.textbbox((0, 0), shown, font=font)
        if right - left <= (x1 - x0) * 0.92 or size <= 12:
            break
        size -= 2
    x = x0 + ((x1 - x0) - (right - left)) // 2 - left
    y = y0 + ((y1 - y0) - (bottom - top)) // 2 - top
    draw.text((x, y), shown, font=font, fill=fill)


def _gradient(size: tuple[int, int], top: tuple[int, int, int], bottom: tuple[int, int, int]) -> Image.Image:
    return ImageOps.colorize(Image.linear_gradient("L").resize(size), top, bottom)


def _star(cx: float, cy: float, r: float) -> list[tuple[float, float]]:
    points = []
    for i in range(10):
        radius = r if i % 2 == 0 else r * 0.382
        angle = -math.pi / 2 + i * math.pi / 5
        points.append((cx + radius * math.cos(angle), cy + radius * math.sin(angle)))
    return points


def _person(
    draw: ImageDraw.ImageDraw, x: float, y: float, s: float, shirt: tuple[int, int, int], *, back: bool = False
) -> None:
    """Shoulders and a head, `s` pixels tall, feet (or chair) at y; `back`: seen from behind."""
    skin, hair = (224, 186, 150), (35, 28, 24)
    draw.rounded_rectangle([x - s * 0.32, y - s * 0.55, x + s * 0.32, y], radius=s * 0.14, fill=shirt)
    draw.ellipse([x - s * 0.16, y - s * 0.95, x + s * 0.16, y - s * 0.55], fill=hair if back else skin)
    if not back:
        draw.chord([x - s * 0.17, y - s * 0.98, x + s * 0.17, y - s * 0.62], 180, 360, fill=hair)


def _crowd(
    draw: ImageDraw.ImageDraw, people: list[tuple[float, float, float, tuple[int, int, int]]], *, back: bool = False
) -> None:
    """Far people first, so that the nearer ones stand in front of them."""
    for x, y, s, shirt in sorted(people, key=lambda p: p[1]):
        _person(draw, x, y, s, shirt, back=back)


def _scene_hall(w: int, h: int, banner: Sequence[str], rng: random.Random) -> Image.Image:
    img = _gradient((w, h), (214, 196, 168), (150, 120, 92))
    d = ImageDraw.Draw(img)
    back = int(h * 0.55)
    d.rectangle([0, 0, w, back], fill=(158, 22, 26))
    for x in range(0, w, max(8, w // 48)):  # folds of the curtain
        d.line([x, 0, x, back], fill=(140, 16, 20), width=max(2, w // 320))
    flag = (int(w * 0.05), int(h * 0.06), int(w * 0.17), int(h * 0.06) + int(w * 0.08))
    d.rectangle(flag, fill=(218, 37, 29))
    cx, cy = (flag[0] + flag[2]) / 2, (flag[1] + flag[3]) / 2
    d.polygon(_star(cx, cy, (flag[3] - flag[1]) * 0.32), fill=(255, 221, 0))
    lines = list(banner) or [""]
    top = int(h * 0.10)
    for i, line in enumerate(lines):
        height = int(h * (0.07 if i == 0 and len(lines) > 1 else 0.10))
        _draw_text_centered(d, (int(w * 0.2), top, int(w * 0.95), top + height), line, "#ffd21f")
        top += height + int(h * 0.03)
    table_top = int(h * 0.50)
    for i in range(4):  # the presidium
        _person(d, w * (0.32 + i * 0.12), table_top + 4, h * 0.14, (235, 235, 238))
    d.rectangle([int(w * 0.2), table_top, int(w * 0.8), int(h * 0.64)], fill=(244, 244, 246))
    d.rectangle([int(w * 0.2), int(h * 0.58), int(w * 0.8), int(h * 0.64)], fill=(32, 76, 160))
    fx, fy = w * 0.5, h * 0.62
    d.ellipse([fx - w * 0.05, fy - h * 0.05, fx + w * 0.05, fy + h * 0.03], fill=(40, 120, 48))
    for _ in range(14):  # flowers on the table
        px, py = fx + rng.uniform(-w * 0.04, w * 0.04), fy + rng.uniform(-h * 0.045, h * 0.01)
        d.ellipse([px - 9, py - 9, px + 9, py + 9], fill=rng.choice([(230, 40, 40), (250, 200, 30), (250, 120, 40)]))
    shirts = [(236, 236, 240), (180, 205, 235), (40, 60, 110), (220, 225, 215), (120, 150, 200)]
    audience: list[tuple[float, float, float, tuple[int, int, int]]] = []
    for row, (ry, size) in enumerate(((0.80, 0.16), (0.92, 0.21), (1.04, 0.27))):
        count = 7 - row
        for i in range(count):
            seat_x = w * (i + 0.5 + rng.uniform(-0.15, 0.15)) / count
            audience.append((seat_x, h * ry, h * size, rng.choice(shirts)))
    _crowd(d, audience, back=True)  # the audience faces the stage
    return img


def _scene_outdoor(w: int, h: int, banner: Sequence[str], rng: random.Random) -> Image.Image:
    img = _gradient((w, h), (110, 165, 230), (205, 228, 246))
    d = ImageDraw.Draw(img)
    horizon = int(h * 0.45)
    ground = _gradient((w, h - horizon), (118, 168, 84), (62, 112, 48))
    img.paste(ground, (0, horizon))
    d.polygon([(w * 0.42, horizon), (w * 0.58, horizon), (w * 0.95, h), (w * 0.05, h)], fill=(150, 148, 140))
    d.ellipse([w * 0.82, h * 0.06, w * 0.9, h * 0.06 + w * 0.08], fill=(255, 244, 200))
    for i in range(9):  # trees along the road
        x = w * (0.04 + i * 0.115) + rng.uniform(-20, 20)
        d.rectangle([x - 8, horizon - h * 0.08, x + 8, horizon + h * 0.02], fill=(92, 64, 40))
        r = h * rng.uniform(0.06, 0.09)
        d.ellipse([x - r, horizon - h * 0.08 - r * 1.6, x + r, horizon - h * 0.08 + r * 0.4], fill=(46, 104, 52))
    bx0, by0, bx1, by1 = int(w * 0.22), int(h * 0.30), int(w * 0.78), int(h * 0.42)
    d.rectangle([bx0, by0, bx1, by1], fill=(200, 24, 30))
    _draw_text_centered(d, (bx0 + w // 25, by0, bx1 - w // 25, by1), " ".join(banner), "#ffe14a")
    for x in (bx0, bx1):  # the two who hold the banner
        _person(d, x, by1 + h * 0.1, h * 0.2, (34, 150, 80))
    volunteers = []
    for _ in range(12):
        y = rng.uniform(h * 0.62, h * 1.02)
        volunteers.append(
            (
                rng.uniform(w * 0.05, w * 0.95),
                y,
                h * 0.15 + (y - h * 0.6) * 0.5,
                rng.choice([(34, 150, 80), (30, 90, 170), (34, 150, 80)]),
            )
        )
    for x, y, size, shirt in sorted(volunteers, key=lambda p: p[1]):
        _person(d, x, y, size, shirt)
        d.line([x + size * 0.3, y - size * 0.5, x + size * 0.55, y + size * 0.1], fill=(120, 90, 50), width=6)
    return img


def _scene_class(w: int, h: int, banner: Sequence[str], rng: random.Random) -> Image.Image:
    img = _gradient((w, h), (240, 232, 196), (200, 186, 150))
    d = ImageDraw.Draw(img)
    bx0, by0, bx1, by1 = int(w * 0.18), int(h * 0.08), int(w * 0.82), int(h * 0.42)
    d.rectangle([bx0 - 14, by0 - 14, bx1 + 14, by1 + 14], fill=(120, 80, 44))
    d.rectangle([bx0, by0, bx1, by1], fill=(34, 84, 60))
    top = by0 + int(h * 0.05)
    for line in banner:
        _draw_text_centered(d, (bx0, top, bx1, top + int(h * 0.08)), line, "#f4f4ec")
        top += int(h * 0.12)
    d.line([bx0 + 60, by1 - 50, bx0 + 300, by1 - 80], fill=(240, 240, 230), width=5)
    for row, y in enumerate((0.66, 0.82, 0.98)):
        d.rectangle([w * 0.05, h * y - h * 0.04, w * 0.8, h * y], fill=(150, 100, 60))
        pupils = [
            (w * (0.12 + i * 0.15) + rng.uniform(-15, 15), h * y + h * 0.03, h * (0.16 + row * 0.04), (246, 246, 250))
            for i in range(5)
        ]
        _crowd(d, pupils, back=True)  # at their desks, facing the board
    _person(d, w * 0.9, h * 0.8, h * 0.5, (90, 120, 170))  # the teacher, standing beside them
    return img


def _scene_pitch(w: int, h: int, banner: Sequence[str], rng: random.Random) -> Image.Image:
    img = _gradient((w, h), (96, 160, 220), (180, 210, 240))
    d = ImageDraw.Draw(img)
    field_top = int(h * 0.38)
    for i in range(8):  # mowed stripes
        y0 = field_top + (h - field_top) * i / 8
        d.rectangle([0, y0, w, y0 + (h - field_top) / 8], fill=(58, 140, 60) if i % 2 else (70, 155, 70))
    d.rectangle([0, int(h * 0.26), w, field_top], fill=(200, 200, 204))
    _draw_text_centered(d, (int(w * 0.1), int(h * 0.27), int(w * 0.9), field_top - 6), " ".join(banner), "#b3141c")
    d.line([0, h * 0.7, w, h * 0.7], fill=(240, 240, 240), width=6)
    d.rectangle([w * 0.4, h * 0.41, w * 0.6, h * 0.52], outline=(250, 250, 250), width=8)
    players = []
    for i in range(10):
        x, y = rng.uniform(w * 0.05, w * 0.95), rng.uniform(h * 0.55, h * 1.0)
        players.append((x, y, h * 0.12 + (y - h * 0.5) * 0.4, (200, 30, 36) if i % 2 else (30, 70, 170)))
    _crowd(d, players)
    d.ellipse([w * 0.52, h * 0.78, w * 0.54, h * 0.78 + w * 0.02], fill=(250, 250, 250))
    return img


_SCENES = {"hall": _scene_hall, "outdoor": _scene_outdoor, "class": _scene_class, "pitch": _scene_pitch}


def _finish(img: Image.Image) -> Image.Image:
    """Soften, darken the corners like a lens, and mark it as an illustration."""
    w, h = img.size
    img = img.filter(ImageFilter.BoxBlur(1))
    vignette = ImageOps.invert(Image.radial_gradient("L").resize((w, h)))
    img = Image.composite(img, Image.blend(img, Image.new("RGB", (w, h)), 0.35), vignette)
    overlay = Image.new("RGBA", (w, h), (0, 0, 0, 0))
    d = ImageDraw.Draw(overlay)
    box = (int(w * 0.62), int(h * 0.88), int(w * 0.97), int(h * 0.96))
    d.rounded_rectangle(box, radius=12, fill=(0, 0, 0, 110))
    _draw_text_centered(d, (box[0] + 10, box[1] + 8, box[2] - 10, box[3] - 8), "ẢNH MINH HỌA", "#ffffffdd")
    return Image.alpha_composite(img.convert("RGBA"), overlay).convert("RGB")


def make_photo(photo: Photo, values: dict[str, str], seed: str, taken: datetime) -> bytes:
    """A 1600x1200 JPEG that looks like a photo of the event, with a phone's EXIF block."""
    w, h = PHOTO_SIZE
    upright = (h, w) if photo.orientation in (5, 6, 7, 8) else (w, h)
    banner = tuple(_fill(line, values) for line in photo.banner)
    img = _finish(_SCENES[photo.scene](*upright, banner, random.Random(seed)))  # noqa: S311 -- reproducible sample photos, not a secret
    if photo.orientation == 6:
        # The sensor's pixels lie on their side; orientation 6 tells a viewer to turn them back.
        img = img.rotate(90, expand=True)
    exif = Image.Exif()
    stamp = taken.strftime("%Y:%m:%d %H:%M:%S")
    exif[ExifTags.Base.Make] = "samsung"
    exif[ExifTags.Base.Model] = "SM-A546E"
    exif[ExifTags.Base.Orientation] = photo.orientation
    exif[ExifTags.Base.DateTime] = stamp
    sub = exif.get_ifd(ExifTags.IFD.Exif)
    sub[ExifTags.Base.DateTimeOriginal] = stamp
    sub[ExifTags.Base.DateTimeDigitized] = stamp
    out = BytesIO()
    img.save(out, "JPEG", quality=85, exif=exif.tobytes())
    return out.getvalue()


# ------------------------------------------------------------------------------------- Word files
@dataclass(frozen=True)
class _Fonts:
    body: str
    title: str
    legacy: bool


def _encode(text: str, fonts: _Fonts, *, title: bool = False) -> str:
    if not fonts.legacy:
        return text
    from ingest.word.legacy import encode_tcvn3

    # .VnTimeH shows every letter as a capital: the title is typed in lower case under it.
    return encode_tcvn3(text, capitals=title)


def _run(
    p: Paragraph,
    text: str,
    fonts: _Fonts,
    *,
    bold: bool = False,
    italic: bool = False,
    size: float | None = None,
    title: bool = False,
) -> None:
    run = p.add_run(_encode(text, fonts, title=title))
    run.bold = bold or None
    run.italic = italic or None
    if size:
        run.font.size = Pt(size)
    if fonts.legacy:  # a legacy file names its font on every run, as Word does when one picks it
        run.font.name = fonts.title if title else fonts.body


def _new_document() -> DocxDocument:
    doc = docx.Document()
    section = doc.sections[0]
    section.page_width, section.page_height = Cm(21), Cm(29.7)
    section.left_margin, section.right_margin = Cm(3), Cm(2)
    section.top_margin, section.bottom_margin = Cm(2), Cm(2)
    normal = doc.styles["Normal"]
    normal.font.name = "Times New Roman"
    normal.font.size = Pt(14)
    normal.element.get_or_add_rPr().get_or_add_rFonts().set(qn("w:eastAsia"), "Times New Roman")
    normal.paragraph_format.space_after = Pt(6)
    normal.paragraph_format.line_spacing = 1.15
    return doc


def _paragraph(doc: DocxDocument, align: WD_ALIGN_PARAGRAPH, *, indent: bool = False) -> Paragraph:
    p = doc.add_paragraph()
    p.alignment = align
    if indent:
        p.paragraph_format.first_line_indent = Cm(1)
    return p


def _article_document(f: WordFile, article: Article, photo_jpeg: bytes | None) -> DocxDocument:
    fonts = _Fonts(".VnTime", ".VnTimeH", True) if f.legacy else _Fonts("Times New Roman", "Times New Roman", False)
    doc = _new_document()
    center, justify = WD_ALIGN_PARAGRAPH.CENTER, WD_ALIGN_PARAGRAPH.JUSTIFY
    if f.title_style in ("heading", "title"):
        p = doc.add_paragraph(article.title, style="Heading 1" if f.title_style == "heading" else "Title")
        p.alignment = center
    else:
        p = _paragraph(doc, center)
        shown = article.title.upper() if f.title_style == "caps" and not f.legacy else article.title
        _run(p, shown, fonts, bold=True, size=15, title=True)
    if article.lead:
        p = _paragraph(doc, justify)
        _run(p, article.lead, fonts, bold="bold" in f.lead_style, italic="italic" in f.lead_style)
    for i, text in enumerate(article.body):
        if photo_jpeg is not None and i == article.photo_after:
            _photo(doc, photo_jpeg, article.caption, fonts)
        if text.startswith("## "):
            p = _paragraph(doc, WD_ALIGN_PARAGRAPH.LEFT)
            p.paragraph_format.keep_with_next = True
            _run(p, text[3:], fonts, bold=True)
        else:
            _run(_paragraph(doc, justify, indent=True), text, fonts)
    if photo_jpeg is not None and article.photo_after >= len(article.body):
        _photo(doc, photo_jpeg, article.caption, fonts)
    _run(_paragraph(doc, WD_ALIGN_PARAGRAPH.RIGHT), article.byline, fonts, bold=True, italic=f.legacy)
    return doc


def _photo(doc: DocxDocument, jpeg: bytes, caption: str | None, fonts: _Fonts) -> None:
    p = _paragraph(doc, WD_ALIGN_PARAGRAPH.CENTER)
    p.add_run().add_picture(BytesIO(jpeg), width=Cm(15))
    if caption:
        _run(_paragraph(doc, WD_ALIGN_PARAGRAPH.CENTER), caption, fonts, italic=True, size=12)


def _invitation_document(values: dict[str, str], sent: datetime) -> DocxDocument:
    fonts = _Fonts("Times New Roman", "Times New Roman", False)
    doc = _new_document()
    table = doc.add_table(rows=2, cols=2)
    table.alignment = WD_TABLE_ALIGNMENT.CENTER
    left, right = table.cell(0, 0), table.cell(0, 1)
    left.paragraphs[0].alignment = right.paragraphs[0].alignment = WD_ALIGN_PARAGRAPH.CENTER
    for i, (lcell, rcell) in enumerate(texts.INVITATION_HEADER):
        lp = left.paragraphs[0] if i == 0 else left.add_paragraph()
        lp.alignment = WD_ALIGN_PARAGRAPH.CENTER
        _run(lp, lcell, fonts, bold=i > 0, size=13)
        if rcell:
            _run(right.paragraphs[0], rcell, fonts, bold=True, size=14)
    number = table.cell(1, 0).paragraphs[0]
    number.alignment = WD_ALIGN_PARAGRAPH.CENTER
    _run(number, texts.INVITATION_NUMBER, fonts, size=13)
    place = table.cell(1, 1).paragraphs[0]
    place.alignment = WD_ALIGN_PARAGRAPH.CENTER
    # Administrative dates put a zero before days 1-9 and months 1-2 only ("ngày 05 tháng 02", "tháng 7").
    day = f"{sent.day:02d}"
    month = f"{sent.month:02d}" if sent.month <= 2 else str(sent.month)
    _run(place, f"ngày {day} tháng {month} năm {sent.year}", fonts, italic=True, size=13)
    _run(_paragraph(doc, WD_ALIGN_PARAGRAPH.CENTER), texts.INVITATION_TITLE, fonts, bold=True, size=16)
    _run(_paragraph(doc, WD_ALIGN_PARAGRAPH.CENTER), texts.INVITATION_SUBTITLE, fonts, bold=True)
    for text in texts.INVITATION_BODY:
        _run(_paragraph(doc, WD_ALIGN_PARAGRAPH.JUSTIFY, indent=True), _fill(text, values), fonts)
    for line in texts.INVITATION_SIGNATURE:
        p = _paragraph(doc, WD_ALIGN_PARAGRAPH.RIGHT)
        if line:
            _run(p, line, fonts, bold=True)
    return doc


def _stable_docx(doc: DocxDocument, author: str, saved: datetime) -> bytes:
    """The .docx bytes, identical on every run: fixed core properties and zip entry dates."""
    props = doc.core_properties
    props.author = props.last_modified_by = author
    props.comments = ""
    props.revision = 3
    utc = saved.astimezone(UTC).replace(tzinfo=None)
    props.created, props.modified = utc - timedelta(hours=2, minutes=14), utc
    raw = BytesIO()
    doc.save(raw)
    out = BytesIO()
    with zipfile.ZipFile(raw) as src, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            entry = zipfile.ZipInfo(info.filename, date_time=_ZIP_DATE)
            entry.compress_type = zipfile.ZIP_DEFLATED
            entry.create_system = 0  # as Word writes it, whatever machine seeds the samples
            dst.writestr(entry, src.read(info.filename))
    return out.getvalue()


def _truncated(data: bytes) -> bytes:
    """The first part of a file, as an interrupted upload leaves it: no zip central directory."""
    return data[: len(data) * 11 // 20]


# ------------------------------------------------------------------------------------ mail clients
@dataclass(frozen=True)
class _Attachment:
    filename: str
    content_type: str
    data: bytes


@dataclass(frozen=True)
class _Mail:
    client: Client
    seed: str
    sender: tuple[str, str]
    to: tuple[str, str]
    subject: str
    date: datetime
    body: str
    message_id: str
    attachments: tuple[_Attachment, ...]


def _chunks(text: str, fits: Callable[[str], bool]) -> list[str]:
    """Text cut into pieces that each fit one encoded word, at spaces where possible.

    Clients end a piece after a space rather than inside a word; decoders that do not drop the
    whitespace between encoded words (Python's address parser is one) then still read the name right.
    """
    pieces, chunk = [], ""
    for word in re.findall(r"\S+\s*|\s+", text):
        if fits(chunk + word):
            chunk += word
            continue
        if chunk:
            pieces.append(chunk)
            chunk = ""
        for ch in word:  # a word too long for one encoded word is cut between characters
            if chunk and not fits(chunk + ch):
                pieces.append(chunk)
                chunk = ""
            chunk += ch
    pieces.append(chunk)
    return pieces


def _b_words(text: str, label: str) -> list[str]:
    """RFC 2047 "B" encoded words of at most 75 characters."""

    def encode(piece: str) -> str:
        return f"=?{label}?B?{base64.b64encode(piece.encode('utf-8')).decode('ascii')}?="

    return [encode(piece) for piece in _chunks(text, lambda piece: len(encode(piece)) <= 75)]


def _q_words(text: str, label: str) -> list[str]:
    """RFC 2047 "Q" encoded words (Thunderbird's choice), at most 75 characters each."""

    def q(ch: str) -> str:
        if ch == " ":
            return "_"
        if ch.isascii() and (ch.isalnum() or ch in "!*+-/"):
            return ch
        return "".join(f"={b:02X}" for b in ch.encode("utf-8"))

    def encode(piece: str) -> str:
        return f"=?{label}?Q?{''.join(q(ch) for ch in piece)}?="

    return [encode(piece) for piece in _chunks(text, lambda piece: len(encode(piece)) <= 75)]


def _header_text(text: str, client: Client) -> str:
    """A header value as the client encodes it; encoded words go on folded lines."""
    if text.isascii():
        return text
    if client == "thunderbird":
        return "\n ".join(_q_words(text, "UTF-8"))
    return "\n ".join(_b_words(text, "UTF-8" if client == "gmail" else "utf-8"))


def _address(name: str, addr: str, client: Client) -> str:
    if not name:
        return addr
    if name.isascii():
        return f'"{name}" <{addr}>' if client == "outlook" else f"{name} <{addr}>"
    return f"{_header_text(name, client)} <{addr}>"


def _rfc2231(filename: str) -> str:
    return "UTF-8''" + urllib.parse.quote(filename, safe="")


def _rfc2231_continued(param: str, filename: str) -> str:
    """Thunderbird splits a long RFC 2231 value into numbered pieces; a %XX triplet is never cut."""
    value, pieces, i = _rfc2231(filename), [], 0
    while i < len(value):
        end = min(i + 60, len(value))
        while "%" in value[max(end - 2, i) : end] and end < len(value):
            end = value.rindex("%", i, end)  # do not cut "%E1" in half
        pieces.append(value[i:end])
        i = end
    if len(pieces) == 1:
        return f"{param}*={pieces[0]}"
    return ";\n ".join(f"{param}*{n}*={piece}" for n, piece in enumerate(pieces))


def _attachment_part(a: _Attachment, client: Client, seed: str) -> Message:
    part = Message()
    name = a.filename
    if client == "outlook":
        quoted = f'"{name}"' if name.isascii() else '"' + "\n\t".join(_b_words(name, "utf-8")) + '"'
        part["Content-Type"] = f"{a.content_type};\n\tname={quoted}"
        part["Content-Transfer-Encoding"] = "base64"
        part["Content-Disposition"] = f"attachment;\n\tfilename={quoted}"
    elif client == "gmail":
        param = f'name="{name}"' if name.isascii() else f"name*={_rfc2231(name)}"
        file_param = f'filename="{name}"' if name.isascii() else f"filename*={_rfc2231(name)}"
        part["Content-Type"] = f"{a.content_type}; \n\t{param}"
        part["Content-Disposition"] = f"attachment; \n\t{file_param}"
        part["Content-Transfer-Encoding"] = "base64"
        attachment_id = "f_" + base64.b32encode(_digest(seed, name)).decode("ascii")[:9].lower()
        part["Content-ID"] = f"<{attachment_id}>"
        part["X-Attachment-Id"] = attachment_id
    else:
        quoted = f'"{name}"' if name.isascii() else '"' + "\n ".join(_b_words(name, "UTF-8")) + '"'
        part["Content-Type"] = f"{a.content_type};\n name={quoted}"
        disposition = f'filename="{name}"' if name.isascii() else _rfc2231_continued("filename", name)
        part["Content-Disposition"] = f"attachment;\n {disposition}"
        part["Content-Transfer-Encoding"] = "base64"
    width = 72 if client == "thunderbird" else 76
    encoded = base64.b64encode(a.data).decode("ascii")
    part.set_payload("\n".join(encoded[i : i + width] for i in range(0, len(encoded), width)) + "\n")
    return part


def _qp(text: str) -> str:
    return quopri.encodestring(text.encode("utf-8")).decode("ascii")


def _text_part(text: str, charset: str, *, flowed: bool = False) -> Message:
    part = Message()
    if flowed:
        part["Content-Type"] = f"text/plain; charset={charset}; format=flowed"
        part["Content-Transfer-Encoding"] = "8bit"
        # 8-bit text: surrogate escapes make the generator write the UTF-8 bytes back unchanged.
        part.set_payload(_flowed(text).encode("utf-8").decode("ascii", "surrogateescape"))
    else:
        part["Content-Type"] = f'text/plain; charset="{charset}"'
        part["Content-Transfer-Encoding"] = "quoted-printable"
        part.set_payload(_qp(text))
    return part


def _flowed(text: str) -> str:
    """RFC 3676 format=flowed at 72 columns: a soft break is a line ending in a space."""
    out: list[str] = []
    for line in text.split("\n"):
        if line == "-- " or len(line) <= 72:
            out.append(line)
            continue
        wrapped = textwrap.wrap(line, 72, break_long_words=False, break_on_hyphens=False)
        out.extend(piece + " " for piece in wrapped[:-1])
        out.append(wrapped[-1])
    return "\n".join(out)


def _html_part(html_text: str, charset: str) -> Message:
    part = Message()
    part["Content-Type"] = f'text/html; charset="{charset}"'
    part["Content-Transfer-Encoding"] = "quoted-printable"
    part.set_payload(_qp(html_text))
    return part


def _outlook_html(text: str) -> str:
    paragraphs = []
    for line in text.rstrip("\n").split("\n"):
        inner = html.escape(line, quote=False) if line else "&nbsp;"
        paragraphs.append(
            f"<p class=MsoNormal>{inner}<o:p></o:p></p>" if line else f"<p class=MsoNormal><o:p>{inner}</o:p></p>"
        )
    return (
        '<html xmlns:v="urn:schemas-microsoft-com:vml" xmlns:o="urn:schemas-microsoft-com:office:office" '
        'xmlns:w="urn:schemas-microsoft-com:office:word" xmlns="http://www.w3.org/TR/REC-html40">'
        '<head><meta http-equiv=Content-Type content="text/html; charset=utf-8">'
        '<meta name=Generator content="Microsoft Word 15 (filtered medium)"><style><!--\n'
        "p.MsoNormal, li.MsoNormal, div.MsoNormal\n"
        '\t{margin:0in;font-size:11.0pt;font-family:"Calibri",sans-serif;}\n'
        "--></style></head>"
        '<body lang=VI link="#0563C1" vlink="#954F72" style=\'word-wrap:break-word\'>'
        "<div class=WordSection1>" + "\n".join(paragraphs) + "</div></body></html>\n"
    )


def _gmail_html(text: str) -> str:
    lines = [
        f"<div>{html.escape(line, quote=False)}</div>" if line else "<div><br></div>"
        for line in text.rstrip("\n").split("\n")
    ]
    return '<div dir="ltr">' + "".join(lines) + "</div>\n"


def _multipart(subtype: str, boundary: str, parts: list[Message | str], *, preamble: str | None = None) -> Message:
    msg = Message()
    msg["Content-Type"] = f'multipart/{subtype};\n\tboundary="{boundary}"'
    msg.set_payload(parts)
    msg.preamble = preamble
    return msg


_DAY_NAMES = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
_MONTH_NAMES = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


def _rfc_date(d: datetime) -> str:
    """RFC 5322 date as the clients write it: "Tue, 9 Jul 2024 16:42:07 +0700" (no zero before the day)."""
    offset = format_datetime(d)[-5:]
    return f"{_DAY_NAMES[d.weekday()]}, {d.day} {_MONTH_NAMES[d.month - 1]} {d.year} {d:%H:%M:%S} {offset}"


def _trace_headers(mail: _Mail) -> list[tuple[str, str]]:
    """What the office's mail server puts on top when it delivers the message into the Maildir."""
    domain = mail.sender[1].rsplit("@", 1)[1]
    digest = _digest(mail.seed, "trace")
    helo = f"mail-pj1-f{40 + digest[0] % 60}.google.com" if mail.client == "gmail" else f"mail.{domain}"
    ip = f"203.0.113.{1 + digest[1] % 250}"  # a documentation address (RFC 5737)
    queue_id = base64.b32encode(digest[2:10]).decode("ascii")[:11]
    arrived = _rfc_date(mail.date + timedelta(seconds=2 + digest[11] % 5))
    return [
        ("Return-Path", f"<{mail.sender[1]}>"),
        ("Delivered-To", mail.to[1]),
        (
            "Received",
            f"from {helo} ({helo} [{ip}])\n\tby {MX_HOST} (Postfix) with ESMTPS id {queue_id}\n"
            f"\tfor <{mail.to[1]}>; {arrived}",
        ),
    ]


def _render(mail: _Mail) -> bytes:
    c, seed = mail.client, mail.seed
    hexes = _hex(seed, 32)
    headers: list[tuple[str, str]] = _trace_headers(mail)
    from_ = _address(*mail.sender, c)
    to = _address(*mail.to, c) if c != "gmail" else mail.to[1]
    subject = _header_text(mail.subject, c)
    atts = [_attachment_part(a, c, seed) for a in mail.attachments]
    if c == "outlook":
        alt = _multipart(
            "alternative",
            f"----=_NextPart_001_{hexes[:4].upper()}_01DA{hexes[4:8].upper()}.{hexes[8:16].upper()}",
            [_text_part(mail.body, "utf-8"), _html_part(_outlook_html(mail.body), "utf-8")],
        )
        root = _multipart(
            "mixed",
            f"----=_NextPart_000_{hexes[:4].upper()}_01DA{hexes[4:8].upper()}.{hexes[8:16].upper()}",
            [alt, *atts],
            preamble="This is a multi-part message in MIME format.",
        )
        thread_index = base64.b64encode(b"\x01\xda" + _digest(seed, "thread")[:20]).decode("ascii")
        headers += [
            ("From", from_),
            ("To", to),
            ("Subject", subject),
            ("Date", _rfc_date(mail.date)),
            ("Message-ID", f"<{mail.message_id}>"),
            ("MIME-Version", "1.0"),
            ("X-Mailer", "Microsoft Outlook 16.0"),
            ("Thread-Index", thread_index),
            ("Content-Language", "vi"),
        ]
    elif c == "gmail":
        alt = _multipart(
            "alternative",
            f"000000000000{hexes[16:32]}",
            [_text_part(mail.body, "UTF-8"), _html_part(_gmail_html(mail.body), "UTF-8")],
        )
        root = _multipart("mixed", f"000000000000{hexes[:16]}", [alt, *atts]) if atts else alt
        headers += [
            ("MIME-Version", "1.0"),
            ("From", from_),
            ("Date", _rfc_date(mail.date)),
            ("Message-ID", f"<{mail.message_id}>"),
            ("Subject", subject),
            ("To", to),
        ]
    elif c == "thunderbird":
        body = _text_part(mail.body, "UTF-8", flowed=True)
        token = base64.b64encode(_digest(seed, "boundary")).decode("ascii")
        boundary = "------------" + "".join(ch for ch in token if ch.isalnum())[:24]
        root = (
            _multipart("mixed", boundary, [body, *atts], preamble="This is a multi-part message in MIME format.")
            if atts
            else body
        )
        headers += [
            ("Message-ID", f"<{mail.message_id}>"),
            ("Date", _rfc_date(mail.date)),
            ("MIME-Version", "1.0"),
            ("User-Agent", "Mozilla Thunderbird"),
            ("Content-Language", "vi"),
            ("To", to),
            ("From", from_),
            ("Subject", subject),
        ]
    else:  # iPhone Mail
        root = _text_part(mail.body, "utf-8")
        root.replace_header("Content-Type", "text/plain; charset=utf-8")
        headers += [
            ("From", from_),
            ("Mime-Version", "1.0 (1.0)"),
            ("Date", _rfc_date(mail.date)),
            ("Subject", subject),
            ("Message-Id", f"<{mail.message_id}>"),
            ("To", to),
            ("X-Mailer", "iPhone Mail (21F90)"),
        ]
    # The MIME headers of the root part come after the client's own, as every client writes them.
    mime = [(k, v) for k, v in root.items()]
    for k in list(root.keys()):
        del root[k]
    for k, v in headers + mime:
        root[k] = v
    out = BytesIO()
    # compat32 keeps the headers exactly as written above (already folded); CRLF as on the wire.
    BytesGenerator(out, policy=compat32.clone(linesep="\r\n", max_line_length=0)).flatten(root)
    return out.getvalue()


def _message_id(sample: Sample) -> str:
    """A Message-ID in the sending client's own style, fixed for the sample whatever the date."""
    h = _hex("message-id:" + sample.key, 40)
    domain = sample.sender[1].rsplit("@", 1)[1]
    if sample.client == "outlook":
        return f"0000{h[:2]}01da{h[2:8]}${h[8:16]}${h[16:24]}$@{domain}"
    if sample.client == "gmail":
        token = base64.b64encode(_digest("gmail:" + sample.key)).decode("ascii").rstrip("=")
        return f"CA{token[:44]}@mail.gmail.com"
    uuid = f"{h[:8]}-{h[8:12]}-4{h[13:16]}-a{h[17:20]}-{h[20:32]}"
    return f"{uuid.upper() if sample.client == 'iphone' else uuid}@{domain}"


# ------------------------------------------------------------------------------------- assembling
def _forward_body(sample: Sample, sent: datetime, subject: str, values: dict[str, str]) -> str:
    assert sample.forwarded_from is not None
    original = sent - timedelta(hours=3, minutes=17)
    name, addr = sample.forwarded_from
    gmail_date = (
        f"{_GMAIL_WEEKDAYS[original.weekday()]}, {original.day} thg {original.month}, {original.year} "
        f"vào lúc {original:%H:%M}"
    )
    return (
        f"{_fill(sample.note, values)}\n"
        "---------- Forwarded message ---------\n"
        f"From: {name} <{addr}>\n"
        f"Date: {gmail_date}\n"
        f"Subject: {subject.removeprefix('Fwd: ')}\n"
        f"To: {sample.sender[0]} <{sample.sender[1]}>\n\n\n"
        f"{texts.NOTE_UBKT_ORIGINAL}"
    )


def _build(sample: Sample, now: datetime) -> BuiltSample:
    sent = _sent_at(sample, now)
    values = _values(sample, sent)
    subject = _fill(sample.subject, values)
    author = (sample.forwarded_from or sample.sender)[0]
    saved = sent - timedelta(minutes=25)
    taken = datetime.combine(_event_day(sample, sent), datetime.min.time()) + timedelta(hours=8, minutes=35)
    attachments: list[_Attachment] = []
    titles: list[str] = []
    for n, f in enumerate(sample.files):
        seed = f"{sample.key}/{n}"
        if f.article is None:
            doc = _invitation_document(values, sent)
            titles.append(texts.INVITATION_TITLE)
        else:
            article = _fill_article(f.article, values)
            jpeg = make_photo(f.photo, values, seed, taken) if f.photo else None
            doc = _article_document(f, article, jpeg)
            titles.append(article.title.upper() if f.title_style == "caps" else article.title)
        data = _stable_docx(doc, author, saved)
        if f.corrupt:
            data = _truncated(data)
        attachments.append(_Attachment(_fill(f.filename, values), DOCX_TYPE, data))
    for n, photo in enumerate(sample.photos):
        jpeg = make_photo(photo, values, f"{sample.key}/photo{n}", taken + timedelta(minutes=3 * n))
        attachments.append(_Attachment(_fill(photo.filename, values), "image/jpeg", jpeg))
    body = _forward_body(sample, sent, subject, values) if sample.forwarded_from else _fill(sample.note, values)
    mail = _Mail(
        client=sample.client,
        seed=sample.key,
        sender=sample.sender,
        to=OFFICE,
        subject=subject,
        date=sent,
        body=body,
        message_id=_message_id(sample),
        attachments=tuple(attachments),
    )
    return BuiltSample(sample, _render(mail), mail.message_id, subject, sent, tuple(titles))
