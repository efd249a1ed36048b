"""Word -> article: what an editor sees from each fixture, fidelity against mammoth, real files, hostile XML.

Fixtures are built by tests/fixtures/word/build.py (python-docx, LibreOffice); expected.json beside
them says what each must give. The real files come from tests/corpus.py (its .docx are all outside the repository).
"""

from __future__ import annotations

import functools
import hashlib
import io
import json
import re
import unicodedata
import zipfile
from pathlib import Path

import docx
import mammoth
import pytest
from lxml import etree
from lxml import html as lxml_html

from core.html import html_to_text, sanitize
from ingest.word import legacy
from ingest.word.docx import DocxArticle, DocxImage, docx_to_article
from ingest.word.structure import BOLD, ITALIC, Paragraph, Span, byline_like, caption_like, clean_alt
from tests import corpus as real
from tests.fixtures.word.build import rezip

pytestmark = pytest.mark.no_database  # the PostgreSQL pass of make test leaves it out

REPO = Path(__file__).resolve().parents[3]
FIXTURES = REPO / "tests" / "fixtures" / "word"
HOSTILE = REPO / "tests" / "fixtures" / "hostile"
EXPECTED: dict[str, dict] = json.loads((FIXTURES / "expected.json").read_text(encoding="utf-8"))
MEDIA_SRC = re.compile(r'<img src="/media/([0-9a-f]{64})"')


@functools.cache
def convert(name: str) -> DocxArticle:
    """The fixture's article (converted once per test process; tests only read it)."""
    return docx_to_article((FIXTURES / name).read_bytes(), is_docm=EXPECTED[name]["is_docm"])


def body_text(article: DocxArticle) -> str:
    return html_to_text(article.body_html)


def figures(article: DocxArticle) -> list[str]:
    return MEDIA_SRC.findall(article.body_html)


# ---------------------------------------------------------------------------------------------
# what each fixture must give


def test_every_fixture_has_expectations() -> None:
    on_disk = {p.name for p in FIXTURES.iterdir() if p.suffix in (".docx", ".docm")}
    assert on_disk == set(EXPECTED)


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_title_lead_byline(name: str) -> None:
    article, expected = convert(name), EXPECTED[name]
    assert (article.title, article.lead, article.byline) == (expected["title"], expected["lead"], expected["byline"])


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_images_and_captions(name: str) -> None:
    article, expected = convert(name), EXPECTED[name]
    assert len(article.images) == expected["images"]
    assert [image.caption for image in article.images if image.caption] == expected["captions"]
    for caption in expected["captions"]:
        assert f"<figcaption>{caption}</figcaption>" in article.body_html
        assert caption not in body_text(article).replace(caption, "", 1)  # once, in its figure
    for image in article.images:
        assert isinstance(image, DocxImage)
        assert image.sha256 == hashlib.sha256(image.data).hexdigest()
        assert image.content_type.startswith("image/")
    assert set(figures(article)) == {image.sha256 for image in article.images}


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_phrases_and_warnings(name: str) -> None:
    article, expected = convert(name), EXPECTED[name]
    for phrase in expected["phrases"]:
        assert phrase in article.text
        assert phrase in "\n".join(filter(None, [article.title, article.lead, body_text(article), article.byline]))
    for phrase in expected["absent"]:
        assert phrase not in body_text(article)
    for warning in expected["warnings"]:
        assert warning in article.warnings
    for warning in expected["no_warnings"]:
        assert warning not in article.warnings


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_output_is_nfc_sanitized_and_self_contained(name: str) -> None:
    article = convert(name)
    for value in (article.title, article.lead, article.byline, article.body_html, article.text):
        assert value is None or unicodedata.is_normalized("NFC", value)
    assert all(image.caption is None or unicodedata.is_normalized("NFC", image.caption) for image in article.images)
    assert sanitize(article.body_html) == article.body_html
    assert "data:" not in article.body_html
    assert " style=" not in article.body_html and " class=" not in article.body_html


