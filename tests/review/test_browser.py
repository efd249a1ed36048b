"""The review UI end to end, in a real Chromium driven by Playwright, against a real uvicorn server: a
user signs in, works the queue, opens, edits, approves, rejects, asks for changes; the contributor's
emails go out through a real SMTP server and their revised file comes back through real SMTP and
Dovecot as revision 2. Screenshots of the queue and a draft page go to tests/artifacts/.

Each test has its own settings, database and server (forked from a per-session launcher, ~50 ms);
the browser is shared per session (per xdist worker), each person gets a fresh browser context.
"""

from __future__ import annotations

import email
import io
import re
import zipfile
from collections.abc import Callable, Iterator
from datetime import timedelta
from email.message import EmailMessage
from email.policy import default
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Browser, Page, expect
from sqlmodel import select

from core.db import reading, utcnow
from core.models import KnownSender, OutboxMail
from review.web.labels import month_label
from tests.fixtures.intake.build import BODY, BYLINE, DOCX_TYPE, LEAD, STRANGER, docx, email_message
from tests.review.browserkit import (
    ARTIFACTS,
    DESKTOP,
    PHONE,
    ServerLauncher,
    Site,
    build_office,
    decision_form,
    draft_id_of,
    fact,
    history_rows,
    png_size,
    queue_titles,
    reply_to,
    server_launcher,
    sign_in,
    uvicorn_command,
)
from tests.review.webkit import FIXTURES, PASSWORD, USERS, VP_SENDER, Office, seed_draft
from tests.servers import MailUser, SmtpSink, pid_alive
from toasoan.cli import main

CONTRIBUTOR = VP_SENDER[1]  # the sender of tin_ok.eml


# ------------------------------------------------------------------------------------------- fixtures
@pytest.fixture(scope="session")
def launcher(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerLauncher]:
    with server_launcher(tmp_path_factory.mktemp("web") / "launcher.log") as started:
        yield started


@pytest.fixture
def open_site(
    tmp_path: Path, launcher: ServerLauncher, chromium_browser: Browser, request: pytest.FixtureRequest
) -> Iterator[Callable[..., Site]]:
    """open_site(review=..., smtp=..., mailbox=...) -> a fresh office served live."""
    sites: list[Site] = []
    failed_before = request.session.testsfailed

    def open_(**settings: Any) -> Site:
        office = build_office(tmp_path / f"office{len(sites)}", **settings)
        site = Site(office=office, server=launcher.start(office.config), browser=chromium_browser)
        sites.append(site)
        return site

    yield open_
    failed = request.session.testsfailed > failed_before
    for site in sites:
        if failed:  # what the user saw when it went wrong
            site.screenshots(ARTIFACTS / "failures", request.node.name)
        site.close()
        launcher.stop(site.server)
        site.office.engine.dispose()
    problems = [p for site in sites for p in site.problems]
    assert problems == [], "the browser reported errors (CSP violations, script errors):\n" + "\n".join(problems)


# -------------------------------------------------------------------------------------------- helpers
def ingest(office: Office) -> None:
    assert main(["--config", str(office.config), "ingest", "--once"]) == 0


def send_outbox(office: Office) -> None:
    assert main(["--config", str(office.config), "outbox", "send"]) == 0


def received(sink: SmtpSink) -> list[EmailMessage]:
    """What reached the SMTP server, parsed as a mail client reads it."""
    return [email.message_from_bytes(m.raw, policy=default) for m in sink.messages]


def open_draft(page: Page, title: str) -> None:
    """From the queue, as a user finds a draft: by its title."""
    page.goto("/?status=all")
    page.get_by_role("table").get_by_role("link", name=title, exact=True).click()
    expect(page.get_by_role("heading", level=1)).to_have_text(title)


def clear_filters(page: Page) -> None:
    """Click "Bỏ lọc" and wait for the page it leads to (the next action must not act on the old one)."""
    page.get_by_role("link", name="Bỏ lọc").click()
    page.wait_for_url(re.compile(r"/\?status=\w+$"))


def edit(page: Page) -> None:
    """Click "Sửa bài" on a draft page and wait for the edit page."""
    page.get_by_role("link", name="Sửa bài").click()
    page.wait_for_url(re.compile(r"/drafts/\d+/edit$"))


def a_real_draft(office: Office) -> tuple[int, str]:
    """tin_ok.eml through intake: a Word file with a photo, from a known unit."""
    office.deliver("tin_ok.eml")
    ingest(office)
    [d] = office.drafts()
    assert d.id is not None
    return d.id, d.title


