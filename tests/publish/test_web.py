"""The publication part of the draft page, through HTTP as a browser posts it: per-target state, the
portal's answer, "Đăng lại", "Gỡ bài", the embargo field, and the manual target's package and form."""

from __future__ import annotations

import contextlib
import functools
import io
import re
import threading
import zipfile
from collections.abc import Iterator
from datetime import timedelta
from html import escape as html_escape
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from sqlmodel import select

from core.db import reading, utcnow
from core.formats import format_date
from core.models import Job, JobStatus
from publish.jobs import PublishError, complete_manual_withdrawal, run_due
from publish.models import Publication
from tests.publish import filetarget
from tests.review.webkit import Office, live_markup, make_office, seed_draft, text_of

HOSTILE = '<script>alert("x")</script><img src=x onerror=alert(1)>'


@pytest.fixture
def office(tmp_path: Path, allow_test_target: None) -> Iterator[Office]:
    made = make_office(tmp_path, publish={"targets": [filetarget.NAME], "backoff_seconds": 60})
    yield made
    made.close()


@pytest.fixture
def manual_office(tmp_path: Path) -> Iterator[Office]:
    made = make_office(tmp_path, publish={"targets": ["manual"]})
    yield made
    made.close()


@contextlib.contextmanager
def serving(root: Path, port: int = 0) -> Iterator[str]:
    """A real HTTP server on loopback serving a folder of pages (on `port`, any free one when 0);
    yields its base URL."""
    server = ThreadingHTTPServer(("127.0.0.1", port), functools.partial(_QuietPages, directory=str(root)))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/"
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


@pytest.fixture
def portal(tmp_path: Path) -> Iterator[tuple[str, Path]]:
    """The office's hand-fed portal."""
    root = tmp_path / "portal"
    root.mkdir()
    with serving(root) as base:
        yield base, root


class _QuietPages(SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: object) -> None:
        pass


def page_of(office: Office, role: str, draft_id: int) -> str:
    r = office.signed_in(role).get(f"/drafts/{draft_id}")
    assert r.status_code == 200
    return r.text


def test_a_failed_publication_shows_the_answer_and_is_published_again(office: Office) -> None:
    draft_id = seed_draft(office, title="Chi bộ Văn phòng sinh hoạt chuyên đề")
    editor = office.signed_in("editor")
    path = f"/drafts/{draft_id}"
    assert editor.submit(path, f"{path}/approve").status_code == 303
    filetarget.script(office.settings, f"refused 400 Chuyên mục không nhận {HOSTILE}")
    run_due(office.settings, office.engine, utcnow())
    html = page_of(office, "editor", draft_id)
    assert "Đăng không thành công" in html and "Lỗi: 400 Chuyên mục không nhận" in text_of(html)
    assert live_markup(html) == []  # the portal's answer is text
    assert f'action="{path}/publish-retry"' in html
    assert "Đăng lại" not in page_of(office, "viewer", draft_id)  # editors and above only
    r = editor.submit(path, f"{path}/publish-retry")
    assert r.status_code == 303 and r.headers["location"] == f"{path}?tb=publish_retry"
    run_due(office.settings, office.engine, utcnow())
    html = page_of(office, "editor", draft_id)
    with reading(office.engine) as s:
        [job] = s.exec(select(Job)).all()
    assert job.status == "succeeded"
    url = re.search(r'<a href="(https://portal\.test/[^"]+)"', html)
    assert url and "Đã đăng" in html and format_date(utcnow(), office.settings.tz) in html
    assert "Đăng lại" not in html and f'action="{path}/withdraw"' in html
    assert "Gỡ bài" not in text_of(page_of(office, "viewer", draft_id)).replace("Đã gỡ", "")

    # "Gỡ bài" needs a reason, then takes it off the portal.
    r = editor.submit(path, f"{path}/withdraw", reason="   ")
    assert r.status_code == 422 and office.draft(draft_id).status == "published"
    r = editor.submit(path, f"{path}/withdraw", reason="Sai số liệu")
    assert r.status_code == 303 and office.draft(draft_id).status == "withdrawn"
    run_due(office.settings, office.engine, utcnow())
    assert not filetarget.page(office.settings, url.group(1)).exists()
    assert "Đã gỡ" in page_of(office, "editor", draft_id)


