"""The reports page (/bao-cao): counts from real drafts in a real SQLite database, money only for the
chief and the admin, the payment list as a real XLSX, a bad period as a Vietnamese 404."""

from __future__ import annotations

import io
from datetime import UTC, datetime
from decimal import Decimal
from urllib.parse import unquote

import openpyxl
from bs4 import BeautifulSoup

from core.db import transaction
from core.models import Draft
from reports.periods import Period
from tests.review.webkit import Office

PERIOD = "2026-07"  # 28/06/2026 .. 27/07/2026 (Asia/Ho_Chi_Minh), quarter III


def _at(day: int, month: int = 7) -> datetime:
    return datetime(2026, month, day, 3, tzinfo=UTC)


def _seed(office: Office) -> None:
    """VP: two tin live this month (one meets the target); TC: one bài approved but not yet live."""
    rows = [
        (9001, "published", "tin", "VP", Decimal("1.50"), _at(2), "Trần Thị B", "Tin hội nghị sơ kết"),
        (9002, "published", "tin", "VP", Decimal(1), _at(10), "Trần Thị B", "Tin tập huấn nghiệp vụ"),
        (9003, "approved", "bai", "TC", Decimal(2), _at(5), "Lê Văn C", "Bài chưa lên trang"),
        (9004, "rejected", "tin", "CD", Decimal(1), _at(6), "X", "Tin bị từ chối"),
    ]
    with transaction(office.engine) as s:
        for id_, status, kind, unit, coef, at, byline, title in rows:
            live = at if status == "published" else None
            s.add(
                Draft(
                    id=id_,
                    tracking_code=f"BC{id_}",
                    status=status,
                    kind=kind,
                    unit_code=unit,
                    coefficient=coef,
                    decided_at=at,
                    published_at=live,
                    byline=byline,
                    title=title,
                )
            )


def _row(html: str, code: str) -> list[str]:
    row = BeautifulSoup(html, "html.parser").find(id=f"don-vi-{code}")
    assert row is not None, code
    return [c.get_text(" ", strip=True) for c in row.find_all(["th", "td"])]


def test_the_page_shows_each_units_counts_and_status_from_real_drafts(office: Office) -> None:
    _seed(office)
    r = office.signed_in("viewer").get(f"/bao-cao/{PERIOD}")
    assert r.status_code == 200
    assert "Báo cáo tháng 07/2026" in r.text and "từ 28/06/2026 đến 27/07/2026" in r.text
    assert _row(r.text, "VP") == ["Chi bộ Văn phòng", "2/1", "Đạt", "0/1", "Chưa đạt"]
    # Dated by going live ([calendar] count_by = "published"): the approved bài does not count yet.
    assert _row(r.text, "TC") == ["Chi bộ Ban Tổ chức", "0/1", "Chưa đạt", "0/1", "Chưa đạt"]
    assert _row(r.text, "CD")[1] == "0/1"  # rejected items never count
    assert '<svg class="chart"' in r.text
    assert 'href="/bao-cao/2026-06"' in r.text and 'href="/bao-cao/2026-08"' in r.text


def test_money_is_hidden_from_viewers_and_editors_and_shown_to_the_chief(office: Office) -> None:
    _seed(office)
    for role in ("viewer", "editor"):
        html = office.signed_in(role).get(f"/bao-cao/{PERIOD}").text
        assert "Nhuận bút" not in html and " đ<" not in html and "danh-sach-chi-tra" not in html, role
        assert "Tin hội nghị sơ kết" not in html, role
    html = office.signed_in("chief").get(f"/bao-cao/{PERIOD}").text
    page = BeautifulSoup(html, "html.parser")
    table = page.find("table", class_="royalty")
    assert table is not None
    titles = [a.get_text() for a in table.select("tbody a")]
    assert titles == ["Tin hội nghị sơ kết", "Tin tập huấn nghiệp vụ"]
    total = page.select_one("tfoot .total")
    assert total is not None and total.get_text().endswith(" đ") and "." in total.get_text()
    assert "Bằng chữ:" in html and "đồng" in html
    assert 'href="/bao-cao/2026-07/to-trinh.docx"' in html


