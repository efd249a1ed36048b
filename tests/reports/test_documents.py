"""The period's documents, written for real and read back: the XLSX payment list cell by cell, the
two DOCX documents paragraph by paragraph, the chart image inside the report."""

import importlib.util
from dataclasses import replace
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path

import docx
import openpyxl
import pytest

from core.settings import load_settings
from reports.documents import (
    HEADER_ROW,
    MONTHLY_REPORT_TEMPLATE,
    PAYMENT_HEADERS,
    PAYMENT_REQUEST_TEMPLATE,
    ReportData,
    bar_chart_png,
    date_line,
    report_data,
    write_monthly_report,
    write_payment_list,
    write_payment_request,
)
from reports.periods import Calendar, Period
from reports.quotas import CountedItem, Targets, quota_rows
from reports.royalty import Author, RoyaltyItem, RoyaltyRules, compute_lines

pytestmark = pytest.mark.no_database  # the PostgreSQL pass of make test leaves it out

REPO = Path(__file__).resolve().parents[2]
SETTINGS = load_settings(REPO / "settings.toml")
D = Decimal
PERIOD = Period(2026, 12)


def make_data(pit: bool = False) -> ReportData:
    units = list(SETTINGS.units)
    counted = [
        CountedItem(1, "VP", "tin", date(2026, 12, 2)),
        CountedItem(2, "TC", "bai", date(2026, 12, 5)),
        CountedItem(3, "TC", "bai", date(2026, 12, 6), duplicate_of=2),
    ]
    rows = quota_rows(counted, units, PERIOD, date(2026, 12, 28), Calendar.from_settings(SETTINGS), Targets())
    items = [
        RoyaltyItem(
            1,
            "Hội nghị sơ kết & <triển khai>",
            "VP",
            "tin",
            D("1.5"),
            date(2026, 12, 2),
            (Author("Trần Thị B"),),
            photos=2,
        ),
        RoyaltyItem(
            2,
            "Nâng cao chất lượng sinh hoạt chi bộ",
            "TC",
            "bai",
            D(10),
            date(2026, 12, 5),
            (Author("Lê Văn C", D(1)), Author("Ngô Thị D", D(1))),
        ),
    ]
    rules = RoyaltyRules.from_settings(SETTINGS)
    if pit:
        rules = replace(rules, pit_enabled=True)
    lines = compute_lines(items, rules)
    return report_data(SETTINGS, PERIOD, rows, lines, date(2026, 12, 28))


def test_date_lines_take_leading_zeros_for_days_and_january_february() -> None:
    assert date_line("Vĩnh Long", date(2026, 12, 28)) == "Vĩnh Long, ngày 28 tháng 12 năm 2026"
    assert date_line("Vĩnh Long", date(2027, 1, 5)) == "Vĩnh Long, ngày 05 tháng 01 năm 2027"
    assert date_line("Trà Vinh", date(2026, 3, 3)) == "Trà Vinh, ngày 03 tháng 3 năm 2026"


def test_payment_list_xlsx_cell_by_cell(tmp_path: Path) -> None:
    data = make_data(pit=True)
    path = write_payment_list(data, tmp_path / "danh-sach.xlsx")
    ws = openpyxl.load_workbook(path).active
    assert ws["A1"].value == "ĐẢNG ỦY CÁC CƠ QUAN ĐẢNG TỈNH"
    assert ws["A2"].value == "BAN BIÊN TẬP TRANG THÔNG TIN ĐIỆN TỬ" and ws["A2"].font.b
    assert ws["H1"].value == "ĐẢNG CỘNG SẢN VIỆT NAM"
    assert ws["H2"].value == "Vĩnh Long, ngày 28 tháng 12 năm 2026"
    assert ws["A4"].value == "DANH SÁCH CHI TRẢ NHUẬN BÚT"
    assert ws["A5"].value == "Kỳ tháng 12/2026 (từ ngày 28/11/2026 đến hết ngày 27/12/2026)"
    assert [c.value for c in ws[HEADER_ROW]] == list(PAYMENT_HEADERS)
    assert PAYMENT_HEADERS[:4] == ("STT", "Họ tên / bút danh", "Đơn vị", "Tên tin/bài")
    first = [c.value for c in ws[HEADER_ROW + 1]]
    assert first[:5] == [1, "Trần Thị B", "Chi bộ Văn phòng Tỉnh ủy", "Hội nghị sơ kết & <triển khai>", "Tin"]
    assert first[5] == datetime(2026, 12, 2) and ws.cell(HEADER_ROW + 1, 6).number_format == "dd/mm/yyyy"
    assert Decimal(str(first[6])) == D("1.5")
    # 1,5 x 253.000 = 379.500 đ; Trần Thị B gets 379.500 + 253.000 (two photos) = 632.500 < 2.000.000: no tax.
    assert first[7:] == [379_500, 0, 379_500, None]
    for col in (8, 9, 10):
        assert ws.cell(HEADER_ROW + 1, col).number_format == "#,##0"
    photos = [c.value for c in ws[HEADER_ROW + 2]]
    assert photos[1] == "Trần Thị B" and photos[4] == "Ảnh (2 ảnh)" and photos[7] == 253_000
    # The bài at 10 = 2.530.000, split in two halves of 1.265.000: each person stays under 2.000.000.
    third, fourth = [c.value for c in ws[HEADER_ROW + 3]], [c.value for c in ws[HEADER_ROW + 4]]
    assert (third[1], third[7], fourth[1], fourth[7]) == ("Lê Văn C", 1_265_000, "Ngô Thị D", 1_265_000)
    total = [c.value for c in ws[HEADER_ROW + 5]]
    assert total[0] == "Tổng cộng" and total[7:10] == [3_162_500, 0, 3_162_500]
    assert ws.cell(HEADER_ROW + 5, 8).number_format == "#,##0"
    words = ws.cell(HEADER_ROW + 7, 1).value
    assert words == "Tổng số tiền (bằng chữ): Ba triệu một trăm sáu mươi hai nghìn năm trăm đồng."
    assert ws.page_setup.orientation == "landscape" and ws.page_setup.paperSize is not None
    assert int(ws.page_setup.paperSize) == 9
    assert ws.print_title_rows == f"${HEADER_ROW}:${HEADER_ROW}"