# --------------------------------------------------------------------------------------------- 1. queue
def test_sign_in_filter_the_queue_open_a_draft_and_screenshots(open_site: Callable[..., Site]) -> None:
    site = open_site(review={"page_size": 5})
    office = site.office
    tz = office.settings.tz
    now = utcnow()
    real_id, real_title = a_real_draft(office)
    seeds: list[tuple[str, str | None, str, dict[str, Any]]] = [  # newest first after the real one
        ("Đảng bộ Khối các cơ quan tổng kết công tác năm 2026", "TC", "tin", {}),
        ("Công đoàn cơ quan thăm hỏi đoàn viên ốm đau", "CD", "bai", {}),
        ("Đoàn Thanh niên ra quân ngày Chủ nhật xanh", "CD", "tin", {}),
        ("Tin của người gửi chưa rõ đơn vị", None, "tin", {"warnings": ["unknown_sender"], "sender": STRANGER}),
        ("Hội nghị học tập chuyên đề năm 2026", "VP", "tin", {}),
    ]
    for n, (title, unit, kind, extra) in enumerate(seeds, 1):
        when = now - timedelta(seconds=n)
        seed_draft(office, title=title, unit=unit, kind=kind, created_at=when, lead=None, byline=None, **extra)
    earlier = now - timedelta(days=40)
    seed_draft(office, title="Chi bộ Văn phòng sơ kết quý III", created_at=earlier, lead=None, byline=None)
    titles = [real_title, *(s[0] for s in seeds)]
    username, full_name = site.account("editor")

    # Signed out, the queue sends to the sign-in page; a wrong password is refused in Vietnamese.
    page = site.new_page()
    page.goto("/")
    expect(page.get_by_role("heading", name="Đăng nhập")).to_be_visible()
    page.get_by_label("Tên đăng nhập").fill(username)
    page.get_by_label("Mật khẩu").fill("không phải mật khẩu")
    page.get_by_role("button", name="Đăng nhập").click()
    expect(page.get_by_role("alert")).to_have_text("Sai tên đăng nhập hoặc mật khẩu.")
    expect(page.get_by_label("Tên đăng nhập")).to_have_value(username)  # kept, only the password is retyped
    sign_in(page, username)
    expect(page.get_by_role("heading", level=1)).to_have_text("Hàng chờ biên tập")
    expect(page.get_by_role("banner")).to_contain_text(full_name)

    # The work tab: pending drafts, newest first, five per page; the counts are in the tabs.
    expect(page.get_by_role("link", name="Chờ biên tập 7", exact=True)).to_have_attribute("aria-current", "page")
    expect(page.get_by_role("link", name="Tất cả 7", exact=True)).to_be_visible()
    expect(page.get_by_role("link", name="Không sử dụng 0", exact=True)).to_be_visible()
    expect(queue_titles(page)).to_have_text(titles[:5])
    expect(page.get_by_text("7 bài · trang 1/2")).to_be_visible()
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "queue.png"))
    page.get_by_role("link", name="Trang sau »").click()
    expect(queue_titles(page)).to_have_text([titles[5], "Chi bộ Văn phòng sơ kết quý III"])
    page.get_by_role("link", name="« Trang trước").click()
    expect(queue_titles(page)).to_have_text(titles[:5])

    # Unit, then unit and kind; "Bỏ lọc" clears.
    page.get_by_label("Đơn vị").select_option(label="Công đoàn cơ quan")
    page.get_by_role("button", name="Lọc").click()
    expect(queue_titles(page)).to_have_text([seeds[1][0], seeds[2][0]])
    page.get_by_label("Thể loại").select_option(label="Bài")
    page.get_by_role("button", name="Lọc").click()
    expect(queue_titles(page)).to_have_text([seeds[1][0]])
    expect(page.get_by_label("Đơn vị")).to_have_value("CD")  # the filters stay as chosen
    clear_filters(page)
    expect(queue_titles(page)).to_have_text(titles[:5])
    page.get_by_label("Đơn vị").select_option(label="Chưa rõ đơn vị")
    page.get_by_role("button", name="Lọc").click()
    expect(queue_titles(page)).to_have_text([seeds[3][0]])
    expect(page.get_by_role("row").filter(has_text=seeds[3][0])).to_contain_text("Chưa rõ đơn vị")
    clear_filters(page)

    # Search without diacritics, across every status ("Tất cả" tab).
    page.get_by_role("link", name="Tất cả 7", exact=True).click()
    expect(page.get_by_role("link", name="Tất cả 7", exact=True)).to_have_attribute("aria-current", "page")
    page.get_by_label("Tìm kiếm").fill("dang bo")
    page.get_by_role("button", name="Lọc").click()
    # The search matches words, not the phrase: the real draft is found too, since its sa-pô has
    # "cán bộ, đảng viên". Drafts with neither word are left out.
    expect(queue_titles(page)).to_have_text([real_title, seeds[0][0]])
    expect(page.get_by_role("link", name="Tất cả 2", exact=True)).to_be_visible()
    clear_filters(page)

    # Month received, in the office's time zone.
    page.get_by_label("Tháng nhận").select_option(label=month_label(f"{earlier.astimezone(tz):%Y-%m}"))
    page.get_by_role("button", name="Lọc").click()
    expect(queue_titles(page)).to_have_text(["Chi bộ Văn phòng sơ kết quý III"])
    page.get_by_label("Tháng nhận").select_option(label=month_label(f"{now.astimezone(tz):%Y-%m}"))
    page.get_by_role("button", name="Lọc").click()
    expect(page.get_by_text("6 bài · trang 1/2")).to_be_visible()

    # Open the real draft: its preview with the photo loaded, its facts, its original files.
    open_draft(page, real_title)
    assert draft_id_of(page) == real_id
    expect(fact(page, "Trạng thái")).to_have_text("Chờ biên tập")
    expect(fact(page, "Đơn vị")).to_have_text("Chi bộ Văn phòng")
    expect(page.locator("article .lead")).to_contain_text("Sáng 18/11, Chi bộ Văn phòng")
    photo = page.get_by_role("article").get_by_role("img")
    expect(photo).to_be_visible()
    assert photo.evaluate("img => img.complete && img.naturalWidth > 0"), "the photo did not load"
    expect(page.get_by_role("link", name="Tải thư gốc (.eml)")).to_be_visible()
    expect(page.get_by_role("link", name="Tải ảnh gốc 1")).to_be_visible()
    with page.expect_download() as download:
        page.get_by_role("link", name="Tải tệp Word gốc").click()
    assert download.value.suggested_filename == "Tin sinh hoạt chuyên đề.docx"
    with zipfile.ZipFile(io.BytesIO(Path(download.value.path()).read_bytes())) as word:
        assert "word/document.xml" in word.namelist()
    expect(history_rows(page)).to_have_count(1)
    expect(history_rows(page).first).to_contain_text(f"Tác giả ({CONTRIBUTOR})")
    page.screenshot(path=str(ARTIFACTS / "draft.png"))

    # On a phone: the same pages, nothing wider than the screen.
    phone = site.signed_in("editor", phone=True)
    for path, name in (("/", "queue-phone.png"), (f"/drafts/{real_id}", "draft-phone.png")):
        phone.goto(path)
        overflow = phone.evaluate("document.documentElement.scrollWidth - window.innerWidth")
        assert overflow <= 0, f"{path} scrolls sideways on a phone by {overflow}px"
        phone.screenshot(path=str(ARTIFACTS / name))

    sizes = {
        name: png_size(ARTIFACTS / name) for name in ("queue.png", "draft.png", "queue-phone.png", "draft-phone.png")
    }
    desktop, handheld = (DESKTOP["width"], DESKTOP["height"]), (PHONE["width"], PHONE["height"])
    assert sizes == {
        "queue.png": desktop,
        "draft.png": desktop,
        "queue-phone.png": handheld,
        "draft-phone.png": handheld,
    }

    # Signing out ends the session: the queue asks for a sign-in again.
    page.get_by_role("button", name="Đăng xuất").click()
    expect(page.get_by_role("status")).to_have_text("Đồng chí đã đăng xuất.")
    page.goto("/")
    expect(page.get_by_role("button", name="Đăng nhập")).to_be_visible()


