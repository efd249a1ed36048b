"""Word conversion: one-page speed against mammoth, a 10-page article with photos, LibreOffice batches, memory.

Issue #3, "Speed and memory". Four parts, each beside a baseline measured in the same run:

- `one_page`: `docx_to_article` (text, structure, sanitizing; no renditions) against
  `mammoth.convert_to_html` on the same bytes, median of many runs, on three one-page news items: one
  built with python-docx (its template carries a ~350 KB styles.xml), the real PHPWord news export of
  the shared corpus (1 KB styles.xml), and the python-docx one saved as .doc and back to .docx by
  LibreOffice (22 KB styles.xml). Also python-docx's own open time, the photo's web rendition (counted
  apart), and whether both converters find the same headings, list items, table cells, links, images.
  The legs take turns, so a slow stretch of the machine does not tilt their ratio.
- `article`: `convert_document` in this process on a 10-page article (~4,000 syllables) with 10 photos
  (8 of 1600x1200, 2 phone photos of 4000x3000 with EXIF orientation), renditions included; baselines:
  the conversion without renditions (`docx_to_article`) and the renditions without the conversion
  (`images.probe` + `images.web_rendition` of the same 10 photos), plus a 12 MP rendition without
  Pillow's draft decoding (what draft saves).
- `libreoffice`: 20 .doc files (python-docx files saved as Word 97 by soffice) through
  `convert_document_isolated` one at a time, then from 20 threads at once (the Batcher joins them into
  shared soffice calls; the batch sizes are recorded); also bare `libreoffice.convert` / `convert_many`.
- `memory`: VmHWM (/proc/<pid>/status) of a fresh conversion worker after `convert_document_isolated`
  of a ~20 MB .docx with 40 photos (the limit is 20 MiB), against a fresh worker converting the
  one-page news item.

    .venv/bin/python -m bench.word_convert [--quick] [--only one_page,article,libreoffice,memory]
                                           [--profile DIR]   # cProfile of one_page and article
"""

from __future__ import annotations

import cProfile
import functools
import gc
import io
import os
import pstats
import re
import shutil
import subprocess
import sys
import tempfile
import threading
import time
import unicodedata
import zipfile
import zlib
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bench import (
    RESULTS_DIR,
    BenchError,
    jpeg_with_comment,
    load_before,
    median,
    parser,
    percentile,
    print_table,
    verdict,
    write_result,
)
from bench.summary import Headline, headline

NAME = "word_convert"
PARTS = ("one_page", "article", "libreoffice", "memory")
REAL_NEWS = "docx/toasoan_bantin_3_phpword.docx"  # in the real corpus, outside the repository (tests/corpus.py)

ONE_PAGE_TARGET_MS = 15.0
MAMMOTH_RATIO_TARGET = 10.0
ARTICLE_TARGET_MS = 600.0
BATCH_RATIO_TARGET = 2.0
MEMORY_TARGET_MB = 300.0

_STYLES = "word/styles.xml"
ARTICLE_PARAGRAPHS = 45  # of ~85 syllables: ~4,000 with title, sa-pô, headings, list and table


@dataclass(frozen=True)
class Sizes:
    """How much work each part does: the full run, or a few seconds that prove the code works."""

    runs_ours: int
    runs_mammoth: int
    runs_article: int
    doc_files: int
    one_at_a_time: int
    batch_rounds: int
    phone_photo: tuple[int, int]
    memory_photo: tuple[int, int]
    memory_photos: int
    memory_bytes: int


FULL = Sizes(200, 15, 15, 20, 20, 5, (4000, 3000), (2592, 1944), 40, 20_000_000)
QUICK = Sizes(5, 1, 2, 3, 2, 1, (2000, 1500), (1296, 972), 6, 2_500_000)


# ------------------------------------------------------------------------------------- timing
def time_runs(function: Callable[[], object], runs: int, *, warmup: int = 1) -> list[float]:
    """Seconds of each of `runs` calls, after `warmup` untimed ones (imports, caches, page cache)."""
    for _ in range(warmup):
        function()
    gc.collect()
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        function()
        times.append(time.perf_counter() - started)
    return times


def interleaved(functions: Sequence[Callable[[], object]], runs: Sequence[int]) -> list[list[float]]:
    """Seconds of each call of each function, the functions taking turns in as many rounds as the
    largest count: a stretch of slow CPU here (other guests, other tests) then hits every leg alike
    instead of one of them, so their ratio holds. One untimed warm-up call each."""
    for function in functions:
        function()
    gc.collect()
    rounds = max(runs)
    times: list[list[float]] = [[] for _ in functions]
    for r in range(rounds):
        for function, count, out in zip(functions, runs, times, strict=True):
            if r * count // rounds != (r + 1) * count // rounds:  # `count` calls spread over the rounds
                started = time.perf_counter()
                function()
                out.append(time.perf_counter() - started)
    return times


def _ms(seconds: Sequence[float]) -> dict[str, float]:
    return {
        "median_ms": median(seconds) * 1000,
        "p90_ms": percentile(seconds, 90) * 1000,
        "min_ms": min(seconds) * 1000,
        "runs": len(seconds),
    }


