"""The period's documents from one plain data structure: the payment list (XLSX), the monthly report
to the Standing Committee and the payment request (DOCX from the Word templates in
templates/reports/, made by make_templates.py), and the bar chart the report shows (PNG, Pillow).

Nothing here reads the database: `ReportData` is built from settings, quota rows and royalty lines
(`report_data`), and each writer only turns it into a file.
"""

from __future__ import annotations

import io
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

from core.formats import format_date, format_money
from core.money import amount_in_words
from reports.periods import Calendar, Period, bounds, payment_date
from reports.quotas import STATUS_LABELS, QuotaRow
from reports.royalty import RoyaltyLine, Totals, person_key, totals

if TYPE_CHECKING:
    from core.settings import Settings

TEMPLATES = Path(__file__).resolve().parent.parent / "templates" / "reports"
MONTHLY_REPORT_TEMPLATE = TEMPLATES / "bao_cao_thang.docx"
PAYMENT_REQUEST_TEMPLATE = TEMPLATES / "to_trinh_chi.docx"
# Fonts with Vietnamese letters for the chart, first found wins (Debian: fonts-dejavu-core).
CHART_FONTS = (
    "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf",
    "/usr/share/fonts/truetype/liberation2/LiberationSans-Regular.ttf",
    "/usr/share/fonts/truetype/liberation/LiberationSans-Regular.ttf",
)


@dataclass(frozen=True)
class ReportData:
    period: Period
    start: date  # first day of the period
    end: date  # last day of the period (the day before the tally day)
    document_date: date
    payment_date: date
    letterhead_upper: str
    letterhead_lower: str
    place: str
    report_symbol: str
    request_symbol: str
    report_to: str
    request_to: str
    signer_authority: str
    signer_title: str
    signer_name: str
    recipients: tuple[str, ...]
    units: tuple[QuotaRow, ...]
    lines: tuple[RoyaltyLine, ...]
    unit_names: Mapping[str, str] = field(default_factory=dict)
    number: str = "     "  # the document number is written in by the clerk (văn thư)

    @property
    def totals(self) -> Totals:
        return totals(self.lines)


def report_data(
    settings: Settings,
    period: Period,
    units: Sequence[QuotaRow],
    lines: Sequence[RoyaltyLine],
    document_date: date,
) -> ReportData:
    cal = Calendar.from_settings(settings)
    b = bounds(period, cal)
    r = settings.report
    return ReportData(
        period=period,
        start=b.start.date(),
        end=b.end.date() - timedelta(days=1),
        document_date=document_date,
        payment_date=payment_date(period, cal),
        letterhead_upper=r.letterhead_upper,
        letterhead_lower=r.letterhead_lower,
        place=r.place,
        report_symbol=r.report_symbol,
        request_symbol=r.request_symbol,
        report_to=r.report_to,
        request_to=r.request_to,
        signer_authority=r.signer_authority,
        signer_title=r.signer_title,
        signer_name=r.signer_name,
        recipients=tuple(r.recipients),
        units=tuple(units),
        lines=tuple(lines),
        unit_names={u.code: u.name for u in settings.units},
    )


def date_line(place: str, day: date) -> str:
    """'Vĩnh Long, ngày 05 tháng 01 năm 2027': days below 10 and months 1-2 take a leading zero."""
    month = f"{day.month:02d}" if day.month <= 2 else str(day.month)
    return f"{place}, ngày {day.day:02d} tháng {month} năm {day.year}"


def plain_money(amount: Decimal) -> str:
    """'1.234.000' (no currency sign: in tables headed 'đồng')."""
    return format_money(amount).removesuffix(" đ")


# --------------------------------------------------------------------------------------- chart
@cache
def _font_path() -> str | None:
    return next((p for p in CHART_FONTS if Path(p).is_file()), None)


def _font(size: int) -> Any:
    from PIL import ImageFont

    path = _font_path()
    return ImageFont.truetype(path, size) if path else ImageFont.load_default(size)