def test_title_lead_and_byline_leave_the_body() -> None:
    article = convert("tin_heading_photo.docx")
    body = body_text(article)
    assert article.title is not None and article.lead is not None and article.byline is not None
    assert article.title not in body and article.lead not in body and article.byline not in body
    assert body.startswith("Tại buổi sinh hoạt")
    # ... but stay in the plain text of the whole document (length rules, warnings).
    assert article.text.splitlines()[0] == article.title
    assert article.text.splitlines()[-1] == article.byline


# ---------------------------------------------------------------------------------------------
# structure


def test_structure_of_an_article() -> None:
    html = convert("bai_structure.docx").body_html
    assert "<h2>Kết quả bước đầu</h2>" in html and "<h2>Nhiệm vụ thời gian tới</h2>" in html
    assert (
        "<ul><li>Mở chuyên mục hỏi đáp trên cổng thông tin</li>"
        "<li>Cập nhật tài liệu sinh hoạt hằng tháng<ul><li>Tài liệu cho đảng viên mới</li></ul></li>"
        "<li>Tài liệu tham khảo thêm</li><li>Tổ chức thi trực tuyến</li></ul>"
    ) in html
    assert (
        "<ol><li>Rà soát danh sách cộng tác viên</li><li>Tập huấn kỹ năng viết tin</li>"
        "<li>Đánh giá kết quả theo quý</li></ol>"
    ) in html
    assert "<tr><th>Đơn vị</th><th>Số bài đã đăng</th><th>Ghi chú</th></tr>" in html
    assert '<td colspan="2">Tổng cộng</td><td>12</td>' in html
    assert (
        "Năm 2026, các chi bộ đã <strong>chủ động</strong> đưa tài liệu lên mạng, <em>kịp thời</em> "
        "và <u>đầy đủ</u>. Bạn đọc xem thêm trên "
        '<a href="https://travinh.gov.vn/dang-uy-khoi" rel="noopener noreferrer">cổng thông tin điện tử</a>'
        " của Đảng ủy Khối."
    ) in html
    assert "<p>Địa chỉ liên hệ: Văn phòng Đảng ủy Khối<br>dòng thứ hai của địa chỉ</p>" in html


def test_photos_become_figures_with_their_captions() -> None:
    article = convert("tin_title_style_captions.docx")
    first, second = article.images
    assert (
        f'<figure><img src="/media/{first.sha256}" alt="{first.caption}">'
        f"<figcaption>{first.caption}</figcaption></figure>"
    ) in article.body_html
    # The second photo was laid out in a table with its caption in the cell below: a figure, no table.
    assert "<table" not in article.body_html
    assert f"<figcaption>{second.caption}</figcaption>" in article.body_html
    assert [image.content_type for image in article.images] == ["image/png", "image/jpeg"]


def test_caption_typed_in_the_picture_paragraph_after_a_line_break() -> None:
    document = docx.Document()
    document.add_paragraph("Hội nghị diễn ra trong không khí dân chủ, thẳng thắn và trách nhiệm cao.")
    paragraph = document.add_paragraph()
    with zipfile.ZipFile(FIXTURES / "tin_heading_photo.docx") as zf:
        photo = next(zf.read(n) for n in zf.namelist() if n.startswith("word/media/"))
    run = paragraph.add_run()
    run.add_picture(io.BytesIO(photo))
    run.add_break()
    paragraph.add_run("Ảnh: Quang cảnh hội nghị").italic = True
    out = io.BytesIO()
    document.save(out)
    article = docx_to_article(out.getvalue())
    assert [image.caption for image in article.images] == ["Ảnh: Quang cảnh hội nghị"]
    assert article.body_html.endswith("<figcaption>Ảnh: Quang cảnh hội nghị</figcaption></figure>")
    assert body_text(article).count("Quang cảnh hội nghị") == 1