# ----------------------------------------------------------------------------------- builders
def soffice_convert(files: dict[str, bytes], target: str) -> dict[str, bytes]:
    """Files saved again by LibreOffice, in ONE soffice call with a throwaway profile.

    Built with soffice directly, not with ingest.word.libreoffice: the inputs must not depend on the
    code under test, nor warm the profiles it keeps.
    """
    soffice = shutil.which("soffice")
    if soffice is None:
        raise BenchError("soffice (LibreOffice) is not installed: the LibreOffice legs cannot run")
    out_ext = target.split(":", 1)[0]
    with tempfile.TemporaryDirectory(prefix="toasoan-bench-soffice-") as tmp:
        work = Path(tmp)
        for name, data in files.items():
            (work / name).write_bytes(data)
        done = subprocess.run(
            [
                soffice,
                f"-env:UserInstallation={(work / 'profile').as_uri()}",
                "--headless",
                "--convert-to",
                target,
                "--outdir",
                str(work / "out"),
                *files,
            ],
            cwd=work,
            capture_output=True,
            timeout=300,
            check=False,
        )
        made = {name: work / "out" / f"{Path(name).stem}.{out_ext}" for name in files}
        missing = [name for name, path in made.items() if not path.is_file()]
        if missing:
            raise BenchError(
                f"soffice made no {out_ext} from {missing} (exit {done.returncode}): {done.stderr[-500:]!r}"
            )
        return {name: path.read_bytes() for name, path in made.items()}


NEWS_TITLE = "Chi bộ Văn phòng sinh hoạt chuyên đề quý IV năm 2026"
NEWS_CAPTION = "Ảnh: Quang cảnh buổi sinh hoạt chuyên đề."


def news_item(title: str = NEWS_TITLE, *, with_photo: bool = True) -> bytes:
    """A one-page news item as contributors lay it out (bold title, sa-pô, photo and caption, byline)."""
    from tests.fixtures.intake.build import BODY, BYLINE, LEAD, docx, photo

    picture = photo(1600, 1200, seed=21) if with_photo else None
    return docx(title, BODY, lead=LEAD, byline=BYLINE, picture=picture, caption=NEWS_CAPTION)


# Sentences of the long article (own text), combined per paragraph so that no two paragraphs repeat.
_SENTENCES = (
    "Năm 2026, Đảng bộ Khối các cơ quan tỉnh tiếp tục lãnh đạo thực hiện thắng lợi nhiệm vụ chính trị.",
    "Các cấp ủy đã cụ thể hóa nghị quyết thành chương trình hành động sát với thực tiễn của từng đơn vị.",
    "Công tác kiểm tra, giám sát được tiến hành thường xuyên, kịp thời phát hiện và chấn chỉnh hạn chế.",
    "Nhiều chi bộ đổi mới nội dung sinh hoạt, lựa chọn chuyên đề gắn với nhiệm vụ chuyên môn của cơ quan.",
    "Việc học tập và làm theo tư tưởng, đạo đức, phong cách Hồ Chí Minh đi vào chiều sâu, có sức lan tỏa.",
    "Đội ngũ cán bộ, đảng viên phát huy tinh thần trách nhiệm, tận tụy phục vụ nhân dân.",
    "Chuyển đổi số được đẩy mạnh, hồ sơ công việc được xử lý trên môi trường mạng, tiết kiệm thời gian.",
    "Công tác phát triển đảng viên được chú trọng, bảo đảm chất lượng, đúng quy trình và thủ tục.",
    "Các tổ chức đoàn thể phối hợp chặt chẽ, tổ chức nhiều phong trào thi đua thiết thực, hiệu quả.",
    "Bên cạnh kết quả đạt được, một số chi bộ còn lúng túng trong việc xây dựng nội dung sinh hoạt.",
    "Năng lực tham mưu của một bộ phận cán bộ chưa đáp ứng yêu cầu nhiệm vụ trong tình hình mới.",
    "Thời gian tới, Đảng bộ tập trung nâng cao chất lượng sinh hoạt chi bộ và siết chặt kỷ luật, kỷ cương.",
    "Mỗi đảng viên cần gương mẫu, nói đi đôi với làm, giữ gìn phẩm chất đạo đức và lối sống trong sạch.",
    "Ban Thường vụ Đảng ủy đề nghị các chi bộ rà soát, bổ sung kế hoạch công tác của quý còn lại.",
    "Hội nghị đã biểu dương các tập thể, cá nhân có thành tích xuất sắc trong thực hiện nhiệm vụ năm.",
    "Kết quả đánh giá, xếp loại chất lượng tổ chức đảng và đảng viên phản ánh đúng thực chất.",
)