def bar_chart_png(units: Sequence[QuotaRow], width: int = 1600, height: int = 800) -> bytes:
    """Grouped bars per unit: tin this month and bài this quarter, with the targets as lines."""
    from PIL import Image, ImageDraw

    img = Image.new("RGB", (width, height), "white")
    draw = ImageDraw.Draw(img)
    small, label = _font(22), _font(26)
    left, right, top, bottom = 90, 40, 90, 110
    plot_w, plot_h = width - left - right, height - top - bottom
    targets = [u.tin_target for u in units] + [u.bai_target for u in units]
    peak = max([1, *targets, *(u.tin for u in units), *(u.quarter_bai for u in units)])
    scale = plot_h / (peak + 0.5 * (peak >= 1))
    colors = {"tin": (31, 78, 140), "bai": (200, 80, 40)}
    # axes and grid
    for v in range(peak + 1):
        y = top + plot_h - round(v * scale)
        draw.line([(left, y), (width - right, y)], fill=(225, 225, 225), width=1)
        draw.text((left - 15, y), str(v), fill="black", font=small, anchor="rm")
    draw.line([(left, top), (left, top + plot_h)], fill="black", width=2)
    draw.line([(left, top + plot_h), (width - right, top + plot_h)], fill="black", width=2)
    group = plot_w / max(1, len(units))
    bar = max(6, min(60, round(group * 0.3)))
    for i, u in enumerate(units):
        cx = left + group * (i + 0.5)
        for j, (kind, value) in enumerate((("tin", u.tin), ("bai", u.quarter_bai))):
            x0 = round(cx - bar + j * bar)
            y0 = top + plot_h - round(value * scale)
            if value:
                draw.rectangle([x0, y0, x0 + bar - 2, top + plot_h - 1], fill=colors[kind])
            draw.text((x0 + bar // 2, y0 - 6), str(value), fill="black", font=small, anchor="md")
        draw.text((round(cx), top + plot_h + 12), u.code, fill="black", font=small, anchor="ma")
    lines = {"tin": units[0].tin_target if units else 0, "bai": units[0].bai_target if units else 0}
    for kind, target in lines.items():
        if target:
            y = top + plot_h - round(target * scale)
            # One grey line when both targets are the same number, else one line in each bar's colour.
            color = (90, 90, 90) if lines["tin"] == lines["bai"] else colors[kind]
            for x in range(left, width - right, 24):
                draw.line([(x, y), (min(x + 12, width - right), y)], fill=color, width=3)
    draw.text((width // 2, 20), "Tin trong tháng và bài trong quý theo đơn vị", fill="black", font=label, anchor="ma")
    lx = left + 10
    for kind, text in (("tin", "Tin trong tháng"), ("bai", "Bài trong quý")):
        draw.rectangle([lx, height - 50, lx + 28, height - 22], fill=colors[kind])
        draw.text((lx + 38, height - 36), text, fill="black", font=small, anchor="lm")
        lx += 300
    draw.text((lx, height - 36), "- - - chỉ tiêu", fill="black", font=small, anchor="lm")
    out = io.BytesIO()
    img.save(out, format="PNG")  # optimize=True: 4x the time for 7% fewer bytes
    return out.getvalue()


# ---------------------------------------------------------------------------------------- XLSX
PAYMENT_HEADERS = (
    "STT",
    "Họ tên / bút danh",
    "Đơn vị",
    "Tên tin/bài",
    "Thể loại",
    "Ngày đăng",
    "Hệ số",
    "Thành tiền",
    "Thuế TNCN",
    "Thực nhận",
    "Ký nhận",
)
MONEY_FORMAT = "#,##0"
HEADER_ROW = 7


def _unit_name(data: ReportData, code: str | None) -> str:
    if not code:
        return ""
    return data.unit_names.get(code, code)


def _genre_text(line: RoyaltyLine) -> str:
    return f"{line.genre_label} ({line.quantity} ảnh)" if line.kind == "anh" else line.genre_label


def write_payment_list(data: ReportData, path: Path) -> Path:
    """The accountant's payment list: letterhead, title, one row per line, totals, total in words."""
    from openpyxl import Workbook
    from openpyxl.cell.cell import Cell, MergedCell
    from openpyxl.styles import Alignment, Border, Font, NamedStyle, Side
    from openpyxl.utils import get_column_letter
    from openpyxl.worksheet.worksheet import Worksheet

    wb = Workbook()
    ws = wb.active
    assert isinstance(ws, Worksheet)  # a new workbook's one sheet
    ws.title = f"Nhuận bút {data.period}"
    font = "Times New Roman"
    ncol = len(PAYMENT_HEADERS)
    last = get_column_letter(ncol)
    center = Alignment(horizontal="center", vertical="center", wrap_text=True)

    def put(cell: str, value: Any, *, bold: bool = False, italic: bool = False, size: int = 12) -> None:
        ws[cell] = value
        ws[cell].font = Font(name=font, bold=bold, italic=italic, size=size)
        ws[cell].alignment = center

    ws.merge_cells("A1:D1")
    put("A1", data.letterhead_upper)
    ws.merge_cells("A2:D2")
    put("A2", data.letterhead_lower, bold=True)
    ws.merge_cells(f"H1:{last}1")
    put("H1", "ĐẢNG CỘNG SẢN VIỆT NAM", bold=True)
    ws.merge_cells(f"H2:{last}2")
    put("H2", date_line(data.place, data.document_date), italic=True)
    ws.merge_cells(f"A4:{last}4")
    put("A4", "DANH SÁCH CHI TRẢ NHUẬN BÚT", bold=True, size=14)
    ws.merge_cells(f"A5:{last}5")
    put(
        "A5",
        f"Kỳ {data.period.label} (từ ngày {format_date(data.start)} đến hết ngày {format_date(data.end)})",
        italic=True,
    )
    thin = Side(style="thin")
    border = Border(left=thin, right=thin, top=thin, bottom=thin)
    cell: Cell | MergedCell  # the totals row's first seven are merged
    for col, header in enumerate(PAYMENT_HEADERS, 1):
        cell = ws.cell(row=HEADER_ROW, column=col, value=header)
        cell.font = Font(name=font, bold=True, size=12)
        cell.alignment = center
        cell.border = border
    # A named style per kind of column, registered once: setting font, border and alignment cell by
    # cell made openpyxl hash new style objects 30,000 times for a thousand lines (0.6 s).
    for name, wrap, number_format in (
        ("dong", False, "General"),
        ("dong-xuong-dong", True, "General"),
        ("dong-ngay", False, "dd/mm/yyyy"),
        ("dong-he-so", False, "0.0#"),
        ("dong-tien", False, MONEY_FORMAT),
    ):
        style = NamedStyle(name=name, number_format=number_format, border=border)
        style.font = Font(name=font, size=12)
        style.alignment = Alignment(vertical="center", wrap_text=wrap)
        wb.add_named_style(style)
    column_style = ["dong", *["dong-xuong-dong"] * 4, "dong-ngay", "dong-he-so", *["dong-tien"] * 3, "dong"]
    row = HEADER_ROW
    for stt, line in enumerate(data.lines, 1):
        row += 1
        values: list[Any] = [
            stt,
            line.author,
            _unit_name(data, line.unit),
            line.title,
            _genre_text(line),
            line.published_on,
            line.coefficient,
            int(line.amount),
            int(line.pit),
            int(line.net),
            "",
        ]
        for col, value in enumerate(values, 1):
            ws.cell(row=row, column=col, value=value).style = column_style[col - 1]
    row += 1
    t = data.totals
    ws.merge_cells(start_row=row, start_column=1, end_row=row, end_column=7)
    ws.cell(row=row, column=1, value="Tổng cộng")
    for col, value in ((8, t.amount), (9, t.pit), (10, t.net)):
        ws.cell(row=row, column=col, value=int(value)).number_format = MONEY_FORMAT
    for col in range(1, ncol + 1):
        cell = ws.cell(row=row, column=col)
        cell.font = Font(name=font, bold=True, size=12)
        cell.border = border
    ws.cell(row=row, column=1).alignment = center
    row += 2
    ws.merge_cells(start_row=row, start_column=1, end_row=row, end_column=ncol)
    ws.cell(row=row, column=1, value=f"Tổng số tiền (bằng chữ): {amount_in_words(t.amount)}.")
    ws.cell(row=row, column=1).font = Font(name=font, italic=True, size=12)
    if t.pit:
        row += 1
        ws.merge_cells(start_row=row, start_column=1, end_row=row, end_column=ncol)
        ws.cell(row=row, column=1, value=f"Thực nhận (bằng chữ): {amount_in_words(t.net)}.")
        ws.cell(row=row, column=1).font = Font(name=font, italic=True, size=12)
    row += 2
    for col, text in ((2, "NGƯỜI LẬP BIỂU"), (5, "KẾ TOÁN"), (9, data.signer_title or "THỦ TRƯỞNG ĐƠN VỊ")):
        cell = ws.cell(row=row, column=col, value=text)
        cell.font = Font(name=font, bold=True, size=12)
        cell.alignment = center
    if data.signer_name:
        cell = ws.cell(row=row + 5, column=9, value=data.signer_name)
        cell.font = Font(name=font, bold=True, size=12)
        cell.alignment = center
    for col, width in zip(range(1, ncol + 1), (6, 24, 22, 40, 12, 12, 8, 14, 12, 14, 12), strict=True):
        ws.column_dimensions[get_column_letter(col)].width = width
    ws.row_dimensions[HEADER_ROW].height = 32
    ws.page_setup.orientation = "landscape"
    ws.page_setup.paperSize = ws.PAPERSIZE_A4
    ws.page_setup.fitToWidth = 1
    ws.page_setup.fitToHeight = 0
    fit = ws.sheet_properties.pageSetUpPr
    assert fit is not None  # a new sheet's properties come with one
    fit.fitToPage = True
    ws.print_title_rows = f"{HEADER_ROW}:{HEADER_ROW}"
    ws.print_options.horizontalCentered = True
    ws.page_margins.left = ws.page_margins.right = 0.5
    ws.page_margins.top = ws.page_margins.bottom = 0.6
    ws.freeze_panes = f"A{HEADER_ROW + 1}"
    wb.properties.title = f"Danh sách chi trả nhuận bút {data.period}"
    wb.properties.creator = "toasoan"
    path = Path(path)
    wb.save(path)
    return path


# ---------------------------------------------------------------------------------------- DOCX
def _common_context(data: ReportData) -> dict[str, Any]:
    t = data.totals
    return {
        "letterhead_upper": data.letterhead_upper,
        "letterhead_lower": data.letterhead_lower,
        "number": data.number,
        "date_line": date_line(data.place, data.document_date),
        "period_label": data.period.label,
        "start": format_date(data.start),
        "end": format_date(data.end),
        "payment_date": format_date(data.payment_date),
        "counts": {
            "tin": len({line.item_id for line in data.lines if line.kind == "tin"}),
            "bai": len({line.item_id for line in data.lines if line.kind == "bai"}),
            "anh": sum(line.quantity for line in _first_share(data.lines) if line.kind == "anh"),
            "works": len(_first_share(data.lines)),
            "people": len({person_key(line.author) for line in data.lines if line.author}),
        },
        "total": format_money(t.amount),
        "total_plain": plain_money(t.amount),
        "pit": format_money(t.pit),
        "net": format_money(t.net),
        "total_in_words": amount_in_words(t.amount),
        "recipients": list(data.recipients),
        "signer_authority": data.signer_authority,
        "signer_title": data.signer_title,
        "signer_name": data.signer_name,
    }


def _first_share(lines: Sequence[RoyaltyLine]) -> list[RoyaltyLine]:
    """One line per (item, genre): a shared item's split lines counted once."""
    seen: set[tuple[int, str]] = set()
    out = []
    for line in lines:
        if (line.item_id, line.kind) not in seen:
            seen.add((line.item_id, line.kind))
            out.append(line)
    return out


def monthly_report_context(data: ReportData) -> dict[str, Any]:
    ctx = _common_context(data)
    ctx.update(
        symbol=data.report_symbol,
        addressee=data.report_to,
        subject=f"Kết quả thực hiện chỉ tiêu tin, bài và nhuận bút {data.period.label}",
        units=[
            {
                "stt": i,
                "code": u.code,
                "name": u.name,
                "tin": u.tin,
                "tin_target": u.tin_target,
                "quarter_bai": u.quarter_bai,
                "bai_target": u.bai_target,
                "tin_status": STATUS_LABELS[u.tin_status],
                "bai_status": STATUS_LABELS[u.bai_status],
            }
            for i, u in enumerate(data.units, 1)
        ],
        units_met={
            "tin": sum(u.tin_met for u in data.units),
            "bai": sum(u.bai_met for u in data.units),
            "count": len(data.units),
        },
    )
    return ctx


def payment_request_context(data: ReportData) -> dict[str, Any]:
    ctx = _common_context(data)
    genres: dict[str, dict[str, Any]] = {}
    for line in data.lines:
        g = genres.setdefault(line.kind, {"label": line.genre_label, "quantity": 0, "amount": Decimal(0), "ids": set()})
        g["amount"] += line.amount
        if line.item_id not in g["ids"]:
            g["ids"].add(line.item_id)
            g["quantity"] += line.quantity
    ctx.update(
        symbol=data.request_symbol,
        addressee=data.request_to,
        subject=f"Về việc đề nghị chi trả nhuận bút {data.period.label}",
        genres=[
            {"stt": i, "label": g["label"], "quantity": g["quantity"], "amount": plain_money(g["amount"])}
            for i, g in enumerate(genres.values(), 1)
        ],
    )
    ctx["counts"]["works"] = sum(g["quantity"] for g in genres.values())
    return ctx


def _render(template: Path, context: dict[str, Any], path: Path, chart: bytes | None = None) -> Path:
    from docx.shared import Mm
    from docxtpl import DocxTemplate, InlineImage
    from jinja2 import StrictUndefined
    from jinja2.sandbox import SandboxedEnvironment

    tpl = DocxTemplate(str(template))
    context = dict(context)
    if chart is not None:
        context["chart"] = InlineImage(tpl, io.BytesIO(chart), width=Mm(160))
    # The office edits the templates in Word: a sandbox keeps a template to reading the context, and a
    # misspelt tag fails loudly instead of printing nothing. Values are escaped for the XML they land in.
    env = SandboxedEnvironment(autoescape=True, undefined=StrictUndefined)
    tpl.render(context, jinja_env=env, autoescape=True)
    path = Path(path)
    tpl.save(str(path))
    return path


def write_monthly_report(data: ReportData, path: Path, template: Path = MONTHLY_REPORT_TEMPLATE) -> Path:
    return _render(template, monthly_report_context(data), path, chart=bar_chart_png(data.units))


def write_payment_request(data: ReportData, path: Path, template: Path = PAYMENT_REQUEST_TEMPLATE) -> Path:
    return _render(template, payment_request_context(data), path)