def test_same_photo_twice_is_one_image_and_two_figures() -> None:
    article = convert("duplicate_photo.docx")
    assert len(article.images) == 1
    assert figures(article) == [article.images[0].sha256] * 2


def test_content_hidden_from_simple_readers_is_kept() -> None:
    article = convert("hidden_structures.docx")
    assert '<a href="https://travinh.gov.vn/tin-tuc" rel="noopener noreferrer">liên kết trong trường</a>' in (
        article.body_html
    )
    assert "<p>Nội dung trong hộp văn bản cũng phải được giữ lại</p>" in article.body_html  # once, not twice
    assert article.body_html.count("Nội dung trong hộp văn bản") == 1
    assert "Địa danh: Trà Vinh, ghi bằng thẻ thông minh;" in article.text
    assert "Bản sửa có phần được chèn thêm và đoạn văn được di chuyển" in article.text


def test_deleted_hidden_placeholder_and_field_codes_are_gone_everywhere() -> None:
    article = convert("hidden_structures.docx")
    for gone in EXPECTED["hidden_structures.docx"]["absent"]:
        assert gone not in article.text
        assert gone not in article.body_html


def test_thousands_of_tiny_runs_become_a_few_plain_paragraphs() -> None:
    article = convert("tiny_runs.docx")
    with zipfile.ZipFile(FIXTURES / "tiny_runs.docx") as zf:
        assert zf.read("word/document.xml").count(b"<w:r>") == 20_000
    paragraphs = re.findall(r"<p>([^<]*)</p>", article.body_html)
    assert len(paragraphs) == 4
    assert article.body_html == "".join(f"<p>{p}</p>" for p in paragraphs)  # no markup per run
    assert all(len(p) == 5000 or len(p) == 4999 for p in paragraphs)  # the trailing space is trimmed


def test_script_in_text_and_links_is_inert() -> None:
    article = convert("xss_attempts.docx")
    html = article.body_html
    assert "<script" not in html and "<img src=x" not in html
    assert "&lt;script&gt;alert('xss')&lt;/script&gt;" in html
    assert "&lt;img src=x onerror=alert(1)&gt;" in html
    assert "javascript:" not in html and "data:" not in html
    assert "href" not in html
    tree = lxml_html.fragment_fromstring(html, create_parent="div")
    assert not [a for a in tree.iter() if any(name.startswith("on") for name in a.attrib)]


def test_footnotes_are_numbered_and_listed_at_the_end() -> None:
    article = convert("footnotes.docx")
    assert "về nhiệm vụ này<sup>1</sup>, tiếp tục" in article.body_html
    assert "Đại hội XIII<sup>2</sup>." in article.body_html
    assert article.body_html.endswith(
        "<ol><li><p>Nghị quyết số 35-NQ/TW ngày 22/10/2018 của Bộ Chính trị.</p></li>"
        "<li><p>Văn kiện Đại hội đại biểu toàn quốc lần thứ XIII, tập I.</p></li></ol>"
    )


# ---------------------------------------------------------------------------------------------
# byline and caption rules, line by line


def _line(text: str, fmt: int = 0, align: str | None = None) -> Paragraph:
    return Paragraph(items=[Span(text=text, fmt=fmt)], align=align)


@pytest.mark.parametrize(
    "line",
    [
        "Nguyễn Văn An – Chi bộ Văn phòng",
        "Nguyễn Văn An - Chi bộ Văn phòng",
        "Lê Thị Hoa, Ban Tuyên giáo Đảng ủy Khối",
        "Tin, ảnh: Lê Minh Tâm",
        "Tin và ảnh: Phạm Văn Hùng",
        "Bài và ảnh: Thạch Sô Phol",
        "Bài: Trần Thị Bích Ngọc",
        "TIN, ẢNH: HỒNG NHUNG",
        "Theo Báo Trà Vinh",
        "(Theo TTXVN)",
        "Nguồn: dangcongsan.vn",
        "Minh Tâm (CTV)",
        "Thạch Thị Sô Phia",
        "ThS. Lê Văn Tám",
    ],
)
def test_byline_lines(line: str) -> None:
    assert byline_like(_line(line))