def test_the_payment_list_downloads_as_an_xlsx_with_the_lines(office: Office) -> None:
    _seed(office)
    r = office.signed_in("chief").get(f"/bao-cao/{PERIOD}/danh-sach-chi-tra.xlsx")
    assert r.status_code == 200
    disposition = r.headers["content-disposition"]
    assert disposition.startswith("attachment;") and 'filename="danh-sach-chi-tra-2026-07.xlsx"' in disposition
    assert unquote(disposition.split("filename*=UTF-8''")[1]) == "danh-sach-chi-tra-2026-07.xlsx"
    ws = openpyxl.load_workbook(io.BytesIO(r.content)).active
    cells = [str(c.value) for row in ws.iter_rows() for c in row if c.value is not None]
    assert any("Tin hội nghị sơ kết" in c for c in cells) and any("Tin tập huấn nghiệp vụ" in c for c in cells)
    assert not any("Bài chưa lên trang" in c for c in cells)
    assert office.signed_in("editor").get(f"/bao-cao/{PERIOD}/danh-sach-chi-tra.xlsx").status_code == 403


def test_an_invalid_period_is_a_vietnamese_404(office: Office) -> None:
    browser = office.signed_in("viewer")
    for bad in ("2026-13", "2026-7", "thang-bay"):
        r = browser.get(f"/bao-cao/{bad}")
        assert r.status_code == 404, bad
        assert "không hợp lệ" in r.text and "ví dụ 2026-12" in r.text
    assert browser.get("/bao-cao/2026-13/to-trinh.docx").status_code == 403  # money first: no hint to a viewer


def test_the_current_period_redirects_and_the_navigation_links_the_page(office: Office) -> None:
    browser = office.signed_in("viewer")
    r = browser.get("/bao-cao")
    assert r.status_code == 303 and r.headers["location"].startswith("/bao-cao/20")
    assert browser.get(r.headers["location"]).status_code == 200
    assert 'href="/bao-cao"' in browser.get("/").text


def test_the_admin_closes_the_chief_pays_and_a_reopen_needs_a_reason(office: Office) -> None:
    _seed(office)
    admin, chief, viewer = (office.signed_in(r) for r in ("admin", "chief", "viewer"))
    # The form is there for the admin only, and only once the tally day has passed.
    assert 'action="/bao-cao/2026-07/chot"' in admin.get(f"/bao-cao/{PERIOD}").text
    assert "/chot" not in chief.get(f"/bao-cao/{PERIOD}").text

    r = admin.post(f"/bao-cao/{PERIOD}/chot", {"csrf_token": admin.csrf})
    assert r.status_code == 303 and r.headers["location"] == f"/bao-cao/{PERIOD}?tb=closed"
    html = admin.get(r.headers["location"]).text
    assert "Đã chốt kỳ" in html and "Kỳ đã chốt" in html and 'action="/bao-cao/2026-07/mo-lai"' in html

    # Frozen: a coefficient changed afterwards does not change the closed month.
    before = BeautifulSoup(chief.get(f"/bao-cao/{PERIOD}").text, "html.parser").select_one("tfoot .total")
    with transaction(office.engine) as s:
        d = s.get(Draft, 9001)
        assert d is not None
        d.coefficient = Decimal(3)
    after = BeautifulSoup(chief.get(f"/bao-cao/{PERIOD}").text, "html.parser").select_one("tfoot .total")
    assert before is not None and after is not None and before.get_text() == after.get_text()
    # The item's page says so where its royalty is split: a new split no longer moves the stored lines.
    assert "Kỳ nhuận bút tháng 07/2026 đã chốt" in office.signed_in("editor").get("/drafts/9001").text
    assert "đã chốt" not in office.signed_in("editor").get("/drafts/9003").text  # approved, not live: not held

    r = chief.post(f"/bao-cao/{PERIOD}/chi-tra", {"csrf_token": chief.csrf, "paid_on": "2026-08-04"})
    assert r.status_code == 303
    page = BeautifulSoup(chief.get(f"/bao-cao/{PERIOD}").text, "html.parser")
    paid = [tr.find_all("td")[-1].get_text(strip=True) for tr in page.select("table.royalty tbody tr")]
    assert paid == ["04/08/2026", "04/08/2026"]
    assert "Mọi dòng của kỳ đã được chi trả." in str(page)

    r = admin.post(f"/bao-cao/{PERIOD}/mo-lai", {"csrf_token": admin.csrf, "reason": "  "})
    assert r.status_code == 409 and "lý do" in r.text.lower()
    r = admin.post(f"/bao-cao/{PERIOD}/mo-lai", {"csrf_token": admin.csrf, "reason": "Sửa hệ số"})
    assert r.status_code == 409 and "đã chi" in r.text  # paid lines: corrected in a later period
    assert "Kỳ đã chốt" in viewer.get(f"/bao-cao/{PERIOD}").text


