"""Issue 7, item 5: raw emails and files by role. A raw email (every address and attachment the sender
sent) goes to editors and above only, and only one that made a draft or is on the problem-email page;
an ignored non-submission is never served. Drafts' photos are never cached. A legacy .doc or a .docm
(may carry macros) is an opaque attachment, labelled untrusted, after the converted article."""

from __future__ import annotations

from pathlib import Path

from bs4 import BeautifulSoup
from sqlmodel import select

from core.db import reading
from core.models import DraftImage
from ingest.models import InboundMessage
from tests.fixtures.intake.build import email_message
from tests.review.webkit import FIXTURES, ROLES, VP_SENDER, Office, text_of

WORD_FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "word"
DOCM_TYPE = "application/vnd.ms-word.document.macroEnabled.12"


def inbound_ids(office: Office) -> dict[str, int]:
    """{status: id} of the three emails the tests deliver (one of each status)."""
    with reading(office.engine) as s:
        return {m.status: m.id for m in s.exec(select(InboundMessage)).all() if m.id is not None}


def test_only_editors_and_above_download_a_raw_email_and_never_an_ignored_one(office: Office) -> None:
    office.deliver("tin_ok.eml", "corrupt.eml", "not_a_submission.eml")
    office.ingest()
    ids = inbound_ids(office)
    assert set(ids) == {"accepted", "quarantined", "ignored"}
    fixture_of = {"accepted": "tin_ok.eml", "quarantined": "corrupt.eml"}
    for role in ROLES:
        b = office.signed_in(role)
        for status, fixture in fixture_of.items():
            r = b.get(f"/inbox/{ids[status]}/raw")
            if role == "viewer":
                assert r.status_code == 403 and (FIXTURES / fixture).read_bytes() not in r.content, status
            else:
                assert r.status_code == 200 and r.content.endswith((FIXTURES / fixture).read_bytes()), (role, status)
                assert r.headers["content-disposition"].startswith("attachment;")
        r = b.get(f"/inbox/{ids['ignored']}/raw")  # an unrelated email that happened to be in the mailbox
        assert r.status_code == (403 if role == "viewer" else 404), role
        assert "Giấy mời họp" not in r.text
    # A viewer is not shown links that would only be refused.
    viewer = office.signed_in("viewer")
    [draft] = office.drafts()
    for page in (f"/drafts/{draft.id}", "/inbox"):
        html = viewer.get(page).text
        assert "/raw" not in html and "Tải thư gốc" not in text_of(html), page
    assert "Tải thư gốc" in text_of(office.signed_in("editor").get(f"/drafts/{draft.id}").text)


def test_photos_of_drafts_are_never_cached(office: Office) -> None:
    office.deliver("tin_ok.eml")
    office.ingest()
    with reading(office.engine) as s:
        sha = s.exec(select(DraftImage.sha256)).first()
    b = office.signed_in("viewer")
    for path in (f"/media/{sha}", f"/media/{sha}/original"):
        r = b.get(path)
        assert r.status_code == 200 and r.headers["cache-control"] == "no-store", path


def _docm_submission() -> bytes:
    data = (WORD_FIXTURES / "macros.docm").read_bytes()
    return email_message(
        subject="[BÀI CỘNG TÁC] Tin sinh hoạt chi bộ",
        sender=VP_SENDER,
        body="Kính gửi Ban Biên tập,\nChi bộ gửi tin.\nTrân trọng.",
        attachments=[("Tin sinh hoat chi bo.docm", DOCM_TYPE, data)],
        message_id="docm-macro@vanphong.tinhuy.example",
    )


def test_legacy_and_macro_word_files_are_untrusted_attachments_offered_after_the_article(office: Office) -> None:
    office.deliver("word97_doc.eml", _docm_submission(), "tin_ok.eml")
    office.ingest()
    drafts = {d.source_format: d for d in office.drafts()}
    assert set(drafts) == {"doc", "docm", "docx"}, drafts
    editor = office.signed_in("editor")
    for fmt in ("doc", "docm"):
        d = drafts[fmt]
        r = editor.get(f"/drafts/{d.id}/source")
        assert r.status_code == 200, fmt
        assert r.headers["content-type"] == "application/octet-stream", fmt  # no browser hands it to Word
        assert r.headers["content-disposition"].startswith("attachment;"), fmt
        assert r.headers["x-content-type-options"] == "nosniff"
        assert r.headers["content-disposition"].endswith(f".{fmt}"), fmt  # still opens where it is needed
        files = BeautifulSoup(editor.get(f"/drafts/{d.id}").text, "lxml").select_one("#h-files").find_parent("section")
        links = [a.get_text(" ", strip=True) for a in files.find_all("a")]
        assert links[:2] == ["Bản đã chuyển, không có macro", "Tải tệp Word gốc (tệp không tin cậy)"], links
        assert "Tệp Word cũ hoặc có macro" in files.get_text(" ")
    # An ordinary .docx keeps its type and its plain label.
    d = drafts["docx"]
    r = editor.get(f"/drafts/{d.id}/source")
    assert r.headers["content-type"].startswith("application/vnd.openxmlformats-officedocument")
    assert "không tin cậy" not in text_of(editor.get(f"/drafts/{d.id}").text)