@pytest.mark.parametrize(
    "line",
    [
        "Theo kế hoạch, hội nghị sẽ được tổ chức vào tháng 12 với sự tham dự của các đồng chí lãnh đạo.",
        "Các đảng viên đã thảo luận sôi nổi.",
        "Ảnh: Đồng chí Bí thư phát biểu",
        "Kết luận",
        "Trân trọng!",
        "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM",
    ],
)
def test_not_byline_lines(line: str) -> None:
    assert not byline_like(_line(line))


def test_unit_line_needs_emphasis_or_alignment_alone() -> None:
    assert not byline_like(_line("Ban Tuyên giáo Đảng ủy Khối"))
    assert byline_like(_line("Ban Tuyên giáo Đảng ủy Khối", align="right"))
    assert byline_like(_line("Ban Tuyên giáo Đảng ủy Khối", fmt=BOLD))


@pytest.mark.parametrize(
    ("line", "fmt"),
    [
        ("Ảnh: Quang cảnh hội nghị", 0),
        ("Ảnh minh họa", 0),
        ("Hình 2: Sơ đồ tổ chức", 0),
        ("Đồng chí Bí thư trao quà cho các gia đình chính sách. (Ảnh: Văn An)", 0),
        ("Đồng chí Bí thư trao quà cho các gia đình chính sách", ITALIC),
    ],
)
def test_caption_lines(line: str, fmt: int) -> None:
    assert caption_like(_line(line, fmt))


@pytest.mark.parametrize(
    ("line", "fmt"),
    [
        ("Đồng chí Bí thư trao quà cho các gia đình chính sách", 0),
        ("Tin, ảnh: Lê Minh Tâm", ITALIC),
        (" ".join(["Một đoạn văn in nghiêng rất dài"] * 12), ITALIC),
    ],
)
def test_not_caption_lines(line: str, fmt: int) -> None:
    assert not caption_like(_line(line, fmt))


def test_word_machine_alt_text_is_dropped() -> None:
    assert clean_alt("A group of people sitting at a table\n\nDescription automatically generated") is None
    assert clean_alt("Ảnh do tác giả chụp") == "Ảnh do tác giả chụp"


# ---------------------------------------------------------------------------------------------
# Vietnamese text


def test_tcvn3_capitals_font_and_body() -> None:
    article = convert("legacy_tcvn3.docx")
    assert article.title == "HỘI NGHỊ SƠ KẾT CÔNG TÁC KIỂM TRA, GIÁM SÁT 6 THÁNG ĐẦU NĂM"
    assert "Hội nghị đã đánh giá những kết quả đạt được" in body_text(article)


def test_vni_mark_stored_in_the_next_run_joins_its_letter() -> None:
    article = convert("legacy_vni.docx")
    assert "Kết quả này được ghi nhận và biểu dương kịp thời." in article.text
    assert "được" in html_to_text(article.body_html)


def test_decomposed_unicode_becomes_nfc_even_across_runs() -> None:
    article = convert("nfd_text.docx")
    assert "Đảng ủy phường gửi bài bằng tiếng Việt có dấu tách rời." in body_text(article)


def test_unicode_text_in_a_vntime_style_is_not_converted() -> None:
    article = convert("decoy_vntime_unicode.docx")
    assert body_text(article).split("\n") == [
        "Tin viết ngắn gọn, đủ năm yếu tố: ai, cái gì, ở đâu, khi nào, tại sao.",
        "Tôi",
        "Bộ",
    ]


def _looks_like_legacy_garbage(text: str) -> bool:
    lines = [line for line in text.splitlines() if line.strip()]
    return any(legacy.looks_legacy_document(lines, encoding) for encoding in ("tcvn3", "vni"))