def test_the_content_orientation_is_saved_by_the_chief_and_shown_to_everyone(office: Office) -> None:
    chief, viewer = office.signed_in("chief"), office.signed_in("viewer")
    text = "Tuyên truyền <b>Đại hội</b> Đảng bộ tỉnh"
    r = chief.post("/bao-cao/2027-01/dinh-huong", {"csrf_token": chief.csrf, "orientation": text})
    assert r.status_code == 303
    html = viewer.get("/bao-cao/2027-01").text
    div = BeautifulSoup(html, "html.parser").select_one("#dinh-huong .orientation")
    assert div is not None and div.get_text() == text  # shown as text, never as markup
    section = BeautifulSoup(html, "html.parser").select_one("#dinh-huong")
    assert "<b>Đại hội</b>" not in html and section is not None and section.find("form") is None
    r = chief.post("/bao-cao/2027-01/dinh-huong", {"csrf_token": chief.csrf, "orientation": " "})
    assert r.status_code == 409
    assert "định hướng nội dung không được để trống" in r.text and "the orientation is empty" not in r.text


def test_the_chart_draws_each_units_bars_and_escapes_its_name() -> None:
    from reports.quotas import QuotaRow, Status
    from review.web.reports import chart_svg

    hostile = '<b onmouseover="x()">Chi bộ "A" & B</b>'
    rows = [
        QuotaRow("A", hostile, 2, 0, 1, 1, 1, Status.met, Status.met),
        QuotaRow("B", "Chi bộ Ban Tổ chức", 0, 0, 0, 1, 1, Status.not_met, Status.at_risk),
    ]
    svg = BeautifulSoup(str(chart_svg(rows)), "html.parser")
    assert svg.find("b") is None and not svg.select("[onmouseover]")
    assert [t.get_text() for t in svg.find_all("text", class_="label")] == [hostile[:34], "Chi bộ Ban Tổ chức"]
    bars = svg.find_all("rect")
    assert [b.get_text() for b in bars] == ["2/1", "1/1", "0/1", "0/1"]
    assert [b["class"][-1] for b in bars] == ["met", "met", "not_met", "at_risk"]
    assert int(str(bars[0]["width"])) == 240 and int(str(bars[2]["width"])) == 0  # the longest bar fills the scale


def _royalty_rows(html: str, title: str) -> list[list[str]]:
    table = BeautifulSoup(html, "html.parser").find("table", class_="royalty")
    assert table is not None
    rows = [[c.get_text(" ", strip=True) for c in tr.find_all("td")] for tr in table.select("tbody tr")]
    return [r for r in rows if r[1] == title]


