"""Builds the Word templates of the report documents (docxtpl: Jinja2 tags inside Word files).

    .venv/bin/python templates/reports/make_templates.py

writes bao_cao_thang.docx (the monthly report to the Standing Committee) and to_trinh_chi.docx (the
payment request) beside this script. The generated files are committed; the office may edit them in
Word (fonts, wording, margins) as long as the {{ ... }} and {% ... %} tags stay whole. Re-running this
script overwrites such edits.

Layout: the Party's document format (Quy định 399-QĐ/TW, Hướng dẫn 05-HD/VPTW; research §1.7–1.8):
A4, margins 20/20/30/15 mm, Times New Roman; left header = the committee above (capitals) and the
issuing office (capitals, bold), a star, "Số ...-BC/..."; right header = "ĐẢNG CỘNG SẢN VIỆT NAM"
(bold, underlined) and the italic place and date line; title in bold capitals; body 14 pt justified
with a 1,27 cm first-line indent; "Nơi nhận:" bottom left (12 pt, bold italic, underlined) with
11 pt lines; the signer bottom right.

Context (reports/documents.py builds it; every value is already a display string):
letterhead_upper, letterhead_lower, number, symbol, date_line, title, subject, addressee,
period_label, start, end, payment_date, counts {tin, bai, anh, works, people}, total, total_plain, pit, net,
total_in_words, units [{stt, code, name, tin, tin_target, quarter_bai, bai_target, tin_status,
bai_status}], units_met {tin, bai, count}, genres [{label, quantity, amount}], chart (an image),
recipients [..], signer_authority, signer_title, signer_name.
"""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

from docx import Document
from docx.enum.table import WD_TABLE_ALIGNMENT
from docx.enum.text import WD_ALIGN_PARAGRAPH
from docx.oxml.ns import qn
from docx.shared import Cm, Mm, Pt

HERE = Path(__file__).resolve().parent
FONT = "Times New Roman"


def _document() -> Document:
    doc = Document()
    normal = doc.styles["Normal"]
    normal.font.name = FONT
    normal.font.size = Pt(14)
    fonts = normal.element.get_or_add_rPr().get_or_add_rFonts()
    for attr in ("w:ascii", "w:hAnsi", "w:eastAsia", "w:cs"):
        fonts.set(qn(attr), FONT)
    normal.paragraph_format.space_after = Pt(6)
    section = doc.sections[0]
    section.page_width, section.page_height = Mm(210), Mm(297)
    section.top_margin, section.bottom_margin = Mm(20), Mm(20)
    section.left_margin, section.right_margin = Mm(30), Mm(15)
    return doc


def _para(
    container,  # Document or cell
    text: str = "",
    *,
    bold: bool = False,
    italic: bool = False,
    underline: bool = False,
    size: float | None = None,
    align: WD_ALIGN_PARAGRAPH | None = None,
    indent: bool = False,
    after: float | None = None,
):
    p = container.add_paragraph()
    if text:
        run = p.add_run(text)
        run.bold, run.italic, run.underline = bold or None, italic or None, underline or None
        if size:
            run.font.size = Pt(size)
    if align is not None:
        p.alignment = align
    if indent:
        p.paragraph_format.first_line_indent = Cm(1.27)
    if after is not None:
        p.paragraph_format.space_after = Pt(after)
    return p


def _cell_text(cell, text: str, *, bold: bool = False, size: float = 12, align=WD_ALIGN_PARAGRAPH.CENTER) -> None:
    p = cell.paragraphs[0]
    run = p.add_run(text)
    run.bold = bold or None
    run.font.size = Pt(size)
    p.alignment = align
    p.paragraph_format.space_after = Pt(0)