def test_payment_list_with_tax_withheld(tmp_path: Path) -> None:
    data = make_data()
    rules = replace(RoyaltyRules.from_settings(SETTINGS), pit_enabled=True, pit_threshold=D(1_000_000))
    from reports.royalty import withhold

    data = replace(data, lines=tuple(withhold(data.lines, rules)))
    ws = openpyxl.load_workbook(write_payment_list(data, tmp_path / "x.xlsx")).active
    third = [c.value for c in ws[HEADER_ROW + 3]]
    assert third[7:10] == [1_265_000, 126_500, 1_138_500]
    total = [c.value for c in ws[HEADER_ROW + 5]]
    assert total[7:10] == [3_162_500, 253_000, 2_909_500]
    assert ws.cell(HEADER_ROW + 8, 1).value == "Thực nhận (bằng chữ): Hai triệu chín trăm lẻ chín nghìn năm trăm đồng."


def _texts(document: docx.document.Document) -> list[str]:
    return [p.text for p in document.paragraphs]


def test_monthly_report_docx(tmp_path: Path) -> None:
    data = make_data()
    data = replace(data, units=(replace(data.units[0], name="Chi bộ A & B <thử>"), *data.units[1:]))
    document = docx.Document(str(write_monthly_report(data, tmp_path / "bao-cao.docx")))
    header = document.tables[0].rows[0].cells
    left = [p.text for p in header[0].paragraphs]
    right = [p.text for p in header[1].paragraphs]
    assert left == ["ĐẢNG ỦY CÁC CƠ QUAN ĐẢNG TỈNH", "BAN BIÊN TẬP TRANG THÔNG TIN ĐIỆN TỬ", "*", "Số      -BC/BBT"]
    assert header[0].paragraphs[1].runs[0].bold
    assert right[0] == "ĐẢNG CỘNG SẢN VIỆT NAM" and header[1].paragraphs[0].runs[0].bold
    assert right[-1] == "Vĩnh Long, ngày 28 tháng 12 năm 2026" and header[1].paragraphs[-1].runs[0].italic
    texts = _texts(document)
    assert "BÁO CÁO" in texts
    assert "Kết quả thực hiện chỉ tiêu tin, bài và nhuận bút tháng 12/2026" in texts
    assert "Kính gửi: Ban Thường vụ Đảng ủy" in texts
    assert any("từ ngày 28/11/2026 đến hết ngày 27/12/2026" in t and "1 tin, 1 bài và 2 ảnh" in t for t in texts)
    assert any("3.162.500 đ" in t and "Ba triệu một trăm sáu mươi hai nghìn năm trăm đồng" in t for t in texts)
    assert any("ngày 05/01/2027" in t for t in texts)
    table = document.tables[1]
    rows = [[c.text for c in r.cells] for r in table.rows]
    assert rows[0] == ["STT", "Đơn vị", "Tin/chỉ tiêu tháng", "Bài/chỉ tiêu quý", "Tin", "Bài"]
    assert rows[1] == ["1", "Chi bộ A & B <thử>", "1/1", "0/1", "Đạt", "Chưa đạt"]
    assert rows[3] == ["3", "Chi bộ Ban Tổ chức", "0/1", "1/1", "Chưa đạt", "Đạt"]  # the duplicate counted once
    assert len(rows) == 1 + len(SETTINGS.units)
    # The chart: one inline PNG picture.
    assert len(document.inline_shapes) == 1
    blip = document.inline_shapes[0]._inline.graphic.graphicData.pic.blipFill.blip.embed
    assert document.part.related_parts[blip].blob[:8] == b"\x89PNG\r\n\x1a\n"
    signature = document.tables[2].rows[0].cells
    assert [p.text for p in signature[0].paragraphs] == [
        "Nơi nhận:",
        "- Ban Thường vụ Đảng ủy (để báo cáo);",
        "- Văn phòng Đảng ủy (kế toán);",
        "- Lưu Ban Biên tập.",
    ]
    signer = [p.text for p in signature[1].paragraphs if p.text]
    assert signer == ["T/M BAN BIÊN TẬP", "TRƯỞNG BAN", "Nguyễn Văn A"]
    assert document.styles["Normal"].font.name == "Times New Roman"
    section = document.sections[0]
    assert (round(section.left_margin.mm), round(section.right_margin.mm), round(section.page_width.mm)) == (
        30,
        15,
        210,
    )