def test_the_editor_splits_an_items_royalty_on_its_page_and_the_chief_sees_the_split(office: Office) -> None:
    _seed(office)
    editor, chief = office.signed_in("editor"), office.signed_in("chief")
    # One author (the byline) until the editor splits it: 1,5 x 10% of 2.530.000 đ = 379.500 đ.
    assert [(r[2], r[7]) for r in _royalty_rows(chief.get(f"/bao-cao/{PERIOD}").text, "Tin hội nghị sơ kết")] == [
        ("Trần Thị B", "379.500 đ")
    ]
    page = editor.get("/drafts/9001").text
    assert 'action="/drafts/9001/shares"' in page and "Chưa chia" in page
    r = editor.submit("/drafts/9001", "/drafts/9001/shares", shares="Trần Thị B = 2\n\nNguyễn Văn D = 1")
    assert r.status_code == 303 and r.headers["location"] == "/drafts/9001?tb=shares"
    page = editor.get(r.headers["location"]).text
    assert "Đã lưu phần chia" in page
    cells = [td.get_text(strip=True) for td in BeautifulSoup(page, "html.parser").select("table.shares td")]
    assert cells == ["Trần Thị B", "2", "Nguyễn Văn D", "1"]
    rows = _royalty_rows(chief.get(f"/bao-cao/{PERIOD}").text, "Tin hội nghị sơ kết")
    assert [(r[2], r[7]) for r in rows] == [("Trần Thị B", "253.000 đ"), ("Nguyễn Văn D", "126.500 đ")]

    # A line without "=" is refused with the reason; what was typed stays in the box; nothing changes.
    r = editor.submit("/drafts/9001", "/drafts/9001/shares", shares="Trần Thị B 60")
    assert r.status_code == 422 and "Tên = tỷ lệ" in r.text and "Trần Thị B 60</textarea>" in r.text
    r = editor.submit("/drafts/9001", "/drafts/9001/shares", shares="Trần Thị B = 2\ntrần thị b = 1")
    assert r.status_code == 422 and "hai lần" in r.text
    assert len(_royalty_rows(chief.get(f"/bao-cao/{PERIOD}").text, "Tin hội nghị sơ kết")) == 2

    # An empty box goes back to the byline alone.
    r = editor.submit("/drafts/9001", "/drafts/9001/shares", shares="")
    assert r.status_code == 303
    assert [r[2] for r in _royalty_rows(chief.get(f"/bao-cao/{PERIOD}").text, "Tin hội nghị sơ kết")] == ["Trần Thị B"]


def test_a_rejected_item_has_nothing_to_split_and_a_viewer_only_reads_the_split(office: Office) -> None:
    _seed(office)
    editor, viewer = office.signed_in("editor"), office.signed_in("viewer")
    assert "Chia nhuận bút" not in editor.get("/drafts/9004").text
    r = editor.post("/drafts/9004/shares", {"csrf_token": editor.csrf, "shares": "X = 1"})
    assert r.status_code == 409 and "đã được duyệt" in r.text
    assert editor.submit("/drafts/9001", "/drafts/9001/shares", shares="Trần Thị B = 1").status_code == 303
    page = viewer.get("/drafts/9001").text
    assert "Chia nhuận bút" in page and "Trần Thị B" in page and 'action="/drafts/9001/shares"' not in page


def test_a_failed_period_job_is_shown_to_the_chief_and_run_again_from_the_page(office: Office) -> None:
    from core import jobs
    from core.db import reading, utcnow
    from core.models import Job
    from reports.schedule import REGISTRY

    close = next(j for j in REGISTRY if j.name == "close")
    now = utcnow()
    with transaction(office.engine) as s:
        payload = {"job": "close", "period": PERIOD}
        job = jobs.enqueue(s, kind=close.kind, key=close.key(Period(2026, 7)), payload=payload, due=now)
        assert job is not None and job.id is not None
        job_id = job.id
    assert [j.id for j in jobs.claim_due(office.engine, now, kinds=[close.kind], worker="t")] == [job_id]
    with transaction(office.engine) as s:
        jobs.fail(s, job_id, "RoyaltyError: chưa có mức lương cơ sở", retryable=True, now=now,
                  policy=jobs.Backoff(base_seconds=1, max_seconds=1, max_attempts=1))  # fmt: skip
    chief = office.signed_in("chief")
    page = BeautifulSoup(chief.get(f"/bao-cao/{PERIOD}").text, "html.parser")
    row = page.select_one("table.jobs tr.job-failed")
    assert row is not None and "Chốt kỳ" in row.get_text() and "chưa có mức lương cơ sở" in row.get_text()
    assert "Việc định kỳ" not in office.signed_in("viewer").get(f"/bao-cao/{PERIOD}").text
    r = chief.submit(f"/bao-cao/{PERIOD}", f"/bao-cao/{PERIOD}/chay-lai")
    assert r.status_code == 303 and r.headers["location"] == f"/bao-cao/{PERIOD}?tb=retried"
    with reading(office.engine) as s:
        again = s.get(Job, job_id)
        assert again is not None and again.status == "pending"
    r = chief.post(f"/bao-cao/{PERIOD}/chay-lai", {"csrf_token": chief.csrf, "job_id": str(job_id)})
    assert r.status_code == 409 and "không ở trạng thái lỗi" in r.text  # once is enough
    r = chief.post("/bao-cao/2026-08/chay-lai", {"csrf_token": chief.csrf, "job_id": str(job_id)})
    assert r.status_code == 404  # not a job of that period