# ---------------------------------------------------------------------------------------------- 2. edit
def test_edit_title_and_caption_makes_revision_2_and_compare_shows_it(open_site: Callable[..., Site]) -> None:
    site = open_site()
    draft, title = a_real_draft(site.office)
    page = site.signed_in("editor")
    open_draft(page, title)
    edit(page)
    expect(page.get_by_role("heading", level=1)).to_have_text(re.compile(r"^Sửa bài TS-\d{4}-\d{5}$"))

    new_title = f"{title} năm 2026"
    new_caption = "Ảnh: Toàn cảnh buổi sinh hoạt (đã sửa)."
    page.get_by_label("Tiêu đề").fill(new_title)
    page.get_by_label("Chú thích ảnh 1").fill(new_caption)
    body = page.get_by_label("Nội dung", exact=True)
    body.fill(body.input_value() + '\n<p onclick="alert(1)">Đoạn bổ sung của Ban Biên tập.</p><script>x()</script>')
    # The live preview follows the typing, sanitized by the server, as the portal will show it.
    preview = page.locator("#live-preview")
    expect(preview).to_contain_text("Đoạn bổ sung của Ban Biên tập.")
    expect(preview.locator("figcaption")).to_have_text(new_caption)
    expect(preview.locator("[onclick], script")).to_have_count(0)
    expect(page.get_by_role("region", name="Xem trước").get_by_role("heading", level=3)).to_have_text(new_title)
    page.get_by_label("Ghi chú cho lần sửa này (không bắt buộc)").fill("Sửa tiêu đề và chú thích ảnh")
    page.get_by_role("button", name="Lưu bản sửa").click()

    expect(page.get_by_role("status")).to_have_text("Đã lưu bản sửa thành phiên bản mới.")
    expect(page.get_by_text(re.compile(r"^phiên bản 2$"))).to_be_visible()
    expect(page.get_by_role("heading", level=1)).to_have_text(new_title)
    expect(page.get_by_role("article").locator("figcaption")).to_have_text(new_caption)
    edited = history_rows(page).filter(has_text="Sửa bài")
    expect(edited).to_contain_text("Nguyễn Văn Biên")
    expect(edited).to_contain_text("Sửa: tiêu đề, nội dung, chú thích ảnh")
    expect(edited).to_contain_text("Sửa tiêu đề và chú thích ảnh")
    assert site.office.draft(draft).revision == 2

    # Compare the two revisions: the words added and removed, field by field.
    expect(page.get_by_role("link", name="So sánh với phiên bản trước")).to_be_visible()
    page.get_by_label("Phiên bản cũ").select_option("1")
    page.get_by_label("Phiên bản mới").select_option("2")
    page.get_by_role("button", name="So sánh").click()
    expect(page.get_by_role("heading", level=1)).to_have_text(re.compile(r"^So sánh phiên bản — TS-"))

    def section(label: str) -> Any:
        return page.locator("section.diff").filter(has=page.get_by_role("heading", name=re.compile(f"^{label}")))

    expect(section("Tiêu đề").locator("ins")).to_have_text(["năm 2026"])
    expect(section("Tiêu đề").locator("del")).to_have_count(0)
    expect(section("Ảnh và chú thích").locator("ins")).to_have_text(["Toàn", "(đã sửa)."])
    expect(section("Ảnh và chú thích").locator("del")).to_have_text(["Quang", "chuyên đề."])
    expect(section("Nội dung").locator("ins")).to_contain_text(["Đoạn bổ sung của Ban Biên tập."])
    expect(section("Sa-pô").get_by_role("heading")).to_contain_text("(không đổi)")