def _header(doc) -> None:
    table = doc.add_table(rows=1, cols=2)
    table.alignment = WD_TABLE_ALIGNMENT.CENTER
    left, right = table.rows[0].cells
    left.width, right.width = Mm(75), Mm(90)
    c = WD_ALIGN_PARAGRAPH.CENTER
    left.paragraphs[0].add_run("{{ letterhead_upper }}").font.size = Pt(13)
    left.paragraphs[0].alignment = c
    left.paragraphs[0].paragraph_format.space_after = Pt(0)
    _para(left, "{{ letterhead_lower }}", bold=True, size=13, align=c, after=0)
    _para(left, "*", size=13, align=c, after=0)
    _para(left, "Số {{ number }}-{{ symbol }}", size=13, align=c, after=0)
    run = right.paragraphs[0].add_run("ĐẢNG CỘNG SẢN VIỆT NAM")
    run.bold, run.underline, run.font.size = True, True, Pt(15)
    right.paragraphs[0].alignment = c
    right.paragraphs[0].paragraph_format.space_after = Pt(0)
    _para(right, "", after=0)
    _para(right, "{{ date_line }}", italic=True, size=14, align=c, after=0)
    _para(doc, "", after=0)


def _signature(doc) -> None:
    table = doc.add_table(rows=1, cols=2)
    left, right = table.rows[0].cells
    left.width, right.width = Mm(80), Mm(85)
    p = left.paragraphs[0]
    run = p.add_run("Nơi nhận:")
    run.bold, run.italic, run.underline, run.font.size = True, True, True, Pt(12)
    p.paragraph_format.space_after = Pt(0)
    _para(left, "{%p for r in recipients %}", size=11, after=0)
    _para(left, "- {{ r }}{{ '.' if loop.last else ';' }}", size=11, after=0)
    _para(left, "{%p endfor %}", size=11, after=0)
    c = WD_ALIGN_PARAGRAPH.CENTER
    p = right.paragraphs[0]
    run = p.add_run("{{ signer_authority }}")
    run.bold, run.font.size = True, Pt(14)
    p.alignment = c
    p.paragraph_format.space_after = Pt(0)
    _para(right, "{{ signer_title }}", bold=True, align=c, after=0)
    for _ in range(4):
        _para(right, "", after=0)
    _para(right, "{{ signer_name }}", bold=True, align=c, after=0)


def _table(doc, headers: list[str], cells: list[str], loop: str, total: list[str] | None = None) -> None:
    """A table whose middle row repeats (docxtpl `{%tr %}` rows around it)."""
    rows = 4 + (1 if total else 0)
    table = doc.add_table(rows=rows, cols=len(headers))
    table.style = "Table Grid"
    table.alignment = WD_TABLE_ALIGNMENT.CENTER
    for cell, text in zip(table.rows[0].cells, headers, strict=True):
        _cell_text(cell, text, bold=True)
    _cell_text(table.rows[1].cells[0], "{%tr for " + loop + " %}")
    for i, (cell, text) in enumerate(zip(table.rows[2].cells, cells, strict=True)):
        _cell_text(cell, text, align=WD_ALIGN_PARAGRAPH.LEFT if i == 1 else WD_ALIGN_PARAGRAPH.CENTER)
    _cell_text(table.rows[3].cells[0], "{%tr endfor %}")
    if total:
        for cell, text in zip(table.rows[4].cells, total, strict=True):
            _cell_text(cell, text, bold=True)


def monthly_report() -> Document:
    doc = _document()
    _header(doc)
    c, j = WD_ALIGN_PARAGRAPH.CENTER, WD_ALIGN_PARAGRAPH.JUSTIFY
    _para(doc, "BÁO CÁO", bold=True, size=15, align=c, after=0)
    _para(doc, "{{ subject }}", bold=True, align=c, after=0)
    _para(doc, "-----", align=c)
    _para(doc, "Kính gửi: {{ addressee }}", align=c)
    _para(
        doc,
        "Trong {{ period_label }} (từ ngày {{ start }} đến hết ngày {{ end }}), Trang thông tin điện tử đã đăng"
        " {{ counts.tin }} tin, {{ counts.bai }} bài và {{ counts.anh }} ảnh của cộng tác viên các đơn vị.",
        align=j,
        indent=True,
    )
    _para(doc, "1. Kết quả thực hiện chỉ tiêu tin, bài của các đơn vị", bold=True, align=j, indent=True)
    _para(
        doc,
        "{{ units_met.tin }}/{{ units_met.count }} đơn vị đạt chỉ tiêu tin trong tháng;"
        " {{ units_met.bai }}/{{ units_met.count }} đơn vị đạt chỉ tiêu bài của quý (tính đến hết kỳ này).",
        align=j,
        indent=True,
    )
    _table(
        doc,
        ["STT", "Đơn vị", "Tin/chỉ tiêu tháng", "Bài/chỉ tiêu quý", "Tin", "Bài"],
        [
            "{{ u.stt }}",
            "{{ u.name }}",
            "{{ u.tin }}/{{ u.tin_target }}",
            "{{ u.quarter_bai }}/{{ u.bai_target }}",
            "{{ u.tin_status }}",
            "{{ u.bai_status }}",
        ],
        "u in units",
    )
    _para(doc, "{{ chart }}", align=c)
    _para(doc, "Biểu đồ: số tin trong tháng và số bài trong quý của các đơn vị", italic=True, size=12, align=c)
    _para(doc, "2. Nhuận bút", bold=True, align=j, indent=True)
    _para(
        doc,
        "Tổng nhuận bút của kỳ: {{ total }} (bằng chữ: {{ total_in_words }}), chi trả cho {{ counts.people }}"
        " tác giả; thuế thu nhập cá nhân khấu trừ: {{ pit }}; thực nhận: {{ net }}. Dự kiến chi trả ngày"
        " {{ payment_date }}.",
        align=j,
        indent=True,
    )
    _para(doc, "")
    _signature(doc)
    return doc