def test_the_approve_form_takes_a_publish_time(office: Office) -> None:
    draft_id = seed_draft(office)
    editor = office.signed_in("editor")
    path = f"/drafts/{draft_id}"
    r = editor.submit(path, f"{path}/approve", publish_at="không phải ngày")
    assert r.status_code == 422 and "dd/mm/yyyy HH:MM" in r.text and office.draft(draft_id).status == "pending_review"
    at = (utcnow() + timedelta(days=1)).astimezone(office.settings.tz).replace(second=0, microsecond=0)
    r = editor.submit(path, f"{path}/approve", publish_at=at.strftime("%Y-%m-%dT%H:%M"))
    assert r.status_code == 303
    with reading(office.engine) as s:
        [job] = s.exec(select(Job)).all()
    assert job.next_attempt_at == at
    assert run_due(office.settings, office.engine, at - timedelta(seconds=1)).published == 0
    assert run_due(office.settings, office.engine, at).published == 1


def test_an_approved_draft_waiting_for_its_time_can_be_withdrawn(office: Office) -> None:
    draft_id = seed_draft(office)
    editor = office.signed_in("editor")
    path = f"/drafts/{draft_id}"
    at = (utcnow() + timedelta(days=1)).astimezone(office.settings.tz).replace(second=0, microsecond=0)
    assert editor.submit(path, f"{path}/approve", publish_at=at.strftime("%Y-%m-%dT%H:%M")).status_code == 303
    assert f'action="{path}/withdraw"' in page_of(office, "editor", draft_id)
    assert f'action="{path}/withdraw"' not in page_of(office, "viewer", draft_id)
    r = editor.submit(path, f"{path}/withdraw", reason="Hoãn đăng theo chỉ đạo")
    assert r.status_code == 303 and office.draft(draft_id).status == "withdrawn"
    assert run_due(office.settings, office.engine, at + timedelta(minutes=1)).published == 0
    assert filetarget.calls(office.settings) == []
    html = page_of(office, "editor", draft_id)
    assert "Hoãn đăng theo chỉ đạo" in html and f'action="{path}/withdraw"' not in html


def test_the_manual_package_and_the_live_address(manual_office: Office, portal: tuple[str, Path]) -> None:
    office = manual_office
    base, root = portal
    title = f"Tin có ký tự lạ {HOSTILE}"
    draft_id = seed_draft(office, title=title)
    editor = office.signed_in("editor")
    path = f"/drafts/{draft_id}"
    assert editor.submit(path, f"{path}/approve").status_code == 303
    assert run_due(office.settings, office.engine, utcnow()).waiting == 1
    html = page_of(office, "editor", draft_id)
    assert "Đăng thủ công" in html and html.count(">Sao chép</button>") == 3
    assert live_markup(html) == []  # the contributor's title sits in a field, escaped
    assert "Chờ đăng thủ công" in html
    assert "Sao chép" not in page_of(office, "viewer", draft_id)
    r = editor.get(f"{path}/manual-package/manual")
    assert r.status_code == 200 and r.headers["content-type"] == "application/zip"
    assert "index.html" in zipfile.ZipFile(io.BytesIO(r.content)).namelist()

    url = f"{base}tin-hoat-dong/bai-{draft_id}.html"
    r = editor.submit(path, f"{path}/manual-url", url=url)  # not on the portal yet
    assert r.status_code == 422 and "kiểm tra lại đường dẫn" in r.text
    page = root / "tin-hoat-dong" / f"bai-{draft_id}.html"
    page.parent.mkdir(parents=True, exist_ok=True)
    page.write_text(f"<h1>{html_escape(office.draft(draft_id).title)}</h1>", encoding="utf-8")
    r = editor.submit(path, f"{path}/manual-url", url=url)
    assert r.status_code == 303 and r.headers["location"] == f"{path}?tb=manual_done"
    html = page_of(office, "editor", draft_id)
    assert office.draft(draft_id).status == "published" and f'href="{url}"' in html
    assert "Sao chép" not in html