# ------------------------------------------------------------------------------------------- 3. approve
def test_the_chief_approves_with_a_coefficient_and_the_contributor_gets_one_email(
    open_site: Callable[..., Site], smtp_sink: SmtpSink
) -> None:
    site = open_site(smtp={"host": smtp_sink.host, "port": smtp_sink.port})
    draft, title = a_real_draft(site.office)
    page = site.signed_in("chief")
    open_draft(page, title)
    form = decision_form(page, "Duyệt bài")
    coefficient = form.get_by_label("Hệ số nhuận bút (từ 0 đến 10)")
    expect(coefficient).to_have_value("1")  # the kind's default

    coefficient.fill("12")
    form.get_by_label("Chuyên mục").select_option(label="Tin hoạt động")
    form.get_by_role("button", name="Duyệt bài").click()
    expect(page.get_by_role("alert")).to_contain_text("Hệ số của tin phải từ 0 đến 10")
    expect(coefficient).to_have_value("12")  # what was typed stays, to be corrected
    expect(fact(page, "Trạng thái")).to_have_text("Chờ biên tập")

    coefficient.fill("2,5")
    form.get_by_label("Ghi chú (không bắt buộc)").fill("Tin tốt, đăng ngay.")
    form.get_by_role("button", name="Duyệt bài").click()
    expect(page.get_by_role("status")).to_have_text("Đã duyệt bài. Tác giả sẽ nhận thư báo.")
    expect(fact(page, "Trạng thái")).to_have_text("Đã duyệt")
    expect(fact(page, "Hệ số nhuận bút")).to_have_text("2,5")
    expect(fact(page, "Chuyên mục")).to_have_text("Tin hoạt động")
    expect(decision_form(page, "Duyệt bài")).to_have_count(0)  # decided: nothing to approve twice
    expect(history_rows(page).last).to_contain_text(USERS["chief"][1])
    expect(history_rows(page).last).to_contain_text("hệ số 2,5; chuyên mục “Tin hoạt động”")

    # The outbox sends it once, however often it runs (the receipt of the submission went out too).
    send_outbox(site.office)
    send_outbox(site.office)
    code = site.office.draft(draft).tracking_code
    subjects = [str(m["Subject"]) for m in received(smtp_sink)]
    assert len(subjects) == 2 and subjects[0].endswith(f"mã theo dõi {code}"), subjects
    [mail] = [m for m in received(smtp_sink) if str(m["Subject"]).startswith(f"[{code}] ")]
    assert mail["To"].addresses[0].addr_spec == CONTRIBUTOR
    assert "Kính gửi đồng chí Nguyễn Thị Lan" in mail.get_content()
    # As the contributor's mail client shows it.
    assert str(mail["Subject"]) == f"[{code}] Bài “{title}” đã được duyệt"