def payment_request() -> Document:
    doc = _document()
    _header(doc)
    c, j = WD_ALIGN_PARAGRAPH.CENTER, WD_ALIGN_PARAGRAPH.JUSTIFY
    _para(doc, "TỜ TRÌNH", bold=True, size=15, align=c, after=0)
    _para(doc, "{{ subject }}", bold=True, align=c, after=0)
    _para(doc, "-----", align=c)
    _para(doc, "Kính gửi: {{ addressee }}", align=c)
    _para(
        doc,
        "Căn cứ chế độ nhuận bút hiện hành và kết quả đăng tin, bài trên Trang thông tin điện tử trong"
        " {{ period_label }} (từ ngày {{ start }} đến hết ngày {{ end }}), Ban Biên tập kính trình duyệt chi"
        " nhuận bút cho {{ counts.people }} tác giả với {{ counts.works }} tin, bài, ảnh như sau:",
        align=j,
        indent=True,
    )
    _table(
        doc,
        ["STT", "Thể loại", "Số lượng", "Thành tiền (đồng)"],
        ["{{ g.stt }}", "{{ g.label }}", "{{ g.quantity }}", "{{ g.amount }}"],
        "g in genres",
        total=["", "Tổng cộng", "{{ counts.works }}", "{{ total_plain }}"],
    )
    _para(doc, "")
    _para(doc, "Tổng số tiền đề nghị chi: {{ total }}.", align=j, indent=True)
    _para(doc, "(Bằng chữ: {{ total_in_words }}.)", italic=True, align=j, indent=True)
    _para(
        doc,
        "Trong đó thuế thu nhập cá nhân khấu trừ: {{ pit }}; số tiền thực nhận của các tác giả: {{ net }}."
        " Thời gian chi trả: ngày {{ payment_date }}. Kèm theo danh sách chi trả nhuận bút.",
        align=j,
        indent=True,
    )
    _para(doc, "Kính trình {{ addressee }} xem xét, phê duyệt.", align=j, indent=True)
    _signature(doc)
    return doc


def _save(doc, path: Path, title: str) -> None:
    """Saved byte for byte the same on every run: fixed properties and zip entry times."""
    doc.core_properties.title = title
    doc.core_properties.author = "toasoan"
    doc.core_properties.comments = "templates/reports/make_templates.py"
    raw = io.BytesIO()
    doc.save(raw)
    out = io.BytesIO()
    with zipfile.ZipFile(raw) as src, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            fixed = zipfile.ZipInfo(info.filename, date_time=(1980, 1, 1, 0, 0, 0))
            fixed.compress_type = zipfile.ZIP_DEFLATED
            dst.writestr(fixed, src.read(info.filename))
    path.write_bytes(out.getvalue())


def main() -> None:
    _save(monthly_report(), HERE / "bao_cao_thang.docx", "Báo cáo tháng")
    _save(payment_request(), HERE / "to_trinh_chi.docx", "Tờ trình đề nghị chi nhuận bút")


if __name__ == "__main__":
    main()