def _paragraph_text(n: int) -> str:
    """Four sentences, a different combination per paragraph n."""
    k = len(_SENTENCES)
    return " ".join(_SENTENCES[(n * 5 + step * 3 + n // k) % k] for step in range(4))


def _phone_photo(width: int, height: int, seed: int) -> bytes:
    """A phone photo: JPEG at quality 90 with Exif (maker, model, orientation 6 = held upright)."""
    from PIL import Image

    from tests.fixtures.intake.build import photo

    exif = Image.Exif()
    exif[0x010F], exif[0x0110], exif[0x0112] = "samsung", "SM-A546E", 6
    out = io.BytesIO()
    Image.open(io.BytesIO(photo(width, height, seed=seed, quality=95))).save(out, "JPEG", quality=90, exif=exif)
    return out.getvalue()


def long_article(sizes: Sizes, *, photos: int = 10, phone_photos: int = 2) -> bytes:
    """A 10-page article (~4,000 syllables): bold title, sa-pô, Heading 2 sections, a bullet list, a
    table, photos with "Ảnh: ..." captions spread through the text, byline last."""
    from docx import Document
    from docx.enum.text import WD_ALIGN_PARAGRAPH
    from docx.shared import Cm, Pt

    from tests.fixtures.intake.build import BYLINE, LEAD, photo

    pictures = [_phone_photo(*sizes.phone_photo, seed=70 + i) for i in range(phone_photos)]
    pictures += [photo(1600, 1200, seed=40 + i) for i in range(photos - phone_photos)]
    doc = Document()
    title = doc.add_paragraph()
    title.alignment = WD_ALIGN_PARAGRAPH.CENTER
    run = title.add_run("ĐẢNG BỘ KHỐI CÁC CƠ QUAN TỈNH TỔNG KẾT CÔNG TÁC XÂY DỰNG ĐẢNG NĂM 2026")
    run.bold, run.font.size = True, Pt(14)
    lead = doc.add_paragraph().add_run(LEAD)
    lead.bold = lead.italic = True
    for n in range(ARTICLE_PARAGRAPHS):
        if n % 8 == 0:
            doc.add_heading(f"Phần {n // 8 + 1}: {_SENTENCES[n // 8][:48].rstrip(' ,.')}", level=2)
        doc.add_paragraph(_paragraph_text(n))
        if n % 4 == 2 and pictures:
            doc.add_picture(io.BytesIO(pictures.pop(0)), width=Cm(14))
            doc.paragraphs[-1].alignment = WD_ALIGN_PARAGRAPH.CENTER
            caption = doc.add_paragraph()
            caption.alignment = WD_ALIGN_PARAGRAPH.CENTER
            small = caption.add_run(f"Ảnh: Quang cảnh hội nghị, phần {n // 4 + 1}.")
            small.italic, small.font.size = True, Pt(10)
        if n == 20:
            for item in _SENTENCES[10:14]:
                doc.add_paragraph(item, style="List Bullet")
        if n == 40:
            table = doc.add_table(rows=4, cols=3)
            table.style = "Table Grid"
            for row, values in zip(
                table.rows,
                (
                    ("Chỉ tiêu", "Kế hoạch", "Thực hiện"),
                    ("Kết nạp đảng viên", "40", "46"),
                    ("Chi bộ", "52", "52"),
                    ("Xếp loại tốt", "90%", "93%"),
                ),
                strict=True,
            ):
                for cell, value in zip(row.cells, values, strict=True):
                    cell.text = value
    if pictures:
        raise BenchError(f"{len(pictures)} photos left over: the article is too short for them")
    byline = doc.add_paragraph()
    byline.alignment = WD_ALIGN_PARAGRAPH.RIGHT
    byline.add_run(BYLINE).bold = True
    out = io.BytesIO()
    doc.save(out)
    return out.getvalue()


def photo_document(sizes: Sizes) -> bytes:
    """A one-page article carrying `memory_photos` photos, about `memory_bytes` in all (each photo its own
    sha256): a tenth of them phone photos (12 MP in the full run), the rest 5 MP at the JPEG quality
    that fills the rest of the budget."""
    from docx import Document
    from docx.shared import Cm
    from PIL import Image

    from tests.fixtures.intake.build import BODY, BYLINE, LEAD, docx, photo

    count = sizes.memory_photos
    phones = max(1, count // 10)
    phone = _phone_photo(*sizes.phone_photo, seed=90)
    # What a photo adds to the .docx is its deflated size (python-docx deflates media; JPEG shrinks ~5%).
    rest_budget = (sizes.memory_bytes - 60_000 - phones * len(zlib.compress(phone))) // (count - phones)
    big = Image.open(io.BytesIO(photo(*sizes.memory_photo, seed=91, quality=95)))
    chosen = b""
    for quality in range(95, 40, -1):
        out = io.BytesIO()
        big.save(out, "JPEG", quality=quality)
        chosen = out.getvalue()
        if len(zlib.compress(chosen)) <= rest_budget:
            break
    doc = Document(io.BytesIO(docx("Hội nghị tổng kết công tác năm 2026 qua ảnh", BODY, lead=LEAD, byline=BYLINE)))
    for i in range(count):
        base = phone if i < phones else chosen
        doc.add_picture(io.BytesIO(jpeg_with_comment(base, f"bench photo {i}".encode())), width=Cm(14))
    out = io.BytesIO()
    doc.save(out)
    return out.getvalue()


def doc_files(count: int) -> list[tuple[str, str, bytes]]:
    """(title, file name, .doc bytes): one-page news items saved as Word 97 by soffice, one call."""
    titles = [f"{NEWS_TITLE} (bản tin số {i + 1:02d})" for i in range(count)]
    sources = {f"tin-{i + 1:02d}.docx": news_item(title, with_photo=False) for i, title in enumerate(titles)}
    made = soffice_convert(sources, "doc:MS Word 97")
    return [(title, f"tin-{i + 1:02d}.doc", made[f"tin-{i + 1:02d}.docx"]) for i, title in enumerate(titles)]


# ----------------------------------------------------------------------------------- fidelity
def structure_counts(body_html: str, title: str | None = None) -> dict[str, int]:
    """What an editor would compare between two conversions: headings, list items, data-table cells,
    web links and images. A first heading equal to `title` is not counted (we take the title out)."""
    from lxml import html as lxml_html

    root = lxml_html.fragment_fromstring(body_html or "<p></p>", create_parent="div")

    def text(element: lxml_html.HtmlElement) -> str:
        return unicodedata.normalize("NFC", re.sub(r"\s+", " ", element.text_content()).strip())

    headings = [text(e) for e in root.iter("h1", "h2", "h3", "h4", "h5", "h6")]
    if headings and title and headings[0] == unicodedata.normalize("NFC", title.strip()):
        headings = headings[1:]
    return {
        "headings": len(headings),
        "list_items": len(list(root.iter("li"))),
        # Tables that only lay out photos become figures in ours; data tables are compared.
        "table_cells": sum(len(list(t.iter("td", "th"))) for t in root.iter("table") if not list(t.iter("img"))),
        "links": sum(1 for a in root.iter("a") if (a.get("href") or "").startswith(("http:", "https:", "mailto:"))),
        "images": len(list(root.iter("img"))),
    }


def _styles_kb(data: bytes) -> float:
    with zipfile.ZipFile(io.BytesIO(data)) as z:
        return z.getinfo(_STYLES).file_size / 1024 if _STYLES in z.namelist() else 0.0


# --------------------------------------------------------------------------------- part 1
def one_page_files() -> list[tuple[str, str, bytes]]:
    """(key, description, bytes) of the three one-page news items."""
    from tests import corpus

    built = news_item()
    real_news = corpus.locate(REAL_NEWS)
    if not real_news.is_file():
        raise BenchError(f"the real corpus is missing: {real_news} (set TOASOAN_REAL_CORPUS)")
    # Through .doc, as the product converts a .doc: LibreOffice then writes its own ~22 KB styles.xml
    # (re-saving the .docx directly would keep python-docx's 340 KB of latent styles).
    as_doc = soffice_convert({"tin.docx": built}, "doc:MS Word 97")["tin.docx"]
    saved = soffice_convert({"tin.doc": as_doc}, "docx:MS Word 2007 XML")["tin.doc"]
    return [
        ("python_docx", "python-docx, 1 photo 1600x1200", built),
        ("phpword_real", "real PHPWord export (corpus), 3 pictures", real_news.read_bytes()),
        ("libreoffice_saved", "the python-docx one as .doc, saved as .docx by LibreOffice", saved),
    ]


def run_one_page(sizes: Sizes, profile_dir: Path | None) -> dict[str, Any]:
    import docx as python_docx
    import mammoth

    from ingest.word import images as word_images
    from ingest.word.docx import DocxArticle, docx_to_article

    def _open_with_python_docx(data: bytes) -> object:
        return python_docx.Document(io.BytesIO(data))

    def _mammoth_html(data: bytes) -> object:
        return mammoth.convert_to_html(io.BytesIO(data))

    def _renditions(article: DocxArticle) -> list[tuple[bytes, str, int, int]]:
        return [word_images.web_rendition(i.data, 1200) for i in article.images]

    files = one_page_files()
    measured: dict[str, Any] = {}
    for key, what, data in files:
        print(f"  one_page/{key}: {what} ...", flush=True)
        article = docx_to_article(data)
        if not article.title or "text_lost" in article.warnings:
            raise BenchError(f"{key}: converted without a title or with lost text: {article.warnings}")
        theirs_result = mammoth.convert_to_html(io.BytesIO(data))
        ours, opened, theirs = interleaved(
            [
                functools.partial(docx_to_article, data),
                functools.partial(_open_with_python_docx, data),
                functools.partial(_mammoth_html, data),
            ],
            [sizes.runs_ours, sizes.runs_ours, sizes.runs_mammoth],
        )
        renditions = time_runs(
            functools.partial(_renditions, article),
            max(3, sizes.runs_ours // 10),
        )
        ours_counts = structure_counts(article.body_html)
        theirs_counts = structure_counts(theirs_result.value, article.title)
        if profile_dir is not None:
            _profile(profile_dir / f"one_page_{key}.prof", functools.partial(docx_to_article, data), 50)
        measured[key] = {
            "what": what,
            "bytes": len(data),
            "styles_xml_kb": _styles_kb(data),
            "title": article.title,
            "images": len(article.images),
            "warnings": article.warnings,
            "ours": _ms(ours),
            "python_docx_open": _ms(opened),
            "mammoth": _ms(theirs),
            "renditions": {**_ms(renditions), "images": len(article.images)},
            "ratio": median(theirs) / median(ours),
            "fidelity": {"ours": ours_counts, "mammoth": theirs_counts, "equal": ours_counts == theirs_counts},
            "met": median(ours) * 1000 <= ONE_PAGE_TARGET_MS and median(theirs) / median(ours) >= MAMMOTH_RATIO_TARGET,
        }
    rows = []
    for key, m in measured.items():
        rows.append(
            [
                key,
                f"{m['styles_xml_kb']:.0f}",
                m["ours"]["median_ms"],
                m["ours"]["p90_ms"],
                m["python_docx_open"]["median_ms"],
                m["mammoth"]["median_ms"],
                f"{m['ratio']:.1f}x",
                m["renditions"]["median_ms"],
                verdict(m["met"]),
            ]
        )
    print_table(
        f"One-page news item: docx_to_article vs mammoth (ms; target ≤ {ONE_PAGE_TARGET_MS:g} ms median "
        f"and ≥ {MAMMOTH_RATIO_TARGET:g}x)",
        ["file", "styles KB", "ours med", "ours p90", "docx open", "mammoth", "ratio", "+renditions", "target"],
        rows,
    )
    fidelity_rows = []
    for key, m in measured.items():
        ours_c, theirs_c = m["fidelity"]["ours"], m["fidelity"]["mammoth"]
        cells = [f"{ours_c[k]}/{theirs_c[k]}" for k in ours_c]
        fidelity_rows.append([key, *cells, "same" if m["fidelity"]["equal"] else "DIFFERENT"])
    print_table(
        "Fidelity, ours/mammoth counts (title taken out of the body by us)",
        ["file", "headings", "list items", "table cells", "links", "images", "verdict"],
        fidelity_rows,
    )
    return {"files": measured, "met": all(m["met"] for m in measured.values())}


# --------------------------------------------------------------------------------- part 2
def run_article(sizes: Sizes, profile_dir: Path | None) -> dict[str, Any]:
    import mammoth
    from PIL import Image

    from core.text import syllable_count
    from ingest.word import convert_document
    from ingest.word import images as word_images
    from ingest.word.docx import docx_to_article

    print("  article: building a 10-page article with 10 photos ...", flush=True)
    data = long_article(sizes)
    result = convert_document(data, "Bai tong ket cong tac xay dung Dang.docx")
    syllables = syllable_count(result.text)
    if len(result.images) != 10 or any(image.web_data is None for image in result.images):
        raise BenchError(
            f"article: expected 10 images with web renditions, got {len(result.images)}: {result.warnings}"
        )
    if not result.title or "text_lost" in result.warnings:
        raise BenchError(f"article: no title or lost text: {result.warnings}")
    photos = [image.data for image in result.images]
    phone = max(photos, key=len)

    def renditions() -> None:
        for photo in photos:
            word_images.probe(photo, 50_000_000)
            word_images.web_rendition(photo, 1200, max_pixels=50_000_000)

    def phone_without_draft() -> None:
        # The same rendition (upright, 1200 px wide) with the whole 12 MP decoded: what draft saves.
        # (The phone photos here carry orientation 6, which web_rendition undoes with ROTATE_270.)
        im: Image.Image = Image.open(io.BytesIO(phone))
        rotated = im.getexif().get(0x0112, 1) in (5, 6, 7, 8)
        upright_width = im.height if rotated else im.width
        im.load()
        im = im.resize((round(im.width * 1200 / upright_width), round(im.height * 1200 / upright_width)),
                       Image.Resampling.BILINEAR)  # fmt: skip
        im = im.transpose(Image.Transpose.ROTATE_270) if rotated else im
        im.save(io.BytesIO(), "JPEG", quality=word_images.JPEG_QUALITY)

    small = min(photos, key=len)
    full, conversion, only_renditions, phone_draft, phone_full, small_one = interleaved(
        [
            lambda: convert_document(data, "bai.docx"),
            lambda: docx_to_article(data),
            renditions,
            lambda: word_images.web_rendition(phone, 1200),
            phone_without_draft,
            lambda: word_images.web_rendition(small, 1200),
        ],
        [sizes.runs_article] * 6,
    )
    theirs_result = mammoth.convert_to_html(io.BytesIO(data))
    theirs = time_runs(lambda: mammoth.convert_to_html(io.BytesIO(data)), max(1, sizes.runs_mammoth // 5))
    ours_counts = structure_counts(result.body_html)
    theirs_counts = structure_counts(theirs_result.value, result.title)
    if profile_dir is not None:
        _profile(profile_dir / "article.prof", lambda: convert_document(data, "bai.docx"), 3)
    with Image.open(io.BytesIO(phone)) as im:
        phone_size = im.size
    m: dict[str, Any] = {
        "bytes": len(data),
        "syllables": syllables,
        "images": len(result.images),
        "phone_photo": {"size": list(phone_size), "bytes": len(phone)},
        "warnings": result.warnings,
        "convert_document": _ms(full),
        "conversion_only": _ms(conversion),
        "renditions_only": _ms(only_renditions),
        "rendition_phone_draft": _ms(phone_draft),
        "rendition_phone_no_draft": _ms(phone_full),
        "rendition_1600x1200": _ms(small_one),
        "mammoth": _ms(theirs),
        "fidelity": {"ours": ours_counts, "mammoth": theirs_counts, "equal": ours_counts == theirs_counts},
        "met": median(full) * 1000 <= ARTICLE_TARGET_MS,
    }
    total = m["convert_document"]["median_ms"]
    rows = [
        ["convert_document (everything)", total, m["convert_document"]["p90_ms"], "1.00x",
         verdict(m["met"])],
        ["baseline: docx_to_article only", m["conversion_only"]["median_ms"], m["conversion_only"]["p90_ms"],
         f"{m['conversion_only']['median_ms'] / total:.2f}x", ""],
        ["baseline: 10 renditions only", m["renditions_only"]["median_ms"], m["renditions_only"]["p90_ms"],
         f"{m['renditions_only']['median_ms'] / total:.2f}x", ""],
        [f"one {phone_size[0]}x{phone_size[1]} rendition (draft)", m["rendition_phone_draft"]["median_ms"],
         m["rendition_phone_draft"]["p90_ms"], "", ""],
        ["  the same, full decode (no draft)", m["rendition_phone_no_draft"]["median_ms"],
         m["rendition_phone_no_draft"]["p90_ms"], "", ""],
        ["one 1600x1200 rendition", m["rendition_1600x1200"]["median_ms"], m["rendition_1600x1200"]["p90_ms"], "", ""],
        ["mammoth (no renditions; data: URIs)", m["mammoth"]["median_ms"], m["mammoth"]["p90_ms"],
         f"{m['mammoth']['median_ms'] / total:.2f}x", ""],
    ]  # fmt: skip
    print_table(
        f"10-page article, {syllables:,} syllables, 10 photos, {len(data) / 1e6:.1f} MB (ms; target ≤ "
        f"{ARTICLE_TARGET_MS:g} ms)",
        ["leg", "median", "p90", "share", "target"],
        rows,
    )
    cells = [f"{ours_counts[k]}/{theirs_counts[k]}" for k in ours_counts]
    print_table(
        "Fidelity on the article, ours/mammoth counts",
        ["headings", "list items", "table cells", "links", "images", "verdict"],
        [[*cells, "same" if ours_counts == theirs_counts else "DIFFERENT"]],
    )
    return m


# --------------------------------------------------------------------------------- part 3
class BatchSpy:
    """Records the size of every soffice call the Batcher makes (bench instrumentation only)."""

    def __init__(self) -> None:
        from ingest.word import libreoffice as lo

        self._lo = lo
        self._original = lo._convert_batch
        self.sizes: list[int] = []
        self._lock = threading.Lock()

    def __enter__(self) -> BatchSpy:
        original = self._original

        def spy(inputs: Sequence[tuple[bytes, str]], *args: Any, **kwargs: Any) -> Any:
            with self._lock:
                self.sizes.append(len(inputs))
            return original(inputs, *args, **kwargs)

        self._lo._convert_batch = spy
        return self

    def __exit__(self, *exc: object) -> None:
        self._lo._convert_batch = self._original


def _check_title(what: str, title: str | None, expected: str) -> None:
    from core.text import fold

    if fold(title) != fold(expected):
        raise BenchError(f"{what}: converted title {title!r}, expected {expected!r}")


def run_libreoffice(sizes: Sizes) -> dict[str, Any]:
    from ingest.word import convert_document_isolated
    from ingest.word import libreoffice as lo

    print(f"  libreoffice: making {sizes.doc_files} .doc files with soffice ...", flush=True)
    files = doc_files(sizes.doc_files)
    # Steady state of the service: conversion workers started, a LibreOffice profile warm.
    warm = news_item(with_photo=False)
    with ThreadPoolExecutor(4) as ex:
        list(ex.map(lambda _: convert_document_isolated(warm, "warm.docx"), range(4)))
    convert_document_isolated(files[0][2], files[0][1])

    # Other work on the 2 cores (a test suite) comes and goes: the legs are interleaved, round by
    # round (a few files one at a time, then the batch), so that both see the same machine.
    rounds = sizes.batch_rounds
    per_round = max(1, sizes.one_at_a_time // rounds)
    singles: list[float] = []
    single_calls = 0
    batches: list[float] = []
    batch_sizes: list[list[int]] = []
    round_ratios: list[float] = []
    raw_one: list[float] = []
    raw_many: list[float] = []
    for r in range(rounds):
        these: list[float] = []
        with BatchSpy() as spy_single:
            for title, name, data in files[r * per_round : (r + 1) * per_round]:
                started = time.perf_counter()
                result = convert_document_isolated(data, name)
                these.append(time.perf_counter() - started)
                _check_title(name, result.title, title)
                if result.format != "doc":
                    raise BenchError(f"{name}: converted as {result.format!r}, not from .doc")
        singles += these
        single_calls += len(spy_single.sizes)
        with BatchSpy() as spy, ThreadPoolExecutor(len(files)) as ex:
            started = time.perf_counter()
            results = list(ex.map(lambda f: convert_document_isolated(f[2], f[1]), files))
            batches.append(time.perf_counter() - started)
        batch_sizes.append(sorted(spy.sizes, reverse=True))
        round_ratios.append(batches[-1] / median(these))
        for (title, name, _), converted in zip(files, results, strict=True):
            _check_title(f"batch {name}", converted.title, title)
        raw_one += time_runs(lambda: lo.convert(files[1][2]), 1, warmup=0)
        started = time.perf_counter()
        outputs = lo.convert_many([f[2] for f in files])
        raw_many.append(time.perf_counter() - started)
        if any(out is None for out in outputs):
            raise BenchError("convert_many: LibreOffice left a file unconverted")

    one = median(singles)
    batch = median(batches)
    m: dict[str, Any] = {
        "files": len(files),
        "doc_bytes": [len(f[2]) for f in files],
        "rounds": rounds,
        "one_at_a_time": {**_ms(singles), "total_s": sum(singles), "soffice_calls": single_calls},
        "batch_threads": {**_ms(batches), "soffice_calls_per_round": batch_sizes},
        "raw_convert_one": _ms(raw_one),
        "raw_convert_many": _ms(raw_many),
        "ratio": batch / one,
        "round_ratios": round_ratios,
        "raw_ratio": median(raw_many) / median(raw_one),
        "met": batch / one < BATCH_RATIO_TARGET,
    }
    n = len(files)
    print_table(
        f"LibreOffice: {n} .doc files, median of {rounds} interleaved round(s) (s; target: the batch < "
        f"{BATCH_RATIO_TARGET:g}x one file; per round: {', '.join(f'{x:.2f}x' for x in round_ratios)})",
        ["leg", "median s", "ratio to one", "soffice calls (files each)", "target"],
        [
            ["convert_document_isolated, one file", one, "1.00x", "1 each", ""],
            [f"  {len(singles)} files one after another", sum(singles), f"{sum(singles) / one:.2f}x",
             str(single_calls), ""],
            [f"  {n} files from {n} threads (Batcher)", batch, f"{m['ratio']:.2f}x",
             ", ".join(f"{len(s)} ({'+'.join(map(str, s))})" for s in batch_sizes), verdict(m["met"])],
            ["libreoffice.convert, one file", median(raw_one), "1.00x", "1", ""],
            [f"libreoffice.convert_many, {n} files", median(raw_many), f"{m['raw_ratio']:.2f}x", "1", ""],
        ],
    )  # fmt: skip
    return m


# --------------------------------------------------------------------------------- part 4
def _worker_pids() -> list[int]:
    """Conversion workers started by this process (their command line names worker_main)."""
    me = str(os.getpid())
    pids = []
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        try:
            stat = Path(f"/proc/{entry.name}/stat").read_bytes()
            cmdline = Path(f"/proc/{entry.name}/cmdline").read_bytes()
        except OSError:
            continue
        if stat[stat.rindex(b")") + 2 :].split()[1].decode() == me and b"worker_main" in cmdline:
            pids.append(int(entry.name))
    return pids


def _status_mb(pid: int) -> dict[str, float]:
    values = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        key, _, rest = line.partition(":")
        if key in ("VmHWM", "VmRSS", "VmPeak"):
            values[key] = int(rest.split()[0]) / 1024
    return values


def worker_peak(data: bytes, filename: str) -> dict[str, Any]:
    """Convert in a FRESH single conversion worker; its VmHWM afterwards is this conversion's peak
    (VmHWM is a lifetime figure, so the worker must not have converted anything before)."""
    from ingest.word import convert_document_isolated
    from ingest.word.pool import set_pool_size, shutdown_pool

    shutdown_pool()
    set_pool_size(1)
    try:
        started = time.perf_counter()
        result = convert_document_isolated(data, filename)
        seconds = time.perf_counter() - started
        pids = _worker_pids()
        if len(pids) != 1:
            raise BenchError(f"expected one conversion worker of this process, found {pids}")
        status = _status_mb(pids[0])
    finally:
        shutdown_pool()
        set_pool_size(None)  # back to one worker per CPU
    return {
        "bytes": len(data),
        "seconds": seconds,
        "images": len(result.images),
        "renditions": sum(1 for image in result.images if image.web_data is not None),
        "worker_peak_mb": status["VmHWM"],
        "worker_rss_after_mb": status["VmRSS"],
        "worker_vm_peak_mb": status["VmPeak"],
        "warnings": result.warnings,
    }


def run_memory(sizes: Sizes) -> dict[str, Any]:
    print(f"  memory: building a ~{sizes.memory_bytes / 1e6:.0f} MB .docx with {sizes.memory_photos} photos ...",
          flush=True)  # fmt: skip
    big = photo_document(sizes)
    small = news_item()
    base = worker_peak(small, "tin.docx")
    heavy = worker_peak(big, "anh.docx")
    if heavy["renditions"] != sizes.memory_photos:
        raise BenchError(f"memory: {heavy['renditions']} renditions for {sizes.memory_photos} photos: {heavy}")
    heavy["met"] = heavy["worker_peak_mb"] < MEMORY_TARGET_MB
    rows = [
        ["one-page news item (baseline)", len(small) / 1e6, base["images"], base["seconds"], base["worker_peak_mb"],
         "1.00x", ""],
        [f"{sizes.memory_photos} photos", len(big) / 1e6, heavy["images"], heavy["seconds"], heavy["worker_peak_mb"],
         f"{heavy['worker_peak_mb'] / base['worker_peak_mb']:.2f}x", verdict(heavy["met"])],
    ]  # fmt: skip
    print_table(
        f"Peak memory of the conversion worker, VmHWM (target < {MEMORY_TARGET_MB:g} MB)",
        ["document", "MB", "images", "seconds", "peak MB", "ratio", "target"],
        rows,
    )
    return {"one_page": base, "photos": heavy, "ratio": heavy["worker_peak_mb"] / base["worker_peak_mb"],
            "met": heavy["met"]}  # fmt: skip


# ----------------------------------------------------------------------------------- profile
def _profile(path: Path, function: Callable[[], object], runs: int) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    profiler = cProfile.Profile()
    profiler.enable()
    for _ in range(runs):
        function()
    profiler.disable()
    profiler.dump_stats(path)
    print(f"\n  cProfile of {path.stem} ({runs} runs) → {path}")
    pstats.Stats(profiler).sort_stats("cumulative").print_stats(12)


# ----------------------------------------------------------------------------------------- run
def run(
    *,
    quick: bool = False,
    results_dir: Path = RESULTS_DIR,
    only: Sequence[str] = PARTS,
    profile_dir: Path | None = None,
) -> dict[str, Any]:
    sizes = QUICK if quick else FULL
    load = load_before()
    result: dict[str, Any] = {"quick": quick, "load_average_before": load}
    runners = {
        "one_page": lambda: run_one_page(sizes, profile_dir),
        "article": lambda: run_article(sizes, profile_dir),
        "libreoffice": lambda: run_libreoffice(sizes),
        "memory": lambda: run_memory(sizes),
    }
    for part in PARTS:
        if part in only:
            print(f"\n{NAME}: {part}", flush=True)
            result[part] = runners[part]()
    result["targets"] = {
        "one_page_median_ms": ONE_PAGE_TARGET_MS,
        "mammoth_ratio": MAMMOTH_RATIO_TARGET,
        "article_ms": ARTICLE_TARGET_MS,
        "batch_ratio": BATCH_RATIO_TARGET,
        "peak_mb": MEMORY_TARGET_MB,
    }
    result["met"] = {part: result[part]["met"] for part in PARTS if part in result}
    result["headline"] = _headline(result)
    write_result(results_dir, NAME, result)
    return result


def _headline(result: dict[str, Any]) -> list[Headline]:
    rows = []
    if "one_page" in result:
        files = result["one_page"]["files"]
        key = max(files, key=lambda k: files[k]["ours"]["median_ms"])  # the slowest file speaks for all
        m = files[key]
        rows.append(headline(NAME, "Word → article, one page (slowest file), median", m["ours"]["median_ms"], "ms",
                             f"≤ {ONE_PAGE_TARGET_MS:g} ms, mammoth ≥ {MAMMOTH_RATIO_TARGET:g}x slower",
                             result["one_page"]["met"], baseline="mammoth",
                             baseline_value=m["mammoth"]["median_ms"]))  # fmt: skip
    if "article" in result:
        a = result["article"]
        rows.append(headline(NAME, "Word → article, 10 photos, median", a["convert_document"]["median_ms"], "ms",
                             f"≤ {ARTICLE_TARGET_MS:g} ms", a["met"], baseline="mammoth",
                             baseline_value=a["mammoth"]["median_ms"]))  # fmt: skip
    if "libreoffice" in result:
        lo = result["libreoffice"]
        rows.append(headline(NAME, ".doc batch via LibreOffice, median", lo["batch_threads"]["median_ms"], "ms",
                             f"< {BATCH_RATIO_TARGET:g}x one file", lo["met"], baseline="one file",
                             baseline_value=lo["one_at_a_time"]["median_ms"]))  # fmt: skip
    if "memory" in result:
        mem = result["memory"]
        rows.append(headline(NAME, "conversion worker peak, photo-heavy .docx", mem["photos"]["worker_peak_mb"], "MB",
                             f"< {MEMORY_TARGET_MB:g} MB", mem["met"], baseline="one-page news item",
                             baseline_value=mem["one_page"]["worker_peak_mb"]))  # fmt: skip
    return rows


def main(argv: list[str] | None = None) -> int:
    p = parser(__doc__.splitlines()[0])
    p.add_argument("--only", default=",".join(PARTS), help="comma-separated: " + ", ".join(PARTS))
    p.add_argument("--profile", type=Path, default=None, help="write cProfile stats of one_page and article here")
    args = p.parse_args(argv)
    only = [part.strip() for part in args.only.split(",") if part.strip()]
    if unknown := [part for part in only if part not in PARTS]:
        p.error(f"unknown part(s): {', '.join(unknown)}")
    try:
        run(quick=args.quick, results_dir=args.results, only=only, profile_dir=args.profile)
    except BenchError as exc:
        print(f"\n{NAME}: FAILED: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