# ------------------------------------------------------------------------------- 4. reject, request changes
def test_reject_with_a_reason_and_request_changes_with_a_note(open_site: Callable[..., Site]) -> None:
    site = open_site()
    office = site.office
    to_reject = seed_draft(office, title="Tin đã đăng trên báo tỉnh")
    to_revise = seed_draft(office, title="Tin hội nghị chưa có ảnh")
    page = site.signed_in("editor")

    open_draft(page, "Tin đã đăng trên báo tỉnh")
    reject = decision_form(page, "Không sử dụng bài")
    reason = reject.get_by_label("Lý do không sử dụng (gửi cho tác giả)")
    reject.get_by_role("button", name="Không sử dụng bài").click()
    # Nothing typed: the browser itself refuses to send the form (the server would refuse it too).
    assert reason.evaluate("e => e.validity.valueMissing && !e.form.checkValidity()")
    expect(fact(page, "Trạng thái")).to_have_text("Chờ biên tập")
    reason.fill("Nội dung trùng với tin đã đăng trên báo tỉnh ngày 20/11.")
    reject.get_by_role("button", name="Không sử dụng bài").click()
    expect(page.get_by_role("status")).to_have_text(
        "Đã ghi quyết định không sử dụng bài. Tác giả sẽ nhận thư báo kèm lý do."
    )
    expect(fact(page, "Trạng thái")).to_have_text("Không sử dụng")
    expect(history_rows(page).last).to_contain_text("Không sử dụng")
    expect(history_rows(page).last).to_contain_text("Chờ biên tập → Không sử dụng")
    expect(history_rows(page).last).to_contain_text("Nội dung trùng với tin đã đăng trên báo tỉnh ngày 20/11.")
    expect(decision_form(page, "Không sử dụng bài")).to_have_count(0)

    open_draft(page, "Tin hội nghị chưa có ảnh")
    changes = decision_form(page, "Đề nghị tác giả sửa")
    changes.get_by_label("Nội dung đề nghị sửa (gửi cho tác giả)").fill("Đề nghị bổ sung 1–2 ảnh hoạt động.")
    changes.get_by_role("button", name="Gửi đề nghị sửa").click()
    expect(page.get_by_role("status")).to_have_text("Đã gửi đề nghị chỉnh sửa tới tác giả.")
    expect(fact(page, "Trạng thái")).to_have_text("Chờ tác giả sửa")
    expect(history_rows(page).last).to_contain_text("Đề nghị tác giả sửa")
    expect(history_rows(page).last).to_contain_text("Đề nghị bổ sung 1–2 ảnh hoạt động.")

    # An internal comment is recorded for the board and not sent to anyone.
    comment = decision_form(page, "Trao đổi nội bộ")
    comment.get_by_label("Nội dung trao đổi (không gửi cho tác giả)").fill("Đã gọi điện nhắc tác giả.")
    comment.get_by_role("button", name="Gửi trao đổi").click()
    expect(page.get_by_role("status")).to_have_text("Đã ghi trao đổi nội bộ.")
    expect(history_rows(page).last).to_contain_text("Trao đổi nội bộ")
    expect(history_rows(page).last).to_contain_text("Đã gọi điện nhắc tác giả.")
    expect(fact(page, "Trạng thái")).to_have_text("Chờ tác giả sửa")

    with reading(office.engine) as s:
        mails = {(m.draft_id, m.kind) for m in s.exec(select(OutboxMail)).all()}
    assert mails == {(to_reject, "decision_rejected"), (to_revise, "decision_changes_requested")}


