"""The problem-email page: one email's reasons, its raw copy, “Xử lý lại”, and mail-parser's reading of it
(defects, Received hops), with the sender's header text shown as text."""

from __future__ import annotations

from bs4 import BeautifulSoup
from sqlmodel import select

from core.db import reading
from ingest.models import InboundMessage
from tests.ingest.test_diagnostics import problem_email
from tests.review.webkit import Office


def soup(html: str) -> BeautifulSoup:
    return BeautifulSoup(html, "lxml")


def test_the_problem_email_page_shows_defects_and_hops_escaped(office: Office) -> None:
    office.deliver(problem_email())
    office.ingest()
    with reading(office.engine) as s:
        [row] = s.exec(select(InboundMessage)).all()
    assert row.status == "quarantined"
    b = office.signed_in("editor")

    # The list links to the page; mail-parser does not run for the list.
    [listed] = soup(b.get("/inbox").text).select("#h-quarantined ~ table tbody tr")
    link = listed.find("a", string="Chẩn đoán")
    assert link is not None and link["href"] == f"/inbox/{row.id}"

    r = b.get(f"/inbox/{row.id}")
    assert r.status_code == 200
    # The sender's text is escaped: no script element, the text is there as written.
    assert "<script>alert" not in r.text and "&lt;script&gt;alert(&#39;hop&#39;)&lt;/script&gt;" in r.text
    page = soup(r.text)
    assert not page.find_all("script", string=lambda t: t and "alert" in t)
    assert page.h1.get_text() == f"Thư số {row.id}"
    assert page.find("a", string="Tải thư gốc")["href"] == f"/inbox/{row.id}/raw"
    assert page.find("form", action=f"/inbox/{row.id}/retry").button.get_text() == "Xử lý lại"

    [defect] = page.select("table.defects tbody tr")
    assert defect.select_one('td[data-label="Lỗi"]').get_text() == (
        "Thiếu ranh giới kết thúc: thư bị cắt cụt hoặc được tạo sai"
    )
    assert "CloseBoundaryNotFoundDefect" in defect.get_text()

    hops = [[td.get_text() for td in tr.find_all("td")] for tr in page.select("table.received tbody tr")]
    assert [h[0] for h in hops] == ["1", "2"]
    assert hops[0][1].startswith("<script>alert('hop')</script>")  # text, not markup
    assert hops[0][2] == "mail.vanphong.tinhuy.example" and hops[0][5] == "—"
    assert hops[1][2] == "mx.tinhuy.example" and hops[1][5] == "4 giây"

    # The retry form on the page works as on the list.
    r = b.post(f"/inbox/{row.id}/retry", {"csrf_token": b.csrf})
    assert r.headers["location"] == f"/inbox?tb=quarantined&thu={row.id}"


def test_an_ignored_email_has_no_page_and_a_viewer_none_at_all(office: Office) -> None:
    office.deliver("not_a_submission.eml", "tin_ok.eml")
    office.ingest()
    with reading(office.engine) as s:
        ids = {m.status: m.id for m in s.exec(select(InboundMessage)).all()}
    editor = office.signed_in("editor")
    assert editor.get(f"/inbox/{ids['ignored']}").status_code == 404
    page = soup(editor.get(f"/inbox/{ids['accepted']}").text)
    # An accepted email without a problem: no retry, the route is still there to read.
    assert not page.find("form", action=f"/inbox/{ids['accepted']}/retry")
    assert page.select_one("#h-received") is not None
    assert office.signed_in("viewer").get(f"/inbox/{ids['accepted']}").status_code == 403