def test_payment_request_docx(tmp_path: Path) -> None:
    document = docx.Document(str(write_payment_request(make_data(), tmp_path / "to-trinh.docx")))
    left = [p.text for p in document.tables[0].rows[0].cells[0].paragraphs]
    assert left[-1] == "Số      -TTr/BBT"
    texts = _texts(document)
    assert "TỜ TRÌNH" in texts and "Về việc đề nghị chi trả nhuận bút tháng 12/2026" in texts
    assert "Kính gửi: Thường trực Đảng ủy" in texts
    assert "(Bằng chữ: Ba triệu một trăm sáu mươi hai nghìn năm trăm đồng.)" in texts
    assert any("cho 3 tác giả với 4 tin, bài, ảnh" in t for t in texts)
    rows = [[c.text for c in r.cells] for r in document.tables[1].rows]
    assert rows == [
        ["STT", "Thể loại", "Số lượng", "Thành tiền (đồng)"],
        ["1", "Tin", "1", "379.500"],
        ["2", "Ảnh", "2", "253.000"],
        ["3", "Bài", "1", "2.530.000"],
        ["", "Tổng cộng", "4", "3.162.500"],
    ]
    signer = [p.text for p in document.tables[2].rows[0].cells[1].paragraphs if p.text]
    assert signer[-1] == "Nguyễn Văn A"


def test_a_misspelt_tag_in_an_edited_template_fails_loudly(tmp_path: Path) -> None:
    from docx import Document

    bad = Document()
    bad.add_paragraph("{{ signer_nmae }}")
    bad.save(str(tmp_path / "bad.docx"))
    with pytest.raises(Exception, match="signer_nmae"):
        write_payment_request(make_data(), tmp_path / "out.docx", template=tmp_path / "bad.docx")


def test_chart_is_a_png_even_without_units() -> None:
    data = make_data()
    assert bar_chart_png(data.units)[:4] == b"\x89PNG"
    assert bar_chart_png(())[:4] == b"\x89PNG"


def test_the_committed_templates_are_what_the_script_makes(tmp_path: Path) -> None:
    spec = importlib.util.spec_from_file_location("make_templates", REPO / "templates/reports/make_templates.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    module._save(module.monthly_report(), tmp_path / "a.docx", "Báo cáo tháng")
    module._save(module.payment_request(), tmp_path / "b.docx", "Tờ trình đề nghị chi nhuận bút")
    assert (tmp_path / "a.docx").read_bytes() == MONTHLY_REPORT_TEMPLATE.read_bytes()
    assert (tmp_path / "b.docx").read_bytes() == PAYMENT_REQUEST_TEMPLATE.read_bytes()


def test_an_empty_period_still_makes_every_document(tmp_path: Path) -> None:
    data = replace(make_data(), lines=())
    ws = openpyxl.load_workbook(write_payment_list(data, tmp_path / "x.xlsx")).active
    assert ws.cell(HEADER_ROW + 1, 1).value == "Tổng cộng" and ws.cell(HEADER_ROW + 1, 8).value == 0
    assert ws.cell(HEADER_ROW + 3, 1).value == "Tổng số tiền (bằng chữ): Không đồng."
    texts = _texts(docx.Document(str(write_payment_request(data, tmp_path / "t.docx"))))
    assert "(Bằng chữ: Không đồng.)" in texts
    assert docx.Document(str(write_monthly_report(data, tmp_path / "b.docx"))).inline_shapes