# ------------------------------------------------------------------------- 5. the contributor's revision
def test_the_contributors_revised_file_arrives_through_smtp_and_dovecot_as_revision_2(
    open_site: Callable[..., Site], mail_user: MailUser, smtp_sink: SmtpSink, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TEST_IMAP_PW", mail_user.password)
    site = open_site(
        smtp={"host": smtp_sink.host, "port": smtp_sink.port},
        mailbox=mail_user.mailbox_settings(),
    )
    office = site.office
    mail_user.deliver((FIXTURES / "tin_ok.eml").read_bytes())
    ingest(office)
    [d] = office.drafts()

    page = site.signed_in("editor")
    open_draft(page, d.title)
    changes = decision_form(page, "Đề nghị tác giả sửa")
    changes.get_by_label("Nội dung đề nghị sửa (gửi cho tác giả)").fill("Đề nghị ghi rõ quý IV năm nào.")
    changes.get_by_role("button", name="Gửi đề nghị sửa").click()
    expect(fact(page, "Trạng thái")).to_have_text("Chờ tác giả sửa")

    # The office's email reaches the contributor (the SMTP sink is their mail server)...
    send_outbox(office)
    [asked] = [m for m in received(smtp_sink) if str(m["Subject"]).startswith(f"[{d.tracking_code}] ")]
    assert "Đề nghị ghi rõ quý IV năm nào." in asked.get_content()
    # ...who answers it from their mail client with a new Word file, through SMTP into Dovecot.
    revised = docx("Chi bộ Văn phòng sinh hoạt chuyên đề quý IV năm 2026", BODY, lead=LEAD, byline=BYLINE)
    mail_user.deliver(
        reply_to(
            asked,
            sender=VP_SENDER,
            text="Em gửi lại bài đã sửa theo đề nghị của Ban Biên tập ạ.",
            attachment=("Tin sinh hoạt chuyên đề (bản sửa).docx", revised),
        )
    )
    ingest(office)

    page.reload()
    expect(page.get_by_text(re.compile(r"^phiên bản 2$"))).to_be_visible()
    expect(fact(page, "Trạng thái")).to_have_text("Chờ biên tập")
    expect(page.get_by_role("heading", level=1)).to_have_text(re.compile(r"quý IV năm 2026$", re.IGNORECASE))
    back = history_rows(page).last
    expect(back).to_contain_text("Nhận bản sửa của tác giả")
    expect(back).to_contain_text(f"Tác giả ({CONTRIBUTOR})")
    expect(back).to_contain_text("Chờ tác giả sửa → Chờ biên tập")
    revisions = page.get_by_role("region", name="Các phiên bản").locator("tbody tr")
    expect(revisions).to_have_count(2)
    expect(revisions.last).to_contain_text(f"Tác giả ({CONTRIBUTOR})")
    expect(revisions.last.get_by_role("link", name="Tệp Word của phiên bản 2")).to_be_visible()
    # Back in the work queue, and the board can decide on it again.
    expect(decision_form(page, "Duyệt bài")).to_be_visible()
    page.goto("/")
    assert [x.id for x in office.drafts()] == [d.id]  # a revision, not a new draft
    expect(queue_titles(page)).to_have_text([office.draft(d.id).title])


# ----------------------------------------------------------------------------------- 6. the stale page
def test_two_people_deciding_at_once_the_second_sees_the_stale_page_and_changes_nothing(
    open_site: Callable[..., Site],
) -> None:
    site = open_site()
    office = site.office
    draft = seed_draft(office, title="Tin về hội nghị cán bộ chủ chốt")
    editor, chief = site.signed_in("editor"), site.signed_in("chief")
    for page in (editor, chief):
        open_draft(page, "Tin về hội nghị cán bộ chủ chốt")

    # The editor saves an edit (revision 2) while the chief, on revision 1, rejects.
    edit(editor)
    editor.get_by_label("Tiêu đề").fill("Tin về hội nghị cán bộ chủ chốt năm 2026")
    editor.get_by_role("button", name="Lưu bản sửa").click()
    expect(editor.get_by_role("status")).to_have_text("Đã lưu bản sửa thành phiên bản mới.")
    before = office.state(draft)
    reject = decision_form(chief, "Không sử dụng bài")
    reject.get_by_label("Lý do không sử dụng (gửi cho tác giả)").fill("Không phù hợp.")
    reject.get_by_role("button", name="Không sử dụng bài").click()
    expect(chief.get_by_role("alert")).to_contain_text("Trong lúc đồng chí xem, bài đã được người khác thay đổi")
    expect(chief.get_by_role("alert")).to_contain_text("phiên bản 2")
    assert office.state(draft) == before
    # The chief now sees the latest version, with the reason typed still there.
    expect(chief.get_by_role("heading", level=1)).to_have_text("Tin về hội nghị cán bộ chủ chốt năm 2026")
    expect(reject.get_by_label("Lý do không sử dụng (gửi cho tác giả)")).to_have_value("Không phù hợp.")

    # Both pages show revision 2; the editor asks for changes first, the chief's approval comes second.
    changes = decision_form(editor, "Đề nghị tác giả sửa")
    changes.get_by_label("Nội dung đề nghị sửa (gửi cho tác giả)").fill("Đề nghị bổ sung số liệu.")
    changes.get_by_role("button", name="Gửi đề nghị sửa").click()
    expect(fact(editor, "Trạng thái")).to_have_text("Chờ tác giả sửa")
    before = office.state(draft)
    decision_form(chief, "Duyệt bài").get_by_role("button", name="Duyệt bài").click()
    expect(chief.get_by_role("alert")).to_contain_text("Trong lúc đồng chí xem, bài đã được người khác thay đổi")
    expect(chief.get_by_role("alert")).to_contain_text("“Chờ tác giả sửa”")
    expect(fact(chief, "Trạng thái")).to_have_text("Chờ tác giả sửa")
    assert office.state(draft) == before
    with reading(office.engine) as s:
        kinds = [m.kind for m in s.exec(select(OutboxMail)).all()]
    assert kinds == ["decision_changes_requested"]


# ---------------------------------------------------------------------------------- 7. unknown sender
def test_an_unknown_senders_draft_gets_a_unit_and_the_address_is_remembered(open_site: Callable[..., Site]) -> None:
    site = open_site()
    office = site.office
    office.deliver("unknown_sender.eml")
    ingest(office)
    [d] = office.drafts()
    page = site.signed_in("editor")
    page.get_by_label("Đơn vị").select_option(label="Chưa rõ đơn vị")
    page.get_by_role("button", name="Lọc").click()
    expect(queue_titles(page)).to_have_text([d.title])
    queue_titles(page).first.click()
    expect(fact(page, "Đơn vị")).to_have_text("Chưa rõ đơn vị")

    edit(page)
    page.get_by_label("Đơn vị").select_option(label="Chi bộ Ban Tổ chức")
    page.get_by_label("Ghi nhớ địa chỉ này cho lần sau").check()
    page.get_by_role("button", name="Lưu bản sửa").click()
    expect(page.get_by_role("status")).to_have_text("Đã lưu bản sửa thành phiên bản mới.")
    expect(fact(page, "Đơn vị")).to_have_text("Chi bộ Ban Tổ chức")
    expect(page.get_by_role("region", name="Cảnh báo")).not_to_contain_text("Chưa rõ đơn vị")
    expect(history_rows(page).last).to_contain_text("Sửa: đơn vị")
    with reading(office.engine) as s:
        known = s.get(KnownSender, STRANGER[1])
    assert known is not None and known.unit_code == "TC"

    # The next email from that address lands in the unit by itself.
    title = "Học tập chuyên đề Nghị quyết Trung ương năm 2026"
    office.deliver(
        email_message(
            subject="[BÀI CỘNG TÁC] Tin học tập chuyên đề",
            sender=STRANGER,
            body="Kính gửi Ban Biên tập,\nEm gửi tin học tập chuyên đề.\nTrân trọng.",
            attachments=[("Tin hoc tap chuyen de.docx", DOCX_TYPE, docx(title, BODY, lead=LEAD))],
            message_id="second-from-stranger@yahoo.com.vn",
        )
    )
    ingest(office)
    page.goto("/")
    page.get_by_label("Đơn vị").select_option(label="Chi bộ Ban Tổ chức")
    page.get_by_role("button", name="Lọc").click()
    expect(queue_titles(page)).to_have_count(2)
    newest = page.get_by_role("row").filter(has_text=re.compile(title, re.IGNORECASE))
    expect(newest.get_by_role("cell").nth(3)).to_have_text("Chi bộ Ban Tổ chức")  # the "Đơn vị" column
    expect(newest).not_to_contain_text("Chưa rõ đơn vị")


# ------------------------------------------------------------------------------- the documented command
def test_the_documented_uvicorn_command_serves_the_ui(tmp_path: Path, chromium_browser: Browser) -> None:
    """`python -m uvicorn --factory toasoan.web:app_from_environment` with TOASOAN_CONFIG, as the module
    docstring of toasoan/web.py tells an administrator (the other tests fork the same factory)."""
    office = build_office(tmp_path / "office")
    seed_draft(office, title="Tin kiểm tra máy chủ")
    with uvicorn_command(office.config, tmp_path / "uvicorn.log") as server:
        site = Site(office=office, server=server, browser=chromium_browser)
        try:
            page = site.new_page()
            page.goto("/drafts/1")  # signed out: the sign-in page, then back to the page asked for
            page.get_by_label("Tên đăng nhập").fill(site.account("chief")[0])
            page.get_by_label("Mật khẩu").fill(PASSWORD)
            page.get_by_role("button", name="Đăng nhập").click()
            expect(page.get_by_role("heading", level=1)).to_have_text("Tin kiểm tra máy chủ")
            assert page.url == f"{server.url}/drafts/1"
        finally:
            site.close()
    assert not pid_alive(server.pid)
    assert site.problems == []


# ------------------------------------------------------------------------------- duplicates, problem emails
def test_a_resent_document_is_compared_side_by_side_then_kept_or_rejected(open_site: Callable[..., Site]) -> None:
    site = open_site()
    office = site.office
    first, _title = a_real_draft(office)
    chief = site.account("chief")[0]
    # Decided already (a reply to a draft still open would revise it instead of making a new one).
    reason = ["--reason", "Chưa đủ thông tin."]
    assert main(["--config", str(office.config), "drafts", "reject", str(first), "--by", chief, *reason]) == 0
    office.deliver("same_document_resent.eml")
    ingest(office)
    second = office.drafts()[-1]
    assert second.id != first
    codes = [second.tracking_code, office.draft(first).tracking_code]
    page = site.signed_in("chief")
    page.goto(f"/drafts/{second.id}")
    warnings = page.get_by_role("region", name="Cảnh báo")
    expect(warnings).to_contain_text(f"Trùng bài số {first}")
    warnings.get_by_role("link", name="So sánh hai bài").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("So sánh bài trùng")
    articles = page.get_by_role("article")
    expect(articles).to_have_count(2)
    for article, code in zip(articles.all(), codes, strict=True):
        expect(article).to_have_accessible_name(f"Bài {code}")
    page.get_by_role("button", name="Giữ cả hai bài").click()
    expect(page.get_by_role("status")).to_have_text("Đã ghi nhận: giữ cả hai bài.")
    expect(history_rows(page).last).to_contain_text(f"Đã so sánh với bài {codes[1]}: không phải bài trùng")
    expect(fact(page, "Trạng thái")).to_have_text("Chờ biên tập")

    page.go_back()  # the board changes its mind: the same page offers the other decision
    page.get_by_role("button", name="Không sử dụng bài này (trùng)").click()
    expect(fact(page, "Trạng thái")).to_have_text("Không sử dụng")
    expect(history_rows(page).last).to_contain_text(f"Bài trùng với bài {codes[1]} đã gửi trước đó.")
    assert office.draft(first).status == "rejected"  # the first one is untouched


def test_problem_emails_are_listed_downloaded_and_reprocessed(open_site: Callable[..., Site]) -> None:
    site = open_site()
    office = site.office
    # Intake ran without LibreOffice (the .doc waits as converter_missing); the server has it now,
    # as after the office installed it, so "Xử lý lại" turns that email into a draft.
    no_soffice = office.config.with_name("settings-no-soffice.toml")
    text = office.config.read_text(encoding="utf-8")
    no_soffice.write_text(text.replace("[ingest]\n", '[ingest]\nsoffice = ""\n', 1), encoding="utf-8")
    office.deliver("word97_doc.eml", "corrupt.eml")
    assert main(["--config", str(no_soffice), "ingest", "--once"]) == 0
    page = site.signed_in("editor")
    page.get_by_role("link", name="Thư có vấn đề").click()
    quarantined = page.get_by_role("region", name=re.compile(r"^Thư bị cách ly")).locator("tbody tr")
    expect(quarantined).to_have_count(2)
    corrupt = quarantined.filter(has_text="Tệp bị hỏng, không đọc được")
    old_doc = quarantined.filter(has_text="Máy chủ chưa có LibreOffice để đọc tệp .doc/.odt/.rtf")
    with page.expect_download() as download:
        corrupt.get_by_role("link", name="Tải thư gốc").click()
    assert Path(download.value.path()).read_bytes().endswith((FIXTURES / "corrupt.eml").read_bytes())
    number = (old_doc.get_attribute("id") or "").removeprefix("thu-")
    old_doc.get_by_role("button", name="Xử lý lại").click()
    expect(page.get_by_role("status")).to_have_text(f"Đã xử lý lại thư số {number}: bài đã vào hàng chờ.")
    expect(quarantined).to_have_count(1)
    page.get_by_role("link", name="Hàng chờ").click()
    expect(queue_titles(page)).to_have_count(1)
    queue_titles(page).first.click()
    expect(fact(page, "Trạng thái")).to_have_text("Chờ biên tập")
    expect(page.get_by_role("link", name="Tải tệp Word gốc")).to_be_visible()


def test_the_chief_opens_the_reports_page_sees_the_quotas_and_the_royalty_and_downloads_the_list(
    open_site: Callable[..., Site],
) -> None:
    from decimal import Decimal

    from core.db import transaction
    from core.models import Draft

    site = open_site()
    office = site.office
    with transaction(office.engine) as s:  # a tin of Chi bộ Văn phòng live now: this period's quota is met
        now = utcnow()
        s.add(Draft(id=7001, tracking_code="BC7001", status="published", kind="tin", unit_code="VP",
                    coefficient=Decimal(1), decided_at=now, published_at=now, byline="Trần Thị B",
                    title="Tin hội nghị báo cáo viên"))  # fmt: skip
    page = site.signed_in("chief")
    page.get_by_role("link", name="Báo cáo").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Báo cáo tháng")
    vp = page.locator("#don-vi-VP")
    expect(vp).to_contain_text("1/1")
    expect(vp.locator(".quota-status").first).to_have_text("Đạt")
    expect(page.locator("svg.chart")).to_be_visible()
    royalty = page.get_by_role("region", name=re.compile(r"^Nhuận bút"))
    expect(royalty.get_by_role("link", name="Tin hội nghị báo cáo viên")).to_be_visible()
    expect(royalty).to_contain_text("Bằng chữ:")
    with page.expect_download() as download:
        page.get_by_role("link", name="Danh sách chi trả nhuận bút (XLSX)").click()
    assert download.value.suggested_filename.startswith("danh-sach-chi-tra-")
    assert zipfile.is_zipfile(download.value.path())