def test_garbage_detector_sees_undecoded_legacy_text() -> None:
    """The check used on the real corpus below does flag text left in its legacy encoding."""
    with zipfile.ZipFile(FIXTURES / "legacy_tcvn3.docx") as zf:
        raw = " ".join(str(t) for t in etree.fromstring(zf.read("word/document.xml")).itertext())
    assert _looks_like_legacy_garbage(raw)
    assert not _looks_like_legacy_garbage(convert("legacy_tcvn3.docx").text)


# ---------------------------------------------------------------------------------------------
# packages


def test_docm_macros_are_stripped() -> None:
    data = (FIXTURES / "macros.docm").read_bytes()
    flagged = docx_to_article(data, is_docm=True)
    unflagged = docx_to_article(data)  # the content type alone says "macro-enabled"
    for article in (flagged, unflagged):
        assert "macros_stripped" in article.warnings
        assert article.title == EXPECTED["macros.docm"]["title"]
        assert len(article.images) == 1


def test_missing_image_part_is_a_warning_not_a_failure() -> None:
    article = convert("missing_image.docx")
    assert "image_missing" in article.warnings
    assert "<img" not in article.body_html
    assert "thảo luận sôi nổi" in body_text(article)


def test_template_docx_opens() -> None:
    """A .dotx (Word template) sent as the article: its main part has the template content type."""
    data = (FIXTURES / "tin_heading_photo.docx").read_bytes()
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        types = zf.read("[Content_Types].xml").replace(b"document.main+xml", b"template.main+xml")
    article = docx_to_article(rezip(data, {"[Content_Types].xml": types}))
    assert article.title == EXPECTED["tin_heading_photo.docx"]["title"]
    assert "macros_stripped" not in article.warnings


# ---------------------------------------------------------------------------------------------
# hostile XML


def test_billion_laughs_document_raises() -> None:
    with pytest.raises(Exception):  # noqa: B017 - any exception; the orchestrator maps it to corrupt_document
        docx_to_article((HOSTILE / "billion-laughs.docx").read_bytes())


def test_external_entity_raises() -> None:
    with pytest.raises(ValueError):
        docx_to_article((HOSTILE / "xxe-external-entity.docx").read_bytes())


def _with_dtd(member: str) -> bytes:
    """A fixture whose `member` gained a small internal DTD (below libxml2's own amplification limit)."""
    data = (FIXTURES / "tin_heading_photo.docx").read_bytes()
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        xml = zf.read(member)
    declaration_end = xml.index(b"?>") + 2
    root = xml[declaration_end:].lstrip()[1:].split(b" ", 1)[0]
    dtd = b"<!DOCTYPE " + root + b' [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;">]>'
    return rezip(data, {member: xml[:declaration_end] + dtd + xml[declaration_end:]})


@pytest.mark.parametrize("member", ["word/document.xml", "word/styles.xml", "word/numbering.xml"])
def test_any_dtd_in_a_part_we_read_raises(member: str) -> None:
    with pytest.raises(ValueError, match="DTD"):
        docx_to_article(_with_dtd(member))


# ---------------------------------------------------------------------------------------------
# fidelity: at least what mammoth finds (headings, list items, table cells, links, images)


def _view(html: str) -> dict[str, object]:
    root = lxml_html.fragment_fromstring(html or "<p></p>", create_parent="div")

    def text(element: lxml_html.HtmlElement) -> str:
        # mammoth adds a "↑" back-link to each footnote; it is navigation, not text.
        content = element.text_content().replace("↑", "")
        return unicodedata.normalize("NFC", re.sub(r"\s+", " ", content).strip())

    return {
        "headings": [text(e) for e in root.iter("h1", "h2", "h3", "h4", "h5", "h6")],
        "list items": [text(e) for e in root.iter("li")],
        # Tables that only lay out photos become figures here; data tables must match cell by cell.
        "table cells": [text(c) for t in root.iter("table") if not list(t.iter("img")) for c in t.iter("td", "th")],
        "links": [
            a.get("href") for a in root.iter("a") if (a.get("href") or "").startswith(("http:", "https:", "mailto:"))
        ],
        "images": len(list(root.iter("img"))),
    }