def _publish_by_hand(office: Office, root: Path, base: str, draft_id: int) -> tuple[str, Path]:
    """Approve, let the manual target hand it over, put the page on the portal and give its address."""
    editor = office.signed_in("editor")
    path = f"/drafts/{draft_id}"
    assert editor.submit(path, f"{path}/approve").status_code == 303
    assert run_due(office.settings, office.engine, utcnow()).waiting == 1
    url = f"{base}tin/bai-{draft_id}.html"
    page = root / "tin" / f"bai-{draft_id}.html"
    page.parent.mkdir(parents=True, exist_ok=True)
    page.write_text(f"<h1>{html_escape(office.draft(draft_id).title)}</h1><p>Nội dung</p>", encoding="utf-8")
    assert editor.submit(path, f"{path}/manual-url", url=url).status_code == 303
    return url, page


def _publication(office: Office, draft_id: int) -> tuple[Publication, Job]:
    with reading(office.engine) as s:
        pub = s.exec(select(Publication).where(Publication.draft_id == draft_id)).one()
        job = s.get(Job, pub.job_id)
    assert job is not None
    return pub, job


def test_a_manual_withdrawal_is_confirmed_once_the_page_is_gone(
    manual_office: Office, portal: tuple[str, Path]
) -> None:
    office = manual_office
    base, root = portal
    draft_id = seed_draft(office, title="Hội nghị sơ kết công tác xây dựng Đảng năm 2026")
    url, page = _publish_by_hand(office, root, base, draft_id)
    editor = office.signed_in("editor")
    path = f"/drafts/{draft_id}"
    assert editor.submit(path, f"{path}/withdraw", reason="Sai số liệu").status_code == 303
    assert run_due(office.settings, office.engine, utcnow()).waiting == 1
    html = page_of(office, "editor", draft_id)
    assert "Gỡ thủ công" in html and ">Đã gỡ khỏi cổng</button>" in html and f'href="{url}"' in html
    assert "Đã gỡ khỏi cổng" not in page_of(office, "viewer", draft_id)  # editors and above only

    r = editor.submit(path, f"{path}/manual-withdrawn")  # still on the portal
    assert r.status_code == 422 and "vẫn còn bài này" in text_of(r.text)
    pub, job = _publication(office, draft_id)
    assert pub.status == "published" and job.status == JobStatus.awaiting_manual

    page.write_text("<h1>Trang chủ Cổng TTĐT</h1>", encoding="utf-8")  # the address now shows something else
    r = editor.submit(path, f"{path}/manual-withdrawn")
    assert r.status_code == 303 and r.headers["location"] == f"{path}?tb=manual_withdrawn"
    pub, job = _publication(office, draft_id)
    assert pub.status == "withdrawn" and job.status == JobStatus.succeeded and job.payload["action"] == "withdraw"
    [event] = [e for e in office.events(draft_id) if e.action == "manual_withdrawn"]
    assert event.data == {"target": "manual", "url": url} and event.actor != "system"
    html = page_of(office, "editor", draft_id)
    assert "Đã gỡ khỏi cổng" not in html and "Xác nhận đã gỡ bài khỏi cổng" in html
    r = editor.post(f"{path}/manual-withdrawn", {"csrf_token": editor.csrf, "target": "manual"})
    assert r.status_code == 422  # nothing waits any more


def test_a_manual_withdrawal_of_a_missing_page_or_an_unreachable_portal(manual_office: Office, tmp_path: Path) -> None:
    office = manual_office
    root = tmp_path / "portal2"
    root.mkdir()
    draft_id = seed_draft(office, title="Chi bộ Văn phòng sinh hoạt chuyên đề")
    with serving(root) as base:
        _url, page = _publish_by_hand(office, root, base, draft_id)
        editor = office.signed_in("editor")
        path = f"/drafts/{draft_id}"
        assert editor.submit(path, f"{path}/withdraw", reason="Trùng bài").status_code == 303
        assert run_due(office.settings, office.engine, utcnow()).waiting == 1
    # The portal does not answer: a clear message, and the job keeps waiting.
    with pytest.raises(PublishError, match="Không kiểm tra được trang"):
        complete_manual_withdrawal(office.settings, office.engine, draft_id, "manual", "editor")
    pub, job = _publication(office, draft_id)
    assert pub.status == "published" and job.status == JobStatus.awaiting_manual
    page.unlink()  # taken down: the address answers 404 once the portal is back (same port)
    with serving(root, port=int(base.rsplit(":", 1)[1].strip("/"))):
        complete_manual_withdrawal(office.settings, office.engine, draft_id, "manual", "editor")
    pub, job = _publication(office, draft_id)
    assert pub.status == "withdrawn" and job.status == JobStatus.succeeded