def _mammoth_html(data: bytes) -> str:
    result = mammoth.convert_to_html(
        io.BytesIO(data), convert_image=mammoth.images.img_element(lambda image: {"src": "image"})
    )
    return result.value


FIDELITY = sorted(name for name in EXPECTED if name.endswith(".docx") and name != "missing_image.docx")


@pytest.mark.parametrize("name", FIDELITY)
def test_fidelity_against_mammoth(name: str) -> None:
    """mammoth (a reference, in tests only) reads the same structure from each fixture as we do.

    Our title is taken out of the body, so mammoth's first heading may be our title. Legacy-font
    fixtures are compared by counts (mammoth shows their legacy bytes). missing_image.docx is left
    out: mammoth emits an <img> for the missing part, we warn instead.
    """
    article = convert(name)
    ours, theirs = _view(article.body_html), _view(_mammoth_html((FIXTURES / name).read_bytes()))
    headings = theirs["headings"]
    assert isinstance(headings, list)
    if headings and headings[0] == article.title:
        theirs["headings"] = headings[1:]
    if EXPECTED[name]["legacy"]:
        ours = {key: len(value) if isinstance(value, list) else value for key, value in ours.items()}
        theirs = {key: len(value) if isinstance(value, list) else value for key, value in theirs.items()}
    assert ours == theirs


# ---------------------------------------------------------------------------------------------
# real Vietnamese Word files


def test_real_corpus_is_there() -> None:
    present = [p for p in real.paths("docx/*.docx") if p.is_file()]  # a folder set but incomplete fails here
    assert len(present) >= 15, f"expected the shared corpus at {real.EXTERNAL}"


@pytest.mark.parametrize("path", real.params("docx/*.docx"), ids=lambda p: p.name)
def test_real_docx_converts_to_clean_vietnamese(path: Path) -> None:
    article = docx_to_article(path.read_bytes())
    assert article.text.strip()
    assert unicodedata.is_normalized("NFC", article.text)
    assert unicodedata.is_normalized("NFC", article.body_html)
    assert not _looks_like_legacy_garbage(article.text)
    assert "text_lost" not in article.warnings
    assert "legacy_font_converted" not in article.warnings  # every file here is Unicode (some declare .VnTime)
    assert sanitize(article.body_html) == article.body_html
    assert "data:" not in article.body_html
    assert set(figures(article)) == {image.sha256 for image in article.images}


def test_real_text_boxes_are_read() -> None:
    article = docx_to_article(real.read("docx/qlxdvbpl_TP-CC-36_so-theo-doi.docx"))
    assert "text_boxes" in article.warnings


def test_real_captions_under_pictures() -> None:
    article = docx_to_article(real.read("docx/khoach_bao-cao-do-an_images-toc.docx"))
    captions = [image.caption for image in article.images if image.caption]
    assert "Hình 2. 1. Cách di chuyển của quân mã trên bàn cờ vua" in captions


def test_real_news_item_from_a_newsroom_cms() -> None:
    article = docx_to_article(real.read("docx/toasoan_bantin_3_phpword.docx"))
    assert "câu lạc bộ Nét Bút Xanh đã có 14 năm phát triển" in article.text
    assert len(figures(article)) == 3 and len(article.images) == 2  # one photo is used twice


def test_python_docx_paragraph_text_is_all_in_the_article() -> None:
    """Every paragraph python-docx itself finds in a real file reaches our text."""
    path = real.path("docx/mauvanban_thoa-thuan-chia-tai-san.docx")
    ours = re.sub(r"\s+", " ", docx_to_article(path.read_bytes()).text)
    for paragraph in docx.Document(str(path)).paragraphs:
        line = re.sub(r"\s+", " ", unicodedata.normalize("NFC", paragraph.text)).strip()
        if line:
            assert line in ours
